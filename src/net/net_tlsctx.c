/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_tlsctx.c - the one TLS client set-up of the program: an SSL_CTX for
 * talking to a server over TLS (DNS over TLS upstreams, minidig +tls, the
 * Kubernetes API client), with TLS 1.2 at least, the CA certificates from
 * a file, PEM text or the system store, an optional client certificate
 * and key (file or PEM text), and certificate verification on or off.
 *
 * This file owns only the context.  What a connection checks on top of it
 * (the name or address the certificate must carry, an SPKI pin) is set
 * per connection by its user: net_tls.c for DNS over TLS.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "minidns/net.h"

/* "what: OpenSSL's reason" into err, and the OpenSSL error queue emptied. */
static void
set_err(char *err, size_t errlen, const char *what)
{
	char ebuf[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	else
		snprintf(ebuf, sizeof(ebuf), "failed");
	ERR_clear_error();
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, ebuf);
}

/* Every certificate of the PEM text into the context's trust store. */
static int
add_ca_pem(SSL_CTX *ctx, const char *pem)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio;
	X509 *x;
	int n = 0;

	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) == 1)
			n++;
		X509_free(x);
	}
	BIO_free(bio);
	if (n == 0)
		return -1;
	/* Reading past the last certificate leaves an error behind. */
	ERR_clear_error();
	return 0;
}

/* The first certificate of the PEM text, then its chain, if any. */
static int
use_cert_pem(SSL_CTX *ctx, const char *pem)
{
	BIO *bio = NULL;
	X509 *x = NULL, *extra;
	int rc = -1;

	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		goto cleanup;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1)
		goto cleanup;
	while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		/* On success the context owns it. */
		if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1)
			X509_free(extra);
	}
	ERR_clear_error();
	rc = 0;

cleanup:
	X509_free(x);
	BIO_free(bio);
	return rc;
}

static int
use_key_pem(SSL_CTX *ctx, const char *pem)
{
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1;

	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		goto cleanup;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL || SSL_CTX_use_PrivateKey(ctx, key) != 1)
		goto cleanup;
	rc = 0;

cleanup:
	EVP_PKEY_free(key);
	BIO_free(bio);
	return rc;
}

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

SSL_CTX *
md_tls_client_ctx_new(
    const struct md_tls_client_conf *conf, char *err, size_t errlen)
{
	static const struct md_tls_client_conf defaults;
	SSL_CTX *ctx = NULL;
	bool cert = false;

	if (conf == NULL)
		conf = &defaults;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		set_err(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	/* RFC 8310 §9 and RFC 9325 (BCP 195): TLS 1.2 at least. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		set_err(err, errlen, "cannot require TLS 1.2");
		goto fail;
	}
	if (conf->insecure) {
		/* RFC 7858 §4.1, opportunistic privacy: encrypted, but
		 * whoever answers is believed. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		if (set(conf->ca_file)) {
			if (SSL_CTX_load_verify_locations(
				ctx, conf->ca_file, NULL) != 1) {
				set_err(err, errlen, conf->ca_file);
				goto fail;
			}
		} else if (set(conf->ca_pem)) {
			if (add_ca_pem(ctx, conf->ca_pem) != 0) {
				set_err(err, errlen,
				    "CA certificates (PEM text): no certificate");
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			set_err(err, errlen, "the system CA store");
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (set(conf->cert_file)) {
		if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert_file) !=
		    1) {
			set_err(err, errlen, conf->cert_file);
			goto fail;
		}
		cert = true;
	} else if (set(conf->cert_pem)) {
		if (use_cert_pem(ctx, conf->cert_pem) != 0) {
			set_err(err, errlen, "client certificate (PEM text)");
			goto fail;
		}
		cert = true;
	}
	if (set(conf->key_file)) {
		if (SSL_CTX_use_PrivateKey_file(
			ctx, conf->key_file, SSL_FILETYPE_PEM) != 1) {
			set_err(err, errlen, conf->key_file);
			goto fail;
		}
	} else if (set(conf->key_pem)) {
		if (use_key_pem(ctx, conf->key_pem) != 0) {
			set_err(err, errlen, "client key (PEM text)");
			goto fail;
		}
	}
	if (cert && SSL_CTX_check_private_key(ctx) != 1) {
		set_err(err, errlen,
		    "the client key does not match its certificate");
		goto fail;
	}
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}
