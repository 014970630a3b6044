/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_print.h - minidig's output: one reply in BIND 9.18 dig's text
 * layout (header, OPT pseudosection, sections, statistics), its +short,
 * +multiline and +yaml forms, and minidig's own +json.
 *
 * Not here: the command line (minidig.c) and the exchange
 * (tool_common.c).  What to print comes in struct md_dig_style.
 */
#ifndef MINIDNS_DIG_PRINT_H
#define MINIDNS_DIG_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include <ldns/ldns.h>

#include "tool_common.h"

/* The display options of one lookup (dig's per-lookup and global ones). */
struct md_dig_style {
	bool short_form; /* +short (global in dig) */
	bool yaml;	 /* +yaml (global in dig) */
	bool json;	 /* +json */
	bool comments;	 /* +[no]comments */
	bool question, answer, authority, additional;
	bool stats;	    /* +[no]stats */
	bool identify;	    /* +[no]identify */
	bool multiline;	    /* +[no]multiline */
	bool nottl;	    /* +nottlid */
	bool edns_sent;	    /* the query carried an OPT record */
	bool dnssec;	    /* +dnssec, for the FORMERR hint */
	int split;	    /* +split=W: base64/hex chunks; 0 none; <0 dig's */
	int rrcomments;	    /* +[no]rrcomments; <0: as +multiline */
	bool nocrypto;	    /* +nocrypto */
	bool idnout;	    /* +idnout: names shown in Unicode */
	bool xfr;	    /* a transfer's message: +yaml shows no OPT */
	bool sending;	    /* +qr: this is the query, ";; Sending:" */
	bool usec;	    /* -u: query time in microseconds */
	bool ttlunits;	    /* +ttlunits: "1d1h1m1s" */
	bool noclass;	    /* +noclass */
	bool expandaaaa;    /* +expandaaaa: all 32 hex digits of an AAAA */
	bool unknownformat; /* +unknownformat: RFC 3597 forms */
};

/*
 * Print the reply held by 'ex' (raw bytes) and 'pkt' (parsed) to stdout
 * in the form 'st' asks for.  Returns 0 or -ENOMEM.
 */
int md_dig_print_reply(const struct md_dig_style *st,
    const struct md_tool_exchange *ex, const ldns_pkt *pkt);

/*
 * One record as dig prints it in a section (columns, +multiline,
 * +nottlid), or its data alone under +short.  Returns 0 or -ENOMEM.
 */
int md_dig_print_rr(const struct md_dig_style *st, const ldns_rr *rr);

#endif /* MINIDNS_DIG_PRINT_H */
