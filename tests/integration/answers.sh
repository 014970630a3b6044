#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# How minidnsd answers, through the real doors (issue 13):
#
#  1. a Kubernetes ExternalName service resolved for a pod: real glibc
#     (getent ahosts) with a pod's resolv.conf (nameserver minidnsd,
#     search NS.svc.cluster.local svc.cluster.local cluster.local,
#     ndots:5) bind-mounted over /etc/resolv.conf in a private mount
#     namespace.  The service comes from the Kubernetes source (the test
#     API server, k8s/apiserver.py); its externalName is served by NSD,
#     reached through a forward zone.  The same through a CNAME of a
#     local zone file.
#  2. rrset-roundrobin: successive answers of real dig for a name of four
#     addresses differ in order and hold the same set, as Unbound's do
#     (forwarding to the same NSD).
#  3. RD=0 (dig +norec): the cached answer, or a referral, never REFUSED.
#
# Ground rules of lib.sh: a private network (and PID) namespace, 127.x
# only, every process stopped by saved PID, every wait bounded.  Exit 77
# when not root or a tool is missing; MINIDNSD from the environment, else
# ./minidnsd.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start answers "$@"
chmod 755 "$T"

APISERVER=$here/k8s/apiserver.py
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
PATH=$PATH:/usr/sbin
md_it_need nsd unbound dig getent python3 mount unshare
md_it_built "$MINIDNSD"

NSD_IP=127.61.0.2	# authoritative for example.org.
API_IP=127.61.0.3	# the test Kubernetes API server (plain HTTP)
DNS=127.61.0.10		# minidnsd
UNB=127.61.0.11		# Unbound, the reference

# ---- NSD: example.org. --------------------------------------------------
cat >"$T/example.org.zone" <<'ZONE'
$ORIGIN example.org.
$TTL 300
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 127.61.0.2
docs	IN A 192.0.2.77
docs	IN AAAA 2001:db8::77
pool	IN A 192.0.2.1
pool	IN A 192.0.2.2
pool	IN A 192.0.2.3
pool	IN A 192.0.2.4
ZONE
md_it_nsd "$T/nsd" $NSD_IP "example.org=$T/example.org.zone"
if ! wait_up $NSD_IP docs.example.org >/dev/null; then
	fail "NSD did not start" "$T/nsd/out"
	summary
fi

# ---- the Kubernetes API: an ExternalName service in default ---------------
cat >"$T/cluster.json" <<'JSON'
[
 {"op": "add", "kind": "Namespace", "object": {"metadata": {"name": "default"}}},
 {"op": "add", "kind": "Service", "object": {
  "metadata": {"name": "docs", "namespace": "default"},
  "spec": {"type": "ExternalName", "externalName": "docs.example.org"}}}
]
JSON
python3 "$APISERVER" --listen $API_IP --port 8080 --apply "$T/cluster.json" \
    --lifetime 300 --ready-file "$T/api.ready" >"$T/api.log" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 test -s "$T/api.ready"; then
	fail "the test API server did not start" "$T/api.log"
	summary
fi
md_it_kubeconfig "$T/kubeconfig" "http://$API_IP:8080"

# ---- minidnsd: the Kubernetes zones, a zone file, a forward zone ----------
cat >"$T/corp.test.zone" <<'ZONE'
$ORIGIN corp.test.
$TTL 3600
@	IN SOA ns admin 1 3600 600 86400 300
@	IN NS ns
ns	IN A 10.9.0.53
wiki	IN CNAME docs.example.org.
ZONE
cat >"$T/minidnsd.yaml" <<CONF
listen: [ "$DNS:53" ]
dnssec: off
threads: 1
metrics: "off"
health: "off"
ready: "off"
zone-check-interval: 0
allow-private-upstreams: yes
zones:
  - file: $T/corp.test.zone
forward:
  - zone: example.org
    servers: [ $NSD_IP ]
kubernetes:
  zones: [ cluster.local ]
  kubeconfig: $T/kubeconfig
  insecure-http: yes
CONF
"$MINIDNSD" -f -c "$T/minidnsd.yaml" >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 dig @$DNS +time=1 +tries=1 +short docs.default.svc.cluster.local CNAME \
    >/dev/null || ! poll 10 sh -c "dig @$DNS +time=1 +tries=1 +short \
    docs.default.svc.cluster.local CNAME | grep -q docs.example.org"; then
	fail "minidnsd with the Kubernetes source did not come up" \
	    "$T/minidnsd.log"
	summary
fi

# ---- 1. getent in a pod's resolver set-up ---------------------------------
# pod_getent NS ARGS...: getent ARGS as a pod of namespace NS (lib.sh).
pod_getent() { md_it_pod_getent "$DNS" "$@"; }

pod_getent default ahosts docs
if [ $grc = 0 ] && grep -q '^192\.0\.2\.77 ' "$T/getent.out" &&
    grep -q '^2001:db8::77 ' "$T/getent.out" &&
    grep -q ' STREAM docs\.example\.org$' "$T/getent.out"; then
	pass "pod in default: getent ahosts docs (ExternalName) -> docs.example.org, 192.0.2.77 and 2001:db8::77"
else
	fail "getent ahosts docs (ExternalName)" "exit $grc: $(tr '\n' '|' <"$T/getent.out")"
fi
pod_getent default ahosts docs.default.svc.cluster.local
if [ $grc = 0 ] && grep -q '^192\.0\.2\.77 ' "$T/getent.out"; then
	pass "getent ahosts docs.default.svc.cluster.local: 192.0.2.77"
else
	fail "getent ahosts the full name" "exit $grc: $(tr '\n' '|' <"$T/getent.out")"
