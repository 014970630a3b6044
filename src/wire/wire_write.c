/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_write.c - build a response: header, question, RRs with name
 * compression (RFC 1035 §4.1.4), the OPT record, and a size limit under
 * which an RR that does not fit leaves the message as it was, so callers
 * can set TC (RFC 2181 §9) or drop additional data.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "minidns/util.h"
#include "minidns/wire.h"

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void
md_wire_writer_init(struct md_wire_writer *w, uint8_t *buf, size_t cap)
{
	/* comp[] is read only below ncomp, heads[] only from
	 * MD_WIRE_COMP_SCAN entries on (cleared then): neither is cleared
	 * here. */
	memset(w, 0, offsetof(struct md_wire_writer, heads));
	w->buf = buf;
	w->cap = cap > MD_WIRE_MAX ? MD_WIRE_MAX : cap;
	w->limit = w->cap;
}

void
md_wire_writer_set_limit(struct md_wire_writer *w, size_t limit, size_t reserve)
{
	w->limit = limit < w->cap ? limit : w->cap;
	w->reserve = reserve;
}

static bool
room(const struct md_wire_writer *w, size_t n)
{
	return w->len + n + w->reserve <= w->limit;
}

int
md_wire_write_header(struct md_wire_writer *w, uint16_t id, uint16_t flags)
{
	if (w->cap < MD_WIRE_HDR_LEN)
		return MD_ENOSPACE;
	memset(w->buf, 0, MD_WIRE_HDR_LEN);
	md_write_u16(w->buf, id);
	md_write_u16(w->buf + 2, flags);
	w->len = MD_WIRE_HDR_LEN;
	return 0;
}

void
md_wire_writer_set_flags(struct md_wire_writer *w, uint16_t flags)
{
	md_write_u16(w->buf + 2, flags);
}

uint16_t
md_wire_writer_flags(const struct md_wire_writer *w)
{
	return md_read_u16(w->buf + 2);
}

/*
 * Does the name written at 'off' in the message equal the uncompressed
 * name 'name'?  Names in our own buffer are well formed, but pointers are
 * still bounded so a bug cannot loop.
 */
static bool
match_at(const struct md_wire_writer *w, size_t off, const uint8_t *name)
{
	unsigned hops = 0;

	for (;;) {
		uint8_t c = w->buf[off];

		if ((c & 0xc0) == 0xc0) {
			off = ((size_t)(c & 0x3f) << 8) | w->buf[off + 1];
			if (++hops > 64)
				return false;
			continue;
		}
		if (c != *name)
			return false;
		if (c == 0)
			return true;
		/* most names repeat in the same case: exact bytes first */
		for (unsigned i = 1; i <= c; i++) {
			if (w->buf[off + i] != name[i] &&
			    lower(w->buf[off + i]) != lower(name[i]))
				return false;
		}
		off += 1 + (size_t)c;
		name += 1 + c;
	}
}

/* The bucket of a suffix hash (the low bits are FNV-1a's best mixed). */
static inline unsigned
bucket(uint32_t hash)
{
	return (hash ^ (hash >> 16)) & (MD_WIRE_COMP_BUCKETS - 1);
}

/* Put entry i into its bucket, at the head. */
static void
comp_index(struct md_wire_writer *w, unsigned i)
{
	unsigned b = bucket(w->comp[i].hash);

	w->comp[i].next = w->heads[b];
	w->heads[b] = (uint16_t)(i + 1);
}

/*
 * Remember a label written at 'off' (its name's hash: 'hash', when the
 * table is in use).  The MD_WIRE_COMP_SCAN-th entry starts the table:
 * the names of the entries before it are read back from the message and
 * hashed then, so a small answer never hashes for compression.
 */
static void
comp_add(struct md_wire_writer *w, size_t off, uint32_t hash)
{
	if (off >= 0x4000 || w->ncomp >= MD_WIRE_COMP_MAX)
		return;
	w->comp[w->ncomp].hash = hash;
	w->comp[w->ncomp].off = (uint16_t)off;
	w->ncomp++;
	if (w->ncomp > MD_WIRE_COMP_SCAN) {
		comp_index(w, w->ncomp - 1);
	} else if (w->ncomp == MD_WIRE_COMP_SCAN) {
		memset(w->heads, 0, sizeof(w->heads));
		for (unsigned i = 0; i < w->ncomp - 1; i++) {
			uint8_t name[MD_NAME_MAX];
			size_t at = w->comp[i].off;

			/* our own bytes: well formed, and written before */
			if (md_name_read(w->buf, w->len, &at, name) < 0)
				name[0] = 0;
			w->comp[i].hash = md_name_hash(name);
			comp_index(w, i);
		}
		comp_index(w, w->ncomp - 1);
	}
}

/* Where a name equal to 'suffix' already is (-1: nowhere), by a scan while
 * entries are few, else by its hash 'h' (the table). */
