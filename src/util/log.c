/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.c - log lines with a level and a group, in one of three formats
 * (text, logfmt, JSON), to stderr, a file or syslog; the query log; and
 * the two assertion kinds.
 *
 * JSON lines are written by jansson (json.c repairs invalid UTF-8 first).
 * Every line is formatted into one buffer and written with one write(2)
 * under a mutex, so lines from worker threads never interleave, even in a
 * file opened with O_APPEND by several writers.  The log file can be
 * reopened after rotation: the new descriptor is opened first and swapped
 * in under the mutex, so no line is lost or written to a closed file.
 *
 * Repeated lines are rate-limited here, for every caller at once: no loop
 * (an accept() failing with EMFILE, a resolution failing per query) can
 * flood the log.  See md_log_set_ratelimit().
 *
 * Owns no other output; the daemon decides where stderr goes and when to
 * reopen (SIGUSR1).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "minidns/util.h"

/* Read by every worker thread on each query: relaxed atomics. */
static atomic_int log_level = MD_LOG_INFO;
static const char *log_prefix = "minidns";
static bool log_syslog;
static atomic_int log_format = MD_LOG_TEXT;
static atomic_bool querylog_on;

/*
 * log_mu guards log_fd for the writers (held only around write(2));
 * file_mu serialises md_log_set_file() and md_log_reopen(), which open
 * files without holding log_mu, and guards log_path.
 */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* -1: stderr */
static char *log_path;
static atomic_bool log_to_file; /* log_path != NULL, for md_assert_fail() */

static const char *const level_names[] = {
    [MD_LOG_ERR] = "error",
    [MD_LOG_WARN] = "warning",
    [MD_LOG_INFO] = "info",
    [MD_LOG_DEBUG] = "debug",
};

static const char *const group_names[] = {
    [MD_LOG_MAIN] = "main",
    [MD_LOG_NET] = "net",
    [MD_LOG_ZONE] = "zone",
    [MD_LOG_SERVER] = "server",
    [MD_LOG_CONFIG] = "config",
    [MD_LOG_K8S] = "k8s",
};

static const char *const format_names[] = {
    [MD_LOG_TEXT] = "text",
    [MD_LOG_LOGFMT] = "logfmt",
    [MD_LOG_JSON] = "json",
};

const char *
md_log_level_str(enum md_log_level level)
{
	if ((unsigned)level > MD_LOG_DEBUG)
		return "?";
	return level_names[level];
}

const char *
md_log_group_str(enum md_log_group group)
{
	if ((unsigned)group >= MD_LOG_GROUP_COUNT)
		return "?";
	return group_names[group];
}

int
md_log_level_parse(const char *s, enum md_log_level *out)
{
	for (unsigned i = 0; i <= MD_LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum md_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warn") == 0) {
		*out = MD_LOG_WARN;
		return 0;
	}
	return MD_EPARSE;
}

int
md_log_format_parse(const char *s, enum md_log_format *out)
{
	for (unsigned i = 0; i <= MD_LOG_JSON; i++) {
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum md_log_format)i;
			return 0;
		}
	}
	return MD_EPARSE;
}

void
md_log_set_format(enum md_log_format f)
{
	if ((unsigned)f > MD_LOG_JSON)
		f = MD_LOG_TEXT;
	atomic_store(&log_format, (int)f);
}

