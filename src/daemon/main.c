/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - minidnsd: command line, configuration and zones at start-up,
 * signals (SIGHUP reload, SIGTERM/SIGINT stop), reload when a zone or the
 * config file changes on disk, daemonizing.  A reload that fails keeps the
 * old data serving.
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
#include <sys/stat.h>
#include <unistd.h>

#include <event2/thread.h>
#include <event2/event.h>

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

#define EXIT_CONFIG 1
#define EXIT_USAGE 2
#define EXIT_START 3

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
	bool allow_private;
	bool no_recursion;
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
	const char *threads, *cache_size; /* numbers, checked in build_config */
	const char *k8s_zones[MD_K8S_ZONES_MAX];
	size_t nk8s_zones;
	bool foreground;
	bool check;
	int verbosity; /* -1 quiet, 0 config, 1 debug */
};

struct watched {
	char *path;
	struct stat st;
	bool exists;
};

struct daemon {
	struct options opt;
	struct event_base *base;
	struct md_server *srv;
	struct md_config cfg;
	struct watched *watch;
	size_t nwatch;
	struct event *check_ev;
	/* what is served: the zone files, plus the Kubernetes zones */
	struct md_zone_set *file_zones;
	struct md_zone **k8s_zones; /* main, per namespace, reverse */
	size_t nk8s;
	struct md_k8s *k8s;
	struct md_metrics_http *http;
	struct md_metrics_sources sources;
	struct md_control *control;
	uint64_t start_ms;
	unsigned reloads, reload_failures;
	bool stopping;
	bool k8s_announced;
	char last_reload_error[1024];
};

static void reload(struct daemon *d, const char *why);

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
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: minidnsd [-c FILE] [--listen ADDR:PORT]... [--zone ZONEFILE]...\n"
	    "                [--root-hints FILE] [--allow-private-upstreams]\n"
	    "                [--no-recursion] [--trace NAME]...\n"
	    "                [--forward ZONE=ADDR[,ADDR]...]... [--stub]\n"
	    "                [--tls-ca FILE] [--tls-listen ADDR:PORT]...\n"
	    "                [--tls-cert FILE --tls-key FILE]\n"
	    "                [--kubernetes-zone ZONE]... [--kubeconfig FILE]\n"
	    "                [--metrics|--health|--ready ADDR:PORT|off]\n"
	    "                [--control-socket PATH] [--user USER[:GROUP]]\n"
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
	    "      --threads N      worker threads, each with its own sockets\n"
	    "                       (default: one per CPU)\n"
	    "      --cache-size MiB memory for the cache (default 64)\n"
	    "  -f, --foreground     stay in the foreground, log to stderr\n"
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
	    {"allow-private-upstreams", no_argument, NULL, 'P'},
	    {"no-recursion", no_argument, NULL, 'N'},
	    {"trace", required_argument, NULL, 'T'},
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"metrics", required_argument, NULL, 'M'},
	    {"health", required_argument, NULL, 'H'},
	    {"ready", required_argument, NULL, 'Y'},
	    {"control-socket", required_argument, NULL, 'O'},
	    {"user", required_argument, NULL, 'u'},
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
		case 'P':
			o->allow_private = true;
			break;
		case 'N':
			o->no_recursion = true;
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

