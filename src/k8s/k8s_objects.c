/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_objects.c - the Kubernetes objects DNS needs, the store of the current
 * ones, and the zones built from them.
 *
 * Owns: parsing v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Pod and
 * Namespace JSON (jansson) into the structs of k8s-internal.h; the store
 * (one hash map per kind keyed by "namespace/name"); the incremental
 * builder (md_k8s_builder_*), which turns the store into zones following
 * the Kubernetes DNS-Based Service Discovery specification 1.1.0 ("spec"
 * below).
 *
 * Does not own: HTTP, watches, batching and publishing (k8s_client.c), the
 * connection settings (k8s_config.c), lookups (the zone store).
 *
 * Every json_* access is type-checked: the API server is trusted to speak
 * JSON, not to send the shapes we expect, and a malformed object is
 * skipped with a reason rather than half-applied.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "k8s-internal.h"
#include "minidns/wire.h"

#define SVC_LABEL "kubernetes.io/service-name"
#define SOA_REFRESH 7200
#define SOA_RETRY 1800
#define SOA_EXPIRE 86400
#define SRV_PRIORITY 0
#define SRV_WEIGHT 100
#define KEY_MAX (64 + 1 + 254)

const char *
md_k8s_kind_str(enum md_k8s_kind k)
{
	switch (k) {
	case MD_K8S_SERVICE:
		return "Service";
	case MD_K8S_SLICE:
		return "EndpointSlice";
	case MD_K8S_NAMESPACE:
		return "Namespace";
	case MD_K8S_POD:
		return "Pod";
	case MD_K8S_KIND_COUNT:
		break;
	}
	return "unknown";
}

/* ---- JSON helpers ------------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format the reason into err; returns MD_EPARSE. */
static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return MD_EPARSE;
}

/*
 * o[key] when it has type 'type'.  Absent, null or a NULL 'o' give
 * *out = NULL and 0; another type gives MD_EPARSE.
 */
static int
member(const json_t *o, const char *key, json_type type, json_t **out)
{
	json_t *v;

	*out = NULL;
	if (o == NULL || !json_is_object(o))
		return 0;
	v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_typeof(v) != type)
		return MD_EPARSE;
	*out = v;
	return 0;
}

