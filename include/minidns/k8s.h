/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s.h - the Kubernetes source's data: its configuration, the store of
 * the current Services, EndpointSlices, Namespaces and Pods, and the
 * builder that turns the store into zones for the zone store (the one
 * same-layer edge: k8s -> zone), following the Kubernetes DNS-Based
 * Service Discovery specification 1.1.0.
 *
 * No I/O here: the watch client (minidns/k8s_watch.h, a layer up) lists
 * and watches the API, applies what it reads to a store, runs the builder
 * and publishes the zones.  Typical use:
 *
 *	st = md_k8s_store_new();
 *	kb = md_k8s_builder_new(&conf);
 *	md_k8s_store_apply(st, MD_K8S_SERVICE, false, json, err, errlen);
 *	...
 *	md_k8s_builder_update(kb, st, serial, err, errlen);
 *	md_k8s_builder_update_reverse(kb, st, serial, err, errlen);
 *	n = md_k8s_builder_zones(kb, &zones);
 */
#ifndef MINIDNS_K8S_H
#define MINIDNS_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minidns/zone.h"

struct json_t; /* jansson's json_t */

#define MD_K8S_ZONES_MAX 8
#define MD_K8S_NAMESPACES_MAX 64
#define MD_K8S_SEARCH_MAX 6 /* autopath-search: the host's search domains */
/* kubernetes: watch-timeout, seconds: a frozen API is noticed this fast */
#define MD_K8S_WATCH_TIMEOUT_DEFAULT 60
#define MD_K8S_WATCH_TIMEOUT_MIN 2
#define MD_K8S_WATCH_TIMEOUT_MAX 3600

enum md_k8s_pod_mode {
	MD_K8S_PODS_DISABLED = 0, /* spec 1.1.0: no pod records */
	MD_K8S_PODS_INSECURE,	  /* a-b-c-d.<ns>.pod.<zone> for any a.b.c.d */
	MD_K8S_PODS_VERIFIED,	  /* only for IPs of pods in that namespace */
};

struct md_k8s_conf {
	/* where the API is: explicit server, else kubeconfig, else in-cluster
	 * (KUBERNETES_SERVICE_HOST/PORT and the service account files) */
	char *server;	    /* https://host:port or http://host:port */
	char *kubeconfig;   /* --kubeconfig FILE */
	char *token_file;   /* bearer token file (re-read: tokens rotate) */
	char *token;	    /* a fixed bearer token */
	char *ca_file;	    /* CA bundle for the API server */
	char *client_cert;  /* client certificate (PEM file) */
	char *client_key;   /* its key */
	bool insecure_http; /* allow http:// (off unless configured) */
	/* what to serve */
	uint8_t zones[MD_K8S_ZONES_MAX][255]; /* cluster domains (wire) */
	size_t nzones;
	char namespaces[MD_K8S_NAMESPACES_MAX][64]; /* filter; none: all */
	size_t nnamespaces;
	uint32_t ttl; /* of every record (5) */
	enum md_k8s_pod_mode pods;
	bool endpoint_pod_names; /* hostname from the pod name (CoreDNS) */
	bool fallthrough;	 /* unknown names: next source, not NXDOMAIN */
	bool reverse;		 /* PTR records (in-addr.arpa, ip6.arpa) */
	/* autopath (needs pods: verified): a pod's query for the first
	 * expansion of its search path is completed here, the rest of the
	 * path (<ns>.svc, svc, the domain, autopath-search, the bare name)
	 * walked by the server (as CoreDNS's autopath @kubernetes) */
	bool autopath;
	uint8_t autopath_search[MD_K8S_SEARCH_MAX][255]; /* wire */
	size_t nautopath_search;
	/* at start, how long the daemon waits for the first full list
	 * before it serves (5000, as CoreDNS); read at start only */
	uint32_t startup_timeout_ms;
	/* a watch silent (no event, no bookmark) this long is dropped */
	uint32_t watch_timeout; /* seconds (60) */
};

/* Defaults: ttl 5, pods disabled, reverse on, watch-timeout 60, no
 * zones, startup-timeout 5 s. */
void md_k8s_conf_init(struct md_k8s_conf *c);
void md_k8s_conf_deinit(struct md_k8s_conf *c);

/* ---- where the API is (k8s_config.c) ------------------------------------ */

/* Where and how to connect, resolved from md_k8s_conf. */
struct md_k8s_endpoint_conf {
	char host[256];
	uint16_t port;
	bool tls;
	char ca_file[1024];    /* "" : system store */
	char *ca_pem;	       /* inline certificate-authority-data */
	char token_file[1024]; /* re-read before each request */
	char *token;	       /* fixed token */
	char cert_file[1024], key_file[1024];
	char *cert_pem, *key_pem; /* inline client-*-data */
};

/*
 * Resolve conf's connection settings: the explicit server, else the
 * kubeconfig file, else the in-cluster environment and service account.
 * Returns 0, or MD_ECONFIG with the file and the problem in err (out is
 * then empty).  out owns its strings: md_k8s_endpoint_conf_deinit() frees
 * them.
 */
int md_k8s_resolve_endpoint(const struct md_k8s_conf *conf,
    struct md_k8s_endpoint_conf *out, char *err, size_t errlen);
void md_k8s_endpoint_conf_deinit(struct md_k8s_endpoint_conf *e);

/* ---- objects ------------------------------------------------------------ */

enum md_k8s_kind {
	MD_K8S_SERVICE = 0,
	MD_K8S_SLICE,
	MD_K8S_NAMESPACE,
	MD_K8S_POD,
	MD_K8S_KIND_COUNT,
};

