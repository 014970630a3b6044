/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_watch.c - the Kubernetes API client: for every kind (Services,
 * EndpointSlices, Namespaces, and Pods when pod records are on) one
 * stream that LISTs, then WATCHes from the list's resourceVersion, over
 * libevent's HTTP client (HTTPS through bufferevent_openssl, the server
 * certificate checked against the CA and the host name).
 *
 * It owns the connections, the timers, the SSL_CTX and the store; the
 * objects and the zones are src/k8s/'s (minidns/k8s.h).  Policies:
 *  - a list replaces every object of its kind at once (store_clear, then
 *    apply); watch events apply one by one; malformed objects are logged,
 *    counted and skipped;
 *  - lists are read in pages (limit=500, continue) into a staging store
 *    that takes the kind's place once the last page is in, so a list is
 *    never held whole as JSON and the zones never see half a list; 410
 *    Gone on a continue token starts the list again;
 *  - 410 Gone relists; a watch that ends normally (timeoutSeconds) is
 *    reopened at once from its resourceVersion; a watch silent for
 *    watch-timeout seconds (no event, no bookmark: a frozen API server or
 *    a dead path to it) is dropped and reopened, and it asks the server
 *    to end it after 3/4 of that, so that a quiet healthy watch ends
 *    before it looks frozen; TCP keepalive is on; any other failure
 *    (connection, HTTP error, watch ERROR) reconnects after a capped
 *    exponential backoff with jitter, re-watching from the last
 *    resourceVersion when there is one;
 *  - changes are batched: one 5 ms timer, then the incremental builder
 *    (md_k8s_builder_update(); the PTR zones 50 ms later) and the publish
 *    callback; nothing is published before every kind listed once.
 *
 * With a namespace filter, the namespaced kinds are listed cluster-wide
 * and filtered here (one connection per kind, and store_clear() per kind
 * stays exact); the Namespace objects are fetched one stream per
 * filtered name (fieldSelector=metadata.name=NS), whose list replaces
 * that one Namespace.  Objects are held once, parsed, in the store: no
 * JSON is kept once applied.
 *
 * Every connection serves one request and is freed from a timer, never
 * inside one of its own callbacks.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <jansson.h>

#include "minidns/k8s.h"
#include "minidns/k8s_watch.h"
#include "minidns/net.h"
#include "minidns/util.h"
#include "minidns/zone.h"

#define LOG_K8S MD_LOG_K8S

#define REBUILD_MS 5
#define REVERSE_MS 50
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000
#define LIST_PAGE 500	   /* objects a list page (limit=) */
#define CONNECT_SLACK_S 30 /* evhttp's own timeout, behind ours */
#define KEEPALIVE_IDLE_S 30
#define KEEPALIVE_INTVL_S 10
#define KEEPALIVE_CNT 3
#define TOKEN_MAX 16384
#define MAX_STREAMS (MD_K8S_KIND_COUNT - 1 + MD_K8S_NAMESPACES_MAX)
#define MIN_WATCH_MS 1000    /* shorter normal ends count as failures */
#define PROG_PENDING_MAX 256 /* slice changes awaiting publication */
#define TRIGGER_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"

enum stream_state {
	ST_IDLE = 0,
	ST_LIST,
	ST_WATCH,
};

struct stream {
	struct md_k8s *k;
	enum md_k8s_kind kind;
	char path[128];	 /* e.g. /api/v1/services */
	char select[96]; /* "" or fieldSelector=... (already encoded) */
	char rv[128];	 /* latest resourceVersion, "" before a list */
	char name[64];	 /* the one Namespace of a fieldSelector stream */
	char cont[1024]; /* the next list page's continue token, or "" */
	struct md_k8s_store *staging; /* the list being read, page by page */
	size_t pages;		      /* of the list being read */
	enum stream_state state;
	struct evhttp_connection *conn;
	struct evhttp_request *req; /* NULL once evhttp is done with it */
	struct evbuffer *buf;	    /* body read so far */
	struct event *ev_next;	    /* starts the next request */
	struct event *ev_alive;	    /* a silent watch's deadline */
	unsigned failures;	    /* consecutive, for the backoff */
	uint64_t started_ms;
	bool listed;	/* listed once */
	bool healthy;	/* the last request got 200 */
	bool relist;	/* next request lists */
	bool done;	/* stop reading this response (410, error) */
	bool keepalive; /* set on this connection's socket */
};

