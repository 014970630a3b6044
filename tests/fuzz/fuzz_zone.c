/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_zone.c - libFuzzer harnesses for the zone readers, from text: one
 * input is one zone, a YAML zone (md_fuzz_zone_yaml(), zone_yaml.c) or an
 * RFC 1035 zone file (md_fuzz_zone_file(), zone_load.c through ldns).  It
 * is loaded by md_zone_set_load() as the source "fuzz.yaml" or
 * "fuzz.zone" held in memory, beside two fixed reverse zones marked
 * auto-ptr (in-addr.arpa. and ip6.arpa.), so the
 * input's addresses also go through auto-PTR.  The file is built twice,
 * as fuzz_zone_yaml and fuzz_zone_file (MD_FUZZ_ZONE_FILE picks the
 * target of LLVMFuzzerTestOneInput); the corpus runner links both.
 *
 * Besides memory errors (ASan) and leaks, the harness aborts when a
 * promise breaks.  A load that fails must say why, starting with the name
 * of the source at fault ("FILE:LINE: problem").  A zone set that loads
 * must hold three zones that pass md_fuzz_check_zones() (fuzz_check.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/zone.h"

#include "fuzz.h"

#define TEXT_MAX 65536

static const char rev4_text[] =
    "$ORIGIN in-addr.arpa.\n"
    "$TTL 300\n"
    "@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n"
    "@ IN NS ns.example.\n";

static const char rev6_text[] =
    "$ORIGIN ip6.arpa.\n"
    "$TTL 300\n"
    "@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n"
    "@ IN NS ns.example.\n";

static char *text;
static struct md_zone_result *res;

static void fail(const char *what, const char *detail)
    __attribute__((noreturn));

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_zone: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	abort();
}

static int
fuzz_zone(const uint8_t *data, size_t size, enum md_zone_format format,
    const char *file)
{
	struct md_zone_source srcs[3];
	struct md_zone_set *zs;
	char err[1024];

	if (text == NULL) {
		text = malloc(TEXT_MAX + 1);
		res = malloc(sizeof(*res));
		if (text == NULL || res == NULL)
			fail("out of memory", NULL);
	}
	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(srcs, 0, sizeof(srcs));
	srcs[0].file = file;
	srcs[0].text = text;
	srcs[0].format = format;
	srcs[1].file = "rev4.zone";
	srcs[1].text = rev4_text;
	srcs[1].format = MD_ZONE_FORMAT_RFC1035;
	srcs[1].auto_ptr = true;
	srcs[2].file = "rev6.zone";
	srcs[2].text = rev6_text;
	srcs[2].format = MD_ZONE_FORMAT_RFC1035;
	srcs[2].auto_ptr = true;
	err[0] = '\0';
	zs = md_zone_set_load(srcs, 3, err, sizeof(err));
	if (zs == NULL) {
		bool named = strstr(err, "out of memory") != NULL;

		for (size_t i = 0; i < 3 && !named; i++)
			named = strncmp(err, srcs[i].file,
				    strlen(srcs[i].file)) == 0 &&
			    err[strlen(srcs[i].file)] == ':';
		if (!named)
			fail("load error not naming its source", err);
		return 0;
	}
	if (md_zone_set_count(zs) != 3)
		fail("zone set without its three zones", NULL);
	md_fuzz_check_zones(zs, res);
	md_zone_set_unref(zs);
	return 0;
}

int
md_fuzz_zone_yaml(const uint8_t *data, size_t size)
{
	return fuzz_zone(data, size, MD_ZONE_FORMAT_YAML, "fuzz.yaml");
}

int
md_fuzz_zone_file(const uint8_t *data, size_t size)
{
	return fuzz_zone(data, size, MD_ZONE_FORMAT_RFC1035, "fuzz.zone");
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef MD_FUZZ_ZONE_FILE
	return md_fuzz_zone_file(data, size);
#else
	return md_fuzz_zone_yaml(data, size);
#endif
}
#endif
