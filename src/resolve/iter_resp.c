/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iter_resp.c - what a scrubbed reply means for the question that was
 * sent: the answer, a CNAME to follow, a referral further down, NXDOMAIN
 * or NODATA (RFC 2308 §2), or a lame server (RFC 1034 §4.3.4's "not
 * authoritative and no referral").  Decides nothing else: the state
 * machine (iter.c) acts on the class.
 */
#include "config.h"

#include <string.h>

#include "resolve-internal.h"

const char *
md_reply_class_str(enum md_reply_class c)
{
	switch (c) {
	case MD_REPLY_ANSWER:
		return "answer";
	case MD_REPLY_CNAME:
		return "cname";
	case MD_REPLY_REFERRAL:
		return "referral";
	case MD_REPLY_NXDOMAIN:
		return "nxdomain";
	case MD_REPLY_NODATA:
		return "nodata";
	case MD_REPLY_LAME:
		return "lame";
	case MD_REPLY_REFUSED:
		return "refused";
	case MD_REPLY_FORMERR:
		return "formerr";
	case MD_REPLY_TRUNCATED:
		return "truncated";
	case MD_REPLY_MALFORMED:
		return "malformed";
	}
	return "?";
}

/* The single CNAME target of a CNAME RRset, or NULL. */
static const uint8_t *
cname_target(const struct rrset *s)
{
	uint16_t len;

	if (s->count != 1 || s->rdata_len < 3)
		return NULL;
	len = md_read_u16(s->rdata);
	if (md_name_len(s->rdata + 2) != len)
		return NULL;
	return s->rdata + 2;
}

/* A DNAME of the answer section at a proper ancestor of name (the
 * closest), or NULL. */
static const struct rrset *
find_dname(const struct reply *r, const uint8_t *name)
{
	const struct rrset *best = NULL;

	for (const struct rrset *s = r->sets; s != NULL; s = s->next) {
		if (s->section != MD_SECTION_ANSWER ||
		    s->type != MD_TYPE_DNAME || md_name_equal(s->owner, name) ||
		    !md_name_is_subdomain(name, s->owner))
			continue;
		if (best == NULL ||
		    md_name_labels(s->owner) > md_name_labels(best->owner))
			best = s;
	}
	return best;
}

/*
 * RFC 6672 §3.2: the CNAME a DNAME stands for, made here from the DNAME
 * (the server's own CNAME for it is not needed, nor believed).  Adds the
 * DNAME and the CNAME to c's chain; returns the new name, or NULL with c
 * classified when it cannot go on.
 */
static const uint8_t *
take_dname(const struct rrset *dn, const uint8_t *name, struct classified *c)
{
	const uint8_t *target = cname_target(dn);
	struct rrset *cn;
	uint8_t *rd;
	size_t len;

	if (target == NULL) {
		c->cls = MD_REPLY_MALFORMED;
		c->why = "DNAME RRset with more than one record";
		return NULL;
	}
	if (c->nsynth == MD_CLASSIFY_DNAMES ||
	    c->nchain + 2 > sizeof(c->chain) / sizeof(c->chain[0])) {
		c->cls = MD_REPLY_CNAME;
		c->target = name;
		return NULL;
	}
	rd = c->synth_rdata[c->nsynth];
	if (!md_name_dname_subst(name, dn->owner, target, rd + 2)) {
		c->cls = MD_REPLY_MALFORMED;
		c->why = "DNAME substitution longer than a name (YXDOMAIN)";
		return NULL;
	}
	len = md_name_len(rd + 2);
	md_write_u16(rd, (uint16_t)len);
	memcpy(c->synth_owner[c->nsynth], name, md_name_len(name));
	cn = &c->synth[c->nsynth++];
	memset(cn, 0, sizeof(*cn));
	cn->section = MD_SECTION_ANSWER;
	cn->owner = c->synth_owner[c->nsynth - 1];
	cn->type = MD_TYPE_CNAME;
	cn->count = 1;
	cn->ttl = dn->ttl; /* §3.1: the CNAME has the DNAME's TTL */
	cn->rdata_len = 2 + (uint32_t)len;
	cn->rdata = rd;
	cn->synth = true;
	c->chain[c->nchain++] = dn;
	c->chain[c->nchain++] = cn;
	return rd + 2;
}

/* The NS RRset of the authority section that delegates towards qname. */
static const struct rrset *
find_referral(const struct reply *r, const uint8_t *qname)
{
	const struct rrset *best = NULL;

	for (const struct rrset *s = r->sets; s != NULL; s = s->next) {
		if (s->section != MD_SECTION_AUTHORITY ||
		    s->type != MD_TYPE_NS ||
		    !md_name_is_subdomain(qname, s->owner))
			continue;
		if (best == NULL ||
		    md_name_labels(s->owner) > md_name_labels(best->owner))
			best = s;
	}
	return best;
}

/* Does the answer section hold records of name (of any type)? */
static bool
has_other_types(const struct reply *r, const uint8_t *name)
{
	for (const struct rrset *s = r->sets; s != NULL; s = s->next) {
		if (s->section == MD_SECTION_ANSWER && s->count > 0 &&
		    md_name_equal(s->owner, name))
			return true;
	}
	return false;
}

static const struct rrset *
find_soa(const struct reply *r, const uint8_t *name)
{
	for (const struct rrset *s = r->sets; s != NULL; s = s->next) {
		/* The SOA of the zone the name is in: at or above it. */
		if (s->section == MD_SECTION_AUTHORITY &&
		    s->type == MD_TYPE_SOA &&
		    md_name_is_subdomain(name, s->owner))
			return s;
	}
	return NULL;
}

void
md_classify_reply(const struct reply *r, const uint8_t *qname, uint16_t qtype,
    const uint8_t *zone, struct classified *c)
{
	const uint8_t *name = qname;
	const struct rrset *s;

	memset(c, 0, sizeof(*c));
	if (r->msg.hdr.flags & MD_FLAG_TC) {
		c->cls = MD_REPLY_TRUNCATED;
		c->why = "truncated (TC)";
		return;
	}
	if (!(r->msg.hdr.flags & MD_FLAG_QR) || !r->msg.has_question ||
	    !md_name_equal(r->msg.qname, qname) || r->msg.qtype != qtype ||
	    r->msg.qclass != MD_CLASS_IN) {
		c->cls = MD_REPLY_MALFORMED;
		c->why = "reply does not match the question";
		return;
	}
	switch (r->rcode) {
	case MD_RCODE_NOERROR:
	case MD_RCODE_NXDOMAIN:
		break;
	case MD_RCODE_FORMERR:
	case MD_RCODE_NOTIMP:
		c->cls = MD_REPLY_FORMERR;
		c->why = r->rcode == MD_RCODE_FORMERR ? "FORMERR" : "NOTIMP";
		return;
	default:
		c->cls = MD_REPLY_REFUSED;
		c->why = md_rcode_str(r->rcode);
		return;
	}

	/* Follow the CNAME chain through the answer section. */
	for (;;) {
		s = md_reply_find(r, MD_SECTION_ANSWER, name, qtype);
		if (s != NULL && s->count > 0) {
			c->data = s;
			c->cls = MD_REPLY_ANSWER;
			return;
		}
		if (qtype == MD_TYPE_CNAME)
			break;
		s = qtype == MD_TYPE_DNAME ? NULL : find_dname(r, name);
		if (s != NULL) {
			const uint8_t *next = take_dname(s, name, c);

			if (next == NULL)
				return;
			for (unsigned i = 0; i + 1 < c->nchain; i++) {
				if (md_name_equal(c->chain[i]->owner, next)) {
					c->cls = MD_REPLY_CNAME;
					c->target = next;
					return;
				}
			}
			name = next;
			continue;
		}
		s = md_reply_find(r, MD_SECTION_ANSWER, name, MD_TYPE_CNAME);
		if (s == NULL)
			break;
		const uint8_t *target = cname_target(s);

		if (target == NULL) {
			c->cls = MD_REPLY_MALFORMED;
			c->why = "CNAME RRset with more than one record";
			return;
		}
		if (c->nchain == sizeof(c->chain) / sizeof(c->chain[0])) {
			c->cls = MD_REPLY_CNAME;
			c->target = name;
			return;
		}
		/* A loop inside one reply ends the chain here; the state
		 * machine sees the repeated name and fails. */
		for (unsigned i = 0; i < c->nchain; i++) {
			if (md_name_equal(c->chain[i]->owner, target)) {
				c->chain[c->nchain++] = s;
				c->cls = MD_REPLY_CNAME;
				c->target = target;
				return;
			}
		}
		c->chain[c->nchain++] = s;
		name = target;
	}
	if (c->nchain > 0) {
		/* The chain leaves what this server may tell us, or its end
		 * has no data here: an NXDOMAIN or NODATA for the target is
		 * the server's to give only when it is authoritative for it. */
		c->target = name;
		if (md_name_is_subdomain(name, zone) &&
		    (r->rcode == MD_RCODE_NXDOMAIN || find_soa(r, name))) {
			c->soa = find_soa(r, name);
			c->cls = r->rcode == MD_RCODE_NXDOMAIN
			    ? MD_REPLY_NXDOMAIN
			    : MD_REPLY_NODATA;
			return;
		}
		c->cls = MD_REPLY_CNAME;
		return;
	}

	if (r->rcode == MD_RCODE_NXDOMAIN) {
		c->cls = MD_REPLY_NXDOMAIN;
		c->soa = find_soa(r, qname);
		return;
	}
	c->soa = find_soa(r, qname);
	if (c->soa != NULL) {
		c->cls = MD_REPLY_NODATA;
		return;
	}
	s = find_referral(r, qname);
	if (s != NULL && md_name_labels(s->owner) > md_name_labels(zone)) {
		c->cls = MD_REPLY_REFERRAL;
		c->ns = s;
		return;
	}
	if (r->aa) {
		/* An authoritative empty answer without SOA: NODATA, kept
		 * only briefly (RFC 2308 §5). */
		c->cls = MD_REPLY_NODATA;
		return;
	}
	if (s == NULL && has_other_types(r, qname)) {
		/* Records of the name, of another type than asked (an A for
		 * an AAAA question): the name has no such data. */
		c->cls = MD_REPLY_NODATA;
		c->why = "only records of another type";
		return;
	}
	c->cls = MD_REPLY_LAME;
	c->upward = s != NULL || r->upward;
	c->why = c->upward ? "referral to the same or a higher zone"
			   : "not authoritative and no referral";
}
