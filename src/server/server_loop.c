/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_loop.c - forwarding loop detection (loop-detect), as CoreDNS's
 * loop plugin: at start, and after a reload that changes the forward
 * zones, worker 0 sends one probe through each forward zone, a question
 * for a random name under it ("<random>.<random>.<zone>" HINFO, as
 * CoreDNS's), resolved like any other (the engine driver, the forwarders
 * of the zone).  The name is published nowhere and kept in memory; when
 * it arrives on one of our own listeners, our own forwarding sent it
 * back to us: the zone loops.
 *
 * One arrival is proof.  CoreDNS sends its probe to itself first, so it
 * sees its own name once legitimately and calls more than two a loop; our
 * probe leaves through the forwarders directly, and a 128-bit random name
 * nobody else knows can only come back through them.
 *
 * A looped zone: an error in the log naming the zone and its upstreams,
 * /ready 503 with the reason, SERVFAIL at once (EDE 0 "forwarding loop")
 * for its names instead of the forwarders' timeouts (HINFO excepted: the
 * other servers' probes go round, so that they see the loop too), the gauge
 * minidns_forward_loop{zone} at 1.  The arriving probe itself is answered
 * SERVFAIL at once and never forwarded again, so it bounces once.  A
 * looped zone is probed again every LOOP_RETRY_S with a new name; a probe
 * that ends without arriving clears it.  A zone whose probe failed
 * (SERVFAIL: the forwarders refused or timed out) is probed again too: two
 * servers forwarding to each other start one after the other, and the
 * first one's probe finds the second not listening yet.
 *
 * Readiness waits for the first round of probes only, and at most
 * resolve-timeout and a little (a dead forwarder is no loop).
 *
 * The state is shared by the workers (a probe arrives at any of them):
 * under a mutex, with two atomic counters so that the query path costs a
 * type comparison when nothing loops.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/util.h"

#include "server-internal.h"

#define LOOP_RETRY_S 5		 /* looped, unanswered zones: probed again */
#define LOOP_FIRST_SLACK_MS 500	 /* readiness waits resolve-timeout + this */
#define LOOP_UNANSWERED_TRIES 12 /* an unanswered zone: probes, at most */

struct loop_zone {
	uint8_t zone[MD_NAME_MAX];
	uint8_t probe[MD_NAME_MAX]; /* the current probe's name */
	uint8_t prev[MD_NAME_MAX];  /* the one before: late arrivals */
	bool has_prev;
	char via[256]; /* the zone's upstreams, for the log */
	bool pending;  /* the current probe is in flight */
	bool arrived;  /* the current probe came back */
	bool looped;
	/* the last probe failed (SERVFAIL, timeouts) without coming back:
	 * no loop seen, but none ruled out either (the forwarder may be a
	 * loop partner still starting): probed again */
	bool unanswered;
	unsigned tries; /* probes sent since the zone (or its servers) came */
	unsigned arrivals; /* probes that came back, ever */
};

struct md_loop {
	pthread_mutex_t mu;
	struct loop_zone *z;
	size_t nz;
	atomic_uint nzones;  /* zones with a probe name (nz, read unlocked) */
	atomic_uint nlooped; /* zones looped */
	bool enabled;
	/* the first round of probes: readiness waits for it, until
	 * first_deadline_ms (0: not started yet) */
	bool first_round;
	uint64_t first_deadline_ms;
	struct event *retry_ev; /* worker 0's */
};

struct md_loop *
md_srv_loop_new(void)
{
	struct md_loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	pthread_mutex_init(&l->mu, NULL);
	atomic_init(&l->nzones, 0);
	atomic_init(&l->nlooped, 0);
	/* Not ready until the first round has run (or was not needed). */
	l->first_round = true;
	return l;
}

