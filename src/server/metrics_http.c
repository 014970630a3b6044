/*
 * metrics_http.c - the HTTP endpoints of metrics.h: /metrics, /health and
 * /ready, one listener per distinct address (several endpoints given the
 * same address share it).
 *
 * A deliberately small HTTP/1.1 server on bufferevents: one request per
 * connection (GET or HEAD, no body), answered at once from memory with
 * "Connection: close".  It is small so that every resource a client can
 * hold is bounded here (evhttp, used before, bounds none of them):
 * at most http-max-connections connections over all the endpoints (more
 * are closed at accept), each closed HTTP_DEADLINE_SECS after accept
 * however slowly its bytes trickle in, none accepted past the descriptor
 * budget (md_fd_over_budget()), and the listeners rest MD_ACCEPT_PAUSE_MS
 * when accept() runs out of descriptors rather than spinning.
 *
 * Owns the listeners and connections and nothing else: the page comes
 * from md_metrics_render(), readiness from the caller's sources.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "minidns/k8s_watch.h"
#include "minidns/metrics.h"

enum endpoint {
	EP_METRICS = 1 << 0,
	EP_HEALTH = 1 << 1,
	EP_READY = 1 << 2,
};

#define LISTENERS_MAX 3
#define HTTP_DEADLINE_SECS 5 /* from accept to the last byte of the reply */
#define HTTP_HEAD_MAX 8192   /* request line and headers */
#define HTTP_MAX_CONNS 64    /* http-max-connections' default */

struct md_metrics_http;

struct listener {
	struct md_metrics_http *owner;
	struct md_sockaddr addr;
	unsigned endpoints; /* enum endpoint bits */
	struct evconnlistener *lev;
};

/* One client connection: its request, then our reply, then its close. */
struct hconn {
	struct listener *l;
	struct bufferevent *bev;
	struct event *deadline;
	struct hconn *prev, *next;
	bool replied; /* the reply is queued: discard input until EOF */
	bool head;    /* HEAD: headers only */
};

struct md_metrics_http {
	struct md_metrics_sources src;
	struct event_base *base;
	struct listener l[LISTENERS_MAX];
	size_t n;
	struct hconn *conns;
	unsigned nconns, max_conns;
	struct event *pause_ev; /* accept() out of descriptors: resting */
};

static void
conn_free(struct hconn *c)
{
	struct md_metrics_http *h = c->l->owner;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->nconns--;
	bufferevent_free(c->bev);
	event_free(c->deadline);
	free(c);
}

static const char *
status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* Queue the whole reply; the connection closes once it is sent. */
static void
reply(
    struct hconn *c, int code, const char *ctype, const char *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n%s\r\n",
	    code, status_text(code), ctype, len,
	    code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!c->head)
		evbuffer_add(out, body, len);
	c->replied = true;
}

static void
reply_text(struct hconn *c, int code, const char *text)
{
	reply(c, code, "text/plain; charset=utf-8", text, strlen(text));
}

/* Why the server is not ready, or NULL when it is. */
static const char *
not_ready(const struct md_metrics_sources *src)
{
	struct md_k8s_status st;
	/* the control thread's alone */
	static char why[1536];

	if (src->stopping != NULL && src->stopping(src->arg))
		return "shutting down\n";
	if (src->zones_loaded != NULL && !src->zones_loaded(src->arg))
		return "zones not loaded\n";
	if (src->forward_loop != NULL &&
	    src->forward_loop(src->arg, why, sizeof(why)))
		return why;
	if (src->k8s != NULL) {
		md_k8s_get_status(src->k8s, &st);
		if (!st.synced)
			return "kubernetes not synced\n";
	}
	return NULL;
}

/* Answer one request: method and path from its request line. */
static void
answer(struct hconn *c, const char *method, const char *path)
{
	const struct listener *l = c->l;
	const struct md_metrics_sources *src = &l->owner->src;
	const char *why;
	char *page;

	c->head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !c->head) {
		reply_text(c, 405, "method not allowed\n");
	} else if ((l->endpoints & EP_METRICS) &&
	    strcmp(path, "/metrics") == 0) {
		page = md_metrics_render(src);
		if (page == NULL) {
			reply_text(c, 500, "out of memory\n");
			return;
		}
		reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", page,
		    strlen(page));
		free(page);
	} else if ((l->endpoints & EP_HEALTH) && strcmp(path, "/health") == 0) {
		reply_text(c, 200, "OK");
	} else if ((l->endpoints & EP_READY) && strcmp(path, "/ready") == 0) {
		why = not_ready(src);
		if (why == NULL)
			reply_text(c, 200, "OK");
		else
			reply_text(c, 503, why);
	} else
		reply_text(c, 404, "not found\n");
}

/*
 * "METHOD SP TARGET SP HTTP/1.x" (RFC 9112 §3); the target's path is
 * what comes before '?', an absolute-form target ("http://host/p") is
 * cut to its path.  Headers are read and ignored.
 */