void
md_log_set_level(enum md_log_level level)
{
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

enum md_log_level
md_log_get_level(void)
{
	return (enum md_log_level)atomic_load_explicit(
	    &log_level, memory_order_relaxed);
}

void
md_log_init(const char *prefix)
{
	log_prefix = prefix;
}

void
md_log_use_syslog(bool on)
{
	if (on && !log_syslog)
		openlog(log_prefix, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = on;
}

/* ---- destination ------------------------------------------------------- */

static int
open_log(const char *path)
{
	int fd;

	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return -errno;
	return fd;
}

/* Install fd (-1: stderr) as the destination; returns the old one. */
static int
swap_fd(int fd)
{
	int old;

	pthread_mutex_lock(&log_mu);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_mu);
	return old;
}

int
md_log_set_file(const char *path)
{
	char *copy = NULL;
	int fd = -1, old;

	if (path != NULL) {
		fd = open_log(path);
		if (fd < 0)
			return fd;
		copy = strdup(path);
		if (copy == NULL) {
			close(fd);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&file_mu);
	old = swap_fd(fd);
	free(log_path);
	log_path = copy;
	atomic_store(&log_to_file, copy != NULL);
	pthread_mutex_unlock(&file_mu);
	if (old >= 0)
		close(old);
	return 0;
}

int
md_log_reopen(void)
{
	int fd, old;

	pthread_mutex_lock(&file_mu);
	if (log_path == NULL) {
		/* Logging to stderr: nothing to reopen. */
		pthread_mutex_unlock(&file_mu);
		return 0;
	}
	fd = open_log(log_path);
	if (fd < 0) {
		pthread_mutex_unlock(&file_mu);
		return fd;
	}
	old = swap_fd(fd);
	pthread_mutex_unlock(&file_mu);
	if (old >= 0)
		close(old);
	return 0;
}

/* One write(2) per line, under the mutex; a short write is finished. */
static void
write_line(const char *buf, size_t len)
{
	ssize_t n;
	int fd;

	pthread_mutex_lock(&log_mu);
	fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* nowhere left to report it */
		}
		buf += n;
		len -= (size_t)n;
	}
	pthread_mutex_unlock(&log_mu);
}

/* ---- rate limit -------------------------------------------------------- */

/*
 * Lines are keyed by their format string, i.e. by call site (a literal
 * format shared by two call sites shares their budget): each key may
 * write rl_burst lines per window of rl_window_ms, and the first line
 * after a window in which some were dropped says how many ("(N more like
 * this in the last S s)"), as the kernel's printk_ratelimit() does.  The
 * table is direct-mapped and fixed: a key whose slot is taken by another
 * key still in its window shares that key's budget, which can only drop
 * more, never write more.  Checked before the line is formatted, so a
 * dropped line costs a hash, a lock and a comparison.
 */
#define RL_SLOTS 512

struct rl_slot {
	const char *fmt;
	uint64_t start_ms;	  /* this window began */
	unsigned count;		  /* lines written in it */
	unsigned long suppressed; /* lines dropped in it */
};

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rl_slot rl_slots[RL_SLOTS];
static unsigned rl_burst = MD_LOG_RATELIMIT_BURST;
static unsigned rl_window_ms = MD_LOG_RATELIMIT_WINDOW_MS;
static uint64_t (*rl_clock)(void) = md_now_ms;

void
md_log_set_ratelimit(unsigned burst, unsigned window_ms)
{
	pthread_mutex_lock(&rl_mu);
	rl_burst = burst;
	rl_window_ms = window_ms;
	memset(rl_slots, 0, sizeof(rl_slots));
	pthread_mutex_unlock(&rl_mu);
}

void
md_log_set_clock(uint64_t (*now_ms)(void))
{
	pthread_mutex_lock(&rl_mu);
	rl_clock = now_ms != NULL ? now_ms : md_now_ms;
	memset(rl_slots, 0, sizeof(rl_slots));
	pthread_mutex_unlock(&rl_mu);
}

/*
 * May a line of this format be written now?  When it may and lines of
 * its kind were dropped in the window just ended, *more and *more_s say
 * how many and over how long.
 */
