/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_metrics.c - the counters of metrics.h and their Prometheus text
 * rendering: bump counters, render, parse every line of the page (HELP,
 * TYPE or NAME{labels} VALUE), check histograms are cumulative and end at
 * +Inf = _count, and that the values moved by what was counted (the
 * per-worker size histograms and per-forwarder series summed over the
 * workers, the forwarders' label set bounded, cache entries by type).
 * Then the
 * HTTP side on 127.0.0.1 with an ephemeral port: /metrics, /health,
 * /ready (503 until the zones are loaded), 404, 405.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "unit.h"

#include "minidns/cache.h"
#include "minidns/metrics.h"
#include "minidns/upstream.h"

#define SAMPLES_MAX 2048

struct sample {
	char name[96];
	char labels[160]; /* without braces; "" when none */
	double value;
};

struct page {
	struct sample s[SAMPLES_MAX];
	size_t n;
};

/* Parse a whole page strictly; fails the test on any malformed line. */
static void
parse_page(const char *text, struct page *p)
{
	regex_t re_name, re_sample;
	char typed[96] = "";
	const char *line = text, *nl;
	char buf[512];
	regmatch_t mt[6];

	assert_int_equal(
	    regcomp(&re_name, "^(minidns_[a-z_]+|process_[a-z_]+)$",
		REG_EXTENDED | REG_NOSUB),
	    0);
	assert_int_equal(
	    regcomp(&re_sample,
		"^([a-z_]+)(\\{([a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*)\\})? "
		"([-+0-9.eE]+|\\+Inf)$",
		REG_EXTENDED),
	    0);
	p->n = 0;
	while (*line != '\0') {
		size_t len;

		nl = strchr(line, '\n');
		assert_non_null(nl); /* every line ends with \n */
		len = (size_t)(nl - line);
		assert_true(len > 0 && len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		if (strncmp(buf, "# HELP ", 7) == 0) {
			char *sp = strchr(buf + 7, ' ');

			assert_non_null(sp);
			*sp = '\0';
			assert_int_equal(
			    regexec(&re_name, buf + 7, 0, NULL, 0), 0);
			assert_true(sp[1] != '\0'); /* some help text */
			continue;
		}
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			char *sp = strchr(buf + 7, ' ');

			assert_non_null(sp);
			*sp = '\0';
			assert_int_equal(
			    regexec(&re_name, buf + 7, 0, NULL, 0), 0);
			assert_true(strcmp(sp + 1, "counter") == 0 ||
			    strcmp(sp + 1, "gauge") == 0 ||
			    strcmp(sp + 1, "histogram") == 0);
			md_strlcpy(typed, buf + 7, sizeof(typed));
			/* counters end in _total */
			if (strcmp(sp + 1, "counter") == 0)
				assert_non_null(strstr(typed, "_total"));
			continue;
		}
		if (regexec(&re_sample, buf, 6, mt, 0) != 0)
			fail_msg("malformed line: '%s'", buf);
		assert_true(p->n < SAMPLES_MAX);
		{
			struct sample *s = &p->s[p->n++];
			size_t nlen = (size_t)(mt[1].rm_eo - mt[1].rm_so);
			char *end;

			assert_true(nlen < sizeof(s->name));
			memcpy(s->name, buf, nlen);
			s->name[nlen] = '\0';
			s->labels[0] = '\0';
			if (mt[3].rm_so >= 0) {
				size_t llen =
				    (size_t)(mt[3].rm_eo - mt[3].rm_so);

				assert_true(llen < sizeof(s->labels));
				memcpy(s->labels, buf + mt[3].rm_so, llen);
				s->labels[llen] = '\0';
			}
			assert_int_equal(
			    regexec(&re_name, s->name, 0, NULL, 0), 0);
			/* a sample belongs to the family typed last */
			assert_int_equal(
			    strncmp(s->name, typed, strlen(typed)), 0);
			if (strcmp(buf + mt[5].rm_so, "+Inf") == 0)
				s->value = INFINITY;
			else {
				s->value = strtod(buf + mt[5].rm_so, &end);
				assert_true(*end == '\0');
			}
		}
	}
	regfree(&re_name);
	regfree(&re_sample);
}

/* The value of NAME{LABELS}; fails the test when absent. */
static double
val(const struct page *p, const char *name, const char *labels)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strcmp(p->s[i].labels, labels) == 0)
			return p->s[i].value;
	fail_msg("no sample %s{%s}", name, labels);
	return -1;
}

/* The sum of name's samples whose labels start with prefix (none: 0). */
static double
sumv(const struct page *p, const char *name, const char *prefix)
{
	double sum = 0;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strncmp(p->s[i].labels, prefix, strlen(prefix)) == 0)
			sum += p->s[i].value;
	return sum;
}

static bool
has(const struct page *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0)
			return true;
	return false;
}

