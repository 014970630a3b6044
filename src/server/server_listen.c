/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_listen.c - the listening sockets: one per worker and address in an
 * SO_REUSEPORT group, restart steering towards the newest process, and
 * draining before exit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/filter.h>

#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "minidns/ldns_bridge.h"

#include "server-internal.h"

/* ---- restarts without a lost query --------------------------------------- */

/*
 * The sockets of one address form an SO_REUSEPORT group: this process's
 * workers' sockets and, during a restart, the old process's too.  The
 * kernel numbers a group's sockets in the order they joined, so the
 * 'before' sockets found in the group when this process bound its own
 * come first and ours are before..before+n-1.  A classic BPF program set
 * on the group picks the socket: RET = before + X % n, X being
 *
 *  - for UDP with udp-steering: cpu, the CPU the kernel received the
 *    datagram on: each CPU's datagrams go to one worker, so a worker's
 *    wake-up finds all the datagrams of its CPUs (with the kernel's
 *    hash, two workers each woke for half the datagrams: the CPU per
 *    query rose with the second worker, doc/benchmarks.md).  With more
 *    workers than the machine has CPUs, X is cpu + ncpu * (id % k), k
 *    the workers per CPU rounded up and id the DNS message's ID (the
 *    program sees the datagram from its UDP payload on): each CPU's
 *    datagrams are spread over k workers, and every worker gets some;
 *  - otherwise random, set only by a process started beside an older
 *    one (before > 0); a process alone sets none for TCP, nor for UDP
 *    with udp-steering: hash, and the kernel's hash spreads its clients.
 *
 * Either way, during a restart every new datagram and connection goes to
 * the new process while the old one drains what it already has.  When
 * the old sockets close, the kernel renumbers the group and the index
 * runs past its end; the kernel then falls back to its own hash over the
 * sockets left, which are ours (for CPU steering, resteer_cb() then sets
 * the program again with before = 0).
 */
static void
steer_group(evutil_socket_t fd, unsigned before, unsigned n, bool by_cpu)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	unsigned ncpu = conf > 0 ? (unsigned)conf : 1;
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		SKF_AD_OFF + (by_cpu ? SKF_AD_CPU : SKF_AD_RANDOM)),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, before),
	    BPF_STMT(BPF_RET | BPF_A, 0),
	};
	/* More workers than CPUs: a datagram shorter than an ID ends the
	 * program at its load, which returns 0 (the group's first socket). */
	struct sock_filter spread[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_CPU),
	    BPF_STMT(BPF_MISC | BPF_TAX, 0),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (n + ncpu - 1) / ncpu),
	    BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, ncpu),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, before),
	    BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

	if (before == 0 && !by_cpu)
		return;
	if (by_cpu && n > ncpu)
		prog = (struct sock_fprog){
		    sizeof(spread) / sizeof(spread[0]), spread};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
		sizeof(prog)) != 0)
		md_debug(MD_LOG_SERVER, "SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
}

/*
 * How many sockets are bound to sa already (another process's, in a
 * restart): counted in /proc/net/{udp,tcp}[6] by local address, for TCP
 * only listening ones; *inode is the first one's.  0 when it cannot tell.
 */
static unsigned
sockets_bound(const struct md_sockaddr *sa, int type, unsigned long *inode)
{
	char want[64], line[512];
	const char *path;
	unsigned count = 0;
	FILE *f;

	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&sa->ss;

		path = type == SOCK_DGRAM ? "/proc/net/udp" : "/proc/net/tcp";
		snprintf(want, sizeof(want), "%08X:%04X",
		    (unsigned)in->sin_addr.s_addr, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&sa->ss;
		uint32_t w[4];

		memcpy(w, &in6->sin6_addr, sizeof(w));
		path = type == SOCK_DGRAM ? "/proc/net/udp6" : "/proc/net/tcp6";
		snprintf(want, sizeof(want), "%08X%08X%08X%08X:%04X", w[0],
		    w[1], w[2], w[3], ntohs(in6->sin6_port));
	}
	*inode = 0;
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char local[64], remote[64];
		unsigned state;
		unsigned long ino = 0;

		/* "sl local_address rem_address st tx_queue:rx_queue
		 * tr:tm->when retrnsmt uid timeout inode ..." */
		if (sscanf(line, "%*s %63s %63s %x %*s %*s %*s %*s %*s %lu",
			local, remote, &state, &ino) < 3 ||
		    strcmp(local, want) != 0)
			continue;
		if (type == SOCK_STREAM && state != 0x0A) /* TCP_LISTEN */
			continue;
		if (count++ == 0)
			*inode = ino;
	}
	fclose(f);
	return count;
}

