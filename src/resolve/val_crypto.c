/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val_crypto.c - the signature-checking core of the DNSSEC validator:
 * key tags, DS digests, the canonical form of an RRset and the signed
 * data of an RRSIG, and signature verification through OpenSSL's EVP.
 * The work limits are documented in include/minidns/dnssec.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "minidns/dnssec.h"
#include "minidns/resolve.h"
#include "minidns/wire.h"

#define RRSIG_FIXED 18	    /* rdata bytes before the signer name */
#define RSA_MAX_MODULUS 512 /* bytes: 4096 bits (RFC 3110) */

const char *
md_dnssec_result_str(enum md_dnssec_result r)
{
	switch (r) {
	case MD_DNSSEC_SECURE:
		return "secure";
	case MD_DNSSEC_BOGUS:
		return "bogus";
	case MD_DNSSEC_UNSUPPORTED:
		return "unsupported";
	}
	return "?";
}

/* ---- key tags and algorithms ------------------------------------------- */

uint16_t
md_dnssec_key_tag(const uint8_t *rd, size_t len)
{
	uint32_t ac = 0;

	if (len < 4)
		return 0;
	/* RFC 4034 Appendix B.1: algorithm 1 keys use the modulus' low
	 * bits instead */
	if (rd[3] == 1)
		return len >= 7 ? (uint16_t)(rd[len - 3] << 8 | rd[len - 2])
				: 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static bool sha1_ok;

/* RSA public key from RFC 3110 wire form, or NULL. */
static EVP_PKEY *
rsa_key(const uint8_t *k, size_t len)
{
	size_t elen, off = 1;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;

	if (len < 1)
		return NULL;
	elen = k[0];
	if (elen == 0) {
		if (len < 3)
			return NULL;
		elen = (size_t)k[1] << 8 | k[2];
		off = 3;
	}
	if (elen == 0 || elen > 8 || len <= off + elen ||
	    len - off - elen > RSA_MAX_MODULUS)
		return NULL;
	e = BN_bin2bn(k + off, (int)elen, NULL);
	n = BN_bin2bn(k + off + elen, (int)(len - off - elen), NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!e || !n || !bld || !OSSL_PARAM_BLD_push_BN(bld, "n", n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, "e", e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* ECDSA public key (RFC 6605: x | y, no 0x04 prefix), or NULL. */
static EVP_PKEY *
ec_key(const char *group, size_t coord, const uint8_t *k, size_t len)
{
	uint8_t point[1 + 2 * 48];
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *pctx;
	OSSL_PARAM params[3];

	if (len != 2 * coord)
		return NULL;
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, k, len);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, 1 + len);
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

/* The key of a DNSKEY's public-key field for alg, and its digest (NULL
 * for EdDSA); NULL when malformed or unsupported. */
static EVP_PKEY *
dnskey_pkey(uint8_t alg, const uint8_t *k, size_t len, const EVP_MD **md)
{
	*md = NULL;
	switch (alg) {
	case MD_DNSSEC_ALG_RSASHA1:
	case MD_DNSSEC_ALG_RSASHA1_NSEC3:
		*md = EVP_sha1();
		return rsa_key(k, len);
	case MD_DNSSEC_ALG_RSASHA256:
		*md = EVP_sha256();
		return rsa_key(k, len);
	case MD_DNSSEC_ALG_RSASHA512:
		*md = EVP_sha512();
		return rsa_key(k, len);
	case MD_DNSSEC_ALG_ECDSAP256:
		*md = EVP_sha256();
		return ec_key("prime256v1", 32, k, len);
	case MD_DNSSEC_ALG_ECDSAP384:
		*md = EVP_sha384();
		return ec_key("secp384r1", 48, k, len);
	case MD_DNSSEC_ALG_ED25519:
		return len == 32 ? EVP_PKEY_new_raw_public_key(
				       EVP_PKEY_ED25519, NULL, k, len)
				 : NULL;
	case MD_DNSSEC_ALG_ED448:
		return len == 57
		    ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, k, len)
		    : NULL;
	}
	return NULL;
}

/*
 * Keys built from DNSKEY rdata, kept: building one (the curve's group,
 * the RSA modulus's Montgomery context) costs a fifth of a signature
 * check, and a zone's few keys check every signature of it.  A fixed
 * table, one key per slot (the newest wins), found by the exact key
 * bytes; the table holds a reference, each user takes its own.
 */
#define PKEY_SLOTS 512
#define PKEY_LOCKS 16
#define PKEY_MAX 1024 /* key bytes (RSA 4096 is 516 and a little) */

static struct pkey_slot {
	uint8_t alg;
	uint16_t len;
	uint8_t key[PKEY_MAX];
	EVP_PKEY *pkey;
} pkey_slots[PKEY_SLOTS];
static pthread_mutex_t pkey_locks[PKEY_LOCKS] = {
    [0 ... PKEY_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER};

static const EVP_MD *
alg_md(uint8_t alg)
{
	switch (alg) {
	case MD_DNSSEC_ALG_RSASHA1:
	case MD_DNSSEC_ALG_RSASHA1_NSEC3:
		return EVP_sha1();
	case MD_DNSSEC_ALG_RSASHA256:
	case MD_DNSSEC_ALG_ECDSAP256:
		return EVP_sha256();
	case MD_DNSSEC_ALG_RSASHA512:
		return EVP_sha512();
	case MD_DNSSEC_ALG_ECDSAP384:
		return EVP_sha384();
	}
	return NULL;
}

/* dnskey_pkey(), from the table when the same key was built before;
 * the caller frees its reference. */
static EVP_PKEY *
cached_pkey(uint8_t alg, const uint8_t *k, size_t len, const EVP_MD **md)
{
	uint32_t h = 2166136261u;
	struct pkey_slot *s;
	pthread_mutex_t *l;
	EVP_PKEY *pkey = NULL;

	if (len > PKEY_MAX)
		return dnskey_pkey(alg, k, len, md);
	h = (h ^ alg) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ k[i]) * 16777619u;
	s = &pkey_slots[h % PKEY_SLOTS];
	l = &pkey_locks[(h % PKEY_SLOTS) % PKEY_LOCKS];
	pthread_mutex_lock(l);
	if (s->pkey != NULL && s->alg == alg && s->len == len &&
	    memcmp(s->key, k, len) == 0 && EVP_PKEY_up_ref(s->pkey) == 1)
		pkey = s->pkey;
	pthread_mutex_unlock(l);
	if (pkey != NULL) {
		*md = alg_md(alg);
		return pkey;
	}
	pkey = dnskey_pkey(alg, k, len, md);
	if (pkey == NULL || EVP_PKEY_up_ref(pkey) != 1)
		return pkey;
	pthread_mutex_lock(l);
	EVP_PKEY_free(s->pkey);
	s->pkey = pkey; /* the table's reference */
	s->alg = alg;
	s->len = (uint16_t)len;
	memcpy(s->key, k, len);
	pthread_mutex_unlock(l);
	return pkey;
}

/* Can this OpenSSL verify RSA/SHA-1 signatures?  Some system policies
 * (RHEL 9's DEFAULT) refuse them at EVP_DigestVerifyInit(). */
static void
sha1_probe(void)
{
	/* a 512-bit RSA public key, exponent 65537 (RFC 3110 form) */
	uint8_t k[4 + 64] = {3, 1, 0, 1}; /* exponent 65537 */
	const EVP_MD *md;
	EVP_PKEY *pkey;
	EVP_MD_CTX *ctx;

	for (size_t i = 4; i < sizeof(k); i++)
		k[i] = (uint8_t)(0xc5 ^ i);
	k[4] |= 0x80;
	k[sizeof(k) - 1] |= 1;
	pkey = dnskey_pkey(MD_DNSSEC_ALG_RSASHA1, k, sizeof(k), &md);
	ctx = EVP_MD_CTX_new();
	sha1_ok =
	    pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
}

bool
md_dnssec_algorithm_supported(uint8_t alg)
{
	switch (alg) {
	case MD_DNSSEC_ALG_RSASHA1:
	case MD_DNSSEC_ALG_RSASHA1_NSEC3:
		pthread_once(&sha1_once, sha1_probe);
		return sha1_ok;
	case MD_DNSSEC_ALG_RSASHA256:
	case MD_DNSSEC_ALG_RSASHA512:
	case MD_DNSSEC_ALG_ECDSAP256:
	case MD_DNSSEC_ALG_ECDSAP384:
	case MD_DNSSEC_ALG_ED25519:
	case MD_DNSSEC_ALG_ED448:
		return true;
	}
	return false;
}

static const EVP_MD *
ds_md(uint8_t t)
{
	switch (t) {
	case MD_DNSSEC_DIGEST_SHA1:
		return EVP_sha1();
	case MD_DNSSEC_DIGEST_SHA256:
		return EVP_sha256();
	case MD_DNSSEC_DIGEST_SHA384:
		return EVP_sha384();
	}
	return NULL;
}

bool
md_dnssec_digest_supported(uint8_t t)
{
	return ds_md(t) != NULL;
}

/* ---- names inside rdata ------------------------------------------------ */

/* Length of the uncompressed name at p, within max bytes; 0 if bad. */
static size_t
name_len_in(const uint8_t *p, size_t max)
{
	size_t off = 0;

	while (off < max) {
		uint8_t l = p[off];
		if (l == 0)
			return off + 1 <= MD_NAME_MAX ? off + 1 : 0;
		if (l > 63)
			return 0;
		off += 1 + (size_t)l;
	}
	return 0;
}

static void
lower_name(uint8_t *p)
{
	while (*p) {
		for (uint8_t i = 1; i <= *p; i++)
			if (p[i] >= 'A' && p[i] <= 'Z')
				p[i] = (uint8_t)(p[i] + 32);
		p += 1 + *p;
	}
}

/* Lower-case one name at rd[*off], advancing *off; false if malformed. */
static bool
lower_at(uint8_t *rd, size_t len, size_t *off)
{
	size_t n;

	if (*off > len)
		return false;
	n = name_len_in(rd + *off, len - *off);
	if (n == 0)
		return false;
	lower_name(rd + *off);
	*off += n;
	return true;
}

/* Skip one character-string at rd[*off]. */
static bool
skip_string(const uint8_t *rd, size_t len, size_t *off)
{
	if (*off >= len || *off + 1 + rd[*off] > len)
		return false;
	*off += 1 + (size_t)rd[*off];
	return true;
}

/*
 * Canonical rdata (RFC 4034 §6.2 as amended by RFC 6840 §5.1): the names
 * embedded in these types are lower-cased, in place; NSEC's are not, and
 * HINFO has none.  False when the rdata does not parse as its type.
 */
static bool
canon_rdata(uint16_t type, uint8_t *rd, size_t len)
{
	size_t off = 0;

	switch (type) {
	case 2:	 /* NS */
	case 3:	 /* MD */
	case 4:	 /* MF */
	case 5:	 /* CNAME */
	case 7:	 /* MB */
	case 8:	 /* MG */
	case 9:	 /* MR */
	case 12: /* PTR */
	case 39: /* DNAME */
		return lower_at(rd, len, &off) && off == len;
	case 6: /* SOA */
		return lower_at(rd, len, &off) && lower_at(rd, len, &off) &&
		    off + 20 == len;
	case 14: /* MINFO */
	case 17: /* RP */
		return lower_at(rd, len, &off) && lower_at(rd, len, &off) &&
		    off == len;
	case 15: /* MX */
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		off = 2;
		return lower_at(rd, len, &off) && off == len;
	case 26: /* PX */
		off = 2;
		return lower_at(rd, len, &off) && lower_at(rd, len, &off) &&
		    off == len;
	case 33: /* SRV */
		off = 6;
		return lower_at(rd, len, &off) && off == len;
	case 35: /* NAPTR */
		off = 4;
		return skip_string(rd, len, &off) &&
		    skip_string(rd, len, &off) && skip_string(rd, len, &off) &&
		    lower_at(rd, len, &off) && off == len;
	case 24: /* SIG */
	case 46: /* RRSIG */
		off = RRSIG_FIXED;
		return lower_at(rd, len, &off);
	case 30: /* NXT */
		return lower_at(rd, len, &off);
	/* not NSEC: RFC 6840 §5.1 took it off the list, its next name
	 * keeps its case (and signers sign it so) */
	case 38: /* A6 */
		if (len < 1 || rd[0] > 128)
			return false;
		off = 1 + (size_t)(128 - rd[0] + 7) / 8;
		if (rd[0] == 0)
			return off == len;
		return lower_at(rd, len, &off) && off == len;
	}
	return true;
}

/* ---- canonical RRset and signed data ----------------------------------- */

struct canon_rr {
	const uint8_t *rd;
	uint16_t len;
};

/* RFC 4034 §6.3: rdata as left-justified octet strings; a missing octet
 * sorts before any octet. */
static int
canon_rr_cmp(const void *a, const void *b)
{
	const struct canon_rr *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->rd, y->rd, n);

	if (c != 0)
		return c;
	return (int)x->len - (int)y->len;
}

/*
 * The canonical RRs of set: canonical copies of the rdata in one buffer
 * (*store, caller frees), sorted, duplicates removed.  Returns the number
 * of RRs in *rrs (caller frees) or -1.
 */
static int
canon_rrset(
    const struct md_dnssec_rrset *set, uint8_t **store, struct canon_rr **rrs)
{
	uint8_t *buf;
	struct canon_rr *v;
	size_t off = 0;
	int n = 0, m;

	*store = NULL;
	*rrs = NULL;
	if (set->count == 0)
		return -1;
	buf = malloc(set->rdata_len ? set->rdata_len : 1);
	v = calloc(set->count, sizeof(*v));
	if (!buf || !v)
		goto fail;
	if (set->rdata_len)
		memcpy(buf, set->rdata, set->rdata_len);
	for (n = 0; n < set->count; n++) {
		uint16_t l;
		if (off + 2 > set->rdata_len)
			goto fail;
		l = md_read_u16(buf + off);
		if (off + 2 + l > set->rdata_len)
			goto fail;
		if (!canon_rdata(set->type, buf + off + 2, l))
			goto fail;
		v[n].rd = buf + off + 2;
		v[n].len = l;
		off += 2 + (size_t)l;
	}
	if (off != set->rdata_len)
		goto fail;
	qsort(v, (size_t)n, sizeof(*v), canon_rr_cmp);
	for (m = 1; m < n;) { /* drop duplicates */
		if (canon_rr_cmp(&v[m - 1], &v[m]) == 0) {
			memmove(
			    &v[m], &v[m + 1], (size_t)(n - m - 1) * sizeof(*v));
			n--;
		} else {
			m++;
		}
	}
	*store = buf;
	*rrs = v;
	return n;
fail:
	free(buf);
	free(v);
	return -1;
}

/* The owner name the RRSIG was made over, into out (MD_NAME_MAX):
 * lower-cased, and "*." + its rightmost labels labels when the RRSIG
 * labels field is smaller than the owner's count (RFC 4035 §5.3.2). */
static size_t
signed_owner(const uint8_t *owner, unsigned labels, uint8_t *out)
{
	unsigned have = md_name_labels(owner);
	const uint8_t *p = owner;
	size_t n;

	if (labels > have)
		return 0;
	for (unsigned i = labels; i < have; i++)
		p += 1 + *p;
	n = md_name_len(p);
	if (labels < have) {
		out[0] = 1;
		out[1] = '*';
		memcpy(out + 2, p, n);
		n += 2;
	} else {
		memcpy(out, p, n);
	}
	lower_name(out);
	return n;
}

/* Build the signed data from the RRSIG rdata and canonical RRs. */
static uint8_t *
build_signed(const struct md_dnssec_rrset *set, const struct canon_rr *rrs,
    int n, const uint8_t *sig, size_t siglen, size_t *len)
{
	uint8_t owner[MD_NAME_MAX + 2];
	size_t olen, slen, total, off;
	uint8_t *buf;

	slen = name_len_in(sig + RRSIG_FIXED, siglen - RRSIG_FIXED);
	olen = signed_owner(set->owner, sig[3], owner);
	if (slen == 0 || olen == 0)
		return NULL;
	total = RRSIG_FIXED + slen;
	for (int i = 0; i < n; i++)
		total += olen + 10 + rrs[i].len;
	buf = malloc(total);
	if (!buf)
		return NULL;
	memcpy(buf, sig, RRSIG_FIXED + slen);
	lower_name(buf + RRSIG_FIXED);
	off = RRSIG_FIXED + slen;
	for (int i = 0; i < n; i++) {
		memcpy(buf + off, owner, olen);
		off += olen;
		md_write_u16(buf + off, set->type);
		md_write_u16(buf + off + 2, MD_CLASS_IN);
		memcpy(buf + off + 4, sig + 4, 4); /* original TTL */
		md_write_u16(buf + off + 8, rrs[i].len);
		memcpy(buf + off + 10, rrs[i].rd, rrs[i].len);
		off += 10 + rrs[i].len;
	}
	*len = off;
	return buf;
}

uint8_t *
md_dnssec_signed_data(const struct md_dnssec_rrset *set, const uint8_t *rrsig,
    size_t rrsig_len, size_t *len)
{
	uint8_t *store, *out = NULL;
	struct canon_rr *rrs;
	int n;

	if (rrsig_len < RRSIG_FIXED + 1 || md_name_len(set->owner) == 0)
		return NULL;
	n = canon_rrset(set, &store, &rrs);
	if (n < 0)
		return NULL;
	out = build_signed(set, rrs, n, rrsig, rrsig_len, len);
	free(store);
	free(rrs);
	return out;
}

/* ---- verification ------------------------------------------------------ */

/* ECDSA r | s (RFC 6605 §4) as the DER ECDSA-Sig-Value EVP wants. */
static uint8_t *
ecdsa_der(const uint8_t *sig, size_t len, size_t coord, size_t *outlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	uint8_t *der = NULL;
	int n;

	if (len != 2 * coord)
		return NULL;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)coord, NULL);
	s = BN_bin2bn(sig + coord, (int)coord, NULL);
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*outlen = (size_t)n;
	return der;
}

