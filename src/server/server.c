/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.c - the UDP and TCP listeners on one libevent base.  UDP reads
 * answer datagram by datagram; TCP follows RFC 7766: 2-byte length
 * framing, several queries per connection answered in turn (pipelining),
 * an idle timeout, a cap on open connections, and no unbounded output
 * queue towards a client that does not read.
 *
 * Answers come from md_query_answer() (query.c).  The zone snapshot is
 * swapped by md_server_set_zones(); answering is synchronous, so no query
 * is ever in flight across a swap.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "minidns/ldns_bridge.h"
#include "minidns/server.h"

#define UDP_BATCH 64		    /* datagrams read per wake-up */
#define TCP_OUTPUT_MAX (256 * 1024) /* stop reading a client above this */

struct udp_listener {
	struct md_server *srv;
	struct event *ev;
	evutil_socket_t fd;
};

struct tcp_conn {
	struct md_server *srv;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tcp_conn *prev, *next;
};

struct md_server {
	struct event_base *base;
	struct md_config cfg; /* scalars only; lists not copied */
	struct md_sockaddr listen[MD_CONFIG_MAX_LISTEN];
	size_t nlisten;
	bool listen_default;
	struct md_zone_set *zones;
	struct udp_listener udp[MD_CONFIG_MAX_LISTEN];
	size_t nudp;
	struct evconnlistener *tcp[MD_CONFIG_MAX_LISTEN];
	size_t ntcp;
	struct tcp_conn *conns;
	unsigned nconns;
	bool accept_paused; /* at tcp-max-connections */
	uint8_t buf[MD_WIRE_MAX];
	uint8_t out[MD_WIRE_MAX + 2];
};

/* One debug line per query: who asked what, and what came of it. */
static void
log_query(const char *proto, const struct sockaddr *from, socklen_t fromlen,
    const struct md_query_info *info)
{
	struct md_sockaddr sa;
	char client[MD_SOCKADDR_STRLEN];
	char name[MD_NAME_STRLEN];
	char type[32];

	if (md_log_get_level() < MD_LOG_DEBUG)
		return;
	memset(&sa, 0, sizeof(sa));
	if (fromlen <= sizeof(sa.ss))
		memcpy(&sa.ss, from, fromlen);
	sa.len = fromlen;
	if (info->qname[0] == 0 ||
	    md_name_to_str(info->qname, name, sizeof(name)) != 0)
		md_strlcpy(name, info->qname[0] == 0 ? "." : "?", sizeof(name));
	md_debug(MD_LOG_SERVER, "%s %s %s %s: %s, %s, %s%s", proto,
	    md_sockaddr_str(&sa, client, sizeof(client)), name,
	    md_ldns_type_str(info->qtype, type, sizeof(type)),
	    md_query_verdict_str(info->verdict),
	    md_zone_status_str(info->status), md_rcode_str(info->rcode),
	    info->truncated ? ", truncated" : "");
}

/* ---- UDP --------------------------------------------------------------- */

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener *l = arg;
	struct md_server *srv = l->srv;

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		struct md_query_info info;
		ssize_t n = recvfrom(fd, srv->buf, sizeof(srv->buf), 0,
		    (struct sockaddr *)&from, &fromlen);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				md_debug(MD_LOG_NET, "recvfrom: %s",
				    strerror(errno));
			return;
		}
		/* Port 0 cannot be answered: a spoofed or broken source. */
		if ((from.ss_family == AF_INET &&
			((struct sockaddr_in *)&from)->sin_port == 0) ||
		    (from.ss_family == AF_INET6 &&
			((struct sockaddr_in6 *)&from)->sin6_port == 0))
			continue;
		size_t len = md_query_answer(srv->zones,
		    srv->cfg.edns_buffer_size, false, srv->buf, (size_t)n,
		    srv->out, sizeof(srv->out), &info);

		log_query("udp", (struct sockaddr *)&from, fromlen, &info);
		if (len == 0)
			continue;
		if (sendto(fd, srv->out, len, 0, (struct sockaddr *)&from,
			fromlen) < 0)
			md_debug(MD_LOG_NET, "sendto: %s", strerror(errno));
	}
}

/* ---- TCP --------------------------------------------------------------- */

static void
conn_free(struct tcp_conn *c)
{
	struct md_server *srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
	srv->nconns--;
	/* A slot is free again: accept more if we had stopped. */
	if (srv->accept_paused && srv->nconns < srv->cfg.tcp_max_connections) {
		for (size_t i = 0; i < srv->ntcp; i++)
			evconnlistener_enable(srv->tcp[i]);
		srv->accept_paused = false;
	}
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct md_server *srv = c->srv;
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
			conn_free(c); /* nothing sensible follows */
			return;
		}
		if (evbuffer_get_length(in) < 2 + qlen)
			return;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, srv->buf, qlen);
		rlen = md_query_answer(srv->zones, srv->cfg.edns_buffer_size,
		    true, srv->buf, qlen, srv->out + 2, sizeof(srv->out) - 2,
		    &info);
		log_query(
		    "tcp", (struct sockaddr *)&c->peer, c->peerlen, &info);
		if (rlen == 0)
			continue;
		md_write_u16(srv->out, (uint16_t)rlen);
		evbuffer_add(out, srv->out, rlen + 2);
	}
	/* The client is not reading its answers: stop reading its
	 * questions until the output drains (tcp_write_cb). */
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, TCP_OUTPUT_MAX / 2, 0);
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
		conn_free(c);
}

