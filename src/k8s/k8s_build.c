/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_build.c - the zones built from the store, following the Kubernetes
 * DNS-Based Service Discovery specification 1.1.0 ("spec" below).
 *
 * Owns: the incremental builder (md_k8s_builder_*): per cluster domain a
 * main zone (apex SOA/NS, dns-version, svc., pod records) and one zone per
 * namespace, rebuilt only for the namespaces the store marked changed; the
 * reverse zones (PTR records, in-addr.arpa. and ip6.arpa.), rebuilt whole
 * and apart; the records themselves (A/AAAA, SRV, CNAME, PTR, SOA, NS).
 *
 * Does not own: the objects and their JSON (k8s_parse.c), the store and its
 * change record (k8s_store.c), when to build and whom to tell (the watch
 * client), lookups (the zone store).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "k8s-internal.h"
#include "minidns/wire.h"

#define SOA_REFRESH 7200
#define SOA_RETRY 1800
#define SOA_EXPIRE 86400
#define SRV_PRIORITY 0
#define SRV_WEIGHT 100

/* ---- building the zones ------------------------------------------------- */

struct build {
	const struct md_k8s_store *st;
	const struct md_k8s_conf *conf;
	uint32_t serial;
	struct md_zone *z;    /* the cluster zone being built */
	const uint8_t *apex;  /* its origin */
	struct md_zone *rev4; /* in-addr.arpa., or NULL: no PTRs now */
	struct md_zone *rev6; /* ip6.arpa. */
	/* The reverse zones are built apart (they span every namespace):
	 * only_ptr adds nothing but PTRs, no_ptr everything else. */
	bool only_ptr, no_ptr;
	char *err;
	size_t errlen;
};

