#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration suite: real minidnsd daemons on 127.10.0.x (and [::1]) port
# 53, queried by real dig and kdig (and ./minidig once it is built), plus
# raw-socket probes (probe.py) for TCP pipelining, idle timeout, the
# connection cap and malformed messages.
#
# Ground rules: the script re-executes itself inside a private network
# namespace (unshare -n), so no packet can leave the machine; every client
# is pointed at an explicit @127.x server; every daemon it starts is
# stopped by saved PID at exit; every wait is bounded; temporary files
# live in one mktemp -d directory, removed at exit.  Exit 77 (skip) when
# not root or the namespace cannot be made.  The harness (namespace,
# $T, PIDS, pass/fail/skip/check/summary, poll, running, wait_exit) is
# lib.sh's.
#
# Run by make check from the top build directory; abs_top_builddir and
# abs_top_srcdir may be set in the environment, otherwise the build dir is
# the current directory and the source dir is found from this script.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start it "$@"

MINIDNSD=$builddir/minidnsd
MINIDIG=$builddir/minidig
PROBE="python3 $here/probe.py"
ZONES=$srcdir/zones

md_it_built "$MINIDNSD"
md_it_need dig kdig python3

# start NAME ADDR ARGS...: minidnsd in the foreground, stderr to
# $T/NAME.log, PID in $T/NAME.pid; waits until ADDR:53 answers (5 s).
# These daemons serve local zones only (--no-recursion): names outside
# them are REFUSED, and nothing is ever looked up elsewhere.  Recursion
# has its own suite (recursion.sh) with a test hierarchy.
start() {
	local name=$1 addr=$2 pid end
	shift 2
	"$MINIDNSD" -f --no-recursion "$@" >"$T/$name.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	echo "$pid" >"$T/$name.pid"
	end=$((SECONDS + 5))
	while [ $SECONDS -le $end ] && running "$pid"; do
		if dig @"$addr" +time=1 +tries=1 . SOA >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "minidnsd $name did not come up on $addr; its log:"
	sed 's/^/  | /' "$T/$name.log"
	fail "start $name"
	summary
}
pidof_srv() { cat "$T/$1.pid"; }

# ---- query helpers: one interface over dig, kdig and minidig ----------

# q CLIENT ADDR ARGS...: one query, full output on stdout.
q() {
	local client=$1 addr=$2
	shift 2
	case $client in
	dig) dig @"$addr" +time=1 +tries=1 "$@" 2>&1 ;;
	kdig) kdig @"$addr" +time=1 +retry=0 "$@" 2>&1 ;;
	minidig) "$MINIDIG" @"$addr" +time=1 +tries=1 "$@" 2>&1 ;;
	esac || true
}
# Records of one section (ANSWER, AUTHORITY, ADDITIONAL) of q's output.
section() {
	awk -v sec="$1" '
		/^;; [A-Z]+ SECTION:/ { insec = ($2 == sec); next }
		/^$/ { insec = 0; next }
		/^;/ { next }
		insec { print }'
}
# count SECTION TYPE: how many records of TYPE in SECTION (stdin).
count() { section "$1" | awk -v t="$2" '$4 == t' | wc -l; }
status() { grep -Eo 'status: [A-Z]+' | head -n 1 | cut -d' ' -f2; }
flags() { sed -n 's/^;; [Ff]lags: *\([^;]*\);.*/\1/p' | head -n 1; }
has_flag() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
has_opt() { grep -Eq 'OPT PSEUDOSECTION|EDNS PSEUDOSECTION'; }

# expect_short NAME CLIENT ADDR WANT ARGS...: sorted +short output.
expect_short() {
	local name=$1 client=$2 addr=$3 want=$4 got
	shift 4
	got=$(q "$client" "$addr" +short "$@" | sort | tr '\n' ' ' |
	    sed 's/ $//')
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "got '$got', want '$want'"
	fi
}

# ---- test data ----------------------------------------------------------

# A zone with a 60-record TXT RRset (about 3 KB): truncated over UDP.
{
	echo '$ORIGIN big.test.'
	echo '$TTL 60'
	echo '@ IN SOA ns hostmaster 1 3600 900 604800 60'
	echo '@ IN NS ns'
	echo 'ns IN A 192.0.2.1'
	for i in $(seq -w 1 60); do
		echo "txt IN TXT \"record $i padding-padding-padding-padding\""
	done
} >"$T/big.test.zone"

cat >"$T/main.yaml" <<EOF
# The main server: the sample zones with auto-ptr, and the big zone.
listen: 127.10.0.1:53
tcp-idle-timeout: 1
log-level: debug
zones:
  - file: $ZONES/cluster.local.zone
  - { file: $ZONES/10.in-addr.arpa.zone, auto-ptr: yes }
  - file: $T/big.test.zone
    origin: big.test.