static bool
rl_admit(const char *fmt, unsigned long *more, unsigned *more_s)
{
	/* Fibonacci hashing of the pointer; literals are at least 1-aligned */
	uint64_t h = (uint64_t)(uintptr_t)fmt * 0x9E3779B97F4A7C15ull;
	struct rl_slot *s = &rl_slots[h >> 55 & (RL_SLOTS - 1)];
	uint64_t now;
	bool ok;

	*more = 0;
	*more_s = 0;
	pthread_mutex_lock(&rl_mu);
	if (rl_burst == 0) {
		pthread_mutex_unlock(&rl_mu);
		return true;
	}
	now = rl_clock();
	if (s->fmt != fmt &&
	    (s->fmt == NULL || now - s->start_ms >= rl_window_ms)) {
		s->fmt = fmt;
		s->start_ms = now;
		s->count = 0;
		s->suppressed = 0;
	}
	if (now - s->start_ms >= rl_window_ms) {
		*more = s->suppressed;
		*more_s = (unsigned)((now - s->start_ms + 999) / 1000);
		s->start_ms = now;
		s->count = 0;
		s->suppressed = 0;
	}
	ok = s->count < rl_burst;
	if (ok)
		s->count++;
	else
		s->suppressed++;
	pthread_mutex_unlock(&rl_mu);
	return ok;
}

/* ---- formatting -------------------------------------------------------- */

/*
 * A line under construction.  Values are cut short when they would leave
 * less than LINE_TAIL bytes: the keys, quotes and braces that follow
 * always fit, so a line stays well-formed whatever its content.
 */
#define LINE_SIZE 8192
#define LINE_TAIL 512

struct line {
	char b[LINE_SIZE];
	size_t len;
};

/* Structure (keys, separators): always fits by the LINE_TAIL margin. */
static void
put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->b) - 1 - l->len)
		n = sizeof(l->b) - 1 - l->len;
	memcpy(l->b + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Value bytes: false when the value has to be cut here. */
static bool
put_val(struct line *l, const char *s, size_t n)
{
	if (l->len + n > sizeof(l->b) - LINE_TAIL)
		return false;
	memcpy(l->b + l->len, s, n);
	l->len += n;
	return true;
}

/*
 * Escape one value for logfmt (inside quotes) and text: '"', '\\', \n, \r,
 * \t as short escapes, other control characters as \u00XX (logfmt, Go's
 * strconv.Quote style) or \xXX (text); text escapes neither '"' nor '\\',
 * only what would break the line.  JSON lines are jansson's (json_line()).
 */
enum esc_mode {
	ESC_LOGFMT,
	ESC_TEXT,
};

static void
put_escaped(struct line *l, const char *s, enum esc_mode mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s), n;
	char e[8];
	bool ok = true;

	while (avail > 0 && ok) {
		unsigned char c = *p;

		n = 1;
		if ((c == '"' || c == '\\') && mode != ESC_TEXT) {
			e[0] = '\\';
			e[1] = (char)c;
			ok = put_val(l, e, 2);
		} else if (c == '\n') {
			ok = put_val(l, "\\n", 2);
		} else if (c == '\r') {
			ok = put_val(l, "\\r", 2);
		} else if (c == '\t') {
			/* Text keeps tabs: they do not break the line. */
			if (mode == ESC_TEXT)
				ok = put_val(l, "\t", 1);
			else
				ok = put_val(l, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof(e),
			    mode == ESC_TEXT ? "\\x%02x" : "\\u%04x", c);
			ok = put_val(l, e, strlen(e));
		} else {
			ok = put_val(l, (const char *)p, 1);
		}
		p += n;
		avail -= n;
	}
}

/* logfmt: quote a value that is empty or holds space, '=', '"', controls. */
static bool
logfmt_needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '=' || c == '"' || c == 0x7f)
			return true;
	}
	return false;
}

/* One field of a line: key, value, whether JSON shows it as a number. */
struct field {
	const char *key;
	const char *val;
	bool num;
};

static void
put_stamp(struct line *l)
{
	char stamp[32], ms[16];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ms, sizeof(ms), ".%03dZ", (int)(ts.tv_nsec / 1000000));
	puts_(l, stamp);
	puts_(l, ms);
}

static int
set_str(json_t *obj, const char *key, const char *val)
{
	return json_object_set_new(obj, key, md_json_string(val));
}

