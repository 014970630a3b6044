#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Benchmark of DNSSEC validation (issue 14; a benchmark, not a test: it
# reports numbers and asserts nothing about time): the CPU one cold miss
# into a signed zone costs minidnsd, validating, beside Unbound validating
# the same zones in the same run.
#
# The hierarchy is made and signed at start (ldns-keygen, ldns-signzone,
# ldns-key2ds, as tests/integration/hierarchy/hierarchy.sh does), once per
# algorithm (ALGS, default "13 8": ECDSA P-256, RSASHA256 2048 bits):
#   .                    127.62.0.1 (NSD), NSEC
#   tld1. tld2. tld3.    127.62.1.1 (one NSD), NSEC (tld3. NSEC3)
#   zK.tldM., K=1..ZONES 127.62.2.1 (one NSD), odd K NSEC, even K NSEC3
#                        (RFC 9276: no opt-out, 0 iterations), each with
#                        NAMES names hI (A 10.x.y.z)
# Each resolver (one worker thread, pinned to CPU 0; NSD and dnsperf on
# CPU 1) starts fresh, is asked the SOA of every zone (not measured: the
# keys and delegations are then cached), then QUERIES names hI.zK.tldM
# never asked before (shuffled, every name once, at RATE/s), then QUERIES
# names that do not exist in the NSEC zones (NXDOMAIN, "nx"), then QUERIES
# in the NSEC3 zones ("nx3").  CPU per
# query: utime+stime of the resolver (/proc/PID/stat, all threads) over
# the dnsperf run, divided by the answered queries.  Upstream queries per
# question: UDP datagrams and TCP segments with PSH (one per query) to the
# NSD addresses (iptables counters in the namespace) over the run.  Modes: "validate" (minidnsd
# dnssec: validate; Unbound module-config "validator iterator") and "off"
# (dnssec: off; "iterator"), so the cost of validation itself shows; the
# same trust anchor (the bench root's KSK) and root hints; aggressive NSEC
# off for both (every NXDOMAIN goes upstream).  After each run in mode
# validate, the run's first question is asked again with dig +dnssec: the
# answer (from the cache) must have AD, or the table says AD MISSING.
# Each line is the median of REPS runs (default 3), the resolvers taking
# turns, a fresh process for each.
#
# PERF=1: after the runs, one more run of each resolver in mode validate
# per algorithm, each question set under 'perf record --call-graph
# dwarf'; the top lines of 'perf report' (by shared object; by symbol,
# callers included) in PERF_OUT-WHO-ALG-KIND.txt (PERF_OUT default
# ./bench-dnssec-perf; KIND pos, nx, nx3).
#
# Usage: sudo tools/bench-dnssec.sh [MINIDNSD]   (from the build
# directory; default ./minidnsd).  Environment: ALGS, ZONES (20), NAMES
# (2000 per zone), QUERIES (6000), RATE (2000), REPS (3), PERF.
# Re-executes itself inside 'unshare -n' (needs root); only 127.x
# addresses; every process stopped by saved PID; every wait bounded;
# temporary files removed at exit.  About 3 minutes per algorithm (the
# RSA zones take half a minute to sign).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-lib.sh"
md_bench_netns bench-dnssec.sh "$@"
md_bench_tmp bench-dnssec 2

