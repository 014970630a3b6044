/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_k8s.c - the Kubernetes objects (src/k8s/): parsing Service,
 * EndpointSlice and Pod JSON, the store, and the zones the incremental
 * builder (md_k8s_builder_*, what the client publishes) makes from it,
 * checked rule by rule against the Kubernetes DNS-Based Service Discovery
 * specification 1.1.0 through md_zone_lookup(); and, after sequences of
 * changes, the builder's zones against those of a fresh build of the same
 * store.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "k8s-internal.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

#define DATA MD_TEST_DATA "/k8s/"
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* 63 letters: one label of the longest kind */
#define MD_K8S_TEST_LABEL \
	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

/* ---- helpers ------------------------------------------------------------ */

static json_t *
load(const char *file)
{
	char path[1024];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "%s%s", DATA, file);
	j = json_load_file(path, 0, &jerr);
	if (j == NULL)
		fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
	return j;
}

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL)
		fail_msg("test JSON: %s: %s", jerr.text, text);
	return j;
}

static void
apply_json(
    struct md_k8s_store *st, enum md_k8s_kind kind, bool deleted, json_t *j)
{
	char err[256] = "";
	int rc = md_k8s_store_apply(st, kind, deleted, j, err, sizeof(err));

	json_decref(j);
	if (rc != 0)
		fail_msg("apply %s: %s", md_k8s_kind_str(kind), err);
}

static void
apply_text(struct md_k8s_store *st, enum md_k8s_kind kind, const char *text)
{
	apply_json(st, kind, false, parse(text));
}

static void
add_ns(struct md_k8s_store *st, const char *ns)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"%s\"}}", ns);
	apply_text(st, MD_K8S_NAMESPACE, buf);
}

static void
conf_setup(struct md_k8s_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ttl = 5;
	c->reverse = true;
	assert_true(md_name_from_str("cluster.local.", NULL, c->zones[0]) > 0);
	c->nzones = 1;
}

/*
 * The store used by most tests (namespace "default" unless said):
 *   web      ClusterIP, dual-stack 10.96.0.10 / fd00:10:96::a, ports
 *            http/TCP 80, dns/UDP 53, unnamed 9090       (file)
 *   db       headless, slice: db-0 10.1.0.1 ready, 10.1.0.2 ready (pod
 *            db-1, no hostname), db-2 10.1.0.3 not ready, 10.1.0.4 ready
 *            (null condition); ports pg/TCP 5432, unnamed 9187  (files)
 *   ext      ExternalName db.example.com                        (file)
 *   lonely   headless, its one endpoint 10.3.0.1 not ready
 *   nr       headless, publishNotReadyAddresses, 10.2.0.1 not ready
 *   v6db     headless, IPv6 slice fd00:10:1::5 hostname v6-0
 *   other/api ClusterIP 10.96.1.1
 *   pod web-... 10.1.0.9 / fd00:10:1::9                          (file)
 *   namespaces default, other, empty-ns
 */
struct fx {
	struct md_k8s_store *st;
	struct md_k8s_conf conf;
	struct md_zone_set *zs;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->st = md_k8s_store_new();
	assert_non_null(f->st);
	conf_setup(&f->conf);
	add_ns(f->st, "default");
	add_ns(f->st, "other");
	add_ns(f->st, "empty-ns");
	apply_json(
	    f->st, MD_K8S_SERVICE, false, load("service-clusterip.json"));
	apply_json(f->st, MD_K8S_SERVICE, false, load("service-headless.json"));
	apply_json(f->st, MD_K8S_SLICE, false, load("slice-headless.json"));
	apply_json(f->st, MD_K8S_SERVICE, false, load("service-external.json"));
	apply_json(f->st, MD_K8S_POD, false, load("pod.json"));
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"lonely\"},"
	    "\"spec\":{\"clusterIP\":\"None\"}}");
	apply_text(f->st, MD_K8S_SLICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"lonely-1\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"lonely\"}},"
	    "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	    "[\"10.3.0.1\"],\"hostname\":\"l-0\","
	    "\"conditions\":{\"ready\":false}}]}");
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"nr\"},"
	    "\"spec\":{\"clusterIP\":\"None\","
	    "\"publishNotReadyAddresses\":true}}");
	apply_text(f->st, MD_K8S_SLICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"nr-1\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"nr\"}},"
	    "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	    "[\"10.2.0.1\"],\"conditions\":{\"ready\":false}}]}");
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"v6db\"},"
	    "\"spec\":{\"clusterIPs\":[\"None\"]}}");
	apply_text(f->st, MD_K8S_SLICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"v6db-1\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"v6db\"}},"
	    "\"addressType\":\"IPv6\",\"endpoints\":[{\"addresses\":"
	    "[\"fd00:10:1::5\"],\"hostname\":\"v6-0\"}]}");
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"other\",\"name\":\"api\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.1.1\",\"ports\":[{\"name\":"
	    "\"https\",\"port\":443}]}}");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	md_zone_set_unref(f->zs);
	md_k8s_store_free(f->st);
	free(f);
	return 0;
}

/* The builder's current zones as f->zs (the snapshot takes references). */
static void
builder_snapshot(struct fx *f, struct md_k8s_builder *kb)
{
	struct md_zone **zones;
	ssize_t n = md_k8s_builder_zones(kb, &zones);

	assert_true(n >= 0);
	md_zone_set_unref(f->zs);
	f->zs = md_zone_set_new(zones, (size_t)n);
	assert_non_null(f->zs);
}

/*
 * Build the zones of f->st and f->conf into f->zs the way the client does
 * on its first publication: a new incremental builder, then its update
 * and its reverse update.
 */
static void
build(struct fx *f)
{
	struct md_k8s_builder *kb = md_k8s_builder_new(&f->conf);
	char err[256] = "";

	assert_non_null(kb);
	if (md_k8s_builder_update(kb, f->st, 42, err, sizeof(err)) != 0 ||
	    md_k8s_builder_update_reverse(kb, f->st, 42, err, sizeof(err)) != 0)
		fail_msg("build: %s", err);
	builder_snapshot(f, kb);
	md_k8s_builder_free(kb);
}

static enum md_zone_status
look(struct fx *f, const char *name, uint16_t type, struct md_zone_result *res)
{
	uint8_t w[MD_NAME_MAX];

	md_zone_lookup(f->zs, wname(name, w), type, res);
	return res->status;
}

/* How many RRs of the answer's first RRset (of 'type'). */
static unsigned
an_count(const struct md_zone_result *res, uint16_t type)
{
	if (res->status != MD_ZONE_ANSWER || res->nan == 0 ||
	    res->an[0].rrset->type != type)
		return 0;
	return res->an[0].rrset->count;
}

/* True when the answer's RRset holds the address 'ip'. */
static bool
has_addr(const struct md_zone_result *res, const char *ip)
{
	uint8_t bin[16];
	size_t blen = strchr(ip, ':') != NULL ? 16 : 4;
	const uint8_t *p = NULL, *rd;
	uint16_t len;

	assert_int_equal(inet_pton(blen == 4 ? AF_INET : AF_INET6, ip, bin), 1);
	for (unsigned i = 0; i < res->nan; i++) {
		const struct md_rrset *s = res->an[i].rrset;

		p = NULL;
		while ((p = md_rrset_next(s, p, &len, &rd)) != NULL) {
			if (len == blen && memcmp(rd, bin, blen) == 0)
				return true;
		}
	}
	return false;
}

/* True when the answer holds a name-valued RR (CNAME, PTR) naming 'n',
 * or an SRV with that target, port and weight (port 0: any). */
static bool
has_name(const struct md_zone_result *res, const char *name, uint16_t port,
    uint16_t weight)
{
	uint8_t w[MD_NAME_MAX];
	const uint8_t *p = NULL, *rd;
	uint16_t len;

	wname(name, w);
	for (unsigned i = 0; i < res->nan; i++) {
		const struct md_rrset *s = res->an[i].rrset;

		p = NULL;
		while ((p = md_rrset_next(s, p, &len, &rd)) != NULL) {
			if (s->type == MD_TYPE_SRV) {
				if (len > 6 && md_name_equal(rd + 6, w) &&
				    md_read_u16(rd) == 0 &&
				    md_read_u16(rd + 2) == weight &&
				    (port == 0 || md_read_u16(rd + 4) == port))
					return true;
			} else if (md_name_equal(rd, w)) {
				return true;
			}
		}
	}
	return false;
}

/* ---- parsing ------------------------------------------------------------ */

