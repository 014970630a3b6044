/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone.h - the zone store: local zones held as names -> RRsets in wire
 * form, looked up per RFC 1034 §4.3.2, and loaded from RFC 1035 zone files
 * (through ldns) or from a YAML records file (libyaml).
 *
 * A struct md_zone_set is an immutable snapshot of every local zone.  It
 * is built whole by md_zone_set_load(), published by the server with an
 * atomic pointer swap, and reference counted so a reload never frees data
 * a query is still reading.  Lookups allocate nothing: the result points
 * into the snapshot.
 */
#ifndef MINIDNS_ZONE_H
#define MINIDNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An RRset: 'count' RRs of one type, rdata as [u16 length][bytes]... */
struct md_rrset {
	struct md_rrset *next;
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata_len;
	uint32_t rdata_cap; /* room in rdata (zone building) */
	uint8_t *rdata;
};

/* Walk the RRs of an RRset: for (p = NULL; (p = md_rrset_next(s, p, &len, &rd));) */
const uint8_t *md_rrset_next(const struct md_rrset *set, const uint8_t *prev,
    uint16_t *rdlen, const uint8_t **rdata);

struct md_zone;
struct md_zone_set;

/* ---- building a zone (loaders, and later the Kubernetes source) -------- */

/* A new empty zone for 'origin' (wire form), with one reference; NULL when
 * out of memory. */
struct md_zone *md_zone_new(const uint8_t *origin);
/* Zones are reference counted: a snapshot holds one reference to each. */
struct md_zone *md_zone_ref(struct md_zone *z);
/* Drop a reference; the last one frees the zone. */
void md_zone_free(struct md_zone *z);
/* Make 'name' exist (an empty non-terminal) without records, so that it
 * answers NODATA rather than NXDOMAIN.  Returns 0 or MD_EPARSE/-ENOMEM. */
int md_zone_add_name(struct md_zone *z, const uint8_t *name);
/* A fallthrough zone does not say NXDOMAIN: a name it does not hold is
 * left to the next answer source (recursion, forwarding). */
void md_zone_set_fallthrough(struct md_zone *z, bool on);
/*
 * A zone standing for data that has not arrived yet (the Kubernetes
 * source before its first full list): every name in it, and every CNAME
 * leading into it, is MD_ZONE_NOT_READY (SERVFAIL), never NXDOMAIN and
 * never left to the next source.  It needs no records.
 */
void md_zone_set_not_ready(struct md_zone *z, bool on);
/*
 * Answer <a-b-c-d>.<namespace>.pod.<zone> (and the IPv6 form with '-' for
 * ':') with the address the name spells, for any namespace: CoreDNS's
 * "pods insecure" mode.  Records the zone holds still come first.
 */
void md_zone_set_pod_synthesis(struct md_zone *z, bool on);
/*
 * Kubernetes autopath: the zone (a cluster domain's main zone) knows
 * which namespace each pod address belongs to, and the server completes
 * its pods' search paths.  md_zone_add_client() records one pod address
 * (16 bytes; IPv4 as ::ffff:a.b.c.d), md_zone_check() sorts them;
 * md_zone_client_ns() is the namespace of an address, or NULL (unknown,
 * or shared by pods of several namespaces).  add: 0 or -ENOMEM.
 */
void md_zone_set_autopath(struct md_zone *z, bool on);
bool md_zone_autopath(const struct md_zone *z);
int md_zone_add_client(
    struct md_zone *z, const uint8_t addr[16], const char *ns);
const char *md_zone_client_ns(const struct md_zone *z, const uint8_t addr[16]);
/*
 * For a zone that is one part of a larger one (the Kubernetes source keeps
 * a zone per namespace, so that a change rebuilds only that namespace):
 * negative answers carry this SOA (of the enclosing zone) instead of one at
 * the zone's own apex, which then needs none.  Returns 0 or -ENOMEM.
 */
