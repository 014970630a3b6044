/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tool_common.h - what minidig and mininslookup share: picking the server
 * (command line or the first "nameserver" of resolv.conf), building a
 * query, one exchange as dig runs it (over src/net/: UDP, TCP or DNS over
 * TLS, tries with a timeout each, the TC-to-TCP fallback, dig's reply
 * matching and error lines), and turning an ldns_rr into
 * presentation-form fields.
 *
 * Not here: each tool's own output layout (dig's sections, nslookup's
 * sentences) and option parsing; those live in minidig.c and
 * mininslookup.c.  Nothing here reads or writes global state.
 */
#ifndef MINIDNS_TOOL_COMMON_H
#define MINIDNS_TOOL_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ldns/ldns.h>

#include "minidns/util.h"
#include "minidns/wire.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define MD_TOOL_PORT 53
#define MD_TOOL_RESOLV_CONF "/etc/resolv.conf"
#define MD_TOOL_EDNS_SIZE 1232 /* DNS flag day 2020 */
#define MD_TOOL_QUERY_MAX 512

/* Exit codes shared with dig(1). */
#define MD_TOOL_EXIT_OK 0
#define MD_TOOL_EXIT_USAGE 1
#define MD_TOOL_EXIT_NOREPLY 9
#define MD_TOOL_EXIT_INTERNAL 10

/* The server to ask: its address and the text the user gave for it. */
struct md_tool_server {
	struct md_sockaddr addr;
	char name[MD_NAME_STRLEN]; /* as given, e.g. "127.0.0.1" */
	char host[64];		   /* numeric form, scope id included */
	unsigned naddrs;	   /* addresses the name resolved to */
};

/*
 * Resolve 'name' (an IPv4/IPv6 address, or a host name through
 * getaddrinfo) with 'port'.  The first address is used.  Returns 0,
 * MD_EPARSE or MD_ENOTFOUND.
 */
int md_tool_server_set(
    struct md_tool_server *srv, const char *name, uint16_t port);
/*
 * The same, keeping only addresses of 'family' (AF_INET, AF_INET6, or
 * AF_UNSPEC for both): minidig's -4 and -6.
 */
int md_tool_server_set_af(
    struct md_tool_server *srv, const char *name, uint16_t port, int family);
/* Change the port of a server already set. */
void md_tool_server_set_port(struct md_tool_server *srv, uint16_t port);
/*
 * The first "nameserver" of the resolv.conf at 'path' (IPv4 or IPv6); when
 * the file is missing or names no usable server, 127.0.0.1.  Always 0.
 */
int md_tool_server_default(
    struct md_tool_server *srv, const char *path, uint16_t port);
/*
 * Every "nameserver" of resolv.conf, in order, at most 'max' into srv[];
 * 127.0.0.1 when there is none.  Returns how many (at least 1).
 */
unsigned md_tool_servers_default(
    struct md_tool_server *srv, unsigned max, const char *path, uint16_t port);

/*
 * What resolv.conf says about completing short names: the search list
 * ("search" or "domain", the last such line wins) and "options ndots:N"
 * (1 when not given).  Domains are kept without their final dot.
 */
#define MD_TOOL_SEARCH_MAX 8
struct md_tool_resolv {
	char search[MD_TOOL_SEARCH_MAX][MD_NAME_STRLEN];
	unsigned nsearch;
	unsigned ndots;
};
/* Read 'path' (a missing file: no search list, ndots 1).  Always 0. */
int md_tool_resolv_read(struct md_tool_resolv *rc, const char *path);
/*
 * The names to ask for 'name' as BIND's dig and nslookup make them:
 * none but the name itself when it ends in a dot or has at least
 * 'ndots' dots, else each search domain appended, then the name itself.
 * Writes up to 'max' names to out[]; returns how many.
 */
unsigned md_tool_search_names(const char *name, const struct md_tool_resolv *rc,
    char out[][MD_NAME_STRLEN], unsigned max);

/* Port of the server in host order. */
uint16_t md_tool_server_port(const struct md_tool_server *srv);

