/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_query.c - unit tests of md_query_answer() (src/server/query.c):
 * whole query messages in, whole responses out, read back with ldns.  The
 * zones are the sample zones/cluster.local.zone (with its auto-ptr reverse
 * zone) and tests/unit/data/big.test.zone.  Covers header rules (ID, QR,
 * AA, RD, RA, question echo), REFUSED / NOTIMP / FORMERR / no response,
 * EDNS (BADVERS, OPT only when asked, advertised size), truncation at
 * whole records (a partial answer RRset with TC; additional RRsets left
 * out whole, without TC), large RRsets (1,000 and 10,000 A records at one
 * name, from a zone generated here) over UDP and TCP, and a deterministic
 * hostile-packet loop; Kubernetes autopath (md_query_process() with a
 * client: the search path walked for the first expansion only, the
 * namespace from the client's address, NODATA as found, an unknown
 * client not walked; md_query_respond() and md_query_autopath_resume()
 * after a resolution).  Not covered:
 * sockets (server.c).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <ldns/ldns.h>

#include "minidns/server.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "minidns/zone.h"
#include "unit.h"

#define EDNS_SIZE 1232 /* what the server advertises, as configured */

static struct md_zone_set *zs;

static int
load_zones(void **state)
{
	static const struct md_zone_source srcs[] = {
	    {.file = MD_ZONES_DIR "/cluster.local.zone"},
	    {.file = MD_ZONES_DIR "/10.in-addr.arpa.zone", .auto_ptr = true},
	    {.file = MD_TEST_DATA "/big.test.zone"},
	};
	char err[1024] = "";

	zs = md_zone_set_load(srcs, 3, err, sizeof(err));
	if (zs == NULL) {
		print_error("loading zones: %s\n", err);
		return -1;
	}
	md_log_set_level(MD_LOG_ERR);
	(void)state;
	return 0;
}

static int
free_zones(void **state)
{
	md_zone_set_unref(zs);
	(void)state;
	return 0;
}

struct resp {
	uint8_t b[MD_WIRE_MAX];
	size_t len;
	struct md_query_info info;
	ldns_pkt *pkt;
};

/* Answer p; parse the response with ldns when there is one. */
static void
ask(const struct pkt *p, bool tcp, struct resp *r)
{
	r->pkt = NULL;
	r->len = md_query_answer(
	    zs, EDNS_SIZE, tcp, p->b, p->len, r->b, sizeof(r->b), &r->info);
	assert_true(r->len <= sizeof(r->b));
	if (r->len > 0)
		assert_int_equal(
		    ldns_wire2pkt(&r->pkt, r->b, r->len), LDNS_STATUS_OK);
}

static void
done(struct resp *r)
{
	ldns_pkt_free(r->pkt);
	r->pkt = NULL;
}

/* The response's question is the query's, byte for byte. */
static void
assert_question_echoed(const struct pkt *q, const struct resp *r)
{
	size_t qlen = q->len - 12;

	/* The query's question ends before any OPT record. */
	if (md_read_u16(q->b + 10) != 0)
		qlen -= 11;
	assert_int_equal(ldns_pkt_qdcount(r->pkt), 1);
	assert_true(r->len >= 12 + qlen);
	assert_memory_equal(r->b + 12, q->b + 12, qlen);
}

/* The one RR of a section, as text, against 'want'. */
static void
assert_rr(ldns_rr_list *list, size_t i, const char *want)
{
	ldns_rr *w = NULL;
	ldns_rr *got;

	assert_true(i < ldns_rr_list_rr_count(list));
	got = ldns_rr_list_rr(list, i);
	assert_int_equal(
	    ldns_rr_new_frm_str(&w, want, 0, NULL, NULL), LDNS_STATUS_OK);
	if (ldns_rr_compare(w, got) != 0 ||
	    ldns_rr_ttl(w) != ldns_rr_ttl(got)) {
		char *s = ldns_rr2str(got);

		print_error("want %s\n got %s", want, s ? s : "?");
		free(s);
		ldns_rr_free(w);
		fail();
	}
	ldns_rr_free(w);
}

/* ---- header rules ------------------------------------------------------ */

