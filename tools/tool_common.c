/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tool_common.c - the plumbing minidig and mininslookup share: server
 * selection, query building, the UDP/TCP exchange with tries, deadlines,
 * reply matching and TC fallback, and presentation-form fields of an RR.
 *
 * The tools do their own blocking I/O here for now; when src/net/ exists
 * the exchange moves there and this file keeps only the printing helpers.
 * Output layout per tool lives in minidig.c and mininslookup.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

#define TAB_WIDTH 8

/* ---- servers ----------------------------------------------------------- */

static void
server_fill_host(struct md_tool_server *srv)
{
	if (getnameinfo((const struct sockaddr *)&srv->addr.ss, srv->addr.len,
		srv->host, sizeof(srv->host), NULL, 0, NI_NUMERICHOST) != 0)
		md_strlcpy(srv->host, "?", sizeof(srv->host));
}

int
md_tool_server_set(struct md_tool_server *srv, const char *name, uint16_t port)
{
	return md_tool_server_set_af(srv, name, port, AF_UNSPEC);
}

int
md_tool_server_set_af(
    struct md_tool_server *srv, const char *name, uint16_t port, int family)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	memset(srv, 0, sizeof(*srv));
	if (name == NULL || *name == '\0' ||
	    md_strlcpy(srv->name, name, sizeof(srv->name)) >= sizeof(srv->name))
		return MD_EPARSE;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		/* Not an address: a host name, looked up the system's way. */
		hints.ai_flags = AI_ADDRCONFIG;
		rc = getaddrinfo(name, NULL, &hints, &res);
		if (rc != 0)
			return MD_ENOTFOUND;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (srv->naddrs++ > 0)
			continue;
		memcpy(&srv->addr.ss, ai->ai_addr, ai->ai_addrlen);
		srv->addr.len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (srv->naddrs == 0)
		return MD_ENOTFOUND;
	md_tool_server_set_port(srv, port);
	server_fill_host(srv);
	return 0;
}

void
md_tool_server_set_port(struct md_tool_server *srv, uint16_t port)
{
	if (srv->addr.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&srv->addr.ss)->sin_port = htons(port);
	else if (srv->addr.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&srv->addr.ss)->sin6_port = htons(port);
}

uint16_t
md_tool_server_port(const struct md_tool_server *srv)
{
	if (srv->addr.ss.ss_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)&srv->addr.ss)->sin_port);
	if (srv->addr.ss.ss_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)&srv->addr.ss)->sin6_port);
	return 0;
}

int
md_tool_server_default(
    struct md_tool_server *srv, const char *path, uint16_t port)
{
	char line[512];
	FILE *fp = fopen(path, "r");

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		char *p = line, *addr, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "nameserver", 10) != 0 ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		addr = p + 10;
		while (*addr == ' ' || *addr == '\t')
			addr++;
		end = addr;
		while (*end != '\0' && !isspace((unsigned char)*end) &&
		    *end != '#' && *end != ';')
			end++;
		*end = '\0';
		/* Only numeric addresses: resolv.conf holds no names. */
		if (strchr(addr, ':') == NULL &&
		    strspn(addr, "0123456789.") != strlen(addr))
			continue;
		if (md_tool_server_set(srv, addr, port) == 0) {
			fclose(fp);
			return 0;
		}
	}
	if (fp != NULL)
		fclose(fp);
	/* resolv.conf(5): with no nameserver line, the local host. */
	md_tool_server_set(srv, "127.0.0.1", port);
	return 0;
}

/* ---- queries ----------------------------------------------------------- */

void
md_tool_query_init(struct md_tool_query *q)
{
	memset(q, 0, sizeof(*q));
	q->qname[0] = 0;
	q->qtype = MD_TYPE_A;
	q->qclass = MD_CLASS_IN;
	q->rd = true;
	q->edns = true;
	q->edns_size = MD_TOOL_EDNS_SIZE;
}

int
md_tool_query_set_name(struct md_tool_query *q, const char *name)
{
	uint8_t wire[MD_NAME_MAX];

	if (md_name_from_str(name, NULL, wire) < 0)
		return MD_EPARSE;
	memcpy(q->qname, wire, md_name_len(wire));
	return 0;
}

