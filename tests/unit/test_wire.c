/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_wire.c - unit tests of the wire module (src/wire/): reading names
 * with compression pointers and their abuses, presentation <-> wire name
 * conversion, case-insensitive comparison and hashing, the verdicts of
 * md_wire_read_query() on good and malformed queries and OPT records, and
 * the response writer (compression, size limit, OPT reserve) checked by
 * decoding its output with ldns.  Not covered here: answering (test_query).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <ldns/ldns.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "unit.h"

/* ---- md_name_read ------------------------------------------------------ */

static void
name_read_plain_and_pointer(void **state)
{
	struct pkt p = {0};
	uint8_t out[MD_NAME_MAX], want[MD_NAME_MAX];
	size_t off;
	int n;

	pkt_header(&p, 0, 0, 0, 0, 0, 0);
	pkt_name(&p, "www.example.com.");  /* at 12; example at 16 */
	pkt_bytes(&p, "\3foo\xc0\x10", 6); /* foo + pointer to 16 */
	pkt_bytes(&p, "\xc0\x0c", 2);	   /* pointer to the whole name */

	off = 12;
	n = md_name_read(p.b, p.len, &off, out);
	assert_int_equal(n, 17);
	assert_int_equal(off, 29);
	assert_memory_equal(out, wname("www.example.com.", want), 17);

	/* foo.example.com.: the offset moves past the pointer only. */
	n = md_name_read(p.b, p.len, &off, out);
	assert_int_equal(n, 17);
	assert_int_equal(off, 35);
	assert_memory_equal(out, wname("foo.example.com.", want), 17);

	n = md_name_read(p.b, p.len, &off, out);
	assert_int_equal(n, 17);
	assert_int_equal(off, 37);
	assert_memory_equal(out, wname("www.example.com.", want), 17);
	(void)state;
}

static void
name_read_refuses_bad_pointers(void **state)
{
	uint8_t out[MD_NAME_MAX];
	size_t off;
	/* Forward pointer: at 12, pointing to 14 where a name sits. */
	static const uint8_t fwd[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 'a', 0};
	/* Pointer to itself. */
	static const uint8_t self[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 12};
	/* A label followed by a pointer back to it: a loop that only ever
	 * points backwards. */
	static const uint8_t loop[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12};

	off = 12;
	assert_int_equal(md_name_read(fwd, sizeof(fwd), &off, out), MD_EPARSE);
	off = 12;
	assert_int_equal(
	    md_name_read(self, sizeof(self), &off, out), MD_EPARSE);
	off = 12;
	assert_int_equal(
	    md_name_read(loop, sizeof(loop), &off, out), MD_EPARSE);
	off = 14;
	assert_int_equal(
	    md_name_read(loop, sizeof(loop), &off, out), MD_EPARSE);
	(void)state;
}

static void
name_read_length_limit(void **state)
{
	struct pkt p = {0};
	uint8_t out[MD_NAME_MAX];
	size_t off;
	char label[64];

	memset(label, 'x', 63);
	label[63] = '\0';
	/* 3 * 64 + 62 + 1 = 255 bytes: the longest legal name. */
	pkt_header(&p, 0, 0, 0, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		pkt_u8(&p, 63);
		pkt_bytes(&p, label, 63);
	}
	pkt_u8(&p, 61);
	pkt_bytes(&p, label, 61);
	pkt_u8(&p, 0);
	off = 12;
	assert_int_equal(md_name_read(p.b, p.len, &off, out), 255);
	assert_int_equal(off, p.len);

	/* One byte more is refused. */
	pkt_header(&p, 0, 0, 0, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		pkt_u8(&p, 63);
		pkt_bytes(&p, label, 63);
	}
	pkt_u8(&p, 62);
	pkt_bytes(&p, label, 62);
	pkt_u8(&p, 0);
	off = 12;
	assert_int_equal(md_name_read(p.b, p.len, &off, out), MD_EPARSE);

	/* Too long only once a pointer is followed: 2*64+1 = 129 bytes at
	 * 12, then 2*64 bytes of labels and a pointer to it = 257. */
	pkt_header(&p, 0, 0, 0, 0, 0, 0);
	for (int i = 0; i < 2; i++) {
		pkt_u8(&p, 63);
		pkt_bytes(&p, label, 63);
	}
	pkt_u8(&p, 0);
	off = p.len;
	for (int i = 0; i < 2; i++) {
		pkt_u8(&p, 63);
		pkt_bytes(&p, label, 63);
	}
	pkt_bytes(&p, "\xc0\x0c", 2);
	assert_int_equal(md_name_read(p.b, p.len, &off, out), MD_EPARSE);
	(void)state;
}