/* Defaults, then the file, then the flags. */
static int
build_config(
    const struct options *o, struct md_config *cfg, char *err, size_t errlen)
{
	const char *path = o->config;
	int rc;

	md_config_init(cfg);
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
			MD_ZONE_FORMAT_AUTO, false) != 0)
			return -ENOMEM;
	}
	if (o->root_hints != NULL) {
		free(cfg->root_hints);
		cfg->root_hints = strdup(o->root_hints);
		if (cfg->root_hints == NULL)
			return -ENOMEM;
	}
	if (o->allow_private)
		cfg->allow_private_upstreams = true;
	if (o->no_recursion)
		cfg->recursion = false;
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
	    replace_path(&cfg->user, o->user) != 0)
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
	/* HTTP endpoints: "off", ":PORT" or ADDR:PORT. */
	const char *https[3] = {cfg->metrics, cfg->health, cfg->ready};
	static const char *const hnames[3] = {"metrics", "health", "ready"};

	for (int i = 0; i < 3; i++) {
		struct md_sockaddr sa;
		char tmp[80];
		const char *a = https[i];

		if (a == NULL || strcmp(a, "off") == 0)
			continue;
		if (a[0] == ':')
			snprintf(tmp, sizeof(tmp), "0.0.0.0%s", a);
		else
			md_strlcpy(tmp, a, sizeof(tmp));
		if (md_sockaddr_parse(tmp, 0, &sa) != 0 ||
		    strrchr(a, ':') == NULL) {
			snprintf(err, errlen,
			    "%s: '%s' is not ADDR:PORT, :PORT or off",
			    hnames[i], a);
			return MD_ECONFIG;
		}
	}
	/* An open resolver answers anyone, and is used for amplification:
	 * only when asked for in so many words. */
	for (size_t i = 0; cfg->recursion && i < cfg->nacl; i++) {
		if (cfg->acl[i].prefix == 0 && !cfg->allow_open_resolver) {
			snprintf(err, errlen,
			    "access-control opens recursion to every address; "
			    "set allow-open-resolver: yes if that is meant");
			return MD_ECONFIG;
		}
	}
	if (o->verbosity > 0)
		cfg->log_level = MD_LOG_DEBUG;
	else if (o->verbosity < 0)
		cfg->log_level = MD_LOG_ERR;
	return 0;
}

/* The resolution engine's settings from the configuration. */
static int
build_resolve_conf(const struct md_config *cfg, struct md_resolve_conf *rc,
    char *err, size_t errlen)
{
	md_resolve_conf_init(rc);
	if (cfg->root_hints != NULL) {
		int e = md_resolve_load_hints(rc, cfg->root_hints, err, errlen);

		if (e != 0)
			return e;
	}
	rc->allow_private = cfg->allow_private_upstreams;
	rc->qname_minimisation = cfg->qname_minimisation;
	rc->use_0x20 = cfg->use_0x20;
	rc->max_queries = cfg->max_upstream_queries;
	rc->max_depth = cfg->max_referral_depth;
	rc->max_cname = cfg->max_cname_chain;
	rc->max_ns_names = cfg->max_ns_names;
	rc->timeout_ms = cfg->resolution_timeout;
	memcpy(rc->forward, cfg->forward, sizeof(rc->forward));
	rc->nforward = cfg->nforward;
	/* Stub mode: everything goes to the upstreams of ".", from
	 * resolv.conf when none are configured. */
	if (cfg->stub) {
		uint8_t root = 0;
		bool have_root = false;

		for (size_t i = 0; i < rc->nforward; i++)
			have_root |= rc->forward[i].zone[0] == 0;
		if (!have_root && rc->nforward < MD_FORWARD_ZONES_MAX) {
			const char *path = cfg->resolv_conf != NULL
			    ? cfg->resolv_conf
			    : "/etc/resolv.conf";
			struct md_forward_zone *f = &rc->forward[rc->nforward];
			int n;

			memset(f, 0, sizeof(*f));
			f->zone[0] = root;
			n = md_resolv_conf_read(
			    path, f->servers, MD_FORWARD_SERVERS_MAX);
			if (n <= 0) {
				snprintf(err, errlen,
				    "stub: no nameserver in %s%s%s", path,
				    n < 0 ? ": " : "",
				    n < 0 ? strerror(-n) : "");
				return MD_ECONFIG;
			}
			f->nservers = (size_t)n;
			rc->nforward++;
		}
	}
	return 0;
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
		snprintf(err, errlen, "log-file %s: %s", cfg->log_file,
		    md_strerror(rc));
		return rc;
	}
	md_log_set_format(cfg->log_format);
	md_log_set_level(cfg->log_level);
	md_querylog_enable(cfg->query_log);
	return 0;
}

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

