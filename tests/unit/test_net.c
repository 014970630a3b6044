/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_net.c - tests of the outbound transport (src/net/) over real
 * sockets on 127.0.0.1: small UDP and TCP responders written here run on
 * the same event_base as the client and misbehave on purpose (wrong ID,
 * changed name case, replies from another port, split or early-closed TCP
 * streams, closed ports, silence).  Also cancel, md_net_free with queries
 * in flight, re-entrant callbacks, and a sanity check that IDs and source
 * ports vary.  Every loop is bounded by a safety timer.  Set MD_TEST_DEBUG
 * to see the module's debug log.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "unit.h"

#define SAFETY_MS 5000 /* no test may run longer than this */
#define QNAME "wWw.ExAmple.com."
#define MAXQ 64

struct tctx;

/* What one callback reported. */
struct result {
	struct tctx *t;
	bool called;
	enum md_net_status status;
	uint8_t reply[MD_WIRE_MAX];
	size_t len;
	uint32_t rtt;
};

enum udp_mode {
	U_OK,	       /* echo the query with QR set */
	U_WRONG_ID,    /* first a reply with another ID, then the right one */
	U_CASE,	       /* first the name lower-cased (0x20), then right */
	U_GARBAGE,     /* short, QR clear, other qtype, then right */
	U_OTHER_PORT,  /* the right reply, but from another socket */
	U_SILENT,      /* never answer */
	U_NO_QUESTION, /* SERVFAIL with the question left out */
};

struct udp_resp {
	enum udp_mode mode;
	int fd;
	int fd2; /* the "spoofer" of U_OTHER_PORT */
	struct event *ev;
	struct md_sockaddr addr;
	int nrecv;
	uint16_t ids[MAXQ];
	uint16_t ports[MAXQ];
	struct in_addr peer; /* of the last query */
};

enum tcp_mode {
	T_OK,
	T_SPLIT,       /* the reply in several writes, apart in time */
	T_CLOSE_EARLY, /* part of the reply, then close */
	T_SHORT,       /* a length prefix below 12 */
	T_WRONG_ID,
};

struct tcp_conn {
	struct tcp_resp *r;
	int fd;
	struct event *ev;
	struct event *timer;
	uint8_t in[MD_WIRE_MAX + 2];
	size_t inlen;
	uint8_t out[MD_WIRE_MAX + 2];
	size_t outlen;
	size_t outoff;
	bool done;
};

struct tcp_resp {
	enum tcp_mode mode;
	int fd;
	struct event *ev;
	struct md_sockaddr addr;
	struct tcp_conn *conns[4];
	int nconn;
	struct in_addr peer; /* of the last connection */
};

struct tctx {
	struct event_base *base;
	struct md_net *net;
	struct event *safety;
	bool safety_fired;
	int ncb;
	int want;
	struct udp_resp udp;
	struct tcp_resp tcp;
	struct pkt query;
};

/* ---- helpers ----------------------------------------------------------- */

static void
cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct result *r = arg;

	assert_false(r->called);
	r->called = true;
	r->status = status;
	r->rtt = rtt_ms;
	r->len = len;
	if (status == MD_NET_OK) {
		assert_non_null(reply);
		assert_true(len <= sizeof(r->reply));
		memcpy(r->reply, reply, len);
	} else {
		assert_int_equal(len, 0);
	}
	if (++r->t->ncb >= r->t->want)
		event_base_loopbreak(r->t->base);
}

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tctx *t = arg;

	(void)fd;
	(void)what;
	t->safety_fired = true;
	event_base_loopbreak(t->base);
}

/* Run the loop until 'want' callbacks came, or ms passed. */
static void
run(struct tctx *t, int want, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};

	t->want = want;
	t->safety_fired = false;
	assert_int_equal(evtimer_add(t->safety, &tv), 0);
	if (t->ncb < want)
		assert_true(event_base_dispatch(t->base) >= 0);
	evtimer_del(t->safety);
}

static void
loopback(struct md_sockaddr *sa, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&sa->ss;

	memset(sa, 0, sizeof(*sa));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->len = sizeof(*s4);
}

