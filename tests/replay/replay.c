/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.c - the replay test runner: the resolution engine (src/resolve/)
 * with a real cache and infra cache, a fake clock and a fake network fed
 * from canned answers.  One cmocka test per scenario file in scenarios/ (or per
 * file named on the command line).  MD_REPLAY_VERBOSE=1 prints every
 * upstream exchange and trace event.
 *
 * The .rpl subset (Unbound's testcode/replay.h, plus a few words of ours):
 *
 *   ; comment (also '#' in the CONFIG part)
 *   server:                          optional, ignored
 *       qname-minimisation: yes|no   (engine default: yes)
 *       root-hint: NAME ADDR         a root server (repeatable)
 *       stub-zone: / name: "." / stub-addr: ADDR   Unbound's way, same thing
 *       allow-private: yes|no        (default yes here: we use test nets)
 *       resolve-timeout: MS          whole request (conf.timeout_ms)
 *       upstream-timeout: MS         first try to an unknown server
 *       max-queries / max-depth / max-cname / max-ns-names /
 *       max-subquery-depth / edns-size: N
 *       infra-rtt: ADDR MS           seed the infra cache (server order)
 *       forward-zone: NAME ADDR...   forward NAME to these upstreams
 *       forward-policy: rtt, sequential or random, for the last zone
 *       forward-tcp: yes|no, for the last forward-zone
 *   CONFIG_END
 *   SCENARIO_BEGIN text
 *   RANGE_BEGIN first last           canned answers, used while the QUERY
 *       ADDRESS ADDR                 step number is in [first, last]; only
 *       ENTRY_BEGIN ... ENTRY_END    for these servers (none: any server)
 *   RANGE_END
 *   STEP n QUERY            + ENTRY with SECTION QUESTION: name [IN] type;
 *                             resolves it to the end, right away
 *   STEP n CHECK_ANSWER     + ENTRY: rcode from REPLY, SECTION ANSWER and
 *                             AUTHORITY compared as sets ignoring order and
 *                             TTL (MATCH ttl: TTLs too); other flags ignored
 *   STEP n TIME_PASSES ELAPSE SECONDS
 *   STEP n CHECK_TRACE      + lines up to TRACE_END (see below)
 *   STEP n CHECK_EDE CODE|none       EDE of the last answer
 *   STEP n CHECK_REASON TEXT         the failure reason contains TEXT
 *   STEP n CHECK_QUERIES N           upstream queries of the last QUERY;
 *                                    0 also requires result.from_cache
 *   STEP n CHECK_ELAPSED MS          the last QUERY took at most MS
 *                                    (fake) milliseconds
 *   SCENARIO_END
 *
 * An ENTRY of a RANGE:
 *   MATCH opcode qname qtype subdomain tcp udp edns noedns rd nord
 *         (qname: equal; subdomain: the query's name at or below the
 *         entry's; tcp/udp: transport; edns/noedns: OPT in the query;
 *         rd/nord: RD set or not in the query; no
 *         MATCH line: any query)
 *   ADJUST copy_id copy_query wrong_question
 *         (the ID is always copied; copy_query, or no QUESTION section:
 *         the reply echoes the query's question; wrong_question: it asks
 *         for "spoofed.<qname>" instead)
 *   REPLY QR AA TC RD RA AD CD NOERROR|FORMERR|SERVFAIL|NXDOMAIN|NOTIMP|
 *         REFUSED, or TIMEOUT: the server never answers
 *   SECTION QUESTION|ANSWER|AUTHORITY|ADDITIONAL, then RRs
 * The first matching entry (in file order) answers after 10 ms; no match
 * is a timeout: the fake clock advances by the query's timeout.
 *
 * CHECK_TRACE lines are matched in order as a subsequence of the last
 * request's trace events; "no LINE" means no event matches LINE anywhere.
 * A line is an event kind (md_trace_kind_str) and positional fields, '*'
 * for any, missing trailing fields match anything:
 *   send|server ADDR QNAME QTYPE tcp|udp   (QNAME as sent: minimised)
 *   reply CLASS ADDR QNAME QTYPE           (CLASS: md_reply_class_str)
 *   timeout|net-error ADDR
 *   referral|delegation ZONE    cname TARGET    subquery NSNAME
 *   start QNAME QTYPE           done RCODE
 *   fail|cache-hit|tcp-retry|edns-fallback TEXT  (TEXT: in the reason)
 * A line with more fields than its kind has, or an unknown kind, is an
 * error.  On a mismatch the whole trace is printed in this syntax.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "minidns/cache.h"
#include "minidns/driver.h"
#include "minidns/ldns_bridge.h"
#include "minidns/resolve.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "src/resolve/resolve-internal.h"

#ifndef MD_REPLAY_DIR
#define MD_REPLAY_DIR "tests/replay/scenarios"
#endif

#define T0 1000000000ull /* fake clock start, ms */
#define REPLY_RTT 10	 /* ms a canned answer takes */
#define MAX_LINES 20000	 /* per scenario file */
#define MAX_RR 64	 /* per section of an entry */
#define MAX_ADDRS 16	 /* ADDRESS lines per range */
#define MAX_ENTRIES 256	 /* per range */
#define MAX_RANGES 64
#define MAX_STEPS 256
#define MAX_TLINES 128 /* lines of one CHECK_TRACE */
#define MAX_SENDS 2000 /* upstream queries of one QUERY step */
#define MAX_TOKENS 16
#define MAX_EVENTS 100000 /* trace events looked at */
#define MAX_SCENARIOS 512

/* ---- the scenario ------------------------------------------------------ */

struct rpl_rr {
	uint8_t owner[MD_NAME_MAX];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[512 + 64]; /* plenty for test data */
};

struct rpl_entry {
	unsigned line;
	bool any; /* no MATCH line */
	bool m_qname, m_qtype, m_subdomain, m_tcp, m_udp, m_edns, m_noedns;
	bool m_rd, m_nord;
	bool m_ttl; /* CHECK_ANSWER: compare TTLs */
	bool copy_query, wrong_question;
	bool timeout;
	uint16_t flags;
	int rcode;
	bool has_question;
	uint8_t qname[MD_NAME_MAX];
	uint16_t qtype;
	struct rpl_rr *rrs[4]; /* by enum md_section (QUESTION unused) */
	size_t nrr[4];
};

struct rpl_range {
	unsigned first, last;
	struct md_sockaddr addrs[MAX_ADDRS];
	size_t naddrs;
	struct rpl_entry *entries[MAX_ENTRIES];
	size_t nentries;
};

enum step_kind {
	STEP_QUERY,
	STEP_CHECK_ANSWER,
	STEP_TIME_PASSES,
	STEP_CHECK_TRACE,
	STEP_CHECK_EDE,
	STEP_CHECK_REASON,
	STEP_CHECK_QUERIES,
	STEP_CHECK_ELAPSED,
};

struct rpl_tline {
	unsigned line;
	char *text;
};

struct rpl_step {
	unsigned num, line;
	enum step_kind kind;
	struct rpl_entry *entry;
	long long value;
	char *text;
	struct rpl_tline tlines[MAX_TLINES];
	size_t ntlines;
};

struct scenario {
	char path[1024];
	const char *name; /* file name, for messages */
	FILE *fp;
	char *linebuf;
	size_t linecap;
	unsigned lineno;
	char line[4096];

	struct md_resolve_conf conf;
	struct rpl_range *ranges[MAX_RANGES];
	size_t nranges;
	struct rpl_step *steps[MAX_STEPS];
	size_t nsteps;

	/* the run */
	uint64_t clock_ms;
	struct md_cache *cache;
	struct md_infra *infra;
	struct md_resolve_env env;
	struct md_request *req; /* the last QUERY's request */
	unsigned cur_step;
	unsigned sends;
	bool done; /* the driver said the request is done */
	bool verbose;
	struct md_arena arena; /* parsing queries */
};

static void scenario_fail(const struct scenario *sc, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fail the running test at file:line of the scenario. */
static void
scenario_fail(const struct scenario *sc, unsigned line, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail_msg("%s:%u: %s", sc->path, line, buf);
}

/* ---- reading lines ----------------------------------------------------- */

/* Drop a ';' comment (outside quotes) and surrounding blanks. */
static void
clean_line(char *s, bool hash_comments)
{
	bool quoted = false;
	size_t n;
	char *p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted &&
		    (*p == ';' || (hash_comments && *p == '#'))) {
			*p = '\0';
			break;
		}
	}
	n = strlen(s);
	while (n > 0 &&
	    (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		s[n - 1] == '\r'))
		s[--n] = '\0';
	p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(s, p, strlen(p) + 1);
}

