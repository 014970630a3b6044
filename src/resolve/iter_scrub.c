/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iter_scrub.c - decide what of a reply to believe, before anything reads
 * it.  A server is believed only about names at or below the zone it was
 * asked as an authority for (its bailiwick); the authority section may
 * only carry NS and SOA records, the additional section only addresses.
 * Everything else is dropped and counted, so the trace can say so.
 * Then the surviving RRs are grouped into RRsets.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "resolve-internal.h"

static bool
keep(const struct md_msg_rr *rr, const uint8_t *zone)
{
	if (rr->rclass != MD_CLASS_IN)
		return false;
	/* The bailiwick rule (RFC 2181 §5.4.1 on ranking, and the
	 * cache-poisoning defences of RFC 5452 §6). */
	if (!md_name_is_subdomain(rr->owner, zone))
		return false;
	switch (rr->section) {
	case MD_SECTION_ANSWER:
		return true;
	case MD_SECTION_AUTHORITY:
		return rr->type == MD_TYPE_NS || rr->type == MD_TYPE_SOA;
	case MD_SECTION_ADDITIONAL:
		return rr->type == MD_TYPE_A || rr->type == MD_TYPE_AAAA;
	default:
		return false;
	}
}

static struct rrset *
find_set(struct rrset *sets, enum md_section sec, const uint8_t *owner,
    uint16_t type)
{
	for (struct rrset *s = sets; s != NULL; s = s->next) {
		if (s->section == sec && s->type == type &&
		    md_name_equal(s->owner, owner))
			return s;
	}
	return NULL;
}

int
md_scrub_reply(struct md_arena *a, const uint8_t *pkt, size_t len,
    const uint8_t *zone, struct reply *out)
{
	struct rrset *tail = NULL;

	memset(out, 0, sizeof(*out));
	if (md_msg_parse(pkt, len, a, &out->msg) != 0)
		return MD_EPARSE;
	out->aa = (out->msg.hdr.flags & MD_FLAG_AA) != 0;
	out->rcode = MD_RCODE(out->msg.hdr.flags) |
	    (out->msg.edns.present ? out->msg.edns.ext_rcode << 4 : 0);
	/* Count the rdata of each RRset first, then copy, so an RRset is one
	 * contiguous block like the cache and the zones hold. */
	for (unsigned i = 0; i < out->msg.nrr; i++) {
		const struct md_msg_rr *rr = &out->msg.rrs[i];
		struct rrset *s;

		if (!keep(rr, zone)) {
			out->discarded++;
			/* An NS set above the zone asked: the server points
			 * back up the tree (an upward referral). */
			if (rr->section == MD_SECTION_AUTHORITY &&
			    rr->type == MD_TYPE_NS &&
			    md_name_is_subdomain(zone, rr->owner))
				out->upward = true;
			continue;
		}
		s = find_set(out->sets, rr->section, rr->owner, rr->type);
		if (s == NULL) {
			s = md_arena_alloc(a, sizeof(*s));
			if (s == NULL)
				return MD_EPARSE;
			memset(s, 0, sizeof(*s));
			s->section = rr->section;
			s->owner = rr->owner;
			s->type = rr->type;
			s->ttl = rr->ttl;
			if (tail == NULL)
				out->sets = s;
			else
				tail->next = s;
			tail = s;
		}
		s->rdata_len += 2 + (uint32_t)rr->rdlen;
		/* RFC 2181 §5.2: an RRset has one TTL; take the lowest. */
		if (rr->ttl < s->ttl)
			s->ttl = rr->ttl;
	}
	for (struct rrset *s = out->sets; s != NULL; s = s->next) {
		s->rdata = md_arena_alloc(a, s->rdata_len ? s->rdata_len : 1);
		if (s->rdata == NULL)
			return MD_EPARSE;
		s->rdata_len = 0;
	}
	for (unsigned i = 0; i < out->msg.nrr; i++) {
		const struct md_msg_rr *rr = &out->msg.rrs[i];
		struct rrset *s;
		bool dup = false;

		if (!keep(rr, zone))
			continue;
		s = find_set(out->sets, rr->section, rr->owner, rr->type);
		/* Drop duplicate RRs (RFC 2181 §5). */
		for (uint32_t off = 0; off < s->rdata_len;) {
			uint16_t l = md_read_u16(s->rdata + off);

			if (l == rr->rdlen &&
			    memcmp(s->rdata + off + 2, rr->rdata, l) == 0)
				dup = true;
			off += 2 + (uint32_t)l;
		}
		if (dup)
			continue;
		md_write_u16(s->rdata + s->rdata_len, rr->rdlen);
		memcpy(s->rdata + s->rdata_len + 2, rr->rdata, rr->rdlen);
		s->rdata_len += 2 + (uint32_t)rr->rdlen;
		s->count++;
	}
	return 0;
}

const struct rrset *
md_reply_find(const struct reply *r, enum md_section sec, const uint8_t *owner,
    uint16_t type)
{
	return find_set(r->sets, sec, owner, type);
}
