/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_tls.c - DNS over TLS to upstreams (RFC 7858, RFC 8310), and the
 * same pool for plain TCP to forwarders (RFC 7766 §6.2.1): one connection
 * per upstream (address, transport, authentication name, SPKI pin),
 * opened on the first query, shared by the queries that follow
 * (pipelined, replies matched by ID in any order), closed when idle and
 * opened again when needed.  A plain TCP connection is the same minus
 * the handshake: ready once connected.
 *
 * This file owns the SSL_CTX of an md_net (built by net_tlsctx.c), the
 * connections and their bufferevents, and the per-connection certificate
 * checks (name, address or pin).  The query life cycle (timer,
 * callback, stats) is net.c's: a connection never calls a user callback
 * itself, it hands each query its result and makes the query's timer
 * active, so a callback cannot free a connection under our feet.
 *
 * Limits: at most MAX_PIPELINE queries outstanding per connection; one
 * more fails at once (MD_NET_ERROR, through the callback) rather than
 * opening a second connection.  No TLS session resumption yet.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "net-internal.h"

#define MAX_PIPELINE 100

struct md_net_tls_conn {
	TAILQ_ENTRY(md_net_tls_conn) entry;
	struct md_net *net;
	struct md_upstream up;
	struct bufferevent *bev;
	struct event *ev_idle;
	/* Outstanding queries, in the order they were sent. */
	TAILQ_HEAD(, md_net_query) queries;
	unsigned nqueries;
	bool ready; /* connected (TLS: handshake done, peer authenticated) */
	bool tls;   /* DNS over TLS, else plain TCP */
	char name[MD_SOCKADDR_STRLEN + 270]; /* for the log */
};

/* ---- the SSL_CTX --------------------------------------------------- */

int
md_net_set_tls_ca(struct md_net *n, const char *ca_file)
{
	struct md_tls_client_conf conf;
	SSL_CTX *ctx;
	char ebuf[256];

	if (n == NULL)
		return MD_ECONFIG;
	memset(&conf, 0, sizeof(conf));
	conf.ca_file = ca_file;
	ctx = md_tls_client_ctx_new(&conf, ebuf, sizeof(ebuf));
	if (ctx == NULL) {
		/* ebuf names the file or the system store. */
		md_err(MD_LOG_NET, "cannot load the TLS CA certificates: %s",
		    ebuf);
		return MD_ECONFIG;
	}
	/* Open connections keep their reference to the old one. */
	SSL_CTX_free(n->tls_ctx);
	n->tls_ctx = ctx;
	return 0;
}

int
md_net_set_tls_ctx(struct md_net *n, SSL_CTX *ctx)
{
	if (n == NULL || ctx == NULL || SSL_CTX_up_ref(ctx) != 1)
		return MD_ECONFIG;
	SSL_CTX_free(n->tls_ctx);
	n->tls_ctx = ctx;
	return 0;
}

void
md_net_set_tls_idle(struct md_net *n, uint32_t idle_ms)
{
	if (n != NULL)
		n->tls_idle_ms = idle_ms;
}

/* ---- connections --------------------------------------------------- */

static bool
sockaddr_equal(const struct md_sockaddr *a, const struct md_sockaddr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
			sizeof(a6->sin6_addr)) == 0;
	}
	return false;
}

/* Same server, authenticated the same way: the connection can be shared. */
static bool
upstream_equal(const struct md_upstream *a, const struct md_upstream *b)
{
	return sockaddr_equal(&a->addr, &b->addr) &&
	    a->transport == b->transport &&
	    strcmp(a->tls_name, b->tls_name) == 0 &&
	    a->have_pin == b->have_pin &&
	    (!a->have_pin ||
		memcmp(a->spki_pin, b->spki_pin, sizeof(a->spki_pin)) == 0);
}

static struct md_net_query *
conn_find(struct md_net_tls_conn *c, uint16_t id)
{
	struct md_net_query *q;

	TAILQ_FOREACH(q, &c->queries, entry)
	{
		if (q->wire_id == id)
			return q;
	}
	return NULL;
}

/* Close c, which must have no queries left. */
static void
conn_free(struct md_net_tls_conn *c)
{
	if (c == NULL)
		return;
	MD_ASSERT(TAILQ_EMPTY(&c->queries));
	if (c->bev != NULL) {
		/*
		 * Freeing a bufferevent from its own callback is allowed:
		 * libevent holds a reference while the callback runs and
		 * cancels the deferred ones.  With BEV_OPT_CLOSE_ON_FREE it
		 * frees the SSL and closes the socket.
		 */
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		bufferevent_free(c->bev);
	}
	if (c->ev_idle != NULL)
		event_free(c->ev_idle);
	free(c);
}

