#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Forwarding, DNS over TLS and the node-local role, against real peers:
# two Unbound resolvers (plain DNS and DNS over TLS with a test CA) and NSD
# as an authoritative upstream, all on 127.56.x.y in a private network
# namespace.  Checks per-zone rules (longest suffix), failover when an
# upstream stops mid-test and its return, force-tcp, caching with the TTL
# caps, coalescing, TLS upstreams verified by name (and refused with a
# wrong name), minidnsd's own DoT listener (kdig +tls, minidig +tls), stub
# mode from a resolv.conf, and upstreams that answer garbage, close TLS
# mid-stream or never answer: SERVFAIL in bounded time, nothing else
# affected.  Also: the example configuration of doc/node-local.md passes
# minidnsd -t.
#
# Output: PASS/FAIL lines and "N passed, N failed"; exit 77 (skip) when not
# root or a peer is missing.  The harness is lib.sh's (a private network
# namespace, PASS/FAIL counting, cleanup at exit): every process is stopped
# by PID, every wait is bounded, files live in one mktemp -d directory.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start fwd "$@"
PATH=$PATH:/usr/sbin

top=$(cd "$here/../.." && pwd)
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
MINIDIG=${MINIDIG:-$PWD/minidig}
md_it_need unbound nsd dig kdig openssl python3
md_it_built "$MINIDNSD" "$MINIDIG"

# fail_log NAME FILE: FAIL, then the last 30 lines of FILE (if it is one).
fail_log() {
	fail "$1"
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		sed 's/^/  | /' "$2" | tail -n 30
	fi
}

# ---- a test CA and a server certificate for dns.test ------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=minidns test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=dns.test" \
    -keyout "$T/dns.key" -out "$T/dns.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:dns.test\n' >"$T/ext"
openssl x509 -req -in "$T/dns.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -extfile "$T/ext" -out "$T/dns.pem" \
    >/dev/null 2>&1

# ---- the peers ----------------------------------------------------------
# unbound_conf N ADDR: a resolver answering fwd.test. from local data, with
# a TXT record saying which one it is; DNS over TLS on ADDR@853.
unbound_conf() {
	md_it_unbound_conf "$T/u$1.conf" "u$1"
	cat >>"$T/u$1.conf" <<CONF
	interface: $2
	interface: $2@853
	tls-port: 853
	tls-service-key: "$T/dns.key"
	tls-service-pem: "$T/dns.pem"
	port: 53
	verbosity: 1
	local-zone: "fwd.test." static
	local-data: "fwd.test. 3600 IN SOA ns.fwd.test. h.fwd.test. 1 3600 600 86400 3600"
	local-data: "who.fwd.test. 300 IN TXT u$1"
	local-data: "who.two.fwd.test. 300 IN TXT u$1"
	local-data: "a.fwd.test. 300 IN A 192.0.2.1$1"
	local-data: "b.fwd.test. 300 IN A 192.0.2.2$1"
	local-data: "c.fwd.test. 300 IN A 192.0.2.3$1"
	local-data: "d.fwd.test. 300 IN A 192.0.2.4$1"
	local-data: "who.fo.fwd.test. 300 IN TXT u$1"
	local-data: "c.fo.fwd.test. 300 IN A 192.0.2.3$1"
	local-data: "www.tls.test. 300 IN A 192.0.2.5$1"
	local-zone: "tls.test." static
	local-data: "www.pin.tls.test. 300 IN A 192.0.2.5$1"
	local-data: "www.badpin.tls.test. 300 IN A 192.0.2.5$1"
	local-zone: "tcp.test." static
	local-data: "www.tcp.test. 300 IN A 192.0.2.6$1"
remote-control:
	control-enable: no
CONF
}
start_unbound() {
	unbound -d -c "$T/u$1.conf" >"$T/u$1.out" 2>&1 &
	UPID[$1]=$!
	PIDS="$PIDS $!"
	wait_up "$2" who.fwd.test. || {
		cat "$T/u$1.out" "$T/u$1.log" 2>/dev/null
		fail "unbound $1 did not start"
		summary
	}
}
declare -a UPID
unbound_conf 1 127.56.0.1
unbound_conf 2 127.56.0.2
start_unbound 1 127.56.0.1
start_unbound 2 127.56.0.2

