/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nsec_store.c - unit tests of aggressive-nsec's store (val_agg.c,
 * RFC 8198): a name between two kept NSEC records is NXDOMAIN only when
 * the wildcard of its closest encloser is covered too; a name that a
 * record matches, without the type asked, is NODATA, and with the type
 * (or a CNAME) nothing; names below a delegation's NSEC (the parent
 * side) and DS questions are never answered; records and the SOA expire
 * with their TTL; without the zone's SOA nothing is answered; a flush
 * empties the store.  The answer is the SOA, its RRSIGs, and each
 * record with its RRSIGs.
 *
 * And the memory of checked RRsets (val_memo.c): only the very bytes
 * that were checked (keys digest, records, RRSIGs) are found again, one
 * byte changed is a miss, an entry ends at its expiry, a flush forgets.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "minidns/resolve.h"
#include "minidns/wire.h"
#include "resolve-internal.h"
#include "unit.h"

#define T0 1000000ull

/* NSEC rdata: next name, then a one-window bitmap of types < 256. */
static uint16_t
nsec_rdata(const char *next, const uint16_t *types, size_t ntypes, uint8_t *out)
{
	uint8_t bm[32] = {0};
	size_t nl, len = 0;

	wname(next, out);
	nl = md_name_len(out);
	for (size_t i = 0; i < ntypes; i++) {
		bm[types[i] / 8] |= (uint8_t)(0x80 >> (types[i] % 8));
		if ((size_t)types[i] / 8 + 1 > len)
			len = types[i] / 8 + 1;
	}
	out[nl] = 0;
	out[nl + 1] = (uint8_t)len;
	memcpy(out + nl + 2, bm, len);
	return (uint16_t)(nl + 2 + len);
}

struct rec {
	uint8_t owner[MD_NAME_MAX];
	uint8_t rdata[512];
	uint16_t rdlen;
};

static const uint8_t fake_sig[] = {0, 4, 0xde, 0xad, 0xbe, 0xef};
/* SOA rdata with MINIMUM 300, as [u16 len][rdata] */
static uint8_t soa[2 + 64];
static uint32_t soa_len;

static void
make_soa(void)
{
	uint8_t *p = soa + 2;
	size_t n;

	wname("ns.example.", p);
	n = md_name_len(p);
	wname("host.example.", p + n);
	n += md_name_len(p + n);
	memset(p + n, 0, 20);
	p[n + 3] = 1;	  /* serial 1 */
	p[n + 18] = 0x01; /* minimum 300 */
	p[n + 19] = 0x2c;
	n += 20;
	md_write_u16(soa, (uint16_t)n);
	soa_len = 2 + (uint32_t)n;
}

/* Keep NSEC records of example. (owner, next, types...) for ttl. */
static void
put(struct md_nsec_store *st, const struct rec *r, size_t n, uint32_t ttl,
    uint64_t now, bool with_soa)
{
	struct md_nsec_put_rr in[8];
	struct md_nsec_put p;
	uint8_t zone[MD_NAME_MAX];

	for (size_t i = 0; i < n; i++) {
		in[i].owner = r[i].owner;
		in[i].rdata = r[i].rdata;
		in[i].rdlen = r[i].rdlen;
		in[i].sigs = fake_sig;
		in[i].sigs_len = sizeof(fake_sig);
		in[i].nsigs = 1;
	}
	memset(&p, 0, sizeof(p));
	p.zone = wname("example.", zone);
	p.ttl = ttl;
	p.rrs = in;
	p.n = n;
	if (with_soa) {
		p.soa = soa;
		p.soa_len = soa_len;
		p.soa_sigs = fake_sig;
		p.soa_sigs_len = sizeof(fake_sig);
		p.soa_nsigs = 1;
		p.soa_ttl = ttl;
	}
	md_nsec_store_put(st, &p, now);
}

struct seen {
	unsigned sets, nsec, rrsig, soa;
	uint32_t min_ttl;
};

static void
count_cb(void *arg, const uint8_t *owner, uint16_t type, uint16_t count,
    uint32_t ttl, const uint8_t *rdata, uint32_t len, bool dnssec)
{
	struct seen *s = arg;

	(void)owner;
	(void)count;
	(void)rdata;
	(void)len;
	s->sets++;
	s->nsec += type == MD_TYPE_NSEC;
	s->rrsig += type == MD_TYPE_RRSIG;
	s->soa += type == MD_TYPE_SOA && !dnssec;
	if (s->min_ttl == 0 || ttl < s->min_ttl)
		s->min_ttl = ttl;
}

static int
ask(struct md_nsec_store *st, const char *name, uint16_t type, uint64_t now,
    struct seen *s)
{
	uint8_t w[MD_NAME_MAX];

	memset(s, 0, sizeof(*s));
	return md_nsec_store_answer(st, wname(name, w), type, now, count_cb, s);
}

static void
rec(struct rec *r, const char *owner, const char *next, const uint16_t *types,
    size_t n)
{
	wname(owner, r->owner);
	r->rdlen = nsec_rdata(next, types, n, r->rdata);
}

static const uint16_t apex_types[] = {
    MD_TYPE_SOA, MD_TYPE_NS, MD_TYPE_RRSIG, MD_TYPE_NSEC, MD_TYPE_DNSKEY};
static const uint16_t a_types[] = {MD_TYPE_A, MD_TYPE_RRSIG, MD_TYPE_NSEC};
static const uint16_t deleg_types[] = {MD_TYPE_NS, MD_TYPE_RRSIG, MD_TYPE_NSEC};

