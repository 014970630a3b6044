/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.c - the UDP and TCP listeners on one libevent base.  UDP reads
 * answer datagram by datagram; TCP follows RFC 7766: 2-byte length
 * framing, several queries per connection answered in turn (pipelining),
 * an idle timeout, a cap on open connections, and no unbounded output
 * queue towards a client that does not read.
 *
 * Answers come from md_query_process() (query.c): local zones, then the
 * cache.  What neither can answer is resolved (resolve/ driven here, its
 * upstream queries sent through net/); identical questions in flight
 * share one resolution, and every client waiting on it gets the answer.
 * The zone snapshot is swapped by md_server_set_zones(); local answers are
 * synchronous, so no local lookup is in flight across a swap.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "minidns/ldns_bridge.h"
#include "minidns/metrics.h"
#include "minidns/ratelimit.h"
#include "minidns/net.h"
#include "minidns/server.h"

#define UDP_BATCH 64		    /* datagrams read per wake-up */
#define TCP_OUTPUT_MAX (256 * 1024) /* stop reading a client above this */
#define INFLIGHT_MAX 10000	    /* resolutions at once */
#define WAITERS_MAX 1000	    /* clients on one resolution */
#define INFLIGHT_BUCKETS 4096

struct tcp_conn;
struct probe;

/* A client waiting for a resolution. */
struct waiter {
	struct waiter *next;		      /* on the resolution */
	struct waiter *conn_prev, *conn_next; /* on its TCP connection */
	struct md_wire_query q;		      /* id, flags, name as sent */
	bool tcp;
	struct tcp_conn *conn;	      /* TCP; NULL once the connection closed */
	evutil_socket_t fd;	      /* UDP listener socket */
	struct sockaddr_storage from; /* the client (UDP and TCP) */
	socklen_t fromlen;
	enum md_metric_transport transport;
	uint64_t start_us; /* when the query came in */
};

/* One resolution in flight, shared by every client asking the same. */
struct resolution {
	struct resolution *hnext;
	struct md_server *srv;
	uint8_t name[MD_NAME_MAX]; /* lower case */
	uint16_t qtype;
	uint32_t hash;
	struct md_request *req;
	struct md_net_query *nq;
	uint32_t token;
	bool sent_forward; /* the query out goes to a forwarder */
	/* md_server_trace(): every event to trace_line, then trace_done */
	void (*trace_line)(void *ctx, const char *text);
	void (*trace_done)(void *ctx, int rcode, const char *reason);
	void *trace_ctx;
	struct waiter *waiters;
	unsigned nwaiters;
};

struct udp_listener {
	struct md_server *srv;
	struct event *ev;
	evutil_socket_t fd;
};

struct tcp_conn {
	struct md_server *srv;
	struct bufferevent *bev;
	bool tls;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tcp_conn *prev, *next;
	struct waiter *waiters; /* its queries still being resolved */
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
	bool accept_paused;	  /* at tcp-max-connections */
	char *tls_cert, *tls_key; /* owned copies of the config's paths */
	bool primed;		  /* the root priming query was started */
	struct md_ratelimit *rl;  /* rate-limit; NULL when off */
	unsigned rl_rate;	  /* the rate 'rl' was made for */
	/* DNS over TLS service */
	SSL_CTX *tls_ctx;
	struct evconnlistener *tls[MD_CONFIG_MAX_LISTEN];
	size_t ntls;
	/* health checks of forwarders held down as dead */
	struct event *health_ev;
	unsigned probes; /* in flight */
	struct probe *probe_list;
	/* draining before exit (md_server_drain) */
	uint64_t last_udp_ms;
	struct event *drain_ev;
	uint64_t drain_start_ms;
	void (*drain_done)(void *arg);
	void *drain_arg;
	/* recursion */
	struct md_resolve_conf rconf;
	struct md_resolve_env env;
	struct md_cache *cache;
	struct md_infra *infra;
	struct md_net *net;
	struct resolution *inflight[INFLIGHT_BUCKETS];
	unsigned ninflight;
	uint8_t buf[MD_WIRE_MAX];
	uint8_t out[MD_WIRE_MAX + 2];
	uint8_t scratch[MD_WIRE_MAX + 1024]; /* cache entries copied out */
};