/* Deliver 'status' to q through its own timer event (see net.c). */
static void
schedule(struct md_net_query *q, enum md_net_status status, uint8_t *reply,
    size_t len)
{
	q->done = true;
	q->done_status = status;
	q->in = reply;
	q->inlen = len;
	evtimer_del(q->ev_timer);
	event_active(q->ev_timer, EV_TIMEOUT, 1);
}

/* Take q off its connection, onto net->queries, with its result. */
static void
query_done(struct md_net_query *q, enum md_net_status status, uint8_t *reply,
    size_t len)
{
	struct md_net_tls_conn *c = q->conn;

	TAILQ_REMOVE(&c->queries, q, entry);
	c->nqueries--;
	q->conn = NULL;
	TAILQ_INSERT_TAIL(&q->net->queries, q, entry);
	schedule(q, status, reply, len);
}

/*
 * RFC 7766 §6.2.3, RFC 7858 §3.4: close a connection nobody uses after
 * a while rather than hold the server's resources.
 */
static void
conn_check_idle(struct md_net_tls_conn *c)
{
	struct timeval tv;
	uint32_t ms = c->net->tls_idle_ms;

	if (!TAILQ_EMPTY(&c->queries))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (evtimer_add(c->ev_idle, &tv) != 0)
		md_warn(
		    MD_LOG_NET, "tls %s: cannot arm the idle timer", c->name);
}

/*
 * The connection is unusable: take it out of the pool at once (the next
 * query opens a new one), fail every query on it with 'status', close it.
 */
static void
conn_fail_err(struct md_net_tls_conn *c, enum md_net_status status,
    const char *why, int err, bool connect_failed)
{
	struct md_net_query *q;

	if (status == MD_NET_TLS_ERROR)
		md_warn(MD_LOG_NET, "tls %s: %s; %u queries failed", c->name,
		    why, c->nqueries);
	else
		md_debug(MD_LOG_NET, "tls %s: %s (%s); %u queries failed",
		    c->name, why, md_net_status_str(status), c->nqueries);
	TAILQ_REMOVE(&c->net->conns, c, entry);
	while ((q = TAILQ_FIRST(&c->queries)) != NULL) {
		md_net_set_failure(q, err, connect_failed, why);
		query_done(q, status, NULL, 0);
	}
	conn_free(c);
}

static void
conn_fail(struct md_net_tls_conn *c, enum md_net_status status, const char *why)
{
	conn_fail_err(c, status, why, 0, false);
}

static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_net_tls_conn *c = arg;

	(void)fd;
	(void)what;
	if (!TAILQ_EMPTY(&c->queries))
		return;
	md_debug(MD_LOG_NET, "tls %s: idle, closing", c->name);
	/* A close_notify, best effort: the socket does not block. */
	if (c->ready && c->tls)
		(void)SSL_shutdown(bufferevent_openssl_get_ssl(c->bev));
	ERR_clear_error();
	TAILQ_REMOVE(&c->net->conns, c, entry);
	conn_free(c);
}

/*
 * RFC 7858 §4.2 (out-of-band key-pinned profile, pins as in RFC 7469):
 * the SHA-256 of the certificate's DER SubjectPublicKeyInfo.
 */
static bool
pin_matches(SSL *ssl, const uint8_t pin[32])
{
	X509 *cert = NULL;
	uint8_t *der = NULL, *p;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool ok = false;
	int len;

	cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		goto cleanup;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), NULL);
	if (len <= 0)
		goto cleanup;
	der = malloc((size_t)len);
	if (der == NULL)
		goto cleanup;
	p = der;
	if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &p) != len)
		goto cleanup;
	if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		goto cleanup;
	ok = CRYPTO_memcmp(md, pin, 32) == 0;

cleanup:
	free(der);
	X509_free(cert);
	return ok;
}

/* Hand the queries queued during the handshake to the connection. */
static int
conn_write_pending(struct md_net_tls_conn *c)
{
	struct md_net_query *q;

	TAILQ_FOREACH(q, &c->queries, entry)
	{
		if (q->written)
			continue;
		if (bufferevent_write(c->bev, q->out, q->outlen) != 0)
			return -1;
		q->written = true;
	}
	return 0;
}

