/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tool_rdata.c - record data in BIND 9.18's presentation form, for the
 * types where dig and ldns disagree: base64 and hex fields cut into
 * chunks (56 characters, 44 under +multiline, or +split=W), the
 * parentheses and line breaks of +multiline, DNSKEY's key-id comment,
 * +nocrypto's placeholders, NSEC3's salt and next hash, SVCB's quoted
 * alpn and unknown keys, LOC's numbers.
 *
 * Not here: the other types (ldns's text, corrected in tool_common.c),
 * the owner/TTL/class/type columns (dig_print.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "tool_common.h"

/* dig's default chunk widths (+split): one line, and +multiline. */
#define SPLIT_LINE 56
#define SPLIT_MULTILINE 44

/* A growing string; 'failed' once an allocation failed. */
struct sb {
	char *s;
	size_t len, cap;
	bool failed;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 128 : b->cap;
		char *bigger;

		while (b->len + n + 1 > cap)
			cap *= 2;
		bigger = realloc(b->s, cap);
		if (bigger == NULL) {
			b->failed = true;
			return;
		}
		b->s = bigger;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		b->failed = true;
		return;
	}
	sb_add(b, buf, (size_t)n);
}

/* How a record is laid out: dig's line break and chunk width. */
struct layout {
	const struct md_tool_rdata_style *st;
	const char *brk; /* " ", or a new line indented to the rdata */
	unsigned split;	 /* 0: no splitting */
};

static void
chunked(struct sb *b, const struct layout *lo, const char *text)
{
	size_t len = strlen(text);

	if (lo->split == 0) {
		sb_add(b, text, len);
		return;
	}
	for (size_t off = 0; off < len; off += lo->split) {
		size_t n = len - off < lo->split ? len - off : lo->split;

		if (off > 0)
			sb_str(b, lo->brk);
		sb_add(b, text + off, n);
	}
}

static void
hex_chunked(struct sb *b, const struct layout *lo, const uint8_t *p, size_t n)
{
	char *hex = malloc(2 * n + 1);

	if (hex == NULL) {
		b->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02X", p[i]);
	hex[2 * n] = '\0';
	chunked(b, lo, hex);
	free(hex);
}

static void
b64_chunked(struct sb *b, const struct layout *lo, const uint8_t *p, size_t n)
{
	char *text = malloc(4 * ((n + 2) / 3) + 1);

	if (text == NULL || n > INT_MAX) {
		free(text);
		b->failed = true;
		return;
	}
	EVP_EncodeBlock((unsigned char *)text, p, (int)n);
	chunked(b, lo, text);
	free(text);
}

static void
open_paren(struct sb *b, const struct layout *lo)
{
	if (lo->st->multiline)
		sb_str(b, " (");
	sb_str(b, lo->brk);
}

static void
close_paren(struct sb *b, const struct layout *lo)
{
	if (lo->st->multiline)
		sb_str(b, " )");
}

/* The record's data as one wire-format run (names uncompressed). */
static uint8_t *
rdata_wire(const ldns_rr *rr, size_t *len)
{
	ldns_buffer *buf = ldns_buffer_new(256);
	uint8_t *out = NULL;

	if (buf == NULL)
		return NULL;
	if (ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK) {
		*len = ldns_buffer_position(buf);
		out = malloc(*len + 1);
		if (out != NULL)
			memcpy(out, ldns_buffer_begin(buf), *len);
	}
	ldns_buffer_free(buf);
	return out;
}

/* A name at *off in 'p' (uncompressed), as BIND prints it. */
static int
name_at(const struct layout *lo, struct sb *b, const uint8_t *p, size_t len,
    size_t *off)
{
	size_t start = *off;
	ldns_rdf *rdf;
	char *s;

	while (*off < len && p[*off] != 0) {
		if ((p[*off] & 0xc0) != 0)
			return -1;
		*off += 1 + (size_t)p[*off];
	}
	if (*off >= len)
		return -1;
	(*off)++;
	rdf =
	    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, *off - start, p + start);
	if (rdf == NULL)
		return -1;
	s = md_tool_name_text(rdf);
	ldns_rdf_deep_free(rdf);
	if (s != NULL && lo->st->name_filter != NULL)
		s = lo->st->name_filter(s);
	if (s == NULL)
		return -1;
	sb_str(b, s);
	free(s);
	return 0;
}

/* RFC 4034 §4.1.2: an NSEC/NSEC3 type bitmap, " TYPE" per type. */
static int
type_bitmap(struct sb *b, const uint8_t *p, size_t len, bool first_space)
{
	size_t off = 0;
	bool first = true;

	while (off + 2 <= len) {
		unsigned window = p[off], blen = p[off + 1];

		if (blen == 0 || blen > 32 || off + 2 + blen > len)
			return -1;
		for (unsigned i = 0; i < blen * 8; i++) {
			char *name;

			if ((p[off + 2 + i / 8] & (0x80 >> (i % 8))) == 0)
				continue;
			name =
			    ldns_rr_type2str((ldns_rr_type)(window * 256 + i));
			if (name == NULL)
				return -1;
			if (!first || first_space)
				sb_str(b, " ");
			sb_str(b, name);
			free(name);
			first = false;
		}
		off += 2 + blen;
	}
	return off == len ? 0 : -1;
}

/* dns_secalg_format()'s names (RFC 8624 and the IANA registry). */
static void
alg_name(struct sb *b, unsigned alg)
{
	static const struct {
		unsigned num;
		const char *name;
	} algs[] = {{1, "RSAMD5"}, {2, "DH"}, {3, "DSA"}, {5, "RSASHA1"},
	    {6, "NSEC3DSA"}, {7, "NSEC3RSASHA1"}, {8, "RSASHA256"},
	    {10, "RSASHA512"}, {12, "ECCGOST"}, {13, "ECDSAP256SHA256"},
	    {14, "ECDSAP384SHA384"}, {15, "ED25519"}, {16, "ED448"},
	    {252, "INDIRECT"}, {253, "PRIVATEDNS"}, {254, "PRIVATEOID"}};

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (algs[i].num == alg) {
			sb_str(b, algs[i].name);
			return;
		}
	}
	sb_printf(b, "%u", alg);
}

