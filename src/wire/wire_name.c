/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_name.c - domain names in wire form: reading (with decompression),
 * comparison, hashing and conversion to and from presentation form.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "minidns/util.h"
#include "minidns/wire.h"

/* ASCII lower case as one table load (names are compared and hashed on
 * every query). */
static const uint8_t lower_tab[256] = {
#define L4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define L16(b) L4(b), L4((b) + 4), L4((b) + 8), L4((b) + 12)
    L16(0x00),
    L16(0x10),
    L16(0x20),
    L16(0x30),
    /* 0x40 '@', 'A'..'Z' -> 'a'..'z', then [\]^_ */
    0x40,
    L16(0x61),
    L4(0x71),
    L4(0x75),
    0x79,
    0x7a,
    0x5b,
    0x5c,
    0x5d,
    0x5e,
    0x5f,
    L16(0x60),
    L16(0x70),
    L16(0x80),
    L16(0x90),
    L16(0xa0),
    L16(0xb0),
    L16(0xc0),
    L16(0xd0),
    L16(0xe0),
    L16(0xf0),
#undef L16
#undef L4
};

static inline uint8_t
lower(uint8_t c)
{
	return lower_tab[c];
}

int
md_name_read(const uint8_t *pkt, size_t pktlen, size_t *off, uint8_t *out)
{
	size_t pos = *off;
	size_t outlen = 0;
	size_t end = 0; /* where the name ends in the packet, once known */
	unsigned hops = 0;

	for (;;) {
		if (pos >= pktlen)
			return MD_EPARSE;
		uint8_t c = pkt[pos];

		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= pktlen)
				return MD_EPARSE;
			size_t target =
			    ((size_t)(c & 0x3f) << 8) | pkt[pos + 1];

			if (end == 0)
				end = pos + 2;
			/* RFC 1035 §4.1.4: a pointer refers to a prior
			 * occurrence; forward pointers and loops are refused. */
			if (target >= pos || ++hops > 64)
				return MD_EPARSE;
			pos = target;
			continue;
		}
		if ((c & 0xc0) != 0)
			return MD_EPARSE; /* RFC 6891: extended label types */
		if (outlen + 1 + c > MD_NAME_MAX || pos + 1 + c > pktlen)
			return MD_EPARSE;
		memcpy(out + outlen, pkt + pos, 1 + (size_t)c);
		outlen += 1 + (size_t)c;
		pos += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	*off = end != 0 ? end : pos;
	return (int)outlen;
}

size_t
md_name_len(const uint8_t *name)
{
	size_t len = 0;

	for (;;) {
		uint8_t c = name[len];

		if (c > MD_LABEL_MAX)
			return 0;
		len += 1 + (size_t)c;
		if (len > MD_NAME_MAX)
			return 0;
		if (c == 0)
			return len;
	}
}

unsigned
md_name_labels(const uint8_t *name)
{
	unsigned n = 0;

	while (*name != 0) {
		n++;
		name += 1 + *name;
	}
	return n;
}

bool
md_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t n = *a;

		if (n == 0)
			return true;
		for (unsigned i = 1; i <= n; i++) {
			if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
				return false;
		}
		a += 1 + n;
		b += 1 + n;
	}
}

