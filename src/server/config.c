/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.c - minidnsd's YAML configuration file.  Every key has a default
 * (md_config_init) documented in minidnsd.conf(5); an unknown key or a bad
 * value is an error naming file, line and key.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/config.h"
#include "minidns/wire.h"
#include "minidns/yaml_doc.h"

void
md_config_init(struct md_config *c)
{
	memset(c, 0, sizeof(*c));
	md_sockaddr_parse("127.0.0.1", 53, &c->listen[0]);
	md_sockaddr_parse("::1", 53, &c->listen[1]);
	c->nlisten = 2;
	c->listen_default = true;
	c->edns_buffer_size = 1232;
	c->tcp_idle_timeout = 10;
	c->tcp_max_connections = 256;
	c->log_level = MD_LOG_INFO;
	c->zone_check_interval = 5;
}

void
md_config_clear_zones(struct md_config *c)
{
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].file);
		free(c->zones[i].origin);
	}
	free(c->zones);
	c->zones = NULL;
	c->nzones = 0;
}

void
md_config_deinit(struct md_config *c)
{
	md_config_clear_zones(c);
	free(c->path);
	c->path = NULL;
}

void
md_config_clear_listen(struct md_config *c)
{
	c->nlisten = 0;
	c->listen_default = false;
}

int
md_config_add_listen(
    struct md_config *c, const char *s, char *err, size_t errlen)
{
	if (c->listen_default)
		md_config_clear_listen(c);
	if (c->nlisten >= MD_CONFIG_MAX_LISTEN) {
		snprintf(err, errlen, "more than %d listen addresses",
		    MD_CONFIG_MAX_LISTEN);
		return MD_ECONFIG;
	}
	if (md_sockaddr_parse(s, 53, &c->listen[c->nlisten]) != 0) {
		snprintf(err, errlen,
		    "'%s' is not an address (ADDR, ADDR:PORT or [V6ADDR]:PORT)",
		    s);
		return MD_ECONFIG;
	}
	c->nlisten++;
	return 0;
}

