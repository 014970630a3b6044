/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.c - the UDP and TCP listeners, on worker threads.  Each worker
 * has its own libevent base, its own SO_REUSEPORT sockets for every listen
 * address (the kernel spreads clients over them), its own upstream
 * queries and resolutions in flight; worker 0 runs on the caller's base.
 * UDP is read and answered in batches (recvmmsg/sendmmsg); TCP follows
 * RFC 7766: 2-byte length framing, several queries per connection
 * answered in turn (pipelining), an idle timeout, a cap on open
 * connections, and no unbounded output queue towards a client that does
 * not read.
 *
 * Answers come from md_query_process() (query.c): local zones, then the
 * cache.  What neither can answer is resolved (resolve/ driven here, its
 * upstream queries sent through net/); identical questions in flight
 * share one resolution, and every client waiting on it gets the answer.
 * What workers share is safe to share: the cache (a lock per shard), the
 * infrastructure cache, the counters (atomics), the rate limiter (striped
 * locks).  Everything else a worker reads (its zone snapshot, its copy of
 * the configuration) is its own, replaced only on its own thread:
 * on_workers() runs a function on every worker and waits for all, so a
 * reload or a new zone snapshot is taken at a query boundary and read
 * without locks; the old snapshot is freed when the last worker drops it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "minidns/ldns_bridge.h"
#include "minidns/metrics.h"
#include "minidns/ratelimit.h"
#include "minidns/net.h"
#include "minidns/server.h"

#define UDP_BATCH 32		    /* datagrams per recvmmsg/sendmmsg */
#define UDP_QUERY_MAX 4096	    /* a larger datagram is not a query */
#define UDP_OUT_MAX 4096	    /* edns-buffer-size is at most this */
#define UDP_RCVBUF (4 << 20)	    /* socket receive buffer, bytes */
#define TCP_OUTPUT_MAX (256 * 1024) /* stop reading a client above this */
#define INFLIGHT_MAX 10000	    /* resolutions at once */
#define WAITERS_MAX 1000	    /* clients on one resolution */
#define INFLIGHT_BUCKETS 4096

struct tcp_conn;
struct probe;
struct worker;

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
	struct worker *wk;
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
	struct worker *wk;
	struct event *ev;
	evutil_socket_t fd;
};

struct tcp_conn {
	struct worker *wk;
	struct bufferevent *bev;
	bool tls;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tcp_conn *prev, *next;
	struct waiter *waiters; /* its queries still being resolved */
};

typedef void (*worker_fn)(struct worker *wk, void *arg);

/* One worker thread (worker 0: the caller's thread and base). */
struct worker {
	struct md_server *srv;
	unsigned id;
	struct event_base *base;
	pthread_t thread;
	bool has_thread;
	/* this worker's own, replaced on its thread only (on_workers) */
	struct md_config cfg; /* scalars only; lists not copied */
	struct md_zone_set *zones;
	struct md_ratelimit *rl;
	struct md_resolve_conf rconf;
	struct md_resolve_env env;
	/* sockets */
	struct udp_listener udp[MD_CONFIG_MAX_LISTEN];
	size_t nudp;
	struct evconnlistener *tcp[MD_CONFIG_MAX_LISTEN];
	size_t ntcp;
	struct evconnlistener *tls[MD_CONFIG_MAX_LISTEN];
	size_t ntls;
	struct tcp_conn *conns;
	unsigned nconns;
	unsigned max_conns; /* tcp-max-connections, per worker */
	bool accept_paused; /* at max_conns */
	/* recursion */
	struct md_net *net;
	bool primed; /* the root priming query was started */
	struct resolution *inflight[INFLIGHT_BUCKETS];
	unsigned ninflight;
	/* health checks of forwarders held down as dead (worker 0) */
	struct event *health_ev;
	unsigned probes; /* in flight */
	struct probe *probe_list;
	/* draining before exit (md_server_drain) */
	uint64_t last_udp_ms;
	struct event *drain_ev;
	uint64_t drain_start_ms;
	atomic_bool drained;
	/* a call from the main thread (on_workers), under srv->call_mu */
	struct event *call_ev;
	struct event *stop_ev; /* made active to end the thread's loop */
	worker_fn call_fn;
	void *call_arg;
	/* UDP batches: queries in, answers out, one slot per datagram */
	struct mmsghdr rmsg[UDP_BATCH];
	unsigned rused;	       /* slots the last recvmmsg() filled */
	uint64_t last_wake_us; /* udp_read_cb() last ran */
	struct iovec riov[UDP_BATCH];
	struct sockaddr_storage rfrom[UDP_BATCH];
	uint8_t rbuf[UDP_BATCH][UDP_QUERY_MAX];
	struct mmsghdr smsg[UDP_BATCH];
	struct iovec siov[UDP_BATCH];
	uint8_t sbuf[UDP_BATCH * UDP_OUT_MAX];
	/* TCP and resolution answers */
	uint8_t buf[MD_WIRE_MAX];
	uint8_t out[MD_WIRE_MAX + 2];
	uint8_t scratch[MD_WIRE_MAX + 1024]; /* cache entries copied out */
};

struct md_server {
	struct event_base *base; /* the caller's: worker 0, timers */
	struct md_config cfg;	 /* scalars only, as last given */
	struct md_sockaddr listen[MD_CONFIG_MAX_LISTEN];
	size_t nlisten;
	bool listen_default;
	struct worker *w[MD_CONFIG_MAX_THREADS];
	unsigned nworkers;
	bool threads_running;
	pthread_mutex_t call_mu;
	pthread_cond_t call_cv;
	/* shared by the workers */
	struct md_cache *cache;
	struct md_infra *infra;
	SSL_CTX *tls_ctx;
	char *tls_cert, *tls_key; /* owned copies of the config's paths */
	struct md_ratelimit *rl;  /* rate-limit; NULL when off */
	unsigned rl_rate;	  /* the rate 'rl' was made for */
	/* draining before exit */
	struct event *drain_ev;
	void (*drain_done)(void *arg);
	void *drain_arg;
};

