/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_print.c - print one DNS reply the way BIND 9.18 dig does: the
 * header comments, the OPT pseudosection, the sections in master-file
 * columns (or dig's +multiline form, with the SOA timers explained), the
 * statistics lines; +short; dig's +yaml layout; and minidig's +json (one
 * JSON object per reply, schema in minidig(1)).
 *
 * Not here: option parsing and the exchange.  Records come from ldns
 * (parsed by the caller) and are turned into text by tool_common.c, so
 * minidig and mininslookup print rdata alike.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <idn2.h>
#include <jansson.h>
#include <ldns/ldns.h>

#include "dig_print.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

#define TAB_WIDTH 8

/* What the wire says about the OPT record; ldns keeps only part of it. */
struct opt_rr {
	bool present;
	uint16_t udp_size;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* dig's master-file columns: TTL, class, type, rdata. */
struct columns {
	unsigned ttl, rclass, type, rdata;
};

static const char *
opcode_text(unsigned op, char *buf, size_t size)
{
	static const char *const names[] = {
	    "QUERY", "IQUERY", "STATUS", "RESERVED3", "NOTIFY", "UPDATE"};

	if (op < sizeof(names) / sizeof(names[0]))
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
	snprintf(buf, size, "?%u", rcode);
	return buf;
}

/*
 * Find the OPT record in the raw reply (RFC 6891 §6.1.2).  ldns_wire2pkt
 * folds it into the packet and drops the options we want to show.
 */
static void
find_opt(const uint8_t *pkt, size_t len, struct opt_rr *opt)
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

/* RFC 8914 §4: Extended DNS Error codes, as dig names them. */
static const char *const ede_text[] = {"Other", "Unsupported DNSKEY Algorithm",
    "Unsupported DS Digest Type", "Stale Answer", "Forged Answer",
    "DNSSEC Indeterminate", "DNSSEC Bogus", "Signature Expired",
    "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing",
    "No Zone Key Bit Set", "NSEC Missing", "Cached Error", "Not Ready",
    "Blocked", "Censored", "Filtered", "Prohibited", "Stale NXDOMAIN Answer",
    "Not Authoritative", "Not Supported", "No Reachable Authority",
    "Network Error", "Invalid Data"};

/* An option's value as hex bytes, then its printable form in quotes. */
static void
opt_bytes(FILE *fp, const uint8_t *p, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++)
		fprintf(fp, "%s%02x", i == 0 ? "" : " ", p[i]);
	fputs(" (\"", fp);
	for (uint16_t i = 0; i < len; i++)
		fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.', fp);
	fputs("\")", fp);
}

/*
 * The EDNS options, one a line, as dig prints them after 'prefix' ("; "
 * in text, spaces in YAML).
 */
/* RFC 7871 §6 CLIENT-SUBNET as dig shows it: "ADDR/SOURCE/SCOPE". */
static void
print_ecs(const uint8_t *val, uint16_t len)
{
	uint8_t addr[16] = {0};
	char text[INET6_ADDRSTRLEN];
	uint16_t family = md_read_u16(val);
	size_t n = (size_t)len - 4;
	int af = family == 2 ? AF_INET6 : AF_INET;

	if (n > (family == 2 ? 16u : 4u))
		n = family == 2 ? 16 : 4;
	memcpy(addr, val + 4, n);
	if (inet_ntop(af, addr, text, sizeof(text)) == NULL)
		text[0] = '\0';
	printf("CLIENT-SUBNET: %s/%u/%u", text, val[2], val[3]);
}

static void
print_opt_options(const struct opt_rr *opt, const char *prefix)
{
	size_t off = 0;

	while (off + 4 <= opt->rdlen) {
		uint16_t code = md_read_u16(opt->rdata + off);
		uint16_t len = md_read_u16(opt->rdata + off + 2);
		const uint8_t *val = opt->rdata + off + 4;

		if (off + 4 + len > opt->rdlen)
			break;
		off += 4 + (size_t)len;
		fputs(prefix, stdout);
		if (code == 3) {	 /* RFC 5001 NSID */
			printf("NSID:"); /* empty in a query (+qr) */
			if (len > 0) {
				putchar(' ');
				opt_bytes(stdout, val, len);
			}
		} else if (code == 10) { /* RFC 7873 COOKIE */
			printf("COOKIE: ");
			for (uint16_t i = 0; i < len; i++)
				printf("%02x", val[i]);
		} else if (code == 8 && len >= 4) { /* RFC 7871 ECS */
			print_ecs(val, len);
		} else if (code == 9 && (len == 0 || len == 4)) {
			printf("EXPIRE:"); /* RFC 7314 */
			if (len == 4)
				printf(" %u", (unsigned)md_read_u32(val));
		} else if (code == 11 && (len == 0 || len == 2)) {
			printf("TCP KEEPALIVE:"); /* RFC 7828 */
			if (len == 2)
				printf(" %u.%u secs", md_read_u16(val) / 10,
				    md_read_u16(val) % 10);
		} else if (code == 12) { /* RFC 7830 padding */
			printf("PAD:");
			if (len > 0)
				printf(" (%u bytes)", len);
		} else if (code == 15 && len >= 2) { /* RFC 8914 EDE */
			uint16_t ede = md_read_u16(val);

			printf("EDE: %u", ede);
			if (ede < sizeof(ede_text) / sizeof(ede_text[0]))
				printf(" (%s)", ede_text[ede]);
			if (len > 2)
				printf(": (%.*s)", (int)(len - 2),
				    (const char *)val + 2);
		} else {
			printf("OPT=%u: ", code);
			opt_bytes(stdout, val, len);
		}
		putchar('\n');
	}
}

static void
print_opt(const struct opt_rr *opt)
{
	uint16_t mbz = (uint16_t)(opt->ttl & 0x7fff);

	printf(";; OPT PSEUDOSECTION:\n");
	printf("; EDNS: version: %u, flags:%s", (opt->ttl >> 16) & 0xff,
	    (opt->ttl & 0x8000) != 0 ? " do" : "");
	if (mbz != 0)
		printf("; MBZ: 0x%.4x, udp: %u\n", mbz, opt->udp_size);
	else
		printf("; udp: %u\n", opt->udp_size);
	print_opt_options(opt, "; ");
}

/* ---- records in master-file columns ------------------------------------ */

/* BIND's master-file indenting (lib/dns/masterdump.c keeps columns). */
static void
indent(unsigned *col, unsigned to)
{
	unsigned from = *col, ntabs;

	if (to < from + 1)
		to = from + 1;
	ntabs = to / TAB_WIDTH - from / TAB_WIDTH;
	if (ntabs > 0) {
		for (unsigned i = 0; i < ntabs; i++)
			putchar('\t');
		from = (to / TAB_WIDTH) * TAB_WIDTH;
	}
	for (; from < to; from++)
		putchar(' ');
	*col = to;
}

static void
field(unsigned *col, const char *s)
{
	fputs(s, stdout);
	*col += (unsigned)strlen(s);
}

/* BIND's verbose TTL form ("2 hours", "1 hour 30 minutes"). */
static void
ttl_words(uint32_t t, char *buf, size_t size)
{
	static const struct {
		uint32_t secs;
		const char *unit;
	} units[] = {{604800, "week"}, {86400, "day"}, {3600, "hour"},
	    {60, "minute"}, {1, "second"}};
	size_t len = 0;
	bool zero = t == 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint32_t n = t / units[i].secs;

		if (n == 0 && !(zero && units[i].secs == 1))
			continue;
		t -= n * units[i].secs;
		len += (size_t)snprintf(buf + len, size - len, "%s%u %s%s",
		    len == 0 ? "" : " ", n, units[i].unit, n == 1 ? "" : "s");
		if (len >= size)
			return;
	}
}

