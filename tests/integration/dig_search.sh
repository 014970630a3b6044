#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidig and mininslookup as a pod sees them, against real dig and
# nslookup (BIND 9.18): every command runs in a mount namespace of its own
# with a pod's resolv.conf bind-mounted over /etc/resolv.conf (nameserver
# minidnsd on 127.56.0.1 serving the cluster.local sample zone, search
# default.svc.cluster.local svc.cluster.local cluster.local, ndots:5) and
# an empty $HOME (or one holding a .digrc).  Checked, output for output:
#
#   - the search list: dig +search/+showsearch/+ndots/+domain, nslookup's
#     default search, set debug, set domain=, set nosearch, set ndots=
#     (the workshop case: "nslookup kubernetes.default" in a pod);
#   - every dig 9.18 option (the list of 'dig -h'): accepted with dig's
#     exit code; the implemented ones print what dig prints; the others
#     say once that they have no effect here;
#   - +nssearch on a zone whose name servers disagree (one is down);
#   - ~/.digrc read before the command line, and -r.
#
# Masked before diffing, and only this: the message ID, the query time,
# WHEN, the banner's program and version, COOKIE lines, YAML timestamps
# and the program name in error lines.  Ground rules as in run.sh (the
# harness in lib.sh): a private network namespace, 127.x only, every
# process stopped by saved PID, bounded waits, one mktemp -d directory.
set -u

. "$(dirname "$0")/lib.sh"
md_it_start dig-search "$@"

MINIDNSD=${MINIDNSD:-$builddir/minidnsd}
MINIDIG=$(dirname "$MINIDNSD")/minidig
MININSLOOKUP=$(dirname "$MINIDNSD")/mininslookup
ZONES=$srcdir/zones
MD=127.56.0.1
md_it_need dig nslookup
md_it_built "$MINIDNSD" "$MINIDIG" "$MININSLOOKUP"

# nss.test, for +nssearch: three name servers, the first two serving
# serials 1 and 2 (they disagree), the third one not there at all.
for i in 1 2; do
	cat >"$T/nss$i.zone" <<EOF
\$ORIGIN nss.test.
\$TTL 300
@	SOA	ns1 hostmaster $i 3600 900 604800 60
@	NS	ns1
@	NS	ns2
@	NS	ns3
ns1	A	127.56.0.1
ns2	A	127.56.0.2
ns3	A	127.56.0.3
EOF
done
# crypto.test: a key, a signature and a digest for +nocrypto.
cat >"$T/crypto.zone" <<'EOF'
$ORIGIN crypto.test.
$TTL 3600
@	SOA	ns hostmaster 1 3600 900 604800 60
@	NS	ns
ns	A	10.0.0.1
@	DNSKEY	257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
@	RRSIG	A 13 2 3600 20261231000000 20261201000000 2371 crypto.test. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI=
@	A	10.0.0.3
sub	DS	2371 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
EOF
# unres.test: its name server has no address anywhere.
printf '$ORIGIN unres.test.\n@ 300 SOA ns.unres.invalid. h.unres.test. 1 3600 900 604800 60\n@ 300 NS ns.unres.invalid.\n' \
    >"$T/unres.zone"
printf 'rrset-roundrobin: no\n' >"$T/minidnsd.yaml"
"$MINIDNSD" -c "$T/minidnsd.yaml" -f -q --no-recursion --listen "$MD:53" \
    --zone "$ZONES/cluster.local.zone" --zone "$ZONES/example.yaml" \
    --zone "$T/nss1.zone" --zone "$T/crypto.zone" --zone "$T/unres.zone" \
    >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"
"$MINIDNSD" -c "$T/minidnsd.yaml" -f -q --no-recursion --listen 127.56.0.2:53 \
    --zone "$T/nss2.zone" >"$T/minidnsd2.log" 2>&1 &
PIDS="$PIDS $!"
for s in "$MD" 127.56.0.2; do
	if ! poll 5 dig +time=1 +tries=1 @"$s" nss.test SOA; then
		echo "ERROR: minidnsd on $s did not start"
		tail -n 20 "$T"/minidnsd*.log
		exit 99
	fi
