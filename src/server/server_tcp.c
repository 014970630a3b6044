/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_tcp.c - TCP and DNS-over-TLS client connections on a worker (RFC 7766:
 * 2-byte framing, pipelining, idle timeout, a cap on connections, no
 * unbounded output towards a client that does not read).
 *
 * Hostile clients (RFC 7766 §10): a message must arrive whole within
 * tcp-read-timeout of its first byte, however slowly it trickles (the
 * idle timeout restarts per byte); one address may hold at most
 * tcp-max-connections-per-client of a worker's connections; at
 * tcp-max-connections the oldest idle connection is closed for a new
 * client (as NSD and Unbound do), and only when none is idle does the
 * worker stop accepting.  Past the descriptor budget (md_fd_over_budget())
 * a new connection is closed at once, and when accept() itself runs out
 * of descriptors the listeners rest MD_ACCEPT_PAUSE_MS instead of
 * spinning.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "minidns/ldns_bridge.h"

#include "server-internal.h"

/* ---- accepting ---------------------------------------------------------- */

/* Listen when neither the cap nor the descriptors say rest. */
static void
listeners_update(struct worker *wk)
{
	bool on = !wk->accept_paused && !wk->fd_paused;

	for (size_t i = 0; i < wk->ntcp; i++)
		if (on)
			evconnlistener_enable(wk->tcp[i]);
		else
			evconnlistener_disable(wk->tcp[i]);
	for (size_t i = 0; i < wk->ntls; i++)
		if (on)
			evconnlistener_enable(wk->tls[i]);
		else
			evconnlistener_disable(wk->tls[i]);
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;

	(void)fd;
	(void)what;
	wk->fd_paused = false;
	listeners_update(wk);
}

/* accept() failed.  Out of descriptors, the connection it could not take
 * keeps the socket readable: rest rather than spin. */
void
md_srv_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct worker *wk = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {0, MD_ACCEPT_PAUSE_MS * 1000};

	(void)lev;
	if (!md_accept_err_is_resource(e)) {
		md_warn(MD_LOG_SERVER, "worker %u: accept: %s", wk->id,
		    strerror(e));
		return;
	}
	md_warn(MD_LOG_SERVER, "worker %u: accept: %s; not accepting for %d ms",
	    wk->id, strerror(e), MD_ACCEPT_PAUSE_MS);
	if (wk->accept_pause_ev == NULL)
		wk->accept_pause_ev =
		    evtimer_new(wk->base, accept_resume_cb, wk);
	wk->fd_paused = true;
	listeners_update(wk);
	if (wk->accept_pause_ev == NULL ||
	    evtimer_add(wk->accept_pause_ev, &tv) != 0) {
		wk->fd_paused = false; /* never stay deaf */
		listeners_update(wk);
	}
}

static bool
same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)
			   ->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)
			->sin_addr.s_addr;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)
				   ->sin6_addr,
			   &((const struct sockaddr_in6 *)(const void *)b)
				->sin6_addr,
			   sizeof(struct in6_addr)) == 0;
	return false;
}

/* Bytes received and not yet answered: an unfinished message, or
 * questions left while the client does not read its answers. */
static size_t
conn_pending(const struct tcp_conn *c)
{
	return c->npend;
}

/* Nothing in flight either way: no partial question, no answer owed. */
static bool
conn_idle(const struct tcp_conn *c)
{
	return c->waiters == NULL && conn_pending(c) == 0 &&
	    evbuffer_get_length(c->out) == 0;
}

/* At tcp-max-connections: close the connection idle the longest, if any
 * (NSD and Unbound do the same under tcp-idle-timeout pressure). */
static bool
close_oldest_idle(struct worker *wk)
{
	struct tcp_conn *old = NULL;

	for (struct tcp_conn *c = wk->conns; c != NULL; c = c->next)
		if (conn_idle(c) && (old == NULL || c->last_ms < old->last_ms))
			old = c;
	if (old == NULL)
		return false;
	md_debug(MD_LOG_NET,
	    "worker %u: at tcp-max-connections, closing the oldest idle "
	    "connection",
	    wk->id);
	md_srv_conn_free(old);
	return true;
}

