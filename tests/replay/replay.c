/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.c - the replay test runner: the whole server in one process, with
 * a fake network and a fake clock.  A client query (wire bytes) goes in
 * through the UDP path (md_srv_udp_answer(): md_query_process() with its
 * local zones and cache, the in-flight table that lets identical questions
 * share one resolution, the engine through the one driver) and its
 * response comes back to the runner instead of a socket.  The server is a
 * core with one worker, no socket and no thread (server-internal.h, "A
 * server core for tests"); its upstream transport is the runner's fake
 * network, which records every query sent.  The scenario checks them and
 * answers them, or lets them time out.  One cmocka test per scenario file
 * in scenarios/ (or per file named on the command line).
 * MD_REPLAY_VERBOSE=1 prints every upstream exchange, client answer and
 * trace event.
 *
 * The .rpl subset (Unbound's testcode/replay.h, plus a few words of ours):
 *
 *   ; comment (also '#' in the CONFIG part)
 *   server:                          optional, ignored
 *     minidnsd.conf keys, set on the configuration snapshot before
 *     md_config_finish():
 *       qname-minimisation: yes|no|strict (default yes: relaxed)
 *       servfail-ttl: S              failures cached (RFC 9520)
 *       use-0x20: yes|no             (default no)
 *       allow-private: yes|no        (default yes here: we use test nets)
 *       resolve-timeout: MS          the whole question's time (also
 *                                    resolution-timeout, the older name)
 *       max-queries / max-depth / max-cname / max-ns-names: N
 *       cache-min-ttl / cache-max-ttl / cache-max-negative-ttl: S
 *       serve-stale: yes|no
 *       dnssec: validate|off         (default: validate, but off with
 *                                    root-hint: lines, as minidnsd does
 *                                    with custom root-hints)
 *       access-control: NET...       who may recurse, instead of the
 *                                    defaults (clients ask from 127.0.0.1)
 *       rrset-roundrobin: yes|no     (default yes)
 *       prefetch: yes|no             (default no)
 *       forward-zone: NAME ADDR...   forward NAME to these upstreams
 *       forward-policy: rtt, sequential or random, for the last zone
 *       forward-tcp: yes|no, for the last forward-zone
 *       forward-max-ttl / forward-max-negative-ttl: S, for the last
 *                                    forward-zone (its cache caps)
 *       local-zone: NAME             a local zone (RFC 1035 text loaded as
 *       local-data: "RR"             a zone file is), with its records
 *     the engine's own settings, on the snapshot's derived engine
 *     settings before the server takes it:
 *       root-hint: NAME ADDR         a root server (repeatable)
 *       stub-zone: / name: "." / stub-addr: ADDR   Unbound's way, same thing
 *       upstream-timeout: MS         first try to an unknown server
 *       max-subquery-depth / edns-size: N
 *     the server:
 *       infra-rtt: ADDR MS           seed the infra cache (server order)
 *       prime: yes|no                prime the root NS set before the
 *                                    first iteration (default no here)
 *   CONFIG_END
 *   SCENARIO_BEGIN text
 *   RANGE_BEGIN first last           canned answers, used while the step
 *       ADDRESS ADDR                 number is in [first, last]; only for
 *       ENTRY_BEGIN ... ENTRY_END    these servers (none: any server)
 *   RANGE_END
 *
 * Steps (numbers increase):
 *   STEP n QUERY [ID [ADDR]] + ENTRY: SECTION QUESTION name [IN] type, and
 *                             REPLY with the query's flags: RD, CD, DO (DO
 *                             and EDNS add an OPT record).  A client (ID:
 *                             a word, default "c<n>") sends it from its
 *                             own port of 127.0.0.1 (or from ADDR, for
 *                             access-control); an answer that needs no
 *                             upstream query comes back at once
 *   STEP n CHECK_ANSWER [ID] + ENTRY: the response to client ID (default:
 *                             the oldest response not checked yet),
 *                             waiting for it (the network answers from
 *                             the RANGEs meanwhile, see below).  The ID
 *                             and question must match the query's; rcode
 *                             from REPLY; SECTION ANSWER, AUTHORITY (and
 *                             ADDITIONAL when given) compared as sets
 *                             ignoring order and TTL (MATCH ttl: TTLs
 *                             too, as aged by the fake clock); MATCH all
 *                             or flags: the header flags too (QR AA TC RD
 *                             RA AD CD), and DO/EDNS when REPLY has them;
 *                             MATCH order: each section's RRs in the
 *                             order given (rrset-roundrobin)
 *   STEP n CHECK_OUT_QUERY ADDR [udp|tcp]
 *                           + ENTRY: the oldest upstream query still
 *                             outstanding and not checked yet went to ADDR
 *                             over udp (default) or tcp, asks exactly
 *                             SECTION QUESTION (the name's bytes: case
 *                             and minimisation count), and, when the
 *                             ENTRY has a REPLY line, has exactly those
 *                             of RD, CD, DO, EDNS
 *   STEP n REPLY [#N]       [+ ENTRY] the oldest outstanding query still
 *                             awaited (its retransmission timer not fired
 *                             yet; else the oldest), or query number N
 *                             (1 = the scenario's first upstream query,
 *                             as MD_REPLAY_VERBOSE numbers them), gets
 *                             that reply, or the first matching RANGE
 *                             entry's (none matching: an error); it
 *                             arrives 10 ms later
 *   STEP n TIMEOUT          the oldest outstanding query whose
 *                             retransmission timer is set gets no reply
 *                             in time: the clock moves to the timer, the
 *                             engine asks again, the query stays open (a
 *                             late reply is still taken); with no timer
 *                             set, the oldest query closes at the end of
 *                             its life (the time left for its question)
 *   STEP n TIME_PASSES ELAPSE SECONDS
 *                           the clock moves on; timers and ends of life
 *                             that passed come, in time order
 *   STEP n CHECK_TRACE      + lines up to TRACE_END (see below)
 *   STEP n CHECK_EDE CODE|none       EDE of the current answer (its OPT
 *                                    record, as a client reads it)
 *   STEP n CHECK_REASON TEXT         its failure reason contains TEXT
 *   STEP n CHECK_QUERIES N           upstream queries of the resolution
 *                                    that answered; 0 also requires the
 *                                    answer from the cache or a local zone
 *   STEP n CHECK_SOURCE local|cache|resolution   where the answer came
 *                                    from (query.c's sources)
 *   STEP n CHECK_OUTSTANDING N       N upstream queries are open now (the
 *                                    latest and earlier attempts kept
 *                                    for a late reply), not waiting
 *   STEP n CHECK_ELAPSED MS          its resolution took at most MS (fake)
 *                                    milliseconds
 *   STEP n CHECK_SENT N              N upstream queries sent so far, by
 *                                    every resolution (prefetches too)
 *   SCENARIO_END
 * The current answer is that of the last CHECK_ANSWER, or of the last
 * QUERY when a QUERY came after it (waiting for it as CHECK_ANSWER does).
 *
 * The network answers by itself only while a step waits for a client's
 * answer (CHECK_ANSWER and the checks of the current answer): each
 * outstanding query's first matching RANGE entry answers it 10 ms (or
 * ADJUST delay=MS) after it was sent, unless its retransmission timer
 * comes first (the engine asks again; the query stays open and its reply
 * comes later, at its time) or its life ends first (no entry, or REPLY
 * TIMEOUT: it never answers); these events come in time order until the
 * answer is there.  So a scenario without CHECK_OUT_QUERY/REPLY/
 * TIMEOUT steps runs every resolution to its end at its first check, and
 * one with them makes each exchange explicit.  A scenario ends with no
 * upstream query outstanding and every client answered, or it fails
 * saying which.
 *
 * An ENTRY of a RANGE:
 *   MATCH opcode qname qtype subdomain tcp udp edns noedns rd nord
 *         (qname: equal, case aside; subdomain: the query's name at or
 *         below the entry's; tcp/udp: transport; edns/noedns: OPT in the
 *         query; rd/nord: RD set or not in the query; no MATCH line: any
 *         query)
 *   ADJUST copy_id copy_query wrong_question delay=MS
 *         (the ID is always copied; copy_query, or no QUESTION section:
 *         the reply echoes the query's question; wrong_question: it asks
 *         for "spoofed.<qname>" instead; delay=MS: played from the RANGE,
 *         the reply comes MS ms after the query, not 10)
 *   REPLY QR AA TC RD RA AD CD NOERROR|FORMERR|SERVFAIL|NXDOMAIN|NOTIMP|
 *         REFUSED, or TIMEOUT: the server never answers
 *   SECTION QUESTION|ANSWER|AUTHORITY|ADDITIONAL, then RRs
 *
 * CHECK_TRACE lines are matched in order as a subsequence of the trace
 * events of the resolution that gave the current answer (none for an
 * answer from the cache or a local zone); "no LINE" means no event
 * matches LINE anywhere.  A line is an event kind (md_trace_kind_str) and
 * positional fields, '*' for any, missing trailing fields match anything:
 *   send|server ADDR QNAME QTYPE tcp|udp   (QNAME as sent: minimised)
 *   reply CLASS ADDR QNAME QTYPE           (CLASS: md_reply_class_str)
 *   timeout|net-error ADDR
 *   referral|delegation ZONE    cname TARGET    subquery NSNAME
 *   start QNAME QTYPE           done RCODE
 *   fail|cache-hit|tcp-retry|edns-fallback|qmin-fallback TEXT
 *                               (TEXT: in the reason)
 * A line of a kind with fields may end in " -- TEXT": the event's reason
 * ('why': "no reply in 400 ms: trying again, the first query stays open",
 * "late, to the first query") contains TEXT.
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
#include <netinet/in.h>

#include <cmocka.h>
#include <event2/event.h>

#include "minidns/cache.h"
#include "minidns/config.h"
#include "minidns/driver.h"
#include "minidns/ldns_bridge.h"
#include "minidns/resolve.h"
#include "minidns/server.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "minidns/zone.h"
#include "src/server/server-internal.h"

#ifndef MD_REPLAY_DIR
#define MD_REPLAY_DIR "tests/replay/scenarios"
#endif

#define T0 1000000000ull /* fake clock start, ms */
#define REPLY_RTT 10	 /* ms a canned answer takes */
#define MAX_LINES 20000	 /* per scenario file */
#define MAX_RR 640	 /* per section of an entry */
#define MAX_ADDRS 16	 /* ADDRESS lines per range */
#define MAX_ENTRIES 256	 /* per range */
#define MAX_RANGES 64
#define MAX_STEPS 256
#define MAX_TLINES 128 /* lines of one CHECK_TRACE */
#define MAX_SENDS 2000 /* upstream queries answered by one wait */
#define MAX_TOKENS 16
#define MAX_EVENTS 100000 /* trace events looked at */
#define MAX_SCENARIOS 512
#define MAX_CLIENTS 128	    /* QUERY steps */
#define MAX_SEEDS 16	    /* infra-rtt lines */
#define LOCAL_TEXT_MAX 8192 /* local-zone text */
#define MAX_LOCAL 8	    /* local zones */

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
	bool m_ttl;   /* CHECK_ANSWER: compare TTLs */
	bool m_order; /* CHECK_ANSWER: RRs in the order given */
	bool m_flags; /* CHECK_ANSWER: compare header flags (MATCH all) */
	bool copy_query, wrong_question;
	uint32_t delay_ms; /* ADJUST delay=MS: the reply takes that long */
	bool timeout;
	bool has_reply;	   /* a REPLY line */
	bool edns, do_bit; /* REPLY EDNS, DO: an OPT record (DO set) */
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
	STEP_CHECK_OUT_QUERY,
	STEP_REPLY,
	STEP_TIMEOUT,
	STEP_TIME_PASSES,
	STEP_CHECK_TRACE,
	STEP_CHECK_EDE,
	STEP_CHECK_REASON,
	STEP_CHECK_QUERIES,
	STEP_CHECK_SOURCE,
	STEP_CHECK_ELAPSED,
	STEP_CHECK_OUTSTANDING,
	STEP_CHECK_SENT,
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
	char id[32];		 /* QUERY, CHECK_ANSWER: the client */
	struct md_sockaddr addr; /* CHECK_OUT_QUERY; QUERY's own address */
	bool has_addr;		 /* QUERY from addr, not 127.0.0.1 */
	bool tcp;
	struct rpl_tline tlines[MAX_TLINES];
	size_t ntlines;
};