done

printf 'nameserver %s\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
    "$MD" >"$T/resolv.conf"
mkdir -p "$T/home" "$T/rchome"

# pod CMD...: CMD with the pod's resolv.conf and $HOME (HOME_DIR).
HOME_DIR=$T/home
pod() {
	HOME=$HOME_DIR timeout 20 unshare -m sh -c \
	    'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
	    sh "$T/resolv.conf" "$@"
}

mask() {
	sed -E -e 's/id: [0-9]+/id: X/' -e '/^;; Query time:/d' \
	    -e '/^;; WHEN:/d' -e '/COOKIE/d' -e '/_time: !!timestamp/d' \
	    -e 's/^; <<>> (DiG|MiniDiG) .* <<>>/; <<>> DIG <<>>/' \
	    -e 's/^(dig|minidig): /PROG: /'
}

# dcmp NAME ARGS...: dig and minidig in the pod, same arguments: the same
# output (masked, stdout and stderr together) and exit code.
dcmp() {
	local name=$1 d m
	shift
	pod dig "$@" >"$T/dig.out" 2>&1
	d=$?
	pod "$MINIDIG" "$@" >"$T/mini.out" 2>&1
	m=$?
	mask <"$T/dig.out" >"$T/dig.m"
	mask <"$T/mini.out" >"$T/mini.m"
	if [ "$d" = "$m" ] && diff -u "$T/dig.m" "$T/mini.m" >"$T/diff"; then
		pass "$name"
	else
		fail "$name (exit dig $d, minidig $m)" "$T/diff"
	fi
}

# noeffect NAME OPTION: an option minidig accepts without honouring it:
# exit 0, one line saying so, and otherwise the plain query's output.
noeffect() {
	local name=$1 opt=$2 q="+nocookie web.shop.svc.cluster.local"
	pod "$MINIDIG" $q >"$T/plain.out" 2>&1
	pod "$MINIDIG" $q "$opt" >"$T/mini.out" 2>&1
	m=$?
	grep -v ': has no effect in minidig$' "$T/mini.out" | mask >"$T/mini.m"
	sed -e "s| $opt\$||" "$T/mini.m" >"$T/mini.m2"
	mask <"$T/plain.out" >"$T/plain.m"
	if [ "$m" = 0 ] &&
	    [ "$(grep -c ': has no effect in minidig$' "$T/mini.out")" = 1 ] &&
	    diff -u "$T/plain.m" "$T/mini.m2" >"$T/diff"; then
		pass "$name"
	else
		fail "$name (exit $m)" "$T/mini.out"
	fi
}

# ncmp NAME STDIN ARGS...: nslookup and mininslookup in the pod: stdout,
# stderr and exit code identical.
ncmp() {
	local name=$1 in=$2 a b s
	shift 2
	pod nslookup "$@" <"$in" >"$T/n.out" 2>"$T/n.err"
	a=$?
	pod "$MININSLOOKUP" "$@" <"$in" >"$T/mn.out" 2>"$T/mn.err"
	b=$?
	sed -i 's/mininslookup/nslookup/g' "$T/mn.err"
	if [ "$a" = "$b" ] && cmp -s "$T/n.out" "$T/mn.out" &&
	    cmp -s "$T/n.err" "$T/mn.err"; then
		pass "$name"
		return
	fi
	fail "$name (exit nslookup $a, mininslookup $b)"
	for s in out err; do
		diff -u --label nslookup --label mininslookup "$T/n.$s" \
		    "$T/mn.$s" | head -n 20 | sed 's/^/  | /'
	done
}

C=cluster.local
# ---- the search list: dig -------------------------------------------------
dcmp "dig without +search: as typed" +nocookie kubernetes.default
dcmp "+search: the workshop name" +nocookie +search kubernetes.default
dcmp "+showsearch: every step" +nocookie +showsearch kubernetes.default
dcmp "+showsearch: all NXDOMAIN, then as typed" +nocookie +showsearch nope
dcmp "+search: only the last" +nocookie +search nope
dcmp "+search: second domain" +nocookie +search web.shop
dcmp "+showsearch +ndots=1: as typed only" +nocookie +showsearch +ndots=1 \
    kubernetes.default
