/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_http.c - the HTTP endpoints of metrics.h: /metrics, /health and
 * /ready on libevent's evhttp, one listener per distinct address (several
 * endpoints given the same address share it).
 *
 * Owns the listeners and nothing else: the page comes from
 * md_metrics_render(), readiness from the caller's sources.  Every
 * handler answers at once from memory, so the event loop never waits on
 * a client (evhttp's timeout drops the slow ones).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "minidns/k8s_watch.h"
#include "minidns/metrics.h"

enum endpoint {
	EP_METRICS = 1 << 0,
	EP_HEALTH = 1 << 1,
	EP_READY = 1 << 2,
};

#define LISTENERS_MAX 3
#define HTTP_TIMEOUT_SECS 10

struct md_metrics_http;

struct listener {
	struct md_metrics_http *owner;
	struct md_sockaddr addr;
	unsigned endpoints; /* enum endpoint bits */
	struct evhttp *http;
};

struct md_metrics_http {
	struct md_metrics_sources src;
	struct listener l[LISTENERS_MAX];
	size_t n;
};

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	/* evhttp leaves the body out of a HEAD reply by itself */
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, reason, NULL);
}

static void
reply_text(
    struct evhttp_request *req, int code, const char *reason, const char *text)
{
	reply(
	    req, code, reason, "text/plain; charset=utf-8", text, strlen(text));
}

/* Why the server is not ready, or NULL when it is. */
static const char *
not_ready(const struct md_metrics_sources *src)
{
	struct md_k8s_status st;

	if (src->zones_loaded != NULL && !src->zones_loaded(src->arg))
		return "zones not loaded\n";
	if (src->k8s != NULL) {
		md_k8s_get_status(src->k8s, &st);
		if (!st.synced)
			return "kubernetes not synced\n";
	}
	return NULL;
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct listener *l = arg;
	const struct md_metrics_sources *src = &l->owner->src;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *why;
	char *page;

	if (path == NULL)
		path = "";
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(
		    req, 405, "Method Not Allowed", "method not allowed\n");
	} else if ((l->endpoints & EP_METRICS) &&
	    strcmp(path, "/metrics") == 0) {
		page = md_metrics_render(src);
		if (page == NULL) {
			reply_text(req, 500, "Internal Server Error",
			    "out of memory\n");
			return;
		}
		reply(req, 200, "OK",
		    "text/plain; version=0.0.4; charset=utf-8", page,
		    strlen(page));
		free(page);
	} else if ((l->endpoints & EP_HEALTH) && strcmp(path, "/health") == 0) {
		reply_text(req, 200, "OK", "OK");
	} else if ((l->endpoints & EP_READY) && strcmp(path, "/ready") == 0) {
		why = not_ready(src);
		if (why == NULL)
			reply_text(req, 200, "OK", "OK");
		else
			reply_text(req, 503, "Service Unavailable", why);
	} else
		reply_text(req, 404, "Not Found", "not found\n");
}

/* "ADDR:PORT", ":PORT" (every IPv4 address) or "ADDR" (default port). */
static int
parse_addr(const char *s, uint16_t defport, struct md_sockaddr *out)
{
	char buf[MD_SOCKADDR_STRLEN + 8];

	if (s[0] == ':') {
		if (snprintf(buf, sizeof(buf), "0.0.0.0%s", s) >=
		    (int)sizeof(buf))
			return MD_EPARSE;
		s = buf;
	}
	return md_sockaddr_parse(s, defport, out);
}