MINIDNSD=${1:-$(pwd)/minidnsd}
[ -x "$MINIDNSD" ] || die "$MINIDNSD: not an executable minidnsd"
MINIDNSD=$(cd "$(dirname "$MINIDNSD")" && pwd)/${MINIDNSD##*/}
for tool in dig unbound nsd dnsperf taskset ldns-keygen ldns-signzone \
    ldns-key2ds iptables; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (resolver on CPU 0, NSD and dnsperf on CPU 1)"
ALGS=${ALGS:-13 8}
ZONES=${ZONES:-20}
NAMES=${NAMES:-2000}
QUERIES=${QUERIES:-6000}
RATE=${RATE:-2000}
REPS=${REPS:-3}
PERF=${PERF:-0}
[ "$PERF" != 1 ] || command -v perf >/dev/null || die "perf is not installed"
[ "$QUERIES" -le $((ZONES * NAMES)) ] || die "QUERIES is more than ZONES*NAMES"

ROOT=127.62.0.1
TLD=127.62.1.1
SLD=127.62.2.1
declare -A ADDR=([minidnsd]=127.62.9.1 [unbound]=127.62.9.2)
PIN_SRV="taskset -c 0"
PIN_CLI="taskset -c 1"
HZ=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# upstream: the resolvers' queries to the three NSD addresses, "UDP TCP"
# (a query over TCP: a segment with PSH, its length and message)
iptables -N MDUP
for a in $ROOT $TLD $SLD; do
	iptables -A MDUP -d $a -p udp --dport 53
	iptables -A MDUP -d $a -p tcp --dport 53 --tcp-flags PSH PSH
done
iptables -A OUTPUT -j MDUP
upstream() {
	iptables -nvxL MDUP |
	    awk '$3 == 17 { u += $1 } $3 == 6 { t += $1 } END { print u + 0, t + 0 }'
}

# zone K: its TLD
tld_of() { echo "tld$(((($1 - 1) % 3) + 1))"; }

# ---- the signed hierarchy ----------------------------------------------------
#
# sign DIR ZONE FILE ALG [ldns-signzone options]: keys for ZONE, FILE
# signed into FILE.signed, the KSK's DS in FILE.ds (the KSK in
# DIR/root.key for the root).
sign() {
	local d=$1 zone=$2 file=$3 alg=$4 zsk ksk bits=()
	shift 4
	[ "$alg" != RSASHA256 ] || bits=(-b 2048)
	(cd "$d" &&
	    zsk=$(ldns-keygen -a "$alg" "${bits[@]}" "$zone") &&
	    ksk=$(ldns-keygen -a "$alg" "${bits[@]}" -k "$zone") &&
	    ldns-signzone -o "$zone" "$@" "$file" "$zsk" "$ksk" &&
	    ldns-key2ds -n -2 "$ksk.key" >"$file.ds" &&
	    if [ "$zone" = . ]; then cp "$ksk.key" root.key; fi) \
	    >>"$d/sign.log" 2>&1 ||
	    { tail -n 20 "$d/sign.log" >&2; die "cannot sign $zone"; }
}

# hierarchy DIR ALG: the zones of the header, signed with ALG
hierarchy() {
	local d=$1 alg=$2 k t n=0
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/root.zone" <<EOF
\$TTL 86400
.	SOA	a.rootserv. hostmaster.rootserv. 1 1800 900 604800 3600
.	NS	a.rootserv.
a.rootserv.	A	$ROOT
EOF
	for t in tld1 tld2 tld3; do
		printf '%s.\tNS\tns.nic.%s.\nns.nic.%s.\tA\t%s\n' $t $t $t $TLD \
		    >>"$d/root.zone"
		cat >"$d/$t.zone" <<EOF
\$ORIGIN $t.
\$TTL 86400
@	SOA	ns.nic hostmaster.nic 1 1800 900 604800 3600
@	NS	ns.nic
ns.nic	A	$TLD
EOF
	done
	for k in $(seq 1 "$ZONES"); do
		t=$(tld_of "$k")
		printf 'z%d\tNS\tns.z%d\nns.z%d\tA\t%s\n' "$k" "$k" "$k" $SLD \
		    >>"$d/$t.zone"
		awk -v z="z$k.$t." -v a=$SLD -v n="$NAMES" -v k="$k" 'BEGIN {
			printf "$ORIGIN %s\n$TTL 3600\n", z
			printf "@ SOA ns hostmaster 1 1800 900 604800 3600\n"
			printf "@ NS ns\nns A %s\n", a
			for (i = 1; i <= n; i++)
				printf "h%d A 10.%d.%d.%d\n", i, k, int(i / 250), i % 250
		}' >"$d/z$k.$t.zone"
	done
	# the second-level zones, two at a time; then their DS into the
	# TLDs, the TLDs, their DS into the root, the root
	for k in $(seq 1 "$ZONES"); do
		t=$(tld_of "$k")
		if [ $((k % 2)) = 1 ]; then
			sign "$d" "z$k.$t." "z$k.$t.zone" "$alg" &
		else
			sign "$d" "z$k.$t." "z$k.$t.zone" "$alg" -n -t 0 -s 5a17 &
		fi
		n=$((n + 1))
		[ $((n % 2)) != 0 ] || wait
	done
	wait
	[ "$(ls "$d"/z*.zone.ds | wc -l)" = "$ZONES" ] || die "signing failed"
	for k in $(seq 1 "$ZONES"); do
		t=$(tld_of "$k")
		cat "$d/z$k.$t.zone.ds" >>"$d/$t.zone"
	done
	sign "$d" tld1. tld1.zone "$alg" &
	sign "$d" tld2. tld2.zone "$alg" &
	wait
	sign "$d" tld3. tld3.zone "$alg" -n -t 0 -s 5a17
	cat "$d"/tld[123].zone.ds >>"$d/root.zone"
	sign "$d" . root.zone "$alg"
	printf '.\t3600000\tNS\ta.rootserv.\na.rootserv.\t3600000\tA\t%s\n' \
	    $ROOT >"$d/root.hints"
}

