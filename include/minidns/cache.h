/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cache.h - the RRset cache and the negative cache (RFC 2308), shared by
 * every worker of the server and by the resolution engine.
 *
 * Entries are keyed by owner name (case-insensitive) and type; class is
 * always IN.  An entry holds one RRset in wire form ([u16 len][rdata]...,
 * the layout of struct md_rrset) with an absolute expiry, or a negative
 * answer: NODATA for (name, type), or NXDOMAIN for the name (any type),
 * with the SOA record that goes into the authority section.
 *
 * Credibility (RFC 2181 §5.4.1): an entry is replaced only by data of equal
 * or higher trust, or when it has expired; authoritative answer data
 * replaces glue, never the reverse.
 *
 * Memory is bounded: every entry is charged its real size (the one malloc
 * that holds it, plus bookkeeping), and entries not used since the
 * eviction scan last passed (CLOCK, close to least recently used) are
 * evicted to stay under max_bytes / shards.  Shards are selected by hash
 * and each has its own mutex, which changes take; a lookup that finds
 * fresh data takes no lock.  Lookups copy the entry into a caller-supplied
 * buffer, so the cache-hit path allocates nothing.
 */
#ifndef MINIDNS_CACHE_H
#define MINIDNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 2181 §5.4.1 ranking, lowest first. */
enum md_trust {
	MD_TRUST_NONE = 0,
	MD_TRUST_GLUE,		 /* additional section, referral glue */
	MD_TRUST_AUTHORITY,	 /* authority section, non-authoritative */
	MD_TRUST_ANSWER,	 /* answer section, non-authoritative */
	MD_TRUST_AUTH_AUTHORITY, /* authority section of an AA answer */
	MD_TRUST_AUTH_ANSWER,	 /* answer section of an AA answer */
};

const char *md_trust_str(enum md_trust t);

/*
 * What DNSSEC validation found of an entry (RFC 4035 §4.3).  Data is
 * stored UNCHECKED; the resolver marks it once validated
 * (md_cache_set_security()), and with validation on, only SECURE and
 * INSECURE data answers without being validated again.
 */
enum md_security {
	MD_SEC_UNCHECKED = 0,
	MD_SEC_SECURE,	      /* a chain of trust to an anchor verified it */
	MD_SEC_INSECURE,      /* provably unsigned (or validation is off) */
	MD_SEC_BOGUS,	      /* should be signed, is not validly */
	MD_SEC_INDETERMINATE, /* could not tell (the keys could not be had) */
};
const char *md_security_str(enum md_security s);

struct md_cache_conf {
	size_t max_bytes;	   /* total memory bound */
	unsigned shards;	   /* power of two; 0 = 16 */
	uint32_t min_ttl;	   /* cache-min-ttl (0) */
	uint32_t max_ttl;	   /* cache-max-ttl (86400) */
	uint32_t max_negative_ttl; /* cache-max-negative-ttl (3600) */
	bool serve_stale;	   /* RFC 8767; off by default */
	uint32_t stale_answer_ttl; /* TTL of a stale answer (30) */
	uint32_t stale_max_age;	   /* keep expired data this long (86400) */
};

/* Fill conf with the defaults given above, max_bytes = 64 MiB. */
void md_cache_conf_init(struct md_cache_conf *conf);

struct md_cache;

struct md_cache *md_cache_new(const struct md_cache_conf *conf);
void md_cache_free(struct md_cache *c);
/*
 * Take conf's max_bytes, TTL limits and serve_stale from now on (a reload);
 * the shard count and the stale ages stay those the cache was made with.
 * Entries cached already expire by a lower max_ttl / max_negative_ttl
 * counted from now_ms.  Safe while other threads use the cache.
 */
void md_cache_set_limits(
    struct md_cache *c, const struct md_cache_conf *conf, uint64_t now_ms);
/* ttl raised to min, then lowered to max (max wins when they cross): the
 * rule the cache stores by, shared with the responder. */
uint32_t md_ttl_clamp(uint32_t ttl, uint32_t min, uint32_t max);

/*
 * Store an RRset of 'count' RRs.  The TTL is clamped to [min_ttl,
 * max_ttl]; a TTL still 0 after that is not stored (returns 0).  Returns 0
 * (stored), MD_ENOTFOUND (kept the existing entry, or the name's NXDOMAIN
 * entry, of higher trust), MD_ENOSPACE (larger than a shard), -EINVAL
 * (malformed name or rdata, type 0) or -ENOMEM.  Storing data removes the
 * name's NXDOMAIN entry of lower or equal trust: the name exists.
 */