static const char *
jtype_str(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* Like member(), with the reason "PATH: expected T, got U" in err. */
static int
get(const json_t *o, const char *key, json_type type, json_t **out,
    const char *path, char *err, size_t errlen)
{
	static const char *const names[] = {
	    [JSON_OBJECT] = "an object",
	    [JSON_ARRAY] = "an array",
	    [JSON_STRING] = "a string",
	    [JSON_INTEGER] = "an integer",
	    [JSON_REAL] = "a number",
	    [JSON_TRUE] = "a boolean",
	    [JSON_FALSE] = "a boolean",
	    [JSON_NULL] = "null",
	};

	if (member(o, key, type, out) == 0)
		return 0;
	return bad(err, errlen, "%s: expected %s, got %s", path, names[type],
	    jtype_str(json_object_get(o, key)));
}

/* A string member copied into buf; "" when absent. */
static int
get_str(const json_t *o, const char *key, char *buf, size_t size,
    const char *path, char *err, size_t errlen)
{
	json_t *v;
	int rc;

	buf[0] = '\0';
	rc = get(o, key, JSON_STRING, &v, path, err, errlen);
	if (rc != 0 || v == NULL)
		return rc;
	if (json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(err, errlen, "%s: too long or holds NUL", path);
	md_strlcpy(buf, json_string_value(v), size);
	return 0;
}

/* RFC 1123 label, as Kubernetes names namespaces, services and hostnames. */
static bool
is_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MD_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

/* RFC 1123 subdomain (pod and slice names): labels joined by dots. */
static bool
is_subdomain(const char *s)
{
	char label[MD_LABEL_MAX + 1];
	const char *p = s, *dot;

	if (strlen(s) > 253)
		return false;
	for (;;) {
		size_t n;

		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n > MD_LABEL_MAX)
			return false;
		memcpy(label, p, n);
		label[n] = '\0';
		if (!is_label(label))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/*
 * Parse an address of the family 'af' (0: either) and store it in the
 * canonical inet_ntop form, so that generated names are stable.
 */
static int
canon_ip(const char *s, int af, char *out)
{
	uint8_t bin[16];

	if ((af == 0 || af == AF_INET) && inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, out, MD_K8S_ADDR_STRLEN) ? 4
									: -1;
	if ((af == 0 || af == AF_INET6) && inet_pton(AF_INET6, s, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, MD_K8S_ADDR_STRLEN) ? 6
									 : -1;
	return -1;
}

void
md_k8s_meta(
    const json_t *obj, char *ns, size_t nslen, char *name, size_t namelen)
{
	json_t *meta, *v;

	if (nslen > 0)
		ns[0] = '\0';
	if (namelen > 0)
		name[0] = '\0';
	if (member(obj, "metadata", JSON_OBJECT, &meta) != 0 || meta == NULL)
		return;
	if (member(meta, "namespace", JSON_STRING, &v) == 0 && v != NULL &&
	    nslen > 0)
		md_strlcpy(ns, json_string_value(v), nslen);
	if (member(meta, "name", JSON_STRING, &v) == 0 && v != NULL &&
	    namelen > 0)
		md_strlcpy(name, json_string_value(v), namelen);
}

/* metadata.namespace and metadata.name, both required. */
static int
parse_meta(const json_t *obj, char *ns, char *name, size_t namelen,
    bool label_name, char *err, size_t errlen)
{
	json_t *meta;
	int rc;

	if (!json_is_object(obj))
		return bad(err, errlen, "object: expected an object, got %s",
		    jtype_str(obj));
	rc = get(obj, "metadata", JSON_OBJECT, &meta, "metadata", err, errlen);
	if (rc != 0)
		return rc;
	if (meta == NULL)
		return bad(err, errlen, "metadata: missing");
	rc = get_str(
	    meta, "namespace", ns, 64, "metadata.namespace", err, errlen);
	if (rc != 0)
		return rc;
	if (!is_label(ns))
		return bad(err, errlen,
		    "metadata.namespace: missing or not "
		    "a DNS label");
	rc = get_str(meta, "name", name, namelen, "metadata.name", err, errlen);
	if (rc != 0)
		return rc;
	if (label_name ? !is_label(name) : !is_subdomain(name))
		return bad(err, errlen,
		    "metadata.name: missing or not a DNS "
		    "name: \"%s\"",
		    name);
	return 0;
}

/* ports[] of a Service (spec.ports) or an EndpointSlice (ports). */
static int
parse_ports(const json_t *arr, bool slice, struct md_k8s_port **out,
    unsigned *nout, char *err, size_t errlen)
{
	struct md_k8s_port *ports = NULL;
	unsigned n = 0;
	size_t i;
	json_t *p, *v;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	ports = calloc(json_array_size(arr), sizeof(*ports));
	if (ports == NULL)
		return -ENOMEM;
	json_array_foreach(arr, i, p)
	{
		struct md_k8s_port *pt = &ports[n];

		if (!json_is_object(p)) {
			rc = bad(
			    err, errlen, "ports[%zu]: expected an object", i);
			goto cleanup;
		}
		rc = get_str(p, "name", pt->name, sizeof(pt->name),
		    "ports[].name", err, errlen);
		if (rc != 0)
			goto cleanup;
		rc = get_str(p, "protocol", pt->protocol, sizeof(pt->protocol),
		    "ports[].protocol", err, errlen);
		if (rc != 0)
			goto cleanup;
		/* Named ports become SRV labels (spec §2.3.2). */
		if (pt->name[0] != '\0' && !is_label(pt->name)) {
			rc = bad(err, errlen,
			    "ports[%zu].name: not a DNS "
			    "label",
			    i);
			goto cleanup;
		}
		if (pt->protocol[0] == '\0')
			md_strlcpy(pt->protocol, "TCP", sizeof(pt->protocol));
		if (strcmp(pt->protocol, "TCP") != 0 &&
		    strcmp(pt->protocol, "UDP") != 0 &&
		    strcmp(pt->protocol, "SCTP") != 0) {
			rc = bad(err, errlen, "ports[%zu].protocol: \"%s\"", i,
			    pt->protocol);
			goto cleanup;
		}
		rc = get(
		    p, "port", JSON_INTEGER, &v, "ports[].port", err, errlen);
		if (rc != 0)
			goto cleanup;
		/* An EndpointSlice port may leave the number out ("all
		 * ports"): nothing DNS can publish. */
		if (v == NULL && slice)
			continue;
		if (v == NULL || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535) {
			rc = bad(err, errlen,
			    "ports[%zu].port: missing or not "
			    "in 1..65535",
			    i);
			goto cleanup;
		}
		pt->port = (uint16_t)json_integer_value(v);
		n++;
	}
	*out = ports;
	*nout = n;
	ports = NULL;
cleanup:
	free(ports);
	return rc;
}

void
md_k8s_service_clear(struct md_k8s_service *s)
{
	if (s == NULL)
		return;
	free(s->ports);
	memset(s, 0, sizeof(*s));
}

void
md_k8s_slice_clear(struct md_k8s_slice *s)
{
	if (s == NULL)
		return;
	free(s->ports);
	free(s->eps);
	memset(s, 0, sizeof(*s));
}

/* Add one cluster IP: at most one per family (dual-stack). */
static int
add_cluster_ip(
    struct md_k8s_service *s, const char *ip, char *err, size_t errlen)
{
	char canon[MD_K8S_ADDR_STRLEN];
	int fam = canon_ip(ip, 0, canon);

	if (fam < 0)
		return bad(
		    err, errlen, "spec.clusterIPs: bad address \"%s\"", ip);
	for (unsigned i = 0; i < s->ncluster_ips; i++) {
		if (strcmp(s->cluster_ips[i], canon) == 0)
			return 0;
		if ((strchr(s->cluster_ips[i], ':') != NULL) == (fam == 6))
			return bad(err, errlen,
			    "spec.clusterIPs: two IPv%d "
			    "addresses",
			    fam);
	}
	if (s->ncluster_ips >= MD_K8S_IPS_MAX)
		return bad(err, errlen, "spec.clusterIPs: too many");
	md_strlcpy(
	    s->cluster_ips[s->ncluster_ips++], canon, MD_K8S_ADDR_STRLEN);
	return 0;
}

int
md_k8s_parse_service(
    const json_t *obj, struct md_k8s_service *out, char *err, size_t errlen)
{
	struct md_k8s_service s;
	json_t *spec, *v, *ips;
	char type[32], ip[MD_K8S_ADDR_STRLEN + 8];
	uint8_t wire[MD_NAME_MAX];
	size_t i;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(out, 0, sizeof(*out));
	rc = parse_meta(obj, s.ns, s.name, sizeof(s.name), true, err, errlen);
	if (rc != 0)
		goto cleanup;
	rc = get(obj, "spec", JSON_OBJECT, &spec, "spec", err, errlen);
	if (rc != 0)
		goto cleanup;
	if (spec == NULL) {
		rc = bad(err, errlen, "spec: missing");
		goto cleanup;
	}
	rc =
	    get_str(spec, "type", type, sizeof(type), "spec.type", err, errlen);
	if (rc != 0)
		goto cleanup;
	if (strcmp(type, "ExternalName") == 0) {
		s.external = true;
		rc = get_str(spec, "externalName", s.external_name,
		    sizeof(s.external_name), "spec.externalName", err, errlen);
		if (rc != 0)
			goto cleanup;
		/* The target is absolute, with or without the final dot. */
		if (s.external_name[0] == '\0' ||
		    md_name_from_str(s.external_name, NULL, wire) < 0) {
			rc = bad(err, errlen,
			    "spec.externalName: missing or "
			    "not a domain name");
			goto cleanup;
		}
	}
	rc = get(spec, "clusterIPs", JSON_ARRAY, &ips, "spec.clusterIPs", err,
	    errlen);
	if (rc != 0)
		goto cleanup;
	if (ips == NULL || json_array_size(ips) == 0) {
		/* Older objects: the single spec.clusterIP. */
		rc = get_str(spec, "clusterIP", ip, sizeof(ip),
		    "spec.clusterIP", err, errlen);
		if (rc != 0)
			goto cleanup;
		if (strcmp(ip, "None") == 0)
			s.headless = true;
		else if (ip[0] != '\0' && !s.external) {
			rc = add_cluster_ip(&s, ip, err, errlen);
			if (rc != 0)
				goto cleanup;
		}
	}
	json_array_foreach(ips, i, v)
	{
		if (!json_is_string(v)) {
			rc = bad(err, errlen,
			    "spec.clusterIPs[%zu]: expected "
			    "a string",
			    i);
			goto cleanup;
		}
		if (strcmp(json_string_value(v), "None") == 0) {
			s.headless = true;
			continue;
		}
		if (s.external)
			continue;
		rc = add_cluster_ip(&s, json_string_value(v), err, errlen);
		if (rc != 0)
			goto cleanup;
	}
	if (s.headless && s.ncluster_ips > 0) {
		rc = bad(err, errlen, "spec.clusterIPs: None beside addresses");
		goto cleanup;
	}
	v = json_object_get(spec, "publishNotReadyAddresses");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		rc = bad(err, errlen,
		    "spec.publishNotReadyAddresses: "
		    "expected a boolean, got %s",
		    jtype_str(v));
		goto cleanup;
	}
	s.publish_not_ready = v != NULL && json_is_true(v);
	rc = get(spec, "ports", JSON_ARRAY, &v, "spec.ports", err, errlen);
	if (rc != 0)
		goto cleanup;
	rc = parse_ports(v, false, &s.ports, &s.nports, err, errlen);
	if (rc != 0)
		goto cleanup;
	*out = s;
	memset(&s, 0, sizeof(s));
cleanup:
	md_k8s_service_clear(&s);
	return rc;
}

/* One endpoints[] entry: one md_k8s_endpoint per address. */
static int
parse_endpoint(const json_t *e, size_t idx, int af, struct md_k8s_slice *s,
    char *err, size_t errlen)
{
	struct md_k8s_endpoint proto;
	json_t *addrs, *cond, *ready, *ref, *a;
	char kind[32];
	size_t i;
	int rc;

	memset(&proto, 0, sizeof(proto));
	if (!json_is_object(e))
		return bad(
		    err, errlen, "endpoints[%zu]: expected an object", idx);
	rc = get_str(e, "hostname", proto.hostname, sizeof(proto.hostname),
	    "endpoints[].hostname", err, errlen);
	if (rc != 0)
		return rc;
	if (proto.hostname[0] != '\0' && !is_label(proto.hostname))
		return bad(err, errlen,
		    "endpoints[%zu].hostname: not a DNS "
		    "label",
		    idx);
	rc = get(e, "conditions", JSON_OBJECT, &cond, "endpoints[].conditions",
	    err, errlen);
	if (rc != 0)
		return rc;
	/* discovery.k8s.io/v1: a nil ready condition means ready. */
	proto.ready = true;
	if (cond != NULL) {
		ready = json_object_get(cond, "ready");
		if (ready != NULL && !json_is_null(ready)) {
			if (!json_is_boolean(ready))
				return bad(err, errlen,
				    "endpoints[%zu]."
				    "conditions.ready: "
				    "expected a boolean",
				    idx);
			proto.ready = json_is_true(ready);
		}
	}
	rc = get(e, "targetRef", JSON_OBJECT, &ref, "endpoints[].targetRef",
	    err, errlen);
	if (rc != 0)
		return rc;
	rc = get_str(ref, "kind", kind, sizeof(kind),
	    "endpoints[].targetRef.kind", err, errlen);
	if (rc != 0)
		return rc;
	if (strcmp(kind, "Pod") == 0) {
		rc =
		    get_str(ref, "name", proto.pod_name, sizeof(proto.pod_name),
			"endpoints[].targetRef.name", err, errlen);
		if (rc != 0)
			return rc;
	}
	rc = get(e, "addresses", JSON_ARRAY, &addrs, "endpoints[].addresses",
	    err, errlen);
	if (rc != 0)
		return rc;
	if (addrs == NULL || json_array_size(addrs) == 0)
		return bad(
		    err, errlen, "endpoints[%zu].addresses: missing", idx);
	json_array_foreach(addrs, i, a)
	{
		struct md_k8s_endpoint *ep = &s->eps[s->neps];

		if (!json_is_string(a) ||
		    canon_ip(json_string_value(a), af, proto.addr) < 0)
			return bad(err, errlen,
			    "endpoints[%zu].addresses[%zu]:"
			    " not an IPv%d address",
			    idx, i, af == AF_INET ? 4 : 6);
		*ep = proto;
		s->neps++;
	}
	return 0;
}

int
md_k8s_parse_slice(
    const json_t *obj, struct md_k8s_slice *out, char *err, size_t errlen)
{
	struct md_k8s_slice s;
	json_t *meta, *labels, *v, *eps, *e;
	char atype[16];
	size_t i, total = 0;
	int rc, af;

	memset(&s, 0, sizeof(s));
	memset(out, 0, sizeof(*out));
	rc = parse_meta(obj, s.ns, s.name, sizeof(s.name), false, err, errlen);
	if (rc != 0)
		goto cleanup;
	meta = json_object_get(obj, "metadata");
	rc = get(meta, "labels", JSON_OBJECT, &labels, "metadata.labels", err,
	    errlen);
	if (rc != 0)
		goto cleanup;
	/* A slice without the label belongs to no Service: kept, unused. */
	rc = get_str(labels, SVC_LABEL, s.service, sizeof(s.service),
	    "metadata.labels[" SVC_LABEL "]", err, errlen);
	if (rc != 0)
		goto cleanup;
	if (s.service[0] != '\0' && !is_label(s.service)) {
		rc = bad(err, errlen,
		    "metadata.labels[" SVC_LABEL "]: not a "
		    "DNS label");
		goto cleanup;
	}
	rc = get_str(obj, "addressType", atype, sizeof(atype), "addressType",
	    err, errlen);
	if (rc != 0)
		goto cleanup;
	if (strcmp(atype, "FQDN") == 0) {
		/* Not addresses: nothing for DNS (CoreDNS skips them too). */
		*out = s;
		return 0;
	}
	if (strcmp(atype, "IPv4") == 0)
		af = AF_INET;
	else if (strcmp(atype, "IPv6") == 0)
		af = AF_INET6;
	else {
		rc = bad(err, errlen, "addressType: \"%s\"", atype);
		goto cleanup;
	}
	rc = get(obj, "ports", JSON_ARRAY, &v, "ports", err, errlen);
	if (rc != 0)
		goto cleanup;
	rc = parse_ports(v, true, &s.ports, &s.nports, err, errlen);
	if (rc != 0)
		goto cleanup;
	rc = get(obj, "endpoints", JSON_ARRAY, &eps, "endpoints", err, errlen);
	if (rc != 0)
		goto cleanup;
	json_array_foreach(eps, i, e)
	{
		json_t *a =
		    json_is_object(e) ? json_object_get(e, "addresses") : NULL;

		if (json_is_array(a))
			total += json_array_size(a);
	}
	if (total > 0) {
		s.eps = calloc(total, sizeof(*s.eps));
		if (s.eps == NULL) {
			rc = -ENOMEM;
			goto cleanup;
		}
	}
	json_array_foreach(eps, i, e)
	{
		rc = parse_endpoint(e, i, af, &s, err, errlen);
		if (rc != 0)
			goto cleanup;
	}
	*out = s;
	memset(&s, 0, sizeof(s));
cleanup:
	md_k8s_slice_clear(&s);
	return rc;
}

/* Add a pod IP unless already there. */
static int
add_pod_ip(struct md_k8s_pod *p, const char *ip, char *err, size_t errlen)
{
	char canon[MD_K8S_ADDR_STRLEN];

	if (canon_ip(ip, 0, canon) < 0)
		return bad(
		    err, errlen, "status.podIPs: bad address \"%s\"", ip);
	for (unsigned i = 0; i < p->nips; i++) {
		if (strcmp(p->ips[i], canon) == 0)
			return 0;
	}
	if (p->nips >= MD_K8S_IPS_MAX)
		return bad(err, errlen, "status.podIPs: too many");
	md_strlcpy(p->ips[p->nips++], canon, MD_K8S_ADDR_STRLEN);
	return 0;
}

int
md_k8s_parse_pod(
    const json_t *obj, struct md_k8s_pod *out, char *err, size_t errlen)
{
	struct md_k8s_pod p;
	json_t *status, *ips, *v, *ip;
	char one[MD_K8S_ADDR_STRLEN + 8];
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	rc = parse_meta(obj, p.ns, p.name, sizeof(p.name), false, err, errlen);
	if (rc != 0)
		return rc;
	rc = get(obj, "status", JSON_OBJECT, &status, "status", err, errlen);
	if (rc != 0)
		return rc;
	rc = get(
	    status, "podIPs", JSON_ARRAY, &ips, "status.podIPs", err, errlen);
	if (rc != 0)
		return rc;
	json_array_foreach(ips, i, v)
	{
		rc = get(v, "ip", JSON_STRING, &ip, "status.podIPs[].ip", err,
		    errlen);
		if (rc != 0)
			return rc;
		if (!json_is_object(v) || ip == NULL)
			return bad(err, errlen, "status.podIPs[%zu]: no ip", i);
		rc = add_pod_ip(&p, json_string_value(ip), err, errlen);
		if (rc != 0)
			return rc;
	}
	if (p.nips == 0) {
		/* A pending pod has no IP yet: fine, it gets no record. */
		rc = get_str(status, "podIP", one, sizeof(one), "status.podIP",
		    err, errlen);
		if (rc != 0)
			return rc;
		if (one[0] != '\0') {
			rc = add_pod_ip(&p, one, err, errlen);
			if (rc != 0)
				return rc;
		}
	}
	*out = p;
	return 0;
}

/* ---- the store ---------------------------------------------------------- */

struct entry {
	struct entry *next;
	uint32_t hash;
	void *obj; /* the parsed object; NULL for namespaces */
	char key[];
};

struct map {
	struct entry **buckets;
	size_t nbuckets; /* a power of two, or 0 */
	size_t count;
};

struct md_k8s_store {
	struct map maps[MD_K8S_KIND_COUNT];
	/* namespaces changed since the last incremental build */
	char (*dirty)[64];
	size_t ndirty, dirty_cap;
	bool all_dirty; /* a relist: everything */
	bool pods_dirty;
};

/* Note that namespace 'ns' (the part of key before '/') changed. */
static void
mark_dirty(struct md_k8s_store *st, enum md_k8s_kind kind, const char *key)
{
	char ns[64];
	const char *slash = strchr(key, '/');
	size_t len = slash != NULL ? (size_t)(slash - key) : strlen(key);

	if (kind == MD_K8S_POD) {
		st->pods_dirty = true;
		return;
	}
	if (st->all_dirty || len >= sizeof(ns))
		return;
	memcpy(ns, key, len);
	ns[len] = '\0';
	for (size_t i = 0; i < st->ndirty; i++) {
		if (strcmp(st->dirty[i], ns) == 0)
			return;
	}
	if (st->ndirty == st->dirty_cap) {
		size_t cap = st->dirty_cap ? st->dirty_cap * 2 : 16;
		char(*v)[64] = realloc(st->dirty, cap * sizeof(*v));

		if (v == NULL) {
			st->all_dirty = true; /* safe: rebuild everything */
			return;
		}
		st->dirty = v;
		st->dirty_cap = cap;
	}
	md_strlcpy(st->dirty[st->ndirty++], ns, sizeof(st->dirty[0]));
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static void
obj_free(enum md_k8s_kind kind, void *obj)
{
	switch (kind) {
	case MD_K8S_SERVICE:
		md_k8s_service_clear(obj);
		break;
	case MD_K8S_SLICE:
		md_k8s_slice_clear(obj);
		break;
	default:
		break;
	}
	free(obj);
}

static struct entry **
map_slot(const struct map *m, const char *key, uint32_t h)
{
	struct entry **pp;

	if (m->nbuckets == 0)
		return NULL;
	for (pp = &m->buckets[h & (m->nbuckets - 1)]; *pp != NULL;
	     pp = &(*pp)->next) {
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			return pp;
	}
	return pp;
}

static const void *
map_get(const struct map *m, const char *key)
{
	struct entry **pp = map_slot(m, key, fnv1a(key));

	return pp != NULL && *pp != NULL ? (*pp)->obj : NULL;
}

static int
map_grow(struct map *m)
{
	size_t nb = m->nbuckets ? m->nbuckets * 2 : 64;
	struct entry **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
	return 0;
}

/* Insert or replace; takes 'obj' over (freed on failure). */
static int
map_put(struct map *m, enum md_k8s_kind kind, const char *key, void *obj)
{
	uint32_t h = fnv1a(key);
	struct entry **pp, *e;
	size_t klen = strlen(key);

	if (m->count + 1 > m->nbuckets && map_grow(m) != 0)
		goto fail;
	pp = map_slot(m, key, h);
	if (*pp != NULL) {
		obj_free(kind, (*pp)->obj);
		(*pp)->obj = obj;
		return 0;
	}
	e = malloc(sizeof(*e) + klen + 1);
	if (e == NULL)
		goto fail;
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->obj = obj;
	e->next = NULL;
	*pp = e;
	m->count++;
	return 0;
fail:
	obj_free(kind, obj);
	return -ENOMEM;
}

static void
map_del(struct map *m, enum md_k8s_kind kind, const char *key)
{
	struct entry **pp = map_slot(m, key, fnv1a(key)), *e;

	if (pp == NULL || *pp == NULL)
		return;
	e = *pp;
	*pp = e->next;
	obj_free(kind, e->obj);
	free(e);
	m->count--;
}

static void
map_clear(struct map *m, enum md_k8s_kind kind)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			obj_free(kind, e->obj);
			free(e);
		}
	}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

struct md_k8s_store *
md_k8s_store_new(void)
{
	return calloc(1, sizeof(struct md_k8s_store));
}

void
md_k8s_store_free(struct md_k8s_store *st)
{
	if (st == NULL)
		return;
	for (int k = 0; k < MD_K8S_KIND_COUNT; k++)
		map_clear(&st->maps[k], (enum md_k8s_kind)k);
	free(st->dirty);
	free(st);
}

void
md_k8s_store_clear(struct md_k8s_store *st, enum md_k8s_kind kind)
{
	if (kind < MD_K8S_KIND_COUNT) {
		map_clear(&st->maps[kind], kind);
		if (kind == MD_K8S_POD)
			st->pods_dirty = true;
		else
			st->all_dirty = true;
	}
}

size_t
md_k8s_store_count(const struct md_k8s_store *st, enum md_k8s_kind kind)
{
	return kind < MD_K8S_KIND_COUNT ? st->maps[kind].count : 0;
}

/* Parse obj of 'kind' into a new heap object; *key gets "ns/name". */
static int
parse_kind(enum md_k8s_kind kind, const json_t *obj, void **out, char *key,
    char *err, size_t errlen)
{
	void *o = NULL;
	int rc;

	*out = NULL;
	switch (kind) {
	case MD_K8S_SERVICE: {
		struct md_k8s_service *s = calloc(1, sizeof(*s));

		if ((o = s) == NULL)
			return -ENOMEM;
		rc = md_k8s_parse_service(obj, s, err, errlen);
		if (rc == 0)
			snprintf(key, KEY_MAX, "%s/%s", s->ns, s->name);
		break;
	}
	case MD_K8S_SLICE: {
		struct md_k8s_slice *s = calloc(1, sizeof(*s));

		if ((o = s) == NULL)
			return -ENOMEM;
		rc = md_k8s_parse_slice(obj, s, err, errlen);
		if (rc == 0)
			snprintf(key, KEY_MAX, "%s/%s", s->ns, s->name);
		break;
	}
	case MD_K8S_POD: {
		struct md_k8s_pod *p = calloc(1, sizeof(*p));

		if ((o = p) == NULL)
			return -ENOMEM;
		rc = md_k8s_parse_pod(obj, p, err, errlen);
		if (rc == 0)
			snprintf(key, KEY_MAX, "%s/%s", p->ns, p->name);
		break;
	}
	case MD_K8S_NAMESPACE: {
		char ns[64], name[64];

		md_k8s_meta(obj, ns, sizeof(ns), name, sizeof(name));
		if (!is_label(name))
			return bad(err, errlen,
			    "metadata.name: missing or not "
			    "a DNS label");
		snprintf(key, KEY_MAX, "%s", name);
		return 0;
	}
	default:
		return bad(err, errlen, "unknown kind %d", (int)kind);
	}
	if (rc != 0) {
		free(o);
		return rc;
	}
	*out = o;
	return 0;
}

int
md_k8s_store_apply(struct md_k8s_store *st, enum md_k8s_kind kind, bool deleted,
    const json_t *obj, char *err, size_t errlen)
{
	char key[KEY_MAX];
	void *o = NULL;
	int rc;

	if (kind >= MD_K8S_KIND_COUNT)
		return bad(err, errlen, "unknown kind %d", (int)kind);
	if (deleted) {
		/* Only the key matters: a deleted object need not be whole. */
		char ns[64], name[254];

		md_k8s_meta(obj, ns, sizeof(ns), name, sizeof(name));
		if (name[0] == '\0' ||
		    (kind != MD_K8S_NAMESPACE && ns[0] == '\0'))
			return bad(err, errlen,
			    "%s: deleted object without "
			    "a name",
			    md_k8s_kind_str(kind));
		if (kind == MD_K8S_NAMESPACE)
			snprintf(key, sizeof(key), "%s", name);
		else
			snprintf(key, sizeof(key), "%s/%s", ns, name);
		map_del(&st->maps[kind], kind, key);
		mark_dirty(st, kind, key);
		return 0;
	}
	rc = parse_kind(kind, obj, &o, key, err, errlen);
	if (rc != 0)
		return rc;
	mark_dirty(st, kind, key);
	return map_put(&st->maps[kind], kind, key, o);
}

/* ---- building the zones ------------------------------------------------- */

struct build {
	const struct md_k8s_store *st;
	const struct md_k8s_conf *conf;
	uint32_t serial;
	struct md_zone *z;    /* the cluster zone being built */
	const uint8_t *apex;  /* its origin */
	struct md_zone *rev4; /* in-addr.arpa., or NULL: no PTRs now */
	struct md_zone *rev6; /* ip6.arpa. */
	/* The reverse zones are built apart (they span every namespace):
	 * only_ptr adds nothing but PTRs, no_ptr everything else. */
	bool only_ptr, no_ptr;
	char *err;
	size_t errlen;
};

static int mkname(uint8_t *out, const uint8_t *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A wire name from a presentation form relative to 'origin'.  The labels
 * come from validated Kubernetes names (no dots or escapes).  MD_EPARSE
 * when the name does not fit (253 octets): the record is then left out.
 */
static int
mkname(uint8_t *out, const uint8_t *origin, const char *fmt, ...)
{
	char buf[MD_NAME_STRLEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return MD_EPARSE;
	return md_name_from_str(buf, origin, out) > 0 ? 0 : MD_EPARSE;
}

static bool
ns_served(const struct md_k8s_conf *conf, const char *ns)
{
	if (conf->nnamespaces == 0)
		return true;
	for (size_t i = 0; i < conf->nnamespaces; i++) {
		if (strcasecmp(conf->namespaces[i], ns) == 0)
			return true;
	}
	return false;
}

static int
add_rr(struct build *b, struct md_zone *z, const uint8_t *owner, uint16_t type,
    const uint8_t *rd, size_t len)
{
	if (len > UINT16_MAX)
		return bad(b->err, b->errlen, "rdata too long");
	if (b->only_ptr && z != b->rev4 && z != b->rev6)
		return 0;
	return md_zone_add_rr(
	    z, owner, type, b->conf->ttl, rd, (uint16_t)len, b->err, b->errlen);
}

/* A or AAAA for 'ip' at owner. */
static int
add_addr(struct build *b, const uint8_t *owner, const char *ip)
{
	uint8_t bin[16];

	if (inet_pton(AF_INET, ip, bin) == 1)
		return add_rr(b, b->z, owner, MD_TYPE_A, bin, 4);
	if (inet_pton(AF_INET6, ip, bin) == 1)
		return add_rr(b, b->z, owner, MD_TYPE_AAAA, bin, 16);
	return bad(b->err, b->errlen, "bad address %s", ip);
}

/*
 * Spec §2.3.3 / §2.4.3: a PTR from the reverse name of 'ip' (d.c.b.a
 * .in-addr.arpa, or 32 nibbles under ip6.arpa) to target.  Only while the
 * first cluster zone is built: one PTR per address, not one per domain.
 */
static int
add_ptr(struct build *b, const char *ip, const uint8_t *target)
{
	uint8_t bin[16], owner[MD_NAME_MAX];
	char buf[128];
	size_t off = 0;

	if (b->rev4 == NULL || b->no_ptr)
		return 0;
	if (inet_pton(AF_INET, ip, bin) == 1) {
		if (mkname(owner, NULL, "%u.%u.%u.%u.in-addr.arpa.", bin[3],
			bin[2], bin[1], bin[0]) != 0)
			return bad(b->err, b->errlen, "PTR for %s", ip);
		return add_rr(b, b->rev4, owner, MD_TYPE_PTR, target,
		    md_name_len(target));
	}
	if (inet_pton(AF_INET6, ip, bin) != 1)
		return bad(b->err, b->errlen, "bad address %s", ip);
	for (int i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		buf[off++] = hex[bin[i] & 0xf];
		buf[off++] = '.';
		buf[off++] = hex[bin[i] >> 4];
		buf[off++] = '.';
	}
	md_strlcpy(buf + off, "ip6.arpa.", sizeof(buf) - off);
	if (md_name_from_str(buf, NULL, owner) < 0)
		return bad(b->err, b->errlen, "PTR for %s", ip);
	return add_rr(
	    b, b->rev6, owner, MD_TYPE_PTR, target, md_name_len(target));
}

/* SRV prio weight port target (RFC 2782). */
static int
add_srv(
    struct build *b, const uint8_t *owner, uint16_t port, const uint8_t *target)
{
	uint8_t rd[6 + MD_NAME_MAX];
	size_t tlen = md_name_len(target);

	md_write_u16(rd, SRV_PRIORITY);
	md_write_u16(rd + 2, SRV_WEIGHT);
	md_write_u16(rd + 4, port);
	memcpy(rd + 6, target, tlen);
	return add_rr(b, b->z, owner, MD_TYPE_SRV, rd, 6 + tlen);
}

/* _<port>._<proto>.<svc>.<ns>.svc.<zone>; MD_EPARSE: no name fits. */
static int
srv_owner(struct build *b, uint8_t *out, const struct md_k8s_port *pt,
    const char *svc, const char *ns)
{
	char proto[sizeof(pt->protocol)];
	size_t i;

	for (i = 0; pt->protocol[i] != '\0' && i + 1 < sizeof(proto); i++)
		proto[i] = (char)tolower((unsigned char)pt->protocol[i]);
	proto[i] = '\0';
	return mkname(
	    out, b->apex, "_%s._%s.%s.%s.svc", pt->name, proto, svc, ns);
}

/* The SOA rdata of a cluster domain; returns its length, or 0. */
static size_t
soa_rdata(struct build *b, const uint8_t *cluster, uint8_t *rd, uint8_t *mname)
{
	uint8_t rname[MD_NAME_MAX];
	size_t ml, rl;

	if (mkname(mname, cluster, "ns.dns") != 0 ||
	    mkname(rname, cluster, "hostmaster") != 0)
		return 0;
	ml = md_name_len(mname);
	rl = md_name_len(rname);
	memcpy(rd, mname, ml);
	memcpy(rd + ml, rname, rl);
	md_write_u32(rd + ml + rl, b->serial);
	md_write_u32(rd + ml + rl + 4, SOA_REFRESH);
	md_write_u32(rd + ml + rl + 8, SOA_RETRY);
	md_write_u32(rd + ml + rl + 12, SOA_EXPIRE);
	/* RFC 2308 §4: the minimum is the negative TTL, the same TTL as
	 * the records. */
	md_write_u32(rd + ml + rl + 16, b->conf->ttl);
	return ml + rl + 20;
}

/* The SOA and NS of a zone's apex, naming ns.dns.<cluster zone>. */
static int
add_apex(struct build *b, struct md_zone *z, const uint8_t *cluster)
{
	uint8_t mname[MD_NAME_MAX];
	uint8_t rd[2 * MD_NAME_MAX + 20];
	size_t len = soa_rdata(b, cluster, rd, mname);
	int rc;

	if (len == 0)
		return bad(b->err, b->errlen, "cluster domain too long");
	rc = add_rr(b, z, md_zone_origin(z), MD_TYPE_SOA, rd, len);
	if (rc != 0)
		return rc;
	return add_rr(
	    b, z, md_zone_origin(z), MD_TYPE_NS, mname, md_name_len(mname));
}

/* Spec §2.3: a Service with cluster IPs; §2.5: ExternalName. */
static int
build_service(struct build *b, const struct md_k8s_service *s)
{
	uint8_t name[MD_NAME_MAX], owner[MD_NAME_MAX], target[MD_NAME_MAX];
	int rc;

	if (mkname(name, b->apex, "%s.%s.svc", s->name, s->ns) != 0)
		return 0;
	if (s->external) {
		/* Spec §2.5: <svc>.<ns>.svc.<zone> CNAME <extname>. */
		char ext[sizeof(s->external_name) + 1];
		size_t n = strlen(s->external_name);

		snprintf(ext, sizeof(ext), "%s%s", s->external_name,
		    n > 0 && s->external_name[n - 1] == '.' ? "" : ".");
		if (md_name_from_str(ext, NULL, target) < 0)
			return 0;
		return add_rr(
		    b, b->z, name, MD_TYPE_CNAME, target, md_name_len(target));
	}
	if (s->headless || s->ncluster_ips == 0)
		return 0; /* headless: from the slices (spec §2.4) */
	for (unsigned i = 0; i < s->ncluster_ips; i++) {
		/* Spec §2.3.1: A/AAAA per cluster IP (dual-stack). */
		rc = add_addr(b, name, s->cluster_ips[i]);
		if (rc == 0)
			rc = add_ptr(b, s->cluster_ips[i], name);
		if (rc != 0)
			return rc;
	}
	for (unsigned i = 0; i < s->nports; i++) {
		/* Spec §2.3.2: SRV for named ports, target the service. */
		if (s->ports[i].name[0] == '\0' ||
		    srv_owner(b, owner, &s->ports[i], s->name, s->ns) != 0)
			continue;
		rc = add_srv(b, owner, s->ports[i].port, name);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * The label naming an endpoint below its service: its hostname; with
 * endpoint_pod_names the pod's name (as CoreDNS does); else the spec's
 * "unique, system-assigned identifier" - CoreDNS's scheme, the address
 * with '.' and ':' turned into '-'.
 */
static void
endpoint_label(const struct md_k8s_conf *conf, const struct md_k8s_endpoint *ep,
    char *out, size_t size)
{
	size_t i;

	if (ep->hostname[0] != '\0') {
		md_strlcpy(out, ep->hostname, size);
		return;
	}
	if (conf->endpoint_pod_names && is_label(ep->pod_name)) {
		md_strlcpy(out, ep->pod_name, size);
		return;
	}
	for (i = 0; ep->addr[i] != '\0' && i + 1 < size; i++)
		out[i] = ep->addr[i] == '.' || ep->addr[i] == ':' ? '-'
								  : ep->addr[i];
	out[i] = '\0';
}

/* Spec §2.4: the endpoints of one slice of a headless service. */
static int
build_slice(struct build *b, const struct md_k8s_slice *sl)
{
	const struct md_k8s_service *s;
	uint8_t name[MD_NAME_MAX], host[MD_NAME_MAX], owner[MD_NAME_MAX];
	char key[KEY_MAX], label[MD_K8S_ADDR_STRLEN + 64];
	int rc;

	if (sl->service[0] == '\0')
		return 0;
	snprintf(key, sizeof(key), "%s/%s", sl->ns, sl->service);
	s = map_get(&b->st->maps[MD_K8S_SERVICE], key);
	if (s == NULL || !s->headless || s->external)
		return 0;
	if (mkname(name, b->apex, "%s.%s.svc", s->name, s->ns) != 0)
		return 0;
	for (unsigned i = 0; i < sl->neps; i++) {
		const struct md_k8s_endpoint *ep = &sl->eps[i];

		/* Spec §2.1 "ready": not-ready endpoints only with
		 * publishNotReadyAddresses. */
		if (!ep->ready && !s->publish_not_ready)
			continue;
		/* §2.4.1: <svc>.<ns>.svc.<zone> A/AAAA per endpoint. */
		rc = add_addr(b, name, ep->addr);
		if (rc != 0)
			return rc;
		/* §2.4.1: <hostname>.<svc>.<ns>.svc.<zone> A/AAAA. */
		endpoint_label(b->conf, ep, label, sizeof(label));
		if (mkname(host, b->apex, "%s.%s.%s.svc", label, s->name,
			s->ns) != 0)
			continue;
		rc = add_addr(b, host, ep->addr);
		/* §2.4.3: PTR to the hostname name. */
		if (rc == 0)
			rc = add_ptr(b, ep->addr, host);
		if (rc != 0)
			return rc;
		/* §2.4.2: one SRV per endpoint and named port. */
		for (unsigned j = 0; j < sl->nports; j++) {
			if (sl->ports[j].name[0] == '\0' ||
			    srv_owner(
				b, owner, &sl->ports[j], s->name, s->ns) != 0)
				continue;
			rc = add_srv(b, owner, sl->ports[j].port, host);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * Pod records (not in spec 1.1.0; the kube-dns/CoreDNS convention):
 * a-b-c-d.<ns>.pod.<zone>, IPv6 with '-' for ':'.  Both modes publish the
 * IPs of the pods in the store; insecure mode also answers ANY a-b-c-d
 * name with the address it spells, as CoreDNS does, by synthesis at query
 * time in the zone store (md_zone_set_pod_synthesis).
 */
static int
build_pod(struct build *b, const struct md_k8s_pod *p)
{
	uint8_t name[MD_NAME_MAX];
	char label[MD_K8S_ADDR_STRLEN];
	int rc;

	for (unsigned i = 0; i < p->nips; i++) {
		size_t j;

		for (j = 0; p->ips[i][j] != '\0' && j + 1 < sizeof(label); j++)
			label[j] = p->ips[i][j] == '.' || p->ips[i][j] == ':'
			    ? '-'
			    : p->ips[i][j];
		label[j] = '\0';
		if (mkname(name, b->apex, "%s.%s.pod", label, p->ns) != 0)
			continue;
		rc = add_addr(b, name, p->ips[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * The PTR records of every served Service and EndpointSlice (b->only_ptr:
 * their other records are skipped), into b->rev4 and b->rev6.
 */
static int
build_ptrs(struct build *b)
{
	const struct md_k8s_store *st = b->st;
	const struct map *m;
	int rc;

	m = &st->maps[MD_K8S_SERVICE];
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (const struct entry *e = m->buckets[i]; e != NULL;
		     e = e->next) {
			const struct md_k8s_service *s = e->obj;

			if (!ns_served(b->conf, s->ns))
				continue;
			rc = build_service(b, s);
			if (rc != 0)
				return rc;
		}
	}
	m = &st->maps[MD_K8S_SLICE];
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (const struct entry *e = m->buckets[i]; e != NULL;
		     e = e->next) {
			const struct md_k8s_slice *sl = e->obj;

			if (!ns_served(b->conf, sl->ns))
				continue;
			rc = build_slice(b, sl);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* ---- the incremental builder --------------------------------------------- */

/*
 * What the Kubernetes source publishes, kept between changes so that a
 * change rebuilds only what it touched: per cluster domain a small main
 * zone (apex SOA/NS, dns-version, svc., pods) and one zone per namespace
 * (<ns>.svc.<zone>, whose negative answers carry the domain's SOA), and
 * the reverse zones, rebuilt apart (they span every namespace).  A change
 * to one Service rebuilds one namespace zone: milliseconds, not the
 * hundreds a whole cluster of 10,000 Services takes.
 */
struct ns_zones {
	char ns[64];
	struct md_zone *z[MD_K8S_ZONES_MAX];
};

struct md_k8s_builder {
	const struct md_k8s_conf *conf;
	bool built;
	struct md_zone *main[MD_K8S_ZONES_MAX];
	struct md_zone *rev4, *rev6;
	struct ns_zones *ns;
	size_t nns, capns;
	struct md_zone **out;
	size_t capout;
};

struct md_k8s_builder *
md_k8s_builder_new(const struct md_k8s_conf *conf)
{
	struct md_k8s_builder *kb = calloc(1, sizeof(*kb));

	if (kb != NULL)
		kb->conf = conf;
	return kb;
}

static void
ns_zones_drop(struct ns_zones *n)
{
	for (size_t d = 0; d < MD_K8S_ZONES_MAX; d++) {
		md_zone_free(n->z[d]);
		n->z[d] = NULL;
	}
}

void
md_k8s_builder_free(struct md_k8s_builder *kb)
{
	if (kb == NULL)
		return;
	for (size_t i = 0; i < MD_K8S_ZONES_MAX; i++)
		md_zone_free(kb->main[i]);
	md_zone_free(kb->rev4);
	md_zone_free(kb->rev6);
	for (size_t i = 0; i < kb->nns; i++)
		ns_zones_drop(&kb->ns[i]);
	free(kb->ns);
	free(kb->out);
	free(kb);
}

static struct ns_zones *
ns_find(struct md_k8s_builder *kb, const char *ns, bool create)
{
	for (size_t i = 0; i < kb->nns; i++) {
		if (strcmp(kb->ns[i].ns, ns) == 0)
			return &kb->ns[i];
	}
	if (!create)
		return NULL;
	if (kb->nns == kb->capns) {
		size_t cap = kb->capns ? kb->capns * 2 : 32;
		struct ns_zones *v = realloc(kb->ns, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		kb->ns = v;
		kb->capns = cap;
	}
	memset(&kb->ns[kb->nns], 0, sizeof(kb->ns[0]));
	md_strlcpy(kb->ns[kb->nns].ns, ns, sizeof(kb->ns[0].ns));
	return &kb->ns[kb->nns++];
}

/* The main zone of one domain: apex, dns-version, svc., pods. */
static struct md_zone *
build_main(struct build *b)
{
	const struct map *m;
	uint8_t name[MD_NAME_MAX];
	static const uint8_t txt[] = {5, '1', '.', '1', '.', '0'};
	struct md_zone *z = md_zone_new(b->apex);

	if (z == NULL) {
		bad(b->err, b->errlen, "out of memory");
		return NULL;
	}
	b->z = z;
	md_zone_set_fallthrough(z, b->conf->fallthrough);
	md_zone_set_pod_synthesis(z, b->conf->pods == MD_K8S_PODS_INSECURE);
	if (add_apex(b, z, b->apex) != 0 ||
	    mkname(name, b->apex, "dns-version") != 0 ||
	    add_rr(b, z, name, MD_TYPE_TXT, txt, sizeof(txt)) != 0 ||
	    mkname(name, b->apex, "svc") != 0 || md_zone_add_name(z, name) != 0)
		goto fail;
	if (b->conf->pods != MD_K8S_PODS_DISABLED) {
		m = &b->st->maps[MD_K8S_POD];
		for (size_t i = 0; i < m->nbuckets; i++) {
			for (const struct entry *e = m->buckets[i]; e != NULL;
			     e = e->next) {
				const struct md_k8s_pod *p = e->obj;

				if (ns_served(b->conf, p->ns) &&
				    build_pod(b, p) != 0)
					goto fail;
			}
		}
	}
	if (md_zone_check(z, b->err, b->errlen) != 0)
		goto fail;
	return z;
fail:
	md_zone_free(z);
	return NULL;
}

/* A namespace's zone for one domain: its Services and EndpointSlices. */
static struct md_zone *
build_ns(struct build *b, const char *ns)
{
	uint8_t origin[MD_NAME_MAX], mname[MD_NAME_MAX], soa_owner[MD_NAME_MAX];
	uint8_t rd[2 * MD_NAME_MAX + 20];
	size_t len;
	const struct map *m;
	struct md_zone *z;

	if (mkname(origin, b->apex, "%s.svc", ns) != 0) {
		bad(b->err, b->errlen, "namespace %s: name too long", ns);
		return NULL;
	}
	z = md_zone_new(origin);
	len = soa_rdata(b, b->apex, rd, mname);
	memcpy(soa_owner, b->apex, md_name_len(b->apex));
	if (z == NULL || len == 0 || md_zone_add_name(z, origin) != 0 ||
	    md_zone_set_negative_soa(
		z, soa_owner, b->conf->ttl, rd, (uint16_t)len) != 0) {
		bad(b->err, b->errlen, "out of memory");
		md_zone_free(z);
		return NULL;
	}
	md_zone_set_fallthrough(z, b->conf->fallthrough);
	b->z = z;
	m = &b->st->maps[MD_K8S_SERVICE];
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (const struct entry *e = m->buckets[i]; e != NULL;
		     e = e->next) {
			const struct md_k8s_service *s = e->obj;

			if (strcmp(s->ns, ns) == 0 && build_service(b, s) != 0)
				goto fail;
		}
	}
	m = &b->st->maps[MD_K8S_SLICE];
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (const struct entry *e = m->buckets[i]; e != NULL;
		     e = e->next) {
			const struct md_k8s_slice *sl = e->obj;

			if (strcmp(sl->ns, ns) == 0 && build_slice(b, sl) != 0)
				goto fail;
		}
	}
	return z;
fail:
	md_zone_free(z);
	return NULL;
}

/* Does the store still know namespace ns (as an object or by use)? */
static bool
ns_present(const struct md_k8s_store *st, const char *ns)
{
	const struct map *m = &st->maps[MD_K8S_NAMESPACE];

	/* Namespace entries hold no object: look for the key itself. */
	if (m->nbuckets > 0 && *map_slot(m, ns, fnv1a(ns)) != NULL)
		return true;
	for (int k = MD_K8S_SERVICE; k <= MD_K8S_SLICE; k++) {
		const struct map *o = &st->maps[k];

		for (size_t i = 0; i < o->nbuckets; i++) {
			for (const struct entry *e = o->buckets[i]; e != NULL;
			     e = e->next) {
				size_t l = strlen(ns);

				if (strncmp(e->key, ns, l) == 0 &&
				    e->key[l] == '/')
					return true;
			}
		}
	}
	return false;
}

/* Append ns to a list of names unless it is there. */
static void
add_unique(char (**v)[64], size_t *n, size_t *cap, const char *ns)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i], ns) == 0)
			return;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char(*nv)[64] = realloc(*v, c * sizeof(**v));

		if (nv == NULL)
			return;
		*v = nv;
		*cap = c;
	}
	md_strlcpy((*v)[(*n)++], ns, sizeof((*v)[0]));
}

/* Rebuild the zones of one namespace (or drop them when it is gone). */
static int
rebuild_ns(struct md_k8s_builder *kb, struct build *b, const char *ns)
{
	struct ns_zones *n;

	if (!ns_served(kb->conf, ns) || !ns_present(b->st, ns)) {
		n = ns_find(kb, ns, false);
		if (n != NULL) {
			ns_zones_drop(n);
			*n = kb->ns[--kb->nns];
		}
		return 0;
	}
	n = ns_find(kb, ns, true);
	if (n == NULL)
		return bad(b->err, b->errlen, "out of memory");
	for (size_t d = 0; d < kb->conf->nzones; d++) {
		struct md_zone *z;

		b->apex = kb->conf->zones[d];
		z = build_ns(b, ns);
		if (z == NULL)
			return -1;
		md_zone_free(n->z[d]);
		n->z[d] = z;
	}
	return 0;
}

int
md_k8s_builder_update(struct md_k8s_builder *kb, struct md_k8s_store *st,
    uint32_t serial, char *err, size_t errlen)
{
	struct build b;
	bool all = !kb->built || st->all_dirty;

	if (kb->conf->nzones > MD_K8S_ZONES_MAX) {
		bad(err, errlen, "too many cluster domains");
		return -1;
	}
	memset(&b, 0, sizeof(b));
	b.st = st;
	b.conf = kb->conf;
	b.serial = serial;
	b.err = err;
	b.errlen = errlen;
	b.no_ptr = true; /* PTRs: md_k8s_builder_update_reverse() */
	for (size_t d = 0; d < kb->conf->nzones; d++) {
		struct md_zone *z;

		b.apex = kb->conf->zones[d];
		z = build_main(&b);
		if (z == NULL)
			return -1;
		md_zone_free(kb->main[d]);
		kb->main[d] = z;
	}
	if (all) {
		/* Every namespace: the ones the objects name, and those of
		 * zones built before (so that vanished ones are dropped). */
		char(*todo)[64] = NULL;
		size_t ntodo = 0, cap = 0;
		int rc = 0;

		for (size_t i = 0; i < kb->nns; i++)
			add_unique(&todo, &ntodo, &cap, kb->ns[i].ns);
		for (int k = MD_K8S_SERVICE; k <= MD_K8S_NAMESPACE; k++) {
			const struct map *m = &st->maps[k];

			for (size_t i = 0; i < m->nbuckets; i++) {
				for (const struct entry *e = m->buckets[i];
				     e != NULL; e = e->next) {
					char ns[64];
					size_t l = strcspn(e->key, "/");

					if (l >= sizeof(ns))
						continue;
					memcpy(ns, e->key, l);
					ns[l] = '\0';
					add_unique(&todo, &ntodo, &cap, ns);
				}
			}
		}
		for (size_t i = 0; i < ntodo && rc == 0; i++)
			rc = rebuild_ns(kb, &b, todo[i]);
		free(todo);
		if (rc != 0)
			return -1;
	} else {
		for (size_t i = 0; i < st->ndirty; i++) {
			if (rebuild_ns(kb, &b, st->dirty[i]) != 0)
				return -1;
		}
	}
	st->ndirty = 0;
	st->all_dirty = false;
	st->pods_dirty = false;
	kb->built = true;
	return 0;
}

int
md_k8s_builder_update_reverse(struct md_k8s_builder *kb,
    struct md_k8s_store *st, uint32_t serial, char *err, size_t errlen)
{
	struct build b;
	uint8_t origin[MD_NAME_MAX];
	struct md_zone *r4 = NULL, *r6 = NULL;

	if (!kb->conf->reverse || kb->conf->nzones == 0)
		return 0;
	memset(&b, 0, sizeof(b));
	b.st = st;
	b.conf = kb->conf;
	b.serial = serial;
	b.err = err;
	b.errlen = errlen;
	b.apex = kb->conf->zones[0];
	b.only_ptr = true;
	if (md_name_from_str("in-addr.arpa.", NULL, origin) < 0 ||
	    (r4 = md_zone_new(origin)) == NULL ||
	    md_name_from_str("ip6.arpa.", NULL, origin) < 0 ||
	    (r6 = md_zone_new(origin)) == NULL) {
		bad(err, errlen, "out of memory");
		goto fail;
	}
	/* Other reverse names go on to the next answer source. */
	md_zone_set_fallthrough(r4, true);
	md_zone_set_fallthrough(r6, true);
	b.rev4 = r4;
	b.rev6 = r6;
	if (add_apex(&b, r4, b.apex) != 0 || add_apex(&b, r6, b.apex) != 0 ||
	    build_ptrs(&b) != 0 || md_zone_check(r4, err, errlen) != 0 ||
	    md_zone_check(r6, err, errlen) != 0)
		goto fail;
	md_zone_free(kb->rev4);
	md_zone_free(kb->rev6);
	kb->rev4 = r4;
	kb->rev6 = r6;
	return 0;
fail:
	md_zone_free(r4);
	md_zone_free(r6);
	return -1;
}

ssize_t
md_k8s_builder_zones(struct md_k8s_builder *kb, struct md_zone ***out)
{
	size_t nz = kb->conf->nzones < MD_K8S_ZONES_MAX ? kb->conf->nzones
							: MD_K8S_ZONES_MAX;
	size_t need = nz + kb->nns * nz + 2;
	size_t n = 0;

	if (need > kb->capout) {
		struct md_zone **v = realloc(kb->out, need * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		kb->out = v;
		kb->capout = need;
	}
	for (size_t d = 0; d < nz; d++) {
		if (kb->main[d] != NULL)
			kb->out[n++] = kb->main[d];
	}
	for (size_t i = 0; i < kb->nns; i++) {
		for (size_t d = 0; d < nz; d++) {
			if (kb->ns[i].z[d] != NULL)
				kb->out[n++] = kb->ns[i].z[d];
		}
	}
	if (kb->rev4 != NULL)
		kb->out[n++] = kb->rev4;
	if (kb->rev6 != NULL)
		kb->out[n++] = kb->rev6;
	*out = kb->out;
	return (ssize_t)n;
}