struct md_k8s {
	struct event_base *base;
	struct evdns_base *dns;
	SSL_CTX *ssl;
	struct md_k8s_conf conf; /* strings not kept: only what zones need */
	struct md_k8s_endpoint_conf ep;
	char hostport[300]; /* Host header */
	md_k8s_publish_cb cb;
	void *arg;
	struct md_k8s_store *store;
	struct stream streams[MAX_STREAMS];
	size_t nstreams;
	struct event *ev_rebuild;
	struct event *ev_reverse;
	struct md_k8s_builder *builder;
	bool published;
	uint32_t serial;
	struct md_k8s_status st;
	uint64_t trouble_since; /* md_now_ms() when the API went away */
	time_t data_time;	/* wall clock of the last list or event */
	/* EndpointSlice changes read from a watch, not yet published: their
	 * trigger times (wall clock, us) and their Services' kinds */
	struct {
		uint64_t changed_us;
		enum md_k8s_service_kind kind;
	} prog[PROG_PENDING_MAX];
	size_t nprog;
};

static void start_cb(evutil_socket_t fd, short what, void *arg);
static void fail(struct stream *s);
static bool ns_wanted(const struct md_k8s *k, const char *ns);
static void stream_stop(struct stream *s);

/* ---- TLS ----------------------------------------------------------- */

/* The API server's TLS context, by the program's one TLS client set-up
 * (net/): the kubeconfig's or service account's CA and client
 * certificate, as files or inline data. */
static SSL_CTX *
ssl_ctx_new(const struct md_k8s_endpoint_conf *ep, char *err, size_t errlen)
{
	struct md_tls_client_conf tc = {
	    .ca_file = ep->ca_file,
	    .ca_pem = ep->ca_pem,
	    .cert_file = ep->cert_file,
	    .cert_pem = ep->cert_pem,
	    .key_file = ep->key_file,
	    .key_pem = ep->key_pem,
	};

	return md_tls_client_ctx_new(&tc, err, errlen);
}

static bool
is_ip(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 ||
	    inet_pton(AF_INET6, host, b) == 1;
}

/* ---- status and publishing ----------------------------------------- */

/* Hand the current zones to the publish callback (new references). */
static void
publish_current(struct md_k8s *k)
{
	struct md_zone **zones;
	ssize_t n = md_k8s_builder_zones(k->builder, &zones);
	struct md_zone **copy;

	if (n < 0) {
		md_err(LOG_K8S, "k8s: out of memory publishing the zones");
		return;
	}
	copy = calloc((size_t)n ? (size_t)n : 1, sizeof(*copy));
	if (copy == NULL)
		return;
	for (ssize_t i = 0; i < n; i++)
		copy[i] = md_zone_ref(zones[i]);
	k->cb(k->arg, copy, (size_t)n);
	free(copy);
}

/*
 * The PTR zones span every namespace, so they are rebuilt whole, but
 * apart and a little later: a change to a Service is answered first.
 */
static void
rebuild_reverse_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_k8s *k = arg;
	char err[256];

	(void)fd;
	(void)what;
	if (md_k8s_builder_update_reverse(
		k->builder, k->store, k->serial, err, sizeof(err)) != 0) {
		md_err(LOG_K8S, "k8s: cannot build the reverse zones: %s", err);
		return;
	}
	publish_current(k);
}

/* The changes just published: one sample each of the DNS programming
 * latency. */
static void
record_programming(struct md_k8s *k)
{
	struct timespec ts;
	uint64_t now_us;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	for (size_t i = 0; i < k->nprog; i++) {
		uint64_t t = k->prog[i].changed_us;
		/* a trigger time ahead of our clock (skew) counts as 0 */
		uint64_t us = now_us > t ? now_us - t : 0, le = 1000;
		enum md_k8s_service_kind kind = k->prog[i].kind;
		size_t b;

		for (b = 0; b < MD_K8S_PROG_BUCKETS && us > le; b++)
			le *= 2;
		k->st.prog_count[kind][b]++;
		k->st.prog_sum_us[kind] += us;
	}
	k->nprog = 0;
}

/*
 * An EndpointSlice added or changed (a watch event, not a list: a list
 * carries changes of any age): note its trigger time, as the endpoints
 * controller wrote it, and the kind of its Service, for a sample once
 * the change is published.  Nothing without the annotation or a known
 * Service.
 */
