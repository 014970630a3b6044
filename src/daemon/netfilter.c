/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netfilter.c - setup-iptables: the packet filter rules a node-local cache
 * needs for the addresses it answers on, installed at start and removed
 * when the server stops.
 *
 * For every address of our own (each listen address, UDP and TCP; each
 * tls-listen address; the health and ready endpoints when they have an
 * address of their own) five rules, each marked with the comment
 * "minidnsd":
 *
 *   raw    PREROUTING  -d ADDR --dport PORT  NOTRACK   queries from pods
 *   raw    OUTPUT      -d ADDR --dport PORT  NOTRACK   queries from the node
 *   raw    OUTPUT      -s ADDR --sport PORT  NOTRACK   our answers
 *   filter INPUT       -d ADDR --dport PORT  ACCEPT
 *   filter OUTPUT      -s ADDR --sport PORT  ACCEPT
 *
 * Untracked packets take no conntrack entry (the UDP conntrack races and
 * table exhaustion node-local caches exist to avoid) and skip the nat
 * table, so a cache that holds the cluster DNS Service's address answers
 * it itself instead of kube-proxy's DNAT sending it on; the ACCEPT rules
 * keep a node firewall from dropping what is no longer "established".
 * Wildcard addresses get no rules: they would exempt every DNS packet of
 * the node.
 *
 * The rules are kept by a small process forked at start, before any
 * thread exists, that stays root when the server drops to its user.  It
 * installs the rules (the start fails with iptables' own message when it
 * cannot), checks them every MD_NF_CHECK_SECS and on every reload and
 * puts back what someone else removed (a kube-proxy or firewall restart,
 * or a cache that stopped beside us in a rolling update: both remove the
 * same rules), and removes them when the server's end of its pipe
 * closes: at the end of the drain, and also when the server is killed.
 * It ignores the signals a terminal or a service manager sends to the
 * whole group, so the rules stay until the server has finished.
 * iptables(8) is run for IPv4 addresses, ip6tables(8) for IPv6, with -w
 * so a concurrent kube-proxy does not make them fail.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "minidns/config.h"
#include "minidns/util.h"

#include "daemon.h"

#define MD_NF_CHECK_SECS 10
#define MD_NF_MAX_ENDPOINTS (2 * MD_CONFIG_MAX_LISTEN + 2)
#define MD_NF_COMMENT "minidnsd"

/* One address and port of ours, for one protocol. */
struct endpoint {
	bool v6;
	bool udp;
	char addr[64];
	char port[8];
};

/* The five rules of an endpoint. */
static const struct {
	const char *table, *chain, *target;
	bool src; /* -s ADDR --sport (our answers), else -d ADDR --dport */
} rules[] = {
    {"raw", "PREROUTING", "NOTRACK", false},
    {"raw", "OUTPUT", "NOTRACK", false},
    {"raw", "OUTPUT", "NOTRACK", true},
    {"filter", "INPUT", "ACCEPT", false},
    {"filter", "OUTPUT", "ACCEPT", true},
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static bool
is_wildcard(const struct md_sockaddr *sa)
{
	static const unsigned char zero[16];

	if (sa->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&sa->ss)->sin_addr.s_addr ==
		    0;
	return memcmp(&((const struct sockaddr_in6 *)&sa->ss)->sin6_addr, zero,
		   16) == 0;
}

static void
add_endpoint(
    struct endpoint *ep, size_t *n, const struct md_sockaddr *sa, bool udp)
{
	struct endpoint e;
	const void *a;
	uint16_t port;

	if (*n >= MD_NF_MAX_ENDPOINTS || is_wildcard(sa))
		return;
	memset(&e, 0, sizeof(e));
	e.v6 = sa->ss.ss_family == AF_INET6;
	e.udp = udp;
	if (e.v6) {
		const struct sockaddr_in6 *s6 = (const void *)&sa->ss;

		a = &s6->sin6_addr;
		port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)&sa->ss;

		a = &s4->sin_addr;
		port = ntohs(s4->sin_port);
	}
	if (inet_ntop(e.v6 ? AF_INET6 : AF_INET, a, e.addr, sizeof(e.addr)) ==
	    NULL)
		return;
	snprintf(e.port, sizeof(e.port), "%u", (unsigned)port);
	for (size_t i = 0; i < *n; i++) {
		if (memcmp(&ep[i], &e, sizeof(e)) == 0)
			return;
	}
	ep[(*n)++] = e;
}

/* An HTTP endpoint's "ADDR:PORT" (":PORT" is every address). */
static void
add_http(struct endpoint *ep, size_t *n, const char *s)
{
	struct md_sockaddr sa;

	if (s == NULL || s[0] == ':' || strcmp(s, "off") == 0 ||
	    md_sockaddr_parse(s, 0, &sa) != 0)
		return;
	add_endpoint(ep, n, &sa, false);
}

