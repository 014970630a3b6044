/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tool_rdata.c - the record data minidig and mininslookup print
 * (tools/tool_rdata.c), against the text BIND 9.18's dig prints for the
 * same records: base64/hex blocks (56, 44 under +multiline, +split),
 * +multiline's parentheses, DNSKEY's key-id comment, +nocrypto, NSEC3's
 * empty salt, LOC's sizes and hemispheres, SVCB's keys and escapes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "tool_common.h"
#include "unit.h"

/* The data of 'text' (a master-file record) laid out with 'st'. */
static char *
data_of(const char *text, const struct md_tool_rdata_style *st)
{
	ldns_rr *rr = NULL;
	struct md_tool_rr_text t;
	char *out;

	assert_int_equal(
	    ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(md_tool_rr_text_style(rr, false, st, &t), 0);
	out = strdup(t.rdata);
	md_tool_rr_text_free(&t);
	ldns_rr_free(rr);
	assert_non_null(out);
	return out;
}

static void
expect(const char *text, const struct md_tool_rdata_style *st, const char *want)
{
	char *got = data_of(text, st);

	assert_string_equal(got, want);
	free(got);
}

#define KEY                                                                 \
	"AwEAAdmTNr33iYAPd7nVRm7uglzvMu/nQAGo+rL4EAOsqzkUqvGlsjnBqgfSQnIYm" \
	"gQoBm4Sa4cYZWqtPIeVb81cVybcBYAiR6L6VCY7Y6XfMAIX7GgKP7pHKjOL/3ti7"  \
	"pzwLYM2J3F4fTRXTUxqkpyeJT5fF5Vz63XoXrXgBNJJR+/swLIeR+tQoQVLVE0P1"  \
	"X4qRAa9bpFgBnYxYGq49CshweInDEMbQd8iIYJEjBgSluMCR2xKA1606/4TFunjZ"  \
	"UoY+CSc9ffOebWzvElePY8QizlTi/NMo0Ea8HYgOkoaq5HNpOuHQDbHhhXlZ1dYi"  \
	"A63XBzpZQsL4Pj9879KRwpbGOM="

static void
test_dnskey(void **state)
{
	const struct md_tool_rdata_style line = {.split = -1};
	const struct md_tool_rdata_style ml = {
	    .multiline = true, .split = -1, .rrcomments = true};
	const struct md_tool_rdata_style nocrypto = {
	    .split = -1, .nocrypto = true};
	char *got;

	(void)state;
	/* One line: blocks of 56 characters. */
	got = data_of("k.test. 300 IN DNSKEY 256 3 8 " KEY, &line);
	assert_true(strncmp(got,
			"256 3 8 AwEAAdmTNr33iYAPd7nVRm7uglzvMu/nQAGo+rL4EAOsq"
			"zkUqvGlsjnB qgfSQnIYm",
			74) == 0);
	free(got);
	/* +multiline: 44 a line, the comment with the key id (dig said
	 * 9676 for this key). */
	got = data_of("k.test. 300 IN DNSKEY 256 3 8 " KEY, &ml);
	assert_true(
	    strncmp(got,
		"256 3 8 (\n\t\t\t\tAwEAAdmTNr33iYAPd7nVRm7uglzvMu/nQAGo"
		"+rL4EAOs\n",
		59) == 0);
	assert_non_null(strstr(got,
	    "GOM=\n\t\t\t\t) ; ZSK; alg = RSASHA256 "
	    "; key id = 9676"));
	free(got);
	expect("k.test. 300 IN DNSKEY 256 3 8 " KEY, &nocrypto,
	    "256 3 8 [key id = 9676]");
	/* RFC 5011: the REVOKE bit on a KSK (and a different key id). */
	got = data_of("k.test. 300 IN DNSKEY 385 3 8 " KEY, &ml);
	assert_non_null(strstr(got, ") ; revoked KSK; alg = RSASHA256 ;"));
	free(got);
}

static void
test_ds_split(void **state)
{
	const char *ds =
	    "c.test. 300 IN DS 25062 15 2 "
	    "FA783CD8112242C88B7E740E996E692471C080D115A26CD7C99CE2"
	    "2DC997E9B9";
	const struct md_tool_rdata_style line = {.split = -1};
	const struct md_tool_rdata_style none = {.split = 0};
	const struct md_tool_rdata_style twelve = {.split = 12};
	const struct md_tool_rdata_style ml = {.multiline = true, .split = 0};
	const struct md_tool_rdata_style nocrypto = {
	    .split = -1, .nocrypto = true};

	(void)state;
	expect(ds, &line,
	    "25062 15 2 FA783CD8112242C88B7E740E996E692471C080D115A26CD7C99C"
	    "E22D C997E9B9");
	expect(ds, &none,
	    "25062 15 2 FA783CD8112242C88B7E740E996E692471C080D115A26CD7C99C"
	    "E22DC997E9B9");
	expect(ds, &twelve,
	    "25062 15 2 FA783CD81122 42C88B7E740E 996E692471C0 80D115A26CD7 "
	    "C99CE22DC997 E9B9");
	expect(ds, &ml,
	    "25062 15 2 (\n\t\t\t\tFA783CD8112242C88B7E740E996E692471C080D115"
	    "A26CD7C99CE22DC997E9B9 )");
	expect(ds, &nocrypto, "25062 15 2 [omitted]");
}

static void
test_rrsig(void **state)
{
	const char *sig = "s.test. 300 IN RRSIG A 13 2 300 20370101000000 "
			  "20250101000000 23874 s.test. lIhQdUiXrskfrCCKrGsuJf"
			  "baPfw4PIGtjiPuVGOu7/u/j4kS01w747X3T2kABQZQ90ewNXsyf"
			  "UD7m+eX6kh03w==";
	const struct md_tool_rdata_style ml = {.multiline = true, .split = -1};
	const struct md_tool_rdata_style nocrypto = {
	    .split = -1, .nocrypto = true};

	(void)state;
	expect(sig, &ml,
	    "A 13 2 300 (\n\t\t\t\t20370101000000 20250101000000 23874 "
	    "s.test.\n\t\t\t\tlIhQdUiXrskfrCCKrGsuJfbaPfw4PIGtjiPuVGOu7/u/\n"
	    "\t\t\t\tj4kS01w747X3T2kABQZQ90ewNXsyfUD7m+eX6kh03w== )");
	expect(sig, &nocrypto,
	    "A 13 2 300 20370101000000 20250101000000 23874 s.test. "
	    "[omitted]");
}

static void
test_nsec(void **state)
{
	const struct md_tool_rdata_style line = {.split = -1};
	const struct md_tool_rdata_style ml = {.multiline = true, .split = -1};
	const char *n3 = "x.n.test. 60 IN NSEC3 1 1 0 - "
			 "27FDKAULU67OKHLF62U701HFNN9V56OJ A RRSIG";

	(void)state;
	/* No trailing blank after the bitmap (ldns writes one). */
	expect("a.test. 60 IN NSEC b.test. A RRSIG NSEC", &line,
	    "b.test. A RRSIG NSEC");
	/* RFC 5155 §3.3: an empty salt is "-"; the hash in upper case. */
	expect(n3, &line, "1 1 0 - 27FDKAULU67OKHLF62U701HFNN9V56OJ A RRSIG");
	expect(n3, &ml,
	    "1 1 0 - (\n\t\t\t\t27FDKAULU67OKHLF62U701HFNN9V56OJ\n\t\t\t\tA "
	    "RRSIG )");
	expect("n.test. 0 IN NSEC3PARAM 1 0 5 abcdef", &line, "1 0 5 ABCDEF");
}

static void
test_loc(void **state)
{
	(void)state;
	expect("l.test. 60 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m "
	       "10000m 10m",
	    NULL, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m");
	/* Defaults (1m, 10000m, 10m), whole seconds, south and west. */
	expect("l.test. 60 IN LOC 33 51 S 151 12 45.5 E 10.5m", NULL,
	    "33 51 0.000 S 151 12 45.500 E 10.50m 1m 10000m 10m");
	expect("l.test. 60 IN LOC 42 21 54 N 71 06 18 W -24m 30m 0.1m 0.01m",
	    NULL, "42 21 54.000 N 71 6 18.000 W -24.00m 30m 0.10m 0.01m");
}

static void
test_svcb(void **state)
{
	(void)state;
	expect("s.test. 60 IN HTTPS 1 . alpn=h2,h3 port=8443 "
	       "ipv4hint=192.0.2.1",
	    NULL, "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1");
	expect("s.test. 60 IN HTTPS 2 . mandatory=alpn,port alpn=h3 port=443 "
	       "ipv6hint=2001:db8::1,2001:db8::2 key65000=hello",
	    NULL,
	    "2 . mandatory=alpn,port alpn=\"h3\" port=443 "
	    "ipv6hint=2001:db8::1,2001:db8::2 key65000=\"hello\"");
	/* (A comma inside an alpn value: dig_compare.sh, against dig.) */
	expect("s.test. 60 IN SVCB 1 t.test. alpn=dot no-default-alpn", NULL,
	    "1 t.test. alpn=\"dot\" no-default-alpn");
	expect("s.test. 60 IN HTTPS 0 t.test.", NULL, "0 t.test.");
}

static void
test_tlsa_sshfp(void **state)
{
	const struct md_tool_rdata_style ml = {.multiline = true, .split = -1};

	(void)state;
	expect(
	    "_443._tcp.w.test. 60 IN TLSA 3 1 1 "
	    "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
	    NULL,
	    "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 "
	    "64C5D3D6");
	expect(
	    "h.test. 60 IN SSHFP 1 1 DC8E2D6E39D4A7B7F3CB27AE0B6E33D6C7A2F4A5",
	    &ml, "1 1 (\n\t\t\t\tDC8E2D6E39D4A7B7F3CB27AE0B6E33D6C7A2F4A5 )");
}

static void
test_more_types(void **state)
{
	const struct md_tool_rdata_style ml = {.multiline = true, .split = -1};

	(void)state;
	/* RFC 3597 form, cut as hex; "( ... )" under +multiline. */
	expect(
	    "x.test. 60 IN TYPE65281 \\# 4 0A000001", NULL, "\\# 4 0A000001");
	expect("x.test. 60 IN TYPE65281 \\# 4 0A000001", &ml,
	    "\\# 4 ( 0A000001 )");
	expect("d.test. 60 IN DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVA"
	       "A2kjEA=",
	    &ml,
	    "( AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2k\n\t\t\t\tjEA= ) ; "
	    "2 1 32");
	expect("i.test. 60 IN IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47u"
	       "sntb102uFJtugbo6BSGvgqt4AQ==",
	    &ml,
	    "( 10 1 2 192.0.2.38\n\t\t\t\tAQNRU3mG7TVTO2BkR47usntb102uFJtug"
	    "bo6BSGvgqt4\n\t\t\t\tAQ== )");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dnskey),
	    cmocka_unit_test(test_ds_split),
	    cmocka_unit_test(test_rrsig),
	    cmocka_unit_test(test_nsec),
	    cmocka_unit_test(test_loc),
	    cmocka_unit_test(test_svcb),
	    cmocka_unit_test(test_tlsa_sshfp),
	    cmocka_unit_test(test_more_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