/* The next non-empty line into sc->line; false at the end of the file. */
static bool
next_line(struct scenario *sc, bool hash_comments)
{
	for (unsigned i = 0; i < MAX_LINES; i++) {
		ssize_t n = getline(&sc->linebuf, &sc->linecap, sc->fp);

		if (n < 0)
			return false;
		sc->lineno++;
		if ((size_t)n >= sizeof(sc->line))
			scenario_fail(sc, sc->lineno, "line too long");
		memcpy(sc->line, sc->linebuf, (size_t)n + 1);
		clean_line(sc->line, hash_comments);
		if (sc->line[0] != '\0')
			return true;
	}
	scenario_fail(sc, sc->lineno, "file too long");
	return false;
}

/* Split s (modified) on blanks; returns the number of tokens. */
static size_t
split(char *s, char **tok, size_t max)
{
	size_t n = 0;
	char *p = s;

	while (*p != '\0' && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		tok[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	return n;
}

static long long
parse_num(struct scenario *sc, const char *s, long long min, long long max)
{
	long long v;

	if (md_parse_int(s, min, max, &v) != 0)
		scenario_fail(sc, sc->lineno,
		    "'%s' is not a number in [%lld, %lld]", s, min, max);
	return v;
}

static bool
parse_yesno(struct scenario *sc, const char *s)
{
	bool v = false;

	if (md_parse_bool(s, &v) != 0)
		scenario_fail(sc, sc->lineno, "'%s' is not yes or no", s);
	return v;
}

static void
parse_addr(struct scenario *sc, const char *s, struct md_sockaddr *sa)
{
	if (md_sockaddr_parse(s, 53, sa) != 0)
		scenario_fail(sc, sc->lineno, "bad address '%s'", s);
}

static void
parse_name(struct scenario *sc, const char *s, uint8_t *name)
{
	if (md_name_from_str(s, NULL, name) < 0)
		scenario_fail(sc, sc->lineno, "bad name '%s'", s);
}

static uint16_t
parse_type(struct scenario *sc, const char *s)
{
	uint16_t t = 0;

	if (md_ldns_type_parse(s, &t) != 0)
		scenario_fail(sc, sc->lineno, "bad type '%s'", s);
	return t;
}

/* "192.0.2.1" for port 53, else "192.0.2.1:5300"; IPv6 unbracketed. */
static const char *
addr_str(const struct md_sockaddr *sa, char *buf, size_t size)
{
	char tmp[MD_SOCKADDR_STRLEN];
	size_t n;

	md_sockaddr_str(sa, tmp, sizeof(tmp));
	n = strlen(tmp);
	if (n > 3 && strcmp(tmp + n - 3, ":53") == 0) {
		tmp[n - 3] = '\0';
		if (tmp[0] == '[' && tmp[n - 4] == ']') {
			tmp[n - 4] = '\0';
			md_strlcpy(buf, tmp + 1, size);
			return buf;
		}
	}
	md_strlcpy(buf, tmp, size);
	return buf;
}

/* ---- CONFIG ------------------------------------------------------------ */

static void
add_hint(struct scenario *sc, const uint8_t *name, const char *addr)
{
	struct md_root_hint *h;

	if (sc->conf.nhints >= MD_ROOT_HINTS_MAX)
		scenario_fail(sc, sc->lineno, "too many root hints");
	h = &sc->conf.hints[sc->conf.nhints++];
	memcpy(h->name, name, md_name_len(name));
	parse_addr(sc, addr, &h->addr);
}

static void
parse_config(struct scenario *sc)
{
	for (unsigned i = 0; i < MAX_LINES; i++) {
		char *tok[MAX_TOKENS];
		size_t n;
		char *key;

		if (!next_line(sc, true))
			scenario_fail(sc, sc->lineno, "no CONFIG_END");
		if (strcmp(sc->line, "CONFIG_END") == 0)
			return;
		n = split(sc->line, tok, MAX_TOKENS);
		key = tok[0];
		if (strcmp(key, "server:") == 0 ||
		    strcmp(key, "stub-zone:") == 0)
			continue;
		if (n < 2)
			scenario_fail(sc, sc->lineno, "%s: no value", key);
		if (strcmp(key, "name:") == 0) {
			if (strcmp(tok[1], "\".\"") != 0 &&
			    strcmp(tok[1], ".") != 0)
				scenario_fail(sc, sc->lineno,
				    "name: only the root stub zone is supported");
		} else if (strcmp(key, "stub-addr:") == 0) {
			uint8_t root = 0;

			add_hint(sc, &root, tok[1]);
		} else if (strcmp(key, "root-hint:") == 0) {
			uint8_t name[MD_NAME_MAX];

			if (n < 3)
				scenario_fail(sc, sc->lineno,
				    "root-hint: NAME ADDR expected");
			parse_name(sc, tok[1], name);
			add_hint(sc, name, tok[2]);
		} else if (strcmp(key, "forward-zone:") == 0) {
			struct md_forward_zone *f;

			if (n < 3 || sc->conf.nforward >= MD_FORWARD_ZONES_MAX)
				scenario_fail(sc, sc->lineno,
				    "forward-zone: NAME ADDR... expected");
			f = &sc->conf.forward[sc->conf.nforward++];
			memset(f, 0, sizeof(*f));
			parse_name(sc, tok[1], f->zone);
			for (size_t k = 2;
			     k < n && f->nservers < MD_FORWARD_SERVERS_MAX;
			     k++) {
				if (md_upstream_parse(tok[k],
					&f->servers[f->nservers++]) != 0)
					scenario_fail(sc, sc->lineno,
					    "bad upstream '%s'", tok[k]);
			}
		} else if (strcmp(key, "forward-policy:") == 0 ||
		    strcmp(key, "forward-tcp:") == 0) {
			struct md_forward_zone *f;

			if (sc->conf.nforward == 0)
				scenario_fail(sc, sc->lineno,
				    "%s after a forward-zone: line", key);
			f = &sc->conf.forward[sc->conf.nforward - 1];
			if (strcmp(key, "forward-tcp:") == 0)
				f->force_tcp = parse_yesno(sc, tok[1]);
			else if (strcmp(tok[1], "sequential") == 0)
				f->policy = MD_FORWARD_SEQUENTIAL;
			else if (strcmp(tok[1], "random") == 0)
				f->policy = MD_FORWARD_RANDOM;
			else if (strcmp(tok[1], "rtt") == 0)
				f->policy = MD_FORWARD_RTT;
			else
				scenario_fail(sc, sc->lineno,
				    "forward-policy: rtt|sequential|random");
		} else if (strcmp(key, "qname-minimisation:") == 0) {
			sc->conf.qname_minimisation = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "allow-private:") == 0) {
			sc->conf.allow_private = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "resolve-timeout:") == 0) {
			sc->conf.timeout_ms =
			    (uint32_t)parse_num(sc, tok[1], 1, 3600000);
		} else if (strcmp(key, "upstream-timeout:") == 0) {
			sc->conf.upstream_timeout_ms =
			    (uint32_t)parse_num(sc, tok[1], 1, 3600000);
		} else if (strcmp(key, "max-queries:") == 0) {
			sc->conf.max_queries =
			    (unsigned)parse_num(sc, tok[1], 0, 100000);
		} else if (strcmp(key, "max-depth:") == 0) {
			sc->conf.max_depth =
			    (unsigned)parse_num(sc, tok[1], 0, 1000);
		} else if (strcmp(key, "max-cname:") == 0) {
			sc->conf.max_cname =
			    (unsigned)parse_num(sc, tok[1], 0, 1000);
		} else if (strcmp(key, "max-ns-names:") == 0) {
			sc->conf.max_ns_names =
			    (unsigned)parse_num(sc, tok[1], 0, 1000);
		} else if (strcmp(key, "max-subquery-depth:") == 0) {
			sc->conf.max_subquery_depth =
			    (unsigned)parse_num(sc, tok[1], 0, 1000);
		} else if (strcmp(key, "edns-size:") == 0) {
			sc->conf.edns_size =
			    (uint16_t)parse_num(sc, tok[1], 512, 65535);
		} else if (strcmp(key, "infra-rtt:") == 0) {
			struct md_sockaddr sa;

			if (n < 3)
				scenario_fail(sc, sc->lineno,
				    "infra-rtt: ADDR MS expected");
			parse_addr(sc, tok[1], &sa);
			md_infra_rtt(sc->infra, &sa,
			    (uint32_t)parse_num(sc, tok[2], 0, 100000),
			    sc->clock_ms);
		} else {
			scenario_fail(
			    sc, sc->lineno, "unknown option '%s'", key);
		}
	}
}

