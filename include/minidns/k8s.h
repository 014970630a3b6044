/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s.h - the Kubernetes source: lists and watches Services,
 * EndpointSlices, Namespaces (and Pods when pod records are on) through the
 * Kubernetes API, and publishes the cluster zones built from them as new
 * zones for the zone store (the one same-layer edge: k8s -> zone).  The
 * records follow the Kubernetes DNS-Based Service Discovery specification
 * 1.1.0.
 *
 * It owns its HTTP(S) connections on the caller's event base; it never
 * blocks.  While the API is unreachable the last zones keep serving and
 * md_k8s_get_status() says how stale they are.
 */
#ifndef MINIDNS_K8S_H
#define MINIDNS_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/zone.h"

struct event_base;

#define MD_K8S_ZONES_MAX 8
#define MD_K8S_NAMESPACES_MAX 64

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
};

/* Defaults: ttl 5, pods disabled, reverse on, no zones. */
void md_k8s_conf_init(struct md_k8s_conf *c);
void md_k8s_conf_deinit(struct md_k8s_conf *c);

/*
 * New zones to publish: 'zones' holds n zones (the cluster zones, then the
 * reverse zones when on), each with one reference the callee takes over.
 * Called from the event loop after a change settles (changes are batched
 * for a few milliseconds, never applied half: a relist is built whole).
 */
typedef void (*md_k8s_publish_cb)(void *arg, struct md_zone **zones, size_t n);

struct md_k8s;

/*
 * Start: resolve the connection settings (errors name the file and the
 * problem, in err), then list and watch.  Returns NULL on a bad
 * configuration.
 */
struct md_k8s *md_k8s_new(struct event_base *base,
    const struct md_k8s_conf *conf, md_k8s_publish_cb cb, void *arg, char *err,
    size_t errlen);
void md_k8s_free(struct md_k8s *k);

struct md_k8s_status {
	bool synced;		/* every list has completed once */
	bool connected;		/* the watches are open */
	uint64_t last_event_ms; /* md_now_ms() of the last event or list */
	uint64_t stale_ms;	/* since when the API is unreachable, or 0 */
	unsigned relists;	/* after 410 Gone or reconnects */
	unsigned errors;	/* malformed objects or events skipped */
};

void md_k8s_get_status(const struct md_k8s *k, struct md_k8s_status *out);

#endif /* MINIDNS_K8S_H */