# NSD, authoritative for cluster.local.
md_it_nsd "$T/nsd" 127.56.0.3 --opt 'verbosity: 1' \
    cluster.local="$top/zones/cluster.local.zone"
wait_up 127.56.0.3 kubernetes.default.svc.cluster.local. || {
	cat "$T/nsd/out"
	fail "nsd did not start"
	summary
}

# Misbehaving upstreams, and a slow one (for coalescing).
python3 "$here/badupstream.py" garbage 127.56.0.4 53 --lifetime 120 \
    >"$T/garbage.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$here/badupstream.py" tlsclose 127.56.0.5 853 "$T/dns.pem" \
    "$T/dns.key" --lifetime 120 >"$T/tlsclose.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$here/hierarchy/blackhole.py" 127.56.0.6 53 --lifetime 120 \
    >"$T/blackhole.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$here/hierarchy/spoof.py" 127.56.0.7 53 --slow 0.3 --lifetime 120 \
    >"$T/slow.log" 2>&1 &
PIDS="$PIDS $!"
# Bounded wait until each of them has bound its port.
for spec in "-lun src 127.56.0.4:53" "-ltn src 127.56.0.5:853" \
    "-lun src 127.56.0.6:53" "-lun src 127.56.0.7:53"; do
	for _ in $(seq 50); do
		# shellcheck disable=SC2086
		ss -H $spec 2>/dev/null | grep -q . && break
		sleep 0.1
	done
done

# ---- minidnsd, forwarding --------------------------------------------------
# The root hints point at a loopback address where nothing listens: a name
# under no forward zone could never leave the namespace anyway.
printf '. 3600 NS r.test.\nr.test. 3600 A 127.56.9.9\n' >"$T/hints"
cat >"$T/fwd.yaml" <<YAML
listen: 127.56.1.1
threads: 2
root-hints: $T/hints
allow-private-upstreams: yes
tls-ca: $T/ca.pem
tls-listen: 127.56.1.1:853
tls-cert: $T/dns.pem
tls-key: $T/dns.key
resolution-timeout: 2500
cache-max-ttl: 60
cache-max-negative-ttl: 7
log-trace: [ test., cluster.local. ]
zones: []
forward:
  - zone: cluster.local
    servers: [ 127.56.0.3 ]
  - zone: fwd.test
    servers: [ 127.56.0.1 ]
  - zone: two.fwd.test
    servers: [ 127.56.0.2 ]
  - zone: fo.fwd.test
    servers: [ 127.56.0.1, 127.56.0.2 ]
    policy: sequential
  - zone: tcp.test
    servers: [ 127.56.0.1 ]
    force-tcp: yes
  - zone: tls.test
    servers: [ "tls://127.56.0.1#dns.test" ]
  - zone: badname.tls.test
    servers: [ "tls://127.56.0.2#wrong.test" ]
  - zone: pin.tls.test
    servers: [ "tls://127.56.0.2" ]
    spki-pin: PIN
  - zone: badpin.tls.test
    servers: [ "tls://127.56.0.2" ]
    spki-pin: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
  - zone: garbage.test
    servers: [ 127.56.0.4 ]
  - zone: tlsclose.test
    servers: [ "tls://127.56.0.5#dns.test" ]
  - zone: silent.test
    servers: [ 127.56.0.6 ]
  - zone: slow.test
    servers: [ 127.56.0.7 ]
YAML
# The SPKI pin of dns.test's key (RFC 7858 §4.2): base64(SHA-256(SPKI)).
pin=$(openssl x509 -in "$T/dns.pem" -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
    openssl base64)
