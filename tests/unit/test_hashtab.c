/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_hashtab.c - the one hash table (hashtab.h): insertion, lookup of
 * one hash among collisions, removal, growth, a fixed table that never
 * grows, clearing, and walking every entry (removing as it goes).
 *
 * src/util/hashtab.c is built into this test with cmocka's allocator
 * (unit_alloc.h), so every bucket array it allocates is checked for leaks
 * and overruns; the entries are the test's, allocated the same way.
 */
#include "config.h"

#include "unit_alloc.h"

#include "minidns/hashtab.h"

struct item {
	int pad; /* the node is not first: MD_HNODE_ENTRY does the sums */
	struct md_hnode hn;
	unsigned key;
	bool seen;
};

/* A weak hash on purpose: keys 0..n share few hashes, so chains collide. */
static uint32_t
weak_hash(unsigned key)
{
	return key % 7;
}

static struct item *
lookup(const struct md_hashtab *t, unsigned key, uint32_t h)
{
	struct md_hnode *hn;

	for (hn = md_hashtab_match(t, h); hn != NULL;
	     hn = md_hashtab_match_next(hn, h)) {
		struct item *it = MD_HNODE_ENTRY(hn, struct item, hn);

		assert_int_equal(hn->hash, h);
		if (it->key == key)
			return it;
	}
	return NULL;
}

static struct item *
items_new(unsigned n)
{
	struct item *v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (unsigned i = 0; i < n; i++)
		v[i].key = i;
	return v;
}

static void
init_rounds_up(void **state)
{
	struct md_hashtab t;

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 0, 0), 0);
	assert_int_equal(md_hashtab_buckets(&t), 1);
	md_hashtab_deinit(&t);
	assert_int_equal(md_hashtab_init(&t, 100, 0), 0);
	assert_int_equal(md_hashtab_buckets(&t), 128);
	assert_int_equal(md_hashtab_count(&t), 0);
	assert_null(md_hashtab_match(&t, 5));
	md_hashtab_deinit(&t);
	assert_int_equal(md_hashtab_buckets(&t), 0);
	md_hashtab_deinit(&t); /* twice is harmless */
}

static void
insert_find_remove(void **state)
{
	struct md_hashtab t;
	struct item *v = items_new(3);

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 16, 0), 0);
	for (unsigned i = 0; i < 3; i++)
		md_hashtab_insert(&t, &v[i].hn, 1000 + i);
	assert_int_equal(md_hashtab_count(&t), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_ptr_equal(lookup(&t, i, 1000 + i), &v[i]);
	/* The right key with the wrong hash is not found. */
	assert_null(lookup(&t, 1, 1000));
	assert_null(lookup(&t, 7, 1007));

	assert_true(md_hashtab_remove(&t, &v[1].hn));
	assert_int_equal(md_hashtab_count(&t), 2);
	assert_null(lookup(&t, 1, 1001));
	assert_ptr_equal(lookup(&t, 0, 1000), &v[0]);
	assert_ptr_equal(lookup(&t, 2, 1002), &v[2]);
	/* Not in the table any more: nothing changes. */
	assert_false(md_hashtab_remove(&t, &v[1].hn));
	assert_int_equal(md_hashtab_count(&t), 2);
	/* Back in. */
	md_hashtab_insert(&t, &v[1].hn, 1001);
	assert_ptr_equal(lookup(&t, 1, 1001), &v[1]);
	md_hashtab_deinit(&t);
	free(v);
}

/* Many entries of one hash, and hashes that share a bucket. */
static void
collisions(void **state)
{
	struct md_hashtab t;
	struct item *v = items_new(64);
	unsigned n;

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 4, MD_HASHTAB_FIXED), 0);
	for (unsigned i = 0; i < 64; i++)
		md_hashtab_insert(&t, &v[i].hn, weak_hash(i));
	for (unsigned i = 0; i < 64; i++)
		assert_ptr_equal(lookup(&t, i, weak_hash(i)), &v[i]);
	/* The nodes of one hash: exactly the keys of that hash. */
	for (uint32_t h = 0; h < 7; h++) {
		struct md_hnode *hn;

		n = 0;
		for (hn = md_hashtab_match(&t, h); hn != NULL;
		     hn = md_hashtab_match_next(hn, h)) {
			struct item *it = MD_HNODE_ENTRY(hn, struct item, hn);

			assert_int_equal(weak_hash(it->key), h);
			n++;
		}
		assert_int_equal(n, (64 - h + 6) / 7);
	}
	assert_null(md_hashtab_match(&t, 7));
	/* Remove from the middle, the head and the tail of chains. */
	for (unsigned i = 0; i < 64; i += 3)
		assert_true(md_hashtab_remove(&t, &v[i].hn));
	for (unsigned i = 0; i < 64; i++) {
		if (i % 3 == 0)
			assert_null(lookup(&t, i, weak_hash(i)));
		else
			assert_ptr_equal(lookup(&t, i, weak_hash(i)), &v[i]);
	}
	md_hashtab_deinit(&t);
	free(v);
}

