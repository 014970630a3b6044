/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_probe.c - health checks of forwarders held down as dead (worker 0).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/ldns_bridge.h"

#include "server-internal.h"

/* ---- health of forwarders ------------------------------------------------ */

#define HEALTH_INTERVAL_S 2
#define HEALTH_PROBES_MAX 16

struct probe {
	struct probe *next;
	struct worker *wk;
	struct md_sockaddr addr;
	struct md_upstream up; /* for its metrics series */
};

static void
probe_unlink(struct probe *p)
{
	struct probe **pp = &p->wk->probe_list;

	while (*pp != NULL && *pp != p)
		pp = &(*pp)->next;
	if (*pp == p)
		*pp = p->next;
}

static void
probe_cb(void *arg, enum md_net_status status, const uint8_t *reply, size_t len,
    uint32_t rtt_ms)
{
	struct probe *p = arg;
	char name[MD_SOCKADDR_STRLEN];

	(void)reply;
	(void)len;
	p->wk->probes--;
	probe_unlink(p);
	/* Any DNS answer means the upstream is back: its RTT clears the
	 * hold-down (md_infra_rtt). */
	if (status == MD_NET_OK) {
		md_infra_rtt(p->wk->srv->infra, &p->addr, rtt_ms,
		    md_srv_now_ms(p->wk->srv));
		md_info(MD_LOG_SERVER, "forwarder %s answers again",
		    md_sockaddr_str(&p->addr, name, sizeof(name)));
	} else {
		md_metrics_forward_healthcheck_failed(p->wk->id, &p->up);
	}
	free(p);
}

/*
 * Every few seconds, ask each forwarder that is held down as dead a small
 * question (". NS"), like CoreDNS's forward plugin does, so that it comes
 * back as soon as it answers rather than when its hold-down runs out.
 */
void
md_srv_health_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;
	struct timeval tv = {HEALTH_INTERVAL_S, 0};
	uint8_t query[64], root = 0;
	int len;

	(void)fd;
	(void)what;
	len = md_msg_build_query(query, sizeof(query), 0, &root, MD_TYPE_NS,
	    false, true, wk->cfg->resolve->edns_size, false);
	for (size_t i = 0; len > 0 && i < wk->cfg->resolve->nforward; i++) {
		const struct md_forward_zone *f = &wk->cfg->resolve->forward[i];

		for (size_t j = 0; j < f->nservers; j++) {
			struct md_infra_info info;
			struct probe *p;

			if (wk->probes >= HEALTH_PROBES_MAX)
				break;
			md_infra_get(wk->srv->infra, &f->servers[j].addr,
			    f->zone, md_srv_now_ms(wk->srv), 400, &info);
			if (!info.dead)
				continue;
			p = calloc(1, sizeof(*p));
			if (p == NULL)
				break;
			p->wk = wk;
			p->addr = f->servers[j].addr;
			p->up = f->servers[j];
			if (md_net_send_to(wk->net, &f->servers[j], query,
				(size_t)len, 1000, probe_cb, p) == NULL) {
				free(p);
				continue;
			}
			p->next = wk->probe_list;
			wk->probe_list = p;
			wk->probes++;
		}
	}
	event_add(wk->health_ev, &tv);
}

void
md_srv_probes_free(struct worker *wk)
{
	while (wk->probe_list != NULL) {
		struct probe *p = wk->probe_list;

		wk->probe_list = p->next;
		free(p);
	}
}

void
md_srv_probes_start(struct worker *wk)
{
	struct timeval tv = {HEALTH_INTERVAL_S, 0};

	wk->health_ev = evtimer_new(wk->base, md_srv_health_cb, wk);
	if (wk->health_ev != NULL)
		event_add(wk->health_ev, &tv);
}
