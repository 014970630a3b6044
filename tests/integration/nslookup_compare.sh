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
# on 127.55.0.4 (a closed port).
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

MINIDNSD=${MINIDNSD:-$builddir/minidnsd}
MININSLOOKUP=$builddir/mininslookup
ZONES=$srcdir/zones
MD=127.55.0.1	 # minidnsd
NSD=127.55.0.2	 # NSD
HOLE=127.55.0.3	 # never answers
CLOSED=127.55.0.4 # nothing listens

md_it_built "$MINIDNSD" "$MININSLOOKUP"
md_it_need nslookup nsd dig python3

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

md_it_nsd "$T/nsd" "$NSD" --opt 'verbosity: 1' \
    cluster.local="$ZONES/cluster.local.zone" \
    2.0.192.in-addr.arpa="$T/2.0.192.in-addr.arpa.zone" \
    8.b.d.0.1.0.0.2.ip6.arpa="$T/8.b.d.0.1.0.0.2.ip6.arpa.zone" \
    nsl.test="$T/nsl.test.zone"

python3 "$here/hierarchy/blackhole.py" "$HOLE" 53 --lifetime 120 \
    >"$T/blackhole.log" 2>&1 &
HOLE_PID=$!
PIDS="$PIDS $HOLE_PID"

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

# ---- comparing ----------------------------------------------------------

# run PROG OUTPREFIX STDIN ARGS...: stdout, stderr and exit code to files;
# masked as the file head says.
run() {
	local prog=$1 out=$2 in=$3 rc=0
	shift 3
	if [ "$prog" = nslookup ]; then
		timeout 30 nslookup "$@" <"$in" >"$out.out" 2>"$out.err" ||
		    rc=$?
	else
		timeout 30 "$MININSLOOKUP" "$@" <"$in" >"$out.out" \
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
compare "closed port" /dev/null -type=MX example.test "$CLOSED"
compare "closed port retry=1" /dev/null -retry=1 example.test "$CLOSED"
compare "closed port vc" /dev/null -vc -type=MX example.test "$CLOSED"
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
