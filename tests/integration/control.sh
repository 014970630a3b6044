#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The control socket end to end: minidnsd with --control-socket, driven by
# minidns-control.  A first minidnsd (no recursion, a copy of
# zones/cluster.local.zone) for status, stats, reload (good and broken
# zone), set-loglevel, flush, nta and the permission checks; a second one on the
# test hierarchy (hierarchy/hierarchy.sh, NSD) for dump-cache and trace.
#
# Binaries: MINIDNSD and MINIDNS_CONTROL, else ./minidnsd and
# ./minidns-control in the current directory.  The harness is
# tests/integration/lib.sh.  Output: PASS:/FAIL: lines and "N passed, N
# failed"; exit 1 on any failure, 77 (skip) when not root or without
# network namespaces, 99 when a binary is not built.  Everything runs in a
# private network namespace (and PID namespace when possible) on
# 127.59.0.0/16 and 127.53.0.0/16; processes are stopped by saved PID,
# every wait is bounded, the temporary directory is removed.
set -eu

. "$(dirname "$0")/lib.sh"
# a PID namespace too: whatever is left (NSD included) ends with the script
md_it_pidns=yes
md_it_start ctl "$@"
chmod 755 "$T"

H=$here/hierarchy
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
CTL=${MINIDNS_CONTROL:-$PWD/minidns-control}
ADDR1=127.59.0.1
ADDR2=127.53.9.3
PATH=$PATH:/usr/sbin

md_it_need dig setpriv
md_it_built "$MINIDNSD" "$CTL"

HIER=0

# shellcheck disable=SC2317 # invoked by lib.sh's EXIT trap
md_it_cleanup_hook() {
	[ "$HIER" = 0 ] || "$H/hierarchy.sh" stop "$T/h" || true
}

# wait_up NAME PID ADDR PROBE SOCKET: bounded (10 s) until the server
# answers PROBE on ADDR and its control socket exists.
wait_up() {
	local end=$((SECONDS + 10))
	while [ $SECONDS -le $end ] && running "$2"; do
		if [ -S "$5" ] && dig @"$3" +time=1 +tries=1 "$4" A \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "ERROR: $1 did not come up"
	tail -n 20 "$T/$1.log" 2>/dev/null || true
	return 1
}

