/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val_agg.c - aggressive use of DNSSEC-validated NSEC records (RFC 8198,
 * aggressive-nsec).  Each NSEC record of a denial that validated secure is
 * kept, with its RRSIGs and the zone's signed SOA, in a store shared by
 * the workers: per zone, an array sorted in canonical order (RFC 4034
 * §6.1).  A later question for a name that such a record covers (and
 * whose wildcard is covered too) is answered NXDOMAIN from the store, a
 * name it matches without the type NODATA, before any query is sent: the
 * proof is checked again by the same code as a proof from the network
 * (val_nsec.c), over records whose signatures verified when they came.
 *
 * NSEC only: NSEC3 hashes would have to be recomputed per question, and
 * an opt-out span proves nothing of a name's existence.  Bounded: at most
 * AGG_ZONES zones and AGG_RECORDS records each; a zone that is full drops
 * its expired records, then the whole zone starts over.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/dnssec.h"
#include "minidns/dnssec_nsec.h"
#include "resolve-internal.h"

#define AGG_ZONES 256
#define AGG_RECORDS 1024

struct agg_rr {
	uint8_t owner[MD_NAME_MAX];
	uint64_t expire_ms;
	uint32_t ttl; /* as stored: the remaining is computed */
	uint16_t rdlen;
	uint16_t nsigs;
	uint32_t sigs_len;
	uint8_t *rdata; /* the NSEC rdata, then the RRSIG set */
};

struct agg_zone {
	uint8_t name[MD_NAME_MAX];
	struct agg_rr **rr; /* sorted by owner, canonical order */
	size_t n;
	/* the zone's SOA for the authority section, and its RRSIGs */
	uint8_t *soa; /* [u16 len][rdata] */
	uint32_t soa_len;
	uint8_t *soa_sigs; /* [u16 len][rdata]... */
	uint32_t soa_sigs_len;
	uint16_t soa_nsigs;
	uint32_t soa_ttl;
	uint64_t soa_expire_ms;
	uint64_t used_ms;
};

struct md_nsec_store {
	pthread_rwlock_t lock;
	struct agg_zone *zones[AGG_ZONES];
	size_t nzones;
};

