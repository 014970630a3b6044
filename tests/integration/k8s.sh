#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidnsd's Kubernetes source against a test Kubernetes API server
# (k8s/apiserver.py: list, chunked watch, bookmarks, 410 Expired, bearer
# tokens, HTTPS with a test CA), checked with dig and kdig per the
# Kubernetes DNS-Based Service Discovery specification 1.1.0:
#
#  1. the API server is real enough: the real kubectl lists, watches and
#     creates through it (HTTPS, test CA, tokenFile)
#  2. every record kind of the spec for a seeded cluster (k8s/cluster.json)
#  3. changes propagate through the watch (add, update, delete)
#  4. 410 Expired: after a compaction the watch reconnects, relists, goes on
#  5. malformed objects and event lines are skipped, the rest still served
#  6. API outage: old data keeps serving; the restarted API's changes land
#  7. token rotation through the kubeconfig's tokenFile
#
# Ground rules as in run.sh, the harness of lib.sh: re-executes itself
# inside 'unshare -n', only 127.x addresses, every process stopped by saved
# PID, every wait bounded (polls, no timing asserts), temporary files in one
# mktemp -d directory removed at exit.  Exit 77 (skip) when not root or when
# python3, kubectl, openssl or dig is missing.  MINIDNSD from the
# environment, else ./minidnsd (build directory = cwd).
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start k8s "$@"

APISERVER=$here/k8s/apiserver.py
CLUSTER=$here/k8s/cluster.json
MINIDNSD=${MINIDNSD:-$(pwd)/minidnsd}
md_it_need python3 kubectl openssl dig
md_it_built "$MINIDNSD"

DNS=127.57.0.10			# minidnsd
API_IP=127.57.0.2		# the test API server, HTTPS
API=https://$API_IP:6443
HTTP_IP=127.57.0.3		# a second one, plain HTTP, for kubectl only
CL=cluster.local

# Stop one process we started (by PID) and forget it.
stop() {
	local pid=$1 rest=""
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in $PIDS; do
		[ "$p" = "$pid" ] || rest="$rest $p"
	done
	PIDS=$rest
}

# ---- the test PKI: a CA and the API server's certificate -------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=minidns-test-ca \
    -keyout "$T/ca.key" -out "$T/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=kubernetes.test \
    -keyout "$T/api.key" -out "$T/api.csr" >/dev/null 2>&1
cat >"$T/api.ext" <<EOF
subjectAltName=IP:$API_IP,DNS:kubernetes.test
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
EOF
openssl x509 -req -in "$T/api.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -extfile "$T/api.ext" -out "$T/api.crt" \
    >/dev/null 2>&1

# The token the client presents (kubeconfig tokenFile) and the tokens the
# server accepts: two files, so rotation can be staged.
echo "minidns-test-token-1" >"$T/token"
echo "minidns-test-token-1" >"$T/accepted"

md_it_kubeconfig "$T/kubeconfig" "$API" "$T/ca.crt" "$T/token"

# ---- the API server ----------------------------------------------------------

API_PID=""
# start_api [--apply FILE]: HTTPS on $API_IP, objects kept in $T/state.json
start_api() {
	rm -f "$T/api.ready"
	python3 "$APISERVER" --listen $API_IP --port 6443 \
	    --cert "$T/api.crt" --key "$T/api.key" \
	    --token-file "$T/accepted" --state "$T/state.json" \
	    --bookmark-interval 1 --lifetime 100 \
	    --ready-file "$T/api.ready" "$@" >>"$T/api.log" 2>&1 &
	API_PID=$!
	PIDS="$PIDS $API_PID"
	poll 10 test -s "$T/api.ready"
}

# ctl PATH [JSON]: the API server's test control endpoint
ctl() {
	python3 "$APISERVER" ctl $API --cafile "$T/ca.crt" "$@"
}

