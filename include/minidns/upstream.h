/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * upstream.h - how to reach an upstream server (address, transport, TLS
 * name and pin) and its text form in configuration and on the command
 * line.  A plain value type, below both the engine (resolve.h, whose
 * forward zones list upstreams) and the transport (net.h, which sends to
 * them), so that neither includes the other.
 */
#ifndef MINIDNS_UPSTREAM_H
#define MINIDNS_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minidns/util.h"

/* How to reach an upstream server. */
enum md_transport {
	MD_TRANSPORT_UDP = 0,
	MD_TRANSPORT_TCP,
	MD_TRANSPORT_TLS, /* DNS over TLS, RFC 7858 */
};

const char *md_transport_str(enum md_transport t);

struct md_upstream {
	struct md_sockaddr addr;
	enum md_transport transport;
	/* TLS: the name the certificate must carry ("" = no name check,
	 * then a pin is required to authenticate), and optionally the
	 * SHA-256 of the server's SubjectPublicKeyInfo (RFC 7858 §4.2).
	 * An IPv4 or IPv6 address as tls_name must be in the certificate as
	 * an IP address, and is not sent as SNI (RFC 6066 §3). */
	char tls_name[256];
	bool have_pin;
	uint8_t spki_pin[32];
};

/*
 * Parse an upstream as written in configuration and on the command line:
 * "ADDR", "ADDR:PORT", "[V6]:PORT", or "tls://ADDR[:PORT][#NAME]" (port
 * 853 by default for TLS, 53 otherwise).  Returns 0 or MD_EPARSE.
 */
int md_upstream_parse(const char *s, struct md_upstream *out);
/* "127.0.0.1:53", "tls://127.0.0.1:853#dns.test" into buf. */
const char *md_upstream_str(
    const struct md_upstream *up, char *buf, size_t size);

#endif /* MINIDNS_UPSTREAM_H */
