/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dnssec_signed.c - the DNSSEC signature checks (val_crypto.c)
 * against a real signer: a small zone (mixed-case names, MX/SRV/SOA/NS
 * targets, a wildcard, TXT, CNAME) is signed at test time by ldns-signzone
 * with a fresh key of each algorithm (NSEC, and NSEC3 for one), the
 * signed file read back with ldns, and every RRset must verify against
 * the zone's DNSKEY set; the wildcard's RRSIG must verify for a name it
 * expands to; a changed record must not.  Skipped (77) without
 * ldns-keygen/ldns-signzone (Debian's ldnsutils).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "minidns/dnssec.h"
#include "minidns/resolve.h"
#include "minidns/wire.h"

#define NOW 1767225600u /* 2026-01-01, inside -i 2025 .. -e 2037 */

static const char zone_text[] =
    "$ORIGIN example.test.\n"
    "$TTL 300\n"
    "@ IN SOA NS1.Example.Test. HostMaster.example.test. 1 7200 3600 "
    "1209600 300\n"
    "@ IN NS ns1.EXAMPLE.test.\n"
    "@ IN MX 10 Mail.Example.TEST.\n"
    "@ IN MX 20 backup.example.test.\n"
    "ns1 IN A 192.0.2.53\n"
    "Mail IN A 192.0.2.25\n"
    "Mail IN A 192.0.2.26\n"
    "backup IN AAAA 2001:db8::25\n"
    "www IN CNAME Mail.example.test.\n"
    "_sip._tcp IN SRV 0 5 5060 SIP.example.test.\n"
    "sip IN A 192.0.2.60\n"
    "txt IN TXT \"Hello World\" \"second\"\n"
    "*.w IN A 192.0.2.99\n"
    "*.w IN TXT \"wild\"\n";

struct rrs {
	ldns_rr_list *all;
};

static int failures;

static void
check(bool ok, const char *what, const char *detail)
{
	if (!ok) {
		failures++;
		fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "",
		    detail ? detail : "");
	}
}

/* The rdata of the RRs of list with this owner and type (or, for RRSIG,
 * covering this type) as [u16 len][rdata]...; the count. */
static uint16_t
collect(ldns_rr_list *list, const ldns_rdf *owner, ldns_rr_type type, bool sigs,
    ldns_buffer *out)
{
	uint16_t n = 0;

	ldns_buffer_clear(out);
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		ldns_rr *rr = ldns_rr_list_rr(list, i);
		size_t at;
		if (ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (sigs) {
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG ||
			    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) !=
				type)
				continue;
		} else if (ldns_rr_get_type(rr) != type) {
			continue;
		}
		at = ldns_buffer_position(out);
		ldns_buffer_write_u16(out, 0);
		if (ldns_rr_rdata2buffer_wire(out, rr) != LDNS_STATUS_OK)
			abort();
		ldns_buffer_write_u16_at(
		    out, at, (uint16_t)(ldns_buffer_position(out) - at - 2));
		n++;
	}
	return n;
}