/* A socket bound to 127.0.0.1 on an ephemeral port; its address in sa. */
static int
bound_socket(int type, struct md_sockaddr *sa)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	loopback(sa, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa->ss, sa->len), 0);
	sa->len = sizeof(sa->ss);
	assert_int_equal(
	    getsockname(fd, (struct sockaddr *)&sa->ss, &sa->len), 0);
	return fd;
}

/* The address of a port nothing listens on. */
static void
closed_port(int type, struct md_sockaddr *sa)
{
	int fd = bound_socket(type, sa);

	close(fd);
}

static struct md_net_query *
send_q(struct tctx *t, const struct md_sockaddr *to, bool tcp,
    uint32_t timeout_ms, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	return md_net_send(
	    t->net, to, tcp, t->query.b, t->query.len, timeout_ms, cb, r);
}

static struct md_net_stats
stats(struct tctx *t)
{
	struct md_net_stats s;

	md_net_get_stats(t->net, &s);
	return s;
}

/* The delivered reply: our ID restored, our question, QR set. */
static void
assert_reply(const struct tctx *t, const struct result *r)
{
	assert_true(r->called);
	assert_int_equal(r->status, MD_NET_OK);
	assert_int_equal(r->len, t->query.len);
	assert_int_equal(md_read_u16(r->reply), md_read_u16(t->query.b));
	assert_true(md_read_u16(r->reply + 2) & MD_FLAG_QR);
	assert_memory_equal(r->reply + MD_WIRE_HDR_LEN,
	    t->query.b + MD_WIRE_HDR_LEN, t->query.len - MD_WIRE_HDR_LEN);
}

/* ---- UDP responder ----------------------------------------------------- */

static void
udp_reply(int fd, const uint8_t *p, size_t len, const struct sockaddr *to,
    socklen_t tolen)
{
	assert_int_equal(sendto(fd, p, len, 0, to, tolen), (ssize_t)len);
}

static void
udp_resp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_resp *u = arg;
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct sockaddr *fp = (struct sockaddr *)&from;
	uint8_t buf[MD_WIRE_MAX], bad[MD_WIRE_MAX];
	ssize_t r;
	size_t len, qtoff;

	(void)what;
	r = recvfrom(fd, buf, sizeof(buf), 0, fp, &flen);
	if (r < 0)
		return;
	len = (size_t)r;
	assert_true(len > MD_WIRE_HDR_LEN);
	if (u->nrecv < MAXQ) {
		u->ids[u->nrecv] = md_read_u16(buf);
		u->ports[u->nrecv] =
		    ntohs(((struct sockaddr_in *)fp)->sin_port);
	}
	u->peer = ((struct sockaddr_in *)fp)->sin_addr;
	u->nrecv++;
	md_write_u16(buf + 2, md_read_u16(buf + 2) | MD_FLAG_QR);
	memcpy(bad, buf, len);

	switch (u->mode) {
	case U_OK:
		break;
	case U_WRONG_ID:
		md_write_u16(bad, (uint16_t)(md_read_u16(buf) + 1));
		udp_reply(fd, bad, len, fp, flen);
		break;
	case U_CASE:
		md_name_lower(bad + MD_WIRE_HDR_LEN);
		udp_reply(fd, bad, len, fp, flen);
		break;
	case U_GARBAGE:
		udp_reply(fd, bad, MD_WIRE_HDR_LEN - 1, fp, flen);
		md_write_u16(bad + 2, md_read_u16(buf + 2) & ~MD_FLAG_QR);
		udp_reply(fd, bad, len, fp, flen);
		memcpy(bad, buf, len);
		qtoff = MD_WIRE_HDR_LEN + md_name_len(buf + MD_WIRE_HDR_LEN);
		md_write_u16(bad + qtoff, MD_TYPE_AAAA);
		udp_reply(fd, bad, len, fp, flen);
		break;
	case U_OTHER_PORT:
		/* Right ID and question, wrong source port: RFC 5452 §9.1
		 * says drop; the connected socket never sees it. */
		udp_reply(u->fd2, buf, len, fp, flen);
		return;
	case U_SILENT:
		return;
	case U_NO_QUESTION:
		md_write_u16(bad + 2, MD_FLAG_QR | MD_RCODE_SERVFAIL);
		md_write_u16(bad + 4, 0);
		md_write_u16(bad + 10, 0);
		udp_reply(fd, bad, MD_WIRE_HDR_LEN, fp, flen);
		return;
	}
	udp_reply(fd, buf, len, fp, flen);
}

