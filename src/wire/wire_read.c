/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_read.c - parse a query in place: header, the one question, and the
 * EDNS OPT record (RFC 6891).  Decides whether the query is answerable,
 * malformed (FORMERR), of an unsupported opcode (NOTIMP), of an unknown
 * EDNS version (BADVERS), or not worth a response at all (dropped).
 *
 * It does not look at what the question asks; that is for the server.
 */
#include "config.h"

#include <string.h>

#include "minidns/util.h"
#include "minidns/wire.h"

const char *
md_rcode_str(int rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE"};

	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	if (rcode == MD_RCODE_BADVERS)
		return "BADVERS";
	return "RESERVED";
}

const char *
md_opcode_str(int opcode)
{
	switch (opcode) {
	case MD_OPCODE_QUERY:
		return "QUERY";
	case MD_OPCODE_IQUERY:
		return "IQUERY";
	case MD_OPCODE_STATUS:
		return "STATUS";
	case MD_OPCODE_NOTIFY:
		return "NOTIFY";
	case MD_OPCODE_UPDATE:
		return "UPDATE";
	default:
		return "RESERVED";
	}
}

const char *
md_query_verdict_str(enum md_query_verdict v)
{
	switch (v) {
	case MD_QUERY_OK:
		return "ok";
	case MD_QUERY_DROP:
		return "drop";
	case MD_QUERY_FORMERR:
		return "formerr";
	case MD_QUERY_NOTIMP:
		return "notimp";
	case MD_QUERY_BADVERS:
		return "badvers";
	case MD_QUERY_NOTAUTH:
		return "notauth";
	}
	return "?";
}

/* Skip one RR at *off, returning its type and the offset of its rdata. */
static int
skip_rr(const uint8_t *pkt, size_t len, size_t *off, uint8_t *owner,
    uint16_t *type, size_t *rdata_off, uint16_t *rdlen)
{
	if (md_name_read(pkt, len, off, owner) < 0)
		return MD_EPARSE;
	if (*off + 10 > len)
		return MD_EPARSE;
	*type = md_read_u16(pkt + *off);
	*rdlen = md_read_u16(pkt + *off + 8);
	*rdata_off = *off + 10;
	if (*rdata_off + *rdlen > len)
		return MD_EPARSE;
	*off = *rdata_off + *rdlen;
	return 0;
}

void
md_wire_read_header(const uint8_t *pkt, struct md_wire_header *hdr)
{
	hdr->id = md_read_u16(pkt);
	hdr->flags = md_read_u16(pkt + 2);
	hdr->qdcount = md_read_u16(pkt + 4);
	hdr->ancount = md_read_u16(pkt + 6);
	hdr->nscount = md_read_u16(pkt + 8);
	hdr->arcount = md_read_u16(pkt + 10);
}

enum md_query_verdict
md_wire_read_query(const uint8_t *pkt, size_t len, struct md_wire_query *q)
{
	uint8_t owner[MD_NAME_MAX];
	size_t off = MD_WIRE_HDR_LEN;
	bool notimp, tsig = false;
	int n;

	memset(q, 0, sizeof(*q));
	/* Without a whole header there is no ID to answer with. */
	if (len < MD_WIRE_HDR_LEN)
		return MD_QUERY_DROP;
	md_wire_read_header(pkt, &q->hdr);

	/* Never answer a response: that is how reflection loops start. */
	if (q->hdr.flags & MD_FLAG_QR)
		return MD_QUERY_DROP;
	notimp = MD_OPCODE(q->hdr.flags) != MD_OPCODE_QUERY;

	if (q->hdr.qdcount != 1)
		return notimp ? MD_QUERY_NOTIMP : MD_QUERY_FORMERR;
	n = md_name_read(pkt, len, &off, q->qname);
	if (n < 0 || off + 4 > len)
		return notimp ? MD_QUERY_NOTIMP : MD_QUERY_FORMERR;
	q->qname_len = (size_t)n;
	q->qtype = md_read_u16(pkt + off);
	q->qclass = md_read_u16(pkt + off + 2);
	off += 4;
	q->has_question = true;
	if (notimp)
		return MD_QUERY_NOTIMP;

	/* A query carries no answer or authority records (RFC 1035 §4.1). */
	if (q->hdr.ancount != 0 || q->hdr.nscount != 0)
		return MD_QUERY_FORMERR;

	for (unsigned i = 0; i < q->hdr.arcount; i++) {
		uint16_t type, rdlen;
		size_t rdata_off;

		if (skip_rr(pkt, len, &off, owner, &type, &rdata_off, &rdlen) !=
		    0)
			return MD_QUERY_FORMERR;
		/* RFC 8945 §5.2: a signed query with a key the server does
		 * not know is NOTAUTH; we know none. */
		tsig |= type == MD_TYPE_TSIG;
		if (type != MD_TYPE_OPT)
			continue;
		/* RFC 6891 §6.1.1: one OPT, owned by the root. */
		if (q->edns.present || owner[0] != 0)
			return MD_QUERY_FORMERR;
		size_t p = rdata_off - 10;

		q->edns.present = true;
		q->edns.udp_size = md_read_u16(pkt + p + 2);
		q->edns.ext_rcode = pkt[p + 4];
		q->edns.version = pkt[p + 5];
		q->edns.do_bit = (pkt[p + 6] & 0x80) != 0;
		/* Options must be well formed: code, length, data. */
		size_t o = rdata_off;

		while (o < rdata_off + rdlen) {
			if (o + 4 > rdata_off + rdlen)
				return MD_QUERY_FORMERR;
			uint16_t olen = md_read_u16(pkt + o + 2);

			o += 4 + (size_t)olen;
			if (o > rdata_off + rdlen)
				return MD_QUERY_FORMERR;
		}
	}
	/* The question type may not be OPT, nor a meta type that is no
	 * question (RFC 6895 §3.1: 128-255 are meta and query types; TKEY
	 * and TSIG only travel with transactions, the rest are unassigned;
	 * Unbound answers FORMERR alike).  IXFR, AXFR, MAILB, MAILA and ANY
	 * are questions. */
	if (q->qtype == MD_TYPE_OPT ||
	    (q->qtype >= 128 && q->qtype <= MD_TYPE_TSIG))
		return MD_QUERY_FORMERR;
	if (q->edns.present && q->edns.version > 0)
		return MD_QUERY_BADVERS;
	if (tsig)
		return MD_QUERY_NOTAUTH;
	return MD_QUERY_OK;
}