static int
start_http(struct daemon *d, char *err, size_t errlen)
{
	const struct md_config *c = &d->cfg;
	/* CoreDNS's ports, so existing probes and scrapes keep working; the
	 * defaults may be taken (then only a warning). */
	bool optional =
	    c->metrics == NULL && c->health == NULL && c->ready == NULL;
	const char *m = http_addr(c->metrics, "0.0.0.0:9153");
	const char *h = http_addr(c->health, "0.0.0.0:8080");
	const char *r = http_addr(c->ready, "0.0.0.0:8181");

	d->sources.cache = md_server_cache(d->srv);
	d->sources.server = d->srv;
	d->sources.k8s = d->k8s;
	d->sources.zones_loaded = zones_loaded_cb;
	d->sources.arg = d;
	if (m == NULL && h == NULL && r == NULL)
		return 0;
	d->http = md_metrics_http_new(
	    d->base, m, h, r, optional, &d->sources, err, errlen);
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
	    d->cfg.path ? d->cfg.path : "(none: defaults and flags)");
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
	snprintf(
	    buf, sizeof(buf), "recursion: %s", d->cfg.recursion ? "on" : "off");
	line(ctx, buf);
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

	reload(d, "control socket");
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
	if (v->kind != MD_CACHE_RRSET) {
		snprintf(buf, sizeof(buf), "%s\t%u\t%s\t%s%s", name, v->ttl,
		    v->kind == MD_CACHE_NXDOMAIN ? "NXDOMAIN" : "NODATA",
		    v->kind == MD_CACHE_NODATA
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
		    v->stale ? "\t; stale" : "");
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
	struct daemon *d = arg;
	enum md_log_level l;

	if (level == NULL || md_log_level_parse(level, &l) != 0) {
		snprintf(
		    msg, len, "not a log level (error, warning, info, debug)");
		return MD_EPARSE;
	}
	md_log_set_level(l);
	d->cfg.log_level = l;
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

static int
start_control(struct daemon *d, char *err, size_t errlen)
{
	static struct md_control_ops ops;

	if (d->cfg.control_socket == NULL)
		return 0;
	ops.arg = d;
	ops.status = ctl_status;
	ops.stats = ctl_stats;
	ops.reload = ctl_reload;
	ops.flush = ctl_flush;
	ops.dump_cache = ctl_dump_cache;
	ops.set_loglevel = ctl_set_loglevel;
	ops.trace = ctl_trace;
	d->control =
	    md_control_new(d->base, d->cfg.control_socket, &ops, err, errlen);
	return d->control != NULL ? 0 : MD_ECONFIG;
}

/*
 * Once the sockets are bound: chroot (if set), then become the configured
 * user and group, for good (RFC-less, but every resolver does it).
 */
static int
drop_privileges(const struct md_config *c, char *err, size_t errlen)
{
	char spec[256];
	char *group;
	struct passwd *pw = NULL;
	gid_t gid;

	if (c->user == NULL && c->chroot_dir == NULL)
		return 0;
	if (c->user != NULL) {
		md_strlcpy(spec, c->user, sizeof(spec));
		group = strchr(spec, ':');
		if (group != NULL)
			*group++ = '\0';
		pw = getpwnam(spec);
		if (pw == NULL) {
			snprintf(err, errlen, "user '%s' does not exist", spec);
			return MD_ECONFIG;
		}
		gid = pw->pw_gid;
		if (group != NULL) {
			struct group *gr = getgrnam(group);

			if (gr == NULL) {
				snprintf(err, errlen,
				    "group '%s' does not exist", group);
				return MD_ECONFIG;
			}
			gid = gr->gr_gid;
		}
	}
	if (c->chroot_dir != NULL &&
	    (chroot(c->chroot_dir) != 0 || chdir("/") != 0)) {
		snprintf(err, errlen, "chroot %s: %s", c->chroot_dir,
		    strerror(errno));
		return -errno;
	}
	if (pw != NULL &&
	    (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
		setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)) {
		snprintf(err, errlen, "cannot become %s: %s", c->user,
		    strerror(errno));
		return -errno;
	}
	if (pw != NULL)
		md_info(MD_LOG_MAIN, "running as %s (uid %u, gid %u)%s%s",
		    c->user, (unsigned)pw->pw_uid, (unsigned)gid,
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

/* Reload configuration and zones; on any error keep what is serving. */
static void
reload(struct daemon *d, const char *why)
{
	struct md_config cfg;
	struct md_zone_set *zs;
	struct md_resolve_conf rconf;
	char err[1024];

	md_info(MD_LOG_MAIN, "reloading (%s)", why);
	if (build_config(&d->opt, &cfg, err, sizeof(err)) != 0 ||
	    build_resolve_conf(&cfg, &rconf, err, sizeof(err)) != 0) {
		watch_files(d, &d->cfg);
		md_config_deinit(&cfg);
		goto failed;
	}
	zs = load_zones(&cfg, err, sizeof(err));
	/* Note the files as they are now, so a broken file is retried only
	 * once it changes again. */
	watch_files(d, &cfg);
	if (zs == NULL) {
		md_config_deinit(&cfg);
		goto failed;
	}
	if (cfg.nlisten != d->cfg.nlisten ||
	    memcmp(cfg.listen, d->cfg.listen,
		cfg.nlisten * sizeof(cfg.listen[0])) != 0)
		md_warn(MD_LOG_CONFIG,
		    "listen addresses changed: they take effect on restart");
	if (apply_logging(&cfg, err, sizeof(err)) != 0)
		md_err(MD_LOG_CONFIG, "%s (logging unchanged)", err);
	md_server_update(d->srv, &cfg);
	md_server_set_resolve_conf(d->srv, &rconf);
	log_zones(zs);
	md_info(MD_LOG_MAIN, "reload done: %zu zones", md_zone_set_count(zs));
	md_zone_set_unref(d->file_zones);
	d->file_zones = zs;
	publish(d);
	if (memcmp(&cfg.k8s.zones, &d->cfg.k8s.zones, sizeof(cfg.k8s.zones)) !=
	    0)
		md_warn(MD_LOG_CONFIG, "kubernetes settings change on restart");
	md_config_deinit(&d->cfg);
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
		reload(d, "a watched file changed");
	else
		schedule_check(d);
}

static void
schedule_check(struct daemon *d)
{
	struct timeval tv = {(time_t)d->cfg.zone_check_interval, 0};

	if (d->cfg.zone_check_interval == 0) {
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
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d, "SIGHUP");
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
	md_server_drain(d->srv, drained_cb, d);
}

static int
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct daemon d;
	struct md_zone_set *zs = NULL;
	struct md_resolve_conf rconf;
	struct event *sigs[4] = {NULL, NULL, NULL, NULL};
	static const int signums[4] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
	char err[1024];
	int rc;

	memset(&d, 0, sizeof(d));
	md_log_init("minidnsd");
	rc = parse_args(argc, argv, &d.opt);
	if (rc != 0)
		return rc;
	if (build_config(&d.opt, &d.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	if (apply_logging(&d.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	if (build_resolve_conf(&d.cfg, &rconf, err, sizeof(err)) != 0) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	zs = load_zones(&d.cfg, err, sizeof(err));
	if (zs == NULL) {
		fprintf(stderr, "minidnsd: %s\n", err);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	if (d.opt.check) {
		size_t n = md_zone_set_count(zs);

		printf("minidnsd: configuration OK (%s), %zu zone%s\n",
		    d.cfg.path ? d.cfg.path : "no configuration file", n,
		    n == 1 ? "" : "s");
		rc = 0;
		goto cleanup;
	}

	signal(SIGPIPE, SIG_IGN);
	/* Worker threads: libevent's locks, before the first base. */
	evthread_use_pthreads();
	d.base = event_base_new();
	d.srv = d.base ? md_server_new(d.base, &d.cfg) : NULL;
	if (d.srv == NULL) {
		fprintf(stderr, "minidnsd: cannot start the event loop\n");
		rc = EXIT_START;
		goto cleanup;
	}
	md_info(MD_LOG_MAIN, "minidnsd %s starting: %s", PACKAGE_VERSION,
	    d.cfg.path ? d.cfg.path
		       : "no configuration file, embedded defaults (sample "
			 "zones cluster.local and 10.in-addr.arpa, loopback "
			 "listeners)");
	if (!d.cfg.zones_set && d.cfg.k8s.nzones == 0)
		md_info(MD_LOG_ZONE, "serving the embedded sample zones");
	log_zones(zs);
	d.file_zones = zs;
	zs = NULL;
	publish(&d);
	md_server_set_resolve_conf(d.srv, &rconf);
	if (md_server_listen(d.srv) != 0) {
		rc = EXIT_START;
		goto cleanup;
	}
	if (d.cfg.recursion)
		md_info(MD_LOG_MAIN,
		    "recursion on for access-control networks; root hints: %s%s",
		    d.cfg.root_hints ? d.cfg.root_hints : "built in (IANA)",
		    d.cfg.allow_private_upstreams
			? "; private upstream addresses allowed"
			: "");
	if (!d.opt.foreground) {
		md_log_use_syslog(true);
		if (daemonize() != 0) {
			md_err(MD_LOG_MAIN, "cannot daemonize");
			rc = EXIT_START;
			goto cleanup;
		}
	}
	for (int i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], signal_cb, &d);
		if (sigs[i] != NULL)
			event_add(sigs[i], NULL);
	}
	if (d.cfg.k8s.nzones > 0) {
		d.k8s = md_k8s_new(
		    d.base, &d.cfg.k8s, k8s_publish_cb, &d, err, sizeof(err));
		if (d.k8s == NULL) {
			md_err(MD_LOG_MAIN, "kubernetes: %s", err);
			rc = EXIT_CONFIG;
			goto cleanup;
		}
		md_info(MD_LOG_MAIN,
		    "kubernetes: watching the API for %zu zone%s",
		    d.cfg.k8s.nzones, d.cfg.k8s.nzones == 1 ? "" : "s");
	}
	d.start_ms = md_now_ms();
	if (start_http(&d, err, sizeof(err)) != 0 ||
	    start_control(&d, err, sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_START;
		goto cleanup;
	}
	/* Everything that needs root is bound: drop it. */
	if (drop_privileges(&d.cfg, err, sizeof(err)) != 0) {
		md_err(MD_LOG_MAIN, "%s", err);
		rc = EXIT_START;
		goto cleanup;
	}
	d.check_ev = evtimer_new(d.base, check_cb, &d);
	watch_files(&d, &d.cfg);
	schedule_check(&d);
	md_info(MD_LOG_MAIN, "ready");
	if (d.cfg.prime_at_start)
		md_server_prime(d.srv);
	event_base_dispatch(d.base);
	md_info(MD_LOG_MAIN, "stopped");
	rc = 0;
cleanup:
	for (int i = 0; i < 4; i++) {
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	}
	if (d.check_ev != NULL)
		event_free(d.check_ev);
	md_control_free(d.control);
	md_metrics_http_free(d.http);
	md_k8s_free(d.k8s);
	md_server_free(d.srv);
	md_zone_set_unref(zs);
	md_zone_set_unref(d.file_zones);
	for (size_t i = 0; i < d.nk8s; i++)
		md_zone_free(d.k8s_zones[i]);
	free(d.k8s_zones);
	if (d.base != NULL)
		event_base_free(d.base);
	watch_clear(&d);
	md_config_deinit(&d.cfg);
	free(d.opt.zones);
	return rc;
}