/* Is there a sample NAME{LABELS}? */
static bool
has_sample(const struct page *p, const char *name, const char *labels)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strcmp(p->s[i].labels, labels) == 0)
			return true;
	return false;
}

/*
 * Check one histogram (with 'prefix' labels, "" or `class="x",`):
 * buckets cumulative, ascending le, last +Inf equal to _count.
 */
static void
check_histogram(const struct page *p, const char *name, const char *prefix)
{
	char bucket[128], sumn[128], countn[128], lab[128];
	double last = -1, lastle = -1, inf = -1;
	size_t i, nb = 0, plen = strlen(prefix);

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(sumn, sizeof(sumn), "%s_sum", name);
	snprintf(countn, sizeof(countn), "%s_count", name);
	for (i = 0; i < p->n; i++) {
		const struct sample *s = &p->s[i];
		double le;

		if (strcmp(s->name, bucket) != 0 ||
		    strncmp(s->labels, prefix, plen) != 0 ||
		    strncmp(s->labels + plen, "le=\"", 4) != 0)
			continue;
		le = strcmp(s->labels + plen + 4, "+Inf\"") == 0
		    ? INFINITY
		    : strtod(s->labels + plen + 4, NULL);
		assert_true(le > lastle);
		assert_true(s->value >= last);
		lastle = le;
		last = s->value;
		nb++;
		if (isinf(le))
			inf = s->value;
	}
	assert_true(nb >= 2);
	assert_true(isinf(lastle));
	md_strlcpy(lab, prefix, sizeof(lab));
	if (plen > 0)
		lab[plen - 1] = '\0'; /* the trailing comma */
	assert_true(inf == val(p, countn, lab));
	assert_true(val(p, sumn, lab) >= 0);
}

static void
render(const struct md_metrics_sources *src, struct page *p)
{
	char *text = md_metrics_render(src);

	assert_non_null(text);
	parse_page(text, p);
	free(text);
}

