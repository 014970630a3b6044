/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.c - minidnsd's YAML configuration file.  Every key has a default
 * (md_config_init) documented in minidnsd.conf(5); an unknown key or a bad
 * value is an error naming file, line and key.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/config.h"
#include "minidns/ratelimit.h"
#include "minidns/resolve.h"
#include "minidns/wire.h"
#include "minidns/yaml_doc.h"

/*
 * The keys that are the engine's settings, each once: a config field and
 * the md_resolve_conf field it sets (same size).  md_config_init() takes
 * their defaults from the engine, md_config_finish() hands them to it.
 */
static const struct {
	size_t cfg, eng, size;
} engine_fields[] = {
#define MD_ENGINE_KEY(cf, ef)                             \
	{                                                 \
		offsetof(struct md_config, cf),           \
		    offsetof(struct md_resolve_conf, ef), \
		    sizeof(((struct md_config *)0)->cf)   \
	}
    MD_ENGINE_KEY(qname_minimisation, qname_minimisation),
    MD_ENGINE_KEY(qname_minimisation_strict, qname_minimisation_strict),
    MD_ENGINE_KEY(servfail_ttl, servfail_ttl),
    MD_ENGINE_KEY(use_0x20, use_0x20),
    MD_ENGINE_KEY(allow_private_upstreams, allow_private),
    MD_ENGINE_KEY(max_upstream_queries, max_queries),
    MD_ENGINE_KEY(max_referral_depth, max_depth),
    MD_ENGINE_KEY(max_cname_chain, max_cname),
    MD_ENGINE_KEY(max_ns_names, max_ns_names),
    MD_ENGINE_KEY(resolution_timeout, timeout_ms),
    MD_ENGINE_KEY(val_bogus_ttl, val_bogus_ttl),
    MD_ENGINE_KEY(aggressive_nsec, aggressive_nsec),
#undef MD_ENGINE_KEY
};

_Static_assert(sizeof(((struct md_config *)0)->resolution_timeout) ==
	sizeof(((struct md_resolve_conf *)0)->timeout_ms),
    "resolve-timeout and the engine's timeout_ms differ in size");

/* Copy the engine's keys between c and r: to the engine or from it. */
static void
engine_keys(struct md_config *c, struct md_resolve_conf *r, bool to_engine)
{
	for (size_t i = 0; i < sizeof(engine_fields) / sizeof(engine_fields[0]);
	     i++) {
		char *cf = (char *)c + engine_fields[i].cfg;
		char *ef = (char *)r + engine_fields[i].eng;

		if (to_engine)
			memcpy(ef, cf, engine_fields[i].size);
		else
			memcpy(cf, ef, engine_fields[i].size);
	}
}

void
md_config_init(struct md_config *c)
{
	struct md_cache_conf cc;

	memset(c, 0, sizeof(*c));
	atomic_init(&c->refs, 0);
	md_sockaddr_parse("127.0.0.1", 53, &c->listen[0]);
	md_sockaddr_parse("::1", 53, &c->listen[1]);
	c->nlisten = 2;
	c->listen_default = true;
	c->edns_buffer_size = 1232;
	c->tcp_idle_timeout = 10;
	c->tcp_max_connections = 256;
	/* A trickling or idle crowd from one address cannot take a
	 * worker's connections, nor one slow message a connection. */
	c->tcp_max_connections_per_client = 32;
	c->tcp_read_timeout = 5;
	c->http_max_connections = 64;
	c->log_level = MD_LOG_INFO;
	c->zone_check_interval = 5;
	md_k8s_conf_init(&c->k8s);
	c->recursion = true;
	c->loop_detect = true; /* as CoreDNS's loop plugin, on */
	c->udp_batch_wait = MD_UDP_BATCH_WAIT_US;
	c->udp_steer_cpu = true;
	c->rate_limit_ipv6_prefix = MD_RATELIMIT_IPV6_PREFIX;
	/* The engine's defaults are the engine's (resolve.h), the cache's
	 * the cache's: read here, never written a second time. */
	c->resolve = malloc(sizeof(*c->resolve));
	if (c->resolve != NULL) {
		md_resolve_conf_init(c->resolve);
		engine_keys(c, c->resolve, false);
		c->dnssec_validate = c->resolve->validate;
	}
	md_cache_conf_init(&cc);
	c->cache_size_mib = (unsigned)(cc.max_bytes >> 20);
	c->cache_min_ttl = cc.min_ttl;
	c->cache_max_ttl = cc.max_ttl;
	c->cache_max_negative_ttl = cc.max_negative_ttl;
	c->serve_stale = cc.serve_stale;
	c->rrset_roundrobin = true; /* as Unbound */
	c->prefetch = false;
	/* Recursion for our own kind of networks only: loopback, RFC 1918,
	 * link-local, unique-local IPv6 (no open resolver by default). */
	static const char *const nets[] = {"127.0.0.0/8", "10.0.0.0/8",
	    "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1/128",
	    "fe80::/10", "fc00::/7"};
	char why[128];

	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		md_config_add_acl(c, nets[i], why, sizeof(why));
}

struct md_config *
md_config_new(void)
{
	struct md_config *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	md_config_init(c);
	if (c->resolve == NULL) {
		md_config_deinit(c);
		free(c);
		return NULL;
	}
	atomic_store(&c->refs, 1);
	return c;
}

const struct md_config *
md_config_ref(const struct md_config *c)
{
	if (c != NULL)
		atomic_fetch_add_explicit(
		    (atomic_uint *)&c->refs, 1, memory_order_relaxed);
	return c;
}

