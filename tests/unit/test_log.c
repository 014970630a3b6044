/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_log.c - the log's three formats, its file destination and reopen
 * after rotation, and the query log.  Lines are written to a temporary
 * file and read back: one line per call, JSON lines parsed by a small
 * strict parser here (and by python3 when it is installed), logfmt lines
 * split into key=value pairs whose values round-trip.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include <jansson.h>

#include "minidns/util.h"

static char tmpdir[64];

/* ---- reading a file back as lines -------------------------------------- */

#define MAX_LINES 4096

struct lines {
	char *buf;
	char *v[MAX_LINES];
	size_t n;
};

static void
read_lines(const char *path, struct lines *ls)
{
	FILE *f = fopen(path, "r");
	long size;
	char *p, *nl;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	ls->buf = malloc((size_t)size + 1);
	assert_non_null(ls->buf);
	assert_int_equal(fread(ls->buf, 1, (size_t)size, f), (size_t)size);
	ls->buf[size] = '\0';
	fclose(f);
	/* Every line ends in a newline; nothing follows the last one. */
	assert_true(size == 0 || ls->buf[size - 1] == '\n');
	ls->n = 0;
	for (p = ls->buf; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		assert_true(ls->n < MAX_LINES);
		ls->v[ls->n++] = p;
	}
}

static void
free_lines(struct lines *ls)
{
	free(ls->buf);
	ls->buf = NULL;
}

static void
tmp_path(char *buf, size_t size, const char *name)
{
	assert_true((size_t)snprintf(buf, size, "%s/%s", tmpdir, name) < size);
}

/* ---- a small strict JSON object parser --------------------------------- */

#define MAX_KV 16

struct kv {
	char key[32];
	char val[8192];
	bool str; /* a string (else a number) */
};

struct rec {
	struct kv kv[MAX_KV];
	size_t n;
};

static void
put_utf8(char **o, unsigned cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xc0 | cp >> 6);
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*u++ = (unsigned char)(0xe0 | cp >> 12);
		*u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*o = (char *)u;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A JSON string at *p (after the quote) into out; false if malformed. */
static bool
parse_json_string(const char **p, char *out, size_t size)
{
	const char *s = *p;
	char *o = out, *end = out + size - 4;

	for (; *s != '"'; s++) {
		if (o >= end || *s == '\0' || (unsigned char)*s < 0x20)
			return false;
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			*o++ = *s;
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'u': {
			unsigned cp = 0;

			for (int i = 1; i <= 4; i++) {
				int h = hexval(s[i]);

				if (h < 0)
					return false;
				cp = cp << 4 | (unsigned)h;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				return false; /* we never write surrogates */
			put_utf8(&o, cp);
			s += 4;
			break;
		}
		default:
			return false;
		}
	}
	*o = '\0';
	*p = s + 1;
	return true;
}

static bool
parse_json_object(const char *s, struct rec *r)
{
	r->n = 0;
	if (*s++ != '{')
		return false;
	for (;;) {
		struct kv *kv;

		if (r->n == MAX_KV || *s++ != '"')
			return false;
		kv = &r->kv[r->n++];
		if (!parse_json_string(&s, kv->key, sizeof(kv->key)) ||
		    *s++ != ':')
			return false;
		if (*s == '"') {
			s++;
			kv->str = true;
			if (!parse_json_string(&s, kv->val, sizeof(kv->val)))
				return false;
		} else {
			size_t i = 0;

			kv->str = false;
			while (*s >= '0' && *s <= '9' && i < 30)
				kv->val[i++] = *s++;
			kv->val[i] = '\0';
			if (i == 0)
				return false;
		}
		if (*s == '}')
			return s[1] == '\0';
		if (*s++ != ',')
			return false;
	}
}

/* ---- a logfmt parser --------------------------------------------------- */