/* RFC 4034 Appendix B: the key tag (B.1 for RSA/MD5). */
static unsigned
key_tag(const uint8_t *p, size_t len)
{
	uint32_t ac = 0;

	if (len >= 4 && p[3] == 1)
		return len >= 7 ? ((unsigned)p[len - 3] << 8) | p[len - 2] : 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) != 0 ? p[i] : (uint32_t)p[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return ac & 0xffff;
}

/* DNSKEY, CDNSKEY, KEY: flags protocol algorithm ( key ) ; comment. */
static int
fmt_key(struct sb *b, const struct layout *lo, uint16_t type, const uint8_t *p,
    size_t len)
{
	unsigned flags;

	if (len < 4)
		return -1;
	flags = md_read_u16(p);
	sb_printf(b, "%u %u %u", flags, p[2], p[3]);
	/* RFC 2535 §3.1.2: both bits set, no key follows. */
	if ((flags & 0xc000) == 0xc000)
		return 0;
	open_paren(b, lo);
	if (lo->st->nocrypto)
		sb_printf(b, "[key id = %u]", key_tag(p, len));
	else
		b64_chunked(b, lo, p + 4, len - 4);
	if (lo->st->rrcomments)
		sb_str(b, lo->brk);
	else if (lo->st->multiline)
		sb_str(b, " ");
	if (lo->st->multiline)
		sb_str(b, ")");
	if (lo->st->rrcomments) {
		if (type != LDNS_RR_TYPE_KEY) {
			/* RFC 4034 §2.1.1 SEP bit, RFC 5011 §7 REVOKE. */
			sb_str(b, " ; ");
			if ((flags & 0x0001) == 0)
				sb_str(b, "ZSK");
			else if ((flags & 0x0080) != 0)
				sb_str(b, "revoked KSK");
			else
				sb_str(b, "KSK");
		}
		sb_str(b, "; alg = ");
		alg_name(b, p[3]);
		sb_printf(b, " ; key id = %u", key_tag(p, len));
	}
	return 0;
}