static void
answer_header_and_question(void **state)
{
	struct pkt q = {0};
	struct resp r;

	pkt_query(&q, 0x4242, MD_FLAG_RD,
	    "kubernetes.default.svc.cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_non_null(r.pkt);
	assert_int_equal(ldns_pkt_id(r.pkt), 0x4242);
	assert_true(ldns_pkt_qr(r.pkt));
	assert_true(ldns_pkt_aa(r.pkt));
	assert_true(ldns_pkt_rd(r.pkt));
	assert_false(ldns_pkt_ra(r.pkt));
	assert_false(ldns_pkt_tc(r.pkt));
	assert_int_equal(ldns_pkt_get_opcode(r.pkt), LDNS_PACKET_QUERY);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOERROR);
	assert_question_echoed(&q, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1");
	assert_int_equal(ldns_pkt_nscount(r.pkt), 0);
	/* No OPT in the response to a query without one. */
	assert_false(ldns_pkt_edns(r.pkt));
	assert_int_equal(ldns_pkt_arcount(r.pkt), 0);
	assert_int_equal(r.info.verdict, MD_QUERY_OK);
	assert_int_equal(r.info.status, MD_ZONE_ANSWER);
	done(&r);

	/* RD clear stays clear; the question keeps the client's case. */
	pkt_query(&q, 7, 0, "KUBERNETES.Default.SVC.cluster.LOCAL.", MD_TYPE_A,
	    MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_false(ldns_pkt_rd(r.pkt));
	assert_true(ldns_pkt_aa(r.pkt));
	assert_question_echoed(&q, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	done(&r);
	(void)state;
}

static void
answer_nxdomain_and_nodata(void **state)
{
	struct pkt q = {0};
	struct resp r;

	pkt_query(&q, 1, 0, "nope.cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	assert_int_equal(ldns_pkt_nscount(r.pkt), 1);
	/* RFC 2308 §5: min(SOA TTL 30, minimum 5). */
	assert_rr(ldns_pkt_authority(r.pkt), 0,
	    "cluster.local. 5 IN SOA ns.dns.cluster.local. "
	    "hostmaster.cluster.local. 2026112701 7200 1800 86400 5");
	done(&r);

	pkt_query(&q, 1, 0, "web.shop.svc.cluster.local.", MD_TYPE_TXT,
	    MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	assert_int_equal(ldns_pkt_nscount(r.pkt), 1);
	assert_int_equal(r.info.status, MD_ZONE_NODATA);
	done(&r);
	(void)state;
}

static void
answer_cname_wildcard_srv_ptr(void **state)
{
	struct pkt q = {0};
	struct resp r;

	pkt_query(&q, 2, 0, "search.shop.svc.cluster.local.", MD_TYPE_A,
	    MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 2);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "search.shop.svc.cluster.local. "
	    "5 IN CNAME web.shop.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(r.pkt), 1,
	    "web.shop.svc.cluster.local. 5 IN A 10.96.12.7");
	done(&r);

	/* A wildcard answer is owned by the query name, as sent. */
	pkt_query(
	    &q, 3, 0, "Printer.LAB.cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "printer.lab.cluster.local. 30 IN A 10.96.99.1");
	assert_memory_equal(r.b + r.len - 16, "\xc0\x0c", 2);
	done(&r);

	/* SRV with its target's address as additional data. */
	pkt_query(&q, 4, 0, "_dns._udp.kube-dns.kube-system.svc.cluster.local.",
	    MD_TYPE_SRV, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_int_equal(ldns_pkt_arcount(r.pkt), 1);
	assert_rr(ldns_pkt_additional(r.pkt), 0,
	    "kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.10");
	done(&r);

	/* auto-ptr: the headless endpoint's name, not the service's. */
	pkt_query(
	    &q, 5, 0, "5.1.244.10.in-addr.arpa.", MD_TYPE_PTR, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "5.1.244.10.in-addr.arpa. 5 IN "
	    "PTR db-0.db.shop.svc.cluster.local.");
	done(&r);
	pkt_query(
	    &q, 6, 0, "1.0.96.10.in-addr.arpa.", MD_TYPE_PTR, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "1.0.96.10.in-addr.arpa. 5 IN "
	    "PTR kubernetes.default.svc.cluster.local.");
	done(&r);
	(void)state;
}

static void
refused(void **state)
{
	struct pkt q = {0};
	struct resp r;

	/* Outside the local zones: no recursion, so REFUSED. */
	pkt_query(
	    &q, 10, MD_FLAG_RD, "www.example.org.", MD_TYPE_A, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_id(r.pkt), 10);
	assert_true(ldns_pkt_qr(r.pkt));
	assert_false(ldns_pkt_aa(r.pkt));
	assert_false(ldns_pkt_ra(r.pkt));
	assert_true(ldns_pkt_rd(r.pkt));
	assert_question_echoed(&q, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	assert_int_equal(ldns_pkt_nscount(r.pkt), 0);
	done(&r);

	/* Class CH (version.bind and friends). */
	pkt_query(&q, 11, 0, "version.bind.", MD_TYPE_TXT, MD_CLASS_CH, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_REFUSED);
	assert_question_echoed(&q, &r);
	done(&r);
	/* Class CH even for a local name. */
	pkt_query(&q, 12, 0, "cluster.local.", MD_TYPE_SOA, MD_CLASS_CH, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_REFUSED);
	done(&r);

	/* Zone transfers, over UDP or TCP. */
	pkt_query(&q, 13, 0, "cluster.local.", MD_TYPE_AXFR, MD_CLASS_IN, 0);
	ask(&q, true, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	done(&r);
	pkt_query(&q, 14, 0, "cluster.local.", MD_TYPE_IXFR, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_REFUSED);
	done(&r);
	(void)state;
}

static void
notimp_formerr_and_drop(void **state)
{
	struct pkt q = {0};
	struct resp r;

	pkt_query(&q, 20,
	    (uint16_t)(MD_OPCODE_STATUS << 11) | MD_FLAG_RD | MD_FLAG_CD,
	    "cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOTIMPL);
	assert_int_equal(ldns_pkt_get_opcode(r.pkt), LDNS_PACKET_STATUS);
	assert_int_equal(ldns_pkt_id(r.pkt), 20);
	assert_true(ldns_pkt_qr(r.pkt));
	/* an unknown opcode's RD and CD are not echoed (as NSD) */
	assert_false(ldns_pkt_rd(r.pkt));
	assert_false(ldns_pkt_cd(r.pkt));
	assert_question_echoed(&q, &r);
	done(&r);

	/* TKEY, TSIG and the unassigned meta types are no question:
	 * FORMERR (as Unbound); ANY, AXFR and MAILA are questions. */
	static const uint16_t meta[] = {MD_TYPE_TKEY, MD_TYPE_TSIG, 128, 200};

	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		pkt_query(&q, 25, MD_FLAG_RD, "cluster.local.", meta[i],
		    MD_CLASS_IN, 1232);
		ask(&q, false, &r);
		assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_FORMERR);
		done(&r);
	}
	pkt_query(
	    &q, 26, MD_FLAG_RD, "cluster.local.", MD_TYPE_ANY, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_not_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_FORMERR);
	done(&r);

	/* A query signed with TSIG (RFC 8945): we know no keys, NOTAUTH
	 * rather than an unsigned answer. */
	pkt_query(
	    &q, 27, MD_FLAG_RD, "cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	q.b[11] = 1; /* ARCOUNT 1 */
	pkt_name(&q, "key.example.");
	pkt_u16(&q, MD_TYPE_TSIG);
	pkt_u16(&q, MD_CLASS_ANY);
	pkt_u32(&q, 0);
	pkt_u16(&q, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOTAUTH);
	assert_int_equal(r.info.verdict, MD_QUERY_NOTAUTH);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	done(&r);

	/* No question. */
	pkt_header(&q, 21, MD_FLAG_RD, 0, 0, 0, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_id(r.pkt), 21);
	assert_true(ldns_pkt_qr(r.pkt));
	assert_int_equal(ldns_pkt_qdcount(r.pkt), 0);
	done(&r);

	/* A malformed OPT: FORMERR, and no OPT in the answer. */
	pkt_query(&q, 22, 0, "cluster.local.", MD_TYPE_A, MD_CLASS_IN, 1232);
	q.b[q.len - 2] = 0;
	q.b[q.len - 1] = 3; /* rdlen 3, nothing follows */
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_FORMERR);
	assert_false(ldns_pkt_edns(r.pkt));
	done(&r);

	/* A response is never answered. */
	pkt_query(
	    &q, 23, MD_FLAG_QR, "cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.info.verdict, MD_QUERY_DROP);
	/* Nor is anything shorter than a header. */
	pkt_query(&q, 24, 0, "cluster.local.", MD_TYPE_A, MD_CLASS_IN, 0);
	q.len = 11;
	ask(&q, false, &r);
	assert_int_equal(r.len, 0);
	(void)state;
}

/* ---- EDNS -------------------------------------------------------------- */

static void
edns_opt_and_badvers(void **state)
{
	struct pkt q = {0};
	struct resp r;

	pkt_header(&q, 30, 0, 1, 0, 0, 1);
	pkt_name(&q, "kubernetes.default.svc.cluster.local.");
	pkt_u16(&q, MD_TYPE_A);
	pkt_u16(&q, MD_CLASS_IN);
	pkt_opt(&q, 4096, 0, true);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_edns(r.pkt));
	/* We advertise our own size, not the client's. */
	assert_int_equal(ldns_pkt_edns_udp_size(r.pkt), EDNS_SIZE);
	assert_int_equal(ldns_pkt_edns_version(r.pkt), 0);
	assert_true(ldns_pkt_edns_do(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	done(&r);

	/* EDNS version 1: BADVERS = 16, split as OPT ext-rcode 1 and
	 * header rcode 0 (RFC 6891 §6.1.3). */
	pkt_header(&q, 31, 0, 1, 0, 0, 1);
	pkt_name(&q, "kubernetes.default.svc.cluster.local.");
	pkt_u16(&q, MD_TYPE_A);
	pkt_u16(&q, MD_CLASS_IN);
	pkt_opt(&q, 4096, 1, false);
	ask(&q, false, &r);
	assert_int_equal(r.info.rcode, MD_RCODE_BADVERS);
	assert_int_equal(ldns_pkt_id(r.pkt), 31);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), 0);
	assert_true(ldns_pkt_edns(r.pkt));
	assert_int_equal(ldns_pkt_edns_extended_rcode(r.pkt), 1);
	assert_int_equal(ldns_pkt_edns_version(r.pkt), 0);
	assert_int_equal(ldns_pkt_edns_udp_size(r.pkt), EDNS_SIZE);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	/* The OPT TTL's high byte, on the wire. */
	assert_int_equal(r.b[r.len - 11 + 5], 1);
	assert_int_equal(r.b[3] & 0xf, 0);
	done(&r);
	(void)state;
}

/* ---- truncation -------------------------------------------------------- */

static void
ask_big(const char *name, int edns, bool tcp, struct resp *r)
{
	struct pkt q = {0};

	pkt_query(&q, 40, 0, name, MD_TYPE_TXT, MD_CLASS_IN, edns);
	ask(&q, tcp, r);
	assert_non_null(r->pkt);
	assert_int_equal(ldns_pkt_get_rcode(r->pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_edns(r->pkt), edns > 0);
}

/* A truncated answer: TC, within limit, and some but not all of the
 * answer RRs (RFC 2181 §9: a partial RRset with TC, never an empty one). */
static void
assert_partial(const struct resp *r, size_t limit, size_t total)
{
	assert_true(r->len <= limit);
	assert_true(ldns_pkt_tc(r->pkt));
	assert_true(r->info.truncated);
	assert_true(ldns_pkt_ancount(r->pkt) > 0);
	assert_true(ldns_pkt_ancount(r->pkt) < total);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(r->pkt)),
	    ldns_pkt_ancount(r->pkt));
}

static void
truncation(void **state)
{
	struct resp r;

	/* Without EDNS: 512 bytes, TC, and the RRs that fit. */
	ask_big("many.big.test.", 0, false, &r);
	assert_partial(&r, 512, 40);
	/* Each RR is about 80 bytes: the rest would not have fit. */
	assert_true(r.len + 90 > 512);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "many.big.test. 300 IN TXT \"record number 01 of the big "
	    "RRset, padded to about sixty bytes\"");
	done(&r);
	ask_big("medium.big.test.", 0, false, &r);
	assert_partial(&r, 512, 10);
	done(&r);

	/* The CNAME before it fits, then the TXT RRs that fit. */
	ask_big("bigalias.big.test.", 0, false, &r);
	assert_partial(&r, 512, 41);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(r.pkt), 0)),
	    LDNS_RR_TYPE_CNAME);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(r.pkt), 1)),
	    LDNS_RR_TYPE_TXT);
	done(&r);

	/* The client's EDNS size is used: the medium RRset (about 800
	 * bytes) fits in 1000, not in 600. */
	ask_big("medium.big.test.", 1000, false, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 10);
	assert_true(r.len > 600 && r.len <= 1000);
	done(&r);
	ask_big("medium.big.test.", 600, false, &r);
	assert_partial(&r, 600, 10);
	/* The OPT record is kept when the answer is cut. */
	assert_true(ldns_pkt_edns(r.pkt));
	done(&r);
	/* Our own size bounds it when the client offers more. */
	ask_big("many.big.test.", 4096, false, &r);
	assert_partial(&r, EDNS_SIZE, 40);
	assert_true(r.len > 512);
	done(&r);
	ask_big("bigalias.big.test.", 4096, false, &r);
	assert_partial(&r, EDNS_SIZE, 41);
	done(&r);
	/* An offer below 512 counts as 512 (RFC 6891 §6.2.5). */
	ask_big("medium.big.test.", 100, false, &r);
	assert_partial(&r, 512, 10);
	assert_true(r.len > 100);
	done(&r);

	/* Over TCP the same questions get everything. */
	ask_big("many.big.test.", 0, true, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_false(r.info.truncated);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 40);
	assert_true(r.len > EDNS_SIZE);
	done(&r);
	ask_big("bigalias.big.test.", 1232, true, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 41);
	done(&r);

	/* A small answer is not truncated. */
	ask_big("small.big.test.", 0, false, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	done(&r);
	(void)state;
}

