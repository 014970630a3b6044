#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Benchmark of the control plane's effect on answering (a benchmark, not a
# test: it reports numbers and asserts nothing about time): the slowest
# query on any worker while minidnsd, with 2 workers,
#
#  1. reloads a zone of 400,000 records (SIGHUP), and
#  2. re-syncs 10,000 Kubernetes Services and 50,000 endpoints from the
#     test API server (tests/integration/k8s/apiserver.py): the watch
#     streams end and a 410 forces a full list, parsed and built into new
#     zones.
#
# Each: tools/bench_latency.py sends 2,000 queries a second for a small
# local name from 16 source ports (so both workers' sockets get them) and
# records every query's time to its answer; the same stream with nothing
# else going on is the baseline.  Reported, for each of REPS runs
# (default 3): median, 99.9th percentile and the slowest query, answers
# over 5 ms, and the time the reload / re-sync took.  The test API
# server runs at nice 19 (see below).  On a 2-CPU machine the baseline's
# own slowest query (the machine's noise) is a few milliseconds: compare
# each row with the baselines of the same build.
#
# Usage: sudo tools/bench-stall.sh [MINIDNSD...]   (from the build
# directory; each binary given is measured in turn, default ./minidnsd;
# give an older build too to compare).  Re-executes itself inside
# 'unshare -n' (needs root); only 127.x addresses; every process stopped
# by saved PID; every wait bounded; temporary files removed at exit.
# Needs python3 and dig.  About 2 minutes per binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-lib.sh"
md_bench_netns bench-stall.sh "$@"
md_bench_tmp bench-stall 2

top=$(cd "$here/.." && pwd)
APISERVER=$top/tests/integration/k8s/apiserver.py
GEN=$here/bench_k8s_gen.py
PROBE=$here/bench_latency.py
DNS=127.60.0.1
API_IP=127.60.0.2
API=http://$API_IP:8080
RECORDS=400000
REPS=${REPS:-3}		# runs of each measurement per binary
[ $# -gt 0 ] || set -- "$(pwd)/minidnsd"
for b in "$@"; do
	[ -x "$b" ] || die "$b: not an executable minidnsd"
done
for tool in python3 dig; do
	command -v $tool >/dev/null || die "$tool is not installed"
done

answers() {
	dig @"$DNS" +time=1 +tries=1 +short "$1" A 2>/dev/null | grep -q '^[0-9]'
}
# stamp_ms LOGLINE: the line's UTC time stamp in ms
stamp_ms() {
	local s=${1%%Z *}
	echo $(($(date -u -d "${s/T/ } UTC" +%s%N) / 1000000))
}
# conf_head: the configuration both runs share (2 workers, the probe
# zone last in zones:, so a caller may add zones or sections after it)
conf_head() {
	cat <<EOF
listen: [ "$DNS:53" ]
threads: 2
recursion: no
zone-check-interval: 0
metrics: "off"
health: "off"
ready: "off"
zones:
  - file: $T/probe.zone
EOF
}
# field LINE KEY: the number after KEY in bench_latency.py's line
field() {
	echo "$1" | sed -n "s/.* $2 \([0-9.]*\).*/\1/p"
}

echo "generating a zone of $RECORDS records, and 10,000 Services..."
python3 - "$T/big.zone" "$RECORDS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("$ORIGIN big.test.\n$TTL 300\n"
            "@ IN SOA ns.big.test. host.big.test. 1 3600 600 86400 60\n"
            "@ IN NS ns.big.test.\nns IN A 192.0.2.1\n")
    for i in range(n):
        f.write("r%d IN A 10.%d.%d.%d\n" % (i, i >> 16 & 255, i >> 8 & 255,
                                           i & 255))
PY
cat >"$T/probe.zone" <<'EOF'
$ORIGIN probe.test.
$TTL 300
@	IN SOA ns.probe.test. host.probe.test. 1 3600 600 86400 60
@	IN NS ns.probe.test.
ns	IN A 192.0.2.1
www	IN A 192.0.2.80
EOF
python3 "$GEN" gen "$T" >/dev/null
. "$T/meta.sh"

# The test API server at the lowest priority: in a cluster it is another
# machine, here it would take a CPU from the server while it serializes
# the list.
nice -n 19 python3 "$APISERVER" --listen $API_IP --port 8080 --apply "$T/apply.json" \
    --lifetime 3600 --bookmark-interval 2 --ready-file "$T/api.ready" \
    >"$T/api.log" 2>&1 &
PIDS="$PIDS $!"
poll 120 test -s "$T/api.ready" || die "the API server did not start"

