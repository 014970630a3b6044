/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.c - log lines with a level and a group, to stderr, and the two
 * assertion kinds.  Owns no other output; the daemon decides where stderr
 * goes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "minidns/util.h"

static enum md_log_level log_level = MD_LOG_INFO;
static const char *log_prefix = "minidns";
static bool log_syslog;

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

void
md_log_set_level(enum md_log_level level)
{
	log_level = level;
}

enum md_log_level
md_log_get_level(void)
{
	return log_level;
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

void
md_vlog(enum md_log_level level, enum md_log_group group, const char *fmt,
    va_list ap)
{
	char msg[1024];
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		static const int prio[] = {
		    LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

		syslog(prio[level], "[%s] %s", md_log_group_str(group), msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line so lines from threads do not interleave. */
	fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s\n", stamp,
	    ts.tv_nsec / 1000000, log_prefix, md_log_group_str(group),
	    md_log_level_str(level), msg);
}

void
md_log(enum md_log_level level, enum md_log_group group, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	md_vlog(level, group, fmt, ap);
	va_end(ap);
}

void
md_assert_fail(const char *expr, const char *file, int line, bool fatal)
{
	fprintf(stderr, "%s: assertion failed at %s:%d: %s\n", log_prefix, file,
	    line, expr);
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