/* The driver's retransmission timer of a query (the driver may cancel it
 * after the query ended: then o is NULL). */
struct ftimer {
	struct outq *o;
	uint64_t at;
	void (*cb)(void *arg);
	void *arg;
};

/* An upstream query held by the fake network. */
struct outq {
	struct outq *next;
	unsigned seq; /* 1 for the first query sent */
	struct md_sockaddr server;
	bool tcp;
	bool checked;	     /* seen by a CHECK_OUT_QUERY */
	uint32_t timeout_ms; /* how long it stays open (md_send.open_ms) */
	uint64_t sent_ms;
	struct ftimer *timer; /* the driver's retransmission timer, or NULL */
	bool retransmitted;   /* it fired: the query stays open, late */
	uint8_t *query;
	size_t len;
	md_net_cb cb;
	void *cb_arg;
};

enum answer_source {
	SOURCE_LOCAL,
	SOURCE_CACHE,
	SOURCE_RESOLUTION,
};

/* A client of a QUERY step, and what came back to it. */
struct client {
	struct scenario *sc;
	char id[32];
	unsigned line; /* its QUERY step */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint8_t query[512];
	size_t qlen;
	uint16_t msgid;
	bool answered, checked;
	unsigned order; /* answers arrived before this one */
	uint8_t *resp;
	size_t resp_len;
	enum answer_source source;
	/* of the resolution that answered (SOURCE_RESOLUTION) */
	struct md_trace_event *trace; /* a copy, 'why' strings owned */
	int rcode;
	uint16_t ede;
	char *reason;
	bool from_cache;
	unsigned upstream_queries;
	uint64_t elapsed_ms;
};

struct scenario {
	char path[1024];
	const char *name; /* file name, for messages */
	FILE *fp;
	char *linebuf;
	size_t linecap;
	unsigned lineno;
	char line[4096];
	bool pushed; /* next_line() gives sc->line again */

	/* CONFIG */
	struct md_config *cfg;
	struct md_root_hint hints[MD_ROOT_HINTS_MAX];
	size_t nhints;
	uint32_t upstream_timeout_ms; /* 0: the engine's */
	long long max_subquery_depth; /* -1: the engine's */
	uint16_t edns_size;	      /* 0: the engine's */
	struct md_sockaddr seed_addr[MAX_SEEDS];
	uint32_t seed_rtt[MAX_SEEDS];
	size_t nseeds;
	bool prime;
	char *local_text[MAX_LOCAL]; /* zone text per local-zone */
	char local_origin[MAX_LOCAL][MD_NAME_STRLEN];
	size_t nlocal;
	struct rpl_range *ranges[MAX_RANGES];
	size_t nranges;
	struct rpl_step *steps[MAX_STEPS];
	size_t nsteps;

	/* the run */
	uint64_t clock_ms;
	struct event_base *base;
	struct md_server *srv;
	unsigned cur_step;
	struct outq *out; /* outstanding upstream queries, oldest first */
	unsigned nsent;
	struct client *clients[MAX_CLIENTS];
	size_t nclients;
	unsigned nanswers;
	struct client *cur; /* the current answer's client */
	bool verbose;
	struct md_arena arena; /* parsing queries and responses */
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
	if (sc->pushed) {
		sc->pushed = false;
		return true;
	}
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

/* ---- CONFIG ------------------------------------------------------------ */

static void
add_hint(struct scenario *sc, const uint8_t *name, const char *addr)
{
	struct md_root_hint *h;

	if (sc->nhints >= MD_ROOT_HINTS_MAX)
		scenario_fail(sc, sc->lineno, "too many root hints");
	h = &sc->hints[sc->nhints++];
	memcpy(h->name, name, md_name_len(name));
	parse_addr(sc, addr, &h->addr);
}

/* local-data: "RR", into the text of the local zone that holds it. */
static void
add_local_data(struct scenario *sc, const char *rest)
{
	char rr[1024];
	uint8_t owner[MD_NAME_MAX], origin[MD_NAME_MAX];
	char *tok[1] = {NULL};
	size_t n = strlen(rest), best = 0;
	long found = -1;

	if (n < 2 || rest[0] != '"' || rest[n - 1] != '"' ||
	    n - 2 >= sizeof(rr))
		scenario_fail(sc, sc->lineno, "local-data: \"RR\" expected");
	memcpy(rr, rest + 1, n - 2);
	rr[n - 2] = '\0';
	{
		char copy[sizeof(rr)];

		md_strlcpy(copy, rr, sizeof(copy));
		if (split(copy, tok, 1) != 1)
			scenario_fail(sc, sc->lineno, "local-data: empty");
		parse_name(sc, tok[0], owner);
	}
	for (size_t i = 0; i < sc->nlocal; i++) {
		parse_name(sc, sc->local_origin[i], origin);
		if (md_name_is_subdomain(owner, origin) &&
		    md_name_len(origin) > best) {
			best = md_name_len(origin);
			found = (long)i;
		}
	}
	if (found < 0)
		scenario_fail(sc, sc->lineno, "local-data outside local zones");
	n = strlen(sc->local_text[found]);
	if (n + strlen(rr) + 2 > LOCAL_TEXT_MAX)
		scenario_fail(sc, sc->lineno, "local zone too long for a test");
	memcpy(sc->local_text[found] + n, rr, strlen(rr));
	memcpy(sc->local_text[found] + n + strlen(rr), "\n", 2);
}

static void
forward_option(
    struct scenario *sc, const char *key, const char *val, const uint8_t *zone)
{
	struct md_forward_zone *f = md_config_find_forward(sc->cfg, zone);

