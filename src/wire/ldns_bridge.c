/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ldns_bridge.c - converts between ldns objects and minidns's flat RRs.
 * The only file that builds or takes apart an ldns_rr; see ldns_bridge.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minidns/ldns_bridge.h"
#include "minidns/util.h"
#include "minidns/wire.h"

int
md_ldns_rr_flatten(const ldns_rr *rr, struct md_flat_rr *out)
{
	ldns_rdf *owner = ldns_rr_owner(rr);
	ldns_buffer *buf = NULL;
	int rc = MD_EPARSE;

	if (owner == NULL || ldns_rdf_size(owner) > MD_NAME_MAX ||
	    ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME)
		return MD_EPARSE;
	memcpy(out->owner, ldns_rdf_data(owner), ldns_rdf_size(owner));
	out->type = (uint16_t)ldns_rr_get_type(rr);
	out->rclass = (uint16_t)ldns_rr_get_class(rr);
	out->ttl = ldns_rr_ttl(rr);

	buf = ldns_buffer_new(512);
	if (buf == NULL)
		return -ENOMEM;
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK)
		goto cleanup;
	if (ldns_buffer_position(buf) > sizeof(out->rdata))
		goto cleanup;
	out->rdlen = (uint16_t)ldns_buffer_position(buf);
	memcpy(out->rdata, ldns_buffer_begin(buf), out->rdlen);
	rc = 0;
cleanup:
	ldns_buffer_free(buf);
	return rc;
}

int
md_ldns_rr_from_str(const char *text, const char *origin, uint32_t default_ttl,
    struct md_flat_rr *out, char *err, size_t errlen)
{
	ldns_rr *rr = NULL;
	ldns_rdf *orig = NULL;
	ldns_status st;
	int rc = MD_EPARSE;

	if (origin != NULL) {
		orig = ldns_dname_new_frm_str(origin);
		if (orig == NULL) {
			snprintf(err, errlen, "bad origin '%s'", origin);
			return MD_EPARSE;
		}
	}
	st = ldns_rr_new_frm_str(&rr, text, default_ttl, orig, NULL);
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s", ldns_get_errorstr_by_id(st));
		goto cleanup;
	}
	if (md_ldns_rr_flatten(rr, out) != 0) {
		snprintf(err, errlen, "record does not fit in a DNS message");
		goto cleanup;
	}
	rc = 0;
cleanup:
	ldns_rr_free(rr);
	ldns_rdf_deep_free(orig);
	return rc;
}

char *
md_ldns_rr_to_str(const uint8_t *owner, uint16_t type, uint16_t rclass,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	/* Let ldns parse a tiny one-RR message section: simplest exact path. */
	size_t olen = md_name_len(owner);
	size_t len = olen + 10 + rdlen;
	uint8_t *wire = NULL;
	ldns_rr *rr = NULL;
	char *s = NULL;
	size_t pos = 0;

	if (olen == 0)
		return NULL;
	wire = malloc(len);
	if (wire == NULL)
		return NULL;
	memcpy(wire, owner, olen);
	md_write_u16(wire + olen, type);
	md_write_u16(wire + olen + 2, rclass);
	md_write_u32(wire + olen + 4, ttl);
	md_write_u16(wire + olen + 8, rdlen);
	memcpy(wire + olen + 10, rdata, rdlen);
	if (ldns_wire2rr(&rr, wire, len, &pos, LDNS_SECTION_ANSWER) ==
	    LDNS_STATUS_OK)
		s = ldns_rr2str(rr);
	ldns_rr_free(rr);
	free(wire);
	if (s != NULL) {
		size_t sl = strlen(s);

		while (sl > 0 && (s[sl - 1] == '\n' || s[sl - 1] == ' '))
			s[--sl] = '\0';
	}
	return s;
}

const char *
md_ldns_type_str(uint16_t type, char *buf, size_t size)
{
	char *s = ldns_rr_type2str((ldns_rr_type)type);

	md_strlcpy(buf, s != NULL ? s : "?", size);
	free(s);
	return buf;
}

int
md_ldns_type_parse(const char *s, uint16_t *type)
{
	ldns_rr_type t = ldns_get_rr_type_by_name(s);

	if (t == 0 && strncasecmp(s, "TYPE", 4) != 0)
		return MD_EPARSE;
	if (t == 0) {
		long long v;

		if (md_parse_int(s + 4, 0, 65535, &v) != 0)
			return MD_EPARSE;
		t = (ldns_rr_type)v;
	}
	*type = (uint16_t)t;
	return 0;
}