int
md_tool_reverse_name(const char *addr, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	size_t len = 0;
	int n;

	if (inet_pton(AF_INET, addr, a) == 1) {
		n = snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa.", a[3], a[2],
		    a[1], a[0]);
		return (n < 0 || (size_t)n >= size) ? MD_EPARSE : 0;
	}
	if (inet_pton(AF_INET6, addr, a) != 1)
		return MD_EPARSE;
	/* RFC 3596 §2.5: nibbles in reverse order under ip6.arpa. */
	if (size < 32 * 4 + sizeof("ip6.arpa."))
		return MD_EPARSE;
	for (int i = 15; i >= 0; i--) {
		out[len++] = hex[a[i] & 0xf];
		out[len++] = '.';
		out[len++] = hex[a[i] >> 4];
		out[len++] = '.';
	}
	md_strlcpy(out + len, "ip6.arpa.", size - len);
	return 0;
}

int
md_tool_type_parse(const char *s, uint16_t *type)
{
	ldns_rr_type t;
	long long v;

	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] != '\0') {
		if (md_parse_int(s + 4, 0, 65535, &v) != 0)
			return MD_EPARSE;
		*type = (uint16_t)v;
		return 0;
	}
	t = ldns_get_rr_type_by_name(s);
	if (t == 0)
		return MD_EPARSE;
	*type = (uint16_t)t;
	return 0;
}

int
md_tool_class_parse(const char *s, uint16_t *rclass)
{
	long long v;

	if (strcasecmp(s, "IN") == 0)
		*rclass = MD_CLASS_IN;
	else if (strcasecmp(s, "CH") == 0 || strcasecmp(s, "CHAOS") == 0)
		*rclass = MD_CLASS_CH;
	else if (strcasecmp(s, "HS") == 0)
		*rclass = 4;
	else if (strcasecmp(s, "ANY") == 0)
		*rclass = MD_CLASS_ANY;
	else if (strncasecmp(s, "CLASS", 5) == 0 &&
	    md_parse_int(s + 5, 0, 65535, &v) == 0)
		*rclass = (uint16_t)v;
	else
		return MD_EPARSE;
	return 0;
}

/* RFC 6891 §6.1.2: the OPT record, with the options asked for. */
static int
write_opt(struct md_wire_writer *w, const struct md_tool_query *q)
{
	static const uint8_t root[1] = {0};
	uint8_t rdata[32];
	uint16_t rdlen = 0;
	uint32_t ttl = (uint32_t)q->edns_version << 16;

	if (q->do_bit)
		ttl |= 0x8000;
	if (q->nsid) { /* RFC 5001 §2.3: empty in queries */
		md_write_u16(rdata + rdlen, 3);
		md_write_u16(rdata + rdlen + 2, 0);
		rdlen += 4;
	}
	if (q->cookie) { /* RFC 7873 §4.1: an 8-byte client cookie */
		md_write_u16(rdata + rdlen, 10);
		md_write_u16(rdata + rdlen + 2, 8);
		if (getrandom(rdata + rdlen + 4, 8, 0) != 8)
			return -EIO;
		rdlen += 12;
	}
	return md_wire_write_rr(w, MD_SECTION_ADDITIONAL, root, MD_TYPE_OPT,
	    q->edns_size, ttl, rdata, rdlen);
}

static int
build_query(const struct md_tool_query *q, uint16_t id, uint8_t *buf,
    size_t cap, size_t *len)
{
	struct md_wire_writer w;
	uint16_t flags = 0;
	int rc;

	if (q->rd)
		flags |= MD_FLAG_RD;
	if (q->ad)
		flags |= MD_FLAG_AD;
	if (q->cd)
		flags |= MD_FLAG_CD;
	md_wire_writer_init(&w, buf, cap);
	rc = md_wire_write_header(&w, id, flags);
	if (rc == 0)
		rc = md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	if (rc == 0 && q->edns)
		rc = write_opt(&w, q);
	if (rc != 0)
		return rc;
	*len = md_wire_writer_finish(&w);
	return 0;
}

/* ---- the exchange ------------------------------------------------------ */

/* EOF on a TCP stream before a whole reply: BIND says "end of file". */
#define ERR_EOF (-ENODATA)

