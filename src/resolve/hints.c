/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hints.c - the engine's configuration defaults and the root hints: the
 * IANA root servers built in, or a named.root-style file that replaces
 * them (a lab or test hierarchy has roots of its own); the root's DNSSEC
 * trust anchors, built in or read from a file, and the names never
 * validated.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/dnssec_nsec.h"
#include "minidns/ldns_bridge.h"
#include "resolve-internal.h"

/* The IANA root servers (named.root of 2023/2024: b moved in 2023). */
static const struct {
	const char *name, *v4, *v6;
} builtin_roots[] = {
    {"a.root-servers.net.", "198.41.0.4", "2001:503:ba3e::2:30"},
    {"b.root-servers.net.", "170.247.170.2", "2801:1b8:10::b"},
    {"c.root-servers.net.", "192.33.4.12", "2001:500:2::c"},
    {"d.root-servers.net.", "199.7.91.13", "2001:500:2d::d"},
    {"e.root-servers.net.", "192.203.230.10", "2001:500:a8::e"},
    {"f.root-servers.net.", "192.5.5.241", "2001:500:2f::f"},
    {"g.root-servers.net.", "192.112.36.4", "2001:500:12::d0d"},
    {"h.root-servers.net.", "198.97.190.53", "2001:500:1::53"},
    {"i.root-servers.net.", "192.36.148.17", "2001:7fe::53"},
    {"j.root-servers.net.", "192.58.128.30", "2001:503:c27::2:30"},
    {"k.root-servers.net.", "193.0.14.129", "2001:7fd::1"},
    {"l.root-servers.net.", "199.7.83.42", "2001:500:9f::42"},
    {"m.root-servers.net.", "202.12.27.33", "2001:dc3::35"},
};

static void
add_hint(struct md_resolve_conf *conf, const uint8_t *name,
    const struct md_sockaddr *sa)
{
	if (conf->nhints >= MD_ROOT_HINTS_MAX)
		return;
	memcpy(conf->hints[conf->nhints].name, name, md_name_len(name));
	conf->hints[conf->nhints].addr = *sa;
	conf->nhints++;
}

/*
 * The root zone's key-signing keys as DS records (IANA root-anchors.xml):
 * KSK-2017 and KSK-2024.  A validator starts its chain of trust here.
 */
static const struct {
	uint16_t key_tag;
	uint8_t alg, digest_type;
	const char *digest; /* hex, SHA-256 */
} builtin_anchors[] = {
    {20326, 8, 2,
	"E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"},
    {38696, 8, 2,
	"683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"},
};

/*
 * Names that are never validated: special-use names (RFC 6761, 6762,
 * 7686, 8375, 9476; internal. as ICANN reserved it) and the reverse zones
 * of private, loopback and link-local addresses.  They cannot be in the
 * signed public tree (the root proves that "local", "test", ... do not
 * exist, and the public in-addr.arpa. delegations for RFC 1918 space are
 * insecure or empty), so a zone under them served locally or forwarded
 * elsewhere (a Kubernetes cluster.local forward to kube-dns, a home.arpa.
 * router, a 10.in-addr.arpa. local zone) must not be judged against the
 * public proof that it is not there: it would be bogus.
 */
static const char *const builtin_insecure[] = {
    "local.",
    "localhost.",
    "test.",
    "invalid.",
    "onion.",
    "home.arpa.",
    "internal.",
    "alt.",
    "10.in-addr.arpa.",
    "16.172.in-addr.arpa.",
    "17.172.in-addr.arpa.",
    "18.172.in-addr.arpa.",
    "19.172.in-addr.arpa.",
    "20.172.in-addr.arpa.",
    "21.172.in-addr.arpa.",
    "22.172.in-addr.arpa.",
    "23.172.in-addr.arpa.",
    "24.172.in-addr.arpa.",
    "25.172.in-addr.arpa.",
    "26.172.in-addr.arpa.",
    "27.172.in-addr.arpa.",
    "28.172.in-addr.arpa.",
    "29.172.in-addr.arpa.",
    "30.172.in-addr.arpa.",
    "31.172.in-addr.arpa.",
    "168.192.in-addr.arpa.",
    "254.169.in-addr.arpa.",
    "127.in-addr.arpa.",
    "d.f.ip6.arpa.",   /* fd00::/8, unique local */
    "8.e.f.ip6.arpa.", /* fe80::/10, link local */
    "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.",
    "b.e.f.ip6.arpa.",
};

_Static_assert(
    sizeof(builtin_insecure) / sizeof(builtin_insecure[0]) < MD_INSECURE_MAX,
    "the built-in insecure names leave no room for domain-insecure");