/* example. -> b.example. -> d.example. (a delegation) -> m.example. */
static void
fill(struct md_nsec_store *st, uint64_t now, bool with_soa)
{
	struct rec r[3];

	rec(&r[0], "example.", "b.example.", apex_types, 5);
	rec(&r[1], "b.example.", "d.example.", a_types, 3);
	rec(&r[2], "d.example.", "m.example.", deleg_types, 3);
	put(st, r, 3, 600, now, with_soa);
}

static void
test_nxdomain_needs_wildcard_cover(void **state)
{
	struct md_nsec_store *st = md_nsec_store_new();
	struct seen s;

	(void)state;
	make_soa();
	fill(st, T0, true);
	/* c.example.: covered by b->d; its wildcard *.example. by the apex
	 * record (example. < *.example. < b.example.) */
	assert_int_equal(
	    ask(st, "c.example.", MD_TYPE_A, T0, &s), MD_RCODE_NXDOMAIN);
	assert_int_equal(s.soa, 1);
	assert_int_equal(s.nsec, 2);
	assert_int_equal(s.rrsig, 3);
	/* the negative TTL: the SOA minimum (300) caps the records' 600 */
	assert_int_equal(s.min_ttl, 300);
	/* z.example.: past the last record kept (m. is unknown) */
	assert_int_equal(ask(st, "z.example.", MD_TYPE_A, T0, &s), -1);
	md_nsec_store_free(st);
}

static void
test_wildcard_not_covered(void **state)
{
	struct md_nsec_store *st = md_nsec_store_new();
	struct rec r[1];
	struct seen s;

	(void)state;
	make_soa();
	/* only b->d: c.example. is covered, *.example. is not known */
	rec(&r[0], "b.example.", "d.example.", a_types, 3);
	put(st, r, 1, 600, T0, true);
	assert_int_equal(ask(st, "c.example.", MD_TYPE_A, T0, &s), -1);
	md_nsec_store_free(st);
}

static void
test_nodata_and_present(void **state)
{
	struct md_nsec_store *st = md_nsec_store_new();
	struct seen s;

	(void)state;
	make_soa();
	fill(st, T0, true);
	assert_int_equal(
	    ask(st, "b.example.", MD_TYPE_AAAA, T0, &s), MD_RCODE_NOERROR);
	assert_int_equal(s.nsec, 1);
	/* the type exists: no answer from the store */
	assert_int_equal(ask(st, "b.example.", MD_TYPE_A, T0, &s), -1);
	md_nsec_store_free(st);
}

static void
test_delegation_and_ds(void **state)
{
	struct md_nsec_store *st = md_nsec_store_new();
	struct seen s;

	(void)state;
	make_soa();
	fill(st, T0, true);
	/* below the delegation d.example.: the child's business */
	assert_int_equal(ask(st, "x.d.example.", MD_TYPE_A, T0, &s), -1);
	/* at it: the parent side says nothing of its data */
	assert_int_equal(ask(st, "d.example.", MD_TYPE_A, T0, &s), -1);
	/* DS is never answered from the store */
	assert_int_equal(ask(st, "c.example.", MD_TYPE_DS, T0, &s), -1);
	md_nsec_store_free(st);
}

static void
test_expiry_soa_and_flush(void **state)
{
	struct md_nsec_store *st = md_nsec_store_new();
	struct seen s;

	(void)state;
	make_soa();
	fill(st, T0, true);
	assert_int_equal(ask(st, "c.example.", MD_TYPE_A, T0 + 599000, &s),
	    MD_RCODE_NXDOMAIN);
	assert_int_equal(s.min_ttl, 1);
	assert_int_equal(ask(st, "c.example.", MD_TYPE_A, T0 + 600000, &s), -1);
	md_nsec_store_flush(st);
	fill(st, T0, true);
	md_nsec_store_flush(st);
	assert_int_equal(ask(st, "c.example.", MD_TYPE_A, T0, &s), -1);
	md_nsec_store_free(st);

	/* no SOA of the zone kept: no answer */
	st = md_nsec_store_new();
	fill(st, T0, false);
	assert_int_equal(ask(st, "c.example.", MD_TYPE_A, T0, &s), -1);
	md_nsec_store_free(st);
}

static void
test_memo_exact_bytes(void **state)
{
	struct md_val_memo *m = md_val_memo_new();
	struct md_val_memo_verdict v = {.key_tag = 4242,
				       .orig_ttl = 300,
				       .expiration = 2000000000u},
				   got;
	uint8_t key[200];

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7);
	assert_false(md_val_memo_get(m, key, sizeof(key), T0, &got));
	md_val_memo_put(m, key, sizeof(key), T0 + 10000, &v);
	assert_true(md_val_memo_get(m, key, sizeof(key), T0, &got));
	assert_int_equal(got.key_tag, 4242);
	assert_int_equal(got.orig_ttl, 300);
	/* a shorter prefix, or one byte changed anywhere: not the same */
	assert_false(md_val_memo_get(m, key, sizeof(key) - 1, T0, &got));
	key[150] ^= 1;
	assert_false(md_val_memo_get(m, key, sizeof(key), T0, &got));
	key[150] ^= 1;
	/* past its expiry */
	assert_false(md_val_memo_get(m, key, sizeof(key), T0 + 10000, &got));
	md_val_memo_put(m, key, sizeof(key), T0 + 10000, &v);
	md_val_memo_flush(m);
	assert_false(md_val_memo_get(m, key, sizeof(key), T0, &got));
	md_val_memo_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nxdomain_needs_wildcard_cover),
	    cmocka_unit_test(test_wildcard_not_covered),
	    cmocka_unit_test(test_nodata_and_present),
	    cmocka_unit_test(test_delegation_and_ds),
	    cmocka_unit_test(test_expiry_soa_and_flush),
	    cmocka_unit_test(test_memo_exact_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