static void
test_parse_service(void **state)
{
	struct md_k8s_service s;
	char err[256] = "";
	json_t *j = load("service-clusterip.json");

	(void)state;
	assert_int_equal(md_k8s_parse_service(j, &s, err, sizeof(err)), 0);
	assert_string_equal(s.ns, "default");
	assert_string_equal(s.name, "web");
	assert_false(s.headless);
	assert_false(s.external);
	assert_int_equal(s.ncluster_ips, 2);
	assert_string_equal(s.cluster_ips[0], "10.96.0.10");
	assert_string_equal(s.cluster_ips[1], "fd00:10:96::a");
	assert_int_equal(s.nports, 3);
	assert_string_equal(s.ports[0].name, "http");
	assert_string_equal(s.ports[0].protocol, "TCP");
	assert_int_equal(s.ports[0].port, 80);
	assert_string_equal(s.ports[1].protocol, "UDP");
	assert_string_equal(s.ports[2].name, "");
	/* protocol defaults to TCP */
	assert_string_equal(s.ports[2].protocol, "TCP");
	assert_int_equal(s.ports[2].port, 9090);
	md_k8s_service_clear(&s);
	json_decref(j);

	j = load("service-headless.json");
	assert_int_equal(md_k8s_parse_service(j, &s, err, sizeof(err)), 0);
	assert_true(s.headless);
	assert_int_equal(s.ncluster_ips, 0);
	md_k8s_service_clear(&s);
	json_decref(j);

	j = load("service-external.json");
	assert_int_equal(md_k8s_parse_service(j, &s, err, sizeof(err)), 0);
	assert_true(s.external);
	assert_string_equal(s.external_name, "db.example.com");
	md_k8s_service_clear(&s);
	json_decref(j);
}

static void
test_parse_slice(void **state)
{
	struct md_k8s_slice s;
	char err[256] = "";
	json_t *j = load("slice-headless.json");

	(void)state;
	assert_int_equal(md_k8s_parse_slice(j, &s, err, sizeof(err)), 0);
	assert_string_equal(s.ns, "default");
	assert_string_equal(s.name, "db-x7k2p");
	assert_string_equal(s.service, "db");
	assert_int_equal(s.nports, 2);
	assert_string_equal(s.ports[0].name, "pg");
	assert_int_equal(s.ports[0].port, 5432);
	assert_int_equal(s.neps, 4);
	assert_string_equal(s.eps[0].addr, "10.1.0.1");
	assert_true(s.eps[0].ready);
	assert_string_equal(s.eps[0].hostname, "db-0");
	assert_string_equal(s.eps[0].pod_name, "db-0");
	assert_string_equal(s.eps[1].hostname, "");
	assert_string_equal(s.eps[1].pod_name, "db-1");
	assert_false(s.eps[2].ready);
	/* conditions.ready null: ready */
	assert_true(s.eps[3].ready);
	assert_string_equal(s.eps[3].pod_name, "");
	md_k8s_slice_clear(&s);
	json_decref(j);

	/* Every address of an endpoint is flattened into its own entry. */
	j = parse("{\"metadata\":{\"namespace\":\"a\",\"name\":\"s\"},"
		  "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
		  "[\"10.0.0.1\",\"10.0.0.2\"],\"hostname\":\"h\"}]}");
	assert_int_equal(md_k8s_parse_slice(j, &s, err, sizeof(err)), 0);
	assert_int_equal(s.neps, 2);
	assert_string_equal(s.eps[1].addr, "10.0.0.2");
	assert_string_equal(s.eps[1].hostname, "h");
	md_k8s_slice_clear(&s);
	json_decref(j);

	/* FQDN slices are skipped: parsed, but without endpoints. */
	j = parse("{\"metadata\":{\"namespace\":\"a\",\"name\":\"s\"},"
		  "\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":"
		  "[\"example.com\"]}]}");
	assert_int_equal(md_k8s_parse_slice(j, &s, err, sizeof(err)), 0);
	assert_int_equal(s.neps, 0);
	md_k8s_slice_clear(&s);
	json_decref(j);
}

static void
test_parse_pod(void **state)
{
	struct md_k8s_pod p;
	char err[256] = "";
	json_t *j = load("pod.json");

	(void)state;
	assert_int_equal(md_k8s_parse_pod(j, &p, err, sizeof(err)), 0);
	assert_string_equal(p.ns, "default");
	assert_string_equal(p.name, "web-5d8f7c9b6d-q2x4z");
	assert_int_equal(p.nips, 2);
	assert_string_equal(p.ips[0], "10.1.0.9");
	assert_string_equal(p.ips[1], "fd00:10:1::9");
	json_decref(j);

	/* Only status.podIP (older API servers). */
	j = parse("{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},"
		  "\"status\":{\"podIP\":\"10.0.0.7\"}}");
	assert_int_equal(md_k8s_parse_pod(j, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nips, 1);
	assert_string_equal(p.ips[0], "10.0.0.7");
	json_decref(j);
}

static void
test_meta_and_kind(void **state)
{
	char ns[64], name[64];
	json_t *j =
	    parse("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\"}}");

	(void)state;
	md_k8s_meta(j, ns, sizeof(ns), name, sizeof(name));
	assert_string_equal(ns, "n");
	assert_string_equal(name, "x");
	json_decref(j);
	j = parse("{\"metadata\":{\"name\":7}}");
	md_k8s_meta(j, ns, sizeof(ns), name, sizeof(name));
	assert_string_equal(ns, "");
	assert_string_equal(name, "");
	json_decref(j);
	assert_string_equal(md_k8s_kind_str(MD_K8S_SLICE), "EndpointSlice");
	assert_string_equal(md_k8s_kind_str(MD_K8S_POD), "Pod");
}

struct bad_case {
	enum md_k8s_kind kind;
	const char *json;
	const char *reason; /* a substring of the error */
};

#define META "\"metadata\":{\"namespace\":\"a\",\"name\":\"s\"}"

static const struct bad_case bad_cases[] = {
    {MD_K8S_SERVICE, "[]", "expected an object"},
    {MD_K8S_SERVICE, "{\"spec\":{}}", "metadata"},
    {MD_K8S_SERVICE, "{\"metadata\":{\"namespace\":\"a\"},\"spec\":{}}",
	"metadata.name"},
    {MD_K8S_SERVICE,
	"{\"metadata\":{\"namespace\":\"a\",\"name\":5},\"spec\":{}}",
	"metadata.name"},
    {MD_K8S_SERVICE,
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"Bad.Name\"},"
	"\"spec\":{}}",
	"metadata.name"},
    {MD_K8S_SERVICE, "{" META "}", "spec"},
    {MD_K8S_SERVICE, "{" META ",\"spec\":[]}", "spec"},
    {MD_K8S_SERVICE, "{" META ",\"spec\":{\"clusterIP\":\"10.0.0.300\"}}",
	"address"},
    {MD_K8S_SERVICE, "{" META ",\"spec\":{\"clusterIPs\":\"10.0.0.1\"}}",
	"spec.clusterIPs"},
    {MD_K8S_SERVICE,
	"{" META ",\"spec\":{\"clusterIPs\":[\"10.0.0.1\",\"10.0.0.2\"]}}",
	"two IPv4"},
    {MD_K8S_SERVICE,
	"{" META ",\"spec\":{\"ports\":[{\"name\":\"a\",\"port\":0}]}}",
	"1..65535"},
    {MD_K8S_SERVICE,
	"{" META ",\"spec\":{\"ports\":[{\"name\":\"a\",\"port\":70000}]}}",
	"1..65535"},
    {MD_K8S_SERVICE,
	"{" META ",\"spec\":{\"ports\":[{\"name\":\"a\",\"port\":\"80\"}]}}",
	"ports[].port"},
    {MD_K8S_SERVICE,
	"{" META ",\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"XX\"}]}}",
	"protocol"},
    {MD_K8S_SERVICE, "{" META ",\"spec\":{\"ports\":[80]}}", "ports[0]"},
    {MD_K8S_SERVICE,
	"{" META ",\"spec\":{\"publishNotReadyAddresses\":\"yes\"}}",
	"publishNotReadyAddresses"},
    {MD_K8S_SERVICE, "{" META ",\"spec\":{\"type\":\"ExternalName\"}}",
	"externalName"},
    {MD_K8S_SLICE, "{" META ",\"addressType\":\"IPv5\"}", "addressType"},
    {MD_K8S_SLICE,
	"{" META ",\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	"[\"fd00::1\"]}]}",
	"not an IPv4"},
    {MD_K8S_SLICE,
	"{" META ",\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	"[1]}]}",
	"addresses"},
    {MD_K8S_SLICE,
	"{" META ",\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	"[\"10.0.0.1\"],\"conditions\":{\"ready\":\"true\"}}]}",
	"ready"},
    {MD_K8S_SLICE,
	"{" META ",\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	"[\"10.0.0.1\"],\"hostname\":\"a.b\"}]}",
	"hostname"},
    {MD_K8S_SLICE, "{" META ",\"addressType\":\"IPv4\",\"endpoints\":{}}",
	"endpoints"},
    {MD_K8S_SLICE,
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"s\",\"labels\":[]},"
	"\"addressType\":\"IPv4\"}",
	"labels"},
    {MD_K8S_POD, "{" META ",\"status\":{\"podIP\":\"nope\"}}", "address"},
    {MD_K8S_POD, "{" META ",\"status\":{\"podIPs\":[{\"ip\":4}]}}", "podIPs"},
    {MD_K8S_POD, "{\"metadata\":{\"name\":\"p\"}}", "namespace"},
    {MD_K8S_NAMESPACE, "{\"metadata\":{}}", "metadata.name"},
    /* Upper case (fuzz_k8s): "Shop" and "shop" would be one DNS zone. */
    {MD_K8S_NAMESPACE, "{\"metadata\":{\"name\":\"Shop\"}}", "metadata.name"},
    {MD_K8S_SERVICE,
	"{\"metadata\":{\"namespace\":\"Shop\",\"name\":\"web\"},"
	"\"spec\":{}}",
	"metadata.namespace"},
    {MD_K8S_SLICE,
	"{" META ",\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	"[\"10.0.0.1\"],\"hostname\":\"Web-0\"}]}",
	"hostname"},
};

static void
test_parse_malformed(void **state)
{
	struct md_k8s_store *st = md_k8s_store_new();

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char err[256] = "";
		json_t *j = parse(c->json);
		int rc =
		    md_k8s_store_apply(st, c->kind, false, j, err, sizeof(err));

		json_decref(j);
		if (rc != MD_EPARSE || strstr(err, c->reason) == NULL)
			fail_msg(
			    "case %zu (%s): rc %d, err \"%s\", want \"%s\"", i,
			    c->json, rc, err, c->reason);
		assert_int_equal(md_k8s_store_count(st, c->kind), 0);
	}
	md_k8s_store_free(st);
}

/* ---- the store ---------------------------------------------------------- */

static void
test_store_apply(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	char err[256] = "";
	json_t *j;

	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SERVICE), 7);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SLICE), 4);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_NAMESPACE), 3);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_POD), 1);

	/* MODIFIED replaces the object of that namespace/name. */
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.0.99\"}}");
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SERVICE), 7);
	build(f);
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_A), 1);
	assert_true(has_addr(&res, "10.96.0.99"));

	/* A parse failure leaves the old object in place. */
	j = parse("{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},"
		  "\"spec\":{\"clusterIP\":\"bogus\"}}");
	assert_int_equal(md_k8s_store_apply(
			     f->st, MD_K8S_SERVICE, false, j, err, sizeof(err)),
	    MD_EPARSE);
	json_decref(j);
	build(f);
	look(f, "web.default.svc.cluster.local.", MD_TYPE_A, &res);
	assert_true(has_addr(&res, "10.96.0.99"));

	/* DELETED removes it (only metadata is needed). */
	apply_json(f->st, MD_K8S_SERVICE, true,
	    parse("{\"metadata\":{\"namespace\":\"default\",\"name\":"
		  "\"web\"}}"));
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SERVICE), 6);
	build(f);
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	/* Deleting something unknown is harmless. */
	apply_json(f->st, MD_K8S_POD, true,
	    parse("{\"metadata\":{\"namespace\":\"x\",\"name\":\"y\"}}"));
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_POD), 1);
	apply_json(f->st, MD_K8S_NAMESPACE, true,
	    parse("{\"metadata\":{\"name\":\"empty-ns\"}}"));
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_NAMESPACE), 2);

	/* Clear one kind only. */
	md_k8s_store_clear(f->st, MD_K8S_SLICE);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SLICE), 0);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SERVICE), 6);
	build(f);
	assert_int_equal(
	    look(f, "db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
}

/*
 * A list read page by page into a staging store takes the kind's place
 * whole; a Namespace listed by name replaces only that one.
 */
static void
test_store_replace(void **state)
{
	struct fx *f = *state;
	struct md_k8s_store *stage = md_k8s_store_new();
	struct md_zone_result res;

	assert_non_null(stage);
	apply_text(stage, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"fresh\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.7.7\"}}");
	md_k8s_store_replace(f->st, stage, MD_K8S_SERVICE, NULL);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SERVICE), 1);
	assert_int_equal(md_k8s_store_count(stage, MD_K8S_SERVICE), 0);
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_SLICE), 4);
	build(f);
	assert_int_equal(
	    look(f, "fresh.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);

	/* One key: the others stay; absent from the list, it goes. */
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_NAMESPACE), 3);
	apply_text(
	    stage, MD_K8S_NAMESPACE, "{\"metadata\":{\"name\":\"default\"}}");
	md_k8s_store_replace(f->st, stage, MD_K8S_NAMESPACE, "default");
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_NAMESPACE), 3);
	assert_int_equal(md_k8s_store_count(stage, MD_K8S_NAMESPACE), 0);
	md_k8s_store_replace(f->st, stage, MD_K8S_NAMESPACE, "empty-ns");
	assert_int_equal(md_k8s_store_count(f->st, MD_K8S_NAMESPACE), 2);
	md_k8s_store_free(stage);
}

