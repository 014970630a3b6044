/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_xfr.c - AXFR and IXFR as dig runs them: one TCP connection, the
 * query, then DNS messages read until the transfer's closing SOA
 * (RFC 5936 §2.2, RFC 1995 §4), each message's answer records printed
 * as it comes, then dig's statistics with the XFR size line.
 *
 * A plain blocking client with poll() timeouts: a transfer is one
 * stream read to its end, nothing else runs meanwhile.  Not here: the
 * single-message exchange (tool_common.c over src/net/).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dig_xfr.h"
#include "minidns/util.h"
#include "minidns/wire.h"

/* Where we are in the stream of records (RFC 1995 §4). */
enum xfr_state {
	XFR_FIRST,    /* expecting the opening SOA */
	XFR_SECOND,   /* what follows it says AXFR or IXFR form */
	XFR_AXFR,     /* records until the SOA again */
	XFR_IXFR_DEL, /* a difference sequence: deletions */
	XFR_IXFR_ADD, /* ... then additions */
	XFR_DONE,
};

struct xfr {
	const struct md_dig_xfr_opts *o;
	int fd;
	enum xfr_state state;
	uint32_t serial; /* of the opening SOA: the zone's new serial */
	unsigned records, messages;
	size_t bytes;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for 'events'; 0, -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int
connect_to(const struct md_dig_xfr_opts *o)
{
	const struct md_sockaddr *sa = &o->server->addr;
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	fd = socket(sa->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (o->source != NULL &&
	    bind(fd, (const struct sockaddr *)&o->source->ss, o->source->len) !=
		0)
		goto fail;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&sa->ss, sa->len) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		rc = wait_fd(fd, POLLOUT, o->timeout_ms);
		if (rc != 0) {
			close(fd);
			return rc;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			goto fail;
		if (err != 0) {
			close(fd);
			return -err;
		}
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Exactly n bytes, each wait bounded; 0, -ETIMEDOUT, -ENODATA (EOF). */
static int
read_full(int fd, uint8_t *buf, size_t n, int timeout_ms)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;
		int rc = wait_fd(fd, POLLIN, timeout_ms);

		if (rc != 0)
			return rc;
		r = read(fd, buf + got, n - got);
		if (r == 0)
			return -ENODATA;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const uint8_t *buf, size_t n, int timeout_ms)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w;
		int rc = wait_fd(fd, POLLOUT, timeout_ms);

		if (rc != 0)
			return rc;
		w = write(fd, buf + done, n - done);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		done += (size_t)w;
	}
	return 0;
}

/* RFC 1982: is a at or before b? */
static bool
serial_le(uint32_t a, uint32_t b)
{
	return a == b || (int32_t)(b - a) > 0;
}

static uint32_t
soa_serial(const ldns_rr *rr)
{
	const ldns_rdf *f = ldns_rr_rdf(rr, 2);

	return f != NULL ? ldns_rdf2native_int32(f) : 0;
}

/* Move the state machine on by one answer record. */
static void
step(struct xfr *x, const ldns_rr *rr)
{
	bool soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;
	const struct md_tool_query *q = x->o->query;

	switch (x->state) {
	case XFR_FIRST:
		x->serial = soa_serial(rr);
		x->state = XFR_SECOND;
		/* RFC 1995 §2: the client is up to date, one SOA. */
		if (q->qtype == MD_TYPE_IXFR &&
		    serial_le(x->serial, q->ixfr_serial))
			x->state = XFR_DONE;
		break;
	case XFR_SECOND:
		if (soa && q->qtype == MD_TYPE_IXFR)
			x->state = XFR_IXFR_DEL;
		else
			x->state = soa ? XFR_DONE : XFR_AXFR;
		break;
	case XFR_AXFR:
		if (soa)
			x->state = XFR_DONE;
		break;
	case XFR_IXFR_DEL:
		if (soa)
			x->state = XFR_IXFR_ADD;
		break;
	case XFR_IXFR_ADD:
		if (soa)
			x->state = soa_serial(rr) == x->serial ? XFR_DONE
							       : XFR_IXFR_DEL;
		break;
	case XFR_DONE:
		break;
	}
}

/*
 * One message of the transfer: checked, its records printed.  Returns 1
 * to go on, 0 when the transfer is complete, -1 when it failed.
 */