/* ---- TCP --------------------------------------------------------------- */

void
md_srv_conn_free(struct tcp_conn *c)
{
	struct worker *wk = c->wk;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		wk->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	/* Queries still being resolved will find no one to answer. */
	while (c->waiters != NULL)
		md_srv_waiter_detach_conn(c->waiters);
	event_free(c->rd); /* before the socket closes */
	event_free(c->wr);
	event_free(c->deadline);
	if (c->ssl != NULL) {
		/* close_notify, once and without waiting (RFC 7858 §3.4) */
		if (!c->handshaking && !c->broken)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	evutil_closesocket(c->fd);
	evbuffer_free(c->out);
	free(c->pend);
	free(c);
	wk->nconns--;
	md_metrics_conn(wk->id, false);
	/* A slot is free again: accept more if we had stopped. */
	if (wk->accept_paused && wk->nconns < wk->max_conns) {
		wk->accept_paused = false;
		listeners_update(wk);
	}
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;

	(void)fd;
	(void)what;
	md_debug(MD_LOG_NET,
	    "%s: no whole message within tcp-read-timeout, closing",
	    c->tls ? "tls" : "tcp");
	md_srv_conn_free(c);
}

/* A message begun and not finished runs against the deadline; none
 * pending, nothing does. */
static void
deadline_update(struct tcp_conn *c)
{
	struct timeval tv = {(time_t)c->wk->cfg->tcp_read_timeout, 0};

	if (conn_pending(c) == 0)
		evtimer_del(c->deadline);
	else if (!evtimer_pending(c->deadline, NULL))
		evtimer_add(c->deadline, &tv);
}

/* Read the client's questions, or stop (rd's timeout is the idle one,
 * restarted by every read).  TLS may hold records it read ahead, which
 * the socket will not announce: they are read at once. */
static void
conn_reading(struct tcp_conn *c, bool on)
{
	struct timeval idle = {(time_t)c->wk->cfg->tcp_idle_timeout, 0};

	c->reading = on;
	if (!on) {
		event_del(c->rd);
		return;
	}
	event_add(c->rd, &idle);
	if (c->ssl != NULL && !c->handshaking && SSL_has_pending(c->ssl))
		event_active(c->rd, EV_READ, 1);
}

/* Answers queued: wait until the socket takes more (or tcp-idle-timeout
 * passes with nothing taken). */
static void
conn_want_write(struct tcp_conn *c)
{
	struct timeval idle = {(time_t)c->wk->cfg->tcp_idle_timeout, 0};

	if (!event_pending(c->wr, EV_WRITE, NULL))
		event_add(c->wr, &idle);
}

/*
 * The framing of the message that starts at p, avail bytes received (p
 * holds at least min(avail, 5) of them): its length once whole, 0 while
 * not, -1 when the stream is not DNS queries: shorter than a header, or a
 * response (QR, the top bit of the flags, RFC 1035 §4.1.1), from a
 * client out of step or not a DNS client; nothing sensible follows.
 */
static long
tcp_frame(const uint8_t *p, size_t avail)
{
	size_t qlen;

	if (avail < 2)
		return 0;
	qlen = md_read_u16(p);
	if (qlen < MD_WIRE_HDR_LEN || (avail >= 2 + 3 && (p[4] & 0x80) != 0))
		return -1;
	return avail < 2 + qlen ? 0 : (long)qlen;
}

static void
not_dns(struct tcp_conn *c)
{
	md_debug(MD_LOG_NET, "%s: not a DNS query stream, closing",
	    c->tls ? "tls" : "tcp");
	md_srv_conn_free(c);
}

static void conn_write(struct tcp_conn *c, const uint8_t *p, size_t len);
static void tcp_stage_flush(struct worker *wk, struct tcp_conn *c);
static void tcp_stage_add(struct worker *wk, struct tcp_conn *c, size_t len);

/* What answering one message left of the connection. */
enum tcp_step {
	STEP_NEXT,    /* read on */
	STEP_CLOSING, /* answered garbage: reads no more, closes once sent */
	STEP_GONE,    /* closed and freed */
};

/* Answer one whole message q[0..qlen) of c into the worker's stage (or,
 * when it needs resolving, once resolved). */
static enum tcp_step
tcp_answer(struct tcp_conn *c, const uint8_t *q, size_t qlen)
{
	struct worker *wk = c->wk;
	struct md_query_info info;
	uint64_t start_us = md_now_us();
	enum md_metric_transport t = c->tls ? MD_METRIC_TLS : MD_METRIC_TCP;
	size_t rlen;

	/* A whole message: the next one's clock starts with its first
	 * byte. */
	evtimer_del(c->deadline);
	c->last_ms = md_now_ms();
	rlen = md_srv_process(wk, t, (const struct sockaddr *)&c->peer,
	    c->peerlen, q, qlen, wk->out + 2, sizeof(wk->out) - 2, &info);
	if (info.need_recursion) {
		/* Answered when resolved, maybe out of order (RFC 7766
		 * §6.2.1.1). */
		struct waiter *w = md_srv_waiter_new(&info, true);

		if (w == NULL)
			return STEP_NEXT;
		memcpy(&w->from, &c->peer, c->peerlen);
		w->fromlen = c->peerlen;
		w->transport = t;
		w->start_us = start_us;
		w->conn = c;
		w->conn_next = c->waiters;
		if (c->waiters != NULL)
			c->waiters->conn_prev = w;
		c->waiters = w;
		md_srv_resolve_for(wk, w);
		return STEP_NEXT;
	}
	md_srv_account(wk, (struct sockaddr *)&c->peer, c->peerlen, t, &info.q,
	    info.rcode, md_srv_immediate_source(&info), info.security, start_us,
	    rlen);
	if (info.verdict == MD_QUERY_DROP) {
		md_srv_conn_free(c); /* not DNS: nothing to answer */
		return STEP_GONE;
	}
	if (rlen == 0)
		return STEP_NEXT;
	md_write_u16(wk->out, (uint16_t)rlen);
	tcp_stage_add(wk, c, rlen + 2);
	if (info.verdict != MD_QUERY_FORMERR)
		return STEP_NEXT;
	/* Garbage framed as a message: answer FORMERR, read no more and
	 * close once it is sent (at once, or tcp_wr_cb()). */
	tcp_stage_flush(wk, c);
	if (evbuffer_get_length(c->out) == 0) {
		md_srv_conn_free(c);
		return STEP_GONE;
	}
	c->closing = true;
	evtimer_del(c->deadline);
	conn_reading(c, false);
	return STEP_CLOSING;
}

/* Room for more answers: below TCP_OUTPUT_MAX queued and staged. */
static bool
conn_has_room(const struct tcp_conn *c)
{
	return evbuffer_get_length(c->out) + c->wk->tcp_staged < TCP_OUTPUT_MAX;
}

/* The client is not reading its answers: send what is staged and stop
 * reading its questions until the output drains (tcp_wr_cb()); the write
 * timeout, not the read deadline, runs meanwhile. */
static void
conn_throttle(struct tcp_conn *c)
{
	tcp_stage_flush(c->wk, c);
	evtimer_del(c->deadline);
	conn_reading(c, false);
	c->throttled = true;
}

/* Keep the n bytes at p as the connection's pending bytes (p is in them
 * when own). */
static bool
conn_keep(struct tcp_conn *c, const uint8_t *p, size_t n, bool own)
{
	uint8_t *keep;

	if (n == 0) {
		free(c->pend);
		c->pend = NULL;
		c->npend = c->pendcap = 0;
		return true;
	}
	if (own) {
		memmove(c->pend, p, n);
		c->npend = n;
		return true;
	}
	keep = realloc(c->pend, n);
	if (keep == NULL)
		return false;
	memcpy(keep, p, n);
	c->pend = keep;
	c->npend = c->pendcap = n;
	return true;
}

/* Room in pend for the message begun there, whose size is need: doubled
 * as bytes come, up to need.  False when out of memory. */
static bool
pend_reserve(struct tcp_conn *c, size_t need)
{
	size_t cap = c->pendcap * 2 > 512 ? c->pendcap * 2 : 512;
	uint8_t *p;

	if (c->pendcap > c->npend)
		return true;
	if (cap > need)
		cap = need;
	p = realloc(c->pend, cap);
	if (p == NULL)
		return false;
	c->pend = p;
	c->pendcap = cap;
	return true;
}

/*
 * Answer every whole message in p[0..n) (the worker's read
 * buffer, or c->pend when resuming), in order; the answers leave
 * together at the end, or when the stage fills.  What is left stays
 * pending.  False when c is gone.
 */
static bool
tcp_consume(struct tcp_conn *c, const uint8_t *p, size_t n)
{
	struct worker *wk = c->wk;
	bool own = p == c->pend;
	size_t off = 0;
	long qlen;

	wk->tcp_staged = 0;
	while (conn_has_room(c)) {
		qlen = tcp_frame(p + off, n - off);
		if (qlen < 0) {
			not_dns(c);
			return false;
		}
		if (qlen == 0)
			break;
		switch (tcp_answer(c, p + off + 2, (size_t)qlen)) {
		case STEP_GONE:
			return false;
		case STEP_CLOSING:
			return conn_keep(c, NULL, 0, false);
		case STEP_NEXT:
			break;
		}
		off += 2 + (size_t)qlen;
	}
	if (!conn_keep(c, p + off, n - off, own)) {
		md_srv_conn_free(c); /* out of memory: a question lost */
		return false;
	}
	if (!conn_has_room(c)) {
		conn_throttle(c);
		return true;
	}
	tcp_stage_flush(wk, c);
	deadline_update(c);
	return true;
}

static void tcp_rd_cb(evutil_socket_t fd, short what, void *arg);

/* The reason OpenSSL gave, for the debug log. */
static const char *
tls_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : strerror(errno);
}