static void resolution_drive(struct resolution *res);
static int prime(struct worker *wk);
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
query_ctx(struct worker *wk, bool recursion, struct md_query_ctx *ctx)
{
	ctx->zones = wk->zones;
	ctx->edns_size = wk->cfg.edns_buffer_size;
	ctx->recursion = recursion;
	ctx->serve_stale = wk->cfg.serve_stale;
	ctx->cache = wk->srv->cache;
	ctx->min_ttl = wk->cfg.cache_min_ttl;
	ctx->max_ttl = wk->cfg.cache_max_ttl;
	ctx->max_negative_ttl = wk->cfg.cache_max_negative_ttl;
	ctx->scratch = wk->scratch;
	ctx->scratch_len = sizeof(wk->scratch);
}

/* Recursion is offered to this client (config and access-control). */
static bool
may_recurse(const struct worker *wk, const struct sockaddr *from)
{
	return wk->cfg.recursion &&
	    md_acl_allows(wk->cfg.acl, wk->cfg.nacl, from);
}

static void tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len);

/* Send the answer to one waiting client. */
static void
answer_waiter(struct worker *wk, struct waiter *w, const struct md_result *r)
{
	struct md_query_ctx ctx;
	struct md_query_info info;
	size_t len;

	query_ctx(wk, true, &ctx);
	len = md_query_respond(
	    &ctx, &w->q, w->tcp, r, wk->out + 2, sizeof(wk->out) - 2, &info);
	account((struct sockaddr *)&w->from, w->fromlen, w->transport, &w->q,
	    info.rcode,
	    info.from_cache
		? MD_SOURCE_CACHE
		: (md_resolve_find_forward(&wk->rconf, w->q.qname) != NULL
			  ? MD_SOURCE_FORWARD
			  : MD_SOURCE_RECURSION),
	    w->start_us, len > 0 && (!w->tcp || w->conn != NULL));
	if (len == 0)
		return;
	if (w->tcp) {
		if (w->conn != NULL)
			tcp_send(w->conn, wk->out + 2, len);
		return;
	}
	if (sendto(w->fd, wk->out + 2, len, 0, (struct sockaddr *)&w->from,
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
	struct worker *wk = res->wk;
	struct resolution **pp = &wk->inflight[res->hash % INFLIGHT_BUCKETS];

	while (*pp != NULL && *pp != res)
		pp = &(*pp)->hnext;
	if (*pp == res) {
		*pp = res->hnext;
		wk->ninflight--;
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
    const struct worker *wk, struct md_request *req, const uint8_t *name)
{
	bool on = md_log_get_level() >= MD_LOG_DEBUG;

	for (size_t i = 0; !on && i < wk->cfg.ntrace; i++)
		on = md_name_is_subdomain(name, wk->cfg.trace[i]);
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
	struct worker *wk = res->wk;

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
				answer_waiter(wk, w, r);
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
			res->nq = md_net_send_to(wk->net, &up, send.query,
			    send.len, send.timeout_ms, net_cb, res);
		} else {
			res->nq = md_net_send(wk->net, &send.server, send.tcp,
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
resolve_for(struct worker *wk, struct waiter *w)
{
	uint8_t key[MD_NAME_MAX];
	uint32_t h;
	struct resolution *res;

	memcpy(key, w->q.qname, w->q.qname_len);
	md_name_lower(key);
	h = md_name_hash(key) * 31 + w->q.qtype;
	for (res = wk->inflight[h % INFLIGHT_BUCKETS]; res != NULL;
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
	if (wk->ninflight >= INFLIGHT_MAX)
		goto drop;
	/* RFC 8109: learn the current root NS set before relying on the
	 * hints for long.  Done when iteration is first needed, so a server
	 * used only for its local zones, or only forwarding, never sends a
	 * packet to the root servers. */
	if (!wk->primed && md_resolve_find_forward(&wk->rconf, key) == NULL)
		prime(wk);
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		goto drop;
	res->wk = wk;
	memcpy(res->name, key, w->q.qname_len);
	res->qtype = w->q.qtype;
	res->hash = h;
	res->req = md_resolve_new(&wk->env, key, w->q.qtype, 0);
	if (res->req == NULL) {
		free(res);
		goto drop;
	}
	maybe_trace(wk, res->req, key);
	res->waiters = w;
	res->nwaiters = 1;
	res->hnext = wk->inflight[h % INFLIGHT_BUCKETS];
	wk->inflight[h % INFLIGHT_BUCKETS] = res;
	wk->ninflight++;
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
	struct worker *wk = srv->w[0]; /* the caller's thread */
	struct resolution *res = calloc(1, sizeof(*res));

	if (res == NULL)
		return -ENOMEM;
	res->wk = wk;
	res->qtype = qtype;
	res->trace_line = line;
	res->trace_done = done;
	res->trace_ctx = ctx;
	res->req = md_resolve_new(&wk->env, qname, qtype, 0);
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

/* Prime the root NS set on this worker (md_server_prime()). */
static int
prime(struct worker *wk)
{
	struct resolution *res;
	uint8_t root = 0;

	if (!wk->cfg.recursion || wk->primed ||
	    md_resolve_find_forward(&wk->rconf, &root) != NULL)
		return 0;
	wk->primed = true;
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		return -ENOMEM;
	res->wk = wk;
	res->qtype = MD_TYPE_NS;
	res->hash = md_name_hash(&root) * 31 + MD_TYPE_NS;
	res->req = md_resolve_new(&wk->env, &root, MD_TYPE_NS, 0);
	if (res->req == NULL) {
		free(res);
		return -ENOMEM;
	}
	maybe_trace(wk, res->req, &root);
	res->hnext = wk->inflight[res->hash % INFLIGHT_BUCKETS];
	wk->inflight[res->hash % INFLIGHT_BUCKETS] = res;
	wk->ninflight++;
	md_info(MD_LOG_SERVER, "priming the root NS set from %zu hints",
	    wk->rconf.nhints);
	resolution_drive(res);
	return 0;
}

/* ---- UDP --------------------------------------------------------------- */

/*
 * One datagram in[0..n) from 'from': returns the length of the answer
 * written to out (0: none now; dropped, or a resolution will answer).
 */
static size_t
udp_query(struct worker *wk, evutil_socket_t fd,
    const struct sockaddr_storage *from, socklen_t fromlen, uint8_t *in,
    size_t n, uint8_t *out, size_t outcap, uint64_t now_ms)
{
	struct md_query_info info;
	struct md_query_ctx ctx;
	uint64_t start_us = md_now_us();
	size_t len;

	/* Port 0 cannot be answered: a spoofed or broken source. */
	if ((from->ss_family == AF_INET &&
		((const struct sockaddr_in *)from)->sin_port == 0) ||
	    (from->ss_family == AF_INET6 &&
		((const struct sockaddr_in6 *)from)->sin6_port == 0))
		return 0;
	if (!md_ratelimit_allow(
		wk->rl, (const struct sockaddr *)from, now_ms)) {
		md_metrics_rate_limited();
		return 0;
	}
	query_ctx(wk, may_recurse(wk, (const struct sockaddr *)from), &ctx);
	len = md_query_process(&ctx, false, in, n, out, outcap, &info);
	md_metrics_request(MD_METRIC_UDP, info.qtype);
	md_metrics_worker_request(wk->id);
	log_query("udp", (const struct sockaddr *)from, fromlen, &info);
	if (info.refused_recursion && wk->cfg.recursion)
		md_metrics_refused_acl();
	if (info.need_recursion) {
		struct waiter *w = waiter_new(&info, false);

		if (w == NULL)
			return 0;
		w->fd = fd;
		memcpy(&w->from, from, fromlen);
		w->fromlen = fromlen;
		w->transport = MD_METRIC_UDP;
		w->start_us = start_us;
		resolve_for(wk, w);
		return 0;
	}
	account((const struct sockaddr *)from, fromlen, MD_METRIC_UDP, &info.q,
	    info.rcode, immediate_source(&info), start_us, len > 0);
	return len;
}

/* Send the answers gathered in wk->smsg[0..n) (sendmmsg, in as few calls
 * as the socket takes them). */
static void
udp_flush(struct worker *wk, evutil_socket_t fd, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		int sent = sendmmsg(fd, wk->smsg + done, n - done, 0);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			/* This one cannot go (a full buffer, a vanished
			 * route): skip it, as a lost datagram. */
			md_debug(MD_LOG_NET, "sendmmsg: %s", strerror(errno));
			sent = 1;
		}
		done += (unsigned)sent;
	}
}

/*
 * One batch: recvmmsg() takes up to UDP_BATCH datagrams that are queued,
 * each is answered in place into its own output slot, and sendmmsg()
 * sends the answers together.  Returns how many were read (0: none).
 */
static int
udp_batch(struct worker *wk, evutil_socket_t fd)
{
	unsigned nsend = 0;
	int n;

	/* The slots the last call filled have their address lengths and
	 * flags to reset. */
	for (unsigned i = 0; i < wk->rused; i++) {
		wk->rmsg[i].msg_hdr.msg_namelen = sizeof(wk->rfrom[i]);
		wk->rmsg[i].msg_hdr.msg_flags = 0;
	}
	wk->rused = 0;
	n = recvmmsg(fd, wk->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			md_debug(MD_LOG_NET, "recvmmsg: %s", strerror(errno));
		return 0;
	}
	wk->rused = (unsigned)n;
	wk->last_udp_ms = md_now_ms();
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &wk->rmsg[i].msg_hdr;
		uint8_t *out = wk->sbuf + (size_t)nsend * UDP_OUT_MAX;
		size_t len;

		/* Larger than any sensible query: not answered. */
		if (h->msg_flags & MSG_TRUNC) {
			md_metrics_dropped();
			continue;
		}
		len = udp_query(wk, fd, &wk->rfrom[i], h->msg_namelen,
		    wk->rbuf[i], wk->rmsg[i].msg_len, out, UDP_OUT_MAX,
		    wk->last_udp_ms);
		if (len == 0)
			continue;
		wk->siov[nsend].iov_base = out;
		wk->siov[nsend].iov_len = len;
		wk->smsg[nsend].msg_hdr.msg_name = &wk->rfrom[i];
		wk->smsg[nsend].msg_hdr.msg_namelen = h->msg_namelen;
		nsend++;
	}
	udp_flush(wk, fd, nsend);
	return n;
}

#define UDP_ROUNDS 10 /* batches per wake-up, at most */

/*
 * A socket is readable.  Under load, being woken for every datagram or
 * two is what costs most (profiles of this loop show the scheduler's
 * sleep and wake-up above the whole of the UDP send path), so when the
 * previous wake-up was less than udp-batch-wait ago, or a batch found
 * company, the worker sleeps that long and reads again: one wake-up then
 * serves several datagrams, each waiting at most udp-batch-wait longer.
 * Light traffic is answered at once, and a worker with resolutions in
 * flight does not wait (their upstream replies would wait too).
 * Bounded, so that one busy socket does not starve the others on this
 * worker.
 */
static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener *l = arg;
	struct worker *wk = l->wk;
	unsigned wait_us = wk->cfg.udp_batch_wait;
	uint64_t now_us = md_now_us();
	bool busy = wait_us > 0 && now_us - wk->last_wake_us < wait_us;

	(void)what;
	wk->last_wake_us = now_us;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n = udp_batch(wk, fd);
		struct timespec ts = {0, (long)wait_us * 1000};

		if (n <= 0)
			return;
		if (n == UDP_BATCH)
			continue;
		if (wait_us == 0 || !(busy || n >= 2) || wk->ninflight > 0)
			return;
		busy = false;
		nanosleep(&ts, NULL);
	}
}

/* ---- TCP --------------------------------------------------------------- */

static void
conn_free(struct tcp_conn *c)
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
		waiter_detach_conn(c->waiters);
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
			conn_free(c); /* nothing sensible follows */
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

		query_ctx(
		    wk, may_recurse(wk, (struct sockaddr *)&c->peer), &ctx);
		rlen = md_query_process(&ctx, true, wk->buf, qlen, wk->out + 2,
		    sizeof(wk->out) - 2, &info);
		md_metrics_request(t, info.qtype);
		md_metrics_worker_request(wk->id);
		log_query(c->tls ? "tls" : "tcp", (struct sockaddr *)&c->peer,
		    c->peerlen, &info);
		if (info.refused_recursion && wk->cfg.recursion)
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
			resolve_for(wk, w);
			continue;
		}
		account((struct sockaddr *)&c->peer, c->peerlen, t, &info.q,
		    info.rcode, immediate_source(&info), start_us, rlen > 0);
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
accept_conn(struct worker *wk, evutil_socket_t fd, struct sockaddr *sa,
    int salen, bool tls)
{
	struct tcp_conn *c;
	struct timeval idle = {(time_t)wk->cfg.tcp_idle_timeout, 0};

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
	struct worker *wk;
	struct md_sockaddr addr;
};

static void
probe_unlink(struct probe *p)
{
	struct probe **pp = &p->wk->probe_list;

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
	p->wk->probes--;
	probe_unlink(p);
	/* Any DNS answer means the upstream is back: its RTT clears the
	 * hold-down (md_infra_rtt). */
	if (status == MD_NET_OK) {
		md_infra_rtt(p->wk->srv->infra, &p->addr, rtt_ms, md_now_ms());
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
	struct worker *wk = arg;
	struct timeval tv = {HEALTH_INTERVAL_S, 0};
	uint8_t query[64], root = 0;
	int len;

	(void)fd;
	(void)what;
	len = md_msg_build_query(query, sizeof(query), 0, &root, MD_TYPE_NS,
	    false, true, wk->rconf.edns_size, false);
	for (size_t i = 0; len > 0 && i < wk->rconf.nforward; i++) {
		const struct md_forward_zone *f = &wk->rconf.forward[i];

		for (size_t j = 0; j < f->nservers; j++) {
			struct md_infra_info info;
			struct probe *p;

			if (wk->probes >= HEALTH_PROBES_MAX)
				break;
			md_infra_get(wk->srv->infra, &f->servers[j].addr,
			    f->zone, md_now_ms(), 400, &info);
			if (!info.dead)
				continue;
			p = calloc(1, sizeof(*p));
			if (p == NULL)
				break;
			p->wk = wk;
			p->addr = f->servers[j].addr;
			if (md_net_send_to(wk->net, &f->servers[j], query,
				(size_t)len, 1000, probe_cb, p) == NULL) {
				free(p);
				continue;
			}
			p->next = wk->probe_list;
			wk->probe_list = p;
			wk->probes++;
		}
	}
	event_add(wk->health_ev, &tv);
}

/* ---- restarts without a lost query --------------------------------------- */

/*
 * The sockets of one address form an SO_REUSEPORT group: this process's
 * workers' sockets and, during a restart, the old process's too.  The
 * kernel numbers a group's sockets in the order they joined, so the
 * 'before' sockets found in the group when this process bound its own
 * come first and ours are before..before+n-1.  This classic BPF program,
 * set on the group by the newest process, picks one of ours at random
 * (RET = before + random % n): every new datagram and connection goes to
 * the new process while the old one drains what it already has.  When
 * the old sockets close, the kernel renumbers the group and the index
 * runs past its end; the kernel then falls back to its own hash over the
 * sockets left, which are ours.  A process alone (before == 0) sets no
 * program: the kernel's hash spreads clients over its workers.
 */
static void
steer_to_newest(evutil_socket_t fd, unsigned before, unsigned n)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, before),
	    BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

	if (before == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
		sizeof(prog)) != 0)
		md_debug(MD_LOG_SERVER, "SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
}

