/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resolve-internal.h - structures shared by the files of the resolution
 * engine (src/resolve/) and nobody else:
 *
 *   iter.c       the request, the state machine, limits, results, trace
 *   iter_resp.c  what a reply means: answer, CNAME, referral, NXDOMAIN,
 *                NODATA, lame (and what to cache from it)
 *   iter_scrub.c what of a reply to believe: bailiwick and section rules
 *   delegpt.c    a delegation point: zone, NS names, addresses
 *   infra.c      per-server RTT, timeouts, lameness, EDNS (shared)
 *   hints.c      root hints, built in or from a file; configuration
 */
#ifndef MINIDNS_RESOLVE_INTERNAL_H
#define MINIDNS_RESOLVE_INTERNAL_H

#include "minidns/resolve.h"
#include "minidns/util.h"
#include "minidns/wire.h"

/* ---- delegation points (delegpt.c) ------------------------------------- */

struct dp_ns {
	struct dp_ns *next;
	uint8_t name[MD_NAME_MAX];
	bool looked_up; /* address sub-query done or refused */
};

struct dp_addr {
	struct dp_addr *next;
	struct md_sockaddr addr;
	const struct dp_ns *ns;	      /* the NS name it belongs to, if known */
	const struct md_upstream *up; /* a forwarder: how to reach it */
	unsigned attempts;	      /* queries sent to it for this zone cut */
	bool failed;		      /* lame, refused or unreachable here */
	bool parent_side; /* the parent's glue where the child's own address
			   * differs: tried only when the others fail */
};

/* NS names a delegation point takes from a referral or the cache: the
 * root has 13 and few zones more than a dozen; a referral naming
 * hundreds is an attack on the resolver's work (bench-worst.sh). */
#define MD_DP_NS_MAX 32

struct delegpt {
	uint8_t zone[MD_NAME_MAX];
	struct dp_ns *ns;
	struct dp_ns *ns_tail;
	unsigned nns;
	struct dp_addr *addrs;
	unsigned naddrs;
	unsigned lookups; /* NS names resolved for this cut (NXNS limit) */
	bool from_hints;
	const struct md_forward_zone *fwd; /* forwarding, not iterating */
};

struct delegpt *md_dp_new(struct md_arena *a, const uint8_t *zone);
/* Adds an NS name unless present or MD_DP_NS_MAX are there; returns it,
 * or NULL. */
struct dp_ns *md_dp_add_ns(
    struct md_arena *a, struct delegpt *dp, const uint8_t *name);
/* Adds an address unless present; returns it or NULL. */
struct dp_addr *md_dp_add_addr(struct md_arena *a, struct delegpt *dp,
    const struct md_sockaddr *sa, const struct dp_ns *ns);
/* Add the addresses of an A or AAAA rdata list ([u16 len][rdata]...).
 * With parent_side, an address new to an NS name that has others already
 * is marked parent_side (a fallback). */
void md_dp_add_rdata(struct md_arena *a, struct delegpt *dp,
    const struct dp_ns *ns, uint16_t type, const uint8_t *rdata,
    uint32_t rdata_len, bool allow_private, bool parent_side);
/* Does the NS name have an address in dp? */
bool md_dp_ns_has_addr(const struct delegpt *dp, const struct dp_ns *ns);
struct dp_ns *md_dp_find_ns(struct delegpt *dp, const uint8_t *name);
/* True for loopback, RFC 1918, link-local, ULA, unspecified addresses. */
bool md_addr_is_private(const struct md_sockaddr *sa);

/* ---- reading replies (iter_scrub.c, iter_resp.c) ----------------------- */

/* One RRset gathered from a reply; rdata in [u16 len][rdata]... form. */
struct rrset {
	struct rrset *next;
	enum md_section section;
	const uint8_t *owner;
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata_len;
	uint8_t *rdata;
	bool synth; /* a CNAME we made from a DNAME: not cached */
};

/* A reply, scrubbed and grouped into RRsets. */
struct reply {
	struct md_msg msg;
	struct rrset *sets;   /* in message order */
	struct rrset **index; /* open addressing over sets: nslots */
	unsigned nslots;      /* a power of two, or 0 (no index) */
	unsigned discarded;   /* RRs dropped by the scrubber */
	bool upward;	      /* it dropped an NS set above the zone asked */
	bool truncated;	      /* TC over TCP: the records that fitted */
	bool aa;
	int rcode;
};

