/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nsec.c - unit tests of the NSEC/NSEC3 proof checks (val_nsec.c):
 * the NSEC3 hashes of RFC 5155 Appendix A as known answers, base32hex,
 * type bitmaps, and the responses of RFC 4035 Appendix B (NSEC) and RFC
 * 5155 Appendix B (NSEC3) as proofs that must hold, with the broken
 * variants that must not: a missing wildcard proof, a range that does not
 * cover, a bitmap listing the type, a record from the parent side of a
 * delegation, a DS denied by the child, and NSEC3 iterations or hash work
 * over the limits.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "minidns/dnssec_nsec.h"
#include "minidns/wire.h"
#include "unit.h"

/* ---- building records ---------------------------------------------------- */

#define NREC 16

struct recs {
	struct md_nsec_rr rr[NREC];
	uint8_t owner[NREC][MD_NAME_MAX];
	uint8_t rd[NREC][600];
	size_t n;
};

static const struct {
	const char *name;
	uint16_t type;
} type_names[] = {
    {"A", 1},
    {"NS", 2},
    {"CNAME", 5},
    {"SOA", 6},
    {"HINFO", 13},
    {"MX", 15},
    {"AAAA", 28},
    {"DNAME", 39},
    {"DS", 43},
    {"RRSIG", 46},
    {"NSEC", 47},
    {"DNSKEY", 48},
    {"NSEC3PARAM", 51},
    {"TYPE1234", 1234},
};

static uint16_t
type_num(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]);
	     i++) {
		if (strlen(type_names[i].name) == len &&
		    strncmp(type_names[i].name, s, len) == 0)
			return type_names[i].type;
	}
	fail_msg("unknown type %.*s", (int)len, s);
	return 0;
}

/* A type bitmap in window format from "A NS SOA ..."; its length. */
static size_t
bitmap(const char *types, uint8_t *out)
{
	uint8_t win[256][32];
	unsigned wlen[256] = {0};
	size_t len = 0;

	memset(win, 0, sizeof(win));
	for (const char *p = types; *p != '\0';) {
		size_t l = strcspn(p, " ");
		uint16_t t;

		if (l == 0) {
			p++;
			continue;
		}
		t = type_num(p, l);
		win[t >> 8][(t & 0xff) / 8] |= (uint8_t)(0x80 >> (t & 7));
		if ((t & 0xff) / 8 + 1u > wlen[t >> 8])
			wlen[t >> 8] = (t & 0xff) / 8 + 1u;
		p += l;
	}
	for (unsigned w = 0; w < 256; w++) {
		if (wlen[w] == 0)
			continue;
		out[len++] = (uint8_t)w;
		out[len++] = (uint8_t)wlen[w];
		memcpy(out + len, win[w], wlen[w]);
		len += wlen[w];
	}
	return len;
}

static void
add_nsec(struct recs *r, const char *owner, const char *next, const char *types)
{
	size_t i = r->n++, nl;

	assert_true(i < NREC);
	wname(owner, r->owner[i]);
	wname(next, r->rd[i]);
	nl = md_name_len(r->rd[i]);
	r->rr[i].type = MD_TYPE_NSEC;
	r->rr[i].owner = r->owner[i];
	r->rr[i].rdata = r->rd[i];
	r->rr[i].rdlen = nl + bitmap(types, r->rd[i] + nl);
}

/* An NSEC3 of zone "example." (salt aabbccdd) with the given hash label,
 * flags and iterations. */
static void
add_nsec3_p(struct recs *r, const char *hash, unsigned flags, unsigned iter,
    const char *next, const char *types)
{
	size_t i = r->n++, len = 0;
	char owner[64];
	uint8_t *p;

	assert_true(i < NREC);
	snprintf(owner, sizeof(owner), "%s.example.", hash);
	wname(owner, r->owner[i]);
	p = r->rd[i];
	p[len++] = 1; /* SHA-1 */
	p[len++] = (uint8_t)flags;
	p[len++] = (uint8_t)(iter >> 8);
	p[len++] = (uint8_t)iter;
	p[len++] = 4;
	memcpy(p + len, "\xaa\xbb\xcc\xdd", 4);
	len += 4;
	p[len++] = 20;
	assert_int_equal(
	    md_base32hex_decode(next, strlen(next), p + len, 20), 20);
	len += 20;
	len += bitmap(types, p + len);
	r->rr[i].type = MD_TYPE_NSEC3;
	r->rr[i].owner = r->owner[i];
	r->rr[i].rdata = p;
	r->rr[i].rdlen = len;
}