# nsd_start DIR NAME ADDR ZONE...: one NSD for the signed ZONEs
nsd_start() {
	local zd=$1 name=$2 d=$1/nsd-$2 addr=$3 z f
	shift 3
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<EOF
server:
	ip-address: $addr
	port: 53
	database: ""
	username: ""
	zonesdir: "$zd"
	pidfile: "$d/nsd.pid"
	logfile: "$d/nsd.log"
	xfrdfile: "$d/xfrd.state"
	zonelistfile: "$d/zone.list"
	server-count: 1
	verbosity: 0
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
EOF
	for z in "$@"; do
		f=$z.zone.signed
		[ "$z" = . ] && f=root.zone.signed
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$z" "$f" \
		    >>"$d/nsd.conf"
	done
	$PIN_CLI nsd -d -c "$d/nsd.conf" >"$d/out" 2>&1 &
	PIDS="$PIDS $!"
	poll -p $! 30 sh -c "dig @$addr +time=1 +tries=1 +norec $z SOA | grep -q 'status: NOERROR'" ||
	    { cat "$d/out" "$d/nsd.log" >&2 2>/dev/null; die "NSD $name did not start"; }
}

# ---- the resolvers -------------------------------------------------------------
#
# start WHO MODE DIR: WHO (minidnsd, unbound) on its address, one worker,
# pinned to CPU 0; MODE validate or off; sets SRV_PID
start() {
	local who=$1 mode=$2 d=$3 addr=${ADDR[$1]} mods="iterator" ta=""
	if [ "$who" = minidnsd ]; then
		cat >"$T/md.yaml" <<EOF
listen: [ "$addr:53" ]
threads: 1
zones: []
root-hints: $d/root.hints
allow-private-upstreams: yes
dnssec: $mode
trust-anchor-file: $d/root.key
aggressive-nsec: no
cache-size: 256
access-control: [ 127.0.0.0/8 ]
metrics: "off"
health: "off"
ready: "off"
EOF
		$PIN_SRV "$MINIDNSD" -f -q -c "$T/md.yaml" >"$T/md.log" 2>&1 &
	else
		if [ "$mode" = validate ]; then
			mods="validator iterator"
			ta="trust-anchor-file: \"$d/root.key\""
		fi
		cat >"$T/ub.conf" <<EOF
server:
	interface: $addr
	port: 53
	chroot: ""
	username: ""
	directory: "$T"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 0
	num-threads: 1
	msg-cache-size: 128m
	rrset-cache-size: 128m
	root-hints: "$d/root.hints"
	module-config: "$mods"
	$ta
	aggressive-nsec: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
remote-control:
	control-enable: no
EOF
		unbound-checkconf "$T/ub.conf" >/dev/null ||
		    die "unbound-checkconf refused $T/ub.conf"
		$PIN_SRV unbound -d -c "$T/ub.conf" >"$T/ub.log" 2>&1 &
	fi
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
	poll -p $SRV_PID 20 sh -c "dig @$addr +time=1 +tries=1 z1.tld1. SOA | grep -q 'status: NOERROR'" ||
	    { cat "$T/md.log" "$T/ub.log" >&2 2>/dev/null; die "$who ($mode) did not start"; }
}