/* TLS: go on with the handshake.  False when c is gone (failed). */
static bool
conn_handshake(struct tcp_conn *c)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		/* The first message is read like any other: its own
		 * deadline from its first byte. */
		c->handshaking = false;
		evtimer_del(c->deadline);
		if (evbuffer_get_length(c->out) == 0)
			event_del(c->wr);
		return true;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		event_del(c->wr);
		return true;
	case SSL_ERROR_WANT_WRITE:
		conn_want_write(c);
		return true;
	default:
		md_debug(MD_LOG_NET, "tls: handshake failed: %s", tls_reason());
		ERR_clear_error();
		md_srv_conn_free(c);
		return false;
	}
}

/*
 * TLS: decrypt what has come into buf[0..cap): every record already
 * received (read-ahead takes what the socket has in one recv()).
 * Returns the bytes read; *end is set when the client closed the
 * connection or it broke.
 */
static size_t
tls_read(struct tcp_conn *c, uint8_t *buf, size_t cap, bool *end)
{
	size_t got = 0;

	*end = false;
	ERR_clear_error();
	while (got < cap) {
		int r = SSL_read(c->ssl, buf + got,
		    (int)(cap - got > INT_MAX ? INT_MAX : cap - got));

		if (r > 0) {
			got += (size_t)r;
			/* Nothing more read ahead: the socket says when more
			 * comes (no read() just to hear EAGAIN). */
			if (!SSL_has_pending(c->ssl))
				return got;
			continue;
		}
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			return got;
		case SSL_ERROR_WANT_WRITE:
			/* renegotiation-like traffic: go on when writable */
			c->read_wants_write = true;
			conn_want_write(c);
			return got;
		case SSL_ERROR_ZERO_RETURN:
			break; /* close_notify */
		default:
			md_debug(MD_LOG_NET, "tls: read: %s", tls_reason());
			c->broken = true;
			break;
		}
		ERR_clear_error();
		*end = true;
		return got;
	}
	return got;
}