const char *
md_tool_net_strerror(int err)
{
	switch (-err) {
	case ETIMEDOUT:
		return "timed out";
	case ECONNREFUSED:
		return "connection refused";
	case ENETUNREACH:
		return "network unreachable";
	case EHOSTUNREACH:
		return "host unreachable";
	case ECONNRESET:
		return "connection reset";
	case ENODATA:
		return "end of file";
	case EADDRNOTAVAIL:
		return "address not available";
	default:
		return strerror(-err);
	}
}

/*
 * RFC 5452 §9.1 and our ARCHITECTURE's "never trust the wire": a reply
 * counts only with our ID, QR set and our question.  A reply without a
 * question is accepted only when it is an error or truncated, as servers
 * may drop the question then (RFC 1035 leaves it open).
 */
static bool
reply_matches(
    const uint8_t *r, size_t rlen, uint16_t id, const struct md_tool_query *q)
{
	uint8_t name[MD_NAME_MAX];
	uint16_t flags, qd;
	size_t off = MD_WIRE_HDR_LEN;

	if (rlen < MD_WIRE_HDR_LEN || md_read_u16(r) != id)
		return false;
	flags = md_read_u16(r + 2);
	qd = md_read_u16(r + 4);
	if ((flags & MD_FLAG_QR) == 0)
		return false;
	if (qd == 0)
		return MD_RCODE(flags) != 0 || (flags & MD_FLAG_TC) != 0;
	if (qd != 1)
		return false;
	/*
	 * Our ID from the server asked, but the question is cut short: a
	 * malformed reply, taken as the answer (as dig does) so the caller
	 * reports it instead of waiting for a better one.
	 */
	if (md_name_read(r, rlen, &off, name) < 0 || off + 4 > rlen)
		return true;
	return md_name_equal(name, q->qname) &&
	    md_read_u16(r + off) == q->qtype &&
	    md_read_u16(r + off + 2) == q->qclass;
}

static int
remaining_ms(uint64_t deadline)
{
	uint64_t now = md_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for 'events' on fd until the deadline: 0, -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd;
	int n, ms;

	for (;;) {
		ms = remaining_ms(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* minidig -b: the client socket's source address (and port). */
static int
bind_source(const struct md_tool_exchange *ex, int fd)
{
	int one = 1;

	if (ex->source == NULL)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind(
	    fd, (const struct sockaddr *)&ex->source->ss, ex->source->len);
}

static int
try_udp(struct md_tool_exchange *ex, const uint8_t *qbuf, size_t qlen,
    uint8_t *rbuf)
{
	const struct md_sockaddr *sa = &ex->server->addr;
	uint64_t start, deadline;
	ssize_t n;
	int fd, rc;

	fd = socket(sa->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind_source(ex, fd) != 0) {
		rc = -errno;
		goto cleanup;
	}
	/* connect(): the kernel then drops datagrams from other peers. */
	if (connect(fd, (const struct sockaddr *)&sa->ss, sa->len) != 0) {
		rc = -errno;
		goto cleanup;
	}
	start = md_now_ms();
	deadline = start + (uint64_t)ex->timeout_ms;
	if (send(fd, qbuf, qlen, 0) < 0) {
		rc = -errno;
		goto cleanup;
	}
	for (;;) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc != 0)
			goto cleanup;
		n = recv(fd, rbuf, MD_WIRE_MAX, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = -errno;
			goto cleanup;
		}
		if (ex->warn_short && n < MD_WIRE_HDR_LEN)
			printf(";; Warning: short (< header size) message "
			       "received\n");
		if (!reply_matches(rbuf, (size_t)n, ex->id, ex->query))
			continue;
		ex->rtt_ms = md_now_ms() - start;
		ex->reply_len = (size_t)n;
		rc = 0;
		goto cleanup;
	}
cleanup:
	close(fd);
	return rc;
}

/* Read exactly len bytes from a non-blocking stream before the deadline. */
static int
read_full(int fd, uint8_t *buf, size_t len, uint64_t deadline)
{
	size_t got = 0;
	ssize_t n;
	int rc;

	while (got < len) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc != 0)
			return rc;
		n = read(fd, buf + got, len - got);
		if (n == 0)
			return ERR_EOF;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
write_full(int fd, const uint8_t *buf, size_t len, uint64_t deadline)
{
	size_t done = 0;
	ssize_t n;
	int rc;

	while (done < len) {
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc != 0)
			return rc;
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * Open a TCP connection to the server before the deadline.  Returns 0
 * with *fdp set, or a negative errno (ex->tcp_connect_failed says whether
 * the connect itself was refused or unreachable).
 */
static int
tcp_connect(struct md_tool_exchange *ex, uint64_t deadline, int *fdp)
{
	const struct md_sockaddr *sa = &ex->server->addr;
	socklen_t elen = sizeof(int);
	int fd, rc = 0, soerr = 0;

	ex->tcp_connect_failed = false;
	fd = socket(
	    sa->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind_source(ex, fd) != 0) {
		rc = -errno;
		goto cleanup;
	}
	if (connect(fd, (const struct sockaddr *)&sa->ss, sa->len) != 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			ex->tcp_connect_failed = true;
			goto cleanup;
		}
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) != 0)
			rc = -errno;
		if (rc == 0 && soerr != 0)
			rc = -soerr;
		if (rc != 0) {
			ex->tcp_connect_failed = rc != -ETIMEDOUT;
			goto cleanup;
		}
	}
	*fdp = fd;
	return 0;
