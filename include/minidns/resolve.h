/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resolve.h - the resolution engine: iterative resolution from the root
 * hints down to the authoritative servers, as one explicit state machine
 * per client query.  It does NO I/O.
 *
 * How to drive it (the server's workers, minidig +trace and the replay
 * tests all do exactly this):
 *
 *	req = md_resolve_new(env, qname, qtype, 0);
 *	while ((step = md_resolve_step(req, &send)) != MD_STEP_DONE) {
 *		if (step == MD_STEP_SEND)
 *			hand 'send' to the network (net.h);
 *		wait for the network; then call md_resolve_reply() or
 *		md_resolve_fail() with send.token;
 *	}
 *	use md_resolve_result(req), then md_resolve_free(req);
 *
 * A request waits for one upstream query at a time, but earlier attempts
 * at the same question stay open: when send.timeout_ms passes without a
 * reply, report a timeout (md_resolve_fail()) and keep listening until
 * send.open_ms, so that a slow server's late reply still counts
 * (md_resolve_reply() takes it while md_resolve_open() says so).  At most
 * MD_RESOLVE_OPEN_MAX attempts are open at once.  Every transition emits a
 * trace event (struct md_trace_event) into the request, which the
 * daemon's debug log, minidig +trace and the replay tests read.
 *
 * Every limit (upstream queries, referral depth, CNAME chain, NS names
 * resolved per delegation, sub-query depth, overall time) is enforced in
 * md_resolve_step(), and exceeding one ends the request with SERVFAIL, an
 * Extended DNS Error (RFC 8914) and a reason.
 */
#ifndef MINIDNS_RESOLVE_H
#define MINIDNS_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/cache.h"
#include "minidns/upstream.h"
#include "minidns/util.h"
#include "minidns/wire.h"

/* ---- configuration and shared state ------------------------------------ */

struct md_root_hint {
	uint8_t name[MD_NAME_MAX]; /* e.g. a.root-servers.net. */
	struct md_sockaddr addr;
};

#define MD_ROOT_HINTS_MAX 64
#define MD_FORWARD_ZONES_MAX 32
#define MD_FORWARD_SERVERS_MAX 8

/* How a forward zone picks among its upstreams. */
enum md_forward_policy {
	MD_FORWARD_RTT = 0,    /* smoothed RTT, random among near-equals */
	MD_FORWARD_SEQUENTIAL, /* in the order given, next on failure */
	MD_FORWARD_RANDOM,     /* any healthy one */
};

/*
 * Names at or below 'zone' are not resolved from the root but asked of
 * these upstreams, with RD set (they are resolvers, or the authority for
 * the zone).  The longest matching zone wins; "." forwards everything.
 */
struct md_forward_zone {
	uint8_t zone[MD_NAME_MAX];
	struct md_upstream servers[MD_FORWARD_SERVERS_MAX];
	size_t nservers;
	bool force_tcp; /* TCP (or TLS) even for the first try */
	enum md_forward_policy policy;
	/* The zone's own caps on what its answers are kept and given out
	 * for (node-local-dns caches cluster denials 5 s); 0: the global
	 * cache-max-ttl / cache-max-negative-ttl alone. */
	uint32_t max_ttl;
	uint32_t max_negative_ttl;
	/* insecure: yes: its answers are not validated (a private zone
	 * under a signed public name, split horizon) */
	bool insecure;
};

const char *md_forward_policy_str(enum md_forward_policy p);

struct md_resolve_conf;
/* The forward zone of conf that name falls in (longest match), or NULL. */
const struct md_forward_zone *md_resolve_find_forward(
    const struct md_resolve_conf *conf, const uint8_t *name);

/* Default limits per client request; the config's defaults are these. */
#define MD_RESOLVE_MAX_QUERIES 32 /* as Unbound's max-sent-count */
#define MD_RESOLVE_MAX_DEPTH 30
#define MD_RESOLVE_MAX_CNAME 11
#define MD_RESOLVE_MAX_NS_NAMES 6
#define MD_RESOLVE_TIMEOUT_MS 5000 /* resolve-timeout, as Unbound's patience */
#define MD_RESOLVE_OPEN_MAX 4	   /* attempts of one question open at once */
#define MD_RESOLVE_SERVFAIL_TTL 5  /* seconds a failure is cached */
#define MD_RESOLVE_NORR_TTL 5	   /* a negative answer without SOA */

/*
 * A DNSSEC trust anchor: one DS or DNSKEY record (RFC 4033 §2) of a zone.
 * The zone's DNSKEY set is secure when a key of it matches an anchor and
 * signs the set.
 */