/* One question and how to ask it. */
struct md_tool_query {
	uint8_t qname[MD_NAME_MAX];
	uint16_t qtype;
	uint16_t qclass;
	bool rd;
	bool ad;
	bool cd;
	bool edns;
	uint8_t edns_version;
	uint16_t edns_size;
	bool do_bit;
	bool nsid;	      /* RFC 5001: ask for the server's NSID */
	bool cookie;	      /* RFC 7873: send a client cookie */
	uint32_t ixfr_serial; /* IXFR: the serial we have (RFC 1995 §3) */
	/* dig's rarer knobs (+aaflag, +opcode=, +header-only, ...) */
	bool aa, tc, ra, z;
	uint8_t opcode;
	bool header_only; /* no question section */
	bool qid_set;	  /* send this ID, not a random one */
	uint16_t qid;
	uint16_t ednsflags;	/* the OPT's undefined flag bits */
	bool expire;		/* RFC 7314 EDNS EXPIRE */
	bool keepalive;		/* RFC 7828 edns-tcp-keepalive */
	uint16_t padding;	/* RFC 7830/8467 block size, 0: none */
	bool subnet;		/* RFC 7871 client subnet */
	uint16_t subnet_family; /* 1 IPv4, 2 IPv6, 0 with prefix 0 */
	uint8_t subnet_prefix;
	uint8_t subnet_addr[16];
	unsigned nednsopt; /* +ednsopt=CODE[:HEX] */
	struct {
		uint16_t code;
		uint8_t len;
		uint8_t val[64];
	} ednsopt[4];
};

/* Defaults: class IN, RD set, EDNS version 0 with MD_TOOL_EDNS_SIZE. */
void md_tool_query_init(struct md_tool_query *q);
/*
 * Set q->qname from presentation form (taken as absolute).  Returns 0 or
 * MD_EPARSE.
 */
int md_tool_query_set_name(struct md_tool_query *q, const char *name);
/*
 * A name in the locale's encoding to its ASCII form (tool_idn.c): names
 * with non-ASCII characters through IDNA2008 (UTS 46 non-transitional,
 * else transitional mapping), the others unchanged.  Returns a malloc'ed
 * name, or NULL with libidn2's reason in *why (NULL too for no memory).
 */
char *md_tool_idn_to_ascii(const char *name, const char **why);
/*
 * Why the presentation-form name 's' is no legal name, in BIND's words
 * ("empty label", "label too long", "ran out of space", "bad escape",
 * "unexpected end of input"), or NULL when it is one.
 */
const char *md_tool_name_error(const char *s);
/*
 * The reverse-mapping name for an IPv4 or IPv6 address in presentation
 * form ("4.3.2.1.in-addr.arpa.", or 32 nibbles under "ip6.arpa.").
 * Returns 0, or MD_EPARSE when 'addr' is not an address.
 */
int md_tool_reverse_name(const char *addr, char *out, size_t size);
/* Type from a mnemonic or TYPEnnn, case-insensitive.  0 or MD_EPARSE. */
int md_tool_type_parse(const char *s, uint16_t *type);
/* Class "IN", "CH", "HS", "ANY" or CLASSnnn.  0 or MD_EPARSE. */
int md_tool_class_parse(const char *s, uint16_t *rclass);

/* How to run an exchange, and what happened. */
struct md_tool_exchange {
	/* set by the caller */
	const struct md_tool_server *server;
	const struct md_tool_query *query;
	bool tcp;		  /* start with TCP */
	bool tc_notice;		  /* print dig's "Truncated" line */
	bool warn_short;	  /* say so when a datagram is too short */
	int timeout_ms;		  /* per try */
	int tries;		  /* at least 1 */
	const char *display_name; /* for dig's TCP connect error line */
	const struct md_sockaddr *source; /* bind here first, or NULL */
	bool tls;		  /* DNS over TLS (RFC 7858), implies TCP */
	bool tls_verify;	  /* check the certificate and name */
	const char *tls_ca;	  /* CA file, or NULL: the system store */
	const char *tls_hostname; /* name to check, or NULL: server name */
	struct md_rng *rng;	  /* the ID from here; NULL: getrandom */
	bool quiet;	/* no failure lines: the caller reports (+allservers) */
	bool ignore_tc; /* +ignore: keep a truncated UDP reply */
	bool ns_search; /* +nssearch: no "no servers" lines */
	/* filled in */
	uint16_t id;
	bool used_tcp;	 /* the reply came over TCP */
	uint64_t rtt_ms; /* of the try that answered */
	uint64_t rtt_us; /* the same, in microseconds (dig -u) */
	uint8_t *reply;	 /* malloc'ed; md_tool_exchange_deinit */
	size_t reply_len;
	int error;		 /* last error when no reply came */
	char tls_error[256];	 /* why the TLS handshake failed */
	bool tcp_connect_failed; /* last failure was a TCP connect */
	bool setup_failed;	 /* ... or making the socket (no route) */
	bool udp_setup_failed;	 /* ... or a UDP send (no route) */
};

