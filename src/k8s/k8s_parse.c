/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_parse.c - the Kubernetes objects DNS needs, from their JSON.
 *
 * Owns: parsing v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Pod and
 * the metadata of any object (Namespaces need no more) with jansson into
 * the structs of k8s-internal.h, with the Kubernetes name rules (RFC 1123
 * labels and subdomains) and canonical addresses; the error helper the
 * other files share (md_k8s_bad()).
 *
 * Does not own: which objects are current (k8s_store.c), the records made
 * from them (k8s_build.c), fetching them (the watch client).
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

#include "k8s-internal.h"
#include "minidns/wire.h"

#define SVC_LABEL "kubernetes.io/service-name"

/* ---- JSON helpers ------------------------------------------------------- */

int
md_k8s_bad(char *err, size_t errlen, const char *fmt, ...)
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
	return md_k8s_bad(err, errlen, "%s: expected %s, got %s", path,
	    names[type], jtype_str(json_object_get(o, key)));
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
		return md_k8s_bad(
		    err, errlen, "%s: too long or holds NUL", path);
	md_strlcpy(buf, json_string_value(v), size);
	return 0;
}

/*
 * Kubernetes' DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, lower case
 * only.  An upper-case letter is refused, as the API server does: DNS
 * names are case-insensitive, so namespaces "shop" and "Shop" would be one
 * zone, whose records would then depend on which was built last.
 */
bool
md_k8s_is_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MD_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
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
		if (!md_k8s_is_label(label))
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
		return md_k8s_bad(err, errlen,
		    "object: expected an object, got %s", jtype_str(obj));
	rc = get(obj, "metadata", JSON_OBJECT, &meta, "metadata", err, errlen);
	if (rc != 0)
		return rc;
	if (meta == NULL)
		return md_k8s_bad(err, errlen, "metadata: missing");
	rc = get_str(
	    meta, "namespace", ns, 64, "metadata.namespace", err, errlen);
	if (rc != 0)
		return rc;
	if (!md_k8s_is_label(ns))
		return md_k8s_bad(err, errlen,
		    "metadata.namespace: missing or not "
		    "a DNS label");
	rc = get_str(meta, "name", name, namelen, "metadata.name", err, errlen);
	if (rc != 0)
		return rc;
	if (label_name ? !md_k8s_is_label(name) : !is_subdomain(name))
		return md_k8s_bad(err, errlen,
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
			rc = md_k8s_bad(
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
		if (pt->name[0] != '\0' && !md_k8s_is_label(pt->name)) {
			rc = md_k8s_bad(err, errlen,
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
			rc = md_k8s_bad(err, errlen,
			    "ports[%zu].protocol: \"%s\"", i, pt->protocol);
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
			rc = md_k8s_bad(err, errlen,
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
		return md_k8s_bad(
		    err, errlen, "spec.clusterIPs: bad address \"%s\"", ip);
	for (unsigned i = 0; i < s->ncluster_ips; i++) {
		if (strcmp(s->cluster_ips[i], canon) == 0)
			return 0;
		if ((strchr(s->cluster_ips[i], ':') != NULL) == (fam == 6))
			return md_k8s_bad(err, errlen,
			    "spec.clusterIPs: two IPv%d "
			    "addresses",
			    fam);
	}
	if (s->ncluster_ips >= MD_K8S_IPS_MAX)
		return md_k8s_bad(err, errlen, "spec.clusterIPs: too many");
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
		rc = md_k8s_bad(err, errlen, "spec: missing");
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
			rc = md_k8s_bad(err, errlen,
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
			rc = md_k8s_bad(err, errlen,
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
		rc = md_k8s_bad(
		    err, errlen, "spec.clusterIPs: None beside addresses");
		goto cleanup;
	}
	v = json_object_get(spec, "publishNotReadyAddresses");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		rc = md_k8s_bad(err, errlen,
		    "spec.publishNotReadyAddresses: "
		    "expected a boolean, got %s",
		    jtype_str(v));
		goto cleanup;
	}
	s.publish_not_ready = v != NULL && json_is_true(v);
	/* only for the DNS programming latency's service_kind */
	v = json_object_get(spec, "selector");
	s.has_selector = json_is_object(v) && json_object_size(v) > 0;
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
		return md_k8s_bad(
		    err, errlen, "endpoints[%zu]: expected an object", idx);
	rc = get_str(e, "hostname", proto.hostname, sizeof(proto.hostname),
	    "endpoints[].hostname", err, errlen);
	if (rc != 0)
		return rc;
	if (proto.hostname[0] != '\0' && !md_k8s_is_label(proto.hostname))
		return md_k8s_bad(err, errlen,
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
				return md_k8s_bad(err, errlen,
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
		return md_k8s_bad(
		    err, errlen, "endpoints[%zu].addresses: missing", idx);
	json_array_foreach(addrs, i, a)
	{
		struct md_k8s_endpoint *ep = &s->eps[s->neps];

		if (!json_is_string(a) ||
		    canon_ip(json_string_value(a), af, proto.addr) < 0)
			return md_k8s_bad(err, errlen,
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
	if (s.service[0] != '\0' && !md_k8s_is_label(s.service)) {
		rc = md_k8s_bad(err, errlen,
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
		rc = md_k8s_bad(err, errlen, "addressType: \"%s\"", atype);
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
		return md_k8s_bad(
		    err, errlen, "status.podIPs: bad address \"%s\"", ip);
	for (unsigned i = 0; i < p->nips; i++) {
		if (strcmp(p->ips[i], canon) == 0)
			return 0;
	}
	if (p->nips >= MD_K8S_IPS_MAX)
		return md_k8s_bad(err, errlen, "status.podIPs: too many");
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
			return md_k8s_bad(
			    err, errlen, "status.podIPs[%zu]: no ip", i);
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

/* n decimal digits of s into *out; false when one is not a digit. */
static bool
digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
md_k8s_parse_time(const char *s, uint64_t *us)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t t, frac = 0, scale = 1000000;
	const char *p;

	if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return MD_EPARSE;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return MD_EPARSE;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) &&
	    oh <= 23 && om <= 59) {
		if (*p == '+') {
			oh = -oh;
			om = -om;
		}
		p += 6;
	} else {
		return MD_EPARSE;
	}
	if (*p != '\0')
		return MD_EPARSE;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec +
	    oh * 3600 + om * 60;
	if (t < 0)
		return MD_EPARSE;
	*us = (uint64_t)t * 1000000 + (uint64_t)frac;
	return 0;
}
