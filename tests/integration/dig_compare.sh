#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidig against real dig (BIND 9.18), output for output: the same
# arguments against minidnsd (127.54.0.1) and NSD (127.54.0.2), outputs
# diffed after masking only the id, Query time, WHEN, the banner version
# and COOKIE lines.  NSD also serves the printing zones (lib.sh's
# md_it_print_zones: DNSSEC signed at run time, NSEC3, TLSA, SSHFP,
# SVCB/HTTPS, LOC, IDN names) for the record layouts (+multiline,
# +split, +rrcomments, +nocrypto), zone transfers (AXFR of several
# messages, IXFR=N) and +idnin/+idnout (on a terminal too, through
# script(1)).  Then +json (checked with python3 against dig's
# fields), the bad-input cases (unknown option, bad @address, closed port,
# a silent server, a hostile responder) and +tls against a real Unbound
# DoT listener on 127.54.0.3@853, compared with kdig.
#
# Ground rules as in run.sh (the harness in lib.sh): re-executes itself
# inside 'unshare -n', only 127.x addresses, every process stopped by saved
# PID, every wait bounded, temporary files in one mktemp -d directory
# removed at exit.  Exit 77 (skip) when not root.  Build directory = cwd
# (or $MINIDNSD's).  Runs with 'set -u' only: exit codes are collected.
set -u

. "$(dirname "$0")/lib.sh"
md_it_start dig-cmp "$@"
# Unicode names are read in the locale's encoding: the same one for both
# programs, whatever the caller's.
export LC_ALL=C.UTF-8

MINIDNSD=${MINIDNSD:-$(pwd)/minidnsd}
MINIDIG=$(dirname "$MINIDNSD")/minidig
ZONES=$srcdir/zones
md_it_need dig kdig nsd unbound openssl python3 ldns-signzone script
md_it_built "$MINIDNSD" "$MINIDIG"

# ---- servers ------------------------------------------------------------
# Both tools ask the same question one after the other and their outputs
# are compared: the server keeps its stored order (as NSD), not rotating
# RRsets between the two answers (rrset-roundrobin is on by default).
printf 'rrset-roundrobin: no\n' >"$T/minidnsd.yaml"
"$MINIDNSD" -c "$T/minidnsd.yaml" -f -q --no-recursion --listen 127.54.0.1:53 \
    --zone "$ZONES/cluster.local.zone" --zone "$ZONES/example.yaml" \
    --zone "$ZONES/10.in-addr.arpa.zone" >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"

mkdir -p "$T/nsd"
# A TXT RRset too big for 512 bytes: the TC-then-TCP case.
{
	printf '$ORIGIN big.test.\n$TTL 60\n'
	printf '@ SOA ns hostmaster 1 3600 900 604800 60\n@ NS ns\nns A 10.0.0.1\n'
	for i in $(seq 1 12); do
		printf 'txt TXT "record %02d padding padding padding padding"\n' "$i"
	done
} >"$T/nsd/big.test.zone"
# The printing zones: DNSSEC (signed here), SVCB, LOC, IDN, a big one
# for transfers; every zone may be transferred to 127/8.
if ! md_it_print_zones "$T/nsd"; then
	cat "$T/nsd/sign.log"
	echo "ERROR: signing the test zones failed"
	exit 99
fi
md_it_nsd "$T/nsd" 127.54.0.2 --opt 'nsid: "ascii_nsd-test"' \
    --zone-opt 'provide-xfr: 127.0.0.0/8 NOKEY' \
    cluster.local="$ZONES/cluster.local.zone" big.test="$T/nsd/big.test.zone" \
    sec.test=sec.test.signed n3.test=n3.test.signed svc.test=svc.test.zone \
    idn.test=idn.test.zone many.test=many.test.zone

# Unbound with a DoT listener and a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dot.test" \
    -addext "subjectAltName=DNS:dot.test" -keyout "$T/key.pem" \
    -out "$T/cert.pem" >/dev/null 2>&1
