#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Resolver comparison: minidnsd against Unbound (and Knot Resolver,
# PowerDNS Recursor and dnsmasq when they are installed; skipped
# otherwise).  A benchmark, not a test: it reports numbers and asserts
# nothing about time.  Workloads:
#
#  1. cache hits: NSD serves 200,000 names h<N>.bench.internal.; each
#     resolver forwards to it; every name is asked once (the warm-up), then
#     dnsperf asks them in shuffled order
#  2. local zone: 10,000 Services of cluster.local. and their reverse zone
#     (50% A, 25% SRV, 25% PTR) answered from local data (minidnsd --zone,
#     Unbound local-data: the same records)
#  3. cold misses: names never asked before (a fresh set for every run,
#     under NSD's wildcard *.cold.bench.internal.), each asked once
#  4. memory: VmHWM after the warm-up of workload 1, per cached name, and
#     the same above the RSS before the first query
#  5. cache hits with 2 worker threads (the server then gets both CPUs)
#  6. cache hits over TCP (dnsperf -m tcp: 8 connections, queries
#     pipelined on each), the cache warmed over UDP first
#  7. cache hits over DNS over TLS (dnsperf -m dot), the same way; a
#     self-signed ECDSA P-256 certificate made by openssl at run time
#  8. at scale (only when named, it takes about 8 minutes): a cache of
#     1,000,000 names (a 1 GiB budget): memory per name and hits at
#     50,000 q/s against workloads 4 and 1 (200,000 names)
#  9. eviction: a small cache (8 MiB) and a working set of twice the
#     names it holds (measured first), asked at a fixed rate: lost
#     queries, latency up to the slowest answer, the lowest answers per
#     second (no stall)
# Workload 3 also measures NSD's own most queries per second for fresh
# cold names (dnsperf straight to NSD): the ceiling of every resolver's
# cold-miss max-QPS run ("coldmax": only those runs).  The new workloads
# 6-9 run minidnsd and Unbound only.
#
# The headline figure is the server's CPU time (utime+stime of all its
# threads, /proc/PID/stat) per answered query at a fixed offered load
# (dnsperf -Q), beside the most queries per second of a separate run
# without a rate limit, the latency (average, and p50/p99/p99.9/max from
# dnsperf -v's line per answer, a lost query counted as slowest) and the
# lost queries.  Every workload runs REPS times (default 3); within a
# repetition the servers take turns (A B A B A B, not A A A B B B).  Each
# server starts with one worker thread (two in workload 5) and the same
# cache budget.
#
# Prints Markdown tables (medians with min-max, each server's ratio to
# Unbound, the targets) and, with --doc FILE, writes them into the section
# "## Resolver comparison" of FILE (doc/benchmarks.md) as the run named by
# --label: a run of the same label replaces its block, another label is
# added beside it (so a baseline stays for comparison).
#
# Usage: sudo tools/bench.sh [--quick] [--minidnsd PATH] [--doc FILE]
#                            [--label TEXT] [--only WORKLOAD[,WORKLOAD]...]
#   --quick        one repetition, 3 s runs, 50,000 names (200,000 at
#                  scale): a check that every workload works (all nine
#                  unless --only says otherwise; about 4 minutes), not
#                  numbers to keep
#   --minidnsd P   the daemon to measure (default ./minidnsd: run from the
#                  build directory)
#   --doc FILE     also write the results into FILE
#   --label TEXT   the run's heading in FILE (default "Latest run")
#   --only W       hits, zone, cold, memory, threads, tcp, dot, scale,
#                  evict (or 1..9), coldmax (workload 3's max-QPS runs
#                  only) or all, comma separated; memory and cold share
#                  workload 1's server processes (and its warm-up), tcp
#                  and dot share theirs.  Default: all but scale (which
#                  takes about 8 minutes more: only when named, or with
#                  --quick)
#
# Re-executes itself inside 'unshare -n' (needs root): only 127.x
# addresses, every server on its own one, port 53.  Every process is
# stopped by its saved PID, every wait is bounded, temporary files live in
# one mktemp -d directory removed at exit.  Needs unbound, nsd, dig,
# python3, openssl and dnsperf (installed by tools/quickstart.sh
# bench-deps).  minidnsd and the resolvers are pinned to CPU 0, dnsperf
# and NSD to CPU 1 (taskset).  Temporary files go to /dev/shm when
# TMPDIR is not set (dnsperf -v writes a line per answer).  The default
# run takes about 23 minutes, --only all about 31.
set -eu

. "$(dirname "$0")/bench-lib.sh"
md_bench_netns bench.sh "$@"
PATH=$PATH:/usr/sbin:/sbin

usage() {
	echo "usage: $0 [--quick] [--minidnsd PATH] [--doc FILE] [--label TEXT]" \
	    "[--only hits,zone,cold,coldmax,memory,threads,tcp,dot,scale,evict,all]" >&2
	exit 2
}

QUICK=0 DOC="" ONLY="" LABEL="Latest run" MINIDNSD=$(pwd)/minidnsd
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--minidnsd) [ $# -ge 2 ] || usage; MINIDNSD=$2; shift ;;
	--doc) [ $# -ge 2 ] || usage; DOC=$2; shift ;;
	--only) [ $# -ge 2 ] || usage; ONLY=$2; shift ;;
	--label) [ $# -ge 2 ] || usage; LABEL=$2; shift ;;
	-h | --help) sed -n '3,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
	shift
