/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val_nsec.c - DNSSEC denial of existence: NSEC (RFC 4035 §5.4, RFC 6840
 * §4) and NSEC3 (RFC 5155 §8, RFC 9276) proofs for NXDOMAIN, NODATA,
 * wildcard answers and insecure delegations, checked over records whose
 * signatures the caller has verified (the NSEC3 hash is in
 * src/wire/wire_nsec3.c, shared with the local zones).  Allocates nothing.
 */
#include "config.h"

#include <string.h>

#include "minidns/dnssec_nsec.h"
#include "minidns/wire.h"

/* ---- type bitmaps ------------------------------------------------------- */

bool
md_nsec_bitmap_valid(const uint8_t *bm, size_t len)
{
	int last = -1;

	for (size_t i = 0; i < len;) {
		unsigned win, bl;

		if (len - i < 2)
			return false;
		win = bm[i];
		bl = bm[i + 1];
		if ((int)win <= last || bl == 0 || bl > 32 || len - i - 2 < bl)
			return false;
		last = (int)win;
		i += 2 + bl;
	}
	return true;
}

bool
md_nsec_bitmap_has(const uint8_t *bm, size_t len, uint16_t type)
{
	unsigned want = type >> 8, octet = (type & 0xff) / 8;

	if (!md_nsec_bitmap_valid(bm, len))
		return false;
	for (size_t i = 0; i < len; i += 2 + bm[i + 1]) {
		if (bm[i] != want)
			continue;
		if (octet >= bm[i + 1])
			return false;
		return (bm[i + 2 + octet] & (0x80 >> (type & 7))) != 0;
	}
	return false;
}

/* ---- names -------------------------------------------------------------- */

/* The suffix of a made of its last n labels. */
static const uint8_t *
name_suffix(const uint8_t *a, unsigned n)
{
	unsigned la = md_name_labels(a);

	while (la > n) {
		a += 1 + *a;
		la--;
	}
	return a;
}

/* The number of labels a and b share from the root. */
static unsigned
common_labels(const uint8_t *a, const uint8_t *b)
{
	unsigned la = md_name_labels(a), lb = md_name_labels(b);
	unsigned n = la < lb ? la : lb;

	/* the longest common suffix: try from n labels down */
	while (n > 0 && !md_name_equal(name_suffix(a, n), name_suffix(b, n)))
		n--;
	return n;
}

/* *.name into out; false if too long. */
static bool
wildcard_of(const uint8_t *name, uint8_t *out)
{
	size_t l = md_name_len(name);

	if (l + 2 > MD_NAME_MAX)
		return false;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, name, l);
	return true;
}

/* A wire name of at most max bytes at p; its length or 0. */
static size_t
name_in(const uint8_t *p, size_t max)
{
	size_t i = 0;

	while (i < max) {
		if (p[i] == 0)
			return i + 1 <= MD_NAME_MAX ? i + 1 : 0;
		if (p[i] > 63)
			return 0;
		i += 1 + p[i];
	}
	return 0;
}

bool
md_nsec_covers(const uint8_t *owner, const uint8_t *next, const uint8_t *zone,
    const uint8_t *name)
{
	if (!md_name_is_subdomain(name, zone) ||
	    md_name_canon_cmp(owner, name) >= 0)
		return false;
	if (md_name_canon_cmp(owner, next) < 0)
		return md_name_canon_cmp(name, next) < 0;
	/* the last NSEC: everything after owner up to the end of the zone */
	return true;
}

/* ---- verdicts ----------------------------------------------------------- */

void
md_nsec_limits_default(struct md_nsec_limits *l)
{
	l->max_iterations = MD_NSEC3_MAX_ITERATIONS;
	l->max_records = MD_NSEC_MAX_RECORDS;
	l->max_hashes = MD_NSEC3_MAX_HASHES;
}

const char *
md_nsec_status_str(enum md_nsec_status s)
{
	switch (s) {
	case MD_NSEC_BOGUS:
		return "bogus";
	case MD_NSEC_PROVEN:
		return "proven";
	case MD_NSEC_INSECURE:
		return "insecure";
	}
	return "?";
}

