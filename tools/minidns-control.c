/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * minidns-control.c - the client of minidnsd's control socket: sends one
 * request line "COMMAND [ARGS...]", prints the reply's text lines as they
 * arrive and turns the last line ("OK" or "ERROR: reason") into the exit
 * code: 0 OK, 1 ERROR (the message on stderr), 2 usage, connection or
 * timeout errors.
 *
 * Not here: what the commands do (the daemon, src/daemon/main.c) and the
 * protocol's server side (src/server/control.c).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "minidns/util.h"

#ifndef MD_RUNSTATEDIR
#define MD_RUNSTATEDIR "/run"
#endif
#define DEFAULT_SOCKET MD_RUNSTATEDIR "/minidns/control.sock"
#define DEFAULT_TIMEOUT_S 30
#define REQ_LINE_MAX 1024	 /* the server's limit */
#define REPLY_LINE_MAX (1 << 20) /* one reply line, bytes */

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2

static const char *progname = "minidns-control";

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-s SOCKET] [-t SECONDS] COMMAND [ARGS...]\n"
	    "commands:\n"
	    "  status                 version, uptime, zones\n"
	    "  stats                  counters (Prometheus text format)\n"
	    "  reload                 reload configuration and zones\n"
	    "  flush                  empty the cache\n"
	    "  flush NAME             remove NAME (every type) from the cache\n"
	    "  flush zone NAME.       remove everything at or below NAME.\n"
	    "  dump-cache             list the cached records\n"
	    "  trace NAME [TYPE]      resolve, printing each step\n"
	    "  set-loglevel LEVEL     error, warning, info or debug\n"
	    "  nta add NAME [SECONDS] stop validating DNSSEC at and below NAME\n"
	    "                         (for SECONDS, else until removed)\n"
	    "  nta remove NAME        validate there again\n"
	    "  nta list               the negative trust anchors in force\n"
	    "options:\n"
	    "  -s SOCKET   control socket (default %s)\n"
	    "  -t SECONDS  timeout for the whole exchange (default %d)\n",
	    progname, DEFAULT_SOCKET, DEFAULT_TIMEOUT_S);
}

/* Milliseconds left before the deadline, at least 0. */
static int
left_ms(uint64_t deadline)
{
	uint64_t now = md_now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > 60000000 ? 60000000 : (int)(deadline - now);
}

/* Join the words into "w1 w2 ...\n"; returns 0 or -1 (bad or too long). */
static int
build_request(int argc, char **argv, char *out, size_t size)
{
	size_t len = 0, n;
	int i;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (n == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "%s: bad argument '%s'\n", progname,
			    argv[i]);
			return -1;
		}
		if (len + n + 2 > size || len + n > REQ_LINE_MAX) {
			fprintf(stderr, "%s: request too long\n", progname);
			return -1;
		}
		if (i > 0)
			out[len++] = ' ';
		memcpy(out + len, argv[i], n);
		len += n;
	}
	out[len++] = '\n';
	out[len] = '\0';
	return 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: cannot connect to %s: path too long\n",
		    progname, path);
		return -1;
	}
	md_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", progname, strerror(errno));
		return -1;
	}
	/* A Unix connect completes at once or fails (EAGAIN: backlog). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", progname,
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait for 'events' on fd until the deadline; 0, or -1 on timeout. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int rc;

	for (;;) {
		rc = poll(&pfd, 1, left_ms(deadline));
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -1;
		if (errno != EINTR)
			return -1;
	}
}

struct reply {
	char *cur; /* the line being received */
	size_t len, cap;
	char *held; /* the last complete line: maybe the status */
};

/* A complete line: print the one held before, hold this one. */
static void
reply_line(struct reply *r)
{
	if (r->held != NULL) {
		fputs(r->held, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(r->held);
	}
	r->held = r->cur;
	r->cur = NULL;
	r->len = r->cap = 0;
}

static int
reply_add(struct reply *r, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (r->cur == NULL && (r->cur = calloc(1, 1)) == NULL)
				return -1;
			if (r->len > 0 && r->cur[r->len - 1] == '\r')
				r->cur[--r->len] = '\0';
			reply_line(r);
			continue;
		}
		if (r->len + 2 > r->cap) {
			size_t ncap = r->cap == 0 ? 256 : r->cap * 2;
			char *p;

			if (ncap > REPLY_LINE_MAX)
				return -1;
			p = realloc(r->cur, ncap);
			if (p == NULL)
				return -1;
			r->cur = p;
			r->cap = ncap;
		}
		r->cur[r->len++] = buf[i];
		r->cur[r->len] = '\0';
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCKET;
	long long timeout_s = DEFAULT_TIMEOUT_S;
	struct reply r = {0};
	char req[REQ_LINE_MAX + 2], buf[4096];
	size_t sent = 0, reqlen;
	uint64_t deadline;
	int opt, fd = -1, rc = EXIT_USAGE;
	ssize_t n;

	/* "+": options only before COMMAND, its arguments are left alone. */
	while ((opt = getopt(argc, argv, "+s:t:h")) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 't':
			if (md_parse_int(optarg, 1, 86400, &timeout_s) != 0) {
				fprintf(stderr,
				    "%s: -t: expected seconds (1-86400), "
				    "got '%s'\n",
				    progname, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (build_request(argc, argv, req, sizeof(req)) != 0)
		return EXIT_USAGE;
	reqlen = strlen(req);
	deadline = md_now_ms() + (uint64_t)timeout_s * 1000;

	fd = connect_to(sock);
	if (fd < 0)
		return EXIT_USAGE;
	while (sent < reqlen) {
		if (wait_fd(fd, POLLOUT, deadline) != 0)
			goto timeout;
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			/* Refused before the request: the reason is waiting. */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			fprintf(stderr, "%s: sending to %s: %s\n", progname,
			    sock, strerror(errno));
			goto cleanup;
		}
		sent += (size_t)n;
	}
	for (;;) {
		if (wait_fd(fd, POLLIN, deadline) != 0)
			goto timeout;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			/* Refused peers may see a reset after the reply. */
			if (errno == ECONNRESET && r.len == 0 && r.held != NULL)
				break;
			fprintf(stderr, "%s: reading from %s: %s\n", progname,
			    sock, strerror(errno));
			goto cleanup;
		}
		if (reply_add(&r, buf, (size_t)n) != 0) {
			fprintf(stderr, "%s: reply line too long\n", progname);
			goto cleanup;
		}
	}
	/* An unterminated last line still counts. */
	if (r.len > 0)
		reply_line(&r);
	if (r.held == NULL) {
		fprintf(stderr,
		    "%s: %s closed the connection without a reply\n", progname,
		    sock);
	} else if (strcmp(r.held, "OK") == 0) {
		rc = EXIT_OK;
	} else if (strncmp(r.held, "ERROR", 5) == 0) {
		fprintf(stderr, "%s\n", r.held);
		rc = EXIT_ERROR;
	} else {
		/* The connection ended before the status line. */
		printf("%s\n", r.held);
		fprintf(stderr, "%s: reply from %s ended without a status\n",
		    progname, sock);
	}
	goto cleanup;
timeout:
	fprintf(stderr, "%s: no complete reply from %s within %lld s\n",
	    progname, sock, timeout_s);
	rc = EXIT_USAGE;
cleanup:
	if (fd >= 0)
		close(fd);
	free(r.cur);
	free(r.held);
	return rc;
}
