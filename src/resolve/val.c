/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val.c - the DNSSEC validator (RFC 4033-4035, 5155, 6840): once the
 * iterator has the client's answer, every RRset of it (the CNAME chain and
 * the data) and, for a negative answer, its NSEC/NSEC3 proof are checked
 * against the keys of the zone that signed them, and those keys against a
 * chain of DS records up to a trust anchor.
 *
 * The chain is built top-down, one label at a time from the closest
 * anchor towards the signer (or, for unsigned data, towards the owner):
 *
 *   anchor A      DNSKEY A, one key matching an anchor record signs it
 *   child C       DS C from A's servers, signed by A's keys; then
 *                 DNSKEY C, a key matching a DS signs it     -> zone C
 *                 or no DS, proven by NSEC/NSEC3 signed by A:
 *                   C is a delegation                        -> insecure
 *                   C is no zone cut (a name of A, an empty
 *                   non-terminal)                            -> go on
 *
 * Each fact (struct vzone) is learnt once per request; the DS and DNSKEY
 * sets come from look-ups the iterator runs as sub-queries of the client's
 * query (md_req_val_subquery()), so they are cached like any data, and
 * once checked they are marked secure in the cache: a later question
 * takes them without a signature check.  The answer's own RRsets are
 * marked too (md_cache_set_security()), so a cache hit carries AD without
 * any work, and bogus data lives val-bogus-ttl seconds at most.
 *
 * Work is bounded: public-key operations by the question's budget
 * (struct md_dnssec_budget, KeyTrap), look-ups by VAL_LOOKUPS_MAX, NSEC3
 * hashing by the proof limits (dnssec_nsec.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "minidns/dnssec.h"
#include "minidns/dnssec_nsec.h"
#include "resolve-internal.h"

#define VAL_LOOKUPS_MAX 24    /* DS/DNSKEY look-ups per client question */
#define VAL_DS_DIGESTS_MAX 16 /* DS digests computed per DNSKEY set */

enum vz_state {
	VZ_DS,	     /* its DS set is known (secure): the keys are next */
	VZ_ZONE,     /* a secure zone: keys checked */
	VZ_NOCUT,    /* proven not to be a zone cut: its parent's keys rule */
	VZ_INSECURE, /* provably unsigned, or no anchor, or not checkable */
	VZ_BOGUS,    /* the chain breaks here */
};

struct vzone {
	struct vzone *next;
	uint8_t name[MD_NAME_MAX];
	enum vz_state state;
	uint16_t ede;
	const char *reason;
	/* VZ_DS: the DS set; VZ_ZONE: the DNSKEY set */
	struct md_dnssec_rrset set;
	/* VZ_ZONE: SHA-256 of the DNSKEY set, binding what val_memo.c
	 * remembers to the keys that checked it */
	uint8_t keys_digest[32];
	bool has_digest;
};

struct val_state {
	struct vzone *zones;
	struct md_dnssec_budget budget;
	/* the look-up out: for which name and type, checked with which
	 * zone's keys (NULL: the anchor's DNSKEY) */
	struct vzone *judge;
	uint8_t want[MD_NAME_MAX];
	uint16_t want_type;
	unsigned lookups;
	const char *why; /* the first link found bogus: why */
};

static const char *const val_step_names[] = {
    "anchor", "DS", "DNSKEY", "rrset", "denial", "verdict"};

const char *
md_val_step_str(enum md_val_step s)
{
	if ((unsigned)s >= sizeof(val_step_names) / sizeof(val_step_names[0]))
		return "?";
	return val_step_names[s];
}

bool
md_val_applies(const struct md_resolve_conf *conf, struct md_nta *nta,
    const uint8_t *name, uint64_t now_ms)
{
	const struct md_forward_zone *fz;
	unsigned anchor = 0;
	bool anchored = false;

	if (!conf->validate)
		return false;
	for (size_t i = 0; i < conf->nanchors; i++) {
		if (md_name_is_subdomain(name, conf->anchors[i].zone) &&
		    (!anchored ||
			md_name_labels(conf->anchors[i].zone) > anchor)) {
			anchor = md_name_labels(conf->anchors[i].zone);
			anchored = true;
		}
	}
	if (!anchored)
		return false;
	/* An insecure domain rules below it, unless an anchor sits closer
	 * to the name (a configured anchor for a zone under test.) */
	for (size_t i = 0; i < conf->ninsecure; i++) {
		if (md_name_is_subdomain(name, conf->insecure[i]) &&
		    md_name_labels(conf->insecure[i]) >= anchor)
			return false;
	}
	fz = md_resolve_find_forward(conf, name);
	if (fz != NULL && fz->insecure)
		return false;
	return nta == NULL || !md_nta_covers(nta, name, now_ms);
}

/* ---- small helpers ----------------------------------------------------- */

static uint32_t
wall_now(void)
{
	return (uint32_t)time(NULL);
}

static void
emit(struct md_request *req, enum md_val_step step, const uint8_t *zone,
    const uint8_t *name, uint16_t type, enum md_security sec,
    const struct md_dnssec_verdict *v, uint16_t ede, const char *why)
{
	struct md_trace_event ev;

	if (sec == MD_SEC_BOGUS && req->val->why == NULL && why != NULL)
		req->val->why = why;
	if (!md_req_tracing(req))
		return;
	md_req_ev_init(req, req->root, MD_TRACE_VALIDATE, &ev);
	ev.val_step = step;
	ev.security = sec;
	ev.ede = ede;
	if (zone != NULL)
		memcpy(ev.zone, zone, md_name_len(zone));
	if (name != NULL) {
		memcpy(ev.qname, name, md_name_len(name));
		ev.qtype = type;
	}
	if (v != NULL) {
		ev.key_tag = v->key_tag;
		ev.algorithm = v->algorithm;
	}
	ev.why = why;
	md_req_ev_emit(req, &ev);
}

static const char *
name_str(const uint8_t *name, char *buf, size_t len)
{
	md_name_to_str(name, buf, len);
	return buf;
}

static struct vzone *
vz_find(struct val_state *st, const uint8_t *name)
{
	for (struct vzone *z = st->zones; z != NULL; z = z->next) {
		if (md_name_equal(z->name, name))
			return z;
	}
	return NULL;
}

static struct vzone *
vz_add(struct md_request *req, const uint8_t *name, enum vz_state state,
    uint16_t ede, const char *reason)
{
	struct val_state *st = req->val;
	struct vzone *z = vz_find(st, name);

	if (z == NULL) {
		z = md_arena_alloc(&req->arena, sizeof(*z));
		if (z == NULL)
			return NULL;
		memset(z, 0, sizeof(*z));
		memcpy(z->name, name, md_name_len(name));
		z->next = st->zones;
		st->zones = z;
	}
	z->state = state;
	z->ede = ede;
	z->reason = reason;
	return z;
}

/* The non-DNSSEC RRset (owner, type) of a result list. */
static struct md_result_rrset *
find_set(struct md_result_rrset *list, const uint8_t *owner, uint16_t type)
{
	for (struct md_result_rrset *s = list; s != NULL; s = s->next) {
		if (!s->dnssec && s->type == type &&
		    md_name_equal(s->owner, owner))
			return s;
	}
	return NULL;
}

/*
 * Every RR of (owner, type) in the lists (an RRset may come split, one RR
 * per entry, from a cached proof) into one set; for RRSIG, only those that
 * cover 'covered'.  The set's rdata lives in the request's arena.
 */
static void
gather(struct md_request *req, struct md_result_rrset *a,
    struct md_result_rrset *b, const uint8_t *owner, uint16_t type,
    uint16_t covered, struct md_dnssec_rrset *out)
{
	uint32_t total = 0, n = 0;
	uint8_t *buf;

	memset(out, 0, sizeof(*out));
	out->owner = owner;
	out->type = type;
	for (int pass = 0; pass < 2; pass++) {
		for (struct md_result_rrset *s = pass == 0 ? a : b; s != NULL;
		     s = s->next) {
			if (s->type == type && md_name_equal(s->owner, owner))
				total += s->rdata_len;
		}
	}
	if (total == 0 || (buf = md_arena_alloc(&req->arena, total)) == NULL)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (struct md_result_rrset *s = pass == 0 ? a : b; s != NULL;
		     s = s->next) {
			if (s->type != type || !md_name_equal(s->owner, owner))
				continue;
			for (uint32_t off = 0; off + 2 <= s->rdata_len;) {
				uint16_t rl = md_read_u16(s->rdata + off);

				if (off + 2 + rl > s->rdata_len)
					break;
				if (type != MD_TYPE_RRSIG ||
				    (rl >= 18 &&
					md_read_u16(s->rdata + off + 2) ==
					    covered)) {
					memcpy(buf + n, s->rdata + off,
					    2 + (size_t)rl);
					n += 2 + (uint32_t)rl;
					out->count++;
				}
				off += 2 + (uint32_t)rl;
			}
		}
	}
	out->rdata = buf;
	out->rdata_len = n;
}

