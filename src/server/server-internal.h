/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server-internal.h - what the files of the server share: the worker, its
 * connections and resolutions in flight, and the functions one file
 * calls in another.  Private to src/server/.
 */
#ifndef MINIDNS_SERVER_INTERNAL_H
#define MINIDNS_SERVER_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "minidns/driver.h"
#include "minidns/hashtab.h"
#include "minidns/metrics.h"
#include "minidns/net.h"
#include "minidns/ratelimit.h"
#include "minidns/server.h"

#define UDP_BATCH 32		    /* datagrams per recvmmsg/sendmmsg */
#define UDP_QUERY_MAX 4096	    /* a larger datagram is not a query */
#define UDP_OUT_MAX 4096	    /* edns-buffer-size is at most this */
#define UDP_RCVBUF (4 << 20)	    /* socket receive buffer, bytes */
#define TCP_OUTPUT_MAX (256 * 1024) /* stop reading a client above this */
#define TCP_STAGE (16 * 1024)	    /* answers of one TCP read sent together */
#define TCP_IN (96 * 1024)	    /* one read of a client connection */
#define INFLIGHT_MAX 10000	    /* resolutions at once */
#define WAITERS_MAX 1000	    /* clients on one resolution */
#define INFLIGHT_BUCKETS 4096	    /* a fixed table: no growth */

struct tcp_conn;
struct probe;
struct worker;

/*
 * Where a resolution's answer to one waiter goes instead of a socket (the
 * replay harness): the response msg[0..len), and the request that made it
 * (its result and trace), both valid during the call only.
 */
typedef void (*md_srv_answer_fn)(
    void *arg, const uint8_t *msg, size_t len, const struct md_request *req);

/* A client waiting for a resolution. */
struct waiter {
	struct waiter *next;		      /* on the resolution */
	struct waiter *conn_prev, *conn_next; /* on its TCP connection */
	struct md_wire_query q;		      /* id, flags, name as sent */
	bool tcp;
	struct tcp_conn *conn;	      /* TCP; NULL once the connection closed */
	evutil_socket_t fd;	      /* UDP listener socket */
	struct sockaddr_storage from; /* the client (UDP and TCP) */
	socklen_t fromlen;
	enum md_metric_transport transport;
	uint64_t start_us; /* when the query came in */
	/* not NULL: the answer goes to answer(answer_arg, ...), not out of
	 * a socket (md_srv_udp_answer()) */
	md_srv_answer_fn answer;
	void *answer_arg;
	/* q's local CNAME chain leads out: the resolution is that of
	 * chase_name, the answer the chain plus its result */
	bool chase;
	uint8_t chase_name[MD_NAME_MAX];
	/* Kubernetes autopath: q was answered by the search-path name
	 * autopath_name (a CNAME to it goes first) */
	bool autopath;
	unsigned autopath_index;
	uint8_t autopath_name[MD_NAME_MAX];
};

/* One resolution in flight, shared by every client asking the same. */
struct resolution {
	/* in wk->inflight; hash: md_name_hash(name) * 31 + qtype */
	struct md_hnode hn;
	struct worker *wk;
	uint8_t name[MD_NAME_MAX]; /* lower case */
	uint16_t qtype;
	/* the snapshot it started with, held until it ends (a reload does
	 * not change a resolution's forward zones under it) */
	const struct md_config *cfg;
	struct md_resolve_env env;
	struct md_request *req;
	struct md_drive dr; /* the engine driven over wk->transport */
	/* md_server_trace(): trace_done(trace_ctx, ...) at the end */
	void (*trace_done)(void *ctx, int rcode, const char *reason);
	void *trace_ctx;
	struct waiter *waiters;
	unsigned nwaiters;
	bool loop_probe; /* loop-detect's probe (server_loop.c) */
};

struct udp_listener {
	struct worker *wk;
	struct event *ev;
	evutil_socket_t fd;
	/* udp-batch-wait: while ev is off (paused), tfd's event ends the
	 * wait (made the first time one is needed) */
	struct event *tev;
	int tfd;
	bool paused;
};

/*
 * A client's TCP or TLS connection.  Its socket is read and written
 * here, not through bufferevents: a wake-up reads with one recv() (TLS:
 * SSL_read with read-ahead) into the worker's tcp_in, the questions are
 * answered in place, and the answers go straight to the socket (send or
 * SSL_write) when nothing is queued before them.  Only what does not fit
 * is kept: the bytes of a message not yet whole (pend, where the rest of
 * that message is then read: a trickle costs no copying) and answers the
 * socket did not take (out).
 */
