/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * query.c - turn one query message into one response message: header
 * rules (RFC 1035 §4.1.1), EDNS (RFC 6891), local-zone answers, answers
 * from the cache, answers built from a finished resolution, and
 * truncation with TC for UDP (RFC 2181 §9).  No sockets here; server.c and
 * the tests call these functions.
 *
 * The order of answer sources is fixed (../shared/ARCHITECTURE.md): local
 * zones, then the cache, then resolution (which the caller starts when
 * md_query_process() says need_recursion).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <netinet/in.h>

#include "minidns/dnssec.h"
#include "minidns/server.h"

/* The largest UDP answer: the smaller of the client's size and ours
 * (RFC 6891 §6.2.5), never below 512; TCP has no such limit. */
static size_t
answer_limit(const struct md_wire_query *q, uint16_t edns_size, bool tcp)
{
	size_t limit;

	if (tcp)
		return MD_WIRE_MAX;
	if (!q->edns.present)
		return MD_UDP_MIN;
	limit = q->edns.udp_size < edns_size ? q->edns.udp_size : edns_size;
	return limit < MD_UDP_MIN ? MD_UDP_MIN : limit;
}

static uint16_t
base_flags(const struct md_wire_query *q, bool ra)
{
	return MD_FLAG_QR | (q->hdr.flags & (MD_FLAG_RD | MD_FLAG_CD)) |
	    (ra ? MD_FLAG_RA : 0);
}

/* The RRs of rdata[0..rdata_len) ([u16 len][rdata]...), in order. */
static int
write_rrs(struct md_wire_writer *w, enum md_section sec, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len)
{
	for (uint32_t off = 0; off + 2 <= rdata_len;) {
		uint16_t len = md_read_u16(rdata + off);

		if (off + 2 + len > rdata_len ||
		    md_wire_write_rr(w, sec, owner, type, MD_CLASS_IN, ttl,
			rdata + off + 2, len) != 0)
			return MD_ENOSPACE;
		off += 2 + (uint32_t)len;
	}
	return 0;
}

/*
 * rrset-roundrobin (as Unbound's): the byte offset in rdata of RR number
 * rotate % count, where an RRset of several RRs starts; 0 for one RR, a
 * rotation of 0 or malformed rdata.
 */
static uint32_t
rotation_start(const uint8_t *rdata, uint32_t rdata_len, uint32_t rotate)
{
	uint32_t n = 0, k, off = 0;

	if (rotate == 0)
		return 0;
	for (uint32_t o = 0; o + 2 <= rdata_len; n++)
		o += 2 + (uint32_t)md_read_u16(rdata + o);
	if (n < 2)
		return 0;
	for (k = rotate % n; k > 0 && off + 2 <= rdata_len; k--)
		off += 2 + (uint32_t)md_read_u16(rdata + off);
	return off < rdata_len ? off : 0;
}

/*
 * The RRs of one RRset, from RR number rotate % count on and round to
 * the first.  When the message is full: in the answer and authority
 * sections the RRs that fit stay and the caller sets TC (RFC 2181 §9
 * allows a partial RRset with TC; CoreDNS answers so, and a stub such as
 * glibc's retries over TCP on TC, which beats an empty answer it cannot
 * use when even TCP cannot hold the whole RRset); in the additional
 * section, which is dropped without TC, the writer is as before the
 * RRset, so no RRset there is ever partial.  The writer rolls back the RR
 * that did not fit: no allocation either way.
 */
static int
write_set_rot(struct md_wire_writer *w, enum md_section sec,
    const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
    uint32_t rdata_len, uint32_t rotate)
{
	size_t len = w->len;
	unsigned ncomp = w->ncomp;
	uint16_t count = w->counts[sec];
	uint32_t start = rotation_start(rdata, rdata_len, rotate);

	if (write_rrs(w, sec, owner, type, ttl, rdata + start,
		rdata_len - start) != 0 ||
	    write_rrs(w, sec, owner, type, ttl, rdata, start) != 0) {
		if (sec == MD_SECTION_ADDITIONAL) {
			md_wire_writer_rewind(w, len, ncomp);
			w->counts[sec] = count;
		}
		return MD_ENOSPACE;
	}
	return 0;
}

/* The RRs of one RRset in the stored order. */
static int
write_set(struct md_wire_writer *w, enum md_section sec, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len)
{
	return write_set_rot(w, sec, owner, type, ttl, rdata, rdata_len, 0);
}

/* A local zone's RRset; its DNSSEC records only when the client set DO
 * (RFC 4035 §3.1), and of a node's RRSIGs those covering e->covered. */
static int
write_zone_rr(struct md_wire_writer *w, enum md_section sec,
    const struct md_zone_rr *e, const struct md_wire_query *q, uint32_t rotate)
{
	const uint8_t *owner = e->owner != NULL ? e->owner : q->qname;

	if ((e->covered != 0 || e->dnssec) && !q->edns.do_bit)
		return 0;
	if (e->covered != 0) {
		const uint8_t *p = NULL, *rd;
		uint16_t len;

		while ((p = md_rrset_next(e->rrset, p, &len, &rd)) != NULL) {
			if (len >= 18 && md_read_u16(rd) == e->covered &&
			    md_wire_write_rr(w, sec, owner, MD_TYPE_RRSIG,
				MD_CLASS_IN, e->ttl, rd, len) != 0)
				return MD_ENOSPACE;
		}
		return 0;
	}
	return write_set_rot(w, sec, owner, e->rrset->type, e->ttl,
	    e->rrset->rdata, e->rrset->rdata_len, rotate);
}

