/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.c - outbound DNS transport: one query to one server over UDP or TCP
 * on a libevent base, with a random ID and source port, reply matching, a
 * timeout, and exactly one callback per query unless it is cancelled; the
 * life cycle every query shares (TLS ones too); upstream parsing.
 *
 * This file owns the sockets, events and buffers of the UDP and TCP
 * queries in flight; net_tls.c owns the DNS over TLS connections.  It does
 * not choose servers, retry, fall back from UDP to TCP on TC or interpret
 * the reply beyond its header and question: the engine (resolve/) decides
 * all that from the status this file reports.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "net-internal.h"

/* RFC 5452 §9.2: source ports from as large a range as practicable. */
#define PORT_MIN 1024
#define PORT_TRIES 10

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
	case MD_NET_TLS_ERROR:
		return "tls error";
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
	TAILQ_INIT(&n->conns);
	n->tls_idle_ms = MD_NET_TLS_IDLE_MS;
	return n;
}

struct event_base *
md_net_base(const struct md_net *n)
{
	return n->base;
}

void
md_net_set_rng(struct md_net *n, struct md_rng *rng)
{
	n->rng = rng;
}

/* Unlink q and release everything it holds, except q->in when taken. */
void
md_net_query_free(struct md_net_query *q)
{
	if (q == NULL)
		return;
	if (q->conn != NULL)
		md_net_tls_detach(q);
	else if (q->net != NULL)
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
		md_net_query_free(q);
	md_net_tls_free_all(n);
	free(n);
}

void
md_net_cancel(struct md_net_query *q)
{
	md_net_query_free(q);
}

void
md_net_get_stats(const struct md_net *n, struct md_net_stats *out)
{
	if (n == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	out->sent_udp = __atomic_load_n(&n->stats.sent_udp, __ATOMIC_RELAXED);
	out->sent_tcp = __atomic_load_n(&n->stats.sent_tcp, __ATOMIC_RELAXED);
	out->replies = __atomic_load_n(&n->stats.replies, __ATOMIC_RELAXED);
	out->timeouts = __atomic_load_n(&n->stats.timeouts, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&n->stats.errors, __ATOMIC_RELAXED);
	out->mismatched =
	    __atomic_load_n(&n->stats.mismatched, __ATOMIC_RELAXED);
}

static uint32_t
elapsed_ms(const struct md_net_query *q)
{
	uint64_t d = md_now_ms() - q->start_ms;

	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

void
md_net_set_failure(
    struct md_net_query *q, int err, bool connect_failed, const char *text)
{
	q->err = err;
	q->connect_failed = connect_failed;
	if (text == NULL)
		text = err != 0 ? strerror(err) : "";
	md_strlcpy(q->detail, text, sizeof(q->detail));
}

void
md_net_notice_ignored(const struct md_net_query *q, size_t len, const char *why)
{
	struct md_net_notice nt;

	if (q->notice == NULL)
		return;
	memset(&nt, 0, sizeof(nt));
	nt.kind = len < MD_WIRE_HDR_LEN && q->transport == MD_TRANSPORT_UDP
	    ? MD_NET_NOTICE_SHORT
	    : MD_NET_NOTICE_IGNORED;
	nt.len = len;
	nt.text = why;
	q->notice(q->arg, &nt);
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
	md_net_notice_cb notice = q->notice;
	void *arg = q->arg;
	uint32_t rtt = elapsed_ms(q);
	struct md_net_notice nt;
	char sbuf[MD_SOCKADDR_STRLEN], detail[sizeof(q->detail)];

	switch (status) {
	case MD_NET_OK:
		md_net_stat_inc(&st->replies);
		/* The engine matches replies by its own ID, not ours. */
		md_write_u16(reply, q->orig_id);
		break;
	case MD_NET_TIMEOUT:
		md_net_stat_inc(&st->timeouts);
		break;
	default:
		md_net_stat_inc(&st->errors);
		break;
	}
	md_debug(MD_LOG_NET, "%s %s id %u: %s after %u ms",
	    md_transport_str(q->transport),
	    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)), q->wire_id,
	    md_net_status_str(status), rtt);
	if (notice != NULL && status != MD_NET_OK) {
		memset(&nt, 0, sizeof(nt));
		nt.kind = MD_NET_NOTICE_FAILED;
		nt.status = status;
		nt.err = q->err;
		nt.connect_failed = q->connect_failed;
		md_strlcpy(detail,
		    q->detail[0] != '\0' ? q->detail
					 : md_net_status_str(status),
		    sizeof(detail));
		nt.text = detail;
	}
	md_net_query_free(q);
	if (notice != NULL && status != MD_NET_OK)
		notice(arg, &nt);
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
const char *
md_net_mismatch(const struct md_net_query *q, const uint8_t *p, size_t len)
{
	uint8_t name[MD_NAME_MAX];
	size_t off = MD_WIRE_HDR_LEN;
	uint16_t flags;
	int nlen;

	if (len < MD_WIRE_HDR_LEN)
		return "short";
	flags = md_read_u16(p + 2);
	if ((flags & MD_FLAG_QR) == 0)
		return "QR not set";
	if (md_read_u16(p) != q->wire_id)
		return "wrong ID";
	if (q->no_question) /* nothing more to compare */
		return NULL;
	/*
	 * dig's rules (md_net_opts.lenient): servers may drop the question
	 * from an error or a truncated reply (RFC 1035 leaves it open), and
	 * a reply from the server asked, with our ID, whose question is cut
	 * short is the answer, malformed, for the user to see.
	 */
	if (q->lenient && md_read_u16(p + 4) == 0 &&
	    (MD_RCODE(flags) != MD_RCODE_NOERROR || (flags & MD_FLAG_TC) != 0))
		return NULL;
	if (md_read_u16(p + 4) != 1)
		return "qdcount not 1";
	nlen = md_name_read(p, len, &off, name);
	if (nlen < 0)
		return q->lenient ? NULL : "bad question name";
	if (len - off < 4)
		return q->lenient ? NULL : "short question";
	if (q->lenient ? !md_name_equal(name, q->qname)
		       : ((size_t)nlen != q->qname_len ||
			     memcmp(name, q->qname, q->qname_len) != 0))
		return "other question name";
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

/*
 * The query's timer: its timeout, or (TLS) the delivery of a result its
 * connection scheduled.  Results are delivered from here, one event per
 * query, so that no user callback ever runs inside a connection's
 * callbacks: a callback may then free anything, even the whole md_net.
 */
static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_net_query *q = arg;
	uint8_t *reply;
	size_t len;

	(void)fd;
	(void)what;
	if (!q->done) {
		finish(q, MD_NET_TIMEOUT, NULL, 0);
		return;
	}
	/* finish() frees q: keep the reply alive across the callback. */
	reply = q->in;
	len = q->inlen;
	q->in = NULL;
	finish(q, q->done_status, reply, len);
	free(reply);
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
			md_net_set_failure(q, errno, false, NULL);
			finish(q, errno_status(errno), NULL, 0);
			return;
		}
		why = md_net_mismatch(q, buf, (size_t)r);
		if (why == NULL) {
			finish(q, MD_NET_OK, buf, (size_t)r);
			return;
		}
		md_net_stat_inc(&q->net->stats.mismatched);
		md_debug(MD_LOG_NET,
		    "udp %s id %u: ignored a %zd-byte reply: %s",
		    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)), q->wire_id,
		    r, why);
		md_net_notice_ignored(q, (size_t)r, why);
	}
}