done
case "$MINIDNSD" in /*) ;; *) MINIDNSD=$(pwd)/$MINIDNSD ;; esac
if [ -n "$DOC" ]; then
	case "$DOC" in /*) ;; *) DOC=$(pwd)/$DOC ;; esac
fi

here=$(cd "$(dirname "$0")" && pwd)
GEN=$here/bench_gen.py

# ---- the workloads to run ----------------------------------------------------

WORKLOADS="hits zone cold memory threads tcp dot evict"
# --quick checks every workload (scale with 200,000 names)
[ $QUICK = 0 ] || WORKLOADS="$WORKLOADS scale"
if [ -n "$ONLY" ]; then
	sel=""
	for w in $(echo "$ONLY" | tr ',' ' '); do
		case "$w" in
		1 | hits) sel="$sel hits" ;;
		2 | zone) sel="$sel zone" ;;
		3 | cold) sel="$sel cold" ;;
		coldmax) sel="$sel coldmax" ;;
		4 | memory) sel="$sel memory" ;;
		5 | threads) sel="$sel threads" ;;
		6 | tcp) sel="$sel tcp" ;;
		7 | dot) sel="$sel dot" ;;
		8 | scale) sel="$sel scale" ;;
		9 | evict) sel="$sel evict" ;;
		all) sel="$sel hits zone cold memory threads tcp dot evict scale" ;;
		*) usage ;;
		esac
	done
	WORKLOADS=$sel
fi
want() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- settings ----------------------------------------------------------------

CACHE_MIB=256		# every server's cache budget
HIT_QPS=50000		# fixed offered load: cache hits, local zone, 2 threads
COLD_QPS=10000		# fixed offered load: cold misses (each one goes to NSD)
WARM_QPS=10000		# the warm-up's rate (every name is a miss then)
TCP_QPS=20000		# fixed offered load over TCP and DoT
SCALE_MIB=1024		# the cache budget at scale (1,000,000 names)
SCALE_WARM_QPS=15000	# the warm-up's rate at scale
EVICT_MIB=8		# the small cache budget under eviction pressure
EVICT_QPS=10000		# fixed offered load under eviction (half are misses)
EVICT_PROBE=150000	# names asked to find how many fit EVICT_MIB
MAX_ARGS="-c 8 -q 500"	# the max-QPS runs: 8 clients, 500 outstanding
if [ $QUICK = 1 ]; then
	REPS=1 SECS=3 NAMES=50000 COLD_N=5000 COLD_MAX_N=10000
	SCALE_NAMES=200000
else
	REPS=3 SECS=10 NAMES=200000 COLD_N=20000 COLD_MAX_N=40000
	SCALE_NAMES=1000000
fi
# the names NSD serves: workload 1's, or those of scale and evict
ZONE_N=$NAMES
! want scale || ZONE_N=$SCALE_NAMES
if want evict && [ $ZONE_N -lt $((2 * EVICT_PROBE)) ]; then
	ZONE_N=$((2 * EVICT_PROBE))
fi

NSD_ADDR=127.61.0.2		# the authoritative peer
DEAD_ADDR=127.61.0.99		# root hints: nothing listens there
declare -A ADDR=(
	[minidnsd]=127.61.0.10 [unbound]=127.61.0.11 [kresd]=127.61.0.12
	[pdns]=127.61.0.13 [dnsmasq]=127.61.0.14 [nsd]=$NSD_ADDR
)

# ---- the tools ---------------------------------------------------------------

for tool in python3 dig unbound nsd taskset openssl; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
command -v dnsperf >/dev/null || die "dnsperf is not installed"
[ -x "$MINIDNSD" ] || die "$MINIDNSD not built (run from the build directory or give --minidnsd)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, dnsperf on CPU 1)"

SERVERS="minidnsd unbound"
PAIR="minidnsd unbound"		# the servers of workloads 6-9
command -v kresd >/dev/null && SERVERS="$SERVERS kresd"
command -v pdns_recursor >/dev/null && SERVERS="$SERVERS pdns"
command -v dnsmasq >/dev/null && SERVERS="$SERVERS dnsmasq"

# minidnsd's worker threads and cache size flags, when it has them (else
# one event loop; the cache size goes in the configuration file)
MD_THREADS=no
"$MINIDNSD" --help 2>&1 | grep -q -- '--threads' && MD_THREADS=yes

PIN_SRV1="taskset -c 0"		# one worker thread
PIN_SRV2="taskset -c 0,1"	# two worker threads (workload 5)
PIN_CLI="taskset -c 1"		# dnsperf, NSD, the helpers

# $T, $PIDS and the exit trap (bench-lib.sh): 2 s per process after TERM;
# on tmpfs (dnsperf -v writes a line per answer)
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
md_bench_tmp bench 2

# answers ADDR NAME [TYPE]: one dig, one second
answers() {
	dig @"$1" +time=1 +tries=1 "$2" "${3:-A}" 2>/dev/null |
	    grep -q 'status: NOERROR'
}

# wait_up PID ADDR NAME [TYPE]: poll (0.2 s) until ADDR answers NAME, at
# most 60 s; fails early when PID exits
wait_up() {
	local pid=$1
	shift
	poll -p "$pid" 60 answers "$@"
}

status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# sock_drops SERVER: datagrams the kernel dropped at SERVER's port 53
# sockets (receive buffer full), all of them summed
sock_drops() {
	ss -H -uanm "src ${ADDR[$1]}:53" 2>/dev/null |
	    grep -o ',d[0-9]*)' | tr -d ',d)' | awk '{ s += $1 } END { print s + 0 }'
}
# utime + stime of every thread, in clock ticks (the names hold no spaces)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# utime alone: the server's own code (the rest is the kernel's, mostly
# the UDP/TCP paths and the sleep and wake-up between batches)
user_ticks() { awk '{ print $14 }' "/proc/$1/stat"; }
# UDP datagrams delivered to sockets in this namespace (the counter of
# the namespace's own /proc/net/snmp)
# child_us BEFORE AFTER: the CPU time, in microseconds, of this shell's
# children waited for between two outputs of bash's times (run in this
# shell, not a subshell, whose counts start at zero): around a dnsperf
# run, dnsperf's own
child_us() {
	awk 'FNR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
	    t = (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1e6
	    if (FILENAME == ARGV[1]) b = t; else a = t }
	    END { printf "%.0f\n", a - b }' "$1" "$2"
}
udp_in() { awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $2 }' /proc/net/snmp; }
HZ=$(getconf CLK_TCK)

# ---- the data ----------------------------------------------------------------

echo "generating the zones and query files ($NAMES names, $ZONE_N in NSD's zone)..."
python3 "$GEN" auth "$T" $NAMES $ZONE_N
python3 "$GEN" cluster "$T"
printf '. 3600 NS r.test.\nr.test. 3600 A %s\n' $DEAD_ADDR >"$T/hints"
if want scale; then
	python3 "$GEN" names "$T/scale-warm.txt" $SCALE_NAMES asc
	python3 "$GEN" names "$T/scale-hits.txt" $SCALE_NAMES shuffle
fi
if want evict; then
	python3 "$GEN" names "$T/probe-asc.txt" $EVICT_PROBE asc
	python3 "$GEN" names "$T/probe-desc.txt" $EVICT_PROBE desc
fi
if want tcp || want dot; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj /CN=bench.internal -keyout "$T/tls.key" \
	    -out "$T/tls.pem" 2>"$T/openssl.log" ||
	    { cat "$T/openssl.log" >&2; die "openssl could not make the certificate"; }
fi

# ---- NSD, the authoritative peer ----------------------------------------------

nsd_t0=$SECONDS
MD_BENCH_PIN=$PIN_CLI md_bench_nsd "$T/nsd" $NSD_ADDR bench.internal \
    "$T/bench.internal.zone"
wait_up $NSD_PID $NSD_ADDR h$((ZONE_N - 1)).bench.internal. ||
    { cat "$T/nsd/out" "$T/nsd/nsd.log" 2>/dev/null; die "NSD did not start"; }
NSD_LOAD_S=$((SECONDS - nsd_t0))
NSD_RSS_KB=$(ps -o rss= -p $NSD_PID --ppid $NSD_PID | awk '{ s += $1 } END { print s }')
echo "NSD: $ZONE_N names loaded in about $NSD_LOAD_S s, VmRSS $((NSD_RSS_KB / 1024)) MiB"

# ---- starting each server ----------------------------------------------------
#
# start SERVER ROLE THREADS: start SERVER on its address, ROLE "fwd"
# (forward everything to NSD), "zone" (also the cluster.local. data) or
# "tls" (fwd, and DNS over TLS on port 853), with THREADS worker threads
# and a cache budget of SRV_CACHE MiB; sets SRV_PID; fails when it does
# not answer within 60 s.  skip SERVER ROLE THREADS: why it is not run,
# or nothing.
SRV_CACHE=$CACHE_MIB

skip() {
	case "$1/$2/$3" in
	kresd/zone/*) echo "kresd serves local data as hints only (no SRV)" ;;
	kresd/*/2) echo "kresd runs one thread per process" ;;
	dnsmasq/*/2) echo "dnsmasq has one thread" ;;
	minidnsd/* | unbound/*) ;;
	*/tls/*) echo "workloads 6-9 compare minidnsd and Unbound only" ;;
	esac
}

# runnable SERVER ROLE THREADS WHAT: false when skip gives a reason not to
# run SERVER so (told in the first repetition as "WHAT not run")
runnable() {
	local why
	why=$(skip "$1" "$2" "$3")
	[ -n "$why" ] || return 0
	[ "$rep" != 1 ] || echo "  $1: $4 not run: $why"
	return 1
}

start() {
	local srv=$1 role=$2 threads=$3 addr=${ADDR[$1]} pin=$PIN_SRV1 probe
	[ "$threads" = 1 ] || pin=$PIN_SRV2
	rm -rf "${T:?}/$srv"
	mkdir -p "$T/$srv"
	"start_$srv" "$role" "$threads" "$addr" "$pin"
	PIDS="$PIDS $SRV_PID"
	probe=ns.bench.internal.
	[ "$role" != zone ] || probe=svc1.ns1.svc.cluster.local.
	if ! wait_up "$SRV_PID" "$addr" $probe; then
		tail -n 30 "$T/$srv/log" >&2 2>/dev/null || true
		die "$srv ($role, $threads threads) did not answer within 60 s"
	fi
}

start_minidnsd() {
	local role=$1 threads=$2 addr=$3 pin=$4 args
	cat >"$T/minidnsd/minidnsd.yaml" <<EOF
cache-size: $SRV_CACHE
root-hints: $T/hints
log-level: warning
zone-check-interval: 0
zones: []
EOF
	if [ "$role" = tls ]; then
		printf 'tls-listen: %s:853\ntls-cert: %s\ntls-key: %s\n' \
		    "$addr" "$T/tls.pem" "$T/tls.key" >>"$T/minidnsd/minidnsd.yaml"
	fi
	args=(-f -c "$T/minidnsd/minidnsd.yaml" --listen "$addr:53"
	    --forward ".=$NSD_ADDR" --allow-private-upstreams
	    --metrics off --health off --ready off)
	if [ "$role" = zone ]; then
		args+=(--zone "$T/cluster.zone" --zone "$T/reverse.zone")
	fi
	if [ $MD_THREADS = yes ]; then
		args+=(--threads "$threads" --cache-size "$SRV_CACHE")
	fi
	$pin "$MINIDNSD" "${args[@]}" >"$T/minidnsd/log" 2>&1 &
	SRV_PID=$!
}

start_unbound() {
	local role=$1 threads=$2 addr=$3 pin=$4 d=$T/unbound
	cat >"$d/unbound.conf" <<EOF
server:
	interface: $addr
	port: 53
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	use-syslog: no
	logfile: "$d/log"
	verbosity: 0
	num-threads: $threads
	so-reuseport: yes
	# the UDP receive buffer minidnsd sets on its own sockets
	so-rcvbuf: 4m
	msg-cache-size: $((SRV_CACHE / 2))m
	rrset-cache-size: $((SRV_CACHE - SRV_CACHE / 2))m
	do-not-query-localhost: no
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
EOF
	if [ "$role" = zone ]; then
		cat "$T/unbound-local.conf" >>"$d/unbound.conf"
	fi
	if [ "$role" = tls ]; then
		# TCP and TLS connections per thread: minidnsd's default
		# tcp-max-connections (Unbound's default is 10)
		cat >>"$d/unbound.conf" <<EOF
	interface: $addr@853
	tls-port: 853
	tls-service-key: "$T/tls.key"
	tls-service-pem: "$T/tls.pem"
	incoming-num-tcp: 256
EOF
	fi
	cat >>"$d/unbound.conf" <<EOF
forward-zone:
	name: "."
	forward-addr: $NSD_ADDR
remote-control:
	control-enable: no
EOF
	$pin unbound -d -c "$d/unbound.conf" >"$d/out" 2>&1 &
	SRV_PID=$!
}

# Knot Resolver: one process, the cache an LMDB file of the same size
start_kresd() {
	local role=$1 threads=$2 addr=$3 pin=$4 d=$T/kresd
	cat >"$d/config" <<EOF
net.listen('$addr', 53, { kind = 'dns' })
cache.open($SRV_CACHE * MB, 'lmdb://$d/cache')
trust_anchors.remove('.')
policy.add(policy.all(policy.FORWARD('$NSD_ADDR')))
EOF
	$pin kresd -n -q -c "$d/config" "$d" >"$d/log" 2>&1 &
	SRV_PID=$!
}

# PowerDNS Recursor: its caches are sized in entries, not bytes (400,000
# each: room for the 200,000 names)
start_pdns() {
	local role=$1 threads=$2 addr=$3 pin=$4 d=$T/pdns args
	: >"$d/recursor.conf"
	args=(--daemon=no --config-dir="$d" --socket-dir="$d"
	    --local-address="$addr" --local-port=53 --threads="$threads"
	    --pdns-distributes-queries=no --reuseport=yes
	    --forward-zones="bench.internal=$NSD_ADDR" --dont-query=
	    --allow-from=127.0.0.0/8 --dnssec=off --quiet=yes
	    --disable-syslog=yes --loglevel=3
	    --max-cache-entries=400000 --max-packetcache-entries=400000)
	if [ "$role" = zone ]; then
		args+=(--auth-zones="cluster.local=$T/cluster.zone,96.10.in-addr.arpa=$T/reverse.zone")
	fi
	$pin pdns_recursor "${args[@]}" >"$d/log" 2>&1 &
	SRV_PID=$!
}

# dnsmasq: one thread; its cache is sized in names
start_dnsmasq() {
	local role=$1 threads=$2 addr=$3 pin=$4 d=$T/dnsmasq
	cat >"$d/dnsmasq.conf" <<EOF
listen-address=$addr
bind-interfaces
port=53
no-resolv
no-hosts
user=root
pid-file=
server=$NSD_ADDR
cache-size=400000
dns-forward-max=1000
log-facility=-
EOF
	if [ "$role" = zone ]; then
		cat "$T/dnsmasq-local.conf" >>"$d/dnsmasq.conf"
	fi
	$pin dnsmasq -k -C "$d/dnsmasq.conf" >"$d/log" 2>&1 &
	SRV_PID=$!
}

# ---- one dnsperf run -----------------------------------------------------------
#
# perf SERVER TAG DNSPERF-ARGS...: one dnsperf run against SERVER (PID
# $SRV_PID), bounded by timeout(1); sets P_QPS P_LOST P_SENT P_DONE P_OK
# P_LAT (ms) P_CPU (server CPU microseconds per answered query; P_UCPU
# its user-space part; P_CCPU dnsperf's: the kernel may do a server's
# work in the client's time, as when a TCP segment held back leaves on
# the client's ACK) P_DROPS
# (queries dropped at the server's UDP sockets), and over TCP and TLS
# P_RECONN (connections dnsperf opened again) and P_CLAT (the average time
# to connect, ms; 0 over UDP).  Its output stays in $T/dnsperf.TAG.
perf() {
	local srv=$1 tag=$2 out c0 c1 u0 u1 d0 res
	shift 2
	out=$T/dnsperf.$tag
	d0=$(sock_drops "$srv")
	c0=$(cpu_ticks $SRV_PID)
	u0=$(user_ticks $SRV_PID)
	times >"$T/times.0"
	timeout 300 $PIN_CLI dnsperf -s "${ADDR[$srv]}" "$@" >"$out" 2>&1 ||
	    { tail -n 20 "$out" >&2; die "dnsperf failed ($srv, $tag)"; }
	kill -0 $SRV_PID 2>/dev/null ||
	    { tail -n 30 "$T/$srv/log" >&2; die "$srv exited during $tag"; }
	times >"$T/times.1"
	c1=$(cpu_ticks $SRV_PID)
	u1=$(user_ticks $SRV_PID)
	res=$(awk -v t=$((c1 - c0)) -v u=$((u1 - u0)) -v hz="$HZ" \
	    -v k="$(child_us "$T/times.0" "$T/times.1")" '
	    /Queries sent:/ { sent = $3 }
	    /Queries completed:/ { done = $3 }
	    /Queries lost:/ { lost = $3 }
	    /Queries per second:/ { qps = $4 }
	    /^Connection Statistics:/ { conn = 1 }
	    /Reconnections:/ { reconn = $2 }
	    /Average Latency/ { if (conn) clat = $4 * 1000; else lat = $4 * 1000 }
	    /Response codes:/ { for (i = 3; i <= NF; i++) if ($(i-1) ~ /NOERROR/) ok = $i }
	    END { printf "%.0f %d %d %d %d %.3f %.3f %d %.3f %.3f %.3f\n", qps, lost, sent,
		done, ok, lat, (done > 0 ? t / hz * 1e6 / done : 0), reconn, clat,
		(done > 0 ? u / hz * 1e6 / done : 0), (done > 0 ? k / done : 0) }' "$out")
	read -r P_QPS P_LOST P_SENT P_DONE P_OK P_LAT P_CPU P_RECONN P_CLAT P_UCPU \
	    P_CCPU <<<"$res"
	P_DROPS=$(($(sock_drops "$srv") - d0))
	if [ "$P_OK" != "$P_DONE" ]; then
		echo "  note: $srv $tag: $(grep 'Response codes' "$out" | sed 's/.*: *//')" >&2
	fi
}

