/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_html.c - minidig +trace +html=FILE: the +json document of a trace
 * drawn as a ladder diagram in one self-contained HTML page.
 *
 * The diagram is drawn here, in C, as static SVG: the page shows it with
 * scripts off, and a test can count its lanes and arrows in the DOM.  A
 * short inline script adds only the side panel (a step's +explain text on
 * hover, kept on click).  Nothing is loaded from anywhere: the styles and
 * the script are inline, the fonts the browser's own, and a
 * Content-Security-Policy forbids every fetch.  The JSON document goes
 * into the page too, for other tools.
 *
 * Layout: a lane for minidig (the client) on the left, then one per
 * server address in the order they were first asked; one row per step,
 * top to bottom; queries are arrows to a server, replies arrows back,
 * coloured by what came back; timeouts dashed and red; the other steps
 * are notes.  Sub-lookups sit on a tinted band, indented.  Owns nothing
 * beyond one call.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dig_html.h"
#include "minidns/util.h"

#define LANES_MAX 64
#define GUTTER 70     /* the time column */
#define LANE_W 140    /* one server lane */
#define HEAD_H 58     /* lane headers */
#define ROW_ARROW 26  /* a query or reply */
#define ROW_NOTE 18   /* any other step */
#define LABEL_MAX 120 /* characters of an arrow's label */

struct lane {
	const char *addr; /* the key: the server's address */
	const char *name; /* its NS name, as first seen */
	unsigned lame, timeouts, tcp;
};

struct page {
	FILE *f;
	const json_t *doc, *steps;
	struct lane lanes[LANES_MAX];
	unsigned nlanes; /* lane 0 is minidig */
	int *y;		 /* each step's row */
	int height, width;
};

/* ---- reading the document ---------------------------------------------- */

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static long long
jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static bool
is_arrow(const char *ev)
{
	return strcmp(ev, "send") == 0 || strcmp(ev, "reply") == 0 ||
	    strcmp(ev, "timeout") == 0 || strcmp(ev, "net-error") == 0;
}

/* The lane of a server address; 0 (minidig) when there is none. */
static unsigned
lane_of(struct page *p, const char *addr)
{
	for (unsigned i = 1; i < p->nlanes; i++) {
		if (strcmp(p->lanes[i].addr, addr) == 0)
			return i;
	}
	return 0;
}

static void
add_lanes(struct page *p)
{
	size_t i;
	json_t *s;

	p->lanes[0].addr = "";
	p->lanes[0].name = "minidig";
	p->nlanes = 1;
	json_array_foreach(p->steps, i, s)
	{
		const char *addr = jstr(s, "server"), *ev = jstr(s, "event");
		const char *class = jstr(s, "class");
		unsigned l;

		if (addr[0] == '\0' || !is_arrow(ev))
			continue;
		l = lane_of(p, addr);
		if (l == 0 && p->nlanes < LANES_MAX) {
			l = p->nlanes++;
			p->lanes[l].addr = addr;
			p->lanes[l].name = jstr(s, "server_name");
		}
		if (l == 0)
			continue;
		if (strcmp(ev, "timeout") == 0 || strcmp(ev, "net-error") == 0)
			p->lanes[l].timeouts++;
		if (strcmp(class, "lame") == 0 ||
		    strcmp(class, "refused") == 0 ||
		    strcmp(class, "formerr") == 0 ||
		    strcmp(class, "malformed") == 0)
			p->lanes[l].lame++;
		if (strcmp(ev, "send") == 0 &&
		    strcmp(jstr(s, "transport"), "tcp") == 0)
			p->lanes[l].tcp++;
	}
}

static int
lane_x(unsigned lane)
{
	return GUTTER + LANE_W / 2 + (int)lane * LANE_W;
}

/* ---- writing ----------------------------------------------------------- */

/* Text for HTML and SVG, in element content and in quoted attributes. */
static void
esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
			break;
		}
	}
}

