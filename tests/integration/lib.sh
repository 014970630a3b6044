# SPDX-License-Identifier: BSD-3-Clause
#
# lib.sh - the harness every integration script shares, sourced at its top:
#
#   . "$(dirname "$0")/lib.sh"
#   md_it_start NAME "$@"	root check, re-exec inside 'unshare -n' (and a
#				PID namespace when md_it_pidns=yes), lo up,
#				$here $srcdir $builddir, a temporary $T
#				(minidns-NAME.XXXXXX) removed at exit
#   pass / fail / skip / check	the PASS:/FAIL:/SKIP: lines and their counts;
#				fail's second argument is a log file (its
#				last 20 lines are shown) or a detail text
#   summary			"N passed, N failed" (the last line), exit 0
#				or 1
#   poll SECS CMD...		run CMD every 0.2 s until it succeeds, at
#				most SECS seconds
#   check_log NAME FILE CMD...	PASS when CMD succeeds, else FAIL with the
#				end of FILE
#   wait_up ADDR NAME [PORT]	a bounded poll (10 s) until the DNS server
#				on ADDR (port 53 or PORT) answers NAME
#   md_it_kubeconfig FILE SERVER [CA [TOKEN_FILE]]
#				a kubeconfig: one cluster at SERVER (its CA
#				file, if given), one user (a token file, if
#				given), one context, all named test
#   md_it_unbound_conf FILE NAME
#				start an Unbound configuration: server: in
#				the foreground, IPv4, no user or chroot, its
#				files $T/NAME.pid and $T/NAME.log, one thread,
#				127.0.0.0/8 allowed, the iterator only; the
#				caller appends its interface: and the rest
#   running PID, wait_exit PID [SECS]
#				whether a process runs (a zombie does not);
#				a bounded wait for its end, status in $exit_rc
#   PIDS			processes to stop at exit (TERM, up to 3 s,
#				then KILL), by saved PID
#   md_it_cleanup_hook		a function the script may define; run at
#				exit before the processes are stopped
#   md_it_nsd DIR ADDR [--opt LINE]... ZONE=FILE...
#				write DIR/nsd.conf (NSD on ADDR port 53, IPv4,
#				one server process, every file it writes in
#				DIR, hide-version, no remote control; each
#				LINE such as 'verbosity: 1' added to server:,
#				one zone: per ZONE=FILE, FILE absolute or
#				relative to DIR) and start 'nsd -d' on it in
#				the background, output in DIR/out; the PID in
#				$md_it_nsd_pid and added to $PIDS.  Waiting
#				until it answers is the caller's.
#
# Exit codes for automake: 77 skip (not root, no network namespaces), 99
# hard error (nothing built).  The functions work with or without 'set -e'.

md_it_start() {
	local name=$1
	shift
	# With md_it_pidns=yes set by the script, a PID namespace too when
	# the kernel allows it: the script is its init, so whatever is left
	# (NSD included) ends with it, and --kill-child passes a SIGTERM sent
	# to unshare on so the EXIT trap still cleans up.
	if [ "${MD_IT_NETNS:-}" != 1 ] && [ "${md_it_pidns:-no}" = yes ] &&
	    [ "$(id -u)" = 0 ] &&
	    unshare -n -p -f --mount-proc --kill-child=TERM true 2>/dev/null; then
		MD_IT_NETNS=1 exec unshare -n -p -f --mount-proc \
		    --kill-child=TERM "$BASH" "$0" "$@"
	fi
	if [ "${MD_IT_NETNS:-}" != 1 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "SKIP: $name needs root for 'unshare -n'"
			exit 77
		fi
		if ! unshare -n true 2>/dev/null; then
			echo "SKIP: cannot create a network namespace (unshare -n)"
			exit 77
		fi
		MD_IT_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
	fi
	ip link set lo up
	here=$(cd "$(dirname "$0")" && pwd)
	srcdir=${abs_top_srcdir:-$(cd "$here/../.." && pwd)}
	builddir=${abs_top_builddir:-$(pwd)}
	T=$(mktemp -d "${TMPDIR:-/tmp}/minidns-$name.XXXXXX")
	PIDS=""
	npass=0
	nfail=0
	nskip=0
	trap md_it_cleanup EXIT
	trap 'exit 1' INT TERM
}

# md_it_need TOOL...: skip (77) when one of them is not installed.
# md_it_pod_getent DNS NS ARGS...: getent ARGS as a pod of namespace NS
# resolves: a pod's resolv.conf (nameserver DNS, the three search domains,
# ndots:5) and files-then-DNS hosts lookups bind-mounted over /etc in a
# mount namespace of its own.  Output in $T/getent.out, exit code in $grc.
# Use ahosts, not ahostsv4: the latter sets AI_ADDRCONFIG, and a namespace
# with loopback addresses only has no address that counts, so glibc would
# not even ask.
md_it_pod_getent() {
	local dns=$1 ns=$2
	shift 2
	printf 'hosts: files dns\n' >"$T/nsswitch.conf"
	printf 'nameserver %s\nsearch %s.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:2\n' \
	    "$dns" "$ns" >"$T/resolv.$ns.conf"
	grc=0
	timeout 20 unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf &&
	    mount --bind "$2" /etc/nsswitch.conf && shift 2 &&
	    exec getent "$@"' sh "$T/resolv.$ns.conf" "$T/nsswitch.conf" \
	    "$@" >"$T/getent.out" 2>&1 || grc=$?
}

md_it_need() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "SKIP: $tool is not installed"
			exit 77
		fi
	done
}

