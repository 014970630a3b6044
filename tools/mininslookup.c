/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mininslookup.c - the nslookup-style client: its command line (options
 * as "-opt" words, a name, a server), the interactive mode (commands read
 * from stdin: a name, "server", "set OPTION", "exit"), the A-then-AAAA
 * default lookups, the PTR lookup for an address, and replies printed in
 * the sentences and exit codes of BIND 9.18 nslookup, debug blocks
 * included.
 *
 * Names are completed with resolv.conf's search list as BIND's
 * nslookup does (ndots, "set domain=", "set [no]search"), each step
 * shown under "set debug".
 *
 * Not here: the network exchange and RR text helpers (tool_common.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

/* dig's defaults, which nslookup shares: "timeout = 0" means these. */
#define NSL_UDP_TIMEOUT_S 5
#define NSL_TCP_TIMEOUT_S 10
#define NSL_TIMEOUT_MAX_S 86400
#define NSL_TRIES 3
#define NSL_LINE_MAX 4096
#define NSL_WORD_MAX 32

/*
 * The settings nslookup keeps: changed by "-opt" words and "set opt".
 * The type and class are kept as typed, as "set all" echoes them.
 */
/* resolv.conf's MAXNS: the servers nslookup tries in turn. */
#define NSL_MAX_SERVERS 3

struct nsl_settings {
	struct md_tool_server server;
	/* after 'server': the other resolv.conf servers, tried in turn
	 * after a SERVFAIL (none once a server is named) */
	struct md_tool_server next[NSL_MAX_SERVERS - 1];
	unsigned nnext;
	/* servers from resolv.conf: a reply without RA is news too */
	bool check_ra;
	char type_text[NSL_WORD_MAX];
	char class_text[NSL_WORD_MAX];
	unsigned long timeout_s; /* 0: the default */
	unsigned long tries;
	unsigned long port;
	unsigned long ndots;
	bool default_lookups; /* no type given: A, then AAAA */
	bool debug;
	bool d2;
	bool vc;
	bool vc_set;
	bool recurse;
	bool search;
	struct md_tool_resolv resolv; /* the search list ("srchlist") */
};

/* What nslookup's exit code is made of. */
struct nsl_state {
	bool query_error; /* no reply printed yet */
	bool print_error; /* a reply had an error rcode */
	bool a_noanswer;  /* the default A lookup found no answer */
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

/* nslookup's usage lines; 'full' adds ours about the options (-h). */
static void
usage(FILE *fp, bool full)
{
	fprintf(fp,
	    "Usage:\n"
	    "   mininslookup [-opt ...]             # interactive mode using "
	    "default server\n"
	    "   mininslookup [-opt ...] - server    # interactive mode using "
	    "'server'\n"
	    "   mininslookup [-opt ...] host        # just look up 'host' "
	    "using default server\n"
	    "   mininslookup [-opt ...] host server # just look up 'host' "
	    "using 'server'\n");
	if (!full)
		return;
	fprintf(fp,
	    "Options: -type=T (-query=T, -q=T), -class=C, -port=N, "
	    "-timeout=N,\n"
	    "  -retry=N, -[no]debug, -[no]recurse, -[no]vc, -[no]search, "
	    "-ndots=N,\n"
	    "  -domain=NAME, -version.\n"
	    "An address as host looks up its PTR record.  The default server "
	    "is the\nfirst nameserver of %s.\n",
	    MD_TOOL_RESOLV_CONF);
}

/*
 * nslookup's number parser: digits only, at most 'max'; on error it says
 * so on stdout and the setting keeps its value.
 */
static bool
parse_uint(
    unsigned long *out, const char *v, unsigned long max, const char *what)
{
	unsigned long long n = 0;
	const char *p;

	if (*v == '\0') {
		printf("invalid %s '%s': not a valid number\n", what, v);
		return false;
	}
	for (p = v; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p)) {
			printf(
			    "invalid %s '%s': not a valid number\n", what, v);
			return false;
		}
		n = n * 10 + (unsigned)(*p - '0');
		if (n > 0xffffffffULL)
			break;
	}
	if (n > max) {
		printf("invalid %s '%s': out of range\n", what, v);
		return false;
	}
	*out = (unsigned long)n;
	return true;
}

