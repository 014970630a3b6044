/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * query.c - turn one query message into one response message: header
 * rules (RFC 1035 §4.1.1), EDNS (RFC 6891), local-zone answers, and
 * truncation with TC for UDP (RFC 2181 §9).  No sockets here; server.c
 * and the tests call md_query_answer().
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "minidns/server.h"

/* The RRs of one RRset; on failure the writer is as before the RRset. */
static int
write_rrset(struct md_wire_writer *w, enum md_section sec,
    const struct md_zone_rr *e, const uint8_t *qname)
{
	struct md_wire_writer saved = *w;
	const uint8_t *owner = e->owner != NULL ? e->owner : qname;
	const uint8_t *p, *rd;
	uint16_t len;

	for (p = NULL; (p = md_rrset_next(e->rrset, p, &len, &rd)) != NULL;) {
		int rc = md_wire_write_rr(w, sec, owner, e->rrset->type,
		    MD_CLASS_IN, e->ttl, rd, len);

		if (rc != 0) {
			*w = saved;
			return rc;
		}
	}
	return 0;
}

static size_t
error_response(const struct md_wire_query *q, uint16_t edns_size, int rcode,
    uint8_t *out, size_t outcap, struct md_query_info *info)
{
	struct md_wire_writer w;
	uint16_t flags = MD_FLAG_QR | (q->hdr.flags & (0xf << 11)) |
	    (q->hdr.flags & MD_FLAG_RD) | (rcode & 0xf);

	info->rcode = rcode;
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(&w, MD_UDP_MIN, q->edns.present ? 11 : 0);
	md_wire_write_header(&w, q->hdr.id, flags);
	if (q->has_question)
		md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	if (q->edns.present)
		md_wire_write_opt(
		    &w, edns_size, (uint8_t)(rcode >> 4), 0, q->edns.do_bit);
	return md_wire_writer_finish(&w);
}

size_t
md_query_answer(const struct md_zone_set *zones, uint16_t edns_size, bool tcp,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	struct md_wire_query q;
	struct md_zone_result res;
	struct md_wire_writer w;
	size_t limit;
	uint16_t flags;
	int rcode;

	/* The name is copied only when there is one: keep this cheap. */
	memset(info, 0, offsetof(struct md_query_info, qname));
	info->qname[0] = 0;
	info->verdict = md_wire_read_query(in, inlen, &q);
	info->qtype = q.qtype;
	if (q.has_question)
		memcpy(info->qname, q.qname, q.qname_len);
	switch (info->verdict) {
	case MD_QUERY_DROP:
		return 0;
	case MD_QUERY_FORMERR:
		/* Without the parsed OPT, answer plainly (RFC 6891 §7). */
		q.edns.present = false;
		return error_response(
		    &q, edns_size, MD_RCODE_FORMERR, out, outcap, info);
	case MD_QUERY_NOTIMP:
		return error_response(
		    &q, edns_size, MD_RCODE_NOTIMP, out, outcap, info);
	case MD_QUERY_BADVERS:
		return error_response(
		    &q, edns_size, MD_RCODE_BADVERS, out, outcap, info);
	case MD_QUERY_OK:
		break;
	}

	/* Only class IN is served; zone transfers are not offered. */
	if (q.qclass != MD_CLASS_IN || q.qtype == MD_TYPE_AXFR ||
	    q.qtype == MD_TYPE_IXFR)
		return error_response(
		    &q, edns_size, MD_RCODE_REFUSED, out, outcap, info);
	if (q.qtype == MD_TYPE_MAILA || q.qtype == MD_TYPE_MAILB)
		return error_response(
		    &q, edns_size, MD_RCODE_NOTIMP, out, outcap, info);

	md_zone_lookup(zones, q.qname, q.qtype, &res);
	info->status = res.status;
	/* Nothing local: without recursion (a later stage) we refuse. */
	if (res.status == MD_ZONE_NOT_LOCAL)
		return error_response(
		    &q, edns_size, MD_RCODE_REFUSED, out, outcap, info);
	rcode = res.rcode;
	info->rcode = rcode;

	/* RFC 6891 §6.2.5: over UDP, the smaller of the client's size and
	 * ours, never below 512. */
	if (tcp)
		limit = MD_WIRE_MAX;
	else if (!q.edns.present)
		limit = MD_UDP_MIN;
	else
		limit =
		    q.edns.udp_size < edns_size ? q.edns.udp_size : edns_size;
	if (limit < MD_UDP_MIN)
		limit = MD_UDP_MIN;

	flags = MD_FLAG_QR | (q.hdr.flags & (MD_FLAG_RD | MD_FLAG_CD)) |
	    (res.aa ? MD_FLAG_AA : 0) | (uint16_t)rcode;
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(&w, limit, q.edns.present ? 11 : 0);
	md_wire_write_header(&w, q.hdr.id, flags);
	md_wire_write_question(&w, q.qname, q.qtype, q.qclass);

	bool tc = false;

	for (unsigned i = 0; i < res.nan && !tc; i++)
		tc = write_rrset(&w, MD_SECTION_ANSWER, &res.an[i], q.qname) !=
		    0;
	for (unsigned i = 0; i < res.nns && !tc; i++)
		tc = write_rrset(
			 &w, MD_SECTION_AUTHORITY, &res.ns[i], q.qname) != 0;
	/* Additional data that does not fit is left out, without TC
	 * (RFC 2181 §9). */
	for (unsigned i = 0; i < res.nar && !tc; i++)
		(void)write_rrset(
		    &w, MD_SECTION_ADDITIONAL, &res.ar[i], q.qname);
	if (tc) {
		md_wire_writer_set_flags(&w, flags | MD_FLAG_TC);
		info->truncated = true;
	}
	if (q.edns.present)
		md_wire_write_opt(&w, edns_size, 0, 0, q.edns.do_bit);
	return md_wire_writer_finish(&w);
}