/* Read what the socket has into buf[0..cap): the bytes read; *end is set
 * when the client closed the connection or it broke. */
static size_t
conn_read(struct tcp_conn *c, uint8_t *buf, size_t cap, bool *end)
{
	ssize_t n;

	if (c->ssl != NULL)
		return tls_read(c, buf, cap, end);
	*end = false;
	n = recv(c->fd, buf, cap, MSG_DONTWAIT);
	if (n > 0)
		return (size_t)n;
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0)
		md_debug(MD_LOG_NET, "tcp: read: %s", strerror(errno));
	*end = true; /* closed by the client, or reset */
	return 0;
}

/* The socket is readable, or has been idle for tcp-idle-timeout. */
static void
tcp_rd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	struct worker *wk = c->wk;
	const uint8_t *p;
	size_t got, n;
	bool end = false;

	(void)fd;
	if (what & EV_TIMEOUT) {
		md_debug(MD_LOG_NET, "%s connection idle, closing",
		    c->tls ? "tls" : "tcp");
		md_srv_conn_free(c);
		return;
	}
	if (c->handshaking && (!conn_handshake(c) || c->handshaking))
		return;
	if (c->npend > 0) {
		/* A message begun (a reading connection answered every
		 * whole one): the rest of it is read into pend, which grows
		 * by doubling, so a client that trickles it a byte at a
		 * time costs no copy of what came before. */
		size_t need =
		    c->npend < 2 ? 2 : 2 + (size_t)md_read_u16(c->pend);

		if (need <= c->npend) {
			(void)tcp_consume(c, c->pend, c->npend);
			return;
		}
		if (!pend_reserve(c, need)) {
			md_srv_conn_free(c); /* out of memory */
			return;
		}
		got = conn_read(
		    c, c->pend + c->npend, c->pendcap - c->npend, &end);
		c->npend += got;
		p = c->pend;
		n = c->npend;
	} else {
		/* One read into the worker's buffer; the whole messages
		 * there are answered where they lie. */
		got = conn_read(c, wk->tcp_in, sizeof(wk->tcp_in), &end);
		p = wk->tcp_in;
		n = got;
	}
	/* The questions before a close are answered (as far as the socket
	 * takes the answers at once). */
	if (got > 0 && !tcp_consume(c, p, n))
		return;
	if (end) {
		md_srv_conn_free(c);
		return;
	}
	/* A full buffer may leave TLS records read ahead. */
	if (c->ssl != NULL && c->reading && SSL_has_pending(c->ssl))
		event_active(c->rd, EV_READ, 1);
}