EOF

S1=127.10.0.1
start main $S1 -c "$T/main.yaml"

clients="dig kdig"
if [ -x "$MINIDIG" ]; then
	clients="$clients minidig"
fi

# ---- the same checks with each client ---------------------------------

CL=cluster.local
SOA_SHORT="ns.dns.$CL. hostmaster.$CL. 2026112701 7200 1800 86400 5"
for c in dig kdig minidig; do
	if [ "$c" = minidig ] && [ ! -x "$MINIDIG" ]; then
		skip "minidig/*" "$MINIDIG not built yet"
		continue
	fi
	expect_short "$c/A" $c $S1 "10.96.12.7" web.shop.svc.$CL A
	expect_short "$c/AAAA" $c $S1 "fd00:10:96::c07" web.shop.svc.$CL AAAA
	expect_short "$c/TXT" $c $S1 '"1.1.0"' dns-version.$CL TXT
	expect_short "$c/SOA" $c $S1 "$SOA_SHORT" $CL SOA
	expect_short "$c/NS" $c $S1 "ns.dns.$CL." $CL NS
	expect_short "$c/PTR auto-ptr" $c $S1 "db-0.db.shop.svc.$CL." \
	    -x 10.244.1.5
	expect_short "$c/wildcard" $c $S1 "10.96.99.1" anything.lab.$CL A

	# SRV with the targets' addresses as additional data.
	out=$(q $c $S1 _pg._tcp.db.shop.svc.$CL SRV)
	check "$c/SRV answer" [ "$(echo "$out" | count ANSWER SRV)" = 2 ]
	check "$c/SRV additional A" [ "$(echo "$out" | section ADDITIONAL |
	    awk '$4 == "A" { print $5 }' | sort | tr '\n' ' ')" = \
	    "10.244.1.5 10.244.2.9 " ]

	# CNAME chain followed inside the zone.
	out=$(q $c $S1 search.shop.svc.$CL A)
	check "$c/CNAME chain" [ "$(echo "$out" | section ANSWER |
	    awk '{ print $4, $5 }' | tr '\n' ' ')" = \
	    "CNAME web.shop.svc.$CL. A 10.96.12.7 " ]

	out=$(q $c $S1 nope.$CL A)
	check "$c/NXDOMAIN" [ "$(echo "$out" | status)" = NXDOMAIN ]
	check "$c/NXDOMAIN SOA in authority" \
	    [ "$(echo "$out" | count AUTHORITY SOA)" = 1 ]

	out=$(q $c $S1 web.shop.svc.$CL TXT)
	check "$c/NODATA NOERROR" [ "$(echo "$out" | status)" = NOERROR ]
	check "$c/NODATA no answer" \
	    [ "$(echo "$out" | section ANSWER | wc -l)" = 0 ]
	check "$c/NODATA SOA in authority" \
	    [ "$(echo "$out" | count AUTHORITY SOA)" = 1 ]

	# aa set, ra clear (no recursion yet), rd echoed both ways.
	f=$(q $c $S1 web.shop.svc.$CL A | flags)
	check "$c/flags aa, no ra, rd echoed" eval \
	    'has_flag "$f" aa && has_flag "$f" rd && ! has_flag "$f" ra'
	f=$(q $c $S1 +norecurse web.shop.svc.$CL A | flags)
	check "$c/flags +norecurse: no rd" eval \
	    'has_flag "$f" aa && ! has_flag "$f" rd'

	out=$(q $c $S1 example.com A)
	check "$c/REFUSED outside local zones" \
	    [ "$(echo "$out" | status)" = REFUSED ]

	# EDNS (RFC 6891).  kdig sends no OPT unless asked (+edns).
	edns=""
	[ $c = kdig ] && edns=+edns
	out=$(q $c $S1 $edns web.shop.svc.$CL A)
	check "$c/EDNS OPT udp 1232" eval \
	    'echo "$out" | grep -Eiq "udp( size)?: 1232"'
	out=$(q $c $S1 +noedns web.shop.svc.$CL A)
	check "$c/+noedns: no OPT" eval '! echo "$out" | has_opt'
	neg=""
	case $c in dig | minidig) neg=+noednsnegotiation ;; esac
	out=$(q $c $S1 +edns=1 $neg web.shop.svc.$CL A)
	check "$c/EDNS version 1: BADVERS" \
	    [ "$(echo "$out" | status)" = BADVERS ]

	# Truncation: 60 TXT records do not fit in UDP; the client retries
	# over TCP by itself, or asks TCP directly.
	out=$(q $c $S1 txt.big.test TXT)
	check "$c/TC fallback to TCP: 60 TXT" \
	    [ "$(echo "$out" | count ANSWER TXT)" = 60 ]
	out=$(q $c $S1 +tcp txt.big.test TXT)
	check "$c/+tcp: 60 TXT" [ "$(echo "$out" | count ANSWER TXT)" = 60 ]