struct md_nsec_store *
md_nsec_store_new(void)
{
	struct md_nsec_store *st = calloc(1, sizeof(*st));

	if (st != NULL && pthread_rwlock_init(&st->lock, NULL) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

static void
zone_clear(struct agg_zone *z)
{
	for (size_t i = 0; i < z->n; i++) {
		free(z->rr[i]->rdata);
		free(z->rr[i]);
	}
	z->n = 0;
}

static void
zone_free(struct agg_zone *z)
{
	zone_clear(z);
	free(z->rr);
	free(z->soa);
	free(z->soa_sigs);
	free(z);
}

void
md_nsec_store_free(struct md_nsec_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nzones; i++)
		zone_free(st->zones[i]);
	pthread_rwlock_destroy(&st->lock);
	free(st);
}

void
md_nsec_store_flush(struct md_nsec_store *st)
{
	if (st == NULL)
		return;
	pthread_rwlock_wrlock(&st->lock);
	for (size_t i = 0; i < st->nzones; i++)
		zone_free(st->zones[i]);
	st->nzones = 0;
	pthread_rwlock_unlock(&st->lock);
}

/* The first record whose owner is not below name (canonical order). */
static size_t
lower_bound(const struct agg_zone *z, const uint8_t *name)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (md_name_canon_cmp(z->rr[mid]->owner, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct agg_zone *
zone_get(
    struct md_nsec_store *st, const uint8_t *zone, bool create, uint64_t now_ms)
{
	struct agg_zone *z;

	for (size_t i = 0; i < st->nzones; i++) {
		if (md_name_equal(st->zones[i]->name, zone))
			return st->zones[i];
	}
	if (!create)
		return NULL;
	if (st->nzones == AGG_ZONES) {
		/* the zone used least recently makes room */
		size_t old = 0;

		for (size_t i = 1; i < st->nzones; i++) {
			if (st->zones[i]->used_ms < st->zones[old]->used_ms)
				old = i;
		}
		zone_free(st->zones[old]);
		st->zones[old] = st->zones[--st->nzones];
	}
	z = calloc(1, sizeof(*z));
	if (z == NULL ||
	    (z->rr = calloc(AGG_RECORDS, sizeof(*z->rr))) == NULL) {
		free(z);
		return NULL;
	}
	memcpy(z->name, zone, md_name_len(zone));
	z->used_ms = now_ms;
	st->zones[st->nzones++] = z;
	return z;
}

static uint8_t *
dup_or_null(const uint8_t *p, size_t len)
{
	uint8_t *d = len > 0 ? malloc(len) : NULL;

	if (d != NULL)
		memcpy(d, p, len);
	return d;
}

void
md_nsec_store_put(
    struct md_nsec_store *st, const struct md_nsec_put *p, uint64_t now_ms)
{
	struct agg_zone *z;

	if (st == NULL || p->ttl == 0)
		return;
	pthread_rwlock_wrlock(&st->lock);
	z = zone_get(st, p->zone, true, now_ms);
	if (z == NULL)
		goto out;
	z->used_ms = now_ms;
	if (p->soa != NULL) {
		uint8_t *soa = dup_or_null(p->soa, p->soa_len);
		uint8_t *sigs = dup_or_null(p->soa_sigs, p->soa_sigs_len);

		if (soa != NULL && sigs != NULL) {
			free(z->soa);
			free(z->soa_sigs);
			z->soa = soa;
			z->soa_len = p->soa_len;
			z->soa_sigs = sigs;
			z->soa_sigs_len = p->soa_sigs_len;
			z->soa_nsigs = p->soa_nsigs;
			z->soa_ttl = p->soa_ttl;
			z->soa_expire_ms = now_ms + (uint64_t)p->soa_ttl * 1000;
		} else {
			free(soa);
			free(sigs);
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct md_nsec_put_rr *in = &p->rrs[i];
		size_t at = lower_bound(z, in->owner);
		struct agg_rr *r;

		if (!md_name_is_subdomain(in->owner, z->name))
			continue;
		if (at < z->n && md_name_equal(z->rr[at]->owner, in->owner)) {
			r = z->rr[at]; /* a newer copy replaces it */
			free(r->rdata);
		} else {
			if (z->n == AGG_RECORDS) {
				size_t k = 0;

				for (size_t j = 0; j < z->n; j++) {
					if (z->rr[j]->expire_ms > now_ms)
						z->rr[k++] = z->rr[j];
					else {
						free(z->rr[j]->rdata);
						free(z->rr[j]);
					}
				}
				z->n = k;
				if (z->n == AGG_RECORDS)
					zone_clear(z);
				at = lower_bound(z, in->owner);
			}
			r = calloc(1, sizeof(*r));
			if (r == NULL)
				break;
			memmove(&z->rr[at + 1], &z->rr[at],
			    (z->n - at) * sizeof(z->rr[0]));
			z->rr[at] = r;
			z->n++;
			memcpy(r->owner, in->owner, md_name_len(in->owner));
		}
		r->rdata = malloc((size_t)in->rdlen + in->sigs_len + 1);
		if (r->rdata == NULL) {
			r->rdlen = 0;
			r->sigs_len = 0;
			r->expire_ms = 0; /* dropped at the next clean-up */
			continue;
		}
		memcpy(r->rdata, in->rdata, in->rdlen);
		memcpy(r->rdata + in->rdlen, in->sigs, in->sigs_len);
		r->rdlen = in->rdlen;
		r->sigs_len = in->sigs_len;
		r->nsigs = in->nsigs;
		r->ttl = p->ttl;
		r->expire_ms = now_ms + (uint64_t)p->ttl * 1000;
	}
out:
	pthread_rwlock_unlock(&st->lock);
}

/* The records a proof may use: the one at or before name, and the one at
 * or before its wildcard, each live. */
static size_t
candidates(const struct agg_zone *z, const uint8_t *name, uint64_t now_ms,
    const struct agg_rr **out, size_t max)
{
	size_t n = 0, at = lower_bound(z, name);

	if (at < z->n && md_name_equal(z->rr[at]->owner, name) && n < max)
		out[n++] = z->rr[at];
	else if (at > 0 && n < max)
		out[n++] = z->rr[at - 1];
	if (n > 0 && out[n - 1]->expire_ms <= now_ms)
		n--;
	return n;
}

int
md_nsec_store_answer(struct md_nsec_store *st, const uint8_t *qname,
    uint16_t qtype, uint64_t now_ms, md_nsec_store_cb cb, void *arg)
{
	struct agg_zone *z = NULL;
	const struct agg_rr *c[4];
	struct md_nsec_rr rrs[4];
	struct md_nsec_query q;
	struct md_nsec_verdict v;
	size_t n = 0;
	bool nxdomain = false, ok = false;

	if (st == NULL || qtype == MD_TYPE_DS)
		return -1;
	pthread_rwlock_rdlock(&st->lock);
	/* the closest zone the store knows */
	for (size_t i = 0; i < st->nzones; i++) {
		if (md_name_is_subdomain(qname, st->zones[i]->name) &&
		    (z == NULL ||
			md_name_labels(st->zones[i]->name) >
			    md_name_labels(z->name)))
			z = st->zones[i];
	}
	if (z == NULL || z->soa == NULL || z->soa_expire_ms <= now_ms)
		goto out;
	n = candidates(z, qname, now_ms, c, 2);
	if (n == 0)
		goto out;
	memset(&q, 0, sizeof(q));
	q.qname = qname;
	q.qtype = qtype;
	q.zone = z->name;
	if (!md_name_equal(c[0]->owner, qname)) {
		/* NXDOMAIN: the wildcard at the closest encloser must be
		 * covered too; the encloser is the longer common ancestor of
		 * the name with the covering record's owner and next name */
		const uint8_t *next = c[0]->rdata;
		const uint8_t *ce = qname;
		uint8_t wc[MD_NAME_MAX];

		if (md_name_len(next) > c[0]->rdlen)
			goto out;
		while (ce[0] != 0 &&
		    !(md_name_is_subdomain(c[0]->owner, ce) ||
			md_name_is_subdomain(next, ce)))
			ce = md_name_parent(ce);
		/* ce is the longest ancestor of qname that the owner or the
		 * next name is at or below */
		if (md_name_len(ce) + 2 > MD_NAME_MAX)
			goto out;
		wc[0] = 1;
		wc[1] = '*';
		memcpy(wc + 2, ce, md_name_len(ce));
		n += candidates(z, wc, now_ms, c + n, 1);
		nxdomain = true;
	}
	for (size_t i = 0; i < n; i++) {
		rrs[i].type = MD_TYPE_NSEC;
		rrs[i].owner = c[i]->owner;
		rrs[i].rdata = c[i]->rdata;
		rrs[i].rdlen = c[i]->rdlen;
	}
	if ((nxdomain ? md_nsec_prove_nxdomain(&q, rrs, n, NULL, &v)
		      : md_nsec_prove_nodata(&q, rrs, n, NULL, &v)) !=
	    MD_NSEC_PROVEN)
		goto out;
	/* the answer: the SOA and the records, TTLs as left */
	{
		uint32_t ttl = (uint32_t)((z->soa_expire_ms - now_ms) / 1000);
		uint32_t soa_min = 0;

		if (z->soa_len >= 2 + 22)
			soa_min = md_read_u32(z->soa + z->soa_len - 4);
		if (soa_min < ttl)
			ttl = soa_min;
		for (size_t i = 0; i < n; i++) {
			uint32_t left =
			    (uint32_t)((c[i]->expire_ms - now_ms) / 1000);

			if (left < ttl)
				ttl = left;
		}
		for (size_t i = 0; i < n; i++) {
			if (c[i]->rdlen > 2048)
				goto out;
		}
		if (ttl == 0)
			goto out;
		cb(arg, z->name, MD_TYPE_SOA, 1, ttl, z->soa, z->soa_len,
		    false);
		cb(arg, z->name, MD_TYPE_RRSIG, z->soa_nsigs, ttl, z->soa_sigs,
		    z->soa_sigs_len, true);
		for (size_t i = 0; i < n; i++) {
			uint8_t one[2 + 2048];

			if (i > 0 && c[i] == c[0])
				continue; /* one record covers both */
			md_write_u16(one, c[i]->rdlen);
			memcpy(one + 2, c[i]->rdata, c[i]->rdlen);
			cb(arg, c[i]->owner, MD_TYPE_NSEC, 1, ttl, one,
			    2 + (uint32_t)c[i]->rdlen, true);
			cb(arg, c[i]->owner, MD_TYPE_RRSIG, c[i]->nsigs, ttl,
			    c[i]->rdata + c[i]->rdlen, c[i]->sigs_len, true);
		}
		ok = true;
	}
out:
	pthread_rwlock_unlock(&st->lock);
	return !ok ? -1 : nxdomain ? MD_RCODE_NXDOMAIN : MD_RCODE_NOERROR;
}
