/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelimit.h - per-client response rate limiting for UDP.
 *
 * A token bucket per client address: 'rate' tokens a second, at most
 * 'rate' saved up, one spent per answered query.  A UDP source address
 * can be forged, so a flood "from" a victim would make minidnsd an
 * amplifier; past the rate its queries are dropped.  TCP is not limited
 * (the handshake proves the address), which is where a real client that
 * was dropped ends up after its retries.
 *
 * IPv6 clients are counted per prefix (/56 by default, as BIND's RRL): one
 * host has a whole /64 or more to send from, and counting each address
 * alone would let it through 2^64 times over.  IPv4 clients are counted
 * per address.
 *
 * Buckets live in a fixed table hashed by address (no allocation on the
 * query path); two clients that share a slot take it from each other,
 * which can only forgive a query, never drop one that was within rate.
 */
#ifndef MINIDNS_RATELIMIT_H
#define MINIDNS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;
struct md_ratelimit;

#define MD_RATELIMIT_IPV6_PREFIX 56 /* rate-limit-ipv6-prefix default */

/* A limiter of 'rate' responses a second per IPv4 address and per IPv6
 * prefix of ipv6_prefix bits (0 to 128); NULL on ENOMEM.  'rate' 0 gives
 * a limiter that allows everything. */
struct md_ratelimit *md_ratelimit_new(unsigned rate, unsigned ipv6_prefix);
void md_ratelimit_free(struct md_ratelimit *rl);

/* Whether a query from 'from' may be answered at 'now_ms' (a monotonic
 * clock); spends a token when it may. */
bool md_ratelimit_allow(
    struct md_ratelimit *rl, const struct sockaddr *from, uint64_t now_ms);

#endif
