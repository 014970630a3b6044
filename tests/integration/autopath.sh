#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# kubernetes: autopath (issue 15): the server walks a pod's search path.
# A cluster made with the real kubectl through the test API server
# (k8s/apiserver.py): namespaces app and other, a Service in each, a Pod
# in app whose address (127.62.0.5) the pod's lookups come from.  Two
# minidnsd, alike but for autopath (off on $OFF, on on $ON), forwarding
# example.com and corp.test (the host's search domain) to NSD.
#
#  1. real glibc (getent hosts / ahosts) with a pod's resolv.conf
#     (search app.svc.cluster.local svc.cluster.local cluster.local
#     corp.test, ndots:5) bind-mounted in a mount namespace, against each
#     server: the same addresses, and the queries each server received per
#     lookup (its /metrics request counters) -- fewer with autopath, for a
#     Service of another namespace, a name under the host's search domain,
#     an outside name; a nonexistent name fails alike;
#     minidns_autopath_total counts the answers found
#  2. dig from the pod's address: the CNAME to the name found plus its
#     records, over UDP and TCP, with EDNS; NODATA counts as found; only
#     the first expansion (<ns>.svc of the client's namespace) is walked;
#     a client that is no pod gets the plain NXDOMAIN
#
# The pod's source address: a route to $ON with 'src 127.62.0.5' (glibc
# cannot pick one).  Ground rules of lib.sh: private network and PID
# namespaces, 127.x only, processes stopped by saved PID, bounded waits,
# no timing asserts.  Exit 77 when not root or a tool is missing.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start autopath "$@"
chmod 755 "$T"

APISERVER=$here/k8s/apiserver.py
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
PATH=$PATH:/usr/sbin
md_it_need nsd kubectl dig getent python3 mount unshare ip
md_it_built "$MINIDNSD"

NSD_IP=127.62.0.2	# authoritative for example.com. and corp.test.
API_IP=127.62.0.3	# the test Kubernetes API server (plain HTTP)
POD_IP=127.62.0.5	# the Pod app/client
OFF=127.62.0.10		# minidnsd, autopath off
ON=127.62.0.11		# minidnsd, autopath on
CL=cluster.local

# ---- NSD: the world outside the cluster ------------------------------------
cat >"$T/example.com.zone" <<'ZONE'
$ORIGIN example.com.
$TTL 300
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 127.62.0.2
www	IN A 192.0.2.80
www	IN AAAA 2001:db8::80
ftp	IN A 192.0.2.81
ZONE
cat >"$T/corp.test.zone" <<'ZONE'
$ORIGIN corp.test.
$TTL 300
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 127.62.0.2
intranet IN A 192.0.2.90
ZONE
md_it_nsd "$T/nsd" $NSD_IP "example.com=$T/example.com.zone" \
    "corp.test=$T/corp.test.zone"
if ! wait_up $NSD_IP www.example.com >/dev/null; then
	fail "NSD did not start" "$T/nsd/out"
	summary
fi

# ---- the cluster, made with kubectl ------------------------------------------
python3 "$APISERVER" --listen $API_IP --port 8080 --lifetime 300 \
    --ready-file "$T/api.ready" >"$T/api.log" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 test -s "$T/api.ready"; then
	fail "the test API server did not start" "$T/api.log"
	summary
fi
md_it_kubeconfig "$T/kubeconfig" "http://$API_IP:8080"
K="kubectl --kubeconfig $T/kubeconfig --cache-dir $T/kcache"
cat >"$T/cluster.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  type: ClusterIP
  clusterIP: 10.96.1.1
  clusterIPs: [10.96.1.1]
  ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: other}
