/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * minidig.c - the dig-style client: its command line, and printing one
 * reply in the layout of BIND 9.18 dig (header, OPT pseudosection,
 * sections in master-file columns, the statistics lines), or +short.
 *
 * Not here: the network exchange and the RR field helpers, which are
 * shared with mininslookup in tool_common.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

#define DIG_TIMEOUT_S 5
#define DIG_TRIES 3

struct dig_opts {
	const char *server; /* @server, or NULL for resolv.conf */
	long long port;
	const char *name;
	const char *reverse; /* -x address */
	bool type_set;
	struct md_tool_query q;
	bool tcp;
	bool tcp_set; /* +tcp or +notcp was given */
	bool short_form;
	bool cmd;
	long long timeout_s;
	long long tries;
	int argc;
	char **argv;
};

/* What the wire says about the OPT record; ldns keeps only part of it. */
struct dig_opt_rr {
	bool present;
	uint16_t udp_size;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "Usage: minidig [@server] [-p port] [-t type] [-c class] "
	    "[-x addr] [-q name]\n"
	    "               name [type] [class] [+options]\n"
	    "Options:\n"
	    "  +[no]tcp           use TCP (default: UDP, TCP when truncated)\n"
	    "  +[no]recurse       set the RD bit (default: on)\n"
	    "  +[no]edns[=N]      send an OPT record, version N "
	    "(default: on, 0)\n"
	    "  +bufsize=N         EDNS UDP size (default: %d)\n"
	    "  +[no]adflag        set the AD bit (default: on)\n"
	    "  +[no]cdflag        set the CD bit (default: off)\n"
	    "  +[no]dnssec        set the DO bit (default: off)\n"
	    "  +[no]short         print only the answer's rdata\n"
	    "  +[no]cmd           print the command line banner\n"
	    "  +time=N            seconds to wait per try (default: %d)\n"
	    "  +tries=N           tries over UDP (default: %d)\n"
	    "  +retry=N           retries over UDP (tries - 1)\n"
	    "  -h, --help         this text\n"
	    "  -v, --version      print the version\n",
	    MD_TOOL_EDNS_SIZE, DIG_TIMEOUT_S, DIG_TRIES);
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("minidig: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'minidig -h' for more information.\n", stderr);
	exit(MD_TOOL_EXIT_USAGE);
}

/*
 * "+name" options may be shortened as dig allows, down to 'min'
 * characters ("+norec", "+bufs=512").
 */
static bool
opt_is(const char *word, size_t len, const char *name, size_t min)
{
	return len >= min && len <= strlen(name) &&
	    strncmp(word, name, len) == 0;
}

static long long
opt_number(const char *opt, const char *value, long long min, long long max)
{
	long long v;

	if (value == NULL)
		usage_error("+%s needs a value", opt);
	if (md_parse_int(value, min, max, &v) != 0)
		usage_error("+%s: '%s' is not a number in %lld..%lld", opt,
		    value, min, max);
	return v;
}

static void
parse_plus(struct dig_opts *o, const char *arg)
{
	const char *word = arg + 1, *value = strchr(arg, '=');
	size_t len = value != NULL ? (size_t)(value - word) : strlen(word);
	bool on = true;

	if (value != NULL)
		value++;
	if (strncmp(word, "no", 2) == 0) {
		on = false;
		word += 2;
		len -= 2;
	}
	if (opt_is(word, len, "tcp", 3) || opt_is(word, len, "vc", 2)) {
		o->tcp = on;
		o->tcp_set = true;
	} else if (opt_is(word, len, "recurse", 3))
		o->q.rd = on;
	else if (opt_is(word, len, "short", 2))
		o->short_form = on;
	else if (opt_is(word, len, "cmd", 3))
		o->cmd = on;
	else if (opt_is(word, len, "adflag", 2))
		o->q.ad = on;
	else if (opt_is(word, len, "cdflag", 2))
		o->q.cd = on;
	else if (opt_is(word, len, "dnssec", 2)) {
		o->q.do_bit = on;
		if (on)
			o->q.edns = true;
	} else if (opt_is(word, len, "edns", 2)) {
		o->q.edns = on;
		if (on && value != NULL)
			o->q.edns_version =
			    (uint8_t)opt_number("edns", value, 0, 255);
	} else if (on && opt_is(word, len, "bufsize", 1)) {
		o->q.edns_size =
		    (uint16_t)opt_number("bufsize", value, 0, 65535);
		o->q.edns = true;
	} else if (on && opt_is(word, len, "time", 4))
		o->timeout_s = opt_number("time", value, 1, 300);
	else if (on && opt_is(word, len, "tries", 4))
		o->tries = opt_number("tries", value, 1, 100);
	else if (on && opt_is(word, len, "retry", 4))
		o->tries = opt_number("retry", value, 0, 99) + 1;
	else
		usage_error("unknown option '%s'", arg);
}

