/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dig_html.c - the +trace +html page writer (tools/dig_html.c) on
 * hand-made +json documents: lanes and their marks, one element per step,
 * text from the DNS that cannot break out of the page (names and records
 * are data from the network), and the errors for an unusable document or
 * file.  The whole page in a browser: tests/integration/trace_html.sh.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "dig_html.h"
#include "unit.h"

/* Write the page of the JSON text 'doc_text'; returns it (malloc'd). */
static char *
page_of(const char *doc_text)
{
	char path[] = "/tmp/md-test-html.XXXXXX", err[256];
	json_error_t jerr;
	json_t *doc = json_loads(doc_text, 0, &jerr);
	char *text;
	long len;
	FILE *f;
	int fd;

	assert_non_null(doc);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(md_dig_html_write(path, doc, err, sizeof(err)), 0);
	json_decref(doc);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

static unsigned
count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A referral from one server, a timeout at the next, REFUSED from the
 * third, a TC reply and the retry over TCP: a lane each, marked. */
static void
test_lanes_and_marks(void **state)
{
	char *page = page_of(
	    "{\"query\": {\"qname\": \"x.test.\", \"qtype\": \"A\"},"
	    " \"steps\": ["
	    "{\"id\": 1, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"send\", \"depth\": 0, \"qname\": \"test.\","
	    " \"qtype\": \"A\", \"server\": \"192.0.2.1\","
	    " \"server_name\": \"a.root.\", \"transport\": \"udp\"},"
	    "{\"id\": 2, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"reply\", \"depth\": 0, \"server\": \"192.0.2.1\","
	    " \"class\": \"referral\", \"rcode\": \"NOERROR\","
	    " \"authority\": [\"test. 60 IN NS ns.test.\"], \"reply_to\": 1},"
	    "{\"id\": 3, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"send\", \"depth\": 0, \"server\": \"192.0.2.2\","
	    " \"server_name\": \"ns1.test.\", \"transport\": \"udp\"},"
	    "{\"id\": 4, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"timeout\", \"depth\": 0, \"server\": \"192.0.2.2\","
	    " \"waited_ms\": 400, \"reply_to\": 3},"
	    "{\"id\": 5, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"send\", \"depth\": 0, \"server\": \"192.0.2.3\","
	    " \"server_name\": \"ns2.test.\", \"transport\": \"udp\"},"
	    "{\"id\": 6, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"reply\", \"depth\": 0, \"server\": \"192.0.2.3\","
	    " \"class\": \"refused\", \"rcode\": \"REFUSED\"},"
	    "{\"id\": 7, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"send\", \"depth\": 0, \"server\": \"192.0.2.4\","
	    " \"server_name\": \"ns3.test.\", \"transport\": \"udp\"},"
	    "{\"id\": 8, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"reply\", \"depth\": 0, \"server\": \"192.0.2.4\","
	    " \"class\": \"truncated\", \"rcode\": \"NOERROR\","
	    " \"flags\": [\"qr\", \"aa\", \"tc\"]},"
	    "{\"id\": 9, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"tcp-retry\", \"depth\": 0, \"server\": \"192.0.2.4\"},"
	    "{\"id\": 10, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"send\", \"depth\": 0, \"server\": \"192.0.2.4\","
	    " \"server_name\": \"ns3.test.\", \"transport\": \"tcp\"},"
	    "{\"id\": 11, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"reply\", \"depth\": 0, \"server\": \"192.0.2.4\","
	    " \"class\": \"answer\", \"rcode\": \"NOERROR\","
	    " \"answer\": [\"x.test. 60 IN A 192.0.2.9\"]}],"
	    " \"result\": {\"rcode\": \"NOERROR\","
	    " \"answer\": [\"x.test. 60 IN A 192.0.2.9\"]},"
	    " \"summary\": {\"queries\": 5}}");

	(void)state;
	/* minidig and four servers */
	assert_int_equal(count(page, "<g class=\"lane"), 5);
	assert_non_null(strstr(page,
	    "<g class=\"lane silent\" "
	    "data-server=\"192.0.2.2\""));
	assert_non_null(
	    strstr(page, "<g class=\"lane lame\" data-server=\"192.0.2.3\""));
	for (int id = 1; id <= 11; id++) {
		char attr[32];

		snprintf(attr, sizeof(attr), "data-step-id=\"%d\"", id);
		assert_int_equal(count(page, attr), 1);
	}
	assert_non_null(strstr(page, "referral to test. (1 NS)"));
	assert_non_null(strstr(page, "class=\"step timeout\""));
	assert_non_null(strstr(page, "shaft dashed"));
	assert_non_null(strstr(page, "class=\"step bad\""));
	assert_non_null(strstr(page, "class=\"step tc\""));
	assert_non_null(strstr(page, "class=\"step note tcretry\""));
	assert_non_null(strstr(page, "class=\"step send tcp\""));
	assert_non_null(strstr(page, "answer: A 192.0.2.9"));
	/* no fetch of anything */
	assert_null(strstr(page, "http:"));
	assert_null(strstr(page, "https:"));
	assert_non_null(strstr(page, "default-src 'none'"));
	free(page);
}

/* Names and records come from the network: none of their text may become
 * markup, in the SVG or in the embedded JSON. */
static void
test_hostile_text(void **state)
{
	char *page = page_of(
	    "{\"query\": {\"qname\": \"a</script><b>.\", \"qtype\": \"TXT\"},"
	    " \"steps\": [{\"id\": 1, \"parent\": null, \"phase\": \"query\","
	    " \"event\": \"send\", \"depth\": 0, \"qname\": \"<i>&\\\"'.\","
	    " \"qtype\": \"TXT\", \"server\": \"192.0.2.1\","
	    " \"server_name\": \"<svg onload=x>.\", \"transport\": \"udp\","
	    " \"explain\": \"</title><script>x()</script>\"}],"
	    " \"result\": {\"rcode\": \"NOERROR\","
	    " \"answer\": [\"a. 1 IN TXT \\\"<!-- </script>\\\"\"]},"
	    " \"summary\": {}}");

	(void)state;
	assert_null(strstr(page, "<b>."));
	assert_null(strstr(page, "<i>&"));
	assert_null(strstr(page, "<svg onload"));
	assert_null(strstr(page, "<script>x()"));
	assert_null(strstr(page, "<!--"));
	/* two scripts, each closed once: the data and the page's own */
	assert_int_equal(count(page, "</script>"), 2);
	assert_non_null(strstr(page, "&lt;i&gt;&amp;&quot;&#39;."));
	assert_non_null(strstr(page, "a\\u003c/script>\\u003cb>."));
	free(page);
}

static void
test_errors(void **state)
{
	json_t *doc = json_loads("{\"query\": {}}", 0, NULL);
	json_t *ok = json_loads("{\"steps\": []}", 0, NULL);
	char err[256];

	(void)state;
	assert_int_equal(
	    md_dig_html_write("/tmp/x.html", doc, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp/x.html: no trace steps to draw");
	assert_int_equal(
	    md_dig_html_write("/nonexistent-dir/x.html", ok, err, sizeof(err)),
	    -1);
	assert_string_equal(
	    err, "/nonexistent-dir/x.html: No such file or directory");
	json_decref(doc);
	json_decref(ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lanes_and_marks),
	    cmocka_unit_test(test_hostile_text),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