/* RRSIG: covered alg labels ttl ( expiration inception tag signer sig ). */
static int
fmt_rrsig(struct sb *b, const struct layout *lo, const ldns_rr *rr,
    const uint8_t *p, size_t len)
{
	char *covered, *exp, *inc;
	size_t off = 18;

	if (len < 19 || ldns_rr_rd_count(rr) < 9)
		return -1;
	covered = ldns_rr_type2str((ldns_rr_type)md_read_u16(p));
	exp = ldns_rdf2str(ldns_rr_rdf(rr, 4));
	inc = ldns_rdf2str(ldns_rr_rdf(rr, 5));
	if (covered == NULL || exp == NULL || inc == NULL) {
		free(covered);
		free(exp);
		free(inc);
		return -1;
	}
	sb_printf(b, "%s %u %u %u", covered, p[2], p[3], md_read_u32(p + 4));
	open_paren(b, lo);
	sb_printf(b, "%s %s %u ", exp, inc, md_read_u16(p + 16));
	free(covered);
	free(exp);
	free(inc);
	if (name_at(lo, b, p, len, &off) != 0)
		return -1;
	sb_str(b, lo->brk);
	if (lo->st->nocrypto)
		sb_str(b, "[omitted]");
	else
		b64_chunked(b, lo, p + off, len - off);
	close_paren(b, lo);
	return 0;
}

/* DS, CDS: tag alg digest-type ( digest ). */
static int
fmt_ds(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	if (len < 4)
		return -1;
	sb_printf(b, "%u %u %u", md_read_u16(p), p[2], p[3]);
	open_paren(b, lo);
	if (lo->st->nocrypto)
		sb_str(b, "[omitted]");
	else
		hex_chunked(b, lo, p + 4, len - 4);
	close_paren(b, lo);
	return 0;
}

/* TLSA, SMIMEA (3 numbers), SSHFP (2): numbers ( hex ). */
static int
fmt_numbers_hex(struct sb *b, const struct layout *lo, const uint8_t *p,
    size_t len, size_t nums)
{
	if (len < nums)
		return -1;
	for (size_t i = 0; i < nums; i++)
		sb_printf(b, "%s%u", i > 0 ? " " : "", p[i]);
	if (len == nums)
		return 0;
	open_paren(b, lo);
	hex_chunked(b, lo, p + nums, len - nums);
	close_paren(b, lo);
	return 0;
}

/* NSEC: next-name TYPE... */
static int
fmt_nsec(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	size_t off = 0;

	if (name_at(lo, b, p, len, &off) != 0)
		return -1;
	return type_bitmap(b, p + off, len - off, true);
}

/* NSEC3PARAM's and NSEC3's first four fields; the offset after them. */
static int
nsec3_head(struct sb *b, const uint8_t *p, size_t len, size_t *off)
{
	size_t slen;

	if (len < 5 || 5 + (size_t)p[4] > len)
		return -1;
	sb_printf(b, "%u %u %u ", p[0], p[1], md_read_u16(p + 2));
	slen = p[4];
	/* RFC 5155 §3.3: an empty salt is written "-". */
	if (slen == 0)
		sb_str(b, "-");
	for (size_t i = 0; i < slen; i++)
		sb_printf(b, "%02X", p[5 + i]);
	*off = 5 + slen;
	return 0;
}

/* NSEC3: alg flags iterations salt ( next-hash TYPE... ). */
static int
fmt_nsec3(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	size_t off, hlen;
	ldns_rdf *rdf;
	char *h;

	if (nsec3_head(b, p, len, &off) != 0 || off >= len ||
	    off + 1 + (size_t)p[off] > len)
		return -1;
	hlen = p[off];
	/* RFC 5155 §3.3: base32hex, no padding; BIND writes upper case. */
	rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_B32_EXT, hlen + 1, p + off);
	h = rdf != NULL ? ldns_rdf2str(rdf) : NULL;
	ldns_rdf_deep_free(rdf);
	if (h == NULL)
		return -1;
	for (char *c = h; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	open_paren(b, lo);
	sb_str(b, h);
	free(h);
	off += 1 + hlen;
	if (off < len) {
		sb_str(b, lo->brk);
		if (type_bitmap(b, p + off, len - off, false) != 0)
			return -1;
	}
	close_paren(b, lo);
	return 0;
}

/* RFC 1876 §3: a size or precision, "XeY" centimetres, in metres. */
static void
loc_size(struct sb *b, uint8_t v)
{
	unsigned long m = (v >> 4) & 0x0f, e = v & 0x0f;

	if (e >= 2) {
		for (unsigned long i = 2; i < e; i++)
			m *= 10;
		sb_printf(b, " %lum", m);
	} else {
		sb_printf(b, " 0.%02lum", e == 1 ? m * 10 : m);
	}
}

