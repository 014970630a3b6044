/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * infra.c - the infrastructure cache: what we know of each upstream server
 * address across requests.  Smoothed RTT and variance give the
 * retransmission timeout (RFC 6298 §2, with Unbound's floor/ceiling);
 * repeated timeouts hold a server down as dead, a lame answer holds it down
 * for that zone, and FORMERR/NOTIMP to EDNS is remembered.  Entries expire
 * so a server that recovers is tried again.
 *
 * One mutex guards the table: it is touched once per upstream query, not
 * per client query, so it is off the cache-hit path.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/hashtab.h"

#include "resolve-internal.h"

#define INFRA_TTL_MS (15 * 60 * 1000) /* forget a server after 15 min */
#define HOLD_DOWN_MS (30 * 1000)      /* dead or lame: skip for 30 s */
#define DEAD_AFTER 3		      /* consecutive timeouts */
#define RTO_MIN 50
#define RTO_MAX 4000
#define LAME_ZONES 4

struct lame_zone {
	uint32_t zone_hash;
	uint64_t until;
};

struct infra_entry {
	struct md_hnode hn; /* in md_infra.table; hash: addr_hash() */
	struct md_sockaddr addr;
	uint64_t expires;
	uint32_t srtt, rttvar; /* ms */
	bool have_rtt;
	uint32_t rto;
	unsigned timeouts; /* consecutive */
	uint64_t dead_until;
	uint64_t noedns_until;
	struct lame_zone lame[LAME_ZONES];
};

struct md_infra {
	pthread_mutex_t lock;
	struct md_hashtab table; /* struct infra_entry by address */
	size_t max_entries;
};

struct md_infra *
md_infra_new(size_t max_entries)
{
	struct md_infra *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return NULL;
	if (md_hashtab_init(&in->table, 1024, 0) != 0) {
		free(in);
		return NULL;
	}
	in->max_entries = max_entries ? max_entries : 10000;
	pthread_mutex_init(&in->lock, NULL);
	return in;
}

void
md_infra_free(struct md_infra *in)
{
	struct md_hashtab_iter it;
	struct md_hnode *hn;

	if (in == NULL)
		return;
	md_hashtab_iter_init(&it, &in->table);
	while ((hn = md_hashtab_iter_next(&it)) != NULL)
		free(MD_HNODE_ENTRY(hn, struct infra_entry, hn));
	pthread_mutex_destroy(&in->lock);
	md_hashtab_deinit(&in->table);
	free(in);
}

static uint32_t
addr_hash(const struct md_sockaddr *sa)
{
	const uint8_t *p = (const uint8_t *)&sa->ss;
	uint32_t h = 2166136261u;

	for (socklen_t i = 0; i < sa->len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The entry for sa (created if 'create'), with the lock held. */
static struct infra_entry *
lookup(struct md_infra *in, const struct md_sockaddr *sa, uint64_t now,
    bool create)
{
	uint32_t h = addr_hash(sa);
	struct md_hnode *hn;
	struct infra_entry *e;

	for (hn = md_hashtab_match(&in->table, h); hn != NULL;
	     hn = md_hashtab_match_next(hn, h)) {
		e = MD_HNODE_ENTRY(hn, struct infra_entry, hn);
		if (e->addr.len == sa->len &&
		    memcmp(&e->addr.ss, &sa->ss, sa->len) == 0) {
			if (e->expires > now)
				return e;
			/* Stale knowledge: start over. */
			md_hashtab_remove(&in->table, &e->hn);
			free(e);
			break;
		}
	}
	if (!create || md_hashtab_count(&in->table) >= in->max_entries)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->addr = *sa;
	md_hashtab_insert(&in->table, &e->hn, h);
	e->expires = now + INFRA_TTL_MS;
	return e;
}

void
md_infra_get(struct md_infra *in, const struct md_sockaddr *sa,
    const uint8_t *zone, uint64_t now, uint32_t initial_rto,
    struct md_infra_info *out)
{
	struct infra_entry *e;
	uint32_t zh = md_name_hash(zone);

	memset(out, 0, sizeof(*out));
	out->rto_ms = initial_rto;
	out->srtt_ms = initial_rto;
	pthread_mutex_lock(&in->lock);
	e = lookup(in, sa, now, false);
	if (e != NULL) {
		out->known = e->have_rtt;
		if (e->have_rtt)
			out->srtt_ms = e->srtt;
		if (e->rto != 0)
			out->rto_ms = e->rto;
		out->dead = e->dead_until > now;
		out->noedns = e->noedns_until > now;
		for (int i = 0; i < LAME_ZONES; i++) {
			if (e->lame[i].zone_hash == zh &&
			    e->lame[i].until > now)
				out->lame = true;
		}
	}
	pthread_mutex_unlock(&in->lock);
}

void
md_infra_rtt(struct md_infra *in, const struct md_sockaddr *sa, uint32_t rtt,
    uint64_t now)
{
	struct infra_entry *e;

	pthread_mutex_lock(&in->lock);
	e = lookup(in, sa, now, true);
	if (e != NULL) {
		/* RFC 6298 §2.2/2.3 with alpha 1/8 and beta 1/4. */
		if (!e->have_rtt) {
			e->srtt = rtt;
			e->rttvar = rtt / 2;
			e->have_rtt = true;
		} else {
			uint32_t diff =
			    e->srtt > rtt ? e->srtt - rtt : rtt - e->srtt;

			e->rttvar = (3 * e->rttvar + diff) / 4;
			e->srtt = (7 * e->srtt + rtt) / 8;
		}
		e->rto = e->srtt + 4 * e->rttvar;
		if (e->rto < RTO_MIN)
			e->rto = RTO_MIN;
		if (e->rto > RTO_MAX)
			e->rto = RTO_MAX;
		e->timeouts = 0;
		e->dead_until = 0;
		e->expires = now + INFRA_TTL_MS;
	}
	pthread_mutex_unlock(&in->lock);
}

void
md_infra_timeout(struct md_infra *in, const struct md_sockaddr *sa,
    uint32_t sent_rto, uint64_t now)
{
	struct infra_entry *e;

	pthread_mutex_lock(&in->lock);
	e = lookup(in, sa, now, true);
	if (e != NULL) {
		/* RFC 6298 §5.5: back off, doubling the timeout. */
		uint32_t rto = sent_rto * 2;

		e->rto = rto > RTO_MAX ? RTO_MAX : rto;
		/* A server that never answers should not slow down every
		 * query: after a few timeouts in a row it is skipped for a
		 * while (then probed again). */
		if (++e->timeouts >= DEAD_AFTER)
			e->dead_until = now + HOLD_DOWN_MS;
		if (!e->have_rtt)
			e->srtt = e->rto;
	}
	pthread_mutex_unlock(&in->lock);
}

void
md_infra_lame(struct md_infra *in, const struct md_sockaddr *sa,
    const uint8_t *zone, uint64_t now)
{
	struct infra_entry *e;
	uint32_t zh = md_name_hash(zone);

	pthread_mutex_lock(&in->lock);
	e = lookup(in, sa, now, true);
	if (e != NULL) {
		int slot = 0;

		for (int i = 0; i < LAME_ZONES; i++) {
			if (e->lame[i].zone_hash == zh ||
			    e->lame[i].until < e->lame[slot].until)
				slot = i;
			if (e->lame[i].zone_hash == zh)
				break;
		}
		e->lame[slot].zone_hash = zh;
		e->lame[slot].until = now + HOLD_DOWN_MS;
	}
	pthread_mutex_unlock(&in->lock);
}

void
md_infra_noedns(struct md_infra *in, const struct md_sockaddr *sa, uint64_t now)
{
	struct infra_entry *e;

	pthread_mutex_lock(&in->lock);
	e = lookup(in, sa, now, true);
	if (e != NULL)
		e->noedns_until = now + INFRA_TTL_MS;
	pthread_mutex_unlock(&in->lock);
}