static bool
logfmt_line(const char *s, struct rec *r)
{
	r->n = 0;
	while (*s != '\0') {
		struct kv *kv;
		size_t i = 0;

		if (r->n == MAX_KV)
			return false;
		kv = &r->kv[r->n++];
		while (*s != '=' && *s != ' ' && *s != '\0' &&
		    i < sizeof(kv->key) - 1)
			kv->key[i++] = *s++;
		kv->key[i] = '\0';
		if (i == 0 || *s++ != '=')
			return false;
		kv->str = true;
		if (*s == '"') {
			/* Quoted: the escapes are JSON's. */
			s++;
			if (!parse_json_string(&s, kv->val, sizeof(kv->val)))
				return false;
		} else {
			i = 0;
			while (*s != ' ' && *s != '\0') {
				if (*s == '"' || *s == '=' ||
				    (unsigned char)*s < 0x20 ||
				    i == sizeof(kv->val) - 1)
					return false;
				kv->val[i++] = *s++;
			}
			kv->val[i] = '\0';
			if (i == 0)
				return false;
		}
		if (*s == ' ')
			s++;
		else if (*s != '\0')
			return false;
	}
	return true;
}

static const char *
get(const struct rec *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->kv[i].key, key) == 0)
			return r->kv[i].val;
	return NULL;
}

static bool
is_stamp(const char *s)
{
	/* 2026-11-27T13:18:53.610Z */
	const char *pat = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(s) != strlen(pat))
		return false;
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == 'd' ? (*s < '0' || *s > '9') : *s != *pat)
			return false;
	}
	return true;
}

/* python3's json module agrees (skipped when python3 is missing). */
static void
python_json_check(const char *path)
{
	char cmd[512];
	int rc;

	snprintf(cmd, sizeof(cmd),
	    "python3 -c 'import json,sys\n"
	    "for l in sys.stdin: json.loads(l)' < '%s' 2>/dev/null",
	    path);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) == 127)
		return;
	assert_int_equal(WEXITSTATUS(rc), 0);
}

/* ---- the awkward messages ---------------------------------------------- */

static char big[901];

static const char *msgs[] = {
    "plain",
    "with \"quotes\" inside",
    "back\\slash and C:\\path\\",
    "two\nlines\r\n",
    "key=value a=b =",
    "tab\there",
    "UTF-8: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
    "bell\x07 esc\x1b del\x7f",
    "",
    " leading and trailing ",
    big,
};
#define NMSGS (sizeof(msgs) / sizeof(msgs[0]))

static void
log_msgs(void)
{
	for (size_t i = 0; i < NMSGS; i++)
		md_log(MD_LOG_INFO, MD_LOG_SERVER, "%s", msgs[i]);
}

static const struct md_querylog_entry qe = {
    .client = "127.0.0.1:5353",
    .name = "www.example.com.",
    .type = "A",
    .rcode = "NOERROR",
    .source = "cache",
    .transport = "udp",
    .duration_us = 123,
};

static void
check_query_rec(const struct rec *r)
{
	assert_string_equal(get(r, "level"), "info");
	assert_string_equal(get(r, "group"), "query");
	assert_string_equal(get(r, "client"), "127.0.0.1:5353");
	assert_string_equal(get(r, "name"), "www.example.com.");
	assert_string_equal(get(r, "type"), "A");
	assert_string_equal(get(r, "rcode"), "NOERROR");
	assert_string_equal(get(r, "source"), "cache");
	assert_string_equal(get(r, "transport"), "udp");
	assert_string_equal(get(r, "duration_us"), "123");
}

/* Log the messages and one query in format f to NAME; read them back. */
static void
run_format(enum md_log_format f, const char *name, struct lines *ls)
{
	char path[128];

	tmp_path(path, sizeof(path), name);
	md_log_set_format(f);
	assert_int_equal(md_log_set_file(path), 0);
	log_msgs();
	/* The query log ignores the level: it is its own switch. */
	md_log_set_level(MD_LOG_ERR);
	md_querylog_enable(true);
	md_querylog(&qe);
	md_querylog_enable(false);
	md_querylog(&qe); /* off: nothing */
	md_log(MD_LOG_INFO, MD_LOG_SERVER, "filtered out");
	md_log_set_level(MD_LOG_DEBUG);
	assert_int_equal(md_log_set_file(NULL), 0);
	md_log_set_format(MD_LOG_TEXT);
	read_lines(path, ls);
	assert_int_equal(ls->n, NMSGS + 1);
}

