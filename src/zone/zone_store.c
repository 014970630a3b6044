/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_store.c - building a zone (names -> RRsets in a hash table) and the
 * reference-counted snapshot of all zones.  Lookup is zone_lookup.c;
 * parsing files is zone_load.c and zone_yaml.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone-internal.h"

static struct md_node *get_node(struct md_zone *z, const uint8_t *name);

const uint8_t *
md_rrset_next(const struct md_rrset *set, const uint8_t *prev, uint16_t *rdlen,
    const uint8_t **rdata)
{
	const uint8_t *p;

	if (prev == NULL)
		p = set->rdata;
	else
		p = prev + 2 + md_read_u16(prev);
	if (p >= set->rdata + set->rdata_len)
		return NULL;
	*rdlen = md_read_u16(p);
	*rdata = p + 2;
	return p;
}

struct md_zone *
md_zone_new(const uint8_t *origin)
{
	struct md_zone *z = calloc(1, sizeof(*z));
	size_t olen = md_name_len(origin);

	if (z == NULL || olen == 0)
		goto fail;
	atomic_init(&z->refs, 1);
	md_arena_init(&z->arena, 65536);
	memcpy(z->origin, origin, olen);
	z->origin_labels = md_name_labels(origin);
	z->origin_hash = md_name_hash(origin);
	if (md_hashtab_init(&z->nodes, 64, 0) != 0)
		goto fail;
	return z;
fail:
	if (z != NULL)
		md_arena_deinit(&z->arena);
	free(z);
	return NULL;
}

struct md_zone *
md_zone_ref(struct md_zone *z)
{
	if (z != NULL)
		atomic_fetch_add(&z->refs, 1);
	return z;
}

void
md_zone_free(struct md_zone *z)
{
	/* The last reference frees: a zone may sit in several snapshots
	 * (the Kubernetes source republishes without reloading files). */
	if (z == NULL || atomic_fetch_sub(&z->refs, 1) != 1)
		return;
	md_hashtab_deinit(&z->nodes);
	md_arena_deinit(&z->arena);
	free(z->clients);
	free(z->nsec);
	free(z->nsec3);
	free(z);
}

void
md_zone_set_autopath(struct md_zone *z, bool on)
{
	z->autopath = on;
}

bool
md_zone_autopath(const struct md_zone *z)
{
	return z != NULL && z->autopath;
}