static bool
word_is(const char *opt, const char *word, size_t min)
{
	size_t l = strlen(opt);

	/* An abbreviation of 'word' at least 'min' long, as nslookup takes. */
	return l >= min && l <= strlen(word) && strncasecmp(opt, word, l) == 0;
}

/* "key=" prefixes: returns the value after the first matching one. */
static const char *
value_of(const char *opt, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		size_t l = strlen(*keys);

		if (strncasecmp(opt, *keys, l) == 0)
			return opt + l;
	}
	return NULL;
}

static void
set_type(struct nsl_settings *st, const char *v)
{
	uint16_t t;

	if (md_tool_type_parse(v, &t) != 0) {
		printf("unknown query type: %s\n", v);
		return;
	}
	md_strlcpy(st->type_text, v, sizeof(st->type_text));
	st->default_lookups = false;
}

static void
set_class(struct nsl_settings *st, const char *v)
{
	uint16_t c;

	if (md_tool_class_parse(v, &c) != 0) {
		printf("unknown query class: %s\n", v);
		return;
	}
	md_strlcpy(st->class_text, v, sizeof(st->class_text));
}

static void
show_settings(const struct nsl_settings *st, bool serv_only)
{
	printf("Default server: %s\nAddress: %s#%lu\n", st->server.name,
	    st->server.host, st->port);
	if (serv_only)
		return;
	printf("\nSet options:\n");
	printf("  %s\t\t\t%s\t\t%s\n", st->vc ? "vc" : "novc",
	    st->debug ? "debug" : "nodebug", st->d2 ? "d2" : "nod2");
	printf("  %s\t\t%s\n", st->search ? "search" : "nosearch",
	    st->recurse ? "recurse" : "norecurse");
	printf("  timeout = %lu\t\tretry = %lu\tport = %lu\tndots = %lu\n",
	    st->timeout_s, st->tries, st->port, st->ndots);
	printf(
	    "  querytype = %-8s\tclass = %s\n", st->type_text, st->class_text);
	printf("  srchlist = ");
	for (unsigned i = 0; i < st->resolv.nsearch; i++)
		printf("%s%s", i > 0 ? "/" : "", st->resolv.search[i]);
	putchar('\n');
}