static void
udp_resp_start(struct tctx *t, enum udp_mode mode)
{
	struct udp_resp *u = &t->udp;
	struct md_sockaddr other;

	u->mode = mode;
	u->fd = bound_socket(SOCK_DGRAM, &u->addr);
	u->fd2 = bound_socket(SOCK_DGRAM, &other);
	u->ev = event_new(t->base, u->fd, EV_READ | EV_PERSIST, udp_resp_cb, u);
	assert_non_null(u->ev);
	assert_int_equal(event_add(u->ev, NULL), 0);
}

/* ---- TCP responder ----------------------------------------------------- */

static void
conn_write(struct tcp_conn *c, size_t n)
{
	ssize_t r;

	if (n > c->outlen - c->outoff)
		n = c->outlen - c->outoff;
	r = send(c->fd, c->out + c->outoff, n, MSG_NOSIGNAL);
	if (r < 0) {
		/* The client went away (cancelled): stop writing. */
		c->outoff = c->outlen;
		return;
	}
	assert_int_equal(r, (ssize_t)n);
	c->outoff += n;
}

/* T_SPLIT: one piece per tick, so the client sees partial reads. */
static void
conn_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	struct timeval tv = {0, 10000};

	(void)fd;
	(void)what;
	/* Half the length, the other half and a byte, a few, the rest. */
	if (c->outoff == 0)
		conn_write(c, 1);
	else if (c->outoff == 1)
		conn_write(c, 2);
	else if (c->outoff == 3)
		conn_write(c, 5);
	else
		conn_write(c, c->outlen);
	if (c->outoff < c->outlen)
		evtimer_add(c->timer, &tv);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	struct timeval tv = {0, 10000};
	size_t qlen;
	ssize_t r;

	(void)what;
	r = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		/* The client went away: stop polling an EOF. */
		event_del(c->ev);
		return;
	}
	c->inlen += (size_t)r;
	if (c->done || c->inlen < 2)
		return;
	qlen = md_read_u16(c->in);
	if (c->inlen < 2 + qlen)
		return;
	c->done = true;
	event_del(c->ev);

	memcpy(c->out, c->in, 2 + qlen);
	c->outlen = 2 + qlen;
	md_write_u16(c->out + 4, md_read_u16(c->out + 4) | MD_FLAG_QR);
	switch (c->r->mode) {
	case T_OK:
		conn_write(c, c->outlen);
		break;
	case T_WRONG_ID:
		md_write_u16(
		    c->out + 2, (uint16_t)(md_read_u16(c->out + 2) ^ 1));
		conn_write(c, c->outlen);
		break;
	case T_SPLIT:
		c->timer = evtimer_new(event_get_base(c->ev), conn_tick_cb, c);
		assert_non_null(c->timer);
		evtimer_add(c->timer, &tv);
		break;
	case T_CLOSE_EARLY:
		conn_write(c, 6);
		shutdown(c->fd, SHUT_WR);
		break;
	case T_SHORT:
		md_write_u16(c->out, 5);
		conn_write(c, 7);
		break;
	}
}

static void
tcp_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_resp *r = arg;
	struct tcp_conn *c;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	int cfd;

	(void)what;
	cfd = accept4(
	    fd, (struct sockaddr *)&from, &flen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	r->peer = from.sin_addr;
	assert_true(r->nconn < 4);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->r = r;
	c->fd = cfd;
	c->ev = event_new(
	    event_get_base(r->ev), cfd, EV_READ | EV_PERSIST, conn_read_cb, c);
	assert_non_null(c->ev);
	assert_int_equal(event_add(c->ev, NULL), 0);
	r->conns[r->nconn++] = c;
}

