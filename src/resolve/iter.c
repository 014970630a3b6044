/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iter.c - the iterator: one explicit state machine per client query,
 * walking from the root hints (or the closest delegation the cache knows)
 * down to the authoritative servers.  No I/O: md_resolve_step() says what
 * to send where, md_resolve_reply()/md_resolve_fail() feed the outcome
 * back.
 *
 * A request is a stack of queries: the client's, and on top of it at most
 * a few sub-queries for the addresses of NS names that came without glue.
 * Only the top one runs.  Each query moves through:
 *
 *   INIT           answer from the cache, or find the closest delegation
 *   QUERY_TARGETS  pick a server (smoothed RTT, with exploration) and send;
 *                  or start a sub-query for an NS address; or give up
 *   WAIT_REPLY     a query is out: a reply, a timeout or an error comes
 *   WAIT_SUBQUERY  a sub-query for an NS address is on top of this one
 *   DONE           finished (an answer, a negative answer, or a failure)
 *
 * Every limit is checked here, in one place, and every transition emits a
 * trace event.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/cache.h"
#include "resolve-internal.h"

#define RTT_BAND_MS 400	     /* servers this close to the best are equals */
#define MAX_ATTEMPTS 2	     /* tries per server address per zone cut */
#define MAX_STEPS 4096	     /* internal transitions per request, a backstop */
#define MINIMISE_MAX 10	     /* RFC 9156 §2.3: then add labels faster */
#define RTO_PENALTY 200	     /* per earlier try of a server at this cut */
#define SUBQUERY_SENDS_MAX 8 /* upstream queries of one NS address look-up */
/* Earlier queries outlive the time left by this much, so the question
 * ends at its budget by the latest query's own timeout (one trace for
 * every run), never by an earlier one closing at the same instant. */
#define OPEN_GRACE_MS 100

const char *
md_forward_policy_str(enum md_forward_policy p)
{
	switch (p) {
	case MD_FORWARD_RTT:
		return "rtt";
	case MD_FORWARD_SEQUENTIAL:
		return "sequential";
	case MD_FORWARD_RANDOM:
		return "random";
	}
	return "?";
}

const char *
md_trace_kind_str(enum md_trace_kind k)
{
	static const char *const names[] = {
	    [MD_TRACE_START] = "start",
	    [MD_TRACE_CACHE_HIT] = "cache-hit",
	    [MD_TRACE_DELEGATION] = "delegation",
	    [MD_TRACE_SERVER] = "server",
	    [MD_TRACE_SEND] = "send",
	    [MD_TRACE_REPLY] = "reply",
	    [MD_TRACE_TIMEOUT] = "timeout",
	    [MD_TRACE_NET_ERROR] = "net-error",
	    [MD_TRACE_TCP_RETRY] = "tcp-retry",
	    [MD_TRACE_EDNS_FALLBACK] = "edns-fallback",
	    [MD_TRACE_REFERRAL] = "referral",
	    [MD_TRACE_CNAME] = "cname",
	    [MD_TRACE_SUBQUERY] = "subquery",
	    [MD_TRACE_DONE] = "done",
	    [MD_TRACE_FAIL] = "fail",
	    [MD_TRACE_QMIN_FALLBACK] = "qmin-fallback",
	    [MD_TRACE_VALIDATE] = "validate",
	};

	if ((unsigned)k >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[k];
}

static uint64_t
now(const struct md_request *req)
{
	if (req->env->now_ms != NULL)
		return req->env->now_ms(req->env->clock_arg);
	return md_now_ms();
}

/* ---- trace ------------------------------------------------------------- */

static bool
tracing(const struct md_request *req)
{
	return req->trace_cb != NULL;
}

/* A new event for iq, filled with what every event says. */
static void
ev_init(struct md_request *req, const struct iq *iq, enum md_trace_kind kind,
    struct md_trace_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->time_ms = now(req) - req->start_ms;
	ev->depth = iq->depth;
	memcpy(ev->qname, iq->qname, md_name_len(iq->qname));
	ev->qtype = iq->qtype;
	if (iq->dp != NULL)
		memcpy(ev->zone, iq->dp->zone, md_name_len(iq->dp->zone));
	else
		ev->zone[0] = 0;
	ev->rcode = -1;
}

/* Keep the event with the request and tell the listener. */
static void
ev_emit(struct md_request *req, const struct md_trace_event *ev)
{
	struct md_trace_event *copy;

	copy = md_arena_memdup(&req->arena, ev, sizeof(*ev));
	if (copy == NULL)
		return;
	copy->next = NULL;
	copy->pkt = NULL; /* the reply is not kept */
	copy->pkt_len = 0;
	if (req->trace_tail == NULL)
		req->trace = copy;
	else
		req->trace_tail->next = copy;
	req->trace_tail = copy;
	req->trace_cb(req->trace_arg, ev);
}

/* A short event: kind and a reason. */
static void
trace_simple(struct md_request *req, const struct iq *iq,
    enum md_trace_kind kind, const char *why)
{
	struct md_trace_event ev;

	if (!tracing(req))
		return;
	ev_init(req, iq, kind, &ev);
	ev.why = why;
	ev_emit(req, &ev);
}

/* Text made for an event, kept as long as the request (md_req_why(),
 * below, shared with val.c). */
#define why_fmt md_req_why

/* ---- services for the validator (val.c) -------------------------------- */

uint64_t
md_req_now(const struct md_request *req)
{
	return now(req);
}

bool
md_req_tracing(const struct md_request *req)
{
	return tracing(req);
}

void
md_req_ev_init(struct md_request *req, const struct iq *iq,
    enum md_trace_kind kind, struct md_trace_event *ev)
{
	ev_init(req, iq, kind, ev);
}

void
md_req_ev_emit(struct md_request *req, const struct md_trace_event *ev)
{
	ev_emit(req, ev);
}

const char *
md_req_why(struct md_request *req, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return md_arena_strdup(&req->arena, buf);
}

/* ---- results ----------------------------------------------------------- */

static struct md_result_rrset *
copy_set(struct md_request *req, const uint8_t *owner, uint16_t type,
    uint16_t count, uint32_t ttl, const uint8_t *rdata, uint32_t rdata_len)
{
	struct md_result_rrset *r = md_arena_alloc(&req->arena, sizeof(*r));

	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	memcpy(r->owner, owner, md_name_len(owner));
	r->type = type;
	r->count = count;
	r->ttl = ttl;
	r->rdata_len = rdata_len;
	r->rdata = md_arena_memdup(&req->arena, rdata, rdata_len);
	return r->rdata != NULL ? r : NULL;
}

/* The RRSIGs of an RRSIG set (rdata as [u16 len][rdata]...) that cover
 * 'covered', into req's arena; *count of them (0: none, NULL back). */
static uint8_t *
sigs_covering(struct md_request *req, const uint8_t *rdata, uint32_t len,
    uint16_t covered, uint32_t *out_len, uint16_t *count)
{
	uint8_t *out = NULL;
	uint32_t n = 0;

	*count = 0;
	for (uint32_t off = 0; off + 2 <= len;) {
		uint16_t rl = md_read_u16(rdata + off);

		if (off + 2 + rl > len)
			break;
		if (rl >= 18 && md_read_u16(rdata + off + 2) == covered) {
			if (out == NULL &&
			    (out = md_arena_alloc(&req->arena, len)) == NULL)
				return NULL;
			memcpy(out + n, rdata + off, 2 + (size_t)rl);
			n += 2 + (uint32_t)rl;
			(*count)++;
		}
		off += 2 + (uint32_t)rl;
	}
	*out_len = n;
	return out;
}

static void
add_answer(struct md_request *req, struct iq *iq, struct md_result_rrset *r)
{
	if (r == NULL)
		return;
	if (iq->answer_tail == NULL)
		iq->answer = r;
	else
		iq->answer_tail->next = r;
	iq->answer_tail = r;
}

/* ---- ending ------------------------------------------------------------ */

static void
iq_done(struct md_request *req, struct iq *iq, int rcode)
{
	struct md_trace_event ev;

	iq->rcode = rcode;
	iq->state = IQ_DONE;
	if (tracing(req)) {
		ev_init(req, iq, MD_TRACE_DONE, &ev);
		ev.rcode = rcode;
		ev_emit(req, &ev);
	}
}

/* The whole request fails: SERVFAIL with an EDE code and the reason. */
static void
fail_request(
    struct md_request *req, struct iq *iq, uint16_t ede, const char *reason)
{
	const struct iq *root = req->root;

	req->result.rcode = MD_RCODE_SERVFAIL;
	req->result.ede = ede;
	req->result.reason = reason;
	req->result.answer = NULL;
	req->result.authority = NULL;
	req->done = true;
	trace_simple(req, iq, MD_TRACE_FAIL, reason);
	md_debug(MD_LOG_MAIN, "resolution failed: %s", reason);
	/* RFC 9520 §3: the same question fails at once for a while rather
	 * than costing the servers a resolution per client retry.  Under
	 * the name where it failed (after any CNAME), so the chain's
	 * cached part still answers. */
	if (req->env->cache != NULL && !req->cached_failure &&
	    !(req->flags & MD_RESOLVE_NO_CACHE) &&
	    req->env->conf->servfail_ttl > 0 && root->qname[0] != 0)
		md_cache_put_failure(req->env->cache, root->qname, root->qtype,
		    req->env->conf->servfail_ttl, ede, now(req));
}

/* This query fails: the request if it is the client's, else the parent
 * carries on without what the sub-query was for. */
static void
fail_iq(struct md_request *req, struct iq *iq, uint16_t ede, const char *reason)
{
	if (iq->parent == NULL) {
		fail_request(req, iq, ede, reason);
		return;
	}
	trace_simple(req, iq, MD_TRACE_FAIL, reason);
	iq->failed = true;
	iq_done(req, iq, MD_RCODE_SERVFAIL);
}

/* ---- requests ---------------------------------------------------------- */

static struct iq *
iq_new(struct md_request *req, struct iq *parent, const uint8_t *qname,
    uint16_t qtype)
{
	struct iq *iq = md_arena_alloc(&req->arena, sizeof(*iq));

	if (iq == NULL)
		return NULL;
	memset(iq, 0, sizeof(*iq));
	iq->parent = parent;
	iq->depth = parent != NULL ? parent->depth + 1 : 0;
	memcpy(iq->qname, qname, md_name_len(qname));
	iq->qtype = qtype;
	iq->state = IQ_INIT;
	return iq;
}

struct md_request *
md_resolve_new(const struct md_resolve_env *env, const uint8_t *qname,
    uint16_t qtype, unsigned flags)
{
	struct md_request *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	md_arena_init(&req->arena, 8192);
	md_arena_init(&req->scratch, 16384);
	req->env = env;
	req->flags = flags;
	req->start_ms = now(req);
	req->next_token = 1;
	req->result.ede = MD_EDE_NONE;
	req->root = iq_new(req, NULL, qname, qtype);
	if (req->root == NULL || md_name_len(qname) == 0) {
		md_resolve_free(req);
		return NULL;
	}
	req->top = req->root;
	return req;
}

void
md_resolve_free(struct md_request *req)
{
	if (req == NULL)
		return;
	md_arena_deinit(&req->scratch);
	md_arena_deinit(&req->arena);
	free(req);
}

void
md_resolve_set_trace(struct md_request *req, md_trace_cb cb, void *arg)
{
	req->trace_cb = cb;
	req->trace_arg = arg;
	if (cb != NULL && req->trace == NULL)
		trace_simple(req, req->root, MD_TRACE_START, NULL);
}

const struct md_result *
md_resolve_result(const struct md_request *req)
{
	return &req->result;
}

const struct md_trace_event *
md_resolve_trace(const struct md_request *req)
{
	return req->trace;
}

/* ---- INIT: the cache, and the closest delegation ----------------------- */

/* Remember a name of iq's CNAME chain; true if it was there already. */
static bool
seen_before(struct md_request *req, struct iq *iq, const uint8_t *name)
{
	struct seen_name *s;

	for (s = iq->seen; s != NULL; s = s->next) {
		if (md_name_equal(s->name, name))
			return true;
	}
	s = md_arena_alloc(&req->arena, sizeof(*s));
	if (s != NULL) {
		memcpy(s->name, name, md_name_len(name));
		s->next = iq->seen;
		iq->seen = s;
	}
	return false;
}

/*
 * Go on at a CNAME target.  Returns false (and fails iq) on a loop or a
 * chain longer than allowed.
 */
static bool
follow_cname(struct md_request *req, struct iq *iq, const uint8_t *target,
    unsigned links)
{
	const struct md_resolve_conf *conf = req->env->conf;

	/* The name we leave is part of the chain too: without it, a loop
	 * back to the first name (iq->qname is overwritten below) went
	 * round once more before it was seen. */
	(void)seen_before(req, iq, iq->qname);
	if (seen_before(req, iq, target)) {
		fail_iq(req, iq, MD_EDE_OTHER, "CNAME loop");
		return false;
	}
	/* Count every CNAME of the chain, also those that came together
	 * in one reply. */
	iq->cnames += links;
	if (iq->cnames > conf->max_cname) {
		fail_iq(req, iq, MD_EDE_OTHER,
		    why_fmt(
			req, "CNAME chain longer than %u", conf->max_cname));
		return false;
	}
	memcpy(iq->qname, target, md_name_len(target));
	iq->dp = NULL;
	iq->state = IQ_INIT;
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_CNAME, &ev);
		ev.why = "restarting at the CNAME target";
		ev_emit(req, &ev);
	}
	return true;
}