/*
 * How many sockets are bound to sa already (another process's, in a
 * restart): counted in /proc/net/{udp,tcp}[6] by local address, for TCP
 * only listening ones.  0 when it cannot tell.
 */
static unsigned
sockets_bound(const struct md_sockaddr *sa, int type)
{
	char want[64], line[512];
	const char *path;
	unsigned count = 0;
	FILE *f;

	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&sa->ss;

		path = type == SOCK_DGRAM ? "/proc/net/udp" : "/proc/net/tcp";
		snprintf(want, sizeof(want), "%08X:%04X",
		    (unsigned)in->sin_addr.s_addr, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&sa->ss;
		uint32_t w[4];

		memcpy(w, &in6->sin6_addr, sizeof(w));
		path = type == SOCK_DGRAM ? "/proc/net/udp6" : "/proc/net/tcp6";
		snprintf(want, sizeof(want), "%08X%08X%08X%08X:%04X", w[0],
		    w[1], w[2], w[3], ntohs(in6->sin6_port));
	}
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char local[64], remote[64];
		unsigned state;

		/* "  sl  local_address rem_address   st ..." */
		if (sscanf(line, "%*s %63s %63s %x", local, remote, &state) !=
			3 ||
		    strcmp(local, want) != 0)
			continue;
		if (type == SOCK_STREAM && state != 0x0A) /* TCP_LISTEN */
			continue;
		count++;
	}
	fclose(f);
	return count;
}