# row NAME WHAT LINE [MS [WAIT]]: a results table row from a prober line
row() {
	results="$results
| $1 | $2 | $(field "$3" median_ms) | $(field "$3" p999_ms) | $(field "$3" max_ms) | $(field "$3" over5) | $(field "$3" lost) | ${4:--} | ${5:--} |"
}
# probe SECS: the prober against the probe zone's name
probe() {
	python3 "$PROBE" $DNS www.probe.test "$1"
}
# sched_start PID SECS / sched_end: the server side of the same window,
# when perf is there: perf sched records PID's scheduling, and sched_end
# prints the longest time one of its worker threads waited for a CPU
# (perf sched latency's max delay), in ms, or "-".
sched_start() {
	SCHED=""
	command -v perf >/dev/null || return 0
	perf sched record -o "$T/sched.data" -p "$1" -- sleep "$2" \
	    >/dev/null 2>&1 &
	SCHED=$!
}
sched_end() {
	if [ -z "$SCHED" ]; then
		echo "-"
		return
	fi
	wait "$SCHED" || true
	perf sched latency -i "$T/sched.data" 2>/dev/null |
	    awk '/md-worker/ { sub(/^.*max: */, ""); sub(/ ms.*/, "");
		if ($1 + 0 > m) m = $1 + 0 } END { printf "%.3f\n", m }'
}

results=""
for bin in "$@"; do
	name=$(cd "$(dirname "$bin")/.." 2>/dev/null &&
	    git rev-parse --short HEAD 2>/dev/null || echo "$bin")
	echo "== $bin ($name)"
	# ---- 1. a 400,000-record zone reloaded, REPS times -------------------
	{
		conf_head
		echo "  - file: $T/big.zone"
	} >"$T/zone.yaml"
	"$bin" -f -c "$T/zone.yaml" >"$T/zone.log" 2>&1 &
	P=$!
	PIDS="$PIDS $P"
	poll -p $P 120 answers www.probe.test || die "minidnsd did not start"
	for r in $(seq "$REPS"); do
		base=$(probe 4)
		echo "  baseline: $base"
		row "$name" "baseline (run $r)" "$base"
		probe 5 >"$T/reload.out" &
		Q=$!
		sched_start $P 4
		sleep 0.5
		kill -HUP $P
		wait $Q
		wdelay=$(sched_end)
		during=$(cat "$T/reload.out")
		l1=$(grep 'reloading (SIGHUP)' "$T/zone.log" | sed -n "${r}p")
		l2=$(grep 'reload done' "$T/zone.log" | sed -n "${r}p")
		[ -n "$l1" ] && [ -n "$l2" ] ||
		    die "reload $r did not finish in the window"
		reload_ms=$(($(stamp_ms "$l2") - $(stamp_ms "$l1")))
		echo "  reload ($reload_ms ms): $during"
		row "$name" "zone reload, $RECORDS records (run $r)" "$during" \
		    "$reload_ms" "$wdelay"
	done
	stop $P

	# ---- 2. a Kubernetes re-sync of 10,000 Services, REPS times ----------
	{
		conf_head
		printf 'kubernetes:\n  zones: [ cluster.local ]\n'
		printf '  server: %s\n  insecure-http: yes\n' "$API"
	} >"$T/k8s.yaml"
	"$bin" -f -c "$T/k8s.yaml" >"$T/k8s.log" 2>&1 &
	P=$!
	PIDS="$PIDS $P"
	poll -p $P 120 answers "$LAST_NAME" || die "the Kubernetes zones did not sync"
	sleep 1
	for r in $(seq "$REPS"); do
		probe 6 >"$T/k8s.out" &
		Q=$!
		sched_start $P 5
		sleep 0.5
		n_before=$(grep -c 'k8s: listed' "$T/k8s.log" || true)
		t0=$(($(date +%s%N) / 1000000))
		python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_test/compact",
    data=b"{\"close\": true}", method="POST"), timeout=10).read()' "$API"
		wait $Q
		wdelay=$(sched_end)
		k8s_during=$(cat "$T/k8s.out")
		# the last "listed" line after the compaction: every kind
		# listed again (no debug logging: at 2,000 queries a second
		# it would measure the log, not the server)
		relist_line=$(grep 'k8s: listed' "$T/k8s.log" |
		    sed -n "$((n_before + 1)),\$p" | tail -n 1)
		relist_ms="?"
		[ -z "$relist_line" ] ||
		    relist_ms=$(($(stamp_ms "$relist_line") - t0))
		echo "  kubernetes re-sync (listed again after $relist_ms ms): $k8s_during"
		row "$name" "Kubernetes re-sync, 10,000 Services (run $r)" \
		    "$k8s_during" "$relist_ms" "$wdelay"
	done
	stop $P
done

echo
echo "| build | while | median ms | p99.9 ms | slowest ms | answers > 5 ms | lost | reload / re-sync ms | a worker's longest wait for a CPU, ms |"
echo "|---|---|---|---|---|---|---|---|---|$results"
