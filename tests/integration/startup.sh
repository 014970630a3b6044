#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Start-up and shutdown with the Kubernetes source (issue 15, "Startup"
# and "Lameduck"), through the real doors: dig, glibc (getent ahosts with
# a pod's resolv.conf bind-mounted over /etc/resolv.conf in a private
# mount namespace), the test API server (k8s/apiserver.py) changed by the
# real kubectl, and NSD standing for the node's resolvers (it says
# NXDOMAIN for every cluster name, with a negative TTL of 300 s):
#
#  1. minidnsd started before the API (startup-timeout 1s): once it
#     serves, cluster names get SERVFAIL with EDE 14 (Not Ready), never
#     NXDOMAIN, and nothing goes upstream for them; /ready says 503
#  2. the API comes up, kubectl creates a Service: it resolves at once
#     (nothing negative was cached), for dig and for getent; /ready 200
#  3. lameduck 2s (3 workers, -f): SIGTERM under a query stream
#     (stream.py): every query answered, /ready 503 and /health 200
#     during the lameduck, getent still resolves; then the process exits
#  4. without -f (daemon mode, 3 workers) with the API up: the start
#     waits for the first list, so the first answer is the real one;
#     SIGTERM: /ready 503 while queries are answered, then it exits
#
# Ground rules of lib.sh: a private network (and PID) namespace, 127.x
# only, every process stopped by saved PID, every wait bounded (polls).
# Exit 77 when not root or a tool is missing; MINIDNSD from the
# environment, else ./minidnsd.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start startup "$@"
chmod 755 "$T"

APISERVER=$here/k8s/apiserver.py
STREAM=$here/stream.py
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
PATH=$PATH:/usr/sbin
md_it_need nsd dig getent python3 kubectl mount unshare
md_it_built "$MINIDNSD"

NSD_IP=127.62.0.2	# the node's resolvers, as far as minidnsd knows
API_IP=127.62.0.3	# the test Kubernetes API server (plain HTTP)
DNS=127.62.0.10		# minidnsd
HTTP=127.62.0.10:8181	# its /ready
HEALTH=127.62.0.10:8080	# its /health
METRICS=127.62.0.10:9153
NAME=web.default.svc.cluster.local

# ---- NSD: NXDOMAIN for the cluster's names, and an outside name ----------
cat >"$T/cluster.local.zone" <<'ZONE'
$ORIGIN cluster.local.
$TTL 300
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 127.62.0.2
ZONE
cat >"$T/example.org.zone" <<'ZONE'
$ORIGIN example.org.
$TTL 300
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 127.62.0.2
docs	IN A 192.0.2.77
ZONE
md_it_nsd "$T/nsd" $NSD_IP "cluster.local=$T/cluster.local.zone" \
    "example.org=$T/example.org.zone"
if ! wait_up $NSD_IP docs.example.org >/dev/null; then
	fail "NSD did not start" "$T/nsd/out"
	summary
fi
if dig @$NSD_IP +time=1 +tries=1 $NAME | grep -q 'status: NXDOMAIN'; then
	pass "the node's resolver (NSD) says NXDOMAIN for $NAME"
else
	fail "NSD does not say NXDOMAIN for $NAME"
fi

md_it_kubeconfig "$T/kubeconfig" "http://$API_IP:8080"
K="kubectl --kubeconfig $T/kubeconfig --cache-dir $T/kcache"

# hget URL: "STATUS BODY" of a GET (python3 urllib, no proxy)
cat >"$T/hget.py" <<'EOF'
import sys, urllib.error, urllib.request
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with o.open(sys.argv[1], timeout=5) as r:
        print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except OSError as e:
    print("000", e)
EOF
hget() {
	python3 "$T/hget.py" "$1"
}

# upstream: queries minidnsd sent upstream so far (every class)
upstream() {
	hget "http://$METRICS/metrics" | awk \
	    '/^minidns_upstream_queries_total/ { n += $2 } END { print n + 0 }'
}

# pod_getent ARGS...: getent ARGS as a pod of namespace default resolves
# (lib.sh); output in $T/getent.out, exit code in $grc.
pod_getent() { md_it_pod_getent "$DNS" default "$@"; }