static void
test_store_many(void **state)
{
	struct md_k8s_store *st = md_k8s_store_new();
	char buf[256];

	(void)state;
	/* Enough to make the maps grow several times. */
	for (int i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf),
		    "{\"metadata\":{\"namespace\":\"n%d\",\"name\":\"s%d\"},"
		    "\"spec\":{\"clusterIP\":\"10.0.%d.%d\"}}",
		    i % 7, i, i / 250, i % 250);
		apply_text(st, MD_K8S_SERVICE, buf);
	}
	assert_int_equal(md_k8s_store_count(st, MD_K8S_SERVICE), 500);
	for (int i = 0; i < 500; i += 2) {
		snprintf(buf, sizeof(buf),
		    "{\"metadata\":{\"namespace\":\"n%d\",\"name\":\"s%d\"}}",
		    i % 7, i);
		apply_json(st, MD_K8S_SERVICE, true, parse(buf));
	}
	assert_int_equal(md_k8s_store_count(st, MD_K8S_SERVICE), 250);
	md_k8s_store_free(st);
}

/* ---- the zones ---------------------------------------------------------- */

/* Spec §2.2 (and a zone needs its apex): SOA and NS. */
static void
test_apex_soa_ns(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	const uint8_t *rd;
	uint16_t len;
	uint8_t w[MD_NAME_MAX];
	size_t l;

	build(f);
	assert_int_equal(
	    look(f, "cluster.local.", MD_TYPE_SOA, &res), MD_ZONE_ANSWER);
	assert_non_null(md_rrset_next(res.an[0].rrset, NULL, &len, &rd));
	assert_true(md_name_equal(rd, wname("ns.dns.cluster.local.", w)));
	l = md_name_len(rd);
	assert_true(
	    md_name_equal(rd + l, wname("hostmaster.cluster.local.", w)));
	l += md_name_len(rd + l);
	assert_int_equal(len, l + 20);
	assert_int_equal(md_read_u32(rd + l), 42);
	assert_int_equal(md_read_u32(rd + l + 4), 7200);
	assert_int_equal(md_read_u32(rd + l + 8), 1800);
	assert_int_equal(md_read_u32(rd + l + 12), 86400);
	assert_int_equal(md_read_u32(rd + l + 16), 5);
	assert_int_equal(
	    look(f, "cluster.local.", MD_TYPE_NS, &res), MD_ZONE_ANSWER);
	assert_true(has_name(&res, "ns.dns.cluster.local.", 0, 0));
}

/* Spec §2.2: dns-version.<zone> TXT "1.1.0". */
static void
test_dns_version(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	const uint8_t *rd;
	uint16_t len;

	build(f);
	assert_int_equal(
	    look(f, "dns-version.cluster.local.", MD_TYPE_TXT, &res),
	    MD_ZONE_ANSWER);
	assert_non_null(md_rrset_next(res.an[0].rrset, NULL, &len, &rd));
	assert_int_equal(len, 6);
	assert_memory_equal(rd, "\0051.1.0", 6);
}

/* Spec §2.3.1: A and AAAA for every cluster IP (dual-stack). */
static void
test_clusterip_a_aaaa(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_A), 1);
	assert_true(has_addr(&res, "10.96.0.10"));
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_AAAA, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_AAAA), 1);
	assert_true(has_addr(&res, "fd00:10:96::a"));
	/* Single-stack: AAAA is NODATA, the name exists. */
	assert_int_equal(
	    look(f, "api.other.svc.cluster.local.", MD_TYPE_AAAA, &res),
	    MD_ZONE_NODATA);
}

/* Spec §2.4.1: a headless service answers its ready endpoints only. */
static void
test_headless_ready_only(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_A), 3);
	assert_true(has_addr(&res, "10.1.0.1"));
	assert_true(has_addr(&res, "10.1.0.2"));
	assert_true(has_addr(&res, "10.1.0.4"));
	assert_false(has_addr(&res, "10.1.0.3"));
	/* Nor the hostname of the not-ready one. */
	assert_int_equal(
	    look(f, "db-2.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	/* IPv6 slices give AAAA. */
	assert_int_equal(
	    look(f, "v6db.default.svc.cluster.local.", MD_TYPE_AAAA, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "fd00:10:1::5"));
}

/* publishNotReadyAddresses: not-ready endpoints are published too. */
static void
test_publish_not_ready(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "nr.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.2.0.1"));
}