static size_t
endpoints_of(const struct md_config *c, struct endpoint *ep)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nlisten; i++) {
		add_endpoint(ep, &n, &c->listen[i], true);
		add_endpoint(ep, &n, &c->listen[i], false);
	}
	for (size_t i = 0; i < c->ntls_listen; i++)
		add_endpoint(ep, &n, &c->tls_listen[i], false);
	add_http(ep, &n, c->health);
	add_http(ep, &n, c->ready);
	return n;
}

int
md_netfilter_check_config(const struct md_config *c, char *err, size_t errlen)
{
	if (!c->setup_iptables)
		return 0;
	for (size_t i = 0; i < c->nlisten; i++) {
		if (!is_wildcard(&c->listen[i]))
			return 0;
	}
	return md_config_error(c, "setup-iptables", err, errlen,
	    "needs a listen address of its own (rules for 0.0.0.0 or :: "
	    "would take every DNS packet of the node out of connection "
	    "tracking)");
}

/*
 * Run "iptables -w 5 -t TABLE OP CHAIN [1] RULE" for rule r of ep (op
 * "-C", "-I" or "-D").  Returns its exit status (127 when it could not be
 * run), its first line of errors in msg.
 */
static int
run_rule(const struct endpoint *ep, size_t r, const char *op, char *msg,
    size_t msglen)
{
	const char *argv[32];
	size_t n = 0;
	int errp[2], status;
	pid_t pid;
	ssize_t got;

	argv[n++] = ep->v6 ? "ip6tables" : "iptables";
	argv[n++] = "-w";
	argv[n++] = "5";
	argv[n++] = "-t";
	argv[n++] = rules[r].table;
	argv[n++] = op;
	argv[n++] = rules[r].chain;
	if (strcmp(op, "-I") == 0)
		argv[n++] = "1";
	argv[n++] = "-p";
	argv[n++] = ep->udp ? "udp" : "tcp";
	argv[n++] = rules[r].src ? "-s" : "-d";
	argv[n++] = ep->addr;
	argv[n++] = rules[r].src ? "--sport" : "--dport";
	argv[n++] = ep->port;
	argv[n++] = "-m";
	argv[n++] = "comment";
	argv[n++] = "--comment";
	argv[n++] = MD_NF_COMMENT;
	argv[n++] = "-j";
	argv[n++] = rules[r].target;
	argv[n] = NULL;

	msg[0] = '\0';
	if (pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return 127;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		close(errp[0]);
		close(errp[1]);
		return 127;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		dup2(errp[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(errp[1]);
	got = 0;
	for (;;) {
		ssize_t k = read(errp[0], msg + got, msglen - 1 - (size_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += k;
		if ((size_t)got >= msglen - 1) {
			char sink[256];

			while (read(errp[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	close(errp[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 127;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

static void
describe(const struct endpoint *ep, size_t r, char *buf, size_t len)
{
	snprintf(buf, len, "%s -t %s %s -p %s %s %s %s %s -j %s",
	    ep->v6 ? "ip6tables" : "iptables", rules[r].table, rules[r].chain,
	    ep->udp ? "udp" : "tcp", rules[r].src ? "-s" : "-d", ep->addr,
	    rules[r].src ? "--sport" : "--dport", ep->port, rules[r].target);
}

/*
 * Every rule present: returns the number added, or -1 with the reason in
 * err.  'quiet' leaves additions unlogged (the first install says it once).
 */
static int
ensure(
    const struct endpoint *ep, size_t n, bool quiet, char *err, size_t errlen)
{
	char msg[512], what[256];
	int added = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t r = 0; r < NRULES; r++) {
			int rc = run_rule(&ep[i], r, "-C", msg, sizeof(msg));

			if (rc == 0)
				continue;
			describe(&ep[i], r, what, sizeof(what));
			if (rc == 1)
				rc =
				    run_rule(&ep[i], r, "-I", msg, sizeof(msg));
			if (rc != 0) {
				/* iptables' message may be cut: fine */
				if (snprintf(err, errlen,
					"setup-iptables: %s: %s", what,
					msg[0] ? msg : "failed") < 0)
					err[0] = '\0';
				return -1;
			}
			if (!quiet)
				md_warn(MD_LOG_MAIN,
				    "setup-iptables: a rule was missing, "
				    "added it again: %s",
				    what);
			added++;
		}
	}
	return added;
}

static void
remove_all(const struct endpoint *ep, size_t n)
{
	char msg[512], what[256];

	for (size_t i = 0; i < n; i++) {
		for (size_t r = 0; r < NRULES; r++) {
			/* Twice at most: ours, and a copy a cache beside us
			 * may have added meanwhile. */
			for (int k = 0; k < 2; k++) {
				if (run_rule(
					&ep[i], r, "-C", msg, sizeof(msg)) != 0)
					break;
				if (run_rule(&ep[i], r, "-D", msg,
					sizeof(msg)) != 0) {
					describe(&ep[i], r, what, sizeof(what));
					md_warn(MD_LOG_MAIN,
					    "setup-iptables: cannot remove "
					    "%s: %s",
					    what, msg);
					break;
				}
			}
		}
	}
}

/* The keeper: install, report on 'report', then keep until 'in' ends. */
static void __attribute__((noreturn))
keeper(const struct endpoint *ep, size_t n, int in, int report)
{
	char err[768];
	int rc;

	prctl(PR_SET_NAME, "minidnsd-nf", 0, 0, 0);
	/* Group-wide signals are the server's to act on: the rules stay
	 * until its end of the pipe closes. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	rc = ensure(ep, n, true, err, sizeof(err));
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "setup-iptables: failed");
		if (write(report, err, strlen(err)) < 0)
			md_err(MD_LOG_MAIN, "%s", err);
		remove_all(ep, n);
		_exit(1);
	}
	close(report);
	for (;;) {
		struct pollfd p = {in, POLLIN, 0};
		char c;
		ssize_t k;

		rc = poll(&p, 1, MD_NF_CHECK_SECS * 1000);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc > 0) {
			k = read(in, &c, 1);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break; /* the server is gone */
		}
		if (ensure(ep, n, false, err, sizeof(err)) < 0)
			md_err(MD_LOG_MAIN, "%s", err);
	}
	remove_all(ep, n);
	md_info(MD_LOG_MAIN, "setup-iptables: rules removed");
	_exit(0);
}

int
md_netfilter_start(struct md_netfilter *nf, const struct md_config *c,
    bool daemonized, int close_fd, char *err, size_t errlen)
{
	struct endpoint ep[MD_NF_MAX_ENDPOINTS];
	size_t n;
	int in[2], rep[2];
	ssize_t got = 0;
	pid_t pid;

	nf->pid = -1;
	nf->fd = -1;
	if (!c->setup_iptables)
		return 0;
	n = endpoints_of(c, ep);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) {
		snprintf(
		    err, errlen, "setup-iptables: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(
		    err, errlen, "setup-iptables: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(in[1]);
		close(rep[0]);
		if (close_fd >= 0)
			close(close_fd);
		if (daemonized) {
			int null = open("/dev/null", O_RDWR);

			md_log_use_syslog(c->log_file == NULL);
			if (null >= 0) {
				dup2(null, STDIN_FILENO);
				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
			}
		}
		keeper(ep, n, in[0], rep[1]);
	}
	close(in[0]);
	close(rep[1]);
	nf->pid = pid;
	nf->fd = in[1];
	/* The keeper's report: nothing (and the end of the pipe) once every
	 * rule is in place, else why not. */
	for (;;) {
		ssize_t k = read(rep[0], err + got, errlen - 1 - (size_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || (size_t)(got += k) >= errlen - 1)
			break;
	}
	close(rep[0]);
	err[got] = '\0';
	if (got > 0) {
		md_netfilter_stop(nf);
		return -1;
	}
	md_info(MD_LOG_MAIN,
	    "setup-iptables: %zu rules for %zu address%s of ours (NOTRACK, "
	    "ACCEPT), checked every %u s",
	    n * NRULES, n, n == 1 ? "" : "es", MD_NF_CHECK_SECS);
	return 0;
}

void
md_netfilter_recheck(struct md_netfilter *nf)
{
	if (nf->fd >= 0 && write(nf->fd, "c", 1) < 0)
		md_warn(MD_LOG_MAIN,
		    "setup-iptables: cannot reach the rules' "
		    "keeper: %s",
		    strerror(errno));
}

void
md_netfilter_stop(struct md_netfilter *nf)
{
	int status;

	if (nf->fd >= 0)
		close(nf->fd);
	nf->fd = -1;
	if (nf->pid <= 0)
		return;
	/* Removal runs a few dozen iptables commands: wait for it, bounded
	 * (-w 5 bounds each), so the rules are gone when we exit. */
	for (int i = 0; i < 600; i++) {
		pid_t r = waitpid(nf->pid, &status, WNOHANG);

		if (r == nf->pid || (r < 0 && errno != EINTR))
			break;
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	nf->pid = -1;
}