#define MD_TRUST_ANCHORS_MAX 16
#define MD_TRUST_ANCHOR_RDATA_MAX 1100 /* an RSA-4096 DNSKEY and more */
struct md_trust_anchor {
	uint8_t zone[MD_NAME_MAX];
	uint16_t type; /* MD_TYPE_DS or MD_TYPE_DNSKEY */
	uint16_t rdlen;
	uint8_t rdata[MD_TRUST_ANCHOR_RDATA_MAX];
};
#define MD_INSECURE_MAX 64
#define MD_VAL_BOGUS_TTL 60 /* val-bogus-ttl: seconds bogus data is kept */

struct md_resolve_conf {
	struct md_root_hint hints[MD_ROOT_HINTS_MAX];
	size_t nhints;
	/* DNSSEC validation (val.c, RFC 4033-4035): on when validate is
	 * set and an anchor is there; names at or below insecure[] (the
	 * built-in special-use names, domain-insecure, RFC 7646) and below
	 * insecure forward zones are not validated. */
	bool validate;
	struct md_trust_anchor anchors[MD_TRUST_ANCHORS_MAX];
	size_t nanchors;
	uint8_t insecure[MD_INSECURE_MAX][MD_NAME_MAX];
	size_t ninsecure;
	uint32_t val_bogus_ttl;	       /* val-bogus-ttl (60) */
	unsigned nsec3_max_iterations; /* more: insecure (RFC 9276), 150 */
	bool aggressive_nsec;	       /* RFC 8198 */
	struct md_forward_zone forward[MD_FORWARD_ZONES_MAX];
	size_t nforward;
	bool qname_minimisation;	/* RFC 9156, relaxed (default on) */
	bool qname_minimisation_strict; /* no full-name fallback */
	bool allow_private;		/* upstreams on loopback/private nets */
	bool use_0x20;			/* random case in upstream qnames */
	bool edns;			/* send EDNS (default on) */
	uint16_t edns_size;		/* advertised upstream (1232) */
	unsigned max_queries;		/* upstream queries per request (64) */
	unsigned max_depth;		/* referrals followed (30) */
	unsigned max_cname;		/* CNAMEs followed (11) */
	unsigned max_ns_names;		/* glueless NS names per zone cut (6) */
	unsigned max_subquery_depth;	/* nested NS address look-ups (4) */
	uint32_t timeout_ms;		/* whole request (5000) */
	uint32_t upstream_timeout_ms; /* first try to an unknown server (400) */
	uint32_t servfail_ttl;	      /* RFC 9520: failures cached (5 s) */
	bool tcp_only; /* every query over TCP from the start (minidig +tcp) */
};

/* Defaults as above, with the built-in IANA root hints. */
void md_resolve_conf_init(struct md_resolve_conf *conf);
/*
 * Read root hints in master-file form (the named.root layout: NS records
 * of "." and the A/AAAA records of those names), replacing conf's.
 * Returns 0 or MD_EPARSE with "FILE:LINE: problem" in err.
 */
int md_resolve_load_hints(
    struct md_resolve_conf *conf, const char *path, char *err, size_t errlen);
/*
 * Read DNSSEC trust anchors (DS or DNSKEY records in master-file form;
 * DNSKEYs must have the zone key flag and not the REVOKE flag) and append
 * them to conf->anchors.  Returns 0, or MD_EPARSE / -errno with
 * "FILE:LINE: problem" in err (conf's anchors as they were).
 */
int md_resolve_load_anchors(
    struct md_resolve_conf *conf, const char *path, char *err, size_t errlen);
/* How many of conf->insecure[] md_resolve_conf_init() puts there. */
size_t md_resolve_builtin_insecure(void);

/*
 * The infrastructure cache: per server address, smoothed RTT and variance
 * (RFC 6298 style), time of the last timeout, hold-down of lame or dead
 * servers, and whether it copes with EDNS.  Shared by all requests;
 * thread-safe.
 */
struct md_infra;
struct md_infra *md_infra_new(size_t max_entries);
void md_infra_free(struct md_infra *infra);

/* What the infrastructure cache knows of a server (for server selection,
 * and for the server's health checks of forwarders). */

struct md_infra_info {
	bool known;
	uint32_t srtt_ms;
	uint32_t rto_ms;
	bool dead;   /* held down after repeated timeouts */
	bool lame;   /* held down as lame for this zone */
	bool noedns; /* answers FORMERR/NOTIMP to EDNS */
};

void md_infra_get(struct md_infra *infra, const struct md_sockaddr *sa,
    const uint8_t *zone, uint64_t now_ms, uint32_t initial_rto,
    struct md_infra_info *out);