sed -i "s|spki-pin: PIN|spki-pin: $pin|" "$T/fwd.yaml"
"$MINIDNSD" -f -c "$T/fwd.yaml" >"$T/md.log" 2>&1 &
MD=$!
PIDS="$PIDS $MD"
wait_up 127.56.1.1 kubernetes.default.svc.cluster.local. || {
	cat "$T/md.log"
	fail "minidnsd did not start"
	summary
}
q() { dig @127.56.1.1 +time=5 +tries=1 "$@" 2>&1; }
sends() { grep -c "trace: .*send $1" "$T/md.log" || true; }

# Per-zone rules, longest suffix first.
q kubernetes.default.svc.cluster.local A >"$T/o"
check_log "rule: cluster.local -> NSD (10.96.0.1)" "$T/o" \
    grep -qE "IN[[:space:]]+A[[:space:]]+10.96.0.1$" "$T/o"
q who.fwd.test TXT >"$T/o"
check_log "rule: fwd.test -> unbound 1" "$T/o" grep -q '"u1"' "$T/o"
q who.two.fwd.test TXT >"$T/o"
check_log "rule: two.fwd.test (longer) -> unbound 2" "$T/o" \
    grep -q '"u2"' "$T/o"
check_log "rule: forwarded answers have RA, not AA" "$T/o" \
    sh -c "grep -q 'flags: qr rd ra;' '$T/o'"
check_log "rule: no root priming for forwarded names" "$T/md.log" \
    sh -c "! grep -q priming '$T/md.log'"

# The cache and its caps: TTL 300 upstream, at most 60 here; the second
# question is not sent upstream.
q a.fwd.test A >"$T/o1"
q a.fwd.test A >"$T/o2"
ttl1=$(awk '$1 == "a.fwd.test." { print $2 }' "$T/o1")
check_log "cache: TTL capped by cache-max-ttl (300 -> ${ttl1:-?})" "$T/o1" \
    test "${ttl1:-999}" -le 60
check_log "cache: one upstream query for two questions" "$T/md.log" \
    test "$(sends 'a.fwd.test. A')" = 1
q nx.fwd.test A >"$T/o"
nttl=$(awk '$4 == "SOA" { print $2; exit }' "$T/o")
check_log "cache: negative TTL capped by cache-max-negative-ttl (${nttl:-?})" \
    "$T/o" sh -c "grep -q NXDOMAIN '$T/o' && [ '${nttl:-99}' -le 7 ]"

# force-tcp: the trace shows the query sent over TCP.
q www.tcp.test A >"$T/o"
check_log "force-tcp: answered, and sent over TCP" "$T/md.log" \
    sh -c "grep -q 192.0.2.61 '$T/o' &&
	grep -q 'send www.tcp.test. A .* tcp' '$T/md.log'"
# force-tcp reuses its connection (RFC 7766 §6.2.1), as DoT does: 20
# questions (each new: NXDOMAIN, not cached across names) leave at most one
# connection per worker to the upstream, none closed per query
# (TIME-WAIT is on the closing side: ours, when one is opened a query).
for i in $(seq 1 20); do q "n$i.tcp.test" A >/dev/null; done
tcpconns=$(ss -tanH "dst 127.56.0.1:53" | wc -l)
check_log "force-tcp: 20 questions over at most 2 connections ($tcpconns)" \
    "$T/md.log" [ "$tcpconns" -le 2 ]

# Coalescing: ten clients at once, one resolution per worker that got
# one of them (each worker shares its own resolutions, as Unbound's
# threads do): 1 or 2 with threads: 2, never 10.
# (Each client may retry once, as stubs do: on a loaded machine one of ten
# datagrams to a busy worker can be lost; a retry joins the resolution or
# finds its answer in the cache, and the count of resolutions stands.)
WP=""
for i in $(seq 10); do
	dig @127.56.1.1 +time=5 +tries=2 www.slow.test A >"$T/s.$i" 2>&1 &
	WP="$WP $!"