static void
note_slice_change(struct md_k8s *k, const json_t *obj)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *when = json_string_value(json_object_get(
	    json_object_get(meta, "annotations"), TRIGGER_ANNOTATION));
	const char *svc = json_string_value(json_object_get(
	    json_object_get(meta, "labels"), "kubernetes.io/service-name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	uint64_t us;
	int kind;

	if (when == NULL || svc == NULL || ns == NULL ||
	    k->nprog >= PROG_PENDING_MAX || !ns_wanted(k, ns) ||
	    md_k8s_parse_time(when, &us) != 0)
		return;
	kind = md_k8s_store_service_kind(k->store, ns, svc);
	if (kind < 0)
		return;
	k->prog[k->nprog].changed_us = us;
	k->prog[k->nprog].kind = (enum md_k8s_service_kind)kind;
	k->nprog++;
}

static void
rebuild_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_k8s *k = arg;
	struct timeval tv = {0, REVERSE_MS * 1000};
	char err[256];

	(void)fd;
	(void)what;
	if (md_k8s_builder_update(
		k->builder, k->store, k->serial, err, sizeof(err)) != 0) {
		md_err(LOG_K8S, "k8s: cannot build the zones: %s", err);
		return;
	}
	k->serial++;
	md_debug(LOG_K8S, "k8s: publishing (%zu services, %zu slices)",
	    md_k8s_store_count(k->store, MD_K8S_SERVICE),
	    md_k8s_store_count(k->store, MD_K8S_SLICE));
	/* The first time, the reverse zones come with the rest. */
	if (!k->published && k->conf.reverse) {
		if (md_k8s_builder_update_reverse(
			k->builder, k->store, k->serial, err, sizeof(err)) != 0)
			md_err(LOG_K8S,
			    "k8s: cannot build the reverse zones: %s", err);
	} else if (k->conf.reverse && !evtimer_pending(k->ev_reverse, NULL)) {
		evtimer_add(k->ev_reverse, &tv);
	}
	k->published = true;
	publish_current(k);
	record_programming(k);
}

static void
changed(struct md_k8s *k)
{
	struct timeval tv = {0, REBUILD_MS * 1000};

	k->st.last_event_ms = md_now_ms();
	k->data_time = time(NULL);
	/* Later changes within the window join the pending rebuild. */
	if (k->st.synced && !evtimer_pending(k->ev_rebuild, NULL))
		evtimer_add(k->ev_rebuild, &tv);
}

static void
update_health(struct md_k8s *k)
{
	bool all = true;

	for (size_t i = 0; i < k->nstreams; i++)
		if (!k->streams[i].healthy)
			all = false;
	k->st.connected = all;
	if (all)
		k->trouble_since = 0;
}

/* ---- applying objects ---------------------------------------------- */

static bool
ns_wanted(const struct md_k8s *k, const char *ns)
{
	if (k->conf.nnamespaces == 0)
		return true;
	for (size_t i = 0; i < k->conf.nnamespaces; i++)
		if (strcmp(k->conf.namespaces[i], ns) == 0)
			return true;
	return false;
}

static void
obj_key(const json_t *obj, char *key, size_t size, char *ns, size_t nslen,
    char *name, size_t namelen)
{
	md_k8s_meta(obj, ns, nslen, name, namelen);
	snprintf(key, size, "%s/%s", ns, name);
}

/*
 * Apply one object of stream s to st (the store, or the list's staging
 * store).  Returns 0, or -1 when skipped as malformed (logged and
 * counted).
 */
static int
apply_obj(struct stream *s, struct md_k8s_store *st, bool deleted, json_t *obj)
{
	struct md_k8s *k = s->k;
	char ns[64], name[254], key[320], err[256];

	if (!json_is_object(obj)) {
		md_warn(LOG_K8S,
		    "k8s: %s: skipped an object: not a JSON "
		    "object",
		    md_k8s_kind_str(s->kind));
		k->st.errors++;
		return -1;
	}
	obj_key(obj, key, sizeof(key), ns, sizeof(ns), name, sizeof(name));
	if (s->kind != MD_K8S_NAMESPACE && !ns_wanted(k, ns))
		return 0;
	if (md_k8s_store_apply(st, s->kind, deleted, obj, err, sizeof(err)) !=
	    0) {
		md_warn(LOG_K8S, "k8s: %s %s/%s skipped: %s",
		    md_k8s_kind_str(s->kind), ns, name, err);
		k->st.errors++;
		return -1;
	}
	return 0;
}

static void
set_rv(struct stream *s, const json_t *obj)
{
	const char *rv = json_string_value(json_object_get(
	    json_object_get(obj, "metadata"), "resourceVersion"));

	if (rv != NULL && rv[0] != '\0')
		md_strlcpy(s->rv, rv, sizeof(s->rv));
}

/*
 * One LIST page: its items into the staging store; the continue token
 * for the next page, or at the last page the staging store in the
 * place of the kind (of the one Namespace of a fieldSelector stream).
 * Returns 0 or -1 (bad JSON, a token too long).
 */
