/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resolve.c - the engine's bookkeeping of open queries (iter.c),
 * driven by hand with no network and a fake clock: a late reply to an
 * earlier query of the same question is taken, one to a question that
 * moved on is not (and caches nothing), a late refusal does not disturb
 * the query out, at most MD_RESOLVE_OPEN_MAX are open, a single server is
 * asked again with a doubling timeout until resolve-timeout, which ends
 * the question with SERVFAIL and EDE 22.  A seeded random source
 * (md_rng, minidig +seed) makes the choice among equal servers
 * repeatable.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>

#include "minidns/cache.h"
#include "minidns/resolve.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "unit.h"

struct fixture {
	struct md_resolve_conf conf;
	struct md_resolve_env env;
	struct md_cache *cache;
	uint64_t clock;
};

static uint64_t
clock_cb(void *arg)
{
	return ((struct fixture *)arg)->clock;
}

static void
addr(const char *s, struct md_sockaddr *sa)
{
	assert_int_equal(md_sockaddr_parse(s, 53, sa), 0);
}

/* forward: a forward zone "test." with one upstream; else one root hint */
static struct fixture *
fixture_new(bool forward, uint32_t timeout_ms)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct md_cache_conf cc;
	uint8_t n[MD_NAME_MAX];

	assert_non_null(f);
	md_resolve_conf_init(&f->conf);
	f->conf.qname_minimisation = false;
	f->conf.allow_private = true;
	f->conf.timeout_ms = timeout_ms;
	if (forward) {
		struct md_forward_zone *z = &f->conf.forward[0];

		wname("test.", n);
		memcpy(z->zone, n, md_name_len(n));
		addr("192.0.2.50", &z->servers[0].addr);
		z->nservers = 1;
		f->conf.nforward = 1;
	} else {
		wname("a.root-servers.net.", n);
		memcpy(f->conf.hints[0].name, n, md_name_len(n));
		addr("192.0.2.1", &f->conf.hints[0].addr);
		f->conf.nhints = 1;
		/* a root of its own, no anchor for it (dnssec: off) */
		f->conf.validate = false;
	}
	md_cache_conf_init(&cc);
	f->cache = md_cache_new(&cc);
	assert_non_null(f->cache);
	f->env.conf = &f->conf;
	f->env.cache = f->cache;
	f->env.infra = md_infra_new(0);
	assert_non_null(f->env.infra);
	f->env.now_ms = clock_cb;
	f->env.clock_arg = f;
	f->clock = 1000000;
	return f;
}

static void
fixture_free(struct fixture *f)
{
	md_infra_free(f->env.infra);
	md_cache_free(f->cache);
	free(f);
}

static struct md_request *
start(struct fixture *f, const char *qname)
{
	uint8_t n[MD_NAME_MAX];
	struct md_request *req =
	    md_resolve_new(&f->env, wname(qname, n), MD_TYPE_A, 0);

	assert_non_null(req);
	return req;
}

/* The next step must be a SEND to 'server'; returns its token. */
static uint32_t
expect_send(struct md_request *req, const char *server, struct md_send *s)
{
	struct md_sockaddr sa;

	assert_int_equal(md_resolve_step(req, s), MD_STEP_SEND);
	addr(server, &sa);
	assert_int_equal(s->server.len, sa.len);
	assert_memory_equal(&s->server.ss, &sa.ss, sa.len);
	assert_true(s->timeout_ms <= s->open_ms);
	return s->token;
}

/* A reply to (qname, A): rcode, and one A record in 'section' (owner
 * qname, or NS + glue for a referral to 'zone'). */
