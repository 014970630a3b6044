/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control.c - the control socket of minidnsd: a Unix stream socket on the
 * daemon's event base, one request line per connection, the reply streamed
 * back as text lines and a last "OK" or "ERROR: reason" line (control.h).
 *
 * It owns the listening socket, the socket file and the client
 * connections.  It does not know what a command does: that is the
 * daemon's struct md_control_ops.  Everything runs on the event base's
 * thread; the ops' line() and done() must be called there too.
 *
 * Lifetimes.  A connection (struct conn) lives from accept until its reply
 * has been written or the client is gone; it is then moved to a reap list
 * and freed by a separate event, never inside one of its own bufferevent
 * callbacks.  An asynchronous request (trace) has its own struct req, the
 * ctx handed to the daemon: it outlives the connection and md_control_free()
 * until done() is called, which frees it.  When the connection goes first,
 * req->conn becomes NULL and line()/done() write nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "minidns/control.h"
#include "minidns/util.h"

#define REQ_LINE_MAX 1024  /* request line, bytes, without the newline */
#define REQ_TIMEOUT_S 5	   /* to send the request line */
#define WRITE_TIMEOUT_S 30 /* for a client that stops reading */
#define CONNS_MAX 64	   /* open connections at once */
#define ARGS_MAX 4	   /* words of a request line looked at */
#define MSG_MAX 512	   /* an op's error message */

struct req;

struct conn {
	TAILQ_ENTRY(conn) entry; /* on ctl->conns or ctl->dead */
	struct md_control *ctl;
	struct bufferevent *bev;
	struct req *req; /* pending asynchronous request, or NULL */
	uid_t uid;	 /* the peer's, from SO_PEERCRED */
	bool got_line;	 /* the request line has been read */
	bool closing;	 /* status written: close once flushed */
};

TAILQ_HEAD(conn_list, conn);

/* The ctx of line() and done(). */
struct req {
	struct conn *conn; /* NULL once the connection is gone */
	bool calling;	   /* inside ops->trace() */
	bool finished;	   /* done() has been called */
};

struct md_control {
	struct event_base *base;
	struct md_control_ops ops;
	struct event *listen_ev;
	struct event *reap_ev;
	struct event *pause_ev; /* accept() out of descriptors: resting */
	struct conn_list conns;
	struct conn_list dead;
	unsigned nconns;
	int fd;
	uid_t euid; /* who may connect besides root: the daemon's user */
	dev_t dev;  /* of the socket file we made, to unlink only that */
	ino_t ino;
	char *path;
};

static void conn_close(struct conn *conn);

/* ---- writing replies --------------------------------------------------- */

static void
conn_write_line(struct conn *conn, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	if (text == NULL)
		text = "";
	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
}

/* The status line; the connection closes once it is written. */
static void
conn_finish(struct conn *conn, int rc, const char *msg)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	if (conn->closing)
		return;
	if (rc == 0) {
		evbuffer_add(out, "OK\n", 3);
	} else {
		if (msg == NULL || *msg == '\0')
			msg = md_strerror(rc);
		evbuffer_add_printf(out, "ERROR: %s\n", msg);
	}
	conn->closing = true;
	bufferevent_disable(conn->bev, EV_READ);
	/* Written at once, or the write callback closes it when drained. */
	if (evbuffer_get_length(out) == 0)
		conn_close(conn);
}

static void
line_cb(void *ctx, const char *text)
{
	struct req *req = ctx;

	if (req == NULL || req->conn == NULL || req->finished ||
	    req->conn->closing)
		return;
	conn_write_line(req->conn, text);
}

static void
done_cb(void *ctx, int rc, const char *msg)
{
	struct req *req = ctx;
	struct conn *conn;

	if (req == NULL || req->finished)
		return;
	req->finished = true;
	conn = req->conn;
	req->conn = NULL;
	if (conn != NULL) {
		conn->req = NULL;
		/* conn may go to the reap list: its memory stays valid until
		 * the reap event runs. */
		conn_finish(conn, rc > 0 ? -rc : rc, msg);
	}
	/* Inside ops->trace() the caller frees it on return. */
	if (!req->calling)
		free(req);
}

/* ---- requests ---------------------------------------------------------- */

/* Split s in place at spaces and tabs; returns the number of words. */
static int
split_words(char *s, char **argv, int max)
{
	int n = 0;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == max)
			return max + 1;
		argv[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
	}
	return n;
}