/* dig +ttlunits: the TTL as "1d1h1m1s" ("0s" for zero). */
static void
field_ttlunits(unsigned *col, uint32_t t)
{
	static const struct {
		uint32_t secs;
		char unit;
	} units[] = {
	    {604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	char buf[64];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint32_t n = t / units[i].secs;

		if (n == 0 && !(t == 0 && len == 0 && units[i].secs == 1))
			continue;
		t -= n * units[i].secs;
		len += (size_t)snprintf(
		    buf + len, sizeof(buf) - len, "%u%c", n, units[i].unit);
	}
	field(col, buf);
}

/* ---- internationalised names (RFC 5890), as dig 9.18 shows them ------ */

/* Does a label of this presentation-form name start with "xn--"? */
static bool
has_alabel(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if ((p == s ||
			(p[-1] == '.' && (p - 1 == s || p[-2] != '\\'))) &&
		    strncasecmp(p, "xn--", 4) == 0)
			return true;
	}
	return false;
}

/*
 * +idnout: a name with an A-label shown in Unicode (the locale's
 * encoding).  As dig, a label that does not decode to a valid IDNA2008
 * name ends the program with dig's message and exit code.
 */
static char *
idn_filter(char *text)
{
	char *u = NULL, *back = NULL;
	int rc;

	if (!has_alabel(text))
		return text;
	rc = idn2_to_unicode_8zlz(text, &u, 0);
	/* The round trip is dig's validity check. */
	if (rc == IDN2_OK)
		rc = idn2_to_ascii_lz(u, &back, IDN2_NONTRANSITIONAL);
	free(back);
	if (rc != IDN2_OK) {
		fflush(stdout);
		fprintf(stderr,
		    "minidig: '%s' is not a legal IDNA2008 name (%s), use "
		    "+noidnout\n",
		    text, idn2_strerror(rc));
		exit(MD_TOOL_EXIT_USAGE); /* as dig */
	}
	free(text);
	return u;
}

