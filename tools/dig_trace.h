/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_trace.h - minidig +trace: resolve a name iteratively from the root
 * hints with minidnsd's own resolution engine (resolve.h) on net.h, and
 * print each step from the engine's trace events: dig's +trace layout by
 * default, plain-language explanations with +explain, structured data with
 * +json.  Not a second walker: what it shows is what minidnsd does.
 */
#ifndef MINIDNS_DIG_TRACE_H
#define MINIDNS_DIG_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "minidns/util.h"
#include "minidns/wire.h"

struct md_dig_trace_opts {
	uint8_t qname[MD_NAME_MAX]; /* wire form */
	uint16_t qtype;
	const char *roothints; /* +roothints=FILE / $MINIDIG_ROOTHINTS */
	bool have_server;      /* @ADDR given: prime the root NS from it */
	struct md_sockaddr server;
	bool explain;		   /* +explain */
	bool json;		   /* +json */
	const char *html;	   /* +html=FILE: the page (dig_html.h) */
	bool tcp;		   /* +tcp: every query over TCP */
	bool ipv4_only, ipv6_only; /* -4 / -6 */
	bool edns;		   /* +[no]edns */
	uint16_t bufsize;	   /* +bufsize */
	unsigned timeout_s;	   /* +time: per upstream query */
	bool qmin;		   /* +[no]qmin: QNAME minimisation (on) */
	bool have_seed;		   /* +seed=N given */
	uint64_t seed;		   /* every random choice from this seed */
	bool allservers;	   /* +allservers: each step to every server */
	bool cmd;		   /* +[no]cmd: print the banner */
	const char *cmdline;	   /* the arguments, for the banner */
	/* +dnssec: validate the answer as minidnsd does (val.c), and show
	 * every link of the chain of trust and the verdict */
	bool dnssec;
	/* +trust-anchor=FILE (repeatable): DS/DNSKEY records replacing the
	 * built-in root anchors */
	const char *trust_anchors[8];
	unsigned ntrust_anchors;
};

/*
 * Run the trace and print it to 'out'.  Returns dig's exit codes: 0 when
 * the resolution ended (any rcode), 9 when no server could be reached,
 * 10 on internal errors (bad root hints or trust anchor file, out of
 * memory).
 */
int md_dig_trace(const struct md_dig_trace_opts *o, FILE *out);

#endif /* MINIDNS_DIG_TRACE_H */