const char *
md_nsec_reason_str(enum md_nsec_reason r)
{
	switch (r) {
	case MD_NSEC_R_OK:
		return "ok";
	case MD_NSEC_R_NO_RECORDS:
		return "no NSEC or NSEC3 records of the zone";
	case MD_NSEC_R_MALFORMED:
		return "malformed NSEC/NSEC3 rdata";
	case MD_NSEC_R_NO_COVER:
		return "no record covers the name";
	case MD_NSEC_R_NO_MATCH:
		return "no record matches the name";
	case MD_NSEC_R_NO_ENCLOSER:
		return "no closest encloser proof";
	case MD_NSEC_R_NO_WILDCARD:
		return "the wildcard is not proven absent";
	case MD_NSEC_R_WILDCARD:
		return "the wildcard exists";
	case MD_NSEC_R_TYPE_PRESENT:
		return "the type bitmap lists the type or CNAME";
	case MD_NSEC_R_ANCESTOR:
		return "record from the parent side of a delegation";
	case MD_NSEC_R_CHILD_SIDE:
		return "DS denied by the child zone";
	case MD_NSEC_R_NOT_DELEGATION:
		return "not a delegation (no NS bit)";
	case MD_NSEC_R_NAME_EXISTS:
		return "the name exists";
	case MD_NSEC_R_BAD_LABELS:
		return "RRSIG labels do not fit the name";
	case MD_NSEC_R_ITERATIONS:
		return "NSEC3 iterations above the limit";
	case MD_NSEC_R_HASH_LIMIT:
		return "too many NSEC3 hash computations";
	}
	return "?";
}

static enum md_nsec_status
verdict(struct md_nsec_verdict *v, enum md_nsec_status s, enum md_nsec_reason r)
{
	v->status = s;
	v->reason = r;
	if (s == MD_NSEC_PROVEN)
		v->ede = 0;
	else if (r == MD_NSEC_R_ITERATIONS)
		v->ede = 27; /* Unsupported NSEC3 Iterations Value */
	else if (r == MD_NSEC_R_NO_RECORDS || r == MD_NSEC_R_NO_COVER ||
	    r == MD_NSEC_R_NO_MATCH || r == MD_NSEC_R_NO_ENCLOSER ||
	    r == MD_NSEC_R_NO_WILDCARD)
		v->ede = 12; /* NSEC Missing */
	else
		v->ede = 6; /* DNSSEC Bogus */
	return s;
}

/* ---- NSEC --------------------------------------------------------------- */

struct nsec {
	const uint8_t *owner, *next, *bm;
	size_t bmlen;
};

struct nsec_set {
	struct nsec r[MD_NSEC_MAX_RECORDS];
	unsigned n;
	const uint8_t *zone;
};

/* The NSEC records of zone, up to the limit; false if one is malformed. */
static bool
nsec_collect(struct nsec_set *s, const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, unsigned max)
{
	s->n = 0;
	s->zone = q->zone;
	for (size_t i = 0; i < n && s->n < max && s->n < MD_NSEC_MAX_RECORDS;
	     i++) {
		size_t nl;
		struct nsec *r;

		if (rrs[i].type != MD_TYPE_NSEC ||
		    !md_name_is_subdomain(rrs[i].owner, q->zone))
			continue;
		nl = name_in(rrs[i].rdata, rrs[i].rdlen);
		if (nl == 0 ||
		    !md_nsec_bitmap_valid(rrs[i].rdata + nl, rrs[i].rdlen - nl))
			return false;
		/* a next name out of the zone would stretch the range */
		if (!md_name_is_subdomain(rrs[i].rdata, q->zone))
			continue;
		r = &s->r[s->n++];
		r->owner = rrs[i].owner;
		r->next = rrs[i].rdata;
		r->bm = rrs[i].rdata + nl;
		r->bmlen = rrs[i].rdlen - nl;
	}
	return true;
}

static bool
has(const struct nsec *r, uint16_t t)
{
	return md_nsec_bitmap_has(r->bm, r->bmlen, t);
}

/* A parent-side record at a zone cut (NS without SOA) or a DNAME says
 * nothing about names below its owner (RFC 6840 §4.1). */
