/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.c - checked number parsing, socket address parsing and printing,
 * the arena allocator, string and clock helpers.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "minidns/util.h"

int
md_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return MD_EPARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return MD_EPARSE;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
md_parse_duration_ms(const char *s, long long max_ms, long long *out)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {
	    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	char num[24];
	size_t n = 0;
	long long v;
	int rc;

	if (s == NULL)
		return MD_EPARSE;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return n == 0 ? MD_EPARSE : -ERANGE;
	memcpy(num, s, n);
	num[n] = '\0';
	rc = md_parse_int(num, 0, max_ms, &v);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit) != 0)
			continue;
		if (v > max_ms / units[i].ms)
			return -ERANGE;
		*out = v * units[i].ms;
		return 0;
	}
	return MD_EPARSE;
}

int
md_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return MD_EPARSE;
}

static int
parse_port(const char *s, uint16_t *port)
{
	long long v;

	if (md_parse_int(s, 1, 65535, &v) != 0)
		return MD_EPARSE;
	*port = (uint16_t)v;
	return 0;
}

int
md_sockaddr_parse(const char *s, uint16_t defport, struct md_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *portstr = NULL;
	uint16_t port = defport;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return MD_EPARSE;
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0')
			return MD_EPARSE;
		if (hlen >= sizeof(host))
			return MD_EPARSE;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
	} else {
		const char *colon = strchr(s, ':');

		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - s);
			portstr = colon + 1;
		} else {
			hlen = strlen(s);
		}
		if (hlen >= sizeof(host))
			return MD_EPARSE;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (portstr != NULL && parse_port(portstr, &port) != 0)
		return MD_EPARSE;

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
		return 0;
	}
	return MD_EPARSE;
}

const char *
md_sockaddr_str(const struct md_sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&sa->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&sa->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "(unknown family %d)", sa->ss.ss_family);
	}
	return buf;
}

/* ---- arena ------------------------------------------------------------- */

struct md_arena_chunk {
	struct md_arena_chunk *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

void
md_arena_init(struct md_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
	a->total = 0;
}

void
md_arena_deinit(struct md_arena *a)
{
	struct md_arena_chunk *c = a->head;

	while (c != NULL) {
		struct md_arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *
md_arena_alloc(struct md_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct md_arena_chunk *c = a->head;
	size_t need = (size + align - 1) & ~(align - 1);

	if (need < size)
		return NULL;
	if (c == NULL || c->size - c->used < need) {
		size_t csize = need > a->chunk_size ? need : a->chunk_size;

		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->used = 0;
		/* An oversized request gets its own chunk behind the head so
		 * the head's free space is not wasted. */
		if (a->head != NULL && need > a->chunk_size) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += sizeof(*c) + csize;
	}
	void *p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

void *
md_arena_memdup(struct md_arena *a, const void *p, size_t size)
{
	void *q = md_arena_alloc(a, size ? size : 1);

	if (q != NULL && size > 0)
		memcpy(q, p, size);
	return q;
}

char *
md_arena_strdup(struct md_arena *a, const char *s)
{
	return md_arena_memdup(a, s, strlen(s) + 1);
}

size_t
md_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len >= size ? size - 1 : len;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

uint64_t
md_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
md_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
md_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No randomness means predictable IDs and ports:
			 * never go on without it. */
			md_assert_fail("getrandom", __FILE__, __LINE__, true);
		}
		p += n;
		len -= (size_t)n;
	}
}

uint32_t
md_random_u32(void)
{
	uint32_t v;

	md_random_bytes(&v, sizeof(v));
	return v;
}

uint32_t
md_random_uniform(uint32_t bound)
{
	/* Reject the values that would make the modulo uneven. */
	uint32_t min = (uint32_t)(-bound) % bound;
	uint32_t v;

	do {
		v = md_random_u32();
	} while (v < min);
	return v % bound;
}

void
md_rng_seed(struct md_rng *r, uint64_t seed)
{
	r->state = seed;
}

/* SplitMix64 (Steele, Lea, Flood 2014): one 64-bit add and a mix per
 * value; plenty for picking servers and IDs repeatably. */
uint32_t
md_rng_u32(struct md_rng *r)
{
	uint64_t z;

	if (r == NULL)
		return md_random_u32();
	z = (r->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint32_t
md_rng_uniform(struct md_rng *r, uint32_t bound)
{
	uint32_t min = (uint32_t)(-bound) % bound;
	uint32_t v;

	if (r == NULL)
		return md_random_uniform(bound);
	do {
		v = md_rng_u32(r);
	} while (v < min);
	return v % bound;
}

void
md_rng_bytes(struct md_rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (r == NULL) {
		md_random_bytes(buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)md_rng_u32(r);
}

int
md_path_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(dir, size, ".");
	else if (slash == path)
		n = snprintf(dir, size, "/");
	else
		n = snprintf(dir, size, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= size ? MD_ENOSPACE : 0;
}

/* ---- descriptor budget ------------------------------------------------- */

int
md_fd_high_water(void)
{
	static atomic_int hw; /* 0: not read yet */
	struct rlimit rl;
	rlim_t lim, reserve;
	int v = atomic_load_explicit(&hw, memory_order_relaxed);

	if (v > 0)
		return v;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
		lim = INT_MAX;
	else
		lim = rl.rlim_cur;
	reserve = lim / 8 > MD_FD_RESERVE_MIN ? lim / 8 : MD_FD_RESERVE_MIN;
	v = lim > reserve * 2 ? (int)(lim - reserve) : (int)(lim / 2);
	if (v < 1)
		v = 1;
	atomic_store_explicit(&hw, v, memory_order_relaxed);
	return v;
}

bool
md_fd_over_budget(int fd)
{
	return fd >= md_fd_high_water();
}

bool
md_fd_upstream_over_budget(int fd)
{
	int hw = md_fd_high_water();
	int reserve = hw / 8;

	/* Below the clients' mark by as much again: sockets to upstream
	 * servers never take the descriptors between the two marks. */
	if (reserve < MD_FD_RESERVE_MIN)
		reserve = MD_FD_RESERVE_MIN;
	return hw > 2 * reserve && fd >= hw - reserve;
}

bool
md_accept_err_is_resource(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}
