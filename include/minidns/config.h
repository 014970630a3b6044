/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.h - minidnsd's configuration: the YAML file (minidnsd.conf(5)),
 * its documented defaults, and the command-line settings laid over it.
 */
#ifndef MINIDNS_CONFIG_H
#define MINIDNS_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "minidns/cache.h"
#include "minidns/k8s.h"
#include "minidns/resolve.h"
#include "minidns/util.h"
#include "minidns/zone.h"

#define MD_CONFIG_MAX_LISTEN 32
#define MD_CONFIG_MAX_THREADS 64 /* threads: at most */
/* udp-batch-wait: default.  0: a worker never holds back a datagram;
 * waiting trades latency for CPU (doc/benchmarks.md), an operator's
 * choice, not a default (a node-local cache is on every pod's latency
 * path). */
#define MD_UDP_BATCH_WAIT_US 0
#define MD_CONFIG_MAX_ACL 64
#define MD_CONFIG_MAX_TRACE 16

/* A network, e.g. 10.0.0.0/8 or fc00::/7. */
struct md_acl {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

struct md_config_zone {
	char *file;
	char *origin; /* NULL: from the file */
	enum md_zone_format format;
	bool auto_ptr;
	char *where; /* "FILE:LINE" of its entry, "--zone", or NULL */
};

/* Where a key's value was set, for messages: "FILE:LINE" or "--flag". */
struct md_config_where {
	char *key;
	char *at;
};

struct md_config {
	char *path; /* NULL: no file, embedded defaults */
	struct md_sockaddr listen[MD_CONFIG_MAX_LISTEN];
	size_t nlisten;
	bool listen_default; /* the built-in listeners, not configured */
	uint16_t edns_buffer_size;
	unsigned tcp_idle_timeout; /* seconds */
	unsigned tcp_max_connections;
	unsigned tcp_max_connections_per_client; /* per worker and address */
	unsigned tcp_read_timeout;     /* seconds to read one message */
	unsigned http_max_connections; /* /metrics /health /ready, total */
	unsigned rate_limit; /* UDP responses a second per client, 0 = off */
	unsigned rate_limit_ipv6_prefix; /* IPv6 clients counted per /N */
	unsigned udp_batch_wait; /* microseconds to wait for more datagrams
				    under load; 0 = never */
	/* udp-steering: a datagram goes to the worker for the CPU the
	 * kernel received it on (cpu, the default), or by the kernel's hash
	 * of its addresses and ports (hash) */
	bool udp_steer_cpu;
	enum md_log_level log_level;
	unsigned zone_check_interval; /* seconds, 0 = never */
	unsigned lameduck_ms; /* SIGTERM: /ready 503 this long, then drain */
	struct md_config_zone *zones;
	size_t nzones;
	bool zones_set; /* 'zones' given in the file or by --zone */

	/* recursion (names outside the local zones) */
	bool recursion;
	bool prime_at_start; /* prime the root NS set before any question */
	bool loop_detect;    /* probe forward zones for loops (yes) */
	char *root_hints;    /* NULL: the built-in IANA root hints */
	bool allow_private_upstreams;
	bool qname_minimisation;
	bool qname_minimisation_strict; /* qname-minimisation: strict */
	bool use_0x20;
	struct md_acl acl[MD_CONFIG_MAX_ACL]; /* who may recurse */
	size_t nacl;
	unsigned max_upstream_queries;
	unsigned max_referral_depth;
	unsigned max_cname_chain;
	unsigned max_ns_names;
	unsigned resolution_timeout;		 /* ms */
	uint32_t servfail_ttl;			 /* s */
	uint8_t trace[MD_CONFIG_MAX_TRACE][255]; /* log-trace names (wire) */
	size_t ntrace;

	/* DNSSEC validation (resolve.h's validator settings) */
	bool dnssec_validate; /* dnssec: validate (default) or off */
	bool dnssec_set;      /* dnssec: given in so many words */
	/* md_config_finish(): validation is off because root-hints names a
	 * custom root and no trust anchor is configured (the daemon says
	 * so once at start) */
	bool dnssec_off_custom_hints;
	/* validation off by default: every name is forwarded (stub: yes or
	 * a forward zone for "."); dnssec: validate turns it on */
	bool dnssec_off_forwarded;
	char **trust_anchor_files; /* trust-anchor-file, --trust-anchor */
	size_t ntrust_anchor_files;
	/* domain-insecure: names added to the built-in insecure ones */
	uint8_t domain_insecure[MD_INSECURE_MAX][MD_NAME_MAX];
	size_t ndomain_insecure;
	uint32_t val_bogus_ttl; /* s */
	bool aggressive_nsec;

