/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mininslookup.c - the nslookup-style client, non-interactive only: its
 * command line, the A-then-AAAA default lookups, the PTR lookup for an
 * address, and replies printed in the sentences of BIND 9.18 nslookup.
 *
 * Not here: the network exchange and RR text helpers (tool_common.c).
 * Not done: the resolv.conf search list and the interactive mode.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

#define NSL_TIMEOUT_S 5
#define NSL_TRIES 3

struct nsl_opts {
	const char *name;
	const char *server;
	long long port;
	long long timeout_s;
	long long tries;
	bool type_set;
	uint16_t qtype;
};

/* What a run of lookups has seen so far. */
struct nsl_state {
	bool header_done;
	bool reverse;	 /* an address given: no header lines */
	bool a_noanswer; /* the default A lookup found no answer */
	bool failed;	 /* exit 1 */
};

/*
 * nslookup's words for each type below 42 (its table ends there; later
 * types print as "rdata_N = ").  AAAA has no '=', as nslookup prints it.
 */
static const char *const rtype_text[] = {"rtype_0 = ", "internet address = ",
    "nameserver = ", "md = ", "mf = ", "canonical name = ", "soa = ", "mb = ",
    "mg = ", "mr = ", "rtype_10 = ", "protocol = ", "name = ", "hinfo = ",
    "minfo = ", "mail exchanger = ", "text = ", "rp = ", "afsdb = ",
    "x25 address = ", "isdn address = ", "rt = ", "nsap = ", "nsap_ptr = ",
    "signature = ", "key = ", "px = ", "gpos = ", "has AAAA address ",
    "loc = ", "next = ", "rtype_31 = ", "rtype_32 = ", "service = ",
    "rtype_34 = ", "naptr = ", "kx = ", "cert = ", "v6 address = ", "dname = ",
    "rtype_40 = ", "optional = "};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "Usage: mininslookup [-port=N] [-type=T] [-timeout=N] "
	    "[-retry=N] name [server]\n"
	    "  -port=N      server port (default: 53)\n"
	    "  -type=T      record type, also -query=T or -q=T "
	    "(default: A and AAAA)\n"
	    "  -timeout=N   seconds to wait per try (default: %d)\n"
	    "  -retry=N     tries (default: %d)\n"
	    "  -h, --help   this text\n"
	    "  -v, --version\n"
	    "An address as name looks up its PTR record.  The server "
	    "defaults to the\nfirst nameserver of %s.\n",
	    NSL_TIMEOUT_S, NSL_TRIES, MD_TOOL_RESOLV_CONF);
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mininslookup: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'mininslookup -h' for more information.\n", stderr);
	exit(MD_TOOL_EXIT_USAGE);
}

static long long
number(const char *opt, const char *v, long long min, long long max)
{
	long long n;

	if (md_parse_int(v, min, max, &n) != 0)
		usage_error("-%s: '%s' is not a number in %lld..%lld", opt, v,
		    min, max);
	return n;
}

static void
parse_args(struct nsl_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t klen;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(MD_TOOL_EXIT_OK);
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
			printf("mininslookup %s\n", PACKAGE_VERSION);
			exit(MD_TOOL_EXIT_OK);
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (o->name == NULL)
				o->name = a;
			else if (o->server == NULL)
				o->server = a;
			else
				usage_error("unexpected argument '%s'", a);
			continue;
		}
		if (eq == NULL)
			usage_error("unknown option '%s'", a);
		klen = (size_t)(eq - a - 1);
		eq++;
		if (strncmp(a + 1, "port", klen) == 0 && klen == 4) {
			o->port = number("port", eq, 1, 65535);
		} else if ((klen == 4 && strncmp(a + 1, "type", 4) == 0) ||
		    (klen == 5 && strncmp(a + 1, "query", 5) == 0) ||
		    (klen == 9 && strncmp(a + 1, "querytype", 9) == 0) ||
		    (klen == 1 && a[1] == 'q')) {
			if (md_tool_type_parse(eq, &o->qtype) != 0)
				usage_error("unknown type '%s'", eq);
			o->type_set = true;
		} else if (klen == 7 && strncmp(a + 1, "timeout", 7) == 0) {
			o->timeout_s = number("timeout", eq, 1, 300);
		} else if (klen == 5 && strncmp(a + 1, "retry", 5) == 0) {
			o->tries = number("retry", eq, 1, 100);
		} else {
			usage_error("unknown option '%s'", a);
		}
	}
	if (o->name == NULL)
		usage_error("a name to look up is needed "
			    "(the interactive mode is not supported)");
}