/* ---- large RRsets (a headless Service with many endpoints) ------------- */

/*
 * A zone generated here: n1000 and n10000 with that many A records
 * (10.x.y.z, distinct), and an SRV record whose target is n1000, so its
 * additional data (1,000 A records) does not fit over UDP.
 */
static struct md_zone_set *
large_zones(void)
{
	static const char head[] = "$ORIGIN large.test.\n$TTL 30\n"
				   "@ IN SOA ns hostmaster 1 7200 1800 86400 "
				   "60\n@ IN NS ns\nns IN A 192.0.2.1\n"
				   "_http._tcp IN SRV 0 0 80 n1000\n";
	size_t cap = sizeof(head) + 11000 * 40;
	char *text = malloc(cap);
	size_t len;
	struct md_zone_set *set;
	char err[256];

	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "%s", head);
	for (unsigned i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "n1000 IN A 10.1.%u.%u\n", i / 250, i % 250 + 1);
	for (unsigned i = 0; i < 10000; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "n10000 IN A 10.2.%u.%u\n", i / 250, i % 250 + 1);
	assert_true(len < cap);

	struct md_zone_source src = {.file = "large.test.zone",
	    .text = text,
	    .format = MD_ZONE_FORMAT_RFC1035};

	set = md_zone_set_load(&src, 1, err, sizeof(err));
	if (set == NULL)
		print_error("loading large.test: %s\n", err);
	assert_non_null(set);
	free(text);
	return set;
}