# md_it_built FILE...: a hard error (99) when one of them is not built.
md_it_built() {
	local f
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			echo "ERROR: $f not built (run from the build directory)"
			exit 99
		fi
	done
}

md_it_cleanup() {
	local pid
	if declare -F md_it_cleanup_hook >/dev/null; then
		md_it_cleanup_hook || true
	fi
	for pid in $PIDS; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $PIDS; do
		wait_exit "$pid" 3 || kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$T"
}

pass() {
	echo "PASS: $1"
	npass=$((npass + 1))
}

fail() {
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		echo "FAIL: $1"
		sed 's/^/  | /' "$2" | tail -n 20
	else
		echo "FAIL: $1${2:+ ($2)}"
	fi
	nfail=$((nfail + 1))
}

skip() {
	echo "SKIP: $1${2:+ ($2)}"
	nskip=$((nskip + 1))
}

# check NAME COMMAND...: PASS when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

summary() {
	[ "$nskip" = 0 ] || echo "$nskip skipped"
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ] && exit 0
	exit 1
}

md_it_kubeconfig() {
	{
		printf 'apiVersion: v1\nkind: Config\nclusters:\n'
		printf -- '- name: test\n  cluster:\n    server: %s\n' "$2"
		[ -z "${3:-}" ] || printf '    certificate-authority: %s\n' "$3"
		printf 'users:\n- name: test\n'
		if [ -n "${4:-}" ]; then
			printf '  user:\n    tokenFile: %s\n' "$4"
		else
			printf '  user: {}\n'
		fi
		printf 'contexts:\n- name: test\n  context:\n'
		printf '    cluster: test\n    user: test\ncurrent-context: test\n'
	} >"$1"
}

md_it_unbound_conf() {
	cat >"$1" <<CONF
server:
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$T"
	pidfile: "$T/$2.pid"
	use-syslog: no
	logfile: "$T/$2.log"
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
CONF
}

check_log() {
	local name=$1 file=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$file"; fi
}

wait_up() {
	poll 10 dig @"$1" -p "${3:-53}" +time=1 +tries=1 "$2"
}

poll() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

running() {
	local state
	# read once: the process may be reaped between a test and a read
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# wait_exit PID [SECS]: true once it has exited (reaped, status in
# $exit_rc), false after SECS (default 10) seconds.
wait_exit() {
	local i
	exit_rc=""
	for i in $(seq $((${2:-10} * 10))); do
		if ! running "$1"; then
			exit_rc=0
			wait "$1" 2>/dev/null || exit_rc=$?
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# md_it_nsd DIR ADDR [--opt LINE]... ZONE=FILE...: see the top.
md_it_nsd() {
	local dir=$1 addr=$2 z
	shift 2
	mkdir -p "$dir"
	{
		cat <<CONF
server:
	ip-address: $addr
	port: 53
	do-ip6: no
	reuseport: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonesdir: "$dir"
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	cookie-secret-file: "$dir/cookiesecrets.txt"
	hide-version: yes
CONF
		while [ "${1:-}" = --opt ]; do
			printf '\t%s\n' "$2"
			shift 2
		done
		printf 'remote-control:\n\tcontrol-enable: no\n'
		for z in "$@"; do
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
			    "${z%%=*}" "${z#*=}"
		done
	} >"$dir/nsd.conf"
	nsd -d -c "$dir/nsd.conf" >"$dir/out" 2>&1 &
	md_it_nsd_pid=$!
	PIDS="${PIDS:-} $!"
}
