/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_trace.c - minidig +trace: the iterative walk from the root, done by
 * minidnsd's own resolution engine (src/resolve/) over the same transport
 * (src/net/), and printed from the engine's trace events.
 *
 * Three ways to print the same events:
 *   default    dig's +trace layout: each reply's records (the NS set of a
 *              referral, the answer) and ";; Received N bytes from ..."
 *              lines, plus ";;" comment lines for what dig leaves out:
 *              every step's outcome (";; Outcome: referral to com.",
 *              NXDOMAIN, NODATA, SERVFAIL, lame, timeout...), TCP
 *              retries, QNAME-minimisation fallbacks, and sub-lookups
 *              (a glueless name server's address), indented and closed
 *   +explain   after each step, one or two plain-language lines, and a
 *              summary at the end (for teaching)
 *   +json      every step as an object in a JSON document: numbered,
 *              linked to the sub-lookup it belongs to and to the query it
 *              answers, with the reply's header flags and the final answer
 *   +html=FILE the same document drawn as a page (dig_html.c), each step
 *              with its +explain text
 *
 * With +dnssec the engine validates the answer as minidnsd does (val.c):
 * its DS and DNSKEY look-ups show as sub-lookups, each link it checks
 * (MD_TRACE_VALIDATE: a DS set, a DNSKEY set, an RRset of the answer, a
 * denial) as a ";; DNSSEC NAME TYPE: security: why" line, a sentence
 * (+explain) or a "validate" step (+json), and the walk ends with the
 * verdict: secure, insecure (where the chain ends, and why) or bogus
 * (which link broke, with its Extended DNS Error code).
 *
 * The walk starts by priming the root NS set: from a root hint, or from
 * the @server given on the command line (as dig does).  Everything shown
 * comes from the engine's events: the transport, the timeouts and the
 * server chosen next, and whether a name was minimised.  +seed=N gives
 * the engine (server choice) and net/ (query IDs) one seeded source, so
 * a walk can be shown again step for step; +allservers asks, after each
 * reply, every other server of the zone the same question and marks the
 * replies that differ.  Owns no state beyond one run.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <ldns/ldns.h>

#include "dig_html.h"
#include "dig_trace.h"
#include "minidns/cache.h"
#include "minidns/dnssec.h"
#include "minidns/driver.h"
#include "minidns/ldns_bridge.h"
#include "minidns/net.h"
#include "minidns/resolve.h"
#include "tool_common.h"

#define TRACE_DEPTH_MAX 16
#define TRACE_SENDS_KEPT 32

struct tracer {
	const struct md_dig_trace_opts *o;
	FILE *out;
	struct event_base *base;
	struct md_net *net;
	struct md_cache *cache;
	struct md_infra *infra;
	struct md_resolve_conf conf;
	struct md_resolve_env env;
	struct md_request *req;
	struct md_driver_io io; /* net/ with -4/-6 and +tcp */
	bool done;
	/* what a step sent, for the lines about its reply */
	uint8_t sent_name[MD_NAME_MAX];
	uint16_t sent_type;
	/* the summary */
	unsigned queries, replies, timeouts;
	struct md_sockaddr seen[64];
	unsigned nseen;
	uint64_t start_ms;
	unsigned cache_hits;
	/* the question at each depth (the client's, then sub-lookups), for
	 * the lines that open and close a sub-lookup */
	uint8_t q_name[8][MD_NAME_MAX];
	uint16_t q_type[8];
	/* +seed */
	struct md_rng rng;
	/* +allservers: time spent asking the other servers, kept off the
	 * engine's clock so its budget and the steps' times are the walk's */
	uint64_t paused_ms;
	struct zone_servers *zones;
	struct known_addr *addrs;
	bool after_failure; /* the last step failed: say what is next */
	/* +json and +html: the steps as JSON objects, numbered from 1 */
	json_t *steps;
	unsigned nsteps;
	const char *phase; /* "priming", then "query" */
	/* the id of the sub-lookup step open at each depth */
	unsigned sub_open[TRACE_DEPTH_MAX];
	/* the latest queries sent, for the replies that answer them */
	struct {
		unsigned id, depth;
		struct md_sockaddr server;
	} sends[TRACE_SENDS_KEPT];
	unsigned nsends;
	/* +dnssec: the verdict, and the first insecure and bogus links in
	 * words (dig's layout, then +explain's) */
	bool val_seen;
	enum md_security val_sec;
	char val_insecure[2][768];
	char val_bogus[2][768];
	uint16_t val_bogus_ede;
	/* the denial records (NSEC or NSEC3) a reply gave for a name's DS */
	struct {
		uint8_t name[MD_NAME_MAX];
		const char *proof;
	} ds_proofs[16];
	unsigned nds_proofs;
	const char *neg_proof; /* the last negative reply's denial records */
};

/* +allservers: the servers of a zone, by name, as referrals named them. */
struct zone_servers {
	struct zone_servers *next;
	uint8_t zone[MD_NAME_MAX];
	unsigned n;
	uint8_t ns[16][MD_NAME_MAX];
};

/* +allservers: an address learned for a name (glue, or an answer). */
struct known_addr {
	struct known_addr *next;
	uint8_t name[MD_NAME_MAX];
	struct md_sockaddr addr;
};

/* ---- small printing helpers -------------------------------------------- */

static void
name_text(const uint8_t *name, char *buf, size_t size)
{
	if (md_name_to_str(name, buf, size) != 0)
		md_strlcpy(buf, "?", size);
}

static const char *
type_text(uint16_t type, char *buf, size_t size)
{
	return md_ldns_type_str(type, buf, size);
}

/* "127.53.0.1#53" as dig writes an address and port. */
static void
addr_text(const struct md_sockaddr *sa, char *buf, size_t size)
{
	char tmp[MD_SOCKADDR_STRLEN];
	char *colon;

	md_sockaddr_str(sa, tmp, sizeof(tmp));
	colon = strrchr(tmp, ':');
	if (colon != NULL)
		*colon = '#';
	if (tmp[0] == '[') {
		char *close = strchr(tmp, ']');

		if (close != NULL)
			memmove(close, close + 1, strlen(close));
		memmove(tmp, tmp + 1, strlen(tmp));
	}
	md_strlcpy(buf, tmp, size);
}

/* The address alone, without the port. */
static void
host_text(const struct md_sockaddr *sa, char *buf, size_t size)
{
	char *hash;

	addr_text(sa, buf, size);
	hash = strrchr(buf, '#');
	if (hash != NULL)
		*hash = '\0';
}

/*
 * +json is written by jansson: each value is a json_t (strings made valid
 * UTF-8 by md_json_string) dumped one line at a time, keys in insertion
 * order, ", " and ": " between items as before.
 */
#define TRACE_JSON_FLAGS (JSON_INDENT(0) | JSON_PRESERVE_ORDER)

/* obj[key] = val (its reference taken); a NULL val is skipped. */
static void
jset(json_t *obj, const char *key, json_t *val)
{
	if (obj != NULL && val != NULL)
		json_object_set_new(obj, key, val);
}

/* Dump v (its reference taken) to out; null when it could not be made,
 * so the document stays valid JSON. */
static void
jdump(FILE *out, json_t *v)
{
	if (v == NULL || json_dumpf(v, out, TRACE_JSON_FLAGS) != 0)
		fputs("null", out);
	json_decref(v);
}

/* Four spaces per level of sub-lookup. */
static const char *
indent_of(unsigned depth)
{
	static const char spaces[] = "                                ";
	size_t n = (size_t)depth * 4;

	if (n > sizeof(spaces) - 1)
		n = sizeof(spaces) - 1;
	return spaces + (sizeof(spaces) - 1 - n);
}

/* Print one record dig's way, each of its lines after 'indent'. */
static void
print_rr_indented(FILE *out, const char *indent, const ldns_rr *rr)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *m;

	if (indent[0] == '\0') {
		md_tool_print_rr_dig(out, rr, false);
		return;
	}
	m = open_memstream(&buf, &size);
	if (m == NULL) {
		md_tool_print_rr_dig(out, rr, false);
		return;
	}
	md_tool_print_rr_dig(m, rr, false);
	fclose(m);
	for (char *line = buf, *nl; line != NULL && *line != '\0';
	     line = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		fprintf(out, "%s%.*s\n", indent,
		    nl != NULL ? (int)(nl - line) : (int)strlen(line), line);
	}
	free(buf);
}

/* Print the records of one section of a reply, dig's way. */
static void
print_records(
    FILE *out, const char *indent, const ldns_rr_list *list, uint16_t only_type)
{
	for (size_t i = 0; list != NULL && i < ldns_rr_list_rr_count(list);
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);

		if (only_type != 0 && ldns_rr_get_type(rr) != only_type)
			continue;
		print_rr_indented(out, indent, rr);
	}
}

/* The records of a section as a JSON array of presentation strings. */
static json_t *
json_records(const ldns_rr_list *list)
{
	json_t *arr = json_array();

	for (size_t i = 0;
	     arr != NULL && list != NULL && i < ldns_rr_list_rr_count(list);
	     i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(list, i));
		json_t *v;

		if (s == NULL)
			continue;
		s[strcspn(s, "\n")] = '\0';
		for (char *t = s; *t != '\0'; t++) {
			if (*t == '\t')
				*t = ' ';
		}
		v = md_json_string(s);
		if (v != NULL)
			json_array_append_new(arr, v);
		free(s);
	}
	return arr;
}

static bool
seen_server(struct tracer *tr, const struct md_sockaddr *sa)
{
	for (unsigned i = 0; i < tr->nseen; i++) {
		if (tr->seen[i].len == sa->len &&
		    memcmp(&tr->seen[i].ss, &sa->ss, sa->len) == 0)
			return true;
	}
	if (tr->nseen < sizeof(tr->seen) / sizeof(tr->seen[0]))
		tr->seen[tr->nseen++] = *sa;
	return false;
}

/* ---- the three renderings of an event ----------------------------------- */

/* The zone a referral points to: the owner of its NS set. */
static void
referral_zone(const ldns_pkt *pkt, char *buf, size_t size)
{
	const ldns_rr_list *auth = pkt != NULL ? ldns_pkt_authority(pkt) : NULL;

	md_strlcpy(buf, "?", size);
	for (size_t i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth);
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		char *o;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS)
			continue;
		o = ldns_rdf2str(ldns_rr_owner(rr));
		if (o != NULL)
			md_strlcpy(buf, o, size);
		free(o);
		return;
	}
}

/*
 * What a reply was, in a few words, as the engine classified it (and
 * whether the name asked was a minimised one): the end of every step.
 */