cleanup:
	close(fd);
	return rc;
}

static int
try_tcp(struct md_tool_exchange *ex, const uint8_t *qbuf, size_t qlen,
    uint8_t *rbuf)
{
	uint8_t frame[2 + MD_TOOL_QUERY_MAX];
	uint64_t start, deadline;
	int fd = -1, rc;
	uint16_t len = 0;

	start = md_now_ms();
	deadline = start + (uint64_t)ex->timeout_ms;
	rc = tcp_connect(ex, deadline, &fd);
	if (rc != 0)
		return rc;
	/* RFC 1035 §4.2.2: two-byte length, then the message. */
	md_write_u16(frame, (uint16_t)qlen);
	memcpy(frame + 2, qbuf, qlen);
	rc = write_full(fd, frame, qlen + 2, deadline);
	if (rc != 0)
		goto cleanup;
	for (;;) {
		uint8_t lenbuf[2];

		rc = read_full(fd, lenbuf, 2, deadline);
		if (rc == 0) {
			len = md_read_u16(lenbuf);
			rc = read_full(fd, rbuf, len, deadline);
		}
		if (rc != 0)
			goto cleanup;
		if (reply_matches(rbuf, len, ex->id, ex->query))
			break;
	}
	ex->rtt_ms = md_now_ms() - start;
	ex->reply_len = len;
cleanup:
	close(fd);
	return rc;
}

/* ---- DNS over TLS (RFC 7858) ------------------------------------------- */

static void
tls_set_error(struct md_tool_exchange *ex, SSL *ssl, const char *what)
{
	unsigned long e = ERR_get_error();
	long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK)
		snprintf(ex->tls_error, sizeof(ex->tls_error),
		    "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	else if (e != 0)
		snprintf(ex->tls_error, sizeof(ex->tls_error), "%s: %s", what,
		    ERR_reason_error_string(e) != NULL
			? ERR_reason_error_string(e)
			: "unknown error");
	else
		snprintf(ex->tls_error, sizeof(ex->tls_error), "%s", what);
	ERR_clear_error();
}

/*
 * One TLS step on a non-blocking socket: call op until it is done or the
 * deadline passes.  Returns bytes moved (or 1 for the handshake), or a
 * negative error: -ETIMEDOUT, ERR_EOF, MD_TOOL_ETLS.
 */
enum tls_op { TLS_HANDSHAKE, TLS_READ, TLS_WRITE };

static int
tls_step(struct md_tool_exchange *ex, SSL *ssl, int fd, enum tls_op op,
    void *buf, size_t len, uint64_t deadline)
{
	for (;;) {
		size_t done = 0;
		int n, err, rc;

		ERR_clear_error();
		if (op == TLS_HANDSHAKE)
			n = SSL_connect(ssl);
		else if (op == TLS_READ)
			n = SSL_read_ex(ssl, buf, len, &done) == 1 ? (int)done
								   : -1;
		else
			n = SSL_write_ex(ssl, buf, len, &done) == 1 ? (int)done
								    : -1;
		if (n > 0)
			return n;
		err = SSL_get_error(ssl, n);
		if (err == SSL_ERROR_WANT_READ)
			rc = wait_fd(fd, POLLIN, deadline);
		else if (err == SSL_ERROR_WANT_WRITE)
			rc = wait_fd(fd, POLLOUT, deadline);
		else if (err == SSL_ERROR_ZERO_RETURN)
			return ERR_EOF;
		else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			return errno != 0 ? -errno : ERR_EOF;
		else {
			tls_set_error(ex, ssl,
			    op == TLS_HANDSHAKE ? "handshake failed"
						: "TLS error");
			return MD_TOOL_ETLS;
		}
		if (rc != 0)
			return rc;
	}
}

