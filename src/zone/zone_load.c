/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_load.c - read RFC 1035 zone files (parsed by ldns) into a zone, and
 * build a snapshot of all configured zones, with PTR records made for
 * reverse zones marked auto_ptr.  YAML zones are zone_yaml.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/ldns_bridge.h"
#include "zone-internal.h"

/*
 * RFC 1035 §5.1: parentheses carry a record over several lines.  One left
 * open swallows the rest of the file into one record, which ldns accepts
 * without a word (the records after it vanish): an error at the line of
 * the '(' here, as a ')' without one is.  Quoted strings, escapes and
 * comments are skipped.
 */
static int
check_parens(const char *text, const char *file, char *err, size_t errlen)
{
	unsigned line = 1, open_line = 0, depth = 0;
	bool quoted = false;

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (*p == '\\' && p[1] != '\0') {
			p++;
			line += *p == '\n';
			continue;
		}
		if (quoted) {
			quoted = *p != '"';
			continue;
		}
		if (*p == '"') {
			quoted = true;
		} else if (*p == ';') {
			while (p[1] != '\0' && p[1] != '\n')
				p++;
		} else if (*p == '(') {
			if (depth++ == 0)
				open_line = line;
		} else if (*p == ')') {
			if (depth == 0) {
				snprintf(err, errlen, "%s:%u: ')' without '('",
				    file, line);
				return MD_EPARSE;
			}
			depth--;
		}
	}
	if (depth > 0) {
		snprintf(
		    err, errlen, "%s:%u: '(' is never closed", file, open_line);
		return MD_EPARSE;
	}
	return 0;
}

struct md_zone *md_zone_load_yaml(
    const struct md_zone_source *src, char *err, size_t errlen);

struct parsed_rr {
	ldns_rr *rr;
	int line;
};

static void
free_parsed(struct parsed_rr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ldns_rr_free(v[i].rr);
	free(v);
}

/* Reads a whole file into a NUL-terminated string; NULL with errno. */
static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(fp);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, fp);

		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		errno = EIO;
		return NULL;
	}
	fclose(fp);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		errno = EINVAL; /* a NUL byte: not a zone file */
		return NULL;
	}
	return buf;
}

/* Line numbers by offset, counted once through the text. */
struct line_counter {
	const char *text;
	size_t pos;
	int line;
};

/* The line of the first token at or after offset 'from'. */
static int
start_line(struct line_counter *lc, size_t from)
{
	const char *p = lc->text + from;

	/* Skip blanks and comments before the record. */
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p != ';')
			break;
		while (*p != '\0' && *p != '\n')
			p++;
	}
	size_t to = (size_t)(p - lc->text);

	if (to < lc->pos) { /* never: ldns reads forward only */
		lc->pos = 0;
		lc->line = 1;
	}
	for (; lc->pos < to; lc->pos++) {
		if (lc->text[lc->pos] == '\n')
			lc->line++;
	}
	return lc->line;
}