/* Answers echo the client's spelling of its own name (0x20 and all). */
static const uint8_t *
owner_for(const struct md_wire_query *q, const uint8_t *owner)
{
	return md_name_equal(owner, q->qname) ? q->qname : owner;
}

static size_t
error_response(const struct md_wire_query *q, uint16_t edns_size, bool ra,
    int rcode, uint8_t *out, size_t outcap, struct md_query_info *info)
{
	struct md_wire_writer w;
	uint16_t flags =
	    base_flags(q, ra) | (q->hdr.flags & (0xf << 11)) | (rcode & 0xf);

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

/* SERVFAIL now, with an Extended DNS Error (RFC 8914) when the client
 * speaks EDNS. */
static size_t
servfail_ede(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    uint16_t ede, const char *text, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	struct md_wire_writer w;

	info->rcode = MD_RCODE_SERVFAIL;
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(&w, MD_UDP_MIN, q->edns.present ? 11 : 0);
	md_wire_write_header(
	    &w, q->hdr.id, base_flags(q, ctx->recursion) | MD_RCODE_SERVFAIL);
	md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	if (q->edns.present)
		md_wire_write_opt_ede(
		    &w, ctx->edns_size, 0, q->edns.do_bit, ede, text);
	return md_wire_writer_finish(&w);
}

/*
 * A local zone whose data has not arrived (MD_ZONE_NOT_READY: the
 * Kubernetes source before its first list): SERVFAIL with EDE 14, Not
 * Ready (RFC 8914 §4.15).  Never cached, here or by the client's stub.
 */
static size_t
not_ready_response(const struct md_query_ctx *ctx,
    const struct md_wire_query *q, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	return servfail_ede(
	    ctx, q, MD_EDE_NOT_READY, "zone not ready", out, outcap, info);
}

static size_t
zone_response(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    bool tcp, const struct md_zone_result *res, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	struct md_wire_writer w;
	uint16_t flags = base_flags(q, ctx->recursion) |
	    (res->aa ? MD_FLAG_AA : 0) | (uint16_t)res->rcode;
	bool tc = false;

	info->rcode = res->rcode;
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(
	    &w, answer_limit(q, ctx->edns_size, tcp), q->edns.present ? 11 : 0);
	md_wire_write_header(&w, q->hdr.id, flags);
	md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	for (unsigned i = 0; i < res->nan && !tc; i++)
		tc = write_zone_rr(&w, MD_SECTION_ANSWER, &res->an[i], q,
			 ctx->rotate) != 0;
	for (unsigned i = 0; i < res->nns && !tc; i++)
		tc = write_zone_rr(&w, MD_SECTION_AUTHORITY, &res->ns[i], q,
			 ctx->rotate) != 0;
	/* Additional data that does not fit is left out, without TC
	 * (RFC 2181 §9). */
	for (unsigned i = 0; i < res->nar && !tc; i++)
		(void)write_zone_rr(
		    &w, MD_SECTION_ADDITIONAL, &res->ar[i], q, ctx->rotate);
	if (tc) {
		md_wire_writer_set_flags(&w, flags | MD_FLAG_TC);
		info->truncated = true;
	}
	if (q->edns.present)
		md_wire_write_opt(&w, ctx->edns_size, 0, 0, q->edns.do_bit);
	return md_wire_writer_finish(&w);
}

/*
 * prefetch: a cache answer in the last 10% of the TTL it was stored with
 * is refreshed in the background (as Unbound's and CoreDNS's): noted here,
 * started by the caller (md_srv_prefetch()).
 */
static void
note_prefetch(const struct md_query_ctx *ctx, const struct md_cache_view *v,
    struct md_query_info *info)
{
	if (ctx->prefetch && !v->stale &&
	    (uint64_t)v->ttl * 10 <= (uint64_t)v->orig_ttl)
		info->prefetch = true;
}

const uint8_t *
md_query_chain_target(const struct md_zone_result *res)
{
	const struct md_rrset *last;

	unsigned i = res->nan;

	if (res->status != MD_ZONE_CNAME_OUT)
		return NULL;
	/* the last CNAME: its RRSIGs may follow it */
	while (i > 0 && (res->an[i - 1].covered != 0 || res->an[i - 1].dnssec))
		i--;
	if (i == 0)
		return NULL;
	last = res->an[i - 1].rrset;
	if (last->type != MD_TYPE_CNAME || last->rdata_len < 3 ||
	    md_name_len(last->rdata + 2) != md_read_u16(last->rdata))
		return NULL;
	return last->rdata + 2;
}

/* The local part of a chain leading out, into the answer section. */
static int
write_chain(struct md_wire_writer *w, const struct md_wire_query *q,
    const struct md_zone_result *chain)
{
	for (unsigned i = 0; i < chain->nan; i++) {
		if (write_zone_rr(w, MD_SECTION_ANSWER, &chain->an[i], q, 0) !=
		    0)
			return MD_ENOSPACE;
	}
	return 0;
}

/* ---- Kubernetes autopath ------------------------------------------------ */

/*
 * A pod's stub walks its search path, <ns>.svc.<zone>, svc.<zone>,
 * <zone>, the host's domains, then the bare name: ten queries for
 * www.example.com (A and AAAA each).  With autopath (as CoreDNS's
 * autopath @kubernetes) the server walks it at the first step: a query
 * for NAME.<ns>.svc.<zone> from a pod of namespace ns that is NXDOMAIN
 * is answered by the first of NAME.svc.<zone>, NAME.<zone>, NAME.<each
 * autopath-search domain>, NAME that exists (NODATA counts), as a CNAME
 * to it plus its records; when none does, the original NXDOMAIN, and the
 * stub walks on as without autopath.  Only the first expansion, and only
 * for clients whose address is a pod's (pods: verified): the answer
 * depends on the client, so it is never cached under the query name.
 *
 * Local names are looked up at once, as is the cache for the others; a
 * name to resolve stops the walk (info->need_recursion, the chase of
 * CNAME_OUT): when it turns out not to exist, md_query_respond() says
 * info->autopath_resume and md_query_autopath_resume() goes on with the
 * next name (the server's waiter for the client moves along).
 */
struct autopath {
	struct md_zone_result res;   /* the answer: CNAME, then found's */
	struct md_zone_result found; /* the search-path name's own */
	struct md_rrset cname;
	uint8_t cname_rdata[2 + MD_NAME_MAX];
	uint8_t name[MD_NAME_MAX]; /* the search-path name */
};

static void
ap_copy(struct md_zone_rr *dst, unsigned *n, const struct md_zone_rr *src,
    unsigned nsrc, const uint8_t *owner)
{
	for (unsigned i = 0; i < nsrc && *n < MD_ZONE_SECTION_MAX; i++) {
		dst[*n] = src[i];
		if (dst[*n].owner == NULL)
			dst[*n].owner = owner;
		(*n)++;
	}
}

/* Look ap->name up and make ap->res: the CNAME qname -> ap->name (TTL
 * ttl), then what the local zones hold for ap->name (nothing when they
 * do not hold it: a chain leading out, to be chased). */
static void
ap_build(struct autopath *ap, const struct md_zone_set *zs, uint16_t qtype,
    uint32_t ttl)
{
	size_t nlen = md_name_len(ap->name);
	struct md_zone_result *r = &ap->res;

	md_zone_lookup(zs, ap->name, qtype, &ap->found);
	memset(&ap->cname, 0, sizeof(ap->cname));
	ap->cname.type = MD_TYPE_CNAME;
	ap->cname.count = 1;
	ap->cname.ttl = ttl;
	md_write_u16(ap->cname_rdata, (uint16_t)nlen);
	memcpy(ap->cname_rdata + 2, ap->name, nlen);
	ap->cname.rdata = ap->cname_rdata;
	ap->cname.rdata_len = (uint32_t)(2 + nlen);
	ap->cname.rdata_cap = ap->cname.rdata_len;
	r->nan = r->nns = r->nar = 0;
	r->zone = ap->found.zone;
	r->an[r->nan++] =
	    (struct md_zone_rr){.owner = NULL, .rrset = &ap->cname, .ttl = ttl};
	if (ap->found.status == MD_ZONE_NOT_LOCAL) {
		r->status = MD_ZONE_CNAME_OUT;
		r->rcode = MD_RCODE_NOERROR;
		r->aa = false;
		return;
	}
	r->status = ap->found.status;
	r->rcode = ap->found.rcode;
	r->aa = ap->found.aa;
	ap_copy(r->an, &r->nan, ap->found.an, ap->found.nan, ap->name);
	ap_copy(r->ns, &r->nns, ap->found.ns, ap->found.nns, ap->name);
	ap_copy(r->ar, &r->nar, ap->found.ar, ap->found.nar, ap->name);
}

/* The client's address as 16 bytes (IPv4 as ::ffff:a.b.c.d). */
static bool
client_addr(const struct sockaddr *sa, uint8_t a[16])
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

/* The negative TTL of an NXDOMAIN answer (its SOA's), for the CNAME. */
static uint32_t
ap_ttl(const struct md_zone_result *nx)
{
	return nx->nns > 0 ? nx->ns[0].ttl : 5;
}

/*
 * Answer from the cache alone: follow CNAMEs, end at the data or at a
 * negative entry.  Returns the length, or 0 when the cache cannot answer
 * the whole question.  Copies each RRset into ctx's scratch buffer and from
 * there into the message: no allocation.  chain (not NULL): a local CNAME
 * chain leading out, written first; the cache answers for its target.
 */
/*
 * DO set (RFC 4035 §3.2.1): the RRSIGs the cache keeps beside (owner,
 * type), written after the RRset as owner_out.  True when they did not
 * fit.  Uses ctx->scratch: the caller's view of it is gone.
 */
static bool
write_cached_sigs(const struct md_query_ctx *ctx, struct md_wire_writer *w,
    const struct md_wire_query *q, const uint8_t *owner_out,
    const uint8_t *owner, uint16_t type, uint64_t now)
{
	struct md_cache_view v;

	if (!q->edns.do_bit ||
	    md_cache_get_sigs(ctx->cache, owner, type, now, ctx->scratch,
		ctx->scratch_len, &v) != 0)
		return false;
	return write_set(w, MD_SECTION_ANSWER, owner_out, MD_TYPE_RRSIG, v.ttl,
		   v.rdata, v.rdata_len) != 0;
}

/* DO set: a cached denial's NSEC/NSEC3 records and RRSIGs, in the
 * authority section after its SOA.  True when they did not fit. */
static bool
write_cached_proof(const struct md_query_ctx *ctx, struct md_wire_writer *w,
    const struct md_wire_query *q, const uint8_t *name, uint16_t key_type,
    uint64_t now)
{
	struct md_cache_view v;
	const uint8_t *p = NULL, *owner, *rd;
	uint16_t type, rl;

	if (!q->edns.do_bit ||
	    md_cache_get_proof(ctx->cache, name, key_type, now, ctx->scratch,
		ctx->scratch_len, &v) != 0)
		return false;
	while (
	    (p = md_cache_proof_next(&v, p, &owner, &type, &rd, &rl)) != NULL) {
		if (md_wire_write_rr(w, MD_SECTION_AUTHORITY, owner, type,
			MD_CLASS_IN, v.ttl, rd, rl) != 0)
			return true;
	}
	return false;
}

/*
 * DNSSEC, for an entry the cache is about to answer with: may it (no:
 * validate it first, through the engine), and what is the answer's
 * security so far (*sec: SECURE until something less is seen).  Data not
 * under validation counts as insecure.
 */
enum val_gate { GATE_ANSWER, GATE_RESOLVE, GATE_BOGUS };

static enum val_gate
val_gate(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    const uint8_t *name, const struct md_cache_view *v, uint64_t now,
    enum md_security *sec, uint16_t *ede)
{
	enum md_security s = MD_SEC_INSECURE;

	/* Data marked secure or insecure was judged when it came (an NTA
	 * added since flushed what it covers): no look at the anchors and
	 * insecure domains on the hit path. */
	if (ctx->resolve != NULL && ctx->resolve->validate &&
	    (v->security == MD_SEC_SECURE || v->security == MD_SEC_INSECURE ||
		md_val_applies(ctx->resolve, ctx->nta, name, now))) {
		s = v->security;
		/* insecure for too many NSEC3 iterations: say so */
		if (s == MD_SEC_INSECURE && v->ede == MD_EDE_NSEC3_ITERATIONS)
			*ede = v->ede;
		if (s == MD_SEC_UNCHECKED || s == MD_SEC_INDETERMINATE)
			return GATE_RESOLVE;
		/* RFC 4035 §3.2.2: CD, the client checks for itself */
		if (s == MD_SEC_BOGUS && !(q->hdr.flags & MD_FLAG_CD))
			return GATE_BOGUS;
	}
	if (s == MD_SEC_BOGUS || *sec == MD_SEC_BOGUS)
		*sec = MD_SEC_BOGUS;
	else if (s != MD_SEC_SECURE)
		*sec = MD_SEC_INSECURE;
	return GATE_ANSWER;
}

/* RFC 4035 §3.2.3, RFC 6840 §5.7: AD for validated data, to a client that
 * set DO or AD. */
static uint16_t
ad_flag(const struct md_wire_query *q, enum md_security sec)
{
	return sec == MD_SEC_SECURE &&
		(q->edns.do_bit || (q->hdr.flags & MD_FLAG_AD))
	    ? MD_FLAG_AD
	    : 0;
}

static size_t
cache_response(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    uint32_t qhash, bool tcp, bool stale, uint8_t *out, size_t outcap,
    struct md_query_info *info, const struct md_zone_result *chain)
{
	enum md_security sec = MD_SEC_SECURE;
	uint16_t info_ede = MD_EDE_NONE;
	bool bogus = false;
	struct md_wire_writer w;
	struct md_cache_view v;
	uint8_t name[MD_NAME_MAX];
	uint16_t flags = base_flags(q, true);
	uint64_t now = ctx->now_ms != 0 ? ctx->now_ms : md_now_ms();
	bool tc = false, any_stale = false, failed = false;
	int rcode = MD_RCODE_NOERROR;
	unsigned hops = 0;
	uint16_t fail_ede = MD_EDE_NONE;

	if (ctx->cache == NULL || ctx->scratch == NULL)
		return 0;
	memcpy(name, q->qname, q->qname_len);
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(
	    &w, answer_limit(q, ctx->edns_size, tcp), q->edns.present ? 64 : 0);
	md_wire_write_header(&w, q->hdr.id, flags);
	md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	if (chain != NULL) {
		if (write_chain(&w, q, chain) != 0)
			return 0;
		memcpy(name, md_query_chain_target(chain),
		    md_name_len(md_query_chain_target(chain)));
		hops = 1;
	}
	for (;;) {
		/* The query name's hash is known; a CNAME target's is not. */
		int rc = md_cache_get_h(ctx->cache, name,
		    hops == 0 ? qhash : md_name_hash(name), q->qtype, now,
		    stale, ctx->scratch, ctx->scratch_len, &v);

		if (rc == 0 && v.kind == MD_CACHE_RRSET &&
		    !md_trust_answerable(v.trust))
			return 0; /* glue or a referral's NS set: ask */
		if (rc == 0 && v.kind == MD_CACHE_SERVFAIL) {
			/* RFC 9520: a question that just failed fails again
			 * at once, for servfail-ttl; after a CNAME, the
			 * engine says so with the chain's trace. */
			if (hops > 0 || stale)
				return 0;
			failed = true;
			fail_ede = v.ede;
			rcode = MD_RCODE_SERVFAIL;
			break;
		}
		if (rc == 0) {
			enum val_gate g =
			    val_gate(ctx, q, name, &v, now, &sec, &info_ede);

			if (g == GATE_RESOLVE || (g == GATE_BOGUS && hops > 0))
				return 0;
			if (g == GATE_BOGUS) {
				/* bogus moments ago (val-bogus-ttl) */
				failed = bogus = true;
				fail_ede = v.ede;
				rcode = MD_RCODE_SERVFAIL;
				break;
			}
			any_stale |= v.stale;
			note_prefetch(ctx, &v, info);
			if (v.kind == MD_CACHE_RRSET) {
				tc =
				    write_set_rot(&w, MD_SECTION_ANSWER,
					owner_for(q, v.owner), v.type, v.ttl,
					v.rdata, v.rdata_len, ctx->rotate) != 0;
				tc = tc ||
				    write_cached_sigs(ctx, &w, q,
					owner_for(q, name), name, q->qtype,
					now);
				/* a wildcard expansion's proof */
				tc = tc ||
				    write_cached_proof(
					ctx, &w, q, name, q->qtype, now);
				break;
			}
			rcode = v.kind == MD_CACHE_NXDOMAIN ? MD_RCODE_NXDOMAIN
							    : MD_RCODE_NOERROR;
			if (v.soa_owner != NULL && v.soa_rdata != NULL &&
			    md_wire_write_rr(&w, MD_SECTION_AUTHORITY,
				v.soa_owner, MD_TYPE_SOA, MD_CLASS_IN, v.ttl,
				v.soa_rdata, v.soa_rdlen) != 0)
				tc = true;
			tc = tc ||
			    write_cached_proof(ctx, &w, q, name,
				v.kind == MD_CACHE_NXDOMAIN ? 0 : q->qtype,
				now);
			break;
		}
		/* No data for this name: a CNAME to follow? */
		if (q->qtype == MD_TYPE_CNAME || ++hops > 11)
			return 0;
		rc = md_cache_get(ctx->cache, name, MD_TYPE_CNAME, now, stale,
		    ctx->scratch, ctx->scratch_len, &v);
		if (rc != 0 || v.kind != MD_CACHE_RRSET || v.count != 1 ||
		    !md_trust_answerable(v.trust) ||
		    md_name_len(v.rdata + 2) != md_read_u16(v.rdata) ||
		    val_gate(ctx, q, name, &v, now, &sec, &info_ede) !=
			GATE_ANSWER)
			return 0;
		any_stale |= v.stale;
		note_prefetch(ctx, &v, info);
		if (write_set(&w, MD_SECTION_ANSWER, owner_for(q, v.owner),
			MD_TYPE_CNAME, v.ttl, v.rdata, v.rdata_len) != 0) {
			tc = true;
			break;
		}
		uint8_t cname_owner[MD_NAME_MAX];

		memcpy(cname_owner, name, md_name_len(name));
		memcpy(name, v.rdata + 2, md_name_len(v.rdata + 2));
		if (write_cached_sigs(ctx, &w, q, owner_for(q, cname_owner),
			cname_owner, MD_TYPE_CNAME, now)) {
			tc = true;
			break;
		}
	}
	flags |= (uint16_t)rcode;
	if (tc) {
		flags |= MD_FLAG_TC;
		info->truncated = true;
	}
	if (ctx->resolve != NULL && ctx->resolve->validate)
		info->security = bogus ? MD_SEC_BOGUS : sec;
	/* a local chain before it was not validated */
	if (!failed && chain == NULL)
		flags |= ad_flag(q, sec);
	md_wire_writer_set_flags(&w, flags);
	info->rcode = rcode;
	info->from_cache = true;
	if (q->edns.present) {
		if (failed)
			md_wire_write_opt_ede(&w, ctx->edns_size, 0,
			    q->edns.do_bit,
			    fail_ede != MD_EDE_NONE ? fail_ede : MD_EDE_OTHER,
			    bogus ? "DNSSEC validation failed (cached, "
				    "val-bogus-ttl)"
				  : "cached failure");
		else if (any_stale)
			md_wire_write_opt_ede(&w, ctx->edns_size, 0,
			    q->edns.do_bit, 3, "stale answer");
		else if (info_ede != MD_EDE_NONE)
			md_wire_write_opt_ede(&w, ctx->edns_size, 0,
			    q->edns.do_bit, info_ede,
			    "NSEC3 iterations above the limit");
		else
			md_wire_write_opt(
			    &w, ctx->edns_size, 0, 0, q->edns.do_bit);
	}
	return md_wire_writer_finish(&w);
}

/*
 * RD=0 and the cache cannot answer: NOERROR, no answer, and the closest
 * delegation the cache holds (its NS set) in the authority section, as
 * Unbound answers such a query; nothing is resolved.
 */
static size_t
referral_response(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    bool tcp, uint8_t *out, size_t outcap, struct md_query_info *info)
{
	struct md_wire_writer w;
	struct md_cache_view v;
	uint16_t flags = base_flags(q, true);
	uint64_t now = ctx->now_ms != 0 ? ctx->now_ms : md_now_ms();

	info->rcode = MD_RCODE_NOERROR;
	info->from_cache = true;
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(
	    &w, answer_limit(q, ctx->edns_size, tcp), q->edns.present ? 11 : 0);
	md_wire_write_header(&w, q->hdr.id, flags);
	md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	for (const uint8_t *z = q->qname;
	     z != NULL && ctx->cache != NULL && ctx->scratch != NULL;
	     z = md_name_parent(z)) {
		if (md_cache_get(ctx->cache, z, MD_TYPE_NS, now, false,
			ctx->scratch, ctx->scratch_len, &v) != 0 ||
		    v.kind != MD_CACHE_RRSET)
			continue;
		if (write_set_rot(&w, MD_SECTION_AUTHORITY, v.owner, MD_TYPE_NS,
			v.ttl, v.rdata, v.rdata_len, ctx->rotate) != 0) {
			md_wire_writer_set_flags(&w, flags | MD_FLAG_TC);
			info->truncated = true;
		}
		break;
	}
	if (q->edns.present)
		md_wire_write_opt(&w, ctx->edns_size, 0, 0, q->edns.do_bit);
	return md_wire_writer_finish(&w);
}

/*
 * A local CNAME chain leads out of the local zones, and the client asked
 * for recursion and may have it: the chain plus the target's records,
 * from the cache, else the caller resolves info->chase_name and
 * md_query_respond() (ctx->chase) puts the chain before the result.
 */
static size_t
chase_response(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    bool tcp, const struct md_zone_result *res, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	const uint8_t *target = md_query_chain_target(res);
	size_t len;

	info->chase = true;
	memcpy(info->chase_name, target, md_name_len(target));
	len = cache_response(ctx, q, 0, tcp, false, out, outcap, info, res);
	if (len > 0)
		return len;
	info->need_recursion = true;
	return 0;
}

/*
 * The autopath walk for q, whose local answer nx is NXDOMAIN.  *done:
 * the walk answered (the response's length, or 0 with
 * info->need_recursion); else the caller answers nx.
 */
static size_t
autopath_walk(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    bool tcp, const struct md_zone_result *nx, unsigned from, uint8_t *out,
    size_t outcap, struct md_query_info *info, bool *done)
{
	const struct md_zone *main = NULL;
	const char *ns;
	uint8_t addr[16], sfx[MD_NAME_MAX];
	const uint8_t *apex;
	size_t nslen, apexlen, prefix;
	struct autopath ap;
	bool recurse = ctx->recursion && (q->hdr.flags & MD_FLAG_RD);

	*done = false;
	if (!client_addr(ctx->client, addr))
		return 0;
	/* The cluster domain's main zone, marked for autopath. */
	for (const uint8_t *p = q->qname; p != NULL && main == NULL;
	     p = md_name_parent(p)) {
		const struct md_zone *z = md_zone_set_find(ctx->zones, p);

		if (z == NULL)
			break;
		if (md_zone_autopath(z))
			main = z;
	}
	if (main == NULL || (ns = md_zone_client_ns(main, addr)) == NULL)
		return 0;
	/* q must be NAME.<ns>.svc.<zone>: the first expansion. */
	apex = md_zone_origin(main);
	apexlen = md_name_len(apex);
	nslen = strlen(ns);
	if (1 + nslen + 4 + apexlen > MD_NAME_MAX)
		return 0;
	sfx[0] = (uint8_t)nslen;
	memcpy(sfx + 1, ns, nslen);
	memcpy(sfx + 1 + nslen, "\003svc", 4);
	memcpy(sfx + 1 + nslen + 4, apex, apexlen);
	if (q->qname_len <= md_name_len(sfx) ||
	    !md_name_equal(q->qname + q->qname_len - md_name_len(sfx), sfx))
		return 0;
	prefix = q->qname_len - md_name_len(sfx);
	/* Is the split on a label boundary?  Walk the labels. */
	{
		size_t off = 0;

		while (off < prefix)
			off += 1 + (size_t)q->qname[off];
		if (off != prefix)
			return 0;
	}
	/* NAME.svc.<zone>, NAME.<zone>, NAME.<search>..., NAME */
	for (unsigned i = from; i < 3 + ctx->nsearch; i++) {
		const uint8_t *suffix;
		uint8_t svc[MD_NAME_MAX];
		size_t slen;

		if (i == 0) {
			if (4 + apexlen > MD_NAME_MAX)
				continue;
			memcpy(svc, "\003svc", 4);
			memcpy(svc + 4, apex, apexlen);
			suffix = svc;
		} else if (i == 1) {
			suffix = apex;
		} else if (i < 2 + ctx->nsearch) {
			suffix = ctx->search[i - 2];
		} else {
			suffix = (const uint8_t *)"";
		}
		slen = md_name_len(suffix);
		if (prefix + slen > MD_NAME_MAX)
			continue;
		memcpy(ap.name, q->qname, prefix);
		memcpy(ap.name + prefix, suffix, slen);
		ap_build(&ap, ctx->zones, q->qtype, ap_ttl(nx));
		switch (ap.found.status) {
		case MD_ZONE_NXDOMAIN:
			continue;
		case MD_ZONE_ANSWER:
		case MD_ZONE_NODATA:
			break;
		case MD_ZONE_CNAME_OUT:
		case MD_ZONE_NOT_LOCAL:
			if (!recurse) {
				if (ap.found.status == MD_ZONE_NOT_LOCAL)
					return 0;
				break; /* the local chain, as without */
			}
			{
				size_t len = chase_response(
				    ctx, q, tcp, &ap.res, out, outcap, info);

				/* The cache says the name does not exist:
				 * on to the next one. */
				if (len > 0 &&
				    ap.found.status == MD_ZONE_NOT_LOCAL &&
				    info->rcode == MD_RCODE_NXDOMAIN) {
					info->chase = false;
					info->from_cache = false;
					info->prefetch = false;
					info->truncated = false;
					continue;
				}
				info->autopath = true;
				info->autopath_index = i;
				memcpy(info->autopath_name, ap.name,
				    md_name_len(ap.name));
				*done = true;
				return len;
			}
		default:
			/* not ready, a loop, a delegation: the stub walks
			 * on by itself */
			return 0;
		}
		info->autopath = true;
		info->autopath_index = i;
		memcpy(info->autopath_name, ap.name, md_name_len(ap.name));
		info->status = ap.res.status;
		*done = true;
		return zone_response(ctx, q, tcp, &ap.res, out, outcap, info);
	}
	return 0;
}

size_t
md_query_process(const struct md_query_ctx *ctx, bool tcp, const uint8_t *in,
    size_t inlen, uint8_t *out, size_t outcap, struct md_query_info *info)
{
	struct md_wire_query *q = &info->q;
	struct md_zone_result res;
	uint32_t qh[MD_NAME_MAX / 2 + 2]; /* hashes of the name's suffixes */
	enum md_loop_verdict loop;

	memset(info, 0, offsetof(struct md_query_info, q));
	info->verdict = md_wire_read_query(in, inlen, q);
	info->qtype = q->qtype;
	switch (info->verdict) {
	case MD_QUERY_DROP:
		return 0;
	case MD_QUERY_FORMERR:
		/* Without the parsed OPT, answer plainly (RFC 6891 §7). */
		q->edns.present = false;
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_FORMERR, out, outcap, info);
	case MD_QUERY_NOTIMP:
		/* An opcode we do not know: RD and CD are the query's
		 * business, not echoed (as NSD; ISC's EDNS compliance test
		 * flags the echo). */
		q->hdr.flags &= (uint16_t) ~(MD_FLAG_RD | MD_FLAG_CD);
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_NOTIMP, out, outcap, info);
	case MD_QUERY_NOTAUTH:
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_NOTAUTH, out, outcap, info);
	case MD_QUERY_BADVERS:
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_BADVERS, out, outcap, info);
	case MD_QUERY_OK:
		break;
	}

	/* Only class IN is served; zone transfers are not offered. */
	if (q->qclass != MD_CLASS_IN || q->qtype == MD_TYPE_AXFR ||
	    q->qtype == MD_TYPE_IXFR)
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_REFUSED, out, outcap, info);
	if (q->qtype == MD_TYPE_MAILA || q->qtype == MD_TYPE_MAILB)
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_NOTIMP, out, outcap, info);

	/* loop-detect: our own probe back (a loop: answered at once, never
	 * forwarded again), or a name of a zone found to loop (SERVFAIL at
	 * once, not the forwarders' timeouts).  EDE 0, Other (RFC 8914
	 * §4.1), with the reason as text: no code says "loop".  Local
	 * zones answer first, as ever, for a name in one. */
	loop = md_loop_check(ctx->loop, ctx->resolve, q->qname, q->qtype);
	if (loop == MD_LOOP_PROBE) {
		info->status = MD_ZONE_NOT_LOCAL;
		return servfail_ede(ctx, q, MD_EDE_OTHER,
		    "forwarding loop probe", out, outcap, info);
	}

	/* 1. local zones (the name hashed once for zones and cache) */
	md_name_suffix_hashes(q->qname, qh);
	md_zone_lookup_h(ctx->zones, q->qname, qh, q->qtype, &res);
	info->status = res.status;
	if (res.status == MD_ZONE_NOT_READY)
		return not_ready_response(ctx, q, out, outcap, info);
	if (res.status == MD_ZONE_NXDOMAIN && ctx->client != NULL) {
		bool done;
		size_t len = autopath_walk(
		    ctx, q, tcp, &res, 0, out, outcap, info, &done);

		if (done)
			return len;
	}
	if (ctx->recursion && (q->hdr.flags & MD_FLAG_RD) &&
	    md_query_chain_target(&res) != NULL)
		return chase_response(ctx, q, tcp, &res, out, outcap, info);
	if (res.status != MD_ZONE_NOT_LOCAL)
		return zone_response(ctx, q, tcp, &res, out, outcap, info);

	/* Not ours: the cache and recursion, for clients allowed them. */
	if (!ctx->recursion) {
		info->refused_recursion = true;
		return error_response(q, ctx->edns_size, ctx->recursion,
		    MD_RCODE_REFUSED, out, outcap, info);
	}
	if (loop == MD_LOOP_ZONE)
		return servfail_ede(
		    ctx, q, MD_EDE_OTHER, "forwarding loop", out, outcap, info);

	/* 2. the cache */
	size_t len =
	    cache_response(ctx, q, qh[0], tcp, false, out, outcap, info, NULL);

	/* RD=0: the cache's answer or a referral, never a resolution (nor
	 * a prefetch). */
	if (!(q->hdr.flags & MD_FLAG_RD)) {
		info->prefetch = false;
		return len > 0
		    ? len
		    : referral_response(ctx, q, tcp, out, outcap, info);
	}

	if (len > 0)
		return len;
	/* 3. resolution: the caller starts it (or joins one in flight). */
	info->need_recursion = true;
	return 0;
}

