#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Forwarding patience (issue 13): a single upstream that takes 1.5 s or
# 2.5 s to answer (a resolver behind us doing a cold resolution) is
# waited for.  minidnsd asks again with a doubling timeout while its
# earlier queries stay open, so the slow reply to the first one is taken:
# dig gets NOERROR and the address, as it does through a real Unbound
# configured the same way beside it (answers compared).  An upstream that
# never answers gives SERVFAIL with EDE 22 (No Reachable Authority) once
# resolve-timeout (default 5 s) is spent, not before, and not much after.
#
# Peers on 127.57.x.y in a private network namespace: badupstream.py slow
# (--delay 1.5 and 2.5), hierarchy/blackhole.py (silent), Unbound.
# Output: PASS/FAIL lines and "N passed, N failed"; exit 77 (skip) when not
# root or a peer is missing.  Every process is stopped by PID (lib.sh),
# every wait is bounded.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start patience "$@"
PATH=$PATH:/usr/sbin

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
MINIDIG=${MINIDIG:-$PWD/minidig}
md_it_need unbound dig kdig python3
md_it_built "$MINIDNSD"

# ---- the upstreams --------------------------------------------------------
python3 "$here/badupstream.py" slow 127.57.0.1 53 --delay 1.5 \
    --answer 192.0.2.15 --lifetime 120 >"$T/slow15.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$here/badupstream.py" slow 127.57.0.2 53 --delay 2.5 \
    --answer 192.0.2.25 --lifetime 120 >"$T/slow25.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$here/hierarchy/blackhole.py" 127.57.0.3 53 --lifetime 120 \
    >"$T/dead.log" 2>&1 &
PIDS="$PIDS $!"
for a in 127.57.0.1 127.57.0.2 127.57.0.3; do
	poll 5 sh -c "ss -Hlun src $a:53 | grep -q ."
done

# ---- minidnsd and Unbound, each forwarding the three zones --------------
printf '. 3600 NS r.test.\nr.test. 3600 A 127.57.9.9\n' >"$T/hints"
cat >"$T/md.yaml" <<YAML
listen: 127.57.1.1
threads: 1
root-hints: $T/hints
allow-private-upstreams: yes
log-trace: [ test. ]
zones: []
forward:
  - zone: slow15.test
    servers: [ 127.57.0.1 ]
  - zone: slow25.test
    servers: [ 127.57.0.2 ]
  - zone: dead.test
    servers: [ 127.57.0.3 ]
YAML
"$MINIDNSD" -f -c "$T/md.yaml" >"$T/md.log" 2>&1 &
MD=$!
PIDS="$PIDS $MD"

md_it_unbound_conf "$T/ub.conf" ub
cat >>"$T/ub.conf" <<CONF
	interface: 127.57.2.1
	do-not-query-localhost: no
	local-zone: "test." nodefault
	# Unbound drops a client's answer after 1.9 s by default (its client
	# gave up, it assumes); dig here waits, so let it answer.
	discard-timeout: 0
forward-zone:
	name: "slow15.test"
	forward-addr: 127.57.0.1
forward-zone:
	name: "slow25.test"
	forward-addr: 127.57.0.2
forward-zone:
	name: "dead.test"
	forward-addr: 127.57.0.3
CONF
unbound -d -c "$T/ub.conf" >"$T/ub.out" 2>&1 &
PIDS="$PIDS $!"

poll 10 sh -c "ss -Hlun src 127.57.1.1:53 | grep -q ." || {
	cat "$T/md.log"
	fail "minidnsd did not start"
	summary
}
poll 10 sh -c "ss -Hlun src 127.57.2.1:53 | grep -q ." || {
	cat "$T/ub.out" "$T/ub.log" 2>/dev/null || true
	fail "unbound did not start"
	summary
}

# ask SERVER NAME OUT: dig, waiting long enough for either server, with
# the seconds it took in OUT.secs.
ask() {
	local s0=$SECONDS
	dig @"$1" +time=12 +tries=1 "$2" A >"$3" 2>&1 || true
	echo $((SECONDS - s0)) >"$3.secs"
}
# answer FILE: "RCODE ADDRESS..." of a dig output.
answer() {
	local rc
	rc=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' "$1")
	echo "$rc $(awk '$4 == "A" { print $5 }' "$1" | sort | tr '\n' ' ')"
}

# The questions to both servers at once (each on a name of its own: the
# answers are cached).
jobs_pids=""
for s in 15 25; do
	ask 127.57.1.1 md.slow$s.test "$T/md$s" &
	jobs_pids="$jobs_pids $!"
	ask 127.57.2.1 ub.slow$s.test "$T/ub$s" &
	jobs_pids="$jobs_pids $!"
done
ask 127.57.1.1 www.dead.test "$T/mddead" &
jobs_pids="$jobs_pids $!"
for p in $jobs_pids; do
	wait "$p" || true
done

for s in 15 25; do
	want="NOERROR 192.0.2.$s "
	md=$(answer "$T/md$s")
	ub=$(answer "$T/ub$s")
	check_log "upstream answering after ${s:0:1}.${s:1} s: minidnsd NOERROR with its address ($md)" \
	    "$T/md$s" test "$md" = "$want"
	check_log "upstream answering after ${s:0:1}.${s:1} s: Unbound beside it answers the same ($ub)" \
	    "$T/ub$s" test "$ub" = "$md"
done
check_log "the late reply taken is the first query's (trace)" "$T/md.log" \
    grep -q "reply .*md.slow25.test.*late, to the first query" "$T/md.log"
check_log "while waiting, minidnsd asked again with the first query open" \
    "$T/md.log" grep -q "timeout md.slow25.test.*the first query stays open" \
    "$T/md.log"

secs=$(cat "$T/mddead.secs")
check_log "dead upstream: SERVFAIL with EDE 22 (No Reachable Authority)" \
    "$T/mddead" sh -c "grep -q 'status: SERVFAIL' '$T/mddead' &&
	grep -q 'EDE: 22 (No Reachable Authority)' '$T/mddead'"
# resolve-timeout is 5 s: not given up before it (4 s allows for dig's
# whole seconds), and at most 3 s after it on a loaded box.
check "dead upstream: the failure after the 5 s budget, not long after (${secs}s)" \
    test "$secs" -ge 4 -a "$secs" -le 8
# kdig reads the same EDE.
kdig @127.57.1.1 +edns +timeout=12 +retry=0 other.dead.test A >"$T/kdead" 2>&1 || true
check_log "dead upstream: kdig sees EDE 22 too" "$T/kdead" \
    grep -qE "EDE: 22 \(No Reachable Authority\)" "$T/kdead"

summary