static struct md_zone *
load_rfc1035(const struct md_zone_source *src, char *err, size_t errlen)
{
	struct parsed_rr *rrs = NULL;
	size_t nrr = 0, cap = 0;
	struct md_flat_rr *flat = NULL;
	struct md_zone *z = NULL;
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t default_ttl = 3600;
	int line = 1, ldns_line = 0;
	FILE *fp;
	const char *text;
	char *owned = NULL;
	uint8_t zorigin[MD_NAME_MAX];

	struct line_counter lc;

	if (src->text != NULL) {
		text = src->text;
	} else {
		owned = read_file(src->file);
		if (owned == NULL) {
			snprintf(err, errlen, "%s: cannot read: %s", src->file,
			    strerror(errno));
			return NULL;
		}
		text = owned;
	}
	if (check_parens(text, src->file, err, errlen) != 0) {
		free(owned);
		return NULL;
	}
	fp = fmemopen((void *)text, strlen(text), "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", src->file,
		    strerror(errno));
		free(owned);
		return NULL;
	}
	lc.text = text;
	lc.pos = 0;
	lc.line = 1;
	if (src->origin != NULL) {
		origin = ldns_dname_new_frm_str(src->origin);
		if (origin == NULL) {
			snprintf(err, errlen, "%s: bad origin '%s'", src->file,
			    src->origin);
			goto fail;
		}
	}
	while (!feof(fp)) {
		ldns_rr *rr = NULL;
		long start = ftell(fp);
		ldns_status st = ldns_rr_new_frm_fp_l(
		    &rr, fp, &default_ttl, &origin, &prev, &ldns_line);

		/* ldns counts the lines it consumed, which can run past the
		 * record; report the line where the record starts. */
		line = start_line(&lc, start < 0 ? 0 : (size_t)start);

		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
			snprintf(err, errlen,
			    "%s:%d: $INCLUDE is not supported", src->file,
			    line);
			goto fail;
		}
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errlen, "%s:%d: %s", src->file, line,
			    ldns_get_errorstr_by_id(st));
			goto fail;
		}
		if (nrr == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct parsed_rr *v = realloc(rrs, nc * sizeof(*v));

			if (v == NULL) {
				ldns_rr_free(rr);
				snprintf(err, errlen, "%s: out of memory",
				    src->file);
				goto fail;
			}
			rrs = v;
			cap = nc;
		}
		rrs[nrr].rr = rr;
		rrs[nrr].line = line;
		nrr++;
	}

	/* The origin: given, else the owner of the SOA record. */
	if (src->origin != NULL) {
		if (md_name_from_str(src->origin, NULL, zorigin) < 0) {
			snprintf(err, errlen, "%s: bad origin '%s'", src->file,
			    src->origin);
			goto fail;
		}
	} else {
		size_t i;

		for (i = 0; i < nrr; i++) {
			if (ldns_rr_get_type(rrs[i].rr) == LDNS_RR_TYPE_SOA)
				break;
		}
		if (i == nrr) {
			snprintf(err, errlen,
			    "%s:%d: no SOA record, so the zone's origin is "
			    "unknown",
			    src->file, line);
			goto fail;
		}
		ldns_rdf *o = ldns_rr_owner(rrs[i].rr);

		memcpy(zorigin, ldns_rdf_data(o), ldns_rdf_size(o));
	}
	z = md_zone_new(zorigin);
	flat = malloc(sizeof(*flat));
	if (z == NULL || flat == NULL) {
		snprintf(err, errlen, "%s: out of memory", src->file);
		goto fail;
	}
	for (size_t i = 0; i < nrr; i++) {
		char why[512];

		if (ldns_rr_get_class(rrs[i].rr) != LDNS_RR_CLASS_IN) {
			snprintf(err, errlen, "%s:%d: only class IN is served",
			    src->file, rrs[i].line);
			goto fail;
		}
		if (md_ldns_rr_flatten(rrs[i].rr, flat) != 0) {
			snprintf(err, errlen, "%s:%d: record too large",
			    src->file, rrs[i].line);
			goto fail;
		}
		if (md_zone_add_rr(z, flat->owner, flat->type, flat->ttl,
			flat->rdata, flat->rdlen, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", src->file,
			    rrs[i].line, why);
			goto fail;
		}
	}
	{
		char why[512];

		if (md_zone_check(z, why, sizeof(why)) != 0) {
			snprintf(
			    err, errlen, "%s:%d: %s", src->file, line, why);
			goto fail;
		}
	}
	z->auto_ptr = src->auto_ptr;
	free(flat);
	free_parsed(rrs, nrr);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	free(owned);
	return z;
fail:
	free(flat);
	md_zone_free(z);
	free_parsed(rrs, nrr);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	free(owned);
	return NULL;
}

static bool
is_yaml_name(const char *file)
{
	const char *dot = strrchr(file, '.');

	return dot != NULL &&
	    (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0);
}

/* auto-ptr makes PTR records, which live under in-addr.arpa (RFC 1035
 * §3.5) and ip6.arpa (RFC 3596 §2.5) only. */