static int
tls_read_full(struct md_tool_exchange *ex, SSL *ssl, int fd, uint8_t *buf,
    size_t len, uint64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		int n = tls_step(
		    ex, ssl, fd, TLS_READ, buf + got, len - got, deadline);

		if (n < 0)
			return n;
		got += (size_t)n;
	}
	return 0;
}

/*
 * Like dig 9.18: no certificate check unless asked (opportunistic
 * privacy, RFC 7858 §4.1); with tls_verify, the chain against tls_ca or
 * the system store and the name against tls_hostname (RFC 8310 §8).
 */
static SSL_CTX *
tls_context(struct md_tool_exchange *ex)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		tls_set_error(ex, NULL, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (!ex->tls_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ex->tls_ca != NULL &&
		SSL_CTX_load_verify_locations(ctx, ex->tls_ca, NULL) != 1) ||
	    (ex->tls_ca == NULL &&
		SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		tls_set_error(ex, NULL, "cannot load the CA certificates");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
try_tls(struct md_tool_exchange *ex, const uint8_t *qbuf, size_t qlen,
    uint8_t *rbuf)
{
	uint8_t frame[2 + MD_TOOL_QUERY_MAX], lenbuf[2];
	const char *host =
	    ex->tls_hostname != NULL ? ex->tls_hostname : ex->server->name;
	uint64_t start, deadline;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1, rc;
	uint16_t len = 0;

	ex->tls_error[0] = '\0';
	start = md_now_ms();
	deadline = start + (uint64_t)ex->timeout_ms;
	rc = tcp_connect(ex, deadline, &fd);
	if (rc != 0)
		return rc;
	rc = MD_TOOL_ETLS;
	ctx = tls_context(ex);
	if (ctx == NULL)
		goto cleanup;
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		tls_set_error(ex, ssl, "cannot set up TLS");
		goto cleanup;
	}
	/* SNI only for names: RFC 6066 §3 forbids literal addresses. */
	if (strspn(host, "0123456789.:abcdefABCDEF") != strlen(host))
		SSL_set_tlsext_host_name(ssl, host);
	if (ex->tls_verify) {
		struct in6_addr a6;
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) == 1 ||
		    inet_pton(AF_INET6, host, &a6) == 1)
			rc = X509_VERIFY_PARAM_set1_ip_asc(
				 SSL_get0_param(ssl), host) == 1
			    ? 0
			    : MD_TOOL_ETLS;
		else
			rc = SSL_set1_host(ssl, host) == 1 ? 0 : MD_TOOL_ETLS;
		if (rc != 0) {
			tls_set_error(ex, ssl, "bad TLS host name");
			goto cleanup;
		}
	}
	rc = tls_step(ex, ssl, fd, TLS_HANDSHAKE, NULL, 0, deadline);
	if (rc < 0)
		goto cleanup;
	md_write_u16(frame, (uint16_t)qlen);
	memcpy(frame + 2, qbuf, qlen);
	rc = tls_step(ex, ssl, fd, TLS_WRITE, frame, qlen + 2, deadline);
	if (rc < 0)
		goto cleanup;
	for (;;) {
		rc = tls_read_full(ex, ssl, fd, lenbuf, 2, deadline);
		if (rc == 0) {
			len = md_read_u16(lenbuf);
			rc = tls_read_full(ex, ssl, fd, rbuf, len, deadline);
		}
		if (rc != 0)
			goto cleanup;
		if (reply_matches(rbuf, len, ex->id, ex->query))
			break;
	}
	ex->rtt_ms = md_now_ms() - start;
	ex->reply_len = len;
	rc = 0;
cleanup:
	if (ssl != NULL && rc == 0)
		(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc < 0 ? rc : 0;
}