/* "owner ttl class TYPE rdata" (json_records()): TYPE and rdata. */
static bool
record_parts(const char *rr, char *type, size_t tsize, const char **rdata)
{
	const char *p = rr;

	for (int field = 0; field < 3; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return false;
		p++;
	}
	size_t n = strcspn(p, " ");

	if (n >= tsize)
		n = tsize - 1;
	memcpy(type, p, n);
	type[n] = '\0';
	*rdata = p[n] == ' ' ? p + n + 1 : p + n;
	return true;
}

/* What a reply brought, in a few words. */
static void
reply_label(const json_t *s, char *buf, size_t size)
{
	const char *class = jstr(s, "class");
	const json_t *answer = json_object_get(s, "answer");
	const json_t *auth = json_object_get(s, "authority");
	char type[32], rest[LABEL_MAX];
	const char *rdata;
	size_t i;
	json_t *r;

	rest[0] = '\0';
	if (strcmp(class, "referral") == 0) {
		char zone[LABEL_MAX] = "?";
		unsigned ns = 0;

		json_array_foreach(auth, i, r)
		{
			const char *rr = json_string_value(r);

			if (rr == NULL ||
			    !record_parts(rr, type, sizeof(type), &rdata) ||
			    strcmp(type, "NS") != 0)
				continue;
			if (ns++ == 0)
				snprintf(zone, sizeof(zone), "%.*s",
				    (int)strcspn(rr, " "), rr);
		}
		snprintf(buf, size, "referral to %s (%u NS)", zone, ns);
	} else if (strcmp(class, "answer") == 0 ||
	    strcmp(class, "cname") == 0) {
		const char *first = NULL, *target = NULL;
		unsigned n = 0;

		json_array_foreach(answer, i, r)
		{
			const char *rr = json_string_value(r);

			if (rr == NULL ||
			    !record_parts(rr, type, sizeof(type), &rdata))
				continue;
			n++;
			if (strcmp(type, "CNAME") == 0)
				target = rdata;
			else if (first == NULL)
				first = rr;
		}
		if (strcmp(class, "cname") == 0 || first == NULL) {
			snprintf(buf, size, "%s%s%s",
			    target != NULL ? "CNAME \xe2\x86\x92 " : "answer",
			    target != NULL ? target : "",
			    target != NULL || n == 0 ? "" : " (empty)");
		} else {
			record_parts(first, type, sizeof(type), &rdata);
			if (n > 1)
				snprintf(
				    rest, sizeof(rest), " (+%u more)", n - 1);
			snprintf(
			    buf, size, "answer: %s %.60s%s", type, rdata, rest);
		}
	} else if (strcmp(class, "nxdomain") == 0) {
		snprintf(buf, size, "NXDOMAIN: no such name");
	} else if (strcmp(class, "nodata") == 0) {
		snprintf(buf, size, "NODATA: no %s records", jstr(s, "qtype"));
	} else if (strcmp(class, "truncated") == 0) {
		snprintf(buf, size, "TC: truncated, too big for UDP");
	} else if (strcmp(class, "lame") == 0) {
		snprintf(buf, size, "LAME (%s)", jstr(s, "rcode"));
	} else {
		snprintf(buf, size, "%s (%s)", class, jstr(s, "rcode"));
	}
	if (strlen(buf) + 12 < size)
		snprintf(buf + strlen(buf), size - strlen(buf),
		    " \xc2\xb7 %lld ms", jint(s, "rtt_ms"));
}

/* The colour class of a reply. */
static const char *
reply_kind(const json_t *s)
{
	const char *c = jstr(s, "class");

	if (strcmp(c, "answer") == 0)
		return "ok";
	if (strcmp(c, "referral") == 0)
		return "ref";
	if (strcmp(c, "cname") == 0)
		return "cname";
	if (strcmp(c, "nxdomain") == 0 || strcmp(c, "nodata") == 0)
		return "neg";
	if (strcmp(c, "truncated") == 0)
		return "tc";
	return "bad";
}

