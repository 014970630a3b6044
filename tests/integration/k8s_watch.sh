#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Kubernetes watch's liveness and scale (issue 15), against the test
# API server (k8s/apiserver.py, plain HTTP):
#
#  1. a list of 1,200 Services read in pages (limit=500, continue), every
#     one served; kubectl still lists them through the paginated server
#  2. an expired continue token (410 Expired) starts the list again
#  3. a frozen API server (watch connections open, nothing sent, not even
#     a bookmark) is noticed after watch-timeout (3 s here) and a change
#     made after the freeze is served, well within a 60 s bound; the
#     metrics count the stalled watches
#
# Ground rules as in k8s.sh (lib.sh): 'unshare -n', 127.x only, processes
# stopped by saved PID, bounded polls, no timing asserts.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start k8s_watch "$@"

APISERVER=$here/k8s/apiserver.py
MINIDNSD=${MINIDNSD:-$(pwd)/minidnsd}
md_it_need python3 kubectl dig curl
md_it_built "$MINIDNSD"

DNS=127.58.0.10
API_IP=127.58.0.2
API=http://$API_IP:8080
CL=cluster.local
NSVC=1200

# ---- the API server, seeded with $NSVC Services ------------------------------

python3 - "$NSVC" >"$T/seed.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
ops = [{"op": "add", "kind": "Namespace", "object": {"metadata": {"name": "big"}}}]
for i in range(n):
    ip = "10.100.%d.%d" % (i // 250, i % 250 + 1)
    ops.append({"op": "add", "kind": "Service", "object": {
        "metadata": {"name": "svc-%04d" % i, "namespace": "big"},
        "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}})
json.dump(ops, sys.stdout)
EOF
python3 "$APISERVER" --listen $API_IP --port 8080 --apply "$T/seed.json" \
    --bookmark-interval 1 --lifetime 170 --ready-file "$T/api.ready" \
    >"$T/api.log" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 test -s "$T/api.ready"; then
	echo "ERROR: the test API server did not start"
	cat "$T/api.log"
	exit 99
fi

ctl() { python3 "$APISERVER" ctl $API "$@"; }
api_state() {
	ctl /_test/state | python3 -c \
	    "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# ---- minidnsd: watch-timeout 3 s ----------------------------------------------

cat >"$T/minidnsd.yaml" <<EOF
listen: [ "$DNS:53" ]
recursion: no
metrics: "$DNS:9153"
health: "off"
ready: "$DNS:8181"
kubernetes:
  zones: [ $CL ]
  server: $API
  insecure-http: yes
  watch-timeout: 3
EOF
"$MINIDNSD" -f -c "$T/minidnsd.yaml" >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"

q() { dig @$DNS +time=1 +tries=1 +short "$@" 2>/dev/null; }
is_answer() { [ "$(q "${@:2}")" = "$1" ]; }
metric() {
	curl -s --max-time 2 "http://$DNS:9153/metrics" |
	    sed -n "s/^$1 //p"
}

# ---- 1. a paginated list, every Service served --------------------------------

if poll 30 is_answer 10.100.0.1 svc-0000.big.svc.$CL A &&
    poll 10 is_answer 10.100.2.101 svc-0600.big.svc.$CL A &&
    poll 10 is_answer 10.100.4.200 svc-1199.big.svc.$CL A; then
	pass "1,200 Services listed in pages: the first, middle and last served"
else
	fail "the paginated list" "$T/minidnsd.log"
fi
missing=0
for i in $(seq 0 37 $((NSVC - 1))); do
	want=10.100.$((i / 250)).$((i % 250 + 1))
	[ "$(q "$(printf 'svc-%04d' "$i").big.svc.$CL" A)" = "$want" ] ||
	    missing=$((missing + 1))
done
if [ "$missing" = 0 ]; then
	pass "every 37th of the 1,200 Services answers its address"
else
	fail "$missing sampled Services not served"
fi
pages=$(api_state continuePages)
if [ "$pages" -ge 2 ] &&
    grep -q "listed $NSVC Service objects in 3 pages" "$T/minidnsd.log"; then
	pass "the Service list came in 3 pages ($pages continue requests)"
else
	fail "not paginated (continue pages: $pages)" "$T/minidnsd.log"
fi
printf 'apiVersion: v1\nkind: Config\n' >"$T/kubeconfig.http"
if kubectl --kubeconfig "$T/kubeconfig.http" --cache-dir "$T/kcache" \
    --server $API get svc -n big >"$T/k.out" 2>&1 &&
    [ "$(grep -c '^svc-' "$T/k.out")" = "$NSVC" ]; then
	pass "kubectl get svc lists the 1,200 Services through the pages"
else
	fail "kubectl against the paginated server" "$T/k.out"
fi

# ---- 2. an expired continue token: the list starts again -----------------------

expired0=$(api_state expired)
ctl /_test/expire-continue '{"count": 1}' >/dev/null
# A compaction ends the watches with 410: every stream relists, and the
# Service list's first continue page meets the expired token.
ctl /_test/compact '{"close": true}' >/dev/null
ctl /_test/apply "{\"op\": \"add\", \"kind\": \"Service\", \"object\":
    {\"metadata\": {\"name\": \"after-410\", \"namespace\": \"big\"},
     \"spec\": {\"type\": \"ClusterIP\", \"clusterIP\": \"10.100.9.1\",
     \"clusterIPs\": [\"10.100.9.1\"]}}}" >/dev/null
if poll 30 is_answer 10.100.9.1 after-410.big.svc.$CL A &&
    is_answer 10.100.4.200 svc-1199.big.svc.$CL A &&
    [ "$(api_state expired)" -gt "$expired0" ] &&
    grep -q "HTTP 410: .*continue parameter is too old" "$T/minidnsd.log"
then
	pass "410 on a continue token: relisted whole, new and old served"
else
	fail "relist after an expired continue token" "$T/minidnsd.log"
fi

# ---- 3. a frozen API server -----------------------------------------------------

stalls0=$(metric minidns_kubernetes_watch_stalls_total)
ctl /_test/freeze '{"on": true}' >/dev/null
# the change lands in the store while every open watch is frozen
ctl /_test/apply "{\"op\": \"add\", \"kind\": \"Service\", \"object\":
    {\"metadata\": {\"name\": \"after-freeze\", \"namespace\": \"big\"},
     \"spec\": {\"type\": \"ClusterIP\", \"clusterIP\": \"10.100.9.2\",
     \"clusterIPs\": [\"10.100.9.2\"]}}}" >/dev/null
frozen=$(api_state frozen)
t0=$SECONDS
# bound: the default watch-timeout (60 s); configured 3 s here
if poll 60 is_answer 10.100.9.2 after-freeze.big.svc.$CL A; then
	pass "frozen API: the change made after the freeze served (after $((SECONDS - t0)) s, $frozen watches frozen)"
else
	fail "frozen API not noticed" "$T/minidnsd.log"
fi
if grep -q "watch: nothing received for 3 s" "$T/minidnsd.log" &&
    [ "$(metric minidns_kubernetes_watch_stalls_total)" -gt "${stalls0:-0}" ]
then
	pass "the stalled watches logged and counted (stalls: $(metric minidns_kubernetes_watch_stalls_total))"
else
	fail "stalls not logged or counted" "$T/minidnsd.log"
fi
connected() { [ "$(metric minidns_kubernetes_connected)" = 1 ]; }
if poll 30 connected &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
	http://$DNS:8181/ready)" = 200 ]; then
	pass "connected again after the freeze; /ready 200"
else
	fail "not connected again after the freeze" "$T/minidnsd.log"
fi
ctl /_test/freeze '{"on": false}' >/dev/null

if [ "$nfail" != 0 ]; then
	sed 's/^/minidnsd: /' "$T/minidnsd.log" | tail -30
fi
summary
