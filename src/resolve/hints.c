/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hints.c - the engine's configuration defaults and the root hints: the
 * IANA root servers built in, or a named.root-style file that replaces
 * them (a lab or test hierarchy has roots of its own).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