size_t
md_resolve_builtin_insecure(void)
{
	return sizeof(builtin_insecure) / sizeof(builtin_insecure[0]);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
builtin_dnssec(struct md_resolve_conf *conf)
{
	for (size_t i = 0;
	     i < sizeof(builtin_anchors) / sizeof(builtin_anchors[0]); i++) {
		struct md_trust_anchor *a = &conf->anchors[conf->nanchors++];
		const char *h = builtin_anchors[i].digest;
		size_t n = 0;

		a->zone[0] = 0; /* "." */
		a->type = MD_TYPE_DS;
		a->rdata[n++] = (uint8_t)(builtin_anchors[i].key_tag >> 8);
		a->rdata[n++] = (uint8_t)builtin_anchors[i].key_tag;
		a->rdata[n++] = builtin_anchors[i].alg;
		a->rdata[n++] = builtin_anchors[i].digest_type;
		for (; h[0] != '\0' && h[1] != '\0'; h += 2)
			a->rdata[n++] =
			    (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
		a->rdlen = (uint16_t)n;
	}
	for (size_t i = 0; i < md_resolve_builtin_insecure(); i++) {
		if (md_name_from_str(builtin_insecure[i], NULL,
			conf->insecure[conf->ninsecure]) >= 0)
			conf->ninsecure++;
	}
}

void
md_resolve_conf_init(struct md_resolve_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->qname_minimisation = true;
	conf->allow_private = false;
	conf->use_0x20 = false;
	conf->edns = true;
	conf->edns_size = 1232;
	conf->max_queries = MD_RESOLVE_MAX_QUERIES;
	conf->max_depth = MD_RESOLVE_MAX_DEPTH;
	conf->max_cname = MD_RESOLVE_MAX_CNAME;
	conf->max_ns_names = MD_RESOLVE_MAX_NS_NAMES;
	conf->max_subquery_depth = 4;
	conf->timeout_ms = MD_RESOLVE_TIMEOUT_MS;
	conf->upstream_timeout_ms = 400;
	conf->servfail_ttl = MD_RESOLVE_SERVFAIL_TTL;
	/* DNSSEC: validating from the IANA root's keys (md_config_finish()
	 * turns it off for custom root hints without an anchor). */
	conf->validate = true;
	conf->val_bogus_ttl = MD_VAL_BOGUS_TTL;
	conf->nsec3_max_iterations = MD_NSEC3_MAX_ITERATIONS;
	conf->aggressive_nsec = true; /* RFC 8198: validate.sh measures it */
	builtin_dnssec(conf);
	for (size_t i = 0; i < sizeof(builtin_roots) / sizeof(builtin_roots[0]);
	     i++) {
		uint8_t name[MD_NAME_MAX];
		struct md_sockaddr sa;

		md_name_from_str(builtin_roots[i].name, NULL, name);
		if (md_sockaddr_parse(builtin_roots[i].v4, 53, &sa) == 0)
			add_hint(conf, name, &sa);
		if (md_sockaddr_parse(builtin_roots[i].v6, 53, &sa) == 0)
			add_hint(conf, name, &sa);
	}
}

int
md_resolve_load_hints(
    struct md_resolve_conf *conf, const char *path, char *err, size_t errlen)
{
	uint8_t ns[MD_ROOT_HINTS_MAX][MD_NAME_MAX];
	size_t nns = 0;
	struct md_resolve_conf tmp;
	FILE *fp = fopen(path, "r");
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line = 0, rc = MD_EPARSE;
	struct md_flat_rr *flat = NULL;

	if (fp == NULL) {
		snprintf(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	flat = malloc(sizeof(*flat));
	if (flat == NULL) {
		rc = -ENOMEM;
		goto cleanup;
	}
	tmp = *conf;
	tmp.nhints = 0;
	/* Two passes over the records: first the NS names of the root,
	 * then the addresses of those names. */
	ldns_rr **rrs = NULL;
	size_t nrr = 0;

	while (!feof(fp)) {
		ldns_rr *rr = NULL;
		ldns_status st =
		    ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);

		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errlen, "%s:%d: %s", path, line,
			    ldns_get_errorstr_by_id(st));
			goto free_rrs;
		}
		ldns_rr **v = realloc(rrs, (nrr + 1) * sizeof(*v));

		if (v == NULL) {
			ldns_rr_free(rr);
			goto free_rrs;
		}
		rrs = v;
		rrs[nrr++] = rr;
	}
	for (size_t i = 0; i < nrr; i++) {
		if (md_ldns_rr_flatten(rrs[i], flat) != 0)
			continue;
		if (flat->type == MD_TYPE_NS && flat->owner[0] == 0 &&
		    nns < MD_ROOT_HINTS_MAX)
			memcpy(ns[nns++], flat->rdata, flat->rdlen);
	}
	for (size_t i = 0; i < nrr; i++) {
		struct md_sockaddr sa;

		if (md_ldns_rr_flatten(rrs[i], flat) != 0)
			continue;
		if (flat->type != MD_TYPE_A && flat->type != MD_TYPE_AAAA)
			continue;
		for (size_t j = 0; j < nns; j++) {
			if (!md_name_equal(ns[j], flat->owner))
				continue;
			if (!md_wire_addr_from_rdata(
				flat->type, flat->rdata, flat->rdlen, &sa))
				continue;
			add_hint(&tmp, flat->owner, &sa);
		}
	}
	if (tmp.nhints == 0) {
		snprintf(err, errlen,
		    "%s: no root server addresses (expected NS records of "
		    "\".\" and A/AAAA records of their names)",
		    path);
		goto free_rrs;
	}
	*conf = tmp;
	rc = 0;
free_rrs:
	for (size_t i = 0; i < nrr; i++)
		ldns_rr_free(rrs[i]);
	free(rrs);
cleanup:
	free(flat);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc;
}

/* The length a DS digest of this type has, 0 when we do not know it. */
static size_t
ds_digest_len(uint8_t type)
{
	switch (type) {
	case 1: /* SHA-1 */
		return 20;
	case 2: /* SHA-256 */
		return 32;
	case 4: /* SHA-384 */
		return 48;
	default:
		return 0;
	}
}

/* Is the flat record one we take as an anchor?  NULL, or why not. */
static const char *
anchor_problem(const struct md_flat_rr *rr)
{
	if (rr->rclass != MD_CLASS_IN)
		return "not of class IN";
	if (rr->type == MD_TYPE_DS) {
		size_t want;

		if (rr->rdlen < 5)
			return "DS record too short";
		want = ds_digest_len(rr->rdata[3]);
		if (want != 0 && rr->rdlen != 4 + want)
			return "DS digest has the wrong length for its type";
		return NULL;
	}
	if (rr->type == MD_TYPE_DNSKEY) {
		uint16_t flags;

		if (rr->rdlen < 5)
			return "DNSKEY record too short";
		flags = (uint16_t)(rr->rdata[0] << 8 | rr->rdata[1]);
		if (!(flags & 0x0100))
			return "DNSKEY without the zone key flag (256) "
			       "cannot be a trust anchor";
		if (flags & 0x0080)
			return "DNSKEY has the REVOKE flag (128) set "
			       "(RFC 5011): refused as a trust anchor";
		if (rr->rdata[2] != 3)
			return "DNSKEY protocol is not 3";
		if (rr->rdlen > MD_TRUST_ANCHOR_RDATA_MAX)
			return "DNSKEY too large";
		return NULL;
	}
	return "not a DS or DNSKEY record";
}

int
md_resolve_load_anchors(
    struct md_resolve_conf *conf, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line = 0, rc = MD_EPARSE;
	size_t added = 0, first = conf->nanchors;
	struct md_flat_rr *flat = NULL;

	if (fp == NULL) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	flat = malloc(sizeof(*flat));
	if (flat == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	while (!feof(fp)) {
		ldns_rr *rr = NULL;
		ldns_status st =
		    ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		const char *why;

		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errlen, "%s:%d: %s", path, line,
			    ldns_get_errorstr_by_id(st));
			goto out;
		}
		if (md_ldns_rr_flatten(rr, flat) != 0) {
			ldns_rr_free(rr);
			snprintf(err, errlen, "%s:%d: cannot read record", path,
			    line);
			goto out;
		}
		ldns_rr_free(rr);
		if ((why = anchor_problem(flat)) != NULL) {
			snprintf(err, errlen, "%s:%d: %s", path, line, why);
			goto out;
		}
		if (conf->nanchors >= MD_TRUST_ANCHORS_MAX) {
			snprintf(err, errlen,
			    "%s:%d: more than %d trust anchors", path, line,
			    MD_TRUST_ANCHORS_MAX);
			goto out;
		}
		struct md_trust_anchor *a = &conf->anchors[conf->nanchors];

		memset(a, 0, sizeof(*a));
		memcpy(a->zone, flat->owner, md_name_len(flat->owner));
		md_name_lower(a->zone);
		a->type = flat->type;
		a->rdlen = flat->rdlen;
		memcpy(a->rdata, flat->rdata, flat->rdlen);
		conf->nanchors++;
		added++;
	}
	if (added == 0) {
		snprintf(err, errlen, "%s: no DS or DNSKEY records", path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		conf->nanchors = first;
	free(flat);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc;
}
