/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_listen.c - the listening sockets: one per worker and address in an
 * SO_REUSEPORT group, restart steering towards the newest process, and
 * draining before exit.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/filter.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/err.h>

#include "minidns/ldns_bridge.h"

#include "server-internal.h"

/* ---- restarts without a lost query --------------------------------------- */

/*
 * The sockets of one address form an SO_REUSEPORT group: this process's
 * workers' sockets and, during a restart, the old process's too.  The
 * kernel numbers a group's sockets in the order they joined, so the
 * 'before' sockets found in the group when this process bound its own
 * come first and ours are before..before+n-1.  This classic BPF program,
 * set on the group by the newest process, picks one of ours at random
 * (RET = before + random % n): every new datagram and connection goes to
 * the new process while the old one drains what it already has.  When
 * the old sockets close, the kernel renumbers the group and the index
 * runs past its end; the kernel then falls back to its own hash over the
 * sockets left, which are ours.  A process alone (before == 0) sets no
 * program: the kernel's hash spreads clients over its workers.
 */
static void
steer_to_newest(evutil_socket_t fd, unsigned before, unsigned n)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, before),
	    BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

	if (before == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
		sizeof(prog)) != 0)
		md_debug(MD_LOG_SERVER, "SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
}

/*
 * How many sockets are bound to sa already (another process's, in a
 * restart): counted in /proc/net/{udp,tcp}[6] by local address, for TCP
 * only listening ones.  0 when it cannot tell.
 */
static unsigned
sockets_bound(const struct md_sockaddr *sa, int type)
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
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char local[64], remote[64];
		unsigned state;

		/* "  sl  local_address rem_address   st ..." */
		if (sscanf(line, "%*s %63s %63s %x", local, remote, &state) !=
			3 ||
		    strcmp(local, want) != 0)
			continue;
		if (type == SOCK_STREAM && state != 0x0A) /* TCP_LISTEN */
			continue;
		count++;
	}
	fclose(f);
	return count;
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
		busy = c->waiters != NULL ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
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
	 * while this one still runs (see steer_to_newest()). */
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
 * group; fds[0..nworkers) or -1 and errno. */
static int
open_group(struct md_server *srv, const struct md_sockaddr *sa, int type,
    evutil_socket_t *fds)
{
	unsigned before = sockets_bound(sa, type);

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
	steer_to_newest(fds[0], before, srv->nworkers);
	return 0;
}

/* The DNS-over-TLS listeners (tls-listen, tls-cert, tls-key). */
static int
listen_tls(struct md_server *srv)
{
	char name[MD_SOCKADDR_STRLEN];
	unsigned long e;

	if (srv->boot->ntls_listen == 0)
		return 0;
	if (srv->boot->tls_cert == NULL || srv->boot->tls_key == NULL) {
		md_err(MD_LOG_SERVER,
		    "tls-listen needs tls-cert and tls-key (--tls-cert, "
		    "--tls-key)");
		return -EINVAL;
	}
	srv->tls_ctx = SSL_CTX_new(TLS_server_method());
	if (srv->tls_ctx == NULL)
		return -ENOMEM;
	/* RFC 8310 §9 / RFC 7525: TLS 1.2 or newer only. */
	SSL_CTX_set_min_proto_version(srv->tls_ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(
		srv->tls_ctx, srv->boot->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(
		srv->tls_ctx, srv->boot->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(srv->tls_ctx) != 1) {
		e = ERR_get_error();
		md_err(MD_LOG_SERVER, "TLS certificate %s / key %s: %s",
		    srv->boot->tls_cert, srv->boot->tls_key,
		    e != 0 ? ERR_reason_error_string(e) : "unusable");
		return -EINVAL;
	}
	for (size_t i = 0; i < srv->boot->ntls_listen; i++) {
		const struct md_sockaddr *sa = &srv->boot->tls_listen[i];
		evutil_socket_t fds[MD_CONFIG_MAX_THREADS];

		md_sockaddr_str(sa, name, sizeof(name));
		if (open_group(srv, sa, SOCK_STREAM, fds) != 0) {
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

	if (open_group(srv, sa, SOCK_DGRAM, ufds) != 0)
		return -errno;
	if (open_group(srv, sa, SOCK_STREAM, tfds) != 0) {
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
	return 0;
}
