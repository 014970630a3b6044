/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_loop.c - loop-detect (src/server/server_loop.c) on a server core
 * with one worker, no socket and no thread (server-internal.h, "A server
 * core for tests"), its upstream transport replaced: a query to 127.0.0.1
 * is handed to the server's own UDP path (md_srv_udp_answer(), as if it
 * had come back to our listener) and its answer returned to the sender,
 * any other upstream answers NXDOMAIN.  Checks that the probe is a random
 * HINFO name under the zone, that it is recognised when it arrives and
 * answered SERVFAIL (never forwarded again), that only the zone whose
 * probe came back is looped (readiness, the gauge), that its names get
 * SERVFAIL with the EDE text at once while HINFO still goes out, and that
 * a reload pointing the zone elsewhere probes it again and clears it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "minidns/config.h"
#include "minidns/server.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "unit.h"

#include "src/server/server-internal.h"

#define QMAX 16

/* One query the server sent upstream, not answered yet. */
struct sent {
	uint8_t msg[MD_WIRE_MAX];
	size_t len;
	struct md_sockaddr to;
	md_net_cb cb;
	void *arg;
	bool open;
};

static struct sent sent[QMAX];
static size_t nsent;

static void *
fake_send(void *ctx, const struct md_send *s, md_net_cb cb, void *cb_arg)
{
	struct sent *q;

	(void)ctx;
	assert_true(nsent < QMAX);
	q = &sent[nsent++];
	memcpy(q->msg, s->query, s->len);
	q->len = s->len;
	q->to = s->upstream != NULL ? s->upstream->addr : s->server;
	q->cb = cb;
	q->arg = cb_arg;
	q->open = true;
	return q;
}

static void
fake_cancel(void *ctx, void *handle)
{
	(void)ctx;
	((struct sent *)handle)->open = false;
}

static bool
to_self(const struct sent *q)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&q->to.ss;

	return in->sin_family == AF_INET &&
	    in->sin_addr.s_addr == htonl(0x7f000001);
}

/* The question name of message m, lower case, in presentation form. */
static void
qname_str(const uint8_t *m, size_t len, char *buf, size_t cap)
{
	uint8_t name[MD_NAME_MAX];
	size_t off = 12;

	assert_true(md_name_read(m, len, &off, name) > 0);
	md_name_lower(name);
	assert_int_equal(md_name_to_str(name, buf, cap), 0);
}

static uint16_t
qtype_of(const uint8_t *m, size_t len)
{
	size_t off = 12;
	uint8_t name[MD_NAME_MAX];

	assert_true(md_name_read(m, len, &off, name) > 0);
	return md_read_u16(m + off);
}

static bool
has_text(const uint8_t *m, size_t len, const char *text)
{
	return memmem(m, len, text, strlen(text)) != NULL;
}

static struct md_server *srv;
static struct event_base *base;

/* A client query through the UDP path: the immediate answer's length
 * (0: it is being resolved), the answer in out. */
static size_t
ask(const char *name, uint16_t type, uint8_t *out, size_t cap)
{
	uint8_t q[512], wire[MD_NAME_MAX];
	struct sockaddr_storage from;
	struct sockaddr_in *in = (struct sockaddr_in *)&from;
	int len;

	assert_true(md_name_from_str(name, NULL, wire) > 0);
	len = md_msg_build_query(
	    q, sizeof(q), 0x1234, wire, type, true, true, 1232, false);
	assert_true(len > 0);
	memset(&from, 0, sizeof(from));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0x7f000009);
	in->sin_port = htons(5353);
	return md_srv_udp_answer(srv->w[0], -1, &from, sizeof(*in), q,
	    (size_t)len, out, cap, md_now_us(), NULL, NULL);
}

static void
ignore_answer(
    void *arg, const uint8_t *msg, size_t len, const struct md_request *req)
{
	(void)arg;
	(void)msg;
	(void)len;
	(void)req;
}

/*
 * Answer every open upstream query: one to 127.0.0.1 goes through our own
 * UDP path (and its immediate answer back), others get NXDOMAIN.  Returns
 * how many of them came back to us; the first one's immediate answer in
 * back[0..*backlen).
 */