# apply OP KIND OBJECT-JSON
apply() {
	ctl /_test/apply "{\"op\": \"$1\", \"kind\": \"$2\", \"object\": $3}" \
	    >/dev/null || fail "test API server refused: $1 $2"
}

# svc_json NS NAME CLUSTERIP: a ClusterIP Service with one named port
svc_json() {
	echo "{\"metadata\": {\"name\": \"$2\", \"namespace\": \"$1\"},
	    \"spec\": {\"type\": \"ClusterIP\", \"clusterIP\": \"$3\",
	    \"clusterIPs\": [\"$3\"], \"ports\": [{\"name\": \"http\",
	    \"port\": 80, \"protocol\": \"TCP\"}]}}"
}

# api_state FIELD: a number from /_test/state (resourceVersion, expired...)
api_state() {
	ctl /_test/state | python3 -c \
	    "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# Service LIST requests the server has seen (relists)
svc_lists() {
	ctl /_test/state | python3 -c \
	    "import json,sys; print(json.load(sys.stdin)['seen'].get('GET /api/v1/services', 0))"
}

if ! start_api --apply "$CLUSTER"; then
	echo "ERROR: the test API server did not start"
	cat "$T/api.log"
	exit 99
fi

# ---- 1. kubectl against the test API server ----------------------------------

K="kubectl --kubeconfig $T/kubeconfig --cache-dir $T/kcache"
echo "INFO: $(kubectl version --client 2>/dev/null | head -1)"

# kubectl get svc -A: server-side printed Table with every seeded Service
if $K get svc -A >"$T/k.out" 2>&1 &&
    grep -q "shop .*web .*ClusterIP .*10.96.12.7" "$T/k.out" &&
    grep -q "shop .*docs .*ExternalName" "$T/k.out" &&
    grep -q "kube-system .*kube-dns .*10.96.0.10" "$T/k.out" &&
    [ "$(grep -c . "$T/k.out")" = 8 ]; then
	pass "kubectl get svc -A lists the 7 seeded Services"
else
	fail "kubectl get svc -A"; cat "$T/k.out"
fi
if $K get endpointslices -A >"$T/k.out" 2>&1 &&
    grep -q "shop .*db-x7k2p .*IPv4 .*5432" "$T/k.out"; then
	pass "kubectl get endpointslices -A"
else
	fail "kubectl get endpointslices -A"; cat "$T/k.out"
fi
if $K get ns >"$T/k.out" 2>&1 && grep -q "^empty-ns " "$T/k.out"; then
	pass "kubectl get ns"
else
	fail "kubectl get ns"; cat "$T/k.out"
fi

# kubectl get -w: the list, then a watch event the test triggers
$K get svc -A -w --request-timeout=10s >"$T/kw.out" 2>&1 &
KW_PID=$!
PIDS="$PIDS $KW_PID"
if poll 10 grep -q "kube-dns" "$T/kw.out"; then
	# (no race: kubectl watches from its list's resourceVersion)
	apply add Service "$(svc_json shop kwatch 10.96.12.90)"
	if poll 10 grep -q "shop .*kwatch .*10.96.12.90" "$T/kw.out"; then
		pass "kubectl get svc -A -w sees a watch event"
	else
		fail "kubectl get -w saw no event"; cat "$T/kw.out"
	fi
else
	fail "kubectl get svc -A -w did not list"; cat "$T/kw.out"
fi
stop "$KW_PID"
apply delete Service '{"metadata": {"name": "kwatch", "namespace": "shop"}}'

# kubectl create -f (POST on the collection; no OpenAPI here, so no
# client-side validation)
cat >"$T/made.yaml" <<EOF
apiVersion: v1
kind: Service
metadata:
  name: made-by-kubectl
  namespace: shop
spec:
  clusterIP: 10.96.12.80
  ports:
  - name: http
    port: 8080
EOF
if $K create --validate=false -f "$T/made.yaml" >"$T/k.out" 2>&1 &&
    $K get svc -n shop made-by-kubectl -o jsonpath='{.spec.clusterIP}' \
    >"$T/k.out" 2>&1 && [ "$(cat "$T/k.out")" = 10.96.12.80 ]; then
	pass "kubectl create -f and get -o jsonpath"
else
	fail "kubectl create -f"; cat "$T/k.out"
fi

# a wrong token: 401 with a Status body, which kubectl reports
sed 's|tokenFile: .*|token: wrong-token|' "$T/kubeconfig" >"$T/kubeconfig.bad"
if ! kubectl --kubeconfig "$T/kubeconfig.bad" --cache-dir "$T/kcache" \
    get svc -A >"$T/k.out" 2>&1 && grep -q Unauthorized "$T/k.out"; then
	pass "kubectl with a wrong token: Unauthorized"
else
	fail "wrong token accepted"; cat "$T/k.out"
fi

# the same server over plain HTTP, no authentication
python3 "$APISERVER" --listen $HTTP_IP --port 8080 --apply "$CLUSTER" \
    --lifetime 30 --ready-file "$T/http.ready" >"$T/http.log" 2>&1 &
HTTP_PID=$!
PIDS="$PIDS $HTTP_PID"
printf 'apiVersion: v1\nkind: Config\n' >"$T/kubeconfig.http"
if poll 10 test -s "$T/http.ready" &&
    kubectl --kubeconfig "$T/kubeconfig.http" --cache-dir "$T/kcache" \
    --server http://$HTTP_IP:8080 get svc -n shop >"$T/k.out" 2>&1 &&
    grep -q "^web " "$T/k.out"; then
	pass "kubectl over plain HTTP"
else
	fail "kubectl over plain HTTP"; cat "$T/k.out"
fi
stop "$HTTP_PID"

# ---- minidnsd ------------------------------------------------------------------

"$MINIDNSD" -f --listen $DNS --kubernetes-zone $CL \
    --kubeconfig "$T/kubeconfig" --no-recursion >"$T/minidnsd.log" 2>&1 &
DNS_PID=$!
PIDS="$PIDS $DNS_PID"

# dig against minidnsd, one try
q() { dig @$DNS +time=1 +tries=1 "$@" 2>/dev/null; }
# the answer's data, sorted, on one line
ans() { q +short "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
rcode() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
# the answer section's record count
nans() { q "$@" | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p'; }

# expect LABEL WANT QUERY...: sorted +short answer equals WANT
expect() {
	local label=$1 want=$2 got
	shift 2
	got=$(ans "$@")
	if [ "$got" = "$want" ]; then
		pass "$label"
	else
		fail "$label: '$*' gave '$got', want '$want'"
	fi
}
# expect_rcode LABEL RCODE QUERY... (NODATA: NOERROR and no answer)
expect_rcode() {
	local label=$1 want=$2 got n
	shift 2
	got=$(rcode "$@")
	n=$(nans "$@")
	if [ "$want" = NODATA ] && [ "$got" = NOERROR ] && [ "$n" = 0 ]; then
		pass "$label"
	elif [ "$want" != NODATA ] && [ "$got" = "$want" ]; then
		pass "$label"
	else
		fail "$label: '$*' gave $got with $n answers, want $want"
	fi
}
is_answer() { [ "$(ans "${@:2}")" = "$1" ]; }
is_rcode() { [ "$(rcode "${@:2}")" = "$1" ]; }
# expect_soon LABEL SECS WANT QUERY...: poll until the answer is WANT
expect_soon() {
	local label=$1 secs=$2 want=$3
	shift 3
	if poll "$secs" is_answer "$want" "$@"; then
		pass "$label"
	else
		fail "$label: '$*' gave '$(ans "$@")', want '$want'"
	fi
}
expect_soon_nx() {
	local label=$1 secs=$2
	shift 2
	if poll "$secs" is_rcode NXDOMAIN "$@"; then
		pass "$label"
	else
		fail "$label: '$*' gave $(rcode "$@"), want NXDOMAIN"
	fi
}

if ! poll 15 is_answer 10.96.12.7 web.shop.svc.$CL A; then
	fail "minidnsd did not serve $CL from the API within 15 s"
	sed 's/^/minidnsd: /' "$T/minidnsd.log" | tail -20
	summary
fi
pass "minidnsd synced from the API (HTTPS, test CA, tokenFile)"

# ---- 2. the records of the spec ---------------------------------------------------

S=shop.svc.$CL
# 2.1 schema version
expect "dns-version TXT" '"1.1.0"' dns-version.$CL TXT
# the zone apex
if [ "$(nans $CL SOA)" = 1 ] && [ "$(rcode $CL SOA)" = NOERROR ]; then
	pass "SOA at $CL"
else
	fail "SOA at $CL: $(rcode $CL SOA)"
fi
n=$(nans $CL NS)
if [ "$(rcode $CL NS)" = NOERROR ] && [ "${n:-0}" -ge 1 ]; then
	pass "NS at $CL"
else
	fail "NS at $CL: $(rcode $CL NS), $n answers"
fi
# 2.3 ClusterIP Services: A and AAAA of the cluster IPs (dual-stack)
expect "ClusterIP A" 10.96.12.7 web.$S A
expect "ClusterIP AAAA (dual-stack)" fd00:10:96::c07 web.$S AAAA
expect "ClusterIP A kubernetes.default" 10.96.0.1 kubernetes.default.svc.$CL A
expect_rcode "single-stack ClusterIP AAAA: NODATA" NODATA \
    kubernetes.default.svc.$CL AAAA
ttl=$(q +noall +answer web.$S A | awk '{print $2}')
if [ "$ttl" = 5 ]; then
	pass "TTL 5"
else
	fail "TTL of web.$S A is '$ttl', want 5"
fi
# SRV for each named port: priority 0, weight 100, the service name
expect "ClusterIP SRV _http._tcp" "0 100 80 web.$S." _http._tcp.web.$S SRV
expect "ClusterIP SRV _https._tcp" "0 100 443 web.$S." _https._tcp.web.$S SRV
expect "ClusterIP SRV _dns._udp" "0 100 53 kube-dns.kube-system.svc.$CL." \
    _dns._udp.kube-dns.kube-system.svc.$CL SRV
expect "ClusterIP SRV _dns-tcp._tcp" \
    "0 100 53 kube-dns.kube-system.svc.$CL." \
    _dns-tcp._tcp.kube-dns.kube-system.svc.$CL SRV
expect_rcode "SRV for a port the Service lacks: NXDOMAIN" NXDOMAIN \
    _ftp._tcp.web.$S SRV
# PTR of the cluster IPs
expect "ClusterIP PTR (IPv4)" "web.$S." -x 10.96.12.7
expect "ClusterIP PTR (IPv6)" "web.$S." -x fd00:10:96::c07
# 2.4 headless: the ready endpoints only (absent condition = ready)
expect "headless A: ready endpoints" "10.244.1.10 10.244.1.13 10.244.2.11" \
    db.$S A
expect "headless hostname A" 10.244.1.10 db-0.db.$S A
expect "headless hostname A (2)" 10.244.2.11 db-1.db.$S A
expect_rcode "headless not-ready hostname: NXDOMAIN" NXDOMAIN db-2.db.$S A
out=$(ans _postgres._tcp.db.$S SRV)
if [ "$(q +short _postgres._tcp.db.$S SRV | grep -c '^0 100 5432 ')" = 3 ] &&
    echo "$out" | grep -q "0 100 5432 db-0.db.$S\." &&
    echo "$out" | grep -q "0 100 5432 db-1.db.$S\."; then
	pass "headless SRV: one per ready endpoint, hostname targets"
else
	fail "headless SRV _postgres._tcp.db: '$out'"
fi
expect "headless PTR of a ready endpoint" "db-0.db.$S." -x 10.244.1.10
# publishNotReadyAddresses: not-ready endpoints too
expect "publishNotReadyAddresses A" "10.244.4.20 10.244.4.21" warmup.$S A
expect "publishNotReadyAddresses hostname" 10.244.4.20 warm-0.warmup.$S A
# headless without a ready endpoint
expect_rcode "headless with no ready endpoints: NXDOMAIN" NXDOMAIN idle.$S A
# 2.5 ExternalName: a CNAME
expect "ExternalName CNAME" "docs.example.org." docs.$S CNAME
if q docs.$S A | grep -q "CNAME.*docs\.example\.org\."; then
	pass "ExternalName: A query answered with the CNAME"
else
	fail "ExternalName: A query without the CNAME"
fi
# names that do not exist, names that exist without data
expect_rcode "missing Service: NXDOMAIN" NXDOMAIN missing.$S A
expect_rcode "missing namespace: NXDOMAIN" NXDOMAIN web.nope.svc.$CL A
expect_rcode "namespace without Services: NODATA" NODATA empty-ns.svc.$CL A
expect_rcode "namespace with Services: NODATA" NODATA $S A
# case-insensitive names, and TCP (kdig when installed)
expect "case-insensitive query" 10.96.12.7 WEB.Shop.SVC.Cluster.LOCAL A
expect "TCP query" 10.96.12.7 +tcp web.$S A
if command -v kdig >/dev/null; then
	got=$(kdig @$DNS +time=1 +retry=0 +short _http._tcp.web.$S SRV 2>&1)
	if [ "$got" = "0 100 80 web.$S." ]; then
		pass "kdig SRV"
	else
		fail "kdig SRV: '$got'"
	fi
fi
# the Service kubectl created
expect "Service created by kubectl create -f" 10.96.12.80 made-by-kubectl.$S A

# ---- 3. changes through the watch ---------------------------------------------------

apply add Service "$(svc_json shop cart 10.96.12.50)"
expect_soon "watch: added Service appears" 10 10.96.12.50 cart.$S A
apply update Service "$(svc_json shop cart 10.96.12.51)"
expect_soon "watch: changed cluster IP" 10 10.96.12.51 cart.$S A
expect_soon "watch: PTR follows the change" 10 "cart.$S." -x 10.96.12.51
apply delete Service '{"metadata": {"name": "cart", "namespace": "shop"}}'
expect_soon_nx "watch: deleted Service is NXDOMAIN" 10 cart.$S A
# an endpoint becomes ready (EndpointSlice MODIFIED)
python3 - "$CLUSTER" >"$T/db-slice.json" <<'EOF'
import json, sys
for op in json.load(open(sys.argv[1])):
    if op["object"]["metadata"]["name"] == "db-x7k2p":
        s = op["object"]
        s["endpoints"][2]["conditions"]["ready"] = True
        print(json.dumps(s))
EOF
apply update EndpointSlice "$(cat "$T/db-slice.json")"
expect_soon "watch: endpoint turned ready" 10 \
    "10.244.1.10 10.244.1.13 10.244.2.11 10.244.3.12" db.$S A
expect_soon "watch: its hostname record" 10 10.244.3.12 db-2.db.$S A
# the first Service of a namespace (NODATA -> answer)
apply add Service "$(svc_json empty-ns first 10.96.13.1)"
expect_soon "watch: first Service of an empty namespace" 10 10.96.13.1 \
    first.empty-ns.svc.$CL A
# kubectl delete goes through the same watch
if $K delete svc -n shop made-by-kubectl >"$T/k.out" 2>&1; then
	expect_soon_nx "kubectl delete: NXDOMAIN" 10 made-by-kubectl.$S A
else
	fail "kubectl delete"; cat "$T/k.out"
fi

# ---- 4. 410 Expired ----------------------------------------------------------------

# Compact (every resourceVersion minidnsd holds becomes too old) and end
# the watch streams in the same step: the rewatch gets ERROR 410, minidnsd
# must relist, and go on watching from the new list.
expired0=$(api_state expired)
lists0=$(svc_lists)
ctl /_test/compact '{"close": true}' >/dev/null
expired_or_relisted() {
	[ "$(api_state expired)" -gt "$expired0" ] ||
	    [ "$(svc_lists)" -gt "$lists0" ]
}
if poll 15 expired_or_relisted; then
	pass "410: minidnsd rewatched after the compaction (410 sent: $(($(api_state expired) - expired0)), relists: $(($(svc_lists) - lists0)))"
else
	fail "410: no rewatch after the compaction"
fi
relisted() { [ "$(svc_lists)" -gt "$lists0" ]; }
if poll 15 relisted; then
	pass "410: minidnsd relisted"
else
	fail "410: minidnsd did not relist"
fi
apply add Service "$(svc_json shop after410 10.96.12.60)"
expect_soon "410: changes after the relist are served" 15 10.96.12.60 \
    after410.$S A
expect "410: old data still served" 10.96.12.7 web.$S A

# ---- 5. malformed objects and event lines -------------------------------------------

# a Service whose clusterIP is not an address: skipped
apply add Service '{"metadata": {"name": "broken", "namespace": "shop"},
    "spec": {"type": "ClusterIP", "clusterIP": "not-an-ip",
    "clusterIPs": ["not-an-ip"], "ports": [{"name": "http", "port": 80,
    "protocol": "TCP"}]}}'
# an EndpointSlice whose endpoints are not a list, for Service db
apply add EndpointSlice '{"metadata": {"name": "db-broken",
    "namespace": "shop", "labels": {"kubernetes.io/service-name": "db"}},
    "addressType": "IPv4", "endpoints": "oops"}'