done
# shellcheck disable=SC2086
wait $WP
answered=$(grep -l "192.0.2.77" "$T"/s.* | wc -l)
slow_starts=$(grep -c "trace: .*start www.slow.test" "$T/md.log" || true)
check_log "coalescing: 10 answered ($answered), one resolution per worker ($slow_starts, threads: 2)" \
    "$T/md.log" sh -c "[ $answered = 10 ] && [ $slow_starts -ge 1 ] && [ $slow_starts -le 2 ]"

# DNS over TLS upstream: verified by name against the test CA.
q www.tls.test A >"$T/o"
check_log "tls upstream: answer over TLS (verified as dns.test)" "$T/o" \
    grep -q 192.0.2.51 "$T/o"
check_log "tls upstream: the trace names DNS over TLS (send ... dot)" \
    "$T/md.log" grep -qE "trace: .*send www\.tls\.test\. A .*127\.56\.0\.1:853 dot" "$T/md.log"
q www.badname.tls.test A >"$T/o"
check_log "tls upstream: a certificate for another name is refused" "$T/o" \
    sh -c "grep -q SERVFAIL '$T/o'"
check_log "tls upstream: the log says why" "$T/md.log" \
    grep -qi "tls" "$T/md.log"

# A pinned key instead of a name (no name check; the pin authenticates).
q www.pin.tls.test A >"$T/o"
check_log "tls upstream: authenticated by its SPKI pin" "$T/o" \
    grep -q 192.0.2.52 "$T/o"
q www.badpin.tls.test A >"$T/o"
check_log "tls upstream: a wrong pin is refused" "$T/o" grep -q SERVFAIL "$T/o"

# minidnsd's own DNS-over-TLS listener.
kdig @127.56.1.1 +tls +tls-ca="$T/ca.pem" +tls-hostname=dns.test \
    kubernetes.default.svc.cluster.local A >"$T/o" 2>&1 || true
check_log "tls listener: kdig +tls (verified)" "$T/o" grep -q 10.96.0.1 "$T/o"
"$MINIDIG" @127.56.1.1 +tls +tls-ca="$T/ca.pem" +tls-hostname=dns.test \
    who.fwd.test TXT >"$T/o" 2>&1 || true
check_log "tls listener: minidig +tls" "$T/o" grep -q '"u1"' "$T/o"
# Garbage after the TLS handshake (a framed message that is no DNS): the
# connection is closed at once, not left to the read or idle timeout.
python3 - "$T/ca.pem" >"$T/o" 2>&1 <<'PY' || true
import socket, ssl, struct, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection(("127.56.1.1", 853), 3),
                    server_hostname="dns.test")
s.settimeout(8)
s.sendall(struct.pack(">H", 40) + b"\x12\x34\x00\x00\x00\x01" + b"\x3f" + b"J" * 33)
start = time.monotonic()
try:
    while s.recv(4096):
        pass
except (ssl.SSLError, OSError):
    pass
print("closed after %.1f s" % (time.monotonic() - start))
PY
check_log "tls listener: garbage after the handshake closes at once ($(cat "$T/o"))" \
    "$T/o" awk '/closed after/ { exit !($3 < 2) } END { if (NR == 0) exit 1 }' "$T/o"
# Questions over TLS cut at byte boundaries (a record per byte), 3,000
# in one write, and a client that stops reading its answers for a while:
# each answered once (the first ones forwarded to NSD, the rest cached).
python3 "$here/probe.py" stream 127.56.1.1 853 "$T/ca.pem" dns.test \
    >"$T/o" 2>&1 && r=ok || r=failed
check_log "tls listener: split records, 3,000 in one write, a client that pauses ($r)" \
    "$T/o" [ $r = ok ]
