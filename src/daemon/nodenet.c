/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodenet.c - the node's networking a node-local cache needs while it
 * serves: setup-interface (a dummy interface holding the addresses it
 * answers on) and setup-iptables (the packet filter rules for them).
 *
 * setup-interface NAME: a dummy interface NAME, up, with every listen
 * address of ours on it (/32, /128), so the cache can answer the
 * link-local address and the kube-dns Service's ClusterIP.
 *
 * setup-iptables: for every address of ours (each listen address, UDP and
 * TCP; each tls-listen address; the health and ready endpoints when they
 * have an address of their own) five rules, each marked with the comment
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
 * table, so a cache holding the cluster DNS Service's address answers it
 * itself instead of kube-proxy's DNAT sending it on; the ACCEPT rules keep
 * a node firewall from dropping what is no longer "established".
 * Wildcard addresses get neither: the rules would exempt every DNS packet
 * of the node.
 *
 * Both are kept by a small process forked at start, before any thread
 * exists, that stays root when the server drops to its user (the keeper).
 * It sets everything up before the sockets are bound (the start fails with
 * the command's own message when it cannot, and leaves nothing behind),
 * checks it every MD_NODENET_CHECK_SECS and on every reload, putting back
 * what someone else removed (a firewall reload), and takes it down when
 * the server is gone: the server writes 'x' once its sockets are closed
 * (the end of the drain); a bare end of the pipe means it was killed,
 * and the keeper waits until the process is gone.  When another server
 * still answers on one of our DNS addresses (a new pod beside us in a
 * rolling update, a restart that hands over its sockets), everything is
 * left in place for it.  The keeper ignores the signals a terminal or a
 * service manager sends to the whole group.  The commands are ip(8),
 * iptables(8) for IPv4 and ip6tables(8) for IPv6 addresses, the last two
 * with -w so a concurrent kube-proxy does not make them fail.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "minidns/config.h"
#include "minidns/util.h"

#include "daemon.h"

#define MD_NODENET_CHECK_SECS 10
#define MD_NODENET_MAX_ENDPOINTS (2 * MD_CONFIG_MAX_LISTEN + 2)
#define MD_NODENET_COMMENT "minidnsd"

/* One address and port of ours, for one protocol. */
struct endpoint {
	bool v6;
	bool udp;
	bool dns; /* a listen address (the interface holds these) */
	char addr[64];
	char port[8];
};

/* What the keeper keeps. */
struct nodenet {
	const char *ifname; /* NULL: no interface */
	bool iptables;
	struct endpoint ep[MD_NODENET_MAX_ENDPOINTS];
	size_t n;
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
    struct nodenet *nn, const struct md_sockaddr *sa, bool udp, bool dns)
{
	struct endpoint e;
	const void *a;
	uint16_t port;

	if (nn->n >= MD_NODENET_MAX_ENDPOINTS || is_wildcard(sa))
		return;
	memset(&e, 0, sizeof(e));
	e.v6 = sa->ss.ss_family == AF_INET6;
	e.udp = udp;
	e.dns = dns;
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
	for (size_t i = 0; i < nn->n; i++) {
		if (memcmp(&nn->ep[i], &e, sizeof(e)) == 0)
			return;
	}
	nn->ep[nn->n++] = e;
}

/* An HTTP endpoint's "ADDR:PORT" (":PORT" is every address). */
static void
add_http(struct nodenet *nn, const char *s)
{
	struct md_sockaddr sa;

	if (s == NULL || s[0] == ':' || strcmp(s, "off") == 0 ||
	    md_sockaddr_parse(s, 0, &sa) != 0)
		return;
	add_endpoint(nn, &sa, false, false);
}

static void
nodenet_of(const struct md_config *c, struct nodenet *nn)
{
	memset(nn, 0, sizeof(*nn));
	nn->ifname = c->setup_interface;
	nn->iptables = c->setup_iptables;
	for (size_t i = 0; i < c->nlisten; i++) {
		add_endpoint(nn, &c->listen[i], true, true);
		add_endpoint(nn, &c->listen[i], false, true);
	}
	for (size_t i = 0; i < c->ntls_listen; i++)
		add_endpoint(nn, &c->tls_listen[i], false, false);
	add_http(nn, c->health);
	add_http(nn, c->ready);
}

int
md_nodenet_check_config(const struct md_config *c, char *err, size_t errlen)
{
	const char *key =
	    c->setup_iptables ? "setup-iptables" : "setup-interface";
	const char *s = c->setup_interface;
	bool own = false;

	if (s != NULL) {
		size_t len = strlen(s);

		if (len == 0 || len >= 16 || strcmp(s, ".") == 0 ||
		    strcmp(s, "..") == 0 || strcspn(s, "/: \t\n") != len)
			return md_config_error(c, "setup-interface", err,
			    errlen,
			    "'%s' is not an interface name (1 to 15 "
			    "characters, no '/', ':' or spaces)",
			    s);
	}
	if (!c->setup_iptables && s == NULL)
		return 0;
	for (size_t i = 0; i < c->nlisten; i++)
		own |= !is_wildcard(&c->listen[i]);
	if (!own)
		return md_config_error(c, key, err, errlen,
		    "needs a listen address of its own (0.0.0.0 and :: are "
		    "every address of the node)");
	return 0;
}

/*
 * Run argv (argv[0] looked up in PATH).  Returns its exit status (127
 * when it could not be run), the first line of its errors (and with
 * 'out', of its output too) in msg.
 */
static int
run_cmd(const char *const *argv, bool out, char *msg, size_t msglen)
{
	int errp[2], status;
	pid_t pid;
	ssize_t got = 0;

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

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(out || null < 0 ? errp[1] : null, STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(errp[1]);
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

static int
run(const char *const *argv, char *msg, size_t msglen)
{
	return run_cmd(argv, false, msg, msglen);
}

/* "iptables -w 5 -t TABLE OP CHAIN [1] RULE" for rule r of ep (op "-C",
 * "-I" or "-D"). */
static int
run_rule(const struct endpoint *ep, size_t r, const char *op, char *msg,
    size_t msglen)
{
	const char *argv[32];
	size_t n = 0;

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
	argv[n++] = MD_NODENET_COMMENT;
	argv[n++] = "-j";
	argv[n++] = rules[r].target;
	argv[n] = NULL;
	return run(argv, msg, msglen);
}

static void
describe(const struct endpoint *ep, size_t r, char *buf, size_t len)
{
	snprintf(buf, len, "%s -t %s %s -p %s %s %s %s %s -j %s",
	    ep->v6 ? "ip6tables" : "iptables", rules[r].table, rules[r].chain,
	    ep->udp ? "udp" : "tcp", rules[r].src ? "-s" : "-d", ep->addr,
	    rules[r].src ? "--sport" : "--dport", ep->port, rules[r].target);
}

/* "setup-iptables: WHAT: MSG" into err (iptables' message may be cut). */
static void
failed(char *err, size_t errlen, const char *key, const char *what,
    const char *msg)
{
	if (snprintf(err, errlen, "%s: %s: %s", key, what,
		msg[0] ? msg : "failed") < 0)
		snprintf(err, errlen, "%s: failed", key);
}

/* The interface, up, with every DNS address of ours.  Returns the number
 * of changes, or -1 with the reason in err. */
static int
ensure_interface(const struct nodenet *nn, char *err, size_t errlen)
{
	const char *show[] = {"ip", "link", "show", "dev", nn->ifname, NULL};
	const char *add[] = {
	    "ip", "link", "add", nn->ifname, "type", "dummy", NULL};
	const char *bridge[] = {
	    "ip", "link", "add", nn->ifname, "type", "bridge", NULL};
	const char *up[] = {"ip", "link", "set", "dev", nn->ifname, "up", NULL};
	char msg[512], what[160];
	int changes = 0;

	if (run(show, msg, sizeof(msg)) != 0) {
		/* A kernel built without the dummy driver (some minimal VM
		 * kernels): a bridge without ports holds addresses as well. */
		int rc = run(add, msg, sizeof(msg));

		if (rc != 0 && strstr(msg, "Unknown device type") != NULL &&
		    (rc = run(bridge, msg, sizeof(msg))) == 0)
			md_info(MD_LOG_MAIN,
			    "setup-interface: no dummy interfaces in this "
			    "kernel; %s is a bridge without ports",
			    nn->ifname);
		if (rc != 0) {
			failed(err, errlen, "setup-interface",
			    "ip link add type dummy", msg);
			return -1;
		}
		changes++;
	}
	if (run(up, msg, sizeof(msg)) != 0) {
		failed(err, errlen, "setup-interface", "ip link set up", msg);
		return -1;
	}
	for (size_t i = 0; i < nn->n; i++) {
		const struct endpoint *e = &nn->ep[i];
		const char *has[] = {"ip", "-o", e->v6 ? "-6" : "-4", "addr",
		    "show", "dev", nn->ifname, "to", what, NULL};
		const char *put[] = {"ip", e->v6 ? "-6" : "-4", "addr", "add",
		    what, "dev", nn->ifname, e->v6 ? "nodad" : NULL, NULL};
		bool dup = false;

		if (!e->dns || !e->udp)
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= nn->ep[j].dns && nn->ep[j].udp &&
			    strcmp(nn->ep[j].addr, e->addr) == 0;
		if (dup)
			continue;
		snprintf(
		    what, sizeof(what), "%s/%s", e->addr, e->v6 ? "128" : "32");
		/* "ip addr show to" prints the address when it is there. */
		if (run_cmd(has, true, msg, sizeof(msg)) == 0 && msg[0] != '\0')
			continue;
		if (run(put, msg, sizeof(msg)) != 0) {
			char w[200];

			snprintf(w, sizeof(w), "ip addr add %s dev %s", what,
			    nn->ifname);
			failed(err, errlen, "setup-interface", w, msg);
			return -1;
		}
		changes++;
	}
	return changes;
}

/* Every rule present: returns the number added, or -1 with the reason in
 * err. */
static int
ensure_rules(const struct nodenet *nn, char *err, size_t errlen)
{
	char msg[512], what[256];
	int added = 0;

	for (size_t i = 0; i < nn->n; i++) {
		for (size_t r = 0; r < NRULES; r++) {
			int rc =
			    run_rule(&nn->ep[i], r, "-C", msg, sizeof(msg));

			if (rc == 0)
				continue;
			describe(&nn->ep[i], r, what, sizeof(what));
			if (rc == 1)
				rc = run_rule(
				    &nn->ep[i], r, "-I", msg, sizeof(msg));
			if (rc != 0) {
				failed(
				    err, errlen, "setup-iptables", what, msg);
				return -1;
			}
			added++;
		}
	}
	return added;
}

static int
ensure(const struct nodenet *nn, bool quiet, char *err, size_t errlen)
{
	int a = 0, b = 0;

	if (nn->ifname != NULL && (a = ensure_interface(nn, err, errlen)) < 0)
		return -1;
	if (nn->iptables && (b = ensure_rules(nn, err, errlen)) < 0)
		return -1;
	if (!quiet && a > 0)
		md_warn(MD_LOG_MAIN,
		    "setup-interface: %s: %d change%s (the interface or its "
		    "addresses were missing)",
		    nn->ifname, a, a == 1 ? "" : "s");
	if (!quiet && b > 0)
		md_warn(MD_LOG_MAIN,
		    "setup-iptables: %d rule%s missing; added again", b,
		    b == 1 ? " was" : "s were");
	return a + b;
}

/*
 * Whether another process still serves ADDR:PORT of a DNS endpoint: a UDP
 * bind without SO_REUSEPORT fails while any socket holds it.  Names it in
 * buf.
 */
static bool
still_served(const struct nodenet *nn, char *buf, size_t len)
{
	for (size_t i = 0; i < nn->n; i++) {
		const struct endpoint *e = &nn->ep[i];
		struct md_sockaddr sa;
		char spec[80];
		int fd;
		bool busy;

		if (!e->dns || !e->udp)
			continue;
		snprintf(spec, sizeof(spec), e->v6 ? "[%s]:%s" : "%s:%s",
		    e->addr, e->port);
		if (md_sockaddr_parse(spec, 53, &sa) != 0)
			continue;
		fd = socket(sa.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		busy = bind(fd, (struct sockaddr *)&sa.ss, sa.len) != 0 &&
		    errno == EADDRINUSE;
		close(fd);
		if (busy) {
			snprintf(buf, len, "%s", spec);
			return true;
		}
	}
	return false;
}

static void
take_down(const struct nodenet *nn)
{
	char msg[512], what[256];

	if (still_served(nn, what, sizeof(what))) {
		md_info(MD_LOG_MAIN,
		    "another server answers on %s: the interface and rules "
		    "stay for it",
		    what);
		return;
	}
	for (size_t i = 0; nn->iptables && i < nn->n; i++) {
		for (size_t r = 0; r < NRULES; r++) {
			/* Twice at most: ours, and a copy a cache beside us
			 * may have added meanwhile. */
			for (int k = 0; k < 2; k++) {
				if (run_rule(&nn->ep[i], r, "-C", msg,
					sizeof(msg)) != 0)
					break;
				if (run_rule(&nn->ep[i], r, "-D", msg,
					sizeof(msg)) != 0) {
					describe(
					    &nn->ep[i], r, what, sizeof(what));
					md_warn(MD_LOG_MAIN,
					    "setup-iptables: cannot remove "
					    "%s: %s",
					    what, msg);
					break;
				}
			}
		}
	}
	if (nn->ifname != NULL) {
		const char *del[] = {
		    "ip", "link", "del", "dev", nn->ifname, NULL};

		if (run(del, msg, sizeof(msg)) != 0)
			md_warn(MD_LOG_MAIN,
			    "setup-interface: cannot remove %s: %s", nn->ifname,
			    msg);
	}
	md_info(MD_LOG_MAIN, "%s%s%s removed",
	    nn->iptables ? "setup-iptables: rules" : "",
	    nn->iptables && nn->ifname ? ", " : "",
	    nn->ifname ? "setup-interface: interface" : "");
}

/* The keeper: set up, report on 'report', then keep until 'in' ends. */
static void __attribute__((noreturn))
keeper(const struct nodenet *nn, int in, int report)
{
	char err[768];
	pid_t server = getppid();
	bool told = false;

	prctl(PR_SET_NAME, "minidnsd-net", 0, 0, 0);
	/* Group-wide signals are the server's to act on: the set-up stays
	 * until the server is gone. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	err[0] = '\0';
	if (ensure(nn, true, err, sizeof(err)) < 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "setup-iptables: failed");
		if (write(report, err, strlen(err)) < 0)
			md_err(MD_LOG_MAIN, "%s", err);
		take_down(nn);
		_exit(1);
	}
	close(report);
	for (;;) {
		struct pollfd p = {in, POLLIN, 0};
		char c;
		ssize_t k;
		int rc = poll(&p, 1, MD_NODENET_CHECK_SECS * 1000);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc > 0) {
			k = read(in, &c, 1);
			if (k < 0 && errno == EINTR)
				continue;
			if (k == 1 && c == 'x') {
				told = true;
				break;
			}
			if (k <= 0)
				break; /* the server is gone */
		}
		if (ensure(nn, false, err, sizeof(err)) < 0)
			md_err(MD_LOG_MAIN, "%s", err);
	}
	/* Killed: its sockets close with the rest of its files, before it
	 * is reaped and we are handed to another parent (bounded). */
	for (int i = 0; !told && i < 100 && getppid() == server; i++)
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	take_down(nn);
	_exit(0);
}

int
md_nodenet_start(struct md_nodenet *nf, const struct md_config *c,
    bool daemonized, int close_fd, char *err, size_t errlen)
{
	static struct nodenet nn; /* the keeper's, after the fork */
	int in[2], rep[2];
	ssize_t got = 0;
	pid_t pid;

	nf->pid = -1;
	nf->fd = -1;
	if (!c->setup_iptables && c->setup_interface == NULL)
		return 0;
	nodenet_of(c, &nn);
	/* The keeper may be gone when we write to it. */
	signal(SIGPIPE, SIG_IGN);
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
		keeper(&nn, in[0], rep[1]);
	}
	close(in[0]);
	close(rep[1]);
	nf->pid = pid;
	nf->fd = in[1];
	/* The keeper's report: nothing (and the end of the pipe) once all is
	 * in place, else why not. */
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
		md_nodenet_stop(nf);
		return -1;
	}
	if (c->setup_interface != NULL)
		md_info(MD_LOG_MAIN,
		    "setup-interface: %s holds our listen addresses",
		    c->setup_interface);
	if (c->setup_iptables)
		md_info(MD_LOG_MAIN,
		    "setup-iptables: %zu rules for %zu ports of ours "
		    "(NOTRACK, ACCEPT)",
		    nn.n * NRULES, nn.n);
	md_info(MD_LOG_MAIN, "node networking checked every %u s",
	    MD_NODENET_CHECK_SECS);
	return 0;
}

void
md_nodenet_recheck(struct md_nodenet *nf)
{
	if (nf->fd >= 0 && write(nf->fd, "c", 1) < 0)
		md_warn(MD_LOG_MAIN,
		    "node networking: cannot reach its keeper: %s",
		    strerror(errno));
}

void
md_nodenet_stop(struct md_nodenet *nf)
{
	int status;

	if (nf->fd >= 0) {
		if (write(nf->fd, "x", 1) < 0)
			md_warn(MD_LOG_MAIN,
			    "node networking: cannot reach its keeper: %s",
			    strerror(errno));
		close(nf->fd);
	}
	nf->fd = -1;
	if (nf->pid <= 0)
		return;
	/* Taking down runs a few dozen commands: wait for it, bounded (-w 5
	 * bounds each), so all is gone when we exit. */
	for (int i = 0; i < 600; i++) {
		pid_t r = waitpid(nf->pid, &status, WNOHANG);

		if (r == nf->pid || (r < 0 && errno != EINTR))
			break;
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	nf->pid = -1;
}