static bool
is_ancestor_of(
    const uint8_t *owner, const uint8_t *bm, size_t bmlen, const uint8_t *name)
{
	bool cut = md_nsec_bitmap_has(bm, bmlen, MD_TYPE_NS) &&
	    !md_nsec_bitmap_has(bm, bmlen, MD_TYPE_SOA);

	if (!cut && !md_nsec_bitmap_has(bm, bmlen, MD_TYPE_DNAME))
		return false;
	return md_name_is_subdomain(name, owner) && !md_name_equal(name, owner);
}

static int
nsec_match(const struct nsec_set *s, const uint8_t *name)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (md_name_equal(s->r[i].owner, name))
			return (int)i;
	}
	return -1;
}

/* The NSEC covering name, skipping parent-side ones (*ancestor set if
 * one was skipped); -1 if none. */
static int
nsec_cover(const struct nsec_set *s, const uint8_t *name, bool *ancestor)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct nsec *r = &s->r[i];

		if (!md_nsec_covers(r->owner, r->next, s->zone, name))
			continue;
		if (is_ancestor_of(r->owner, r->bm, r->bmlen, name)) {
			if (ancestor != NULL)
				*ancestor = true;
			continue;
		}
		return (int)i;
	}
	return -1;
}

/* The closest encloser a covering NSEC implies: the longest name that
 * qname shares with its owner or next, within the zone. */
static const uint8_t *
nsec_encloser(
    const struct nsec_set *s, const struct nsec *r, const uint8_t *qname)
{
	unsigned a = common_labels(qname, r->owner);
	unsigned b = common_labels(qname, r->next);
	unsigned z = md_name_labels(s->zone);
	unsigned n = a > b ? a : b;

	return name_suffix(qname, n > z ? n : z);
}

/* The wildcard at ce neither exists nor is needed: an NSEC covers it. */
static enum md_nsec_status
nsec_no_wildcard(
    const struct nsec_set *s, const uint8_t *ce, struct md_nsec_verdict *v)
{
	uint8_t wc[MD_NAME_MAX];
	bool anc = false;

	if (!wildcard_of(ce, wc))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	if (nsec_match(s, wc) >= 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_WILDCARD);
	if (nsec_cover(s, wc, &anc) < 0)
		return verdict(v, MD_NSEC_BOGUS,
		    anc ? MD_NSEC_R_ANCESTOR : MD_NSEC_R_NO_WILDCARD);
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

static enum md_nsec_status
nsec_nxdomain(const struct nsec_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	bool anc = false;
	int c;

	if (nsec_match(s, q->qname) >= 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);
	c = nsec_cover(s, q->qname, &anc);
	if (c < 0)
		return verdict(v, MD_NSEC_BOGUS,
		    anc ? MD_NSEC_R_ANCESTOR : MD_NSEC_R_NO_COVER);
	/* a next name below qname makes it an empty non-terminal */
	if (md_name_is_subdomain(s->r[c].next, q->qname) &&
	    !md_name_equal(s->r[c].next, q->qname))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);
	return nsec_no_wildcard(s, nsec_encloser(s, &s->r[c], q->qname), v);
}

/* The bitmap of a matching record denies qtype (RFC 4035 §5.4, RFC 6840
 * §4.4): neither qtype nor CNAME, and the right side of a zone cut. */
static enum md_nsec_status
bitmap_denies(const uint8_t *bm, size_t bmlen, const struct md_nsec_query *q,
    bool at_qname, struct md_nsec_verdict *v)
{
	bool ns = md_nsec_bitmap_has(bm, bmlen, MD_TYPE_NS);
	bool soa = md_nsec_bitmap_has(bm, bmlen, MD_TYPE_SOA);

	if (md_nsec_bitmap_has(bm, bmlen, q->qtype) ||
	    md_nsec_bitmap_has(bm, bmlen, MD_TYPE_CNAME))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	if (at_qname && q->qtype == MD_TYPE_DS) {
		/* the DS lives in the parent: the child's apex cannot deny it */
		if (soa && q->qname[0] != 0)
			return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_CHILD_SIDE);
	} else if (at_qname && ns && !soa) {
		/* the parent side of a cut: only the child knows other types */
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
	}
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