static void
name_read_label_types_and_truncation(void **state)
{
	uint8_t out[MD_NAME_MAX];
	size_t off;
	static const uint8_t ext40[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0};
	static const uint8_t ext80[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 'a', 0};
	static const uint8_t shortlabel[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'};
	static const uint8_t noroot[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w'};
	static const uint8_t halfptr[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0};

	off = 12;
	assert_int_equal(
	    md_name_read(ext40, sizeof(ext40), &off, out), MD_EPARSE);
	off = 12;
	assert_int_equal(
	    md_name_read(ext80, sizeof(ext80), &off, out), MD_EPARSE);
	off = 12;
	assert_int_equal(
	    md_name_read(shortlabel, sizeof(shortlabel), &off, out), MD_EPARSE);
	off = 12;
	assert_int_equal(
	    md_name_read(noroot, sizeof(noroot), &off, out), MD_EPARSE);
	off = 12;
	assert_int_equal(
	    md_name_read(halfptr, sizeof(halfptr), &off, out), MD_EPARSE);
	off = sizeof(noroot);
	assert_int_equal(
	    md_name_read(noroot, sizeof(noroot), &off, out), MD_EPARSE);
	(void)state;
}

/* ---- presentation form ------------------------------------------------- */

static void
name_str_round_trips(void **state)
{
	uint8_t n[MD_NAME_MAX];
	char s[MD_NAME_STRLEN];

	assert_int_equal(md_name_from_str("www.example.com.", NULL, n), 17);
	assert_memory_equal(n, "\3www\7example\3com", 17);
	assert_int_equal(md_name_to_str(n, s, sizeof(s)), 0);
	assert_string_equal(s, "www.example.com.");

	/* An escaped dot is part of the label, not a separator. */
	assert_int_equal(md_name_from_str("a\\.b.example.", NULL, n), 13);
	assert_memory_equal(n, "\3a.b\7example", 13);
	assert_int_equal(md_name_to_str(n, s, sizeof(s)), 0);
	assert_string_equal(s, "a\\.b.example.");

	/* \DDD is a decimal byte; a space prints back as \032. */
	assert_int_equal(md_name_from_str("a\\032b.example.", NULL, n), 13);
	assert_memory_equal(n, "\3a b\7example", 13);
	assert_int_equal(md_name_to_str(n, s, sizeof(s)), 0);
	assert_string_equal(s, "a\\032b.example.");

	/* A byte above 0x7f, and a backslash. */
	assert_int_equal(md_name_from_str("\\200\\\\.", NULL, n), 4);
	assert_memory_equal(n, "\2\310\\", 4);
	assert_int_equal(md_name_to_str(n, s, sizeof(s)), 0);
	assert_string_equal(s, "\\200\\\\.");

	/* The root. */
	assert_int_equal(md_name_from_str(".", NULL, n), 1);
	assert_int_equal(n[0], 0);
	assert_int_equal(md_name_to_str(n, s, sizeof(s)), 0);
	assert_string_equal(s, ".");
	(void)state;
}

static void
name_str_relative_and_origin(void **state)
{
	uint8_t origin[MD_NAME_MAX], n[MD_NAME_MAX], want[MD_NAME_MAX];

	wname("example.com.", origin);
	assert_int_equal(md_name_from_str("www", origin, n), 17);
	assert_memory_equal(n, wname("www.example.com.", want), 17);
	assert_int_equal(md_name_from_str("a.b", origin, n), 17);
	assert_memory_equal(n, wname("a.b.example.com.", want), 17);
	/* A final dot makes the name absolute: the origin is not added. */
	assert_int_equal(md_name_from_str("www.", origin, n), 5);
	assert_memory_equal(n, "\3www", 5);
	/* "@" is the origin itself, or the root without one. */
	assert_int_equal(md_name_from_str("@", origin, n), 13);
	assert_memory_equal(n, origin, 13);
	assert_int_equal(md_name_from_str("@", NULL, n), 1);
	assert_int_equal(n[0], 0);
	/* Without an origin a relative name ends at the root. */
	assert_int_equal(md_name_from_str("www", NULL, n), 5);
	assert_memory_equal(n, "\3www", 5);
	(void)state;
}

static void
name_str_errors(void **state)
{
	uint8_t n[MD_NAME_MAX];
	char s[MD_NAME_STRLEN];
	char big[400];

	assert_int_equal(md_name_from_str("a..b.", NULL, n), MD_EPARSE);
	assert_int_equal(md_name_from_str(".a.", NULL, n), MD_EPARSE);
	assert_int_equal(md_name_from_str("", NULL, n), MD_EPARSE);
	assert_int_equal(md_name_from_str("a\\256.", NULL, n), MD_EPARSE);
	assert_int_equal(md_name_from_str("a\\1.", NULL, n), MD_EPARSE);
	assert_int_equal(md_name_from_str("a\\", NULL, n), MD_EPARSE);
	/* A 64-byte label. */
	memset(big, 'x', 64);
	memcpy(big + 64, ".", 2);
	assert_int_equal(md_name_from_str(big, NULL, n), MD_EPARSE);
	/* 63 is fine. */
	big[63] = '.';
	big[64] = '\0';
	assert_int_equal(md_name_from_str(big, NULL, n), 65);
	/* 128 one-letter labels: 257 bytes. */
	for (int i = 0; i < 128; i++) {
		big[2 * i] = 'a';
		big[2 * i + 1] = '.';
	}
	big[256] = '\0';
	assert_int_equal(md_name_from_str(big, NULL, n), MD_EPARSE);
	/* Too long only once the origin is added: 100 + 100 labels. */
	{
		uint8_t origin[MD_NAME_MAX];

		for (int i = 0; i < 100; i++) {
			big[2 * i] = 'o';
			big[2 * i + 1] = '.';
		}
		big[200] = '\0';
		assert_int_equal(md_name_from_str(big, NULL, origin), 201);
		big[199] = '\0'; /* relative now */
		assert_int_equal(md_name_from_str(big, origin, n), MD_EPARSE);
	}

	/* Output buffer too small. */
	wname("www.example.com.", n);
	assert_int_equal(md_name_to_str(n, s, 5), MD_ENOSPACE);
	assert_int_equal(md_name_to_str(n, s, 17), 0);
	assert_string_equal(s, "www.example.com.");
	assert_int_equal(md_name_to_str(n, s, 16), MD_ENOSPACE);
	(void)state;
}

static void
name_compare_and_hash(void **state)
{
	uint8_t a[MD_NAME_MAX], b[MD_NAME_MAX], c[MD_NAME_MAX];
	uint8_t z[MD_NAME_MAX], root[MD_NAME_MAX];

	wname("WWW.Example.COM.", a);
	wname("www.example.com.", b);
	wname("www.example.org.", c);
	assert_true(md_name_equal(a, b));
	assert_false(md_name_equal(a, c));
	assert_int_equal(md_name_hash(a), md_name_hash(b));
	assert_int_not_equal(md_name_hash(b), md_name_hash(c));

	/* Case folding is ASCII only, byte by byte: A-Z and nothing else. */
	for (unsigned ch = 0; ch < 256; ch++) {
		uint8_t x[3] = {1, (uint8_t)ch, 0};
		uint8_t y[3] = {
		    1, (uint8_t)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch), 0};
		uint8_t other[3] = {1, (uint8_t)(ch ^ 0x01), 0};

		assert_true(md_name_equal(x, y));
		assert_int_equal(md_name_hash(x), md_name_hash(y));
		assert_false(md_name_equal(x, other));
	}

	/* The same for labels compared eight bytes at a time: ten bytes,
	 * one of them the byte tried, at each position. */
	for (unsigned ch = 0; ch < 256; ch++) {
		for (unsigned pos = 1; pos <= 10; pos++) {
			uint8_t x[12], y[12], other[12];

			x[0] = y[0] = other[0] = 10;
			for (unsigned i = 1; i <= 10; i++)
				x[i] = y[i] = other[i] = 'q';
			x[pos] = (uint8_t)ch;
			y[pos] =
			    (uint8_t)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			other[pos] = (uint8_t)(ch ^ 0x01);
			x[11] = y[11] = other[11] = 0;
			assert_true(md_name_equal(x, y));
			assert_true(md_name_equal(y, x));
			assert_false(md_name_equal(x, other));
		}
	}

	/* Every suffix's hash from one pass, equal to hashing it alone. */
	uint32_t h[MD_NAME_MAX / 2 + 2];
	unsigned labels = md_name_suffix_hashes(a, h);
	const uint8_t *sfx = a;

	assert_int_equal(labels, 3);
	for (unsigned i = 0; i <= labels; i++) {
		assert_int_equal(h[i], md_name_hash(sfx));
		if (i < labels)
			sfx = md_name_parent(sfx);
	}
	assert_int_equal(h[3], md_name_hash((const uint8_t *)""));

	wname("example.COM.", z);
	wname(".", root);
	assert_true(md_name_is_subdomain(a, z));
	assert_true(md_name_is_subdomain(z, z));
	assert_true(md_name_is_subdomain(a, root));
	assert_false(md_name_is_subdomain(z, a));
	assert_false(md_name_is_subdomain(c, z));
	wname("badexample.com.", c);
	assert_false(md_name_is_subdomain(c, z));

	assert_int_equal(md_name_labels(a), 3);
	assert_int_equal(md_name_labels(root), 0);
	assert_int_equal(md_name_len(a), 17);
	assert_true(md_name_equal(md_name_parent(a), z));
	assert_null(md_name_parent(root));
	md_name_lower(a);
	assert_memory_equal(a, b, 17);
	(void)state;
}

/* ---- md_wire_read_query ------------------------------------------------ */

static void
query_good(void **state)
{
	struct pkt p = {0};
	struct md_wire_query q;
	uint8_t want[MD_NAME_MAX];

	pkt_query(&p, 0xbeef, MD_FLAG_RD, "WWW.example.com.", MD_TYPE_AAAA,
	    MD_CLASS_IN, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_OK);
	assert_int_equal(q.hdr.id, 0xbeef);
	assert_int_equal(q.hdr.flags, MD_FLAG_RD);
	assert_true(q.has_question);
	assert_int_equal(q.qname_len, 17);
	/* The case is kept as sent (it is echoed back). */
	assert_memory_equal(q.qname, wname("WWW.example.com.", want), 17);
	assert_int_equal(q.qtype, MD_TYPE_AAAA);
	assert_int_equal(q.qclass, MD_CLASS_IN);
	assert_false(q.edns.present);
	(void)state;
}

static void
query_drop(void **state)
{
	struct pkt p = {0};
	struct md_wire_query q;

	pkt_query(&p, 1, 0, "a.", MD_TYPE_A, MD_CLASS_IN, 0);
	for (size_t l = 0; l < 12; l++)
		assert_int_equal(md_wire_read_query(p.b, l, &q), MD_QUERY_DROP);
	pkt_query(&p, 1, MD_FLAG_QR, "a.", MD_TYPE_A, MD_CLASS_IN, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_DROP);
	(void)state;
}

static void
query_formerr(void **state)
{
	struct pkt p = {0};
	struct md_wire_query q;

	/* No question. */
	pkt_header(&p, 7, 0, 0, 0, 0, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);
	assert_int_equal(q.hdr.id, 7);
	assert_false(q.has_question);

	/* Two questions. */
	pkt_header(&p, 7, 0, 2, 0, 0, 0);
	for (int i = 0; i < 2; i++) {
		pkt_name(&p, "a.");
		pkt_u16(&p, MD_TYPE_A);
		pkt_u16(&p, MD_CLASS_IN);
	}
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* Header says one question, the packet ends inside it. */
	pkt_query(&p, 7, 0, "www.example.", MD_TYPE_A, MD_CLASS_IN, 0);
	assert_int_equal(
	    md_wire_read_query(p.b, p.len - 1, &q), MD_QUERY_FORMERR);
	assert_int_equal(md_wire_read_query(p.b, 12 + 5, &q), MD_QUERY_FORMERR);
	assert_false(q.has_question);
	assert_int_equal(md_wire_read_query(p.b, 12, &q), MD_QUERY_FORMERR);

	/* An answer or authority record in a query. */
	pkt_query(&p, 7, 0, "a.", MD_TYPE_A, MD_CLASS_IN, 0);
	p.b[7] = 1; /* ancount */
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);
	assert_true(q.has_question);
	pkt_query(&p, 7, 0, "a.", MD_TYPE_A, MD_CLASS_IN, 0);
	p.b[9] = 1; /* nscount */
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* arcount says 1, no record follows. */
	pkt_query(&p, 7, 0, "a.", MD_TYPE_A, MD_CLASS_IN, 0);
	p.b[11] = 1;
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* qtype OPT is a meta type that cannot be asked for. */
	pkt_query(&p, 7, 0, "a.", MD_TYPE_OPT, MD_CLASS_IN, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);
	(void)state;
}