static void sigs_from_cache(struct md_request *req, struct iq *iq,
    const uint8_t *owner, uint16_t type, uint64_t t);

/* A cached RRset into the answer, with its trust and security. */
static struct md_result_rrset *
cached_set(struct md_request *req, const struct md_cache_view *v)
{
	struct md_result_rrset *r = copy_set(
	    req, v->owner, v->type, v->count, v->ttl, v->rdata, v->rdata_len);

	if (r != NULL) {
		r->trust = v->trust;
		r->security = v->security;
		r->ede = v->ede;
	}
	return r;
}
static void proof_from_cache(struct md_request *req, struct iq *iq,
    const uint8_t *name, uint16_t key_type, uint64_t t);

/*
 * A DNAME cached at an ancestor of iq->qname (RFC 6672): the DNAME and the
 * CNAME it makes go into the answer and iq goes on at the new name.  True
 * when one applied (iq may have ended: YXDOMAIN, or a CNAME loop).
 */
static bool
dname_from_cache(struct md_request *req, struct iq *iq, uint64_t t)
{
	uint8_t buf[1024];
	struct md_cache_view v;

	for (const uint8_t *z = md_name_parent(iq->qname); z != NULL && z[0];
	     z = md_name_parent(z)) {
		uint8_t next[MD_NAME_MAX], rd[2 + MD_NAME_MAX];

		if (md_cache_get(req->env->cache, z, MD_TYPE_DNAME, t, false,
			buf, sizeof(buf), &v) != 0 ||
		    v.kind != MD_CACHE_RRSET || v.count != 1 ||
		    !md_trust_answerable(v.trust) ||
		    md_name_len(v.rdata + 2) != md_read_u16(v.rdata))
			continue;
		add_answer(req, iq, cached_set(req, &v));
		sigs_from_cache(req, iq, z, MD_TYPE_DNAME, t);
		trace_simple(req, iq, MD_TRACE_CACHE_HIT, "DNAME");
		if (!md_name_dname_subst(iq->qname, z, v.rdata + 2, next)) {
			iq_done(req, iq, MD_RCODE_YXDOMAIN);
			return true;
		}
		/* The CNAME the DNAME stands for, with its TTL (§3.1). */
		md_write_u16(rd, (uint16_t)md_name_len(next));
		memcpy(rd + 2, next, md_name_len(next));
		add_answer(req, iq,
		    copy_set(req, iq->qname, MD_TYPE_CNAME, 1, v.ttl, rd,
			2 + (uint32_t)md_name_len(next)));
		follow_cname(req, iq, next, 1);
		return true;
	}
	return false;
}

/* Answer from the cache if it can; true when iq is finished. */
static bool
from_cache(struct md_request *req, struct iq *iq)
{
	uint8_t buf[8192];
	struct md_cache_view v;
	uint64_t t = now(req);

	if (req->env->cache == NULL || (req->flags & MD_RESOLVE_NO_CACHE))
		return false;
	/* A prefetch refreshes the client's question itself. */
	if ((req->flags & MD_RESOLVE_PREFETCH) && iq == req->root &&
	    iq->cnames == 0)
		return false;
	for (;;) {
		int rc = md_cache_get(req->env->cache, iq->qname, iq->qtype, t,
		    false, buf, sizeof(buf), &v);

		/* Glue and a referral's NS set are for finding servers,
		 * never an answer (RFC 2181 §5.4.1): ask the zone. */
		if (rc == 0 && v.kind == MD_CACHE_RRSET &&
		    !md_trust_answerable(v.trust))
			return false;
		if (rc == 0 && v.kind == MD_CACHE_RRSET) {
			add_answer(req, iq, cached_set(req, &v));
			sigs_from_cache(req, iq, iq->qname, iq->qtype, t);
			/* a wildcard answer's proof (RFC 4035 §3.1.3.3) */
			proof_from_cache(req, iq, iq->qname, iq->qtype, t);
			trace_simple(req, iq, MD_TRACE_CACHE_HIT, "answer");
			iq_done(req, iq, MD_RCODE_NOERROR);
			return true;
		}
		if (rc == 0 && v.kind == MD_CACHE_SERVFAIL &&
		    (req->flags & MD_RESOLVE_RETRY_FAILED))
			return false;
		if (rc == 0 && v.kind == MD_CACHE_SERVFAIL) {
			/* RFC 9520: it failed moments ago; fail again at
			 * once rather than ask the same servers again. */
			trace_simple(req, iq, MD_TRACE_CACHE_HIT, "failure");
			req->cached_failure |= iq->parent == NULL;
			fail_iq(req, iq,
			    v.ede != MD_EDE_NONE ? v.ede : MD_EDE_OTHER,
			    why_fmt(req,
				"resolving it failed less than %u s ago "
				"(servfail-ttl)",
				req->env->conf->servfail_ttl));
			return true;
		}
		if (rc == 0) {
			if (v.soa_owner != NULL && v.soa_rdata != NULL) {
				uint8_t one[2 + 512];

				if (v.soa_rdlen <= 512) {
					md_write_u16(one, v.soa_rdlen);
					memcpy(
					    one + 2, v.soa_rdata, v.soa_rdlen);
					iq->authority = copy_set(req,
					    v.soa_owner, MD_TYPE_SOA, 1, v.ttl,
					    one, 2 + (uint32_t)v.soa_rdlen);
				}
			}
			proof_from_cache(req, iq, iq->qname,
			    v.kind == MD_CACHE_NXDOMAIN ? 0 : iq->qtype, t);
			iq->neg_security = v.security;
			iq->neg_ede = v.ede;
			trace_simple(req, iq, MD_TRACE_CACHE_HIT,
			    v.kind == MD_CACHE_NXDOMAIN ? "NXDOMAIN"
							: "NODATA");
			iq_done(req, iq,
			    v.kind == MD_CACHE_NXDOMAIN ? MD_RCODE_NXDOMAIN
							: MD_RCODE_NOERROR);
			return true;
		}
		if (iq->qtype == MD_TYPE_CNAME)
			return false;
		rc = md_cache_get(req->env->cache, iq->qname, MD_TYPE_CNAME, t,
		    false, buf, sizeof(buf), &v);
		if (rc != 0 || v.kind != MD_CACHE_RRSET || v.count != 1 ||
		    !md_trust_answerable(v.trust)) {
			if (iq->qtype == MD_TYPE_DNAME ||
			    !dname_from_cache(req, iq, t))
				return false;
			if (iq->state != IQ_INIT || req->done)
				return true; /* ended: YXDOMAIN or a loop */
			continue;
		}
		const uint8_t *target = v.rdata + 2;

		if (md_name_len(target) != md_read_u16(v.rdata))
			return false;
		add_answer(req, iq, cached_set(req, &v));
		sigs_from_cache(req, iq, iq->qname, MD_TYPE_CNAME, t);
		trace_simple(req, iq, MD_TRACE_CACHE_HIT, "CNAME");
		uint8_t next[MD_NAME_MAX];

		memcpy(next, target, md_name_len(target));
		if (!follow_cname(req, iq, next, 1))
			return true;
	}
}