static int mkname(uint8_t *out, const uint8_t *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A wire name from a presentation form relative to 'origin'.  The labels
 * come from validated Kubernetes names (no dots or escapes).  MD_EPARSE
 * when the name does not fit (253 octets): the record is then left out.
 */
static int
mkname(uint8_t *out, const uint8_t *origin, const char *fmt, ...)
{
	char buf[MD_NAME_STRLEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return MD_EPARSE;
	return md_name_from_str(buf, origin, out) > 0 ? 0 : MD_EPARSE;
}

static bool
ns_served(const struct md_k8s_conf *conf, const char *ns)
{
	if (conf->nnamespaces == 0)
		return true;
	for (size_t i = 0; i < conf->nnamespaces; i++) {
		if (strcasecmp(conf->namespaces[i], ns) == 0)
			return true;
	}
	return false;
}

static int
add_rr(struct build *b, struct md_zone *z, const uint8_t *owner, uint16_t type,
    const uint8_t *rd, size_t len)
{
	if (len > UINT16_MAX)
		return md_k8s_bad(b->err, b->errlen, "rdata too long");
	if (b->only_ptr && z != b->rev4 && z != b->rev6)
		return 0;
	return md_zone_add_rr(
	    z, owner, type, b->conf->ttl, rd, (uint16_t)len, b->err, b->errlen);
}

/* A or AAAA for 'ip' at owner. */
static int
add_addr(struct build *b, const uint8_t *owner, const char *ip)
{
	uint8_t bin[16];

	if (inet_pton(AF_INET, ip, bin) == 1)
		return add_rr(b, b->z, owner, MD_TYPE_A, bin, 4);
	if (inet_pton(AF_INET6, ip, bin) == 1)
		return add_rr(b, b->z, owner, MD_TYPE_AAAA, bin, 16);
	return md_k8s_bad(b->err, b->errlen, "bad address %s", ip);
}

/*
 * Spec §2.3.3 / §2.4.3: a PTR from the reverse name of 'ip' (d.c.b.a
 * .in-addr.arpa, or 32 nibbles under ip6.arpa) to target.  Only while the
 * first cluster zone is built: one PTR per address, not one per domain.
 */
static int
add_ptr(struct build *b, const char *ip, const uint8_t *target)
{
	uint8_t bin[16], owner[MD_NAME_MAX];
	char buf[128];
	size_t off = 0;

	if (b->rev4 == NULL || b->no_ptr)
		return 0;
	if (inet_pton(AF_INET, ip, bin) == 1) {
		if (mkname(owner, NULL, "%u.%u.%u.%u.in-addr.arpa.", bin[3],
			bin[2], bin[1], bin[0]) != 0)
			return md_k8s_bad(b->err, b->errlen, "PTR for %s", ip);
		return add_rr(b, b->rev4, owner, MD_TYPE_PTR, target,
		    md_name_len(target));
	}
	if (inet_pton(AF_INET6, ip, bin) != 1)
		return md_k8s_bad(b->err, b->errlen, "bad address %s", ip);
	for (int i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		buf[off++] = hex[bin[i] & 0xf];
		buf[off++] = '.';
		buf[off++] = hex[bin[i] >> 4];
		buf[off++] = '.';
	}
	md_strlcpy(buf + off, "ip6.arpa.", sizeof(buf) - off);
	if (md_name_from_str(buf, NULL, owner) < 0)
		return md_k8s_bad(b->err, b->errlen, "PTR for %s", ip);
	return add_rr(
	    b, b->rev6, owner, MD_TYPE_PTR, target, md_name_len(target));
}

/* SRV prio weight port target (RFC 2782). */
static int
add_srv(
    struct build *b, const uint8_t *owner, uint16_t port, const uint8_t *target)
{
	uint8_t rd[6 + MD_NAME_MAX];
	size_t tlen = md_name_len(target);

	md_write_u16(rd, SRV_PRIORITY);
	md_write_u16(rd + 2, SRV_WEIGHT);
	md_write_u16(rd + 4, port);
	memcpy(rd + 6, target, tlen);
	return add_rr(b, b->z, owner, MD_TYPE_SRV, rd, 6 + tlen);
}

/* _<port>._<proto>.<svc>.<ns>.svc.<zone>; MD_EPARSE: no name fits. */
static int srv_owner(struct build *b, uint8_t *out,
    const struct md_k8s_port *pt, const char *svc, const char *ns);

/*
 * One SRV per named port of ports[0..n), target 'target' (spec §2.3.2 for
 * a service, §2.4.2 for each endpoint of a headless one); unnamed ports
 * and names that do not fit are skipped.
 */
static int
add_named_srvs(struct build *b, const struct md_k8s_port *ports, unsigned n,
    const char *svc, const char *ns, const uint8_t *target)
{
	uint8_t owner[MD_NAME_MAX];

	for (unsigned i = 0; i < n; i++) {
		int rc;

		if (ports[i].name[0] == '\0' ||
		    srv_owner(b, owner, &ports[i], svc, ns) != 0)
			continue;
		rc = add_srv(b, owner, ports[i].port, target);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
srv_owner(struct build *b, uint8_t *out, const struct md_k8s_port *pt,
    const char *svc, const char *ns)
{
	char proto[sizeof(pt->protocol)];
	size_t i;

	for (i = 0; pt->protocol[i] != '\0' && i + 1 < sizeof(proto); i++)
		proto[i] = (char)tolower((unsigned char)pt->protocol[i]);
	proto[i] = '\0';
	return mkname(
	    out, b->apex, "_%s._%s.%s.%s.svc", pt->name, proto, svc, ns);
}

/* The SOA rdata of a cluster domain; returns its length, or 0. */
static size_t
soa_rdata(struct build *b, const uint8_t *cluster, uint8_t *rd, uint8_t *mname)
{
	uint8_t rname[MD_NAME_MAX];
	size_t ml, rl;

	if (mkname(mname, cluster, "ns.dns") != 0 ||
	    mkname(rname, cluster, "hostmaster") != 0)
		return 0;
	ml = md_name_len(mname);
	rl = md_name_len(rname);
	memcpy(rd, mname, ml);
	memcpy(rd + ml, rname, rl);
	md_write_u32(rd + ml + rl, b->serial);
	md_write_u32(rd + ml + rl + 4, SOA_REFRESH);
	md_write_u32(rd + ml + rl + 8, SOA_RETRY);
	md_write_u32(rd + ml + rl + 12, SOA_EXPIRE);
	/* RFC 2308 §4: the minimum is the negative TTL, the same TTL as
	 * the records. */
	md_write_u32(rd + ml + rl + 16, b->conf->ttl);
	return ml + rl + 20;
}

/* The SOA and NS of a zone's apex, naming ns.dns.<cluster zone>. */
static int
add_apex(struct build *b, struct md_zone *z, const uint8_t *cluster)
{
	uint8_t mname[MD_NAME_MAX];
	uint8_t rd[2 * MD_NAME_MAX + 20];
	size_t len = soa_rdata(b, cluster, rd, mname);
	int rc;

	if (len == 0)
		return md_k8s_bad(b->err, b->errlen, "cluster domain too long");
	rc = add_rr(b, z, md_zone_origin(z), MD_TYPE_SOA, rd, len);
	if (rc != 0)
		return rc;
	return add_rr(
	    b, z, md_zone_origin(z), MD_TYPE_NS, mname, md_name_len(mname));
}

/* Spec §2.3: a Service with cluster IPs; §2.5: ExternalName. */
static int
build_service(struct build *b, const struct md_k8s_service *s)
{
	uint8_t name[MD_NAME_MAX], target[MD_NAME_MAX];
	int rc;

	if (mkname(name, b->apex, "%s.%s.svc", s->name, s->ns) != 0)
		return 0;
	if (s->external) {
		/* Spec §2.5: <svc>.<ns>.svc.<zone> CNAME <extname>. */
		char ext[sizeof(s->external_name) + 1];
		size_t n = strlen(s->external_name);

		snprintf(ext, sizeof(ext), "%s%s", s->external_name,
		    n > 0 && s->external_name[n - 1] == '.' ? "" : ".");
		if (md_name_from_str(ext, NULL, target) < 0)
			return 0;
		return add_rr(
		    b, b->z, name, MD_TYPE_CNAME, target, md_name_len(target));
	}
	if (s->headless || s->ncluster_ips == 0)
		return 0; /* headless: from the slices (spec §2.4) */
	for (unsigned i = 0; i < s->ncluster_ips; i++) {
		/* Spec §2.3.1: A/AAAA per cluster IP (dual-stack). */
		rc = add_addr(b, name, s->cluster_ips[i]);
		if (rc == 0)
			rc = add_ptr(b, s->cluster_ips[i], name);
		if (rc != 0)
			return rc;
	}
	/* Spec §2.3.2: SRV for named ports, target the service. */
	return add_named_srvs(b, s->ports, s->nports, s->name, s->ns, name);
}

/*
 * The label naming an endpoint below its service: its hostname; with
 * endpoint_pod_names the pod's name (as CoreDNS does); else the spec's
 * "unique, system-assigned identifier" - CoreDNS's scheme, the address
 * with '.' and ':' turned into '-'.
 */
static void
endpoint_label(const struct md_k8s_conf *conf, const struct md_k8s_endpoint *ep,
    char *out, size_t size)
{
	size_t i;

	if (ep->hostname[0] != '\0') {
		md_strlcpy(out, ep->hostname, size);
		return;
	}
	if (conf->endpoint_pod_names && md_k8s_is_label(ep->pod_name)) {
		md_strlcpy(out, ep->pod_name, size);
		return;
	}
	for (i = 0; ep->addr[i] != '\0' && i + 1 < size; i++)
		out[i] = ep->addr[i] == '.' || ep->addr[i] == ':' ? '-'
								  : ep->addr[i];
	out[i] = '\0';
}

/* Spec §2.4: the endpoints of one slice of a headless service. */
static int
build_slice(struct build *b, const struct md_k8s_slice *sl)
{
	const struct md_k8s_service *s;
	uint8_t name[MD_NAME_MAX], host[MD_NAME_MAX];
	char label[MD_K8S_ADDR_STRLEN + 64];
	int rc;

	if (sl->service[0] == '\0')
		return 0;
	s = md_k8s_store_service(b->st, sl->ns, sl->service);
	if (s == NULL || !s->headless || s->external)
		return 0;
	if (mkname(name, b->apex, "%s.%s.svc", s->name, s->ns) != 0)
		return 0;
	for (unsigned i = 0; i < sl->neps; i++) {
		const struct md_k8s_endpoint *ep = &sl->eps[i];

		/* Spec §2.1 "ready": not-ready endpoints only with
		 * publishNotReadyAddresses. */
		if (!ep->ready && !s->publish_not_ready)
			continue;
		/* §2.4.1: <svc>.<ns>.svc.<zone> A/AAAA per endpoint. */
		rc = add_addr(b, name, ep->addr);
		if (rc != 0)
			return rc;
		/* §2.4.1: <hostname>.<svc>.<ns>.svc.<zone> A/AAAA. */
		endpoint_label(b->conf, ep, label, sizeof(label));
		if (mkname(host, b->apex, "%s.%s.%s.svc", label, s->name,
			s->ns) != 0)
			continue;
		rc = add_addr(b, host, ep->addr);
		/* §2.4.3: PTR to the hostname name. */
		if (rc == 0)
			rc = add_ptr(b, ep->addr, host);
		if (rc != 0)
			return rc;
		/* §2.4.2: one SRV per endpoint and named port. */
		rc = add_named_srvs(
		    b, sl->ports, sl->nports, s->name, s->ns, host);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Pod records (not in spec 1.1.0; the kube-dns/CoreDNS convention):
 * a-b-c-d.<ns>.pod.<zone>, IPv6 with '-' for ':'.  Both modes publish the
 * IPs of the pods in the store; insecure mode also answers ANY a-b-c-d
 * name with the address it spells, as CoreDNS does, by synthesis at query
 * time in the zone store (md_zone_set_pod_synthesis).
 */
static int
build_pod(struct build *b, const struct md_k8s_pod *p)
{
	uint8_t name[MD_NAME_MAX];
	char label[MD_K8S_ADDR_STRLEN];
	int rc;

	for (unsigned i = 0; i < p->nips; i++) {
		size_t j;

		for (j = 0; p->ips[i][j] != '\0' && j + 1 < sizeof(label); j++)
			label[j] = p->ips[i][j] == '.' || p->ips[i][j] == ':'
			    ? '-'
			    : p->ips[i][j];
		label[j] = '\0';
		if (mkname(name, b->apex, "%s.%s.pod", label, p->ns) != 0)
			continue;
		rc = add_addr(b, name, p->ips[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* autopath: the pod's addresses as clients of its namespace. */
static int
add_clients(struct build *b, struct md_zone *z, const struct md_k8s_pod *p)
{
	for (unsigned i = 0; i < p->nips; i++) {
		uint8_t a[16];
		struct in_addr v4;

		if (inet_pton(AF_INET, p->ips[i], &v4) == 1) {
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			memcpy(a + 12, &v4, 4);
		} else if (inet_pton(AF_INET6, p->ips[i], a) != 1)
			continue;
		if (md_zone_add_client(z, a, p->ns) != 0) {
			md_k8s_bad(b->err, b->errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * The PTR records of every served Service and EndpointSlice (b->only_ptr:
 * their other records are skipped), into b->rev4 and b->rev6.
 */
static int
build_ptrs(struct build *b)
{
	struct md_k8s_store_iter it;
	const void *o;
	int rc;

	/* Services (cluster IPs), then slices (headless endpoints). */
	for (int slices = 0; slices < 2; slices++) {
		md_k8s_store_iter_init(
		    &it, b->st, slices ? MD_K8S_SLICE : MD_K8S_SERVICE);
		while (md_k8s_store_next(&it, NULL, &o)) {
			const char *ns = slices
			    ? ((const struct md_k8s_slice *)o)->ns
			    : ((const struct md_k8s_service *)o)->ns;

			if (!ns_served(b->conf, ns))
				continue;
			rc = slices ? build_slice(b, o) : build_service(b, o);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* ---- the incremental builder --------------------------------------------- */

/*
 * What the Kubernetes source publishes, kept between changes so that a
 * change rebuilds only what it touched: per cluster domain a small main
 * zone (apex SOA/NS, dns-version, svc., pods) and one zone per namespace
 * (<ns>.svc.<zone>, whose negative answers carry the domain's SOA), and
 * the reverse zones, rebuilt apart (they span every namespace).  A change
 * to one Service rebuilds one namespace zone: milliseconds, not the
 * hundreds a whole cluster of 10,000 Services takes.
 */
struct ns_zones {
	char ns[64];
	struct md_zone *z[MD_K8S_ZONES_MAX];
};

struct md_k8s_builder {
	const struct md_k8s_conf *conf;
	bool built;
	struct md_zone *main[MD_K8S_ZONES_MAX];
	struct md_zone *rev4, *rev6;
	struct ns_zones *ns;
	size_t nns, capns;
	struct md_zone **out;
	size_t capout;
};

struct md_k8s_builder *
md_k8s_builder_new(const struct md_k8s_conf *conf)
{
	struct md_k8s_builder *kb = calloc(1, sizeof(*kb));

	if (kb != NULL)
		kb->conf = conf;
	return kb;
}

static void
ns_zones_drop(struct ns_zones *n)
{
	for (size_t d = 0; d < MD_K8S_ZONES_MAX; d++) {
		md_zone_free(n->z[d]);
		n->z[d] = NULL;
	}
}

void
md_k8s_builder_free(struct md_k8s_builder *kb)
{
	if (kb == NULL)
		return;
	for (size_t i = 0; i < MD_K8S_ZONES_MAX; i++)
		md_zone_free(kb->main[i]);
	md_zone_free(kb->rev4);
	md_zone_free(kb->rev6);
	for (size_t i = 0; i < kb->nns; i++)
		ns_zones_drop(&kb->ns[i]);
	free(kb->ns);
	free(kb->out);
	free(kb);
}

static struct ns_zones *
ns_find(struct md_k8s_builder *kb, const char *ns, bool create)
{
	for (size_t i = 0; i < kb->nns; i++) {
		if (strcmp(kb->ns[i].ns, ns) == 0)
			return &kb->ns[i];
	}
	if (!create)
		return NULL;
	if (kb->nns == kb->capns) {
		size_t cap = kb->capns ? kb->capns * 2 : 32;
		struct ns_zones *v = realloc(kb->ns, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		kb->ns = v;
		kb->capns = cap;
	}
	memset(&kb->ns[kb->nns], 0, sizeof(kb->ns[0]));
	md_strlcpy(kb->ns[kb->nns].ns, ns, sizeof(kb->ns[0].ns));
	return &kb->ns[kb->nns++];
}

/* The main zone of one domain: apex, dns-version, svc., pods. */
static struct md_zone *
build_main(struct build *b)
{
	struct md_k8s_store_iter it;
	const void *o;
	uint8_t name[MD_NAME_MAX];
	static const uint8_t txt[] = {5, '1', '.', '1', '.', '0'};
	struct md_zone *z = md_zone_new(b->apex);

	if (z == NULL) {
		md_k8s_bad(b->err, b->errlen, "out of memory");
		return NULL;
	}
	b->z = z;
	md_zone_set_fallthrough(z, b->conf->fallthrough);
	md_zone_set_pod_synthesis(z, b->conf->pods == MD_K8S_PODS_INSECURE);
	md_zone_set_autopath(
	    z, b->conf->autopath && b->conf->pods == MD_K8S_PODS_VERIFIED);
	/* Spec §2.2: dns-version.<zone> TXT "1.1.0"; svc.<zone> exists
	 * (NODATA, not NXDOMAIN). */
	if (add_apex(b, z, b->apex) != 0 ||
	    mkname(name, b->apex, "dns-version") != 0 ||
	    add_rr(b, z, name, MD_TYPE_TXT, txt, sizeof(txt)) != 0 ||
	    mkname(name, b->apex, "svc") != 0 || md_zone_add_name(z, name) != 0)
		goto fail;
	md_k8s_store_iter_init(&it, b->st, MD_K8S_POD);
	while (b->conf->pods != MD_K8S_PODS_DISABLED &&
	    md_k8s_store_next(&it, NULL, &o)) {
		const struct md_k8s_pod *p = o;

		if (!ns_served(b->conf, p->ns))
			continue;
		if (build_pod(b, p) != 0 ||
		    (md_zone_autopath(z) && add_clients(b, z, p) != 0))
			goto fail;
	}
	if (md_zone_check(z, b->err, b->errlen) != 0)
		goto fail;
	return z;
fail:
	md_zone_free(z);
	return NULL;
}

/* A namespace's zone for one domain: its Services and EndpointSlices. */
static struct md_zone *
build_ns(struct build *b, const char *ns)
{
	uint8_t origin[MD_NAME_MAX], mname[MD_NAME_MAX], soa_owner[MD_NAME_MAX];
	uint8_t rd[2 * MD_NAME_MAX + 20];
	size_t len;
	struct md_k8s_store_iter it;
	const void *o;
	struct md_zone *z;

	if (mkname(origin, b->apex, "%s.svc", ns) != 0) {
		md_k8s_bad(
		    b->err, b->errlen, "namespace %s: name too long", ns);
		return NULL;
	}
	z = md_zone_new(origin);
	len = soa_rdata(b, b->apex, rd, mname);
	memcpy(soa_owner, b->apex, md_name_len(b->apex));
	if (z == NULL || len == 0 || md_zone_add_name(z, origin) != 0 ||
	    md_zone_set_negative_soa(
		z, soa_owner, b->conf->ttl, rd, (uint16_t)len) != 0) {
		md_k8s_bad(b->err, b->errlen, "out of memory");
		md_zone_free(z);
		return NULL;
	}
	md_zone_set_fallthrough(z, b->conf->fallthrough);
	b->z = z;
	md_k8s_store_iter_init(&it, b->st, MD_K8S_SERVICE);
	while (md_k8s_store_next(&it, NULL, &o)) {
		const struct md_k8s_service *s = o;

		if (strcmp(s->ns, ns) == 0 && build_service(b, s) != 0)
			goto fail;
	}
	md_k8s_store_iter_init(&it, b->st, MD_K8S_SLICE);
	while (md_k8s_store_next(&it, NULL, &o)) {
		const struct md_k8s_slice *sl = o;

		if (strcmp(sl->ns, ns) == 0 && build_slice(b, sl) != 0)
			goto fail;
	}
	return z;
fail:
	md_zone_free(z);
	return NULL;
}

/* Append ns to a list of names unless it is there. */
static void
add_unique(char (**v)[64], size_t *n, size_t *cap, const char *ns)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i], ns) == 0)
			return;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char(*nv)[64] = realloc(*v, c * sizeof(**v));

		if (nv == NULL)
			return;
		*v = nv;
		*cap = c;
	}
	md_strlcpy((*v)[(*n)++], ns, sizeof((*v)[0]));
}

/* Rebuild the zones of one namespace (or drop them when it is gone). */
static int
rebuild_ns(struct md_k8s_builder *kb, struct build *b, const char *ns)
{
	struct ns_zones *n;

	if (!ns_served(kb->conf, ns) || !md_k8s_store_ns_present(b->st, ns)) {
		n = ns_find(kb, ns, false);
		if (n != NULL) {
			ns_zones_drop(n);
			*n = kb->ns[--kb->nns];
		}
		return 0;
	}
	n = ns_find(kb, ns, true);
	if (n == NULL)
		return md_k8s_bad(b->err, b->errlen, "out of memory");
	for (size_t d = 0; d < kb->conf->nzones; d++) {
		struct md_zone *z;

		b->apex = kb->conf->zones[d];
		z = build_ns(b, ns);
		if (z == NULL)
			return -1;
		md_zone_free(n->z[d]);
		n->z[d] = z;
	}
	return 0;
}

/* The state one builder pass shares, for kb over st. */
static void
build_init(struct build *b, const struct md_k8s_builder *kb,
    const struct md_k8s_store *st, uint32_t serial, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->st = st;
	b->conf = kb->conf;
	b->serial = serial;
	b->err = err;
	b->errlen = errlen;
}

int
md_k8s_builder_update(struct md_k8s_builder *kb, struct md_k8s_store *st,
    uint32_t serial, char *err, size_t errlen)
{
	struct build b;
	struct md_k8s_changes ch;
	bool all;

	md_k8s_store_changes(st, &ch);
	all = !kb->built || ch.all;
	if (kb->conf->nzones > MD_K8S_ZONES_MAX) {
		md_k8s_bad(err, errlen, "too many cluster domains");
		return -1;
	}
	build_init(&b, kb, st, serial, err, errlen);
	b.no_ptr = true; /* PTRs: md_k8s_builder_update_reverse() */
	for (size_t d = 0; d < kb->conf->nzones; d++) {
		struct md_zone *z;

		b.apex = kb->conf->zones[d];
		z = build_main(&b);
		if (z == NULL)
			return -1;
		md_zone_free(kb->main[d]);
		kb->main[d] = z;
	}
	if (all) {
		/* Every namespace: the ones the objects name, and those of
		 * zones built before (so that vanished ones are dropped). */
		char(*todo)[64] = NULL;
		size_t ntodo = 0, cap = 0;
		int rc = 0;

		for (size_t i = 0; i < kb->nns; i++)
			add_unique(&todo, &ntodo, &cap, kb->ns[i].ns);
		for (int k = MD_K8S_SERVICE; k <= MD_K8S_NAMESPACE; k++) {
			struct md_k8s_store_iter it;
			const char *key;

			md_k8s_store_iter_init(&it, st, (enum md_k8s_kind)k);
			while (md_k8s_store_next(&it, &key, NULL)) {
				char ns[64];
				size_t l = strcspn(key, "/");

				if (l >= sizeof(ns))
					continue;
				memcpy(ns, key, l);
				ns[l] = '\0';
				add_unique(&todo, &ntodo, &cap, ns);
			}
		}
		for (size_t i = 0; i < ntodo && rc == 0; i++)
			rc = rebuild_ns(kb, &b, todo[i]);
		free(todo);
		if (rc != 0)
			return -1;
	} else {
		for (size_t i = 0; i < ch.nns; i++) {
			if (rebuild_ns(kb, &b, ch.ns[i]) != 0)
				return -1;
		}
	}
	md_k8s_store_changes_clear(st);
	kb->built = true;
	return 0;
}

int
md_k8s_builder_update_reverse(struct md_k8s_builder *kb,
    struct md_k8s_store *st, uint32_t serial, char *err, size_t errlen)
{
	struct build b;
	uint8_t origin[MD_NAME_MAX];
	struct md_zone *r4 = NULL, *r6 = NULL;

	if (!kb->conf->reverse || kb->conf->nzones == 0)
		return 0;
	build_init(&b, kb, st, serial, err, errlen);
	b.apex = kb->conf->zones[0];
	b.only_ptr = true;
	if (md_name_from_str("in-addr.arpa.", NULL, origin) < 0 ||
	    (r4 = md_zone_new(origin)) == NULL ||
	    md_name_from_str("ip6.arpa.", NULL, origin) < 0 ||
	    (r6 = md_zone_new(origin)) == NULL) {
		md_k8s_bad(err, errlen, "out of memory");
		goto fail;
	}
	/* Other reverse names go on to the next answer source. */
	md_zone_set_fallthrough(r4, true);
	md_zone_set_fallthrough(r6, true);
	b.rev4 = r4;
	b.rev6 = r6;
	if (add_apex(&b, r4, b.apex) != 0 || add_apex(&b, r6, b.apex) != 0 ||
	    build_ptrs(&b) != 0 || md_zone_check(r4, err, errlen) != 0 ||
	    md_zone_check(r6, err, errlen) != 0)
		goto fail;
	md_zone_free(kb->rev4);
	md_zone_free(kb->rev6);
	kb->rev4 = r4;
	kb->rev6 = r6;
	return 0;
fail:
	md_zone_free(r4);
	md_zone_free(r6);
	return -1;
}

ssize_t
md_k8s_builder_zones(struct md_k8s_builder *kb, struct md_zone ***out)
{
	size_t nz = kb->conf->nzones < MD_K8S_ZONES_MAX ? kb->conf->nzones
							: MD_K8S_ZONES_MAX;
	size_t need = nz + kb->nns * nz + 2;
	size_t n = 0;

	if (need > kb->capout) {
		struct md_zone **v = realloc(kb->out, need * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		kb->out = v;
		kb->capout = need;
	}
	for (size_t d = 0; d < nz; d++) {
		if (kb->main[d] != NULL)
			kb->out[n++] = kb->main[d];
	}
	for (size_t i = 0; i < kb->nns; i++) {
		for (size_t d = 0; d < nz; d++) {
			if (kb->ns[i].z[d] != NULL)
				kb->out[n++] = kb->ns[i].z[d];
		}
	}
	if (kb->rev4 != NULL)
		kb->out[n++] = kb->rev4;
	if (kb->rev6 != NULL)
		kb->out[n++] = kb->rev6;
	*out = kb->out;
	return (ssize_t)n;
}

ssize_t
md_k8s_pending_zones(const struct md_k8s_conf *conf, struct md_zone **out)
{
	static const char *const rev[2] = {"in-addr.arpa.", "ip6.arpa."};
	uint8_t origin[MD_NAME_MAX];
	size_t nz =
	    conf->nzones < MD_K8S_ZONES_MAX ? conf->nzones : MD_K8S_ZONES_MAX;
	size_t n = 0;

	for (size_t d = 0; d < nz; d++) {
		out[n] = md_zone_new(conf->zones[d]);
		if (out[n] == NULL)
			goto fail;
		md_zone_set_not_ready(out[n++], true);
	}
	/* The reverse zones too, as the builder makes them (with no cluster
	 * domain there are none). */
	for (size_t i = 0; i < 2 && conf->reverse && nz > 0; i++) {
		if (md_name_from_str(rev[i], NULL, origin) < 0 ||
		    (out[n] = md_zone_new(origin)) == NULL)
			goto fail;
		md_zone_set_not_ready(out[n++], true);
	}
	return (ssize_t)n;
fail:
	while (n > 0)
		md_zone_free(out[--n]);
	return -ENOMEM;
}