static void
test_render_and_count(void **state)
{
	struct page *a = calloc(2, sizeof(*a)), *b = a + 1;
	struct md_metrics_sources src = {0};
	const char *cls;

	(void)state;
	assert_non_null(a);
	md_metrics_set_workers(2);
	render(&src, a);
	check_histogram(a, "minidns_dns_request_duration_seconds", "");
	check_histogram(
	    a, "minidns_upstream_rtt_seconds", "class=\"forward\",");
	check_histogram(
	    a, "minidns_upstream_rtt_seconds", "class=\"recursion\",");
	assert_true(val(a, "minidns_build_info",
			"version=\"" PACKAGE_VERSION "\"") == 1);
	assert_true(val(a, "process_start_time_seconds", "") > 1.5e9);
	/* the Prometheus clients' process_* set, read from /proc */
	assert_true(val(a, "process_resident_memory_bytes", "") > 100000);
	assert_true(val(a, "process_virtual_memory_bytes", "") >=
	    val(a, "process_resident_memory_bytes", ""));
	assert_true(val(a, "process_cpu_seconds_total", "") >= 0);
	assert_true(val(a, "process_open_fds", "") >= 3);
	assert_true(
	    val(a, "process_max_fds", "") >= val(a, "process_open_fds", ""));
	/* no cache, no Kubernetes: their metrics are absent (the
	 * rate-limit counter is always there) */
	assert_false(has(a, "minidns_cache_hits_total"));
	assert_false(has(a, "minidns_kubernetes_synced"));
	assert_true(has(a, "minidns_rate_limited_total"));
	assert_true(has(a, "minidns_prefetch_total"));
	assert_true(has(a, "minidns_autopath_total"));

	/* spread over workers and the shared slot: a scrape sums them */
	md_metrics_request(0, MD_METRIC_UDP, 1, false, false); /* A */
	md_metrics_request(1, MD_METRIC_UDP, 28, true, true); /* AAAA, v6, DO */
	md_metrics_request(0, MD_METRIC_TCP, 1, false, true); /* A, DO */
	md_metrics_request(MD_METRICS_NO_WORKER, MD_METRIC_TLS, 4242, false,
	    false);						/* other */
	md_metrics_request(1, MD_METRIC_UDP, 64, false, false); /* SVCB */
	md_metrics_response(0, 0, MD_SOURCE_LOCAL, 100);	/* le 0.00025 */
	md_metrics_response(1, 3, MD_SOURCE_CACHE, 1500);	/* le 0.002 */
	md_metrics_response(0, 5, MD_SOURCE_ERROR, 20000000);	/* +Inf */
	md_metrics_response(
	    MD_METRICS_NO_WORKER, 16, MD_SOURCE_RECURSION, 250); /* BADVERS */
	md_metrics_response(1, 13, MD_SOURCE_FORWARD, 8192000);	 /* other */
	md_metrics_dropped(0);
	md_metrics_refused_acl(0);
	md_metrics_refused_acl(1);
	md_metrics_rate_limited(1);
	md_metrics_rate_limited(1);
	md_metrics_rate_limited(MD_METRICS_NO_WORKER);
	md_metrics_prefetch(0);
	md_metrics_autopath(1);
	md_metrics_autopath(0);
	/* a connection closed on another worker than the two opened: the
	 * open gauge is the sum */
	md_metrics_conn(0, true);
	md_metrics_conn(0, true);
	md_metrics_conn(1, false);
	md_metrics_upstream(0, false, MD_METRIC_UDP);
	md_metrics_upstream(1, false, MD_METRIC_TCP);
	md_metrics_upstream(0, true, MD_METRIC_TLS);
	md_metrics_upstream_done(1, false, false, 3);
	md_metrics_upstream_done(0, false, true, 0);
	md_metrics_upstream_done(MD_METRICS_NO_WORKER, true, false, 10000);
	md_metrics_reload(true);
	md_metrics_reload(false);
	md_metrics_reload(true);
	/* sizes, on several workers: summed at render time */
	md_metrics_request_size(0, MD_METRIC_UDP, 0);	 /* le 0 */
	md_metrics_request_size(5, MD_METRIC_UDP, 40);	 /* le 100 */
	md_metrics_request_size(63, MD_METRIC_UDP, 100); /* le 100 */
	md_metrics_request_size(1, MD_METRIC_TCP, 511);	 /* le 511 */
	md_metrics_request_size(
	    MD_METRICS_NO_WORKER, MD_METRIC_TCP, 50);	   /* the shared slot */
	md_metrics_response_size(2, MD_METRIC_UDP, 512);   /* le 1023 */
	md_metrics_response_size(2, MD_METRIC_UDP, 8291);  /* le 8291 */
	md_metrics_response_size(3, MD_METRIC_TLS, 70000); /* +Inf */
	/* DNSSEC states, per worker, summed; unchecked is not counted */
	md_metrics_dnssec(0, MD_SEC_SECURE);
	md_metrics_dnssec(7, MD_SEC_SECURE);
	md_metrics_dnssec(1, MD_SEC_BOGUS);
	md_metrics_dnssec(1, MD_SEC_INDETERMINATE);
	md_metrics_dnssec(2, MD_SEC_UNCHECKED);
	md_metrics_dnssec(1000, MD_SEC_INSECURE); /* the shared slot too */
	render(&src, b);

#define DELTA(name, labels) (val(b, name, labels) - val(a, name, labels))
#define SUMDELTA(name, prefix) (sumv(b, name, prefix) - sumv(a, name, prefix))
	assert_true(
	    SUMDELTA("minidns_dns_requests_total", "proto=\"udp\",") == 3);
	assert_true(
	    SUMDELTA("minidns_dns_requests_total", "proto=\"tcp\",") == 1);
	assert_true(
	    SUMDELTA("minidns_dns_requests_total", "proto=\"tls\",") == 1);
	/* CoreDNS's labels: family 1 or 2, and the type */
	assert_true(SUMDELTA("minidns_dns_requests_total",
			"proto=\"udp\",family=\"2\",type=\"AAAA\"") == 1);
	assert_true(SUMDELTA("minidns_dns_requests_total",
			"proto=\"udp\",family=\"1\",type=\"A\"") == 1);
	assert_true(SUMDELTA("minidns_dns_requests_total",
			"proto=\"tls\",family=\"1\",type=\"other\"") == 1);
	assert_true(DELTA("minidns_dns_do_requests_total", "") == 2);
	/* per worker: only the two that run are shown; the shared slot's
	 * query counts in the totals above */
	assert_true(
	    DELTA("minidns_worker_requests_total", "worker=\"0\"") == 2);
	assert_true(
	    DELTA("minidns_worker_requests_total", "worker=\"1\"") == 2);
	assert_false(
	    has_sample(b, "minidns_worker_requests_total", "worker=\"2\""));
	assert_true(
	    DELTA("minidns_dns_requests_by_type_total", "type=\"A\"") == 2);
	assert_true(
	    DELTA("minidns_dns_requests_by_type_total", "type=\"AAAA\"") == 1);
	assert_true(
	    DELTA("minidns_dns_requests_by_type_total", "type=\"SVCB\"") == 1);
	assert_true(
	    DELTA("minidns_dns_requests_by_type_total", "type=\"other\"") == 1);
	assert_true(
	    DELTA("minidns_dns_requests_by_type_total", "type=\"MX\"") == 0);
	assert_true(
	    DELTA("minidns_dns_responses_total", "rcode=\"NOERROR\"") == 1);
	assert_true(
	    DELTA("minidns_dns_responses_total", "rcode=\"NXDOMAIN\"") == 1);
	assert_true(
	    DELTA("minidns_dns_responses_total", "rcode=\"REFUSED\"") == 1);
	assert_true(
	    DELTA("minidns_dns_responses_total", "rcode=\"BADVERS\"") == 1);
	assert_true(
	    DELTA("minidns_dns_responses_total", "rcode=\"other\"") == 1);
	assert_true(
	    DELTA("minidns_dns_responses_total", "rcode=\"NOTZONE\"") == 0);
	assert_true(DELTA("minidns_dns_responses_by_source_total",
			"source=\"local\"") == 1);
	assert_true(DELTA("minidns_dns_responses_by_source_total",
			"source=\"cache\"") == 1);
	assert_true(DELTA("minidns_dns_responses_by_source_total",
			"source=\"error\"") == 1);
	assert_true(DELTA("minidns_dns_responses_by_source_total",
			"source=\"recursion\"") == 1);
	assert_true(DELTA("minidns_dns_responses_by_source_total",
			"source=\"forward\"") == 1);
	/* buckets: 100 us and 250 us in le 0.00025; 1500 us by 0.002 */
	assert_true(DELTA("minidns_dns_request_duration_seconds_bucket",
			"le=\"0.00025\"") == 2);
	assert_true(DELTA("minidns_dns_request_duration_seconds_bucket",
			"le=\"0.001\"") == 2);
	assert_true(DELTA("minidns_dns_request_duration_seconds_bucket",
			"le=\"0.002\"") == 3);
	assert_true(DELTA("minidns_dns_request_duration_seconds_bucket",
			"le=\"8.192\"") == 4);
	assert_true(DELTA("minidns_dns_request_duration_seconds_bucket",
			"le=\"+Inf\"") == 5);
	assert_true(
	    DELTA("minidns_dns_request_duration_seconds_count", "") == 5);
	assert_true(fabs(DELTA("minidns_dns_request_duration_seconds_sum", "") -
			28.19385) < 1e-6);
	assert_true(DELTA("minidns_dropped_total", "") == 1);
	assert_true(DELTA("minidns_acl_refused_total", "") == 2);
	assert_true(DELTA("minidns_rate_limited_total", "") == 3);
	assert_true(DELTA("minidns_prefetch_total", "") == 1);
	assert_true(DELTA("minidns_autopath_total", "") == 2);
	assert_true(DELTA("minidns_tcp_connections_total", "") == 2);
	assert_true(DELTA("minidns_tcp_connections_open", "") == 1);
	cls = "class=\"recursion\",proto=\"udp\"";
	assert_true(DELTA("minidns_upstream_queries_total", cls) == 1);
	cls = "class=\"recursion\",proto=\"tcp\"";
	assert_true(DELTA("minidns_upstream_queries_total", cls) == 1);
	cls = "class=\"forward\",proto=\"tls\"";
	assert_true(DELTA("minidns_upstream_queries_total", cls) == 1);
	cls = "class=\"forward\",proto=\"udp\"";
	assert_true(DELTA("minidns_upstream_queries_total", cls) == 0);
	assert_true(DELTA("minidns_upstream_timeouts_total",
			"class=\"recursion\"") == 1);
	assert_true(
	    DELTA("minidns_upstream_timeouts_total", "class=\"forward\"") == 0);
	assert_true(DELTA("minidns_upstream_rtt_seconds_bucket",
			"class=\"recursion\",le=\"0.002\"") == 0);
	assert_true(DELTA("minidns_upstream_rtt_seconds_bucket",
			"class=\"recursion\",le=\"0.004\"") == 1);
	assert_true(DELTA("minidns_upstream_rtt_seconds_bucket",
			"class=\"forward\",le=\"8.192\"") == 0);
	assert_true(DELTA("minidns_upstream_rtt_seconds_bucket",
			"class=\"forward\",le=\"+Inf\"") == 1);
	assert_true(fabs(DELTA("minidns_upstream_rtt_seconds_sum",
			     "class=\"forward\"") -
			10.0) < 1e-9);
	assert_true(
	    DELTA("minidns_zone_reloads_total", "result=\"success\"") == 2);
	assert_true(
	    DELTA("minidns_zone_reloads_total", "result=\"failure\"") == 1);
	assert_true(DELTA("minidns_dns_request_size_bytes_bucket",
			"proto=\"udp\",le=\"0\"") == 1);
	assert_true(DELTA("minidns_dns_request_size_bytes_bucket",
			"proto=\"udp\",le=\"100\"") == 3);
	assert_true(DELTA("minidns_dns_request_size_bytes_count",
			"proto=\"udp\"") == 3);
	assert_true(DELTA("minidns_dns_request_size_bytes_sum",
			"proto=\"udp\"") == 140);
	assert_true(DELTA("minidns_dns_request_size_bytes_bucket",
			"proto=\"tcp\",le=\"400\"") == 1);
	assert_true(DELTA("minidns_dns_request_size_bytes_bucket",
			"proto=\"tcp\",le=\"511\"") == 2);
	assert_true(DELTA("minidns_dns_request_size_bytes_count",
			"proto=\"tcp\"") == 2);
	assert_true(DELTA("minidns_dns_request_size_bytes_count",
			"proto=\"tls\"") == 0);
	assert_true(DELTA("minidns_dns_response_size_bytes_bucket",
			"proto=\"udp\",le=\"511\"") == 0);
	assert_true(DELTA("minidns_dns_response_size_bytes_bucket",
			"proto=\"udp\",le=\"1023\"") == 1);
	assert_true(DELTA("minidns_dns_response_size_bytes_bucket",
			"proto=\"udp\",le=\"8291\"") == 2);
	assert_true(DELTA("minidns_dns_response_size_bytes_sum",
			"proto=\"udp\"") == 8803);
	assert_true(DELTA("minidns_dns_response_size_bytes_bucket",
			"proto=\"tls\",le=\"64000\"") == 0);
	assert_true(DELTA("minidns_dns_response_size_bytes_bucket",
			"proto=\"tls\",le=\"+Inf\"") == 1);
	assert_true(
	    DELTA("minidns_dnssec_answers_total", "state=\"secure\"") == 2);
	assert_true(
	    DELTA("minidns_dnssec_answers_total", "state=\"insecure\"") == 1);
	assert_true(
	    DELTA("minidns_dnssec_answers_total", "state=\"bogus\"") == 1);
	assert_true(DELTA("minidns_dnssec_answers_total",
			"state=\"indeterminate\"") == 1);
	/* the unchecked one counted nowhere */
	assert_true(SUMDELTA("minidns_dnssec_answers_total", "") == 5);
	/* the NTA gauge only with its source */
	assert_false(has(b, "minidns_dnssec_negative_trust_anchors"));
#undef DELTA
	for (int t = 0; t < MD_METRIC_TRANSPORT_COUNT; t++) {
		char lab[32];

		snprintf(lab, sizeof(lab), "proto=\"%s\",",
		    md_metric_transport_str(t));
		check_histogram(b, "minidns_dns_request_size_bytes", lab);
		check_histogram(b, "minidns_dns_response_size_bytes", lab);
	}
	check_histogram(b, "minidns_dns_request_duration_seconds", "");
	check_histogram(
	    b, "minidns_upstream_rtt_seconds", "class=\"forward\",");
	check_histogram(
	    b, "minidns_upstream_rtt_seconds", "class=\"recursion\",");
	free(a);
}

