/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_msg.c - parse a whole DNS message (an upstream reply) into RRs with
 * decompressed names, and build a query message.  Every length is checked
 * before it is read.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "minidns/util.h"
#include "minidns/wire.h"

/*
 * Where the names sit inside the rdata of a type: 'skip' fixed bytes,
 * then 'names' names, then the rest as is.  Types not listed are copied
 * as they are (RFC 3597 §4: no compression in new types).
 */
static bool
rdata_layout(uint16_t type, size_t *skip, unsigned *names)
{
	switch (type) {
	case MD_TYPE_NS:
	case MD_TYPE_CNAME:
	case MD_TYPE_PTR:
	case MD_TYPE_DNAME:
	case 3: /* MD */
	case 4: /* MF */
	case 7: /* MB */
	case 8: /* MG */
	case 9: /* MR */
		*skip = 0;
		*names = 1;
		return true;
	case MD_TYPE_SOA:
	case 14: /* MINFO */
	case 17: /* RP */
		*skip = 0;
		*names = 2;
		return true;
	case MD_TYPE_MX:
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		*skip = 2;
		*names = 1;
		return true;
	case MD_TYPE_SRV:
		*skip = 6;
		*names = 1;
		return true;
	default:
		return false;
	}
}

static int
read_rdata(const uint8_t *pkt, size_t len, size_t off, uint16_t rdlen,
    uint16_t type, struct md_arena *a, struct md_msg_rr *rr)
{
	uint8_t buf[2 * MD_NAME_MAX + 8 + 20];
	size_t skip, pos = off, out = 0;
	unsigned names;

	if (!rdata_layout(type, &skip, &names)) {
		rr->rdata = md_arena_memdup(a, pkt + off, rdlen);
		rr->rdlen = rdlen;
		return rr->rdata != NULL ? 0 : MD_EPARSE;
	}
	if (skip > rdlen)
		return MD_EPARSE;
	memcpy(buf, pkt + pos, skip);
	out = skip;
	pos += skip;
	for (unsigned i = 0; i < names; i++) {
		int n = md_name_read(pkt, off + rdlen, &pos, buf + out);

		if (n < 0)
			return MD_EPARSE;
		out += (size_t)n;
	}
	/* SOA: five 32-bit numbers follow; others: nothing may. */
	size_t rest = off + rdlen - pos;

	if (type == MD_TYPE_SOA ? rest != 20 : rest != 0)
		return MD_EPARSE;
	memcpy(buf + out, pkt + pos, rest);
	out += rest;
	(void)len;
	rr->rdata = md_arena_memdup(a, buf, out);
	rr->rdlen = (uint16_t)out;
	return rr->rdata != NULL ? 0 : MD_EPARSE;
}

int
md_msg_parse(
    const uint8_t *pkt, size_t len, struct md_arena *a, struct md_msg *m)
{
	size_t off = MD_WIRE_HDR_LEN;
	unsigned total, sec_end[4];
	uint8_t name[MD_NAME_MAX];

	memset(m, 0, sizeof(*m));
	if (len < MD_WIRE_HDR_LEN)
		return MD_EPARSE;
	md_wire_read_header(pkt, &m->hdr);
	if (m->hdr.qdcount > 1)
		return MD_EPARSE;
	if (m->hdr.qdcount == 1) {
		int n = md_name_read(pkt, len, &off, m->qname);

		if (n < 0 || off + 4 > len)
			return MD_EPARSE;
		m->qtype = md_read_u16(pkt + off);
		m->qclass = md_read_u16(pkt + off + 2);
		off += 4;
		m->has_question = true;
	}
	total = (unsigned)m->hdr.ancount + m->hdr.nscount + m->hdr.arcount;
	/* Each RR takes at least 11 bytes: refuse impossible counts before
	 * allocating for them. */
	if ((size_t)total * 11 > len - off)
		return MD_EPARSE;
	m->rrs = md_arena_alloc(a, (total ? total : 1) * sizeof(*m->rrs));
	if (m->rrs == NULL)
		return MD_EPARSE;
	sec_end[1] = m->hdr.ancount;
	sec_end[2] = sec_end[1] + m->hdr.nscount;
	sec_end[3] = total;
	for (unsigned i = 0; i < total; i++) {
		struct md_msg_rr *rr = &m->rrs[m->nrr];
		int n = md_name_read(pkt, len, &off, name);
		uint16_t rdlen;

		if (n < 0 || off + 10 > len)
			return MD_EPARSE;
		rr->section = i < sec_end[1] ? MD_SECTION_ANSWER
		    : i < sec_end[2]	     ? MD_SECTION_AUTHORITY
					     : MD_SECTION_ADDITIONAL;
		rr->type = md_read_u16(pkt + off);
		rr->rclass = md_read_u16(pkt + off + 2);
		rr->ttl = md_read_u32(pkt + off + 4);
		rdlen = md_read_u16(pkt + off + 8);
		off += 10;
		if (off + rdlen > len)
			return MD_EPARSE;
		if (rr->type == MD_TYPE_OPT) {
			if (rr->section != MD_SECTION_ADDITIONAL ||
			    m->edns.present || name[0] != 0)
				return MD_EPARSE;
			m->edns.present = true;
			m->edns.udp_size = rr->rclass;
			m->edns.ext_rcode = (uint8_t)(rr->ttl >> 24);
			m->edns.version = (uint8_t)(rr->ttl >> 16);
			m->edns.do_bit = (rr->ttl & 0x8000) != 0;
			off += rdlen;
			continue;
		}
		/* RFC 2181 §8: a TTL with the top bit set is taken as 0. */
		if (rr->ttl & 0x80000000u)
			rr->ttl = 0;
		rr->owner = md_arena_memdup(a, name, (size_t)n);
		if (rr->owner == NULL ||
		    read_rdata(pkt, len, off, rdlen, rr->type, a, rr) != 0)
			return MD_EPARSE;
		off += rdlen;
		m->nrr++;
	}
	return 0;
}

int
md_msg_build_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname,
    uint16_t qtype, bool rd, bool edns, uint16_t edns_size, bool do_bit)
{
	struct md_wire_writer w;

	md_wire_writer_init(&w, buf, cap);
	if (md_wire_write_header(&w, id, rd ? MD_FLAG_RD : 0) != 0 ||
	    md_wire_write_question(&w, qname, qtype, MD_CLASS_IN) != 0)
		return MD_ENOSPACE;
	if (edns && md_wire_write_opt(&w, edns_size, 0, 0, do_bit) != 0)
		return MD_ENOSPACE;
	return (int)md_wire_writer_finish(&w);
}

bool
md_wire_addr_from_rdata(
    uint16_t type, const uint8_t *rd, uint16_t len, struct md_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (type == MD_TYPE_A && len == 4) {
		struct sockaddr_in *sin = (void *)&sa->ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		memcpy(&sin->sin_addr, rd, 4);
		sa->len = sizeof(*sin);
		return true;
	}
	if (type == MD_TYPE_AAAA && len == 16) {
		struct sockaddr_in6 *sin6 = (void *)&sa->ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53);
		memcpy(&sin6->sin6_addr, rd, 16);
		sa->len = sizeof(*sin6);
		return true;
	}
	return false;
}