/* A delegation point from hints. */
static struct delegpt *
dp_from_hints(struct md_request *req)
{
	const struct md_resolve_conf *conf = req->env->conf;
	uint8_t root = 0;
	struct delegpt *dp = md_dp_new(&req->arena, &root);

	if (dp == NULL)
		return NULL;
	dp->from_hints = true;
	for (size_t i = 0; i < conf->nhints; i++) {
		struct dp_ns *ns =
		    md_dp_add_ns(&req->arena, dp, conf->hints[i].name);

		if (ns == NULL)
			continue;
		ns->looked_up = true; /* hints are all we have for these */
		/* The operator's own addresses: no private-address filter,
		 * which is for addresses learned from the network. */
		md_dp_add_addr(&req->arena, dp, &conf->hints[i].addr, ns);
	}
	return dp;
}

/* Addresses of an NS name from the cache into dp. */
static void
dp_addrs_from_cache(
    struct md_request *req, struct delegpt *dp, struct dp_ns *ns)
{
	static const uint16_t types[] = {MD_TYPE_A, MD_TYPE_AAAA};
	uint8_t buf[4096];
	struct md_cache_view v;

	for (size_t i = 0; i < 2; i++) {
		if (md_cache_get(req->env->cache, ns->name, types[i], now(req),
			false, buf, sizeof(buf), &v) == 0 &&
		    v.kind == MD_CACHE_RRSET)
			md_dp_add_rdata(&req->arena, dp, ns, types[i], v.rdata,
			    v.rdata_len, req->env->conf->allow_private, false);
	}
	/* The parent's glue, where the child's answer replaced it: a
	 * fallback when the child's own address does not work. */
	for (size_t i = 0; i < 2; i++) {
		if (md_cache_get_parent(req->env->cache, ns->name, types[i],
			now(req), buf, sizeof(buf), &v) == 0)
			md_dp_add_rdata(&req->arena, dp, ns, types[i], v.rdata,
			    v.rdata_len, req->env->conf->allow_private, true);
	}
}

/* The closest enclosing zone cut whose NS set the cache holds. */
static struct delegpt *
dp_from_cache(struct md_request *req, const struct iq *iq)
{
	const uint8_t *z = iq->qname;
	uint8_t buf[8192];
	struct md_cache_view v;

	if (req->env->cache == NULL || (req->flags & MD_RESOLVE_NO_CACHE))
		return NULL;
	/* DS is answered by the parent side of a cut (RFC 4035 §3.1.4.1). */
	if (iq->qtype == MD_TYPE_DS && z[0] != 0)
		z = md_name_parent(z);
	for (; z != NULL; z = md_name_parent(z)) {
		if (md_cache_get(req->env->cache, z, MD_TYPE_NS, now(req),
			false, buf, sizeof(buf), &v) != 0 ||
		    v.kind != MD_CACHE_RRSET)
			continue;
		struct delegpt *dp = md_dp_new(&req->arena, z);
		bool resolvable = false;

		if (dp == NULL)
			return NULL;
		for (uint32_t off = 0; off + 2 <= v.rdata_len;) {
			uint16_t len = md_read_u16(v.rdata + off);
			const uint8_t *name = v.rdata + off + 2;

			off += 2 + (uint32_t)len;
			if (off > v.rdata_len || md_name_len(name) != len)
				break;
			struct dp_ns *ns = md_dp_add_ns(&req->arena, dp, name);

			if (ns == NULL && dp->nns >= MD_DP_NS_MAX)
				break;
			if (ns == NULL)
				continue;
			dp_addrs_from_cache(req, dp, ns);
			/* A name inside the zone itself can only be found
			 * through the zone: useless without glue. */
			if (!md_name_is_subdomain(name, z))
				resolvable = true;
		}
		if (dp->naddrs > 0 || resolvable)
			return dp;
	}
	return NULL;
}

/* The forward zone for name: the longest one that encloses it. */
const struct md_forward_zone *
md_resolve_find_forward(const struct md_resolve_conf *conf, const uint8_t *name)
{
	const struct md_forward_zone *best = NULL;

	for (size_t i = 0; i < conf->nforward; i++) {
		const struct md_forward_zone *f = &conf->forward[i];

		if (md_name_is_subdomain(name, f->zone) &&
		    (best == NULL ||
			md_name_labels(f->zone) > md_name_labels(best->zone)))
			best = f;
	}
	return best;
}

/* A delegation point whose servers are the forwarders of fz. */
static struct delegpt *
dp_from_forward(struct md_request *req, const struct md_forward_zone *fz)
{
	struct delegpt *dp = md_dp_new(&req->arena, fz->zone);

	if (dp == NULL)
		return NULL;
	dp->fwd = fz;
	for (size_t i = 0; i < fz->nservers; i++) {
		struct dp_addr *a =
		    md_dp_add_addr(&req->arena, dp, &fz->servers[i].addr, NULL);

		if (a != NULL)
			a->up = &fz->servers[i];
	}
	return dp;
}

static void
handle_init(struct md_request *req, struct iq *iq)
{
	const struct md_resolve_conf *conf = req->env->conf;
	const struct md_forward_zone *fz;

	if (from_cache(req, iq))
		return;
	if (iq->state != IQ_INIT)
		return; /* failed in a CNAME loop from the cache */
	/* RFC 8198: a denial the validated NSEC records prove already */
	if (iq->parent == NULL && md_val_aggressive(req, iq))
		return;
	/* A forward zone takes the name away from iteration. */
	fz = md_resolve_find_forward(conf, iq->qname);
	if (fz != NULL) {
		iq->dp = dp_from_forward(req, fz);
		if (iq->dp == NULL) {
			fail_request(req, iq, MD_EDE_OTHER, "out of memory");
			return;
		}
		iq->minimise = false;
		iq->retry_same = false;
		if (tracing(req)) {
			struct md_trace_event ev;

			ev_init(req, iq, MD_TRACE_DELEGATION, &ev);
			ev.why = why_fmt(req,
			    "forward zone (%zu upstreams, %s)", fz->nservers,
			    md_forward_policy_str(fz->policy));
			ev_emit(req, &ev);
		}
		iq->state = IQ_QUERY_TARGETS;
		return;
	}
	iq->dp = dp_from_cache(req, iq);
	if (iq->dp == NULL)
		iq->dp = dp_from_hints(req);
	if (iq->dp == NULL) {
		fail_request(req, iq, MD_EDE_OTHER, "out of memory");
		return;
	}
	iq->minimise = conf->qname_minimisation && iq->qtype != MD_TYPE_DS;
	iq->min_labels = md_name_labels(iq->dp->zone);
	iq->retry_same = false;
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_DELEGATION, &ev);
		ev.why =
		    iq->dp->from_hints ? "root hints" : "cached delegation";
		ev_emit(req, &ev);
	}
	iq->state = IQ_QUERY_TARGETS;
}

/* ---- QUERY_TARGETS: choose a server and send --------------------------- */

/*
 * The name and type to send for iq (RFC 9156).  iq->min_labels is the
 * length of the minimised name to ask: it grows only when a server
 * answered the shorter name (md_resolve_reply()), so a retry after a
 * timeout, TC or an EDNS fallback asks the same name again.
 */
static void
choose_qname(struct md_request *req, struct iq *iq)
{
	unsigned labels = md_name_labels(iq->qname);
	unsigned zl = md_name_labels(iq->dp->zone);
	const uint8_t *n = iq->qname;
	unsigned want;

	(void)req;
	want = iq->min_labels > zl ? iq->min_labels : zl + 1;
	/* §2.3: past MINIMISE_MAX labels, do not walk one by one. */
	if (labels - zl > MINIMISE_MAX && want < labels - MINIMISE_MAX)
		want = labels - MINIMISE_MAX;
	if (!iq->minimise || want >= labels) {
		iq->minimise = false;
		memcpy(iq->sent_qname, iq->qname, md_name_len(iq->qname));
		iq->sent_qtype = iq->qtype;
		return;
	}
	for (unsigned i = 0; i < labels - want; i++)
		n = md_name_parent(n);
	memcpy(iq->sent_qname, n, md_name_len(n));
	iq->sent_qtype = MD_TYPE_A; /* RFC 9156 §3 */
	iq->min_labels = want;
}

