/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_config.c - where the Kubernetes API is and how to authenticate:
 * md_k8s_conf defaults, and md_k8s_resolve_endpoint(), which turns the
 * configuration into one md_k8s_endpoint_conf from, in this order, an
 * explicit server URL, a kubeconfig file, or the in-cluster service
 * account (KUBERNETES_SERVICE_HOST/PORT and its mounted files).
 *
 * This file reads kubeconfig files (YAML, through yaml_doc.h) and decodes
 * their inline base64 data; it opens no connection and does not read the
 * token files (the client re-reads those before each request, as projected
 * tokens rotate).  Exec and auth-provider credential plugins are not
 * supported and are refused with a clear error.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "k8s-internal.h"
#include "minidns/yaml_doc.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void
md_k8s_conf_init(struct md_k8s_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ttl = 5;
	c->pods = MD_K8S_PODS_DISABLED;
	c->reverse = true;
	c->startup_timeout_ms = 5000;
	c->watch_timeout = MD_K8S_WATCH_TIMEOUT_DEFAULT;
}

void
md_k8s_conf_deinit(struct md_k8s_conf *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->kubeconfig);
	free(c->token_file);
	free(c->token);
	free(c->ca_file);
	free(c->client_cert);
	free(c->client_key);
	c->server = c->kubeconfig = c->token_file = c->token = NULL;
	c->ca_file = c->client_cert = c->client_key = NULL;
}

void
md_k8s_endpoint_conf_deinit(struct md_k8s_endpoint_conf *e)
{
	if (e == NULL)
		return;
	free(e->ca_pem);
	free(e->token);
	free(e->cert_pem);
	free(e->key_pem);
	e->ca_pem = e->token = e->cert_pem = e->key_pem = NULL;
}

/* ---- helpers ------------------------------------------------------- */

static int
copy_path(char *dst, size_t size, const char *src, const char *what, char *err,
    size_t errlen)
{
	if (md_strlcpy(dst, src, size) >= size) {
		snprintf(err, errlen, "%s: path too long", what);
		return MD_ECONFIG;
	}
	return 0;
}

/*
 * Parse "https://host[:port][/]" or "http://..." into e.  'where' starts
 * error messages ("server" or "FILE:LINE: server").
 */
static int
parse_server(const char *url, bool insecure_http,
    struct md_k8s_endpoint_conf *e, const char *where, char *err, size_t errlen)
{
	const char *p, *hend, *pstart;
	size_t hlen;
	long long port;
	char pbuf[8];

	if (strncmp(url, "https://", 8) == 0) {
		e->tls = true;
		e->port = 443;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		if (!insecure_http) {
			snprintf(err, errlen,
			    "%s: \"%s\": http:// sends the token in clear; "
			    "use https:// or set insecure_http to allow it",
			    where, url);
			return MD_ECONFIG;
		}
		e->tls = false;
		e->port = 80;
		p = url + 7;
	} else {
		snprintf(err, errlen,
		    "%s: \"%s\": expected https://HOST[:PORT]", where, url);
		return MD_ECONFIG;
	}
	if (*p == '[') {
		hend = strchr(p, ']');
		if (hend == NULL) {
			snprintf(err, errlen, "%s: \"%s\": unclosed '['", where,
			    url);
			return MD_ECONFIG;
		}
		p++;
		hlen = (size_t)(hend - p);
		pstart = hend + 1;
	} else {
		hlen = strcspn(p, ":/");
		pstart = p + hlen;
	}
	if (hlen == 0 || hlen >= sizeof(e->host)) {
		snprintf(err, errlen, "%s: \"%s\": bad host", where, url);
		return MD_ECONFIG;
	}
	memcpy(e->host, p, hlen);
	e->host[hlen] = '\0';
	if (*pstart == ':') {
		size_t n = strcspn(pstart + 1, "/");

		if (n == 0 || n >= sizeof(pbuf)) {
			snprintf(
			    err, errlen, "%s: \"%s\": bad port", where, url);
			return MD_ECONFIG;
		}
		memcpy(pbuf, pstart + 1, n);
		pbuf[n] = '\0';
		if (md_parse_int(pbuf, 1, 65535, &port) != 0) {
			snprintf(
			    err, errlen, "%s: \"%s\": bad port", where, url);
			return MD_ECONFIG;
		}
		e->port = (uint16_t)port;
		pstart += 1 + n;
	} else if (*pstart != '\0' && *pstart != '/') {
		snprintf(err, errlen, "%s: \"%s\": bad host", where, url);
		return MD_ECONFIG;
	}
	/* No path prefix support: the API paths are absolute. */
	if (*pstart != '\0' && strcmp(pstart, "/") != 0) {
		snprintf(err, errlen,
		    "%s: \"%s\": a path after the host is not supported", where,
		    url);
		return MD_ECONFIG;
	}
	return 0;
}

