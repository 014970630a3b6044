/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.h - the base layer: logging with levels and groups, error codes,
 * checked number parsing, socket address parsing, an arena allocator,
 * soft assertions.
 *
 * Nothing here knows about DNS.  Every other module may include this
 * header; this header includes no other minidns header.
 */
#ifndef MINIDNS_UTIL_H
#define MINIDNS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- errors ------------------------------------------------------------ */

/*
 * Functions return 0 on success and a negative value on failure: either a
 * negative errno or one of these project codes.
 */
enum md_err {
	MD_EPARSE = -1000,    /* malformed input (text or wire) */
	MD_ECONFIG = -1001,   /* bad configuration value */
	MD_ENOSPACE = -1002,  /* a buffer or a limit is full */
	MD_ENOTFOUND = -1003, /* lookup found nothing */
};

/* A static string describing 'err' (a negative errno or enum md_err). */
const char *md_strerror(int err);

/* ---- logging ----------------------------------------------------------- */

enum md_log_level {
	MD_LOG_ERR = 0,
	MD_LOG_WARN,
	MD_LOG_INFO,
	MD_LOG_DEBUG,
};

enum md_log_group {
	MD_LOG_MAIN = 0,
	MD_LOG_NET,
	MD_LOG_ZONE,
	MD_LOG_SERVER,
	MD_LOG_CONFIG,
	MD_LOG_K8S,
	MD_LOG_GROUP_COUNT,
};

const char *md_log_level_str(enum md_log_level level);
const char *md_log_group_str(enum md_log_group group);
/* Parse "error", "warning", "info", "debug"; returns 0 or MD_EPARSE. */
int md_log_level_parse(const char *s, enum md_log_level *out);

enum md_log_format {
	MD_LOG_TEXT = 0, /* "2026-...Z minidnsd[group] level: message" */
	MD_LOG_LOGFMT,	 /* ts=... level=... group=... msg="..." */
	MD_LOG_JSON, /* {"ts": ..., "level": ..., "group": ..., "msg": ...} */
};

/* Parse "text", "logfmt", "json"; returns 0 or MD_EPARSE. */
int md_log_format_parse(const char *s, enum md_log_format *out);
void md_log_set_format(enum md_log_format f);
/*
 * Log to this file (appending) instead of stderr; NULL: back to stderr.
 * Returns 0 or -errno (the old destination stays).
 */
int md_log_set_file(const char *path);
/* Reopen the log file (after rotation: SIGUSR1, or the control socket). */
int md_log_reopen(void);

/* One line of the query log (written through the log's destination and
 * format, group "query"); see md_querylog(). */
struct md_querylog_entry {
	const char *client;    /* "ADDR:PORT" */
	const char *name;      /* presentation form */
	const char *type;      /* mnemonic */
	const char *rcode;     /* mnemonic */
	const char *source;    /* local, cache, recursion, forward, error */
	const char *transport; /* udp, tcp, tls */
	uint64_t duration_us;
};

void md_querylog_enable(bool on);
bool md_querylog_enabled(void);
void md_querylog(const struct md_querylog_entry *e);

void md_log_set_level(enum md_log_level level);
enum md_log_level md_log_get_level(void);
/* Log lines go to stderr; 'prefix' (e.g. "minidnsd") starts every line. */
void md_log_init(const char *prefix);
/* Send log lines to syslog (facility daemon) instead of stderr. */
void md_log_use_syslog(bool on);

/*
 * A log line.  Lines are rate-limited by format string (call site): at
 * most MD_LOG_RATELIMIT_BURST per MD_LOG_RATELIMIT_WINDOW_MS each; the
 * first line after a window in which some were dropped ends with "(N more
 * like this in the last S s)".  The query log is not limited.
 */
