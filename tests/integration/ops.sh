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
#    The second process says in its log that it takes over the first
#    one's addresses, naming its pid.
#  - --user nobody: the process runs as that user once bound (/proc);
#    its control socket is nobody's (0660), nobody and root may use it,
#    and it is removed at SIGTERM.
#  - recursion open to every address is refused unless
#    allow-open-resolver: yes.
#  - minidnsd -t refuses what the start refuses, with the same message
#    and exit code (1), naming FILE:LINE or the flag: TLS listeners
#    without certificate, unreadable certificate, a key of another
#    certificate, unknown user or group, the control socket's folder
#    missing or not writable by --user, auto-ptr outside a reverse zone,
#    a kubeconfig that cannot be read.
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
CTL=${MINIDNS_CONTROL:-$PWD/minidns-control}
md_it_need setpriv
md_it_built "$MINIDNSD" "$CTL"


ZONE=$top/zones/cluster.local.zone
ADDR=127.63.0.1
# /metrics on too: the next process binds the same port while the old one
# drains (SO_REUSEPORT, as a DaemonSet's surge pod on the host network).
args="-f --no-recursion --listen $ADDR --zone $ZONE --metrics $ADDR:9153 --health off --ready off"

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
check_log "restart: the new process names the takeover and the old pid" \
    "$T/b.log" grep -q "another process already serves $ADDR:53 (UDP and TCP, pid $A); this one takes new queries" "$T/b.log"
check_log "restart: the new process took /metrics on the same port" "$T/b.log" \
    python3 -c "
import urllib.request, sys
r = urllib.request.urlopen('http://$ADDR:9153/metrics', timeout=3)
sys.exit(0 if b'minidns_build_info' in r.read() else 1)"
check_log "restart: the first process, alone, warned of nothing" "$T/a.log" \
    sh -c "! grep -q 'another process' '$T/a.log'"
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
# While the old process ran, the new one steered every datagram to its own
# workers at random; with the old sockets gone, it steers by CPU again
# (udp-steering: cpu): 30 digs from CPU 0 all reach one of its workers.
poll 10 grep -q "UDP steered by CPU again" "$T/b.log" || true
workers_busy() {
	python3 -c 'import sys, urllib.request
m = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
print(" ".join(l.split()[-1] for l in m.splitlines()
               if l.startswith("minidns_worker_requests_total{")))' \
	    "http://$ADDR:9153/metrics"
}
before=$(workers_busy 2>/dev/null || true)
for i in $(seq 30); do
	taskset -c 0 dig @$ADDR +time=2 +tries=1 +short \
	    kubernetes.default.svc.cluster.local >/dev/null 2>&1 || true