# conf FILE LAMEDUCK [LINE...]: minidnsd's configuration
conf() {
	local f=$1 ld=$2
	shift 2
	{
		cat <<CONF
listen: [ "$DNS:53" ]
dnssec: off
threads: 3
metrics: "$METRICS"
health: "$HEALTH"
ready: "$HTTP"
zone-check-interval: 0
allow-private-upstreams: yes
lameduck: $ld
forward:
  - zone: "."
    servers: [ $NSD_IP ]
kubernetes:
  zones: [ cluster.local ]
  kubeconfig: $T/kubeconfig
  insecure-http: yes
  startup-timeout: 1s
CONF
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

# ---- 1. before the API: SERVFAIL, EDE 14, nothing upstream ----------------
conf "$T/minidnsd.yaml" 2s
"$MINIDNSD" -f -c "$T/minidnsd.yaml" >"$T/minidnsd.log" 2>&1 &
MD_PID=$!
PIDS="$PIDS $MD_PID"
if ! wait_up $DNS docs.example.org >/dev/null; then
	fail "minidnsd did not start without the API" "$T/minidnsd.log"
	summary
fi
check_log "the start waited for the API, then served unsynced" \
    "$T/minidnsd.log" grep -q "starting with the API not synced" \
    "$T/minidnsd.log"
before=$(upstream)
ok=yes
for q in "$NAME A" "$NAME AAAA" "nosuch.default.svc.cluster.local A" \
    "cluster.local SOA" "10.0.96.10.in-addr.arpa PTR"; do
	# shellcheck disable=SC2086
	dig @$DNS +time=2 +tries=1 $q >"$T/dig.out" 2>&1 || true
	if ! grep -q 'status: SERVFAIL' "$T/dig.out" ||
	    ! grep -q 'EDE: 14 (Not Ready)' "$T/dig.out"; then
		ok=no
		echo "  $q: $(grep -E 'status:|EDE' "$T/dig.out" | tr '\n' ' ')"
	fi
done
check "cluster names (and the reverse zones) before the first list: SERVFAIL, EDE 14 (Not Ready)" \
    [ $ok = yes ]
after=$(upstream)
if [ "$before" -gt 0 ] && [ "$before" = "$after" ]; then
	pass "nothing went upstream for them ($after upstream queries, all for docs.example.org)"
else
	fail "upstream queries went from $before to $after"
fi
r=$(hget "http://$HTTP/ready")
check "/ready before the first list: $r" [ "$r" = "503 kubernetes not synced" ]
pod_getent ahosts web
check "getent ahosts web before the first list: not resolved (exit $grc)" \
    [ $grc != 0 ]

# ---- 2. the API comes up; kubectl makes the Service -------------------------
cat >"$T/cluster.json" <<'JSON'
[
 {"op": "add", "kind": "Namespace", "object": {"metadata": {"name": "default"}}}
]
JSON
python3 "$APISERVER" --listen $API_IP --port 8080 --apply "$T/cluster.json" \
    --lifetime 300 --ready-file "$T/api.ready" >"$T/api.log" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 test -s "$T/api.ready"; then
	fail "the test API server did not start" "$T/api.log"
	summary
fi
cat >"$T/web.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  clusterIP: 10.96.0.50
  ports:
  - name: http
    port: 80
EOF
if $K create --validate=false -f "$T/web.yaml" >"$T/k.out" 2>&1; then
	pass "kubectl create -f: Service default/web"
else
	fail "kubectl create -f" "$T/k.out"
fi
# Had the NXDOMAIN been cached (300 s), this would not come in 10 s.
if poll 10 sh -c "dig @$DNS +time=1 +tries=1 +short $NAME | grep -qx 10.96.0.50"; then
	pass "$NAME resolves once synced: 10.96.0.50 (nothing negative cached)"
else
	fail "$NAME after the sync" "$T/minidnsd.log"
fi
pod_getent ahosts web
if [ $grc = 0 ] && grep -q '^10\.96\.0\.50 ' "$T/getent.out"; then
	pass "getent ahosts web (a pod's resolv.conf): 10.96.0.50"
else
	fail "getent ahosts web" "exit $grc: $(tr '\n' '|' <"$T/getent.out")"
fi
r=$(hget "http://$HTTP/ready")
check "/ready once synced: $r" [ "$r" = "200 OK" ]

# ---- 3. lameduck under a query stream (-f, 3 workers) -----------------------
python3 "$STREAM" $DNS $NAME --udp 400 --tcp 10 --ports 4 >"$T/stream.out" &
ST_PID=$!
PIDS="$PIDS $ST_PID"
sleep 0.2
kill -TERM $MD_PID
if poll 5 sh -c "python3 $T/hget.py http://$HTTP/ready | grep -qx '503 shutting down'"; then
	pass "SIGTERM: /ready says 503 shutting down during the lameduck"
else
	fail "/ready during the lameduck: $(hget "http://$HTTP/ready")"
fi
r=$(hget "http://$HEALTH/health")
check "/health during the lameduck: $r (as CoreDNS's)" [ "$r" = "200 OK" ]
pod_getent ahosts web
if [ $grc = 0 ] && grep -q '^10\.96\.0\.50 ' "$T/getent.out"; then
	pass "getent ahosts web during the lameduck: 10.96.0.50"
else
	fail "getent during the lameduck" "exit $grc: $(tr '\n' '|' <"$T/getent.out")"
fi
wait $ST_PID || true
alive=no
running $MD_PID && alive=yes
read -r _ usent uok <<<"$(grep '^udp' "$T/stream.out")"
read -r _ tsent tok <<<"$(grep '^tcp' "$T/stream.out")"
if [ $alive = yes ] && [ "$usent" = "$uok" ] && [ "$tsent" = "$tok" ] &&
    grep -qx "rcodes 0=$((uok + tok))" "$T/stream.out"; then
	pass "the stream during the lameduck: every query answered NOERROR ($uok UDP, $tok TCP)"
else
	fail "the stream during the lameduck (minidnsd running at its end: $alive)" \
	    "$(tr '\n' ' ' <"$T/stream.out")"
fi
if wait_exit $MD_PID 10 && [ "$exit_rc" = 0 ]; then
	pass "minidnsd exits (0) after the lameduck"
else
	fail "minidnsd after the lameduck (exit ${exit_rc:-still running})" \
	    "$T/minidnsd.log"
fi
check_log "the log: lameduck, its end, the drain, stopped, in that order" \
    "$T/minidnsd.log" sh -c "grep -oE 'lameduck: answering|lameduck over|drained; stopping|stopped\$' '$T/minidnsd.log' | tr '\n' , | grep -qx 'lameduck: answering,lameduck over,drained; stopping,stopped,'"

# ---- 4. daemon mode: the start waits for the list; lameduck ---------------
conf "$T/daemon.yaml" 1s "pid-file: $T/minidnsd.pid" "log-file: $T/daemon.log"
rc=0
"$MINIDNSD" -c "$T/daemon.yaml" >"$T/daemon.out" 2>&1 || rc=$?
DPID=$(cat "$T/minidnsd.pid" 2>/dev/null || echo "")
[ -z "$DPID" ] || PIDS="$PIDS $DPID"
if [ $rc = 0 ] && [ -n "$DPID" ]; then
	pass "minidnsd without -f started (pid $DPID)"
else
	fail "minidnsd without -f (exit $rc)" "$T/daemon.out"
	summary
fi
# The parent returned once serving: the first answer is already the list's.
dig @$DNS +time=2 +tries=1 $NAME >"$T/dig.out" 2>&1 || true
if grep -q 'status: NOERROR' "$T/dig.out" && grep -q '10\.96\.0\.50' "$T/dig.out"; then
	pass "daemon mode: the first answer after the start is the synced one"
else
	fail "daemon mode: first answer" "$(grep -E 'status:|EDE' "$T/dig.out")"
fi
kill -TERM "$DPID"
if poll 5 sh -c "python3 $T/hget.py http://$HTTP/ready | grep -qx '503 shutting down'"; then
	pass "daemon mode: /ready 503 after SIGTERM"
else
	fail "daemon mode: /ready after SIGTERM: $(hget "http://$HTTP/ready")"
fi
if dig @$DNS +time=2 +tries=1 +short $NAME | grep -qx 10.96.0.50 &&
    running "$DPID"; then
	pass "daemon mode: still answering during the lameduck"
else
	fail "daemon mode: no answer during the lameduck" "$T/daemon.log"
fi
gone=no
for _ in $(seq 100); do
	running "$DPID" || { gone=yes; break; }
	sleep 0.1
done
check "daemon mode: the process exits after the lameduck" [ $gone = yes ]
check_log "daemon mode: the log says lameduck over, then stopped" \
    "$T/daemon.log" sh -c "grep -q 'lameduck over' '$T/daemon.log' && grep -q 'stopped' '$T/daemon.log'"

summary
