#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Large answers through the real door (issue 15, "Large answers"): a
# headless Service with 1,000 and with 10,000 endpoints, i.e. a name with
# that many A records, served by minidnsd from a zone file generated here.
# A pod looks it up with real glibc (getent ahosts) and a pod's
# resolv.conf (search NS.svc.cluster.local ..., ndots:5) bind-mounted over
# /etc/resolv.conf in a private mount namespace, as answers.sh does.
# Over UDP the answer is truncated at a whole record with TC; glibc asks
# again over TCP and must come back with addresses: all 1,000, and for
# 10,000 (about 160 KB, more than a TCP message holds) as many as fit in
# 65,535 bytes, the count dig +tcp sees.  Then the same through a second
# minidnsd, a node-local cache forwarding cluster.local over TCP: it
# passes on the records of the cluster DNS's TC answer over TCP.
#
# Ground rules of lib.sh: a private network (and PID) namespace, 127.x
# only, every process stopped by saved PID, every wait bounded.  Exit 77
# when not root or a tool is missing; MINIDNSD from the environment, else
# ./minidnsd.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start large "$@"
chmod 755 "$T"

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_need dig getent mount unshare awk
md_it_built "$MINIDNSD"

DNS=127.62.0.10 # minidnsd
SVC=default.svc.cluster.local

# ---- the zone: big1k and big10k, distinct addresses ---------------------
{
	printf '$ORIGIN cluster.local.\n$TTL 30\n'
	printf '@ IN SOA ns hostmaster 1 7200 1800 86400 60\n'
	printf '@ IN NS ns\nns IN A 10.96.0.10\n'
	awk 'BEGIN {
		for (i = 0; i < 1000; i++)
			printf "big1k.default.svc IN A 10.1.%d.%d\n", i / 250, i % 250 + 1
		for (i = 0; i < 10000; i++)
			printf "big10k.default.svc IN A 10.2.%d.%d\n", i / 250, i % 250 + 1
	}'
} >"$T/cluster.local.zone"

cat >"$T/minidnsd.yaml" <<CONF
listen: [ "$DNS:53" ]
threads: 1
metrics: "off"
health: "off"
ready: "off"
zone-check-interval: 0
zones:
  - file: $T/cluster.local.zone
CONF
"$MINIDNSD" -f -c "$T/minidnsd.yaml" >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"
if ! wait_up $DNS ns.cluster.local >/dev/null; then
	fail "minidnsd did not come up" "$T/minidnsd.log"
	summary
fi

# ---- what dig sees ---------------------------------------------------------
# dig_count ARGS...: the number of A records in the answer in $n, the
# header's flags in $flags.
dig_count() {
	dig @$DNS +time=5 +tries=1 "$@" A >"$T/dig.out" 2>&1 || true
	flags=$(sed -n 's/.*;; flags: \([^;]*\);.*/\1/p' "$T/dig.out")
	n=$(awk '/^;/ { next } $4 == "A" { n++ } END { print n + 0 }' \
	    "$T/dig.out")
}

for name in big1k big10k; do
	for opt in +noedns +bufsize=1232; do
		dig_count +ignore $opt $name.$SVC
		if [ "$n" -gt 0 ] && echo " $flags " | grep -q ' tc '; then
			pass "dig $opt $name over UDP: TC with $n records, not empty"
		else
			fail "dig $opt $name over UDP" "flags '$flags', $n records"
		fi
	done
done
dig_count +tcp big1k.$SVC
tcp1k=$n
if [ "$tcp1k" = 1000 ] && ! echo " $flags " | grep -q ' tc '; then
	pass "dig +tcp big1k: all 1000 records, no TC"
else
	fail "dig +tcp big1k" "flags '$flags', $tcp1k records"
fi
dig_count +tcp big10k.$SVC
tcp10k=$n
if [ "$tcp10k" -gt 4000 ] && [ "$tcp10k" -lt 10000 ] &&
    echo " $flags " | grep -q ' tc '; then
	pass "dig +tcp big10k: TC with the $tcp10k records that fit in 65535 bytes"
else
	fail "dig +tcp big10k" "flags '$flags', $tcp10k records"
fi

# ---- glibc in a pod's resolver set-up --------------------------------------
# pod_getent ARGS...: getent ARGS as a pod of namespace default resolves
# (lib.sh: its resolv.conf bind-mounted in a mount namespace of its own).
pod_getent() { md_it_pod_getent "$DNS" default "$@"; }

for name in big1k big10k; do
	pod_getent ahosts $name
	got=$(awk '$2 == "STREAM" { print $1 }' "$T/getent.out" | sort -u |
	    grep -c '^10\.' || true)
	want=$tcp1k
	[ $name = big1k ] || want=$tcp10k
	if [ $grc = 0 ] && [ "$got" = "$want" ]; then
		pass "pod: getent ahosts $name (TC over UDP, then TCP): $got addresses, as dig +tcp"
	else
		fail "getent ahosts $name" \
		    "exit $grc, $got addresses (dig +tcp: $want): $(head -3 "$T/getent.out" | tr '\n' '|')"
	fi
done

# ---- behind a node-local cache ---------------------------------------------
# A second minidnsd forwards cluster.local to the first over TCP
# (force-tcp, as node-local.yaml does).  The cluster DNS's TCP answer for
# big10k has TC and the records that fit: the cache passes them on (it
# used to count the TC as the upstream's failure: SERVFAIL).
NL=127.62.0.11
cat >"$T/nodelocal.yaml" <<CONF
listen: [ "$NL:53" ]
threads: 1
metrics: "off"
health: "off"
ready: "off"
zones: []
forward:
  - zone: cluster.local
    servers: [ "$DNS" ]
    force-tcp: yes
CONF
"$MINIDNSD" -f -c "$T/nodelocal.yaml" >"$T/nodelocal.log" 2>&1 &
PIDS="$PIDS $!"
if wait_up $NL ns.cluster.local >/dev/null; then
	md_it_pod_getent "$NL" default ahosts big10k
	got=$(awk '$2 == "STREAM" { print $1 }' "$T/getent.out" | sort -u |
	    grep -c '^10\.' || true)
	if [ $grc = 0 ] && [ "$got" = "$tcp10k" ]; then
		pass "pod behind a node-local cache: getent ahosts big10k: $got addresses, as dig +tcp at the cluster DNS"
	else
		fail "getent ahosts big10k through the node-local cache" \
		    "exit $grc, $got addresses (want $tcp10k): $(head -3 "$T/getent.out" | tr '\n' '|')"
	fi
	dig @$NL +tcp +time=5 +tries=1 big10k.$SVC A >"$T/dig.out" 2>&1 || true
	n=$(awk '/^;/ { next } $4 == "A" { n++ } END { print n + 0 }' \
	    "$T/dig.out")
	check "dig +tcp big10k at the node-local cache: $n records, NOERROR, TC as the cluster DNS said" \
	    sh -c "[ $n = $tcp10k ] && grep -q 'status: NOERROR' '$T/dig.out' &&
		grep -q ';; flags: qr tc ' '$T/dig.out'"
else
	fail "the node-local minidnsd did not come up" "$T/nodelocal.log"
fi

summary