/* The port field of a v4 or v6 address. */
static in_port_t *
port_of(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return &((struct sockaddr_in6 *)ss)->sin6_port;
	return &((struct sockaddr_in *)ss)->sin_port;
}

/*
 * Where a socket to 'server' binds: n's source address (md_net_set_source)
 * or the wildcard address of the server's family, port 0.  -1 with errno
 * EAFNOSUPPORT when the source is of another family.
 */
static int
local_addr(const struct md_net *n, const struct md_sockaddr *server,
    struct sockaddr_storage *local, socklen_t *llen)
{
	memset(local, 0, sizeof(*local));
	if (n->source.len > 0) {
		if (n->source.ss.ss_family != server->ss.ss_family) {
			errno = EAFNOSUPPORT;
			return -1;
		}
		memcpy(local, &n->source.ss, n->source.len);
		*llen = n->source.len;
		return 0;
	}
	local->ss_family = server->ss.ss_family;
	if (local->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)local)->sin6_addr = in6addr_any;
		*llen = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)local)->sin_addr.s_addr =
		    htonl(INADDR_ANY);
		*llen = sizeof(struct sockaddr_in);
	}
	return 0;
}

int
md_net_stream_socket(const struct md_net *n, const struct md_sockaddr *server)
{
	struct sockaddr_storage local;
	socklen_t llen;
	int fd, one = 1, saved;

	fd = socket(server->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && md_fd_upstream_over_budget(fd)) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	if (fd < 0 || n->source.len == 0)
		return fd;
	if (local_addr(n, server, &local, &llen) != 0)
		goto fail;
	/* A fixed source port may still be in TIME_WAIT from the last try. */
	if (*port_of(&local) != 0)
		(void)setsockopt(
		    fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&local, llen) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * A socket bound to a random port (RFC 5452 §9.2), on n's source address
 * if it has one (its port too, if not 0), and connected to the server, so
 * the kernel drops datagrams from any other address or port.  Returns the
 * socket or -1 with errno.
 */
static int
udp_socket(const struct md_net *n, const struct md_sockaddr *server)
{
	struct sockaddr_storage local;
	socklen_t llen;
	in_port_t *portp;
	int fd = -1, i, saved;

	if (local_addr(n, server, &local, &llen) != 0)
		return -1;
	fd = socket(
	    server->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (md_fd_upstream_over_budget(fd)) {
		errno = EMFILE; /* the clients' share: not for upstreams */
		goto fail;
	}
	portp = port_of(&local);
	if (*portp != 0) {
		/* The user asked for this port. */
		if (bind(fd, (struct sockaddr *)&local, llen) != 0)
			goto fail;
		goto bound;
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
bound:
	if (connect(fd, (const struct sockaddr *)&server->ss, server->len) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

static int
udp_start(struct md_net_query *q)
{
	ssize_t r;

	q->fd = udp_socket(q->net, &q->server);
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
	md_net_stat_inc(&q->net->stats.sent_udp);
	return 0;
}

/* ---- TCP ----------------------------------------------------------- */

/* Lenient TCP: forget the message just read, wait for the next one. */
static void
tcp_skip(struct md_net_query *q, const char *why)
{
	char sbuf[MD_SOCKADDR_STRLEN];

	md_net_stat_inc(&q->net->stats.mismatched);
	md_debug(MD_LOG_NET, "tcp %s id %u: skipped a %zu-byte reply: %s",
	    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)), q->wire_id,
	    q->inlen, why);
	md_net_notice_ignored(q, q->inlen, why);
	free(q->in);
	q->in = NULL;
	q->inlen = q->inoff = q->lenoff = 0;
}

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
			md_net_set_failure(q, errno, false, NULL);
			finish(q, errno_status(errno), NULL, 0);
			return;
		}
		if (r == 0) {
			/* Closed before a whole message came. */
			md_net_set_failure(q, 0, false, "end of file");
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
			if (q->inlen < MD_WIRE_HDR_LEN && !q->lenient) {
				md_net_set_failure(q, 0, false,
				    "a reply shorter than a DNS header");
				finish(q, MD_NET_MALFORMED, NULL, 0);
				return;
			}
			if (q->inlen == 0) {
				tcp_skip(q, "short");
				continue;
			}
			q->in = malloc(q->inlen);
			if (q->in == NULL) {
				md_net_set_failure(q, ENOMEM, false, NULL);
				finish(q, MD_NET_ERROR, NULL, 0);
				return;
			}
			continue;
		}
		q->inoff += (size_t)r;
		if (q->inoff < q->inlen)
			continue;
		why = md_net_mismatch(q, q->in, q->inlen);
		if (why == NULL)
			break;
		if (!q->lenient) {
			/* Unlike UDP, no one else can write into our
			 * connection: a wrong reply means the stream cannot
			 * be trusted. */
			md_net_stat_inc(&q->net->stats.mismatched);
			md_debug(MD_LOG_NET, "tcp %s id %u: bad reply: %s",
			    md_sockaddr_str(&q->server, sbuf, sizeof(sbuf)),
			    q->wire_id, why);
			md_net_set_failure(q, 0, false, why);
			finish(q, MD_NET_ERROR, NULL, 0);
			return;
		}
		tcp_skip(q, why);
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
			md_net_set_failure(q, err, true, NULL);
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
			md_net_set_failure(q, errno, false, NULL);
			finish(q, errno_status(errno), NULL, 0);
			return;
		}
		q->outoff += (size_t)r;
	}
	if (event_del(q->ev_write) != 0 || event_add(q->ev_read, NULL) != 0) {
		md_net_set_failure(q, 0, false, "libevent failed");
		finish(q, MD_NET_ERROR, NULL, 0);
	}
}