	if (f == NULL)
		scenario_fail(
		    sc, sc->lineno, "%s after a forward-zone: line", key);
	if (strcmp(key, "forward-tcp:") == 0)
		f->force_tcp = parse_yesno(sc, val);
	else if (strcmp(key, "forward-max-ttl:") == 0)
		f->max_ttl = (uint32_t)parse_num(sc, val, 1, 604800);
	else if (strcmp(key, "forward-max-negative-ttl:") == 0)
		f->max_negative_ttl = (uint32_t)parse_num(sc, val, 1, 604800);
	else if (strcmp(val, "sequential") == 0)
		f->policy = MD_FORWARD_SEQUENTIAL;
	else if (strcmp(val, "random") == 0)
		f->policy = MD_FORWARD_RANDOM;
	else if (strcmp(val, "rtt") == 0)
		f->policy = MD_FORWARD_RTT;
	else
		scenario_fail(
		    sc, sc->lineno, "forward-policy: rtt|sequential|random");
}

/* A minidnsd.conf number key; false when key is not one. */
static bool
config_number(struct scenario *sc, const char *key, const char *val)
{
	static const struct {
		const char *key;
		size_t off;
		long long max;
	} keys[] = {
	    {"resolve-timeout:", offsetof(struct md_config, resolution_timeout),
		3600000},
	    {"resolution-timeout:",
		offsetof(struct md_config, resolution_timeout), 3600000},
	    {"max-queries:", offsetof(struct md_config, max_upstream_queries),
		100000},
	    {"max-depth:", offsetof(struct md_config, max_referral_depth),
		1000},
	    {"max-cname:", offsetof(struct md_config, max_cname_chain), 1000},
	    {"max-ns-names:", offsetof(struct md_config, max_ns_names), 1000},
	};
	static const struct {
		const char *key;
		size_t off;
	} ttls[] = {
	    {"cache-min-ttl:", offsetof(struct md_config, cache_min_ttl)},
	    {"cache-max-ttl:", offsetof(struct md_config, cache_max_ttl)},
	    {"cache-max-negative-ttl:",
		offsetof(struct md_config, cache_max_negative_ttl)},
	    {"servfail-ttl:", offsetof(struct md_config, servfail_ttl)},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key) == 0) {
			*(unsigned *)((char *)sc->cfg + keys[i].off) =
			    (unsigned)parse_num(sc, val, 0, keys[i].max);
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		if (strcmp(key, ttls[i].key) == 0) {
			*(uint32_t *)((char *)sc->cfg + ttls[i].off) =
			    (uint32_t)parse_num(sc, val, 0, 604800);
			return true;
		}
	}
	return false;
}

