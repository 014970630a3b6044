/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dig_html.h - minidig +trace +html=FILE: the trace drawn as one HTML page
 * that works offline (no external scripts, fonts or styles): a ladder
 * diagram in inline SVG, one lane per server, time flowing down, an arrow
 * per query and per reply, each step's +explain text on hover or click,
 * the final answer and a summary.
 *
 * The page is made from the +json document (dig_trace.c), which it also
 * carries, so whatever the page shows, other tools can read.
 */
#ifndef MINIDNS_DIG_HTML_H
#define MINIDNS_DIG_HTML_H

#include <stddef.h>

#include <jansson.h>

/*
 * Write the page for 'doc' (the +trace +json document: "query", "steps",
 * "result", "summary"; steps may carry an "explain" text) to the file
 * 'path', replacing it.  Returns 0, or -1 with a message naming the file
 * in err.  doc stays the caller's.
 */
int md_dig_html_write(
    const char *path, const json_t *doc, char *err, size_t errsize);

#endif /* MINIDNS_DIG_HTML_H */