static int
apply_page(struct stream *s)
{
	struct md_k8s *k = s->k;
	json_t *doc = NULL, *items, *meta, *v;
	json_error_t jerr;
	const char *cont;
	size_t i, len;
	int rc = -1;

	len = evbuffer_get_length(s->buf);
	doc = json_loadb(
	    (const char *)evbuffer_pullup(s->buf, -1), len, 0, &jerr);
	evbuffer_drain(s->buf, len); /* the page is parsed: free it now */
	if (doc == NULL) {
		md_warn(LOG_K8S, "k8s: %s list: bad JSON: %s (line %d)",
		    md_k8s_kind_str(s->kind), jerr.text, jerr.line);
		goto cleanup;
	}
	items = json_object_get(doc, "items");
	if (!json_is_array(items) && !json_is_null(items)) {
		md_warn(LOG_K8S, "k8s: %s list: no items array",
		    md_k8s_kind_str(s->kind));
		goto cleanup;
	}
	json_array_foreach(items, i, v)(void)
	    apply_obj(s, s->staging, false, v);
	s->pages++;
	meta = json_object_get(doc, "metadata");
	cont = json_string_value(json_object_get(meta, "continue"));
	if (cont != NULL && cont[0] != '\0') {
		if (md_strlcpy(s->cont, cont, sizeof(s->cont)) >=
		    sizeof(s->cont)) {
			md_warn(LOG_K8S,
			    "k8s: %s list: continue token too long",
			    md_k8s_kind_str(s->kind));
			s->cont[0] = '\0';
			goto cleanup;
		}
		rc = 0;
		goto cleanup;
	}
	/* The last page: the list takes the place of what was there. */
	s->cont[0] = '\0';
	md_k8s_store_replace(
	    k->store, s->staging, s->kind, s->name[0] != '\0' ? s->name : NULL);
	md_k8s_store_free(s->staging);
	s->staging = NULL;
	s->rv[0] = '\0';
	set_rv(s, doc);
	md_info(LOG_K8S,
	    "k8s: listed %zu %s objects in %zu pages (resourceVersion %s)",
	    md_k8s_store_count(k->store, s->kind), md_k8s_kind_str(s->kind),
	    s->pages, s->rv);
	rc = 0;

cleanup:
	json_decref(doc);
	return rc;
}

/* One watch event.  Returns false when the stream must stop reading. */
static bool
watch_event(struct stream *s, const char *line, size_t len)
{
	struct md_k8s *k = s->k;
	json_t *ev = NULL, *obj;
	json_error_t jerr;
	const char *type;
	bool go_on = true;
	json_int_t code;

	ev = json_loadb(line, len, 0, &jerr);
	if (ev == NULL) {
		md_warn(LOG_K8S, "k8s: %s watch: bad JSON event: %s",
		    md_k8s_kind_str(s->kind), jerr.text);
		k->st.errors++;
		goto cleanup;
	}
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (type == NULL || !json_is_object(obj)) {
		md_warn(LOG_K8S, "k8s: %s watch: event without type or object",
		    md_k8s_kind_str(s->kind));
		k->st.errors++;
		goto cleanup;
	}
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
	    strcmp(type, "DELETED") == 0) {
		if (apply_obj(s, k->store, type[0] == 'D', obj) == 0 &&
		    s->kind == MD_K8S_SLICE && type[0] != 'D')
			note_slice_change(k, obj);
		set_rv(s, obj);
		changed(k);
	} else if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(s, obj);
	} else if (strcmp(type, "ERROR") == 0) {
		code = json_integer_value(json_object_get(obj, "code"));
		if (code == 410) {
			md_info(LOG_K8S,
			    "k8s: %s watch: resourceVersion %s "
			    "gone (410): relisting",
			    md_k8s_kind_str(s->kind), s->rv);
			s->relist = true;
			s->failures = 0;
		} else {
			md_warn(LOG_K8S, "k8s: %s watch: error %lld: %s",
			    md_k8s_kind_str(s->kind), (long long)code,
			    json_string_value(
				json_object_get(obj, "message")) != NULL
				? json_string_value(
				      json_object_get(obj, "message"))
				: "(no message)");
			s->failures++;
		}
		go_on = false;
	} else {
		md_debug(LOG_K8S, "k8s: %s watch: event type %s ignored",
		    md_k8s_kind_str(s->kind), type);
	}

cleanup:
	json_decref(ev);
	return go_on;
}

/* ---- requests ------------------------------------------------------ */

