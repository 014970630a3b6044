/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dnssec.h - the signature-checking core of the DNSSEC validator
 * (RFC 4033-4035, 6840, 8624): key tags, DS digests and RRSIG
 * verification of one RRset against the DNSKEY RRset of its signer.  It
 * keeps no state and does no I/O; the validator's state machine decides
 * which keys are trusted and calls in here.  The crypto is OpenSSL's EVP.
 *
 * RRsets are passed as in the rest of the code: an owner (uncompressed
 * wire name), a type, a count and an rdata blob of [u16 len][rdata]...
 * Class is IN throughout.
 *
 * Limits (KeyTrap, CVE-2023-50387): one call of md_dnssec_verify_rrset()
 * performs at most MD_DNSSEC_MAX_VERIFY_RRSET public-key operations, and
 * for one RRSIG tries at most MD_DNSSEC_MAX_TAG_KEYS keys that share its
 * key tag and algorithm.  A struct md_dnssec_budget, shared by the calls
 * made for one question, bounds the total (MD_DNSSEC_MAX_VERIFY_QUERY is
 * a sensible start).  Running into a limit without a valid signature is
 * BOGUS with a reason that names the limit.  RSA moduli above 4096 bits
 * (RFC 3110's maximum) are not used.
 */
#ifndef MINIDNS_DNSSEC_H
#define MINIDNS_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DNSSEC algorithm numbers (RFC 8624 §3.1) */
#define MD_DNSSEC_ALG_RSASHA1 5
#define MD_DNSSEC_ALG_RSASHA1_NSEC3 7
#define MD_DNSSEC_ALG_RSASHA256 8
#define MD_DNSSEC_ALG_RSASHA512 10
#define MD_DNSSEC_ALG_ECDSAP256 13
#define MD_DNSSEC_ALG_ECDSAP384 14
#define MD_DNSSEC_ALG_ED25519 15
#define MD_DNSSEC_ALG_ED448 16

/* DS digest types (RFC 8624 §3.3) */
#define MD_DNSSEC_DIGEST_SHA1 1
#define MD_DNSSEC_DIGEST_SHA256 2
#define MD_DNSSEC_DIGEST_SHA384 4

/* DNSKEY flags (RFC 4034 §2.1.1, RFC 5011 §3) */
#define MD_DNSKEY_FLAG_ZONE 0x0100
#define MD_DNSKEY_FLAG_REVOKE 0x0080
#define MD_DNSKEY_FLAG_SEP 0x0001

/* RFC 8914 codes for DNSSEC outcomes */
#define MD_EDE_UNSUPPORTED_DNSKEY_ALG 1
#define MD_EDE_UNSUPPORTED_DS_DIGEST 2
#define MD_EDE_DNSSEC_BOGUS 6
#define MD_EDE_SIGNATURE_EXPIRED 7
#define MD_EDE_SIGNATURE_NOT_YET_VALID 8
#define MD_EDE_DNSKEY_MISSING 9
#define MD_EDE_RRSIGS_MISSING 10
#define MD_EDE_NSEC_MISSING 12
#define MD_EDE_NSEC3_ITERATIONS 27

/* Work limits (see above) */
#define MD_DNSSEC_MAX_VERIFY_RRSET 8
#define MD_DNSSEC_MAX_TAG_KEYS 4
#define MD_DNSSEC_MAX_VERIFY_QUERY 64

/* One RRset as the engine holds it. */
struct md_dnssec_rrset {
	const uint8_t *owner; /* uncompressed wire name */
	uint16_t type;
	uint16_t count;
	const uint8_t *rdata; /* [u16 len][rdata]... */
	uint32_t rdata_len;
};

/* Public-key operations left for one question; shared by its calls. */
struct md_dnssec_budget {
	unsigned verify_left;
};

enum md_dnssec_result {
	MD_DNSSEC_SECURE,      /* a signature by a key of the set verified */
	MD_DNSSEC_BOGUS,       /* signatures there, none good: see ede */
	MD_DNSSEC_UNSUPPORTED, /* signed only with algorithms we cannot
				* check: insecure (RFC 6840 §5.2) */
};
const char *md_dnssec_result_str(enum md_dnssec_result r);

struct md_dnssec_verdict {
	enum md_dnssec_result result;
	uint16_t ede;	   /* RFC 8914 code; MD_EDE_NONE when SECURE */
	char reason[256];  /* for logs, EDE text and +trace */
	unsigned verifies; /* public-key operations this call performed */
	/* when SECURE, what the good RRSIG says */
	uint16_t key_tag;
	uint8_t algorithm;
	uint8_t labels;	     /* < owner labels: a wildcard expansion */
	bool wildcard;	     /* the caller must prove no closer match */
	uint32_t orig_ttl;   /* the data's TTL is capped by this ... */
	uint32_t expiration; /* ... and by the time left until this */
};

/* RFC 4034 Appendix B key tag of a DNSKEY rdata (algorithm 1 included). */
uint16_t md_dnssec_key_tag(const uint8_t *dnskey_rdata, size_t len);

/* Whether we can check signatures of DNSSEC algorithm alg.  RSASHA1 and
 * RSASHA1-NSEC3-SHA1 only where the system's OpenSSL still accepts SHA-1
 * signatures (probed once). */
bool md_dnssec_algorithm_supported(uint8_t alg);
/* Whether we can compute DS digest type t. */
bool md_dnssec_digest_supported(uint8_t t);

/* Results of md_dnssec_ds_match() */
#define MD_DNSSEC_DS_MATCH 1
#define MD_DNSSEC_DS_NOMATCH 0
#define MD_DNSSEC_DS_UNSUPPORTED (-1) /* digest type we cannot compute */

/*
 * Does the DS rdata describe the DNSKEY rdata owned by owner (RFC 4034
 * §5.1.4: key tag and algorithm equal, digest over the owner's canonical
 * name followed by the DNSKEY rdata)?  Malformed input is NOMATCH.
 */
int md_dnssec_ds_match(const uint8_t *owner, const uint8_t *dnskey_rdata,
    size_t klen, const uint8_t *ds_rdata, size_t dlen);

/*
 * Verify set (class IN) with its RRSIG RRs (rrsigs: any RRSIGs at the
 * owner; those covering other types are ignored) against dnskeys, the
 * DNSKEY RRset of the signer zone (dnskeys->owner is the zone, whose keys
 * the caller trusts or is about to).  now is seconds since the epoch
 * (compared with RFC 1982 serial arithmetic).  budget may be NULL.
 * Fills *out and returns out->result.  One valid RRSIG is enough (RFC
 * 4035 §5.3.3).  Only zone keys (flag bit 7, protocol 3) are used, and a
 * revoked key (RFC 5011) only for a DNSKEY set.  BOGUS reasons, by EDE: 10 no RRSIG covers the type; 9 no
 * zone key of the set matches a signature's tag and algorithm (or the
 * signer is not the key set's zone); 7/8 the only usable signatures are
 * expired / not yet valid; 6 otherwise (bad signature, labels field,
 * signer not an ancestor of the owner, a work limit).
 */
enum md_dnssec_result md_dnssec_verify_rrset(const struct md_dnssec_rrset *set,
    const struct md_dnssec_rrset *rrsigs, const struct md_dnssec_rrset *dnskeys,
    uint32_t now, struct md_dnssec_budget *budget,
    struct md_dnssec_verdict *out);

/*
 * The data an RRSIG signs (RFC 4034 §3.1.8.1): the RRSIG rdata without
 * its signature, the signer lower-cased, then the RRs of set in canonical
 * form and order (RFC 4034 §6, RFC 6840 §5.1: names inside NSEC keep
 * their case, those in RRSIG, NS, MX, SOA... do not), owner turned into the
 * wildcard when the RRSIG's labels say so, TTL the original TTL.
 * Returns a malloc'd buffer (caller frees) and its length in *len, or
 * NULL when the input is malformed or memory runs out.  Exposed for the
 * tests and for +trace.
 */
uint8_t *md_dnssec_signed_data(const struct md_dnssec_rrset *set,
    const uint8_t *rrsig_rdata, size_t rrsig_len, size_t *len);

#endif