static void
outcome_text(const struct md_trace_event *ev, const ldns_pkt *pkt, char *buf,
    size_t size)
{
	char name[MD_NAME_STRLEN], type[32], zone[MD_NAME_STRLEN];
	const char *why = ev->why != NULL ? ev->why : "";
	const char *sep = ev->why != NULL ? ": " : "";
	const char *rc;

	name_text(ev->qname, name, sizeof(name));
	type_text(ev->qtype, type, sizeof(type));
	switch (ev->reply) {
	case MD_REPLY_REFERRAL:
		referral_zone(pkt, zone, sizeof(zone));
		snprintf(buf, size, "referral to %s", zone);
		break;
	case MD_REPLY_ANSWER:
		if (ev->qmin)
			snprintf(buf, size,
			    "%s exists (data at the shortened name): "
			    "one label more next",
			    name);
		else
			snprintf(buf, size, "answer for %s %s", name, type);
		break;
	case MD_REPLY_CNAME:
		snprintf(buf, size, "CNAME: %s is an alias%s", name,
		    ev->qmin ? " (at the shortened name)" : "");
		break;
	case MD_REPLY_NXDOMAIN:
		snprintf(buf, size, "NXDOMAIN: %s does not exist%s", name,
		    ev->qmin ? " (a shortened name)" : "");
		break;
	case MD_REPLY_NODATA:
		if (ev->qmin)
			snprintf(buf, size,
			    "NODATA: %s exists (a shortened name): one "
			    "label more next",
			    name);
		else
			snprintf(buf, size, "NODATA: %s has no %s records",
			    name, type);
		break;
	case MD_REPLY_LAME:
		snprintf(buf, size, "lame%s%s", sep, why);
		break;
	case MD_REPLY_REFUSED:
		rc = ev->rcode >= 0 ? md_rcode_str(ev->rcode) : "refused";
		/* the engine's reason is often the rcode itself */
		if (strcmp(why, rc) == 0)
			sep = why = "";
		snprintf(buf, size, "%s%s%s", rc, sep, why);
		break;
	case MD_REPLY_FORMERR:
		snprintf(buf, size, "%s%s%s",
		    ev->rcode >= 0 ? md_rcode_str(ev->rcode) : "FORMERR", sep,
		    why);
		break;
	case MD_REPLY_TRUNCATED:
		snprintf(buf, size, "truncated (TC)%s%s", sep, why);
		break;
	case MD_REPLY_MALFORMED:
	default:
		snprintf(buf, size, "unusable reply%s%s", sep, why);
		break;
	}
	/* A reply that came after the engine had asked again says so. */
	if (ev->why != NULL && strncmp(ev->why, "late", 4) == 0 &&
	    ev->reply != MD_REPLY_LAME && ev->reply != MD_REPLY_REFUSED &&
	    ev->reply != MD_REPLY_FORMERR && ev->reply != MD_REPLY_TRUNCATED &&
	    ev->reply != MD_REPLY_MALFORMED) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, " (%s)", ev->why);
	}
}

/* A reply that leaves the question with the engine to ask again. */
static bool
failed_reply(enum md_reply_class c)
{
	return c == MD_REPLY_LAME || c == MD_REPLY_REFUSED ||
	    c == MD_REPLY_FORMERR || c == MD_REPLY_MALFORMED;
}

/* The question a sub-lookup at 'depth' goes back to, as text. */
static void
back_to(const struct tracer *tr, unsigned depth, char *buf, size_t size)
{
	char name[MD_NAME_STRLEN], type[32];
	unsigned d = depth > 0 ? depth - 1 : 0;

	if (d >= sizeof(tr->q_type) / sizeof(tr->q_type[0]) ||
	    tr->q_name[d][0] == 0) {
		md_strlcpy(buf, "the question before", size);
		return;
	}
	name_text(tr->q_name[d], name, sizeof(name));
	type_text(tr->q_type[d], type, sizeof(type));
	snprintf(buf, size, "%s%s %s",
	    d == 0 ? "the main question, " : "the look-up of ", name, type);
}

/* ---- +dnssec: the chain of trust ---------------------------------------- */

/* "the root" or the zone's name, for sentences. */
static void
zone_words(const uint8_t *zone, char *buf, size_t size)
{
	if (zone[0] == 0)
		md_strlcpy(buf, "the root", size);
	else
		name_text(zone, buf, size);
}

static void
ds_proof_set(struct tracer *tr, const uint8_t *name, const char *proof)
{
	unsigned max = sizeof(tr->ds_proofs) / sizeof(tr->ds_proofs[0]);
	unsigned i;

	for (i = 0; i < tr->nds_proofs && i < max; i++) {
		if (md_name_equal(tr->ds_proofs[i].name, name))
			break;
	}
	if (i == max)
		i = tr->nds_proofs++ % max;
	else if (i == tr->nds_proofs)
		tr->nds_proofs++;
	memcpy(tr->ds_proofs[i].name, name, md_name_len(name));
	tr->ds_proofs[i].proof = proof;
}

/*
 * A reply that denies a DS: the answer to a DS question, or a referral
 * without a DS (a parent proves the child unsigned in its referral).
 * Which records proved it (NSEC or NSEC3) is not in the validation
 * event: it is kept here, by name, for the sentences.
 */
static void
note_ds_proof(struct tracer *tr, const struct md_trace_event *ev)
{
	struct md_arena a;
	struct md_msg m;
	const uint8_t *cut = NULL;
	const char *proof = NULL;
	bool has_ds = false;

	if (!tr->o->dnssec || ev->kind != MD_TRACE_REPLY || ev->pkt == NULL)
		return;
	md_arena_init(&a, 8192);
	if (md_msg_parse(ev->pkt, ev->pkt_len, &a, &m) == 0) {
		for (unsigned i = 0; i < m.nrr; i++) {
			const struct md_msg_rr *rr = &m.rrs[i];

			if (rr->section != MD_SECTION_AUTHORITY)
				continue;
			if (rr->type == MD_TYPE_NS && cut == NULL)
				cut = rr->owner;
			else if (rr->type == MD_TYPE_DS)
				has_ds = true;
			else if (rr->type == MD_TYPE_NSEC3)
				proof = "NSEC3";
			else if (rr->type == MD_TYPE_NSEC && proof == NULL)
				proof = "NSEC";
		}
		if ((ev->reply == MD_REPLY_NXDOMAIN ||
			ev->reply == MD_REPLY_NODATA) &&
		    ev->depth == 0)
			tr->neg_proof = proof;
		if (proof != NULL && ev->qtype == MD_TYPE_DS &&
		    ev->reply == MD_REPLY_NODATA)
			ds_proof_set(tr, ev->qname, proof);
		else if (proof != NULL && !has_ds && cut != NULL &&
		    ev->reply == MD_REPLY_REFERRAL)
			ds_proof_set(tr, cut, proof);
	}
	md_arena_deinit(&a);
}

static const char *
ds_proof(const struct tracer *tr, const uint8_t *name)
{
	unsigned max = sizeof(tr->ds_proofs) / sizeof(tr->ds_proofs[0]);

	for (unsigned i = 0; i < tr->nds_proofs && i < max; i++) {
		if (md_name_equal(tr->ds_proofs[i].name, name))
			return tr->ds_proofs[i].proof;
	}
	return NULL;
}

/* dig's layout: after a reply with a DNSKEY set, its keys by tag. */
static void
print_keys(FILE *out, const char *in, const struct md_trace_event *ev)
{
	struct md_arena a;
	struct md_msg m;
	char owner[MD_NAME_STRLEN];
	bool any = false;

	if (ev->pkt == NULL)
		return;
	md_arena_init(&a, 8192);
	if (md_msg_parse(ev->pkt, ev->pkt_len, &a, &m) == 0) {
		for (unsigned i = 0; i < m.nrr; i++) {
			const struct md_msg_rr *rr = &m.rrs[i];
			uint16_t flags;

			if (rr->section != MD_SECTION_ANSWER ||
			    rr->type != MD_TYPE_DNSKEY || rr->rdlen < 4)
				continue;
			flags = (uint16_t)(rr->rdata[0] << 8 | rr->rdata[1]);
			if (!any) {
				name_text(rr->owner, owner, sizeof(owner));
				fprintf(out, "%s;; keys of %s:", in, owner);
				any = true;
			}
			fprintf(out, " %u (%s%s, alg %u)",
			    md_dnssec_key_tag(rr->rdata, rr->rdlen),
			    (flags & 0x0001) ? "KSK, SEP" : "ZSK",
			    (flags & 0x0080) ? ", REVOKED" : "", rr->rdata[3]);
		}
		if (any)
			fputs("\n", out);
	}
	md_arena_deinit(&a);
}

/* "(EDE 6)" when the event has one. */
static void
ede_text(uint16_t ede, char *buf, size_t size)
{
	if (ede != MD_EDE_NONE)
		snprintf(buf, size, " (EDE %u)", ede);
	else
		buf[0] = '\0';
}

/* dig's layout: one link, "NAME TYPE: security (EDE n): why (key k alg
 * a)", the key unless the engine's words name it already. */
static void
val_line(const struct md_trace_event *ev, char *buf, size_t size)
{
	char name[MD_NAME_STRLEN], type[32], ede[32], key[64];
	const char *why = ev->why != NULL ? ev->why : "";

	name_text(ev->qname, name, sizeof(name));
	type_text(ev->qtype, type, sizeof(type));
	ede_text(ev->ede, ede, sizeof(ede));
	key[0] = '\0';
	if (ev->key_tag != 0) {
		char tag[16];

		snprintf(tag, sizeof(tag), "key %u", ev->key_tag);
		if (strstr(why, tag) == NULL)
			snprintf(key, sizeof(key), " (key %u alg %u)",
			    ev->key_tag, ev->algorithm);
	}
	snprintf(buf, size, "%s %s: %s%s%s%s%s", name, type,
	    md_security_str(ev->security), ede, why[0] != '\0' ? ": " : "", why,
	    key);
}

/* snprintf for sentences made of names and the engine's words: cut at
 * the buffer's end, as a line of the trace may be. */
