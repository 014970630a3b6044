/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * upstream.c - upstream servers as written in configuration and on the
 * command line (upstream.h): parsing and printing.  Sending to them is
 * net/'s.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "minidns/upstream.h"

const char *
md_transport_str(enum md_transport t)
{
	switch (t) {
	case MD_TRANSPORT_UDP:
		return "udp";
	case MD_TRANSPORT_TCP:
		return "tcp";
	case MD_TRANSPORT_TLS:
		return "tls";
	}
	return "unknown";
}

/*
 * A TLS authentication name (RFC 8310 §8: a domain name the certificate
 * must carry): letters, digits, '-' and '_' in non-empty labels of at most
 * 63 characters.  A final dot is dropped.  Returns 0 or -1.
 */
static int
copy_tls_name(const char *s, char *out, size_t size)
{
	size_t len = strlen(s), i, label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || len >= size)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -1;
		if (++label > 63)
			return -1;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int
md_upstream_parse(const char *s, struct md_upstream *out)
{
	char addr[MD_SOCKADDR_STRLEN];
	const char *hash;
	uint16_t defport = 53;
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		goto fail;
	if (strncmp(s, "tls://", 6) == 0) {
		/* RFC 7858 §3.1: DNS over TLS on port 853 by default. */
		out->transport = MD_TRANSPORT_TLS;
		defport = 853;
		s += 6;
	} else if (strncmp(s, "tcp://", 6) == 0) {
		out->transport = MD_TRANSPORT_TCP;
		s += 6;
	} else if (strncmp(s, "udp://", 6) == 0) {
		s += 6;
	}
	hash = strchr(s, '#');
	if (hash != NULL) {
		if (out->transport != MD_TRANSPORT_TLS ||
		    copy_tls_name(
			hash + 1, out->tls_name, sizeof(out->tls_name)) != 0)
			goto fail;
		alen = (size_t)(hash - s);
	} else {
		alen = strlen(s);
	}
	if (alen == 0 || alen >= sizeof(addr))
		goto fail;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (md_sockaddr_parse(addr, defport, &out->addr) != 0)
		goto fail;
	/* Port 0 cannot be connected to. */
	if ((out->addr.ss.ss_family == AF_INET &&
		((struct sockaddr_in *)&out->addr.ss)->sin_port == 0) ||
	    (out->addr.ss.ss_family == AF_INET6 &&
		((struct sockaddr_in6 *)&out->addr.ss)->sin6_port == 0))
		goto fail;
	return 0;

fail:
	memset(out, 0, sizeof(*out));
	return MD_EPARSE;
}

const char *
md_upstream_str(const struct md_upstream *up, char *buf, size_t size)
{
	char sa[MD_SOCKADDR_STRLEN];

	if (size == 0)
		return buf;
	md_sockaddr_str(&up->addr, sa, sizeof(sa));
	switch (up->transport) {
	case MD_TRANSPORT_TCP:
		snprintf(buf, size, "tcp://%s", sa);
		break;
	case MD_TRANSPORT_TLS:
		snprintf(buf, size, "tls://%s%s%s", sa,
		    up->tls_name[0] != '\0' ? "#" : "", up->tls_name);
		break;
	default:
		snprintf(buf, size, "%s", sa);
		break;
	}
	return buf;
}