static void
query_notimp_keeps_question(void **state)
{
	struct pkt p = {0};
	struct md_wire_query q;
	uint8_t want[MD_NAME_MAX];

	pkt_query(&p, 9, (uint16_t)(MD_OPCODE_STATUS << 11), "x.example.",
	    MD_TYPE_A, MD_CLASS_IN, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_NOTIMP);
	assert_int_equal(q.hdr.id, 9);
	assert_int_equal(MD_OPCODE(q.hdr.flags), MD_OPCODE_STATUS);
	assert_true(q.has_question);
	assert_memory_equal(q.qname, wname("x.example.", want), 11);
	assert_int_equal(q.qtype, MD_TYPE_A);

	/* An unknown opcode without a question is NOTIMP, not FORMERR. */
	pkt_header(&p, 9, (uint16_t)(MD_OPCODE_UPDATE << 11), 0, 0, 0, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_NOTIMP);
	assert_false(q.has_question);
	(void)state;
}

static void
query_edns(void **state)
{
	struct pkt p = {0};
	struct md_wire_query q;

	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_opt(&p, 4096, 0, true);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_OK);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.udp_size, 4096);
	assert_int_equal(q.edns.version, 0);
	assert_true(q.edns.do_bit);

	pkt_query(&p, 1, 0, "a.", MD_TYPE_A, MD_CLASS_IN, 1232);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_OK);
	assert_int_equal(q.edns.udp_size, 1232);
	assert_false(q.edns.do_bit);

	/* Well-formed options: a client cookie (8 bytes) and an empty NSID. */
	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_u8(&p, 0);
	pkt_u16(&p, MD_TYPE_OPT);
	pkt_u16(&p, 1400);
	pkt_u32(&p, 0);
	pkt_u16(&p, 16);
	pkt_u16(&p, 10); /* COOKIE */
	pkt_u16(&p, 8);
	pkt_bytes(&p, "\1\2\3\4\5\6\7\10", 8);
	pkt_u16(&p, 3); /* NSID */
	pkt_u16(&p, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_OK);
	assert_int_equal(q.edns.udp_size, 1400);

	/* A record that is not OPT in the additional section is skipped. */
	pkt_header(&p, 1, 0, 1, 0, 0, 2);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_bytes(&p, "\xc0\x0c", 2);
	pkt_u16(&p, MD_TYPE_TXT);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_u32(&p, 0);
	pkt_u16(&p, 2);
	pkt_bytes(&p, "\1x", 2);
	pkt_opt(&p, 2000, 0, false);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_OK);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.udp_size, 2000);
	(void)state;
}

