/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unit.h - helpers shared by the cmocka unit tests: the cmocka includes,
 * a deterministic PRNG (xorshift32, as the C library one is banned), a
 * tiny builder for query packets by hand, and name conversion that fails
 * the test on bad input.  Everything is static inline so each test
 * binary takes only what it uses.
 */
#ifndef MINIDNS_TESTS_UNIT_H
#define MINIDNS_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "minidns/wire.h"

#ifndef MD_TEST_DATA
#define MD_TEST_DATA "tests/unit/data"
#endif
#ifndef MD_ZONES_DIR
#define MD_ZONES_DIR "zones"
#endif

/* ---- deterministic PRNG ------------------------------------------------ */

struct xorshift {
	uint32_t s;
};

static inline uint32_t
xs_next(struct xorshift *x)
{
	uint32_t v = x->s;

	v ^= v << 13;
	v ^= v >> 17;
	v ^= v << 5;
	x->s = v;
	return v;
}

/* ---- names ------------------------------------------------------------- */

/* Presentation form to wire form; the test fails on a bad name. */
static inline const uint8_t *
wname(const char *s, uint8_t *buf)
{
	assert_true(md_name_from_str(s, NULL, buf) > 0);
	return buf;
}

/* ---- a packet builder -------------------------------------------------- */

struct pkt {
	uint8_t b[4096];
	size_t len;
};

static inline void
pkt_u8(struct pkt *p, uint8_t v)
{
	assert_true(p->len + 1 <= sizeof(p->b));
	p->b[p->len++] = v;
}

static inline void
pkt_u16(struct pkt *p, uint16_t v)
{
	pkt_u8(p, (uint8_t)(v >> 8));
	pkt_u8(p, (uint8_t)v);
}

static inline void
pkt_u32(struct pkt *p, uint32_t v)
{
	pkt_u16(p, (uint16_t)(v >> 16));
	pkt_u16(p, (uint16_t)v);
}

static inline void
pkt_bytes(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

/* An uncompressed name from presentation form. */
static inline void
pkt_name(struct pkt *p, const char *s)
{
	uint8_t n[MD_NAME_MAX];
	int len = md_name_from_str(s, NULL, n);

	assert_true(len > 0);
	pkt_bytes(p, n, (size_t)len);
}

static inline void
pkt_header(struct pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	p->len = 0;
	pkt_u16(p, id);
	pkt_u16(p, flags);
	pkt_u16(p, qd);
	pkt_u16(p, an);
	pkt_u16(p, ns);
	pkt_u16(p, ar);
}

/* An OPT RR (RFC 6891 §6.1.2) with no options. */
static inline void
pkt_opt(struct pkt *p, uint16_t udp_size, uint8_t version, bool do_bit)
{
	pkt_u8(p, 0);
	pkt_u16(p, MD_TYPE_OPT);
	pkt_u16(p, udp_size);
	pkt_u8(p, 0);
	pkt_u8(p, version);
	pkt_u16(p, do_bit ? 0x8000 : 0);
	pkt_u16(p, 0);
}

/* A whole one-question query, optionally with an OPT record. */
static inline void
pkt_query(struct pkt *p, uint16_t id, uint16_t flags, const char *qname,
    uint16_t qtype, uint16_t qclass, int edns_size)
{
	pkt_header(p, id, flags, 1, 0, 0, edns_size > 0 ? 1 : 0);
	pkt_name(p, qname);
	pkt_u16(p, qtype);
	pkt_u16(p, qclass);
	if (edns_size > 0)
		pkt_opt(p, (uint16_t)edns_size, 0, false);
}

#endif /* MINIDNS_TESTS_UNIT_H */
