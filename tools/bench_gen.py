#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of tools/bench.sh (the resolver comparison).

  bench_gen.py auth OUTDIR NAMES [ZONE_NAMES]
      Write, deterministically (fixed seed):
        bench.internal.zone  the authoritative zone NSD serves: ZONE_NAMES
                         (default NAMES) names h<N>.bench.internal. A
                         (TTL 86400) and a wildcard
                         *.cold.bench.internal. A for the cold misses
        warm.txt         dnsperf input: the first NAMES h<N> names once,
                         in order
        hits.txt         dnsperf input: the same names, shuffled

  bench_gen.py names FILE COUNT ORDER [LINES]
      Write the first COUNT names h<N>.bench.internal. A, ORDER "asc",
      "desc" or "shuffle" (a fixed seed); or "random": LINES names drawn
      from them uniformly, each draw on its own (a fixed seed).

  bench_gen.py lat FILE
      Read one dnsperf run's output made with -v (a "> RCODE NAME TYPE
      SECONDS" line per answer, "> T NAME TYPE" per lost query) and
      perhaps -S 1 ("TIME: QPS" lines) and print "p50 p99 p99.9 max"
      latencies in ms over every query sent (a lost one counts as
      infinitely slow: "inf" when the lost share reaches the
      percentile), then the fewest answers in one -S interval per
      second (counted from the answer lines between two -S lines; -1
      without them), the answers counted and the lost ones.

  bench_gen.py cluster OUTDIR
      Write, deterministically: a cluster.local. zone of 10,000 Services
      in 100 namespaces (svc<N>.ns<M>.svc.cluster.local. A 10.96.x.y and
      _http._tcp.svc<N>.ns<M>.svc.cluster.local. SRV) and its reverse zone
      96.10.in-addr.arpa. (PTR), as
        cluster.zone, reverse.zone   RFC 1035 zone files (minidnsd --zone)
        unbound-local.conf           the same records as Unbound
                                     local-zone/local-data lines
        dnsmasq-local.conf           the same records for dnsmasq
                                     (host-record makes the A and the PTR)
        zone-queries.txt             dnsperf input: 100,000 questions,
                                     50% A, 25% SRV, 25% PTR, shuffled

  bench_gen.py cold FILE TAG COUNT
      Write COUNT names never asked before: TAG-<N>.cold.bench.internal. A.

  bench_gen.py report RESULTS META OUT.md
      Read the measurements (RESULTS: "server workload rep key value"
      lines) and the run's description (META: "key=value" lines) and
      write the Markdown tables: medians with min-max over the
      repetitions, each server's ratio to Unbound, the targets.

  bench_gen.py callgrind FILE ANSWERED RCODES TOP TITLE [...]
      For tools/profile-hotpath.sh: read each callgrind dump with
      callgrind_annotate (self and inclusive), merge the entries of one
      function (inlined code shows under several source files) and print
      Markdown: instructions per query, then the TOP functions by self and
      by inclusive instructions, per query and in percent.

  bench_gen.py doc FILE BODY.md [LABEL]
      Write BODY.md into the "## Resolver comparison" section of FILE as
      the run labelled LABEL (default "latest"; a "### LABEL" heading is
      added), between markers naming the label: a run of the same label
      replaces it, another label is added at the section's end, so a
      baseline stays beside later runs.  The rest of FILE is kept.