dcmp "+showsearch +ndots=1 NXDOMAIN" +nocookie +showsearch +ndots=1 nope.$C
dcmp "+search +ndots=1 NXDOMAIN" +nocookie +search +ndots=1 nope.$C
dcmp "+ndots=9: a full name searched too" +nocookie +showsearch +ndots=9 \
    web.shop.svc.$C
dcmp "final dot: never searched" +nocookie +showsearch kubernetes.default.
dcmp "final dot, NXDOMAIN" +nocookie +showsearch nope.$C.
dcmp "final dot, +ndots=1" +nocookie +showsearch +ndots=1 nope.$C.
dcmp "+domain=: first in the list" +nocookie +domain=svc.$C kubernetes.default
dcmp "+domain= +showsearch" +nocookie +domain=svc.$C +showsearch nope
dcmp "+nosearch is global (last wins)" +nocookie +showsearch web.shop AAAA \
    kubernetes.default +nosearch
dcmp "+showsearch, two lookups" +nocookie +showsearch web.shop \
    kubernetes.default
dcmp "-x: not searched" +nocookie +showsearch -x 10.96.0.1
dcmp "+defname, +sea" +nocookie +defname web.shop +sea
dcmp "+showsearch +short" +nocookie +showsearch web.shop +short
dcmp "+showsearch +yaml" +nocookie +showsearch web.shop +yaml
dcmp "+showsearch +qr" +nocookie +showsearch +qr web.shop

# ---- the search list: nslookup ---------------------------------------------
ncmp "nslookup kubernetes.default (workshop)" /dev/null kubernetes.default
ncmp "nslookup -debug: each search query" /dev/null -debug kubernetes.default
ncmp "nslookup: all NXDOMAIN" /dev/null nope
ncmp "nslookup -debug: all NXDOMAIN" /dev/null -debug nope
ncmp "nslookup -type=SRV short name" /dev/null -type=SRV _http._tcp.web.shop
ncmp "nslookup -type=MX: No answer" /dev/null -type=MX web.shop
ncmp "nslookup -nosearch" /dev/null -nosearch kubernetes.default
ncmp "nslookup -ndots=1" /dev/null -ndots=1 kubernetes.default
ncmp "nslookup final dot" /dev/null kubernetes.default.
ncmp "nslookup named server, still searched" /dev/null web.shop "$MD"
ncmp "nslookup -norecurse" /dev/null -norecurse web.shop
ncmp "nslookup address" /dev/null 10.96.0.1
cat >"$T/session" <<EOF
set all
set domain=svc.$C
set all
kubernetes.default
set srchlist=$C/svc.$C
set debug
kubernetes.default
set nodebug
set nosearch
web.shop
set defname
set ndots=1
web.shop
set ndots=3
set do=$C
web.shop.svc
server $MD
kubernetes.default.svc
set domain=
set all
web.shop
EOF
ncmp "nslookup interactive: set domain, debug, search, ndots" "$T/session"

# ---- every dig 9.18 option --------------------------------------------------
Q="+nocookie web.shop.svc.$C"
# Implemented: dig's output.
dcmp "+qr" $Q +qr
dcmp "+qr +nostats" $Q +qr +nostats
dcmp "+header-only" +nocookie +header-only $C
dcmp "-u" $Q -u
dcmp "+ttlunits" +nocookie +ttlunits $C SOA
dcmp "+ttlunits +multiline" +nocookie +ttlunits +multiline $C SOA
dcmp "+noclass" +nocookie +noclass $C SOA
dcmp "+nottlid +noclass" $Q +nottlid +noclass
dcmp "+nocrypto DNSKEY: key id" +nocookie +nocrypto crypto.test DNSKEY
dcmp "+nocrypto RRSIG, DS: omitted" +nocookie +nocrypto crypto.test RRSIG \
    sub.crypto.test DS