static void
randomise_case(struct md_request *req, uint8_t *name)
{
	uint8_t bits[MD_NAME_MAX / 8 + 1];
	size_t i = 0;

	md_rng_bytes(req->env->rng, bits, sizeof(bits));
	while (*name != 0) {
		uint8_t n = *name;

		for (unsigned j = 1; j <= n; j++, i++) {
			uint8_t c = name[j] | 0x20;

			if (c >= 'a' && c <= 'z')
				name[j] =
				    (bits[(i / 8) % sizeof(bits)] >> (i % 8)) &
					1
				    ? (uint8_t)(c - 32)
				    : c;
		}
		name += 1 + n;
	}
}

/*
 * Relaxed QNAME minimisation (RFC 9156 §2.3, Unbound's default): the
 * minimised name failed, so ask the full name, of the same server when
 * same_server.  False (nothing done) when not minimising, or in strict
 * mode.
 */
static bool
qmin_fallback(
    struct md_request *req, struct iq *iq, bool same_server, const char *why)
{
	if (!iq->minimise || req->env->conf->qname_minimisation_strict)
		return false;
	iq->minimise = false;
	iq->qmin_fell_back = true;
	iq->retry_same = same_server && iq->target != NULL;
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_QMIN_FALLBACK, &ev);
		ev.why = why_fmt(req, "%s: asking the full name%s",
		    why != NULL ? why : "minimised query failed",
		    same_server ? "" : " of every server");
		ev_emit(req, &ev);
	}
	return true;
}

/* Was any server of iq's delegation asked (or found wanting) here? */
static bool
asked_here(const struct iq *iq)
{
	for (const struct dp_addr *a = iq->dp->addrs; a != NULL; a = a->next) {
		if (a->attempts > 0 || a->failed)
			return true;
	}
	return false;
}

/* Pick a server of the delegation; NULL when none is left to try. */
static struct dp_addr *
pick_server(struct md_request *req, struct iq *iq, const char **why)
{
	struct dp_addr *cand[64];
	uint32_t rtt[64];
	unsigned n = 0;
	uint32_t best = UINT32_MAX;
	struct md_infra_info info;
	unsigned held = 0;

	for (struct dp_addr *a = iq->dp->addrs; a != NULL && n < 64;
	     a = a->next) {
		if (a->failed || a->attempts >= MAX_ATTEMPTS)
			continue;
		md_infra_get(req->env->infra, &a->addr, iq->dp->zone, now(req),
		    req->env->conf->upstream_timeout_ms, &info);
		/* Dead or lame servers sit out their hold-down: asking them
		 * would only make this client wait (Unbound does the same
		 * with its infra cache). */
		if ((info.dead || info.lame) &&
		    !(req->flags & MD_RESOLVE_ASK_HELD)) {
			held++;
			continue;
		}
		/* A server already tried here waits behind untried ones. */
		/* Rank by the retransmission timeout, as Unbound does: it
		 * grows with the smoothed RTT and doubles on every timeout,
		 * so a server that stopped answering falls behind. */
		rtt[n] = info.rto_ms + a->attempts * RTO_PENALTY;
		cand[n++] = a;
		if (rtt[n - 1] < best)
			best = rtt[n - 1];
	}
	/* The parent's glue waits until the child's own addresses have
	 * failed (Unbound and Knot Resolver fall back the same way). */
	unsigned own = 0;

	for (unsigned i = 0; i < n; i++)
		own += !cand[i]->parent_side;
	if (own > 0 && own < n) {
		unsigned k = 0;

		best = UINT32_MAX;
		for (unsigned i = 0; i < n; i++) {
			if (cand[i]->parent_side)
				continue;
			rtt[k] = rtt[i];
			cand[k++] = cand[i];
			if (rtt[k - 1] < best)
				best = rtt[k - 1];
		}
		n = k;
	} else if (n > 0 && own == 0) {
		bool fallback = false;

		for (struct dp_addr *a = iq->dp->addrs; a != NULL; a = a->next)
			fallback |= !a->parent_side;
		if (fallback)
			*why = "the child's own address failed: the parent's "
			       "glue address";
	}
	/* Forwarders all held down: ask them anyway (they are all there
	 * is), the order of the policy still applies. */
	if (n == 0 && held > 0 && iq->dp->fwd != NULL) {
		for (struct dp_addr *a = iq->dp->addrs; a != NULL && n < 64;
		     a = a->next) {
			if (a->failed || a->attempts >= MAX_ATTEMPTS)
				continue;
			rtt[n] = a->attempts * RTO_PENALTY;
			cand[n++] = a;
			if (rtt[n - 1] < best)
				best = rtt[n - 1];
		}
		if (n > 0)
			*why = "every forwarder is held down: probing";
	}
	if (n > 0 && iq->dp->fwd != NULL &&
	    iq->dp->fwd->policy == MD_FORWARD_SEQUENTIAL) {
		if (*why == NULL)
			*why = "the first healthy forwarder in order";
		return cand[0];
	}
	if (n > 0 && iq->dp->fwd != NULL &&
	    iq->dp->fwd->policy == MD_FORWARD_RANDOM) {
		if (*why == NULL)
			*why = "a random healthy forwarder";
		return cand[md_rng_uniform(req->env->rng, n)];
	}
	if (n == 0) {
		if (held > 0) {
			req->net_trouble = true;
			*why = "every server left is held down (dead or lame)";
		}
		return NULL;
	}
	/* Like Unbound: every server within RTT_BAND_MS of the best is as
	 * good, and the choice among them is random, which also explores
	 * servers we know little about. */
	unsigned band = 0;

	for (unsigned i = 0; i < n; i++) {
		if (rtt[i] <= best + RTT_BAND_MS)
			cand[band++] = cand[i];
	}
	if (*why == NULL)
		*why = band == 1
		    ? "lowest smoothed RTT"
		    : "random among servers within 400 ms of the best RTT";
	return cand[md_rng_uniform(req->env->rng, band)];
}

/*
 * The first NS name still without addresses, or NULL.  A name inside the
 * zone itself is skipped: only the zone's own servers can give its
 * address, and we are here because none of them is left to ask (a
 * delegation to in-zone names without glue is circular; looking them up
 * would only ask the parent for the same referral again and again).
 */
static struct dp_ns *
unresolved_ns(struct iq *iq)
{
	for (struct dp_ns *ns = iq->dp->ns; ns != NULL; ns = ns->next) {
		bool has = false;

		if (ns->looked_up)
			continue;
		if (iq->dp->zone[0] != 0 &&
		    md_name_is_subdomain(ns->name, iq->dp->zone)) {
			ns->looked_up = true;
			continue;
		}
		for (struct dp_addr *a = iq->dp->addrs; a != NULL; a = a->next)
			has |= a->ns == ns;
		if (!has)
			return ns;
	}
	return NULL;
}

/* Is (name, type) already being looked up further down the stack? */
static bool
on_stack(const struct iq *iq, const uint8_t *name, uint16_t type)
{
	for (; iq != NULL; iq = iq->parent) {
		if (iq->qtype == type && md_name_equal(iq->qname, name))
			return true;
	}
	return false;
}

static bool
start_subquery(
    struct md_request *req, struct iq *iq, struct dp_ns *ns, uint16_t type)
{
	const struct md_resolve_conf *conf = req->env->conf;
	struct iq *child;

	if (iq->depth + 1 > conf->max_subquery_depth ||
	    on_stack(iq, ns->name, type))
		return false;
	child = iq_new(req, iq, ns->name, type);
	if (child == NULL)
		return false;
	child->lookup_ns = ns;
	child->lookup_type = type;
	iq->state = IQ_WAIT_SUBQUERY;
	req->top = child;
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_SUBQUERY, &ev);
		memcpy(ev.server_name, ns->name, md_name_len(ns->name));
		ev.why = "NS name without glue: looking up its address";
		ev_emit(req, &ev);
	}
	return true;
}

void
md_req_add_authority(struct md_request *req, struct iq *iq,
    const uint8_t *owner, uint16_t type, uint16_t count, uint32_t ttl,
    const uint8_t *rdata, uint32_t len, bool dnssec)
{
	struct md_result_rrset *rs =
	    copy_set(req, owner, type, count, ttl, rdata, len);
	struct md_result_rrset **p = &iq->authority;

	if (rs == NULL)
		return;
	rs->dnssec = dnssec;
	while (*p != NULL)
		p = &(*p)->next;
	*p = rs;
}

void
md_req_iq_done(struct md_request *req, struct iq *iq, int rcode)
{
	iq_done(req, iq, rcode);
}

bool
md_req_val_subquery(
    struct md_request *req, struct iq *iq, const uint8_t *name, uint16_t type)
{
	const struct md_resolve_conf *conf = req->env->conf;
	struct iq *child;

	if (iq->depth + 1 > conf->max_subquery_depth ||
	    on_stack(iq, name, type))
		return false;
	child = iq_new(req, iq, name, type);
	if (child == NULL)
		return false;
	child->val_sub = true;
	req->top = child;
	return true;
}

/* ---- attempts: the queries of a question still open ------------------- */

/* Does 'at' ask the question the top query is waiting on now? */
static bool
attempt_current(const struct md_request *req, const struct attempt *at)
{
	const struct iq *iq = req->top;

	return !req->done && at->token != 0 && at->iq == iq &&
	    iq->state == IQ_WAIT_REPLY && at->dp == iq->dp &&
	    at->sent_qtype == iq->sent_qtype &&
	    md_name_equal(at->sent_qname, iq->sent_qname);
}

static struct attempt *
attempt_find(struct md_request *req, uint32_t token)
{
	for (size_t i = 0; token != 0 && i < MD_RESOLVE_OPEN_MAX; i++) {
		if (req->open[i].token == token)
			return &req->open[i];
	}
	return NULL;
}

