/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_net_tls.c - tests of DNS over TLS upstreams (src/net/net_tls.c)
 * against a small TLS DNS server written here: a libevent listener on
 * 127.0.0.1 with bufferevent_openssl, on the same event_base as the
 * client, that echoes each framed query as its reply and can misbehave
 * (hold replies and answer them in reverse order, answer late, close the
 * connection mid-stream, send a malformed frame or a reply to another
 * question, never speak TLS).  Certificates are in data/tls/ (gen.sh).
 * Also md_upstream_parse/str.  Every loop is bounded by a safety timer.
 * Set MD_TEST_DEBUG to see the module's debug log.
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
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "unit.h"

#define TLS_DIR MD_TEST_DATA "/tls/"
#define SAFETY_MS 5000 /* no wait may last longer than this */
#define QNAME "wWw.ExAmple.com."
#define MAXQ 32
#define MAXCONN 8
#define DELAY_MS 300

/* SHA-256 of dns.test's SubjectPublicKeyInfo: data/tls/dns.test.spki. */
static const uint8_t dns_test_pin[32] = {0x6f, 0x15, 0x62, 0xea, 0x15, 0x67,
    0x1a, 0x1f, 0xe0, 0xc8, 0xdd, 0xd1, 0x5c, 0x2c, 0x13, 0x89, 0xce, 0xc1,
    0x8b, 0x88, 0x85, 0xde, 0xdc, 0xf1, 0x33, 0xde, 0x7b, 0xe2, 0xd7, 0xac,
    0xf9, 0xf4};

struct tctx;

struct result {
	struct tctx *t;
	bool called;
	enum md_net_status status;
	uint8_t reply[MD_WIRE_MAX];
	size_t len;
};

enum srv_mode {
	S_OK,		/* answer each query at once */
	S_REVERSE,	/* hold 'hold' queries, answer them last first */
	S_DELAY_SECOND, /* answer the second query DELAY_MS late */
	S_CLOSE,	/* 1st connection: answer one, close after close_n */
	S_GARBAGE,	/* a frame too short to be a DNS message */
	S_WRONG_Q,	/* the reply's question has another type */
	S_NO_HANDSHAKE, /* accept TCP, never speak TLS */
};

struct frame {
	uint8_t b[MD_WIRE_MAX + 2];
	size_t len;
};

struct srv_conn {
	struct srv *s;
	int idx;
	struct bufferevent *bev; /* NULL once closed */
	int rawfd;		 /* S_NO_HANDSHAKE */
	struct event *ev_raw;
	struct event *timer;
	int nq;
	struct frame late; /* S_DELAY_SECOND */
};

struct srv {
	struct tctx *t;
	enum srv_mode mode;
	SSL_CTX *ctx;
	struct evconnlistener *lis;
	struct md_sockaddr addr;
	struct srv_conn *conns[MAXCONN];
	int nconn;
	int nclosed; /* connections the client closed */
	int nq;
	uint16_t ids[MAXQ];
	struct in_addr peer; /* of the last connection */
	char sni[256];
	int hold;
	struct frame held[MAXQ];
	int nheld;
	int close_n;
};

struct tctx {
	struct event_base *base;
	struct md_net *net;
	struct event *safety;
	bool safety_fired;
	int ncb;
	int want;
	struct srv srv;
	struct md_upstream up;
	struct pkt query[MAXQ];
};

/* ---- helpers ----------------------------------------------------------- */

static void
cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct result *r = arg;

	(void)rtt_ms;
	assert_false(r->called);
	r->called = true;
	r->status = status;
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

/* Run the loop until 'want' callbacks came in all, or ms passed. */
static void
run(struct tctx *t, int want, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};

	t->want = want;
	t->safety_fired = false;
	assert_int_equal(evtimer_add(t->safety, &tv), 0);
	while (t->ncb < want && !t->safety_fired)
		assert_true(event_base_loop(t->base, EVLOOP_ONCE) >= 0);
	evtimer_del(t->safety);
}

/* Let the loop run for ms whatever happens. */
static void
run_for(struct tctx *t, uint32_t ms)
{
	run(t, 1 << 30, ms);
	assert_true(t->safety_fired);
}

static struct md_net_query *
send_q(struct tctx *t, int i, uint32_t timeout_ms, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	return md_net_send_to(
	    t->net, &t->up, t->query[i].b, t->query[i].len, timeout_ms, cb, r);
}

/* Query i's reply: its caller's ID restored, its question, QR set. */
static void
assert_reply(const struct tctx *t, int i, const struct result *r)
{
	const struct pkt *q = &t->query[i];

	assert_true(r->called);
	assert_int_equal(r->status, MD_NET_OK);
	assert_int_equal(r->len, q->len);
	assert_int_equal(md_read_u16(r->reply), md_read_u16(q->b));
	assert_true(md_read_u16(r->reply + 2) & MD_FLAG_QR);
	assert_memory_equal(r->reply + MD_WIRE_HDR_LEN, q->b + MD_WIRE_HDR_LEN,
	    q->len - MD_WIRE_HDR_LEN);
}