/* RFC 5155 Appendix A: the NSEC3 chain of "example" (opt-out, 12
 * iterations, salt aabbccdd). */
static const struct {
	const char *hash, *next, *types;
} n3_zone[] = {
    {"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
	"MX DNSKEY NS SOA NSEC3PARAM RRSIG"},
    {"2t7b4g4vsa5smi47k61mv5bv1a22bojr", "2vptu5timamqttgl4luu9kg21e0aor3s",
	"A RRSIG"},
    {"2vptu5timamqttgl4luu9kg21e0aor3s", "35mthgpgcu1qg68fab165klnsnk3dpvl",
	"MX RRSIG"},
    {"35mthgpgcu1qg68fab165klnsnk3dpvl", "b4um86eghhds6nea196smvmlo4ors995",
	"NS DS RRSIG"},
    {"b4um86eghhds6nea196smvmlo4ors995", "gjeqe526plbf1g8mklp59enfd789njgi",
	"MX RRSIG"},
    {"gjeqe526plbf1g8mklp59enfd789njgi", "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
	"A HINFO AAAA RRSIG"},
    {"ji6neoaepv8b5o6k4ev33abha8ht9fgc", "k8udemvp1j2f7eg6jebps17vp3n8i58h",
	""},
    {"k8udemvp1j2f7eg6jebps17vp3n8i58h", "q04jkcevqvmu85r014c7dkba38o0ji5r",
	"MX RRSIG"},
    {"q04jkcevqvmu85r014c7dkba38o0ji5r", "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
	"A RRSIG"},
    {"r53bq7cc2uvmubfu5ocmm6pers9tk9en", "t644ebqk9bibcna874givr6joj62mlhv",
	"MX RRSIG"},
    {"t644ebqk9bibcna874givr6joj62mlhv", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
	"A HINFO AAAA RRSIG"},
};

/* The record of the example zone whose hash starts with prefix. */
static void
add_n3(struct recs *r, const char *prefix, unsigned flags, unsigned iter)
{
	for (size_t i = 0; i < sizeof(n3_zone) / sizeof(n3_zone[0]); i++) {
		if (strncmp(n3_zone[i].hash, prefix, strlen(prefix)) == 0) {
			add_nsec3_p(r, n3_zone[i].hash, flags, iter,
			    n3_zone[i].next, n3_zone[i].types);
			return;
		}
	}
	fail_msg("no NSEC3 %s", prefix);
}

/* The question, with names held in static buffers. */
static struct md_nsec_query *
qry(const char *qname, uint16_t qtype, unsigned sig_labels)
{
	static uint8_t qn[MD_NAME_MAX], zone[MD_NAME_MAX];
	static struct md_nsec_query q;

	q.qname = wname(qname, qn);
	q.zone = wname("example.", zone);
	q.qtype = qtype;
	q.sig_labels = sig_labels;
	return &q;
}

#define EXPECT(call, st, rs)                                                 \
	do {                                                                 \
		struct md_nsec_verdict v_;                                   \
		enum md_nsec_status s_ = call;                               \
		if (s_ != (st) || v_.reason != (rs))                         \
			fail_msg("%s: got %s (%s), want %s (%s)", #call,     \
			    md_nsec_status_str(s_),                          \
			    md_nsec_reason_str(v_.reason),                   \
			    md_nsec_status_str(st), md_nsec_reason_str(rs)); \
		last = v_;                                                   \
	} while (0)

static struct md_nsec_verdict last;

#define PROVE(fn, q, r) fn((q), (r).rr, (r).n, NULL, &v_)
#define PROVE_LIM(fn, q, r, l) fn((q), (r).rr, (r).n, (l), &v_)

/* ---- hashing, base32hex, bitmaps ------------------------------------------ */

