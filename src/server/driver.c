/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * driver.c - the engine driver (driver.h): step, send, feed back the
 * outcome, step again; and net/ as its transport.  It owns no request and
 * keeps no state beyond the queries open (the latest, and earlier ones
 * the engine still takes a late reply to) and their retransmission
 * timers.  Who answers clients, prints a trace or checks a scenario is
 * the caller's business.
 */
#include "config.h"

#include <stdlib.h>

#include <event2/event.h>

#include "minidns/driver.h"
#include "minidns/util.h"

/* Steps in one run without the engine waiting: far more than any
 * resolution takes (its own limits end it long before), so reaching it
 * means a bug, not a busy request. */
#define DRIVE_STEPS_MAX 4096

static void
close_query(struct md_drive *dr, struct md_drive_query *q)
{
	const struct md_driver_io *t = dr->t;

	if (q->timer != NULL)
		t->timer_cancel(t->ctx, q->timer);
	q->timer = NULL;
	if (q->handle != NULL)
		t->cancel(t->ctx, q->handle);
	q->handle = NULL;
}

/* Cancel the queries whose replies the engine would no longer take. */
static void
prune(struct md_drive *dr)
{
	for (size_t i = 0; i < MD_RESOLVE_OPEN_MAX; i++) {
		struct md_drive_query *q = &dr->q[i];

		if (q->handle != NULL && !md_resolve_open(dr->req, q->token))
			close_query(dr, q);
	}
}

static void
close_all(struct md_drive *dr)
{
	for (size_t i = 0; i < MD_RESOLVE_OPEN_MAX; i++)
		close_query(dr, &dr->q[i]);
}

/* The counters hear of each query once: at its timer or its outcome. */
static void
count(struct md_drive_query *q, enum md_net_status status, uint32_t rtt_ms)
{
	const struct md_driver_io *t = q->dr->t;

	if (!q->counted && t->finished != NULL)
		t->finished(t->hook_arg, q->forward, status, rtt_ms);
	q->counted = true;
}

/* After an outcome: step on, unless inside md_drive_run() already. */
static void
go_on(struct md_drive *dr)
{
	if (dr->running) {
		dr->has_outcome = true;
		return;
	}
	md_drive_run(dr);
}

/* The query's end: a reply (maybe a late one), a failure, or its
 * lifetime over. */
static void
drive_cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct md_drive_query *q = arg;
	struct md_drive *dr = q->dr;
	const struct md_driver_io *t = dr->t;

	if (q->timer != NULL)
		t->timer_cancel(t->ctx, q->timer);
	q->timer = NULL;
	q->handle = NULL; /* the transport is done with it */
	count(q, status, rtt_ms);
	if (status == MD_NET_OK && q->upstream != NULL && t->replied != NULL)
		t->replied(t->hook_arg, q->upstream, reply, len,
		    md_now_us() - q->sent_us);
	if (status == MD_NET_OK)
		md_resolve_reply(dr->req, q->token, reply, len, rtt_ms);
	else
		md_resolve_fail(dr->req, q->token, status == MD_NET_TIMEOUT);
	go_on(dr);
}

/* No reply within the retransmission timeout: the engine asks again, the
 * query stays open. */
static void
retransmit_cb(void *arg)
{
	struct md_drive_query *q = arg;
	struct md_drive *dr = q->dr;

	q->timer = NULL;
	count(q, MD_NET_TIMEOUT, 0);
	md_resolve_fail(dr->req, q->token, true);
	go_on(dr);
}

void
md_drive_init(struct md_drive *dr, const struct md_driver_io *t,
    struct md_request *req, void (*done)(void *arg), void *arg)
{
	*dr = (struct md_drive){.t = t, .req = req, .done = done, .arg = arg};
}

/* A free slot for a new query. */
static struct md_drive_query *
free_slot(struct md_drive *dr)
{
	for (size_t i = 0; i < MD_RESOLVE_OPEN_MAX; i++) {
		if (dr->q[i].handle == NULL)
			return &dr->q[i];
	}
	/* The engine keeps no more open than there are slots, and the
	 * new query is one of them: never here.  Make room. */
	(void)MD_CHECK(!"a free query slot");
	close_query(dr, &dr->q[0]);
	return &dr->q[0];
}