# record SERVER WORKLOAD REP KEY VALUE
record() { echo "$*" >>"$T/results"; }

# latency TAG SERVER WORKLOAD REP: the percentiles of the dnsperf -v
# run TAG (bench_gen.py lat), recorded; sets L_P50 L_P99 L_P999 L_MAX
# (ms) and L_MINRATE (the fewest answers in one -S 1 interval, -1
# without -S); the answer lines are then dropped from the output (tens
# of MB on tmpfs)
latency() {
	local out=$T/dnsperf.$1 res
	res=$(python3 "$GEN" lat "$out")
	read -r L_P50 L_P99 L_P999 L_MAX L_MINRATE _ _ <<<"$res"
	grep -v '^> ' "$out" >"$out.s" || true
	mv "$out.s" "$out"
	record "$2" "$3" "$4" p50 "$L_P50"
	record "$2" "$3" "$4" p99 "$L_P99"
	record "$2" "$3" "$4" p999 "$L_P999"
	record "$2" "$3" "$4" max "$L_MAX"
	[ "$L_MINRATE" = -1 ] || record "$2" "$3" "$4" minrate "$L_MINRATE"
}

# fixed SERVER WORKLOAD REP QPS QUERYFILE [DNSPERF-ARGS...]: the fixed
# load run, SECS seconds, with dnsperf -v for the latency percentiles
fixed() {
	local srv=$1 wl=$2 rep=$3 qps=$4 file=$5
	shift 5
	perf "$srv" "$wl-fixed-$rep" -d "$file" -l $SECS -Q "$qps" -c 8 \
	    -q 1000 -t 2 -v "$@"
	record "$srv" "$wl" "$rep" cpu "$P_CPU"
	record "$srv" "$wl" "$rep" ucpu "$P_UCPU"
	record "$srv" "$wl" "$rep" pcpu "$(awk -v a="$P_CPU" -v b="$P_CCPU" 'BEGIN { printf "%.3f", a + b }')"
	record "$srv" "$wl" "$rep" ccpu "$P_CCPU"
	record "$srv" "$wl" "$rep" lat "$P_LAT"
	record "$srv" "$wl" "$rep" lost "$P_LOST"
	record "$srv" "$wl" "$rep" sent "$P_SENT"
	record "$srv" "$wl" "$rep" drops "$P_DROPS"
	record "$srv" "$wl" "$rep" qps_fixed "$P_QPS"
	latency "$wl-fixed-$rep" "$srv" "$wl" "$rep"
	printf '  %-8s %-7s fixed %6s/s: %7s QPS, %6.2f us/query, avg %.3f p99 %s max %s ms, lost %s of %s (%s dropped at its socket)\n' \
	    "$srv" "$wl" "$qps" "$P_QPS" "$P_CPU" "$P_LAT" "$L_P99" "$L_MAX" \
	    "$P_LOST" "$P_SENT" "$P_DROPS"
	if [ $((P_QPS * 100)) -lt $((qps * 97)) ]; then
		echo "  note: $srv $wl: $P_QPS answers/s, short of the offered $qps/s (CPU 1 busy?)" >&2
	fi
	if [ "$P_CLAT" != 0.000 ]; then
		record "$srv" "$wl" "$rep" reconn "$P_RECONN"
		record "$srv" "$wl" "$rep" clat "$P_CLAT"
		printf '  %-8s %-7s connections: %s ms to connect on average, %s reconnections\n' \
		    "$srv" "$wl" "$P_CLAT" "$P_RECONN"
	fi
}