/* ---- ENTRY ------------------------------------------------------------- */

static void
entry_free(struct rpl_entry *e)
{
	if (e == NULL)
		return;
	for (int i = 0; i < 4; i++)
		free(e->rrs[i]);
	free(e);
}

static void
parse_match(struct scenario *sc, struct rpl_entry *e, char **tok, size_t n)
{
	e->any = false;
	for (size_t i = 1; i < n; i++) {
		const char *t = tok[i];

		if (strcasecmp(t, "opcode") == 0 || strcasecmp(t, "all") == 0)
			continue; /* we only send standard queries */
		if (strcasecmp(t, "qname") == 0)
			e->m_qname = true;
		else if (strcasecmp(t, "qtype") == 0)
			e->m_qtype = true;
		else if (strcasecmp(t, "subdomain") == 0)
			e->m_subdomain = true;
		else if (strcasecmp(t, "tcp") == 0)
			e->m_tcp = true;
		else if (strcasecmp(t, "udp") == 0)
			e->m_udp = true;
		else if (strcasecmp(t, "edns") == 0)
			e->m_edns = true;
		else if (strcasecmp(t, "noedns") == 0)
			e->m_noedns = true;
		else if (strcasecmp(t, "ttl") == 0)
			e->m_ttl = true;
		else if (strcasecmp(t, "rd") == 0)
			e->m_rd = true;
		else if (strcasecmp(t, "nord") == 0)
			e->m_nord = true;
		else
			scenario_fail(sc, sc->lineno, "unknown MATCH '%s'", t);
	}
}

static void
parse_adjust(struct scenario *sc, struct rpl_entry *e, char **tok, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const char *t = tok[i];

		if (strcasecmp(t, "copy_id") == 0)
			continue; /* always done */
		if (strcasecmp(t, "copy_query") == 0)
			e->copy_query = true;
		else if (strcasecmp(t, "wrong_question") == 0)
			e->wrong_question = true;
		else
			scenario_fail(sc, sc->lineno, "unknown ADJUST '%s'", t);
	}
}

static void
parse_reply(struct scenario *sc, struct rpl_entry *e, char **tok, size_t n)
{
	static const struct {
		const char *word;
		uint16_t flag;
	} flags[] = {
	    {"QR", MD_FLAG_QR},
	    {"AA", MD_FLAG_AA},
	    {"TC", MD_FLAG_TC},
	    {"RD", MD_FLAG_RD},
	    {"RA", MD_FLAG_RA},
	    {"AD", MD_FLAG_AD},
	    {"CD", MD_FLAG_CD},
	};
	static const struct {
		const char *word;
		int rcode;
	} rcodes[] = {
	    {"NOERROR", MD_RCODE_NOERROR},
	    {"FORMERR", MD_RCODE_FORMERR},
	    {"SERVFAIL", MD_RCODE_SERVFAIL},
	    {"NXDOMAIN", MD_RCODE_NXDOMAIN},
	    {"NOTIMP", MD_RCODE_NOTIMP},
	    {"REFUSED", MD_RCODE_REFUSED},
	};

	for (size_t i = 1; i < n; i++) {
		bool known = false;

		if (strcasecmp(tok[i], "TIMEOUT") == 0) {
			e->timeout = true;
			continue;
		}
		for (size_t j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
			if (strcasecmp(tok[i], flags[j].word) == 0) {
				e->flags |= flags[j].flag;
				known = true;
			}
		}
		for (size_t j = 0; j < sizeof(rcodes) / sizeof(rcodes[0]);
		     j++) {
			if (strcasecmp(tok[i], rcodes[j].word) == 0) {
				e->rcode = rcodes[j].rcode;
				known = true;
			}
		}
		if (!known)
			scenario_fail(
			    sc, sc->lineno, "unknown REPLY '%s'", tok[i]);
	}
}

static void
parse_question(struct scenario *sc, struct rpl_entry *e)
{
	char copy[sizeof(sc->line)];
	char *tok[MAX_TOKENS];
	size_t n;

	if (e->has_question)
		scenario_fail(sc, sc->lineno, "one question only");
	md_strlcpy(copy, sc->line, sizeof(copy));
	n = split(copy, tok, MAX_TOKENS);
	if (n == 3 && strcasecmp(tok[1], "IN") == 0) {
		tok[1] = tok[2];
		n = 2;
	}
	if (n != 2)
		scenario_fail(sc, sc->lineno, "question: NAME [IN] TYPE");
	parse_name(sc, tok[0], e->qname);
	e->qtype = parse_type(sc, tok[1]);
	e->has_question = true;
}

static void
parse_rr(struct scenario *sc, struct rpl_entry *e, enum md_section sec)
{
	struct md_flat_rr *flat;
	struct rpl_rr *rr;
	char err[256];

	if (e->nrr[sec] >= MAX_RR)
		scenario_fail(sc, sc->lineno, "too many records in a section");
	if (e->rrs[sec] == NULL) {
		e->rrs[sec] = calloc(MAX_RR, sizeof(struct rpl_rr));
		assert_non_null(e->rrs[sec]);
	}
	flat = malloc(sizeof(*flat));
	assert_non_null(flat);
	if (md_ldns_rr_from_str(sc->line, NULL, 3600, flat, err, sizeof(err)) !=
	    0) {
		free(flat);
		scenario_fail(sc, sc->lineno, "bad record: %s", err);
	}
	if (flat->rdlen > sizeof(rr->rdata)) {
		free(flat);
		scenario_fail(sc, sc->lineno, "record too long for a test");
	}
	rr = &e->rrs[sec][e->nrr[sec]++];
	memcpy(rr->owner, flat->owner, md_name_len(flat->owner));
	rr->type = flat->type;
	rr->rclass = flat->rclass;
	rr->ttl = flat->ttl;
	rr->rdlen = flat->rdlen;
	memcpy(rr->rdata, flat->rdata, flat->rdlen);
	free(flat);
}