void
md_config_unref(const struct md_config *c)
{
	struct md_config *m = (struct md_config *)c;

	if (m == NULL ||
	    atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	md_config_deinit(m);
	free(m);
}

void
md_config_cache_conf(const struct md_config *c, struct md_cache_conf *out)
{
	md_cache_conf_init(out);
	out->max_bytes = (size_t)c->cache_size_mib * 1024 * 1024;
	out->min_ttl = c->cache_min_ttl;
	out->max_ttl = c->cache_max_ttl;
	out->max_negative_ttl = c->cache_max_negative_ttl;
	out->serve_stale = c->serve_stale;
}

/* Stub mode: everything goes to the upstreams of ".", from resolv.conf
 * when none are configured. */
static int
add_stub_root(const struct md_config *c, struct md_resolve_conf *rc, char *err,
    size_t errlen)
{
	const char *path =
	    c->resolv_conf != NULL ? c->resolv_conf : "/etc/resolv.conf";
	struct md_forward_zone *f;
	int n;

	for (size_t i = 0; i < rc->nforward; i++) {
		if (rc->forward[i].zone[0] == 0)
			return 0;
	}
	if (rc->nforward >= MD_FORWARD_ZONES_MAX)
		return md_config_error(c, "stub", err, errlen,
		    "more than %d forward zones", MD_FORWARD_ZONES_MAX);
	f = &rc->forward[rc->nforward];
	memset(f, 0, sizeof(*f));
	n = md_resolv_conf_read(path, f->servers, MD_FORWARD_SERVERS_MAX);
	if (n <= 0)
		return md_config_error(c,
		    c->resolv_conf != NULL ? "resolv-conf" : "stub", err,
		    errlen, "no nameserver in %s%s%s", path, n < 0 ? ": " : "",
		    n < 0 ? strerror(-n) : "");
	f->nservers = (size_t)n;
	rc->nforward++;
	return 0;
}

/* HTTP endpoints: "off", ":PORT" or ADDR:PORT. */
static int
check_http(const struct md_config *c, const char *key, const char *a, char *err,
    size_t errlen)
{
	struct md_sockaddr sa;
	char tmp[80];

	if (a == NULL || strcmp(a, "off") == 0)
		return 0;
	if (a[0] == ':')
		snprintf(tmp, sizeof(tmp), "0.0.0.0%s", a);
	else
		md_strlcpy(tmp, a, sizeof(tmp));
	if (md_sockaddr_parse(tmp, 0, &sa) != 0 || strrchr(a, ':') == NULL)
		return md_config_error(c, key, err, errlen,
		    "'%s' is not ADDR:PORT, :PORT or off", a);
	return 0;
}

/*
 * DNSSEC: the trust anchors (files replace the built-in root keys), the
 * insecure names, and whether to validate at all.  The built-in anchors
 * are the IANA root's: with a root of one's own (root-hints) and no
 * anchor for it, every answer would be bogus, so validation is off by
 * default there, and asking for it is an error.
 */
static int
finish_dnssec(
    struct md_config *c, struct md_resolve_conf *rc, char *err, size_t errlen)
{
	char why[768];
	int e;

	rc->validate = c->dnssec_validate;
	c->dnssec_off_custom_hints = false;
	if (c->ntrust_anchor_files > 0) {
		rc->nanchors = 0;
		for (size_t i = 0; i < c->ntrust_anchor_files; i++) {
			e = md_resolve_load_anchors(
			    rc, c->trust_anchor_files[i], why, sizeof(why));
			if (e != 0) {
				md_config_error(c, "trust-anchor-file", err,
				    errlen, "%s", why);
				return e == -ENOMEM ? e : MD_ECONFIG;
			}
		}
	} else if (c->root_hints != NULL && c->dnssec_validate) {
		if (c->dnssec_set)
			return md_config_error(c, "dnssec", err, errlen,
			    "validate with custom root-hints needs a "
			    "trust-anchor-file (the built-in anchors are the "
			    "IANA root's keys)");
		rc->validate = false;
		c->dnssec_off_custom_hints = true;
	}
	for (size_t i = 0; i < c->ndomain_insecure; i++) {
		if (rc->ninsecure >= MD_INSECURE_MAX)
			return md_config_error(c, "domain-insecure", err,
			    errlen, "more than %d names",
			    MD_INSECURE_MAX -
				(int)md_resolve_builtin_insecure());
		memcpy(rc->insecure[rc->ninsecure++], c->domain_insecure[i],
		    MD_NAME_MAX);
	}
	return 0;
}

int
md_config_finish(struct md_config *c, char *err, size_t errlen)
{
	struct md_resolve_conf *rc = c->resolve;
	int e;

	if (rc == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((e = check_http(c, "metrics", c->metrics, err, errlen)) != 0 ||
	    (e = check_http(c, "health", c->health, err, errlen)) != 0 ||
	    (e = check_http(c, "ready", c->ready, err, errlen)) != 0)
		return e;
	/* An open resolver answers anyone, and is used for amplification:
	 * only when asked for in so many words. */
	for (size_t i = 0; c->recursion && i < c->nacl; i++) {
		if (c->acl[i].prefix == 0 && !c->allow_open_resolver)
			return md_config_error(c, "access-control", err, errlen,
			    "opens recursion to every address; set "
			    "allow-open-resolver: yes if that is meant");
	}
	md_resolve_conf_init(rc);
	if (c->root_hints != NULL) {
		char why[768];

		e = md_resolve_load_hints(rc, c->root_hints, why, sizeof(why));
		if (e != 0) {
			md_config_error(
			    c, "root-hints", err, errlen, "%s", why);
			return e;
		}
	}
	engine_keys(c, rc, true);
	if ((e = finish_dnssec(c, rc, err, errlen)) != 0)
		return e;
	memcpy(rc->forward, c->forward, sizeof(rc->forward));
	rc->nforward = c->nforward;
	if (c->stub && (e = add_stub_root(c, rc, err, errlen)) != 0)
		return e;
	/* Everything forwarded (stub: yes, or a forward zone for "."): no
	 * name is resolved from the root, and the upstreams are the node's
	 * resolvers, which may not pass DNSSEC records on (CoreDNS and
	 * node-local-dns do not validate either).  Validation only when
	 * asked for. */
	c->dnssec_off_forwarded = false;
	if (rc->validate && !c->dnssec_set && c->ntrust_anchor_files == 0) {
		static const uint8_t root = 0;
		const struct md_forward_zone *fz =
		    md_resolve_find_forward(rc, &root);

		if (fz != NULL && fz->zone[0] == 0) {
			rc->validate = false;
			c->dnssec_off_forwarded = true;
		}
	}
	return 0;
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
md_k8s_conf_equal(const struct md_k8s_conf *a, const struct md_k8s_conf *b)
{
	return str_eq(a->server, b->server) &&
	    str_eq(a->kubeconfig, b->kubeconfig) &&
	    str_eq(a->token_file, b->token_file) &&
	    str_eq(a->token, b->token) && str_eq(a->ca_file, b->ca_file) &&
	    str_eq(a->client_cert, b->client_cert) &&
	    str_eq(a->client_key, b->client_key) &&
	    a->insecure_http == b->insecure_http && a->nzones == b->nzones &&
	    memcmp(a->zones, b->zones, a->nzones * sizeof(a->zones[0])) == 0 &&
	    a->nnamespaces == b->nnamespaces &&
	    memcmp(a->namespaces, b->namespaces,
		a->nnamespaces * sizeof(a->namespaces[0])) == 0 &&
	    a->ttl == b->ttl && a->pods == b->pods &&
	    a->endpoint_pod_names == b->endpoint_pod_names &&
	    a->fallthrough == b->fallthrough && a->reverse == b->reverse &&
	    a->autopath == b->autopath &&
	    a->nautopath_search == b->nautopath_search &&
	    memcmp(a->autopath_search, b->autopath_search,
		a->nautopath_search * sizeof(a->autopath_search[0])) == 0 &&
	    a->watch_timeout == b->watch_timeout;
}

static bool
addrs_eq(const struct md_sockaddr *a, size_t na, const struct md_sockaddr *b,
    size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (a[i].len != b[i].len ||
		    memcmp(&a[i].ss, &b[i].ss, a[i].len))
			return false;
	}
	return true;
}

int
md_config_add_trust_anchor(struct md_config *c, const char *file)
{
	char **v = realloc(
	    c->trust_anchor_files, (c->ntrust_anchor_files + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	c->trust_anchor_files = v;
	v[c->ntrust_anchor_files] = strdup(file);
	if (v[c->ntrust_anchor_files] == NULL)
		return -ENOMEM;
	c->ntrust_anchor_files++;
	return 0;
}

void
md_config_clear_trust_anchors(struct md_config *c)
{
	for (size_t i = 0; i < c->ntrust_anchor_files; i++)
		free(c->trust_anchor_files[i]);
	free(c->trust_anchor_files);
	c->trust_anchor_files = NULL;
	c->ntrust_anchor_files = 0;
}

int
md_config_add_insecure(
    struct md_config *c, const char *name, char *err, size_t errlen)
{
	uint8_t wire[MD_NAME_MAX];
	size_t builtin = md_resolve_builtin_insecure();

	memset(wire, 0, sizeof(wire));
	if (md_name_from_str(name, NULL, wire) < 0) {
		snprintf(err, errlen, "'%s' is not a domain name", name);
		return MD_ECONFIG;
	}
	md_name_lower(wire);
	for (size_t i = 0;
	     c->resolve != NULL && i < builtin && i < c->resolve->ninsecure;
	     i++) {
		if (md_name_equal(c->resolve->insecure[i], wire)) {
			snprintf(err, errlen,
			    "'%s' is insecure already (built in)", name);
			return MD_ECONFIG;
		}
	}
	for (size_t i = 0; i < c->ndomain_insecure; i++) {
		if (md_name_equal(c->domain_insecure[i], wire)) {
			snprintf(err, errlen, "'%s' is listed twice", name);
			return MD_ECONFIG;
		}
	}
	if (builtin + c->ndomain_insecure >= MD_INSECURE_MAX) {
		snprintf(err, errlen, "more than %d names",
		    MD_INSECURE_MAX - (int)builtin);
		return MD_ECONFIG;
	}
	memcpy(c->domain_insecure[c->ndomain_insecure++], wire, sizeof(wire));
	return 0;
}

size_t
md_config_restart_keys(const struct md_config *a, const struct md_config *b,
    const char **keys, size_t max)
{
	/* What is bound, started or dropped once at start-up: sockets,
	 * threads, identity, the TLS contexts, the HTTP and control
	 * endpoints.  Everything else a reload applies (the DNSSEC keys
	 * too: dnssec, trust-anchor-file, domain-insecure, val-bogus-ttl,
	 * aggressive-nsec live in the engine's settings of the snapshot). */
	const struct {
		const char *key;
		bool same;
	} v[] = {
	    {"listen",
		a->listen_default == b->listen_default &&
		    addrs_eq(a->listen, a->nlisten, b->listen, b->nlisten)},
	    {"tls-listen",
		addrs_eq(a->tls_listen, a->ntls_listen, b->tls_listen,
		    b->ntls_listen)},
	    {"tls-cert", str_eq(a->tls_cert, b->tls_cert)},
	    {"tls-key", str_eq(a->tls_key, b->tls_key)},
	    {"tls-ca", str_eq(a->tls_ca, b->tls_ca)},
	    {"threads", a->threads == b->threads},
	    {"udp-steering", a->udp_steer_cpu == b->udp_steer_cpu},
	    {"user", str_eq(a->user, b->user)},
	    {"chroot", str_eq(a->chroot_dir, b->chroot_dir)},
	    {"pid-file", str_eq(a->pid_file, b->pid_file)},
	    {"metrics", str_eq(a->metrics, b->metrics)},
	    {"health", str_eq(a->health, b->health)},
	    {"ready", str_eq(a->ready, b->ready)},
	    {"http-max-connections",
		a->http_max_connections == b->http_max_connections},
	    {"control-socket", str_eq(a->control_socket, b->control_socket)},
	    {"prime-at-start", a->prime_at_start == b->prime_at_start},
	    {"setup-iptables", a->setup_iptables == b->setup_iptables},
	    {"setup-interface", str_eq(a->setup_interface, b->setup_interface)},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (!v[i].same && n < max)
			keys[n++] = v[i].key;
	}
	return n;
}

int
md_config_add_acl(struct md_config *c, const char *s, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	struct md_acl *a;
	long long prefix = -1;

	if (c->nacl >= MD_CONFIG_MAX_ACL) {
		snprintf(
		    err, errlen, "more than %d networks", MD_CONFIG_MAX_ACL);
		return MD_ECONFIG;
	}
	a = &c->acl[c->nacl];
	memset(a, 0, sizeof(*a));
	if (hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		goto bad;
	if (slash != NULL &&
	    md_parse_int(
		slash + 1, 0, a->family == AF_INET ? 32 : 128, &prefix) != 0)
		goto bad;
	a->prefix =
	    prefix < 0 ? (a->family == AF_INET ? 32 : 128) : (unsigned)prefix;
	c->nacl++;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not a network (ADDR or ADDR/PREFIX)", s);
	return MD_ECONFIG;
}

int
md_config_add_k8s_zone(
    struct md_config *c, const char *zone, char *err, size_t errlen)
{
	struct md_k8s_conf *k = &c->k8s;

	if (k->nzones >= MD_K8S_ZONES_MAX) {
		snprintf(err, errlen, "more than %d Kubernetes zones",
		    MD_K8S_ZONES_MAX);
		return MD_ECONFIG;
	}
	if (md_name_from_str(zone, NULL, k->zones[k->nzones]) < 0) {
		snprintf(err, errlen, "'%s' is not a zone name", zone);
		return MD_ECONFIG;
	}
	k->nzones++;
	return 0;
}

int
md_config_add_k8s_namespace(
    struct md_config *c, const char *ns, char *err, size_t errlen)
{
	struct md_k8s_conf *k = &c->k8s;

	if (k->nnamespaces >= MD_K8S_NAMESPACES_MAX || strlen(ns) == 0 ||
	    strlen(ns) >= sizeof(k->namespaces[0])) {
		snprintf(err, errlen, "'%s': bad or too many namespaces", ns);
		return MD_ECONFIG;
	}
	md_strlcpy(
	    k->namespaces[k->nnamespaces++], ns, sizeof(k->namespaces[0]));
	return 0;
}

struct md_forward_zone *
md_config_find_forward(struct md_config *c, const uint8_t *zone)
{
	for (size_t i = 0; i < c->nforward; i++) {
		if (md_name_equal(c->forward[i].zone, zone))
			return &c->forward[i];
	}
	return NULL;
}

int
md_config_add_forward(struct md_config *c, const char *zone,
    const char *servers, char *err, size_t errlen)
{
	uint8_t name[MD_NAME_MAX];
	struct md_forward_zone *f;
	char list[2048];
	char *p, *next;

	if (md_name_from_str(zone, NULL, name) < 0) {
		snprintf(err, errlen, "'%s' is not a zone name", zone);
		return MD_ECONFIG;
	}
	f = md_config_find_forward(c, name);
	if (f == NULL) {
		if (c->nforward >= MD_FORWARD_ZONES_MAX) {
			snprintf(err, errlen, "more than %d forward zones",
			    MD_FORWARD_ZONES_MAX);
			return MD_ECONFIG;
		}
		f = &c->forward[c->nforward++];
		memset(f, 0, sizeof(*f));
		memcpy(f->zone, name, md_name_len(name));
	}
	if (md_strlcpy(list, servers, sizeof(list)) >= sizeof(list)) {
		snprintf(err, errlen, "server list too long");
		return MD_ECONFIG;
	}
	for (p = list; p != NULL; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		if (*p == '\0')
			continue;
		if (f->nservers >= MD_FORWARD_SERVERS_MAX) {
			snprintf(err, errlen, "more than %d servers for %s",
			    MD_FORWARD_SERVERS_MAX, zone);
			return MD_ECONFIG;
		}
		if (md_upstream_parse(p, &f->servers[f->nservers]) != 0) {
			snprintf(err, errlen,
			    "'%s' is not an upstream (ADDR[:PORT] or "
			    "tls://ADDR[:PORT][#NAME])",
			    p);
			return MD_ECONFIG;
		}
		f->nservers++;
	}
	if (f->nservers == 0) {
		snprintf(err, errlen, "no servers for %s", zone);
		return MD_ECONFIG;
	}
	return 0;
}

int
md_resolv_conf_read(const char *path, struct md_upstream *out, size_t max)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	size_t n = 0;

	if (fp == NULL)
		return -errno;
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		char addr[256];
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "nameserver", 10) != 0 ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, " \t\r\n#;%");

		if (len == 0 || len >= sizeof(addr))
			continue;
		memcpy(addr, p, len);
		addr[len] = '\0';
		memset(&out[n], 0, sizeof(out[n]));
		if (md_sockaddr_parse(addr, 53, &out[n].addr) == 0) {
			out[n].transport = MD_TRANSPORT_UDP;
			n++;
		}
	}
	fclose(fp);
	return (int)n;
}

int
md_config_add_trace(
    struct md_config *c, const char *name, char *err, size_t errlen)
{
	if (c->ntrace >= MD_CONFIG_MAX_TRACE) {
		snprintf(
		    err, errlen, "more than %d names", MD_CONFIG_MAX_TRACE);
		return MD_ECONFIG;
	}
	if (md_name_from_str(name, NULL, c->trace[c->ntrace]) < 0) {
		snprintf(err, errlen, "'%s' is not a domain name", name);
		return MD_ECONFIG;
	}
	c->ntrace++;
	return 0;
}

static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));

	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool
md_acl_allows(const struct md_acl *acl, size_t n, const struct sockaddr *sa)
{
	const uint8_t *addr;
	uint8_t v4[4];
	int family = sa->sa_family;

	if (family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)
			   ->sin_addr;
	} else if (family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		addr = sin6->sin6_addr.s6_addr;
		/* An IPv4 client on a dual-stack socket. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(v4, addr + 12, 4);
			addr = v4;
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (acl[i].family == family &&
		    prefix_match(acl[i].addr, addr, acl[i].prefix))
			return true;
	}
	return false;
}

void
md_config_clear_zones(struct md_config *c)
{
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].file);
		free(c->zones[i].origin);
		free(c->zones[i].where);
	}
	free(c->zones);
	c->zones = NULL;
	c->nzones = 0;
}

void
md_config_deinit(struct md_config *c)
{
	md_config_clear_zones(c);
	for (size_t i = 0; i < c->nwhere; i++) {
		free(c->where[i].key);
		free(c->where[i].at);
	}
	free(c->where);
	c->where = NULL;
	c->nwhere = 0;
	free(c->path);
	c->path = NULL;
	free(c->root_hints);
	c->root_hints = NULL;
	md_config_clear_trust_anchors(c);
	free(c->resolv_conf);
	c->resolv_conf = NULL;
	free(c->tls_ca);
	c->tls_ca = NULL;
	free(c->tls_cert);
	c->tls_cert = NULL;
	free(c->tls_key);
	c->tls_key = NULL;
	md_k8s_conf_deinit(&c->k8s);
	free(c->metrics);
	free(c->health);
	free(c->ready);
	free(c->control_socket);
	free(c->log_file);
	free(c->user);
	free(c->setup_interface);
	c->setup_interface = NULL;
	free(c->chroot_dir);
	free(c->pid_file);
	free(c->resolve);
	c->metrics = c->health = c->ready = c->control_socket = NULL;
	c->log_file = c->user = c->chroot_dir = c->pid_file = NULL;
	c->resolve = NULL;
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
    enum md_zone_format format, bool auto_ptr, const char *where)
{
	struct md_config_zone *v =
	    realloc(c->zones, (c->nzones + 1) * sizeof(*v));
	struct md_config_zone *z;

	if (v == NULL)
		return -ENOMEM;
	c->zones = v;
	z = &v[c->nzones];
	memset(z, 0, sizeof(*z));
	z->file = strdup(file);
	z->origin = origin ? strdup(origin) : NULL;
	z->where = where ? strdup(where) : NULL;
	z->format = format;
	z->auto_ptr = auto_ptr;
	if (z->file == NULL || (origin && !z->origin) || (where && !z->where)) {
		free(z->file);
		free(z->origin);
		free(z->where);
		return -ENOMEM;
	}
	c->nzones++;
	c->zones_set = true;
	return 0;
}

int
md_config_set_where(struct md_config *c, const char *key, const char *at)
{
	struct md_config_where *v;
	char *dup = strdup(at);

	if (dup == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->nwhere; i++) {
		if (strcmp(c->where[i].key, key) == 0) {
			free(c->where[i].at);
			c->where[i].at = dup;
			return 0;
		}
	}
	v = realloc(c->where, (c->nwhere + 1) * sizeof(*v));
	if (v == NULL) {
		free(dup);
		return -ENOMEM;
	}
	c->where = v;
	v[c->nwhere].key = strdup(key);
	if (v[c->nwhere].key == NULL) {
		free(dup);
		return -ENOMEM;
	}
	v[c->nwhere].at = dup;
	c->nwhere++;
	return 0;
}

const char *
md_config_where(const struct md_config *c, const char *key)
{
	for (size_t i = 0; i < c->nwhere; i++) {
		if (strcmp(c->where[i].key, key) == 0)
			return c->where[i].at;
	}
	return NULL;
}

int
md_config_error(const struct md_config *c, const char *key, char *err,
    size_t errlen, const char *fmt, ...)
{
	const char *at = md_config_where(c, key);
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (at == NULL)
		snprintf(err, errlen, "%s: %s", key, why);
	else if (at[0] == '-') /* a flag names its key */
		snprintf(err, errlen, "%s: %s", at, why);
	else
		snprintf(err, errlen, "%s: %s: %s", at, key, why);
	return MD_ECONFIG;
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

/* A key that takes one word of two: *out is true for 'on', false for
 * 'off'. */
static int
get_choice(struct ctx *x, const yaml_node_t *v, const char *key, const char *on,
    const char *off, bool *out)
{
	const char *s = md_yaml_scalar(v);

	if (s != NULL && (strcmp(s, on) == 0 || strcmp(s, off) == 0)) {
		*out = strcmp(s, on) == 0;
		return 0;
	}
	return bad(x, v, key, "'%s' is not %s or %s", s ? s : "", on, off);
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

/* A duration ("5s", "500ms"; a bare number is seconds), in ms. */
static int
get_duration(struct ctx *x, const yaml_node_t *v, const char *key,
    long long max_ms, long long *out)
{
	const char *s = md_yaml_scalar(v);

	if (s != NULL && md_parse_duration_ms(s, max_ms, out) == 0)
		return 0;
	return bad(x, v, key,
	    "'%s' is not a duration up to %llds (\"5s\", \"500ms\")",
	    s ? s : "(not a scalar)", max_ms / 1000);
}

/* A path from the file, taken from the config file's folder if relative. */
static char *
relative_to(struct ctx *x, const char *file)
{
	char path[4096];

	if (file[0] != '/' && strchr(x->y->file, '/') != NULL) {
		const char *slash = strrchr(x->y->file, '/');

		snprintf(path, sizeof(path), "%.*s/%s",
		    (int)(slash - x->y->file), x->y->file, file);
	} else {
		md_strlcpy(path, file, sizeof(path));
	}
	return strdup(path);
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
	char *path = relative_to(x, file);
	char where[4200];
	int rc;

	if (path == NULL)
		return -ENOMEM;
	snprintf(where, sizeof(where), "%s:%u", x->y->file, md_yaml_line(n));
	rc = md_config_add_zone(c, path, origin, format, auto_ptr, where);
	free(path);
	if (rc != 0)
		return -ENOMEM;
	return 0;
}
/* Number-valued keys: name, range, and where the value goes. */
enum number_field {
	F_EDNS_SIZE,
	F_TCP_IDLE,
	F_TCP_MAX,
	F_TCP_MAX_CLIENT,
	F_TCP_READ,
	F_HTTP_MAX,
	F_ZONE_CHECK,
	F_CACHE_SIZE,
	F_CACHE_MIN_TTL,
	F_CACHE_MAX_TTL,
	F_CACHE_MAX_NEG_TTL,
	F_MAX_QUERIES,
	F_MAX_DEPTH,
	F_MAX_CNAME,
	F_MAX_NS_NAMES,
	F_RESOLUTION_TIMEOUT,
	F_SERVFAIL_TTL,
	F_VAL_BOGUS_TTL,
	F_RATE_LIMIT,
	F_RATE_LIMIT_V6,
	F_THREADS,
	F_UDP_BATCH_WAIT,
};

static const struct {
	const char *key;
	long long min, max;
	enum number_field field;
} numbers[] = {
    {"edns-buffer-size", 512, 4096, F_EDNS_SIZE},
    {"tcp-idle-timeout", 1, 3600, F_TCP_IDLE},
    {"tcp-max-connections", 1, 100000, F_TCP_MAX},
    {"tcp-max-connections-per-client", 1, 100000, F_TCP_MAX_CLIENT},
    {"tcp-read-timeout", 1, 3600, F_TCP_READ},
    {"http-max-connections", 1, 10000, F_HTTP_MAX},
    {"zone-check-interval", 0, 86400, F_ZONE_CHECK},
    {"cache-size", 1, 65536, F_CACHE_SIZE},
    {"cache-min-ttl", 0, 86400, F_CACHE_MIN_TTL},
    {"cache-max-ttl", 1, 604800, F_CACHE_MAX_TTL},
    {"cache-max-negative-ttl", 0, 86400, F_CACHE_MAX_NEG_TTL},
    {"max-upstream-queries", 1, 1000, F_MAX_QUERIES},
    {"max-referral-depth", 1, 100, F_MAX_DEPTH},
    {"max-cname-chain", 1, 100, F_MAX_CNAME},
    {"max-ns-names", 1, 100, F_MAX_NS_NAMES},
    {"resolve-timeout", 100, 60000, F_RESOLUTION_TIMEOUT},
    /* The older spelling of resolve-timeout, still read. */
    {"resolution-timeout", 100, 60000, F_RESOLUTION_TIMEOUT},
    {"servfail-ttl", 1, 300, F_SERVFAIL_TTL},
    {"val-bogus-ttl", 1, 86400, F_VAL_BOGUS_TTL},
    {"rate-limit", 0, 1000000, F_RATE_LIMIT},
    {"rate-limit-ipv6-prefix", 0, 128, F_RATE_LIMIT_V6},
    {"threads", 0, MD_CONFIG_MAX_THREADS, F_THREADS},
    {"udp-batch-wait", 0, 1000, F_UDP_BATCH_WAIT},
};

static void
set_number(struct md_config *c, enum number_field f, long long n)
{
	switch (f) {
	case F_EDNS_SIZE:
		c->edns_buffer_size = (uint16_t)n;
		break;
	case F_TCP_IDLE:
		c->tcp_idle_timeout = (unsigned)n;
		break;
	case F_TCP_MAX:
		c->tcp_max_connections = (unsigned)n;
		break;
	case F_TCP_MAX_CLIENT:
		c->tcp_max_connections_per_client = (unsigned)n;
		break;
	case F_TCP_READ:
		c->tcp_read_timeout = (unsigned)n;
		break;
	case F_HTTP_MAX:
		c->http_max_connections = (unsigned)n;
		break;
	case F_ZONE_CHECK:
		c->zone_check_interval = (unsigned)n;
		break;
	case F_CACHE_SIZE:
		c->cache_size_mib = (unsigned)n;
		break;
	case F_CACHE_MIN_TTL:
		c->cache_min_ttl = (uint32_t)n;
		break;
	case F_CACHE_MAX_TTL:
		c->cache_max_ttl = (uint32_t)n;
		break;
	case F_CACHE_MAX_NEG_TTL:
		c->cache_max_negative_ttl = (uint32_t)n;
		break;
	case F_MAX_QUERIES:
		c->max_upstream_queries = (unsigned)n;
		break;
	case F_MAX_DEPTH:
		c->max_referral_depth = (unsigned)n;
		break;
	case F_MAX_CNAME:
		c->max_cname_chain = (unsigned)n;
		break;
	case F_MAX_NS_NAMES:
		c->max_ns_names = (unsigned)n;
		break;
	case F_RESOLUTION_TIMEOUT:
		c->resolution_timeout = (unsigned)n;
		break;
	case F_SERVFAIL_TTL:
		c->servfail_ttl = (uint32_t)n;
		break;
	case F_VAL_BOGUS_TTL:
		c->val_bogus_ttl = (uint32_t)n;
		break;
	case F_RATE_LIMIT:
		c->rate_limit = (unsigned)n;
		break;
	case F_RATE_LIMIT_V6:
		c->rate_limit_ipv6_prefix = (unsigned)n;
		break;
	case F_THREADS:
		c->threads = (unsigned)n;
		break;
	case F_UDP_BATCH_WAIT:
		c->udp_batch_wait = (unsigned)n;
		break;
	}
}

/* A key and where its value goes in struct md_config. */
struct field {
	const char *key;
	size_t off;
};

static const struct field bools[] = {
    {"recursion", offsetof(struct md_config, recursion)},
    {"prime-at-start", offsetof(struct md_config, prime_at_start)},
    {"loop-detect", offsetof(struct md_config, loop_detect)},
    {"allow-private-upstreams",
	offsetof(struct md_config, allow_private_upstreams)},
    {"qname-minimisation", offsetof(struct md_config, qname_minimisation)},
    {"use-0x20", offsetof(struct md_config, use_0x20)},
    {"serve-stale", offsetof(struct md_config, serve_stale)},
    {"rrset-roundrobin", offsetof(struct md_config, rrset_roundrobin)},
    {"prefetch", offsetof(struct md_config, prefetch)},
    {"stub", offsetof(struct md_config, stub)},
    {"query-log", offsetof(struct md_config, query_log)},
    {"allow-open-resolver", offsetof(struct md_config, allow_open_resolver)},
    {"setup-iptables", offsetof(struct md_config, setup_iptables)},
    {"aggressive-nsec", offsetof(struct md_config, aggressive_nsec)},
};

/* File-name keys, taken from the config file's folder when relative. */
static const struct field paths[] = {
    {"resolv-conf", offsetof(struct md_config, resolv_conf)},
    {"tls-ca", offsetof(struct md_config, tls_ca)},
    {"tls-cert", offsetof(struct md_config, tls_cert)},
    {"tls-key", offsetof(struct md_config, tls_key)},
    {"control-socket", offsetof(struct md_config, control_socket)},
    {"log-file", offsetof(struct md_config, log_file)},
    {"chroot", offsetof(struct md_config, chroot_dir)},
    {"pid-file", offsetof(struct md_config, pid_file)},
};

/* Plain string keys (no path handling). */
static const struct field strings[] = {
    {"metrics", offsetof(struct md_config, metrics)},
    {"health", offsetof(struct md_config, health)},
    {"ready", offsetof(struct md_config, ready)},
    {"user", offsetof(struct md_config, user)},
    {"setup-interface", offsetof(struct md_config, setup_interface)},
};

static int
add_tls_listen(struct ctx *x, struct md_config *c, yaml_node_t *a)
{
	const char *sv = md_yaml_scalar(a);

	if (c->ntls_listen >= MD_CONFIG_MAX_LISTEN)
		return bad(x, a, "tls-listen", "more than %d addresses",
		    MD_CONFIG_MAX_LISTEN);
	if (sv == NULL ||
	    md_sockaddr_parse(sv, 853, &c->tls_listen[c->ntls_listen]) != 0)
		return bad(x, a, "tls-listen",
		    "'%s' is not an address (ADDR, ADDR:PORT or [V6ADDR]:PORT)",
		    sv ? sv : "");
	c->ntls_listen++;
	return 0;
}

/* One item of 'forward': {zone, servers, force-tcp, policy}. */
static int
read_forward(struct ctx *x, struct md_config *c, yaml_node_t *n)
{
	const char *zone = NULL;
	yaml_node_t *servers = NULL, *zone_node = n;
	bool force_tcp = false, have_pin = false, insecure = false;
	uint8_t pin[32];
	enum md_forward_policy policy = MD_FORWARD_RTT;
	long long max_ttl = 0, max_neg = 0;
	char why[512];

	if (n->type != YAML_MAPPING_NODE)
		return bad(x, n, "forward",
		    "each item is a mapping with zone and servers");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = md_yaml_node(x->y, p->key);
		yaml_node_t *v = md_yaml_node(x->y, p->value);
		const char *key = md_yaml_scalar(k);
		const char *val = md_yaml_scalar(v);

		if (key == NULL)
			return bad(x, k, "forward", "key is not a scalar");
		if (strcmp(key, "zone") == 0 && val != NULL) {
			zone = val;
			zone_node = v;
		} else if (strcmp(key, "servers") == 0) {
			servers = v;
		} else if (strcmp(key, "force-tcp") == 0) {
			if (val == NULL || md_parse_bool(val, &force_tcp) != 0)
				return bad(x, v, key,
				    "'%s' is not a boolean (yes/no)",
				    val ? val : "");
		} else if (strcmp(key, "insecure") == 0) {
			if (val == NULL || md_parse_bool(val, &insecure) != 0)
				return bad(x, v, key,
				    "'%s' is not a boolean (yes/no)",
				    val ? val : "");
		} else if (strcmp(key, "spki-pin") == 0) {
			/* RFC 7858 §4.2: base64 of the SHA-256 of the
			 * server's SubjectPublicKeyInfo. */
			unsigned char raw[64];
			int len = val != NULL
			    ? EVP_DecodeBlock(raw, (const unsigned char *)val,
				  (int)strlen(val))
			    : -1;

			/* EVP_DecodeBlock counts the padding as data. */
			if (val != NULL && len > 0 && strlen(val) == 44 &&
			    val[43] == '=')
				len--;
			if (len != 32)
				return bad(x, v, key,
				    "'%s' is not a base64 SHA-256 pin",
				    val ? val : "");
			memcpy(pin, raw, 32);
			have_pin = true;
		} else if (strcmp(key, "policy") == 0) {
			if (val != NULL && strcmp(val, "rtt") == 0)
				policy = MD_FORWARD_RTT;
			else if (val != NULL && strcmp(val, "sequential") == 0)
				policy = MD_FORWARD_SEQUENTIAL;
			else if (val != NULL && strcmp(val, "random") == 0)
				policy = MD_FORWARD_RANDOM;
			else
				return bad(x, v, key,
				    "'%s' is not a policy (rtt, sequential, "
				    "random)",
				    val ? val : "");
		} else if (strcmp(key, "cache-max-ttl") == 0 ||
		    strcmp(key, "cache-max-negative-ttl") == 0) {
			long long *dst = strcmp(key, "cache-max-ttl") == 0
			    ? &max_ttl
			    : &max_neg;

			if (val == NULL ||
			    md_parse_int(val, 1, 604800, dst) != 0)
				return bad(x, v, key,
				    "'%s' is not a number of seconds (1 to "
				    "604800)",
				    val ? val : "");
		} else {
			return bad(x, k, key,
			    "unknown key (expected zone, servers, force-tcp, "
			    "policy, spki-pin, cache-max-ttl, "
			    "cache-max-negative-ttl, insecure)");
		}
	}
	if (zone == NULL)
		return bad(x, n, "forward", "an item needs a zone");
	if (servers == NULL)
		return bad(x, n, "forward", "zone %s: no servers", zone);
	if (servers->type == YAML_SCALAR_NODE) {
		if (md_config_add_forward(c, zone, md_yaml_scalar(servers), why,
			sizeof(why)) != 0)
			return bad(x, servers, "servers", "%s", why);
	} else if (servers->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = servers->data.sequence.items.start;
		     it < servers->data.sequence.items.top; it++) {
			yaml_node_t *a = md_yaml_node(x->y, *it);
			const char *sv = md_yaml_scalar(a);

			if (sv == NULL ||
			    md_config_add_forward(
				c, zone, sv, why, sizeof(why)) != 0)
				return bad(x, a, "servers", "%s",
				    sv ? why : "not an address");
		}
	} else {
		return bad(x, servers, "servers", "expected a list");
	}
	uint8_t name[MD_NAME_MAX];
	struct md_forward_zone *f;

	f = md_name_from_str(zone, NULL, name) < 0
	    ? NULL
	    : md_config_find_forward(c, name);
	if (f == NULL)
		return bad(
		    x, zone_node, "zone", "'%s' is not a zone name", zone);
	f->force_tcp = force_tcp;
	f->insecure = insecure;
	f->policy = policy;
	f->max_ttl = (uint32_t)max_ttl;
	f->max_negative_ttl = (uint32_t)max_neg;
	for (size_t i = 0; have_pin && i < f->nservers; i++) {
		if (f->servers[i].transport != MD_TRANSPORT_TLS)
			continue;
		f->servers[i].have_pin = true;
		memcpy(f->servers[i].spki_pin, pin, sizeof(pin));
	}
	return 0;
}

