/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wakeup_cost.c - what one thread waking another costs on this machine,
 * the floor under every server's CPU per query at a modest load (each
 * batch of answers wakes the client, each batch of questions wakes the
 * server; doc/benchmarks.md, "Where the CPU goes, and what the 0.6x
 * target meets").
 *
 *	cc -O2 -pthread tools/wakeup_cost.c -o wakeup_cost && ./wakeup_cost
 *
 * Two threads pass a token back and forth through two eventfds, each
 * sleeping in read() until the other writes: once on two CPUs (0 and 1:
 * each write wakes a thread on the other CPU, an inter-processor
 * interrupt when that CPU is idle) and once both on CPU 0 (a context
 * switch, no interrupt).  Prints, per hand-over, the time it took and
 * the CPU time the two threads used (their own clocks), so a wake-up's
 * cost in CPU can be set beside a server's CPU per query.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 20000

struct side {
	int in, out; /* eventfds: read from in, write to out */
	int cpu;
	double cpu_us; /* this thread's CPU time, out */
};

static double
now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
		fprintf(stderr, "wakeup_cost: cannot run on CPU %d\n", cpu);
		exit(1);
	}
}

static void *
player(void *arg)
{
	struct side *s = arg;
	uint64_t v = 1;
	double start;

	pin(s->cpu);
	start = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < ROUNDS; i++) {
		if (read(s->in, &v, sizeof(v)) != sizeof(v) ||
		    write(s->out, &v, sizeof(v)) != sizeof(v)) {
			perror("wakeup_cost");
			exit(1);
		}
	}
	s->cpu_us = now_us(CLOCK_THREAD_CPUTIME_ID) - start;
	return NULL;
}

/* One ping-pong between CPUs a and b. */
static void
play(const char *what, int a, int b)
{
	int ab = eventfd(0, 0), ba = eventfd(0, 0);
	struct side sa = {ba, ab, a, 0}, sb = {ab, ba, b, 0};
	pthread_t ta, tb;
	uint64_t v = 1;
	double start, wall;

	if (ab < 0 || ba < 0) {
		perror("eventfd");
		exit(1);
	}
	pthread_create(&tb, NULL, player, &sb);
	pthread_create(&ta, NULL, player, &sa);
	usleep(100000);
	start = now_us(CLOCK_MONOTONIC);
	/* The first token: a starts, b answers, ROUNDS times each. */
	if (write(ba, &v, sizeof(v)) != sizeof(v))
		exit(1);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	wall = now_us(CLOCK_MONOTONIC) - start;
	printf("%-28s %6.2f us per hand-over, %6.2f us of CPU per "
	       "hand-over (both threads)\n",
	    what, wall / (2.0 * ROUNDS),
	    (sa.cpu_us + sb.cpu_us) / (2.0 * ROUNDS));
	close(ab);
	close(ba);
}

int
main(void)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		play("CPU 0 <-> CPU 1 (wake-up):", 0, 1);
	play("CPU 0 <-> CPU 0 (switch):", 0, 0);
	return 0;
}
