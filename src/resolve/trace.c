/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.c - one trace event as one line of text, for the daemon's debug
 * log (and anyone else who wants a plain rendering).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "minidns/ldns_bridge.h"
#include "resolve-internal.h"

size_t
md_trace_format(const struct md_trace_event *ev, char *buf, size_t size)
{
	char name[MD_NAME_STRLEN], zone[MD_NAME_STRLEN], type[32];
	char server[MD_SOCKADDR_STRLEN] = "";
	char sname[MD_NAME_STRLEN] = "";
	int n;

	md_name_to_str(ev->qname, name, sizeof(name));
	md_name_to_str(ev->zone, zone, sizeof(zone));
	md_ldns_type_str(ev->qtype, type, sizeof(type));
	if (ev->server.len > 0)
		md_sockaddr_str(&ev->server, server, sizeof(server));
	if (ev->server_name[0] != 0)
		md_name_to_str(ev->server_name, sname, sizeof(sname));
	n = snprintf(buf, size, "[%u] +%llums %s %s %s zone %s", ev->depth,
	    (unsigned long long)ev->time_ms, md_trace_kind_str(ev->kind), name,
	    type, zone);
	if (n < 0 || (size_t)n >= size)
		return size ? size - 1 : 0;
	size_t len = (size_t)n;

#define APPEND(...)                                                     \
	do {                                                            \
		int m = snprintf(buf + len, size - len, __VA_ARGS__);   \
		if (m > 0)                                              \
			len += (size_t)m < size - len ? (size_t)m       \
						      : size - len - 1; \
	} while (0)
	if (server[0] != '\0')
		APPEND(" server %s%s%s%s", server, sname[0] ? " (" : "", sname,
		    sname[0] ? ")" : "");
	if (ev->kind == MD_TRACE_SEND || ev->kind == MD_TRACE_REPLY)
		APPEND(" %s%s",
		    ev->tls	  ? "dot"
			: ev->tcp ? "tcp"
				  : "udp",
		    ev->qmin ? " qmin" : "");
	if (ev->kind == MD_TRACE_REPLY)
		APPEND(" %s rcode %s %zu bytes in %u ms",
		    md_reply_class_str(ev->reply),
		    ev->rcode >= 0 ? md_rcode_str(ev->rcode) : "-",
		    ev->reply_size, ev->rtt_ms);
	if (ev->kind == MD_TRACE_DONE)
		APPEND(" rcode %s", md_rcode_str(ev->rcode));
	if (ev->kind == MD_TRACE_VALIDATE) {
		APPEND(" %s %s", md_val_step_str(ev->val_step),
		    md_security_str(ev->security));
		if (ev->key_tag != 0 || ev->algorithm != 0)
			APPEND(" key %u alg %u", ev->key_tag, ev->algorithm);
		if (ev->ede != MD_EDE_NONE && ev->ede != 0)
			APPEND(" ede %u", ev->ede);
	}
	if (ev->why != NULL)
		APPEND(": %s", ev->why);
#undef APPEND
	return len;
}
