/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - minidnsd: command line, configuration and zones at start-up,
 * signals (SIGHUP reload, SIGTERM/SIGINT stop), reload when a zone or the
 * config file changes on disk (a new configuration snapshot and zone set,
 * the Kubernetes source restarted when its section changed, the keys
 * that need a restart noted), daemonizing before any thread exists.  A
 * reload that fails keeps the old data serving.  This thread is the
 * control plane: once the workers run it answers no query.  The control
 * socket's commands and the HTTP endpoints are ctl.c's.
 *
 * Exit codes: 0 clean stop or -t success, 1 bad configuration or zone,
 * 2 bad command line, 3 cannot listen or start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/thread.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "minidns/config.h"
#include "minidns/control.h"
#include "minidns/ldns_bridge.h"
#include "minidns/metrics.h"
#include "minidns/k8s.h"
#include "minidns/k8s_watch.h"
#include "minidns/resolve.h"
#include "minidns/server.h"
#include "minidns/util.h"
#include "minidns/zone.h"

#include "daemon.h"

#ifndef MD_SYSCONFDIR
#define MD_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG MD_SYSCONFDIR "/minidns/minidnsd.yaml"

/* sample_zone.c, generated from zones/ at build time */
extern const unsigned char md_sample_zone_text[];
extern const unsigned char md_sample_reverse_zone_text[];

struct options {
	const char *config;
	const char *listen[MD_CONFIG_MAX_LISTEN];
	size_t nlisten;
	const char **zones;
	size_t nzones;
	const char *root_hints;
	const char **trust_anchors; /* --trust-anchor, repeatable */
	size_t ntrust_anchors;
	bool allow_private;
	bool no_recursion;
	bool setup_iptables;
	const char *setup_interface;
	const char *trace[MD_CONFIG_MAX_TRACE];
	size_t ntrace;
	const char *forward[MD_FORWARD_ZONES_MAX];
	size_t nforward;
	bool stub;
	const char *tls_ca;
	const char *tls_listen[MD_CONFIG_MAX_LISTEN];
	size_t ntls_listen;
	const char *tls_cert;
	const char *tls_key;
	const char *kubeconfig;
	const char *metrics, *health, *ready, *control_socket, *user;
	const char *pid_file;
	const char *threads, *cache_size; /* numbers, checked in build_config */
	const char *k8s_zones[MD_K8S_ZONES_MAX];
	size_t nk8s_zones;
	bool foreground;
	bool check;
	int verbosity; /* -1 quiet, 0 config, 1 debug */
};

/* Serve the file zones and the latest Kubernetes zones together. */
static int
publish(struct daemon *d)
{
	struct md_zone_set *zs =
	    md_zone_set_merge(d->file_zones, d->k8s_zones, d->nk8s);

	if (zs == NULL) {
		md_err(MD_LOG_ZONE, "out of memory building the zone set");
		return -ENOMEM;
	}
	md_server_set_zones(d->srv, zs);
	return 0;
}

/* The Kubernetes source has new zones: they replace the previous ones. */
static void
k8s_publish_cb(void *arg, struct md_zone **zones, size_t n)
{
	struct daemon *d = arg;
	struct md_zone **v = calloc(n ? n : 1, sizeof(*v));
	size_t records = 0;

	if (v == NULL) {
		for (size_t i = 0; i < n; i++)
			md_zone_free(zones[i]);
		md_err(MD_LOG_ZONE, "kubernetes: out of memory");
		return;
	}
	for (size_t i = 0; i < d->nk8s; i++)
		md_zone_free(d->k8s_zones[i]);
	free(d->k8s_zones);
	for (size_t i = 0; i < n; i++) {
		v[i] = zones[i];
		records += md_zone_rr_count(zones[i]);
	}
	d->k8s_zones = v;
	d->nk8s = n;
	if (publish(d) == 0)
		md_debug(MD_LOG_ZONE,
		    "kubernetes: serving %zu zones, %zu records (serial %u)",
		    d->nk8s, records,
		    d->nk8s > 0 ? md_zone_serial(d->k8s_zones[0]) : 0);
	if (!d->k8s_announced) {
		d->k8s_announced = true;
		md_info(MD_LOG_ZONE,
		    "kubernetes: serving %zu zones, %zu records", d->nk8s,
		    records);
	}
	/* The start waits for this (wait_for_k8s()). */
	if (d->waiting_sync)
		event_base_loopbreak(d->base);
}

/*
 * Until the first full list, the cluster zones answer SERVFAIL (EDE 14)
 * rather than going to the node's resolvers, whose NXDOMAIN clients would
 * cache: stand-ins marked not ready, replaced by the first publication.
 * Returns 0 or -ENOMEM.
 */
static int
k8s_serve_pending(struct daemon *d, const struct md_k8s_conf *conf)
{
	struct md_zone *pz[MD_K8S_PENDING_MAX];
	struct md_zone **v;
	ssize_t n = md_k8s_pending_zones(conf, pz);

	v = n >= 0 ? calloc(n ? (size_t)n : 1, sizeof(*v)) : NULL;
	if (v == NULL) {
		for (ssize_t i = 0; i < n; i++)
			md_zone_free(pz[i]);
		return -ENOMEM;
	}
	for (ssize_t i = 0; i < n; i++)
		v[i] = pz[i];
	for (size_t i = 0; i < d->nk8s; i++)
		md_zone_free(d->k8s_zones[i]);
	free(d->k8s_zones);
	d->k8s_zones = v;
	d->nk8s = (size_t)n;
	return 0;
}

static void
startup_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(d->base);
}

/*
 * As CoreDNS's kubernetes plugin: the start waits for the first full list
 * up to kubernetes: startup-timeout, before any socket is bound (a
 * restarted server's predecessor keeps answering meanwhile); then it
 * serves, the cluster zones answering SERVFAIL until the list comes.
 */