/* Answer what is pending: resuming after the output drained. */
static void
conn_resume(struct tcp_conn *c)
{
	(void)tcp_consume(c, c->pend, c->npend);
}

/*
 * Put bytes on the socket: send(), or SSL_write() with partial writes
 * (one record at a time; a record the socket did not take is offered
 * again from out, whose head holds the same bytes).  Returns the bytes
 * taken; -1 when the connection broke.
 */
#define TLS_WRITE_MAX 16384 /* a TLS record's plaintext, at most */

static ssize_t
conn_put_now(struct tcp_conn *c, const uint8_t *p, size_t len)
{
	size_t done = 0;

	if (c->ssl == NULL) {
		ssize_t n = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0)
			return n;
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
		    ? 0
		    : -1;
	}
	ERR_clear_error();
	while (done < len) {
		/* a record's worth per call (never OpenSSL's multi-record
		 * writes, whose retry rules differ) */
		int r = SSL_write(c->ssl, p + done,
		    (int)(len - done > TLS_WRITE_MAX ? TLS_WRITE_MAX
						     : len - done));

		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE)
			break;
		/* a broken connection, or TLS that wants to read before it
		 * writes (no renegotiation is offered: not for DNS) */
		md_debug(MD_LOG_NET, "tls: write: %s", tls_reason());
		ERR_clear_error();
		c->broken = true;
		return -1;
	}
	return (ssize_t)done;
}

/* Send out's head.  False when c is gone (the connection broke). */
static bool
conn_flush(struct tcp_conn *c)
{
	size_t len;

	while ((len = evbuffer_get_length(c->out)) > 0) {
		size_t n = len < TCP_STAGE ? len : TCP_STAGE;
		const uint8_t *p = evbuffer_pullup(c->out, (ev_ssize_t)n);
		ssize_t r = p != NULL ? conn_put_now(c, p, n) : -1;

		if (r < 0) {
			md_srv_conn_free(c);
			return false;
		}
		if (r == 0)
			break;
		evbuffer_drain(c->out, (size_t)r);
		c->last_ms = md_now_ms();
	}
	if (evbuffer_get_length(c->out) == 0)
		event_del(c->wr);
	return true;
}

