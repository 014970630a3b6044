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
void
md_srv_udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener *l = arg;
	struct worker *wk = l->wk;
	unsigned wait_us = wk->cfg->udp_batch_wait;
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
		if (wait_us == 0 || !(busy || n >= 2) ||
		    md_hashtab_count(&wk->inflight) > 0)
			return;
		busy = false;
		nanosleep(&ts, NULL);
	}
}