# garbage lines in the Service and EndpointSlice watch streams
ctl /_test/apply '[{"op": "raw", "kind": "Service", "line": "{\"type\": \"ADDED\", \"object\": {"},
    {"op": "raw", "kind": "Service", "line": "not json at all"},
    {"op": "raw", "kind": "EndpointSlice", "line": "{\"type\": \"MODIFIED\", \"object\": 42}"}]' >/dev/null
apply add Service "$(svc_json shop aftergarbage 10.96.12.61)"
expect_soon "malformed: later changes still applied" 15 10.96.12.61 \
    aftergarbage.$S A
expect_rcode "malformed: the bad Service is not served" NXDOMAIN broken.$S A
expect "malformed: other Services still served" 10.96.12.7 web.$S A
expect "malformed: the bad EndpointSlice changes nothing" \
    "10.244.1.10 10.244.1.13 10.244.2.11 10.244.3.12" db.$S A
# fixed later: served
apply update Service "$(svc_json shop broken 10.96.12.62)"
expect_soon "malformed: the fixed Service is served" 10 10.96.12.62 \
    broken.$S A

# ---- 6. API outage and restart ---------------------------------------------------------

stop "$API_PID"
# bounded look at the old data while the API is down (3 queries, 1 s apart)
ok=1
for _ in 1 2 3; do
	is_answer 10.96.12.7 web.$S A || ok=0
	is_answer "10.244.1.10 10.244.1.13 10.244.2.11 10.244.3.12" db.$S A ||
	    ok=0
	sleep 1