static void
test_render_cache(void **state)
{
	struct md_cache_conf conf;
	struct md_metrics_sources src = {0};
	struct page *p = calloc(1, sizeof(*p));

	(void)state;
	assert_non_null(p);
	md_cache_conf_init(&conf);
	src.cache = md_cache_new(&conf);
	assert_non_null(src.cache);
	render(&src, p);
	assert_true(
	    val(p, "minidns_cache_hits_total", "type=\"success\"") == 0);
	assert_true(val(p, "minidns_cache_hits_total", "type=\"denial\"") == 0);
	assert_true(val(p, "minidns_cache_misses_total", "") == 0);
	assert_true(val(p, "minidns_cache_evictions_total", "") == 0);
	assert_true(val(p, "minidns_cache_entries", "type=\"success\"") == 0);
	assert_true(val(p, "minidns_cache_entries", "type=\"denial\"") == 0);
	assert_true(val(p, "minidns_cache_bytes", "") == 0);
	md_cache_free(src.cache);
	free(p);
}

/* Cache entries by type follow what is stored, replaced and flushed. */
static void
test_render_cache_types(void **state)
{
	static const uint8_t a_name[] = "\x01"
					"a\x04test";
	static const uint8_t b_name[] = "\x01"
					"b\x04test";
	static const uint8_t nx_name[] = "\x02"
					 "nx\x04test";
	static const uint8_t rd[] = {0, 4, 192, 0, 2, 1};
	struct md_cache_conf conf;
	struct md_metrics_sources src = {0};
	struct page *p = calloc(1, sizeof(*p));
	const uint64_t now = 1000000;

	(void)state;
	assert_non_null(p);
	md_cache_conf_init(&conf);
	src.cache = md_cache_new(&conf);
	assert_non_null(src.cache);
	assert_int_equal(md_cache_put(src.cache, a_name, 1, 300, rd, sizeof(rd),
			     1, MD_TRUST_ANSWER, now),
	    0);
	assert_int_equal(md_cache_put(src.cache, b_name, 1, 300, rd, sizeof(rd),
			     1, MD_TRUST_ANSWER, now),
	    0);
	/* NODATA for a/AAAA, NXDOMAIN for nx: two denials */
	assert_int_equal(md_cache_put_negative(src.cache, a_name, 28, false, 60,
			     NULL, NULL, 0, MD_TRUST_ANSWER, now),
	    0);
	assert_int_equal(md_cache_put_negative(src.cache, nx_name, 0, true, 60,
			     NULL, NULL, 0, MD_TRUST_ANSWER, now),
	    0);
	assert_int_equal(
	    md_cache_put_failure(src.cache, b_name, 16, 5, 0, now), 0);
	/* the same RRset again replaces, does not add */
	assert_int_equal(md_cache_put(src.cache, a_name, 1, 300, rd, sizeof(rd),
			     1, MD_TRUST_ANSWER, now),
	    0);
	render(&src, p);
	assert_true(val(p, "minidns_cache_entries", "type=\"success\"") == 2);
	assert_true(val(p, "minidns_cache_entries", "type=\"denial\"") == 2);
	assert_true(val(p, "minidns_cache_entries", "type=\"servfail\"") == 1);
	assert_true(
	    val(p, "minidns_cache_entries", "type=\"parent_glue\"") == 0);
	/* hits by the entry found: a success, two denials, a failure */
	{
		uint8_t buf[512];
		struct md_cache_view v;

		assert_int_equal(md_cache_get(src.cache, a_name, 1, now, false,
				     buf, sizeof(buf), &v),
		    0);
		assert_int_equal(md_cache_get(src.cache, a_name, 28, now, false,
				     buf, sizeof(buf), &v),
		    0);
		assert_int_equal(md_cache_get(src.cache, nx_name, 1, now, false,
				     buf, sizeof(buf), &v),
		    0);
		assert_int_equal(md_cache_get(src.cache, b_name, 16, now, false,
				     buf, sizeof(buf), &v),
		    0);
		render(&src, p);
		assert_true(val(p, "minidns_cache_hits_total",
				"type=\"success\"") == 1);
		assert_true(
		    val(p, "minidns_cache_hits_total", "type=\"denial\"") == 2);
		assert_true(val(p, "minidns_cache_hits_total",
				"type=\"servfail\"") == 1);
	}
	md_cache_flush(src.cache, b_name);
	render(&src, p);
	assert_true(val(p, "minidns_cache_entries", "type=\"success\"") == 1);
	assert_true(val(p, "minidns_cache_entries", "type=\"servfail\"") == 0);
	md_cache_flush(src.cache, NULL);
	render(&src, p);
	assert_true(val(p, "minidns_cache_entries", "type=\"success\"") == 0);
	assert_true(val(p, "minidns_cache_entries", "type=\"denial\"") == 0);
	md_cache_free(src.cache);
	free(p);
}