void
md_srv_loop_free(struct md_loop *l)
{
	if (l == NULL)
		return;
	if (l->retry_ev != NULL)
		event_free(l->retry_ev);
	free(l->z);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* "<random>.<random>.<zone>" into out; false when it does not fit. */
static bool
probe_name(const uint8_t *zone, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t zl = md_name_len(zone);
	uint8_t r[16];

	if (zl == 0 || zl + 2 * 17 > MD_NAME_MAX)
		return false;
	md_random_bytes(r, sizeof(r));
	for (int l = 0; l < 2; l++) {
		out[l * 17] = 16;
		for (int i = 0; i < 8; i++) {
			out[l * 17 + 1 + 2 * i] =
			    (uint8_t)hex[r[l * 8 + i] >> 4];
			out[l * 17 + 2 + 2 * i] =
			    (uint8_t)hex[r[l * 8 + i] & 15];
		}
	}
	memcpy(out + 34, zone, zl);
	md_name_lower(out);
	return true;
}

static void
zone_str(const uint8_t *name, char *buf, size_t len)
{
	if (md_name_to_str(name, buf, len) != 0)
		md_strlcpy(buf, "?", len);
}

/* The upstreams of f, "a, b, c", for the log. */
static void
via_str(const struct md_forward_zone *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->nservers && n + 2 < len; i++) {
		char a[MD_SOCKADDR_STRLEN];

		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		    md_sockaddr_str(&f->servers[i].addr, a, sizeof(a)));
	}
}

/* A new probe name for z, marked pending (l->mu held); the caller sends
 * it with send_probes() once the lock is released (a resolution may end
 * at once, in md_srv_loop_probe_done()). */
static bool
new_probe(struct loop_zone *z, uint8_t *out)
{
	if (z->pending)
		return false;
	memcpy(z->prev, z->probe, sizeof(z->prev));
	z->has_prev = z->probe[0] != 0;
	if (!probe_name(z->zone, z->probe)) {
		z->probe[0] = 0;
		return false;
	}
	z->arrived = false;
	z->pending = true;
	z->tries++;
	memcpy(out, z->probe, md_name_len(z->probe));
	return true;
}

/* Worker 0: resolve the n probe names (l->mu not held). */
static void
send_probes(struct worker *wk, uint8_t (*names)[MD_NAME_MAX], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (md_srv_loop_resolve(wk, names[i]) != 0)
			md_srv_loop_probe_done(wk, names[i], MD_RCODE_SERVFAIL);
	}
}

static void
first_round_check(struct md_loop *l)
{
	unsigned unanswered = 0;
	bool pending = false;

	for (size_t i = 0; i < l->nz; i++) {
		pending |= l->z[i].pending;
		unanswered += l->z[i].unanswered;
	}
	if (l->first_round && l->first_deadline_ms != 0 && !pending) {
		l->first_round = false;
		md_info(MD_LOG_SERVER,
		    "loop-detect: first probes done: %zu forward zone%s, %u "
		    "looping, %u unanswered (probed again every %d s)",
		    l->nz, l->nz == 1 ? "" : "s", atomic_load(&l->nlooped),
		    unanswered, LOOP_RETRY_S);
	}
}

/* Worker 0, from resolution_done(): the probe 'name' ended (answered,
 * failed or dropped). */
void
md_srv_loop_probe_done(struct worker *wk, const uint8_t *name, int rcode)
{
	struct md_loop *l = wk->srv->loop;
	char zs[MD_NAME_STRLEN];

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->nz; i++) {
		struct loop_zone *z = &l->z[i];

		if (!z->pending || !md_name_equal(z->probe, name))
			continue;
		z->pending = false;
		z->unanswered = !z->arrived && rcode == MD_RCODE_SERVFAIL;
		/* It ended without coming back: no loop (any more). */
		if (!z->arrived && z->looped) {
			z->looped = false;
			z->tries = 0; /* unanswered now: a minute of probes */
			atomic_fetch_sub(&l->nlooped, 1);
			zone_str(z->zone, zs, sizeof(zs));
			md_warn(MD_LOG_SERVER,
			    "forwarding loop gone: zone %s via %s no longer "
			    "sends our probe back; forwarding again",
			    zs, z->via);
		}
	}
	first_round_check(l);
	pthread_mutex_unlock(&l->mu);
}

/* Two forward zones' lists alike: the same zones, the same servers. */
static bool
same_zone(const struct loop_zone *z, const struct md_forward_zone *f)
{
	char via[sizeof(z->via)];

	via_str(f, via, sizeof(via));
	return md_name_equal(z->zone, f->zone) && strcmp(z->via, via) == 0;
}