bool
md_resolve_open(const struct md_request *req, uint32_t token)
{
	for (size_t i = 0; token != 0 && i < MD_RESOLVE_OPEN_MAX; i++) {
		if (req->open[i].token == token)
			return attempt_current(req, &req->open[i]);
	}
	return false;
}

/*
 * Record the query iq is sending now: in a slot of a question that is
 * over, else in that of the oldest query of this one, which closes it
 * (at most MD_RESOLVE_OPEN_MAX open at once).
 */
static void
attempt_add(struct md_request *req, struct iq *iq, uint32_t token)
{
	struct attempt *slot = NULL, *oldest = NULL;
	unsigned n = 0;

	for (size_t i = 0; i < MD_RESOLVE_OPEN_MAX; i++) {
		struct attempt *at = &req->open[i];

		if (!attempt_current(req, at)) {
			if (slot == NULL)
				slot = at;
			continue;
		}
		if (at->n > n)
			n = at->n;
		if (oldest == NULL || at->n < oldest->n)
			oldest = at;
	}
	if (slot == NULL)
		slot = oldest;
	slot->token = token;
	slot->n = n + 1;
	slot->iq = iq;
	slot->dp = iq->dp;
	slot->target = iq->target;
	memcpy(slot->sent_qname, iq->sent_qname, md_name_len(iq->sent_qname));
	slot->sent_qtype = iq->sent_qtype;
	slot->tcp = iq->tcp;
}

/* "first", "second"... for the n-th query of a question. */
static const char *
nth(struct md_request *req, unsigned n)
{
	static const char *const words[] = {"first", "second", "third",
	    "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"};

	if (n >= 1 && n <= sizeof(words) / sizeof(words[0]))
		return words[n - 1];
	return why_fmt(req, "%uth", n);
}

/*
 * Every server had its share of queries and none is left to look up:
 * ask again one that was asked and did not refuse or fail (the fewest
 * times first; then the lowest RTO, which doubled on each timeout: the
 * backoff), as long as the question's time lasts.  NULL when none.
 */
static struct dp_addr *
pick_again(struct md_request *req, struct iq *iq, const char **why)
{
	struct dp_addr *best = NULL;
	uint32_t best_rto = 0;
	bool in_order =
	    iq->dp->fwd != NULL && iq->dp->fwd->policy == MD_FORWARD_SEQUENTIAL;

	for (struct dp_addr *a = iq->dp->addrs; a != NULL; a = a->next) {
		struct md_infra_info info;

		if (a->failed || a->attempts == 0)
			continue;
		md_infra_get(req->env->infra, &a->addr, iq->dp->zone, now(req),
		    req->env->conf->upstream_timeout_ms, &info);
		if (best == NULL || a->attempts < best->attempts ||
		    (a->attempts == best->attempts && !in_order &&
			info.rto_ms < best_rto)) {
			best = a;
			best_rto = info.rto_ms;
		}
	}
	if (best != NULL)
		*why = why_fmt(req,
		    "no other server to ask: its %s query, with a longer "
		    "timeout",
		    nth(req, best->attempts + 1));
	return best;
}

static enum md_step
handle_targets(struct md_request *req, struct iq *iq, struct md_send *out)
{
	const struct md_resolve_conf *conf = req->env->conf;
	const char *why = NULL;
	struct dp_addr *a;
	struct md_infra_info info;
	uint64_t t = now(req);
	int len;

	if (iq->retry_same && iq->target != NULL) {
		a = iq->target;
		why = iq->tcp ? "same server over TCP" : "same server";
		iq->retry_same = false;
	} else {
		a = pick_server(req, iq, &why);
		iq->tcp = conf->tcp_only ||
		    (iq->dp->fwd != NULL && iq->dp->fwd->force_tcp);
		iq->edns = conf->edns;
	}
	if (a == NULL) {
		struct dp_ns *ns;

		/* No address left: find one for an NS name without glue,
		 * within the NXNSAttack bound (CVE-2020-12662). */
		while ((ns = unresolved_ns(iq)) != NULL) {
			ns->looked_up = true;
			if (iq->dp->lookups >= conf->max_ns_names)
				break;
			iq->dp->lookups++;
			if (start_subquery(req, iq, ns, MD_TYPE_A))
				return MD_STEP_SEND; /* re-enter: child runs */
		}
		/* Relaxed minimisation: every server failed the minimised
		 * name; they get the full name before we give up. */
		if (asked_here(iq) &&
		    qmin_fallback(req, iq, false,
			"no server answered the minimised name")) {
			for (struct dp_addr *d = iq->dp->addrs; d != NULL;
			     d = d->next) {
				d->attempts = 0;
				d->failed = false;
			}
			return MD_STEP_SEND; /* re-enter the loop */
		}
		a = pick_again(req, iq, &why);
	}
	if (a == NULL) {
		char zone[MD_NAME_STRLEN];

		md_name_to_str(iq->dp->zone, zone, sizeof(zone));
		fail_iq(req, iq,
		    req->net_trouble ? MD_EDE_NO_REACHABLE_AUTHORITY
				     : MD_EDE_OTHER,
		    why != NULL
			? why_fmt(req,
			      "no server of %s gave a usable answer: %s", zone,
			      why)
			: why_fmt(req, "no server of %s gave a usable answer",
			      zone));
		return MD_STEP_SEND; /* re-enter the loop */
	}
	if (req->queries >= conf->max_queries) {
		fail_request(req, iq, MD_EDE_OTHER,
		    why_fmt(req, "more than %u upstream queries",
			conf->max_queries));
		return MD_STEP_DONE;
	}
	/* A name server's address is worth a few queries, not the whole
	 * question's budget: the parent goes on with its next name. */
	if (iq->depth > 0 && iq->sent >= SUBQUERY_SENDS_MAX) {
		fail_iq(req, iq, MD_EDE_NO_REACHABLE_AUTHORITY,
		    why_fmt(req,
			"gave up looking up a name server's address after "
			"%u queries",
			SUBQUERY_SENDS_MAX));
		return MD_STEP_SEND; /* re-enter: the parent goes on */
	}
	iq->sent++;
	/* A retry asks what it retries: the name grows only on progress. */
	choose_qname(req, iq);
	md_infra_get(req->env->infra, &a->addr, iq->dp->zone, t,
	    conf->upstream_timeout_ms, &info);
	if (info.noedns)
		iq->edns = false;
	uint8_t wirename[MD_NAME_MAX];

	memcpy(wirename, iq->sent_qname, md_name_len(iq->sent_qname));
	if (conf->use_0x20)
		randomise_case(req, wirename);
	/* A forwarder is asked to recurse for us (RD set). */
	len = md_msg_build_query(req->sendbuf, sizeof(req->sendbuf), 0,
	    wirename, iq->sent_qtype, iq->dp->fwd != NULL, iq->edns,
	    conf->edns_size, iq->edns);
	if (len < 0) {
		fail_request(req, iq, MD_EDE_OTHER, "cannot build a query");
		return MD_STEP_DONE;
	}
	uint64_t left = req->start_ms + conf->timeout_ms - t;

	iq->sent_rto = info.rto_ms;
	if (iq->tcp && iq->sent_rto < 1000)
		iq->sent_rto = 1000; /* a connection costs a round trip more */
	if (iq->sent_rto > left)
		iq->sent_rto = (uint32_t)left;
	a->attempts++;
	req->queries++;
	iq->target = a;
	iq->state = IQ_WAIT_REPLY;
	req->pending = req->next_token++;
	if (req->next_token == 0)
		req->next_token = 1;
	attempt_add(req, iq, req->pending);
	out->token = req->pending;
	out->server = a->addr;
	out->tcp = iq->tcp;
	out->upstream = a->up;
	out->query = req->sendbuf;
	out->len = (size_t)len;
	out->timeout_ms = iq->sent_rto;
	/* A late reply is welcome till the question's time is up. */
	out->open_ms = (uint32_t)left + OPEN_GRACE_MS;
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_SERVER, &ev);
		ev.server = a->addr;
		if (a->ns != NULL)
			memcpy(ev.server_name, a->ns->name,
			    md_name_len(a->ns->name));
		ev.rtt_ms = info.known ? info.srtt_ms : 0;
		ev.why = why;
		ev_emit(req, &ev);
		ev_init(req, iq, MD_TRACE_SEND, &ev);
		memcpy(ev.qname, wirename, md_name_len(wirename));
		ev.qtype = iq->sent_qtype;
		ev.server = a->addr;
		if (a->ns != NULL)
			memcpy(ev.server_name, a->ns->name,
			    md_name_len(a->ns->name));
		ev.tcp = iq->tcp;
		ev.tls = a->up != NULL && a->up->transport == MD_TRANSPORT_TLS;
		ev.qmin = iq->minimise;
		ev.why = iq->edns ? "EDNS" : "no EDNS";
		ev_emit(req, &ev);
	}
	return MD_STEP_SEND;
}

/* ---- replies ----------------------------------------------------------- */

static enum md_trust
trust_of(const struct reply *r, enum md_section sec)
{
	if (sec == MD_SECTION_ANSWER)
		return r->aa ? MD_TRUST_AUTH_ANSWER : MD_TRUST_ANSWER;
	if (sec == MD_SECTION_AUTHORITY)
		return r->aa ? MD_TRUST_AUTH_AUTHORITY : MD_TRUST_AUTHORITY;
	return MD_TRUST_GLUE;
}

static void
cache_set(struct md_request *req, const struct reply *r, const struct rrset *s)
{
	if (req->env->cache == NULL || s == NULL || r->truncated)
		return;
	md_cache_put(req->env->cache, s->owner, s->type, s->ttl, s->rdata,
	    s->rdata_len, s->count, trust_of(r, s->section), now(req));
}