static void
tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct md_server *srv = arg;
	struct tcp_conn *c;
	struct timeval idle = {(time_t)srv->cfg.tcp_idle_timeout, 0};

	(void)lev;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = (socklen_t)salen;
	}
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	/* At the cap, stop accepting; the kernel's backlog holds the rest
	 * until a connection closes or idles out. */
	if (++srv->nconns >= srv->cfg.tcp_max_connections &&
	    !srv->accept_paused) {
		md_warn(MD_LOG_SERVER,
		    "%u TCP connections open (tcp-max-connections): not "
		    "accepting more for now",
		    srv->nconns);
		for (size_t i = 0; i < srv->ntcp; i++)
			evconnlistener_disable(srv->tcp[i]);
		srv->accept_paused = true;
	}
}

/* ---- set-up ------------------------------------------------------------ */

static evutil_socket_t
open_socket(const struct md_sockaddr *sa, int type)
{
	int one = 1;
	evutil_socket_t fd =
	    socket(sa->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&sa->ss, sa->len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct md_server *
md_server_new(struct event_base *base, const struct md_config *cfg)
{
	struct md_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	srv->base = base;
	md_server_update(srv, cfg);
	memcpy(srv->listen, cfg->listen, sizeof(srv->listen));
	srv->nlisten = cfg->nlisten;
	srv->listen_default = cfg->listen_default;
	srv->zones = md_zone_set_new_empty();
	if (srv->zones == NULL) {
		free(srv);
		return NULL;
	}
	return srv;
}

void
md_server_update(struct md_server *srv, const struct md_config *cfg)
{
	srv->cfg = *cfg;
	/* The lists belong to the caller's config; keep only scalars. */
	srv->cfg.path = NULL;
	srv->cfg.zones = NULL;
	srv->cfg.nzones = 0;
}

int
md_server_listen(struct md_server *srv)
{
	char name[MD_SOCKADDR_STRLEN];
	size_t opened = 0;

	for (size_t i = 0; i < srv->nlisten; i++) {
		const struct md_sockaddr *sa = &srv->listen[i];
		evutil_socket_t ufd, tfd;

		md_sockaddr_str(sa, name, sizeof(name));
		ufd = open_socket(sa, SOCK_DGRAM);
		tfd = ufd < 0 ? -1 : open_socket(sa, SOCK_STREAM);
		if (ufd < 0 || tfd < 0) {
			int e = errno;

			if (ufd >= 0)
				close(ufd);
			if (srv->listen_default) {
				md_warn(MD_LOG_SERVER,
				    "cannot listen on %s: %s (skipped)", name,
				    strerror(e));
				continue;
			}
			md_err(MD_LOG_SERVER, "cannot listen on %s: %s", name,
			    strerror(e));
			return -e;
		}
		struct udp_listener *u = &srv->udp[srv->nudp];

		u->srv = srv;
		u->fd = ufd;
		u->ev = event_new(
		    srv->base, ufd, EV_READ | EV_PERSIST, udp_read_cb, u);
		struct evconnlistener *l = evconnlistener_new(srv->base,
		    tcp_accept_cb, srv, LEV_OPT_CLOSE_ON_FREE, -1, tfd);

		if (u->ev == NULL || l == NULL || event_add(u->ev, NULL) != 0) {
			md_err(MD_LOG_SERVER, "cannot set up %s", name);
			if (u->ev != NULL)
				event_free(u->ev);
			close(ufd);
			if (l != NULL)
				evconnlistener_free(l);
			else
				close(tfd);
			return -ENOMEM;
		}
		srv->nudp++;
		srv->tcp[srv->ntcp++] = l;
		opened++;
		md_info(MD_LOG_SERVER, "listening on %s (UDP and TCP)", name);
	}
	if (opened == 0) {
		md_err(MD_LOG_SERVER, "no address to listen on");
		return -EADDRNOTAVAIL;
	}
	return 0;
}

void
md_server_set_zones(struct md_server *srv, struct md_zone_set *zs)
{
	struct md_zone_set *old = srv->zones;

	srv->zones = zs;
	md_zone_set_unref(old);
}

void
md_server_free(struct md_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		conn_free(srv->conns);
	for (size_t i = 0; i < srv->nudp; i++) {
		event_free(srv->udp[i].ev);
		close(srv->udp[i].fd);
	}
	for (size_t i = 0; i < srv->ntcp; i++)
		evconnlistener_free(srv->tcp[i]);
	md_zone_set_unref(srv->zones);
	free(srv);
}
