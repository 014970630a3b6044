/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config.c - unit tests of minidnsd's configuration (src/server/
 * config.c): the documented defaults, every key read from a file, zone
 * paths taken relative to the configuration file's folder, and the
 * "FILE:LINE: key: problem" messages of bad files; the DNSSEC keys
 * (dnssec, trust-anchor-file and its files' errors, domain-insecure,
 * val-bogus-ttl, aggressive-nsec, a forward zone's insecure).  Bad files are written
 * to a fresh temporary folder so each case shows its text and line.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "minidns/config.h"
#include "minidns/util.h"
#include "minidns/zone.h"
#include "unit.h"

static char tmpdir[256];

static int
make_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/md-test-config-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
remove_tmpdir(void **state)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	(void)state;
	return 0;
}

static const char *
listen_str(const struct md_config *c, size_t i, char *buf)
{
	assert_true(i < c->nlisten);
	return md_sockaddr_str(&c->listen[i], buf, MD_SOCKADDR_STRLEN);
}

static void
defaults(void **state)
{
	struct md_config c;
	char buf[MD_SOCKADDR_STRLEN];

	md_config_init(&c);
	assert_null(c.path);
	assert_int_equal(c.nlisten, 2);
	assert_true(c.listen_default);
	assert_string_equal(listen_str(&c, 0, buf), "127.0.0.1:53");
	assert_string_equal(listen_str(&c, 1, buf), "[::1]:53");
	assert_int_equal(c.edns_buffer_size, 1232);
	assert_int_equal(c.tcp_idle_timeout, 10);
	assert_int_equal(c.tcp_max_connections, 256);
	assert_int_equal(c.log_level, MD_LOG_INFO);
	assert_int_equal(c.zone_check_interval, 5);
	assert_int_equal(c.nzones, 0);
	assert_false(c.zones_set);
	md_config_deinit(&c);
	(void)state;
}

/* A snapshot: its own storage, finished, shared by reference. */
static void
snapshot_and_restart_keys(void **state)
{
	struct md_config *a = md_config_new(), *b = md_config_new();
	const char *keys[32];
	char err[256] = "";

	assert_non_null(a);
	assert_non_null(b);
	/* Engine and cache defaults come from their modules, once. */
	assert_int_equal(a->max_upstream_queries, MD_RESOLVE_MAX_QUERIES);
	assert_int_equal(a->cache_max_ttl, 86400);
	assert_int_equal(md_config_finish(a, err, sizeof(err)), 0);
	assert_int_equal(a->resolve->max_queries, MD_RESOLVE_MAX_QUERIES);
	assert_true(a->resolve->nhints > 0);
	assert_ptr_equal(md_config_ref(a), a);
	md_config_unref(a); /* one reference left */
	assert_int_equal(md_config_finish(b, err, sizeof(err)), 0);
	assert_int_equal(md_config_restart_keys(a, b, keys, 32), 0);
	/* Keys a reload applies are not listed... */
	b->recursion = false;
	b->cache_max_ttl = 60;
	b->nforward = 0;
	assert_int_equal(md_config_restart_keys(a, b, keys, 32), 0);
	/* ...those bound at start-up are, in a fixed order. */
	md_config_clear_listen(b);
	assert_int_equal(
	    md_config_add_listen(b, "127.0.0.9:53", err, sizeof(err)), 0);
	b->threads = 3;
	b->udp_steer_cpu = false;
	b->user = strdup("nobody");
	assert_int_equal(md_config_restart_keys(a, b, keys, 32), 4);
	assert_string_equal(keys[0], "listen");
	assert_string_equal(keys[1], "threads");
	assert_string_equal(keys[2], "udp-steering");
	assert_string_equal(keys[3], "user");
	assert_int_equal(md_config_restart_keys(a, b, keys, 1), 1);
	md_config_unref(a);
	md_config_unref(b);
	md_config_unref(NULL);
	(void)state;
}

/* The policy checks live in md_config_finish(). */
static void
finish_policy(void **state)
{
	struct md_config *c = md_config_new();
	char err[256] = "";

	assert_non_null(c);
	assert_int_equal(
	    md_config_add_acl(c, "0.0.0.0/0", err, sizeof(err)), 0);
	assert_int_equal(md_config_finish(c, err, sizeof(err)), MD_ECONFIG);
	assert_non_null(strstr(err, "allow-open-resolver"));
	c->allow_open_resolver = true;
	assert_int_equal(md_config_finish(c, err, sizeof(err)), 0);
	c->metrics = strdup("nowhere");
	assert_int_equal(md_config_finish(c, err, sizeof(err)), MD_ECONFIG);
	assert_non_null(strstr(err, "metrics: 'nowhere'"));
	md_config_unref(c);
	(void)state;
}

static void
every_key_from_file(void **state)
{
	struct md_config c;
	char buf[MD_SOCKADDR_STRLEN], err[1024] = "";

	md_config_init(&c);
	assert_int_equal(
	    md_config_load(&c, MD_TEST_DATA "/full.conf", err, sizeof(err)), 0);
	assert_string_equal(c.path, MD_TEST_DATA "/full.conf");
	assert_int_equal(c.nlisten, 3);
	assert_false(c.listen_default);
	assert_string_equal(listen_str(&c, 0, buf), "127.0.0.2:5353");
	assert_string_equal(listen_str(&c, 1, buf), "[::1]:5300");
	assert_string_equal(listen_str(&c, 2, buf), "192.0.2.1:53");
	assert_int_equal(c.edns_buffer_size, 1400);
	assert_int_equal(c.tcp_idle_timeout, 30);
	assert_int_equal(c.tcp_max_connections, 12);
	assert_int_equal(c.zone_check_interval, 0);
	assert_int_equal(c.log_level, MD_LOG_DEBUG);

	assert_true(c.zones_set);
	assert_int_equal(c.nzones, 5);
	/* Relative paths are taken from the configuration file's folder. */
	assert_string_equal(c.zones[0].file, MD_TEST_DATA "/example.test.zone");
	assert_null(c.zones[0].origin);
	assert_int_equal(c.zones[0].format, MD_ZONE_FORMAT_AUTO);
	assert_false(c.zones[0].auto_ptr);
	assert_string_equal(c.zones[1].file, MD_TEST_DATA "/yaml.test.yaml");
	assert_string_equal(c.zones[1].origin, "yaml.test.");
	assert_int_equal(c.zones[1].format, MD_ZONE_FORMAT_YAML);
	assert_string_equal(
	    c.zones[2].file, MD_TEST_DATA "/2.0.192.in-addr.arpa.zone");
	assert_true(c.zones[2].auto_ptr);
	assert_string_equal(c.zones[3].file, "/srv/dns/absolute.zone");
	assert_string_equal(c.zones[4].file, MD_TEST_DATA "/sub/relative.zone");
	assert_int_equal(c.zones[4].format, MD_ZONE_FORMAT_RFC1035);
	assert_false(c.zones[4].auto_ptr);

	/* The paths are usable as they are: the first three zones load. */
	{
		struct md_zone_source srcs[3];
		struct md_zone_set *zs;

		for (size_t i = 0; i < 3; i++) {
			srcs[i] = (struct md_zone_source){
			    .file = c.zones[i].file,
			    .origin = c.zones[i].origin,
			    .format = c.zones[i].format,
			    .auto_ptr = c.zones[i].auto_ptr,
			};
		}
		zs = md_zone_set_load(srcs, 3, err, sizeof(err));
		if (zs == NULL)
			print_error("%s\n", err);
		assert_non_null(zs);
		assert_int_equal(md_zone_set_count(zs), 3);
		md_zone_set_unref(zs);
	}
	md_config_deinit(&c);
	(void)state;
}