static void say(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* The key an RRSIG verdict names: the event's, or the one the
 * engine's words give ("RRSIG by key 28958/13 ..."). */
static unsigned
why_key(const struct md_trace_event *ev)
{
	const char *k;
	unsigned tag;

	if (ev->key_tag != 0)
		return ev->key_tag;
	k = ev->why != NULL ? strstr(ev->why, "by key ") : NULL;
	if (k != NULL && sscanf(k, "by key %u", &tag) == 1)
		return tag;
	return 0;
}

/* The engine's words without a leading "the DNSKEY set of NAME: " when
 * the sentence names that link already. */
static const char *
why_after(const char *why, const char *link, const char *name)
{
	size_t ll = strlen(link), nl = strlen(name);

	if (strncmp(why, link, ll) == 0 && strncmp(why + ll, name, nl) == 0 &&
	    strncmp(why + ll + nl, ": ", 2) == 0)
		return why + ll + nl + 2;
	return why;
}

/* +explain: one link, in a sentence (no newline). */
static void
val_sentence(const struct tracer *tr, const struct md_trace_event *ev,
    char *buf, size_t size)
{
	char name[MD_NAME_STRLEN], type[32], zone[MD_NAME_STRLEN];
	char ede[32], zname[MD_NAME_STRLEN];
	const char *why = ev->why != NULL ? ev->why : "";
	const char *proof;
	unsigned nkeys = 0;
	bool root = ev->qname[0] == 0;

	name_text(ev->qname, name, sizeof(name));
	type_text(ev->qtype, type, sizeof(type));
	zone_words(ev->zone, zone, sizeof(zone));
	name_text(ev->zone, zname, sizeof(zname));
	ede_text(ev->ede, ede, sizeof(ede));

	switch (ev->val_step) {
	case MD_VAL_DNSKEY:
		if (ev->security == MD_SEC_SECURE &&
		    strstr(why, "checked before") != NULL) {
			say(buf, size,
			    "The keys of %s were checked earlier in this "
			    "run: still trusted.",
			    root ? "the root zone" : name);
		} else if (ev->security == MD_SEC_SECURE) {
			if (sscanf(why, "%u keys", &nkeys) != 1)
				nkeys = 0;
			if (root || strstr(why, "trust anchor") != NULL)
				say(buf, size,
				    "The %s keys are trusted: key %u "
				    "matches the trust anchor and signs "
				    "the %s DNSKEY set (%u keys).",
				    root ? "root zone's" : name, ev->key_tag,
				    root ? "root's" : "zone's", nkeys);
			else
				say(buf, size,
				    "The keys of %s are trusted: key %u "
				    "matches the DS record and signs the "
				    "DNSKEY set of %s (%u keys).",
				    name, ev->key_tag, name, nkeys);
		} else if (ev->security == MD_SEC_BOGUS) {
			say(buf, size,
			    "bogus%s: the keys of %s cannot be trusted: %s.",
			    ede, name,
			    why_after(why, "the DNSKEY set of ", name));
		} else {
			say(buf, size,
			    "insecure: the keys of %s cannot be checked: "
			    "%s.",
			    name, why);
		}
		break;
	case MD_VAL_DS:
		proof = ds_proof(tr, ev->qname);
		if (ev->security == MD_SEC_SECURE && ev->key_tag != 0)
			say(buf, size,
			    "%s is a signed delegation: %s signs a DS "
			    "record for %s (with its key %u); a key of %s "
			    "must match it.",
			    name, zone, name, ev->key_tag, name);
		else if (ev->security == MD_SEC_SECURE &&
		    strstr(why, "not a zone cut") != NULL)
			say(buf, size,
			    "%s is no zone cut: %s proves there is no DS "
			    "there, so the keys of %s go on ruling.",
			    name, zone, zone);
		else if (ev->security == MD_SEC_SECURE)
			say(buf, size,
			    "%s is a signed delegation: its DS records "
			    "were checked before (%s).",
			    name, why);
		else if (ev->security == MD_SEC_INSECURE &&
		    strstr(why, "unsigned delegation") != NULL)
			say(buf, size,
			    "insecure: %s is delegated without a DS "
			    "record, proven by the %s record%s of %s: "
			    "nothing below is signed.",
			    name, proof != NULL ? proof : "NSEC/NSEC3",
			    proof != NULL ? "" : "s", zname);
		else if (ev->security == MD_SEC_INSECURE)
			say(buf, size,
			    "insecure: the chain of trust ends at %s: %s.",
			    name, why);
		else
			say(buf, size,
			    "bogus%s: the DS link from %s to %s is broken: "
			    "%s.",
			    ede, zone, name, why);
		break;
	case MD_VAL_RRSET:
		if (ev->security == MD_SEC_SECURE)
			say(buf, size,
			    "The signature over %s %s verifies with key %u "
			    "of %s: the data is authentic.",
			    name, type, ev->key_tag, zname);
		else if (ev->security == MD_SEC_BOGUS && why_key(ev) != 0 &&
		    strstr(why, "does not verify") != NULL)
			say(buf, size,
			    "bogus%s: the signature over %s %s does not "
			    "verify with key %u of %s.",
			    ede, name, type, why_key(ev), zname);
		else if (ev->security == MD_SEC_BOGUS && why_key(ev) != 0 &&
		    ev->ede == MD_EDE_SIGNATURE_EXPIRED)
			say(buf, size,
			    "bogus%s: the signature over %s %s by key %u of "
			    "%s has expired: %s.",
			    ede, name, type, why_key(ev), zname, why);
		else if (ev->security == MD_SEC_BOGUS)
			say(buf, size, "bogus%s: %s %s cannot be trusted: %s.",
			    ede, name, type, why);
		else
			say(buf, size,
			    "%s %s is not signed by a chain of trust "
			    "(insecure): %s.",
			    name, type, why);
		break;
	case MD_VAL_DENIAL:
		if (ev->security == MD_SEC_SECURE)
			say(buf, size,
			    "The denial for %s %s is proven by signed %s "
			    "records of %s (%s).",
			    name, type,
			    tr->neg_proof != NULL ? tr->neg_proof
						  : "NSEC/NSEC3",
			    zname, why);
		else if (ev->security == MD_SEC_BOGUS)
			say(buf, size,
			    "bogus%s: the denial for %s %s is not proven: "
			    "%s.",
			    ede, name, type, why);
		else
			say(buf, size, "The denial for %s %s is insecure: %s.",
			    name, type, why);
		break;
	default:
		say(buf, size, "DNSSEC %s %s: %s%s: %s.", name, type,
		    md_security_str(ev->security), ede, why);
		break;
	}
	/* a sentence that ends with a name ends with its dot */
	{
		size_t n = strlen(buf);

		if (n >= 2 && buf[n - 1] == '.' && buf[n - 2] == '.')
			buf[n - 1] = '\0';
	}
}

/* Keep what the verdict line needs: the first insecure and bogus links,
 * in dig's words and in +explain's, and the verdict itself. */
static void
note_validate(struct tracer *tr, const struct md_trace_event *ev)
{
	char name[MD_NAME_STRLEN], type[32], zone[MD_NAME_STRLEN], ede[32];
	const char *why = ev->why != NULL ? ev->why : "";
	const char *proof;
	char(*slot)[768];

	if (ev->val_step == MD_VAL_VERDICT) {
		tr->val_seen = true;
		tr->val_sec = ev->security;
		return;
	}
	if (ev->security == MD_SEC_INSECURE)
		slot = tr->val_insecure;
	else if (ev->security == MD_SEC_BOGUS)
		slot = tr->val_bogus;
	else
		return;
	if (slot[0][0] != '\0')
		return;
	name_text(ev->qname, name, sizeof(name));
	type_text(ev->qtype, type, sizeof(type));
	name_text(ev->zone, zone, sizeof(zone));
	ede_text(ev->ede, ede, sizeof(ede));
	if (ev->security == MD_SEC_INSECURE && ev->val_step == MD_VAL_DS &&
	    strstr(why, "unsigned delegation") != NULL) {
		proof = ds_proof(tr, ev->qname);
		say(slot[0], sizeof(slot[0]), "%s (no DS in %s, proven by %s)",
		    why, zone, proof != NULL ? proof : "NSEC/NSEC3");
	} else if (ev->security == MD_SEC_INSECURE) {
		say(slot[0], sizeof(slot[0]), "at %s %s: %s", name, type, why);
	} else {
		char link[2 * MD_NAME_STRLEN + 96];

		if (ev->val_step == MD_VAL_DS)
			say(link, sizeof(link), "the DS of %s (signed by %s)",
			    name, zone);
		else if (ev->val_step == MD_VAL_DNSKEY)
			say(link, sizeof(link), "the DNSKEY set of %s", name);
		else if (ev->val_step == MD_VAL_DENIAL)
			say(link, sizeof(link),
			    "the denial for %s %s (from %s)", name, type, zone);
		else
			say(link, sizeof(link), "%s %s (signed by %s)", name,
			    type, zone);
		if (strstr(why, name) != NULL)
			say(slot[0], sizeof(slot[0]), "%s", why);
		else
			say(slot[0], sizeof(slot[0]), "%s: %s", link, why);
		tr->val_bogus_ede = ev->ede;
	}
	val_sentence(tr, ev, slot[1], sizeof(slot[1]));
}

/* dig's layout: records and "Received" lines; comments for the rest. */
static void
render_dig(struct tracer *tr, const struct md_trace_event *ev)
{
	FILE *out = tr->out;
	char name[MD_NAME_STRLEN], sname[MD_NAME_STRLEN], addr[80];
	char type[32], what[2 * MD_NAME_STRLEN + 512];
	char back[MD_NAME_STRLEN + 64];
	const char *in = indent_of(ev->depth);
	ldns_pkt *pkt = NULL;

	name_text(ev->qname, name, sizeof(name));
	type_text(ev->qtype, type, sizeof(type));
	if (ev->server_name[0] != 0) {
		name_text(ev->server_name, sname, sizeof(sname));
		md_tool_name_nodot(sname);
	} else {
		sname[0] = '\0';
	}
	if (ev->server.len > 0)
		addr_text(&ev->server, addr, sizeof(addr));
	else
		addr[0] = '\0';
	if (sname[0] == '\0' && ev->server.len > 0)
		host_text(&ev->server, sname, sizeof(sname));

	switch (ev->kind) {
	case MD_TRACE_SERVER:
		/* After a failed step, the engine's choice of what to ask
		 * next (another server, or the same one again) and why. */
		if (tr->after_failure && !tr->o->explain)
			fprintf(out, "%s;; Next: %s(%s), %s\n", in, addr, sname,
			    ev->why != NULL ? ev->why : "");
		tr->after_failure = false;
		break;
	case MD_TRACE_REPLY:
		if (ev->pkt != NULL &&
		    ldns_wire2pkt(&pkt, ev->pkt, ev->pkt_len) != LDNS_STATUS_OK)
			pkt = NULL;
		if (pkt != NULL) {
			switch (ev->reply) {
			case MD_REPLY_REFERRAL:
				print_records(out, in, ldns_pkt_authority(pkt),
				    LDNS_RR_TYPE_NS);
				break;
			case MD_REPLY_ANSWER:
			case MD_REPLY_CNAME:
				print_records(out, in, ldns_pkt_answer(pkt), 0);
				if (tr->o->dnssec)
					print_keys(out, in, ev);
				break;
			case MD_REPLY_NXDOMAIN:
			case MD_REPLY_NODATA:
				print_records(out, in, ldns_pkt_answer(pkt), 0);
				print_records(out, in, ldns_pkt_authority(pkt),
				    LDNS_RR_TYPE_SOA);
				break;
			default:
				break;
			}
		}
		fprintf(out, "%s;; Received %zu bytes from %s(%s) in %u ms%s\n",
		    in, ev->reply_size, addr, sname, ev->rtt_ms,
		    ev->tls	  ? " (TLS)"
			: ev->tcp ? " (TCP)"
				  : "");
		if (!tr->o->explain) {
			outcome_text(ev, pkt, what, sizeof(what));
			fprintf(out, "%s;; Outcome: %s\n", in, what);
		}
		fputs("\n", out);
		if (pkt != NULL)
			ldns_pkt_free(pkt);
		tr->after_failure = failed_reply(ev->reply);
		break;
	case MD_TRACE_TIMEOUT:
		fprintf(out,
		    "%s;; Outcome: timeout at %s(%s) for %s %s: %s\n\n", in,
		    addr, sname, name, type,
		    ev->why != NULL ? ev->why : "no reply");
		tr->after_failure = true;
		break;
	case MD_TRACE_NET_ERROR:
		fprintf(out,
		    "%s;; Outcome: communications error to %s(%s): %s\n\n", in,
		    addr, sname, ev->why != NULL ? ev->why : "error");
		tr->after_failure = true;
		break;
	case MD_TRACE_TCP_RETRY:
		fprintf(out, "%s;; Truncated, retrying in TCP mode.\n", in);
		tr->after_failure = false;
		break;
	case MD_TRACE_EDNS_FALLBACK:
		fprintf(out,
		    "%s;; %s does not take EDNS: asking again "
		    "without\n",
		    in, addr);
		tr->after_failure = false;
		break;
	case MD_TRACE_SUBQUERY:
		name_text(ev->server_name, sname, sizeof(sname));
		fprintf(out,
		    "%s;; %s came without glue: looking up its "
		    "address first (a sub-lookup)\n\n",
		    in, sname);
		break;
	case MD_TRACE_DONE:
		if (ev->depth == 0)
			break;
		back_to(tr, ev->depth, back, sizeof(back));
		fprintf(out,
		    "%s;; End of the sub-lookup of %s %s (%s); back to %s\n\n",
		    indent_of(ev->depth - 1), name, type,
		    md_rcode_str(ev->rcode), back);
		break;
	case MD_TRACE_CNAME:
		fprintf(
		    out, "%s;; CNAME: following the chain to %s\n\n", in, name);
		break;
	case MD_TRACE_CACHE_HIT:
		fprintf(out, "%s;; %s %s known from an earlier step (%s)\n", in,
		    name, type, ev->why != NULL ? ev->why : "cache");
		break;
	case MD_TRACE_FAIL:
		fprintf(out, "%s;; %s failed: %s\n", in,
		    ev->depth > 0 ? "sub-lookup" : "resolution",
		    ev->why != NULL ? ev->why : "?");
		break;
	case MD_TRACE_QMIN_FALLBACK:
		fprintf(out, "%s;; QNAME minimisation: %s\n", in,
		    ev->why != NULL ? ev->why : "asking the full name");
		break;
	case MD_TRACE_VALIDATE:
		/* the verdict closes the walk (print_verdict) */
		if (ev->val_step == MD_VAL_VERDICT)
			break;
		val_line(ev, what, sizeof(what));
		fprintf(out, "%s;; DNSSEC %s\n", in, what);
		break;
	default:
		break;
	}
}

/* +explain: what happened, in words, after each step. */
static void
render_explain(struct tracer *tr, const struct md_trace_event *ev)
{
	FILE *out = tr->out;
	char name[MD_NAME_STRLEN], zone[MD_NAME_STRLEN], sname[MD_NAME_STRLEN];
	char host[80], type[32], full[MD_NAME_STRLEN];
	const char *rc;
	char back[MD_NAME_STRLEN + 64];
	const char *indent = indent_of(ev->depth);

	name_text(ev->qname, name, sizeof(name));
	name_text(ev->zone, zone, sizeof(zone));
	type_text(ev->qtype, type, sizeof(type));
	if (ev->server_name[0] != 0)
		name_text(ev->server_name, sname, sizeof(sname));
	else
		md_strlcpy(sname, "a server", sizeof(sname));
	if (ev->server.len > 0)
		host_text(&ev->server, host, sizeof(host));
	else
		host[0] = '\0';

	switch (ev->kind) {
	case MD_TRACE_DELEGATION:
		fprintf(out,
		    "%s; Start: the closest zone we know for %s is "
		    "%s (%s).\n",
		    indent, name, zone, ev->why != NULL ? ev->why : "");
		break;
	case MD_TRACE_SERVER:
		fprintf(out, "%s; Ask %s (%s), a server of %s: %s.\n", indent,
		    sname, host, zone, ev->why != NULL ? ev->why : "");
		break;
	case MD_TRACE_SEND:
		fprintf(out, "%s;   query: %s %s over %s", indent, name, type,
		    ev->tls	  ? "TLS"
			: ev->tcp ? "TCP"
				  : "UDP");
		if (ev->qmin &&
		    ev->depth < sizeof(tr->q_type) / sizeof(tr->q_type[0])) {
			name_text(tr->q_name[ev->depth], full, sizeof(full));
			fprintf(out,
			    " (QNAME minimisation: we want %s, but ask this "
			    "server only for the labels it needs)",
			    full);
		}
		fputs("\n", out);
		break;
	case MD_TRACE_REPLY:
		fprintf(out, "%s;   reply in %u ms, %zu bytes: ", indent,
		    ev->rtt_ms, ev->reply_size);
		switch (ev->reply) {
		case MD_REPLY_REFERRAL:
			fprintf(out,
			    "a referral: %s does not have the answer "
			    "but knows who does.\n",
			    sname);
			break;
		case MD_REPLY_ANSWER:
			if (ev->qmin)
				fprintf(out,
				    "%s exists (it has data): we ask for one "
				    "label more next.\n",
				    name);
			else
				fprintf(
				    out, "the answer for %s %s.\n", name, type);
			break;
		case MD_REPLY_CNAME:
			fprintf(out, "%s is an alias (CNAME).\n", name);
			break;
		case MD_REPLY_NXDOMAIN:
			fprintf(out, "NXDOMAIN: %s does not exist%s.\n", name,
			    ev->qmin ? " (says the server, of a shortened name)"
				     : "");
			break;
		case MD_REPLY_NODATA:
			if (ev->qmin)
				fprintf(out,
				    "NODATA: %s exists (perhaps only as a "
				    "step on the way): we ask for one label "
				    "more next.\n",
				    name);
			else
				fprintf(out,
				    "NODATA: %s exists, but has no %s "
				    "records.\n",
				    name, type);
			break;
		case MD_REPLY_TRUNCATED:
			fprintf(out,
			    "truncated: the answer does not fit in a "
			    "UDP message.\n");
			break;
		case MD_REPLY_REFUSED:
		case MD_REPLY_FORMERR:
			rc = ev->rcode >= 0 ? md_rcode_str(ev->rcode) : "?";
			if (ev->why != NULL && strcmp(ev->why, rc) != 0)
				fprintf(out,
				    "%s (%s): no use for this "
				    "question.\n",
				    rc, ev->why);
			else
				fprintf(out,
				    "%s: no use for this "
				    "question.\n",
				    rc);
			break;
		default:
			fprintf(out, "unusable (%s: %s).\n",
			    md_reply_class_str(ev->reply),
			    ev->why != NULL ? ev->why : "");
			break;
		}
		break;
	case MD_TRACE_REFERRAL:
		fprintf(out, "%s; Next: go down to the zone %s (%s).\n", indent,
		    zone, ev->why != NULL ? ev->why : "");
		break;
	case MD_TRACE_TIMEOUT:
		/* The engine's words: what it does next, and whether the
		 * question's time is up. */
		fprintf(out, "%s;   timeout: %s did not answer %s %s: %s.%s\n",
		    indent, host, name, type,
		    ev->why != NULL ? ev->why : "no reply",
		    ev->why != NULL && strstr(ev->why, "time is up") != NULL
			? ""
			: " This server's next timeout is twice as long.");
		break;
	case MD_TRACE_NET_ERROR:
		fprintf(out, "%s;   %s cannot be reached (%s).\n", indent, host,
		    ev->why != NULL ? ev->why : "error");
		break;
	case MD_TRACE_TCP_RETRY:
		fprintf(out,
		    "%s;   so we ask the same server again over TCP, "
		    "which has no size limit.\n",
		    indent);
		break;
	case MD_TRACE_EDNS_FALLBACK:
		fprintf(out,
		    "%s;   the server rejected EDNS: we ask again "
		    "without it.\n",
		    indent);
		break;
	case MD_TRACE_CNAME:
		fprintf(out,
		    "%s; Next: the alias points to %s; resolution "
		    "starts again there.\n",
		    indent, name);
		break;
	case MD_TRACE_SUBQUERY:
		name_text(ev->server_name, sname, sizeof(sname));
		fprintf(out,
		    "%s; The referral names %s as a server but gives "
		    "no address for it (no glue): we resolve %s "
		    "first.\n",
		    indent, sname, sname);
		break;
	case MD_TRACE_CACHE_HIT:
		tr->cache_hits++;
		fprintf(out,
		    "%s; %s %s: already known from an earlier step "
		    "(cache: %s).\n",
		    indent, name, type, ev->why != NULL ? ev->why : "");
		break;
	case MD_TRACE_DONE:
		if (ev->depth == 0)
			break;
		back_to(tr, ev->depth, back, sizeof(back));
		fprintf(out,
		    "%s; End of the sub-lookup of %s %s (%s); back to %s.\n",
		    indent_of(ev->depth - 1), name, type,
		    md_rcode_str(ev->rcode), back);
		break;
	case MD_TRACE_FAIL:
		fprintf(out, "%s; Failed: %s.\n", indent,
		    ev->why != NULL ? ev->why : "?");
		break;
	case MD_TRACE_QMIN_FALLBACK:
		fprintf(out,
		    "%s; QNAME minimisation gives up here (%s): like "
		    "Unbound, we ask the full name instead.\n",
		    indent, ev->why != NULL ? ev->why : "");
		break;
	case MD_TRACE_VALIDATE: {
		char sentence[2 * MD_NAME_STRLEN + 768];

		if (ev->val_step == MD_VAL_VERDICT)
			break;
		val_sentence(tr, ev, sentence, sizeof(sentence));
		fprintf(out, "%s; DNSSEC: %s\n", indent, sentence);
		break;
	}
	default:
		break;
	}
}

/* +json: one object per event, in a "steps" array; fills o. */
static void
render_json(struct tracer *tr, const struct md_trace_event *ev, json_t *o)
{
	char buf[MD_NAME_STRLEN];
	ldns_pkt *pkt = NULL;

	(void)tr;
	jset(o, "event", json_string(md_trace_kind_str(ev->kind)));
	jset(o, "depth", json_integer(ev->depth));
	jset(o, "time_ms", json_integer((json_int_t)ev->time_ms));
	name_text(ev->qname, buf, sizeof(buf));
	jset(o, "qname", md_json_string(buf));
	type_text(ev->qtype, buf, sizeof(buf));
	jset(o, "qtype", md_json_string(buf));
	name_text(ev->zone, buf, sizeof(buf));
	jset(o, "zone", md_json_string(buf));
	if (ev->server.len > 0) {
		host_text(&ev->server, buf, sizeof(buf));
		jset(o, "server", md_json_string(buf));
	}
	if (ev->server_name[0] != 0) {
		name_text(ev->server_name, buf, sizeof(buf));
		jset(o, "server_name", md_json_string(buf));
	}
	if (ev->kind == MD_TRACE_SEND || ev->kind == MD_TRACE_REPLY)
		jset(o, "transport",
		    json_string(ev->tls ? "tls"
			    : ev->tcp	? "tcp"
					: "udp"));
	if (ev->qmin)
		jset(o, "qmin", json_true());
	if (ev->kind == MD_TRACE_REPLY) {
		jset(o, "class", json_string(md_reply_class_str(ev->reply)));
		jset(o, "rcode",
		    json_string(
			ev->rcode >= 0 ? md_rcode_str(ev->rcode) : "-"));
		jset(o, "rtt_ms", json_integer(ev->rtt_ms));
		jset(o, "bytes", json_integer((json_int_t)ev->reply_size));
		if (ev->pkt != NULL &&
		    ldns_wire2pkt(&pkt, ev->pkt, ev->pkt_len) ==
			LDNS_STATUS_OK) {
			jset(o, "answer", json_records(ldns_pkt_answer(pkt)));
			jset(o, "authority",
			    json_records(ldns_pkt_authority(pkt)));
			jset(o, "additional",
			    json_records(ldns_pkt_additional(pkt)));
			ldns_pkt_free(pkt);
		}
	}
	if (ev->kind == MD_TRACE_TIMEOUT)
		jset(o, "waited_ms", json_integer(ev->rtt_ms));
	if (ev->kind == MD_TRACE_DONE)
		jset(o, "rcode", json_string(md_rcode_str(ev->rcode)));
	if (ev->kind == MD_TRACE_VALIDATE) {
		jset(o, "step", json_string(md_val_step_str(ev->val_step)));
		name_text(ev->qname, buf, sizeof(buf));
		jset(o, "name", md_json_string(buf));
		type_text(ev->qtype, buf, sizeof(buf));
		jset(o, "type", md_json_string(buf));
		jset(o, "security", json_string(md_security_str(ev->security)));
		jset(o, "key_tag", json_integer(ev->key_tag));
		jset(o, "algorithm", json_integer(ev->algorithm));
		jset(o, "ede",
		    ev->ede != MD_EDE_NONE ? json_integer(ev->ede)
					   : json_null());
	}
	if (ev->why != NULL)
		jset(o, "why", md_json_string(ev->why));
}

/* The header flags of a reply, as dig lists them. */
static json_t *
json_flags(const uint8_t *pkt, size_t len)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {{0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"},
	    {0x0100, "rd"}, {0x0080, "ra"}, {0x0020, "ad"}, {0x0010, "cd"}};
	json_t *arr = json_array();
	uint16_t flags;

	if (arr == NULL || pkt == NULL || len < 4)
		return arr;
	flags = (uint16_t)(pkt[2] << 8 | pkt[3]);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit)
			json_array_append_new(arr, json_string(names[i].name));
	}
	return arr;
}

