/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire.h - DNS messages on the wire: constants, domain names in wire form,
 * a reader for the query header, question and EDNS OPT record, and a
 * response writer with name compression and truncation.
 *
 * Names are kept in uncompressed wire form (length-prefixed labels ending
 * in the root label), at most MD_NAME_MAX bytes.  Nothing here allocates.
 * Conversions to and from ldns objects live in ldns_bridge.h.
 */
#ifndef MINIDNS_WIRE_H
#define MINIDNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD_NAME_MAX 255
#define MD_LABEL_MAX 63
#define MD_NAME_STRLEN 1024 /* presentation form, escapes included */
#define MD_WIRE_HDR_LEN 12
#define MD_WIRE_MAX 65535
#define MD_UDP_MIN 512

/* Header flag bits (second 16-bit word). */
#define MD_FLAG_QR 0x8000
#define MD_FLAG_AA 0x0400
#define MD_FLAG_TC 0x0200
#define MD_FLAG_RD 0x0100
#define MD_FLAG_RA 0x0080
#define MD_FLAG_AD 0x0020
#define MD_FLAG_CD 0x0010
#define MD_OPCODE(flags) (((flags) >> 11) & 0xf)
#define MD_RCODE(flags) ((flags)&0xf)

enum md_opcode {
	MD_OPCODE_QUERY = 0,
	MD_OPCODE_IQUERY = 1,
	MD_OPCODE_STATUS = 2,
	MD_OPCODE_NOTIFY = 4,
	MD_OPCODE_UPDATE = 5,
};

enum md_rcode {
	MD_RCODE_NOERROR = 0,
	MD_RCODE_FORMERR = 1,
	MD_RCODE_SERVFAIL = 2,
	MD_RCODE_NXDOMAIN = 3,
	MD_RCODE_NOTIMP = 4,
	MD_RCODE_REFUSED = 5,
	MD_RCODE_YXDOMAIN = 6, /* a DNAME's substitution is too long */
	MD_RCODE_NOTAUTH = 9,  /* RFC 8945: a TSIG key we do not know */
	MD_RCODE_BADVERS = 16, /* extended: needs OPT */
};

enum md_rrtype {
	MD_TYPE_A = 1,
	MD_TYPE_NS = 2,
	MD_TYPE_CNAME = 5,
	MD_TYPE_SOA = 6,
	MD_TYPE_PTR = 12,
	MD_TYPE_HINFO = 13,
	MD_TYPE_MX = 15,
	MD_TYPE_TXT = 16,
	MD_TYPE_AAAA = 28,
	MD_TYPE_SRV = 33,
	MD_TYPE_DNAME = 39,
	MD_TYPE_OPT = 41,
	MD_TYPE_DS = 43,
	MD_TYPE_RRSIG = 46,
	MD_TYPE_NSEC = 47,
	MD_TYPE_DNSKEY = 48,
	MD_TYPE_NSEC3 = 50,
	MD_TYPE_NSEC3PARAM = 51,
	MD_TYPE_TKEY = 249,
	MD_TYPE_TSIG = 250,
	MD_TYPE_IXFR = 251,
	MD_TYPE_AXFR = 252,
	MD_TYPE_MAILB = 253,
	MD_TYPE_MAILA = 254,
	MD_TYPE_ANY = 255,
};

#define MD_CLASS_IN 1
#define MD_CLASS_CH 3
#define MD_CLASS_ANY 255

const char *md_rcode_str(int rcode);
const char *md_opcode_str(int opcode);

/* ---- names ------------------------------------------------------------- */

/*
 * Read a possibly compressed name at *off in pkt[0..pktlen) into out
 * (MD_NAME_MAX bytes), advancing *off past the name as it sits in the
 * packet.  Pointers must point backwards; loops, overlong names and labels
 * with reserved bits are errors.  Returns the name's length or MD_EPARSE.
 */
int md_name_read(const uint8_t *pkt, size_t pktlen, size_t *off, uint8_t *out);
/* Length of an uncompressed wire name, or 0 when it is malformed. */
size_t md_name_len(const uint8_t *name);
/* Number of labels, not counting the root label. */
unsigned md_name_labels(const uint8_t *name);
/* Case-insensitive equality of two uncompressed names. */
bool md_name_equal(const uint8_t *a, const uint8_t *b);
/* Case-insensitive equality of the first labels of two names. */
bool md_label_equal(const uint8_t *a, const uint8_t *b);
/* True when name is zone or below it (case-insensitive). */
bool md_name_is_subdomain(const uint8_t *name, const uint8_t *zone);
/* RFC 4034 §6.1 canonical order of two uncompressed names: <0, 0, >0. */
int md_name_canon_cmp(const uint8_t *a, const uint8_t *b);
/* The same order for the names' first labels alone. */
int md_label_canon_cmp(const uint8_t *a, const uint8_t *b);
/* Lower-case an uncompressed name in place. */
void md_name_lower(uint8_t *name);
/* Skip the first label; NULL for the root name. */
const uint8_t *md_name_parent(const uint8_t *name);
/*
 * RFC 6672 §2.2: name, below a DNAME's owner, with the owner replaced by
 * the DNAME's target, into out (MD_NAME_MAX).  False when name is not
 * below owner, or the result would be longer than a name may be (the
 * YXDOMAIN case).
 */