void md_infra_rtt(struct md_infra *infra, const struct md_sockaddr *sa,
    uint32_t rtt_ms, uint64_t now_ms);
void md_infra_timeout(struct md_infra *infra, const struct md_sockaddr *sa,
    uint32_t sent_rto, uint64_t now_ms);
void md_infra_lame(struct md_infra *infra, const struct md_sockaddr *sa,
    const uint8_t *zone, uint64_t now_ms);
void md_infra_noedns(
    struct md_infra *infra, const struct md_sockaddr *sa, uint64_t now_ms);

/* What a request needs from its surroundings; owned by the caller. */
struct md_resolve_env {
	const struct md_resolve_conf *conf;
	struct md_cache *cache;
	struct md_infra *infra;
	uint64_t (*now_ms)(void *clock_arg); /* NULL: md_now_ms() */
	void *clock_arg;
	/* Every random choice of the engine (server among equals, 0x20
	 * case): NULL is the kernel's randomness; a seeded source makes a
	 * walk repeatable (minidig +seed). */
	struct md_rng *rng;
	/* Negative trust anchors added at run time (minidns-control nta),
	 * or NULL */
	struct md_nta *nta;
	/* aggressive-nsec: the validated NSEC records (NULL: none kept) */
	struct md_nsec_store *nsecs;
	/* RRsets whose signatures verified, not checked again (NULL: none) */
	struct md_val_memo *memo;
};

/* ---- DNSSEC: aggressive use of validated NSEC (val_agg.c, RFC 8198) ---- */

/* A thread-safe store of NSEC records that validated, per zone. */
struct md_nsec_store;
struct md_nsec_store *md_nsec_store_new(void);
void md_nsec_store_free(struct md_nsec_store *st);
/* Forget everything (a flush of the cache, a new negative trust anchor). */
void md_nsec_store_flush(struct md_nsec_store *st);

/* A thread-safe memory of the RRsets (with their RRSIGs and the keys
 * that checked them) whose signatures verified (val_memo.c). */
struct md_val_memo;
struct md_val_memo *md_val_memo_new(void);
void md_val_memo_free(struct md_val_memo *m);
void md_val_memo_flush(struct md_val_memo *m);

/* ---- DNSSEC: negative trust anchors at run time (val_nta.c) ------------ */

/*
 * A thread-safe set of names below which validation is off (RFC 7646),
 * each until its expiry (lifetime 0: until removed).
 */
struct md_nta;
struct md_nta *md_nta_new(void);
void md_nta_free(struct md_nta *nta);
/* Adds name or renews it; 0, -EINVAL or -ENOMEM. */
int md_nta_add(struct md_nta *nta, const uint8_t *name, uint32_t lifetime_s,
    uint64_t now_ms);
/* 0, or MD_ENOTFOUND. */
int md_nta_remove(struct md_nta *nta, const uint8_t *name);
/* Is name at or below a live entry? */
bool md_nta_covers(struct md_nta *nta, const uint8_t *name, uint64_t now_ms);
/* Calls cb for each live entry (seconds left, 0: no expiry). */
void md_nta_walk(struct md_nta *nta, uint64_t now_ms,
    void (*cb)(void *arg, const uint8_t *name, uint32_t left_s), void *arg);

/*
 * Is an answer for name to be validated: validation on, an anchor at or
 * above name, and no insecure domain, negative trust anchor or insecure
 * forward zone over it?
 */
bool md_val_applies(const struct md_resolve_conf *conf, struct md_nta *nta,
    const uint8_t *name, uint64_t now_ms);

/* ---- trace events ------------------------------------------------------ */

enum md_trace_kind {
	MD_TRACE_START = 0,	/* a (sub-)query begins */
	MD_TRACE_CACHE_HIT,	/* answered or delegated from the cache */
	MD_TRACE_DELEGATION,	/* starting point: zone and its servers */
	MD_TRACE_SERVER,	/* server chosen, and why */
	MD_TRACE_SEND,		/* query sent */
	MD_TRACE_REPLY,		/* reply received and classified */
	MD_TRACE_TIMEOUT,	/* no reply in time */
	MD_TRACE_NET_ERROR,	/* refused/unreachable/garbled */
	MD_TRACE_TCP_RETRY,	/* TC set: again over TCP */
	MD_TRACE_EDNS_FALLBACK, /* FORMERR/NOTIMP to EDNS: again without */
	MD_TRACE_REFERRAL,	/* followed a referral */
	MD_TRACE_CNAME,		/* restarted at a CNAME target */
	MD_TRACE_SUBQUERY,	/* looking up an NS name's address */
	MD_TRACE_DONE,		/* (sub-)query finished */
	MD_TRACE_FAIL,		/* request failed: reason */
	MD_TRACE_QMIN_FALLBACK, /* minimised queries failed: the full name */
	MD_TRACE_VALIDATE,	/* DNSSEC: one link of the chain checked */
};