/* +html: the +explain lines of one step (and a reply's records, dig's
 * way), as the page shows them when the step is clicked. */
static json_t *
explain_text(struct tracer *tr, const struct md_trace_event *ev)
{
	FILE *out = tr->out, *mem;
	unsigned hits = tr->cache_hits;
	char *buf = NULL;
	size_t len = 0;
	json_t *v = NULL;

	mem = open_memstream(&buf, &len);
	if (mem == NULL)
		return NULL;
	tr->out = mem;
	render_explain(tr, ev);
	if (ev->kind == MD_TRACE_REPLY)
		render_dig(tr, ev);
	tr->out = out;
	tr->cache_hits = hits;
	if (fclose(mem) == 0 && buf != NULL) {
		while (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		v = md_json_string(buf);
	}
	free(buf);
	return v;
}

/* The id of the latest query to 'server' at this depth: what a reply,
 * timeout or retry answers (0: none). */
static unsigned
sent_id(const struct tracer *tr, const struct md_trace_event *ev)
{
	for (unsigned i = tr->nsends; i > 0; i--) {
		unsigned k = (i - 1) % TRACE_SENDS_KEPT;

		if (i + TRACE_SENDS_KEPT <= tr->nsends)
			break;
		if (tr->sends[k].depth == ev->depth &&
		    tr->sends[k].server.len == ev->server.len &&
		    memcmp(&tr->sends[k].server.ss, &ev->server.ss,
			ev->server.len) == 0)
			return tr->sends[k].id;
	}
	return 0;
}

/*
 * One step of the document: its id, the sub-lookup step it belongs to
 * ("parent", null at the client's own question), the phase, the event
 * (render_json), then the query it answers ("reply_to") and the reply's
 * header flags; with +html, its explanation.
 */
static void
add_step(struct tracer *tr, const struct md_trace_event *ev)
{
	unsigned id = ++tr->nsteps, parent = 0, to = 0;
	json_t *o = json_object();

	if (o == NULL)
		return;
	if (ev->depth > 0 && ev->depth <= TRACE_DEPTH_MAX)
		parent = tr->sub_open[ev->depth - 1];
	jset(o, "id", json_integer(id));
	jset(o, "parent", parent != 0 ? json_integer(parent) : json_null());
	jset(o, "phase", json_string(tr->phase));
	render_json(tr, ev, o);
	switch (ev->kind) {
	case MD_TRACE_SEND: {
		unsigned k = tr->nsends++ % TRACE_SENDS_KEPT;

		tr->sends[k].id = id;
		tr->sends[k].depth = ev->depth;
		tr->sends[k].server = ev->server;
		break;
	}
	case MD_TRACE_REPLY:
	case MD_TRACE_TIMEOUT:
	case MD_TRACE_NET_ERROR:
	case MD_TRACE_TCP_RETRY:
	case MD_TRACE_EDNS_FALLBACK:
		to = sent_id(tr, ev);
		if (to != 0)
			jset(o, "reply_to", json_integer(to));
		if (ev->kind == MD_TRACE_REPLY)
			jset(o, "flags", json_flags(ev->pkt, ev->pkt_len));
		break;
	case MD_TRACE_SUBQUERY:
		if (ev->depth < TRACE_DEPTH_MAX)
			tr->sub_open[ev->depth] = id;
		break;
	default:
		break;
	}
	if (tr->o->html != NULL)
		jset(o, "explain", explain_text(tr, ev));
	json_array_append_new(tr->steps, o);
}

static void compare_servers(struct tracer *tr, const struct md_trace_event *ev);
static void learn_servers(struct tracer *tr, const struct md_trace_event *ev);
static void learn_hints(struct tracer *tr);

/* The question being asked at each depth, for the sub-lookup lines. */
static void
track_question(struct tracer *tr, const struct md_trace_event *ev)
{
	size_t max = sizeof(tr->q_type) / sizeof(tr->q_type[0]);

	if (ev->depth >= max)
		return;
	if (ev->kind == MD_TRACE_START || ev->kind == MD_TRACE_DELEGATION ||
	    ev->kind == MD_TRACE_CNAME || ev->kind == MD_TRACE_SUBQUERY) {
		memcpy(
		    tr->q_name[ev->depth], ev->qname, md_name_len(ev->qname));
		tr->q_type[ev->depth] = ev->qtype;
	}
}

static void
trace_cb(void *arg, const struct md_trace_event *ev)
{
	struct tracer *tr = arg;

	track_question(tr, ev);
	note_ds_proof(tr, ev);
	if (ev->kind == MD_TRACE_VALIDATE)
		note_validate(tr, ev);

	if (ev->kind == MD_TRACE_SEND) {
		tr->queries++;
		seen_server(tr, &ev->server);
	}
	if (ev->kind == MD_TRACE_REPLY)
		tr->replies++;
	if (ev->kind == MD_TRACE_TIMEOUT)
		tr->timeouts++;
	if (tr->o->json || tr->o->html != NULL)
		add_step(tr, ev);
	if (!tr->o->json && tr->o->explain)
		render_explain(tr, ev);
	else if (!tr->o->json)
		render_dig(tr, ev);
	if (!tr->o->json && tr->o->explain && ev->kind == MD_TRACE_REPLY)
		render_dig(tr, ev);
	/* (+json: compare_servers() adds its steps to the document) */
	if (tr->o->allservers && ev->kind == MD_TRACE_REPLY) {
		learn_servers(tr, ev);
		compare_servers(tr, ev);
	}
}

/* ---- driving the engine ------------------------------------------------- */

static bool
family_ok(const struct tracer *tr, const struct md_sockaddr *sa)
{
	if (tr->o->ipv4_only && sa->ss.ss_family != AF_INET)
		return false;
	if (tr->o->ipv6_only && sa->ss.ss_family != AF_INET6)
		return false;
	return true;
}

/*
 * net/ as the daemon uses it (md_driver_net_send()), with what the
 * command line adds: -4/-6 make a server of the other family unreachable
 * (the engine hears of a failed send and picks another).  +tcp is the
 * engine's own (tcp_only), so its events say TCP and its timeouts are
 * TCP's.
 */
static void *
trace_send(void *arg, const struct md_send *s, md_net_cb cb, void *cb_arg)
{
	struct tracer *tr = arg;

	if (s->upstream == NULL && !family_ok(tr, &s->server))
		return NULL;
	return md_driver_net_send(tr->net, s, cb, cb_arg);
}

static void
trace_cancel(void *arg, void *handle)
{
	struct tracer *tr = arg;

	md_driver_net_cancel(tr->net, handle);
}

static void *
trace_timer(
    void *arg, void *handle, uint32_t ms, void (*cb)(void *), void *cb_arg)
{
	struct tracer *tr = arg;

	return md_driver_net_timer(tr->net, handle, ms, cb, cb_arg);
}

static void
trace_timer_cancel(void *arg, void *timer)
{
	struct tracer *tr = arg;

	md_driver_net_timer_cancel(tr->net, timer);
}

static void
run_done(void *arg)
{
	struct tracer *tr = arg;

	tr->done = true;
	event_base_loopbreak(tr->base);
}

/* Resolve one name with the tracer's engine, through the driver the
 * daemon's workers use; returns the request. */
static struct md_request *
run(struct tracer *tr, const uint8_t *qname, uint16_t qtype)
{
	struct md_drive dr;

	if (tr->o->allservers)
		learn_hints(tr);
	tr->req = md_resolve_new(&tr->env, qname, qtype, 0);
	if (tr->req == NULL)
		return NULL;
	md_resolve_set_trace(tr->req, trace_cb, tr);
	tr->done = false;
	md_drive_init(&dr, &tr->io, tr->req, run_done, tr);
	md_drive_run(&dr);
	while (!tr->done) {
		if (event_base_dispatch(tr->base) < 0)
			break;
	}
	md_drive_cancel(&dr);
	return tr->req;
}

/* Ask srv for the A and AAAA records of 'name'; add them as root hints. */
static void
ask_address(
    struct tracer *tr, const struct md_tool_server *srv, const uint8_t *name)
{
	static const uint16_t types[] = {MD_TYPE_A, MD_TYPE_AAAA};
	char text[MD_NAME_STRLEN];

	name_text(name, text, sizeof(text));
	for (size_t t = 0; t < 2; t++) {
		struct md_tool_query query;
		struct md_tool_exchange ex;
		struct md_arena a;
		struct md_msg m;

		if ((types[t] == MD_TYPE_A && tr->o->ipv6_only) ||
		    (types[t] == MD_TYPE_AAAA && tr->o->ipv4_only))
			continue;
		md_tool_query_init(&query);
		if (md_tool_query_set_name(&query, text) != 0)
			return;
		query.qtype = types[t];
		memset(&ex, 0, sizeof(ex));
		ex.server = srv;
		ex.query = &query;
		ex.tcp = tr->o->tcp;
		ex.timeout_ms = (int)tr->o->timeout_s * 1000;
		ex.tries = 2;
		ex.display_name = srv->name;
		ex.rng = tr->env.rng;
		md_arena_init(&a, 4096);
		if (md_tool_exchange(&ex) == 0 &&
		    md_msg_parse(ex.reply, ex.reply_len, &a, &m) == 0) {
			for (unsigned i = 0; i < m.nrr; i++) {
				struct md_sockaddr sa;

				if (m.rrs[i].section != MD_SECTION_ANSWER ||
				    !md_name_equal(m.rrs[i].owner, name) ||
				    !md_wire_addr_from_rdata(m.rrs[i].type,
					m.rrs[i].rdata, m.rrs[i].rdlen, &sa) ||
				    tr->conf.nhints >= MD_ROOT_HINTS_MAX)
					continue;
				memcpy(tr->conf.hints[tr->conf.nhints].name,
				    name, md_name_len(name));
				tr->conf.hints[tr->conf.nhints++].addr = sa;
			}
		}
		md_arena_deinit(&a);
		md_tool_exchange_deinit(&ex);
	}
}

/*
 * dig +trace @ADDR: the root NS set (and addresses) come from that
 * server, asked with RD set, instead of from the hints.
 */
static int
prime_from_server(struct tracer *tr)
{
	struct md_tool_exchange ex;
	struct md_tool_query query;
	struct md_tool_server srv;
	struct md_arena a;
	struct md_msg m;
	char addr[80], host[80];
	int rc = 0;
	ldns_pkt *pkt = NULL;

	memset(&srv, 0, sizeof(srv));
	srv.addr = tr->o->server;
	host_text(&tr->o->server, host, sizeof(host));
	md_strlcpy(srv.name, host, sizeof(srv.name));
	md_strlcpy(srv.host, host, sizeof(srv.host));
	md_tool_query_init(&query);
	md_tool_query_set_name(&query, ".");
	query.qtype = MD_TYPE_NS;
	memset(&ex, 0, sizeof(ex));
	ex.server = &srv;
	ex.query = &query;
	ex.tcp = tr->o->tcp;
	ex.timeout_ms = (int)tr->o->timeout_s * 1000;
	ex.tries = 2;
	ex.display_name = host;
	ex.rng = tr->env.rng;
	if (md_tool_exchange(&ex) != 0) {
		fprintf(tr->out, ";; no servers could be reached\n");
		md_tool_exchange_deinit(&ex);
		return MD_TOOL_EXIT_NOREPLY;
	}
	md_arena_init(&a, 8192);
	if (md_msg_parse(ex.reply, ex.reply_len, &a, &m) != 0) {
		fprintf(tr->out, ";; Got bad packet from %s\n", host);
		rc = MD_TOOL_EXIT_NOREPLY;
		goto cleanup;
	}
	if (!tr->o->json &&
	    ldns_wire2pkt(&pkt, ex.reply, ex.reply_len) == LDNS_STATUS_OK) {
		print_records(
		    tr->out, "", ldns_pkt_answer(pkt), LDNS_RR_TYPE_NS);
		ldns_pkt_free(pkt);
		addr_text(&tr->o->server, addr, sizeof(addr));
		fprintf(tr->out,
		    ";; Received %zu bytes from %s(%s) in %llu "
		    "ms%s\n",
		    ex.reply_len, addr, host, (unsigned long long)ex.rtt_ms,
		    ex.used_tcp ? " (TCP)" : "");
		if (!tr->o->explain)
			fprintf(tr->out,
			    ";; Outcome: the root servers, from %s\n", host);
		fputs("\n", tr->out);
	}
	/* The NS names of the root, with the addresses the reply gave. */
	tr->conf.nhints = 0;
	for (unsigned i = 0; i < m.nrr; i++) {
		const struct md_msg_rr *ns = &m.rrs[i];

		if (ns->section != MD_SECTION_ANSWER ||
		    ns->type != MD_TYPE_NS || ns->owner[0] != 0)
			continue;
		for (unsigned j = 0; j < m.nrr; j++) {
			const struct md_msg_rr *ad = &m.rrs[j];
			struct md_sockaddr sa;

			if (ad->section != MD_SECTION_ADDITIONAL ||
			    !md_name_equal(ad->owner, ns->rdata) ||
			    !md_wire_addr_from_rdata(
				ad->type, ad->rdata, ad->rdlen, &sa) ||
			    tr->conf.nhints >= MD_ROOT_HINTS_MAX)
				continue;
			memcpy(tr->conf.hints[tr->conf.nhints].name, ns->rdata,
			    md_name_len(ns->rdata));
			tr->conf.hints[tr->conf.nhints++].addr = sa;
		}
	}
	/* No addresses with the NS set (a recursive server need not send
	 * them): ask the same server for each name's address, as dig does. */
	for (unsigned i = 0; tr->conf.nhints == 0 && i < m.nrr && i < 32; i++) {
		const struct md_msg_rr *ns = &m.rrs[i];

		if (ns->section == MD_SECTION_ANSWER &&
		    ns->type == MD_TYPE_NS && ns->owner[0] == 0)
			ask_address(tr, &srv, ns->rdata);
	}
	if (tr->conf.nhints == 0) {
		fprintf(tr->out, ";; %s gave no root server addresses\n", host);
		rc = MD_TOOL_EXIT_NOREPLY;
	}
cleanup:
	md_arena_deinit(&a);
	md_tool_exchange_deinit(&ex);
	return rc;
}

/* ---- +allservers ------------------------------------------------------- */

static struct zone_servers *
zone_find(struct tracer *tr, const uint8_t *zone, bool create)
{
	struct zone_servers *z;

	for (z = tr->zones; z != NULL; z = z->next) {
		if (md_name_equal(z->zone, zone))
			return z;
	}
	if (!create || (z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	memcpy(z->zone, zone, md_name_len(zone));
	z->next = tr->zones;
	tr->zones = z;
	return z;
}

static void
zone_add_ns(struct tracer *tr, const uint8_t *zone, const uint8_t *ns)
{
	struct zone_servers *z = zone_find(tr, zone, true);

	if (z == NULL)
		return;
	for (unsigned i = 0; i < z->n; i++) {
		if (md_name_equal(z->ns[i], ns))
			return;
	}
	if (z->n < sizeof(z->ns) / sizeof(z->ns[0]))
		memcpy(z->ns[z->n++], ns, md_name_len(ns));
}

static void
addr_add(struct tracer *tr, const uint8_t *name, const struct md_sockaddr *sa)
{
	struct known_addr *k;

	for (k = tr->addrs; k != NULL; k = k->next) {
		if (md_name_equal(k->name, name) && k->addr.len == sa->len &&
		    memcmp(&k->addr.ss, &sa->ss, sa->len) == 0)
			return;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return;
	memcpy(k->name, name, md_name_len(name));
	k->addr = *sa;
	k->next = tr->addrs;
	tr->addrs = k;
}

/* The root's servers from the hints (or the @server's priming). */
static void
learn_hints(struct tracer *tr)
{
	static const uint8_t root = 0;

	for (size_t i = 0; i < tr->conf.nhints; i++) {
		zone_add_ns(tr, &root, tr->conf.hints[i].name);
		addr_add(tr, tr->conf.hints[i].name, &tr->conf.hints[i].addr);
	}
}

/* What a reply tells of servers: NS sets (a referral's, an apex's) and
 * addresses (glue, or the answer of a sub-lookup). */
static void
learn_servers(struct tracer *tr, const struct md_trace_event *ev)
{
	struct md_arena a;
	struct md_msg m;

	if (ev->pkt == NULL)
		return;
	md_arena_init(&a, 8192);
	if (md_msg_parse(ev->pkt, ev->pkt_len, &a, &m) == 0) {
		for (unsigned i = 0; i < m.nrr; i++) {
			const struct md_msg_rr *rr = &m.rrs[i];
			struct md_sockaddr sa;

			if (rr->type == MD_TYPE_NS &&
			    rr->section != MD_SECTION_ADDITIONAL)
				zone_add_ns(tr, rr->owner, rr->rdata);
			else if (rr->section != MD_SECTION_AUTHORITY &&
			    md_wire_addr_from_rdata(
				rr->type, rr->rdata, rr->rdlen, &sa))
				addr_add(tr, rr->owner, &sa);
		}
	}
	md_arena_deinit(&a);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One record without its TTL, owner in lower case. */
static char *
rr_key(const ldns_rr *rr)
{
	char *owner = ldns_rdf2str(ldns_rr_owner(rr));
	char *type = ldns_rr_type2str(ldns_rr_get_type(rr));
	char *line = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&line, &size);

	if (m != NULL) {
		for (char *c = owner; c != NULL && *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		fprintf(m, "%s %s", owner != NULL ? owner : "?",
		    type != NULL ? type : "?");
		for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
			char *rd = ldns_rdf2str(ldns_rr_rdf(rr, i));

			fprintf(m, " %s", rd != NULL ? rd : "?");
			free(rd);
		}
		fclose(m);
	}
	free(owner);
	free(type);
	return line;
}

/* The records of a section, without TTLs, sorted, joined by "; ". */
static void
section_text(FILE *m, const ldns_rr_list *list, uint16_t only_type)
{
	size_t n = list != NULL ? ldns_rr_list_rr_count(list) : 0, k = 0;
	char **keys = n > 0 ? calloc(n, sizeof(*keys)) : NULL;

	for (size_t i = 0; keys != NULL && i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);

		if (only_type == 0 || ldns_rr_get_type(rr) == only_type)
			keys[k++] = rr_key(rr);
	}
	if (keys != NULL)
		qsort(keys, k, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < k; i++) {
		fprintf(m, "%s%s", i > 0 ? "; " : "",
		    keys[i] != NULL ? keys[i] : "?");
		free(keys[i]);
	}
	free(keys);
}

/*
 * A reply in one line for comparing servers: the rcode, whether it is
 * authoritative, and its data (answer; else a referral's NS set; else
 * the SOA of a negative answer), TTLs left out and records sorted, so two
 * servers with the same data give the same line.  malloc'ed.
 */
static char *
reply_summary(const uint8_t *wire, size_t len)
{
	ldns_pkt *pkt = NULL;
	char *text = NULL;
	size_t size = 0;
	FILE *m;

	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return strdup("malformed reply");
	m = open_memstream(&text, &size);
	if (m == NULL) {
		ldns_pkt_free(pkt);
		return NULL;
	}
	fprintf(m, "%s%s", md_rcode_str(ldns_pkt_get_rcode(pkt)),
	    ldns_pkt_aa(pkt) ? " aa" : "");
	if (ldns_rr_list_rr_count(ldns_pkt_answer(pkt)) > 0) {
		fputs(": ", m);
		section_text(m, ldns_pkt_answer(pkt), 0);
	} else if (ldns_rr_list_rr_count(ldns_pkt_authority(pkt)) > 0) {
		bool ns = false;

		for (size_t i = 0;
		     i < ldns_rr_list_rr_count(ldns_pkt_authority(pkt)); i++)
			ns |=
			    ldns_rr_get_type(ldns_rr_list_rr(
				ldns_pkt_authority(pkt), i)) == LDNS_RR_TYPE_NS;
		fputs(ns && !ldns_pkt_aa(pkt) ? ": referral " : ": ", m);
		section_text(m, ldns_pkt_authority(pkt),
		    ns && !ldns_pkt_aa(pkt) ? LDNS_RR_TYPE_NS
					    : LDNS_RR_TYPE_SOA);
	}
	fclose(m);
	ldns_pkt_free(pkt);
	return text;
}

/* +json: one "allservers" object per server asked. */
static void
json_allservers(struct tracer *tr, const struct md_trace_event *ev,
    const uint8_t *ns, const struct md_sockaddr *sa, const char *summary,
    bool differs)
{
	char buf[MD_NAME_STRLEN];
	json_t *o = json_object();
	unsigned parent = 0;

	if (o == NULL)
		return;
	/* a step of the document like the engine's (add_step()) */
	if (ev->depth > 0 && ev->depth <= TRACE_DEPTH_MAX)
		parent = tr->sub_open[ev->depth - 1];
	jset(o, "id", json_integer(++tr->nsteps));
	jset(o, "parent", parent != 0 ? json_integer(parent) : json_null());
	jset(o, "phase", json_string(tr->phase));
	jset(o, "event", json_string("allservers"));
	jset(o, "depth", json_integer(ev->depth));
	name_text(ev->qname, buf, sizeof(buf));
	jset(o, "qname", md_json_string(buf));
	type_text(ev->qtype, buf, sizeof(buf));
	jset(o, "qtype", md_json_string(buf));
	name_text(ev->zone, buf, sizeof(buf));
	jset(o, "zone", md_json_string(buf));
	host_text(sa, buf, sizeof(buf));
	jset(o, "server", md_json_string(buf));
	name_text(ns, buf, sizeof(buf));
	jset(o, "server_name", md_json_string(buf));
	jset(o, "reply", md_json_string(summary));
	jset(o, "differs", json_boolean(differs));
	json_array_append_new(tr->steps, o);
}

/*
 * +allservers: the question of this reply, asked of every other server
 * of the zone (one try each, +time, no recursion), each reply shown in
 * one line and marked where it differs from the one the walk took.  The
 * time this takes is kept off the engine's clock.
 */
static void
compare_servers(struct tracer *tr, const struct md_trace_event *ev)
{
	const struct md_dig_trace_opts *o = tr->o;
	const struct zone_servers *z;
	const char *in = indent_of(ev->depth);
	char *mine, name[MD_NAME_STRLEN], type[32], zone[MD_NAME_STRLEN];
	unsigned differ = 0, silent = 0, servers = 0;
	uint64_t t0 = md_now_ms();

	if (ev->pkt == NULL || ev->reply == MD_REPLY_TRUNCATED ||
	    ev->reply == MD_REPLY_MALFORMED)
		return;
	z = zone_find(tr, ev->zone, false);
	for (unsigned i = 0; z != NULL && i < z->n; i++) {
		for (const struct known_addr *k = tr->addrs; k != NULL;
		     k = k->next)
			servers += md_name_equal(k->name, z->ns[i]) &&
			    family_ok(tr, &k->addr);
	}
	if (servers < 2)
		return; /* one server: nothing to compare */
	mine = reply_summary(ev->pkt, ev->pkt_len);
	if (mine == NULL)
		return;
	name_text(ev->qname, name, sizeof(name));
	type_text(ev->qtype, type, sizeof(type));
	name_text(ev->zone, zone, sizeof(zone));
	if (!o->json)
		fprintf(tr->out,
		    "%s;; All servers of %s asked %s %s (+allservers):\n", in,
		    zone, name, type);
	for (unsigned i = 0; i < z->n; i++) {
		char sname[MD_NAME_STRLEN];

		name_text(z->ns[i], sname, sizeof(sname));
		md_tool_name_nodot(sname);
		for (const struct known_addr *k = tr->addrs; k != NULL;
		     k = k->next) {
			struct md_tool_server srv;
			struct md_tool_query q;
			struct md_tool_exchange ex;
			char addr[80], *theirs = NULL;
			bool same_server, differs, answered = true;

			if (!md_name_equal(k->name, z->ns[i]) ||
			    !family_ok(tr, &k->addr))
				continue;
			addr_text(&k->addr, addr, sizeof(addr));
			same_server = k->addr.len == ev->server.len &&
			    memcmp(&k->addr.ss, &ev->server.ss, k->addr.len) ==
				0;
			memset(&ex, 0, sizeof(ex));
			if (!same_server) {
				memset(&srv, 0, sizeof(srv));
				srv.addr = k->addr;
				md_strlcpy(srv.name, sname, sizeof(srv.name));
				host_text(&k->addr, srv.host, sizeof(srv.host));
				md_tool_query_init(&q);
				memcpy(
				    q.qname, ev->qname, md_name_len(ev->qname));
				q.qtype = ev->qtype;
				q.rd = false;
				q.edns = o->edns;
				q.edns_size = o->bufsize;
				ex.server = &srv;
				ex.query = &q;
				ex.tcp = o->tcp || ev->tcp;
				ex.timeout_ms =
				    (int)(o->timeout_s > 0 ? o->timeout_s * 1000
							   : 1000);
				ex.tries = 1;
				ex.quiet = true;
				ex.display_name = sname;
				ex.rng = tr->env.rng;
				if (md_tool_exchange(&ex) == 0) {
					theirs = reply_summary(
					    ex.reply, ex.reply_len);
				} else {
					theirs = strdup("no reply");
					answered = false;
					silent++;
				}
			}
			/* A silent server is not a disagreement about the
			 * data: it is marked, and counted, apart. */
			differs = !same_server && answered &&
			    (theirs == NULL || strcmp(theirs, mine) != 0);
			differ += differs;
			if (o->json)
				json_allservers(tr, ev, z->ns[i], &k->addr,
				    same_server		 ? mine
					: theirs != NULL ? theirs
							 : "?",
				    differs);
			else
				fprintf(tr->out, "%s;;   %s(%s): %s%s\n", in,
				    addr, sname,
				    same_server		 ? mine
					: theirs != NULL ? theirs
							 : "?",
				    same_server	    ? "   (the reply above)"
					: differs   ? "   <- DIFFERS"
					: !answered ? "   <- NO REPLY"
						    : "");
			free(theirs);
			md_tool_exchange_deinit(&ex);
		}
	}
	if (!o->json && differ > 0)
		fprintf(
		    tr->out, "%s;; The servers of %s DISAGREE.\n\n", in, zone);
	else if (!o->json && silent > 0)
		fprintf(tr->out,
		    "%s;; The servers that answered agree; %u did not "
		    "answer.\n\n",
		    in, silent);
	else if (!o->json)
		fprintf(tr->out, "%s;; All servers agree.\n\n", in);
	free(mine);
	tr->paused_ms += md_now_ms() - t0;
}

/* The engine's clock: wall-clock time without the +allservers pauses. */
static uint64_t
trace_now(void *arg)
{
	const struct tracer *tr = arg;

	return md_now_ms() - tr->paused_ms;
}

/*
 * +dnssec: the verdict at the end of the walk, in dig's words
 * ("secure", "insecure: where the chain ends and why", "bogus (EDE n):
 * which link broke") or, words set, in +explain's sentences.
 */
static void
verdict_text(const struct tracer *tr, bool words, char *buf, size_t size)
{
	const struct md_result *res =
	    tr->req != NULL ? md_resolve_result(tr->req) : NULL;
	enum md_security sec = tr->val_seen ? tr->val_sec
	    : res != NULL		    ? res->security
					    : MD_SEC_UNCHECKED;
	uint16_t ede = tr->val_bogus_ede;

	switch (sec) {
	case MD_SEC_SECURE:
		md_strlcpy(buf,
		    words ? "secure: every link from the trust anchor down "
			    "to the answer verified."
			  : "secure",
		    size);
		break;
	case MD_SEC_INSECURE:
		if (tr->val_insecure[0][0] == '\0')
			md_strlcpy(buf,
			    "insecure: no signed chain of trust leads to "
			    "the answer",
			    size);
		else if (!words)
			snprintf(
			    buf, size, "insecure: %s", tr->val_insecure[0]);
		else
			snprintf(buf, size, "%s%s",
			    strncmp(tr->val_insecure[1], "insecure", 8) == 0
				? ""
				: "insecure: ",
			    tr->val_insecure[1]);
		break;
	case MD_SEC_BOGUS:
		if (ede == MD_EDE_NONE && res != NULL)
			ede = res->ede;
		if (words && tr->val_bogus[1][0] != '\0')
			md_strlcpy(buf, tr->val_bogus[1], size);
		else if (ede != MD_EDE_NONE)
			snprintf(buf, size, "bogus (EDE %u): %s", ede,
			    tr->val_bogus[0][0] != '\0' ? tr->val_bogus[0]
							: "?");
		else
			snprintf(buf, size, "bogus: %s",
			    tr->val_bogus[0][0] != '\0' ? tr->val_bogus[0]
							: "?");
		break;
	default:
		snprintf(buf, size, "not validated (%s)",
		    tr->conf.nanchors == 0 ? "no trust anchor"
			: res == NULL	   ? "no answer"
			: (res->rcode != MD_RCODE_NOERROR &&
			      res->rcode != MD_RCODE_NXDOMAIN)
			? "the resolution failed"
			: "no trust anchor covers the name");
		break;
	}
}

/* The records of a result's RRsets, as json_records() gives a reply's. */
static json_t *
json_result_rrsets(const struct md_result_rrset *sets)
{
	static uint8_t buf[65535];
	struct md_wire_writer w;
	ldns_pkt *pkt = NULL;
	json_t *arr;
	size_t len;

	md_wire_writer_init(&w, buf, sizeof(buf));
	md_wire_write_header(&w, 0, 0x8000);
	for (const struct md_result_rrset *s = sets; s != NULL; s = s->next) {
		for (uint32_t off = 0; off + 2 <= s->rdata_len;) {
			uint16_t rdlen = md_read_u16(s->rdata + off);

			if (off + 2 + rdlen > s->rdata_len ||
			    md_wire_write_rr(&w, MD_SECTION_ANSWER, s->owner,
				s->type, MD_CLASS_IN, s->ttl,
				s->rdata + off + 2, rdlen) != 0)
				break;
			off += 2 + (uint32_t)rdlen;
		}
	}
	len = md_wire_writer_finish(&w);
	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK)
		return json_array();
	arr = json_records(ldns_pkt_answer(pkt));
	ldns_pkt_free(pkt);
	return arr;
}

/* The whole document: the question, the steps, the result (with the
 * final answer) and the summary. */
static json_t *
trace_doc(struct tracer *tr, const char *name, const char *type)
{
	json_t *doc = json_object(), *q = json_object();
	json_t *result = json_object(), *sum = json_object();

	jset(q, "qname", md_json_string(name));
	jset(q, "qtype", md_json_string(type));
	jset(doc, "query", q);
	jset(doc, "steps", json_incref(tr->steps));
	if (tr->req != NULL) {
		const struct md_result *res = md_resolve_result(tr->req);

		jset(result, "rcode", json_string(md_rcode_str(res->rcode)));
		jset(result, "security",
		    json_string(md_security_str(res->security)));
		if (res->ede != MD_EDE_NONE)
			jset(result, "ede", json_integer(res->ede));
		if (res->reason != NULL)
			jset(result, "reason", md_json_string(res->reason));
		jset(result, "answer", json_result_rrsets(res->answer));
		jset(result, "authority", json_result_rrsets(res->authority));
	}
	jset(doc, "result", result);
	jset(sum, "queries", json_integer(tr->queries));
	jset(sum, "replies", json_integer(tr->replies));
	jset(sum, "timeouts", json_integer(tr->timeouts));
	jset(sum, "servers", json_integer(tr->nseen));
	jset(sum, "total_ms",
	    json_integer((json_int_t)(md_now_ms() - tr->start_ms)));
	jset(doc, "summary", sum);
	return doc;
}

/* +json: the document, one step a line. */
static void
print_doc(FILE *out, json_t *doc)
{
	const char *key;
	json_t *val;
	bool first = true;

	fputs("{", out);
	json_object_foreach(doc, key, val)
	{
		fprintf(out, "%s\n  ", first ? "" : ",");
		first = false;
		fprintf(out, "\"%s\": ", key); /* our own keys: plain ASCII */
		if (json_is_array(val) && strcmp(key, "steps") == 0) {
			size_t i;
			json_t *step;

			fputs("[", out);
			json_array_foreach(val, i, step)
			{
				fprintf(out, "%s\n    ", i > 0 ? "," : "");
				jdump(out, json_incref(step));
			}
			fputs("\n  ]", out);
		} else {
			jdump(out, json_incref(val));
		}
	}
	fputs("\n}\n", out);
}

int
md_dig_trace(const struct md_dig_trace_opts *o, FILE *out)
{
	struct tracer tr;
	struct md_cache_conf cc;
	const struct md_result *res;
	uint8_t root = 0;
	char err[1024], name[MD_NAME_STRLEN], type[32];
	int rc = MD_TOOL_EXIT_OK;

	memset(&tr, 0, sizeof(tr));
	tr.o = o;
	tr.out = out;
	tr.phase = "priming";
	if (o->json || o->html != NULL) {
		tr.steps = json_array();
		if (tr.steps == NULL)
			return MD_TOOL_EXIT_INTERNAL;
	}
	md_resolve_conf_init(&tr.conf);
	if (o->roothints != NULL &&
	    md_resolve_load_hints(&tr.conf, o->roothints, err, sizeof(err)) !=
		0) {
		fprintf(stderr, "minidig: %s\n", err);
		return MD_TOOL_EXIT_INTERNAL;
	}
	/* A client goes where the data points, like dig; labs and tests put
	 * their roots on private addresses. */
	tr.conf.allow_private = true;
	tr.conf.edns = o->edns;
	tr.conf.edns_size = o->bufsize;
	tr.conf.qname_minimisation = o->qmin;
	tr.conf.tcp_only = o->tcp;
	/* +dnssec: validate as minidnsd does, from the built-in root
	 * anchors or the +trust-anchor files; dig itself never does. */
	if (o->ntrust_anchors > 0)
		tr.conf.nanchors = 0;
	for (unsigned i = 0; i < o->ntrust_anchors; i++) {
		if (md_resolve_load_anchors(
			&tr.conf, o->trust_anchors[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "minidig: %s\n", err);
			json_decref(tr.steps);
			return MD_TOOL_EXIT_INTERNAL;
		}
	}
	tr.conf.validate = false; /* the priming is not validated */
	/* Timeouts, retries and server choice are the engine's defaults,
	 * as in minidnsd (resolve-timeout, the first try's 400 ms): what
	 * the trace shows is what the daemon does.  +time applies to the
	 * @server priming exchange only. */
	md_cache_conf_init(&cc);
	cc.max_bytes = 4 * 1024 * 1024;
	tr.base = event_base_new();
	tr.cache = md_cache_new(&cc);
	tr.infra = md_infra_new(0);
	tr.net = tr.base != NULL ? md_net_new(tr.base) : NULL;
	if (tr.base == NULL || tr.cache == NULL || tr.infra == NULL ||
	    tr.net == NULL) {
		rc = MD_TOOL_EXIT_INTERNAL;
		goto cleanup;
	}
	tr.io.send = trace_send;
	tr.io.cancel = trace_cancel;
	tr.io.timer = trace_timer;
	tr.io.timer_cancel = trace_timer_cancel;
	tr.io.ctx = &tr;
	tr.env.conf = &tr.conf;
	tr.env.cache = tr.cache;
	tr.env.infra = tr.infra;
	tr.env.now_ms = trace_now;
	tr.env.clock_arg = &tr;
	if (o->have_seed) {
		/* One source for the engine and net/, drawn from in the order
		 * the walk runs: the same seed, the same walk. */
		md_rng_seed(&tr.rng, o->seed);
		tr.env.rng = &tr.rng;
		md_net_set_rng(tr.net, &tr.rng);
	}
	tr.start_ms = md_now_ms();

	if (o->cmd && !o->json) {
		fprintf(out, "\n; <<>> MiniDiG %s <<>> %s\n", PACKAGE_VERSION,
		    o->cmdline != NULL ? o->cmdline : "");
		fprintf(out, ";; global options: +cmd\n");
	}
	name_text(o->qname, name, sizeof(name));
	type_text(o->qtype, type, sizeof(type));
	if (o->explain && !o->json)
		fprintf(out,
		    "; Resolving %s %s from the root, step by step, "
		    "as minidnsd does.\n\n",
		    name, type);

	/* Prime: the root NS set, from @server or from a root hint. */
	if (o->have_server) {
		rc = prime_from_server(&tr);
		if (rc != 0)
			goto finish;
	} else {
		if (o->explain && !o->json)
			fprintf(out,
			    "; First, priming: ask a root server for "
			    "the current list of root servers.\n");
		if (run(&tr, &root, MD_TYPE_NS) == NULL) {
			rc = MD_TOOL_EXIT_INTERNAL;
			goto cleanup;
		}
		res = md_resolve_result(tr.req);
		if (res->rcode != MD_RCODE_NOERROR) {
			rc = MD_TOOL_EXIT_NOREPLY;
			if (!o->json)
				fprintf(out,
				    ";; no servers could be "
				    "reached\n");
			goto finish;
		}
		md_resolve_free(tr.req);
		tr.req = NULL;
		if (o->explain && !o->json)
			fprintf(out, "\n; Now the question itself.\n");
	}
	tr.phase = "query";
	tr.conf.validate = o->dnssec;
	if (run(&tr, o->qname, o->qtype) == NULL) {
		rc = MD_TOOL_EXIT_INTERNAL;
		goto cleanup;
	}
	res = md_resolve_result(tr.req);
	if (res->rcode == MD_RCODE_SERVFAIL &&
	    res->ede == MD_EDE_NO_REACHABLE_AUTHORITY) {
		rc = MD_TOOL_EXIT_NOREPLY;
		if (!o->json)
			fprintf(out, ";; no servers could be reached\n");
	}
finish:
	if (o->dnssec && !o->json && !o->explain && rc == MD_TOOL_EXIT_OK) {
		char v[1024];

		verdict_text(&tr, false, v, sizeof(v));
		fprintf(out, ";; DNSSEC verdict: %s\n", v);
	}
	if (o->json || o->html != NULL) {
		json_t *doc = trace_doc(&tr, name, type);

		if (o->json)
			print_doc(out, doc);
		if (o->html != NULL &&
		    md_dig_html_write(o->html, doc, err, sizeof(err)) != 0) {
			fprintf(stderr, "minidig: %s\n", err);
			if (rc == MD_TOOL_EXIT_OK)
				rc = MD_TOOL_EXIT_INTERNAL;
		}
		json_decref(doc);
	}
	if (o->explain && !o->json) {
		fprintf(out,
		    "\n; Summary: %u queries to %u servers, %u replies, "
		    "%u timeouts, %u answers from the cache of this "
		    "run, %llu ms in all.\n",
		    tr.queries, tr.nseen, tr.replies, tr.timeouts,
		    tr.cache_hits,
		    (unsigned long long)(md_now_ms() - tr.start_ms));
		if (tr.req != NULL) {
			res = md_resolve_result(tr.req);
			fprintf(out, "; Result: %s%s%s\n",
			    md_rcode_str(res->rcode),
			    res->reason != NULL ? ": " : "",
			    res->reason != NULL ? res->reason : "");
		}
		if (o->dnssec && rc == MD_TOOL_EXIT_OK) {
			char v[1024];

			verdict_text(&tr, true, v, sizeof(v));
			fprintf(out, "; DNSSEC verdict: %s\n", v);
		}
	}
cleanup:
	while (tr.zones != NULL) {
		struct zone_servers *z = tr.zones;

		tr.zones = z->next;
		free(z);
	}
	while (tr.addrs != NULL) {
		struct known_addr *k = tr.addrs;

		tr.addrs = k->next;
		free(k);
	}
	json_decref(tr.steps);
	md_resolve_free(tr.req);
	md_net_free(tr.net);
	md_cache_free(tr.cache);
	md_infra_free(tr.infra);
	if (tr.base != NULL)
		event_base_free(tr.base);
	return rc;
}