/* RFC 1876 §3: degrees, minutes, seconds.thousandths and a hemisphere. */
static void
loc_angle(struct sb *b, uint32_t raw, const char *pos, const char *neg)
{
	const uint32_t equator = 1u << 31;
	uint32_t v = raw >= equator ? raw - equator : equator - raw;

	sb_printf(b, "%u %u %u.%03u %s", v / 3600000, v / 60000 % 60,
	    v / 1000 % 60, v % 1000, raw >= equator ? pos : neg);
}

/* LOC as BIND prints it: every field, no zero padding, two decimals. */
static int
fmt_loc(struct sb *b, const uint8_t *p, size_t len)
{
	uint32_t alt;

	if (len != 16 || p[0] != 0)
		return -1;
	loc_angle(b, md_read_u32(p + 4), "N", "S");
	sb_str(b, " ");
	loc_angle(b, md_read_u32(p + 8), "E", "W");
	/* RFC 1876 §2: altitude in cm above 100,000 m below the WGS 84
	 * reference. */
	alt = md_read_u32(p + 12);
	if (alt < 10000000u)
		sb_printf(b, " -%u.%02um", (10000000u - alt) / 100,
		    (10000000u - alt) % 100);
	else
		sb_printf(b, " %u.%02um", (alt - 10000000u) / 100,
		    (alt - 10000000u) % 100);
	loc_size(b, p[1]);
	loc_size(b, p[2]);
	loc_size(b, p[3]);
	return 0;
}

/* A character string of an SVCB value, escaped as BIND escapes it. */
static void
svcb_chars(struct sb *b, const uint8_t *p, size_t n, bool comma)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (comma && (c == ',' || c == '\\'))
			sb_str(b, "\\\\"); /* escaped twice: list, then text */
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			sb_add(b, (const char *)&c, 1);
		else
			sb_printf(b, "\\%03u", c);
	}
}

static const char *const svcb_keys[] = {"mandatory", "alpn", "no-default-alpn",
    "port", "ipv4hint", "ech", "ipv6hint"};

static void
svcb_key(struct sb *b, unsigned key)
{
	if (key < sizeof(svcb_keys) / sizeof(svcb_keys[0]))
		sb_str(b, svcb_keys[key]);
	else
		sb_printf(b, "key%u", key);
}

/* One SvcParam's value (RFC 9460 §7), as dig 9.18 writes it. */
static int
svcb_value(struct sb *b, unsigned key, const uint8_t *v, size_t n)
{
	char addr[INET6_ADDRSTRLEN];

	switch (key) {
	case 0: /* mandatory */
		if (n % 2 != 0)
			return -1;
		for (size_t i = 0; i < n; i += 2) {
			if (i > 0)
				sb_str(b, ",");
			svcb_key(b, md_read_u16(v + i));
		}
		return 0;
	case 1: /* alpn: quoted, ',' in a value escaped */
		sb_str(b, "\"");
		for (size_t i = 0; i < n;) {
			size_t l = v[i];

			if (i + 1 + l > n)
				return -1;
			if (i > 0)
				sb_str(b, ",");
			svcb_chars(b, v + i + 1, l, true);
			i += 1 + l;
		}
		sb_str(b, "\"");
		return 0;
	case 3: /* port */
		if (n != 2)
			return -1;
		sb_printf(b, "%u", md_read_u16(v));
		return 0;
	case 4: /* ipv4hint */
	case 6: /* ipv6hint */
	{
		size_t alen = key == 4 ? 4 : 16;

		if (n == 0 || n % alen != 0)
			return -1;
		for (size_t i = 0; i < n; i += alen) {
			if (inet_ntop(key == 4 ? AF_INET : AF_INET6, v + i,
				addr, sizeof(addr)) == NULL)
				return -1;
			sb_printf(b, "%s%s", i > 0 ? "," : "", addr);
		}
		return 0;
	}
	case 5: /* ech: base64, unsplit */
	{
		struct md_tool_rdata_style st = {0};
		struct layout lo = {&st, " ", 0};

		b64_chunked(b, &lo, v, n);
		return 0;
	}
	default: /* dig 9.18 knows no more keys: quoted text */
		sb_str(b, "\"");
		svcb_chars(b, v, n, false);
		sb_str(b, "\"");
		return 0;
	}
}

