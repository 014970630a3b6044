/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hashtab.c - the one hash table (include/minidns/hashtab.h): bucket
 * arrays, insertion, removal, growth by rehash, iteration.
 *
 * Owns only the array of bucket heads.  The entries, their keys, their
 * hashes and any locking are the caller's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/hashtab.h"

/* The smallest power of two >= n (n >= 1), or 0 if there is none. */
static size_t
pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n) {
		if (p > SIZE_MAX / 2)
			return 0;
		p *= 2;
	}
	return p;
}

int
md_hashtab_init(struct md_hashtab *t, size_t nbuckets, unsigned flags)
{
	size_t nb = pow2_at_least(nbuckets ? nbuckets : 1);

	memset(t, 0, sizeof(*t));
	t->flags = flags;
	if (nb == 0)
		return -ENOMEM;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return -ENOMEM;
	t->mask = nb - 1;
	return 0;
}

void
md_hashtab_deinit(struct md_hashtab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

void
md_hashtab_clear(struct md_hashtab *t)
{
	if (t->buckets != NULL)
		memset(t->buckets, 0, (t->mask + 1) * sizeof(*t->buckets));
	t->count = 0;
}

/*
 * Double the buckets and move every node to its new chain.  A node of
 * bucket i goes to i or i + old size, so chains keep their relative
 * order reversed, which does not matter: lookups compare every node.
 */
static void
grow(struct md_hashtab *t)
{
	size_t ob = t->mask + 1, nb = ob * 2;
	struct md_hnode **nt;

	if (nb < ob || nb > SIZE_MAX / sizeof(*nt))
		return;
	nt = calloc(nb, sizeof(*nt));
	if (nt == NULL)
		return; /* harmless: longer chains */
	for (size_t i = 0; i < ob; i++) {
		struct md_hnode *n = t->buckets[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			n->next = nt[n->hash & (nb - 1)];
			nt[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = nt;
	t->mask = nb - 1;
}

void
md_hashtab_insert(struct md_hashtab *t, struct md_hnode *n, uint32_t hash)
{
	struct md_hnode **b = &t->buckets[hash & t->mask];

	n->hash = hash;
	n->next = *b;
	*b = n;
	t->count++;
	/* Load factor 1: chains stay about one node long. */
	if (t->count > t->mask + 1 && (t->flags & MD_HASHTAB_FIXED) == 0)
		grow(t);
}

bool
md_hashtab_remove(struct md_hashtab *t, struct md_hnode *n)
{
	struct md_hnode **pp;

	if (t->buckets == NULL)
		return false;
	for (pp = &t->buckets[n->hash & t->mask]; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return true;
		}
	}
	return false;
}

void
md_hashtab_iter_init(struct md_hashtab_iter *it, const struct md_hashtab *t)
{
	it->t = t;
	it->bucket = 0;
	it->next = NULL;
}

struct md_hnode *
md_hashtab_iter_next(struct md_hashtab_iter *it)
{
	const struct md_hashtab *t = it->t;
	struct md_hnode *n;

	while (it->next == NULL && t->buckets != NULL && it->bucket <= t->mask)
		it->next = t->buckets[it->bucket++];
	n = it->next;
	if (n != NULL)
		it->next = n->next; /* read now: the caller may free n */
	return n;
}