int md_cache_put(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len, uint16_t count,
    enum md_trust trust, uint64_t now_ms);

/*
 * Store a negative answer for qname: NXDOMAIN (nxdomain true; then it
 * stands for every type) or NODATA for qtype.  ttl is the negative TTL
 * already computed by the caller (RFC 2308 §5), clamped to
 * max_negative_ttl.  soa_owner/soa_rdata is the SOA RR to return with it
 * (soa_rdata may be NULL).  A negative entry never replaces a positive
 * entry of higher trust that has not expired; an NXDOMAIN is refused while
 * the name has live data of higher trust, and removes the rest of it.
 * Returns as md_cache_put().
 */
int md_cache_put_negative(struct md_cache *c, const uint8_t *qname,
    uint16_t qtype, bool nxdomain, uint32_t ttl, const uint8_t *soa_owner,
    const uint8_t *soa_rdata, uint16_t soa_rdlen, enum md_trust trust,
    uint64_t now_ms);

enum md_cache_kind {
	MD_CACHE_RRSET = 1,
	MD_CACHE_NODATA,
	MD_CACHE_NXDOMAIN,
	MD_CACHE_SERVFAIL, /* resolving (name, type) failed (RFC 9520) */
	MD_CACHE_PARENT,   /* parent-side glue (md_cache_put_parent) */
	MD_CACHE_SIGS,	   /* the RRSIGs of an RRset (md_cache_put_sigs) */
	MD_CACHE_PROOF,	   /* a denial's DNSSEC records (md_cache_put_proof) */
	MD_CACHE_KIND_END, /* one past the last */
};

/* RRset entries of this trust or higher may answer a query; glue and the
 * NS set of a referral may not (RFC 2181 §5.4.1). */
#define MD_TRUST_ANSWERABLE MD_TRUST_ANSWER
static inline bool
md_trust_answerable(enum md_trust t)
{
	return t >= MD_TRUST_ANSWERABLE;
}

/* An entry as copied out by md_cache_get(); pointers into the buffer. */
struct md_cache_view {
	enum md_cache_kind kind;
	uint16_t type; /* 0 for NXDOMAIN */
	uint16_t count;
	uint32_t ttl;	   /* remaining seconds (stale_answer_ttl when stale) */
	uint32_t orig_ttl; /* the TTL it was stored with (after the caps) */
	enum md_trust trust;
	bool stale;
	const uint8_t *owner; /* as stored (case of the data) */
	const uint8_t *rdata; /* [u16 len][rdata]... */
	uint32_t rdata_len;
	const uint8_t *soa_owner; /* negative entries; NULL if none */
	const uint8_t *soa_rdata;
	uint16_t soa_rdlen;
	uint16_t ede; /* MD_CACHE_SERVFAIL: the failure's EDE code */
	enum md_security security; /* RRSET, NODATA, NXDOMAIN; ede: BOGUS's */
};

/*
 * Look up (owner, type): the positive RRset if present, else a NODATA entry
 * for that type, else an NXDOMAIN entry for the name.  Expired entries are
 * not returned, except with allow_stale on a cache configured for
 * serve-stale, where they come back with stale set.  The entry is copied
 * into buf.  Returns 0, MD_ENOTFOUND or MD_ENOSPACE (buf too small).
 */
int md_cache_get(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint64_t now_ms, bool allow_stale, uint8_t *buf, size_t buflen,
    struct md_cache_view *out);
/* The same with md_name_hash(owner) already made. */
int md_cache_get_h(struct md_cache *c, const uint8_t *owner, uint32_t nhash,
    uint16_t type, uint64_t now_ms, bool allow_stale, uint8_t *buf,
    size_t buflen, struct md_cache_view *out);

/*
 * Store a failure to resolve (qname, qtype) for ttl seconds (RFC 9520:
 * servfail-ttl), with the Extended DNS Error it ended with.  It takes the
 * slot of (qname, qtype) unless live data holds it, or an RRset that
 * serve-stale may still answer with; any data stored later replaces it.
 * Returns as md_cache_put().
 */
int md_cache_put_failure(struct md_cache *c, const uint8_t *qname,
    uint16_t qtype, uint32_t ttl, uint16_t ede, uint64_t now_ms);

