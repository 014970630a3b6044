/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.c - outbound DNS transport: one query to one server over UDP or TCP
 * on a libevent base, with a random ID and source port, reply matching, a
 * timeout, and exactly one callback per query unless it is cancelled.
 *
 * This file owns the sockets, events and buffers of the queries in flight.
 * It does not choose servers, retry, fall back from UDP to TCP on TC or
 * interpret the reply beyond its header and question: the engine
 * (resolve/) decides all that from the status this file reports.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/wire.h"

/* RFC 5452 §9.2: source ports from as large a range as practicable. */
#define PORT_MIN 1024
#define PORT_TRIES 10

struct md_net {
	struct event_base *base;
	TAILQ_HEAD(, md_net_query) queries;
	struct md_net_stats stats;
};

struct md_net_query {
	TAILQ_ENTRY(md_net_query) entry;
	struct md_net *net;
	md_net_cb cb;
	void *arg;
	struct md_sockaddr server;
	bool tcp;
	int fd;
	struct event *ev_read;
	struct event *ev_write; /* TCP only */
	struct event *ev_timer;
	uint64_t start_ms;

	/* What a reply must echo (RFC 5452 §9.1). */
	uint16_t orig_id;
	uint16_t wire_id;
	uint8_t qname[MD_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;

	/*
	 * The query as sent; over TCP prefixed by its 2-byte length
	 * (RFC 7766 §8), so out[0..outlen) is written as one stream.
	 */
	uint8_t *out;
	size_t outlen;
	size_t outoff;

	/* TCP: connect() error seen at once, then the reply: its 2-byte
	 * length, then the message. */
	int conn_err;
	uint8_t lenbuf[2];
	size_t lenoff;
	uint8_t *in;
	size_t inlen;
	size_t inoff;
};

const char *
md_net_status_str(enum md_net_status s)
{
	switch (s) {
	case MD_NET_OK:
		return "ok";
	case MD_NET_TIMEOUT:
		return "timeout";
	case MD_NET_REFUSED:
		return "refused";
	case MD_NET_ERROR:
		return "error";
	case MD_NET_MALFORMED:
		return "malformed";
	}
	return "unknown";
}

struct md_net *
md_net_new(struct event_base *base)
{
	struct md_net *n;

	if (base == NULL)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->base = base;
	TAILQ_INIT(&n->queries);
	return n;
}

/* Unlink q and release everything it holds, except q->in when taken. */
static void
query_free(struct md_net_query *q)
{
	if (q == NULL)
		return;
	if (q->net != NULL)
		TAILQ_REMOVE(&q->net->queries, q, entry);
	/*
	 * event_free() may be called from the event's own callback: libevent
	 * does not touch the event after the callback returns.
	 */
	if (q->ev_read != NULL)
		event_free(q->ev_read);
	if (q->ev_write != NULL)
		event_free(q->ev_write);
	if (q->ev_timer != NULL)
		event_free(q->ev_timer);
	if (q->fd >= 0)
		close(q->fd);
	free(q->out);
	free(q->in);
	free(q);
}

void
md_net_free(struct md_net *n)
{
	struct md_net_query *q;

	if (n == NULL)
		return;
	while ((q = TAILQ_FIRST(&n->queries)) != NULL)
		query_free(q);
	free(n);
}

void
md_net_cancel(struct md_net_query *q)
{
	query_free(q);
}

void
md_net_get_stats(const struct md_net *n, struct md_net_stats *out)
{
	if (n == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = n->stats;
}

static uint32_t
elapsed_ms(const struct md_net_query *q)
{
	uint64_t d = md_now_ms() - q->start_ms;

	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/*
 * End q with 'status'.  reply (len > 0 only for MD_NET_OK) must not live
 * in q.  q is freed before the callback runs, so the callback may cancel
 * or send other queries, free its arg or even the whole md_net; the
 * caller must return at once without touching q or its md_net.
 */
static void
finish(struct md_net_query *q, enum md_net_status status, uint8_t *reply,
    size_t len)
{
	struct md_net_stats *st = &q->net->stats;
	md_net_cb cb = q->cb;
	void *arg = q->arg;
	uint32_t rtt = elapsed_ms(q);
	char sbuf[MD_SOCKADDR_STRLEN];

	switch (status) {
	case MD_NET_OK:
		st->replies++;
		/* The engine matches replies by its own ID, not ours. */
		md_write_u16(reply, q->orig_id);
		break;
	case MD_NET_TIMEOUT:
		st->timeouts++;
		break;
	default:
		st->errors++;
		break;
	}
	md_debug(MD_LOG_NET, "%s %s id %u: %s after %u ms",
	    q->tcp ? "tcp" : "udp",
	    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)), q->wire_id,
	    md_net_status_str(status), rtt);
	query_free(q);
	cb(arg, status, status == MD_NET_OK ? reply : NULL,
	    status == MD_NET_OK ? len : 0, rtt);
}

/*
 * RFC 5452 §9.1: accept a reply only when it answers our question, with
 * our ID, from the address and port we asked (the latter is the kernel's
 * job on a connected socket).  The name is compared byte for byte, so a
 * server that does not echo our 0x20 case pattern is not believed.
 * Returns NULL when it matches, else why not (for the log).
 */
static const char *
mismatch(const struct md_net_query *q, const uint8_t *p, size_t len)
{
	uint8_t name[MD_NAME_MAX];
	size_t off = MD_WIRE_HDR_LEN;
	int nlen;

	if (len < MD_WIRE_HDR_LEN)
		return "short";
	if ((md_read_u16(p + 2) & MD_FLAG_QR) == 0)
		return "QR not set";
	if (md_read_u16(p) != q->wire_id)
		return "wrong ID";
	if (md_read_u16(p + 4) != 1)
		return "qdcount not 1";
	nlen = md_name_read(p, len, &off, name);
	if (nlen < 0)
		return "bad question name";
	if ((size_t)nlen != q->qname_len ||
	    memcmp(name, q->qname, q->qname_len))
		return "other question name";
	if (len - off < 4)
		return "short question";
	if (md_read_u16(p + off) != q->qtype ||
	    md_read_u16(p + off + 2) != q->qclass)
		return "other question type or class";
	return NULL;
}

static enum md_net_status
errno_status(int err)
{
	return err == ECONNREFUSED ? MD_NET_REFUSED : MD_NET_ERROR;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_net_query *q = arg;

	(void)fd;
	(void)what;
	finish(q, MD_NET_TIMEOUT, NULL, 0);
}

/* ---- UDP ----------------------------------------------------------- */

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_net_query *q = arg;
	uint8_t buf[MD_WIRE_MAX];
	char sbuf[MD_SOCKADDR_STRLEN];
	const char *why;
	ssize_t r;