# run WHO KIND FILE: one dnsperf pass over FILE (every name once) against
# WHO (PID SRV_PID); prints "us_per_query upstream_per_query rcodes"
run() {
	local who=$1 kind=$2 file=$3 out=$T/dnsperf.$1.$2 c0 c1 u0 u1 t0 t1
	read -r u0 t0 <<<"$(upstream)"
	c0=$(cpu_ticks "$SRV_PID")
	timeout 300 $PIN_CLI dnsperf -s "${ADDR[$who]}" -d "$file" -n 1 \
	    -Q "$RATE" -c 8 -q 500 -t 5 >"$out" 2>&1 ||
	    { tail -n 20 "$out" >&2; die "dnsperf failed ($who, $kind)"; }
	c1=$(cpu_ticks "$SRV_PID")
	read -r u1 t1 <<<"$(upstream)"
	kill -0 "$SRV_PID" 2>/dev/null || die "$who exited during $kind"
	awk -v t=$((c1 - c0)) -v u=$((u1 - u0 + t1 - t0)) -v tcp=$((t1 - t0)) \
	    -v hz="$HZ" '
	    /Queries completed:/ { done = $3 }
	    /Response codes:/ { sub(/.*Response codes: */, ""); gsub(/ /, ""); rc = $0 }
	    END { printf "%.1f %.2f/%.2f %s\n", (done ? t / hz * 1e6 / done : 0),
		(done ? u / done : 0), (done ? tcp / done : 0), rc }' "$out"
}

# ad WHO NAME: "ad" when WHO's answer to NAME (dig +dnssec) has the AD
# flag, else "no-ad", then the status
ad() {
	dig @"${ADDR[$1]}" +dnssec +time=3 +tries=1 "$2" A 2>/dev/null |
	    awk '/^;; flags:/ { f = ($0 ~ /flags:[^;]* ad[ ;]/) ? "ad" : "no-ad" }
		/status:/ { s = $6; sub(/,/, "", s) }
		END { print f, s }'
}

# ---- the runs ----------------------------------------------------------------

v_md=$("$MINIDNSD" --version 2>&1 | head -1)
v_ub=$(unbound -V 2>&1 | head -1)
echo "# $v_md, Unbound ${v_ub#Version }, $(nsd -v 2>&1 | head -1), $(nproc) CPUs"
echo "# $ZONES zones of $NAMES names, $QUERIES queries per run at $RATE/s, $REPS runs"
printf '%-10s %-4s %-8s %-9s %-4s %9s %11s  %-7s %s\n' alg kind mode resolver rep \
    us/query up/tcp/query ad rcodes
for alg in $ALGS; do
	case $alg in
	13) aname=ECDSAP256SHA256 ;;
	8) aname=RSASHA256 ;;
	*) die "ALGS: 13 or 8, not $alg" ;;
	esac
	d=$T/z$alg
	s=$SECONDS
	hierarchy "$d" $aname
	echo "# alg $alg: hierarchy signed in $((SECONDS - s)) s"
	sld_zones=""
	for k in $(seq 1 "$ZONES"); do
		sld_zones="$sld_zones z$k.$(tld_of "$k")"
	done
	nsd_start "$d" root $ROOT .
	nsd_start "$d" tld $TLD tld1 tld2 tld3
	# shellcheck disable=SC2086
	nsd_start "$d" sld $SLD $sld_zones
	# the query files: SOAs (warm-up), names, NXDOMAIN names
	for k in $(seq 1 "$ZONES"); do
		echo "z$k.$(tld_of "$k"). SOA"
	done >"$T/warm.txt"
	awk -v z="$ZONES" -v n="$NAMES" 'BEGIN {
		for (k = 1; k <= z; k++) for (i = 1; i <= n; i++)
			printf "h%d.z%d.tld%d. A\n", i, k, (k - 1) % 3 + 1 }' |
	    shuf -n "$QUERIES" >"$T/pos.txt"
	# nx: in the NSEC zones (odd K), nx3: in the NSEC3 zones (even K);
	# hIxJ sorts right after hI, so the names fall into all the NSEC
	# spans (not one span after the last name)
	for kind in nx nx3; do
		awk -v z="$ZONES" -v n="$NAMES" -v q="$QUERIES" -v s=$RANDOM \
		    -v o=$kind 'BEGIN { srand(s)
			for (j = 1; j <= q; j++) {
				k = 2 * int(rand() * int(z / 2)) + (o == "nx" ? 1 : 2)
				printf "h%dx%d.z%d.tld%d. A\n", int(rand() * n) + 1,
				    j, k, (k - 1) % 3 + 1 } }' >"$T/$kind.txt"
	done
	for rep in $(seq 1 "$REPS"); do
		for mode in validate off; do
			for who in minidnsd unbound; do
				start $who $mode "$d"
				dnsperf -s "${ADDR[$who]}" -d "$T/warm.txt" -n 1 \
				    -t 5 >/dev/null 2>&1 || true
				for kind in pos nx nx3; do
					file=$T/$kind.txt
					read -r us up rc <<<"$(run $who $kind "$file")"
					chk=-
					if [ $mode = validate ]; then
						chk=$(ad $who "$(head -1 "$file" | cut -d' ' -f1)" |
						    tr ' ' /)
					fi
					printf '%-10s %-4s %-8s %-9s %-4s %9s %11s  %-7s %s\n' \
					    "$aname" $kind $mode $who "$rep" "$us" "$up" \
					    "$chk" "$rc"
					echo "$aname $kind $mode $who $us $up $chk" \
					    >>"$T/results"
				done
				stop "$SRV_PID"
			done
		done
	done
	if [ "$PERF" = 1 ]; then
		for who in minidnsd unbound; do
			start $who validate "$d"
			dnsperf -s "${ADDR[$who]}" -d "$T/warm.txt" -n 1 -t 5 \
			    >/dev/null 2>&1 || true
			for kind in pos nx nx3; do
				perf record -q -F 999 --call-graph dwarf,16384 \
				    -p "$SRV_PID" -o "$T/perf.data" >/dev/null 2>&1 &
				ppid=$!
				PIDS="$PIDS $ppid"
				sleep 1
				run $who $kind "$T/$kind.txt" >/dev/null
				kill -INT $ppid
				md_bench_gone $ppid 60 || true
				wait $ppid 2>/dev/null || true
				out=${PERF_OUT:-$(pwd)/bench-dnssec-perf}-$who-$alg-$kind.txt
				{
					perf report -i "$T/perf.data" --no-children \
					    --sort dso --stdio -g none 2>/dev/null |
					    grep -v '^#' | grep . | head -15
					echo
					perf report -i "$T/perf.data" --children \
					    --sort sym --stdio -g none 2>/dev/null |
					    grep -v '^#' | grep . | head -120
				} >"$out"
				echo "# perf report of $who ($aname, $kind): $out"
			done
			stop "$SRV_PID"
		done
	fi
	for p in $PIDS; do
		case $p in "$SRV_PID") ;; *) stop "$p" ;; esac
	done
	PIDS=""
