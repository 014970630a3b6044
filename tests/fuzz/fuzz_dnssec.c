/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_dnssec.c - libFuzzer harness for the DNSSEC signature-checking
 * core (src/resolve/val_crypto.c): hostile RRsets, RRSIGs and DNSKEYs.
 * One input is
 *
 *   [u32 now][u16 type][u8 strip][u8 owner length][owner]
 *   [u16 length][RRset blob][u16 length][RRSIG blob][DNSKEY blob: the rest]
 *
 * where the blobs are [u16 len][rdata]... (their counts are the records
 * that fit; the blob lengths are passed as given, so counts and lengths
 * may disagree), the owner must be a valid wire name and the DNSKEY set's
 * owner is the owner without its first strip % (labels + 1) labels.  The
 * input goes through md_dnssec_verify_rrset() with a question budget,
 * md_dnssec_signed_data() for each RRSIG, md_dnssec_key_tag() for each
 * key and md_dnssec_ds_match() of each key against each RRSIG's rdata
 * read as a DS.  Besides memory errors, it aborts when a promise breaks:
 * more public-key operations than the limits, a SECURE verdict with an
 * EDE or without a key of the set, a budget that grew.  With
 * $MD_FUZZ_VERBOSE set, each verdict goes to stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/dnssec.h"
#include "minidns/resolve.h"
#include "minidns/wire.h"

#include "fuzz.h"

static void fail(const char *what) __attribute__((noreturn));

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz: dnssec: %s\n", what);
	abort();
}

/* Records of a blob that fit in it. */
static uint16_t
count(const uint8_t *b, size_t len)
{
	size_t off = 0;
	uint16_t n = 0;

	while (off + 2 <= len && n < 0xffff) {
		size_t l = md_read_u16(b + off);
		if (off + 2 + l > len)
			break;
		off += 2 + l;
		n++;
	}
	return n;
}

/* Take [u16 length][bytes] at *p; false when it does not fit. */
static bool
take(const uint8_t **p, size_t *left, const uint8_t **out, size_t *len)
{
	if (*left < 2)
		return false;
	*len = md_read_u16(*p);
	if (*left - 2 < *len)
		return false;
	*out = *p + 2;
	*p += 2 + *len;
	*left -= 2 + *len;
	return true;
}

int
md_fuzz_dnssec(const uint8_t *data, size_t size)
{
	uint8_t owner[MD_NAME_MAX + 1] = {0};
	const uint8_t *p = data, *blob, *keyowner;
	size_t left = size, len, olen;
	struct md_dnssec_rrset set, sigs, keys;
	struct md_dnssec_verdict vd;
	struct md_dnssec_budget budget = {.verify_left = 20};
	uint32_t now;
	unsigned strip;
	uint8_t *sd;

	if (left < 8)
		return 0;
	now = md_read_u32(p);
	set.type = md_read_u16(p + 4);
	strip = p[6];
	olen = p[7];
	p += 8;
	left -= 8;
	if (olen > MD_NAME_MAX || olen > left)
		return 0;
	memcpy(owner, p, olen);
	p += olen;
	left -= olen;
	if (md_name_len(owner) == 0)
		return 0;
	set.owner = owner;
	if (!take(&p, &left, &blob, &len))
		return 0;
	set.rdata = blob;
	set.rdata_len = (uint32_t)len;
	set.count = count(blob, len);
	if (!take(&p, &left, &blob, &len))
		return 0;
	sigs.owner = owner;
	sigs.type = MD_TYPE_RRSIG;
	sigs.rdata = blob;
	sigs.rdata_len = (uint32_t)len;
	sigs.count = count(blob, len);
	keyowner = owner;
	strip %= md_name_labels(owner) + 1;
	for (unsigned i = 0; i < strip; i++)
		keyowner += 1 + *keyowner;
	keys.owner = keyowner;
	keys.type = MD_TYPE_DNSKEY;
	keys.rdata = p;
	keys.rdata_len = (uint32_t)left;
	keys.count = count(p, left);

	switch (md_dnssec_verify_rrset(&set, &sigs, &keys, now, &budget, &vd)) {
	case MD_DNSSEC_SECURE:
		if (vd.ede != MD_EDE_NONE || vd.verifies == 0 ||
		    keys.count == 0)
			fail("SECURE without a check or with an EDE");
		break;
	case MD_DNSSEC_BOGUS:
	case MD_DNSSEC_UNSUPPORTED:
		if (vd.ede == MD_EDE_NONE)
			fail("a failure without an EDE");
		break;
	default:
		fail("result out of range");
	}
	if (vd.verifies > MD_DNSSEC_MAX_VERIFY_RRSET ||
	    budget.verify_left + vd.verifies != 20)
		fail("work limits broken");
	if (memchr(vd.reason, 0, sizeof(vd.reason)) == NULL)
		fail("reason not terminated");
	if (getenv("MD_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: dnssec: %s, EDE %u, %u checks: %s\n",
		    md_dnssec_result_str(vd.result), vd.ede, vd.verifies,
		    vd.reason);

	for (const uint8_t *s = sigs.rdata;
	     s + 2 <= sigs.rdata + sigs.rdata_len;) {
		size_t l = md_read_u16(s), sdlen = 0;
		if (s + 2 + l > sigs.rdata + sigs.rdata_len)
			break;
		sd = md_dnssec_signed_data(&set, s + 2, l, &sdlen);
		free(sd);
		for (const uint8_t *k = keys.rdata;
		     k + 2 <= keys.rdata + keys.rdata_len;) {
			size_t kl = md_read_u16(k);
			if (k + 2 + kl > keys.rdata + keys.rdata_len)
				break;
			(void)md_dnssec_key_tag(k + 2, kl);
			(void)md_dnssec_ds_match(keyowner, k + 2, kl, s + 2, l);
			k += 2 + kl;
		}
		s += 2 + l;
	}
	return 0;
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return md_fuzz_dnssec(data, size);
}
#endif