static void resolution_drive(struct resolution *res);

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
	if (!info->q.has_question ||
	    md_name_to_str(info->q.qname, name, sizeof(name)) != 0)
		md_strlcpy(name, "-", sizeof(name));
	md_debug(MD_LOG_SERVER, "%s %s %s %s: %s, %s %s%s", proto,
	    md_sockaddr_str(&sa, client, sizeof(client)), name,
	    md_ldns_type_str(info->qtype, type, sizeof(type)),
	    md_query_verdict_str(info->verdict),
	    info->need_recursion   ? "resolving"
		: info->from_cache ? "from cache"
				   : md_zone_status_str(info->status),
	    info->need_recursion ? "" : md_rcode_str(info->rcode),
	    info->need_recursion  ? ""
		: info->truncated ? ", truncated"
				  : "");
}

/*
 * One query done: the metrics, and the query log when it is on.  A query
 * with no response (dropped) counts as such.
 */
static void
account(const struct sockaddr *from, socklen_t fromlen,
    enum md_metric_transport t, const struct md_wire_query *q, int rcode,
    enum md_metric_source src, uint64_t start_us, bool responded)
{
	uint64_t us = md_now_us() - start_us;

	if (!responded) {
		md_metrics_dropped();
		return;
	}
	md_metrics_response(rcode, src, us);
	if (md_querylog_enabled()) {
		struct md_querylog_entry e;
		struct md_sockaddr sa;
		char client[MD_SOCKADDR_STRLEN], name[MD_NAME_STRLEN];
		char type[32];

		memset(&sa, 0, sizeof(sa));
		if (fromlen <= sizeof(sa.ss))
			memcpy(&sa.ss, from, fromlen);
		sa.len = fromlen;
		if (!q->has_question ||
		    md_name_to_str(q->qname, name, sizeof(name)) != 0)
			md_strlcpy(name, "-", sizeof(name));
		e.client = md_sockaddr_str(&sa, client, sizeof(client));
		e.name = name;
		e.type = q->has_question
		    ? md_ldns_type_str(q->qtype, type, sizeof(type))
		    : "-";
		e.rcode = md_rcode_str(rcode);
		e.source = md_metric_source_str(src);
		e.transport = md_metric_transport_str(t);
		e.duration_us = us;
		md_querylog(&e);
	}
}

/* Where an immediate answer came from. */
static enum md_metric_source
immediate_source(const struct md_query_info *info)
{
	if (info->verdict != MD_QUERY_OK || info->refused_recursion)
		return MD_SOURCE_ERROR;
	if (info->from_cache)
		return MD_SOURCE_CACHE;
	if (info->status != MD_ZONE_NOT_LOCAL)
		return MD_SOURCE_LOCAL;
	return MD_SOURCE_ERROR;
}

/* ---- resolutions ------------------------------------------------------- */

static void
query_ctx(struct md_server *srv, bool recursion, struct md_query_ctx *ctx)
{
	ctx->zones = srv->zones;
	ctx->edns_size = srv->cfg.edns_buffer_size;
	ctx->recursion = recursion;
	ctx->serve_stale = srv->cfg.serve_stale;
	ctx->cache = srv->cache;
	ctx->min_ttl = srv->cfg.cache_min_ttl;
	ctx->max_ttl = srv->cfg.cache_max_ttl;
	ctx->max_negative_ttl = srv->cfg.cache_max_negative_ttl;
	ctx->scratch = srv->scratch;
	ctx->scratch_len = sizeof(srv->scratch);
}

/* Recursion is offered to this client (config and access-control). */
static bool
may_recurse(const struct md_server *srv, const struct sockaddr *from)
{
	return srv->cfg.recursion &&
	    md_acl_allows(srv->cfg.acl, srv->cfg.nacl, from);
}

static void tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len);

/* Send the answer to one waiting client. */
static void
answer_waiter(
    struct md_server *srv, struct waiter *w, const struct md_result *r)
{
	struct md_query_ctx ctx;
	struct md_query_info info;
	size_t len;

	query_ctx(srv, true, &ctx);
	len = md_query_respond(
	    &ctx, &w->q, w->tcp, r, srv->out + 2, sizeof(srv->out) - 2, &info);
	account((struct sockaddr *)&w->from, w->fromlen, w->transport, &w->q,
	    info.rcode,
	    info.from_cache
		? MD_SOURCE_CACHE
		: (md_resolve_find_forward(&srv->rconf, w->q.qname) != NULL
			  ? MD_SOURCE_FORWARD
			  : MD_SOURCE_RECURSION),
	    w->start_us, len > 0 && (!w->tcp || w->conn != NULL));
	if (len == 0)
		return;
	if (w->tcp) {
		if (w->conn != NULL)
			tcp_send(w->conn, srv->out + 2, len);
		return;
	}
	if (sendto(w->fd, srv->out + 2, len, 0, (struct sockaddr *)&w->from,
		w->fromlen) < 0)
		md_debug(MD_LOG_NET, "sendto: %s", strerror(errno));
}