static void
report_failure(const struct md_tool_exchange *ex, bool tcp, int err)
{
	const struct md_tool_server *srv = ex->server;
	unsigned port = md_tool_server_port(srv);

	if (err == MD_TOOL_ETLS) {
		printf(";; TLS handshake with %s#%u(%s) failed: %s\n",
		    srv->host, port, srv->name, ex->tls_error);
		return;
	}
	if (tcp && ex->tcp_connect_failed) {
		/* dig 9.18 says this, and gives up on this try at once. */
		printf(";; Connection to %s#%u(%s) for %s failed: %s.\n",
		    srv->host, port, srv->name,
		    ex->display_name != NULL ? ex->display_name : "",
		    md_tool_net_strerror(err));
		printf(";; no servers could be reached\n");
		return;
	}
	printf(";; communications error to %s#%u: %s\n", srv->host, port,
	    md_tool_net_strerror(err));
}

int
md_tool_exchange(struct md_tool_exchange *ex)
{
	uint8_t qbuf[MD_TOOL_QUERY_MAX];
	size_t qlen = 0;
	bool tcp = ex->tcp || ex->tls;
	int rc = -ETIMEDOUT, tries = ex->tries < 1 ? 1 : ex->tries;

	ex->reply = NULL;
	ex->reply_len = 0;
	ex->error = 0;
	ex->used_tcp = false;
	/* RFC 5452 §4.3: an unpredictable ID. */
	if (getrandom(&ex->id, sizeof(ex->id), 0) != sizeof(ex->id))
		return -errno;
	if (build_query(ex->query, ex->id, qbuf, sizeof(qbuf), &qlen) != 0)
		return MD_EPARSE;
	ex->reply = malloc(MD_WIRE_MAX);
	if (ex->reply == NULL)
		return -ENOMEM;
	for (int i = 0; i < tries; i++) {
		if (ex->tls)
			rc = try_tls(ex, qbuf, qlen, ex->reply);
		else if (tcp)
			rc = try_tcp(ex, qbuf, qlen, ex->reply);
		else
			rc = try_udp(ex, qbuf, qlen, ex->reply);
		if (rc == 0 && !tcp &&
		    (md_read_u16(ex->reply + 2) & MD_FLAG_TC) != 0) {
			/* RFC 7766 §5: truncated over UDP, ask over TCP. */
			if (ex->tc_notice)
				printf(";; Truncated, retrying in TCP mode.\n");
			tcp = true;
			i = -1;
			continue;
		}
		if (rc == 0) {
			ex->used_tcp = tcp;
			return 0;
		}
		if (rc == -ENOMEM)
			break;
		report_failure(ex, tcp, rc);
		/* A certificate will not get better by asking again. */
		if (rc == MD_TOOL_ETLS)
			break;
	}
	ex->error = rc;
	ex->used_tcp = tcp;
	return rc;
}

void
md_tool_exchange_deinit(struct md_tool_exchange *ex)
{
	free(ex->reply);
	ex->reply = NULL;
	ex->reply_len = 0;
}

/* ---- presentation form ------------------------------------------------- */

/*
 * A domain name as BIND prints it: the characters special in master files
 * escaped with a backslash, anything outside printable ASCII as \DDD.
 * ldns escapes a slightly different set, and the tools must match dig.
 */
static char *
name_text(const ldns_rdf *rdf)
{
	const uint8_t *p = ldns_rdf_data(rdf);
	size_t size = ldns_rdf_size(rdf), pos = 0, out = 0;
	char *s = malloc(MD_NAME_STRLEN + 8);

	if (s == NULL)
		return NULL;
	if (size == 0 || p[0] == 0) {
		md_strlcpy(s, ".", MD_NAME_STRLEN);
		return s;
	}
	while (pos < size && p[pos] != 0 && out < MD_NAME_STRLEN) {
		uint8_t llen = p[pos++];

		for (uint8_t i = 0; i < llen && pos < size; i++) {
			uint8_t c = p[pos++];

			if (strchr("\"().;\\@$", c) != NULL && c != 0) {
				s[out++] = '\\';
				s[out++] = (char)c;
			} else if (c > 0x20 && c < 0x7f) {
				s[out++] = (char)c;
			} else {
				snprintf(s + out, 5, "\\%03u", c);
				out += 4;
			}
		}
		s[out++] = '.';
	}
	s[out] = '\0';
	return s;
}