/* Accept what waits in a listener's queue before closing it. */
static void
drain_listener(struct worker *wk, struct evconnlistener *l, bool tls)
{
	evutil_socket_t lfd = evconnlistener_get_fd(l);

	for (int i = 0; i < 1024; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		evutil_socket_t fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		accept_conn(wk, fd, (struct sockaddr *)&ss, (int)len, tls);
	}
}

#define DRAIN_QUIET_MS 150 /* no datagram for this long: drained */
#define DRAIN_MAX_MS 5000

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;
	uint64_t now = md_now_ms();
	struct timeval tv = {0, 50 * 1000};
	bool busy = wk->ninflight > 0;

	(void)fd;
	(void)what;
	for (struct tcp_conn *c = wk->conns; c != NULL && !busy; c = c->next)
		busy = c->waiters != NULL ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
	if ((!busy && now - wk->last_udp_ms >= DRAIN_QUIET_MS) ||
	    now - wk->drain_start_ms >= DRAIN_MAX_MS) {
		md_debug(MD_LOG_SERVER, "worker %u drained%s", wk->id,
		    busy ? " (time is up)" : "");
		atomic_store(&wk->drained, true);
		return;
	}
	event_add(wk->drain_ev, &tv);
}

/* On each worker: close the TCP/TLS listeners once their queues are
 * taken, and watch for quiet (drain_cb). */