static void
nsec3_hash_rfc5155_appendix_a(void **state)
{
	static const char *const kat[][2] = {
	    {"example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"},
	    {"a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"},
	    {"ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"},
	    {"ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"},
	    {"ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r"},
	    {"w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"},
	    {"*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"},
	    {"x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"},
	    {"y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"},
	    {"x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s"},
	    {"xx.example.", "t644ebqk9bibcna874givr6joj62mlhv"},
	    /* case does not matter */
	    {"XX.Example.", "t644ebqk9bibcna874givr6joj62mlhv"},
	};
	uint8_t name[MD_NAME_MAX], h[MD_NSEC3_HASH_LEN], back[32];
	char b32[MD_NSEC3_B32_LEN + 1];

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		assert_true(md_nsec3_hash(wname(kat[i][0], name),
		    (const uint8_t *)"\xaa\xbb\xcc\xdd", 4, 12, h));
		assert_int_equal(md_base32hex_encode(h, sizeof(h), b32), 32);
		b32[32] = '\0';
		assert_string_equal(b32, kat[i][1]);
		assert_int_equal(
		    md_base32hex_decode(kat[i][1], 32, back, sizeof(back)), 20);
		assert_memory_equal(back, h, 20);
	}
	(void)state;
}

static void
base32hex_edges(void **state)
{
	uint8_t out[32];
	char s[8];

	/* RFC 4648 §10 vectors without padding */
	assert_int_equal(md_base32hex_encode((const uint8_t *)"f", 1, s), 2);
	assert_memory_equal(s, "co", 2);
	assert_int_equal(
	    md_base32hex_encode((const uint8_t *)"fooba", 5, s), 8);
	assert_memory_equal(s, "cpnmuoj1", 8);
	assert_int_equal(md_base32hex_decode("CPNMUOJ1", 8, out, 5), 5);
	assert_memory_equal(out, "fooba", 5);
	assert_int_equal(md_base32hex_decode("cpnmuow1", 8, out, 5), -1);
	assert_int_equal(md_base32hex_decode("cpnmuoj1", 8, out, 4), -1);
	assert_int_equal(md_base32hex_decode("cp", 2, out, 5), -1); /* bits */
	(void)state;
}

static void
bitmap_windows(void **state)
{
	uint8_t bm[64];
	size_t len = bitmap("A MX RRSIG NSEC TYPE1234", bm);
	/* RFC 4034 §4.3: "A MX RRSIG NSEC TYPE1234" */
	static const uint8_t rfc[] = {0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00,
	    0x03, 0x04, 0x1b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20};

	assert_int_equal(len, sizeof(rfc));
	assert_memory_equal(bm, rfc, sizeof(rfc));
	assert_true(md_nsec_bitmap_has(rfc, sizeof(rfc), MD_TYPE_A));
	assert_true(md_nsec_bitmap_has(rfc, sizeof(rfc), MD_TYPE_MX));
	assert_true(md_nsec_bitmap_has(rfc, sizeof(rfc), MD_TYPE_NSEC));
	assert_true(md_nsec_bitmap_has(rfc, sizeof(rfc), 1234));
	assert_false(md_nsec_bitmap_has(rfc, sizeof(rfc), MD_TYPE_NS));
	assert_false(md_nsec_bitmap_has(rfc, sizeof(rfc), MD_TYPE_DS));
	assert_false(md_nsec_bitmap_has(rfc, sizeof(rfc), 1235));
	assert_false(md_nsec_bitmap_has(rfc, sizeof(rfc), 300)); /* window 1 */
	assert_true(md_nsec_bitmap_valid(rfc, 0));

	/* malformed: truncated block, zero length, windows out of order */
	assert_false(md_nsec_bitmap_has(rfc, sizeof(rfc) - 1, MD_TYPE_A));
	assert_false(md_nsec_bitmap_has((const uint8_t *)"\0\0", 2, 1));
	assert_false(md_nsec_bitmap_has(
	    (const uint8_t *)"\4\1\x80\0\1\x40", 6, MD_TYPE_A));
	assert_false(md_nsec_bitmap_has((const uint8_t *)"\0", 1, 0));
	memset(bm, 0, sizeof(bm));
	bm[1] = 33; /* over 32 octets */
	bm[2] = 0x40;
	assert_false(md_nsec_bitmap_has(bm, 35, MD_TYPE_A));
	(void)state;
}