static void
test_format_parse(void **state)
{
	enum md_log_format f;

	(void)state;
	assert_int_equal(md_log_format_parse("text", &f), 0);
	assert_int_equal(f, MD_LOG_TEXT);
	assert_int_equal(md_log_format_parse("logfmt", &f), 0);
	assert_int_equal(f, MD_LOG_LOGFMT);
	assert_int_equal(md_log_format_parse("json", &f), 0);
	assert_int_equal(f, MD_LOG_JSON);
	assert_int_equal(md_log_format_parse("JSON ", &f), MD_EPARSE);
	assert_int_equal(md_log_format_parse("", &f), MD_EPARSE);
}

static void
test_text(void **state)
{
	struct lines ls;

	(void)state;
	run_format(MD_LOG_TEXT, "text.log", &ls);
	for (size_t i = 0; i < ls.n; i++) {
		const char *l = ls.v[i];

		assert_true(strlen(l) > 24);
		assert_true(l[23] == 'Z' && l[24] == ' ');
	}
	assert_string_equal(ls.v[0] + 25, "testd[server] info: plain");
	assert_string_equal(
	    ls.v[1] + 25, "testd[server] info: with \"quotes\" inside");
	assert_string_equal(
	    ls.v[3] + 25, "testd[server] info: two\\nlines\\r\\n");
	assert_string_equal(ls.v[5] + 25, "testd[server] info: tab\there");
	assert_string_equal(
	    ls.v[7] + 25, "testd[server] info: bell\\x07 esc\\x1b del\\x7f");
	assert_string_equal(ls.v[NMSGS] + 25,
	    "testd[query] info: 127.0.0.1:5353 www.example.com. A NOERROR "
	    "cache udp 123us");
	free_lines(&ls);
}

static void
test_logfmt(void **state)
{
	struct lines ls;
	struct rec *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(r);
	run_format(MD_LOG_LOGFMT, "logfmt.log", &ls);
	for (size_t i = 0; i < NMSGS; i++) {
		assert_true(logfmt_line(ls.v[i], r));
		assert_int_equal(r->n, 4);
		assert_string_equal(r->kv[0].key, "ts");
		assert_true(is_stamp(r->kv[0].val));
		assert_string_equal(r->kv[1].key, "level");
		assert_string_equal(r->kv[1].val, "info");
		assert_string_equal(r->kv[2].key, "group");
		assert_string_equal(r->kv[2].val, "server");
		assert_string_equal(r->kv[3].key, "msg");
		assert_string_equal(r->kv[3].val, msgs[i]);
	}
	/* Bare when nothing needs quoting, quoted otherwise. */
	assert_non_null(strstr(ls.v[0], " msg=plain"));
	assert_non_null(strstr(ls.v[4], " msg=\"key=value a=b =\""));
	assert_non_null(strstr(ls.v[8], " msg=\"\""));
	assert_non_null(strstr(ls.v[NMSGS],
	    " level=info group=query client=127.0.0.1:5353 "
	    "name=www.example.com. type=A rcode=NOERROR source=cache "
	    "transport=udp duration_us=123"));
	assert_true(logfmt_line(ls.v[NMSGS], r));
	assert_int_equal(r->n, 10);
	check_query_rec(r);
	free_lines(&ls);
	free(r);
}

static void
test_json(void **state)
{
	struct lines ls;
	struct rec *r = malloc(sizeof(*r));
	char path[128];

	(void)state;
	assert_non_null(r);
	run_format(MD_LOG_JSON, "json.log", &ls);
	for (size_t i = 0; i < NMSGS; i++) {
		assert_true(parse_json_object(ls.v[i], r));
		assert_int_equal(r->n, 4);
		assert_string_equal(r->kv[0].key, "ts");
		assert_true(is_stamp(r->kv[0].val));
		assert_string_equal(r->kv[1].key, "level");
		assert_string_equal(r->kv[1].val, "info");
		assert_string_equal(r->kv[2].key, "group");
		assert_string_equal(r->kv[2].val, "server");
		assert_string_equal(r->kv[3].key, "msg");
		assert_string_equal(r->kv[3].val, msgs[i]);
	}
	/* RFC 8259 §7: control characters escaped (jansson: upper-case hex); DEL
	 * need not be. */
	assert_non_null(strstr(ls.v[7], "\"bell\\u0007 esc\\u001B del\x7f\""));
	assert_true(parse_json_object(ls.v[NMSGS], r));
	assert_int_equal(r->n, 10);
	check_query_rec(r);
	assert_false(r->kv[9].str); /* duration_us is a number */
	assert_non_null(strstr(ls.v[NMSGS], "\"duration_us\":123}"));
	free_lines(&ls);
	tmp_path(path, sizeof(path), "json.log");
	python_json_check(path);
	free(r);
}

