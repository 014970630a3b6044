/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_k8s.c - the Kubernetes objects (src/k8s/k8s_objects.c): parsing
 * Service, EndpointSlice and Pod JSON, the store, and the zones built from
 * it, checked rule by rule against the Kubernetes DNS-Based Service
 * Discovery specification 1.1.0 through md_zone_lookup().
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "k8s-internal.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

#define DATA MD_TEST_DATA "/k8s/"

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

/* Build the zones of f->store and f->conf into f->zs. */
static void
build(struct fx *f)
{
	struct md_zone *zones[MD_K8S_ZONES_MAX + 2];
	char err[256] = "";
	int n = md_k8s_build_zones(
	    f->st, &f->conf, 42, zones, MD_K8S_ZONES_MAX + 2, err, sizeof(err));

	if (n < 0)
		fail_msg("build: %s", err);
	md_zone_set_unref(f->zs);
	f->zs = md_zone_set_new(zones, (size_t)n);
	assert_non_null(f->zs);
	for (int i = 0; i < n; i++)
		md_zone_free(zones[i]);
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
	assert_int_equal(md_zone_set_count(f->zs), 1);
	assert_int_equal(look(f, "1.0.1.10.in-addr.arpa.", MD_TYPE_PTR, &res),
	    MD_ZONE_NOT_LOCAL);
}

/* Unknown reverse names fall through to the next source. */
static void
test_reverse_fallthrough(void **state)
{
	struct fx *f = *state;
	struct md_zone_result res;

	build(f);
	assert_int_equal(md_zone_set_count(f->zs), 3);
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
	struct md_zone *zones[2];
	char err[256] = "";

	assert_true(
	    md_name_from_str("k8s.example.", NULL, f->conf.zones[1]) > 0);
	f->conf.nzones = 2;
	build(f);
	assert_int_equal(md_zone_set_count(f->zs), 4);
	assert_int_equal(
	    look(f, "web.default.svc.k8s.example.", MD_TYPE_A, &res),
	    MD_ZONE_ANSWER);
	assert_int_equal(look(f, "dns-version.k8s.example.", MD_TYPE_TXT, &res),
	    MD_ZONE_ANSWER);
	/* Not enough room for the zones: -1 and a reason. */
	assert_int_equal(
	    md_k8s_build_zones(f->st, &f->conf, 1, zones, 2, err, sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
	/* No cluster domain: nothing to build. */
	f->conf.nzones = 0;
	assert_int_equal(
	    md_k8s_build_zones(f->st, &f->conf, 1, zones, 2, err, sizeof(err)),
	    0);
}

/*
 * The incremental builder (what the client publishes): the same answers as
 * the full build, one zone per namespace whose negative answers carry the
 * cluster domain's SOA, and a change rebuilds only its namespace.
 */
static void
builder_snapshot(struct fx *f, struct md_k8s_builder *kb)
{
	struct md_zone **zones;
	ssize_t n = md_k8s_builder_zones(kb, &zones);

	assert_true(n > 0);
	md_zone_set_unref(f->zs);
	f->zs = md_zone_set_new(zones, (size_t)n);
	assert_non_null(f->zs);
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_service),
	    cmocka_unit_test(test_parse_slice),
	    cmocka_unit_test(test_parse_pod),
	    cmocka_unit_test(test_meta_and_kind),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_store_many),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_store_apply),
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
	    T(test_ttl),
	    T(test_zones_and_errors),
	    T(test_incremental_builder),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
