/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_xfr.h - minidig's zone transfers: AXFR (RFC 5936) and IXFR=serial
 * (RFC 1995) over TCP, several messages, printed as dig 9.18 prints them
 * (the records, then ";; XFR size: N records (messages M, bytes B)").
 *
 * Not here: the command line (minidig.c) and the layout of one record
 * (dig_print.c).
 */
#ifndef MINIDNS_DIG_XFR_H
#define MINIDNS_DIG_XFR_H

#include <stdbool.h>

#include "dig_print.h"
#include "tool_common.h"

struct md_dig_xfr_opts {
	const struct md_tool_server *server;
	const struct md_tool_query *query; /* qtype AXFR or IXFR */
	const struct md_sockaddr *source;  /* -b, or NULL */
	const struct md_dig_style *style;
	const char *greeting;	  /* printed once connected, or NULL */
	const char *display_name; /* the zone, for dig's connect error */
	int timeout_ms;		  /* connect, and each read */
	int tries;		  /* connection attempts */
	bool onesoa;		  /* +onesoa: leave out the closing SOA */
	bool comments;		  /* each message's header (+comments) */
};

/*
 * Transfer the zone and print it on stdout.  Returns dig's exit code:
 * 0 (a refused transfer included: dig prints "; Transfer failed." and
 * exits 0), 9 when no server could be reached, 10 out of memory.
 */
int md_dig_xfr(const struct md_dig_xfr_opts *o);

#endif /* MINIDNS_DIG_XFR_H */