/* "Service", "EndpointSlice"... for logs. */
const char *md_k8s_kind_str(enum md_k8s_kind k);
/* metadata.namespace/name; "" when absent. */
void md_k8s_meta(const struct json_t *obj, char *ns, size_t nslen, char *name,
    size_t namelen);

/* ---- the store: the current objects of every kind (k8s_store.c) -------- */

struct md_k8s_store;

/* An empty store, or NULL when out of memory. */
struct md_k8s_store *md_k8s_store_new(void);
void md_k8s_store_free(struct md_k8s_store *st);
/*
 * Apply one object: ADDED/MODIFIED replace the object of that namespace
 * and name, DELETED removes it.  'obj' is the object's JSON.  Returns 0,
 * or MD_EPARSE (malformed: skipped, err says why).
 */
int md_k8s_store_apply(struct md_k8s_store *st, enum md_k8s_kind kind,
    bool deleted, const struct json_t *obj, char *err, size_t errlen);
/* Forget every object of a kind (before a relist is applied whole). */
void md_k8s_store_clear(struct md_k8s_store *st, enum md_k8s_kind kind);
/*
 * Move src's objects of a kind into dst in place of dst's (src's map of
 * that kind is left empty): the end of a list read page by page into a
 * staging store.  With 'key' ("ns/name", or the name of a Namespace)
 * only that object is replaced (removed from dst when src has none).
 */
void md_k8s_store_replace(struct md_k8s_store *dst, struct md_k8s_store *src,
    enum md_k8s_kind kind, const char *key);
/* The kinds of Services the DNS programming latency is told by
 * (CoreDNS's service_kind label). */
enum md_k8s_service_kind {
	MD_K8S_SVC_CLUSTER_IP = 0,
	MD_K8S_SVC_HEADLESS_WITH_SELECTOR,
	MD_K8S_SVC_HEADLESS_WITHOUT_SELECTOR,
	MD_K8S_SVC_KIND_COUNT,
};
/* "cluster_ip", "headless_with_selector", "headless_without_selector". */
const char *md_k8s_service_kind_str(enum md_k8s_service_kind k);
/* The kind of the Service ns/name, or -1 (none in the store, or an
 * ExternalName Service, which has no endpoints). */
int md_k8s_store_service_kind(
    const struct md_k8s_store *st, const char *ns, const char *name);
/*
 * An RFC 3339 time as the API writes it ("2026-12-03T14:19:07Z", maybe
 * with a fraction of a second and a numeric offset) into microseconds
 * since the epoch.  Returns 0, or MD_EPARSE.
 */
int md_k8s_parse_time(const char *s, uint64_t *us);
/* Objects held, per kind (for logs and tests). */
size_t md_k8s_store_count(const struct md_k8s_store *st, enum md_k8s_kind kind);

/* ---- the zones (k8s_build.c) ------------------------------------------- */

/*
 * The zones to serve before the first full list: one per cluster domain
 * of conf and, with conf->reverse, in-addr.arpa. and ip6.arpa., empty and
 * marked not ready (md_zone_set_not_ready(): SERVFAIL, never NXDOMAIN and
 * never forwarded).  Fills out[0..n) (n at most MD_K8S_PENDING_MAX), each
 * with one reference the caller owns.  Returns n, or -ENOMEM (nothing
 * held).
 */
#define MD_K8S_PENDING_MAX (MD_K8S_ZONES_MAX + 2)
ssize_t md_k8s_pending_zones(
    const struct md_k8s_conf *conf, struct md_zone **out);

/*
 * The incremental builder.  Its zones: per cluster domain of conf a main
 * zone (apex SOA and NS, dns-version, svc., the pod records) and one zone
 * per namespace (<ns>.svc.<domain>, whose negative answers carry the
 * domain's SOA); with conf->reverse, "in-addr.arpa." and "ip6.arpa."
 * holding the PTR records to names of the first domain, marked fallthrough
 * (other reverse names go on to the next source).  A change to one Service
 * rebuilds one namespace's zones, not the cluster's.
 *
 * conf must outlive the builder.  NULL when out of memory.
 */
struct md_k8s_builder;

struct md_k8s_builder *md_k8s_builder_new(const struct md_k8s_conf *conf);
void md_k8s_builder_free(struct md_k8s_builder *kb);
/*
 * Rebuild the main zones and the zones of the namespaces the store
 * recorded as changed (all of them the first time and after a relist),
 * dropping those of namespaces gone; then forget the store's changes.
 * 'serial' is the SOA serial.  Returns 0, or -1 with err set (the builder
 * may then hold some new zones and some old).
 */
int md_k8s_builder_update(struct md_k8s_builder *kb, struct md_k8s_store *st,
    uint32_t serial, char *err, size_t errlen);
/*
 * Rebuild the reverse zones whole (they span every namespace); nothing
 * without conf->reverse or a cluster domain.  Returns 0, or -1 with err set
 * (the old reverse zones stay).
 */
int md_k8s_builder_update_reverse(struct md_k8s_builder *kb,
    struct md_k8s_store *st, uint32_t serial, char *err, size_t errlen);
/*
 * The current zones in *out: the main zones, the namespaces' zones, the
 * reverse zones.  The builder keeps the references (take one with
 * md_zone_ref() to keep a zone); the list is valid until the next call.
 * Returns how many, or -ENOMEM.
 */
ssize_t md_k8s_builder_zones(struct md_k8s_builder *kb, struct md_zone ***out);

#endif /* MINIDNS_K8S_H */
