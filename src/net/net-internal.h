/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net-internal.h - what net.c (UDP, TCP, the query life cycle) and
 * net_tls.c (DNS over TLS connections) share: the md_net and md_net_query
 * structures and a few functions.  Nothing outside src/net/ includes it.
 */
#ifndef MINIDNS_NET_INTERNAL_H
#define MINIDNS_NET_INTERNAL_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/wire.h"

struct event;
struct md_net_tls_conn;

/* The counters are written by the md_net's own thread and read by any
 * (md_net_get_stats, for /metrics): relaxed atomics on both sides. */
static inline void
md_net_stat_inc(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

struct md_net {
	struct event_base *base;
	/* UDP and TCP queries, and TLS queries not (or no longer) on a
	 * connection: those whose completion is scheduled. */
	TAILQ_HEAD(, md_net_query) queries;
	/* One TLS connection per upstream (address, name, pin). */
	TAILQ_HEAD(, md_net_tls_conn) conns;
	struct md_net_stats stats;
	SSL_CTX *tls_ctx; /* created on first use or by md_net_set_tls_ca */
	uint32_t tls_idle_ms;
	struct md_sockaddr source; /* len 0: the wildcard address */
	struct md_rng *rng;	   /* query IDs; NULL: the kernel's */
};

struct md_net_query {
	/* On net->queries, or on conn->queries when conn is set. */
	TAILQ_ENTRY(md_net_query) entry;
	struct md_net *net;
	md_net_cb cb;
	void *arg;
	struct md_sockaddr server;
	enum md_transport transport;
	int fd;
	struct event *ev_read;
	struct event *ev_write; /* TCP only */
	/* The timeout; for TLS also made active at once to deliver a
	 * result the connection scheduled (done). */
	struct event *ev_timer;
	uint64_t start_ms;

	/* What a reply must echo (RFC 5452 §9.1). */
	uint16_t orig_id;
	uint16_t wire_id;
	uint8_t qname[MD_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;

	/*
	 * The query as sent; over TCP and TLS prefixed by its 2-byte length
	 * (RFC 7766 §8), so out[0..outlen) is written as one stream.
	 */
	uint8_t *out;
	size_t outlen;
	size_t outoff;

	/* TCP: connect() error seen at once, then the reply: its 2-byte
	 * length, then the message.  TLS: in is the reply once done. */
	int conn_err;
	uint8_t lenbuf[2];
	size_t lenoff;
	uint8_t *in;
	size_t inlen;
	size_t inoff;

	/* md_net_opts, and what a failure notice will say. */
	bool lenient;
	bool no_question; /* lenient only: a header-only query (dig) */
	md_net_notice_cb notice;
	int err;
	bool connect_failed;
	char detail[160];

	/* TLS only. */
	struct md_net_tls_conn *conn;
	bool written; /* handed to the connection's output buffer */
	bool done;    /* result in done_status (and in), delivery pending */
	enum md_net_status done_status;
};

/* Default md_net_set_tls_idle(). */
#define MD_NET_TLS_IDLE_MS 10000

/* Unlink q (from its connection too) and free it; no callback. */
void md_net_query_free(struct md_net_query *q);
/* NULL when p[0..len) answers q (RFC 5452 §9.1), else why not. */
const char *md_net_mismatch(
    const struct md_net_query *q, const uint8_t *p, size_t len);
/* Tell q's notice callback, if any, that a reply of len bytes was
 * ignored, and why (net.c's UDP reads, the TCP and TLS streams). */
void md_net_notice_ignored(
    const struct md_net_query *q, size_t len, const char *why);
/* Remember why q is failing, for its failure notice: err (an errno or
 * 0), whether the connection could not be made, and a text (NULL: the
 * errno's, or the status's). */
void md_net_set_failure(
    struct md_net_query *q, int err, bool connect_failed, const char *text);
/* A socket of the server's family bound to n's source address (port 0:
 * any), non-blocking, for TCP and TLS; -1 with errno on failure. */
int md_net_stream_socket(
    const struct md_net *n, const struct md_sockaddr *server);

/*
 * Put q, already on n->queries with its timer added, on the connection
 * to up (opening it when there is none).  Returns 0, or -1 when it could
 * not be started (q stays on n->queries, no callback).
 */
int md_net_tls_start(struct md_net_query *q, const struct md_upstream *up);
/* Take q off its connection (cancel, timeout). */
void md_net_tls_detach(struct md_net_query *q);
/* Close every connection and free their queries (no callbacks). */
void md_net_tls_free_all(struct md_net *n);

#endif /* MINIDNS_NET_INTERNAL_H */