static bool
is_reverse_zone(const uint8_t *origin)
{
	static const uint8_t v4[] = "\7in-addr\4arpa";
	static const uint8_t v6[] = "\3ip6\4arpa";

	return md_name_is_subdomain(origin, v4) ||
	    md_name_is_subdomain(origin, v6);
}

struct md_zone *
md_zone_load(const struct md_zone_source *src, char *err, size_t errlen)
{
	struct md_zone *z;
	enum md_zone_format f = src->format;

	/* A file that cannot be opened is the configuration entry's
	 * problem: name the entry (the loaders name only the file). */
	if (src->text == NULL && src->where != NULL) {
		FILE *fp = fopen(src->file, "re");

		if (fp == NULL) {
			snprintf(err, errlen, "%s%s%s: cannot read: %s",
			    src->where,
			    src->where[0] == '-' ? ": " : ": zones: ",
			    src->file, strerror(errno));
			return NULL;
		}
		fclose(fp);
	}
	if (f == MD_ZONE_FORMAT_AUTO)
		f = is_yaml_name(src->file) ? MD_ZONE_FORMAT_YAML
					    : MD_ZONE_FORMAT_RFC1035;
	if (f == MD_ZONE_FORMAT_YAML)
		z = md_zone_load_yaml(src, err, errlen);
	else
		z = load_rfc1035(src, err, errlen);
	if (z == NULL)
		return NULL;
	if (src->auto_ptr && !is_reverse_zone(z->origin)) {
		char name[MD_NAME_STRLEN];

		md_name_to_str(z->origin, name, sizeof(name));
		snprintf(err, errlen,
		    "%s: auto-ptr: zone %s is not under in-addr.arpa or "
		    "ip6.arpa (PTR records belong in reverse zones)",
		    src->where ? src->where : src->file, name);
		md_zone_free(z);
		return NULL;
	}
	z->auto_ptr = src->auto_ptr;
	return z;
}

/* ---- automatic PTR records --------------------------------------------- */

/* The reverse name of an IPv4 or IPv6 address (RFC 1035 §3.5, RFC 3596). */
static void
reverse_name(uint16_t type, const uint8_t *addr, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t pos = 0;

	if (type == MD_TYPE_A) {
		for (int i = 3; i >= 0; i--) {
			char num[4];
			int l = snprintf(num, sizeof(num), "%u", addr[i]);

			out[pos++] = (uint8_t)l;
			memcpy(out + pos, num, (size_t)l);
			pos += (size_t)l;
		}
		memcpy(out + pos, "\7in-addr\4arpa", 14);
	} else {
		for (int i = 15; i >= 0; i--) {
			out[pos++] = 1;
			out[pos++] = (uint8_t)hex[addr[i] & 0xf];
			out[pos++] = 1;
			out[pos++] = (uint8_t)hex[addr[i] >> 4];
		}
		memcpy(out + pos, "\3ip6\4arpa", 10);
	}
}

struct ptr_candidate {
	uint8_t rev[MD_NAME_MAX];
	const uint8_t *target;
	uint32_t ttl;
};

static int
cmp_candidate(const void *a, const void *b)
{
	const struct ptr_candidate *x = a, *y = b;
	int c = memcmp(x->rev, y->rev, MD_NAME_MAX);
	unsigned lx, ly;

	if (c != 0)
		return c;
	/* For one address, the most specific name wins: a headless
	 * service's endpoint hostname before the service name. */
	lx = md_name_labels(x->target);
	ly = md_name_labels(y->target);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return memcmp(x->target, y->target,
	    md_name_len(x->target) < md_name_len(y->target)
		? md_name_len(x->target)
		: md_name_len(y->target));
}

/* Collect (reverse name, host name) pairs of src that fall inside rz. */
static int
collect_ptrs(const struct md_zone *rz, const struct md_zone *src,
    struct ptr_candidate **v, size_t *n, size_t *cap)
{
	struct md_hashtab_iter it;
	struct md_hnode *hn;

	md_hashtab_iter_init(&it, &src->nodes);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		const struct md_node *nd =
		    MD_HNODE_ENTRY(hn, struct md_node, hn);