int
md_config_add_zone(struct md_config *c, const char *file, const char *origin,
    enum md_zone_format format, bool auto_ptr)
{
	struct md_config_zone *v =
	    realloc(c->zones, (c->nzones + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	c->zones = v;
	v[c->nzones].file = strdup(file);
	v[c->nzones].origin = origin ? strdup(origin) : NULL;
	v[c->nzones].format = format;
	v[c->nzones].auto_ptr = auto_ptr;
	if (v[c->nzones].file == NULL || (origin && !v[c->nzones].origin))
		return -ENOMEM;
	c->nzones++;
	c->zones_set = true;
	return 0;
}

/* Where we are in the file, for messages. */
struct ctx {
	struct md_yaml *y;
	char *err;
	size_t errlen;
};

static int bad(struct ctx *x, const yaml_node_t *n, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
bad(struct ctx *x, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s:%u: %s: %s", x->y->file,
	    md_yaml_line(n), key, why);
	return MD_ECONFIG;
}

static int
get_uint(struct ctx *x, const yaml_node_t *v, const char *key, long long min,
    long long max, long long *out)
{
	const char *s = md_yaml_scalar(v);

	if (s != NULL && md_parse_int(s, min, max, out) == 0)
		return 0;
	return bad(x, v, key, "'%s' is not a number from %lld to %lld",
	    s ? s : "(not a scalar)", min, max);
}

static int
read_zone(struct ctx *x, struct md_config *c, yaml_node_t *n)
{
	const char *file = NULL, *origin = NULL;
	enum md_zone_format format = MD_ZONE_FORMAT_AUTO;
	bool auto_ptr = false;

	if (n->type == YAML_SCALAR_NODE) {
		file = md_yaml_scalar(n);
		goto add;
	}
	if (n->type != YAML_MAPPING_NODE)
		return bad(x, n, "zones",
		    "a zone is a file name or a "
		    "mapping with file, origin, format, auto-ptr");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = md_yaml_node(x->y, p->key);
		yaml_node_t *v = md_yaml_node(x->y, p->value);
		const char *key = md_yaml_scalar(k);
		const char *val = md_yaml_scalar(v);

		if (key == NULL)
			return bad(x, k, "zones", "key is not a scalar");
		if (val == NULL)
			return bad(x, v, key, "value must be a scalar");
		if (strcmp(key, "file") == 0) {
			file = val;
		} else if (strcmp(key, "origin") == 0) {
			uint8_t tmp[MD_NAME_MAX];

			if (md_name_from_str(val, NULL, tmp) < 0)
				return bad(x, v, key,
				    "'%s' is not a domain name", val);
			origin = val;
		} else if (strcmp(key, "format") == 0) {
			if (strcmp(val, "zone") == 0 ||
			    strcmp(val, "rfc1035") == 0)
				format = MD_ZONE_FORMAT_RFC1035;
			else if (strcmp(val, "yaml") == 0)
				format = MD_ZONE_FORMAT_YAML;
			else
				return bad(x, v, key,
				    "'%s' is not a zone format (zone, yaml)",
				    val);
		} else if (strcmp(key, "auto-ptr") == 0) {
			if (md_parse_bool(val, &auto_ptr) != 0)
				return bad(x, v, key,
				    "'%s' is not a boolean (yes/no)", val);
		} else {
			return bad(x, k, key,
			    "unknown key (expected file, origin, format, "
			    "auto-ptr)");
		}
	}
add:
	if (file == NULL)
		return bad(x, n, "zones", "a zone needs a file");
	/* Relative zone paths are taken from the config file's folder. */
	char path[4096];

	if (file[0] != '/' && strchr(x->y->file, '/') != NULL) {
		const char *slash = strrchr(x->y->file, '/');

		snprintf(path, sizeof(path), "%.*s/%s",
		    (int)(slash - x->y->file), x->y->file, file);
	} else {
		md_strlcpy(path, file, sizeof(path));
	}
	if (md_config_add_zone(c, path, origin, format, auto_ptr) != 0)
		return -ENOMEM;
	return 0;
}

static int
read_key(struct ctx *x, struct md_config *c, const char *key, yaml_node_t *k,
    yaml_node_t *v)
{
	long long n = 0;
	int rc;

	if (strcmp(key, "listen") == 0) {
		char why[256];

		md_config_clear_listen(c);
		if (v->type == YAML_SCALAR_NODE) {
			if (md_config_add_listen(
				c, md_yaml_scalar(v), why, sizeof(why)) != 0)
				return bad(x, v, key, "%s", why);
			return 0;
		}
		if (v->type != YAML_SEQUENCE_NODE)
			return bad(x, v, key, "expected a list of addresses");
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *a = md_yaml_node(x->y, *it);
			const char *s = md_yaml_scalar(a);

			if (s == NULL)
				return bad(x, a, key, "not an address");
			if (md_config_add_listen(c, s, why, sizeof(why)) != 0)
				return bad(x, a, key, "%s", why);
		}
		return 0;
	}
	if (strcmp(key, "edns-buffer-size") == 0) {
		rc = get_uint(x, v, key, 512, 4096, &n);
		c->edns_buffer_size = (uint16_t)n;
		return rc;
	}
	if (strcmp(key, "tcp-idle-timeout") == 0) {
		rc = get_uint(x, v, key, 1, 3600, &n);
		c->tcp_idle_timeout = (unsigned)n;
		return rc;
	}
	if (strcmp(key, "tcp-max-connections") == 0) {
		rc = get_uint(x, v, key, 1, 100000, &n);
		c->tcp_max_connections = (unsigned)n;
		return rc;
	}
	if (strcmp(key, "zone-check-interval") == 0) {
		rc = get_uint(x, v, key, 0, 86400, &n);
		c->zone_check_interval = (unsigned)n;
		return rc;
	}
	if (strcmp(key, "log-level") == 0) {
		const char *s = md_yaml_scalar(v);

		if (s == NULL || md_log_level_parse(s, &c->log_level) != 0)
			return bad(x, v, key,
			    "'%s' is not a log level (error, warning, info, "
			    "debug)",
			    s ? s : "");
		return 0;
	}
	if (strcmp(key, "zones") == 0) {
		md_config_clear_zones(c);
		c->zones_set = true;
		if (v->type == YAML_SCALAR_NODE && md_yaml_scalar(v)[0] == '\0')
			return 0; /* "zones:" with nothing: none */
		if (v->type != YAML_SEQUENCE_NODE)
			return bad(x, v, key, "expected a list of zones");
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			rc = read_zone(x, c, md_yaml_node(x->y, *it));
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	return bad(x, k, key, "unknown key");
}

int
md_config_load(struct md_config *c, const char *path, char *err, size_t errlen)
{
	struct md_yaml y;
	struct ctx x = {&y, err, errlen};
	yaml_node_t *root;
	int rc;

	rc = md_yaml_load(&y, path, NULL, 0, err, errlen);
	if (rc != 0)
		return rc == MD_EPARSE ? MD_ECONFIG : rc;
	free(c->path);
	c->path = strdup(path);
	root = md_yaml_root(&y);
	if (root == NULL)
		goto done; /* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE) {
		rc = bad(&x, root, "(top level)", "expected key: value pairs");
		goto done;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = md_yaml_node(&y, p->key);
		yaml_node_t *v = md_yaml_node(&y, p->value);
		const char *key = md_yaml_scalar(k);

		if (key == NULL) {
			rc = bad(&x, k, "(top level)", "key is not a scalar");
			goto done;
		}
		rc = read_key(&x, c, key, k, v);
		if (rc != 0)
			goto done;
	}
done:
	md_yaml_free(&y);
	return rc;
}
