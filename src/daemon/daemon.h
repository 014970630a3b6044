/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon.h - what the files of minidnsd's control plane share: the daemon
 * (its configuration snapshot, zones, Kubernetes source, endpoints), the
 * reload, and the control socket's and HTTP endpoints' start-up.  All of
 * it runs on the control thread (main's event base); the workers only
 * answer queries (src/server/).
 */
#ifndef MINIDNS_DAEMON_H
#define MINIDNS_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "minidns/config.h"
#include "minidns/control.h"
#include "minidns/k8s.h"
#include "minidns/k8s_watch.h"
#include "minidns/metrics.h"
#include "minidns/server.h"

#define EXIT_CONFIG 1
#define EXIT_USAGE 2
#define EXIT_START 3

struct watched {
	char *path;
	struct stat st;
	bool exists;
};

struct options;

/*
 * setup-interface and setup-iptables (nodenet.c): the process that keeps
 * the node's interface and packet filter rules for our addresses, forked
 * before any thread exists.
 */
struct md_nodenet {
	pid_t pid; /* the keeper, -1: none */
	int fd;	   /* our end of its pipe: 'c' rechecks, 'x' takes down */
};

/* -t and the start: both need a listen address of their own, and a valid
 * interface name. */
int md_nodenet_check_config(
    const struct md_config *c, char *err, size_t errlen);
/* Set up (nothing without either key); the keeper closes close_fd, and
 * logs to syslog when daemonized.  Returns 0, or -1 with the command's
 * reason in err (nothing left behind). */
int md_nodenet_start(struct md_nodenet *nf, const struct md_config *c,
    bool daemonized, int close_fd, char *err, size_t errlen);
/* Check now (a reload). */
void md_nodenet_recheck(struct md_nodenet *nf);
/* Our sockets are closed: take down (unless another server answers on
 * our addresses) and wait for the keeper (bounded). */
void md_nodenet_stop(struct md_nodenet *nf);

struct daemon {
	struct options *opt;
	struct event_base *base;
	struct md_server *srv;
	struct md_config *cfg;	      /* the snapshot serving (a reference) */
	const struct md_config *boot; /* the one the process started with */
	const char *restart_keys[32]; /* changed, waiting for a restart */
	size_t nrestart_keys;
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
	bool stopping;		   /* SIGTERM: lameduck, then the drain */
	struct event *lameduck_ev; /* ends the lameduck */
	bool waiting_sync; /* start: the first Kubernetes list awaited */
	bool k8s_announced;
	int ready_fd;	 /* daemon mode: tells the waiting parent the outcome */
	bool daemonized; /* forked and detached (not -f) */
	struct md_nodenet nf;
	char last_reload_error[1024];
};

/* Reload configuration and zones; on any error keep what is serving. */
void md_daemon_reload(struct daemon *d, const char *why);
/* The /metrics, /health and /ready endpoints (ctl.c). */
int md_daemon_start_http(struct daemon *d, char *err, size_t errlen);
/* The control socket, when control-socket is set (ctl.c). */
int md_daemon_start_control(struct daemon *d, char *err, size_t errlen);

#endif /* MINIDNS_DAEMON_H */