static void
query_edns_errors(void **state)
{
	struct pkt p = {0};
	struct md_wire_query q;

	/* EDNS version 1: BADVERS, with the question and OPT read. */
	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_opt(&p, 1232, 1, false);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_BADVERS);
	assert_true(q.has_question);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.version, 1);

	/* Two OPT records. */
	pkt_header(&p, 1, 0, 1, 0, 0, 2);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_opt(&p, 1232, 0, false);
	pkt_opt(&p, 1232, 0, false);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* OPT owned by a name other than the root. */
	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_bytes(&p, "\xc0\x0c", 2);
	pkt_u16(&p, MD_TYPE_OPT);
	pkt_u16(&p, 1232);
	pkt_u32(&p, 0);
	pkt_u16(&p, 0);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* Option header cut short: rdlen 3. */
	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_u8(&p, 0);
	pkt_u16(&p, MD_TYPE_OPT);
	pkt_u16(&p, 1232);
	pkt_u32(&p, 0);
	pkt_u16(&p, 3);
	pkt_bytes(&p, "\0\12\0", 3);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* Option length past the end of the rdata (but not the packet). */
	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_u8(&p, 0);
	pkt_u16(&p, MD_TYPE_OPT);
	pkt_u16(&p, 1232);
	pkt_u32(&p, 0);
	pkt_u16(&p, 8);
	pkt_u16(&p, 10);
	pkt_u16(&p, 8); /* 8 bytes said, 4 in the rdata */
	pkt_bytes(&p, "\1\2\3\4\5\6\7\10", 8);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);

	/* OPT rdlen past the end of the packet. */
	pkt_header(&p, 1, 0, 1, 0, 0, 1);
	pkt_name(&p, "a.");
	pkt_u16(&p, MD_TYPE_A);
	pkt_u16(&p, MD_CLASS_IN);
	pkt_u8(&p, 0);
	pkt_u16(&p, MD_TYPE_OPT);
	pkt_u16(&p, 1232);
	pkt_u32(&p, 0);
	pkt_u16(&p, 12);
	pkt_bytes(&p, "\0\12\0\4", 4);
	assert_int_equal(md_wire_read_query(p.b, p.len, &q), MD_QUERY_FORMERR);
	(void)state;
}