fi
pod_getent default ahosts wiki.corp.test
if [ $grc = 0 ] && grep -q '^192\.0\.2\.77 ' "$T/getent.out" &&
    grep -q ' STREAM docs\.example\.org$' "$T/getent.out"; then
	pass "getent ahosts wiki.corp.test (a zone file's CNAME out): 192.0.2.77"
else
	fail "getent wiki.corp.test" "exit $grc: $(tr '\n' '|' <"$T/getent.out")"
fi
pod_getent default ahosts nosuch
if [ $grc != 0 ] && ! grep -q '[0-9]' "$T/getent.out"; then
	pass "getent ahosts nosuch: not found (exit $grc)"
else
	fail "getent nosuch" "exit $grc: $(tr '\n' '|' <"$T/getent.out")"
fi
# what the pod's resolver got: the chain and the target, one answer
out=$(dig @$DNS +time=2 +tries=1 +noall +answer docs.default.svc.cluster.local A)
if echo "$out" | grep -Eq 'docs\.default\.svc\.cluster\.local\..*CNAME[[:space:]]+docs\.example\.org\.' &&
    echo "$out" | grep -Eq '^docs\.example\.org\..*A[[:space:]]+192\.0\.2\.77$'; then
	pass "dig: the ExternalName's CNAME and its target's address in one answer"
else
	fail "dig docs.default.svc.cluster.local A" "$(echo "$out" | tr '\n' '|')"
fi
# without RD: the chain only (authoritative data, nothing resolved)
out=$(dig @$DNS +norec +time=2 +tries=1 +noall +answer docs.default.svc.cluster.local A)
if echo "$out" | grep -q CNAME && ! echo "$out" | grep -q 192.0.2.77; then
	pass "dig +norec: the CNAME only"
else
	fail "dig +norec ExternalName" "$(echo "$out" | tr '\n' '|')"
fi

# ---- 2. rrset-roundrobin, against Unbound -----------------------------------
md_it_unbound_conf "$T/u.conf" u
cat >>"$T/u.conf" <<CONF
	interface: $UNB
	do-not-query-localhost: no
	rrset-roundrobin: yes
forward-zone:
	name: "example.org."
	forward-addr: $NSD_IP
CONF
unbound -d -c "$T/u.conf" >"$T/u.out" 2>&1 &
PIDS="$PIDS $!"
if ! wait_up $UNB docs.example.org >/dev/null; then
	fail "unbound did not start" "$T/u.out"
	summary
fi

# orders SERVER N: N answers of dig +short for pool.example.org., each on
# one line; N1 lines into $T/orders.SERVER
orders() {
	local i
	: >"$T/orders.$1"
	for i in $(seq "$2"); do
		dig @"$1" +time=2 +tries=1 +short pool.example.org A |
		    tr '\n' ' ' >>"$T/orders.$1"
		echo >>"$T/orders.$1"
	done
}
orders $DNS 8
orders $UNB 12
set_of() { tr ' ' '\n' <"$1" | grep . | sort -u | tr '\n' ' '; }
want="192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 "
# one worker: each answer starts one record further, so no two successive
# answers are alike; every answer holds the whole set
same=0
prev=""
while read -r line; do
	[ "$line" != "$prev" ] || same=$((same + 1))
	prev=$line
	[ "$(echo "$line" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')" = "$want" ] ||
	    same=$((same + 100))
done <"$T/orders.$DNS"
if [ $same = 0 ] && [ "$(sort -u "$T/orders.$DNS" | wc -l)" -ge 4 ]; then
	pass "minidnsd: 8 answers, the same 4 addresses, each in another order than the one before"
else
	fail "minidnsd round-robin" "$(tr '\n' '|' <"$T/orders.$DNS")"
fi
# Unbound rotates too (by the query ID: random here), over the same set
if [ "$(set_of "$T/orders.$UNB")" = "$want" ] &&
    [ "$(set_of "$T/orders.$DNS")" = "$want" ] &&
    [ "$(sort -u "$T/orders.$UNB" | wc -l)" -ge 2 ]; then
	pass "Unbound: the same set, in more than one order (as minidnsd)"
else
	fail "Unbound round-robin reference" "$(tr '\n' '|' <"$T/orders.$UNB")"
fi

# ---- 3. RD=0 -----------------------------------------------------------------
out=$(dig @$DNS +norec +time=2 +tries=1 pool.example.org A)
if echo "$out" | grep -q 'status: NOERROR' &&
    [ "$(echo "$out" | grep -c '^pool\.example\.org\..*IN[[:space:]]A')" = 4 ] &&
    ! echo "$out" | grep -q 'flags:.* rd'; then
	pass "dig +norec pool.example.org: the 4 cached addresses"
else
	fail "dig +norec cached" "$(echo "$out" | tr '\n' '|')"
fi
# ns.example.org. exists (NSD has it) and was never asked
out=$(dig @$DNS +norec +time=2 +tries=1 ns.example.org A)
if echo "$out" | grep -q 'status: NOERROR' && echo "$out" | grep -q 'ANSWER: 0,'; then
	pass "dig +norec for a name never asked: NOERROR, no answer, not REFUSED"
else
	fail "dig +norec miss" "$(echo "$out" | tr '\n' '|')"
fi
out=$(dig @$DNS +norec +time=2 +tries=1 ns.example.org A)
if echo "$out" | grep -q 'ANSWER: 0,'; then
	pass "... and nothing was resolved behind it (still not cached)"
else
	fail "dig +norec started a resolution" "$(echo "$out" | tr '\n' '|')"
fi

summary
