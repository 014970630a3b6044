#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Recursion tests: a real test DNS hierarchy (NSD authoritative servers
# on 127.53.x.y, see hierarchy/hierarchy.sh) resolved from the test root
# hints by a real Unbound (the reference, 127.53.9.1) and, when MINIDNSD
# names a minidnsd binary, by minidnsd (127.53.9.2).  Every case of
# hierarchy/cases.txt is asked of both; the rcode and the normalized answer
# (owner lower-cased, TTL and class dropped, sorted, plus the SOA of a
# negative answer's authority section) must be equal.
#
# Without MINIDNSD it validates the hierarchy: Unbound's result for each
# case must match the case's expected rcode and answer fragment.
#
# Output: PASS: NAME TYPE / FAIL: NAME TYPE (with a diff or the reason),
# then "N passed, N failed"; exit 1 on any failure, 77 (skip) when not root,
# when a network namespace cannot be made or a tool is missing.
# VERBOSE=1 prints every normalized answer, Unbound's EDE lines and, on
# exit, the tails of the resolvers' logs.
#
# Ground rules: the harness is lib.sh's; the script re-executes itself
# inside a private network namespace (unshare -n; here also a private PID
# namespace when the kernel allows it, so nothing can outlive the script)
# and only ever talks to 127.53.0.0/16; the resolvers get the test root
# hints, never the real ones, and no forwarders; nothing is asked via
# /etc/resolv.conf (every dig names its server).  Every process started is
# stopped by saved PID at exit, every wait is bounded, temporary files live
# in one mktemp -d directory removed at exit.
set -eu

. "$(dirname "$0")/lib.sh"
# a PID namespace too: whatever is left (NSD included) ends with the script
md_it_pidns=yes
md_it_start rec "$@"

H=$here/hierarchy
CASES=${CASES:-$H/cases.txt}
UNBOUND_ADDR=127.53.9.1
MINIDNSD_ADDR=127.53.9.2
VERBOSE=${VERBOSE:-0}
# dig's wait per query: long enough for Unbound to give up on the
# blackholed servers and answer SERVFAIL itself.
QTIME=${QTIME:-10}

PATH=$PATH:/usr/sbin
md_it_need nsd unbound unbound-checkconf dig python3

mkdir "$T/h"
started=$SECONDS

# At exit, before lib.sh stops the resolvers we started: the tails of their
# logs (VERBOSE), and the hierarchy.
# shellcheck disable=SC2317 # invoked by lib.sh's EXIT trap
md_it_cleanup_hook() {
	local f
	if [ "$VERBOSE" = 1 ]; then
		for f in "$T"/unbound.log "$T"/minidnsd.log; do
			[ -s "$f" ] || continue
			echo "--- tail of $(basename "$f")"
			tail -n 20 "$f"
		done
	fi
	"$H/hierarchy.sh" stop "$T/h" || true
}

# finish: lib.sh's summary (the last line "N passed, N failed", exit 1
# when anything failed), after the runtime when VERBOSE.
finish() {
	[ "$VERBOSE" != 1 ] || echo "runtime: $((SECONDS - started)) s"
	summary
}

# wait_answer NAME PID ADDR: bounded wait (5 s) until the resolver at
# ADDR replies at all (any rcode) to a query that needs no recursion.
wait_answer() {
	local end=$((SECONDS + 5))
	while [ $SECONDS -le $end ] && running "$2"; do
		if dig @"$3" +time=1 +tries=1 "${PROBE:-localhost.}" A \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "ERROR: $1 did not answer on $3 within 5 s"
	[ ! -s "$T/$1.log" ] || tail -n 20 "$T/$1.log"
	return 1
}

# ask ADDR NAME TYPE: one recursive query (dig retries over TCP by itself
# when the UDP answer is truncated); prints the rcode on the first line,
# then the sorted normalized records: "an OWNER TYPE RDATA" for the answer
# section and "au OWNER SOA RDATA" for a SOA in the authority section
# (the negative answer's zone).  No reply at all gives rcode NORESPONSE.
ask() {
	dig @"$1" +rec +time="$QTIME" +tries=1 "$2" "$3" >"$T/raw" 2>&1 || true
	awk '
		/->>HEADER<<-/ {
			match($0, /status: [A-Z]+/)
			rc = substr($0, RSTART + 8, RLENGTH - 8)
		}
		/^;; ANSWER SECTION:/ { sec = "an"; next }
		/^;; AUTHORITY SECTION:/ { sec = "au"; next }
		/^;; [A-Z]+ SECTION:/ { sec = ""; next }
		/^$/ { sec = ""; next }
		/^;/ { next }
		sec == "an" || (sec == "au" && $4 == "SOA") {
			line = sec " " tolower($1) " " $4
			for (i = 5; i <= NF; i++)
				line = line " " $i
			print line > "/dev/stderr"
		}
		END { print (rc == "" ? "NORESPONSE" : rc) }
	' "$T/raw" 2>"$T/recs"
	sort "$T/recs"
}