/* A string value into *field (replacing it); paths are taken from the
 * config file's folder when relative. */
static int
set_string(
    struct ctx *x, yaml_node_t *v, const char *key, char **field, bool path)
{
	const char *sv = md_yaml_scalar(v);

	if (sv == NULL || sv[0] == '\0')
		return bad(x, v, key, "expected a value");
	free(*field);
	*field = path ? relative_to(x, sv) : strdup(sv);
	return *field != NULL ? 0 : -ENOMEM;
}

/*
 * kubernetes: { zones, kubeconfig, server, token-file, token, ca-file,
 * client-cert, client-key, insecure-http, namespaces, ttl, pods,
 * endpoint-pod-names, fallthrough, reverse, startup-timeout,
 * watch-timeout, autopath, autopath-search }
 */
static int
read_kubernetes(struct ctx *x, struct md_config *c, yaml_node_t *n)
{
	struct md_k8s_conf *k = &c->k8s;
	yaml_node_t *autopath_at = NULL;

	if (n->type != YAML_MAPPING_NODE)
		return bad(x, n, "kubernetes", "expected a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = md_yaml_node(x->y, p->key);
		yaml_node_t *v = md_yaml_node(x->y, p->value);
		const char *key = md_yaml_scalar(kn);
		const char *val = md_yaml_scalar(v);
		long long num;
		int rc = 0;

		if (key == NULL)
			return bad(x, kn, "kubernetes", "key is not a scalar");
		if (strcmp(key, "zones") == 0 ||
		    strcmp(key, "namespaces") == 0) {
			bool zones = key[0] == 'z';

			if (v->type != YAML_SEQUENCE_NODE)
				return bad(x, v, key, "expected a list");
			if (zones)
				k->nzones = 0;
			else
				k->nnamespaces = 0;
			for (yaml_node_item_t *it =
				 v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *a = md_yaml_node(x->y, *it);
				const char *sv = md_yaml_scalar(a);
				char why[256];

				if (sv == NULL)
					return bad(x, a, key, "not a name");
				rc = zones ? md_config_add_k8s_zone(
						 c, sv, why, sizeof(why))
					   : md_config_add_k8s_namespace(
						 c, sv, why, sizeof(why));
				if (rc != 0)
					return bad(x, a, key, "%s", why);
			}
		} else if (strcmp(key, "kubeconfig") == 0) {
			rc = set_string(x, v, key, &k->kubeconfig, true);
		} else if (strcmp(key, "server") == 0) {
			rc = set_string(x, v, key, &k->server, false);
		} else if (strcmp(key, "token-file") == 0) {
			rc = set_string(x, v, key, &k->token_file, true);
		} else if (strcmp(key, "token") == 0) {
			rc = set_string(x, v, key, &k->token, false);
		} else if (strcmp(key, "ca-file") == 0) {
			rc = set_string(x, v, key, &k->ca_file, true);
		} else if (strcmp(key, "client-cert") == 0) {
			rc = set_string(x, v, key, &k->client_cert, true);
		} else if (strcmp(key, "client-key") == 0) {
			rc = set_string(x, v, key, &k->client_key, true);
		} else if (strcmp(key, "ttl") == 0) {
			rc = get_uint(x, v, key, 0, 3600, &num);
			if (rc == 0)
				k->ttl = (uint32_t)num;
		} else if (strcmp(key, "startup-timeout") == 0) {
			rc = get_duration(x, v, key, 600000, &num);
			if (rc == 0)
				k->startup_timeout_ms = (uint32_t)num;
		} else if (strcmp(key, "watch-timeout") == 0) {
			rc = get_uint(x, v, key, MD_K8S_WATCH_TIMEOUT_MIN,
			    MD_K8S_WATCH_TIMEOUT_MAX, &num);
			if (rc == 0)
				k->watch_timeout = (uint32_t)num;
		} else if (strcmp(key, "pods") == 0) {
			if (val != NULL && strcmp(val, "disabled") == 0)
				k->pods = MD_K8S_PODS_DISABLED;
			else if (val != NULL && strcmp(val, "insecure") == 0)
				k->pods = MD_K8S_PODS_INSECURE;
			else if (val != NULL && strcmp(val, "verified") == 0)
				k->pods = MD_K8S_PODS_VERIFIED;
			else
				return bad(x, v, key,
				    "'%s' is not a pod mode (disabled, "
				    "insecure, verified)",
				    val ? val : "");
		} else if (strcmp(key, "autopath-search") == 0) {
			if (v->type != YAML_SEQUENCE_NODE)
				return bad(x, v, key, "expected a list");
			k->nautopath_search = 0;
			for (yaml_node_item_t *it =
				 v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *a = md_yaml_node(x->y, *it);
				const char *sv = md_yaml_scalar(a);

				if (k->nautopath_search >= MD_K8S_SEARCH_MAX)
					return bad(x, a, key,
					    "more than %d search domains",
					    MD_K8S_SEARCH_MAX);
				if (sv == NULL ||
				    md_name_from_str(sv, NULL,
					k->autopath_search
					    [k->nautopath_search]) < 0)
					return bad(x, a, key,
					    "'%s' is not a domain name",
					    sv ? sv : "");
				for (size_t j = 0; j < k->nautopath_search;
				     j++) {
					if (md_name_equal(k->autopath_search[j],
						k->autopath_search
						    [k->nautopath_search]))
						return bad(x, a, key,
						    "'%s' is listed twice", sv);
				}
				k->nautopath_search++;
			}
		} else if (strcmp(key, "autopath") == 0) {
			if (val == NULL ||
			    md_parse_bool(val, &k->autopath) != 0)
				return bad(x, v, key,
				    "'%s' is not a boolean (yes/no)",
				    val ? val : "");
			autopath_at = v;
		} else if (strcmp(key, "insecure-http") == 0 ||
		    strcmp(key, "endpoint-pod-names") == 0 ||
		    strcmp(key, "fallthrough") == 0 ||
		    strcmp(key, "reverse") == 0) {
			bool b;

			if (val == NULL || md_parse_bool(val, &b) != 0)
				return bad(x, v, key,
				    "'%s' is not a boolean (yes/no)",
				    val ? val : "");
			if (key[0] == 'i')
				k->insecure_http = b;
			else if (key[0] == 'e')
				k->endpoint_pod_names = b;
			else if (key[0] == 'f')
				k->fallthrough = b;
			else
				k->reverse = b;
		} else {
			return bad(x, kn, key,
			    "unknown key (expected zones, kubeconfig, server, "
			    "token-file, token, ca-file, client-cert, "
			    "client-key, insecure-http, namespaces, ttl, pods, "
			    "endpoint-pod-names, fallthrough, reverse, "
			    "startup-timeout, watch-timeout, autopath, "
			    "autopath-search)");
		}
		if (rc != 0)
			return rc;
	}
	/* The client's namespace comes from its pod's address: only pods
	 * the API listed (CoreDNS refuses autopath without it too). */
	if (k->autopath && k->pods != MD_K8S_PODS_VERIFIED)
		return bad(x, autopath_at, "autopath",
		    "needs pods: verified (the client's namespace is that of "
		    "the pod with its address)");
	return 0;
}