/* The signer of the first RRSIG of sigs that may sign owner's data (the
 * signer is the owner or an ancestor), or NULL. */
static const uint8_t *
signer_of(const struct md_dnssec_rrset *sigs, const uint8_t *owner)
{
	for (uint32_t off = 0; off + 2 <= sigs->rdata_len;) {
		uint16_t rl = md_read_u16(sigs->rdata + off);
		const uint8_t *signer = sigs->rdata + off + 2 + 18;

		if (off + 2 + rl > sigs->rdata_len)
			break;
		if (rl > 18 && md_name_len(signer) > 0 &&
		    md_name_len(signer) <= (size_t)rl - 18 &&
		    md_name_is_subdomain(owner, signer))
			return signer;
		off += 2 + (uint32_t)rl;
	}
	return NULL;
}

/* The name made of the last 'labels' labels of name. */
static const uint8_t *
suffix_labels(const uint8_t *name, unsigned labels)
{
	unsigned have = md_name_labels(name);

	while (have > labels && name[0] != 0) {
		name = md_name_parent(name);
		have--;
	}
	return name;
}

static uint32_t
cap_ttl(uint32_t ttl, const struct md_dnssec_verdict *v, uint32_t now)
{
	/* RFC 4035 §5.3.3: no longer than the original TTL, nor past the
	 * signature's expiry */
	if (ttl > v->orig_ttl)
		ttl = v->orig_ttl;
	if ((int32_t)(v->expiration - now) > 0 && ttl > v->expiration - now)
		ttl = v->expiration - now;
	return ttl;
}

/* Mark a checked RRset in the cache. */
static void
mark(struct md_request *req, const uint8_t *owner, uint16_t type,
    const struct md_dnssec_rrset *set, enum md_security sec, uint16_t ede,
    uint32_t cap)
{
	if (req->env->cache == NULL || (req->flags & MD_RESOLVE_NO_CACHE))
		return;
	if (sec == MD_SEC_BOGUS)
		cap = req->env->conf->val_bogus_ttl > 0
		    ? req->env->conf->val_bogus_ttl
		    : 1;
	md_cache_set_security(req->env->cache, owner, type,
	    set != NULL ? set->rdata : NULL, set != NULL ? set->rdata_len : 0,
	    sec, ede, cap, md_req_now(req));
}

/* ---- the chain of trust ------------------------------------------------ */

/*
 * Start a look-up of (name, type) for the validator; judge: the zone
 * whose keys will check the reply.  The client's own question needs no
 * look-up: its answer is there already.  Returns false when it cannot
 * (too many, or a loop): the zone is bogus then.
 */
static bool lookup_done_from(struct md_request *req, struct vzone *judge,
    const uint8_t *name, uint16_t type, struct iq *src);

static bool
need(struct md_request *req, struct vzone *judge, const uint8_t *name,
    uint16_t type)
{
	struct val_state *st = req->val;
	struct iq *root = req->root;
	char n[MD_NAME_STRLEN];

	if (root->qtype == type && md_name_equal(root->qname, name))
		return lookup_done_from(req, judge, name, type, root);
	if (st->lookups >= VAL_LOOKUPS_MAX ||
	    !md_req_val_subquery(req, root, name, type)) {
		vz_add(req, name, VZ_BOGUS, MD_EDE_DNSSEC_BOGUS,
		    md_req_why(req,
			"could not look up the %s set of %s (limit)",
			type == MD_TYPE_DS ? "DS" : "DNSKEY",
			name_str(name, n, sizeof(n))));
		return true;
	}
	st->lookups++;
	st->judge = judge;
	memcpy(st->want, name, md_name_len(name));
	st->want_type = type;
	return false;
}

/* The closest trust anchor zone over name, or NULL. */
static const uint8_t *
anchor_for(const struct md_resolve_conf *conf, const uint8_t *name)
{
	const uint8_t *best = NULL;

	for (size_t i = 0; i < conf->nanchors; i++) {
		const uint8_t *z = conf->anchors[i].zone;

		if (md_name_is_subdomain(name, z) &&
		    (best == NULL || md_name_labels(z) > md_name_labels(best)))
			best = z;
	}
	return best;
}

static struct vzone vz_no_anchor = {
    .state = VZ_INSECURE, .reason = "no trust anchor above it"};

/*
 * The zone whose keys judge data at target: the secure zone target is (a
 * signer: is_signer) or lies in, or the insecure or bogus link above it.
 * NULL: a look-up was started; call again when it is done.  With
 * is_signer, a target that turns out not to be a zone apex is bogus.
 */
static struct vzone *
chain_to(struct md_request *req, const uint8_t *target, bool is_signer)
{
	const struct md_resolve_conf *conf = req->env->conf;
	struct val_state *st = req->val;
	const uint8_t *a = anchor_for(conf, target);
	struct vzone *k, *c;
	unsigned cur;

	if (a == NULL)
		return &vz_no_anchor;
	for (int guard = 0; guard < 2 * MD_NAME_MAX; guard++) {
		k = vz_find(st, a);
		if (k == NULL) {
			if (!need(req, NULL, a, MD_TYPE_DNSKEY))
				return NULL;
			continue;
		}
		break;
	}
	k = vz_find(st, a);
	if (k == NULL || k->state != VZ_ZONE)
		return k;
	cur = md_name_labels(k->name);
	for (int guard = 0; guard < 2 * MD_NAME_MAX; guard++) {
		const uint8_t *cname;

		if (cur >= md_name_labels(target))
			return k;
		cname = suffix_labels(target, cur + 1);
		c = vz_find(st, cname);
		if (c == NULL) {
			if (!need(req, k, cname, MD_TYPE_DS))
				return NULL;
			continue;
		}
		switch (c->state) {
		case VZ_DS:
			if (!need(req, c, cname, MD_TYPE_DNSKEY))
				return NULL;
			continue;
		case VZ_NOCUT:
			cur++;
			if (is_signer && cur == md_name_labels(target))
				return vz_add(req, target, VZ_BOGUS,
				    MD_EDE_DNSSEC_BOGUS,
				    "the signer named in the RRSIG is not a "
				    "zone apex");
			continue;
		case VZ_ZONE:
			k = c;
			cur++;
			continue;
		case VZ_INSECURE:
		case VZ_BOGUS:
			return c;
		}
	}
	return vz_add(req, target, VZ_BOGUS, MD_EDE_DNSSEC_BOGUS,
	    "chain of trust too long");
}