/* The addresses of an NS set's names that came in the additional
 * section (priming, RFC 8109 §3: the root's own glue). */
static void
cache_ns_addresses(
    struct md_request *req, const struct reply *r, const struct rrset *ns)
{
	static const uint16_t types[] = {MD_TYPE_A, MD_TYPE_AAAA};

	for (uint32_t off = 0; off + 2 <= ns->rdata_len;) {
		uint16_t len = md_read_u16(ns->rdata + off);
		const uint8_t *name = ns->rdata + off + 2;

		off += 2 + (uint32_t)len;
		if (off > ns->rdata_len || md_name_len(name) != len)
			break;
		for (size_t i = 0; i < 2; i++)
			cache_set(req, r,
			    md_reply_find(
				r, MD_SECTION_ADDITIONAL, name, types[i]));
	}
}

/* RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM). */
static uint32_t
negative_ttl(const struct rrset *soa)
{
	uint32_t minimum;

	if (soa == NULL || soa->rdata_len < 2 + 22)
		return 0;
	minimum = md_read_u32(soa->rdata + soa->rdata_len - 4);
	return soa->ttl < minimum ? soa->ttl : minimum;
}

/* The RRSIGs of s in its reply, after it in the answer (for clients
 * that set DO) and beside it in the cache. */
static void
take_sigs(struct md_request *req, struct iq *iq, const struct reply *r,
    const struct rrset *s)
{
	const struct rrset *sig;
	struct md_result_rrset *rs;
	uint8_t *rd;
	uint32_t len;
	uint16_t n;

	if (s == NULL || s->synth || s->type == MD_TYPE_RRSIG ||
	    (sig = md_reply_find(r, s->section, s->owner, MD_TYPE_RRSIG)) ==
		NULL ||
	    (rd = sigs_covering(
		 req, sig->rdata, sig->rdata_len, s->type, &len, &n)) == NULL)
		return;
	if (req->env->cache != NULL && !r->truncated)
		md_cache_put_sigs(req->env->cache, s->owner, s->type, s->ttl,
		    rd, len, n, trust_of(r, s->section), now(req));
	rs = copy_set(req, s->owner, MD_TYPE_RRSIG, n, s->ttl, rd, len);
	if (rs != NULL) {
		rs->dnssec = true;
		add_answer(req, iq, rs);
	}
}

/* The RRSIGs of (owner, type) from the cache, after it in the answer. */
static void
sigs_from_cache(struct md_request *req, struct iq *iq, const uint8_t *owner,
    uint16_t type, uint64_t t)
{
	uint8_t buf[4096];
	struct md_cache_view v;
	struct md_result_rrset *rs;

	if (md_cache_get_sigs(
		req->env->cache, owner, type, t, buf, sizeof(buf), &v) != 0)
		return;
	rs = copy_set(
	    req, owner, MD_TYPE_RRSIG, v.count, v.ttl, v.rdata, v.rdata_len);
	if (rs != NULL) {
		rs->dnssec = true;
		add_answer(req, iq, rs);
	}
}

/* An RRset of a reply for the answer, with the trust it came with. */
static struct md_result_rrset *
reply_set(struct md_request *req, const struct reply *r, const struct rrset *s)
{
	struct md_result_rrset *rs = copy_set(
	    req, s->owner, s->type, s->count, s->ttl, s->rdata, s->rdata_len);

	if (rs != NULL)
		rs->trust = trust_of(r, s->section);
	return rs;
}

/* Keep the CNAME chain of a reply in the cache and in the answer. */
static void
take_chain(struct md_request *req, struct iq *iq, const struct reply *r,
    const struct classified *c)
{
	for (unsigned i = 0; i < c->nchain; i++) {
		const struct rrset *s = c->chain[i];

		/* A CNAME made from a DNAME is not cached: the DNAME is,
		 * and makes it again (RFC 6672 §3.4). */
		if (!s->synth)
			cache_set(req, r, s);
		add_answer(req, iq, reply_set(req, r, s));
		take_sigs(req, iq, r, s);
	}
}

/* Append a DNSSEC record set to a result list. */
static void
append_dnssec(struct md_request *req, struct md_result_rrset **head,
    const uint8_t *owner, uint16_t type, uint16_t count, uint32_t ttl,
    const uint8_t *rdata, uint32_t len)
{
	struct md_result_rrset *rs =
	    copy_set(req, owner, type, count, ttl, rdata, len);
	struct md_result_rrset **p = head;

	if (rs == NULL)
		return;
	rs->dnssec = true;
	while (*p != NULL)
		p = &(*p)->next;
	*p = rs;
}

/*
 * The DNSSEC records of a denial (RFC 4035 §3.1.3): the SOA's RRSIGs and
 * the authority section's NSEC and NSEC3 sets with theirs, after the SOA
 * in the answer and, as one proof, beside the negative entry in the cache.
 */
static void
take_proof(struct md_request *req, struct iq *iq, const struct reply *r,
    const uint8_t *name, uint16_t key_type, uint32_t ttl)
{
	uint8_t blob[8192];
	uint32_t blen = 0;
	uint16_t nrr = 0;

	for (const struct rrset *s = r->sets; s != NULL; s = s->next) {
		const struct rrset *sig;
		uint8_t *rd;
		uint32_t len;
		uint16_t n;

		if (s->section != MD_SECTION_AUTHORITY ||
		    (s->type != MD_TYPE_SOA && s->type != MD_TYPE_NSEC &&
			s->type != MD_TYPE_NSEC3))
			continue;
		if (s->type != MD_TYPE_SOA)
			append_dnssec(req, &iq->authority, s->owner, s->type,
			    s->count, ttl, s->rdata, s->rdata_len);
		sig = md_reply_find(r, s->section, s->owner, MD_TYPE_RRSIG);
		rd = sig != NULL ? sigs_covering(req, sig->rdata,
				       sig->rdata_len, s->type, &len, &n)
				 : NULL;
		if (rd != NULL)
			append_dnssec(req, &iq->authority, s->owner,
			    MD_TYPE_RRSIG, n, ttl, rd, len);
		/* the proof as [u16 len][owner][u16 type][rdata] records */
		for (int pass = 0; pass < 2; pass++) {
			const uint8_t *p = pass == 0 ? s->rdata : rd;
			uint32_t plen = pass == 0 ? s->rdata_len : len;
			uint16_t type = pass == 0 ? s->type : MD_TYPE_RRSIG;
			size_t ol = md_name_len(s->owner);

			if (pass == 0 && s->type == MD_TYPE_SOA)
				continue; /* the negative entry holds it */
			for (uint32_t off = 0; p != NULL && off + 2 <= plen;) {
				uint16_t rl = md_read_u16(p + off);

				if (blen + 2 + ol + 2 + rl > sizeof(blob) ||
				    nrr == UINT16_MAX)
					return; /* too big to keep */
				md_write_u16(
				    blob + blen, (uint16_t)(ol + 2 + rl));
				memcpy(blob + blen + 2, s->owner, ol);
				md_write_u16(blob + blen + 2 + ol, type);
				memcpy(blob + blen + 4 + ol, p + off + 2, rl);
				blen += 2 + (uint32_t)(ol + 2 + rl);
				nrr++;
				off += 2 + (uint32_t)rl;
			}
		}
	}
	if (nrr > 0 && req->env->cache != NULL && ttl > 0 && !r->truncated)
		md_cache_put_proof(req->env->cache, name, key_type, ttl, blob,
		    blen, nrr, trust_of(r, MD_SECTION_AUTHORITY), now(req));
}

/* A cached denial's proof, after its SOA in the answer. */
static void
proof_from_cache(struct md_request *req, struct iq *iq, const uint8_t *name,
    uint16_t key_type, uint64_t t)
{
	uint8_t buf[8192];
	struct md_cache_view v;
	const uint8_t *p = NULL, *owner, *rd;
	uint16_t type, rl;

	if (md_cache_get_proof(
		req->env->cache, name, key_type, t, buf, sizeof(buf), &v) != 0)
		return;
	while (
	    (p = md_cache_proof_next(&v, p, &owner, &type, &rd, &rl)) != NULL) {
		uint8_t one[2 + 8192]; /* a proof is at most 8192 bytes */

		if (rl > sizeof(one) - 2)
			break;
		md_write_u16(one, rl);
		memcpy(one + 2, rd, rl);
		append_dnssec(req, &iq->authority, owner, type, 1, v.ttl, one,
		    2 + (uint32_t)rl);
	}
}

static void
take_negative(struct md_request *req, struct iq *iq, const struct reply *r,
    const struct classified *c, bool nxdomain)
{
	const uint8_t *name = c->nchain > 0 ? c->target : iq->qname;
	uint32_t ttl = negative_ttl(c->soa);

	take_chain(req, iq, r, c);
	if (c->soa == NULL && req->env->cache != NULL) {
		/* No SOA, no negative TTL: kept a few seconds all the same
		 * (as Unbound), so a client's retry is not a new question. */
		md_cache_put_negative(req->env->cache, name, iq->qtype,
		    nxdomain, MD_RESOLVE_NORR_TTL, NULL, NULL, 0,
		    trust_of(r, MD_SECTION_AUTHORITY), now(req));
	}
	if (c->soa != NULL) {
		/* The SOA goes out with the negative TTL (RFC 2308 §3). */
		iq->authority = copy_set(req, c->soa->owner, MD_TYPE_SOA,
		    c->soa->count, ttl, c->soa->rdata, c->soa->rdata_len);
		take_proof(req, iq, r, name, nxdomain ? 0 : iq->qtype, ttl);
		if (req->env->cache != NULL && ttl > 0 &&
		    c->soa->rdata_len >= 2) {
			md_cache_put_negative(req->env->cache, name, iq->qtype,
			    nxdomain, ttl, c->soa->owner, c->soa->rdata + 2,
			    md_read_u16(c->soa->rdata),
			    trust_of(r, MD_SECTION_AUTHORITY), now(req));
		}
	}
	iq_done(req, iq, nxdomain ? MD_RCODE_NXDOMAIN : MD_RCODE_NOERROR);
}