dcmp "+nocrypto ANY +short" +nocookie +nocrypto crypto.test ANY +short
dcmp "+norrcomments +multiline" +nocookie +norrcomments +multiline $C SOA
dcmp "+norrcomments" +nocookie +norrcomments $C SOA
dcmp "+expandaaaa" +nocookie +expandaaaa web.shop.svc.$C AAAA
dcmp "+expandaaaa +short" +nocookie +expandaaaa web.shop.svc.$C AAAA +short
dcmp "+unknownformat" +nocookie +unknownformat web.shop.svc.$C AAAA
dcmp "+unknownformat SOA" +nocookie +unknownformat $C SOA
dcmp "+unknownformat +multiline" +nocookie +unknownformat +multiline $C SOA
dcmp "+unknownformat +short" +nocookie +unknownformat _pg._tcp.db.shop.svc.$C \
    SRV +short
dcmp "+aaflag +raflag +tcflag +zflag +qid" $Q +aaflag +raflag +tcflag +zflag \
    +qid=1234 +qr +noall +comments
dcmp "+aaonly +opcode=notify" $Q +aaonly +opcode=notify +qr +noall +comments
dcmp "+ednsflags +ednsopt" $Q +ednsflags=0x10 +ednsopt=100:abcd \
    +ednsopt=nsid +qr +noall +comments
dcmp "+noednsopt" $Q +ednsopt=100 +noednsopt +qr +noall +comments
dcmp "+subnet v4" $Q +subnet=10.1.2.0/24 +qr +noall +comments
dcmp "+subnet v6" $Q +subnet=2001:db8::/33 +qr +noall +comments
dcmp "+subnet=0" $Q +subnet=0 +qr +noall +comments
dcmp "+subnet host" $Q +subnet=10.1.2.3 +qr +noall +comments
dcmp "+expire +keepalive +padding" $Q +expire +keepalive +padding=64 +qr
dcmp "+nsid +qr" $Q +nsid +qr +noall +comments
dcmp "+fail +nofail +ignore +noignore" $Q +fail +nofail +ignore +noignore
dcmp "+besteffort +nobesteffort" $Q +besteffort +nobesteffort
dcmp "deprecated: +sigchase" $Q +sigchase +noall +answer
dcmp "deprecated: +topdown +trusted-key +unexpected +mapped" $Q +topdown \
    +trusted-key=x +unexpected +mapped +noall +answer
dcmp "-m" -m $Q +noall +answer
dcmp "-4" -4 $Q +noall +answer
dcmp "booleans with values (+noqr=3)" $Q +noqr=3 +ttlunits=3
dcmp "abbreviations" $Q +ad +cd +rec +ret=1 +tri=2 +ti=3 +bu=1232 +multi \
    +ttlu +qu +an +au +addi +sta +cm +ques +nsi
dcmp "+rdflag +norecurse +nordflag" $Q +rdflag +norecurse +nordflag
dcmp "+all +noall +answer" $Q +all +noall +answer
dcmp "+keepopen +nokeepopen" $Q +nokeepopen
dcmp "+crypto +rrcomments +nosplit" $Q +crypto +rrcomments +nosplit
dcmp "+noidnin +noidnout" $Q +noidnin +noidnout
dcmp "+tls-ca off, +notls" $Q +notls-ca +notls +notcp
# Carried out (their output is dig_compare.sh's to check in depth).
dcmp "+split=8 +onesoa +idnin +idnout" $Q +split=8 +onesoa +idnin +idnout
# Accepted here without an effect: said once, the rest unchanged.
for o in +keepopen +badcookie +showbadcookie +coflag \
    +dns64prefix +tls-certfile=/dev/null +tls-keyfile=/dev/null +https \
    +https-get +http-plain +http-plain-get; do
	noeffect "$o: no effect, said so" "$o"