/* A secure zone's DNSKEY set: its digest for the memory of checks. */
static void
zone_keys(struct vzone *z, const struct md_dnssec_rrset *set)
{
	unsigned int dl = 0;

	z->set = *set;
	z->set.owner = z->name;
	z->has_digest = EVP_Digest(set->rdata, set->rdata_len, z->keys_digest,
			    &dl, EVP_sha256(), NULL) == 1 &&
	    dl == sizeof(z->keys_digest);
}

/* The bytes a check covers, for val_memo.c: keys digest, owner, type,
 * rdata, RRSIGs; NULL when too big or out of memory. */
static uint8_t *
memo_key(struct md_request *req, const struct vzone *k,
    const struct md_dnssec_rrset *set, const struct md_dnssec_rrset *sigs,
    size_t *len)
{
	size_t ol = md_name_len(set->owner);
	size_t n = 32 + ol + 2 + 4 + set->rdata_len + sigs->rdata_len;
	uint8_t *b;

	if (!k->has_digest || n > 4096 ||
	    (b = md_arena_alloc(&req->arena, n)) == NULL)
		return NULL;
	memcpy(b, k->keys_digest, 32);
	memcpy(b + 32, set->owner, ol);
	md_write_u16(b + 32 + ol, set->type);
	md_write_u32(b + 34 + ol, set->rdata_len);
	memcpy(b + 38 + ol, set->rdata, set->rdata_len);
	memcpy(b + 38 + ol + set->rdata_len, sigs->rdata, sigs->rdata_len);
	*len = n;
	return b;
}

/* Verify set with zone k's keys; the same records, RRSIGs and keys that
 * verified before are not checked again (val_memo.c). */
static enum md_dnssec_result
verify(struct md_request *req, const struct vzone *k,
    const struct md_dnssec_rrset *set, const struct md_dnssec_rrset *sigs,
    struct md_dnssec_verdict *v)
{
	struct md_val_memo *memo = req->env->memo;
	struct md_val_memo_verdict mv;
	uint32_t now = wall_now();
	size_t klen = 0;
	uint8_t *key = memo != NULL ? memo_key(req, k, set, sigs, &klen) : NULL;

	if (key != NULL &&
	    md_val_memo_get(memo, key, klen, md_req_now(req), &mv) &&
	    (int32_t)(mv.expiration - now) > 0) {
		memset(v, 0, sizeof(*v));
		v->result = MD_DNSSEC_SECURE;
		v->ede = MD_EDE_NONE;
		v->key_tag = mv.key_tag;
		v->algorithm = mv.algorithm;
		v->labels = mv.labels;
		v->wildcard = mv.wildcard;
		v->orig_ttl = mv.orig_ttl;
		v->expiration = mv.expiration;
		return MD_DNSSEC_SECURE;
	}
	if (md_dnssec_verify_rrset(set, sigs, &k->set, now, &req->val->budget,
		v) == MD_DNSSEC_SECURE &&
	    key != NULL) {
		uint32_t life = v->expiration - now;

		mv.key_tag = v->key_tag;
		mv.algorithm = v->algorithm;
		mv.labels = v->labels;
		mv.wildcard = v->wildcard;
		mv.orig_ttl = v->orig_ttl;
		mv.expiration = v->expiration;
		if (life > 86400)
			life = 86400;
		md_val_memo_put(memo, key, klen,
		    md_req_now(req) + (uint64_t)life * 1000, &mv);
	}
	return v->result;
}

/* The NSEC/NSEC3 records of a list, each RRset checked with k's keys:
 * those that verified into rrs (at most max); *bad: the verdict of the
 * first that did not, if any. */
static size_t
checked_nsecs(struct md_request *req, const struct vzone *k,
    struct md_result_rrset *list, struct md_nsec_rr *rrs, size_t max,
    struct md_dnssec_verdict *bad, bool *any_bad, bool check)
{
	size_t n = 0;
	unsigned looked = 0;

	*any_bad = false;
	for (struct md_result_rrset *s = list; s != NULL && n < max;
	     s = s->next) {
		struct md_dnssec_rrset set, sigs;
		struct md_dnssec_verdict v;
		bool seen = false;

		if (s->type != MD_TYPE_NSEC && s->type != MD_TYPE_NSEC3)
			continue;
		/* a reply stuffed with records: the first few only (each
		 * look below walks the list) */
		if (++looked > 2 * MD_NSEC_MAX_RECORDS)
			break;
		/* one check per (owner, type): skip those done */
		for (struct md_result_rrset *p = list; p != s; p = p->next) {
			if (p->type == s->type &&
			    md_name_equal(p->owner, s->owner))
				seen = true;
		}
		if (seen)
			continue;
		gather(req, list, NULL, s->owner, s->type, 0, &set);
		gather(
		    req, list, NULL, s->owner, MD_TYPE_RRSIG, s->type, &sigs);
		if (check &&
		    verify(req, k, &set, &sigs, &v) != MD_DNSSEC_SECURE) {
			if (!*any_bad) {
				*bad = v;
				*any_bad = true;
			}
			continue;
		}
		for (uint32_t off = 0; off + 2 <= set.rdata_len && n < max;) {
			uint16_t rl = md_read_u16(set.rdata + off);

			rrs[n].type = s->type;
			rrs[n].owner = s->owner;
			rrs[n].rdata = set.rdata + off + 2;
			rrs[n].rdlen = rl;
			n++;
			off += 2 + (uint32_t)rl;
		}
	}
	return n;
}

static void
nsec_limits(const struct md_request *req, struct md_nsec_limits *lim)
{
	md_nsec_limits_default(lim);
	if (req->env->conf->nsec3_max_iterations > 0)
		lim->max_iterations = req->env->conf->nsec3_max_iterations;
}

/* The DS look-up for name (judged by k's keys) is back, in src. */
static void
take_ds(struct md_request *req, struct vzone *k, const uint8_t *name,
    struct iq *src)
{
	char n[MD_NAME_STRLEN];
	struct md_result_rrset *ds = find_set(src->answer, name, MD_TYPE_DS);
	struct md_result_rrset *cn = find_set(src->answer, name, MD_TYPE_CNAME);
	struct md_dnssec_rrset set, sigs;
	struct md_dnssec_verdict v;
	struct md_nsec_rr rrs[MD_NSEC_MAX_RECORDS];
	struct md_nsec_query q;
	struct md_nsec_verdict nv;
	struct md_nsec_limits lim;
	struct vzone *z;
	bool any_bad, trusted;
	size_t nrr;