/*
 * Decode base64 'in' (whitespace ignored) into a new NUL-terminated
 * string.  Returns NULL on bad input or no memory.
 */
static char *
b64_decode(const char *in)
{
	char *clean = NULL, *out = NULL;
	size_t n = 0, pad = 0;
	int len;

	clean = malloc(strlen(in) + 1);
	if (clean == NULL)
		goto cleanup;
	for (const char *p = in; *p != '\0'; p++)
		if (!isspace((unsigned char)*p))
			clean[n++] = *p;
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0 || n > INT32_MAX)
		goto cleanup;
	/* EVP_DecodeBlock counts the padding as zero bytes: take it off. */
	if (clean[n - 1] == '=')
		pad++;
	if (clean[n - 2] == '=')
		pad++;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		goto cleanup;
	len = EVP_DecodeBlock(
	    (unsigned char *)out, (unsigned char *)clean, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(out);
		out = NULL;
		goto cleanup;
	}
	out[(size_t)len - pad] = '\0';

cleanup:
	free(clean);
	return out;
}

/* ---- kubeconfig ---------------------------------------------------- */

struct kc {
	struct md_yaml y;
	const char *file;
	char dir[1024]; /* the kubeconfig's folder, for relative paths */
	char *err;
	size_t errlen;
};

static yaml_node_t *
map_get(struct kc *kc, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = md_yaml_scalar(md_yaml_node(&kc->y, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return md_yaml_node(&kc->y, p->value);
	}
	return NULL;
}

/* A scalar value of 'key' in 'map'; NULL if absent, error if no scalar. */
static int
map_str(struct kc *kc, yaml_node_t *map, const char *key, const char **out)
{
	yaml_node_t *n = map_get(kc, map, key);

	*out = NULL;
	if (n == NULL)
		return 0;
	*out = md_yaml_scalar(n);
	if (*out == NULL) {
		snprintf(kc->err, kc->errlen, "%s:%u: %s: expected a string",
		    kc->file, md_yaml_line(n), key);
		return MD_ECONFIG;
	}
	return 0;
}

/*
 * The 'what' mapping (cluster, user, context) of the entry called 'name'
 * in the sequence 'list' (clusters, users, contexts).
 */
static int
find_named(struct kc *kc, yaml_node_t *root, const char *list, const char *what,
    const char *name, yaml_node_t **out)
{
	yaml_node_t *seq = map_get(kc, root, list);

	*out = NULL;
	if (seq != NULL && seq->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = seq->data.sequence.items.start;
		     i < seq->data.sequence.items.top; i++) {
			yaml_node_t *e = md_yaml_node(&kc->y, *i);
			const char *n = NULL;

			if (map_str(kc, e, "name", &n) != 0)
				return MD_ECONFIG;
			if (n == NULL || strcmp(n, name) != 0)
				continue;
			*out = map_get(kc, e, what);
			if (*out == NULL || (*out)->type != YAML_MAPPING_NODE) {
				snprintf(kc->err, kc->errlen,
				    "%s:%u: %s \"%s\": no %s mapping", kc->file,
				    md_yaml_line(e), list, name, what);
				return MD_ECONFIG;
			}
			return 0;
		}
	}
	snprintf(kc->err, kc->errlen, "%s: %s: no %s named \"%s\"", kc->file,
	    list, what, name);
	return MD_ECONFIG;
}