/* One option, "-opt" on the command line or "set opt"; nslookup's names. */
static void
set_option(struct nsl_settings *st, const char *opt)
{
	static const char *const type_keys[] = {
	    "type=", "ty=", "querytype=", "query=", "qu=", "q=", NULL};
	static const char *const class_keys[] = {"class=", "cl=", NULL};
	static const char *const port_keys[] = {"port=", "po=", NULL};
	static const char *const timeout_keys[] = {"timeout=", "t=", NULL};
	static const char *const retry_keys[] = {"retry=", "ret=", NULL};
	static const char *const domain_keys[] = {"domain=", "do=", NULL};
	const char *v;
	unsigned long n;

	if (word_is(opt, "all", 3)) {
		show_settings(st, false);
	} else if ((v = value_of(opt, class_keys)) != NULL) {
		set_class(st, v);
	} else if ((v = value_of(opt, type_keys)) != NULL) {
		set_type(st, v);
	} else if ((v = value_of(opt, domain_keys)) != NULL) {
		/* nslookup: the search list becomes this one domain. */
		md_strlcpy(
		    st->resolv.search[0], v, sizeof(st->resolv.search[0]));
		if (*v != '\0')
			md_tool_name_nodot(st->resolv.search[0]);
		st->resolv.nsearch = 1;
	} else if ((v = value_of(opt, port_keys)) != NULL) {
		if (parse_uint(&n, v, 65535, "port"))
			st->port = n;
	} else if ((v = value_of(opt, timeout_keys)) != NULL) {
		if (parse_uint(&n, v, 0xffffffffUL, "timeout"))
			st->timeout_s = n;
	} else if (word_is(opt, "recurse", 3)) {
		st->recurse = true;
	} else if (word_is(opt, "norecurse", 5)) {
		st->recurse = false;
	} else if ((v = value_of(opt, retry_keys)) != NULL) {
		if (parse_uint(&n, v, 0x7fffffffUL, "tries"))
			st->tries = n;
	} else if (word_is(opt, "defname", 3) || word_is(opt, "search", 3)) {
		st->search = true;
	} else if (word_is(opt, "nodefname", 5) ||
	    word_is(opt, "nosearch", 5)) {
		st->search = false;
	} else if (word_is(opt, "vc", 2)) {
		st->vc = true;
		st->vc_set = true;
	} else if (word_is(opt, "novc", 4)) {
		st->vc = false;
		st->vc_set = true;
	} else if (word_is(opt, "debug", 3)) {
		st->debug = true;
	} else if (word_is(opt, "nodebug", 5)) {
		st->debug = false;
	} else if (word_is(opt, "d2", 2)) {
		st->d2 = true;
	} else if (word_is(opt, "nod2", 4)) {
		st->d2 = false;
	} else if (word_is(opt, "sil", 3) || word_is(opt, "fail", 3) ||
	    word_is(opt, "nofail", 5)) {
		/* Accepted for compatibility: nothing to change here. */
	} else if (strncasecmp(opt, "ndots=", 6) == 0) {
		if (parse_uint(&n, opt + 6, 128, "ndots"))
			st->ndots = n;
	} else {
		printf("*** Invalid option: %s\n", opt);
	}
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

static void
print_rdata(uint16_t type, const char *rdata)
{
	if (type < sizeof(rtype_text) / sizeof(rtype_text[0]))
		printf("%s%s\n", rtype_text[type], rdata);
	else
		printf("rdata_%u = %s\n", type, rdata);
}

/*
 * A section in nslookup's sentences ('debug' false) or as a debug block
 * (the "->" records with their TTLs).
 */
static int
print_section(const ldns_rr_list *list, bool answer, bool debug)
{
	size_t n = list == NULL ? 0 : ldns_rr_list_rr_count(list);

	/* Wire order: BIND's parser keeps it, and so does nslookup. */
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		uint16_t type = (uint16_t)ldns_rr_get_type(rr);
		struct md_tool_rr_text t;

		if (md_tool_rr_text(rr, false, &t) != 0)
			return -ENOMEM;
		md_tool_name_nodot(t.owner);
		if (debug) {
			printf("    ->  %s\n", t.owner);
			if (type == MD_TYPE_SOA) {
				print_soa(rr);
			} else {
				putchar('\t');
				print_rdata(type, t.rdata);
			}
			printf("\tttl = %u\n", (unsigned)ldns_rr_ttl(rr));
		} else if (answer &&
		    (type == MD_TYPE_A || type == MD_TYPE_AAAA)) {
			printf("Name:\t%s\nAddress: %s\n", t.owner, t.rdata);
		} else if (type == MD_TYPE_SOA) {
			printf("%s\n", t.owner);
			print_soa(rr);
		} else {
			printf("%s\t", t.owner);
			print_rdata(type, t.rdata);
		}
		md_tool_rr_text_free(&t);
	}
	return 0;
}

/* nslookup's "------------" block: every section of the reply. */
static int
print_debug(const ldns_pkt *pkt)
{
	const ldns_rr_list *qd = ldns_pkt_question(pkt);

	puts("------------");
	puts("    QUESTIONS:");
	for (size_t i = 0; qd != NULL && i < ldns_rr_list_rr_count(qd); i++) {
		struct md_tool_rr_text t;

		if (md_tool_rr_text(ldns_rr_list_rr(qd, i), true, &t) != 0)
			return -ENOMEM;
		md_tool_name_nodot(t.owner);
		printf(
		    "\t%s, type = %s, class = %s\n", t.owner, t.type, t.rclass);
		md_tool_rr_text_free(&t);
	}
	puts("    ANSWERS:");
	if (print_section(ldns_pkt_answer(pkt), true, true) != 0)
		return -ENOMEM;
	puts("    AUTHORITY RECORDS:");
	if (print_section(ldns_pkt_authority(pkt), false, true) != 0)
		return -ENOMEM;
	puts("    ADDITIONAL RECORDS:");
	if (print_section(ldns_pkt_additional(pkt), false, true) != 0)
		return -ENOMEM;
	puts("------------");
	return 0;
}

static const char *
rcode_text(unsigned rcode, char *buf, size_t size)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE", "RESERVED11", "RESERVED12", "RESERVED13",
	    "RESERVED14", "RESERVED15", "BADVERS"};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, size, "?%u", rcode);
	return buf;
}

/*
 * The name the default AAAA lookup asks for: the query name with the
 * CNAME chain of the A reply followed (at most one step per answer RR, so
 * a loop ends).  Returns it as an ldns name (caller frees) or NULL.
 */