	name_str(name, n, sizeof(n));
	if (src->failed ||
	    (src->rcode != MD_RCODE_NOERROR &&
		src->rcode != MD_RCODE_NXDOMAIN)) {
		z = vz_add(req, name, VZ_BOGUS, MD_EDE_DNSSEC_BOGUS,
		    md_req_why(req, "the DS look-up for %s failed", n));
		emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS, MD_SEC_BOGUS,
		    NULL, z->ede, z->reason);
		return;
	}
	if (ds != NULL || cn != NULL) {
		struct md_result_rrset *s = ds != NULL ? ds : cn;

		gather(req, src->answer, NULL, name, s->type, 0, &set);
		if (s->security == MD_SEC_SECURE) {
			v.result = MD_DNSSEC_SECURE;
			v.key_tag = 0;
			v.algorithm = 0;
		} else {
			gather(req, src->answer, NULL, name, MD_TYPE_RRSIG,
			    s->type, &sigs);
			verify(req, k, &set, &sigs, &v);
		}
		if (v.result == MD_DNSSEC_BOGUS) {
			z = vz_add(req, name, VZ_BOGUS, v.ede,
			    md_req_why(req, "the %s set of %s: %s",
				ds != NULL ? "DS" : "CNAME", n, v.reason));
			mark(req, name, s->type, &set, MD_SEC_BOGUS, v.ede, 0);
			emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS,
			    MD_SEC_BOGUS, &v, z->ede, z->reason);
			return;
		}
		if (v.result == MD_DNSSEC_UNSUPPORTED) {
			z = vz_add(req, name, VZ_INSECURE, MD_EDE_NONE,
			    md_req_why(req,
				"the DS set of %s is signed with algorithms "
				"not supported here",
				n));
			emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS,
			    MD_SEC_INSECURE, &v, MD_EDE_NONE, z->reason);
			return;
		}
		if (s->security != MD_SEC_SECURE)
			mark(req, name, s->type, &set, MD_SEC_SECURE, 0,
			    cap_ttl(s->ttl, &v, wall_now()));
		if (cn != NULL && ds == NULL) {
			vz_add(req, name, VZ_NOCUT, MD_EDE_NONE, NULL);
			emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS,
			    MD_SEC_SECURE, &v, MD_EDE_NONE,
			    "a signed CNAME: no zone cut here");
			return;
		}
		/* the DS records we can use: a supported digest and
		 * algorithm (RFC 4035 §5.2, RFC 6840 §5.2) */
		bool usable = false;

		for (uint32_t off = 0; off + 2 <= set.rdata_len;) {
			uint16_t rl = md_read_u16(set.rdata + off);
			const uint8_t *rd = set.rdata + off + 2;

			if (rl >= 4 && md_dnssec_algorithm_supported(rd[2]) &&
			    md_dnssec_digest_supported(rd[3]))
				usable = true;
			off += 2 + (uint32_t)rl;
		}
		if (!usable) {
			z = vz_add(req, name, VZ_INSECURE, MD_EDE_NONE,
			    md_req_why(req,
				"no DS of %s has an algorithm and digest "
				"supported here: insecure (RFC 4035 §5.2)",
				n));
			emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS,
			    MD_SEC_INSECURE, &v, MD_EDE_NONE, z->reason);
			return;
		}
		z = vz_add(req, name, VZ_DS, MD_EDE_NONE, NULL);
		if (z != NULL) {
			z->set = set;
			z->set.owner = z->name;
		}
		emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS, MD_SEC_SECURE,
		    &v, MD_EDE_NONE,
		    md_req_why(req, "%u DS records, signed by %s", set.count,
			s->security == MD_SEC_SECURE ? "(checked before)"
						     : "the parent's key"));
		return;
	}
	/* No DS.  A denial the cache holds as secure had its signatures
	 * checked when it came: its records only need reading again. */
	if (src->neg_security == MD_SEC_BOGUS) {
		z = vz_add(req, name, VZ_BOGUS, src->neg_ede,
		    md_req_why(req,
			"the denial of the DS of %s is bogus "
			"(cached)",
			n));
		emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS, MD_SEC_BOGUS,
		    NULL, z->ede, z->reason);
		return;
	}
	trusted = src->neg_security == MD_SEC_SECURE;
	nrr = checked_nsecs(req, k, src->authority, rrs, MD_NSEC_MAX_RECORDS,
	    &v, &any_bad, !trusted);
	memset(&q, 0, sizeof(q));
	q.qname = name;
	q.qtype = MD_TYPE_DS;
	q.zone = k->name;
	nsec_limits(req, &lim);
	if (src->rcode == MD_RCODE_NOERROR &&
	    md_nsec_prove_insecure_delegation(&q, rrs, nrr, &lim, &nv) ==
		MD_NSEC_PROVEN) {
		z = vz_add(req, name, VZ_INSECURE, MD_EDE_NONE,
		    md_req_why(req, "%s is an unsigned delegation%s", n,
			nv.opt_out ? " (NSEC3 opt-out)" : ""));
		/* the denial itself is secure (opt-out aside) */
		if (!trusted)
			mark(req, name, MD_TYPE_DS, NULL,
			    nv.opt_out ? MD_SEC_INSECURE : MD_SEC_SECURE, 0, 0);
		emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS, MD_SEC_INSECURE,
		    NULL, MD_EDE_NONE, z->reason);
		return;
	}
	if (src->rcode == MD_RCODE_NOERROR &&
	    md_nsec_prove_nodata(&q, rrs, nrr, &lim, &nv) != MD_NSEC_BOGUS) {
		bool insecure = nv.status == MD_NSEC_INSECURE || nv.opt_out;

		z = vz_add(req, name, insecure ? VZ_INSECURE : VZ_NOCUT,
		    insecure ? nv.ede : MD_EDE_NONE,
		    insecure ? md_req_why(req, "no DS for %s: %s", n,
				   nv.opt_out ? "NSEC3 opt-out"
					      : md_nsec_reason_str(nv.reason))
			     : NULL);
		if (!trusted)
			mark(req, name, MD_TYPE_DS, NULL,
			    insecure ? MD_SEC_INSECURE : MD_SEC_SECURE,
			    insecure ? nv.ede : 0, 0);
		emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS,
		    insecure ? MD_SEC_INSECURE : MD_SEC_SECURE, NULL,
		    MD_EDE_NONE,
		    insecure ? z->reason : "no DS, proven: not a zone cut");
		return;
	}
	{
		uint16_t ede = any_bad		      ? v.ede
		    : src->rcode == MD_RCODE_NXDOMAIN ? MD_EDE_DNSSEC_BOGUS
		    : nrr == 0			      ? MD_EDE_NSEC_MISSING
						      : nv.ede;

		z = vz_add(req, name, VZ_BOGUS, ede,
		    md_req_why(req, "no DS for %s, and no valid proof: %s", n,
			any_bad ? v.reason
			    : src->rcode == MD_RCODE_NXDOMAIN
			    ? "NXDOMAIN for a name on the chain"
			    : md_nsec_reason_str(nv.reason)));
		emit(req, MD_VAL_DS, k->name, name, MD_TYPE_DS, MD_SEC_BOGUS,
		    any_bad ? &v : NULL, ede, z->reason);
	}
}

/* The DNSKEY look-up for the zone name is back, in src; z is the zone's
 * DS fact (NULL: name is a trust anchor). */