"""

import math
import os
import random
import statistics
import sys

TTL = 86400
NSVC = 10000
NNS = 100
NZONEQ = 100000

BEGIN = "<!-- tools/bench.sh %s: begin (generated, do not edit) -->"
END = "<!-- tools/bench.sh %s: end -->"
HEADING = "## Resolver comparison"


def auth(outdir, n, zn=None):
    n = int(n)
    zn = max(n, int(zn)) if zn else n
    with open(os.path.join(outdir, "bench.internal.zone"), "w") as f:
        f.write("$ORIGIN bench.internal.\n$TTL %d\n" % TTL)
        f.write("@ IN SOA ns.bench.internal. hostmaster.bench.internal. "
                "1 7200 1800 86400 3600\n")
        f.write("@ IN NS ns.bench.internal.\nns IN A 192.0.2.53\n")
        f.write("*.cold IN A 192.0.2.99\n")
        for i in range(zn):
            f.write("h%d IN A 10.%d.%d.%d\n"
                    % (i, 1 + (i >> 16), (i >> 8) & 255, i & 255))
    names = ["h%d.bench.internal. A\n" % i for i in range(n)]
    with open(os.path.join(outdir, "warm.txt"), "w") as f:
        f.writelines(names)
    random.Random(7).shuffle(names)
    with open(os.path.join(outdir, "hits.txt"), "w") as f:
        f.writelines(names)


def names(path, n, order, lines=None):
    lst = ["h%d.bench.internal. A\n" % i for i in range(int(n))]
    if order == "random" and lines:
        rnd = random.Random(17)
        lst = [lst[rnd.randrange(len(lst))] for _ in range(int(lines))]
    elif order == "desc":
        lst.reverse()
    elif order == "shuffle":
        random.Random(13).shuffle(lst)
    elif order != "asc":
        raise SystemExit("names: ORDER is asc, desc, shuffle or random")
    with open(path, "w") as f:
        f.writelines(lst)


def lat(path):
    """p50 p99 p99.9 max (ms) over every query sent, the lowest -S rate,
    answers and lost queries."""
    # The answers per second are counted from the answer lines between two
    # -S lines (dnsperf prints both in the order they happen), over the
    # time between the -S lines' stamps (the first interval: 1 s).  The
    # rate -S itself prints is not used: its first interval can read ~0
    # after thousands of answers.
    times, lost, rates = [], 0, []
    since, stamp = 0, None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                p = line.split()
                if p[1] == "T":
                    lost += 1
                else:
                    since += 1
                    try:
                        times.append(float(p[-1]) * 1000.0)
                    except ValueError:
                        pass
            elif line[:1].isdigit() and ": " in line:
                a = line.split(": ", 1)[0]
                try:
                    t = float(a)
                except ValueError:
                    continue
                dt = 1.0 if stamp is None else t - stamp
                if dt > 0:
                    rates.append(since / dt)
                stamp, since = t, 0
    times.sort()
    n = len(times) + lost

    def pct(q):
        if n == 0:
            return float("nan")
        k = max(0, math.ceil(q * n - 1e-9) - 1)
        return times[k] if k < len(times) else float("inf")
    mx = float("inf") if lost else (times[-1] if times else float("nan"))
    full = rates
    print("%.3f %.3f %.3f %.3f %.0f %d %d" % (
        pct(0.50), pct(0.99), pct(0.999), mx,
        min(full) if full else -1, len(times), lost))


def svc_name(i):
    return "svc%d.ns%d.svc.cluster.local." % (i, i % NNS)


def svc_addr(i):
    return (96, i >> 8, i & 255)


def cluster(outdir):
    soa = "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 " \
          "86400 5"
    rev_soa = "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 " \
              "1800 86400 5"
    fz = open(os.path.join(outdir, "cluster.zone"), "w")
    fr = open(os.path.join(outdir, "reverse.zone"), "w")
    fu = open(os.path.join(outdir, "unbound-local.conf"), "w")
    fd = open(os.path.join(outdir, "dnsmasq-local.conf"), "w")
    fz.write("$ORIGIN cluster.local.\n$TTL %d\n" % TTL)
    fz.write("@ IN SOA %s\n@ IN NS ns.dns.cluster.local.\n" % soa)
    fz.write("ns.dns IN A 10.96.0.10\n")
    fr.write("$ORIGIN 96.10.in-addr.arpa.\n$TTL %d\n" % TTL)
    fr.write("@ IN SOA %s\n@ IN NS ns.dns.cluster.local.\n" % rev_soa)
    fu.write('\tlocal-zone: "cluster.local." static\n')
    fu.write('\tlocal-data: "cluster.local. %d IN SOA %s"\n' % (TTL, soa))
    fu.write('\tlocal-data: "cluster.local. %d IN NS ns.dns.cluster.local."\n'
             % TTL)
    fu.write('\tlocal-data: "ns.dns.cluster.local. %d IN A 10.96.0.10"\n'
             % TTL)
    fu.write('\tlocal-zone: "96.10.in-addr.arpa." static\n')
    fu.write('\tlocal-data: "96.10.in-addr.arpa. %d IN SOA %s"\n'
             % (TTL, rev_soa))
    fu.write('\tlocal-data: "96.10.in-addr.arpa. %d IN NS '
             'ns.dns.cluster.local."\n' % TTL)
    fd.write("local=/cluster.local/\nlocal=/96.10.in-addr.arpa/\n")
    fd.write("local-ttl=%d\n" % TTL)
    for i in range(NSVC):
        name = svc_name(i)
        a, b, c = svc_addr(i)
        rel = name[:-len(".cluster.local.")]
        fz.write("%s IN A 10.%d.%d.%d\n" % (rel, a, b, c))
        fz.write("_http._tcp.%s IN SRV 0 100 80 %s\n" % (rel, name))
        fr.write("%d.%d IN PTR %s\n" % (c, b, name))
        fu.write('\tlocal-data: "%s %d IN A 10.%d.%d.%d"\n'
                 % (name, TTL, a, b, c))
        fu.write('\tlocal-data: "_http._tcp.%s %d IN SRV 0 100 80 %s"\n'
                 % (name, TTL, name))
        fu.write('\tlocal-data: "%d.%d.%d.10.in-addr.arpa. %d IN PTR %s"\n'
                 % (c, b, a, TTL, name))
        fd.write("host-record=%s,10.%d.%d.%d\n" % (name[:-1], a, b, c))
        fd.write("srv-host=_http._tcp.%s,%s,80,0,100\n"
                 % (name[:-1], name[:-1]))
    for f in (fz, fr, fu, fd):
        f.close()
    rnd = random.Random(11)
    with open(os.path.join(outdir, "zone-queries.txt"), "w") as f:
        for q in range(NZONEQ):
            i = rnd.randrange(NSVC)
            kind = q % 4
            if kind < 2:
                f.write("%s A\n" % svc_name(i))
            elif kind == 2:
                f.write("_http._tcp.%s SRV\n" % svc_name(i))
            else:
                a, b, c = svc_addr(i)
                f.write("%d.%d.%d.10.in-addr.arpa. PTR\n" % (c, b, a))


def cold(path, tag, n):
    with open(path, "w") as f:
        for i in range(int(n)):
            f.write("%s-%d.cold.bench.internal. A\n" % (tag, i))


# ---- the report -----------------------------------------------------------

WORKLOADS = [
    ("hits", "1. cache hits"),
    ("zone", "2. local zone"),
    ("cold", "3. cold misses"),
    ("threads", "5. cache hits, 2 worker threads"),
    ("tcp", "6. cache hits over TCP"),
    ("dot", "7. cache hits over DoT"),
    ("scale", "8. cache hits at scale"),
    ("evict", "9. eviction pressure"),
]
# CPU per query targets (minidnsd / Unbound), by workload, and stretch
CPU_TARGET = {"hits": 0.6, "zone": 0.6, "cold": 1.0, "tcp": 1.0, "dot": 1.0}
CPU_STRETCH = {"hits": 0.5, "zone": 0.5}
LABEL = {"minidnsd": "minidnsd", "unbound": "Unbound", "kresd": "kresd",
         "pdns": "PowerDNS Recursor", "dnsmasq": "dnsmasq", "nsd": "NSD"}


def load(path):
    data = {}
    for line in open(path):
        f = line.split()
        if len(f) != 5:
            continue
        srv, wl, rep, key, val = f
        try:
            v = float(val)
        except ValueError:
            continue
        data.setdefault((srv, wl, key), []).append(v)
    return data


def fmt(v, digits):
    if digits == 0:
        return "{:,.0f}".format(v)
    return "%.*f" % (digits, v)


def cell(vals, digits):
    """median (min-max) of the repetitions, '-' when not measured."""
    if not vals:
        return "-"
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt(m, digits)
    return "%s (%s-%s)" % (fmt(m, digits), fmt(min(vals), digits),
                           fmt(max(vals), digits))


def med(vals):
    return statistics.median(vals) if vals else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def rcell(r):
    return "-" if r is None else "%.2f" % r


def met(r, limit):
    if r is None:
        return "-"
    return "met" if r <= limit else "missed"


def report(results, metapath, out):
    data = load(results)
    meta = {}
    for line in open(metapath):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v
    servers = meta["servers"].split()
    others = [s for s in servers if s != "unbound"]
    chosen = meta["workloads"].split()
    if "coldmax" in chosen:
        chosen.append("cold")
    wls = [w for w in WORKLOADS if w[0] in chosen]
    rates = {w: meta.get("rate_" + w, "") for w, _ in WORKLOADS}
    o = []

    def get(s, w, k):
        return data.get((s, w, k), [])

    def rel(s, w, k):
        """median of s over Unbound's, as a cell ("1.00" for Unbound)."""
        if s == "unbound":
            return "1.00" if get(s, w, k) else "-"
        return rcell(ratio(med(get(s, w, k)), med(get("unbound", w, k))))

    def table(hdr, rows):
        o.append("| " + " | ".join(hdr) + " |")
        o.append("|" + "---|" * len(hdr))
        for row in rows:
            o.append("| " + " | ".join(row) + " |")
        o.append("")

    def rate(w):
        return "{:,}/s".format(int(rates[w])) if rates[w] else "-"

    # headline: CPU per query, with targets
    cw = [(w, t) for w, t in wls if any(get(s, w, "cpu") for s in servers)]
    if cw:
        o.append("Server CPU time per answered query at a fixed offered "
                 "load (microseconds, utime+stime of all its threads; "
                 "median (min-max) of %s):" % meta["reps_text"])
        o.append("")
        hdr = ["Workload", "Offered load"] + \
            [LABEL.get(s, s) for s in servers]
        hdr += ["%s / Unbound" % LABEL.get(s, s) for s in others]
        hdr += ["Target (minidnsd / Unbound)", "Met"]
        rows = []
        for w, title in cw:
            row = [title, rate(w)]
            row += [cell(get(s, w, "cpu"), 2) for s in servers]
            row += [rel(s, w, "cpu") for s in others]
            r = ratio(med(get("minidnsd", w, "cpu")),
                      med(get("unbound", w, "cpu")))
            if w in CPU_TARGET:
                t = "at most %.1f" % CPU_TARGET[w]
                m = met(r, CPU_TARGET[w])
                if w in CPU_STRETCH:
                    t += " (stretch %.1f)" % CPU_STRETCH[w]
                    if r is not None and r <= CPU_STRETCH[w]:
                        m = "met, stretch too"
                row += [t, m]
            else:
                row += ["(none)", "-"]
            rows.append(row)
        table(hdr, rows)

    # the kernel's share: what is left for the server's own code
    uw = [(w, t) for w, t in cw if get("minidnsd", w, "ucpu")]
    if uw:
        o.append("Where that CPU goes: user space (the server's own code, "
                 "libc, libevent) and the kernel (system calls, the "
                 "network path, sleeping and waking), from utime and "
                 "stime; medians, microseconds per query.  'Kernel floor' "
                 "is the server's kernel time over Unbound's total: the "
                 "ratio the server would reach with no user-space cost "
                 "at all:")
        o.append("")
        hdr = ["Workload", "Server", "Total", "User", "Kernel",
               "Kernel share", "Kernel floor (x Unbound)"]
        rows = []
        for w, title in uw:
            ub = med(get("unbound", w, "cpu"))
            for s in servers:
                tot, usr = med(get(s, w, "cpu")), med(get(s, w, "ucpu"))
                if tot is None or usr is None:
                    continue
                k = tot - usr
                rows.append([title, LABEL.get(s, s), fmt(tot, 2),
                             fmt(usr, 2), fmt(k, 2),
                             "%.0f%%" % (100 * k / tot) if tot else "-",
                             "%.2f" % (k / ub) if ub else "-"])
        table(hdr, rows)

    # server and client together: the kernel may do a server's work in
    # the client's time (a TCP segment held back for the client's ACK
    # leaves in the ACK's processing, on the client's CPU)
    pw = [(w, t) for w, t in cw if get("minidnsd", w, "pcpu")]
    if pw:
        o.append("Server and client together: the server's CPU time and "
                 "dnsperf's (its process times, every thread) per "
                 "answered query at the same load; medians, microseconds. "
                 "dnsperf does the same work for every server, except "
                 "what the kernel does for a server in dnsperf's time:")
        o.append("")
        hdr = ["Workload", "Server", "Server CPU", "dnsperf CPU",
               "Both", "Both x Unbound's"]
        rows = []
        for w, title in pw:
            for s_ in servers:
                if not get(s_, w, "pcpu"):
                    continue
                rows.append([title, LABEL.get(s_, s_),
                             cell(get(s_, w, "cpu"), 2),
                             cell(get(s_, w, "ccpu"), 2),
                             cell(get(s_, w, "pcpu"), 2),
                             rel(s_, w, "pcpu")])
        table(hdr, rows)

    # latency at the fixed load
    lw = [(w, t) for w, t in wls if any(get(s, w, "p99") for s in servers)]
    if lw:
        o.append("Latency at the fixed load, milliseconds: dnsperf's "
                 "average, and percentiles over every query sent from "
                 "dnsperf -v's line per answer (a lost query counts as "
                 "slowest: \"inf\" when the lost share reaches the "
                 "percentile); median (min-max) of the runs:")
        o.append("")
        hdr = ["Workload", "Offered load", "Server", "Answers/s",
               "Average", "x Unbound", "p50", "p99", "x Unbound",
               "p99.9", "Max"]
        rows = []
        for w, title in lw:
            for s in servers:
                if not get(s, w, "p99"):
                    continue
                rows.append([title, rate(w), LABEL.get(s, s),
                             cell(get(s, w, "qps_fixed"), 0),
                             cell(get(s, w, "lat"), 3), rel(s, w, "lat"),
                             cell(get(s, w, "p50"), 3),
                             cell(get(s, w, "p99"), 3), rel(s, w, "p99"),
                             cell(get(s, w, "p999"), 3),
                             cell(get(s, w, "max"), 1)])
        table(hdr, rows)
        short = []
        for w, title in lw:
            for s in servers:
                lo = [v for v in get(s, w, "qps_fixed")
                      if rates[w] and v < 0.97 * float(rates[w])]
                if lo:
                    short.append("%s, %s: %s" % (
                        title, LABEL.get(s, s),
                        ", ".join(fmt(v, 0) for v in lo)))
        if short:
            o.append("Runs whose answers per second fell more than 3%% "
                     "short of the offered load (dnsperf could not keep "
                     "the rate, or the server fell behind; their CPU and "
                     "latency are not at the stated load): %s."
                     % "; ".join(short))
            o.append("")

    # details per workload
    dw = [(w, t) for w, t in wls if w != "evict"]
    if dw:
        o.append("Per workload: CPU per query and lost queries at the "
                 "fixed load, its average latency, and the most answers "
                 "per second without a rate limit (a separate run):")
        o.append("")
        hdr = ["Workload", "Server", "CPU us/query", "x Unbound",
               "Avg latency ms", "Lost at fixed load (of sent, all runs)",
               "Of them dropped at the server's socket",
               "Max QPS", "x Unbound", "Lost in max-QPS runs"]
        rows = []
        for w, title in dw:
            for s in servers:
                if not get(s, w, "cpu") and not get(s, w, "maxqps"):
                    continue
                msent = get(s, w, "maxsent")
                sent = get(s, w, "sent")
                rows.append([
                    title, LABEL.get(s, s), cell(get(s, w, "cpu"), 2),
                    rel(s, w, "cpu"), cell(get(s, w, "lat"), 3),
                    ("%d of %d" % (sum(get(s, w, "lost")), sum(sent)))
                    if sent else "-",
                    ("%d" % sum(get(s, w, "drops"))) if sent else "-",
                    cell(get(s, w, "maxqps"), 0), rel(s, w, "maxqps"),
                    ("%d of %d" % (sum(get(s, w, "maxlost")), sum(msent)))
                    if msent else "-",
                ])
        table(hdr, rows)

    # cold misses: NSD's own ceiling
    nsd = med(get("nsd", "cold", "maxqps"))
    if nsd:
        parts = []
        for s in servers:
            m = med(get(s, "cold", "maxqps"))
            if m:
                parts.append("%s %s (%.2f of it)"
                             % (LABEL.get(s, s), fmt(m, 0), m / nsd))
        o.append("3. Cold misses at the highest rate NSD allows: NSD "
                 "itself answers %s fresh cold names a second (dnsperf "
                 "straight to it, %s, on CPU 1 beside dnsperf as in every "
                 "run); the resolvers' cold-miss max-QPS runs: %s."
                 % (cell(get("nsd", "cold", "maxqps"), 0),
                    "`dnsperf -c 8 -q 500`", "; ".join(parts) or "-"))
        o.append("")

    # TCP and DoT connections
    tw = [(w, t) for w, t in wls if w in ("tcp", "dot")]
    if tw:
        o.append("TCP and DoT connections (dnsperf's 8, kept open, "
                 "queries pipelined on each): its average time to "
                 "connect in the fixed-load run (for DoT the TLS "
                 "handshake too, while the first queries wait) and the "
                 "connections it had to open again:")
        o.append("")
        rows = []
        for w, title in tw:
            for s in servers:
                if not get(s, w, "clat"):
                    continue
                rows.append([title, LABEL.get(s, s),
                             cell(get(s, w, "clat"), 2),
                             "%d" % sum(get(s, w, "reconn") +
                                        get(s, w, "maxreconn"))])
        table(["Workload", "Server", "Connect ms", "Reconnections, all runs"],
              rows)

    # memory
    if "memory" in chosen:
        o.append("4. Memory after caching the names of workload 1 (VmHWM "
                 "from /proc/PID/status once every name was asked once; "
                 "bytes per name = VmHWM / names answered, and "
                 "(VmHWM - VmRSS before the first query) / names):")
        o.append("")
        hdr = ["Server", "Names cached", "RSS before, MiB", "VmHWM, MiB",
               "Bytes per name", "Bytes per name above start",
               "x Unbound (above start)", "Target", "Met"]
        rows = []
        for s in servers:
            if not get(s, "memory", "bpn"):
                continue
            row = [LABEL.get(s, s), cell(get(s, "memory", "names"), 0),
                   cell([v / 1024 for v in get(s, "memory", "rss0_kb")], 1),
                   cell([v / 1024 for v in get(s, "memory", "hwm_kb")], 1),
                   cell(get(s, "memory", "bpn"), 0),
                   cell(get(s, "memory", "bpn_net"), 0),
                   rel(s, "memory", "bpn_net")]
            if s == "minidnsd":
                r = ratio(med(get(s, "memory", "bpn_net")),
                          med(get("unbound", "memory", "bpn_net")))
                row += ["at most 1.0", met(r, 1.0)]
            else:
                row += ["", ""]
            rows.append(row)
        table(hdr, rows)

    # at scale, against workload 1
    if "scale" in chosen:
        o.append("8. At scale: %s names cached, against workload 1's %s "
                 "(memory: workload 4; hits at %s: workload 1, \"-\" "
                 "when not run); a ratio near 1 is flat:"
                 % (fmt(float(meta.get("scale_names", 0)), 0),
                    fmt(float(meta.get("hit_names", 0)), 0),
                    rate("scale")))
        o.append("")
        hdr = ["Server", "Names cached", "Warm-up s", "VmHWM, MiB",
               "Bytes per name above start", "At workload 1's size",
               "Ratio", "CPU us/query", "At workload 1's size", "Ratio",
               "p99 ms", "At workload 1's size", "Ratio"]
        rows = []
        for s in servers:
            if not get(s, "scale", "names"):
                continue
            row = [LABEL.get(s, s), cell(get(s, "scale", "names"), 0),
                   cell(get(s, "scale", "warm_s"), 0),
                   cell([v / 1024 for v in get(s, "scale", "hwm_kb")], 0)]
            for k, ok, wl, d in (("bpn_net", "bpn_net", "memory", 0),
                                 ("cpu", "cpu", "hits", 2),
                                 ("p99", "p99", "hits", 3)):
                row += [cell(get(s, "scale", k), d),
                        cell(get(s, wl, ok), d),
                        rcell(ratio(med(get(s, "scale", k)),
                                    med(get(s, wl, ok))))]
            rows.append(row)
        table(hdr, rows)

    # eviction
    if "evict" in chosen and any(get(s, "evict", "sent") for s in servers):
        o.append("9. Eviction: a cache budget of %s MiB each; a working "
                 "set of twice the names the server holds in it (measured "
                 "first: every name of a probe once, then the same newest "
                 "first, counting the misses); each name of the set asked "
                 "once (shuffled) to fill the cache, then names drawn at "
                 "random from the set at %s (the misses counted from the "
                 "UDP datagrams NSD adds). \"Lowest 1-s\" is the fewest "
                 "answers in one second (the answer lines dnsperf -v "
                 "printed between two of its -S 1 lines): a stall shows "
                 "there and in the slowest answer:"
                 % (meta.get("evict_mib", "?"), rate("evict")))
        o.append("")
        hdr = ["Server", "Names the budget holds", "Working set",
               "Misses %",
               "Lost (of sent, all runs)", "CPU us/query", "Avg ms",
               "p99 ms", "Max ms", "Lowest 1-s answers"]
        rows = []
        for s in servers:
            if not get(s, "evict", "sent"):
                continue
            rows.append([LABEL.get(s, s), cell(get(s, "evict", "fit"), 0),
                         cell(get(s, "evict", "set"), 0),
                         cell(get(s, "evict", "miss_pct"), 0),
                         "%d of %d" % (sum(get(s, "evict", "lost")),
                                       sum(get(s, "evict", "sent"))),
                         cell(get(s, "evict", "cpu"), 2),
                         cell(get(s, "evict", "lat"), 3),
                         cell(get(s, "evict", "p99"), 3),
                         cell(get(s, "evict", "max"), 1),
                         cell(get(s, "evict", "minrate"), 0)])
        table(hdr, rows)

    # the targets in words
    rows = []

    def r_of(w, k):
        return ratio(med(get("minidnsd", w, k)), med(get("unbound", w, k)))
    for w, title in wls:
        if w not in ("hits", "zone"):
            continue
        for k, what in (("lat", "Average latency"), ("p99", "p99 latency")):
            r = r_of(w, k)
            if r is not None:
                rows.append(["%s at %s at most Unbound's (%s)"
                             % (what, rate(w), title),
                             "%.2f x Unbound" % r, met(r, 1.0)])
        r = r_of(w, "cpu")
        if r is not None:
            rows.append(["CPU per query at most 0.6 x Unbound's, stretch "
                         "0.5 (%s)" % title, "%.2f x Unbound" % r,
                         "met, stretch too" if r <= 0.5 else met(r, 0.6)])
    r = ratio(med(get("minidnsd", "threads", "cpu")),
              med(get("minidnsd", "hits", "cpu")))
    if r is not None:
        rows.append(["Two worker threads: no more CPU per query than one "
                     "(minidnsd, workload 5 / workload 1)",
                     "%.2f x one thread" % r, met(r, 1.0)])
    for w, title in wls:
        if w in ("tcp", "dot"):
            r = r_of(w, "cpu")
            if r is not None:
                rows.append(["CPU per query at most Unbound's (%s)" % title,
                             "%.2f x Unbound" % r, met(r, 1.0)])
            r = r_of(w, "pcpu")
            if r is not None:
                rows.append(["The same, counting dnsperf's CPU too (%s)"
                             % title, "%.2f x Unbound" % r, met(r, 1.0)])
    lost = sent = 0
    where = []
    for w, title in wls:
        lw_, sw = sum(get("minidnsd", w, "lost")), \
            sum(get("minidnsd", w, "sent"))
        lost, sent = lost + lw_, sent + sw
        if lw_:
            where.append("%s: %d" % (title, lw_))
    if sent:
        rows.append(["No query lost at the fixed load (minidnsd, every "
                     "workload above)",
                     "%d of %d lost%s" % (lost, sent,
                                          " (%s)" % ", ".join(where)
                                          if where else ""),
                     "met" if lost == 0 else "missed"])
    if rows:
        o.append("The targets (minidnsd against Unbound, medians):")
        o.append("")
        table(["Target", "Measured", "Met"], rows)
    with open(out, "w") as f:
        f.write("\n".join(o))