static bool
rrcomments(const struct md_dig_style *st)
{
	return st->rrcomments < 0 ? st->multiline : st->rrcomments != 0;
}

/*
 * dig +multiline: the SOA's numbers one a line, with what they mean
 * unless +norrcomments.
 */
static void
print_soa_multiline(const struct md_dig_style *st, const ldns_rr *rr,
    const struct md_tool_rr_text *t)
{
	static const char *const what[] = {
	    "serial", "refresh", "retry", "expire", "minimum"};
	char *sp1 = strchr(t->rdata, ' ');
	char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	char words[96];

	if (sp2 == NULL || ldns_rr_rd_count(rr) != 7) {
		fputs(t->rdata, stdout);
		return;
	}
	printf("%.*s (\n", (int)(sp2 - t->rdata), t->rdata);
	for (size_t i = 0; i < 5; i++) {
		uint32_t v = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2 + i));

		if (!rrcomments(st)) {
			printf("\t\t\t\t%u%s", v, i < 4 ? "\n" : ")");
			continue;
		}
		printf("\t\t\t\t%-10u ; %s", v, what[i]);
		if (i > 0) {
			ttl_words(v, words, sizeof(words));
			printf(" (%s)", words);
		}
		putchar('\n');
	}
	if (rrcomments(st))
		printf("\t\t\t\t)");
}

/*
 * +expandaaaa and +unknownformat: the fields of 't' rewritten.  RFC 3597
 * §5: "CLASSn", "TYPEn" and "\\# LEN HEX", the hex in chunks of 28
 * bytes (22 in +multiline, one a line in parentheses), as dig does.
 */
static int
restyle(const struct md_dig_style *st, const ldns_rr *rr, bool question,
    struct md_tool_rr_text *t)
{
	char *n;

	if (st->expandaaaa && !st->unknownformat && !question &&
	    ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA &&
	    ldns_rr_rd_count(rr) == 1 &&
	    ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 16) {
		const uint8_t *a = ldns_rdf_data(ldns_rr_rdf(rr, 0));

		if ((n = malloc(40)) == NULL)
			return -ENOMEM;
		for (int i = 0; i < 8; i++)
			snprintf(n + i * 5, 6, "%02x%02x%s", a[2 * i],
			    a[2 * i + 1], i < 7 ? ":" : "");
		free(t->rdata);
		t->rdata = n;
	}
	if (!st->unknownformat)
		return 0;
	if ((n = malloc(16)) == NULL)
		return -ENOMEM;
	snprintf(n, 16, "CLASS%u", (unsigned)ldns_rr_get_class(rr));
	free(t->rclass);
	t->rclass = n;
	if ((n = malloc(16)) == NULL)
		return -ENOMEM;
	snprintf(n, 16, "TYPE%u", (unsigned)ldns_rr_get_type(rr));
	free(t->type);
	t->type = n;
	if (!question) {
		ldns_buffer *b = ldns_buffer_new(MD_WIRE_MAX);
		size_t len, cap, chunk = st->multiline ? 22 : 28, off = 0;

		if (b == NULL ||
		    ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK) {
			ldns_buffer_free(b);
			return -ENOMEM;
		}
		len = ldns_buffer_position(b);
		cap = len * 2 + (len / chunk + 2) * 8 + 64;
		if ((n = malloc(cap)) == NULL) {
			ldns_buffer_free(b);
			return -ENOMEM;
		}
		off = (size_t)snprintf(n, cap, "\\# %zu", len);
		if (st->multiline && len > 0)
			off += (size_t)snprintf(n + off, cap - off, " (");
		for (size_t i = 0; i < len; i++) {
			if (i % chunk == 0)
				off +=
				    (size_t)snprintf(n + off, cap - off, "%s",
					st->multiline && i > 0 ? "\n\t\t\t\t"
							       : " ");
			off += (size_t)snprintf(n + off, cap - off, "%02X",
			    ldns_buffer_at(b, i)[0]);
		}
		if (st->multiline && len > 0)
			snprintf(n + off, cap - off, " )");
		ldns_buffer_free(b);
		free(t->rdata);
		t->rdata = n;
	}
	return 0;
}