# maxqps SERVER WORKLOAD REP QUERYFILE [DNSPERF-ARGS...]: no rate limit
maxqps() {
	local srv=$1 wl=$2 rep=$3 file=$4
	shift 4
	# shellcheck disable=SC2086
	perf "$srv" "$wl-max-$rep" -d "$file" $MAX_ARGS -t 2 "$@"
	record "$srv" "$wl" "$rep" maxqps "$P_QPS"
	record "$srv" "$wl" "$rep" maxlost "$P_LOST"
	record "$srv" "$wl" "$rep" maxsent "$P_SENT"
	record "$srv" "$wl" "$rep" maxcpu "$P_CPU"
	printf '  %-8s %-7s max:          %7s QPS, %6.2f us/query, lost %s of %s (%s dropped at its socket)\n' \
	    "$srv" "$wl" "$P_QPS" "$P_CPU" "$P_LOST" "$P_SENT" "$P_DROPS"
	if [ "$P_CLAT" != 0.000 ]; then
		record "$srv" "$wl" "$rep" maxreconn "$P_RECONN"
		printf '  %-8s %-7s connections: %s ms to connect on average, %s reconnections\n' \
		    "$srv" "$wl" "$P_CLAT" "$P_RECONN"
	fi
}

# warm SERVER REP [FILE [QPS [DNSPERF-ARGS...]]]: every name of FILE
# (default workload 1's) once, at QPS (default WARM_QPS); sets W_OK
# (names answered NOERROR)
warm() {
	local srv=$1 rep=$2 file=${3:-$T/warm.txt} qps=${4:-$WARM_QPS}
	shift $(($# < 4 ? $# : 4))
	perf "$srv" "warm-$rep" -d "$file" -n 1 -Q "$qps" -c 8 -q 1000 -t 5 "$@"
	printf '  %-8s warm-up: %s of %s names answered, lost %s\n' \
	    "$srv" "$P_OK" "$(wc -l <"$file")" "$P_LOST"
	W_OK=$P_OK
}

# ---- the runs ----------------------------------------------------------------

: >"$T/results"
t0=$SECONDS
echo "servers: $SERVERS; workloads: $WORKLOADS; $REPS repetition(s) of $SECS s runs"
[ $MD_THREADS = yes ] || echo "minidnsd has no --threads: it runs one event loop in every workload"
for srv in $SERVERS; do
	case " $PAIR " in *" $srv "*) continue ;; esac
	for w in tcp dot scale evict; do
		! want $w || echo "  $srv: $w not run (workloads 6-9 compare minidnsd and Unbound only)"
	done
done

# fill_probe SERVER: how many names a cache of EVICT_MIB holds: every
# name of probe-asc.txt once, then the same names newest first; a cache
# that drops its least recently used entries answers the newest ones it
# kept from memory, then misses on every older one.  The misses are
# counted from the namespace's UDP datagrams (a miss adds NSD's query
# and its answer to dnsperf's query and its answer).  Sets FIT.
fill_probe() {
	local srv=$1 u0 u1 miss
	start "$srv" fwd 1
	warm "$srv" probe "$T/probe-asc.txt"
	u0=$(udp_in)
	perf "$srv" "probe-desc" -d "$T/probe-desc.txt" -n 1 -Q $WARM_QPS \
	    -c 8 -q 1000 -t 5
	u1=$(udp_in)
	stop $SRV_PID
	miss=$(((u1 - u0 - 2 * P_DONE) / 2))
	[ $miss -ge 0 ] || miss=0
	FIT=$((P_DONE - miss))
	record "$srv" evict 1 fit "$FIT"
	printf '  %-8s a cache of %s MiB holds about %s names (%s misses of %s asked newest first)\n' \
	    "$srv" $EVICT_MIB $FIT $miss "$P_DONE"
}

# coldmax_nsd REP: NSD's own most answers a second for fresh cold names
# (dnsperf straight to it, on its CPU): the ceiling of the resolvers'
# cold-miss max-QPS runs
coldmax_nsd() {
	local pid=${SRV_PID:-}
	SRV_PID=$NSD_PID
	python3 "$GEN" cold "$T/cold.txt" "r$1-nsd" $COLD_MAX_N
	maxqps nsd cold "$1" "$T/cold.txt" -l $SECS
	SRV_PID=$pid
}

for rep in $(seq $REPS); do
	echo "repetition $rep of $REPS"
	if want cold || want coldmax; then coldmax_nsd $rep; fi
	# workload 1, with 3 and 4 in the same server processes
	if want hits || want cold || want coldmax || want memory; then
		for srv in $SERVERS; do
			[ -z "$(skip $srv fwd 1)" ] || continue
			start $srv fwd 1
			rss0=$(status_kb $SRV_PID VmRSS)
			warm $srv $rep
			sleep 1
			hwm=$(status_kb $SRV_PID VmHWM)
			if want memory && [ "$W_OK" -gt 0 ]; then
				record $srv memory $rep names "$W_OK"
				record $srv memory $rep rss0_kb "$rss0"
				record $srv memory $rep hwm_kb "$hwm"
				record $srv memory $rep bpn $((hwm * 1024 / W_OK))
				record $srv memory $rep bpn_net $(((hwm - rss0) * 1024 / W_OK))
				printf '  %-8s memory: VmRSS %s kB before, VmHWM %s kB after: %s bytes per name\n' \
				    $srv "$rss0" "$hwm" $(((hwm - rss0) * 1024 / W_OK))
			fi
			if want hits; then
				fixed $srv hits $rep $HIT_QPS "$T/hits.txt"
				maxqps $srv hits $rep "$T/hits.txt" -l $SECS
			fi
			if want cold; then
				python3 "$GEN" cold "$T/cold.txt" "r$rep-$srv-f" $COLD_N
				perf $srv "cold-fixed-$rep" -d "$T/cold.txt" -n 1 \
				    -Q $COLD_QPS -c 8 -q 1000 -t 2 -v
				record $srv cold $rep cpu "$P_CPU"
				record $srv cold $rep lat "$P_LAT"
				record $srv cold $rep lost "$P_LOST"
				record $srv cold $rep sent "$P_SENT"
				record $srv cold $rep drops "$P_DROPS"
				record $srv cold $rep qps_fixed "$P_QPS"
				latency "cold-fixed-$rep" $srv cold $rep
				printf '  %-8s cold    fixed %6s/s: %7s QPS, %6.2f us/query, avg %.3f p99 %s max %s ms, lost %s of %s (%s dropped at its socket)\n' \
				    "$srv" "$COLD_QPS" "$P_QPS" "$P_CPU" "$P_LAT" "$L_P99" "$L_MAX" "$P_LOST" "$P_SENT" "$P_DROPS"
			fi
			if want cold || want coldmax; then
				python3 "$GEN" cold "$T/cold.txt" "r$rep-$srv-m" $COLD_MAX_N
				maxqps $srv cold $rep "$T/cold.txt" -n 1
			fi
			stop $SRV_PID
		done
	fi
	if want zone; then
		for srv in $SERVERS; do
			runnable $srv zone 1 "local zone" || continue
			start $srv zone 1
			# first touches of the zone's pages
			perf $srv "zone-touch-$rep" -d "$T/zone-queries.txt" -n 1 \
			    -Q $HIT_QPS -c 8 -q 1000 -t 2
			fixed $srv zone $rep $HIT_QPS "$T/zone-queries.txt"
			maxqps $srv zone $rep "$T/zone-queries.txt" -l $SECS
			stop $SRV_PID
		done
	fi
	if want threads; then
		for srv in $SERVERS; do
			runnable $srv fwd 2 "2 threads" || continue
			start $srv fwd 2
			warm $srv $rep
			fixed $srv threads $rep $HIT_QPS "$T/hits.txt"
			maxqps $srv threads $rep "$T/hits.txt" -l $SECS
			stop $SRV_PID
		done
	fi
	# workloads 6 and 7: the hits of workload 1 over TCP and DoT
	if want tcp || want dot; then
		for srv in $PAIR; do
			start $srv tls 1
			warm $srv $rep
			for m in tcp dot; do
				want $m || continue
				fixed $srv $m $rep $TCP_QPS "$T/hits.txt" -m $m
				maxqps $srv $m $rep "$T/hits.txt" -l $SECS -m $m
			done
			stop $SRV_PID
		done
	fi
	# workload 8: 1,000,000 names in a cache of SCALE_MIB
	if want scale; then
		SRV_CACHE=$SCALE_MIB
		for srv in $PAIR; do
			start $srv fwd 1
			rss0=$(status_kb $SRV_PID VmRSS)
			t_w=$SECONDS
			warm $srv $rep "$T/scale-warm.txt" $SCALE_WARM_QPS -v
			n_ok=$W_OK
			# the names lost at that rate (dnsperf -v: "> T NAME
			# TYPE"), asked once more at the usual warm-up rate
			if [ "$P_LOST" != 0 ]; then
				awk '$1 == ">" && $2 == "T" { print $3, $4 }' \
				    "$T/dnsperf.warm-$rep" >"$T/scale-lost.txt"
				warm $srv $rep "$T/scale-lost.txt"
				n_ok=$((n_ok + W_OK))
			fi
			W_OK=$n_ok
			rm -f "$T/dnsperf.warm-$rep"
			record $srv scale $rep warm_s $((SECONDS - t_w))
			sleep 1
			hwm=$(status_kb $SRV_PID VmHWM)
			record $srv scale $rep names "$W_OK"
			record $srv scale $rep rss0_kb "$rss0"
			record $srv scale $rep hwm_kb "$hwm"
			record $srv scale $rep bpn_net $(((hwm - rss0) * 1024 / W_OK))
			printf '  %-8s scale memory: VmRSS %s kB before, VmHWM %s kB after: %s bytes per name\n' \
			    $srv "$rss0" "$hwm" $(((hwm - rss0) * 1024 / W_OK))
			fixed $srv scale $rep $HIT_QPS "$T/scale-hits.txt"
			stop $SRV_PID
		done
		SRV_CACHE=$CACHE_MIB
	fi
	# workload 9: a working set twice the names a small cache holds
	if want evict; then
		SRV_CACHE=$EVICT_MIB
		# once: each server's working set, twice the names its cache
		# holds: every name once (shuffled) to fill the cache, then
		# names drawn at random from the set (about half are misses
		# when the cache drops its least recently used entries)
		if [ $rep = 1 ]; then
			for srv in $PAIR; do
				fill_probe $srv
				if [ $FIT -ge $((EVICT_PROBE * 9 / 10)) ] ||
				    [ $((2 * FIT)) -gt $ZONE_N ]; then
					die "a cache of $EVICT_MIB MiB holds $FIT of the $EVICT_PROBE probe names: make EVICT_MIB smaller"
				fi
				record $srv evict 1 set $((2 * FIT))
				python3 "$GEN" names "$T/evict-fill-$srv.txt" $((2 * FIT)) shuffle
				python3 "$GEN" names "$T/evict-$srv.txt" $((2 * FIT)) random \
				    $((EVICT_QPS * SECS))
			done
		fi
		for srv in $PAIR; do
			start $srv fwd 1
			warm $srv $rep "$T/evict-fill-$srv.txt"
			u0=$(udp_in)
			fixed $srv evict $rep $EVICT_QPS "$T/evict-$srv.txt" -S 1
			u1=$(udp_in)
			# misses: NSD's query and answer on top of dnsperf's pair
			record $srv evict $rep miss_pct \
			    $(((u1 - u0 - 2 * P_DONE) * 50 / (P_DONE > 0 ? P_DONE : 1)))
			printf '  %-8s evict   %s%% misses; the fewest answers in one second: %s\n' \
			    $srv $(((u1 - u0 - 2 * P_DONE) * 50 / (P_DONE > 0 ? P_DONE : 1))) \
			    "$L_MINRATE"
			stop $SRV_PID
		done
		SRV_CACHE=$CACHE_MIB
	fi
done
runtime=$((SECONDS - t0))

# ---- the report ----------------------------------------------------------------

reps_text="$REPS runs"
[ $REPS != 1 ] || reps_text="1 run (--quick: no spread)"
cat >"$T/meta" <<EOF
servers=$SERVERS
workloads=$WORKLOADS
reps_text=$reps_text
rate_hits=$HIT_QPS
rate_zone=$HIT_QPS
rate_cold=$COLD_QPS
rate_threads=$HIT_QPS
rate_tcp=$TCP_QPS
rate_dot=$TCP_QPS
rate_scale=$HIT_QPS
rate_evict=$EVICT_QPS
scale_names=$SCALE_NAMES
hit_names=$NAMES
evict_mib=$EVICT_MIB
EOF
# the raw measurements outlive the run (a report that fails loses none)
cp "$T/results" "${TMPDIR:-/tmp}/minidns-bench-results.last"
python3 "$GEN" report "$T/results" "$T/meta" "$T/tables.md" ||
    die "the report failed; the measurements are in ${TMPDIR:-/tmp}/minidns-bench-results.last"

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
today=$(date -u +%Y-%m-%d)
v_md=$("$MINIDNSD" --version 2>&1 | head -1)
v_ub=$(unbound -V 2>&1 | head -1)
v_nsd=$(nsd -v 2>&1 | head -1)
v_perf=$(dnsperf -h 2>&1 | awk '/^Version/ { print $2; exit }')
v_other=""
for srv in $SERVERS; do
	case $srv in
	kresd) v_other="$v_other, $(kresd -V 2>&1 | head -1)" ;;
	pdns) v_other="$v_other, PowerDNS Recursor $(pdns_recursor --version 2>&1 | grep -o '[0-9][0-9.]*[0-9]' | head -1)" ;;
	dnsmasq) v_other="$v_other, $(dnsmasq --version 2>&1 | head -1)" ;;
	esac