static void
ask_large(const struct md_zone_set *set, const char *name, uint16_t type,
    int edns, bool tcp, struct resp *r)
{
	struct pkt q = {0};

	pkt_query(&q, 77, MD_FLAG_RD, name, type, MD_CLASS_IN, edns);
	r->pkt = NULL;
	r->len = md_query_answer(
	    set, EDNS_SIZE, tcp, q.b, q.len, r->b, sizeof(r->b), &r->info);
	assert_true(r->len > 0 && r->len <= sizeof(r->b));
	assert_int_equal(ldns_wire2pkt(&r->pkt, r->b, r->len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(r->pkt), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r->pkt));
	assert_int_equal(ldns_pkt_edns(r->pkt), edns > 0);
}

/* Every answer RR is an A record of name, all different. */
static void
assert_a_records(const struct resp *r, const char *name)
{
	ldns_rr_list *an = ldns_pkt_answer(r->pkt);
	ldns_rdf *owner = ldns_dname_new_frm_str(name);

	assert_non_null(owner);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
		assert_int_equal(
		    ldns_dname_compare(ldns_rr_owner(rr), owner), 0);
		if (i > 0)
			assert_int_not_equal(
			    ldns_rdf_compare(ldns_rr_rdf(rr, 0),
				ldns_rr_rdf(ldns_rr_list_rr(an, i - 1), 0)),
			    0);
	}
	ldns_rdf_deep_free(owner);
}