/* A name in presentation form without the final dot, as nslookup shows. */
static void
name_text(const ldns_rdf *rdf, char *buf, size_t size)
{
	uint8_t wire[MD_NAME_MAX];
	size_t len = ldns_rdf_size(rdf);

	buf[0] = '\0';
	if (len == 0 || len > sizeof(wire))
		return;
	memcpy(wire, ldns_rdf_data(rdf), len);
	/* md_name_to_str escapes like BIND; it fails only on bad names. */
	if (md_name_to_str(wire, buf, size) != 0)
		md_strlcpy(buf, "?", size);
	md_tool_name_nodot(buf);
}

static void
print_soa(const ldns_rr *rr)
{
	static const char *const nums[] = {
	    "serial", "refresh", "retry", "expire", "minimum"};
	char name[MD_NAME_STRLEN];

	if (ldns_rr_rd_count(rr) != 7)
		return;
	name_text(ldns_rr_rdf(rr, 0), name, sizeof(name));
	printf("\torigin = %s\n", name);
	name_text(ldns_rr_rdf(rr, 1), name, sizeof(name));
	printf("\tmail addr = %s\n", name);
	for (size_t i = 0; i < 5; i++)
		printf("\t%s = %u\n", nums[i],
		    (unsigned)ldns_rdf2native_int32(ldns_rr_rdf(rr, i + 2)));
}

static int
print_section(const ldns_rr_list *list, bool answer, bool skip_cname)
{
	for (size_t i = 0; list != NULL && i < ldns_rr_list_rr_count(list);
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		uint16_t type = (uint16_t)ldns_rr_get_type(rr);
		struct md_tool_rr_text t;

		/* The default AAAA lookup does not repeat the CNAME chain. */
		if (skip_cname && type == MD_TYPE_CNAME)
			continue;
		if (md_tool_rr_text(rr, false, &t) != 0)
			return -ENOMEM;
		md_tool_name_nodot(t.owner);
		if (answer && (type == MD_TYPE_A || type == MD_TYPE_AAAA)) {
			printf("Name:\t%s\nAddress: %s\n", t.owner, t.rdata);
		} else if (type == MD_TYPE_SOA) {
			printf("%s\n", t.owner);
			print_soa(rr);
		} else if (type < sizeof(rtype_text) / sizeof(rtype_text[0])) {
			printf(
			    "%s\t%s%s\n", t.owner, rtype_text[type], t.rdata);
		} else {
			printf("%s\trdata_%u = %s\n", t.owner, type, t.rdata);
		}
		md_tool_rr_text_free(&t);
	}
	return 0;
}

static const char *
rcode_text(unsigned rcode, char *buf, size_t size)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE"};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	if (rcode == MD_RCODE_BADVERS)
		return "BADVERS";
	snprintf(buf, size, "%u", rcode);
	return buf;
}

/*
 * One reply, in nslookup's words.  Returns false when the lookups should
 * stop (the default AAAA lookup follows an A lookup only if it worked).
 */
static bool
print_reply(const struct md_tool_exchange *ex, const ldns_pkt *pkt,
    const char *textname, bool defaults, struct nsl_state *s)
{
	uint16_t flags = md_read_u16(ex->reply + 2);
	uint16_t qtype = ex->query->qtype;
	bool aa = (flags & MD_FLAG_AA) != 0;
	char name[MD_NAME_STRLEN], buf[16];

	if (MD_RCODE(flags) != MD_RCODE_NOERROR) {
		if (md_name_to_str(ex->query->qname, name, sizeof(name)) != 0)
			md_strlcpy(name, textname, sizeof(name));
		md_tool_name_nodot(name);
		printf("** server can't find %s: %s\n", name,
		    rcode_text(MD_RCODE(flags), buf, sizeof(buf)));
		s->failed = true;
		return false;
	}
	if (!aa && !s->reverse && (!defaults || qtype == MD_TYPE_A))
		printf("Non-authoritative answer:\n");
	if (ldns_rr_list_rr_count(ldns_pkt_answer(pkt)) > 0) {
		if (print_section(ldns_pkt_answer(pkt), true,
			defaults && qtype == MD_TYPE_AAAA) != 0)
			return false;
	} else if (defaults && qtype == MD_TYPE_A) {
		s->a_noanswer = true;
	} else if (!defaults || (qtype == MD_TYPE_AAAA && s->a_noanswer)) {
		printf("*** Can't find %s: No answer\n", textname);
	}
	if (!aa && qtype != MD_TYPE_A && qtype != MD_TYPE_AAAA) {
		printf("\nAuthoritative answers can be found from:\n");
		if (print_section(ldns_pkt_authority(pkt), false, false) != 0 ||
		    print_section(ldns_pkt_additional(pkt), false, false) != 0)
			return false;
	}
	return true;
}

