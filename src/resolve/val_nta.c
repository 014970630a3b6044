/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val_nta.c - negative trust anchors added at run time (RFC 7646): names
 * at and below which DNSSEC validation is off, each until it expires or
 * is removed.  An operator adds one with minidns-control while a zone's
 * signatures are broken; workers ask md_nta_covers() for each answer to
 * validate, so the set is behind a mutex and kept small (a handful of
 * names is what operators use; a linear scan is plenty).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/resolve.h"
#include "minidns/wire.h"

struct md_nta_entry {
	uint8_t name[MD_NAME_MAX]; /* lower case */
	uint64_t expires_ms;	   /* 0: until removed */
};

struct md_nta {
	pthread_mutex_t mu;
	struct md_nta_entry *v;
	size_t n, cap;
};

struct md_nta *
md_nta_new(void)
{
	struct md_nta *nta = calloc(1, sizeof(*nta));

	if (nta == NULL)
		return NULL;
	if (pthread_mutex_init(&nta->mu, NULL) != 0) {
		free(nta);
		return NULL;
	}
	return nta;
}

void
md_nta_free(struct md_nta *nta)
{
	if (nta == NULL)
		return;
	pthread_mutex_destroy(&nta->mu);
	free(nta->v);
	free(nta);
}

static bool
live(const struct md_nta_entry *e, uint64_t now_ms)
{
	return e->expires_ms == 0 || e->expires_ms > now_ms;
}

/* Drop the expired entries (the lock held). */
static void
prune(struct md_nta *nta, uint64_t now_ms)
{
	size_t j = 0;

	for (size_t i = 0; i < nta->n; i++) {
		if (live(&nta->v[i], now_ms))
			nta->v[j++] = nta->v[i];
	}
	nta->n = j;
}

int
md_nta_add(struct md_nta *nta, const uint8_t *name, uint32_t lifetime_s,
    uint64_t now_ms)
{
	size_t len;
	struct md_nta_entry e;
	int rc = 0;

	if (nta == NULL || name == NULL)
		return -EINVAL;
	len = md_name_len(name);
	if (len == 0 || len > MD_NAME_MAX)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	memcpy(e.name, name, len);
	md_name_lower(e.name);
	e.expires_ms = lifetime_s ? now_ms + (uint64_t)lifetime_s * 1000 : 0;
	pthread_mutex_lock(&nta->mu);
	prune(nta, now_ms);
	for (size_t i = 0; i < nta->n; i++) {
		if (md_name_equal(nta->v[i].name, e.name)) {
			nta->v[i].expires_ms = e.expires_ms; /* renewed */
			goto out;
		}
	}
	if (nta->n == nta->cap) {
		size_t cap = nta->cap ? nta->cap * 2 : 8;
		struct md_nta_entry *v = realloc(nta->v, cap * sizeof(*v));

		if (v == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		nta->v = v;
		nta->cap = cap;
	}
	nta->v[nta->n++] = e;
out:
	pthread_mutex_unlock(&nta->mu);
	return rc;
}

int
md_nta_remove(struct md_nta *nta, const uint8_t *name)
{
	int rc = MD_ENOTFOUND;

	if (nta == NULL || name == NULL || md_name_len(name) == 0)
		return MD_ENOTFOUND;
	pthread_mutex_lock(&nta->mu);
	for (size_t i = 0; i < nta->n; i++) {
		if (md_name_equal(nta->v[i].name, name)) {
			nta->v[i] = nta->v[--nta->n];
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&nta->mu);
	return rc;
}

bool
md_nta_covers(struct md_nta *nta, const uint8_t *name, uint64_t now_ms)
{
	bool hit = false;

	if (nta == NULL || name == NULL)
		return false;
	pthread_mutex_lock(&nta->mu);
	for (size_t i = 0; i < nta->n && !hit; i++) {
		hit = live(&nta->v[i], now_ms) &&
		    md_name_is_subdomain(name, nta->v[i].name);
	}
	pthread_mutex_unlock(&nta->mu);
	return hit;
}

void
md_nta_walk(struct md_nta *nta, uint64_t now_ms,
    void (*cb)(void *arg, const uint8_t *name, uint32_t left_s), void *arg)
{
	struct md_nta_entry *copy = NULL;
	size_t n;

	if (nta == NULL)
		return;
	/* The callback runs without the lock (it may write to a socket). */
	pthread_mutex_lock(&nta->mu);
	prune(nta, now_ms);
	n = nta->n;
	if (n > 0) {
		copy = malloc(n * sizeof(*copy));
		if (copy != NULL)
			memcpy(copy, nta->v, n * sizeof(*copy));
	}
	pthread_mutex_unlock(&nta->mu);
	if (copy == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t left = copy[i].expires_ms
		    ? (copy[i].expires_ms - now_ms + 999) / 1000
		    : 0;

		cb(arg, copy[i].name, (uint32_t)left);
	}
	free(copy);
}