/* ENTRY_BEGIN was read; read up to ENTRY_END. */
static struct rpl_entry *
parse_entry(struct scenario *sc)
{
	struct rpl_entry *e = calloc(1, sizeof(*e));
	int sec = -1;

	assert_non_null(e);
	e->line = sc->lineno;
	e->any = true;
	for (unsigned i = 0; i < MAX_LINES; i++) {
		char copy[sizeof(sc->line)];
		char *tok[MAX_TOKENS];
		size_t n;

		if (!next_line(sc, false)) {
			entry_free(e);
			scenario_fail(sc, sc->lineno, "no ENTRY_END");
		}
		md_strlcpy(copy, sc->line, sizeof(copy));
		n = split(copy, tok, MAX_TOKENS);
		if (strcmp(tok[0], "ENTRY_END") == 0)
			return e;
		if (strcmp(tok[0], "MATCH") == 0) {
			parse_match(sc, e, tok, n);
		} else if (strcmp(tok[0], "ADJUST") == 0) {
			parse_adjust(sc, e, tok, n);
		} else if (strcmp(tok[0], "REPLY") == 0) {
			parse_reply(sc, e, tok, n);
		} else if (strcmp(tok[0], "SECTION") == 0) {
			if (n != 2)
				scenario_fail(sc, sc->lineno, "SECTION NAME");
			if (strcasecmp(tok[1], "QUESTION") == 0)
				sec = MD_SECTION_QUESTION;
			else if (strcasecmp(tok[1], "ANSWER") == 0)
				sec = MD_SECTION_ANSWER;
			else if (strcasecmp(tok[1], "AUTHORITY") == 0)
				sec = MD_SECTION_AUTHORITY;
			else if (strcasecmp(tok[1], "ADDITIONAL") == 0)
				sec = MD_SECTION_ADDITIONAL;
			else
				scenario_fail(sc, sc->lineno,
				    "unknown section '%s'", tok[1]);
		} else if (sec == MD_SECTION_QUESTION) {
			parse_question(sc, e);
		} else if (sec > 0) {
			parse_rr(sc, e, (enum md_section)sec);
		} else {
			scenario_fail(
			    sc, sc->lineno, "unexpected '%s'", tok[0]);
		}
	}
	scenario_fail(sc, sc->lineno, "entry too long");
	return NULL;
}

/* The next line must be ENTRY_BEGIN; parse that entry. */
static struct rpl_entry *
expect_entry(struct scenario *sc)
{
	if (!next_line(sc, false) || strcmp(sc->line, "ENTRY_BEGIN") != 0)
		scenario_fail(sc, sc->lineno, "ENTRY_BEGIN expected");
	return parse_entry(sc);
}

/* ---- RANGE and STEP ---------------------------------------------------- */

static void
parse_range(struct scenario *sc, char **tok, size_t n)
{
	struct rpl_range *r;

	if (n != 3)
		scenario_fail(sc, sc->lineno, "RANGE_BEGIN FIRST LAST");
	if (sc->nranges >= MAX_RANGES)
		scenario_fail(sc, sc->lineno, "too many ranges");
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	sc->ranges[sc->nranges++] = r;
	r->first = (unsigned)parse_num(sc, tok[1], 0, 1000000);
	r->last = (unsigned)parse_num(sc, tok[2], 0, 1000000);
	for (unsigned i = 0; i < MAX_LINES; i++) {
		char copy[sizeof(sc->line)];
		char *t[MAX_TOKENS];
		size_t k;

		if (!next_line(sc, false))
			scenario_fail(sc, sc->lineno, "no RANGE_END");
		md_strlcpy(copy, sc->line, sizeof(copy));
		k = split(copy, t, MAX_TOKENS);
		if (strcmp(t[0], "RANGE_END") == 0)
			return;
		if (strcmp(t[0], "ADDRESS") == 0 && k == 2) {
			if (r->naddrs >= MAX_ADDRS)
				scenario_fail(
				    sc, sc->lineno, "too many ADDRESS");
			parse_addr(sc, t[1], &r->addrs[r->naddrs++]);
		} else if (strcmp(t[0], "ENTRY_BEGIN") == 0) {
			struct rpl_entry *e;

			if (r->nentries >= MAX_ENTRIES)
				scenario_fail(
				    sc, sc->lineno, "too many entries");
			e = parse_entry(sc);
			r->entries[r->nentries++] = e;
			if ((e->m_qname || e->m_subdomain || e->m_qtype) &&
			    !e->has_question)
				scenario_fail(sc, e->line,
				    "MATCH qname/qtype needs a QUESTION");
		} else {
			scenario_fail(
			    sc, sc->lineno, "unexpected '%s' in RANGE", t[0]);
		}
	}
}

static void
parse_trace_lines(struct scenario *sc, struct rpl_step *st)
{
	for (unsigned i = 0; i < MAX_LINES; i++) {
		if (!next_line(sc, false))
			scenario_fail(sc, sc->lineno, "no TRACE_END");
		if (strcmp(sc->line, "TRACE_END") == 0)
			return;
		if (st->ntlines >= MAX_TLINES)
			scenario_fail(sc, sc->lineno, "CHECK_TRACE too long");
		st->tlines[st->ntlines].line = sc->lineno;
		st->tlines[st->ntlines].text = strdup(sc->line);
		assert_non_null(st->tlines[st->ntlines].text);
		st->ntlines++;
	}
}

static void
parse_step(struct scenario *sc, char **tok, size_t n, const char *rest)
{
	struct rpl_step *st;

	if (n < 3)
		scenario_fail(sc, sc->lineno, "STEP N KIND");
	if (sc->nsteps >= MAX_STEPS)
		scenario_fail(sc, sc->lineno, "too many steps");
	st = calloc(1, sizeof(*st));
	assert_non_null(st);
	sc->steps[sc->nsteps++] = st;
	st->line = sc->lineno;
	st->num = (unsigned)parse_num(sc, tok[1], 0, 1000000);
	if (sc->nsteps > 1 && sc->steps[sc->nsteps - 2]->num >= st->num)
		scenario_fail(sc, sc->lineno, "step numbers must increase");
	if (strcmp(tok[2], "QUERY") == 0) {
		st->kind = STEP_QUERY;
		st->entry = expect_entry(sc);
		if (!st->entry->has_question)
			scenario_fail(sc, st->line, "QUERY without a question");
	} else if (strcmp(tok[2], "CHECK_ANSWER") == 0) {
		st->kind = STEP_CHECK_ANSWER;
		st->entry = expect_entry(sc);
	} else if (strcmp(tok[2], "TIME_PASSES") == 0) {
		st->kind = STEP_TIME_PASSES;
		if (n != 5 || strcmp(tok[3], "ELAPSE") != 0)
			scenario_fail(
			    sc, sc->lineno, "TIME_PASSES ELAPSE SECONDS");
		st->value = parse_num(sc, tok[4], 0, 100000000);
	} else if (strcmp(tok[2], "CHECK_TRACE") == 0) {
		st->kind = STEP_CHECK_TRACE;
		parse_trace_lines(sc, st);
	} else if (strcmp(tok[2], "CHECK_EDE") == 0 && n == 4) {
		st->kind = STEP_CHECK_EDE;
		st->value = strcasecmp(tok[3], "none") == 0
		    ? MD_EDE_NONE
		    : parse_num(sc, tok[3], 0, 65535);
	} else if (strcmp(tok[2], "CHECK_QUERIES") == 0 && n == 4) {
		st->kind = STEP_CHECK_QUERIES;
		st->value = parse_num(sc, tok[3], 0, 100000);
	} else if (strcmp(tok[2], "CHECK_ELAPSED") == 0 && n == 4) {
		st->kind = STEP_CHECK_ELAPSED;
		st->value = parse_num(sc, tok[3], 0, 100000000);
	} else if (strcmp(tok[2], "CHECK_REASON") == 0 && n >= 4) {
		st->kind = STEP_CHECK_REASON;
		st->text = strdup(rest);
		assert_non_null(st->text);
	} else {
		scenario_fail(sc, sc->lineno, "unknown step '%s'", tok[2]);
	}
}