/*
 * Keep only what the server asked (authoritative for 'zone') may tell:
 * class IN, owners at or below the zone, only NS/SOA in the authority
 * section and only A/AAAA in the additional section; then group RRs into
 * RRsets.  Returns 0 or MD_EPARSE.
 */
int md_scrub_reply(struct md_arena *a, const uint8_t *pkt, size_t len,
    const uint8_t *zone, struct reply *out);

#define MD_CLASSIFY_DNAMES 4 /* DNAMEs followed in one reply */

struct classified {
	enum md_reply_class cls;
	/* ANSWER/CNAME: the CNAMEs (and DNAMEs, each followed by the CNAME
	 * made from it) in order, then the data (ANSWER) */
	const struct rrset *chain[16];
	unsigned nchain;
	struct rrset synth[MD_CLASSIFY_DNAMES];
	uint8_t synth_owner[MD_CLASSIFY_DNAMES][MD_NAME_MAX];
	uint8_t synth_rdata[MD_CLASSIFY_DNAMES][2 + MD_NAME_MAX];
	unsigned nsynth;
	bool upward; /* LAME: a referral to the same or a higher zone */
	const struct rrset *data;
	const uint8_t *target; /* CNAME: where to go on */
	/* NXDOMAIN/NODATA: the SOA, if any */
	const struct rrset *soa;
	/* REFERRAL: the child zone's NS set */
	const struct rrset *ns;
	const char *why;
};

/*
 * Classify a scrubbed reply to (qname, qtype) sent to servers of 'zone'.
 */
void md_classify_reply(const struct reply *r, const uint8_t *qname,
    uint16_t qtype, const uint8_t *zone, struct classified *out);
/* The RRset of (owner, type) in a section, or NULL. */
const struct rrset *md_reply_find(const struct reply *r, enum md_section sec,
    const uint8_t *owner, uint16_t type);

/* ---- the request (iter.c), shared with the validator (val.c) ---------- */

enum iq_state {
	IQ_INIT = 0,
	IQ_QUERY_TARGETS,
	IQ_WAIT_REPLY,
	IQ_WAIT_SUBQUERY,
	IQ_DONE,
};

struct seen_name {
	struct seen_name *next;
	uint8_t name[MD_NAME_MAX];
};

struct iq {
	struct iq *parent;
	unsigned depth;
	enum iq_state state;
	uint8_t qname[MD_NAME_MAX]; /* current name (after CNAMEs) */
	uint16_t qtype;
	struct delegpt *dp;
	unsigned referrals;
	unsigned cnames;
	struct seen_name *seen; /* names of the chain, for loops */
	/* QNAME minimisation (RFC 9156) */
	bool minimise;
	bool qmin_fell_back; /* minimised queries failed: full name now */
	unsigned min_labels; /* labels of the name to send (0: not yet) */
	/* the query in flight */
	struct dp_addr *target;
	bool tcp;
	bool edns;
	bool retry_same; /* TC or EDNS fallback: same server again */
	uint8_t sent_qname[MD_NAME_MAX];
	uint16_t sent_qtype;
	uint32_t sent_rto;
	/* a sub-query for an NS address */
	struct dp_ns *lookup_ns;
	uint16_t lookup_type;
	unsigned sent; /* upstream queries this query sent */
	/* outcome */
	int rcode;
	bool failed;
	struct md_result_rrset *answer, *answer_tail;
	struct md_result_rrset *authority;
	/* a negative answer from the cache: what validation found of it */
	enum md_security neg_security;
	uint16_t neg_ede;
	bool val_sub; /* a DS/DNSKEY look-up of the validator (val.c) */
};

/* A query sent for a question: the latest, or an earlier one still open
 * for a late reply. */
struct attempt {
	uint32_t token; /* 0: a free slot */
	unsigned n;	/* 1 for the question's first query */
	const struct iq *iq;
	const struct delegpt *dp;
	struct dp_addr *target;
	uint8_t sent_qname[MD_NAME_MAX];
	uint16_t sent_qtype;
	bool tcp;
};

struct md_request {
	struct md_arena arena;	 /* the request, its queries, results */
	struct md_arena scratch; /* the reply being read; reset per reply */
	const struct md_resolve_env *env;
	unsigned flags;
	uint64_t start_ms;
	struct iq *root, *top;
	unsigned queries;
	uint32_t next_token;
	uint32_t pending; /* token of the query out, 0 if none */
	struct attempt open[MD_RESOLVE_OPEN_MAX]; /* queries still open */
	bool done;
	bool net_trouble;    /* some server did not answer or refused */
	bool cached_failure; /* failed from the cache: do not store again */
	struct md_result result;
	struct md_trace_event *trace, *trace_tail;
	md_trace_cb trace_cb;
	void *trace_arg;
	uint8_t sendbuf[MD_NAME_MAX + 64];
	struct val_state *val; /* DNSSEC validation (val.c), when started */
};

