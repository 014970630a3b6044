/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_reply.c - libFuzzer harness for what upstream servers send us: one
 * input is one reply message, hostile or not.  It goes through
 *
 *   1. md_msg_parse() into an arena;
 *   2. md_scrub_reply() as servers of ".", "com." and "example.com.", and
 *      md_classify_reply() for the reply's own question and a few fixed
 *      (qname, qtype) pairs;
 *   3. the whole engine: a request for example.com. A with root hints at
 *      192.0.2.1, a fake clock, a small real cache and infra cache, where
 *      every upstream query is answered with the input (the query's ID
 *      copied in) up to MAX_REPLIES times, then failed as a timeout.
 *
 * The input's own ID is overwritten anyway, so its two bytes choose how
 * the engine runs: bit 0 of the first byte also copies the query's
 * question into the reply (so replies match and resolution goes deeper),
 * bit 1 turns QNAME minimisation off.
 *
 * Besides memory errors (ASan), the harness aborts when a promise breaks:
 * an RRset whose rdata does not add up, a scrubbed RR the scrubber should
 * have dropped, a classification without the parts it implies, a result
 * rcode outside 0..23, or an engine that loops or waits for nothing.
 * With $MD_FUZZ_VERBOSE set, the engine's trace goes to stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/cache.h"
#include "minidns/resolve.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "resolve-internal.h"

#include "fuzz.h"

#define MAX_REPLIES 8	 /* upstream queries answered with the input */
#define MAX_STEPS 512	 /* md_resolve_step() calls before "a loop" */
#define T0 1000000000ull /* the fake clock's start, in ms */
#define REPLY_RTT 20

static const char *const zone_strs[] = {".", "com.", "example.com."};

static const struct {
	const char *name;
	uint16_t type;
} question_strs[] = {
    {"example.com.", MD_TYPE_A},
    {"www.example.com.", MD_TYPE_AAAA},
    {"com.", MD_TYPE_NS},
    {"example.com.", MD_TYPE_CNAME},
};

#define NZONES (sizeof(zone_strs) / sizeof(zone_strs[0]))
#define NQUESTIONS (sizeof(question_strs) / sizeof(question_strs[0]))

static bool inited, verbose;
static uint8_t zones[NZONES][MD_NAME_MAX];
static uint8_t qnames[NQUESTIONS][MD_NAME_MAX];
static uint8_t target_name[MD_NAME_MAX];
static uint8_t reply_buf[MD_WIRE_MAX + MD_NAME_MAX + 4];
static uint64_t fake_clock;

static void fail(const char *what) __attribute__((noreturn));

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_reply: %s\n", what);
	abort();
}

static void
init(void)
{
	for (size_t i = 0; i < NZONES; i++) {
		if (md_name_from_str(zone_strs[i], NULL, zones[i]) < 0)
			fail("bad zone name");
	}
	for (size_t i = 0; i < NQUESTIONS; i++) {
		if (md_name_from_str(question_strs[i].name, NULL, qnames[i]) <
		    0)
			fail("bad question name");
	}
	if (md_name_from_str("example.com.", NULL, target_name) < 0)
		fail("bad target name");
	verbose = getenv("MD_FUZZ_VERBOSE") != NULL;
	inited = true;
}