/* Write 'text' to tmpdir/bad.conf; returns its path in buf. */
static const char *
write_conf(const char *text, char *buf, size_t size)
{
	FILE *fp;

	snprintf(buf, size, "%s/bad.conf", tmpdir);
	fp = fopen(buf, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* Load 'text' over the defaults; returns md_config_load's result. */
static int
load_text(const char *text, struct md_config *c, char *err, size_t errlen)
{
	char path[512];

	write_conf(text, path, sizeof(path));
	md_config_init(c);
	return md_config_load(c, path, err, errlen);
}

/*
 * The file must be refused with "PATH:LINE: KEY:" in the message, where
 * PATH is the file's path.
 */
static void
expect_error(const char *text, unsigned line, const char *key)
{
	struct md_config c;
	char err[1024] = "", want[1024];
	int rc;

	rc = load_text(text, &c, err, sizeof(err));
	snprintf(want, sizeof(want), "%s/bad.conf:%u: %s:", tmpdir, line, key);
	if (rc == 0 || strstr(err, want) == NULL)
		print_error(
		    "want \"%s\"\n got \"%s\" (rc %d)\n", want, err, rc);
	assert_int_equal(rc, MD_ECONFIG);
	assert_non_null(strstr(err, want));
	md_config_deinit(&c);
}

static void
scalar_listen_and_empty_zones(void **state)
{
	struct md_config c;
	char buf[MD_SOCKADDR_STRLEN], err[512] = "";

	assert_int_equal(load_text("listen: \"[2001:db8::1]:5353\"\n"
				   "zones:\n",
			     &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(listen_str(&c, 0, buf), "[2001:db8::1]:5353");
	assert_true(c.zones_set);
	assert_int_equal(c.nzones, 0);
	/* Untouched keys keep their defaults. */
	assert_int_equal(c.edns_buffer_size, 1232);
	md_config_deinit(&c);

	/* An empty file is all defaults. */
	assert_int_equal(load_text("", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nlisten, 2);
	assert_true(c.listen_default);
	md_config_deinit(&c);
	(void)state;
}

static void
error_unknown_key(void **state)
{
	expect_error("log-level: info\n"
		     "colour: blue\n",
	    2, "colour");
	expect_error("zones:\n"
		     "  - example.zone\n"
		     "  - file: other.zone\n"
		     "    fiel: typo.zone\n",
	    4, "fiel");
	/* a key given twice: the second is named, with the first's line */
	expect_error("recursion: no\n"
		     "log-level: info\n"
		     "recursion: yes\n",
	    3, "recursion");
	expect_error("forward:\n"
		     "  - zone: corp\n"
		     "    servers: 10.0.0.1\n"
		     "    zone: lab\n",
	    4, "zone");
	(void)state;
}

static void
error_bad_number(void **state)
{
	expect_error("log-level: info\n"
		     "\n"
		     "edns-buffer-size: big\n",
	    3, "edns-buffer-size");
	expect_error("tcp-idle-timeout: 10s\n", 1, "tcp-idle-timeout");
	expect_error("tcp-max-connections: \" 5\"\n", 1, "tcp-max-connections");
	expect_error("zone-check-interval: [1]\n", 1, "zone-check-interval");
	(void)state;
}

static void
error_out_of_range(void **state)
{
	expect_error("edns-buffer-size: 511\n", 1, "edns-buffer-size");
	expect_error("edns-buffer-size: 65536\n", 1, "edns-buffer-size");
	expect_error("tcp-idle-timeout: 0\n", 1, "tcp-idle-timeout");
	expect_error("tcp-max-connections: 0\n", 1, "tcp-max-connections");
	expect_error("rate-limit: -1\n", 1, "rate-limit");
	expect_error("rate-limit: 1000001\n", 1, "rate-limit");
	expect_error("threads: 65\n", 1, "threads");
	expect_error("threads: two\n", 1, "threads");
	expect_error("udp-batch-wait: 1001\n", 1, "udp-batch-wait");
	expect_error("udp-steering: rss\n", 1, "udp-steering");
	expect_error("zone-check-interval: -1\n", 1, "zone-check-interval");
	expect_error("zone-check-interval: 86401\n", 1, "zone-check-interval");
	expect_error("tcp-max-connections: 99999999999999999999\n", 1,
	    "tcp-max-connections");
	(void)state;
}

static void
error_bad_address(void **state)
{
	expect_error("listen: localhost:53\n", 1, "listen");
	expect_error("listen:\n"
		     "  - 127.0.0.1\n"
		     "  - 300.1.1.1:53\n",
	    3, "listen");
	expect_error("listen: 127.0.0.1:0\n", 1, "listen");
	expect_error("listen: 127.0.0.1:65536\n", 1, "listen");
	expect_error("listen: \"[::1\"\n", 1, "listen");
	expect_error("listen: { a: b }\n", 1, "listen");
	(void)state;
}

static void
error_bad_log_level(void **state)
{
	expect_error("edns-buffer-size: 1232\n"
		     "log-level: loud\n",
	    2, "log-level");
	(void)state;
}

static void
error_bad_zone_values(void **state)
{
	expect_error("zones:\n"
		     "  - file: a.zone\n"
		     "    origin: a.test.\n"
		     "    auto-ptr: perhaps\n",
	    4, "auto-ptr");
	expect_error("zones:\n"
		     "  - { file: a.zone, format: xml }\n",
	    2, "format");
	expect_error("zones:\n"
		     "  - { file: a.zone, origin: \"a..test.\" }\n",
	    2, "origin");
	expect_error("zones: a.zone\n", 1, "zones");
	expect_error("zones:\n"
		     "  - { origin: a.test. }\n",
	    2, "zones");
	(void)state;
}

static void
error_yaml_syntax(void **state)
{
	struct md_config c;
	char err[1024] = "", want[512];
	int rc;

	/* An unclosed flow sequence: libyaml notices at line 3. */
	rc = load_text("log-level: info\n"
		       "listen: [ 127.0.0.1\n"
		       "zones: x\n",
	    &c, err, sizeof(err));
	assert_int_equal(rc, MD_ECONFIG);
	snprintf(want, sizeof(want), "%s/bad.conf:3: ", tmpdir);
	if (strstr(err, want) == NULL)
		print_error("want \"%s\"\n got \"%s\"\n", want, err);
	assert_non_null(strstr(err, want));
	md_config_deinit(&c);

	/* A tab used for indentation, on line 2. */
	rc = load_text("zones:\n"
		       "\t- a.zone\n",
	    &c, err, sizeof(err));
	assert_int_equal(rc, MD_ECONFIG);
	snprintf(want, sizeof(want), "%s/bad.conf:2: ", tmpdir);
	if (strstr(err, want) == NULL)
		print_error("want \"%s\"\n got \"%s\"\n", want, err);
	assert_non_null(strstr(err, want));
	md_config_deinit(&c);

	/* A file that is not a mapping. */
	expect_error("- listen\n"
		     "- zones\n",
	    1, "(top level)");
	(void)state;
}

static void
error_missing_file(void **state)
{
	struct md_config c;
	char err[1024] = "";

	md_config_init(&c);
	assert_int_equal(
	    md_config_load(&c, MD_TEST_DATA "/no-such.conf", err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no-such.conf: cannot open"));
	md_config_deinit(&c);
	(void)state;
}

/* The recursion and cache keys: defaults, values read, errors. */
static void
recursion_keys(void **state)
{
	struct md_config c;
	char err[1024] = "";
	char want[600];

	md_config_init(&c);
	assert_true(c.recursion);
	assert_false(c.allow_private_upstreams);
	assert_true(c.qname_minimisation);
	assert_false(c.use_0x20);
	assert_false(c.serve_stale);
	assert_true(c.rrset_roundrobin);
	assert_false(c.prefetch);
	assert_false(c.prime_at_start);
	assert_int_equal(c.rate_limit, 0);
	assert_null(c.root_hints);
	assert_int_equal(c.cache_size_mib, 64);
	assert_int_equal(c.threads, 0); /* one per CPU */
	assert_int_equal(c.udp_batch_wait, 0);
	assert_true(c.udp_steer_cpu);
	assert_int_equal(c.cache_max_ttl, 86400);
	assert_int_equal(c.cache_max_negative_ttl, 3600);
	assert_int_equal(c.max_upstream_queries, 32);
	assert_int_equal(c.servfail_ttl, 5);
	assert_false(c.qname_minimisation_strict);
	assert_int_equal(c.rate_limit_ipv6_prefix, 56);
	assert_int_equal(c.resolution_timeout, MD_RESOLVE_TIMEOUT_MS);
	assert_int_equal(c.resolution_timeout, 5000);
	assert_int_equal(c.nacl, 8);
	md_config_deinit(&c);

	assert_int_equal(
	    load_text("recursion: no\n"
		      "root-hints: hints/root.hints\n"
		      "allow-private-upstreams: yes\n"
		      "qname-minimisation: off\n"
		      "use-0x20: on\n"
		      "serve-stale: true\n"
		      "rrset-roundrobin: no\n"
		      "prefetch: yes\n"
		      "prime-at-start: yes\n"
		      "rate-limit: 50\n"
		      "cache-size: 8\n"
		      "threads: 3\n"
		      "udp-batch-wait: 0\n"
		      "udp-steering: hash\n"
		      "cache-min-ttl: 5\n"
		      "cache-max-ttl: 600\n"
		      "cache-max-negative-ttl: 60\n"
		      "max-upstream-queries: 20\n"
		      "max-referral-depth: 9\n"
		      "max-cname-chain: 4\n"
		      "max-ns-names: 3\n"
		      "resolve-timeout: 2000\n"
		      "servfail-ttl: 30\n"
		      "rate-limit-ipv6-prefix: 64\n"
		      "access-control: [ 192.0.2.0/24, \"2001:db8::/32\" ]\n"
		      "log-trace: [ example.com ]\n",
		&c, err, sizeof(err)),
	    0);
	assert_false(c.recursion);
	assert_true(c.allow_private_upstreams);
	assert_false(c.qname_minimisation);
	assert_true(c.use_0x20);
	assert_true(c.serve_stale);
	assert_int_equal(c.servfail_ttl, 30);
	assert_int_equal(c.rate_limit_ipv6_prefix, 64);
	assert_false(c.rrset_roundrobin);
	assert_true(c.prefetch);
	assert_true(c.prime_at_start);
	assert_int_equal(c.rate_limit, 50);
	/* A relative path is taken from the config file's folder. */
	snprintf(want, sizeof(want), "%s/hints/root.hints", tmpdir);
	assert_string_equal(c.root_hints, want);
	assert_int_equal(c.cache_size_mib, 8);
	assert_int_equal(c.threads, 3);
	assert_int_equal(c.udp_batch_wait, 0);
	assert_false(c.udp_steer_cpu);
	assert_int_equal(c.cache_min_ttl, 5);
	assert_int_equal(c.cache_max_ttl, 600);
	assert_int_equal(c.cache_max_negative_ttl, 60);
	assert_int_equal(c.max_upstream_queries, 20);
	assert_int_equal(c.max_referral_depth, 9);
	assert_int_equal(c.max_cname_chain, 4);
	assert_int_equal(c.max_ns_names, 3);
	assert_int_equal(c.resolution_timeout, 2000);
	assert_int_equal(c.nacl, 2);
	assert_int_equal(c.ntrace, 1);
	md_config_deinit(&c);

	/* The older spelling of resolve-timeout is still read. */
	assert_int_equal(
	    load_text("resolution-timeout: 2500\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.resolution_timeout, 2500);
	md_config_deinit(&c);

	expect_error("access-control: [ 10.0.0.0/33 ]\n", 1, "access-control");
	expect_error("recursion: maybe\n", 1, "recursion");
	expect_error("\nresolution-timeout: 10\n", 2, "resolution-timeout");
	expect_error("resolve-timeout: 60001\n", 1, "resolve-timeout");

	/* Durations as CoreDNS writes them: lameduck (0: none) and
	 * kubernetes: startup-timeout (5 s). */
	assert_int_equal(load_text("threads: 1\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.lameduck_ms, 0);
	assert_int_equal(c.k8s.startup_timeout_ms, 5000);
	md_config_deinit(&c);
	assert_int_equal(load_text("lameduck: 5s\n"
				   "kubernetes:\n"
				   "  zones: [ cluster.local ]\n"
				   "  startup-timeout: 500ms\n",
			     &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.lameduck_ms, 5000);
	assert_int_equal(c.k8s.startup_timeout_ms, 500);
	md_config_deinit(&c);
	assert_int_equal(load_text("lameduck: 2\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.lameduck_ms, 2000);
	md_config_deinit(&c);
	assert_int_equal(load_text("lameduck: 1m\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.lameduck_ms, 60000);
	md_config_deinit(&c);
	expect_error("lameduck: 5x\n", 1, "lameduck");
	expect_error("lameduck: -1s\n", 1, "lameduck");
	expect_error("lameduck: 11m\n", 1, "lameduck");
	expect_error("lameduck: s\n", 1, "lameduck");
	expect_error(
	    "kubernetes:\n  startup-timeout: soon\n", 2, "startup-timeout");
	expect_error("log-trace: [ \"a..b\" ]\n", 1, "log-trace");
	(void)state;
}

static bool
allowed(const struct md_config *c, const char *addr)
{
	struct md_sockaddr sa;

	assert_int_equal(md_sockaddr_parse(addr, 53, &sa), 0);
	return md_acl_allows(c->acl, c->nacl, (struct sockaddr *)&sa.ss);
}

/* The default access-control: our own kinds of networks only. */
static void
access_control_default(void **state)
{
	struct md_config c;

	md_config_init(&c);
	assert_true(allowed(&c, "127.0.0.1"));
	assert_true(allowed(&c, "10.1.2.3"));
	assert_true(allowed(&c, "172.16.0.1"));
	assert_true(allowed(&c, "172.31.255.255"));
	assert_false(allowed(&c, "172.32.0.1"));
	assert_true(allowed(&c, "192.168.7.7"));
	assert_true(allowed(&c, "169.254.20.10"));
	assert_true(allowed(&c, "::1"));
	assert_true(allowed(&c, "fd00::53"));
	assert_true(allowed(&c, "fe80::1"));
	assert_false(allowed(&c, "8.8.8.8"));
	assert_false(allowed(&c, "2001:db8::1"));
	assert_false(allowed(&c, "::2"));
	/* An IPv4 client seen on a dual-stack socket. */
	assert_true(allowed(&c, "::ffff:10.0.0.1"));
	assert_false(allowed(&c, "::ffff:8.8.8.8"));
	md_config_deinit(&c);
	(void)state;
}

/* forward, stub, TLS keys; --forward's ZONE=LIST parser. */
static void
forward_keys(void **state)
{
	struct md_config c;
	char err[1024] = "";
	uint8_t name[MD_NAME_MAX];
	const struct md_forward_zone *f;

	assert_int_equal(
	    load_text("forward:\n"
		      "  - zone: cluster.local\n"
		      "    servers: [ 10.96.0.10, \"[fd00::10]:5353\" ]\n"
		      "    force-tcp: yes\n"
		      "    cache-max-ttl: 30\n"
		      "    cache-max-negative-ttl: 5\n"
		      "  - zone: .\n"
		      "    servers: \"tls://192.0.2.1#dns.test, 192.0.2.2\"\n"
		      "    policy: sequential\n"
		      "stub: yes\n"
		      "resolv-conf: my.resolv\n"
		      "tls-ca: ca.pem\n"
		      "tls-listen: [ 127.0.0.1, \"[::1]:8853\" ]\n"
		      "tls-cert: c.pem\n"
		      "tls-key: k.pem\n",
		&c, err, sizeof(err)),
	    0);
	assert_int_equal(c.nforward, 2);
	md_name_from_str("cluster.local.", NULL, name);
	f = md_config_find_forward(&c, name);
	assert_non_null(f);
	assert_int_equal(f->nservers, 2);
	assert_true(f->force_tcp);
	assert_int_equal(f->policy, MD_FORWARD_RTT);
	assert_int_equal(f->max_ttl, 30);
	assert_int_equal(f->max_negative_ttl, 5);
	assert_int_equal(f->servers[0].transport, MD_TRANSPORT_UDP);
	assert_int_equal(f->servers[1].addr.ss.ss_family, AF_INET6);
	name[0] = 0;
	f = md_config_find_forward(&c, name);
	assert_non_null(f);
	assert_int_equal(f->policy, MD_FORWARD_SEQUENTIAL);
	assert_int_equal(f->servers[0].transport, MD_TRANSPORT_TLS);
	assert_string_equal(f->servers[0].tls_name, "dns.test");
	assert_int_equal(f->servers[1].transport, MD_TRANSPORT_UDP);
	assert_true(c.stub);
	assert_non_null(strstr(c.resolv_conf, "/my.resolv"));
	assert_non_null(strstr(c.tls_ca, "/ca.pem"));
	assert_int_equal(c.ntls_listen, 2);
	md_config_deinit(&c);

	/* The command-line form, extending a zone. */
	md_config_init(&c);
	assert_int_equal(
	    md_config_add_forward(&c, "example.org",
		"127.0.0.1:5301,tls://127.0.0.2", err, sizeof(err)),
	    0);
	assert_int_equal(md_config_add_forward(
			     &c, "example.org.", "127.0.0.3", err, sizeof(err)),
	    0);
	assert_int_equal(c.nforward, 1);
	assert_int_equal(c.forward[0].nservers, 3);
	assert_int_not_equal(md_config_add_forward(&c, "example.org",
				 "300.1.1.1", err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "300.1.1.1"));
	md_config_deinit(&c);

	expect_error("forward:\n  - zone: x.test\n    servers: [ nope ]\n", 3,
	    "servers");
	expect_error("forward:\n  - zone: x.test\n    servers: [ 1.2.3.4 ]\n"
		     "    policy: fastest\n",
	    4, "policy");
	expect_error("forward:\n  - servers: [ 1.2.3.4 ]\n", 2, "forward");
	expect_error("forward:\n  - zone: x.test\n    servers: [ 1.2.3.4 ]\n"
		     "    cache-max-negative-ttl: 0\n",
	    4, "cache-max-negative-ttl");
	expect_error("tls-listen: [ \"not an address\" ]\n", 1, "tls-listen");
	(void)state;
}

/*
 * A file md_config_finish() refuses names the line of the key at fault
 * (policy checks and files read after loading: root hints, resolv.conf).
 */
static void
expect_finish_error(const char *text, unsigned line, const char *key)
{
	struct md_config c;
	char err[1024] = "", want[1024];
	int rc;

	rc = load_text(text, &c, err, sizeof(err));
	if (rc == 0)
		rc = md_config_finish(&c, err, sizeof(err));
	snprintf(want, sizeof(want), "%s/bad.conf:%u: %s:", tmpdir, line, key);
	if (rc == 0 || strstr(err, want) == NULL)
		print_error(
		    "want \"%s\"\n got \"%s\" (rc %d)\n", want, err, rc);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, want));
	md_config_deinit(&c);
}

static void
finish_errors_name_file_line(void **state)
{
	struct md_config c;
	char err[1024] = "", want[1024];

	(void)state;
	expect_finish_error("recursion: yes\n"
			    "access-control: [ 10.0.0.0/8, 0.0.0.0/0 ]\n",
	    2, "access-control");
	expect_finish_error("recursion: yes\n"
			    "\n"
			    "metrics: nowhere\n",
	    3, "metrics");
	expect_finish_error("ready: \"127.0.0.1\"\n", 1, "ready");
	expect_finish_error("threads: 1\n"
			    "root-hints: /nonexistent/named.root\n",
	    2, "root-hints");
	expect_finish_error("stub: yes\n"
			    "resolv-conf: /nonexistent/resolv.conf\n",
	    2, "resolv-conf");
	/* A zone entry remembers its line, for errors found when loading
	 * it (a file that cannot be read, auto-ptr outside a reverse zone);
	 * a key its line; a flag laid over a key is named instead. */
	assert_int_equal(load_text("threads: 2\n"
				   "zones:\n"
				   "  - x.zone\n"
				   "  - file: y.zone\n"
				   "    auto-ptr: yes\n",
			     &c, err, sizeof(err)),
	    0);
	snprintf(want, sizeof(want), "%s/bad.conf:3", tmpdir);
	assert_string_equal(c.zones[0].where, want);
	snprintf(want, sizeof(want), "%s/bad.conf:4", tmpdir);
	assert_string_equal(c.zones[1].where, want);
	snprintf(want, sizeof(want), "%s/bad.conf:2", tmpdir);
	assert_string_equal(md_config_where(&c, "zones"), want);
	assert_null(md_config_where(&c, "user"));
	assert_int_equal(md_config_error(&c, "user", err, sizeof(err),
			     "user '%s' does not exist", "x"),
	    MD_ECONFIG);
	assert_string_equal(err, "user: user 'x' does not exist");
	assert_int_equal(md_config_set_where(&c, "threads", "--threads"), 0);
	md_config_error(&c, "threads", err, sizeof(err), "too many");
	assert_string_equal(err, "--threads: too many");
	md_config_deinit(&c);
}

/* resolv.conf: the nameserver lines, nothing else. */
static void
resolv_conf(void **state)
{
	char path[512];
	FILE *fp;
	struct md_upstream up[4];
	char buf[128];

	snprintf(path, sizeof(path), "%s/resolv.conf", tmpdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# a comment\nsearch example.test\nnameserver 192.0.2.53\n"
	      "  nameserver   2001:db8::53 # trailing\noptions ndots:2\n"
	      "nameserver not-an-address\nnameserverx 1.1.1.1\n",
	    fp);
	fclose(fp);
	assert_int_equal(md_resolv_conf_read(path, up, 4), 2);
	assert_string_equal(
	    md_sockaddr_str(&up[0].addr, buf, sizeof(buf)), "192.0.2.53:53");
	assert_string_equal(md_sockaddr_str(&up[1].addr, buf, sizeof(buf)),
	    "[2001:db8::53]:53");
	assert_true(md_resolv_conf_read("/nonexistent/resolv.conf", up, 4) < 0);
	(void)state;
}

/* qname-minimisation: yes (relaxed), strict, no. */
static void
qname_minimisation_modes(void **state)
{
	struct md_config c;
	char err[512];

	(void)state;
	assert_int_equal(
	    load_text("qname-minimisation: strict\n", &c, err, sizeof(err)), 0);
	assert_true(c.qname_minimisation);
	assert_true(c.qname_minimisation_strict);
	md_config_deinit(&c);
	assert_int_equal(
	    load_text("qname-minimisation: yes\n", &c, err, sizeof(err)), 0);
	assert_true(c.qname_minimisation);
	assert_false(c.qname_minimisation_strict);
	md_config_deinit(&c);
	assert_int_equal(
	    load_text("qname-minimisation: maybe\n", &c, err, sizeof(err)),
	    MD_ECONFIG);
	assert_non_null(strstr(err, "qname-minimisation"));
	md_config_deinit(&c);
}

/* kubernetes: watch-timeout: 60 by default, 2 to 3600 seconds. */
static void
kubernetes_watch_timeout(void **state)
{
	struct md_config c;
	char err[1024] = "";

	assert_int_equal(load_text("kubernetes:\n"
				   "  zones: [ cluster.local ]\n",
			     &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.k8s.watch_timeout, 60);
	md_config_deinit(&c);
	assert_int_equal(load_text("kubernetes:\n"
				   "  zones: [ cluster.local ]\n"
				   "  watch-timeout: 5\n",
			     &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.k8s.watch_timeout, 5);
	md_config_deinit(&c);
	expect_error("kubernetes:\n  watch-timeout: 1\n", 2, "watch-timeout");
	expect_error(
	    "kubernetes:\n  watch-timeout: 3601\n", 2, "watch-timeout");
	(void)state;
}

/* kubernetes: autopath needs pods: verified (an error at autopath's
 * line); autopath-search: the host's search domains, as names. */
static void
kubernetes_autopath(void **state)
{
	struct md_config c;
	char err[1024] = "";
	uint8_t want[MD_NAME_MAX];

	assert_int_equal(
	    load_text("kubernetes:\n"
		      "  zones: [ cluster.local ]\n"
		      "  autopath: yes\n"
		      "  pods: verified\n"
		      "  autopath-search: [ corp.test, example.net ]\n",
		&c, err, sizeof(err)),
	    0);
	assert_true(c.k8s.autopath);
	assert_int_equal(c.k8s.nautopath_search, 2);
	assert_true(md_name_from_str("example.net.", NULL, want) > 0);
	assert_true(md_name_equal(c.k8s.autopath_search[1], want));
	md_config_deinit(&c);
	assert_int_equal(load_text("kubernetes:\n"
				   "  zones: [ cluster.local ]\n",
			     &c, err, sizeof(err)),
	    0);
	assert_false(c.k8s.autopath);
	assert_int_equal(c.k8s.nautopath_search, 0);
	md_config_deinit(&c);
	expect_error("kubernetes:\n"
		     "  zones: [ cluster.local ]\n"
		     "  autopath: yes\n",
	    3, "autopath");
	expect_error("kubernetes:\n"
		     "  pods: insecure\n"
		     "  autopath: yes\n",
	    3, "autopath");
	expect_error("kubernetes:\n  autopath: maybe\n", 2, "autopath");
	expect_error("kubernetes:\n  autopath-search: corp.test\n", 2,
	    "autopath-search");
	expect_error("kubernetes:\n"
		     "  autopath-search:\n"
		     "    - a..b\n",
	    3, "autopath-search");
	expect_error("kubernetes:\n"
		     "  autopath-search: [ a, b, c, d, e, f, g ]\n",
	    2, "autopath-search");
	/* the same domain twice (any case, with or without the dot) */
	expect_error("kubernetes:\n"
		     "  autopath-search:\n"
		     "    - corp.test\n"
		     "    - Corp.Test.\n",
	    4, "autopath-search");
	(void)state;
}

/* ${NAME} is the environment's NAME (a Service's address, as the kubelet
 * sets NAME_SERVICE_HOST); an unset one is an error at its line. */
static void
environment_variables(void **state)
{
	struct md_config c;
	char err[1024] = "", buf[MD_SOCKADDR_STRLEN];
	uint8_t name[MD_NAME_MAX];
	const struct md_forward_zone *f;

	(void)state;
	assert_int_equal(setenv("MD_TEST_UPSTREAM_HOST", "10.96.0.11", 1), 0);
	assert_int_equal(
	    load_text("# cost: $5, not a variable\n"
		      "# ${MD_NOT_SET_ANYWHERE}: comments are left alone\n"
		      "forward:\n"
		      "  - zone: cluster.local\n"
		      "    servers: [ \"${MD_TEST_UPSTREAM_HOST}\" ]\n",
		&c, err, sizeof(err)),
	    0);
	md_name_from_str("cluster.local.", NULL, name);
	f = md_config_find_forward(&c, name);
	assert_non_null(f);
	assert_string_equal(
	    md_sockaddr_str(&f->servers[0].addr, buf, sizeof(buf)),
	    "10.96.0.11:53");
	md_config_deinit(&c);
	unsetenv("MD_TEST_UPSTREAM_HOST");
	expect_error("log-level: info\n"
		     "forward:\n"
		     "  - zone: cluster.local\n"
		     "    servers: [ \"${MD_TEST_UPSTREAM_HOST}\" ]\n",
	    4, "${MD_TEST_UPSTREAM_HOST}");
}

/* ---- DNSSEC keys ------------------------------------------------------- */

/* Write text to tmpdir/NAME; returns the path in buf. */
static const char *
write_file(const char *name, const char *text, char *buf, size_t size)
{
	FILE *fp;

	snprintf(buf, size, "%s/%s", tmpdir, name);
	fp = fopen(buf, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static bool
has_insecure(const struct md_resolve_conf *rc, const char *name)
{
	uint8_t w[MD_NAME_MAX];

	md_name_from_str(name, NULL, w);
	for (size_t i = 0; i < rc->ninsecure; i++) {
		if (md_name_equal(rc->insecure[i], w))
			return true;
	}
	return false;
}

/* Load text and finish it: finish's result, its message in err. */
static int
load_finish(const char *text, struct md_config *c, char *err, size_t errlen)
{
	int rc = load_text(text, c, err, errlen);

	return rc != 0 ? rc : md_config_finish(c, err, errlen);
}

static void
dnssec_defaults(void **state)
{
	struct md_config c;
	char err[1024] = "";
	static const uint8_t ksk2017[] = {0x4f, 0x66, 8, 2, 0xe0, 0x6d, 0x44,
	    0xb8, 0x0b, 0x8f, 0x1d, 0x39, 0xa9, 0x5c, 0x0b, 0x0d, 0x7c, 0x65,
	    0xd0, 0x84, 0x58, 0xe8, 0x80, 0x40, 0x9b, 0xbc, 0x68, 0x34, 0x57,
	    0x10, 0x42, 0x37, 0xc7, 0xf8, 0xec, 0x8d};
	const struct md_resolve_conf *rc;

	(void)state;
	assert_int_equal(load_finish("", &c, err, sizeof(err)), 0);
	rc = c.resolve;
	assert_true(c.dnssec_validate);
	assert_false(c.dnssec_off_custom_hints);
	assert_true(rc->validate);
	assert_int_equal(rc->val_bogus_ttl, 60);
	assert_int_equal(rc->nsec3_max_iterations, 150);
	assert_true(rc->aggressive_nsec);
	/* the root's KSK-2017 and KSK-2024 as DS records of "." */
	assert_int_equal(rc->nanchors, 2);
	assert_int_equal(rc->anchors[0].zone[0], 0);
	assert_int_equal(rc->anchors[0].type, MD_TYPE_DS);
	assert_int_equal(rc->anchors[0].rdlen, sizeof(ksk2017));
	assert_memory_equal(rc->anchors[0].rdata, ksk2017, sizeof(ksk2017));
	assert_int_equal(rc->anchors[1].type, MD_TYPE_DS);
	assert_int_equal(
	    rc->anchors[1].rdata[0] << 8 | rc->anchors[1].rdata[1], 38696);
	assert_int_equal(rc->anchors[1].rdata[4], 0x68);
	assert_int_equal(rc->anchors[1].rdata[35], 0x16);
	/* special-use names and private reverse zones are never validated */
	assert_int_equal(rc->ninsecure, md_resolve_builtin_insecure());
	assert_true(has_insecure(rc, "local."));
	assert_true(has_insecure(rc, "home.arpa."));
	assert_true(has_insecure(rc, "10.in-addr.arpa."));
	assert_true(has_insecure(rc, "16.172.in-addr.arpa."));
	assert_true(has_insecure(rc, "31.172.in-addr.arpa."));
	assert_false(has_insecure(rc, "32.172.in-addr.arpa."));
	assert_true(has_insecure(rc, "168.192.in-addr.arpa."));
	assert_true(has_insecure(rc, "b.e.f.ip6.arpa."));
	assert_false(has_insecure(rc, "c.e.f.ip6.arpa."));
	assert_false(has_insecure(rc, "arpa."));
	md_config_deinit(&c);
}

static void
dnssec_keys_from_file(void **state)
{
	struct md_config c;
	char err[1024] = "";
	const struct md_resolve_conf *rc;
	uint8_t name[MD_NAME_MAX];
	size_t builtin = md_resolve_builtin_insecure();

	(void)state;
	assert_int_equal(load_finish("dnssec: off\n"
				     "val-bogus-ttl: 30\n"
				     "aggressive-nsec: no\n"
				     "domain-insecure: [corp.example., Lab]\n"
				     "forward:\n"
				     "  - zone: corp.example\n"
				     "    servers: 10.0.0.1\n"
				     "    insecure: yes\n"
				     "  - zone: other.example\n"
				     "    servers: 10.0.0.2\n",
			     &c, err, sizeof(err)),
	    0);
	rc = c.resolve;
	assert_false(rc->validate);
	assert_true(c.dnssec_set);
	assert_int_equal(rc->val_bogus_ttl, 30);
	assert_false(rc->aggressive_nsec);
	assert_int_equal(rc->ninsecure, builtin + 2);
	md_name_from_str("corp.example.", NULL, name);
	assert_true(md_name_equal(rc->insecure[builtin], name));
	md_name_from_str("lab.", NULL, name);
	assert_true(md_name_equal(rc->insecure[builtin + 1], name));
	assert_int_equal(rc->nforward, 2);
	assert_true(rc->forward[0].insecure);
	assert_false(rc->forward[1].insecure);
	md_config_deinit(&c);

	/* a single name is a list of one */
	assert_int_equal(load_finish("domain-insecure: corp.example.\n", &c,
			     err, sizeof(err)),
	    0);
	assert_int_equal(c.resolve->ninsecure, builtin + 1);
	assert_true(c.resolve->validate);
	md_config_deinit(&c);
}

/* Everything forwarded (stub: yes, or a forward zone for "."): no name is
 * resolved from the root, so validation is off unless asked for; a forward
 * zone below the root leaves it on. */
static void
dnssec_forwarded(void **state)
{
	struct md_config c;
	char err[1024] = "";

	(void)state;
	assert_int_equal(load_finish("forward:\n"
				     "  - zone: .\n"
				     "    servers: [ 127.0.0.1 ]\n",
			     &c, err, sizeof(err)),
	    0);
	assert_false(c.resolve->validate);
	assert_true(c.dnssec_off_forwarded);
	md_config_deinit(&c);
	assert_int_equal(load_finish("dnssec: validate\n"
				     "forward:\n"
				     "  - zone: .\n"
				     "    servers: [ 127.0.0.1 ]\n",
			     &c, err, sizeof(err)),
	    0);
	assert_true(c.resolve->validate);
	assert_false(c.dnssec_off_forwarded);
	md_config_deinit(&c);
	assert_int_equal(load_finish("forward:\n"
				     "  - zone: corp.example\n"
				     "    servers: [ 127.0.0.1 ]\n",
			     &c, err, sizeof(err)),
	    0);
	assert_true(c.resolve->validate);
	assert_false(c.dnssec_off_forwarded);
	md_config_deinit(&c);
}

static void
dnssec_custom_root(void **state)
{
	struct md_config c;
	char err[1024] = "", hints[512], anchors[512], text[2048];

	(void)state;
	write_file("root.hints",
	    ".  3600 IN NS a.root.test.\n"
	    "a.root.test. 3600 IN A 127.0.0.1\n",
	    hints, sizeof(hints));
	/* custom root, no anchor: validation off, and the daemon says so */
	snprintf(text, sizeof(text), "root-hints: %s\n", hints);
	assert_int_equal(load_finish(text, &c, err, sizeof(err)), 0);
	assert_false(c.resolve->validate);
	assert_true(c.dnssec_off_custom_hints);
	md_config_deinit(&c);
	/* asking for validation there would check a private root against
	 * the IANA keys: refused at the dnssec line */
	snprintf(text, sizeof(text),
	    "root-hints: %s\n"
	    "dnssec: validate\n",
	    hints);
	assert_int_equal(load_finish(text, &c, err, sizeof(err)), MD_ECONFIG);
	{
		char want[600];

		snprintf(want, sizeof(want), "%s/bad.conf:2: dnssec:", tmpdir);
		if (strstr(err, want) == NULL)
			print_error("got \"%s\"\n", err);
		assert_non_null(strstr(err, want));
		assert_non_null(strstr(err, "trust-anchor-file"));
	}
	md_config_deinit(&c);
	/* with an anchor of its own it validates from that anchor alone;
	 * the path is taken from the config file's folder */
	write_file("root.anchors",
	    "; the test root's keys\n"
	    ". 3600 IN DS 12345 13 2 "
	    "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20\n"
	    "$ORIGIN test.\n"
	    "lab 3600 IN DNSKEY 257 3 13 AwEAAQ==\n",
	    anchors, sizeof(anchors));
	snprintf(text, sizeof(text),
	    "root-hints: %s\n"
	    "dnssec: validate\n"
	    "trust-anchor-file: root.anchors\n",
	    hints);
	assert_int_equal(load_finish(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.trust_anchor_files[0], anchors);
	assert_true(c.resolve->validate);
	assert_false(c.dnssec_off_custom_hints);
	assert_int_equal(c.resolve->nanchors, 2);
	assert_int_equal(c.resolve->anchors[0].type, MD_TYPE_DS);
	assert_int_equal(c.resolve->anchors[0].rdata[0] << 8 |
		c.resolve->anchors[0].rdata[1],
	    12345);
	assert_int_equal(c.resolve->anchors[1].type, MD_TYPE_DNSKEY);
	{
		uint8_t w[MD_NAME_MAX];

		md_name_from_str("lab.test.", NULL, w);
		assert_true(md_name_equal(c.resolve->anchors[1].zone, w));
	}
	md_config_deinit(&c);
	/* a list of files adds them up */
	assert_int_equal(load_finish("trust-anchor-file: [root.anchors, "
				     "root.anchors]\n",
			     &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.resolve->nanchors, 4);
	md_config_deinit(&c);
	unlink(hints);
	unlink(anchors);
}

/* A bad anchor file: the config line, then the file's own line. */
static void
expect_anchor_error(const char *anchors, unsigned line, const char *why)
{
	struct md_config c;
	char err[1024] = "", path[512], want[1200];

	write_file("bad.anchors", anchors, path, sizeof(path));
	assert_int_equal(load_finish("log-level: info\n"
				     "trust-anchor-file: bad.anchors\n",
			     &c, err, sizeof(err)),
	    MD_ECONFIG);
	if (line > 0)
		snprintf(want, sizeof(want),
		    "%s/bad.conf:2: trust-anchor-file: %s:%u: %s", tmpdir, path,
		    line, why);
	else
		snprintf(want, sizeof(want),
		    "%s/bad.conf:2: trust-anchor-file: %s: %s", tmpdir, path,
		    why);
	if (strstr(err, want) == NULL)
		print_error("want \"%s\"\n got \"%s\"\n", want, err);
	assert_non_null(strstr(err, want));
	md_config_deinit(&c);
	unlink(path);
}

static void
dnssec_errors(void **state)
{
	char many[4096] = "";

	(void)state;
	expect_error("dnssec: yes\n", 1, "dnssec");
	expect_error("log-level: info\n"
		     "val-bogus-ttl: 0\n",
	    2, "val-bogus-ttl");
	expect_error("aggressive-nsec: sometimes\n", 1, "aggressive-nsec");
	expect_error("domain-insecure:\n"
		     "  - corp.example.\n"
		     "  - local.\n",
	    3, "domain-insecure");
	expect_error("domain-insecure:\n"
		     "  - corp.example.\n"
		     "  - lab.example.\n"
		     "  - CORP.example\n",
	    4, "domain-insecure");
	expect_error("domain-insecure: [\"a..b\"]\n", 1, "domain-insecure");
	expect_error("domain-insecure: {a: b}\n", 1, "domain-insecure");
	expect_error("trust-anchor-file: {a: b}\n", 1, "trust-anchor-file");
	expect_error("forward:\n"
		     "  - zone: corp.example\n"
		     "    servers: 10.0.0.1\n"
		     "    insecure: maybe\n",
	    4, "insecure");

	expect_anchor_error(
	    ". IN DS 1 8 2 0102\n", 1, "DS digest has the wrong length");
	expect_anchor_error("; ok\n"
			    ". IN DNSKEY 256 3 8 AwEAAQ==\n"
			    ". IN DNSKEY 385 3 8 AwEAAQ==\n",
	    3, "DNSKEY has the REVOKE flag");
	expect_anchor_error(". IN DNSKEY 1 3 8 AwEAAQ==\n", 1,
	    "DNSKEY without the zone key flag");
	expect_anchor_error(
	    "\n\n. IN A 192.0.2.1\n", 3, "not a DS or DNSKEY record");
	expect_anchor_error(". IN DS nonsense\n", 1, "");
	expect_anchor_error("; nothing here\n", 0, "no DS or DNSKEY records");
	for (int i = 0; i <= MD_TRUST_ANCHORS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "z%d. IN DS %d 8 1 "
		    "0102030405060708090A0B0C0D0E0F1011121314\n",
		    i, i);
	expect_anchor_error(
	    many, MD_TRUST_ANCHORS_MAX + 1, "more than 16 trust anchors");
	{
		struct md_config c;
		char err[1024] = "";

		assert_int_equal(
		    load_finish("trust-anchor-file: /nonexistent/anchors\n", &c,
			err, sizeof(err)),
		    MD_ECONFIG);
		assert_non_null(strstr(err,
		    "bad.conf:1: trust-anchor-file: "
		    "/nonexistent/anchors: cannot open"));
		md_config_deinit(&c);
	}
}

/* The DNSSEC keys all reload: none is a restart key. */
static void
dnssec_reload_live(void **state)
{
	struct md_config *a = md_config_new(), *b = md_config_new();
	const char *keys[32];
	char err[256] = "";

	(void)state;
	b->dnssec_validate = false;
	b->val_bogus_ttl = 5;
	b->aggressive_nsec = false;
	assert_int_equal(md_config_add_insecure(b, "x.example", err, 256), 0);
	assert_int_equal(md_config_finish(a, err, sizeof(err)), 0);
	assert_int_equal(md_config_finish(b, err, sizeof(err)), 0);
	assert_int_equal(md_config_restart_keys(a, b, keys, 32), 0);
	assert_false(b->resolve->validate);
	assert_int_equal(b->resolve->val_bogus_ttl, 5);
	md_config_unref(a);
	md_config_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(kubernetes_watch_timeout),
	    cmocka_unit_test(kubernetes_autopath),
	    cmocka_unit_test(snapshot_and_restart_keys),
	    cmocka_unit_test(finish_policy),
	    cmocka_unit_test(finish_errors_name_file_line),
	    cmocka_unit_test(every_key_from_file),
	    cmocka_unit_test(scalar_listen_and_empty_zones),
	    cmocka_unit_test(error_unknown_key),
	    cmocka_unit_test(error_bad_number),
	    cmocka_unit_test(error_out_of_range),
	    cmocka_unit_test(error_bad_address),
	    cmocka_unit_test(error_bad_log_level),
	    cmocka_unit_test(error_bad_zone_values),
	    cmocka_unit_test(error_yaml_syntax),
	    cmocka_unit_test(error_missing_file),
	    cmocka_unit_test(recursion_keys),
	    cmocka_unit_test(qname_minimisation_modes),
	    cmocka_unit_test(access_control_default),
	    cmocka_unit_test(forward_keys),
	    cmocka_unit_test(environment_variables),
	    cmocka_unit_test(resolv_conf),
	    cmocka_unit_test(dnssec_defaults),
	    cmocka_unit_test(dnssec_keys_from_file),
	    cmocka_unit_test(dnssec_custom_root),
	    cmocka_unit_test(dnssec_forwarded),
	    cmocka_unit_test(dnssec_errors),
	    cmocka_unit_test(dnssec_reload_live),
	};

	return cmocka_run_group_tests_name(
	    "config", tests, make_tmpdir, remove_tmpdir);
}