static void
waiter_detach_conn(struct waiter *w)
{
	struct tcp_conn *c = w->conn;

	if (c == NULL)
		return;
	if (w->conn_prev != NULL)
		w->conn_prev->conn_next = w->conn_next;
	else
		c->waiters = w->conn_next;
	if (w->conn_next != NULL)
		w->conn_next->conn_prev = w->conn_prev;
	w->conn = NULL;
}

static void
resolution_free(struct resolution *res)
{
	struct md_server *srv = res->srv;
	struct resolution **pp = &srv->inflight[res->hash % INFLIGHT_BUCKETS];

	while (*pp != NULL && *pp != res)
		pp = &(*pp)->hnext;
	if (*pp == res) {
		*pp = res->hnext;
		srv->ninflight--;
	}
	while (res->waiters != NULL) {
		struct waiter *w = res->waiters;

		res->waiters = w->next;
		waiter_detach_conn(w);
		free(w);
	}
	md_net_cancel(res->nq);
	md_resolve_free(res->req);
	free(res);
}

static void
trace_log_cb(void *arg, const struct md_trace_event *ev)
{
	char line[1024];

	(void)arg;
	md_trace_format(ev, line, sizeof(line));
	md_info(MD_LOG_SERVER, "trace: %s", line);
}

/*
 * Trace this resolution in the log?  All of them at debug level, else
 * those for the names listed in log-trace (at or below each name).
 */
static void
maybe_trace(
    const struct md_server *srv, struct md_request *req, const uint8_t *name)
{
	bool on = md_log_get_level() >= MD_LOG_DEBUG;

	for (size_t i = 0; !on && i < srv->cfg.ntrace; i++)
		on = md_name_is_subdomain(name, srv->cfg.trace[i]);
	if (on)
		md_resolve_set_trace(req, trace_log_cb, NULL);
}

static void
net_cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct resolution *res = arg;

	res->nq = NULL;
	md_metrics_upstream_done(
	    res->sent_forward, status == MD_NET_TIMEOUT, rtt_ms);
	if (status == MD_NET_OK)
		md_resolve_reply(res->req, res->token, reply, len, rtt_ms);
	else
		md_resolve_fail(res->req, res->token, status == MD_NET_TIMEOUT);
	resolution_drive(res);
}

/* Run the engine until it waits for the network or is done. */
static void
resolution_drive(struct resolution *res)
{
	struct md_server *srv = res->srv;

	for (int guard = 0; guard < 64; guard++) {
		struct md_send send;
		enum md_step st = md_resolve_step(res->req, &send);

		if (st == MD_STEP_WAIT)
			return;
		if (st == MD_STEP_DONE) {
			const struct md_result *r = md_resolve_result(res->req);

			if (r->rcode == MD_RCODE_SERVFAIL)
				md_info(MD_LOG_SERVER, "SERVFAIL: %s",
				    r->reason ? r->reason : "?");
			for (struct waiter *w = res->waiters; w != NULL;
			     w = w->next)
				answer_waiter(srv, w, r);
			if (res->trace_done != NULL)
				res->trace_done(
				    res->trace_ctx, r->rcode, r->reason);
			resolution_free(res);
			return;
		}
		res->token = send.token;
		res->sent_forward = send.upstream != NULL;
		md_metrics_upstream(send.upstream != NULL,
		    send.upstream != NULL &&
			    send.upstream->transport == MD_TRANSPORT_TLS
			? MD_METRIC_TLS
			: (send.tcp ? MD_METRIC_TCP : MD_METRIC_UDP));
		if (send.upstream != NULL) {
			/* A forwarder: its own transport; TCP when asked
			 * (force-tcp, or a truncated UDP reply). */
			struct md_upstream up = *send.upstream;

			if (send.tcp && up.transport == MD_TRANSPORT_UDP)
				up.transport = MD_TRANSPORT_TCP;
			res->nq = md_net_send_to(srv->net, &up, send.query,
			    send.len, send.timeout_ms, net_cb, res);
		} else {
			res->nq = md_net_send(srv->net, &send.server, send.tcp,
			    send.query, send.len, send.timeout_ms, net_cb, res);
		}
		if (res->nq != NULL)
			return;
		/* Could not even send: next server. */
		md_resolve_fail(res->req, send.token, false);
	}
	md_err(MD_LOG_SERVER, "resolution did not settle; dropping it");
	resolution_free(res);
}

