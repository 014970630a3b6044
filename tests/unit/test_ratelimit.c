/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ratelimit.c - the per-client token buckets of ratelimit.h, driven
 * with a clock given by the test: the burst allowed, the refill rate, the
 * cap on saved tokens, clients kept apart (IPv4, IPv6, many at once) and
 * a rate of 0 that allows everything.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"

#include "minidns/ratelimit.h"

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

/* How many of n queries at 'now' are allowed. */
static int
allowed(struct md_ratelimit *rl, const char *who, int n, uint64_t now)
{
	struct sockaddr_storage ss = addr(who);
	int ok = 0;

	for (int i = 0; i < n; i++)
		ok += md_ratelimit_allow(rl, (struct sockaddr *)&ss, now);
	return ok;
}

static void
burst_then_refill(void **state)
{
	struct md_ratelimit *rl =
	    md_ratelimit_new(10, MD_RATELIMIT_IPV6_PREFIX);

	(void)state;
	assert_non_null(rl);
	/* a new client has a full bucket: 10 at once, then nothing */
	assert_int_equal(allowed(rl, "192.0.2.1", 50, 1000), 10);
	assert_int_equal(allowed(rl, "192.0.2.1", 5, 1000), 0);
	/* 10 a second: one token per 100 ms, none for 99 ms */
	assert_int_equal(allowed(rl, "192.0.2.1", 5, 1099), 0);
	assert_int_equal(allowed(rl, "192.0.2.1", 5, 1100), 1);
	assert_int_equal(allowed(rl, "192.0.2.1", 5, 1350), 2);
	/* idle for a minute: at most 10 saved up, not 600 */
	assert_int_equal(allowed(rl, "192.0.2.1", 50, 61350), 10);
	/* a clock that goes back refills nothing */
	assert_int_equal(allowed(rl, "192.0.2.1", 5, 500), 0);
	md_ratelimit_free(rl);
}

static void
clients_apart(void **state)
{
	struct md_ratelimit *rl = md_ratelimit_new(3, MD_RATELIMIT_IPV6_PREFIX);
	char who[64];

	(void)state;
	assert_non_null(rl);
	assert_int_equal(allowed(rl, "192.0.2.1", 10, 5), 3);
	assert_int_equal(allowed(rl, "192.0.2.2", 10, 5), 3);
	assert_int_equal(allowed(rl, "2001:db8::1", 10, 5), 3);
	/* IPv6 clients are apart per /56 (the same /56 shares: ipv6_prefix) */
	assert_int_equal(allowed(rl, "2001:db8:0:100::2", 10, 5), 3);
	/* the v4-mapped form is the same client as the IPv4 address */
	assert_int_equal(allowed(rl, "::ffff:192.0.2.1", 10, 5), 0);
	/* many clients: each still gets at least its burst (slots shared by
	 * two can only forgive, never take a client's tokens) */
	for (int i = 0; i < 2000; i++) {
		snprintf(who, sizeof(who), "10.%d.%d.1", i / 256, i % 256);
		assert_true(allowed(rl, who, 3, 10) >= 3);
	}
	md_ratelimit_free(rl);
}

static void
off_allows_all(void **state)
{
	struct md_ratelimit *rl = md_ratelimit_new(0, MD_RATELIMIT_IPV6_PREFIX);
	struct sockaddr_storage ss;

	(void)state;
	assert_non_null(rl);
	assert_int_equal(allowed(rl, "192.0.2.1", 1000, 1), 1000);
	md_ratelimit_free(rl);
	/* NULL is a limiter that is off */
	ss = addr("192.0.2.1");
	assert_true(md_ratelimit_allow(NULL, (struct sockaddr *)&ss, 1));
	/* an address family it does not know is not limited */
	rl = md_ratelimit_new(1, MD_RATELIMIT_IPV6_PREFIX);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	for (int i = 0; i < 5; i++)
		assert_true(md_ratelimit_allow(rl, (struct sockaddr *)&ss, 1));
	md_ratelimit_free(rl);
}

/* IPv6 clients count per prefix (/56 by default): 400 addresses of one
 * /64 share one bucket; another /56 has its own; IPv4 on a dual-stack
 * socket (v4-mapped) is one address. */
static void
ipv6_prefix(void **state)
{
	struct md_ratelimit *rl = md_ratelimit_new(5, MD_RATELIMIT_IPV6_PREFIX);
	char a[64];
	int ok = 0;

	(void)state;
	assert_non_null(rl);
	for (int i = 1; i <= 400; i++) {
		snprintf(a, sizeof(a), "2001:db8:0:1::%x", i);
		ok += allowed(rl, a, 1, 1000);
	}
	assert_int_equal(ok, 5);
	/* the same /56, another /64 */
	assert_int_equal(allowed(rl, "2001:db8:0:ff::1", 1, 1000), 0);
	/* another /56 */
	assert_int_equal(allowed(rl, "2001:db8:0:100::1", 5, 1000), 5);
	/* v4-mapped: each address its own bucket */
	assert_int_equal(allowed(rl, "::ffff:192.0.2.1", 5, 1000), 5);
	assert_int_equal(allowed(rl, "::ffff:192.0.2.2", 5, 1000), 5);
	md_ratelimit_free(rl);
	/* /128: each address its own */
	rl = md_ratelimit_new(5, 128);
	assert_int_equal(allowed(rl, "2001:db8::1", 5, 1000), 5);
	assert_int_equal(allowed(rl, "2001:db8::2", 5, 1000), 5);
	md_ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(burst_then_refill),
	    cmocka_unit_test(ipv6_prefix),
	    cmocka_unit_test(clients_apart),
	    cmocka_unit_test(off_allows_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