/*
 * One JSON log line (RFC 8259) into l, written by jansson: one object,
 * keys in this order, strings with invalid UTF-8 replaced by U+FFFD, a
 * numeric field as a JSON number.  A line that would not fit in l is
 * written on its own here (l->len stays 0); one that cannot be built at
 * all (out of memory) is dropped.
 */
static void
json_line(struct line *l, const char *level, const char *group,
    const struct field *fv, size_t nf)
{
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	struct line stamp;
	json_t *obj = json_object();
	char *big = NULL, *end;
	unsigned long long num;
	size_t i, n;
	int rc;

	if (obj == NULL)
		return;
	stamp.len = 0;
	put_stamp(&stamp);
	stamp.b[stamp.len] = '\0';
	rc = set_str(obj, "ts", stamp.b);
	rc |= set_str(obj, "level", level);
	rc |= set_str(obj, "group", group);
	for (i = 0; i < nf && rc == 0; i++) {
		errno = 0;
		num = fv[i].num ? strtoull(fv[i].val, &end, 10) : 0;
		if (fv[i].num && errno == 0 && end != fv[i].val &&
		    *end == '\0' && num <= (unsigned long long)LLONG_MAX)
			rc = json_object_set_new(
			    obj, fv[i].key, json_integer((json_int_t)num));
		else
			rc = set_str(obj, fv[i].key, fv[i].val);
	}
	if (rc != 0)
		goto cleanup;
	/* The newline after it must fit too. */
	n = json_dumpb(obj, l->b, sizeof(l->b) - 1, flags);
	if (n > 0 && n < sizeof(l->b)) {
		l->len = n;
		goto cleanup;
	}
	big = n > 0 ? malloc(n + 1) : NULL;
	if (big != NULL && json_dumpb(obj, big, n, flags) == n) {
		big[n] = '\n';
		write_line(big, n + 1);
	}
cleanup:
	free(big);
	json_decref(obj);
}

/*
 * Build and write one line.  In text, the values follow the header
 * separated by spaces; 'text_suffix' (if any) follows the last one.
 */
static void
emit(const char *level, const char *group, const struct field *fv, size_t nf,
    const char *text_suffix)
{
	struct line l;
	size_t i;
	enum md_log_format f = (enum md_log_format)atomic_load(&log_format);

	l.len = 0;
	switch (f) {
	case MD_LOG_LOGFMT:
		puts_(&l, "ts=");
		put_stamp(&l);
		puts_(&l, " level=");
		put_escaped(&l, level, ESC_LOGFMT);
		puts_(&l, " group=");
		put_escaped(&l, group, ESC_LOGFMT);
		for (i = 0; i < nf; i++) {
			bool q = logfmt_needs_quotes(fv[i].val);

			puts_(&l, " ");
			puts_(&l, fv[i].key);
			puts_(&l, q ? "=\"" : "=");
			put_escaped(&l, fv[i].val, ESC_LOGFMT);
			if (q)
				puts_(&l, "\"");
		}
		break;
	case MD_LOG_JSON:
		json_line(&l, level, group, fv, nf);
		if (l.len == 0)
			return;
		break;
	default:
		put_stamp(&l);
		puts_(&l, " ");
		puts_(&l, log_prefix);
		puts_(&l, "[");
		puts_(&l, group);
		puts_(&l, "] ");
		puts_(&l, level);
		puts_(&l, ":");
		for (i = 0; i < nf; i++) {
			puts_(&l, " ");
			put_escaped(&l, fv[i].val, ESC_TEXT);
		}
		if (text_suffix != NULL)
			puts_(&l, text_suffix);
		break;
	}
	/* put() keeps one byte free: the newline always fits. */
	l.b[l.len++] = '\n';
	write_line(l.b, l.len);
}

/* After vsnprintf cut a message, drop a partial UTF-8 sequence at its end. */
static void
trim_utf8(char *s, size_t len)
{
	size_t i = len, n;

	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		n = md_utf8_len((const unsigned char *)s + i - 1, len - i + 1);
		if (n == 0)
			s[i - 1] = '\0';
	}
}