static bool
has_final_dot(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && name[len - 1] == '.';
}

/* trace NAME [TYPE]: the one asynchronous command. */
static void
run_trace(struct conn *conn, const char *name, const char *type)
{
	struct md_control *ctl = conn->ctl;
	char msg[MSG_MAX] = "";
	struct req *req;
	int rc;

	if (ctl->ops.trace == NULL) {
		conn_finish(conn, -ENOTSUP, "trace is not supported");
		return;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		conn_finish(conn, -ENOMEM, "out of memory");
		return;
	}
	req->conn = conn;
	req->calling = true;
	conn->req = req;
	rc = ctl->ops.trace(
	    ctl->ops.arg, name, type, line_cb, done_cb, req, msg, sizeof(msg));
	req->calling = false;
	if (rc != 0 || req->finished) {
		/* Refused (done() will not come), or already done. */
		if (!req->finished)
			conn_finish(conn, rc > 0 ? -rc : rc, msg);
		if (conn->req == req)
			conn->req = NULL;
		free(req);
		return;
	}
	/* Pending: the client may go away; a read now is only for EOF. */
}

static void
handle_line(struct conn *conn, char *line)
{
	struct md_control *ctl = conn->ctl;
	const struct md_control_ops *ops = &ctl->ops;
	struct req sync = {.conn = conn};
	char *argv[ARGS_MAX + 1];
	char msg[MSG_MAX] = "";
	const char *cmd;
	int argc, rc = -ENOTSUP;

	argc = split_words(line, argv, ARGS_MAX);
	if (argc == 0) {
		conn_finish(conn, MD_EPARSE, "empty request");
		return;
	}
	cmd = argv[0];
	md_log(MD_LOG_INFO, MD_LOG_SERVER, "control: uid %u: %s",
	    (unsigned)conn->uid, cmd);
#define NOARGS(n)                                                  \
	do {                                                       \
		if (argc != 1) {                                   \
			conn_finish(conn, MD_EPARSE, "usage: " n); \
			return;                                    \
		}                                                  \
	} while (0)
	if (strcasecmp(cmd, "status") == 0) {
		NOARGS("status");
		if (ops->status != NULL)
			rc = ops->status(
			    ops->arg, line_cb, &sync, msg, sizeof(msg));
	} else if (strcasecmp(cmd, "stats") == 0) {
		NOARGS("stats");
		if (ops->stats != NULL)
			rc = ops->stats(
			    ops->arg, line_cb, &sync, msg, sizeof(msg));
	} else if (strcasecmp(cmd, "reload") == 0) {
		NOARGS("reload");
		if (ops->reload != NULL)
			rc = ops->reload(
			    ops->arg, line_cb, &sync, msg, sizeof(msg));
	} else if (strcasecmp(cmd, "dump-cache") == 0) {
		NOARGS("dump-cache");
		if (ops->dump_cache != NULL)
			rc = ops->dump_cache(
			    ops->arg, line_cb, &sync, msg, sizeof(msg));
	} else if (strcasecmp(cmd, "flush") == 0) {
		const char *name = NULL;
		bool zone = false;

		if (argc == 2 && strcasecmp(argv[1], "zone") != 0) {
			name = argv[1];
		} else if (argc == 3 && strcasecmp(argv[1], "zone") == 0) {
			name = argv[2];
			zone = true;
			if (!has_final_dot(name)) {
				conn_finish(conn, MD_EPARSE,
				    "flush zone: the zone name must end "
				    "with '.'");
				return;
			}
		} else if (argc != 1) {
			conn_finish(conn, MD_EPARSE,
			    "usage: flush [NAME | zone NAME.]");
			return;
		}
		if (ops->flush != NULL)
			rc = ops->flush(ops->arg, name, zone, line_cb, &sync,
			    msg, sizeof(msg));
	} else if (strcasecmp(cmd, "set-loglevel") == 0) {
		if (argc != 2) {
			conn_finish(conn, MD_EPARSE,
			    "usage: set-loglevel error|warning|info|debug");
			return;
		}
		if (ops->set_loglevel != NULL)
			rc = ops->set_loglevel(ops->arg, argv[1], line_cb,
			    &sync, msg, sizeof(msg));
	} else if (strcasecmp(cmd, "nta") == 0) {
		const char *verb = argc >= 2 ? argv[1] : "";

		if (!((strcasecmp(verb, "add") == 0 &&
			  (argc == 3 || argc == 4)) ||
			(strcasecmp(verb, "remove") == 0 && argc == 3) ||
			(strcasecmp(verb, "list") == 0 && argc == 2))) {
			conn_finish(conn, MD_EPARSE,
			    "usage: nta add NAME [SECONDS] | nta remove NAME | "
			    "nta list");
			return;
		}
		if (ops->nta != NULL)
			rc =
			    ops->nta(ops->arg, verb, argc >= 3 ? argv[2] : NULL,
				argc == 4 ? argv[3] : NULL, line_cb, &sync, msg,
				sizeof(msg));
	} else if (strcasecmp(cmd, "trace") == 0) {
		if (argc != 2 && argc != 3) {
			conn_finish(
			    conn, MD_EPARSE, "usage: trace NAME [TYPE]");
			return;
		}
		run_trace(conn, argv[1], argc == 3 ? argv[2] : "A");
		return;
	} else {
		snprintf(msg, sizeof(msg),
		    "unknown command '%.64s' (status, stats, reload, flush, "
		    "dump-cache, trace, set-loglevel, nta)",
		    cmd);
		conn_finish(conn, MD_EPARSE, msg);
		return;
	}
#undef NOARGS
	if (rc == -ENOTSUP && msg[0] == '\0')
		snprintf(msg, sizeof(msg), "%s is not supported", cmd);
	/* The ops return 0 or negative; anything else counts as failure. */
	conn_finish(conn, rc > 0 ? -rc : rc, msg);
}