md_it_unbound_conf "$T/unbound.conf" unbound
cat >>"$T/unbound.conf" <<CONF
	interface: 127.54.0.3@853
	tls-port: 853
	tls-service-key: "$T/key.pem"
	tls-service-pem: "$T/cert.pem"
	local-zone: "dot.test." static
	local-data: "www.dot.test. 300 IN A 192.0.2.80"
remote-control:
	control-enable: no
CONF
unbound -d -c "$T/unbound.conf" >"$T/unbound.err" 2>&1 &
PIDS="$PIDS $!"

for s in 127.54.0.1 127.54.0.2; do
	if ! poll 5 dig +time=1 +tries=1 @"$s" cluster.local SOA; then
		echo "ERROR: the server on $s did not start"
		cat "$T"/*.log "$T"/nsd/*.log "$T"/nsd/out 2>/dev/null | tail -n 20
		exit 99
	fi
done

# ---- comparing ----------------------------------------------------------
mask() {
	sed -E -e 's/id: [0-9]+/id: X/' -e '/^;; Query time:/d' \
	    -e '/^;; WHEN:/d' -e '/COOKIE/d' -e '/_time: !!timestamp/d' \
	    -e 's/^; <<>> (DiG|MiniDiG) .* <<>>/; <<>> DIG <<>>/' \
	    -e 's/ in [0-9]+ ms/ in X ms/' \
	    -e 's/^(dig|minidig): /PROG: /'
}

# cmp NAME ARGS...: dig and minidig with the same arguments: same output
# (masked) and the same exit code.
cmp() {
	local name=$1 d m
	shift
	dig "$@" >"$T/dig.out" 2>&1
	d=$?
	"$MINIDIG" "$@" >"$T/mini.out" 2>&1
	m=$?
	mask <"$T/dig.out" >"$T/dig.m"
	mask <"$T/mini.out" >"$T/mini.m"
	if [ "$d" = "$m" ] && diff -u "$T/dig.m" "$T/mini.m" >"$T/diff"; then
		pass "$name"
	else
		fail "$name (exit dig $d, minidig $m)"
		head -n 20 "$T/diff"
	fi
}

# rc NAME WANT ARGS...: minidig's exit code and that it did not crash.
rc() {
	local name=$1 want=$2 got
	shift 2
	timeout 20 "$MINIDIG" "$@" >"$T/mini.out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name (exit $got, want $want)"
		head -n 5 "$T/mini.out"
	fi
}

C=cluster.local
for srv in 127.54.0.1 127.54.0.2; do
	tag=$([ "$srv" = 127.54.0.1 ] && echo minidnsd || echo nsd)
	g="@$srv +nocookie"
	cmp "$tag A" $g web.shop.svc.$C
	cmp "$tag AAAA" $g web.shop.svc.$C AAAA
	cmp "$tag SRV" $g _pg._tcp.db.shop.svc.$C SRV
	cmp "$tag TXT" $g dns-version.$C TXT
	cmp "$tag SOA" $g $C SOA
	cmp "$tag NS" $g $C NS
	cmp "$tag PTR v4" $g -x 10.96.0.1
	cmp "$tag PTR v6" $g -x fd00:10:96::c07
	cmp "$tag CNAME" $g search.shop.svc.$C
	cmp "$tag NXDOMAIN" $g nope.$C
	cmp "$tag NODATA" $g web.shop.svc.$C MX
	cmp "$tag wildcard" $g x.lab.$C
	cmp "$tag ANY" $g $C ANY
	cmp "$tag +short" $g db.shop.svc.$C +short
	cmp "$tag +short +identify" $g db.shop.svc.$C +short +identify
	cmp "$tag +norecurse" $g web.shop.svc.$C +norecurse
	cmp "$tag +tcp" $g web.shop.svc.$C +tcp
	cmp "$tag +noall +answer" $g _pg._tcp.db.shop.svc.$C SRV +noall +answer
	cmp "$tag +multiline" $g $C SOA +multiline
	cmp "$tag +nocmd" $g $C NS +nocmd
	cmp "$tag +nostats" $g $C NS +nostats
	cmp "$tag +nocomments" $g $C SOA +nocomments
	cmp "$tag +noquestion" $g $C SOA +noquestion +noadditional
	cmp "$tag +nottlid" $g $C SOA +nottlid
	cmp "$tag +dnssec" $g web.shop.svc.$C +dnssec
	cmp "$tag +cd +noad" $g web.shop.svc.$C +cd +noadflag
	cmp "$tag +nsid" $g $C SOA +nsid
	cmp "$tag +edns=1" $g $C SOA +edns=1
	cmp "$tag +yaml" $g $C SOA +yaml +nsid
	cmp "$tag class CH" $g -c CH version.bind TXT
	cmp "$tag several" $g web.shop.svc.$C A $C MX +short \
	    x.lab.$C +noall +answer
	cmp "$tag type first" $g MX $C web.shop.svc.$C +noall +answer
	cmp "$tag local server" $g web.shop.svc.$C @127.54.0.2 $C +nostats
done
cmp "nsd TC to TCP" @127.54.0.2 +nocookie txt.big.test TXT +noedns
cmp "nsd TC to TCP +bufsize" @127.54.0.2 +nocookie txt.big.test TXT \
    +bufsize=512
# dig says "Truncated, retrying in TCP mode" as a comment.
cmp "TC +noall +answer: no Truncated line" @127.54.0.2 +nocookie \
    txt.big.test TXT +noedns +noall +answer
cmp "TC +nocomments" @127.54.0.2 +nocookie txt.big.test TXT +noedns \
    +nocomments

# ---- printing: DNSSEC, TLSA, SSHFP, SVCB/HTTPS, LOC as dig 9.18 ----------
S="@127.54.0.2 +nocookie"
# Every printing zone loaded (two empty answers would compare equal).
for q in "sec.test DNSKEY" "child.sec.test DS" "n3.test NSEC3PARAM" \
    "svc3.svc.test HTTPS" "x.svc.test TYPE65281" "xn--bcher-kva.idn.test A" \
    "h1499.many.test A"; do
	# shellcheck disable=SC2086
	if [ -n "$(dig @127.54.0.2 +short $q)" ]; then
		pass "zone data: $q"
	else
		fail "zone data: $q"
	fi
done
for ml in +nomultiline +multiline; do
	cmp "DNSKEY KSK+ZSK $ml" $S +dnssec sec.test DNSKEY +noall +answer $ml
	cmp "DS $ml" $S +dnssec child.sec.test DS +noall +answer $ml
	cmp "TLSA $ml" $S +dnssec _443._tcp.www.sec.test TLSA $ml
	cmp "TLSA long $ml" $S _25._tcp.mail.sec.test TLSA +noall +answer $ml
	cmp "SSHFP $ml" $S host.sec.test SSHFP +noall +answer $ml
	cmp "HTTPS alpn $ml" $S svc.sec.test HTTPS +noall +answer $ml
	cmp "HTTPS no-default-alpn $ml" $S svc2.sec.test HTTPS +noall +answer $ml
	cmp "SVCB $ml" $S _dns.svc.sec.test SVCB +noall +answer $ml
	cmp "HTTPS every key $ml" $S svc3.svc.test HTTPS +noall +answer $ml
	cmp "SVCB escaped alpn, key7 $ml" $S svc4.svc.test SVCB +noall +answer $ml
	cmp "HTTPS alias $ml" $S svc5.svc.test HTTPS +noall +answer $ml
	for t in o.svc.test/OPENPGPKEY c.svc.test/CERT d.svc.test/DHCID \
	    i.svc.test/IPSECKEY z.svc.test/ZONEMD x.svc.test/TYPE65281; do
		cmp "${t#*/} $ml" $S "${t%/*}" "${t#*/}" +noall +answer $ml
	done
	cmp "LOC $ml" $S loc.sec.test LOC +noall +answer $ml
	cmp "LOC whole seconds $ml" $S loc2.sec.test LOC +noall +answer $ml
	cmp "NSEC NXDOMAIN $ml" $S +dnssec nope.sec.test $ml
	cmp "NSEC3 NXDOMAIN $ml" $S +dnssec nope.n3.test $ml
	cmp "NSEC3PARAM $ml" $S +dnssec n3.test NSEC3PARAM $ml