struct tcp_conn {
	struct worker *wk;
	evutil_socket_t fd;
	SSL *ssl; /* DNS over TLS, else NULL */
	bool tls;
	bool handshaking;      /* TLS: until the handshake is done */
	bool reading;	       /* rd is on: questions are read */
	bool throttled;	       /* not reading until out drains to half */
	bool read_wants_write; /* TLS: SSL_read waits for writability */
	bool closing;	       /* answered garbage: close once out drains */
	bool broken;	       /* TLS: a fatal error (no close_notify then) */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tcp_conn *prev, *next;
	struct waiter *waiters; /* its queries still being resolved */
	/* tcp-read-timeout: armed by a message's first byte (for TLS, at
	 * accept: the handshake), however slowly the rest trickles in */
	struct event *deadline;
	uint64_t last_ms; /* accepted, or last message read or answered */
	/* readable (or tcp-idle-timeout with nothing read), writable (or
	 * tcp-idle-timeout with nothing taken: on only while out holds
	 * bytes) */
	struct event *rd, *wr;
	struct evbuffer *out;
	uint8_t *pend;
	size_t npend, pendcap;
};

typedef void (*worker_fn)(struct worker *wk, void *arg);

/* One worker thread (worker 0: the caller's thread and base). */
struct worker {
	struct md_server *srv;
	unsigned id;
	struct event_base *base;
	pthread_t thread;
	bool has_thread;
	/* this worker's own, replaced on its thread only (on_workers) */
	/* the configuration snapshot it answers by; a reference is held by
	 * the server (srv->cfg) until every worker moved to the next */
	const struct md_config *cfg;
	struct md_zone_set *zones;
	struct md_ratelimit *rl;
	/* sockets */
	struct udp_listener udp[MD_CONFIG_MAX_LISTEN];
	size_t nudp;
	struct evconnlistener *tcp[MD_CONFIG_MAX_LISTEN];
	size_t ntcp;
	struct evconnlistener *tls[MD_CONFIG_MAX_LISTEN];
	size_t ntls;
	struct tcp_conn *conns;
	unsigned nconns;
	unsigned max_conns; /* tcp-max-connections, per worker */
	bool accept_paused; /* at max_conns, none idle to close */
	bool fd_paused;	    /* accept() ran out of descriptors: resting */
	struct event *accept_pause_ev; /* ends fd_paused */
	/* recursion */
	struct md_net *net;
	struct md_driver_io transport; /* net/ with the upstream counters */
	bool primed;		       /* the root priming query was started */
	uint32_t rr_next; /* rrset-roundrobin: the next answer's rotation */
	/* struct resolution by (name, type); fixed, so starting a
	 * resolution never allocates buckets */
	struct md_hashtab inflight;
	/* health checks of forwarders held down as dead (worker 0) */
	struct event *health_ev;
	unsigned probes; /* in flight */
	struct probe *probe_list;
	/* draining before exit (md_server_drain) */
	uint64_t last_udp_ms;
	struct event *drain_ev;
	uint64_t drain_start_ms;
	atomic_bool drained;
	/* a call from the main thread (on_workers), under srv->call_mu */
	struct event *call_ev;
	struct event *stop_ev; /* made active to end the thread's loop */
	worker_fn call_fn;
	void *call_arg;
	/* UDP batches: queries in, answers out, one slot per datagram */
	struct mmsghdr rmsg[UDP_BATCH];
	unsigned rused;	       /* slots the last recvmmsg() filled */
	uint64_t last_wake_us; /* md_srv_udp_read_cb() last ran */
	struct iovec riov[UDP_BATCH];
	struct sockaddr_storage rfrom[UDP_BATCH];
	uint8_t rbuf[UDP_BATCH][UDP_QUERY_MAX];
	struct mmsghdr smsg[UDP_BATCH];
	struct iovec siov[UDP_BATCH];
	uint8_t sbuf[UDP_BATCH * UDP_OUT_MAX];
	/* TCP and resolution answers */
	uint8_t buf[MD_WIRE_MAX];
	uint8_t out[MD_WIRE_MAX + 2];
	/* a TCP read's answers, gathered to leave in one write */
	uint8_t tcp_stage[TCP_STAGE];
	size_t tcp_staged;
	/* a client connection's read (TLS: decrypted) when it has no
	 * message begun; one begun is read on into its pend */
	uint8_t tcp_in[TCP_IN];
	uint8_t scratch[MD_WIRE_MAX + 1024]; /* cache entries copied out */
};