/* ---- connection events ------------------------------------------------- */

static void
got_request(struct conn *conn, char *line)
{
	struct timeval wtv = {WRITE_TIMEOUT_S, 0};

	conn->got_line = true;
	/* A trace may take longer than the request timeout. */
	bufferevent_set_timeouts(conn->bev, NULL, &wtv);
	handle_line(conn, line);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = NULL;
	size_t n = 0;

	if (conn->got_line || conn->closing) {
		/* One request per connection: the rest is ignored. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > REQ_LINE_MAX)
			conn_finish(conn, MD_EPARSE, "request line too long");
		return;
	}
	if (n > REQ_LINE_MAX) {
		conn_finish(conn, MD_EPARSE, "request line too long");
		goto cleanup;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	got_request(conn, line);
cleanup:
	free(line);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;

	(void)bev;
	if (conn->closing)
		conn_close(conn);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *conn = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    !conn->got_line && !conn->closing) {
		conn_finish(conn, -ETIMEDOUT, "timeout reading the request");
		return;
	}
	/* "status" without a newline, then EOF: still a request. */
	if ((what & BEV_EVENT_EOF) && !conn->got_line && !conn->closing) {
		struct evbuffer *in = bufferevent_get_input(bev);
		size_t len = evbuffer_get_length(in);
		char line[REQ_LINE_MAX + 1];

		if (len > 0 && len <= REQ_LINE_MAX) {
			/* The input buffer is frozen here: copy it out. */
			evbuffer_remove(in, line, len);
			line[len] = '\0';
			got_request(conn, line);
			return;
		}
	}
	/*
	 * EOF while a request is pending may be a half-close (the client
	 * shut down its writing side and still reads): keep going; a client
	 * really gone shows up as a write error.
	 */
	if ((what & BEV_EVENT_EOF) && conn->got_line && !conn->closing) {
		bufferevent_disable(bev, EV_READ);
		return;
	}
	conn_close(conn);
}

/*
 * Detach conn from its request and its events and queue it for the reap
 * event: we may be inside one of its bufferevent's callbacks.
 */
static void
conn_close(struct conn *conn)
{
	struct md_control *ctl = conn->ctl;

	if (conn->req != NULL) {
		conn->req->conn = NULL;
		conn->req = NULL;
	}
	conn->closing = true;
	bufferevent_setcb(conn->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	TAILQ_REMOVE(&ctl->conns, conn, entry);
	TAILQ_INSERT_TAIL(&ctl->dead, conn, entry);
	ctl->nconns--;
	event_active(ctl->reap_ev, EV_TIMEOUT, 1);
}

static void
conn_free(struct conn *conn)
{
	if (conn->req != NULL)
		conn->req->conn = NULL;
	bufferevent_free(conn->bev); /* closes the socket */
	free(conn);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_control *ctl = arg;
	struct conn *conn;

	(void)fd;
	(void)what;
	while ((conn = TAILQ_FIRST(&ctl->dead)) != NULL) {
		TAILQ_REMOVE(&ctl->dead, conn, entry);
		conn_free(conn);
	}
}

/* A short refusal written straight to the socket, then closed. */
static void
refuse(int fd, const char *text)
{
	ssize_t n;

	n = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
}

static void
accept_one(struct md_control *ctl, int fd)
{
	struct timeval rtv = {REQ_TIMEOUT_S, 0}, wtv = {WRITE_TIMEOUT_S, 0};
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct conn *conn = NULL;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    clen != sizeof(cred)) {
		md_log(MD_LOG_WARN, MD_LOG_SERVER,
		    "control: cannot read peer credentials: %s",
		    strerror(errno));
		refuse(fd, "ERROR: permission denied\n");
		return;
	}
	if (cred.uid != 0 && cred.uid != ctl->euid) {
		md_log(MD_LOG_WARN, MD_LOG_SERVER,
		    "control: uid %u (pid %d) refused: permission denied",
		    (unsigned)cred.uid, (int)cred.pid);
		refuse(fd, "ERROR: permission denied\n");
		return;
	}
	if (ctl->nconns >= CONNS_MAX) {
		md_log(MD_LOG_WARN, MD_LOG_SERVER,
		    "control: %d connections open, refusing another",
		    CONNS_MAX);
		refuse(fd, "ERROR: too many connections\n");
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		refuse(fd, "ERROR: out of memory\n");
		return;
	}
	conn->ctl = ctl;
	conn->uid = cred.uid;
	conn->bev =
	    bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		free(conn);
		refuse(fd, "ERROR: out of memory\n");
		return;
	}
	bufferevent_setcb(conn->bev, read_cb, write_cb, event_cb, conn);
	bufferevent_set_timeouts(conn->bev, &rtv, &wtv);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ctl->conns, conn, entry);
	ctl->nconns++;
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct md_control *ctl = arg;

	(void)fd;
	(void)what;
	event_add(ctl->listen_ev, NULL);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct md_control *ctl = arg;
	struct timeval pause = {0, MD_ACCEPT_PAUSE_MS * 1000};
	int fd, i;

	(void)what;
	/* A bounded batch per wake-up; the rest waits for the next one. */
	for (i = 0; i < 16; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				md_log(MD_LOG_WARN, MD_LOG_SERVER,
				    "control: accept: %s", strerror(errno));
			/* The connection not taken keeps the socket
			 * readable: rest rather than spin. */
			if (md_accept_err_is_resource(errno) &&
			    event_del(ctl->listen_ev) == 0 &&
			    event_add(ctl->pause_ev, &pause) != 0)
				event_add(ctl->listen_ev, NULL);
			return;
		}
		accept_one(ctl, fd);
	}
}

