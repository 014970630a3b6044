#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mininslookup against the real thing: BIND 9.18's nslookup and
# ./mininslookup are run with the same arguments (or the same stdin script
# for the interactive mode) against the same servers, and their stdout,
# stderr and exit codes must be identical.  The servers: minidnsd serving
# the sample zones (--no-recursion: other names are REFUSED) on
# 127.55.0.1, a real NSD on 127.55.0.2 (cluster.local plus test zones made
# here: reverse zones and CNAME chains), a blackhole that never answers on
# 127.55.0.3 (tests/integration/hierarchy/blackhole.py) and nothing at all
# on 127.55.0.4 (a closed port), and a SERVFAIL server on 127.55.0.5.
# NSD also serves lib.sh's printing zones (DNSSEC, SVCB, LOC).  The
# resolv.conf cases run both programs in a mount namespace with a test
# resolv.conf bound over /etc/resolv.conf.
#
# Masked before diffing, and only this: the program name in stderr.
# (The search list in a pod's resolv.conf: dig_search.sh.)  Nothing else
# varies: answers are authoritative,
# so TTLs are fixed, and nslookup's debug blocks show no IDs or timings.
#
# Ground rules as in run.sh, the harness lib.sh's: a private network
# namespace (unshare -n; exit 77 = skip when not root), 127.x addresses
# only, every process stopped by saved PID, bounded waits, one mktemp -d
# directory removed at exit.  Run from the build directory (MINIDNSD may
# name the daemon).
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start nsl "$@"
# Unicode names are read in the locale's encoding: the same one for both
# programs, whatever the caller's.
export LC_ALL=C.UTF-8

MINIDNSD=${MINIDNSD:-$builddir/minidnsd}
MININSLOOKUP=$builddir/mininslookup
ZONES=$srcdir/zones
MD=127.55.0.1	 # minidnsd
NSD=127.55.0.2	 # NSD
HOLE=127.55.0.3	 # never answers
CLOSED=127.55.0.4 # nothing listens

md_it_built "$MINIDNSD" "$MININSLOOKUP"
md_it_need nslookup nsd dig python3 ldns-signzone script
SF=127.55.0.5	 # answers SERVFAIL to everything