/* A note row: what the engine did between queries. */
static void
note_label(const json_t *s, char *buf, size_t size)
{
	const char *ev = jstr(s, "event"), *why = jstr(s, "why");
	const char *sep = why[0] != '\0' ? ": " : "";

	if (strcmp(ev, "start") == 0)
		snprintf(buf, size, "question: %s %s", jstr(s, "qname"),
		    jstr(s, "qtype"));
	else if (strcmp(ev, "cache-hit") == 0)
		snprintf(buf, size, "known from an earlier step: %s %s%s%s",
		    jstr(s, "qname"), jstr(s, "qtype"), sep, why);
	else if (strcmp(ev, "delegation") == 0)
		snprintf(buf, size, "start at the zone %s%s%s", jstr(s, "zone"),
		    sep, why);
	else if (strcmp(ev, "server") == 0)
		snprintf(buf, size, "choose %s (%s)%s%s",
		    jstr(s, "server_name"), jstr(s, "server"), sep, why);
	else if (strcmp(ev, "referral") == 0)
		snprintf(buf, size, "go down to the zone %s%s%s",
		    jstr(s, "zone"), sep, why);
	else if (strcmp(ev, "cname") == 0)
		snprintf(
		    buf, size, "CNAME: start again at %s", jstr(s, "qname"));
	else if (strcmp(ev, "subquery") == 0)
		snprintf(buf, size,
		    "\xe2\xa4\xb7 sub-lookup: the address of %s (no glue)",
		    jstr(s, "server_name"));
	else if (strcmp(ev, "done") == 0 && jint(s, "depth") > 0)
		snprintf(buf, size,
		    "\xe2\xa4\xb6 %s %s: %s, back to the question it serves",
		    jstr(s, "qname"), jstr(s, "qtype"), jstr(s, "rcode"));
	else if (strcmp(ev, "done") == 0)
		snprintf(buf, size, "done: %s %s %s", jstr(s, "qname"),
		    jstr(s, "qtype"), jstr(s, "rcode"));
	else if (strcmp(ev, "fail") == 0)
		snprintf(buf, size, "failed%s%s", sep, why);
	else if (strcmp(ev, "qmin-fallback") == 0)
		snprintf(
		    buf, size, "QNAME minimisation gives up%s%s", sep, why);
	else if (strcmp(ev, "tcp-retry") == 0)
		snprintf(buf, size,
		    "TC \xe2\x86\x92 TCP: ask %s again over TCP",
		    jstr(s, "server"));
	else if (strcmp(ev, "edns-fallback") == 0)
		snprintf(buf, size, "no EDNS at %s: ask again without",
		    jstr(s, "server"));
	else
		snprintf(buf, size, "%s%s%s", ev, sep, why);
}

/* Each step's row, the page's height. */
static void
layout(struct page *p)
{
	size_t i;
	json_t *s;
	int y = HEAD_H + 14;
	const char *phase = NULL;

	json_array_foreach(p->steps, i, s)
	{
		const char *ph = jstr(s, "phase");

		if (phase != NULL && strcmp(ph, phase) != 0)
			y += 22; /* room for the divider */
		phase = ph;
		if (is_arrow(jstr(s, "event"))) {
			p->y[i] = y + ROW_ARROW / 2 + 4;
			y += ROW_ARROW;
		} else {
			p->y[i] = y + ROW_NOTE / 2 + 4;
			y += ROW_NOTE;
		}
	}
	p->height = y + 20;
	/* room for the notes, which run past the lanes of a short trace */
	p->width = GUTTER + (int)p->nlanes * LANE_W + 20;
	if (p->width < 900)
		p->width = 900;
}

/* Tinted bands behind the sub-lookups, one per level, and the line
 * between priming and the question. */