/* ---- the writer -------------------------------------------------------- */

/* Decode buf with ldns and check the RR at 'idx' of a section. */
static void
check_rr(ldns_rr_list *list, size_t idx, const char *text)
{
	ldns_rr *want = NULL;
	ldns_rr *got;

	assert_int_equal(
	    ldns_rr_new_frm_str(&want, text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_true(idx < ldns_rr_list_rr_count(list));
	got = ldns_rr_list_rr(list, idx);
	if (ldns_rr_compare(want, got) != 0 ||
	    ldns_rr_ttl(want) != ldns_rr_ttl(got)) {
		char *s = ldns_rr2str(got);

		print_error("want %s\n got %s", text, s ? s : "?");
		free(s);
		ldns_rr_free(want);
		fail();
	}
	ldns_rr_free(want);
}

/* Rdata in wire form from presentation form. */
static uint16_t
rdata_of(const char *text, uint8_t *out)
{
	ldns_rr *rr = NULL;
	ldns_buffer *b = ldns_buffer_new(512);
	uint16_t len;

	assert_int_equal(
	    ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_rdata2buffer_wire(b, rr), LDNS_STATUS_OK);
	len = (uint16_t)ldns_buffer_position(b);
	memcpy(out, ldns_buffer_begin(b), len);
	ldns_buffer_free(b);
	ldns_rr_free(rr);
	return len;
}

static void
writer_compresses_and_ldns_decodes(void **state)
{
	uint8_t buf[1024], www[MD_NAME_MAX], zone[MD_NAME_MAX];
	uint8_t rd[256];
	uint16_t rdlen;
	struct md_wire_writer w;
	ldns_pkt *pkt = NULL;
	size_t len;

	wname("www.example.com.", www);
	wname("example.com.", zone);
	md_wire_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(
	    md_wire_write_header(&w, 0x1234, MD_FLAG_QR | MD_FLAG_AA), 0);
	assert_int_equal(
	    md_wire_write_question(&w, www, MD_TYPE_A, MD_CLASS_IN), 0);
	assert_int_equal(w.len, 12 + 17 + 4);
	for (int i = 1; i <= 3; i++) {
		uint8_t a[4] = {192, 0, 2, (uint8_t)i};

		assert_int_equal(md_wire_write_rr(&w, MD_SECTION_ANSWER, www,
				     MD_TYPE_A, MD_CLASS_IN, 300, a, 4),
		    0);
	}
	/* Each owner is a 2-byte pointer: 3 * (2 + 10 + 4). */
	assert_int_equal(w.len, 33 + 48);
	rdlen = rdata_of("x NS ns1.example.com.", rd);
	assert_int_equal(md_wire_write_rr(&w, MD_SECTION_AUTHORITY, zone,
			     MD_TYPE_NS, MD_CLASS_IN, 3600, rd, rdlen),
	    0);
	/* Owner pointer (2) + 10 + "ns1" label and a pointer (6). */
	assert_int_equal(w.len, 81 + 18);
	rdlen = rdata_of("x MX 10 mail.example.com.", rd);
	assert_int_equal(md_wire_write_rr(&w, MD_SECTION_AUTHORITY, zone,
			     MD_TYPE_MX, MD_CLASS_IN, 3600, rd, rdlen),
	    0);
	assert_int_equal(w.len, 99 + 2 + 10 + 2 + 7);
	rdlen = rdata_of("x SOA ns1.example.com. host.example.com. "
			 "1 2 3 4 5",
	    rd);
	assert_int_equal(md_wire_write_rr(&w, MD_SECTION_AUTHORITY, zone,
			     MD_TYPE_SOA, MD_CLASS_IN, 60, rd, rdlen),
	    0);
	/* ns1.example.com. is one pointer, host. a label and a pointer. */
	assert_int_equal(w.len, 120 + 2 + 10 + 2 + 7 + 20);
	/* SRV targets are not compressed (RFC 3597 §4). */
	rdlen = rdata_of("x SRV 0 5 80 www.example.com.", rd);
	assert_int_equal(md_wire_write_rr(&w, MD_SECTION_ADDITIONAL, www,
			     MD_TYPE_SRV, MD_CLASS_IN, 60, rd, rdlen),
	    0);
	assert_int_equal(w.len, 161 + 2 + 10 + 6 + 17);
	len = md_wire_writer_finish(&w);
	assert_int_equal(len, 196);

	assert_int_equal(ldns_wire2pkt(&pkt, buf, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(pkt), 0x1234);
	assert_true(ldns_pkt_qr(pkt));
	assert_true(ldns_pkt_aa(pkt));
	assert_int_equal(ldns_pkt_qdcount(pkt), 1);
	assert_int_equal(ldns_pkt_ancount(pkt), 3);
	assert_int_equal(ldns_pkt_nscount(pkt), 3);
	assert_int_equal(ldns_pkt_arcount(pkt), 1);
	check_rr(
	    ldns_pkt_answer(pkt), 0, "www.example.com. 300 IN A 192.0.2.1");
	check_rr(
	    ldns_pkt_answer(pkt), 2, "www.example.com. 300 IN A 192.0.2.3");
	check_rr(ldns_pkt_authority(pkt), 0,
	    "example.com. 3600 IN NS ns1.example.com.");
	check_rr(ldns_pkt_authority(pkt), 1,
	    "example.com. 3600 IN MX 10 mail.example.com.");
	check_rr(ldns_pkt_authority(pkt), 2,
	    "example.com. 60 IN SOA "
	    "ns1.example.com. host.example.com. 1 2 3 4 5");
	check_rr(ldns_pkt_additional(pkt), 0,
	    "www.example.com. 60 IN SRV 0 5 80 www.example.com.");
	ldns_pkt_free(pkt);
	(void)state;
}

static void
writer_compression_ignores_case(void **state)
{
	uint8_t buf[512], a[MD_NAME_MAX], b[MD_NAME_MAX];
	uint8_t addr[4] = {192, 0, 2, 1};
	struct md_wire_writer w;

	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_write_header(&w, 1, MD_FLAG_QR);
	md_wire_write_question(
	    &w, wname("WWW.Example.COM.", a), MD_TYPE_A, MD_CLASS_IN);
	assert_int_equal(md_wire_write_rr(&w, MD_SECTION_ANSWER,
			     wname("www.example.com.", b), MD_TYPE_A,
			     MD_CLASS_IN, 1, addr, 4),
	    0);
	assert_int_equal(w.len, 33 + 16);
	/* A different name sharing a suffix: one label and a pointer. */
	assert_int_equal(md_wire_write_rr(&w, MD_SECTION_ANSWER,
			     wname("mail.EXAMPLE.com.", b), MD_TYPE_A,
			     MD_CLASS_IN, 1, addr, 4),
	    0);
	assert_int_equal(w.len, 49 + 5 + 2 + 14);
	(void)state;
}

/*
 * A large SRV answer (a headless Service with many endpoints, over TCP):
 * every additional record's owner compresses to its first label and a
 * pointer into the question, however many names came before (the table
 * takes over from the scan after MD_WIRE_COMP_SCAN labels), and ldns reads
 * every name back.
 */
static void
writer_compression_many_names(void **state)
{
	static uint8_t buf[65535];
	uint8_t q[MD_NAME_MAX], t[MD_NAME_MAX], rd[MD_NAME_MAX + 6];
	uint8_t addr[4] = {10, 244, 0, 0};
	struct md_wire_writer w;
	ldns_pkt *pkt = NULL;
	char text[128];
	size_t want, len;
	const unsigned n = 600;

	wname("_http._tcp.web.prod.svc.cluster.local.", q);
	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_write_header(&w, 7, MD_FLAG_QR | MD_FLAG_AA);
	assert_int_equal(
	    md_wire_write_question(&w, q, MD_TYPE_SRV, MD_CLASS_IN), 0);
	want = 12 + md_name_len(q) + 4;
	for (unsigned i = 0; i < n; i++) {
		snprintf(
		    text, sizeof(text), "ep-%u.web.prod.svc.cluster.local.", i);
		wname(text, t);
		memset(rd, 0, 6);
		rd[5] = 80;
		memcpy(rd + 6, t, md_name_len(t));
		assert_int_equal(
		    md_wire_write_rr(&w, MD_SECTION_ANSWER, q, MD_TYPE_SRV,
			MD_CLASS_IN, 30, rd, (uint16_t)(6 + md_name_len(t))),
		    0);
		/* owner: a pointer; the target: in full (RFC 2782) */
		want += 2 + 10 + 6 + md_name_len(t);
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(
		    text, sizeof(text), "ep-%u.web.prod.svc.cluster.local.", i);
		wname(text, t);
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		assert_int_equal(md_wire_write_rr(&w, MD_SECTION_ADDITIONAL, t,
				     MD_TYPE_A, MD_CLASS_IN, 30, addr, 4),
		    0);
		/* "ep-N" and a pointer to web.prod... in the question */
		want += 1 + t[0] + 2 + 10 + 4;
	}
	len = md_wire_writer_finish(&w);
	assert_int_equal(len, want);
	assert_int_equal(ldns_wire2pkt(&pkt, buf, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(pkt), n);
	assert_int_equal(ldns_pkt_arcount(pkt), n);
	check_rr(ldns_pkt_answer(pkt), 599,
	    "_http._tcp.web.prod.svc.cluster.local. 30 IN SRV 0 0 80 "
	    "ep-599.web.prod.svc.cluster.local.");
	check_rr(ldns_pkt_additional(pkt), 0,
	    "ep-0.web.prod.svc.cluster.local. 30 IN A 10.244.0.0");
	check_rr(ldns_pkt_additional(pkt), 599,
	    "ep-599.web.prod.svc.cluster.local. 30 IN A 10.244.2.87");
	ldns_pkt_free(pkt);
	(void)state;
}

/*
 * An RR that does not fit, once the compression table is in use: the
 * labels its owner added are forgotten with it, so a later name is
 * written exactly as by a writer that never tried (no pointer to bytes
 * that were taken back).
 */
/* The same A record written by two writers. */
static void
put_a_both(
    struct md_wire_writer *wa, struct md_wire_writer *wb, const uint8_t *name)
{
	static const uint8_t addr[4] = {192, 0, 2, 1};

	assert_int_equal(md_wire_write_rr(wa, MD_SECTION_ANSWER, name,
			     MD_TYPE_A, MD_CLASS_IN, 1, addr, 4),
	    0);
	assert_int_equal(md_wire_write_rr(wb, MD_SECTION_ANSWER, name,
			     MD_TYPE_A, MD_CLASS_IN, 1, addr, 4),
	    0);
}

static void
writer_rewind_forgets_table_entries(void **state)
{
	uint8_t a[2048], b[2048], name[MD_NAME_MAX], big[400];
	struct md_wire_writer wa, wb;
	char text[64];

	memset(big, 0, sizeof(big));
	md_wire_writer_init(&wa, a, sizeof(a));
	md_wire_writer_init(&wb, b, sizeof(b));
	md_wire_write_header(&wa, 1, MD_FLAG_QR);
	md_wire_write_header(&wb, 1, MD_FLAG_QR);
	for (unsigned i = 0; i < 24; i++) {
		snprintf(text, sizeof(text), "h%u.zone%u.example.", i, i);
		put_a_both(&wa, &wb, wname(text, name));
	}
	assert_true(wa.ncomp >= MD_WIRE_COMP_SCAN);
	/* the owner fits, its rdata does not */
	md_wire_writer_set_limit(&wa, wa.len + 100, 0);
	wname("new.fresh.other.", name);
	assert_int_equal(md_wire_write_rr(&wa, MD_SECTION_ANSWER, name,
			     10 /* NULL */, MD_CLASS_IN, 1, big, sizeof(big)),
	    MD_ENOSPACE);
	assert_int_equal(wa.len, wb.len);
	assert_int_equal(wa.ncomp, wb.ncomp);
	md_wire_writer_set_limit(&wa, sizeof(a), 0);
	/* the same owner again, and one sharing its suffix */
	put_a_both(&wa, &wb, wname("new.fresh.other.", name));
	put_a_both(&wa, &wb, wname("old.fresh.other.", name));
	assert_int_equal(wa.len, wb.len);
	assert_memory_equal(a, b, wa.len);
	(void)state;
}

static void
writer_limit_leaves_message_unchanged(void **state)
{
	uint8_t buf[512], copy[512], name[MD_NAME_MAX], other[MD_NAME_MAX];
	uint8_t txt[200];
	struct md_wire_writer w, before;
	ldns_pkt *pkt = NULL;
	size_t len;
	int rc, n = 0;

	memset(txt, 'x', sizeof(txt));
	txt[0] = 199;
	wname("big.example.", name);
	wname("other.example.", other);
	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_writer_set_limit(&w, 512, 0);
	md_wire_write_header(&w, 5, MD_FLAG_QR);
	md_wire_write_question(&w, name, MD_TYPE_TXT, MD_CLASS_IN);
	for (;;) {
		before = w;
		memcpy(copy, buf, sizeof(buf));
		rc = md_wire_write_rr(&w, MD_SECTION_ANSWER, name, MD_TYPE_TXT,
		    MD_CLASS_IN, 60, txt, sizeof(txt));
		if (rc != 0)
			break;
		n++;
	}
	assert_int_equal(rc, MD_ENOSPACE);
	assert_int_equal(n, 2);
	assert_int_equal(w.len, before.len);
	assert_int_equal(w.ncomp, before.ncomp);
	assert_memory_equal(w.counts, before.counts, sizeof(w.counts));
	assert_memory_equal(buf, copy, w.len);

	/* A new owner name fits, the rdata behind it does not: the name's
	 * compression entries must go too. */
	rc = md_wire_write_rr(&w, MD_SECTION_ANSWER, other, MD_TYPE_TXT,
	    MD_CLASS_IN, 60, txt, sizeof(txt));
	assert_int_equal(rc, MD_ENOSPACE);
	assert_int_equal(w.len, before.len);
	assert_int_equal(w.ncomp, before.ncomp);
	assert_memory_equal(buf, copy, w.len);
	/* What remains is a good message, and it fits. */
	len = md_wire_writer_finish(&w);
	assert_true(len <= 512);
	assert_int_equal(ldns_wire2pkt(&pkt, buf, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(pkt), 2);
	ldns_pkt_free(pkt);

	/* A limit below the header and question. */
	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_writer_set_limit(&w, 20, 0);
	md_wire_write_header(&w, 5, MD_FLAG_QR);
	assert_int_equal(
	    md_wire_write_question(&w, name, MD_TYPE_TXT, MD_CLASS_IN),
	    MD_ENOSPACE);
	assert_int_equal(w.len, 12);
	assert_int_equal(w.counts[MD_SECTION_QUESTION], 0);
	(void)state;
}

static void
writer_opt_reserve(void **state)
{
	uint8_t buf[512], name[MD_NAME_MAX], txt[100];
	struct md_wire_writer w;
	ldns_pkt *pkt = NULL;
	size_t len;

	memset(txt, 'y', sizeof(txt));
	txt[0] = 99;
	wname("r.example.", name);
	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_writer_set_limit(&w, 300, 11);
	md_wire_write_header(&w, 6, MD_FLAG_QR);
	md_wire_write_question(&w, name, MD_TYPE_TXT, MD_CLASS_IN);
	while (md_wire_write_rr(&w, MD_SECTION_ANSWER, name, MD_TYPE_TXT,
		   MD_CLASS_IN, 60, txt, sizeof(txt)) == 0)
		;
	/* RRs stop 11 bytes short of the limit... */
	assert_true(w.len + 11 <= 300);
	/* ...so the OPT record always fits. */
	assert_int_equal(md_wire_write_opt(&w, 1232, 0, 0, true), 0);
	len = md_wire_writer_finish(&w);
	assert_true(len <= 300);
	assert_int_equal(ldns_wire2pkt(&pkt, buf, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(pkt), 2);
	assert_true(ldns_pkt_edns(pkt));
	assert_int_equal(ldns_pkt_edns_udp_size(pkt), 1232);
	assert_true(ldns_pkt_edns_do(pkt));
	assert_int_equal(ldns_pkt_edns_version(pkt), 0);
	ldns_pkt_free(pkt);

	/* Without the reserve the same fill leaves no room for OPT. */
	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_writer_set_limit(&w, 251 + 5, 0);
	md_wire_write_header(&w, 6, MD_FLAG_QR);
	md_wire_write_question(&w, name, MD_TYPE_TXT, MD_CLASS_IN);
	while (md_wire_write_rr(&w, MD_SECTION_ANSWER, name, MD_TYPE_TXT,
		   MD_CLASS_IN, 60, txt, sizeof(txt)) == 0)
		;
	assert_int_equal(w.counts[MD_SECTION_ANSWER], 2);
	assert_int_equal(md_wire_write_opt(&w, 1232, 0, 0, false), MD_ENOSPACE);

	/* Extended rcode and version land in the OPT TTL (RFC 6891 §6.1.3). */
	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_write_header(&w, 6, MD_FLAG_QR);
	assert_int_equal(md_wire_write_opt(&w, 4096, 1, 0, false), 0);
	len = md_wire_writer_finish(&w);
	assert_int_equal(len, 23);
	assert_int_equal(buf[12 + 5], 1);
	assert_int_equal(md_read_u16(buf + 12 + 3), 4096);
	(void)state;
}

/* RFC 4034 §6.1's own example of canonical order. */
static void
name_canonical_order(void **state)
{
	static const char *const order[] = {"example.", "a.example.",
	    "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
	    "z.example.", "\\001.z.example.", "*.z.example.",
	    "\\200.z.example."};
	uint8_t a[MD_NAME_MAX], b[MD_NAME_MAX];
	size_t n = sizeof(order) / sizeof(order[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int c;

			assert_true(md_name_from_str(order[i], NULL, a) > 0);
			assert_true(md_name_from_str(order[j], NULL, b) > 0);
			c = md_name_canon_cmp(a, b);
			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	}
	/* case does not count */
	assert_true(md_name_from_str("WWW.Example.", NULL, a) > 0);
	assert_true(md_name_from_str("www.example.", NULL, b) > 0);
	assert_int_equal(md_name_canon_cmp(a, b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(name_canonical_order),
	    cmocka_unit_test(name_read_plain_and_pointer),
	    cmocka_unit_test(name_read_refuses_bad_pointers),
	    cmocka_unit_test(name_read_length_limit),
	    cmocka_unit_test(name_read_label_types_and_truncation),
	    cmocka_unit_test(name_str_round_trips),
	    cmocka_unit_test(name_str_relative_and_origin),
	    cmocka_unit_test(name_str_errors),
	    cmocka_unit_test(name_compare_and_hash),
	    cmocka_unit_test(query_good),
	    cmocka_unit_test(query_drop),
	    cmocka_unit_test(query_formerr),
	    cmocka_unit_test(query_notimp_keeps_question),
	    cmocka_unit_test(query_edns),
	    cmocka_unit_test(query_edns_errors),
	    cmocka_unit_test(writer_compresses_and_ldns_decodes),
	    cmocka_unit_test(writer_compression_ignores_case),
	    cmocka_unit_test(writer_compression_many_names),
	    cmocka_unit_test(writer_rewind_forgets_table_entries),
	    cmocka_unit_test(writer_limit_leaves_message_unchanged),
	    cmocka_unit_test(writer_opt_reserve),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