static void
large_rrsets(void **state)
{
	struct md_zone_set *set = large_zones();
	static struct resp r;
	/* An A RR answering the question: a pointer to the question's name
	 * (2), type, class, TTL, length (10) and the address (4). */
	const size_t rr = 16;

	/* UDP: the records that fit, with TC (glibc then asks over TCP). */
	static const int sizes[] = {0, 1232};

	for (size_t s = 0; s < 2; s++) {
		static const char *const names[] = {
		    "n1000.large.test.", "n10000.large.test."};
		size_t limit = sizes[s] > 0 ? (size_t)sizes[s] : 512;

		for (size_t n = 0; n < 2; n++) {
			ask_large(
			    set, names[n], MD_TYPE_A, sizes[s], false, &r);
			assert_partial(&r, limit, n == 0 ? 1000 : 10000);
			assert_true(r.len + rr > limit);
			assert_a_records(&r, names[n]);
			done(&r);
		}
	}

	/* TCP: 1,000 records (16 KB) fit whole, no TC. */
	ask_large(set, "n1000.large.test.", MD_TYPE_A, 0, true, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_false(r.info.truncated);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1000);
	assert_a_records(&r, "n1000.large.test.");
	done(&r);

	/* TCP: 10,000 records (160 KB) cannot fit in 65,535 bytes: as many
	 * as fit, with TC, never an empty answer. */
	ask_large(set, "n10000.large.test.", MD_TYPE_A, 1232, true, &r);
	assert_partial(&r, MD_WIRE_MAX, 10000);
	assert_true(r.len + rr > MD_WIRE_MAX);
	assert_true(ldns_pkt_ancount(r.pkt) > 4000);
	assert_a_records(&r, "n10000.large.test.");
	done(&r);

	/* Additional data that does not fit is left out whole, without TC
	 * (RFC 2181 §9): the SRV answer alone over UDP, with its target's
	 * 1,000 addresses over TCP. */
	ask_large(set, "_http._tcp.large.test.", MD_TYPE_SRV, 0, false, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_int_equal(ldns_pkt_arcount(r.pkt), 0);
	done(&r);
	ask_large(set, "_http._tcp.large.test.", MD_TYPE_SRV, 0, true, &r);
	assert_false(ldns_pkt_tc(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_int_equal(ldns_pkt_arcount(r.pkt), 1000);
	done(&r);

	md_zone_set_unref(set);
	(void)state;
}

/* ---- hostile packets --------------------------------------------------- */

/* The most a UDP response to in[0..len) may hold. */
static size_t
udp_limit(const uint8_t *in, size_t len)
{
	struct md_wire_query q;
	size_t limit = MD_UDP_MIN;

	if (md_wire_read_query(in, len, &q) == MD_QUERY_OK && q.edns.present) {
		limit =
		    q.edns.udp_size < EDNS_SIZE ? q.edns.udp_size : EDNS_SIZE;
		if (limit < MD_UDP_MIN)
			limit = MD_UDP_MIN;
	}
	return limit;
}

static void
hostile_packets(void **state)
{
	static const char *const names[] = {
	    "many.big.test.",
	    "bigalias.big.test.",
	    "kubernetes.default.svc.cluster.local.",
	    "cluster.local.",
	    "_pg._tcp.db.shop.svc.cluster.local.",
	    "x.lab.cluster.local.",
	    "5.1.244.10.in-addr.arpa.",
	    "nope.cluster.local.",
	};
	static const uint16_t types[] = {MD_TYPE_TXT, MD_TYPE_ANY, MD_TYPE_A,
	    MD_TYPE_SRV, MD_TYPE_NS, MD_TYPE_PTR, MD_TYPE_SOA};
	struct xorshift rng = {0x2545f491u};
	static struct resp r;
	struct pkt base = {0}, p;
	unsigned answered = 0;

	for (unsigned iter = 0; iter < 20000; iter++) {
		uint32_t mode = xs_next(&rng) % 4;
		bool tcp = (xs_next(&rng) & 7) == 0;

		pkt_query(&base, (uint16_t)xs_next(&rng),
		    (uint16_t)(xs_next(&rng) & MD_FLAG_RD),
		    names[xs_next(&rng) % 8], types[xs_next(&rng) % 7],
		    MD_CLASS_IN,
		    (xs_next(&rng) & 1) ? (int)(xs_next(&rng) % 5000) + 1 : 0);
		p = base;
		if (mode == 0) {
			/* Random bytes, random length. */
			p.len = xs_next(&rng) % 600;
			for (size_t i = 0; i < p.len; i++)
				p.b[i] = (uint8_t)xs_next(&rng);
		} else if (mode == 1) {
			/* A few bytes of a good query changed. */
			unsigned n = 1 + xs_next(&rng) % 6;

			for (unsigned i = 0; i < n; i++)
				p.b[xs_next(&rng) % p.len] =
				    (uint8_t)xs_next(&rng);
		} else if (mode == 2) {
			/* Cut short, or with garbage behind. */
			if (xs_next(&rng) & 1) {
				p.len = xs_next(&rng) % p.len;
			} else {
				size_t extra = xs_next(&rng) % 300;

				for (size_t i = 0; i < extra; i++)
					p.b[p.len++] = (uint8_t)xs_next(&rng);
				p.b[11] = (uint8_t)(xs_next(&rng) % 4);
			}
		} else {
			/* Header counts and flags scrambled; pointers in
			 * the question. */
			for (size_t i = 2; i < 12; i++) {
				if (xs_next(&rng) & 1)
					p.b[i] = (uint8_t)xs_next(&rng);
			}
			if (xs_next(&rng) & 1) {
				size_t at = 12 + xs_next(&rng) % (p.len - 12);

				p.b[at] =
				    (uint8_t)(0xc0 | (xs_next(&rng) & 0x3f));
			}
		}
		r.len = md_query_answer(
		    zs, EDNS_SIZE, tcp, p.b, p.len, r.b, sizeof(r.b), &r.info);
		if (r.len == 0)
			continue;
		answered++;
		if (r.len > (tcp ? MD_WIRE_MAX : udp_limit(p.b, p.len))) {
			print_error("iteration %u: %zu bytes over the limit\n",
			    iter, r.len);
			fail();
		}
		/* Every response is a well-formed message with the ID and
		 * QR set. */
		assert_true(r.len >= 12);
		assert_memory_equal(r.b, p.b, 2);
		assert_true(r.b[2] & 0x80);
		r.pkt = NULL;
		if (ldns_wire2pkt(&r.pkt, r.b, r.len) != LDNS_STATUS_OK) {
			print_error(
			    "iteration %u: response does not parse\n", iter);
			fail();
		}
		done(&r);
	}
	/* The loop did exercise the answering code, not only the drop. */
	print_message("hostile loop: %u of 20000 packets answered\n", answered);
	assert_true(answered > 5000);
	(void)state;
}

/* The EDE option's info code in r's OPT, or -1 (RFC 8914 §2). */
static int
ede_code(const struct resp *r)
{
	ldns_rdf *opt = ldns_pkt_edns_data(r->pkt);
	const uint8_t *d;
	size_t len;

	if (opt == NULL)
		return -1;
	d = ldns_rdf_data(opt);
	len = ldns_rdf_size(opt);
	for (size_t off = 0; off + 4 <= len;) {
		uint16_t code = md_read_u16(d + off);
		uint16_t olen = md_read_u16(d + off + 2);

		if (code == 15 && olen >= 2 && off + 6 <= len)
			return md_read_u16(d + off + 4);
		off += 4u + olen;
	}
	return -1;
}

/* A zone not ready (the Kubernetes source before its first list):
 * SERVFAIL with EDE 14, no records, nothing for the cache or recursion;
 * other zones answer as before. */
static void
not_ready_zone(void **state)
{
	struct md_zone_set *saved = zs;
	uint8_t origin[MD_NAME_MAX];
	struct md_zone *z;
	struct pkt q = {0};
	struct resp r;

	assert_true(md_name_from_str("cluster.local.", NULL, origin) > 0);
	z = md_zone_new(origin);
	assert_non_null(z);
	md_zone_set_not_ready(z, true);
	zs = md_zone_set_merge(saved, &z, 1);
	md_zone_free(z);
	assert_non_null(zs);

	pkt_header(&q, 40, MD_FLAG_RD, 1, 0, 0, 1);
	pkt_name(&q, "kubernetes.default.svc.cluster.local.");
	pkt_u16(&q, MD_TYPE_A);
	pkt_u16(&q, MD_CLASS_IN);
	pkt_opt(&q, 4096, 0, false);
	ask(&q, false, &r);
	assert_int_equal(r.info.status, MD_ZONE_NOT_READY);
	assert_int_equal(r.info.rcode, MD_RCODE_SERVFAIL);
	assert_false(r.info.need_recursion);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_SERVFAIL);
	assert_false(ldns_pkt_aa(r.pkt));
	assert_true(ldns_pkt_rd(r.pkt));
	assert_int_equal(ldns_pkt_ancount(r.pkt) + ldns_pkt_nscount(r.pkt) +
		ldns_pkt_arcount(r.pkt),
	    0);
	assert_int_equal(ede_code(&r), 14);
	done(&r);

	/* Without EDNS: SERVFAIL alone. */
	q.len = 0;
	pkt_query(&q, 41, 0, "no-such-name.cluster.local.", MD_TYPE_AAAA,
	    MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_SERVFAIL);
	assert_false(ldns_pkt_edns(r.pkt));
	done(&r);

	/* Another zone is not affected. */
	q.len = 0;
	pkt_query(&q, 42, 0, "10.in-addr.arpa.", MD_TYPE_SOA, MD_CLASS_IN, 0);
	ask(&q, false, &r);
	assert_int_not_equal(r.info.status, MD_ZONE_NOT_READY);
	done(&r);

	md_zone_set_unref(zs);
	zs = saved;
	(void)state;
}

/* ---- Kubernetes autopath ------------------------------------------------ */

static const char ap_cluster[] =
    "$ORIGIN cluster.local.\n"
    "$TTL 5\n"
    "@ IN SOA ns.dns hostmaster 1 7200 1800 86400 5\n"
    "@ IN NS ns.dns\n"
    "ns.dns IN A 10.0.0.10\n"
    "web.app.svc IN A 10.96.1.1\n"
    "db.other.svc IN A 10.96.2.2\n"
    "cache.svc IN A 10.96.3.3\n"
    "out.other.svc IN CNAME www.example.org.\n";
static const char ap_corp[] = "$ORIGIN corp.test.\n"
			      "$TTL 60\n"
			      "@ IN SOA ns hostmaster 1 7200 1800 86400 60\n"
			      "@ IN NS ns\n"
			      "ns IN A 10.9.0.1\n"
			      "intranet IN A 10.9.0.2\n";

static uint8_t ap_search[1][255];

/* A snapshot with cluster.local (autopath, pods 10.0.0.5 in app,
 * 10.0.0.6 in other, 10.0.0.7 in both) and corp.test. */
static struct md_zone_set *
ap_zones(void)
{
	struct md_zone_source src[2] = {
	    {.file = "cluster.local.zone", .text = ap_cluster},
	    {.file = "corp.test.zone", .text = ap_corp},
	};
	struct md_zone *z[2];
	struct md_zone_set *set;
	char err[256];
	static const struct {
		uint8_t last;
		const char *ns;
	} pods[] = {{5, "app"}, {6, "other"}, {7, "app"}, {7, "other"}};

	for (int i = 0; i < 2; i++) {
		z[i] = md_zone_load(&src[i], err, sizeof(err));
		if (z[i] == NULL)
			print_error("%s\n", err);
		assert_non_null(z[i]);
	}
	md_zone_set_autopath(z[0], true);
	for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		uint8_t a[16] = {0};

		a[10] = a[11] = 0xff;
		a[12] = 10;
		a[15] = pods[i].last;
		assert_int_equal(md_zone_add_client(z[0], a, pods[i].ns), 0);
	}
	assert_int_equal(md_zone_check(z[0], err, sizeof(err)), 0);
	set = md_zone_set_new(z, 2);
	md_zone_free(z[0]);
	md_zone_free(z[1]);
	assert_non_null(set);
	assert_true(md_name_from_str("corp.test.", NULL, ap_search[0]) > 0);
	return set;
}

/* Ask name/type as client 10.0.0.<last> (0: no client), recursion on. */
static void
ap_ask(const struct md_zone_set *set, int last, const char *name,
    uint16_t qtype, bool tcp, struct resp *r)
{
	struct md_query_ctx ctx;
	struct sockaddr_in sin;
	struct pkt q = {0};

	memset(&ctx, 0, sizeof(ctx));
	ctx.zones = set;
	ctx.edns_size = EDNS_SIZE;
	ctx.recursion = true;
	ctx.search = (const uint8_t(*)[255])ap_search;
	ctx.nsearch = 1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x0a000000u | (uint32_t)last);
	ctx.client = last > 0 ? (const struct sockaddr *)&sin : NULL;
	pkt_query(&q, 77, MD_FLAG_RD, name, qtype, MD_CLASS_IN, 1232);
	r->pkt = NULL;
	r->len = md_query_process(
	    &ctx, tcp, q.b, q.len, r->b, sizeof(r->b), &r->info);
	if (r->len > 0)
		assert_int_equal(
		    ldns_wire2pkt(&r->pkt, r->b, r->len), LDNS_STATUS_OK);
}

