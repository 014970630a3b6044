/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_inflight.c - resolutions in flight on a worker: one per (name, type), shared by
 * every client asking the same; the engine driven through net/, answers
 * to each waiting client, the query log and the counters of one query.
 * Not here: reading queries off sockets (server_udp.c, server_tcp.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>

#include "minidns/driver.h"
#include "minidns/ldns_bridge.h"

#include "server-internal.h"

/* One debug line per query: who asked what, and what came of it. */
void
md_srv_log_query(const char *proto, const struct sockaddr *from,
    socklen_t fromlen, const struct md_query_info *info)
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
void
md_srv_account(const struct worker *wk, const struct sockaddr *from,
    socklen_t fromlen, enum md_metric_transport t,
    const struct md_wire_query *q, int rcode, enum md_metric_source src,
    enum md_security sec, uint64_t start_us, size_t len)
{
	uint64_t us = md_now_us() - start_us;

	if (len == 0) {
		md_metrics_dropped(wk->id);
		return;
	}
	md_metrics_response(wk->id, rcode, src, us);
	md_metrics_response_size(wk->id, t, len);
	md_metrics_dnssec(wk->id, sec);
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
enum md_metric_source
md_srv_immediate_source(const struct md_query_info *info)
{
	if (info->verdict != MD_QUERY_OK || info->refused_recursion)
		return MD_SOURCE_ERROR;
	if (info->from_cache)
		return MD_SOURCE_CACHE;
	if (info->status != MD_ZONE_NOT_LOCAL)
		return MD_SOURCE_LOCAL;
	return MD_SOURCE_ERROR;
}

size_t
md_srv_process(struct worker *wk, enum md_metric_transport t,
    const struct sockaddr *from, socklen_t fromlen, const uint8_t *in, size_t n,
    uint8_t *out, size_t outcap, struct md_query_info *info)
{
	static const char *const proto[] = {
	    [MD_METRIC_UDP] = "udp",
	    [MD_METRIC_TCP] = "tcp",
	    [MD_METRIC_TLS] = "tls",
	};
	struct md_query_ctx ctx;
	size_t len;

	md_srv_query_ctx(wk, md_srv_may_recurse(wk, from), &ctx);
	ctx.client = from;
	len = md_query_process(
	    &ctx, t != MD_METRIC_UDP, in, n, out, outcap, info);
	md_metrics_request(wk->id, t, info->qtype, from->sa_family == AF_INET6,
	    info->q.edns.do_bit);
	md_metrics_request_size(wk->id, t, n);
	md_srv_log_query(proto[t], from, fromlen, info);
	if (info->refused_recursion && wk->cfg->recursion)
		md_metrics_refused_acl(wk->id);
	if (info->prefetch)
		md_srv_prefetch(wk, info);
	if (info->autopath && !info->need_recursion && len > 0)
		md_metrics_autopath(wk->id);
	return len;
}

/* ---- resolutions ------------------------------------------------------- */

void
md_srv_query_ctx(struct worker *wk, bool recursion, struct md_query_ctx *ctx)
{
	ctx->zones = wk->zones;
	ctx->edns_size = wk->cfg->edns_buffer_size;
	ctx->recursion = recursion;
	ctx->serve_stale = wk->cfg->serve_stale;
	ctx->cache = wk->srv->cache;
	ctx->min_ttl = wk->cfg->cache_min_ttl;
	ctx->max_ttl = wk->cfg->cache_max_ttl;
	ctx->max_negative_ttl = wk->cfg->cache_max_negative_ttl;
	ctx->scratch = wk->scratch;
	ctx->scratch_len = sizeof(wk->scratch);
	/* 0: query.c reads md_now_ms() itself, only when it needs it */
	ctx->now_ms =
	    wk->srv->now_ms != NULL ? wk->srv->now_ms(wk->srv->clock_arg) : 0;
	/* Each answer of this worker starts its RRsets one RR further. */
	ctx->rotate = wk->cfg->rrset_roundrobin ? wk->rr_next++ : 0;
	ctx->prefetch = wk->cfg->prefetch;
	ctx->chase = false;
	ctx->loop = wk->srv->loop;
	ctx->resolve = wk->cfg->resolve;
	ctx->nta = wk->srv->nta;
	ctx->autopath = NULL;
	ctx->client = NULL;
	ctx->search = (const uint8_t(*)[255])wk->cfg->k8s.autopath_search;
	ctx->nsearch = wk->cfg->k8s.nautopath_search;
}

/* Recursion is offered to this client (config and access-control). */
bool
md_srv_may_recurse(const struct worker *wk, const struct sockaddr *from)
{
	return wk->cfg->recursion &&
	    md_acl_allows(wk->cfg->acl, wk->cfg->nacl, from);
}

static struct waiter *waiter_clone(
    const struct md_query_info *info, const struct waiter *w);

/* The autopath walk of w's query needs the next search-path name
 * resolved: a new waiter for it takes w's place (and its TCP
 * connection's). */
static void
autopath_next(
    struct worker *wk, struct waiter *w, const struct md_query_info *info)
{
	struct waiter *nw = waiter_clone(info, w);

	md_srv_waiter_detach_conn(w);
	if (nw != NULL)
		md_srv_resolve_for(wk, nw);
}

/* Send the answer to one waiting client. */
static void
answer_waiter(
    struct resolution *res, struct waiter *w, const struct md_result *r)
{
	struct worker *wk = res->wk;
	struct md_query_ctx ctx;
	struct md_query_info info;
	size_t len;
	bool autopath = w->autopath;

	md_srv_query_ctx(wk, true, &ctx);
	ctx.chase = w->chase;
	ctx.autopath = w->autopath ? w->autopath_name : NULL;
	ctx.client = (const struct sockaddr *)&w->from;
	len = md_query_respond(
	    &ctx, &w->q, w->tcp, r, wk->out + 2, sizeof(wk->out) - 2, &info);
	if (info.autopath_resume) {
		/* autopath: that search-path name does not exist; the walk
		 * goes on with the next (local ones at once, the next to
		 * resolve by a waiter of its own in place of this one) */
		ctx.autopath = NULL;
		len = md_query_autopath_resume(&ctx, &w->q, w->tcp,
		    w->autopath_index + 1, wk->out + 2, sizeof(wk->out) - 2,
		    &info);
		if (info.need_recursion) {
			autopath_next(wk, w, &info);
			return;
		}
		autopath = info.autopath;
	}
	if (autopath && len > 0)
		md_metrics_autopath(wk->id);
	md_srv_account(wk, (struct sockaddr *)&w->from, w->fromlen,
	    w->transport, &w->q, info.rcode,
	    info.from_cache
		? MD_SOURCE_CACHE
		: (md_resolve_find_forward(res->cfg->resolve, res->name) != NULL
			  ? MD_SOURCE_FORWARD
			  : MD_SOURCE_RECURSION),
	    info.security, w->start_us, !w->tcp || w->conn != NULL ? len : 0);
	if (len == 0)
		return;
	if (w->answer != NULL) {
		w->answer(w->answer_arg, wk->out + 2, len, res->req);
		return;
	}
	if (w->tcp) {
		if (w->conn != NULL)
			md_srv_tcp_send(w->conn, wk->out + 2, len);
		return;
	}
	if (sendto(w->fd, wk->out + 2, len, 0, (struct sockaddr *)&w->from,
		w->fromlen) < 0)
		md_debug(MD_LOG_NET, "sendto: %s", strerror(errno));
}

void
md_srv_waiter_detach_conn(struct waiter *w)
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

void
md_srv_resolution_free(struct resolution *res)
{
	/* Not in the table yet when resolution_new()'s caller gave up. */
	md_hashtab_remove(&res->wk->inflight, &res->hn);
	while (res->waiters != NULL) {
		struct waiter *w = res->waiters;

		res->waiters = w->next;
		md_srv_waiter_detach_conn(w);
		free(w);
	}
	md_drive_cancel(&res->dr);
	md_resolve_free(res->req);
	md_config_unref(res->cfg);
	free(res);
}

static void
trace_log_cb(void *arg, const struct md_trace_event *ev)
{
	char line[1024];

	(void)arg;
	md_trace_format(ev, line, sizeof(line));
	md_log_unlimited(MD_LOG_INFO, MD_LOG_SERVER, "trace: %s", line);
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

	if (wk->srv->trace_tap != NULL) {
		md_resolve_set_trace(
		    req, wk->srv->trace_tap, wk->srv->trace_arg);
		return;
	}

	for (size_t i = 0; !on && i < wk->cfg->ntrace; i++)
		on = md_name_is_subdomain(name, wk->cfg->trace[i]);
	if (on)
		md_resolve_set_trace(req, trace_log_cb, NULL);
}

/* The engine is done with res: answer every client waiting on it. */
static void
resolution_done(void *arg)
{
	struct resolution *res = arg;
	const struct md_result *r;

	if (res->loop_probe)
		md_srv_loop_probe_done(res->wk, res->name,
		    res->dr.stuck ? MD_RCODE_SERVFAIL
				  : md_resolve_result(res->req)->rcode);
	if (res->dr.stuck) {
		md_srv_resolution_free(res);
		return;
	}
	r = md_resolve_result(res->req);
	/* (a loop probe's failure is loop-detect's to tell) */
	if (r->rcode == MD_RCODE_SERVFAIL && !res->loop_probe)
		md_info(
		    MD_LOG_SERVER, "SERVFAIL: %s", r->reason ? r->reason : "?");
	for (struct waiter *w = res->waiters; w != NULL; w = w->next)
		answer_waiter(res, w, r);
	if (res->trace_done != NULL)
		res->trace_done(res->trace_ctx, r->rcode, r->reason);
	md_srv_resolution_free(res);
}

/* Counters of the queries the workers send (the driver's hooks; arg:
 * the worker). */
static void
upstream_sent(void *arg, const struct md_send *s)
{
	const struct worker *wk = arg;

	if (s->upstream != NULL)
		md_metrics_forward_sent(wk->id, s->upstream);
	md_metrics_upstream(wk->id, s->upstream != NULL,
	    s->upstream != NULL && s->upstream->transport == MD_TRANSPORT_TLS
		? MD_METRIC_TLS
		: (s->tcp ? MD_METRIC_TCP : MD_METRIC_UDP));
}

static void
upstream_finished(
    void *arg, bool forward, enum md_net_status status, uint32_t rtt_ms)
{
	const struct worker *wk = arg;

	md_metrics_upstream_done(
	    wk->id, forward, status == MD_NET_TIMEOUT, rtt_ms);
}

/* A forwarder's reply: its rcode (the header's four bits; extended
 * rcodes are an OPT record's, not read here). */
static void
upstream_replied(void *arg, const struct md_upstream *up, const uint8_t *reply,
    size_t len, uint64_t usec)
{
	const struct worker *wk = arg;

	md_metrics_forward_reply(
	    wk->id, up, len >= 4 ? reply[3] & 0x0f : -1, usec);
}

void
md_srv_transport_init(struct worker *wk)
{
	md_driver_net(&wk->transport, wk->net);
	wk->transport.sent = upstream_sent;
	wk->transport.finished = upstream_finished;
	wk->transport.replied = upstream_replied;
	wk->transport.hook_arg = wk;
}

/*
 * A resolution of name/qtype on wk, by the configuration snapshot the
 * worker answers by now: it keeps a reference, so a reload cannot change
 * its forward zones or limits under it.  NULL when out of memory.
 */
static struct resolution *
resolution_new(
    struct worker *wk, const uint8_t *name, uint16_t qtype, unsigned flags)
{
	struct resolution *res = calloc(1, sizeof(*res));

	if (res == NULL)
		return NULL;
	res->wk = wk;
	memcpy(res->name, name, md_name_len(name));
	res->qtype = qtype;
	res->cfg = md_config_ref(wk->cfg);
	res->env.conf = res->cfg->resolve;
	res->env.cache = wk->srv->cache;
	res->env.infra = wk->srv->infra;
	res->env.nta = wk->srv->nta;
	res->env.nsecs = wk->srv->nsecs;
	res->env.memo = wk->srv->memo;
	res->env.now_ms = wk->srv->now_ms; /* NULL: md_now_ms() */
	res->env.clock_arg = wk->srv->clock_arg;
	res->req = md_resolve_new(&res->env, name, qtype, flags);
	if (res->req == NULL) {
		md_config_unref(res->cfg);
		free(res);
		return NULL;
	}
	md_drive_init(&res->dr, &wk->transport, res->req, resolution_done, res);
	return res;
}

/* The in-flight key of (name, qtype): key (lower case) and its hash. */
static uint32_t
inflight_key(const uint8_t *name, uint16_t qtype, uint8_t *key)
{
	memcpy(key, name, md_name_len(name));
	md_name_lower(key);
	return md_name_hash(key) * 31 + qtype;
}

static struct resolution *
inflight_find(struct worker *wk, const uint8_t *key, uint16_t qtype, uint32_t h)
{
	for (struct md_hnode *hn = md_hashtab_match(&wk->inflight, h);
	     hn != NULL; hn = md_hashtab_match_next(hn, h)) {
		struct resolution *r =
		    MD_HNODE_ENTRY(hn, struct resolution, hn);

		if (r->qtype == qtype && md_name_equal(r->name, key))
			return r;
	}
	return NULL;
}

/* A new resolution of (key, qtype) in the in-flight table, not run yet;
 * NULL when too many are in flight or out of memory. */
static struct resolution *
inflight_start(struct worker *wk, const uint8_t *key, uint16_t qtype,
    uint32_t h, unsigned flags)
{
	struct resolution *res;

	if (md_hashtab_count(&wk->inflight) >= INFLIGHT_MAX)
		return NULL;
	/* RFC 8109: learn the current root NS set before relying on the
	 * hints for long.  Done when iteration is first needed, so a server
	 * used only for its local zones, or only forwarding, never sends a
	 * packet to the root servers. */
	if (!wk->primed &&
	    md_resolve_find_forward(wk->cfg->resolve, key) == NULL)
		md_srv_prime(wk);
	res = resolution_new(wk, key, qtype, flags);
	if (res == NULL)
		return NULL;
	maybe_trace(wk, res->req, key);
	md_hashtab_insert(&wk->inflight, &res->hn, h);
	return res;
}

/* Join the resolution of (qname, qtype) in flight, or start one; for a
 * local chain leading out, of its target. */
void
md_srv_resolve_for(struct worker *wk, struct waiter *w)
{
	uint8_t key[MD_NAME_MAX];
	uint32_t h = inflight_key(
	    w->chase ? w->chase_name : w->q.qname, w->q.qtype, key);
	struct resolution *res = inflight_find(wk, key, w->q.qtype, h);

	if (res != NULL) {
		if (res->nwaiters >= WAITERS_MAX)
			goto drop;
		w->next = res->waiters;
		res->waiters = w;
		res->nwaiters++;
		return;
	}
	res = inflight_start(wk, key, w->q.qtype, h, 0);
	if (res == NULL)
		goto drop;
	res->waiters = w;
	res->nwaiters = 1;
	md_drive_run(&res->dr);
	return;
drop:
	/* Overloaded: the client will retry. */
	md_srv_waiter_detach_conn(w);
	free(w);
}

void
md_srv_prefetch(struct worker *wk, const struct md_query_info *info)
{
	uint8_t key[MD_NAME_MAX];
	uint32_t h = inflight_key(
	    info->chase ? info->chase_name : info->q.qname, info->q.qtype, key);
	struct resolution *res;

	if (inflight_find(wk, key, info->q.qtype, h) != NULL)
		return;
	/* The cache is skipped for the question itself only: its
	 * delegations and server addresses are used as ever. */
	res = inflight_start(wk, key, info->q.qtype, h, MD_RESOLVE_PREFETCH);
	if (res == NULL)
		return;
	md_metrics_prefetch(wk->id);
	md_drive_run(&res->dr);
}

struct waiter *
md_srv_waiter_new(const struct md_query_info *info, bool tcp)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w != NULL) {
		w->q = info->q;
		w->tcp = tcp;
		w->chase = info->chase;
		if (info->chase)
			memcpy(w->chase_name, info->chase_name,
			    md_name_len(info->chase_name));
		w->autopath = info->autopath;
		w->autopath_index = info->autopath_index;
		if (info->autopath)
			memcpy(w->autopath_name, info->autopath_name,
			    md_name_len(info->autopath_name));
	}
	return w;
}