static void
drain_start(struct worker *wk, void *arg)
{
	struct timeval tv = {0, 50 * 1000};

	(void)arg;
	/* New connections go to the new process (steered); the ones already
	 * queued here are taken, not reset. */
	for (size_t i = 0; i < wk->ntcp; i++) {
		drain_listener(wk, wk->tcp[i], false);
		evconnlistener_free(wk->tcp[i]);
	}
	wk->ntcp = 0;
	for (size_t i = 0; i < wk->ntls; i++) {
		drain_listener(wk, wk->tls[i], true);
		evconnlistener_free(wk->tls[i]);
	}
	wk->ntls = 0;
	wk->drain_start_ms = md_now_ms();
	wk->drain_ev = evtimer_new(wk->base, drain_cb, wk);
	if (wk->drain_ev == NULL || event_add(wk->drain_ev, &tv) != 0)
		atomic_store(&wk->drained, true);
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
	/* Every worker binds the same addresses, and so does a new process
	 * while this one still runs (see steer_to_newest()). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (sa->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* A burst at a busy worker waits in the socket rather than being
	 * dropped by the kernel: a receive buffer of UDP_RCVBUF (as root,
	 * past net.core.rmem_max; else as large as that allows). */
	if (type == SOCK_DGRAM) {
		int rcvbuf = UDP_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			sizeof(rcvbuf)) != 0)
			setsockopt(
			    fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (bind(fd, (const struct sockaddr *)&sa->ss, sa->len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---- the workers ----------------------------------------------------------- */

static void
call_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;
	struct md_server *srv = wk->srv;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&srv->call_mu);
	if (wk->call_fn != NULL) {
		wk->call_fn(wk, wk->call_arg);
		wk->call_fn = NULL;
		pthread_cond_broadcast(&srv->call_cv);
	}
	pthread_mutex_unlock(&srv->call_mu);
}

/*
 * Run fn(worker, arg) on every worker, each on its own thread between two
 * events, and return when all have.  Called from the main thread (worker
 * 0's, which runs it directly).  Before the threads start, it is a loop.
 */
static void
on_workers(struct md_server *srv, worker_fn fn, void *arg)
{
	fn(srv->w[0], arg);
	if (!srv->threads_running) {
		for (unsigned i = 1; i < srv->nworkers; i++)
			fn(srv->w[i], arg);
		return;
	}
	pthread_mutex_lock(&srv->call_mu);
	for (unsigned i = 1; i < srv->nworkers; i++) {
		if (!srv->w[i]->has_thread) {
			fn(srv->w[i], arg); /* its thread did not start */
			continue;
		}
		srv->w[i]->call_fn = fn;
		srv->w[i]->call_arg = arg;
		event_active(srv->w[i]->call_ev, EV_READ, 0);
	}
	for (unsigned i = 1; i < srv->nworkers; i++) {
		while (srv->w[i]->call_fn != NULL)
			pthread_cond_wait(&srv->call_cv, &srv->call_mu);
	}
	pthread_mutex_unlock(&srv->call_mu);
}

/* udp-batch-wait's sleeps are short: the default timer slack (50 us)
 * would stretch them by half.  Per thread. */
static void
set_timer_slack(void)
{
	prctl(PR_SET_TIMERSLACK, 5000UL, 0, 0, 0);
}

/* Runs on the worker's thread: an event made active before its loop
 * started is still run, where a loopbreak from outside would be lost. */
static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(wk->base);
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	char name[16];

	/* "md-worker-N" in top -H, ps -L and /proc/PID/task/TID/comm. */
	snprintf(name, sizeof(name), "md-worker-%u", wk->id);
	pthread_setname_np(pthread_self(), name);
	set_timer_slack();
	event_base_loop(wk->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* Threads this process may run on (taskset, cpusets), at least 1. */
static unsigned
cpus_available(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static void
worker_close_sockets(struct worker *wk)
{
	for (size_t i = 0; i < wk->nudp; i++) {
		event_free(wk->udp[i].ev);
		close(wk->udp[i].fd);
	}
	wk->nudp = 0;
	for (size_t i = 0; i < wk->ntcp; i++)
		evconnlistener_free(wk->tcp[i]);
	wk->ntcp = 0;
	for (size_t i = 0; i < wk->ntls; i++)
		evconnlistener_free(wk->tls[i]);
	wk->ntls = 0;
}

/* Free a worker whose thread has ended (or never ran). */
static void
worker_free(struct worker *wk)
{
	if (wk == NULL)
		return;
	for (size_t i = 0; i < INFLIGHT_BUCKETS; i++) {
		while (wk->inflight[i] != NULL)
			resolution_free(wk->inflight[i]);
	}
	while (wk->conns != NULL)
		conn_free(wk->conns);
	worker_close_sockets(wk);
	if (wk->health_ev != NULL)
		event_free(wk->health_ev);
	if (wk->drain_ev != NULL)
		event_free(wk->drain_ev);
	if (wk->call_ev != NULL)
		event_free(wk->call_ev);
	if (wk->stop_ev != NULL)
		event_free(wk->stop_ev);
	md_zone_set_unref(wk->zones);
	md_net_free(wk->net); /* cancels probes without callbacks */
	while (wk->probe_list != NULL) {
		struct probe *p = wk->probe_list;

		wk->probe_list = p->next;
		free(p);
	}
	if (wk->id != 0 && wk->base != NULL)
		event_base_free(wk->base);
	free(wk);
}

static struct worker *
worker_new(struct md_server *srv, unsigned id, const char *tls_ca)
{
	struct worker *wk = calloc(1, sizeof(*wk));

	if (wk == NULL)
		return NULL;
	wk->srv = srv;
	wk->id = id;
	atomic_init(&wk->drained, false);
	wk->base = id == 0 ? srv->base : event_base_new();
	if (wk->base == NULL)
		goto fail;
	wk->zones = md_zone_set_new_empty();
	wk->net = md_net_new(wk->base);
	wk->call_ev = event_new(wk->base, -1, 0, call_cb, wk);
	wk->stop_ev = event_new(wk->base, -1, 0, stop_cb, wk);
	if (wk->zones == NULL || wk->net == NULL || wk->call_ev == NULL ||
	    wk->stop_ev == NULL)
		goto fail;
	if (md_net_set_tls_ca(wk->net, tls_ca) != 0) {
		md_err(MD_LOG_SERVER, "tls-ca %s: cannot load it",
		    tls_ca ? tls_ca : "(system store)");
		goto fail;
	}
	wk->env.conf = &wk->rconf;
	wk->env.cache = srv->cache;
	wk->env.infra = srv->infra;
	for (int i = 0; i < UDP_BATCH; i++) {
		wk->rmsg[i].msg_hdr.msg_namelen = sizeof(wk->rfrom[i]);
		wk->riov[i].iov_base = wk->rbuf[i];
		wk->riov[i].iov_len = sizeof(wk->rbuf[i]);
		wk->rmsg[i].msg_hdr.msg_name = &wk->rfrom[i];
		wk->rmsg[i].msg_hdr.msg_iov = &wk->riov[i];
		wk->rmsg[i].msg_hdr.msg_iovlen = 1;
		wk->smsg[i].msg_hdr.msg_iov = &wk->siov[i];
		wk->smsg[i].msg_hdr.msg_iovlen = 1;
	}
	return wk;
fail:
	worker_free(wk);
	return NULL;
}

struct md_server *
md_server_new(struct event_base *base, const struct md_config *cfg)
{
	struct md_server *srv = calloc(1, sizeof(*srv));
	struct md_cache_conf cc;

	if (srv == NULL)
		return NULL;
	srv->base = base;
	pthread_mutex_init(&srv->call_mu, NULL);
	pthread_cond_init(&srv->call_cv, NULL);
	srv->nworkers = cfg->threads != 0 ? cfg->threads : cpus_available();
	if (srv->nworkers > MD_CONFIG_MAX_THREADS)
		srv->nworkers = MD_CONFIG_MAX_THREADS;
	/* The workers' bases are woken from the main thread (on_workers,
	 * stopping): libevent's locking, before any of them exists. */
	if (srv->nworkers > 1 && evthread_use_pthreads() != 0) {
		md_err(MD_LOG_SERVER, "libevent threads: cannot set them up");
		free(srv);
		return NULL;
	}
	memcpy(srv->listen, cfg->listen, sizeof(srv->listen));
	srv->nlisten = cfg->nlisten;
	srv->listen_default = cfg->listen_default;
	srv->infra = md_infra_new(0);
	md_cache_conf_init(&cc);
	cc.max_bytes = (size_t)cfg->cache_size_mib * 1024 * 1024;
	cc.min_ttl = cfg->cache_min_ttl;
	cc.max_ttl = cfg->cache_max_ttl;
	cc.max_negative_ttl = cfg->cache_max_negative_ttl;
	cc.serve_stale = cfg->serve_stale;
	srv->cache = md_cache_new(&cc);
	if (srv->infra == NULL || srv->cache == NULL) {
		md_server_free(srv);
		return NULL;
	}
	for (unsigned i = 0; i < srv->nworkers; i++) {
		srv->w[i] = worker_new(srv, i, cfg->tls_ca);
		if (srv->w[i] == NULL) {
			md_server_free(srv);
			return NULL;
		}
	}
	md_server_update(srv, cfg);
	if (cfg->tls_cert != NULL)
		srv->tls_cert = strdup(cfg->tls_cert);
	if (cfg->tls_key != NULL)
		srv->tls_key = strdup(cfg->tls_key);
	srv->w[0]->health_ev = evtimer_new(base, health_cb, srv->w[0]);
	if (srv->w[0]->health_ev != NULL) {
		struct timeval tv = {HEALTH_INTERVAL_S, 0};

		event_add(srv->w[0]->health_ev, &tv);
	}
	return srv;
}

static void
apply_config(struct worker *wk, void *arg)
{
	const struct md_server *srv = arg;

	wk->cfg = srv->cfg;
	wk->rl = srv->rl;
	/* Per worker, as Unbound's incoming-num-tcp is per thread: a
	 * worker never waits for another's count. */
	wk->max_conns = srv->cfg.tcp_max_connections;
}

void
md_server_update(struct md_server *srv, const struct md_config *cfg)
{
	struct md_ratelimit *old_rl = NULL;

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
			srv->cfg.rate_limit = srv->rl_rate;
		} else {
			old_rl = srv->rl;
			srv->rl = rl;
			srv->rl_rate = cfg->rate_limit;
		}
	}
	if (cfg->threads != 0 && cfg->threads != srv->nworkers &&
	    srv->threads_running)
		md_warn(MD_LOG_SERVER,
		    "threads: %u workers run; a new number takes a restart",
		    srv->nworkers);
	on_workers(srv, apply_config, srv);
	/* No worker holds the old limiter any more. */
	md_ratelimit_free(old_rl);
}

static void
apply_resolve_conf(struct worker *wk, void *arg)
{
	/* Requests in flight read wk->rconf: it changes between their
	 * steps, never during one. */
	wk->rconf = *(const struct md_resolve_conf *)arg;
}

void
md_server_set_resolve_conf(
    struct md_server *srv, const struct md_resolve_conf *rconf)
{
	on_workers(srv, apply_resolve_conf, (void *)rconf);
}

/* One listener socket per worker on sa, joined to sa's SO_REUSEPORT
 * group; fds[0..nworkers) or -1 and errno. */
static int
open_group(struct md_server *srv, const struct md_sockaddr *sa, int type,
    evutil_socket_t *fds)
{
	unsigned before = sockets_bound(sa, type);

	for (unsigned i = 0; i < srv->nworkers; i++) {
		fds[i] = open_socket(sa, type);
		if (fds[i] < 0) {
			int e = errno;

			while (i-- > 0)
				close(fds[i]);
			errno = e;
			return -1;
		}
	}
	steer_to_newest(fds[0], before, srv->nworkers);
	return 0;
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
		evutil_socket_t fds[MD_CONFIG_MAX_THREADS];

		md_sockaddr_str(sa, name, sizeof(name));
		if (open_group(srv, sa, SOCK_STREAM, fds) != 0) {
			md_err(MD_LOG_SERVER, "cannot listen on %s (TLS): %s",
			    name, strerror(errno));
			return -errno;
		}
		for (unsigned k = 0; k < srv->nworkers; k++) {
			struct worker *wk = srv->w[k];
			struct evconnlistener *l =
			    evconnlistener_new(wk->base, tls_accept_cb, wk,
				LEV_OPT_CLOSE_ON_FREE, -1, fds[k]);

			if (l == NULL) {
				while (k < srv->nworkers)
					close(fds[k++]);
				return -ENOMEM;
			}
			wk->tls[wk->ntls++] = l;
		}
		md_info(MD_LOG_SERVER, "listening on %s (DNS over TLS)", name);
	}
	return 0;
}