static uint32_t
backoff_ms(unsigned failures)
{
	uint32_t ms = BACKOFF_MIN_MS;

	for (unsigned i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* ±20 % jitter, so that many clients do not retry in step. */
	return ms - ms / 5 + md_random_uniform(ms * 2 / 5 + 1);
}

/* Start the next request of s after delay_ms (0: at once). */
static void
schedule(struct stream *s, uint32_t delay_ms)
{
	struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

	s->done = true;
	evtimer_add(s->ev_next, &tv);
}

/* A request failed: note it and retry with a backoff. */
static void
fail(struct stream *s)
{
	struct md_k8s *k = s->k;
	char when[64] = "never";
	struct tm tm;
	uint32_t ms;

	s->healthy = false;
	s->failures++;
	s->cont[0] = '\0'; /* a list starts again from its first page */
	update_health(k);
	if (k->trouble_since == 0)
		k->trouble_since = md_now_ms();
	ms = backoff_ms(s->failures);
	if (k->data_time != 0 && gmtime_r(&k->data_time, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	md_warn(LOG_K8S,
	    "k8s: Kubernetes API unreachable for %llu s; serving data as "
	    "of %s (%s: retry in %u ms)",
	    (unsigned long long)((md_now_ms() - k->trouble_since) / 1000), when,
	    md_k8s_kind_str(s->kind), ms);
	schedule(s, ms);
}

/* (Re)arm the watch's liveness deadline: watch-timeout from now. */
static void
alive(struct stream *s)
{
	struct timeval tv = {(time_t)s->k->conf.watch_timeout, 0};

	evtimer_add(s->ev_alive, &tv);
}

/*
 * Nothing on the watch for watch-timeout seconds, not even a bookmark:
 * the server (or the path to it) is frozen.  Drop the connection (this
 * is a timer, not one of its callbacks) and watch again after the
 * backoff; a resourceVersion gone by then relists.
 */
static void
alive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	if (s->state != ST_WATCH || s->done)
		return;
	md_warn(LOG_K8S,
	    "k8s: %s watch: nothing received for %u s (no event, no "
	    "bookmark): dropping the connection",
	    md_k8s_kind_str(s->kind), s->k->conf.watch_timeout);
	s->k->st.stalls++;
	stream_stop(s);
	fail(s);
}

/*
 * TCP keepalive on the API connection, once its socket exists (the
 * response's headers are in): a peer gone without a FIN or RST is
 * noticed by the kernel too, not only by the watch's deadline.
 */
static int
header_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;
	struct bufferevent *bev;
	evutil_socket_t fd;
	int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTVL_S;
	int cnt = KEEPALIVE_CNT;

	/* A watch answered: this stream is connected again. */
	if (s->state == ST_WATCH &&
	    evhttp_request_get_response_code(req) == HTTP_OK && !s->healthy) {
		s->healthy = true;
		update_health(s->k);
	}
	if (s->keepalive || s->conn == NULL)
		return 0;
	bev = evhttp_connection_get_bufferevent(s->conn);
	fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	if (fd < 0)
		return 0;
	s->keepalive = true;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) !=
		0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) !=
		0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) != 0)
		md_debug(LOG_K8S, "k8s: TCP keepalive: %s", strerror(errno));
	return 0;
}

static void
chunk_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;
	char *line;
	size_t n;

	if (s->done)
		return; /* evhttp drains the input after us */
	if (s->state == ST_WATCH)
		alive(s); /* any byte, event or bookmark, is a sign of life */
	evbuffer_add_buffer(s->buf, evhttp_request_get_input_buffer(req));
	if (s->state != ST_WATCH ||
	    evhttp_request_get_response_code(req) != HTTP_OK)
		return;
	/* A stream of JSON objects, one a line, split anywhere. */
	while (!s->done &&
	    (line = evbuffer_readln(s->buf, &n, EVBUFFER_EOL_LF)) != NULL) {
		if (n > 0 && !watch_event(s, line, n)) {
			/* The connection is freed from the timer. */
			schedule(s, s->relist ? 0 : backoff_ms(s->failures));
		} else if (n > 0) {
			s->failures = 0; /* an event or a bookmark came */
		}
		free(line);
	}
}