done

# ---- medians -----------------------------------------------------------------
echo
echo "# resolver CPU us per question, median (min-max); upstream queries per question, median"
printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' Algorithm Questions Mode \
    "minidnsd us/query" "Unbound us/query" "minidnsd / Unbound" \
    "Upstream queries/question: minidnsd; Unbound" "AD set"
echo "|---|---|---|---|---|---|---|---|"
awk '
function med(key,   n, i, j, a, t) {
	n = split(vals[key], a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) {
		t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# "median (min-max)" of the CPU figures of key
function spread(key,   m) {
	m = med(key)
	return lo == hi ? sprintf("%.0f", m) : sprintf("%.0f (%.0f-%.0f)", m, lo, hi)
}
# the median of the upstream queries, and of those over TCP: "Q (T TCP)"
function upmed(key,   n, i, a, b, q, t) {
	n = split(ups[key], a, " ")
	q = t = ""
	for (i = 1; i <= n; i++) { split(a[i], b, "/"); q = q " " b[1]; t = t " " b[2] }
	vals["x"] = q; q = med("x")
	vals["x"] = t; t = med("x")
	return t > 0 ? sprintf("%.2f (%.2f TCP)", q, t) : sprintf("%.2f", q)
}
{
	k = $1 " " $2 " " $3
	if (!(k in seen)) { seen[k] = 1; order[++no] = k }
	vals[k " " $4] = vals[k " " $4] " " $5
	ups[k " " $4] = ups[k " " $4] " " $6
	if ($7 != "-" && $7 !~ /^ad\//) bad[k] = bad[k] " " $4 ":" $7
	if ($7 ~ /^ad\//) adok[k] = 1
}
END {
	for (i = 1; i <= no; i++) {
		split(order[i], f, " ")
		m = med(order[i] " minidnsd"); u = med(order[i] " unbound")
		um = upmed(order[i] " minidnsd"); uu = upmed(order[i] " unbound")
		a = f[3] == "off" ? "-" : (order[i] in bad ? "MISSING" bad[order[i]] : "both")
		sm = spread(order[i] " minidnsd"); su = spread(order[i] " unbound")
		printf "| %s | %s | %s | %s | %s | %.2f | %s; %s | %s |\n",
		    f[1], f[2] == "pos" ? "names" : f[2] == "nx" ? "NXDOMAIN (NSEC)" : "NXDOMAIN (NSEC3)", f[3], sm, su,
		    (u > 0 ? m / u : 0), um, uu, a
	}
}' "$T/results"