static int
print_rr(const struct md_dig_style *st, const ldns_rr *rr, bool question)
{
	/* dig's styles: 24/32/40/48, or 24/24/24/32 for +multiline. */
	struct columns c = {24, 32, 40, 48};
	struct md_tool_rdata_style rs = {.multiline = st->multiline,
	    .split = st->split,
	    .rrcomments = rrcomments(st),
	    .nocrypto = st->nocrypto,
	    .name_filter = st->idnout ? idn_filter : NULL};
	struct md_tool_rr_text t;
	unsigned col = 0;

	if (st->multiline || st->nottl)
		c = (struct columns){24, 24, 24, 32};
	if (st->nottl && !st->multiline)
		c = (struct columns){24, 24, 32, 40};
	if (md_tool_rr_text_style(rr, question, &rs, &t) != 0)
		return -ENOMEM;
	if (restyle(st, rr, question, &t) != 0) {
		md_tool_rr_text_free(&t);
		return -ENOMEM;
	}
	/* dig's ';' before a question is not counted in the columns. */
	if (question)
		putchar(';');
	field(&col, t.owner);
	if (!question && !st->nottl) {
		indent(&col, c.ttl);
		if (st->ttlunits)
			field_ttlunits(&col, ldns_rr_ttl(rr));
		else
			field(&col, t.ttl);
	}
	/* +noclass: the type and data move one column left (not in the
	 * question, which dig prints in full). */
	if (!st->noclass || question) {
		indent(&col, st->noclass ? c.ttl : c.rclass);
		field(&col, t.rclass);
	}
	indent(&col, st->noclass ? c.rclass : c.type);
	field(&col, t.type);
	if (!question) {
		indent(&col, st->noclass ? c.type : c.rdata);
		if (st->multiline && !st->unknownformat &&
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			print_soa_multiline(st, rr, &t);
		else
			fputs(t.rdata, stdout);
	}
	putchar('\n');
	md_tool_rr_text_free(&t);
	return 0;
}

int
md_dig_print_rr(const struct md_dig_style *st, const ldns_rr *rr)
{
	struct md_tool_rr_text t;

	struct md_tool_rdata_style rs = {
	    .split = -1, .name_filter = st->idnout ? idn_filter : NULL};

	if (!st->short_form)
		return print_rr(st, rr, false);
	/* +short: the data alone, in dig's one-line layout. */
	if (md_tool_rr_text_style(rr, false, &rs, &t) != 0)
		return -ENOMEM;
	printf("%s\n", t.rdata);
	md_tool_rr_text_free(&t);
	return 0;
}

static int
print_section(const struct md_dig_style *st, const ldns_rr_list *list,
    const char *title, bool question)
{
	if (list == NULL || ldns_rr_list_rr_count(list) == 0)
		return 0;
	if (st->comments)
		printf(";; %s SECTION:\n", title);
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++)
		if (print_rr(st, ldns_rr_list_rr(list, i), question) != 0)
			return -ENOMEM;
	if (st->comments)
		putchar('\n');
	return 0;
}

/* ---- the three layouts ------------------------------------------------- */

static int
print_short(const struct md_dig_style *st, const struct md_tool_exchange *ex,
    const ldns_pkt *pkt)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	struct md_tool_rdata_style rs = {.nocrypto = st->nocrypto,
	    .split = -1,
	    .name_filter = st->idnout ? idn_filter : NULL};

	if (!st->answer)
		return 0;
	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
		struct md_tool_rr_text t;

		if (md_tool_rr_text_style(
			ldns_rr_list_rr(an, i), false, &rs, &t) != 0)
			return -ENOMEM;
		if (restyle(st, ldns_rr_list_rr(an, i), false, &t) != 0) {
			md_tool_rr_text_free(&t);
			return -ENOMEM;
		}
		printf("%s", t.rdata);
		if (st->identify)
			printf(" from server %s in %llu ms.", ex->server->name,
			    (unsigned long long)ex->rtt_ms);
		putchar('\n');
		md_tool_rr_text_free(&t);
	}
	return 0;
}