/*
 * The server.  Its own fields belong to the control thread (the caller's,
 * running 'base'); the workers read srv->cache, infra, tls_ctx and their
 * own pointers, nothing else.
 */
struct md_server {
	struct event_base *base;      /* the control thread's: drain timer */
	const struct md_config *cfg;  /* the current snapshot (a reference) */
	const struct md_config *boot; /* the one listen/threads came from */
	struct md_zone_set *zones;    /* the current zones (a reference) */
	struct worker *w[MD_CONFIG_MAX_THREADS];
	unsigned nworkers;
	bool threads_running;
	pthread_mutex_t call_mu;
	pthread_cond_t call_cv;
	/* shared by the workers */
	struct md_cache *cache;
	struct md_infra *infra;
	struct md_nta *nta; /* negative trust anchors (minidns-control) */
	/* aggressive-nsec: the validated NSEC records (RFC 8198) */
	struct md_nsec_store *nsecs;
	/* RRsets whose signatures verified (val_memo.c) */
	struct md_val_memo *memo;
	SSL_CTX *tls_ctx;
	struct md_ratelimit *rl; /* rate-limit; NULL when off */
	unsigned rl_rate;	 /* the rate 'rl' was made for */
	unsigned rl_prefix;	 /* and its IPv6 prefix */
	/* test seams (see "A server core for tests" below); NULL in the
	 * daemon: the monotonic clock, traces for the log only */
	uint64_t (*now_ms)(void *clock_arg);
	void *clock_arg;
	void (*trace_tap)(void *arg, const struct md_trace_event *ev);
	void *trace_arg;
	/* loop-detect (server_loop.c): shared by the workers */
	struct md_loop *loop;
	bool loop_started; /* md_server_loop_start() ran */
	/* udp-steering: cpu, started beside an older process: the UDP
	 * groups whose program is set again once the old sockets are gone
	 * (server_listen.c, resteer_cb()) */
	struct {
		struct md_sockaddr sa;
		evutil_socket_t fd;
	} resteer[MD_CONFIG_MAX_LISTEN];
	size_t nresteer;
	struct event *resteer_ev;
	unsigned resteer_tries;
	/* draining before exit */
	struct event *drain_ev;
	void (*drain_done)(void *arg);
	void *drain_arg;
};

/* server_inflight.c */
void md_srv_log_query(const char *proto, const struct sockaddr *from,
    socklen_t fromlen, const struct md_query_info *info);
/* len: the response's size, 0 when none goes out (dropped). */
void md_srv_account(const struct worker *wk, const struct sockaddr *from,
    socklen_t fromlen, enum md_metric_transport t,
    const struct md_wire_query *q, int rcode, enum md_metric_source src,
    enum md_security sec, uint64_t start_us, size_t len);
enum md_metric_source md_srv_immediate_source(const struct md_query_info *info);
void md_srv_query_ctx(
    struct worker *wk, bool recursion, struct md_query_ctx *ctx);
/* One client question in[0..n) over transport t, from 'from': answered
 * into out (md_query_process()), counted and logged the same way for
 * UDP, TCP and TLS; prefetch started.  The response's length, 0 with
 * info->need_recursion for the caller to resolve. */
size_t md_srv_process(struct worker *wk, enum md_metric_transport t,
    const struct sockaddr *from, socklen_t fromlen, const uint8_t *in, size_t n,
    uint8_t *out, size_t outcap, struct md_query_info *info);
bool md_srv_may_recurse(const struct worker *wk, const struct sockaddr *from);
struct waiter *md_srv_waiter_new(const struct md_query_info *info, bool tcp);
void md_srv_waiter_detach_conn(struct waiter *w);
/* Join the resolution of w's question in flight, or start one; w is the
 * resolution's now (freed when dropped). */
void md_srv_resolve_for(struct worker *wk, struct waiter *w);
/* prefetch: info's answer came from the cache in its last 10%; start one
 * resolution of the question (none if one is in flight) that refreshes
 * the cache entry and answers no one. */