/* Join the resolution of (qname, qtype) in flight, or start one. */
static void
resolve_for(struct md_server *srv, struct waiter *w)
{
	uint8_t key[MD_NAME_MAX];
	uint32_t h;
	struct resolution *res;

	memcpy(key, w->q.qname, w->q.qname_len);
	md_name_lower(key);
	h = md_name_hash(key) * 31 + w->q.qtype;
	for (res = srv->inflight[h % INFLIGHT_BUCKETS]; res != NULL;
	     res = res->hnext) {
		if (res->hash == h && res->qtype == w->q.qtype &&
		    md_name_equal(res->name, key))
			break;
	}
	if (res != NULL) {
		if (res->nwaiters >= WAITERS_MAX)
			goto drop;
		w->next = res->waiters;
		res->waiters = w;
		res->nwaiters++;
		return;
	}
	if (srv->ninflight >= INFLIGHT_MAX)
		goto drop;
	/* RFC 8109: learn the current root NS set before relying on the
	 * hints for long.  Done when iteration is first needed, so a server
	 * used only for its local zones, or only forwarding, never sends a
	 * packet to the root servers. */
	if (!srv->primed && md_resolve_find_forward(&srv->rconf, key) == NULL)
		md_server_prime(srv);
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		goto drop;
	res->srv = srv;
	memcpy(res->name, key, w->q.qname_len);
	res->qtype = w->q.qtype;
	res->hash = h;
	res->req = md_resolve_new(&srv->env, key, w->q.qtype, 0);
	if (res->req == NULL) {
		free(res);
		goto drop;
	}
	maybe_trace(srv, res->req, key);
	res->waiters = w;
	res->nwaiters = 1;
	res->hnext = srv->inflight[h % INFLIGHT_BUCKETS];
	srv->inflight[h % INFLIGHT_BUCKETS] = res;
	srv->ninflight++;
	resolution_drive(res);
	return;
drop:
	/* Overloaded: the client will retry. */
	waiter_detach_conn(w);
	free(w);
}

static struct waiter *
waiter_new(const struct md_query_info *info, bool tcp)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w != NULL) {
		w->q = info->q;
		w->tcp = tcp;
	}
	return w;
}

static void
trace_line_cb(void *arg, const struct md_trace_event *ev)
{
	struct resolution *res = arg;
	char line[1024];

	md_trace_format(ev, line, sizeof(line));
	res->trace_line(res->trace_ctx, line);
}

int
md_server_trace(struct md_server *srv, const uint8_t *qname, uint16_t qtype,
    void (*line)(void *ctx, const char *text),
    void (*done)(void *ctx, int rcode, const char *reason), void *ctx)
{
	struct resolution *res = calloc(1, sizeof(*res));

	if (res == NULL)
		return -ENOMEM;
	res->srv = srv;
	res->qtype = qtype;
	res->trace_line = line;
	res->trace_done = done;
	res->trace_ctx = ctx;
	res->req = md_resolve_new(&srv->env, qname, qtype, 0);
	if (res->req == NULL) {
		free(res);
		return -ENOMEM;
	}
	/* Not in the in-flight table: this one is for the operator alone,
	 * with every step shown; it still uses (and fills) the cache. */
	md_resolve_set_trace(res->req, trace_line_cb, res);
	resolution_drive(res);
	return 0;
}

struct md_cache *
md_server_cache(struct md_server *srv)
{
	return srv->cache;
}

const struct md_net *
md_server_net(const struct md_server *srv)
{
	return srv->net;
}