static bool
same_addr(const struct md_sockaddr *a, const struct md_sockaddr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* Add an endpoint: to the listener with its address, else a new one. */
static int
add_endpoint(struct md_metrics_http *h, const char *what, const char *s,
    uint16_t defport, unsigned ep, char *err, size_t errlen)
{
	struct md_sockaddr sa;
	size_t i;

	if (s == NULL || s[0] == '\0' || strcmp(s, "off") == 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	if (parse_addr(s, defport, &sa) != 0) {
		snprintf(
		    err, errlen, "%s: bad address '%s' (ADDR:PORT)", what, s);
		return MD_ECONFIG;
	}
	for (i = 0; i < h->n; i++)
		if (same_addr(&h->l[i].addr, &sa))
			break;
	if (i == h->n) {
		if (!MD_CHECK(h->n < LISTENERS_MAX))
			return MD_ENOSPACE;
		h->l[i].owner = h;
		h->l[i].addr = sa;
		h->n++;
	}
	h->l[i].endpoints |= ep;
	return 0;
}

static void
endpoint_names(unsigned ep, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", (ep & EP_METRICS) ? "metrics" : "",
	    (ep & EP_METRICS) && (ep & ~EP_METRICS) ? "," : "",
	    (ep & EP_HEALTH) ? "health" : "",
	    (ep & EP_HEALTH) && (ep & EP_READY) ? "," : "",
	    (ep & EP_READY) ? "ready" : "");
}

/* Bind one listener; 0, or -errno with the evhttp freed. */
static int
start_listener(struct event_base *base, struct listener *l)
{
	struct evconnlistener *lev;
	int e;

	l->http = evhttp_new(base);
	if (l->http == NULL)
		return -ENOMEM;
	lev = evconnlistener_new_bind(base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, (const struct sockaddr *)&l->addr.ss, (int)l->addr.len);
	if (lev == NULL) {
		e = errno != 0 ? errno : EADDRNOTAVAIL;
		evhttp_free(l->http);
		l->http = NULL;
		return -e;
	}
	/* evhttp owns the listener from here (freed by evhttp_free) */
	if (evhttp_bind_listener(l->http, lev) == NULL) {
		evconnlistener_free(lev);
		evhttp_free(l->http);
		l->http = NULL;
		return -ENOMEM;
	}
	evhttp_set_timeout(l->http, HTTP_TIMEOUT_SECS);
	evhttp_set_max_headers_size(l->http, 8192);
	evhttp_set_max_body_size(l->http, 4096);
	evhttp_set_gencb(l->http, request_cb, l);
	return 0;
}

struct md_metrics_http *
md_metrics_http_new(struct event_base *base, const char *metrics_addr,
    const char *health_addr, const char *ready_addr, bool optional,
    const struct md_metrics_sources *src, char *err, size_t errlen)
{
	struct md_metrics_http *h;
	char sastr[MD_SOCKADDR_STRLEN], names[32];
	size_t i;
	int rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	if (src != NULL)
		h->src = *src;
	if (add_endpoint(h, "metrics", metrics_addr, 9153, EP_METRICS, err,
		errlen) != 0 ||
	    add_endpoint(
		h, "health", health_addr, 8080, EP_HEALTH, err, errlen) != 0 ||
	    add_endpoint(h, "ready", ready_addr, 8181, EP_READY, err, errlen) !=
		0)
		goto fail;
	for (i = 0; i < h->n; i++) {
		struct listener *l = &h->l[i];

		rc = start_listener(base, l);
		if (rc == 0) {
			md_debug(MD_LOG_SERVER, "http: listening on %s",
			    md_sockaddr_str(&l->addr, sastr, sizeof(sastr)));
			continue;
		}
		md_sockaddr_str(&l->addr, sastr, sizeof(sastr));
		endpoint_names(l->endpoints, names, sizeof(names));
		if (!optional) {
			snprintf(err, errlen, "%s on %s: %s", names, sastr,
			    md_strerror(rc));
			goto fail;
		}
		md_warn(MD_LOG_SERVER, "%s on %s: %s; endpoint off", names,
		    sastr, md_strerror(rc));
	}
	return h;

fail:
	md_metrics_http_free(h);
	return NULL;
}

void
md_metrics_http_free(struct md_metrics_http *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		if (h->l[i].http != NULL)
			evhttp_free(h->l[i].http);
	free(h);
}
