/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_k8s.c - libFuzzer harness for the Kubernetes source's parsers and
 * builder (src/k8s/): one input is what the API server sends, one JSON
 * document a line, fed the way the watch client (k8s_watch.c) feeds its
 * store:
 *
 *   {"kind": "ServiceList", "items": [...], ...}    a LIST: the kind's
 *       objects are replaced by the items (md_k8s_store_clear(), then
 *       md_k8s_store_apply() of each);
 *   {"type": "ADDED|MODIFIED|DELETED", "object": {"kind": "Pod", ...}}
 *       a watch event (BOOKMARK and ERROR change nothing in the store);
 *   {"kind": "Service", ...}                        one object, as ADDED.
 *
 * The client knows the kind by its stream; here the document names it
 * ("Service", "EndpointSlice", "Pod", "Namespace", a list's with "List"
 * after it), and a document of no known kind is skipped.  After every
 * line the incremental builder updates (the client batches a few ms of
 * events), the reverse zones after every 8 lines; both at the end.
 *
 * An optional first line "#" sets the source's configuration: words
 * "pods=insecure", "pods=verified", "hostnames" (endpoint_pod_names),
 * "noreverse", "fallthrough", "ns=NAME" (a namespace filter).  The cluster
 * domains are cluster.local. and k8s.example.
 *
 * Besides memory errors (ASan) and leaks, the harness aborts when a
 * promise breaks: a store refusing an object without saying why, the
 * builder's zones failing md_fuzz_check_zones() (fuzz_check.c), or (when
 * no update failed) the incremental builder's zones differing from a
 * fresh build of the same store in their origins or record counts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "minidns/k8s.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

#include "fuzz.h"

#define LINES_MAX 256 /* documents read per input */
#define REVERSE_EVERY 8

static struct md_zone_result *res;

static void fail(const char *what, const char *detail)
    __attribute__((noreturn));

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_k8s: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	abort();
}

static void
option(struct md_k8s_conf *conf, const char *w)
{
	if (strcmp(w, "pods=insecure") == 0)
		conf->pods = MD_K8S_PODS_INSECURE;
	else if (strcmp(w, "pods=verified") == 0)
		conf->pods = MD_K8S_PODS_VERIFIED;
	else if (strcmp(w, "hostnames") == 0)
		conf->endpoint_pod_names = true;
	else if (strcmp(w, "noreverse") == 0)
		conf->reverse = false;
	else if (strcmp(w, "fallthrough") == 0)
		conf->fallthrough = true;
	else if (strncmp(w, "ns=", 3) == 0 &&
	    conf->nnamespaces < MD_K8S_NAMESPACES_MAX)
		md_strlcpy(conf->namespaces[conf->nnamespaces++], w + 3,
		    sizeof(conf->namespaces[0]));
}

/* "#" line: the configuration words. */
static void
read_options(struct md_k8s_conf *conf, const char *line, size_t len)
{
	char w[80];
	size_t i = 1, n;

	while (i < len) {
		for (n = 0; i + n < len && line[i + n] != ' '; n++)
			;
		if (n > 0 && n < sizeof(w)) {
			memcpy(w, line + i, n);
			w[n] = '\0';
			option(conf, w);
		}
		i += n + 1;
	}
}

/* The kind a document names, or -1. */
static int
kind_of(const char *s, bool list)
{
	static const char *const names[] = {
	    [MD_K8S_SERVICE] = "Service",
	    [MD_K8S_SLICE] = "EndpointSlice",
	    [MD_K8S_NAMESPACE] = "Namespace",
	    [MD_K8S_POD] = "Pod",
	};

	if (s == NULL)
		return -1;
	for (int k = 0; k < MD_K8S_KIND_COUNT; k++) {
		size_t n = strlen(names[k]);

		if (strncmp(s, names[k], n) == 0 &&
		    strcmp(s + n, list ? "List" : "") == 0)
			return k;
	}
	return -1;
}

static bool
ns_wanted(const struct md_k8s_conf *conf, const char *ns)
{
	if (conf->nnamespaces == 0)
		return true;
	for (size_t i = 0; i < conf->nnamespaces; i++)
		if (strcmp(conf->namespaces[i], ns) == 0)
			return true;
	return false;
}

/* apply_obj() of the watch client: the namespace filter, then the store. */
static void
apply(struct md_k8s_store *st, const struct md_k8s_conf *conf, int kind,
    bool deleted, const json_t *obj)
{
	char ns[64], name[254], err[256];

	if (!json_is_object(obj))
		return;
	md_k8s_meta(obj, ns, sizeof(ns), name, sizeof(name));
	if (kind != MD_K8S_NAMESPACE && !ns_wanted(conf, ns))
		return;
	err[0] = '\0';
	if (md_k8s_store_apply(st, (enum md_k8s_kind)kind, deleted, obj, err,
		sizeof(err)) != 0 &&
	    err[0] == '\0')
		fail("an object refused without a reason", NULL);
}