static ldns_rdf *
chase_cnames(const ldns_pkt *pkt, const ldns_rdf *qname)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	size_t n = an == NULL ? 0 : ldns_rr_list_rr_count(an);
	ldns_rdf *cur = ldns_rdf_clone(qname);

	for (size_t step = 0; cur != NULL && step < n; step++) {
		const ldns_rr *found = NULL;

		for (size_t i = 0; i < n && found == NULL; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0)
				found = rr;
		}
		if (found == NULL)
			break;
		ldns_rdf_deep_free(cur);
		cur = ldns_rdf_clone(ldns_rr_rdf(found, 0));
	}
	return cur;
}

/* One question being asked, and what its reply means for the next one. */
struct nsl_lookup {
	char textname[MD_NAME_STRLEN]; /* for "Can't find" */
	struct md_tool_query q;
	bool tcp;
	int tries;
	bool want_aaaa;			/* set by an A reply in default mode */
	bool more;			/* search names follow this one */
	bool next;			/* NXDOMAIN: go on with the next */
	char next_name[MD_NAME_STRLEN]; /* the AAAA lookup's name */
};

/*
 * One reply, in nslookup's words (its printmessage()): the server lines,
 * the debug block, the error line or the answers.
 */
static void
print_reply(const struct nsl_settings *st, struct nsl_state *s,
    struct nsl_lookup *lk, const struct md_tool_exchange *ex,
    const ldns_pkt *pkt)
{
	const struct md_tool_server *srv = ex->server;
	uint16_t flags = md_read_u16(ex->reply + 2);
	uint16_t qtype = lk->q.qtype;
	bool aa = (flags & MD_FLAG_AA) != 0;
	bool head = !st->default_lookups || qtype == MD_TYPE_A;
	char name[MD_NAME_STRLEN], buf[16];

	s->query_error = false;
	if (head)
		printf("Server:\t\t%s\nAddress:\t%s#%u\n\n", srv->name,
		    srv->host, md_tool_server_port(srv));
	if (st->debug)
		(void)print_debug(pkt);
	if (MD_RCODE(flags) != MD_RCODE_NOERROR) {
		if (md_name_to_str(lk->q.qname, name, sizeof(name)) != 0)
			md_strlcpy(name, lk->textname, sizeof(name));
		md_tool_name_nodot(name);
		printf("** server can't find %s: %s\n", name,
		    rcode_text(MD_RCODE(flags), buf, sizeof(buf)));
		s->print_error = true;
		return;
	}
	if (st->default_lookups && qtype == MD_TYPE_A) {
		ldns_rdf *qn = NULL, *next = NULL;
		size_t pos = 0;

		if (ldns_wire2dname(&qn, lk->q.qname, md_name_len(lk->q.qname),
			&pos) == LDNS_STATUS_OK)
			next = chase_cnames(pkt, qn);
		if (next != NULL) {
			name_text(next, lk->next_name, sizeof(lk->next_name));
			lk->want_aaaa = true;
		}
		ldns_rdf_deep_free(qn);
		ldns_rdf_deep_free(next);
	}
	if (!aa && head)
		puts("Non-authoritative answer:");
	if (ldns_rr_list_rr_count(ldns_pkt_answer(pkt)) > 0) {
		(void)print_section(ldns_pkt_answer(pkt), true, false);
	} else if (st->default_lookups && qtype == MD_TYPE_A) {
		s->a_noanswer = true;
	} else if (!st->default_lookups ||
	    (qtype == MD_TYPE_AAAA && s->a_noanswer)) {
		printf("*** Can't find %s: No answer\n", lk->textname);
	}
	if (!aa && qtype != MD_TYPE_A && qtype != MD_TYPE_AAAA) {
		puts("\nAuthoritative answers can be found from:");
		(void)print_section(ldns_pkt_authority(pkt), false, false);
		(void)print_section(ldns_pkt_additional(pkt), false, false);
	}
}