static void
tcp_resp_start(struct tctx *t, enum tcp_mode mode)
{
	struct tcp_resp *r = &t->tcp;

	r->mode = mode;
	r->fd = bound_socket(SOCK_STREAM, &r->addr);
	assert_int_equal(listen(r->fd, 8), 0);
	r->ev =
	    event_new(t->base, r->fd, EV_READ | EV_PERSIST, tcp_accept_cb, r);
	assert_non_null(r->ev);
	assert_int_equal(event_add(r->ev, NULL), 0);
}

/* ---- setup ------------------------------------------------------------- */

static int
setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	if (getenv("MD_TEST_DEBUG") != NULL)
		md_log_set_level(MD_LOG_DEBUG);
	t->udp.fd = t->udp.fd2 = t->tcp.fd = -1;
	t->base = event_base_new();
	t->net = md_net_new(t->base);
	t->safety = evtimer_new(t->base, safety_cb, t);
	if (t->base == NULL || t->net == NULL || t->safety == NULL)
		return -1;
	/* Mixed case, as a resolver using 0x20 would send it. */
	pkt_query(
	    &t->query, 0xbeef, MD_FLAG_RD, QNAME, MD_TYPE_A, MD_CLASS_IN, 1232);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tctx *t = *state;
	int i;

	md_net_free(t->net);
	if (t->udp.ev != NULL)
		event_free(t->udp.ev);
	if (t->udp.fd >= 0)
		close(t->udp.fd);
	if (t->udp.fd2 >= 0)
		close(t->udp.fd2);
	for (i = 0; i < t->tcp.nconn; i++) {
		struct tcp_conn *c = t->tcp.conns[i];

		event_free(c->ev);
		if (c->timer != NULL)
			event_free(c->timer);
		close(c->fd);
		free(c);
	}
	if (t->tcp.ev != NULL)
		event_free(t->tcp.ev);
	if (t->tcp.fd >= 0)
		close(t->tcp.fd);
	event_free(t->safety);
	event_base_free(t->base);
	free(t);
	return 0;
}

/* ---- UDP tests --------------------------------------------------------- */

