/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.c - the server object and its workers: md_server_new() makes the
 * shared cache and infra cache and one worker per thread, each with its
 * own libevent base, net/ transport and in-flight table;
 * md_server_start() runs them on their threads (after the fork and the
 * privilege drop).  The caller's thread is the control plane and never
 * answers a query.  What a worker reads that can change (the
 * configuration snapshot, the zone set, the rate limiter) is replaced on
 * the worker's own thread between two events: on_workers() posts a call
 * to every worker and waits for all, so nothing is read under a lock and
 * nothing slow runs on a worker; the server keeps its own reference to
 * the current snapshot and zone set, so the old ones are freed here, on
 * the control thread.
 *
 * Not here: the UDP path (server_udp.c), TCP and TLS connections
 * (server_tcp.c), resolutions in flight and the engine driver's use
 * (server_inflight.c), forwarder health probes (server_probe.c), the
 * listening sockets, restart steering and draining (server_listen.c).
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
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "minidns/ldns_bridge.h"
#include "minidns/metrics.h"
#include "minidns/ratelimit.h"
#include "minidns/net.h"
#include "minidns/server.h"

#include "server-internal.h"

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

/* Ask worker wk's thread to run fn (srv->call_mu held). */
static bool
post_call(struct worker *wk, worker_fn fn, void *arg)
{
	if (!wk->srv->threads_running || !wk->has_thread)
		return false;
	wk->call_fn = fn;
	wk->call_arg = arg;
	event_active(wk->call_ev, EV_READ, 0);
	return true;
}

void
md_srv_on_worker(struct worker *wk, worker_fn fn, void *arg)
{
	struct md_server *srv = wk->srv;

	pthread_mutex_lock(&srv->call_mu);
	if (!post_call(wk, fn, arg)) {
		pthread_mutex_unlock(&srv->call_mu);
		fn(wk, arg); /* no thread (yet): this one is the worker's */
		return;
	}
	while (wk->call_fn != NULL)
		pthread_cond_wait(&srv->call_cv, &srv->call_mu);
	pthread_mutex_unlock(&srv->call_mu);
}

/*
 * Run fn(worker, arg) on every worker, each on its own thread between two
 * events, and return when all have.  Called from the control thread,
 * which waits here while every worker goes on answering until it takes
 * the call.  Before the threads start, it is a loop.
 */
static void
on_workers(struct md_server *srv, worker_fn fn, void *arg)
{
	bool posted[MD_CONFIG_MAX_THREADS];

	pthread_mutex_lock(&srv->call_mu);
	for (unsigned i = 0; i < srv->nworkers; i++)
		posted[i] = post_call(srv->w[i], fn, arg);
	for (unsigned i = 0; i < srv->nworkers; i++) {
		while (posted[i] && srv->w[i]->call_fn != NULL)
			pthread_cond_wait(&srv->call_cv, &srv->call_mu);
	}
	pthread_mutex_unlock(&srv->call_mu);
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (!posted[i])
			fn(srv->w[i], arg); /* its thread is not running */
	}
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