static unsigned
reply_rcode(const uint8_t *r, const struct opt_rr *opt)
{
	unsigned rcode = MD_RCODE(md_read_u16(r + 2));

	if (opt->present)
		rcode |= (opt->ttl >> 24) << 4; /* RFC 6891 §6.1.3 */
	return rcode;
}

static void
print_flags(uint16_t flags)
{
	printf("%s%s%s%s%s%s%s", (flags & MD_FLAG_QR) != 0 ? " qr" : "",
	    (flags & MD_FLAG_AA) != 0 ? " aa" : "",
	    (flags & MD_FLAG_TC) != 0 ? " tc" : "",
	    (flags & MD_FLAG_RD) != 0 ? " rd" : "",
	    (flags & MD_FLAG_RA) != 0 ? " ra" : "",
	    (flags & MD_FLAG_AD) != 0 ? " ad" : "",
	    (flags & MD_FLAG_CD) != 0 ? " cd" : "");
}

static int
print_text(const struct md_dig_style *st, const struct md_tool_exchange *ex,
    const ldns_pkt *pkt)
{
	static const uint8_t local_zone[] = {5, 'l', 'o', 'c', 'a', 'l', 0};
	const uint8_t *r = ex->reply;
	uint16_t flags = md_read_u16(r + 2);
	struct opt_rr opt;
	unsigned rcode;
	char buf[32], when[64];
	time_t now = time(NULL);
	struct tm tm;

	find_opt(r, ex->reply_len, &opt);
	rcode = reply_rcode(r, &opt);
	if (st->comments) {
		printf(st->sending ? ";; Sending:\n" : ";; Got answer:\n");
		if (md_read_u16(r + 4) > 0 && !ex->query->header_only &&
		    md_name_is_subdomain(ex->query->qname, local_zone)) {
			/* RFC 6762 §3: names under local. belong to mDNS. */
			printf(";; WARNING: .local is reserved for Multicast "
			       "DNS\n;; You are currently testing what happens "
			       "when an mDNS query is leaked to DNS\n");
		}
		printf(";; ->>HEADER<<- opcode: %s, ",
		    opcode_text(MD_OPCODE(flags), buf, sizeof(buf)));
		printf("status: %s, id: %u\n",
		    rcode_text(rcode, buf, sizeof(buf)), md_read_u16(r));
		printf(";; flags:");
		print_flags(flags);
		if ((flags & 0x0040) != 0)
			printf("; MBZ: 0x4");
		printf("; QUERY: %u, ANSWER: %u, AUTHORITY: %u, "
		       "ADDITIONAL: %u\n",
		    md_read_u16(r + 4), md_read_u16(r + 6), md_read_u16(r + 8),
		    md_read_u16(r + 10));
		if (!st->sending && (flags & MD_FLAG_RD) != 0 &&
		    (flags & MD_FLAG_RA) == 0)
			printf(";; WARNING: recursion requested but not "
			       "available\n");
		if (!st->sending && st->edns_sent && !opt.present &&
		    (rcode == MD_RCODE_FORMERR || rcode == MD_RCODE_NOTIMP))
			printf("\n;; WARNING: EDNS query returned status %s - "
			       "retry with '%s+noedns'\n",
			    rcode_text(rcode, buf, sizeof(buf)),
			    st->dnssec ? "+nodnssec " : "");
		putchar('\n');
		if (opt.present)
			print_opt(&opt);
	}
	if ((st->question &&
		print_section(st, ldns_pkt_question(pkt), "QUESTION", true) !=
		    0) ||
	    (st->answer &&
		print_section(st, ldns_pkt_answer(pkt), "ANSWER", false) !=
		    0) ||
	    (st->authority &&
		print_section(
		    st, ldns_pkt_authority(pkt), "AUTHORITY", false) != 0) ||
	    (st->additional &&
		print_section(
		    st, ldns_pkt_additional(pkt), "ADDITIONAL", false) != 0))
		return -ENOMEM;
	if (st->sending) {
		/* the query has no statistics */
	} else if (st->stats) {
		localtime_r(&now, &tm);
		strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Z %Y", &tm);
		if (st->usec)
			printf(";; Query time: %llu usec\n",
			    (unsigned long long)ex->rtt_us);
		else
			printf(";; Query time: %llu msec\n",
			    (unsigned long long)ex->rtt_ms);
		printf(";; SERVER: %s#%u(%s) (%s)\n", ex->server->host,
		    md_tool_server_port(ex->server), ex->server->name,
		    ex->tls	       ? "TLS"
			: ex->used_tcp ? "TCP"
				       : "UDP");
		printf(";; WHEN: %s\n", when);
		printf(";; MSG SIZE  rcvd: %zu\n\n", ex->reply_len);
	} else if (st->identify) {
		printf(";; Received %zu bytes from %s#%u(%s) in %llu ms\n\n",
		    ex->reply_len, ex->server->host,
		    md_tool_server_port(ex->server), ex->server->name,
		    (unsigned long long)ex->rtt_ms);
	}
	return 0;
}

