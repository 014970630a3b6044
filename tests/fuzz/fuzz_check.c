/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_check.c - the invariants of a loaded zone set, checked by the zone
 * and Kubernetes harnesses (fuzz_zone.c, fuzz_k8s.c): every zone has a
 * valid origin and an apex node of that name; every name is a valid wire
 * name inside its zone whose parent node is its parent name; every
 * RRset's rdata adds up to its count; the zone's RR count is their sum.
 * Then each name (at most LOOKUPS a zone) is looked up for A and for its
 * first type, and every RRset placed in the answer must be whole.  A
 * broken promise aborts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "minidns/wire.h"
#include "minidns/zone.h"
#include "zone-internal.h"

#include "fuzz.h"

#define LOOKUPS 64 /* names looked up per zone */

static void fail(const char *what) __attribute__((noreturn));

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz: zone set: %s\n", what);
	abort();
}

/* [u16 len][rdata]... filling exactly rdata_len bytes, count records. */
static void
check_rrset(const struct md_rrset *s)
{
	uint32_t off = 0;
	unsigned n = 0;

	if (s->count == 0 || s->rdata == NULL)
		fail("empty RRset");
	if (s->rdata_len > s->rdata_cap)
		fail("RRset rdata past its room");
	while (off < s->rdata_len) {
		if (s->rdata_len - off < 2)
			fail("rdata length field cut short");
		off += 2 + (uint32_t)md_read_u16(s->rdata + off);
		if (off > s->rdata_len)
			fail("rdata runs past the RRset");
		n++;
	}
	if (n != s->count)
		fail("RRset count does not match its rdata");
}

static void
check_result(const struct md_zone_result *r)
{
	const struct {
		const struct md_zone_rr *rr;
		unsigned n;
	} sec[] = {{r->an, r->nan}, {r->ns, r->nns}, {r->ar, r->nar}};

	if (r->status > MD_ZONE_NOT_READY)
		fail("lookup status out of range");
	for (size_t i = 0; i < 3; i++) {
		if (sec[i].n > MD_ZONE_SECTION_MAX)
			fail("section past its room");
		for (unsigned j = 0; j < sec[i].n; j++) {
			if (sec[i].rr[j].rrset == NULL)
				fail("answer without its RRset");
			if (sec[i].rr[j].owner != NULL &&
			    md_name_len(sec[i].rr[j].owner) == 0)
				fail("answer owner not a wire name");
			check_rrset(sec[i].rr[j].rrset);
		}
	}
}

static void
check_zone(const struct md_zone_set *zs, const struct md_zone *z,
    struct md_zone_result *res)
{
	struct md_hashtab_iter it;
	struct md_hnode *hn;
	size_t nrr = 0;
	unsigned looked = 0;

	if (md_name_len(z->origin) == 0)
		fail("zone origin not a wire name");
	if (z->apex == NULL || !md_name_equal(z->apex->name, z->origin))
		fail("zone apex is not its origin");
	md_hashtab_iter_init(&it, &z->nodes);
	while ((hn = md_hashtab_iter_next(&it)) != NULL) {
		const struct md_node *n =
		    MD_HNODE_ENTRY(hn, struct md_node, hn);

		if (md_name_len(n->name) == 0)
			fail("zone name not a wire name");
		if (!md_name_is_subdomain(n->name, z->origin))
			fail("zone name outside its zone");
		if (n == z->apex ? n->parent != NULL
				 : n->parent == NULL ||
			    !md_name_equal(
				n->parent->name, md_name_parent(n->name)))
			fail("zone node under the wrong parent");
		for (const struct md_rrset *s = n->rrsets; s != NULL;
		     s = s->next) {
			check_rrset(s);
			nrr += s->count;
		}
		if (looked < LOOKUPS) {
			looked++;
			md_zone_lookup(zs, n->name, MD_TYPE_A, res);
			check_result(res);
			if (n->rrsets != NULL) {
				md_zone_lookup(
				    zs, n->name, n->rrsets->type, res);
				check_result(res);
			}
		}
	}
	if (nrr != md_zone_rr_count(z))
		fail("zone RR count is not the sum of its RRsets");
}

void
md_fuzz_check_zones(const struct md_zone_set *zs, struct md_zone_result *res)
{
	for (size_t i = 0; i < md_zone_set_count(zs); i++)
		check_zone(zs, md_zone_set_get(zs, i), res);
}