void
md_drive_run(struct md_drive *dr)
{
	const struct md_driver_io *t = dr->t;
	bool timers = t->timer != NULL && t->timer_cancel != NULL;

	dr->running = true;
	for (int steps = 0; steps < DRIVE_STEPS_MAX; steps++) {
		struct md_send s;
		struct md_drive_query *q;
		enum md_step st = md_resolve_step(dr->req, &s);
		void *h;

		if (st == MD_STEP_DONE) {
			close_all(dr);
			dr->running = false;
			dr->done(dr->arg); /* may free dr */
			return;
		}
		prune(dr);
		if (st == MD_STEP_WAIT) {
			dr->running = false;
			return;
		}
		q = free_slot(dr);
		*q = (struct md_drive_query){
		    .dr = dr, .token = s.token, .forward = s.upstream != NULL};
		if (!timers || s.open_ms < s.timeout_ms)
			s.open_ms = s.timeout_ms;
		if (t->sent != NULL)
			t->sent(t->hook_arg, &s);
		if (s.upstream != NULL && t->replied != NULL) {
			q->upstream = s.upstream;
			q->sent_us = md_now_us();
		}
		dr->has_outcome = false;
		h = t->send(t->ctx, &s, drive_cb, q);
		if (dr->has_outcome)
			continue; /* answered already: step on */
		if (h == NULL) {
			/* Could not even send: the engine picks the next
			 * server. */
			md_resolve_fail(dr->req, s.token, false);
			continue;
		}
		q->handle = h;
		if (timers && s.timeout_ms < s.open_ms)
			q->timer =
			    t->timer(t->ctx, h, s.timeout_ms, retransmit_cb, q);
		dr->running = false;
		return;
	}
	md_err(MD_LOG_SERVER,
	    "resolution did not settle after %d steps; "
	    "dropping it",
	    DRIVE_STEPS_MAX);
	close_all(dr);
	dr->running = false;
	dr->stuck = true;
	dr->done(dr->arg);
}

void
md_drive_cancel(struct md_drive *dr)
{
	close_all(dr);
}

void *
md_driver_net_send(
    void *net, const struct md_send *s, md_net_cb cb, void *cb_arg)
{
	if (s->upstream != NULL) {
		/* A forwarder: its own transport; TCP when asked (force-tcp,
		 * or a truncated UDP reply). */
		struct md_upstream up = *s->upstream;

		if (s->tcp && up.transport == MD_TRANSPORT_UDP)
			up.transport = MD_TRANSPORT_TCP;
		return md_net_send_to(
		    net, &up, s->query, s->len, s->open_ms, cb, cb_arg);
	}
	return md_net_send(
	    net, &s->server, s->tcp, s->query, s->len, s->open_ms, cb, cb_arg);
}

void
md_driver_net_cancel(void *net, void *handle)
{
	(void)net;
	md_net_cancel(handle);
}

/* A retransmission timer on net/'s event base. */
struct net_timer {
	struct event *ev;
	void (*cb)(void *arg);
	void *arg;
};

static void
net_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_timer *nt = arg;
	void (*cb)(void *) = nt->cb;
	void *cb_arg = nt->arg;

	(void)fd;
	(void)what;
	/* libevent does not touch a one-shot event after its callback
	 * returns (net.c frees its queries' timers the same way). */
	event_free(nt->ev);
	free(nt);
	cb(cb_arg);
}

void *
md_driver_net_timer(
    void *net, void *handle, uint32_t ms, void (*cb)(void *arg), void *arg)
{
	struct net_timer *nt = calloc(1, sizeof(*nt));
	struct timeval tv = {
	    .tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	(void)handle;
	if (nt == NULL)
		return NULL;
	nt->cb = cb;
	nt->arg = arg;
	nt->ev = evtimer_new(md_net_base(net), net_timer_cb, nt);
	if (nt->ev == NULL || evtimer_add(nt->ev, &tv) != 0) {
		if (nt->ev != NULL)
			event_free(nt->ev);
		free(nt);
		return NULL;
	}
	return nt;
}

void
md_driver_net_timer_cancel(void *net, void *timer)
{
	struct net_timer *nt = timer;

	(void)net;
	event_free(nt->ev);
	free(nt);
}

void
md_driver_net(struct md_driver_io *t, struct md_net *n)
{
	t->send = md_driver_net_send;
	t->cancel = md_driver_net_cancel;
	t->timer = md_driver_net_timer;
	t->timer_cancel = md_driver_net_timer_cancel;
	t->ctx = n;
	t->sent = NULL;
	t->finished = NULL;
	t->replied = NULL;
	t->hook_arg = NULL;
}