int
md_server_prime(struct md_server *srv)
{
	struct resolution *res;
	uint8_t root = 0;

	if (!srv->cfg.recursion || srv->primed ||
	    md_resolve_find_forward(&srv->rconf, &root) != NULL)
		return 0;
	srv->primed = true;
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		return -ENOMEM;
	res->srv = srv;
	res->qtype = MD_TYPE_NS;
	res->hash = md_name_hash(&root) * 31 + MD_TYPE_NS;
	res->req = md_resolve_new(&srv->env, &root, MD_TYPE_NS, 0);
	if (res->req == NULL) {
		free(res);
		return -ENOMEM;
	}
	maybe_trace(srv, res->req, &root);
	res->hnext = srv->inflight[res->hash % INFLIGHT_BUCKETS];
	srv->inflight[res->hash % INFLIGHT_BUCKETS] = res;
	srv->ninflight++;
	md_info(MD_LOG_SERVER, "priming the root NS set from %zu hints",
	    srv->rconf.nhints);
	resolution_drive(res);
	return 0;
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
		srv->last_udp_ms = md_now_ms();
		/* Port 0 cannot be answered: a spoofed or broken source. */
		if ((from.ss_family == AF_INET &&
			((struct sockaddr_in *)&from)->sin_port == 0) ||
		    (from.ss_family == AF_INET6 &&
			((struct sockaddr_in6 *)&from)->sin6_port == 0))
			continue;
		if (!md_ratelimit_allow(
			srv->rl, (struct sockaddr *)&from, srv->last_udp_ms)) {
			md_metrics_rate_limited();
			continue;
		}
		struct md_query_ctx ctx;
		uint64_t start_us = md_now_us();

		query_ctx(
		    srv, may_recurse(srv, (struct sockaddr *)&from), &ctx);
		size_t len = md_query_process(&ctx, false, srv->buf, (size_t)n,
		    srv->out, sizeof(srv->out), &info);

		md_metrics_request(MD_METRIC_UDP, info.qtype);
		log_query("udp", (struct sockaddr *)&from, fromlen, &info);
		if (info.refused_recursion && srv->cfg.recursion)
			md_metrics_refused_acl();
		if (info.need_recursion) {
			struct waiter *w = waiter_new(&info, false);

			if (w == NULL)
				continue;
			w->fd = fd;
			memcpy(&w->from, &from, fromlen);
			w->fromlen = fromlen;
			w->transport = MD_METRIC_UDP;
			w->start_us = start_us;
			resolve_for(srv, w);
			continue;
		}
		account((struct sockaddr *)&from, fromlen, MD_METRIC_UDP,
		    &info.q, info.rcode, immediate_source(&info), start_us,
		    len > 0);
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
	/* Queries still being resolved will find no one to answer. */
	while (c->waiters != NULL)
		waiter_detach_conn(c->waiters);
	bufferevent_free(c->bev);
	free(c);
	srv->nconns--;
	md_metrics_conn(false);
	/* A slot is free again: accept more if we had stopped. */
	if (srv->accept_paused && srv->nconns < srv->cfg.tcp_max_connections) {
		for (size_t i = 0; i < srv->ntcp; i++)
			evconnlistener_enable(srv->tcp[i]);
		for (size_t i = 0; i < srv->ntls; i++)
			evconnlistener_enable(srv->tls[i]);
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
		struct md_query_ctx ctx;
		uint64_t start_us = md_now_us();
		enum md_metric_transport t =
		    c->tls ? MD_METRIC_TLS : MD_METRIC_TCP;

		query_ctx(
		    srv, may_recurse(srv, (struct sockaddr *)&c->peer), &ctx);
		rlen = md_query_process(&ctx, true, srv->buf, qlen,
		    srv->out + 2, sizeof(srv->out) - 2, &info);
		md_metrics_request(t, info.qtype);
		log_query(c->tls ? "tls" : "tcp", (struct sockaddr *)&c->peer,
		    c->peerlen, &info);
		if (info.refused_recursion && srv->cfg.recursion)
			md_metrics_refused_acl();
		if (info.need_recursion) {
			/* Answered when resolved, maybe out of order
			 * (RFC 7766 §6.2.1.1). */
			struct waiter *w = waiter_new(&info, true);

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
			resolve_for(srv, w);
			continue;
		}
		account((struct sockaddr *)&c->peer, c->peerlen, t, &info.q,
		    info.rcode, immediate_source(&info), start_us, rlen > 0);
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

/* Queue one framed message on a connection (RFC 7766 §8). */
static void
tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
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
		conn_free(c);
}

/* A new client connection, plain TCP or TLS (RFC 7858: the same DNS
 * messages with the same framing, inside TLS). */
static void
accept_conn(struct md_server *srv, evutil_socket_t fd, struct sockaddr *sa,
    int salen, bool tls)
{
	struct tcp_conn *c;
	struct timeval idle = {(time_t)srv->cfg.tcp_idle_timeout, 0};

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->tls = tls;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = (socklen_t)salen;
	}
	if (tls) {
		SSL *ssl = SSL_new(srv->tls_ctx);

		c->bev = ssl == NULL
		    ? NULL
		    : bufferevent_openssl_socket_new(srv->base, fd, ssl,
			  BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL && ssl != NULL)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(
		    srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
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
	md_metrics_conn(true);
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
		for (size_t i = 0; i < srv->ntls; i++)
			evconnlistener_disable(srv->tls[i]);
		srv->accept_paused = true;
	}
}

static void
tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	accept_conn(arg, fd, sa, salen, false);
}