static void
assert_status(const struct result *r, enum md_net_status status)
{
	assert_true(r->called);
	assert_string_equal(
	    md_net_status_str(r->status), md_net_status_str(status));
}

/* ---- the TLS DNS server ------------------------------------------------ */

static void
srv_write(struct srv_conn *sc, const struct frame *f)
{
	if (sc->bev != NULL)
		assert_int_equal(bufferevent_write(sc->bev, f->b, f->len), 0);
}

static void
srv_close(struct srv_conn *sc)
{
	if (sc->bev == NULL)
		return;
	bufferevent_free(sc->bev);
	sc->bev = NULL;
}

static void
srv_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv_conn *sc = arg;

	(void)fd;
	(void)what;
	if (sc->s->mode == S_DELAY_SECOND)
		srv_write(sc, &sc->late);
	else
		srv_close(sc);
}

static void
srv_arm(struct srv_conn *sc, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};

	assert_int_equal(evtimer_add(sc->timer, &tv), 0);
}

/* One framed query in; its reply, by mode. */
static void
srv_query(struct srv_conn *sc, const uint8_t *msg, size_t len)
{
	struct srv *s = sc->s;
	struct frame f;
	size_t off = MD_WIRE_HDR_LEN;
	uint8_t name[MD_NAME_MAX];
	int i;

	assert_true(len >= MD_WIRE_HDR_LEN && len <= MD_WIRE_MAX);
	assert_true(s->nq < MAXQ);
	s->ids[s->nq++] = md_read_u16(msg);
	sc->nq++;
	md_write_u16(f.b, (uint16_t)len);
	memcpy(f.b + 2, msg, len);
	f.b[2 + 2] |= 0x80; /* QR */
	f.len = len + 2;
	switch (s->mode) {
	case S_OK:
		srv_write(sc, &f);
		break;
	case S_REVERSE:
		s->held[s->nheld++] = f;
		if (s->nheld < s->hold)
			break;
		for (i = s->nheld - 1; i >= 0; i--)
			srv_write(sc, &s->held[i]);
		s->nheld = 0;
		break;
	case S_DELAY_SECOND:
		if (s->nq == 2) {
			sc->late = f;
			srv_arm(sc, DELAY_MS);
		} else {
			srv_write(sc, &f);
		}
		break;
	case S_CLOSE:
		if (sc->idx != 0 || sc->nq == 1)
			srv_write(sc, &f);
		/* Later than the first reply, so it is flushed first. */
		if (sc->idx == 0 && sc->nq == s->close_n)
			srv_arm(sc, 50);
		break;
	case S_GARBAGE:
		f.len = 2 + 4;
		md_write_u16(f.b, 4);
		srv_write(sc, &f);
		break;
	case S_WRONG_Q:
		assert_true(md_name_read(msg, len, &off, name) > 0);
		f.b[2 + off + 1] ^= 1; /* qtype A → NS */
		srv_write(sc, &f);
		break;
	case S_NO_HANDSHAKE:
		fail();
	}
}

static void
srv_read_cb(struct bufferevent *bev, void *arg)
{
	struct srv_conn *sc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t lenbuf[2], msg[MD_WIRE_MAX];
	size_t len;

	while (sc->bev != NULL && evbuffer_get_length(in) >= 2) {
		assert_int_equal(evbuffer_copyout(in, lenbuf, 2), 2);
		len = md_read_u16(lenbuf);
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		assert_int_equal(evbuffer_remove(in, msg, len), (int)len);
		srv_query(sc, msg, len);
	}
}

static void
srv_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct srv_conn *sc = arg;
	const char *sni;

	if (what & BEV_EVENT_CONNECTED) {
		sni = SSL_get_servername(bufferevent_openssl_get_ssl(bev),
		    TLSEXT_NAMETYPE_host_name);
		md_strlcpy(
		    sc->s->sni, sni != NULL ? sni : "", sizeof(sc->s->sni));
		return;
	}
	/* EOF, or a failed handshake (the client refused us). */
	sc->s->nclosed++;
	srv_close(sc);
}

static void
srv_raw_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv_conn *sc = arg;
	uint8_t buf[4096];
	ssize_t r;

	(void)what;
	r = recv(fd, buf, sizeof(buf), 0);
	if (r > 0 || (r < 0 && errno == EAGAIN))
		return; /* the ClientHello, unanswered */
	sc->s->nclosed++;
	event_del(sc->ev_raw);
}