void md_srv_prefetch(struct worker *wk, const struct md_query_info *info);
void md_srv_resolution_free(struct resolution *res);
/* Prime the root NS set on this worker (its thread). */
int md_srv_prime(struct worker *wk);
/* wk->transport: net/ through the engine driver, counted. */
void md_srv_transport_init(struct worker *wk);

/* server_udp.c */
void md_srv_udp_read_cb(evutil_socket_t fd, short what, void *arg);
/*
 * One UDP query in[0..n) from 'from' after the socket's own checks (port
 * 0, rate limit): md_query_process(), the counters and the log, and when
 * it needs resolving a waiter on the resolution in flight.  Returns the
 * length of the answer written to out now (0: none now).  A resolution's
 * answer goes later to 'from' through fd, or to answer(answer_arg, ...)
 * when answer is not NULL.
 */
size_t md_srv_udp_answer(struct worker *wk, evutil_socket_t fd,
    const struct sockaddr_storage *from, socklen_t fromlen, const uint8_t *in,
    size_t n, uint8_t *out, size_t outcap, uint64_t start_us,
    md_srv_answer_fn answer, void *answer_arg);

/* server_tcp.c */
void md_srv_conn_free(struct tcp_conn *c);
void md_srv_accept_error_cb(struct evconnlistener *lev, void *arg);
void md_srv_tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len);
void md_srv_accept_conn(struct worker *wk, evutil_socket_t fd,
    struct sockaddr *sa, int salen, bool tls);
void md_srv_tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg);
void md_srv_tls_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg);

/* server_probe.c */
void md_srv_health_cb(evutil_socket_t fd, short what, void *arg);
/* Start the periodic probes on wk (worker 0). */
void md_srv_probes_start(struct worker *wk);
/* Forget the probes in flight (after md_net_free() cancelled them). */
void md_srv_probes_free(struct worker *wk);

/* server_loop.c */
struct md_loop *md_srv_loop_new(void);
void md_srv_loop_free(struct md_loop *l);
/* Probe the forward zones again if the worker's snapshot changed them
 * (after md_server_update(), once md_server_loop_start() ran). */
void md_srv_loop_reload(struct md_server *srv);
/* Worker 0: a probe resolution ended. */
void md_srv_loop_probe_done(struct worker *wk, const uint8_t *name, int rcode);
/* server_inflight.c: start the probe resolution of name (HINFO) on wk;
 * 0, or -ENOMEM / -EBUSY (then no md_srv_loop_probe_done()). */
int md_srv_loop_resolve(struct worker *wk, const uint8_t *name);

/* server_listen.c */
void md_srv_drain_start(struct worker *wk, void *arg);

/* server.c */
/* Run fn(wk, arg) on worker wk's thread between two events and return
 * when it has (directly, before the threads run). */
void md_srv_on_worker(struct worker *wk, worker_fn fn, void *arg);
void md_srv_worker_close_sockets(struct worker *wk);

/*
 * A server core for tests (tests/replay/replay.c drives the whole query
 * path this way, with a fake network and a fake clock):
 *
 * - md_server_new() with threads: 1, and neither md_server_listen() nor
 *   md_server_start(): no socket, no thread; on_workers() and
 *   md_srv_on_worker() then run their function at once, on the caller's
 *   thread, which is worker 0's (srv->w[0]).
 * - srv->w[0]->transport: replace its send, cancel and ctx (before the
 *   first resolution) with a fake network; the driver copes with a
 *   callback from inside send() or from any later call.
 * - srv->now_ms(srv->clock_arg): the one clock of the query path, when
 *   set: the cache lookups of md_query_process()/md_query_respond()
 *   (md_srv_query_ctx()), every resolution's engine (env.now_ms: its
 *   timeouts, the cache and infra cache it fills and reads), the forwarder
 *   health checks and md_server_update()'s cache limits.  The counters'
 *   durations (md_now_us()) stay real.
 * - srv->trace_tap(srv->trace_arg, ev): every resolution traced, events
 *   kept with the request (md_resolve_trace()) and told to the tap.
 * - md_srv_udp_answer() with an answer callback: a client query in, its
 *   immediate answer returned, a resolution's answer handed to the
 *   callback.
 *
 * In the daemon these pointers are NULL: a pointer test per query (the
 * clock) and per resolution (the tap), nothing else.
 */
static inline uint64_t
md_srv_now_ms(const struct md_server *srv)
{
	return srv->now_ms != NULL ? srv->now_ms(srv->clock_arg) : md_now_ms();
}

#endif