struct start_arg {
	bool forced; /* probe even when the zones are the same */
};

/* Worker 0: (re)build the zone list from the worker's snapshot, probing
 * every zone when the list changed (or when forced). */
static void
start_fn(struct worker *wk, void *arg)
{
	struct md_loop *l = wk->srv->loop;
	const struct md_resolve_conf *rc = wk->cfg->resolve;
	const struct start_arg *sa = arg;
	size_t n = wk->cfg->loop_detect ? rc->nforward : 0;
	struct loop_zone *z = n > 0 ? calloc(n, sizeof(*z)) : NULL;
	unsigned looped = 0;
	bool same = n == l->nz;
	uint8_t(*names)[MD_NAME_MAX];
	size_t nn = 0;

	if (n > 0 && z == NULL) {
		md_err(MD_LOG_SERVER, "loop-detect: out of memory");
		return;
	}
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; same && i < n; i++)
		same = same_zone(&l->z[i], &rc->forward[i]);
	if (same && !sa->forced && l->enabled == wk->cfg->loop_detect) {
		pthread_mutex_unlock(&l->mu);
		free(z);
		return; /* nothing to probe anew */
	}
	l->enabled = wk->cfg->loop_detect;
	for (size_t i = 0; i < n; i++) {
		const struct md_forward_zone *f = &rc->forward[i];

		memcpy(z[i].zone, f->zone, md_name_len(f->zone));
		via_str(f, z[i].via, sizeof(z[i].via));
		/* An old zone's state carries over until its new probe
		 * says otherwise; its last name is still known. */
		for (size_t j = 0; j < l->nz; j++) {
			if (!md_name_equal(l->z[j].zone, f->zone))
				continue;
			memcpy(z[i].probe, l->z[j].probe, sizeof(z[i].probe));
			z[i].looped = l->z[j].looped && same_zone(&l->z[j], f);
			z[i].arrivals = l->z[j].arrivals;
		}
		looped += z[i].looped;
	}
	free(l->z);
	l->z = z;
	l->nz = n;
	atomic_store(&l->nlooped, looped);
	atomic_store(&l->nzones, (unsigned)n);
	if (l->first_deadline_ms == 0)
		l->first_deadline_ms = md_srv_now_ms(wk->srv) + rc->timeout_ms +
		    LOOP_FIRST_SLACK_MS;
	names = n > 0 ? calloc(n, MD_NAME_MAX) : NULL;
	for (size_t i = 0; i < n && names != NULL; i++)
		nn += new_probe(&l->z[i], names[nn]);
	if (n > 0)
		md_info(MD_LOG_SERVER,
		    "loop-detect: probing %zu forward zone%s for loops", n,
		    n == 1 ? "" : "s");
	pthread_mutex_unlock(&l->mu);
	send_probes(wk, names, nn);
	free(names);
	pthread_mutex_lock(&l->mu);
	first_round_check(l);
	pthread_mutex_unlock(&l->mu);
}

/* Worker 0, every LOOP_RETRY_S: probe the looped zones again. */
static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;
	struct md_loop *l = wk->srv->loop;
	struct timeval tv = {LOOP_RETRY_S, 0};
	uint8_t(*names)[MD_NAME_MAX];
	size_t nn = 0;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&l->mu);
	names = l->nz > 0 ? calloc(l->nz, MD_NAME_MAX) : NULL;
	for (size_t i = 0; i < l->nz && names != NULL; i++) {
		/* A looped zone for as long as it loops (to see it end);
		 * an unanswered one for a minute (a partner starting late
		 * finds the loop with its own probe) */
		if (l->z[i].looped ||
		    (l->z[i].unanswered &&
			l->z[i].tries < LOOP_UNANSWERED_TRIES))
			nn += new_probe(&l->z[i], names[nn]);
	}
	pthread_mutex_unlock(&l->mu);
	send_probes(wk, names, nn);
	free(names);
	event_add(l->retry_ev, &tv);
}