static enum md_nsec_status
nsec_nodata(const struct nsec_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	uint8_t wc[MD_NAME_MAX];
	bool anc = false;
	int m = nsec_match(s, q->qname), c, w;

	if (m >= 0)
		return bitmap_denies(s->r[m].bm, s->r[m].bmlen, q, true, v);
	c = nsec_cover(s, q->qname, &anc);
	if (c < 0)
		return verdict(v, MD_NSEC_BOGUS,
		    anc ? MD_NSEC_R_ANCESTOR : MD_NSEC_R_NO_MATCH);
	/* an empty non-terminal: the next name is below qname */
	if (md_name_is_subdomain(s->r[c].next, q->qname) &&
	    !md_name_equal(s->r[c].next, q->qname))
		return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* wildcard NODATA: qname is absent, the wildcard lacks the type */
	if (!wildcard_of(nsec_encloser(s, &s->r[c], q->qname), wc))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	w = nsec_match(s, wc);
	if (w < 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	return bitmap_denies(s->r[w].bm, s->r[w].bmlen, q, false, v);
}

/* The wildcard's parent: the last sig_labels labels of qname, which must
 * be fewer than qname's and in the zone. */
static const uint8_t *
wildcard_parent(const struct md_nsec_query *q)
{
	unsigned ql = md_name_labels(q->qname);

	if (q->qname[0] == 1 && q->qname[1] == '*')
		ql--; /* RFC 4034 §3.1.3: a wildcard owner does not count */
	if (q->sig_labels >= ql || q->sig_labels < md_name_labels(q->zone))
		return NULL;
	return name_suffix(q->qname, q->sig_labels);
}

static enum md_nsec_status
nsec_wildcard(const struct nsec_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	bool anc = false;
	int c;

	if (wildcard_parent(q) == NULL)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_BAD_LABELS);
	if (nsec_match(s, q->qname) >= 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);
	c = nsec_cover(s, q->qname, &anc);
	if (c < 0)
		return verdict(v, MD_NSEC_BOGUS,
		    anc ? MD_NSEC_R_ANCESTOR : MD_NSEC_R_NO_COVER);
	/* a closer encloser than the wildcard's parent (an empty
	 * non-terminal next to qname) would have its own wildcard */
	if (md_name_labels(nsec_encloser(s, &s->r[c], q->qname)) >
	    q->sig_labels)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_BAD_LABELS);
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

static enum md_nsec_status
nsec_insecure_deleg(const struct nsec_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	int m = nsec_match(s, q->qname);
	const struct nsec *r;

	if (m < 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	r = &s->r[m];
	if (!has(r, MD_TYPE_NS))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NOT_DELEGATION);
	if (has(r, MD_TYPE_SOA))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_CHILD_SIDE);
	if (has(r, MD_TYPE_DS) || has(r, MD_TYPE_CNAME))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

/* ---- NSEC3 -------------------------------------------------------------- */

struct nsec3 {
	uint8_t hash[MD_NSEC3_HASH_LEN], next[MD_NSEC3_HASH_LEN];
	bool opt_out;
	const uint8_t *bm;
	size_t bmlen;
};

struct n3_cache {
	uint8_t name[MD_NAME_MAX];
	uint8_t hash[MD_NSEC3_HASH_LEN];
};

struct nsec3_set {
	struct nsec3 r[MD_NSEC_MAX_RECORDS];
	unsigned n;
	const uint8_t *zone;
	/* the parameters of the first usable record; others are ignored */
	const uint8_t *salt;
	size_t saltlen;
	unsigned iterations;
	/* hashes computed so far, at most max_hashes */
	struct n3_cache cache[MD_NSEC3_MAX_HASHES];
	unsigned ncache, hashes, max_hashes;
	bool over_budget;
};

enum { N3_MALFORMED = -1, N3_EMPTY = 0, N3_OK = 1 };

/* The usable NSEC3 records of zone (RFC 5155 §8.1-8.2: hash algorithm 1,
 * flags 0 or 1, owner one label below zone, one parameter set). */