# up ADDR ZONE: bounded wait (5 s) until ADDR answers SOA for ZONE.
up() {
	local end=$((SECONDS + 5))
	while [ $SECONDS -le $end ]; do
		if dig @"$1" +norec +time=1 +tries=1 "$2" SOA 2>/dev/null |
		    grep -q 'status: NOERROR'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ---- test zones for NSD -------------------------------------------------

cat >"$T/2.0.192.in-addr.arpa.zone" <<'EOF'
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@	IN SOA	ns.nsl.test. hostmaster.nsl.test. 1 3600 900 604800 60
@	IN NS	ns.nsl.test.
10	IN PTR	www.example.test.
25	IN PTR	mail.example.test.
25	IN PTR	smtp.example.test.
EOF
cat >"$T/8.b.d.0.1.0.0.2.ip6.arpa.zone" <<'EOF'
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
$TTL 300
@	IN SOA	ns.nsl.test. hostmaster.nsl.test. 1 3600 900 604800 60
@	IN NS	ns.nsl.test.
0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR www.example.test.
EOF
cat >"$T/nsl.test.zone" <<'EOF'
$ORIGIN nsl.test.
$TTL 300
@	IN SOA	ns hostmaster 1 3600 900 604800 60
@	IN NS	ns
ns	IN A	192.0.2.53
; a CNAME chain inside the zone, and one leaving it
a	IN CNAME b
b	IN CNAME c
c	IN A	192.0.2.3
c	IN AAAA	2001:db8::3
v4only	IN CNAME c4
c4	IN A	192.0.2.4
out	IN CNAME web.shop.svc.cluster.local.
loop1	IN CNAME loop2
loop2	IN CNAME loop1
multi	IN A	192.0.2.7
multi	IN A	192.0.2.8
multi	IN AAAA	2001:db8::7
multi	IN MX	10 mx1
multi	IN MX	20 mx2
multi	IN TXT	"two" "strings"
multi	IN HINFO "PC" "Linux"
EOF

# ---- servers ------------------------------------------------------------

# Both tools ask the same question one after the other and their outputs
# are compared: the server keeps its stored order (as NSD), not rotating
# RRsets between the two answers (rrset-roundrobin is on by default).
printf 'rrset-roundrobin: no\n' >"$T/minidnsd.yaml"
"$MINIDNSD" -c "$T/minidnsd.yaml" -f --no-recursion --listen "$MD" \
    --zone "$ZONES/cluster.local.zone" --zone "$ZONES/example.yaml" \
    --zone "$ZONES/10.in-addr.arpa.zone" >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"

# lib.sh's printing zones: DNSSEC signed here, TLSA, SSHFP, SVCB, LOC.
if ! md_it_print_zones "$T/nsd"; then
	sed 's/^/  | /' "$T/nsd/sign.log"
	fail "sign the test zones"
	summary
fi
md_it_nsd "$T/nsd" "$NSD" --opt 'verbosity: 1' \
    sec.test=sec.test.signed n3.test=n3.test.signed svc.test=svc.test.zone \
    idn.test=idn.test.zone cluster.local="$ZONES/cluster.local.zone" \
    2.0.192.in-addr.arpa="$T/2.0.192.in-addr.arpa.zone" \
    8.b.d.0.1.0.0.2.ip6.arpa="$T/8.b.d.0.1.0.0.2.ip6.arpa.zone" \
    nsl.test="$T/nsl.test.zone"

python3 "$here/hierarchy/blackhole.py" "$HOLE" 53 --lifetime 120 \
    >"$T/blackhole.log" 2>&1 &
HOLE_PID=$!
PIDS="$PIDS $HOLE_PID"

# A server that answers SERVFAIL (RA set, the question echoed), for
# nslookup's ";; Got SERVFAIL reply from ..." and its next server.
cat >"$T/servfail.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
s.settimeout(120)
print("bound", flush=True)
while True:
    try:
        q, a = s.recvfrom(4096)
    except socket.timeout:
        break
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    s.sendto(q[:2] + bytes([0x81 | (q[2] & 1), 0x82]) +
             b"\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:i + 5], a)
PY
python3 "$T/servfail.py" "$SF" >"$T/servfail.log" 2>&1 &
SF_PID=$!
PIDS="$PIDS $SF_PID"

if ! up "$MD" cluster.local; then
	sed 's/^/  | /' "$T/minidnsd.log"
	fail "start minidnsd"
	summary
fi
if ! up "$NSD" nsl.test; then
	sed 's/^/  | /' "$T/nsd/out" "$T/nsd/nsd.log" 2>/dev/null
	fail "start nsd"
	summary
fi
# The blackhole is ready when it says so (it prints once it is bound),
# or at least when its UDP socket shows up; bounded to 5 s.
end=$((SECONDS + 5))
hexhole=$(printf '%02X%02X%02X%02X' 3 0 55 127)
until grep -q "$hexhole:0035" /proc/net/udp 2>/dev/null; do
	if [ $SECONDS -gt $end ] || ! running "$HOLE_PID"; then
		fail "start blackhole"
		summary
	fi
	sleep 0.1
done

end=$((SECONDS + 5))
until grep -q bound "$T/servfail.log" 2>/dev/null; do
	if [ $SECONDS -gt $end ] || ! running "$SF_PID"; then
		fail "start the SERVFAIL server"
		summary
	fi
	sleep 0.1
done

# ---- comparing ----------------------------------------------------------

# inns CMD...: CMD with $RESOLV (when set) bind-mounted on
# /etc/resolv.conf, in a mount namespace of its own: the servers nslookup
# takes when none is named.
inns() {
	if [ -n "${RESOLV:-}" ]; then
		unshare -m sh -c \
		    'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
		    sh "$RESOLV" "$@"
	else
		"$@"
	fi
}

# run PROG OUTPREFIX STDIN ARGS...: stdout, stderr and exit code to files;
# masked as the file head says.
run() {
	local prog=$1 out=$2 in=$3 rc=0
	shift 3
	if [ "$prog" = nslookup ]; then
		inns timeout 30 nslookup "$@" <"$in" >"$out.out" \
		    2>"$out.err" || rc=$?
	else
		inns timeout 30 "$MININSLOOKUP" "$@" <"$in" >"$out.out" \
		    2>"$out.err" || rc=$?
		sed -i 's/mininslookup/nslookup/g' "$out.err"
	fi
	echo "$rc" >"$out.rc"
}

# compare NAME STDIN ARGS...: both programs, same input; PASS when
# stdout, stderr and exit code are identical.
ncase=0
compare() {
	local name=$1 in=$2 a b
	shift 2
	ncase=$((ncase + 1))
	a=$T/case$ncase.ref
	b=$T/case$ncase.mini
	run nslookup "$a" "$in" "$@"
	run mini "$b" "$in" "$@"
	if cmp -s "$a.out" "$b.out" && cmp -s "$a.err" "$b.err" &&
	    cmp -s "$a.rc" "$b.rc"; then
		pass "$name"
		return
	fi
	fail "$name" "nslookup $*"
	for s in out err rc; do
		diff -u --label nslookup --label mininslookup "$a.$s" \
		    "$b.$s" | sed 's/^/  | /' || true
	done
}
# both NAME ARGS...: compare against minidnsd, then against NSD.
both() {
	local name=$1
	shift
	compare "$name @minidnsd" /dev/null "$@" "$MD"
	compare "$name @nsd" /dev/null "$@" "$NSD"
}
# session NAME ARGS... <<script: the interactive mode, stdin a pipe.
session() {
	local name=$1
	shift
	ncase=$((ncase + 1))
	cat >"$T/script$ncase"
	compare "$name" "$T/script$ncase" "$@"
}

CL=cluster.local
WEB=web.shop.svc.$CL

# -- the type matrix, both servers
both "A+AAAA default" "$WEB"
both "A only" -type=A kubernetes.default.svc.$CL
both "AAAA" -type=AAAA "$WEB"
both "MX" -type=MX example.test
both "TXT" -query=TXT dns-version.$CL
both "TXT example.test" -q=TXT example.test
both "SRV two records" -type=SRV _pg._tcp.db.shop.svc.$CL
both "SOA" -type=SOA $CL
both "NS" -type=NS $CL
both "CNAME chain default" search.shop.svc.$CL
both "CNAME type" -type=CNAME search.shop.svc.$CL
both "headless A" db.shop.svc.$CL
both "wildcard" -type=A anything.lab.$CL
both "ANY" -type=ANY example.test
both "ANY cluster" -type=ANY ns.dns.$CL
both "NXDOMAIN" nonexistent.$CL
both "NXDOMAIN typed" -type=MX nonexistent.$CL
both "NODATA" -type=MX "$WEB"
both "NODATA default (no A, no AAAA)" dns-version.$CL
both "NODATA default AAAA" kube-dns.kube-system.svc.$CL
both "REFUSED" www.outside.invalid
both "REFUSED typed" -type=SOA example.org
both "PTR v4 address" 10.96.0.1
both "PTR v4 typed" -type=PTR 10.96.0.10
both "PTR v4 any type" -type=MX 192.0.2.10
both "PTR v6 address" 2001:db8::10
both "PTR v4 two names" 192.0.2.25
both "class CH" -class=CH -type=TXT version.bind
both "norecurse" -norecurse -type=SOA $CL
both "recurse" -recurse -type=NS $CL
both "vc" -vc -type=TXT example.test
both "vc default" -vc "$WEB"
both "novc ANY" -novc -type=ANY example.test
both "debug A+AAAA" -debug "$WEB"
both "debug MX" -debug -type=MX example.test
both "debug NXDOMAIN" -debug nonexistent.$CL
both "debug REFUSED" -debug -type=NS example.com
both "debug PTR" -debug 10.96.0.1
both "debug SOA" -debug -type=SOA example.test
both "nodebug" -debug -nodebug -type=MX example.test
both "port 53" -port=53 -type=MX example.test
both "trailing dot" -type=AAAA kubernetes.default.svc.$CL.
both "case" -type=mx EXAMPLE.test

# -- NSD only: the zones made above
compare "PTR v4 answer" /dev/null 192.0.2.10 "$NSD"
compare "PTR v6 answer" /dev/null 2001:db8::10 "$NSD"
compare "PTR v6 debug" /dev/null -debug 2001:db8::10 "$NSD"
compare "CNAME two steps" /dev/null a.nsl.test "$NSD"
compare "CNAME v4 only" /dev/null v4only.nsl.test "$NSD"
compare "CNAME leaving the zone" /dev/null out.nsl.test "$NSD"
compare "CNAME leaving, debug" /dev/null -debug out.nsl.test "$NSD"
compare "CNAME loop" /dev/null loop1.nsl.test "$NSD"
compare "many types ANY" /dev/null -type=ANY multi.nsl.test "$NSD"
compare "ANY debug" /dev/null -debug -type=ANY multi.nsl.test "$NSD"
compare "HINFO" /dev/null -type=HINFO multi.nsl.test "$NSD"
compare "TXT strings" /dev/null -type=TXT multi.nsl.test "$NSD"
compare "MX two" /dev/null -type=MX multi.nsl.test "$NSD"
compare "A two" /dev/null multi.nsl.test "$NSD"

# -- record data as BIND writes it (base64 and hex cut in 56s, the
#    quoted alpn of SVCB, LOC); first, that the zones loaded
for q in "sec.test DNSKEY" "n3.test NSEC3PARAM" "svc3.svc.test HTTPS"; do
	# shellcheck disable=SC2086
	if [ -n "$(dig @"$NSD" +short $q)" ]; then
		pass "zone data: $q"
	else
		fail "zone data: $q"
	fi
done
compare "DNSKEY" /dev/null -type=DNSKEY sec.test "$NSD"
compare "DS" /dev/null -type=DS child.sec.test "$NSD"
compare "TLSA" /dev/null -type=TLSA _25._tcp.mail.sec.test "$NSD"
compare "SSHFP" /dev/null -type=SSHFP host.sec.test "$NSD"
compare "HTTPS" /dev/null -type=HTTPS svc.sec.test "$NSD"
compare "HTTPS every key" /dev/null -type=HTTPS svc3.svc.test "$NSD"
compare "SVCB" /dev/null -type=SVCB _dns.svc.sec.test "$NSD"
compare "LOC" /dev/null -type=LOC loc.sec.test "$NSD"
compare "LOC whole seconds" /dev/null -type=LOC loc2.sec.test "$NSD"
compare "NSEC3PARAM" /dev/null -type=NSEC3PARAM n3.test "$NSD"
compare "DNSKEY debug" /dev/null -debug -type=DNSKEY sec.test "$NSD"
# Unicode names: not converted when the output is no terminal ...
compare "IDN name, not a terminal" /dev/null bücher.idn.test "$NSD"
compare "IDN CNAME target" /dev/null www.idn.test "$NSD"
# ... asked as their A-labels (libidn2) on a terminal (script(1)'s pty),
# an invalid one fatal, none with IDN_DISABLE.
for a in "bücher.idn.test" "-type=A BÜCHER.idn.test" \
    "-type=A bücher.nope.idn.test" "-debug -type=A bücher.idn.test" \
    "$(printf '\314\201a.idn.test')" "IDN_DISABLE=1 bücher.idn.test"; do
	e=""
	case $a in IDN_DISABLE=1*) e="env IDN_DISABLE=1" a=${a#* } ;; esac
	rc=0
	script -eqc "$e nslookup $a $NSD" /dev/null </dev/null >"$T/tty.ref" \
	    2>&1 || rc=$?
	echo "rc=$rc" >>"$T/tty.ref"
	rc=0
	script -eqc "$e $MININSLOOKUP $a $NSD" /dev/null </dev/null \
	    >"$T/tty.mini" 2>&1 || rc=$?
	echo "rc=$rc" >>"$T/tty.mini"
	sed -i 's/mininslookup/nslookup/g' "$T/tty.mini"
	if grep -q "$NSD" "$T/tty.ref" || grep -q IDNA2008 "$T/tty.ref"; then
		if diff -u "$T/tty.ref" "$T/tty.mini" >"$T/tty.diff"; then
			pass "IDN on a terminal: $e $a"
		else
			fail "IDN on a terminal: $e $a"
			sed 's/^/  | /' "$T/tty.diff"
		fi
	else
		fail "IDN on a terminal: $e $a (no output from nslookup)"
	fi
done

# -- SERVFAIL, and the servers of resolv.conf in turn
compare "SERVFAIL" /dev/null www.example.test "$SF"
compare "SERVFAIL typed" /dev/null -type=MX www.example.test "$SF"
printf 'nameserver %s\nnameserver %s\n' "$SF" "$NSD" >"$T/resolv.sf-nsd"
printf 'nameserver %s\nnameserver %s\n' "$SF" "$SF" >"$T/resolv.sf-sf"
printf 'nameserver %s\n' "$NSD" >"$T/resolv.nsd"
printf 'nameserver %s\nnameserver %s\n' "$NSD" "$SF" >"$T/resolv.nsd-sf"
for RESOLV in "$T"/resolv.*; do
	r=${RESOLV##*/resolv.}
	compare "resolv.conf $r: default lookups" /dev/null a.nsl.test
	compare "resolv.conf $r: SOA" /dev/null -type=SOA nsl.test
	compare "resolv.conf $r: norecurse" /dev/null -norecurse a.nsl.test
	compare "resolv.conf $r: a server named" /dev/null a.nsl.test "$NSD"
done
RESOLV=$T/resolv.sf-nsd
session "interactive: resolv.conf servers, then one named" - <<EOF
a.nsl.test
server $NSD
a.nsl.test
EOF
RESOLV=

# -- options and bad input
compare "unknown option" /dev/null -bogus -type=MX example.test "$MD"
compare "unknown type" /dev/null -type=BOGUS example.test "$MD"
compare "unknown class" /dev/null -class=XX -type=MX example.test "$MD"
compare "bad port" /dev/null -port=abc -type=MX example.test "$MD"
compare "port out of range" /dev/null -port=70000 -type=MX example.test "$MD"
compare "bad timeout and retry" /dev/null -timeout=x -retry=-1 \
    -type=MX example.test "$MD"
compare "option abbreviations" /dev/null -ty=MX -cl=IN -po=53 -t=5 -ret=2 \
    -norec -deb example.test "$MD"
compare "option after name" /dev/null -type=MX example.test -debug "$MD"
compare "type after name" /dev/null example.test -type=MX "$MD"
compare "type before and after name" /dev/null -type=MX www.example.test \
    -type=A "$MD"
compare "options after server" /dev/null - "$MD" -debug
compare "too many arguments" /dev/null example.test "$MD" extra
compare "illegal name: empty label" /dev/null a..b "$MD"
compare "illegal name: label too long" /dev/null \
    "$(printf 'a%.0s' $(seq 64)).test" "$MD"
compare "illegal name: bad escape" /dev/null 'a\0x.test' "$MD"
compare "closed port" /dev/null -type=MX example.test "$CLOSED"
compare "closed port retry=1" /dev/null -retry=1 example.test "$CLOSED"
compare "closed port vc" /dev/null -vc -type=MX example.test "$CLOSED"
compare "no route" /dev/null -type=MX example.test 10.1.2.3
compare "no route vc" /dev/null -vc example.test 10.1.2.3
compare "other port refused" /dev/null -port=5353 -retry=2 example.test "$MD"
compare "no answer, timeout" /dev/null -timeout=1 -retry=1 \
    -type=MX example.test "$HOLE"
compare "no answer, default lookups" /dev/null -timeout=1 -retry=1 \
    example.test "$HOLE"
compare "no answer, vc" /dev/null -vc -timeout=1 -retry=1 \
    -type=MX example.test "$HOLE"

# -- the interactive mode, stdin a pipe (no prompt)
session "interactive: server, set type, debug, lookups" - "$MD" <<EOF
server $NSD
set type=MX
example.test
$WEB
set debug
set q=SRV
_http._tcp.web.shop.svc.$CL
set nodebug
lserver $MD
set querytype=A
www.example.test
set type=AAAA
www.example.test
exit
not.reached.example.test
EOF
session "interactive: set all and settings" - "$MD" <<EOF
set all
set port=53
set timeout=3
set retry=2
set vc
set norecurse
set debug
set d2
set type=TXT
set class=IN
set all
set novc
set recurse
set nodebug
set nod2
set all
example.test
EOF
session "interactive: default server, EOF ends it" -type=MX <<EOF
server $MD
example.test
nonexistent.$CL
EOF
session "interactive: errors and unknown commands" - "$MD" <<EOF
set bogus
set type=nonsense
set class=XX
set port=abc
set
server
help
?
ls example.test
view x
finger
root
foo bar

   
www.example.test
nonexistent.example.test
EOF
session "interactive: an illegal name ends it" - "$MD" <<EOF
www.example.test
a..b
www.example.test
EOF
session "interactive: exit code after a failure" - "$MD" <<EOF
nonexistent.$CL
www.example.test
EOF
session "interactive: only settings" - "$MD" <<EOF
set type=MX
EOF
session "interactive: empty" - "$MD" </dev/null
session "interactive: addresses and default lookups" - "$NSD" <<EOF
192.0.2.10
2001:db8::10
a.nsl.test
set type=PTR
192.0.2.25
EOF
session "interactive: unreachable then answer" - "$MD" <<EOF
set timeout=1
set retry=1
server $HOLE
example.test
server $CLOSED
set vc
example.test
set novc
server $MD
set type=MX
example.test
EOF
session "interactive: answer then unreachable" - "$MD" <<EOF
set type=MX
example.test
set port=5353
set retry=1
example.test
exit
EOF

summary