/* One file of trust-anchor-file, taken from the config's folder. */
static int
add_trust_anchor(
    struct ctx *x, struct md_config *c, const char *key, yaml_node_t *a)
{
	const char *sv = md_yaml_scalar(a);
	char *path;
	int rc;

	if (sv == NULL || sv[0] == '\0')
		return bad(x, a, key, "expected a file name");
	path = relative_to(x, sv);
	if (path == NULL)
		return -ENOMEM;
	rc = md_config_add_trust_anchor(c, path);
	free(path);
	return rc;
}

/* trust-anchor-file: a file name or a list of them (replacing any set
 * before); they are read by md_config_finish(). */
static int
read_trust_anchors(
    struct ctx *x, struct md_config *c, const char *key, yaml_node_t *v)
{
	md_config_clear_trust_anchors(c);
	if (v->type == YAML_SCALAR_NODE)
		return add_trust_anchor(x, c, key, v);
	if (v->type != YAML_SEQUENCE_NODE)
		return bad(x, v, key, "expected a file name or a list of them");
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		int rc = add_trust_anchor(x, c, key, md_yaml_node(x->y, *it));

		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * A key whose value is a list of strings, each added by add() (and, with
 * one_ok, a single string too: "listen: 127.0.0.1:53"); errors name the
 * item.  list: "addresses"; one: "an address".
 */
static int
read_list(struct ctx *x, struct md_config *c, const char *key, yaml_node_t *v,
    int (*add)(struct md_config *, const char *, char *, size_t), bool one_ok,
    const char *list, const char *one)
{
	char why[MD_NAME_STRLEN + 64];

	if (one_ok && v->type == YAML_SCALAR_NODE) {
		if (add(c, md_yaml_scalar(v), why, sizeof(why)) != 0)
			return bad(x, v, key, "%s", why);
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return bad(x, v, key, "expected a list of %s", list);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *a = md_yaml_node(x->y, *it);
		const char *sv = md_yaml_scalar(a);

		if (sv == NULL)
			return bad(x, a, key, "not %s", one);
		if (add(c, sv, why, sizeof(why)) != 0)
			return bad(x, a, key, "%s", why);
	}
	return 0;
}

static int
read_key(struct ctx *x, struct md_config *c, const char *key, yaml_node_t *k,
    yaml_node_t *v)
{
	long long n = 0;
	int rc;

	if (strcmp(key, "listen") == 0) {
		md_config_clear_listen(c);
		return read_list(x, c, key, v, md_config_add_listen, true,
		    "addresses", "an address");
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (strcmp(key, numbers[i].key) != 0)
			continue;
		rc = get_uint(x, v, key, numbers[i].min, numbers[i].max, &n);
		if (rc == 0)
			set_number(c, numbers[i].field, n);
		return rc;
	}
	/* RFC 9156: relaxed (yes, Unbound's default), strict or off. */
	if (strcmp(key, "qname-minimisation") == 0 && md_yaml_scalar(v) &&
	    strcmp(md_yaml_scalar(v), "strict") == 0) {
		c->qname_minimisation = true;
		c->qname_minimisation_strict = true;
		return 0;
	}
	if (strcmp(key, "qname-minimisation") == 0)
		c->qname_minimisation_strict = false;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		const char *sv = md_yaml_scalar(v);

		if (strcmp(key, bools[i].key) != 0)
			continue;
		if (sv == NULL ||
		    md_parse_bool(sv, (bool *)((char *)c + bools[i].off)) != 0)
			return bad(x, v, key, "'%s' is not a boolean (yes/no)",
			    sv ? sv : "");
		return 0;
	}
	if (strcmp(key, "forward") == 0) {
		c->nforward = 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return bad(x, v, key,
			    "expected a list of {zone, servers, force-tcp, "
			    "policy}");
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			rc = read_forward(x, c, md_yaml_node(x->y, *it));
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (strcmp(key, "kubernetes") == 0)
		return read_kubernetes(x, c, v);
	if (strcmp(key, "lameduck") == 0) {
		rc = get_duration(x, v, key, 600000, &n);
		if (rc == 0)
			c->lameduck_ms = (unsigned)n;
		return rc;
	}
	if (strcmp(key, "tls-listen") == 0) {
		c->ntls_listen = 0;
		if (v->type != YAML_SEQUENCE_NODE &&
		    v->type != YAML_SCALAR_NODE)
			return bad(x, v, key, "expected a list of addresses");
		if (v->type == YAML_SCALAR_NODE)
			return add_tls_listen(x, c, v);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			rc = add_tls_listen(x, c, md_yaml_node(x->y, *it));
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *sv = md_yaml_scalar(v);
		char **field = (char **)((char *)c + paths[i].off);

		if (strcmp(key, paths[i].key) != 0)
			continue;
		if (sv == NULL || sv[0] == '\0')
			return bad(x, v, key, "expected a file name");
		free(*field);
		*field = relative_to(x, sv);
		return *field != NULL ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (strcmp(key, strings[i].key) == 0)
			return set_string(x, v, key,
			    (char **)((char *)c + strings[i].off), false);
	}
	if (strcmp(key, "udp-steering") == 0)
		return get_choice(x, v, key, "cpu", "hash", &c->udp_steer_cpu);
	if (strcmp(key, "log-format") == 0) {
		const char *sv = md_yaml_scalar(v);

		if (sv == NULL || md_log_format_parse(sv, &c->log_format) != 0)
			return bad(x, v, key,
			    "'%s' is not a log format (text, logfmt, json)",
			    sv ? sv : "");
		return 0;
	}
	if (strcmp(key, "root-hints") == 0) {
		const char *sv = md_yaml_scalar(v);

		if (sv == NULL || sv[0] == '\0')
			return bad(x, v, key, "expected a file name");
		free(c->root_hints);
		c->root_hints = relative_to(x, sv);
		return c->root_hints != NULL ? 0 : -ENOMEM;
	}
	if (strcmp(key, "dnssec") == 0) {
		if (get_choice(
			x, v, key, "validate", "off", &c->dnssec_validate) != 0)
			return MD_ECONFIG;
		c->dnssec_set = true;
		return 0;
	}
	if (strcmp(key, "trust-anchor-file") == 0)
		return read_trust_anchors(x, c, key, v);
	if (strcmp(key, "domain-insecure") == 0) {
		c->ndomain_insecure = 0;
		if (v->type == YAML_SCALAR_NODE && md_yaml_scalar(v)[0] == '\0')
			return 0; /* "domain-insecure:" with nothing */
		return read_list(x, c, key, v, md_config_add_insecure, true,
		    "names", "a name");
	}
	if (strcmp(key, "log-trace") == 0) {
		c->ntrace = 0;
		return read_list(x, c, key, v, md_config_add_trace, false,
		    "names", "a name");
	}
	if (strcmp(key, "access-control") == 0) {
		c->nacl = 0;
		return read_list(x, c, key, v, md_config_add_acl, false,
		    "networks", "a network");
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
	return md_config_load_text(c, path, NULL, 0, err, errlen);
}

/*
 * ${NAME} in the file is the environment variable NAME (CoreDNS's Corefile
 * has {$NAME}): how a pod reaches a Service by name, through the
 * NAME_SERVICE_HOST variables the kubelet sets.  Expanded in the text
 * before it is parsed, so line numbers stay; an unset variable, or one
 * holding a line break, is an error at its line.  Returns the new text
 * (malloc'ed, *outlen its length) or NULL with err set.
 */
static char *
expand_env(const char *path, const char *text, size_t len, size_t *outlen,
    char *err, size_t errlen)
{
	size_t cap = len + 1, n = 0;
	char *out = malloc(cap);
	unsigned line = 1;
	char quote = 0;	      /* inside '...' or "..." */
	bool comment = false; /* after a '#' that starts a YAML comment */

	if (out == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		const char *val = NULL;
		size_t name_len = 0, vlen;
		char name[128];

		if (text[i] == '\n') {
			line++;
			quote = 0;
			comment = false;
		} else if (!comment && quote == 0 &&
		    (text[i] == '"' || text[i] == '\'')) {
			quote = text[i];
		} else if (quote == '"' && text[i] == '\\' && i + 1 < len &&
		    text[i + 1] != '\n') {
			out[n++] = text[i++]; /* an escape: the next one too */
		} else if (quote != 0 && text[i] == quote) {
			quote = 0;
		} else if (quote == 0 && text[i] == '#' &&
		    (i == 0 || isspace((unsigned char)text[i - 1]))) {
			comment = true; /* comments are left as they are */
		}
		if (!comment && text[i] == '$' && i + 2 < len &&
		    text[i + 1] == '{' &&
		    (isalpha((unsigned char)text[i + 2]) ||
			text[i + 2] == '_')) {
			while (i + 2 + name_len < len &&
			    (isalnum((unsigned char)text[i + 2 + name_len]) ||
				text[i + 2 + name_len] == '_'))
				name_len++;
			if (i + 2 + name_len < len &&
			    text[i + 2 + name_len] == '}' &&
			    name_len < sizeof(name)) {
				memcpy(name, text + i + 2, name_len);
				name[name_len] = '\0';
				val = getenv(name);
				if (val == NULL || strchr(val, '\n') != NULL) {
					snprintf(err, errlen,
					    "%s:%u: ${%s}: %s", path, line,
					    name,
					    val == NULL ? "not set in the "
							  "environment"
							: "holds a line break");
					free(out);
					return NULL;
				}
			}
		}
		if (val == NULL) {
			out[n++] = text[i];
			continue;
		}
		vlen = strlen(val);
		if (n + vlen + (len - i) + 1 > cap) {
			char *bigger;

			cap = n + vlen + (len - i) + 1;
			bigger = realloc(out, cap);
			if (bigger == NULL) {
				snprintf(
				    err, errlen, "%s: out of memory", path);
				free(out);
				return NULL;
			}
			out = bigger;
		}
		memcpy(out + n, val, vlen);
		n += vlen;
		i += 2 + name_len; /* the '}' */
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

int
md_config_load_text(struct md_config *c, const char *path, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct md_yaml y;
	struct ctx x = {&y, err, errlen};
	yaml_node_t *root;
	char *expanded;
	size_t elen;
	int rc;

	char *owned = NULL;

	if (text == NULL) {
		/* the file, whole: ${NAME} is expanded in the text */
		FILE *fp = fopen(path, "r");
		size_t cap = 0;

		if (fp == NULL) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
			return rc;
		}
		len = 0;
		for (;;) {
			if (len + 4096 + 1 > cap) {
				char *bigger = realloc(owned, cap + 65536);

				if (bigger == NULL) {
					free(owned);
					fclose(fp);
					snprintf(err, errlen,
					    "%s: out of memory", path);
					return -ENOMEM;
				}
				owned = bigger;
				cap += 65536;
			}
			size_t got = fread(owned + len, 1, 4096, fp);

			len += got;
			if (got < 4096)
				break;
		}
		rc = ferror(fp) ? -EIO : 0;
		fclose(fp);
		if (rc != 0) {
			free(owned);
			snprintf(err, errlen, "%s: cannot read", path);
			return rc;
		}
		text = owned;
	}
	expanded = expand_env(path, text, len, &elen, err, errlen);
	free(owned);
	if (expanded == NULL)
		return MD_ECONFIG;
	rc = md_yaml_load(&y, path, expanded, elen, err, errlen);
	/* libyaml's document holds its own copies of the scalars */
	free(expanded);
	if (rc != 0)
		return rc == MD_EPARSE ? MD_ECONFIG : rc;
	rc = md_yaml_check_unique_keys(&y, err, errlen);
	if (rc != 0) {
		md_yaml_free(&y);
		return rc;
	}
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
		if (rc == 0) {
			char at[4200];

			snprintf(
			    at, sizeof(at), "%s:%u", path, md_yaml_line(k));
			rc = md_config_set_where(c, key, at);
		}
		if (rc != 0)
			goto done;
	}
done:
	md_yaml_free(&y);
	return rc;
}