static int
nsec3_collect(struct nsec3_set *s, const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim)
{
	unsigned zl = md_name_labels(q->zone);

	s->n = 0;
	s->zone = q->zone;
	s->salt = NULL;
	s->ncache = s->hashes = 0;
	s->max_hashes = lim->max_hashes < MD_NSEC3_MAX_HASHES
	    ? lim->max_hashes
	    : MD_NSEC3_MAX_HASHES;
	s->over_budget = false;
	for (size_t i = 0;
	     i < n && s->n < lim->max_records && s->n < MD_NSEC_MAX_RECORDS;
	     i++) {
		const uint8_t *p = rrs[i].rdata, *salt, *next;
		size_t len = rrs[i].rdlen, sl, hl;
		unsigned iter;
		struct nsec3 *r;

		if (rrs[i].type != MD_TYPE_NSEC3 ||
		    md_name_labels(rrs[i].owner) != zl + 1 ||
		    !md_name_is_subdomain(rrs[i].owner, q->zone))
			continue;
		if (len < 5 || len < 6 + (size_t)p[4])
			return N3_MALFORMED;
		sl = p[4];
		salt = p + 5;
		hl = p[5 + sl];
		next = p + 6 + sl;
		if (len < 6 + sl + hl ||
		    !md_nsec_bitmap_valid(next + hl, len - 6 - sl - hl))
			return N3_MALFORMED;
		iter = md_read_u16(p + 2);
		if (p[0] != 1 || p[1] > 1 || hl != MD_NSEC3_HASH_LEN)
			continue; /* unknown algorithm or flags: ignore */
		if (s->salt == NULL) {
			s->salt = salt;
			s->saltlen = sl;
			s->iterations = iter;
		} else if (iter != s->iterations || sl != s->saltlen ||
		    memcmp(salt, s->salt, sl) != 0) {
			continue;
		}
		r = &s->r[s->n];
		if (md_base32hex_decode((const char *)rrs[i].owner + 1,
			rrs[i].owner[0], r->hash,
			sizeof(r->hash)) != MD_NSEC3_HASH_LEN)
			continue; /* not a hash label */
		memcpy(r->next, next, MD_NSEC3_HASH_LEN);
		r->opt_out = (p[1] & 1) != 0;
		r->bm = next + hl;
		r->bmlen = len - 6 - sl - hl;
		s->n++;
	}
	return s->n > 0 ? N3_OK : N3_EMPTY;
}

/* H(name) with the set's parameters, from the cache or within budget. */
static const uint8_t *
n3_hash(struct nsec3_set *s, const uint8_t *name)
{
	struct n3_cache *c;

	for (unsigned i = 0; i < s->ncache; i++) {
		if (md_name_equal(s->cache[i].name, name))
			return s->cache[i].hash;
	}
	if (s->hashes >= s->max_hashes) {
		s->over_budget = true;
		return NULL;
	}
	s->hashes++;
	c = &s->cache[s->ncache];
	if (!md_nsec3_hash(name, s->salt, s->saltlen, s->iterations, c->hash))
		return NULL;
	memcpy(c->name, name, md_name_len(name));
	s->ncache++;
	return c->hash;
}

static int
n3_match(const struct nsec3_set *s, const uint8_t *h)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (memcmp(s->r[i].hash, h, MD_NSEC3_HASH_LEN) == 0)
			return (int)i;
	}
	return -1;
}

static int
n3_cover(const struct nsec3_set *s, const uint8_t *h)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct nsec3 *r = &s->r[i];
		int on = memcmp(r->hash, r->next, MD_NSEC3_HASH_LEN);
		int oh = memcmp(r->hash, h, MD_NSEC3_HASH_LEN);
		int hn = memcmp(h, r->next, MD_NSEC3_HASH_LEN);

		/* owner < h < next, or past the last owner (wrap) */
		if (on < 0 ? oh < 0 && hn < 0 : oh < 0 || hn < 0)
			return (int)i;
	}
	return -1;
}

/* A verdict for a missing hash: over budget or a hashing failure. */
static enum md_nsec_status
n3_nohash(const struct nsec3_set *s, struct md_nsec_verdict *v)
{
	return verdict(v, MD_NSEC_BOGUS,
	    s->over_budget ? MD_NSEC_R_HASH_LIMIT : MD_NSEC_R_MALFORMED);
}

