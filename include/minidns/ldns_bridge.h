/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ldns_bridge.h - the one place where ldns objects meet minidns's own wire
 * forms.  ldns parses zone files and prints presentation format; the hot
 * path never sees an ldns object.
 */
#ifndef MINIDNS_LDNS_BRIDGE_H
#define MINIDNS_LDNS_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

/* One RR in minidns's flat form; rdata is uncompressed wire rdata. */
struct md_flat_rr {
	uint8_t owner[255];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[65535];
};

/*
 * Flatten an ldns_rr (not freed; the caller keeps it).  Returns 0 or
 * MD_EPARSE when it has no owner or its rdata does not fit.
 */
int md_ldns_rr_flatten(const ldns_rr *rr, struct md_flat_rr *out);

/*
 * Parse one RR in presentation form ("name ttl class type rdata"), with
 * relative names taken from 'origin' (presentation form, may be NULL) and a
 * missing TTL set to 'default_ttl'.  On failure returns MD_EPARSE and
 * copies ldns's reason into err.
 */
int md_ldns_rr_from_str(const char *text, const char *origin,
    uint32_t default_ttl, struct md_flat_rr *out, char *err, size_t errlen);

/*
 * Print an RR from its flat parts in presentation form ("owner ttl IN type
 * rdata" with tabs, as ldns prints it).  Returns a malloc'ed string the
 * caller frees, or NULL.
 */
char *md_ldns_rr_to_str(const uint8_t *owner, uint16_t type, uint16_t rclass,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/* Type mnemonic ("A", "TYPE65534") into buf; returns buf. */
const char *md_ldns_type_str(uint16_t type, char *buf, size_t size);
/* Type mnemonic or TYPEnnn to number; returns 0 or MD_EPARSE. */
int md_ldns_type_parse(const char *s, uint16_t *type);

#endif /* MINIDNS_LDNS_BRIDGE_H */
