/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl.c - minidnsd's operator interfaces on the control thread: the
 * control socket's commands (status, stats, reload, flush, dump-cache,
 * set-loglevel, trace, nta) and the /metrics, /health, /ready endpoints.  The
 * socket protocol is control.c's, the counters metrics.c's; this file
 * answers from the daemon's state.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minidns/cache.h"
#include "minidns/ldns_bridge.h"
#include "minidns/resolve.h"
#include "minidns/util.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

#include "daemon.h"

static bool
zones_loaded_cb(void *arg)
{
	struct daemon *d = arg;

	return d->file_zones != NULL;
}

/* "off" disables an endpoint; NULL takes the default. */
static const char *
http_addr(const char *configured, const char *def)
{
	if (configured == NULL)
		return def;
	if (strcmp(configured, "off") == 0)
		return NULL;
	return configured;
}

static bool
stopping_cb(void *arg)
{
	const struct daemon *d = arg;

	return d->stopping;
}

static bool
forward_loop_cb(void *arg, char *why, size_t len)
{
	struct daemon *d = arg;

	return md_server_loop_not_ready(d->srv, why, len);
}

static void
forward_zones_cb(
    void *arg, void (*fn)(void *ctx, const char *zone, bool looped), void *ctx)
{
	struct daemon *d = arg;

	md_server_loop_zones(d->srv, fn, ctx);
}

static void
nta_count_cb(void *arg, const uint8_t *name, uint32_t left_s)
{
	(void)name;
	(void)left_s;
	(*(size_t *)arg)++;
}

static size_t
nta_count(void *arg)
{
	struct daemon *d = arg;
	size_t n = 0;

	md_nta_walk(md_server_nta(d->srv), md_now_ms(), nta_count_cb, &n);
	return n;
}

static void
net_stats_cb(void *arg, struct md_net_stats *out)
{
	struct daemon *d = arg;

	md_server_net_stats(d->srv, out);
}

int
md_daemon_start_http(struct daemon *d, char *err, size_t errlen)
{
	const struct md_config *c = d->cfg;
	/* CoreDNS's ports, so existing probes and scrapes keep working; the
	 * defaults may be taken (then only a warning). */
	bool optional =
	    c->metrics == NULL && c->health == NULL && c->ready == NULL;
	const char *m = http_addr(c->metrics, "0.0.0.0:9153");
	const char *h = http_addr(c->health, "0.0.0.0:8080");
	const char *r = http_addr(c->ready, "0.0.0.0:8181");

	d->sources.cache = md_server_cache(d->srv);
	d->sources.net_stats = net_stats_cb;
	d->sources.k8s = d->k8s;
	d->sources.zones_loaded = zones_loaded_cb;
	d->sources.stopping = stopping_cb;
	d->sources.forward_loop = forward_loop_cb;
	d->sources.forward_zones = forward_zones_cb;
	d->sources.negative_trust_anchors = nta_count;
	d->sources.arg = d;
	if (m == NULL && h == NULL && r == NULL)
		return 0;
	d->http = md_metrics_http_new(d->base, m, h, r, optional,
	    c->http_max_connections, &d->sources, err, errlen);
	return d->http != NULL || optional ? 0 : MD_ECONFIG;
}