static void
take_dnskey(struct md_request *req, struct vzone *z, const uint8_t *name,
    struct iq *src)
{
	const struct md_resolve_conf *conf = req->env->conf;
	char n[MD_NAME_STRLEN];
	struct md_result_rrset *ks =
	    find_set(src->answer, name, MD_TYPE_DNSKEY);
	struct md_dnssec_rrset set, sigs;
	struct md_dnssec_verdict v, last;
	bool matched = false, tried = false, anchor_usable = false;
	unsigned digests = 0;
	struct vzone *out;

	name_str(name, n, sizeof(n));
	memset(&last, 0, sizeof(last));
	if (ks == NULL) {
		out = vz_add(req, name, VZ_BOGUS, MD_EDE_DNSKEY_MISSING,
		    md_req_why(req, "no DNSKEY set for %s%s", n,
			src->failed ? " (the look-up failed)" : ""));
		emit(req, MD_VAL_DNSKEY, name, name, MD_TYPE_DNSKEY,
		    MD_SEC_BOGUS, NULL, out->ede, out->reason);
		return;
	}
	gather(req, src->answer, NULL, name, MD_TYPE_DNSKEY, 0, &set);
	if (ks->security == MD_SEC_SECURE) {
		out = vz_add(req, name, VZ_ZONE, MD_EDE_NONE, NULL);
		if (out != NULL)
			zone_keys(out, &set);
		emit(req, MD_VAL_DNSKEY, name, name, MD_TYPE_DNSKEY,
		    MD_SEC_SECURE, NULL, MD_EDE_NONE,
		    md_req_why(req, "%u keys (checked before)", set.count));
		return;
	}
	gather(
	    req, src->answer, NULL, name, MD_TYPE_RRSIG, MD_TYPE_DNSKEY, &sigs);
	/* Each key that a DS (or an anchor) vouches for, alone, must sign
	 * the whole set (RFC 4035 §5.2). */
	for (uint32_t off = 0; off + 2 <= set.rdata_len && !matched;) {
		uint16_t kl = md_read_u16(set.rdata + off);
		const uint8_t *key = set.rdata + off + 2;
		bool vouched = false;

		off += 2 + (uint32_t)kl;
		if (off > set.rdata_len || kl < 4)
			break;
		if (z != NULL) {
			uint16_t tag = md_dnssec_key_tag(key, kl);

			for (uint32_t d = 0;
			     d + 2 <= z->set.rdata_len && !vouched;) {
				uint16_t dl = md_read_u16(z->set.rdata + d);
				const uint8_t *ds = z->set.rdata + d + 2;

				d += 2 + (uint32_t)dl;
				/* a digest only where tag and algorithm
				 * agree, and only so many (keys sharing a
				 * tag with many DS: KeyTrap's cousin) */
				if (dl < 4 || md_read_u16(ds) != tag ||
				    ds[2] != key[3] ||
				    !md_dnssec_algorithm_supported(ds[2]))
					continue;
				if (++digests > VAL_DS_DIGESTS_MAX)
					break;
				if (md_dnssec_ds_match(name, key, kl, ds, dl) ==
				    MD_DNSSEC_DS_MATCH)
					vouched = true;
			}
		} else {
			for (size_t i = 0; i < conf->nanchors && !vouched;
			     i++) {
				const struct md_trust_anchor *ta =
				    &conf->anchors[i];

				if (!md_name_equal(ta->zone, name))
					continue;
				if (ta->type == MD_TYPE_DS && ta->rdlen >= 4 &&
				    md_dnssec_algorithm_supported(
					ta->rdata[2]) &&
				    md_dnssec_digest_supported(ta->rdata[3]))
					anchor_usable = true;
				if (ta->type == MD_TYPE_DNSKEY &&
				    ta->rdlen >= 4 &&
				    md_dnssec_algorithm_supported(ta->rdata[3]))
					anchor_usable = true;
				vouched = ta->type == MD_TYPE_DS
				    ? md_dnssec_ds_match(name, key, kl,
					  ta->rdata,
					  ta->rdlen) == MD_DNSSEC_DS_MATCH
				    : ta->rdlen == kl &&
					memcmp(ta->rdata, key, kl) == 0;
			}
		}
		if (!vouched)
			continue;
		struct md_dnssec_rrset one = {
		    .owner = name,
		    .type = MD_TYPE_DNSKEY,
		    .count = 1,
		    .rdata = key - 2,
		    .rdata_len = 2 + (uint32_t)kl,
		};

		tried = true;
		if (md_dnssec_verify_rrset(&set, &sigs, &one, wall_now(),
			&req->val->budget, &v) == MD_DNSSEC_SECURE)
			matched = true;
		else
			last = v;
	}
	if (matched) {
		out = vz_add(req, name, VZ_ZONE, MD_EDE_NONE, NULL);
		if (out != NULL)
			zone_keys(out, &set);
		mark(req, name, MD_TYPE_DNSKEY, &set, MD_SEC_SECURE, 0,
		    cap_ttl(ks->ttl, &v, wall_now()));
		emit(req, MD_VAL_DNSKEY, name, name, MD_TYPE_DNSKEY,
		    MD_SEC_SECURE, &v, MD_EDE_NONE,
		    md_req_why(req, "%u keys; key %u (%s) signs the set",
			set.count, v.key_tag,
			z != NULL ? "matches the DS" : "the trust anchor"));
		return;
	}
	if (z == NULL && !anchor_usable) {
		out = vz_add(req, name, VZ_INSECURE, MD_EDE_NONE,
		    "the trust anchor's algorithm is not supported here");
		emit(req, MD_VAL_DNSKEY, name, name, MD_TYPE_DNSKEY,
		    MD_SEC_INSECURE, NULL, MD_EDE_NONE, out->reason);
		return;
	}
	out = vz_add(req, name, VZ_BOGUS,
	    tried ? last.ede : MD_EDE_DNSKEY_MISSING,
	    tried ? md_req_why(req, "the DNSKEY set of %s: %s", n, last.reason)
		  : md_req_why(req, "no DNSKEY of %s matches %s", n,
			z != NULL ? "its DS records" : "the trust anchor"));
	mark(req, name, MD_TYPE_DNSKEY, &set, MD_SEC_BOGUS, out->ede, 0);
	emit(req, MD_VAL_DNSKEY, name, name, MD_TYPE_DNSKEY, MD_SEC_BOGUS,
	    tried ? &last : NULL, out->ede, out->reason);
}

static bool
lookup_done_from(struct md_request *req, struct vzone *judge,
    const uint8_t *name, uint16_t type, struct iq *src)
{
	if (type == MD_TYPE_DS)
		take_ds(req, judge, name, src);
	else
		take_dnskey(req, judge, name, src);
	if (vz_find(req->val, name) == NULL)
		vz_add(
		    req, name, VZ_BOGUS, MD_EDE_DNSSEC_BOGUS, "out of memory");
	return true;
}

void
md_val_subdone(struct md_request *req, struct iq *sub)
{
	struct val_state *st = req->val;

	if (st == NULL)
		return;
	lookup_done_from(req, st->judge, st->want, st->want_type, sub);
}

/* ---- the answer -------------------------------------------------------- */

struct outcome {
	enum md_security sec;
	uint16_t ede;
	const char *reason;
};

static void
worse(struct outcome *o, enum md_security sec, uint16_t ede, const char *why)
{
	if (o->sec == MD_SEC_BOGUS)
		return;
	if (sec == MD_SEC_BOGUS || sec == MD_SEC_INSECURE ||
	    o->sec == MD_SEC_UNCHECKED) {
		if (sec == MD_SEC_INSECURE && o->sec == MD_SEC_INSECURE)
			return;
		o->sec = sec;
		o->ede = ede;
		o->reason = why;
	}
}