struct val_state;

/* iter.c's services for val.c */
uint64_t md_req_now(const struct md_request *req);
bool md_req_tracing(const struct md_request *req);
void md_req_ev_init(struct md_request *req, const struct iq *iq,
    enum md_trace_kind kind, struct md_trace_event *ev);
void md_req_ev_emit(struct md_request *req, const struct md_trace_event *ev);
const char *md_req_why(struct md_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Push a look-up of (name, type) for the validator on top of iq; false
 * when the depth limit or a loop forbids it. */
bool md_req_val_subquery(
    struct md_request *req, struct iq *iq, const uint8_t *name, uint16_t type);

/* ---- DNSSEC validation (val.c) ----------------------------------------- */

/*
 * Called when the client's query is done: validate its answer.  Returns
 * true when validation is over (result.security set; the request may
 * finish), false when a look-up was pushed (req->top) and it must run
 * first.
 */
bool md_val_run(struct md_request *req);
/* A look-up of the validator finished: take what it found. */
void md_val_subdone(struct md_request *req, struct iq *sub);
/*
 * aggressive-nsec: answer iq (the client's query) from validated NSEC
 * records (val_agg.c), before anything is sent.  True when it did (iq
 * is done, its denial marked secure).
 */
bool md_val_aggressive(struct md_request *req, struct iq *iq);
/* An RRset for the authority section of iq (DNSSEC records: dnssec). */
void md_req_add_authority(struct md_request *req, struct iq *iq,
    const uint8_t *owner, uint16_t type, uint16_t count, uint32_t ttl,
    const uint8_t *rdata, uint32_t len, bool dnssec);
void md_req_iq_done(struct md_request *req, struct iq *iq, int rcode);

/* ---- checked RRsets (val_memo.c) ---------------------------------------- */

/* What a verification found, as the validator uses it again. */
struct md_val_memo_verdict {
	uint16_t key_tag;
	uint8_t algorithm;
	uint8_t labels;
	bool wildcard;
	uint32_t orig_ttl;
	uint32_t expiration;
};

/* key: the exact bytes checked (keys digest, owner, type, rdata, RRSIGs) */
bool md_val_memo_get(struct md_val_memo *m, const uint8_t *key, size_t len,
    uint64_t now_ms, struct md_val_memo_verdict *out);
void md_val_memo_put(struct md_val_memo *m, const uint8_t *key, size_t len,
    uint64_t expire_ms, const struct md_val_memo_verdict *v);

/* ---- the NSEC store (val_agg.c) ---------------------------------------- */

struct md_nsec_put_rr {
	const uint8_t *owner;
	const uint8_t *rdata; /* the NSEC rdata */
	uint16_t rdlen;
	const uint8_t *sigs; /* its RRSIG set, [u16 len][rdata]... */
	uint32_t sigs_len;
	uint16_t nsigs;
};

/* What a validated denial adds: the zone's NSEC records and its SOA. */
struct md_nsec_put {
	const uint8_t *zone;
	uint32_t ttl; /* of the records (the negative TTL) */
	const struct md_nsec_put_rr *rrs;
	size_t n;
	const uint8_t *soa; /* [u16 len][rdata], or NULL */
	uint32_t soa_len;
	const uint8_t *soa_sigs;
	uint32_t soa_sigs_len;
	uint16_t soa_nsigs;
	uint32_t soa_ttl;
};

void md_nsec_store_put(
    struct md_nsec_store *st, const struct md_nsec_put *p, uint64_t now_ms);

typedef void (*md_nsec_store_cb)(void *arg, const uint8_t *owner, uint16_t type,
    uint16_t count, uint32_t ttl, const uint8_t *rdata, uint32_t len,
    bool dnssec);
/*
 * If the store proves (qname, qtype) does not exist (NXDOMAIN) or has no
 * such type (NODATA), hand the SOA, the NSEC records and their RRSIGs to
 * cb and return the rcode; -1 otherwise.
 */
int md_nsec_store_answer(struct md_nsec_store *st, const uint8_t *qname,
    uint16_t qtype, uint64_t now_ms, md_nsec_store_cb cb, void *arg);

#endif /* MINIDNS_RESOLVE_INTERNAL_H */
