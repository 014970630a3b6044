/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.h - the service layer: answering one query message (query.c) and
 * the libevent UDP/TCP listeners that feed it (server.c).
 */
#ifndef MINIDNS_SERVER_H
#define MINIDNS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/cache.h"
#include "minidns/config.h"
#include "minidns/net.h"
#include "minidns/resolve.h"
#include "minidns/wire.h"
#include "minidns/zone.h"

struct event_base;
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

/* What happened to one query, for logs and tests. */
struct md_query_info {
	enum md_query_verdict verdict;
	enum md_zone_status status;
	int rcode; /* full rcode, extended bits included */
	bool truncated;
	bool from_cache;
	bool need_recursion;	/* no response yet: resolve q, then respond */
	bool refused_recursion; /* not local, and recursion not offered */
	/* a local CNAME chain leaves the local zones and is followed for
	 * this client: resolve chase_name (need_recursion), the response
	 * then is the chain plus the target's records */
	bool chase;
	/* Kubernetes autopath answered: autopath_name (after q) is the
	 * search-path name found; the answer is a CNAME to it, its records */
	bool autopath;
	unsigned autopath_index; /* its number in the search path */
	/* md_query_respond(): the search-path name does not exist; resume
	 * the walk after it (md_query_autopath_resume()) */
	bool autopath_resume;
	bool prefetch; /* answered from the cache in its last 10%: refresh */
	/* DNSSEC: what validation found of the answer (MD_SEC_UNCHECKED:
	 * not validated: validation off, a local zone, an error) */
	enum md_security security;
	uint16_t qtype;
	struct md_wire_query q; /* the query as parsed */
	/* after q, not cleared for each query: valid when chase is set */
	uint8_t chase_name[MD_NAME_MAX];
	uint8_t autopath_name[MD_NAME_MAX]; /* valid when autopath is set */
};

/* What answering needs besides the query. */
struct md_query_ctx {
	const struct md_zone_set *zones;
	uint16_t edns_size; /* advertised, and the most sent over UDP */
	bool recursion;	    /* recursion offered to this client */
	bool serve_stale;   /* RFC 8767 on SERVFAIL */
	struct md_cache *cache;
	uint32_t min_ttl, max_ttl, max_negative_ttl; /* 0: no cap */
	uint8_t *scratch; /* for copying cache entries out: no malloc */
	size_t scratch_len;
	uint64_t now_ms; /* the cache's clock; 0: md_now_ms() (the daemon) */
	/* rrset-roundrobin: RRsets of several RRs start at their RR number
	 * rotate % count (0: the stored order) */
	uint32_t rotate;
	bool prefetch; /* prefetch: note cache answers in their last 10% */
	/* md_query_respond(): the result is that of the target of the
	 * query's local CNAME chain (info->chase), to go after the chain */
	bool chase;
	/* loop-detect: the server's probes and looped zones, and the
	 * forward zones to find a name's in (NULL: no checks) */
	struct md_loop *loop;
	const struct md_resolve_conf *resolve;
	/* DNSSEC: negative trust anchors set at run time (NULL: none); with
	 * resolve->validate, cached data is answered only once validated */
	struct md_nta *nta;
	/* md_query_respond(): info->autopath_name of the query, or NULL */
	const uint8_t *autopath;
	/* Kubernetes autopath: the client (NULL: none, no autopath) and the
	 * host's search domains after the cluster's (autopath-search) */
	const struct sockaddr *client;
	const uint8_t (*search)[255];
	size_t nsearch;
};

/* What md_loop_check() found for a question. */
enum md_loop_verdict {
	MD_LOOP_NONE,  /* nothing: answer as usual */
	MD_LOOP_PROBE, /* our own loop probe came back: a loop */
	MD_LOOP_ZONE,  /* the name's forward zone loops: SERVFAIL */
};

struct md_loop;
/*
 * loop-detect on the query path (any worker): is qname/qtype one of our
 * own probes coming back (then its zone is marked looped, loudly), or is
 * it in a forward zone (rc's) found to loop?  A type comparison when
 * nothing loops; l NULL: MD_LOOP_NONE.
 */
enum md_loop_verdict md_loop_check(struct md_loop *l,
    const struct md_resolve_conf *rc, const uint8_t *qname, uint16_t qtype);

/*
 * Answer the query in[0..inlen) into out (outcap bytes, at least 512):
 * from the local zones, else (recursion allowed, RD set) from the cache.
 * Returns the response length, or 0 when there is no response now: the
 * query is dropped, or info->need_recursion asks the caller to resolve
 * info->q and answer with md_query_respond().
 */
size_t md_query_process(const struct md_query_ctx *ctx, bool tcp,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    struct md_query_info *info);

/* The response to q from a finished resolution (with the EDE on
 * SERVFAIL, or stale data from the cache when serve-stale is on). */
size_t md_query_respond(const struct md_query_ctx *ctx,
    const struct md_wire_query *q, bool tcp, const struct md_result *r,
    uint8_t *out, size_t outcap, struct md_query_info *info);

/*
 * Kubernetes autopath: resume the search-path walk of q (a client's, in
 * ctx->client) at name number 'from' (the one before it turned out not to
 * exist: info->autopath_resume).  As md_query_process(): the response, or
 * 0 with info->need_recursion for the next name to resolve.
 */