/* ---- life cycle -------------------------------------------------------- */

/* May uid/gid (as the daemon will be, with no other group) create and
 * remove files in the folder st describes? */
static bool
folder_writable_by(const struct stat *st, uid_t uid, gid_t gid)
{
	if (uid == 0)
		return true;
	if (st->st_uid == uid)
		return (st->st_mode & (S_IWUSR | S_IXUSR)) ==
		    (S_IWUSR | S_IXUSR);
	if (st->st_gid == gid)
		return (st->st_mode & (S_IWGRP | S_IXGRP)) ==
		    (S_IWGRP | S_IXGRP);
	return (st->st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

int
md_control_check_path(
    const char *path, bool user, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char dir[sizeof(sun.sun_path)];
	struct stat st;

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no path");
		return MD_ECONFIG;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long (at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
		return MD_ECONFIG;
	}
	/* Replace a stale socket, never anything else. */
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return MD_ECONFIG;
	}
	if (md_path_dir(path, dir, sizeof(dir)) != 0) {
		snprintf(err, errlen, "%s: path too long", path);
		return MD_ECONFIG;
	}
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: folder %s: %s", path, dir,
		    strerror(errno));
		return MD_ECONFIG;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s is not a folder", path, dir);
		return MD_ECONFIG;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "%s: folder %s is not writable: %s", path,
		    dir, strerror(errno));
		return MD_ECONFIG;
	}
	if (user && !folder_writable_by(&st, uid, gid)) {
		snprintf(err, errlen,
		    "%s: folder %s is not writable by uid %u, which the "
		    "daemon runs as (it could not remove the socket at "
		    "stop): give that user the folder",
		    path, dir, (unsigned)uid);
		return MD_ECONFIG;
	}
	return 0;
}