done
if [ $ok = 1 ]; then
	pass "outage: old data keeps serving"
else
	fail "outage: old data not served while the API is down"
fi
# the API comes back with changed data (changes made while it was down)
cat >"$T/changes.json" <<EOF
[{"op": "add", "kind": "Service", "object": $(svc_json shop reborn 10.96.12.70)},
 {"op": "update", "kind": "Service", "object": $(svc_json shop after410 10.96.12.63)},
 {"op": "delete", "kind": "Service", "object": {"metadata": {"name": "docs", "namespace": "shop"}}}]
EOF
if start_api --apply "$T/changes.json"; then
	expect_soon "restart: added Service appears" 30 10.96.12.70 reborn.$S A
	expect_soon "restart: changed Service" 10 10.96.12.63 after410.$S A
	expect_soon_nx "restart: deleted Service is NXDOMAIN" 10 docs.$S CNAME
	expect "restart: unchanged data" 10.96.12.7 web.$S A
else
	fail "restart: the API server did not start again"
fi

# ---- 7. token rotation ---------------------------------------------------------------

# The client's token file first, then the server accepts the new token
# only; the watches end so minidnsd must come back with the new token.
echo "minidns-test-token-2" >"$T/token.new"
mv "$T/token.new" "$T/token"
echo "minidns-test-token-2" >"$T/accepted"
ctl /_test/close-watches >/dev/null
apply add Service "$(svc_json shop rotated 10.96.12.71)"
expect_soon "token rotation: changes still propagate" 20 10.96.12.71 \
    rotated.$S A