/*
 * Send bytes on c: straight to the socket when nothing is queued before
 * them (no buffer, no write event: the common case of a client that
 * reads its answers); what the socket does not take is queued in out and
 * sent when it is writable.
 */
static void
conn_write(struct tcp_conn *c, const uint8_t *p, size_t len)
{
	if (evbuffer_get_length(c->out) == 0 && !c->handshaking) {
		ssize_t n = conn_put_now(c, p, len);

		/* A broken connection: queued, the write event meets the
		 * error and closes it.  Bytes sent count as activity (the
		 * oldest idle connection is the one closed for a
		 * newcomer). */
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			c->last_ms = md_now_ms();
		}
	}
	if (len == 0)
		return;
	evbuffer_add(c->out, p, len);
	conn_want_write(c);
}

/* Send the answers gathered in wk->tcp_stage. */
static void
tcp_stage_flush(struct worker *wk, struct tcp_conn *c)
{
	if (wk->tcp_staged > 0)
		conn_write(c, wk->tcp_stage, wk->tcp_staged);
	wk->tcp_staged = 0;
}

/* Add one framed answer (wk->out: length and message) to the stage. */
static void
tcp_stage_add(struct worker *wk, struct tcp_conn *c, size_t len)
{
	if (wk->tcp_staged + len > sizeof(wk->tcp_stage))
		tcp_stage_flush(wk, c);
	if (len > sizeof(wk->tcp_stage)) {
		conn_write(c, wk->out, len);
		return;
	}
	memcpy(wk->tcp_stage + wk->tcp_staged, wk->out, len);
	wk->tcp_staged += len;
}

/* Send one message on a connection, framed (RFC 7766 §8): a
 * resolution's answer, in the worker's out buffer after room for the
 * length.  (One that ends inside a read's loop may pass answers still
 * staged there: RFC 7766 §6.2.1.1 lets pipelined answers come in any
 * order, and each message stays whole.) */
void
md_srv_tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t *out = c->wk->out;

	if (len > sizeof(c->wk->out) - 2)
		return;
	if (msg != out + 2)
		memmove(out + 2, msg, len);
	md_write_u16(out, (uint16_t)len);
	conn_write(c, out, len + 2);
}

/* The socket is writable (or took nothing for tcp-idle-timeout). */
static void
tcp_wr_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		md_debug(MD_LOG_NET,
		    "%s: the client took no answer for tcp-idle-timeout, "
		    "closing",
		    c->tls ? "tls" : "tcp");
		md_srv_conn_free(c);
		return;
	}
	if (c->handshaking) {
		if (!conn_handshake(c) || c->handshaking)
			return;
		if (c->reading && SSL_has_pending(c->ssl))
			event_active(c->rd, EV_READ, 1);
	}
	if (c->read_wants_write) {
		c->read_wants_write = false;
		if (c->reading)
			event_active(c->rd, EV_READ, 1);
	}
	if (!conn_flush(c))
		return;
	if (c->closing) {
		if (evbuffer_get_length(c->out) == 0)
			md_srv_conn_free(c);
		return;
	}
	/* Half drained: read (and answer) the client's questions again. */
	if (c->throttled && evbuffer_get_length(c->out) <= TCP_OUTPUT_MAX / 2) {
		c->throttled = false;
		conn_reading(c, true);
		conn_resume(c);
	}
}

/* A new client connection, plain TCP or TLS (RFC 7858: the same DNS
 * messages with the same framing, inside TLS). */