done
A="+noall +answer"
cmp "DNSKEY +rrcomments" $S +dnssec sec.test DNSKEY $A +rrcomments
cmp "DNSKEY +nocrypto" $S +dnssec sec.test DNSKEY $A +nocrypto
cmp "DNSKEY +nocrypto +multiline" $S +dnssec sec.test DNSKEY $A +nocrypto \
    +multiline
cmp "DS +nocrypto" $S +dnssec child.sec.test DS $A +nocrypto
cmp "DS +split=10" $S +dnssec child.sec.test DS $A +split=10
cmp "DS +split=0 +multiline" $S +dnssec child.sec.test DS $A +split=0 \
    +multiline
cmp "SOA +multiline +norrcomments" $S sec.test SOA $A +multiline \
    +norrcomments
cmp "TLSA +multiline +nottlid" $S _25._tcp.mail.sec.test TLSA $A \
    +multiline +nottlid
cmp "TLSA +short +multiline" $S _25._tcp.mail.sec.test TLSA +short \
    +multiline
cmp "DNSKEY +short" $S sec.test DNSKEY +short

# ---- zone transfers --------------------------------------------------------
cmp "AXFR NSEC3 zone" $S n3.test AXFR
cmp "AXFR +multiline" $S sec.test AXFR +multiline
cmp "AXFR several messages" $S many.test AXFR
if grep -Eq '^;; XFR size: 3004 records \(messages [2-9]' "$T/mini.out"; then
	pass "AXFR several messages: XFR size line"
