/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tool_idn.c - a name typed in Unicode to the form DNS carries (RFC 5890
 * A-labels, "xn--"), with libidn2 as BIND's dig and nslookup do: IDNA2008
 * with the UTS 46 non-transitional mapping, else transitional.
 *
 * Not here: showing names in Unicode (minidig's +idnout, dig_print.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "tool_common.h"

char *
md_tool_idn_to_ascii(const char *name, const char **why)
{
	char *out = NULL;
	int rc;

	for (const char *c = name; *c != '\0'; c++) {
		if ((unsigned char)*c >= 0x80)
			goto convert;
	}
	return strdup(name);
convert:
	rc = idn2_to_ascii_lz(name, &out, IDN2_NONTRANSITIONAL);
	if (rc == IDN2_DISALLOWED)
		rc = idn2_to_ascii_lz(name, &out, IDN2_TRANSITIONAL);
	if (rc != IDN2_OK) {
		*why = idn2_strerror(rc);
		return NULL;
	}
	return out;
}