static void
nsec_covers_and_wraps(void **state)
{
	uint8_t o[MD_NAME_MAX], n[MD_NAME_MAX], z[MD_NAME_MAX], x[MD_NAME_MAX];

	wname("example.", z);
	wname("b.example.", o);
	wname("ns1.example.", n);
	assert_true(md_nsec_covers(o, n, z, wname("ml.example.", x)));
	assert_true(md_nsec_covers(o, n, z, wname("mc.b.example.", x)));
	assert_false(md_nsec_covers(o, n, z, wname("b.example.", x)));
	assert_false(md_nsec_covers(o, n, z, wname("ns1.example.", x)));
	assert_false(md_nsec_covers(o, n, z, wname("ns2.example.", x)));
	assert_false(md_nsec_covers(o, n, z, wname("a.example.", x)));
	/* the last NSEC: next is the apex */
	wname("xx.example.", o);
	assert_true(md_nsec_covers(o, z, z, wname("z.example.", x)));
	assert_true(md_nsec_covers(o, z, z, wname("a.xx.example.", x)));
	assert_false(md_nsec_covers(o, z, z, wname("x.example.", x)));
	assert_false(md_nsec_covers(o, z, z, wname("z.other.", x)));
	(void)state;
}

/* ---- NSEC: RFC 4035 Appendix B ------------------------------------------- */