/* Ask one question; false when no reply came. */
static bool
ask(struct nsl_settings *st, struct nsl_state *s, struct nsl_lookup *lk)
{
	struct md_tool_exchange ex;
	ldns_pkt *pkt = NULL;
	unsigned long t = st->timeout_s;
	uint16_t flags;
	bool servfail;
	int rc = -ETIMEDOUT;

	if (t == 0)
		t = lk->tcp ? NSL_TCP_TIMEOUT_S : NSL_UDP_TIMEOUT_S;
	if (t > NSL_TIMEOUT_MAX_S)
		t = NSL_TIMEOUT_MAX_S;
	memset(&ex, 0, sizeof(ex));
	for (unsigned i = 0; i <= st->nnext; i++) {
		struct md_tool_server *srv =
		    i == 0 ? &st->server : &st->next[i - 1];

		md_tool_exchange_deinit(&ex);
		memset(&ex, 0, sizeof(ex));
		md_tool_server_set_port(srv, (uint16_t)st->port);
		ex.server = srv;
		ex.query = &lk->q;
		ex.tcp = lk->tcp;
		ex.tc_notice = true;
		ex.timeout_ms = (int)t * 1000;
		ex.tries = lk->tries;
		ex.display_name = lk->textname;
		rc = md_tool_exchange(&ex);
		if (rc != 0)
			break;
		flags = md_read_u16(ex.reply + 2);
		servfail = MD_RCODE(flags) == MD_RCODE_SERVFAIL;
		/*
		 * BIND's nslookup: a SERVFAIL, or no recursion from a
		 * resolv.conf server when we asked for it, sends it to the
		 * next server; the last one's reply is printed.
		 */
		if (!servfail &&
		    !(st->check_ra && lk->q.rd && (flags & MD_FLAG_RA) == 0))
			break;
		printf(";; Got %s from %s%s\n",
		    servfail ? "SERVFAIL reply" : "recursion not available",
		    srv->host, i < st->nnext ? ", trying next server" : "");
	}
	if (rc == 0 &&
	    ldns_wire2pkt(&pkt, ex.reply, ex.reply_len) != LDNS_STATUS_OK)
		rc = MD_EPARSE;
	if (rc != 0) {
		if (rc == MD_EPARSE)
			printf(";; Got bad packet\n");
		/* After a TCP connect failure the line is already out. */
		if (!ex.tcp_connect_failed)
			printf(";; no servers could be reached\n");
		md_tool_exchange_deinit(&ex);
		return false;
	}
	flags = md_read_u16(ex.reply + 2);
	lk->next = lk->more && MD_RCODE(flags) == MD_RCODE_NXDOMAIN;
	/* A search step's NXDOMAIN is shown under "set debug" only. */
	if (!lk->next || st->debug)
		print_reply(st, s, lk, &ex, pkt);
	ldns_pkt_free(pkt);
	md_tool_exchange_deinit(&ex);
	return true;
}

static int
tries_of(const struct nsl_settings *st)
{
	return st->tries < 1 ? 1 : (int)st->tries;
}

/*
 * The names to ask for 'name': with "search" on, a name short of ndots
 * dots (and without a final dot) is tried with each search domain, then
 * as it is (the same walk as dig's +search).
 */
static unsigned
search_names(
    const struct nsl_settings *st, const char *name, char out[][MD_NAME_STRLEN])
{
	struct md_tool_resolv rc = st->resolv;
	unsigned n;

	if (!st->search) {
		md_strlcpy(out[0], name, MD_NAME_STRLEN);
		return 1;
	}
	rc.ndots = (unsigned)st->ndots;
	n = md_tool_search_names(name, &rc, out, MD_TOOL_SEARCH_MAX + 1);
	/* "set domain=" leaves an empty domain; BIND's nslookup gives up
	 * on it the moment it is used. */
	for (unsigned i = 0; n > 1 && i < rc.nsearch; i++) {
		if (rc.search[i][0] == '\0') {
			fflush(stdout);
			fprintf(stderr,
			    "mininslookup: '' is not in legal name syntax "
			    "(unexpected end of input)\n");
			exit(MD_TOOL_EXIT_USAGE);
		}
	}
	return n;
}

/*
 * A lookup as nslookup's addlookup() makes it, then its AAAA follow-up.
 * Type, class, recursion, tries and TCP are taken from 'at', the
 * settings when the name was read (on the command line, options after
 * the name do not change them); the rest from 'st' (as nslookup does).
 */
static void
lookup(struct nsl_settings *st, const struct nsl_settings *at,
    struct nsl_state *s, const char *text)
{
	struct nsl_lookup lk;
	char rev[MD_NAME_STRLEN], idn_name[MD_NAME_STRLEN];
	char names[MD_TOOL_SEARCH_MAX + 1][MD_NAME_STRLEN];
	unsigned n;
	uint16_t qtype = MD_TYPE_A, qclass = MD_CLASS_IN;
	const char *qname = text, *idn_why = NULL;
	char *idn;

