/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * minidig.c - the dig-style client: dig's command line (several lookups,
 * global options before the first name, local ones after it, -f batch
 * files, ~/.digrc; every option of dig 9.18 accepted), running each
 * lookup (UDP, TCP, TLS, +nssearch, or +trace through the engine in
 * dig_trace.c), the resolv.conf search list walked as dig walks it, and
 * dig's error words and exit codes.
 *
 * Not here: printing a reply (dig_print.c) and the network exchange,
 * shared with mininslookup (tool_common.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dig_print.h"
#include "dig_trace.h"
#include "dig_xfr.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

#define DIG_TIMEOUT_S 5
#define DIG_TRIES 3
#define DIG_TLS_PORT 853
#define DIG_MAX_SERVERS 8
#define DIG_BATCH_ARGS 64

/* One lookup: dig's dig_lookup_t, cloned from the default one. */
struct lookup {
	struct lookup *next;
	char name[MD_NAME_STRLEN];
	struct md_tool_query q;
	bool type_set, class_set;
	bool tcp, tcp_set, tls;
	bool bufsize_set; /* dig sends an OPT record then, even +noedns */
	int tries;
	bool ednsneg; /* +[no]ednsnegotiation: retry BADVERS with version 0 */
	struct md_dig_style st;
	bool trace, explain;
	bool noqmin, allservers; /* +trace: +noqmin, +allservers */
	bool have_seed;		 /* +seed=N */
	long long seed;
	bool onesoa;	     /* +onesoa: a transfer without its closing SOA */
	bool comments_given; /* +[no]comments was given */
	int idnin;     /* +[no]idnin; <0: when stdout is a terminal (dig) */
	int idnout;    /* +[no]idnout; the same */
	bool qr;       /* +qr: print the query sent */
	bool nssearch; /* +nssearch */
	bool ignore;   /* +ignore: no TCP retry after TC */
	bool servfail_stops; /* +[no]fail */
	struct md_tool_server servers[DIG_MAX_SERVERS];
	unsigned nservers;
	char *greeting; /* the banner, on the first lookup only */
};

/* dig's global state: what applies to every lookup. */
struct global {
	bool short_form, printcmd, yaml, json;
	bool ipv4only, ipv6only;
	long long port;
	bool port_set;
	long long timeout_s;
	struct md_sockaddr source;
	bool have_source;
	const char *tls_ca;
	bool tls_verify;
	const char *tls_hostname;
	const char *roothints;
	const char *html; /* +html=FILE: the trace as a page */
	/* +trust-anchor=FILE: +trace +dnssec validates from these */
	const char *trust_anchors[8];
	unsigned ntrust_anchors;
	const char *batchfile;
	FILE *batchfp;		      /* open while lines remain */
	unsigned addresscount;	      /* addresses of the last @server */
	bool greeted;		      /* the first banner is made */
	bool usesearch;		      /* +search (global in dig) */
	bool showsearch;	      /* +showsearch */
	int ndots;		      /* +ndots=N, or -1: resolv.conf's */
	bool usec;		      /* -u */
	bool in_digrc;		      /* parsing ~/.digrc: options only */
	struct md_tool_resolv resolv; /* search list and ndots */
	struct lookup deflt;	      /* options before the first name */
	struct lookup *head, **tail;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "Usage: minidig [@server] [-b addr] [-c class] [-f file] "
	    "[-p port] [-q name] [-r] [-u]\n"
	    "               [-t type] [-x addr] [-4|-6] [name] [type] "
	    "[class] [+opt...]\n"
	    "               [name [@server] [type] [+opt...]]...\n"
	    "Options before the first name apply to all lookups, options "
	    "after a name\nto that lookup only.  +[no]OPTION:\n"
	    "  tcp, recurse, dnssec, cd, adflag, nsid, cookie, edns[=N], "
	    "bufsize=N,\n"
	    "  time=N, tries=N, retry=N, short, identify, cmd, comments, "
	    "question,\n"
	    "  answer, authority, additional, all, stats, multiline, ttlid, "
	    "json, yaml,\n"
	    "  tls, tls-ca[=FILE], tls-hostname=NAME, trace, explain, "
	    "roothints=FILE,\n"
	    "  html=FILE, qmin, seed=N, allservers, trust-anchor=FILE "
	    "(with trace;\n"
	    "  trace with dnssec validates),\n"
	    "  search, showsearch, ndots=N, domain=NAME, qr, header-only, "
	    "ttlunits, class,\n"
	    "  aaflag, raflag, tcflag, zflag, opcode=N, qid=N, ednsflags=N, "
	    "ednsopt=C[:HEX],\n"
	    "  expire, keepalive, padding=N, subnet=ADDR/N, fail, ignore, "
	    "nssearch,\n"
	    "  split=W, rrcomments, crypto, onesoa, idnin, idnout;\n"
	    "  every other dig 9.18 option is accepted with a warning.  -r: "
	    "no ~/.digrc,\n"
	    "  -u: times in microseconds.\n"
	    "See minidig(1).  -h: this text, -v: the version.\n");
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("minidig: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(MD_TOOL_EXIT_USAGE);
}

/* dig's fatal(): a message and exit 10. */
static void __attribute__((format(printf, 1, 2), noreturn))
fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("minidig: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(MD_TOOL_EXIT_INTERNAL);
}

static void
lookup_defaults(struct lookup *l)
{
	memset(l, 0, sizeof(*l));
	md_tool_query_init(&l->q);
	l->q.ad = true; /* dig sets AD in queries (RFC 6840 §5.7) */
	l->tries = DIG_TRIES;
	l->ednsneg = true;
	l->servfail_stops = true;
	l->st.comments = true;
	l->st.question = l->st.answer = l->st.authority = l->st.additional =
	    true;
	l->st.stats = true;
	l->st.split = -1;      /* dig's 56, or 44 under +multiline */
	l->st.rrcomments = -1; /* on with +multiline */
	l->idnin = l->idnout = -1;
}

static struct lookup *
lookup_clone(struct global *g)
{
	struct lookup *l = malloc(sizeof(*l));

	if (l == NULL)
		fatal("out of memory");
	*l = g->deflt;
	l->next = NULL;
	l->greeting = NULL;
	return l;
}

static void
lookup_append(struct global *g, struct lookup *l)
{
	*g->tail = l;
	g->tail = &l->next;
}

/* dig's printgreeting(): the banner belongs to the first lookup. */
static void
greet(struct global *g, struct lookup *l, int argc, char **argv)
{
	size_t cap = 256, len;
	char *s;

	if (!g->printcmd)
		return;
	for (int i = 1; i < argc; i++)
		cap += strlen(argv[i]) + 1;
	s = malloc(cap);
	if (s == NULL)
		fatal("out of memory");
	len = (size_t)snprintf(s, cap, "%s; <<>> MiniDiG %s <<>>",
	    g->greeted ? "" : "\n", PACKAGE_VERSION);
	for (int i = 1; i < argc; i++)
		len += (size_t)snprintf(s + len, cap - len, " %s", argv[i]);
	len += (size_t)snprintf(s + len, cap - len, "\n");
	if (!g->greeted && g->addresscount != 0)
		len += (size_t)snprintf(s + len, cap - len,
		    "; (%u server%s found)\n", g->addresscount,
		    g->addresscount > 1 ? "s" : "");
	if (!g->greeted)
		snprintf(s + len, cap - len, ";; global options:%s%s\n",
		    g->short_form ? " +short" : "", g->printcmd ? " +cmd" : "");
	g->greeted = true;
	free(l->greeting);
	l->greeting = s;
}

/*
 * "+name" options may be shortened as dig allows, down to 'min'
 * characters ("+norec", "+bufs=512").
 */
static bool
opt_is(const char *word, size_t len, const char *name, size_t min)
{
	return len >= min && len <= strlen(name) &&
	    strncasecmp(word, name, len) == 0;
}

/*
 * dig's number parser and its two lines: "invalid WHAT 'V': REASON" on
 * stdout, "Couldn't parse WHAT" through fatal() (exit 10).
 */
static long long
opt_number(const char *what, const char *value, long long min, long long max)
{
	long long v;
	const char *reason = "not a valid number";

	if (value != NULL && value[0] != '\0' &&
	    strspn(value, "0123456789") == strlen(value)) {
		if (md_parse_int(value, min, max, &v) == 0)
			return v;
		reason = "out of range";
	}
	printf(
	    "invalid %s '%s': %s\n", what, value != NULL ? value : "", reason);
	fatal("Couldn't parse %s", what);
}

/* "+ednsflags=0x10": dig takes any base (strtoul with base 0). */
static long long
opt_number_any(const char *what, const char *value)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = value != NULL ? strtoul(value, &end, 0) : 0;
	if (value == NULL || *value == '\0' || *end != '\0' || errno != 0 ||
	    v > 0xffff) {
		printf("invalid %s '%s': %s\n", what,
		    value != NULL ? value : "",
		    errno == 0 && end != NULL && *end == '\0'
			? "out of range"
			: "not a valid number");
		fatal("Couldn't parse %s", what);
	}
	return (long long)v;
}