/* ---- YAML (dig's own layout) ------------------------------------------- */

/* A YAML single-quoted scalar: a quote is written twice. */
static void
yaml_quoted(const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			putchar('\'');
		putchar(*s);
	}
	putchar('\'');
}

static int
yaml_section(const ldns_rr_list *list, const char *title, bool question)
{
	if (list == NULL || ldns_rr_list_rr_count(list) == 0)
		return 0;
	printf("      %s_SECTION:\n", title);
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		struct md_tool_rr_text t;
		char line[MD_NAME_STRLEN * 2 + 4096];
		char *big = NULL;
		size_t need;

		if (md_tool_rr_text(ldns_rr_list_rr(list, i), question, &t) !=
		    0)
			return -ENOMEM;
		need = strlen(t.owner) + strlen(t.rdata) + 64;
		if (need > sizeof(line)) {
			big = malloc(need);
			if (big == NULL) {
				md_tool_rr_text_free(&t);
				return -ENOMEM;
			}
		}
		if (question)
			snprintf(big != NULL ? big : line,
			    big != NULL ? need : sizeof(line), "%s %s %s",
			    t.owner, t.rclass, t.type);
		else
			snprintf(big != NULL ? big : line,
			    big != NULL ? need : sizeof(line), "%s %s %s %s %s",
			    t.owner, t.ttl, t.rclass, t.type, t.rdata);
		printf("        - ");
		yaml_quoted(big != NULL ? big : line);
		putchar('\n');
		free(big);
		md_tool_rr_text_free(&t);
	}
	return 0;
}

static void
iso_time(const struct timeval *tv, char *buf, size_t size)
{
	struct tm tm;
	size_t n;

	gmtime_r(&tv->tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03ldZ", (long)(tv->tv_usec / 1000));
}

static int
print_yaml(const struct md_dig_style *st, const struct md_tool_exchange *ex,
    const ldns_pkt *pkt)
{
	const uint8_t *r = ex->reply;
	uint16_t flags = md_read_u16(r + 2);
	struct timeval now, sent;
	struct opt_rr opt;
	char buf[64];
	bool v6 = ex->server->addr.ss.ss_family == AF_INET6;

	find_opt(r, ex->reply_len, &opt);
	gettimeofday(&now, NULL);
	sent = now;
	sent.tv_sec -= (time_t)(ex->rtt_ms / 1000);
	sent.tv_usec -= (suseconds_t)(ex->rtt_ms % 1000) * 1000;
	if (sent.tv_usec < 0) {
		sent.tv_usec += 1000000;
		sent.tv_sec--;
	}
	printf("- type: MESSAGE\n  message:\n");
	printf("    type: %s\n",
	    (flags & MD_FLAG_RD) != 0 && (flags & MD_FLAG_RA) != 0
		? "RECURSIVE_RESPONSE"
		: "AUTH_RESPONSE");
	iso_time(&sent, buf, sizeof(buf));
	printf("    query_time: !!timestamp %s\n", buf);
	iso_time(&now, buf, sizeof(buf));
	printf("    response_time: !!timestamp %s\n", buf);
	printf("    message_size: %zub\n", ex->reply_len);
	printf("    socket_family: %s\n", v6 ? "INET6" : "INET");
	printf("    socket_protocol: %s\n", ex->used_tcp ? "TCP" : "UDP");
	printf("    response_address: \"%s\"\n", ex->server->host);
	printf("    response_port: %u\n", md_tool_server_port(ex->server));
	/* dig 9.18 reports the unbound wildcard address here. */
	printf("    query_address: \"%s\"\n", v6 ? "::" : "0.0.0.0");
	printf("    query_port: 0\n");
	printf("    response_message_data:\n");
	printf("      opcode: %s\n",
	    opcode_text(MD_OPCODE(flags), buf, sizeof(buf)));
	printf("      status: %s\n",
	    rcode_text(reply_rcode(r, &opt), buf, sizeof(buf)));
	printf("      id: %u\n", md_read_u16(r));
	printf("      flags:");
	print_flags(flags);
	putchar('\n');
	printf("      QUESTION: %u\n      ANSWER: %u\n      AUTHORITY: %u\n"
	       "      ADDITIONAL: %u\n",
	    md_read_u16(r + 4), md_read_u16(r + 6), md_read_u16(r + 8),
	    md_read_u16(r + 10));
	if (opt.present && !st->xfr) {
		printf("      OPT_PSEUDOSECTION:\n        EDNS:\n");
		printf("          version: %u\n", (opt.ttl >> 16) & 0xff);
		printf("          flags:%s\n",
		    (opt.ttl & 0x8000) != 0 ? " do" : "");
		if ((opt.ttl & 0x7fff) != 0)
			printf("          MBZ: 0x%.4x\n", opt.ttl & 0x7fff);
		printf("          udp: %u\n", opt.udp_size);
		print_opt_options(&opt, "          ");
	}
	if ((st->question &&
		yaml_section(ldns_pkt_question(pkt), "QUESTION", true) != 0) ||
	    (st->answer &&
		yaml_section(ldns_pkt_answer(pkt), "ANSWER", false) != 0) ||
	    (st->authority &&
		yaml_section(ldns_pkt_authority(pkt), "AUTHORITY", false) !=
		    0) ||
	    (st->additional &&
		yaml_section(ldns_pkt_additional(pkt), "ADDITIONAL", false) !=
		    0))
		return -ENOMEM;
	return 0;
}

/* ---- JSON (minidig's own; the schema is in minidig(1)) ------------------ */

/*
 * Written by jansson: each reply is one json_t built here and dumped in
 * one go, keys in insertion order (JSON_PRESERVE_ORDER), every string
 * made valid UTF-8 first (md_json_string) and printed as ASCII.
 */
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)