/*
 * The closest encloser proof of RFC 5155 §8.3 for name, which must not
 * itself match: an NSEC3 matching an ancestor ce (not from the parent
 * side of a cut) and one covering the next closer name.  On success sets
 * *ce and *cover (index of the covering record).
 */
static enum md_nsec_status
n3_closest_encloser(struct nsec3_set *s, const uint8_t *name,
    const uint8_t **ce, int *cover, struct md_nsec_verdict *v)
{
	const uint8_t *prev = NULL, *h;

	for (const uint8_t *p = name; md_name_is_subdomain(p, s->zone);
	     p = md_name_parent(p)) {
		int m;

		if ((h = n3_hash(s, p)) == NULL)
			return n3_nohash(s, v);
		m = n3_match(s, h);
		if (m >= 0) {
			if (prev == NULL)
				return verdict(
				    v, MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);
			if (is_ancestor_of(p, s->r[m].bm, s->r[m].bmlen, name))
				return verdict(
				    v, MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
			if ((h = n3_hash(s, prev)) == NULL)
				return n3_nohash(s, v);
			*cover = n3_cover(s, h);
			if (*cover < 0)
				return verdict(
				    v, MD_NSEC_BOGUS, MD_NSEC_R_NO_COVER);
			*ce = p;
			return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
		}
		prev = p;
		if (p[0] == 0)
			break;
	}
	return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_ENCLOSER);
}

static enum md_nsec_status
nsec3_nxdomain(struct nsec3_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	uint8_t wc[MD_NAME_MAX];
	const uint8_t *ce = NULL, *h;
	int cov = -1;

	if (n3_closest_encloser(s, q->qname, &ce, &cov, v) != MD_NSEC_PROVEN)
		return v->status;
	v->opt_out = s->r[cov].opt_out;
	if (!wildcard_of(ce, wc))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	if ((h = n3_hash(s, wc)) == NULL)
		return n3_nohash(s, v);
	if (n3_match(s, h) >= 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_WILDCARD);
	if (n3_cover(s, h) < 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_WILDCARD);
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

static enum md_nsec_status
nsec3_nodata(struct nsec3_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	uint8_t wc[MD_NAME_MAX];
	const uint8_t *ce = NULL, *h;
	int m, cov = -1;

	if ((h = n3_hash(s, q->qname)) == NULL)
		return n3_nohash(s, v);
	m = n3_match(s, h);
	if (m >= 0) /* §8.5; an empty non-terminal has an empty bitmap */
		return bitmap_denies(s->r[m].bm, s->r[m].bmlen, q, true, v);
	if (n3_closest_encloser(s, q->qname, &ce, &cov, v) != MD_NSEC_PROVEN)
		return v->status == MD_NSEC_BOGUS &&
			v->reason == MD_NSEC_R_NO_ENCLOSER
		    ? verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH)
		    : v->status;
	/* §8.6: a DS under an opt-out span (an unsigned delegation) */
	if (q->qtype == MD_TYPE_DS && s->r[cov].opt_out) {
		v->opt_out = true;
		return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
	}
	/* §8.7: wildcard NODATA; the next closer name covered by an opt-out
	 * span may be an unsigned delegation: no AD then (§9.2) */
	v->opt_out = s->r[cov].opt_out;
	if (!wildcard_of(ce, wc))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	if ((h = n3_hash(s, wc)) == NULL)
		return n3_nohash(s, v);
	m = n3_match(s, h);
	if (m < 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	return bitmap_denies(s->r[m].bm, s->r[m].bmlen, q, false, v);
}

static enum md_nsec_status
nsec3_wildcard(struct nsec3_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	const uint8_t *parent = wildcard_parent(q), *h;
	int c;

	if (parent == NULL)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_BAD_LABELS);
	/* §8.8: the next closer name (one label more) is covered */
	if ((h = n3_hash(s, name_suffix(q->qname, q->sig_labels + 1))) == NULL)
		return n3_nohash(s, v);
	c = n3_cover(s, h);
	if (c < 0)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_COVER);
	v->opt_out = s->r[c].opt_out;
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

static enum md_nsec_status
nsec3_insecure_deleg(struct nsec3_set *s, const struct md_nsec_query *q,
    struct md_nsec_verdict *v)
{
	const uint8_t *ce = NULL, *h;
	int m, cov = -1;