# and the old token is refused now
if ! kubectl --kubeconfig "$T/kubeconfig.bad" --cache-dir "$T/kcache" \
    --token minidns-test-token-1 get svc -A >/dev/null 2>&1; then
	pass "token rotation: the old token is refused"
else
	fail "token rotation: the old token still accepted"
fi

# ---- 8. the kubernetes: section on reload ------------------------------------

# A second minidnsd configured by file: a changed kubernetes: section
# restarts the source with the new settings on SIGHUP (here the records'
# TTL), and removing it takes the Kubernetes zones away.
DNS2=127.57.0.11
cat >"$T/k8s.yaml" <<EOF
listen: [ "$DNS2:53" ]
recursion: no
metrics: "off"
health: "off"
ready: "off"
zone-check-interval: 0
zones:
  - file: $srcdir/zones/10.in-addr.arpa.zone
kubernetes:
  zones: [ $CL ]
  kubeconfig: $T/kubeconfig
  ttl: 5
EOF
"$MINIDNSD" -f -c "$T/k8s.yaml" >"$T/minidnsd2.log" 2>&1 &
DNS2_PID=$!
PIDS="$PIDS $DNS2_PID"
ttl2() {
	dig @$DNS2 +time=1 +tries=1 +noall +answer "web.$S" A 2>/dev/null |
	    awk '{print $2; exit}'
}
ttl_is() { [ "$(ttl2)" = "$1" ]; }
if poll 20 ttl_is 5; then
	pass "reload: the source by file serves with ttl 5"
