/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_store.c - the store of the current Kubernetes objects.
 *
 * Owns: one hash map per kind keyed by "namespace/name" ("name" for
 * Namespaces) holding the parsed objects; applying ADDED, MODIFIED and
 * DELETED objects and clearing a kind before a relist; the record of
 * which namespaces changed since the builder last looked (all of them
 * after a relist); walking a kind, finding a Service, and whether a
 * namespace is still known.
 *
 * Does not own: the JSON (k8s_parse.c), the zones (k8s_build.c), the
 * watches that feed it.  It is not thread-safe: the watch
 * client applies and builds on one event loop.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s-internal.h"

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

struct md_k8s_entry {
	struct md_hnode hn; /* in the kind's map; hash: fnv1a(key) */
	void *obj;	    /* the parsed object; NULL for namespaces */
	char key[];
};

struct md_k8s_store {
	struct md_hashtab maps[MD_K8S_KIND_COUNT]; /* md_k8s_entry by key */
	/* namespaces changed since md_k8s_store_changes_clear() */
	char (*dirty)[64];
	size_t ndirty, dirty_cap;
	bool all_dirty; /* a relist: everything */
};

/* Note that namespace 'ns' (the part of key before '/') changed. */
static void
mark_dirty(struct md_k8s_store *st, enum md_k8s_kind kind, const char *key)
{
	char ns[64];
	const char *slash = strchr(key, '/');
	size_t len = slash != NULL ? (size_t)(slash - key) : strlen(key);

	/* Pods are records of the main zones, rebuilt every time. */
	if (kind == MD_K8S_POD)
		return;
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

static struct md_k8s_entry *
map_find(const struct md_hashtab *m, const char *key, uint32_t h)
{
	for (struct md_hnode *hn = md_hashtab_match(m, h); hn != NULL;
	     hn = md_hashtab_match_next(hn, h)) {
		struct md_k8s_entry *e =
		    MD_HNODE_ENTRY(hn, struct md_k8s_entry, hn);

		if (strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

static const void *
map_get(const struct md_hashtab *m, const char *key)
{
	struct md_k8s_entry *e = map_find(m, key, fnv1a(key));

	return e != NULL ? e->obj : NULL;
}

/* Insert or replace; takes 'obj' over (freed on failure). */
static int
map_put(struct md_hashtab *m, enum md_k8s_kind kind, const char *key, void *obj)
{
	uint32_t h = fnv1a(key);
	struct md_k8s_entry *e = map_find(m, key, h);
	size_t klen = strlen(key);

	if (e != NULL) {
		obj_free(kind, e->obj);
		e->obj = obj;
		return 0;
	}
	e = malloc(sizeof(*e) + klen + 1);
	if (e == NULL) {
		obj_free(kind, obj);
		return -ENOMEM;
	}
	memcpy(e->key, key, klen + 1);
	e->obj = obj;
	md_hashtab_insert(m, &e->hn, h);
	return 0;
}

static void
map_del(struct md_hashtab *m, enum md_k8s_kind kind, const char *key)
{
	struct md_k8s_entry *e = map_find(m, key, fnv1a(key));

	if (e == NULL)
		return;
	md_hashtab_remove(m, &e->hn);
	obj_free(kind, e->obj);
	free(e);
}

/* Free every entry; the buckets stay for the relist that follows. */
static void
map_clear(struct md_hashtab *m, enum md_k8s_kind kind)
{
	struct md_hashtab_iter it;
	struct md_hnode *hn;

	md_hashtab_iter_init(&it, m);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		struct md_k8s_entry *e =
		    MD_HNODE_ENTRY(hn, struct md_k8s_entry, hn);

		obj_free(kind, e->obj);
		free(e);
	}
	md_hashtab_clear(m);
}

struct md_k8s_store *
md_k8s_store_new(void)
{
	struct md_k8s_store *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	for (int k = 0; k < MD_K8S_KIND_COUNT; k++) {
		if (md_hashtab_init(&st->maps[k], 64, 0) != 0) {
			md_k8s_store_free(st);
			return NULL;
		}
	}
	return st;
}

void
md_k8s_store_free(struct md_k8s_store *st)
{
	if (st == NULL)
		return;
	for (int k = 0; k < MD_K8S_KIND_COUNT; k++) {
		map_clear(&st->maps[k], (enum md_k8s_kind)k);
		md_hashtab_deinit(&st->maps[k]);
	}
	free(st->dirty);
	free(st);
}

void
md_k8s_store_clear(struct md_k8s_store *st, enum md_k8s_kind kind)
{
	if (kind < MD_K8S_KIND_COUNT) {
		map_clear(&st->maps[kind], kind);
		if (kind != MD_K8S_POD)
			st->all_dirty = true;
	}
}

/*
 * A list's result, read into a staging store page by page, takes the
 * place of what dst held: the whole kind (every namespace changed), or
 * with 'key' only that object (a Namespace listed by name).
 */
void
md_k8s_store_replace(struct md_k8s_store *dst, struct md_k8s_store *src,
    enum md_k8s_kind kind, const char *key)
{
	struct md_hashtab tmp;
	struct md_k8s_entry *e;
	uint32_t h;

	if (kind >= MD_K8S_KIND_COUNT)
		return;
	if (key == NULL) {
		map_clear(&dst->maps[kind], kind);
		tmp = dst->maps[kind];
		dst->maps[kind] = src->maps[kind];
		src->maps[kind] = tmp;
		if (kind != MD_K8S_POD)
			dst->all_dirty = true;
		return;
	}
	map_del(&dst->maps[kind], kind, key);
	mark_dirty(dst, kind, key);
	h = fnv1a(key);
	e = map_find(&src->maps[kind], key, h);
	if (e != NULL) {
		md_hashtab_remove(&src->maps[kind], &e->hn);
		md_hashtab_insert(&dst->maps[kind], &e->hn, h);
	}
}

size_t
md_k8s_store_count(const struct md_k8s_store *st, enum md_k8s_kind kind)
{
	return kind < MD_K8S_KIND_COUNT ? md_hashtab_count(&st->maps[kind]) : 0;
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
		if (!md_k8s_is_label(name))
			return md_k8s_bad(err, errlen,
			    "metadata.name: missing or not "
			    "a DNS label");
		snprintf(key, KEY_MAX, "%s", name);
		return 0;
	}
	default:
		return md_k8s_bad(err, errlen, "unknown kind %d", (int)kind);
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
		return md_k8s_bad(err, errlen, "unknown kind %d", (int)kind);
	if (deleted) {
		/* Only the key matters: a deleted object need not be whole. */
		char ns[64], name[254];

		md_k8s_meta(obj, ns, sizeof(ns), name, sizeof(name));
		if (name[0] == '\0' ||
		    (kind != MD_K8S_NAMESPACE && ns[0] == '\0'))
			return md_k8s_bad(err, errlen,
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

void
md_k8s_store_iter_init(struct md_k8s_store_iter *it,
    const struct md_k8s_store *st, enum md_k8s_kind kind)
{
	memset(it, 0, sizeof(*it));
	if (kind < MD_K8S_KIND_COUNT) {
		it->valid = true;
		md_hashtab_iter_init(&it->it, &st->maps[kind]);
	}
}

bool
md_k8s_store_next(
    struct md_k8s_store_iter *it, const char **key, const void **obj)
{
	struct md_hnode *hn;
	const struct md_k8s_entry *e;

	if (!it->valid || (hn = md_hashtab_iter_next(&it->it)) == NULL)
		return false;
	e = MD_HNODE_ENTRY(hn, struct md_k8s_entry, hn);
	if (key != NULL)
		*key = e->key;
	if (obj != NULL)
		*obj = e->obj;
	return true;
}

const struct md_k8s_service *
md_k8s_store_service(
    const struct md_k8s_store *st, const char *ns, const char *name)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	return map_get(&st->maps[MD_K8S_SERVICE], key);
}

int
md_k8s_store_service_kind(
    const struct md_k8s_store *st, const char *ns, const char *name)
{
	const struct md_k8s_service *s = md_k8s_store_service(st, ns, name);

	if (s == NULL || s->external)
		return -1;
	if (!s->headless)
		return MD_K8S_SVC_CLUSTER_IP;
	return s->has_selector ? MD_K8S_SVC_HEADLESS_WITH_SELECTOR
			       : MD_K8S_SVC_HEADLESS_WITHOUT_SELECTOR;
}

const char *
md_k8s_service_kind_str(enum md_k8s_service_kind k)
{
	static const char *const names[] = {"cluster_ip",
	    "headless_with_selector", "headless_without_selector"};

	return (unsigned)k < MD_K8S_SVC_KIND_COUNT ? names[k] : "?";
}

bool
md_k8s_store_ns_present(const struct md_k8s_store *st, const char *ns)
{
	size_t l = strlen(ns);

	/* Namespace entries hold no object: look for the key itself. */
	if (map_find(&st->maps[MD_K8S_NAMESPACE], ns, fnv1a(ns)) != NULL)
		return true;
	for (int k = MD_K8S_SERVICE; k <= MD_K8S_SLICE; k++) {
		struct md_hashtab_iter it;
		struct md_hnode *hn;

		md_hashtab_iter_init(&it, &st->maps[k]);
		while ((hn = md_hashtab_iter_next(&it)) != NULL) {
			const struct md_k8s_entry *e =
			    MD_HNODE_ENTRY(hn, struct md_k8s_entry, hn);

			if (strncmp(e->key, ns, l) == 0 && e->key[l] == '/')
				return true;
		}
	}
	return false;
}

void
md_k8s_store_changes(const struct md_k8s_store *st, struct md_k8s_changes *out)
{
	out->all = st->all_dirty;
	out->ns = (const char(*)[64])st->dirty;
	out->nns = st->ndirty;
}

void
md_k8s_store_changes_clear(struct md_k8s_store *st)
{
	st->ndirty = 0;
	st->all_dirty = false;
}