def annotate(path, inclusive):
    """{function: [Ir, source file of its largest part, its Ir]}, total
    Ir."""
    import re
    import subprocess
    args = ["callgrind_annotate", "--threshold=100", "--auto=no",
            "--inclusive=" + ("yes" if inclusive else "no"), path]
    text = subprocess.run(args, check=True, capture_output=True,
                          text=True).stdout
    line_re = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*?)"
                         r"(?: \[([^\]]*)\])?$")
    total, funcs, listing = 0, {}, False
    for line in text.split("\n"):
        if line.strip().endswith("file:function"):
            listing = True     # the function list follows this header
            continue
        m = line_re.match(line)
        if not m or (not listing and "PROGRAM TOTALS" not in line):
            continue
        ir = int(m.group(1).replace(",", ""))
        where = m.group(2)
        if where == "PROGRAM TOTALS":
            total = ir
            continue
        src, _, fn = where.rpartition(":")
        src = os.path.basename(src) or "?"
        if m.group(3):
            src = "%s, %s" % (src, os.path.basename(m.group(3)))
        e = funcs.setdefault(fn, [0, src, 0])
        # self: the parts add up; inclusive: they overlap (the calls
        # of inlined lines), so the largest part stands for the function
        e[0] = max(e[0], ir) if inclusive else e[0] + ir
        if ir > e[2]:
            e[1], e[2] = src, ir
    return funcs, total