/* "+opcode=": a number 0..15 or dig's mnemonic. */
static long long
opt_opcode(const char *value)
{
	static const char *const names[] = {
	    "QUERY", "IQUERY", "STATUS", "RESERVED3", "NOTIFY", "UPDATE"};

	for (size_t i = 0;
	     value != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(value, names[i]) == 0)
			return (long long)i;
	return opt_number("opcode", value, 0, 15);
}

/* "+domain=NAME": the search list is that name alone, and on (dig). */
static void
set_domain(struct global *g, const char *value)
{
	struct md_tool_resolv *rc = &g->resolv;
	const char *why = md_tool_name_error(value);
	char d[MD_NAME_STRLEN];

	if (why != NULL) {
		fflush(stdout);
		fprintf(stderr,
		    "minidig: '%s' is not in legal name syntax (%s)\n", value,
		    why);
		exit(MD_TOOL_EXIT_USAGE);
	}
	md_strlcpy(d, value, sizeof(d));
	md_tool_name_nodot(d);
	if (strcmp(d, ".") == 0)
		return;
	md_strlcpy(rc->search[0], d, sizeof(rc->search[0]));
	rc->nsearch = 1;
	g->usesearch = true;
}

static void
set_sections(struct lookup *l, bool on)
{
	l->st.question = l->st.answer = l->st.authority = l->st.additional = on;
}

/* An option dig knows that changes nothing here: accepted, said so. */
static void
no_effect(const char *name)
{
	fprintf(stderr, ";; +%s: has no effect in minidig\n", name);
}

/* "+subnet=ADDR[/N]" (RFC 7871); "0" alone is the empty subnet. */
static void
set_subnet(struct lookup *l, const char *value)
{
	char addr[64];
	const char *slash;
	long long prefix = -1;
	size_t n;

	if (value == NULL)
		fatal("+subnet needs a value");
	slash = strchr(value, '/');
	n = slash != NULL ? (size_t)(slash - value) : strlen(value);
	if (n >= sizeof(addr))
		fatal("invalid address '%s'", value);
	memcpy(addr, value, n);
	addr[n] = '\0';
	memset(l->q.subnet_addr, 0, sizeof(l->q.subnet_addr));
	if (strcmp(addr, "0") == 0) {
		l->q.subnet_family = 0;
	} else if (inet_pton(AF_INET, addr, l->q.subnet_addr) == 1) {
		l->q.subnet_family = 1;
	} else if (inet_pton(AF_INET6, addr, l->q.subnet_addr) == 1) {
		l->q.subnet_family = 2;
	} else {
		fatal("invalid address '%s'", value);
	}
	if (slash != NULL)
		prefix = opt_number("prefix length", slash + 1, 0,
		    l->q.subnet_family == 2 ? 128 : 32);
	if (prefix < 0)
		prefix = l->q.subnet_family == 2 ? 128
		    : l->q.subnet_family == 1	 ? 32
						 : 0;
	l->q.subnet_prefix = (uint8_t)prefix;
	/* RFC 7871 §6: bits past the prefix are zero. */
	for (unsigned i = 0; i < 16; i++) {
		unsigned have =
		    (unsigned)prefix > i * 8 ? (unsigned)prefix - i * 8 : 0;
		if (have < 8)
			l->q.subnet_addr[i] &= (uint8_t)(0xff00 >> have);
	}
	l->q.subnet = true;
	l->q.edns = true;
}

/* "+ednsopt=CODE[:HEX]", CODE a number or a known option name. */
static void
add_ednsopt(struct lookup *l, const char *value)
{
	static const struct {
		const char *name;
		uint16_t code;
	} known[] = {{"NSID", 3}, {"ECS", 8}, {"CLIENT-SUBNET", 8},
	    {"EXPIRE", 9}, {"COOKIE", 10}, {"KEEPALIVE", 11},
	    {"TCP-KEEPALIVE", 11}, {"PADDING", 12}, {"CHAIN", 13},
	    {"KEY-TAG", 14}, {"EDE", 15}, {"CLIENT-TAG", 16},
	    {"SERVER-TAG", 17}};
	char code[32];
	const char *colon;
	size_t n;
	long long v = -1;
	unsigned i;

	if (value == NULL)
		fatal("ednsopt no code point specified");
	colon = strchr(value, ':');
	n = colon != NULL ? (size_t)(colon - value) : strlen(value);
	if (n >= sizeof(code))
		n = sizeof(code) - 1;
	memcpy(code, value, n);
	code[n] = '\0';
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(code, known[i].name) == 0)
			v = known[i].code;
	if (v < 0 && md_parse_int(code, 0, 65535, &v) != 0) {
		printf("invalid ednsopt '%s': not a valid number\n", code);
		fflush(stdout);
		fprintf(stderr, "minidig: bad edns code point: %s\n", code);
		exit(MD_TOOL_EXIT_USAGE);
	}
	if (l->q.nednsopt >= sizeof(l->q.ednsopt) / sizeof(l->q.ednsopt[0]))
		fatal("too many ednsopts");
	i = l->q.nednsopt;
	l->q.ednsopt[i].code = (uint16_t)v;
	l->q.ednsopt[i].len = 0;
	if (colon != NULL) {
		const char *h = colon + 1;
		size_t hl = strlen(h);

		if (hl % 2 != 0 || hl / 2 > sizeof(l->q.ednsopt[i].val))
			fatal("invalid EDNS option value: %s", h);
		for (size_t k = 0; k < hl / 2; k++) {
			unsigned b;

			if (sscanf(h + 2 * k, "%2x", &b) != 1 ||
			    !isxdigit((unsigned char)h[2 * k]) ||
			    !isxdigit((unsigned char)h[2 * k + 1]))
				fatal("invalid EDNS option value: %s", h);
			l->q.ednsopt[i].val[k] = (uint8_t)b;
		}
		l->q.ednsopt[i].len = (uint8_t)(hl / 2);
	}
	l->q.nednsopt++;
	l->q.edns = true;
}

