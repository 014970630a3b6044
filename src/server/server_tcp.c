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
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

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
	return c->tls ? evbuffer_get_length(bufferevent_get_input(c->bev))
		      : c->npend;
}

/* Nothing in flight either way: no partial question, no answer owed. */
static bool
conn_idle(const struct tcp_conn *c)
{
	return c->waiters == NULL && conn_pending(c) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
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
	if (c->rd != NULL)
		event_free(c->rd); /* before the socket closes */
	bufferevent_free(c->bev);
	if (c->deadline != NULL)
		event_free(c->deadline);
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

/* Read the client's questions, or stop: the bufferevent reads TLS, c->rd
 * plain TCP (its timeout is the idle one, restarted by every read). */
static void
conn_reading(struct tcp_conn *c, bool on)
{
	struct timeval idle = {(time_t)c->wk->cfg->tcp_idle_timeout, 0};

	if (c->tls && on)
		bufferevent_enable(c->bev, EV_READ);
	else if (c->tls)
		bufferevent_disable(c->bev, EV_READ);
	else if (on)
		event_add(c->rd, &idle);
	else
		event_del(c->rd);
}

static bool
conn_is_reading(const struct tcp_conn *c)
{
	return c->tls ? (bufferevent_get_enabled(c->bev) & EV_READ) != 0
		      : event_pending(c->rd, EV_READ, NULL) != 0;
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

static void tcp_put(struct tcp_conn *c, const uint8_t *p, size_t len);
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
	struct md_query_ctx ctx;
	uint64_t start_us = md_now_us();
	enum md_metric_transport t = c->tls ? MD_METRIC_TLS : MD_METRIC_TCP;
	size_t rlen;

	/* A whole message: the next one's clock starts with its first
	 * byte. */
	evtimer_del(c->deadline);
	c->last_ms = md_now_ms();
	md_srv_query_ctx(
	    wk, md_srv_may_recurse(wk, (struct sockaddr *)&c->peer), &ctx);
	ctx.client = (const struct sockaddr *)&c->peer;
	rlen = md_query_process(
	    &ctx, true, q, qlen, wk->out + 2, sizeof(wk->out) - 2, &info);
	md_metrics_request(wk->id, t, info.qtype,
	    ((const struct sockaddr *)&c->peer)->sa_family == AF_INET6,
	    info.q.edns.do_bit);
	md_metrics_request_size(wk->id, t, qlen);
	md_srv_log_query(c->tls ? "tls" : "tcp", (struct sockaddr *)&c->peer,
	    c->peerlen, &info);
	if (info.refused_recursion && wk->cfg->recursion)
		md_metrics_refused_acl(wk->id);
	if (info.prefetch)
		md_srv_prefetch(wk, &info);
	if (info.autopath && !info.need_recursion && rlen > 0)
		md_metrics_autopath(wk->id);
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
	 * close once it is sent (at once, or tcp_write_cb). */
	tcp_stage_flush(wk, c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
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
	return evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    c->wk->tcp_staged <
	    TCP_OUTPUT_MAX;
}

/* The client is not reading its answers: send what is staged and stop
 * reading its questions until the output drains (tcp_write_cb); the write
 * timeout, not the read deadline, runs meanwhile. */
static void
conn_throttle(struct tcp_conn *c)
{
	tcp_stage_flush(c->wk, c);
	evtimer_del(c->deadline);
	conn_reading(c, false);
	bufferevent_setwatermark(c->bev, EV_WRITE, TCP_OUTPUT_MAX / 2, 0);
}

/* Plain TCP: keep the n bytes at p as the connection's pending bytes (p
 * is in them when own). */
static bool
conn_keep(struct tcp_conn *c, const uint8_t *p, size_t n, bool own)
{
	uint8_t *keep;

	if (n == 0) {
		free(c->pend);
		c->pend = NULL;
		c->npend = 0;
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
	c->npend = n;
	return true;
}

/*
 * Plain TCP: answer every whole message in p[0..n) (the worker's read
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

/* Plain TCP: the socket is readable (or idle for tcp-idle-timeout). */
static void
tcp_rd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	struct worker *wk = c->wk;
	size_t have = c->npend;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		md_debug(MD_LOG_NET, "tcp connection idle, closing");
		md_srv_conn_free(c);
		return;
	}
	/* Pending bytes first (at most a message less a byte: a reading
	 * connection answered all whole ones), then the socket's. */
	if (have >= sizeof(wk->tcp_in)) {
		(void)tcp_consume(c, c->pend, c->npend);
		return;
	}
	if (have > 0)
		memcpy(wk->tcp_in, c->pend, have);
	n = recv(
	    fd, wk->tcp_in + have, sizeof(wk->tcp_in) - have, MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			md_debug(MD_LOG_NET, "tcp: read: %s", strerror(errno));
		md_srv_conn_free(c); /* closed by the client, or reset */
		return;
	}
	(void)tcp_consume(c, wk->tcp_in, have + (size_t)n);
}

/* TLS: what the bufferevent decrypted, answered as tcp_consume() does. */
static void
tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct worker *wk = c->wk;
	struct evbuffer *in = bufferevent_get_input(bev);

	wk->tcp_staged = 0;
	while (conn_has_room(c)) {
		uint8_t h[2 + 3];
		long qlen;

		(void)evbuffer_copyout(in, h, sizeof(h));
		qlen = tcp_frame(h, evbuffer_get_length(in));
		if (qlen < 0) {
			not_dns(c);
			return;
		}
		if (qlen == 0) {
			tcp_stage_flush(wk, c);
			deadline_update(c);
			return;
		}
		evbuffer_drain(in, 2);
		evbuffer_remove(in, wk->buf, (size_t)qlen);
		if (tcp_answer(c, wk->buf, (size_t)qlen) != STEP_NEXT)
			return;
	}
	conn_throttle(c);
}