/* UDP and TCP on one address, a socket of each per worker. */
static int
listen_one(struct md_server *srv, const struct md_sockaddr *sa)
{
	evutil_socket_t ufds[MD_CONFIG_MAX_THREADS];
	evutil_socket_t tfds[MD_CONFIG_MAX_THREADS];

	if (open_group(srv, sa, SOCK_DGRAM, ufds) != 0)
		return -errno;
	if (open_group(srv, sa, SOCK_STREAM, tfds) != 0) {
		int e = errno;

		for (unsigned k = 0; k < srv->nworkers; k++)
			close(ufds[k]);
		return -e;
	}
	for (unsigned k = 0; k < srv->nworkers; k++) {
		struct worker *wk = srv->w[k];
		struct udp_listener *u = &wk->udp[wk->nudp];
		struct evconnlistener *l;

		u->wk = wk;
		u->fd = ufds[k];
		u->ev = event_new(
		    wk->base, ufds[k], EV_READ | EV_PERSIST, udp_read_cb, u);
		l = evconnlistener_new(wk->base, tcp_accept_cb, wk,
		    LEV_OPT_CLOSE_ON_FREE, -1, tfds[k]);
		if (u->ev == NULL || l == NULL || event_add(u->ev, NULL) != 0) {
			/* Out of memory: this worker's and the later ones'
			 * sockets are closed here, the earlier ones' with
			 * the server. */
			if (u->ev != NULL)
				event_free(u->ev);
			if (l != NULL)
				evconnlistener_free(l);
			else
				close(tfds[k]);
			for (unsigned j = k; j < srv->nworkers; j++) {
				close(ufds[j]);
				if (j > k)
					close(tfds[j]);
			}
			return -ENOMEM;
		}
		wk->nudp++;
		wk->tcp[wk->ntcp++] = l;
	}
	return 0;
}