static void
parse_config(struct scenario *sc)
{
	uint8_t last_fwd[MD_NAME_MAX] = {0};
	bool has_fwd = false;

	for (unsigned i = 0; i < MAX_LINES; i++) {
		char *tok[MAX_TOKENS];
		char err[256];
		size_t n;
		char *key;

		if (!next_line(sc, true))
			scenario_fail(sc, sc->lineno, "no CONFIG_END");
		if (strcmp(sc->line, "CONFIG_END") == 0)
			return;
		if (strncmp(sc->line, "local-data:", 11) == 0) {
			add_local_data(sc, after_words(sc->line, 1));
			continue;
		}
		n = split(sc->line, tok, MAX_TOKENS);
		key = tok[0];
		if (strcmp(key, "server:") == 0 ||
		    strcmp(key, "stub-zone:") == 0)
			continue;
		if (n < 2)
			scenario_fail(sc, sc->lineno, "%s: no value", key);
		if (config_number(sc, key, tok[1]))
			continue;
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
			char servers[1024] = "";
			size_t used = 0;

			if (n < 3)
				scenario_fail(sc, sc->lineno,
				    "forward-zone: NAME ADDR... expected");
			for (size_t k = 2; k < n && used < sizeof(servers); k++)
				used += (size_t)snprintf(servers + used,
				    sizeof(servers) - used, "%s%s",
				    k > 2 ? "," : "", tok[k]);
			if (md_config_add_forward(sc->cfg, tok[1], servers, err,
				sizeof(err)) != 0)
				scenario_fail(sc, sc->lineno, "%s", err);
			parse_name(sc, tok[1], last_fwd);
			has_fwd = true;
		} else if (strcmp(key, "forward-policy:") == 0 ||
		    strcmp(key, "forward-tcp:") == 0 ||
		    strcmp(key, "forward-max-ttl:") == 0 ||
		    strcmp(key, "forward-max-negative-ttl:") == 0) {
			if (!has_fwd)
				scenario_fail(sc, sc->lineno,
				    "%s after a forward-zone: line", key);
			forward_option(sc, key, tok[1], last_fwd);
		} else if (strcmp(key, "local-zone:") == 0) {
			if (sc->nlocal >= MAX_LOCAL)
				scenario_fail(
				    sc, sc->lineno, "too many local zones");
			md_strlcpy(sc->local_origin[sc->nlocal], tok[1],
			    sizeof(sc->local_origin[0]));
			sc->local_text[sc->nlocal] = calloc(1, LOCAL_TEXT_MAX);
			assert_non_null(sc->local_text[sc->nlocal]);
			sc->nlocal++;
		} else if (strcmp(key, "qname-minimisation:") == 0) {
			sc->cfg->qname_minimisation_strict =
			    strcmp(tok[1], "strict") == 0;
			sc->cfg->qname_minimisation =
			    sc->cfg->qname_minimisation_strict ||
			    parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "use-0x20:") == 0) {
			sc->cfg->use_0x20 = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "allow-private:") == 0) {
			sc->cfg->allow_private_upstreams =
			    parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "serve-stale:") == 0) {
			sc->cfg->serve_stale = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "dnssec:") == 0) {
			if (strcmp(tok[1], "validate") != 0 &&
			    strcmp(tok[1], "off") != 0)
				scenario_fail(
				    sc, sc->lineno, "dnssec: validate|off");
			sc->cfg->dnssec_validate =
			    strcmp(tok[1], "validate") == 0;
			sc->cfg->dnssec_set = true;
		} else if (strcmp(key, "access-control:") == 0) {
			/* the networks allowed recursion, in place of the
			 * defaults (the clients ask from 127.0.0.1) */
			sc->cfg->nacl = 0;
			for (size_t k = 1; k < n; k++) {
				if (md_config_add_acl(
					sc->cfg, tok[k], err, sizeof(err)) != 0)
					scenario_fail(
					    sc, sc->lineno, "%s", err);
			}
		} else if (strcmp(key, "rrset-roundrobin:") == 0) {
			sc->cfg->rrset_roundrobin = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "prefetch:") == 0) {
			sc->cfg->prefetch = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "prime:") == 0) {
			sc->prime = parse_yesno(sc, tok[1]);
		} else if (strcmp(key, "upstream-timeout:") == 0) {
			sc->upstream_timeout_ms =
			    (uint32_t)parse_num(sc, tok[1], 1, 3600000);
		} else if (strcmp(key, "max-subquery-depth:") == 0) {
			sc->max_subquery_depth = parse_num(sc, tok[1], 0, 1000);
		} else if (strcmp(key, "edns-size:") == 0) {
			sc->edns_size =
			    (uint16_t)parse_num(sc, tok[1], 512, 65535);
		} else if (strcmp(key, "infra-rtt:") == 0) {
			if (n < 3 || sc->nseeds >= MAX_SEEDS)
				scenario_fail(sc, sc->lineno,
				    "infra-rtt: ADDR MS expected");
			parse_addr(sc, tok[1], &sc->seed_addr[sc->nseeds]);
			sc->seed_rtt[sc->nseeds++] =
			    (uint32_t)parse_num(sc, tok[2], 0, 100000);
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

		if (strcasecmp(t, "opcode") == 0)
			continue; /* we only send standard queries */
		if (strcasecmp(t, "all") == 0 || strcasecmp(t, "flags") == 0)
			e->m_flags = true;
		else if (strcasecmp(t, "qname") == 0)
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
		else if (strcasecmp(t, "order") == 0)
			e->m_order = true;
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
		else if (strncasecmp(t, "delay=", 6) == 0)
			e->delay_ms = (uint32_t)parse_num(sc, t + 6, 1, 600000);
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
	    {"YXDOMAIN", MD_RCODE_YXDOMAIN},
	};

	e->has_reply = true;
	for (size_t i = 1; i < n; i++) {
		bool known = false;

		if (strcasecmp(tok[i], "TIMEOUT") == 0) {
			e->timeout = true;
			continue;
		}
		if (strcasecmp(tok[i], "EDNS") == 0 ||
		    strcasecmp(tok[i], "DO") == 0) {
			e->edns = true;
			e->do_bit |= strcasecmp(tok[i], "DO") == 0;
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
	char *tok[MAX_TOKENS] = {NULL};
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
	if (strcmp(tok[2], "QUERY") == 0 && n <= 5) {
		st->kind = STEP_QUERY;
		if (n >= 4)
			md_strlcpy(st->id, tok[3], sizeof(st->id));
		else
			snprintf(st->id, sizeof(st->id), "c%u", st->num);
		if (n == 5) {
			parse_addr(sc, tok[4], &st->addr);
			st->has_addr = true;
		}
		st->entry = expect_entry(sc);
		if (!st->entry->has_question)
			scenario_fail(sc, st->line, "QUERY without a question");
	} else if (strcmp(tok[2], "CHECK_ANSWER") == 0 && n <= 4) {
		st->kind = STEP_CHECK_ANSWER;
		if (n == 4)
			md_strlcpy(st->id, tok[3], sizeof(st->id));
		st->entry = expect_entry(sc);
	} else if (strcmp(tok[2], "CHECK_OUT_QUERY") == 0 &&
	    (n == 4 || n == 5)) {
		st->kind = STEP_CHECK_OUT_QUERY;
		parse_addr(sc, tok[3], &st->addr);
		if (n == 5 && strcmp(tok[4], "tcp") != 0 &&
		    strcmp(tok[4], "udp") != 0)
			scenario_fail(sc, sc->lineno, "udp or tcp expected");
		st->tcp = n == 5 && strcmp(tok[4], "tcp") == 0;
		st->entry = expect_entry(sc);
		if (!st->entry->has_question)
			scenario_fail(
			    sc, st->line, "CHECK_OUT_QUERY without a question");
	} else if (strcmp(tok[2], "REPLY") == 0 && (n == 3 || n == 4)) {
		st->kind = STEP_REPLY;
		if (n == 4) {
			if (tok[3][0] != '#')
				scenario_fail(sc, sc->lineno, "REPLY [#N]");
			st->value = parse_num(sc, tok[3] + 1, 1, 1000000);
		}
		/* An inline ENTRY, or the RANGEs' answer. */
		if (next_line(sc, false)) {
			if (strcmp(sc->line, "ENTRY_BEGIN") == 0)
				st->entry = parse_entry(sc);
			else
				sc->pushed = true;
		}
	} else if (strcmp(tok[2], "TIMEOUT") == 0 && n == 3) {
		st->kind = STEP_TIMEOUT;
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
	} else if (strcmp(tok[2], "CHECK_SOURCE") == 0 && n == 4) {
		st->kind = STEP_CHECK_SOURCE;
		if (strcmp(tok[3], "local") == 0)
			st->value = SOURCE_LOCAL;
		else if (strcmp(tok[3], "cache") == 0)
			st->value = SOURCE_CACHE;
		else if (strcmp(tok[3], "resolution") == 0)
			st->value = SOURCE_RESOLUTION;
		else
			scenario_fail(sc, sc->lineno,
			    "CHECK_SOURCE local|cache|resolution");
	} else if (strcmp(tok[2], "CHECK_OUTSTANDING") == 0 && n == 4) {
		st->kind = STEP_CHECK_OUTSTANDING;
		st->value = parse_num(sc, tok[3], 0, 100000);
	} else if (strcmp(tok[2], "CHECK_SENT") == 0 && n == 4) {
		st->kind = STEP_CHECK_SENT;
		st->value = parse_num(sc, tok[3], 0, 100000);
	} else if (strcmp(tok[2], "CHECK_ELAPSED") == 0 && n == 4) {
		st->kind = STEP_CHECK_ELAPSED;
		st->value = parse_num(sc, tok[3], 0, 100000000);
	} else if (strcmp(tok[2], "CHECK_REASON") == 0 && n >= 4) {
		st->kind = STEP_CHECK_REASON;
		st->text = strdup(rest);
		assert_non_null(st->text);
	} else {
		scenario_fail(sc, sc->lineno, "bad step '%s'", sc->line);
	}
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

/* ---- the fake network -------------------------------------------------- */

static uint64_t
fake_now_cb(void *arg)
{
	const struct scenario *sc = arg;

	return sc->clock_ms;
}

/* Parse a query or response (valid until the next parse). */
static void
parse_msg(struct scenario *sc, const uint8_t *pkt, size_t len, struct md_msg *m,
    const char *what)
{
	md_arena_deinit(&sc->arena);
	md_arena_init(&sc->arena, 8192);
	if (md_msg_parse(pkt, len, &sc->arena, m) != 0 || !m->has_question)
		fail_msg("%s: step %u: %s is malformed", sc->path, sc->cur_step,
		    what);
}

/*
 * The server's transport: every query is held, in the order sent, until
 * a step (or a wait for a client's answer) replies to it or times it out.
 */
static void *
fake_send(void *ctx, const struct md_send *s, md_net_cb cb, void *cb_arg)
{
	struct scenario *sc = ctx;
	struct outq *o = calloc(1, sizeof(*o)), **pp;
	char abuf[MD_SOCKADDR_STRLEN], nbuf[MD_NAME_STRLEN], tbuf[16];
	struct md_msg q;

	assert_non_null(o);
	o->query = malloc(s->len);
	assert_non_null(o->query);
	memcpy(o->query, s->query, s->len);
	o->len = s->len;
	o->seq = ++sc->nsent;
	o->server = s->server;
	o->tcp = s->tcp ||
	    (s->upstream != NULL && s->upstream->transport != MD_TRANSPORT_UDP);
	o->timeout_ms = s->open_ms;
	o->sent_ms = sc->clock_ms;
	o->cb = cb;
	o->cb_arg = cb_arg;
	parse_msg(sc, o->query, o->len, &q, "an upstream query");
	if (q.hdr.flags & MD_FLAG_QR)
		fail_msg("%s: the server sent a query with QR set", sc->path);
	for (pp = &sc->out; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = o;
	if (sc->verbose) {
		md_name_to_str(q.qname, nbuf, sizeof(nbuf));
		fprintf(stderr, "  -> #%u %s %s %s %s%s%s (open %u ms)\n",
		    o->seq, addr_str(&o->server, abuf, sizeof(abuf)), nbuf,
		    md_ldns_type_str(q.qtype, tbuf, sizeof(tbuf)),
		    o->tcp ? "tcp" : "udp", q.edns.present ? " edns" : "",
		    (q.hdr.flags & MD_FLAG_RD) ? " rd" : "", o->timeout_ms);
	}
	return o;
}

static void
unlink_out(struct scenario *sc, struct outq *o)
{
	for (struct outq **pp = &sc->out; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			return;
		}
	}
}

/* A query leaves the network: its timer (if any) no longer points to it. */
static void
outq_free(struct outq *o)
{
	if (o->timer != NULL)
		o->timer->o = NULL;
	free(o->query);
	free(o);
}

static void
fake_cancel(void *ctx, void *handle)
{
	struct outq *o = handle;

	unlink_out(ctx, o);
	outq_free(o);
}

/* The driver's retransmission timer of query 'handle' (an outq). */
static void *
fake_timer(
    void *ctx, void *handle, uint32_t ms, void (*cb)(void *arg), void *arg)
{
	struct outq *o = handle;
	struct ftimer *t = calloc(1, sizeof(*t));

	(void)ctx;
	assert_non_null(t);
	assert_null(o->timer);
	t->o = o;
	t->at = o->sent_ms + ms;
	t->cb = cb;
	t->arg = arg;
	o->timer = t;
	return t;
}

static void
fake_timer_cancel(void *ctx, void *timer)
{
	struct ftimer *t = timer;

	(void)ctx;
	if (t->o != NULL)
		t->o->timer = NULL;
	free(t);
}

/* Query o's retransmission timer fires: the clock moves to it; the query
 * stays open (a reply may still come). */
static void
retransmit(struct scenario *sc, struct outq *o)
{
	struct ftimer *t = o->timer;
	void (*cb)(void *) = t->cb;
	void *arg = t->arg;

	if (sc->clock_ms < t->at)
		sc->clock_ms = t->at;
	o->timer = NULL;
	o->retransmitted = true;
	if (sc->verbose)
		fprintf(stderr, "  <- #%u no reply in %llu ms (stays open)\n",
		    o->seq, (unsigned long long)(t->at - o->sent_ms));
	free(t);
	cb(arg);
}

/* Query o's deadline: its timer, else the end of its life. */
static uint64_t
deadline(const struct outq *o)
{
	return o->timer != NULL ? o->timer->at : o->sent_ms + o->timeout_ms;
}

static void time_out(struct scenario *sc, struct outq *o);

/* Query o times out at its deadline: the timer fires, or it closes. */
static void
expire(struct scenario *sc, struct outq *o)
{
	if (o->timer != NULL)
		retransmit(sc, o);
	else
		time_out(sc, o);
}

/* Query o times out: the clock moves to its deadline. */
static void
time_out(struct scenario *sc, struct outq *o)
{
	md_net_cb cb = o->cb;
	void *arg = o->cb_arg;
	uint32_t t = o->timeout_ms;

	unlink_out(sc, o);
	if (sc->clock_ms < o->sent_ms + t)
		sc->clock_ms = o->sent_ms + t;
	if (sc->verbose)
		fprintf(stderr, "  <- #%u timeout\n", o->seq);
	outq_free(o);
	cb(arg, MD_NET_TIMEOUT, NULL, 0, t);
}

/* Query o gets entry e's reply, arriving at 'at' (the clock moves there
 * unless it is past it); its round-trip time counts from its sending. */
static void
reply_to(
    struct scenario *sc, struct outq *o, const struct rpl_entry *e, uint64_t at)
{
	uint8_t reply[MD_WIRE_MAX];
	md_net_cb cb = o->cb;
	void *arg = o->cb_arg;
	struct md_msg q;
	size_t len;
	uint32_t rtt;

	if (e->timeout) {
		expire(sc, o);
		return;
	}
	parse_msg(sc, o->query, o->len, &q, "an upstream query");
	len = build_reply(sc, e, &q, reply, sizeof(reply));
	unlink_out(sc, o);
	if (sc->clock_ms < at)
		sc->clock_ms = at;
	rtt = (uint32_t)(sc->clock_ms - o->sent_ms);
	if (sc->verbose)
		fprintf(stderr, "  <- #%u reply (line %u) after %u ms%s\n",
		    o->seq, e->line, rtt, o->retransmitted ? ", late" : "");
	outq_free(o);
	cb(arg, MD_NET_OK, reply, len, rtt);
}

/*
 * What happens next on the network, played from the RANGEs: of every
 * outstanding query's next event (its RANGE reply, sent_ms + the entry's
 * delay or REPLY_RTT; its retransmission timer; the end of its life), the
 * earliest, the oldest query first on a tie.
 */
static void
play_next(struct scenario *sc)
{
	struct outq *best = NULL;
	const struct rpl_entry *best_e = NULL;
	uint64_t best_at = 0;

	for (struct outq *o = sc->out; o != NULL; o = o->next) {
		const struct rpl_entry *e;
		struct md_msg q;
		uint64_t at = deadline(o), end = o->sent_ms + o->timeout_ms;

		parse_msg(sc, o->query, o->len, &q, "an upstream query");
		e = find_entry(sc, &o->server, &q, o->tcp);
		if (e != NULL && !e->timeout) {
			uint64_t r = o->sent_ms +
			    (e->delay_ms != 0 ? e->delay_ms : REPLY_RTT);

			if (r <= at && r <= end)
				at = r;
			else
				e = NULL; /* the timer or its end comes first */
		} else {
			e = NULL;
		}
		if (best == NULL || at < best_at) {
			best = o;
			best_e = e;
			best_at = at;
		}
	}
	if (best_e != NULL)
		reply_to(sc, best, best_e, best_at);
	else
		expire(sc, best);
}

/* ---- clients ----------------------------------------------------------- */

static void
free_trace(struct md_trace_event *ev)
{
	while (ev != NULL) {
		struct md_trace_event *next = ev->next;

		free((char *)ev->why);
		free(ev);
		ev = next;
	}
}

static void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	free(c->resp);
	free(c->reason);
	free_trace(c->trace);
	free(c);
}

static void print_event(const struct md_trace_event *ev, const char *prefix);

static void
take_answer(struct client *c, const uint8_t *msg, size_t len)
{
	struct scenario *sc = c->sc;

	if (c->answered)
		fail_msg("%s: client %s answered twice", sc->path, c->id);
	c->answered = true;
	c->order = sc->nanswers++;
	c->resp = malloc(len);
	assert_non_null(c->resp);
	memcpy(c->resp, msg, len);
	c->resp_len = len;
	if (sc->verbose)
		fprintf(
		    stderr, "  client %s: answered (%zu bytes)\n", c->id, len);
}

/* The Extended DNS Error code of a response's OPT record (RFC 8914), as
 * a client reads it, or MD_EDE_NONE. */
static uint16_t
response_ede(const uint8_t *m, size_t len)
{
	uint8_t name[MD_NAME_MAX];
	size_t off = 12;
	unsigned qd, rrs;

	if (len < 12)
		return MD_EDE_NONE;
	qd = md_read_u16(m + 4);
	rrs = md_read_u16(m + 6) + md_read_u16(m + 8) + md_read_u16(m + 10);
	for (unsigned i = 0; i < qd; i++) {
		if (md_name_read(m, len, &off, name) < 0 || off + 4 > len)
			return MD_EDE_NONE;
		off += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		uint16_t type, rdlen;

		if (md_name_read(m, len, &off, name) < 0 || off + 10 > len)
			return MD_EDE_NONE;
		type = md_read_u16(m + off);
		rdlen = md_read_u16(m + off + 8);
		off += 10;
		if (off + rdlen > len)
			return MD_EDE_NONE;
		for (size_t o = off;
		     type == MD_TYPE_OPT && o + 4 <= off + rdlen;) {
			uint16_t code = md_read_u16(m + o);
			uint16_t olen = md_read_u16(m + o + 2);

			if (code == 15 && olen >= 2 && o + 6 <= off + rdlen)
				return md_read_u16(m + o + 4);
			o += 4 + (size_t)olen;
		}
		off += rdlen;
	}
	return MD_EDE_NONE;
}

/* A resolution's answer to client c (the server's waiter callback). */
static void
resolution_answer_cb(
    void *arg, const uint8_t *msg, size_t len, const struct md_request *req)
{
	struct client *c = arg;
	const struct md_result *r = md_resolve_result(req);
	struct md_trace_event **tail = &c->trace;

	take_answer(c, msg, len);
	c->source = SOURCE_RESOLUTION;
	c->rcode = r->rcode;
	c->ede = response_ede(msg, len);
	c->reason = r->reason != NULL ? strdup(r->reason) : NULL;
	c->from_cache = r->from_cache;
	c->upstream_queries = r->upstream_queries;
	c->elapsed_ms = r->elapsed_ms;
	for (const struct md_trace_event *ev = md_resolve_trace(req);
	     ev != NULL; ev = ev->next) {
		struct md_trace_event *copy = malloc(sizeof(*copy));

		assert_non_null(copy);
		*copy = *ev;
		copy->next = NULL;
		copy->why = ev->why != NULL ? strdup(ev->why) : NULL;
		*tail = copy;
		tail = &copy->next;
	}
}

static void
trace_tap_cb(void *arg, const struct md_trace_event *ev)
{
	const struct scenario *sc = arg;

	if (sc->verbose)
		print_event(ev, "  trace: ");
}

static struct client *
find_client(const struct scenario *sc, const char *id)
{
	for (size_t i = 0; i < sc->nclients; i++) {
		if (strcmp(sc->clients[i]->id, id) == 0)
			return sc->clients[i];
	}
	return NULL;
}

/* QUERY: a client sends its query into the server's UDP path. */
static void
run_query(struct scenario *sc, const struct rpl_step *st)
{
	const struct rpl_entry *e = st->entry;
	struct sockaddr_in *sin;
	struct client *c;
	uint8_t out[UDP_OUT_MAX];
	struct md_msg m;
	size_t len;
	int qlen;

	if (find_client(sc, st->id) != NULL)
		scenario_fail(sc, st->line, "client %s asked already", st->id);
	if (sc->nclients >= MAX_CLIENTS)
		scenario_fail(sc, st->line, "too many clients");
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	sc->clients[sc->nclients++] = c;
	c->sc = sc;
	md_strlcpy(c->id, st->id, sizeof(c->id));
	c->line = st->line;
	/* Each client its own address and message ID. */
	sin = (struct sockaddr_in *)&c->addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)(20000 + sc->nclients));
	sin->sin_addr.s_addr = htonl(0x7f000001);
	c->addrlen = sizeof(*sin);
	if (st->has_addr) {
		memcpy(&c->addr, &st->addr.ss, st->addr.len);
		c->addrlen = st->addr.len;
	}
	c->msgid = (uint16_t)(0x1000 + 17 * sc->nclients);
	qlen = md_msg_build_query(c->query, sizeof(c->query), c->msgid,
	    e->qname, e->qtype, (e->flags & MD_FLAG_RD) != 0, e->edns, 1232,
	    e->do_bit);
	if (qlen <= 0)
		scenario_fail(sc, st->line, "cannot build the query");
	c->qlen = (size_t)qlen;
	if (e->flags & MD_FLAG_CD)
		c->query[3] |= 0x10;
	sc->cur = c;
	if (sc->verbose) {
		parse_msg(sc, c->query, c->qlen, &m, "the client's query");
		fprintf(stderr, "%s: STEP %u QUERY client %s\n", sc->name,
		    st->num, c->id);
	}
	len = md_srv_udp_answer(sc->srv->w[0], -1, &c->addr, c->addrlen,
	    c->query, c->qlen, out, sizeof(out), md_now_us(),
	    resolution_answer_cb, c);
	if (len == 0)
		return; /* a resolution will answer (or nobody) */
	parse_msg(sc, out, len, &m, "the server's response");
	take_answer(c, out, len);
	c->rcode = m.hdr.flags & 0xf;
	c->ede = response_ede(out, len);
	/* Not from a resolution: a local zone's when one holds the name,
	 * unless the answer has records from outside the local zones (a
	 * local chain leading out, completed from the cache); else the
	 * cache's. */
	c->source = md_zone_set_find(sc->srv->w[0]->zones, e->qname) != NULL
	    ? SOURCE_LOCAL
	    : SOURCE_CACHE;
	for (unsigned i = 0; i < m.nrr; i++) {
		if (m.rrs[i].section == MD_SECTION_ANSWER &&
		    md_zone_set_find(sc->srv->w[0]->zones, m.rrs[i].owner) ==
			NULL)
			c->source = SOURCE_CACHE;
	}
}