	memset(&lk, 0, sizeof(lk));
	s->a_noanswer = false;
	if (md_tool_type_parse(at->type_text, &qtype) != 0)
		printf("unknown query type: %s\n", at->type_text);
	if (md_tool_class_parse(at->class_text, &qclass) != 0)
		printf("unknown query class: %s\n", at->class_text);
	/* An address always means its PTR record, whatever the type. */
	if (md_tool_reverse_name(text, rev, sizeof(rev)) == 0) {
		qtype = MD_TYPE_PTR;
		qname = rev;
	}
	md_strlcpy(lk.textname, qname, sizeof(lk.textname));
	if (qname == rev)
		md_tool_name_nodot(lk.textname);
	md_tool_query_init(&lk.q);
	lk.q.edns = false; /* nslookup sends plain queries */
	lk.q.rd = at->recurse;
	lk.tries = tries_of(at);
	lk.q.qtype = qtype;
	lk.q.qclass = qclass;
	/* nslookup asks ANY over TCP unless told "vc" or "novc". */
	lk.tcp = at->vc || (qtype == MD_TYPE_ANY && !at->vc_set);
	/* BIND's nslookup, writing to a terminal (and no IDN_DISABLE),
	 * asks for a Unicode name as its A-labels. */
	if (isatty(STDOUT_FILENO) == 1 && getenv("IDN_DISABLE") == NULL) {
		idn = md_tool_idn_to_ascii(qname, &idn_why);
		if (idn == NULL) {
			/* dig's words and exit code, as nslookup's. */
			fflush(stdout);
			fprintf(stderr,
			    "mininslookup: '%s' is not a legal IDNA2008 name "
			    "(%s), use +noidnin\n",
			    qname, idn_why != NULL ? idn_why : "out of memory");
			exit(MD_TOOL_EXIT_USAGE);
		}
	} else {
		idn = NULL;
	}
	if (idn != NULL &&
	    md_strlcpy(idn_name, idn, sizeof(idn_name)) < sizeof(idn_name))
		qname = idn_name;
	free(idn);
	n = search_names(st, qname, names);
	for (unsigned i = 0; i < n; i++) {
		lk.more = i + 1 < n;
		if (md_tool_query_set_name(&lk.q, names[i]) != 0) {
			const char *why;

			if (lk.more)
				continue; /* a search name too long */
			/* BIND's nslookup: a fatal error, exit 10. */
			why = md_tool_name_error(names[i]);
			fflush(stdout);
			fprintf(stderr,
			    "mininslookup: '%s' is not a legal name%s%s%s\n",
			    text, why != NULL ? " (" : "",
			    why != NULL ? why : "", why != NULL ? ")" : "");
			exit(MD_TOOL_EXIT_INTERNAL);
		}
		if (!ask(st, s, &lk))
			return;
		if (!lk.next)
			break;
	}
	if (!lk.want_aaaa)
		return;
	md_strlcpy(lk.textname, lk.next_name, sizeof(lk.textname));
	lk.q.qtype = MD_TYPE_AAAA;
	lk.tries = tries_of(st); /* nslookup: the tries of the moment */
	lk.want_aaaa = false;
	if (md_tool_query_set_name(&lk.q, lk.next_name) == 0)
		(void)ask(st, s, &lk);
}

/*
 * "server NAME": nslookup keeps the old server when NAME has no address,
 * and prints the server in use either way.
 */
static void
set_server(struct nsl_settings *st, const char *name)
{
	struct md_tool_server srv;

	if (name != NULL) {
		if (md_tool_server_set(&srv, name, (uint16_t)st->port) == 0) {
			st->server = srv;
			st->nnext = 0;
			st->check_ra = false;
		} else {
			printf(
			    "couldn't get address for '%s': not found\n", name);
		}
	}
	show_settings(st, true);
}

/* The next word of *p (blank-separated), NUL-terminated in place. */
static char *
next_word(char **p)
{
	char *w = *p, *e;

	w += strspn(w, " \t\r\n");
	if (*w == '\0')
		return NULL;
	e = w + strcspn(w, " \t\r\n");
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return w;
}