	/* forwarding (resolve.h's forward zones) */
	struct md_forward_zone forward[MD_FORWARD_ZONES_MAX];
	size_t nforward;
	bool stub;	   /* forward everything ("." from resolv-conf) */
	char *resolv_conf; /* NULL: /etc/resolv.conf */
	char *tls_ca;	   /* CA file for TLS upstreams; NULL: system */

	/* DNS over TLS service */
	struct md_sockaddr tls_listen[MD_CONFIG_MAX_LISTEN];
	size_t ntls_listen;
	char *tls_cert;
	char *tls_key;

	/* the Kubernetes source (k8s.h); on when k8s.nzones > 0 */
	struct md_k8s_conf k8s;

	/* operations */
	char *metrics; /* "ADDR:PORT", "off", or NULL: default */
	char *health;
	char *ready;
	char *control_socket; /* NULL: none */
	enum md_log_format log_format;
	char *log_file; /* NULL: stderr */
	bool query_log;
	char *pid_file; /* written after the fork; NULL: none */
	char *user;	/* USER[:GROUP] to run as after binding */
	char *chroot_dir;
	bool allow_open_resolver; /* recursion for 0.0.0.0/0 or ::/0 */
	bool setup_iptables;	  /* NOTRACK/ACCEPT rules for our addresses */
	char *setup_interface;	  /* a dummy interface holding them; NULL: no */

	/* workers: threads, each with its own sockets; 0 = one per CPU */
	unsigned threads;

	/* the cache */
	unsigned cache_size_mib;
	uint32_t cache_min_ttl;
	uint32_t cache_max_ttl;
	uint32_t cache_max_negative_ttl;
	bool serve_stale;

	/* answers */
	bool rrset_roundrobin; /* rotate multi-RR RRsets (yes) */
	bool prefetch;	       /* refresh entries asked in their last 10% */

	/* where each key given was set (md_config_set_where()) */
	struct md_config_where *where;
	size_t nwhere;