/* A waiter for info's resolution, for the client w waits for. */
static struct waiter *
waiter_clone(const struct md_query_info *info, const struct waiter *w)
{
	struct waiter *nw = md_srv_waiter_new(info, w->tcp);
	struct tcp_conn *c = w->conn;

	if (nw == NULL)
		return NULL;
	nw->fd = w->fd;
	memcpy(&nw->from, &w->from, w->fromlen);
	nw->fromlen = w->fromlen;
	nw->transport = w->transport;
	nw->start_us = w->start_us;
	nw->answer = w->answer;
	nw->answer_arg = w->answer_arg;
	if (c != NULL) {
		nw->conn = c;
		nw->conn_next = c->waiters;
		if (c->waiters != NULL)
			c->waiters->conn_prev = nw;
		c->waiters = nw;
	}
	return nw;
}

/* ---- operator traces ------------------------------------------------------ */

/*
 * md_server_trace() runs its resolution on worker 0 and hands each line
 * back to the control thread, where the caller's callbacks run: a queue
 * under a mutex and an event on the control base made active for it.
 */
struct relay_line {
	struct relay_line *next;
	char text[];
};

struct trace_relay {
	pthread_mutex_t mu;
	struct event *ev; /* on the control base */
	struct relay_line *head, **tail;
	bool finished;
	int rcode;
	char reason[256];
	bool has_reason;
	void (*line)(void *ctx, const char *text);
	void (*done)(void *ctx, int rcode, const char *reason);
	void *ctx;
};