static void
nsec_b2_name_error(void **state)
{
	struct recs r = {0};

	add_nsec(&r, "b.example.", "ns1.example.", "NS RRSIG NSEC");
	add_nsec(&r, "example.", "a.example.", "NS SOA MX RRSIG NSEC DNSKEY");
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain, qry("ml.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	assert_int_equal(last.ede, 0);

	/* without the wildcard proof */
	r.n = 1;
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain, qry("ml.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_WILDCARD);
	assert_int_equal(last.ede, 12);

	/* a "covering" NSEC that does not cover ml.example */
	r.n = 0;
	add_nsec(&r, "ns1.example.", "ns2.example.", "A RRSIG NSEC");
	add_nsec(&r, "example.", "a.example.", "NS SOA MX RRSIG NSEC DNSKEY");
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain, qry("ml.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_COVER);

	/* the name exists */
	EXPECT(PROVE(md_nsec_prove_nxdomain, qry("ns1.example.", MD_TYPE_MX, 0),
		   r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);

	/* the wildcard exists: *.w.example matches */
	r.n = 0;
	add_nsec(&r, "x.y.w.example.", "xx.example.", "MX RRSIG NSEC");
	add_nsec(&r, "*.w.example.", "x.w.example.", "MX RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.z.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_WILDCARD);

	/* out of the zone */
	EXPECT(PROVE(md_nsec_prove_nxdomain, qry("x.other.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);
	(void)state;
}

static void
nsec_b3_no_data(void **state)
{
	struct recs r = {0};

	add_nsec(&r, "ns1.example.", "ns2.example.", "A RRSIG NSEC");
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* the bitmap lists the type */
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	assert_int_equal(last.ede, 6);
	/* or CNAME */
	r.n = 0;
	add_nsec(&r, "ns1.example.", "ns2.example.", "CNAME RRSIG NSEC");
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	/* an empty non-terminal: w.example, its next name below it */
	r.n = 0;
	add_nsec(&r, "ns2.example.", "*.w.example.", "A RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_nodata, qry("w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain, qry("w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);
	(void)state;
}

static void
nsec_b4_b5_referrals(void **state)
{
	struct recs r = {0};

	/* B.4: a.example is signed (DS in the bitmap): not insecure */
	add_nsec(&r, "a.example.", "ai.example.", "NS DS RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("a.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("a.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);

	/* B.5: b.example is an unsigned delegation */
	r.n = 0;
	add_nsec(&r, "b.example.", "ns1.example.", "NS RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("b.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("b.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* ... but the parent's NSEC says nothing of the child's other types
	 * or names (RFC 6840 §4.1) */
	EXPECT(PROVE(md_nsec_prove_nodata, qry("b.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
	add_nsec(&r, "example.", "a.example.", "NS SOA MX RRSIG NSEC DNSKEY");
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("mc.b.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
	/* not a delegation */
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_CHILD_SIDE);
	r.n = 0;
	add_nsec(&r, "ns1.example.", "ns2.example.", "A RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("ns1.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NOT_DELEGATION);
	/* a DNAME owner cannot deny names below it either */
	r.n = 0;
	add_nsec(&r, "d.example.", "ns1.example.", "DNAME RRSIG NSEC");
	add_nsec(&r, "example.", "a.example.", "NS SOA MX RRSIG NSEC DNSKEY");
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain, qry("x.d.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
	(void)state;
}

static void
nsec_b6_b7_wildcards(void **state)
{
	struct recs r = {0};

	/* B.6: a.z.w.example MX from *.w.example (RRSIG labels 2) */
	add_nsec(&r, "x.y.w.example.", "xx.example.", "MX RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.z.w.example.", MD_TYPE_MX, 2), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.z.w.example.", MD_TYPE_MX, 4), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_BAD_LABELS);
	/* the NSEC does not cover the name: a closer match may exist */
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.x.w.example.", MD_TYPE_MX, 2), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_COVER);

	/* z.w.example exists (an empty non-terminal above b.z.w.example):
	 * *.w.example cannot have made a.z.w.example */
	r.n = 0;
	add_nsec(&r, "x.y.w.example.", "b.z.w.example.", "MX RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.z.w.example.", MD_TYPE_MX, 2), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_BAD_LABELS);
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.z.w.example.", MD_TYPE_MX, 3), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* a next name out of the zone is ignored */
	r.n = 0;
	add_nsec(&r, "x.y.w.example.", "xx.other.", "MX RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.z.w.example.", MD_TYPE_MX, 2), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);

	/* B.7: a.z.w.example AAAA, the wildcard has no AAAA */
	r.n = 0;
	add_nsec(&r, "x.y.w.example.", "xx.example.", "MX RRSIG NSEC");
	add_nsec(&r, "*.w.example.", "x.w.example.", "MX RRSIG NSEC");
	EXPECT(PROVE(md_nsec_prove_nodata,
		   qry("a.z.w.example.", MD_TYPE_AAAA, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("a.z.w.example.", MD_TYPE_MX, 0),
		   r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	/* without the wildcard's NSEC */
	r.n = 1;
	EXPECT(PROVE(md_nsec_prove_nodata,
		   qry("a.z.w.example.", MD_TYPE_AAAA, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	(void)state;
}

static void
nsec_b8_ds_child_side(void **state)
{
	struct recs r = {0};

	/* B.8: the child's apex NSEC cannot deny the DS, which lives in the
	 * parent zone (as Unbound: bogus). */
	add_nsec(&r, "example.", "a.example.", "NS SOA MX RRSIG NSEC DNSKEY");
	EXPECT(PROVE(md_nsec_prove_nodata, qry("example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_CHILD_SIDE);
	/* for other types the apex NSEC is fine */
	EXPECT(PROVE(md_nsec_prove_nodata, qry("example.", MD_TYPE_AAAA, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	(void)state;
}

static void
nsec_malformed(void **state)
{
	struct recs r = {0};

	add_nsec(&r, "ns1.example.", "ns2.example.", "A RRSIG NSEC");
	r.rr[0].rdlen -= 1; /* cut the bitmap */
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	r.rr[0].rdlen = 5; /* cut the next name */
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0),
		   (struct recs){0}),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);
	(void)state;
}

/* ---- NSEC3: RFC 5155 Appendix B ------------------------------------------ */

static void
nsec3_b1_name_error(void **state)
{
	struct recs r = {0};

	/* closest encloser x.w.example, next closer c.x.w.example */
	add_n3(&r, "0p9m", 1, 12); /* covers c.x.w.example */
	add_n3(&r, "b4um", 1, 12); /* matches x.w.example */
	add_n3(&r, "35mt", 1, 12); /* covers *.x.w.example */
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	assert_true(last.opt_out);

	/* no opt-out flags: still proven, no opt-out */
	r.n = 0;
	add_n3(&r, "0p9m", 0, 12);
	add_n3(&r, "b4um", 0, 12);
	add_n3(&r, "35mt", 0, 12);
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	assert_false(last.opt_out);

	/* the wildcard is not denied */
	r.n = 2;
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_WILDCARD);

	/* nothing covers the next closer name */
	r.n = 0;
	add_n3(&r, "b4um", 1, 12);
	add_n3(&r, "35mt", 1, 12);
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_COVER);

	/* no closest encloser at all: nothing matches an ancestor */
	r.n = 0;
	add_n3(&r, "2t7b", 1, 12);
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_ENCLOSER);

	/* the name exists */
	EXPECT(PROVE(md_nsec_prove_nxdomain, qry("ns1.example.", MD_TYPE_MX, 0),
		   r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NAME_EXISTS);
	(void)state;
}

static void
nsec3_b2_no_data(void **state)
{
	struct recs r = {0};

	add_n3(&r, "2t7b", 1, 12); /* ns1.example: A RRSIG */
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);

	/* B.2.1: y.w.example is an empty non-terminal (empty bitmap) */
	r.n = 0;
	add_n3(&r, "ji6n", 1, 12);
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("y.w.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* no matching record and no wildcard proof */
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	(void)state;
}

static void
nsec3_b3_opt_out_referral(void **state)
{
	struct recs r = {0};

	/* c.example is unsigned, in the opt-out span 35mt..b4um */
	add_n3(&r, "0p9m", 1, 12); /* matches example */
	add_n3(&r, "35mt", 1, 12); /* covers c.example, opt-out */
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("c.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	assert_true(last.opt_out);
	/* §8.6: the DS NODATA by opt-out */
	EXPECT(PROVE(md_nsec_prove_nodata, qry("c.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	assert_true(last.opt_out);

	/* without opt-out the span proves c.example absent, not unsigned */
	r.n = 0;
	add_n3(&r, "0p9m", 0, 12);
	add_n3(&r, "35mt", 0, 12);
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("c.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);

	/* a.example has DS: a signed delegation */
	r.n = 0;
	add_n3(&r, "35mt", 1, 12);
	EXPECT(PROVE(md_nsec_prove_insecure_delegation,
		   qry("a.example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	/* the parent-side NSEC3 of a.example says nothing of names below */
	add_n3(&r, "0p9m", 1, 12);
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain, qry("x.a.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("a.example.", MD_TYPE_A, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_ANCESTOR);
	(void)state;
}

static void
nsec3_b4_b5_wildcards(void **state)
{
	struct recs r = {0};

	/* B.4: a.z.w.example from *.w.example, next closer z.w.example */
	add_n3(&r, "q04j", 1, 12);
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.z.w.example.", MD_TYPE_MX, 2), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* x.w.example exists: its next closer name is not covered */
	EXPECT(PROVE(md_nsec_prove_wildcard,
		   qry("a.x.w.example.", MD_TYPE_MX, 2), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_COVER);

	/* B.5: a.z.w.example AAAA: the wildcard has MX only */
	r.n = 0;
	add_n3(&r, "k8ud", 1, 12); /* matches w.example */
	add_n3(&r, "q04j", 1, 12); /* covers z.w.example */
	add_n3(&r, "r53b", 1, 12); /* matches *.w.example */
	EXPECT(PROVE(md_nsec_prove_nodata,
		   qry("a.z.w.example.", MD_TYPE_AAAA, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("a.z.w.example.", MD_TYPE_MX, 0),
		   r),
	    MD_NSEC_BOGUS, MD_NSEC_R_TYPE_PRESENT);
	r.n = 2;
	EXPECT(PROVE(md_nsec_prove_nodata,
		   qry("a.z.w.example.", MD_TYPE_AAAA, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_MATCH);
	(void)state;
}

static void
nsec3_b6_ds_child_side(void **state)
{
	struct recs r = {0};

	add_n3(&r, "0p9m", 1, 12);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("example.", MD_TYPE_DS, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_CHILD_SIDE);
	EXPECT(PROVE(md_nsec_prove_nodata, qry("example.", MD_TYPE_A, 0), r),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	(void)state;
}

static void
nsec3_limits(void **state)
{
	struct recs r = {0};
	struct md_nsec_limits lim;

	/* RFC 9276: over the default of 150 iterations: insecure, EDE 27,
	 * whatever the records say */
	add_n3(&r, "0p9m", 1, 151);
	add_n3(&r, "b4um", 1, 151);
	add_n3(&r, "35mt", 1, 151);
	EXPECT(PROVE(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_INSECURE, MD_NSEC_R_ITERATIONS);
	assert_int_equal(last.ede, 27);
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_INSECURE, MD_NSEC_R_ITERATIONS);

	/* a lower limit makes the zone's 12 too many */
	md_nsec_limits_default(&lim);
	assert_int_equal(lim.max_iterations, 150);
	lim.max_iterations = 10;
	r.n = 0;
	add_n3(&r, "0p9m", 1, 12);
	add_n3(&r, "b4um", 1, 12);
	add_n3(&r, "35mt", 1, 12);
	EXPECT(PROVE_LIM(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r, &lim),
	    MD_NSEC_INSECURE, MD_NSEC_R_ITERATIONS);
	lim.max_iterations = 12;
	EXPECT(PROVE_LIM(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r, &lim),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);

	/* the hash budget: B.1 needs a.c.x.w, c.x.w, x.w and *.x.w */
	lim.max_hashes = 3;
	EXPECT(PROVE_LIM(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r, &lim),
	    MD_NSEC_BOGUS, MD_NSEC_R_HASH_LIMIT);
	lim.max_hashes = 4;
	EXPECT(PROVE_LIM(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r, &lim),
	    MD_NSEC_PROVEN, MD_NSEC_R_OK);
	/* a deep name cannot make the default budget run long */
	EXPECT(
	    PROVE(md_nsec_prove_nxdomain,
		qry("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b."
		    "c.d.e.f.g.h.example.",
		    MD_TYPE_MX, 0),
		r),
	    MD_NSEC_BOGUS, MD_NSEC_R_HASH_LIMIT);

	/* the records looked at */
	lim.max_hashes = 32;
	lim.max_records = 2;
	EXPECT(PROVE_LIM(md_nsec_prove_nxdomain,
		   qry("a.c.x.w.example.", MD_TYPE_MX, 0), r, &lim),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_WILDCARD);

	/* unknown hash algorithm or flags: ignored */
	r.n = 0;
	add_n3(&r, "2t7b", 1, 12);
	r.rd[0][0] = 2;
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);
	r.rd[0][0] = 1;
	r.rd[0][1] = 0x81;
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_NO_RECORDS);
	r.rd[0][1] = 1;
	r.rr[0].rdlen = 12; /* truncated */
	EXPECT(
	    PROVE(md_nsec_prove_nodata, qry("ns1.example.", MD_TYPE_MX, 0), r),
	    MD_NSEC_BOGUS, MD_NSEC_R_MALFORMED);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nsec3_hash_rfc5155_appendix_a),
	    cmocka_unit_test(base32hex_edges),
	    cmocka_unit_test(bitmap_windows),
	    cmocka_unit_test(nsec_covers_and_wraps),
	    cmocka_unit_test(nsec_b2_name_error),
	    cmocka_unit_test(nsec_b3_no_data),
	    cmocka_unit_test(nsec_b4_b5_referrals),
	    cmocka_unit_test(nsec_b6_b7_wildcards),
	    cmocka_unit_test(nsec_b8_ds_child_side),
	    cmocka_unit_test(nsec_malformed),
	    cmocka_unit_test(nsec3_b1_name_error),
	    cmocka_unit_test(nsec3_b2_no_data),
	    cmocka_unit_test(nsec3_b3_opt_out_referral),
	    cmocka_unit_test(nsec3_b4_b5_wildcards),
	    cmocka_unit_test(nsec3_b6_ds_child_side),
	    cmocka_unit_test(nsec3_limits),
	};

	return cmocka_run_group_tests_name("nsec", tests, NULL, NULL);
}