/* RFC 7929 OPENPGPKEY: "( " base64 " )" under +multiline. */
static int
fmt_openpgpkey(
    struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	if (lo->st->multiline)
		sb_str(b, "( ");
	b64_chunked(b, lo, p, len);
	if (lo->st->multiline)
		sb_str(b, " )");
	return 0;
}

/* RFC 4701 DHCID: the same, and with comments its three fields. */
static int
fmt_dhcid(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	if (fmt_openpgpkey(b, lo, p, len) != 0)
		return -1;
	/* BIND writes this comment with +multiline, whatever +rrcomments. */
	if (lo->st->multiline && len >= 3)
		sb_printf(b, " ; %u %u %zu", md_read_u16(p), p[2], len - 3);
	return 0;
}

/* RFC 4398 CERT: type tag algorithm ( certificate ). */
static int
fmt_cert(struct sb *b, const struct layout *lo, const ldns_rr *rr,
    const uint8_t *p, size_t len)
{
	char *type;

	if (len < 5 || ldns_rr_rd_count(rr) < 4)
		return -1;
	/* The type's mnemonic (PGP, PKIX) is ldns's, the same as BIND's. */
	type = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	if (type == NULL)
		return -1;
	sb_printf(b, "%s %u ", type, md_read_u16(p + 2));
	free(type);
	alg_name(b, p[4]);
	open_paren(b, lo);
	b64_chunked(b, lo, p + 5, len - 5);
	close_paren(b, lo);
	return 0;
}

