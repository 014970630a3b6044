/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc_count.c - an LD_PRELOAD library for tools/alloc-count.sh: counts
 * the process's malloc, calloc, realloc and aligned allocations (all
 * threads, one relaxed atomic add each) and writes the count to standard
 * error on SIGUSR2 ("ALLOCATIONS n").  Built at run time by the script;
 * not part of the daemon.  The handler uses write(2) alone, so it may
 * interrupt anything.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic unsigned long count;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void (*real_free)(void *);

/* dlsym() may itself call calloc before real_calloc is known: serve
 * those from a static arena, never freed. */
static _Alignas(16) char early[16384];
static size_t early_used;

static int
is_early(const void *p)
{
	return (const char *)p >= early &&
	    (const char *)p < early + sizeof(early);
}

void *
malloc(size_t n)
{
	if (real_malloc == NULL)
		real_malloc = dlsym(RTLD_NEXT, "malloc");
	atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	return real_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	if (real_calloc == NULL) {
		static _Atomic int resolving;

		if (atomic_exchange(&resolving, 1) == 1) {
			size_t want = (n * size + 15) & ~(size_t)15;
			char *p = early + early_used;

			if (early_used + want > sizeof(early))
				abort();
			early_used += want;
			return p; /* static storage: already zero */
		}
		real_calloc = dlsym(RTLD_NEXT, "calloc");
	}
	atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	return real_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	if (real_realloc == NULL)
		real_realloc = dlsym(RTLD_NEXT, "realloc");
	atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	return real_realloc(p, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	if (real_posix_memalign == NULL)
		real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	return real_posix_memalign(out, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	if (real_aligned_alloc == NULL)
		real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	return real_aligned_alloc(align, n);
}

void
free(void *p)
{
	if (p == NULL || is_early(p))
		return;
	if (real_free == NULL)
		real_free = dlsym(RTLD_NEXT, "free");
	real_free(p);
}

static void
report(int sig)
{
	static const char tag[] = "ALLOCATIONS ";
	unsigned long v = atomic_load_explicit(&count, memory_order_relaxed);
	char buf[64], digits[24];
	size_t len = sizeof(tag) - 1, nd = 0;

	(void)sig;
	memcpy(buf, tag, len);
	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (nd > 0)
		buf[len++] = digits[--nd];
	buf[len++] = '\n';
	(void)!write(2, buf, len);
}

__attribute__((constructor)) static void
init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = report;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
}