static void
log_http_error(struct stream *s, int code)
{
	char msg[200];
	size_t n = evbuffer_get_length(s->buf);

	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	evbuffer_copyout(s->buf, msg, n);
	msg[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	if (code == 401 || code == 403)
		md_err(LOG_K8S,
		    "k8s: %s %s: unauthorized (HTTP %d): check the "
		    "token, its RBAC rights and the client "
		    "certificate: %s",
		    md_k8s_kind_str(s->kind), s->path, code, msg);
	else
		md_warn(LOG_K8S, "k8s: %s %s: HTTP %d: %s",
		    md_k8s_kind_str(s->kind), s->path, code, msg);
}

static void
all_synced(struct md_k8s *k)
{
	struct timeval tv = {0, 0};

	for (size_t i = 0; i < k->nstreams; i++)
		if (!k->streams[i].listed)
			return;
	k->st.synced = true;
	md_info(LOG_K8S,
	    "k8s: synced: %zu services, %zu endpoint slices, "
	    "%zu namespaces, %zu pods",
	    md_k8s_store_count(k->store, MD_K8S_SERVICE),
	    md_k8s_store_count(k->store, MD_K8S_SLICE),
	    md_k8s_store_count(k->store, MD_K8S_NAMESPACE),
	    md_k8s_store_count(k->store, MD_K8S_POD));
	/* The first publication: at once. */
	evtimer_add(k->ev_rebuild, &tv);
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;
	struct md_k8s *k = s->k;
	int code;

	s->req = NULL; /* evhttp frees it after we return */
	evtimer_del(s->ev_alive);
	if (s->done)
		return; /* already scheduled (410, watch ERROR) */
	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		char why[256] = "";
		struct bufferevent *bev = NULL;
		unsigned long e = 0;

		if (k->ep.tls && s->conn != NULL)
			bev = evhttp_connection_get_bufferevent(s->conn);
		if (bev != NULL)
			e = bufferevent_get_openssl_error(bev);
		if (e != 0) {
			memcpy(why, ": TLS: ", 8);
			ERR_error_string_n(e, why + 7, sizeof(why) - 7);
		}
		md_warn(LOG_K8S, "k8s: %s %s: connection to %s failed%s",
		    md_k8s_kind_str(s->kind),
		    s->state == ST_LIST ? "list" : "watch", k->hostport, why);
		fail(s);
		return;
	}
	if (req != NULL)
		evbuffer_add_buffer(
		    s->buf, evhttp_request_get_input_buffer(req));
	if (code != HTTP_OK) {
		log_http_error(s, code);
		/* A watch refused with 410: the version is gone, relist. */
		if (code == 410) {
			s->relist = true;
			/* An expired continue token: from the top. */
			s->cont[0] = '\0';
			schedule(s, 0);
			return;
		}
		fail(s);
		return;
	}
	if (s->state == ST_LIST) {
		if (apply_page(s) != 0) {
			k->st.errors++;
			fail(s);
			return;
		}
		if (s->cont[0] != '\0') {
			schedule(s, 0); /* the next page */
			return;
		}
		s->healthy = true;
		s->failures = 0;
		update_health(k);
		s->relist = false;
		s->listed = true;
		if (k->st.synced)
			changed(k);
		else {
			k->st.last_event_ms = md_now_ms();
			k->data_time = time(NULL);
			all_synced(k);
		}
		schedule(s, 0); /* the watch */
		return;
	}
	/* A watch that ended normally (timeoutSeconds): reopen at once. */
	if (md_now_ms() - s->started_ms < MIN_WATCH_MS) {
		s->failures++;
		schedule(s, backoff_ms(s->failures));
	} else {
		schedule(s, 0);
	}
}