static char *
rdf_text(const ldns_rdf *rdf)
{
	char *s;

	if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME)
		return name_text(rdf);
	s = ldns_rdf2str(rdf);
	if (s == NULL)
		return NULL;
	switch (ldns_rdf_get_type(rdf)) {
	case LDNS_RDF_TYPE_HEX:
	case LDNS_RDF_TYPE_NSEC3_SALT:
	case LDNS_RDF_TYPE_B32_EXT:
	case LDNS_RDF_TYPE_UNKNOWN:
		/* BIND prints hex and base32hex in upper case. */
		for (char *c = s; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		break;
	default:
		break;
	}
	return s;
}

static char *
rdata_text(const ldns_rr *rr)
{
	size_t cap = 64, len = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		char *f = rdf_text(ldns_rr_rdf(rr, i));
		size_t flen;

		if (f == NULL)
			goto fail;
		flen = strlen(f);
		if (len + flen + 2 > cap) {
			char *bigger;

			while (len + flen + 2 > cap)
				cap *= 2;
			bigger = realloc(out, cap);
			if (bigger == NULL) {
				free(f);
				goto fail;
			}
			out = bigger;
		}
		if (i > 0)
			out[len++] = ' ';
		memcpy(out + len, f, flen + 1);
		len += flen;
		free(f);
	}
	return out;
fail:
	free(out);
	return NULL;
}

int
md_tool_rr_text(const ldns_rr *rr, bool question, struct md_tool_rr_text *t)
{
	char ttl[16];

	memset(t, 0, sizeof(*t));
	snprintf(ttl, sizeof(ttl), "%u", (unsigned)ldns_rr_ttl(rr));
	t->owner = ldns_rr_owner(rr) != NULL ? name_text(ldns_rr_owner(rr))
					     : strdup(".");
	t->ttl = strdup(question ? "" : ttl);
	t->rclass = ldns_rr_class2str(ldns_rr_get_class(rr));
	t->type = ldns_rr_type2str(ldns_rr_get_type(rr));
	t->rdata = question ? strdup("") : rdata_text(rr);
	if (t->owner == NULL || t->ttl == NULL || t->rclass == NULL ||
	    t->type == NULL || t->rdata == NULL) {
		md_tool_rr_text_free(t);
		return -ENOMEM;
	}
	return 0;
}

void
md_tool_rr_text_free(struct md_tool_rr_text *t)
{
	free(t->owner);
	free(t->ttl);
	free(t->rclass);
	free(t->type);
	free(t->rdata);
	memset(t, 0, sizeof(*t));
}

/* BIND's master-file indenting (lib/dns/masterdump.c keeps columns). */
static void
indent(FILE *fp, unsigned *col, unsigned to)
{
	unsigned from = *col, ntabs;

	if (to < from + 1)
		to = from + 1;
	ntabs = to / TAB_WIDTH - from / TAB_WIDTH;
	if (ntabs > 0) {
		for (unsigned i = 0; i < ntabs; i++)
			fputc('\t', fp);
		from = (to / TAB_WIDTH) * TAB_WIDTH;
	}
	for (; from < to; from++)
		fputc(' ', fp);
	*col = to;
}

static void
field(FILE *fp, unsigned *col, const char *s)
{
	fputs(s, fp);
	*col += (unsigned)strlen(s);
}

int
md_tool_print_rr_dig(FILE *fp, const ldns_rr *rr, bool question)
{
	struct md_tool_rr_text t;
	unsigned col = 0;

	if (md_tool_rr_text(rr, question, &t) != 0)
		return -ENOMEM;
	/* dig's ';' before a question is not counted in the columns. */
	if (question)
		fputc(';', fp);
	field(fp, &col, t.owner);
	if (!question) {
		indent(fp, &col, 24);
		field(fp, &col, t.ttl);
	}
	indent(fp, &col, 32);
	field(fp, &col, t.rclass);
	indent(fp, &col, 40);
	field(fp, &col, t.type);
	if (!question) {
		indent(fp, &col, 48);
		field(fp, &col, t.rdata);
	}
	fputc('\n', fp);
	md_tool_rr_text_free(&t);
	return 0;
}

void
md_tool_name_nodot(char *name)
{
	size_t len = strlen(name);

	/* Keep an escaped final dot ("a\.") and the root name. */
	if (len > 1 && name[len - 1] == '.' && name[len - 2] != '\\')
		name[len - 1] = '\0';
}