/* Control thread: deliver what the worker queued, in order. */
static void
relay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct trace_relay *r = arg;
	struct relay_line *list;
	bool finished;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&r->mu);
	list = r->head;
	r->head = NULL;
	r->tail = &r->head;
	finished = r->finished;
	pthread_mutex_unlock(&r->mu);
	while (list != NULL) {
		struct relay_line *next = list->next;

		r->line(r->ctx, list->text);
		free(list);
		list = next;
	}
	if (!finished)
		return;
	r->done(r->ctx, r->rcode, r->has_reason ? r->reason : NULL);
	event_free(r->ev);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Worker 0: text[0..n) as a line for the control thread. */
static void
relay_push(struct trace_relay *r, const char *text, size_t n)
{
	struct relay_line *l = malloc(sizeof(*l) + n + 1);

	if (l == NULL)
		return;
	l->next = NULL;
	memcpy(l->text, text, n);
	l->text[n] = '\0';
	pthread_mutex_lock(&r->mu);
	*r->tail = l;
	r->tail = &l->next;
	pthread_mutex_unlock(&r->mu);
	event_active(r->ev, EV_READ, 0);
}

/* Worker 0: one trace event as a line for the control thread. */
static void
trace_line_cb(void *arg, const struct md_trace_event *ev)
{
	struct trace_relay *r = ((struct resolution *)arg)->trace_ctx;
	char text[1024];
	size_t n = md_trace_format(ev, text, sizeof(text));

	relay_push(r, text, n);
}

