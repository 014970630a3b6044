/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * minidig.c - the dig-style client: dig's command line (several lookups,
 * global options before the first name, local ones after it, -f batch
 * files), running each lookup (UDP, TCP, TLS, or +trace through the
 * engine in dig_trace.c) and dig's exit codes.
 *
 * Not here: printing a reply (dig_print.c) and the network exchange,
 * shared with mininslookup (tool_common.c).
 */
#include "config.h"

#include <arpa/inet.h>
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
	int idnin;  /* +[no]idnin; <0: when stdout is a terminal (dig) */
	int idnout; /* +[no]idnout; the same */
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
	const char *batchfile;
	FILE *batchfp;	       /* open while lines remain */
	unsigned addresscount; /* addresses of the last @server */
	bool greeted;	       /* the first banner is made */
	struct lookup deflt;   /* options before the first name */
	struct lookup *head, **tail;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "Usage: minidig [@server] [-b addr] [-c class] [-f file] "
	    "[-p port] [-q name]\n"
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
	    "html=FILE,\n"
	    "  roothints=FILE, qmin, seed=N, allservers\n"
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
set_sections(struct lookup *l, bool on)
{
	l->st.question = l->st.answer = l->st.authority = l->st.additional = on;
}

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
	/* The TLS options first: their names share "tls". */
	if (len == 6 && strncasecmp(word, "tls-ca", 6) == 0) {
		g->tls_verify = on;
		g->tls_ca =
		    on && value != NULL && *value != '\0' ? value : NULL;
	} else if (len == 12 && strncasecmp(word, "tls-hostname", 12) == 0) {
		if (on && value == NULL)
			usage_error("+tls-hostname needs a value");
		g->tls_hostname = on ? value : NULL;
	} else if (opt_is(word, len, "tls", 3)) {
		l->tls = on;
	} else if (opt_is(word, len, "tcp", 2) || opt_is(word, len, "vc", 2)) {
		if (!batch) { /* as in dig, ignored in batch files */
			l->tcp = on;
			l->tcp_set = true;
		}
	} else if (opt_is(word, len, "recurse", 3) ||
	    opt_is(word, len, "rdflag", 2)) {
		l->q.rd = on;
	} else if (opt_is(word, len, "short", 2)) {
		g->short_form = on;
		if (on) {
			g->printcmd = false;
			set_sections(l, false);
			l->st.answer = true;
			l->st.comments = false;
			l->st.stats = false;
		}
	} else if (opt_is(word, len, "cmd", 2)) {
		g->printcmd = on;
	} else if (opt_is(word, len, "comments", 3)) {
		l->st.comments = on;
		l->comments_given = true; /* a transfer shows them only so */
	} else if (opt_is(word, len, "cookie", 3)) {
		l->q.cookie = on;
		if (on)
			l->q.edns = true;
	} else if (opt_is(word, len, "adflag", 2)) {
		l->q.ad = on;
	} else if (opt_is(word, len, "additional", 3)) {
		l->st.additional = on;
	} else if (opt_is(word, len, "answer", 2)) {
		l->st.answer = on;
	} else if (opt_is(word, len, "authority", 2)) {
		l->st.authority = on;
	} else if (opt_is(word, len, "all", 2)) {
		set_sections(l, on);
		l->st.comments = on;
		l->st.stats = on;
		g->printcmd = on;
	} else if (opt_is(word, len, "question", 2)) {
		l->st.question = on;
	} else if (opt_is(word, len, "cdflag", 2)) {
		l->q.cd = on;
	} else if (opt_is(word, len, "dnssec", 2)) {
		l->q.do_bit = on;
		if (on)
			l->q.edns = true;
	} else if (opt_is(word, len, "nsid", 2)) {
		l->q.nsid = on;
		if (on)
			l->q.edns = true;
	} else if (opt_is(word, len, "ednsnegotiation", 5)) {
		l->ednsneg = on;
	} else if (opt_is(word, len, "edns", 4)) {
		l->q.edns = on;
		if (on && value != NULL)
			l->q.edns_version =
			    (uint8_t)opt_number("edns", value, 0, 255);
	} else if (on && opt_is(word, len, "bufsize", 1)) {
		l->q.edns_size =
		    (uint16_t)opt_number("bufsize", value, 0, 65535);
		l->bufsize_set = true;
	} else if (on &&
	    (opt_is(word, len, "time", 2) || opt_is(word, len, "timeout", 2))) {
		g->timeout_s = opt_number("time", value, 0, 300);
		if (g->timeout_s == 0)
			g->timeout_s = 1;
	} else if (on && opt_is(word, len, "tries", 3)) {
		l->tries = (int)opt_number("tries", value, 0, 100);
		if (l->tries == 0)
			l->tries = 1;
	} else if (on &&
	    (opt_is(word, len, "retry", 3) ||
		opt_is(word, len, "retries", 3))) {
		l->tries = (int)opt_number("retry", value, 0, 99) + 1;
	} else if (opt_is(word, len, "stats", 2)) {
		l->st.stats = on;
	} else if (opt_is(word, len, "identify", 2)) {
		l->st.identify = on;
	} else if (opt_is(word, len, "multiline", 2)) {
		l->st.multiline = on;
	} else if (opt_is(word, len, "idnin", 4)) {
		l->idnin = on;
	} else if (opt_is(word, len, "idnout", 4)) {
		l->idnout = on;
	} else if (opt_is(word, len, "onesoa", 2)) {
		l->onesoa = on;
	} else if (opt_is(word, len, "rrcomments", 2)) {
		l->st.rrcomments = on;
	} else if (opt_is(word, len, "crypto", 2)) {
		l->st.nocrypto = !on;
	} else if (opt_is(word, len, "split", 2)) {
		l->st.split = on ? (int)opt_number("split", value, 0, 1023) : 0;
		if (l->st.split % 4 != 0) {
			/* dig: chunks of whole base64 quads. */
			l->st.split += 4 - l->st.split % 4;
			fprintf(stderr,
			    ";; Warning, split must be a multiple of 4; "
			    "adjusting to %d\n",
			    l->st.split);
		}
	} else if (opt_is(word, len, "ttlid", 3)) {
		l->st.nottl = !on;
	} else if (opt_is(word, len, "yaml", 1)) {
		g->yaml = on;
		if (on) {
			g->printcmd = false;
			l->st.stats = false;
		}
	} else if (opt_is(word, len, "json", 1)) {
		g->json = on;
		if (on)
			g->printcmd = false;
	} else if (opt_is(word, len, "trace", 3)) {
		l->trace = on;
	} else if (opt_is(word, len, "explain", 2)) {
		l->explain = on;
	} else if (opt_is(word, len, "qmin", 4)) {
		l->noqmin = !on;
	} else if (opt_is(word, len, "allservers", 4)) {
		l->allservers = on;
	} else if (opt_is(word, len, "seed", 4)) {
		l->have_seed = on;
		if (on)
			l->seed = opt_number("seed", value, 0, INT64_MAX);
	} else if (on && opt_is(word, len, "html", 4)) {
		/* the trace drawn as a page (dig_html.c); implies +trace */
		if (value == NULL || *value == '\0')
			usage_error("+html needs a file");
		g->html = value;
		l->trace = true;
	} else if (on && opt_is(word, len, "roothints", 3)) {
		if (value == NULL)
			usage_error("+roothints needs a file");
		g->roothints = value;
	} else {
		usage_error("unknown option '%s'", arg);
	}
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
		char *bargv[DIG_BATCH_ARGS], *p = line;
		int bargc = 1;

		if (line[0] == '\n' || line[0] == '\r' || line[0] == '#' ||
		    line[0] == ';')
			continue;
		bargv[0] = argv0;
		/* dig splits batch lines on blanks, no quoting. */
		while (*p != '\0' && bargc < DIG_BATCH_ARGS) {
			p += strspn(p, " \t\r\n");
			if (*p == '\0')
				break;
			bargv[bargc++] = p;
			p += strcspn(p, " \t\r\n");
			if (*p != '\0')
				*p++ = '\0';
		}
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
 * dig's parse_args(): before the first name every option changes the
 * default lookup; a name (or -q, -x) starts a new lookup cloned from it,
 * and what follows changes that lookup.  A word is a type or a class
 * while no -t/-c was given.  In a batch line each line starts a fresh
 * clone.
 */
