#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Allocations per query on the answer paths: minidnsd runs with an
# LD_PRELOAD counter of malloc/calloc/realloc/aligned allocations
# (tools/alloc_count.c, compiled here with cc), is warmed up, and then
# answers a known number of queries per workload; the script prints the
# allocations counted over each workload's queries, per query:
#
#   udp-hits   cache hits over UDP (NSD's bench.internal. names, forwarded
#              and cached during the warm-up)
#   udp-zone   local-zone answers over UDP (cluster.local. A/SRV/PTR)
#   tcp-hits   cache hits over TCP, 8 pipelined connections
#   dot-hits   cache hits over DNS over TLS, 8 connections
#
# Connections are opened inside each run, so the TCP and TLS figures
# include the connection set-up, spread over the run's queries.
# A measurement, not a test (make check does not run it).
#
# Usage: sudo tools/alloc-count.sh [--minidnsd PATH] [--queries N]
#   --minidnsd PATH  the daemon (default ./minidnsd: the build directory)
#   --queries N      queries per workload, about (default 100000: whole
#                    passes over the query files)
#
# Re-executes itself inside 'unshare -n' (needs root): 127.63.x addresses
# only; every process stopped by its saved PID, every wait bounded, the
# temporary files in one mktemp -d directory removed at exit.  Needs cc,
# nsd, dig, dnsperf, openssl and python3.  About a minute.
set -eu

. "$(dirname "$0")/bench-lib.sh"
md_bench_netns alloc-count.sh "$@"
PATH=$PATH:/usr/sbin:/sbin

MINIDNSD=$(pwd)/minidnsd QUERIES=100000
while [ $# -gt 0 ]; do
	case "$1" in
	--minidnsd) MINIDNSD=$2; shift ;;
	--queries) QUERIES=$2; shift ;;
	*) echo "usage: $0 [--minidnsd PATH] [--queries N]" >&2; exit 2 ;;
	esac
	shift
done
case "$MINIDNSD" in /*) ;; *) MINIDNSD=$(pwd)/$MINIDNSD ;; esac
[ -x "$MINIDNSD" ] || die "$MINIDNSD not built"
for tool in cc nsd dig dnsperf openssl python3; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
here=$(cd "$(dirname "$0")" && pwd)

md_bench_tmp alloc 2
cc -O2 -shared -fPIC -o "$T/alloc_count.so" "$here/alloc_count.c" -ldl ||
    die "could not build the counter"

NSD_ADDR=127.63.0.2 ADDR=127.63.0.10
python3 "$here/bench_gen.py" auth "$T" 20000 >/dev/null
python3 "$here/bench_gen.py" cluster "$T" >/dev/null
md_bench_nsd "$T/nsd" $NSD_ADDR bench.internal "$T/bench.internal.zone"
poll -p "$NSD_PID" 60 dig @$NSD_ADDR +time=1 +tries=1 ns.bench.internal. >/dev/null ||
    die "NSD did not start"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=bench \
    >/dev/null 2>&1 || die "openssl could not make a certificate"
printf '. 3600 NS r.test.\nr.test. 3600 A 127.63.0.99\n' >"$T/hints"
cat >"$T/minidnsd.yaml" <<CONF
cache-size: 64
root-hints: $T/hints
log-level: warning
zone-check-interval: 0
tls-listen: [ "$ADDR:853" ]
tls-cert: $T/cert.pem
tls-key: $T/key.pem
zones: []
CONF
LD_PRELOAD=$T/alloc_count.so "$MINIDNSD" -f -c "$T/minidnsd.yaml" \
    --listen "$ADDR:53" --forward ".=$NSD_ADDR" --allow-private-upstreams \
    --metrics off --health off --ready off --threads 2 \
    --zone "$T/cluster.zone" --zone "$T/reverse.zone" >"$T/log" 2>&1 &
MD_PID=$!
PIDS="$PIDS $MD_PID"
poll -p $MD_PID 60 dig @$ADDR +time=1 +tries=1 ns.bench.internal. >/dev/null ||
    { tail "$T/log" >&2; die "minidnsd did not start"; }

# count: the counter's total now (SIGUSR2, then its line in the log)
count() {
	local n before
	before=$(grep -c '^ALLOCATIONS' "$T/log" || true)
	kill -USR2 $MD_PID
	for _ in $(seq 50); do
		n=$(grep -c '^ALLOCATIONS' "$T/log" || true)
		[ "$n" -gt "$before" ] && break
		sleep 0.1
	done
	grep '^ALLOCATIONS' "$T/log" | tail -n 1 | awk '{ print $2 }'
}

# warm-up: every name once (cache), the zone's questions once
dnsperf -s $ADDR -d "$T/warm.txt" -n 1 -Q 10000 -c 8 -q 500 -t 5 >/dev/null 2>&1
dnsperf -s $ADDR -d "$T/zone-queries.txt" -n 1 -Q 20000 -c 8 -q 500 -t 5 >/dev/null 2>&1
sleep 0.5

printf '| Workload | Queries answered | Allocations | Per query |\n|---|---|---|---|\n'
run() {
	local name=$1 a0 a1 done
	shift
	a0=$(count)
	done=$(timeout 300 dnsperf -s $ADDR "$@" -c 8 -q 100 -t 2 2>&1 |
	    awk '/Queries completed:/ { print $3 }')
	sleep 0.3
	a1=$(count)
	[ -n "$done" ] && [ "$done" -gt 0 ] || die "$name: no answers"
	awk -v n="$name" -v d="$done" -v a=$((a1 - a0)) \
	    'BEGIN { printf "| %s | %d | %d | %.4f |\n", n, d, a, a / d }'
}
# each file's passes, for about QUERIES queries (hits.txt holds 20,000
# names, zone-queries.txt 100,000 questions)
hp=$(( (QUERIES + 19999) / 20000 )) zp=$(( (QUERIES + 99999) / 100000 ))
run udp-hits -d "$T/hits.txt" -n $hp -Q 20000
run udp-zone -d "$T/zone-queries.txt" -n $zp -Q 20000
run tcp-hits -m tcp -d "$T/hits.txt" -n $hp -Q 20000
run dot-hits -m dot -p 853 -d "$T/hits.txt" -n $hp -Q 20000