static struct md_upstream
upstream(const char *s)
{
	struct md_upstream up;

	assert_int_equal(md_upstream_parse(s, &up), 0);
	return up;
}

/* Per forwarder: its `to` label, requests, replies by rcode, durations,
 * summed over the workers; at most MD_METRICS_FORWARDS_MAX of them. */
static void
test_forward(void **state)
{
	struct page *p = calloc(1, sizeof(*p));
	struct md_upstream u1 = upstream("127.0.0.1:5301");
	struct md_upstream u2 = upstream("tls://127.0.0.2#dns.test");
	struct md_upstream u2b = upstream("tls://127.0.0.2:853#other.test");
	struct md_upstream u3 = upstream("[::1]:53");
	struct md_upstream u4 = upstream("tcp://127.0.0.1:5301");
	const char *to1 = "to=\"127.0.0.1:5301\"";
	char name[64];
	int s1;

	(void)state;
	assert_non_null(p);
	md_metrics_forward_sent(0, &u1);
	md_metrics_forward_sent(7, &u1);
	md_metrics_forward_sent(7, &u1);
	md_metrics_forward_reply(0, &u1, 0, 300);     /* le 0.0005 */
	md_metrics_forward_reply(7, &u1, 3, 3000);    /* le 0.004 */
	md_metrics_forward_reply(7, &u1, 3, 9000000); /* +Inf */
	md_metrics_forward_sent(1, &u2);
	md_metrics_forward_sent(2, &u2b); /* the same server */
	md_metrics_forward_reply(1, &u2, 2, 1000);
	md_metrics_forward_sent(3, &u3);
	md_metrics_forward_sent(3, &u4); /* the same address over TCP */
	md_metrics_forward_healthcheck_failed(0, &u1);
	md_metrics_forward_healthcheck_failed(5, &u1);
	render(NULL, p);
	assert_true(val(p, "minidns_forward_requests_total", to1) == 3);
	assert_true(
	    val(p, "minidns_forward_healthcheck_failures_total", to1) == 2);
	assert_true(val(p, "minidns_forward_responses_total",
			"to=\"127.0.0.1:5301\",rcode=\"NOERROR\"") == 1);
	assert_true(val(p, "minidns_forward_responses_total",
			"to=\"127.0.0.1:5301\",rcode=\"NXDOMAIN\"") == 2);
	assert_true(val(p, "minidns_forward_request_duration_seconds_bucket",
			"to=\"127.0.0.1:5301\",le=\"0.00025\"") == 0);
	assert_true(val(p, "minidns_forward_request_duration_seconds_bucket",
			"to=\"127.0.0.1:5301\",le=\"0.0005\"") == 1);
	assert_true(val(p, "minidns_forward_request_duration_seconds_bucket",
			"to=\"127.0.0.1:5301\",le=\"0.004\"") == 2);
	assert_true(val(p, "minidns_forward_request_duration_seconds_bucket",
			"to=\"127.0.0.1:5301\",le=\"8.192\"") == 2);
	assert_true(
	    val(p, "minidns_forward_request_duration_seconds_count", to1) == 3);
	assert_true(
	    fabs(val(p, "minidns_forward_request_duration_seconds_sum", to1) -
		9.0033) < 1e-9);
	assert_true(val(p, "minidns_forward_requests_total",
			"to=\"tls://127.0.0.2:853\"") == 2);
	assert_true(val(p, "minidns_forward_responses_total",
			"to=\"tls://127.0.0.2:853\",rcode=\"SERVFAIL\"") == 1);
	assert_true(
	    val(p, "minidns_forward_requests_total", "to=\"[::1]:53\"") == 1);
	assert_true(val(p, "minidns_forward_requests_total",
			"to=\"tcp://127.0.0.1:5301\"") == 1);
	/* a forwarder that never answered has no duration samples */
	assert_true(val(p, "minidns_forward_request_duration_seconds_count",
			"to=\"[::1]:53\"") == 0);
	check_histogram(p, "minidns_forward_request_duration_seconds",
	    "to=\"127.0.0.1:5301\",");
	check_histogram(
	    p, "minidns_forward_request_duration_seconds", "to=\"[::1]:53\",");

	/* The label set is bounded: new servers past the limit get no
	 * series (and the known ones keep theirs). */
	s1 = md_metrics_forward_slot(&u1);
	assert_true(s1 >= 0);
	for (int i = 0; i < MD_METRICS_FORWARDS_MAX + 8; i++) {
		struct md_upstream u;

		snprintf(name, sizeof(name), "127.0.1.%d:53", i + 1);
		u = upstream(name);
		md_metrics_forward_sent(0, &u);
	}
	assert_int_equal(md_metrics_forward_slot(&u1), s1);
	assert_int_equal(
	    md_metrics_forward_slot(&(struct md_upstream){0}) < 0, 1);
	render(NULL, p);
	{
		size_t n = 0;

		for (size_t i = 0; i < p->n; i++)
			if (strcmp(p->s[i].name,
				"minidns_forward_requests_total") == 0)
				n++;
		assert_int_equal(n, MD_METRICS_FORWARDS_MAX);
	}
	assert_true(val(p, "minidns_forward_requests_total", to1) == 3);
	free(p);
}

