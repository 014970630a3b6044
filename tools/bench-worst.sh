#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Benchmark of the worst question (a benchmark, not a test: it reports
# numbers and asserts nothing about time): what one client question costs
# minidnsd when the hierarchy is hostile, beside Unbound on the same
# questions.  tools/bench_worst_server.py is the root, every TLD and every
# zone, and delegates each zone to 300 unreachable name servers, with
# glue (MODE blackhole) or without (MODE glueless: their addresses lead to
# 300 more).  QUESTIONS (default 50) clients ask, one after another, for a
# name in a zone not seen before, so no question is helped by the cache.
#
# Reported per resolver and mode: CPU per question (the process's
# utime+stime from /proc, divided by the questions), upstream queries per
# question (minidnsd's /metrics), the peak resident memory (VmHWM) and the
# slowest answer.  Unbound runs with the same CPU and its defaults,
# except do-not-query-localhost: no.
#
# Usage: sudo tools/bench-worst.sh [MINIDNSD]   (from the build directory;
# default ./minidnsd).  Re-executes itself inside 'unshare -n' (needs
# root); only 127.x addresses; every process stopped by saved PID; every
# wait bounded; temporary files removed at exit.  About 2 minutes.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-lib.sh"
md_bench_netns bench-worst.sh "$@"
md_bench_tmp bench-worst 2

MINIDNSD=${1:-$(pwd)/minidnsd}
[ -x "$MINIDNSD" ] || die "$MINIDNSD: not an executable minidnsd"
for tool in python3 dig unbound; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
QUESTIONS=${QUESTIONS:-50}
HOSTILE=127.61.0.1
MD=127.61.9.1
UB=127.61.9.2
METRICS=127.61.9.1:9153

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# minidnsd's upstream queries so far, summed over its /metrics series
upstream_queries() {
	python3 -c "
import urllib.request
t = urllib.request.urlopen('http://$METRICS/metrics', timeout=5).read()
print(int(sum(float(l.split()[-1]) for l in t.decode().splitlines()
              if l.startswith('minidns_upstream_queries_total'))))"
}
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

printf '. 3600000 IN NS ns.root.\nns.root. 3600000 IN A %s\n' \
    "$HOSTILE" >"$T/root.hints"

echo "# worst question: $QUESTIONS questions per mode, each in a new zone"
echo "# of 300 unreachable name servers"
printf '%-9s %-10s %14s %12s %12s %12s\n' resolver mode cpu_ms/q \
    queries/q peak_MiB slowest_ms
for mode in blackhole glueless; do
	python3 "$here/bench_worst_server.py" "$HOSTILE" "$mode" \
	    --lifetime 900 >"$T/hostile.log" 2>&1 &
	hpid=$!
	PIDS="$PIDS $hpid"
	poll -p "$hpid" 5 dig @"$HOSTILE" +time=1 +tries=1 probe. A

	for who in minidnsd unbound; do
		if [ $who = minidnsd ]; then
			"$MINIDNSD" -f --listen "$MD" --root-hints "$T/root.hints" \
			    --allow-private-upstreams --metrics "$METRICS" \
			    --health off --ready off --threads 1 \
			    >"$T/md.log" 2>&1 &
			addr=$MD
		else
			cat >"$T/unbound.conf" <<CONF
server:
	interface: $UB
	port: 53
	chroot: ""
	username: ""
	directory: "$T"
	pidfile: ""
	use-syslog: no
	logfile: ""
	num-threads: 1
	root-hints: "$T/root.hints"
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	discard-timeout: 0
remote-control:
	control-enable: no
CONF
			unbound-checkconf "$T/unbound.conf" >/dev/null 2>&1 ||
			    sed -i '/discard-timeout/d' "$T/unbound.conf"
			unbound -d -c "$T/unbound.conf" >"$T/ub.log" 2>&1 &
			addr=$UB
		fi
		pid=$!
		PIDS="$PIDS $pid"
		poll -p "$pid" 10 dig @"$addr" +time=1 +tries=1 +norec \
		    localhost. A || die "$who did not start"
		q0=0
		[ $who = minidnsd ] && q0=$(upstream_queries)
		c0=$(cpu_ticks "$pid")
		slowest=0
		for i in $(seq 1 "$QUESTIONS"); do
			s=$(date +%s%N)
			dig @"$addr" +time=15 +tries=1 "www.z$i-$mode.t$i." A \
			    >/dev/null 2>&1 || true
			e=$((($(date +%s%N) - s) / 1000000))
			[ "$e" -le "$slowest" ] || slowest=$e
		done
		c1=$(cpu_ticks "$pid")
		hz=$(getconf CLK_TCK)
		cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$QUESTIONS" \
		    'BEGIN { printf "%.2f", d * 1000 / hz / n }')
		queries=-
		if [ $who = minidnsd ]; then
			q1=$(upstream_queries)
			queries=$(awk -v a="$q0" -v b="$q1" -v n="$QUESTIONS" \
			    'BEGIN { printf "%.1f", (b - a) / n }')
		fi
		peak=$(awk -v k="$(hwm_kib "$pid")" 'BEGIN { printf "%.1f", k / 1024 }')
		printf '%-9s %-10s %14s %12s %12s %12s\n' $who "$mode" "$cpu" \
		    "$queries" "$peak" "$slowest"
		stop "$pid"
	done
	stop "$hpid"
done