/* The text after the first 'skip' words of a line. */
static const char *
after_words(const char *s, unsigned skip)
{
	for (unsigned i = 0; i < skip; i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static void
parse_scenario(struct scenario *sc)
{
	bool begun = false;

	sc->fp = fopen(sc->path, "r");
	if (sc->fp == NULL)
		fail_msg("%s: cannot open", sc->path);
	for (unsigned i = 0; i < MAX_LINES; i++) {
		char copy[sizeof(sc->line)];
		char *tok[MAX_TOKENS];
		size_t n;

		if (!next_line(sc, !begun))
			scenario_fail(sc, sc->lineno, "no SCENARIO_END");
		md_strlcpy(copy, sc->line, sizeof(copy));
		n = split(copy, tok, MAX_TOKENS);
		if (!begun && strcmp(tok[0], "SCENARIO_BEGIN") != 0) {
			/* Everything before SCENARIO_BEGIN is configuration;
			 * the first line that is not starts it. */
			rewind(sc->fp);
			sc->lineno = 0;
			parse_config(sc);
			if (!next_line(sc, false) ||
			    strncmp(sc->line, "SCENARIO_BEGIN", 14) != 0)
				scenario_fail(
				    sc, sc->lineno, "SCENARIO_BEGIN expected");
			begun = true;
			continue;
		}
		if (strcmp(tok[0], "SCENARIO_BEGIN") == 0) {
			if (begun)
				scenario_fail(
				    sc, sc->lineno, "two SCENARIO_BEGIN");
			begun = true;
		} else if (strcmp(tok[0], "SCENARIO_END") == 0) {
			if (sc->conf.nhints == 0)
				scenario_fail(sc, 1, "no root hints in CONFIG");
			return;
		} else if (strcmp(tok[0], "RANGE_BEGIN") == 0) {
			parse_range(sc, tok, n);
		} else if (strcmp(tok[0], "STEP") == 0) {
			parse_step(sc, tok, n, after_words(sc->line, 3));
		} else {
			scenario_fail(
			    sc, sc->lineno, "unexpected '%s'", tok[0]);
		}
	}
}

/* ---- the fake network -------------------------------------------------- */

static uint64_t
fake_now_cb(void *arg)
{
	const struct scenario *sc = arg;

	return sc->clock_ms;
}

static bool
same_addr(const struct md_sockaddr *a, const struct md_sockaddr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static bool
entry_matches(const struct rpl_entry *e, const struct md_msg *q, bool tcp)
{
	if (e->any)
		return true;
	if (e->m_qname && !md_name_equal(q->qname, e->qname))
		return false;
	if (e->m_subdomain && !md_name_is_subdomain(q->qname, e->qname))
		return false;
	if (e->m_qtype && q->qtype != e->qtype)
		return false;
	if ((e->m_tcp && !tcp) || (e->m_udp && tcp))
		return false;
	if ((e->m_edns && !q->edns.present) || (e->m_noedns && q->edns.present))
		return false;
	if ((e->m_rd && !(q->hdr.flags & MD_FLAG_RD)) ||
	    (e->m_nord && (q->hdr.flags & MD_FLAG_RD)))
		return false;
	return true;
}

static const struct rpl_entry *
find_entry(const struct scenario *sc, const struct md_sockaddr *server,
    const struct md_msg *q, bool tcp)
{
	for (size_t i = 0; i < sc->nranges; i++) {
		const struct rpl_range *r = sc->ranges[i];
		bool here = r->naddrs == 0;

		if (sc->cur_step < r->first || sc->cur_step > r->last)
			continue;
		for (size_t j = 0; j < r->naddrs; j++)
			here |= same_addr(&r->addrs[j], server);
		if (!here)
			continue;
		for (size_t j = 0; j < r->nentries; j++) {
			if (entry_matches(r->entries[j], q, tcp))
				return r->entries[j];
		}
	}
	return NULL;
}

/* The canned reply of e to query q, into buf; returns its length. */
static size_t
build_reply(const struct scenario *sc, const struct rpl_entry *e,
    const struct md_msg *q, uint8_t *buf, size_t cap)
{
	struct md_wire_writer w;
	uint8_t qname[MD_NAME_MAX];
	uint16_t qtype = q->qtype;

	md_wire_writer_init(&w, buf, cap);
	memcpy(qname, q->qname, md_name_len(q->qname));
	if (e->has_question && !e->copy_query) {
		memcpy(qname, e->qname, md_name_len(e->qname));
		qtype = e->qtype;
	}
	if (e->wrong_question) {
		/* Another question, as a spoofed or stray reply would have. */
		static const uint8_t label[] = "\7spoofed";
		size_t len = md_name_len(qname);

		if (len + 8 <= MD_NAME_MAX) {
			memmove(qname + 8, qname, len);
			memcpy(qname, label, 8);
		}
	}
	if (md_wire_write_header(
		&w, q->hdr.id, (uint16_t)(e->flags | (e->rcode & 0xf))) != 0 ||
	    md_wire_write_question(&w, qname, qtype, MD_CLASS_IN) != 0)
		scenario_fail(sc, e->line, "reply does not fit");
	for (int s = MD_SECTION_ANSWER; s <= MD_SECTION_ADDITIONAL; s++) {
		for (size_t i = 0; i < e->nrr[s]; i++) {
			const struct rpl_rr *rr = &e->rrs[s][i];

			if (md_wire_write_rr(&w, (enum md_section)s, rr->owner,
				rr->type, rr->rclass, rr->ttl, rr->rdata,
				rr->rdlen) != 0)
				scenario_fail(
				    sc, e->line, "reply does not fit");
		}
	}
	return md_wire_writer_finish(&w);
}

/*
 * The fake network, as the engine driver's transport: one upstream query
 * answered from the scenario at once, or timed out (the fake clock moves
 * on by the query's timeout).  The callback comes from inside send(); the
 * driver copes with that.
 */
static void *
exchange(void *arg, const struct md_send *send, md_net_cb cb, void *cb_arg)
{
	struct scenario *sc = arg;
	const struct rpl_entry *e = NULL;
	char abuf[MD_SOCKADDR_STRLEN], nbuf[MD_NAME_STRLEN], tbuf[16];
	uint8_t reply[MD_WIRE_MAX];
	uint8_t query[MD_WIRE_MAX];
	struct md_msg q;
	size_t len;

	sc->sends++;
	assert_true(send->len <= sizeof(query));
	memcpy(query, send->query, send->len);
	md_arena_deinit(&sc->arena);
	md_arena_init(&sc->arena, 8192);
	if (md_msg_parse(query, send->len, &sc->arena, &q) != 0 ||
	    !q.has_question)
		fail_msg("%s: the engine sent a malformed query", sc->path);
	if (q.hdr.flags & MD_FLAG_QR)
		fail_msg("%s: the engine sent a query with QR set", sc->path);
	e = find_entry(sc, &send->server, &q, send->tcp);
	if (sc->verbose) {
		md_name_to_str(q.qname, nbuf, sizeof(nbuf));
		fprintf(stderr, "  -> %s %s %s %s%s: %s (line %u)\n",
		    addr_str(&send->server, abuf, sizeof(abuf)), nbuf,
		    md_ldns_type_str(q.qtype, tbuf, sizeof(tbuf)),
		    send->tcp ? "tcp" : "udp", q.edns.present ? " edns" : "",
		    e == NULL	     ? "no entry: timeout"
			: e->timeout ? "TIMEOUT"
				     : "answered",
		    e != NULL ? e->line : 0);
	}
	if (e == NULL || e->timeout) {
		sc->clock_ms += send->timeout_ms;
		cb(cb_arg, MD_NET_TIMEOUT, NULL, 0, send->timeout_ms);
		return sc;
	}
	len = build_reply(sc, e, &q, reply, sizeof(reply));
	sc->clock_ms += REPLY_RTT;
	cb(cb_arg, MD_NET_OK, reply, len, REPLY_RTT);
	return sc;
}

static void
exchange_cancel(void *arg, void *handle)
{
	(void)arg;
	(void)handle;
}

static void
query_done(void *arg)
{
	struct scenario *sc = arg;

	sc->done = true;
}

/* ---- trace events as text ---------------------------------------------- */

/* The fields of an event, as CHECK_TRACE lines name them. */
static size_t
event_fields(
    const struct md_trace_event *ev, char f[][MD_NAME_STRLEN], size_t max)
{
	size_t n = 0;

	(void)max;
	md_strlcpy(f[n++], md_trace_kind_str(ev->kind), MD_NAME_STRLEN);
	switch (ev->kind) {
	case MD_TRACE_SEND:
	case MD_TRACE_SERVER:
		addr_str(&ev->server, f[n++], MD_NAME_STRLEN);
		md_name_to_str(ev->qname, f[n++], MD_NAME_STRLEN);
		md_ldns_type_str(ev->qtype, f[n++], MD_NAME_STRLEN);
		md_strlcpy(f[n++], ev->tcp ? "tcp" : "udp", MD_NAME_STRLEN);
		break;
	case MD_TRACE_REPLY:
		md_strlcpy(
		    f[n++], md_reply_class_str(ev->reply), MD_NAME_STRLEN);
		addr_str(&ev->server, f[n++], MD_NAME_STRLEN);
		md_name_to_str(ev->qname, f[n++], MD_NAME_STRLEN);
		md_ldns_type_str(ev->qtype, f[n++], MD_NAME_STRLEN);
		break;
	case MD_TRACE_TIMEOUT:
	case MD_TRACE_NET_ERROR:
		addr_str(&ev->server, f[n++], MD_NAME_STRLEN);
		break;
	case MD_TRACE_REFERRAL:
	case MD_TRACE_DELEGATION:
		md_name_to_str(ev->zone, f[n++], MD_NAME_STRLEN);
		break;
	case MD_TRACE_CNAME:
		md_name_to_str(ev->qname, f[n++], MD_NAME_STRLEN);
		break;
	case MD_TRACE_SUBQUERY:
		md_name_to_str(ev->server_name, f[n++], MD_NAME_STRLEN);
		break;
	case MD_TRACE_START:
		md_name_to_str(ev->qname, f[n++], MD_NAME_STRLEN);
		md_ldns_type_str(ev->qtype, f[n++], MD_NAME_STRLEN);
		break;
	case MD_TRACE_DONE:
		md_strlcpy(f[n++], md_rcode_str(ev->rcode), MD_NAME_STRLEN);
		break;
	default:
		break; /* text kinds: compared with 'why' */
	}
	return n;
}

static bool
text_kind(enum md_trace_kind k)
{
	return k == MD_TRACE_FAIL || k == MD_TRACE_CACHE_HIT ||
	    k == MD_TRACE_TCP_RETRY || k == MD_TRACE_EDNS_FALLBACK;
}

static void
print_event(const struct md_trace_event *ev, const char *prefix)
{
	char f[6][MD_NAME_STRLEN];
	size_t n = event_fields(ev, f, 6);

	fprintf(stderr, "%s%*s", prefix, (int)ev->depth * 2, "");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? " " : "", f[i]);
	if (ev->why != NULL)
		fprintf(stderr, "  (%s)", ev->why);
	fprintf(stderr, "\n");
}

static void
trace_cb(void *arg, const struct md_trace_event *ev)
{
	const struct scenario *sc = arg;

	if (sc->verbose)
		print_event(ev, "  trace: ");
}

/* Does the event match the pattern line (without a leading "no")? */
static bool
event_matches(const struct md_trace_event *ev, const char *pattern)
{
	char copy[1024];
	char *tok[MAX_TOKENS];
	char f[6][MD_NAME_STRLEN];
	size_t n, nf;

	md_strlcpy(copy, pattern, sizeof(copy));
	n = split(copy, tok, MAX_TOKENS);
	if (n == 0 || strcasecmp(tok[0], md_trace_kind_str(ev->kind)) != 0)
		return false;
	if (text_kind(ev->kind)) {
		const char *text = after_words(pattern, 1);

		return *text == '\0' ||
		    (ev->why != NULL && strstr(ev->why, text) != NULL);
	}
	nf = event_fields(ev, f, 6);
	for (size_t i = 1; i < n; i++) {
		struct md_sockaddr sa;
		char abuf[MD_SOCKADDR_STRLEN];
		const char *want = tok[i];

		if (strcmp(want, "*") == 0)
			continue;
		if (i >= nf)
			return false;
		/* Addresses in their canonical form. */
		if (strchr(want, '.') != NULL &&
		    want[strlen(want) - 1] != '.' &&
		    md_sockaddr_parse(want, 53, &sa) == 0)
			want = addr_str(&sa, abuf, sizeof(abuf));
		else if (strchr(want, ':') != NULL &&
		    md_sockaddr_parse(want, 53, &sa) == 0)
			want = addr_str(&sa, abuf, sizeof(abuf));
		if (strcasecmp(want, f[i]) != 0)
			return false;
	}
	return true;
}

/* A CHECK_TRACE line names a kind and at most that kind's fields. */
static void
check_pattern(
    const struct scenario *sc, const struct rpl_tline *tl, const char *p)
{
	static const struct {
		const char *kind;
		size_t fields; /* 0: free text follows */
	} kinds[] = {
	    {"start", 3},
	    {"cache-hit", 0},
	    {"delegation", 2},
	    {"server", 5},
	    {"send", 5},
	    {"reply", 5},
	    {"timeout", 2},
	    {"net-error", 2},
	    {"tcp-retry", 0},
	    {"edns-fallback", 0},
	    {"referral", 2},
	    {"cname", 2},
	    {"subquery", 2},
	    {"done", 2},
	    {"fail", 0},
	};
	char copy[1024];
	char *tok[MAX_TOKENS];
	size_t n;

	md_strlcpy(copy, p, sizeof(copy));
	n = split(copy, tok, MAX_TOKENS);
	for (size_t i = 0; n > 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcasecmp(tok[0], kinds[i].kind) != 0)
			continue;
		if (kinds[i].fields != 0 && n > kinds[i].fields)
			scenario_fail(sc, tl->line, "'%s': %s has %zu fields",
			    p, kinds[i].kind, kinds[i].fields - 1);
		return;
	}
	scenario_fail(sc, tl->line, "'%s': unknown event kind", p);
}

static void
dump_trace(const struct scenario *sc)
{
	unsigned i = 0;

	fprintf(stderr, "%s: the trace was:\n", sc->name);
	for (const struct md_trace_event *ev = md_resolve_trace(sc->req);
	     ev != NULL && i < MAX_EVENTS; ev = ev->next, i++)
		print_event(ev, "    ");
}

static void
check_trace(struct scenario *sc, const struct rpl_step *st)
{
	const struct md_trace_event *ev = md_resolve_trace(sc->req);
	unsigned guard = 0;

	for (size_t i = 0; i < st->ntlines; i++) {
		const char *p = st->tlines[i].text;

		check_pattern(
		    sc, &st->tlines[i], strncmp(p, "no ", 3) == 0 ? p + 3 : p);
		if (strncmp(p, "no ", 3) == 0) {
			unsigned k = 0;

			for (const struct md_trace_event *e =
				 md_resolve_trace(sc->req);
			     e != NULL && k < MAX_EVENTS; e = e->next, k++) {
				if (event_matches(e, p + 3)) {
					dump_trace(sc);
					print_event(e, "  unexpected: ");
					scenario_fail(sc, st->tlines[i].line,
					    "trace has '%s'", p + 3);
				}
			}
			continue;
		}
		while (
		    ev != NULL && guard++ < MAX_EVENTS && !event_matches(ev, p))
			ev = ev->next;
		if (ev == NULL || guard >= MAX_EVENTS) {
			dump_trace(sc);
			scenario_fail(sc, st->tlines[i].line,
			    "no trace event '%s' (in this order)", p);
		}
		ev = ev->next;
	}
}

/* ---- checking answers -------------------------------------------------- */

struct flat {
	const uint8_t *owner;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
	bool used;
};

/* Lower-case the names in rdata of the types whose rdata holds names. */
static void
canon_rdata(uint16_t type, uint8_t *rd, uint16_t len)
{
	size_t n;

	switch (type) {
	case MD_TYPE_NS:
	case MD_TYPE_CNAME:
	case MD_TYPE_PTR:
	case MD_TYPE_DNAME:
		if (md_name_len(rd) == len)
			md_name_lower(rd);
		break;
	case MD_TYPE_MX:
		if (len > 2 && md_name_len(rd + 2) == (size_t)len - 2)
			md_name_lower(rd + 2);
		break;
	case MD_TYPE_SOA:
		n = md_name_len(rd);
		if (n == 0 || n >= len)
			break;
		md_name_lower(rd);
		if (md_name_len(rd + n) != 0 && md_name_len(rd + n) + n < len)
			md_name_lower(rd + n);
		break;
	default:
		break;
	}
}

static bool
rr_equal(const struct flat *a, const struct flat *b, bool ttl)
{
	uint8_t x[65536], y[65536];

	if (a->type != b->type || a->rdlen != b->rdlen ||
	    !md_name_equal(a->owner, b->owner) || (ttl && a->ttl != b->ttl))
		return false;
	memcpy(x, a->rdata, a->rdlen);
	memcpy(y, b->rdata, b->rdlen);
	canon_rdata(a->type, x, a->rdlen);
	canon_rdata(b->type, y, b->rdlen);
	return memcmp(x, y, a->rdlen) == 0;
}

static void
print_flat(const char *prefix, const struct flat *f)
{
	char *s = md_ldns_rr_to_str(
	    f->owner, f->type, MD_CLASS_IN, f->ttl, f->rdata, f->rdlen);

	fprintf(stderr, "%s%s", prefix, s != NULL ? s : "(unprintable)\n");
	if (s != NULL && (s[0] == '\0' || s[strlen(s) - 1] != '\n'))
		fprintf(stderr, "\n");
	free(s);
}

/* The RRs of a result list; returns how many (at most max). */
static size_t
flatten_result(const struct md_result_rrset *sets, struct flat *out, size_t max)
{
	size_t n = 0;

	for (; sets != NULL; sets = sets->next) {
		for (uint32_t off = 0; off + 2 <= sets->rdata_len && n < max;) {
			uint16_t l = md_read_u16(sets->rdata + off);

			if (off + 2 + l > sets->rdata_len)
				break;
			out[n].owner = sets->owner;
			out[n].type = sets->type;
			out[n].ttl = sets->ttl;
			out[n].rdlen = l;
			out[n].rdata = sets->rdata + off + 2;
			out[n].used = false;
			n++;
			off += 2 + (uint32_t)l;
		}
	}
	return n;
}

static void
check_section(struct scenario *sc, const struct rpl_step *st,
    const struct md_result_rrset *got_sets, enum md_section sec,
    const char *name)
{
	const struct rpl_entry *e = st->entry;
	struct flat got[MAX_RR * 2], want[MAX_RR];
	size_t ngot = flatten_result(got_sets, got, MAX_RR * 2);
	size_t nwant = e->nrr[sec];
	bool ok = ngot == nwant;

	for (size_t i = 0; i < nwant; i++) {
		const struct rpl_rr *rr = &e->rrs[sec][i];

		want[i].owner = rr->owner;
		want[i].type = rr->type;
		want[i].ttl = rr->ttl;
		want[i].rdlen = rr->rdlen;
		want[i].rdata = rr->rdata;
		want[i].used = false;
	}
	for (size_t i = 0; i < nwant && ok; i++) {
		bool found = false;

		for (size_t j = 0; j < ngot && !found; j++) {
			if (!got[j].used &&
			    rr_equal(&want[i], &got[j], e->m_ttl)) {
				got[j].used = true;
				found = true;
			}
		}
		ok = found;
	}
	if (ok)
		return;
	fprintf(stderr, "%s: %s section: expected\n", sc->name, name);
	for (size_t i = 0; i < nwant; i++)
		print_flat("    ", &want[i]);
	fprintf(stderr, "  got\n");
	for (size_t i = 0; i < ngot; i++)
		print_flat("    ", &got[i]);
	dump_trace(sc);
	scenario_fail(sc, st->line, "%s section differs", name);
}

static void
check_answer(struct scenario *sc, const struct rpl_step *st)
{
	const struct md_result *res = md_resolve_result(sc->req);

	if (res->rcode != st->entry->rcode) {
		dump_trace(sc);
		scenario_fail(sc, st->line,
		    "rcode %s, expected %s (reason: %s)",
		    md_rcode_str(res->rcode), md_rcode_str(st->entry->rcode),
		    res->reason != NULL ? res->reason : "none");
	}
	check_section(sc, st, res->answer, MD_SECTION_ANSWER, "ANSWER");
	check_section(
	    sc, st, res->authority, MD_SECTION_AUTHORITY, "AUTHORITY");
}

/* ---- running ----------------------------------------------------------- */

static void
run_query(struct scenario *sc, const struct rpl_step *st)
{
	const struct md_result *res;
	struct md_driver_io io = {
	    exchange, exchange_cancel, NULL, NULL, NULL, NULL};
	struct md_drive dr;
	char nbuf[MD_NAME_STRLEN], tbuf[16];

	io.ctx = sc;
	if (sc->verbose) {
		md_name_to_str(st->entry->qname, nbuf, sizeof(nbuf));
		fprintf(stderr, "%s: STEP %u QUERY %s %s\n", sc->name, st->num,
		    nbuf,
		    md_ldns_type_str(st->entry->qtype, tbuf, sizeof(tbuf)));
	}
	md_resolve_free(sc->req);
	sc->req =
	    md_resolve_new(&sc->env, st->entry->qname, st->entry->qtype, 0);
	assert_non_null(sc->req);
	md_resolve_set_trace(sc->req, trace_cb, sc);
	sc->cur_step = st->num;
	sc->sends = 0;
	sc->done = false;
	/* The driver the daemon's workers use, over the fake network: it
	 * runs until the engine is done (every query is answered or timed
	 * out at once, so it never waits). */
	md_drive_init(&dr, &io, sc->req, query_done, sc);
	md_drive_run(&dr);
	if (!sc->done || dr.stuck) {
		dump_trace(sc);
		scenario_fail(sc, st->line,
		    dr.stuck ? "the resolution did not settle"
			     : "engine waits with nothing outstanding");
	}
	if (sc->sends > MAX_SENDS) {
		dump_trace(sc);
		scenario_fail(
		    sc, st->line, "more than %d upstream queries", MAX_SENDS);
	}
	res = md_resolve_result(sc->req);
	if (sc->verbose)
		fprintf(stderr, "%s: -> %s, %u queries%s%s%s\n", sc->name,
		    md_rcode_str(res->rcode), res->upstream_queries,
		    res->from_cache ? ", from cache" : "",
		    res->reason != NULL ? ", reason: " : "",
		    res->reason != NULL ? res->reason : "");
	if (res->upstream_queries != sc->sends)
		scenario_fail(sc, st->line,
		    "result says %u upstream queries, the network saw %u",
		    res->upstream_queries, sc->sends);
}

static void
need_request(struct scenario *sc, const struct rpl_step *st)
{
	if (sc->req == NULL)
		scenario_fail(sc, st->line, "check before any QUERY");
}

static void
run_step(struct scenario *sc, const struct rpl_step *st)
{
	const struct md_result *res;

	if (st->kind != STEP_QUERY && st->kind != STEP_TIME_PASSES)
		need_request(sc, st);
	switch (st->kind) {
	case STEP_QUERY:
		run_query(sc, st);
		break;
	case STEP_CHECK_ANSWER:
		check_answer(sc, st);
		break;
	case STEP_TIME_PASSES:
		sc->clock_ms += (uint64_t)st->value * 1000;
		break;
	case STEP_CHECK_TRACE:
		check_trace(sc, st);
		break;
	case STEP_CHECK_EDE:
		res = md_resolve_result(sc->req);
		if (res->ede != st->value)
			scenario_fail(sc, st->line, "EDE %u, expected %lld",
			    res->ede, st->value);
		break;
	case STEP_CHECK_REASON:
		res = md_resolve_result(sc->req);
		if (res->reason == NULL ||
		    strstr(res->reason, st->text) == NULL)
			scenario_fail(sc, st->line,
			    "reason '%s' does not contain '%s'",
			    res->reason != NULL ? res->reason : "(none)",
			    st->text);
		break;
	case STEP_CHECK_QUERIES:
		res = md_resolve_result(sc->req);
		if (res->upstream_queries != st->value) {
			dump_trace(sc);
			scenario_fail(sc, st->line,
			    "%u upstream queries, expected %lld",
			    res->upstream_queries, st->value);
		}
		if (st->value == 0 && !res->from_cache)
			scenario_fail(sc, st->line, "not marked from_cache");
		break;
	case STEP_CHECK_ELAPSED:
		res = md_resolve_result(sc->req);
		if (res->elapsed_ms > (uint64_t)st->value)
			scenario_fail(sc, st->line,
			    "took %llu ms, expected at most %lld",
			    (unsigned long long)res->elapsed_ms, st->value);
		break;
	}
}

static int
setup(void **state)
{
	const char *path = *state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	struct md_cache_conf cc;
	const char *slash;

	assert_non_null(sc);
	md_strlcpy(sc->path, path, sizeof(sc->path));
	slash = strrchr(sc->path, '/');
	sc->name = slash != NULL ? slash + 1 : sc->path;
	sc->verbose = getenv("MD_REPLAY_VERBOSE") != NULL;
	sc->clock_ms = T0;
	md_arena_init(&sc->arena, 8192);
	md_cache_conf_init(&cc);
	cc.max_bytes = 4 << 20;
	sc->cache = md_cache_new(&cc);
	sc->infra = md_infra_new(1000);
	assert_non_null(sc->cache);
	assert_non_null(sc->infra);
	md_resolve_conf_init(&sc->conf);
	sc->conf.nhints = 0;
	sc->conf.allow_private = true;
	sc->env.conf = &sc->conf;
	sc->env.cache = sc->cache;
	sc->env.infra = sc->infra;
	sc->env.now_ms = fake_now_cb;
	sc->env.clock_arg = sc;
	*state = sc;
	return 0;
}

static int
teardown(void **state)
{
	struct scenario *sc = *state;

	if (sc == NULL)
		return 0;
	md_resolve_free(sc->req);
	md_cache_free(sc->cache);
	md_infra_free(sc->infra);
	md_arena_deinit(&sc->arena);
	for (size_t i = 0; i < sc->nranges; i++) {
		for (size_t j = 0; j < sc->ranges[i]->nentries; j++)
			entry_free(sc->ranges[i]->entries[j]);
		free(sc->ranges[i]);
	}
	for (size_t i = 0; i < sc->nsteps; i++) {
		entry_free(sc->steps[i]->entry);
		free(sc->steps[i]->text);
		for (size_t j = 0; j < sc->steps[i]->ntlines; j++)
			free(sc->steps[i]->tlines[j].text);
		free(sc->steps[i]);
	}
	if (sc->fp != NULL)
		fclose(sc->fp);
	free(sc->linebuf);
	free(sc);
	return 0;
}

static void
run_scenario(void **state)
{
	struct scenario *sc = *state;

	parse_scenario(sc);
	for (size_t i = 0; i < sc->nsteps; i++)
		run_step(sc, sc->steps[i]);
}

static int
rpl_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".rpl") == 0;
}