void md_log(enum md_log_level level, enum md_log_group group, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void md_vlog(enum md_log_level level, enum md_log_group group, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));
/* Output the operator asked for line by line (traces): never limited. */
void md_log_unlimited(enum md_log_level level, enum md_log_group group,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define MD_LOG_RATELIMIT_BURST 20
#define MD_LOG_RATELIMIT_WINDOW_MS 10000
/* Change the limit (burst 0: none), forgetting what was counted. */
void md_log_set_ratelimit(unsigned burst, unsigned window_ms);
/* Tests: the limit's clock (NULL: md_now_ms()). */
void md_log_set_clock(uint64_t (*now_ms)(void));

#define md_err(g, ...) md_log(MD_LOG_ERR, (g), __VA_ARGS__)
#define md_warn(g, ...) md_log(MD_LOG_WARN, (g), __VA_ARGS__)
#define md_info(g, ...) md_log(MD_LOG_INFO, (g), __VA_ARGS__)
#define md_debug(g, ...)                                        \
	do {                                                    \
		if (md_log_get_level() >= MD_LOG_DEBUG)         \
			md_log(MD_LOG_DEBUG, (g), __VA_ARGS__); \
	} while (0)

/* ---- assertions -------------------------------------------------------- */

void md_assert_fail(const char *expr, const char *file, int line, bool fatal)
    __attribute__((noreturn));
bool md_assert_soft_fail(const char *expr, const char *file, int line);

/* Memory safety: always aborts. */
#define MD_ASSERT(e) \
	((e) ? (void)0 : md_assert_fail(#e, __FILE__, __LINE__, true))
/*
 * Logic errors that can be survived: logs file:line and evaluates to false
 * so the caller can recover; aborts in debug/CI builds.
 */
#define MD_CHECK(e) ((e) ? true : md_assert_soft_fail(#e, __FILE__, __LINE__))

/* ---- numbers ----------------------------------------------------------- */

/*
 * Parse a whole string as a base-10 integer in [min, max].  Leading or
 * trailing garbage, overflow and empty strings are errors.  Returns 0 or
 * MD_EPARSE (not a number) or -ERANGE.
 */
int md_parse_int(const char *s, long long min, long long max, long long *out);
/*
 * A duration as Go and CoreDNS write it, one number and its unit: "500ms",
 * "5s", "2m", "1h"; a bare number is seconds.  *out in milliseconds, at
 * most max_ms.  Returns 0, MD_EPARSE or -ERANGE.
 */
int md_parse_duration_ms(const char *s, long long max_ms, long long *out);
/* Parse yes/no/true/false/on/off/1/0. Returns 0 or MD_EPARSE. */
int md_parse_bool(const char *s, bool *out);

/* ---- socket addresses -------------------------------------------------- */

struct md_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/*
 * Parse "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT" (a bare IPv6
 * address without brackets is accepted when it has no port).  'defport'
 * fills in a missing port.  Returns 0 or MD_EPARSE.
 */
int md_sockaddr_parse(const char *s, uint16_t defport, struct md_sockaddr *out);
/* "127.0.0.1:53" or "[::1]:53" into buf; returns buf. */
const char *md_sockaddr_str(
    const struct md_sockaddr *sa, char *buf, size_t size);
#define MD_SOCKADDR_STRLEN 64

/* ---- arena ------------------------------------------------------------- */

/* The folder of a file's path into dir: "." for a bare name, "/" for a
 * file in the root folder.  Returns 0, or MD_ENOSPACE when it does not
 * fit. */
int md_path_dir(const char *path, char *dir, size_t size);

/* ---- descriptor budget -------------------------------------------------- */

/*
 * Client connections (DNS over TCP/TLS, HTTP, the control socket) may use
 * descriptors up to a high-water mark below RLIMIT_NOFILE; the rest are
 * kept for upstream sockets, listeners and files.  The reserve is an
 * eighth of the limit, at least MD_FD_RESERVE_MIN.
 */
#define MD_FD_RESERVE_MIN 32
/* After accept() fails for want of descriptors or memory, a listener
 * rests this long instead of retrying at once (a spin: the connection
 * that could not be taken keeps the socket readable). */
#define MD_ACCEPT_PAUSE_MS 250

/*
 * Whether a client connection just accepted as fd is past the high-water
 * mark (close it then).  The kernel hands out the lowest free descriptor,
 * so fd >= N means at least N are open: a test of one number, no count.
 * The limit is read once (getrlimit).
 */
bool md_fd_over_budget(int fd);
/* The high-water mark (for logs and tests). */
int md_fd_high_water(void);
/*
 * The same for a socket to an upstream server, with a lower mark: with the
 * lowest free descriptor handed out, upstream sockets never reach the
 * descriptors between the two marks, so questions to dead servers (their
 * sockets stay open until they time out) cannot starve the listeners and
 * client connections, however many there are.  Close it and fail the
 * query when true.
 */
bool md_fd_upstream_over_budget(int fd);
/* Whether accept() failed with err for want of resources (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM): pause the listener, do not retry at once. */
bool md_accept_err_is_resource(int err);

/*
 * A bump allocator: many small allocations, one free.  Memory comes in
 * chunks from malloc; md_arena_alloc() returns NULL when malloc fails.
 */
struct md_arena_chunk;
struct md_arena {
	struct md_arena_chunk *head;
	size_t chunk_size;
	size_t total; /* bytes requested from malloc, for accounting */
};

void md_arena_init(struct md_arena *a, size_t chunk_size);
void md_arena_deinit(struct md_arena *a);
void *md_arena_alloc(struct md_arena *a, size_t size);
void *md_arena_memdup(struct md_arena *a, const void *p, size_t size);
char *md_arena_strdup(struct md_arena *a, const char *s);

/* ---- misc -------------------------------------------------------------- */

/* Bounded string copy that always terminates; returns strlen(src). */
size_t md_strlcpy(char *dst, const char *src, size_t size);
/* Monotonic time in milliseconds. */
uint64_t md_now_ms(void);
/* Monotonic time in microseconds (request durations). */
uint64_t md_now_us(void);

/* ---- UTF-8 and JSON (json.c; documents are written by jansson) -------- */

struct json_t;

/*
 * Length of the valid UTF-8 sequence at s[0..avail) (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
size_t md_utf8_len(const uint8_t *s, size_t avail);
/*
 * A new jansson string holding s (NULL: ""), every invalid UTF-8 byte
 * replaced by U+FFFD, so any bytes make valid JSON.  The caller owns the
 * reference (json_decref(), or a json_object_set_new()).  NULL when out
 * of memory.
 */
struct json_t *md_json_string(const char *s);

/* ---- randomness (from getrandom, the kernel) --------------------------- */

/* Fill buf with random bytes from the kernel; aborts if it cannot. */
void md_random_bytes(void *buf, size_t len);
uint32_t md_random_u32(void);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint32_t md_random_uniform(uint32_t bound);

/*
 * A source of random choices that can be made repeatable: seeded
 * (md_rng_seed()), the same seed gives the same sequence (minidig +seed,
 * for demonstrations and tests); a NULL source is the kernel's randomness
 * above.  Not for secrets: a seeded sequence is predictable by design.
 */
struct md_rng {
	uint64_t state;
};

void md_rng_seed(struct md_rng *r, uint64_t seed);
uint32_t md_rng_u32(struct md_rng *r);
/* Uniform in [0, bound); bound > 0. */
uint32_t md_rng_uniform(struct md_rng *r, uint32_t bound);
void md_rng_bytes(struct md_rng *r, void *buf, size_t len);

#endif /* MINIDNS_UTIL_H */
