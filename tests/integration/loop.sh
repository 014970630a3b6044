#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# loop-detect: forwarding loops found at start, as CoreDNS's loop plugin
# finds them, on 127.57.x.y in a private network namespace.
#
#  1. minidnsd A forwards loop.test. to minidnsd B, which forwards it back
#     to A (a real loop between two servers), and self.test. to its own
#     listen address.  Both loops are logged by name, /ready is 503 with
#     the reason, the gauge minidns_forward_loop says 1, dig gets SERVFAIL
#     with the EDE text "forwarding loop" (from the loop check, not from
#     the forwarders' timeouts), glibc's getent with a pod's resolv.conf
#     finds nothing; A's local zone and its forward zone to a real Unbound
#     still answer (dig and getent).  B finds the loop too.
#  2. A reload that points self.test. at Unbound instead: the zone is
#     probed again and answers; loop.test. still loops.
#  3. minidnsd C forwarding to the real Unbound only: no loop in the log,
#     /ready 200, gauge 0, answers flow.
#  4. minidnsd D with stub: yes and a resolv.conf naming D itself (the
#     node-local loop of doc/node-local.md): zone . loops, its names get
#     SERVFAIL at once, its local zone answers.
#
# Output: PASS/FAIL lines and "N passed, N failed"; exit 77 (skip) when not
# root or a tool is missing.  lib.sh's harness: every process stopped by
# PID, every wait bounded.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start loop "$@"
PATH=$PATH:/usr/sbin

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_need unbound dig getent python3
md_it_built "$MINIDNSD"

A=127.57.1.1
B=127.57.1.2
C=127.57.1.3
D=127.57.1.4
U=127.57.0.1
for ip in $A $B $C $D $U; do
	ip addr add $ip/32 dev lo
done

# /ready and /metrics, python3 urllib (no proxy): "CODE BODY" on stdout.
http() {
	python3 - "$1" <<'PY'
import sys, urllib.error, urllib.request
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    r = o.open(sys.argv[1], timeout=5)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, e)
PY
}

# ---- Unbound: ok.test. and example. from local data ---------------------
md_it_unbound_conf "$T/u.conf" u
cat >>"$T/u.conf" <<CONF
	interface: $U
	port: 53
	local-zone: "ok.test." static
	local-data: "ok.test. 3600 IN SOA ns.ok.test. h.ok.test. 1 3600 600 86400 60"
	local-data: "www.ok.test. 300 IN A 192.0.2.7"
	local-zone: "self.test." static
	local-data: "self.test. 3600 IN SOA ns.self.test. h.self.test. 1 3600 600 86400 60"
	local-data: "www.self.test. 300 IN A 192.0.2.8"
remote-control:
	control-enable: no
CONF
unbound -d -c "$T/u.conf" >"$T/u.out" 2>&1 &
PIDS="$PIDS $!"
wait_up $U www.ok.test. || fail "unbound did not start" "$T/u.out"

# ---- A, B: the loops --------------------------------------------------------
# Root hints at a loopback address where nothing listens: a name under no
# zone never leaves the namespace.
printf '. 3600 NS r.test.\nr.test. 3600 A 127.57.9.9\n' >"$T/hints"
# A local cluster.local zone: a pod's search names end there at once.
cat >"$T/cluster.zone" <<'ZONE'
$ORIGIN cluster.local.
$TTL 30
@	IN SOA ns admin 1 3600 600 86400 30
@	IN NS ns
ns	IN A 10.96.0.10
ZONE
cat >"$T/local.zone" <<'ZONE'
$ORIGIN local.test.
$TTL 300
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 192.0.2.53
www	IN A 192.0.2.9
ZONE
# a_conf SELF_TARGET: A's configuration, self.test. forwarded to it.
a_conf() {
	cat >"$T/a.yaml" <<YAML
listen: $A
threads: 2
metrics: $A:9153
health: "off"
ready: $A:8181
zone-check-interval: 0
allow-private-upstreams: yes
resolve-timeout: 1500
root-hints: $T/hints
zones:
  - file: $T/cluster.zone
  - file: $T/local.zone
forward:
  - zone: loop.test
    servers: [ $B ]
  - zone: self.test
    servers: [ $1 ]
  - zone: ok.test
    servers: [ $U ]
YAML
}
a_conf $A
cat >"$T/b.yaml" <<YAML
listen: $B
threads: 1
metrics: "off"
health: "off"
ready: $B:8181
zone-check-interval: 0
allow-private-upstreams: yes
resolve-timeout: 1500
root-hints: $T/hints
zones: []
forward:
  - zone: loop.test
    servers: [ $A ]