static void
print_trace(void *arg, const struct md_trace_event *ev)
{
	char line[2048];

	(void)arg;
	md_trace_format(ev, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
}

static uint64_t
fake_now(void *arg)
{
	(void)arg;
	return fake_clock;
}

/* count records of [u16 len][rdata]... filling exactly rdata_len bytes. */
static void
check_rdata(const uint8_t *rdata, uint32_t rdata_len, uint16_t count)
{
	uint32_t off = 0;
	unsigned n = 0;

	if (count == 0)
		fail("empty RRset");
	if (rdata == NULL)
		fail("RRset without rdata");
	while (off < rdata_len) {
		if (rdata_len - off < 2)
			fail("rdata length field cut short");
		off += 2 + (uint32_t)md_read_u16(rdata + off);
		if (off > rdata_len)
			fail("rdata runs past the RRset");
		n++;
	}
	if (n != count)
		fail("RRset count does not match its rdata");
}

static void
check_name(const uint8_t *name)
{
	if (name == NULL || md_name_len(name) == 0)
		fail("malformed owner name");
}

static void
check_scrubbed(const struct reply *r, const uint8_t *zone)
{
	for (unsigned i = 0; i < r->msg.nrr; i++) {
		check_name(r->msg.rrs[i].owner);
		if (r->msg.rrs[i].rdlen > 0 && r->msg.rrs[i].rdata == NULL)
			fail("RR without rdata");
	}
	for (const struct rrset *s = r->sets; s != NULL; s = s->next) {
		check_name(s->owner);
		check_rdata(s->rdata, s->rdata_len, s->count);
		if (!md_name_is_subdomain(s->owner, zone))
			fail("out-of-bailiwick RRset kept");
		/* NS and SOA, and the DNSSEC records of referrals and
		 * denials (passed on to clients that set DO) */
		if (s->section == MD_SECTION_AUTHORITY &&
		    s->type != MD_TYPE_NS && s->type != MD_TYPE_SOA &&
		    s->type != MD_TYPE_DS && s->type != MD_TYPE_RRSIG &&
		    s->type != MD_TYPE_NSEC && s->type != MD_TYPE_NSEC3)
			fail("authority RRset other than NS, SOA, DS, RRSIG, "
			     "NSEC, NSEC3 kept");
		if (s->section == MD_SECTION_ADDITIONAL &&
		    s->type != MD_TYPE_A && s->type != MD_TYPE_AAAA)
			fail("additional RRset not an address kept");
		if (s->type == MD_TYPE_OPT)
			fail("OPT kept as an RRset");
	}
}

static void
check_classified(const struct classified *c, const uint8_t *zone)
{
	if (c->nchain > sizeof(c->chain) / sizeof(c->chain[0]))
		fail("CNAME chain overflow");
	/* CNAMEs, and DNAMEs each followed by the CNAME made from it (RFC
	 * 6672 §3.2) */
	for (unsigned i = 0; i < c->nchain; i++) {
		const struct rrset *l = c->chain[i];

		if (l == NULL)
			fail("chain link missing");
		if (l->type == MD_TYPE_DNAME) {
			if (i + 1 == c->nchain ||
			    c->chain[i + 1]->type != MD_TYPE_CNAME ||
			    !c->chain[i + 1]->synth)
				fail("DNAME link without its CNAME");
			i++;
		} else if (l->type != MD_TYPE_CNAME) {
			fail("chain link is neither a CNAME nor a DNAME RRset");
		}
	}
	switch (c->cls) {
	case MD_REPLY_ANSWER:
		if (c->data == NULL)
			fail("answer without data");
		break;
	case MD_REPLY_CNAME:
		if (c->target == NULL || md_name_len(c->target) == 0)
			fail("CNAME without a target");
		break;
	case MD_REPLY_REFERRAL:
		if (c->ns == NULL || c->ns->type != MD_TYPE_NS ||
		    !md_name_is_subdomain(c->ns->owner, zone) ||
		    md_name_labels(c->ns->owner) <= md_name_labels(zone))
			fail("referral not below the zone");
		break;
	case MD_REPLY_NXDOMAIN:
	case MD_REPLY_NODATA:
		if (c->soa != NULL && c->soa->type != MD_TYPE_SOA)
			fail("negative answer with a non-SOA");
		break;
	case MD_REPLY_LAME:
	case MD_REPLY_REFUSED:
	case MD_REPLY_FORMERR:
	case MD_REPLY_TRUNCATED:
	case MD_REPLY_MALFORMED:
		break;
	default:
		fail("unknown reply class");
	}
}

/* Steps 1 and 2: the parser, the scrubber and the classifier alone. */
static void
fuzz_parts(const uint8_t *data, size_t size)
{
	struct md_arena a;
	struct md_msg m;
	struct reply r;
	struct classified c;

	md_arena_init(&a, 16384);
	if (md_msg_parse(data, size, &a, &m) == 0) {
		for (unsigned i = 0; i < m.nrr; i++)
			check_name(m.rrs[i].owner);
	}
	for (size_t z = 0; z < NZONES; z++) {
		if (md_scrub_reply(&a, data, size, zones[z], &r) != 0)
			continue;
		check_scrubbed(&r, zones[z]);
		if (r.msg.has_question) {
			md_classify_reply(
			    &r, r.msg.qname, r.msg.qtype, zones[z], &c);
			check_classified(&c, zones[z]);
		}
		for (size_t q = 0; q < NQUESTIONS; q++) {
			md_classify_reply(
			    &r, qnames[q], question_strs[q].type, zones[z], &c);
			check_classified(&c, zones[z]);
		}
	}
	md_arena_deinit(&a);
}

/*
 * The reply to one upstream query: the input with the query's ID, and
 * with the query's question instead of its own when asked to.
 */
static size_t
make_reply(const uint8_t *data, size_t size, const struct md_send *send,
    bool copy_question)
{
	uint8_t name[MD_NAME_MAX];
	size_t roff = MD_WIRE_HDR_LEN, qoff = MD_WIRE_HDR_LEN, qlen, n;

	if (copy_question && size >= MD_WIRE_HDR_LEN &&
	    send->len >= MD_WIRE_HDR_LEN && md_read_u16(data + 4) == 1 &&
	    md_name_read(data, size, &roff, name) >= 0 && roff + 4 <= size &&
	    md_name_read(send->query, send->len, &qoff, name) >= 0 &&
	    qoff + 4 <= send->len) {
		qlen = qoff + 4 - MD_WIRE_HDR_LEN;
		roff += 4;
		memcpy(reply_buf, data, MD_WIRE_HDR_LEN);
		memcpy(reply_buf + MD_WIRE_HDR_LEN,
		    send->query + MD_WIRE_HDR_LEN, qlen);
		memcpy(reply_buf + MD_WIRE_HDR_LEN + qlen, data + roff,
		    size - roff);
		n = MD_WIRE_HDR_LEN + qlen + size - roff;
	} else {
		memcpy(reply_buf, data, size);
		n = size;
	}
	if (n >= 2 && send->len >= 2)
		memcpy(reply_buf, send->query, 2);
	return n;
}

static void
check_result(const struct md_result *res)
{
	if (res == NULL)
		fail("no result after MD_STEP_DONE");
	if (res->rcode < 0 || res->rcode > 23)
		fail("result rcode outside 0..23");
	for (const struct md_result_rrset *s = res->answer; s != NULL;
	     s = s->next) {
		check_name(s->owner);
		check_rdata(s->rdata, s->rdata_len, s->count);
	}
	for (const struct md_result_rrset *s = res->authority; s != NULL;
	     s = s->next) {
		check_name(s->owner);
		check_rdata(s->rdata, s->rdata_len, s->count);
	}
}

/* Step 3: the whole engine, every upstream answered with the input. */
static void
fuzz_engine(const uint8_t *data, size_t size)
{
	struct md_resolve_conf conf;
	struct md_cache_conf cc;
	struct md_resolve_env env;
	struct md_cache *cache;
	struct md_infra *infra;
	struct md_request *req;
	struct md_send send;
	bool copy_question = size > 0 && (data[0] & 0x01);
	unsigned replies = 0, steps;

	md_cache_conf_init(&cc);
	cc.max_bytes = 64 * 1024;
	cc.shards = 1;
	cache = md_cache_new(&cc);
	infra = md_infra_new(64);
	if (cache == NULL || infra == NULL)
		fail("out of memory");
	md_resolve_conf_init(&conf);
	conf.nhints = 1;
	if (md_name_from_str("a.root-servers.net.", NULL, conf.hints[0].name) <
		0 ||
	    md_sockaddr_parse("192.0.2.1", 53, &conf.hints[0].addr) != 0)
		fail("bad root hint");
	conf.allow_private = true;
	conf.use_0x20 = false;
	conf.qname_minimisation = !(size > 0 && (data[0] & 0x02));
	/* The validator reads the same replies (DS/DNSKEY look-ups, the
	 * answer's RRSIGs and NSEC records) against the built-in root
	 * anchors, unless bit 2 turns it off. */
	conf.validate = !(size > 0 && (data[0] & 0x04));
	memset(&env, 0, sizeof(env));
	env.conf = &conf;
	env.cache = cache;
	env.infra = infra;
	env.now_ms = fake_now;
	fake_clock = T0;

	req = md_resolve_new(&env, target_name, MD_TYPE_A, 0);
	if (req == NULL)
		fail("out of memory");
	if (verbose)
		md_resolve_set_trace(req, print_trace, NULL);
	for (steps = 0; steps < MAX_STEPS; steps++) {
		enum md_step st = md_resolve_step(req, &send);

		if (st == MD_STEP_DONE)
			break;
		if (st != MD_STEP_SEND)
			fail("engine waits with nothing outstanding");
		if (send.query == NULL || send.len < MD_WIRE_HDR_LEN)
			fail("engine sends no query");
		if (replies < MAX_REPLIES) {
			size_t n = make_reply(data, size, &send, copy_question);

			replies++;
			fake_clock += REPLY_RTT;
			md_resolve_reply(
			    req, send.token, reply_buf, n, REPLY_RTT);
		} else {
			fake_clock += send.timeout_ms;
			md_resolve_fail(req, send.token, true);
		}
	}
	if (steps == MAX_STEPS)
		fail("engine step loop");
	check_result(md_resolve_result(req));
	md_resolve_free(req);
	md_cache_free(cache);
	md_infra_free(infra);
}

int
md_fuzz_reply(const uint8_t *data, size_t size)
{
	if (!inited)
		init();
	if (size > MD_WIRE_MAX)
		return 0;
	fuzz_parts(data, size);
	fuzz_engine(data, size);
	return 0;
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return md_fuzz_reply(data, size);
}
#endif
