/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h - the server's counters and the HTTP endpoints that expose
 * them: /metrics (Prometheus text format), /health and /ready, on
 * libevent's evhttp.  CoreDNS's default ports (9153, 8080, 8181), so
 * existing probes and scrape configurations keep working.
 *
 * The query path's counters are kept per worker thread: each call names
 * its worker, which alone writes its slot (no atomic read-modify-write,
 * no cache line shared between cores), and a scrape sums the slots.  A
 * caller that is not a worker passes MD_METRICS_NO_WORKER (a shared slot,
 * atomic adds).  The other figures (cache, upstream transport, Kubernetes
 * watch) are read from their modules when scraped.
 */
#ifndef MINIDNS_METRICS_H
#define MINIDNS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/cache.h"
#include "minidns/util.h"

struct event_base;
struct md_cache;
struct md_net_stats;
struct md_k8s;
struct md_upstream;

enum md_metric_transport {
	MD_METRIC_UDP = 0,
	MD_METRIC_TCP,
	MD_METRIC_TLS,
	MD_METRIC_TRANSPORT_COUNT,
};

/* Where an answer came from (also the query log's "source"). */
enum md_metric_source {
	MD_SOURCE_LOCAL = 0, /* a local zone (files or Kubernetes) */
	MD_SOURCE_CACHE,
	MD_SOURCE_RECURSION, /* iterated from the root */
	MD_SOURCE_FORWARD,   /* a forward zone */
	MD_SOURCE_ERROR,     /* refused, malformed, failed early */
	MD_SOURCE_COUNT,
};

const char *md_metric_source_str(enum md_metric_source s);
const char *md_metric_transport_str(enum md_metric_transport t);

/* Worker threads: at most MD_METRICS_WORKERS_MAX have slots of their
 * own; how many run (minidns_worker_requests_total's series).  Any number
 * from MD_METRICS_WORKERS_MAX up counts in the shared slot. */
#define MD_METRICS_WORKERS_MAX 64
#define MD_METRICS_NO_WORKER MD_METRICS_WORKERS_MAX
void md_metrics_set_workers(unsigned n);
/* A query arrived on worker 'worker': its transport, its type (counted
 * per well-known type), whether it came over IPv6, whether it set DO. */
void md_metrics_request(unsigned worker, enum md_metric_transport t,
    uint16_t qtype, bool ipv6, bool do_bit);
/* The sizes of a query received and of its response sent, on worker
 * 'worker' (minidns_dns_request/response_size_bytes). */
void md_metrics_request_size(
    unsigned worker, enum md_metric_transport t, size_t len);
void md_metrics_response_size(
    unsigned worker, enum md_metric_transport t, size_t len);
/* A response left (rcode with extended bits), after 'usec' microseconds. */
void md_metrics_response(
    unsigned worker, int rcode, enum md_metric_source src, uint64_t usec);
/* A response's DNSSEC state (md_query_info.security), on worker 'worker':
 * secure, insecure, bogus or indeterminate; UNCHECKED is not counted. */
void md_metrics_dnssec(unsigned worker, enum md_security sec);
/* A query got no response (dropped: malformed or overloaded). */
void md_metrics_dropped(unsigned worker);
/* Refused by access-control (recursion not offered to the client). */
void md_metrics_refused_acl(unsigned worker);
/* A UDP query dropped by rate-limit. */
void md_metrics_rate_limited(unsigned worker);
/* A prefetch resolution started. */
void md_metrics_prefetch(unsigned worker);
/* A query answered by a name Kubernetes autopath found (a CNAME to it). */
void md_metrics_autopath(unsigned worker);
/* TCP/TLS connections: opened, closed. */
void md_metrics_conn(unsigned worker, bool opened);
/* An upstream query: sent (with transport), and its outcome. */
void md_metrics_upstream(
    unsigned worker, bool forwarded, enum md_metric_transport t);
void md_metrics_upstream_done(
    unsigned worker, bool forwarded, bool timeout, uint32_t rtt_ms);
/*
 * Per forwarder (a configured upstream of a forward zone; never a server
 * met in iteration, so the label set stays bounded): its slot, the `to`
 * label ("ADDR:PORT", "tcp://ADDR:PORT", "tls://ADDR:PORT"), made the
 * first time an upstream is seen; -1 once MD_METRICS_FORWARDS_MAX
 * distinct ones were seen (the process's life, reloads included): those
 * are counted in minidns_upstream_* only.  Then, on worker 'worker': a
 * query sent to it, and a reply from it with the reply's rcode, 'usec'
 * after that query was sent.
 */
#define MD_METRICS_FORWARDS_MAX 32
int md_metrics_forward_slot(const struct md_upstream *up);
void md_metrics_forward_sent(unsigned worker, const struct md_upstream *up);
void md_metrics_forward_reply(
    unsigned worker, const struct md_upstream *up, int rcode, uint64_t usec);
/* A health check of a forwarder held down as dead got no answer. */
void md_metrics_forward_healthcheck_failed(
    unsigned worker, const struct md_upstream *up);
/* Zone reloads. */
void md_metrics_reload(bool ok);

/* What /metrics also reads, and what /ready waits for. */
struct md_metrics_sources {
	struct md_cache *cache; /* may be NULL */
	/* the upstream transport's counters, summed over the workers; NULL:
	 * none (they are the server's, which metrics does not include) */
	void (*net_stats)(void *arg, struct md_net_stats *out);
	const struct md_k8s *k8s;	 /* NULL when not configured */
	bool (*zones_loaded)(void *arg); /* true once zones are served */
	bool (*stopping)(void *arg); /* shutting down (lameduck); may be NULL */
	/* loop-detect: not ready because of a forwarding loop (or the first
	 * probes still out), why the reason; may be NULL */
	bool (*forward_loop)(void *arg, char *why, size_t len);
	/* each probed forward zone and whether it loops (the gauge
	 * minidns_forward_loop); may be NULL */
	void (*forward_zones)(void *arg,
	    void (*fn)(void *ctx, const char *zone, bool looped), void *ctx);
	/* the negative trust anchors in force (minidns-control nta); may
	 * be NULL */
	size_t (*negative_trust_anchors)(void *arg);
	void *arg;
};

struct md_metrics_http;

/*
 * HTTP listeners on base: metrics, health and ready addresses (NULL = off;
 * "ADDR:PORT").  'optional' listeners that cannot bind only warn (the
 * defaults); others fail.  /health: 200 "OK" while the process serves;
 * /ready: 200 once zones are loaded and, with Kubernetes, the first sync
 * is done, and until the process is stopping, else 503 with the reason
 * (/health stays 200 while stopping, as CoreDNS's lameduck).  At most max_conns connections over
 * all the endpoints (0: 64, http-max-connections' default), each closed
 * 5 s after accept.  Returns NULL with err set.
 */
struct md_metrics_http *md_metrics_http_new(struct event_base *base,
    const char *metrics_addr, const char *health_addr, const char *ready_addr,
    bool optional, unsigned max_conns, const struct md_metrics_sources *src,
    char *err, size_t errlen);
void md_metrics_http_free(struct md_metrics_http *h);

/* The whole /metrics page, malloc'ed (for the control socket's "stats"
 * and tests); NULL when out of memory. */
char *md_metrics_render(const struct md_metrics_sources *src);

#endif /* MINIDNS_METRICS_H */