static size_t
build_reply(uint8_t *buf, size_t cap, const char *qname, int rcode, bool aa,
    const char *a, const char *zone, const char *ns, const char *glue)
{
	struct md_wire_writer w;
	uint8_t q[MD_NAME_MAX], z[MD_NAME_MAX], nsn[MD_NAME_MAX];
	struct md_sockaddr sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&sa.ss;

	md_wire_writer_init(&w, buf, cap);
	assert_int_equal(
	    md_wire_write_header(
		&w, 0, (uint16_t)(MD_FLAG_QR | (aa ? MD_FLAG_AA : 0) | rcode)),
	    0);
	assert_int_equal(
	    md_wire_write_question(&w, wname(qname, q), MD_TYPE_A, MD_CLASS_IN),
	    0);
	if (a != NULL) {
		addr(a, &sa);
		assert_int_equal(
		    md_wire_write_rr(&w, MD_SECTION_ANSWER, q, MD_TYPE_A,
			MD_CLASS_IN, 300, (const uint8_t *)&sin->sin_addr, 4),
		    0);
	}
	if (zone != NULL) {
		wname(zone, z);
		wname(ns, nsn);
		assert_int_equal(
		    md_wire_write_rr(&w, MD_SECTION_AUTHORITY, z, MD_TYPE_NS,
			MD_CLASS_IN, 86400, nsn, (uint16_t)md_name_len(nsn)),
		    0);
		addr(glue, &sa);
		assert_int_equal(
		    md_wire_write_rr(&w, MD_SECTION_ADDITIONAL, nsn, MD_TYPE_A,
			MD_CLASS_IN, 86400, (const uint8_t *)&sin->sin_addr, 4),
		    0);
	}
	return md_wire_writer_finish(&w);
}

static void
expect_answer(struct md_request *req, const char *want)
{
	struct md_send s;
	const struct md_result *r;
	struct md_sockaddr sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&sa.ss;

	assert_int_equal(md_resolve_step(req, &s), MD_STEP_DONE);
	r = md_resolve_result(req);
	assert_int_equal(r->rcode, MD_RCODE_NOERROR);
	assert_non_null(r->answer);
	assert_int_equal(r->answer->type, MD_TYPE_A);
	addr(want, &sa);
	assert_memory_equal(r->answer->rdata + 2, &sin->sin_addr, 4);
}

/* A forwarder's reply to the first query, after the second went out. */
static void
test_late_reply_taken(void **state)
{
	struct fixture *f = fixture_new(true, 5000);
	struct md_request *req = start(f, "www.test.");
	struct md_send s;
	uint8_t pkt[512];
	uint32_t t1, t2;
	size_t len;

	(void)state;
	t1 = expect_send(req, "192.0.2.50", &s);
	assert_int_equal(s.timeout_ms, 400);
	assert_int_equal(s.open_ms, 5000 + 100); /* and a grace */
	f->clock += 400;
	md_resolve_fail(req, t1, true);
	t2 = expect_send(req, "192.0.2.50", &s);
	assert_int_equal(s.timeout_ms, 800); /* the backoff */
	assert_int_equal(s.open_ms, 4600 + 100);
	assert_true(md_resolve_open(req, t1));
	assert_true(md_resolve_open(req, t2));
	f->clock += 700;
	len = build_reply(pkt, sizeof(pkt), "www.test.", MD_RCODE_NOERROR,
	    false, "192.0.2.77", NULL, NULL, NULL);
	md_resolve_reply(req, t1, pkt, len, 1100);
	expect_answer(req, "192.0.2.77");
	assert_false(md_resolve_open(req, t1));
	assert_false(md_resolve_open(req, t2));
	md_resolve_free(req);
	fixture_free(f);
}

/* The question moved on (a referral came on the second query): a reply
 * to the first query is not taken, and nothing of it is cached. */
