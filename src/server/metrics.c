/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.c - the server's counters and their Prometheus text rendering
 * (exposition format 0.0.4).
 *
 * Owns the counters.  Every counter the query path bumps lives in a slot
 * per worker thread, written by that worker alone (a relaxed load and
 * store: no locked instruction, no cache line another core writes) and
 * summed when a scrape renders it.  Callers that are not a worker
 * (MD_METRICS_NO_WORKER) share one more slot, bumped with atomic adds.
 * Histograms keep one count per bucket; the cumulative buckets and _count
 * are summed at render time, so +Inf always equals _count.  The cache,
 * upstream transport and Kubernetes figures are not counted here: they are
 * read from their modules when rendered.  The HTTP side is metrics_http.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dirent.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "minidns/cache.h"
#include "minidns/k8s_watch.h"
#include "minidns/metrics.h"
#include "minidns/net.h"
#include "minidns/upstream.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef _Atomic uint64_t counter_t;

/* Query types counted by name; everything else is "other". */
static const struct {
	uint16_t type;
	const char *name;
} qtypes[] = {
    {1, "A"},
    {28, "AAAA"},
    {5, "CNAME"},
    {15, "MX"},
    {2, "NS"},
    {12, "PTR"},
    {6, "SOA"},
    {33, "SRV"},
    {16, "TXT"},
    {255, "ANY"},
    {43, "DS"},
    {48, "DNSKEY"},
    {65, "HTTPS"},
    {64, "SVCB"},
};
#define QTYPE_OTHER NELEMS(qtypes)

/* RFC 1035 §4.1.1, RFC 2136 §2.2 (0-10); RFC 6891 §9: BADVERS (16). */
static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL",
    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
    "NOTAUTH", "NOTZONE"};
#define RCODE_BADVERS NELEMS(rcodes)
#define RCODE_OTHER (RCODE_BADVERS + 1)
#define RCODE_SLOTS (RCODE_OTHER + 1)

/* Request duration buckets (CoreDNS's: 0.25 ms doubling to 8.192 s). */
static const uint64_t dur_le_us[] = {250, 500, 1000, 2000, 4000, 8000, 16000,
    32000, 64000, 128000, 256000, 512000, 1024000, 2048000, 4096000, 8192000};
static const char *const dur_le[] = {"0.00025", "0.0005", "0.001", "0.002",
    "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512",
    "1.024", "2.048", "4.096", "8.192"};
#define DUR_SLOTS (NELEMS(dur_le_us) + 1)

/* Upstream round-trip buckets: the net layer measures whole ms. */
static const uint32_t rtt_le_ms[] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
static const char *const rtt_le[] = {"0.001", "0.002", "0.004", "0.008",
    "0.016", "0.032", "0.064", "0.128", "0.256", "0.512", "1.024", "2.048",
    "4.096", "8.192"};
#define RTT_SLOTS (NELEMS(rtt_le_ms) + 1)

/* Message size buckets, bytes (CoreDNS's, so its dashboard's panels read
 * the same): 0, 100, ... 511 (the classic UDP limit), 1023, ... 64000. */
static const uint32_t size_le_b[] = {0, 100, 200, 300, 400, 511, 1023, 2047,
    4095, 8291, 16000, 32000, 48000, 64000};
static const char *const size_le[] = {"0", "100", "200", "300", "400", "511",
    "1023", "2047", "4095", "8291", "16000", "32000", "48000", "64000"};
#define SIZE_SLOTS (NELEMS(size_le_b) + 1)

/* DNS programming latency buckets (CoreDNS's: 1 ms doubling, 20 of them,
 * to 524.288 s; the counts are k8s_watch.c's). */
static const char *const prog_le[MD_K8S_PROG_BUCKETS] = {"0.001", "0.002",
    "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512",
    "1.024", "2.048", "4.096", "8.192", "16.384", "32.768", "65.536", "131.072",
    "262.144", "524.288"};

enum { CLASS_RECURSION = 0, CLASS_FORWARD, CLASS_COUNT };
static const char *const classes[CLASS_COUNT] = {"recursion", "forward"};

/* The process's own figures, rarely written. */
static struct {
	counter_t reloads[2]; /* failure, success */
	_Atomic int64_t start_time;
} m;

const char *
md_metric_source_str(enum md_metric_source s)
{
	static const char *const names[] = {
	    "local", "cache", "recursion", "forward", "error"};

	return (unsigned)s < MD_SOURCE_COUNT ? names[s] : "?";
}

const char *
md_metric_transport_str(enum md_metric_transport t)
{
	static const char *const names[] = {"udp", "tcp", "tls"};

	return (unsigned)t < MD_METRIC_TRANSPORT_COUNT ? names[t] : "?";
}

