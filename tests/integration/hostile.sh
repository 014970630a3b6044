#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hostile clients and upstreams against minidnsd run as users run it
# (-f, a config file), under 'ulimit -n 256' (issue 18):
#
#  1. 400 slow HTTP clients on /metrics (a byte every 2 s, reconnecting
#     when closed): DNS over UDP and TCP keeps answering local, cached and
#     uncached names; the daemon's CPU time over the attack stays low (no
#     accept() spin); the log stays small; /metrics answers once they go.
#  2. 2,500 questions to a forwarder that never answers: local and cached
#     names still answer, no spin, a small log.
#  3. Slow DNS-over-TCP clients (a byte a second): each is closed within
#     tcp-read-timeout of its first byte; one address holds at most
#     tcp-max-connections-per-client connections; at tcp-max-connections
#     the oldest idle connections are closed so a new client is served.
#  4. Garbage on a DNS stream (a response, a length shorter than a header,
#     a message of junk) closes the connection at once (junk after its
#     FORMERR), not at the read deadline.
#
# Bounds are generous (a shared 2-core box): behaviour, not speed.
# Hostile clients are tests/integration/hostile.py (python3 stdlib).  The
# harness is lib.sh: a private network namespace, only 127.x, processes
# stopped by PID, bounded waits, "N passed, N failed".
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start hostile "$@"
md_it_need python3 dig
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_built "$MINIDNSD"

ZONE=$srcdir/zones/cluster.local.zone
LOCAL=kubernetes.default.svc.cluster.local
ADDR=127.64.0.1
SLOW=127.64.0.53 # answers every A query after 50 ms
DEAD=127.64.0.54 # reads every query, answers none
H="python3 $here/hostile.py"
TCK=$(getconf CLK_TCK)

python3 "$here/badupstream.py" slow $SLOW 53 --delay 0.05 --lifetime 300 \
    >"$T/slow.log" 2>&1 &
PIDS="$PIDS $!"
$H blackhole $DEAD 53 300 &
PIDS="$PIDS $!"

cat >"$T/minidnsd.yaml" <<EOF
listen: [ "$ADDR:53" ]
threads: 2
zones:
  - file: $ZONE
forward:
  - zone: ext.test
    servers: [ $SLOW ]
  - zone: dead.test
    servers: [ $DEAD ]
resolution-timeout: 3000
zone-check-interval: 0
metrics: "$ADDR:9153"
health: "off"
ready: "off"
EOF

# utime + stime of PID, in clock ticks
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# q NAME [dig options]: the first answer line's data, or nothing
q() {
	local name=$1
	shift
	dig @$ADDR +time=3 +tries=2 +short "$@" "$name" 2>/dev/null | head -1
}

# Every kind of question answers: NAME is uncached (ext.test).
answers_all() {
	local when=$1 new=$2
	check "$when: UDP local" [ "$(q $LOCAL)" = 10.96.0.1 ]
	check "$when: TCP local" [ "$(q $LOCAL +tcp)" = 10.96.0.1 ]
	check "$when: UDP cached" [ "$(q cached.ext.test)" = 192.0.2.77 ]
	check "$when: UDP uncached" [ "$(q u$new.ext.test)" = 192.0.2.77 ]
	check "$when: TCP uncached" \
	    [ "$(q t$new.ext.test +tcp)" = 192.0.2.77 ]
}

(ulimit -n 256 && exec "$MINIDNSD" -f -c "$T/minidnsd.yaml") \
    >"$T/minidnsd.log" 2>&1 &
P=$!
PIDS="$PIDS $P"
wait_up $ADDR $LOCAL || {
	fail "minidnsd did not start" "$T/minidnsd.log"
	summary
}
check "the daemon runs with 256 descriptors" \
    grep -q '^Max open files *256 ' "/proc/$P/limits"
q cached.ext.test >/dev/null

# ---- 1. slow HTTP clients -----------------------------------------------
WINDOW=16
c0=$(cpu_ticks $P)
l0=$(wc -l <"$T/minidnsd.log")
t0=$(date +%s%N)
$H slowhttp $ADDR 9153 400 $WINDOW >"$T/slowhttp.out" 2>&1 &
S=$!
PIDS="$PIDS $S"
sleep 4
answers_all "slow HTTP clients" 1
sleep 4
answers_all "slow HTTP clients, later" 2
wait_exit $S $((WINDOW + 20)) || true
c1=$(cpu_ticks $P)
l1=$(wc -l <"$T/minidnsd.log")
t1=$(date +%s%N)
wall=$(((t1 - t0) / 10000000)) # hundredths of a second
cpu=$(((c1 - c0) * 100 / TCK))
lines=$((l1 - l0))
echo "slow HTTP: $(cat "$T/slowhttp.out"); CPU ${cpu}/100 s over" \
    "${wall}/100 s; $lines log lines"
check_log "slow HTTP: the server closed slow clients ($(cat "$T/slowhttp.out"))" \
    "$T/slowhttp.out" sh -c "awk '{ exit !(\$4 > 0) }' '$T/slowhttp.out'"
check_log "slow HTTP: CPU $cpu/100 s in $wall/100 s (< 50%)" \
    "$T/minidnsd.log" [ $((cpu * 2)) -lt "$wall" ]
check_log "slow HTTP: $lines log lines (< 200)" "$T/minidnsd.log" \
    [ "$lines" -lt 200 ]