size_t
md_query_respond(const struct md_query_ctx *ctx, const struct md_wire_query *q,
    bool tcp, const struct md_result *r, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	struct md_wire_writer w;
	uint16_t flags = base_flags(q, true) | (uint16_t)(r->rcode & 0xf);
	bool tc = false;
	struct md_zone_result chain;
	struct autopath ap;
	const struct md_zone_result *cp = NULL;

	memset(info, 0, offsetof(struct md_query_info, q));
	info->rcode = r->rcode;
	info->qtype = q->qtype;
	info->security = r->security;
	/* RFC 4035 §5.5: bogus data is SERVFAIL, but for a client that set
	 * CD (§3.2.2), who gets the data to check for itself */
	if (r->security == MD_SEC_BOGUS && !(q->hdr.flags & MD_FLAG_CD))
		return servfail_ede(ctx, q,
		    r->ede != MD_EDE_NONE ? r->ede : MD_EDE_DNSSEC_BOGUS,
		    r->reason != NULL ? r->reason : "DNSSEC validation failed",
		    out, outcap, info);
	/* r answers the target of q's local chain: the chain goes first
	 * (looked up again: a reload may have changed it meanwhile). */
	if (ctx->autopath != NULL) {
		/* the CNAME to the search-path name (and its local chain);
		 * a search-path name that turns out not to exist: the
		 * query's own NXDOMAIN */
		struct md_zone_result nx;

		md_zone_lookup(ctx->zones, q->qname, q->qtype, &nx);
		memcpy(ap.name, ctx->autopath, md_name_len(ctx->autopath));
		ap_build(&ap, ctx->zones, q->qtype, ap_ttl(&nx));
		if (ap.found.status == MD_ZONE_NOT_LOCAL &&
		    r->rcode == MD_RCODE_NXDOMAIN &&
		    nx.status == MD_ZONE_NXDOMAIN) {
			info->status = nx.status;
			info->autopath_resume = true;
			return zone_response(
			    ctx, q, tcp, &nx, out, outcap, info);
		}
		if (md_query_chain_target(&ap.res) != NULL)
			cp = &ap.res;
	} else if (ctx->chase) {
		md_zone_lookup(ctx->zones, q->qname, q->qtype, &chain);
		if (md_query_chain_target(&chain) != NULL)
			cp = &chain;
	}
	/* RFC 8767: when resolution fails, stale data beats SERVFAIL. */
	if (r->rcode == MD_RCODE_SERVFAIL && ctx->serve_stale) {
		size_t len = cache_response(ctx, q, md_name_hash(q->qname), tcp,
		    true, out, outcap, info, cp);

		if (len > 0)
			return len;
	}
	if (cp == NULL && r->rcode != MD_RCODE_SERVFAIL)
		flags |= ad_flag(q, r->security);
	md_wire_writer_init(&w, out, outcap);
	md_wire_writer_set_limit(
	    &w, answer_limit(q, ctx->edns_size, tcp), q->edns.present ? 11 : 0);
	md_wire_write_header(&w, q->hdr.id, flags);
	md_wire_write_question(&w, q->qname, q->qtype, q->qclass);
	if (cp != NULL)
		tc = write_chain(&w, q, cp) != 0;
	/* Clients see the TTLs the cache will keep (cache-min-ttl,
	 * cache-max-ttl, cache-max-negative-ttl), from the first answer. */
	for (const struct md_result_rrset *s = r->answer; s != NULL && !tc;
	     s = s->next) {
		/* RFC 4035 §3.2.1: DNSSEC records only when DO is set */
		if (s->dnssec && !q->edns.do_bit)
			continue;
		tc = write_set_rot(&w, MD_SECTION_ANSWER,
			 owner_for(q, s->owner), s->type,
			 md_ttl_clamp(s->ttl, ctx->min_ttl, ctx->max_ttl),
			 s->rdata, s->rdata_len, ctx->rotate) != 0;
	}
	for (const struct md_result_rrset *s = r->authority; s != NULL && !tc;
	     s = s->next) {
		if (s->dnssec && !q->edns.do_bit)
			continue;
		tc = write_set(&w, MD_SECTION_AUTHORITY, s->owner, s->type,
			 md_ttl_clamp(s->ttl, 0, ctx->max_negative_ttl),
			 s->rdata, s->rdata_len) != 0;
	}
	/* An upstream cut its TCP answer: a part, and the client is told
	 * (as the upstream told us). */
	if (tc || r->truncated) {
		md_wire_writer_set_flags(&w, flags | MD_FLAG_TC);
		info->truncated = true;
	}
	if (q->edns.present) {
		if (r->ede != MD_EDE_NONE)
			md_wire_write_opt_ede(&w, ctx->edns_size, 0,
			    q->edns.do_bit, r->ede, r->reason);
		else
			md_wire_write_opt(
			    &w, ctx->edns_size, 0, 0, q->edns.do_bit);
	}
	return md_wire_writer_finish(&w);
}