/* Answer what is pending: resuming after the output drained. */
static void
conn_resume(struct tcp_conn *c)
{
	if (c->tls)
		tls_read_cb(c->bev, c);
	else
		(void)tcp_consume(c, c->pend, c->npend);
}

/*
 * Send bytes on c.  On plain TCP with nothing queued before them, they go
 * straight to the socket (no buffer chain allocated, no write event
 * armed: the common case of a client that reads its answers); whatever
 * the socket does not take, and everything on TLS, is queued on the
 * bufferevent, which sends it when the socket is writable.
 */
static void
tcp_put(struct tcp_conn *c, const uint8_t *p, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (!c->tls && evbuffer_get_length(out) == 0) {
		ssize_t n = send(bufferevent_getfd(c->bev), p, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		/* An error (reset, closed): queued, the bufferevent's write
		 * meets it and closes the connection.  Bytes sent count as
		 * activity, as tcp_write_cb() counts the queued ones (the
		 * oldest idle connection is the one closed for a newcomer). */
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			c->last_ms = md_now_ms();
		}
	}
	if (len > 0)
		evbuffer_add(out, p, len);
}

/* Send the answers gathered in wk->tcp_stage. */
static void
tcp_stage_flush(struct worker *wk, struct tcp_conn *c)
{
	if (wk->tcp_staged > 0)
		tcp_put(c, wk->tcp_stage, wk->tcp_staged);
	wk->tcp_staged = 0;
}

/* Add one framed answer (wk->out: length and message) to the stage. */
static void
tcp_stage_add(struct worker *wk, struct tcp_conn *c, size_t len)
{
	if (wk->tcp_staged + len > sizeof(wk->tcp_stage))
		tcp_stage_flush(wk, c);
	if (len > sizeof(wk->tcp_stage)) {
		tcp_put(c, wk->out, len);
		return;
	}
	memcpy(wk->tcp_stage + wk->tcp_staged, wk->out, len);
	wk->tcp_staged += len;
}

/* Queue one framed message on a connection (RFC 7766 §8). */
void
md_srv_tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t lenbuf[2];
	struct evbuffer *out = bufferevent_get_output(c->bev);

	/* A resolution's answer, built in the worker's out buffer after
	 * room for the length: sent framed in place, as tcp_put() may.
	 * (One that ends inside a read's loop may pass answers still staged
	 * there: RFC 7766 §6.2.1.1 lets pipelined answers come in any
	 * order, and each message stays whole.) */
	md_write_u16(lenbuf, (uint16_t)len);
	if (msg == c->wk->out + 2) {
		memcpy(c->wk->out, lenbuf, 2);
		tcp_put(c, c->wk->out, len + 2);
		return;
	}
	evbuffer_add(out, lenbuf, 2);
	evbuffer_add(out, msg, len);
}

static void
tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;

	c->last_ms = md_now_ms();
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			md_srv_conn_free(c);
		return;
	}
	if (!conn_is_reading(c)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		conn_reading(c, true);
		conn_resume(c);
	}
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		md_debug(MD_LOG_NET, "tcp connection idle, closing");
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		md_srv_conn_free(c);
}

/* A new client connection, plain TCP or TLS (RFC 7858: the same DNS
 * messages with the same framing, inside TLS). */
void
md_srv_accept_conn(struct worker *wk, evutil_socket_t fd, struct sockaddr *sa,
    int salen, bool tls)
{
	struct tcp_conn *c;
	struct timeval idle = {(time_t)wk->cfg->tcp_idle_timeout, 0};
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
	c->tls = tls;
	c->last_ms = md_now_ms();
	c->deadline = evtimer_new(wk->base, deadline_cb, c);
	if (c->deadline == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = (socklen_t)salen;
	}
	if (tls) {
		SSL *ssl = SSL_new(wk->srv->tls_ctx);

		c->bev = ssl == NULL
		    ? NULL
		    : bufferevent_openssl_socket_new(wk->base, fd, ssl,
			  BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL && ssl != NULL)
			SSL_free(ssl);
	} else {
		c->bev =
		    bufferevent_socket_new(wk->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!tls && c->bev != NULL) {
		c->rd =
		    event_new(wk->base, fd, EV_READ | EV_PERSIST, tcp_rd_cb, c);
		if (c->rd == NULL) {
			bufferevent_free(c->bev); /* closes fd */
			event_free(c->deadline);
			free(c);
			return;
		}
	}
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		event_free(c->deadline);
		free(c);
		return;
	}
	/* Plain TCP: the bufferevent only writes (c->rd reads). */
	bufferevent_setcb(
	    c->bev, tls ? tls_read_cb : NULL, tcp_write_cb, tcp_event_cb, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, tls ? EV_READ | EV_WRITE : EV_WRITE);
	if (!tls)
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
