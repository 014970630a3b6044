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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "minidns/config.h"
#include "minidns/k8s.h"
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
	struct md_zone *k8s_zones[MD_K8S_ZONES_MAX + 2];
	size_t nk8s;
	struct md_k8s *k8s;
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
	size_t records = 0;

	for (size_t i = 0; i < d->nk8s; i++)
		md_zone_free(d->k8s_zones[i]);
	d->nk8s = 0;
	for (size_t i = 0; i < n; i++) {
		if (d->nk8s < sizeof(d->k8s_zones) / sizeof(d->k8s_zones[0])) {
			d->k8s_zones[d->nk8s++] = zones[i];
			records += md_zone_rr_count(zones[i]);
		} else {
			md_zone_free(zones[i]);
		}
	}
	if (publish(d) == 0)
		md_info(MD_LOG_ZONE,
		    "kubernetes: serving %zu zones, %zu records (serial %u)",
		    d->nk8s, records,
		    d->nk8s > 0 ? md_zone_serial(d->k8s_zones[0]) : 0);
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
	if (replace_path(&cfg->k8s.kubeconfig, o->kubeconfig) != 0)
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
	char err[1024];

	md_info(MD_LOG_MAIN, "reloading (%s)", why);
	if (build_config(&d->opt, &cfg, err, sizeof(err)) != 0) {
		md_err(MD_LOG_CONFIG,
		    "reload failed, old data still served: %s", err);
		watch_files(d, &d->cfg);
		md_config_deinit(&cfg);
		return;
	}
	struct md_resolve_conf rconf;

	if (build_resolve_conf(&cfg, &rconf, err, sizeof(err)) != 0) {
		md_err(MD_LOG_CONFIG,
		    "reload failed, old data still served: %s", err);
		watch_files(d, &d->cfg);
		md_config_deinit(&cfg);
		return;
	}
	zs = load_zones(&cfg, err, sizeof(err));
	/* Note the files as they are now, so a broken file is retried only
	 * once it changes again. */
	watch_files(d, &cfg);
	if (zs == NULL) {
		md_err(MD_LOG_ZONE, "reload failed, old data still served: %s",
		    err);
		md_config_deinit(&cfg);
		return;
	}
	if (cfg.nlisten != d->cfg.nlisten ||
	    memcmp(cfg.listen, d->cfg.listen,
		cfg.nlisten * sizeof(cfg.listen[0])) != 0)
		md_warn(MD_LOG_CONFIG,
		    "listen addresses changed: they take effect on restart");
	md_log_set_level(cfg.log_level);
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
	schedule_check(d);
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
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d, "SIGHUP");
		return;
	}
	md_info(MD_LOG_MAIN, "%s received, stopping",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(d->base);
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
	struct event *sigs[3] = {NULL, NULL, NULL};
	static const int signums[3] = {SIGHUP, SIGTERM, SIGINT};
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
	md_log_set_level(d.cfg.log_level);
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
	if (!d.cfg.zones_set)
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
	for (int i = 0; i < 3; i++) {
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
	d.check_ev = evtimer_new(d.base, check_cb, &d);
	watch_files(&d, &d.cfg);
	schedule_check(&d);
	md_info(MD_LOG_MAIN, "ready");
	event_base_dispatch(d.base);
	md_info(MD_LOG_MAIN, "stopped");
	rc = 0;
cleanup:
	for (int i = 0; i < 3; i++) {
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	}
	if (d.check_ev != NULL)
		event_free(d.check_ev);
	md_k8s_free(d.k8s);
	md_server_free(d.srv);
	md_zone_set_unref(zs);
	md_zone_set_unref(d.file_zones);
	for (size_t i = 0; i < d.nk8s; i++)
		md_zone_free(d.k8s_zones[i]);
	if (d.base != NULL)
		event_base_free(d.base);
	watch_clear(&d);
	md_config_deinit(&d.cfg);
	free(d.opt.zones);
	return rc;
}
