/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_yaml.c - the YAML zone format, for people who prefer it to RFC 1035
 * master files:
 *
 *   origin: example.test.      # required unless the config gives it
 *   ttl: 300                   # default TTL, optional (3600)
 *   records:
 *     - { name: www, type: A, data: 192.0.2.10, ttl: 60 }
 *
 * 'data' is the record's presentation form, parsed by ldns exactly as in a
 * zone file, so every type ldns knows is available.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/ldns_bridge.h"
#include "minidns/yaml_doc.h"
#include "zone-internal.h"

struct md_zone *md_zone_load_yaml(
    const struct md_zone_source *src, char *err, size_t errlen);

/* Read one record mapping into its parts; returns 0 or MD_EPARSE. */
static int
read_record(struct md_yaml *y, yaml_node_t *rec, const char **name,
    const char **type, const char **data, long long *ttl, char *err,
    size_t errlen)
{
	*name = *type = *data = NULL;
	*ttl = -1;
	if (rec->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "%s:%u: a record must be a mapping",
		    y->file, md_yaml_line(rec));
		return MD_EPARSE;
	}
	for (yaml_node_pair_t *p = rec->data.mapping.pairs.start;
	     p < rec->data.mapping.pairs.top; p++) {
		yaml_node_t *k = md_yaml_node(y, p->key);
		yaml_node_t *v = md_yaml_node(y, p->value);
		const char *key = md_yaml_scalar(k);
		const char *val = md_yaml_scalar(v);

		if (key == NULL || val == NULL) {
			snprintf(err, errlen,
			    "%s:%u: %s: value must be a scalar", y->file,
			    md_yaml_line(k), key ? key : "?");
			return MD_EPARSE;
		}
		if (strcmp(key, "name") == 0) {
			*name = val;
		} else if (strcmp(key, "type") == 0) {
			*type = val;
		} else if (strcmp(key, "data") == 0) {
			*data = val;
		} else if (strcmp(key, "ttl") == 0) {
			if (md_parse_int(val, 0, 0x7fffffff, ttl) != 0) {
				snprintf(err, errlen,
				    "%s:%u: ttl: '%s' is not a TTL "
				    "(0..2147483647 seconds)",
				    y->file, md_yaml_line(v), val);
				return MD_EPARSE;
			}
		} else {
			snprintf(err, errlen,
			    "%s:%u: %s: unknown key (expected name, type, "
			    "data, ttl)",
			    y->file, md_yaml_line(k), key);
			return MD_EPARSE;
		}
	}
	if (*name == NULL || *type == NULL || *data == NULL) {
		snprintf(err, errlen, "%s:%u: %s: missing key", y->file,
		    md_yaml_line(rec),
		    *name == NULL	? "name"
			: *type == NULL ? "type"
					: "data");
		return MD_EPARSE;
	}
	return 0;
}

struct md_zone *
md_zone_load_yaml(const struct md_zone_source *src, char *err, size_t errlen)
{
	struct md_yaml y;
	yaml_node_t *root, *records = NULL;
	const char *origin = src->origin;
	long long default_ttl = 3600;
	struct md_flat_rr *flat = NULL;
	struct md_zone *z = NULL;
	uint8_t zorigin[MD_NAME_MAX];
	unsigned origin_line = 1;

	if (md_yaml_load(&y, src->file, src->text,
		src->text ? strlen(src->text) : 0, err, errlen) != 0)
		return NULL;
	if (md_yaml_check_unique_keys(&y, err, errlen) != 0)
		goto fail;
	root = md_yaml_root(&y);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen,
		    "%s:1: a YAML zone is a mapping with "
		    "origin, ttl and records",
		    src->file);
		goto fail;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = md_yaml_node(&y, p->key);
		yaml_node_t *v = md_yaml_node(&y, p->value);
		const char *key = md_yaml_scalar(k);
		const char *val = md_yaml_scalar(v);

		if (key != NULL && strcmp(key, "records") == 0 &&
		    v->type == YAML_SEQUENCE_NODE) {
			records = v;
		} else if (key != NULL && strcmp(key, "origin") == 0 &&
		    val != NULL) {
			if (src->origin == NULL)
				origin = val;
			origin_line = md_yaml_line(v);
		} else if (key != NULL && strcmp(key, "ttl") == 0 &&
		    val != NULL) {
			if (md_parse_int(val, 0, 0x7fffffff, &default_ttl) !=
			    0) {
				snprintf(err, errlen,
				    "%s:%u: ttl: '%s' is not a TTL", src->file,
				    md_yaml_line(v), val);
				goto fail;
			}
		} else {
			snprintf(err, errlen,
			    "%s:%u: %s: unknown key or wrong kind of value "
			    "(expected origin, ttl, records: [...])",
			    src->file, md_yaml_line(k), key ? key : "?");
			goto fail;
		}
	}
	if (origin == NULL || md_name_from_str(origin, NULL, zorigin) < 0) {
		snprintf(err, errlen, "%s:%u: origin: %s", src->file,
		    origin_line, origin ? "not a domain name" : "missing");
		goto fail;
	}
	if (records == NULL) {
		snprintf(err, errlen, "%s:1: records: missing", src->file);
		goto fail;
	}
	z = md_zone_new(zorigin);
	flat = malloc(sizeof(*flat));
	if (z == NULL || flat == NULL) {
		snprintf(err, errlen, "%s: out of memory", src->file);
		goto fail;
	}
	char originstr[MD_NAME_STRLEN];

	md_name_to_str(zorigin, originstr, sizeof(originstr));
	for (yaml_node_item_t *it = records->data.sequence.items.start;
	     it < records->data.sequence.items.top; it++) {
		yaml_node_t *rec = md_yaml_node(&y, *it);
		const char *name, *type, *data;
		long long ttl;
		char text[4096], why[512];

		if (read_record(
			&y, rec, &name, &type, &data, &ttl, err, errlen) != 0)
			goto fail;
		if (ttl < 0)
			ttl = default_ttl;
		snprintf(text, sizeof(text), "%s %lld IN %s %s", name, ttl,
		    type, data);
		if (md_ldns_rr_from_str(text, originstr, (uint32_t)ttl, flat,
			why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%u: %s %s: %s", src->file,
			    md_yaml_line(rec), name, type, why);
			goto fail;
		}
		if (md_zone_add_rr(z, flat->owner, flat->type, flat->ttl,
			flat->rdata, flat->rdlen, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%u: %s", src->file,
			    md_yaml_line(rec), why);
			goto fail;
		}
	}
	{
		char why[512];

		if (md_zone_check(z, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:1: %s", src->file, why);
			goto fail;
		}
	}
	free(flat);
	md_yaml_free(&y);
	return z;
fail:
	free(flat);
	md_zone_free(z);
	md_yaml_free(&y);
	return NULL;
}
