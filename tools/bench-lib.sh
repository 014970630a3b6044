# SPDX-License-Identifier: BSD-3-Clause
#
# bench-lib.sh - the harness tools/bench.sh, tools/bench-k8s.sh and
# tools/profile-hotpath.sh share, sourced after their 'set -eu':
#
#   . "$(dirname "$0")/bench-lib.sh"
#   md_bench_netns NAME "$@"	root check, the packages the benchmarks use
#				(tools/quickstart.sh bench-deps: dnsperf,
#				valgrind, the test peers), re-exec inside
#				'unshare -n'
#				(MD_BENCH_NETNS=1 marks the second run), lo
#				up; NAME (the script's, e.g. bench.sh)
#				starts every message of die
#   md_bench_tmp NAME [SECS]	a temporary $T (minidns-NAME.XXXXXX), an
#				empty $PIDS and the exit trap: every process
#				in PIDS gets TERM, then up to SECS seconds
#				(default 2) each before KILL; $T is removed
#   PIDS			processes to stop at exit, by saved PID
#   stop PID [SECS]		stop one of them now: TERM, at most SECS
#				seconds (default 5), KILL; reaped and taken
#				out of PIDS
#   poll [-p PID] [-s STEP] SECS CMD...
#				run CMD (its output discarded) every STEP
#				seconds (default 0.2) until it succeeds, at
#				most SECS seconds; false at once when the
#				process PID has exited
#   md_bench_nsd DIR ADDR ZONE FILE [LINE]...
#				NSD on ADDR for ZONE (FILE: its zone file,
#				absolute), its files in DIR, extra server:
#				LINEs; started under $MD_BENCH_PIN (a taskset
#				command, or empty); PID in NSD_PID and PIDS
#   die TEXT...			"NAME: TEXT" on stderr, exit 1
#
# Not root, or no network namespaces: a message on stderr and exit 1 (the
# benchmarks are run by hand or by 'make bench', not by the test suite:
# no automake skip code).

md_bench_name=${0##*/}

die() {
	echo "$md_bench_name: $*" >&2
	exit 1
}

md_bench_netns() {
	md_bench_name=$1
	shift
	if [ "${MD_BENCH_NETNS:-}" != 1 ]; then
		if [ "$(id -u)" != 0 ]; then
			die "needs root for 'unshare -n' (sudo $0)"
		fi
		if ! unshare -n true 2>/dev/null; then
			die "cannot create a network namespace"
		fi
		# Missing packages first, while the package registry can
		# still be reached (not from inside the namespace).
		sh "$(dirname "$0")/quickstart.sh" bench-deps >&2 ||
		    die "could not install the benchmark's packages"
		MD_BENCH_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
	fi
	ip link set lo up
}

md_bench_tmp() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/minidns-$1.XXXXXX")
	md_bench_wait=${2:-2}
	PIDS=""
	trap md_bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

# md_bench_gone PID SECS: true once PID has exited (checked every 0.1 s),
# false after SECS seconds
md_bench_gone() {
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

md_bench_cleanup() {
	local pid
	for pid in $PIDS; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $PIDS; do
		md_bench_gone "$pid" "$md_bench_wait" ||
		    kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$T"
}

stop() {
	local pid=$1 p rest=""
	kill -TERM "$pid" 2>/dev/null || true
	md_bench_gone "$pid" "${2:-5}" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in $PIDS; do
		[ "$p" = "$pid" ] || rest="$rest $p"
	done
	PIDS=$rest
}

poll() {
	local pid="" step=0.2 end
	while :; do
		case "$1" in
		-p) pid=$2; shift 2 ;;
		-s) step=$2; shift 2 ;;
		*) break ;;
		esac
	done
	end=$((SECONDS + $1))
	shift
	while :; do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep "$step"
	done
}

md_bench_nsd() {
	local dir=$1 addr=$2 zone=$3 file=$4 line
	shift 4
	mkdir -p "$dir"
	{
		cat <<-EOF
		server:
			ip-address: $addr
			port: 53
			database: ""
			username: ""
			zonesdir: "$dir"
			pidfile: "$dir/nsd.pid"
			logfile: "$dir/nsd.log"
			xfrdfile: "$dir/xfrd.state"
			zonelistfile: "$dir/zone.list"
			server-count: 1
			verbosity: 0
			# no response rate limiting: the benchmarks' wildcard
			# answers would be truncated (RRL slip) after 200/s
			rrl-ratelimit: 0
			rrl-whitelist-ratelimit: 0
		EOF
		for line in "$@"; do
			printf '\t%s\n' "$line"
		done
		cat <<-EOF
		remote-control:
			control-enable: no
		zone:
			name: $zone
			zonefile: "$file"
		EOF
	} >"$dir/nsd.conf"
	# shellcheck disable=SC2086
	${MD_BENCH_PIN:-} nsd -d -c "$dir/nsd.conf" >"$dir/out" 2>&1 &
	NSD_PID=$!
	PIDS="$PIDS $NSD_PID"
}
