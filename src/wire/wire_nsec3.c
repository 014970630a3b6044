/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_nsec3.c - the NSEC3 owner name hash (RFC 5155 §5) and base32hex
 * (RFC 4648 §7), shared by the local zones (zone_lookup.c, which answers
 * with NSEC3 proofs) and the validator (val_nsec.c, which checks them).
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "minidns/wire.h"

bool
md_nsec3_hash(const uint8_t *name, const uint8_t *salt, size_t saltlen,
    unsigned iterations, uint8_t out[MD_NSEC3_HASH_LEN])
{
	uint8_t lname[MD_NAME_MAX], h[EVP_MAX_MD_SIZE];
	size_t nl = md_name_len(name);
	unsigned hl = 0;
	EVP_MD_CTX *ctx;
	bool ok;

	if (nl > MD_NAME_MAX || saltlen > 255)
		return false;
	memcpy(lname, name, nl);
	md_name_lower(lname);
	/* one context for all the rounds: a fresh one per digest (as
	 * EVP_Digest() makes) costs several times the SHA-1 itself */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
	    EVP_DigestUpdate(ctx, lname, nl) &&
	    EVP_DigestUpdate(ctx, salt, saltlen) &&
	    EVP_DigestFinal_ex(ctx, h, &hl) && hl == MD_NSEC3_HASH_LEN;
	for (unsigned k = 0; ok && k < iterations; k++) {
		ok = EVP_DigestInit_ex(ctx, NULL, NULL) &&
		    EVP_DigestUpdate(ctx, h, MD_NSEC3_HASH_LEN) &&
		    EVP_DigestUpdate(ctx, salt, saltlen) &&
		    EVP_DigestFinal_ex(ctx, h, &hl);
	}
	EVP_MD_CTX_free(ctx);
	if (ok)
		memcpy(out, h, MD_NSEC3_HASH_LEN);
	return ok;
}

size_t
md_base32hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
	size_t n = (len * 8 + 4) / 5;

	/* 5 bits at a time, the last group padded with zero bits */
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (size_t b = 0, bit = i * 5; b < 5; b++, bit++) {
			unsigned x = bit / 8 < len
			    ? (in[bit / 8] >> (7 - bit % 8)) & 1
			    : 0;

			v = v << 1 | x;
		}
		out[i] = b32[v];
	}
	return n;
}

int
md_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t nbits = len * 5, nbytes = nbits / 8;

	if (nbytes > cap)
		return -1;
	memset(out, 0, nbytes);
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)in[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'v')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			v = c - 'A' + 10;
		else
			return -1;
		for (unsigned b = 0; b < 5; b++) {
			size_t bit = i * 5 + b;
			unsigned x = (v >> (4 - b)) & 1;

			if (bit / 8 < nbytes)
				out[bit / 8] |= (uint8_t)(x << (7 - bit % 8));
			else if (x != 0)
				return -1; /* padding bits must be zero */
		}
	}
	return (int)nbytes;
}