static void
udp_ok(void **state)
{
	struct tctx *t = *state;
	struct result r;
	struct md_net_stats s;

	udp_resp_start(t, U_OK);
	assert_non_null(send_q(t, &t->udp.addr, false, 2000, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &r);
	assert_true(r.rtt < 2000);
	assert_int_equal(t->udp.nrecv, 1);
	s = stats(t);
	assert_int_equal(s.sent_udp, 1);
	assert_int_equal(s.replies, 1);
	assert_int_equal(s.mismatched, 0);
	assert_int_equal(s.errors + s.timeouts + s.sent_tcp, 0);
}

static void
udp_wrong_id_then_right(void **state)
{
	struct tctx *t = *state;
	struct result r;

	udp_resp_start(t, U_WRONG_ID);
	assert_non_null(send_q(t, &t->udp.addr, false, 2000, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &r);
	assert_int_equal(stats(t).mismatched, 1);
}

static void
udp_0x20_case_ignored(void **state)
{
	struct tctx *t = *state;
	struct result r;

	udp_resp_start(t, U_CASE);
	assert_non_null(send_q(t, &t->udp.addr, false, 2000, &r));
	run(t, 1, SAFETY_MS);
	/* The lower-cased echo was ignored, the exact one taken. */
	assert_reply(t, &r);
	assert_int_equal(stats(t).mismatched, 1);
}

static void
udp_garbage_ignored(void **state)
{
	struct tctx *t = *state;
	struct result r;

	udp_resp_start(t, U_GARBAGE);
	assert_non_null(send_q(t, &t->udp.addr, false, 2000, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &r);
	assert_int_equal(stats(t).mismatched, 3);
}

static void
udp_other_port_dropped(void **state)
{
	struct tctx *t = *state;
	struct result r;
	struct md_net_stats s;

	udp_resp_start(t, U_OTHER_PORT);
	assert_non_null(send_q(t, &t->udp.addr, false, 300, &r));
	run(t, 1, SAFETY_MS);
	assert_true(r.called);
	assert_int_equal(r.status, MD_NET_TIMEOUT);
	assert_int_equal(t->udp.nrecv, 1);
	s = stats(t);
	/* The kernel dropped it: we never even saw it. */
	assert_int_equal(s.mismatched, 0);
	assert_int_equal(s.timeouts, 1);
}

static void
udp_refused(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr closed;
	struct result r;

	closed_port(SOCK_DGRAM, &closed);
	assert_non_null(send_q(t, &closed, false, 2000, &r));
	run(t, 1, SAFETY_MS);
	assert_true(r.called);
	/* ICMP port unreachable always arrives on loopback. */
	assert_int_equal(r.status, MD_NET_REFUSED);
	assert_int_equal(stats(t).errors, 1);
}

static void
udp_timeout(void **state)
{
	struct tctx *t = *state;
	struct result r;

	udp_resp_start(t, U_SILENT);
	assert_non_null(send_q(t, &t->udp.addr, false, 100, &r));
	run(t, 1, SAFETY_MS);
	assert_false(t->safety_fired);
	assert_true(r.called);
	assert_int_equal(r.status, MD_NET_TIMEOUT);
	assert_int_equal(r.len, 0);
	assert_int_equal(stats(t).timeouts, 1);
}

/* ---- TCP tests --------------------------------------------------------- */

static void
tcp_expect(struct tctx *t, enum tcp_mode mode, enum md_net_status want)
{
	struct result r;

	tcp_resp_start(t, mode);
	assert_non_null(send_q(t, &t->tcp.addr, true, 2000, &r));
	run(t, 1, SAFETY_MS);
	assert_true(r.called);
	if (want == MD_NET_OK)
		assert_reply(t, &r);
	assert_int_equal(r.status, want);
	assert_int_equal(stats(t).sent_tcp, 1);
}

static void
tcp_ok(void **state)
{
	tcp_expect(*state, T_OK, MD_NET_OK);
}

static void
tcp_split(void **state)
{
	tcp_expect(*state, T_SPLIT, MD_NET_OK);
}

static void
tcp_close_early(void **state)
{
	tcp_expect(*state, T_CLOSE_EARLY, MD_NET_ERROR);
}

static void
tcp_short(void **state)
{
	tcp_expect(*state, T_SHORT, MD_NET_MALFORMED);
}

static void
tcp_wrong_id(void **state)
{
	struct tctx *t = *state;

	tcp_expect(t, T_WRONG_ID, MD_NET_ERROR);
	assert_int_equal(stats(t).mismatched, 1);
}

static void
tcp_refused(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr closed;
	struct result r;

	closed_port(SOCK_STREAM, &closed);
	assert_non_null(send_q(t, &closed, true, 2000, &r));
	run(t, 1, SAFETY_MS);
	assert_true(r.called);
	assert_int_equal(r.status, MD_NET_REFUSED);
}

/* ---- lifetimes --------------------------------------------------------- */

static void
cancel_no_callback(void **state)
{
	struct tctx *t = *state;
	struct result a, b;
	struct md_net_query *q;

	udp_resp_start(t, U_OK);
	q = send_q(t, &t->udp.addr, false, 2000, &a);
	assert_non_null(q);
	md_net_cancel(q);
	/* b ends the run; a's reply, if any, comes before it. */
	tcp_resp_start(t, T_SPLIT);
	assert_non_null(send_q(t, &t->tcp.addr, true, 2000, &b));
	run(t, 1, SAFETY_MS);
	assert_true(b.called);
	assert_false(a.called);
	md_net_cancel(NULL);
}

static void
free_with_queries_in_flight(void **state)
{
	struct tctx *t = *state;
	struct result r[3];
	int i;

	udp_resp_start(t, U_SILENT);
	tcp_resp_start(t, T_OK);
	for (i = 0; i < 3; i++)
		assert_non_null(send_q(t, i == 2 ? &t->tcp.addr : &t->udp.addr,
		    i == 2, 50, &r[i]));
	md_net_free(t->net);
	t->net = md_net_new(t->base);
	assert_non_null(t->net);
	run(t, 1, 200);
	assert_true(t->safety_fired);
	for (i = 0; i < 3; i++)
		assert_false(r[i].called);
	md_net_free(NULL);
}

/* A callback that cancels one query and starts another. */
struct reentry {
	struct tctx *t;
	struct md_net_query *victim;
	struct result *victim_r;
	struct result *next_r;
};

static void
reentry_cb(void *arg, enum md_net_status status, const uint8_t *reply,
    size_t len, uint32_t rtt_ms)
{
	struct reentry *re = arg;

	(void)reply;
	(void)len;
	(void)rtt_ms;
	assert_int_equal(status, MD_NET_OK);
	md_net_cancel(re->victim);
	assert_non_null(
	    send_q(re->t, &re->t->udp.addr, false, 2000, re->next_r));
	free(re); /* the callback owns its arg */
}

static void
callback_reentry(void **state)
{
	struct tctx *t = *state;
	struct reentry *re = calloc(1, sizeof(*re));
	struct result victim, next;

	assert_non_null(re);
	udp_resp_start(t, U_OK);
	tcp_resp_start(t, T_SPLIT);
	re->t = t;
	re->next_r = &next;
	re->victim_r = &victim;
	/* The slow TCP query is the victim of the fast UDP one. */
	re->victim = send_q(t, &t->tcp.addr, true, 2000, &victim);
	assert_non_null(re->victim);
	assert_non_null(md_net_send(t->net, &t->udp.addr, false, t->query.b,
	    t->query.len, 2000, reentry_cb, re));
	run(t, 1, SAFETY_MS);
	assert_true(next.called);
	assert_reply(t, &next);
	assert_false(victim.called);
}

static void
random_ids_and_ports(void **state)
{
	struct tctx *t = *state;
	struct result *r = calloc(50, sizeof(*r));
	bool port_differs = false, id_differs = false;
	int i;

	assert_non_null(r);
	udp_resp_start(t, U_OK);
	for (i = 0; i < 50; i++)
		assert_non_null(send_q(t, &t->udp.addr, false, 2000, &r[i]));
	run(t, 50, SAFETY_MS);
	assert_int_equal(t->udp.nrecv, 50);
	for (i = 0; i < 50; i++) {
		/* Every caller gets its own ID back. */
		assert_reply(t, &r[i]);
		assert_true(t->udp.ports[i] >= 1024);
		if (t->udp.ports[i] != t->udp.ports[0])
			port_differs = true;
		if (t->udp.ids[i] != t->udp.ids[0])
			id_differs = true;
	}
	assert_true(port_differs);
	assert_true(id_differs);
	free(r);
}

static void
bad_input(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr sa;
	struct result r;
	struct pkt p;

	loopback(&sa, 53);
	memset(&r, 0, sizeof(r));
	/* No question: nothing a reply could be matched against. */
	pkt_header(&p, 1, 0, 0, 0, 0, 0);
	assert_null(md_net_send(t->net, &sa, false, p.b, p.len, 100, cb, &r));
	assert_null(md_net_send(t->net, &sa, false, p.b, 5, 100, cb, &r));
	assert_int_equal(stats(t).sent_udp, 0);
	assert_string_equal(md_net_status_str(MD_NET_TIMEOUT), "timeout");
	assert_string_equal(md_net_status_str(MD_NET_MALFORMED), "malformed");
}

/* ---- md_net_send_opts and md_net_set_source ---------------------------- */

/* What the notice callback saw. */
struct notices {
	struct result r; /* first: the reply callback's arg too */
	int nshort, nignored, nfailed;
	struct md_net_notice failed;
	char failed_text[160];
};

static void
notice_cb(void *arg, const struct md_net_notice *nt)
{
	struct notices *n = arg;

	assert_non_null(nt->text);
	switch (nt->kind) {
	case MD_NET_NOTICE_SHORT:
		n->nshort++;
		assert_true(nt->len < MD_WIRE_HDR_LEN);
		break;
	case MD_NET_NOTICE_IGNORED:
		n->nignored++;
		break;
	case MD_NET_NOTICE_FAILED:
		/* Before the result, exactly once. */
		assert_false(n->r.called);
		n->nfailed++;
		n->failed = *nt;
		md_strlcpy(n->failed_text, nt->text, sizeof(n->failed_text));
		break;
	}
}

static struct md_net_query *
send_opts(struct tctx *t, const struct md_sockaddr *to, enum md_transport tr,
    bool lenient, uint32_t timeout_ms, struct notices *n)
{
	struct md_upstream up;
	struct md_net_opts o;

	memset(n, 0, sizeof(*n));
	n->r.t = t;
	memset(&up, 0, sizeof(up));
	up.addr = *to;
	up.transport = tr;
	memset(&o, 0, sizeof(o));
	o.keep_id = true;
	o.lenient = lenient;
	o.notice = notice_cb;
	return md_net_send_opts(
	    t->net, &up, &o, t->query.b, t->query.len, timeout_ms, cb, &n->r);
}

static void
source_127_0_0_2(struct md_sockaddr *sa, uint16_t port)
{
	loopback(sa, port);
	((struct sockaddr_in *)&sa->ss)->sin_addr.s_addr =
	    htonl(INADDR_LOOPBACK + 1);
}

static void
udp_source_and_keep_id(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr src;
	struct notices n;

	udp_resp_start(t, U_OK);
	source_127_0_0_2(&src, 0);
	assert_int_equal(md_net_set_source(t->net, &src), 0);
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, false, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &n.r);
	/* From 127.0.0.2, a random port, with our own ID on the wire. */
	assert_int_equal(ntohl(t->udp.peer.s_addr), INADDR_LOOPBACK + 1);
	assert_true(t->udp.ports[0] >= 1024);
	assert_int_equal(t->udp.ids[0], md_read_u16(t->query.b));
	assert_int_equal(n.nfailed + n.nshort + n.nignored, 0);
}

static void
tcp_source(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr src;
	struct notices n;

	tcp_resp_start(t, T_OK);
	source_127_0_0_2(&src, 0);
	assert_int_equal(md_net_set_source(t->net, &src), 0);
	assert_non_null(
	    send_opts(t, &t->tcp.addr, MD_TRANSPORT_TCP, false, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &n.r);
	assert_int_equal(ntohl(t->tcp.peer.s_addr), INADDR_LOOPBACK + 1);
}

static void
source_other_family(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr src;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src.ss;
	struct notices n;

	udp_resp_start(t, U_OK);
	memset(&src, 0, sizeof(src));
	s6->sin6_family = AF_INET6;
	s6->sin6_addr = in6addr_loopback;
	src.len = sizeof(*s6);
	assert_int_equal(md_net_set_source(t->net, &src), 0);
	/* An IPv6 source for an IPv4 server: not even started. */
	assert_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, false, 2000, &n));
	assert_int_equal(errno, EAFNOSUPPORT);
	assert_false(n.r.called);
	assert_int_equal(md_net_set_source(t->net, NULL), 0);
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, false, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &n.r);
}