check "slow HTTP: /metrics answers once they are gone" \
    poll 10 python3 -c "
import urllib.request, sys
r = urllib.request.urlopen('http://$ADDR:9153/metrics', timeout=3)
sys.exit(0 if b'minidns_dns_requests_total' in r.read() else 1)"
check "slow HTTP: the daemon still runs" running $P

# ---- 2. questions to a server that never answers --------------------------
c0=$(cpu_ticks $P)
l0=$(wc -l <"$T/minidnsd.log")
t0=$(date +%s%N)
$H flood $ADDR 53 dead.test 2500 >"$T/flood.out" 2>&1 || true
sleep 1
check "dead upstream: UDP local" [ "$(q $LOCAL)" = 10.96.0.1 ]
check "dead upstream: UDP cached" [ "$(q cached.ext.test)" = 192.0.2.77 ]
check "dead upstream: TCP local" [ "$(q $LOCAL +tcp)" = 10.96.0.1 ]
sleep 4
c1=$(cpu_ticks $P)
l1=$(wc -l <"$T/minidnsd.log")
t1=$(date +%s%N)
wall=$(((t1 - t0) / 10000000))
cpu=$(((c1 - c0) * 100 / TCK))
lines=$((l1 - l0))
echo "dead upstream: $(cat "$T/flood.out"); CPU ${cpu}/100 s over" \
    "${wall}/100 s; $lines log lines"
check_log "dead upstream: CPU $cpu/100 s in $wall/100 s (< 50%)" \
    "$T/minidnsd.log" [ $((cpu * 2)) -lt "$wall" ]
check_log "dead upstream: $lines log lines (< 200)" "$T/minidnsd.log" \
    [ "$lines" -lt 200 ]
answers_all "after the dead upstream" 3
kill -TERM $P
wait_exit $P || true

# ---- 3. slow and idle DNS-over-TCP clients --------------------------------
ADDR=127.64.0.2
cat >"$T/tcp.yaml" <<EOF
listen: [ "$ADDR:53" ]
threads: 1
zones:
  - file: $ZONE
recursion: no
tcp-read-timeout: 5
tcp-idle-timeout: 10
tcp-max-connections: 20
tcp-max-connections-per-client: 8
zone-check-interval: 0
metrics: "off"
health: "off"
ready: "off"
EOF
(ulimit -n 256 && exec "$MINIDNSD" -f -c "$T/tcp.yaml") \
    >"$T/tcp.log" 2>&1 &
P=$!
PIDS="$PIDS $P"
wait_up $ADDR $LOCAL || {
	fail "minidnsd (TCP limits) did not start" "$T/tcp.log"
	summary
}
# 30 trickling clients from one address; then two idle crowds of 8 from
# two others: 8 + 8 + 8 > 20, so the first idle ones make room.
$H slowdns $ADDR 53 30 20 127.64.0.10 >"$T/slowdns.out" 2>&1 &
S=$!
PIDS="$PIDS $S"
sleep 1.5
$H idledns $ADDR 53 8 6 127.64.0.11 >"$T/idle11.out" 2>&1 &
I1=$!
PIDS="$PIDS $I1"
sleep 1
$H idledns $ADDR 53 8 6 127.64.0.12 >"$T/idle12.out" 2>&1 &
I2=$!
PIDS="$PIDS $I2"
sleep 0.5
t0=$(date +%s%N)
a=$(dig @$ADDR -b 127.64.0.13 +tcp +time=3 +tries=1 +short $LOCAL \
    2>/dev/null | head -1)
ms=$((($(date +%s%N) - t0) / 1000000))
check "slow TCP: a new client is answered at the cap ($a in $ms ms)" \
    [ "$a" = 10.96.0.1 ]
wait_exit $I1 20 || true
wait_exit $I2 20 || true
wait_exit $S 30 || true
read -r _ acc _ ref _ closed _ life <"$T/slowdns.out" ||
    { acc=0; ref=0; closed=0; life=99; }
echo "slow TCP: $(cat "$T/slowdns.out"); idle from .11: $(cat "$T/idle11.out")," \
    "from .12: $(cat "$T/idle12.out")"
check "slow TCP: one address holds 8 connections ($acc kept, $ref refused)" \
    sh -c "[ '$acc' = 8 ] && [ '$ref' = 22 ]"
check "slow TCP: each closed within the read deadline ($closed closed, longest ${life} s < 9 s)" \
    sh -c "[ '$closed' = 8 ] && awk 'BEGIN { exit !($life < 9) }'"
read -r _ open11 <"$T/idle11.out" || open11=8
check "slow TCP: the oldest idle connections made room ($open11 of 8 from .11 left)" \
    [ "$open11" -lt 8 ]
check "slow TCP: the daemon still answers" [ "$(q $LOCAL +tcp)" = 10.96.0.1 ]

# ---- 4. garbage on a DNS stream closes it at once -------------------------
for kind in response short junk; do
	read -r _ secs _ got < <($H garbage $ADDR 53 $kind 2>/dev/null ||
	    echo "closed 9 answered 0")
	check "garbage ($kind): closed at once (${secs} s, $got bytes back)" \
	    awk "BEGIN { exit !($secs < 2) }"
done
check "garbage: a FORMERR for the junk message before the close" \
    [ "$got" -gt 0 ]
kill -TERM $P
wait_exit $P || true

summary