/*
 * One "+[no]keyword[=value]" as dig 9.18 takes it: each keyword may be
 * shortened down to the length given (the first match in this order
 * wins, as dig's own table decides between "+ad"-like prefixes).  Options
 * dig knows but minidig cannot honour are accepted with a warning.
 */
static void
plus_option(struct global *g, struct lookup *l, bool batch, const char *arg)
{
	const char *word = arg + 1, *value = strchr(arg, '=');
	size_t len = value != NULL ? (size_t)(value - word) : strlen(word);
	bool on = true;

	if (value != NULL)
		value++;
	if (len > 2 && strncasecmp(word, "no", 2) == 0) {
		on = false;
		word += 2;
		len -= 2;
	}
#define IS(name, min) opt_is(word, len, name, min)
	/* The TLS options first: their names share "tls". */
	if (len == 6 && strncasecmp(word, "tls-ca", 6) == 0) {
		g->tls_verify = on;
		g->tls_ca =
		    on && value != NULL && *value != '\0' ? value : NULL;
	} else if (len == 12 && strncasecmp(word, "tls-hostname", 12) == 0) {
		if (on && value == NULL)
			usage_error("+tls-hostname needs a value");
		g->tls_hostname = on ? value : NULL;
	} else if (IS("tls-certfile", 5) || IS("tls-keyfile", 5)) {
		no_effect(len > 5 && tolower((unsigned char)word[4]) == 'k'
			? "tls-keyfile"
			: "tls-certfile");
	} else if (IS("tls", 3)) {
		l->tls = on;
	} else if (IS("tcp", 2) || IS("vc", 1)) {
		if (!batch) { /* as in dig, ignored in batch files */
			l->tcp = on;
			l->tcp_set = true;
		}
	} else if (IS("tcflag", 3)) {
		l->q.tc = on;
	} else if (IS("recurse", 3) || IS("rdflag", 2)) {
		l->q.rd = on;
	} else if (IS("raflag", 2)) {
		l->q.ra = on;
	} else if (IS("aaflag", 2) || IS("aaonly", 3)) {
		l->q.aa = on;
	} else if (IS("zflag", 1)) {
		l->q.z = on;
	} else if (IS("showsearch", 5)) {
		g->showsearch = on;
		g->usesearch = on;
	} else if (IS("showbadcookie", 5)) {
		no_effect("showbadcookie");
	} else if (IS("short", 2)) {
		g->short_form = on;
		if (on) {
			g->printcmd = false;
			set_sections(l, false);
			l->st.answer = true;
			l->st.comments = false;
			l->st.stats = false;
		}
	} else if (IS("search", 2) || IS("defname", 3)) {
		g->usesearch = on;
	} else if (IS("split", 2)) {
		l->st.split = on ? (int)opt_number("split", value, 0, 1023) : 0;
		if (l->st.split % 4 != 0) {
			/* dig: chunks of whole base64 quads. */
			l->st.split += 4 - l->st.split % 4;
			fprintf(stderr,
			    ";; Warning, split must be a multiple of 4; "
			    "adjusting to %d\n",
			    l->st.split);
		}
	} else if (IS("subnet", 2)) {
		if (on)
			set_subnet(l, value);
		else
			l->q.subnet = false;
	} else if (IS("trust-anchor", 6)) {
		/* before dig's deprecated +trusted-key ("tru", "trust") */
		if (!on) {
			g->ntrust_anchors = 0;
			return;
		}
		if (value == NULL || *value == '\0')
			usage_error("+trust-anchor needs a file");
		if (g->ntrust_anchors >=
		    sizeof(g->trust_anchors) / sizeof(g->trust_anchors[0]))
			usage_error("too many +trust-anchor files");
		g->trust_anchors[g->ntrust_anchors++] = value;
	} else if (IS("sigchase", 2) || IS("topdown", 2) ||
	    IS("trusted-key", 3) || IS("unexpected", 3) || IS("mapped", 2)) {
		/* dig 9.18's words, without a newline, as it prints them. */
		fprintf(
		    stderr, ";; +%.*s option is deprecated", (int)len, word);
	} else if (IS("cmd", 2)) {
		g->printcmd = on;
	} else if (IS("comments", 2)) {
		l->st.comments = on;
		l->comments_given = true; /* a transfer shows them only so */
	} else if (IS("cookie", 3)) {
		l->q.cookie = on;
		if (on)
			l->q.edns = true;
	} else if (IS("coflag", 3)) {
		no_effect("coflag");
	} else if (IS("crypto", 2)) {
		l->st.nocrypto = !on;
	} else if (IS("class", 2)) {
		l->st.noclass = !on;
	} else if (IS("adflag", 2)) {
		l->q.ad = on;
	} else if (IS("additional", 3)) {
		l->st.additional = on;
	} else if (IS("answer", 2)) {
		l->st.answer = on;
	} else if (IS("authority", 2)) {
		l->st.authority = on;
	} else if (IS("all", 2)) {
		set_sections(l, on);
		l->st.comments = on;
		l->st.stats = on;
		g->printcmd = on;
	} else if (IS("qr", 2)) {
		l->qr = on;
	} else if (IS("question", 2)) {
		l->st.question = on;
	} else if (IS("qid", 2)) {
		l->q.qid_set = on;
		if (on)
			l->q.qid = (uint16_t)opt_number("qid", value, 0, 65535);
	} else if (IS("cdflag", 2)) {
		l->q.cd = on;
	} else if (IS("dns64prefix", 4)) {
		no_effect("dns64prefix");
	} else if (IS("dnssec", 4)) {
		l->q.do_bit = on;
		if (on)
			l->q.edns = true;
	} else if (IS("domain", 2)) {
		if (value == NULL)
			fatal("+domain needs a value");
		set_domain(g, value);
	} else if (IS("nsid", 3)) {
		l->q.nsid = on;
		if (on)
			l->q.edns = true;
	} else if (IS("nssearch", 3)) {
		l->nssearch = on;
	} else if (IS("ndots", 2)) {
		g->ndots = (int)opt_number("ndots", value, 0, 0x7fffffff);
	} else if (IS("ednsnegotiation", 5)) {
		l->ednsneg = on;
	} else if (IS("ednsflags", 5)) {
		l->q.ednsflags =
		    on ? (uint16_t)opt_number_any("ednsflags", value) : 0;
		if (on)
			l->q.edns = true;
	} else if (IS("ednsopt", 5)) {
		if (on)
			add_ednsopt(l, value);
		else
			l->q.nednsopt = 0;
	} else if (IS("edns", 4)) {
		l->q.edns = on;
		if (on && value != NULL)
			l->q.edns_version =
			    (uint8_t)opt_number("edns", value, 0, 255);
	} else if (IS("expandaaaa", 4)) {
		l->st.expandaaaa = on;
	} else if (IS("expire", 4)) {
		l->q.expire = on;
		if (on)
			l->q.edns = true;
	} else if (on && IS("bufsize", 2)) {
		l->q.edns_size =
		    (uint16_t)opt_number("buffer size", value, 0, 65535);
		l->bufsize_set = true;
	} else if (IS("badcookie", 2)) {
		no_effect("badcookie");
	} else if (IS("besteffort", 2)) {
		/* minidig always shows what it can of a bad reply */
	} else if (on && (IS("timeout", 2) || IS("time", 2))) {
		g->timeout_s = opt_number("timeout", value, 0, 300);
		if (g->timeout_s == 0)
			g->timeout_s = 1;
	} else if (on && IS("tries", 3)) {
		l->tries = (int)opt_number("tries", value, 0, 100);
		if (l->tries == 0)
			l->tries = 1;
	} else if (on && (IS("retry", 3) || IS("retries", 3))) {
		l->tries = (int)opt_number("retries", value, 0, 99) + 1;
	} else if (IS("stats", 2)) {
		l->st.stats = on;
	} else if (IS("identify", 1)) {
		l->st.identify = on;
	} else if (IS("idnin", 1) || IS("idnout", 4)) {
		if (len > 3 && tolower((unsigned char)word[3]) == 'o')
			l->idnout = on;
		else
			l->idnin = on;
	} else if (IS("ignore", 2)) {
		l->ignore = on;
	} else if (IS("multiline", 2)) {
		l->st.multiline = on;
	} else if (IS("ttlid", 3)) {
		l->st.nottl = !on;
	} else if (IS("ttlunits", 4)) {
		l->st.ttlunits = on;
	} else if (IS("trace", 3)) {
		l->trace = on;
	} else if (IS("unknownformat", 3)) {
		l->st.unknownformat = on;
	} else if (IS("yaml", 1)) {
		g->yaml = on;
		if (on) {
			g->printcmd = false;
			l->st.stats = false;
		}
	} else if (IS("json", 1)) {
		g->json = on;
		if (on)
			g->printcmd = false;
	} else if (IS("explain", 2)) {
		l->explain = on;
	} else if (IS("qmin", 4)) {
		l->noqmin = !on;
	} else if (IS("allservers", 4)) {
		l->allservers = on;
	} else if (IS("seed", 4)) {
		l->have_seed = on;
		if (on)
			l->seed = opt_number("seed", value, 0, INT64_MAX);
	} else if (on && IS("html", 4)) {
		/* the trace drawn as a page (dig_html.c); implies +trace */
		if (value == NULL || *value == '\0')
			usage_error("+html needs a file");
		g->html = value;
		l->trace = true;
	} else if (on && IS("roothints", 3)) {
		if (value == NULL)
			usage_error("+roothints needs a file");
		g->roothints = value;
	} else if (IS("rrcomments", 2)) {
		l->st.rrcomments = on;
	} else if (IS("fail", 2)) {
		l->servfail_stops = on;
	} else if (IS("header-only", 2)) {
		l->q.header_only = on;
	} else if (IS("https-get", 6) || IS("https-post", 6) ||
	    IS("https", 3) || IS("http-plain-get", 11) ||
	    IS("http-plain-post", 11) || IS("http-plain", 3)) {
		if (on)
			no_effect("https");
	} else if (IS("keepalive", 5)) {
		l->q.keepalive = on;
		if (on)
			l->q.edns = true;
	} else if (IS("keepopen", 5)) {
		if (on)
			no_effect("keepopen");
	} else if (IS("onesoa", 2)) {
		l->onesoa = on;
	} else if (IS("opcode", 2)) {
		l->q.opcode = on ? (uint8_t)opt_opcode(value) : 0;
	} else if (IS("padding", 1)) {
		l->q.padding =
		    on ? (uint16_t)opt_number("padding", value, 0, 512) : 0;
		if (l->q.padding > 0)
			l->q.edns = true;
	} else {
		usage_error("unknown option '%s'", arg);
	}
#undef IS
}