else
	fail "AXFR several messages: XFR size line"
	tail -n 2 "$T/mini.out"
fi
cmp "AXFR +onesoa" $S n3.test AXFR +onesoa +nostats
cmp "AXFR +short" $S n3.test AXFR +short
cmp "AXFR +yaml: a document per message" $S many.test AXFR +yaml
cmp "AXFR +comments: a header per message" $S +comments many.test AXFR \
    +onesoa
cmp "AXFR +noall +answer" $S sec.test AXFR +noall +answer
cmp "AXFR refused" $S nonexist.test AXFR
cmp "AXFR closed port" $S -p 5999 n3.test AXFR
cmp "IXFR up to date" $S many.test IXFR=7
cmp "IXFR older: the whole zone" $S many.test IXFR=3 +noall +answer
cmp "IXFR -t ixfr=N +onesoa" $S -t ixfr=3 many.test +noall +answer +onesoa
# NSD keeps no history: difference sequences (RFC 1995 §4) over several
# messages come from a scripted TCP server.
cat >"$T/xfr.py" <<'PY'
import socket, struct, sys

def name(n):
    out = b""
    for l in n.rstrip(".").split("."):
        out += bytes([len(l)]) + l.encode()
    return out + b"\0"

def rr(owner, rtype, rdata, ttl=300):
    return name(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata

def soa(serial):
    return rr("ixfr.test", 6, name("ns.ixfr.test") + name("h.ixfr.test") +
              struct.pack("!IIIII", serial, 3600, 900, 604800, 60))

def a(owner, addr):
    return rr(owner, 1, socket.inet_aton(addr))

def txt(owner, t):
    return rr(owner, 16, bytes([len(t)]) + t.encode())

def msg(qid, q, rrs):
    return (struct.pack("!HHHHHH", qid, 0x8400, 1, len(rrs), 0, 0) + q +
            b"".join(rrs))

# IXFR from 1: two difference sequences (1 -> 2 -> 3), over two messages.
IXFR = [[soa(3), soa(1), a("www.ixfr.test", "10.0.0.1"), soa(2),
         a("www.ixfr.test", "10.0.0.2")],
        [soa(2), txt("ixfr.test", "old"), soa(3), txt("ixfr.test", "new"),
         soa(3)]]
AXFR = [[soa(3), rr("ixfr.test", 2, name("ns.ixfr.test"))],
        [a("ns.ixfr.test", "127.0.0.1"), a("www.ixfr.test", "10.0.0.2")],
        [txt("ixfr.test", "new"), soa(3)]]

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 53))
s.listen(8)
s.settimeout(60)
print("bound", flush=True)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(5)
    try:
        n = struct.unpack("!H", c.recv(2))[0]
        q = b""
        while len(q) < n:
            q += c.recv(n - len(q))
        qid = struct.unpack("!H", q[:2])[0]
        i = 12
        while q[i] != 0:
            i += q[i] + 1
        question = q[12:i + 5]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        for m in (IXFR if qtype == 251 else AXFR):
            data = msg(qid, question, m)
            c.sendall(struct.pack("!H", len(data)) + data)
    except Exception:
        pass
    c.close()
