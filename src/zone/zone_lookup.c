/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_lookup.c - answer a question from the local zones, following the
 * algorithm of RFC 1034 §4.3.2 with the clarifications of RFC 2181, RFC
 * 2308 (negative answers), RFC 4592 (wildcards) and RFC 6604 (rcode of a
 * CNAME chain).  Allocates nothing: the result points into the snapshot.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "zone-internal.h"

const char *
md_zone_status_str(enum md_zone_status s)
{
	switch (s) {
	case MD_ZONE_NOT_LOCAL:
		return "not-local";
	case MD_ZONE_ANSWER:
		return "answer";
	case MD_ZONE_NODATA:
		return "nodata";
	case MD_ZONE_NXDOMAIN:
		return "nxdomain";
	case MD_ZONE_REFERRAL:
		return "referral";
	case MD_ZONE_CNAME_OUT:
		return "cname-out";
	case MD_ZONE_LOOP:
		return "cname-loop";
	case MD_ZONE_NOT_READY:
		return "not-ready";
	}
	return "?";
}

static void
push_ext(struct md_zone_rr *sec, unsigned *n, const uint8_t *owner,
    const struct md_rrset *set, uint32_t ttl, uint16_t covered, bool dnssec)
{
	for (unsigned i = 0; i < *n; i++) {
		if (sec[i].rrset == set && sec[i].owner == owner &&
		    sec[i].covered == covered)
			return;
	}
	if (*n >= MD_ZONE_SECTION_MAX)
		return;
	sec[*n].owner = owner;
	sec[*n].rrset = set;
	sec[*n].ttl = ttl;
	sec[*n].covered = covered;
	sec[*n].dnssec = dnssec;
	(*n)++;
}

static void
push(struct md_zone_rr *sec, unsigned *n, const uint8_t *owner,
    const struct md_rrset *set, uint32_t ttl)
{
	push_ext(sec, n, owner, set, ttl, 0, false);
}

/* ---- DNSSEC records of a signed zone (for clients that set DO) ---------- */

/* The node's RRSIGs covering 'type', after that RRset (RFC 4035 §3.1.1). */
static void
push_sigs(struct md_zone_rr *sec, unsigned *n, const uint8_t *owner,
    const struct md_node *node, uint16_t type, uint32_t ttl)
{
	const struct md_rrset *sig = md_node_rrset(node, MD_TYPE_RRSIG);
	const uint8_t *p, *rd;
	uint16_t len;

	if (sig == NULL)
		return;
	for (p = NULL; (p = md_rrset_next(sig, p, &len, &rd)) != NULL;) {
		if (len >= 18 && md_read_u16(rd) == type) {
			push_ext(sec, n, owner, sig, ttl, type, true);
			return;
		}
	}
}

/* A node's NSEC set and its RRSIGs, in the authority section. */
static void
push_nsec(struct md_zone_result *res, const struct md_node *node, uint32_t ttl)
{
	const struct md_rrset *nsec =
	    node != NULL ? md_node_rrset(node, MD_TYPE_NSEC) : NULL;

	if (nsec == NULL)
		return;
	push_ext(res->ns, &res->nns, node->name, nsec, ttl, 0, true);
	push_sigs(res->ns, &res->nns, node->name, node, MD_TYPE_NSEC, ttl);
}

/* The NSEC whose owner is the last before name in canonical order: it
 * covers name (RFC 4034 §4.1.1: the chain wraps round to the apex). */