/* The argument of "-p 53" or "-p53"; NULL at the end of the line. */
static const char *
dash_value(int argc, char **argv, int *i)
{
	if (argv[*i][2] != '\0')
		return argv[*i] + 2;
	if (*i + 1 >= argc)
		usage_error("option '%s' needs a value", argv[*i]);
	return argv[++*i];
}

static int
family(const struct global *g)
{
	return g->ipv4only ? AF_INET : g->ipv6only ? AF_INET6 : AF_UNSPEC;
}

static void
add_server(struct global *g, struct lookup *l, const char *name, bool batch)
{
	struct md_tool_server srv;
	int rc;

	rc = md_tool_server_set_af(&srv, name, 53, family(g));
	/* A numeric-looking name that is no address is not looked up. */
	if (rc != 0 && strspn(name, "0123456789.:") == strlen(name))
		rc = MD_EPARSE;
	if (rc != 0) {
		if (batch) {
			fprintf(stderr,
			    "couldn't get address for '%s': %s: skipping "
			    "lookup\n",
			    name, rc == MD_ENOTFOUND ? "not found" : "failure");
			return;
		}
		/* dig 9.18 exits 1 here, not with fatal()'s 10. */
		fprintf(stderr, "minidig: couldn't get address for '%s': %s\n",
		    name, rc == MD_ENOTFOUND ? "not found" : "failure");
		exit(MD_TOOL_EXIT_USAGE);
	}
	g->addresscount = srv.naddrs;
	if (l->nservers < DIG_MAX_SERVERS)
		l->servers[l->nservers++] = srv;
}

static void
set_source(struct global *g, const char *val)
{
	char addr[64];
	const char *hash = strchr(val, '#');
	long long port = 0;
	size_t n = hash != NULL ? (size_t)(hash - val) : strlen(val);

	if (n >= sizeof(addr))
		fatal("invalid address %s", val);
	memcpy(addr, val, n);
	addr[n] = '\0';
	if (hash != NULL && md_parse_int(hash + 1, 0, 65535, &port) != 0)
		fatal("Couldn't parse port number");
	memset(&g->source, 0, sizeof(g->source));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&g->source.ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			fatal("invalid address %s", val);
		g->source.len = sizeof(*s6);
		g->ipv6only = true;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&g->source.ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			fatal("invalid address %s", val);
		g->source.len = sizeof(*s4);
		g->ipv4only = true;
	}
	g->have_source = true;
}

static void parse_args(struct global *g, bool batch, int argc, char **argv);

/* A type, or dig's "IXFR=serial"; 0 or MD_EPARSE. */
static int
type_word(const char *s, uint16_t *type, struct lookup *l)
{
	long long serial;

	if (strncasecmp(s, "ixfr=", 5) == 0) {
		if (md_parse_int(s + 5, 0, UINT32_MAX, &serial) != 0)
			return MD_EPARSE;
		l->q.ixfr_serial = (uint32_t)serial;
		*type = MD_TYPE_IXFR;
		return 0;
	}
	return md_tool_type_parse(s, type);
}

/* A batch or ~/.digrc line split on blanks, no quoting (as dig), into
 * argv[1..] after argv0; returns the count, argv0 included. */
static int
split_line(char *line, char *argv0, char **argv)
{
	char *p = line;
	int argc = 1;

	argv[0] = argv0;
	while (*p != '\0' && argc < DIG_BATCH_ARGS) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		argv[argc++] = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
	return argc;
}

/*
 * The next batch line that names something, parsed into lookups; false
 * at the end of the file.  dig reads a line only when the lookups before
 * it are done, so an option of a later line (+noall turning the banner
 * off, say) never reaches back to an earlier one.
 */
static bool
read_batch_line(struct global *g, char *argv0)
{
	char line[4096];

	if (g->batchfp == NULL) {
		g->batchfp = strcmp(g->batchfile, "-") == 0
		    ? stdin
		    : fopen(g->batchfile, "r");
		if (g->batchfp == NULL) {
			perror(g->batchfile);
			fatal("couldn't open specified batch file");
		}
	}
	while (fgets(line, sizeof(line), g->batchfp) != NULL) {
		char *bargv[DIG_BATCH_ARGS];
		int bargc;

		if (line[0] == '\n' || line[0] == '\r' || line[0] == '#' ||
		    line[0] == ';')
			continue;
		bargc = split_line(line, argv0, bargv);
		parse_args(g, true, bargc, bargv);
		if (g->head != NULL)
			return true;
	}
	if (g->batchfp != stdin)
		fclose(g->batchfp);
	g->batchfp = NULL;
	return false;
}

