/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_nsec.c - libFuzzer harness for the NSEC/NSEC3 proof checks
 * (val_nsec.c): one input is one response message.  Its question is the
 * question, its NSEC and NSEC3 records (any section) the proof, the owner
 * of its first SOA the zone (else the parent of its first NSEC3's owner,
 * else the root), and the labels field of its first RRSIG the wildcard
 * depth.  Every proof runs with the default limits and with a hash budget
 * of 4.  Besides memory errors (ASan), the harness aborts when a verdict
 * breaks the API's promises: proven with a reason or an EDE, insecure for
 * anything but NSEC3 iterations (EDE 27), bogus without a reason or with
 * an EDE other than 6 or 12.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/dnssec_nsec.h"
#include "minidns/util.h"
#include "minidns/wire.h"

#include "fuzz.h"

#define MAX_RRS 64

static void
check(const struct md_nsec_verdict *v, enum md_nsec_status s)
{
	bool ok;

	switch (s) {
	case MD_NSEC_PROVEN:
		ok = v->reason == MD_NSEC_R_OK && v->ede == 0;
		break;
	case MD_NSEC_INSECURE:
		ok = v->reason == MD_NSEC_R_ITERATIONS && v->ede == 27;
		break;
	case MD_NSEC_BOGUS:
		ok = v->reason != MD_NSEC_R_OK && (v->ede == 6 || v->ede == 12);
		break;
	default:
		ok = false;
	}
	if (!ok || v->status != s) {
		fprintf(stderr, "fuzz_nsec: verdict %s / %s / EDE %u\n",
		    md_nsec_status_str(s), md_nsec_reason_str(v->reason),
		    v->ede);
		abort();
	}
}

int
md_fuzz_nsec(const uint8_t *data, size_t size)
{
	static const uint8_t root[1] = {0};
	struct md_nsec_rr rrs[MAX_RRS];
	struct md_nsec_query q = {0};
	struct md_nsec_limits lim;
	struct md_nsec_verdict v;
	struct md_arena a;
	struct md_msg m;
	const uint8_t *soa = NULL, *n3 = NULL;
	size_t n = 0;

	md_arena_init(&a, 16384);
	if (md_msg_parse(data, size, &a, &m) != 0 || !m.has_question)
		goto out;
	q.qname = m.qname;
	q.qtype = m.qtype;
	for (unsigned i = 0; i < m.nrr; i++) {
		const struct md_msg_rr *r = &m.rrs[i];

		if (r->type == MD_TYPE_SOA && soa == NULL)
			soa = r->owner;
		if (r->type == MD_TYPE_RRSIG && q.sig_labels == 0 &&
		    r->rdlen >= 4)
			q.sig_labels = r->rdata[3];
		if ((r->type == MD_TYPE_NSEC || r->type == MD_TYPE_NSEC3) &&
		    n < MAX_RRS) {
			if (r->type == MD_TYPE_NSEC3 && n3 == NULL)
				n3 = md_name_parent(r->owner);
			rrs[n].type = r->type;
			rrs[n].owner = r->owner;
			rrs[n].rdata = r->rdata;
			rrs[n].rdlen = r->rdlen;
			md_nsec_bitmap_has(r->rdata, r->rdlen, m.qtype);
			n++;
		}
	}
	q.zone = soa != NULL ? soa : n3 != NULL ? n3 : root;
	md_nsec_limits_default(&lim);
	for (int pass = 0; pass < 2; pass++) {
		const struct md_nsec_limits *l = pass == 0 ? NULL : &lim;

		lim.max_hashes = 4;
		check(&v, md_nsec_prove_nxdomain(&q, rrs, n, l, &v));
		check(&v, md_nsec_prove_nodata(&q, rrs, n, l, &v));
		check(&v, md_nsec_prove_wildcard(&q, rrs, n, l, &v));
		check(&v, md_nsec_prove_insecure_delegation(&q, rrs, n, l, &v));
	}
out:
	md_arena_deinit(&a);
	return 0;
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return md_fuzz_nsec(data, size);
}
#endif