/* Sign the zone with one key and check every RRset. */
static void
run(const char *dir, const char *alg, const char *bits, bool nsec3,
    uint8_t algnum)
{
	char cmd[1024], key[256], label[64], path[512];
	FILE *p, *f;
	ldns_zone *z = NULL;
	ldns_rr_list *all;
	ldns_rdf *apex;
	ldns_buffer *keys, *data, *sigs;
	unsigned sets = 0;
	struct md_dnssec_verdict vd;

	snprintf(label, sizeof(label), "%s%s", alg, nsec3 ? " NSEC3" : "");
	snprintf(cmd, sizeof(cmd),
	    "cd %s && ldns-keygen -a %s %s%s example.test", dir, alg,
	    bits ? "-b " : "", bits ? bits : "");
	p = popen(cmd, "r");
	if (!p || !fgets(key, sizeof(key), p)) {
		check(false, label, "ldns-keygen failed");
		if (p)
			pclose(p);
		return;
	}
	pclose(p);
	key[strcspn(key, "\n")] = 0;
	snprintf(cmd, sizeof(cmd),
	    "cd %s && ldns-signzone %s -e 20370101000000 -i 20250101000000 "
	    "-f signed zone %s",
	    dir, nsec3 ? "-n -a 1 -t 0" : "", key);
	if (system(cmd) != 0) {
		check(false, label, "ldns-signzone failed");
		return;
	}
	snprintf(path, sizeof(path), "%s/signed", dir);
	f = fopen(path, "r");
	if (!f ||
	    ldns_zone_new_frm_fp(&z, f, NULL, 0, LDNS_RR_CLASS_IN) !=
		LDNS_STATUS_OK) {
		check(false, label, "signed zone unreadable");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	all = ldns_rr_list_clone(ldns_zone_rrs(z));
	ldns_rr_list_push_rr(all, ldns_rr_clone(ldns_zone_soa(z)));
	apex = ldns_rr_owner(ldns_zone_soa(z));
	keys = ldns_buffer_new(4096);
	data = ldns_buffer_new(4096);
	sigs = ldns_buffer_new(4096);
	struct md_dnssec_rrset kset = {
	    .owner = ldns_rdf_data(apex), .type = MD_TYPE_DNSKEY};
	kset.count = collect(all, apex, LDNS_RR_TYPE_DNSKEY, false, keys);
	kset.rdata = ldns_buffer_begin(keys);
	kset.rdata_len = (uint32_t)ldns_buffer_position(keys);
	check(kset.count >= 1, label, "no DNSKEY");

	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *rr = ldns_rr_list_rr(all, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		bool first = true;
		char *name;
		/* each (owner, type) once: at its first RR */
		for (size_t j = 0; j < i; j++) {
			ldns_rr *o = ldns_rr_list_rr(all, j);
			if (ldns_rr_get_type(o) == t &&
			    ldns_dname_compare(
				ldns_rr_owner(o), ldns_rr_owner(rr)) == 0)
				first = false;
		}
		if (!first || t == LDNS_RR_TYPE_RRSIG)
			continue;
		struct md_dnssec_rrset set = {
		    .owner = ldns_rdf_data(ldns_rr_owner(rr)),
		    .type = (uint16_t)t};
		set.count = collect(all, ldns_rr_owner(rr), t, false, data);
		set.rdata = ldns_buffer_begin(data);
		set.rdata_len = (uint32_t)ldns_buffer_position(data);
		struct md_dnssec_rrset sset = {
		    .owner = set.owner, .type = MD_TYPE_RRSIG};
		sset.count = collect(all, ldns_rr_owner(rr), t, true, sigs);
		sset.rdata = ldns_buffer_begin(sigs);
		sset.rdata_len = (uint32_t)ldns_buffer_position(sigs);
		md_dnssec_verify_rrset(&set, &sset, &kset, NOW, NULL, &vd);
		name = ldns_rdf2str(ldns_rr_owner(rr));
		if (vd.result != MD_DNSSEC_SECURE || vd.algorithm != algnum)
			fprintf(stderr, "  %s %s type %u: %s\n", label, name,
			    (unsigned)t, vd.reason);
		check(vd.result == MD_DNSSEC_SECURE, label, "an RRset");
		sets++;

		if (t == LDNS_RR_TYPE_A && name &&
		    strcmp(name, "*.w.example.test.") == 0) {
			/* the wildcard's RRSIG for a name it expands to */
			uint8_t exp[MD_NAME_MAX];
			check(md_name_from_str(
				  "a.b.w.EXAMPLE.test.", NULL, exp) > 0,
			    label, "name");
			set.owner = exp;
			md_dnssec_verify_rrset(
			    &set, &sset, &kset, NOW, NULL, &vd);
			check(vd.result == MD_DNSSEC_SECURE && vd.wildcard &&
				vd.labels == 3,
			    label, "wildcard expansion");
			/* a changed address */
			ldns_buffer_begin(data)[5] ^= 1;
			md_dnssec_verify_rrset(
			    &set, &sset, &kset, NOW, NULL, &vd);
			check(vd.result == MD_DNSSEC_BOGUS &&
				vd.ede == MD_EDE_DNSSEC_BOGUS,
			    label, "changed data");
		}
		free(name);
	}
	printf("%s: %u RRsets checked\n", label, sets);
	check(sets >= 14, label, "too few RRsets");
	ldns_buffer_free(keys);
	ldns_buffer_free(data);
	ldns_buffer_free(sigs);
	ldns_rr_list_deep_free(all);
	ldns_zone_deep_free(z);
	snprintf(cmd, sizeof(cmd), "rm -f %s/K* %s/signed", dir, dir);
	if (system(cmd) != 0)
		check(false, label, "cleanup");
}

int
main(void)
{
	char dir[] = "/tmp/md-dnssec-XXXXXX", path[64], cmd[128];
	FILE *f;

	if (system("command -v ldns-signzone >/dev/null 2>&1 && "
		   "command -v ldns-keygen >/dev/null 2>&1") != 0) {
		printf("SKIP: ldns-keygen/ldns-signzone not installed\n");
		return 77;
	}
	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/zone", dir);
	f = fopen(path, "w");
	if (!f || fputs(zone_text, f) < 0 || fclose(f) != 0)
		return 99;
	run(dir, "RSASHA256", "1024", false, 8);
	run(dir, "RSASHA512", "1024", false, 10);
	run(dir, "ECDSAP256SHA256", NULL, false, 13);
	run(dir, "ECDSAP256SHA256", NULL, true, 13);
	run(dir, "ECDSAP384SHA384", NULL, false, 14);
	run(dir, "ED25519", NULL, false, 15);
	run(dir, "ED448", NULL, false, 16);
	if (md_dnssec_algorithm_supported(MD_DNSSEC_ALG_RSASHA1))
		run(dir, "RSASHA1", "1024", false, 5);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		failures++;
	printf("%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