static int
ctl_status(void *arg, md_control_line_fn line, void *ctx, char *msg, size_t len)
{
	struct daemon *d = arg;
	char buf[MD_NAME_STRLEN + 1024];

	(void)msg;
	(void)len;
	snprintf(buf, sizeof(buf), "minidnsd %s, up %llu s", PACKAGE_VERSION,
	    (unsigned long long)((md_now_ms() - d->start_ms) / 1000));
	line(ctx, buf);
	snprintf(buf, sizeof(buf), "configuration: %s",
	    d->cfg->path ? d->cfg->path : "(none: defaults and flags)");
	line(ctx, buf);
	snprintf(buf, sizeof(buf), "reloads: %u, failed: %u", d->reloads,
	    d->reload_failures);
	line(ctx, buf);
	for (size_t i = 0;
	     d->file_zones != NULL && i < md_zone_set_count(d->file_zones);
	     i++) {
		const struct md_zone *z = md_zone_set_get(d->file_zones, i);
		char name[MD_NAME_STRLEN];

		md_name_to_str(md_zone_origin(z), name, sizeof(name));
		snprintf(buf, sizeof(buf), "zone %s: %zu records, serial %u",
		    name, md_zone_rr_count(z), md_zone_serial(z));
		line(ctx, buf);
	}
	if (d->k8s != NULL) {
		struct md_k8s_status st;

		md_k8s_get_status(d->k8s, &st);
		snprintf(buf, sizeof(buf),
		    "kubernetes: %s, %s, %zu zones, relists %u, errors %u%s",
		    st.synced ? "synced" : "not synced yet",
		    st.connected ? "connected" : "not connected", d->nk8s,
		    st.relists, st.errors,
		    st.stale_ms != 0 ? ", serving stale data" : "");
		line(ctx, buf);
	}
	snprintf(buf, sizeof(buf), "recursion: %s",
	    d->cfg->recursion ? "on" : "off");
	line(ctx, buf);
	if (d->nrestart_keys > 0) {
		size_t n =
		    (size_t)snprintf(buf, sizeof(buf), "needs a restart:");

		for (size_t i = 0; i < d->nrestart_keys && n < sizeof(buf); i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %s",
			    i > 0 ? "," : "", d->restart_keys[i]);
		line(ctx, buf);
	}
	return 0;
}

static int
ctl_stats(void *arg, md_control_line_fn line, void *ctx, char *msg, size_t len)
{
	struct daemon *d = arg;
	char *text = md_metrics_render(&d->sources);

	if (text == NULL) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	for (char *p = text, *nl; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			line(ctx, p);
			break;
		}
		*nl = '\0';
		line(ctx, p);
	}
	free(text);
	return 0;
}

static int
ctl_reload(void *arg, md_control_line_fn line, void *ctx, char *msg, size_t len)
{
	struct daemon *d = arg;
	unsigned failures = d->reload_failures;

	md_daemon_reload(d, "control socket");
	if (d->reload_failures != failures) {
		snprintf(msg, len, "%s", d->last_reload_error);
		return MD_ECONFIG;
	}
	line(ctx, "reloaded");
	return 0;
}

static int
ctl_flush(void *arg, const char *name, bool zone, md_control_line_fn line,
    void *ctx, char *msg, size_t len)
{
	struct daemon *d = arg;
	struct md_cache *cache = md_server_cache(d->srv);
	uint8_t wire[MD_NAME_MAX];

	/* the NSEC records of aggressive-nsec go with any flush: they
	 * stand for the names they deny */
	md_nsec_store_flush(md_server_nsecs(d->srv));
	if (name == NULL) {
		md_cache_flush(cache, NULL);
		line(ctx, "flushed the whole cache");
		return 0;
	}
	if (md_name_from_str(name, NULL, wire) < 0) {
		snprintf(msg, len, "'%s' is not a domain name", name);
		return MD_EPARSE;
	}
	if (zone)
		md_cache_flush_zone(cache, wire);
	else
		md_cache_flush(cache, wire);
	line(ctx, zone ? "flushed the zone" : "flushed the name");
	return 0;
}

/* nta add NAME SECONDS: at most a week (RFC 7646 §2: they are meant to
 * end; "until removed" is asked for by leaving SECONDS out) */
#define MD_NTA_MAX_SECONDS 604800

struct nta_list_ctx {
	md_control_line_fn line;
	void *ctx;
	size_t n;
};