static char *
read_token(const char *file)
{
	char *buf = NULL;
	size_t n;
	FILE *fp;

	fp = fopen(file, "r");
	if (fp == NULL) {
		md_warn(LOG_K8S, "k8s: %s: cannot read the token: %s", file,
		    strerror(errno));
		return NULL;
	}
	buf = malloc(TOKEN_MAX);
	if (buf == NULL)
		goto cleanup;
	n = fread(buf, 1, TOKEN_MAX - 1, fp);
	while (n > 0 &&
	    (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';

cleanup:
	fclose(fp);
	return buf;
}

static int
add_auth(struct md_k8s *k, struct evkeyvalq *h)
{
	char *tok = NULL, *hdr = NULL;
	const char *t = k->ep.token;
	size_t len;
	int rc = 0;

	/* Re-read each time: projected service account tokens rotate. */
	if (k->ep.token_file[0] != '\0') {
		tok = read_token(k->ep.token_file);
		if (tok != NULL)
			t = tok;
	}
	if (t == NULL || t[0] == '\0')
		goto cleanup;
	len = strlen(t) + sizeof("Bearer ");
	hdr = malloc(len);
	if (hdr == NULL) {
		rc = -1;
		goto cleanup;
	}
	snprintf(hdr, len, "Bearer %s", t);
	rc = evhttp_add_header(h, "Authorization", hdr);

cleanup:
	free(hdr);
	free(tok);
	return rc;
}

static void
stream_stop(struct stream *s)
{
	/* Frees a request still on the connection, without its callback. */
	if (s->conn != NULL)
		evhttp_connection_free(s->conn);
	s->conn = NULL;
	s->req = NULL;
	s->state = ST_IDLE;
	s->keepalive = false;
	if (s->ev_alive != NULL)
		evtimer_del(s->ev_alive);
}

static int
stream_start(struct stream *s)
{
	struct md_k8s *k = s->k;
	struct bufferevent *bev = NULL;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char uri[2048], *rv = NULL, *cont = NULL;
	unsigned wt = k->conf.watch_timeout;
	SSL *ssl = NULL;
	int n;

	stream_stop(s);
	evbuffer_drain(s->buf, evbuffer_get_length(s->buf));
	s->done = false;
	s->state = s->relist || s->rv[0] == '\0' ? ST_LIST : ST_WATCH;
	if (s->state == ST_LIST) {
		/* A list is a relist until its last page is in. */
		s->relist = true;
		if (s->cont[0] == '\0') {
			md_k8s_store_free(s->staging);
			s->staging = md_k8s_store_new();
			s->pages = 0;
			if (s->staging == NULL)
				goto fail;
		}
		cont = evhttp_uriencode(s->cont, -1, 0);
		if (cont == NULL)
			goto fail;
		n = snprintf(uri, sizeof(uri), "%s?%s%slimit=%d%s%s", s->path,
		    s->select, s->select[0] != '\0' ? "&" : "", LIST_PAGE,
		    cont[0] != '\0' ? "&continue=" : "", cont);
		free(cont);
	} else {
		rv = evhttp_uriencode(s->rv, -1, 0);
		if (rv == NULL)
			goto fail;
		n = snprintf(uri, sizeof(uri),
		    "%s?%s%swatch=1&resourceVersion=%s"
		    "&allowWatchBookmarks=true&timeoutSeconds=%d",
		    s->path, s->select, s->select[0] != '\0' ? "&" : "", rv,
		    wt * 3 / 4 > 0 ? wt * 3 / 4 : 1);
		free(rv);
	}
	if (n < 0 || (size_t)n >= sizeof(uri))
		goto fail;
	if (k->ep.tls) {
		ssl = SSL_new(k->ssl);
		if (ssl == NULL)
			goto fail;
		if (is_ip(k->ep.host)) {
			if (X509_VERIFY_PARAM_set1_ip_asc(
				SSL_get0_param(ssl), k->ep.host) != 1)
				goto fail;
		} else {
			SSL_set_tlsext_host_name(ssl, k->ep.host);
			SSL_set_hostflags(
			    ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (SSL_set1_host(ssl, k->ep.host) != 1)
				goto fail;
		}
		bev = bufferevent_openssl_socket_new(k->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL)
			goto fail;
		ssl = NULL; /* the bufferevent's now */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		s->conn = evhttp_connection_base_bufferevent_new(
		    k->base, k->dns, bev, k->ep.host, k->ep.port);
	} else {
		s->conn = evhttp_connection_base_new(
		    k->base, k->dns, k->ep.host, k->ep.port);
	}
	if (s->conn == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		goto fail;
	}
	evhttp_connection_set_retries(s->conn, 0);
	/* A list page's silence: evhttp's timeout (between two reads); a
	 * watch's: ours, alive_cb(). */
	evhttp_connection_set_timeout(s->conn,
	    s->state == ST_WATCH ? (int)wt + CONNECT_SLACK_S : (int)wt);
	req = evhttp_request_new(done_cb, s);
	if (req == NULL)
		goto fail;
	evhttp_request_set_chunked_cb(req, chunk_cb);
	evhttp_request_set_header_cb(req, header_cb);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", k->hostport) != 0 ||
	    evhttp_add_header(h, "Accept", "application/json") != 0 ||
	    evhttp_add_header(h, "User-Agent", "minidns") != 0 ||
	    add_auth(k, h) != 0) {
		evhttp_request_free(req);
		goto fail;
	}
	/* On failure evhttp_make_request frees req itself. */
	if (evhttp_make_request(s->conn, req, EVHTTP_REQ_GET, uri) != 0)
		goto fail;
	s->req = req;
	s->started_ms = md_now_ms();
	if (s->state == ST_WATCH)
		alive(s);
	if (s->state == ST_LIST && s->listed && s->cont[0] == '\0')
		k->st.relists++;
	md_debug(LOG_K8S, "k8s: GET %s", uri);
	return 0;

fail:
	SSL_free(ssl);
	md_warn(LOG_K8S, "k8s: %s: cannot start a request",
	    md_k8s_kind_str(s->kind));
	stream_stop(s);
	return -1;
}

static void
start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	if (stream_start(s) != 0)
		fail(s);
}

/* ---- life cycle ---------------------------------------------------- */

static int
add_stream(
    struct md_k8s *k, enum md_k8s_kind kind, const char *path, const char *name)
{
	struct stream *s;
	char *enc = NULL;
	int n;

	if (k->nstreams >= MAX_STREAMS)
		return -1;
	s = &k->streams[k->nstreams];
	s->k = k;
	s->kind = kind;
	md_strlcpy(s->path, path, sizeof(s->path));
	if (name != NULL) {
		enc = evhttp_uriencode(name, -1, 0);
		if (enc == NULL)
			return -1;
		n = snprintf(s->select, sizeof(s->select),
		    "fieldSelector=metadata.name%%3D%s", enc);
		free(enc);
		if (n < 0 || (size_t)n >= sizeof(s->select))
			return -1;
		md_strlcpy(s->name, name, sizeof(s->name));
	}
	s->buf = evbuffer_new();
	s->ev_next = evtimer_new(k->base, start_cb, s);
	s->ev_alive = evtimer_new(k->base, alive_cb, s);
	k->nstreams++;
	if (s->buf == NULL || s->ev_next == NULL || s->ev_alive == NULL)
		return -1;
	return 0;
}

struct md_k8s *
md_k8s_new(struct event_base *base, const struct md_k8s_conf *conf,
    md_k8s_publish_cb cb, void *arg, char *err, size_t errlen)
{
	struct md_k8s *k = NULL;
	struct timeval now = {0, 0};
	int rc = 0;

	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->base = base;
	k->cb = cb;
	k->arg = arg;
	if (md_k8s_resolve_endpoint(conf, &k->ep, err, errlen) != 0)
		goto fail;
	/* Only what the builder needs: the strings stay the caller's. */
	k->conf = *conf;
	k->conf.server = k->conf.kubeconfig = k->conf.token_file = NULL;
	k->conf.token = k->conf.ca_file = NULL;
	k->conf.client_cert = k->conf.client_key = NULL;
	if (k->conf.watch_timeout == 0) /* a conf not from md_k8s_conf_init() */
		k->conf.watch_timeout = MD_K8S_WATCH_TIMEOUT_DEFAULT;
	if (strchr(k->ep.host, ':') != NULL)
		snprintf(k->hostport, sizeof(k->hostport), "[%s]:%u",
		    k->ep.host, k->ep.port);
	else
		snprintf(k->hostport, sizeof(k->hostport), "%s:%u", k->ep.host,
		    k->ep.port);
	if (k->ep.tls) {
		k->ssl = ssl_ctx_new(&k->ep, err, errlen);
		if (k->ssl == NULL)
			goto fail;
	}
	if (!is_ip(k->ep.host)) {
		k->dns =
		    evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (k->dns == NULL) {
			snprintf(err, errlen,
			    "%s: cannot set up name "
			    "resolution (resolv.conf)",
			    k->ep.host);
			goto fail;
		}
	}
	k->store = md_k8s_store_new();
	k->ev_rebuild = evtimer_new(base, rebuild_cb, k);
	k->ev_reverse = evtimer_new(base, rebuild_reverse_cb, k);
	k->builder = md_k8s_builder_new(&k->conf);
	k->serial = (uint32_t)time(NULL);
	if (k->store == NULL || k->ev_rebuild == NULL ||
	    k->ev_reverse == NULL || k->builder == NULL)
		goto nomem;
	rc |= add_stream(k, MD_K8S_SERVICE, "/api/v1/services", NULL);
	rc |= add_stream(
	    k, MD_K8S_SLICE, "/apis/discovery.k8s.io/v1/endpointslices", NULL);
	if (conf->nnamespaces == 0)
		rc |=
		    add_stream(k, MD_K8S_NAMESPACE, "/api/v1/namespaces", NULL);
	for (size_t i = 0; i < conf->nnamespaces; i++)
		rc |= add_stream(k, MD_K8S_NAMESPACE, "/api/v1/namespaces",
		    conf->namespaces[i]);
	if (conf->pods != MD_K8S_PODS_DISABLED)
		rc |= add_stream(k, MD_K8S_POD, "/api/v1/pods", NULL);
	if (rc != 0)
		goto nomem;
	for (size_t i = 0; i < k->nstreams; i++)
		evtimer_add(k->streams[i].ev_next, &now);
	md_info(LOG_K8S, "k8s: API at %s://%s, %zu streams",
	    k->ep.tls ? "https" : "http", k->hostport, k->nstreams);
	return k;

nomem:
	snprintf(err, errlen, "out of memory");
fail:
	md_k8s_free(k);
	return NULL;
}

void
md_k8s_free(struct md_k8s *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->nstreams; i++) {
		struct stream *s = &k->streams[i];

		stream_stop(s);
		if (s->ev_next != NULL)
			event_free(s->ev_next);
		if (s->ev_alive != NULL)
			event_free(s->ev_alive);
		if (s->buf != NULL)
			evbuffer_free(s->buf);
		md_k8s_store_free(s->staging);
	}
	if (k->ev_rebuild != NULL)
		event_free(k->ev_rebuild);
	if (k->ev_reverse != NULL)
		event_free(k->ev_reverse);
	md_k8s_builder_free(k->builder);
	/* After the connections: they cancel their own lookups. */
	if (k->dns != NULL)
		evdns_base_free(k->dns, 0);
	md_k8s_store_free(k->store);
	SSL_CTX_free(k->ssl);
	md_k8s_endpoint_conf_deinit(&k->ep);
	free(k);
}

void
md_k8s_get_status(const struct md_k8s *k, struct md_k8s_status *out)
{
	memset(out, 0, sizeof(*out));
	if (k == NULL)
		return;
	*out = k->st;
	out->stale_ms = k->st.connected ? 0 : k->trouble_since;
}