int md_zone_set_negative_soa(struct md_zone *z, const uint8_t *owner,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/*
 * Add one RR of class IN.  Refuses data outside the zone, a CNAME beside
 * other data (RFC 1034 §3.6.2), a second SOA, and a SOA away from the apex;
 * drops exact duplicates (RFC 2181 §5).  RRs of one RRset with different
 * TTLs all take the lowest (RFC 2181 §5.2).  Returns 0, or MD_EPARSE with
 * the reason in err.
 */
int md_zone_add_rr(struct md_zone *z, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, char *err,
    size_t errlen);
/* Check the zone is whole (a SOA at the apex, NS at the apex); sorts the
 * autopath clients. */
int md_zone_check(struct md_zone *z, char *err, size_t errlen);

const uint8_t *md_zone_origin(const struct md_zone *z);
uint32_t md_zone_serial(const struct md_zone *z);
size_t md_zone_rr_count(const struct md_zone *z);

/* ---- loading ----------------------------------------------------------- */

enum md_zone_format {
	MD_ZONE_FORMAT_AUTO = 0, /* by file name: .yaml/.yml is YAML */
	MD_ZONE_FORMAT_RFC1035,
	MD_ZONE_FORMAT_YAML,
};

struct md_zone_source {
	const char *file;   /* path, or a name for 'text' in messages */
	const char *text;   /* zone text held in memory, or NULL: read file */
	const char *origin; /* presentation form, or NULL: from the file */
	enum md_zone_format format;
	bool auto_ptr;	   /* fill this reverse zone with PTRs (see below);
			  refused outside in-addr.arpa and ip6.arpa */
	const char *where; /* "FILE:LINE" of the configuration entry naming
			      it, for errors about the entry; or NULL */
};

/*
 * Load one zone.  Errors read "FILE:LINE: problem" in err.  Returns a new
 * zone or NULL.
 */
struct md_zone *md_zone_load(
    const struct md_zone_source *src, char *err, size_t errlen);

/*
 * Load every source into a new snapshot with a reference count of 1.
 * Zones marked auto_ptr get a PTR record for every A/AAAA record of the
 * other zones whose reverse name falls inside them and that they do not
 * already hold.  Two zones with the same origin are an error.  Returns NULL
 * with "FILE:LINE: problem" in err.
 */
struct md_zone_set *md_zone_set_load(
    const struct md_zone_source *srcs, size_t n, char *err, size_t errlen);
/* A snapshot of these zones (each gets a new reference). */
struct md_zone_set *md_zone_set_new(struct md_zone *const *zones, size_t n);
/*
 * A snapshot of base's zones plus 'extra' (each gets a new reference); an
 * extra zone replaces a base zone of the same origin (the Kubernetes source
 * over a zone file).  base may be NULL.
 */
struct md_zone_set *md_zone_set_merge(
    const struct md_zone_set *base, struct md_zone *const *extra, size_t n);
/* An empty snapshot (serves nothing). */
struct md_zone_set *md_zone_set_new_empty(void);
struct md_zone_set *md_zone_set_ref(struct md_zone_set *zs);
void md_zone_set_unref(struct md_zone_set *zs);
size_t md_zone_set_count(const struct md_zone_set *zs);
const struct md_zone *md_zone_set_get(const struct md_zone_set *zs, size_t i);
/* The zone with the longest origin that encloses name, or NULL. */
const struct md_zone *md_zone_set_find(
    const struct md_zone_set *zs, const uint8_t *name);

/* ---- lookup ------------------------------------------------------------ */

enum md_zone_status {
	MD_ZONE_NOT_LOCAL = 0, /* no local zone encloses the name */
	MD_ZONE_ANSWER,	       /* data (maybe after a CNAME chain) */
	MD_ZONE_NODATA,	       /* name exists, type does not */
	MD_ZONE_NXDOMAIN,
	MD_ZONE_REFERRAL,  /* below a delegation inside a zone */
	MD_ZONE_CNAME_OUT, /* CNAME chain leaves the local zones */
	MD_ZONE_LOOP,	   /* CNAME loop or over-long chain */
	MD_ZONE_NOT_READY, /* a zone whose data is not there yet: SERVFAIL */
};

const char *md_zone_status_str(enum md_zone_status s);

/* One RRset placed in a section of the response. */
struct md_zone_rr {
	const uint8_t *owner; /* NULL: the query name as the client sent it */
	const struct md_rrset *rrset;
	uint32_t ttl; /* the TTL to send */
	/* DNSSEC records, given only to clients that set DO: with covered
	 * set, rrset is the node's RRSIG set and only the RRSIGs covering
	 * that type go out; dnssec marks NSEC sets and a referral's DS */
	uint16_t covered;
	bool dnssec;
};

#define MD_ZONE_SECTION_MAX 48
#define MD_ZONE_CNAME_MAX 12

struct md_zone_result {
	enum md_zone_status status;
	uint8_t rcode;
	bool aa;
	const struct md_zone *zone; /* zone of the query name */
	unsigned nan, nns, nar;
	struct md_zone_rr an[MD_ZONE_SECTION_MAX];
	struct md_zone_rr ns[MD_ZONE_SECTION_MAX];
	struct md_zone_rr ar[MD_ZONE_SECTION_MAX];
	/* A record made up for the query (pod names), pointed to by an[] */
	struct md_rrset synth;
	uint8_t synth_rdata[2 + 16];
};

/*
 * Answer qname/qtype from the snapshot, per RFC 1034 §4.3.2: exact match,
 * CNAME chains followed through local data, wildcards, NXDOMAIN or NODATA
 * with the SOA (TTL per RFC 2308 §5), referrals at zone cuts with glue, and
 * addresses of NS/MX/SRV targets as additional data.
 */
void md_zone_lookup(const struct md_zone_set *zs, const uint8_t *qname,
    uint16_t qtype, struct md_zone_result *res);
/* The same, with md_name_suffix_hashes(qname) already made (NULL: made
 * here). */
void md_zone_lookup_h(const struct md_zone_set *zs, const uint8_t *qname,
    const uint32_t *qhashes, uint16_t qtype, struct md_zone_result *res);

#endif /* MINIDNS_ZONE_H */