static void log_line(enum md_log_level level, enum md_log_group group,
    bool limited, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
log_line(enum md_log_level level, enum md_log_group group, bool limited,
    const char *fmt, va_list ap)
{
	char msg[1024];
	struct field f = {"msg", msg, false};
	int saved = errno, n;
	unsigned long more = 0;
	unsigned more_s = 0;
	size_t len;

	if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	if (limited && !rl_admit(fmt, &more, &more_s))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= (int)sizeof(msg))
		trim_utf8(msg, sizeof(msg) - 1);
	if (more > 0) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len,
		    " (%lu more like this in the last %u s)", more, more_s);
	}
	if (log_syslog) {
		static const int prio[] = {
		    LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

		syslog(prio[level], "[%s] %s", md_log_group_str(group), msg);
	} else {
		emit(md_log_level_str(level), md_log_group_str(group), &f, 1,
		    NULL);
	}
	/* Callers log and then look at errno: leave it alone. */
	errno = saved;
}

void
md_vlog(enum md_log_level level, enum md_log_group group, const char *fmt,
    va_list ap)
{
	log_line(level, group, true, fmt, ap);
}

void
md_log(enum md_log_level level, enum md_log_group group, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(level, group, true, fmt, ap);
	va_end(ap);
}

void
md_log_unlimited(
    enum md_log_level level, enum md_log_group group, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(level, group, false, fmt, ap);
	va_end(ap);
}

/* ---- query log --------------------------------------------------------- */

void
md_querylog_enable(bool on)
{
	atomic_store(&querylog_on, on);
}

bool
md_querylog_enabled(void)
{
	return atomic_load_explicit(&querylog_on, memory_order_relaxed);
}

static const char *
or_dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

void
md_querylog(const struct md_querylog_entry *e)
{
	char dur[24];
	int saved = errno;
	struct field fv[] = {
	    {"client", or_dash(e->client), false},
	    {"name", or_dash(e->name), false},
	    {"type", or_dash(e->type), false},
	    {"rcode", or_dash(e->rcode), false},
	    {"source", or_dash(e->source), false},
	    {"transport", or_dash(e->transport), false},
	    {"duration_us", dur, true},
	};

	/* Its own switch: not filtered by the log level. */
	if (!md_querylog_enabled())
		return;
	snprintf(dur, sizeof(dur), "%" PRIu64, e->duration_us);
	if (log_syslog) {
		syslog(LOG_INFO, "[query] %s %s %s %s %s %s %sus", fv[0].val,
		    fv[1].val, fv[2].val, fv[3].val, fv[4].val, fv[5].val, dur);
	} else {
		emit("info", "query", fv, sizeof(fv) / sizeof(fv[0]), "us");
	}
	errno = saved;
}

/* ---- assertions and errors --------------------------------------------- */

void
md_assert_fail(const char *expr, const char *file, int line, bool fatal)
{
	/* Into the log (it may be a file), and to stderr for the supervisor. */
	md_err(MD_LOG_MAIN, "assertion failed at %s:%d: %s", file, line, expr);
	if (log_syslog || atomic_load(&log_to_file))
		fprintf(stderr, "%s: assertion failed at %s:%d: %s\n",
		    log_prefix, file, line, expr);
	(void)fatal;
	abort();
}

bool
md_assert_soft_fail(const char *expr, const char *file, int line)
{
#ifdef MD_DEBUG
	md_assert_fail(expr, file, line, false);
#else
	md_err(MD_LOG_MAIN, "internal check failed at %s:%d: %s", file, line,
	    expr);
#endif
	return false;
}

const char *
md_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case MD_EPARSE:
		return "parse error";
	case MD_ECONFIG:
		return "bad configuration";
	case MD_ENOSPACE:
		return "no space left in buffer";
	case MD_ENOTFOUND:
		return "not found";
	default:
		if (err < 0 && err > -4096)
			return strerror(-err);
		return "unknown error";
	}
}