/* MD_TRACE_VALIDATE: which link (val.c) */
enum md_val_step {
	MD_VAL_ANCHOR = 0, /* the trust anchor the chain starts at */
	MD_VAL_DS,	   /* the DS set of a zone, or its proven absence */
	MD_VAL_DNSKEY,	   /* a zone's DNSKEY set against its DS/anchor */
	MD_VAL_RRSET,	   /* an RRset of the answer against its signer */
	MD_VAL_DENIAL,	   /* NSEC/NSEC3 proof of a negative answer */
	MD_VAL_VERDICT,	   /* the answer's security, all links together */
};
const char *md_val_step_str(enum md_val_step s);

/* How a reply was understood (iter_resp.c). */
enum md_reply_class {
	MD_REPLY_ANSWER = 0,
	MD_REPLY_CNAME,
	MD_REPLY_REFERRAL,
	MD_REPLY_NXDOMAIN,
	MD_REPLY_NODATA,
	MD_REPLY_LAME,	  /* not authoritative, or a bad referral */
	MD_REPLY_REFUSED, /* REFUSED, SERVFAIL, NOTIMP, other rcodes */
	MD_REPLY_FORMERR, /* FORMERR/NOTIMP (EDNS trouble?) */
	MD_REPLY_TRUNCATED,
	MD_REPLY_MALFORMED,
};

const char *md_trace_kind_str(enum md_trace_kind k);
const char *md_reply_class_str(enum md_reply_class c);

struct md_trace_event {
	struct md_trace_event *next;
	enum md_trace_kind kind;
	uint64_t time_ms;	    /* since the request began */
	unsigned depth;		    /* 0 = the client's query, 1+ = sub-query */
	uint8_t qname[MD_NAME_MAX]; /* name asked (minimised, as sent) */
	uint16_t qtype;
	uint8_t zone[MD_NAME_MAX];	  /* zone of the servers asked */
	struct md_sockaddr server;	  /* SERVER/SEND/REPLY/TIMEOUT/... */
	uint8_t server_name[MD_NAME_MAX]; /* NS name, or root */
	bool tcp;
	bool tls; /* a forwarder over DNS over TLS (RFC 7858) */
	/* SEND/REPLY/TIMEOUT/NET_ERROR: the name sent is a minimised one
	 * (RFC 9156), not the question's own name and type */
	bool qmin;
	enum md_reply_class reply; /* REPLY */
	int rcode;		   /* REPLY, DONE */
	uint32_t rtt_ms;	   /* REPLY */
	size_t reply_size;	   /* REPLY */
	const char *why;	   /* short text, static or arena-owned */
	/* VALIDATE: the link, what it came to (MD_SEC_*), the RRSIG's or
	 * DS's key tag and algorithm when there is one (zone: the zone whose
	 * keys checked it; qname/qtype: the RRset or question) */
	enum md_val_step val_step;
	enum md_security security;
	uint16_t key_tag;
	uint8_t algorithm;
	uint16_t ede;
	/* REPLY, during the callback only (NULL in md_resolve_trace()):
	 * the reply as received, for tools that print its records. */
	const uint8_t *pkt;
	size_t pkt_len;
};

/* Called for each event as it happens (optional). */
typedef void (*md_trace_cb)(void *arg, const struct md_trace_event *ev);

/* One line of text for an event ("[0] +12ms send www.example. A zone
 * example. server 192.0.2.1:53 (ns1.example.) udp: EDNS"); returns the
 * length written. */
size_t md_trace_format(const struct md_trace_event *ev, char *buf, size_t size);

/* ---- requests ---------------------------------------------------------- */

struct md_request;

enum md_step {
	MD_STEP_SEND = 0,
	MD_STEP_WAIT,
	MD_STEP_DONE,
};

