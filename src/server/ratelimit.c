/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelimit.c - token buckets per client address, in a fixed hashed
 * table.  Tokens are counted in thousandths so that refills at low rates
 * are exact to the millisecond.  Worker threads share one table: a slot
 * is updated under one of RL_LOCKS mutexes (slot number modulo RL_LOCKS),
 * so two workers rarely wait for each other.
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "minidns/ratelimit.h"
#include "minidns/util.h"

#define RL_SLOTS 4096 /* a power of two */
#define RL_LOCKS 64   /* divides RL_SLOTS */

struct bucket {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint64_t last_ms; /* last refill; 0 = slot unused */
	uint64_t milli;	  /* tokens * 1000 */
};

struct md_ratelimit {
	unsigned rate;
	unsigned ipv6_prefix; /* bits of an IPv6 address that count */
	uint32_t seed;
	pthread_mutex_t lock[RL_LOCKS];
	struct bucket slot[RL_SLOTS];
};

struct md_ratelimit *
md_ratelimit_new(unsigned rate, unsigned ipv6_prefix)
{
	struct md_ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->rate = rate;
	rl->ipv6_prefix = ipv6_prefix > 128 ? 128 : ipv6_prefix;
	/* A seed per process, so that a sender cannot pick addresses that
	 * all share its victim's slot. */
	rl->seed = md_random_u32() | 1u;
	for (int i = 0; i < RL_LOCKS; i++)
		pthread_mutex_init(&rl->lock[i], NULL);
	return rl;
}

void
md_ratelimit_free(struct md_ratelimit *rl)
{
	if (rl == NULL)
		return;
	for (int i = 0; i < RL_LOCKS; i++)
		pthread_mutex_destroy(&rl->lock[i]);
	free(rl);
}

/* The bucket's key: an IPv4 address as ::ffff:a.b.c.d, an IPv6 address
 * cut to its prefix (the rest zero). */
static bool
key_of(const struct sockaddr *sa, unsigned v6_bits, uint8_t key[16])
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa->sa_family == AF_INET) {
		memcpy(key, mapped, sizeof(mapped));
		memcpy(
		    key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;

		memcpy(key, a6, 16);
		/* An IPv4 client on a dual-stack socket is one address. */
		if (IN6_IS_ADDR_V4MAPPED(a6))
			return true;
		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = v6_bits > i * 8 ? v6_bits - i * 8 : 0;

			if (keep < 8)
				key[i] &= (uint8_t)(0xff00u >> keep);
		}
		return true;
	}
	return false;
}

static uint32_t
slot_of(const struct md_ratelimit *rl, const uint8_t key[16])
{
	uint32_t h = rl->seed;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u; /* FNV-1a step */
	return h & (RL_SLOTS - 1);
}

bool
md_ratelimit_allow(
    struct md_ratelimit *rl, const struct sockaddr *from, uint64_t now_ms)
{
	uint8_t key[16];
	uint64_t cap;
	uint32_t slot;
	struct bucket *b;
	bool allow;

	if (rl == NULL || rl->rate == 0 || !key_of(from, rl->ipv6_prefix, key))
		return true;
	cap = (uint64_t)rl->rate * 1000;
	if (now_ms == 0)
		now_ms = 1; /* 0 marks an unused slot */
	slot = slot_of(rl, key);
	b = &rl->slot[slot];
	pthread_mutex_lock(&rl->lock[slot % RL_LOCKS]);
	if (b->last_ms == 0 || memcmp(b->addr, key, 16) != 0) {
		/* A new client (or one that takes the slot over) starts
		 * with a full bucket. */
		memcpy(b->addr, key, 16);
		b->milli = cap;
	} else if (now_ms > b->last_ms) {
		uint64_t add = (now_ms - b->last_ms) * rl->rate;

		b->milli = add >= cap - b->milli ? cap : b->milli + add;
	}
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	allow = b->milli >= 1000;
	if (allow)
		b->milli -= 1000;
	pthread_mutex_unlock(&rl->lock[slot % RL_LOCKS]);
	return allow;
}