def callgrind(groups):
    o = ["| Workload | Queries answered | Instructions (Ir) | Ir per query |",
         "|---|---|---|---|"]
    parts = []
    for path, answered, rcodes, top, title in groups:
        answered, top = int(answered), int(top)
        selfs, total = annotate(path, False)
        incl, _ = annotate(path, True)
        q = max(answered, 1)
        o.append("| {} | {:,} ({}) | {:,} | {:,.0f} |".format(
            title, answered, rcodes, total, total / q))
        p = ["", "%s:" % title, "",
             "| Rank | Function (self) | Self Ir per query | Self % "
             "| Function (inclusive) | Incl. Ir per query | Incl. % |",
             "|---|---|---|---|---|---|---|"]
        # the functions on the stack when the counters were zeroed (main,
        # the event loop) show the whole total as self cost: leave them out
        bs = sorted(((f, e) for f, e in selfs.items()
                     if e[0] < 0.95 * total),
                    key=lambda kv: -kv[1][0])[:top]
        # inclusive: the same frames (and libevent's) hold the whole total
        bi = sorted(((f, e) for f, e in incl.items()
                     if e[0] < 0.95 * total),
                    key=lambda kv: -kv[1][0])[:top]
        for i in range(max(len(bs), len(bi))):
            row = ["%d" % (i + 1)]
            for lst in (bs, bi):
                if i < len(lst):
                    fn, (ir, src, _) = lst[i]
                    row += ["`%s` (%s)" % (fn, src),
                            "{:,.0f}".format(ir / q),
                            "%.1f" % min(100.0, 100.0 * ir / max(total, 1))]
                else:
                    row += ["", "", ""]
            p.append("| " + " | ".join(row) + " |")
        parts += p
    print("\n".join(o + parts))


