/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cache.c - unit tests of the cache module (src/cache/): round trips,
 * case-insensitive keys, TTL ageing and clamps against a fake clock,
 * negative entries (RFC 2308), credibility (RFC 2181 §5.4.1), LRU eviction
 * under a byte budget, serve-stale (RFC 8767), flush, the copy-out buffer
 * and a multi-threaded smoke test meant to be run under helgrind too.
 * Not covered here: what the engine decides to cache (replay tests).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "minidns/cache.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "unit.h"

#define T0 1000000000ull /* fake clock start, ms */

/* ---- helpers ----------------------------------------------------------- */

struct rdata {
	uint8_t b[4096];
	uint32_t len;
	uint16_t count;
};

/* Append one RR's rdata as [u16 len][bytes]. */
static void
rd_add(struct rdata *r, const void *d, uint16_t n)
{
	assert_true(r->len + 2 + n <= sizeof(r->b));
	md_write_u16(r->b + r->len, n);
	memcpy(r->b + r->len + 2, d, n);
	r->len += 2 + n;
	r->count++;
}

static void
rd_a(struct rdata *r, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t ip[4] = {a, b, c, d};

	rd_add(r, ip, 4);
}

static struct md_cache *
new_cache(size_t max_bytes, unsigned shards)
{
	struct md_cache_conf conf;
	struct md_cache *c;

	md_cache_conf_init(&conf);
	conf.max_bytes = max_bytes;
	conf.shards = shards;
	c = md_cache_new(&conf);
	assert_non_null(c);
	return c;
}

static struct md_cache *
new_cache_conf(const struct md_cache_conf *conf)
{
	struct md_cache *c = md_cache_new(conf);

	assert_non_null(c);
	return c;
}

static int
put_a(struct md_cache *c, const char *name, uint32_t ttl, uint8_t last,
    enum md_trust trust, uint64_t now)
{
	uint8_t n[MD_NAME_MAX];
	struct rdata r = {0};

	rd_a(&r, 192, 0, 2, last);
	return md_cache_put(
	    c, wname(name, n), MD_TYPE_A, ttl, r.b, r.len, r.count, trust, now);
}

static int
get(struct md_cache *c, const char *name, uint16_t type, uint64_t now,
    bool allow_stale, uint8_t *buf, size_t buflen, struct md_cache_view *v)
{
	uint8_t n[MD_NAME_MAX];

	return md_cache_get(
	    c, wname(name, n), type, now, allow_stale, buf, buflen, v);
}

/* Last octet of the single A record in a view. */
static uint8_t
a_last(const struct md_cache_view *v)
{
	assert_int_equal(v->kind, MD_CACHE_RRSET);
	assert_int_equal(v->rdata_len, 6);
	assert_int_equal(md_read_u16(v->rdata), 4);
	return v->rdata[5];
}

/* What one A entry costs, measured on a fresh cache. */
static uint64_t
cost_of_a(const char *name)
{
	struct md_cache *c = new_cache(1 << 20, 1);
	struct md_cache_stats st;

	assert_int_equal(put_a(c, name, 300, 1, MD_TRUST_ANSWER, T0), 0);
	md_cache_get_stats(c, &st);
	md_cache_free(c);
	return st.bytes;
}

/* ---- tests ------------------------------------------------------------- */

static void
defaults(void **state)
{
	struct md_cache_conf conf;

	md_cache_conf_init(&conf);
	assert_int_equal(conf.max_bytes, 64 * 1024 * 1024);
	assert_int_equal(conf.min_ttl, 0);
	assert_int_equal(conf.max_ttl, 86400);
	assert_int_equal(conf.max_negative_ttl, 3600);
	assert_false(conf.serve_stale);
	assert_int_equal(conf.stale_answer_ttl, 30);
	assert_int_equal(conf.stale_max_age, 86400);
	assert_string_equal(md_trust_str(MD_TRUST_GLUE), "glue");
	assert_string_equal(md_trust_str(MD_TRUST_AUTH_ANSWER), "auth-answer");
	conf.shards = 3; /* not a power of two */
	assert_null(md_cache_new(&conf));
	(void)state;
}