done
if [ $MD_THREADS = yes ]; then
	md_thr="minidnsd runs with \`--threads 1 --cache-size $CACHE_MIB\` (\`--threads 2\` in workload 5)"
else
	md_thr="this minidnsd has no \`--threads\`: it runs its single event loop in every workload, workload 5 included (its cache size, $CACHE_MIB MiB, comes from the configuration file)"
fi

# What one thread waking another costs here: the floor under every
# server's CPU per query (doc/benchmarks.md, "Where the CPU goes, and
# what the 0.6x target meets").  The machine is quiet now, the servers
# stopped.
wake=""
if cc -O2 -pthread -o "$T/wakeup_cost" "$here/wakeup_cost.c" 2>/dev/null &&
	"$T/wakeup_cost" >"$T/wakeup" 2>&1; then
	wake_x=$(sed -n 's/.*wake-up.* \([0-9.]*\) us of CPU.*/\1/p' "$T/wakeup")
	wake_s=$(sed -n 's/.*switch.* \([0-9.]*\) us of CPU.*/\1/p' "$T/wakeup")
	[ -n "$wake_x" ] && wake="a thread waking one on the other CPU costs $wake_x µs of CPU, a switch on one CPU $wake_s µs (tools/wakeup_cost.c)"
fi
[ -n "$wake" ] && wake="
On this machine $wake."

