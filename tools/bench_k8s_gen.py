#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of tools/bench-k8s.sh (the Kubernetes source benchmark).

  bench_k8s_gen.py gen OUTDIR
      Write, deterministically (fixed seed):
        apply.json     the test API server's --apply list: 100 Namespaces,
                       10,000 Services (8,000 ClusterIP + 2,000 headless,
                       each with 2 named ports) and one EndpointSlice per
                       Service: 2 ready endpoints per ClusterIP Service
                       (16,000) and 17 per headless one (34,000), 50,000
                       endpoints in all
        cluster.zone   an RFC 1035 zone file with the records minidnsd
                       builds from those objects (spec 1.1.0: A, SRV,
                       endpoint A, dns-version TXT, SOA, NS)
        reverse.zone   in-addr.arpa. with the PTR records it builds
        queries.txt    dnsperf input: 100,000 random cluster names, A and SRV
        meta.sh        shell variables: counts, the last Service's name, the
                       Service the update test changes

  bench_k8s_gen.py update API_URL DNS_ADDR COUNT
      COUNT times: replace the update Service's cluster IP through
      POST /_test/apply, then query DNS_ADDR (UDP, one query every 5 ms,
      at most 5 s) until the new address is served; print one latency in
      ms per line (from just before the POST to the first answer with the
      new address; "timeout": not seen within 5 s) and the slowest single
      query's round trip in ms during that poll, one update per line.

  bench_k8s_gen.py doc FILE BODY.md
      Write (or replace) the "## Kubernetes source" section of FILE with
      the text of BODY.md (the heading is added).