static void
draw_bands(struct page *p)
{
	size_t n = json_array_size(p->steps);

	for (long long d = 1; d <= 4; d++) {
		size_t start = 0;
		bool in = false;

		for (size_t i = 0; i <= n; i++) {
			bool deep = i < n &&
			    jint(json_array_get(p->steps, i), "depth") >= d;

			if (deep && !in) {
				start = i;
				in = true;
			} else if (!deep && in) {
				int top = p->y[start] - ROW_ARROW / 2 - 2;
				int bot = p->y[i - 1] + ROW_ARROW / 2 - 2;
				int x = GUTTER - 8 + (int)d * 10;

				fprintf(p->f,
				    "<rect class=\"band band%lld\" x=\"%d\" "
				    "y=\"%d\" width=\"%d\" height=\"%d\" "
				    "rx=\"6\"/>\n",
				    d, x, top, p->width - x - 10, bot - top);
				in = false;
			}
		}
	}
	for (size_t i = 1; i < n; i++) {
		const json_t *a = json_array_get(p->steps, i - 1);
		const json_t *b = json_array_get(p->steps, i);

		if (strcmp(jstr(a, "phase"), jstr(b, "phase")) == 0)
			continue;
		int y = p->y[i] - ROW_NOTE - 8;

		fprintf(p->f,
		    "<line class=\"divider\" x1=\"4\" y1=\"%d\" x2=\"%d\" "
		    "y2=\"%d\"/><text class=\"phase\" x=\"8\" y=\"%d\">"
		    "the question</text>\n",
		    y, p->width - 10, y, y - 4);
	}
	if (n > 0 &&
	    strcmp(jstr(json_array_get(p->steps, 0), "phase"), "priming") == 0)
		fprintf(p->f,
		    "<text class=\"phase\" x=\"8\" y=\"%d\">priming</text>\n",
		    HEAD_H + 10);
}

static void
draw_lanes(struct page *p)
{
	for (unsigned l = 0; l < p->nlanes; l++) {
		const struct lane *ln = &p->lanes[l];
		int x = lane_x(l);

		fprintf(p->f, "<g class=\"lane%s%s\" data-server=\"",
		    ln->lame > 0 ? " lame" : "",
		    ln->timeouts > 0 ? " silent" : "");
		esc(p->f, l == 0 ? "client" : ln->addr);
		fprintf(p->f, "\" data-name=\"");
		esc(p->f, ln->name);
		fprintf(p->f,
		    "\">\n<line class=\"life\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		    "y2=\"%d\"/>\n<rect class=\"head\" x=\"%d\" y=\"4\" "
		    "width=\"%d\" height=\"%d\" rx=\"5\"/>\n"
		    "<text class=\"hname\" x=\"%d\" y=\"22\">",
		    x, HEAD_H, x, p->height, x - LANE_W / 2 + 6, LANE_W - 12,
		    HEAD_H - 10, x);
		esc(p->f, ln->name[0] != '\0' ? ln->name : ln->addr);
		fprintf(p->f,
		    "</text>\n<text class=\"haddr\" x=\"%d\" y=\"37\">", x);
		esc(p->f, l == 0 ? "the client" : ln->addr);
		fputs("</text>\n", p->f);
		if (ln->lame > 0 || ln->timeouts > 0 || ln->tcp > 0) {
			fprintf(p->f,
			    "<text class=\"hmark\" x=\"%d\" y=\"50\">", x);
			fprintf(p->f, "%s%s%s", ln->lame > 0 ? "lame " : "",
			    ln->timeouts > 0 ? "silent " : "",
			    ln->tcp > 0 ? "TCP" : "");
			fputs("</text>\n", p->f);
		}
		fprintf(p->f, "<title>%s ", l == 0 ? "minidig" : "server");
		esc(p->f, ln->name);
		fputc(' ', p->f);
		esc(p->f, ln->addr);
		fputs("</title>\n</g>\n", p->f);
	}
}

/* A horizontal arrow from x1 to x2 at y, its head at x2. */
static void
arrow(FILE *f, int x1, int x2, int y, bool dashed)
{
	int dir = x2 > x1 ? 1 : -1;

	/* nothing came back: no head, a cross at the silent end */
	if (dashed) {
		fprintf(f,
		    "<line class=\"shaft dashed\" x1=\"%d\" y1=\"%d\" "
		    "x2=\"%d\" y2=\"%d\"/><path class=\"cross\" "
		    "d=\"M%d %dl10 10m0 -10l-10 10\"/>",
		    x1, y, x2, y, x1 - 5, y - 5);
		return;
	}
	fprintf(f,
	    "<line class=\"shaft%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\"/><polygon class=\"tip\" points=\"%d,%d %d,%d %d,%d\"/>",
	    dashed ? " dashed" : "", x1, y, x2 - dir * 7, y, x2, y,
	    x2 - dir * 9, y - 4, x2 - dir * 9, y + 4);
}