	if ((h = n3_hash(s, q->qname)) == NULL)
		return n3_nohash(s, v);
	m = n3_match(s, h);
	if (m >= 0) {
		const struct nsec3 *r = &s->r[m];

		if (!md_nsec_bitmap_has(r->bm, r->bmlen, MD_TYPE_NS))
			return verdict(
			    v, MD_NSEC_BOGUS, MD_NSEC_R_NOT_DELEGATION);
		if (md_nsec_bitmap_has(r->bm, r->bmlen, MD_TYPE_SOA))
			return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_CHILD_SIDE);
		if (md_nsec_bitmap_has(r->bm, r->bmlen, MD_TYPE_DS) ||
		    md_nsec_bitmap_has(r->bm, r->bmlen, MD_TYPE_CNAME))
			return verdict(
			    v, MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
		return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
	}
	/* §8.9 / §6: the delegation lies in an opt-out span */
	if (n3_closest_encloser(s, q->qname, &ce, &cov, v) != MD_NSEC_PROVEN)
		return v->status;
	if (!s->r[cov].opt_out)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	v->opt_out = true;
	return verdict(v, MD_NSEC_PROVEN, MD_NSEC_R_OK);
}

/* ---- dispatch ----------------------------------------------------------- */

enum proof { P_NXDOMAIN, P_NODATA, P_WILDCARD, P_DELEG };

static enum md_nsec_status
prove(enum proof p, const struct md_nsec_query *q, const struct md_nsec_rr *rrs,
    size_t n, const struct md_nsec_limits *lim, struct md_nsec_verdict *v)
{
	struct md_nsec_limits dflt;
	struct nsec_set ns;
	struct nsec3_set n3;
	bool tried = false;
	int rc;

	if (lim == NULL) {
		md_nsec_limits_default(&dflt);
		lim = &dflt;
	}
	v->opt_out = false;
	verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);
	if (!md_name_is_subdomain(q->qname, q->zone))
		return v->status;
	if (!nsec_collect(&ns, q, rrs, n, lim->max_records))
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	if (ns.n > 0) {
		tried = true;
		switch (p) {
		case P_NXDOMAIN:
			nsec_nxdomain(&ns, q, v);
			break;
		case P_NODATA:
			nsec_nodata(&ns, q, v);
			break;
		case P_WILDCARD:
			nsec_wildcard(&ns, q, v);
			break;
		case P_DELEG:
			nsec_insecure_deleg(&ns, q, v);
			break;
		}
		if (v->status == MD_NSEC_PROVEN)
			return v->status;
	}
	rc = nsec3_collect(&n3, q, rrs, n, lim);
	if (rc == N3_MALFORMED)
		return verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	if (rc == N3_EMPTY)
		return tried ? v->status
			     : verdict(v, MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);
	/* RFC 9276 §3.2: too costly to check, so insecure; before hashing */
	if (n3.iterations > lim->max_iterations)
		return verdict(v, MD_NSEC_INSECURE, MD_NSEC_R_ITERATIONS);
	v->opt_out = false;
	switch (p) {
	case P_NXDOMAIN:
		return nsec3_nxdomain(&n3, q, v);
	case P_NODATA:
		return nsec3_nodata(&n3, q, v);
	case P_WILDCARD:
		return nsec3_wildcard(&n3, q, v);
	case P_DELEG:
		return nsec3_insecure_deleg(&n3, q, v);
	}
	return v->status;
}

enum md_nsec_status
md_nsec_prove_nxdomain(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v)
{
	return prove(P_NXDOMAIN, q, rrs, n, lim, v);
}

enum md_nsec_status
md_nsec_prove_nodata(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v)
{
	return prove(P_NODATA, q, rrs, n, lim, v);
}

enum md_nsec_status
md_nsec_prove_wildcard(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v)
{
	return prove(P_WILDCARD, q, rrs, n, lim, v);
}

enum md_nsec_status
md_nsec_prove_insecure_delegation(const struct md_nsec_query *q,
    const struct md_nsec_rr *rrs, size_t n, const struct md_nsec_limits *lim,
    struct md_nsec_verdict *v)
{
	return prove(P_DELEG, q, rrs, n, lim, v);
}