size_t md_query_autopath_resume(const struct md_query_ctx *ctx,
    const struct md_wire_query *q, bool tcp, unsigned from, uint8_t *out,
    size_t outcap, struct md_query_info *info);

/* A local answer whose CNAME chain leaves the local zones
 * (MD_ZONE_CNAME_OUT): the name the chain leads to, else NULL. */
const uint8_t *md_query_chain_target(const struct md_zone_result *res);

/* md_query_process() with local zones only (no recursion). */
size_t md_query_answer(const struct md_zone_set *zones, uint16_t edns_size,
    bool tcp, const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    struct md_query_info *info);

struct md_server;

/*
 * A server with the settings of cfg, a finished configuration snapshot
 * (md_config_finish()) of which it takes a reference: cfg->threads
 * workers (0: one per CPU), each with its own event base, to run on
 * threads of their own once md_server_start() is called.  'base' is the
 * caller's: the control thread, which runs no query; every function
 * below is for that thread.
 */
struct md_server *md_server_new(
    struct event_base *base, const struct md_config *cfg);
void md_server_free(struct md_server *srv);
/*
 * Open the UDP and TCP sockets of every listen address.  A listener that
 * cannot be opened is fatal unless it is one of the built-in defaults and
 * another one opened.  Returns 0 or -errno, with a message logged.
 */
int md_server_listen(struct md_server *srv);
/*
 * The DNS-over-TLS service's TLS context from cfg (tls-listen, tls-cert,
 * tls-key): *out a new SSL_CTX (the caller frees it with SSL_CTX_free()),
 * or NULL when nothing listens for TLS.  Refused, with "FILE:LINE: key:
 * problem" in err and MD_ECONFIG: TLS listeners without a certificate or
 * key, a file that cannot be read, a certificate or key OpenSSL does not
 * take, a key that does not belong to the certificate.  md_server_listen()
 * builds its context with it; minidnsd -t and its start check it first.
 */
int md_server_tls_ctx_new(const struct md_config *cfg, struct ssl_ctx_st **out,
    char *err, size_t errlen);
/*
 * Start the worker threads (after md_server_listen(), after the process
 * forked and dropped its privileges: threads do not survive a fork).
 * Returns 0 or -errno.
 */
int md_server_start(struct md_server *srv);
/* Publish a new zone snapshot (takes the caller's reference). */
void md_server_set_zones(struct md_server *srv, struct md_zone_set *zs);
/* Start priming the root NS set (RFC 8109), once, when recursion is on
 * and the root is not forwarded.  The server does this itself before its
 * first iterative resolution; the daemon calls it at start-up when
 * prime-at-start is set. */
int md_server_prime(struct md_server *srv);
/*
 * loop-detect (server_loop.c): send one probe, a random name under the
 * zone, through each forward zone; a probe arriving back on our own
 * listeners marks its zone looped.  Called once the listeners and
 * workers run; reloads probe again when the forward zones change.
 */
void md_server_loop_start(struct md_server *srv);
/* Not ready because of loop-detect: a zone loops, or the first round of
 * probes is still out (at most resolve-timeout); why gets the reason. */
bool md_server_loop_not_ready(struct md_server *srv, char *why, size_t len);
/* Each probed forward zone (presentation form) and whether it loops. */
void md_server_loop_zones(struct md_server *srv,
    void (*fn)(void *ctx, const char *zone, bool looped), void *ctx);
/*
 * Resolve qname/qtype once for an operator (the control socket's trace),
 * outside the in-flight sharing: each trace event goes to line() as text,
 * then done() is called once with the outcome.  The server's cache is used
 * and filled as usual.  Returns 0, or -ENOMEM (then neither is called).
 */
int md_server_trace(struct md_server *srv, const uint8_t *qname, uint16_t qtype,
    void (*line)(void *ctx, const char *text),
    void (*done)(void *ctx, int rcode, const char *reason), void *ctx);
/* The server's cache (metrics, control), shared by its workers. */
struct md_cache *md_server_cache(struct md_server *srv);
/* The negative trust anchors every resolution of the server consults
 * (minidns-control nta); they outlive reloads. */
struct md_nta *md_server_nta(struct md_server *srv);
/* The validated NSEC records kept for aggressive-nsec (a flush of the
 * cache forgets them too). */
struct md_nsec_store *md_server_nsecs(struct md_server *srv);
/* The upstream counters of all workers, summed. */
void md_server_net_stats(const struct md_server *srv, struct md_net_stats *out);
/* How many worker threads answer (threads:, --threads). */
unsigned md_server_threads(const struct md_server *srv);
/*
 * Stop taking new work and finish what there is: close the TCP/TLS
 * listeners (after accepting what already waits in their queues), keep
 * answering datagrams already queued and the resolutions in flight, and
 * call done() once all is quiet (or after 5 s).  With a new process bound
 * to the same addresses (SO_REUSEPORT), new queries already go there: a
 * restart loses none.
 */
void md_server_drain(struct md_server *srv, void (*done)(void *arg), void *arg);
/*
 * Publish a new configuration snapshot (finished; the server takes its own
 * reference): every worker answers by it from its next query on, the
 * cache takes its TTL limits and size; resolutions in flight finish with
 * the snapshot they started with.  What only a restart changes (listen,
 * threads, ...: md_config_restart_keys()) keeps the values the server
 * started with.
 */
void md_server_update(struct md_server *srv, const struct md_config *cfg);

#endif /* MINIDNS_SERVER_H */