/* Set obj[key] = val, taking val's reference; -1 if either failed. */
static int
jset(json_t *obj, const char *key, json_t *val)
{
	return val == NULL ? -1 : json_object_set_new(obj, key, val);
}

static int
jappend(json_t *arr, json_t *val)
{
	return val == NULL ? -1 : json_array_append_new(arr, val);
}

/* One record (a question when 'question': no TTL, no data). */
static json_t *
json_rr(const ldns_rr *rr, bool question)
{
	struct md_tool_rr_text t;
	json_t *o;
	int rc;

	if (md_tool_rr_text(rr, question, &t) != 0)
		return NULL;
	o = json_object();
	if (o == NULL) {
		md_tool_rr_text_free(&t);
		return NULL;
	}
	rc = jset(o, "name", md_json_string(t.owner));
	if (!question)
		rc |= jset(o, "ttl", json_integer(ldns_rr_ttl(rr)));
	rc |= jset(o, "class", md_json_string(t.rclass));
	rc |= jset(o, "type", md_json_string(t.type));
	if (!question)
		rc |= jset(o, "data", md_json_string(t.rdata));
	md_tool_rr_text_free(&t);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_section(const ldns_rr_list *list, bool question)
{
	json_t *arr = json_array();
	int rc = arr == NULL ? -1 : 0;

	for (size_t i = 0;
	     rc == 0 && list != NULL && i < ldns_rr_list_rr_count(list); i++)
		rc = jappend(arr, json_rr(ldns_rr_list_rr(list, i), question));
	if (rc != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* One EDNS option: code, name if known, value in hex and as text. */
static json_t *
json_option(uint16_t code, const uint8_t *val, uint16_t len)
{
	const char *name = code == 3 ? "NSID"
	    : code == 10	     ? "COOKIE"
	    : code == 15	     ? "EDE"
				     : NULL;
	char *hex = malloc(2 * (size_t)len + 1), *text = malloc(len + 1u);
	json_t *e = json_object();
	int rc = -1;

	if (hex == NULL || text == NULL || e == NULL)
		goto cleanup;
	for (uint16_t i = 0; i < len; i++) {
		snprintf(hex + 2 * i, 3, "%02x", val[i]);
		/* dig's +nsid text: printable ASCII, the rest as '.'. */
		text[i] = val[i] >= 0x20 && val[i] < 0x7f ? (char)val[i] : '.';
	}
	hex[2 * (size_t)len] = '\0';
	text[len] = '\0';
	rc = jset(e, "code", json_integer(code));
	rc |= jset(e, "name", name != NULL ? json_string(name) : json_null());
	rc |= jset(e, "hex", json_string(hex));
	rc |= jset(e, "text", md_json_string(text));
cleanup:
	free(hex);
	free(text);
	if (rc != 0) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static json_t *
json_opt(const struct opt_rr *opt)
{
	json_t *o, *flags, *opts;
	size_t off = 0;
	int rc;

	if (!opt->present)
		return json_null();
	o = json_object();
	flags = json_array();
	opts = json_array();
	if (o == NULL || flags == NULL || opts == NULL) {
		json_decref(o);
		json_decref(flags);
		json_decref(opts);
		return NULL;
	}
	rc = jset(o, "version", json_integer((opt->ttl >> 16) & 0xff));
	if ((opt->ttl & 0x8000) != 0)
		rc |= jappend(flags, json_string("do"));
	rc |= jset(o, "flags", flags);
	rc |= jset(o, "udp", json_integer(opt->udp_size));
	rc |= jset(o, "options", opts);
	while (rc == 0 && off + 4 <= opt->rdlen) {
		uint16_t code = md_read_u16(opt->rdata + off);
		uint16_t len = md_read_u16(opt->rdata + off + 2);

		if (off + 4 + len > opt->rdlen)
			break;
		rc =
		    jappend(opts, json_option(code, opt->rdata + off + 4, len));
		off += 4 + (size_t)len;
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
print_json(const struct md_tool_exchange *ex, const ldns_pkt *pkt)
{
	static const char *const flag_names[] = {
	    "qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"};
	static const uint16_t flag_bits[] = {MD_FLAG_QR, MD_FLAG_AA, MD_FLAG_TC,
	    MD_FLAG_RD, MD_FLAG_RA, 0x0040, MD_FLAG_AD, MD_FLAG_CD};
	const uint8_t *r = ex->reply;
	uint16_t flags = md_read_u16(r + 2);
	struct opt_rr opt;
	char buf[32];
	json_t *o, *fl, *counts;
	int rc;

	find_opt(r, ex->reply_len, &opt);
	o = json_object();
	fl = json_array();
	counts = json_object();
	if (o == NULL || fl == NULL || counts == NULL) {
		json_decref(o);
		json_decref(fl);
		json_decref(counts);
		return -ENOMEM;
	}
	rc = jset(o, "server", md_json_string(ex->server->host));
	rc |= jset(o, "port", json_integer(md_tool_server_port(ex->server)));
	rc |= jset(o, "protocol",
	    json_string(ex->tls	   ? "TLS"
		    : ex->used_tcp ? "TCP"
				   : "UDP"));
	rc |= jset(o, "query_time_ms", json_integer((json_int_t)ex->rtt_ms));
	rc |= jset(o, "msg_size", json_integer((json_int_t)ex->reply_len));
	rc |= jset(o, "id", json_integer(md_read_u16(r)));
	rc |= jset(o, "opcode",
	    json_string(opcode_text(MD_OPCODE(flags), buf, sizeof(buf))));
	rc |= jset(o, "status",
	    json_string(rcode_text(reply_rcode(r, &opt), buf, sizeof(buf))));
	for (size_t i = 0; i < 8; i++) {
		if ((flags & flag_bits[i]) != 0)
			rc |= jappend(fl, json_string(flag_names[i]));
	}
	rc |= jset(o, "flags", fl);
	rc |= jset(counts, "question", json_integer(md_read_u16(r + 4)));
	rc |= jset(counts, "answer", json_integer(md_read_u16(r + 6)));
	rc |= jset(counts, "authority", json_integer(md_read_u16(r + 8)));
	rc |= jset(counts, "additional", json_integer(md_read_u16(r + 10)));
	rc |= jset(o, "counts", counts);
	rc |= jset(o, "opt", json_opt(&opt));
	rc |= jset(o, "question", json_section(ldns_pkt_question(pkt), true));
	rc |= jset(o, "answer", json_section(ldns_pkt_answer(pkt), false));
	rc |=
	    jset(o, "authority", json_section(ldns_pkt_authority(pkt), false));
	rc |= jset(
	    o, "additional", json_section(ldns_pkt_additional(pkt), false));
	if (rc == 0 && json_dumpf(o, stdout, JSON_FLAGS) != 0)
		rc = -1;
	json_decref(o);
	if (rc != 0)
		return -ENOMEM;
	putchar('\n');
	return 0;
}

int
md_dig_print_reply(const struct md_dig_style *st,
    const struct md_tool_exchange *ex, const ldns_pkt *pkt)
{
	if (st->json)
		return print_json(ex, pkt);
	if (st->yaml)
		return print_yaml(st, ex, pkt);
	if (st->short_form)
		return print_short(st, ex, pkt);
	return print_text(st, ex, pkt);
}