/* Check one RRset of the answer.  False: a look-up is out. */
static bool
check_rrset(struct md_request *req, struct md_result_rrset *s,
    struct md_result_rrset *prev)
{
	struct iq *root = req->root;
	char n[MD_NAME_STRLEN];
	struct md_dnssec_rrset set, sigs;
	struct md_dnssec_verdict v;
	const uint8_t *signer;
	struct vzone *k;

	name_str(s->owner, n, sizeof(n));
	if (!md_val_applies(
		req->env->conf, req->env->nta, s->owner, md_req_now(req))) {
		s->security = MD_SEC_INSECURE;
		return true;
	}
	gather(
	    req, root->answer, NULL, s->owner, MD_TYPE_RRSIG, s->type, &sigs);
	/* a CNAME made from a DNAME (RFC 6672 §5.3.1): as good as it */
	if (sigs.count == 0 && s->type == MD_TYPE_CNAME && prev != NULL &&
	    prev->type == MD_TYPE_DNAME &&
	    md_name_is_subdomain(s->owner, prev->owner)) {
		s->security = prev->security;
		s->ede = prev->ede;
		return true;
	}
	if (sigs.count == 0) {
		k = chain_to(req, s->owner, false);
		if (k == NULL)
			return false;
		if (k->state == VZ_ZONE) {
			s->security = MD_SEC_BOGUS;
			s->ede = MD_EDE_RRSIGS_MISSING;
			emit(req, MD_VAL_RRSET, k->name, s->owner, s->type,
			    MD_SEC_BOGUS, NULL, s->ede,
			    md_req_why(req, "no RRSIG in a signed zone"));
		} else {
			s->security = k->state == VZ_INSECURE ? MD_SEC_INSECURE
							      : MD_SEC_BOGUS;
			s->ede = k->ede;
			emit(req, MD_VAL_RRSET, k->name, s->owner, s->type,
			    s->security, NULL, k->ede,
			    k->reason != NULL ? k->reason : "unsigned");
		}
		return true;
	}
	signer = signer_of(&sigs, s->owner);
	if (signer == NULL) {
		s->security = MD_SEC_BOGUS;
		s->ede = MD_EDE_DNSSEC_BOGUS;
		emit(req, MD_VAL_RRSET, NULL, s->owner, s->type, MD_SEC_BOGUS,
		    NULL, s->ede, "no RRSIG's signer encloses the owner");
		return true;
	}
	k = chain_to(req, signer, true);
	if (k == NULL)
		return false;
	if (k->state != VZ_ZONE) {
		s->security =
		    k->state == VZ_INSECURE ? MD_SEC_INSECURE : MD_SEC_BOGUS;
		s->ede = k->ede;
		emit(req, MD_VAL_RRSET, k->name, s->owner, s->type, s->security,
		    NULL, k->ede, k->reason);
		return true;
	}
	gather(req, root->answer, NULL, s->owner, s->type, 0, &set);
	switch (verify(req, k, &set, &sigs, &v)) {
	case MD_DNSSEC_SECURE:
		break;
	case MD_DNSSEC_UNSUPPORTED:
		s->security = MD_SEC_INSECURE;
		emit(req, MD_VAL_RRSET, k->name, s->owner, s->type,
		    MD_SEC_INSECURE, &v, MD_EDE_NONE, v.reason);
		return true;
	case MD_DNSSEC_BOGUS:
		s->security = MD_SEC_BOGUS;
		s->ede = v.ede;
		emit(req, MD_VAL_RRSET, k->name, s->owner, s->type,
		    MD_SEC_BOGUS, &v, v.ede, md_req_why(req, "%s", v.reason));
		return true;
	}
	if (v.wildcard) {
		/* expanded from a wildcard: nothing closer may exist
		 * (RFC 4035 §5.3.4) */
		struct md_nsec_rr rrs[MD_NSEC_MAX_RECORDS];
		struct md_nsec_query q = {
		    .qname = s->owner,
		    .qtype = s->type,
		    .zone = k->name,
		    .sig_labels = v.labels,
		};
		struct md_nsec_verdict nv;
		struct md_nsec_limits lim;
		struct md_dnssec_verdict bad;
		bool any_bad;
		size_t nrr = checked_nsecs(req, k, root->authority, rrs,
		    MD_NSEC_MAX_RECORDS, &bad, &any_bad, true);

		nsec_limits(req, &lim);
		md_nsec_prove_wildcard(&q, rrs, nrr, &lim, &nv);
		if (nv.status == MD_NSEC_BOGUS) {
			s->security = MD_SEC_BOGUS;
			s->ede = nrr == 0 ? MD_EDE_NSEC_MISSING : nv.ede;
			emit(req, MD_VAL_RRSET, k->name, s->owner, s->type,
			    MD_SEC_BOGUS, &v, s->ede,
			    md_req_why(req,
				"a wildcard answer without proof that the "
				"name does not exist: %s",
				md_nsec_reason_str(nv.reason)));
			return true;
		}
		if (nv.status == MD_NSEC_INSECURE || nv.opt_out) {
			s->security = MD_SEC_INSECURE;
			emit(req, MD_VAL_RRSET, k->name, s->owner, s->type,
			    MD_SEC_INSECURE, &v, MD_EDE_NONE,
			    "a wildcard answer under NSEC3 opt-out or too "
			    "many iterations");
			return true;
		}
	}
	s->security = MD_SEC_SECURE;
	s->ttl = cap_ttl(s->ttl, &v, wall_now());
	emit(req, MD_VAL_RRSET, k->name, s->owner, s->type, MD_SEC_SECURE, &v,
	    MD_EDE_NONE,
	    md_req_why(req, "signed by key %u of %s%s", v.key_tag,
		name_str(k->name, n, sizeof(n)),
		v.wildcard ? " (a wildcard expansion, proven)" : ""));
	return true;
}

/* The SOA of a negative answer, if any. */
static struct md_result_rrset *
neg_soa(struct iq *root)
{
	for (struct md_result_rrset *s = root->authority; s != NULL;
	     s = s->next) {
		if (!s->dnssec && s->type == MD_TYPE_SOA)
			return s;
	}
	return NULL;
}

static void keep_nsecs(struct md_request *req, const struct vzone *k,
    const struct md_result_rrset *soa, const struct md_nsec_rr *rrs, size_t n);

/* Check a negative answer's proof.  False: a look-up is out. */
static bool
check_denial(struct md_request *req, const uint8_t *final, bool nxdomain,
    struct outcome *o)
{
	struct iq *root = req->root;
	struct md_result_rrset *soa = neg_soa(root);
	const uint8_t *signer = NULL;
	struct md_dnssec_rrset sigs;
	struct vzone *k;
	char n[MD_NAME_STRLEN];

