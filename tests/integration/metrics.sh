#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidnsd's HTTP endpoints: /metrics (Prometheus text format 0.0.4),
# /health and /ready.
#
#  1. every line of /metrics parses (HELP, TYPE or NAME{labels} VALUE),
#     histograms are cumulative and end at +Inf = _count
#  2. queries move the counters by what was sent: requests by transport
#     and type, responses by rcode and source, durations, TCP connections
#  3. /health 200, /ready 200, an unknown path 404, POST refused
#  4. Kubernetes readiness: /ready is 503 while the API server is not up,
#     200 once the first sync is done (minidns_kubernetes_synced 1)
#  5. rate-limit: a UDP burst from one address is cut to the rate (the
#     dropped ones counted in minidns_rate_limited_total), while another
#     address and TCP from the same address are still answered
#  6. sizes: the request and response size histograms count the queries
#     of 2. by transport
#  7. forwarding to Unbound: the `to` series of the configured forwarder
#     move (requests, replies by rcode NOERROR and NXDOMAIN, durations),
#     no other `to`; the cache holds a success and a denial entry; a
#     cached answer sends nothing
#  8. Kubernetes: an EndpointSlice created with kubectl (the test API
#     server stamps the controller's last-change-trigger-time) gives the
#     DNS programming latency histogram a sample, by its Service's kind
#  9. `promtool check metrics` (Debian's prometheus package) on scrapes
#     of the forwarding and the Kubernetes instances; the CoreDNS
#     relabelling example (doc/deploy/prometheus-coredns.yml) passes
#     `promtool check config`, and a real Prometheus scraping the
#     forwarding instance under it serves coredns_* series
#
# Ground rules as in run.sh, the harness of lib.sh: re-executes itself
# inside 'unshare -n', only 127.x addresses, every process stopped by saved
# PID, every wait bounded (polls, no timing asserts), temporary files in one
# mktemp -d directory removed at exit.  Exit 77 (skip) when not root or when
# python3 or dig is missing.  MINIDNSD from the environment, else
# ./minidnsd (build directory = cwd).  Scrapes use python3's urllib (no
# curl needed).
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start metrics "$@"

APISERVER=$here/k8s/apiserver.py
CLUSTER=$here/k8s/cluster.json
MINIDNSD=${MINIDNSD:-$(pwd)/minidnsd}
md_it_need python3 dig
md_it_built "$MINIDNSD"

DNS=127.58.0.1		# minidnsd with the zone file
KDNS=127.58.0.2		# minidnsd with Kubernetes
RDNS=127.58.0.3		# minidnsd with rate-limit: 5
API_IP=127.58.0.9	# the test API server, plain HTTP
FDNS=127.58.0.4		# minidnsd forwarding fwd.test to Unbound
UB=127.58.0.20		# Unbound, the forwarder
PROM=127.58.0.30	# Prometheus
API_PORT=6080
CL=cluster.local
DOCDIR=$srcdir/doc/deploy

# ---- the scraper: python3 urllib, no proxy, 5 s timeout -------------------