/* One public-key operation: does sig over data verify with the key? */
static bool
verify_one(uint8_t alg, const uint8_t *key, size_t klen, const uint8_t *data,
    size_t dlen, const uint8_t *sig, size_t slen)
{
	const EVP_MD *md;
	EVP_PKEY *pkey = cached_pkey(alg, key, klen, &md);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	bool ok = false;

	if (!pkey || !ctx)
		goto out;
	if (alg == MD_DNSSEC_ALG_ECDSAP256 || alg == MD_DNSSEC_ALG_ECDSAP384) {
		der = ecdsa_der(
		    sig, slen, alg == MD_DNSSEC_ALG_ECDSAP256 ? 32 : 48, &slen);
		if (!der)
			goto out;
		sig = der;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, slen, data, dlen) == 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok;
}

/* A usable zone key of the DNSKEY set. */
struct zkey {
	const uint8_t *rd;
	uint16_t len;
	uint16_t tag;
};

/* RFC 1982 serial arithmetic: a <= b */
static bool
serial_le(uint32_t a, uint32_t b)
{
	return a == b || (int32_t)(b - a) > 0;
}

/* Failure kinds, the later the more telling (the one reported). */
enum fail {
	F_NONE,
	F_NOKEY,  /* 9 */
	F_EARLY,  /* 8 */
	F_LATE,	  /* 7 */
	F_OTHER,  /* 6: labels, signer, malformed */
	F_BADSIG, /* 6: checked and wrong */
	F_LIMIT,  /* 6: a work limit (keys left unchecked) */
};

