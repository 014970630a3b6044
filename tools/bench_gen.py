#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of tools/bench.sh (the resolver comparison).

  bench_gen.py auth OUTDIR NAMES
      Write, deterministically (fixed seed):
        bench.internal.zone  the authoritative zone NSD serves: NAMES names
                         h<N>.bench.internal. A (TTL 86400) and a wildcard
                         *.cold.bench.internal. A for the cold misses
        warm.txt         dnsperf input: every h<N> name once, in order
        hits.txt         dnsperf input: the same names, shuffled

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


def auth(outdir, n):
    n = int(n)
    with open(os.path.join(outdir, "bench.internal.zone"), "w") as f:
        f.write("$ORIGIN bench.internal.\n$TTL %d\n" % TTL)
        f.write("@ IN SOA ns.bench.internal. hostmaster.bench.internal. "
                "1 7200 1800 86400 3600\n")
        f.write("@ IN NS ns.bench.internal.\nns IN A 192.0.2.53\n")
        f.write("*.cold IN A 192.0.2.99\n")
        for i in range(n):
            f.write("h%d IN A 10.%d.%d.%d\n"
                    % (i, 1 + (i >> 16), (i >> 8) & 255, i & 255))
    names = ["h%d.bench.internal. A\n" % i for i in range(n)]
    with open(os.path.join(outdir, "warm.txt"), "w") as f:
        f.writelines(names)
    random.Random(7).shuffle(names)
    with open(os.path.join(outdir, "hits.txt"), "w") as f:
        f.writelines(names)


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
]
# CPU per query targets (minidnsd / Unbound), by workload
CPU_TARGET = {"hits": 0.6, "zone": 0.6, "cold": 1.0}
LABEL = {"minidnsd": "minidnsd", "unbound": "Unbound", "kresd": "kresd",
         "pdns": "PowerDNS Recursor", "dnsmasq": "dnsmasq"}


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


def report(results, metapath, out):
    data = load(results)
    meta = {}
    for line in open(metapath):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v
    servers = meta["servers"].split()
    others = [s for s in servers if s != "unbound"]
    wls = [w for w in WORKLOADS if w[0] in meta["workloads"].split()]
    rates = {w: meta.get("rate_" + w, "") for w, _ in WORKLOADS}
    o = []

    def get(s, w, k):
        return data.get((s, w, k), [])

    # headline: CPU per query, with targets
    o.append("Server CPU time per answered query at a fixed offered load "
             "(microseconds, utime+stime of all its threads; median "
             "(min-max) of %s):" % meta["reps_text"])
    o.append("")
    hdr = ["Workload", "Offered load"] + [LABEL.get(s, s) for s in servers]
    hdr += ["%s / Unbound" % LABEL.get(s, s) for s in others]
    hdr += ["Target (minidnsd / Unbound)", "Met"]
    o.append("| " + " | ".join(hdr) + " |")
    o.append("|" + "---|" * len(hdr))
    for w, title in wls:
        row = [title, "%s/s" % rates[w]]
        row += [cell(get(s, w, "cpu"), 2) for s in servers]
        u = med(get("unbound", w, "cpu"))
        for s in others:
            row.append(rcell(ratio(med(get(s, w, "cpu")), u)))
        r = ratio(med(get("minidnsd", w, "cpu")), u)
        if w in CPU_TARGET:
            row.append("at most %.1f" % CPU_TARGET[w])
            row.append("-" if r is None else
                       ("met" if r <= CPU_TARGET[w] else "missed"))
        else:
            row += ["(none)", "-"]
        o.append("| " + " | ".join(row) + " |")
    o.append("")

    # details per workload
    o.append("Per workload: CPU per query and lost queries at the fixed "
             "load, its average latency, and the most answers per second "
             "without a rate limit (a separate run):")
    o.append("")
    hdr = ["Workload", "Server", "CPU us/query", "x Unbound",
           "Avg latency ms", "Lost at fixed load (of sent, all runs)",
           "Of them dropped at the server's socket",
           "Max QPS", "x Unbound", "Lost in max-QPS runs"]
    o.append("| " + " | ".join(hdr) + " |")
    o.append("|" + "---|" * len(hdr))
    for w, title in wls:
        for s in servers:
            if not get(s, w, "cpu"):
                continue
            rc = ratio(med(get(s, w, "cpu")), med(get("unbound", w, "cpu")))
            rq = ratio(med(get(s, w, "maxqps")),
                       med(get("unbound", w, "maxqps")))
            lost = sum(get(s, w, "lost"))
            sent = sum(get(s, w, "sent"))
            mlost = get(s, w, "maxlost")
            msent = get(s, w, "maxsent")
            o.append("| " + " | ".join([
                title, LABEL.get(s, s), cell(get(s, w, "cpu"), 2),
                "1.00" if s == "unbound" else rcell(rc),
                cell(get(s, w, "lat"), 3),
                "%d of %d" % (lost, sent),
                "%d" % sum(get(s, w, "drops")),
                cell(get(s, w, "maxqps"), 0),
                "1.00" if s == "unbound" else rcell(rq),
                ("%d of %d" % (sum(mlost), sum(msent))) if msent else "-",
            ]) + " |")
    o.append("")

    # memory
    if "memory" in meta["workloads"].split():
        o.append("4. Memory after caching the names of workload 1 (VmHWM "
                 "from /proc/PID/status once every name was asked once; "
                 "bytes per name = VmHWM / names answered, and "
                 "(VmHWM - VmRSS before the first query) / names):")
        o.append("")
        hdr = ["Server", "Names cached", "RSS before, MiB", "VmHWM, MiB",
               "Bytes per name", "Bytes per name above start",
               "x Unbound (above start)", "Target", "Met"]
        o.append("| " + " | ".join(hdr) + " |")
        o.append("|" + "---|" * len(hdr))
        ub = med(get("unbound", "memory", "bpn_net"))
        for s in servers:
            if not get(s, "memory", "bpn"):
                continue
            r = ratio(med(get(s, "memory", "bpn_net")), ub)
            row = [LABEL.get(s, s), cell(get(s, "memory", "names"), 0),
                   cell([v / 1024 for v in get(s, "memory", "rss0_kb")], 1),
                   cell([v / 1024 for v in get(s, "memory", "hwm_kb")], 1),
                   cell(get(s, "memory", "bpn"), 0),
                   cell(get(s, "memory", "bpn_net"), 0),
                   "1.00" if s == "unbound" else rcell(r)]
            if s == "minidnsd":
                row += ["at most 1.0", "-" if r is None else
                        ("met" if r <= 1.0 else "missed")]
            else:
                row += ["", ""]
            o.append("| " + " | ".join(row) + " |")
        o.append("")

    # lost queries target
    fixed = [w for w, _ in wls]
    lost = sum(sum(get("minidnsd", w, "lost")) for w in fixed)
    sent = sum(sum(get("minidnsd", w, "sent")) for w in fixed)
    if sent:
        o.append("Target: no query lost at the fixed load: minidnsd lost "
                 "%d of %d (%s)." % (lost, sent,
                                     "met" if lost == 0 else "missed"))
        o.append("")
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
    if len(a) == 3 and a[0] == "auth":
        auth(a[1], a[2])
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
