/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_udp.c - UDP queries on a worker: recvmmsg/sendmmsg batches,
 * udp-batch-wait, the rate limit, one datagram in and one answer out.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/timerfd.h>

#include "minidns/ldns_bridge.h"

#include "server-internal.h"

/* ---- UDP --------------------------------------------------------------- */

size_t
md_srv_udp_answer(struct worker *wk, evutil_socket_t fd,
    const struct sockaddr_storage *from, socklen_t fromlen, const uint8_t *in,
    size_t n, uint8_t *out, size_t outcap, uint64_t start_us,
    md_srv_answer_fn answer, void *answer_arg)
{
	struct md_query_info info;
	size_t len;

	len = md_srv_process(wk, MD_METRIC_UDP, (const struct sockaddr *)from,
	    fromlen, in, n, out, outcap, &info);
	if (info.need_recursion) {
		struct waiter *w = md_srv_waiter_new(&info, false);

		if (w == NULL)
			return 0;
		w->fd = fd;
		memcpy(&w->from, from, fromlen);
		w->fromlen = fromlen;
		w->transport = MD_METRIC_UDP;
		w->start_us = start_us;
		w->answer = answer;
		w->answer_arg = answer_arg;
		md_srv_resolve_for(wk, w);
		return 0;
	}
	md_srv_account(wk, (const struct sockaddr *)from, fromlen,
	    MD_METRIC_UDP, &info.q, info.rcode, md_srv_immediate_source(&info),
	    info.security, start_us, len);
	return len;
}

/*
 * One datagram in[0..n) from 'from': returns the length of the answer
 * written to out (0: none now; dropped, or a resolution will answer).
 */
static size_t
udp_query(struct worker *wk, evutil_socket_t fd,
    const struct sockaddr_storage *from, socklen_t fromlen, uint8_t *in,
    size_t n, uint8_t *out, size_t outcap, uint64_t now_ms)
{
	uint64_t start_us = md_now_us();

	/* Port 0 cannot be answered: a spoofed or broken source. */
	if ((from->ss_family == AF_INET &&
		((const struct sockaddr_in *)from)->sin_port == 0) ||
	    (from->ss_family == AF_INET6 &&
		((const struct sockaddr_in6 *)from)->sin6_port == 0))
		return 0;
	if (!md_ratelimit_allow(
		wk->rl, (const struct sockaddr *)from, now_ms)) {
		md_metrics_rate_limited(wk->id);
		return 0;
	}
	return md_srv_udp_answer(
	    wk, fd, from, fromlen, in, n, out, outcap, start_us, NULL, NULL);
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
			md_metrics_dropped(wk->id);
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

static void udp_resume_cb(evutil_socket_t tfd, short what, void *arg);

/*
 * udp-batch-wait: leave l's socket unread for wait_us.  The worker goes
 * back to its event loop (TCP, timers and upstream replies go on), and
 * the listener's timerfd wakes it to read again: one wake-up then finds
 * what came meanwhile.  A timerfd, not a libevent timer: epoll's
 * timeouts are whole milliseconds.  It is edge-triggered and re-armed
 * before it is read again, so it is never read (timerfd_settime()
 * clears its count).  Under steady load one wait follows another with
 * the socket's event kept off: a wait costs one timerfd_settime().
 * Returns false when no wait was set up (the socket stays watched).
 */
static bool
udp_pause(struct udp_listener *l, unsigned wait_us)
{
	struct itimerspec its = {
	    .it_value = {0, (long)wait_us * 1000},
	};

	if (l->tev == NULL) {
		int tfd =
		    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

		if (tfd < 0)
			return false;
		l->tev = event_new(l->wk->base, tfd,
		    EV_READ | EV_PERSIST | EV_ET, udp_resume_cb, l);
		if (l->tev == NULL || event_add(l->tev, NULL) != 0) {
			if (l->tev != NULL)
				event_free(l->tev);
			l->tev = NULL;
			close(tfd);
			return false;
		}
		l->tfd = tfd;
	}
	if (timerfd_settime(l->tfd, 0, &its, NULL) != 0)
		return false;
	if (!l->paused && event_del(l->ev) == 0)
		l->paused = true;
	return true;
}

/*
 * Read l's socket: full batches again at once, at most UDP_ROUNDS of
 * them.  busy: this wake-up came soon after the last one, so traffic is
 * steady and waiting for company pays.  Returns whether a wait began.
 */
static bool
udp_drain(struct udp_listener *l, bool busy)
{
	struct worker *wk = l->wk;
	unsigned wait_us = wk->cfg->udp_batch_wait;

	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n = udp_batch(wk, l->fd);

		if (n <= 0)
			return false;
		if (n == UDP_BATCH)
			continue;
		return wait_us > 0 && (busy || n >= 2) && udp_pause(l, wait_us);
	}
	return false;
}

/* The wait is over: read what came, then wait again if it was a batch,
 * else watch the socket again. */
static void
udp_resume_cb(evutil_socket_t tfd, short what, void *arg)
{
	struct udp_listener *l = arg;

	(void)tfd;
	(void)what;
	if (!l->paused || udp_drain(l, false))
		return;
	if (event_add(l->ev, NULL) == 0)
		l->paused = false;
	else
		udp_pause(l, 1000); /* out of memory: try again soon */
}

/*
 * A socket is readable.  Under load, being woken for every datagram or
 * two is what costs most (profiles of this loop show the scheduler's
 * sleep and wake-up above the whole of the UDP send path).  So with
 * udp-batch-wait set, when the previous wake-up was less than that long
 * ago or a batch found company, the worker stops reading this socket
 * for that long (udp_pause) and reads it again then: one wake-up serves
 * several datagrams, each waiting at most udp-batch-wait longer.  The
 * worker never sleeps in a callback, so its TCP clients, timers and
 * upstream replies are not held back.  Light traffic is answered at
 * once; with the default 0, the worker drains the socket and returns.
 */
void
md_srv_udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener *l = arg;
	struct worker *wk = l->wk;
	unsigned wait_us = wk->cfg->udp_batch_wait;
	uint64_t now_us = wait_us > 0 ? md_now_us() : 0;
	bool busy = wait_us > 0 && now_us - wk->last_wake_us < wait_us;

	(void)fd;
	(void)what;
	wk->last_wake_us = now_us;
	udp_drain(l, busy);
}