static void
tls_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	accept_conn(arg, fd, sa, salen, true);
}

/* ---- health of forwarders ------------------------------------------------ */

#define HEALTH_INTERVAL_S 2
#define HEALTH_PROBES_MAX 16

struct probe {
	struct probe *next;
	struct md_server *srv;
	struct md_sockaddr addr;
};

static void
probe_unlink(struct probe *p)
{
	struct probe **pp = &p->srv->probe_list;

	while (*pp != NULL && *pp != p)
		pp = &(*pp)->next;
	if (*pp == p)
		*pp = p->next;
}

static void
probe_cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct probe *p = arg;
	char name[MD_SOCKADDR_STRLEN];

	(void)reply;
	(void)len;
	p->srv->probes--;
	probe_unlink(p);
	/* Any DNS answer means the upstream is back: its RTT clears the
	 * hold-down (md_infra_rtt). */
	if (status == MD_NET_OK) {
		md_infra_rtt(p->srv->infra, &p->addr, rtt_ms, md_now_ms());
		md_info(MD_LOG_SERVER, "forwarder %s answers again",
		    md_sockaddr_str(&p->addr, name, sizeof(name)));
	}
	free(p);
}

/*
 * Every few seconds, ask each forwarder that is held down as dead a small
 * question (". NS"), like CoreDNS's forward plugin does, so that it comes
 * back as soon as it answers rather than when its hold-down runs out.
 */
static void
health_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_server *srv = arg;
	struct timeval tv = {HEALTH_INTERVAL_S, 0};
	uint8_t query[64], root = 0;
	int len;

	(void)fd;
	(void)what;
	len = md_msg_build_query(query, sizeof(query), 0, &root, MD_TYPE_NS,
	    false, true, srv->rconf.edns_size, false);
	for (size_t i = 0; len > 0 && i < srv->rconf.nforward; i++) {
		const struct md_forward_zone *f = &srv->rconf.forward[i];

		for (size_t j = 0; j < f->nservers; j++) {
			struct md_infra_info info;
			struct probe *p;

			if (srv->probes >= HEALTH_PROBES_MAX)
				break;
			md_infra_get(srv->infra, &f->servers[j].addr, f->zone,
			    md_now_ms(), 400, &info);
			if (!info.dead)
				continue;
			p = calloc(1, sizeof(*p));
			if (p == NULL)
				break;
			p->srv = srv;
			p->addr = f->servers[j].addr;
			if (md_net_send_to(srv->net, &f->servers[j], query,
				(size_t)len, 1000, probe_cb, p) == NULL) {
				free(p);
				continue;
			}
			p->next = srv->probe_list;
			srv->probe_list = p;
			srv->probes++;
		}
	}
	event_add(srv->health_ev, &tv);
}

/* ---- restarts without a lost query --------------------------------------- */

/*
 * The sockets of one address form an SO_REUSEPORT group shared by the old
 * and the new process during a restart.  This classic BPF program, set on
 * the group by the newest process, picks socket index 1: with two sockets
 * that is the newest one, so every new datagram and connection goes to the
 * new process while the old one drains what it already has.  With one
 * socket the index is out of range and the kernel falls back to its hash,
 * so a process alone is not affected.
 */
static void
steer_to_newest(evutil_socket_t fd)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_RET | BPF_K, 1),
	};
	struct sock_fprog prog = {1, code};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
		sizeof(prog)) != 0)
		md_debug(MD_LOG_SERVER, "SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
}

/* Accept what waits in a listener's queue before closing it. */
static void
drain_listener(struct md_server *srv, struct evconnlistener *l, bool tls)
{
	evutil_socket_t lfd = evconnlistener_get_fd(l);

	for (int i = 0; i < 1024; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		evutil_socket_t fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		accept_conn(srv, fd, (struct sockaddr *)&ss, (int)len, tls);
	}
}