static void
test_late_reply_moved_on(void **state)
{
	struct fixture *f = fixture_new(false, 5000);
	struct md_request *req = start(f, "www.example.com.");
	struct md_send s;
	struct md_cache_view v;
	uint8_t pkt[512], buf[1024], n[MD_NAME_MAX];
	uint32_t t1, t2, t3;
	size_t len;

	(void)state;
	t1 = expect_send(req, "192.0.2.1", &s);
	f->clock += 400;
	md_resolve_fail(req, t1, true);
	t2 = expect_send(req, "192.0.2.1", &s);
	len = build_reply(pkt, sizeof(pkt), "www.example.com.",
	    MD_RCODE_NOERROR, false, NULL, "com.", "ns.nic.com.", "192.0.2.10");
	md_resolve_reply(req, t2, pkt, len, 10);
	t3 = expect_send(req, "192.0.2.10", &s);
	assert_false(md_resolve_open(req, t1));
	assert_true(md_resolve_open(req, t3));
	/* The root's late "answer" for www.example.com.: ignored. */
	len = build_reply(pkt, sizeof(pkt), "www.example.com.",
	    MD_RCODE_NOERROR, true, "198.51.100.66", NULL, NULL, NULL);
	md_resolve_reply(req, t1, pkt, len, 900);
	assert_int_equal(md_resolve_step(req, &s), MD_STEP_WAIT);
	assert_int_equal(md_cache_get(f->cache, wname("www.example.com.", n),
			     MD_TYPE_A, f->clock, false, buf, sizeof(buf), &v),
	    MD_ENOTFOUND);
	/* A failure of the old query says nothing either. */
	md_resolve_fail(req, t1, true);
	assert_int_equal(md_resolve_step(req, &s), MD_STEP_WAIT);
	len = build_reply(pkt, sizeof(pkt), "www.example.com.",
	    MD_RCODE_NOERROR, true, "192.0.2.80", NULL, NULL, NULL);
	md_resolve_reply(req, t3, pkt, len, 10);
	expect_answer(req, "192.0.2.80");
	md_resolve_free(req);
	fixture_free(f);
}

/* A late refusal is news for server selection only: the query out is
 * still awaited, and its answer taken. */
static void
test_late_refusal_keeps_waiting(void **state)
{
	struct fixture *f = fixture_new(true, 5000);
	struct md_request *req = start(f, "www.test.");
	struct md_send s;
	uint8_t pkt[512];
	uint32_t t1, t2;
	size_t len;

	(void)state;
	t1 = expect_send(req, "192.0.2.50", &s);
	f->clock += 400;
	md_resolve_fail(req, t1, true);
	t2 = expect_send(req, "192.0.2.50", &s);
	len = build_reply(pkt, sizeof(pkt), "www.test.", MD_RCODE_REFUSED,
	    false, NULL, NULL, NULL, NULL);
	md_resolve_reply(req, t1, pkt, len, 500);
	assert_int_equal(md_resolve_step(req, &s), MD_STEP_WAIT);
	assert_false(md_resolve_open(req, t1));
	assert_true(md_resolve_open(req, t2));
	len = build_reply(pkt, sizeof(pkt), "www.test.", MD_RCODE_NOERROR,
	    false, "192.0.2.77", NULL, NULL, NULL);
	md_resolve_reply(req, t2, pkt, len, 100);
	expect_answer(req, "192.0.2.77");
	md_resolve_free(req);
	fixture_free(f);
}

