/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config.c - libFuzzer harness for the configuration file: one input
 * is one minidnsd.yaml.  It goes through md_config_load_text() (the file
 * reader without the file) over the defaults of md_config_new(), then,
 * when it loaded, md_config_finish(), md_config_restart_keys() against the
 * defaults and md_config_cache_conf().
 *
 * Nothing outside a private temporary folder is read: the configuration
 * is named as a file in that folder (so relative paths land there), and
 * before md_config_finish() the two files it reads, root-hints and
 * resolv-conf (stub: yes), are pointed at a valid hints file and a
 * resolv.conf written there once.  No socket is opened: the daemon binds
 * its listeners later, not in these functions.
 *
 * Besides memory errors (ASan) and leaks, the harness aborts when a
 * promise breaks: a failed load without a message naming the file
 * ("FILE:LINE: key: problem"), a failed finish without a message, or a
 * result code that is neither 0 nor negative.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minidns/cache.h"
#include "minidns/config.h"
#include "minidns/util.h"

#include "fuzz.h"

#define TEXT_MAX 65536

static char dir[4096], conf_path[4200], hints_path[4200], resolv_path[4200];
static char *text;
static struct md_config *defaults; /* finished once, for restart keys */

static const char hints[] =
    ".\t3600000\tIN\tNS\ta.root-servers.net.\n"
    "a.root-servers.net.\t3600000\tIN\tA\t192.0.2.1\n"
    "a.root-servers.net.\t3600000\tIN\tAAAA\t2001:db8::1\n";

static void fail(const char *what, const char *err) __attribute__((noreturn));

static void
fail(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, err ? err : "");
	abort();
}

static void
cleanup(void)
{
	md_config_unref(defaults);
	unlink(hints_path);
	unlink(resolv_path);
	rmdir(dir);
}

static void
write_file(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(s, fp) == EOF || fclose(fp) != 0)
		fail("cannot write", path);
}

static void
init(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[1024];

	snprintf(dir, sizeof(dir), "%s/minidns-fuzz-config.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fail("mkdtemp", strerror(errno));
	snprintf(conf_path, sizeof(conf_path), "%s/minidnsd.yaml", dir);
	snprintf(hints_path, sizeof(hints_path), "%s/root.hints", dir);
	snprintf(resolv_path, sizeof(resolv_path), "%s/resolv.conf", dir);
	write_file(hints_path, hints);
	write_file(resolv_path, "nameserver 192.0.2.53\n");
	text = malloc(TEXT_MAX + 1);
	defaults = md_config_new();
	if (text == NULL || defaults == NULL)
		fail("out of memory", NULL);
	if (md_config_finish(defaults, err, sizeof(err)) != 0)
		fail("the defaults do not finish", err);
	atexit(cleanup);
}

/* Point a path of the configuration at the harness's own file. */
static void
repoint(char **field, const char *path)
{
	char *p = strdup(path);

	if (p == NULL)
		fail("out of memory", NULL);
	free(*field);
	*field = p;
}

int
md_fuzz_config(const uint8_t *data, size_t size)
{
	struct md_config *c;
	struct md_cache_conf cc;
	const char *keys[64];
	char err[1024];
	int rc;

	if (text == NULL)
		init();
	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	c = md_config_new();
	if (c == NULL)
		fail("out of memory", NULL);
	err[0] = '\0';
	rc = md_config_load_text(c, conf_path, text, size, err, sizeof(err));
	if (rc > 0)
		fail("md_config_load_text returned a positive code", err);
	if (rc != 0) {
		/* Out of memory may say nothing; every other error names the
		 * file first. */
		if (rc != -ENOMEM &&
		    strncmp(err, conf_path, strlen(conf_path)) != 0)
			fail("load error not naming the file", err);
		goto cleanup;
	}
	if (c->root_hints != NULL)
		repoint(&c->root_hints, hints_path);
	if (c->resolv_conf != NULL || c->stub)
		repoint(&c->resolv_conf, resolv_path);
	err[0] = '\0';
	rc = md_config_finish(c, err, sizeof(err));
	if (rc > 0)
		fail("md_config_finish returned a positive code", err);
	if (rc != 0) {
		if (err[0] == '\0')
			fail("md_config_finish failed without a message", NULL);
		goto cleanup;
	}
	(void)md_config_restart_keys(defaults, c, keys, 64);
	md_config_cache_conf(c, &cc);
cleanup:
	md_config_unref(c);
	return 0;
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return md_fuzz_config(data, size);
}
#endif