/* The argument of "-p 53" or "-p53". */
static const char *
dash_value(int argc, char **argv, int *i)
{
	if (argv[*i][2] != '\0')
		return argv[*i] + 2;
	if (*i + 1 >= argc)
		usage_error("option '%s' needs a value", argv[*i]);
	return argv[++*i];
}

static void
parse_args(struct dig_opts *o, int argc, char **argv)
{
	bool pos_type = false, pos_class = false;
	uint16_t v16;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(MD_TOOL_EXIT_OK);
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
			printf("minidig %s\n", PACKAGE_VERSION);
			exit(MD_TOOL_EXIT_OK);
		}
		if (a[0] == '@') {
			if (a[1] == '\0')
				usage_error("'@' needs a server address");
			o->server = a + 1;
		} else if (a[0] == '+') {
			parse_plus(o, a);
		} else if (a[0] == '-' && a[1] != '\0' &&
		    strchr("ptcxq", a[1]) != NULL) {
			char opt = a[1];
			const char *val = dash_value(argc, argv, &i);

			if (opt == 'p' &&
			    md_parse_int(val, 1, 65535, &o->port) != 0)
				usage_error("bad port '%s'", val);
			if (opt == 't') {
				if (md_tool_type_parse(val, &o->q.qtype) != 0)
					usage_error("unknown type '%s'", val);
				o->type_set = true;
			}
			if (opt == 'c' &&
			    md_tool_class_parse(val, &o->q.qclass) != 0)
				usage_error("unknown class '%s'", val);
			if (opt == 'q')
				o->name = val;
			if (opt == 'x')
				o->reverse = val;
		} else if (a[0] == '-' && a[1] != '\0') {
			usage_error("unknown option '%s'", a);
		} else if (!pos_type && md_tool_type_parse(a, &v16) == 0) {
			/* dig: a word that is a type is the type (once). */
			o->q.qtype = v16;
			o->type_set = true;
			pos_type = true;
		} else if (!pos_class && md_tool_class_parse(a, &v16) == 0) {
			o->q.qclass = v16;
			pos_class = true;
		} else if (o->name == NULL) {
			o->name = a;
		} else {
			usage_error(
			    "only one name per query ('%s', '%s')", o->name, a);
		}
	}
}

/* ---- printing ---------------------------------------------------------- */

static const char *
opcode_text(unsigned op, char *buf, size_t size)
{
	static const char *const names[] = {
	    "QUERY", "IQUERY", "STATUS", NULL, "NOTIFY", "UPDATE"};

	if (op < sizeof(names) / sizeof(names[0]) && names[op] != NULL)
		return names[op];
	snprintf(buf, size, "RESERVED%u", op);
	return buf;
}

static const char *
rcode_text(unsigned rcode, char *buf, size_t size)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE", "RESERVED11", "RESERVED12", "RESERVED13",
	    "RESERVED14", "RESERVED15", "BADVERS", "BADKEY", "BADTIME",
	    "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE"};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, size, "%u", rcode);
	return buf;
}

/*
 * Find the OPT record in the raw reply (RFC 6891 §6.1.2).  ldns_wire2pkt
 * folds it into the packet and drops the options we want to show.
 */