size_t
md_query_autopath_resume(const struct md_query_ctx *ctx,
    const struct md_wire_query *q, bool tcp, unsigned from, uint8_t *out,
    size_t outcap, struct md_query_info *info)
{
	struct md_zone_result nx;
	bool done = false;
	size_t len;

	memset(info, 0, offsetof(struct md_query_info, q));
	info->q = *q;
	info->qtype = q->qtype;
	info->verdict = MD_QUERY_OK;
	md_zone_lookup(ctx->zones, q->qname, q->qtype, &nx);
	info->status = nx.status;
	if (nx.status == MD_ZONE_NXDOMAIN) {
		len = autopath_walk(
		    ctx, q, tcp, &nx, from, out, outcap, info, &done);
		if (done)
			return len;
	}
	if (nx.status == MD_ZONE_NOT_READY)
		return not_ready_response(ctx, q, out, outcap, info);
	/* (a reload may have changed the name meanwhile: as it is now) */
	return zone_response(ctx, q, tcp, &nx, out, outcap, info);
}

size_t
md_query_answer(const struct md_zone_set *zones, uint16_t edns_size, bool tcp,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    struct md_query_info *info)
{
	struct md_query_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.zones = zones;
	ctx.edns_size = edns_size;
	return md_query_process(&ctx, tcp, in, inlen, out, outcap, info);
}