int
md_control_set_owner(
    struct md_control *ctl, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	/* The path, not the descriptor: fchown() on a socket changes the
	 * socket, not the file that names it. */
	if (lchown(ctl->path, uid, gid) != 0) {
		int e = errno;

		snprintf(err, errlen, "control socket %s: chown: %s", ctl->path,
		    strerror(e));
		return -e;
	}
	ctl->euid = uid;
	return 0;
}

struct md_control *
md_control_new(struct event_base *base, const char *path,
    const struct md_control_ops *ops, char *err, size_t errlen)
{
	struct md_control *ctl = NULL;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_umask;
	char why[512];
	int rc;

	if (base == NULL || ops == NULL ||
	    md_control_check_path(path, false, 0, 0, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "control socket %s",
		    base == NULL || ops == NULL ? "has no event base" : why);
		return NULL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	md_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		return NULL;
	}
	ctl->fd = -1;
	ctl->base = base;
	ctl->ops = *ops;
	ctl->euid = geteuid();
	TAILQ_INIT(&ctl->conns);
	TAILQ_INIT(&ctl->dead);
	ctl->path = strdup(path);
	if (ctl->path == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		goto fail;
	}

	/* A stale socket (md_control_check_path() refused anything else). */
	if (lstat(path, &st) == 0) {
		if (unlink(path) != 0) {
			snprintf(err, errlen, "control socket %s: unlink: %s",
			    path, strerror(errno));
			goto fail;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		goto fail;
	}

	ctl->fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		snprintf(
		    err, errlen, "control socket: socket: %s", strerror(errno));
		goto fail;
	}
	/* Created 0660 from the start: no window with a wider mode. */
	old_umask = umask(0117);
	rc = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc != 0) {
		snprintf(err, errlen, "control socket %s: bind: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (lstat(path, &st) == 0) {
		ctl->dev = st.st_dev;
		ctl->ino = st.st_ino;
	}
	if (listen(ctl->fd, 16) != 0) {
		snprintf(err, errlen, "control socket %s: listen: %s", path,
		    strerror(errno));
		goto fail_unlink;
	}
	ctl->listen_ev =
	    event_new(base, ctl->fd, EV_READ | EV_PERSIST, accept_cb, ctl);
	ctl->reap_ev = event_new(base, -1, 0, reap_cb, ctl);
	ctl->pause_ev = evtimer_new(base, resume_cb, ctl);
	if (ctl->listen_ev == NULL || ctl->reap_ev == NULL ||
	    ctl->pause_ev == NULL || event_add(ctl->listen_ev, NULL) != 0) {
		snprintf(
		    err, errlen, "control socket %s: event setup failed", path);
		goto fail_unlink;
	}
	md_log(MD_LOG_INFO, MD_LOG_SERVER, "control socket on %s", path);
	return ctl;

fail_unlink:
	unlink(path);
fail:
	if (ctl->listen_ev != NULL)
		event_free(ctl->listen_ev);
	if (ctl->reap_ev != NULL)
		event_free(ctl->reap_ev);
	if (ctl->pause_ev != NULL)
		event_free(ctl->pause_ev);
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return NULL;
}

void
md_control_free(struct md_control *ctl)
{
	struct conn *conn;
	struct stat st;

	if (ctl == NULL)
		return;
	/* Open requests end without a status; pending traces are detached
	 * (their req is freed by the daemon's later done()). */
	while ((conn = TAILQ_FIRST(&ctl->conns)) != NULL) {
		TAILQ_REMOVE(&ctl->conns, conn, entry);
		conn_free(conn);
	}
	while ((conn = TAILQ_FIRST(&ctl->dead)) != NULL) {
		TAILQ_REMOVE(&ctl->dead, conn, entry);
		conn_free(conn);
	}
	event_free(ctl->listen_ev);
	event_free(ctl->reap_ev);
	event_free(ctl->pause_ev);
	close(ctl->fd);
	/* Only our own socket file: a newer daemon may have replaced it. */
	if (lstat(ctl->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    unlink(ctl->path) != 0)
		md_log(MD_LOG_WARN, MD_LOG_SERVER,
		    "control socket %s: cannot remove it: %s", ctl->path,
		    strerror(errno));
	free(ctl->path);
	free(ctl);
}