bool
md_label_equal(const uint8_t *a, const uint8_t *b)
{
	if (*a != *b)
		return false;
	for (unsigned i = 1; i <= *a; i++) {
		if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}

bool
md_name_is_subdomain(const uint8_t *name, const uint8_t *zone)
{
	unsigned nl = md_name_labels(name);
	unsigned zl = md_name_labels(zone);

	if (nl < zl)
		return false;
	for (unsigned i = 0; i < nl - zl; i++)
		name += 1 + *name;
	return md_name_equal(name, zone);
}

/* Two labels (length byte first), bytes lower-cased, a prefix first. */
static int
label_cmp(const uint8_t *x, const uint8_t *y)
{
	unsigned m = x[0] < y[0] ? x[0] : y[0];

	for (unsigned i = 1; i <= m; i++) {
		uint8_t cx = x[i], cy = y[i];

		if (cx >= 'A' && cx <= 'Z')
			cx |= 0x20;
		if (cy >= 'A' && cy <= 'Z')
			cy |= 0x20;
		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return x[0] == y[0] ? 0 : x[0] < y[0] ? -1 : 1;
}

int
md_label_canon_cmp(const uint8_t *a, const uint8_t *b)
{
	return label_cmp(a, b);
}

int
md_name_canon_cmp(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[MD_NAME_MAX / 2 + 1], *lb[MD_NAME_MAX / 2 + 1];
	unsigned na = 0, nb = 0;

	for (const uint8_t *p = a; *p != 0 && na < MD_NAME_MAX / 2; p += 1 + *p)
		la[na++] = p;
	for (const uint8_t *p = b; *p != 0 && nb < MD_NAME_MAX / 2; p += 1 + *p)
		lb[nb++] = p;
	/* label by label from the root */
	while (na > 0 && nb > 0) {
		int c = label_cmp(la[--na], lb[--nb]);

		if (c != 0)
			return c;
	}
	return na == nb ? 0 : na < nb ? -1 : 1;
}

void
md_name_lower(uint8_t *name)
{
	while (*name != 0) {
		uint8_t n = *name;

		for (unsigned i = 1; i <= n; i++)
			name[i] = lower(name[i]);
		name += 1 + n;
	}
}

const uint8_t *
md_name_parent(const uint8_t *name)
{
	if (*name == 0)
		return NULL;
	return name + 1 + *name;
}

bool
md_name_dname_subst(const uint8_t *name, const uint8_t *owner,
    const uint8_t *target, uint8_t *out)
{
	size_t nlen = md_name_len(name), olen = md_name_len(owner);
	size_t tlen = md_name_len(target);

	if (nlen == 0 || olen == 0 || tlen == 0 || nlen <= olen ||
	    !md_name_is_subdomain(name, owner) ||
	    nlen - olen + tlen > MD_NAME_MAX)
		return false;
	memcpy(out, name, nlen - olen);
	memcpy(out + nlen - olen, target, tlen);
	return true;
}

/*
 * The hash of a name is built from the root towards the first label
 * (FNV-1a over each label's length and lower-cased bytes), so that the
 * hash of every suffix comes out of one pass: zone lookups, which try a
 * name and its parents, hash the name once.
 */
#define HASH_ROOT 2166136261u
#define HASH_PRIME 16777619u

static uint32_t
hash_label(uint32_t h, const uint8_t *label)
{
	h = (h ^ label[0]) * HASH_PRIME;
	for (unsigned i = 1; i <= label[0]; i++)
		h = (h ^ lower(label[i])) * HASH_PRIME;
	return h;
}

uint32_t
md_name_hash_prepend(uint32_t parent_hash, const uint8_t *label)
{
	return hash_label(parent_hash, label);
}

unsigned
md_name_suffix_hashes(const uint8_t *name, uint32_t *h)
{
	const uint8_t *label[MD_NAME_MAX / 2 + 1];
	unsigned n = 0;
	uint32_t acc = HASH_ROOT;

	while (*name != 0 && n < MD_NAME_MAX / 2) {
		label[n++] = name;
		name += 1 + *name;
	}
	h[n] = acc;
	for (unsigned i = n; i-- > 0;) {
		acc = hash_label(acc, label[i]);
		h[i] = acc;
	}
	return n;
}

uint32_t
md_name_hash(const uint8_t *name)
{
	uint32_t h[MD_NAME_MAX / 2 + 2];

	md_name_suffix_hashes(name, h);
	return h[0];
}

int
md_name_from_str(const char *s, const uint8_t *origin, uint8_t *out)
{
	size_t len = 0;
	size_t label = 0; /* offset of the current label's length byte */
	bool absolute = false;

	if (strcmp(s, "@") == 0) {
		if (origin == NULL) {
			out[0] = 0;
			return 1;
		}
		size_t olen = md_name_len(origin);

		memcpy(out, origin, olen);
		return (int)olen;
	}
	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	out[0] = 0;
	len = 1;
	while (*s != '\0') {
		int c = (unsigned char)*s++;

		if (c == '.') {
			if (len - label - 1 == 0)
				return MD_EPARSE; /* empty label */
			if (*s == '\0') {
				absolute = true;
				break;
			}
			label = len;
			if (len >= MD_NAME_MAX)
				return MD_EPARSE;
			out[len++] = 0;
			continue;
		}
		if (c == '\\') {
			if (isdigit((unsigned char)s[0])) {
				if (!isdigit((unsigned char)s[1]) ||
				    !isdigit((unsigned char)s[2]))
					return MD_EPARSE;
				c = (s[0] - '0') * 100 + (s[1] - '0') * 10 +
				    (s[2] - '0');
				if (c > 255)
					return MD_EPARSE;
				s += 3;
			} else if (*s != '\0') {
				c = (unsigned char)*s++;
			} else {
				return MD_EPARSE;
			}
		}
		if (len >= MD_NAME_MAX || out[label] >= MD_LABEL_MAX)
			return MD_EPARSE;
		out[len++] = (uint8_t)c;
		out[label]++;
	}
	if (out[label] == 0)
		return MD_EPARSE;
	if (!absolute && origin != NULL) {
		size_t olen = md_name_len(origin);

		if (olen == 0 || len + olen > MD_NAME_MAX)
			return MD_EPARSE;
		memcpy(out + len, origin, olen);
		return (int)(len + olen);
	}
	if (len + 1 > MD_NAME_MAX)
		return MD_EPARSE;
	out[len++] = 0;
	return (int)len;
}

int
md_name_to_str(const uint8_t *name, char *buf, size_t size)
{
	size_t pos = 0;

	if (size < 2)
		return MD_ENOSPACE;
	if (*name == 0) {
		buf[0] = '.';
		buf[1] = '\0';
		return 0;
	}
	while (*name != 0) {
		uint8_t n = *name;

		for (unsigned i = 1; i <= n; i++) {
			uint8_t c = name[i];
			char tmp[5];
			size_t tl;

			if (c == '.' || c == '\\' || c == '"' || c == '(' ||
			    c == ')' || c == ';' || c == '@' || c == '$') {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				tl = 2;
			} else if (c <= 0x20 || c >= 0x7f) {
				snprintf(tmp, sizeof(tmp), "\\%03u", c);
				tl = 4;
			} else {
				tmp[0] = (char)c;
				tl = 1;
			}
			if (pos + tl + 2 > size)
				return MD_ENOSPACE;
			memcpy(buf + pos, tmp, tl);
			pos += tl;
		}
		buf[pos++] = '.';
		name += 1 + n;
	}
	buf[pos] = '\0';
	return 0;
}
