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
		/* and the DNSSEC records of referrals and denials (RFC 4035
		 * §3.1.3, §3.1.4), passed on to clients that set DO */
		return rr->type == MD_TYPE_NS || rr->type == MD_TYPE_SOA ||
		    rr->type == MD_TYPE_DS || rr->type == MD_TYPE_RRSIG ||
		    rr->type == MD_TYPE_NSEC || rr->type == MD_TYPE_NSEC3;
	case MD_SECTION_ADDITIONAL:
		return rr->type == MD_TYPE_A || rr->type == MD_TYPE_AAAA;
	default:
		return false;
	}
}

/*
 * The RRsets of a reply are found through an open-addressing index keyed
 * by (section, type, owner): a referral naming hundreds of servers with
 * their glue would make a list search quadratic.
 */
static uint32_t
set_hash(enum md_section sec, uint16_t type, const uint8_t *owner)
{
	uint32_t h = md_name_hash(owner) ^ ((uint32_t)type * 0x9e3779b1u) ^
	    ((uint32_t)sec << 29);

	h ^= h >> 15;
	return h * 0x85ebca6bu;
}

/* The slot of (sec, type, owner): its set, or the empty slot for it. */
static struct rrset **
slot_of(const struct reply *r, enum md_section sec, const uint8_t *owner,
    uint16_t type)
{
	uint32_t mask = r->nslots - 1;

	for (uint32_t i = set_hash(sec, type, owner) & mask;;
	     i = (i + 1) & mask) {
		struct rrset *s = r->index[i];

		if (s == NULL ||
		    (s->section == sec && s->type == type &&
			md_name_equal(s->owner, owner)))
			return &r->index[i];
	}
}

/* The hash of an RR: its set's, and its rdata's. */
static uint32_t
rr_hash(const struct md_msg_rr *rr)
{
	uint32_t h = set_hash(rr->section, rr->type, rr->owner);

	for (uint16_t i = 0; i < rr->rdlen; i++)
		h = (h ^ rr->rdata[i]) * 16777619u;
	return h;
}

static struct rrset *
find_set(const struct reply *r, enum md_section sec, const uint8_t *owner,
    uint16_t type)
{
	if (r->nslots > 0)
		return *slot_of(r, sec, owner, type);
	for (struct rrset *s = r->sets; s != NULL; s = s->next) {
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
	/* at most half full: a free slot always ends a probe */
	out->nslots = 8;
	while (out->nslots < 2 * out->msg.nrr + 2)
		out->nslots *= 2;
	out->index = md_arena_alloc(a, out->nslots * sizeof(*out->index));
	if (out->index == NULL)
		return MD_EPARSE;
	memset(out->index, 0, out->nslots * sizeof(*out->index));
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
		s = find_set(out, rr->section, rr->owner, rr->type);
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
			*slot_of(out, s->section, s->owner, s->type) = s;
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
	/* Duplicate RRs are dropped (RFC 2181 §5), found through a second
	 * index over the RRs kept (same size: at most half full). */
	const struct md_msg_rr **seen =
	    md_arena_alloc(a, out->nslots * sizeof(*seen));

	if (seen == NULL)
		return MD_EPARSE;
	memset(seen, 0, out->nslots * sizeof(*seen));
	for (unsigned i = 0; i < out->msg.nrr; i++) {
		const struct md_msg_rr *rr = &out->msg.rrs[i];
		struct rrset *s;
		bool dup = false;
		uint32_t mask = out->nslots - 1, j;

		if (!keep(rr, zone))
			continue;
		s = find_set(out, rr->section, rr->owner, rr->type);
		for (j = rr_hash(rr) & mask; seen[j] != NULL;
		     j = (j + 1) & mask) {
			const struct md_msg_rr *o = seen[j];

			if (o->section == rr->section && o->type == rr->type &&
			    o->rdlen == rr->rdlen &&
			    memcmp(o->rdata, rr->rdata, rr->rdlen) == 0 &&
			    md_name_equal(o->owner, rr->owner)) {
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		seen[j] = rr;
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
	return find_set(r, sec, owner, type);
}