static void
test_str(void **state)
{
	(void)state;
	assert_string_equal(md_metric_source_str(MD_SOURCE_CACHE), "cache");
	assert_string_equal(md_metric_source_str(MD_SOURCE_COUNT), "?");
	assert_string_equal(md_metric_transport_str(MD_METRIC_TLS), "tls");
	assert_string_equal(
	    md_metric_transport_str(MD_METRIC_TRANSPORT_COUNT), "?");
}

/* ---- HTTP --------------------------------------------------------------- */

struct fetch {
	int code;
	char ctype[96];
	char body[4096];
	bool done;
};

static void
fetch_done_cb(struct evhttp_request *req, void *arg)
{
	struct fetch *f = arg;
	const char *ct;
	struct evbuffer *in;
	size_t n;

	f->done = true;
	if (req == NULL)
		return;
	f->code = evhttp_request_get_response_code(req);
	ct = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	md_strlcpy(f->ctype, ct != NULL ? ct : "", sizeof(f->ctype));
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_remove(in, f->body, sizeof(f->body) - 1);
	f->body[n > 0 ? n : 0] = '\0';
}

/* One request over a fresh connection; runs the loop until answered. */
static void
fetch(struct event_base *base, uint16_t port, enum evhttp_cmd_type cmd,
    const char *path, struct fetch *f)
{
	struct evhttp_connection *c;
	struct evhttp_request *req;
	int i;

	memset(f, 0, sizeof(*f));
	c = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
	assert_non_null(c);
	evhttp_connection_set_timeout(c, 5);
	req = evhttp_request_new(fetch_done_cb, f);
	assert_non_null(req);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	assert_int_equal(evhttp_make_request(c, req, cmd, path), 0);
	for (i = 0; i < 1000 && !f->done; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_true(f->done);
	evhttp_connection_free(c);
}

/* A free port on 127.0.0.1 (bound, read back, closed). */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static bool loaded;

static bool
zones_loaded(void *arg)
{
	(void)arg;
	return loaded;
}

static void
test_http(void **state)
{
	struct event_base *base = event_base_new();
	struct md_metrics_sources src = {0};
	struct md_metrics_http *h;
	struct fetch *f = calloc(1, sizeof(*f));
	char addr[32], addr2[32], err[256];
	uint16_t port = free_port(), port2 = free_port();

	(void)state;
	assert_non_null(base);
	assert_non_null(f);
	src.zones_loaded = zones_loaded;
	loaded = false;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	snprintf(addr2, sizeof(addr2), "127.0.0.1:%u", port2);
	/* metrics and health share a listener, ready has its own */
	h = md_metrics_http_new(
	    base, addr, addr, addr2, false, 0, &src, err, sizeof(err));
	assert_non_null(h);

	fetch(base, port, EVHTTP_REQ_GET, "/metrics", f);
	assert_int_equal(f->code, 200);
	assert_string_equal(
	    f->ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(f->body,
	    "# TYPE minidns_dns_requests_total "
	    "counter\n"));
	fetch(base, port, EVHTTP_REQ_GET, "/metrics?x=1", f);
	assert_int_equal(f->code, 200);
	fetch(base, port, EVHTTP_REQ_GET, "/health", f);
	assert_int_equal(f->code, 200);
	assert_string_equal(f->body, "OK");
	fetch(base, port, EVHTTP_REQ_HEAD, "/health", f);
	assert_int_equal(f->code, 200);
	assert_string_equal(f->body, "");
	/* /ready is on the other listener only */
	fetch(base, port, EVHTTP_REQ_GET, "/ready", f);
	assert_int_equal(f->code, 404);
	fetch(base, port2, EVHTTP_REQ_GET, "/metrics", f);
	assert_int_equal(f->code, 404);
	fetch(base, port2, EVHTTP_REQ_GET, "/ready", f);
	assert_int_equal(f->code, 503);
	assert_non_null(strstr(f->body, "zones"));
	loaded = true;
	fetch(base, port2, EVHTTP_REQ_GET, "/ready", f);
	assert_int_equal(f->code, 200);
	assert_string_equal(f->body, "OK");
	fetch(base, port, EVHTTP_REQ_GET, "/nope", f);
	assert_int_equal(f->code, 404);
	fetch(base, port, EVHTTP_REQ_POST, "/metrics", f);
	assert_true(f->code == 405 || f->code == 501);

	/* Our own ports again: SO_REUSEPORT lets the next minidnsd (a
	 * restart, a surge pod) bind them beside us. */
	struct md_metrics_http *again = md_metrics_http_new(
	    base, addr, NULL, NULL, false, 0, &src, err, sizeof(err));

	assert_non_null(again);
	md_metrics_http_free(again);
	/* A port another program holds (no SO_REUSEPORT): taken; optional
	 * only warns, else fails. */
	char taken[32];
	uint16_t tport = 0;
	int tfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);

	assert_true(tfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(tfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(tfd, 1), 0);
	assert_int_equal(getsockname(tfd, (struct sockaddr *)&sin, &slen), 0);
	tport = ntohs(sin.sin_port);
	snprintf(taken, sizeof(taken), "127.0.0.1:%u", tport);
	err[0] = '\0';
	assert_null(md_metrics_http_new(
	    base, taken, NULL, NULL, false, 0, &src, err, sizeof(err)));
	assert_non_null(strstr(err, "metrics"));
	md_metrics_http_free(md_metrics_http_new(
	    base, taken, NULL, "off", true, 0, &src, err, sizeof(err)));
	close(tfd);
	/* a bad address fails even when optional */
	assert_null(md_metrics_http_new(
	    base, "nonsense:x", NULL, NULL, true, 0, &src, err, sizeof(err)));
	md_metrics_http_free(h);
	md_metrics_http_free(NULL);

	/* ":PORT" is every IPv4 address: 127.0.0.1 reaches it */
	snprintf(addr, sizeof(addr), ":%u", port);
	h = md_metrics_http_new(
	    base, NULL, addr, NULL, false, 0, &src, err, sizeof(err));
	assert_non_null(h);
	fetch(base, port, EVHTTP_REQ_GET, "/health", f);
	assert_int_equal(f->code, 200);
	md_metrics_http_free(h);
	event_base_free(base);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_str),
	    cmocka_unit_test(test_render_and_count),
	    cmocka_unit_test(test_render_cache),
	    cmocka_unit_test(test_render_cache_types),
	    cmocka_unit_test(test_forward),
	    cmocka_unit_test(test_http),
	};

	md_log_set_level(MD_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