static void
find_opt(const uint8_t *pkt, size_t len, struct dig_opt_rr *opt)
{
	uint8_t name[MD_NAME_MAX];
	size_t off = MD_WIRE_HDR_LEN;
	unsigned counts[4];

	memset(opt, 0, sizeof(*opt));
	if (len < MD_WIRE_HDR_LEN)
		return;
	for (int i = 0; i < 4; i++)
		counts[i] = md_read_u16(pkt + 4 + 2 * i);
	for (unsigned i = 0; i < counts[0]; i++) {
		if (md_name_read(pkt, len, &off, name) < 0 || off + 4 > len)
			return;
		off += 4;
	}
	for (unsigned i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
		uint16_t type, rdlen;

		if (md_name_read(pkt, len, &off, name) < 0 || off + 10 > len)
			return;
		type = md_read_u16(pkt + off);
		rdlen = md_read_u16(pkt + off + 8);
		if (off + 10 + rdlen > len)
			return;
		if (type == MD_TYPE_OPT && i >= counts[1] + counts[2]) {
			opt->present = true;
			opt->udp_size = md_read_u16(pkt + off + 2);
			opt->ttl = md_read_u32(pkt + off + 4);
			opt->rdata = pkt + off + 10;
			opt->rdlen = rdlen;
			return;
		}
		off += 10 + (size_t)rdlen;
	}
}

/* An option's value as hex bytes, then its printable form in quotes. */
static void
print_opt_bytes(const uint8_t *p, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++)
		printf("%s%02x", i == 0 ? "" : " ", p[i]);
	printf(" (\"");
	for (uint16_t i = 0; i < len; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf("\")");
}

/* RFC 8914 §4: Extended DNS Error codes, as dig names them. */
static const char *const ede_text[] = {"Other", "Unsupported DNSKEY Algorithm",
    "Unsupported DS Digest Type", "Stale Answer", "Forged Answer",
    "DNSSEC Indeterminate", "DNSSEC Bogus", "Signature Expired",
    "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing",
    "No Zone Key Bit Set", "NSEC Missing", "Cached Error", "Not Ready",
    "Blocked", "Censored", "Filtered", "Prohibited", "Stale NXDOMAIN Answer",
    "Not Authoritative", "Not Supported", "No Reachable Authority",
    "Network Error", "Invalid Data"};

static void
print_opt(const struct dig_opt_rr *opt)
{
	uint16_t mbz = (uint16_t)(opt->ttl & 0x7fff);
	size_t off = 0;

	printf(";; OPT PSEUDOSECTION:\n");
	printf("; EDNS: version: %u, flags:%s", (opt->ttl >> 16) & 0xff,
	    (opt->ttl & 0x8000) != 0 ? " do" : "");
	if (mbz != 0)
		printf("; MBZ: 0x%.4x, udp: %u\n", mbz, opt->udp_size);
	else
		printf("; udp: %u\n", opt->udp_size);
	while (off + 4 <= opt->rdlen) {
		uint16_t code = md_read_u16(opt->rdata + off);
		uint16_t len = md_read_u16(opt->rdata + off + 2);
		const uint8_t *val = opt->rdata + off + 4;

		if (off + 4 + len > opt->rdlen)
			break;
		off += 4 + (size_t)len;
		if (code == 3) { /* RFC 5001 NSID */
			printf("; NSID: ");
			print_opt_bytes(val, len);
		} else if (code == 10) { /* RFC 7873 COOKIE */
			printf("; COOKIE: ");
			for (uint16_t i = 0; i < len; i++)
				printf("%02x", val[i]);
		} else if (code == 15 && len >= 2) { /* RFC 8914 EDE */
			uint16_t ede = md_read_u16(val);

			printf("; EDE: %u", ede);
			if (ede < sizeof(ede_text) / sizeof(ede_text[0]))
				printf(" (%s)", ede_text[ede]);
			if (len > 2)
				printf(": (%.*s)", (int)(len - 2),
				    (const char *)val + 2);
		} else {
			printf("; OPT=%u: ", code);
			print_opt_bytes(val, len);
		}
		putchar('\n');
	}
}