cat >"$T/mx.py" <<'EOF'
import json, math, re, sys, urllib.error, urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def fetch(url, method="GET"):
    req = urllib.request.Request(url, method=method,
                                 data=b"x" if method == "POST" else None)
    try:
        with opener.open(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()

NAME = re.compile(r"^(minidns_[a-z_]+|process_[a-z_]+)$")
SAMPLE = re.compile(r'^([a-z_]+)(?:\{((?:[a-z_]+="[^"]*")'
                    r'(?:,[a-z_]+="[^"]*")*)\})? (\S+)$')

def parse(text):
    """{'name{labels}': value}; raises ValueError on a malformed page."""
    out, types, family = {}, {}, None
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help = line[7:].partition(" ")
            if not NAME.match(name) or not help:
                raise ValueError("bad HELP: " + line)
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            if not NAME.match(name) or typ not in ("counter", "gauge",
                                                   "histogram"):
                raise ValueError("bad TYPE: " + line)
            if typ == "counter" and not name.endswith("_total"):
                raise ValueError("counter not _total: " + name)
            if name in types:
                raise ValueError("family twice: " + name)
            types[name] = typ
            family = name
            continue
        m = SAMPLE.match(line)
        if not m or not NAME.match(m.group(1)):
            raise ValueError("bad line: " + line)
        if family is None or not m.group(1).startswith(family):
            raise ValueError("sample outside its family: " + line)
        value = float(m.group(3))
        key = m.group(1) + "{" + (m.group(2) or "") + "}"
        if key in out:
            raise ValueError("sample twice: " + key)
        out[key] = value
    # histograms: cumulative, ascending le, +Inf last and equal to _count
    for name, typ in types.items():
        if typ != "histogram":
            continue
        series = {}
        for key, v in out.items():
            if not key.startswith(name + "_bucket{"):
                continue
            labels = key[len(name) + 8:-1].split(",")
            le = labels.pop()
            if not le.startswith('le="'):
                raise ValueError("le not last: " + key)
            series.setdefault(",".join(labels), []).append(
                (float(le[4:-1]), v))
        if not series:
            raise ValueError("histogram without buckets: " + name)
        for labels, buckets in series.items():
            buckets.sort()
            if not math.isinf(buckets[-1][0]):
                raise ValueError("no +Inf bucket: " + name)
            for a, b in zip(buckets, buckets[1:]):
                if b[1] < a[1]:
                    raise ValueError("not cumulative: %s{%s}" % (name,
                                                                 labels))
            if out.get(name + "_count{" + labels + "}") != buckets[-1][1]:
                raise ValueError("+Inf != _count: %s{%s}" % (name, labels))
            if name + "_sum{" + labels + "}" not in out:
                raise ValueError("no _sum: %s{%s}" % (name, labels))
    return out

cmd = sys.argv[1]
if cmd == "status":		# status URL [METHOD]: the HTTP status code
    try:
        code, _, _ = fetch(sys.argv[2], *sys.argv[3:])
    except OSError:
        code = 0
    print(code)
elif cmd == "body":		# body URL: the body
    sys.stdout.write(fetch(sys.argv[2])[2].decode())
elif cmd == "scrape":		# scrape URL FILE: parsed samples as JSON
    code, ctype, body = fetch(sys.argv[2])
    if code != 200:
        sys.exit("status %d" % code)
    if not ctype.startswith("text/plain; version=0.0.4"):
        sys.exit("Content-Type: " + ctype)
    try:
        samples = parse(body.decode())
    except ValueError as e:
        sys.exit(str(e))
    json.dump(samples, open(sys.argv[3], "w"))
    print(len(samples))
elif cmd == "value":		# value FILE KEY: one sample (or "none")
    v = json.load(open(sys.argv[2])).get(sys.argv[3])
    print("none" if v is None else "%g" % v)
elif cmd == "delta":		# delta A B KEY: B - A (missing = 0)
    a = json.load(open(sys.argv[2])).get(sys.argv[4], 0)
    b = json.load(open(sys.argv[3])).get(sys.argv[4], 0)
    print("%g" % (b - a))
elif cmd == "delta_sum":	# delta_sum A B PREFIX: over every key
    a = json.load(open(sys.argv[2]))
    b = json.load(open(sys.argv[3]))
    p = sys.argv[4]
    print("%g" % (sum(v for k, v in b.items() if k.startswith(p)) -
                  sum(v for k, v in a.items() if k.startswith(p))))
EOF
MX="python3 $T/mx.py"

status() { $MX status "$@"; }
is_status() { [ "$(status "$2")" = "$1" ]; }

# expect_delta A B KEY WANT
expect_delta() {
	local got
	got=$($MX delta "$1" "$2" "$3")
	if [ "$got" = "$4" ]; then
		pass "$3 moved by $4"
	else
		fail "$3 moved by $got, want $4"
	fi
}

# ---- minidnsd with a zone file ---------------------------------------------

"$MINIDNSD" -f --no-recursion --listen $DNS --metrics $DNS:9153 \
    --health $DNS:8080 --ready $DNS:8181 \
    --zone "$srcdir/zones/cluster.local.zone" >"$T/minidnsd.log" 2>&1 &
DNS_PID=$!
PIDS="$PIDS $DNS_PID"
M=http://$DNS:9153

if ! poll 10 is_status 200 http://$DNS:8181/ready; then
	fail "minidnsd not ready within 10 s (/ready: $(status http://$DNS:8181/ready))"
	sed 's/^/minidnsd: /' "$T/minidnsd.log" | tail -20
	summary
fi
pass "/ready 200 with the zone loaded"
if [ "$(status http://$DNS:8080/health)" = 200 ] &&
    [ "$($MX body http://$DNS:8080/health)" = OK ]; then
	pass "/health 200 OK"
else
	fail "/health: $(status http://$DNS:8080/health)"
fi
got=$(status $M/no-such-path)
[ "$got" = 404 ] && pass "unknown path: 404" || fail "unknown path: $got"
got=$(status $M/metrics POST)
if [ "$got" = 405 ] || [ "$got" = 501 ]; then
	pass "POST /metrics refused ($got)"
else
	fail "POST /metrics: $got"
fi

if n=$($MX scrape $M/metrics "$T/m1.json" 2>"$T/scrape.err"); then
	pass "/metrics parses: $n samples, histograms cumulative"
else
	fail "/metrics does not parse: $(cat "$T/scrape.err")"
fi
if [ "$($MX value "$T/m1.json" 'minidns_build_info{version="'"$($MINIDNSD --version | awk '{print $NF}')"'"}')" = 1 ]; then
	pass "minidns_build_info"
else
	fail "minidns_build_info"
fi

# the queries: 4 local answers and 1 NXDOMAIN over UDP, 1 REFUSED (not
# a local name, no recursion), 2 over TCP
q() { dig @$DNS +time=2 +tries=1 "$@" >/dev/null 2>&1 || true; }
q web.shop.svc.$CL A
q web.shop.svc.$CL A
q web.shop.svc.$CL AAAA
q db.shop.svc.$CL A
q missing.shop.svc.$CL A
q www.example.com A
q +tcp web.shop.svc.$CL A
q +tcp _http._tcp.web.shop.svc.$CL SRV

# the TCP connections are closed once the server has seen them go
tcp_closed() {
	$MX scrape $M/metrics "$T/m2.json" >/dev/null &&
	    [ "$($MX value "$T/m2.json" 'minidns_tcp_connections_open{}')" = 0 ]
}
poll 5 tcp_closed || true
if $MX scrape $M/metrics "$T/m2.json" >/dev/null 2>"$T/scrape.err"; then
	pass "/metrics parses after the queries"
else
	fail "/metrics after the queries: $(cat "$T/scrape.err")"
fi
# expect_delta_sum A B PREFIX WANT: over every series whose key starts so
expect_delta_sum() {
	local got
	got=$($MX delta_sum "$1" "$2" "$3")
	if [ "$got" = "$4" ]; then
		pass "$3... moved by $4"
	else
		fail "$3... moved by $got, want $4"
	fi
}
expect_delta_sum "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_total{proto="udp",' 6
expect_delta_sum "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_total{proto="tcp",' 2
# CoreDNS's labels: the family (1: IPv4) and the query type
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_total{proto="udp",family="1",type="AAAA"}' 1
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_total{proto="tcp",family="1",type="SRV"}' 1
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_by_type_total{type="A"}' 6
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_by_type_total{type="AAAA"}' 1
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_requests_by_type_total{type="SRV"}' 1
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_responses_total{rcode="NOERROR"}' 6
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_responses_total{rcode="NXDOMAIN"}' 1
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_responses_total{rcode="REFUSED"}' 1
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_responses_by_source_total{source="local"}' 7
got=$($MX delta_sum "$T/m1.json" "$T/m2.json" minidns_dns_responses_by_source_total)
[ "$got" = 8 ] && pass "responses by source add up to 8" ||
    fail "responses by source add up to $got, want 8"
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_request_duration_seconds_count{}' 8
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_tcp_connections_total{}' 2
got=$($MX value "$T/m2.json" 'minidns_tcp_connections_open{}')
[ "$got" = 0 ] && pass "no TCP connection left open" ||
    fail "minidns_tcp_connections_open is $got"
# sizes: one request and one response each, all of them small
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_request_size_bytes_count{proto="udp"}' 6
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_request_size_bytes_count{proto="tcp"}' 2
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_request_size_bytes_bucket{proto="udp",le="511"}' 6
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_request_size_bytes_bucket{proto="udp",le="0"}' 0
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_response_size_bytes_count{proto="udp"}' 6
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_response_size_bytes_count{proto="tcp"}' 2
expect_delta "$T/m1.json" "$T/m2.json" 'minidns_dns_response_size_bytes_count{proto="tls"}' 0
got=$($MX delta "$T/m1.json" "$T/m2.json" 'minidns_dns_request_size_bytes_sum{proto="udp"}')
# a query is at least a header and a question: 12 + 2 + 4 bytes each
if [ "${got%.*}" -ge $((6 * 18)) ] && [ "${got%.*}" -le $((6 * 511)) ]; then
	pass "request size sum $got bytes for 6 UDP queries"
else
	fail "request size sum $got bytes for 6 UDP queries"
fi

# promtool_check NAME URL: `promtool check metrics` on a scrape (its
# lint: names, units, HELP and TYPE); skipped without promtool
promtool_check() {
	if ! command -v promtool >/dev/null 2>&1; then
		skip "promtool check metrics ($1): no promtool (Debian: prometheus)"
		return
	fi
	if $MX body "$2" >"$T/$1.prom" 2>"$T/$1.err" &&
	    promtool check metrics <"$T/$1.prom" >"$T/$1.lint" 2>&1; then
		pass "promtool check metrics ($1): $(grep -vc '^#' "$T/$1.prom") samples"
	else
		fail "promtool check metrics ($1)" "$T/$1.lint"
	fi
}
promtool_check zone $M/metrics

# ---- forwarding ----------------------------------------------------------

if command -v unbound >/dev/null 2>&1; then
	md_it_unbound_conf "$T/ub.conf" ub
	cat >>"$T/ub.conf" <<CONF
	interface: $UB
	port: 53
	local-zone: "fwd.test." static
	local-data: "fwd.test. 3600 IN SOA ns.fwd.test. h.fwd.test. 1 3600 600 86400 3600"
	local-data: "a.fwd.test. 300 IN A 192.0.2.1"
remote-control:
	control-enable: no
CONF
	unbound -d -c "$T/ub.conf" >"$T/ub.out" 2>&1 &
	PIDS="$PIDS $!"
	# the root hints point where nothing listens: nothing but fwd.test.
	# could ever leave the namespace
	printf '. 3600 NS r.test.\nr.test. 3600 A 127.58.9.9\n' >"$T/hints"
	cat >"$T/fwd.yaml" <<YAML
root-hints: $T/hints
allow-private-upstreams: yes
zones: []
forward:
  - zone: fwd.test
    servers: [ $UB ]
YAML
	"$MINIDNSD" -f --config "$T/fwd.yaml" --listen $FDNS \
	    --metrics $FDNS:9153 --health off --ready $FDNS:8181 \
	    >"$T/minidnsd-fwd.log" 2>&1 &
	PIDS="$PIDS $!"
	FM=http://$FDNS:9153/metrics
	TO='to="'$UB':53"'
fi
if ! command -v unbound >/dev/null 2>&1; then
	skip "forwarding metrics: no unbound"
elif ! wait_up $UB a.fwd.test. || ! poll 10 is_status 200 http://$FDNS:8181/ready; then
	fail "Unbound or the forwarding minidnsd did not start" "$T/minidnsd-fwd.log"
	cat "$T/ub.out" "$T/ub.log" 2>/dev/null | tail -5
else
	$MX scrape $FM "$T/f1.json" >/dev/null || fail "scrape (forwarding)"
	fq() { dig @$FDNS +time=3 +tries=1 "$@" 2>/dev/null || true; }
	fq a.fwd.test A >"$T/fq1"
	fq nx.fwd.test A >"$T/fq2"
	if grep -q "status: NOERROR" "$T/fq1" && grep -q "192.0.2.1" "$T/fq1" &&
	    grep -q "status: NXDOMAIN" "$T/fq2"; then
		pass "forwarded: a.fwd.test NOERROR, nx.fwd.test NXDOMAIN"
	else
		fail "forwarded answers" "$T/fq1"
	fi
	if $MX scrape $FM "$T/f2.json" >/dev/null 2>"$T/scrape.err"; then
		pass "/metrics parses with forwarding"
	else
		fail "/metrics with forwarding: $(cat "$T/scrape.err")"
	fi
	# A retransmission (a slow machine) may add a request and a late
	# reply: at least one reply of each rcode, and the figures that
	# count the same events agree exactly.
	ok=$($MX delta "$T/f1.json" "$T/f2.json" "minidns_forward_responses_total{$TO,rcode=\"NOERROR\"}")
	nx=$($MX delta "$T/f1.json" "$T/f2.json" "minidns_forward_responses_total{$TO,rcode=\"NXDOMAIN\"}")
	rq=$($MX delta "$T/f1.json" "$T/f2.json" "minidns_forward_requests_total{$TO}")
	up=$($MX delta_sum "$T/f1.json" "$T/f2.json" 'minidns_upstream_queries_total{class="forward"')
	rs=$($MX delta_sum "$T/f1.json" "$T/f2.json" "minidns_forward_responses_total{$TO")
	dc=$($MX delta "$T/f1.json" "$T/f2.json" "minidns_forward_request_duration_seconds_count{$TO}")
	if [ "$ok" -ge 1 ] && [ "$nx" -ge 1 ]; then
		pass "forward replies from $UB:53: NOERROR +$ok, NXDOMAIN +$nx"
	else
		fail "forward replies from $UB:53: NOERROR +$ok, NXDOMAIN +$nx"
	fi
	if [ "$rq" -ge 2 ] && [ "$rq" = "$up" ] && [ "$rs" -le "$rq" ]; then
		pass "forward requests to $UB:53: +$rq (= minidns_upstream_queries_total, >= replies $rs)"
	else
		fail "forward requests to $UB:53: +$rq, upstream queries +$up, replies +$rs"
	fi
	[ "$dc" = "$rs" ] && pass "forward durations: one per reply ($dc)" ||
	    fail "forward durations: $dc samples for $rs replies"
	n=$(grep -o 'minidns_forward_requests_total{[^}]*}' "$T/f2.json" | sort -u | wc -l)
	[ "$n" = 1 ] && pass "one forwarder, one to= series" ||
	    fail "$n to= series for one forwarder"
	got=$($MX value "$T/f2.json" 'minidns_cache_entries{type="success"}')
	nd=$($MX value "$T/f2.json" 'minidns_cache_entries{type="denial"}')
	if [ "$got" != none ] && [ "$got" -ge 1 ] && [ "$nd" != none ] &&
	    [ "$nd" -ge 1 ]; then
		pass "cache entries: success $got, denial $nd"
	else
		fail "cache entries: success $got, denial $nd"
	fi
	# the same questions again: from the cache, nothing forwarded (the
	# second with DO)
	fq a.fwd.test A >/dev/null
	fq +dnssec nx.fwd.test A >/dev/null
	$MX scrape $FM "$T/f3.json" >/dev/null || true
	expect_delta "$T/f2.json" "$T/f3.json" "minidns_forward_requests_total{$TO}" 0
	expect_delta "$T/f2.json" "$T/f3.json" 'minidns_dns_responses_by_source_total{source="cache"}' 2
	expect_delta "$T/f2.json" "$T/f3.json" 'minidns_cache_hits_total{type="success"}' 1
	expect_delta "$T/f2.json" "$T/f3.json" 'minidns_cache_hits_total{type="denial"}' 1
	expect_delta "$T/f2.json" "$T/f3.json" 'minidns_dns_do_requests_total{}' 1
	promtool_check forward $FM
fi

# ---- Kubernetes DNS programming latency -------------------------------------

# k8s_programming: after the first sync of the Kubernetes instance, new
# EndpointSlices for web (a ClusterIP Service) and db (headless, with a
# selector), made with kubectl; each is answered, and gives the latency
# histogram a sample under its Service's kind.
k8s_programming() {
	local K KM=http://$KDNS:9153/metrics h s got
	if ! command -v kubectl >/dev/null 2>&1; then
		skip "DNS programming latency: no kubectl"
		return
	fi
	printf 'apiVersion: v1\nkind: Config\n' >"$T/kubeconfig"
	K="kubectl --kubeconfig $T/kubeconfig --cache-dir $T/kcache
	    --server http://$API_IP:$API_PORT --request-timeout=10s"
	h=minidns_kubernetes_dns_programming_duration_seconds
	$MX scrape $KM "$T/p1.json" >/dev/null || fail "scrape (Kubernetes)"
	for s in web:10.244.9.1 db:10.244.9.2; do
		cat >"$T/slice-${s%%:*}.yaml" <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${s%%:*}-extra
  namespace: shop
  labels:
    kubernetes.io/service-name: ${s%%:*}
addressType: IPv4
endpoints:
- addresses: ["${s#*:}"]
  conditions: {ready: true}
ports:
- name: p
  port: 80
  protocol: TCP
EOF
		$K create --validate=false -f "$T/slice-${s%%:*}.yaml" \
		    >"$T/k.out" 2>&1 || fail "kubectl create ${s%%:*}-extra" "$T/k.out"
	done
	# db's new address answered: the change is published
	db_new() {
		dig @$KDNS +time=1 +tries=1 +short db.shop.svc.$CL A |
		    grep -qx 10.244.9.2
	}
	if poll 10 db_new; then
		pass "the new db endpoint is answered"
	else
		fail "the new db endpoint is not answered"
	fi
	sampled() {
		$MX scrape $KM "$T/p2.json" >/dev/null &&
		    [ "$($MX delta "$T/p1.json" "$T/p2.json" "${h}_count{service_kind=\"headless_with_selector\"}")" = 1 ] &&
		    [ "$($MX delta "$T/p1.json" "$T/p2.json" "${h}_count{service_kind=\"cluster_ip\"}")" = 1 ]
	}
	if poll 10 sampled; then
		pass "DNS programming latency: one sample each, cluster_ip and headless_with_selector (cluster_ip: $($MX delta "$T/p1.json" "$T/p2.json" "${h}_sum{service_kind=\"cluster_ip\"}") s)"
	else
		fail "DNS programming latency samples: $(grep -o "${h}_count[^,]*,[^,]*" "$T/p2.json" | tr '\n' ' ')"
	fi
	expect_delta "$T/p1.json" "$T/p2.json" "${h}_count{service_kind=\"headless_without_selector\"}" 0
	# the lists at the sync gave none: no sample of a change of any age
	got=$($MX value "$T/p1.json" "${h}_count{service_kind=\"cluster_ip\"}")
	[ "$got" = 0 ] && pass "no programming sample from the initial list" ||
	    fail "programming samples from the initial list: $got"
	promtool_check kubernetes $KM
}

# ---- Kubernetes readiness --------------------------------------------------------

echo "minidns-test-token" >"$T/token"
cat >"$T/k8s.yaml" <<EOF
kubernetes:
  zones: [$CL]
  server: http://$API_IP:$API_PORT
  insecure-http: yes
  token-file: $T/token
EOF
"$MINIDNSD" -f --no-recursion --config "$T/k8s.yaml" --listen $KDNS \
    --metrics $KDNS:9153 --health $KDNS:8080 --ready $KDNS:8181 \
    >"$T/minidnsd-k8s.log" 2>&1 &
KDNS_PID=$!
PIDS="$PIDS $KDNS_PID"
KR=http://$KDNS:8181/ready
answers() { [ "$(status "$KR")" != 0 ]; }
if poll 10 answers; then
	got=$(status $KR)
	if [ "$got" = 503 ] && $MX body $KR 2>/dev/null | grep -qi kubernetes; then
		pass "/ready 503 while the API server is down"
	else
		fail "/ready before the API server: $got"
	fi
else
	fail "/ready does not answer (Kubernetes instance)"
fi
if [ "$(status http://$KDNS:8080/health)" = 200 ]; then
	pass "/health 200 while not ready"
else
	fail "/health while not ready: $(status http://$KDNS:8080/health)"
fi
if $MX scrape http://$KDNS:9153/metrics "$T/k1.json" >/dev/null 2>&1 &&
    [ "$($MX value "$T/k1.json" 'minidns_kubernetes_synced{}')" = 0 ]; then
	pass "minidns_kubernetes_synced 0 before the API server"
else
	fail "minidns_kubernetes_synced before the API server"
fi

# no --token-file: kubectl sends no token over plain HTTP
python3 "$APISERVER" --listen $API_IP --port $API_PORT --apply "$CLUSTER" \
    --lifetime 60 --ready-file "$T/api.ready" \
    >"$T/api.log" 2>&1 &
API_PID=$!
PIDS="$PIDS $API_PID"
if ! poll 10 test -s "$T/api.ready"; then
	fail "the test API server did not start"
	cat "$T/api.log"
elif poll 30 is_status 200 $KR; then
	pass "/ready 200 after the first sync"
	if $MX scrape http://$KDNS:9153/metrics "$T/k2.json" >/dev/null \
	    2>"$T/scrape.err" &&
	    [ "$($MX value "$T/k2.json" 'minidns_kubernetes_synced{}')" = 1 ] &&
	    [ "$($MX value "$T/k2.json" 'minidns_kubernetes_connected{}')" = 1 ]
	then
		pass "minidns_kubernetes_synced 1, connected 1"
	else
		fail "Kubernetes metrics after the sync $(cat "$T/scrape.err")"
	fi
	k8s_programming
else
	fail "/ready still $(status $KR) 30 s after the API server started"
	sed 's/^/minidnsd: /' "$T/minidnsd-k8s.log" | tail -20
fi

# ---- rate-limit -----------------------------------------------------------------

# burst SRC N: N UDP queries from SRC as fast as they go, then up to 2 s
# for answers; prints "answered elapsed_seconds" (first send to last)
cat >"$T/burst.py" <<'EOF'
import socket, struct, sys, time
src, server, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
qname = b"".join(bytes([len(l)]) + l
                 for l in b"web.shop.svc.cluster.local".split(b".")) + b"\0"
t0 = time.monotonic()
for i in range(n):
    s.sendto(struct.pack("!HHHHHH", i + 1, 0x0100, 1, 0, 0, 0) + qname +
             struct.pack("!HH", 1, 1), (server, 53))
elapsed = time.monotonic() - t0
ids, end = set(), time.monotonic() + 2
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    ids.add(struct.unpack("!H", data[:2])[0])
print(len(ids), "%.3f" % elapsed)
EOF
printf 'rate-limit: 5\n' >"$T/rl.yaml"
"$MINIDNSD" -f --no-recursion --config "$T/rl.yaml" --listen $RDNS \
    --metrics $RDNS:9153 --health $RDNS:8080 --ready $RDNS:8181 \
    --zone "$srcdir/zones/cluster.local.zone" \
    >"$T/minidnsd-rl.log" 2>&1 &
RDNS_PID=$!
PIDS="$PIDS $RDNS_PID"
RM=http://$RDNS:9153/metrics
if poll 10 $MX scrape $RM "$T/r1.json"; then
	read -r got elapsed < <(python3 "$T/burst.py" 127.58.0.100 $RDNS 40)
	# The 5 saved up are always answered; refills add 5 a second of the
	# time the server takes to read the burst (milliseconds, unless the
	# machine stalls), so anything near 40 means no limit at all.  The
	# bound leaves room for a stall of up to 3 s rather than timing it.
	if [ "$got" -ge 5 ] && [ "$got" -le 20 ]; then
		pass "rate-limit 5: $got of a 40-query burst answered (sent in ${elapsed}s)"
	else
		fail "rate-limit 5: $got of a 40-query burst answered, want 5..20"
	fi
	$MX scrape $RM "$T/r2.json" >/dev/null || true
	expect_delta "$T/r1.json" "$T/r2.json" 'minidns_rate_limited_total{}' \
	    $((40 - got))
	read -r got _ < <(python3 "$T/burst.py" 127.58.0.101 $RDNS 3)
	[ "$got" = 3 ] && pass "rate-limit: another client is answered" ||
	    fail "rate-limit: another client got $got of 3 answers"
	if dig @$RDNS -b 127.58.0.100 +tcp +time=2 +tries=1 +short \
	    web.shop.svc.$CL A | grep -q '^[0-9]'; then
		pass "rate-limit: the limited client is answered over TCP"
	else
		fail "rate-limit: no TCP answer for the limited client"
	fi
else
	fail "minidnsd with rate-limit did not start"
	sed 's/^/minidnsd: /' "$T/minidnsd-rl.log" | tail -20
fi

# ---- the CoreDNS relabelling, under a real Prometheus ------------------------

# prom_relabel: doc/deploy/prometheus-coredns.yml passes promtool check
# config; a Prometheus scraping the forwarding instance under its rules
# (the target and a 1 s interval put in) serves the coredns_* series that
# the CoreDNS dashboard's panels query.
prom_relabel() {
	local PQ=http://$PROM:9090/api/v1/query q
	if ! command -v promtool >/dev/null 2>&1 ||
	    ! command -v prometheus >/dev/null 2>&1; then
		skip "CoreDNS relabelling: no prometheus (Debian: prometheus)"
		return
	fi
	if promtool check config "$DOCDIR/prometheus-coredns.yml" \
	    >"$T/promcheck" 2>&1; then
		pass "promtool check config prometheus-coredns.yml"
	else
		fail "promtool check config prometheus-coredns.yml" "$T/promcheck"
	fi
	[ -n "${FM:-}" ] || return 0
	sed -e "s/'127.0.0.1:9153'/'$FDNS:9153'/" \
	    -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
	    "$DOCDIR/prometheus-coredns.yml" >"$T/prom.yml"
	prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
	    --web.listen-address=$PROM:9090 >"$T/prom.log" 2>&1 &
	PIDS="$PIDS $!"
	cat >"$T/pq.py" <<'EOF'
import json, sys, urllib.parse, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
with opener.open(url, timeout=5) as r:
    res = json.load(r)["data"]["result"]
# one line per series: its labels (sorted, without job and instance),
# then its value
for s in res:
    m = s["metric"]
    print(",".join("%s=%s" % (k, m[k]) for k in sorted(m)
                   if k not in ("job", "instance")), s["value"][1])
EOF
	# the forwarding instance's queries were made before: the first
	# scrape has them
	q='coredns_forward_requests_total'
	prom_has() { python3 "$T/pq.py" $PQ "$1" >"$T/pq.out" 2>&1 &&
	    grep -q "$2" "$T/pq.out"; }
	if poll 20 prom_has "$q" "__name__=$q,to=$UB:53 [1-9]"; then
		pass "Prometheus: $(cat "$T/pq.out")"
	else
		fail "Prometheus: no $q{to=\"$UB:53\"}" "$T/prom.log"
		return
	fi
	for q in \
	    'sum(coredns_dns_requests_total{server="dns://:53",zone="."}) by (proto)|proto=udp [1-9]' \
	    'sum(coredns_dns_requests_total) by (type)|type=A [1-9]' \
	    'sum(coredns_dns_requests_total) by (family)|family=1 [1-9]' \
	    'sum(coredns_dns_do_requests_total)| [1-9]' \
	    'sum(coredns_cache_hits_total) by (type)|type=success [1-9]' \
	    'sum(coredns_cache_hits_total) by (type)|type=denial [1-9]' \
	    'sum(coredns_dns_responses_total) by (rcode)|rcode=NXDOMAIN [1-9]' \
	    'sum(coredns_dns_request_duration_seconds_bucket) by (le)|le=+Inf [1-9]' \
	    'sum(coredns_dns_request_size_bytes_bucket) by (proto, le)|le=511,proto=udp [1-9]' \
	    'sum(coredns_dns_response_size_bytes_bucket) by (proto, le)|le=+Inf,proto=udp [1-9]' \
	    'sum(coredns_cache_entries) by (type)|type=denial [1-9]' \
	    'sum(coredns_cache_hits_total)| [1-9]' \
	    'coredns_cache_misses_total|__name__=coredns_cache_misses_total,server=dns://:53 [1-9]' \
	    'sum(coredns_forward_responses_total) by (to, rcode)|rcode=NOERROR,to=[0-9.]*:53 [1-9]' \
	    'sum(coredns_forward_request_duration_seconds_bucket) by (to, le)|le=+Inf,to=[0-9.]*:53 [1-9]' \
	    'process_resident_memory_bytes|__name__=process_resident_memory_bytes [1-9]' \
	    'coredns_forward_healthcheck_failures_total|__name__=coredns_forward_healthcheck_failures_total,to=[0-9.]*:53 [0-9]' \
	    'coredns_reload_failed_total|__name__=coredns_reload_failed_total [0-9]' \
	    'coredns_build_info|__name__=coredns_build_info,version=[0-9]' \
	    'absent(minidns_dns_requests_total)| 1' \
	    'count({__name__=~"coredns_.*"})| [1-9]'; do
		if prom_has "${q%%|*}" "^${q#*|}"; then
			pass "Prometheus: ${q%%|*}"
		else
			fail "Prometheus: ${q%%|*}: $(tr '\n' ' ' <"$T/pq.out")"
		fi
	done
}

prom_relabel

for pid in $DNS_PID $KDNS_PID $RDNS_PID; do
	kill -0 "$pid" 2>/dev/null || fail "minidnsd $pid died"
done
if [ "$nfail" != 0 ]; then
	sed 's/^/minidnsd: /' "$T/minidnsd.log" | tail -20
fi
summary