static void
document(struct md_k8s_store *st, const struct md_k8s_conf *conf,
    const char *line, size_t len)
{
	json_t *doc = json_loadb(line, len, 0, NULL);
	json_t *items, *obj, *v;
	const char *type;
	size_t i;
	int kind;

	if (doc == NULL)
		return;
	items = json_object_get(doc, "items");
	type = json_string_value(json_object_get(doc, "type"));
	obj = json_object_get(doc, "object");
	if (items != NULL) {
		kind = kind_of(
		    json_string_value(json_object_get(doc, "kind")), true);
		if (kind >= 0 &&
		    (json_is_array(items) || json_is_null(items))) {
			md_k8s_store_clear(st, (enum md_k8s_kind)kind);
			json_array_foreach(items, i, v)
			    apply(st, conf, kind, false, v);
		}
	} else if (type != NULL && json_is_object(obj)) {
		kind = kind_of(
		    json_string_value(json_object_get(obj, "kind")), false);
		if (kind >= 0 &&
		    (strcmp(type, "ADDED") == 0 ||
			strcmp(type, "MODIFIED") == 0 ||
			strcmp(type, "DELETED") == 0))
			apply(st, conf, kind, type[0] == 'D', obj);
	} else {
		kind = kind_of(
		    json_string_value(json_object_get(doc, "kind")), false);
		if (kind >= 0)
			apply(st, conf, kind, false, doc);
	}
	json_decref(doc);
}

/* The builder's zones as a snapshot (NULL when out of memory). */
static struct md_zone_set *
snapshot(struct md_k8s_builder *kb)
{
	struct md_zone **zones;
	ssize_t n = md_k8s_builder_zones(kb, &zones);

	return n < 0 ? NULL : md_zone_set_new(zones, (size_t)n);
}

/* Same origins and record counts, in any order. */
static void
compare(const struct md_zone_set *inc, const struct md_zone_set *fresh)
{
	size_t n = md_zone_set_count(inc);

	if (n != md_zone_set_count(fresh))
		fail("incremental and fresh builds differ in zones", NULL);
	for (size_t i = 0; i < n; i++) {
		const struct md_zone *a = md_zone_set_get(inc, i);
		size_t j;

		for (j = 0; j < n; j++) {
			const struct md_zone *b = md_zone_set_get(fresh, j);

			if (md_name_equal(md_zone_origin(a), md_zone_origin(b)))
				break;
		}
		if (j == n)
			fail("a zone of the incremental build not in the "
			     "fresh one",
			    NULL);
		if (md_zone_rr_count(a) !=
		    md_zone_rr_count(md_zone_set_get(fresh, j)))
			fail("incremental and fresh builds differ in records",
			    NULL);
	}
}

int
md_fuzz_k8s(const uint8_t *data, size_t size)
{
	struct md_k8s_conf conf;
	struct md_k8s_store *st = NULL;
	struct md_k8s_builder *kb = NULL, *fresh = NULL;
	struct md_zone_set *zs = NULL, *fzs = NULL;
	const char *p = (const char *)data, *end = p + size;
	char err[256];
	uint32_t serial = 1;
	bool failed = false;
	unsigned lines = 0;

	if (res == NULL) {
		res = malloc(sizeof(*res));
		if (res == NULL)
			fail("out of memory", NULL);
	}
	md_k8s_conf_init(&conf);
	if (md_name_from_str("cluster.local.", NULL, conf.zones[0]) < 0 ||
	    md_name_from_str("k8s.example.", NULL, conf.zones[1]) < 0)
		fail("bad cluster domain", NULL);
	conf.nzones = 2;
	if (size > 0 && p[0] == '#') {
		const char *nl = memchr(p, '\n', size);

		read_options(&conf, p, nl ? (size_t)(nl - p) : size);
		p = nl ? nl + 1 : end;
	}
	st = md_k8s_store_new();
	kb = md_k8s_builder_new(&conf);
	if (st == NULL || kb == NULL)
		fail("out of memory", NULL);
	while (p < end && lines < LINES_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 0) {
			lines++;
			document(st, &conf, p, len);
			err[0] = '\0';
			if (md_k8s_builder_update(
				kb, st, serial++, err, sizeof(err)) != 0)
				failed = true;
			if (lines % REVERSE_EVERY == 0 &&
			    md_k8s_builder_update_reverse(
				kb, st, serial, err, sizeof(err)) != 0)
				failed = true;
		}
		p = nl ? nl + 1 : end;
	}
	/* The last batch: publication always follows an update. */
	if (md_k8s_builder_update(kb, st, serial, err, sizeof(err)) != 0 ||
	    md_k8s_builder_update_reverse(kb, st, serial, err, sizeof(err)) !=
		0)
		failed = true;
	zs = snapshot(kb);
	if (zs == NULL)
		fail("out of memory", NULL);
	md_fuzz_check_zones(zs, res);
	if (!failed) {
		fresh = md_k8s_builder_new(&conf);
		if (fresh == NULL)
			fail("out of memory", NULL);
		if (md_k8s_builder_update(
			fresh, st, serial, err, sizeof(err)) == 0 &&
		    md_k8s_builder_update_reverse(
			fresh, st, serial, err, sizeof(err)) == 0) {
			fzs = snapshot(fresh);
			if (fzs == NULL)
				fail("out of memory", NULL);
			compare(zs, fzs);
		}
	}
	md_zone_set_unref(fzs);
	md_zone_set_unref(zs);
	md_k8s_builder_free(fresh);
	md_k8s_builder_free(kb);
	md_k8s_store_free(st);
	md_k8s_conf_deinit(&conf);
	return 0;
}

#ifndef MD_FUZZ_RUNNER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return md_fuzz_k8s(data, size);
}
#endif