/* One upstream query to send. Valid until the next md_resolve_* call. */
struct md_send {
	uint32_t token; /* give back with the reply/failure */
	struct md_sockaddr server;
	bool tcp;
	/* Forwarded queries: the upstream, with its transport (TLS name and
	 * pin); send with md_net_send_to().  NULL while iterating. */
	const struct md_upstream *upstream;
	const uint8_t *query; /* whole message */
	size_t len;
	/* The retransmission timeout: with no reply by then, report a
	 * timeout and the engine tries again (this server with a longer
	 * timeout, or another).  The query itself stays open, its reply
	 * still welcome, until open_ms (the time left for the question) or
	 * until md_resolve_open() says the question moved on. */
	uint32_t timeout_ms;
	uint32_t open_ms; /* > timeout_ms: the time left, and a little */
};

#define MD_RESOLVE_NO_CACHE 0x1 /* (tests) skip cache look-ups */
/* prefetch: the question itself is not answered from the cache (its
 * delegations and addresses are); the answer replaces the entry */
#define MD_RESOLVE_PREFETCH 0x2
/* an operator's trace: a cached failure (servfail-ttl) is not taken, so
 * the trace shows the walk that fails */
#define MD_RESOLVE_RETRY_FAILED 0x4
/* loop-detect's probe: servers held down (dead or lame) are asked all the
 * same; a loop partner that refused while it was starting must be asked
 * again for the probe to tell anything */
#define MD_RESOLVE_ASK_HELD 0x8

/* A new request for qname/qtype (class IN); NULL when out of memory. */
struct md_request *md_resolve_new(const struct md_resolve_env *env,
    const uint8_t *qname, uint16_t qtype, unsigned flags);
void md_resolve_free(struct md_request *req);
void md_resolve_set_trace(struct md_request *req, md_trace_cb cb, void *arg);

enum md_step md_resolve_step(struct md_request *req, struct md_send *out);
/*
 * The reply to the query sent with 'token': the latest, or an earlier
 * attempt at the same question while it is open (a late reply); others
 * are ignored.
 */
void md_resolve_reply(struct md_request *req, uint32_t token,
    const uint8_t *pkt, size_t len, uint32_t rtt_ms);
/*
 * The query sent with 'token' failed: timeout (its timeout_ms passed; it
 * may stay open for a late reply), or refused/error (closed).  Only the
 * latest query's failure counts.
 */
void md_resolve_fail(struct md_request *req, uint32_t token, bool timeout);
/*
 * May a reply to the query sent with 'token' still be used?  False once
 * the question moved on (an answer, a referral, another name), the
 * request is done, or more than MD_RESOLVE_OPEN_MAX attempts were made
 * since: cancel the query then.
 */
bool md_resolve_open(const struct md_request *req, uint32_t token);

/* ---- the outcome ------------------------------------------------------- */

/* One RRset of the outcome, in an arena of the request. */
struct md_result_rrset {
	struct md_result_rrset *next;
	uint8_t owner[MD_NAME_MAX];
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata_len;
	uint8_t *rdata; /* [u16 len][rdata]... */
	/* DNSSEC records that go with the data (the RRSIGs of the RRset
	 * before it, a denial's NSEC/NSEC3 and their RRSIGs): answered only
	 * to clients that set DO (RFC 4035 §3.2.1) */
	bool dnssec;
	/* what the cache said of it (from the cache), then what validation
	 * found */
	enum md_security security;
	uint16_t ede;	     /* BOGUS: why (RFC 8914) */
	enum md_trust trust; /* as received (for caching after validation) */
};

/* RFC 8914 codes we use */
#define MD_EDE_OTHER 0
#define MD_EDE_STALE_ANSWER 3
#define MD_EDE_NOT_READY 14
#define MD_EDE_NO_REACHABLE_AUTHORITY 22
#define MD_EDE_NETWORK_ERROR 23
#define MD_EDE_NONE 0xffff

struct md_result {
	int rcode;
	struct md_result_rrset *answer;	   /* CNAME chain, then the data */
	struct md_result_rrset *authority; /* SOA of a negative answer */
	uint16_t ede;			   /* MD_EDE_NONE when none */
	const char *reason;		   /* why it failed (SERVFAIL) */
	bool from_cache;		   /* no upstream query was needed */
	bool truncated; /* an upstream's TCP answer was cut (TC): partial */
	/* DNSSEC: the answer's security (UNCHECKED: not validated).  BOGUS
	 * answers keep their data for clients that set CD; others get
	 * SERVFAIL with ede and reason (RFC 4035 §5.5). */
	enum md_security security;
	unsigned upstream_queries;
	uint64_t elapsed_ms;
};

/* Valid after MD_STEP_DONE, until md_resolve_free(). */
const struct md_result *md_resolve_result(const struct md_request *req);
/* Every event so far, oldest first. */
const struct md_trace_event *md_resolve_trace(const struct md_request *req);

#endif /* MINIDNS_RESOLVE_H */
