/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nta.c - unit tests of the run-time negative trust anchors
 * (val_nta.c): a name covers itself and the names below it but not its
 * parent or a sibling with the same suffix; case does not matter; an
 * entry expires at its lifetime and not before; renewing replaces the
 * lifetime; removing an unknown name says so; the walk lists the live
 * entries with the seconds they have left; threads adding and asking at
 * once leave a consistent set.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "minidns/resolve.h"
#include "minidns/wire.h"
#include "unit.h"

static bool
covers(struct md_nta *nta, const char *name, uint64_t now)
{
	uint8_t buf[MD_NAME_MAX];

	return md_nta_covers(nta, wname(name, buf), now);
}

static void
add(struct md_nta *nta, const char *name, uint32_t life, uint64_t now)
{
	uint8_t buf[MD_NAME_MAX];

	assert_int_equal(md_nta_add(nta, wname(name, buf), life, now), 0);
}

static void
test_covers_name_and_below(void **state)
{
	struct md_nta *nta = md_nta_new();

	(void)state;
	assert_non_null(nta);
	assert_false(covers(nta, "example.com.", 0));
	add(nta, "Example.COM.", 0, 0);
	assert_true(covers(nta, "example.com.", 0));
	assert_true(covers(nta, "www.EXAMPLE.com.", 0));
	assert_true(covers(nta, "a.b.c.example.com.", 0));
	assert_false(covers(nta, "com.", 0));
	assert_false(covers(nta, ".", 0));
	assert_false(covers(nta, "badexample.com.", 0));
	assert_false(covers(nta, "example.org.", 0));
	md_nta_free(nta);
}

static void
test_root_covers_everything(void **state)
{
	struct md_nta *nta = md_nta_new();

	(void)state;
	add(nta, ".", 0, 0);
	assert_true(covers(nta, ".", 0));
	assert_true(covers(nta, "anything.example.", 0));
	md_nta_free(nta);
}

static void
test_expiry_and_renewal(void **state)
{
	struct md_nta *nta = md_nta_new();

	(void)state;
	add(nta, "broken.test.", 60, 1000);
	assert_true(covers(nta, "www.broken.test.", 1000));
	assert_true(covers(nta, "www.broken.test.", 60999));
	assert_false(covers(nta, "www.broken.test.", 61000));
	/* renewed: the new lifetime counts from now; 0 is for good */
	add(nta, "broken.test.", 10, 50000);
	assert_true(covers(nta, "broken.test.", 59999));
	assert_false(covers(nta, "broken.test.", 60000));
	add(nta, "broken.test.", 0, 70000);
	assert_true(covers(nta, "broken.test.", 1000ULL * 86400 * 365));
	md_nta_free(nta);
}

static void
test_remove(void **state)
{
	struct md_nta *nta = md_nta_new();
	uint8_t buf[MD_NAME_MAX];

	(void)state;
	add(nta, "a.example.", 0, 0);
	add(nta, "b.example.", 0, 0);
	assert_int_equal(
	    md_nta_remove(nta, wname("c.example.", buf)), MD_ENOTFOUND);
	/* below an entry is not the entry */
	assert_int_equal(
	    md_nta_remove(nta, wname("x.a.example.", buf)), MD_ENOTFOUND);
	assert_int_equal(md_nta_remove(nta, wname("A.example.", buf)), 0);
	assert_false(covers(nta, "a.example.", 0));
	assert_true(covers(nta, "b.example.", 0));
	assert_int_equal(
	    md_nta_remove(nta, wname("a.example.", buf)), MD_ENOTFOUND);
	md_nta_free(nta);
}

static void
test_bad_input(void **state)
{
	struct md_nta *nta = md_nta_new();
	uint8_t buf[MD_NAME_MAX];

	(void)state;
	assert_int_equal(md_nta_add(NULL, wname("a.", buf), 0, 0), -EINVAL);
	assert_int_equal(md_nta_add(nta, NULL, 0, 0), -EINVAL);
	assert_false(md_nta_covers(NULL, wname("a.", buf), 0));
	md_nta_free(NULL);
	md_nta_free(nta);
}

struct seen {
	char names[8][MD_NAME_STRLEN];
	uint32_t left[8];
	size_t n;
};

static void
walk_cb(void *arg, const uint8_t *name, uint32_t left_s)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	md_name_to_str(name, s->names[s->n], sizeof(s->names[0]));
	s->left[s->n++] = left_s;
}

static void
test_walk(void **state)
{
	struct md_nta *nta = md_nta_new();
	struct seen s = {0};

	(void)state;
	add(nta, "forever.example.", 0, 0);
	add(nta, "soon.example.", 5, 0);
	add(nta, "later.example.", 100, 0);
	md_nta_walk(nta, 10000, walk_cb, &s); /* soon. has gone */
	assert_int_equal(s.n, 2);
	for (size_t i = 0; i < s.n; i++) {
		if (strcmp(s.names[i], "forever.example.") == 0)
			assert_int_equal(s.left[i], 0);
		else if (strcmp(s.names[i], "later.example.") == 0)
			assert_int_equal(s.left[i], 90);
		else
			fail_msg("unexpected %s", s.names[i]);
	}
	md_nta_free(nta);
}

struct th {
	struct md_nta *nta;
	int id;
};

static void *
worker(void *arg)
{
	struct th *t = arg;
	char name[64];
	uint8_t buf[MD_NAME_MAX];

	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "n%d.t%d.example.", i % 50, t->id);
		md_name_from_str(name, NULL, buf);
		if (md_nta_add(t->nta, buf, 0, 0) != 0)
			return (void *)1;
		if (!md_nta_covers(t->nta, buf, 0))
			return (void *)1;
		if (i % 3 == 0)
			md_nta_remove(t->nta, buf);
	}
	return NULL;
}

static void
count_cb(void *arg, const uint8_t *name, uint32_t left_s)
{
	(void)name;
	(void)left_s;
	(*(size_t *)arg)++;
}

static void
test_threads(void **state)
{
	struct md_nta *nta = md_nta_new();
	pthread_t tid[4];
	struct th t[4];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		t[i].nta = nta;
		t[i].id = i;
		assert_int_equal(
		    pthread_create(&tid[i], NULL, worker, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(tid[i], &r);
		assert_null(r);
	}
	md_nta_walk(nta, 0, count_cb, &n);
	/* each thread ends with its 50 names, the ones of its last pass
	 * that were removed (i % 3 == 0 for i in 450..499) gone */
	size_t removed = 0;

	for (int i = 450; i < 500; i++)
		removed += i % 3 == 0;
	assert_int_equal(n, 4 * (50 - removed));
	md_nta_free(nta);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_covers_name_and_below),
	    cmocka_unit_test(test_root_covers_everything),
	    cmocka_unit_test(test_expiry_and_renewal),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