	/* Derived by md_config_finish(): the engine's settings (root hints
	 * loaded, forward zones, stub upstreams from resolv.conf). */
	struct md_resolve_conf *resolve;
	atomic_uint refs; /* md_config_new(): references held */
};

/*
 * Defaults: loopback listeners on port 53, no zones.  The engine's and the
 * cache's defaults are taken from md_resolve_conf_init() and
 * md_cache_conf_init(), where they are defined.  md_config_init() fills
 * the caller's storage (out of memory leaves c->resolve NULL, and
 * md_config_finish() then fails); md_config_deinit() frees what it owns.
 */
void md_config_init(struct md_config *c);
void md_config_deinit(struct md_config *c);

/*
 * The configuration as a snapshot shared by threads: md_config_new()
 * returns defaults in their own storage with one reference (NULL when out
 * of memory).  Once md_config_finish() succeeded it is never changed
 * again: workers, resolutions in flight and the daemon each hold a
 * reference and read it without locks, and a reload publishes a new one.
 * md_config_unref() frees it with the last reference; both accept NULL.
 */
struct md_config *md_config_new(void);
const struct md_config *md_config_ref(const struct md_config *c);
void md_config_unref(const struct md_config *c);

/*
 * Validate the whole configuration (after the file and the flags) and
 * derive what the rest of the program reads: the policy checks (an open
 * resolver must be asked for; HTTP endpoint addresses), the engine's
 * settings in c->resolve (root hints loaded, stub upstreams read from
 * resolv-conf).  Returns 0, or MD_ECONFIG / -errno with the problem in err.
 */
int md_config_finish(struct md_config *c, char *err, size_t errlen);

/* The cache's settings (cache-size, TTL limits, serve-stale). */
void md_config_cache_conf(const struct md_config *c, struct md_cache_conf *out);

/*
 * The keys whose value differs between the configuration running and a
 * new one, and that take effect only on a restart (listen, threads, user,
 * ...): their names into keys[0..max), returns how many.  Every other key
 * takes effect on reload.
 */
size_t md_config_restart_keys(const struct md_config *running,
    const struct md_config *next, const char **keys, size_t max);
/* Do two Kubernetes source settings differ (a reload restarts it)? */
bool md_k8s_conf_equal(
    const struct md_k8s_conf *a, const struct md_k8s_conf *b);
/*
 * Read a YAML configuration file over the defaults in c.  Unknown keys and
 * bad values fail with "FILE:LINE: key: problem" in err.  Returns 0 or
 * MD_ECONFIG / -errno.
 */
int md_config_load(
    struct md_config *c, const char *path, char *err, size_t errlen);
/*
 * The same for the YAML in text[0..len) (the fuzz harness): path names it
 * in messages, and relative paths in it (root-hints, zones...) are taken
 * relative to path's folder.  text NULL reads the file path.
 */
int md_config_load_text(struct md_config *c, const char *path, const char *text,
    size_t len, char *err, size_t errlen);
/* Add a listener ("ADDR:PORT", "[V6]:PORT"; port 53 when left out). */
int md_config_add_listen(
    struct md_config *c, const char *s, char *err, size_t errlen);
void md_config_clear_listen(struct md_config *c);
/* Add a network ("10.0.0.0/8", "::1", "fe80::/10") to access-control. */
int md_config_add_acl(
    struct md_config *c, const char *s, char *err, size_t errlen);
/* Is the client address inside one of the access-control networks? */
bool md_acl_allows(
    const struct md_acl *acl, size_t n, const struct sockaddr *sa);
/* Add a name to log-trace (resolutions at or below it are logged). */
int md_config_add_trace(
    struct md_config *c, const char *name, char *err, size_t errlen);
/*
 * Add or extend the forward zone 'zone' with the upstreams in 'servers'
 * (comma-separated, each as md_upstream_parse() reads them).  Returns 0,
 * or MD_ECONFIG with the problem in err.
 */
int md_config_add_forward(struct md_config *c, const char *zone,
    const char *servers, char *err, size_t errlen);
/* --kubernetes-zone / kubernetes.zones and kubernetes.namespaces. */
int md_config_add_k8s_zone(
    struct md_config *c, const char *zone, char *err, size_t errlen);
int md_config_add_k8s_namespace(
    struct md_config *c, const char *ns, char *err, size_t errlen);
/* The forward zone for 'zone' (wire form), or NULL. */
struct md_forward_zone *md_config_find_forward(
    struct md_config *c, const uint8_t *zone);
/*
 * The "nameserver" addresses of a resolv.conf file (port 53).  Returns how
 * many were found (at most max), or -errno when the file cannot be read.
 */
int md_resolv_conf_read(const char *path, struct md_upstream *out, size_t max);
/* Add a zone file; origin may be NULL; where ("FILE:LINE" of its entry,
 * or the flag) may be NULL. */
int md_config_add_zone(struct md_config *c, const char *file,
    const char *origin, enum md_zone_format format, bool auto_ptr,
    const char *where);

/*
 * Where key's value came from: md_config_load() notes "FILE:LINE" for
 * every top-level key it reads, the daemon "--flag" for every flag laid
 * over it (a later note replaces an earlier one).  md_config_where()
 * returns it, or NULL for a default.  md_config_error() writes a problem
 * found after loading (policy checks, files named by a key, the start's
 * checks) as "FILE:LINE: key: problem", "--flag: problem", or, for a
 * default, "key: problem", into err and returns MD_ECONFIG.
 */
int md_config_set_where(struct md_config *c, const char *key, const char *at);
const char *md_config_where(const struct md_config *c, const char *key);
int md_config_error(const struct md_config *c, const char *key, char *err,
    size_t errlen, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void md_config_clear_zones(struct md_config *c);
/*
 * trust-anchor-file / --trust-anchor: add a file of DS or DNSKEY records
 * (read by md_config_finish(); any replace the built-in root anchors), or
 * forget those given so far.  Returns 0 or -ENOMEM.
 */
int md_config_add_trust_anchor(struct md_config *c, const char *file);
void md_config_clear_trust_anchors(struct md_config *c);
/*
 * domain-insecure: add a name (presentation form) below which answers
 * are not validated.  A bad name, one already insecure (built in or
 * given before) or too many is MD_ECONFIG with the problem in err.
 */
int md_config_add_insecure(
    struct md_config *c, const char *name, char *err, size_t errlen);

#endif /* MINIDNS_CONFIG_H */