YAML
"$MINIDNSD" -f -c "$T/b.yaml" >"$T/b.log" 2>&1 &
BP=$!
PIDS="$PIDS $BP"
"$MINIDNSD" -f -c "$T/a.yaml" >"$T/a.log" 2>&1 &
AP=$!
PIDS="$PIDS $AP"
wait_up $A www.local.test. || fail "minidnsd A did not start" "$T/a.log"

# Whichever probe finds its partner not listening yet or held down is
# probed again LOOP_RETRY_S (5 s) later: each finds the loop within two
# rounds.
check_log "A logs the loop through B by zone and upstream" "$T/a.log" \
    poll 15 grep -q "forwarding loop detected: zone loop.test. via $B" \
    "$T/a.log"
check_log "A logs the loop to itself" "$T/a.log" \
    poll 10 grep -q "forwarding loop detected: zone self.test. via $A" \
    "$T/a.log"
check_log "B logs the loop through A" "$T/b.log" \
    poll 15 grep -q "forwarding loop detected: zone loop.test. via $A" \
    "$T/b.log"
http "http://$A:8181/ready" >"$T/ready"
check_log "A /ready: 503, a forwarding loop named" "$T/ready" \
    grep -q "^503 forwarding loop: zone" "$T/ready"
http "http://$B:8181/ready" >"$T/ready"
check_log "B /ready: 503" "$T/ready" grep -q "^503 forwarding loop" \
    "$T/ready"
http "http://$A:9153/metrics" >"$T/metrics"
check_log "A's gauge: loop.test. and self.test. 1, ok.test. 0" "$T/metrics" \
    sh -c "grep -q '^minidns_forward_loop{zone=\"loop.test.\"} 1$' '$T/metrics' &&
	grep -q '^minidns_forward_loop{zone=\"self.test.\"} 1$' '$T/metrics' &&
	grep -q '^minidns_forward_loop{zone=\"ok.test.\"} 0$' '$T/metrics'"

# dig: SERVFAIL from the loop check (its EDE text), not from timeouts.
for n in www.loop.test. www.self.test.; do
	dig @$A +time=5 +tries=1 $n A >"$T/o" 2>&1 || true
	check_log "dig $n: SERVFAIL, EDE 'forwarding loop'" "$T/o" \
	    sh -c "grep -q 'status: SERVFAIL' '$T/o' &&
		grep -q 'forwarding loop' '$T/o'"
done
dig @$A +time=5 +tries=1 +short www.local.test. A >"$T/o" 2>&1 || true
check_log "dig: the local zone still answers" "$T/o" grep -qx 192.0.2.9 "$T/o"
dig @$A +time=5 +tries=1 +short www.ok.test. A >"$T/o" 2>&1 || true
check_log "dig: the forward zone to Unbound still answers" "$T/o" \
    grep -qx 192.0.2.7 "$T/o"

# glibc, as a pod resolves: nothing for the looped zone, the rest answers.
md_it_pod_getent $A default ahosts www.loop.test
if [ "$grc" != 0 ] && ! grep -q . "$T/getent.out"; then
	pass "getent (pod resolv.conf): www.loop.test finds nothing"
else
	fail "getent (pod resolv.conf): www.loop.test finds nothing" \
	    "$T/getent.out"
fi
md_it_pod_getent $A default ahosts www.ok.test
check_log "getent (pod resolv.conf): www.ok.test via Unbound" \
    "$T/getent.out" grep -q "^192.0.2.7 " "$T/getent.out"
md_it_pod_getent $A default ahosts www.local.test
check_log "getent (pod resolv.conf): the local zone" \
    "$T/getent.out" grep -q "^192.0.2.9 " "$T/getent.out"