int
main(int argc, char **argv)
{
	struct CMUnitTest *tests;
	struct dirent **names = NULL;
	char **paths;
	int n = 0, rc;

	if (argc > 1) {
		n = argc - 1;
	} else {
		n = scandir(MD_REPLAY_DIR, &names, rpl_filter, alphasort);
		if (n < 0) {
			fprintf(stderr, "%s: cannot read\n", MD_REPLAY_DIR);
			return 1;
		}
	}
	if (n > MAX_SCENARIOS)
		n = MAX_SCENARIOS;
	tests = calloc((size_t)n + 1, sizeof(*tests));
	paths = calloc((size_t)n + 1, sizeof(*paths));
	if (tests == NULL || paths == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		size_t len;

		if (argc > 1) {
			paths[i] = strdup(argv[i + 1]);
		} else {
			len = strlen(MD_REPLAY_DIR) + strlen(names[i]->d_name) +
			    2;
			paths[i] = malloc(len);
			if (paths[i] != NULL)
				snprintf(paths[i], len, "%s/%s", MD_REPLAY_DIR,
				    names[i]->d_name);
		}
		if (paths[i] == NULL)
			return 1;
		tests[i].name = strrchr(paths[i], '/') != NULL
		    ? strrchr(paths[i], '/') + 1
		    : paths[i];
		tests[i].test_func = run_scenario;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = paths[i];
	}
	rc = _cmocka_run_group_tests("replay", tests, (size_t)n, NULL, NULL);
	for (int i = 0; i < n; i++) {
		free(paths[i]);
		if (names != NULL)
			free(names[i]);
	}
	free(names);
	free(paths);
	free(tests);
	return rc;
}