done

# Truncated UDP answers as they are (+ignore: no retry over TCP).
for c in dig kdig; do
	f=$(q $c $S1 +ignore +noedns txt.big.test TXT | flags)
	check "$c/TC +noedns over UDP" has_flag "$f" tc
	f=$(q $c $S1 +ignore +bufsize=512 txt.big.test TXT | flags)
	check "$c/TC +bufsize=512 over UDP" has_flag "$f" tc
done
f=$(q dig $S1 +ignore +noedns web.shop.svc.$CL A | flags)
check "dig/small answer not truncated" eval '! has_flag "$f" tc'

# Case: dig and minidig print names as received (kdig lower-cases them);
# the raw probe compares the bytes.
out=$(q dig $S1 +noall +question +answer WeB.ShOp.SvC.cluster.LOCAL A)
check "dig/case-insensitive match, case echoed" eval \
    'echo "$out" | grep -q "^;WeB.ShOp.SvC.cluster.LOCAL.[[:space:]]" &&
     echo "$out" | grep -q "^WeB.ShOp.SvC.cluster.LOCAL.[[:space:]].*10.96.12.7"'
if [ -x "$MINIDIG" ]; then
	out=$(q minidig $S1 WeB.ShOp.SvC.cluster.LOCAL A)
	check "minidig/case-insensitive match, case echoed" eval \
	    'echo "$out" | grep -q "^WeB.ShOp.SvC.cluster.LOCAL.[[:space:]].*10.96.12.7"'
else
	skip "minidig/case-insensitive match, case echoed" "not built yet"
fi
check "raw/case echoed byte for byte" $PROBE case $S1 53
check "raw/QR=1 gets no reply" $PROBE qr $S1 53

# ---- TCP (RFC 7766) ----------------------------------------------------

check "tcp/pipelining: 3 queries in one write" $PROBE pipeline $S1 53
check "tcp/stream: split messages, 3,000 in one write, a client that pauses" \
    $PROBE stream $S1 53
out=$(kdig @$S1 +time=2 +retry=0 +tcp +keepopen web.shop.svc.$CL A \
    db.shop.svc.$CL A kubernetes.default.svc.$CL A 2>&1)
check "kdig/+keepopen: 3 answers on one connection" \
    [ "$(echo "$out" | grep -c 'status: NOERROR')" = 3 ]
check "tcp/idle timeout closes the connection" $PROBE idle $S1 53 5

S2=127.10.0.2
# The cap is per worker thread: one worker makes it exact.
cat >"$T/maxconn.yaml" <<EOF
listen: 127.10.0.2:53
threads: 1
tcp-max-connections: 2
tcp-idle-timeout: 30
EOF
start maxconn $S2 -c "$T/maxconn.yaml"
check "tcp/tcp-max-connections: 2 (oldest idle closed for a new client, busy ones kept)" \
    $PROBE maxconn $S2 53

# ---- IPv6 ---------------------------------------------------------------

if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	start ipv6 ::1 --listen '[::1]:53'
	expect_short "ipv6/dig over UDP [::1]" dig ::1 "10.96.12.7" \
	    web.shop.svc.$CL A
	expect_short "ipv6/kdig over TCP [::1]" kdig ::1 "10.96.12.7" \
	    +tcp web.shop.svc.$CL A
else
	skip "ipv6/[::1] listener" "::1 is not available"
fi

# ---- YAML zone, config file, flags over the file -----------------------

S3=127.10.0.3
start yaml $S3 --listen $S3:53 --zone "$ZONES/example.yaml"
expect_short "yaml/A" dig $S3 "192.0.2.10" www.example.test A
expect_short "yaml/AAAA" dig $S3 "2001:db8::10" www.example.test AAAA
out=$(q dig $S3 example.test MX)
check "yaml/MX" [ "$(echo "$out" | section ANSWER |
    awk '$4 == "MX" { print $5, $6 }')" = "10 mail.example.test." ]
check "yaml/MX additional A" [ "$(echo "$out" | section ADDITIONAL |
    awk '$4 == "A" { print $1, $5 }')" = "mail.example.test. 192.0.2.25" ]