static void
first_fn(struct worker *wk, void *arg)
{
	struct md_loop *l = wk->srv->loop;
	struct timeval tv = {LOOP_RETRY_S, 0};

	start_fn(wk, arg);
	if (l->retry_ev == NULL) {
		l->retry_ev = evtimer_new(wk->base, retry_cb, wk);
		if (l->retry_ev != NULL)
			event_add(l->retry_ev, &tv);
	}
}

void
md_server_loop_start(struct md_server *srv)
{
	struct start_arg sa = {true};

	md_srv_on_worker(srv->w[0], first_fn, &sa);
	srv->loop_started = true;
}

void
md_srv_loop_reload(struct md_server *srv)
{
	struct start_arg sa = {false};

	if (srv->loop_started)
		md_srv_on_worker(srv->w[0], start_fn, &sa);
}

enum md_loop_verdict
md_loop_check(struct md_loop *l, const struct md_resolve_conf *rc,
    const uint8_t *qname, uint16_t qtype)
{
	enum md_loop_verdict v = MD_LOOP_NONE;
	const struct md_forward_zone *f;
	char zs[MD_NAME_STRLEN], ns[MD_NAME_STRLEN];

	if (l == NULL)
		return MD_LOOP_NONE;
	if (qtype == MD_TYPE_HINFO && atomic_load(&l->nzones) > 0) {
		pthread_mutex_lock(&l->mu);
		for (size_t i = 0; i < l->nz; i++) {
			struct loop_zone *z = &l->z[i];

			if (!md_name_equal(z->probe, qname) &&
			    !(z->has_prev && md_name_equal(z->prev, qname)))
				continue;
			v = MD_LOOP_PROBE;
			z->arrivals++;
			z->arrived = true;
			if (!z->looped) {
				z->looped = true;
				atomic_fetch_add(&l->nlooped, 1);
				zone_str(z->zone, zs, sizeof(zs));
				zone_str(qname, ns, sizeof(ns));
				md_err(MD_LOG_SERVER,
				    "forwarding loop detected: zone %s via %s "
				    "sends our own probe back (%s HINFO); its "
				    "names get SERVFAIL and the server is not "
				    "ready until the loop is gone",
				    zs, z->via, ns);
			}
			break;
		}
		pthread_mutex_unlock(&l->mu);
		if (v != MD_LOOP_NONE)
			return v;
	}
	/* HINFO is forwarded even in a looped zone: it is how the other
	 * servers of the loop (CoreDNS's loop plugin, another minidnsd)
	 * probe, and they find the loop only if their probe comes round to
	 * them rather than stopping here. */
	if (qtype == MD_TYPE_HINFO || atomic_load(&l->nlooped) == 0 ||
	    rc == NULL || (f = md_resolve_find_forward(rc, qname)) == NULL)
		return MD_LOOP_NONE;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->nz; i++) {
		if (l->z[i].looped && md_name_equal(l->z[i].zone, f->zone)) {
			v = MD_LOOP_ZONE;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return v;
}

bool
md_server_loop_not_ready(struct md_server *srv, char *why, size_t len)
{
	struct md_loop *l = srv->loop;
	bool not_ready = false;
	char zs[MD_NAME_STRLEN];

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->nz && !not_ready; i++) {
		if (!l->z[i].looped)
			continue;
		zone_str(l->z[i].zone, zs, sizeof(zs));
		snprintf(why, len, "forwarding loop: zone %s via %s\n", zs,
		    l->z[i].via);
		not_ready = true;
	}
	if (!not_ready && l->first_round &&
	    (l->first_deadline_ms == 0 ||
		md_srv_now_ms(srv) < l->first_deadline_ms)) {
		snprintf(why, len, "forwarding loop probes pending\n");
		not_ready = true;
	}
	pthread_mutex_unlock(&l->mu);
	return not_ready;
}

void
md_server_loop_zones(struct md_server *srv,
    void (*fn)(void *ctx, const char *zone, bool looped), void *ctx)
{
	struct md_loop *l = srv->loop;
	char zs[MD_NAME_STRLEN];

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->nz; i++) {
		zone_str(l->z[i].zone, zs, sizeof(zs));
		fn(ctx, zs, l->z[i].looped);
	}
	pthread_mutex_unlock(&l->mu);
}