/* Answer outstanding queries from the RANGEs until c has its answer. */
static void
wait_for(struct scenario *sc, const struct rpl_step *st, struct client *c)
{
	for (unsigned i = 0; !c->answered && sc->out != NULL; i++) {
		if (i >= MAX_SENDS)
			scenario_fail(sc, st->line,
			    "client %s: no answer after %d upstream queries",
			    c->id, MAX_SENDS);
		play_next(sc);
	}
	if (!c->answered)
		scenario_fail(sc, st->line,
		    "client %s (line %u) has no answer, and no upstream query "
		    "is outstanding",
		    c->id, c->line);
}

/* The current answer's client, answered. */
static struct client *
current(struct scenario *sc, const struct rpl_step *st)
{
	if (sc->cur == NULL)
		scenario_fail(sc, st->line, "check before any QUERY");
	wait_for(sc, st, sc->cur);
	return sc->cur;
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
		md_strlcpy(f[n++],
		    ev->tls	  ? "dot"
			: ev->tcp ? "tcp"
				  : "udp",
		    MD_NAME_STRLEN);
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
	    k == MD_TRACE_TCP_RETRY || k == MD_TRACE_EDNS_FALLBACK ||
	    k == MD_TRACE_QMIN_FALLBACK;
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

/* Does the event match the pattern line (without a leading "no")? */
static bool
event_matches(const struct md_trace_event *ev, const char *pattern)
{
	char copy[1024];
	char *tok[MAX_TOKENS];
	char f[6][MD_NAME_STRLEN];
	size_t n, nf;

	md_strlcpy(copy, pattern, sizeof(copy));
	/* "FIELDS -- TEXT": the event's why contains TEXT too. */
	char *dashes = strstr(copy, " -- ");

	if (dashes != NULL) {
		*dashes = '\0';
		if (ev->why == NULL || strstr(ev->why, dashes + 4) == NULL)
			return false;
	}
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
	    {"qmin-fallback", 0},
	};
	char copy[1024];
	char *tok[MAX_TOKENS];
	char *dashes;
	size_t n;

	md_strlcpy(copy, p, sizeof(copy));
	dashes = strstr(copy, " -- ");
	if (dashes != NULL)
		*dashes = '\0';
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
dump_trace(const struct scenario *sc, const struct client *c)
{
	unsigned i = 0;

	fprintf(stderr, "%s: the trace of client %s's answer was:%s\n",
	    sc->name, c->id,
	    c->source != SOURCE_RESOLUTION ? " (none: no resolution)" : "");
	for (const struct md_trace_event *ev = c->trace;
	     ev != NULL && i < MAX_EVENTS; ev = ev->next, i++)
		print_event(ev, "    ");
}

static void
check_trace(struct scenario *sc, const struct rpl_step *st)
{
	const struct client *c = current(sc, st);
	const struct md_trace_event *ev = c->trace;
	unsigned guard = 0;

	for (size_t i = 0; i < st->ntlines; i++) {
		const char *p = st->tlines[i].text;

		check_pattern(
		    sc, &st->tlines[i], strncmp(p, "no ", 3) == 0 ? p + 3 : p);
		if (strncmp(p, "no ", 3) == 0) {
			unsigned k = 0;

			for (const struct md_trace_event *e = c->trace;
			     e != NULL && k < MAX_EVENTS; e = e->next, k++) {
				if (event_matches(e, p + 3)) {
					dump_trace(sc, c);
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
			dump_trace(sc, c);
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

static const char *const section_names[] = {
    "QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"};

static void
check_section(struct scenario *sc, const struct rpl_step *st,
    const struct client *c, const struct md_msg *m, enum md_section sec)
{
	const struct rpl_entry *e = st->entry;
	struct flat got[MAX_RR * 2], want[MAX_RR];
	size_t ngot = 0, nwant = e->nrr[sec];
	bool ok;

	for (unsigned i = 0; i < m->nrr && ngot < MAX_RR * 2; i++) {
		const struct md_msg_rr *rr = &m->rrs[i];

		if (rr->section != sec)
			continue;
		got[ngot].owner = rr->owner;
		got[ngot].type = rr->type;
		got[ngot].ttl = rr->ttl;
		got[ngot].rdlen = rr->rdlen;
		got[ngot].rdata = rr->rdata;
		got[ngot].used = false;
		ngot++;
	}
	ok = ngot == nwant;
	for (size_t i = 0; i < nwant; i++) {
		const struct rpl_rr *rr = &e->rrs[sec][i];

		want[i].owner = rr->owner;
		want[i].type = rr->type;
		want[i].ttl = rr->ttl;
		want[i].rdlen = rr->rdlen;
		want[i].rdata = rr->rdata;
		want[i].used = false;
	}
	for (size_t i = 0; i < nwant && ok && e->m_order; i++)
		ok = rr_equal(&want[i], &got[i], e->m_ttl);
	for (size_t i = 0; i < nwant && ok && !e->m_order; i++) {
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
	fprintf(stderr, "%s: client %s: %s section: expected\n", sc->name,
	    c->id, section_names[sec]);
	for (size_t i = 0; i < nwant; i++)
		print_flat("    ", &want[i]);
	fprintf(stderr, "  got\n");
	for (size_t i = 0; i < ngot; i++)
		print_flat("    ", &got[i]);
	dump_trace(sc, c);
	scenario_fail(sc, st->line, "%s section differs", section_names[sec]);
}

static void
flags_str(uint16_t f, char *buf, size_t size)
{
	static const struct {
		const char *word;
		uint16_t flag;
	} words[] = {{"QR", MD_FLAG_QR}, {"AA", MD_FLAG_AA}, {"TC", MD_FLAG_TC},
	    {"RD", MD_FLAG_RD}, {"RA", MD_FLAG_RA}, {"AD", MD_FLAG_AD},
	    {"CD", MD_FLAG_CD}};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if ((f & words[i].flag) && used < size)
			used += (size_t)snprintf(buf + used, size - used,
			    "%s%s", used > 0 ? " " : "", words[i].word);
	}
}

#define HDR_FLAGS                                                         \
	(MD_FLAG_QR | MD_FLAG_AA | MD_FLAG_TC | MD_FLAG_RD | MD_FLAG_RA | \
	    MD_FLAG_AD | MD_FLAG_CD)

static void
check_answer(struct scenario *sc, const struct rpl_step *st)
{
	const struct rpl_entry *e = st->entry;
	struct client *c = NULL;
	struct md_msg m;
	char got[64], want[64];

	if (st->id[0] != '\0') {
		c = find_client(sc, st->id);
		if (c == NULL)
			scenario_fail(sc, st->line, "no client %s", st->id);
	} else {
		/* The oldest answer not checked yet; else wait for the
		 * oldest client without one. */
		for (size_t i = 0; i < sc->nclients; i++) {
			struct client *k = sc->clients[i];

			if (k->answered && !k->checked &&
			    (c == NULL || k->order < c->order))
				c = k;
		}
		for (size_t i = 0; c == NULL && i < sc->nclients; i++) {
			if (!sc->clients[i]->answered)
				c = sc->clients[i];
		}
		if (c == NULL)
			scenario_fail(sc, st->line, "no answer left to check");
	}
	wait_for(sc, st, c);
	c->checked = true;
	sc->cur = c;
	parse_msg(sc, c->resp, c->resp_len, &m, "the server's response");
	if (m.hdr.id != c->msgid)
		scenario_fail(sc, st->line,
		    "client %s: response ID %u, sent %u", c->id, m.hdr.id,
		    c->msgid);
	if (e->has_question &&
	    (m.qtype != e->qtype || !md_name_equal(m.qname, e->qname)))
		scenario_fail(
		    sc, st->line, "client %s: another question", c->id);
	if ((m.hdr.flags & 0xf) != (e->rcode & 0xf)) {
		dump_trace(sc, c);
		scenario_fail(sc, st->line,
		    "client %s: rcode %s, expected %s (reason: %s)", c->id,
		    md_rcode_str(m.hdr.flags & 0xf), md_rcode_str(e->rcode),
		    c->reason != NULL ? c->reason : "none");
	}
	if (e->m_flags && (m.hdr.flags & HDR_FLAGS) != e->flags) {
		flags_str(m.hdr.flags & HDR_FLAGS, got, sizeof(got));
		flags_str(e->flags, want, sizeof(want));
		scenario_fail(sc, st->line,
		    "client %s: flags '%s', expected '%s'", c->id, got, want);
	}
	if (e->m_flags && e->edns &&
	    (!m.edns.present || m.edns.do_bit != e->do_bit))
		scenario_fail(sc, st->line,
		    "client %s: %s, expected an OPT record with DO %s", c->id,
		    !m.edns.present ? "no OPT record" : "DO differs",
		    e->do_bit ? "set" : "clear");
	check_section(sc, st, c, &m, MD_SECTION_ANSWER);
	check_section(sc, st, c, &m, MD_SECTION_AUTHORITY);
	if (e->nrr[MD_SECTION_ADDITIONAL] > 0)
		check_section(sc, st, c, &m, MD_SECTION_ADDITIONAL);
}

/* CHECK_OUT_QUERY: the oldest outstanding query not checked yet. */
static void
check_out_query(struct scenario *sc, const struct rpl_step *st)
{
	const struct rpl_entry *e = st->entry;
	struct outq *o = sc->out;
	char abuf[MD_SOCKADDR_STRLEN], wbuf[MD_SOCKADDR_STRLEN];
	char nbuf[MD_NAME_STRLEN], wname[MD_NAME_STRLEN];
	uint16_t flags, want;
	struct md_msg q;
	size_t len;

	while (o != NULL && o->checked)
		o = o->next;
	if (o == NULL)
		scenario_fail(sc, st->line, "no upstream query outstanding");
	o->checked = true;
	parse_msg(sc, o->query, o->len, &q, "an upstream query");
	addr_str(&o->server, abuf, sizeof(abuf));
	addr_str(&st->addr, wbuf, sizeof(wbuf));
	md_name_to_str(q.qname, nbuf, sizeof(nbuf));
	md_name_to_str(e->qname, wname, sizeof(wname));
	if (strcmp(abuf, wbuf) != 0)
		scenario_fail(sc, st->line, "query #%u (%s) went to %s, not %s",
		    o->seq, nbuf, abuf, wbuf);
	if (o->tcp != st->tcp)
		scenario_fail(sc, st->line, "query #%u went over %s", o->seq,
		    o->tcp ? "tcp" : "udp");
	len = md_name_len(e->qname);
	if (md_name_len(q.qname) != len ||
	    memcmp(q.qname, e->qname, len) != 0 || q.qtype != e->qtype)
		scenario_fail(sc, st->line,
		    "query #%u asks %s type %u, expected %s type %u", o->seq,
		    nbuf, q.qtype, wname, e->qtype);
	if (!e->has_reply)
		return;
	flags = q.hdr.flags & (MD_FLAG_RD | MD_FLAG_CD);
	want = e->flags & (MD_FLAG_RD | MD_FLAG_CD);
	if (flags != want || q.edns.present != e->edns ||
	    (q.edns.present && q.edns.do_bit != e->do_bit))
		scenario_fail(sc, st->line,
		    "query #%u: RD %d CD %d EDNS %d DO %d, expected RD %d CD "
		    "%d EDNS %d DO %d",
		    o->seq, !!(flags & MD_FLAG_RD), !!(flags & MD_FLAG_CD),
		    q.edns.present, q.edns.do_bit, !!(want & MD_FLAG_RD),
		    !!(want & MD_FLAG_CD), e->edns, e->do_bit);
}

/* REPLY: the oldest outstanding query, from the step's entry or the
 * RANGEs'. */
static void
run_reply(struct scenario *sc, const struct rpl_step *st)
{
	const struct rpl_entry *e = st->entry;
	struct outq *o = sc->out;
	struct md_msg q;

	/* #N: that query; else the oldest still awaited (not retransmitted),
	 * or the oldest. */
	for (struct outq *p = sc->out; p != NULL; p = p->next) {
		if (st->value != 0 ? p->seq == st->value : !p->retransmitted) {
			o = p;
			break;
		}
	}
	if (st->value != 0 && (o == NULL || o->seq != st->value))
		scenario_fail(
		    sc, st->line, "query #%lld is not outstanding", st->value);
	if (o == NULL)
		scenario_fail(sc, st->line, "no upstream query to reply to");
	if (e == NULL) {
		parse_msg(sc, o->query, o->len, &q, "an upstream query");
		e = find_entry(sc, &o->server, &q, o->tcp);
		if (e == NULL)
			scenario_fail(sc, st->line,
			    "no RANGE entry answers query #%u", o->seq);
	}
	reply_to(sc, o, e, sc->clock_ms + REPLY_RTT);
}

/* TIME_PASSES: queries whose deadline passed time out, earliest first. */
static void
time_passes(struct scenario *sc, uint64_t ms)
{
	uint64_t until = sc->clock_ms + ms;

	for (;;) {
		struct outq *first = NULL;

		for (struct outq *o = sc->out; o != NULL; o = o->next) {
			if (deadline(o) <= until &&
			    (first == NULL || deadline(o) < deadline(first)))
				first = o;
		}
		if (first == NULL)
			break;
		expire(sc, first);
	}
	if (sc->clock_ms < until)
		sc->clock_ms = until;
}

/* TIMEOUT: the oldest query with its retransmission timer set times out
 * (it stays open); with none, the oldest query closes. */
static void
timeout_step(struct scenario *sc)
{
	for (struct outq *o = sc->out; o != NULL; o = o->next) {
		if (o->timer != NULL) {
			retransmit(sc, o);
			return;
		}
	}
	time_out(sc, sc->out);
}

/* ---- running ----------------------------------------------------------- */

static void
run_step(struct scenario *sc, const struct rpl_step *st)
{
	const struct client *c;

	sc->cur_step = st->num;
	if (sc->verbose && st->kind != STEP_QUERY)
		fprintf(stderr, "%s: STEP %u (line %u)\n", sc->name, st->num,
		    st->line);
	switch (st->kind) {
	case STEP_QUERY:
		run_query(sc, st);
		break;
	case STEP_CHECK_ANSWER:
		check_answer(sc, st);
		break;
	case STEP_CHECK_OUT_QUERY:
		check_out_query(sc, st);
		break;
	case STEP_REPLY:
		run_reply(sc, st);
		break;
	case STEP_TIMEOUT:
		if (sc->out == NULL)
			scenario_fail(sc, st->line, "no query to time out");
		timeout_step(sc);
		break;
	case STEP_TIME_PASSES:
		time_passes(sc, (uint64_t)st->value * 1000);
		break;
	case STEP_CHECK_TRACE:
		check_trace(sc, st);
		break;
	case STEP_CHECK_EDE:
		c = current(sc, st);
		if (c->ede != st->value)
			scenario_fail(sc, st->line, "EDE %u, expected %lld",
			    c->ede, st->value);
		break;
	case STEP_CHECK_REASON:
		c = current(sc, st);
		if (c->reason == NULL || strstr(c->reason, st->text) == NULL)
			scenario_fail(sc, st->line,
			    "reason '%s' does not contain '%s'",
			    c->reason != NULL ? c->reason : "(none)", st->text);
		break;
	case STEP_CHECK_QUERIES:
		c = current(sc, st);
		if (c->upstream_queries != st->value) {
			dump_trace(sc, c);
			scenario_fail(sc, st->line,
			    "%u upstream queries, expected %lld",
			    c->upstream_queries, st->value);
		}
		if (st->value == 0 && c->source == SOURCE_RESOLUTION &&
		    !c->from_cache)
			scenario_fail(sc, st->line, "not from the cache");
		break;
	case STEP_CHECK_SOURCE:
		c = current(sc, st);
		if (c->source != st->value)
			scenario_fail(sc, st->line, "the answer came from %s",
			    c->source == SOURCE_LOCAL	    ? "a local zone"
				: c->source == SOURCE_CACHE ? "the cache"
							    : "a resolution");
		break;
	case STEP_CHECK_OUTSTANDING: {
		long long n = 0;

		for (const struct outq *o = sc->out; o != NULL; o = o->next)
			n++;
		if (n != st->value)
			scenario_fail(sc, st->line,
			    "%lld upstream queries outstanding, expected %lld",
			    n, st->value);
		break;
	}
	case STEP_CHECK_SENT:
		if (sc->nsent != st->value)
			scenario_fail(sc, st->line,
			    "%u upstream queries sent so far, expected %lld",
			    sc->nsent, st->value);
		break;
	case STEP_CHECK_ELAPSED:
		c = current(sc, st);
		if (c->elapsed_ms > (uint64_t)st->value)
			scenario_fail(sc, st->line,
			    "took %llu ms, expected at most %lld",
			    (unsigned long long)c->elapsed_ms, st->value);
		break;
	}
}

/* The end: no query outstanding, every client answered. */
static void
check_end(struct scenario *sc)
{
	char abuf[MD_SOCKADDR_STRLEN], nbuf[MD_NAME_STRLEN];
	unsigned bad = 0;

	for (const struct outq *o = sc->out; o != NULL; o = o->next) {
		struct md_msg q;

		parse_msg(sc, o->query, o->len, &q, "an upstream query");
		md_name_to_str(q.qname, nbuf, sizeof(nbuf));
		fprintf(stderr, "%s: query #%u to %s for %s is outstanding\n",
		    sc->name, o->seq, addr_str(&o->server, abuf, sizeof(abuf)),
		    nbuf);
		bad++;
	}
	for (size_t i = 0; i < sc->nclients; i++) {
		if (!sc->clients[i]->answered) {
			fprintf(stderr,
			    "%s: client %s (line %u) has no answer\n", sc->name,
			    sc->clients[i]->id, sc->clients[i]->line);
			bad++;
		}
	}
	if (bad > 0)
		scenario_fail(sc, sc->lineno,
		    "the scenario ends with %u upstream queries outstanding "
		    "or clients unanswered (listed above)",
		    bad);
}

/* The server of the scenario's CONFIG: one worker, no socket, no thread,
 * the fake network and clock. */
static void
start_server(struct scenario *sc)
{
	struct md_zone_source src[MAX_LOCAL];
	struct md_resolve_conf *rc;
	struct worker *wk;
	char err[512];

	if (md_config_finish(sc->cfg, err, sizeof(err)) != 0)
		fail_msg("%s: CONFIG: %s", sc->path, err);
	/* The engine's own settings, before anyone shares the snapshot. */
	rc = sc->cfg->resolve;
	if (sc->nhints > 0) {
		memcpy(rc->hints, sc->hints, sizeof(sc->hints));
		rc->nhints = sc->nhints;
		/* a root of the scenario's own: as the daemon does with
		 * root-hints and no trust anchor, no validation against the
		 * IANA keys unless asked for */
		if (!sc->cfg->dnssec_set)
			rc->validate = false;
	}
	if (sc->upstream_timeout_ms != 0)
		rc->upstream_timeout_ms = sc->upstream_timeout_ms;
	if (sc->max_subquery_depth >= 0)
		rc->max_subquery_depth = (unsigned)sc->max_subquery_depth;
	if (sc->edns_size != 0)
		rc->edns_size = sc->edns_size;
	sc->base = event_base_new();
	assert_non_null(sc->base);
	sc->srv = md_server_new(sc->base, sc->cfg);
	assert_non_null(sc->srv);
	sc->srv->now_ms = fake_now_cb;
	sc->srv->clock_arg = sc;
	sc->srv->trace_tap = trace_tap_cb;
	sc->srv->trace_arg = sc;
	wk = sc->srv->w[0];
	wk->transport.send = fake_send;
	wk->transport.cancel = fake_cancel;
	wk->transport.timer = fake_timer;
	wk->transport.timer_cancel = fake_timer_cancel;
	wk->transport.ctx = sc;
	wk->primed = !sc->prime;
	for (size_t i = 0; i < sc->nseeds; i++)
		md_infra_rtt(sc->srv->infra, &sc->seed_addr[i], sc->seed_rtt[i],
		    sc->clock_ms);
	if (sc->nlocal > 0) {
		struct md_zone_set *zs;

		memset(src, 0, sizeof(src));
		for (size_t i = 0; i < sc->nlocal; i++) {
			src[i].file = sc->path;
			src[i].text = sc->local_text[i];
			src[i].origin = sc->local_origin[i];
			src[i].format = MD_ZONE_FORMAT_RFC1035;
		}
		zs = md_zone_set_load(src, sc->nlocal, err, sizeof(err));
		if (zs == NULL)
			fail_msg("%s: local-zone: %s", sc->path, err);
		md_server_set_zones(sc->srv, zs);
	}
}

static int
setup(void **state)
{
	const char *path = *state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	const char *slash;

	assert_non_null(sc);
	md_strlcpy(sc->path, path, sizeof(sc->path));
	slash = strrchr(sc->path, '/');
	sc->name = slash != NULL ? slash + 1 : sc->path;
	sc->verbose = getenv("MD_REPLAY_VERBOSE") != NULL;
	sc->clock_ms = T0;
	sc->max_subquery_depth = -1;
	md_arena_init(&sc->arena, 8192);
	sc->cfg = md_config_new();
	assert_non_null(sc->cfg);
	/* One worker; test networks are private. */
	sc->cfg->threads = 1;
	sc->cfg->allow_private_upstreams = true;
	*state = sc;
	return 0;
}

static int
teardown(void **state)
{
	struct scenario *sc = *state;

	if (sc == NULL)
		return 0;
	md_server_free(sc->srv); /* cancels what is outstanding */
	while (sc->out != NULL)
		fake_cancel(sc, sc->out);
	if (sc->base != NULL)
		event_base_free(sc->base);
	md_config_unref(sc->cfg);
	for (size_t i = 0; i < sc->nclients; i++)
		client_free(sc->clients[i]);
	for (size_t i = 0; i < sc->nlocal; i++)
		free(sc->local_text[i]);
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
	start_server(sc);
	for (size_t i = 0; i < sc->nsteps; i++)
		run_step(sc, sc->steps[i]);
	check_end(sc);
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

	/* SERVFAIL lines and the like would only hide the runner's. */
	if (getenv("MD_REPLAY_VERBOSE") == NULL)
		md_log_set_level(MD_LOG_WARN);
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