cat >"$T/doc.md" <<EOF
Measured $today by \`tools/bench.sh\`$([ $QUICK = 1 ] && echo " --quick") in ${runtime} s on a machine
with $(nproc) CPUs ($cpu_model): $v_md, Unbound ${v_ub#Version }, NSD ${v_nsd#NSD version }, dnsperf $v_perf$v_other.$wake
Run it as root from the build directory:

    sudo tools/bench.sh                          # workloads 1-7 and 9, about 23 minutes
    sudo tools/bench.sh --only all               # and 8 (1,000,000 names), about 31
    sudo tools/bench.sh --doc doc/benchmarks.md  # also rewrites this section
    sudo tools/bench.sh --quick                  # a 4-minute check of every workload

Everything runs in a private network namespace, each server on its own
127.x address, port 53; NSD 4 is the authoritative peer every resolver
forwards to (Unbound: \`forward-zone\` ".", \`module-config: "iterator"\`,
no DNSSEC validation; minidnsd: \`--forward .=NSD\`).  Each server has one
worker thread and a cache budget of $CACHE_MIB MiB (Unbound: num-threads 1,
msg-cache-size $((CACHE_MIB / 2)) MiB + rrset-cache-size $((CACHE_MIB - CACHE_MIB / 2)) MiB); $md_thr.
The server is pinned to CPU 0, dnsperf and NSD to CPU 1 (taskset); in
workload 5 the server may use both CPUs (and shares CPU 1 with dnsperf).
Every workload ran $REPS time(s), the servers taking turns within each
repetition; a fresh server process for each workload and repetition.
NSD's zone held $ZONE_N names in this run (loaded in about $NSD_LOAD_S s,
$((NSD_RSS_KB / 1024)) MiB RSS summed over its processes); workloads 8 and 9 set
their own cache budgets (below).

- *1. cache hits*: NSD serves $NAMES names; each is asked once at
  $WARM_QPS/s (the warm-up), then dnsperf asks them in shuffled order.
- *2. local zone*: 10,000 Services of cluster.local. (A, SRV
  \`_http._tcp.svcN.nsM.svc.cluster.local.\`) and 96.10.in-addr.arpa.
  (PTR); queries 50% A, 25% SRV, 25% PTR (minidnsd \`--zone\`, Unbound
  \`local-zone\`/\`local-data\` with the same records).  One pass through
  the 100,000 questions first touches the data.
- *3. cold misses*: $COLD_N names never asked before (a fresh set every
  run, under NSD's wildcard), each asked once at $COLD_QPS/s: every query
  goes to NSD.  The rate is lower than for hits because each miss also
  costs an upstream exchange ($HIT_QPS/s is out of reach for a
  single-threaded resolver here); the max-QPS run asks $COLD_MAX_N other
  fresh names.
- *4. memory*: VmHWM of workload 1's server after its warm-up.
- *5. 2 threads*: workload 1 with two worker threads (Unbound
  num-threads 2, so-reuseport); dnsperf's 8 clients use 8 source ports.
- *6. TCP* and *7. DoT*: workload 1's names, warmed over UDP, then asked
  with \`dnsperf -m tcp\` and \`-m dot\`: 8 connections kept open for
  the whole run, up to 1,000 queries outstanding over them (pipelined;
  the max-QPS run 500).  DoT on port 853 with a self-signed ECDSA P-256
  certificate made by openssl for the run (minidnsd \`tls-listen\`,
  \`tls-cert\`, \`tls-key\`; Unbound \`interface: ADDR@853\`,
  \`tls-port\`, \`tls-service-key\`, \`tls-service-pem\`, and
  \`incoming-num-tcp: 256\`, minidnsd's default connection limit, for its
  default of 10).  The fixed rate is $TCP_QPS/s, not $HIT_QPS/s: it leaves
  both servers room (their most DoT answers a second on one CPU are about
  50,000-90,000 here), so the CPU per query is not measured at saturation.
- *8. at scale* (only with \`--only scale\` or \`all\`, or \`--quick\`):
  $SCALE_NAMES names; each resolver, with a cache budget of $SCALE_MIB MiB (Unbound
  $((SCALE_MIB / 2)) + $((SCALE_MIB - SCALE_MIB / 2)) MiB), is asked every name once at $SCALE_WARM_QPS/s (about
  the most both take without losing queries here; a lost one is asked
  again at $WARM_QPS/s), then the names shuffled at $HIT_QPS/s.  Memory
  per name and the hits' CPU and latency are set beside workloads 4 and
  1 (flat: a ratio near 1).
- *9. eviction*: a cache budget of $EVICT_MIB MiB (Unbound $((EVICT_MIB / 2)) + $((EVICT_MIB - EVICT_MIB / 2)) MiB).
  First, once, how many names it holds: $EVICT_PROBE names asked once in
  order, then again newest first; a cache that drops its least recently
  used entries answers the newest names it kept from memory and misses
  on every older one, and the misses are counted from the namespace's
  UDP datagrams (/proc/net/snmp: a miss adds NSD's query and answer).
  Each server's working set is twice the names it holds: every name once
  (shuffled) fills the cache, then names drawn at random from the set at
  $EVICT_QPS/s (about half are misses), with \`dnsperf -S 1\`: the
  fewest answers in one second (the answer lines between two of its -S
  lines) and the slowest answer show a stall.

CPU per query: the server's utime+stime (/proc/PID/stat, all threads,
clock ticks of 10 ms) over a $SECS s dnsperf run at the fixed rate, divided
by the answered queries.  Max QPS: a separate $SECS s run without a rate
limit (\`dnsperf $MAX_ARGS\`), on the same CPU split.  Workload 3 also
measures NSD's own most answers a second for fresh cold names (dnsperf
straight to NSD, on CPU 1 beside dnsperf as in every run): the ceiling
of the resolvers' cold-miss max-QPS runs.  Latency at the fixed rate:
dnsperf's average, and p50, p99, p99.9 and the maximum over every query
sent, from the line \`dnsperf -v\` prints for each answer ("> NOERROR
NAME TYPE SECONDS", the same clock as its average; written to a file on
tmpfs: the achieved rate stays at the offered one, see the tables); a
lost query counts as slower than any answer.  A query unanswered after
2 s is lost.
The lost queries are also counted at the server's own port 53 sockets
(\`ss -m\`, "d": dropped because the socket's receive buffer was full).
minidnsd sets a 4 MiB receive buffer on its UDP sockets and Unbound is
given the same (\`so-rcvbuf: 4m\`; the kernel default,
net.core.rmem_default, is $(cat /proc/sys/net/core/rmem_default) bytes):
dnsperf keeps up to 1,000 queries outstanding, so a server that stops
reading for a few milliseconds at $HIT_QPS/s loses queries there rather
than slowing the load down.

$(cat "$T/tables.md")
EOF

echo
cat "$T/doc.md"
echo
echo "runtime: ${runtime} s"
if [ -n "$DOC" ]; then
	python3 "$GEN" doc "$DOC" "$T/doc.md" "$LABEL"
	echo "written: $DOC (## Resolver comparison, ### $LABEL)"
fi