static void
round_trip(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	struct md_cache_stats st;
	struct rdata r = {0};
	uint8_t n[MD_NAME_MAX], buf[512];

	rd_a(&r, 192, 0, 2, 1);
	rd_a(&r, 192, 0, 2, 2);
	assert_int_equal(
	    md_cache_put(c, wname("www.example.com.", n), MD_TYPE_A, 300, r.b,
		r.len, r.count, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(get(c, "www.example.com.", MD_TYPE_A, T0, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(v.kind, MD_CACHE_RRSET);
	assert_int_equal(v.type, MD_TYPE_A);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.ttl, 300);
	assert_int_equal(v.orig_ttl, 300);
	assert_int_equal(v.trust, MD_TRUST_ANSWER);
	assert_false(v.stale);
	/* Aged: the TTL it was stored with stays (prefetch's measure). */
	assert_int_equal(get(c, "www.example.com.", MD_TYPE_A, T0 + 280500,
			     false, buf, sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 19);
	assert_int_equal(v.orig_ttl, 300);
	assert_int_equal(v.rdata_len, r.len);
	assert_memory_equal(v.rdata, r.b, r.len);
	assert_memory_equal(v.owner, n, md_name_len(n));
	assert_null(v.soa_owner);
	/* The view points into buf, not into the cache. */
	assert_true(
	    v.rdata >= buf && v.rdata + v.rdata_len <= buf + sizeof(buf));

	/* Other type, other name: misses. */
	assert_int_equal(get(c, "www.example.com.", MD_TYPE_AAAA, T0, false,
			     buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "example.com.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.entries, 1);
	assert_true(st.bytes >= r.len + md_name_len(n));

	/* A malformed RRset (count does not match) is refused. */
	assert_int_equal(md_cache_put(c, n, MD_TYPE_A, 300, r.b, r.len, 3,
			     MD_TRUST_ANSWER, T0),
	    -EINVAL);
	md_cache_free(c);
	(void)state;
}

static void
case_insensitive(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t want[MD_NAME_MAX], buf[512];

	assert_int_equal(
	    put_a(c, "WWW.Example.COM.", 300, 7, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(get(c, "www.example.com.", MD_TYPE_A, T0, false, buf,
			     sizeof(buf), &v),
	    0);
	/* The stored case comes back, byte for byte. */
	wname("WWW.Example.COM.", want);
	assert_memory_equal(v.owner, want, md_name_len(want));
	assert_int_equal(a_last(&v), 7);
	assert_int_equal(get(c, "wWw.EXAMPLE.com.", MD_TYPE_A, T0, false, buf,
			     sizeof(buf), &v),
	    0);

	/* Same key in another case replaces, it does not add. */
	assert_int_equal(
	    put_a(c, "www.example.com.", 300, 8, MD_TRUST_ANSWER, T0), 0);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(get(c, "WWW.EXAMPLE.COM.", MD_TYPE_A, T0, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(a_last(&v), 8);
	md_cache_free(c);
	(void)state;
}

static void
ttl_ageing(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t buf[512];

	assert_int_equal(put_a(c, "a.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(get(c, "a.test.", MD_TYPE_A, T0 + 1500, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 298); /* 298.5 s left, rounded down */
	assert_int_equal(get(c, "a.test.", MD_TYPE_A, T0 + 299000, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 1);
	/* Under a second left: TTL would be 0, so it counts as expired. */
	assert_int_equal(get(c, "a.test.", MD_TYPE_A, T0 + 299001, false, buf,
			     sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(get(c, "a.test.", MD_TYPE_A, T0 + 400000, false, buf,
			     sizeof(buf), &v),
	    MD_ENOTFOUND);
	/* Without serve-stale an expired entry is dropped when seen. */
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	md_cache_free(c);
	(void)state;
}

static void
ttl_clamps(void **state)
{
	struct md_cache_conf conf;
	struct md_cache *c;
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t n[MD_NAME_MAX], buf[512];

	/* TTL 0 is not stored when nothing raises it. */
	c = new_cache(1 << 20, 4);
	assert_int_equal(put_a(c, "zero.test.", 0, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "zero.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.inserts, 0);
	assert_int_equal(st.entries, 0);
	md_cache_free(c);

	md_cache_conf_init(&conf);
	conf.min_ttl = 60;
	conf.max_ttl = 3600;
	c = new_cache_conf(&conf);
	assert_int_equal(put_a(c, "low.test.", 5, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    put_a(c, "high.test.", 100000, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "zero.test.", 0, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "low.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.ttl, 60);
	assert_int_equal(
	    get(c, "high.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 3600);
	/* min_ttl raises TTL 0 too, so it is stored. */
	assert_int_equal(
	    get(c, "zero.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 60);
	/* Still there after 30 s: the clamp is real, not cosmetic. */
	assert_int_equal(get(c, "low.test.", MD_TYPE_A, T0 + 30000, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 30);
	/* min_ttl does not apply to negative entries. */
	assert_int_equal(
	    md_cache_put_negative(c, wname("neg.test.", n), MD_TYPE_A, false, 5,
		NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "neg.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, MD_CACHE_NODATA);
	assert_int_equal(v.ttl, 5);
	md_cache_free(c);
	(void)state;
}

/* A reload's limits: the new caps apply to what is cached already. */
static void
set_limits(void **state)
{
	struct md_cache_conf conf;
	struct md_cache *c;
	struct md_cache_view v;
	uint8_t buf[4096];
	uint8_t n[MD_NAME_MAX];

	md_cache_conf_init(&conf);
	c = new_cache_conf(&conf);
	assert_int_equal(
	    put_a(c, "long.test.", 3000, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(md_cache_put_negative(c, wname("gone.test.", n), 0,
			     true, 3000, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	conf.max_ttl = 20;
	conf.max_negative_ttl = 10;
	md_cache_set_limits(c, &conf, T0 + 1000);
	assert_int_equal(get(c, "long.test.", MD_TYPE_A, T0 + 1000, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 20);
	/* prefetch measures against the TTL the entry holds now */
	assert_int_equal(v.orig_ttl, 20);
	assert_int_equal(get(c, "gone.test.", MD_TYPE_A, T0 + 1000, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(v.ttl, 10);
	assert_int_equal(v.orig_ttl, 10);
	/* Gone once the new cap has run out. */
	assert_int_equal(get(c, "long.test.", MD_TYPE_A, T0 + 22000, false, buf,
			     sizeof(buf), &v),
	    MD_ENOTFOUND);
	/* New entries are stored by the new caps. */
	assert_int_equal(
	    put_a(c, "new.test.", 3000, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "new.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.ttl, 20);
	/* A higher cap does not lengthen what is cached. */
	conf.max_ttl = 86400;
	md_cache_set_limits(c, &conf, T0);
	assert_int_equal(
	    get(c, "new.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.ttl, 20);
	assert_int_equal(md_ttl_clamp(5, 10, 100), 10);
	assert_int_equal(md_ttl_clamp(500, 10, 100), 100);
	assert_int_equal(md_ttl_clamp(50, 60, 30), 30); /* max wins */
	md_cache_free(c);
	(void)state;
}

static const uint8_t soa_rd[] = {
    /* ns.test. hostmaster.test. 1 7200 3600 1209600 300 */
    2,
    'n',
    's',
    4,
    't',
    'e',
    's',
    't',
    0,
    10,
    'h',
    'o',
    's',
    't',
    'm',
    'a',
    's',
    't',
    'e',
    'r',
    4,
    't',
    'e',
    's',
    't',
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    0x1c,
    0x20,
    0,
    0,
    0x0e,
    0x10,
    0,
    0x12,
    0x75,
    0,
    0,
    0,
    1,
    0x2c,
};

static void
negative_nxdomain(void **state)
{
	static const uint16_t types[] = {
	    MD_TYPE_A, MD_TYPE_AAAA, MD_TYPE_MX, MD_TYPE_TXT, MD_TYPE_SRV};
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], soa[MD_NAME_MAX], buf[512];
	size_t i;

	assert_int_equal(md_cache_put_negative(c, wname("nx.test.", n),
			     MD_TYPE_A, true, 300, wname("test.", soa), soa_rd,
			     sizeof(soa_rd), MD_TRUST_AUTH_AUTHORITY, T0),
	    0);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(get(c, "NX.test.", types[i], T0 + 1000, false,
				     buf, sizeof(buf), &v),
		    0);
		assert_int_equal(v.kind, MD_CACHE_NXDOMAIN);
		assert_int_equal(v.ttl, 299);
		assert_int_equal(v.count, 0);
		assert_int_equal(v.trust, MD_TRUST_AUTH_AUTHORITY);
		assert_memory_equal(v.owner, n, md_name_len(n));
		assert_non_null(v.soa_owner);
		assert_memory_equal(v.soa_owner, soa, md_name_len(soa));
		assert_int_equal(v.soa_rdlen, sizeof(soa_rd));
		assert_memory_equal(v.soa_rdata, soa_rd, sizeof(soa_rd));
	}
	/* Not for the parent or a child name. */
	assert_int_equal(
	    get(c, "test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "a.nx.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	md_cache_free(c);
	(void)state;
}

static void
negative_nodata(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], buf[512];

	/* A NODATA without SOA: soa pointers stay NULL. */
	assert_int_equal(
	    md_cache_put_negative(c, wname("nd.test.", n), MD_TYPE_AAAA, false,
		300, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "nd.test.", MD_TYPE_AAAA, T0, false, buf, sizeof(buf), &v),
	    0);
	assert_int_equal(v.kind, MD_CACHE_NODATA);
	assert_int_equal(v.type, MD_TYPE_AAAA);
	assert_null(v.soa_owner);
	assert_null(v.soa_rdata);
	assert_null(v.rdata);
	/* Only that type. */
	assert_int_equal(
	    get(c, "nd.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "nd.test.", MD_TYPE_MX, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);

	/* A positive RRset of the same key replaces the NODATA. */
	{
		struct rdata r = {0};
		uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8};

		rd_add(&r, ip6, 16);
		assert_int_equal(md_cache_put(c, n, MD_TYPE_AAAA, 300, r.b,
				     r.len, r.count, MD_TRUST_ANSWER, T0),
		    0);
		assert_int_equal(get(c, "nd.test.", MD_TYPE_AAAA, T0, false,
				     buf, sizeof(buf), &v),
		    0);
		assert_int_equal(v.kind, MD_CACHE_RRSET);
		assert_memory_equal(v.rdata, r.b, r.len);
	}
	md_cache_free(c);
	(void)state;
}

static void
negative_ttl_cap(void **state)
{
	struct md_cache_conf conf;
	struct md_cache *c;
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], buf[512];

	md_cache_conf_init(&conf);
	conf.max_negative_ttl = 100;
	c = new_cache_conf(&conf);
	assert_int_equal(md_cache_put_negative(c, wname("nx.test.", n), 0, true,
			     86400, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "nx.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.ttl, 100);
	assert_int_equal(get(c, "nx.test.", MD_TYPE_A, T0 + 100000, false, buf,
			     sizeof(buf), &v),
	    MD_ENOTFOUND);
	/* The default cap is 3600 (cache.h). */
	md_cache_free(c);
	c = new_cache(1 << 20, 16);
	assert_int_equal(md_cache_put_negative(c, n, MD_TYPE_A, false, 86400,
			     NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "nx.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.ttl, 3600);
	md_cache_free(c);
	(void)state;
}

static void
credibility(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], buf[512];

	/* RFC 2181 §5.4.1: glue does not replace an authoritative answer. */
	assert_int_equal(
	    put_a(c, "ns.test.", 300, 1, MD_TRUST_AUTH_ANSWER, T0), 0);
	assert_int_equal(
	    put_a(c, "ns.test.", 300, 2, MD_TRUST_GLUE, T0), MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "ns.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(a_last(&v), 1);
	assert_int_equal(v.trust, MD_TRUST_AUTH_ANSWER);
	/* Equal trust replaces (fresher data). */
	assert_int_equal(
	    put_a(c, "ns.test.", 300, 3, MD_TRUST_AUTH_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "ns.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(a_last(&v), 3);

	/* An authoritative answer replaces glue. */
	assert_int_equal(put_a(c, "glue.test.", 300, 1, MD_TRUST_GLUE, T0), 0);
	assert_int_equal(
	    put_a(c, "glue.test.", 300, 2, MD_TRUST_AUTH_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "glue.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    0);
	assert_int_equal(a_last(&v), 2);
	assert_int_equal(v.trust, MD_TRUST_AUTH_ANSWER);

	/* An expired entry is replaced by lower trust. */
	assert_int_equal(
	    put_a(c, "old.test.", 10, 1, MD_TRUST_AUTH_ANSWER, T0), 0);
	assert_int_equal(
	    put_a(c, "old.test.", 300, 2, MD_TRUST_GLUE, T0 + 5000),
	    MD_ENOTFOUND);
	assert_int_equal(
	    put_a(c, "old.test.", 300, 3, MD_TRUST_GLUE, T0 + 20000), 0);
	assert_int_equal(get(c, "old.test.", MD_TYPE_A, T0 + 20000, false, buf,
			     sizeof(buf), &v),
	    0);
	assert_int_equal(a_last(&v), 3);
	assert_int_equal(v.trust, MD_TRUST_GLUE);

	/* A negative answer never replaces a positive of higher trust. */
	assert_int_equal(
	    md_cache_put_negative(c, wname("ns.test.", n), MD_TYPE_A, false,
		300, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    MD_ENOTFOUND);
	assert_int_equal(md_cache_put_negative(c, n, 0, true, 300, NULL, NULL,
			     0, MD_TRUST_ANSWER, T0),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "ns.test.", MD_TYPE_MX, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "ns.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, MD_CACHE_RRSET);
	md_cache_free(c);
	(void)state;
}

static void
data_and_nxdomain(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t n[MD_NAME_MAX], buf[512];

	/* New data of equal trust proves the name exists: NXDOMAIN goes. */
	assert_int_equal(md_cache_put_negative(c, wname("x.test.", n), 0, true,
			     300, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(put_a(c, "x.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "x.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, MD_CACHE_RRSET);
	assert_int_equal(
	    get(c, "x.test.", MD_TYPE_MX, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);

	/* Glue does not override an authoritative NXDOMAIN. */
	assert_int_equal(md_cache_put_negative(c, wname("y.test.", n), 0, true,
			     300, NULL, NULL, 0, MD_TRUST_AUTH_AUTHORITY, T0),
	    0);
	assert_int_equal(
	    put_a(c, "y.test.", 300, 1, MD_TRUST_GLUE, T0), MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "y.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, MD_CACHE_NXDOMAIN);

	/* An NXDOMAIN of equal trust removes the name's data of all types. */
	assert_int_equal(put_a(c, "z.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    md_cache_put_negative(c, wname("z.test.", n), MD_TYPE_MX, false,
		300, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(md_cache_put_negative(c, n, 0, true, 300, NULL, NULL,
			     0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "z.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, MD_CACHE_NXDOMAIN);
	assert_int_equal(
	    get(c, "z.test.", MD_TYPE_MX, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, MD_CACHE_NXDOMAIN);
	md_cache_free(c);
	(void)state;
}

static void
eviction_lru(void **state)
{
	uint64_t cost = cost_of_a("e0.test.");
	size_t max = (size_t)(3 * cost + cost / 2);
	struct md_cache *c = new_cache(max, 1);
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t buf[512];
	char name[32];
	int i;

	/* The charge is at least the struct-free payload plus overhead. */
	assert_true(cost >= 9 + 6 + 16);
	assert_int_equal(put_a(c, "e1.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "e2.test.", 300, 2, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "e3.test.", 300, 3, MD_TRUST_ANSWER, T0), 0);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.bytes, 3 * cost);

	/* Reading e1 makes it recent: e2 is now the oldest and goes. */
	assert_int_equal(
	    get(c, "e1.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(put_a(c, "e4.test.", 300, 4, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "e2.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "e1.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(
	    get(c, "e4.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	/* Order now (recent first): e4 e1 e3; e3 goes next. */
	assert_int_equal(put_a(c, "e5.test.", 300, 5, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "e3.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "e1.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.entries, 3);
	assert_true(st.bytes <= max);

	/* Many more: the bound holds after every put. */
	for (i = 10; i < 200; i++) {
		snprintf(name, sizeof(name), "e%d.test.", i);
		assert_int_equal(
		    put_a(c, name, 300, (uint8_t)i, MD_TRUST_ANSWER, T0), 0);
		md_cache_get_stats(c, &st);
		assert_true(st.bytes <= max);
	}
	assert_int_equal(st.inserts, 5 + 190);
	assert_int_equal(st.entries + st.evictions, st.inserts);
	md_cache_free(c);
	(void)state;
}

static void
too_big(void **state)
{
	/* 4 shards of 1024 bytes: a 1500-byte RRset fits max_bytes, not a
	 * shard. */
	struct md_cache *c = new_cache(4096, 4);
	struct md_cache_stats st;
	struct rdata r = {0};
	uint8_t n[MD_NAME_MAX], big[1498] = {0};

	rd_add(&r, big, sizeof(big));
	assert_int_equal(md_cache_put(c, wname("big.test.", n), MD_TYPE_TXT,
			     300, r.b, r.len, r.count, MD_TRUST_ANSWER, T0),
	    MD_ENOSPACE);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.inserts, 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	/* A small one still fits. */
	assert_int_equal(
	    put_a(c, "small.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	md_cache_free(c);
	(void)state;
}

static void
serve_stale_off(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	uint8_t buf[512];

	assert_int_equal(put_a(c, "s.test.", 10, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(get(c, "s.test.", MD_TYPE_A, T0 + 20000, true, buf,
			     sizeof(buf), &v),
	    MD_ENOTFOUND);
	md_cache_free(c);
	(void)state;
}

static void
serve_stale_on(void **state)
{
	struct md_cache_conf conf;
	struct md_cache *c;
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t buf[512];

	md_cache_conf_init(&conf);
	conf.serve_stale = true;
	conf.stale_answer_ttl = 30;
	conf.stale_max_age = 3600;
	c = new_cache_conf(&conf);
	assert_int_equal(put_a(c, "s.test.", 10, 9, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "s.test.", MD_TYPE_A, T0 + 5000, true, buf, sizeof(buf), &v),
	    0);
	assert_false(v.stale);
	assert_int_equal(v.ttl, 5);

	/* Expired: only with allow_stale, flagged, with stale_answer_ttl. */
	assert_int_equal(get(c, "s.test.", MD_TYPE_A, T0 + 20000, false, buf,
			     sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(get(c, "s.test.", MD_TYPE_A, T0 + 20000, true, buf,
			     sizeof(buf), &v),
	    0);
	assert_true(v.stale);
	assert_int_equal(v.ttl, 30);
	assert_int_equal(a_last(&v), 9);
	/* The miss without allow_stale did not drop it. */
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);

	/* Past stale_max_age after expiry: gone for good. */
	assert_int_equal(get(c, "s.test.", MD_TYPE_A, T0 + 10000 + 3600000 - 1,
			     true, buf, sizeof(buf), &v),
	    0);
	assert_int_equal(get(c, "s.test.", MD_TYPE_A, T0 + 10000 + 3600000,
			     true, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);

	/* Fresh data replaces stale data, which comes back unflagged. */
	assert_int_equal(
	    put_a(c, "t.test.", 10, 1, MD_TRUST_AUTH_ANSWER, T0), 0);
	assert_int_equal(
	    put_a(c, "t.test.", 300, 2, MD_TRUST_GLUE, T0 + 60000), 0);
	assert_int_equal(get(c, "t.test.", MD_TYPE_A, T0 + 60000, true, buf,
			     sizeof(buf), &v),
	    0);
	assert_false(v.stale);
	assert_int_equal(a_last(&v), 2);
	md_cache_free(c);
	(void)state;
}

static void
flush(void **state)
{
	static const uint16_t types[] = {MD_TYPE_A, MD_TYPE_AAAA, MD_TYPE_MX,
	    MD_TYPE_TXT, MD_TYPE_SRV, MD_TYPE_NS, MD_TYPE_PTR, MD_TYPE_HINFO};
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	struct md_cache_stats st;
	struct rdata r = {0};
	uint8_t n[MD_NAME_MAX], buf[512];
	uint64_t keep_cost;
	size_t i;

	rd_a(&r, 10, 0, 0, 1);
	wname("f.test.", n);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_int_equal(md_cache_put(c, n, types[i], 300, r.b, r.len,
				     r.count, MD_TRUST_ANSWER, T0),
		    0);
	assert_int_equal(md_cache_put_negative(c, n, MD_TYPE_DS, false, 300,
			     NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 9);
	keep_cost = cost_of_a("keep.test.");
	assert_int_equal(
	    put_a(c, "keep.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);

	md_cache_flush(c, wname("F.TEST.", n));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_int_equal(get(c, "f.test.", types[i], T0, false, buf,
				     sizeof(buf), &v),
		    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "f.test.", MD_TYPE_DS, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "keep.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    0);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bytes, keep_cost);

	md_cache_flush(c, NULL);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(
	    get(c, "keep.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	/* Still usable after a full flush. */
	assert_int_equal(
	    put_a(c, "keep.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "keep.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    0);
	md_cache_free(c);
	(void)state;
}

static void
buffer_too_small(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], soa[MD_NAME_MAX], buf[512];
	size_t need;

	/* owner (8) + one A record (6) */
	need = 8 + 6;
	assert_int_equal(put_a(c, "b.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "b.test.", MD_TYPE_A, T0, false, buf, need - 1, &v),
	    MD_ENOSPACE);
	assert_int_equal(
	    get(c, "b.test.", MD_TYPE_A, T0, false, buf, need, &v), 0);
	assert_int_equal(a_last(&v), 1);

	/* A negative entry needs room for its SOA too. */
	wname("nb.test.", n);
	wname("test.", soa);
	need = md_name_len(n) + md_name_len(soa) + sizeof(soa_rd);
	assert_int_equal(md_cache_put_negative(c, n, 0, true, 300, soa, soa_rd,
			     sizeof(soa_rd), MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "nb.test.", MD_TYPE_A, T0, false, buf, need - 1, &v),
	    MD_ENOSPACE);
	assert_int_equal(
	    get(c, "nb.test.", MD_TYPE_A, T0, false, buf, need, &v), 0);
	assert_memory_equal(v.soa_rdata, soa_rd, sizeof(soa_rd));
	md_cache_free(c);
	(void)state;
}

/* ---- threads ----------------------------------------------------------- */

#define THREADS 4
#define OPS 20000
#define KEYS 512

struct worker {
	struct md_cache *c;
	uint32_t seed;
	uint64_t puts_ok, gets, found, bad;
};

static void
key_name(unsigned k, uint8_t *n)
{
	char s[32];

	/* Called from worker threads: no cmocka assertion here. */
	snprintf(s, sizeof(s), "k%03u.test.", k % 1000);
	if (md_name_from_str(s, NULL, n) <= 0)
		abort();
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct xorshift x = {w->seed};
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], buf[512], rd[6];
	int i;

	for (i = 0; i < OPS; i++) {
		uint32_t r = xs_next(&x);
		unsigned k = r % KEYS;
		uint16_t type = (r >> 16) & 1 ? MD_TYPE_A : MD_TYPE_TXT;

		key_name(k, n);
		if ((r >> 20) % 2 == 0) {
			/* The rdata names its key, so a torn copy shows. */
			md_write_u16(rd, 4);
			md_write_u16(rd + 2, (uint16_t)k);
			md_write_u16(rd + 4, type);
			if (md_cache_put(w->c, n, type, 3600, rd, 6, 1,
				MD_TRUST_ANSWER, T0) == 0)
				w->puts_ok++;
			else
				w->bad++;
		} else {
			int rc = md_cache_get(w->c, n, type, T0 + 1000, false,
			    buf, sizeof(buf), &v);

			w->gets++;
			if (rc == 0) {
				w->found++;
				if (v.rdata_len != 6 ||
				    md_read_u16(v.rdata + 2) != k ||
				    md_read_u16(v.rdata + 4) != type ||
				    !md_name_equal(v.owner, n))
					w->bad++;
			} else if (rc != MD_ENOTFOUND) {
				w->bad++;
			}
		}
	}
	return NULL;
}

/*
 * Lookups read without a lock: while they run, another thread stores,
 * marks, flushes the whole cache and evicts, again and again.  No lookup
 * may see a torn or freed entry (run under ASan in CI, a freed entry read
 * is a failure there too), and every hit a reader counts is in the stats.
 */
struct reader_arg {
	struct md_cache *c;
	atomic_bool stop;
	_Atomic uint64_t gets;
	uint64_t found, bad;
};

static void *
reader_main(void *arg)
{
	struct reader_arg *a = arg;
	struct md_cache_view v;
	uint8_t n[MD_NAME_MAX], buf[512];

	for (unsigned i = 0; !atomic_load(&a->stop) && i < 1000000; i++) {
		unsigned k = (i * 7919u) % 64;
		int rc;

		key_name(k, n);
		rc = md_cache_get(
		    a->c, n, MD_TYPE_A, T0 + 1000, false, buf, sizeof(buf), &v);
		a->gets++;
		if (rc == 0) {
			a->found++;
			if (v.rdata_len != 6 || md_read_u16(v.rdata + 2) != k ||
			    !md_name_equal(v.owner, n))
				a->bad++;
		} else if (rc != MD_ENOTFOUND)
			a->bad++;
	}
	return NULL;
}

static void
readers_race_writers(void **state)
{
	struct reader_arg a[2];
	pthread_t tid[2];
	struct md_cache *c = new_cache(2048, 4);
	struct md_cache_stats st;
	uint8_t n[MD_NAME_MAX], rd[6];
	uint64_t found = 0;

	for (unsigned t = 0; t < 2; t++) {
		memset(&a[t], 0, sizeof(a[t]));
		a[t].c = c;
		assert_int_equal(
		    pthread_create(&tid[t], NULL, reader_main, &a[t]), 0);
	}
	/* until each reader made 100,000 lookups (bounded: 200,000 rounds) */
	for (unsigned round = 0; round < 200000 &&
	     (atomic_load(&a[0].gets) < 100000 ||
		 atomic_load(&a[1].gets) < 100000);
	     round++) {
		for (unsigned k = 0; k < 64; k++) {
			key_name(k, n);
			md_write_u16(rd, 4);
			md_write_u16(rd + 2, (uint16_t)k);
			md_write_u16(rd + 4, (uint16_t)round);
			md_cache_put(c, n, MD_TYPE_A, 3600, rd, 6, 1,
			    MD_TRUST_ANSWER, T0);
			if (k % 8 == 0)
				md_cache_set_security(c, n, MD_TYPE_A, rd, 6,
				    MD_SEC_SECURE, 0, 60, T0);
		}
		if (round % 3 == 0)
			md_cache_flush(c, NULL);
		else if (round % 3 == 1) {
			key_name(round % 64, n);
			md_cache_flush(c, n);
		}
	}
	for (unsigned t = 0; t < 2; t++) {
		atomic_store(&a[t].stop, true);
		assert_int_equal(pthread_join(tid[t], NULL), 0);
		assert_int_equal(a[t].bad, 0);
		found += a[t].found;
	}
	md_cache_get_stats(c, &st);
	assert_int_equal(st.hits, found);
	/* a budget for fewer than 64 entries: the writer evicted */
	assert_true(st.evictions > 0);
	md_cache_free(c);
	(void)state;
}

static void
threads(void **state)
{
	uint8_t n0[MD_NAME_MAX];
	struct md_cache *c;
	struct md_cache_stats st;
	struct md_cache_view v;
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	uint64_t puts = 0, gets = 0, found = 0, present = 0, cost;
	uint8_t buf[512], n[MD_NAME_MAX], rd[6] = {0, 4};
	size_t max;
	unsigned i, k;

	/* Room for about a quarter of the 2 * KEYS keys: evictions race
	 * with lookups. */
	key_name(0, n0);
	c = new_cache(1 << 20, 1);
	assert_int_equal(
	    md_cache_put(c, n0, MD_TYPE_A, 300, rd, 6, 1, MD_TRUST_ANSWER, T0),
	    0);
	md_cache_get_stats(c, &st);
	cost = st.bytes;
	md_cache_free(c);
	max = (size_t)(cost * KEYS / 2);
	c = new_cache(max, 8);

	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].c = c;
		w[i].seed = 0x9e3779b9u * (i + 1);
		assert_int_equal(
		    pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
		puts += w[i].puts_ok;
		gets += w[i].gets;
		found += w[i].found;
	}
	md_cache_get_stats(c, &st);
	assert_int_equal(st.hits + st.misses, gets);
	assert_int_equal(st.hits, found);
	assert_int_equal(st.inserts, puts);
	assert_true(st.evictions > 0);
	assert_true(st.bytes <= max);
	/* Every entry has the same size. */
	assert_int_equal(st.bytes, st.entries * cost);
	/* The count matches what a walk over every key finds. */
	for (k = 0; k < KEYS; k++) {
		key_name(k, n);
		if (md_cache_get(c, n, MD_TYPE_A, T0 + 1000, false, buf,
			sizeof(buf), &v) == 0)
			present++;
		if (md_cache_get(c, n, MD_TYPE_TXT, T0 + 1000, false, buf,
			sizeof(buf), &v) == 0)
			present++;
	}
	assert_int_equal(present, st.entries);
	md_cache_free(c);
	(void)state;
}

/* ---- flush_zone and walk ----------------------------------------------- */

static void
flush_zone(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 16);
	struct md_cache_view v;
	struct md_cache_stats st;
	uint8_t n[MD_NAME_MAX], buf[512];

	assert_int_equal(put_a(c, "z.test.", 300, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "a.z.test.", 300, 2, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    put_a(c, "b.a.z.test.", 300, 3, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(md_cache_put_negative(c, wname("nx.z.test.", n), 0,
			     true, 300, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	/* Not below z.test.: a sibling, a name ending in "z.test", the
	 * parent. */
	assert_int_equal(put_a(c, "y.test.", 300, 4, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "az.test.", 300, 5, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "test.", 300, 6, MD_TRUST_ANSWER, T0), 0);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 7);

	md_cache_flush_zone(c, wname("Z.Test.", n));
	assert_int_equal(
	    get(c, "z.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "b.a.z.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "nx.z.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "az.test.", MD_TYPE_A, T0, false, buf, sizeof(buf), &v), 0);
	assert_int_equal(a_last(&v), 5);
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 3);
	/* A flush is not an eviction. */
	assert_int_equal(st.evictions, 0);

	/* The root zone: everything. */
	md_cache_flush_zone(c, wname(".", n));
	md_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	md_cache_free(c);
	(void)state;
}

struct walk_seen {
	unsigned n, stale, nxdomain, nodata;
	uint32_t ttl_w; /* TTL of w.test. A */
	uint8_t last_w;
};

static void
walk_cb(void *arg, const struct md_cache_view *v)
{
	struct walk_seen *ws = arg;
	char name[1024];

	ws->n++;
	if (v->stale)
		ws->stale++;
	if (v->kind == MD_CACHE_NXDOMAIN) {
		ws->nxdomain++;
		assert_int_equal(v->type, 0);
		assert_non_null(v->soa_owner);
	}
	if (v->kind == MD_CACHE_NODATA)
		ws->nodata++;
	assert_int_equal(md_name_to_str(v->owner, name, sizeof(name)), 0);
	if (strcmp(name, "W.test.") == 0 && v->type == MD_TYPE_A) {
		ws->ttl_w = v->ttl;
		ws->last_w = a_last(v);
	}
}

static void
walk(void **state)
{
	struct md_cache_conf conf;
	struct md_cache *c;
	struct walk_seen ws;
	uint8_t n[MD_NAME_MAX], soa[MD_NAME_MAX];

	md_cache_conf_init(&conf);
	c = new_cache_conf(&conf);
	memset(&ws, 0, sizeof(ws));
	md_cache_walk(c, T0, walk_cb, &ws);
	assert_int_equal(ws.n, 0);

	assert_int_equal(put_a(c, "W.test.", 300, 7, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "old.test.", 10, 1, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(
	    md_cache_put_negative(c, wname("nx.test.", n), 0, true, 300,
		wname("test.", soa), NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    md_cache_put_negative(c, wname("W.test.", n), MD_TYPE_MX, false,
		300, NULL, NULL, 0, MD_TRUST_ANSWER, T0),
	    0);
	/* 100 s later: old.test. has expired and is not listed. */
	md_cache_walk(c, T0 + 100000, walk_cb, &ws);
	assert_int_equal(ws.n, 3);
	assert_int_equal(ws.stale, 0);
	assert_int_equal(ws.nxdomain, 1);
	assert_int_equal(ws.nodata, 1);
	assert_int_equal(ws.ttl_w, 200);
	assert_int_equal(ws.last_w, 7);
	md_cache_free(c);

	/* With serve-stale, kept expired entries are listed as stale. */
	conf.serve_stale = true;
	conf.stale_answer_ttl = 30;
	conf.stale_max_age = 3600;
	c = new_cache_conf(&conf);
	assert_int_equal(put_a(c, "W.test.", 10, 7, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(put_a(c, "x.test.", 300, 8, MD_TRUST_ANSWER, T0), 0);
	memset(&ws, 0, sizeof(ws));
	md_cache_walk(c, T0 + 20000, walk_cb, &ws);
	assert_int_equal(ws.n, 2);
	assert_int_equal(ws.stale, 1);
	assert_int_equal(ws.ttl_w, 30);
	/* W.test. past stale_max_age: gone from the walk; x.test. stale. */
	memset(&ws, 0, sizeof(ws));
	md_cache_walk(c, T0 + 10000 + 3600000, walk_cb, &ws);
	assert_int_equal(ws.n, 1);
	assert_int_equal(ws.stale, 1);
	assert_int_equal(ws.last_w, 0);
	md_cache_free(c);
	(void)state;
}

/* RFC 9520: a failure takes the slot of (name, type) with its EDE code,
 * never over live data; data stored later replaces it. */
static void
failures(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 4);
	struct md_cache_view v;
	uint8_t buf[1024], n[MD_NAME_MAX];

	(void)state;
	assert_int_equal(md_cache_put_failure(
			     c, wname("x.example.", n), MD_TYPE_A, 5, 22, T0),
	    0);
	assert_int_equal(
	    get(c, "x.example.", MD_TYPE_A, T0 + 1000, false, buf, 1024, &v),
	    0);
	assert_int_equal(v.kind, MD_CACHE_SERVFAIL);
	assert_int_equal(v.ede, 22);
	assert_int_equal(v.ttl, 4);
	/* another type of the name is not failed */
	assert_int_equal(
	    get(c, "x.example.", MD_TYPE_AAAA, T0 + 1000, false, buf, 1024, &v),
	    MD_ENOTFOUND);
	/* gone after its TTL */
	assert_int_equal(
	    get(c, "x.example.", MD_TYPE_A, T0 + 5000, false, buf, 1024, &v),
	    MD_ENOTFOUND);
	/* data replaces a failure */
	assert_int_equal(md_cache_put_failure(c, wname("x.example.", n),
			     MD_TYPE_A, 5, 22, T0 + 6000),
	    0);
	assert_int_equal(
	    put_a(c, "x.example.", 300, 7, MD_TRUST_GLUE, T0 + 6000), 0);
	assert_int_equal(
	    get(c, "x.example.", MD_TYPE_A, T0 + 6000, false, buf, 1024, &v),
	    0);
	assert_int_equal(a_last(&v), 7);
	/* and a failure never replaces live data */
	assert_int_equal(md_cache_put_failure(c, wname("x.example.", n),
			     MD_TYPE_A, 5, 22, T0 + 7000),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "x.example.", MD_TYPE_A, T0 + 7000, false, buf, 1024, &v),
	    0);
	assert_int_equal(a_last(&v), 7);
	md_cache_free(c);
}

/* With serve-stale, a failure does not push out the stale RRset. */
static void
failure_keeps_stale(void **state)
{
	struct md_cache_conf conf;
	struct md_cache *c;
	struct md_cache_view v;
	uint8_t buf[1024], n[MD_NAME_MAX];

	(void)state;
	md_cache_conf_init(&conf);
	conf.serve_stale = true;
	c = new_cache_conf(&conf);
	assert_int_equal(put_a(c, "s.example.", 10, 3, MD_TRUST_ANSWER, T0), 0);
	assert_int_equal(md_cache_put_failure(c, wname("s.example.", n),
			     MD_TYPE_A, 5, 22, T0 + 20000),
	    MD_ENOTFOUND);
	assert_int_equal(
	    get(c, "s.example.", MD_TYPE_A, T0 + 20000, true, buf, 1024, &v),
	    0);
	assert_true(v.stale);
	assert_int_equal(a_last(&v), 3);
	md_cache_free(c);
}

/* Parent-side glue lives beside the name's own data: lookups do not see
 * it, the child's data does not replace it, and NXDOMAIN leaves it. */
static void
parent_side_glue(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 4);
	struct md_cache_view v;
	uint8_t buf[1024], n[MD_NAME_MAX];
	struct rdata r = {0};

	(void)state;
	rd_a(&r, 192, 0, 2, 20);
	assert_int_equal(md_cache_put_parent(c, wname("ns1.example.", n),
			     MD_TYPE_A, 600, r.b, r.len, r.count, T0),
	    0);
	assert_int_equal(
	    get(c, "ns1.example.", MD_TYPE_A, T0, false, buf, 1024, &v),
	    MD_ENOTFOUND);
	assert_int_equal(
	    put_a(c, "ns1.example.", 3600, 99, MD_TRUST_AUTH_ANSWER, T0), 0);
	assert_int_equal(
	    get(c, "ns1.example.", MD_TYPE_A, T0, false, buf, 1024, &v), 0);
	assert_int_equal(a_last(&v), 99);
	assert_int_equal(md_cache_get_parent(c, wname("ns1.example.", n),
			     MD_TYPE_A, T0 + 1000, buf, 1024, &v),
	    0);
	assert_int_equal(v.kind, MD_CACHE_PARENT);
	assert_int_equal(v.rdata[5], 20);
	assert_int_equal(v.ttl, 599);
	/* only A and AAAA */
	assert_int_equal(md_cache_put_parent(c, wname("ns1.example.", n),
			     MD_TYPE_TXT, 600, r.b, r.len, r.count, T0),
	    -EINVAL);
	/* expires by its own TTL */
	assert_int_equal(md_cache_get_parent(c, wname("ns1.example.", n),
			     MD_TYPE_A, T0 + 600000, buf, 1024, &v),
	    MD_ENOTFOUND);
	md_cache_free(c);
}

/* RRSIGs and denial proofs live beside their data: lookups do not see
 * them, they go with a flush of the name, and a malformed proof is
 * refused. */
static void
dnssec_side_entries(void **state)
{
	struct md_cache *c = new_cache(1 << 20, 4);
	struct md_cache_view v;
	uint8_t buf[1024], n[MD_NAME_MAX], proof[256], sig[64];
	const uint8_t *p = NULL, *owner, *rd;
	uint16_t type, rl, plen;
	uint8_t nsec_owner[MD_NAME_MAX];
	size_t ol;
	unsigned seen = 0;

	(void)state;
	/* one RRSIG covering A: [u16 len][covered A][the rest] */
	memset(sig, 0x5a, sizeof(sig));
	md_write_u16(sig, 30);
	md_write_u16(sig + 2, MD_TYPE_A);
	assert_int_equal(md_cache_put_sigs(c, wname("www.example.", n),
			     MD_TYPE_A, 300, sig, 32, 1, MD_TRUST_ANSWER, T0),
	    0);
	assert_int_equal(
	    get(c, "www.example.", MD_TYPE_A, T0, false, buf, 1024, &v),
	    MD_ENOTFOUND);
	assert_int_equal(md_cache_get_sigs(c, wname("www.example.", n),
			     MD_TYPE_A, T0 + 1000, buf, 1024, &v),
	    0);
	assert_int_equal(v.kind, MD_CACHE_SIGS);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.ttl, 299);
	assert_int_equal(md_cache_get_sigs(c, wname("www.example.", n),
			     MD_TYPE_AAAA, T0, buf, 1024, &v),
	    MD_ENOTFOUND);
	/* a proof of two records: an NSEC and its RRSIG */
	wname("a.example.", nsec_owner);
	ol = md_name_len(nsec_owner);
	plen = 0;
	for (int i = 0; i < 2; i++) {
		md_write_u16(proof + plen, (uint16_t)(ol + 2 + 4));
		memcpy(proof + plen + 2, nsec_owner, ol);
		md_write_u16(proof + plen + 2 + ol,
		    i == 0 ? MD_TYPE_NSEC : MD_TYPE_RRSIG);
		memset(proof + plen + 4 + ol, i, 4);
		plen += (uint16_t)(2 + ol + 2 + 4);
	}
	assert_int_equal(md_cache_put_proof(c, wname("b.example.", n), 0, 60,
			     proof, plen, 2, MD_TRUST_AUTH_AUTHORITY, T0),
	    0);
	assert_int_equal(
	    md_cache_get_proof(c, wname("b.example.", n), 0, T0, buf, 1024, &v),
	    0);
	while (
	    (p = md_cache_proof_next(&v, p, &owner, &type, &rd, &rl)) != NULL) {
		assert_true(md_name_equal(owner, nsec_owner));
		assert_int_equal(
		    type, seen == 0 ? MD_TYPE_NSEC : MD_TYPE_RRSIG);
		assert_int_equal(rl, 4);
		assert_int_equal(rd[0], seen);
		seen++;
	}
	assert_int_equal(seen, 2);
	/* a record whose owner runs past its length */
	proof[2] = 60;
	assert_int_equal(md_cache_put_proof(c, wname("c.example.", n), 0, 60,
			     proof, plen, 2, MD_TRUST_AUTH_AUTHORITY, T0),
	    -EINVAL);
	/* a flush of the name takes its signatures along */
	md_cache_flush(c, wname("www.example.", n));
	assert_int_equal(md_cache_get_sigs(c, wname("www.example.", n),
			     MD_TYPE_A, T0, buf, 1024, &v),
	    MD_ENOTFOUND);
	md_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dnssec_side_entries),
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(case_insensitive),
	    cmocka_unit_test(ttl_ageing),
	    cmocka_unit_test(ttl_clamps),
	    cmocka_unit_test(negative_nxdomain),
	    cmocka_unit_test(negative_nodata),
	    cmocka_unit_test(negative_ttl_cap),
	    cmocka_unit_test(credibility),
	    cmocka_unit_test(data_and_nxdomain),
	    cmocka_unit_test(eviction_lru),
	    cmocka_unit_test(too_big),
	    cmocka_unit_test(serve_stale_off),
	    cmocka_unit_test(serve_stale_on),
	    cmocka_unit_test(flush),
	    cmocka_unit_test(buffer_too_small),
	    cmocka_unit_test(threads),
	    cmocka_unit_test(readers_race_writers),
	    cmocka_unit_test(flush_zone),
	    cmocka_unit_test(walk),
	    cmocka_unit_test(set_limits),
	    cmocka_unit_test(failures),
	    cmocka_unit_test(failure_keeps_stale),
	    cmocka_unit_test(parent_side_glue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
