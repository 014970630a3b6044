#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Operations: a restart that loses no query, privilege drop, and safety at
# start.
#
#  - A stream of queries (UDP, and TCP on new connections) runs while a
#    second minidnsd binds the same address (SO_REUSEPORT) and the first
#    one is stopped with SIGTERM: it drains (answers what it has) and
#    exits; every query of the stream must be answered.
#  - --user nobody: the process runs as that user once bound (/proc).
#  - recursion open to every address is refused unless
#    allow-open-resolver: yes.
#
# The harness is tests/integration/lib.sh: inside a private network
# namespace; only 127.x; processes stopped by PID; bounded waits;
# PASS/FAIL lines and "N passed, N failed".
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start ops "$@"
chmod 755 "$T"
top=$srcdir
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_built "$MINIDNSD"


ZONE=$top/zones/cluster.local.zone
ADDR=127.63.0.1
args="-f --no-recursion --listen $ADDR --zone $ZONE --metrics off --health off --ready off"

# ---- a restart without a lost query ----------------------------------
# shellcheck disable=SC2086
"$MINIDNSD" $args >"$T/a.log" 2>&1 &
A=$!
PIDS="$PIDS $A"
wait_up $ADDR kubernetes.default.svc.cluster.local || {
	fail "first minidnsd did not start" "$T/a.log"
	summary
}

# The stream (stream.py): 3000 UDP queries, paced (~1 ms apart), each
# waiting up to 2 s for its answer with no retry; and 150 TCP queries,
# each on a new connection.  It prints "sent answered" per transport.
python3 "$here/stream.py" $ADDR kubernetes.default.svc.cluster.local \
    >"$T/stream.out" 2>&1 &
S=$!
PIDS="$PIDS $S"
sleep 1
# The new process binds the same address while the old one serves.
# shellcheck disable=SC2086
"$MINIDNSD" $args >"$T/b.log" 2>&1 &
B=$!
PIDS="$PIDS $B"
poll 5 grep -q "ready" "$T/b.log" || true
sleep 0.5
kill -TERM "$A"
wait_exit "$A" || true
st=${exit_rc:-timeout}
check_log "restart: the old process drained and exited 0 (status $st)" \
    "$T/a.log" sh -c "[ $st = 0 ] && grep -q 'drained' '$T/a.log'"
wait_exit "$S" 120 || true
read -r _ udp_sent udp_ok < <(grep '^udp' "$T/stream.out" || echo "udp 0 0")
read -r _ tcp_sent tcp_ok < <(grep '^tcp' "$T/stream.out" || echo "tcp 0 0")
check_log "restart: UDP stream, $udp_ok of $udp_sent answered" \
    "$T/stream.out" \
    sh -c "[ '$udp_sent' -gt 0 ] && [ '$udp_ok' = '$udp_sent' ]"
check_log "restart: TCP stream, $tcp_ok of $tcp_sent answered" \
    "$T/stream.out" \
    sh -c "[ '$tcp_sent' -gt 0 ] && [ '$tcp_ok' = '$tcp_sent' ]"
check_log "restart: the new process answers on its own" "$T/b.log" \
    sh -c "running() { kill -0 \$1; }; kill -0 $B &&
	dig @$ADDR +time=2 +tries=1 +short kubernetes.default.svc.cluster.local |
	grep -q 10.96.0.1"
kill -TERM "$B"
wait_exit "$B" || true

# ---- privilege drop ---------------------------------------------------
cp "$ZONE" "$T/cl.zone"
chmod 644 "$T/cl.zone"
"$MINIDNSD" -f --no-recursion --listen 127.63.0.2 --zone "$T/cl.zone" \
    --metrics off --health off --ready off --user nobody \
    >"$T/u.log" 2>&1 &
U=$!
PIDS="$PIDS $U"
poll 5 grep -q "running as nobody" "$T/u.log" || true
uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' /proc/$U/status)
nobody=$(id -u nobody)
check_log "user: /proc says uid $nobody for real, effective, saved, fs ($uid)" \
    "$T/u.log" test "$uid" = "$nobody $nobody $nobody $nobody"
check_log "user: still answers on port 53 after dropping root" "$T/u.log" \
    sh -c "dig @127.63.0.2 +time=2 +tries=1 +short \
	kubernetes.default.svc.cluster.local | grep -q 10.96.0.1"
kill -TERM "$U"
wait_exit "$U" || true
rc=0
timeout 20 "$MINIDNSD" -f --no-recursion --listen 127.63.0.3 --zone "$ZONE" \
    --metrics off --health off --ready off --user no-such-user-here \
    >"$T/u2.log" 2>&1 || rc=$?
check_log "user: an unknown user is an error (exit $rc)" "$T/u2.log" \
    sh -c "[ $rc = 3 ] && grep -q 'does not exist' '$T/u2.log'"

# ---- no open resolver by accident -----------------------------------------
printf 'access-control: [ 0.0.0.0/0 ]\n' >"$T/open.yaml"
rc=0
"$MINIDNSD" -t -c "$T/open.yaml" >"$T/o" 2>&1 || rc=$?
check_log "open resolver: refused without allow-open-resolver (exit $rc)" \
    "$T/o" sh -c "[ $rc = 1 ] && grep -q allow-open-resolver '$T/o'"
printf 'access-control: [ 0.0.0.0/0 ]\nallow-open-resolver: yes\n' \
    >"$T/open2.yaml"
rc=0
"$MINIDNSD" -t -c "$T/open2.yaml" >"$T/o" 2>&1 || rc=$?
check_log "open resolver: allowed when asked for" "$T/o" test $rc = 0

summary