/*
 * The process holding the socket with this inode: the first /proc/PID/fd
 * entry that links to "socket:[inode]" (readable for root, or for the same
 * user).  0 when it cannot be found.
 */
static long
socket_owner(unsigned long inode)
{
	char want[64], path[64], link[64];
	long self = (long)getpid(), found = 0;
	struct dirent *pe, *fe;
	DIR *proc, *fds;

	if (inode == 0)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	proc = opendir("/proc");
	if (proc == NULL)
		return 0;
	while (found == 0 && (pe = readdir(proc)) != NULL) {
		long long pid;

		if (md_parse_int(pe->d_name, 1, 1LL << 30, &pid) != 0 ||
		    pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%lld/fd", pid);
		fds = opendir(path);
		if (fds == NULL)
			continue;
		while (found == 0 && (fe = readdir(fds)) != NULL) {
			char fdpath[384];
			ssize_t n;

			snprintf(
			    fdpath, sizeof(fdpath), "%s/%s", path, fe->d_name);
			n = readlink(fdpath, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) == 0)
				found = (long)pid;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/*
 * Restart steering is meant (a new process takes over, the old one
 * drains), but a second minidnsd started by mistake takes over the same
 * way: say so, naming the other process.
 */
static void
warn_takeover(
    const struct md_sockaddr *sa, const char *what, unsigned long inode)
{
	char name[MD_SOCKADDR_STRLEN], pid[48] = "";
	long owner = socket_owner(inode);

	md_sockaddr_str(sa, name, sizeof(name));
	if (owner > 0)
		snprintf(pid, sizeof(pid), ", pid %ld", owner);
	md_warn(MD_LOG_SERVER,
	    "another process already serves %s (%s%s); this one takes new "
	    "queries from now on (restart steering: stop the old one, or "
	    "this one if it was started by mistake)",
	    name, what, pid);
}

/* Accept what waits in a listener's queue before closing it. */
static void
drain_listener(struct worker *wk, struct evconnlistener *l, bool tls)
{
	evutil_socket_t lfd = evconnlistener_get_fd(l);

	for (int i = 0; i < 1024; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		evutil_socket_t fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		md_srv_accept_conn(
		    wk, fd, (struct sockaddr *)&ss, (int)len, tls);
	}
}

#define DRAIN_QUIET_MS 150 /* no datagram for this long: drained */
#define DRAIN_MAX_MS 5000

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;
	uint64_t now = md_now_ms();
	struct timeval tv = {0, 50 * 1000};
	bool busy = md_hashtab_count(&wk->inflight) > 0;

	(void)fd;
	(void)what;
	for (struct tcp_conn *c = wk->conns; c != NULL && !busy; c = c->next)
		busy = c->waiters != NULL || evbuffer_get_length(c->out) > 0;
	if ((!busy && now - wk->last_udp_ms >= DRAIN_QUIET_MS) ||
	    now - wk->drain_start_ms >= DRAIN_MAX_MS) {
		md_debug(MD_LOG_SERVER, "worker %u drained%s", wk->id,
		    busy ? " (time is up)" : "");
		atomic_store(&wk->drained, true);
		return;
	}
	event_add(wk->drain_ev, &tv);
}

/* On each worker: close the TCP/TLS listeners once their queues are
 * taken, and watch for quiet (drain_cb). */
void
md_srv_drain_start(struct worker *wk, void *arg)
{
	struct timeval tv = {0, 50 * 1000};

	(void)arg;
	/* New connections go to the new process (steered); the ones already
	 * queued here are taken, not reset. */
	for (size_t i = 0; i < wk->ntcp; i++) {
		drain_listener(wk, wk->tcp[i], false);
		evconnlistener_free(wk->tcp[i]);
	}
	wk->ntcp = 0;
	for (size_t i = 0; i < wk->ntls; i++) {
		drain_listener(wk, wk->tls[i], true);
		evconnlistener_free(wk->tls[i]);
	}
	wk->ntls = 0;
	wk->drain_start_ms = md_now_ms();
	wk->drain_ev = evtimer_new(wk->base, drain_cb, wk);
	if (wk->drain_ev == NULL || event_add(wk->drain_ev, &tv) != 0)
		atomic_store(&wk->drained, true);
}

/* ---- set-up ------------------------------------------------------------ */

static evutil_socket_t
open_socket(const struct md_sockaddr *sa, int type)
{
	int one = 1;
	evutil_socket_t fd =
	    socket(sa->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Every worker binds the same addresses, and so does a new process
	 * while this one still runs (see steer_group()). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (sa->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* A burst at a busy worker waits in the socket rather than being
	 * dropped by the kernel: a receive buffer of UDP_RCVBUF (as root,
	 * past net.core.rmem_max; else as large as that allows). */
	if (type == SOCK_DGRAM) {
		int rcvbuf = UDP_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			sizeof(rcvbuf)) != 0)
			setsockopt(
			    fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (bind(fd, (const struct sockaddr *)&sa->ss, sa->len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* One listener socket per worker on sa, joined to sa's SO_REUSEPORT
 * group; fds[0..nworkers) or -1 and errno.  'what' (UDP and TCP, DNS
 * over TLS) names the group in the warning when another process has
 * sockets in it; NULL: no warning (said once per address). */
static int
open_group(struct md_server *srv, const struct md_sockaddr *sa, int type,
    evutil_socket_t *fds, const char *what)
{
	bool by_cpu = type == SOCK_DGRAM && srv->boot->udp_steer_cpu;
	unsigned long inode;
	unsigned before = sockets_bound(sa, type, &inode);

	for (unsigned i = 0; i < srv->nworkers; i++) {
		fds[i] = open_socket(sa, type);
		if (fds[i] < 0) {
			int e = errno;

			while (i-- > 0)
				close(fds[i]);
			errno = e;
			return -1;
		}
	}
	if (before > 0 && what != NULL)
		warn_takeover(sa, what, inode);
	steer_group(fds[0], before, srv->nworkers, by_cpu);
	if (by_cpu && before > 0 && srv->nresteer < MD_CONFIG_MAX_LISTEN) {
		srv->resteer[srv->nresteer].sa = *sa;
		srv->resteer[srv->nresteer].fd = fds[0];
		srv->nresteer++;
	}
	return 0;
}

#define RESTEER_EVERY_S 1
#define RESTEER_TRIES 600 /* ten minutes, then the kernel's hash stays */

/*
 * Every second after a start beside an older process: each UDP group
 * that holds only this process's sockets again gets the CPU program with
 * before = 0.  Only a count that shows ours alone does: none read from
 * /proc (in a chroot, say) leaves the kernel's hash in place, since with
 * the old sockets still there before = 0 would steer to them.
 */
static void
resteer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_server *srv = arg;
	size_t kept = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < srv->nresteer; i++) {
		unsigned long inode;
		char name[MD_SOCKADDR_STRLEN];

		if (sockets_bound(&srv->resteer[i].sa, SOCK_DGRAM, &inode) !=
		    srv->nworkers) {
			srv->resteer[kept++] = srv->resteer[i];
			continue;
		}
		steer_group(srv->resteer[i].fd, 0, srv->nworkers, true);
		md_info(MD_LOG_SERVER,
		    "%s: the older process's sockets are gone: UDP steered "
		    "by CPU again",
		    md_sockaddr_str(&srv->resteer[i].sa, name, sizeof(name)));
	}
	srv->nresteer = kept;
	if (kept == 0 || ++srv->resteer_tries >= RESTEER_TRIES)
		event_del(srv->resteer_ev);
}

/* Watch the groups shared with an older process (resteer_cb()). */
static void
resteer_start(struct md_server *srv)
{
	struct timeval tv = {RESTEER_EVERY_S, 0};

	if (srv->nresteer == 0 || srv->base == NULL)
		return;
	srv->resteer_ev = event_new(srv->base, -1, EV_PERSIST, resteer_cb, srv);
	if (srv->resteer_ev != NULL)
		event_add(srv->resteer_ev, &tv);
}

/* A file OpenSSL is about to read: its errno is clearer than OpenSSL's. */
static int
readable(const struct md_config *cfg, const char *key, const char *path,
    char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return md_config_error(cfg, key, err, errlen,
		    "%s: cannot read: %s", path, strerror(errno));
	fclose(f);
	return 0;
}

/* OpenSSL's reason for the last failure. */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "unusable";
}

static int
mismatch(const struct md_config *cfg, char *err, size_t errlen)
{
	ERR_clear_error();
	return md_config_error(cfg, "tls-key", err, errlen,
	    "%s does not match the certificate %s", cfg->tls_key,
	    cfg->tls_cert);
}

int
md_server_tls_ctx_new(
    const struct md_config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int rc;

	*out = NULL;
	if (cfg->ntls_listen == 0)
		return 0;
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL)
		return md_config_error(cfg, "tls-listen", err, errlen,
		    "needs tls-cert and tls-key (--tls-cert, --tls-key)");
	if ((rc = readable(cfg, "tls-cert", cfg->tls_cert, err, errlen)) != 0 ||
	    (rc = readable(cfg, "tls-key", cfg->tls_key, err, errlen)) != 0)
		return rc;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return -ENOMEM;
	}
	/* RFC 8310 §9 / RFC 7525: TLS 1.2 or newer only. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1)
		rc = md_config_error(cfg, "tls-cert", err, errlen,
		    "%s: not a usable certificate: %s", cfg->tls_cert,
		    ssl_reason());
	else if (SSL_CTX_use_PrivateKey_file(
		     ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1)
		rc = ERR_GET_REASON(ERR_peek_last_error()) ==
			X509_R_KEY_VALUES_MISMATCH
		    ? mismatch(cfg, err, errlen)
		    : md_config_error(cfg, "tls-key", err, errlen,
			  "%s: not a usable private key: %s", cfg->tls_key,
			  ssl_reason());
	else if (SSL_CTX_check_private_key(ctx) != 1)
		rc = mismatch(cfg, err, errlen);
	if (rc != 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* The DNS-over-TLS listeners (tls-listen, tls-cert, tls-key). */
static int
listen_tls(struct md_server *srv)
{
	char name[MD_SOCKADDR_STRLEN], err[1024];
	int rc;

	if (srv->boot->ntls_listen == 0)
		return 0;
	rc = md_server_tls_ctx_new(srv->boot, &srv->tls_ctx, err, sizeof(err));
	if (rc != 0) {
		md_err(MD_LOG_SERVER, "%s", err);
		return rc;
	}
	for (size_t i = 0; i < srv->boot->ntls_listen; i++) {
		const struct md_sockaddr *sa = &srv->boot->tls_listen[i];
		evutil_socket_t fds[MD_CONFIG_MAX_THREADS];

		md_sockaddr_str(sa, name, sizeof(name));
		if (open_group(srv, sa, SOCK_STREAM, fds, "DNS over TLS") !=
		    0) {
			md_err(MD_LOG_SERVER, "cannot listen on %s (TLS): %s",
			    name, strerror(errno));
			return -errno;
		}
		for (unsigned k = 0; k < srv->nworkers; k++) {
			struct worker *wk = srv->w[k];
			struct evconnlistener *l =
			    evconnlistener_new(wk->base, md_srv_tls_accept_cb,
				wk, LEV_OPT_CLOSE_ON_FREE, -1, fds[k]);

			if (l == NULL) {
				while (k < srv->nworkers)
					close(fds[k++]);
				return -ENOMEM;
			}
			evconnlistener_set_error_cb(l, md_srv_accept_error_cb);
			wk->tls[wk->ntls++] = l;
		}
		md_info(MD_LOG_SERVER, "listening on %s (DNS over TLS)", name);
	}
	return 0;
}

/* UDP and TCP on one address, a socket of each per worker. */
static int
listen_one(struct md_server *srv, const struct md_sockaddr *sa)
{
	evutil_socket_t ufds[MD_CONFIG_MAX_THREADS];
	evutil_socket_t tfds[MD_CONFIG_MAX_THREADS];

	if (open_group(srv, sa, SOCK_DGRAM, ufds, "UDP and TCP") != 0)
		return -errno;
	if (open_group(srv, sa, SOCK_STREAM, tfds, NULL) != 0) {
		int e = errno;

		for (unsigned k = 0; k < srv->nworkers; k++)
			close(ufds[k]);
		return -e;
	}
	for (unsigned k = 0; k < srv->nworkers; k++) {
		struct worker *wk = srv->w[k];
		struct udp_listener *u = &wk->udp[wk->nudp];
		struct evconnlistener *l;

		u->wk = wk;
		u->fd = ufds[k];
		u->tev = NULL;
		u->tfd = -1;
		u->paused = false;
		u->ev = event_new(wk->base, ufds[k], EV_READ | EV_PERSIST,
		    md_srv_udp_read_cb, u);
		l = evconnlistener_new(wk->base, md_srv_tcp_accept_cb, wk,
		    LEV_OPT_CLOSE_ON_FREE, -1, tfds[k]);
		if (u->ev == NULL || l == NULL || event_add(u->ev, NULL) != 0) {
			/* Out of memory: this worker's and the later ones'
			 * sockets are closed here, the earlier ones' with
			 * the server. */
			if (u->ev != NULL)
				event_free(u->ev);
			if (l != NULL)
				evconnlistener_free(l);
			else
				close(tfds[k]);
			for (unsigned j = k; j < srv->nworkers; j++) {
				close(ufds[j]);
				if (j > k)
					close(tfds[j]);
			}
			return -ENOMEM;
		}
		evconnlistener_set_error_cb(l, md_srv_accept_error_cb);
		wk->nudp++;
		wk->tcp[wk->ntcp++] = l;
	}
	return 0;
}

int
md_server_listen(struct md_server *srv)
{
	char name[MD_SOCKADDR_STRLEN];
	size_t opened = 0;
	int rc;

	for (size_t i = 0; i < srv->boot->nlisten; i++) {
		const struct md_sockaddr *sa = &srv->boot->listen[i];

		md_sockaddr_str(sa, name, sizeof(name));
		rc = listen_one(srv, sa);
		if (rc == -ENOMEM) {
			md_err(MD_LOG_SERVER, "cannot set up %s", name);
			return rc;
		}
		if (rc != 0) {
			if (srv->boot->listen_default) {
				md_warn(MD_LOG_SERVER,
				    "cannot listen on %s: %s (skipped)", name,
				    strerror(-rc));
				continue;
			}
			md_err(MD_LOG_SERVER, "cannot listen on %s: %s", name,
			    strerror(-rc));
			return rc;
		}
		opened++;
		md_info(MD_LOG_SERVER, "listening on %s (UDP and TCP)", name);
	}
	if (opened == 0) {
		md_err(MD_LOG_SERVER, "no address to listen on");
		return -EADDRNOTAVAIL;
	}
	rc = listen_tls(srv);
	if (rc != 0)
		return rc;
	resteer_start(srv);
	return 0;
}
