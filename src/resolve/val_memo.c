/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val_memo.c - RRsets whose signatures verified, remembered so that the
 * same records with the same RRSIGs under the same keys are not checked
 * again.  Every NXDOMAIN of a zone carries the zone's signed SOA and the
 * NSEC/NSEC3 records near its apex: without this, each is a signature
 * check per question (doc/benchmarks.md, "DNSSEC validation").
 *
 * An entry is the exact bytes that were checked: a digest of the DNSKEY
 * set that checked them (SHA-256: the keys of one zone at one time), the
 * owner, the type, the rdata and the RRSIGs.  A look-up compares all of
 * them, so a hash collision cannot make unchecked data pass; the table's
 * hash only picks the slot.  An entry lives until the signature's expiry
 * and no longer than a day.  Fixed size, one slot per hash, striped
 * locks: the newest entry of a slot wins.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolve-internal.h"

#define MEMO_SLOTS 8192 /* a power of two */
#define MEMO_LOCKS 64
#define MEMO_MAX_BYTES 4096 /* larger sets are not remembered */

struct memo_slot {
	uint64_t hash;
	uint64_t expire_ms;
	uint32_t len;
	uint8_t *bytes;
	struct md_val_memo_verdict v;
};

struct md_val_memo {
	pthread_mutex_t locks[MEMO_LOCKS];
	struct memo_slot slots[MEMO_SLOTS];
};

struct md_val_memo *
md_val_memo_new(void)
{
	struct md_val_memo *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	for (size_t i = 0; i < MEMO_LOCKS; i++)
		pthread_mutex_init(&m->locks[i], NULL);
	return m;
}

void
md_val_memo_free(struct md_val_memo *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		free(m->slots[i].bytes);
	for (size_t i = 0; i < MEMO_LOCKS; i++)
		pthread_mutex_destroy(&m->locks[i]);
	free(m);
}

void
md_val_memo_flush(struct md_val_memo *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < MEMO_SLOTS; i++) {
		pthread_mutex_t *l = &m->locks[i % MEMO_LOCKS];

		pthread_mutex_lock(l);
		free(m->slots[i].bytes);
		m->slots[i].bytes = NULL;
		m->slots[i].len = 0;
		pthread_mutex_unlock(l);
	}
}

/* FNV-1a, 64 bits: only to pick a slot. */
static uint64_t
bytes_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

bool
md_val_memo_get(struct md_val_memo *m, const uint8_t *key, size_t len,
    uint64_t now_ms, struct md_val_memo_verdict *out)
{
	uint64_t h;
	struct memo_slot *s;
	pthread_mutex_t *l;
	bool hit = false;

	if (m == NULL || len > MEMO_MAX_BYTES)
		return false;
	h = bytes_hash(key, len);
	s = &m->slots[h & (MEMO_SLOTS - 1)];
	l = &m->locks[(h & (MEMO_SLOTS - 1)) % MEMO_LOCKS];
	pthread_mutex_lock(l);
	if (s->bytes != NULL && s->hash == h && s->len == len &&
	    s->expire_ms > now_ms && memcmp(s->bytes, key, len) == 0) {
		*out = s->v;
		hit = true;
	}
	pthread_mutex_unlock(l);
	return hit;
}

void
md_val_memo_put(struct md_val_memo *m, const uint8_t *key, size_t len,
    uint64_t expire_ms, const struct md_val_memo_verdict *v)
{
	uint64_t h;
	struct memo_slot *s;
	pthread_mutex_t *l;
	uint8_t *copy;

	if (m == NULL || len > MEMO_MAX_BYTES || (copy = malloc(len)) == NULL)
		return;
	memcpy(copy, key, len);
	h = bytes_hash(key, len);
	s = &m->slots[h & (MEMO_SLOTS - 1)];
	l = &m->locks[(h & (MEMO_SLOTS - 1)) % MEMO_LOCKS];
	pthread_mutex_lock(l);
	free(s->bytes);
	s->bytes = copy;
	s->len = (uint32_t)len;
	s->hash = h;
	s->expire_ms = expire_ms;
	s->v = *v;
	pthread_mutex_unlock(l);
}