/* Start workers 1..n-1 on their threads, with every signal blocked (the
 * main thread takes them). */
static int
start_threads(struct md_server *srv)
{
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 1; i < srv->nworkers && rc == 0; i++) {
		rc = pthread_create(
		    &srv->w[i]->thread, NULL, worker_main, srv->w[i]);
		if (rc == 0)
			srv->w[i]->has_thread = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	srv->threads_running = true;
	if (rc != 0) {
		md_err(MD_LOG_SERVER, "cannot start a worker thread: %s",
		    strerror(rc));
		return -rc;
	}
	return 0;
}

int
md_server_listen(struct md_server *srv)
{
	char name[MD_SOCKADDR_STRLEN];
	size_t opened = 0;
	int rc;

	for (size_t i = 0; i < srv->nlisten; i++) {
		const struct md_sockaddr *sa = &srv->listen[i];

		md_sockaddr_str(sa, name, sizeof(name));
		rc = listen_one(srv, sa);
		if (rc == -ENOMEM) {
			md_err(MD_LOG_SERVER, "cannot set up %s", name);
			return rc;
		}
		if (rc != 0) {
			if (srv->listen_default) {
				md_warn(MD_LOG_SERVER,
				    "cannot listen on %s: %s (skipped)", name,
				    strerror(-rc));
				continue;
			}
			md_err(MD_LOG_SERVER, "cannot listen on %s: %s", name,
			    strerror(-rc));
			return rc;
		}
		opened++;
		md_info(MD_LOG_SERVER, "listening on %s (UDP and TCP)", name);
	}
	if (opened == 0) {
		md_err(MD_LOG_SERVER, "no address to listen on");
		return -EADDRNOTAVAIL;
	}
	rc = listen_tls(srv);
	if (rc != 0)
		return rc;
	md_metrics_set_workers(srv->nworkers);
	set_timer_slack(); /* worker 0: this thread */
	md_info(MD_LOG_SERVER, "%u worker thread%s", srv->nworkers,
	    srv->nworkers == 1 ? "" : "s");
	return start_threads(srv);
}

