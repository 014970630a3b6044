/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hashtab.h - the one hash table of the tree: intrusive and chained.
 *
 * The caller embeds a struct md_hnode in its own struct and supplies a
 * 32-bit hash when it inserts; the table keeps the hash in the node and
 * never allocates per entry (only its array of bucket heads).  Buckets
 * are a power of two.  A growing table doubles its buckets when it holds
 * more entries than buckets (load factor 1); a fixed table never
 * allocates after md_hashtab_init(), so it suits a table that must not
 * fail or allocate while it serves.
 *
 * A lookup walks the nodes of one hash in the caller's own loop, so the
 * caller's comparison inlines (faster on the query path than a callback;
 * doc/benchmarks.md):
 *
 *	struct md_hnode *hn;
 *
 *	for (hn = md_hashtab_match(&t, h); hn != NULL;
 *	     hn = md_hashtab_match_next(hn, h)) {
 *		struct thing *x = MD_HNODE_ENTRY(hn, struct thing, hn);
 *
 *		if (thing_equal(x, key))
 *			return x;
 *	}
 *
 * The table is not thread-safe: its owner locks around it if it must.
 * Entries belong to the caller: md_hashtab_deinit() frees the buckets
 * only.  Nothing here knows about DNS (layer 0).
 */
#ifndef MINIDNS_HASHTAB_H
#define MINIDNS_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Embedded in each entry; the table's fields, read-only to the caller. */
struct md_hnode {
	struct md_hnode *next; /* chain */
	uint32_t hash;	       /* as given to md_hashtab_insert() */
};

/* The entry of type 'type' whose member 'member' is the node 'hn'. */
#define MD_HNODE_ENTRY(hn, type, member) \
	((type *)(void *)((char *)(hn)-offsetof(type, member)))

enum md_hashtab_flags {
	MD_HASHTAB_FIXED = 1, /* never grow: no allocation after init */
};

struct md_hashtab {
	struct md_hnode **buckets;
	size_t mask;  /* buckets - 1 */
	size_t count; /* entries */
	unsigned flags;
};

/*
 * Make an empty table of at least 'nbuckets' buckets (rounded up to a
 * power of two; at least 1), with 'flags' (0 or MD_HASHTAB_FIXED).
 * Returns 0 or -ENOMEM (then the table is empty and md_hashtab_deinit()
 * is harmless).
 */
int md_hashtab_init(struct md_hashtab *t, size_t nbuckets, unsigned flags);
/* Free the buckets (not the entries); the table is left empty. */
void md_hashtab_deinit(struct md_hashtab *t);
/* Forget every entry (the caller frees them), keeping the buckets. */
void md_hashtab_clear(struct md_hashtab *t);

/*
 * Insert n with 'hash' at the head of its chain; nothing is compared, so
 * the caller looks for an equal entry first if keys are unique.  A growing
 * table may double its buckets here; if that allocation fails the table
 * keeps its size (longer chains), so an insertion never fails.
 */
void md_hashtab_insert(struct md_hashtab *t, struct md_hnode *n, uint32_t hash);
/* Take n out of the table; false (and nothing changed) if it is not in. */
bool md_hashtab_remove(struct md_hashtab *t, struct md_hnode *n);

static inline size_t
md_hashtab_count(const struct md_hashtab *t)
{
	return t->count;
}

static inline size_t
md_hashtab_buckets(const struct md_hashtab *t)
{
	return t->buckets != NULL ? t->mask + 1 : 0;
}

/* The first node of 'hash' in the table, or NULL. */
static inline struct md_hnode *
md_hashtab_match(const struct md_hashtab *t, uint32_t hash)
{
	struct md_hnode *n = t->buckets[hash & t->mask];

	while (n != NULL && n->hash != hash)
		n = n->next;
	return n;
}

/* The node of 'hash' after n in its chain, or NULL. */
static inline struct md_hnode *
md_hashtab_match_next(const struct md_hnode *n, uint32_t hash)
{
	n = n->next;
	while (n != NULL && n->hash != hash)
		n = n->next;
	return (struct md_hnode *)n;
}

/*
 * Walk every entry, in no particular order:
 *
 *	md_hashtab_iter_init(&it, &t);
 *	while ((hn = md_hashtab_iter_next(&it)) != NULL)
 *		...
 *
 * The node just returned may be removed (and freed); no other change may
 * be made to the table during a walk.
 */
struct md_hashtab_iter {
	const struct md_hashtab *t;
	size_t bucket; /* the next bucket to read */
	struct md_hnode *next;
};

void md_hashtab_iter_init(
    struct md_hashtab_iter *it, const struct md_hashtab *t);
struct md_hnode *md_hashtab_iter_next(struct md_hashtab_iter *it);

#endif /* MINIDNS_HASHTAB_H */