"""

import json
import os
import random
import socket
import struct
import sys
import time
import urllib.request

ZONE = "cluster.local"
NNS = 100           # namespaces
NCLUSTERIP = 8000   # ClusterIP Services
NHEADLESS = 2000    # headless Services
EP_CLUSTERIP = 2    # endpoints per ClusterIP Service's slice
EP_HEADLESS = 17    # endpoints per headless Service's slice
NQUERIES = 100000
TTL = 5             # minidnsd's default kubernetes ttl

PORTS = [("http", 80, 8080), ("grpc", 9090, 9090)]

# the Service the update test changes (a ClusterIP one)
UPD_NS = "ns-042"
UPD_SVC = "svc-00042"


def ns_of(i):
    return "ns-%03d" % (i % NNS)


def v4(base, n):
    """base (a.b.0.0 as int) + n as dotted quad."""
    a = base + n
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


SVC_BASE = (10 << 24) | (96 << 16)      # 10.96.0.0/12: cluster IPs
EP_BASE = (10 << 24) | (128 << 16)      # 10.128.0.0/9: pod IPs
UPD_BASE = (10 << 24) | (111 << 16)     # new IPs of the update test


def service(name, ns, cluster_ip):
    ports = [{"name": n, "port": p, "protocol": "TCP", "targetPort": t}
             for n, p, t in PORTS]
    spec = {"type": "ClusterIP", "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip], "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "selector": {"app": name},
            "ports": ports}
    return {"metadata": {"name": name, "namespace": ns,
                         "labels": {"app": name}}, "spec": spec}


def gen(out):
    ops = []
    zone = []
    rev = []
    names = {"svc_a": [], "svc_srv": [], "hl_a": [], "ep_a": []}
    for n in range(NNS):
        ops.append({"op": "add", "kind": "Namespace",
                    "object": {"metadata": {"name": "ns-%03d" % n}}})
    services = []
    for i in range(NCLUSTERIP):
        services.append(("svc-%05d" % i, ns_of(i), v4(SVC_BASE, i + 1),
                         EP_CLUSTERIP))
    for i in range(NHEADLESS):
        services.append(("hl-%05d" % i, ns_of(i), "None", EP_HEADLESS))
    ep = 0
    slices = []
    for name, ns, cip, neps in services:
        ops.append({"op": "add", "kind": "Service",
                    "object": service(name, ns, cip)})
        owner = "%s.%s.svc" % (name, ns)
        eps = []
        for k in range(neps):
            ip = v4(EP_BASE, ep + 1)
            ep += 1
            eps.append({"addresses": [ip],
                        "conditions": {"ready": True, "serving": True,
                                       "terminating": False},
                        "targetRef": {"kind": "Pod", "namespace": ns,
                                      "name": "%s-%d" % (name, k)},
                        "nodeName": "node-%d" % (ep % 50)})
        slices.append({"op": "add", "kind": "EndpointSlice", "object": {
            "metadata": {"name": name + "-abcde", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "endpoints": eps,
            "ports": [{"name": n, "port": t, "protocol": "TCP"}
                      for n, _, t in PORTS]}})
        # the records minidnsd builds (k8s_build.c build_service and
        # build_slice), in zone file form
        if cip != "None":
            zone.append("%s A %s" % (owner, cip))
            rev.append(ptr(cip, owner))
            for pn, port, _ in PORTS:
                zone.append("_%s._tcp.%s SRV 0 100 %d %s" % (
                    pn, owner, port, owner))
            names["svc_a"].append(owner)
            names["svc_srv"].append("_%s._tcp.%s" % (PORTS[0][0], owner))
            names["svc_srv"].append("_%s._tcp.%s" % (PORTS[1][0], owner))
        else:
            names["hl_a"].append(owner)
            for e in eps:
                ip = e["addresses"][0]
                host = "%s.%s" % (ip.replace(".", "-"), owner)
                zone.append("%s A %s" % (owner, ip))
                zone.append("%s A %s" % (host, ip))
                rev.append(ptr(ip, host))
                for pn, _, tport in PORTS:
                    zone.append("_%s._tcp.%s SRV 0 100 %d %s" % (
                        pn, owner, tport, host))
                names["ep_a"].append(host)
    ops.extend(slices)
    last_name, last_ns = services[-1][0], services[-1][1]

    with open(os.path.join(out, "apply.json"), "w") as f:
        json.dump(ops, f, separators=(",", ":"))
    soa = ("@ SOA ns.dns.%s. hostmaster.%s. 1 7200 1800 86400 %d\n"
           "@ NS ns.dns.%s.\n" % (ZONE, ZONE, TTL, ZONE))
    with open(os.path.join(out, "cluster.zone"), "w") as f:
        f.write("$ORIGIN %s.\n$TTL %d\n%s" % (ZONE, TTL, soa))
        f.write('dns-version TXT "1.1.0"\n')
        # svc.<zone> and <ns>.svc.<zone> are empty non-terminals here
        f.write("\n".join(zone) + "\n")
    with open(os.path.join(out, "reverse.zone"), "w") as f:
        f.write("$ORIGIN in-addr.arpa.\n$TTL %d\n%s" % (TTL, soa))
        f.write("\n".join(rev) + "\n")

    # dnsperf input: 40% ClusterIP Service A, 30% its SRV, 10% headless
    # Service A (17 addresses), 20% endpoint A
    rnd = random.Random(20260)
    with open(os.path.join(out, "queries.txt"), "w") as f:
        for _ in range(NQUERIES):
            r = rnd.random()
            if r < 0.4:
                q = (rnd.choice(names["svc_a"]), "A")
            elif r < 0.7:
                q = (rnd.choice(names["svc_srv"]), "SRV")
            elif r < 0.8:
                q = (rnd.choice(names["hl_a"]), "A")
            else:
                q = (rnd.choice(names["ep_a"]), "A")
            f.write("%s.%s. %s\n" % (q[0], ZONE, q[1]))

    nrec = len(zone) + 3 + len(rev) + 2
    with open(os.path.join(out, "meta.sh"), "w") as f:
        f.write("NNS=%d\nNSVC=%d\nNSLICE=%d\nNEP=%d\nNOBJ=%d\n" % (
            NNS, len(services), len(slices), ep, len(ops)))
        f.write("ZONE_RECORDS=%d\n" % nrec)
        f.write("LAST_NAME=%s.%s.svc.%s\n" % (last_name, last_ns, ZONE))
        f.write("UPD_NAME=%s.%s.svc.%s\n" % (UPD_SVC, UPD_NS, ZONE))


def ptr(ip, target):
    a = ip.split(".")
    return "%s.%s.%s.%s PTR %s.%s." % (a[3], a[2], a[1], a[0], target, ZONE)


# ---- update latency ------------------------------------------------------


def dns_query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def answers_ip(resp, qid, ip):
    """Whether the response to qid holds an A record with address ip."""
    if len(resp) < 12:
        return False
    rid, _, qd, an = struct.unpack(">HHHH", resp[:8])
    if rid != qid:
        return False
    off = 12
    for _ in range(qd + an):
        # the owner: labels, or a compression pointer
        while off < len(resp):
            n = resp[off]
            if n >= 0xC0:
                off += 2
                break
            off += 1 + n
            if n == 0:
                break
        if qd > 0:
            qd -= 1
            off += 4
            continue
        rtype, _, _, rdlen = struct.unpack(">HHIH", resp[off:off + 10])
        off += 10
        if rtype == 1 and resp[off:off + rdlen] == socket.inet_aton(ip):
            return True
        off += rdlen
    return False


def update(api, dns, count):
    svc_name = "%s.%s.svc.%s" % (UPD_SVC, UPD_NS, ZONE)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    qid = 1
    for n in range(count):
        ip = v4(UPD_BASE, n + 1)
        body = json.dumps({"op": "update", "kind": "Service",
                           "object": service(UPD_SVC, UPD_NS, ip)}).encode()
        req = urllib.request.Request(api + "/_test/apply", data=body,
                                     method="POST")
        req.add_header("Content-Type", "application/json")
        t0 = time.monotonic()
        urllib.request.urlopen(req, timeout=5).read()
        seen = None
        slowest = 0.0   # the slowest single query of this poll
        while time.monotonic() - t0 < 5.0:
            qid = qid % 65535 + 1
            sent = time.monotonic()
            s.sendto(dns_query(svc_name, qid), (dns, 53))
            try:
                while True:
                    resp = s.recv(4096)
                    if struct.unpack(">H", resp[:2])[0] == qid:
                        break
            except socket.timeout:
                slowest = max(slowest, time.monotonic() - sent)
                continue
            slowest = max(slowest, time.monotonic() - sent)
            if answers_ip(resp, qid, ip):
                seen = time.monotonic()
                break
            time.sleep(0.005)
        print("%s %.1f" % ("%.1f" % ((seen - t0) * 1000) if seen
                           else "timeout", slowest * 1000), flush=True)
        # let the next update start from a quiet source
        time.sleep(0.3)


# ---- the documentation section -------------------------------------------


def doc(path, body):
    with open(body) as f:
        section = "## Kubernetes source\n\n" + f.read().rstrip("\n") + "\n"
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmarks\n\nNumbers measured on one machine; the " \
              "scripts that produce them are named in each section.\n"
    out, skip, done = [], False, False
    for line in old.split("\n"):
        if line.startswith("## "):
            if line.strip() == "## Kubernetes source":
                skip = True
                out.append(section.rstrip("\n"))
                out.append("")
                done = True
                continue
            skip = False
        if not skip:
            out.append(line)
    text = "\n".join(out).rstrip("\n") + "\n"
    if not done:
        text += "\n" + section
    with open(path, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "update":
        update(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "doc":
        doc(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