#define DRAIN_QUIET_MS 150 /* no datagram for this long: drained */
#define DRAIN_MAX_MS 5000

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_server *srv = arg;
	uint64_t now = md_now_ms();
	struct timeval tv = {0, 50 * 1000};
	bool busy = srv->ninflight > 0;

	(void)fd;
	(void)what;
	for (struct tcp_conn *c = srv->conns; c != NULL && !busy; c = c->next)
		busy = c->waiters != NULL ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
	if ((!busy && now - srv->last_udp_ms >= DRAIN_QUIET_MS) ||
	    now - srv->drain_start_ms >= DRAIN_MAX_MS) {
		md_info(MD_LOG_SERVER, "drained%s; stopping",
		    busy ? " (time is up)" : "");
		srv->drain_done(srv->drain_arg);
		return;
	}
	event_add(srv->drain_ev, &tv);
}

void
md_server_drain(struct md_server *srv, void (*done)(void *arg), void *arg)
{
	struct timeval tv = {0, 50 * 1000};

	if (srv->drain_ev != NULL)
		return;
	md_info(MD_LOG_SERVER,
	    "draining: no new TCP connections; answering what is queued and "
	    "in flight");
	/* New connections go to the new process (steered); the ones already
	 * queued here are taken, not reset. */
	for (size_t i = 0; i < srv->ntcp; i++) {
		drain_listener(srv, srv->tcp[i], false);
		evconnlistener_free(srv->tcp[i]);
	}
	srv->ntcp = 0;
	for (size_t i = 0; i < srv->ntls; i++) {
		drain_listener(srv, srv->tls[i], true);
		evconnlistener_free(srv->tls[i]);
	}
	srv->ntls = 0;
	srv->drain_done = done;
	srv->drain_arg = arg;
	srv->drain_start_ms = md_now_ms();
	srv->drain_ev = evtimer_new(srv->base, drain_cb, srv);
	if (srv->drain_ev == NULL) {
		done(arg);
		return;
	}
	event_add(srv->drain_ev, &tv);
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
	/* A new process binds the same addresses while this one still runs
	 * (a restart or upgrade without a gap; see steer_to_newest()). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
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
	srv->infra = md_infra_new(0);
	srv->net = md_net_new(base);
	struct md_cache_conf cc;

	md_cache_conf_init(&cc);
	cc.max_bytes = (size_t)cfg->cache_size_mib * 1024 * 1024;
	cc.min_ttl = cfg->cache_min_ttl;
	cc.max_ttl = cfg->cache_max_ttl;
	cc.max_negative_ttl = cfg->cache_max_negative_ttl;
	cc.serve_stale = cfg->serve_stale;
	srv->cache = md_cache_new(&cc);
	if (srv->zones == NULL || srv->infra == NULL || srv->net == NULL ||
	    srv->cache == NULL) {
		md_server_free(srv);
		return NULL;
	}
	srv->env.conf = &srv->rconf;
	srv->env.cache = srv->cache;
	srv->env.infra = srv->infra;
	if (md_net_set_tls_ca(srv->net, cfg->tls_ca) != 0) {
		md_err(MD_LOG_SERVER, "tls-ca %s: cannot load it",
		    cfg->tls_ca ? cfg->tls_ca : "(system store)");
		md_server_free(srv);
		return NULL;
	}
	if (cfg->tls_cert != NULL)
		srv->tls_cert = strdup(cfg->tls_cert);
	if (cfg->tls_key != NULL)
		srv->tls_key = strdup(cfg->tls_key);
	srv->health_ev = evtimer_new(base, health_cb, srv);
	if (srv->health_ev != NULL) {
		struct timeval tv = {HEALTH_INTERVAL_S, 0};

		event_add(srv->health_ev, &tv);
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
	srv->cfg.root_hints = NULL;
	srv->cfg.resolv_conf = NULL;
	srv->cfg.tls_ca = NULL;
	srv->cfg.tls_cert = NULL;
	srv->cfg.tls_key = NULL;
	if (cfg->rate_limit != srv->rl_rate) {
		struct md_ratelimit *rl = NULL;

		if (cfg->rate_limit > 0 &&
		    (rl = md_ratelimit_new(cfg->rate_limit)) == NULL) {
			md_err(MD_LOG_SERVER,
			    "rate-limit: out of memory, keeping %u a second",
			    srv->rl_rate);
			return;
		}
		md_ratelimit_free(srv->rl);
		srv->rl = rl;
		srv->rl_rate = cfg->rate_limit;
	}
}

void
md_server_set_resolve_conf(
    struct md_server *srv, const struct md_resolve_conf *rconf)
{
	/* Requests in flight read srv->rconf: it changes between their
	 * steps, never during one (one thread). */
	srv->rconf = *rconf;
}