static void
draw_step(struct page *p, size_t i, const json_t *s)
{
	const char *ev = jstr(s, "event");
	const char *explain = jstr(s, "explain");
	unsigned lane = lane_of(p, jstr(s, "server"));
	long long depth = jint(s, "depth");
	int y = p->y[i], xc = lane_x(0), xs = lane_x(lane);
	char label[LABEL_MAX * 2];
	const char *kind = "note";
	bool arrowed = is_arrow(ev) && lane != 0;

	if (strcmp(ev, "send") == 0) {
		kind = strcmp(jstr(s, "transport"), "tcp") == 0 ? "send tcp"
								: "send";
		snprintf(label, sizeof(label), "%s %s? %s", jstr(s, "qname"),
		    jstr(s, "qtype"),
		    strcmp(jstr(s, "transport"), "tcp") == 0 ? "[TCP]"
							     : "[UDP]");
	} else if (strcmp(ev, "reply") == 0) {
		kind = reply_kind(s);
		reply_label(s, label, sizeof(label));
	} else if (strcmp(ev, "timeout") == 0) {
		kind = "timeout";
		snprintf(label, sizeof(label),
		    "\xe2\x9c\x95 timeout: no reply in %lld ms",
		    jint(s, "waited_ms"));
	} else if (strcmp(ev, "net-error") == 0) {
		kind = "timeout";
		snprintf(label, sizeof(label), "\xe2\x9c\x95 unreachable: %s",
		    jstr(s, "why"));
	} else {
		note_label(s, label, sizeof(label));
		if (strcmp(ev, "tcp-retry") == 0)
			kind = "note tcretry";
		else if (strcmp(ev, "fail") == 0)
			kind = "note failed";
		else if (strcmp(ev, "subquery") == 0 ||
		    (strcmp(ev, "done") == 0 && depth > 0))
			kind = "note nest";
	}
	fprintf(p->f,
	    "<g class=\"step %s\" id=\"step-%lld\" data-step-id=\"%lld\" "
	    "data-event=\"%s\" data-depth=\"%lld\" data-server=\"",
	    kind, jint(s, "id"), jint(s, "id"), ev, depth);
	esc(p->f, jstr(s, "server"));
	fprintf(p->f, "\" tabindex=\"0\">\n<title>");
	esc(p->f, explain[0] != '\0' ? explain : label);
	fputs("</title>\n", p->f);
	/* the whole row answers the mouse, not just the thin line */
	fprintf(p->f,
	    "<rect class=\"hit\" x=\"0\" y=\"%d\" width=\"%d\" "
	    "height=\"%d\"/>\n",
	    y - (arrowed ? ROW_ARROW : ROW_NOTE) / 2 - 3, p->width,
	    arrowed ? ROW_ARROW : ROW_NOTE);
	if (arrowed) {
		bool out = strcmp(ev, "send") == 0;
		int lx = (xc < xs ? xc : xs) + 12;

		fprintf(p->f,
		    "<text class=\"t\" x=\"4\" y=\"%d\">+%lld ms</text>", y + 4,
		    jint(s, "time_ms"));
		arrow(p->f, out ? xc : xs, out ? xs : xc, y,
		    strcmp(kind, "timeout") == 0);
		fprintf(p->f, "<text class=\"label\" x=\"%d\" y=\"%d\">", lx,
		    y - 4);
		esc(p->f, label);
		fputs("</text>\n", p->f);
	} else {
		fprintf(p->f, "<text class=\"label\" x=\"%d\" y=\"%d\">",
		    xc + 8 + (int)depth * 12, y + 3);
		esc(p->f, label);
		fputs("</text>\n", p->f);
	}
	fputs("</g>\n", p->f);
}