static void
growth(void **state)
{
	struct md_hashtab t;
	struct item *v = items_new(5000);

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 2, 0), 0);
	for (unsigned i = 0; i < 5000; i++) {
		md_hashtab_insert(&t, &v[i].hn, i * 2654435761u);
		/* Load factor 1: never more entries than buckets. */
		assert_true(md_hashtab_count(&t) <= md_hashtab_buckets(&t));
	}
	assert_int_equal(md_hashtab_count(&t), 5000);
	assert_int_equal(md_hashtab_buckets(&t), 8192);
	for (unsigned i = 0; i < 5000; i++)
		assert_ptr_equal(lookup(&t, i, i * 2654435761u), &v[i]);
	for (unsigned i = 0; i < 5000; i += 2)
		assert_true(md_hashtab_remove(&t, &v[i].hn));
	assert_int_equal(md_hashtab_count(&t), 2500);
	for (unsigned i = 1; i < 5000; i += 2)
		assert_ptr_equal(lookup(&t, i, i * 2654435761u), &v[i]);
	md_hashtab_deinit(&t);
	free(v);
}

/* A fixed table keeps its buckets however full it gets. */
static void
fixed_size(void **state)
{
	struct md_hashtab t;
	struct item *v = items_new(1000);

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 8, MD_HASHTAB_FIXED), 0);
	for (unsigned i = 0; i < 1000; i++)
		md_hashtab_insert(&t, &v[i].hn, i);
	assert_int_equal(md_hashtab_buckets(&t), 8);
	assert_int_equal(md_hashtab_count(&t), 1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_ptr_equal(lookup(&t, i, i), &v[i]);
	md_hashtab_clear(&t);
	assert_int_equal(md_hashtab_count(&t), 0);
	assert_int_equal(md_hashtab_buckets(&t), 8);
	for (unsigned i = 0; i < 1000; i++)
		assert_null(md_hashtab_match(&t, i));
	md_hashtab_insert(&t, &v[3].hn, 3);
	assert_ptr_equal(lookup(&t, 3, 3), &v[3]);
	md_hashtab_deinit(&t);
	free(v);
}

static void
iteration(void **state)
{
	struct md_hashtab t;
	struct md_hashtab_iter it;
	struct md_hnode *hn;
	struct item *v = items_new(300);
	unsigned n = 0;

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 4, 0), 0);
	/* An empty table: nothing. */
	md_hashtab_iter_init(&it, &t);
	assert_null(md_hashtab_iter_next(&it));
	for (unsigned i = 0; i < 300; i++)
		md_hashtab_insert(&t, &v[i].hn, weak_hash(i) * 977 + i % 3);
	/* Every entry once. */
	md_hashtab_iter_init(&it, &t);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		struct item *x = MD_HNODE_ENTRY(hn, struct item, hn);

		assert_false(x->seen);
		x->seen = true;
		n++;
	}
	assert_int_equal(n, 300);
	for (unsigned i = 0; i < 300; i++)
		assert_true(v[i].seen);
	/* Removing the entry just returned is allowed: remove the odd keys
	 * in one walk, then a second walk sees the even ones only. */
	md_hashtab_iter_init(&it, &t);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		struct item *x = MD_HNODE_ENTRY(hn, struct item, hn);

		if (x->key % 2 == 1)
			assert_true(md_hashtab_remove(&t, hn));
	}
	assert_int_equal(md_hashtab_count(&t), 150);
	n = 0;
	md_hashtab_iter_init(&it, &t);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		assert_int_equal(
		    MD_HNODE_ENTRY(hn, struct item, hn)->key % 2, 0);
		n++;
	}
	assert_int_equal(n, 150);
	md_hashtab_deinit(&t);
	free(v);
}

/* Entries freed during a walk, as a table's owner frees them all. */
static void
free_during_walk(void **state)
{
	struct md_hashtab t;
	struct md_hashtab_iter it;
	struct md_hnode *hn;

	(void)state;
	assert_int_equal(md_hashtab_init(&t, 1, 0), 0);
	for (unsigned i = 0; i < 100; i++) {
		struct item *x = calloc(1, sizeof(*x));

		assert_non_null(x);
		x->key = i;
		md_hashtab_insert(&t, &x->hn, weak_hash(i));
	}
	md_hashtab_iter_init(&it, &t);
	while ((hn = md_hashtab_iter_next(&it)) != NULL)
		free(MD_HNODE_ENTRY(hn, struct item, hn));
	md_hashtab_deinit(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(init_rounds_up),
	    cmocka_unit_test(insert_find_remove),
	    cmocka_unit_test(collisions),
	    cmocka_unit_test(growth),
	    cmocka_unit_test(fixed_size),
	    cmocka_unit_test(iteration),
	    cmocka_unit_test(free_during_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