static int
comp_find(const struct md_wire_writer *w, const uint8_t *suffix, uint32_t hash)
{
	if (w->ncomp < MD_WIRE_COMP_SCAN) {
		for (unsigned i = 0; i < w->ncomp; i++)
			if (match_at(w, w->comp[i].off, suffix))
				return w->comp[i].off;
		return -1;
	}
	for (unsigned i = w->heads[bucket(hash)]; i != 0;
	     i = w->comp[i - 1].next) {
		const struct md_wire_comp *c = &w->comp[i - 1];

		if (c->hash == hash && match_at(w, c->off, suffix))
			return c->off;
	}
	return -1;
}

void
md_wire_writer_rewind(struct md_wire_writer *w, size_t len, unsigned ncomp)
{
	w->len = len;
	if (ncomp >= w->ncomp)
		return;
	/* Back below MD_WIRE_COMP_SCAN, the table is not read (it is
	 * rebuilt when the count gets there again); else the entries to
	 * drop were indexed last, so, newest first, each is the head of its
	 * bucket. */
	if (ncomp >= MD_WIRE_COMP_SCAN)
		for (unsigned i = w->ncomp; i-- > ncomp;)
			w->heads[bucket(w->comp[i].hash)] = w->comp[i].next;
	w->ncomp = ncomp;
}

/*
 * Write 'name' at w->len, compressed against names already in the message.
 * Returns the bytes written or MD_ENOSPACE (nothing written).
 */
static int
put_name(struct md_wire_writer *w, const uint8_t *name, size_t extra)
{
	uint32_t h[MD_NAME_MAX / 2 + 2];
	const uint8_t *suffix = name;
	size_t prefix = 0; /* bytes of labels written before the pointer */
	unsigned labels, k = 0;
	int ptr = -1;

	/* The question's own name, passed again (an answer's owner): a
	 * pointer to the question, without comparing a byte. */
	if (name == w->qname && w->qname_off != 0) {
		if (!room(w, 2 + extra))
			return MD_ENOSPACE;
		md_write_u16(
		    w->buf + w->len, (uint16_t)(0xc000 | w->qname_off));
		w->len += 2;
		return 2;
	}
	/* Longest suffix already present wins: try from the whole name
	 * (with the table, each suffix by its hash). */
	for (labels = 0; suffix[0] != 0; labels++)
		suffix += 1 + *suffix;
	suffix = name;
	/* The hashes only if the table is in use, or may be by the end of
	 * this name (its labels go in only below a pointer's reach). */
	if (w->ncomp >= MD_WIRE_COMP_SCAN ||
	    (w->ncomp + labels >= MD_WIRE_COMP_SCAN && w->len < 0x4000))
		md_name_suffix_hashes(name, h);
	else
		memset(h, 0, sizeof(h[0]) * labels);
	while (k < labels) {
		ptr = comp_find(w, suffix, h[k]);
		if (ptr >= 0)
			break;
		prefix += 1 + (size_t)*suffix;
		suffix += 1 + *suffix;
		k++;
	}
	size_t need = prefix + (ptr >= 0 ? 2 : 1);

	if (!room(w, need + extra))
		return MD_ENOSPACE;
	size_t start = w->len, pos = 0;

	memcpy(w->buf + w->len, name, prefix);
	w->len += prefix;
	if (ptr >= 0) {
		md_write_u16(w->buf + w->len, (uint16_t)(0xc000 | ptr));
		w->len += 2;
	} else {
		w->buf[w->len++] = 0;
	}
	/* Remember where each new label starts, for later names (once the
	 * name is whole in the message: comp_add may read it back). */
	for (unsigned i = 0; pos < prefix; i++) {
		comp_add(w, start + pos, h[i]);
		pos += 1 + (size_t)name[pos];
	}
	return (int)need;
}

int
md_wire_write_question(struct md_wire_writer *w, const uint8_t *qname,
    uint16_t qtype, uint16_t qclass)
{
	size_t start = w->len;
	unsigned ncomp = w->ncomp;

	if (put_name(w, qname, 4) < 0)
		return MD_ENOSPACE;
	if (!room(w, 4)) {
		md_wire_writer_rewind(w, start, ncomp);
		return MD_ENOSPACE;
	}
	md_write_u16(w->buf + w->len, qtype);
	md_write_u16(w->buf + w->len + 2, qclass);
	w->len += 4;
	if (start < 0x4000 && w->counts[MD_SECTION_QUESTION] == 0) {
		w->qname = qname;
		w->qname_off = (uint16_t)start;
	}
	w->counts[MD_SECTION_QUESTION]++;
	return 0;
}