	name_str(final, n, sizeof(n));
	if (root->neg_security != MD_SEC_UNCHECKED) {
		/* from the cache, checked when it came */
		worse(o, root->neg_security,
		    root->neg_security == MD_SEC_BOGUS ||
			    root->neg_ede == MD_EDE_NSEC3_ITERATIONS
			? root->neg_ede
			: MD_EDE_NONE,
		    root->neg_security == MD_SEC_BOGUS
			? "a bogus denial (cached, val-bogus-ttl)"
			: "NSEC3 iterations above the limit (RFC 9276)");
		return true;
	}
	if (!md_val_applies(
		req->env->conf, req->env->nta, final, md_req_now(req))) {
		worse(o, MD_SEC_INSECURE, MD_EDE_NONE, NULL);
		return true;
	}
	/* the signer: of the SOA's RRSIGs, else of the first NSEC/NSEC3's */
	for (struct md_result_rrset *s = root->authority;
	     s != NULL && signer == NULL; s = s->next) {
		if (s->dnssec ||
		    (s->type != MD_TYPE_SOA && s->type != MD_TYPE_NSEC &&
			s->type != MD_TYPE_NSEC3))
			continue;
		gather(req, root->authority, NULL, s->owner, MD_TYPE_RRSIG,
		    s->type, &sigs);
		signer = signer_of(&sigs, s->owner);
	}
	for (struct md_result_rrset *s = root->authority;
	     s != NULL && signer == NULL; s = s->next) {
		if (s->type != MD_TYPE_NSEC && s->type != MD_TYPE_NSEC3)
			continue;
		gather(req, root->authority, NULL, s->owner, MD_TYPE_RRSIG,
		    s->type, &sigs);
		signer = signer_of(&sigs, s->owner);
	}
	if (signer == NULL) {
		/* unsigned: fine where the zone is insecure */
		const uint8_t *target = soa != NULL ? soa->owner : final;

		k = chain_to(req, target, false);
		if (k == NULL)
			return false;
		if (k->state == VZ_ZONE) {
			emit(req, MD_VAL_DENIAL, k->name, final, root->qtype,
			    MD_SEC_BOGUS, NULL, MD_EDE_RRSIGS_MISSING,
			    "an unsigned denial from a signed zone");
			worse(o, MD_SEC_BOGUS, MD_EDE_RRSIGS_MISSING,
			    md_req_why(req,
				"the denial of %s is not signed, in a signed "
				"zone",
				n));
		} else {
			emit(req, MD_VAL_DENIAL, k->name, final, root->qtype,
			    k->state == VZ_INSECURE ? MD_SEC_INSECURE
						    : MD_SEC_BOGUS,
			    NULL, k->ede, k->reason);
			worse(o,
			    k->state == VZ_INSECURE ? MD_SEC_INSECURE
						    : MD_SEC_BOGUS,
			    k->ede, k->reason);
		}
		return true;
	}
	k = chain_to(req, signer, true);
	if (k == NULL)
		return false;
	if (k->state != VZ_ZONE) {
		enum md_security sec =
		    k->state == VZ_INSECURE ? MD_SEC_INSECURE : MD_SEC_BOGUS;

		emit(req, MD_VAL_DENIAL, k->name, final, root->qtype, sec, NULL,
		    k->ede, k->reason);
		worse(o, sec, k->ede, k->reason);
		return true;
	}
	/* the SOA, when there is one, must be signed too */
	if (soa != NULL) {
		struct md_dnssec_rrset set;
		struct md_dnssec_verdict v;

		gather(req, root->authority, NULL, soa->owner, MD_TYPE_SOA, 0,
		    &set);
		gather(req, root->authority, NULL, soa->owner, MD_TYPE_RRSIG,
		    MD_TYPE_SOA, &sigs);
		if (verify(req, k, &set, &sigs, &v) == MD_DNSSEC_BOGUS) {
			emit(req, MD_VAL_DENIAL, k->name, soa->owner,
			    MD_TYPE_SOA, MD_SEC_BOGUS, &v, v.ede, v.reason);
			worse(o, MD_SEC_BOGUS, v.ede,
			    md_req_why(
				req, "the SOA of the denial: %s", v.reason));
			return true;
		}
	}
	{
		struct md_nsec_rr rrs[MD_NSEC_MAX_RECORDS];
		struct md_nsec_query q = {
		    .qname = final,
		    .qtype = root->qtype,
		    .zone = k->name,
		};
		struct md_nsec_verdict nv;
		struct md_nsec_limits lim;
		struct md_dnssec_verdict bad;
		bool any_bad;
		size_t nrr = checked_nsecs(req, k, root->authority, rrs,
		    MD_NSEC_MAX_RECORDS, &bad, &any_bad, true);

		nsec_limits(req, &lim);
		if (nxdomain)
			md_nsec_prove_nxdomain(&q, rrs, nrr, &lim, &nv);
		else
			md_nsec_prove_nodata(&q, rrs, nrr, &lim, &nv);
		if (nv.status == MD_NSEC_PROVEN && !nv.opt_out) {
			keep_nsecs(req, k, soa, rrs, nrr);
			emit(req, MD_VAL_DENIAL, k->name, final, root->qtype,
			    MD_SEC_SECURE, NULL, MD_EDE_NONE,
			    nxdomain ? "NXDOMAIN proven" : "NODATA proven");
			worse(o, MD_SEC_SECURE, MD_EDE_NONE, NULL);
		} else if (nv.status != MD_NSEC_BOGUS) {
			const char *why = nv.opt_out
			    ? "proven only by an NSEC3 opt-out span"
			    : md_nsec_reason_str(nv.reason);

			uint16_t ede = nv.ede == MD_EDE_NSEC3_ITERATIONS
			    ? nv.ede
			    : MD_EDE_NONE;

			emit(req, MD_VAL_DENIAL, k->name, final, root->qtype,
			    MD_SEC_INSECURE, NULL, ede, why);
			worse(o, MD_SEC_INSECURE, ede, why);
		} else {
			uint16_t ede = any_bad && nrr == 0 ? bad.ede
			    : nrr == 0			   ? MD_EDE_NSEC_MISSING
							   : nv.ede;
			const char *why = any_bad && nrr == 0
			    ? bad.reason
			    : md_nsec_reason_str(nv.reason);

			emit(req, MD_VAL_DENIAL, k->name, final, root->qtype,
			    MD_SEC_BOGUS, any_bad ? &bad : NULL, ede, why);
			worse(o, MD_SEC_BOGUS, ede,
			    md_req_why(req, "the denial of %s: %s", n, why));
		}
	}
	return true;
}

/* aggressive-nsec: the NSEC records of a denial that validated, with
 * their RRSIGs and the zone's signed SOA, into the store (val_agg.c). */
static void
keep_nsecs(struct md_request *req, const struct vzone *k,
    const struct md_result_rrset *soa, const struct md_nsec_rr *rrs, size_t n)
{
	struct md_nsec_put_rr in[MD_NSEC_MAX_RECORDS];
	struct md_nsec_put p;
	struct md_dnssec_rrset sigs, soa_sigs;
	struct iq *root = req->root;
	size_t m = 0;

	if (!req->env->conf->aggressive_nsec || req->env->nsecs == NULL ||
	    soa == NULL || (req->flags & MD_RESOLVE_NO_CACHE))
		return;
	for (size_t i = 0; i < n && m < MD_NSEC_MAX_RECORDS; i++) {
		if (rrs[i].type != MD_TYPE_NSEC)
			continue;
		gather(req, root->authority, NULL, rrs[i].owner, MD_TYPE_RRSIG,
		    MD_TYPE_NSEC, &sigs);
		in[m].owner = rrs[i].owner;
		in[m].rdata = rrs[i].rdata;
		in[m].rdlen = (uint16_t)rrs[i].rdlen;
		in[m].sigs = sigs.rdata;
		in[m].sigs_len = sigs.rdata_len;
		in[m].nsigs = sigs.count;
		m++;
	}
	if (m == 0)
		return;
	gather(req, root->authority, NULL, soa->owner, MD_TYPE_RRSIG,
	    MD_TYPE_SOA, &soa_sigs);
	if (soa_sigs.count == 0 || !md_name_equal(soa->owner, k->name))
		return;
	memset(&p, 0, sizeof(p));
	p.zone = k->name;
	p.ttl = soa->ttl;
	p.rrs = in;
	p.n = m;
	p.soa = soa->rdata;
	p.soa_len = soa->rdata_len;
	p.soa_sigs = soa_sigs.rdata;
	p.soa_sigs_len = soa_sigs.rdata_len;
	p.soa_nsigs = soa_sigs.count;
	p.soa_ttl = soa->ttl;
	md_nsec_store_put(req->env->nsecs, &p, md_req_now(req));
}