done
# +[no]fail: a server that answers SERVFAIL to everything, then a good one.
cat >"$T/servfail.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
s.settimeout(60)
while True:
    try:
        q, a = s.recvfrom(4096)
    except socket.timeout:
        break
    end = 12 + q[12:].index(b"\0") + 5  # the question, echoed
    s.sendto(q[:2] + b"\x81\x82" + q[4:6] + b"\0" * 6 + q[12:end], a)
EOF
python3 "$T/servfail.py" 127.56.0.7 >"$T/servfail.log" 2>&1 &
PIDS="$PIDS $!"
poll 5 dig +time=1 +tries=1 @127.56.0.7 x >/dev/null
dcmp "SERVFAIL ends the lookup (+fail, the default)" $Q @127.56.0.7 @"$MD"
dcmp "+nofail: next server" +nofail $Q @127.56.0.7 @"$MD"
dcmp "+nofail, servers first" +nofail +nocookie @127.56.0.7 @"$MD" \
    web.shop.svc.$C

# +nssearch: dig asks all name servers at once and prints as replies
# come, minidig asks them in turn: the lines are compared sorted.
nss() {
	local name=$1 d m
	shift
	pod dig "$@" >"$T/dig.out" 2>&1
	d=$?
	pod "$MINIDIG" "$@" >"$T/mini.out" 2>&1
	m=$?
	for f in dig mini; do
		sed -E -e 's/ in [0-9]+ ms\.$/ in X ms./' \
		    -e 's/^(dig|minidig): /PROG: /' "$T/$f.out" | sort \
		    >"$T/$f.m"
	done
	if [ "$d" = "$m" ] && diff -u "$T/dig.m" "$T/mini.m" >"$T/diff"; then
		pass "$name"
	else
		fail "$name (exit dig $d, minidig $m)" "$T/diff"
	fi
}
nss "+nssearch: two serials, one server down" +nssearch nss.test
nss "+nssearch +short" +nssearch nss.test +short
nss "+nssearch +noall" +nssearch nss.test +noall
nss "+nssearch: not a zone" +nssearch web.shop.svc.$C
nss "+nssearch: NS address unreachable" +nssearch $C
nss "+nssearch: NS name without an address" +nssearch unres.test

# -k and -y: TSIG keys, not supported: a warning, the query unsigned.
pod "$MINIDIG" -k /nonexistent $Q +short >"$T/mini.out" 2>&1
if [ $? = 0 ] && grep -q '^;; -k: TSIG is not supported' "$T/mini.out" &&
    grep -qx '10.96.12.7' "$T/mini.out"; then
	pass "-k: accepted, warned"
else
	fail "-k: accepted, warned" "$T/mini.out"
fi
pod "$MINIDIG" -y hmac-sha256:name:c2VjcmV0 $Q +short >"$T/mini.out" 2>&1
if [ $? = 0 ] && grep -q '^;; -y: TSIG is not supported' "$T/mini.out"; then
	pass "-y: accepted, warned"
else
	fail "-y: accepted, warned" "$T/mini.out"
fi

# Bad values: dig's two lines and its exit code.
dcmp "+ndots=abc" +ndots=abc x
dcmp "+opcode=16" +opcode=16 x
dcmp "+qid=70000" +qid=70000 x
dcmp "+ednsopt=x" +ednsopt=x x
dcmp "+padding=600" +padding=600 x
dcmp "+edns=300" +edns=300 x
dcmp "+bufsize=70000" +bufsize=70000 x
dcmp "+domain=a..b" +domain=a..b x

# ---- ~/.digrc ---------------------------------------------------------------
printf '+noall +answer\n+nocookie\n' >"$T/rchome/.digrc"
HOME_DIR=$T/rchome
dcmp ".digrc: options before the command line" web.shop.svc.$C
dcmp ".digrc: the command line after it" web.shop.svc.$C +comments
dcmp ".digrc: -r ignores it" -r +nocookie web.shop.svc.$C
printf '+search\n' >"$T/rchome/.digrc"
dcmp ".digrc: +search" +nocookie kubernetes.default
HOME_DIR=$T/home

summary