/*
 * Parent-side glue: the A or AAAA RRset of a name server as the parent
 * zone's referral gave it, kept apart from the name's own data (which the
 * child's answer replaces), so that the resolver can fall back to it when
 * the child's address does not work (Unbound and Knot Resolver do).
 * Never an answer to a query; md_cache_get() does not see it.  Replaces
 * the parent-side entry of (owner, type) whatever its age.
 */
int md_cache_put_parent(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len, uint16_t count,
    uint64_t now_ms);
int md_cache_get_parent(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out);

/*
 * DNSSEC records kept beside the data they go with, for answers to
 * clients that set DO (RFC 4035 §3.2).  Like parent-side glue they live
 * under the data's key and md_cache_get() does not see them.
 *
 * md_cache_put_sigs(): the RRSIG RRs (rdata as [u16 len][rdata]...) that
 * cover the RRset (owner, covered), stored beside it with its TTL and
 * trust.  md_cache_put_proof(): the records that prove a denial of
 * (qname, qtype) (qtype 0: the name's NXDOMAIN): NSEC, NSEC3 and RRSIG
 * RRs of any owner, each as [u16 len][owner][u16 type][rdata], with the
 * negative entry's TTL.  Returns as md_cache_put().  The getters return 0
 * with the records in out->rdata (out->count of them), MD_ENOTFOUND or
 * MD_ENOSPACE; md_cache_proof_next() walks a proof's records.
 */
int md_cache_put_sigs(struct md_cache *c, const uint8_t *owner,
    uint16_t covered, uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len,
    uint16_t count, enum md_trust trust, uint64_t now_ms);
int md_cache_get_sigs(struct md_cache *c, const uint8_t *owner,
    uint16_t covered, uint64_t now_ms, uint8_t *buf, size_t buflen,
    struct md_cache_view *out);
int md_cache_put_proof(struct md_cache *c, const uint8_t *qname, uint16_t qtype,
    uint32_t ttl, const uint8_t *rrs, uint32_t rrs_len, uint16_t count,
    enum md_trust trust, uint64_t now_ms);
int md_cache_get_proof(struct md_cache *c, const uint8_t *qname, uint16_t qtype,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out);
/* The next record of a proof (prev NULL: the first); NULL at the end. */
const uint8_t *md_cache_proof_next(const struct md_cache_view *v,
    const uint8_t *prev, const uint8_t **owner, uint16_t *type,
    const uint8_t **rdata, uint16_t *rdlen);

/*
 * Mark the entry of (owner, type) with what validation found: an RRSET
 * (rdata given: only when the entry still holds exactly that rdata, so a
 * replacement made meanwhile is not vouched for), or a negative entry
 * (rdata NULL: NODATA of type, or with type 0 the name's NXDOMAIN).  A
 * ttl_cap above 0 shortens its life to at most that many seconds (the
 * RRSIG's original TTL and expiry, RFC 4035 §5.3.3; val-bogus-ttl).
 * ede: for BOGUS, the Extended DNS Error (the view's ede gives it back).
 * Returns 0, or MD_ENOTFOUND when no such entry is there.
 */
int md_cache_set_security(struct md_cache *c, const uint8_t *owner,
    uint16_t type, const uint8_t *rdata, uint32_t rdata_len,
    enum md_security sec, uint16_t ede, uint32_t ttl_cap, uint64_t now_ms);

/* Remove every entry of a name (all types), or everything when NULL. */
void md_cache_flush(struct md_cache *c, const uint8_t *name);
/* Remove every entry at or below 'zone'. */
void md_cache_flush_zone(struct md_cache *c, const uint8_t *zone);
/*
 * Call cb for every live entry (expired ones included only when
 * serve-stale keeps them; view.stale says so), one shard at a time under
 * its lock: cb must not call back into the cache.  The view's pointers are
 * valid during the call only.  For dump-cache.
 */
void md_cache_walk(struct md_cache *c, uint64_t now_ms,
    void (*cb)(void *arg, const struct md_cache_view *v), void *arg);

struct md_cache_stats {
	uint64_t hits, misses, inserts, evictions;
	uint64_t entries, bytes;
	/* entries by enum md_cache_kind (kept as entries come and go) */
	uint64_t kind_entries[MD_CACHE_KIND_END];
	/* hits by the kind of entry found (their sum is hits) */
	uint64_t kind_hits[MD_CACHE_KIND_END];
};

void md_cache_get_stats(struct md_cache *c, struct md_cache_stats *out);

#endif /* MINIDNS_CACHE_H */