spec:
  type: ClusterIP
  clusterIP: 10.96.2.2
  clusterIPs: [10.96.2.2]
  ports: [{name: sql, port: 5432, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: app}
spec:
  containers: [{name: c, image: busybox}]
status:
  phase: Running
  podIP: $POD_IP
  podIPs: [{ip: $POD_IP}]
YAML
if $K create --validate=false -f "$T/cluster.yaml" >"$T/k.out" 2>&1 &&
    [ "$($K get pod -n app client -o jsonpath='{.status.podIP}')" = $POD_IP ]
then
	pass "kubectl created the namespaces, Services and the Pod ($POD_IP)"
else
	fail "kubectl create" "$T/k.out"
	summary
fi

# ---- two minidnsd: autopath off and on ----------------------------------------
# conf ADDR AUTOPATH
conf() {
	cat <<CONF
listen: [ "$1:53" ]
dnssec: off
threads: 1
metrics: "$1:9153"
health: "off"
ready: "off"
allow-private-upstreams: yes
forward:
  - zone: example.com
    servers: [ $NSD_IP ]
  - zone: corp.test
    servers: [ $NSD_IP ]
kubernetes:
  zones: [ $CL ]
  kubeconfig: $T/kubeconfig
  insecure-http: yes
  pods: verified
  autopath: $2
  autopath-search: [ corp.test ]
CONF
}
conf $OFF no >"$T/off.yaml"
conf $ON yes >"$T/on.yaml"
for s in off on; do
	"$MINIDNSD" -f -c "$T/$s.yaml" >"$T/$s.log" 2>&1 &
	PIDS="$PIDS $!"
done
serves() {
	[ "$(dig @"$1" +time=1 +tries=1 +short db.other.svc.$CL A 2>/dev/null)" \
	    = 10.96.2.2 ]
}
if ! poll 15 serves $OFF || ! poll 15 serves $ON; then
	fail "minidnsd did not come up" "$T/on.log"
	summary
fi
# The pod's lookups reach $ON from the pod's address.
ip route add local $ON/32 dev lo src $POD_IP table local

# ---- 1. glibc in the pod, queries per lookup -----------------------------------
# scrape ADDR: the server's /metrics (python3: curl is not a test package)
scrape() {
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' \
	    "http://$1:9153/metrics" 2>/dev/null || true
}
requests() {
	scrape "$1" |
	    awk '/^minidns_dns_requests_total/ { n += $2 } END { print n + 0 }'
}
# lookup SERVER ARGS...: getent ARGS as the pod app/client; the queries
# SERVER received in $nq, the output in $T/getent.out, exit code in $grc
lookup() {
	local dns=$1 before
	shift
	printf 'hosts: files dns\n' >"$T/nsswitch.conf"
	printf 'nameserver %s\nsearch app.svc.%s svc.%s %s corp.test\noptions ndots:5 timeout:2 attempts:2\n' \
	    "$dns" $CL $CL $CL >"$T/resolv.pod.conf"
	before=$(requests "$dns")
	grc=0
	timeout 20 unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf &&
	    mount --bind "$2" /etc/nsswitch.conf && shift 2 &&
	    exec getent "$@"' sh "$T/resolv.pod.conf" "$T/nsswitch.conf" \
	    "$@" >"$T/getent.out" 2>&1 || grc=$?
	nq=$(($(requests "$dns") - before))
}

# compare WHAT WANT-REGEX ARGS...: the lookup against both servers; both
# find WANT, autopath with fewer queries (or, WANT empty, both fail)
compare() {
	local what=$1 want=$2 off_q off_rc
	shift 2
	lookup $OFF "$@"
	off_q=$nq
	off_rc=$grc
	cp "$T/getent.out" "$T/getent.off"
	lookup $ON "$@"
	echo "INFO: getent $*: $off_q queries without autopath, $nq with" \
	    "(exit $off_rc, $grc)"
	echo "| $what | \`getent $*\` | $off_q | $nq |" >>"$T/table"
	if [ -n "$want" ]; then
		if [ $off_rc = 0 ] && [ $grc = 0 ] &&
		    grep -Eq "$want" "$T/getent.off" &&
		    grep -Eq "$want" "$T/getent.out" && [ "$nq" -lt "$off_q" ]
		then
			pass "$what: getent $* finds $want; $off_q queries without autopath, $nq with"
		else
			fail "$what: getent $* (off: exit $off_rc, $off_q queries; on: exit $grc, $nq queries)" \
			    "$T/getent.out"
		fi
	elif [ $off_rc = 2 ] && [ $grc = 2 ] && [ "$nq" -le "$off_q" ]; then
		pass "$what: getent $* not found either way; $off_q queries without autopath, $nq with"
	else
		fail "$what: getent $* (off: exit $off_rc, $off_q queries; on: exit $grc, $nq queries)" \
		    "$T/getent.out"
	fi
}

: >"$T/table"
# Own namespace: the first expansion exists; nothing to save, same result.
lookup $OFF ahosts web
off_q=$nq
lookup $ON ahosts web
echo "| Service, own namespace | \`getent ahosts web\` | $off_q | $nq |" \
    >>"$T/table"
if [ $grc = 0 ] && grep -q '^10\.96\.1\.1 ' "$T/getent.out" &&
    [ "$nq" = "$off_q" ]; then
	pass "own namespace: getent ahosts web -> 10.96.1.1, $nq queries either way"
else
	fail "own namespace (off $off_q queries, on $nq, exit $grc)" \
	    "$T/getent.out"
fi
compare "Service, another namespace" '^10\.96\.2\.2 ' ahosts db.other
compare "host search domain" '^192\.0\.2\.90 ' ahosts intranet
compare "outside name" '^2001:db8::80 ' ahosts www.example.com
compare "outside name (hosts)" '^2001:db8::80 ' hosts www.example.com
compare "nonexistent name" '' ahosts nope.example.com
cat "$T/table"
metric() { scrape "$1" | sed -n "s/^$2 //p"; }
# db.other, intranet, www.example.com (ahosts: A and AAAA; hosts: AAAA)
if [ "$(metric $ON minidns_autopath_total)" -ge 7 ] &&
    [ "$(metric $OFF minidns_autopath_total)" = 0 ]; then
	pass "minidns_autopath_total counts the answers found ($(metric $ON minidns_autopath_total)), 0 without autopath"
else
	fail "minidns_autopath_total: $(metric $ON minidns_autopath_total) with, $(metric $OFF minidns_autopath_total) without"
fi
if [ -n "${AUTOPATH_TABLE:-}" ]; then
	cp "$T/table" "$AUTOPATH_TABLE"
fi

# ---- 2. dig from the pod's address ----------------------------------------------
# pq ARGS...: dig to $ON from the pod's address
pq() { dig @$ON -b $POD_IP +time=2 +tries=1 "$@" 2>&1; }

pq db.other.app.svc.$CL A >"$T/d.out"
if grep -q 'status: NOERROR' "$T/d.out" &&
    grep -Eq "^db\.other\.app\.svc\.$CL\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+CNAME[[:space:]]+db\.other\.svc\.$CL\.$" "$T/d.out" &&
    grep -Eq "^db\.other\.svc\.$CL\.[[:space:]].*A[[:space:]]+10\.96\.2\.2$" "$T/d.out" &&
    grep -q 'flags:.* aa' "$T/d.out"; then
	pass "UDP: db.other.app.svc -> CNAME db.other.svc + its A (authoritative)"
else
	fail "autopath over UDP" "$T/d.out"
fi
pq +tcp +noedns db.other.app.svc.$CL A >"$T/d.out"
if grep -q 'status: NOERROR' "$T/d.out" &&
    grep -q "CNAME.*db\.other\.svc\.$CL\.$" "$T/d.out" &&
    grep -q '10\.96\.2\.2$' "$T/d.out" && ! grep -q 'OPT PSEUDOSECTION' "$T/d.out"
then
	pass "TCP without EDNS: the same CNAME and address"
else
	fail "autopath over TCP" "$T/d.out"
fi
# A name never asked before, over TCP: the walk waits for
# ftp.example.com.corp.test (NXDOMAIN), then goes on to ftp.example.com.
pq +tcp ftp.example.com.app.svc.$CL A >"$T/d.out"
if grep -q 'status: NOERROR' "$T/d.out" &&
    grep -q "CNAME.*ftp\.example\.com\.$" "$T/d.out" &&
    grep -q '192\.0\.2\.81$' "$T/d.out"; then
	pass "TCP, resolved names: past the node domain's NXDOMAIN to ftp.example.com"
else
	fail "autopath over TCP through resolutions" "$T/d.out"
fi
pq db.other.app.svc.$CL AAAA >"$T/d.out"
if grep -q 'status: NOERROR' "$T/d.out" &&
    grep -q "CNAME.*db\.other\.svc\.$CL\.$" "$T/d.out" &&
    grep -q 'ANSWER: 1,' "$T/d.out"; then
	pass "NODATA counts as found: AAAA of db.other -> the CNAME, no address"
else
	fail "autopath to NODATA" "$T/d.out"
fi
pq www.example.com.app.svc.$CL A >"$T/d.out"
if grep -q 'status: NOERROR' "$T/d.out" &&
    grep -q "CNAME.*www\.example\.com\.$" "$T/d.out" &&
    grep -q '192\.0\.2\.80$' "$T/d.out"; then
	pass "an outside name: CNAME www.example.com + its A (forwarded)"
else
	fail "autopath to a forwarded name" "$T/d.out"
fi
pq db.other.svc.svc.$CL A >"$T/d.out"
pq www.example.com.svc.$CL A >"$T/d2.out"
if grep -q 'status: NXDOMAIN' "$T/d.out" &&
    grep -q 'status: NXDOMAIN' "$T/d2.out" && ! grep -q CNAME "$T/d2.out"
then
	pass "not the first expansion (svc.$CL): the plain NXDOMAIN"
else
	fail "a later expansion walked" "$T/d2.out"
fi
pq www.example.com.other.svc.$CL A >"$T/d.out"
if grep -q 'status: NXDOMAIN' "$T/d.out" && ! grep -q CNAME "$T/d.out"; then
	pass "another namespace's first expansion: the plain NXDOMAIN"
else
	fail "another namespace's expansion walked" "$T/d.out"
fi
dig @$ON -b 127.0.0.1 +time=2 +tries=1 db.other.app.svc.$CL A >"$T/d.out" 2>&1
if grep -q 'status: NXDOMAIN' "$T/d.out" && ! grep -q CNAME "$T/d.out"; then
	pass "a client that is no pod (127.0.0.1): the plain NXDOMAIN"
else
	fail "autopath for an unknown client" "$T/d.out"
fi
pq nope.example.com.app.svc.$CL A >"$T/d.out"
if grep -q 'status: NXDOMAIN' "$T/d.out" && ! grep -q CNAME "$T/d.out" &&
    grep -q "SOA" "$T/d.out"; then
	pass "no name of the path exists: the original NXDOMAIN with its SOA"
else
	fail "autopath of a nonexistent name" "$T/d.out"
fi

if [ "$nfail" != 0 ]; then
	sed 's/^/minidnsd: /' "$T/on.log" | tail -30
fi
summary