void
md_srv_accept_conn(struct worker *wk, evutil_socket_t fd, struct sockaddr *sa,
    int salen, bool tls)
{
	struct tcp_conn *c;
	struct timeval rd = {(time_t)wk->cfg->tcp_read_timeout, 0};
	unsigned same = 0;

	/* Descriptors past the budget are kept for upstream sockets. */
	if (md_fd_over_budget(fd)) {
		md_warn(MD_LOG_SERVER,
		    "worker %u: %d descriptors open (RLIMIT_NOFILE less a "
		    "reserve): refusing a %s connection",
		    wk->id, md_fd_high_water(), tls ? "TLS" : "TCP");
		evutil_closesocket(fd);
		return;
	}
	for (struct tcp_conn *o = wk->conns; o != NULL; o = o->next)
		same += salen > 0 && same_host(&o->peer, sa);
	if (same >= wk->cfg->tcp_max_connections_per_client) {
		char who[MD_SOCKADDR_STRLEN];
		struct md_sockaddr ms;

		memset(&ms, 0, sizeof(ms));
		memcpy(&ms.ss, sa, (size_t)salen);
		ms.len = (socklen_t)salen;
		md_warn(MD_LOG_SERVER,
		    "worker %u: %s has %u connections "
		    "(tcp-max-connections-per-client): refusing another",
		    wk->id, md_sockaddr_str(&ms, who, sizeof(who)), same);
		evutil_closesocket(fd);
		return;
	}
	/* Full: make room by closing the connection idle the longest; with
	 * none idle, this client waits (closed) and the listeners rest
	 * until a connection ends. */
	if (wk->nconns >= wk->max_conns && !close_oldest_idle(wk)) {
		evutil_closesocket(fd);
		if (!wk->accept_paused) {
			md_warn(MD_LOG_SERVER,
			    "worker %u: %u TCP connections open, none idle "
			    "(tcp-max-connections): not accepting more for "
			    "now",
			    wk->id, wk->nconns);
			wk->accept_paused = true;
			listeners_update(wk);
		}
		return;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	/* Each write is a whole batch of answers: send it now, not when
	 * the client's ACK of the last one comes (Nagle's wait meets the
	 * client's delayed ACK: tens of milliseconds on a pipelined
	 * connection). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	c->wk = wk;
	c->fd = fd;
	c->tls = tls;
	c->last_ms = md_now_ms();
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = (socklen_t)salen;
	}
	c->deadline = evtimer_new(wk->base, deadline_cb, c);
	c->rd = event_new(wk->base, fd, EV_READ | EV_PERSIST, tcp_rd_cb, c);
	c->wr = event_new(wk->base, fd, EV_WRITE | EV_PERSIST, tcp_wr_cb, c);
	c->out = evbuffer_new();
	if (tls) {
		/* Read-ahead: one recv() takes every record the socket
		 * has; partial writes with a moving buffer: a record the
		 * socket did not take is offered again from out. */
		c->ssl = SSL_new(wk->srv->tls_ctx);
		if (c->ssl != NULL && SSL_set_fd(c->ssl, fd) == 1) {
			SSL_set_accept_state(c->ssl);
			SSL_set_read_ahead(c->ssl, 1);
			SSL_set_mode(c->ssl,
			    SSL_MODE_ENABLE_PARTIAL_WRITE |
				SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
			c->handshaking = true;
		} else if (c->ssl != NULL) {
			SSL_free(c->ssl);
			c->ssl = NULL;
		}
	}
	if (c->deadline == NULL || c->rd == NULL || c->wr == NULL ||
	    c->out == NULL || (tls && c->ssl == NULL)) {
		if (c->deadline != NULL)
			event_free(c->deadline);
		if (c->rd != NULL)
			event_free(c->rd);
		if (c->wr != NULL)
			event_free(c->wr);
		if (c->out != NULL)
			evbuffer_free(c->out);
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	conn_reading(c, true);
	/* The handshake is read like a message: within tcp-read-timeout. */
	if (tls)
		evtimer_add(c->deadline, &rd);
	c->next = wk->conns;
	if (wk->conns != NULL)
		wk->conns->prev = c;
	wk->conns = c;
	wk->nconns++;
	md_metrics_conn(wk->id, true);
}

void
md_srv_tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	md_srv_accept_conn(arg, fd, sa, salen, false);
}

void
md_srv_tls_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	md_srv_accept_conn(arg, fd, sa, salen, true);
}