# ede: Unbound's Extended DNS Error lines of the last ask, for VERBOSE.
ede() { sed -n 's/^; EDE: /EDE: /p' "$T/raw"; }

# ---- the hierarchy ------------------------------------------------------
if ! "$H/hierarchy.sh" start "$T/h"; then
	fail "hierarchy" "NSD servers did not start"
	finish
fi

# ---- Unbound, the reference resolver -----------------------------------
# Iterator only (no validator), QNAME minimisation on, the test root hints,
# 127/8 allowed as upstream, no forwarders.  The TEST-NET-1 reverse zone and
# test. (where the root servers are named) are default local zones in
# Unbound; "nodefault" lets them be resolved from the hierarchy.
# Bounding the all-dead case (www.dead.com.): Unbound backs off
# exponentially on each dead server and, with its default 2-minute
# infra-cache-max-rtt, takes well over a minute to give up; capped at 1 s
# it answers SERVFAIL in about 5 s.  discard-timeout (Unbound >= 1.21, and
# Debian's 1.17 security update) would silently drop any reply that took
# over 1.9 s, so dig (with +tries=1) would see no SERVFAIL at all: 0
# disables it; the line is left out for an Unbound that does not know it.
md_it_unbound_conf "$T/unbound.conf" unbound
cat >>"$T/unbound.conf" <<CONF
	interface: $UNBOUND_ADDR
	port: 53
	verbosity: $([ "$VERBOSE" = 1 ] && echo 2 || echo 1)
	root-hints: "$H/root.hints"
	do-not-query-localhost: no
	qname-minimisation: yes
	harden-referral-path: no
	prefetch: no
	ede: yes
	infra-host-ttl: 60
	infra-cache-max-rtt: 1000
	discard-timeout: 0
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
remote-control:
	control-enable: no
CONF
if ! unbound-checkconf "$T/unbound.conf" >"$T/unbound.out" 2>&1; then
	sed -i '/discard-timeout/d' "$T/unbound.conf"
	if ! unbound-checkconf "$T/unbound.conf" >"$T/unbound.out" 2>&1; then
		cat "$T/unbound.out"
		fail "unbound" "unbound.conf rejected"
		finish
	fi
fi
unbound -d -c "$T/unbound.conf" >"$T/unbound.out" 2>&1 &
PIDS="$PIDS $!"
if ! wait_answer unbound "$!" "$UNBOUND_ADDR"; then
	cat "$T/unbound.out"
	fail "unbound" "did not start"
	finish
fi

# ---- minidnsd, the resolver under test (optional) ----------------------
if [ -n "${MINIDNSD:-}" ]; then
	"$MINIDNSD" -f --listen "$MINIDNSD_ADDR" --root-hints "$H/root.hints" \
	    --allow-private-upstreams >"$T/minidnsd.log" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_answer minidnsd "$!" "$MINIDNSD_ADDR"; then
		fail "minidnsd" "did not start"
		finish
	fi
fi

# ---- the cases ----------------------------------------------------------
# expect NORMALIZED RCODE FRAGMENT: Unbound's result matches cases.txt.
expect() {
	local got_rc
	got_rc=$(head -n 1 "$1")
	if [ "$got_rc" != "$2" ]; then
		echo "rcode $got_rc, expected $2"
		return 1
	fi
	if [ "$3" = - ]; then
		if grep -q '^an ' "$1"; then
			echo "answer section not empty"
			return 1
		fi
	elif ! grep '^an ' "$1" | grep -qF -- "$3"; then
		echo "no answer line contains: $3"
		return 1
	fi
}