static void
conn_connected(struct md_net_tls_conn *c)
{
	SSL *ssl;

	if (!c->tls) {
		c->ready = true;
		md_debug(MD_LOG_NET, "tcp %s: connected, %u queries queued",
		    c->name, c->nqueries);
		if (conn_write_pending(c) != 0)
			conn_fail(c, MD_NET_ERROR, "cannot write");
		return;
	}
	ssl = bufferevent_openssl_get_ssl(c->bev);

	/* With a name too, the handshake has checked the chain and the
	 * name already; the pin must hold as well. */
	if (c->up.have_pin && !pin_matches(ssl, c->up.spki_pin)) {
		conn_fail(c, MD_NET_TLS_ERROR,
		    "certificate verify failed: SPKI pin mismatch");
		return;
	}
	c->ready = true;
	md_debug(MD_LOG_NET, "tls %s: connected, %s %s, %u queries queued",
	    c->name, SSL_get_version(ssl), SSL_get_cipher_name(ssl),
	    c->nqueries);
	if (conn_write_pending(c) != 0)
		conn_fail(c, MD_NET_ERROR, "cannot write");
}

/*
 * Errors that mean the TCP connection itself could not be made, as
 * opposed to one that broke (reset, EOF) during the handshake.
 */
static bool
connect_errno(int err)
{
	return err == ECONNREFUSED || err == ENETUNREACH ||
	    err == EHOSTUNREACH || err == EADDRNOTAVAIL;
}

/* "handshake failed: OpenSSL's reason" (or the whole error string). */
static void
tls_reason(unsigned long e, const char *what, char *buf, size_t size)
{
	const char *r = ERR_reason_error_string(e);

	if (r != NULL) {
		snprintf(buf, size, "%s: %s", what, r);
		return;
	}
	snprintf(buf, size, "%s: ", what);
	ERR_error_string_n(e, buf + strlen(buf), size - strlen(buf));
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct md_net_tls_conn *c = arg;
	SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(bev) : NULL;
	enum md_net_status status = MD_NET_ERROR;
	const char *why = "end of file";
	char ebuf[256];
	unsigned long e;
	long vr;
	int err = EVUTIL_SOCKET_ERROR(), ferr = 0;
	bool cfail = false;

	if (what & BEV_EVENT_CONNECTED) {
		conn_connected(c);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) == 0)
		return;
	if (!c->tls) {
		/* Plain TCP: refused, unreachable, reset, or the end. */
		if ((what & BEV_EVENT_ERROR) && err != 0) {
			status = err == ECONNREFUSED && !c->ready
			    ? MD_NET_REFUSED
			    : MD_NET_ERROR;
			why = evutil_socket_error_to_string(err);
			ferr = err;
			cfail = !c->ready && connect_errno(err);
		}
		conn_fail_err(c, status, why, ferr, cfail);
		return;
	}
	e = bufferevent_get_openssl_error(bev);
	if (!c->ready) {
		vr = SSL_get_verify_result(ssl);
		/* Pin only: the chain may fail, we accepted it.  No
		 * verification (an insecure context): nothing checked. */
		if (vr != X509_V_OK &&
		    SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
		    (c->up.tls_name[0] != '\0' || !c->up.have_pin)) {
			status = MD_NET_TLS_ERROR;
			snprintf(ebuf, sizeof(ebuf),
			    "certificate verify failed: %s",
			    X509_verify_cert_error_string(vr));
			why = ebuf;
		} else if (err != 0 && ERR_GET_LIB(e) == 0) {
			/*
			 * The socket failed, not TLS (libevent then records
			 * SSL_ERROR_SYSCALL itself as the "error", in no
			 * library): refused, unreachable, reset.
			 */
			status =
			    err == ECONNREFUSED ? MD_NET_REFUSED : MD_NET_ERROR;
			why = evutil_socket_error_to_string(err);
			ferr = err;
			cfail = connect_errno(err);
		} else if (e != 0) {
			status = MD_NET_TLS_ERROR;
			tls_reason(e, "handshake failed", ebuf, sizeof(ebuf));
			why = ebuf;
		} else if (what & BEV_EVENT_EOF) {
			status = MD_NET_TLS_ERROR;
			why = "handshake failed: connection closed";
		} else {
			status = MD_NET_TLS_ERROR;
			why = "handshake failed";
		}
	} else if ((what & BEV_EVENT_ERROR) && err != 0 &&
	    ERR_GET_LIB(e) == 0) {
		why = evutil_socket_error_to_string(err);
		ferr = err;
	} else if (e != 0) {
		tls_reason(e, "TLS error", ebuf, sizeof(ebuf));
		why = ebuf;
	}
	ERR_clear_error();
	conn_fail_err(c, status, why, ferr, cfail);
}