static const char page_style[] =
    "body{font:14px/1.4 sans-serif;margin:0;color:#1f2328;background:#fff}"
    "header{padding:12px 16px;border-bottom:1px solid #d0d7de}"
    "h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:0 0 6px}"
    "pre{font:12px/1.35 monospace;white-space:pre-wrap;margin:0}"
    ".ladder{overflow-x:auto;padding:8px}"
    "aside{position:sticky;top:0;z-index:1;height:8.5em;overflow:auto;"
    "padding:8px 16px;border-top:1px solid #d0d7de;"
    "border-bottom:1px solid #d0d7de;background:#f6f8fa}"
    ".summary{padding:8px 16px;display:flex;gap:24px;flex-wrap:wrap}"
    ".summary div{min-width:260px;max-width:100%}"
    "#answer{max-height:9em;overflow:auto;white-space:pre}"
    ".legend span{margin-right:12px;white-space:nowrap}"
    ".sw{display:inline-block;width:18px;height:3px;vertical-align:middle;"
    "margin-right:4px}"
    "svg text{font:12px sans-serif;paint-order:stroke;stroke:#fff;"
    "stroke-width:3px;stroke-linejoin:round}"
    ".head{fill:#eaeef2;stroke:#8c959f}"
    ".lane.lame .head{fill:#ffebe9;stroke:#cf222e}"
    ".lane.silent .head{stroke:#cf222e;stroke-dasharray:4 3}"
    ".hname{font-weight:bold;text-anchor:middle;font-size:11px}"
    ".haddr{text-anchor:middle;fill:#57606a}"
    ".hmark{text-anchor:middle;fill:#cf222e;font-size:11px}"
    ".life{stroke:#afb8c1;stroke-dasharray:3 4}"
    ".band{fill:#fff8c5;stroke:#d4a72c;stroke-opacity:.5}"
    ".band2{fill:#ffdf5d;fill-opacity:.35}"
    ".band3,.band4{fill:#fb8f44;fill-opacity:.25}"
    ".divider{stroke:#57606a;stroke-dasharray:8 4}"
    ".phase{fill:#57606a;font-style:italic}"
    ".t{fill:#8c959f;font-size:11px}"
    ".hit{fill:transparent;pointer-events:all;cursor:pointer}"
    ".shaft{stroke:#444c56;stroke-width:1.6}.tip{fill:#444c56}"
    ".shaft.dashed{stroke-dasharray:6 4}"
    ".cross{stroke:#cf222e;stroke-width:2.5}"
    ".send.tcp .shaft{stroke-width:3}"
    ".ok .shaft{stroke:#1a7f37}.ok .tip,.ok .label{fill:#1a7f37}"
    ".ref .shaft{stroke:#0969da}.ref .tip,.ref .label{fill:#0969da}"
    ".cname .shaft{stroke:#8250df}.cname .tip,.cname .label{fill:#8250df}"
    ".neg .shaft{stroke:#9a6700}.neg .tip,.neg .label{fill:#9a6700}"
    ".tc .shaft{stroke:#bc4c00}.tc .tip,.tc .label{fill:#bc4c00}"
    ".bad .shaft,.timeout .shaft{stroke:#cf222e}"
    ".bad .tip,.bad .label,.timeout .tip,.timeout .label{fill:#cf222e}"
    ".note .label{fill:#57606a;font-size:11px}"
    ".note.nest .label{fill:#7d4e00;font-weight:bold}"
    ".note.tcretry .label{fill:#bc4c00;font-weight:bold}"
    ".note.failed .label{fill:#cf222e;font-weight:bold}"
    ".step:hover .hit,.step:focus .hit,.step.sel .hit{fill:#0969da;"
    "fill-opacity:.08}"
    ".step:focus{outline:none}";

/* Hover shows a step's explanation in the side panel; a click keeps it
 * there until another click; "#step=N" at the end of the address shows
 * step N from the start (for slides and screenshots). */