/* A file path of the kubeconfig, relative to its folder. */
static int
kc_path(struct kc *kc, const char *key, const char *val, char *dst, size_t size)
{
	int n;

	if (val[0] == '/' || kc->dir[0] == '\0')
		n = snprintf(dst, size, "%s", val);
	else
		n = snprintf(dst, size, "%s/%s", kc->dir, val);
	if (n < 0 || (size_t)n >= size) {
		snprintf(kc->err, kc->errlen, "%s: %s: path too long", kc->file,
		    key);
		return MD_ECONFIG;
	}
	return 0;
}

static int
kc_data(struct kc *kc, yaml_node_t *map, const char *key, char **out)
{
	const char *v;

	if (map_str(kc, map, key, &v) != 0)
		return MD_ECONFIG;
	if (v == NULL)
		return 0;
	free(*out);
	*out = b64_decode(v);
	if (*out == NULL) {
		snprintf(kc->err, kc->errlen, "%s:%u: %s: bad base64 data",
		    kc->file, md_yaml_line(map_get(kc, map, key)), key);
		return MD_ECONFIG;
	}
	return 0;
}

static int
kc_file(
    struct kc *kc, yaml_node_t *map, const char *key, char *dst, size_t size)
{
	const char *v;

	if (map_str(kc, map, key, &v) != 0)
		return MD_ECONFIG;
	if (v == NULL || v[0] == '\0')
		return 0;
	return kc_path(kc, key, v, dst, size);
}

static int
kc_cluster(struct kc *kc, yaml_node_t *cl, const char *name, bool insecure,
    struct md_k8s_endpoint_conf *e)
{
	const char *server, *skip;
	bool b = false;
	char where[1100];

	if (map_str(kc, cl, "server", &server) != 0 ||
	    map_str(kc, cl, "insecure-skip-tls-verify", &skip) != 0)
		return MD_ECONFIG;
	if (skip != NULL && (md_parse_bool(skip, &b) != 0 || b)) {
		snprintf(kc->err, kc->errlen,
		    "%s:%u: cluster \"%s\": insecure-skip-tls-verify is "
		    "refused: give the CA (certificate-authority or "
		    "certificate-authority-data)",
		    kc->file,
		    md_yaml_line(map_get(kc, cl,
			"insecure-skip-"
			"tls-verify")),
		    name);
		return MD_ECONFIG;
	}
	if (server == NULL || server[0] == '\0') {
		snprintf(kc->err, kc->errlen,
		    "%s:%u: cluster \"%s\": server: missing", kc->file,
		    md_yaml_line(cl), name);
		return MD_ECONFIG;
	}
	snprintf(where, sizeof(where), "%s:%u: server", kc->file,
	    md_yaml_line(map_get(kc, cl, "server")));
	if (parse_server(server, insecure, e, where, kc->err, kc->errlen) != 0)
		return MD_ECONFIG;
	if (kc_file(kc, cl, "certificate-authority", e->ca_file,
		sizeof(e->ca_file)) != 0 ||
	    kc_data(kc, cl, "certificate-authority-data", &e->ca_pem) != 0)
		return MD_ECONFIG;
	return 0;
}

static int
kc_user(struct kc *kc, yaml_node_t *u, const char *name,
    struct md_k8s_endpoint_conf *e)
{
	const char *token;

	if (map_get(kc, u, "exec") != NULL ||
	    map_get(kc, u, "auth-provider") != NULL) {
		snprintf(kc->err, kc->errlen,
		    "%s:%u: user \"%s\": exec and auth-provider credential "
		    "plugins are not supported: use token, tokenFile or a "
		    "client certificate",
		    kc->file, md_yaml_line(u), name);
		return MD_ECONFIG;
	}
	if (map_str(kc, u, "token", &token) != 0)
		return MD_ECONFIG;
	if (token != NULL && token[0] != '\0') {
		e->token = strdup(token);
		if (e->token == NULL) {
			snprintf(
			    kc->err, kc->errlen, "%s: out of memory", kc->file);
			return -ENOMEM;
		}
	}
	if (kc_file(kc, u, "tokenFile", e->token_file, sizeof(e->token_file)) !=
		0 ||
	    kc_file(kc, u, "client-certificate", e->cert_file,
		sizeof(e->cert_file)) != 0 ||
	    kc_data(kc, u, "client-certificate-data", &e->cert_pem) != 0 ||
	    kc_file(kc, u, "client-key", e->key_file, sizeof(e->key_file)) !=
		0 ||
	    kc_data(kc, u, "client-key-data", &e->key_pem) != 0)
		return MD_ECONFIG;
	return 0;
}

