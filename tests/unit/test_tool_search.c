/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tool_search.c - the search list shared by minidig and mininslookup
 * (tools/tool_common.c): what resolv.conf says (the last "search" or
 * "domain" line, "options ndots:N"), and the names a short name becomes
 * (each search domain appended, then the name as typed; absolute names and
 * names with enough dots as typed only).  The whole walk against real dig
 * and nslookup is tests/integration/dig_search.sh.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../tools/tool_common.h"
#include "unit.h"

/* A resolv.conf with 'text' in a temporary file, read. */
static void
read_text(struct md_tool_resolv *rc, const char *text)
{
	char path[] = "/tmp/md-resolv.XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(md_tool_resolv_read(rc, path), 0);
	unlink(path);
}

static void
resolv_pod(void **state)
{
	struct md_tool_resolv rc;

	(void)state;
	read_text(&rc,
	    "nameserver 10.96.0.10\n"
	    "search default.svc.cluster.local svc.cluster.local "
	    "cluster.local\n"
	    "options ndots:5 timeout:2\n");
	assert_int_equal(rc.nsearch, 3);
	assert_string_equal(rc.search[0], "default.svc.cluster.local");
	assert_string_equal(rc.search[2], "cluster.local");
	assert_int_equal(rc.ndots, 5);
}

static void
resolv_last_line_wins(void **state)
{
	struct md_tool_resolv rc;

	(void)state;
	/* "domain" after "search" replaces it, and the other way round;
	 * final dots go, comments and "." entries do not count. */
	read_text(&rc, "search a.test b.test\n  domain c.test.\n");
	assert_int_equal(rc.nsearch, 1);
	assert_string_equal(rc.search[0], "c.test");
	read_text(&rc,
	    "domain c.test\n# search x.test\n"
	    "search d.test. . e.test ; comment\n");
	assert_int_equal(rc.nsearch, 2);
	assert_string_equal(rc.search[0], "d.test");
	assert_string_equal(rc.search[1], "e.test");
	assert_int_equal(rc.ndots, 1);
}

static void
resolv_limits(void **state)
{
	struct md_tool_resolv rc;

	(void)state;
	read_text(&rc, "search a b c d e f g h i j\noptions ndots:x\n");
	assert_int_equal(rc.nsearch, MD_TOOL_SEARCH_MAX);
	assert_int_equal(rc.ndots, 1); /* not a number: the default */
	read_text(&rc, "options ndots:0\n");
	assert_int_equal(rc.ndots, 0);
	assert_int_equal(
	    md_tool_resolv_read(&rc, "/nonexistent/resolv.conf"), 0);
	assert_int_equal(rc.nsearch, 0);
	assert_int_equal(rc.ndots, 1);
}

static void
names_short(void **state)
{
	struct md_tool_resolv rc;
	char out[MD_TOOL_SEARCH_MAX + 1][MD_NAME_STRLEN];

	(void)state;
	read_text(&rc,
	    "search default.svc.cluster.local svc.cluster.local "
	    "cluster.local\noptions ndots:5\n");
	assert_int_equal(md_tool_search_names("kubernetes.default", &rc, out,
			     MD_TOOL_SEARCH_MAX + 1),
	    4);
	assert_string_equal(
	    out[0], "kubernetes.default.default.svc.cluster.local.");
	assert_string_equal(out[1], "kubernetes.default.svc.cluster.local.");
	assert_string_equal(out[2], "kubernetes.default.cluster.local.");
	assert_string_equal(out[3], "kubernetes.default");
	/* Room for two names: one search domain, then the name. */
	assert_int_equal(md_tool_search_names("web", &rc, out, 2), 2);
	assert_string_equal(out[0], "web.default.svc.cluster.local.");
	assert_string_equal(out[1], "web");
}

static void
names_as_typed(void **state)
{
	struct md_tool_resolv rc;
	char out[MD_TOOL_SEARCH_MAX + 1][MD_NAME_STRLEN];

	(void)state;
	read_text(&rc, "search svc.cluster.local\noptions ndots:2\n");
	/* A final dot, or enough dots: as typed only. */
	assert_int_equal(md_tool_search_names("kubernetes.default.", &rc, out,
			     MD_TOOL_SEARCH_MAX + 1),
	    1);
	assert_string_equal(out[0], "kubernetes.default.");
	assert_int_equal(
	    md_tool_search_names("a.b.c", &rc, out, MD_TOOL_SEARCH_MAX + 1), 1);
	assert_string_equal(out[0], "a.b.c");
	/* ndots 2: one dot is short. */
	assert_int_equal(
	    md_tool_search_names("a.b", &rc, out, MD_TOOL_SEARCH_MAX + 1), 2);
	/* No search list: the name alone. */
	read_text(&rc, "nameserver 127.0.0.1\n");
	assert_int_equal(
	    md_tool_search_names("web", &rc, out, MD_TOOL_SEARCH_MAX + 1), 1);
	assert_string_equal(out[0], "web");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(resolv_pod),
	    cmocka_unit_test(resolv_last_line_wins),
	    cmocka_unit_test(resolv_limits),
	    cmocka_unit_test(names_short),
	    cmocka_unit_test(names_as_typed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
