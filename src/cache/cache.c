/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cache.c - the RRset cache and the negative cache (RFC 2308): a sharded
 * hash table with a per-shard eviction list (CLOCK) and byte budget, TTL ageing against
 * a caller-supplied clock, credibility ranking (RFC 2181 §5.4.1) and
 * serve-stale (RFC 8767).
 *
 * It owns every entry it stores (one malloc each, no pointer into a caller's
 * memory).  It does not decide what to cache or with which trust: that is
 * the resolution engine's job; nor does it build responses.
 *
 * Layout.  A key is (owner, type), owner compared case-insensitively.
 * Positive RRsets and NODATA entries of (name, type) share one slot; an
 * NXDOMAIN entry is keyed (name, 0), type 0 being reserved (RFC 6895 §3.1).
 * The shard is chosen by a hash of (lower-cased name, type); inside a shard
 * the bucket is chosen by the name hash alone, so every type of a name that
 * lands in a shard shares one chain and a flush of a name visits one chain
 * per shard.
 *
 * Locking.  Each shard has its own mutex, which every change takes.  A
 * lookup that finds fresh data takes no lock at all: it reads as a
 * "reader" (below), writing nothing another thread reads on its way, so
 * the workers' cache hits do not contend.  A lookup that finds nothing
 * fresh (a miss, stale data) takes the locks: md_cache_get() holds two
 * shard locks (the (name, type) shard and the (name, 0) shard), always taken
 * in ascending shard order; every other path holds at most one lock at a
 * time, so there is no lock-order cycle.
 *
 * Readers.  A thread that looks up entries takes a reader slot (one of
 * READERS_MAX, each on a cache line of its own, given back when the thread
 * exits).  A lookup announces in its slot the shard it reads, fences, and
 * checks that shard's writing flag; a writer, holding the shard's mutex,
 * raises the flag, fences, and waits until no slot announces the shard
 * (a lookup and a copy: well under a microsecond).  Either the reader sees
 * the flag and takes the mutex instead, or the writer sees the reader and
 * waits: no entry changes or is freed under a reader.  Nothing else is
 * written on a hit but the reader's own slot and counters and, once per
 * pass of the eviction scan, the entry's used bit.
 *
 * Eviction is CLOCK (second chance) over each shard's list: entries go in
 * at the front; a full shard looks at its tail, and an entry used since
 * it was last looked at goes back to the front with its bit cleared,
 * else it is evicted.  That approximates LRU without moving an entry on
 * every hit.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/cache.h"
#include "minidns/hashtab.h"
#include "minidns/util.h"
#include "minidns/wire.h"

/* What malloc keeps beside each block (glibc: 8-16 bytes); charged too. */
#define MALLOC_OVERHEAD 16
#define BUCKETS_MIN 16
#define SHARDS_DEFAULT 16
#define CACHELINE 64

/*
 * The node comes first (MD_HNODE_ENTRY subtracts nothing) and its hash is
 * md_name_hash(owner).  cost is 32 bits so the entry stays 64 bytes with
 * the node's padding: a payload is at most 4 GiB less the header.
 */
struct entry {
	struct md_hnode hn; /* in the shard's table */
	struct entry *prev; /* eviction list: towards the front (newest) */
	struct entry *next; /* towards the tail (looked at first); after
			     * unlink_entry(), the garbage list to free */
	uint64_t expire_ms; /* absolute, on the caller's clock */
	uint32_t cost;	    /* bytes charged to the shard */
	uint32_t rdata_len;
	uint32_t payload_len; /* bytes of data[] */
	uint32_t orig_ttl;    /* as stored (clamped): prefetch's measure */
	uint16_t type;	      /* 0 for NXDOMAIN */
	uint16_t count;
	uint16_t soa_rdlen;
	uint8_t kind; /* enum md_cache_kind */
	uint8_t trust;
	_Atomic uint8_t used; /* hit since the eviction scan last passed */
	uint8_t security;     /* enum md_security */
	uint16_t val_ede;     /* BOGUS: why */
	uint8_t owner_len;
	uint8_t soa_owner_len; /* 0: no SOA */
	bool has_soa_rdata;
	/* owner, rdata, soa_owner, soa_rdata: the view's layout as is */
	uint8_t data[];
};

struct shard {
	pthread_mutex_t lock;
	atomic_bool writing;	 /* a writer holds the lock: no readers */
	struct md_hashtab table; /* struct entry by owner hash */
	struct entry *lru_head;	 /* newest (or given a second chance) */
	struct entry *lru_tail;	 /* the eviction scan starts here */
	/* entries and bytes are live counts; hits here are the locked
	 * path's (the readers' are in md_cache.tstats) */
	struct md_cache_stats stats;
} __attribute__((aligned(CACHELINE)));

/* ---- readers ------------------------------------------------------------ */

#define READERS_MAX 128

struct reader {
	_Atomic(const struct shard *) reading; /* NULL: none */
	atomic_bool taken;
} __attribute__((aligned(CACHELINE)));

/* Process-wide: a thread reads every cache with one slot. */
static struct reader readers[READERS_MAX];
static _Atomic unsigned readers_hwm; /* slots ever taken: [0, hwm) */
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static bool reader_key_ok;
/* This thread's slot + 1; 0: none yet; UINT_MAX: none was free (the
 * thread then always takes the locks) */
static _Thread_local unsigned reader_id;

static void
reader_release(void *arg)
{
	struct reader *r = arg;

	atomic_store_explicit(&r->reading, NULL, memory_order_release);
	atomic_store_explicit(&r->taken, false, memory_order_release);
}

static void
reader_key_make(void)
{
	reader_key_ok = pthread_key_create(&reader_key, reader_release) == 0;
}

