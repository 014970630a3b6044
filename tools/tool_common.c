/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tool_common.c - the plumbing minidig and mininslookup share: server
 * selection, query building, the exchange as dig runs it (tries, a
 * timeout per try, TC fallback to TCP, DNS over TLS, dig's error lines),
 * and presentation-form fields of an RR.
 *
 * The exchange does no I/O of its own: each try is one md_net_send_opts()
 * on a private event base that runs until the try ends, so the tools and
 * the server share one DNS client stack (src/net/: sockets, reply
 * matching, TLS) and one TLS set-up (md_tls_client_ctx_new()).  Output
 * layout per tool lives in minidig.c and mininslookup.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/ssl.h>

#include "minidns/net.h"
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
	md_tool_servers_default(srv, 1, path, port);
	return 0;
}

unsigned
md_tool_servers_default(
    struct md_tool_server *srv, unsigned max, const char *path, uint16_t port)
{
	char line[512];
	FILE *fp = fopen(path, "r");
	unsigned n = 0;

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
		if (n < max && md_tool_server_set(&srv[n], addr, port) == 0)
			n++;
	}
	if (fp != NULL)
		fclose(fp);
	if (n > 0)
		return n;
	/* resolv.conf(5): with no nameserver line, the local host. */
	md_tool_server_set(srv, "127.0.0.1", port);
	return 1;
}

/* The blank-separated words after a resolv.conf keyword, one by one. */
static char *
resolv_word(char **p)
{
	char *w = *p, *e;

	w += strspn(w, " \t\r\n");
	if (*w == '\0' || *w == '#' || *w == ';')
		return NULL;
	e = w + strcspn(w, " \t\r\n");
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return w;
}

int
md_tool_resolv_read(struct md_tool_resolv *rc, const char *path)
{
	char line[1024];
	FILE *fp = fopen(path, "r");

	memset(rc, 0, sizeof(*rc));
	rc->ndots = 1;
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		char *p = line, *key = resolv_word(&p), *w;

		if (key == NULL)
			continue;
		if (strcmp(key, "domain") == 0 || strcmp(key, "search") == 0) {
			/* The last "domain" or "search" line wins. */
			rc->nsearch = 0;
			while ((w = resolv_word(&p)) != NULL &&
			    rc->nsearch < MD_TOOL_SEARCH_MAX) {
				char *d = rc->search[rc->nsearch];

				md_strlcpy(d, w, MD_NAME_STRLEN);
				md_tool_name_nodot(d);
				if (strcmp(d, ".") != 0)
					rc->nsearch++;
			}
		} else if (strcmp(key, "options") == 0) {
			while ((w = resolv_word(&p)) != NULL) {
				long long n;

				if (strncmp(w, "ndots:", 6) == 0 &&
				    md_parse_int(w + 6, 0, 255, &n) == 0)
					rc->ndots = (unsigned)n;
			}
		}
	}
	if (fp != NULL)
		fclose(fp);
	return 0;
}