static void
parse_args(struct global *g, bool batch, int argc, char **argv)
{
	struct lookup *l = batch ? lookup_clone(g) : &g->deflt;
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
					/* dig's two lines, and exit 1. */
					printf("invalid port number '%s': %s\n",
					    val,
					    val[0] != '\0' &&
						    strspn(val, "0123456789") ==
							strlen(val)
						? "out of range"
						: "not a valid number");
					fflush(stdout);
					fprintf(stderr,
					    "minidig: Couldn't parse "
					    "port number\n");
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
		/* A name: a new lookup. */
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
	if (l->greeting != NULL && !g->short_form && g->printcmd)
		fputs(l->greeting, stdout);
	free(l->greeting);
	l->greeting = NULL;
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

static int
run_lookup(const struct global *g, struct lookup *l, int argc, char **argv)
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
	bool tty = isatty(STDOUT_FILENO) == 1 && getenv("IDN_DISABLE") == NULL;

	/* dig 9.18: IDN conversion by default only for a terminal, and not
	 * with IDN_DISABLE set. */
	st.idnout = l->idnout < 0 ? tty : l->idnout != 0;
	if (l->idnin < 0 ? tty : l->idnin != 0) {
		const char *why = NULL;
		char *ascii = md_tool_idn_to_ascii(l->name, &why);

		if (ascii == NULL) {
			/* dig's words, and its exit code 1. */
			fflush(stdout);
			fprintf(stderr,
			    "minidig: '%s' is not a legal IDNA2008 name (%s), "
			    "use +noidnin\n",
			    l->name, why != NULL ? why : "out of memory");
			exit(MD_TOOL_EXIT_USAGE);
		}
		md_strlcpy(l->name, ascii, sizeof(l->name));
		free(ascii);
	}
	if (md_tool_query_set_name(&l->q, l->name) != 0) {
		const char *why = md_tool_name_error(l->name);

		fprintf(stderr, "minidig: '%s' is not a legal name%s%s%s\n",
		    l->name, why != NULL ? " (" : "", why != NULL ? why : "",
		    why != NULL ? ")" : "");
		return MD_TOOL_EXIT_INTERNAL;
	}
	if (l->bufsize_set)
		l->q.edns = true;
	if (l->trace)
		return run_trace(g, l, argc, argv);
	if (nservers == 0) {
		md_tool_server_default(&def, MD_TOOL_RESOLV_CONF, port);
		servers = &def;
		nservers = 1;
	}
	/* dig names the query without the final dot in its TCP errors. */
	md_strlcpy(qtext, l->name, sizeof(qtext));
	md_tool_name_nodot(qtext);
	st.short_form = g->short_form;
	st.yaml = g->yaml;
	st.json = g->json;
	st.edns_sent = l->q.edns;
	st.dnssec = l->q.do_bit;
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
		rc = md_tool_exchange(&ex);
		if (rc == 0 && l->ednsneg && l->q.edns &&
		    l->q.edns_version > 0 && badvers(&ex)) {
			/* RFC 6891 §6.1.3: ask again with version 0. */
			printf(";; BADVERS, retrying with EDNS version 0.\n");
			l->q.edns_version = 0;
			i--;
			continue;
		}
		if (rc == 0 || rc == -ENOMEM || rc == MD_EPARSE)
			break;
	}
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
	print_greeting(g, l);
	rc = md_dig_print_reply(&st, &ex, pkt);
	status = rc == 0 ? MD_TOOL_EXIT_OK : MD_TOOL_EXIT_INTERNAL;
cleanup:
	fflush(stdout);
	ldns_pkt_free(pkt);
	md_tool_exchange_deinit(&ex);
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