static void note(enum fail *worst, char *reason, size_t rlen, enum fail f,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
note(enum fail *worst, char *reason, size_t rlen, enum fail f, const char *fmt,
    ...)
{
	va_list ap;

	if (f < *worst)
		return;
	*worst = f;
	va_start(ap, fmt);
	vsnprintf(reason, rlen, fmt, ap);
	va_end(ap);
}

static void
name_str(const uint8_t *name, char *out, size_t outlen)
{
	size_t o = 0;

	if (*name == 0) {
		snprintf(out, outlen, ".");
		return;
	}
	while (*name && o + 1 < outlen) {
		for (uint8_t i = 1; i <= *name && o + 2 < outlen; i++) {
			uint8_t c = name[i];
			out[o++] = (char)(c > 32 && c < 127 ? c : '?');
		}
		out[o++] = '.';
		name += 1 + *name;
	}
	out[o < outlen ? o : outlen - 1] = 0;
}

enum md_dnssec_result
md_dnssec_verify_rrset(const struct md_dnssec_rrset *set,
    const struct md_dnssec_rrset *rrsigs, const struct md_dnssec_rrset *dnskeys,
    uint32_t now, struct md_dnssec_budget *budget,
    struct md_dnssec_verdict *out)
{
	uint8_t *store = NULL;
	struct canon_rr *rrs = NULL;
	const uint8_t *rd;
	size_t off = 0, koff = 0;
	unsigned covering = 0, supported = 0, nzk = 0;
	struct zkey *zk;
	unsigned owner_labels;
	enum fail worst = F_NONE;
	int n;
	char sname[96], zname[96];

	memset(out, 0, sizeof(*out));
	out->result = MD_DNSSEC_BOGUS;
	out->ede = MD_EDE_DNSSEC_BOGUS;
	if (md_name_len(set->owner) == 0 || md_name_len(dnskeys->owner) == 0) {
		snprintf(out->reason, sizeof(out->reason), "malformed name");
		return out->result;
	}
	owner_labels = md_name_labels(set->owner);
	name_str(dnskeys->owner, zname, sizeof(zname));
	n = canon_rrset(set, &store, &rrs);
	if (n < 0) {
		snprintf(out->reason, sizeof(out->reason),
		    "malformed RRset of type %u", set->type);
		return out->result;
	}
	/* the usable zone keys and their tags, computed once */
	zk = calloc(dnskeys->count ? dnskeys->count : 1, sizeof(*zk));
	if (!zk) {
		free(store);
		free(rrs);
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return out->result;
	}
	for (uint16_t j = 0; j < dnskeys->count; j++) {
		uint16_t klen;
		const uint8_t *krd;
		if (koff + 2 > dnskeys->rdata_len)
			break;
		klen = md_read_u16(dnskeys->rdata + koff);
		krd = dnskeys->rdata + koff + 2;
		koff += 2 + (size_t)klen;
		if (koff > dnskeys->rdata_len)
			break;
		if (klen < 5 || krd[2] != 3 ||
		    !(md_read_u16(krd) & MD_DNSKEY_FLAG_ZONE) ||
		    !md_dnssec_algorithm_supported(krd[3]))
			continue;
		/* RFC 5011 §2.1: a revoked key signs only its DNSKEY set */
		if ((md_read_u16(krd) & MD_DNSKEY_FLAG_REVOKE) &&
		    set->type != MD_TYPE_DNSKEY)
			continue;
		zk[nzk].rd = krd;
		zk[nzk].len = klen;
		zk[nzk].tag = md_dnssec_key_tag(krd, klen);
		nzk++;
	}

	for (uint16_t i = 0; rrsigs && i < rrsigs->count; i++) {
		uint16_t len, tag;
		uint8_t alg;
		uint32_t exp, inc;
		size_t slen, sigoff, dlen;
		const uint8_t *signer;
		uint8_t *data;
		unsigned tried = 0, matching = 0;

		if (off + 2 > rrsigs->rdata_len)
			break;
		len = md_read_u16(rrsigs->rdata + off);
		rd = rrsigs->rdata + off + 2;
		off += 2 + (size_t)len;
		if (off > rrsigs->rdata_len)
			break;
		if (len < RRSIG_FIXED + 1 || md_read_u16(rd) != set->type)
			continue;
		covering++;
		alg = rd[2];
		if (!md_dnssec_algorithm_supported(alg))
			continue;
		supported++;
		signer = rd + RRSIG_FIXED;
		slen = name_len_in(signer, len - RRSIG_FIXED);
		if (slen == 0) {
			note(&worst, out->reason, sizeof(out->reason), F_OTHER,
			    "malformed RRSIG");
			continue;
		}
		name_str(signer, sname, sizeof(sname));
		sigoff = RRSIG_FIXED + slen;
		tag = md_read_u16(rd + 16);
		exp = md_read_u32(rd + 8);
		inc = md_read_u32(rd + 12);
		if (rd[3] > owner_labels) {
			note(&worst, out->reason, sizeof(out->reason), F_OTHER,
			    "RRSIG labels %u > owner labels %u", rd[3],
			    owner_labels);
			continue;
		}
		if (!md_name_is_subdomain(set->owner, signer)) {
			note(&worst, out->reason, sizeof(out->reason), F_OTHER,
			    "signer %s is not an ancestor of the owner", sname);
			continue;
		}
		if (!md_name_equal(signer, dnskeys->owner)) {
			note(&worst, out->reason, sizeof(out->reason), F_NOKEY,
			    "signer %s is not the key set's zone %s", sname,
			    zname);
			continue;
		}
		if (!serial_le(now, exp)) {
			note(&worst, out->reason, sizeof(out->reason), F_LATE,
			    "RRSIG by key %u expired", tag);
			continue;
		}
		if (!serial_le(inc, now)) {
			note(&worst, out->reason, sizeof(out->reason), F_EARLY,
			    "RRSIG by key %u not yet valid", tag);
			continue;
		}
		/* the zone keys with this tag and algorithm; the signed data
		 * is built for the first of them only */
		data = NULL;
		for (unsigned j = 0; j < nzk; j++) {
			if (zk[j].tag != tag || zk[j].rd[3] != alg)
				continue;
			matching++;
			if (tried >= MD_DNSSEC_MAX_TAG_KEYS ||
			    out->verifies >= MD_DNSSEC_MAX_VERIFY_RRSET ||
			    (budget && budget->verify_left == 0)) {
				note(&worst, out->reason, sizeof(out->reason),
				    F_LIMIT,
				    "work limit: %u keys with tag %u, %u "
				    "signature checks for this RRset%s",
				    matching, tag, out->verifies,
				    budget && budget->verify_left == 0
					? ", question budget spent"
					: "");
				continue;
			}
			if (!data) {
				data =
				    build_signed(set, rrs, n, rd, len, &dlen);
				if (!data) {
					note(&worst, out->reason,
					    sizeof(out->reason), F_OTHER,
					    "malformed RRSIG");
					break;
				}
			}
			tried++;
			out->verifies++;
			if (budget)
				budget->verify_left--;
			if (verify_one(alg, zk[j].rd + 4, zk[j].len - 4, data,
				dlen, rd + sigoff, len - sigoff)) {
				free(data);
				free(store);
				free(rrs);
				free(zk);
				out->result = MD_DNSSEC_SECURE;
				out->ede = MD_EDE_NONE;
				out->key_tag = tag;
				out->algorithm = alg;
				out->labels = rd[3];
				out->wildcard = rd[3] < owner_labels;
				out->orig_ttl = md_read_u32(rd + 4);
				out->expiration = exp;
				snprintf(out->reason, sizeof(out->reason),
				    "RRSIG by key %u/%u of %s verified", tag,
				    alg, zname);
				return out->result;
			}
		}
		free(data);
		if (matching == 0)
			note(&worst, out->reason, sizeof(out->reason), F_NOKEY,
			    "no zone key of %s with tag %u and algorithm %u",
			    zname, tag, alg);
		else if (tried > 0)
			note(&worst, out->reason, sizeof(out->reason), F_BADSIG,
			    "RRSIG by key %u/%u of %s does not verify", tag,
			    alg, zname);
	}
	free(store);
	free(rrs);
	free(zk);

	if (covering == 0) {
		out->ede = MD_EDE_RRSIGS_MISSING;
		snprintf(out->reason, sizeof(out->reason),
		    "no RRSIG covers type %u", set->type);
	} else if (supported == 0) {
		out->result = MD_DNSSEC_UNSUPPORTED;
		out->ede = MD_EDE_UNSUPPORTED_DNSKEY_ALG;
		snprintf(out->reason, sizeof(out->reason),
		    "no RRSIG with a supported algorithm");
	} else {
		out->ede = worst == F_NOKEY ? MD_EDE_DNSKEY_MISSING
		    : worst == F_LATE	    ? MD_EDE_SIGNATURE_EXPIRED
		    : worst == F_EARLY	    ? MD_EDE_SIGNATURE_NOT_YET_VALID
					    : MD_EDE_DNSSEC_BOGUS;
	}
	return out->result;
}

/* ---- DS ---------------------------------------------------------------- */

int
md_dnssec_ds_match(const uint8_t *owner, const uint8_t *key, size_t klen,
    const uint8_t *ds, size_t dlen)
{
	uint8_t name[MD_NAME_MAX], dig[EVP_MAX_MD_SIZE];
	unsigned diglen = 0;
	const EVP_MD *md;
	EVP_MD_CTX *ctx;
	size_t nlen = md_name_len(owner);
	bool ok;

	if (dlen < 4 || klen < 4 || nlen == 0)
		return MD_DNSSEC_DS_NOMATCH;
	md = ds_md(ds[3]);
	if (!md)
		return MD_DNSSEC_DS_UNSUPPORTED;
	if (md_read_u16(ds) != md_dnssec_key_tag(key, klen) || ds[2] != key[3])
		return MD_DNSSEC_DS_NOMATCH;
	memcpy(name, owner, nlen);
	lower_name(name);
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, name, nlen) == 1 &&
	    EVP_DigestUpdate(ctx, key, klen) == 1 &&
	    EVP_DigestFinal_ex(ctx, dig, &diglen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok || diglen != dlen - 4 || memcmp(dig, ds + 4, diglen) != 0)
		return MD_DNSSEC_DS_NOMATCH;
	return MD_DNSSEC_DS_MATCH;
}
