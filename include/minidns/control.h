/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control.h - the control socket of minidnsd (a Unix socket; the client is
 * minidns-control).  One request per connection: a line "COMMAND [ARGS]",
 * answered with text lines and a last line "OK" or "ERROR: reason", then
 * the connection closes.  Only root and the daemon's own user may connect
 * (SO_PEERCRED); the socket is created mode 0660.
 *
 * Commands: status, stats, reload, flush [NAME|ZONE.], dump-cache,
 * trace NAME [TYPE], set-loglevel LEVEL, nta add NAME [SECONDS],
 * nta remove NAME, nta list.  The daemon supplies what each does
 * through struct md_control_ops.
 */
#ifndef MINIDNS_CONTROL_H
#define MINIDNS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

/* Writes one line of a reply (no newline needed); ctx is the request. */
typedef void (*md_control_line_fn)(void *ctx, const char *text);
/* Ends an asynchronous reply: rc 0 = "OK", else "ERROR: msg". */
typedef void (*md_control_done_fn)(void *ctx, int rc, const char *msg);

struct md_control_ops {
	void *arg;
	/* synchronous: write lines, return 0 or a negative value with msg */
	int (*status)(void *arg, md_control_line_fn line, void *ctx, char *msg,
	    size_t len);
	int (*stats)(void *arg, md_control_line_fn line, void *ctx, char *msg,
	    size_t len);
	int (*reload)(void *arg, md_control_line_fn line, void *ctx, char *msg,
	    size_t len);
	/* name NULL: everything; a name ending in '.' with "zone" true:
	 * every name at or below it */
	int (*flush)(void *arg, const char *name, bool zone,
	    md_control_line_fn line, void *ctx, char *msg, size_t len);
	int (*dump_cache)(void *arg, md_control_line_fn line, void *ctx,
	    char *msg, size_t len);
	int (*set_loglevel)(void *arg, const char *level,
	    md_control_line_fn line, void *ctx, char *msg, size_t len);
	/* negative trust anchors: verb "add" (seconds NULL: until
	 * removed), "remove" or "list" (name NULL) */
	int (*nta)(void *arg, const char *verb, const char *name,
	    const char *seconds, md_control_line_fn line, void *ctx, char *msg,
	    size_t len);
	/* asynchronous: lines as the resolution goes, then done() once; a
	 * nonzero return means done() will not be called */
	int (*trace)(void *arg, const char *name, const char *type,
	    md_control_line_fn line, md_control_done_fn done, void *ctx,
	    char *msg, size_t len);
};

struct md_control;

/*
 * Listen on the Unix socket 'path' (an existing socket file is replaced;
 * any other file there is an error).  Returns NULL with err set.
 */
struct md_control *md_control_new(struct event_base *base, const char *path,
    const struct md_control_ops *ops, char *err, size_t errlen);
/*
 * What md_control_new() needs of 'path', checked without touching it: a
 * name that fits a Unix socket address, nothing but a socket there, a
 * folder that exists and that this process may create files in; and,
 * when 'user' is set, a folder where that uid/gid may remove the socket
 * at stop (the daemon runs as it by then; the socket file will be its).
 * Returns 0, or MD_ECONFIG with "PATH: problem" in err.  The daemon's
 * start and minidnsd -t call it before anything is bound.
 */
int md_control_check_path(const char *path, bool user, uid_t uid, gid_t gid,
    char *err, size_t errlen);
/*
 * Hand the socket to the user the daemon is about to become (before it
 * drops root): the file's owner becomes uid:gid (its mode stays 0660) and
 * that uid may use the socket, besides root.  Returns 0 or -errno with
 * err set.
 */
int md_control_set_owner(
    struct md_control *c, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Closes the socket, ends open requests and removes the socket file (if
 * it is still the one made here; a failure is logged). */
void md_control_free(struct md_control *c);

#endif /* MINIDNS_CONTROL_H */