static int
message(struct xfr *x, const uint8_t *msg, size_t len, uint16_t id)
{
	const struct md_dig_style *st = x->o->style;
	bool whole = st->yaml || st->json || x->o->comments;
	ldns_rr_list *an;
	ldns_pkt *pkt = NULL;
	bool drop_soa = false;
	int rc = 1;

	if (len < MD_WIRE_HDR_LEN || md_read_u16(msg) != id ||
	    ldns_wire2pkt(&pkt, msg, len) != LDNS_STATUS_OK ||
	    ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
		ldns_pkt_free(pkt);
		return -1;
	}
	x->messages++;
	x->bytes += len;
	an = ldns_pkt_answer(pkt);
	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (x->state == XFR_FIRST &&
		    ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) {
			rc = -1;
			break;
		}
		step(x, rr);
		x->records++;
		drop_soa = x->o->onesoa && x->state == XFR_DONE &&
		    x->records > 1 && i + 1 == ldns_rr_list_rr_count(an);
		if (st->answer && !whole &&
		    !(x->o->onesoa && x->state == XFR_DONE && x->records > 1))
			md_dig_print_rr(st, rr);
		if (x->state == XFR_DONE) {
			rc = 0;
			break;
		}
	}
	if (rc >= 0 && whole) {
		/* One header (document, object) per message, as dig. */
		struct md_tool_exchange ex = {.server = x->o->server,
		    .query = x->o->query,
		    .used_tcp = true,
		    .reply = (uint8_t *)(uintptr_t)msg,
		    .reply_len = len};
		struct md_dig_style one = *st;

		if (drop_soa)
			ldns_rr_free(ldns_rr_list_pop_rr(an));
		/* dig shows the records only, no question or OPT. */
		one.question = false;
		one.stats = one.identify = false;
		one.xfr = true;
		md_dig_print_reply(&one, &ex, pkt);
	}
	/* RFC 1995 §4: one SOA alone in an IXFR reply ends it. */
	if (rc == 1 && x->state == XFR_SECOND &&
	    x->o->query->qtype == MD_TYPE_IXFR)
		rc = 0;
	if (rc == 1 && x->records == 0)
		rc = -1;
	ldns_pkt_free(pkt);
	return rc;
}

static void
print_stats(const struct xfr *x, uint64_t ms)
{
	const struct md_tool_server *srv = x->o->server;
	time_t now = time(NULL);
	char when[64];
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Z %Y", &tm);
	printf(";; Query time: %llu msec\n", (unsigned long long)ms);
	printf(";; SERVER: %s#%u(%s) (TCP)\n", srv->host,
	    md_tool_server_port(srv), srv->name);
	printf(";; WHEN: %s\n", when);
	printf(";; XFR size: %u records (messages %u, bytes %zu)\n\n",
	    x->records, x->messages, x->bytes);
}

int
md_dig_xfr(const struct md_dig_xfr_opts *o)
{
	const struct md_tool_server *srv = o->server;
	uint8_t qbuf[MD_TOOL_QUERY_MAX + 2], *msg = NULL;
	struct xfr x = {.o = o, .fd = -1, .state = XFR_FIRST};
	size_t qlen = 0;
	uint64_t start;
	uint16_t id;
	int rc = 0, status = MD_TOOL_EXIT_OK;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id) ||
	    md_tool_query_wire(
		o->query, id, qbuf + 2, sizeof(qbuf) - 2, &qlen) != 0)
		return MD_TOOL_EXIT_INTERNAL;
	md_write_u16(qbuf, (uint16_t)qlen);
	for (int i = 0; i < (o->tries < 1 ? 1 : o->tries); i++) {
		x.fd = connect_to(o);
		if (x.fd >= 0)
			break;
		/* dig says this for every try, as for a TCP query. */
		printf(";; Connection to %s#%u(%s) for %s failed: %s.\n",
		    srv->host, md_tool_server_port(srv), srv->name,
		    o->display_name, md_tool_net_strerror(x.fd));
		printf(";; no servers could be reached\n");
	}
	if (x.fd < 0)
		return MD_TOOL_EXIT_NOREPLY;
	if (o->greeting != NULL)
		fputs(o->greeting, stdout);
	msg = malloc(65535);
	if (msg == NULL) {
		status = MD_TOOL_EXIT_INTERNAL;
		goto cleanup;
	}
	start = now_ms();
	rc = write_full(x.fd, qbuf, qlen + 2, o->timeout_ms);
	while (rc == 0) {
		uint8_t lenbuf[2];
		size_t len;
		int more;

		rc = read_full(x.fd, lenbuf, 2, o->timeout_ms);
		if (rc != 0)
			break;
		len = md_read_u16(lenbuf);
		rc = read_full(x.fd, msg, len, o->timeout_ms);
		if (rc != 0)
			break;
		more = message(&x, msg, len, id);
		if (more < 0) {
			printf("; Transfer failed.\n");
			goto cleanup;
		}
		if (more == 0)
			break;
	}
	if (rc != 0) {
		printf(";; communications error to %s#%u: %s\n", srv->host,
		    md_tool_server_port(srv), md_tool_net_strerror(rc));
		if (x.messages == 0)
			status = MD_TOOL_EXIT_NOREPLY;
		goto cleanup;
	}
	if (o->style->stats && !o->style->short_form && !o->style->yaml &&
	    !o->style->json)
		print_stats(&x, now_ms() - start);
cleanup:
	fflush(stdout);
	free(msg);
	close(x.fd);
	return status;
}