static void
nta_list_cb(void *arg, const uint8_t *name, uint32_t left_s)
{
	struct nta_list_ctx *lc = arg;
	char s[MD_NAME_STRLEN], buf[MD_NAME_STRLEN + 64];

	if (md_name_to_str(name, s, sizeof(s)) != 0)
		md_strlcpy(s, "?", sizeof(s));
	if (left_s == 0)
		snprintf(buf, sizeof(buf), "%s\tuntil removed", s);
	else
		snprintf(buf, sizeof(buf), "%s\t%" PRIu32 "s left", s, left_s);
	lc->line(lc->ctx, buf);
	lc->n++;
}

/* Negative trust anchors (RFC 7646): validation off at and below a name,
 * for a while or until removed; adding one also drops what the cache
 * holds there (a bogus answer cached is then asked again). */
static int
ctl_nta(void *arg, const char *verb, const char *name, const char *seconds,
    md_control_line_fn line, void *ctx, char *msg, size_t len)
{
	struct daemon *d = arg;
	struct md_nta *nta = md_server_nta(d->srv);
	uint8_t wire[MD_NAME_MAX];
	char buf[MD_NAME_STRLEN + 128];
	long long secs = 0;
	int rc;

	if (strcasecmp(verb, "list") == 0) {
		struct nta_list_ctx lc = {line, ctx, 0};

		md_nta_walk(nta, md_now_ms(), nta_list_cb, &lc);
		snprintf(buf, sizeof(buf), "%zu negative trust anchor%s", lc.n,
		    lc.n == 1 ? "" : "s");
		line(ctx, buf);
		return 0;
	}
	if (md_name_from_str(name, NULL, wire) < 0) {
		snprintf(msg, len, "'%s' is not a domain name", name);
		return MD_EPARSE;
	}
	if (strcasecmp(verb, "remove") == 0) {
		if (md_nta_remove(nta, wire) != 0) {
			snprintf(msg, len, "%s is not a negative trust anchor",
			    name);
			return MD_ENOTFOUND;
		}
		md_info(MD_LOG_MAIN, "negative trust anchor %s removed", name);
		line(ctx, "removed");
		return 0;
	}
	if (seconds != NULL &&
	    md_parse_int(seconds, 1, MD_NTA_MAX_SECONDS, &secs) != 0) {
		snprintf(msg, len, "'%s' is not a number of seconds (1 to %d)",
		    seconds, MD_NTA_MAX_SECONDS);
		return MD_EPARSE;
	}
	rc = md_nta_add(nta, wire, (uint32_t)secs, md_now_ms());
	if (rc != 0) {
		snprintf(msg, len, "out of memory");
		return rc;
	}
	md_cache_flush_zone(md_server_cache(d->srv), wire);
	md_nsec_store_flush(md_server_nsecs(d->srv));
	if (secs)
		snprintf(buf, sizeof(buf), "added for %llds", secs);
	else
		snprintf(buf, sizeof(buf), "added until removed");
	md_info(MD_LOG_MAIN,
	    "negative trust anchor %s %s: not validated at or below it", name,
	    buf);
	line(ctx, buf);
	line(ctx, "flushed the cache at and below it");
	return 0;
}

struct dump_ctx {
	md_control_line_fn line;
	void *ctx;
};

static void
dump_entry_cb(void *arg, const struct md_cache_view *v)
{
	struct dump_ctx *dc = arg;
	char name[MD_NAME_STRLEN], type[32], buf[MD_NAME_STRLEN + 1024];

	md_name_to_str(v->owner, name, sizeof(name));
	if (v->kind != MD_CACHE_RRSET && v->kind != MD_CACHE_PARENT) {
		snprintf(buf, sizeof(buf), "%s\t%u\t%s\t%s%s", name, v->ttl,
		    v->kind == MD_CACHE_NXDOMAIN       ? "NXDOMAIN"
			: v->kind == MD_CACHE_SERVFAIL ? "SERVFAIL"
						       : "NODATA",
		    v->kind != MD_CACHE_NXDOMAIN
			? md_ldns_type_str(v->type, type, sizeof(type))
			: "",
		    v->stale ? "\t; stale" : "");
		dc->line(dc->ctx, buf);
		return;
	}
	for (uint32_t off = 0; off + 2 <= v->rdata_len;) {
		uint16_t len = md_read_u16(v->rdata + off);
		char *text = md_ldns_rr_to_str(v->owner, v->type, MD_CLASS_IN,
		    v->ttl, v->rdata + off + 2, len);

		off += 2 + (uint32_t)len;
		if (text == NULL)
			continue;
		snprintf(buf, sizeof(buf), "%s%s", text,
		    v->kind == MD_CACHE_PARENT ? "\t; parent-side glue"
			: v->stale	       ? "\t; stale"
					       : "");
		free(text);
		dc->line(dc->ctx, buf);
	}
}