		/* A wildcard owner names no host. */
		if (nd->name[0] == 1 && nd->name[1] == '*')
			continue;
		for (const struct md_rrset *s = nd->rrsets; s != NULL;
		     s = s->next) {
			const uint8_t *p, *rd;
			uint16_t len;

			if (s->type != MD_TYPE_A && s->type != MD_TYPE_AAAA)
				continue;
			for (p = NULL;
			     (p = md_rrset_next(s, p, &len, &rd)) != NULL;) {
				struct ptr_candidate c;

				if (len != (s->type == MD_TYPE_A ? 4 : 16))
					continue;
				memset(c.rev, 0, sizeof(c.rev));
				reverse_name(s->type, rd, c.rev);
				if (!md_name_is_subdomain(c.rev, rz->origin))
					continue;
				c.target = nd->name;
				c.ttl = s->ttl;
				if (*n == *cap) {
					size_t nc = *cap ? *cap * 2 : 64;
					struct ptr_candidate *nv =
					    realloc(*v, nc * sizeof(**v));

					if (nv == NULL)
						return -ENOMEM;
					*v = nv;
					*cap = nc;
				}
				(*v)[(*n)++] = c;
			}
		}
	}
	return 0;
}

/*
 * Give reverse zone rz one PTR per address held by the other zones.  Names
 * that already have a PTR in rz's own data keep it.
 */
static int
fill_ptrs(struct md_zone_set *zs, struct md_zone *rz, char *err, size_t errlen)
{
	struct ptr_candidate *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t j = 0; j < zs->count; j++) {
		if (zs->zones[j] != rz &&
		    collect_ptrs(rz, zs->zones[j], &v, &n, &cap) != 0) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto cleanup;
		}
	}
	/* No candidate: v is NULL, which qsort() must not be given (UBSan,
	 * found by fuzz_zone_yaml). */
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_candidate);
	for (size_t i = 0; i < n; i++) {
		const struct md_node *have;

		if (i > 0 && memcmp(v[i].rev, v[i - 1].rev, MD_NAME_MAX) == 0)
			continue;
		have = md_zone_find_node(rz, v[i].rev);
		if (have != NULL && md_node_rrset(have, MD_TYPE_PTR) != NULL)
			continue;
		rc = md_zone_add_rr(rz, v[i].rev, MD_TYPE_PTR, v[i].ttl,
		    v[i].target, (uint16_t)md_name_len(v[i].target), err,
		    errlen);
		if (rc != 0)
			goto cleanup;
	}
cleanup:
	free(v);
	return rc;
}

struct md_zone_set *
md_zone_set_load(
    const struct md_zone_source *srcs, size_t n, char *err, size_t errlen)
{
	struct md_zone_set *zs = md_zone_set_new_empty();

	if (zs == NULL)
		goto nomem;
	zs->zones = calloc(n ? n : 1, sizeof(*zs->zones));
	if (zs->zones == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		struct md_zone *z = md_zone_load(&srcs[i], err, errlen);

		if (z == NULL)
			goto fail;
		for (size_t j = 0; j < zs->count; j++) {
			if (md_name_equal(zs->zones[j]->origin, z->origin)) {
				char name[MD_NAME_STRLEN];

				md_name_to_str(z->origin, name, sizeof(name));
				snprintf(err, errlen,
				    "%s: zone %s is loaded twice (also from "
				    "%s)",
				    srcs[i].file, name, srcs[j].file);
				md_zone_free(z);
				goto fail;
			}
		}
		zs->zones[zs->count++] = z;
	}
	for (size_t i = 0; i < zs->count; i++) {
		char why[512];

		if (!zs->zones[i]->auto_ptr)
			continue;
		if (fill_ptrs(zs, zs->zones[i], why, sizeof(why)) != 0) {
			snprintf(
			    err, errlen, "%s: auto-ptr: %s", srcs[i].file, why);
			goto fail;
		}
	}
	if (md_hashtab_buckets(&zs->index) == 0 && zs->count > 0)
		md_zone_set_reindex(zs);
	return zs;
nomem:
	snprintf(err, errlen, "out of memory loading zones");
fail:
	md_zone_set_unref(zs);
	return NULL;
}