unsigned
md_tool_search_names(const char *name, const struct md_tool_resolv *rc,
    char out[][MD_NAME_STRLEN], unsigned max)
{
	size_t len = strlen(name);
	unsigned dots = 0, n = 0;

	if (max == 0)
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if (*p == '.' && p[1] != '\0')
			dots++;
	if (len > 0 && name[len - 1] != '.' && dots < rc->ndots) {
		for (unsigned i = 0; i < rc->nsearch && n + 1 < max; i++) {
			int w = snprintf(out[n], MD_NAME_STRLEN, "%s.%s.", name,
			    rc->search[i]);

			if (w > 0 && w < MD_NAME_STRLEN)
				n++;
		}
	}
	md_strlcpy(out[n], name, MD_NAME_STRLEN);
	return n + 1;
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

const char *
md_tool_name_error(const char *s)
{
	size_t total = 1, label = 0; /* the root label's byte */

	if (strcmp(s, ".") == 0)
		return NULL;
	for (const char *p = s; *p != '\0';) {
		if (*p == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
			p++;
			continue;
		}
		if (*p == '\\') {
			p++;
			if (*p == '\0')
				return "unexpected end of input";
			if (isdigit((unsigned char)*p)) {
				/* RFC 1035 §5.1: \DDD, a byte in decimal;
				 * BIND reads it a character at a time. */
				for (int k = 1; k <= 2; k++) {
					if (p[k] == '\0')
						return "unexpected end of input";
					if (!isdigit((unsigned char)p[k]))
						return "bad escape";
				}
				if ((p[0] - '0') * 100 + (p[1] - '0') * 10 +
					(p[2] - '0') >
				    255)
					return "bad escape";
				p += 2;
			}
		}
		p++;
		if (++label > 63)
			return "label too long";
		/* RFC 1035 §3.1: 255 octets, length bytes included. */
		if (label == 1)
			total++;
		if (++total > MD_NAME_MAX)
			return "ran out of space";
	}
	return NULL;
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

/* One EDNS option into rdata[cap] at *len; false when it does not fit. */
static bool
put_option(uint8_t *rdata, size_t cap, uint16_t *len, uint16_t code,
    const uint8_t *val, uint16_t vlen)
{
	if ((size_t)*len + 4 + vlen > cap)
		return false;
	md_write_u16(rdata + *len, code);
	md_write_u16(rdata + *len + 2, vlen);
	if (vlen > 0)
		memcpy(rdata + *len + 4, val, vlen);
	*len = (uint16_t)(*len + 4 + vlen);
	return true;
}

/* RFC 6891 §6.1.2: the OPT record, with the options asked for. */
static int
write_opt(
    struct md_wire_writer *w, const struct md_tool_query *q, size_t msglen)
{
	static const uint8_t root[1] = {0};
	uint8_t rdata[512], cookie[8], ecs[20];
	uint16_t rdlen = 0;
	uint32_t ttl = (uint32_t)q->edns_version << 16;
	size_t cap = sizeof(rdata);

	if (q->do_bit)
		ttl |= 0x8000;
	ttl |= q->ednsflags & 0x7fff;
	if (q->nsid) /* RFC 5001 §2.3: empty in queries */
		put_option(rdata, cap, &rdlen, 3, NULL, 0);
	if (q->subnet) { /* RFC 7871 §6: family, prefixes, address bytes */
		uint16_t n = (uint16_t)((q->subnet_prefix + 7) / 8);

		md_write_u16(ecs, q->subnet_family);
		ecs[2] = q->subnet_prefix;
		ecs[3] = 0;
		memcpy(ecs + 4, q->subnet_addr, n);
		put_option(rdata, cap, &rdlen, 8, ecs, (uint16_t)(4 + n));
	}
	if (q->expire) /* RFC 7314 §2: empty in queries */
		put_option(rdata, cap, &rdlen, 9, NULL, 0);
	if (q->cookie) { /* RFC 7873 §4.1: an 8-byte client cookie */
		if (getrandom(cookie, sizeof(cookie), 0) != sizeof(cookie))
			return -EIO;
		put_option(rdata, cap, &rdlen, 10, cookie, sizeof(cookie));
	}
	if (q->keepalive) /* RFC 7828 §3.2.1: empty from a client */
		put_option(rdata, cap, &rdlen, 11, NULL, 0);
	for (unsigned i = 0; i < q->nednsopt; i++)
		put_option(rdata, cap, &rdlen, q->ednsopt[i].code,
		    q->ednsopt[i].val, q->ednsopt[i].len);
	if (q->padding > 0) {
		/* RFC 7830: pad the whole message to a multiple of the
		 * block (11 bytes of OPT header, 4 of option header). */
		static const uint8_t zeros[512];
		size_t total = msglen + 11 + rdlen + 4;
		size_t pad = (q->padding - total % q->padding) % q->padding;

		if (pad > sizeof(zeros))
			pad = 0;
		put_option(rdata, cap, &rdlen, 12, zeros, (uint16_t)pad);
	}
	return md_wire_write_rr(w, MD_SECTION_ADDITIONAL, root, MD_TYPE_OPT,
	    q->edns_size, ttl, rdata, rdlen);
}

int
md_tool_query_wire(const struct md_tool_query *q, uint16_t id, uint8_t *buf,
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
	if (q->aa)
		flags |= MD_FLAG_AA;
	if (q->tc)
		flags |= MD_FLAG_TC;
	if (q->ra)
		flags |= MD_FLAG_RA;
	if (q->z)
		flags |= 0x0040;
	flags |= (uint16_t)((q->opcode & 0xf) << 11);
	md_wire_writer_init(&w, buf, cap);
	rc = md_wire_write_header(&w, id, flags);
	if (rc == 0 && !q->header_only)
		rc = md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	if (rc == 0 && q->qtype == MD_TYPE_IXFR) {
		/* RFC 1995 §3: the client's SOA (its serial) in authority. */
		uint8_t soa[22] = {0, 0};

		md_write_u32(soa + 2, q->ixfr_serial);
		rc = md_wire_write_rr(&w, MD_SECTION_AUTHORITY, q->qname,
		    MD_TYPE_SOA, q->qclass, 0, soa, sizeof(soa));
	}
	if (rc == 0 && q->edns)
		rc = write_opt(&w, q,
		    q->header_only ? 12 : 12 + md_name_len(q->qname) + 4);
	if (rc != 0)
		return MD_EPARSE;
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
 * One try in flight on the exchange's private event base: what net/ said
 * about it.  Replies are matched by net/ (md_net_opts.lenient: dig's
 * rules, RFC 5452 §9.1 otherwise: our ID, QR set, our question).
 */
struct try_state {
	struct md_tool_exchange *ex;
	bool done;
	enum md_net_status status;
	int err;
	bool connect_failed;
	char detail[sizeof(((struct md_tool_exchange *)0)->tls_error)];
};

static void
notice_cb(void *arg, const struct md_net_notice *nt)
{
	struct try_state *t = arg;

	switch (nt->kind) {
	case MD_NET_NOTICE_SHORT:
		if (t->ex->warn_short)
			printf(";; Warning: short (< header size) message "
			       "received\n");
		break;
	case MD_NET_NOTICE_IGNORED:
		/* dig waits on for a better one, silently. */
		break;
	case MD_NET_NOTICE_FAILED:
		t->err = nt->err;
		t->connect_failed = nt->connect_failed;
		md_strlcpy(t->detail, nt->text, sizeof(t->detail));
		break;
	}
}

static void
reply_cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct try_state *t = arg;
	struct md_tool_exchange *ex = t->ex;

	t->done = true;
	t->status = status;
	if (status != MD_NET_OK)
		return;
	memcpy(ex->reply, reply, len);
	ex->reply_len = len;
	ex->rtt_ms = rtt_ms;
}

/* What a failed try says, as a negative errno (dig's wording follows). */
static int
try_error(struct md_tool_exchange *ex, const struct try_state *t)
{
	ex->tcp_connect_failed = t->connect_failed;
	switch (t->status) {
	case MD_NET_OK:
		return 0;
	case MD_NET_TIMEOUT:
		return -ETIMEDOUT;
	case MD_NET_REFUSED:
		return -ECONNREFUSED;
	case MD_NET_TLS_ERROR:
		md_strlcpy(ex->tls_error, t->detail, sizeof(ex->tls_error));
		return MD_TOOL_ETLS;
	case MD_NET_MALFORMED:
		return -EBADMSG;
	case MD_NET_ERROR:
		break;
	}
	/* A stream closed before a whole reply: BIND says "end of file". */
	return t->err != 0 ? -t->err : ERR_EOF;
}

/*
 * One try: send the query through net/ and run the private base until
 * its callback (the reply, the timeout or an error) has come.
 */
static int
one_try(struct md_tool_exchange *ex, struct event_base *base,
    struct md_net *net, const struct md_upstream *up, const uint8_t *qbuf,
    size_t qlen)
{
	struct md_net_opts opts;
	struct try_state t;

	memset(&t, 0, sizeof(t));
	t.ex = ex;
	memset(&opts, 0, sizeof(opts));
	/* The ID dig prints is the one on the wire: ours, drawn at random
	 * by md_tool_exchange(). */
	opts.keep_id = true;
	opts.lenient = true;
	opts.notice = notice_cb;
	ex->tcp_connect_failed = false;
	ex->setup_failed = false;
	ex->tls_error[0] = '\0';
	if (md_net_send_opts(net, up, &opts, qbuf, qlen,
		(uint32_t)ex->timeout_ms, reply_cb, &t) == NULL) {
		/* A socket that could not even be made, bound or
		 * connected (-b of another family, no route). */
		if (errno == ENOMEM)
			return -ENOMEM;
		ex->setup_failed = true;
		return errno != 0 ? -errno : -EIO;
	}
	while (!t.done) {
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			return -EIO;
	}
	return try_error(ex, &t);
}

/* Does the host name look like an address (then it is no SNI)? */
static bool
is_address(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/*
 * Like dig 9.18: no certificate check unless asked (opportunistic
 * privacy, RFC 7858 §4.1); with tls_verify, the chain against tls_ca or
 * the system store and the name (or address) against tls_hostname, else
 * the server as given (RFC 8310 §8).  A name goes out as SNI either way.
 */
static int
tls_setup(
    struct md_tool_exchange *ex, struct md_net *net, struct md_upstream *up)
{
	struct md_tls_client_conf conf;
	const char *host =
	    ex->tls_hostname != NULL ? ex->tls_hostname : ex->server->name;
	char err[200];
	SSL_CTX *ctx;
	int rc;

	memset(&conf, 0, sizeof(conf));
	conf.ca_file = ex->tls_ca;
	conf.insecure = !ex->tls_verify;
	ctx = md_tls_client_ctx_new(&conf, err, sizeof(err));
	if (ctx == NULL) {
		snprintf(ex->tls_error, sizeof(ex->tls_error),
		    "cannot load the CA certificates: %s", err);
		return MD_TOOL_ETLS;
	}
	rc = md_net_set_tls_ctx(net, ctx);
	SSL_CTX_free(ctx);
	if (rc != 0)
		return -ENOMEM;
	if (ex->tls_verify || !is_address(host)) {
		if (md_strlcpy(up->tls_name, host, sizeof(up->tls_name)) >=
		    sizeof(up->tls_name)) {
			snprintf(ex->tls_error, sizeof(ex->tls_error),
			    "bad TLS host name");
			return MD_TOOL_ETLS;
		}
	}
	return 0;
}

static void
report_failure(struct md_tool_exchange *ex, bool tcp, int err, bool last)
{
	const struct md_tool_server *srv = ex->server;
	unsigned port = md_tool_server_port(srv);

	if (ex->quiet)
		return;
	if (!tcp &&
	    (ex->setup_failed || err == -ENETUNREACH || err == -EHOSTUNREACH)) {
		/* No socket could be made, or the datagram could not even
		 * be sent (no route): dig 9.18's words; it gives up on the
		 * lookup between tries, and after the last one says so
		 * where it ends (+nssearch: never). */
		ex->setup_failed = true;
		ex->udp_setup_failed = true;
		printf(";; UDP setup with %s#%u(%s) for %s failed: %s.\n",
		    srv->host, port, srv->name,
		    ex->display_name != NULL ? ex->display_name : "",
		    md_tool_net_strerror(err));
		if (!last && !ex->ns_search)
			printf(";; no servers could be reached\n");
		return;
	}

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
	struct event_base *base = NULL;
	struct md_net *net = NULL;
	struct md_upstream up;
	size_t qlen = 0;
	bool tcp = ex->tcp || ex->tls;
	struct timespec t0, t1;
	int rc = -ETIMEDOUT, tries = ex->tries < 1 ? 1 : ex->tries;

	ex->reply = NULL;
	ex->reply_len = 0;
	ex->error = 0;
	ex->used_tcp = false;
	ex->tcp_connect_failed = false;
	ex->udp_setup_failed = false;
	ex->tls_error[0] = '\0';
	/* RFC 5452 §4.3: an unpredictable ID (unless the user asked for a
	 * repeatable demonstration: minidig +trace +seed). */
	if (ex->rng != NULL)
		ex->id = (uint16_t)md_rng_u32(ex->rng);
	else if (getrandom(&ex->id, sizeof(ex->id), 0) != sizeof(ex->id))
		return -errno;
	if (ex->query->qid_set)
		ex->id = ex->query->qid;
	if (md_tool_query_wire(ex->query, ex->id, qbuf, sizeof(qbuf), &qlen) !=
	    0)
		return MD_EPARSE;
	ex->reply = malloc(MD_WIRE_MAX);
	base = event_base_new();
	net = md_net_new(base);
	if (ex->reply == NULL || base == NULL || net == NULL) {
		rc = -ENOMEM;
		goto cleanup;
	}
	memset(&up, 0, sizeof(up));
	up.addr = ex->server->addr;
	if (ex->source != NULL && md_net_set_source(net, ex->source) != 0) {
		rc = -EINVAL;
		goto cleanup;
	}
	if (ex->tls) {
		rc = tls_setup(ex, net, &up);
		if (rc != 0) {
			if (rc != -ENOMEM)
				report_failure(ex, true, rc, true);
			goto cleanup;
		}
	}
	for (int i = 0; i < tries; i++) {
		up.transport = ex->tls ? MD_TRANSPORT_TLS
		    : tcp	       ? MD_TRANSPORT_TCP
				       : MD_TRANSPORT_UDP;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = one_try(ex, base, net, &up, qbuf, qlen);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ex->rtt_us = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000LL +
		    (t1.tv_nsec - t0.tv_nsec) / 1000);
		if (rc == 0 && !tcp && !ex->ignore_tc &&
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
			goto cleanup;
		}
		if (rc == -ENOMEM)
			break;
		report_failure(ex, tcp, rc, i + 1 >= tries);
		/* A certificate will not get better by asking again. */
		if (rc == MD_TOOL_ETLS)
			break;
	}
	ex->used_tcp = tcp;
cleanup:
	md_net_free(net);
	if (base != NULL)
		event_base_free(base);
	if (rc != 0)
		ex->error = rc;
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
char *
md_tool_name_text(const ldns_rdf *rdf)
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

/* A name, through the style's filter (+idnout) when there is one. */
static char *
name_text_style(const ldns_rdf *rdf, const struct md_tool_rdata_style *st)
{
	char *s = md_tool_name_text(rdf);

	if (s == NULL || st == NULL || st->name_filter == NULL)
		return s;
	return st->name_filter(s);
}

static char *
rdf_text(const ldns_rdf *rdf, const struct md_tool_rdata_style *st)
{
	char *s;

	if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME)
		return name_text_style(rdf, st);
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
rdata_text(const ldns_rr *rr, const struct md_tool_rdata_style *st)
{
	size_t cap = 64, len = 0;
	char *out = md_tool_rdata_text(rr, st);

	if (out != NULL)
		return out;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		char *f = rdf_text(ldns_rr_rdf(rr, i), st);
		size_t flen;

		if (f == NULL)
			goto fail;
		flen = strlen(f);
		/* ldns ends some fields (a type bitmap) with a blank. */
		while (flen > 0 && f[flen - 1] == ' ')
			f[--flen] = '\0';
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
	return md_tool_rr_text_style(rr, question, NULL, t);
}

int
md_tool_rr_text_style(const ldns_rr *rr, bool question,
    const struct md_tool_rdata_style *st, struct md_tool_rr_text *t)
{
	char ttl[16];

	memset(t, 0, sizeof(*t));
	snprintf(ttl, sizeof(ttl), "%u", (unsigned)ldns_rr_ttl(rr));
	t->owner = ldns_rr_owner(rr) != NULL
	    ? name_text_style(ldns_rr_owner(rr), st)
	    : strdup(".");
	t->ttl = strdup(question ? "" : ttl);
	t->rclass = ldns_rr_class2str(ldns_rr_get_class(rr));
	t->type = ldns_rr_type2str(ldns_rr_get_type(rr));
	t->rdata = question ? strdup("") : rdata_text(rr, st);
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
