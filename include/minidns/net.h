/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.h - outbound DNS transport on a libevent base: send one query to one
 * server over UDP or TCP, and call back once with the reply, a timeout or
 * an error.
 *
 * Anti-spoofing (RFC 5452): every query gets a fresh random ID and, over
 * UDP, a fresh socket bound to a random source port and connect()ed to
 * the server, so the kernel delivers only datagrams from that address and
 * port.  A datagram whose ID or question (name compared byte for byte, so
 * 0x20 case randomisation is enforced; type; class) does not match is
 * ignored and the wait goes on; it is counted as a mismatch.
 *
 * net/ knows nothing of resolution: the engine (resolve/) says what to send
 * where, the server's workers and the tools call md_net_send().
 */
#ifndef MINIDNS_NET_H
#define MINIDNS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/util.h"

struct event_base;
struct md_net;
struct md_net_query;

enum md_net_status {
	MD_NET_OK = 0,
	MD_NET_TIMEOUT,	  /* no matching reply in time */
	MD_NET_REFUSED,	  /* ICMP port unreachable / TCP connection refused */
	MD_NET_ERROR,	  /* other socket error, or TCP closed early */
	MD_NET_MALFORMED, /* TCP: a reply too short to be a DNS message */
};

const char *md_net_status_str(enum md_net_status s);

/*
 * Called exactly once per md_net_send() unless cancelled.  'reply' is only
 * valid during the call (len > 0 only for MD_NET_OK); its ID is the one
 * the caller's query carried.  rtt_ms is the time from send to reply.
 */
typedef void (*md_net_cb)(void *arg, enum md_net_status status,
    const uint8_t *reply, size_t len, uint32_t rtt_ms);

struct md_net_stats {
	uint64_t sent_udp, sent_tcp, replies, timeouts, errors, mismatched;
};

struct md_net *md_net_new(struct event_base *base);
/* Cancels every query in flight (no callbacks). */
void md_net_free(struct md_net *n);

/*
 * Send query[0..len) (a whole DNS message with exactly one question; its
 * ID is replaced by a random one on the wire) to server over UDP, or TCP
 * when tcp is true, and wait at most timeout_ms.  Returns a handle for
 * md_net_cancel(), or NULL when the query could not even be started (then
 * cb is not called).
 */
struct md_net_query *md_net_send(struct md_net *n,
    const struct md_sockaddr *server, bool tcp, const uint8_t *query,
    size_t len, uint32_t timeout_ms, md_net_cb cb, void *arg);
/* Stop a query in flight; its callback will not be called. */
void md_net_cancel(struct md_net_query *q);

void md_net_get_stats(const struct md_net *n, struct md_net_stats *out);

#endif /* MINIDNS_NET_H */
