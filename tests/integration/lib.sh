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
#   md_it_unbound_hierarchy FILE NAME ADDR HINTS ANCHOR [LINE...]
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
#				until it answers is the caller's.  With
#				--zone-opt LINE (after the --opt ones), LINE
#				such as 'provide-xfr: 127.0.0.0/8 NOKEY' is
#				added to every zone:.
#   md_it_print_zones DIR	write the zones the printing comparisons use
#				into DIR: sec.test (signed at run time with
#				ldns-signzone, NSEC, a KSK and a ZSK, a signed
#				delegation with DS), n3.test (NSEC3), svc.test
#				(SVCB/HTTPS parameters; OPENPGPKEY, CERT,
#				DHCID, IPSECKEY, ZONEMD, an unknown type),
#				idn.test (A-labels),
#				many.test (3,000 records: a transfer of several
#				messages); files ZONE.zone, the signed ones
#				ZONE.signed
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

# md_it_unbound_hierarchy FILE NAME ADDR HINTS ANCHOR [LINE...]: an Unbound
# of the test hierarchy (hierarchy/hierarchy.sh) on ADDR:53: its root
# HINTS, the test. names resolved (not Unbound's default local zone),
# validating from the trust-anchor file ANCHOR ("" for an iterator only);
# each LINE another server: option ("ede: yes").
md_it_unbound_hierarchy() {
	local file=$1 name=$2 addr=$3 hints=$4 anchor=$5 line
	shift 5
	md_it_unbound_conf "$file" "$name"
	if [ -n "$anchor" ]; then
		sed -i 's/module-config: "iterator"/module-config: "validator iterator"/' \
		    "$file"
		printf '\ttrust-anchor-file: "%s"\n' "$anchor" >>"$file"
	fi
	cat >>"$file" <<CONF
	interface: $addr
	port: 53
	root-hints: "$hints"
	do-not-query-localhost: no
	qname-minimisation: yes
	harden-referral-path: no
	local-zone: "test." nodefault
CONF
	for line in "$@"; do printf '\t%s\n' "$line" >>"$file"; done
	printf 'remote-control:\n\tcontrol-enable: no\n' >>"$file"
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
	local dir=$1 addr=$2 z zopts
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
		zopts=""
		while [ "${1:-}" = --zone-opt ]; do
			zopts="$zopts	$2
"
			shift 2
		done
		for z in "$@"; do
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
			    "${z%%=*}" "${z#*=}"
			printf '%s' "$zopts"
		done
	} >"$dir/nsd.conf"
	nsd -d -c "$dir/nsd.conf" >"$dir/out" 2>&1 &
	md_it_nsd_pid=$!
	PIDS="${PIDS:-} $!"
}