static int
load_kubeconfig(const char *file, bool insecure, struct md_k8s_endpoint_conf *e,
    char *err, size_t errlen)
{
	struct kc kc;
	yaml_node_t *root, *ctx, *cl, *u;
	const char *cur, *clname, *uname;
	const char *slash;
	int rc;

	memset(&kc, 0, sizeof(kc));
	kc.file = file;
	kc.err = err;
	kc.errlen = errlen;
	slash = strrchr(file, '/');
	if (slash != NULL) {
		size_t n = (size_t)(slash - file);

		if (n == 0)
			n = 1; /* "/kubeconfig": the root folder */
		if (n >= sizeof(kc.dir)) {
			snprintf(err, errlen, "%s: path too long", file);
			return MD_ECONFIG;
		}
		memcpy(kc.dir, file, n);
		kc.dir[n] = '\0';
	}
	rc = md_yaml_load(&kc.y, file, NULL, 0, err, errlen);
	if (rc != 0)
		return rc;
	rc = MD_ECONFIG;
	root = md_yaml_root(&kc.y);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		snprintf(
		    err, errlen, "%s: not a kubeconfig (no mapping)", file);
		goto cleanup;
	}
	if (map_str(&kc, root, "current-context", &cur) != 0)
		goto cleanup;
	if (cur == NULL || cur[0] == '\0') {
		snprintf(err, errlen, "%s: current-context: missing", file);
		goto cleanup;
	}
	if (find_named(&kc, root, "contexts", "context", cur, &ctx) != 0) {
		snprintf(err, errlen,
		    "%s: current-context: \"%s\": no such context in "
		    "contexts",
		    file, cur);
		goto cleanup;
	}
	if (map_str(&kc, ctx, "cluster", &clname) != 0 ||
	    map_str(&kc, ctx, "user", &uname) != 0)
		goto cleanup;
	if (clname == NULL || clname[0] == '\0') {
		snprintf(err, errlen, "%s:%u: context \"%s\": cluster: missing",
		    file, md_yaml_line(ctx), cur);
		goto cleanup;
	}
	if (find_named(&kc, root, "clusters", "cluster", clname, &cl) != 0 ||
	    kc_cluster(&kc, cl, clname, insecure, e) != 0)
		goto cleanup;
	if (uname != NULL && uname[0] != '\0') {
		if (find_named(&kc, root, "users", "user", uname, &u) != 0 ||
		    kc_user(&kc, u, uname, e) != 0)
			goto cleanup;
	}
	rc = 0;

cleanup:
	md_yaml_free(&kc.y);
	return rc;
}

/* ---- in-cluster ---------------------------------------------------- */