/* Lower the TTLs of a forwarder's reply to its zone's caps: the SOA of a
 * negative answer (its TTL bounds the negative TTL, RFC 2308 §5) to
 * max_negative_ttl, every other RRset to max_ttl. */
static void
cap_ttls(struct reply *r, const struct md_forward_zone *fz)
{
	for (struct rrset *s = r->sets; s != NULL; s = s->next) {
		uint32_t cap =
		    s->type == MD_TYPE_SOA && s->section == MD_SECTION_AUTHORITY
		    ? fz->max_negative_ttl
		    : fz->max_ttl;

		if (cap != 0 && s->ttl > cap)
			s->ttl = cap;
	}
}

/* Follow a referral: cache it, and make it the new delegation point. */
static void
take_referral(struct md_request *req, struct iq *iq, const struct reply *r,
    const struct classified *c)
{
	const struct md_resolve_conf *conf = req->env->conf;
	struct delegpt *dp;

	if (++iq->referrals > conf->max_depth) {
		fail_request(req, iq, MD_EDE_OTHER,
		    why_fmt(req, "more than %u referrals", conf->max_depth));
		return;
	}
	cache_set(req, r, c->ns);
	dp = md_dp_new(&req->arena, c->ns->owner);
	if (dp == NULL) {
		fail_request(req, iq, MD_EDE_OTHER, "out of memory");
		return;
	}
	for (uint32_t off = 0; off + 2 <= c->ns->rdata_len;) {
		uint16_t len = md_read_u16(c->ns->rdata + off);
		const uint8_t *name = c->ns->rdata + off + 2;
		struct dp_ns *ns;

		off += 2 + (uint32_t)len;
		if (off > c->ns->rdata_len || md_name_len(name) != len)
			break;
		ns = md_dp_add_ns(&req->arena, dp, name);
		if (ns == NULL && dp->nns >= MD_DP_NS_MAX)
			break;
		if (ns == NULL)
			continue;
		/* Glue: addresses the scrubber kept (in bailiwick).  Kept
		 * twice: as the name's data (which the child's answer
		 * replaces) and as the parent's side (a fallback). */
		static const uint16_t types[] = {MD_TYPE_A, MD_TYPE_AAAA};
		const struct rrset *g[2];
		bool cached = req->env->cache != NULL &&
		    !(req->flags & MD_RESOLVE_NO_CACHE);

		for (size_t i = 0; i < 2; i++) {
			g[i] = md_reply_find(
			    r, MD_SECTION_ADDITIONAL, name, types[i]);
			if (g[i] == NULL || !cached)
				continue;
			cache_set(req, r, g[i]);
			md_cache_put_parent(req->env->cache, g[i]->owner,
			    g[i]->type, g[i]->ttl, g[i]->rdata, g[i]->rdata_len,
			    g[i]->count, now(req));
		}
		/* The child's own addresses first, if it told us others. */
		if (cached)
			dp_addrs_from_cache(req, dp, ns);
		for (size_t i = 0; i < 2; i++) {
			if (g[i] != NULL)
				md_dp_add_rdata(&req->arena, dp, ns, types[i],
				    g[i]->rdata, g[i]->rdata_len,
				    conf->allow_private, true);
		}
	}
	iq->dp = dp;
	iq->target = NULL;
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_REFERRAL, &ev);
		ev.why =
		    why_fmt(req, "%u servers, %u addresses from glue/cache",
			c->ns->count, dp->naddrs);
		ev_emit(req, &ev);
	}
	iq->state = IQ_QUERY_TARGETS;
}

void
md_resolve_reply(struct md_request *req, uint32_t token, const uint8_t *pkt,
    size_t len, uint32_t rtt_ms)
{
	struct iq *iq = req->top;
	struct attempt *at = attempt_find(req, token);
	struct dp_addr *latest = iq->target;
	bool latest_tcp = iq->tcp;
	struct reply r;
	struct classified c;
	bool minimised, late;

	/* The latest query, or an earlier one at the same question: a slow
	 * server's reply after we asked again is as good (it answers the
	 * same question, from the server it was sent to). */
	if (at == NULL || !attempt_current(req, at))
		return;
	late = token != req->pending;
	at->token = 0; /* its one reply came */
	iq->target = at->target;
	iq->tcp = at->tcp;
	md_arena_deinit(&req->scratch);
	md_arena_init(&req->scratch, 16384);
	/* A forwarder answers for the whole question (it followed any
	 * CNAME for us): its bailiwick is everything. */
	static const uint8_t root = 0;
	const uint8_t *bailiwick = iq->dp->fwd != NULL ? &root : iq->dp->zone;

	if (md_scrub_reply(&req->scratch, pkt, len, bailiwick, &r) != 0) {
		memset(&c, 0, sizeof(c));
		c.cls = MD_REPLY_MALFORMED;
		c.why = "malformed reply";
		r.rcode = -1;
		r.discarded = 0;
	} else {
		/* TC over TCP: there is no bigger message to ask for.  The
		 * records that fitted are the answer (as other resolvers and
		 * forwarders take them: a headless Service of 10,000
		 * endpoints behind a cluster DNS that cuts at 64 KiB), never
		 * cached, since the RRset is not whole. */
		if (iq->tcp && (r.msg.hdr.flags & MD_FLAG_TC)) {
			r.msg.hdr.flags &= (uint16_t)~MD_FLAG_TC;
			r.truncated = true;
		}
		md_classify_reply(
		    &r, iq->sent_qname, iq->sent_qtype, bailiwick, &c);
		/* A resolver upstream does not refer us on: that is a
		 * broken forwarder. */
		if (iq->dp->fwd != NULL && c.cls == MD_REPLY_REFERRAL) {
			c.cls = MD_REPLY_LAME;
			c.why = "a referral from a forwarder";
		}
	}
	minimised = iq->minimise &&
	    !(md_name_equal(iq->sent_qname, iq->qname) &&
		iq->sent_qtype == iq->qtype);
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq, MD_TRACE_REPLY, &ev);
		ev.qmin = minimised;
		memcpy(ev.qname, iq->sent_qname, md_name_len(iq->sent_qname));
		ev.qtype = iq->sent_qtype;
		ev.server = iq->target->addr;
		if (iq->target->ns != NULL)
			memcpy(ev.server_name, iq->target->ns->name,
			    md_name_len(iq->target->ns->name));
		ev.tcp = iq->tcp;
		ev.tls = iq->target->up != NULL &&
		    iq->target->up->transport == MD_TRANSPORT_TLS;
		ev.reply = c.cls;
		ev.rcode = r.rcode;
		ev.rtt_ms = rtt_ms;
		ev.reply_size = len;
		ev.pkt = pkt;
		ev.pkt_len = len;
		ev.why = r.discarded > 0
		    ? why_fmt(req, "%s%s%u out-of-bailiwick records dropped",
			  c.why ? c.why : "", c.why ? "; " : "", r.discarded)
		    : c.why;
		if (late)
			ev.why = why_fmt(req, "late, to the %s query%s%s",
			    nth(req, at->n), ev.why != NULL ? "; " : "",
			    ev.why != NULL ? ev.why : "");
		ev_emit(req, &ev);
	}
	/* A forward zone's own caps (node-local-dns style): the answer is
	 * kept and given out for no longer. */
	if (iq->dp->fwd != NULL && c.cls != MD_REPLY_MALFORMED)
		cap_ttls(&r, iq->dp->fwd);
	/* Only a reply that is a DNS answer to our question says the server
	 * is alive and how fast: garbage must not refresh it. */
	if (c.cls != MD_REPLY_MALFORMED)
		md_infra_rtt(
		    req->env->infra, &iq->target->addr, rtt_ms, now(req));
	if (late &&
	    (c.cls == MD_REPLY_TRUNCATED || c.cls == MD_REPLY_FORMERR ||
		c.cls == MD_REPLY_MALFORMED || c.cls == MD_REPLY_REFUSED ||
		c.cls == MD_REPLY_LAME)) {
		/* News for server selection only: the latest query is still
		 * out, and still awaited. */
		if (c.cls != MD_REPLY_TRUNCATED && c.cls != MD_REPLY_FORMERR)
			iq->target->failed = true;
		if (c.cls == MD_REPLY_REFUSED || c.cls == MD_REPLY_LAME)
			md_infra_lame(req->env->infra, &iq->target->addr,
			    iq->dp->zone, now(req));
		iq->target = latest;
		iq->tcp = latest_tcp;
		return;
	}
	req->pending = 0;
	/* A server that answered a minimised query is doing its job: the
	 * next label's query is not a retry of this one. */
	if (minimised &&
	    (c.cls == MD_REPLY_ANSWER || c.cls == MD_REPLY_NODATA ||
		c.cls == MD_REPLY_NXDOMAIN || c.cls == MD_REPLY_CNAME))
		iq->target->attempts = 0;

	switch (c.cls) {
	case MD_REPLY_TRUNCATED:
		if (!iq->tcp) {
			iq->tcp = true;
			iq->retry_same = true;
			trace_simple(req, iq, MD_TRACE_TCP_RETRY,
			    "truncated over UDP: asking again over TCP");
		} else {
			iq->target->failed = true;
		}
		break;
	case MD_REPLY_FORMERR:
		if (iq->edns) {
			/* RFC 6891 §7: a server that does not know EDNS may
			 * answer FORMERR/NOTIMP; ask it again without. */
			md_infra_noedns(
			    req->env->infra, &iq->target->addr, now(req));
			iq->edns = false;
			iq->retry_same = true;
			trace_simple(req, iq, MD_TRACE_EDNS_FALLBACK,
			    "FORMERR/NOTIMP to EDNS: asking again without");
			break;
		}
		if (minimised && qmin_fallback(req, iq, true, c.why))
			break;
		iq->target->failed = true;
		req->net_trouble = true;
		break;
	case MD_REPLY_REFUSED:
	case MD_REPLY_LAME:
		/* An upward referral is lameness: the server is not
		 * authoritative for the zone; it sits out the hold-down for
		 * the whole zone (as in Unbound's infra cache). */
		if (c.upward) {
			iq->target->failed = true;
			req->net_trouble = true;
			md_infra_lame(req->env->infra, &iq->target->addr,
			    iq->dp->zone, now(req));
			break;
		}
		/* SERVFAIL, REFUSED, an empty non-authoritative answer: a
		 * failure of this question, not of the server for other
		 * names.  Broken servers fail minimised names that the full
		 * name gets through (RFC 9156 §2.3). */
		if (minimised && qmin_fallback(req, iq, true, c.why))
			break;
		/* fall through */
	case MD_REPLY_MALFORMED:
		/* News for server selection, not the end of the request. */
		iq->target->failed = true;
		req->net_trouble = true;
		break;
	case MD_REPLY_REFERRAL:
		take_referral(req, iq, &r, &c);
		return;
	case MD_REPLY_ANSWER:
		if (minimised) {
			/* Data at a name above the one we want: the zone
			 * goes on; ask one label further. */
			iq->min_labels = md_name_labels(iq->sent_qname) + 1;
			break;
		}
		iq->cnames += c.nchain;
		if (iq->cnames > req->env->conf->max_cname) {
			fail_iq(req, iq, MD_EDE_OTHER,
			    why_fmt(req, "CNAME chain longer than %u",
				req->env->conf->max_cname));
			return;
		}
		take_chain(req, iq, &r, &c);
		cache_set(req, &r, c.data);
		if (c.data->type == MD_TYPE_NS)
			cache_ns_addresses(req, &r, c.data);
		add_answer(req, iq, reply_set(req, &r, c.data));
		take_sigs(req, iq, &r, c.data);
		/* a wildcard expansion's NSEC/NSEC3 proof that no closer
		 * name exists (RFC 4035 §3.1.3.3), kept with the answer */
		take_proof(
		    req, iq, &r, c.data->owner, c.data->type, c.data->ttl);
		/* the records of a TCP answer cut with TC: a part, said so */
		if (r.truncated && iq == req->root)
			req->result.truncated = true;
		iq_done(req, iq, MD_RCODE_NOERROR);
		return;
	case MD_REPLY_CNAME:
		if (minimised) {
			/* A CNAME above the name: ask for the full name. */
			iq->minimise = false;
			trace_simple(req, iq, MD_TRACE_QMIN_FALLBACK,
			    "a CNAME at a shortened name: asking the full "
			    "name");
			break;
		}
		take_chain(req, iq, &r, &c);
		{
			uint8_t next[MD_NAME_MAX];

			memcpy(next, c.target, md_name_len(c.target));
			follow_cname(req, iq, next, c.nchain);
		}
		return;
	case MD_REPLY_NXDOMAIN:
		/* Relaxed mode (RFC 9156 §2.3): some servers deny empty
		 * non-terminals; ask for the full name.  Strict mode
		 * believes it: nothing exists below (RFC 8020). */
		if (minimised &&
		    qmin_fallback(req, iq, true,
			"NXDOMAIN for a minimised name (an empty "
			"non-terminal?)"))
			break;
		take_negative(req, iq, &r, &c, true);
		return;
	case MD_REPLY_NODATA:
		if (minimised) {
			/* the name exists: one label further */
			iq->min_labels = md_name_labels(iq->sent_qname) + 1;
			break;
		}
		take_negative(req, iq, &r, &c, false);
		return;
	}
	iq->state = IQ_QUERY_TARGETS;
}