int
main(int argc, char **argv)
{
	struct nsl_opts o;
	struct nsl_state s;
	struct md_tool_server srv;
	struct md_tool_query q;
	uint16_t types[2];
	size_t ntypes = 0;
	char rev[MD_NAME_STRLEN];
	const char *qname;
	bool reverse = false, defaults;
	int status = MD_TOOL_EXIT_OK;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	o.port = MD_TOOL_PORT;
	o.timeout_s = NSL_TIMEOUT_S;
	o.tries = NSL_TRIES;
	parse_args(&o, argc, argv);

	qname = o.name;
	if ((!o.type_set || o.qtype == MD_TYPE_PTR) &&
	    md_tool_reverse_name(o.name, rev, sizeof(rev)) == 0) {
		qname = rev;
		reverse = true;
		o.qtype = MD_TYPE_PTR;
		o.type_set = true;
	}
	defaults = !o.type_set;
	if (defaults) {
		types[ntypes++] = MD_TYPE_A;
		types[ntypes++] = MD_TYPE_AAAA;
	} else {
		types[ntypes++] = o.qtype;
	}
	md_tool_query_init(&q);
	q.edns = false; /* nslookup sends plain queries */
	if (md_tool_query_set_name(&q, qname) != 0)
		usage_error("'%s' is not a valid domain name", qname);
	if (o.server != NULL) {
		if (md_tool_server_set(&srv, o.server, (uint16_t)o.port) != 0)
			usage_error("couldn't get address for '%s'", o.server);
	} else {
		md_tool_server_default(
		    &srv, MD_TOOL_RESOLV_CONF, (uint16_t)o.port);
	}
	if (reverse) {
		/*
		 * nslookup 9.18 prints neither the server lines nor
		 * "Non-authoritative answer:" when given an address.
		 */
		s.header_done = true;
		s.reverse = true;
		md_strlcpy(rev, qname, sizeof(rev));
		md_tool_name_nodot(rev);
		qname = rev;
	}

	for (size_t i = 0; i < ntypes; i++) {
		struct md_tool_exchange ex;
		ldns_pkt *pkt = NULL;
		bool more;
		int rc;

		memset(&ex, 0, sizeof(ex));
		q.qtype = types[i];
		ex.server = &srv;
		ex.query = &q;
		ex.timeout_ms = (int)o.timeout_s * 1000;
		ex.tries = (int)o.tries;
		ex.display_name = qname;
		ex.tc_notice = true;
		rc = md_tool_exchange(&ex);
		if (rc == 0 &&
		    ldns_wire2pkt(&pkt, ex.reply, ex.reply_len) !=
			LDNS_STATUS_OK)
			rc = MD_EPARSE;
		if (rc != 0) {
			if (rc == MD_EPARSE)
				printf(";; Got bad packet\n");
			if (!ex.tcp_connect_failed)
				printf(";; no servers could be reached\n");
			md_tool_exchange_deinit(&ex);
			s.failed = true;
			break;
		}
		if (!s.header_done) {
			printf("Server:\t\t%s\nAddress:\t%s#%u\n\n", srv.name,
			    srv.host, md_tool_server_port(&srv));
			s.header_done = true;
		}
		more = print_reply(&ex, pkt, qname, defaults, &s);
		ldns_pkt_free(pkt);
		md_tool_exchange_deinit(&ex);
		if (!more)
			break;
	}
	putchar('\n');
	if (s.failed)
		status = MD_TOOL_EXIT_USAGE;
	fflush(stdout);
	return status;
}