/* The DNS-over-TLS listeners (tls-listen, tls-cert, tls-key). */
static int
listen_tls(struct md_server *srv)
{
	char name[MD_SOCKADDR_STRLEN];
	unsigned long e;

	if (srv->cfg.ntls_listen == 0)
		return 0;
	if (srv->tls_cert == NULL || srv->tls_key == NULL) {
		md_err(MD_LOG_SERVER,
		    "tls-listen needs tls-cert and tls-key (--tls-cert, "
		    "--tls-key)");
		return -EINVAL;
	}
	srv->tls_ctx = SSL_CTX_new(TLS_server_method());
	if (srv->tls_ctx == NULL)
		return -ENOMEM;
	/* RFC 8310 §9 / RFC 7525: TLS 1.2 or newer only. */
	SSL_CTX_set_min_proto_version(srv->tls_ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(srv->tls_ctx, srv->tls_cert) !=
		1 ||
	    SSL_CTX_use_PrivateKey_file(
		srv->tls_ctx, srv->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(srv->tls_ctx) != 1) {
		e = ERR_get_error();
		md_err(MD_LOG_SERVER, "TLS certificate %s / key %s: %s",
		    srv->tls_cert, srv->tls_key,
		    e != 0 ? ERR_reason_error_string(e) : "unusable");
		return -EINVAL;
	}
	for (size_t i = 0; i < srv->cfg.ntls_listen; i++) {
		const struct md_sockaddr *sa = &srv->cfg.tls_listen[i];
		evutil_socket_t fd = open_socket(sa, SOCK_STREAM);
		struct evconnlistener *l;

		md_sockaddr_str(sa, name, sizeof(name));
		if (fd < 0) {
			md_err(MD_LOG_SERVER, "cannot listen on %s (TLS): %s",
			    name, strerror(errno));
			return -errno;
		}
		l = evconnlistener_new(srv->base, tls_accept_cb, srv,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (l == NULL) {
			close(fd);
			return -ENOMEM;
		}
		steer_to_newest(fd);
		srv->tls[srv->ntls++] = l;
		md_info(MD_LOG_SERVER, "listening on %s (DNS over TLS)", name);
	}
	return 0;
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
		steer_to_newest(ufd);
		steer_to_newest(tfd);
		srv->nudp++;
		srv->tcp[srv->ntcp++] = l;
		opened++;
		md_info(MD_LOG_SERVER, "listening on %s (UDP and TCP)", name);
	}
	if (opened == 0) {
		md_err(MD_LOG_SERVER, "no address to listen on");
		return -EADDRNOTAVAIL;
	}
	return listen_tls(srv);
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
	md_ratelimit_free(srv->rl);
	for (size_t i = 0; i < INFLIGHT_BUCKETS; i++) {
		while (srv->inflight[i] != NULL)
			resolution_free(srv->inflight[i]);
	}
	while (srv->conns != NULL)
		conn_free(srv->conns);
	for (size_t i = 0; i < srv->nudp; i++) {
		event_free(srv->udp[i].ev);
		close(srv->udp[i].fd);
	}
	for (size_t i = 0; i < srv->ntcp; i++)
		evconnlistener_free(srv->tcp[i]);
	for (size_t i = 0; i < srv->ntls; i++)
		evconnlistener_free(srv->tls[i]);
	if (srv->health_ev != NULL)
		event_free(srv->health_ev);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	md_zone_set_unref(srv->zones);
	md_net_free(srv->net); /* cancels probes without callbacks */
	while (srv->probe_list != NULL) {
		struct probe *p = srv->probe_list;

		srv->probe_list = p->next;
		free(p);
	}
	md_cache_free(srv->cache);
	md_infra_free(srv->infra);
	if (srv->tls_ctx != NULL)
		SSL_CTX_free(srv->tls_ctx);
	free(srv->tls_cert);
	free(srv->tls_key);
	free(srv);
}