/* The calling thread's slot, taken on its first lookup; NULL: none. */
static struct reader *
reader_self(void)
{
	unsigned id = reader_id;

	if (id == 0) {
		id = UINT_MAX;
		pthread_once(&reader_once, reader_key_make);
		for (unsigned i = 0; reader_key_ok && i < READERS_MAX; i++) {
			bool no = false;
			unsigned hwm;

			if (!atomic_compare_exchange_strong(
				&readers[i].taken, &no, true))
				continue;
			if (pthread_setspecific(reader_key, &readers[i]) != 0) {
				atomic_store(&readers[i].taken, false);
				break;
			}
			hwm = atomic_load(&readers_hwm);
			while (hwm < i + 1 &&
			    !atomic_compare_exchange_weak(
				&readers_hwm, &hwm, i + 1))
				;
			id = i + 1;
			break;
		}
		reader_id = id;
	}
	return id != UINT_MAX ? &readers[id - 1] : NULL;
}

/* Start reading s: false when a writer holds it (take the lock then). */
static bool
read_begin(struct reader *r, const struct shard *s)
{
	atomic_store_explicit(&r->reading, s, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&s->writing, memory_order_acquire))
		return true;
	atomic_store_explicit(&r->reading, NULL, memory_order_relaxed);
	return false;
}

static void
read_end(struct reader *r)
{
	atomic_store_explicit(&r->reading, NULL, memory_order_release);
}

/* Take s to change it (or to read it with the lock): its mutex, then no
 * reader left in it. */