static void
autopath_local(void **state)
{
	struct md_zone_set *set = ap_zones();
	struct resp r;

	/* A Service of another namespace, from a pod of app. */
	ap_ask(set, 5, "db.other.app.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r.pkt));
	assert_true(r.info.autopath);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 2);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "db.other.app.svc.cluster.local. 5 IN CNAME "
	    "db.other.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(r.pkt), 1,
	    "db.other.svc.cluster.local. 5 IN A 10.96.2.2");
	done(&r);

	/* The same over TCP. */
	ap_ask(set, 5, "db.other.app.svc.cluster.local.", MD_TYPE_A, true, &r);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 2);
	done(&r);

	/* NODATA counts as found: the CNAME, the SOA. */
	ap_ask(
	    set, 5, "db.other.app.svc.cluster.local.", MD_TYPE_AAAA, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 1);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(r.pkt), 0)),
	    LDNS_RR_TYPE_CNAME);
	assert_int_equal(ldns_pkt_nscount(r.pkt), 1);
	done(&r);

	/* svc.<zone> before <zone>: NAME.svc.cluster.local. */
	ap_ask(set, 5, "cache.app.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "cache.app.svc.cluster.local. 5 IN CNAME "
	    "cache.svc.cluster.local.");
	done(&r);

	/* The host's search domain (a local zone here), after the
	 * cluster's. */
	ap_ask(set, 5, "intranet.app.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "intranet.app.svc.cluster.local. 5 IN CNAME intranet.corp.test.");
	assert_rr(ldns_pkt_answer(r.pkt), 1,
	    "intranet.corp.test. 60 IN A "
	    "10.9.0.2");
	done(&r);

	/* The namespace is the client's: from a pod of other. */
	ap_ask(
	    set, 6, "web.app.other.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_rr(ldns_pkt_answer(r.pkt), 0,
	    "web.app.other.svc.cluster.local. 5 IN CNAME "
	    "web.app.svc.cluster.local.");
	done(&r);
	ap_ask(set, 6, "db.other.app.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NXDOMAIN);
	assert_false(r.info.autopath);
	done(&r);

	/* Only the first expansion: NAME.svc.<zone> is not walked. */
	ap_ask(set, 5, "db.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_int_equal(ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
	done(&r);

	/* Unknown client, no client, an address of two namespaces. */
	for (int last = 0; last <= 9; last += 7) {
		ap_ask(set, last, "db.other.app.svc.cluster.local.", MD_TYPE_A,
		    false, &r);
		assert_int_equal(
		    ldns_pkt_get_rcode(r.pkt), LDNS_RCODE_NXDOMAIN);
		assert_int_equal(ldns_pkt_ancount(r.pkt), 0);
		assert_false(r.info.autopath);
		done(&r);
		if (last == 7)
			last = 2; /* then 9 */
	}
	md_zone_set_unref(set);
	(void)state;
}

/* A search-path name outside the local zones: resolved, then answered
 * (md_query_respond) as the CNAME plus the result; its NXDOMAIN resumes
 * the walk. */
static void
autopath_resolved(void **state)
{
	struct md_zone_set *set = ap_zones();
	struct md_query_ctx ctx;
	struct sockaddr_in sin;
	struct resp r;
	struct md_result res;
	struct md_result_rrset a;
	uint8_t rd[] = {0, 4, 192, 0, 2, 80};
	uint8_t out[MD_WIRE_MAX];
	uint8_t want[MD_NAME_MAX];
	struct md_query_info info;
	size_t len;
	ldns_pkt *pkt = NULL;

	ap_ask(set, 5, "www.example.org.app.svc.cluster.local.", MD_TYPE_A,
	    false, &r);
	assert_int_equal(r.len, 0);
	assert_true(r.info.need_recursion);
	assert_true(r.info.chase);
	assert_true(r.info.autopath);
	/* corp.test is local: www.example.org.corp.test is NXDOMAIN, on to
	 * the bare name (number 3: svc, the domain, corp.test, bare) */
	assert_int_equal(r.info.autopath_index, 3);
	assert_true(md_name_from_str("www.example.org.", NULL, want) > 0);
	assert_true(md_name_equal(r.info.chase_name, want));
	assert_true(md_name_equal(r.info.autopath_name, want));

	memset(&ctx, 0, sizeof(ctx));
	ctx.zones = set;
	ctx.edns_size = EDNS_SIZE;
	ctx.recursion = true;
	ctx.max_ttl = 86400;
	ctx.search = (const uint8_t(*)[255])ap_search;
	ctx.nsearch = 1;
	ctx.chase = true;
	ctx.autopath = r.info.autopath_name;
	memset(&res, 0, sizeof(res));
	memset(&a, 0, sizeof(a));
	memcpy(a.owner, want, md_name_len(want));
	a.type = MD_TYPE_A;
	a.count = 1;
	a.ttl = 300;
	a.rdata = rd;
	a.rdata_len = sizeof(rd);
	res.rcode = MD_RCODE_NOERROR;
	res.ede = MD_EDE_NONE;
	res.answer = &a;
	len = md_query_respond(
	    &ctx, &r.info.q, false, &res, out, sizeof(out), &info);
	assert_true(len > 0);
	assert_false(info.autopath_resume);
	assert_int_equal(ldns_wire2pkt(&pkt, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(pkt), 2);
	assert_rr(ldns_pkt_answer(pkt), 0,
	    "www.example.org.app.svc.cluster.local. 5 IN CNAME "
	    "www.example.org.");
	assert_rr(ldns_pkt_answer(pkt), 1,
	    "www.example.org. 300 IN A "
	    "192.0.2.80");
	ldns_pkt_free(pkt);
	pkt = NULL;

	/* It does not exist: the query's own NXDOMAIN, and the walk may
	 * resume; past the last name, it ends there. */
	res.answer = NULL;
	res.rcode = MD_RCODE_NXDOMAIN;
	len = md_query_respond(
	    &ctx, &r.info.q, false, &res, out, sizeof(out), &info);
	assert_true(info.autopath_resume);
	assert_int_equal(ldns_wire2pkt(&pkt, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(pkt), 0);
	ldns_pkt_free(pkt);
	pkt = NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x0a000005u);
	ctx.autopath = NULL;
	ctx.client = (const struct sockaddr *)&sin;
	len = md_query_autopath_resume(&ctx, &r.info.q, false,
	    r.info.autopath_index + 1, out, sizeof(out), &info);
	assert_false(info.need_recursion);
	assert_int_equal(ldns_wire2pkt(&pkt, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(pkt), 0);
	ldns_pkt_free(pkt);
	pkt = NULL;
	/* Resumed from the start, the walk finds the bare name again. */
	len = md_query_autopath_resume(
	    &ctx, &r.info.q, false, 0, out, sizeof(out), &info);
	assert_int_equal(len, 0);
	assert_true(info.need_recursion);
	assert_int_equal(info.autopath_index, 3);
	done(&r);

	/* A local CNAME leading out: chased, the CNAME to it first. */
	ap_ask(
	    set, 5, "out.other.app.svc.cluster.local.", MD_TYPE_A, false, &r);
	assert_true(r.info.need_recursion);
	assert_true(r.info.autopath);
	assert_true(md_name_equal(r.info.chase_name, want));
	done(&r);
	md_zone_set_unref(set);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(answer_header_and_question),
	    cmocka_unit_test(answer_nxdomain_and_nodata),
	    cmocka_unit_test(answer_cname_wildcard_srv_ptr),
	    cmocka_unit_test(refused),
	    cmocka_unit_test(notimp_formerr_and_drop),
	    cmocka_unit_test(edns_opt_and_badvers),
	    cmocka_unit_test(truncation),
	    cmocka_unit_test(large_rrsets),
	    cmocka_unit_test(hostile_packets),
	    cmocka_unit_test(not_ready_zone),
	    cmocka_unit_test(autopath_local),
	    cmocka_unit_test(autopath_resolved),
	};

	return cmocka_run_group_tests_name(
	    "query", tests, load_zones, free_zones);
}