/* Append raw bytes, or fail without change. */
static int
put_raw(struct md_wire_writer *w, const uint8_t *p, size_t n)
{
	if (!room(w, n))
		return MD_ENOSPACE;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

/* Write rdata, compressing the names of the RFC 1035 types. */
static int
put_rdata(struct md_wire_writer *w, uint16_t type, const uint8_t *rdata,
    uint16_t rdlen)
{
	size_t names = 0, fixed_before = 0;

	switch (type) {
	case MD_TYPE_NS:
	case MD_TYPE_CNAME:
	case MD_TYPE_PTR:
		names = 1;
		break;
	case MD_TYPE_MX:
		names = 1;
		fixed_before = 2;
		break;
	case MD_TYPE_SOA:
		names = 2;
		break;
	default:
		return put_raw(w, rdata, rdlen);
	}
	/* Check the stored rdata is what its type says before trusting it. */
	size_t off = fixed_before;

	if (put_raw(w, rdata, fixed_before) != 0)
		return MD_ENOSPACE;
	for (size_t i = 0; i < names; i++) {
		if (off >= rdlen)
			return MD_EPARSE;
		size_t nl = md_name_len(rdata + off);

		if (nl == 0 || off + nl > rdlen)
			return MD_EPARSE;
		if (put_name(w, rdata + off, 0) < 0)
			return MD_ENOSPACE;
		off += nl;
	}
	return put_raw(w, rdata + off, rdlen - off);
}

int
md_wire_write_rr(struct md_wire_writer *w, enum md_section section,
    const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
    const uint8_t *rdata, uint16_t rdlen)
{
	size_t start = w->len;
	unsigned ncomp = w->ncomp;
	int rc;

	if (put_name(w, owner, 10) < 0)
		goto nospace;
	if (!room(w, 10))
		goto nospace;
	uint8_t *fixed = w->buf + w->len;

	md_write_u16(fixed, type);
	md_write_u16(fixed + 2, rclass);
	md_write_u32(fixed + 4, ttl);
	w->len += 10;
	size_t rdstart = w->len;

	rc = put_rdata(w, type, rdata, rdlen);
	if (rc != 0) {
		md_wire_writer_rewind(w, start, ncomp);
		return rc;
	}
	md_write_u16(w->buf + rdstart - 2, (uint16_t)(w->len - rdstart));
	w->counts[section]++;
	return 0;
nospace:
	md_wire_writer_rewind(w, start, ncomp);
	return MD_ENOSPACE;
}

int
md_wire_write_opt_ede(struct md_wire_writer *w, uint16_t udp_size,
    uint8_t ext_rcode, bool do_bit, uint16_t ede, const char *text)
{
	uint8_t opt[11 + 6 + 256];
	size_t tlen = text != NULL ? strlen(text) : 0;
	size_t n;

	if (tlen > 250)
		tlen = 250;
	opt[0] = 0;
	md_write_u16(opt + 1, MD_TYPE_OPT);
	md_write_u16(opt + 3, udp_size);
	opt[5] = ext_rcode;
	opt[6] = 0;
	opt[7] = do_bit ? 0x80 : 0;
	opt[8] = 0;
	/* RFC 8914 §2: option 15, INFO-CODE, then EXTRA-TEXT (UTF-8). */
	md_write_u16(opt + 9, (uint16_t)(4 + 2 + tlen));
	md_write_u16(opt + 11, 15);
	md_write_u16(opt + 13, (uint16_t)(2 + tlen));
	md_write_u16(opt + 15, ede);
	memcpy(opt + 17, text, tlen);
	n = 17 + tlen;
	/* The reserve covers a bare OPT; the text may not fit: then send
	 * the code alone, then a bare OPT. */
	w->reserve = 0;
	if (put_raw(w, opt, n) == 0) {
		w->counts[MD_SECTION_ADDITIONAL]++;
		return 0;
	}
	md_write_u16(opt + 9, 6);
	md_write_u16(opt + 13, 2);
	if (put_raw(w, opt, 17) == 0) {
		w->counts[MD_SECTION_ADDITIONAL]++;
		return 0;
	}
	return md_wire_write_opt(w, udp_size, ext_rcode, 0, do_bit);
}

int
md_wire_write_opt(struct md_wire_writer *w, uint16_t udp_size,
    uint8_t ext_rcode, uint8_t version, bool do_bit)
{
	uint8_t opt[11];

	opt[0] = 0; /* root owner */
	md_write_u16(opt + 1, MD_TYPE_OPT);
	md_write_u16(opt + 3, udp_size);
	opt[5] = ext_rcode;
	opt[6] = version;
	opt[7] = do_bit ? 0x80 : 0;
	opt[8] = 0;
	md_write_u16(opt + 9, 0);
	w->reserve = 0;
	if (put_raw(w, opt, sizeof(opt)) != 0)
		return MD_ENOSPACE;
	w->counts[MD_SECTION_ADDITIONAL]++;
	return 0;
}

size_t
md_wire_writer_finish(struct md_wire_writer *w)
{
	if (w->len < MD_WIRE_HDR_LEN)
		return 0;
	for (int i = 0; i < 4; i++)
		md_write_u16(w->buf + 4 + 2 * i, w->counts[i]);
	return w->len;
}