static int
ctl_dump_cache(
    void *arg, md_control_line_fn line, void *ctx, char *msg, size_t len)
{
	struct daemon *d = arg;
	struct dump_ctx dc = {line, ctx};

	(void)msg;
	(void)len;
	md_cache_walk(md_server_cache(d->srv), md_now_ms(), dump_entry_cb, &dc);
	return 0;
}

static int
ctl_set_loglevel(void *arg, const char *level, md_control_line_fn line,
    void *ctx, char *msg, size_t len)
{
	enum md_log_level l;

	(void)arg;
	if (level == NULL || md_log_level_parse(level, &l) != 0) {
		snprintf(
		    msg, len, "not a log level (error, warning, info, debug)");
		return MD_EPARSE;
	}
	/* Until the next reload, which sets log-level again. */
	md_log_set_level(l);
	line(ctx, "log level set");
	return 0;
}

/* A trace on behalf of the control socket: lines and the end go back. */
struct ctl_trace {
	md_control_line_fn line;
	md_control_done_fn done;
	void *ctx;
};

static void
ctl_trace_line(void *arg, const char *text)
{
	struct ctl_trace *t = arg;

	t->line(t->ctx, text);
}

static void
ctl_trace_done(void *arg, int rcode, const char *reason)
{
	struct ctl_trace *t = arg;
	char buf[256];

	snprintf(buf, sizeof(buf), "result: %s%s%s", md_rcode_str(rcode),
	    reason != NULL ? ": " : "", reason != NULL ? reason : "");
	t->line(t->ctx, buf);
	t->done(t->ctx, 0, NULL);
	free(t);
}

static int
ctl_trace(void *arg, const char *name, const char *type,
    md_control_line_fn line, md_control_done_fn done, void *ctx, char *msg,
    size_t len)
{
	struct daemon *d = arg;
	uint8_t wire[MD_NAME_MAX];
	uint16_t qtype = MD_TYPE_A;
	struct ctl_trace *t;

	if (name == NULL || md_name_from_str(name, NULL, wire) < 0) {
		snprintf(
		    msg, len, "'%s' is not a domain name", name ? name : "");
		return MD_EPARSE;
	}
	if (type != NULL && md_ldns_type_parse(type, &qtype) != 0) {
		snprintf(msg, len, "'%s' is not a record type", type);
		return MD_EPARSE;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	t->line = line;
	t->done = done;
	t->ctx = ctx;
	if (md_server_trace(
		d->srv, wire, qtype, ctl_trace_line, ctl_trace_done, t) != 0) {
		free(t);
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int
md_daemon_start_control(struct daemon *d, char *err, size_t errlen)
{
	static struct md_control_ops ops;

	if (d->cfg->control_socket == NULL)
		return 0;
	ops.arg = d;
	ops.status = ctl_status;
	ops.stats = ctl_stats;
	ops.reload = ctl_reload;
	ops.flush = ctl_flush;
	ops.dump_cache = ctl_dump_cache;
	ops.set_loglevel = ctl_set_loglevel;
	ops.trace = ctl_trace;
	ops.nta = ctl_nta;
	d->control =
	    md_control_new(d->base, d->cfg->control_socket, &ops, err, errlen);
	return d->control != NULL ? 0 : MD_ECONFIG;
}