# ---- 2. a reload that ends the loop to itself ------------------------------
a_conf $U
kill -HUP $AP
check_log "reload: self.test. probed again, answers from Unbound" "$T/a.log" \
    poll 10 sh -c "dig @$A +time=2 +tries=1 +short www.self.test. A |
	grep -qx 192.0.2.8"
http "http://$A:9153/metrics" >"$T/metrics"
check_log "reload: gauge self.test. 0, loop.test. still 1" "$T/metrics" \
    sh -c "grep -q '^minidns_forward_loop{zone=\"self.test.\"} 0$' '$T/metrics' &&
	grep -q '^minidns_forward_loop{zone=\"loop.test.\"} 1$' '$T/metrics'"
dig @$A +time=5 +tries=1 www.loop.test. A >"$T/o" 2>&1 || true
check_log "reload: loop.test. still SERVFAIL 'forwarding loop'" "$T/o" \
    grep -q 'forwarding loop' "$T/o"
check "A still running" running $AP
check "B still running" running $BP

# ---- 3. no loop: forwarding to Unbound ---------------------------------------
cat >"$T/c.yaml" <<YAML
listen: $C
threads: 1
metrics: $C:9153
health: "off"
ready: $C:8181
zone-check-interval: 0
allow-private-upstreams: yes
root-hints: $T/hints
zones:
  - file: $T/cluster.zone
forward:
  - zone: ok.test
    servers: [ $U ]
  - zone: self.test
    servers: [ $U ]
YAML
"$MINIDNSD" -f -c "$T/c.yaml" >"$T/c.log" 2>&1 &
PIDS="$PIDS $!"
wait_up $C www.ok.test. || fail "minidnsd C did not start" "$T/c.log"
check_log "C /ready: 200 once the probes are back" "$T/c.log" \
    poll 10 sh -c "$(declare -f http); http http://$C:8181/ready |
	grep -q '^200 OK'"
check_log "C logs no loop" "$T/c.log" \
    sh -c "! grep -q 'forwarding loop detected' '$T/c.log' &&
	grep -q 'first probes done: 2 forward zones, 0 looping' '$T/c.log'"
http "http://$C:9153/metrics" >"$T/metrics"
check_log "C's gauge: 0" "$T/metrics" \
    sh -c "grep -q '^minidns_forward_loop{zone=\"ok.test.\"} 0$' '$T/metrics' &&
	! grep -q '^minidns_forward_loop{.*} 1$' '$T/metrics'"
md_it_pod_getent $C default ahosts www.ok.test
check_log "C: getent (pod resolv.conf) www.ok.test" "$T/getent.out" \
    grep -q "^192.0.2.7 " "$T/getent.out"

# ---- 4. stub: yes, the node's resolv.conf naming ourselves ------------------
printf 'nameserver %s\noptions ndots:1\n' $D >"$T/node.resolv.conf"
cat >"$T/d.yaml" <<YAML
listen: $D
dnssec: off
threads: 1
metrics: "off"
health: "off"
ready: $D:8181
zone-check-interval: 0
stub: yes
resolv-conf: $T/node.resolv.conf
zones:
  - file: $T/cluster.zone
YAML
"$MINIDNSD" -f -c "$T/d.yaml" >"$T/d.log" 2>&1 &
PIDS="$PIDS $!"
wait_up $D ns.cluster.local. || fail "minidnsd D did not start" "$T/d.log"
check_log "stub to ourselves: zone . loops, logged" "$T/d.log" \
    poll 10 grep -q "forwarding loop detected: zone \. via $D" "$T/d.log"
dig @$D +time=5 +tries=1 www.example. A >"$T/o" 2>&1 || true
check_log "stub to ourselves: www.example. SERVFAIL 'forwarding loop'" \
    "$T/o" sh -c "grep -q 'status: SERVFAIL' '$T/o' &&
	grep -q 'forwarding loop' '$T/o'"
md_it_pod_getent $D default ahosts ns.cluster.local
check_log "stub to ourselves: getent of a local name still answers" \
    "$T/getent.out" grep -q "^10.96.0.10 " "$T/getent.out"
http "http://$D:8181/ready" >"$T/ready"
check_log "stub to ourselves: /ready 503 'forwarding loop: zone .'" \
    "$T/ready" grep -q "^503 forwarding loop: zone \. via $D" "$T/ready"

summary