check "yaml/--zone replaces the sample zones" \
    [ "$(q dig $S3 web.shop.svc.$CL A | status)" = REFUSED ]

# The config file (main.yaml) gave S1 its listener and auto-ptr; here a
# file listening on .4 is overridden by --listen .5.
cat >"$T/override.yaml" <<EOF
listen: [ "127.10.0.4:53" ]
zones: [ "$ZONES/cluster.local.zone" ]
EOF
start override 127.10.0.5 -c "$T/override.yaml" --listen 127.10.0.5:53
expect_short "config/--listen replaces the file's listen" dig 127.10.0.5 \
    "10.96.12.7" web.shop.svc.$CL A
check "config/file's listen address not used" eval \
    '! dig @127.10.0.4 +time=1 +tries=1 +tcp . SOA >/dev/null 2>&1'
expect_short "config/zones from the file only" dig \
    127.10.0.5 "" -x 10.244.1.5

# ---- minidnsd -t -----------------------------------------------------------

check "check/-t good config exits 0" eval \
    '"$MINIDNSD" -t -c "$T/main.yaml" >"$T/t.out" 2>&1'
printf '$ORIGIN bad.test.\n@ IN SOA ns hm 1 2 3 4 5\n@ IN NS ns\nx IN A 1.2.3\n' \
    >"$T/bad.zone"
rc=0
"$MINIDNSD" -t --zone "$T/bad.zone" >"$T/t.out" 2>&1 || rc=$?
check "check/-t bad zone exits 1" [ $rc = 1 ]
check "check/-t bad zone says FILE:LINE:" \
    grep -q "$T/bad.zone:4:" "$T/t.out"
printf 'listen: 127.10.0.9:53\nno-such-key: 1\n' >"$T/badkey.yaml"
rc=0
"$MINIDNSD" -t -c "$T/badkey.yaml" >"$T/t.out" 2>&1 || rc=$?
check "check/-t bad config key exits 1" [ $rc = 1 ]
check "check/-t bad config key says FILE:LINE:" \
    grep -q "$T/badkey.yaml:2:" "$T/t.out"

# ---- reload ---------------------------------------------------------------

answers() { [ "$(q dig "$1" +short "$2" A)" = "$3" ]; }

S6=127.10.0.6
cp "$ZONES/cluster.local.zone" "$T/hup.zone"
cat >"$T/hup.yaml" <<EOF
listen: $S6:53
zone-check-interval: 0
zones: [ "$T/hup.zone" ]
EOF
start hup $S6 -c "$T/hup.yaml"
echo 'added.shop.svc 5 IN A 10.96.50.1' >>"$T/hup.zone"
kill -HUP "$(pidof_srv hup)"
check "reload/SIGHUP serves the new record" \
    poll 5 answers $S6 added.shop.svc.$CL 10.96.50.1

S7=127.10.0.7
cp "$ZONES/cluster.local.zone" "$T/auto.zone"
cat >"$T/auto.yaml" <<EOF
listen: $S7:53
zone-check-interval: 1
zones: [ "$T/auto.zone" ]
EOF
start auto $S7 -c "$T/auto.yaml"
echo 'auto.shop.svc 5 IN A 10.96.50.2' >>"$T/auto.zone"
check "reload/zone file change picked up (zone-check-interval: 1)" \
    poll 5 answers $S7 auto.shop.svc.$CL 10.96.50.2
# A syntax error: the old data keeps serving, the log names file:line.
lines=$(($(wc -l <"$T/auto.zone") + 1))
echo 'broken.shop.svc 5 IN A not-an-address' >>"$T/auto.zone"
check "reload/failed reload logs FILE:LINE:" poll 5 \
    grep -q "$T/auto.zone:$lines:" "$T/auto.log"
check "reload/failed reload keeps the old data" \
    answers $S7 auto.shop.svc.$CL 10.96.50.2
check "reload/failed reload keeps the process" running "$(pidof_srv auto)"

# ---- malformed input ------------------------------------------------------

$PROBE malformed $S1 53 || true
check "malformed/daemon still running" running "$(pidof_srv main)"
expect_short "malformed/daemon still answers UDP" dig $S1 "10.96.12.7" \
    web.shop.svc.$CL A
expect_short "malformed/daemon still answers TCP" dig $S1 "10.96.12.7" \
    +tcp web.shop.svc.$CL A

# ---- SIGTERM ----------------------------------------------------------------

pid=$(pidof_srv hup)
kill -TERM "$pid"
if wait_exit "$pid" 5; then
	check "stop/SIGTERM exits 0" [ "$exit_rc" = 0 ]
else
	fail "stop/SIGTERM exits 0" "still running after 5 s"
fi

summary