static void
wait_for_k8s(struct daemon *d)
{
	struct md_k8s_status st;
	struct event *ev;
	uint32_t ms = d->cfg->k8s.startup_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	md_k8s_get_status(d->k8s, &st);
	if (d->k8s == NULL || st.synced || ms == 0)
		return;
	ev = evtimer_new(d->base, startup_timeout_cb, d);
	if (ev == NULL)
		return;
	md_info(MD_LOG_MAIN,
	    "kubernetes: waiting up to %u ms for the API before serving", ms);
	d->waiting_sync = true;
	event_add(ev, &tv);
	event_base_dispatch(d->base);
	d->waiting_sync = false;
	event_free(ev);
	md_k8s_get_status(d->k8s, &st);
	if (!st.synced)
		md_warn(MD_LOG_MAIN,
		    "kubernetes: starting with the API not synced: the "
		    "cluster zones answer SERVFAIL until it is");
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: minidnsd [-c FILE] [--listen ADDR:PORT]... [--zone ZONEFILE]...\n"
	    "                [--root-hints FILE] [--trust-anchor FILE]...\n"
	    "                [--allow-private-upstreams]\n"
	    "                [--no-recursion] [--trace NAME]...\n"
	    "                [--forward ZONE=ADDR[,ADDR]...]... [--stub]\n"
	    "                [--tls-ca FILE] [--tls-listen ADDR:PORT]...\n"
	    "                [--tls-cert FILE --tls-key FILE]\n"
	    "                [--kubernetes-zone ZONE]... [--kubeconfig FILE]\n"
	    "                [--metrics|--health|--ready ADDR:PORT|off]\n"
	    "                [--control-socket PATH] [--user USER[:GROUP]]\n"
	    "                [--pid-file FILE] [--setup-iptables]\n"
	    "                [--setup-interface NAME]\n"
	    "                [--threads N] [--cache-size MiB]\n"
	    "                [-f] [-v|-q] [-t] [--help] [--version]\n"
	    "\n"
	    "  -c, --config FILE    YAML configuration (default %s if it\n"
	    "                       exists, else the embedded defaults)\n"
	    "  -l, --listen ADDR:PORT  listen on UDP and TCP; repeatable;\n"
	    "                       e.g. 127.0.0.1:5399 or [::1]:5399\n"
	    "  -z, --zone FILE      serve a zone file (origin from the file;\n"
	    "                       .yaml/.yml files are YAML zones); repeatable\n"
	    "      --root-hints FILE  root servers to start from (named.root\n"
	    "                       format) instead of the built-in IANA ones\n"
	    "      --trust-anchor FILE  DNSSEC trust anchors (DS or DNSKEY\n"
	    "                       records) instead of the built-in root\n"
	    "                       keys; repeatable; replaces\n"
	    "                       trust-anchor-file\n"
	    "      --allow-private-upstreams  let resolution query servers on\n"
	    "                       loopback and private addresses (labs, tests)\n"
	    "      --no-recursion   answer from the local zones only (REFUSED\n"
	    "                       for other names)\n"
	    "      --trace NAME     log every step of resolutions at or below\n"
	    "                       NAME (repeatable; -v traces all)\n"
	    "      --forward ZONE=ADDR[:PORT][,ADDR[:PORT]...]\n"
	    "                       ask these upstreams for names in ZONE\n"
	    "                       (repeatable; tls://ADDR[:PORT]#NAME for\n"
	    "                       DNS over TLS; --forward .=... for all)\n"
	    "      --stub           forward everything; upstreams from\n"
	    "                       /etc/resolv.conf unless . is forwarded\n"
	    "      --tls-ca FILE    CA certificates for TLS upstreams\n"
	    "      --tls-listen ADDR:PORT  serve DNS over TLS (repeatable)\n"
	    "      --tls-cert FILE, --tls-key FILE  its certificate and key\n"
	    "      --kubernetes-zone ZONE  serve ZONE (e.g. cluster.local) from\n"
	    "                       the Kubernetes API (repeatable)\n"
	    "      --kubeconfig FILE  how to reach the API (default: in-cluster\n"
	    "                       service account)\n"
	    "      --metrics ADDR:PORT|off  Prometheus /metrics (default :9153)\n"
	    "      --health ADDR:PORT|off   /health (default :8080)\n"
	    "      --ready ADDR:PORT|off    /ready (default :8181)\n"
	    "      --control-socket PATH    for minidns-control\n"
	    "      --user USER[:GROUP]      run as this user once bound\n"
	    "      --pid-file FILE  write the daemon's process ID there\n"
	    "      --setup-iptables NOTRACK and ACCEPT rules for the listen\n"
	    "                       addresses while serving (a node-local\n"
	    "                       cache; needs root or NET_ADMIN)\n"
	    "      --setup-interface NAME  a dummy interface holding the listen\n"
	    "                       addresses while serving (same needs)\n"
	    "      --threads N      worker threads, each with its own sockets\n"
	    "                       (default: one per CPU)\n"
	    "      --cache-size MiB memory for the cache (default 64)\n"
	    "  -f, --foreground     stay in the foreground, log to stderr\n"
	    "                       (else: fork, log to syslog, return once\n"
	    "                       serving, with the start-up's exit code)\n"
	    "  -v, --verbose        log at debug level\n"
	    "  -q, --quiet          log errors only\n"
	    "  -t, --check          check the configuration and zones, then exit\n"
	    "  -h, --help           this text\n"
	    "  -V, --version        print the version\n"
	    "\n"
	    "Flags replace the same settings of the configuration file.\n",
	    DEFAULT_CONFIG);
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"zone", required_argument, NULL, 'z'},
	    {"root-hints", required_argument, NULL, 'R'},
	    {"trust-anchor", required_argument, NULL, 'D'},
	    {"allow-private-upstreams", no_argument, NULL, 'P'},
	    {"no-recursion", no_argument, NULL, 'N'},
	    {"trace", required_argument, NULL, 'T'},
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"metrics", required_argument, NULL, 'M'},
	    {"health", required_argument, NULL, 'H'},
	    {"ready", required_argument, NULL, 'Y'},
	    {"control-socket", required_argument, NULL, 'O'},
	    {"user", required_argument, NULL, 'u'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"setup-iptables", no_argument, NULL, 'I'},
	    {"setup-interface", required_argument, NULL, 'i'},
	    {"threads", required_argument, NULL, 'W'},
	    {"cache-size", required_argument, NULL, 'm'},
	    {"kubernetes-zone", required_argument, NULL, 'Z'},
	    {"forward", required_argument, NULL, 'F'},
	    {"stub", no_argument, NULL, 'S'},
	    {"tls-ca", required_argument, NULL, 'A'},
	    {"tls-listen", required_argument, NULL, 'L'},
	    {"tls-cert", required_argument, NULL, 'C'},
	    {"tls-key", required_argument, NULL, 'K'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"check", no_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:l:z:fvqthV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'l':
			if (o->nlisten >= MD_CONFIG_MAX_LISTEN) {
				fprintf(
				    stderr, "minidnsd: too many --listen\n");
				return EXIT_USAGE;
			}
			o->listen[o->nlisten++] = optarg;
			break;
		case 'z': {
			const char **v =
			    realloc(o->zones, (o->nzones + 1) * sizeof(*v));

			if (v == NULL)
				return EXIT_START;
			o->zones = v;
			o->zones[o->nzones++] = optarg;
			break;
		}
		case 'R':
			o->root_hints = optarg;
			break;
		case 'D': {
			const char **v = realloc(o->trust_anchors,
			    (o->ntrust_anchors + 1) * sizeof(*v));

			if (v == NULL)
				return EXIT_START;
			o->trust_anchors = v;
			o->trust_anchors[o->ntrust_anchors++] = optarg;
			break;
		}
		case 'P':
			o->allow_private = true;
			break;
		case 'N':
			o->no_recursion = true;
			break;
		case 'I':
			o->setup_iptables = true;
			break;
		case 'i':
			o->setup_interface = optarg;
			break;
		case 'F':
			if (o->nforward >= MD_FORWARD_ZONES_MAX) {
				fprintf(
				    stderr, "minidnsd: too many --forward\n");
				return EXIT_USAGE;
			}
			o->forward[o->nforward++] = optarg;
			break;
		case 'S':
			o->stub = true;
			break;
		case 'k':
			o->kubeconfig = optarg;
			break;
		case 'M':
			o->metrics = optarg;
			break;
		case 'H':
			o->health = optarg;
			break;
		case 'Y':
			o->ready = optarg;
			break;
		case 'O':
			o->control_socket = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'W':
			o->threads = optarg;
			break;
		case 'm':
			o->cache_size = optarg;
			break;
		case 'Z':
			if (o->nk8s_zones >= MD_K8S_ZONES_MAX) {
				fprintf(stderr,
				    "minidnsd: too many --kubernetes-zone\n");
				return EXIT_USAGE;
			}
			o->k8s_zones[o->nk8s_zones++] = optarg;
			break;
		case 'A':
			o->tls_ca = optarg;
			break;
		case 'L':
			if (o->ntls_listen >= MD_CONFIG_MAX_LISTEN) {
				fprintf(stderr,
				    "minidnsd: too many --tls-listen\n");
				return EXIT_USAGE;
			}
			o->tls_listen[o->ntls_listen++] = optarg;
			break;
		case 'C':
			o->tls_cert = optarg;
			break;
		case 'K':
			o->tls_key = optarg;
			break;
		case 'T':
			if (o->ntrace >= MD_CONFIG_MAX_TRACE) {
				fprintf(stderr, "minidnsd: too many --trace\n");
				return EXIT_USAGE;
			}
			o->trace[o->ntrace++] = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			o->verbosity = 1;
			break;
		case 'q':
			o->verbosity = -1;
			break;
		case 't':
			o->check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("minidnsd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "minidnsd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* A flag's file name replaces the configuration's, when given. */
static int
replace_path(char **field, const char *value)
{
	if (value == NULL)
		return 0;
	free(*field);
	*field = strdup(value);
	return *field != NULL ? 0 : -ENOMEM;
}

/* The keys the flags set, so later errors name the flag, not the file. */
static int
note_flags(const struct options *o, struct md_config *cfg)
{
	const struct {
		bool given;
		const char *key, *flag;
	} v[] = {
	    {o->nlisten > 0, "listen", "--listen"},
	    {o->root_hints != NULL, "root-hints", "--root-hints"},
	    {o->ntrust_anchors > 0, "trust-anchor-file", "--trust-anchor"},
	    {o->no_recursion, "recursion", "--no-recursion"},
	    {o->setup_iptables, "setup-iptables", "--setup-iptables"},
	    {o->setup_interface != NULL, "setup-interface",
		"--setup-interface"},
	    {o->nforward > 0, "forward", "--forward"},
	    {o->stub, "stub", "--stub"},
	    {o->threads != NULL, "threads", "--threads"},
	    {o->cache_size != NULL, "cache-size", "--cache-size"},
	    {o->kubeconfig != NULL, "kubernetes", "--kubeconfig"},
	    {o->nk8s_zones > 0, "kubernetes", "--kubernetes-zone"},
	    {o->metrics != NULL, "metrics", "--metrics"},
	    {o->health != NULL, "health", "--health"},
	    {o->ready != NULL, "ready", "--ready"},
	    {o->control_socket != NULL, "control-socket", "--control-socket"},
	    {o->user != NULL, "user", "--user"},
	    {o->pid_file != NULL, "pid-file", "--pid-file"},
	    {o->tls_ca != NULL, "tls-ca", "--tls-ca"},
	    {o->ntls_listen > 0, "tls-listen", "--tls-listen"},
	    {o->tls_cert != NULL, "tls-cert", "--tls-cert"},
	    {o->tls_key != NULL, "tls-key", "--tls-key"},
	    {o->ntrace > 0, "log-trace", "--trace"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].given &&
		    md_config_set_where(cfg, v[i].key, v[i].flag) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Defaults, then the file, then the flags, into cfg. */
static int
overlay_flags(
    const struct options *o, struct md_config *cfg, char *err, size_t errlen)
{
	const char *path = o->config;
	int rc;

	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path != NULL) {
		rc = md_config_load(cfg, path, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (o->nlisten > 0)
		md_config_clear_listen(cfg);
	for (size_t i = 0; i < o->nlisten; i++) {
		char why[256];

		if (md_config_add_listen(cfg, o->listen[i], why, sizeof(why)) !=
		    0) {
			snprintf(err, errlen, "--listen: %s", why);
			return MD_ECONFIG;
		}
	}
	if (o->nzones > 0)
		md_config_clear_zones(cfg);
	for (size_t i = 0; i < o->nzones; i++) {
		if (md_config_add_zone(cfg, o->zones[i], NULL,
			MD_ZONE_FORMAT_AUTO, false, "--zone") != 0)
			return -ENOMEM;
	}
	if (o->root_hints != NULL) {
		free(cfg->root_hints);
		cfg->root_hints = strdup(o->root_hints);
		if (cfg->root_hints == NULL)
			return -ENOMEM;
	}
	if (o->ntrust_anchors > 0)
		md_config_clear_trust_anchors(cfg);
	for (size_t i = 0; i < o->ntrust_anchors; i++) {
		if (md_config_add_trust_anchor(cfg, o->trust_anchors[i]) != 0)
			return -ENOMEM;
	}
	if (o->allow_private)
		cfg->allow_private_upstreams = true;
	if (o->no_recursion)
		cfg->recursion = false;
	if (o->setup_iptables)
		cfg->setup_iptables = true;
	if (o->setup_interface != NULL &&
	    replace_path(&cfg->setup_interface, o->setup_interface) != 0)
		return -ENOMEM;
	if (o->nforward > 0)
		cfg->nforward = 0;
	for (size_t i = 0; i < o->nforward; i++) {
		char zone[MD_NAME_STRLEN], why[256];
		const char *eq = strchr(o->forward[i], '=');

		if (eq == NULL ||
		    (size_t)(eq - o->forward[i]) >= sizeof(zone)) {
			snprintf(err, errlen,
			    "--forward %s: expected ZONE=ADDR[:PORT][,...]",
			    o->forward[i]);
			return MD_ECONFIG;
		}
		memcpy(zone, o->forward[i], (size_t)(eq - o->forward[i]));
		zone[eq - o->forward[i]] = '\0';
		if (md_config_add_forward(
			cfg, zone, eq + 1, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "--forward %s: %s", o->forward[i],
			    why);
			return MD_ECONFIG;
		}
	}
	if (o->stub)
		cfg->stub = true;
	if (o->threads != NULL) {
		long long n;

		if (md_parse_int(o->threads, 0, MD_CONFIG_MAX_THREADS, &n) !=
		    0) {
			snprintf(err, errlen,
			    "--threads: '%s' is not a number from 0 (one per "
			    "CPU) to %d",
			    o->threads, MD_CONFIG_MAX_THREADS);
			return MD_ECONFIG;
		}
		cfg->threads = (unsigned)n;
	}
	if (o->cache_size != NULL) {
		long long n;

		if (md_parse_int(o->cache_size, 1, 65536, &n) != 0) {
			snprintf(err, errlen,
			    "--cache-size: '%s' is not a size in MiB from 1 to "
			    "65536",
			    o->cache_size);
			return MD_ECONFIG;
		}
		cfg->cache_size_mib = (unsigned)n;
	}
	if (replace_path(&cfg->k8s.kubeconfig, o->kubeconfig) != 0 ||
	    replace_path(&cfg->metrics, o->metrics) != 0 ||
	    replace_path(&cfg->health, o->health) != 0 ||
	    replace_path(&cfg->ready, o->ready) != 0 ||
	    replace_path(&cfg->control_socket, o->control_socket) != 0 ||
	    replace_path(&cfg->user, o->user) != 0 ||
	    replace_path(&cfg->pid_file, o->pid_file) != 0)
		return -ENOMEM;
	if (o->nk8s_zones > 0)
		cfg->k8s.nzones = 0;
	for (size_t i = 0; i < o->nk8s_zones; i++) {
		char why[256];

		if (md_config_add_k8s_zone(
			cfg, o->k8s_zones[i], why, sizeof(why)) != 0) {
			snprintf(err, errlen, "--kubernetes-zone: %s", why);
			return MD_ECONFIG;
		}
	}
	if (replace_path(&cfg->tls_ca, o->tls_ca) != 0 ||
	    replace_path(&cfg->tls_cert, o->tls_cert) != 0 ||
	    replace_path(&cfg->tls_key, o->tls_key) != 0)
		return -ENOMEM;
	if (o->ntls_listen > 0)
		cfg->ntls_listen = 0;
	for (size_t i = 0; i < o->ntls_listen; i++) {
		if (md_sockaddr_parse(o->tls_listen[i], 853,
			&cfg->tls_listen[cfg->ntls_listen]) != 0) {
			snprintf(err, errlen,
			    "--tls-listen: '%s' is not an address",
			    o->tls_listen[i]);
			return MD_ECONFIG;
		}
		cfg->ntls_listen++;
	}
	if (o->ntrace > 0)
		cfg->ntrace = 0;
	for (size_t i = 0; i < o->ntrace; i++) {
		char why[256];

		if (md_config_add_trace(cfg, o->trace[i], why, sizeof(why)) !=
		    0) {
			snprintf(err, errlen, "--trace: %s", why);
			return MD_ECONFIG;
		}
	}
	if (o->verbosity > 0)
		cfg->log_level = MD_LOG_DEBUG;
	else if (o->verbosity < 0)
		cfg->log_level = MD_LOG_ERR;
	return note_flags(o, cfg);
}

/*
 * The configuration snapshot: defaults, the file, the flags, then
 * validated and finished (md_config_finish()).  NULL with err set.
 */
static struct md_config *
build_config(const struct options *o, char *err, size_t errlen)
{
	struct md_config *cfg = md_config_new();
	int rc;

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = overlay_flags(o, cfg, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc == 0)
		rc = md_config_finish(cfg, err, errlen);
	if (rc != 0) {
		md_config_unref(cfg);
		return NULL;
	}
	return cfg;
}

/* The zones the configuration names, or the embedded sample zones. */
static struct md_zone_set *
load_zones(const struct md_config *cfg, char *err, size_t errlen)
{
	struct md_zone_source embedded[2] = {
	    {.file = "(embedded) zones/cluster.local.zone",
		.text = (const char *)md_sample_zone_text},
	    {.file = "(embedded) zones/10.in-addr.arpa.zone",
		.text = (const char *)md_sample_reverse_zone_text,
		.auto_ptr = true},
	};
	struct md_zone_source *srcs;
	struct md_zone_set *zs;

	/* The sample zones stand in only when nothing else is configured:
	 * with a Kubernetes source, cluster.local is its. */
	if (!cfg->zones_set && cfg->k8s.nzones > 0)
		return md_zone_set_new_empty();
	if (!cfg->zones_set)
		return md_zone_set_load(embedded, 2, err, errlen);
	srcs = calloc(cfg->nzones ? cfg->nzones : 1, sizeof(*srcs));
	if (srcs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cfg->nzones; i++) {
		srcs[i].file = cfg->zones[i].file;
		srcs[i].origin = cfg->zones[i].origin;
		srcs[i].format = cfg->zones[i].format;
		srcs[i].auto_ptr = cfg->zones[i].auto_ptr;
		srcs[i].where = cfg->zones[i].where;
	}
	zs = md_zone_set_load(srcs, cfg->nzones, err, errlen);
	free(srcs);
	return zs;
}

static void
log_zones(const struct md_zone_set *zs)
{
	for (size_t i = 0; i < md_zone_set_count(zs); i++) {
		const struct md_zone *z = md_zone_set_get(zs, i);
		char name[MD_NAME_STRLEN];

		md_name_to_str(md_zone_origin(z), name, sizeof(name));
		md_info(MD_LOG_ZONE, "zone %s: %zu records, serial %u", name,
		    md_zone_rr_count(z), md_zone_serial(z));
	}
}

/* ---- logging, HTTP, control, privileges ---------------------------------- */

/* Log format, file and query log from the configuration. */
static int
apply_logging(const struct md_config *cfg, char *err, size_t errlen)
{
	int rc = md_log_set_file(cfg->log_file);

	if (rc != 0) {
		md_config_error(cfg, "log-file", err, errlen, "%s: %s",
		    cfg->log_file, md_strerror(rc));
		return rc;
	}
	md_log_set_format(cfg->log_format);
	md_log_set_level(cfg->log_level);
	md_querylog_enable(cfg->query_log);
	return 0;
}

/* ---- what a start needs, checked by -t too -------------------------------- */

/* The user and group to run as (user: NAME[:GROUP]), looked up once. */
struct run_as {
	bool set;
	uid_t uid;
	gid_t gid;
};

/* A decimal user or group ID (not 0: root is no user to drop to). */
static bool
numeric_id(const char *s, uid_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= 0xffffffffUL)
		return false;
	*out = (uid_t)v;
	return true;
}

static int
lookup_user(
    const struct md_config *c, struct run_as *who, char *err, size_t errlen)
{
	char spec[256];
	char *group;
	struct passwd *pw;

	memset(who, 0, sizeof(*who));
	if (c->user == NULL)
		return 0;
	md_strlcpy(spec, c->user, sizeof(spec));
	group = strchr(spec, ':');
	if (group != NULL)
		*group++ = '\0';
	/* A name, or (as container images run) a number: "10053:10053".
	 * A number without a passwd entry needs its group given. */
	pw = getpwnam(spec);
	if (pw != NULL) {
		who->uid = pw->pw_uid;
		who->gid = pw->pw_gid;
	} else if (numeric_id(spec, &who->uid) &&
	    (group != NULL || (pw = getpwuid(who->uid)) != NULL)) {
		if (pw != NULL)
			who->gid = pw->pw_gid;
	} else {
		return md_config_error(c, "user", err, errlen,
		    "user '%s' does not exist%s", spec,
		    numeric_id(spec, &who->uid) ? " (give a group: UID:GID)"
						: "");
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr != NULL)
			who->gid = gr->gr_gid;
		else if (!numeric_id(group, &who->gid))
			return md_config_error(c, "user", err, errlen,
			    "group '%s' does not exist", group);
	}
	who->set = true;
	return 0;
}

/* The folder a file is to be made in exists and takes new files. */
static int
check_folder_of(const struct md_config *c, const char *key, const char *path,
    char *err, size_t errlen)
{
	char dir[4096];

	if (md_path_dir(path, dir, sizeof(dir)) != 0)
		return md_config_error(
		    c, key, err, errlen, "%s: path too long", path);
	if (access(dir, W_OK | X_OK) != 0)
		return md_config_error(c, key, err, errlen, "%s: folder %s: %s",
		    path, dir, strerror(errno));
	return 0;
}

/*
 * Everything the start refuses before it binds a socket, in one place:
 * the start runs it before it forks, and minidnsd -t runs it too, so a
 * check passes only when the start would (binding itself is left to the
 * start: an address in use or not local).  Fills *who.  Returns 0, or
 * MD_ECONFIG with "FILE:LINE: key: problem" ("--flag: problem") in err.
 */
static int
check_start(
    const struct md_config *cfg, struct run_as *who, char *err, size_t errlen)
{
	SSL_CTX *tls = NULL;
	struct stat st;
	char why[768];
	int rc;

	rc = lookup_user(cfg, who, err, errlen);
	if (rc != 0)
		return rc;
	if (cfg->chroot_dir != NULL &&
	    (stat(cfg->chroot_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return md_config_error(cfg, "chroot", err, errlen,
		    "%s is not a folder", cfg->chroot_dir);
	rc = md_server_tls_ctx_new(cfg, &tls, err, errlen);
	SSL_CTX_free(tls);
	if (rc != 0)
		return rc;
	if (cfg->control_socket != NULL &&
	    md_control_check_path(cfg->control_socket, who->set, who->uid,
		who->gid, why, sizeof(why)) != 0)
		return md_config_error(
		    cfg, "control-socket", err, errlen, "%s", why);
	if (cfg->pid_file != NULL &&
	    (rc = check_folder_of(
		 cfg, "pid-file", cfg->pid_file, err, errlen)) != 0)
		return rc;
	rc = md_nodenet_check_config(cfg, err, errlen);
	if (rc != 0)
		return rc;
	/* The in-cluster settings exist only in a pod: -t run elsewhere
	 * (checking a ConfigMap) leaves them to the start. */
	if (cfg->k8s.nzones > 0 &&
	    (cfg->k8s.server != NULL || cfg->k8s.kubeconfig != NULL ||
		getenv("KUBERNETES_SERVICE_HOST") != NULL)) {
		struct md_k8s_endpoint_conf ep;

		memset(&ep, 0, sizeof(ep));
		rc = md_k8s_resolve_endpoint(&cfg->k8s, &ep, why, sizeof(why));
		md_k8s_endpoint_conf_deinit(&ep);
		if (rc != 0)
			return md_config_error(
			    cfg, "kubernetes", err, errlen, "%s", why);
	}
	return 0;
}

/*
 * Once the sockets are bound: chroot (if set), then become the configured
 * user and group (looked up by check_start()), for good (RFC-less, but
 * every resolver does it).
 */
static int
drop_privileges(const struct md_config *c, const struct run_as *who, char *err,
    size_t errlen)
{
	if (c->chroot_dir != NULL &&
	    (chroot(c->chroot_dir) != 0 || chdir("/") != 0)) {
		snprintf(err, errlen, "chroot %s: %s", c->chroot_dir,
		    strerror(errno));
		return -errno;
	}
	if (who->set &&
	    (setgroups(1, &who->gid) != 0 ||
		setresgid(who->gid, who->gid, who->gid) != 0 ||
		setresuid(who->uid, who->uid, who->uid) != 0)) {
		snprintf(err, errlen, "cannot become %s: %s", c->user,
		    strerror(errno));
		return -errno;
	}
	if (who->set)
		md_info(MD_LOG_MAIN, "running as %s (uid %u, gid %u)%s%s",
		    c->user, (unsigned)who->uid, (unsigned)who->gid,
		    c->chroot_dir ? ", chroot " : "",
		    c->chroot_dir ? c->chroot_dir : "");
	return 0;
}

/* ---- watching files for changes ---------------------------------------- */

static void
watch_clear(struct daemon *d)
{
	for (size_t i = 0; i < d->nwatch; i++)
		free(d->watch[i].path);
	free(d->watch);
	d->watch = NULL;
	d->nwatch = 0;
}

static void
watch_add(struct daemon *d, const char *path)
{
	struct watched *v = realloc(d->watch, (d->nwatch + 1) * sizeof(*v));

	if (v == NULL)
		return;
	d->watch = v;
	v[d->nwatch].path = strdup(path);
	if (v[d->nwatch].path == NULL)
		return;
	v[d->nwatch].exists = stat(path, &v[d->nwatch].st) == 0;
	d->nwatch++;
}

static void
watch_files(struct daemon *d, const struct md_config *cfg)
{
	watch_clear(d);
	if (cfg->path != NULL)
		watch_add(d, cfg->path);
	for (size_t i = 0; i < cfg->nzones; i++)
		watch_add(d, cfg->zones[i].file);
}

static bool
watch_changed(const struct daemon *d)
{
	for (size_t i = 0; i < d->nwatch; i++) {
		const struct watched *w = &d->watch[i];
		struct stat st;
		bool exists = stat(w->path, &st) == 0;

		if (exists != w->exists)
			return true;
		if (exists &&
		    (st.st_mtim.tv_sec != w->st.st_mtim.tv_sec ||
			st.st_mtim.tv_nsec != w->st.st_mtim.tv_nsec ||
			st.st_size != w->st.st_size ||
			st.st_ino != w->st.st_ino))
			return true;
	}
	return false;
}

static void schedule_check(struct daemon *d);

/* The Kubernetes source by cfg: started, restarted with new settings,
 * or stopped.  Its zones keep serving until the new source publishes. */
static int
k8s_apply(
    struct daemon *d, const struct md_config *cfg, char *err, size_t errlen)
{
	struct md_k8s *k = NULL;

	if (d->k8s != NULL && md_k8s_conf_equal(&d->cfg->k8s, &cfg->k8s))
		return 0;
	/* The new source first: when it cannot start, the old one (if
	 * any) keeps watching and the reload fails. */
	if (cfg->k8s.nzones > 0) {
		char why[768];

		k = md_k8s_new(
		    d->base, &cfg->k8s, k8s_publish_cb, d, why, sizeof(why));
		if (k == NULL)
			return md_config_error(
			    cfg, "kubernetes", err, errlen, "%s", why);
	}
	if (d->k8s != NULL) {
		md_info(MD_LOG_MAIN,
		    "kubernetes: settings changed, restarting "
		    "the source");
		md_k8s_free(d->k8s);
		d->k8s_announced = false;
	}
	d->k8s = k;
	d->sources.k8s = k;
	if (k != NULL && d->nk8s == 0 && k8s_serve_pending(d, &cfg->k8s) != 0)
		md_err(MD_LOG_ZONE, "kubernetes: out of memory");
	if (k == NULL) {
		/* Off now: its zones go. */
		for (size_t i = 0; i < d->nk8s; i++)
			md_zone_free(d->k8s_zones[i]);
		free(d->k8s_zones);
		d->k8s_zones = NULL;
		d->nk8s = 0;
		return 0;
	}
	md_info(MD_LOG_MAIN, "kubernetes: watching the API for %zu zone%s",
	    cfg->k8s.nzones, cfg->k8s.nzones == 1 ? "" : "s");
	return 0;
}

/* Keys changed since start-up that only a restart applies: logged once
 * each, listed by minidns-control status. */
static void
note_restart_keys(struct daemon *d, const struct md_config *cfg)
{
	const char *keys[32];
	size_t n = md_config_restart_keys(d->boot, cfg, keys, 32);

	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t j = 0; j < d->nrestart_keys; j++)
			known |= strcmp(d->restart_keys[j], keys[i]) == 0;
		if (!known)
			md_warn(MD_LOG_CONFIG,
			    "%s: changed; takes effect on restart (the "
			    "value the server started with stays in use)",
			    keys[i]);
	}
	memcpy(d->restart_keys, keys, n * sizeof(keys[0]));
	d->nrestart_keys = n;
}

void
md_daemon_reload(struct daemon *d, const char *why)
{
	struct md_config *cfg;
	struct md_zone_set *zs;
	char err[1024];

	md_info(MD_LOG_MAIN, "reloading (%s)", why);
	md_nodenet_recheck(&d->nf);
	cfg = build_config(d->opt, err, sizeof(err));
	if (cfg == NULL) {
		watch_files(d, d->cfg);
		goto failed;
	}
	zs = load_zones(cfg, err, sizeof(err));
	/* Note the files as they are now, so a broken file is retried only
	 * once it changes again. */
	watch_files(d, cfg);
	if (zs == NULL) {
		md_config_unref(cfg);
		goto failed;
	}
	if (k8s_apply(d, cfg, err, sizeof(err)) != 0) {
		md_zone_set_unref(zs);
		md_config_unref(cfg);
		goto failed;
	}
	note_restart_keys(d, cfg);
	if (apply_logging(cfg, err, sizeof(err)) != 0)
		md_err(MD_LOG_CONFIG, "%s (logging unchanged)", err);
	else if (d->daemonized)
		md_log_use_syslog(cfg->log_file == NULL);
	md_server_update(d->srv, cfg);
	log_zones(zs);
	md_info(MD_LOG_MAIN, "reload done: %zu zones", md_zone_set_count(zs));
	md_zone_set_unref(d->file_zones);
	d->file_zones = zs;
	publish(d);
	md_config_unref(d->cfg);
	d->cfg = cfg;
	d->reloads++;
	md_metrics_reload(true);
	schedule_check(d);
	return;
failed:
	md_err(MD_LOG_CONFIG, "reload failed, old data still served: %s", err);
	md_strlcpy(d->last_reload_error, err, sizeof(d->last_reload_error));
	d->reload_failures++;
	md_metrics_reload(false);
}

static void
check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (watch_changed(d))
		md_daemon_reload(d, "a watched file changed");
	else
		schedule_check(d);
}

static void
schedule_check(struct daemon *d)
{
	struct timeval tv = {(time_t)d->cfg->zone_check_interval, 0};

	if (d->cfg->zone_check_interval == 0) {
		event_del(d->check_ev);
		return;
	}
	event_add(d->check_ev, &tv);
}

static void
drained_cb(void *arg)
{
	struct daemon *d = arg;

	event_base_loopbreak(d->base);
}

static void
lameduck_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	md_info(MD_LOG_MAIN, "lameduck over");
	md_server_drain(d->srv, drained_cb, d);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		md_daemon_reload(d, "SIGHUP");
		return;
	}
	if (sig == SIGUSR1) {
		int rc = md_log_reopen();

		if (rc != 0)
			md_err(MD_LOG_MAIN, "reopening the log file: %s",
			    md_strerror(rc));
		else
			md_info(MD_LOG_MAIN, "log file reopened");
		return;
	}
	md_info(MD_LOG_MAIN, "%s received, stopping",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	/* A second signal stops at once. */
	if (d->stopping) {
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = true;
	/* lameduck (CoreDNS's health plugin): /ready says 503 while the
	 * queries are still answered, so the Service's endpoints drop this
	 * pod before it stops answering. */
	if (d->cfg->lameduck_ms > 0) {
		struct timeval tv = {d->cfg->lameduck_ms / 1000,
		    (d->cfg->lameduck_ms % 1000) * 1000};

		d->lameduck_ev = evtimer_new(d->base, lameduck_done_cb, d);
		if (d->lameduck_ev != NULL &&
		    event_add(d->lameduck_ev, &tv) == 0) {
			md_info(MD_LOG_MAIN,
			    "lameduck: answering %u ms more, /ready 503",
			    d->cfg->lameduck_ms);
			return;
		}
	}
	md_server_drain(d->srv, drained_cb, d);
}

/*
 * The control thread (this one) gives way to the workers when the CPUs
 * are busy: a reload's parsing, a Kubernetes re-sync or a zone build must
 * not delay a query.  Linux keeps the nice value per thread, and the
 * workers, started before this call, keep theirs; SCHED_BATCH also tells
 * the scheduler not to let this thread's wake-ups preempt them.
 */
static void
yield_to_workers(void)
{
	struct sched_param sp = {0};
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno == 0 && setpriority(PRIO_PROCESS, (id_t)tid, nice + 10) != 0)
		md_debug(MD_LOG_MAIN, "control thread priority: %s",
		    strerror(errno));
	if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
		md_debug(MD_LOG_MAIN, "control thread SCHED_BATCH: %s",
		    strerror(errno));
}

/* ---- daemon mode ------------------------------------------------------- */

/*
 * Fork before anything else starts (threads do not survive a fork; the
 * event bases are made after it): the parent waits for the child to say
 * how start-up went, one byte on a pipe, and exits with that code, so
 * "minidnsd" returns once the server answers, or fails with the reason
 * on the terminal and the exit code of a foreground run.  The child
 * starts a session and keeps stderr until it is ready.
 */
static int
daemonize_begin(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		unsigned char code = EXIT_START;

		close(fds[1]);
		while (read(fds[0], &code, 1) < 0 && errno == EINTR)
			;
		_exit(code);
	}
	close(fds[0]);
	if (setsid() < 0)
		return -errno;
	return fds[1];
}

/* The child is serving (code 0) or failed: tell the parent, let go of the
 * terminal. */
static void
daemonize_end(int fd, int code)
{
	unsigned char c = (unsigned char)code;
	int null;

	if (fd < 0)
		return;
	if (write(fd, &c, 1) != 1)
		md_warn(MD_LOG_MAIN, "cannot report to the parent process");
	close(fd);
	if (code != 0)
		return;
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* pid-file: written by the process that serves, before it gives up
 * root; removed when it stops (if it still may). */
static int
write_pid_file(const char *path, char *err, size_t errlen)
{
	FILE *f;

	if (path == NULL)
		return 0;
	f = fopen(path, "we");
	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0) {
		snprintf(err, errlen, "pid-file %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* libevent's own warnings (an accept() that fails, say) go through the
 * log, and so through its rate limit, rather than straight to stderr. */
static void
libevent_log_cb(int severity, const char *msg)
{
	enum md_log_level level = severity >= EVENT_LOG_ERR ? MD_LOG_ERR
	    : severity == EVENT_LOG_WARN		    ? MD_LOG_WARN
							    : MD_LOG_DEBUG;

	md_log(level, MD_LOG_NET, "libevent: %s", msg);
}

int
main(int argc, char **argv)
{
	struct daemon d;
	struct options opt;
	struct md_zone_set *zs = NULL;
	struct event *sigs[4] = {NULL, NULL, NULL, NULL};
	static const int signums[4] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
	char err[1024];
	struct run_as who;
	bool pid_written = false;
	int rc;

	memset(&d, 0, sizeof(d));
	d.nf.pid = -1;
	d.nf.fd = -1;
	memset(&opt, 0, sizeof(opt));
	d.opt = &opt;
	d.ready_fd = -1;
	md_log_init("minidnsd");
	event_set_log_callback(libevent_log_cb);
	rc = parse_args(argc, argv, &opt);
	if (rc != 0)
		return rc;
	d.cfg = build_config(&opt, err, sizeof(err));
	if (d.cfg == NULL) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	d.boot = md_config_ref(d.cfg);
	if (apply_logging(d.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	zs = load_zones(d.cfg, err, sizeof(err));
	if (zs == NULL || check_start(d.cfg, &who, err, sizeof(err)) != 0) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	if (opt.check) {
		size_t n = md_zone_set_count(zs);

		printf("minidnsd: configuration OK (%s), %zu zone%s\n",
		    d.cfg->path ? d.cfg->path : "no configuration file", n,
		    n == 1 ? "" : "s");
		rc = 0;
		goto cleanup;
	}
	if (!opt.foreground) {
		d.ready_fd = daemonize_begin();
		if (d.ready_fd < 0) {
			fprintf(stderr, "minidnsd: cannot daemonize: %s\n",
			    strerror(-d.ready_fd));
			rc = EXIT_START;
			goto cleanup;
		}
	}

	/* The node's set-up (setup-interface, setup-iptables): its keeper
	 * forks while we are one thread, and all is in place before the
	 * sockets are bound. */
	if (md_nodenet_start(&d.nf, d.cfg, !opt.foreground, d.ready_fd, err,
		sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_START;
		goto cleanup;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Worker threads: libevent's locks, before the first base. */
	evthread_use_pthreads();
	d.base = event_base_new();
	d.srv = d.base ? md_server_new(d.base, d.cfg) : NULL;
	if (d.srv == NULL) {
		md_err(MD_LOG_MAIN, "cannot start the event loop");
		rc = EXIT_START;
		goto cleanup;
	}
	md_info(MD_LOG_MAIN, "minidnsd %s starting: %s", PACKAGE_VERSION,
	    d.cfg->path ? d.cfg->path
			: "no configuration file, embedded defaults (sample "
			  "zones cluster.local and 10.in-addr.arpa, loopback "
			  "listeners)");
	if (!d.cfg->zones_set && d.cfg->k8s.nzones == 0)
		md_info(MD_LOG_ZONE, "serving the embedded sample zones");
	log_zones(zs);
	d.file_zones = zs;
	zs = NULL;
	if (k8s_apply(&d, d.cfg, err, sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	publish(&d);
	wait_for_k8s(&d);
	if (md_server_listen(d.srv) != 0) {
		rc = EXIT_START;
		goto cleanup;
	}
	if (d.cfg->recursion)
		md_info(MD_LOG_MAIN,
		    "recursion on for access-control networks; root hints: %s%s",
		    d.cfg->root_hints ? d.cfg->root_hints : "built in (IANA)",
		    d.cfg->allow_private_upstreams
			? "; private upstream addresses allowed"
			: "");
	if (d.cfg->dnssec_off_forwarded)
		md_info(MD_LOG_MAIN,
		    "DNSSEC validation is off: every name is forwarded (stub "
		    "or a forward zone for .); dnssec: validate checks the "
		    "upstreams' answers here");
	if (d.cfg->dnssec_off_custom_hints)
		md_warn(MD_LOG_MAIN,
		    "DNSSEC validation is off: root-hints names a custom root "
		    "and no trust-anchor-file is configured");
	if (write_pid_file(d.cfg->pid_file, err, sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_START;
		goto cleanup;
	}
	pid_written = d.cfg->pid_file != NULL;
	for (int i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], signal_cb, &d);
		if (sigs[i] != NULL)
			event_add(sigs[i], NULL);
	}
	d.start_ms = md_now_ms();
	if (md_daemon_start_http(&d, err, sizeof(err)) != 0 ||
	    md_daemon_start_control(&d, err, sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_START;
		goto cleanup;
	}
	/* Everything that needs root is bound: drop it, then start the
	 * workers, which never run as root.  The control socket is the
	 * daemon's user's from now on (minidns-control(8)). */
	if ((who.set && d.control != NULL &&
		md_control_set_owner(
		    d.control, who.uid, who.gid, err, sizeof(err)) != 0) ||
	    drop_privileges(d.cfg, &who, err, sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_START;
		goto cleanup;
	}
	if (md_server_start(d.srv) != 0) {
		rc = EXIT_START;
		goto cleanup;
	}
	yield_to_workers();
	/* The listeners and workers run: our own probes can come back. */
	md_server_loop_start(d.srv);
	d.check_ev = evtimer_new(d.base, check_cb, &d);
	watch_files(&d, d.cfg);
	schedule_check(&d);
	md_info(MD_LOG_MAIN, "ready");
	if (d.ready_fd >= 0) {
		/* A daemon logs to syslog, unless log-file names a file. */
		d.daemonized = true;
		md_log_use_syslog(d.cfg->log_file == NULL);
		daemonize_end(d.ready_fd, 0);
		d.ready_fd = -1;
	}
	if (d.cfg->prime_at_start)
		md_server_prime(d.srv);
	event_base_dispatch(d.base);
	md_info(MD_LOG_MAIN, "stopped");
	rc = 0;
cleanup:
	daemonize_end(d.ready_fd, rc);
	for (int i = 0; i < 4; i++) {
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	}
	if (d.check_ev != NULL)
		event_free(d.check_ev);
	if (d.lameduck_ev != NULL)
		event_free(d.lameduck_ev);
	md_control_free(d.control);
	md_metrics_http_free(d.http);
	md_k8s_free(d.k8s);
	md_server_free(d.srv);
	/* Our sockets are closed: the node's set-up goes (unless another
	 * server took them over). */
	if (d.nf.fd >= 0 || d.nf.pid > 0)
		md_nodenet_stop(&d.nf);
	md_zone_set_unref(zs);
	md_zone_set_unref(d.file_zones);
	for (size_t i = 0; i < d.nk8s; i++)
		md_zone_free(d.k8s_zones[i]);
	free(d.k8s_zones);
	if (d.base != NULL)
		event_base_free(d.base);
	watch_clear(&d);
	if (pid_written)
		unlink(d.boot->pid_file);
	md_config_unref(d.boot);
	md_config_unref(d.cfg);
	free(opt.zones);
	free(opt.trust_anchors);
	return rc;
}