static void
srv_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct srv *s = arg;
	struct srv_conn *sc;
	SSL *ssl;

	(void)lis;
	assert_true(salen >= (int)sizeof(struct sockaddr_in));
	s->peer = ((struct sockaddr_in *)sa)->sin_addr;
	assert_true(s->nconn < MAXCONN);
	sc = calloc(1, sizeof(*sc));
	assert_non_null(sc);
	sc->s = s;
	sc->idx = s->nconn;
	sc->rawfd = -1;
	s->conns[s->nconn++] = sc;
	sc->timer = evtimer_new(s->t->base, srv_timer_cb, sc);
	assert_non_null(sc->timer);
	if (s->mode == S_NO_HANDSHAKE) {
		sc->rawfd = fd;
		assert_int_equal(evutil_make_socket_nonblocking(fd), 0);
		sc->ev_raw = event_new(
		    s->t->base, fd, EV_READ | EV_PERSIST, srv_raw_cb, sc);
		assert_non_null(sc->ev_raw);
		assert_int_equal(event_add(sc->ev_raw, NULL), 0);
		return;
	}
	ssl = SSL_new(s->ctx);
	assert_non_null(ssl);
	sc->bev = bufferevent_openssl_socket_new(s->t->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(sc->bev);
	bufferevent_openssl_set_allow_dirty_shutdown(sc->bev, 1);
	bufferevent_setcb(sc->bev, srv_read_cb, NULL, srv_event_cb, sc);
	assert_int_equal(bufferevent_enable(sc->bev, EV_READ | EV_WRITE), 0);
}

/* Start the server with the certificate of 'name' ("dns.test"...). */
static void
srv_start(struct tctx *t, enum srv_mode mode, const char *name)
{
	struct srv *s = &t->srv;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&s->addr.ss;
	char path[512];

	s->t = t;
	s->mode = mode;
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	snprintf(path, sizeof(path), TLS_DIR "%s.pem", name);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(s->ctx, path), 1);
	snprintf(path, sizeof(path), TLS_DIR "%s.key", name);
	assert_int_equal(
	    SSL_CTX_use_PrivateKey_file(s->ctx, path, SSL_FILETYPE_PEM), 1);
	memset(&s->addr, 0, sizeof(s->addr));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lis = evconnlistener_new_bind(t->base, srv_accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)s4, sizeof(*s4));
	assert_non_null(s->lis);
	s->addr.len = sizeof(s->addr.ss);
	assert_int_equal(getsockname(evconnlistener_get_fd(s->lis),
			     (struct sockaddr *)&s->addr.ss, &s->addr.len),
	    0);
	/* The client's view of it: no name, no pin unless a test sets. */
	memset(&t->up, 0, sizeof(t->up));
	t->up.addr = s->addr;
	t->up.transport = MD_TRANSPORT_TLS;
}

static void
srv_stop(struct srv *s)
{
	struct srv_conn *sc;
	int i;

	for (i = 0; i < s->nconn; i++) {
		sc = s->conns[i];
		srv_close(sc);
		if (sc->ev_raw != NULL)
			event_free(sc->ev_raw);
		if (sc->rawfd >= 0)
			close(sc->rawfd);
		event_free(sc->timer);
		free(sc);
	}
	if (s->lis != NULL)
		evconnlistener_free(s->lis);
	SSL_CTX_free(s->ctx);
}

/* The client side: trust ca.pem, expect "dns.test". */
static void
client_ca_name(struct tctx *t, const char *ca, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), TLS_DIR "%s", ca);
	assert_int_equal(md_net_set_tls_ca(t->net, path), 0);
	md_strlcpy(t->up.tls_name, name, sizeof(t->up.tls_name));
}

/* ---- authentication ---------------------------------------------------- */

static void
verified_by_ca_and_name(void **state)
{
	struct tctx *t = *state;
	struct result r;

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r);
	assert_int_equal(t->srv.nconn, 1);
	/* RFC 8310: the name goes out as SNI. */
	assert_string_equal(t->srv.sni, "dns.test");
}

static void
wrong_name(void **state)
{
	struct tctx *t = *state;
	struct result r;

	srv_start(t, S_OK, "other.test");
	client_ca_name(t, "ca.pem", "dns.test");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_status(&r, MD_NET_TLS_ERROR);
	assert_int_equal(t->srv.nq, 0);
}

static void
untrusted_ca(void **state)
{
	struct tctx *t = *state;
	struct result r;

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "rogue-ca.pem", "dns.test");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_status(&r, MD_NET_TLS_ERROR);
	assert_int_equal(t->srv.nq, 0);
}

static void
chain_only(void **state)
{
	struct tctx *t = *state;
	struct result r[2];

	/* Neither name nor pin: the chain alone is checked. */
	srv_start(t, S_OK, "other.test");
	client_ca_name(t, "ca.pem", "");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r[0]);
	assert_string_equal(t->srv.sni, "");
	md_net_free(t->net);
	t->net = md_net_new(t->base);
	assert_int_equal(md_net_set_tls_ca(t->net, TLS_DIR "rogue-ca.pem"), 0);
	assert_non_null(send_q(t, 1, SAFETY_MS, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_status(&r[1], MD_NET_TLS_ERROR);
}

static void
pin_right(void **state)
{
	struct tctx *t = *state;
	struct result r;

	/* RFC 7858 §4.2: no name, no CA that knows the server. */
	srv_start(t, S_OK, "dns.test");
	assert_int_equal(md_net_set_tls_ca(t->net, TLS_DIR "rogue-ca.pem"), 0);
	t->up.have_pin = true;
	memcpy(t->up.spki_pin, dns_test_pin, sizeof(dns_test_pin));
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r);
}