/*
 * Send the query and wait for a reply whose ID and question match, giving
 * each try 'timeout_ms'.  Replies that do not match are ignored until the
 * deadline.  A UDP reply with TC set is asked again over TCP.  Each failed
 * try is reported on stdout as dig does (";; communications error to
 * ADDR#PORT: REASON").  Returns 0 with ex->reply set, or a negative errno
 * (-ETIMEDOUT, -ECONNREFUSED, ...) when no try got a reply; -ENOMEM or
 * MD_EPARSE for internal errors.  Runs src/net/ on a private event base
 * of its own (so it may be called from another base's callback); the ID
 * in ex->id is the one sent and the one the reply carries.
 */
int md_tool_exchange(struct md_tool_exchange *ex);
/* A failed TLS handshake or certificate check (ex->tls_error says why). */
#define MD_TOOL_ETLS (-EPROTO)
void md_tool_exchange_deinit(struct md_tool_exchange *ex);
/*
 * The query message as md_tool_exchange sends it with ID 'id' (minidig
 * +qr prints it; a transfer sends it itself): header, question, the SOA
 * of an IXFR, OPT.  Returns 0 (*len set) or an error.
 */
int md_tool_query_wire(const struct md_tool_query *q, uint16_t id, uint8_t *buf,
    size_t cap, size_t *len);

/* dig's wording for a network error: "timed out", "connection refused". */
const char *md_tool_net_strerror(int err);

/*
 * An RR in presentation form, split into the fields dig lays out in
 * columns.  Strings are malloc'ed; md_tool_rr_text_free releases them.
 * For a question RR, ttl and rdata are empty strings.
 */
struct md_tool_rr_text {
	char *owner;
	char *ttl;
	char *rclass;
	char *type;
	char *rdata;
};

/* Returns 0 or -ENOMEM (t is then empty and safe to free). */
int md_tool_rr_text(
    const ldns_rr *rr, bool question, struct md_tool_rr_text *t);

/*
 * How dig lays out record data (its +multiline, +split, +rrcomments and
 * +nocrypto).  All zero but split = -1 is dig's default one-line form,
 * which nslookup uses too.
 */
struct md_tool_rdata_style {
	bool multiline;	 /* "( ... )" across lines indented to column 32 */
	int split;	 /* chunk width of base64/hex; 0: none; <0: dig's */
	bool rrcomments; /* DNSKEY's "; KSK; alg = ... ; key id = N" */
	bool nocrypto;	 /* keys, signatures and digests left out */
	/*
	 * Every name (owner and data) in presentation form goes through
	 * this when set (minidig's +idnout): it takes the malloc'ed text
	 * and returns the one to print (malloc'ed), or NULL (no memory).
	 */
	char *(*name_filter)(char *text);
};

/* The same with the data laid out as 'st' says (NULL: dig's default). */
int md_tool_rr_text_style(const ldns_rr *rr, bool question,
    const struct md_tool_rdata_style *st, struct md_tool_rr_text *t);
/*
 * The data of the types whose text BIND writes its own way (DNSSEC,
 * TLSA, SSHFP, SVCB/HTTPS, LOC; tool_rdata.c), malloc'ed; NULL for the
 * other types, a malformed record or no memory.
 */
char *md_tool_rdata_text(
    const ldns_rr *rr, const struct md_tool_rdata_style *st);
/* A name (rdf of type DNAME) as BIND prints it, malloc'ed, or NULL. */
char *md_tool_name_text(const ldns_rdf *rdf);
void md_tool_rr_text_free(struct md_tool_rr_text *t);
/*
 * Write an RR as dig does: owner, TTL, class, type and rdata aligned on
 * columns 24, 32, 40 and 48 with tabs (8 wide), one space when a field
 * runs past its column.  A question RR starts with ';' and has no TTL or
 * rdata.  Returns 0 or -ENOMEM.
 */
int md_tool_print_rr_dig(FILE *fp, const ldns_rr *rr, bool question);
/* The name in presentation form without the final dot ("." for root). */
void md_tool_name_nodot(char *name);

#endif /* MINIDNS_TOOL_COMMON_H */
