/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * driver.h - the one loop that drives a resolution: step the engine
 * (resolve.h), hand each SEND to a transport, feed the reply, timeout or
 * failure back, step again, until the request is DONE.  The server's
 * workers, minidig +trace and the replay tests all drive the engine
 * through it, so the server choice, the retries and the timeouts a
 * student sees in +trace are the daemon's.
 *
 *	struct md_drive dr;
 *
 *	md_drive_init(&dr, &transport, req, done_cb, arg);
 *	md_drive_run(&dr);	    runs until the engine waits or is done
 *	...			    the transport calls back; done_cb(arg)
 *				    once the request is DONE
 *	md_drive_cancel(&dr);	    (only to abandon it before that)
 *
 * A transport may call back from inside its send() (a fake network that
 * answers at once): the driver then goes on in its own loop rather than
 * recursing.
 *
 * Attempts stay open.  A query goes out with the engine's open_ms (the
 * time left for the question) as its lifetime, and a retransmission
 * timer of timeout_ms beside it: when the timer fires, the engine hears
 * of a timeout and sends again (the same server with a longer timeout,
 * or another), while the first query keeps listening, so a reply that
 * comes late is still taken.  Queries the engine no longer wants
 * (md_resolve_open(): the question moved on, or more than
 * MD_RESOLVE_OPEN_MAX were made) are cancelled after every step, and
 * all of them when the request is done.
 */
#ifndef MINIDNS_DRIVER_H
#define MINIDNS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "minidns/net.h"
#include "minidns/resolve.h"

/* How queries go out: net/ (md_driver_net()), or a test's fake network. */
struct md_driver_io {
	/*
	 * Send s (valid during the call only), waiting s->open_ms for the
	 * reply, and call cb(cb_arg, ...) once with the outcome, unless
	 * cancelled.  Returns a handle, or NULL when the query could not
	 * even be sent (then cb is not called, and the engine hears of a
	 * failure and picks another server).
	 */
	void *(*send)(
	    void *ctx, const struct md_send *s, md_net_cb cb, void *cb_arg);
	void (*cancel)(void *ctx, void *handle);
	/*
	 * The retransmission timer of the query 'handle': call cb(arg) once
	 * after ms, unless cancelled (always before the query is).  Returns
	 * a timer, or NULL.  Without timers (NULL here, or a NULL timer) a
	 * query waits only timeout_ms: attempts do not stay open.
	 */
	void *(*timer)(void *ctx, void *handle, uint32_t ms,
	    void (*cb)(void *arg), void *arg);
	void (*timer_cancel)(void *ctx, void *timer);
	void *ctx;
	/* Optional: every query sent, every outcome (counters). */
	void (*sent)(void *hook_arg, const struct md_send *s);
	void (*finished)(void *hook_arg, bool forward,
	    enum md_net_status status, uint32_t rtt_ms);
	/* Optional: every reply from a forwarder (late ones, after the
	 * retransmission timer, too), 'usec' after its query was sent. */
	void (*replied)(void *hook_arg, const struct md_upstream *up,
	    const uint8_t *reply, size_t len, uint64_t usec);
	void *hook_arg;
};

/*
 * The transport of net/: a forwarded query goes to its upstream with the
 * upstream's transport (UDP, TCP, DNS over TLS; TCP when the engine asks
 * for it, after TC or with force-tcp), an iterative one to the server
 * over UDP or TCP.  'ctx' of the result is n.
 */
void md_driver_net(struct md_driver_io *t, struct md_net *n);
/* net/'s send, cancel and timers, for a transport that wraps them
 * (minidig's -4/-6 and +tcp). */
void *md_driver_net_send(
    void *net, const struct md_send *s, md_net_cb cb, void *cb_arg);
void md_driver_net_cancel(void *net, void *handle);
void *md_driver_net_timer(
    void *net, void *handle, uint32_t ms, void (*cb)(void *arg), void *arg);
void md_driver_net_timer_cancel(void *net, void *timer);

struct md_drive;

/* One query of the request, open. */
struct md_drive_query {
	struct md_drive *dr;
	void *handle;	/* the transport's, NULL when the slot is free */
	void *timer;	/* its retransmission timer, NULL once fired */
	uint32_t token; /* the engine's */
	bool forward;	/* it goes to a forwarder */
	/* the forwarder (the request's configuration's), and when the
	 * query went (t->replied set) */
	const struct md_upstream *upstream;
	uint64_t sent_us;
	bool counted; /* t->finished() told already (at the timer) */
	bool in_send; /* inside the transport's send() */
};

/* A request being driven; the caller's storage. */
struct md_drive {
	const struct md_driver_io *t;
	struct md_request *req;
	void (*done)(void *arg);
	void *arg;
	struct md_drive_query q[MD_RESOLVE_OPEN_MAX];
	bool running;	  /* inside md_drive_run() */
	bool has_outcome; /* the transport called back inside send() */
	bool stuck;	  /* ended without the engine being DONE */
};

/*
 * Take req (still the caller's: free it after done()) to drive over t;
 * done(arg) is called once when the request is DONE (its result is then
 * md_resolve_result(req)), or with dr->stuck set when it would not settle
 * (a bounded number of steps in one run without waiting: a bug, logged).
 * done() may free dr.
 */
void md_drive_init(struct md_drive *dr, const struct md_driver_io *t,
    struct md_request *req, void (*done)(void *arg), void *arg);
/* Step until the engine waits for the transport, or is done. */
void md_drive_run(struct md_drive *dr);
/* Cancel the queries open, if any; done() will not be called. */
void md_drive_cancel(struct md_drive *dr);

#endif /* MINIDNS_DRIVER_H */