/* RFC 4025 IPSECKEY: ( precedence type algorithm gateway key ). */
static int
fmt_ipseckey(
    struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	size_t off = 3;

	if (len < 3)
		return -1;
	if (lo->st->multiline)
		sb_str(b, "( ");
	sb_printf(b, "%u %u %u ", p[0], p[1], p[2]);
	switch (p[1]) {
	case 0:
		sb_str(b, ".");
		break;
	case 1:
	case 2:
		if (len < off + (p[1] == 1 ? 4 : 16) ||
		    inet_ntop(p[1] == 1 ? AF_INET : AF_INET6, p + off, addr,
			sizeof(addr)) == NULL)
			return -1;
		sb_str(b, addr);
		off += p[1] == 1 ? 4 : 16;
		break;
	case 3:
		if (name_at(lo, b, p, len, &off) != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (off < len) {
		sb_str(b, lo->brk);
		b64_chunked(b, lo, p + off, len - off);
	}
	if (lo->st->multiline)
		sb_str(b, " )");
	return 0;
}

/* RFC 8976 ZONEMD: serial scheme algorithm ( digest ). */
static int
fmt_zonemd(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	if (len < 6)
		return -1;
	sb_printf(b, "%u %u %u", md_read_u32(p), p[4], p[5]);
	open_paren(b, lo);
	hex_chunked(b, lo, p + 6, len - 6);
	close_paren(b, lo);
	return 0;
}

/* RFC 3597 §5: a type neither knows, "\# length hex". */
static int
fmt_unknown(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	sb_printf(b, "\\# %zu", len);
	if (len == 0)
		return 0;
	sb_str(b, lo->st->multiline ? " ( " : " ");
	hex_chunked(b, lo, p, len);
	if (lo->st->multiline)
		sb_str(b, " )");
	return 0;
}

/* SVCB, HTTPS: priority target key=value... */
static int
fmt_svcb(struct sb *b, const struct layout *lo, const uint8_t *p, size_t len)
{
	size_t off = 2;

	if (len < 3)
		return -1;
	sb_printf(b, "%u ", md_read_u16(p));
	if (name_at(lo, b, p, len, &off) != 0)
		return -1;
	while (off + 4 <= len) {
		unsigned key = md_read_u16(p + off);
		size_t n = md_read_u16(p + off + 2);

		if (off + 4 + n > len)
			return -1;
		sb_str(b, " ");
		svcb_key(b, key);
		if (n > 0) {
			sb_str(b, "=");
			if (svcb_value(b, key, p + off + 4, n) != 0)
				return -1;
		}
		off += 4 + n;
	}
	return off == len ? 0 : -1;
}

char *
md_tool_rdata_text(const ldns_rr *rr, const struct md_tool_rdata_style *st)
{
	static const struct md_tool_rdata_style deflt = {.split = -1};
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	struct layout lo;
	struct sb b = {0};
	uint8_t *p;
	size_t len = 0;
	int rc;

	if (st == NULL)
		st = &deflt;
	lo.st = st;
	/* dig indents a continued line to the +multiline rdata column. */
	lo.brk = st->multiline ? "\n\t\t\t\t" : " ";
	lo.split = st->split >= 0 ? (unsigned)st->split
	    : st->multiline	  ? SPLIT_MULTILINE
				  : SPLIT_LINE;
	switch (type) {
	case LDNS_RR_TYPE_DNSKEY:
	case LDNS_RR_TYPE_CDNSKEY:
	case LDNS_RR_TYPE_KEY:
	case LDNS_RR_TYPE_RRSIG:
	case LDNS_RR_TYPE_DS:
	case LDNS_RR_TYPE_CDS:
	case LDNS_RR_TYPE_TLSA:
	case LDNS_RR_TYPE_SMIMEA:
	case LDNS_RR_TYPE_SSHFP:
	case LDNS_RR_TYPE_NSEC:
	case LDNS_RR_TYPE_NSEC3:
	case LDNS_RR_TYPE_NSEC3PARAM:
	case LDNS_RR_TYPE_LOC:
	case LDNS_RR_TYPE_SVCB:
	case LDNS_RR_TYPE_HTTPS:
	case LDNS_RR_TYPE_OPENPGPKEY:
	case LDNS_RR_TYPE_DHCID:
	case LDNS_RR_TYPE_CERT:
	case LDNS_RR_TYPE_IPSECKEY:
	case LDNS_RR_TYPE_ZONEMD:
		break;
	default:
		/* A type ldns does not know either: RFC 3597's form. */
		if (ldns_rr_rd_count(rr) == 1 &&
		    ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) ==
			LDNS_RDF_TYPE_UNKNOWN)
			break;
		return NULL;
	}
	p = rdata_wire(rr, &len);
	if (p == NULL)
		return NULL;
	switch (type) {
	case LDNS_RR_TYPE_DNSKEY:
	case LDNS_RR_TYPE_CDNSKEY:
	case LDNS_RR_TYPE_KEY:
		rc = fmt_key(&b, &lo, type, p, len);
		break;
	case LDNS_RR_TYPE_RRSIG:
		rc = fmt_rrsig(&b, &lo, rr, p, len);
		break;
	case LDNS_RR_TYPE_DS:
	case LDNS_RR_TYPE_CDS:
		rc = fmt_ds(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_TLSA:
	case LDNS_RR_TYPE_SMIMEA:
		rc = fmt_numbers_hex(&b, &lo, p, len, 3);
		break;
	case LDNS_RR_TYPE_SSHFP:
		rc = fmt_numbers_hex(&b, &lo, p, len, 2);
		break;
	case LDNS_RR_TYPE_NSEC:
		rc = fmt_nsec(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_NSEC3:
		rc = fmt_nsec3(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_NSEC3PARAM:
		rc = nsec3_head(&b, p, len, &len);
		break;
	case LDNS_RR_TYPE_LOC:
		rc = fmt_loc(&b, p, len);
		break;
	case LDNS_RR_TYPE_SVCB:
	case LDNS_RR_TYPE_HTTPS:
		rc = fmt_svcb(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_OPENPGPKEY:
		rc = fmt_openpgpkey(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_DHCID:
		rc = fmt_dhcid(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_CERT:
		rc = fmt_cert(&b, &lo, rr, p, len);
		break;
	case LDNS_RR_TYPE_IPSECKEY:
		rc = fmt_ipseckey(&b, &lo, p, len);
		break;
	case LDNS_RR_TYPE_ZONEMD:
		rc = fmt_zonemd(&b, &lo, p, len);
		break;
	default:
		rc = fmt_unknown(&b, &lo, p, len);
		break;
	}
	free(p);
	if (rc != 0 || b.failed) {
		/* Malformed or out of memory: the caller's generic text. */
		free(b.s);
		return NULL;
	}
	if (b.s == NULL)
		return strdup("");
	return b.s;
}