static unsigned
play(uint8_t *back, size_t *backlen)
{
	unsigned self = 0;

	for (size_t i = 0; i < nsent; i++) {
		struct sent *q = &sent[i];
		uint8_t out[MD_WIRE_MAX];
		size_t n;

		if (!q->open)
			continue;
		q->open = false;
		if (to_self(q)) {
			struct sockaddr_storage from;
			struct sockaddr_in *in = (struct sockaddr_in *)&from;

			memset(&from, 0, sizeof(from));
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(0x7f000001);
			n = md_srv_udp_answer(srv->w[0], -1, &from, sizeof(*in),
			    q->msg, q->len, out, sizeof(out), md_now_us(),
			    ignore_answer, NULL);
			if (self++ == 0 && back != NULL) {
				memcpy(back, out, n);
				*backlen = n;
			}
			if (n == 0)
				continue; /* forwarded on */
		} else {
			memcpy(out, q->msg, q->len);
			n = q->len;
			out[2] |= 0x80;	   /* QR */
			out[3] = 0x80 | 3; /* RA, NXDOMAIN */
		}
		q->cb(q->arg, MD_NET_OK, out, n, 1);
	}
	return self;
}

static struct md_config *
config(const char *loop_server)
{
	struct md_config *c = md_config_new();
	char text[512], err[512];

	assert_non_null(c);
	snprintf(text, sizeof(text),
	    "threads: 1\n"
	    "allow-private-upstreams: yes\n"
	    "zones: []\n"
	    "forward:\n"
	    "  - zone: loop.test\n"
	    "    servers: [ %s ]\n"
	    "  - zone: ok.test\n"
	    "    servers: [ 127.0.0.2 ]\n",
	    loop_server);
	assert_int_equal(md_config_load_text(
			     c, "test", text, strlen(text), err, sizeof(err)),
	    0);
	assert_int_equal(md_config_finish(c, err, sizeof(err)), 0);
	return c;
}

struct gauge {
	int loop, ok;
};

static void
gauge_cb(void *ctx, const char *zone, bool looped)
{
	struct gauge *g = ctx;

	if (strcmp(zone, "loop.test.") == 0)
		g->loop = looped;
	else if (strcmp(zone, "ok.test.") == 0)
		g->ok = looped;
}

static void
setup_server(void)
{
	struct md_config *c = config("127.0.0.1");
	struct worker *wk;

	md_log_set_level(MD_LOG_ERR);
	base = event_base_new();
	assert_non_null(base);
	srv = md_server_new(base, c);
	assert_non_null(srv);
	md_config_unref(c);
	wk = srv->w[0];
	wk->transport.send = fake_send;
	wk->transport.cancel = fake_cancel;
	wk->transport.timer = NULL;
	wk->transport.timer_cancel = NULL;
	wk->transport.ctx = NULL;
	nsent = 0;
}

