/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * driver.c - the engine driver (driver.h): step, send, feed back the
 * outcome, step again; and net/ as its transport.  It owns no request and
 * keeps no state beyond the one query out.  Who answers clients, prints a
 * trace or checks a scenario is the caller's business.
 */
#include "config.h"

#include <stdlib.h>

#include "minidns/driver.h"
#include "minidns/util.h"

/* Steps in one run without the engine waiting: far more than any
 * resolution takes (its own limits end it long before), so reaching it
 * means a bug, not a busy request. */
#define DRIVE_STEPS_MAX 4096

static void
outcome(struct md_drive *dr, enum md_net_status status, const uint8_t *reply,
    size_t len, uint32_t rtt_ms)
{
	const struct md_driver_io *t = dr->t;

	dr->handle = NULL;
	if (t->finished != NULL)
		t->finished(t->hook_arg, dr->forward, status, rtt_ms);
	if (status == MD_NET_OK)
		md_resolve_reply(dr->req, dr->token, reply, len, rtt_ms);
	else
		md_resolve_fail(dr->req, dr->token, status == MD_NET_TIMEOUT);
}

static void
drive_cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct md_drive *dr = arg;

	outcome(dr, status, reply, len, rtt_ms);
	/* From inside the transport's send(): the loop there goes on. */
	if (dr->running) {
		dr->has_outcome = true;
		return;
	}
	md_drive_run(dr);
}

void
md_drive_init(struct md_drive *dr, const struct md_driver_io *t,
    struct md_request *req, void (*done)(void *arg), void *arg)
{
	*dr = (struct md_drive){.t = t, .req = req, .done = done, .arg = arg};
}

void
md_drive_run(struct md_drive *dr)
{
	const struct md_driver_io *t = dr->t;

	dr->running = true;
	for (int steps = 0; steps < DRIVE_STEPS_MAX; steps++) {
		struct md_send s;
		enum md_step st = md_resolve_step(dr->req, &s);
		void *h;

		if (st == MD_STEP_WAIT) {
			dr->running = false;
			return;
		}
		if (st == MD_STEP_DONE) {
			dr->running = false;
			dr->done(dr->arg); /* may free dr */
			return;
		}
		dr->token = s.token;
		dr->forward = s.upstream != NULL;
		if (t->sent != NULL)
			t->sent(t->hook_arg, &s);
		dr->has_outcome = false;
		h = t->send(t->ctx, &s, drive_cb, dr);
		if (dr->has_outcome)
			continue; /* answered already: step on */
		if (h != NULL) {
			dr->handle = h;
			dr->running = false;
			return;
		}
		/* Could not even send: the engine picks the next server. */
		md_resolve_fail(dr->req, s.token, false);
	}
	md_err(MD_LOG_SERVER,
	    "resolution did not settle after %d steps; "
	    "dropping it",
	    DRIVE_STEPS_MAX);
	dr->running = false;
	dr->stuck = true;
	dr->done(dr->arg);
}

void
md_drive_cancel(struct md_drive *dr)
{
	if (dr->handle != NULL)
		dr->t->cancel(dr->t->ctx, dr->handle);
	dr->handle = NULL;
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
		    net, &up, s->query, s->len, s->timeout_ms, cb, cb_arg);
	}
	return md_net_send(net, &s->server, s->tcp, s->query, s->len,
	    s->timeout_ms, cb, cb_arg);
}

void
md_driver_net_cancel(void *net, void *handle)
{
	(void)net;
	md_net_cancel(handle);
}

void
md_driver_net(struct md_driver_io *t, struct md_net *n)
{
	t->send = md_driver_net_send;
	t->cancel = md_driver_net_cancel;
	t->ctx = n;
	t->sent = NULL;
	t->finished = NULL;
	t->hook_arg = NULL;
}