n=0
while IFS= read -r line; do
	line=${line%% \#*}
	line=${line%%#*}
	# shellcheck disable=SC2086
	set -- $line
	[ $# -ge 3 ] || continue
	name=$1 type=$2 rc=$3
	shift 3
	frag="$*"
	[ -n "$frag" ] || frag=-
	n=$((n + 1))
	t0=$SECONDS
	ask "$UNBOUND_ADDR" "$name" "$type" >"$T/u.$n"
	if [ "$VERBOSE" = 1 ]; then
		echo "--- $name $type: unbound ($((SECONDS - t0)) s)"
		sed 's/^/  /' "$T/u.$n"
		ede | sed 's/^/  /'
	fi
	why=$(expect "$T/u.$n" "$rc" "$frag") || {
		fail "$name $type" "unbound: $why"
		continue
	}
	if [ -z "${MINIDNSD:-}" ]; then
		pass "$name $type"
		continue
	fi
	ask "$MINIDNSD_ADDR" "$name" "$type" >"$T/m.$n"
	if [ "$VERBOSE" = 1 ]; then
		echo "--- $name $type: minidnsd"
		sed 's/^/  /' "$T/m.$n"
	fi
	if diff -u --label unbound --label minidnsd "$T/u.$n" "$T/m.$n" \
	    >"$T/diff"; then
		pass "$name $type"
	else
		fail "$name $type"
		cat "$T/diff"
	fi
done <"$CASES"

# ---- minidnsd's own checks ---------------------------------------------
# What the comparison cannot show: EDE codes and reasons, the cache (TTLs
# counting down, negative answers from the cache), identical questions in
# flight sharing one resolution, spoofed and poisoned replies, access
# control, local zones before recursion, 0x20 and minimisation off, and
# serve-stale once the hierarchy is gone.  Only with MINIDNSD.
if [ -z "${MINIDNSD:-}" ]; then
	finish
fi
top=$(cd "$here/../.." && pwd)

# dig against minidnsd (or $2 when given as @ADDR), full output.
mdig() { dig @"$MINIDNSD_ADDR" +time="$QTIME" +tries=1 "$@" 2>&1; }
ttl_of() { awk -v t="$2" '$4 == t && $1 !~ /^;/ { print $2; exit }' "$1"; }
# start_md NAME ADDR ARGS...: another minidnsd, bounded wait.
start_md() {
	local name=$1 addr=$2
	shift 2
	"$MINIDNSD" -f --listen "$addr" "$@" >"$T/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_answer "$name" "$!" "$addr"
}

# Priming (RFC 8109) happened, for the first recursive question.
check "priming: the root NS set was primed" \
    grep -q "priming the root NS set from 2 hints" "$T/minidnsd.log"

# A server asked only about its local zones sends nothing upstream: no
# priming, no resolution, until a recursive question comes.
# (Its readiness probe asks a local name too.)
if PROBE=dns-version.cluster.local. start_md lazy 127.53.9.8 \
    --root-hints "$H/root.hints" --allow-private-upstreams \
    --zone "$top/zones/cluster.local.zone"; then
	dig @127.53.9.8 +time=3 +tries=1 kubernetes.default.svc.cluster.local \
	    >"$T/o" 2>&1
	quiet() {
		grep -q "status: NOERROR" "$T/o" &&
		    ! grep -q "priming" "$T/lazy.log"
	}
	check "priming: none while only local zones are asked" quiet
else
	fail "lazy: minidnsd did not start"
fi

# prime-at-start: yes primes with no question asked, and the root NS set
# it learnt is in the cache (minidns-control dump-cache).  A non-recursive
# query would not show it: like Unbound's default, RD=0 gets no cache data.
CTL=${MINIDNS_CONTROL:-$builddir/minidns-control}
printf 'prime-at-start: yes\n' >"$T/eager.yaml"
if PROBE=dns-version.cluster.local. start_md eager 127.53.9.9 \
    --config "$T/eager.yaml" --metrics off --health off --ready off \
    --control-socket "$T/eager.sock" \
    --root-hints "$H/root.hints" --allow-private-upstreams \
    --zone "$top/zones/cluster.local.zone"; then
	primed() {
		"$CTL" -s "$T/eager.sock" dump-cache >"$T/o" 2>&1 &&
		    grep -Eq '^\.[[:space:]]+[0-9]+[[:space:]]+(IN[[:space:]]+)?NS[[:space:]]' "$T/o"
	}
	check "prime-at-start: primed before any recursive question" \
	    grep -q "priming the root NS set from 2 hints" "$T/eager.log"
	check "prime-at-start: the root NS set is in the cache" poll 10 primed
else
	fail "eager: minidnsd did not start"
fi

# EDE (RFC 8914) with the reason, the same reason the log shows.
mdig loop.example.com A >"$T/o"
check "ede: CNAME loop is SERVFAIL with EDE 0 and its reason" \
    grep -q "EDE: 0 (Other): (CNAME loop)" "$T/o"
check "ede: the log names the same reason" \
    grep -q "SERVFAIL: CNAME loop" "$T/minidnsd.log"
mdig www.dead.com A >"$T/o"
check "ede: all-dead delegation is SERVFAIL with EDE 22" \
    grep -q "EDE: 22 (No Reachable Authority)" "$T/o"
mdig www2.dead.com A >"$T/o"
check "ede: dead servers are held down, still EDE 22" \
    grep -q "EDE: 22" "$T/o"

# The cache: TTLs age, negative answers are cached with the SOA's TTL
# counting down from min(SOA TTL, MINIMUM) = 2222 (RFC 2308).
mdig example.net A >"$T/c1"
sleep 2
mdig example.net A >"$T/c2"
t1=$(ttl_of "$T/c1" A)
t2=$(ttl_of "$T/c2" A)
aged() { [ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -lt "$t1" ]; }
check "cache: TTL ages (${t1:-?} then ${t2:-?})" aged
mdig nx2.example.net A >"$T/n1"
sleep 2
mdig nx2.example.net A >"$T/n2"
n1=$(ttl_of "$T/n1" SOA)
n2=$(ttl_of "$T/n2" SOA)
neg_aged() {
	[ -n "$n1" ] && [ -n "$n2" ] && [ "$n1" -le 2222 ] &&
	    [ "$n2" -lt "$n1" ] && grep -q "status: NXDOMAIN" "$T/n2"
}
check "cache: negative answer cached, SOA TTL ${n1:-?} then ${n2:-?}" \
    neg_aged

# Identical questions in flight share one resolution: ten clients ask at
# once for a name whose server takes 0.3 s to answer; the trace log
# (--trace slow.com) must show one resolution of it.  One worker thread:
# resolutions are shared within a worker (forward.sh checks two).
python3 "$H/spoof.py" 127.53.7.2 53 --slow 0.3 --lifetime 120 \
    >"$T/slow.log" 2>&1 &
PIDS="$PIDS $!"
# Bounded wait until it is there (it answers our own probe too).
for _ in 1 2 3 4 5 6 7 8 9 10; do
	dig @127.53.7.2 +time=1 +tries=1 probe.slow.com A >/dev/null 2>&1 &&
	    break
	sleep 0.2
done
"$MINIDNSD" -f --listen 127.53.9.4 --root-hints "$H/root.hints" \
    --allow-private-upstreams --trace slow.com --threads 1 \
    >"$T/share.log" 2>&1 &
PIDS="$PIDS $!"
if wait_answer share "$!" 127.53.9.4; then
	WPIDS=""
	for i in 1 2 3 4 5 6 7 8 9 10; do
		dig @127.53.9.4 +time="$QTIME" +tries=1 www.slow.com A \
		    >"$T/share.$i" 2>&1 &
		WPIDS="$WPIDS $!"
	done
	# shellcheck disable=SC2086
	wait $WPIDS
	starts=$(grep -c "start www.slow.com" "$T/share.log" || true)
	answered=$(grep -l "192.0.2.77" "$T"/share.* | wc -l)
	shared() { [ "$answered" = 10 ] && [ "$starts" = 1 ]; }
	check "in flight: 10 clients, $answered answered, $starts resolution" \
	    shared
else
	fail "in flight: second minidnsd did not start"
fi

# Spoofing: spoof.com.'s server sends a wrong-ID reply and a
# wrong-question reply before the real one, with poison beside it.
python3 "$H/spoof.py" 127.53.7.1 53 --lifetime 120 >"$T/spoof.log" 2>&1 &
PIDS="$PIDS $!"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	dig @127.53.7.1 +time=1 +tries=1 probe.spoof.com A >/dev/null 2>&1 &&
	    break
	sleep 0.2
done
mdig www.spoof.com A >"$T/o"
check "spoof: wrong ID and wrong question ignored, real answer taken" \
    grep -qE "^www.spoof.com.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+192.0.2.66" "$T/o"
check "spoof: the spoofed address is nowhere" \
    sh -c "! grep -q 6.6.6.6 '$T/o'"
mdig fresh.example.net A >"$T/o"
check "spoof: out-of-bailiwick poison not believed (NXDOMAIN)" \
    sh -c "grep -q 'status: NXDOMAIN' '$T/o' && ! grep -q 6.6.6.6 '$T/o'"
mdig example.net NS >"$T/o"
check "spoof: out-of-bailiwick NS not believed" \
    sh -c "! grep -q evil '$T/o'"

# QNAME minimisation against a server that fails shortened names (RFC
# 9156 §2.3): qmin.com.'s server answers www.ent.MODE.qmin.com. A and
# fails MODE.qmin.com. and ent.MODE.qmin.com. by MODE.  minidnsd (relaxed,
# like Unbound) must fall back to the full name and get the address; the
# answers are compared with Unbound's.
python3 "$H/qminbad.py" 127.53.7.3 53 --lifetime 300 >"$T/qminbad.log" 2>&1 &
PIDS="$PIDS $!"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	dig @127.53.7.3 +time=1 +tries=1 qmin.com SOA >/dev/null 2>&1 && break
	sleep 0.2
done
n=70
for mode in servfail refused notimp formerr nxdomain lame drop; do
	ask "$MINIDNSD_ADDR" "www.ent.$mode.qmin.com." A >"$T/qm.md"
	ask "$UNBOUND_ADDR" "www.ent.$mode.qmin.com." A >"$T/qm.ub"
	got() { grep -q "^an www.ent.$mode.qmin.com. A 192.0.2.$n\$" "$T/qm.md"; }
	check "qmin relaxed: $mode for the shortened name, full name answered" got
	if diff "$T/qm.ub" "$T/qm.md" >"$T/qm.diff"; then
		pass "qmin relaxed: $mode: the same answer as Unbound"
	else
		fail "qmin relaxed: $mode: the same answer as Unbound"
		cat "$T/qm.diff"
	fi
	n=$((n + 1))
done

# Access control and local zones first: a minidnsd that allows recursion
# only to 10.0.0.0/8 and serves its own example.com.
cat >"$T/local-example.zone" <<ZONE
\$ORIGIN example.com.
@	3600 IN SOA ns hm 1 3600 600 86400 60
@	3600 IN NS ns
ns	3600 IN A 192.0.2.53
@	3600 IN A 192.0.2.200
ZONE
cat >"$T/acl.yaml" <<YAML
listen: 127.53.9.5
root-hints: $H/root.hints
allow-private-upstreams: yes
access-control: [ 10.0.0.0/8 ]
zones: [ $T/local-example.zone ]
YAML
if start_md acl 127.53.9.5 -c "$T/acl.yaml"; then
	dig @127.53.9.5 +time=3 +tries=1 example.com A >"$T/o" 2>&1
	check "local zone before recursion (aa, 192.0.2.200)" \
	    sh -c "grep -q 'flags: qr aa' '$T/o' && grep -q 192.0.2.200 '$T/o'"
	dig @127.53.9.5 +time=3 +tries=1 example.net A >"$T/o" 2>&1
	check "access-control: recursion REFUSED outside the networks" \
	    grep -q "status: REFUSED" "$T/o"
else
	fail "acl: minidnsd did not start"
fi

# 0x20 case randomisation and no QNAME minimisation: same answers.
cat >"$T/x20.yaml" <<YAML
listen: 127.53.9.6
root-hints: $H/root.hints
allow-private-upstreams: yes
use-0x20: yes
qname-minimisation: no
YAML
if start_md x20 127.53.9.6 -c "$T/x20.yaml"; then
	ask 127.53.9.6 www.example.com. A >"$T/x"
	ask "$MINIDNSD_ADDR" www.example.com. A >"$T/y"
	check "use-0x20 and qname-minimisation off: same answer" \
	    diff -q "$T/x" "$T/y"
else
	fail "x20: minidnsd did not start"
fi

# Serve-stale (RFC 8767): data cached for 1 s, then every authoritative
# server stops; the expired answer comes back with EDE 3.
cat >"$T/stale.yaml" <<YAML
listen: 127.53.9.7
root-hints: $H/root.hints
allow-private-upstreams: yes
serve-stale: yes
cache-max-ttl: 1
resolution-timeout: 1500
YAML
if start_md stale 127.53.9.7 -c "$T/stale.yaml"; then
	dig @127.53.9.7 +time=3 +tries=1 example.com A >"$T/o" 2>&1
	bash "$H/hierarchy.sh" stop "$T/h" >/dev/null 2>&1 || true
	sleep 2
	dig @127.53.9.7 +time=5 +tries=1 example.com A >"$T/o" 2>&1
	check "serve-stale: expired answer with EDE 3 when servers are gone" \
	    sh -c "grep -q 192.0.2.1 '$T/o' && grep -q 'EDE: 3' '$T/o'"
else
	fail "stale: minidnsd did not start"
fi

finish