/* Invalid UTF-8 and a message cut inside a UTF-8 sequence: still JSON. */
static void
test_json_bad_utf8(void **state)
{
	struct lines ls;
	struct rec *r = malloc(sizeof(*r));
	char path[128], longmsg[1100];
	size_t i;

	(void)state;
	assert_non_null(r);
	tmp_path(path, sizeof(path), "utf8.log");
	md_log_set_format(MD_LOG_JSON);
	assert_int_equal(md_log_set_file(path), 0);
	md_log(MD_LOG_WARN, MD_LOG_NET, "bad \xff\xc3 and \xed\xa0\x80 end");
	/* 1022 ASCII bytes, then a 2-byte sequence cut by the 1024 buffer. */
	for (i = 0; i < 1022; i++)
		longmsg[i] = 'x';
	longmsg[i++] = '\xc3';
	longmsg[i++] = '\xa9';
	longmsg[i] = '\0';
	md_log(MD_LOG_ERR, MD_LOG_NET, "%s", longmsg);
	assert_int_equal(md_log_set_file(NULL), 0);
	md_log_set_format(MD_LOG_TEXT);
	read_lines(path, &ls);
	assert_int_equal(ls.n, 2);
	assert_true(parse_json_object(ls.v[0], r));
	assert_string_equal(get(r, "level"), "warning");
	assert_string_equal(get(r, "msg"),
	    "bad \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd end");
	assert_true(parse_json_object(ls.v[1], r));
	assert_int_equal(strlen(get(r, "msg")), 1022);
	free_lines(&ls);
	python_json_check(path);
	free(r);
}

