/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * delegpt.c - a delegation point: the zone cut a query is at, the names
 * of its servers and the addresses known for them.  Lives in the request's
 * arena; replaced, never freed, when a referral moves the query down.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "resolve-internal.h"

struct delegpt *
md_dp_new(struct md_arena *a, const uint8_t *zone)
{
	struct delegpt *dp = md_arena_alloc(a, sizeof(*dp));

	if (dp == NULL)
		return NULL;
	memset(dp, 0, sizeof(*dp));
	memcpy(dp->zone, zone, md_name_len(zone));
	return dp;
}

struct dp_ns *
md_dp_find_ns(struct delegpt *dp, const uint8_t *name)
{
	for (struct dp_ns *ns = dp->ns; ns != NULL; ns = ns->next) {
		if (md_name_equal(ns->name, name))
			return ns;
	}
	return NULL;
}

struct dp_ns *
md_dp_add_ns(struct md_arena *a, struct delegpt *dp, const uint8_t *name)
{
	struct dp_ns *ns = md_dp_find_ns(dp, name), **tail;

	if (ns != NULL)
		return ns;
	ns = md_arena_alloc(a, sizeof(*ns));
	if (ns == NULL)
		return NULL;
	memset(ns, 0, sizeof(*ns));
	memcpy(ns->name, name, md_name_len(name));
	/* Keep the order of the NS set: traces read as the data reads. */
	for (tail = &dp->ns; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = ns;
	return ns;
}

static bool
same_addr(const struct md_sockaddr *x, const struct md_sockaddr *y)
{
	return x->len == y->len && memcmp(&x->ss, &y->ss, x->len) == 0;
}

struct dp_addr *
md_dp_add_addr(struct md_arena *a, struct delegpt *dp,
    const struct md_sockaddr *sa, const struct dp_ns *ns)
{
	struct dp_addr *ad, **tail;

	for (tail = &dp->addrs; *tail != NULL; tail = &(*tail)->next) {
		if (same_addr(&(*tail)->addr, sa))
			return *tail;
	}
	ad = md_arena_alloc(a, sizeof(*ad));
	if (ad == NULL)
		return NULL;
	memset(ad, 0, sizeof(*ad));
	ad->addr = *sa;
	ad->ns = ns;
	*tail = ad;
	dp->naddrs++;
	return ad;
}

bool
md_addr_is_private(const struct md_sockaddr *sa)
{
	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&sa->ss;
		const uint8_t *b = (const uint8_t *)&sin->sin_addr;

		return b[0] == 0 || b[0] == 127 || b[0] == 10 ||
		    (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		    (b[0] == 192 && b[1] == 168) ||
		    (b[0] == 169 && b[1] == 254) || b[0] >= 224;
	}
	if (sa->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&sa->ss;
		const uint8_t *b = sin6->sin6_addr.s6_addr;
		static const uint8_t zero[15];

		if (memcmp(b, zero, 15) == 0)
			return true; /* :: and ::1 */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return true;
		return (b[0] & 0xfe) == 0xfc ||		       /* fc00::/7 */
		    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 */
		    b[0] == 0xff;			       /* multicast */
	}
	return true;
}

bool
md_dp_ns_has_addr(const struct delegpt *dp, const struct dp_ns *ns)
{
	for (const struct dp_addr *ad = dp->addrs; ad != NULL; ad = ad->next) {
		if (ad->ns == ns)
			return true;
	}
	return false;
}

void
md_dp_add_rdata(struct md_arena *a, struct delegpt *dp, const struct dp_ns *ns,
    uint16_t type, const uint8_t *rdata, uint32_t rdata_len, bool allow_private,
    bool parent_side)
{
	uint32_t off = 0;
	/* Only where the child's own address differs is the parent's a
	 * fallback; alone, it is the address. */
	bool fallback = parent_side && ns != NULL && md_dp_ns_has_addr(dp, ns);

	while (off + 2 <= rdata_len) {
		uint16_t len = md_read_u16(rdata + off);
		const uint8_t *rd = rdata + off + 2;
		struct md_sockaddr sa;

		off += 2 + (uint32_t)len;
		if (off > rdata_len)
			break;
		if (!md_wire_addr_from_rdata(type, rd, len, &sa))
			continue;
		/* Like Unbound's do-not-query-localhost: a name in the
		 * public tree must not point us at our own networks. */
		if (!allow_private && md_addr_is_private(&sa))
			continue;
		unsigned before = dp->naddrs;
		struct dp_addr *ad = md_dp_add_addr(a, dp, &sa, ns);

		if (ad != NULL && dp->naddrs > before)
			ad->parent_side = fallback;
	}
}
