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
	MD_NET_TLS_ERROR, /* TLS handshake or certificate check failed */
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

/* How to reach an upstream server. */
enum md_transport {
	MD_TRANSPORT_UDP = 0,
	MD_TRANSPORT_TCP,
	MD_TRANSPORT_TLS, /* DNS over TLS, RFC 7858 */
};

const char *md_transport_str(enum md_transport t);

struct md_upstream {
	struct md_sockaddr addr;
	enum md_transport transport;
	/* TLS: the name the certificate must carry ("" = no name check,
	 * then a pin is required to authenticate), and optionally the
	 * SHA-256 of the server's SubjectPublicKeyInfo (RFC 7858 §4.2). */
	char tls_name[256];
	bool have_pin;
	uint8_t spki_pin[32];
};

/*
 * Parse an upstream as written in configuration and on the command line:
 * "ADDR", "ADDR:PORT", "[V6]:PORT", or "tls://ADDR[:PORT][#NAME]" (port
 * 853 by default for TLS, 53 otherwise).  Returns 0 or MD_EPARSE.
 */
int md_upstream_parse(const char *s, struct md_upstream *out);
/* "127.0.0.1:53", "tls://127.0.0.1:853#dns.test" into buf. */
const char *md_upstream_str(
    const struct md_upstream *up, char *buf, size_t size);

struct md_net *md_net_new(struct event_base *base);
/*
 * The CA certificates TLS upstreams are verified against: a PEM file, or
 * NULL for the system store.  Returns 0, or MD_ECONFIG when the file
 * cannot be loaded.  Call before the first TLS query.
 */
int md_net_set_tls_ca(struct md_net *n, const char *ca_file);
/* How long an idle TLS connection is kept open (default 10 s). */
void md_net_set_tls_idle(struct md_net *n, uint32_t idle_ms);
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
/*
 * Like md_net_send(), to an upstream of any transport.  TLS queries share
 * one connection per upstream: it is opened on first use (handshake,
 * certificate checked against the CA store and tls_name or the pin),
 * carries several queries at once (pipelining, replies matched by ID,
 * RFC 7766 §6.2.1.1), is closed after the idle time, and opened again when
 * needed; a connection that breaks fails the queries on it
 * (MD_NET_ERROR), a failed check fails them with MD_NET_TLS_ERROR.
 */
struct md_net_query *md_net_send_to(struct md_net *n,
    const struct md_upstream *up, const uint8_t *query, size_t len,
    uint32_t timeout_ms, md_net_cb cb, void *arg);
/* Stop a query in flight; its callback will not be called. */
void md_net_cancel(struct md_net_query *q);

void md_net_get_stats(const struct md_net *n, struct md_net_stats *out);

#endif /* MINIDNS_NET_H */