/*
 * ~/.digrc, as dig reads it before the command line unless -r is given
 * anywhere on it: every line split on blanks, its options changing the
 * defaults of all lookups (names there are ignored; +tcp too, as in a
 * batch file).
 */
static void
read_digrc(struct global *g, int argc, char **argv)
{
	const char *home = getenv("HOME");
	char path[4096], line[4096];
	FILE *fp;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-r") == 0)
			return;
	if (home == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/.digrc", home) >=
		sizeof(path) ||
	    (fp = fopen(path, "r")) == NULL)
		return;
	g->in_digrc = true;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *bargv[DIG_BATCH_ARGS];
		int bargc = split_line(line, argv[0], bargv);

		parse_args(g, true, bargc, bargv);
	}
	fclose(fp);
	g->in_digrc = false;
}

/*
 * dig's parse_args(): before the first name every option changes the
 * default lookup; a name (or -q, -x) starts a new lookup cloned from it,
 * and what follows changes that lookup.  A word is a type or a class
 * while no -t/-c was given.  In a batch line each line starts a fresh
 * clone.
 */
static void
parse_args(struct global *g, bool batch, int argc, char **argv)
{
	struct lookup *l = g->in_digrc ? &g->deflt
	    : batch		       ? lookup_clone(g)
				       : &g->deflt;
	bool need_clone = !batch, open_type_class = true, first = true;
	bool any = false;
	uint16_t v16;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char rev[MD_NAME_STRLEN];
		const char *name = NULL;

		if (!batch &&
		    (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			usage(stdout);
			exit(MD_TOOL_EXIT_OK);
		}
		if (!batch &&
		    (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0)) {
			printf("MiniDiG %s\n", PACKAGE_VERSION);
			exit(MD_TOOL_EXIT_OK);
		}
		if (a[0] == '@') {
			if (a[1] == '\0')
				usage_error("'@' needs a server address");
			add_server(g, l, a + 1, batch);
			continue;
		}
		if (a[0] == '+') {
			plus_option(g, l, batch, a);
			continue;
		}
		if (a[0] == '-' && (a[1] == '4' || a[1] == '6') &&
		    a[2] == '\0') {
			if ((a[1] == '4' && g->ipv6only && !g->have_source) ||
			    (a[1] == '6' && g->ipv4only && !g->have_source))
				fatal("only one of -4 and -6 allowed");
			g->ipv4only = a[1] == '4';
			g->ipv6only = a[1] == '6';
			continue;
		}
		if (a[0] == '-' &&
		    (a[1] == 'r' || a[1] == 'u' || a[1] == 'm') &&
		    a[2] == '\0') {
			/* -r was seen before ~/.digrc; -m is BIND's own
			 * memory debugging. */
			if (a[1] == 'u')
				g->usec = true;
			continue;
		}
		if (a[0] == '-' && (a[1] == 'k' || a[1] == 'y')) {
			(void)dash_value(argc, argv, &i);
			fprintf(stderr,
			    ";; -%c: TSIG is not supported; the query is not "
			    "signed\n",
			    a[1]);
			continue;
		}
		if (a[0] == '-' && a[1] != '\0' &&
		    strchr("bcfpqtx", a[1]) != NULL) {
			char opt = a[1];
			const char *val = dash_value(argc, argv, &i);

			switch (opt) {
			case 'b':
				set_source(g, val);
				break;
			case 'c':
				open_type_class = false;
				if (md_tool_class_parse(val, &v16) != 0) {
					fprintf(stderr,
					    ";; Warning, ignoring invalid "
					    "class %s\n",
					    val);
					break;
				}
				if (l->class_set)
					fprintf(stderr,
					    ";; Warning, extra class option\n");
				l->q.qclass = v16;
				l->class_set = true;
				break;
			case 'f':
				g->batchfile = val;
				break;
			case 'p':
				if (md_parse_int(val, 0, 65535, &g->port) !=
				    0) {
					/* dig's two lines, and its exit 1 */
					printf("invalid port number '%s': %s\n",
					    val,
					    strspn(val, "0123456789") ==
							strlen(val) &&
						    *val != '\0'
						? "out of range"
						: "not a valid number");
					fflush(stdout);
					fprintf(stderr,
					    "minidig: Couldn't "
					    "parse port number\n");
					exit(MD_TOOL_EXIT_USAGE);
				}
				g->port_set = true;
				break;
			case 't':
				open_type_class = false;
				if (type_word(val, &v16, l) != 0) {
					fprintf(stderr,
					    ";; Warning, ignoring invalid "
					    "type %s\n",
					    val);
					break;
				}
				if (l->type_set)
					fprintf(stderr,
					    ";; Warning, extra type option\n");
				l->q.qtype = v16;
				l->type_set = true;
				if (v16 == MD_TYPE_ANY && !l->tcp_set)
					l->tcp = true;
				break;
			case 'q':
				name = val;
				break;
			case 'x':
				if (md_tool_reverse_name(
					val, rev, sizeof(rev)) != 0) {
					fprintf(stderr,
					    "Invalid IP address %s\n", val);
					exit(MD_TOOL_EXIT_USAGE);
				}
				name = rev;
				break;
			}
			if (name == NULL)
				continue;
		} else if (a[0] == '-' && a[1] != '\0') {
			usage_error("unknown option '%s'", a);
		} else if (open_type_class && type_word(a, &v16, l) == 0) {
			if (l->type_set)
				fprintf(
				    stderr, ";; Warning, extra type option\n");
			l->q.qtype = v16;
			l->type_set = true;
			if (v16 == MD_TYPE_ANY && !l->tcp_set)
				l->tcp = true;
			continue;
		} else if (open_type_class &&
		    md_tool_class_parse(a, &v16) == 0) {
			if (l->class_set)
				fprintf(
				    stderr, ";; Warning, extra class option\n");
			l->q.qclass = v16;
			l->class_set = true;
			continue;
		} else {
			name = a;
		}
		/* A name: a new lookup (none from ~/.digrc, as in dig). */
		if (g->in_digrc)
			continue;
		if (need_clone)
			l = lookup_clone(g);
		need_clone = true;
		if (md_strlcpy(l->name, name, sizeof(l->name)) >=
		    sizeof(l->name))
			usage_error("name too long");
		if (name == rev && !l->type_set)
			l->q.qtype = MD_TYPE_PTR;
		if (first) {
			greet(g, l, argc, argv);
			first = false;
		}
		lookup_append(g, l);
		any = true;
	}
	if (g->in_digrc)
		return;
	if (batch) {
		if (!need_clone) /* the line named nothing */
			free(l);
		return;
	}
	if (g->batchfile != NULL) {
		/* dig: the first line now, each next one when the lookups
		 * before it are done (main()). */
		(void)read_batch_line(g, argv[0]);
		return;
	}
	if (!any) {
		/* dig with no name asks for the root's NS set. */
		l = lookup_clone(g);
		md_strlcpy(l->name, ".", sizeof(l->name));
		l->q.qtype = MD_TYPE_NS;
		greet(g, l, argc, argv);
		lookup_append(g, l);
	}
}

/* ---- running a lookup -------------------------------------------------- */

static void
join_args(char *buf, size_t size, int argc, char **argv)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 1; i < argc && len < size; i++)
		len += (size_t)snprintf(
		    buf + len, size - len, "%s%s", i > 1 ? " " : "", argv[i]);
}