static const struct md_node *
covering_nsec(const struct md_zone *z, const uint8_t *name)
{
	size_t lo = 0, hi = z->nnsec;

	if (z->nnsec == 0)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (md_name_canon_cmp(z->nsec[mid]->name, name) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->nsec[lo > 0 ? lo - 1 : z->nnsec - 1];
}

/* The negative TTL of the SOA add_soa() pushed, for its proof. */
static uint32_t
neg_ttl(const struct md_zone_result *res)
{
	return res->nns > 0 ? res->ns[res->nns - 1].ttl : 0;
}

/* ---- NSEC3 (RFC 5155) ----------------------------------------------------- */

/*
 * The owner label of name's NSEC3 (RFC 5155 §5): the iterated SHA-1 of
 * the lower-cased name and the zone's salt, in base32hex, lower case;
 * label[0] is its length (32).  False if hashing failed.
 */
static bool
nsec3_label(const struct md_zone *z, const uint8_t *name, uint8_t *label)
{
	uint8_t h[MD_NSEC3_HASH_LEN];

	if (!md_nsec3_hash(
		name, z->n3_salt, z->n3_saltlen, z->n3_iterations, h))
		return false;
	label[0] = MD_NSEC3_B32_LEN;
	md_base32hex_encode(h, sizeof(h), (char *)label + 1);
	return true;
}

/* The NSEC3 set of a node and its RRSIGs, in the authority section. */
static void
push_nsec3(struct md_zone_result *res, const struct md_node *node, uint32_t ttl)
{
	const struct md_rrset *n3 =
	    node != NULL ? md_node_rrset(node, MD_TYPE_NSEC3) : NULL;

	if (n3 == NULL)
		return;
	push_ext(res->ns, &res->nns, node->name, n3, ttl, 0, true);
	push_sigs(res->ns, &res->nns, node->name, node, MD_TYPE_NSEC3, ttl);
}

/* The NSEC3 that matches name (cover false) or covers its hash (the last
 * before it, the chain wrapping round); NULL if none. */
static const struct md_node *
nsec3_for(const struct md_zone *z, const uint8_t *name, bool cover)
{
	uint8_t label[1 + 32], owner[MD_NAME_MAX];
	size_t lo = 0, hi = z->nnsec3, ol = md_name_len(z->origin);
	const struct md_node *n;

	if (z->nnsec3 == 0 || 1 + 32 + ol > MD_NAME_MAX ||
	    !nsec3_label(z, name, label))
		return NULL;
	if (!cover) {
		memcpy(owner, label, sizeof(label));
		memcpy(owner + sizeof(label), z->origin, ol);
		n = md_zone_find_node_h(z, owner, md_name_hash(owner));
		return n != NULL && md_node_rrset(n, MD_TYPE_NSEC3) != NULL
		    ? n
		    : NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (md_label_canon_cmp(z->nsec3[mid]->name, label) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->nsec3[lo > 0 ? lo - 1 : z->nnsec3 - 1];
}

/* The name one label longer than ce, towards name (RFC 5155 §1.3). */
static const uint8_t *
next_closer(const uint8_t *name, const uint8_t *ce)
{
	unsigned skip = md_name_labels(name) - md_name_labels(ce) - 1;

	while (skip-- > 0)
		name += 1 + *name;
	return name;
}

/* "*." before name, into out (MD_NAME_MAX); false if too long. */
static bool
wildcard_of(const uint8_t *name, uint8_t *out)
{
	size_t len = md_name_len(name);

	if (len + 2 > MD_NAME_MAX)
		return false;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, name, len);
	return true;
}

/*
 * NSEC3 denials (RFC 5155 §7.2): NODATA, the NSEC3 matching the name
 * (exact: its node, a wildcard's for a wildcard NODATA); NXDOMAIN, the
 * closest encloser proof (the NSEC3 matching ce, the one covering the next
 * closer name) and the one covering the wildcard at ce.
 */
static void
add_denial3(const struct md_zone *z, const uint8_t *name,
    const struct md_node *exact, const struct md_node *ce, uint32_t ttl,
    struct md_zone_result *res)
{
	uint8_t wild[MD_NAME_MAX];

	if (exact != NULL) {
		push_nsec3(res, nsec3_for(z, exact->name, false), ttl);
		return;
	}
	if (ce == NULL)
		return;
	push_nsec3(res, nsec3_for(z, ce->name, false), ttl);
	push_nsec3(res, nsec3_for(z, next_closer(name, ce->name), true), ttl);
	if (wildcard_of(ce->name, wild))
		push_nsec3(res, nsec3_for(z, wild, true), ttl);
}

/*
 * An answer made from a wildcard: no closer match exists.  NSEC: the NSEC
 * covering the name (RFC 4035 §3.1.3.3).  NSEC3: the NSEC3 covering the
 * next closer name (RFC 5155 §7.2.6), and for a wildcard NODATA the one
 * matching the closest encloser too (§7.2.5).
 */
static void
wildcard_proof(const struct md_zone *z, const uint8_t *name,
    const struct md_node *ce, bool nodata, uint32_t ttl,
    struct md_zone_result *res)
{
	if (z->neg_soa != NULL)
		return;
	if (z->nnsec > 0)
		push_nsec(res, covering_nsec(z, name), ttl);
	if (z->nnsec3 > 0 && ce != NULL) {
		if (nodata)
			push_nsec3(res, nsec3_for(z, ce->name, false), ttl);
		push_nsec3(
		    res, nsec3_for(z, next_closer(name, ce->name), true), ttl);
	}
}

/*
 * A denial's proof from an NSEC-signed zone (RFC 4035 §3.1.3): the SOA's
 * RRSIGs; for NODATA the name's own NSEC; for NXDOMAIN the NSEC covering
 * the name and the one covering the wildcard at its closest encloser.
 */
static void
add_denial(const struct md_zone *z, const uint8_t *name,
    const struct md_node *exact, const struct md_node *ce,
    struct md_zone_result *res)
{
	uint32_t ttl;

	if (z->neg_soa != NULL || res->nns == 0)
		return;
	ttl = neg_ttl(res);
	push_sigs(res->ns, &res->nns, z->apex->name, z->apex, MD_TYPE_SOA, ttl);
	if (z->nnsec == 0) {
		if (z->nnsec3 > 0)
			add_denial3(z, name, exact, ce, ttl, res);
		return;
	}
	if (exact != NULL) {
		push_nsec(res, exact, ttl);
		return;
	}
	push_nsec(res, covering_nsec(z, name), ttl);
	if (ce != NULL) {
		uint8_t wild[MD_NAME_MAX];
		size_t celen = md_name_len(ce->name);

		if (celen + 2 <= MD_NAME_MAX) {
			wild[0] = 1;
			wild[1] = '*';
			memcpy(wild + 2, ce->name, celen);
			push_nsec(res, covering_nsec(z, wild), ttl);
		}
	}
}

/* Is this RRset already in the answer or authority section? */
static bool
in_answer(const struct md_zone_result *res, const struct md_rrset *set)
{
	for (unsigned i = 0; i < res->nan; i++) {
		if (res->an[i].rrset == set)
			return true;
	}
	for (unsigned i = 0; i < res->nns; i++) {
		if (res->ns[i].rrset == set)
			return true;
	}
	return false;
}

/* A name's suffixes and their hashes: sfx[i] and h[i] are the name less
 * its first i labels, i = 0..labels.  Made once per name looked up, so
 * that trying the name's parents hashes nothing again. */
struct split {
	const uint8_t *sfx[MD_NAME_MAX / 2 + 2];
	uint32_t h[MD_NAME_MAX / 2 + 2];
	unsigned labels;
};

static void
split_name(const uint8_t *name, struct split *sp, const uint32_t *known)
{
	if (known != NULL) {
		sp->labels = md_name_labels(name);
		memcpy(sp->h, known, (sp->labels + 1) * sizeof(*known));
	} else {
		sp->labels = md_name_suffix_hashes(name, sp->h);
	}
	for (unsigned i = 0; i <= sp->labels; i++) {
		sp->sfx[i] = name;
		if (i < sp->labels)
			name += 1 + *name;
	}
}

/* Additional section processing: the addresses of 'target' we hold. */
static void
add_addresses(const struct md_zone_set *zs, const uint8_t *target,
    struct md_zone_result *res)
{
	struct split sp;
	const struct md_zone *z;
	const struct md_node *n;
	static const uint16_t types[] = {MD_TYPE_A, MD_TYPE_AAAA};

	split_name(target, &sp, NULL);
	z = md_zone_set_find_h(zs, sp.sfx, sp.h, sp.labels);
	if (z == NULL)
		return;
	n = md_zone_find_node_h(z, target, sp.h[0]);
	if (n == NULL)
		return;
	for (size_t i = 0; i < 2; i++) {
		const struct md_rrset *s = md_node_rrset(n, types[i]);

		if (s != NULL && !in_answer(res, s))
			push(res->ar, &res->nar, n->name, s, s->ttl);
	}
}

/* The target names that additional section processing follows. */
static void
add_additional(const struct md_zone_set *zs, const struct md_rrset *set,
    struct md_zone_result *res)
{
	const uint8_t *p, *rd;
	uint16_t len;
	size_t skip;

	switch (set->type) {
	case MD_TYPE_NS:
		skip = 0;
		break;
	case MD_TYPE_MX:
		skip = 2;
		break;
	case MD_TYPE_SRV:
		skip = 6;
		break;
	default:
		return;
	}
	for (p = NULL; (p = md_rrset_next(set, p, &len, &rd)) != NULL;) {
		if (len > skip && md_name_len(rd + skip) == len - skip)
			add_addresses(zs, rd + skip, res);
	}
}

/* The SOA MINIMUM of the zone (the Kubernetes zones' record TTL). */
static uint32_t
soa_minimum(const struct md_zone *z)
{
	const struct md_rrset *soa = z->neg_soa != NULL
	    ? z->neg_soa
	    : md_node_rrset(z->apex, MD_TYPE_SOA);

	if (soa == NULL || soa->rdata_len < 2 + 22)
		return 5;
	return md_read_u32(soa->rdata + soa->rdata_len - 4);
}

static void
add_soa(const struct md_zone *z, struct md_zone_result *res)
{
	const struct md_rrset *soa = md_node_rrset(z->apex, MD_TYPE_SOA);
	uint32_t ttl, minimum;

	if (z->neg_soa != NULL) {
		/* A part of a larger zone: the enclosing zone's SOA. */
		soa = z->neg_soa;
		minimum = md_read_u32(soa->rdata + soa->rdata_len - 4);
		ttl = soa->ttl < minimum ? soa->ttl : minimum;
		push(res->ns, &res->nns, z->neg_soa_owner, soa, ttl);
		return;
	}

	if (soa == NULL || soa->rdata_len < 2 + 22)
		return;
	/* RFC 2308 §5: negative TTL = min(SOA TTL, SOA MINIMUM) */
	minimum = md_read_u32(soa->rdata + soa->rdata_len - 4);
	ttl = soa->ttl < minimum ? soa->ttl : minimum;
	push(res->ns, &res->nns, z->apex->name, soa, ttl);
}

/*
 * "pods insecure": <a-b-c-d>.<ns>.pod.<zone> is the address it spells
 * (dashes for dots, or for colons in IPv6).  True when name is such a
 * name; res then holds the answer (or NODATA for other types).
 */
static bool
pod_answer(const struct md_zone *z, const uint8_t *name, unsigned labels,
    uint16_t qtype, bool first, struct md_zone_result *res)
{
	char text[64];
	uint8_t addr[16];
	const uint8_t *pod;
	uint8_t len = name[0];
	int family;

	if (labels != z->origin_labels + 3 || !first)
		return false;
	pod = md_name_parent(md_name_parent(name));
	if (pod[0] != 3 || (pod[1] | 0x20) != 'p' || (pod[2] | 0x20) != 'o' ||
	    (pod[3] | 0x20) != 'd' || len == 0 || len >= sizeof(text))
		return false;
	/* IPv4 first (1-2-3-4), then IPv6 (fd00--1): dashes stand for the
	 * separators. */
	for (family = AF_INET;; family = AF_INET6) {
		memcpy(text, name + 1, len);
		text[len] = '\0';
		for (char *p = text; *p != '\0'; p++) {
			if (*p == '-')
				*p = family == AF_INET ? '.' : ':';
		}
		if (inet_pton(family, text, addr) == 1)
			break;
		if (family == AF_INET6)
			return false;
	}
	res->status = MD_ZONE_ANSWER;
	if (qtype != (family == AF_INET ? MD_TYPE_A : MD_TYPE_AAAA) &&
	    qtype != MD_TYPE_ANY) {
		res->status = MD_ZONE_NODATA;
		add_soa(z, res);
		return true;
	}
	res->synth.type = family == AF_INET ? MD_TYPE_A : MD_TYPE_AAAA;
	res->synth.count = 1;
	res->synth.ttl = soa_minimum(z);
	md_write_u16(res->synth_rdata, family == AF_INET ? 4 : 16);
	memcpy(res->synth_rdata + 2, addr, family == AF_INET ? 4 : 16);
	res->synth.rdata = res->synth_rdata;
	res->synth.rdata_len = 2 + (family == AF_INET ? 4u : 16u);
	push(res->an, &res->nan, NULL, &res->synth, res->synth.ttl);
	return true;
}

/*
 * One step of the chain: answer 'name' ('owner' is what to print for it:
 * NULL for the client's query name).  Returns the CNAME target to follow,
 * or NULL when the lookup is complete.
 */
static const uint8_t *
lookup_one(const struct md_zone_set *zs, const uint8_t *name,
    const uint32_t *hashes, const uint8_t *owner, uint16_t qtype, bool first,
    struct md_zone_result *res)
{
	struct split sp;
	const struct md_zone *z;
	const struct md_node *n = NULL, *ce;
	unsigned labels, depth;
	bool wildcard = false;

	split_name(name, &sp, hashes);
	labels = sp.labels;
	z = md_zone_set_find_h(zs, sp.sfx, sp.h, labels);
	if (z == NULL) {
		res->status = first ? MD_ZONE_NOT_LOCAL : MD_ZONE_CNAME_OUT;
		return NULL;
	}
	if (z->not_ready) {
		/* Neither NXDOMAIN nor "ask elsewhere": the answer is not
		 * known yet (what CoreDNS's kubernetes plugin says before it
		 * has synced). */
		if (first)
			res->zone = z;
		res->status = MD_ZONE_NOT_READY;
		res->rcode = MD_RCODE_SERVFAIL;
		return NULL;
	}
	/* RFC 4035 §3.1.4.1: DS lives on the parent side of a cut, so a DS
	 * query for the apex of a child zone we also hold is the parent's. */
	if (qtype == MD_TYPE_DS && md_name_labels(name) == z->origin_labels &&
	    name[0] != 0) {
		const struct md_zone *pz =
		    md_zone_set_find_h(zs, sp.sfx + 1, sp.h + 1, labels - 1);

		if (pz != NULL)
			z = pz;
	}
	if (first) {
		res->zone = z;
		res->aa = true;
	}
	ce = z->apex;
	/* Walk down from the apex towards the name, stopping at a zone cut. */
	for (depth = z->origin_labels + 1; depth <= labels; depth++) {
		/* ce is the node of the parent name: one label to
		 * compare. */
		n = md_zone_find_child(
		    z, ce, sp.sfx[labels - depth], sp.h[labels - depth]);
		if (n == NULL)
			break;
		ce = n;
		const struct md_rrset *ns = md_node_rrset(n, MD_TYPE_NS);

		/* RFC 4035 §3.1.4.1 spirit: DS lives on the parent side. */
		if (ns != NULL && !(depth == labels && qtype == MD_TYPE_DS)) {
			const struct md_rrset *ds =
			    md_node_rrset(n, MD_TYPE_DS);

			push(res->ns, &res->nns, n->name, ns, ns->ttl);
			/* RFC 4035 §3.1.4: the DS and its RRSIGs, or the
			 * NSEC that proves there is none */
			if (ds != NULL) {
				push_ext(res->ns, &res->nns, n->name, ds,
				    ds->ttl, 0, true);
				push_sigs(res->ns, &res->nns, n->name, n,
				    MD_TYPE_DS, ds->ttl);
			} else if (z->nnsec3 > 0) {
				/* RFC 5155 §7.2.7: the NSEC3 matching the
				 * cut, or (an opt-out span) the one matching
				 * its parent and the one covering it */
				const struct md_node *m =
				    nsec3_for(z, n->name, false);

				if (m == NULL) {
					push_nsec3(res,
					    nsec3_for(z,
						md_name_parent(n->name), false),
					    ns->ttl);
					m = nsec3_for(z, n->name, true);
				}
				push_nsec3(res, m, ns->ttl);
			} else {
				push_nsec(res, n, ns->ttl);
			}
			add_additional(zs, ns, res);
			if (first)
				res->aa = false;
			res->status = MD_ZONE_REFERRAL;
			return NULL;
		}
	}
	if (depth <= labels) {
		/* The name does not exist: a wildcard at the closest
		 * encloser may stand for it (RFC 4592 §3.3.1). */
		uint8_t wild[MD_NAME_MAX];
		size_t celen = md_name_len(ce->name);

		n = NULL;
		if (celen + 2 <= MD_NAME_MAX) {
			wild[0] = 1;
			wild[1] = '*';
			memcpy(wild + 2, ce->name, celen);
			n = md_zone_find_child(z, ce, wild,
			    md_name_hash_prepend(ce->hn.hash, wild));
		}
		if (n == NULL && z->pod_synthesis &&
		    pod_answer(z, name, labels, qtype, first, res))
			return NULL;
		if (n == NULL) {
			if (z->fallthrough) {
				/* Not ours to deny: the next source asks. */
				res->status = first ? MD_ZONE_NOT_LOCAL
						    : MD_ZONE_CNAME_OUT;
				return NULL;
			}
			res->status = MD_ZONE_NXDOMAIN;
			res->rcode = MD_RCODE_NXDOMAIN;
			add_soa(z, res);
			add_denial(z, name, NULL, ce, res);
			return NULL;
		}
		wildcard = true;
	} else {
		n = ce;
		/* Exact match: print the name as the zone has it unless it
		 * is the client's own question. */
		if (owner != NULL)
			owner = n->name;
	}

	if (qtype == MD_TYPE_ANY) {
		for (const struct md_rrset *s = n->rrsets; s != NULL;
		     s = s->next)
			push(res->an, &res->nan, owner, s, s->ttl);
		res->status =
		    n->rrsets != NULL ? MD_ZONE_ANSWER : MD_ZONE_NODATA;
		if (n->rrsets == NULL)
			add_soa(z, res);
		return NULL;
	}
	const struct md_rrset *set = md_node_rrset(n, qtype);

	if (set != NULL) {
		push(res->an, &res->nan, owner, set, set->ttl);
		if (z->has_rrsig) /* unsigned zones skip the look */
			push_sigs(
			    res->an, &res->nan, owner, n, qtype, set->ttl);
		if (wildcard)
			wildcard_proof(z, name, ce, false, set->ttl, res);
		add_additional(zs, set, res);
		res->status = MD_ZONE_ANSWER;
		return NULL;
	}
	set = md_node_rrset(n, MD_TYPE_CNAME);
	if (set != NULL) {
		const uint8_t *rd;
		uint16_t len;

		push(res->an, &res->nan, owner, set, set->ttl);
		if (z->has_rrsig)
			push_sigs(res->an, &res->nan, owner, n, MD_TYPE_CNAME,
			    set->ttl);
		if (wildcard)
			wildcard_proof(z, name, ce, false, set->ttl, res);
		res->status = MD_ZONE_ANSWER;
		if (md_rrset_next(set, NULL, &len, &rd) == NULL ||
		    md_name_len(rd) != len)
			return NULL;
		return rd;
	}
	res->status = MD_ZONE_NODATA;
	add_soa(z, res);
	add_denial(z, name, n, NULL, res);
	if (wildcard)
		wildcard_proof(z, name, ce, true, neg_ttl(res), res);
	return NULL;
}

void
md_zone_lookup(const struct md_zone_set *zs, const uint8_t *qname,
    uint16_t qtype, struct md_zone_result *res)
{
	md_zone_lookup_h(zs, qname, NULL, qtype, res);
}

void
md_zone_lookup_h(const struct md_zone_set *zs, const uint8_t *qname,
    const uint32_t *qhashes, uint16_t qtype, struct md_zone_result *res)
{
	const uint8_t *seen[MD_ZONE_CNAME_MAX + 1];
	const uint8_t *name = qname;
	const uint8_t *owner = NULL;
	unsigned hops = 0;

	memset(res, 0, offsetof(struct md_zone_result, an));
	res->status = MD_ZONE_NOT_LOCAL;
	for (;;) {
		const uint8_t *next = lookup_one(zs, name,
		    hops == 0 ? qhashes : NULL, owner, qtype, hops == 0, res);

		if (next == NULL)
			return;
		/* A CNAME chain inside local data: follow it, but not in
		 * circles and not forever; an authoritative server returns
		 * the chain so far (the client's resolver judges it). */
		seen[hops] = name;
		for (unsigned i = 0; i <= hops; i++) {
			if (md_name_equal(seen[i], next)) {
				res->status = MD_ZONE_LOOP;
				return;
			}
		}
		if (++hops >= MD_ZONE_CNAME_MAX) {
			res->status = MD_ZONE_LOOP;
			return;
		}
		name = next;
		owner = next;
	}
}