static int
print_section(const ldns_rr_list *list, const char *title, bool question)
{
	if (list == NULL || ldns_rr_list_rr_count(list) == 0)
		return 0;
	printf(";; %s SECTION:\n", title);
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++)
		if (md_tool_print_rr_dig(
			stdout, ldns_rr_list_rr(list, i), question) != 0)
			return -ENOMEM;
	putchar('\n');
	return 0;
}

static int
print_short(const ldns_pkt *pkt)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);

	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
		struct md_tool_rr_text t;

		if (md_tool_rr_text(ldns_rr_list_rr(an, i), false, &t) != 0)
			return -ENOMEM;
		printf("%s\n", t.rdata);
		md_tool_rr_text_free(&t);
	}
	return 0;
}

static void
print_banner(const struct dig_opts *o, const struct md_tool_server *srv)
{
	if (!o->cmd)
		return;
	printf("\n; <<>> MiniDiG %s <<>>", PACKAGE_VERSION);
	for (int i = 1; i < o->argc; i++)
		printf(" %s", o->argv[i]);
	putchar('\n');
	if (o->server != NULL)
		printf("; (%u server%s found)\n", srv->naddrs,
		    srv->naddrs == 1 ? "" : "s");
	printf(";; global options: +cmd\n");
}

static int
print_reply(const struct md_tool_exchange *ex, const ldns_pkt *pkt)
{
	static const uint8_t local_zone[] = {5, 'l', 'o', 'c', 'a', 'l', 0};
	const uint8_t *r = ex->reply;
	uint16_t flags = md_read_u16(r + 2);
	struct dig_opt_rr opt;
	unsigned rcode = MD_RCODE(flags);
	char buf[32], when[64];
	time_t now = time(NULL);
	struct tm tm;

	find_opt(r, ex->reply_len, &opt);
	if (opt.present)
		rcode |= (opt.ttl >> 24) << 4; /* RFC 6891 §6.1.3 */
	printf(";; Got answer:\n");
	if (md_name_is_subdomain(ex->query->qname, local_zone)) {
		/* RFC 6762 §3: names under local. belong to mDNS. */
		printf(";; WARNING: .local is reserved for Multicast DNS\n"
		       ";; You are currently testing what happens when an mDNS "
		       "query is leaked to DNS\n");
	}
	printf(";; ->>HEADER<<- opcode: %s, ",
	    opcode_text(MD_OPCODE(flags), buf, sizeof(buf)));
	printf("status: %s, id: %u\n", rcode_text(rcode, buf, sizeof(buf)),
	    md_read_u16(r));
	printf(";; flags:%s%s%s%s%s%s%s",
	    (flags & MD_FLAG_QR) != 0 ? " qr" : "",
	    (flags & MD_FLAG_AA) != 0 ? " aa" : "",
	    (flags & MD_FLAG_TC) != 0 ? " tc" : "",
	    (flags & MD_FLAG_RD) != 0 ? " rd" : "",
	    (flags & MD_FLAG_RA) != 0 ? " ra" : "",
	    (flags & MD_FLAG_AD) != 0 ? " ad" : "",
	    (flags & MD_FLAG_CD) != 0 ? " cd" : "");
	if ((flags & 0x0040) != 0)
		printf("; MBZ: 0x4");
	printf("; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n",
	    md_read_u16(r + 4), md_read_u16(r + 6), md_read_u16(r + 8),
	    md_read_u16(r + 10));
	if ((flags & MD_FLAG_RD) != 0 && (flags & MD_FLAG_RA) == 0)
		printf(";; WARNING: recursion requested but not available\n");
	putchar('\n');
	if (opt.present)
		print_opt(&opt);
	if (print_section(ldns_pkt_question(pkt), "QUESTION", true) != 0 ||
	    print_section(ldns_pkt_answer(pkt), "ANSWER", false) != 0 ||
	    print_section(ldns_pkt_authority(pkt), "AUTHORITY", false) != 0 ||
	    print_section(ldns_pkt_additional(pkt), "ADDITIONAL", false) != 0)
		return -ENOMEM;
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Z %Y", &tm);
	printf(";; Query time: %llu msec\n", (unsigned long long)ex->rtt_ms);
	printf(";; SERVER: %s#%u(%s) (%s)\n", ex->server->host,
	    md_tool_server_port(ex->server), ex->server->name,
	    ex->used_tcp ? "TCP" : "UDP");
	printf(";; WHEN: %s\n", when);
	printf(";; MSG SIZE  rcvd: %zu\n\n", ex->reply_len);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dig_opts o;
	struct md_tool_server srv;
	struct md_tool_exchange ex;
	char rev[MD_NAME_STRLEN], qtext[MD_NAME_STRLEN];
	ldns_pkt *pkt = NULL;
	ldns_status st;
	int rc, status = MD_TOOL_EXIT_INTERNAL;

	memset(&o, 0, sizeof(o));
	memset(&ex, 0, sizeof(ex));
	md_tool_query_init(&o.q);
	o.q.ad = true; /* dig sets AD in queries (RFC 6840 §5.7) */
	o.port = MD_TOOL_PORT;
	o.cmd = true;
	o.timeout_s = DIG_TIMEOUT_S;
	o.tries = DIG_TRIES;
	o.argc = argc;
	o.argv = argv;
	parse_args(&o, argc, argv);

	if (o.reverse != NULL) {
		if (md_tool_reverse_name(o.reverse, rev, sizeof(rev)) != 0)
			usage_error("-x: '%s' is not an IPv4 or IPv6 address",
			    o.reverse);
		if (o.name == NULL)
			o.name = rev;
		if (!o.type_set)
			o.q.qtype = MD_TYPE_PTR;
	}
	if (o.name == NULL) {
		/* dig with no name asks for the root's NS set. */
		o.name = ".";
		if (!o.type_set)
			o.q.qtype = MD_TYPE_NS;
	}
	/* dig 9.18 asks ANY over TCP unless told otherwise. */
	if (o.q.qtype == MD_TYPE_ANY && !o.tcp_set)
		o.tcp = true;
	if (md_tool_query_set_name(&o.q, o.name) != 0)
		usage_error("'%s' is not a valid domain name", o.name);
	if (o.server != NULL) {
		rc = md_tool_server_set(&srv, o.server, (uint16_t)o.port);
		if (rc != 0)
			usage_error("couldn't get address for '%s': %s",
			    o.server,
			    rc == MD_ENOTFOUND ? "not found" : "bad address");
	} else {
		md_tool_server_default(
		    &srv, MD_TOOL_RESOLV_CONF, (uint16_t)o.port);
	}
	/* dig names the query without the final dot in its TCP errors. */
	md_strlcpy(qtext, o.name, sizeof(qtext));
	md_tool_name_nodot(qtext);

	ex.server = &srv;
	ex.query = &o.q;
	ex.tcp = o.tcp;
	ex.tc_notice = !o.short_form;
	ex.timeout_ms = (int)o.timeout_s * 1000;
	ex.tries = (int)o.tries;
	ex.display_name = qtext;
	rc = md_tool_exchange(&ex);
	if (rc == -ENOMEM || rc == MD_EPARSE) {
		fprintf(stderr, "minidig: %s\n", md_strerror(rc));
		goto cleanup;
	}
	if (rc != 0) {
		/* After a failed TCP connect dig has said all it says. */
		if (!(ex.used_tcp && ex.tcp_connect_failed)) {
			print_banner(&o, &srv);
			printf(";; no servers could be reached\n");
		}
		status = MD_TOOL_EXIT_NOREPLY;
		goto cleanup;
	}
	st = ldns_wire2pkt(&pkt, ex.reply, ex.reply_len);
	if (st != LDNS_STATUS_OK) {
		printf(";; Got bad packet: %s\n", ldns_get_errorstr_by_id(st));
		printf(";; %zu bytes\n", ex.reply_len);
		status = MD_TOOL_EXIT_NOREPLY;
		goto cleanup;
	}
	if (o.short_form) {
		rc = print_short(pkt);
	} else {
		print_banner(&o, &srv);
		rc = print_reply(&ex, pkt);
	}
	status = rc == 0 ? MD_TOOL_EXIT_OK : MD_TOOL_EXIT_INTERNAL;
cleanup:
	fflush(stdout);
	ldns_pkt_free(pkt);
	md_tool_exchange_deinit(&ex);
	return status;
}