static const char page_script[] =
    "(function(){"
    "var d=JSON.parse(document.getElementById('trace-data').textContent);"
    "var by={};d.steps.forEach(function(s){by[s.id]=s;});"
    "var h=document.getElementById('panel-head'),"
    "t=document.getElementById('panel-text'),pin=null;"
    "function show(g){var s=by[g.getAttribute('data-step-id')];if(!s)return;"
    "h.textContent='Step '+s.id+': '+s.event+(s.server?' \\u2014 '+"
    "(s.server_name||'')+' '+s.server:'')+(s.parent?' (in sub-lookup '+"
    "s.parent+')':'');"
    "t.textContent=s.explain||s.why||'';}"
    "document.querySelectorAll('.step').forEach(function(g){"
    "g.addEventListener('mouseenter',function(){if(!pin)show(g);});"
    "g.addEventListener('focus',function(){show(g);});"
    "g.addEventListener('click',function(){if(pin)pin.classList.remove('sel');"
    "pin=pin===g?null:g;if(pin)pin.classList.add('sel');show(g);});});"
    "var a=/^#step=([0-9]+)$/.exec(location.hash),"
    "g=a&&document.getElementById('step-'+a[1]);"
    "if(g){pin=g;g.classList.add('sel');show(g);}"
    "document.body.setAttribute('data-script','ok');"
    "})();";

static void
write_records(FILE *f, const json_t *arr)
{
	size_t i;
	json_t *r;

	json_array_foreach(arr, i, r)
	{
		esc(f,
		    json_string_value(r) != NULL ? json_string_value(r) : "");
		fputc('\n', f);
	}
}

static void
write_summary(struct page *p)
{
	const json_t *q = json_object_get(p->doc, "query");
	const json_t *res = json_object_get(p->doc, "result");
	const json_t *sum = json_object_get(p->doc, "summary");
	const json_t *answer = json_object_get(res, "answer");
	const json_t *auth = json_object_get(res, "authority");
	unsigned lame = 0, silent = 0, tcp = 0;
	size_t i;
	json_t *s;

	json_array_foreach(p->steps, i, s)
	{
		if (strcmp(jstr(s, "event"), "tcp-retry") == 0)
			tcp++;
	}
	fputs("<section class=\"summary\" id=\"summary\">\n<div>"
	      "<h2>Result</h2><p id=\"rcode\"><b>",
	    p->f);
	esc(p->f, jstr(res, "rcode"));
	fputs("</b>", p->f);
	if (jstr(res, "reason")[0] != '\0') {
		fputs(": ", p->f);
		esc(p->f, jstr(res, "reason"));
	}
	fputs("</p>\n<pre id=\"answer\">", p->f);
	write_records(p->f, answer);
	if (json_array_size(answer) == 0)
		write_records(p->f, auth);
	fputs("</pre></div>\n<div><h2>Summary</h2><p>", p->f);
	fprintf(p->f,
	    "%lld queries to %lld servers, %lld replies, %lld timeouts, "
	    "%u TC \xe2\x86\x92 TCP retries; %lld ms in all.</p>",
	    jint(sum, "queries"), jint(sum, "servers"), jint(sum, "replies"),
	    jint(sum, "timeouts"), tcp, jint(sum, "total_ms"));
	for (unsigned l = 1; l < p->nlanes; l++) {
		lame += p->lanes[l].lame > 0;
		silent += p->lanes[l].timeouts > 0;
	}
	if (lame + silent > 0) {
		fputs("<p>", p->f);
		for (unsigned l = 1; l < p->nlanes; l++) {
			const struct lane *ln = &p->lanes[l];

			if (ln->lame == 0 && ln->timeouts == 0)
				continue;
			esc(p->f, ln->name);
			fputs(" (", p->f);
			esc(p->f, ln->addr);
			fprintf(p->f, "): %s%s<br>",
			    ln->lame > 0 ? "lame or refusing" : "",
			    ln->timeouts > 0
				? (ln->lame > 0 ? ", silent" : "silent")
				: "");
		}
		fputs("</p>", p->f);
	}
	fputs("</div>\n<div class=\"legend\"><h2>Legend</h2>"
	      "<span><i class=\"sw\" style=\"background:#444c56\"></i>query"
	      " (thick: TCP)</span>"
	      "<span><i class=\"sw\" style=\"background:#0969da\"></i>"
	      "referral</span>"
	      "<span><i class=\"sw\" style=\"background:#1a7f37\"></i>"
	      "answer</span>"
	      "<span><i class=\"sw\" style=\"background:#8250df\"></i>"
	      "CNAME</span><br>"
	      "<span><i class=\"sw\" style=\"background:#9a6700\"></i>"
	      "NXDOMAIN / NODATA</span>"
	      "<span><i class=\"sw\" style=\"background:#bc4c00\"></i>"
	      "truncated (TC)</span>"
	      "<span><i class=\"sw\" style=\"background:#cf222e\"></i>"
	      "lame, refused, timeout (dashed)</span><br>"
	      "<span><i class=\"sw\" style=\"background:#fff8c5;height:10px\">"
	      "</i>sub-lookup</span></div>\n</section>\n",
	    p->f);
	(void)q;
}