static void
shard_lock(struct shard *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	atomic_store_explicit(&s->writing, true, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	n = atomic_load(&readers_hwm);
	for (unsigned i = 0; i < n; i++) {
		unsigned spins = 0;

		while (atomic_load_explicit(
			   &readers[i].reading, memory_order_acquire) == s) {
			/* a reader preempted mid-lookup: let it run */
			if (++spins > 100)
				sched_yield();
		}
	}
}

static void
shard_unlock(struct shard *s)
{
	atomic_store_explicit(&s->writing, false, memory_order_release);
	pthread_mutex_unlock(&s->lock);
}

/*
 * The limits a reload may change (md_cache_set_limits()), read without a
 * lock by every worker: relaxed atomics, each read once per operation.
 */
struct limits {
	_Atomic size_t budget; /* bytes per shard */
	_Atomic uint32_t min_ttl, max_ttl, max_negative_ttl;
	atomic_bool serve_stale;
};

/* A reader's hits on one cache: written by that reader alone. */
struct tstats {
	_Atomic uint64_t hits;
	_Atomic uint64_t kind_hits[MD_CACHE_KIND_END];
} __attribute__((aligned(CACHELINE)));

struct md_cache {
	struct md_cache_conf conf; /* as created: shards, stale ages */
	struct limits lim;
	unsigned nshards;
	struct shard *shards;
	struct tstats *tstats; /* [READERS_MAX], by reader slot */
};

/* A hit counted by a reader (its own counters: a load and a store). */
static void
count_hit(struct md_cache *c, const struct reader *r, unsigned kind)
{
	struct tstats *t = &c->tstats[r - readers];

	atomic_store_explicit(&t->hits,
	    atomic_load_explicit(&t->hits, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	atomic_store_explicit(&t->kind_hits[kind],
	    atomic_load_explicit(&t->kind_hits[kind], memory_order_relaxed) + 1,
	    memory_order_relaxed);
}

/* Mark e used (for the eviction scan): written once per pass. */
static inline void
touch(struct entry *e)
{
	if (!atomic_load_explicit(&e->used, memory_order_relaxed))
		atomic_store_explicit(&e->used, 1, memory_order_relaxed);
}

const char *
md_trust_str(enum md_trust t)
{
	switch (t) {
	case MD_TRUST_NONE:
		return "none";
	case MD_TRUST_GLUE:
		return "glue";
	case MD_TRUST_AUTHORITY:
		return "authority";
	case MD_TRUST_ANSWER:
		return "answer";
	case MD_TRUST_AUTH_AUTHORITY:
		return "auth-authority";
	case MD_TRUST_AUTH_ANSWER:
		return "auth-answer";
	}
	return "unknown";
}

const char *
md_security_str(enum md_security s)
{
	switch (s) {
	case MD_SEC_UNCHECKED:
		return "unchecked";
	case MD_SEC_SECURE:
		return "secure";
	case MD_SEC_INSECURE:
		return "insecure";
	case MD_SEC_BOGUS:
		return "bogus";
	case MD_SEC_INDETERMINATE:
		return "indeterminate";
	}
	return "unknown";
}

void
md_cache_conf_init(struct md_cache_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->max_bytes = 64 * 1024 * 1024;
	conf->shards = SHARDS_DEFAULT;
	conf->min_ttl = 0;
	conf->max_ttl = 86400;
	conf->max_negative_ttl = 3600;
	conf->serve_stale = false;
	conf->stale_answer_ttl = 30;
	conf->stale_max_age = 86400;
}

/* ---- hashing and lookup ------------------------------------------------ */

/* Mix the type into the name hash (murmur3 finaliser) to pick a shard. */
static uint32_t
key_hash(uint32_t nhash, uint16_t type)
{
	uint32_t h = nhash ^ ((uint32_t)type * 0x9e3779b1u);

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static struct shard *
shard_of(struct md_cache *c, uint32_t nhash, uint16_t type)
{
	return &c->shards[key_hash(nhash, type) & (c->nshards - 1)];
}

static inline struct entry *
entry_of(struct md_hnode *hn)
{
	return hn != NULL ? MD_HNODE_ENTRY(hn, struct entry, hn) : NULL;
}

/* The entries of the name hash nhash in s, one after another. */
static inline struct entry *
first_of(struct shard *s, uint32_t nhash)
{
	return entry_of(md_hashtab_match(&s->table, nhash));
}

static inline struct entry *
next_of(struct entry *e)
{
	return entry_of(md_hashtab_match_next(&e->hn, e->hn.hash));
}

/* Parent-side glue, signatures and proofs: entries that live beside a
 * name's own data under the same key, never answers themselves. */
static bool
is_side(unsigned kind)
{
	return kind == MD_CACHE_PARENT || kind == MD_CACHE_SIGS ||
	    kind == MD_CACHE_PROOF;
}

/* The entry of (name, type): the name's own data (side 0), or the side
 * entry of that kind. */
static struct entry *
find(struct shard *s, const uint8_t *name, uint32_t nhash, uint16_t type,
    unsigned side)
{
	struct entry *e;

	for (e = first_of(s, nhash); e != NULL; e = next_of(e)) {
		if (e->type == type &&
		    (is_side(e->kind) ? e->kind == side : side == 0) &&
		    md_name_equal(e->data, name))
			return e;
	}
	return NULL;
}

/* ---- time -------------------------------------------------------------- */

/*
 * Remaining TTL, rounded down.  An entry with less than a second left
 * counts as expired, so no answer from the cache ever carries TTL 0.
 */
static uint32_t
remaining(const struct entry *e, uint64_t now_ms)
{
	uint64_t left;

	if (e->expire_ms <= now_ms)
		return 0;
	left = (e->expire_ms - now_ms) / 1000;
	return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

static bool
live(const struct entry *e, uint64_t now_ms)
{
	return remaining(e, now_ms) > 0;
}

/* RFC 8767 §5: expired data may be kept for stale_max_age past expiry. */
static bool
stale_usable(const struct md_cache *c, const struct entry *e, uint64_t now_ms)
{
	return atomic_load_explicit(
		   &c->lim.serve_stale, memory_order_relaxed) &&
	    now_ms < e->expire_ms + (uint64_t)c->conf.stale_max_age * 1000;
}

/* Neither live nor kept for serve-stale: may be freed at any time. */
static bool
dead(const struct md_cache *c, const struct entry *e, uint64_t now_ms)
{
	return !live(e, now_ms) && !stale_usable(c, e, now_ms);
}

/* ---- shard bookkeeping (shard lock held) -------------------------------- */

static void
lru_unlink(struct shard *s, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_front(struct shard *s, struct entry *e)
{
	e->prev = NULL;
	e->next = s->lru_head;
	if (s->lru_head != NULL)
		s->lru_head->prev = e;
	else
		s->lru_tail = e;
	s->lru_head = e;
}

/* Take e out of its shard; the caller frees it (after unlocking). */
static void
unlink_entry(struct shard *s, struct entry *e)
{
	md_hashtab_remove(&s->table, &e->hn);
	lru_unlink(s, e);
	s->stats.entries--;
	s->stats.bytes -= e->cost;
	s->stats.kind_entries[e->kind]--;
}

/* The table doubles its buckets past one entry per bucket (a failure to
 * grow is harmless: longer chains). */
static void
link_entry(struct shard *s, struct entry *e)
{
	md_hashtab_insert(&s->table, &e->hn, e->hn.hash);
	lru_push_front(s, e);
	s->stats.entries++;
	s->stats.bytes += e->cost;
	s->stats.kind_entries[e->kind]++;
	s->stats.inserts++;
}

/* Free a garbage list (linked by next, after unlink_entry()). */
static void
free_list(struct entry *e)
{
	while (e != NULL) {
		struct entry *next = e->next;

		free(e);
		e = next;
	}
}

/* ---- life cycle -------------------------------------------------------- */

struct md_cache *
md_cache_new(const struct md_cache_conf *conf)
{
	struct md_cache *c = NULL;
	unsigned i, ninit = 0;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto fail;
	if (conf != NULL)
		c->conf = *conf;
	else
		md_cache_conf_init(&c->conf);
	c->nshards = c->conf.shards == 0 ? SHARDS_DEFAULT : c->conf.shards;
	if ((c->nshards & (c->nshards - 1)) != 0)
		goto fail;
	c->conf.shards = c->nshards;
	md_cache_set_limits(c, &c->conf, 0);
	c->tstats = aligned_alloc(CACHELINE, READERS_MAX * sizeof(*c->tstats));
	if (c->tstats == NULL)
		goto fail;
	memset(c->tstats, 0, READERS_MAX * sizeof(*c->tstats));
	c->shards = aligned_alloc(CACHELINE, c->nshards * sizeof(*c->shards));
	if (c->shards == NULL)
		goto fail;
	memset(c->shards, 0, c->nshards * sizeof(*c->shards));
	for (i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];

		if (md_hashtab_init(&s->table, BUCKETS_MIN, 0) != 0)
			goto fail;
		if (pthread_mutex_init(&s->lock, NULL) != 0) {
			md_hashtab_deinit(&s->table);
			goto fail;
		}
		ninit++;
	}
	return c;
fail:
	if (c != NULL && c->shards != NULL) {
		for (i = 0; i < ninit; i++) {
			pthread_mutex_destroy(&c->shards[i].lock);
			md_hashtab_deinit(&c->shards[i].table);
		}
		free(c->shards);
	}
	if (c != NULL)
		free(c->tstats);
	free(c);
	return NULL;
}

/* Entries of s that would outlive the new caps expire by them now. */
static void
shard_cap_expiry(
    struct shard *s, uint32_t max_ttl, uint32_t max_neg, uint64_t now_ms)
{
	shard_lock(s);
	for (struct entry *e = s->lru_head; e != NULL; e = e->next) {
		bool data =
		    e->kind == MD_CACHE_RRSET || e->kind == MD_CACHE_PARENT;
		uint64_t cap =
		    now_ms + (uint64_t)(data ? max_ttl : max_neg) * 1000;

		if (e->expire_ms > cap) {
			e->expire_ms = cap;
			e->orig_ttl = (uint32_t)((cap - now_ms) / 1000);
		}
	}
	shard_unlock(s);
}

void
md_cache_set_limits(
    struct md_cache *c, const struct md_cache_conf *conf, uint64_t now_ms)
{
	uint32_t old_max = atomic_load(&c->lim.max_ttl);
	uint32_t old_neg = atomic_load(&c->lim.max_negative_ttl);

	/* A smaller budget takes effect as entries are stored: each store
	 * evicts from its shard until the shard fits. */
	atomic_store_explicit(
	    &c->lim.budget, conf->max_bytes / c->nshards, memory_order_relaxed);
	atomic_store_explicit(
	    &c->lim.min_ttl, conf->min_ttl, memory_order_relaxed);
	atomic_store_explicit(
	    &c->lim.max_ttl, conf->max_ttl, memory_order_relaxed);
	atomic_store_explicit(&c->lim.max_negative_ttl, conf->max_negative_ttl,
	    memory_order_relaxed);
	atomic_store_explicit(
	    &c->lim.serve_stale, conf->serve_stale, memory_order_relaxed);
	/* Lower caps apply to what is cached already: nothing is served
	 * longer than the cap that holds now (cache and responder agree). */
	if (conf->max_ttl < old_max || conf->max_negative_ttl < old_neg) {
		for (unsigned i = 0; i < c->nshards; i++)
			shard_cap_expiry(&c->shards[i], conf->max_ttl,
			    conf->max_negative_ttl, now_ms);
	}
}

uint32_t
md_ttl_clamp(uint32_t ttl, uint32_t min, uint32_t max)
{
	if (ttl < min)
		ttl = min;
	return ttl > max ? max : ttl;
}

void
md_cache_free(struct md_cache *c)
{
	unsigned i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];

		while (s->lru_head != NULL) {
			struct entry *e = s->lru_head;

			s->lru_head = e->next;
			free(e);
		}
		md_hashtab_deinit(&s->table);
		pthread_mutex_destroy(&s->lock);
	}
	free(c->shards);
	free(c->tstats);
	free(c);
}

/* ---- storing ----------------------------------------------------------- */

/*
 * Entries of 'name' in shard s that contradict an entry of kind 'kind' being
 * stored: the NXDOMAIN entry when storing data (RRset or NODATA: the name
 * exists), every other entry of the name when storing NXDOMAIN.
 */
static bool
contradicts(const struct entry *e, enum md_cache_kind kind)
{
	/* Side entries and failures say nothing of the name's data (the
	 * signatures and proofs go with their data's entry). */
	if (is_side(e->kind) || is_side(kind) || kind == MD_CACHE_SERVFAIL)
		return false;
	if (kind == MD_CACHE_NXDOMAIN)
		return e->kind != MD_CACHE_NXDOMAIN;
	return e->kind == MD_CACHE_NXDOMAIN;
}

/* Does a live contradicting entry of higher trust exist in s? */
static bool
shard_outranks(struct shard *s, const uint8_t *name, uint32_t nhash,
    enum md_cache_kind kind, enum md_trust trust, uint64_t now_ms)
{
	struct entry *e;
	bool found = false;

	shard_lock(s);
	for (e = first_of(s, nhash); e != NULL; e = next_of(e)) {
		if (contradicts(e, kind) && live(e, now_ms) &&
		    e->trust > trust && md_name_equal(e->data, name)) {
			found = true;
			break;
		}
	}
	shard_unlock(s);
	return found;
}

/*
 * Remove the contradicting entries of 'name' in s that the new entry beats:
 * expired ones (stale included: newer data exists) and live ones of lower or
 * equal trust (RFC 2181 §5.4.1).
 */
static void
shard_purge(struct shard *s, const uint8_t *name, uint32_t nhash,
    enum md_cache_kind kind, enum md_trust trust, uint64_t now_ms)
{
	struct entry *e, *next, *garbage = NULL;

	shard_lock(s);
	for (e = first_of(s, nhash); e != NULL; e = next) {
		next = next_of(e);
		if (!contradicts(e, kind) ||
		    (live(e, now_ms) && e->trust > trust) ||
		    !md_name_equal(e->data, name))
			continue;
		unlink_entry(s, e);
		e->next = garbage;
		garbage = e;
	}
	shard_unlock(s);
	free_list(garbage);
}

/*
 * Insert e (allocated and filled by the caller) into its shard.  Returns 0,
 * or MD_ENOTFOUND with e freed when a live entry of higher trust holds the
 * key.  The size check against the budget was done by the caller.
 */
static int
insert(struct md_cache *c, struct entry *e, uint64_t now_ms)
{
	struct shard *s = shard_of(c, e->hn.hash, e->type);
	struct entry *old, *garbage = NULL;
	size_t budget;
	int rc = 0;

	shard_lock(s);
	old = find(
	    s, e->data, e->hn.hash, e->type, is_side(e->kind) ? e->kind : 0);
	/* RFC 2181 §5.4.1: replace only with data of equal or higher trust. */
	if (old != NULL && live(old, now_ms) && old->trust > e->trust) {
		rc = MD_ENOTFOUND;
		goto cleanup;
	}
	/* A failure does not push out data that serve-stale may still
	 * answer with (RFC 8767: stale data beats SERVFAIL). */
	if (old != NULL && e->kind == MD_CACHE_SERVFAIL &&
	    old->kind == MD_CACHE_RRSET && stale_usable(c, old, now_ms)) {
		rc = MD_ENOTFOUND;
		goto cleanup;
	}
	if (old != NULL) {
		unlink_entry(s, old);
		old->next = garbage;
		garbage = old;
	}
	budget = atomic_load_explicit(&c->lim.budget, memory_order_relaxed);
	/* CLOCK: a used tail entry gets a second chance at the front (at
	 * most one pass over the shard, which clears every bit). */
	for (uint64_t chances = s->stats.entries;
	     s->stats.bytes + e->cost > budget && s->lru_tail != NULL;) {
		struct entry *victim = s->lru_tail;

		if (chances > 0 &&
		    atomic_load_explicit(&victim->used, memory_order_relaxed)) {
			chances--;
			atomic_store_explicit(
			    &victim->used, 0, memory_order_relaxed);
			lru_unlink(s, victim);
			lru_push_front(s, victim);
			continue;
		}
		unlink_entry(s, victim);
		s->stats.evictions++;
		victim->next = garbage;
		garbage = victim;
	}
	link_entry(s, e);
	e = NULL;
cleanup:
	shard_unlock(s);
	free_list(garbage);
	free(e);
	return rc;
}

/*
 * Everything both kinds of put share: size check, allocation, the check
 * against contradicting entries of higher trust, insertion, and the purge
 * of contradicting entries the new one beats.  soa_owner_len is 0 when
 * there is no SOA.
 */
static int
store(struct md_cache *c, const uint8_t *owner, size_t owner_len, uint16_t type,
    enum md_cache_kind kind, uint32_t ttl, const uint8_t *rdata,
    uint32_t rdata_len, uint16_t count, const uint8_t *soa_owner,
    size_t soa_owner_len, const uint8_t *soa_rdata, uint16_t soa_rdlen,
    enum md_trust trust, uint64_t now_ms)
{
	struct entry *e = NULL;
	uint32_t nhash = md_name_hash(owner);
	size_t payload, cost;
	unsigned i;
	int rc;

	payload = owner_len + (size_t)rdata_len + soa_owner_len;
	if (soa_rdata != NULL)
		payload += soa_rdlen;
	cost = sizeof(*e) + payload + MALLOC_OVERHEAD;
	if (cost > atomic_load_explicit(&c->lim.budget, memory_order_relaxed) ||
	    cost > UINT32_MAX)
		return MD_ENOSPACE;

	/*
	 * Data of lower trust must not hide a live NXDOMAIN of higher trust,
	 * nor an NXDOMAIN deny a name that better data shows exists.
	 */
	if (is_side(kind) || kind == MD_CACHE_SERVFAIL) {
		/* neither contradicts nor is contradicted by the name's data */
	} else if (kind == MD_CACHE_NXDOMAIN) {
		for (i = 0; i < c->nshards; i++) {
			if (shard_outranks(&c->shards[i], owner, nhash, kind,
				trust, now_ms))
				return MD_ENOTFOUND;
		}
	} else if (shard_outranks(shard_of(c, nhash, 0), owner, nhash, kind,
		       trust, now_ms)) {
		return MD_ENOTFOUND;
	}

	e = malloc(sizeof(*e) + payload);
	if (e == NULL)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->expire_ms = now_ms + (uint64_t)ttl * 1000;
	e->orig_ttl = ttl;
	e->cost = (uint32_t)cost;
	e->hn.hash = nhash;
	e->rdata_len = rdata_len;
	e->payload_len = (uint32_t)payload;
	e->type = type;
	e->count = count;
	e->kind = (uint8_t)kind;
	e->trust = (uint8_t)trust;
	e->owner_len = (uint8_t)owner_len;
	e->soa_owner_len = (uint8_t)soa_owner_len;
	e->has_soa_rdata = soa_rdata != NULL;
	e->soa_rdlen = soa_rdata != NULL ? soa_rdlen : 0;
	memcpy(e->data, owner, owner_len);
	if (rdata_len > 0)
		memcpy(e->data + owner_len, rdata, rdata_len);
	if (soa_owner_len > 0)
		memcpy(
		    e->data + owner_len + rdata_len, soa_owner, soa_owner_len);
	if (soa_rdata != NULL && soa_rdlen > 0)
		memcpy(e->data + owner_len + rdata_len + soa_owner_len,
		    soa_rdata, soa_rdlen);

	rc = insert(c, e, now_ms);
	if (rc != 0)
		return rc;

	if (is_side(kind) || kind == MD_CACHE_SERVFAIL) {
		/* nothing to purge */
	} else if (kind == MD_CACHE_NXDOMAIN) {
		for (i = 0; i < c->nshards; i++)
			shard_purge(
			    &c->shards[i], owner, nhash, kind, trust, now_ms);
	} else {
		shard_purge(
		    shard_of(c, nhash, 0), owner, nhash, kind, trust, now_ms);
	}
	return 0;
}

/* True when rdata is exactly 'count' [u16 len][bytes] records. */
static bool
rdata_ok(const uint8_t *rdata, uint32_t rdata_len, uint16_t count)
{
	size_t off = 0;
	unsigned i;

	if (rdata == NULL || count == 0)
		return false;
	for (i = 0; i < count; i++) {
		if (off + 2 > rdata_len)
			return false;
		off += 2 + (size_t)md_read_u16(rdata + off);
		if (off > rdata_len)
			return false;
	}
	return off == rdata_len;
}

/* An RRset (the name's own, or parent-side glue), TTL clamped to the
 * cache's limits; a TTL still 0 is not stored. */
static int
store_data(struct md_cache *c, const uint8_t *owner, size_t owner_len,
    uint16_t type, enum md_cache_kind kind, uint32_t ttl, const uint8_t *rdata,
    uint32_t rdata_len, uint16_t count, enum md_trust trust, uint64_t now_ms)
{
	/* cache-min-ttl first, so cache-max-ttl wins if they cross. */
	ttl = md_ttl_clamp(ttl,
	    atomic_load_explicit(&c->lim.min_ttl, memory_order_relaxed),
	    atomic_load_explicit(&c->lim.max_ttl, memory_order_relaxed));
	/* RFC 1035 §3.2.1: TTL 0 means use once, do not cache. */
	if (ttl == 0)
		return 0;
	return store(c, owner, owner_len, type, kind, ttl, rdata, rdata_len,
	    count, NULL, 0, NULL, 0, trust, now_ms);
}

int
md_cache_put(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len, uint16_t count,
    enum md_trust trust, uint64_t now_ms)
{
	size_t owner_len = owner != NULL ? md_name_len(owner) : 0;

	if (owner_len == 0 || type == 0 || trust > MD_TRUST_AUTH_ANSWER ||
	    !rdata_ok(rdata, rdata_len, count))
		return -EINVAL;
	return store_data(c, owner, owner_len, type, MD_CACHE_RRSET, ttl, rdata,
	    rdata_len, count, trust, now_ms);
}

int
md_cache_put_negative(struct md_cache *c, const uint8_t *qname, uint16_t qtype,
    bool nxdomain, uint32_t ttl, const uint8_t *soa_owner,
    const uint8_t *soa_rdata, uint16_t soa_rdlen, enum md_trust trust,
    uint64_t now_ms)
{
	size_t qlen = qname != NULL ? md_name_len(qname) : 0;
	size_t slen = 0;

	if (qlen == 0 || (!nxdomain && qtype == 0) ||
	    trust > MD_TRUST_AUTH_ANSWER)
		return -EINVAL;
	if (soa_owner != NULL) {
		slen = md_name_len(soa_owner);
		if (slen == 0)
			return -EINVAL;
	} else {
		soa_rdata = NULL;
	}
	/* RFC 2308 §5: the caller computed the TTL; we only cap it. */
	ttl = md_ttl_clamp(ttl, 0,
	    atomic_load_explicit(
		&c->lim.max_negative_ttl, memory_order_relaxed));
	if (ttl == 0)
		return 0;
	if (nxdomain)
		return store(c, qname, qlen, 0, MD_CACHE_NXDOMAIN, ttl, NULL, 0,
		    0, soa_owner, slen, soa_rdata, soa_rdlen, trust, now_ms);
	return store(c, qname, qlen, qtype, MD_CACHE_NODATA, ttl, NULL, 0, 0,
	    soa_owner, slen, soa_rdata, soa_rdlen, trust, now_ms);
}

int
md_cache_put_failure(struct md_cache *c, const uint8_t *qname, uint16_t qtype,
    uint32_t ttl, uint16_t ede, uint64_t now_ms)
{
	size_t qlen = qname != NULL ? md_name_len(qname) : 0;

	if (qlen == 0 || qtype == 0)
		return -EINVAL;
	if (ttl == 0)
		return 0;
	/* The EDE code rides in 'count', which a failure has no use for. */
	return store(c, qname, qlen, qtype, MD_CACHE_SERVFAIL, ttl, NULL, 0,
	    ede, NULL, 0, NULL, 0, MD_TRUST_NONE, now_ms);
}

int
md_cache_put_parent(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len, uint16_t count,
    uint64_t now_ms)
{
	size_t owner_len = owner != NULL ? md_name_len(owner) : 0;

	if (owner_len == 0 || (type != MD_TYPE_A && type != MD_TYPE_AAAA) ||
	    !rdata_ok(rdata, rdata_len, count))
		return -EINVAL;
	return store_data(c, owner, owner_len, type, MD_CACHE_PARENT, ttl,
	    rdata, rdata_len, count, MD_TRUST_GLUE, now_ms);
}

/* ---- looking up -------------------------------------------------------- */

/*
 * Point the view into 'base', a copy of e->data (md_cache_get) or e->data
 * itself (md_cache_walk, under the shard lock), and age it: the one place
 * a view is built.
 */
static void
fill_view(const struct md_cache *c, const struct entry *e, const uint8_t *base,
    bool stale, uint64_t now_ms, struct md_cache_view *out)
{
	size_t off;

	memset(out, 0, sizeof(*out));
	out->kind = (enum md_cache_kind)e->kind;
	out->type = e->type;
	out->count = e->count;
	out->trust = (enum md_trust)e->trust;
	out->security = (enum md_security)e->security;
	if (e->security == MD_SEC_BOGUS || e->security == MD_SEC_INSECURE)
		out->ede = e->val_ede;
	out->owner = base;
	off = e->owner_len;
	if (e->kind == MD_CACHE_SERVFAIL) {
		out->count = 0;
		out->ede = e->count;
	}
	if (e->kind == MD_CACHE_RRSET || is_side(e->kind)) {
		out->rdata = base + off;
		out->rdata_len = e->rdata_len;
	}
	off += e->rdata_len;
	if (e->soa_owner_len > 0) {
		out->soa_owner = base + off;
		off += e->soa_owner_len;
		if (e->has_soa_rdata) {
			out->soa_rdata = base + off;
			out->soa_rdlen = e->soa_rdlen;
		}
	}
	out->stale = stale;
	/* RFC 8767 §4: a stale answer carries stale_answer_ttl. */
	out->ttl = stale ? c->conf.stale_answer_ttl : remaining(e, now_ms);
	out->orig_ttl = e->orig_ttl;
}

static int
copy_out(const struct md_cache *c, const struct entry *e, bool stale,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out)
{
	if (buf == NULL || buflen < e->payload_len)
		return MD_ENOSPACE;
	memcpy(buf, e->data, e->payload_len);
	fill_view(c, e, buf, stale, now_ms, out);
	return 0;
}

/* Drop an entry that can never be returned again (lock held). */
static struct entry *
reap(struct md_cache *c, struct shard *s, struct entry *e, uint64_t now_ms)
{
	if (e == NULL || !dead(c, e, now_ms))
		return e;
	unlink_entry(s, e);
	free(e);
	return NULL;
}

/*
 * A lock-free lookup of fresh data of (owner, type, side) in s, as reader
 * r: 0 (copied out, a hit), MD_ENOSPACE (buf too small), MD_ENOTFOUND
 * (nothing fresh: a miss for this shard), or -EAGAIN (a writer holds s:
 * ask again with the lock).  The side entries' hits are not counted.
 */
static int
read_fresh(struct md_cache *c, struct reader *r, struct shard *s,
    const uint8_t *owner, uint32_t nhash, uint16_t type, unsigned side,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out)
{
	struct entry *e;
	int rc = MD_ENOTFOUND;

	if (!read_begin(r, s))
		return -EAGAIN;
	e = find(s, owner, nhash, type, side);
	if (e != NULL && live(e, now_ms)) {
		rc = copy_out(c, e, false, now_ms, buf, buflen, out);
		if (rc == 0) {
			touch(e);
			if (side == 0)
				count_hit(c, r, e->kind);
		}
	}
	read_end(r);
	return rc;
}

int
md_cache_get(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint64_t now_ms, bool allow_stale, uint8_t *buf, size_t buflen,
    struct md_cache_view *out)
{
	if (owner == NULL || md_name_len(owner) == 0)
		return -EINVAL;
	return md_cache_get_h(c, owner, md_name_hash(owner), type, now_ms,
	    allow_stale, buf, buflen, out);
}

int
md_cache_get_h(struct md_cache *c, const uint8_t *owner, uint32_t nhash,
    uint16_t type, uint64_t now_ms, bool allow_stale, uint8_t *buf,
    size_t buflen, struct md_cache_view *out)
{
	struct shard *s1, *s2;
	struct entry *e1 = NULL, *e2 = NULL, *hit = NULL;
	struct reader *r;
	bool stale = false;
	int rc = MD_ENOTFOUND;

	if (owner == NULL || md_name_len(owner) == 0 || out == NULL)
		return -EINVAL;
	s1 = shard_of(c, nhash, type);
	s2 = shard_of(c, nhash, 0);
	/* The common case, fresh data: of the type (it wins whatever the
	 * name's NXDOMAIN entry says), else the name's NXDOMAIN; read without
	 * a lock.  Anything else (nothing fresh, a writer busy in the shard,
	 * no reader slot) takes the locks below. */
	if (type != 0 && (r = reader_self()) != NULL) {
		rc = read_fresh(
		    c, r, s1, owner, nhash, type, 0, now_ms, buf, buflen, out);
		if (rc == MD_ENOTFOUND && s2 != s1)
			rc = read_fresh(c, r, s2, owner, nhash, 0, 0, now_ms,
			    buf, buflen, out);
		if (rc == 0 || rc == MD_ENOSPACE)
			return rc;
		rc = MD_ENOTFOUND;
	}
	/* Both locks, lower shard first: one consistent view of the name. */
	if (s1 <= s2)
		shard_lock(s1);
	if (s2 != s1)
		shard_lock(s2);
	if (s1 > s2)
		shard_lock(s1);

	if (type != 0)
		e1 = reap(c, s1, find(s1, owner, nhash, type, 0), now_ms);
	e2 = reap(c, s2, find(s2, owner, nhash, 0, 0), now_ms);

	/* Fresh data first: RRset or NODATA of the type, then NXDOMAIN. */
	if (e1 != NULL && live(e1, now_ms)) {
		hit = e1;
	} else if (e2 != NULL && live(e2, now_ms)) {
		hit = e2;
	} else if (allow_stale &&
	    atomic_load_explicit(&c->lim.serve_stale, memory_order_relaxed)) {
		/* RFC 8767 §4: stale data only when nothing fresh exists. */
		hit = e1 != NULL ? e1 : e2;
		stale = hit != NULL;
	}

	if (hit == NULL) {
		s1->stats.misses++;
		goto cleanup;
	}
	rc = copy_out(c, hit, stale, now_ms, buf, buflen, out);
	if (rc != 0)
		goto cleanup;
	touch(hit);
	s1->stats.hits++;
	s1->stats.kind_hits[hit->kind]++;
cleanup:
	if (s2 != s1)
		shard_unlock(s2);
	shard_unlock(s1);
	return rc;
}

/* A side entry of (owner, type), live. */
static int
get_side(struct md_cache *c, const uint8_t *owner, uint16_t type, unsigned side,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out)
{
	uint32_t nhash;
	struct shard *s;
	struct entry *e;
	struct reader *r;
	int rc;

	if (owner == NULL || md_name_len(owner) == 0 || out == NULL)
		return -EINVAL;
	nhash = md_name_hash(owner);
	s = shard_of(c, nhash, type);
	r = reader_self();
	if (r != NULL) {
		rc = read_fresh(c, r, s, owner, nhash, type, side, now_ms, buf,
		    buflen, out);
		if (rc != -EAGAIN)
			return rc;
	}
	shard_lock(s);
	e = find(s, owner, nhash, type, side);
	rc = MD_ENOTFOUND;
	if (e != NULL && live(e, now_ms))
		rc = copy_out(c, e, false, now_ms, buf, buflen, out);
	shard_unlock(s);
	return rc;
}

int
md_cache_get_parent(struct md_cache *c, const uint8_t *owner, uint16_t type,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out)
{
	return get_side(
	    c, owner, type, MD_CACHE_PARENT, now_ms, buf, buflen, out);
}

int
md_cache_put_sigs(struct md_cache *c, const uint8_t *owner, uint16_t covered,
    uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len, uint16_t count,
    enum md_trust trust, uint64_t now_ms)
{
	size_t owner_len = owner != NULL ? md_name_len(owner) : 0;

	if (owner_len == 0 || covered == 0 || trust > MD_TRUST_AUTH_ANSWER ||
	    !rdata_ok(rdata, rdata_len, count))
		return -EINVAL;
	return store_data(c, owner, owner_len, covered, MD_CACHE_SIGS, ttl,
	    rdata, rdata_len, count, trust, now_ms);
}

int
md_cache_get_sigs(struct md_cache *c, const uint8_t *owner, uint16_t covered,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out)
{
	return get_side(
	    c, owner, covered, MD_CACHE_SIGS, now_ms, buf, buflen, out);
}

/* The length of the uncompressed name at p, within max bytes; 0 if none. */
static size_t
name_len_within(const uint8_t *p, size_t max)
{
	size_t off = 0;

	while (off < max && off < MD_NAME_MAX) {
		if (p[off] == 0)
			return off + 1;
		if (p[off] > 63)
			return 0;
		off += 1 + (size_t)p[off];
	}
	return 0;
}

/* A proof record: [u16 len][owner][u16 type][rdata]; false if malformed. */
static bool
proof_rr(const uint8_t *p, uint16_t len, const uint8_t **owner, uint16_t *type,
    const uint8_t **rdata, uint16_t *rdlen)
{
	size_t nl = name_len_within(p, len);

	if (nl == 0 || nl + 2 > len)
		return false;
	*owner = p;
	*type = md_read_u16(p + nl);
	*rdata = p + nl + 2;
	*rdlen = (uint16_t)(len - nl - 2);
	return true;
}

int
md_cache_put_proof(struct md_cache *c, const uint8_t *qname, uint16_t qtype,
    uint32_t ttl, const uint8_t *rrs, uint32_t rrs_len, uint16_t count,
    enum md_trust trust, uint64_t now_ms)
{
	size_t qlen = qname != NULL ? md_name_len(qname) : 0;
	const uint8_t *o, *rd;
	uint16_t t, rl;

	if (qlen == 0 || trust > MD_TRUST_AUTH_ANSWER ||
	    !rdata_ok(rrs, rrs_len, count))
		return -EINVAL;
	for (uint32_t off = 0; off < rrs_len;) {
		uint16_t len = md_read_u16(rrs + off);

		if (!proof_rr(rrs + off + 2, len, &o, &t, &rd, &rl))
			return -EINVAL;
		off += 2 + (uint32_t)len;
	}
	/* The negative entry's TTL, already clamped by its caller. */
	if (ttl == 0)
		return 0;
	return store(c, qname, qlen, qtype, MD_CACHE_PROOF, ttl, rrs, rrs_len,
	    count, NULL, 0, NULL, 0, trust, now_ms);
}

int
md_cache_get_proof(struct md_cache *c, const uint8_t *qname, uint16_t qtype,
    uint64_t now_ms, uint8_t *buf, size_t buflen, struct md_cache_view *out)
{
	return get_side(
	    c, qname, qtype, MD_CACHE_PROOF, now_ms, buf, buflen, out);
}

const uint8_t *
md_cache_proof_next(const struct md_cache_view *v, const uint8_t *prev,
    const uint8_t **owner, uint16_t *type, const uint8_t **rdata,
    uint16_t *rdlen)
{
	const uint8_t *p =
	    prev == NULL ? v->rdata : prev + 2 + md_read_u16(prev);

	if (v->rdata == NULL || p >= v->rdata + v->rdata_len)
		return NULL;
	if (!proof_rr(p + 2, md_read_u16(p), owner, type, rdata, rdlen))
		return NULL;
	return p;
}

/* ---- flush and stats --------------------------------------------------- */

/* Take e out of its shard onto the garbage list (freed after the lock).
 * A flush is not an eviction: stats.evictions stays. */
static struct entry *
take(struct shard *s, struct entry *e, struct entry *garbage)
{
	unlink_entry(s, e);
	e->next = garbage;
	return e;
}

int
md_cache_set_security(struct md_cache *c, const uint8_t *owner, uint16_t type,
    const uint8_t *rdata, uint32_t rdata_len, enum md_security sec,
    uint16_t ede, uint32_t ttl_cap, uint64_t now_ms)
{
	uint32_t nhash;
	struct shard *s;
	struct entry *e;
	int rc = MD_ENOTFOUND;

	if (owner == NULL || md_name_len(owner) == 0)
		return -EINVAL;
	nhash = md_name_hash(owner);
	s = shard_of(c, nhash, type);
	shard_lock(s);
	e = find(s, owner, nhash, type, 0);
	if (e != NULL && live(e, now_ms) &&
	    (rdata != NULL
		    ? e->kind == MD_CACHE_RRSET && e->rdata_len == rdata_len &&
			memcmp(e->data + e->owner_len, rdata, rdata_len) == 0
		    : e->kind == MD_CACHE_NODATA ||
			e->kind == MD_CACHE_NXDOMAIN)) {
		e->security = (uint8_t)sec;
		e->val_ede = ede;
		if (ttl_cap > 0 &&
		    e->expire_ms > now_ms + (uint64_t)ttl_cap * 1000)
			e->expire_ms = now_ms + (uint64_t)ttl_cap * 1000;
		rc = 0;
	}
	shard_unlock(s);
	return rc;
}

void
md_cache_flush(struct md_cache *c, const uint8_t *name)
{
	uint32_t nhash = 0;
	unsigned i;

	if (name != NULL) {
		if (md_name_len(name) == 0)
			return;
		nhash = md_name_hash(name);
	}
	/* A name's types are spread over the shards: visit every one. */
	for (i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		struct entry *e, *next, *garbage = NULL;

		shard_lock(s);
		if (name == NULL) {
			/* The eviction list is the garbage list already. */
			garbage = s->lru_head;
			md_hashtab_clear(&s->table);
			s->lru_head = s->lru_tail = NULL;
			s->stats.entries = 0;
			s->stats.bytes = 0;
			memset(s->stats.kind_entries, 0,
			    sizeof(s->stats.kind_entries));
		} else {
			for (e = first_of(s, nhash); e != NULL; e = next) {
				next = next_of(e);
				if (md_name_equal(e->data, name))
					garbage = take(s, e, garbage);
			}
		}
		shard_unlock(s);
		free_list(garbage);
	}
}

void
md_cache_flush_zone(struct md_cache *c, const uint8_t *zone)
{
	unsigned i;

	if (zone == NULL || md_name_len(zone) == 0)
		return;
	/* Names below the zone hash anywhere: walk every shard's list. */
	for (i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		struct entry *e, *next, *garbage = NULL;

		shard_lock(s);
		for (e = s->lru_head; e != NULL; e = next) {
			next = e->next;
			if (md_name_is_subdomain(e->data, zone))
				garbage = take(s, e, garbage);
		}
		shard_unlock(s);
		free_list(garbage);
	}
}

void
md_cache_walk(struct md_cache *c, uint64_t now_ms,
    void (*cb)(void *arg, const struct md_cache_view *v), void *arg)
{
	struct md_cache_view v;
	unsigned i;

	for (i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		const struct entry *e;

		shard_lock(s);
		/* Newest (or last given a second chance) first; the lock
		 * keeps e->data valid. */
		for (e = s->lru_head; e != NULL; e = e->next) {
			if (live(e, now_ms))
				fill_view(c, e, e->data, false, now_ms, &v);
			else if (stale_usable(c, e, now_ms))
				fill_view(c, e, e->data, true, now_ms, &v);
			else
				continue;
			cb(arg, &v);
		}
		shard_unlock(s);
	}
}

void
md_cache_get_stats(struct md_cache *c, struct md_cache_stats *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < READERS_MAX; i++) {
		struct tstats *t = &c->tstats[i];

		out->hits +=
		    atomic_load_explicit(&t->hits, memory_order_relaxed);
		for (unsigned k = 0; k < MD_CACHE_KIND_END; k++)
			out->kind_hits[k] += atomic_load_explicit(
			    &t->kind_hits[k], memory_order_relaxed);
	}
	for (i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];

		shard_lock(s);
		out->hits += s->stats.hits;
		out->misses += s->stats.misses;
		out->inserts += s->stats.inserts;
		out->evictions += s->stats.evictions;
		out->entries += s->stats.entries;
		out->bytes += s->stats.bytes;
		for (unsigned k = 0; k < MD_CACHE_KIND_END; k++) {
			out->kind_entries[k] += s->stats.kind_entries[k];
			out->kind_hits[k] += s->stats.kind_hits[k];
		}
		shard_unlock(s);
	}
}
