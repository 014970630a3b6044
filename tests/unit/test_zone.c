/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_zone.c - unit tests of the zone store (src/zone/): lookups per RFC
 * 1034 §4.3.2 over zones loaded from tests/unit/data (exact match, NODATA
 * and NXDOMAIN with the RFC 2308 negative TTL, empty non-terminals,
 * RFC 4592 wildcards, CNAME chains within and across zones, loops, RFC 6604
 * rcodes, referrals with glue, DS at a cut, ANY, additional data, nested
 * zones), auto-ptr reverse zones, the zone file and YAML loaders' error
 * messages, and md_zone_add_rr's merging rules.  Not covered: the wire
 * form of answers (test_query).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <ldns/ldns.h>

#include "minidns/util.h"
#include "minidns/wire.h"
#include "minidns/zone.h"
#include "unit.h"

#define DATA(f) MD_TEST_DATA "/" f

/* The snapshot every lookup test reads. */
static struct md_zone_set *zs;

static int
load_set(void **state)
{
	static const struct md_zone_source srcs[] = {
	    {.file = DATA("example.test.zone")},
	    {.file = DATA("other.test.zone")},
	    {.file = DATA("child.example.test.zone")},
	    {.file = DATA("2.0.192.in-addr.arpa.zone"), .auto_ptr = true},
	    {.file = DATA("ip6.zone"), .auto_ptr = true},
	    {.file = DATA("yaml.test.yaml")},
	};
	char err[1024] = "";

	zs = md_zone_set_load(
	    srcs, sizeof(srcs) / sizeof(srcs[0]), err, sizeof(err));
	if (zs == NULL) {
		print_error("loading the test zones: %s\n", err);
		return -1;
	}
	(void)state;
	return 0;
}

static int
free_set(void **state)
{
	md_zone_set_unref(zs);
	zs = NULL;
	(void)state;
	return 0;
}

static void
lookup(const char *name, uint16_t type, struct md_zone_result *res)
{
	uint8_t n[MD_NAME_MAX];

	md_zone_lookup(zs, wname(name, n), type, res);
}

/* Is the wire name 'n' the presentation name 's'? */
static void
assert_name(const uint8_t *n, const char *s)
{
	char buf[MD_NAME_STRLEN];

	assert_non_null(n);
	assert_int_equal(md_name_to_str(n, buf, sizeof(buf)), 0);
	assert_string_equal(buf, s);
}