# ctl SOCKET ARGS...: run minidns-control; stdout in $T/out, stderr in
# $T/err, exit code in $rc.
ctl() {
	local sock=$1
	shift
	rc=0
	"$CTL" -s "$sock" -t 20 "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# short ADDR NAME TYPE: dig +short
short() { dig @"$1" +time=2 +tries=1 +short "$2" "$3" 2>/dev/null || true; }

# ---- the first server: local zones ---------------------------------------
S1=$T/ctl.sock
cp "$srcdir/zones/cluster.local.zone" "$T/cluster.local.zone"
"$MINIDNSD" -f --no-recursion --listen "$ADDR1" --control-socket "$S1" \
    --zone "$T/cluster.local.zone" >"$T/d1.log" 2>&1 &
PID1=$!
PIDS="$PIDS $PID1"
if ! wait_up d1 "$PID1" "$ADDR1" kubernetes.default.svc.cluster.local. "$S1"
then
	fail "minidnsd with --control-socket" "did not start"
	summary
fi

mode=$(stat -c %a "$S1")
if [ "$mode" = 660 ] && [ -S "$S1" ]; then
	pass "socket mode 0660"
else
	fail "socket mode 0660" "mode $mode"
fi

ctl "$S1" status
if [ $rc = 0 ] && grep -qi 'cluster.local' "$T/out" &&
    grep -Eqi 'up(time)?:? [0-9]' "$T/out"; then
	pass "status (zones, uptime)"
else
	fail "status" "rc $rc: $(head -c 300 "$T/out" "$T/err" | tr '\n' '|')"
fi

dig @"$ADDR1" +time=2 +tries=1 web.shop.svc.cluster.local. A >/dev/null 2>&1 || true
ctl "$S1" stats
if [ $rc = 0 ] && grep -q '^minidns_' "$T/out" &&
    grep -q '^# TYPE minidns_' "$T/out"; then
	pass "stats (Prometheus text)"
else
	fail "stats" "rc $rc: $(head -c 300 "$T/err")"
fi

# reload: a new record is served
sed -i 's/2026112701 ; serial/2026112702 ; serial/' "$T/cluster.local.zone"
echo 'newrec.shop.svc 5 IN A 10.96.99.99' >>"$T/cluster.local.zone"
ctl "$S1" reload
got=$(short "$ADDR1" newrec.shop.svc.cluster.local. A)
if [ $rc = 0 ] && [ "$got" = 10.96.99.99 ]; then
	pass "reload serves the new record"
else
	fail "reload" "rc $rc, answer '$got': $(head -c 300 "$T/err")"
fi

# reload of a broken zone: ERROR file:line, old data kept
cp "$T/cluster.local.zone" "$T/good.zone"
echo 'broken.shop.svc 5 IN A not-an-address' >>"$T/cluster.local.zone"
bad_line=$(wc -l <"$T/cluster.local.zone")
ctl "$S1" reload
got=$(short "$ADDR1" newrec.shop.svc.cluster.local. A)
if [ $rc = 1 ] && grep -q "^ERROR: .*cluster.local.zone:$bad_line" "$T/err" &&
    [ "$got" = 10.96.99.99 ]; then
	pass "reload of a broken zone: ERROR file:line, old data served"
else
	fail "broken reload" "rc $rc, answer '$got', err: $(head -c 300 "$T/err")"
fi
cp "$T/good.zone" "$T/cluster.local.zone"

# set-loglevel debug: a query shows in the log
ctl "$S1" set-loglevel debug
before=$(wc -l <"$T/d1.log")
dig @"$ADDR1" +time=2 +tries=1 db.shop.svc.cluster.local. A >/dev/null 2>&1 || true
sleep 0.3
if [ $rc = 0 ] && tail -n +"$((before + 1))" "$T/d1.log" |
    grep -qi 'db.shop.svc.cluster.local'; then
	pass "set-loglevel debug shows queries"
else
	fail "set-loglevel debug" "rc $rc: $(head -c 300 "$T/err")"
fi
ctl "$S1" set-loglevel nonsense
if [ $rc = 1 ] && grep -q '^ERROR' "$T/err"; then
	pass "set-loglevel with a bad level: ERROR"
else
	fail "set-loglevel nonsense" "rc $rc"
fi
ctl "$S1" set-loglevel info

for args in "flush" "flush web.shop.svc.cluster.local." \
    "flush zone cluster.local."; do
	# shellcheck disable=SC2086
	ctl "$S1" $args
	if [ $rc = 0 ]; then
		pass "$args"
	else
		fail "$args" "rc $rc: $(head -c 300 "$T/err")"
	fi
done
ctl "$S1" flush zone cluster.local
if [ $rc = 1 ] && grep -q "^ERROR: .*'\.'" "$T/err"; then
	pass "flush zone without the final dot: ERROR"
else
	fail "flush zone without dot" "rc $rc: $(head -c 200 "$T/err")"
fi
# negative trust anchors: added with and without a lifetime, listed,
# counted in the metrics, removed; mistakes are errors
ctl "$S1" nta list
if [ $rc = 0 ] && grep -q '^0 negative trust anchors' "$T/out"; then
	pass "nta list: none at start"
else
	fail "nta list (empty)" "rc $rc: $(head -c 300 "$T/out" "$T/err")"
fi
ctl "$S1" nta add Broken.Example. 300
r1=$rc
ctl "$S1" nta add forever.example
r2=$rc
ctl "$S1" nta list
if [ $r1 = 0 ] && [ $r2 = 0 ] && [ $rc = 0 ] &&
    grep -Eq '^broken\.example\.[[:space:]]+(300|299)s left' "$T/out" &&
    grep -Eq '^forever\.example\.[[:space:]]+until removed' "$T/out" &&
    grep -q '^2 negative trust anchors' "$T/out"; then
	pass "nta add NAME SECONDS, nta add NAME: both listed"
else
	fail "nta add/list" "rc $r1/$r2/$rc: $(tr '\n' '|' <"$T/out")"
fi
ctl "$S1" stats
if [ $rc = 0 ] &&
    grep -q '^minidns_dnssec_negative_trust_anchors 2$' "$T/out" &&
    grep -q '^minidns_dnssec_answers_total{state="bogus"} 0$' "$T/out"
then
	pass "stats: minidns_dnssec_negative_trust_anchors 2, answers by state"
else
	fail "nta metrics" "rc $rc: $(grep dnssec "$T/out" | tr '\n' '|')"
fi
ctl "$S1" nta remove broken.example.
r1=$rc
ctl "$S1" nta remove broken.example.
if [ $r1 = 0 ] && [ $rc = 1 ] &&
    grep -q '^ERROR: broken.example. is not a negative trust anchor' \
    "$T/err"; then
	pass "nta remove: removed, then an error the second time"
else
	fail "nta remove" "rc $r1/$rc: $(head -c 300 "$T/err")"
fi
for args in "nta add x.example. soon" "nta add x.example. 0" "nta" \
    "nta add" "nta remove" "nta drop x.example." "nta list x"; do
	# shellcheck disable=SC2086
	ctl "$S1" $args
	if [ $rc = 1 ] && grep -q '^ERROR' "$T/err"; then
		pass "$args: ERROR"
	else
		fail "$args" "rc $rc: $(head -c 300 "$T/out" "$T/err")"
	fi
done
ctl "$S1" nta list
if [ $rc = 0 ] && grep -q '^1 negative trust anchor$' "$T/out" &&
    ! grep -q '^x\.example' "$T/out"; then
	pass "nta list after the errors: forever.example. alone"
else
	fail "nta list after errors" "$(tr '\n' '|' <"$T/out")"
fi
if ! grep -q 'DNSSEC validation is off' "$T/d1.log"; then
	pass "built-in root hints: no 'validation is off' notice"
else
	fail "notice on S1" "$(grep DNSSEC "$T/d1.log")"
fi

ctl "$S1" no-such-command
if [ $rc = 1 ] && grep -q '^ERROR: unknown command' "$T/err"; then
	pass "unknown command: ERROR, exit 1"
else
	fail "unknown command" "rc $rc"
fi

# permissions: nobody is refused (at connect, by mode 0660, or by the
# daemon's SO_PEERCRED check: exit 2 or 1, never 0)
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$S1" -t 5 \
    status >"$T/out" 2>"$T/err" || rc=$?
if { [ $rc = 2 ] && grep -q "cannot connect to $S1: Permission denied" \
    "$T/err"; } || { [ $rc = 1 ] && grep -q 'permission denied' "$T/err"; }
then
	pass "nobody refused by the socket mode (exit $rc)"
else
	fail "nobody refused" "rc $rc: $(cat "$T/err")"
fi
# even with a wide-open file mode the daemon refuses the peer
chmod 666 "$S1"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$S1" -t 5 \
    status >"$T/out" 2>"$T/err" || rc=$?
chmod 660 "$S1"
if [ $rc = 1 ] && grep -q '^ERROR: permission denied' "$T/err" &&
    [ ! -s "$T/out" ]; then
	pass "nobody refused by SO_PEERCRED (exit 1, permission denied)"
else
	fail "SO_PEERCRED check" "rc $rc: $(cat "$T/err")"
fi

rc=0
"$CTL" -s "$T/none.sock" status >"$T/out" 2>"$T/err" || rc=$?
if [ $rc = 2 ] && grep -q "cannot connect to $T/none.sock" "$T/err"; then
	pass "no socket: exit 2, cannot connect"
else
	fail "no socket" "rc $rc: $(cat "$T/err")"
fi

# ---- the second server: recursion on the test hierarchy -----------------
if ! command -v nsd >/dev/null; then
	echo "SKIP: nsd is not installed: no dump-cache/trace checks"
	summary
fi
mkdir "$T/h"
HIER=1
if ! "$H/hierarchy.sh" start "$T/h"; then
	fail "hierarchy" "NSD servers did not start"
	summary
fi
S2=$T/ctl2.sock
# a local zone beside recursion: a name of its own, a CNAME leading out
cat >"$T/corp.test.zone" <<'ZONE'
$ORIGIN corp.test.
$TTL 3600
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 10.9.0.53
host	IN A 10.9.0.1
ext	IN CNAME web.example.org.
ZONE
"$MINIDNSD" -f --listen "$ADDR2" --control-socket "$S2" \
    --root-hints "$H/root.hints" --allow-private-upstreams \
    --zone "$T/corp.test.zone" \
    >"$T/d2.log" 2>&1 &
PID2=$!
PIDS="$PIDS $PID2"
if ! wait_up d2 "$PID2" "$ADDR2" localhost. "$S2"; then
	fail "recursive minidnsd with --control-socket" "did not start"
	summary
fi

got=$(short "$ADDR2" www.example.com. A)
ctl "$S2" dump-cache
if [ $rc = 0 ] && [ -n "$got" ] &&
    grep -Eiq '^www\.example\.com\.[[:space:]]+[0-9]+[[:space:]]+(IN[[:space:]]+)?CNAME' \
    "$T/out"; then
	pass "dump-cache lists www.example.com. with its TTL"
else
	fail "dump-cache" "rc $rc, answer '$got': $(head -c 300 "$T/out" "$T/err" | tr '\n' '|')"
fi

# From an empty cache, so the walk starts with referrals from the root.
ctl "$S2" flush
ctl "$S2" trace www.example.org A
cp "$T/out" "$T/trace1"
if [ $rc = 0 ] && grep -qi 'send' "$T/trace1" &&
    grep -qi 'referral' "$T/trace1" && grep -qi 'done' "$T/trace1"; then
	pass "trace www.example.org A (send, referral, done)"
else
	fail "trace" "rc $rc: $(head -c 2000 "$T/out" "$T/err" | tr '\n' '|')"
fi
ctl "$S2" trace www.example.org A
if [ $rc = 0 ] && grep -qi 'cache' "$T/out" &&
    ! grep -qi 'referral' "$T/out"; then
	pass "second trace: a cache hit"
else
	fail "second trace" "rc $rc: $(head -c 400 "$T/out" "$T/err" | tr '\n' '|')"
fi

# A failed question is cached (servfail-ttl, RFC 9520): a client's retry
# gets SERVFAIL from the cache at once, but the operator's trace walks
# again, so it shows why it fails (here: the server, after its timeouts,
# is held down).  silent.com.'s one server never answers.
dig @"$ADDR2" +time=10 +tries=1 www.silent.com A >"$T/sf1" 2>&1 || true
dig @"$ADDR2" +time=2 +tries=1 www.silent.com A >"$T/sf2" 2>&1 || true
if grep -q 'status: SERVFAIL' "$T/sf1" && grep -q 'status: SERVFAIL' "$T/sf2" &&
    grep -q 'cached failure' "$T/sf2"; then
	pass "a failed question is answered SERVFAIL from the cache (servfail-ttl)"
else
	fail "cached failure" "$(grep -h -E 'status|EDE' "$T/sf1" "$T/sf2" | tr '\n' '|')"
fi
ctl "$S2" trace www.silent.com A
if [ $rc = 0 ] && grep -Eq 'send|held down' "$T/out" &&
    ! grep -q 'cache-hit.*failure' "$T/out" &&
    grep -q 'result: SERVFAIL' "$T/out"; then
	pass "trace of a question that failed: the walk again, not the cached failure"
else
	fail "trace www.silent.com A" "rc $rc: $(head -c 1500 "$T/out" "$T/err" | tr '\n' '|')"
fi

# A name in a local zone: what the server answers, no walk from the root.
ctl "$S2" trace host.corp.test A
if [ $rc = 0 ] && grep -q 'answered from local zone corp.test.: NOERROR' \
    "$T/out" && grep -Eq 'host\.corp\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.9\.0\.1' \
    "$T/out" && grep -q 'result: NOERROR' "$T/out" &&
    ! grep -Eqi 'send|referral' "$T/out"; then
	pass "trace of a local name: answered from local zone corp.test., no walk"
else
	fail "trace host.corp.test A" "rc $rc: $(head -c 1000 "$T/out" "$T/err" | tr '\n' '|')"
fi
ctl "$S2" trace nope.corp.test A
if [ $rc = 0 ] && grep -q 'answered from local zone corp.test.: NXDOMAIN' \
    "$T/out" && grep -q 'authority corp.test.' "$T/out" &&
    grep -q 'result: NXDOMAIN' "$T/out"; then
	pass "trace of a missing local name: NXDOMAIN from the zone, with its SOA"
else
	fail "trace nope.corp.test A" "rc $rc: $(head -c 1000 "$T/out" "$T/err" | tr '\n' '|')"
fi
# A local CNAME leading out: the local part, then the target's trace.
ctl "$S2" flush
ctl "$S2" trace ext.corp.test A
if [ $rc = 0 ] && grep -q 'answered from local zone corp.test.' "$T/out" &&
    grep -Eq 'ext\.corp\.test\..*CNAME[[:space:]]+web\.example\.org\.' "$T/out" &&
    grep -q 'leads out of the local zones: resolving web.example.org.' \
    "$T/out" && grep -qi 'referral' "$T/out" &&
    grep -q 'result: NOERROR' "$T/out"; then
	pass "trace of a local CNAME leading out: the chain, then the target's walk"
else
	fail "trace ext.corp.test A" "rc $rc: $(head -c 2000 "$T/out" "$T/err" | tr '\n' '|')"
fi
# and a client with RD gets the chain and the target's address
got=$(short "$ADDR2" ext.corp.test. A | tr '\n' ' ')
want=$(short "$ADDR2" web.example.org. A | tr '\n' ' ')
if [ -n "$want" ] && [ "$got" = "web.example.org. $want" ]; then
	pass "ext.corp.test. A: the local CNAME and web.example.org.'s address"
else
	fail "ext.corp.test. A" "got '$got', web.example.org. is '$want'"
fi
# The server without recursion: the local answer, no resolution.
ctl "$S1" trace kubernetes.default.svc.cluster.local A
if [ $rc = 0 ] && grep -q 'answered from local zone' "$T/out" &&
    grep -q 'result: NOERROR' "$T/out" && ! grep -qi 'send' "$T/out"; then
	pass "trace on the server without recursion: the local answer"
else
	fail "trace on S1" "rc $rc: $(head -c 1000 "$T/out" "$T/err" | tr '\n' '|')"
fi

ctl "$S2" flush www.example.com.
r1=$rc
ctl "$S2" dump-cache
if [ $r1 = 0 ] && [ $rc = 0 ] && ! grep -qi '^www\.example\.com\.' "$T/out"
then
	pass "flush www.example.com.: gone from dump-cache"
else
	fail "flush NAME then dump-cache" "rc $r1/$rc"
fi

# Custom root hints without a trust anchor: validation is off, said once.
if [ "$(grep -c 'DNSSEC validation is off: root-hints names a custom root' \
    "$T/d2.log")" = 1 ]; then
	pass "custom root hints, no trust anchor: one 'validation is off' line"
else
	fail "validation-off notice" "$(grep -i dnssec "$T/d2.log" | head -3)"
fi
# Adding a negative trust anchor flushes the cache at and below it.
short "$ADDR2" www.example.com. A >/dev/null
ctl "$S2" dump-cache
r1=$rc
grep -qi '^www\.example\.com\.' "$T/out" && cached=yes || cached=no
ctl "$S2" nta add example.com.
r2=$rc
ctl "$S2" dump-cache
if [ $r1 = 0 ] && [ $r2 = 0 ] && [ $cached = yes ] &&
    ! grep -Eqi '^([^[:space:]]*\.)?example\.com\.[[:space:]]' "$T/out"; then
	pass "nta add example.com.: the cache at and below it flushed"
else
	fail "nta add flush" "rc $r1/$r2, cached before: $cached"
fi

summary