void
md_srv_worker_close_sockets(struct worker *wk)
{
	for (size_t i = 0; i < wk->nudp; i++) {
		event_free(wk->udp[i].ev);
		close(wk->udp[i].fd);
		if (wk->udp[i].tev != NULL) {
			event_free(wk->udp[i].tev);
			close(wk->udp[i].tfd);
		}
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
	struct md_hashtab_iter it;
	struct md_hnode *hn;

	if (wk == NULL)
		return;
	md_hashtab_iter_init(&it, &wk->inflight);
	while ((hn = md_hashtab_iter_next(&it)) != NULL)
		md_srv_resolution_free(
		    MD_HNODE_ENTRY(hn, struct resolution, hn));
	md_hashtab_deinit(&wk->inflight);
	while (wk->conns != NULL)
		md_srv_conn_free(wk->conns);
	md_srv_worker_close_sockets(wk);
	if (wk->health_ev != NULL)
		event_free(wk->health_ev);
	if (wk->drain_ev != NULL)
		event_free(wk->drain_ev);
	if (wk->accept_pause_ev != NULL)
		event_free(wk->accept_pause_ev);
	if (wk->call_ev != NULL)
		event_free(wk->call_ev);
	if (wk->stop_ev != NULL)
		event_free(wk->stop_ev);
	md_zone_set_unref(wk->zones);
	md_net_free(wk->net); /* cancels probes without callbacks */
	md_srv_probes_free(wk);
	if (wk->base != NULL)
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
	if (md_hashtab_init(
		&wk->inflight, INFLIGHT_BUCKETS, MD_HASHTAB_FIXED) != 0)
		goto fail;
	wk->base = event_base_new();
	if (wk->base == NULL)
		goto fail;
	wk->zones = md_zone_set_ref(srv->zones);
	wk->net = md_net_new(wk->base);
	wk->call_ev = event_new(wk->base, -1, 0, call_cb, wk);
	wk->stop_ev = event_new(wk->base, -1, 0, stop_cb, wk);
	if (wk->zones == NULL || wk->net == NULL || wk->call_ev == NULL ||
	    wk->stop_ev == NULL)
		goto fail;
	md_srv_transport_init(wk);
	if (md_net_set_tls_ca(wk->net, tls_ca) != 0) {
		md_err(MD_LOG_SERVER, "tls-ca %s: cannot load it",
		    tls_ca ? tls_ca : "(system store)");
		goto fail;
	}
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
	/* The workers' bases are woken from the control thread (calls,
	 * stopping): libevent's locking, before any of them exists. */
	if (evthread_use_pthreads() != 0) {
		md_err(MD_LOG_SERVER, "libevent threads: cannot set them up");
		free(srv);
		return NULL;
	}
	srv->boot = md_config_ref(cfg);
	srv->infra = md_infra_new(0);
	md_config_cache_conf(cfg, &cc);
	srv->cache = md_cache_new(&cc);
	srv->nta = md_nta_new();
	srv->nsecs = md_nsec_store_new();
	srv->memo = md_val_memo_new();
	srv->zones = md_zone_set_new_empty();
	srv->loop = md_srv_loop_new();
	if (srv->infra == NULL || srv->cache == NULL || srv->nta == NULL ||
	    srv->nsecs == NULL || srv->memo == NULL || srv->zones == NULL ||
	    srv->loop == NULL) {
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
	md_srv_probes_start(srv->w[0]);
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
	wk->max_conns = srv->cfg->tcp_max_connections;
}

/* Do two engine settings judge DNSSEC differently? */
static bool
dnssec_changed(const struct md_resolve_conf *a, const struct md_resolve_conf *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	if (a->validate != b->validate || a->nanchors != b->nanchors ||
	    a->ninsecure != b->ninsecure ||
	    a->nsec3_max_iterations != b->nsec3_max_iterations)
		return true;
	for (size_t i = 0; i < a->nanchors; i++) {
		const struct md_trust_anchor *x = &a->anchors[i];
		const struct md_trust_anchor *y = &b->anchors[i];

		if (!md_name_equal(x->zone, y->zone) || x->type != y->type ||
		    x->rdlen != y->rdlen ||
		    memcmp(x->rdata, y->rdata, x->rdlen) != 0)
			return true;
	}
	for (size_t i = 0; i < a->ninsecure; i++) {
		if (!md_name_equal(a->insecure[i], b->insecure[i]))
			return true;
	}
	/* the forward zones marked insecure, by name, either way round */
	for (int pass = 0; pass < 2; pass++) {
		const struct md_resolve_conf *x = pass ? b : a;
		const struct md_resolve_conf *y = pass ? a : b;

		for (size_t i = 0; i < x->nforward; i++) {
			const struct md_forward_zone *f;

			if (!x->forward[i].insecure)
				continue;
			f = md_resolve_find_forward(y, x->forward[i].zone);
			if (f == NULL || !f->insecure ||
			    !md_name_equal(f->zone, x->forward[i].zone))
				return true;
		}
	}
	return false;
}

void
md_server_update(struct md_server *srv, const struct md_config *cfg)
{
	const struct md_config *old = srv->cfg;
	struct md_ratelimit *old_rl = NULL;
	struct md_cache_conf cc;

	if (cfg->rate_limit != srv->rl_rate ||
	    cfg->rate_limit_ipv6_prefix != srv->rl_prefix) {
		struct md_ratelimit *rl = NULL;

		if (cfg->rate_limit > 0 &&
		    (rl = md_ratelimit_new(cfg->rate_limit,
			 cfg->rate_limit_ipv6_prefix)) == NULL) {
			md_err(MD_LOG_SERVER,
			    "rate-limit: out of memory, keeping %u a second",
			    srv->rl_rate);
		} else {
			old_rl = srv->rl;
			srv->rl = rl;
			srv->rl_rate = cfg->rate_limit;
			srv->rl_prefix = cfg->rate_limit_ipv6_prefix;
		}
	}
	srv->cfg = md_config_ref(cfg);
	/* The cache and the responder clamp TTLs by the same snapshot. */
	md_config_cache_conf(cfg, &cc);
	md_cache_set_limits(srv->cache, &cc, md_srv_now_ms(srv));
	on_workers(srv, apply_config, srv);
	/* Other trust anchors or insecure names: what the cache holds as
	 * secure, insecure or bogus was judged by the old ones (emptied once
	 * every worker answers by the new settings). */
	if (old != NULL && dnssec_changed(old->resolve, cfg->resolve)) {
		md_info(MD_LOG_SERVER,
		    "DNSSEC settings changed: the cache and the validator's "
		    "memory are emptied");
		md_cache_flush(srv->cache, NULL);
		md_nsec_store_flush(srv->nsecs);
		md_val_memo_flush(srv->memo);
	}
	/* No worker holds the old limiter or reads the old snapshot any
	 * more; resolutions that started under it hold their own
	 * references. */
	md_ratelimit_free(old_rl);
	md_config_unref(old);
	md_srv_loop_reload(srv);
}

/* Start the workers on their threads, with every signal blocked (the
 * control thread takes them). */
int
md_server_start(struct md_server *srv)
{
	sigset_t all, old;
	int rc = 0;

	md_metrics_set_workers(srv->nworkers);
	md_info(MD_LOG_SERVER, "%u worker thread%s", srv->nworkers,
	    srv->nworkers == 1 ? "" : "s");
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* Calls posted from now on go to the threads (has_thread). */
	pthread_mutex_lock(&srv->call_mu);
	srv->threads_running = true;
	for (unsigned i = 0; i < srv->nworkers && rc == 0; i++) {
		rc = pthread_create(
		    &srv->w[i]->thread, NULL, worker_main, srv->w[i]);
		if (rc == 0)
			srv->w[i]->has_thread = true;
	}
	pthread_mutex_unlock(&srv->call_mu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		md_err(MD_LOG_SERVER, "cannot start a worker thread: %s",
		    strerror(rc));
		return -rc;
	}
	return 0;
}

static void
apply_zones(struct worker *wk, void *arg)
{
	struct md_zone_set *old = wk->zones;

	wk->zones = md_zone_set_ref(arg);
	md_zone_set_unref(old); /* never the last: srv->zones holds it */
}

void
md_server_set_zones(struct md_server *srv, struct md_zone_set *zs)
{
	struct md_zone_set *old = srv->zones;

	srv->zones = zs;
	on_workers(srv, apply_zones, zs);
	/* The last reference to the old snapshot is this one: a large zone
	 * set is freed here, on the control thread, never on a worker. */
	md_zone_set_unref(old);
}

static void
prime_fn(struct worker *wk, void *arg)
{
	int *rc = arg;

	*rc = md_srv_prime(wk);
}

int
md_server_prime(struct md_server *srv)
{
	int rc = 0;

	md_srv_on_worker(srv->w[0], prime_fn, &rc);
	return rc;
}

struct md_cache *
md_server_cache(struct md_server *srv)
{
	return srv->cache;
}

struct md_nsec_store *
md_server_nsecs(struct md_server *srv)
{
	return srv->nsecs;
}

struct md_nta *
md_server_nta(struct md_server *srv)
{
	return srv->nta;
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
	on_workers(srv, md_srv_drain_start, NULL);
	event_add(srv->drain_ev, &tv);
}

void
md_server_free(struct md_server *srv)
{
	if (srv == NULL)
		return;
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (srv->w[i] != NULL && srv->w[i]->has_thread) {
			event_active(srv->w[i]->stop_ev, EV_READ, 0);
			pthread_join(srv->w[i]->thread, NULL);
		}
	}
	/* Every worker's sockets first, back to back: while a restart's new
	 * process takes over, each close renumbers the SO_REUSEPORT group
	 * (see steer_group()), so the time between the first close and
	 * the last is kept to a few system calls. */
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (srv->w[i] != NULL)
			md_srv_worker_close_sockets(srv->w[i]);
	}
	/* Its retry timer is on worker 0's base. */
	md_srv_loop_free(srv->loop);
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_free(srv->w[i]);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	if (srv->resteer_ev != NULL)
		event_free(srv->resteer_ev);
	md_ratelimit_free(srv->rl);
	md_zone_set_unref(srv->zones);
	md_config_unref(srv->cfg);
	md_config_unref(srv->boot);
	md_cache_free(srv->cache);
	md_nta_free(srv->nta);
	md_nsec_store_free(srv->nsecs);
	md_val_memo_free(srv->memo);
	md_infra_free(srv->infra);
	if (srv->tls_ctx != NULL)
		SSL_CTX_free(srv->tls_ctx);
	pthread_cond_destroy(&srv->call_cv);
	pthread_mutex_destroy(&srv->call_mu);
	free(srv);
}