static void
apply_zones(struct worker *wk, void *arg)
{
	struct md_zone_set *old = wk->zones;

	wk->zones = md_zone_set_ref(arg);
	md_zone_set_unref(old);
}

void
md_server_set_zones(struct md_server *srv, struct md_zone_set *zs)
{
	on_workers(srv, apply_zones, zs);
	/* The workers hold their own references now; the last one to let
	 * go of the old snapshot frees it. */
	md_zone_set_unref(zs);
}

int
md_server_prime(struct md_server *srv)
{
	return prime(srv->w[0]);
}

struct md_cache *
md_server_cache(struct md_server *srv)
{
	return srv->cache;
}

void
md_server_net_stats(const struct md_server *srv, struct md_net_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; srv != NULL && i < srv->nworkers; i++) {
		struct md_net_stats s;

		md_net_get_stats(srv->w[i]->net, &s);
		out->sent_udp += s.sent_udp;
		out->sent_tcp += s.sent_tcp;
		out->replies += s.replies;
		out->timeouts += s.timeouts;
		out->errors += s.errors;
		out->mismatched += s.mismatched;
	}
}

unsigned
md_server_threads(const struct md_server *srv)
{
	return srv->nworkers;
}

static void
server_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_server *srv = arg;
	struct timeval tv = {0, 50 * 1000};

	(void)fd;
	(void)what;
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (!atomic_load(&srv->w[i]->drained)) {
			event_add(srv->drain_ev, &tv);
			return;
		}
	}
	md_info(MD_LOG_SERVER, "drained; stopping");
	srv->drain_done(srv->drain_arg);
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
	srv->drain_done = done;
	srv->drain_arg = arg;
	srv->drain_ev = evtimer_new(srv->base, server_drain_cb, srv);
	if (srv->drain_ev == NULL) {
		done(arg);
		return;
	}
	on_workers(srv, drain_start, NULL);
	event_add(srv->drain_ev, &tv);
}

void
md_server_free(struct md_server *srv)
{
	if (srv == NULL)
		return;
	for (unsigned i = 1; i < srv->nworkers; i++) {
		if (srv->w[i] != NULL && srv->w[i]->has_thread) {
			event_active(srv->w[i]->stop_ev, EV_READ, 0);
			pthread_join(srv->w[i]->thread, NULL);
		}
	}
	/* Every worker's sockets first, back to back: while a restart's new
	 * process takes over, each close renumbers the SO_REUSEPORT group
	 * (see steer_to_newest()), so the time between the first close and
	 * the last is kept to a few system calls. */
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (srv->w[i] != NULL)
			worker_close_sockets(srv->w[i]);
	}
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_free(srv->w[i]);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	md_ratelimit_free(srv->rl);
	md_cache_free(srv->cache);
	md_infra_free(srv->infra);
	if (srv->tls_ctx != NULL)
		SSL_CTX_free(srv->tls_ctx);
	free(srv->tls_cert);
	free(srv->tls_key);
	pthread_cond_destroy(&srv->call_cv);
	pthread_mutex_destroy(&srv->call_mu);
	free(srv);
}
