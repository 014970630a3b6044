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
	 * Send s (valid during the call only) and call cb(cb_arg, ...) once
	 * with the outcome, unless cancelled.  Returns a handle, or NULL
	 * when the query could not even be sent (then cb is not called,
	 * and the engine hears of a failure and picks another server).
	 */
	void *(*send)(
	    void *ctx, const struct md_send *s, md_net_cb cb, void *cb_arg);
	void (*cancel)(void *ctx, void *handle);
	void *ctx;
	/* Optional: every query sent, every outcome (counters). */
	void (*sent)(void *hook_arg, const struct md_send *s);
	void (*finished)(void *hook_arg, bool forward,
	    enum md_net_status status, uint32_t rtt_ms);
	void *hook_arg;
};

/*
 * The transport of net/: a forwarded query goes to its upstream with the
 * upstream's transport (UDP, TCP, DNS over TLS; TCP when the engine asks
 * for it, after TC or with force-tcp), an iterative one to the server
 * over UDP or TCP.  'ctx' of the result is n.
 */
void md_driver_net(struct md_driver_io *t, struct md_net *n);
/* net/'s send and cancel, for a transport that wraps them (minidig's
 * -4/-6 and +tcp). */
void *md_driver_net_send(
    void *net, const struct md_send *s, md_net_cb cb, void *cb_arg);
void md_driver_net_cancel(void *net, void *handle);

/* A request being driven; the caller's storage. */
struct md_drive {
	const struct md_driver_io *t;
	struct md_request *req;
	void (*done)(void *arg);
	void *arg;
	void *handle;	  /* the query out, or NULL */
	uint32_t token;	  /* the engine's, for the query out */
	bool forward;	  /* it goes to a forwarder */
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
/* Cancel the query out, if any; done() will not be called. */
void md_drive_cancel(struct md_drive *dr);

#endif /* MINIDNS_DRIVER_H */