/* One command line of the interactive mode; false for "exit". */
static bool
command(struct nsl_settings *st, struct nsl_state *s, char *line)
{
	char *cmd = next_word(&line), *arg;

	if (cmd == NULL)
		return true;
	arg = next_word(&line);
	if (strcasecmp(cmd, "set") == 0 && arg != NULL) {
		set_option(st, arg);
	} else if (strcasecmp(cmd, "server") == 0 ||
	    strcasecmp(cmd, "lserver") == 0) {
		set_server(st, arg);
	} else if (strcasecmp(cmd, "exit") == 0) {
		return false;
	} else if (strcasecmp(cmd, "help") == 0 || strcmp(cmd, "?") == 0) {
		printf("The '%s' command is not yet implemented.\n", cmd);
	} else if (strcasecmp(cmd, "finger") == 0 ||
	    strcasecmp(cmd, "root") == 0 || strcasecmp(cmd, "ls") == 0 ||
	    strcasecmp(cmd, "view") == 0) {
		printf("The '%s' command is not implemented.\n", cmd);
	} else {
		lookup(st, st, s, cmd);
	}
	return true;
}

/* Commands from stdin until "exit" or EOF; a prompt only for a tty. */
static void
interactive(struct nsl_settings *st, struct nsl_state *s)
{
	char line[NSL_LINE_MAX];
	bool tty = isatty(STDIN_FILENO) == 1;

	for (;;) {
		size_t len;

		if (tty)
			fputs("> ", stdout);
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		len = strlen(line);
		if (len > 0 && line[len - 1] != '\n' && !feof(stdin)) {
			int c;

			/* Too long for a command: skip the rest. */
			while ((c = getchar()) != EOF && c != '\n')
				;
		}
		if (!command(st, s, line))
			break;
	}
}

int
main(int argc, char **argv)
{
	struct nsl_settings st, at;
	struct nsl_state s;
	const char *name = NULL, *server = NULL;
	bool have_lookup = false;

	/* The tool says what went wrong in dig's words; net/'s own log
	 * lines (a failed TLS check) would say it twice. */
	md_log_set_level(MD_LOG_ERR);
	/* libidn2 reads names in the locale's encoding. */
	setlocale(LC_CTYPE, "");
	memset(&st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	md_strlcpy(st.type_text, "A", sizeof(st.type_text));
	md_strlcpy(st.class_text, "IN", sizeof(st.class_text));
	st.tries = NSL_TRIES;
	st.port = MD_TOOL_PORT;
	md_tool_resolv_read(&st.resolv, MD_TOOL_RESOLV_CONF);
	st.ndots = st.resolv.ndots;
	st.search = true;
	st.default_lookups = true;
	st.recurse = true;
	s.query_error = true; /* until a reply is printed */
	at = st;

	/* nslookup's parse_args(): options apply in order. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, true);
			return MD_TOOL_EXIT_OK;
		}
		if (strncasecmp(a, "-ver", 4) == 0) {
			printf("mininslookup %s\n", PACKAGE_VERSION);
			return MD_TOOL_EXIT_OK;
		}
		if (a[0] == '-' && a[1] != '\0') {
			set_option(&st, a + 1);
		} else if (a[0] == '-') {
			have_lookup = true;
		} else if (!have_lookup) {
			have_lookup = true;
			name = a;
			at = st;
		} else {
			if (i + 1 < argc) {
				usage(stderr, false);
				return MD_TOOL_EXIT_USAGE;
			}
			server = a;
		}
	}
	if (server != NULL) {
		if (md_tool_server_set(&st.server, server, (uint16_t)st.port) !=
		    0) {
			fprintf(stderr,
			    "mininslookup: couldn't get address for '%s': "
			    "not found\n",
			    server);
			return MD_TOOL_EXIT_USAGE;
		}
	} else {
		struct md_tool_server all[NSL_MAX_SERVERS];

		st.nnext = md_tool_servers_default(all, NSL_MAX_SERVERS,
			       MD_TOOL_RESOLV_CONF, (uint16_t)st.port) -
		    1;
		st.server = all[0];
		st.check_ra = true;
		for (unsigned i = 0; i < st.nnext; i++)
			st.next[i] = all[i + 1];
	}
	if (name != NULL)
		lookup(&st, &at, &s, name);
	else
		interactive(&st, &s);
	putchar('\n');
	fflush(stdout);
	return s.query_error || s.print_error ? MD_TOOL_EXIT_USAGE
					      : MD_TOOL_EXIT_OK;
}