	(void)what;
	/* Drain: a spoofer's datagrams must not delay the real reply. */
	for (;;) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ICMP port unreachable shows on a connected socket
			 * as ECONNREFUSED. */
			finish(q, errno_status(errno), NULL, 0);
			return;
		}
		why = mismatch(q, buf, (size_t)r);
		if (why == NULL) {
			finish(q, MD_NET_OK, buf, (size_t)r);
			return;
		}
		q->net->stats.mismatched++;
		md_debug(MD_LOG_NET,
		    "udp %s id %u: ignored a %zd-byte reply: %s",
		    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)), q->wire_id,
		    r, why);
	}
}

/*
 * A socket bound to a random port (RFC 5452 §9.2) and connected to the
 * server, so the kernel drops datagrams from any other address or port.
 * Returns the socket or -1.
 */
static int
udp_socket(const struct md_sockaddr *server)
{
	struct sockaddr_storage local;
	socklen_t llen;
	in_port_t *portp;
	int fd = -1, i;

	fd = socket(
	    server->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	memset(&local, 0, sizeof(local));
	local.ss_family = server->ss.ss_family;
	if (local.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&local;

		s6->sin6_addr = in6addr_any;
		portp = &s6->sin6_port;
		llen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&local;

		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		portp = &s4->sin_port;
		llen = sizeof(*s4);
	}
	for (i = 0; i < PORT_TRIES; i++) {
		*portp = htons(
		    (uint16_t)(PORT_MIN + md_random_uniform(65536 - PORT_MIN)));
		if (bind(fd, (struct sockaddr *)&local, llen) == 0)
			break;
		if (errno != EADDRINUSE)
			goto fail;
	}
	if (i == PORT_TRIES) {
		/* A crowded range: the kernel's ephemeral port is still
		 * random on Linux, only less so. */
		md_debug(
		    MD_LOG_NET, "no free random port in %d tries", PORT_TRIES);
		*portp = 0;
		if (bind(fd, (struct sockaddr *)&local, llen) != 0)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&server->ss, server->len) != 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
udp_start(struct md_net_query *q)
{
	ssize_t r;

	q->fd = udp_socket(&q->server);
	if (q->fd < 0)
		return -1;
	q->ev_read = event_new(
	    q->net->base, q->fd, EV_READ | EV_PERSIST, udp_read_cb, q);
	if (q->ev_read == NULL || event_add(q->ev_read, NULL) != 0)
		return -1;
	do {
		r = send(q->fd, q->out, q->outlen, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0 || (size_t)r != q->outlen)
		return -1;
	q->net->stats.sent_udp++;
	return 0;
}

/* ---- TCP ----------------------------------------------------------- */

static void
tcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_net_query *q = arg;
	char sbuf[MD_SOCKADDR_STRLEN];
	const char *why;
	uint8_t *dst, *reply;
	size_t want, len;
	ssize_t r;

	(void)what;
	for (;;) {
		if (q->in == NULL) {
			dst = q->lenbuf + q->lenoff;
			want = sizeof(q->lenbuf) - q->lenoff;
		} else {
			dst = q->in + q->inoff;
			want = q->inlen - q->inoff;
		}
		r = recv(fd, dst, want, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			finish(q, errno_status(errno), NULL, 0);
			return;
		}
		if (r == 0) {
			/* Closed before a whole message came. */
			finish(q, MD_NET_ERROR, NULL, 0);
			return;
		}
		if (q->in == NULL) {
			q->lenoff += (size_t)r;
			if (q->lenoff < sizeof(q->lenbuf))
				continue;
			q->inlen = md_read_u16(q->lenbuf);
			/* RFC 7766 §8: the length prefix frames a DNS
			 * message, which is at least a header long. */
			if (q->inlen < MD_WIRE_HDR_LEN) {
				finish(q, MD_NET_MALFORMED, NULL, 0);
				return;
			}
			q->in = malloc(q->inlen);
			if (q->in == NULL) {
				finish(q, MD_NET_ERROR, NULL, 0);
				return;
			}
			continue;
		}
		q->inoff += (size_t)r;
		if (q->inoff < q->inlen)
			continue;
		break;
	}
	why = mismatch(q, q->in, q->inlen);
	if (why != NULL) {
		/* Unlike UDP, no one else can write into our connection:
		 * a wrong reply means the stream cannot be trusted. */
		q->net->stats.mismatched++;
		md_debug(MD_LOG_NET, "tcp %s id %u: bad reply: %s",
		    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)), q->wire_id,
		    why);
		finish(q, MD_NET_ERROR, NULL, 0);
		return;
	}
	/* finish() frees q: keep the reply alive across the callback. */
	reply = q->in;
	len = q->inlen;
	q->in = NULL;
	finish(q, MD_NET_OK, reply, len);
	free(reply);
}