static void
loop_found(void **state)
{
	uint8_t back[MD_WIRE_MAX], out[MD_WIRE_MAX];
	size_t backlen = 0, n;
	char why[256], name[MD_NAME_STRLEN];
	struct gauge g = {-1, -1};
	unsigned self;

	(void)state;
	setup_server();
	assert_true(md_server_loop_not_ready(srv, why, sizeof(why)));
	assert_string_equal(why, "forwarding loop probes pending\n");

	md_server_loop_start(srv);
	/* One probe per zone: HINFO, two 16-hex-digit labels, the zone. */
	assert_int_equal(nsent, 2);
	for (size_t i = 0; i < 2; i++) {
		const char *zone =
		    to_self(&sent[i]) ? "loop.test." : "ok.test.";

		assert_int_equal(
		    qtype_of(sent[i].msg, sent[i].len), MD_TYPE_HINFO);
		qname_str(sent[i].msg, sent[i].len, name, sizeof(name));
		assert_int_equal(strlen(name), 34 + strlen(zone));
		assert_string_equal(name + 34, zone);
		assert_true(name[16] == '.' && name[33] == '.');
	}
	assert_true(md_server_loop_not_ready(srv, why, sizeof(why)));

	/* The probe to ourselves arrives: SERVFAIL at once, not forwarded
	 * again (nothing more was sent). */
	self = play(back, &backlen);
	assert_int_equal(self, 1);
	assert_true(backlen > 12);
	assert_int_equal(back[3] & 0xf, MD_RCODE_SERVFAIL);
	assert_true(has_text(back, backlen, "forwarding loop probe"));
	assert_int_equal(nsent, 2);

	assert_true(md_server_loop_not_ready(srv, why, sizeof(why)));
	assert_non_null(strstr(why,
	    "forwarding loop: zone loop.test. via "
	    "127.0.0.1"));
	md_server_loop_zones(srv, gauge_cb, &g);
	assert_int_equal(g.loop, 1);
	assert_int_equal(g.ok, 0);

	/* Names in the looped zone: SERVFAIL at once, with the EDE text;
	 * in the other zone: resolved as ever. */
	n = ask("www.loop.test.", MD_TYPE_A, out, sizeof(out));
	assert_true(n > 12);
	assert_int_equal(out[3] & 0xf, MD_RCODE_SERVFAIL);
	assert_true(has_text(out, n, "forwarding loop"));
	assert_int_equal(ask("www.ok.test.", MD_TYPE_A, out, sizeof(out)), 0);
	assert_int_equal(nsent, 3);
	/* Another server's probe (HINFO) still goes round. */
	assert_int_equal(
	    ask("1.2.loop.test.", MD_TYPE_HINFO, out, sizeof(out)), 0);
	assert_int_equal(nsent, 4);
	assert_true(to_self(&sent[3]));
	sent[3].open = false;
	play(NULL, NULL);

	md_server_free(srv);
	event_base_free(base);
}

static void
reload_clears(void **state)
{
	uint8_t out[MD_WIRE_MAX];
	char why[256];
	struct gauge g = {-1, -1};
	struct md_config *c;

	(void)state;
	setup_server();
	md_server_loop_start(srv);
	assert_int_equal(play(NULL, NULL), 1);
	assert_true(md_server_loop_not_ready(srv, why, sizeof(why)));

	/* The same forward zones: nothing probed again, still looped. */
	c = config("127.0.0.1");
	md_server_update(srv, c);
	md_config_unref(c);
	assert_int_equal(nsent, 2);
	assert_true(md_server_loop_not_ready(srv, why, sizeof(why)));

	/* loop.test. now forwarded elsewhere: probed again, no loop. */
	c = config("127.0.0.3");
	md_server_update(srv, c);
	md_config_unref(c);
	assert_int_equal(nsent, 4);
	assert_int_equal(play(NULL, NULL), 0);
	assert_false(md_server_loop_not_ready(srv, why, sizeof(why)));
	md_server_loop_zones(srv, gauge_cb, &g);
	assert_int_equal(g.loop, 0);
	assert_int_equal(g.ok, 0);
	assert_int_equal(ask("www.loop.test.", MD_TYPE_A, out, sizeof(out)), 0);

	md_server_free(srv);
	event_base_free(base);
}

static void
off_switch(void **state)
{
	struct md_config *c = md_config_new();
	char err[256], why[256];
	const char *text = "threads: 1\nallow-private-upstreams: yes\n"
			   "loop-detect: no\nzones: []\nforward:\n"
			   "  - zone: loop.test\n    servers: [ 127.0.0.1 ]\n";

	(void)state;
	assert_int_equal(md_config_load_text(
			     c, "test", text, strlen(text), err, sizeof(err)),
	    0);
	assert_int_equal(md_config_finish(c, err, sizeof(err)), 0);
	assert_false(c->loop_detect);
	base = event_base_new();
	srv = md_server_new(base, c);
	assert_non_null(srv);
	md_config_unref(c);
	srv->w[0]->transport.send = fake_send;
	srv->w[0]->transport.cancel = fake_cancel;
	srv->w[0]->transport.timer = NULL;
	srv->w[0]->transport.timer_cancel = NULL;
	nsent = 0;
	md_server_loop_start(srv);
	assert_int_equal(nsent, 0);
	assert_false(md_server_loop_not_ready(srv, why, sizeof(why)));
	md_server_free(srv);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loop_found),
	    cmocka_unit_test(reload_clears),
	    cmocka_unit_test(off_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
