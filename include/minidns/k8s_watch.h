/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_watch.h - the Kubernetes source's watch client: lists and watches
 * Services, EndpointSlices, Namespaces (and Pods when pod records are on)
 * through the Kubernetes API, keeps the store (minidns/k8s.h) current,
 * and publishes the zones the builder makes from it.
 *
 * It owns its HTTP(S) connections on the caller's event base; it never
 * blocks.  While the API is unreachable the last zones keep serving and
 * md_k8s_get_status() says how stale they are.
 */
#ifndef MINIDNS_K8S_WATCH_H
#define MINIDNS_K8S_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/k8s.h"
#include "minidns/zone.h"

struct event_base;

/*
 * New zones to publish: 'zones' holds n zones (the cluster zones, then the
 * reverse zones when on), each with one reference the callee takes over.
 * Called from the event loop after a change settles (changes are batched
 * for a few milliseconds, never applied half: a relist is built whole).
 */
typedef void (*md_k8s_publish_cb)(void *arg, struct md_zone **zones, size_t n);

struct md_k8s;

/*
 * Start: resolve the connection settings (errors name the file and the
 * problem, in err), then list and watch.  Returns NULL on a bad
 * configuration.  conf is copied (its strings need not outlive the call).
 */
struct md_k8s *md_k8s_new(struct event_base *base,
    const struct md_k8s_conf *conf, md_k8s_publish_cb cb, void *arg, char *err,
    size_t errlen);
/* Close the connections and free everything; accepts NULL. */
void md_k8s_free(struct md_k8s *k);

/* The DNS programming latency histogram's buckets: 1 ms doubling, to
 * 524.288 s (bucket i: at most 2^i ms), then +Inf. */
#define MD_K8S_PROG_BUCKETS 20

struct md_k8s_status {
	bool synced;		/* every list has completed once */
	bool connected;		/* the watches are open */
	uint64_t last_event_ms; /* md_now_ms() of the last event or list */
	uint64_t stale_ms;	/* since when the API is unreachable, or 0 */
	unsigned relists;	/* after 410 Gone or reconnects */
	unsigned errors;	/* malformed objects or events skipped */
	unsigned stalls;	/* watches dropped: silent for watch-timeout */
	/* DNS programming latency: from an EndpointSlice's
	 * last-change-trigger-time to the publication of its records, per
	 * enum md_k8s_service_kind; per bucket (not cumulative) */
	uint64_t prog_count[MD_K8S_SVC_KIND_COUNT][MD_K8S_PROG_BUCKETS + 1];
	uint64_t prog_sum_us[MD_K8S_SVC_KIND_COUNT];
};

/* The client's state for /metrics, /ready and the logs (k may be NULL:
 * all zero). */
void md_k8s_get_status(const struct md_k8s *k, struct md_k8s_status *out);

#endif /* MINIDNS_K8S_WATCH_H */