static inline void
inc(counter_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static inline uint64_t
get(counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The process start, for process_start_time_seconds: taken when the
 * program starts rather than at the first scrape. */
__attribute__((constructor)) static void
record_start_time(void)
{
	atomic_store(&m.start_time, (int64_t)time(NULL));
}

static _Atomic unsigned nworkers;

void
md_metrics_set_workers(unsigned n)
{
	atomic_store(
	    &nworkers, n < MD_METRICS_WORKERS_MAX ? n : MD_METRICS_WORKERS_MAX);
}

/*
 * What each worker counts on its own.  A worker is the only writer of
 * its slot, so a bump is a relaxed load and store (no locked instruction,
 * no cache line shared with another worker); a scrape sums the slots.
 */
struct worker_stats {
	counter_t requests; /* minidns_worker_requests_total */
	/* by transport, address family (IPv4, IPv6) and query type */
	counter_t by_proto[MD_METRIC_TRANSPORT_COUNT][2][QTYPE_OTHER + 1];
	counter_t by_type[QTYPE_OTHER + 1];
	counter_t do_requests;
	counter_t responses_rcode[RCODE_SLOTS];
	counter_t responses_source[MD_SOURCE_COUNT];
	counter_t dur_bucket[DUR_SLOTS];
	counter_t dur_sum_us;
	counter_t dropped;
	counter_t acl_refused;
	counter_t rate_limited;
	counter_t prefetches;
	counter_t autopaths;
	counter_t conns;
	counter_t conns_closed; /* open = conns - conns_closed, summed */
	counter_t up_queries[CLASS_COUNT][MD_METRIC_TRANSPORT_COUNT];
	counter_t up_timeouts[CLASS_COUNT];
	counter_t rtt_bucket[CLASS_COUNT][RTT_SLOTS];
	counter_t rtt_sum_ms[CLASS_COUNT];
	counter_t req_size[MD_METRIC_TRANSPORT_COUNT][SIZE_SLOTS];
	counter_t req_size_sum[MD_METRIC_TRANSPORT_COUNT];
	counter_t resp_size[MD_METRIC_TRANSPORT_COUNT][SIZE_SLOTS];
	counter_t resp_size_sum[MD_METRIC_TRANSPORT_COUNT];
	counter_t fwd_requests[MD_METRICS_FORWARDS_MAX];
	counter_t fwd_responses[MD_METRICS_FORWARDS_MAX][RCODE_SLOTS];
	counter_t fwd_dur[MD_METRICS_FORWARDS_MAX][DUR_SLOTS];
	counter_t fwd_dur_sum_us[MD_METRICS_FORWARDS_MAX];
	counter_t fwd_hc_failures[MD_METRICS_FORWARDS_MAX];
	counter_t dnssec[MD_SEC_INDETERMINATE + 1]; /* by md_security */
} __attribute__((aligned(64)));

/* Zeroed pages: those of workers that never run are never touched.  The
 * last slot is the shared one (MD_METRICS_NO_WORKER). */
#define SLOTS (MD_METRICS_WORKERS_MAX + 1)
static struct worker_stats wstats[SLOTS];

/* The slot of 'worker' (any out-of-range number is the shared one). */
static inline struct worker_stats *
slot(unsigned worker)
{
	return &wstats[worker < MD_METRICS_WORKERS_MAX
		? worker
		: MD_METRICS_WORKERS_MAX];
}

/* Add v to a counter of w: a worker's own slot has one writer, so no
 * read-modify-write is needed; the shared slot takes an atomic add. */
static inline void
add(struct worker_stats *w, counter_t *c, uint64_t v)
{
	if (w == &wstats[MD_METRICS_WORKERS_MAX])
		atomic_fetch_add_explicit(c, v, memory_order_relaxed);
	else
		atomic_store_explicit(c,
		    atomic_load_explicit(c, memory_order_relaxed) + v,
		    memory_order_relaxed);
}

/* The forwarders seen: append-only; nfwd is published after the entry. */
static struct {
	struct md_sockaddr addr;
	enum md_transport transport;
	char to[MD_SOCKADDR_STRLEN + 8];
} fwd[MD_METRICS_FORWARDS_MAX];
static _Atomic unsigned nfwd;
static pthread_mutex_t fwd_mu = PTHREAD_MUTEX_INITIALIZER;

static int
fwd_find(const struct md_upstream *up, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fwd[i].transport == up->transport &&
		    fwd[i].addr.len == up->addr.len &&
		    memcmp(&fwd[i].addr.ss, &up->addr.ss, up->addr.len) == 0)
			return (int)i;
	return -1;
}

int
md_metrics_forward_slot(const struct md_upstream *up)
{
	unsigned n = atomic_load_explicit(&nfwd, memory_order_acquire);
	int i = fwd_find(up, n);
	char sa[MD_SOCKADDR_STRLEN];

	if (i >= 0 || up->addr.len > sizeof(up->addr.ss))
		return i;
	/* A new one: at most MD_METRICS_FORWARDS_MAX over the process's
	 * life, so taking a lock here is rare. */
	pthread_mutex_lock(&fwd_mu);
	n = atomic_load_explicit(&nfwd, memory_order_relaxed);
	i = fwd_find(up, n);
	if (i < 0 && n < MD_METRICS_FORWARDS_MAX) {
		fwd[n].addr = up->addr;
		fwd[n].transport = up->transport;
		md_sockaddr_str(&up->addr, sa, sizeof(sa));
		snprintf(fwd[n].to, sizeof(fwd[n].to), "%s%s",
		    up->transport == MD_TRANSPORT_TLS	    ? "tls://"
			: up->transport == MD_TRANSPORT_TCP ? "tcp://"
							    : "",
		    sa);
		atomic_store_explicit(&nfwd, n + 1, memory_order_release);
		i = (int)n;
	}
	pthread_mutex_unlock(&fwd_mu);
	return i;
}

static size_t
rcode_slot(int rcode)
{
	if (rcode >= 0 && (size_t)rcode < NELEMS(rcodes))
		return (size_t)rcode;
	if (rcode == 16)
		return RCODE_BADVERS;
	return RCODE_OTHER;
}

static size_t
dur_slot(uint64_t usec)
{
	size_t i;

	for (i = 0; i < NELEMS(dur_le_us); i++)
		if (usec <= dur_le_us[i])
			break;
	return i;
}

static size_t
size_slot(size_t len)
{
	size_t i;

	for (i = 0; i < NELEMS(size_le_b); i++)
		if (len <= size_le_b[i])
			break;
	return i;
}

void
md_metrics_forward_sent(unsigned worker, const struct md_upstream *up)
{
	struct worker_stats *w = slot(worker);
	int i = md_metrics_forward_slot(up);

	if (i >= 0)
		add(w, &w->fwd_requests[i], 1);
}

void
md_metrics_forward_reply(
    unsigned worker, const struct md_upstream *up, int rcode, uint64_t usec)
{
	struct worker_stats *w = slot(worker);
	int i = md_metrics_forward_slot(up);

	if (i < 0)
		return;
	add(w, &w->fwd_responses[i][rcode_slot(rcode)], 1);
	add(w, &w->fwd_dur[i][dur_slot(usec)], 1);
	add(w, &w->fwd_dur_sum_us[i], usec);
}

void
md_metrics_forward_healthcheck_failed(
    unsigned worker, const struct md_upstream *up)
{
	struct worker_stats *w = slot(worker);
	int i = md_metrics_forward_slot(up);

	if (i >= 0)
		add(w, &w->fwd_hc_failures[i], 1);
}

void
md_metrics_dnssec(unsigned worker, enum md_security sec)
{
	struct worker_stats *w = slot(worker);

	if (sec == MD_SEC_UNCHECKED || (unsigned)sec > MD_SEC_INDETERMINATE)
		return;
	add(w, &w->dnssec[sec], 1);
}

void
md_metrics_request_size(unsigned worker, enum md_metric_transport t, size_t len)
{
	struct worker_stats *w = slot(worker);

	if ((unsigned)t >= MD_METRIC_TRANSPORT_COUNT)
		return;
	add(w, &w->req_size[t][size_slot(len)], 1);
	add(w, &w->req_size_sum[t], len);
}

void
md_metrics_response_size(
    unsigned worker, enum md_metric_transport t, size_t len)
{
	struct worker_stats *w = slot(worker);

	if ((unsigned)t >= MD_METRIC_TRANSPORT_COUNT)
		return;
	add(w, &w->resp_size[t][size_slot(len)], 1);
	add(w, &w->resp_size_sum[t], len);
}

void
md_metrics_request(unsigned worker, enum md_metric_transport t, uint16_t qtype,
    bool ipv6, bool do_bit)
{
	struct worker_stats *w = slot(worker);
	size_t i;

	for (i = 0; i < NELEMS(qtypes); i++)
		if (qtypes[i].type == qtype)
			break;
	add(w, &w->requests, 1);
	if ((unsigned)t < MD_METRIC_TRANSPORT_COUNT)
		add(w, &w->by_proto[t][ipv6 ? 1 : 0][i], 1);
	add(w, &w->by_type[i], 1);
	if (do_bit)
		add(w, &w->do_requests, 1);
}

void
md_metrics_response(
    unsigned worker, int rcode, enum md_metric_source src, uint64_t usec)
{
	struct worker_stats *w = slot(worker);

	add(w, &w->responses_rcode[rcode_slot(rcode)], 1);
	if ((unsigned)src < MD_SOURCE_COUNT)
		add(w, &w->responses_source[src], 1);
	add(w, &w->dur_bucket[dur_slot(usec)], 1);
	add(w, &w->dur_sum_us, usec);
}

void
md_metrics_dropped(unsigned worker)
{
	add(slot(worker), &slot(worker)->dropped, 1);
}

void
md_metrics_refused_acl(unsigned worker)
{
	add(slot(worker), &slot(worker)->acl_refused, 1);
}

void
md_metrics_rate_limited(unsigned worker)
{
	add(slot(worker), &slot(worker)->rate_limited, 1);
}

void
md_metrics_prefetch(unsigned worker)
{
	add(slot(worker), &slot(worker)->prefetches, 1);
}

void
md_metrics_autopath(unsigned worker)
{
	add(slot(worker), &slot(worker)->autopaths, 1);
}

void
md_metrics_conn(unsigned worker, bool opened)
{
	struct worker_stats *w = slot(worker);

	add(w, opened ? &w->conns : &w->conns_closed, 1);
}

void
md_metrics_upstream(unsigned worker, bool forwarded, enum md_metric_transport t)
{
	struct worker_stats *w = slot(worker);

	if ((unsigned)t < MD_METRIC_TRANSPORT_COUNT)
		add(w, &w->up_queries[forwarded][t], 1);
}

void
md_metrics_upstream_done(
    unsigned worker, bool forwarded, bool timeout, uint32_t rtt_ms)
{
	struct worker_stats *w = slot(worker);
	size_t i;

	/* A timeout has no round-trip time to observe. */
	if (timeout) {
		add(w, &w->up_timeouts[forwarded], 1);
		return;
	}
	for (i = 0; i < NELEMS(rtt_le_ms); i++)
		if (rtt_ms <= rtt_le_ms[i])
			break;
	add(w, &w->rtt_bucket[forwarded][i], 1);
	add(w, &w->rtt_sum_ms[forwarded], rtt_ms);
}

void
md_metrics_reload(bool ok)
{
	inc(&m.reloads[ok]);
}

/* ---- rendering ----------------------------------------------------------- */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one unlabelled sample: HELP, TYPE and the value. */
static void
single(
    FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* One histogram's buckets (per-bucket counts[0..nle], the last +Inf),
 * _sum and _count; 'labels' (may be "") go before le.  Sums are in micro-
 * or milliseconds or units: 'scale' per unit. */
static void
histogram_n(FILE *f, const char *name, const char *labels,
    const uint64_t *counts, const char *const *le, size_t nle, uint64_t sum,
    uint64_t scale)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;
	size_t i;
	int digits = scale == 1000000 ? 6 : scale == 1000 ? 3 : 0;

	for (i = 0; i <= nle; i++) {
		cum += counts[i];
		fprintf(f, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name,
		    labels, sep, i < nle ? le[i] : "+Inf", cum);
	}
	fprintf(f, "%s_sum%s%s%s %" PRIu64, name, labels[0] != '\0' ? "{" : "",
	    labels, labels[0] != '\0' ? "}" : "", sum / scale);
	if (digits > 0)
		fprintf(f, ".%0*" PRIu64, digits, sum % scale);
	fputc('\n', f);
	fprintf(f, "%s_count%s%s%s %" PRIu64 "\n", name,
	    labels[0] != '\0' ? "{" : "", labels, labels[0] != '\0' ? "}" : "",
	    cum);
}

/* One counter of the workers' stats summed over every slot (a worker
 * that never ran reads zeroes: the scrape, not the query, pays). */
static uint64_t
wsum(size_t off)
{
	uint64_t sum = 0;

	for (unsigned w = 0; w < SLOTS; w++)
		sum += get((counter_t *)((char *)&wstats[w] + off));
	return sum;
}

#define WSUM(field) \
	wsum((size_t)((char *)&wstats[0].field - (char *)&wstats[0]))

static void
render_sizes(FILE *f)
{
	static const struct {
		const char *name, *help;
		bool resp;
	} fams[] = {
	    {"minidns_dns_request_size_bytes",
		"Size of the DNS queries received, in bytes, by transport.",
		false},
	    {"minidns_dns_response_size_bytes",
		"Size of the DNS responses sent, in bytes, by transport.",
		true},
	};
	char labels[32];

	for (size_t k = 0; k < NELEMS(fams); k++) {
		family(f, fams[k].name, "histogram", fams[k].help);
		for (size_t t = 0; t < MD_METRIC_TRANSPORT_COUNT; t++) {
			uint64_t counts[SIZE_SLOTS], sum;

			for (size_t i = 0; i < SIZE_SLOTS; i++)
				counts[i] = fams[k].resp ? WSUM(resp_size[t][i])
							 : WSUM(req_size[t][i]);
			sum = fams[k].resp ? WSUM(resp_size_sum[t])
					   : WSUM(req_size_sum[t]);
			snprintf(labels, sizeof(labels), "proto=\"%s\"",
			    md_metric_transport_str(t));
			histogram_n(f, fams[k].name, labels, counts, size_le,
			    NELEMS(size_le), sum, 1);
		}
	}
}

static const char *
rcode_name(size_t i)
{
	return i < RCODE_BADVERS ? rcodes[i]
	    : i == RCODE_BADVERS ? "BADVERS"
				 : "other";
}

/* Per forwarder, CoreDNS's forward plugin's series: requests, responses
 * by rcode (NOERROR and those seen), durations.  None before a query
 * went to a forwarder. */
static void
render_forward(FILE *f)
{
	unsigned n = atomic_load_explicit(&nfwd, memory_order_acquire);
	char labels[MD_SOCKADDR_STRLEN + 32];

	if (n == 0)
		return;
	family(f, "minidns_forward_requests_total", "counter",
	    "Queries sent to each forwarder (retransmissions included).");
	for (unsigned i = 0; i < n; i++)
		fprintf(f,
		    "minidns_forward_requests_total{to=\"%s\"} %" PRIu64 "\n",
		    fwd[i].to, WSUM(fwd_requests[i]));
	family(f, "minidns_forward_responses_total", "counter",
	    "Replies from each forwarder, by their response code.");
	for (unsigned i = 0; i < n; i++)
		for (size_t r = 0; r < RCODE_SLOTS; r++) {
			uint64_t v = WSUM(fwd_responses[i][r]);

			/* the rcodes a forwarder answered with only */
			if (v > 0 || r == 0)
				fprintf(f,
				    "minidns_forward_responses_total{to=\"%s\","
				    "rcode=\"%s\"} %" PRIu64 "\n",
				    fwd[i].to, rcode_name(r), v);
		}
	family(f, "minidns_forward_healthcheck_failures_total", "counter",
	    "Health checks of a forwarder held down as dead that got no "
	    "answer.");
	for (unsigned i = 0; i < n; i++)
		fprintf(f,
		    "minidns_forward_healthcheck_failures_total{to=\"%s\"} "
		    "%" PRIu64 "\n",
		    fwd[i].to, WSUM(fwd_hc_failures[i]));
	family(f, "minidns_forward_request_duration_seconds", "histogram",
	    "Time from a query sent to a forwarder to its reply.");
	for (unsigned i = 0; i < n; i++) {
		uint64_t counts[DUR_SLOTS];

		for (size_t b = 0; b < DUR_SLOTS; b++)
			counts[b] = WSUM(fwd_dur[i][b]);
		snprintf(labels, sizeof(labels), "to=\"%s\"", fwd[i].to);
		histogram_n(f, "minidns_forward_request_duration_seconds",
		    labels, counts, dur_le, NELEMS(dur_le),
		    WSUM(fwd_dur_sum_us[i]), 1000000);
	}
}

static void
render_dns(FILE *f)
{
	uint64_t dur[DUR_SLOTS];
	size_t i;

	/* CoreDNS's labels: family 1 (IPv4) or 2 (IPv6); a series appears
	 * with its first query, as CoreDNS's do. */
	family(f, "minidns_dns_requests_total", "counter",
	    "DNS queries received, by transport, address family (1 IPv4, 2 "
	    "IPv6) and query type.");
	for (i = 0; i < MD_METRIC_TRANSPORT_COUNT; i++) {
		for (size_t fam = 0; fam < 2; fam++) {
			for (size_t k = 0; k <= QTYPE_OTHER; k++) {
				uint64_t n = WSUM(by_proto[i][fam][k]);

				if (n == 0)
					continue;
				fprintf(f,
				    "minidns_dns_requests_total{proto=\"%s\","
				    "family=\"%zu\",type=\"%s\"} %" PRIu64 "\n",
				    md_metric_transport_str(i), fam + 1,
				    k < QTYPE_OTHER ? qtypes[k].name : "other",
				    n);
			}
		}
	}
	family(f, "minidns_dns_do_requests_total", "counter",
	    "DNS queries received with the DO bit set.");
	fprintf(f, "minidns_dns_do_requests_total %" PRIu64 "\n",
	    WSUM(do_requests));

	family(f, "minidns_worker_requests_total", "counter",
	    "DNS queries received, by worker thread.");
	for (i = 0; i < atomic_load(&nworkers); i++)
		fprintf(f,
		    "minidns_worker_requests_total{worker=\"%zu\"} %" PRIu64
		    "\n",
		    i, get(&wstats[i].requests));

	family(f, "minidns_dns_requests_by_type_total", "counter",
	    "DNS queries received, by query type.");
	for (i = 0; i <= QTYPE_OTHER; i++)
		fprintf(f,
		    "minidns_dns_requests_by_type_total{type=\"%s\"} %" PRIu64
		    "\n",
		    i < QTYPE_OTHER ? qtypes[i].name : "other",
		    WSUM(by_type[i]));

	family(f, "minidns_dns_responses_total", "counter",
	    "DNS responses sent, by response code.");
	for (i = 0; i < RCODE_SLOTS; i++)
		fprintf(f,
		    "minidns_dns_responses_total{rcode=\"%s\"} %" PRIu64 "\n",
		    rcode_name(i), WSUM(responses_rcode[i]));

	family(f, "minidns_dns_responses_by_source_total", "counter",
	    "DNS responses sent, by where the answer came from.");
	for (i = 0; i < MD_SOURCE_COUNT; i++)
		fprintf(f,
		    "minidns_dns_responses_by_source_total{source=\"%s\"} %" PRIu64
		    "\n",
		    md_metric_source_str(i), WSUM(responses_source[i]));

	family(f, "minidns_dns_request_duration_seconds", "histogram",
	    "Time from a query's arrival to its response.");
	for (i = 0; i < DUR_SLOTS; i++)
		dur[i] = WSUM(dur_bucket[i]);
	histogram_n(f, "minidns_dns_request_duration_seconds", "", dur, dur_le,
	    NELEMS(dur_le), WSUM(dur_sum_us), 1000000);
	render_sizes(f);

	single(f, "minidns_dropped_total", "counter",
	    "Queries that got no response (malformed or overload).",
	    WSUM(dropped));
	single(f, "minidns_acl_refused_total", "counter",
	    "Queries refused by access control.", WSUM(acl_refused));
	single(f, "minidns_rate_limited_total", "counter",
	    "UDP queries dropped by rate-limit.", WSUM(rate_limited));
	single(f, "minidns_prefetch_total", "counter",
	    "Resolutions started to refresh a cache entry (prefetch).",
	    WSUM(prefetches));
	single(f, "minidns_autopath_total", "counter",
	    "Queries answered by a search-path name that Kubernetes autopath "
	    "found (a CNAME to it).",
	    WSUM(autopaths));

	single(f, "minidns_tcp_connections_total", "counter",
	    "TCP and TLS client connections accepted.", WSUM(conns));
	family(f, "minidns_tcp_connections_open", "gauge",
	    "TCP and TLS client connections open now.");
	fprintf(f, "minidns_tcp_connections_open %" PRId64 "\n",
	    (int64_t)(WSUM(conns) - WSUM(conns_closed)));

	family(f, "minidns_zone_reloads_total", "counter",
	    "Zone reloads, by result.");
	fprintf(f,
	    "minidns_zone_reloads_total{result=\"success\"} %" PRIu64 "\n",
	    get(&m.reloads[1]));
	fprintf(f,
	    "minidns_zone_reloads_total{result=\"failure\"} %" PRIu64 "\n",
	    get(&m.reloads[0]));
}

static void
render_upstream(FILE *f, const struct md_metrics_sources *src)
{
	char labels[32];
	size_t c, t;

	family(f, "minidns_upstream_queries_total", "counter",
	    "Queries sent to upstream servers, by class and transport.");
	for (c = 0; c < CLASS_COUNT; c++)
		for (t = 0; t < MD_METRIC_TRANSPORT_COUNT; t++)
			fprintf(f,
			    "minidns_upstream_queries_total{class=\"%s\","
			    "proto=\"%s\"} %" PRIu64 "\n",
			    classes[c], md_metric_transport_str(t),
			    WSUM(up_queries[c][t]));

	family(f, "minidns_upstream_timeouts_total", "counter",
	    "Upstream queries that timed out, by class.");
	for (c = 0; c < CLASS_COUNT; c++)
		fprintf(f,
		    "minidns_upstream_timeouts_total{class=\"%s\"} %" PRIu64
		    "\n",
		    classes[c], WSUM(up_timeouts[c]));

	family(f, "minidns_upstream_rtt_seconds", "histogram",
	    "Round-trip time of upstream queries answered, by class.");
	for (c = 0; c < CLASS_COUNT; c++) {
		uint64_t counts[RTT_SLOTS];

		for (size_t i = 0; i < RTT_SLOTS; i++)
			counts[i] = WSUM(rtt_bucket[c][i]);
		snprintf(labels, sizeof(labels), "class=\"%s\"", classes[c]);
		histogram_n(f, "minidns_upstream_rtt_seconds", labels, counts,
		    rtt_le, NELEMS(rtt_le), WSUM(rtt_sum_ms[c]), 1000);
	}

	render_forward(f);

	if (src != NULL && src->net_stats != NULL) {
		struct md_net_stats ns;

		src->net_stats(src->arg, &ns);
		family(f, "minidns_upstream_mismatched_total", "counter",
		    "Upstream replies that matched no query in flight.");
		fprintf(f, "minidns_upstream_mismatched_total %" PRIu64 "\n",
		    ns.mismatched);
		family(f, "minidns_upstream_errors_total", "counter",
		    "Upstream queries that failed (network or TLS error).");
		fprintf(f, "minidns_upstream_errors_total %" PRIu64 "\n",
		    ns.errors);
	}
}

static void
render_cache(FILE *f, struct md_cache *cache)
{
	struct md_cache_stats cs;

	md_cache_get_stats(cache, &cs);
	family(f, "minidns_cache_hits_total", "counter",
	    "Cache lookups hit, by the entry found: success (an RRset), "
	    "denial (NXDOMAIN, NODATA), servfail (a failure held).");
	fprintf(f, "minidns_cache_hits_total{type=\"success\"} %" PRIu64 "\n",
	    cs.kind_hits[MD_CACHE_RRSET]);
	fprintf(f, "minidns_cache_hits_total{type=\"denial\"} %" PRIu64 "\n",
	    cs.kind_hits[MD_CACHE_NODATA] + cs.kind_hits[MD_CACHE_NXDOMAIN]);
	fprintf(f, "minidns_cache_hits_total{type=\"servfail\"} %" PRIu64 "\n",
	    cs.kind_hits[MD_CACHE_SERVFAIL]);
	family(f, "minidns_cache_misses_total", "counter",
	    "Cache lookups missed.");
	fprintf(f, "minidns_cache_misses_total %" PRIu64 "\n", cs.misses);
	family(f, "minidns_cache_inserts_total", "counter",
	    "Entries stored in the cache.");
	fprintf(f, "minidns_cache_inserts_total %" PRIu64 "\n", cs.inserts);
	family(f, "minidns_cache_evictions_total", "counter",
	    "Entries evicted from the cache to make room.");
	fprintf(f, "minidns_cache_evictions_total %" PRIu64 "\n", cs.evictions);
	family(f, "minidns_cache_entries", "gauge",
	    "Entries in the cache, by type: success (RRsets), denial "
	    "(NXDOMAIN and NODATA), servfail (failures held, RFC 9520), "
	    "parent_glue (parent-side addresses of name servers), dnssec "
	    "(RRSIGs and denial proofs kept beside their data).");
	fprintf(f, "minidns_cache_entries{type=\"success\"} %" PRIu64 "\n",
	    cs.kind_entries[MD_CACHE_RRSET]);
	fprintf(f, "minidns_cache_entries{type=\"denial\"} %" PRIu64 "\n",
	    cs.kind_entries[MD_CACHE_NODATA] +
		cs.kind_entries[MD_CACHE_NXDOMAIN]);
	fprintf(f, "minidns_cache_entries{type=\"servfail\"} %" PRIu64 "\n",
	    cs.kind_entries[MD_CACHE_SERVFAIL]);
	fprintf(f, "minidns_cache_entries{type=\"parent_glue\"} %" PRIu64 "\n",
	    cs.kind_entries[MD_CACHE_PARENT]);
	fprintf(f, "minidns_cache_entries{type=\"dnssec\"} %" PRIu64 "\n",
	    cs.kind_entries[MD_CACHE_SIGS] + cs.kind_entries[MD_CACHE_PROOF]);
	family(
	    f, "minidns_cache_bytes", "gauge", "Memory held by cache entries.");
	fprintf(f, "minidns_cache_bytes %" PRIu64 "\n", cs.bytes);
}

static void
render_k8s(FILE *f, const struct md_k8s *k8s)
{
	struct md_k8s_status st;
	uint64_t now = md_now_ms();
	uint64_t stale = 0;

	md_k8s_get_status(k8s, &st);
	/* stale_ms is the md_now_ms() when the API went away, or 0 */
	if (!st.connected && st.stale_ms != 0 && now > st.stale_ms)
		stale = now - st.stale_ms;

	family(f, "minidns_kubernetes_synced", "gauge",
	    "1 once every Kubernetes list has completed.");
	fprintf(f, "minidns_kubernetes_synced %d\n", st.synced ? 1 : 0);
	family(f, "minidns_kubernetes_connected", "gauge",
	    "1 while the Kubernetes watches are open.");
	fprintf(f, "minidns_kubernetes_connected %d\n", st.connected ? 1 : 0);
	/* no sample before the first event: there is no age to give */
	if (st.last_event_ms != 0) {
		uint64_t age =
		    now > st.last_event_ms ? now - st.last_event_ms : 0;

		family(f, "minidns_kubernetes_last_event_age_seconds", "gauge",
		    "Time since the last Kubernetes event or list.");
		fprintf(f,
		    "minidns_kubernetes_last_event_age_seconds %" PRIu64
		    ".%03" PRIu64 "\n",
		    age / 1000, age % 1000);
	}
	family(f, "minidns_kubernetes_stale_seconds", "gauge",
	    "Time the Kubernetes API has been unreachable (0: connected).");
	fprintf(f,
	    "minidns_kubernetes_stale_seconds %" PRIu64 ".%03" PRIu64 "\n",
	    stale / 1000, stale % 1000);
	family(f, "minidns_kubernetes_relists_total", "counter",
	    "Kubernetes relists (after 410 Gone or reconnects).");
	fprintf(f, "minidns_kubernetes_relists_total %u\n", st.relists);
	family(f, "minidns_kubernetes_errors_total", "counter",
	    "Malformed Kubernetes objects or events skipped.");
	fprintf(f, "minidns_kubernetes_errors_total %u\n", st.errors);
	family(f, "minidns_kubernetes_watch_stalls_total", "counter",
	    "Kubernetes watches dropped after watch-timeout seconds without "
	    "an event or a bookmark (a frozen API server).");
	fprintf(f, "minidns_kubernetes_watch_stalls_total %u\n", st.stalls);

	family(f, "minidns_kubernetes_dns_programming_duration_seconds",
	    "histogram",
	    "Time from an EndpointSlice's change in the API (its "
	    "last-change-trigger-time) to its records being served, by the "
	    "kind of its Service.");
	for (size_t k = 0; k < MD_K8S_SVC_KIND_COUNT; k++) {
		char labels[64];

		snprintf(labels, sizeof(labels), "service_kind=\"%s\"",
		    md_k8s_service_kind_str(k));
		histogram_n(f,
		    "minidns_kubernetes_dns_programming_duration_seconds",
		    labels, st.prog_count[k], prog_le, MD_K8S_PROG_BUCKETS,
		    st.prog_sum_us[k], 1000000);
	}
}

/*
 * The process_* metrics of the Prometheus client libraries (what the
 * CoreDNS dashboards read besides the DNS series): CPU time, resident
 * and virtual memory and the start time from /proc/self/stat, open
 * descriptors from /proc/self/fd, their limit from getrlimit().  What
 * cannot be read is left out, never made up.
 */
static void
render_process(FILE *f)
{
	char buf[1024], *p;
	FILE *st = fopen("/proc/self/stat", "r");
	unsigned long long utime, stime, vsize;
	long long rss;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	DIR *d;

	if (st != NULL && fgets(buf, sizeof(buf), st) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && tck > 0 && page > 0 &&
	    /* after "pid (comm)": state ppid ... utime(14) stime(15) ...
	     * vsize(23) rss(24), counted from the state (3) */
	    sscanf(p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		"%*d %*d %*d %*d %*d %*d %*u %llu %lld",
		&utime, &stime, &vsize, &rss) == 4) {
		unsigned long long t = utime + stime;

		family(f, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		fprintf(f, "process_cpu_seconds_total %llu.%02llu\n",
		    t / (unsigned long long)tck,
		    (t % (unsigned long long)tck) * 100 /
			(unsigned long long)tck);
		family(f, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.");
		fprintf(f, "process_virtual_memory_bytes %llu\n", vsize);
		family(f, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		fprintf(f, "process_resident_memory_bytes %lld\n",
		    rss * (long long)page);
	}
	if (st != NULL)
		fclose(st);
	d = opendir("/proc/self/fd");
	if (d != NULL) {
		unsigned long n = 0;

		while (readdir(d) != NULL)
			n++;
		closedir(d);
		/* ".", ".." and the descriptor of the listing itself */
		family(f, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		fprintf(f, "process_open_fds %lu\n", n >= 3 ? n - 3 : 0);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		family(f, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		fprintf(f, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}

static void
loop_zone_line(void *ctx, const char *zone, bool looped)
{
	FILE *f = ctx;

	fputs("minidns_forward_loop{zone=\"", f);
	for (const char *p = zone; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fprintf(f, "\"} %d\n", looped ? 1 : 0);
}

/* Answers by DNSSEC state (every state shown, 0 until seen), and the
 * negative trust anchors in force. */
static void
render_dnssec(FILE *f, const struct md_metrics_sources *src)
{
	static const enum md_security states[] = {
	    MD_SEC_SECURE, MD_SEC_INSECURE, MD_SEC_BOGUS, MD_SEC_INDETERMINATE};

	family(f, "minidns_dnssec_answers_total", "counter",
	    "Answers by what DNSSEC validation found of them (answers not "
	    "validated are not counted).");
	for (size_t i = 0; i < NELEMS(states); i++)
		fprintf(f,
		    "minidns_dnssec_answers_total{state=\"%s\"} %" PRIu64 "\n",
		    md_security_str(states[i]), WSUM(dnssec[states[i]]));
	if (src != NULL && src->negative_trust_anchors != NULL) {
		single(f, "minidns_dnssec_negative_trust_anchors", "gauge",
		    "Negative trust anchors in force (minidns-control nta).",
		    (uint64_t)src->negative_trust_anchors(src->arg));
	}
}

char *
md_metrics_render(const struct md_metrics_sources *src)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int bad;

	f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	render_dns(f);
	render_upstream(f, src);
	if (src != NULL && src->cache != NULL)
		render_cache(f, src->cache);
	if (src != NULL && src->k8s != NULL)
		render_k8s(f, src->k8s);
	render_dnssec(f, src);
	if (src != NULL && src->forward_zones != NULL) {
		family(f, "minidns_forward_loop", "gauge",
		    "1 while the forward zone loops back to this server "
		    "(loop-detect), else 0.");
		src->forward_zones(src->arg, loop_zone_line, f);
	}
	family(f, "minidns_build_info", "gauge",
	    "Always 1; the labels say which minidns this is.");
	fprintf(f, "minidns_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	family(f, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch.");
	fprintf(f, "process_start_time_seconds %" PRId64 "\n",
	    (int64_t)atomic_load(&m.start_time));
	render_process(f);
	bad = ferror(f);
	/* open_memstream: the buffer is final (or NULL) once closed */
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}