/* The rdata of the RRset's first RR against its presentation form. */
static void
assert_rdata(const struct md_rrset *set, unsigned idx, const char *type,
    const char *text)
{
	char rrtext[1024];
	ldns_rr *rr = NULL;
	ldns_buffer *b = ldns_buffer_new(512);
	const uint8_t *p = NULL, *rd = NULL;
	uint16_t len = 0;

	for (unsigned i = 0; i <= idx; i++) {
		p = md_rrset_next(set, p, &len, &rd);
		assert_non_null(p);
	}
	snprintf(rrtext, sizeof(rrtext), "x. 0 IN %s %s", type, text);
	assert_int_equal(
	    ldns_rr_new_frm_str(&rr, rrtext, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_rdata2buffer_wire(b, rr), LDNS_STATUS_OK);
	assert_int_equal(len, ldns_buffer_position(b));
	assert_memory_equal(rd, ldns_buffer_begin(b), len);
	ldns_buffer_free(b);
	ldns_rr_free(rr);
}

/* The zone's origin as text. */
static void
assert_zone(const struct md_zone *z, const char *origin)
{
	assert_non_null(z);
	assert_name(md_zone_origin(z), origin);
}

/* ---- RFC 1034 §4.3.2 --------------------------------------------------- */

static void
exact_match(void **state)
{
	struct md_zone_result r;

	lookup("www.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_true(r.aa);
	assert_zone(r.zone, "example.test.");
	assert_int_equal(r.nan, 1);
	assert_null(r.an[0].owner); /* the name as the client sent it */
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_A);
	assert_int_equal(r.an[0].rrset->count, 1);
	assert_int_equal(r.an[0].ttl, 3600);
	assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.10");
	assert_int_equal(r.nns, 0);
	assert_int_equal(r.nar, 0);

	lookup("www.example.test.", MD_TYPE_AAAA, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_rdata(r.an[0].rrset, 0, "AAAA", "2001:db8::10");
	(void)state;
}

static void
nodata_has_soa_with_negative_ttl(void **state)
{
	struct md_zone_result r;

	lookup("www.example.test.", MD_TYPE_MX, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_true(r.aa);
	assert_int_equal(r.nan, 0);
	assert_int_equal(r.nns, 1);
	assert_int_equal(r.ns[0].rrset->type, MD_TYPE_SOA);
	assert_name(r.ns[0].owner, "example.test.");
	/* RFC 2308 §5: min(SOA TTL 3600, MINIMUM 300). */
	assert_int_equal(r.ns[0].ttl, 300);

	/* other.test: SOA TTL 60 below MINIMUM 600. */
	lookup("host.other.test.", MD_TYPE_TXT, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.nns, 1);
	assert_name(r.ns[0].owner, "other.test.");
	assert_int_equal(r.ns[0].ttl, 60);
	(void)state;
}

static void
nxdomain_has_soa(void **state)
{
	struct md_zone_result r;

	lookup("nope.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	assert_int_equal(r.rcode, MD_RCODE_NXDOMAIN);
	assert_true(r.aa);
	assert_int_equal(r.nan, 0);
	assert_int_equal(r.nns, 1);
	assert_int_equal(r.ns[0].rrset->type, MD_TYPE_SOA);
	assert_int_equal(r.ns[0].ttl, 300);

	lookup("deep.below.nope.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	(void)state;
}

static void
empty_non_terminal_is_nodata(void **state)
{
	struct md_zone_result r;

	lookup("b.c.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_int_equal(r.nns, 1);
	lookup("c.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	lookup("a.b.c.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	lookup("x.b.c.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	(void)state;
}

static void
wildcard_synthesis(void **state)
{
	struct md_zone_result r;

	lookup("foo.wild.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_true(r.aa);
	assert_int_equal(r.nan, 1);
	/* RFC 4592 §3.3.1: the owner is the query name, not "*". */
	assert_null(r.an[0].owner);
	assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.99");

	/* More than one label below the wildcard's parent. */
	lookup("a.b.wild.example.test.", MD_TYPE_TXT, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_null(r.an[0].owner);
	assert_rdata(r.an[0].rrset, 0, "TXT", "\"wild\"");

	/* The wildcard exists, the type does not: NODATA. */
	lookup("foo.wild.example.test.", MD_TYPE_MX, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_int_equal(r.nns, 1);

	/* A wildcard CNAME: the chain starts at the query name. */
	lookup("anything.cn.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.nan, 2);
	assert_null(r.an[0].owner);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_CNAME);
	assert_name(r.an[1].owner, "www.example.test.");
	assert_int_equal(r.an[1].rrset->type, MD_TYPE_A);
	(void)state;
}

static void
wildcard_does_not_cover_existing_names(void **state)
{
	struct md_zone_result r;

	/* RFC 4592 §2.2: exists.wild exists, so *.wild does not apply. */
	lookup("exists.wild.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.nan, 0);
	lookup("exists.wild.example.test.", MD_TYPE_TXT, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_rdata(r.an[0].rrset, 0, "TXT", "\"here\"");

	/* Below exists.wild the closest encloser is exists.wild, which has
	 * no wildcard child: NXDOMAIN, not *.wild's data. */
	lookup("x.exists.wild.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	assert_int_equal(r.nan, 0);

	/* The wildcard's own name is an ordinary exact match. */
	lookup("*.wild.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	(void)state;
}

/* ---- CNAME ------------------------------------------------------------- */

static void
cname_chain_in_zone(void **state)
{
	struct md_zone_result r;

	lookup("alias.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_true(r.aa);
	assert_int_equal(r.nan, 3);
	assert_null(r.an[0].owner);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_CNAME);
	assert_rdata(r.an[0].rrset, 0, "CNAME", "alias2.example.test.");
	assert_name(r.an[1].owner, "alias2.example.test.");
	assert_int_equal(r.an[1].rrset->type, MD_TYPE_CNAME);
	assert_name(r.an[2].owner, "www.example.test.");
	assert_int_equal(r.an[2].rrset->type, MD_TYPE_A);
	assert_rdata(r.an[2].rrset, 0, "A", "192.0.2.10");

	/* The chain ends in NODATA: the CNAMEs and the SOA. */
	lookup("alias.example.test.", MD_TYPE_TXT, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.nan, 2);
	assert_int_equal(r.nns, 1);
	assert_int_equal(r.ns[0].rrset->type, MD_TYPE_SOA);
	(void)state;
}

static void
cname_chain_across_zones(void **state)
{
	struct md_zone_result r;

	lookup("toother.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_true(r.aa);
	assert_zone(r.zone, "example.test.");
	assert_int_equal(r.nan, 2);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_CNAME);
	assert_name(r.an[1].owner, "host.other.test.");
	assert_rdata(r.an[1].rrset, 0, "A", "198.51.100.7");

	lookup("back.other.test.", MD_TYPE_AAAA, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_zone(r.zone, "other.test.");
	assert_int_equal(r.nan, 2);
	assert_name(r.an[1].owner, "www.example.test.");
	assert_int_equal(r.an[1].rrset->type, MD_TYPE_AAAA);
	(void)state;
}

static void
cname_loops_stop(void **state)
{
	struct md_zone_result r;

	lookup("loop1.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_LOOP);
	assert_int_equal(r.nan, 2);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_CNAME);
	assert_int_equal(r.an[1].rrset->type, MD_TYPE_CNAME);

	lookup("self.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_LOOP);
	assert_int_equal(r.nan, 1);

	/* c1 -> ... -> c15 -> www: 15 CNAMEs, over the bound. */
	lookup("c1.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_LOOP);
	assert_true(r.nan >= 1);
	assert_true(r.nan <= MD_ZONE_CNAME_MAX);
	for (unsigned i = 0; i < r.nan; i++)
		assert_int_equal(r.an[i].rrset->type, MD_TYPE_CNAME);
	(void)state;
}

static void
cname_out_of_local_zones(void **state)
{
	struct md_zone_result r;

	lookup("ext.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_CNAME_OUT);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_true(r.aa);
	assert_int_equal(r.nan, 1);
	assert_rdata(r.an[0].rrset, 0, "CNAME", "www.example.net.");
	(void)state;
}

static void
cname_target_nxdomain(void **state)
{
	struct md_zone_result r;

	/* RFC 6604 §2.1: the rcode is that of the last name in the chain. */
	lookup("dangle.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	assert_int_equal(r.rcode, MD_RCODE_NXDOMAIN);
	assert_true(r.aa);
	assert_int_equal(r.nan, 1);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_CNAME);
	assert_int_equal(r.nns, 1);
	assert_int_equal(r.ns[0].rrset->type, MD_TYPE_SOA);

	/* Across zones, the SOA is that of the zone that said NXDOMAIN. */
	lookup("gone.other.test.", MD_TYPE_A, &r);
	assert_int_equal(r.rcode, MD_RCODE_NXDOMAIN);
	assert_int_equal(r.nan, 1);
	assert_int_equal(r.nns, 1);
	assert_name(r.ns[0].owner, "example.test.");
	(void)state;
}

static void
qtype_cname_returns_cname_only(void **state)
{
	struct md_zone_result r;

	lookup("alias.example.test.", MD_TYPE_CNAME, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.nan, 1);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_CNAME);
	assert_rdata(r.an[0].rrset, 0, "CNAME", "alias2.example.test.");
	(void)state;
}

/* ---- delegations ------------------------------------------------------- */

static void
delegation_is_referral_with_glue(void **state)
{
	struct md_zone_result r;

	lookup("host.deleg.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_REFERRAL);
	assert_int_equal(r.rcode, MD_RCODE_NOERROR);
	assert_false(r.aa);
	assert_int_equal(r.nan, 0);
	/* the NS set, and the DS of the cut for clients that set DO (RFC
	 * 4035 §3.1.4) */
	assert_int_equal(r.nns, 2);
	assert_int_equal(r.ns[0].rrset->type, MD_TYPE_NS);
	assert_false(r.ns[0].dnssec);
	assert_int_equal(r.ns[1].rrset->type, MD_TYPE_DS);
	assert_true(r.ns[1].dnssec);
	assert_name(r.ns[0].owner, "deleg.example.test.");
	assert_rdata(r.ns[0].rrset, 0, "NS", "ns.deleg.example.test.");
	assert_int_equal(r.nar, 1);
	assert_name(r.ar[0].owner, "ns.deleg.example.test.");
	assert_rdata(r.ar[0].rrset, 0, "A", "192.0.2.77");

	/* At the cut itself, for any type but DS. */
	lookup("deleg.example.test.", MD_TYPE_NS, &r);
	assert_int_equal(r.status, MD_ZONE_REFERRAL);
	assert_false(r.aa);
	lookup("deleg.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_REFERRAL);
	/* Glue itself is below the cut: a referral too. */
	lookup("ns.deleg.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_REFERRAL);
	(void)state;
}

static void
ds_at_cut_from_parent(void **state)
{
	struct md_zone_result r;

	/* RFC 4035 §3.1.4.1: DS belongs to the parent side of the cut. */
	lookup("deleg.example.test.", MD_TYPE_DS, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_true(r.aa);
	assert_int_equal(r.nan, 1);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_DS);
	assert_int_equal(r.nns, 0);
	(void)state;
}

static void
ds_at_cut_to_local_child_from_parent(void **state)
{
	struct md_zone_result r;

	/* RFC 4035 §3.1.4.1: both sides of the cut are local; the DS
	 * comes from the parent, not NODATA from the child. */
	lookup("child.example.test.", MD_TYPE_DS, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_zone(r.zone, "example.test.");
	assert_int_equal(r.nan, 1);
	assert_int_equal(r.an[0].rrset->type, MD_TYPE_DS);
	(void)state;
}

/* ---- ANY, additional data, case, zones --------------------------------- */

static void
any_returns_every_rrset(void **state)
{
	struct md_zone_result r;
	bool a = false, aaaa = false;

	lookup("www.example.test.", MD_TYPE_ANY, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.nan, 2);
	for (unsigned i = 0; i < r.nan; i++) {
		assert_null(r.an[i].owner);
		a |= r.an[i].rrset->type == MD_TYPE_A;
		aaaa |= r.an[i].rrset->type == MD_TYPE_AAAA;
	}
	assert_true(a && aaaa);

	lookup("b.c.example.test.", MD_TYPE_ANY, &r);
	assert_int_equal(r.status, MD_ZONE_NODATA);
	assert_int_equal(r.nns, 1);
	(void)state;
}

static void
additional_addresses(void **state)
{
	struct md_zone_result r;
	bool a = false, aaaa = false;

	lookup("example.test.", MD_TYPE_MX, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.nar, 2);
	for (unsigned i = 0; i < r.nar; i++) {
		assert_name(r.ar[i].owner, "mail.example.test.");
		a |= r.ar[i].rrset->type == MD_TYPE_A;
		aaaa |= r.ar[i].rrset->type == MD_TYPE_AAAA;
	}
	assert_true(a && aaaa);

	lookup("_sip._tcp.example.test.", MD_TYPE_SRV, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.nar, 1);
	assert_name(r.ar[0].owner, "sipserver.example.test.");
	assert_rdata(r.ar[0].rrset, 0, "A", "192.0.2.60");

	lookup("example.test.", MD_TYPE_NS, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_true(r.aa);
	assert_int_equal(r.nar, 1);
	assert_name(r.ar[0].owner, "ns1.example.test.");

	/* A plain A answer carries no additional data. */
	lookup("mail.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.nar, 0);
	(void)state;
}

static void
matching_ignores_case(void **state)
{
	struct md_zone_result r;

	lookup("WWW.EXAMPLE.TEST.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_null(r.an[0].owner);
	assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.10");
	lookup("wWw.ChIlD.example.TEST.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_zone(r.zone, "child.example.test.");
	lookup("FOO.Wild.Example.Test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.99");
	(void)state;
}

static void
not_local(void **state)
{
	struct md_zone_result r;

	lookup("www.example.org.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NOT_LOCAL);
	assert_int_equal(r.nan, 0);
	assert_int_equal(r.nns, 0);
	assert_null(r.zone);
	lookup("test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NOT_LOCAL);
	lookup(".", MD_TYPE_NS, &r);
	assert_int_equal(r.status, MD_ZONE_NOT_LOCAL);
	/* A suffix that is not a label boundary is not inside the zone. */
	lookup("www.notexample.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NOT_LOCAL);
	(void)state;
}

static void
longest_zone_wins(void **state)
{
	struct md_zone_result r;

	/* example.test. delegates child, but we serve child ourselves. */
	lookup("www.child.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_true(r.aa);
	assert_zone(r.zone, "child.example.test.");
	assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.89");

	lookup("nope.child.example.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	assert_name(r.ns[0].owner, "child.example.test.");
	assert_int_equal(r.ns[0].ttl, 30); /* min(120, 30) */

	assert_zone(
	    md_zone_set_find(
		zs, wname("x.child.example.test.", (uint8_t[MD_NAME_MAX]){0})),
	    "child.example.test.");
	assert_int_equal(md_zone_set_count(zs), 6);
	(void)state;
}

static void
yaml_zone(void **state)
{
	struct md_zone_result r;

	lookup("www.yaml.test.", MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.an[0].ttl, 60);
	assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.11");
	lookup("www.yaml.test.", MD_TYPE_AAAA, &r);
	assert_int_equal(r.an[0].ttl, 300);
	lookup("yaml.test.", MD_TYPE_SOA, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_rdata(r.an[0].rrset, 0, "SOA",
	    "ns1.yaml.test. hostmaster.yaml.test. 7 3600 900 604800 60");
	(void)state;
}

/* ---- auto-ptr ---------------------------------------------------------- */

static void
expect_ptr(const char *rev, const char *target)
{
	struct md_zone_result r;

	lookup(rev, MD_TYPE_PTR, &r);
	if (r.status != MD_ZONE_ANSWER)
		print_error("%s: %s\n", rev, md_zone_status_str(r.status));
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	assert_int_equal(r.nan, 1);
	assert_int_equal(r.an[0].rrset->count, 1);
	assert_rdata(r.an[0].rrset, 0, "PTR", target);
}

static void
auto_ptr_ipv4(void **state)
{
	struct md_zone_result r;

	expect_ptr("53.2.0.192.in-addr.arpa.", "ns1.example.test.");
	expect_ptr("25.2.0.192.in-addr.arpa.", "mail.example.test.");
	/* From the child zone and from a YAML zone. */
	expect_ptr("89.2.0.192.in-addr.arpa.", "www.child.example.test.");
	expect_ptr("11.2.0.192.in-addr.arpa.", "www.yaml.test.");
	/* The zone's own PTR wins over www's address. */
	expect_ptr("10.2.0.192.in-addr.arpa.", "custom.example.test.");
	/* Two names for one address: the one with more labels (a headless
	 * service's endpoint before the service). */
	expect_ptr("40.2.0.192.in-addr.arpa.", "pod-0.svc.example.test.");
	/* A wildcard's address names no host. */
	lookup("99.2.0.192.in-addr.arpa.", MD_TYPE_PTR, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	(void)state;
}

static void
auto_ptr_ipv6(void **state)
{
	expect_ptr("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1."
		   "0.0.2.ip6.arpa.",
	    "www.example.test.");
	expect_ptr("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1."
		   "0.0.2.ip6.arpa.",
	    "mail.example.test.");
	expect_ptr("1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1."
		   "0.0.2.ip6.arpa.",
	    "www.yaml.test.");
	(void)state;
}

static void
auto_ptr_off_by_default(void **state)
{
	const struct md_zone_source srcs[] = {
	    {.file = DATA("example.test.zone")},
	    {.file = DATA("2.0.192.in-addr.arpa.zone")},
	};
	struct md_zone_set *set;
	struct md_zone_result r;
	uint8_t n[MD_NAME_MAX];
	char err[512];

	set = md_zone_set_load(srcs, 2, err, sizeof(err));
	assert_non_null(set);
	md_zone_lookup(
	    set, wname("53.2.0.192.in-addr.arpa.", n), MD_TYPE_PTR, &r);
	assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
	md_zone_set_unref(set);
	(void)state;
}

/*
 * auto-ptr makes PTR records, which belong under in-addr.arpa and
 * ip6.arpa: on any other zone it is refused, naming the configuration
 * entry (where) that asked for it.
 */
static void
auto_ptr_refused_outside_reverse(void **state)
{
	const struct md_zone_source srcs[] = {
	    {.file = DATA("example.test.zone"),
		.auto_ptr = true,
		.where = "minidnsd.yaml:7"},
	};
	struct md_zone_set *set;
	char err[1024] = "";

	set = md_zone_set_load(srcs, 1, err, sizeof(err));
	if (set != NULL)
		md_zone_set_unref(set);
	assert_null(set);
	assert_non_null(strstr(err,
	    "minidnsd.yaml:7: auto-ptr: zone "
	    "example.test. is not under in-addr.arpa"));
	(void)state;
}

/*
 * A reverse zone with auto-ptr and no address anywhere to make a PTR
 * from loads, unchanged (no candidates: nothing to sort or add).  Run
 * under UBSan by the sanitizer build.
 */
static void
auto_ptr_nothing_to_add(void **state)
{
	const struct md_zone_source alone[] = {
	    {.file = DATA("2.0.192.in-addr.arpa.zone"), .auto_ptr = true},
	};
	const struct md_zone_source with_other[] = {
	    {.file = DATA("2.0.192.in-addr.arpa.zone"), .auto_ptr = true},
	    {.file = DATA("ip6.zone"), .auto_ptr = true},
	};
	struct md_zone_set *set;
	char err[1024] = "";
	size_t before;

	set = md_zone_set_load(alone, 1, err, sizeof(err));
	if (set == NULL)
		print_error("%s\n", err);
	assert_non_null(set);
	before = md_zone_rr_count(md_zone_set_get(set, 0));
	md_zone_set_unref(set);
	/* Two reverse zones, no A or AAAA records outside them. */
	set = md_zone_set_load(with_other, 2, err, sizeof(err));
	if (set == NULL)
		print_error("%s\n", err);
	assert_non_null(set);
	assert_int_equal(md_zone_rr_count(md_zone_set_get(set, 0)), before);
	md_zone_set_unref(set);
	(void)state;
}

/* A zone file that cannot be read names the configuration entry. */
static void
unreadable_file_names_entry(void **state)
{
	const struct md_zone_source srcs[] = {
	    {.file = "/nonexistent/x.zone", .where = "minidnsd.yaml:3"},
	    {.file = "/nonexistent/y.zone", .where = "--zone"},
	};
	struct md_zone_set *set;
	char err[1024] = "";

	set = md_zone_set_load(&srcs[0], 1, err, sizeof(err));
	assert_null(set);
	assert_non_null(strstr(
	    err, "minidnsd.yaml:3: zones: /nonexistent/x.zone: cannot read:"));
	set = md_zone_set_load(&srcs[1], 1, err, sizeof(err));
	assert_null(set);
	assert_non_null(
	    strstr(err, "--zone: /nonexistent/y.zone: cannot read:"));
	(void)state;
}

/* ---- loader errors ----------------------------------------------------- */

/* Load one text source and expect failure with 'want' in the message. */
static void
expect_load_error(
    const char *file, const char *text, const char *origin, const char *want)
{
	struct md_zone_source src = {
	    .file = file, .text = text, .origin = origin};
	struct md_zone_set *set;
	char err[1024] = "";

	set = md_zone_set_load(&src, 1, err, sizeof(err));
	if (set != NULL || strstr(err, want) == NULL)
		print_error("want \"%s\"\n got \"%s\"\n", want, err);
	assert_null(set);
	assert_non_null(strstr(err, want));
}

/*
 * Zone texts with an error on a known line: the messages must name that
 * line (load_error_lines) and the problem (the tests after it).
 */
static const char syntax_text[] = "$ORIGIN bad.test.\n"
				  "@ IN SOA ns h 1 2 3 4 5\n"
				  "@ IN NS ns\n"
				  "ns IN A 10.0.0.1\n"
				  "www IN A 999.0.0.1\n" /* line 5 */
				  "x IN A 10.0.0.2\n";
static const char multiline_text[] = "$ORIGIN bad.test.\n"
				     "@ IN SOA ns h (\n"
				     "    1 ; serial\n"
				     "    2 3 4\n"
				     "    5 )\n"
				     "@ IN NS ns\n"
				     "ns IN A 10.0.0.1\n"
				     "www IN BOGUSTYPE 1\n"; /* line 8 */
static const char blank_lines_text[] = "$ORIGIN bad.test.\n"
				       "@ IN SOA ns h 1 2 3 4 5\n"
				       "\n"
				       "; a comment\n"
				       "@ IN NS ns\n"
				       "\n"
				       "\n"
				       "ns IN A 10.0.0.1.5\n" /* line 8 */
				       "\n";
static const char cname_text[] = "$ORIGIN bad.test.\n"
				 "@ IN SOA ns h 1 2 3 4 5\n"
				 "@ IN NS ns\n"
				 "ns IN A 10.0.0.1\n"
				 "ns IN CNAME www\n"; /* line 5 */
static const char cname2_text[] = "$ORIGIN bad.test.\n"
				  "@ IN SOA ns h 1 2 3 4 5\n"
				  "@ IN NS ns\n"
				  "al IN CNAME ns\n"
				  "al IN TXT \"x\""; /* line 5, no newline */
static const char two_soa_text[] = "$ORIGIN bad.test.\n"
				   "@ IN SOA ns h 1 2 3 4 5\n"
				   "@ IN SOA ns h 2 2 3 4 5\n" /* line 3 */
				   "@ IN NS ns\n";
static const char sub_soa_text[] = "$ORIGIN bad.test.\n"
				   "@ IN SOA ns h 1 2 3 4 5\n"
				   "@ IN NS ns\n"
				   "sub IN SOA ns h 1 2 3 4 5\n"; /* line 4 */
static const char outside_text[] = "$ORIGIN bad.test.\n"
				   "@ IN SOA ns h 1 2 3 4 5\n"
				   "@ IN NS ns\n"
				   "ns IN A 10.0.0.1\n"
				   "www.elsewhere. IN A 10.0.0.3\n" /* line 5 */
				   "\n";

static void
load_error_lines(void **state)
{
	/* The line where the record starts, whatever ldns consumed. */
	expect_load_error("bad.zone", syntax_text, NULL, "bad.zone:5: ");
	expect_load_error("bad.zone", multiline_text, NULL, "bad.zone:8: ");
	expect_load_error("bad.zone", blank_lines_text, NULL, "bad.zone:8: ");
	expect_load_error("bad.zone", cname_text, NULL, "bad.zone:5: ");
	expect_load_error("bad.zone", cname2_text, NULL, "bad.zone:5: ");
	expect_load_error("bad.zone", two_soa_text, NULL, "bad.zone:3: ");
	expect_load_error("bad.zone", sub_soa_text, NULL, "bad.zone:4: ");
	expect_load_error("bad.zone", outside_text, NULL, "bad.zone:5: ");
	(void)state;
}

static void
load_error_syntax(void **state)
{
	expect_load_error("bad.zone", syntax_text, NULL, "bad.zone:");
	expect_load_error("bad.zone", syntax_text, NULL, "rdata");
	expect_load_error("bad.zone", multiline_text, NULL, "bad.zone:");
	expect_load_error("bad.zone", blank_lines_text, NULL, "bad.zone:");
	(void)state;
}

static void
load_error_cname_and_other_data(void **state)
{
	expect_load_error("bad.zone", cname_text, NULL,
	    ": ns.bad.test.: CNAME and other data");
	expect_load_error("bad.zone", cname2_text, NULL,
	    ": al.bad.test.: CNAME and other data");
	(void)state;
}

static void
load_error_soa(void **state)
{
	static const char nosoa[] = "$ORIGIN bad.test.\n"
				    "@ IN NS ns\n"
				    "ns IN A 10.0.0.1\n";

	/* Without a SOA the origin is unknown. */
	expect_load_error("nosoa.zone", nosoa, NULL, "nosoa.zone:");
	expect_load_error("nosoa.zone", nosoa, NULL, "no SOA");
	/* With the origin given, the zone is checked for its SOA. */
	expect_load_error("nosoa.zone", nosoa, "bad.test.", "nosoa.zone:");
	expect_load_error("nosoa.zone", nosoa, "bad.test.", "has no SOA");
	/* A second SOA, and one away from the apex. */
	expect_load_error("bad.zone", two_soa_text, NULL,
	    ": bad.test.: more than one SOA record");
	expect_load_error("bad.zone", sub_soa_text, NULL,
	    ": sub.bad.test.: SOA record away from the zone apex");
	(void)state;
}

static void
load_error_outside_zone(void **state)
{
	expect_load_error("bad.zone", outside_text, NULL,
	    ": www.elsewhere. is outside the zone bad.test.");
	(void)state;
}

static void
load_error_duplicate_origin(void **state)
{
	static const char text[] = "$ORIGIN dup.test.\n"
				   "@ IN SOA ns h 1 2 3 4 5\n"
				   "@ IN NS ns\n";
	const struct md_zone_source srcs[] = {
	    {.file = "first.zone", .text = text},
	    {.file = "second.zone", .text = text},
	};
	char err[1024] = "";

	assert_null(md_zone_set_load(srcs, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "second.zone: "));
	assert_non_null(strstr(err, "dup.test."));
	assert_non_null(strstr(err, "first.zone"));
	(void)state;
}

static void
load_error_missing_file(void **state)
{
	const struct md_zone_source src = {.file = DATA("no-such.zone")};
	char err[1024] = "";

	assert_null(md_zone_set_load(&src, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "no-such.zone: cannot "));
	(void)state;
}

#define YAML_HEAD                                                    \
	"origin: bad.test.\n"                                        \
	"records:\n"                                                 \
	"  - { name: \"@\", type: SOA, data: \"ns h 1 2 3 4 5\" }\n" \
	"  - { name: \"@\", type: NS, data: ns }\n"

static void
load_error_yaml(void **state)
{
	expect_load_error("bad.yaml",
	    YAML_HEAD "  - { name: ns, type: A, data: 10.0.0.1 }\n"
		      "  - { nmae: www, type: A, data: 10.0.0.2 }\n",
	    NULL, "bad.yaml:6: nmae: unknown key");
	expect_load_error("bad.yaml",
	    YAML_HEAD "  - { name: ns, type: A, data: 10.0.0.1 }\n"
		      "  - { name: www, type: A, data: 10.0.0.2, ttl: -5 }\n",
	    NULL, "bad.yaml:6: ttl: ");
	expect_load_error("bad.yaml",
	    YAML_HEAD "  - { name: ns, type: A, data: 10.0.0.1 }\n"
		      "  - { name: www, type: A, data: 10.0.0.2, ttl: soon }\n",
	    NULL, "bad.yaml:6: ttl: ");
	expect_load_error("bad.yaml",
	    "origin: bad.test.\n"
	    "ttl: forever\n"
	    "records: []\n",
	    NULL, "bad.yaml:2: ttl: ");
	expect_load_error("bad.yaml",
	    YAML_HEAD "\n"
		      "  - { name: www, type: A, data: not-an-address }\n",
	    NULL, "bad.yaml:6: www A: ");
	expect_load_error("bad.yaml",
	    "origin: bad.test.\n"
	    "colour: blue\n"
	    "records: []\n",
	    NULL, "bad.yaml:2: colour: unknown key");
	expect_load_error("bad.yaml",
	    YAML_HEAD "  - { name: ns, type: A, data: 10.0.0.1 }\n"
		      "  - { name: ns, type: CNAME, data: www }\n",
	    NULL, "bad.yaml:6: ns.bad.test.: CNAME and other data");
	expect_load_error("bad.yaml",
	    "origin: bad.test.\n"
	    "records:\n"
	    "  - { name: www, type: A, data: 10.0.0.1 }\n",
	    NULL, "bad.yaml:1: zone bad.test. has no SOA");
	expect_load_error("bad.yaml",
	    "origin: bad.test.\n"
	    "records: [ { name: x\n",
	    NULL, "bad.yaml:");
	/* a '(' never closed swallowed the rest of a zone file silently */
	expect_load_error("bad.zone",
	    "$ORIGIN bad.test.\n"
	    "@ 300 IN SOA ns h 1 2 3 4 5\n"
	    "@ 300 IN NS ns\n"
	    "www 300 IN TXT ( \"a)\" ; ) not this one\n"
	    "ns 300 IN A 192.0.2.1\n",
	    NULL, "bad.zone:4: '(' is never closed");
	expect_load_error("bad.zone",
	    "$ORIGIN bad.test.\n"
	    "@ 300 IN SOA ns h 1 2 3 4 5 )\n",
	    NULL, "bad.zone:2: ')' without '('");
	/* a key given twice in a record: the second value silently won */
	expect_load_error("bad.yaml",
	    YAML_HEAD "  - { name: ns, type: A, data: 10.0.0.1, "
		      "data: 10.0.0.2 }\n",
	    NULL, "bad.yaml:5: data: given twice (first at line 5)");
	(void)state;
}

/* ---- md_zone_add_rr ---------------------------------------------------- */

static void
add_rr_merges_duplicates_and_ttls(void **state)
{
	uint8_t origin[MD_NAME_MAX], www[MD_NAME_MAX], out[MD_NAME_MAX];
	uint8_t a1[4] = {192, 0, 2, 1}, a2[4] = {192, 0, 2, 2};
	struct md_zone *z = md_zone_new(wname("merge.test.", origin));
	char err[256];

	assert_non_null(z);
	wname("www.merge.test.", www);
	assert_int_equal(
	    md_zone_add_rr(z, www, MD_TYPE_A, 300, a1, 4, err, sizeof(err)), 0);
	assert_int_equal(
	    md_zone_add_rr(z, www, MD_TYPE_A, 300, a1, 4, err, sizeof(err)), 0);
	assert_int_equal(md_zone_rr_count(z), 1);
	assert_int_equal(
	    md_zone_add_rr(z, www, MD_TYPE_A, 100, a2, 4, err, sizeof(err)), 0);
	assert_int_equal(md_zone_rr_count(z), 2);

	/* Refusals. */
	assert_int_equal(md_zone_add_rr(z, wname("www.other.test.", out),
			     MD_TYPE_A, 1, a1, 4, err, sizeof(err)),
	    MD_EPARSE);
	assert_non_null(strstr(err, "outside the zone"));
	assert_int_equal(md_zone_add_rr(z, www, MD_TYPE_CNAME, 1, origin, 12,
			     err, sizeof(err)),
	    MD_EPARSE);
	assert_non_null(strstr(err, "CNAME and other data"));
	assert_int_equal(
	    md_zone_add_rr(z, www, MD_TYPE_OPT, 1, NULL, 0, err, sizeof(err)),
	    MD_EPARSE);
	assert_int_equal(md_zone_rr_count(z), 2);
	/* Not whole without SOA and NS. */
	assert_int_not_equal(md_zone_check(z, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "SOA"));
	md_zone_free(z);
	md_zone_free(NULL);
	(void)state;
}

static void
add_rr_lowest_ttl_through_loader(void **state)
{
	const struct md_zone_source src = {.file = "ttl.zone",
	    .text = "$ORIGIN ttl.test.\n"
		    "@ IN SOA ns h 1 2 3 4 5\n"
		    "@ IN NS ns\n"
		    "www 300 IN A 192.0.2.1\n"
		    "www 100 IN A 192.0.2.2\n"
		    "www 300 IN A 192.0.2.1\n"
		    "www 900 IN A 192.0.2.3\n"};
	struct md_zone_set *set;
	struct md_zone_result r;
	uint8_t n[MD_NAME_MAX];
	char err[512] = "";

	set = md_zone_set_load(&src, 1, err, sizeof(err));
	if (set == NULL)
		print_error("%s\n", err);
	assert_non_null(set);
	md_zone_lookup(set, wname("www.ttl.test.", n), MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_ANSWER);
	/* RFC 2181 §5: the duplicate merged; §5.2: one TTL, the lowest. */
	assert_int_equal(r.an[0].rrset->count, 3);
	assert_int_equal(r.an[0].ttl, 100);
	assert_int_equal(md_zone_rr_count(md_zone_set_get(set, 0)), 5);
	assert_int_equal(md_zone_serial(md_zone_set_get(set, 0)), 1);
	md_zone_set_unref(set);
	(void)state;
}

/* The same names in a zone with no cut below its apex and in one with a
 * cut elsewhere give the same answers (RFC 1034 §4.3.2, RFC 4592):
 * exact match in any case, empty non-terminal, wildcard one and two
 * labels down, NXDOMAIN under an empty non-terminal, the apex; below the
 * cut, a referral even for data there. */
static void
lookup_with_and_without_cuts(void **state)
{
	const struct md_zone_source srcs[] = {
	    {.file = "flat.zone",
		.text = "$ORIGIN flat.test.\n"
			"@ IN SOA ns h 1 2 3 4 5\n"
			"@ IN NS ns\n"
			"ns IN A 192.0.2.53\n"
			"a.b.c IN A 192.0.2.1\n"
			"*.w IN A 192.0.2.9\n"},
	    {.file = "cut.zone",
		.text = "$ORIGIN cut.test.\n"
			"@ IN SOA ns h 1 2 3 4 5\n"
			"@ IN NS ns\n"
			"ns IN A 192.0.2.53\n"
			"a.b.c IN A 192.0.2.1\n"
			"*.w IN A 192.0.2.9\n"
			"sub IN NS ns.sub\n"
			"ns.sub IN A 192.0.2.77\n"
			"www.sub IN A 192.0.2.78\n"},
	};
	const char *zones[] = {"flat.test.", "cut.test."};
	struct md_zone_set *set;
	struct md_zone_result r;
	uint8_t n[MD_NAME_MAX];
	char name[MD_NAME_STRLEN], err[512] = "";

	set = md_zone_set_load(srcs, 2, err, sizeof(err));
	if (set == NULL)
		print_error("%s\n", err);
	assert_non_null(set);
	for (size_t i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "A.b.C.%s", zones[i]);
		md_zone_lookup(set, wname(name, n), MD_TYPE_A, &r);
		assert_int_equal(r.status, MD_ZONE_ANSWER);
		assert_true(r.aa);
		assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.1");
		assert_null(r.an[0].owner); /* the question's own name */
		snprintf(name, sizeof(name), "b.c.%s", zones[i]);
		md_zone_lookup(set, wname(name, n), MD_TYPE_A, &r);
		assert_int_equal(r.status, MD_ZONE_NODATA);
		snprintf(name, sizeof(name), "x.y.w.%s", zones[i]);
		md_zone_lookup(set, wname(name, n), MD_TYPE_A, &r);
		assert_int_equal(r.status, MD_ZONE_ANSWER); /* *.w: RFC 4592 */
		snprintf(name, sizeof(name), "x.w.%s", zones[i]);
		md_zone_lookup(set, wname(name, n), MD_TYPE_A, &r);
		assert_int_equal(r.status, MD_ZONE_ANSWER);
		assert_rdata(r.an[0].rrset, 0, "A", "192.0.2.9");
		snprintf(name, sizeof(name), "d.b.c.%s", zones[i]);
		md_zone_lookup(set, wname(name, n), MD_TYPE_A, &r);
		assert_int_equal(r.status, MD_ZONE_NXDOMAIN);
		md_zone_lookup(set, wname(zones[i], n), MD_TYPE_NS, &r);
		assert_int_equal(r.status, MD_ZONE_ANSWER);
	}
	/* Below the cut: the delegation, not the occluded data. */
	md_zone_lookup(set, wname("www.sub.cut.test.", n), MD_TYPE_A, &r);
	assert_int_equal(r.status, MD_ZONE_REFERRAL);
	assert_name(r.ns[0].owner, "sub.cut.test.");
	md_zone_set_unref(set);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest lookups[] = {
	    cmocka_unit_test(exact_match),
	    cmocka_unit_test(lookup_with_and_without_cuts),
	    cmocka_unit_test(nodata_has_soa_with_negative_ttl),
	    cmocka_unit_test(nxdomain_has_soa),
	    cmocka_unit_test(empty_non_terminal_is_nodata),
	    cmocka_unit_test(wildcard_synthesis),
	    cmocka_unit_test(wildcard_does_not_cover_existing_names),
	    cmocka_unit_test(cname_chain_in_zone),
	    cmocka_unit_test(cname_chain_across_zones),
	    cmocka_unit_test(cname_loops_stop),
	    cmocka_unit_test(cname_out_of_local_zones),
	    cmocka_unit_test(cname_target_nxdomain),
	    cmocka_unit_test(qtype_cname_returns_cname_only),
	    cmocka_unit_test(delegation_is_referral_with_glue),
	    cmocka_unit_test(ds_at_cut_from_parent),
	    cmocka_unit_test(ds_at_cut_to_local_child_from_parent),
	    cmocka_unit_test(any_returns_every_rrset),
	    cmocka_unit_test(additional_addresses),
	    cmocka_unit_test(matching_ignores_case),
	    cmocka_unit_test(not_local),
	    cmocka_unit_test(longest_zone_wins),
	    cmocka_unit_test(yaml_zone),
	    cmocka_unit_test(auto_ptr_ipv4),
	    cmocka_unit_test(auto_ptr_ipv6),
	};
	const struct CMUnitTest loading[] = {
	    cmocka_unit_test(auto_ptr_off_by_default),
	    cmocka_unit_test(auto_ptr_refused_outside_reverse),
	    cmocka_unit_test(auto_ptr_nothing_to_add),
	    cmocka_unit_test(unreadable_file_names_entry),
	    cmocka_unit_test(load_error_lines),
	    cmocka_unit_test(load_error_syntax),
	    cmocka_unit_test(load_error_cname_and_other_data),
	    cmocka_unit_test(load_error_soa),
	    cmocka_unit_test(load_error_outside_zone),
	    cmocka_unit_test(load_error_duplicate_origin),
	    cmocka_unit_test(load_error_missing_file),
	    cmocka_unit_test(load_error_yaml),
	    cmocka_unit_test(add_rr_merges_duplicates_and_ttls),
	    cmocka_unit_test(add_rr_lowest_ttl_through_loader),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name(
	    "zone lookup", lookups, load_set, free_set);
	fails +=
	    cmocka_run_group_tests_name("zone loading", loading, NULL, NULL);
	return fails != 0;
}
