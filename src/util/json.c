/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c - the bridge from C strings to jansson for every JSON writer of
 * the program (the JSON log format, minidig +json and +trace +json):
 * UTF-8 validation (RFC 3629), and JSON strings that stay valid whatever
 * bytes they are given, invalid sequences replaced by U+FFFD.
 *
 * jansson itself writes the documents (escaping, numbers, key order);
 * this file owns only the byte-level repair jansson refuses to do (its
 * json_string() rejects invalid UTF-8 instead).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "minidns/util.h"

size_t
md_utf8_len(const uint8_t *s, size_t avail)
{
	size_t n, i;
	uint32_t cp;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* RFC 3629 §3: no overlong forms, no surrogates, not past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

struct json_t *
md_json_string(const char *s)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const uint8_t *p = (const uint8_t *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), i, n, out = 0;
	json_t *j;
	char *buf;

	for (i = 0; i < len; i += n) {
		n = md_utf8_len(p + i, len - i);
		if (n == 0)
			break;
	}
	if (i == len)
		return json_stringn_nocheck((const char *)p, len);
	/* At worst every byte becomes a 3-byte U+FFFD. */
	buf = malloc(len * 3 + 1);
	if (buf == NULL)
		return NULL;
	for (i = 0; i < len; i += n) {
		n = md_utf8_len(p + i, len - i);
		if (n == 0) {
			memcpy(buf + out, fffd, 3);
			out += 3;
			n = 1;
		} else {
			memcpy(buf + out, p + i, n);
			out += n;
		}
	}
	j = json_stringn_nocheck(buf, out);
	free(buf);
	return j;
}
