/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * val_nta.c - negative trust anchors added at run time (RFC 7646).
 * (Placeholder until the operations branch lands: names are kept in a
 * short list under a mutex.)
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolve-internal.h"

#define NTA_MAX 64

struct md_nta {
	pthread_mutex_t lock;
	size_t n;
	uint8_t names[NTA_MAX][MD_NAME_MAX];
	uint64_t expire_ms[NTA_MAX]; /* 0: none */
};

struct md_nta *
md_nta_new(void)
{
	struct md_nta *nta = calloc(1, sizeof(*nta));

	if (nta != NULL)
		pthread_mutex_init(&nta->lock, NULL);
	return nta;
}

void
md_nta_free(struct md_nta *nta)
{
	if (nta == NULL)
		return;
	pthread_mutex_destroy(&nta->lock);
	free(nta);
}

int
md_nta_add(struct md_nta *nta, const uint8_t *name, uint32_t lifetime_s,
    uint64_t now_ms)
{
	size_t i;
	int rc = 0;

	if (name == NULL || md_name_len(name) == 0)
		return -EINVAL;
	pthread_mutex_lock(&nta->lock);
	for (i = 0; i < nta->n; i++) {
		if (md_name_equal(nta->names[i], name))
			break;
	}
	if (i == nta->n && nta->n == NTA_MAX)
		rc = -ENOMEM;
	else {
		if (i == nta->n)
			nta->n++;
		memcpy(nta->names[i], name, md_name_len(name));
		nta->expire_ms[i] =
		    lifetime_s > 0 ? now_ms + (uint64_t)lifetime_s * 1000 : 0;
	}
	pthread_mutex_unlock(&nta->lock);
	return rc;
}

int
md_nta_remove(struct md_nta *nta, const uint8_t *name)
{
	int rc = MD_ENOTFOUND;

	pthread_mutex_lock(&nta->lock);
	for (size_t i = 0; i < nta->n; i++) {
		if (md_name_equal(nta->names[i], name)) {
			nta->n--;
			memmove(nta->names[i], nta->names[nta->n], MD_NAME_MAX);
			nta->expire_ms[i] = nta->expire_ms[nta->n];
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&nta->lock);
	return rc;
}

bool
md_nta_covers(struct md_nta *nta, const uint8_t *name, uint64_t now_ms)
{
	bool found = false;

	pthread_mutex_lock(&nta->lock);
	for (size_t i = 0; i < nta->n && !found; i++)
		found =
		    (nta->expire_ms[i] == 0 || nta->expire_ms[i] > now_ms) &&
		    md_name_is_subdomain(name, nta->names[i]);
	pthread_mutex_unlock(&nta->lock);
	return found;
}

void
md_nta_walk(struct md_nta *nta, uint64_t now_ms,
    void (*cb)(void *arg, const uint8_t *name, uint32_t left_s), void *arg)
{
	pthread_mutex_lock(&nta->lock);
	for (size_t i = 0; i < nta->n; i++) {
		if (nta->expire_ms[i] != 0 && nta->expire_ms[i] <= now_ms)
			continue;
		cb(arg, nta->names[i],
		    nta->expire_ms[i] == 0
			? 0
			: (uint32_t)((nta->expire_ms[i] - now_ms) / 1000));
	}
	pthread_mutex_unlock(&nta->lock);
}