static int
run_trace(const struct global *g, const struct lookup *l, int argc, char **argv)
{
	struct md_dig_trace_opts o;
	static char cmdline[4096];
	int rc;

	memset(&o, 0, sizeof(o));
	memcpy(o.qname, l->q.qname, md_name_len(l->q.qname));
	o.qtype = l->q.qtype;
	o.roothints =
	    g->roothints != NULL ? g->roothints : getenv("MINIDIG_ROOTHINTS");
	if (l->nservers > 0) {
		o.have_server = true;
		o.server = l->servers[0].addr;
	}
	o.explain = l->explain;
	o.json = g->json;
	o.html = g->html;
	o.tcp = l->tcp;
	o.ipv4_only = g->ipv4only;
	o.ipv6_only = g->ipv6only;
	o.edns = l->q.edns;
	o.bufsize = l->q.edns_size;
	o.timeout_s = (unsigned)g->timeout_s;
	o.qmin = !l->noqmin;
	o.have_seed = l->have_seed;
	o.seed = (uint64_t)l->seed;
	o.allservers = l->allservers;
	o.cmd = g->printcmd;
	o.dnssec = l->q.do_bit;
	for (unsigned i = 0; i < g->ntrust_anchors; i++)
		o.trust_anchors[i] = g->trust_anchors[i];
	o.ntrust_anchors = g->ntrust_anchors;
	join_args(cmdline, sizeof(cmdline), argc, argv);
	o.cmdline = cmdline;
	rc = md_dig_trace(&o, stdout);
	fflush(stdout);
	return rc;
}

/* Did the server answer BADVERS (extended rcode 16, RFC 6891 §9)? */
static bool
badvers(const struct md_tool_exchange *ex)
{
	ldns_pkt *pkt = NULL;
	bool bad = false;

	if (ldns_wire2pkt(&pkt, ex->reply, ex->reply_len) != LDNS_STATUS_OK)
		return false;
	bad = ldns_pkt_edns_extended_rcode(pkt) == 1 &&
	    ldns_pkt_get_rcode(pkt) == 0;
	ldns_pkt_free(pkt);
	return bad;
}

/* Print the banner once, where dig does: just before the first output. */
static void
print_greeting(const struct global *g, struct lookup *l)
{
	/* Kept: each search step +showsearch prints repeats it, as dig. */
	if (l->greeting != NULL && !g->short_form && g->printcmd)
		fputs(l->greeting, stdout);
}

/* AXFR, IXFR: over TCP, several messages, as dig transfers a zone. */
static int
run_xfr(const struct global *g, struct lookup *l, const struct md_dig_style *st,
    struct md_tool_server *srv, const char *qtext, uint16_t port)
{
	struct md_dig_xfr_opts o;
	int rc;

	md_tool_server_set_port(srv, port);
	/* dig asks for a transfer without RD. */
	l->q.rd = false;
	memset(&o, 0, sizeof(o));
	o.server = srv;
	o.query = &l->q;
	o.source = g->have_source ? &g->source : NULL;
	o.style = st;
	o.greeting = l->greeting != NULL && !g->short_form && g->printcmd
	    ? l->greeting
	    : NULL;
	o.display_name = qtext;
	o.timeout_ms = (int)g->timeout_s * 1000;
	o.tries = l->tries;
	/* dig's +onesoa shortens an AXFR only. */
	o.onesoa = l->onesoa && l->q.qtype == MD_TYPE_AXFR;
	/* dig shows a transfer's header comments only when asked. */
	o.comments = l->comments_given && st->comments;
	rc = md_dig_xfr(&o);
	free(l->greeting);
	l->greeting = NULL;
	return rc;
}

/* +qr: the query about to be sent, as dig shows it (";; Sending:"). */
static void
print_query(const struct global *g, const struct lookup *l,
    struct md_tool_query *q, const struct md_tool_server *srv)
{
	struct md_dig_style st = l->st;
	struct md_tool_exchange qex;
	struct md_tool_query shown;
	uint8_t buf[MD_TOOL_QUERY_MAX];
	size_t len = 0, size;
	ldns_pkt *pkt = NULL;

	if (g->short_form || g->yaml || g->json)
		return;
	if (!q->qid_set) {
		/* The printed ID is the one sent. */
		q->qid = (uint16_t)md_random_u32();
		q->qid_set = true;
	}
	/* dig shows the padding option empty, and the size with it. */
	shown = *q;
	if (md_tool_query_wire(&shown, q->qid, buf, sizeof(buf), &len) != 0)
		return;
	size = len;
	if (shown.padding > 0 &&
	    shown.nednsopt < sizeof(shown.ednsopt) / sizeof(shown.ednsopt[0])) {
		shown.padding = 0;
		shown.ednsopt[shown.nednsopt].code = 12;
		shown.ednsopt[shown.nednsopt++].len = 0;
	}
	if (md_tool_query_wire(&shown, q->qid, buf, sizeof(buf), &len) != 0 ||
	    ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK)
		return;
	memset(&qex, 0, sizeof(qex));
	qex.server = srv;
	qex.query = &shown;
	qex.reply = buf;
	qex.reply_len = len;
	st.sending = true;
	st.stats = false;
	if (md_dig_print_reply(&st, &qex, pkt) == 0 && l->st.stats)
		printf(";; QUERY SIZE: %zu\n\n", size);
	ldns_pkt_free(pkt);
}

/* What one search step did. */
enum step {
	STEP_DONE, /* printed: the lookup is over */
	STEP_NEXT, /* NXDOMAIN with another name to try */
};

/*
 * Where a step stands in dig's search walk.  Its statistics depend on
 * it, as in dig 9.18: an NXDOMAIN that ends a walk (or one that could
 * have started one) prints them with the reply; any reply then prints
 * them (again) when it is a NOERROR or no search domain is in use.
 */
struct step_ctx {
	bool more;	  /* another name follows */
	bool origin;	  /* a search domain is in use for this step */
	bool need_search; /* asked as is first (enough dots) */
};

/*
 * Ask for 'name' (one step of the search list) and print the reply,
 * unless it is an NXDOMAIN and 'more' names are left: then it is shown
 * only under +showsearch, and *step says to go on.
 */