bool md_name_dname_subst(const uint8_t *name, const uint8_t *owner,
    const uint8_t *target, uint8_t *out);
/* Hash of the lower-cased name (FNV-1a over its labels, root first). */
uint32_t md_name_hash(const uint8_t *name);
/*
 * The hashes of all the name's suffixes in one pass: h[i] is the
 * md_name_hash() of the name less its first i labels, h[labels] the
 * root's.  h holds MD_NAME_MAX / 2 + 2 values.  Returns the label count.
 */
unsigned md_name_suffix_hashes(const uint8_t *name, uint32_t *h);
/* The hash of label + the name whose hash is parent_hash (a wildcard
 * "*.<name>" from the name's hash, say). */
uint32_t md_name_hash_prepend(uint32_t parent_hash, const uint8_t *label);
/*
 * Presentation form ("www.example.", escapes \. and \DDD) to wire form.
 * A name without the final dot is taken relative to 'origin' (a wire name,
 * or NULL for the root).  "@" is the origin.  Returns length or MD_EPARSE.
 */
int md_name_from_str(const char *s, const uint8_t *origin, uint8_t *out);
/* Wire to presentation form with the final dot; returns 0 or MD_ENOSPACE. */
int md_name_to_str(const uint8_t *name, char *buf, size_t size);

/* ---- reading a query --------------------------------------------------- */

struct md_wire_header {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;
};

struct md_wire_edns {
	bool present;
	uint16_t udp_size; /* as sent by the client */
	uint8_t version;
	uint8_t ext_rcode;
	bool do_bit;
};

/* The 12-byte header at pkt (the caller has checked the length). */
void md_wire_read_header(const uint8_t *pkt, struct md_wire_header *hdr);

/* What the server should do with a query (see md_wire_read_query). */
enum md_query_verdict {
	MD_QUERY_OK = 0,
	MD_QUERY_DROP, /* no response can be formed, or QR set */
	MD_QUERY_FORMERR,
	MD_QUERY_NOTIMP,
	MD_QUERY_BADVERS,
	MD_QUERY_NOTAUTH, /* signed with TSIG: we know no keys (RFC 8945) */
};

const char *md_query_verdict_str(enum md_query_verdict v);

struct md_wire_query {
	struct md_wire_header hdr;
	bool has_question;
	uint8_t qname[MD_NAME_MAX]; /* as sent (case kept), uncompressed */
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	struct md_wire_edns edns;
};

/*
 * Parse a query in place.  Checks every length before reading it.  Returns
 * a verdict; on MD_QUERY_FORMERR/NOTIMP/BADVERS q->hdr is valid and
 * q->has_question says whether the question can be echoed.
 */
enum md_query_verdict md_wire_read_query(
    const uint8_t *pkt, size_t len, struct md_wire_query *q);

/* ---- writing a response ------------------------------------------------ */

enum md_section {
	MD_SECTION_QUESTION = 0,
	MD_SECTION_ANSWER,
	MD_SECTION_AUTHORITY,
	MD_SECTION_ADDITIONAL,
};

/*
 * Name compression: every label the writer puts in the message below
 * offset 0x4000 (a pointer's reach) is remembered with the hash of the
 * name from it to the root (md_name_hash()).  A name to write looks up its
 * suffixes by hash, so a message of n names costs O(n), not O(n^2): the
 * first MD_WIRE_COMP_SCAN labels are scanned (small answers never touch
 * the table), then they go into a chained hash table of
 * MD_WIRE_COMP_BUCKETS heads.  MD_WIRE_COMP_MAX bounds the labels kept
 * (later ones are written in full, still correct).
 */
#define MD_WIRE_COMP_MAX 1024
#define MD_WIRE_COMP_SCAN 32
#define MD_WIRE_COMP_BUCKETS 256

struct md_wire_comp {
	uint32_t hash; /* of the name from this label on */
	uint16_t off;  /* where the label is in the message */
	uint16_t next; /* index + 1 of the next entry in the bucket; 0: none */
};

struct md_wire_writer {
	uint8_t *buf;
	size_t cap;	/* size of buf */
	size_t limit;	/* the message may not grow past this */
	size_t reserve; /* bytes kept back for the OPT record */
	size_t len;
	uint16_t counts[4];
	unsigned ncomp;
	const uint8_t *qname; /* the question's name as passed, and where */
	uint16_t qname_off;   /* it is in the message (0: none yet) */
	/* heads[] (index + 1 of an entry; 0: none) is valid only once ncomp
	 * reached MD_WIRE_COMP_SCAN: it is not cleared before */
	uint16_t heads[MD_WIRE_COMP_BUCKETS];
	struct md_wire_comp comp[MD_WIRE_COMP_MAX];
};