/*
 * RFC 7766 §8: each reply comes with its 2-byte length; §6.2.1.1 and RFC
 * 7858 §3.3: in any order, matched to its query by ID.
 */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct md_net_tls_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct md_net_query *q;
	uint8_t lenbuf[2], *msg;
	const char *why;
	size_t mlen;
	uint16_t id;

	while (evbuffer_get_length(in) >= sizeof(lenbuf)) {
		if (evbuffer_copyout(in, lenbuf, sizeof(lenbuf)) !=
		    (ssize_t)sizeof(lenbuf))
			break;
		mlen = md_read_u16(lenbuf);
		q = TAILQ_FIRST(&c->queries);
		if (mlen < MD_WIRE_HDR_LEN && (q == NULL || !q->lenient)) {
			conn_fail(c, MD_NET_MALFORMED,
			    "a reply shorter than a DNS header");
			return;
		}
		if (mlen < MD_WIRE_HDR_LEN) {
			/* Lenient queries only: skip the frame. */
			if (evbuffer_get_length(in) < sizeof(lenbuf) + mlen)
				break;
			evbuffer_drain(in, sizeof(lenbuf) + mlen);
			md_net_stat_inc(&c->net->stats.mismatched);
			md_net_notice_ignored(q, mlen, "short");
			continue;
		}
		if (evbuffer_get_length(in) < sizeof(lenbuf) + mlen)
			break;
		msg = malloc(mlen);
		if (msg == NULL) {
			conn_fail(c, MD_NET_ERROR, "out of memory");
			return;
		}
		evbuffer_drain(in, sizeof(lenbuf));
		if (evbuffer_remove(in, msg, mlen) != (int)mlen) {
			free(msg);
			conn_fail(c, MD_NET_ERROR, "short read");
			return;
		}
		id = md_read_u16(msg);
		q = conn_find(c, id);
		if (q == NULL || !q->written) {
			/* Most likely the late reply to a query that timed
			 * out or was cancelled: harmless. */
			md_debug(MD_LOG_NET,
			    "tls %s: ignored a reply with unknown id %u",
			    c->name, id);
			free(msg);
			continue;
		}
		why = md_net_mismatch(q, msg, mlen);
		if (why != NULL && q->lenient) {
			/* dig's way: skip it, wait for a better one. */
			free(msg);
			md_net_stat_inc(&c->net->stats.mismatched);
			md_net_notice_ignored(q, mlen, why);
			continue;
		}
		if (why != NULL) {
			/* As over TCP: no one else writes into our stream,
			 * so a wrong reply means it cannot be trusted. */
			free(msg);
			md_net_stat_inc(&c->net->stats.mismatched);
			conn_fail(c, MD_NET_ERROR, why);
			return;
		}
		query_done(q, MD_NET_OK, msg, mlen);
	}
	conn_check_idle(c);
}

/* Accept any chain: the pin, checked once connected, authenticates. */
static int
pin_only_verify_cb(int preverify_ok, X509_STORE_CTX *ctx)
{
	(void)preverify_ok;
	(void)ctx;
	return 1;
}

/* Is the authentication name an IPv4 or IPv6 address? */
static bool
is_address(const char *name)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
}

/*
 * The name (or address) the certificate must carry, RFC 8310 §8 (the
 * authentication domain name, RFC 6125) and RFC 9525 §6.3 for an IP
 * address; a name goes out as SNI too (RFC 6066 §3: never an address).
 */
static int
set_peer_name(SSL *ssl, const char *name)
{
	if (is_address(name))
		return X509_VERIFY_PARAM_set1_ip_asc(
			   SSL_get0_param(ssl), name) == 1
		    ? 0
		    : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1)
		return -1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return 0;
}

