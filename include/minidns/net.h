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
 * where; the server's workers, minidig and mininslookup call md_net_send()
 * and its siblings.  The tools add what a user-facing client needs through
 * md_net_send_opts(): the caller's own ID on the wire, dig's looser reply
 * matching, notices of ignored datagrams and the detail of a failure.
 *
 * The one TLS client set-up of the program is md_tls_client_ctx_new().
 */
#ifndef MINIDNS_NET_H
#define MINIDNS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "minidns/upstream.h"
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

/* What md_tls_client_ctx_new() builds.  All fields may be NULL or "". */
struct md_tls_client_conf {
	/* The CA certificates a server must chain to: a PEM file, else PEM
	 * text, else the system store.  Ignored when insecure. */
	const char *ca_file;
	const char *ca_pem;
	/* A client certificate (with its chain) and its key, each from a
	 * PEM file or PEM text; none by default. */
	const char *cert_file;
	const char *cert_pem;
	const char *key_file;
	const char *key_pem;
	/* No certificate verification at all (RFC 7858 §4.1, opportunistic
	 * privacy; minidig +tls without +tls-ca). */
	bool insecure;
};

/*
 * The one TLS client context of the program (DNS over TLS upstreams,
 * minidig/mininslookup, the Kubernetes API client): TLS 1.2 at least, the
 * server's certificate verified against the CA of 'conf' (unless
 * insecure), the client certificate and key loaded and checked against
 * each other.  Names or
 * addresses the certificate must carry are a connection's business
 * (SSL_set1_host()).  conf NULL means all defaults.  Returns a new
 * SSL_CTX the caller frees with SSL_CTX_free(), or NULL with "what:
 * why" in err[0..errlen) (err may be NULL).
 */
SSL_CTX *md_tls_client_ctx_new(
    const struct md_tls_client_conf *conf, char *err, size_t errlen);

struct md_net *md_net_new(struct event_base *base);
/* The event base n runs on (for timers beside its queries). */
struct event_base *md_net_base(const struct md_net *n);
/*
 * The CA certificates TLS upstreams are verified against: a PEM file, or
 * NULL for the system store.  Returns 0, or MD_ECONFIG when the file
 * cannot be loaded.  Call before the first TLS query.
 */
int md_net_set_tls_ca(struct md_net *n, const char *ca_file);
/*
 * Use ctx (from md_tls_client_ctx_new(); n takes its own reference, the
 * caller keeps its own) for the TLS connections opened from now on,
 * instead of the default one (system store, verification on).  With an
 * insecure ctx, tls_name is still sent as SNI but not checked.  Returns 0
 * or MD_ECONFIG.
 */
int md_net_set_tls_ctx(struct md_net *n, SSL_CTX *ctx);
/*
 * Send every query of n from 'source' (minidig -b): its address, and its
 * port unless 0 (then a random one for UDP, the kernel's for TCP and
 * TLS).  NULL goes back to the wildcard address.  A query to a server of
 * another address family then fails to start (md_net_send*() returns
 * NULL with errno set).  Returns 0, or MD_EPARSE for an address that is
 * neither IPv4 nor IPv6.
 */
int md_net_set_source(struct md_net *n, const struct md_sockaddr *source);
/* Draw query IDs from rng (minidig +seed: repeatable IDs) instead of
 * the kernel's randomness; NULL goes back to the kernel's.  rng must
 * outlive n. */
void md_net_set_rng(struct md_net *n, struct md_rng *rng);
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
 * Like md_net_send(), to an upstream of any transport.  TLS queries, and
 * TCP ones (a force-tcp forwarder, a retry after TC), share one connection
 * per upstream: it is opened on first use (for TLS: handshake,
 * certificate checked against the CA store and tls_name or the pin),
 * carries several queries at once (pipelining, replies matched by ID,
 * RFC 7766 §6.2.1.1), is closed after the idle time, and opened again when
 * needed; a connection that breaks fails the queries on it
 * (MD_NET_ERROR), a failed check fails them with MD_NET_TLS_ERROR.
 */
struct md_net_query *md_net_send_to(struct md_net *n,
    const struct md_upstream *up, const uint8_t *query, size_t len,
    uint32_t timeout_ms, md_net_cb cb, void *arg);
/* What a notice is about (see md_net_send_opts()). */
enum md_net_notice_kind {
	/* UDP: a datagram shorter than a DNS header came and was ignored. */
	MD_NET_NOTICE_SHORT,
	/* A reply that does not answer the query came and was ignored. */
	MD_NET_NOTICE_IGNORED,
	/* The query is about to fail: the detail of why. */
	MD_NET_NOTICE_FAILED,
};

struct md_net_notice {
	enum md_net_notice_kind kind;
	enum md_net_status status; /* FAILED: the status the callback gets */
	int err;		   /* FAILED: the socket's errno, or 0 */
	/* FAILED: TCP or TLS could not connect to the server (refused,
	 * unreachable, no route), as opposed to failing later. */
	bool connect_failed;
	size_t len;	  /* SHORT, IGNORED: the size of what came */
	const char *text; /* why, for people ("wrong ID", "end of file", a
			   * TLS alert or certificate error); never NULL */
};

/* Valid during the call only; must not cancel the query or free n. */
typedef void (*md_net_notice_cb)(void *arg, const struct md_net_notice *nt);

/* How md_net_send_opts() differs from md_net_send_to().  Zero = same,
 * except that TCP then gets a connection of its own (see tcp_pool). */
struct md_net_opts {
	/*
	 * Send the query's own ID instead of a fresh random one, so what a
	 * tool prints is what went on the wire; the caller must have drawn
	 * it unpredictably (RFC 5452 §9.2).  Over a shared TLS connection an ID
	 * already outstanding there is still replaced.
	 */
	bool keep_id;
	/*
	 * Match replies as dig does rather than RFC 5452-strict: the name
	 * compared without case, a reply without a question taken when it
	 * is an error or truncated, one whose question is cut short taken
	 * (as a malformed answer for the caller to report); over TCP and
	 * TLS a reply that does not match (or a frame shorter than a
	 * header) is skipped rather than failing the connection.
	 */
	bool lenient;
	/*
	 * TCP only: share the pipelined connection to this upstream, as
	 * DNS over TLS always does (RFC 7766 §6.2.1), instead of a
	 * connection of its own closed after the query.  md_net_send_to()
	 * (forwarders: a force-tcp one then holds one connection per
	 * worker, not one per query) sets it; iteration (md_net_send(),
	 * each server once after TC) and the tools do not.
	 */
	bool tcp_pool;
	/* Called with the query's arg and notices (ignored datagrams, the
	 * detail of a failure), always before the query's callback; NULL
	 * for none. */
	md_net_notice_cb notice;
};

/*
 * md_net_send_to() with options (opts NULL = none), and the same
 * contract: a handle, or NULL when the query could not even be started
 * (errno then says why when a system call failed, else 0).
 */
struct md_net_query *md_net_send_opts(struct md_net *n,
    const struct md_upstream *up, const struct md_net_opts *opts,
    const uint8_t *query, size_t len, uint32_t timeout_ms, md_net_cb cb,
    void *arg);
/* Stop a query in flight; its callback will not be called. */
void md_net_cancel(struct md_net_query *q);

void md_net_get_stats(const struct md_net *n, struct md_net_stats *out);

#endif /* MINIDNS_NET_H */