static void
pin_right_system_store(void **state)
{
	struct tctx *t = *state;
	struct result r;

	/* No md_net_set_tls_ca(): the system store, which has no test CA. */
	srv_start(t, S_OK, "dns.test");
	t->up.have_pin = true;
	memcpy(t->up.spki_pin, dns_test_pin, sizeof(dns_test_pin));
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r);
}

static void
pin_wrong(void **state)
{
	struct tctx *t = *state;
	struct result r;

	srv_start(t, S_OK, "other.test");
	t->up.have_pin = true;
	memcpy(t->up.spki_pin, dns_test_pin, sizeof(dns_test_pin));
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_status(&r, MD_NET_TLS_ERROR);
	/* The query never went out to the unauthenticated server. */
	assert_int_equal(t->srv.nq, 0);
}

static void
pin_and_name_both_checked(void **state)
{
	struct tctx *t = *state;
	struct result r[2];

	/* Right name and CA, wrong pin. */
	srv_start(t, S_OK, "other.test");
	client_ca_name(t, "ca.pem", "other.test");
	t->up.have_pin = true;
	memcpy(t->up.spki_pin, dns_test_pin, sizeof(dns_test_pin));
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	run(t, 1, SAFETY_MS);
	assert_status(&r[0], MD_NET_TLS_ERROR);
	/* Right pin, untrusted chain. */
	srv_stop(&t->srv);
	memset(&t->srv, 0, sizeof(t->srv));
	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "rogue-ca.pem", "dns.test");
	t->up.have_pin = true;
	memcpy(t->up.spki_pin, dns_test_pin, sizeof(dns_test_pin));
	assert_non_null(send_q(t, 1, SAFETY_MS, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_status(&r[1], MD_NET_TLS_ERROR);
}

static void
no_handshake(void **state)
{
	struct tctx *t = *state;
	struct result r;

	srv_start(t, S_NO_HANDSHAKE, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	md_net_set_tls_idle(t->net, 50);
	assert_non_null(send_q(t, 0, 200, &r));
	run(t, 1, SAFETY_MS);
	assert_status(&r, MD_NET_TIMEOUT);
	/* The half-open connection is idle now: closed soon after. */
	run_for(t, 300);
	assert_int_equal(t->srv.nclosed, 1);
}

/* ---- one connection, many queries -------------------------------------- */

static void
pipelined_out_of_order(void **state)
{
	struct tctx *t = *state;
	struct result r[5];
	struct md_net_stats st;
	int i, j;

	srv_start(t, S_REVERSE, "dns.test");
	t->srv.hold = 5;
	client_ca_name(t, "ca.pem", "dns.test");
	/* All five sent during the handshake: queued, then written. */
	for (i = 0; i < 5; i++)
		assert_non_null(send_q(t, i, SAFETY_MS, &r[i]));
	run(t, 5, SAFETY_MS);
	for (i = 0; i < 5; i++)
		assert_reply(t, i, &r[i]);
	assert_int_equal(t->srv.nconn, 1);
	assert_int_equal(t->srv.nq, 5);
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			assert_int_not_equal(t->srv.ids[i], t->srv.ids[j]);
	md_net_get_stats(t->net, &st);
	assert_int_equal(st.sent_tcp, 5);
	assert_int_equal(st.replies, 5);

	/* The same connection again, now established. */
	for (i = 5; i < 10; i++)
		assert_non_null(send_q(t, i, SAFETY_MS, &r[i - 5]));
	run(t, 10, SAFETY_MS);
	for (i = 5; i < 10; i++)
		assert_reply(t, i, &r[i - 5]);
	assert_int_equal(t->srv.nconn, 1);
}

static void
idle_close_then_reconnect(void **state)
{
	struct tctx *t = *state;
	struct result r[2];

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	md_net_set_tls_idle(t->net, 100);
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r[0]);
	run_for(t, 400);
	assert_int_equal(t->srv.nclosed, 1);
	assert_non_null(send_q(t, 1, SAFETY_MS, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_reply(t, 1, &r[1]);
	assert_int_equal(t->srv.nconn, 2);
}

static void
server_closes_mid_stream(void **state)
{
	struct tctx *t = *state;
	struct result r[4];
	int i;

	srv_start(t, S_CLOSE, "dns.test");
	t->srv.close_n = 3;
	client_ca_name(t, "ca.pem", "dns.test");
	for (i = 0; i < 3; i++)
		assert_non_null(send_q(t, i, SAFETY_MS, &r[i]));
	run(t, 3, SAFETY_MS);
	assert_reply(t, 0, &r[0]);
	assert_status(&r[1], MD_NET_ERROR);
	assert_status(&r[2], MD_NET_ERROR);
	/* RFC 7858 §3.4: the next query opens a new connection. */
	assert_non_null(send_q(t, 3, SAFETY_MS, &r[3]));
	run(t, 4, SAFETY_MS);
	assert_reply(t, 3, &r[3]);
	assert_int_equal(t->srv.nconn, 2);
}

static void
timeout_keeps_connection(void **state)
{
	struct tctx *t = *state;
	struct result r[4];
	struct md_net_stats st;

	srv_start(t, S_DELAY_SECOND, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	/* Connected first, so the timeout is not spent on the handshake. */
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r[0]);
	assert_non_null(send_q(t, 1, 100, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_status(&r[1], MD_NET_TIMEOUT);
	assert_non_null(send_q(t, 2, SAFETY_MS, &r[2]));
	run(t, 3, SAFETY_MS);
	assert_reply(t, 2, &r[2]);
	/* The late reply to the second query comes and is ignored. */
	run_for(t, DELAY_MS);
	assert_non_null(send_q(t, 3, SAFETY_MS, &r[3]));
	run(t, 4, SAFETY_MS);
	assert_reply(t, 3, &r[3]);
	md_net_get_stats(t->net, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.mismatched, 0);
	assert_int_equal(t->srv.nconn, 1);
	assert_int_equal(t->srv.nclosed, 0);
}

static void
cancel_one(void **state)
{
	struct tctx *t = *state;
	struct result r[3];
	struct md_net_query *q;

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	q = send_q(t, 1, SAFETY_MS, &r[1]);
	assert_non_null(q);
	assert_non_null(send_q(t, 2, SAFETY_MS, &r[2]));
	md_net_cancel(q);
	run(t, 2, SAFETY_MS);
	assert_reply(t, 0, &r[0]);
	assert_reply(t, 2, &r[2]);
	run_for(t, 50);
	assert_false(r[1].called);
	assert_int_equal(t->srv.nconn, 1);
}

static void
garbage_reply(void **state)
{
	struct tctx *t = *state;
	struct result r[2];

	srv_start(t, S_GARBAGE, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	assert_non_null(send_q(t, 1, SAFETY_MS, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_status(&r[0], MD_NET_MALFORMED);
	assert_status(&r[1], MD_NET_MALFORMED);
}

static void
wrong_question(void **state)
{
	struct tctx *t = *state;
	struct result r[2];
	struct md_net_stats st;

	srv_start(t, S_WRONG_Q, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	run(t, 1, SAFETY_MS);
	assert_status(&r[0], MD_NET_ERROR);
	md_net_get_stats(t->net, &st);
	assert_int_equal(st.mismatched, 1);
	/* The connection was dropped: a new one for the next query. */
	assert_non_null(send_q(t, 1, SAFETY_MS, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_int_equal(t->srv.nconn, 2);
}

/* A callback that frees the whole md_net while replies are pending. */
static void
free_net_cb(void *arg, enum md_net_status status, const uint8_t *reply,
    size_t len, uint32_t rtt_ms)
{
	struct result *r = arg;

	cb(arg, status, reply, len, rtt_ms);
	md_net_free(r->t->net);
	r->t->net = NULL;
	event_base_loopbreak(r->t->base);
}

static void
free_from_callback_and_in_flight(void **state)
{
	struct tctx *t = *state;
	struct result r[3];
	int i;

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	for (i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].t = t;
		assert_non_null(md_net_send_to(t->net, &t->up, t->query[i].b,
		    t->query[i].len, SAFETY_MS, free_net_cb, &r[i]));
	}
	run(t, 1, SAFETY_MS);
	assert_int_equal(t->ncb, 1);
	run_for(t, 100);
	assert_int_equal(t->ncb, 1);

	/* And md_net_free() with queries queued on a handshake. */
	t->net = md_net_new(t->base);
	assert_non_null(t->net);
	client_ca_name(t, "ca.pem", "dns.test");
	for (i = 0; i < 3; i++)
		assert_non_null(send_q(t, i, SAFETY_MS, &r[i]));
}

/* ---- md_upstream_parse / md_upstream_str ------------------------------- */

static void
upstream_round_trip(void **state)
{
	static const char *const good[][2] = {
	    {"192.0.2.1", "192.0.2.1:53"},
	    {"192.0.2.1:5353", "192.0.2.1:5353"},
	    {"[2001:db8::1]:53", "[2001:db8::1]:53"},
	    {"2001:db8::1", "[2001:db8::1]:53"},
	    {"udp://192.0.2.1", "192.0.2.1:53"},
	    {"tcp://192.0.2.1", "tcp://192.0.2.1:53"},
	    {"tls://192.0.2.1", "tls://192.0.2.1:853"},
	    {"tls://192.0.2.1:8853", "tls://192.0.2.1:8853"},
	    {"tls://192.0.2.1#dns.test", "tls://192.0.2.1:853#dns.test"},
	    {"tls://192.0.2.1:853#dns.test.", "tls://192.0.2.1:853#dns.test"},
	    {"tls://[2001:db8::1]:853#dns.test",
		"tls://[2001:db8::1]:853#dns.test"},
	    {"tls://2001:db8::1#dns.test", "tls://[2001:db8::1]:853#dns.test"},
	};
	struct md_upstream up, up2;
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(md_upstream_parse(good[i][0], &up), 0);
		assert_string_equal(
		    md_upstream_str(&up, buf, sizeof(buf)), good[i][1]);
		assert_int_equal(md_upstream_parse(buf, &up2), 0);
		assert_int_equal(up2.transport, up.transport);
		assert_string_equal(up2.tls_name, up.tls_name);
		assert_int_equal(up2.addr.len, up.addr.len);
		assert_memory_equal(&up2.addr.ss, &up.addr.ss, up.addr.len);
	}
	assert_int_equal(md_upstream_parse("tls://127.0.0.1#x.y", &up), 0);
	assert_int_equal(up.transport, MD_TRANSPORT_TLS);
	assert_string_equal(up.tls_name, "x.y");
	assert_false(up.have_pin);
	assert_string_equal(md_transport_str(MD_TRANSPORT_UDP), "udp");
	assert_string_equal(md_transport_str(MD_TRANSPORT_TCP), "tcp");
	assert_string_equal(md_transport_str(MD_TRANSPORT_TLS), "tls");
	assert_string_equal(md_net_status_str(MD_NET_TLS_ERROR), "tls error");
	/* Truncated, still terminated. */
	assert_int_equal(md_upstream_parse("tls://192.0.2.1#dns.test", &up), 0);
	assert_string_equal(md_upstream_str(&up, buf, 8), "tls://1");
}

static void
upstream_errors(void **state)
{
	static const char *const bad[] = {
	    "",
	    "tls://",
	    "udp://",
	    "example.com",
	    "192.0.2.1:",
	    "192.0.2.1:0",
	    "192.0.2.1:65536",
	    "192.0.2.1:53x",
	    "[2001:db8::1",
	    "[2001:db8::1]x",
	    "192.0.2.1#dns.test",
	    "tcp://192.0.2.1#dns.test",
	    "tls://192.0.2.1#",
	    "tls://192.0.2.1#.",
	    "tls://192.0.2.1#a..b",
	    "tls://192.0.2.1#.a",
	    "tls://192.0.2.1#a b",
	    "tls://192.0.2.1#a/b",
	    "tls://#dns.test",
	    "https://192.0.2.1",
	    "tls://192.0.2.1#dns.test#x",
	};
	char longname[400];
	struct md_upstream up;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&up, 0xa5, sizeof(up));
		if (md_upstream_parse(bad[i], &up) != MD_EPARSE)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(up.addr.len, 0);
	}
	assert_int_equal(md_upstream_parse(NULL, &up), MD_EPARSE);
	/* A label of 64, a name of more than 253. */
	memcpy(longname, "tls://1.2.3.4#", 14);
	memset(longname + 14, 'a', 64);
	longname[14 + 64] = '\0';
	assert_int_equal(md_upstream_parse(longname, &up), MD_EPARSE);
	for (i = 14; i < 14 + 300; i++)
		longname[i] = (i - 14) % 10 == 9 ? '.' : 'a';
	longname[i] = '\0';
	assert_int_equal(md_upstream_parse(longname, &up), MD_EPARSE);
}

static void
bad_input(void **state)
{
	struct tctx *t = *state;
	struct result r;
	struct md_upstream up;

	srv_start(t, S_OK, "dns.test");
	assert_int_equal(
	    md_net_set_tls_ca(t->net, TLS_DIR "no-such-file.pem"), MD_ECONFIG);
	assert_int_equal(md_net_set_tls_ca(NULL, NULL), MD_ECONFIG);
	md_net_set_tls_idle(NULL, 1);
	up = t->up;
	up.transport = (enum md_transport)42;
	assert_null(md_net_send_to(
	    t->net, &up, t->query[0].b, t->query[0].len, 100, cb, &r));
	assert_null(md_net_send_to(
	    t->net, NULL, t->query[0].b, t->query[0].len, 100, cb, &r));
	/* Not a query with one question. */
	assert_null(
	    md_net_send_to(t->net, &t->up, t->query[0].b, 5, 100, cb, &r));
}

/* ---- setup ------------------------------------------------------------- */

static int
setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));
	int i;

	if (t == NULL)
		return -1;
	if (getenv("MD_TEST_DEBUG") != NULL)
		md_log_set_level(MD_LOG_DEBUG);
	t->base = event_base_new();
	t->net = md_net_new(t->base);
	t->safety = evtimer_new(t->base, safety_cb, t);
	if (t->base == NULL || t->net == NULL || t->safety == NULL)
		return -1;
	/* Mixed case, as a resolver using 0x20 would send it; each query
	 * with its own caller's ID. */
	for (i = 0; i < MAXQ; i++)
		pkt_query(&t->query[i], (uint16_t)(0x1000 + i), MD_FLAG_RD,
		    QNAME, MD_TYPE_A, MD_CLASS_IN, 1232);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tctx *t = *state;

	md_net_free(t->net);
	srv_stop(&t->srv);
	event_free(t->safety);
	event_base_free(t->base);
	free(t);
	ERR_clear_error();
	return 0;
}

/* ---- the one TLS client set-up: md_tls_client_ctx_new() ---------------- */

/* A whole file as a string (PEM text), malloc'ed. */
static char *
slurp(const char *name)
{
	char path[512], *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), TLS_DIR "%s", name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* Use ctx for t's connections; t keeps no reference of ours. */
static void
use_ctx(struct tctx *t, SSL_CTX *ctx)
{
	assert_non_null(ctx);
	assert_int_equal(md_net_set_tls_ctx(t->net, ctx), 0);
	SSL_CTX_free(ctx);
}

static void
ctx_conf_errors(void **state)
{
	struct md_tls_client_conf conf;
	char err[256], *pem;
	SSL_CTX *ctx;

	(void)state;
	/* Defaults: the system store, TLS 1.2 at least, verification on. */
	ctx = md_tls_client_ctx_new(NULL, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	SSL_CTX_free(ctx);

	memset(&conf, 0, sizeof(conf));
	conf.ca_file = TLS_DIR "no-such.pem";
	assert_null(md_tls_client_ctx_new(&conf, err, sizeof(err)));
	assert_non_null(strstr(err, "no-such.pem: "));

	memset(&conf, 0, sizeof(conf));
	conf.ca_pem = "not a certificate";
	assert_null(md_tls_client_ctx_new(&conf, err, sizeof(err)));
	assert_non_null(strstr(err, "no certificate"));

	/* A client certificate with another's key (OpenSSL checks the
	 * pair as the key is loaded). */
	memset(&conf, 0, sizeof(conf));
	conf.ca_file = TLS_DIR "ca.pem";
	conf.cert_file = TLS_DIR "dns.test.pem";
	conf.key_file = TLS_DIR "other.test.key";
	assert_null(md_tls_client_ctx_new(&conf, err, sizeof(err)));
	assert_non_null(strstr(err, "other.test.key: "));

	/* The same pair, right, from PEM text: accepted. */
	memset(&conf, 0, sizeof(conf));
	pem = slurp("ca.pem");
	conf.ca_pem = pem;
	conf.cert_file = TLS_DIR "dns.test.pem";
	conf.key_file = TLS_DIR "dns.test.key";
	ctx = md_tls_client_ctx_new(&conf, NULL, 0);
	assert_non_null(ctx);
	assert_non_null(SSL_CTX_get0_certificate(ctx));
	SSL_CTX_free(ctx);
	free(pem);

	/* Insecure: nothing verified, no CA needed (even a bad one). */
	memset(&conf, 0, sizeof(conf));
	conf.insecure = true;
	conf.ca_file = TLS_DIR "no-such.pem";
	ctx = md_tls_client_ctx_new(&conf, NULL, 0);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	SSL_CTX_free(ctx);
}

static void
ctx_ca_from_pem_text(void **state)
{
	struct tctx *t = *state;
	struct md_tls_client_conf conf;
	struct result r;
	char *pem = slurp("ca.pem");

	srv_start(t, S_OK, "dns.test");
	memset(&conf, 0, sizeof(conf));
	conf.ca_pem = pem;
	use_ctx(t, md_tls_client_ctx_new(&conf, NULL, 0));
	free(pem);
	md_strlcpy(t->up.tls_name, "dns.test", sizeof(t->up.tls_name));
	assert_non_null(send_q(t, 0, SAFETY_MS, &r));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r);
	assert_string_equal(t->srv.sni, "dns.test");
}

static void
ctx_insecure_accepts_any(void **state)
{
	struct tctx *t = *state;
	struct md_tls_client_conf conf;
	struct result r[2];

	/* No trusted CA for other.test, and another name: accepted all
	 * the same, the name still sent as SNI (minidig +tls). */
	srv_start(t, S_OK, "other.test");
	memset(&conf, 0, sizeof(conf));
	conf.insecure = true;
	use_ctx(t, md_tls_client_ctx_new(&conf, NULL, 0));
	md_strlcpy(t->up.tls_name, "dns.test", sizeof(t->up.tls_name));
	assert_non_null(send_q(t, 0, SAFETY_MS, &r[0]));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &r[0]);
	assert_string_equal(t->srv.sni, "dns.test");
	/* The same server, verified: refused. */
	md_net_free(t->net);
	t->net = md_net_new(t->base);
	assert_non_null(t->net);
	client_ca_name(t, "rogue-ca.pem", "other.test");
	assert_non_null(send_q(t, 1, SAFETY_MS, &r[1]));
	run(t, 2, SAFETY_MS);
	assert_status(&r[1], MD_NET_TLS_ERROR);
}

/* What the notices said of a failure. */
struct failure {
	struct result r;
	int nfailed;
	bool connect_failed;
	int err;
	char text[160];
};

static void
failure_notice_cb(void *arg, const struct md_net_notice *nt)
{
	struct failure *f = arg;

	if (nt->kind != MD_NET_NOTICE_FAILED)
		return;
	assert_false(f->r.called);
	f->nfailed++;
	f->connect_failed = nt->connect_failed;
	f->err = nt->err;
	md_strlcpy(f->text, nt->text, sizeof(f->text));
}

static struct md_net_query *
send_notice(struct tctx *t, int i, uint32_t timeout_ms, struct failure *f)
{
	struct md_net_opts o;

	memset(f, 0, sizeof(*f));
	f->r.t = t;
	memset(&o, 0, sizeof(o));
	o.keep_id = true;
	o.notice = failure_notice_cb;
	return md_net_send_opts(t->net, &t->up, &o, t->query[i].b,
	    t->query[i].len, timeout_ms, cb, &f->r);
}

static void
failure_detail_certificate(void **state)
{
	struct tctx *t = *state;
	struct failure f;

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "ca.pem", "wrong.test");
	assert_non_null(send_notice(t, 0, SAFETY_MS, &f));
	run(t, 1, SAFETY_MS);
	assert_status(&f.r, MD_NET_TLS_ERROR);
	assert_int_equal(f.nfailed, 1);
	assert_false(f.connect_failed);
	assert_non_null(strstr(f.text, "certificate verify failed: "));
}

static void
failure_detail_refused(void **state)
{
	struct tctx *t = *state;
	struct failure f;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->up.addr.ss;
	int fd;

	/* A port nothing listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&t->up, 0, sizeof(t->up));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->up.addr.len = sizeof(*s4);
	assert_int_equal(bind(fd, (struct sockaddr *)s4, sizeof(*s4)), 0);
	t->up.addr.len = sizeof(t->up.addr.ss);
	assert_int_equal(
	    getsockname(fd, (struct sockaddr *)&t->up.addr.ss, &t->up.addr.len),
	    0);
	close(fd);
	t->up.transport = MD_TRANSPORT_TLS;
	md_strlcpy(t->up.tls_name, "dns.test", sizeof(t->up.tls_name));
	assert_non_null(send_notice(t, 0, SAFETY_MS, &f));
	run(t, 1, SAFETY_MS);
	assert_status(&f.r, MD_NET_REFUSED);
	assert_int_equal(f.nfailed, 1);
	assert_true(f.connect_failed);
	assert_int_equal(f.err, ECONNREFUSED);
}

static void
source_address_and_keep_id(void **state)
{
	struct tctx *t = *state;
	struct md_sockaddr src;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src.ss;
	struct failure f;

	srv_start(t, S_OK, "dns.test");
	client_ca_name(t, "ca.pem", "dns.test");
	memset(&src, 0, sizeof(src));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	src.len = sizeof(*s4);
	assert_int_equal(md_net_set_source(t->net, &src), 0);
	assert_non_null(send_notice(t, 0, SAFETY_MS, &f));
	run(t, 1, SAFETY_MS);
	assert_reply(t, 0, &f.r);
	assert_int_equal(ntohl(t->srv.peer.s_addr), INADDR_LOOPBACK + 1);
	assert_int_equal(t->srv.ids[0], md_read_u16(t->query[0].b));
	assert_int_equal(f.nfailed, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(verified_by_ca_and_name),
	    T(wrong_name),
	    T(untrusted_ca),
	    T(chain_only),
	    T(pin_right),
	    T(pin_right_system_store),
	    T(pin_wrong),
	    T(pin_and_name_both_checked),
	    T(no_handshake),
	    T(pipelined_out_of_order),
	    T(idle_close_then_reconnect),
	    T(server_closes_mid_stream),
	    T(timeout_keeps_connection),
	    T(cancel_one),
	    T(garbage_reply),
	    T(wrong_question),
	    T(free_from_callback_and_in_flight),
	    T(upstream_round_trip),
	    T(upstream_errors),
	    T(bad_input),
	    T(ctx_conf_errors),
	    T(ctx_ca_from_pem_text),
	    T(ctx_insecure_accepts_any),
	    T(failure_detail_certificate),
	    T(failure_detail_refused),
	    T(source_address_and_keep_id),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