done
after=$(workers_busy 2>/dev/null || true)
moved=$(python3 -c 'import sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
print(" ".join("%d" % (y - x) for x, y in zip(a, b)) if len(a) == len(b) else "?")' \
    "$before" "$after" 2>/dev/null || echo "?")
check_log "restart: the old process gone, UDP steered by CPU again: 30 digs on CPU 0 reach one worker (per worker: $moved)" \
    "$T/b.log" sh -c "grep -q 'UDP steered by CPU again' '$T/b.log' &&
	echo ' $moved ' | grep -Eq '^( 0)* 30( 0)* \$'"
kill -TERM "$B"
wait_exit "$B" || true

# ---- privilege drop ---------------------------------------------------
cp "$ZONE" "$T/cl.zone"
chmod 644 "$T/cl.zone"
mkdir "$T/run"
chown nobody "$T/run"
"$MINIDNSD" -f --no-recursion --listen 127.63.0.2 --zone "$T/cl.zone" \
    --metrics off --health off --ready off --user nobody \
    --control-socket "$T/run/control.sock" >"$T/u.log" 2>&1 &
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
nogroup=$(id -gn nobody)
check_log "user: the control socket is nobody's, mode 0660" "$T/u.log" \
    test "$(stat -c '%U:%G %a' "$T/run/control.sock")" = "nobody:$nogroup 660"
check_log "user: nobody may use the control socket" "$T/u.log" \
    sh -c "setpriv --reuid nobody --regid $nogroup --clear-groups \
	'$CTL' -s '$T/run/control.sock' -t 5 status | grep -q '^reloads: '"
check_log "user: root may use the control socket" "$T/u.log" \
    sh -c "'$CTL' -s '$T/run/control.sock' -t 5 status | grep -q '^reloads: '"
check_log "user: another user may not" "$T/u.log" \
    sh -c "! setpriv --reuid daemon --regid daemon --clear-groups \
	'$CTL' -s '$T/run/control.sock' -t 5 status"
kill -TERM "$U"
wait_exit "$U" || true
check_log "user: SIGTERM removes the control socket" "$T/u.log" \
    test ! -e "$T/run/control.sock"

# ---- -t checks what the start checks ----------------------------------------
# refused NAME WANT ARGS...: "minidnsd -t ARGS" and a real start with ARGS
# both exit 1 and print the same "minidnsd: ..." line, which contains WANT.
refused() {
	local name=$1 want=$2 rct=0 rcs=0
	shift 2
	timeout 20 "$MINIDNSD" -t "$@" >"$T/t.out" 2>&1 || rct=$?
	timeout 20 "$MINIDNSD" -f --metrics off --health off --ready off \
	    "$@" >"$T/s.out" 2>&1 || rcs=$?
	if [ "$rct" = 1 ] && [ "$rcs" = 1 ] &&
	    grep -qF -- "$want" "$T/t.out" &&
	    [ "$(grep '^minidnsd: ' "$T/t.out")" = "$(grep '^minidnsd: ' "$T/s.out")" ]; then
		pass "-t and start refuse: $name"
	else
		{ echo "-t: exit $rct"; cat "$T/t.out";
		  echo "start: exit $rcs"; cat "$T/s.out"; } >"$T/refused.out"
		fail "-t and start refuse: $name (want: $want)" "$T/refused.out"
	fi
}
TLS=$top/tests/unit/data/tls
base="--no-recursion --listen 127.63.0.4 --zone $ZONE"
printf 'listen: [ "127.63.0.4" ]\nrecursion: no\ntls-listen: 127.63.0.4:853\n' \
    >"$T/tls1.yaml"
# shellcheck disable=SC2086
refused "tls-listen without certificate" \
    "$T/tls1.yaml:3: tls-listen: needs tls-cert and tls-key" -c "$T/tls1.yaml"
# shellcheck disable=SC2086
refused "an unreadable certificate" \
    "--tls-cert: $T/none.pem: cannot read: No such file or directory" \
    -c "$T/tls1.yaml" --tls-cert "$T/none.pem" --tls-key "$TLS/dns.test.key"
printf 'tls-cert: %s\ntls-key: %s\n' "$TLS/dns.test.pem" \
    "$TLS/other.test.key" >>"$T/tls1.yaml"
refused "a key of another certificate" \
    "$T/tls1.yaml:5: tls-key: $TLS/other.test.key does not match the certificate $TLS/dns.test.pem" \
    -c "$T/tls1.yaml"
# shellcheck disable=SC2086
refused "an unknown user" "--user: user 'no-such-user-here' does not exist" \
    $base --user no-such-user-here
printf 'listen: [ "127.63.0.4" ]\nrecursion: no\nuser: "nobody:no-such-group"\n' \
    >"$T/grp.yaml"
refused "an unknown group" \
    "$T/grp.yaml:3: user: group 'no-such-group' does not exist" -c "$T/grp.yaml"
# shellcheck disable=SC2086
refused "a missing control socket folder" \
    "--control-socket: $T/nodir/c.sock: folder $T/nodir: No such file" \
    $base --control-socket "$T/nodir/c.sock"
mkdir "$T/rootonly"
chmod 755 "$T/rootonly"
# shellcheck disable=SC2086
refused "a control socket folder --user cannot write" \
    "folder $T/rootonly is not writable by uid $(id -u nobody)" \
    $base --user nobody --control-socket "$T/rootonly/c.sock"
printf '$ORIGIN example.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' \
    >"$T/ex.zone"
printf 'listen: [ "127.63.0.4" ]\nrecursion: no\nzones:\n  - file: ex.zone\n    auto-ptr: yes\n' \
    >"$T/ptr.yaml"
printf 'listen: [ "127.63.0.4" ]\nrecursion: no\nkubernetes:\n  zones: [ cluster.local ]\n  kubeconfig: /nonexistent/kubeconfig\n' \
    >"$T/k8s.yaml"
refused "a kubeconfig that cannot be read" \
    "$T/k8s.yaml:3: kubernetes: /nonexistent/kubeconfig:" -c "$T/k8s.yaml"
refused "auto-ptr outside in-addr.arpa and ip6.arpa" \
    "$T/ptr.yaml:4: auto-ptr: zone example.test. is not under in-addr.arpa or ip6.arpa" \
    -c "$T/ptr.yaml"

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