/* Spec §2.4.1: <hostname>.<svc>.<ns>.svc.<zone> A/AAAA. */
static void
test_hostname_records(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "db-0.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_A), 1);
	assert_true(has_addr(&res, "10.1.0.1"));
	assert_int_equal(
	    look(f, "v6-0.v6db.default.svc.cluster.local.", MD_TYPE_AAAA, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "fd00:10:1::5"));
	/* No hostname: the generated label (CoreDNS: dashed address). */
	assert_int_equal(
	    look(f, "10-1-0-2.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.1.0.2"));
	/* Without endpoint_pod_names the pod name is no label. */
	assert_int_equal(
	    look(f, "db-1.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
}

/* endpoint_pod_names (CoreDNS): no hostname -> the pod's name. */
static void
test_endpoint_pod_names(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	f->conf.endpoint_pod_names = true;
	build(f);
	assert_int_equal(
	    look(f, "db-1.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.1.0.2"));
	/* An explicit hostname still wins; no target: the address. */
	assert_int_equal(
	    look(f, "db-0.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(
	    look(f, "10-1-0-4.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
}

/* Spec §2.3.2: SRV for named ports of a ClusterIP service. */
static void
test_srv_clusterip(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(look(f, "_http._tcp.web.default.svc.cluster.local.",
			     MD_TYPE_SRV, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_SRV), 1);
	assert_true(has_name(&res, "web.default.svc.cluster.local.", 80, 100));
	assert_int_equal(look(f, "_dns._udp.web.default.svc.cluster.local.",
			     MD_TYPE_SRV, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_name(&res, "web.default.svc.cluster.local.", 53, 100));
	/* The protocol is part of the name. */
	assert_int_equal(look(f, "_dns._tcp.web.default.svc.cluster.local.",
			     MD_TYPE_SRV, &res),
	    MD_ZONE_NXDOMAIN);
}

/* Spec §2.4.2: one SRV per ready endpoint, targets resolvable. */
static void
test_srv_headless(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(look(f, "_pg._tcp.db.default.svc.cluster.local.",
			     MD_TYPE_SRV, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_SRV), 3);
	assert_true(
	    has_name(&res, "db-0.db.default.svc.cluster.local.", 5432, 100));
	assert_true(has_name(
	    &res, "10-1-0-2.db.default.svc.cluster.local.", 5432, 100));
	assert_true(has_name(
	    &res, "10-1-0-4.db.default.svc.cluster.local.", 5432, 100));
	assert_false(
	    has_name(&res, "db-2.db.default.svc.cluster.local.", 0, 100));
	/* The targets' addresses ride along as additional data. */
	assert_true(res.nar >= 3);
	assert_int_equal(
	    look(f, "10-1-0-4.db.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.1.0.4"));
}

/* Spec §2.3.2 / §2.4.2: only named ports get SRV records. */
static void
test_unnamed_port_no_srv(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	/* web's third port (9090) and db's slice port 9187 are unnamed: no
	 * SRV record anywhere carries those ports. */
	assert_int_equal(
	    look(f, "_tcp.web.default.svc.cluster.local.", MD_TYPE_SRV, &res),
	    MD_ZONE_NODATA); /* ENT above _http._tcp */
	look(f, "_http._tcp.web.default.svc.cluster.local.", MD_TYPE_SRV, &res);
	assert_false(
	    has_name(&res, "web.default.svc.cluster.local.", 9090, 100));
	look(f, "_pg._tcp.db.default.svc.cluster.local.", MD_TYPE_SRV, &res);
	assert_false(
	    has_name(&res, "db-0.db.default.svc.cluster.local.", 9187, 100));
	/* A service with only unnamed ports: no _tcp label at all. */
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"plain\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.0.20\",\"ports\":[{\"port\":"
	    "80}]}}");
	build(f);
	assert_int_equal(
	    look(f, "_tcp.plain.default.svc.cluster.local.", MD_TYPE_SRV, &res),
	    MD_ZONE_NXDOMAIN);
}

/* Spec §2.5: ExternalName -> CNAME. */
static void
test_external_name(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	look(f, "ext.default.svc.cluster.local.", MD_TYPE_A, &res);
	assert_int_equal(res.status, MD_ZONE_CNAME_OUT);
	assert_int_equal(res.nan, 1);
	assert_int_equal(res.an[0].rrset->type, MD_TYPE_CNAME);
	assert_true(has_name(&res, "db.example.com.", 0, 0));
}

/* Spec §2.4.1: a headless service with no ready endpoints: NXDOMAIN. */
static void
test_headless_no_ready_nxdomain(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "lonely.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(
	    look(f, "l-0.lonely.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	/* Once the endpoint turns ready, it appears. */
	apply_text(f->st, MD_K8S_SLICE,
	    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"lonely-1\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"lonely\"}},"
	    "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
	    "[\"10.3.0.1\"],\"conditions\":{\"ready\":true}}]}");
	build(f);
	assert_int_equal(
	    look(f, "lonely.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
}

/* Namespaces exist (NODATA); unknown ones are NXDOMAIN. */
static void
test_namespaces(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "empty-ns.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NODATA);
	assert_int_equal(
	    look(f, "svc.cluster.local.", MD_TYPE_A, &res), MD_ZONE_NODATA);
	assert_int_equal(look(f, "nosuch.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(
	    look(f, "nosuch.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
}

/* A namespace filter serves only those namespaces. */
static void
test_namespace_filter(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	md_strlcpy(f->conf.namespaces[0], "other", 64);
	f->conf.nnamespaces = 1;
	build(f);
	assert_int_equal(
	    look(f, "api.other.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(look(f, "default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(
	    look(f, "empty-ns.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	/* Nor their reverse records. */
	assert_int_equal(look(f, "10.0.96.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_NOT_LOCAL);
}

/* RFC 2308: negative answers carry the SOA, TTL = conf->ttl. */
static void
test_negative_soa(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	f->conf.ttl = 17;
	build(f);
	assert_int_equal(
	    look(f, "nosuch.default.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(res.rcode, MD_RCODE_NXDOMAIN);
	assert_int_equal(res.nns, 1);
	assert_int_equal(res.ns[0].rrset->type, MD_TYPE_SOA);
	assert_int_equal(res.ns[0].ttl, 17);
	assert_int_equal(
	    look(f, "web.default.svc.cluster.local.", MD_TYPE_MX, &res),
	    MD_ZONE_NODATA);
	assert_int_equal(res.nns, 1);
	assert_int_equal(res.ns[0].rrset->type, MD_TYPE_SOA);
	assert_int_equal(res.ns[0].ttl, 17);
}

/* Spec §2.1: comparisons are case-insensitive. */
static void
test_case_insensitive(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "WeB.DEFAULT.Svc.Cluster.Local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.96.0.10"));
	assert_int_equal(look(f, "_HTTP._Tcp.web.default.svc.cluster.local.",
			     MD_TYPE_SRV, &res),
	    MD_ZONE_ANSWER);
}

/* Spec §2.3.3: PTR for cluster IPs, IPv4 and IPv6 (nibbles). */
static void
test_ptr_clusterip(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(look(f, "10.0.96.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(an_count(&res, MD_TYPE_PTR), 1);
	assert_true(has_name(&res, "web.default.svc.cluster.local.", 0, 0));
	/* fd00:10:96::a */
	assert_int_equal(look(f,
			     "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0."
			     "0.1.0.0.0.0.d.f.ip6.arpa.",
			     MD_TYPE_PTR, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_name(&res, "web.default.svc.cluster.local.", 0, 0));
	/* The reverse zones have their own apex. */
	assert_int_equal(
	    look(f, "in-addr.arpa.", MD_TYPE_SOA, &res), MD_ZONE_ANSWER);
	assert_int_equal(
	    look(f, "ip6.arpa.", MD_TYPE_NS, &res), MD_ZONE_ANSWER);
	assert_true(has_name(&res, "ns.dns.cluster.local.", 0, 0));
}

/* Spec §2.4.3: PTR for ready headless endpoints, to the hostname. */
static void
test_ptr_headless(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	uint8_t w[MD_NAME_MAX];

	build(f);
	assert_int_equal(look(f, "1.0.1.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_name(&res, "db-0.db.default.svc.cluster.local.", 0, 0));
	assert_int_equal(look(f, "2.0.1.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_ANSWER);
	assert_true(
	    has_name(&res, "10-1-0-2.db.default.svc.cluster.local.", 0, 0));
	/* Not ready: no PTR. */
	assert_int_equal(look(f, "3.0.1.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_NOT_LOCAL);
	/* reverse off: no reverse zones at all. */
	f->conf.reverse = false;
	build(f);
	/* The main zone and the namespaces default, other and empty-ns. */
	assert_int_equal(md_zone_set_count(f->zs), 1 + 3);
	assert_null(md_zone_set_find(f->zs, wname("in-addr.arpa.", w)));
	assert_null(md_zone_set_find(f->zs, wname("ip6.arpa.", w)));
	assert_int_equal(look(f, "1.0.1.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_NOT_LOCAL);
}

/* Unknown reverse names fall through to the next source. */
static void
test_reverse_fallthrough(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	uint8_t w[MD_NAME_MAX];

	build(f);
	/* Main, three namespaces, in-addr.arpa. and ip6.arpa. */
	assert_int_equal(md_zone_set_count(f->zs), 1 + 3 + 2);
	assert_non_null(md_zone_set_find(f->zs, wname("in-addr.arpa.", w)));
	assert_non_null(md_zone_set_find(f->zs, wname("ip6.arpa.", w)));
	assert_int_equal(look(f, "1.2.0.192.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_NOT_LOCAL);
	assert_int_equal(
	    look(f, "1.0.0.0.ip6.arpa.", MD_TYPE_PTR, &res), MD_ZONE_NOT_LOCAL);
}

/* Pod records: off by default; verified mode: the pods' IPs. */
static void
test_pods(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(
	    look(f, "10-1-0-9.default.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	f->conf.pods = MD_K8S_PODS_VERIFIED;
	build(f);
	assert_int_equal(
	    look(f, "10-1-0-9.default.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.1.0.9"));
	assert_int_equal(look(f, "fd00-10-1--9.default.pod.cluster.local.",
			     MD_TYPE_AAAA, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "fd00:10:1::9"));
	/* Verified: not in another namespace, not an unknown IP. */
	assert_int_equal(
	    look(f, "10-1-0-9.other.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(
	    look(f, "10-1-0-8.default.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	f->conf.pods = MD_K8S_PODS_INSECURE;
	build(f);
	assert_int_equal(
	    look(f, "10-1-0-9.default.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	/* Insecure (CoreDNS): any address the name spells, any namespace;
	 * the other address type is NODATA; a label that is no address
	 * does not exist. */
	assert_int_equal(
	    look(f, "10-9-8-7.nowhere.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.9.8.7"));
	assert_int_equal(res.an[0].ttl, 5);
	assert_int_equal(
	    look(f, "10-9-8-7.nowhere.pod.cluster.local.", MD_TYPE_AAAA, &res),
	    MD_ZONE_NODATA);
	assert_int_equal(
	    look(f, "2001-db8--42.x.pod.cluster.local.", MD_TYPE_AAAA, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "2001:db8::42"));
	assert_int_equal(
	    look(f, "not-an-ip.x.pod.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(
	    look(f, "10-9-8-7.x.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
}

/* autopath (with pods: verified): the main zone knows each pod address's
 * namespace; not without autopath, not for an address pods of two
 * namespaces share (the host's network), not for an unknown one. */
static void
test_autopath_clients(void **state)
{
	struct fx *f = *state;
	uint8_t w[MD_NAME_MAX], a[16];
	const struct md_zone *main;
	const char *ns;

	apply_text(f->st, MD_K8S_POD,
	    "{\"metadata\":{\"name\":\"h1\",\"namespace\":\"default\"},"
	    "\"status\":{\"podIP\":\"10.1.0.1\"}}");
	apply_text(f->st, MD_K8S_POD,
	    "{\"metadata\":{\"name\":\"h2\",\"namespace\":\"team\"},"
	    "\"status\":{\"podIP\":\"10.1.0.1\"}}");
	f->conf.pods = MD_K8S_PODS_VERIFIED;
	build(f);
	main = md_zone_set_find(f->zs, wname("cluster.local.", w));
	assert_non_null(main);
	assert_false(md_zone_autopath(main));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.0.9", a), 1);
	assert_null(md_zone_client_ns(main, a));

	f->conf.autopath = true;
	build(f);
	main = md_zone_set_find(f->zs, wname("cluster.local.", w));
	assert_true(md_zone_autopath(main));
	/* the namespace zones are not marked */
	assert_false(md_zone_autopath(
	    md_zone_set_find(f->zs, wname("default.svc.cluster.local.", w))));
	ns = md_zone_client_ns(main, a);
	assert_non_null(ns);
	assert_string_equal(ns, "default");
	assert_int_equal(inet_pton(AF_INET6, "fd00:10:1::9", a), 1);
	ns = md_zone_client_ns(main, a);
	assert_non_null(ns);
	assert_string_equal(ns, "default");
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.0.1", a), 1);
	assert_null(md_zone_client_ns(main, a));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.0.8", a), 1);
	assert_null(md_zone_client_ns(main, a));
}

/* Every record carries conf->ttl (5 by default). */
static void
test_ttl(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	static const struct {
		const char *name;
		uint16_t type;
	} q[] = {
	    {"cluster.local.", MD_TYPE_SOA},
	    {"cluster.local.", MD_TYPE_NS},
	    {"dns-version.cluster.local.", MD_TYPE_TXT},
	    {"web.default.svc.cluster.local.", MD_TYPE_A},
	    {"web.default.svc.cluster.local.", MD_TYPE_AAAA},
	    {"_http._tcp.web.default.svc.cluster.local.", MD_TYPE_SRV},
	    {"db.default.svc.cluster.local.", MD_TYPE_A},
	    {"db-0.db.default.svc.cluster.local.", MD_TYPE_A},
	    {"ext.default.svc.cluster.local.", MD_TYPE_CNAME},
	    {"10.0.96.10.in-addr.arpa.", MD_TYPE_PTR},
	};

	for (int round = 0; round < 2; round++) {
		uint32_t ttl = round == 0 ? 5 : 30;

		f->conf.ttl = ttl;
		build(f);
		for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
			look(f, q[i].name, q[i].type, &res);
			if (res.nan == 0 || res.an[0].ttl != ttl)
				fail_msg("%s type %u: ttl %u, want %u",
				    q[i].name, q[i].type,
				    res.nan ? res.an[0].ttl : 0, ttl);
		}
	}
}

/* Several cluster domains: each gets the records; errors are reported. */
static void
test_zones_and_errors(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;
	struct md_k8s_builder *kb;
	struct md_zone **zones;
	char err[256] = "", longname[MD_NAME_STRLEN];
	uint8_t w[MD_NAME_MAX];

	assert_true(
	    md_name_from_str("k8s.example.", NULL, f->conf.zones[1]) > 0);
	f->conf.nzones = 2;
	build(f);
	/* Per domain a main zone and one per namespace (default, other,
	 * empty-ns), then in-addr.arpa. and ip6.arpa. */
	assert_int_equal(md_zone_set_count(f->zs), 2 + 2 * 3 + 2);
	assert_non_null(md_zone_set_find(f->zs, wname("k8s.example.", w)));
	assert_non_null(
	    md_zone_set_find(f->zs, wname("default.svc.k8s.example.", w)));
	assert_int_equal(
	    look(f, "web.default.svc.k8s.example.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(look(f, "dns-version.k8s.example.", MD_TYPE_TXT, &res),
	    MD_ZONE_ANSWER);
	/* A domain too long for ns.dns.<domain>: -1 and a reason. */
	snprintf(longname, sizeof(longname), "%.63s.%.63s.%.63s.%.57s.",
	    MD_K8S_TEST_LABEL, MD_K8S_TEST_LABEL, MD_K8S_TEST_LABEL,
	    MD_K8S_TEST_LABEL);
	assert_true(md_name_from_str(longname, NULL, f->conf.zones[1]) > 0);
	kb = md_k8s_builder_new(&f->conf);
	assert_non_null(kb);
	assert_int_equal(
	    md_k8s_builder_update(kb, f->st, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	md_k8s_builder_free(kb);
	/* More domains than the builder holds: -1 and a reason. */
	f->conf.nzones = MD_K8S_ZONES_MAX + 1;
	err[0] = '\0';
	kb = md_k8s_builder_new(&f->conf);
	assert_non_null(kb);
	assert_int_equal(
	    md_k8s_builder_update(kb, f->st, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many"));
	md_k8s_builder_free(kb);
	/* No cluster domain: nothing to build. */
	f->conf.nzones = 0;
	kb = md_k8s_builder_new(&f->conf);
	assert_non_null(kb);
	assert_int_equal(
	    md_k8s_builder_update(kb, f->st, 1, err, sizeof(err)), 0);
	assert_int_equal(
	    md_k8s_builder_update_reverse(kb, f->st, 1, err, sizeof(err)), 0);
	assert_int_equal(md_k8s_builder_zones(kb, &zones), 0);
	md_k8s_builder_free(kb);
}

/*
 * The incremental builder (what the client publishes): the same answers as
 * the full build, one zone per namespace whose negative answers carry the
 * cluster domain's SOA, and a change rebuilds only its namespace.
 */
static void
test_incremental_builder(void **state)
{
	struct fx *f = *state;
	struct md_k8s_builder *kb = md_k8s_builder_new(&f->conf);
	struct md_zone_result res;
	const struct md_zone *other_before, *default_before;
	uint8_t w[MD_NAME_MAX];
	char err[256] = "";

	assert_non_null(kb);
	assert_int_equal(
	    md_k8s_builder_update(kb, f->st, 7, err, sizeof(err)), 0);
	assert_int_equal(
	    md_k8s_builder_update_reverse(kb, f->st, 7, err, sizeof(err)), 0);
	builder_snapshot(f, kb);
	/* Same answers as the full build. */
	assert_int_equal(
	    look(f, "api.other.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.96.1.1"));
	assert_int_equal(look(f, "1.1.96.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_ANSWER);
	/* An empty namespace: NODATA; negative answers carry the cluster
	 * domain's SOA, not one of the namespace's zone. */
	assert_int_equal(
	    look(f, "empty-ns.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NODATA);
	assert_int_equal(res.nns, 1);
	assert_int_equal(res.ns[0].rrset->type, MD_TYPE_SOA);
	assert_true(md_name_equal(res.ns[0].owner, wname("cluster.local.", w)));
	assert_int_equal(res.ns[0].ttl, 5);
	assert_int_equal(
	    look(f, "missing.other.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_true(md_name_equal(res.ns[0].owner, wname("cluster.local.", w)));
	assert_int_equal(look(f, "nowhere.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	/* A change in "other" rebuilds its zone only. */
	other_before =
	    md_zone_set_find(f->zs, wname("api.other.svc.cluster.local.", w));
	default_before =
	    md_zone_set_find(f->zs, wname("web.default.svc.cluster.local.", w));
	apply_text(f->st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"namespace\":\"other\",\"name\":\"api\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.1.2\"}}");
	assert_int_equal(
	    md_k8s_builder_update(kb, f->st, 8, err, sizeof(err)), 0);
	assert_int_equal(
	    md_k8s_builder_update_reverse(kb, f->st, 8, err, sizeof(err)), 0);
	builder_snapshot(f, kb);
	assert_ptr_not_equal(
	    md_zone_set_find(f->zs, wname("api.other.svc.cluster.local.", w)),
	    other_before);
	assert_ptr_equal(
	    md_zone_set_find(f->zs, wname("web.default.svc.cluster.local.", w)),
	    default_before);
	assert_int_equal(
	    look(f, "api.other.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_true(has_addr(&res, "10.96.1.2"));
	assert_int_equal(look(f, "2.1.96.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_ANSWER);
	/* A namespace whose objects are all gone loses its zone. */
	apply_json(f->st, MD_K8S_SERVICE, true,
	    parse("{\"metadata\":{\"namespace\":\"other\","
		  "\"name\":\"api\"}}"));
	apply_json(f->st, MD_K8S_NAMESPACE, true,
	    parse("{\"metadata\":{\"name\":\"other\"}}"));
	assert_int_equal(
	    md_k8s_builder_update(kb, f->st, 9, err, sizeof(err)), 0);
	builder_snapshot(f, kb);
	assert_int_equal(
	    look(f, "api.other.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	assert_int_equal(look(f, "other.svc.cluster.local.", MD_TYPE_A, &res),
	    MD_ZONE_NXDOMAIN);
	md_k8s_builder_free(kb);
}

/* ---- the incremental builder equals a fresh build ----------------------- */

/*
 * After any sequence of changes, the zones the incremental builder holds
 * must answer exactly as the zones a new builder makes from the same final
 * store.  Both are compared through md_zone_lookup() on a fixed set of
 * names (every name the scenario below can make, and more), and by their
 * origins and record counts (which also catches a stale record at a name
 * no probe asks for).  Records are compared as sorted text lines, so that
 * RRsets listing the same records in another order compare equal.
 */

static const char *const eq_namespaces[] = {
    "default", "other", "empty-ns", "team", "newns", "zeta"};
static const char *const eq_services[] = {"web", "db", "ext", "lonely", "nr",
    "v6db", "api", "cache", "kv", "fresh", "late"};
static const char *const eq_below_service[] = {"_http._tcp", "_dns._udp",
    "_pg._tcp", "_https._tcp", "_tcp", "db-0", "db-1", "10-1-0-2", "10-1-0-4",
    "kv-0", "10-5-0-2", "l-0", "v6-0", "10-2-0-1", "lt-0"};
static const char *const eq_pods[] = {
    "10-1-0-9", "fd00-10-1--9", "10-6-0-1", "10-6-0-2", "10-9-9-9"};
static const char *const eq_ips[] = {"10.96.0.10", "10.96.0.11", "10.96.0.12",
    "fd00:10:96::a", "10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.2.0.1",
    "10.3.0.1", "fd00:10:1::5", "10.96.1.1", "10.96.5.5", "10.5.0.1",
    "10.5.0.2", "10.96.7.7", "10.7.0.1", "10.96.8.8", "10.1.0.9", "10.6.0.1",
    "10.6.0.2"};
static const uint16_t eq_types[] = {MD_TYPE_A, MD_TYPE_AAAA, MD_TYPE_SRV,
    MD_TYPE_PTR, MD_TYPE_CNAME, MD_TYPE_TXT, MD_TYPE_SOA, MD_TYPE_NS};

struct text {
	char *s;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->len + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	t->len += (size_t)n;
}

static void
text_hex(struct text *t, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	if (t->len + 2 * n + 1 > t->cap) {
		t->cap = (t->len + 2 * n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	for (size_t i = 0; i < n; i++) {
		t->s[t->len++] = digits[p[i] >> 4];
		t->s[t->len++] = digits[p[i] & 0xf];
	}
	t->s[t->len] = '\0';
}

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The answer to qname/type as text, independent of record order. */
static void
answer_text(const struct md_zone_set *zs, const uint8_t *qname, uint16_t type,
    struct text *out)
{
	struct md_zone_result res;
	char *lines[3 * MD_ZONE_SECTION_MAX * 64];
	size_t n = 0;

	md_zone_lookup(zs, qname, type, &res);
	text_add(out, "%s rcode %u aa %d\n", md_zone_status_str(res.status),
	    res.rcode, res.aa);
	for (int sec = 0; sec < 3; sec++) {
		const struct md_zone_rr *rrs = sec == 0 ? res.an
		    : sec == 1				? res.ns
							: res.ar;
		unsigned count = sec == 0 ? res.nan
		    : sec == 1		  ? res.nns
					  : res.nar;

		for (unsigned i = 0; i < count; i++) {
			const struct md_rrset *s = rrs[i].rrset;
			uint8_t owner[MD_NAME_MAX];
			const uint8_t *p = NULL, *rd;
			uint16_t len;

			memcpy(owner, rrs[i].owner ? rrs[i].owner : qname,
			    md_name_len(rrs[i].owner ? rrs[i].owner : qname));
			md_name_lower(owner);
			while ((p = md_rrset_next(s, p, &len, &rd)) != NULL) {
				struct text line = {NULL, 0, 0};

				assert_true(
				    n < sizeof(lines) / sizeof(lines[0]));
				text_add(&line, "%d ", sec);
				text_hex(&line, owner, md_name_len(owner));
				text_add(&line, " %u %u ", s->type, rrs[i].ttl);
				text_hex(&line, rd, len);
				lines[n++] = line.s;
			}
		}
	}
	qsort(lines, n, sizeof(lines[0]), cmp_lines);
	for (size_t i = 0; i < n; i++) {
		text_add(out, "%s\n", lines[i]);
		free(lines[i]);
	}
}

/* The zones of a snapshot: origin, serial and record count, sorted. */
static void
zones_text(const struct md_zone_set *zs, struct text *out)
{
	char *lines[256];
	size_t n = md_zone_set_count(zs);

	assert_true(n <= sizeof(lines) / sizeof(lines[0]));
	for (size_t i = 0; i < n; i++) {
		const struct md_zone *z = md_zone_set_get(zs, i);
		struct text line = {NULL, 0, 0};
		char origin[MD_NAME_STRLEN];

		assert_true(md_name_to_str(md_zone_origin(z), origin,
				sizeof(origin)) == 0);
		text_add(&line, "%s serial %u records %zu", origin,
		    md_zone_serial(z), md_zone_rr_count(z));
		lines[i] = line.s;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_lines);
	for (size_t i = 0; i < n; i++) {
		text_add(out, "%s\n", lines[i]);
		free(lines[i]);
	}
}

/* Every probe name, in wire form, for the domains of conf. */
static size_t
probe_names(
    const struct md_k8s_conf *conf, uint8_t (*out)[MD_NAME_MAX], size_t max)
{
	char buf[MD_NAME_STRLEN];
	size_t n = 0;

#define PROBE(origin, ...)                                              \
	do {                                                            \
		snprintf(buf, sizeof(buf), __VA_ARGS__);                \
		assert_true(n < max);                                   \
		assert_true(md_name_from_str(buf, origin, out[n]) > 0); \
		n++;                                                    \
	} while (0)
	for (size_t d = 0; d < conf->nzones; d++) {
		const uint8_t *z = conf->zones[d];

		PROBE(z, "@");
		PROBE(z, "dns-version");
		PROBE(z, "svc");
		PROBE(z, "pod");
		PROBE(z, "nosuch");
		for (size_t i = 0; i < NELEMS(eq_namespaces); i++) {
			const char *ns = eq_namespaces[i];

			PROBE(z, "%s.svc", ns);
			PROBE(z, "%s.pod", ns);
			for (size_t j = 0; j < NELEMS(eq_pods); j++)
				PROBE(z, "%s.%s.pod", eq_pods[j], ns);
			for (size_t j = 0; j < NELEMS(eq_services); j++) {
				const char *svc = eq_services[j];

				PROBE(z, "%s.%s.svc", svc, ns);
				for (size_t k = 0; k < NELEMS(eq_below_service);
				     k++)
					PROBE(z, "%s.%s.%s.svc",
					    eq_below_service[k], svc, ns);
			}
		}
	}
	for (size_t i = 0; i < NELEMS(eq_ips); i++) {
		uint8_t b[16];
		char *p = buf;

		if (inet_pton(AF_INET, eq_ips[i], b) == 1) {
			PROBE(NULL, "%u.%u.%u.%u.in-addr.arpa.", b[3], b[2],
			    b[1], b[0]);
			continue;
		}
		assert_int_equal(inet_pton(AF_INET6, eq_ips[i], b), 1);
		for (int j = 15; j >= 0; j--)
			p += snprintf(p, 5, "%x.%x.", b[j] & 0xf, b[j] >> 4);
		md_strlcpy(p, "ip6.arpa.", sizeof(buf) - (size_t)(p - buf));
		assert_true(md_name_from_str(buf, NULL, out[n]) > 0);
		n++;
	}
	PROBE(NULL, "in-addr.arpa.");
	PROBE(NULL, "ip6.arpa.");
#undef PROBE
	return n;
}

struct eq {
	struct fx *f;
	struct md_k8s_builder *kb; /* the incremental one, kept throughout */
	bool reverse_each;	   /* update_reverse after every step */
	uint8_t (*names)[MD_NAME_MAX];
	size_t nnames;
	unsigned checks;
};

/* Fail unless the two snapshots answer every probe alike. */
static void
assert_same_zones(struct eq *e, const struct md_zone_set *inc,
    const struct md_zone_set *fresh, const char *label)
{
	struct text a = {NULL, 0, 0}, b = {NULL, 0, 0};
	char name[MD_NAME_STRLEN];

	zones_text(inc, &a);
	zones_text(fresh, &b);
	if (strcmp(a.s, b.s) != 0)
		fail_msg("after \"%s\": the zones differ\nincremental:\n%s"
			 "fresh:\n%s",
		    label, a.s, b.s);
	for (size_t i = 0; i < e->nnames; i++) {
		for (size_t t = 0; t < NELEMS(eq_types); t++) {
			a.len = 0;
			b.len = 0;
			answer_text(inc, e->names[i], eq_types[t], &a);
			answer_text(fresh, e->names[i], eq_types[t], &b);
			if (strcmp(a.s, b.s) == 0)
				continue;
			md_name_to_str(e->names[i], name, sizeof(name));
			fail_msg("after \"%s\": %s type %u differs\n"
				 "incremental:\n%sfresh:\n%s",
			    label, name, eq_types[t], a.s, b.s);
		}
	}
	free(a.s);
	free(b.s);
}

/*
 * One step of the scenario: the incremental builder takes the changes
 * (the reverse zones too when e->reverse_each, or 'last'), then its zones
 * must equal those of a new builder on the same store.  The incremental
 * update runs first: it consumes the store's record of what changed.
 */
static void
eq_step(struct eq *e, const char *label, bool last)
{
	struct fx *f = e->f;
	struct md_zone_set *inc;
	char err[256] = "";

	if (md_k8s_builder_update(e->kb, f->st, 42, err, sizeof(err)) != 0)
		fail_msg("%s: update: %s", label, err);
	if (!e->reverse_each && !last)
		return;
	if (md_k8s_builder_update_reverse(e->kb, f->st, 42, err, sizeof(err)) !=
	    0)
		fail_msg("%s: update_reverse: %s", label, err);
	builder_snapshot(f, e->kb);
	inc = md_zone_set_ref(f->zs);
	build(f);
	assert_same_zones(e, inc, f->zs, label);
	md_zone_set_unref(inc);
	e->checks++;
}

static void
svc(struct fx *f, const char *ns, const char *name, const char *spec)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	    "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"},"
	    "\"spec\":%s}",
	    ns, name, spec);
	apply_text(f->st, MD_K8S_SERVICE, buf);
}

static void
slice(struct fx *f, const char *ns, const char *name, const char *service,
    const char *rest)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	    "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},"
	    "\"addressType\":\"IPv4\",%s}",
	    ns, name, service, rest);
	apply_text(f->st, MD_K8S_SLICE, buf);
}

static void
pod(struct fx *f, const char *ns, const char *name, const char *ip)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
	    "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"},"
	    "\"status\":{\"podIP\":\"%s\"}}",
	    ns, name, ip);
	apply_text(f->st, MD_K8S_POD, buf);
}

static void
del(struct fx *f, enum md_k8s_kind kind, const char *ns, const char *name)
{
	char buf[256];

	if (ns == NULL)
		snprintf(
		    buf, sizeof(buf), "{\"metadata\":{\"name\":\"%s\"}}", name);
	else
		snprintf(buf, sizeof(buf),
		    "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"}}", ns,
		    name);
	apply_json(f->st, kind, true, parse(buf));
}

/*
 * The scenario, on the store of setup(): additions, modifications
 * (addresses, readiness, a type change), deletions, namespaces appearing
 * and going, pods, and relists of three kinds (store_clear, then the new
 * list, as the client applies a list).
 */
static void
eq_scenario(struct eq *e)
{
	struct fx *f = e->f;

	e->names = calloc(4096, sizeof(*e->names));
	assert_non_null(e->names);
	e->nnames = probe_names(&f->conf, e->names, 4096);
	e->kb = md_k8s_builder_new(&f->conf);
	assert_non_null(e->kb);
	eq_step(e, "initial list", false);

	/* Additions: a namespace known only by its objects. */
	svc(f, "team", "cache",
	    "{\"clusterIP\":\"10.96.5.5\",\"ports\":[{\"name\":\"http\","
	    "\"port\":80}]}");
	eq_step(e, "add a service in a new namespace", false);
	svc(f, "team", "kv", "{\"clusterIP\":\"None\"}");
	slice(f, "team", "kv-1", "kv",
	    "\"ports\":[{\"name\":\"http\",\"port\":8080}],\"endpoints\":["
	    "{\"addresses\":[\"10.5.0.1\"],\"hostname\":\"kv-0\"},"
	    "{\"addresses\":[\"10.5.0.2\"]}]");
	eq_step(e, "add a headless service and its slice", false);

	/* Modifications. */
	svc(f, "default", "web", "{\"clusterIP\":\"10.96.0.11\"}");
	slice(f, "team", "kv-1", "kv",
	    "\"ports\":[{\"name\":\"http\",\"port\":8080}],\"endpoints\":["
	    "{\"addresses\":[\"10.5.0.1\"],\"hostname\":\"kv-0\"},"
	    "{\"addresses\":[\"10.5.0.2\"],\"conditions\":{\"ready\":false}}"
	    "]");
	eq_step(e, "modify an address and a readiness", false);
	svc(f, "team", "cache", "{\"clusterIP\":\"None\"}");
	svc(f, "default", "ext",
	    "{\"type\":\"ExternalName\",\"externalName\":\"other.example\"}");
	eq_step(e, "ClusterIP to headless, a new external name", false);
	svc(f, "other", "api",
	    "{\"type\":\"ExternalName\",\"externalName\":\"api.example\"}");
	svc(f, "default", "lonely", "{\"clusterIP\":\"10.96.7.7\"}");
	eq_step(e, "to ExternalName, headless to ClusterIP", false);

	/* Deletions. */
	del(f, MD_K8S_SLICE, "default", "db-x7k2p");
	del(f, MD_K8S_SERVICE, "default", "nr");
	eq_step(e, "delete a slice and a service", false);

	/* Namespaces: one appears, an empty one goes, one goes while its
	 * objects stay. */
	add_ns(f->st, "team");
	del(f, MD_K8S_NAMESPACE, NULL, "empty-ns");
	del(f, MD_K8S_NAMESPACE, NULL, "other");
	eq_step(e, "namespace changes", false);
	del(f, MD_K8S_SLICE, "team", "kv-1");
	del(f, MD_K8S_SERVICE, "team", "kv");
	del(f, MD_K8S_SERVICE, "team", "cache");
	eq_step(e, "empty a namespace", false);
	del(f, MD_K8S_NAMESPACE, NULL, "team");
	eq_step(e, "delete the emptied namespace", false);
	del(f, MD_K8S_SERVICE, "other", "api");
	eq_step(e, "delete the last object of a deleted namespace", false);

	/* Pods. */
	pod(f, "team", "p1", "10.6.0.1");
	pod(f, "default", "p2", "10.6.0.2");
	eq_step(e, "add pods", false);
	pod(f, "team", "p1", "10.9.9.9");
	del(f, MD_K8S_POD, "default", "p2");
	eq_step(e, "modify and delete pods", false);

	/* A slice before its service. */
	slice(f, "default", "late-1", "late",
	    "\"endpoints\":[{\"addresses\":[\"10.7.0.1\"],"
	    "\"hostname\":\"lt-0\"}]");
	eq_step(e, "a slice before its service", false);
	svc(f, "default", "late", "{\"clusterIP\":\"None\"}");
	eq_step(e, "its service", false);

	/* Relists: everything of a kind replaced at once. */
	md_k8s_store_clear(f->st, MD_K8S_SERVICE);
	svc(f, "default", "web", "{\"clusterIP\":\"10.96.0.12\"}");
	svc(f, "default", "db", "{\"clusterIP\":\"None\"}");
	svc(f, "default", "late", "{\"clusterIP\":\"None\"}");
	svc(f, "newns", "fresh",
	    "{\"clusterIP\":\"10.96.8.8\",\"ports\":[{\"name\":\"https\","
	    "\"port\":443}]}");
	eq_step(e, "relist the services", false);
	md_k8s_store_clear(f->st, MD_K8S_NAMESPACE);
	add_ns(f->st, "default");
	add_ns(f->st, "zeta");
	eq_step(e, "relist the namespaces", false);
	md_k8s_store_clear(f->st, MD_K8S_SLICE);
	slice(f, "default", "db-2", "db",
	    "\"ports\":[{\"name\":\"pg\",\"port\":5432}],\"endpoints\":["
	    "{\"addresses\":[\"10.1.0.1\"],\"hostname\":\"db-0\"}]");
	md_k8s_store_clear(f->st, MD_K8S_POD);
	pod(f, "zeta", "p3", "10.1.0.9");
	eq_step(e, "relist the slices and the pods", true);

	md_k8s_builder_free(e->kb);
	free(e->names);
}

/* The default configuration; PTR zones after every step. */
static void
test_incremental_equals_fresh(void **state)
{
	struct eq e = {.f = *state, .reverse_each = true};

	eq_scenario(&e);
	assert_int_equal(e.checks, 18);
}

/* Two domains, verified pods, pod names; PTR zones only at the end (the
 * client rebuilds them later than the rest). */
static void
test_incremental_equals_fresh_domains(void **state)
{
	struct eq e = {.f = *state, .reverse_each = false};

	assert_true(
	    md_name_from_str("k8s.example.", NULL, e.f->conf.zones[1]) > 0);
	e.f->conf.nzones = 2;
	e.f->conf.pods = MD_K8S_PODS_VERIFIED;
	e.f->conf.endpoint_pod_names = true;
	eq_scenario(&e);
	assert_int_equal(e.checks, 1);
}

/* A namespace filter, insecure pods, no reverse zones. */
static void
test_incremental_equals_fresh_filtered(void **state)
{
	struct eq e = {.f = *state, .reverse_each = true};

	md_strlcpy(e.f->conf.namespaces[0], "default", 64);
	md_strlcpy(e.f->conf.namespaces[1], "team", 64);
	e.f->conf.nnamespaces = 2;
	e.f->conf.pods = MD_K8S_PODS_INSECURE;
	e.f->conf.reverse = false;
	eq_scenario(&e);
	assert_int_equal(e.checks, 18);
}

/* Before the first list: stand-ins for the cluster domain and, with
 * reverse, in-addr.arpa and ip6.arpa, every name SERVFAIL (not ready),
 * never NXDOMAIN nor left to the next source. */
static void
test_pending_zones(void **state)
{
	struct md_k8s_conf c;
	struct md_zone *z[MD_K8S_PENDING_MAX];
	struct md_zone_set *zs;
	struct md_zone_result res;
	uint8_t name[MD_NAME_MAX];
	static const char *const names[] = {"cluster.local.",
	    "kubernetes.default.svc.cluster.local.",
	    "nope.nope.svc.cluster.local.", "10.0.96.10.in-addr.arpa.",
	    "1.0.0.0.ip6.arpa."};
	ssize_t n;

	conf_setup(&c);
	n = md_k8s_pending_zones(&c, z);
	assert_int_equal(n, 3);
	zs = md_zone_set_new(z, (size_t)n);
	assert_non_null(zs);
	for (ssize_t i = 0; i < n; i++)
		md_zone_free(z[i]);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(md_name_from_str(names[i], NULL, name) > 0);
		md_zone_lookup(zs, name, MD_TYPE_A, &res);
		assert_int_equal(res.status, MD_ZONE_NOT_READY);
		assert_int_equal(res.rcode, MD_RCODE_SERVFAIL);
		assert_int_equal(res.nan + res.nns + res.nar, 0);
	}
	assert_true(md_name_from_str("example.com.", NULL, name) > 0);
	md_zone_lookup(zs, name, MD_TYPE_A, &res);
	assert_int_equal(res.status, MD_ZONE_NOT_LOCAL);
	md_zone_set_unref(zs);

	/* Without reverse, the cluster domains only. */
	c.reverse = false;
	n = md_k8s_pending_zones(&c, z);
	assert_int_equal(n, 1);
	md_zone_free(z[0]);
	(void)state;
}

/* The DNS programming latency's inputs: the trigger annotation's time
 * and the kind of a slice's Service. */
static void
test_programming_inputs(void **state)
{
	struct md_k8s_store *st = md_k8s_store_new();
	uint64_t us;

	(void)state;
	assert_int_equal(md_k8s_parse_time("1970-01-01T00:00:00Z", &us), 0);
	assert_true(us == 0);
	assert_int_equal(md_k8s_parse_time("2026-12-03T14:19:07Z", &us), 0);
	assert_true(us == 1796307547ULL * 1000000);
	/* RFC3339Nano, as the endpoints controller writes it */
	assert_int_equal(
	    md_k8s_parse_time("2026-12-03T14:19:07.123456789Z", &us), 0);
	assert_true(us == 1796307547ULL * 1000000 + 123456);
	assert_int_equal(
	    md_k8s_parse_time("2026-12-03T15:19:07.5+01:00", &us), 0);
	assert_true(us == 1796307547ULL * 1000000 + 500000);
	assert_int_equal(
	    md_k8s_parse_time("2024-02-29T00:00:00-00:30", &us), 0);
	assert_true(us == 1709166600ULL * 1000000);
	assert_int_equal(
	    md_k8s_parse_time("2026-12-03 14:19:07Z", &us), MD_EPARSE);
	assert_int_equal(
	    md_k8s_parse_time("2026-12-03T14:19:07", &us), MD_EPARSE);
	assert_int_equal(
	    md_k8s_parse_time("2026-13-03T14:19:07Z", &us), MD_EPARSE);
	assert_int_equal(
	    md_k8s_parse_time("2026-12-03T14:19:07.Z", &us), MD_EPARSE);
	assert_int_equal(
	    md_k8s_parse_time("2026-12-03T14:19:07Zx", &us), MD_EPARSE);
	assert_int_equal(md_k8s_parse_time("", &us), MD_EPARSE);
	assert_int_equal(md_k8s_parse_time(NULL, &us), MD_EPARSE);

	assert_non_null(st);
	apply_text(st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"name\":\"c\",\"namespace\":\"default\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.0.1\",\"selector\":{\"a\":\"b\"}}}");
	apply_text(st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"name\":\"hs\",\"namespace\":\"default\"},"
	    "\"spec\":{\"clusterIP\":\"None\",\"selector\":{\"a\":\"b\"}}}");
	apply_text(st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"name\":\"h\",\"namespace\":\"default\"},"
	    "\"spec\":{\"clusterIP\":\"None\",\"selector\":{}}}");
	apply_text(st, MD_K8S_SERVICE,
	    "{\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"},"
	    "\"spec\":{\"type\":\"ExternalName\","
	    "\"externalName\":\"a.example\"}}");
	assert_int_equal(md_k8s_store_service_kind(st, "default", "c"),
	    MD_K8S_SVC_CLUSTER_IP);
	assert_int_equal(md_k8s_store_service_kind(st, "default", "hs"),
	    MD_K8S_SVC_HEADLESS_WITH_SELECTOR);
	assert_int_equal(md_k8s_store_service_kind(st, "default", "h"),
	    MD_K8S_SVC_HEADLESS_WITHOUT_SELECTOR);
	assert_int_equal(md_k8s_store_service_kind(st, "default", "x"), -1);
	assert_int_equal(md_k8s_store_service_kind(st, "other", "c"), -1);
	assert_string_equal(
	    md_k8s_service_kind_str(MD_K8S_SVC_HEADLESS_WITH_SELECTOR),
	    "headless_with_selector");
	md_k8s_store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pending_zones),
	    cmocka_unit_test(test_parse_service),
	    cmocka_unit_test(test_programming_inputs),
	    cmocka_unit_test(test_parse_slice),
	    cmocka_unit_test(test_parse_pod),
	    cmocka_unit_test(test_meta_and_kind),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_store_many),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_store_apply),
	    T(test_store_replace),
	    T(test_apex_soa_ns),
	    T(test_dns_version),
	    T(test_clusterip_a_aaaa),
	    T(test_headless_ready_only),
	    T(test_publish_not_ready),
	    T(test_hostname_records),
	    T(test_endpoint_pod_names),
	    T(test_srv_clusterip),
	    T(test_srv_headless),
	    T(test_unnamed_port_no_srv),
	    T(test_external_name),
	    T(test_headless_no_ready_nxdomain),
	    T(test_namespaces),
	    T(test_namespace_filter),
	    T(test_negative_soa),
	    T(test_case_insensitive),
	    T(test_ptr_clusterip),
	    T(test_ptr_headless),
	    T(test_reverse_fallthrough),
	    T(test_pods),
	    T(test_autopath_clients),
	    T(test_ttl),
	    T(test_zones_and_errors),
	    T(test_incremental_builder),
	    T(test_incremental_equals_fresh),
	    T(test_incremental_equals_fresh_domains),
	    T(test_incremental_equals_fresh_filtered),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