static void
parse_request(struct hconn *c, char *line)
{
	char *method = line, *target, *version, *q;

	target = strchr(line, ' ');
	if (target == NULL) {
		reply_text(c, 400, "bad request\n");
		return;
	}
	*target++ = '\0';
	version = strchr(target, ' ');
	if (version == NULL || strncmp(version + 1, "HTTP/1.", 7) != 0) {
		reply_text(c, 400, "bad request\n");
		return;
	}
	*version = '\0';
	if (strncmp(target, "http://", 7) == 0) {
		q = strchr(target + 7, '/');
		target = q != NULL ? q : (char *)"/";
	}
	q = strchr(target, '?');
	if (q != NULL)
		*q = '\0';
	answer(c, method, target);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct hconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	char line[1024];
	size_t n;

	if (c->replied) {
		/* Lingering: whatever the client still sends is dropped,
		 * so its unread bytes never turn our close into a reset
		 * that would lose the reply. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > HTTP_HEAD_MAX)
			reply_text(c, 431, "request too large\n");
		return;
	}
	n = evbuffer_copyout(in, line, sizeof(line) - 1);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
	parse_request(c, line);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct hconn *c = arg;

	/* The reply is out: half-close and wait for the client's close (or
	 * the deadline). */
	if (c->replied)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

static void
listeners_enable(struct md_metrics_http *h, bool on)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->l[i].lev == NULL)
			continue;
		if (on)
			evconnlistener_enable(h->l[i].lev);
		else
			evconnlistener_disable(h->l[i].lev);
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listeners_enable(arg, true);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	struct md_metrics_http *h = l->owner;
	struct timeval tv = {0, MD_ACCEPT_PAUSE_MS * 1000};
	int e = EVUTIL_SOCKET_ERROR();

	(void)lev;
	if (!md_accept_err_is_resource(e)) {
		md_warn(MD_LOG_SERVER, "http: accept: %s", strerror(e));
		return;
	}
	md_warn(MD_LOG_SERVER, "http: accept: %s; not accepting for %d ms",
	    strerror(e), MD_ACCEPT_PAUSE_MS);
	listeners_enable(h, false);
	if (evtimer_add(h->pause_ev, &tv) != 0)
		listeners_enable(h, true);
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct listener *l = arg;
	struct md_metrics_http *h = l->owner;
	struct timeval dl = {HTTP_DEADLINE_SECS, 0};
	struct hconn *c;

	(void)lev;
	(void)sa;
	(void)salen;
	if (md_fd_over_budget(fd)) {
		md_warn(MD_LOG_SERVER,
		    "http: %d descriptors open (RLIMIT_NOFILE less a "
		    "reserve): refusing a connection",
		    md_fd_high_water());
		evutil_closesocket(fd);
		return;
	}
	if (h->nconns >= h->max_conns) {
		md_warn(MD_LOG_SERVER,
		    "http: %u connections open (http-max-connections): "
		    "refusing another",
		    h->nconns);
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->l = l;
	c->deadline = evtimer_new(h->base, deadline_cb, c);
	c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->deadline == NULL || c->bev == NULL ||
	    evtimer_add(c->deadline, &dl) != 0) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		if (c->deadline != NULL)
			event_free(c->deadline);
		free(c);
		return;
	}
	bufferevent_setcb(
	    c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
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

/* Bind one listener; 0, or -errno. */
static int
start_listener(struct event_base *base, struct listener *l)
{
	/* SO_REUSEPORT, as the DNS sockets: the next process (a restart, a
	 * DaemonSet's surge pod on the host network) binds the same ports
	 * while this one drains. */
	l->lev = evconnlistener_new_bind(base, accept_cb, l,
	    LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE |
		LEV_OPT_CLOSE_ON_EXEC,
	    -1, (const struct sockaddr *)&l->addr.ss, (int)l->addr.len);
	if (l->lev == NULL)
		return errno != 0 ? -errno : -EADDRNOTAVAIL;
	evconnlistener_set_error_cb(l->lev, accept_error_cb);
	return 0;
}

struct md_metrics_http *
md_metrics_http_new(struct event_base *base, const char *metrics_addr,
    const char *health_addr, const char *ready_addr, bool optional,
    unsigned max_conns, const struct md_metrics_sources *src, char *err,
    size_t errlen)
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
	h->base = base;
	h->max_conns = max_conns > 0 ? max_conns : HTTP_MAX_CONNS;
	h->pause_ev = evtimer_new(base, resume_cb, h);
	if (h->pause_ev == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		goto fail;
	}
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
	while (h->conns != NULL)
		conn_free(h->conns);
	for (i = 0; i < h->n; i++)
		if (h->l[i].lev != NULL)
			evconnlistener_free(h->l[i].lev);
	if (h->pause_ev != NULL)
		event_free(h->pause_ev);
	free(h);
}