static void
udp_notices(void **state)
{
	struct tctx *t = *state;
	struct notices n;

	/* Short, QR clear and another type; then the right reply. */
	udp_resp_start(t, U_GARBAGE);
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, false, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_reply(t, &n.r);
	assert_int_equal(n.nshort, 1);
	assert_int_equal(n.nignored, 2);
	assert_int_equal(n.nfailed, 0);
}

static void
udp_lenient_case(void **state)
{
	struct tctx *t = *state;
	struct notices n;

	/* dig's rules: the lower-cased echo is the answer. */
	udp_resp_start(t, U_CASE);
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, true, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_OK);
	assert_int_equal(n.nignored, 0);
	assert_int_equal(stats(t).mismatched, 0);
}

static void
udp_header_only(void **state)
{
	struct tctx *t = *state;
	struct notices n;

	/* dig +header-only: a query without a question (QDCOUNT 0), only
	 * its OPT record (root, type 41, 1232, no options). */
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};

	md_write_u16(t->query.b + 4, 0);
	md_write_u16(t->query.b + 6, 0);
	md_write_u16(t->query.b + 8, 0);
	md_write_u16(t->query.b + 10, 1);
	memcpy(t->query.b + MD_WIRE_HDR_LEN, opt, sizeof(opt));
	t->query.len = MD_WIRE_HDR_LEN + sizeof(opt);
	udp_resp_start(t, U_NO_QUESTION);
	/* Strict callers never send one... */
	assert_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, false, 300, &n));
	/* ...lenient ones (the tools) do, and take the reply by its ID. */
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, true, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_OK);
	assert_int_equal(n.r.len, MD_WIRE_HDR_LEN);
}