PY
python3 "$T/xfr.py" 127.54.0.8 >"$T/xfr.log" 2>&1 &
PIDS="$PIDS $!"
poll 5 grep -q bound "$T/xfr.log"
cmp "IXFR difference sequences" @127.54.0.8 ixfr.test IXFR=1
cmp "IXFR difference sequences +onesoa" @127.54.0.8 ixfr.test IXFR=1 +onesoa
cmp "AXFR in three messages +multiline" @127.54.0.8 ixfr.test AXFR \
    +multiline

# ---- IDN (libidn2, as dig 9.18: on only for a terminal) -------------------
Q="+noall +answer +question"
cmp "IDN not a terminal: bytes as they are" $S bücher.idn.test $Q
cmp "IDN +idnin" $S bücher.idn.test $Q +idnin
cmp "IDN +idnin upper case" $S BÜCHER.idn.test $Q +idnin
cmp "IDN +idnout" $S xn--bcher-kva.idn.test $Q +idnout
cmp "IDN +idnout CNAME target" $S www.idn.test $Q +idnout
cmp "IDN +idnout SRV target, underscores" $S _srv._tcp.idn.test SRV $Q \
    +idnout +idnin
cmp "IDN +short +idnout" $S www.idn.test +short +idnout
cmp "IDN +idnout bad A-label" $S xn--abc.idn.test $Q +idnout
cmp "IDN +idnin leading combining mark" $S "$(printf '\314\201a.test')" \
    $Q +idnin