static void relay_printf(struct trace_relay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
relay_printf(struct trace_relay *r, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	relay_push(
	    r, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* The records of one section of a local answer, a line each. */
static void
relay_zone_rrs(struct trace_relay *r, const char *section,
    const struct md_zone_rr *rrs, unsigned n, const uint8_t *qname)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *rd, *p = NULL;
		uint16_t len;

		/* the DNSSEC records a DO client would get: not traced */
		if (rrs[i].covered != 0 || rrs[i].dnssec)
			continue;
		while (
		    (p = md_rrset_next(rrs[i].rrset, p, &len, &rd)) != NULL) {
			char *text = md_ldns_rr_to_str(
			    rrs[i].owner != NULL ? rrs[i].owner : qname,
			    rrs[i].rrset->type, MD_CLASS_IN, rrs[i].ttl, rd,
			    len);
			size_t tl = text != NULL ? strlen(text) : 0;

			while (tl > 0 && text[tl - 1] == '\n')
				text[--tl] = '\0';
			if (text != NULL)
				relay_printf(r, "  %s %s", section, text);
			free(text);
		}
	}
}

/*
 * The operator's name is in a local zone: what the server answers from
 * it, as a client would get it (no walk from the root).  Returns the
 * name to resolve next when the chain leads out of the local zones and
 * the server recurses, else NULL (the trace is complete).
 */
static const uint8_t *
trace_local(struct worker *wk, struct trace_relay *r, const uint8_t *qname,
    const struct md_zone_result *zr)
{
	char zone[MD_NAME_STRLEN], target[MD_NAME_STRLEN];
	const uint8_t *out = md_query_chain_target(zr);

	if (zr->zone == NULL ||
	    md_name_to_str(md_zone_origin(zr->zone), zone, sizeof(zone)) != 0)
		md_strlcpy(zone, "?", sizeof(zone));
	relay_printf(r, "answered from local zone %s: %s (%s)", zone,
	    md_rcode_str(zr->rcode), md_zone_status_str(zr->status));
	relay_zone_rrs(r, "answer", zr->an, zr->nan, qname);
	relay_zone_rrs(r, "authority", zr->ns, zr->nns, qname);
	if (out == NULL || md_name_to_str(out, target, sizeof(target)) != 0)
		return NULL;
	if (!wk->cfg->recursion) {
		relay_printf(r,
		    "the chain leads out of the local zones to %s: not "
		    "followed (recursion: no)",
		    target);
		return NULL;
	}
	relay_printf(
	    r, "the chain leads out of the local zones: resolving %s", target);
	return out;
}

static void
trace_done_cb(void *arg, int rcode, const char *reason)
{
	struct trace_relay *r = arg;

	pthread_mutex_lock(&r->mu);
	r->finished = true;
	r->rcode = rcode;
	if (reason != NULL) {
		md_strlcpy(r->reason, reason, sizeof(r->reason));
		r->has_reason = true;
	}
	pthread_mutex_unlock(&r->mu);
	event_active(r->ev, EV_READ, 0);
}

struct trace_start {
	const uint8_t *qname;
	uint16_t qtype;
	struct trace_relay *relay;
	int rc;
};

/* Worker 0's thread: start the operator's resolution (after the local
 * zones, which answer first, as for a client). */
static void
trace_start_fn(struct worker *wk, void *arg)
{
	struct trace_start *ts = arg;
	const uint8_t *name = ts->qname;
	struct md_zone_result zr;
	struct resolution *res;

	md_zone_lookup(wk->zones, ts->qname, ts->qtype, &zr);
	if (zr.status != MD_ZONE_NOT_LOCAL) {
		name = trace_local(wk, ts->relay, ts->qname, &zr);
		if (name == NULL) {
			ts->rc = 0;
			trace_done_cb(ts->relay, zr.rcode, NULL);
			return;
		}
	}
	res = resolution_new(wk, name, ts->qtype, MD_RESOLVE_RETRY_FAILED);
	if (res == NULL) {
		ts->rc = -ENOMEM;
		return;
	}
	res->trace_done = trace_done_cb;
	res->trace_ctx = ts->relay;
	/* Not in the in-flight table: this one is for the operator alone,
	 * with every step shown; it still uses (and fills) the cache. */
	md_resolve_set_trace(res->req, trace_line_cb, res);
	ts->rc = 0;
	md_drive_run(&res->dr);
}

int
md_server_trace(struct md_server *srv, const uint8_t *qname, uint16_t qtype,
    void (*line)(void *ctx, const char *text),
    void (*done)(void *ctx, int rcode, const char *reason), void *ctx)
{
	struct trace_relay *r = calloc(1, sizeof(*r));
	struct trace_start ts = {qname, qtype, r, -ENOMEM};

	if (r == NULL)
		return -ENOMEM;
	r->ev = event_new(srv->base, -1, 0, relay_cb, r);
	if (r->ev == NULL) {
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->mu, NULL);
	r->tail = &r->head;
	r->line = line;
	r->done = done;
	r->ctx = ctx;
	md_srv_on_worker(srv->w[0], trace_start_fn, &ts);
	if (ts.rc != 0) {
		event_free(r->ev);
		pthread_mutex_destroy(&r->mu);
		free(r);
	}
	return ts.rc;
}

/* Prime the root NS set on this worker (md_server_prime()). */
int
md_srv_prime(struct worker *wk)
{
	struct resolution *res;
	uint8_t root = 0;

	if (!wk->cfg->recursion || wk->primed ||
	    md_resolve_find_forward(wk->cfg->resolve, &root) != NULL)
		return 0;
	wk->primed = true;
	res = resolution_new(wk, &root, MD_TYPE_NS, 0);
	if (res == NULL)
		return -ENOMEM;
	maybe_trace(wk, res->req, &root);
	md_hashtab_insert(
	    &wk->inflight, &res->hn, md_name_hash(&root) * 31 + MD_TYPE_NS);
	md_info(MD_LOG_SERVER, "priming the root NS set from %zu hints",
	    wk->cfg->resolve->nhints);
	md_drive_run(&res->dr);
	return 0;
}

/*
 * loop-detect's probe of name (HINFO) on wk: in the in-flight table (so
 * that it ends with the worker), through the cache's back (the question
 * itself is never answered from the cache), answering no one.
 */
int
md_srv_loop_resolve(struct worker *wk, const uint8_t *name)
{
	uint8_t key[MD_NAME_MAX];
	uint32_t h = inflight_key(name, MD_TYPE_HINFO, key);
	struct resolution *res;

	if (inflight_find(wk, key, MD_TYPE_HINFO, h) != NULL ||
	    md_hashtab_count(&wk->inflight) >= INFLIGHT_MAX)
		return -EBUSY;
	res = resolution_new(
	    wk, key, MD_TYPE_HINFO, MD_RESOLVE_PREFETCH | MD_RESOLVE_ASK_HELD);
	if (res == NULL)
		return -ENOMEM;
	res->loop_probe = true;
	/* Traced for the replay harness and at debug level; log-trace's
	 * names are the operator's questions, not these. */
	if (wk->srv->trace_tap != NULL || md_log_get_level() >= MD_LOG_DEBUG)
		maybe_trace(wk, res->req, key);
	md_hashtab_insert(&wk->inflight, &res->hn, h);
	md_drive_run(&res->dr);
	return 0;
}