static struct md_net_tls_conn *
conn_new(struct md_net *n, const struct md_upstream *up)
{
	struct md_net_tls_conn *c = NULL;
	SSL *ssl = NULL;
	const char *name = up->tls_name;
	evutil_socket_t fd = -1;
	int saved;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto fail;
	c->net = n;
	c->up = *up;
	c->tls = up->transport == MD_TRANSPORT_TLS;
	TAILQ_INIT(&c->queries);
	md_upstream_str(up, c->name, sizeof(c->name));
	if (!c->tls) {
		if (n->source.len > 0) {
			fd = md_net_stream_socket(n, &up->addr);
			if (fd < 0)
				goto fail;
		}
		c->bev = bufferevent_socket_new(n->base, fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev == NULL)
			goto fail;
		fd = -1;
		goto connect;
	}
	if (n->tls_ctx == NULL) {
		n->tls_ctx = md_tls_client_ctx_new(NULL, NULL, 0);
		if (n->tls_ctx == NULL)
			goto fail;
	}
	ssl = SSL_new(n->tls_ctx);
	if (ssl == NULL)
		goto fail;
	/*
	 * Servers often close without close_notify (RFC 7858 §3.4 lets
	 * either side close at any time): a plain EOF then.  DNS messages
	 * carry their own length, so a truncation is still seen.
	 */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (name[0] != '\0') {
		/* The chain must lead to a trusted CA as well (the
		 * context's SSL_VERIFY_PEER). */
		if (set_peer_name(ssl, name) != 0)
			goto fail;
	} else if (up->have_pin) {
		/* RFC 7858 §4.2: the pin alone authenticates. */
		SSL_set_verify(ssl, SSL_VERIFY_PEER, pin_only_verify_cb);
	}
	/* With a source address, our own socket, bound: libevent connects
	 * it (else it makes one). */
	if (n->source.len > 0) {
		fd = md_net_stream_socket(n, &up->addr);
		if (fd < 0)
			goto fail;
	}
	c->bev = bufferevent_openssl_socket_new(n->base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		/* Whether libevent freed ssl is unclear: leak, never
		 * free twice. */
		ssl = NULL;
		goto fail;
	}
	ssl = NULL; /* the bufferevent owns it, and fd */
	fd = -1;
	/* A server closing without close_notify is a plain EOF. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
connect:
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	c->ev_idle = evtimer_new(n->base, idle_cb, c);
	if (c->ev_idle == NULL)
		goto fail;
	if (bufferevent_socket_connect(c->bev,
		(const struct sockaddr *)&up->addr.ss, (int)up->addr.len) != 0)
		goto fail;
	if (bufferevent_enable(c->bev, EV_READ) != 0)
		goto fail;
	TAILQ_INSERT_TAIL(&n->conns, c, entry);
	md_debug(
	    MD_LOG_NET, "%s %s: connecting", c->tls ? "tls" : "tcp", c->name);
	return c;

fail:
	saved = errno;
	md_debug(MD_LOG_NET, "tls %s: cannot open a connection",
	    c != NULL ? c->name : "?");
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	conn_free(c);
	ERR_clear_error();
	errno = saved;
	return NULL;
}

int
md_net_tls_start(struct md_net_query *q, const struct md_upstream *up)
{
	struct md_net *n = q->net;
	struct md_net_tls_conn *c;

	TAILQ_FOREACH(c, &n->conns, entry)
	{
		if (upstream_equal(&c->up, up))
			break;
	}
	if (c != NULL && c->nqueries >= MAX_PIPELINE) {
		md_debug(MD_LOG_NET, "tls %s: %u queries outstanding already",
		    c->name, c->nqueries);
		schedule(q, MD_NET_ERROR, NULL, 0);
		return 0;
	}
	if (c == NULL) {
		c = conn_new(n, up);
		if (c == NULL)
			return -1;
	}
	/* RFC 7766 §6.2.1.1: IDs must be unique among the queries
	 * outstanding on a connection, or replies cannot be matched. */
	while (conn_find(c, q->wire_id) != NULL)
		q->wire_id = (uint16_t)md_random_u32();
	md_write_u16(q->out + 2, q->wire_id);
	if (c->ready) {
		if (bufferevent_write(c->bev, q->out, q->outlen) != 0) {
			conn_check_idle(c);
			return -1;
		}
		q->written = true;
	}
	/* Written during the handshake, it would go out before the pin is
	 * checked: queued until conn_connected(). */
	TAILQ_REMOVE(&n->queries, q, entry);
	TAILQ_INSERT_TAIL(&c->queries, q, entry);
	c->nqueries++;
	q->conn = c;
	evtimer_del(c->ev_idle);
	md_net_stat_inc(&n->stats.sent_tcp);
	return 0;
}

void
md_net_tls_detach(struct md_net_query *q)
{
	struct md_net_tls_conn *c = q->conn;

	TAILQ_REMOVE(&c->queries, q, entry);
	c->nqueries--;
	q->conn = NULL;
	q->net = NULL;
	conn_check_idle(c);
}

void
md_net_tls_free_all(struct md_net *n)
{
	struct md_net_tls_conn *c;
	struct md_net_query *q;

	while ((c = TAILQ_FIRST(&n->conns)) != NULL) {
		TAILQ_REMOVE(&n->conns, c, entry);
		while ((q = TAILQ_FIRST(&c->queries)) != NULL) {
			TAILQ_REMOVE(&c->queries, q, entry);
			q->conn = NULL;
			q->net = NULL;
			md_net_query_free(q);
		}
		c->nqueries = 0;
		conn_free(c);
	}
	SSL_CTX_free(n->tls_ctx);
	n->tls_ctx = NULL;
}