for a in "bücher.idn.test" "bücher.idn.test +noidnout" \
    "_srv._tcp.idn.test SRV" "IDN_DISABLE=1 xn--bcher-kva.idn.test" \
    "IDN_DISABLE=1 xn--bcher-kva.idn.test +idnout"; do
	# A terminal (script(1)'s pty): dig converts both ways by default,
	# unless IDN_DISABLE is set.
	e=""
	case $a in IDN_DISABLE=1*) e="env IDN_DISABLE=1" a=${a#* } ;; esac
	script -qc "$e dig $S $Q $a" /dev/null >"$T/dig.tty" 2>&1
	script -qc "$e $MINIDIG $S $Q $a" /dev/null >"$T/mini.tty" 2>&1
	if [ -s "$T/dig.tty" ] && diff -q "$T/dig.tty" "$T/mini.tty" \
	    >/dev/null; then
		pass "IDN on a terminal: $e $a"
	else
		fail "IDN on a terminal: $e $a"
		diff "$T/dig.tty" "$T/mini.tty" | head -n 6
	fi
done
cmp "example.yaml MX" @127.54.0.1 +nocookie example.test MX
cmp "example.yaml multiline" @127.54.0.1 +nocookie example.test SOA +multiline

cat >"$T/batch" <<BATCH
web.shop.svc.$C +noall +answer
$C SOA +nostats
-x 10.96.0.10 +nostats
BATCH
cmp "batch file" @127.54.0.1 +nocookie -f "$T/batch"
cat >"$T/batch2" <<BATCH
@127.54.0.2 sec.test SOA +nostats
www.sec.test @127.54.0.2 +nostats
txt.big.test TXT @127.54.0.2 +noedns +noall +answer
@127.54.0.9 +tcp www.sec.test
BATCH
cmp "batch file: servers in the lines" +nocookie -f "$T/batch2"
cmp "batch file and a name" +nocookie www.sec.test @127.54.0.2 \
    -f "$T/batch2"

# +json: valid JSON whose fields match dig's text output.
"$MINIDIG" @127.54.0.2 +json +nsid $C SOA >"$T/json" 2>&1
dig @127.54.0.2 +nocookie +nsid $C SOA >"$T/dig.txt" 2>&1
if python3 -m json.tool "$T/json" >/dev/null 2>&1 &&
    python3 - "$T/json" "$T/dig.txt" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
d = open(sys.argv[2]).read()
h = re.search(r"status: (\w+)", d).group(1)
f = re.search(r"flags: ([a-z ]+);", d).group(1).split()
assert j["status"] == h and j["flags"] == f, (j["status"], j["flags"])
ans = [l.split(None, 4) for l in d.split(";; ANSWER SECTION:\n")[1]
       .split("\n\n")[0].splitlines()]
assert [[r["name"], str(r["ttl"]), r["class"], r["type"], r["data"]]
        for r in j["answer"]] == ans, (j["answer"], ans)
assert len(j["authority"]) == j["counts"]["authority"]
assert j["opt"]["udp"] == 1232
assert j["opt"]["options"][0]["name"] == "NSID"
assert j["opt"]["options"][0]["text"] == "nsd-test"
assert j["server"] == "127.54.0.2" and j["protocol"] == "UDP"
PY
then
	pass "+json fields"
else
	fail "+json fields"
	head -c 400 "$T/json"
fi

# ---- bad input and bad networks ------------------------------------------
rc "unknown option exit 1" 1 +frobnicate $C
if grep -q "unknown option '+frobnicate'" "$T/mini.out"; then
	pass "unknown option message"
else
	fail "unknown option message"
fi
cmp "bad @address" @999.1.1.1 $C
# dig's reason for a name it cannot take, and its exit codes.
cmp "name: empty label" @127.54.0.1 a..b
cmp "name: label too long" @127.54.0.1 "$(printf 'a%.0s' $(seq 64)).test"
cmp "name: too long" @127.54.0.1 "$(printf 'abcdefghi.%.0s' $(seq 30))"
cmp "name: bad escape" @127.54.0.1 'a\0x.test'
cmp "name: escape over 255" @127.54.0.1 '\256.test'
cmp "name: unexpected end" @127.54.0.1 'a\'
cmp "bad port: out of range" @127.54.0.1 -p 99999 $C
cmp "bad port: not a number" @127.54.0.1 -p 53x $C
# dig's exit codes and words for bad ports and names
cmp "port out of range" -p 99999 $C
cmp "port not a number" -p abc $C
cmp "port 0: refused" @127.54.0.1 -p 0 +time=1 +tries=1 $C
L63=$(printf 'a%.0s' $(seq 63))
cmp "label of 64" "${L63}a.test"
cmp "name of 256" "$L63.$L63.$L63.$L63.x"
cmp "name of 255 is legal" +time=1 +tries=1 @127.54.0.1 \
    "$L63.$L63.$L63.${L63:2}"
cmp "empty label" a..b
cmp "empty label after -q" -q a..b
cmp "empty labels only" ..
cmp "closed port UDP" @127.54.0.1 -p 5999 +time=1 +tries=2 $C
cmp "closed port TCP" @127.54.0.1 -p 5999 +time=1 +tcp $C
# No route out of the namespace: dig's "UDP setup ... failed" lines.
cmp "no route: UDP setup failed" @10.1.2.3 $C
cmp "no route +short" @10.1.2.3 $C +short
cmp "no route, then a server" @10.1.2.3 @127.54.0.1 $C SOA +nostats

cat >"$T/hostile.py" <<'PY'
import socket, sys
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.54.0.9", port))
s.settimeout(30)
while True:
    try:
        q, a = s.recvfrom(4096)
    except socket.timeout:
        break
    if mode == "silent":
        continue
    if mode == "garbage":
        r = (q[:2] + b"\x81\x80\x00\x01\x00\x05\x00\x00\x00\x00" + q[12:]
             + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x10\xff\xff\x01")
    elif mode == "short":
        r = q[:2] + b"\x81"
    elif mode == "wrongid":
        r = bytes([q[0] ^ 0xff]) + q[1:2] + b"\x81\x80" + q[4:]
    else:
        r = q[:2] + b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:20]
    s.sendto(r, a)
PY
port=5300
for mode in silent garbage short wrongid truncated; do
	port=$((port + 1))
	python3 "$T/hostile.py" "$mode" "$port" &
	hp=$!
	PIDS="$PIDS $hp"
	# Bounded wait until it has bound its UDP port (a slow start must
	# not turn "timed out" into "connection refused").
	for _ in $(seq 50); do
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	d=0
	dig @127.54.0.9 -p "$port" +time=1 +tries=1 a.test >"$T/dig.out" 2>&1 || d=$?
	rc "hostile $mode (no crash, exit $d like dig)" "$d" \
	    @127.54.0.9 -p "$port" +time=1 +tries=1 a.test
	if [ "$mode" = silent ] && ! grep -q "timed out" "$T/mini.out"; then
		fail "silent server: 'timed out' line"
	fi
	kill "$hp" 2>/dev/null
done

# ---- DNS over TLS ---------------------------------------------------------
poll 5 kdig +tls +time=1 +retry=0 @127.54.0.3 www.dot.test
kdig +tls +time=2 +retry=0 @127.54.0.3 www.dot.test +short >"$T/kdig.out" 2>&1
"$MINIDIG" +tls +time=2 @127.54.0.3 www.dot.test +short >"$T/mini.out" 2>&1
if [ -s "$T/kdig.out" ] && diff "$T/kdig.out" "$T/mini.out" >/dev/null; then
	pass "+tls answers like kdig"
else
	fail "+tls answers like kdig"
	cat "$T/kdig.out" "$T/mini.out" | head -n 6
fi
"$MINIDIG" +tls @127.54.0.3 www.dot.test >"$T/mini.out" 2>&1
if grep -q "^;; SERVER: 127.54.0.3#853(127.54.0.3) (TLS)" "$T/mini.out"; then
	pass "+tls port 853, SERVER line"
else
	fail "+tls port 853, SERVER line"
fi
rc "+tls-ca right hostname" 0 +tls +tls-ca="$T/cert.pem" \
    +tls-hostname=dot.test @127.54.0.3 www.dot.test
rc "+tls-ca wrong hostname fails" 9 +tls +tls-ca="$T/cert.pem" \
    +tls-hostname=wrong.test +time=2 @127.54.0.3 www.dot.test
if grep -q "certificate verify failed" "$T/mini.out"; then
	pass "+tls-ca wrong hostname message"
else
	fail "+tls-ca wrong hostname message"
	head -n 3 "$T/mini.out"
fi

summary