static void
udp_no_question(void **state)
{
	struct tctx *t = *state;
	struct notices n;

	/* Strict: a SERVFAIL without the question is not ours. */
	udp_resp_start(t, U_NO_QUESTION);
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, false, 300, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_TIMEOUT);
	assert_int_equal(n.nignored, 1);
	assert_int_equal(n.nfailed, 1);
	assert_int_equal(n.failed.status, MD_NET_TIMEOUT);
	/* Lenient: it is the answer, as dig takes it. */
	t->ncb = 0;
	assert_non_null(
	    send_opts(t, &t->udp.addr, MD_TRANSPORT_UDP, true, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_OK);
	assert_int_equal(n.r.len, MD_WIRE_HDR_LEN);
	assert_int_equal(
	    MD_RCODE(md_read_u16(n.r.reply + 2)), MD_RCODE_SERVFAIL);
}

static void
tcp_lenient_wrong_id_skipped(void **state)
{
	struct tctx *t = *state;
	struct notices n;

	/* Strict, the stream is not trusted (tcp_wrong_id); lenient, the
	 * wrong reply is skipped and the wait goes on to the deadline. */
	tcp_resp_start(t, T_WRONG_ID);
	assert_non_null(
	    send_opts(t, &t->tcp.addr, MD_TRANSPORT_TCP, true, 300, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_TIMEOUT);
	assert_int_equal(n.nignored, 1);
	assert_int_equal(n.nfailed, 1);
	assert_false(n.failed.connect_failed);
}

static void
tcp_refused_notice(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr sa;
	struct notices n;

	closed_port(SOCK_STREAM, &sa);
	assert_non_null(send_opts(t, &sa, MD_TRANSPORT_TCP, true, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_REFUSED);
	assert_int_equal(n.nfailed, 1);
	assert_true(n.failed.connect_failed);
	assert_int_equal(n.failed.err, ECONNREFUSED);
}

static void
tcp_eof_notice(void **state)
{
	struct tctx *t = *state;
	struct notices n;

	tcp_resp_start(t, T_CLOSE_EARLY);
	assert_non_null(
	    send_opts(t, &t->tcp.addr, MD_TRANSPORT_TCP, true, 2000, &n));
	run(t, 1, SAFETY_MS);
	assert_int_equal(n.r.status, MD_NET_ERROR);
	assert_int_equal(n.nfailed, 1);
	assert_false(n.failed.connect_failed);
	assert_int_equal(n.failed.err, 0);
	assert_string_equal(n.failed_text, "end of file");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(udp_ok),
	    T(udp_wrong_id_then_right),
	    T(udp_0x20_case_ignored),
	    T(udp_garbage_ignored),
	    T(udp_other_port_dropped),
	    T(udp_refused),
	    T(udp_timeout),
	    T(tcp_ok),
	    T(tcp_split),
	    T(tcp_close_early),
	    T(tcp_short),
	    T(tcp_wrong_id),
	    T(tcp_refused),
	    T(cancel_no_callback),
	    T(free_with_queries_in_flight),
	    T(callback_reentry),
	    T(random_ids_and_ports),
	    T(bad_input),
	    T(udp_source_and_keep_id),
	    T(tcp_source),
	    T(source_other_family),
	    T(udp_notices),
	    T(udp_lenient_case),
	    T(udp_no_question),
	    T(udp_header_only),
	    T(tcp_lenient_wrong_id_skipped),
	    T(tcp_refused_notice),
	    T(tcp_eof_notice),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