/* Start a message in buf; limit starts at cap. */
void md_wire_writer_init(struct md_wire_writer *w, uint8_t *buf, size_t cap);
/* Take the message back to an earlier state: 'len' bytes and 'ncomp'
 * compression entries (both read from the writer then); counts are the
 * caller's to restore. */
void md_wire_writer_rewind(
    struct md_wire_writer *w, size_t len, unsigned ncomp);
/* Bound the message size (e.g. the client's UDP size) and reserve room. */
void md_wire_writer_set_limit(
    struct md_wire_writer *w, size_t limit, size_t reserve);
/* Header with zero counts; counts are filled in by md_wire_writer_finish. */
int md_wire_write_header(struct md_wire_writer *w, uint16_t id, uint16_t flags);
/* Change the flags of the header already written. */
void md_wire_writer_set_flags(struct md_wire_writer *w, uint16_t flags);
uint16_t md_wire_writer_flags(const struct md_wire_writer *w);
int md_wire_write_question(struct md_wire_writer *w, const uint8_t *qname,
    uint16_t qtype, uint16_t qclass);
/*
 * Append one RR to 'section' (sections in order).  rdata is uncompressed
 * wire rdata; names inside NS, CNAME, PTR, MX and SOA rdata are compressed
 * (RFC 3597 §4).  Returns 0, or MD_ENOSPACE with the message unchanged.
 */
int md_wire_write_rr(struct md_wire_writer *w, enum md_section section,
    const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
    const uint8_t *rdata, uint16_t rdlen);
/* The OPT record (RFC 6891 §6.1.2); uses the reserved room. */
int md_wire_write_opt(struct md_wire_writer *w, uint16_t udp_size,
    uint8_t ext_rcode, uint8_t version, bool do_bit);
/*
 * The OPT record with an Extended DNS Error option (RFC 8914): code 'ede'
 * and a short text.  Falls back to the code alone, then to a bare OPT,
 * when the message has no room for the text.
 */
int md_wire_write_opt_ede(struct md_wire_writer *w, uint16_t udp_size,
    uint8_t ext_rcode, bool do_bit, uint16_t ede, const char *text);
/* Patch the counts; returns the message length. */
size_t md_wire_writer_finish(struct md_wire_writer *w);

/* ---- reading a whole message (replies from upstream) ------------------- */

struct md_arena;

/* One RR of a parsed message; names and rdata decompressed. */
struct md_msg_rr {
	enum md_section section;
	uint8_t *owner; /* uncompressed wire name */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata; /* names inside known types decompressed */
};

struct md_msg {
	struct md_wire_header hdr;
	bool has_question;
	uint8_t qname[MD_NAME_MAX];
	uint16_t qtype;
	uint16_t qclass;
	struct md_wire_edns edns; /* the OPT record, if any */
	unsigned nrr;		  /* RRs in all sections, OPT excluded */
	struct md_msg_rr *rrs;
};

/*
 * Parse a whole message: header, question (at most one), and every RR,
 * with names in rdata of the types that may carry compressed names (NS,
 * CNAME, PTR, DNAME, SOA, MX, SRV, RP, AFSDB, RT, KX, MINFO, NAPTR)
 * decompressed, so the rdata can be cached and sent as it is.  Memory comes
 * from the arena.  Returns 0 or MD_EPARSE for anything malformed.
 */
int md_msg_parse(
    const uint8_t *pkt, size_t len, struct md_arena *arena, struct md_msg *out);
/* A query message (QR=0) with an optional OPT; returns its length. */
int md_msg_build_query(uint8_t *buf, size_t cap, uint16_t id,
    const uint8_t *qname, uint16_t qtype, bool rd, bool edns,
    uint16_t edns_size, bool do_bit);

struct md_sockaddr;
/* The address in an A or AAAA rdata, with port 53; false for other data. */
bool md_wire_addr_from_rdata(
    uint16_t type, const uint8_t *rd, uint16_t len, struct md_sockaddr *sa);

/* ---- reading helpers --------------------------------------------------- */

/* ---- NSEC3 owner hash (RFC 5155 §5), wire_nsec3.c ------------------------ */

#define MD_NSEC3_HASH_LEN 20 /* SHA-1, the only NSEC3 hash algorithm */
#define MD_NSEC3_B32_LEN 32  /* its base32hex form */

/* The iterated SHA-1 of the lower-cased wire name and the salt; false if
 * OpenSSL failed.  Costs iterations + 1 digests: callers bound iterations. */
bool md_nsec3_hash(const uint8_t *name, const uint8_t *salt, size_t saltlen,
    unsigned iterations, uint8_t out[MD_NSEC3_HASH_LEN]);
/* Base32hex without padding, lower case (RFC 4648 §7); writes
 * (len * 8 + 4) / 5 characters, no NUL; returns that count. */
size_t md_base32hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes len characters (either case) into out; the number of bytes, or
 * -1 on a bad character, non-zero padding bits or more than cap bytes. */
int md_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t cap);

static inline uint16_t
md_read_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
md_read_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static inline void
md_write_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
md_write_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif /* MINIDNS_WIRE_H */