struct agg_ctx {
	struct md_request *req;
	struct iq *iq;
};

static void
agg_add(void *arg, const uint8_t *owner, uint16_t type, uint16_t count,
    uint32_t ttl, const uint8_t *rdata, uint32_t len, bool dnssec)
{
	struct agg_ctx *a = arg;

	md_req_add_authority(
	    a->req, a->iq, owner, type, count, ttl, rdata, len, dnssec);
}

bool
md_val_aggressive(struct md_request *req, struct iq *iq)
{
	const struct md_resolve_conf *conf = req->env->conf;
	struct agg_ctx a = {req, iq};
	int rcode;

	if (!conf->aggressive_nsec || !conf->validate ||
	    req->env->nsecs == NULL || (req->flags & MD_RESOLVE_NO_CACHE) ||
	    !md_val_applies(conf, req->env->nta, iq->qname, md_req_now(req)))
		return false;
	rcode = md_nsec_store_answer(req->env->nsecs, iq->qname, iq->qtype,
	    md_req_now(req), agg_add, &a);
	if (rcode < 0)
		return false;
	/* checked when the records came: the validator takes it as is */
	iq->neg_security = MD_SEC_SECURE;
	if (md_req_tracing(req)) {
		struct md_trace_event ev;

		md_req_ev_init(req, iq, MD_TRACE_CACHE_HIT, &ev);
		ev.why = rcode == MD_RCODE_NXDOMAIN
		    ? "NXDOMAIN from validated NSEC records (aggressive-nsec)"
		    : "NODATA from a validated NSEC record (aggressive-nsec)";
		md_req_ev_emit(req, &ev);
	}
	md_req_iq_done(req, iq, rcode);
	return true;
}

/*
 * Is the root's answer negative (NXDOMAIN, or no RRset of the type asked
 * at the end of the chain)?  *final: the chain's last name, followed
 * through the answer's CNAMEs (a forwarder's answer, or a zone's own
 * chain, comes whole while the query kept its first name).
 */
static bool
negative(const struct iq *root, const uint8_t **final, bool *nxdomain)
{
	const uint8_t *name = root->qname;

	for (int hops = 0; hops < 2 * MD_RESOLVE_MAX_CNAME; hops++) {
		const struct md_result_rrset *cn;

		if (find_set(root->answer, name, root->qtype) != NULL)
			break;
		cn = find_set(root->answer, name, MD_TYPE_CNAME);
		if (cn == NULL || root->qtype == MD_TYPE_CNAME ||
		    cn->rdata_len < 3 ||
		    md_name_len(cn->rdata + 2) != md_read_u16(cn->rdata))
			break;
		name = cn->rdata + 2;
	}
	*final = name;
	*nxdomain = root->rcode == MD_RCODE_NXDOMAIN;
	if (*nxdomain)
		return true;
	if (root->qtype == MD_TYPE_ANY)
		return false;
	return find_set(root->answer, name, root->qtype) == NULL;
}

bool
md_val_run(struct md_request *req)
{
	struct iq *root = req->root;
	struct val_state *st = req->val;
	struct outcome o = {.sec = MD_SEC_UNCHECKED, .ede = MD_EDE_NONE};
	struct md_result_rrset *prev = NULL;
	const uint8_t *final;
	bool nxdomain, neg;

	if (st == NULL) {
		const struct md_resolve_conf *conf = req->env->conf;

		if (!conf->validate || conf->nanchors == 0 || root->failed ||
		    (root->rcode != MD_RCODE_NOERROR &&
			root->rcode != MD_RCODE_NXDOMAIN))
			return true;
		st = md_arena_alloc(&req->arena, sizeof(*st));
		if (st == NULL)
			return true;
		memset(st, 0, sizeof(*st));
		st->budget.verify_left = MD_DNSSEC_MAX_VERIFY_QUERY;
		req->val = st;
	}
	for (struct md_result_rrset *s = root->answer; s != NULL; s = s->next) {
		if (s->dnssec)
			continue;
		if (s->security == MD_SEC_UNCHECKED &&
		    !check_rrset(req, s, prev))
			return false;
		worse(&o, s->security, s->ede,
		    s->security == MD_SEC_BOGUS
			? (st->why != NULL
				  ? st->why
				  : "bogus data (cached, val-bogus-ttl)")
			: NULL);
		prev = s;
	}
	neg = negative(root, &final, &nxdomain);
	if (neg && !check_denial(req, final, nxdomain, &o))
		return false;
	if (o.sec == MD_SEC_UNCHECKED)
		o.sec = MD_SEC_INSECURE; /* nothing to check: an empty answer */

	/* What was found goes into the cache: a later question takes it as
	 * it is (AD, or SERVFAIL for val-bogus-ttl). */
	for (struct md_result_rrset *s = root->answer; s != NULL; s = s->next) {
		struct md_dnssec_rrset set;

		if (s->dnssec || s->trust == MD_TRUST_NONE)
			continue; /* from the cache, or made from a DNAME */
		set.rdata = s->rdata;
		set.rdata_len = s->rdata_len;
		mark(req, s->owner, s->type, &set, s->security, s->ede,
		    s->security == MD_SEC_SECURE ? s->ttl : 0);
	}
	if (neg && root->neg_security == MD_SEC_UNCHECKED)
		mark(req, final, nxdomain ? 0 : root->qtype, NULL, o.sec, o.ede,
		    0);

	req->result.security = o.sec;
	if (o.sec == MD_SEC_INSECURE && o.ede == MD_EDE_NSEC3_ITERATIONS) {
		/* insecure, and the client is told why (RFC 9276 §3.2) */
		req->result.ede = o.ede;
		req->result.reason = "NSEC3 iterations above the limit";
	}
	if (o.sec == MD_SEC_BOGUS) {
		req->result.ede =
		    o.ede != MD_EDE_NONE ? o.ede : MD_EDE_DNSSEC_BOGUS;
		req->result.reason = o.reason != NULL
		    ? md_req_why(req, "DNSSEC validation failed: %s", o.reason)
		    : "DNSSEC validation failed";
		md_info(MD_LOG_MAIN, "%s", req->result.reason);
	}
	emit(req, MD_VAL_VERDICT, NULL, root->qname, root->qtype, o.sec, NULL,
	    o.sec == MD_SEC_BOGUS ? req->result.ede : MD_EDE_NONE,
	    o.sec == MD_SEC_BOGUS ? req->result.reason
		: o.sec == MD_SEC_SECURE
		? "secure: every link of the chain verified"
		: (o.reason != NULL ? o.reason : "insecure"));
	return true;
}