static int
in_cluster(struct md_k8s_endpoint_conf *e, char *err, size_t errlen)
{
	const char *host, *port, *dir;
	long long p;
	struct stat sb;
	int n;

	host = getenv("KUBERNETES_SERVICE_HOST");
	port = getenv("KUBERNETES_SERVICE_PORT");
	if (host == NULL || host[0] == '\0') {
		snprintf(err, errlen,
		    "no Kubernetes API configured: give server or kubeconfig, "
		    "or run in a pod (KUBERNETES_SERVICE_HOST is not set)");
		return MD_ECONFIG;
	}
	if (port == NULL || port[0] == '\0')
		port = "443";
	if (md_parse_int(port, 1, 65535, &p) != 0) {
		snprintf(err, errlen,
		    "KUBERNETES_SERVICE_PORT: \"%s\": bad port", port);
		return MD_ECONFIG;
	}
	/* An IPv6 host comes without brackets; e->host never has them. */
	if (copy_path(e->host, sizeof(e->host), host, "KUBERNETES_SERVICE_HOST",
		err, errlen) != 0)
		return MD_ECONFIG;
	e->port = (uint16_t)p;
	e->tls = true;
	dir = getenv("MINIDNS_K8S_SA_DIR");
	if (dir == NULL || dir[0] == '\0')
		dir = SA_DIR;
	n = snprintf(e->token_file, sizeof(e->token_file), "%s/token", dir);
	if (n < 0 || (size_t)n >= sizeof(e->token_file))
		goto toolong;
	n = snprintf(e->ca_file, sizeof(e->ca_file), "%s/ca.crt", dir);
	if (n < 0 || (size_t)n >= sizeof(e->ca_file))
		goto toolong;
	if (stat(e->ca_file, &sb) != 0) {
		snprintf(err, errlen, "%s: in-cluster CA: %s", e->ca_file,
		    strerror(errno));
		return MD_ECONFIG;
	}
	if (stat(e->token_file, &sb) != 0) {
		snprintf(err, errlen, "%s: in-cluster token: %s", e->token_file,
		    strerror(errno));
		return MD_ECONFIG;
	}
	return 0;

toolong:
	snprintf(err, errlen, "MINIDNS_K8S_SA_DIR: path too long");
	return MD_ECONFIG;
}

/* ---- the entry point ------------------------------------------------- */

/* Explicit keys of conf, over what a kubeconfig said. */
static int
apply_explicit(const struct md_k8s_conf *conf, struct md_k8s_endpoint_conf *e,
    char *err, size_t errlen)
{
	if (conf->token != NULL) {
		free(e->token);
		e->token = strdup(conf->token);
		if (e->token == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (conf->token_file != NULL &&
	    copy_path(e->token_file, sizeof(e->token_file), conf->token_file,
		"token_file", err, errlen) != 0)
		return MD_ECONFIG;
	if (conf->ca_file != NULL) {
		if (copy_path(e->ca_file, sizeof(e->ca_file), conf->ca_file,
			"ca_file", err, errlen) != 0)
			return MD_ECONFIG;
		free(e->ca_pem);
		e->ca_pem = NULL;
	}
	if (conf->client_cert != NULL) {
		if (copy_path(e->cert_file, sizeof(e->cert_file),
			conf->client_cert, "client_cert", err, errlen) != 0)
			return MD_ECONFIG;
		free(e->cert_pem);
		e->cert_pem = NULL;
	}
	if (conf->client_key != NULL) {
		if (copy_path(e->key_file, sizeof(e->key_file),
			conf->client_key, "client_key", err, errlen) != 0)
			return MD_ECONFIG;
		free(e->key_pem);
		e->key_pem = NULL;
	}
	return 0;
}

int
md_k8s_resolve_endpoint(const struct md_k8s_conf *conf,
    struct md_k8s_endpoint_conf *out, char *err, size_t errlen)
{
	bool cert, key;
	int rc;

	memset(out, 0, sizeof(*out));
	if (conf->server != NULL)
		rc = parse_server(conf->server, conf->insecure_http, out,
		    "server", err, errlen);
	else if (conf->kubeconfig != NULL)
		rc = load_kubeconfig(
		    conf->kubeconfig, conf->insecure_http, out, err, errlen);
	else
		rc = in_cluster(out, err, errlen);
	if (rc == 0)
		rc = apply_explicit(conf, out, err, errlen);
	if (rc == 0) {
		cert = out->cert_file[0] != '\0' || out->cert_pem != NULL;
		key = out->key_file[0] != '\0' || out->key_pem != NULL;
		if (cert != key) {
			snprintf(err, errlen,
			    "%s: a client certificate needs "
			    "its key and a key its certificate",
			    conf->kubeconfig != NULL && conf->server == NULL
				? conf->kubeconfig
				: "client_cert");
			rc = MD_ECONFIG;
		}
	}
	if (rc != 0)
		md_k8s_endpoint_conf_deinit(out);
	return rc;
}