/* The document as JSON inside <script>: '<' written as \u003c, so no
 * string in it can end the element. */
static int
write_data(FILE *f, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (text == NULL)
		return -1;
	fputs("<script type=\"application/json\" id=\"trace-data\">", f);
	for (const char *c = text; *c != '\0'; c++) {
		if (*c == '<')
			fputs("\\u003c", f);
		else
			fputc(*c, f);
	}
	fputs("</script>\n", f);
	free(text);
	return 0;
}

static int
write_page(struct page *p)
{
	const json_t *q = json_object_get(p->doc, "query");
	size_t i;
	json_t *s;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'; "
	      "script-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<title>minidig +trace ",
	    p->f);
	esc(p->f, jstr(q, "qname"));
	fputc(' ', p->f);
	esc(p->f, jstr(q, "qtype"));
	fprintf(
	    p->f, "</title>\n<style>%s</style>\n</head>\n<body>\n", page_style);
	fputs("<header><h1>minidig +trace: <span id=\"question\">", p->f);
	esc(p->f, jstr(q, "qname"));
	fputc(' ', p->f);
	esc(p->f, jstr(q, "qtype"));
	fputs("</span></h1>Resolved from the root by minidnsd's own engine, "
	      "one lane per server, time flowing down.  Hover over or click "
	      "an arrow for its explanation.</header>\n",
	    p->f);
	write_summary(p);
	fputs("<aside><h2 id=\"panel-head\">Step details</h2>"
	      "<pre id=\"panel-text\">Hover over a step, or click it to keep "
	      "it here.  (With scripts off, the same text shows as the "
	      "step's tooltip.)</pre></aside>\n",
	    p->f);
	fprintf(p->f,
	    "<div class=\"ladder\">\n"
	    "<svg id=\"ladder\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"ladder diagram of the trace\">\n",
	    p->width, p->height, p->width, p->height);
	draw_bands(p);
	draw_lanes(p);
	json_array_foreach(p->steps, i, s) draw_step(p, i, s);
	fputs("</svg>\n</div>\n", p->f);
	if (write_data(p->f, p->doc) != 0)
		return -1;
	fprintf(p->f, "<script>%s</script>\n</body>\n</html>\n", page_script);
	return 0;
}

int
md_dig_html_write(
    const char *path, const json_t *doc, char *err, size_t errsize)
{
	struct page p;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.doc = doc;
	p.steps = json_object_get(doc, "steps");
	if (!json_is_array(p.steps)) {
		snprintf(err, errsize, "%s: no trace steps to draw", path);
		return -1;
	}
	p.y = calloc(json_array_size(p.steps) + 1, sizeof(*p.y));
	if (p.y == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		return -1;
	}
	p.f = fopen(path, "w");
	if (p.f == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	add_lanes(&p);
	layout(&p);
	if (write_page(&p) != 0) {
		snprintf(err, errsize, "%s: out of memory", path);
		fclose(p.f);
		goto cleanup;
	}
	if (ferror(p.f) != 0 || fclose(p.f) != 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	rc = 0;
cleanup:
	free(p.y);
	return rc;
}
