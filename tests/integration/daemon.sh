#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidnsd as a daemon, the way it runs without -f: it forks, the command
# returns once the server answers (or fails with the start-up's exit code
# and reason), and the process left behind runs several worker threads.
# Its control socket answers, and is removed when it stops.
# Checked: every query answered over UDP and TCP by 3 workers, the worker
# threads and the PID file, SIGHUP reloads (a changed zone is served), a
# start-up failure reported by the command itself, and SIGTERM stops it
# and removes the PID file.
#
# Binaries: MINIDNSD, else ./minidnsd.  The harness is
# tests/integration/lib.sh.  Runs in a private network and PID namespace
# on 127.61.0.0/16; processes are stopped by saved PID, every wait is
# bounded.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start daemon "$@"

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
ADDR=127.61.0.1

md_it_need dig
md_it_built "$MINIDNSD"

cp "$srcdir/zones/cluster.local.zone" "$T/cluster.local.zone"
cat >"$T/minidnsd.yaml" <<EOF
listen: [ "$ADDR:53" ]
threads: 3
recursion: no
zones:
  - file: $T/cluster.local.zone
pid-file: $T/minidnsd.pid
control-socket: $T/control.sock
log-file: $T/minidnsd.log
zone-check-interval: 0
metrics: "off"
health: "off"
ready: "off"
EOF

# 1. The command returns (the parent exits) once the server answers.
rc=0
timeout 20 "$MINIDNSD" -c "$T/minidnsd.yaml" >"$T/start.out" 2>&1 || rc=$?
check "the command returns 0 once the daemon serves (rc $rc)" [ "$rc" = 0 ]
P=$(cat "$T/minidnsd.pid" 2>/dev/null || echo 0)
PIDS="$PIDS $P"
check "the PID file names the running daemon ($P)" running "$P"
check "the daemon is not the command's process: its parent exited" \
    [ "$P" != 0 ]

# 2. Several workers answer everything, at once (no wait after start).
ok=0
for i in $(seq 60); do
	a=$(dig @$ADDR +short +time=2 +tries=1 web.shop.svc.cluster.local A)
	[ "$a" = 10.96.12.7 ] && ok=$((ok + 1))
done
check "60 of 60 UDP queries answered right ($ok)" [ "$ok" = 60 ]
ok=0
for i in $(seq 10); do
	a=$(dig @$ADDR +tcp +short +time=2 +tries=1 \
	    kubernetes.default.svc.cluster.local A)
	[ "$a" = 10.96.0.1 ] && ok=$((ok + 1))
done
check "10 of 10 TCP queries answered right ($ok)" [ "$ok" = 10 ]
threads=$(cat /proc/"$P"/task/*/comm 2>/dev/null | grep -c '^md-worker-' ||
    true)
check "3 worker threads run in the daemon ($threads)" [ "$threads" = 3 ]
# Each worker has its own UDP and TCP socket on the address.
socks=$(ls -l /proc/"$P"/fd 2>/dev/null | grep -c socket || true)
check "the daemon holds its sockets (UDP and TCP per worker: $socks)" \
    [ "$socks" -ge 6 ]

# 3. SIGHUP reloads: a new record in the zone is served.
printf 'added\t\t5 IN A\t10.96.99.9\n' >>"$T/cluster.local.zone"
kill -HUP "$P"
check "after SIGHUP the new record is answered" poll 10 sh -c \
    "[ \"\$(dig @$ADDR +short +time=1 +tries=1 added.cluster.local A)\" = 10.96.99.9 ]"
check "the log says the reload was done" grep -q "reload done" \
    "$T/minidnsd.log"
ok=0
for i in $(seq 20); do
	a=$(dig @$ADDR +short +time=2 +tries=1 added.cluster.local A)
	[ "$a" = 10.96.99.9 ] && ok=$((ok + 1))
done
check "every worker serves the reloaded zone (20 of 20: $ok)" [ "$ok" = 20 ]

# 4. A failing start is reported by the command, with the exit code of a
#    foreground run (3: cannot listen), and leaves nothing running.
sed "s/$ADDR:53/192.0.2.1:53/; s#pid-file: .*#pid-file: $T/bad.pid#; /log-file/d; /control-socket/d" \
    "$T/minidnsd.yaml" >"$T/bad.yaml"
rc=0
timeout 20 "$MINIDNSD" -c "$T/bad.yaml" >"$T/bad.out" 2>&1 || rc=$?
check "a start that cannot listen exits 3 ($rc)" [ "$rc" = 3 ]
check "... and says why on the terminal" grep -q "cannot listen on 192.0.2.1:53" \
    "$T/bad.out"
check "... and no daemon stays behind" [ ! -s "$T/bad.pid" ]

check "the control socket answers the daemon" [ -S "$T/control.sock" ]
# 5. SIGTERM stops it (all workers), and the PID file and socket go.
kill -TERM "$P"
if wait_exit "$P" 10; then
	pass "SIGTERM stops the daemon"
else
	fail "SIGTERM stops the daemon" "$T/minidnsd.log"
fi
check "the PID file is removed" [ ! -e "$T/minidnsd.pid" ]
check "the control socket is removed" [ ! -e "$T/control.sock" ]
check "the log says it stopped" grep -q "stopped" "$T/minidnsd.log"

summary