/* md_json_string(): any bytes in, a valid jansson string out. */
static void
test_json_string(void **state)
{
	json_t *j;

	(void)state;
	j = md_json_string("caf\xc3\xa9 ok");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "caf\xc3\xa9 ok");
	json_decref(j);
	/* A stray continuation byte, a surrogate, a cut sequence. */
	j = md_json_string("a\x80"
			   "b\xed\xa0\x80"
			   "c\xe2\x82");
	assert_non_null(j);
	assert_string_equal(json_string_value(j),
	    "a\xef\xbf\xbd"
	    "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
	j = md_json_string(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
	assert_int_equal(
	    md_utf8_len((const uint8_t *)"\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(md_utf8_len((const uint8_t *)"\xc0\xaf", 2), 0);
}

static void
test_querylog_switch(void **state)
{
	(void)state;
	assert_false(md_querylog_enabled());
	md_querylog_enable(true);
	assert_true(md_querylog_enabled());
	md_querylog_enable(false);
	assert_false(md_querylog_enabled());
}

/* Missing fields show as "-", never as an empty or broken value. */
static void
test_querylog_missing(void **state)
{
	struct lines ls;
	struct rec *r = malloc(sizeof(*r));
	char path[128];
	struct md_querylog_entry e = {
	    .client = "[::1]:40000", .name = "a \"b\".", .duration_us = 0};

	(void)state;
	assert_non_null(r);
	tmp_path(path, sizeof(path), "qmissing.log");
	assert_int_equal(md_log_set_file(path), 0);
	md_querylog_enable(true);
	md_log_set_format(MD_LOG_LOGFMT);
	md_querylog(&e);
	md_log_set_format(MD_LOG_JSON);
	md_querylog(&e);
	md_querylog_enable(false);
	assert_int_equal(md_log_set_file(NULL), 0);
	md_log_set_format(MD_LOG_TEXT);
	read_lines(path, &ls);
	assert_int_equal(ls.n, 2);
	assert_true(logfmt_line(ls.v[0], r));
	assert_string_equal(get(r, "name"), "a \"b\".");
	assert_string_equal(get(r, "type"), "-");
	assert_string_equal(get(r, "duration_us"), "0");
	assert_true(parse_json_object(ls.v[1], r));
	assert_string_equal(get(r, "client"), "[::1]:40000");
	assert_string_equal(get(r, "rcode"), "-");
	free_lines(&ls);
	free(r);
}

static void
test_reopen(void **state)
{
	struct lines ls;
	char path[128], moved[128];
	struct stat st;

	(void)state;
	tmp_path(path, sizeof(path), "rot.log");
	tmp_path(moved, sizeof(moved), "rot.log.1");
	/* Reopen while on stderr: nothing to do. */
	assert_int_equal(md_log_reopen(), 0);
	assert_int_equal(md_log_set_file(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640); /* umask 0 in setup() */
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "before");
	assert_int_equal(rename(path, moved), 0);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "still old");
	assert_int_equal(md_log_reopen(), 0);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "after");
	assert_int_equal(md_log_set_file(NULL), 0);

	read_lines(moved, &ls);
	assert_int_equal(ls.n, 2);
	assert_non_null(strstr(ls.v[0], "info: before"));
	assert_non_null(strstr(ls.v[1], "info: still old"));
	free_lines(&ls);
	read_lines(path, &ls);
	assert_int_equal(ls.n, 1);
	assert_non_null(strstr(ls.v[0], "info: after"));
	free_lines(&ls);
}

static void
test_bad_path(void **state)
{
	struct lines ls;
	char path[128], bad[160];
	int rc;

	(void)state;
	tmp_path(path, sizeof(path), "keep.log");
	assert_int_equal(md_log_set_file(path), 0);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "one");
	tmp_path(bad, sizeof(bad), "no/such/dir.log");
	assert_int_equal(md_log_set_file(bad), -ENOENT);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "two");
	/* A path below a regular file (fails even for root). */
	snprintf(bad, sizeof(bad), "%s/x.log", path);
	rc = md_log_set_file(bad);
	assert_int_equal(rc, -ENOTDIR);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "three");
	/* Reopen after a failed set_file still reopens the good path. */
	assert_int_equal(md_log_reopen(), 0);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "four");
	assert_int_equal(md_log_set_file(NULL), 0);
	read_lines(path, &ls);
	assert_int_equal(ls.n, 4);
	assert_non_null(strstr(ls.v[1], "info: two"));
	assert_non_null(strstr(ls.v[2], "info: three"));
	free_lines(&ls);
}

static void
test_reopen_fails(void **state)
{
	struct lines ls;
	char dir[128], path[160], moved[128];

	(void)state;
	tmp_path(dir, sizeof(dir), "sub");
	tmp_path(moved, sizeof(moved), "sub.moved");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/r.log", dir);
	assert_int_equal(md_log_set_file(path), 0);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "one");
	/* The directory moves away: reopening the path fails. */
	assert_int_equal(rename(dir, moved), 0);
	assert_int_equal(md_log_reopen(), -ENOENT);
	md_log(MD_LOG_INFO, MD_LOG_MAIN, "two");
	assert_int_equal(md_log_set_file(NULL), 0);
	snprintf(path, sizeof(path), "%s/r.log", moved);
	read_lines(path, &ls);
	assert_int_equal(ls.n, 2);
	assert_non_null(strstr(ls.v[1], "info: two"));
	free_lines(&ls);
}

/* ---- threads: lines never interleave ----------------------------------- */

#define NTHREADS 8
#define NPER 300