/*
 * One connection per query, for iteration (each server asked once,
 * after TC) and the tools.  Forwarders (md_net_opts.tcp_pool) reuse and
 * pipeline their connection (RFC 7766 §6.2.1) through net_tls.c's pool,
 * TLS or not.
 */
static int
tcp_start(struct md_net_query *q)
{
	struct event_base *base = q->net->base;

	q->fd = md_net_stream_socket(q->net, &q->server);
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
	md_net_stat_inc(&q->net->stats.sent_tcp);
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
md_net_send_opts(struct md_net *n, const struct md_upstream *up,
    const struct md_net_opts *opts, const uint8_t *query, size_t len,
    uint32_t timeout_ms, md_net_cb cb, void *arg)
{
	struct md_net_query *q = NULL;
	struct timeval tv;
	size_t pre;
	char sbuf[MD_SOCKADDR_STRLEN];
	const char *why = "bad query";
	int r, saved;

	errno = 0;
	if (n == NULL || up == NULL || query == NULL || cb == NULL)
		return NULL;
	if (up->addr.ss.ss_family != AF_INET &&
	    up->addr.ss.ss_family != AF_INET6)
		return NULL;
	if (up->transport != MD_TRANSPORT_UDP &&
	    up->transport != MD_TRANSPORT_TCP &&
	    up->transport != MD_TRANSPORT_TLS)
		return NULL;
	if (len > MD_WIRE_MAX)
		return NULL;
	pre = up->transport == MD_TRANSPORT_UDP ? 0 : 2;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->fd = -1;
	q->cb = cb;
	q->arg = arg;
	q->server = up->addr;
	q->transport = up->transport;
	if (opts != NULL) {
		q->lenient = opts->lenient;
		q->notice = opts->notice;
	}
	bool pooled = up->transport == MD_TRANSPORT_TLS ||
	    (up->transport == MD_TRANSPORT_TCP && opts != NULL &&
		opts->tcp_pool);
	if (parse_question(q, query, len) != 0) {
		/* dig +header-only: a query without a question, lenient
		 * callers only. */
		if (!q->lenient || len < MD_WIRE_HDR_LEN ||
		    md_read_u16(query + 4) != 0)
			goto cleanup;
		q->no_question = true;
	}
	why = "out of memory";
	q->out = malloc(pre + len);
	if (q->out == NULL)
		goto cleanup;
	q->outlen = pre + len;
	if (pre != 0)
		md_write_u16(q->out, (uint16_t)len);
	memcpy(q->out + pre, query, len);
	/* RFC 5452 §9.2: an unpredictable ID for every query (with
	 * keep_id, the caller's promise). */
	q->orig_id = md_read_u16(query);
	q->wire_id = opts != NULL && opts->keep_id
	    ? q->orig_id
	    : (uint16_t)md_rng_u32(n->rng);
	md_write_u16(q->out + pre, q->wire_id);

	q->net = n;
	TAILQ_INSERT_TAIL(&n->queries, q, entry);
	q->start_ms = md_now_ms();
	/* The timer first: a TLS connection may schedule a result on it. */
	why = "libevent failed";
	q->ev_timer = evtimer_new(n->base, timeout_cb, q);
	if (q->ev_timer == NULL)
		goto cleanup;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (evtimer_add(q->ev_timer, &tv) != 0)
		goto cleanup;
	errno = 0;
	if (q->transport == MD_TRANSPORT_UDP)
		r = udp_start(q);
	else if (!pooled)
		r = tcp_start(q);
	else
		r = md_net_tls_start(q, up);
	if (r != 0) {
		why = errno != 0 ? md_strerror(-errno) : "libevent failed";
		goto cleanup;
	}
	md_debug(MD_LOG_NET, "%s %s id %u (caller's %u): sent %zu bytes",
	    md_transport_str(q->transport),
	    md_sockaddr_str(&up->addr, sbuf, sizeof(sbuf)), q->wire_id,
	    q->orig_id, len);
	return q;

cleanup:
	saved = errno;
	md_debug(MD_LOG_NET, "%s %s: could not send: %s",
	    md_transport_str(up->transport),
	    md_sockaddr_str(&up->addr, sbuf, sizeof(sbuf)), why);
	md_net_query_free(q);
	errno = saved;
	return NULL;
}

struct md_net_query *
md_net_send_to(struct md_net *n, const struct md_upstream *up,
    const uint8_t *query, size_t len, uint32_t timeout_ms, md_net_cb cb,
    void *arg)
{
	struct md_net_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.tcp_pool = true;
	return md_net_send_opts(n, up, &opts, query, len, timeout_ms, cb, arg);
}

int
md_net_set_source(struct md_net *n, const struct md_sockaddr *source)
{
	if (n == NULL)
		return MD_EPARSE;
	if (source == NULL) {
		memset(&n->source, 0, sizeof(n->source));
		return 0;
	}
	if ((source->ss.ss_family != AF_INET &&
		source->ss.ss_family != AF_INET6) ||
	    source->len == 0 || source->len > sizeof(source->ss))
		return MD_EPARSE;
	n->source = *source;
	return 0;
}

struct md_net_query *
md_net_send(struct md_net *n, const struct md_sockaddr *server, bool tcp,
    const uint8_t *query, size_t len, uint32_t timeout_ms, md_net_cb cb,
    void *arg)
{
	struct md_upstream up;

	if (server == NULL)
		return NULL;
	memset(&up, 0, sizeof(up));
	up.addr = *server;
	up.transport = tcp ? MD_TRANSPORT_TCP : MD_TRANSPORT_UDP;
	/* Iteration: each server once (a fallback after TC), no pool. */
	return md_net_send_opts(n, &up, NULL, query, len, timeout_ms, cb, arg);
}

/* ---- upstreams ----------------------------------------------------- */
