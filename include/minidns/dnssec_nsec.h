/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dnssec_nsec.h - checking DNSSEC proofs of non-existence: NSEC (RFC 4035
 * §5.4, RFC 6840 §4) and NSEC3 (RFC 5155 §8, RFC 9276).  Pure functions:
 * the caller hands in the NSEC or NSEC3 records of a response (their
 * signatures already checked), the question and the zone that signed
 * them, and gets back proven / not proven with a reason, or, for NSEC3
 * with too many iterations, insecure.  The NSEC3 hash itself,
 * md_nsec3_hash(), is in wire.h (the local zones use it too).
 */
#ifndef MINIDNS_DNSSEC_NSEC_H
#define MINIDNS_DNSSEC_NSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/wire.h"

/* ---- type bitmaps (RFC 4034 §4.1.2) ------------------------------------ */

/* Whether the bitmap lists type.  A malformed bitmap (windows not
 * increasing, a length of 0 or over 32, a block past the end) lists
 * nothing: false. */
bool md_nsec_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type);
/* Whether the window format is well formed (an empty bitmap is). */
bool md_nsec_bitmap_valid(const uint8_t *bitmap, size_t len);

/* ---- NSEC ranges ------------------------------------------------------- */

/* owner < name < next in canonical order, or, for the last NSEC of the
 * zone (next at or before owner: the chain wraps to the apex), owner <
 * name.  name must be in zone.  Equality is "matches", not "covers". */
bool md_nsec_covers(const uint8_t *owner, const uint8_t *next,
    const uint8_t *zone, const uint8_t *name);

/* ---- proofs ------------------------------------------------------------ */

/* One NSEC or NSEC3 record of the response: owner and rdata (wire,
 * uncompressed names).  Other types are ignored. */
struct md_nsec_rr {
	uint16_t type; /* MD_TYPE_NSEC or MD_TYPE_NSEC3 */
	const uint8_t *owner;
	const uint8_t *rdata;
	size_t rdlen;
};

struct md_nsec_query {
	const uint8_t *qname; /* for insecure delegation: the delegation */
	uint16_t qtype;
	const uint8_t *zone; /* the signer of the NSEC/NSEC3 records */
	/* md_nsec_prove_wildcard() only: the labels field of the answer's
	 * RRSIG; the wildcard was *.<the last sig_labels labels of qname> */
	unsigned sig_labels;
};

/*
 * Bounds on the work of one proof (against CPU exhaustion, as the
 * NSEC3 fixes of CVE-2023-50868 in Unbound, Knot Resolver and BIND).
 */
struct md_nsec_limits {
	/* NSEC3 with more iterations: insecure, EDE 27 (RFC 9276 §3.2) */
	unsigned max_iterations;
	/* records looked at; later ones are ignored */
	unsigned max_records;
	/* NSEC3 hash computations per proof; past it, not proven */
	unsigned max_hashes;
};

/*
 * Defaults.  RFC 9276 §3.2 leaves the limit to the validator.  150 is
 * Unbound's default (val-nsec3-keysize-iterations "1024 150 2048 150 4096
 * 150"; from memory, not checked offline here).  Others went lower:
 * PowerDNS Recursor's nsec3-max-iterations default is 50 ("following the
 * general consensus between open source vendors", PowerDNS/pdns#13478),
 * BIND 9.20 50 too (from memory), systemd-resolved 100.  The caller may
 * lower it; at 150 a proof costs at most max_hashes x 151 SHA-1 digests
 * (about 1 ms: 32 us per hash on the 2-core development machine).
 */
#define MD_NSEC3_MAX_ITERATIONS 150
#define MD_NSEC_MAX_RECORDS 32
#define MD_NSEC3_MAX_HASHES 32

enum md_nsec_status {
	MD_NSEC_BOGUS,	  /* not proven: see reason */
	MD_NSEC_PROVEN,	  /* proven (see opt_out) */
	MD_NSEC_INSECURE, /* cannot be checked: treat the answer as insecure */
};

enum md_nsec_reason {
	MD_NSEC_R_OK,
	MD_NSEC_R_NO_RECORDS,	  /* no usable NSEC/NSEC3 in the zone */
	MD_NSEC_R_MALFORMED,	  /* bad rdata or bitmap */
	MD_NSEC_R_NO_COVER,	  /* nothing covers the name */
	MD_NSEC_R_NO_MATCH,	  /* nothing matches the name */
	MD_NSEC_R_NO_ENCLOSER,	  /* NSEC3: no closest encloser proof */
	MD_NSEC_R_NO_WILDCARD,	  /* the wildcard is not proven absent */
	MD_NSEC_R_WILDCARD,	  /* the wildcard exists */
	MD_NSEC_R_TYPE_PRESENT,	  /* the bitmap lists qtype or CNAME */
	MD_NSEC_R_ANCESTOR,	  /* parent-side record at a delegation/DNAME */
	MD_NSEC_R_CHILD_SIDE,	  /* DS denied by the child zone's apex */
	MD_NSEC_R_NOT_DELEGATION, /* insecure delegation: no NS bit */
	MD_NSEC_R_NAME_EXISTS,	  /* NXDOMAIN denied: the name matches */
	MD_NSEC_R_BAD_LABELS,	  /* wildcard: RRSIG labels do not fit */
	MD_NSEC_R_ITERATIONS,	  /* NSEC3 iterations over the limit */
	MD_NSEC_R_HASH_LIMIT,	  /* NSEC3 hash budget spent */
};

struct md_nsec_verdict {
	enum md_nsec_status status;
	enum md_nsec_reason reason;
	/* Extended DNS Error for the caller (RFC 8914): 27 Unsupported NSEC3
	 * Iterations Value, 12 NSEC Missing, 6 DNSSEC Bogus; 0 if proven */
	uint16_t ede;
	/* NSEC3: the proof rests on an opt-out span, so an unsigned
	 * delegation may exist there: no AD for the answer (RFC 5155 §9.2) */
	bool opt_out;
};

void md_nsec_limits_default(struct md_nsec_limits *l);
const char *md_nsec_reason_str(enum md_nsec_reason r);
const char *md_nsec_status_str(enum md_nsec_status s);

/*
 * The proofs.  Each takes NSEC records if there are any (NSEC3 ones
 * otherwise; with both, NSEC first, then NSEC3), fills *v and returns
 * v->status.  lim NULL: the defaults.
 *
 * nxdomain: qname does not exist, nor the wildcard that could have made
 *   it (RFC 4035 §5.4; RFC 5155 §8.4).
 * nodata: qname exists without qtype (nor CNAME): a matching record, an
 *   empty non-terminal, a wildcard NODATA (RFC 4035 §3.1.3.4, RFC 5155
 *   §8.5-8.7); for DS, NSEC3 opt-out (§8.6).
 * wildcard: the answer was expanded from a wildcard (sig_labels):
 *   nothing closer to qname exists (RFC 4035 §5.3.4, RFC 5155 §8.8).
 * insecure_delegation: qname is a delegation without DS: NS and no DS or
 *   SOA, or NSEC3 opt-out over it (RFC 5155 §8.9).
 */
enum md_nsec_status md_nsec_prove_nxdomain(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v);
enum md_nsec_status md_nsec_prove_nodata(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v);
enum md_nsec_status md_nsec_prove_wildcard(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v);
enum md_nsec_status md_nsec_prove_insecure_delegation(
    const struct md_nsec_query *q, const struct md_nsec_rr *rrs, size_t n,
    const struct md_nsec_limits *lim, struct md_nsec_verdict *v);

#endif