static int
run_step(const struct global *g, struct lookup *l, const char *name,
    const struct step_ctx *sc, enum step *step)
{
	struct md_tool_server def, *servers = l->servers;
	unsigned nservers = l->nservers;
	uint16_t port = g->port_set ? (uint16_t)g->port
	    : l->tls		    ? DIG_TLS_PORT
				    : MD_TOOL_PORT;
	char qtext[MD_NAME_STRLEN];
	struct md_dig_style st = l->st;
	struct md_tool_exchange ex;
	ldns_pkt *pkt = NULL;
	ldns_status pst;
	int rc = -ETIMEDOUT, status = MD_TOOL_EXIT_INTERNAL;
	bool user_qid = l->q.qid_set, stats_now = false, stats_later;
	bool tty = isatty(STDOUT_FILENO) == 1 && getenv("IDN_DISABLE") == NULL;

	*step = STEP_DONE;
	/* dig 9.18: names shown in Unicode by default only on a terminal,
	 * and not with IDN_DISABLE set. */
	st.idnout = l->idnout < 0 ? tty : l->idnout != 0;
	if (md_tool_query_set_name(&l->q, name) != 0) {
		fflush(stdout);
		fprintf(stderr, "minidig: '%s' is not a legal name\n", name);
		exit(MD_TOOL_EXIT_INTERNAL);
	}
	if (nservers == 0) {
		md_tool_server_default(&def, MD_TOOL_RESOLV_CONF, port);
		servers = &def;
		nservers = 1;
	}
	/* dig names the query without the final dot in its TCP errors. */
	md_strlcpy(qtext, name, sizeof(qtext));
	md_tool_name_nodot(qtext);
	st.short_form = g->short_form;
	st.yaml = g->yaml;
	st.json = g->json;
	st.edns_sent = l->q.edns;
	st.dnssec = l->q.do_bit;
	st.usec = g->usec;
	if (l->q.qtype == MD_TYPE_AXFR || l->q.qtype == MD_TYPE_IXFR)
		return run_xfr(g, l, &st, servers, qtext, port);

	memset(&ex, 0, sizeof(ex));
	for (unsigned i = 0; i < nservers; i++) {
		md_tool_exchange_deinit(&ex);
		memset(&ex, 0, sizeof(ex));
		md_tool_server_set_port(&servers[i], port);
		ex.server = &servers[i];
		ex.query = &l->q;
		ex.tcp = l->tcp;
		ex.tls = l->tls;
		ex.tls_verify = g->tls_verify;
		ex.tls_ca = g->tls_ca;
		ex.tls_hostname = g->tls_hostname;
		ex.source = g->have_source ? &g->source : NULL;
		/* dig says it as a comment: not under +nocomments, +noall. */
		ex.tc_notice =
		    l->st.comments && !g->short_form && !g->yaml && !g->json;
		ex.warn_short = true;
		ex.timeout_ms = (int)g->timeout_s * 1000;
		ex.tries = l->tries;
		ex.display_name = qtext;
		ex.ignore_tc = l->ignore;
		if (l->qr && !user_qid)
			l->q.qid_set = false; /* a new ID for each query */
		if (l->qr) {
			/* dig's banner goes with the first query sent, once. */
			print_greeting(g, l);
			free(l->greeting);
			l->greeting = NULL;
			print_query(g, l, &l->q, &servers[i]);
		}
		rc = md_tool_exchange(&ex);
		if (rc == 0 && l->ednsneg && l->q.edns &&
		    l->q.edns_version > 0 && badvers(&ex)) {
			/* RFC 6891 §6.1.3: ask again with version 0. */
			printf(";; BADVERS, retrying with EDNS version 0.\n");
			l->q.edns_version = 0;
			i--;
			continue;
		}
		if (rc == 0 && !l->servfail_stops && i + 1 < nservers &&
		    ex.reply_len >= 4 &&
		    MD_RCODE(md_read_u16(ex.reply + 2)) == MD_RCODE_SERVFAIL) {
			/* +nofail: a SERVFAIL sends us to the next server. */
			printf(";; Got SERVFAIL reply from %s, trying next "
			       "server\n",
			    servers[i].host);
			continue;
		}
		if (rc == 0 || rc == -ENOMEM || rc == MD_EPARSE)
			break;
	}
	if (!user_qid)
		l->q.qid_set = false;
	if (rc == -ENOMEM || rc == MD_EPARSE) {
		fprintf(stderr, "minidig: %s\n", md_strerror(rc));
		goto cleanup;
	}
	if (rc != 0) {
		/* After a failed TCP connect dig has said all it says. */
		if (!(ex.used_tcp && ex.tcp_connect_failed)) {
			/* No banner when no socket could be made (dig). */
			if (!ex.setup_failed)
				print_greeting(g, l);
			printf(";; no servers could be reached\n");
		}
		status = MD_TOOL_EXIT_NOREPLY;
		goto cleanup;
	}
	pst = ldns_wire2pkt(&pkt, ex.reply, ex.reply_len);
	if (pst != LDNS_STATUS_OK) {
		/*
		 * A reply we cannot read: dig parses it "best effort" and
		 * exits 0; we say so, show the header and what ldns
		 * reported, and never crash.
		 */
		printf(";; Warning: Message parser reports malformed message "
		       "packet.\n");
		print_greeting(g, l);
		pkt = ldns_pkt_new();
		if (pkt == NULL)
			goto cleanup;
		st.question = st.answer = st.authority = st.additional = false;
		rc = md_dig_print_reply(&st, &ex, pkt);
		if (!g->short_form && !g->yaml && !g->json)
			printf(";; Got bad packet: %s\n",
			    ldns_get_errorstr_by_id(pst));
		status = rc == 0 ? MD_TOOL_EXIT_OK : MD_TOOL_EXIT_INTERNAL;
		goto cleanup;
	}
	if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN &&
	    (sc->origin || sc->need_search)) {
		stats_now = true;
		if (sc->more) {
			*step = STEP_NEXT;
			status = MD_TOOL_EXIT_OK;
			if (!g->showsearch)
				goto cleanup;
		}
	}
	stats_later =
	    ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NOERROR || !sc->origin;
	print_greeting(g, l);
	if (!g->short_form && !g->yaml && !g->json) {
		st.stats = l->st.stats && (stats_now || stats_later);
		rc = md_dig_print_reply(&st, &ex, pkt);
		if (rc == 0 && st.stats && stats_now && stats_later) {
			/* dig prints them twice here: only the statistics */
			st.comments = st.question = st.answer = false;
			st.authority = st.additional = false;
			rc = md_dig_print_reply(&st, &ex, pkt);
		}
	} else {
		rc = md_dig_print_reply(&st, &ex, pkt);
	}
	status = rc == 0 ? MD_TOOL_EXIT_OK : MD_TOOL_EXIT_INTERNAL;
cleanup:
	fflush(stdout);
	ldns_pkt_free(pkt);
	md_tool_exchange_deinit(&ex);
	return status;
}

/*
 * +nssearch (dig's ns_search_only): the NS set of the name from the
 * server, then each name server's addresses (the system's resolver, as
 * dig) asked for the zone's SOA without recursion, one line each:
 * "SOA ... from server ADDR in N ms."  dig asks them all at once and
 * prints in order of arrival; minidig asks in turn, in the NS set's
 * order.  Exit 9 when no name server answered.
 */