def doc(path, body, label="latest"):
    """Replace the block of LABEL in the section, or add it at the
    section's end (the section at the end of the file)."""
    key = "".join(c if c.isalnum() else "-" for c in label.lower())
    begin, end = BEGIN % key, END % key
    with open(body) as f:
        text = f.read().rstrip("\n")
    block = begin + "\n\n### " + label + "\n\n" + text + "\n\n" + end
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmarks\n\nNumbers measured on one machine; the " \
              "scripts that produce them are named in each section.\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + block + rest.split(end, 1)[1]
    elif "\n" + HEADING + "\n" in old:
        head, rest = old.split("\n" + HEADING + "\n", 1)
        i = rest.find("\n## ")
        sect, tail = (rest, "") if i < 0 else (rest[:i + 1], rest[i + 1:])
        new = head + "\n" + HEADING + "\n" + sect.rstrip("\n") + \
            "\n\n" + block + "\n" + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + HEADING + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(new)


def main():
    a = sys.argv[1:]
    if len(a) in (3, 4) and a[0] == "auth":
        auth(*a[1:])
    elif len(a) in (4, 5) and a[0] == "names":
        names(*a[1:])
    elif len(a) == 2 and a[0] == "lat":
        lat(a[1])
    elif len(a) == 2 and a[0] == "cluster":
        cluster(a[1])
    elif len(a) == 4 and a[0] == "cold":
        cold(a[1], a[2], a[3])
    elif len(a) == 4 and a[0] == "report":
        report(a[1], a[2], a[3])
    elif len(a) >= 6 and a[0] == "callgrind" and (len(a) - 1) % 5 == 0:
        callgrind([a[i:i + 5] for i in range(1, len(a), 5)])
    elif len(a) in (3, 4) and a[0] == "doc":
        doc(*a[1:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