void
md_resolve_fail(struct md_request *req, uint32_t token, bool timeout)
{
	struct iq *iq = req->top;
	struct attempt *at = attempt_find(req, token);
	uint64_t spent = now(req) - req->start_ms;

	if (at == NULL)
		return;
	if (token != req->pending || !attempt_current(req, at)) {
		/* An earlier query closed: its timeout counted already. */
		at->token = 0;
		return;
	}
	req->pending = 0;
	req->net_trouble = true;
	if (!timeout)
		at->token = 0; /* closed: no reply can come */
	if (timeout) {
		md_infra_timeout(
		    req->env->infra, &iq->target->addr, iq->sent_rto, now(req));
	} else {
		/* Refused or unreachable: this address is no use now. */
		iq->target->failed = true;
		md_infra_timeout(
		    req->env->infra, &iq->target->addr, iq->sent_rto, now(req));
	}
	if (tracing(req)) {
		struct md_trace_event ev;

		ev_init(req, iq,
		    timeout ? MD_TRACE_TIMEOUT : MD_TRACE_NET_ERROR, &ev);
		memcpy(ev.qname, iq->sent_qname, md_name_len(iq->sent_qname));
		ev.qtype = iq->sent_qtype;
		ev.qmin = iq->minimise;
		ev.server = iq->target->addr;
		if (iq->target->ns != NULL)
			memcpy(ev.server_name, iq->target->ns->name,
			    md_name_len(iq->target->ns->name));
		ev.tcp = iq->tcp;
		ev.tls = iq->target->up != NULL &&
		    iq->target->up->transport == MD_TRANSPORT_TLS;
		ev.rtt_ms = iq->sent_rto;
		if (!timeout)
			ev.why = "unreachable or refused";
		else if (spent >= req->env->conf->timeout_ms)
			ev.why = why_fmt(req,
			    "no reply in %u ms, and the question's time "
			    "is up",
			    iq->sent_rto);
		else
			ev.why = why_fmt(req,
			    "no reply in %u ms: trying again, the %s query "
			    "stays open",
			    iq->sent_rto, nth(req, at->n));
		ev_emit(req, &ev);
	}
	iq->retry_same = false;
	iq->state = IQ_QUERY_TARGETS;
}

/* ---- the driver -------------------------------------------------------- */

/* A sub-query has finished: give its addresses to the parent. */
static void
finish_subquery(struct md_request *req, struct iq *child)
{
	struct iq *parent = child->parent;
	struct dp_ns *ns = child->lookup_ns;
	unsigned before = parent->dp->naddrs;

	for (struct md_result_rrset *s = child->answer; s != NULL;
	     s = s->next) {
		if ((s->type == MD_TYPE_A || s->type == MD_TYPE_AAAA) &&
		    md_name_equal(s->owner, child->qname))
			md_dp_add_rdata(&req->arena, parent->dp, ns, s->type,
			    s->rdata, s->rdata_len,
			    req->env->conf->allow_private, false);
	}
	req->top = parent;
	parent->state = IQ_QUERY_TARGETS;
	/* No IPv4 address: try IPv6 before giving up on this name; not when
	 * the look-up failed (its zone's servers would fail the AAAA
	 * question the same way: twice the work for nothing). */
	if (parent->dp->naddrs == before && child->lookup_type == MD_TYPE_A &&
	    !child->failed)
		start_subquery(req, parent, ns, MD_TYPE_AAAA);
}

static void
finish_request(struct md_request *req)
{
	struct iq *iq = req->root;

	req->result.rcode = iq->rcode;
	req->result.answer = iq->answer;
	req->result.authority = iq->authority;
	req->result.from_cache = req->queries == 0;
	req->done = true;
}

enum md_step
md_resolve_step(struct md_request *req, struct md_send *out)
{
	const struct md_resolve_conf *conf = req->env->conf;

	for (unsigned steps = 0; steps < MAX_STEPS; steps++) {
		struct iq *iq = req->top;
		enum md_step st;

		if (req->done)
			goto done;
		if (iq->state != IQ_DONE &&
		    now(req) - req->start_ms >= conf->timeout_ms) {
			fail_request(req, iq,
			    req->net_trouble ? MD_EDE_NO_REACHABLE_AUTHORITY
					     : MD_EDE_OTHER,
			    why_fmt(req, "no answer within %u ms",
				conf->timeout_ms));
			goto done;
		}
		switch (iq->state) {
		case IQ_INIT:
			handle_init(req, iq);
			break;
		case IQ_QUERY_TARGETS:
			st = handle_targets(req, iq, out);
			if (iq->state == IQ_WAIT_REPLY && st == MD_STEP_SEND)
				return MD_STEP_SEND;
			break;
		case IQ_WAIT_REPLY:
			return MD_STEP_WAIT;
		case IQ_WAIT_SUBQUERY:
			/* The child is on top; never here. */
			fail_request(req, iq, MD_EDE_OTHER, "internal error");
			goto done;
		case IQ_DONE:
			if (iq->val_sub) {
				/* a DS/DNSKEY look-up of the validator */
				req->top = iq->parent;
				md_val_subdone(req, iq);
				break;
			}
			if (iq->parent == NULL) {
				/* DNSSEC: validate the answer first; it may
				 * need look-ups of keys (pushed on top) */
				if (!md_val_run(req))
					break;
				finish_request(req);
				goto done;
			}
			finish_subquery(req, iq);
			break;
		}
	}
	fail_request(req, req->top, MD_EDE_OTHER, "too many steps");
done:
	req->result.upstream_queries = req->queries;
	req->result.elapsed_ms = now(req) - req->start_ms;
	return MD_STEP_DONE;
}
