/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_query.c - libFuzzer harness for the query path: one input is one
 * query message as a client would send it.  It goes through
 * md_wire_read_query() and md_query_answer() (UDP with two EDNS sizes, and
 * TCP) against the sample zones, loaded once.  Besides memory errors
 * (ASan), the harness aborts when a response breaks a rule the server
 * promises: a UDP response larger than the size allowed, a response whose
 * ID is not the query's or without QR, or one that ldns cannot parse.
 *
 * The zones come from $MD_FUZZ_ZONES (a folder holding cluster.local.zone,
 * 10.in-addr.arpa.zone and example.yaml), else from the folder compiled in
 * as MD_FUZZ_ZONES.  This file does not own the corpus runner
 * (run_corpus.c) nor the corpus (make_corpus.py).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "minidns/server.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

#include "fuzz.h"

#ifndef MD_FUZZ_ZONES
#define MD_FUZZ_ZONES "zones"
#endif

static struct md_zone_set *zones;
static uint8_t out[MD_WIRE_MAX];

static struct md_zone_set *
load_zones(void)
{
	const char *dir = getenv("MD_FUZZ_ZONES");
	char fwd[4096], rev[4096], yaml[4096], err[1024];
	struct md_zone_source srcs[3];
	struct md_zone_set *zs;

	if (dir == NULL || dir[0] == '\0')
		dir = MD_FUZZ_ZONES;
	snprintf(fwd, sizeof(fwd), "%s/cluster.local.zone", dir);
	snprintf(rev, sizeof(rev), "%s/10.in-addr.arpa.zone", dir);
	snprintf(yaml, sizeof(yaml), "%s/example.yaml", dir);
	memset(srcs, 0, sizeof(srcs));
	srcs[0].file = fwd;
	srcs[1].file = rev;
	srcs[1].auto_ptr = true;
	srcs[2].file = yaml;
	zs = md_zone_set_load(srcs, 3, err, sizeof(err));
	if (zs == NULL) {
		fprintf(stderr, "fuzz_query: cannot load zones: %s\n", err);
		abort();
	}
	return zs;
}

/* The rules every response must keep, whatever the query was. */
static void
check_response(const uint8_t *q, size_t qlen, size_t len, size_t limit)
{
	ldns_pkt *pkt = NULL;

	if (len == 0)
		return;
	if (len < MD_WIRE_HDR_LEN || len > limit) {
		fprintf(stderr,
		    "fuzz_query: response of %zu bytes (limit "
		    "%zu)\n",
		    len, limit);
		abort();
	}
	if (qlen < 2 || memcmp(q, out, 2) != 0 ||
	    !(md_read_u16(out + 2) & MD_FLAG_QR)) {
		fprintf(stderr, "fuzz_query: response ID or QR wrong\n");
		abort();
	}
	if (ldns_wire2pkt(&pkt, out, len) != LDNS_STATUS_OK) {
		fprintf(stderr,
		    "fuzz_query: ldns cannot parse the "
		    "response\n");
		abort();
	}
	ldns_pkt_free(pkt);
}

int
md_fuzz_query(const uint8_t *data, size_t size)
{
	static const uint16_t udp_sizes[] = {1232, 512, 4096};
	struct md_wire_query q;
	struct md_query_info info;
	size_t len;

	if (zones == NULL)
		zones = load_zones();
	(void)md_wire_read_query(data, size, &q);
	for (size_t i = 0; i < sizeof(udp_sizes) / sizeof(udp_sizes[0]); i++) {
		len = md_query_answer(zones, udp_sizes[i], false, data, size,
		    out, sizeof(out), &info);
		check_response(data, size, len, udp_sizes[i]);
	}
	len = md_query_answer(
	    zones, 1232, true, data, size, out, sizeof(out), &info);
	check_response(data, size, len, sizeof(out));
	return 0;
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return md_fuzz_query(data, size);
}
#endif
