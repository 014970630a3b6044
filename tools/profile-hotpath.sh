#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hot path profile: minidnsd under valgrind --tool=callgrind answers a
# fixed number of queries, and the script prints, as Markdown ready to
# paste into doc/benchmarks.md ("## Hot path profile"):
#
#  - instructions per query (total Ir of the measured queries / queries
#    answered), for
#      a. cache hits: minidnsd forwards to NSD (tools/bench_gen.py's
#         bench.internal. zone); every name is asked once (the warm-up,
#         not measured), the counters are zeroed (callgrind_control
#         --zero), then the same names are asked again in shuffled order
#      b. local zone: the cluster.local. and 96.10.in-addr.arpa. zones of
#         tools/bench.sh (50% A, 25% SRV, 25% PTR); one pass first, then
#         zeroed counters and a second pass
#  - the top functions by self and by inclusive Ir, per query
#    (callgrind_annotate)
#
# Only user-space instructions are counted: the system calls' kernel work
# (recvmsg, sendmsg, epoll) is not in these numbers.
#
# Usage: sudo tools/profile-hotpath.sh [--minidnsd PATH] [--queries N]
#                                      [--top N] [--label TEXT]
#                                      [--keep DIR]
#   --minidnsd PATH  the daemon (default ./minidnsd: run from the build
#                    directory; build with -g, the default CFLAGS -g -O2)
#   --queries N      queries measured per workload (default 20000)
#   --top N          functions listed (default 15)
#   --label TEXT     the heading's label, e.g. "before" or "after"
#   --keep DIR       copy the callgrind output files to DIR (for
#                    kcachegrind or callgrind_annotate --auto=yes)
#
# Re-executes itself inside 'unshare -n' (needs root): NSD and minidnsd on
# 127.62.x addresses only.  Every process is stopped by its saved PID,
# every wait is bounded, temporary files live in one mktemp -d directory
# removed at exit.  Needs valgrind, nsd, dig, dnsperf and python3.  Takes
# about 3 minutes (minidnsd runs some 50 times slower under callgrind; the
# queries go at 1,000/s so that none is lost).
set -eu

. "$(dirname "$0")/bench-lib.sh"
md_bench_netns profile-hotpath.sh "$@"
PATH=$PATH:/usr/sbin:/sbin

usage() {
	echo "usage: $0 [--minidnsd PATH] [--queries N] [--top N]" \
	    "[--label TEXT] [--keep DIR]" >&2
	exit 2
}

MINIDNSD=$(pwd)/minidnsd QUERIES=20000 TOP=15 LABEL="" KEEP=""
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--minidnsd) MINIDNSD=$2 ;;
	--queries) QUERIES=$2 ;;
	--top) TOP=$2 ;;
	--label) LABEL=$2 ;;
	--keep) KEEP=$2 ;;
	*) usage ;;
	esac
	shift 2