else
	fail "reload: the source by file: web.$S A gave TTL '$(ttl2)', want 5"
fi
sed -i 's/^  ttl: 5$/  ttl: 30/' "$T/k8s.yaml"
kill -HUP "$DNS2_PID"
if poll 20 ttl_is 30; then
	pass "reload: kubernetes ttl 5 -> 30 takes effect"
else
	fail "reload: kubernetes ttl change: TTL '$(ttl2)', want 30"
fi
check "reload: the log says the source restarted" grep -q \
    "kubernetes: settings changed, restarting the source" "$T/minidnsd2.log"
sed -i '/^kubernetes:/,$d' "$T/k8s.yaml"
kill -HUP "$DNS2_PID"
gone() {
	[ -z "$(dig @$DNS2 +time=1 +tries=1 +short "web.$S" A 2>/dev/null)" ]
}
check "reload: without kubernetes: the Kubernetes names are gone" poll 20 gone
a=$(dig @$DNS2 +time=1 +tries=1 +short 10.in-addr.arpa SOA 2>/dev/null)
check "reload: the file zone still answers ($a)" [ -n "$a" ]
stop "$DNS2_PID"

if ! kill -0 "$DNS_PID" 2>/dev/null; then
	fail "minidnsd died"
fi
if [ "$nfail" != 0 ]; then
	sed 's/^/minidnsd: /' "$T/minidnsd.log" | tail -30
fi
summary
