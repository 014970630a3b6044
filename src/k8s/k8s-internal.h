/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s-internal.h - what the files of src/k8s/ share beyond their public
 * face (minidns/k8s.h): the objects as structs, their parsers, and how the
 * builder walks the store.
 *
 *   k8s_parse.c    JSON (jansson) -> the objects below
 *   k8s_store.c    the store of the current objects, and what changed
 *   k8s_build.c    the store -> zones (the DNS spec), incrementally
 *   k8s_config.c   in-cluster settings, kubeconfig files, explicit keys
 *
 * The watch client that feeds the store and publishes the zones is a
 * layer up (src/k8sio/, minidns/k8s_watch.h): it does the network I/O.
 *
 * Why jansson: the API speaks JSON, and a real JSON parser keeps number,
 * string-escape and unicode handling exact (libyaml reads most JSON but
 * not all of it, e.g. "\/" escapes and 64-bit integers).
 */
#ifndef MINIDNS_K8S_INTERNAL_H
#define MINIDNS_K8S_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "minidns/hashtab.h"
#include "minidns/k8s.h"
#include "minidns/util.h"
#include "minidns/zone.h"

#define MD_K8S_IPS_MAX 2 /* dual-stack: one IPv4, one IPv6 */
#define MD_K8S_ADDR_STRLEN 46

/* ---- objects, as far as DNS needs them ---------------------------------- */

struct md_k8s_port {
	char name[64];	  /* "" for an unnamed port */
	char protocol[8]; /* TCP, UDP, SCTP */
	uint16_t port;
};

struct md_k8s_service {
	char ns[64];
	char name[64];
	bool headless; /* spec.clusterIP: None */
	bool external; /* spec.type: ExternalName */
	char external_name[256];
	char cluster_ips[MD_K8S_IPS_MAX][MD_K8S_ADDR_STRLEN];
	unsigned ncluster_ips;
	bool publish_not_ready; /* spec.publishNotReadyAddresses */
	bool has_selector;	/* spec.selector is not empty */
	struct md_k8s_port *ports;
	unsigned nports;
};

/* One address of an EndpointSlice endpoint. */
struct md_k8s_endpoint {
	char addr[MD_K8S_ADDR_STRLEN];
	bool ready;	    /* conditions.ready (absent: ready) */
	char hostname[64];  /* endpoints[].hostname, or "" */
	char pod_name[254]; /* targetRef.name when the target is a Pod */
};

struct md_k8s_slice {
	char ns[64];
	char name[254];
	char service[64]; /* label kubernetes.io/service-name */
	struct md_k8s_port *ports;
	unsigned nports;
	struct md_k8s_endpoint *eps;
	unsigned neps;
};

struct md_k8s_pod {
	char ns[64];
	char name[254];
	char ips[MD_K8S_IPS_MAX][MD_K8S_ADDR_STRLEN];
	unsigned nips;
};

/* ---- parsing (k8s_parse.c) ---------------------------------------------- */

/* Format the reason into err (when not NULL); returns MD_EPARSE. */
int md_k8s_bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An RFC 1123 label, as Kubernetes names namespaces, services and
 * hostnames. */
bool md_k8s_is_label(const char *s);

/*
 * JSON object -> struct.  Returns 0, or MD_EPARSE with the reason in err
 * (the object is then skipped and counted, never half-applied).  The
 * out-structures own their arrays: md_k8s_*_clear() frees them.
 */
int md_k8s_parse_service(
    const json_t *obj, struct md_k8s_service *out, char *err, size_t errlen);
int md_k8s_parse_slice(
    const json_t *obj, struct md_k8s_slice *out, char *err, size_t errlen);
int md_k8s_parse_pod(
    const json_t *obj, struct md_k8s_pod *out, char *err, size_t errlen);
void md_k8s_service_clear(struct md_k8s_service *s);
void md_k8s_slice_clear(struct md_k8s_slice *s);

/* ---- walking the store (k8s_store.c), for the builder ------------------ */

/*
 * Walk the objects of one kind, in no particular order:
 *
 *	md_k8s_store_iter_init(&it, st, MD_K8S_SERVICE);
 *	while (md_k8s_store_next(&it, &key, &obj))
 *		...
 *
 * key is "namespace/name" ("name" for a Namespace), obj the parsed struct
 * (md_k8s_service, md_k8s_slice, md_k8s_pod; NULL for a Namespace), both
 * the store's.  The store must not change during a walk.
 */
struct md_k8s_store_iter {
	bool valid; /* a known kind */
	struct md_hashtab_iter it;
};

void md_k8s_store_iter_init(struct md_k8s_store_iter *it,
    const struct md_k8s_store *st, enum md_k8s_kind kind);
bool md_k8s_store_next(
    struct md_k8s_store_iter *it, const char **key, const void **obj);
/* The Service ns/name, or NULL. */
const struct md_k8s_service *md_k8s_store_service(
    const struct md_k8s_store *st, const char *ns, const char *name);
/* Does the store know namespace ns: as a Namespace object, or by a
 * Service or EndpointSlice in it? */
bool md_k8s_store_ns_present(const struct md_k8s_store *st, const char *ns);

/*
 * What changed since md_k8s_store_changes_clear(), for the builder: every
 * namespace (after md_k8s_store_clear() of a kind other than Pod, or out
 * of memory), or the namespaces of the Services, EndpointSlices and
 * Namespaces applied.  Pods are not recorded: their records live in the
 * main zones, which every build remakes.  'ns' points into the store and
 * is valid until the next change.
 */
struct md_k8s_changes {
	bool all;
	const char (*ns)[64];
	size_t nns;
};

void md_k8s_store_changes(
    const struct md_k8s_store *st, struct md_k8s_changes *out);
void md_k8s_store_changes_clear(struct md_k8s_store *st);

#endif /* MINIDNS_K8S_INTERNAL_H */