/* At most MD_RESOLVE_OPEN_MAX queries open; the oldest closes first. */
static void
test_open_bounded(void **state)
{
	struct fixture *f = fixture_new(true, 60000);
	struct md_request *req = start(f, "www.test.");
	uint32_t tok[MD_RESOLVE_OPEN_MAX + 2];
	struct md_send s;
	size_t n = sizeof(tok) / sizeof(tok[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		tok[i] = expect_send(req, "192.0.2.50", &s);
		f->clock += s.timeout_ms;
		if (i + 1 < n)
			md_resolve_fail(req, tok[i], true);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		    md_resolve_open(req, tok[i]), i + MD_RESOLVE_OPEN_MAX >= n);
	md_resolve_free(req);
	fixture_free(f);
}

/* A dead single upstream: asked again with a doubling timeout until the
 * budget is spent; then SERVFAIL, EDE 22, within the budget. */
static void
test_budget(void **state)
{
	struct fixture *f = fixture_new(true, 2000);
	struct md_request *req = start(f, "www.test.");
	static const uint32_t want[] = {400, 800, 800};
	const struct md_result *r;
	struct md_send s;
	size_t i = 0;
	enum md_step st;

	(void)state;
	while ((st = md_resolve_step(req, &s)) == MD_STEP_SEND) {
		assert_true(i < sizeof(want) / sizeof(want[0]));
		assert_int_equal(s.timeout_ms, want[i]);
		i++;
		f->clock += s.timeout_ms;
		md_resolve_fail(req, s.token, true);
	}
	assert_int_equal(st, MD_STEP_DONE);
	assert_int_equal(i, 3);
	r = md_resolve_result(req);
	assert_int_equal(r->rcode, MD_RCODE_SERVFAIL);
	assert_int_equal(r->ede, MD_EDE_NO_REACHABLE_AUTHORITY);
	assert_int_equal(r->elapsed_ms, 2000);
	md_resolve_free(req);
	fixture_free(f);
}

/* The servers asked, in order, when none answers, from 8 root hints
 * that are all equal (unknown), with the engine's choices drawn from
 * 'rng'. */
static void
walk_order(
    struct md_rng *rng, char order[][MD_SOCKADDR_STRLEN], size_t max, size_t *n)
{
	struct fixture *f = fixture_new(false, 60000);
	struct md_request *req;
	struct md_send s;
	uint8_t nm[MD_NAME_MAX];

	f->conf.nhints = 8;
	for (size_t i = 0; i < 8; i++) {
		char a[32];

		snprintf(a, sizeof(a), "192.0.2.%zu", i + 1);
		wname("a.root-servers.net.", nm);
		memcpy(f->conf.hints[i].name, nm, md_name_len(nm));
		f->conf.hints[i].name[1] = (uint8_t)('a' + i);
		addr(a, &f->conf.hints[i].addr);
	}
	f->env.rng = rng;
	req = start(f, "www.test.");
	*n = 0;
	while (*n < max && md_resolve_step(req, &s) == MD_STEP_SEND) {
		md_sockaddr_str(&s.server, order[*n], MD_SOCKADDR_STRLEN);
		(*n)++;
		f->clock += s.timeout_ms;
		md_resolve_fail(req, s.token, true);
	}
	md_resolve_free(req);
	fixture_free(f);
}

static void
test_seeded_choice(void **state)
{
	char a[8][MD_SOCKADDR_STRLEN], b[8][MD_SOCKADDR_STRLEN];
	struct md_rng r1, r2;
	size_t na, nb;
	bool differ = false;

	(void)state;
	/* The same seed: the same servers in the same order. */
	md_rng_seed(&r1, 42);
	md_rng_seed(&r2, 42);
	walk_order(&r1, a, 8, &na);
	walk_order(&r2, b, 8, &nb);
	assert_int_equal(na, 8);
	assert_int_equal(nb, 8);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i], b[i]);
	/* Other seeds pick other orders (8! of them; some seed of a few
	 * must differ from seed 42's). */
	for (uint64_t seed = 1; seed <= 5 && !differ; seed++) {
		md_rng_seed(&r2, seed);
		walk_order(&r2, b, 8, &nb);
		for (size_t i = 0; i < nb && i < na; i++)
			differ |= strcmp(a[i], b[i]) != 0;
	}
	assert_true(differ);
	/* The stream itself: repeatable, and within its bound. */
	md_rng_seed(&r1, 7);
	md_rng_seed(&r2, 7);
	for (int i = 0; i < 100; i++) {
		uint32_t v = md_rng_uniform(&r1, 13);

		assert_true(v < 13);
		assert_int_equal(v, md_rng_uniform(&r2, 13));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_late_reply_taken),
	    cmocka_unit_test(test_late_reply_moved_on),
	    cmocka_unit_test(test_late_refusal_keeps_waiting),
	    cmocka_unit_test(test_open_bounded),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_seeded_choice),
	};

	md_log_set_level(MD_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
