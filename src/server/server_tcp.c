/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_tcp.c - TCP and DNS-over-TLS client connections on a worker (RFC 7766:
 * 2-byte framing, pipelining, idle timeout, a cap on connections, no
 * unbounded output towards a client that does not read).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "minidns/ldns_bridge.h"

#include "server-internal.h"

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
	bufferevent_free(c->bev);
	free(c);
	wk->nconns--;
	md_metrics_conn(false);
	/* A slot is free again: accept more if we had stopped. */
	if (wk->accept_paused && wk->nconns < wk->max_conns) {
		for (size_t i = 0; i < wk->ntcp; i++)
			evconnlistener_enable(wk->tcp[i]);
		for (size_t i = 0; i < wk->ntls; i++)
			evconnlistener_enable(wk->tls[i]);
		wk->accept_paused = false;
	}
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct worker *wk = c->wk;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);

	/* Answer every whole message already received, in order. */
	while (evbuffer_get_length(out) < TCP_OUTPUT_MAX) {
		uint8_t lenbuf[2];
		struct md_query_info info;
		size_t qlen, rlen;

		if (evbuffer_copyout(in, lenbuf, 2) < 2)
			return;
		qlen = md_read_u16(lenbuf);
		if (qlen == 0) {
			md_srv_conn_free(c); /* nothing sensible follows */
			return;
		}
		if (evbuffer_get_length(in) < 2 + qlen)
			return;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, wk->buf, qlen);
		struct md_query_ctx ctx;
		uint64_t start_us = md_now_us();
		enum md_metric_transport t =
		    c->tls ? MD_METRIC_TLS : MD_METRIC_TCP;

		md_srv_query_ctx(wk,
		    md_srv_may_recurse(wk, (struct sockaddr *)&c->peer), &ctx);
		rlen = md_query_process(&ctx, true, wk->buf, qlen, wk->out + 2,
		    sizeof(wk->out) - 2, &info);
		md_metrics_request(t, info.qtype);
		md_metrics_worker_request(wk->id);
		md_srv_log_query(c->tls ? "tls" : "tcp",
		    (struct sockaddr *)&c->peer, c->peerlen, &info);
		if (info.refused_recursion && wk->cfg->recursion)
			md_metrics_refused_acl();
		if (info.prefetch)
			md_srv_prefetch(wk, &info);
		if (info.need_recursion) {
			/* Answered when resolved, maybe out of order
			 * (RFC 7766 §6.2.1.1). */
			struct waiter *w = md_srv_waiter_new(&info, true);

			if (w == NULL)
				continue;
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
			continue;
		}
		md_srv_account((struct sockaddr *)&c->peer, c->peerlen, t,
		    &info.q, info.rcode, md_srv_immediate_source(&info),
		    start_us, rlen > 0);
		if (rlen == 0)
			continue;
		md_write_u16(wk->out, (uint16_t)rlen);
		evbuffer_add(out, wk->out, rlen + 2);
	}
	/* The client is not reading its answers: stop reading its
	 * questions until the output drains (tcp_write_cb). */
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, TCP_OUTPUT_MAX / 2, 0);
}

/* Queue one framed message on a connection (RFC 7766 §8). */
void
md_srv_tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t lenbuf[2];
	struct evbuffer *out = bufferevent_get_output(c->bev);

	md_write_u16(lenbuf, (uint16_t)len);
	evbuffer_add(out, lenbuf, 2);
	evbuffer_add(out, msg, len);
}

static void
tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;

	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
		tcp_read_cb(bev, c);
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

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->wk = wk;
	c->tls = tls;
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
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = wk->conns;
	if (wk->conns != NULL)
		wk->conns->prev = c;
	wk->conns = c;
	md_metrics_conn(true);
	/* At the cap, stop accepting; the kernel's backlog holds the rest
	 * until a connection closes or idles out. */
	if (++wk->nconns >= wk->max_conns && !wk->accept_paused) {
		md_warn(MD_LOG_SERVER,
		    "worker %u: %u TCP connections open "
		    "(tcp-max-connections): not accepting more for now",
		    wk->id, wk->nconns);
		for (size_t i = 0; i < wk->ntcp; i++)
			evconnlistener_disable(wk->tcp[i]);
		for (size_t i = 0; i < wk->ntls; i++)
			evconnlistener_disable(wk->tls[i]);
		wk->accept_paused = true;
	}
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