# md_it_print_zones DIR: see the top.  Needs ldns-keygen, ldns-key2ds and
# ldns-signzone (Debian's ldnsutils); keys are made afresh each run.
md_it_print_zones() {
	local dir=$1 z ck ksk zsk
	mkdir -p "$dir"
	for z in sec.test n3.test; do
		cat >"$dir/$z.zone" <<ZONE
\$ORIGIN $z.
\$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 60
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
_443._tcp.www TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
_25._tcp.mail TLSA 3 0 1 8CB0FC6C527506A053F4F14C8464BEBBD6DEDE2738D11468DD953D7D6A3021F10CB0FC6C527506A053F4F14C8464BEBBD6DEDE2738D11468DD953D7D6A3021F1
host SSHFP 4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789
host SSHFP 1 1 DC8E2D6E39D4A7B7F3CB27AE0B6E33D6C7A2F4A5
svc HTTPS 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1
svc2 HTTPS 1 svc alpn=h2 no-default-alpn
_dns.svc SVCB 1 svc alpn=dot
loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
loc2 LOC 42 21 54 N 71 06 18 W -24m 30m
ZONE
	done
	(
		cd "$dir" || exit 1
		printf 'child NS ns.child\nns.child A 127.0.0.2\n' \
		    >>sec.test.zone
		ck=$(ldns-keygen -a ED25519 child.sec.test) &&
		    ldns-key2ds -f -n -2 "$ck.key" >>sec.test.zone &&
		    ldns-key2ds -f -n -1 "$ck.key" >>sec.test.zone &&
		    ksk=$(ldns-keygen -a ECDSAP256SHA256 -k sec.test) &&
		    zsk=$(ldns-keygen -a RSASHA256 -b 1024 sec.test) &&
		    ldns-signzone -e 20370101000000 -i 20250101000000 \
			-f sec.test.signed sec.test.zone "$ksk" "$zsk" &&
		    ksk=$(ldns-keygen -a ECDSAP256SHA256 -k n3.test) &&
		    zsk=$(ldns-keygen -a ECDSAP256SHA256 n3.test) &&
		    ldns-signzone -n -a 1 -t 5 -s ABCDEF \
			-e 20370101000000 -i 20250101000000 \
			-f n3.test.signed n3.test.zone "$ksk" "$zsk"
	) >"$dir/sign.log" 2>&1 || return 1
	cat >"$dir/svc.test.zone" <<'ZONE'
$ORIGIN svc.test.
$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 60
@ NS ns
ns A 127.0.0.1
svc3 HTTPS 2 . mandatory=alpn,port alpn=h3,h2 port=443 ech=AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQABAANAEnB1YmxpYy50bHMtZWNoLmRldgAA ipv6hint=2001:db8::1,2001:db8::2 key65000=hello
svc4 SVCB 1 . alpn="a\\,b,c" dohpath=/q{?dns} key65001
svc5 HTTPS 0 svc3
o OPENPGPKEY 4aYiXqn8kb7hPisSJdzi2DWKjuVnmg0Ptwt0DOzsaaNGBL91XXeC46m900BvvRAaLTA3aahhhvsSGecNsMVOGSh2EhP592UgrLkOHNK6GXfFXeMWhuOYLDnDwm462fKFn/FRp+YfmRsdgOPH3evtYTtVqQzJdEtq
c CERT PKIX 12345 RSASHA256 4aYiXqn8kb7hPisSJdzi2DWKjuVnmg0Ptwt0DOzsaaNGBL91XXeC46m900BvvRAaLTA3aahhhvsSGecNsMVOGSh2EhP592UgrLkOHNK6GXfFXeMWhuOYLDnD
d DHCID 4aYiXqn8kb7hPisSJdzi2DWKjuVnmg0Ptwt0DOzsaaNGBL91XXeC46m900BvvRAaLTA3aahhhvsSGecNsMVOGSh2EhP592UgrLkO
i IPSECKEY 10 3 2 gw.svc.test. 4aYiXqn8kb7hPisSJdzi2DWKjuVnmg0Ptwt0DOzsaaNGBL91XXeC46m900BvvRAaLTA3aahhhvsSGecNsMVOGSh2EhP5
z ZONEMD 2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE
x TYPE65281 \# 40 0A0000010A0000010A0000010A0000010A0000010A0000010A0000010A0000010A0000010A000001
ZONE
	cat >"$dir/idn.test.zone" <<'ZONE'
$ORIGIN idn.test.
$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 60
@ NS ns
ns A 127.0.0.1
xn--bcher-kva A 192.0.2.7
www CNAME xn--bcher-kva
_srv._tcp SRV 0 0 80 xn--bcher-kva
xn--abc A 192.0.2.8
ZONE
	{
		printf '$ORIGIN many.test.\n$TTL 300\n'
		printf '@ SOA ns hostmaster 7 3600 900 604800 60\n'
		printf '@ NS ns\nns A 127.0.0.1\n'
		for i in $(seq 0 1499); do
			printf 'h%04d A 10.%d.%d.1\n' "$i" $((i / 256)) \
			    $((i % 256))
			printf 'h%04d TXT "padding padding padding padding %d"\n' \
			    "$i" "$i"
		done
	} >"$dir/many.test.zone"
}