done
case "$MINIDNSD" in /*) ;; *) MINIDNSD=$(pwd)/$MINIDNSD ;; esac

here=$(cd "$(dirname "$0")" && pwd)
GEN=$here/bench_gen.py

for tool in valgrind callgrind_control callgrind_annotate nsd dig dnsperf python3; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
[ -x "$MINIDNSD" ] || die "$MINIDNSD not built (run from the build directory or give --minidnsd)"

NSD_ADDR=127.62.0.2
MD_ADDR=127.62.0.10
DEAD_ADDR=127.62.0.99
RATE=1000			# queries per second under callgrind

# $T, $PIDS and the exit trap (bench-lib.sh): 5 s per process after TERM
md_bench_tmp profile 5

# answers ADDR NAME: one dig, two seconds
answers() {
	dig @"$1" +time=2 +tries=1 "$2" 2>/dev/null | grep -q 'status: NOERROR'
}

# wait_up PID ADDR NAME: poll (0.5 s) until ADDR answers NAME, at most
# 120 s; fails early when PID exits
wait_up() {
	poll -p "$1" -s 0.5 120 answers "$2" "$3"
}

# ---- the data and NSD ----------------------------------------------------------

python3 "$GEN" auth "$T" "$QUERIES"
python3 "$GEN" cluster "$T"
head -n "$QUERIES" "$T/zone-queries.txt" >"$T/zone.txt"
printf '. 3600 NS r.test.\nr.test. 3600 A %s\n' $DEAD_ADDR >"$T/hints"
cat >"$T/minidnsd.yaml" <<EOF
root-hints: $T/hints
log-level: warning
zone-check-interval: 0
zones: []
EOF

md_bench_nsd "$T/nsd" $NSD_ADDR bench.internal "$T/bench.internal.zone"
wait_up $NSD_PID $NSD_ADDR ns.bench.internal. ||
    { cat "$T/nsd/out"; die "NSD did not start"; }

# ---- one profile ----------------------------------------------------------------
#
# profile NAME PROBE FIRST-FILE MEASURED-FILE MINIDNSD-ARGS...: start
# minidnsd under callgrind, ask FIRST-FILE's questions once (not
# measured), zero the counters, ask MEASURED-FILE's once, dump; leaves
# $T/NAME.out (the dump) and $T/NAME.answered.
profile() {
	local name=$1 probe=$2 first=$3 measured=$4 pid dump
	shift 4
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.$name.%p" \
	    "$MINIDNSD" -f -c "$T/minidnsd.yaml" --listen $MD_ADDR:53 \
	    --metrics off --health off --ready off "$@" \
	    >"$T/$name.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_up $pid $MD_ADDR "$probe" ||
	    { tail -n 30 "$T/$name.log" >&2; die "minidnsd ($name) did not answer"; }
	timeout 600 dnsperf -s $MD_ADDR -d "$first" -n 1 -Q $RATE -q 50 -t 5 \
	    >"$T/$name.first" 2>&1 || { cat "$T/$name.first" >&2; die "dnsperf failed"; }
	timeout 60 callgrind_control --zero $pid >/dev/null 2>&1 ||
	    die "callgrind_control --zero failed"
	timeout 600 dnsperf -s $MD_ADDR -d "$measured" -n 1 -Q $RATE -q 50 -t 5 \
	    >"$T/$name.perf" 2>&1 || { cat "$T/$name.perf" >&2; die "dnsperf failed"; }
	timeout 60 callgrind_control --dump="$name" $pid >/dev/null 2>&1 ||
	    die "callgrind_control --dump failed"
	# the dump is written when minidnsd next wakes up: at most 20 s
	for _ in $(seq 100); do
		dump=$(ls "$T/cg.$name.$pid".* 2>/dev/null | head -1)
		[ -n "$dump" ] && break
		dig @$MD_ADDR +time=1 +tries=1 "$probe" >/dev/null 2>&1 || true
		sleep 0.2
	done
	[ -n "$dump" ] || die "no callgrind dump for $name"
	sleep 1		# let it finish writing
	awk '/Queries completed:/ { print $3 }' "$T/$name.perf" >"$T/$name.answered"
	grep 'Response codes' "$T/$name.perf" | sed 's/.*: *//' >"$T/$name.rcodes"
	mv "$dump" "$T/$name.out"
	stop $pid 20	# callgrind writes its last dump on exit
	if [ -n "$KEEP" ]; then
		mkdir -p "$KEEP"
		cp "$T/$name.out" "$KEEP/callgrind.$name.out"
	fi
}

echo "profiling cache hits ($QUERIES queries)..." >&2
profile hits ns.bench.internal. "$T/warm.txt" "$T/hits.txt" \
    --forward ".=$NSD_ADDR" --allow-private-upstreams
echo "profiling local-zone answers ($QUERIES queries)..." >&2
profile zone svc1.ns1.svc.cluster.local. "$T/zone.txt" "$T/zone.txt" \
    --zone "$T/cluster.zone" --zone "$T/reverse.zone"

# ---- the report --------------------------------------------------------------------

version=$("$MINIDNSD" --version 2>&1 | head -1)
head="Hot path profile"
[ -z "$LABEL" ] || head="$head: $LABEL"
cat <<EOF
### $head

Measured $(date -u +%Y-%m-%d) by \`tools/profile-hotpath.sh\` with
$version, $(valgrind --version): $QUERIES
queries per workload, measured after a first pass over the same names.
Ir: instructions executed in user space (system calls not included).

EOF
python3 "$GEN" callgrind \
    "$T/hits.out" "$(cat "$T/hits.answered")" "$(cat "$T/hits.rcodes")" \
    "$TOP" "a. Cache hits (forwarded names, cached)" \
    "$T/zone.out" "$(cat "$T/zone.answered")" "$(cat "$T/zone.rcodes")" \
    "$TOP" "b. Local zone (50% A, 25% SRV, 25% PTR)"
