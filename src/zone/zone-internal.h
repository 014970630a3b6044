/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone-internal.h - the zone store's own structures, shared by the files
 * of src/zone/ and nobody else.
 */
#ifndef MINIDNS_ZONE_INTERNAL_H
#define MINIDNS_ZONE_INTERNAL_H

#include <stdatomic.h>

#include "minidns/hashtab.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

/*
 * A name in a zone.  Every ancestor of a name with data, up to the apex,
 * has a node too (an empty non-terminal has no RRsets), so a failed
 * lookup while walking down from the apex means the name does not exist
 * (RFC 4592 §2.2.2).
 */
struct md_node {
	struct md_hnode hn;	/* in md_zone.nodes; hash: md_name_hash */
	struct md_node *parent; /* NULL for the apex */
	struct md_rrset *rrsets;
	uint8_t name[]; /* wire form, case as in the zone data */
};

struct md_zone {
	atomic_uint refs;   /* snapshots holding the zone */
	bool fallthrough;   /* NXDOMAIN: not ours, next source */
	bool pod_synthesis; /* a-b-c-d.<ns>.pod.<zone> answered */
	bool not_ready;	    /* every name: SERVFAIL, data still to come */
	bool autopath;	    /* Kubernetes autopath: search paths per client */
	/* the pods' addresses -> their namespaces (autopath), sorted by
	 * md_zone_check(); ns "" for an address pods of several namespaces
	 * share (hostNetwork) */
	struct md_zone_client *clients;
	size_t nclients, capclients;
	/* A part of a larger zone (a Kubernetes namespace): negative answers
	 * carry the enclosing zone's SOA, kept here. */
	struct md_rrset *neg_soa;
	uint8_t *neg_soa_owner;
	struct md_arena arena; /* nodes and RRset headers */
	uint8_t origin[MD_NAME_MAX];
	unsigned origin_labels;
	uint32_t origin_hash;	 /* md_name_hash(origin) */
	struct md_hashtab nodes; /* struct md_node by name */
	size_t nrr;
	struct md_node *apex;
	bool auto_ptr;
	/* a signed zone's nodes that have an NSEC set, in canonical order
	 * (md_zone_check()): the denials' proofs are found by bisection */
	const struct md_node **nsec;
	size_t nnsec;
	/* an NSEC3-signed zone (RFC 5155): its NSEC3PARAM's iterations and
	 * salt, and the nodes with an NSEC3 set sorted by their hash */
	const struct md_node **nsec3;
	size_t nnsec3;
	bool has_rrsig; /* signed: answers look for their RRSIGs */
	uint16_t n3_iterations;
	uint8_t n3_salt[255];
	uint8_t n3_saltlen;
};

/* One pod address (IPv4 as ::ffff:a.b.c.d) and its namespace. */
struct md_zone_client {
	uint8_t addr[16];
	char ns[64];
};

/* A zone in a snapshot's index (a zone may sit in several snapshots, so
 * the node is the snapshot's, not the zone's). */
struct md_zone_slot {
	struct md_hnode hn; /* hash: the zone's origin_hash */
	const struct md_zone *zone;
};

struct md_zone_set {
	atomic_uint refs;
	size_t count;
	struct md_zone **zones;
	/* zones by origin: a fixed table over slots[count]; no buckets when
	 * it could not be built (lookups then scan zones[]) */
	struct md_hashtab index;
	struct md_zone_slot *slots;
};

/* (Re)build zs->index from zs->zones; 0 or -ENOMEM (then lookups scan). */
int md_zone_set_reindex(struct md_zone_set *zs);
struct md_node *md_zone_find_node(const struct md_zone *z, const uint8_t *name);
/* The node of name, a child of 'parent' (whose name is name less its
 * first label): only the first label is compared.  hash: name's. */
struct md_node *md_zone_find_child(const struct md_zone *z,
    const struct md_node *parent, const uint8_t *name, uint32_t hash);
/* The same with the name's hash already known (md_name_suffix_hashes). */
struct md_node *md_zone_find_node_h(
    const struct md_zone *z, const uint8_t *name, uint32_t hash);
/* md_zone_set_find() for a name whose suffixes and their hashes are
 * known: sfx[i], h[i] for i = 0..labels (md_name_suffix_hashes). */
const struct md_zone *md_zone_set_find_h(const struct md_zone_set *zs,
    const uint8_t *const *sfx, const uint32_t *h, unsigned labels);
const struct md_rrset *md_node_rrset(const struct md_node *n, uint16_t type);

#endif /* MINIDNS_ZONE_INTERNAL_H */