# TLS 1.2 is accepted; TLS 1.1 (offered by a client willing to use it,
# hence SECLEVEL=0) is refused by the server.
openssl s_client -connect 127.56.1.1:853 -tls1_2 </dev/null >"$T/o12" 2>&1 &&
    v12=yes || v12=no
openssl s_client -connect 127.56.1.1:853 -tls1_1 \
    -cipher 'DEFAULT@SECLEVEL=0' </dev/null >"$T/o" 2>&1 && v11=yes || v11=no
check_log "tls listener: TLS 1.2 accepted ($v12), TLS 1.1 refused ($v11)" \
    "$T/o" sh -c "[ $v12 = yes ] && [ $v11 = no ]"

# Bad upstreams: SERVFAIL in bounded time, others unaffected.
for z in garbage silent tlsclose; do
	s0=$SECONDS
	q www.$z.test A >"$T/o"
	took=$((SECONDS - s0))
	check_log "bad upstream ($z): SERVFAIL within the resolution timeout (${took}s)" \
	    "$T/o" sh -c "grep -q SERVFAIL '$T/o' && [ $took -le 4 ]"
done
q who.fwd.test TXT >"$T/o"
check_log "bad upstreams: other zones unaffected, server alive" "$T/o" \
    sh -c "grep -q '\"u1\"' '$T/o' && kill -0 $MD"

# Failover: fo.fwd.test asks unbound 1 first (sequential); stop it; the
# next name is answered by unbound 2; unbound 1 comes back and is found
# by the health checks.
q who.fo.fwd.test TXT >"$T/o"
check_log "failover: unbound 1 answers first" "$T/o" grep -q '"u1"' "$T/o"
kill "${UPID[1]}"
wait "${UPID[1]}" 2>/dev/null || true
q c.fo.fwd.test A >"$T/o"
check_log "failover: unbound 1 stopped, unbound 2 answers" "$T/o" \
    grep -q 192.0.2.32 "$T/o"
# Make unbound 1 be held down (three timeouts in a row), then restart it.
for n in e f g h; do
	q $n.fwd.test A >/dev/null 2>&1 || true
done
start_unbound 1 127.56.0.1
back=no
for _ in $(seq 30); do
	if grep -q "forwarder 127.56.0.1:53 answers again" "$T/md.log"; then
		back=yes
		break
	fi
	sleep 0.5
done
check_log "health check: the restarted upstream is found again" "$T/md.log" \
    test $back = yes

# Stub mode: everything to the nameservers of a resolv.conf.
printf 'search example\nnameserver 127.56.0.2\n' >"$T/resolv.conf"
cat >"$T/stub.yaml" <<YAML
listen: 127.56.1.2
stub: yes
resolv-conf: $T/resolv.conf
allow-private-upstreams: yes
zones: []
YAML
"$MINIDNSD" -f -c "$T/stub.yaml" >"$T/stub.log" 2>&1 &
PIDS="$PIDS $!"
if wait_up 127.56.1.2 who.fwd.test.; then
	dig @127.56.1.2 +time=3 +tries=1 who.fwd.test TXT >"$T/o" 2>&1
	check_log "stub: forwarded to resolv.conf's nameserver (unbound 2)" \
	    "$T/o" grep -q '"u2"' "$T/o"
else
	fail_log "stub: minidnsd did not start" "$T/stub.log"
fi

# The node-local example configurations are valid (each yaml block).
awk -v dir="$T" '/^```yaml/ { n++; on = 1; next } /^```/ { on = 0 }
    on { print > (dir "/node-local." n ".yaml") }' "$top/doc/node-local.md"
blocks=0
for f in "$T"/node-local.*.yaml; do
	blocks=$((blocks + 1))
	"$MINIDNSD" -t -c "$f" >"$T/o" 2>&1 && ok=yes || ok=no
	check_log "doc/node-local.md: example $blocks passes minidnsd -t" \
	    "$T/o" test $ok = yes
done
check_log "doc/node-local.md: both examples found ($blocks)" /dev/null \
    test "$blocks" = 2

summary