static void
tcp_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_net_query *q = arg;
	int err = 0;
	socklen_t elen = sizeof(err);
	ssize_t r;

	(void)what;
	if (q->outoff == 0) {
		/* First writable event: did the connect() succeed? */
		err = q->conn_err;
		if (err == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			err = errno;
		if (err != 0) {
			finish(q, errno_status(err), NULL, 0);
			return;
		}
	}
	while (q->outoff < q->outlen) {
		r = send(fd, q->out + q->outoff, q->outlen - q->outoff,
		    MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			finish(q, errno_status(errno), NULL, 0);
			return;
		}
		q->outoff += (size_t)r;
	}
	if (event_del(q->ev_write) != 0 || event_add(q->ev_read, NULL) != 0)
		finish(q, MD_NET_ERROR, NULL, 0);
}

/*
 * One connection per query.  RFC 7766 §6.2.1 asks clients to reuse and
 * pipeline connections to a server; that needs a per-server connection
 * pool and matching by ID across queries, and is left for later.
 */
static int
tcp_start(struct md_net_query *q)
{
	struct event_base *base = q->net->base;

	q->fd = socket(q->server.ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -1;
	/*
	 * A refusal may come at once on loopback: report it through the
	 * callback like one that comes later.
	 */
	if (connect(q->fd, (const struct sockaddr *)&q->server.ss,
		q->server.len) != 0 &&
	    errno != EINPROGRESS)
		q->conn_err = errno;
	q->ev_write =
	    event_new(base, q->fd, EV_WRITE | EV_PERSIST, tcp_write_cb, q);
	q->ev_read =
	    event_new(base, q->fd, EV_READ | EV_PERSIST, tcp_read_cb, q);
	if (q->ev_write == NULL || q->ev_read == NULL)
		return -1;
	if (event_add(q->ev_write, NULL) != 0)
		return -1;
	if (q->conn_err != 0)
		event_active(q->ev_write, EV_WRITE, 0);
	q->net->stats.sent_tcp++;
	return 0;
}

/* ---- sending ------------------------------------------------------- */

/* Remember the question a reply must echo; -1 when there is none. */
static int
parse_question(struct md_net_query *q, const uint8_t *query, size_t len)
{
	size_t off = MD_WIRE_HDR_LEN;
	int nlen;

	if (len < MD_WIRE_HDR_LEN || md_read_u16(query + 4) != 1)
		return -1;
	nlen = md_name_read(query, len, &off, q->qname);
	if (nlen < 0 || len - off < 4)
		return -1;
	q->qname_len = (size_t)nlen;
	q->qtype = md_read_u16(query + off);
	q->qclass = md_read_u16(query + off + 2);
	return 0;
}

struct md_net_query *
md_net_send(struct md_net *n, const struct md_sockaddr *server, bool tcp,
    const uint8_t *query, size_t len, uint32_t timeout_ms, md_net_cb cb,
    void *arg)
{
	struct md_net_query *q = NULL;
	struct timeval tv;
	size_t pre = tcp ? 2 : 0;
	char sbuf[MD_SOCKADDR_STRLEN];
	const char *why = "bad query";

	if (n == NULL || server == NULL || query == NULL || cb == NULL)
		return NULL;
	if (server->ss.ss_family != AF_INET && server->ss.ss_family != AF_INET6)
		return NULL;
	if (len > MD_WIRE_MAX)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->fd = -1;
	q->cb = cb;
	q->arg = arg;
	q->server = *server;
	q->tcp = tcp;
	if (parse_question(q, query, len) != 0)
		goto cleanup;
	why = "out of memory";
	q->out = malloc(pre + len);
	if (q->out == NULL)
		goto cleanup;
	q->outlen = pre + len;
	if (tcp)
		md_write_u16(q->out, (uint16_t)len);
	memcpy(q->out + pre, query, len);
	/* RFC 5452 §9.2: an unpredictable ID for every query. */
	q->orig_id = md_read_u16(query);
	q->wire_id = (uint16_t)md_random_u32();
	md_write_u16(q->out + pre, q->wire_id);

	q->net = n;
	TAILQ_INSERT_TAIL(&n->queries, q, entry);
	q->start_ms = md_now_ms();
	errno = 0;
	if ((tcp ? tcp_start(q) : udp_start(q)) != 0) {
		why = errno != 0 ? md_strerror(-errno) : "libevent failed";
		goto cleanup;
	}
	why = "libevent failed";
	q->ev_timer = evtimer_new(n->base, timeout_cb, q);
	if (q->ev_timer == NULL)
		goto cleanup;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (evtimer_add(q->ev_timer, &tv) != 0)
		goto cleanup;
	md_debug(MD_LOG_NET, "%s %s id %u (caller's %u): sent %zu bytes",
	    tcp ? "tcp" : "udp", md_sockaddr_str(server, sbuf, sizeof(sbuf)),
	    q->wire_id, q->orig_id, len);
	return q;

cleanup:
	md_debug(MD_LOG_NET, "%s %s: could not send: %s", tcp ? "tcp" : "udp",
	    md_sockaddr_str(server, sbuf, sizeof(sbuf)), why);
	query_free(q);
	return NULL;
}