int
md_zone_add_client(struct md_zone *z, const uint8_t addr[16], const char *ns)
{
	if (z->nclients == z->capclients) {
		size_t cap = z->capclients ? z->capclients * 2 : 64;
		struct md_zone_client *v =
		    realloc(z->clients, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		z->clients = v;
		z->capclients = cap;
	}
	memcpy(z->clients[z->nclients].addr, addr, 16);
	md_strlcpy(z->clients[z->nclients].ns, ns, sizeof(z->clients[0].ns));
	z->nclients++;
	return 0;
}

static int
client_cmp(const void *a, const void *b)
{
	return memcmp(((const struct md_zone_client *)a)->addr,
	    ((const struct md_zone_client *)b)->addr, 16);
}

/* Sort the clients; an address of pods in several namespaces (pods on
 * the host's network share the node's) belongs to none. */
static void
clients_sort(struct md_zone *z)
{
	size_t n = 0;

	if (z->nclients == 0)
		return;
	qsort(z->clients, z->nclients, sizeof(z->clients[0]), client_cmp);
	for (size_t i = 0; i < z->nclients; i++) {
		if (n > 0 &&
		    client_cmp(&z->clients[n - 1], &z->clients[i]) == 0) {
			if (strcmp(z->clients[n - 1].ns, z->clients[i].ns) != 0)
				z->clients[n - 1].ns[0] = '\0';
			continue;
		}
		z->clients[n++] = z->clients[i];
	}
	z->nclients = n;
}

const char *
md_zone_client_ns(const struct md_zone *z, const uint8_t addr[16])
{
	struct md_zone_client key;
	const struct md_zone_client *c;

	if (z == NULL || z->nclients == 0)
		return NULL;
	memcpy(key.addr, addr, 16);
	c = bsearch(&key, z->clients, z->nclients, sizeof(key), client_cmp);
	return c != NULL && c->ns[0] != '\0' ? c->ns : NULL;
}

void
md_zone_set_fallthrough(struct md_zone *z, bool on)
{
	z->fallthrough = on;
}

void
md_zone_set_not_ready(struct md_zone *z, bool on)
{
	z->not_ready = on;
}

int
md_zone_set_negative_soa(struct md_zone *z, const uint8_t *owner, uint32_t ttl,
    const uint8_t *rdata, uint16_t rdlen)
{
	struct md_rrset *set = md_arena_alloc(&z->arena, sizeof(*set));
	uint8_t *rd = md_arena_alloc(&z->arena, 2 + (size_t)rdlen);
	uint8_t *ow = md_arena_memdup(&z->arena, owner, md_name_len(owner));

	if (set == NULL || rd == NULL || ow == NULL)
		return -ENOMEM;
	memset(set, 0, sizeof(*set));
	set->type = MD_TYPE_SOA;
	set->count = 1;
	set->ttl = ttl;
	md_write_u16(rd, rdlen);
	memcpy(rd + 2, rdata, rdlen);
	set->rdata = rd;
	set->rdata_len = 2 + (uint32_t)rdlen;
	set->rdata_cap = set->rdata_len;
	z->neg_soa = set;
	z->neg_soa_owner = ow;
	return 0;
}

void
md_zone_set_pod_synthesis(struct md_zone *z, bool on)
{
	z->pod_synthesis = on;
}

int
md_zone_add_name(struct md_zone *z, const uint8_t *name)
{
	if (!md_name_is_subdomain(name, z->origin))
		return MD_EPARSE;
	return get_node(z, name) != NULL ? 0 : -ENOMEM;
}

/*
 * The origin index of a snapshot: one slot per zone in a fixed table of
 * at least twice as many buckets.  Slots go in from the last zone to the
 * first, so of two zones with one origin the first in zones[] heads the
 * chain and is the one found.
 */
int
md_zone_set_reindex(struct md_zone_set *zs)
{
	size_t n = 16;

	while (n < zs->count * 2)
		n *= 2;
	md_hashtab_deinit(&zs->index);
	free(zs->slots);
	zs->slots = calloc(zs->count ? zs->count : 1, sizeof(*zs->slots));
	if (zs->slots == NULL ||
	    md_hashtab_init(&zs->index, n, MD_HASHTAB_FIXED) != 0) {
		md_hashtab_deinit(&zs->index);
		free(zs->slots);
		zs->slots = NULL;
		return -ENOMEM;
	}
	for (size_t i = zs->count; i-- > 0;) {
		zs->slots[i].zone = zs->zones[i];
		md_hashtab_insert(
		    &zs->index, &zs->slots[i].hn, zs->zones[i]->origin_hash);
	}
	return 0;
}

struct md_zone_set *
md_zone_set_new(struct md_zone *const *zones, size_t n)
{
	struct md_zone_set *zs = md_zone_set_new_empty();

	if (zs == NULL)
		return NULL;
	zs->zones = calloc(n ? n : 1, sizeof(*zs->zones));
	if (zs->zones == NULL) {
		free(zs);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		zs->zones[zs->count++] = md_zone_ref(zones[i]);
	md_zone_set_reindex(zs);
	return zs;
}

struct md_zone_set *
md_zone_set_merge(
    const struct md_zone_set *base, struct md_zone *const *extra, size_t n)
{
	size_t total = (base != NULL ? base->count : 0) + n;
	struct md_zone_set *zs = md_zone_set_new_empty();

	if (zs == NULL)
		return NULL;
	zs->zones = calloc(total ? total : 1, sizeof(*zs->zones));
	if (zs->zones == NULL) {
		free(zs);
		return NULL;
	}
	for (size_t i = 0; base != NULL && i < base->count; i++) {
		bool shadowed = false;

		for (size_t j = 0; j < n; j++)
			shadowed |= md_name_equal(
			    base->zones[i]->origin, extra[j]->origin);
		if (!shadowed)
			zs->zones[zs->count++] = md_zone_ref(base->zones[i]);
	}
	for (size_t j = 0; j < n; j++)
		zs->zones[zs->count++] = md_zone_ref(extra[j]);
	md_zone_set_reindex(zs);
	return zs;
}

const uint8_t *
md_zone_origin(const struct md_zone *z)
{
	return z->origin;
}

size_t
md_zone_rr_count(const struct md_zone *z)
{
	return z->nrr;
}

struct md_node *
md_zone_find_node(const struct md_zone *z, const uint8_t *name)
{
	return md_zone_find_node_h(z, name, md_name_hash(name));
}

/* The node is the first member: no offset to subtract on the hot path. */
static inline struct md_node *
node_of(struct md_hnode *hn)
{
	return MD_HNODE_ENTRY(hn, struct md_node, hn);
}

struct md_node *
md_zone_find_child(const struct md_zone *z, const struct md_node *parent,
    const uint8_t *name, uint32_t h)
{
	for (struct md_hnode *hn = md_hashtab_match(&z->nodes, h); hn != NULL;
	     hn = md_hashtab_match_next(hn, h)) {
		struct md_node *n = node_of(hn);

		if (n->parent == parent && md_label_equal(n->name, name))
			return n;
	}
	return NULL;
}

struct md_node *
md_zone_find_node_h(const struct md_zone *z, const uint8_t *name, uint32_t h)
{
	for (struct md_hnode *hn = md_hashtab_match(&z->nodes, h); hn != NULL;
	     hn = md_hashtab_match_next(hn, h)) {
		struct md_node *n = node_of(hn);

		if (md_name_equal(n->name, name))
			return n;
	}
	return NULL;
}

const struct md_rrset *
md_node_rrset(const struct md_node *n, uint16_t type)
{
	for (const struct md_rrset *s = n->rrsets; s != NULL; s = s->next) {
		if (s->type == type)
			return s;
	}
	return NULL;
}

uint32_t
md_zone_serial(const struct md_zone *z)
{
	const struct md_rrset *soa;

	if (z->apex == NULL)
		return 0;
	soa = md_node_rrset(z->apex, MD_TYPE_SOA);
	if (soa == NULL || soa->rdata_len < 2 + 20)
		return 0;
	/* serial is the first of the five numbers after the two names */
	return md_read_u32(soa->rdata + soa->rdata_len - 20);
}

/* The node for name, created with its missing ancestors. */
static struct md_node *
get_node(struct md_zone *z, const uint8_t *name)
{
	struct md_node *n = md_zone_find_node(z, name);
	size_t len;

	if (n != NULL)
		return n;
	len = md_name_len(name);
	n = md_arena_alloc(&z->arena, sizeof(*n) + len);
	if (n == NULL)
		return NULL;
	memcpy(n->name, name, len);
	n->rrsets = NULL;
	md_hashtab_insert(&z->nodes, &n->hn, md_name_hash(name));
	n->parent = NULL;
	if (md_name_labels(name) == z->origin_labels) {
		z->apex = n;
	} else if ((n->parent = get_node(z, md_name_parent(name))) == NULL) {
		return NULL;
	}
	return n;
}

int
md_zone_add_rr(struct md_zone *z, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, char *err,
    size_t errlen)
{
	char name[MD_NAME_STRLEN];
	struct md_node *n;
	struct md_rrset *set = NULL;
	const uint8_t *p;
	uint16_t l;
	const uint8_t *d;

	/* The owner's text is made only for an error: this runs once per
	 * record of every zone built (200,000 for a large cluster). */
	if (!md_name_is_subdomain(owner, z->origin)) {
		char zname[MD_NAME_STRLEN];

		md_name_to_str(owner, name, sizeof(name));
		md_name_to_str(z->origin, zname, sizeof(zname));
		snprintf(err, errlen, "%s is outside the zone %s", name, zname);
		return MD_EPARSE;
	}
	if (type == MD_TYPE_OPT || type == MD_TYPE_ANY ||
	    type == MD_TYPE_AXFR || type == MD_TYPE_IXFR) {
		md_name_to_str(owner, name, sizeof(name));
		snprintf(
		    err, errlen, "%s: type %u cannot be zone data", name, type);
		return MD_EPARSE;
	}
	if (type == MD_TYPE_SOA && md_name_labels(owner) != z->origin_labels) {
		md_name_to_str(owner, name, sizeof(name));
		snprintf(err, errlen, "%s: SOA record away from the zone apex",
		    name);
		return MD_EPARSE;
	}
	n = get_node(z, owner);
	if (n == NULL)
		return -ENOMEM;
	for (struct md_rrset *s = n->rrsets; s != NULL; s = s->next) {
		if (s->type == type)
			set = s;
		/* RFC 1034 §3.6.2 (and RFC 2181 §10.1): a CNAME stands alone,
		 * but for the DNSSEC records that sign and chain it (RFC 4035
		 * §2.5) */
		else if ((type == MD_TYPE_CNAME || s->type == MD_TYPE_CNAME) &&
		    type != MD_TYPE_RRSIG && type != MD_TYPE_NSEC &&
		    s->type != MD_TYPE_RRSIG && s->type != MD_TYPE_NSEC) {
			md_name_to_str(owner, name, sizeof(name));
			snprintf(err, errlen,
			    "%s: CNAME and other data at the same name", name);
			return MD_EPARSE;
		}
	}
	if (set != NULL) {
		for (p = NULL; (p = md_rrset_next(set, p, &l, &d)) != NULL;) {
			if (l == rdlen && memcmp(d, rdata, rdlen) == 0)
				return 0; /* RFC 2181 §5: duplicates merge */
		}
		if (type == MD_TYPE_SOA || type == MD_TYPE_CNAME) {
			md_name_to_str(owner, name, sizeof(name));
			snprintf(err, errlen, "%s: more than one %s record",
			    name, type == MD_TYPE_SOA ? "SOA" : "CNAME");
			return MD_EPARSE;
		}
		if (ttl < set->ttl)
			set->ttl = ttl; /* RFC 2181 §5.2: one TTL per RRset */
	} else {
		set = md_arena_alloc(&z->arena, sizeof(*set));
		if (set == NULL)
			return -ENOMEM;
		memset(set, 0, sizeof(*set));
		set->type = type;
		set->ttl = ttl;
		/* Keep types in insertion order: ANY answers read naturally. */
		struct md_rrset **tail = &n->rrsets;

		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = set;
	}
	/* RRset data lives in the zone's arena too (one free for the whole
	 * zone); a growing RRset moves to a block twice as big. */
	size_t need = set->rdata_len + 2 + (size_t)rdlen;

	if (need > set->rdata_cap) {
		size_t cap = set->rdata_cap ? set->rdata_cap * 2 : 32;
		uint8_t *nd;

		while (cap < need)
			cap *= 2;
		nd = md_arena_alloc(&z->arena, cap);
		if (nd == NULL)
			return -ENOMEM;
		if (set->rdata_len > 0)
			memcpy(nd, set->rdata, set->rdata_len);
		set->rdata = nd;
		set->rdata_cap = (uint32_t)cap;
	}
	md_write_u16(set->rdata + set->rdata_len, rdlen);
	memcpy(set->rdata + set->rdata_len + 2, rdata, rdlen);
	set->rdata_len += 2 + (uint32_t)rdlen;
	set->count++;
	z->nrr++;
	return 0;
}

static int
nsec_cmp(const void *a, const void *b)
{
	const struct md_node *x = *(const struct md_node *const *)a;
	const struct md_node *y = *(const struct md_node *const *)b;

	return md_name_canon_cmp(x->name, y->name);
}

/* NSEC3 owners by their first label, the hash in base32hex: its order
 * is the hashes' (RFC 5155 §3.3), case aside. */
static int
nsec3_cmp(const void *a, const void *b)
{
	const uint8_t *x = (*(const struct md_node *const *)a)->name;
	const uint8_t *y = (*(const struct md_node *const *)b)->name;

	return md_label_canon_cmp(x, y);
}

/* The nodes with a set of 'type' (NSEC or NSEC3) into *out, sorted. */
static int
chain_index(struct md_zone *z, uint16_t type, const struct md_node ***out,
    size_t *nout, int (*cmp)(const void *, const void *))
{
	struct md_hashtab_iter it;
	struct md_hnode *hn;
	size_t n = 0;

	free(*out);
	*out = NULL;
	*nout = 0;
	md_hashtab_iter_init(&it, &z->nodes);
	while ((hn = md_hashtab_iter_next(&it)) != NULL)
		n += md_node_rrset(
			 MD_HNODE_ENTRY(hn, struct md_node, hn), type) != NULL;
	if (n == 0)
		return 0;
	*out = malloc(n * sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	md_hashtab_iter_init(&it, &z->nodes);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		const struct md_node *nd =
		    MD_HNODE_ENTRY(hn, struct md_node, hn);

		if (md_node_rrset(nd, type) != NULL)
			(*out)[(*nout)++] = nd;
	}
	qsort(*out, *nout, sizeof(**out), cmp);
	return 0;
}

/* A signed zone's chains: NSEC in canonical order, NSEC3 by hash with
 * the apex's NSEC3PARAM (SHA-1, the only hash RFC 5155 defines). */
static int
nsec_index(struct md_zone *z)
{
	const struct md_rrset *param =
	    md_node_rrset(z->apex, MD_TYPE_NSEC3PARAM);
	struct md_hashtab_iter it;
	struct md_hnode *hn;
	const uint8_t *rd;
	uint16_t len;

	if (chain_index(z, MD_TYPE_NSEC, &z->nsec, &z->nnsec, nsec_cmp) != 0 ||
	    chain_index(z, MD_TYPE_NSEC3, &z->nsec3, &z->nnsec3, nsec3_cmp) !=
		0)
		return -ENOMEM;
	z->has_rrsig = false;
	md_hashtab_iter_init(&it, &z->nodes);
	while (!z->has_rrsig && (hn = md_hashtab_iter_next(&it)) != NULL)
		z->has_rrsig =
		    md_node_rrset(MD_HNODE_ENTRY(hn, struct md_node, hn),
			MD_TYPE_RRSIG) != NULL;
	z->n3_iterations = 0;
	z->n3_saltlen = 0;
	if (z->nnsec3 > 0 && param != NULL &&
	    md_rrset_next(param, NULL, &len, &rd) != NULL && len >= 5 &&
	    rd[0] == 1 && len >= 5 + rd[4]) {
		z->n3_iterations = md_read_u16(rd + 2);
		z->n3_saltlen = rd[4];
		memcpy(z->n3_salt, rd + 5, rd[4]);
	} else {
		free(z->nsec3); /* no usable parameters: no NSEC3 proofs */
		z->nsec3 = NULL;
		z->nnsec3 = 0;
	}
	return 0;
}

int
md_zone_check(struct md_zone *z, char *err, size_t errlen)
{
	char zname[MD_NAME_STRLEN];

	clients_sort(z);
	if (nsec_index(z) != 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	md_name_to_str(z->origin, zname, sizeof(zname));
	if (z->apex == NULL || md_node_rrset(z->apex, MD_TYPE_SOA) == NULL) {
		snprintf(err, errlen, "zone %s has no SOA record at its apex",
		    zname);
		return MD_EPARSE;
	}
	if (md_node_rrset(z->apex, MD_TYPE_NS) == NULL) {
		snprintf(err, errlen, "zone %s has no NS records at its apex",
		    zname);
		return MD_EPARSE;
	}
	return 0;
}

/* ---- snapshots --------------------------------------------------------- */

struct md_zone_set *
md_zone_set_new_empty(void)
{
	struct md_zone_set *zs = calloc(1, sizeof(*zs));

	if (zs != NULL)
		atomic_init(&zs->refs, 1);
	return zs;
}

struct md_zone_set *
md_zone_set_ref(struct md_zone_set *zs)
{
	if (zs != NULL)
		atomic_fetch_add(&zs->refs, 1);
	return zs;
}

void
md_zone_set_unref(struct md_zone_set *zs)
{
	if (zs == NULL || atomic_fetch_sub(&zs->refs, 1) != 1)
		return;
	for (size_t i = 0; i < zs->count; i++)
		md_zone_free(zs->zones[i]);
	free(zs->zones);
	md_hashtab_deinit(&zs->index);
	free(zs->slots);
	free(zs);
}

size_t
md_zone_set_count(const struct md_zone_set *zs)
{
	return zs->count;
}

const struct md_zone *
md_zone_set_get(const struct md_zone_set *zs, size_t i)
{
	return i < zs->count ? zs->zones[i] : NULL;
}

/* The zone whose origin is sfx[i] (hash h[i]) in the index, or NULL. */
static const struct md_zone *
index_get(const struct md_zone_set *zs, const uint8_t *name, uint32_t hash)
{
	for (struct md_hnode *hn = md_hashtab_match(&zs->index, hash);
	     hn != NULL; hn = md_hashtab_match_next(hn, hash)) {
		const struct md_zone *z =
		    MD_HNODE_ENTRY(hn, struct md_zone_slot, hn)->zone;

		if (md_name_equal(z->origin, name))
			return z;
	}
	return NULL;
}

const struct md_zone *
md_zone_set_find_h(const struct md_zone_set *zs, const uint8_t *const *sfx,
    const uint32_t *h, unsigned labels)
{
	/* The longest enclosing origin: the name, then each parent, in the
	 * index (a handful of probes, however many zones). */
	if (md_hashtab_buckets(&zs->index) == 0) {
		const struct md_zone *best = NULL;

		for (size_t i = 0; i < zs->count; i++) {
			const struct md_zone *z = zs->zones[i];

			if ((best == NULL ||
				z->origin_labels > best->origin_labels) &&
			    md_name_is_subdomain(sfx[0], z->origin))
				best = z;
		}
		return best;
	}
	for (unsigned i = 0; i <= labels; i++) {
		const struct md_zone *z = index_get(zs, sfx[i], h[i]);

		if (z != NULL)
			return z;
	}
	return NULL;
}

const struct md_zone *
md_zone_set_find(const struct md_zone_set *zs, const uint8_t *name)
{
	const uint8_t *sfx[MD_NAME_MAX / 2 + 2];
	uint32_t h[MD_NAME_MAX / 2 + 2];
	unsigned labels = md_name_suffix_hashes(name, h);

	for (unsigned i = 0; i <= labels; i++) {
		sfx[i] = name;
		if (i < labels)
			name += 1 + *name;
	}
	return md_zone_set_find_h(zs, sfx, h, labels);
}
