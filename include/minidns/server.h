/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.h - the service layer: answering one query message (query.c) and
 * the libevent UDP/TCP listeners that feed it (server.c).
 */
#ifndef MINIDNS_SERVER_H
#define MINIDNS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/config.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

struct event_base;

/* What happened to one query, for logs and tests. */
struct md_query_info {
	enum md_query_verdict verdict;
	enum md_zone_status status;
	int rcode; /* full rcode, extended bits included */
	bool truncated;
	uint16_t qtype;
	uint8_t qname[MD_NAME_MAX]; /* "" (root) when there was none */
};

/*
 * Answer the query in[0..inlen) into out (outcap bytes, at least 512).
 * 'tcp' lifts the UDP size limit; 'edns_size' is the UDP size we
 * advertise and the most we send over UDP.  Returns the response length,
 * or 0 when the query gets no response at all.
 */
size_t md_query_answer(const struct md_zone_set *zones, uint16_t edns_size,
    bool tcp, const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    struct md_query_info *info);

struct md_server;

/* A server on 'base' with the settings of cfg (copied). */
struct md_server *md_server_new(
    struct event_base *base, const struct md_config *cfg);
void md_server_free(struct md_server *srv);
/*
 * Open the UDP and TCP sockets of every listen address.  A listener that
 * cannot be opened is fatal unless it is one of the built-in defaults and
 * another one opened.  Returns 0 or -errno, with a message logged.
 */
int md_server_listen(struct md_server *srv);
/* Publish a new zone snapshot (takes the caller's reference). */
void md_server_set_zones(struct md_server *srv, struct md_zone_set *zs);
/* Settings that can change on reload (not the listeners). */
void md_server_update(struct md_server *srv, const struct md_config *cfg);

#endif /* MINIDNS_SERVER_H */