static void *
writer_cb(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < NPER; i++) {
		if (i % 3 == 0) {
			md_querylog(&qe);
			continue;
		}
		md_log(MD_LOG_INFO, MD_LOG_NET, "thread %ld line %d %s", id, i,
		    big);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[NTHREADS];
	struct lines ls;
	struct rec *r = malloc(sizeof(*r));
	char path[128];
	size_t nq = 0;
	int rot = 0;

	(void)state;
	assert_non_null(r);
	tmp_path(path, sizeof(path), "threads.log");
	md_log_set_format(MD_LOG_JSON);
	assert_int_equal(md_log_set_file(path), 0);
	md_querylog_enable(true);
	for (long i = 0; i < NTHREADS; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, writer_cb, (void *)i), 0);
	/* Reopens (same file, not moved) while the writers run. */
	for (int i = 0; i < 50; i++)
		rot |= md_log_reopen();
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(rot, 0);
	md_querylog_enable(false);
	assert_int_equal(md_log_set_file(NULL), 0);
	md_log_set_format(MD_LOG_TEXT);
	read_lines(path, &ls);
	assert_int_equal(ls.n, NTHREADS * NPER);
	for (size_t i = 0; i < ls.n; i++) {
		assert_true(parse_json_object(ls.v[i], r));
		if (strcmp(get(r, "group"), "query") == 0) {
			check_query_rec(r);
			nq++;
		} else {
			assert_int_equal(strlen(get(r, "msg")) > 900, 1);
		}
	}
	assert_int_equal(nq, NTHREADS * ((NPER + 2) / 3));
	free_lines(&ls);
	free(r);
}

/* ---- rate limit: a loop cannot flood the log ---------------------------- */

static uint64_t fake_ms;

static uint64_t
fake_clock(void)
{
	return fake_ms;
}

static void
flood(int n)
{
	for (int i = 0; i < n; i++)
		md_warn(
		    MD_LOG_NET, "accept: %s (%d)", "Too many open files", i);
}

static void
test_ratelimit(void **state)
{
	struct lines ls;
	char path[128];
	size_t flooded = 0, other = 0, traces = 0;

	(void)state;
	tmp_path(path, sizeof(path), "ratelimit.log");
	fake_ms = 1000000;
	md_log_set_clock(fake_clock);
	md_log_set_ratelimit(
	    MD_LOG_RATELIMIT_BURST, MD_LOG_RATELIMIT_WINDOW_MS);
	assert_int_equal(md_log_set_file(path), 0);
	/* A million lines from one call site in one window: the burst. */
	flood(1000000);
	/* Another call site keeps its own budget; traces are never cut. */
	md_info(MD_LOG_SERVER, "something else %d", 1);
	for (int i = 0; i < 100; i++)
		md_log_unlimited(MD_LOG_INFO, MD_LOG_SERVER, "trace: %d", i);
	/* The next window: the first line says what was dropped. */
	fake_ms += MD_LOG_RATELIMIT_WINDOW_MS;
	flood(1);
	/* A window later with nothing dropped: no note. */
	fake_ms += MD_LOG_RATELIMIT_WINDOW_MS;
	flood(1);
	assert_int_equal(md_log_set_file(NULL), 0);
	md_log_set_clock(NULL);
	md_log_set_ratelimit(0, 0);
	read_lines(path, &ls);
	for (size_t i = 0; i < ls.n; i++) {
		if (strstr(ls.v[i], "accept: Too many") != NULL)
			flooded++;
		else if (strstr(ls.v[i], "trace: ") != NULL)
			traces++;
		else if (strstr(ls.v[i], "something else 1") != NULL)
			other++;
	}
	assert_int_equal(flooded, MD_LOG_RATELIMIT_BURST + 2);
	assert_int_equal(other, 1);
	assert_int_equal(traces, 100);
	assert_non_null(strstr(ls.v[MD_LOG_RATELIMIT_BURST + 101],
	    "(999980 more like this in the last 10 s)"));
	assert_null(strstr(ls.v[ls.n - 1], "more like this"));
	free_lines(&ls);
}

static int
setup(void **state)
{
	(void)state;
	memset(big, 'B', sizeof(big) - 1);
	memcpy(big, "big \"=\\ ", 8);
	umask(0);
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/md-test-log.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	md_log_init("testd");
	md_log_set_level(MD_LOG_DEBUG);
	/* The tests before test_ratelimit write many alike lines. */
	md_log_set_ratelimit(0, 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_parse),
	    cmocka_unit_test(test_querylog_switch),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_logfmt),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_bad_utf8),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_querylog_missing),
	    cmocka_unit_test(test_reopen),
	    cmocka_unit_test(test_bad_path),
	    cmocka_unit_test(test_reopen_fails),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_ratelimit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