static int
run_nssearch(const struct global *g, struct lookup *l)
{
	struct md_tool_server def, *servers = l->servers;
	struct md_tool_exchange ex;
	uint16_t port = g->port_set ? (uint16_t)g->port : MD_TOOL_PORT;
	char nsnames[DIG_MAX_SERVERS][MD_NAME_STRLEN];
	unsigned nns = 0, asked = 0, answered = 0, unresolved = 0;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *an;
	int rc;

	if (md_tool_query_set_name(&l->q, l->name) != 0)
		return MD_TOOL_EXIT_INTERNAL;
	if (l->nservers == 0) {
		md_tool_server_default(&def, MD_TOOL_RESOLV_CONF, port);
		servers = &def;
	}
	md_tool_server_set_port(&servers[0], port);
	l->q.qtype = MD_TYPE_NS;
	memset(&ex, 0, sizeof(ex));
	ex.server = &servers[0];
	ex.query = &l->q;
	ex.tcp = l->tcp;
	ex.timeout_ms = (int)g->timeout_s * 1000;
	ex.tries = l->tries;
	ex.display_name = l->name;
	rc = md_tool_exchange(&ex);
	if (rc != 0 ||
	    ldns_wire2pkt(&pkt, ex.reply, ex.reply_len) != LDNS_STATUS_OK) {
		md_tool_exchange_deinit(&ex);
		printf(";; no servers could be reached\n");
		return MD_TOOL_EXIT_NOREPLY;
	}
	an = ldns_pkt_answer(pkt);
	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an) &&
	     nns < DIG_MAX_SERVERS;
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		char *txt;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS ||
		    ldns_rr_rd_count(rr) != 1)
			continue;
		txt = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (txt != NULL) {
			/* dig names them without the final dot */
			md_strlcpy(nsnames[nns], txt, MD_NAME_STRLEN);
			md_tool_name_nodot(nsnames[nns++]);
		}
		free(txt);
	}
	ldns_pkt_free(pkt);
	pkt = NULL;
	md_tool_exchange_deinit(&ex);
	/* Not a zone's name: dig prints nothing. */
	for (unsigned i = 0; i < nns; i++) {
		struct md_tool_server ns;
		struct md_tool_query q = l->q;

		if (md_tool_server_set_af(&ns, nsnames[i], port, family(g)) !=
		    0) {
			fprintf(stderr,
			    "couldn't get address for '%s': "
			    "failure\n",
			    nsnames[i]);
			unresolved++;
			continue;
		}
		/* dig names these servers by address. */
		md_strlcpy(ns.name, ns.host, sizeof(ns.name));
		q.qtype = MD_TYPE_SOA;
		q.rd = false;
		memset(&ex, 0, sizeof(ex));
		ex.server = &ns;
		ex.query = &q;
		ex.tcp = l->tcp;
		ex.timeout_ms = (int)g->timeout_s * 1000;
		ex.tries = 1;
		ex.display_name = l->name;
		ex.ns_search = true;
		asked++;
		if (md_tool_exchange(&ex) == 0 &&
		    ldns_wire2pkt(&pkt, ex.reply, ex.reply_len) ==
			LDNS_STATUS_OK) {
			an = ldns_pkt_answer(pkt);
			answered++;
			for (size_t k = 0; an != NULL &&
			     k < ldns_rr_list_rr_count(an) && l->st.answer;
			     k++) {
				const ldns_rr *rr = ldns_rr_list_rr(an, k);
				struct md_tool_rr_text t;

				if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
				    md_tool_rr_text(rr, false, &t) != 0)
					continue;
				printf("SOA %s from server %s in %llu ms.\n",
				    t.rdata, ns.host,
				    (unsigned long long)ex.rtt_ms);
				md_tool_rr_text_free(&t);
			}
			ldns_pkt_free(pkt);
			pkt = NULL;
		}
		md_tool_exchange_deinit(&ex);
	}
	fflush(stdout);
	if (nns > 0 && unresolved == nns) {
		fprintf(stderr,
		    "minidig: couldn't get address for '%s': no "
		    "more\n",
		    nsnames[0]);
		return MD_TOOL_EXIT_USAGE;
	}
	if (asked > 0 && answered == 0) {
		printf(";; NS servers could not be reached\n");
		return MD_TOOL_EXIT_NOREPLY;
	}
	return MD_TOOL_EXIT_OK;
}

/*
 * One lookup: dig's name checks, then +trace, or the names of the search
 * list (dig 9.18: with +search, a name without a final dot and with
 * fewer dots than ndots is tried with each search domain, then as it
 * is; an NXDOMAIN moves on to the next one).
 */
static int
run_lookup(const struct global *g, struct lookup *l, int argc, char **argv)
{
	char names[MD_TOOL_SEARCH_MAX + 1][MD_NAME_STRLEN];
	struct md_tool_resolv rc = g->resolv;
	bool tty = isatty(STDOUT_FILENO) == 1 && getenv("IDN_DISABLE") == NULL;
	const char *why;
	struct step_ctx first = {false, false, false};
	unsigned n = 1, dots = 0;
	size_t len;
	bool absolute;
	int status = MD_TOOL_EXIT_OK;

	/* dig 9.18: a name given in Unicode is converted (IDNA2008) by
	 * default only on a terminal, and not with IDN_DISABLE set. */
	if (l->idnin < 0 ? tty : l->idnin != 0) {
		const char *idnwhy = NULL;
		char *ascii = md_tool_idn_to_ascii(l->name, &idnwhy);

		if (ascii == NULL) {
			/* dig's words, and its exit code 1. */
			fflush(stdout);
			fprintf(stderr,
			    "minidig: '%s' is not a legal IDNA2008 name (%s), "
			    "use +noidnin\n",
			    l->name, idnwhy != NULL ? idnwhy : "out of memory");
			exit(MD_TOOL_EXIT_USAGE);
		}
		md_strlcpy(l->name, ascii, sizeof(l->name));
		free(ascii);
	}
	why = md_tool_name_error(l->name);
	if (why != NULL) {
		fflush(stdout);
		fprintf(stderr, "minidig: '%s' is not a legal name (%s)\n",
		    l->name, why);
		exit(MD_TOOL_EXIT_INTERNAL);
	}
	if (l->bufsize_set)
		l->q.edns = true;
	if (!l->trace && (l->noqmin || l->have_seed || l->allservers))
		fprintf(stderr, ";; +%s: has an effect with +trace only\n",
		    l->allservers      ? "allservers"
			: l->have_seed ? "seed"
				       : "noqmin");
	if (l->trace) {
		if (md_tool_query_set_name(&l->q, l->name) != 0) {
			fprintf(stderr, "minidig: '%s' is not a legal name\n",
			    l->name);
			return MD_TOOL_EXIT_INTERNAL;
		}
		return run_trace(g, l, argc, argv);
	}
	if (l->nssearch)
		return run_nssearch(g, l);
	if (g->ndots >= 0)
		rc.ndots = (unsigned)g->ndots;
	for (const char *p = l->name; *p != '\0'; p++)
		dots += *p == '.';
	len = strlen(l->name);
	absolute = len > 0 && l->name[len - 1] == '.';
	if (g->usesearch && !absolute && dots < rc.ndots) {
		n = md_tool_search_names(
		    l->name, &rc, names, MD_TOOL_SEARCH_MAX + 1);
	} else {
		md_strlcpy(names[0], l->name, sizeof(names[0]));
		/* dig keeps the first search domain as the origin of an
		 * absolute name short of ndots (it is never appended). */
		first.origin = g->usesearch && absolute && dots < rc.ndots &&
		    rc.nsearch > 0;
		first.need_search = g->usesearch && dots >= rc.ndots;
	}
	for (unsigned i = 0; i < n; i++) {
		struct step_ctx sc = first;
		enum step step;

		if (n > 1) {
			sc.more = i + 1 < n;
			sc.origin = i + 1 < n;
		}
		/* A search name too long to exist is skipped. */
		if (sc.more && md_tool_name_error(names[i]) != NULL)
			continue;
		status = run_step(g, l, names[i], &sc, &step);
		if (step == STEP_DONE)
			break;
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct global g;
	struct lookup *l, *next;
	int status = MD_TOOL_EXIT_OK;

	/* The tool says what went wrong in dig's words; net/'s own log
	 * lines (a failed TLS check) would say it twice. */
	md_log_set_level(MD_LOG_ERR);
	/* libidn2 reads and writes names in the locale's encoding. */
	setlocale(LC_CTYPE, "");
	memset(&g, 0, sizeof(g));
	lookup_defaults(&g.deflt);
	g.printcmd = true;
	g.port = MD_TOOL_PORT;
	g.timeout_s = DIG_TIMEOUT_S;
	g.head = NULL;
	g.tail = &g.head;
	g.ndots = -1;
	md_tool_resolv_read(&g.resolv, MD_TOOL_RESOLV_CONF);
	read_digrc(&g, argc, argv);
	parse_args(&g, false, argc, argv);

	do {
		for (l = g.head; l != NULL; l = next) {
			int rc = run_lookup(&g, l, argc, argv);

			next = l->next;
			/* dig keeps the worst exit code of all lookups. */
			if (rc > status)
				status = rc;
			free(l->greeting);
			free(l);
		}
		g.head = NULL;
		g.tail = &g.head;
	} while (g.batchfile != NULL && read_batch_line(&g, argv[0]));
	return status;
}
