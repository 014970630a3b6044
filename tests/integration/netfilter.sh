#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# --setup-interface and --setup-iptables, as a node-local cache runs them:
# the link-local address 169.254.20.10 and the kube-dns ClusterIP
# 10.96.0.10 on a dummy interface minidnsd creates, with node-local-dns's
# NOTRACK and ACCEPT rules for both while it serves, and nothing left once
# it has stopped.  All inside the test's own network namespace (its own
# interfaces, addresses and nf_tables rules), with the real ip and
# iptables commands.
# Checked: the interface and its two addresses, the rules for both
# addresses (UDP and TCP) and the health endpoint; pods' queries (glibc
# getent through a pod resolv.conf) and dig answered on both addresses and
# counted by the NOTRACK rules; a removed rule and a removed interface put
# back on SIGHUP (the sockets answer again); a second cache started beside
# the first (a rolling update with maxSurge): the first one's stop leaves
# everything to the second, whose stop takes it all down; a killed daemon
# (daemon mode, running as nobody while the keeper stays root) takes
# everything down too; a start without NET_ADMIN fails with iptables'
# reason and leaves nothing; -t refuses wildcard-only listeners and bad
# interface names.
#
# Binaries: MINIDNSD, else ./minidnsd.  The harness is
# tests/integration/lib.sh.  Runs in a private network and PID namespace;
# processes are stopped by saved PID, every wait is bounded.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start netfilter "$@"

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
LL=169.254.20.10 # node-local's link-local address
CIP=10.96.0.10   # the kube-dns ClusterIP it also answers
IF=minidns0

md_it_need dig getent ip iptables iptables-save setpriv
md_it_built "$MINIDNSD"

cp "$srcdir/zones/cluster.local.zone" "$T/cluster.local.zone"
write_conf() {
	cat >"$T/$1.yaml" <<EOF
listen: [ "$LL:53", "$CIP:53" ]
threads: 2
recursion: no
zones:
  - file: $T/cluster.local.zone
log-file: $T/$1.log
zone-check-interval: 0
metrics: "off"
health: "$LL:8080"
ready: "off"
setup-interface: $IF
setup-iptables: yes
EOF
}
write_conf fg

# How many of our rules there are now (every table).
ours() {
	iptables-save 2>/dev/null | grep -c -- '--comment minidnsd' || true
}
# Whether a rule is there, as iptables -C sees it.
has() {
	iptables -w 5 "$@" -m comment --comment minidnsd 2>/dev/null
}
addrs() {
	ip -o -4 addr show dev $IF 2>/dev/null | awk '{ print $4 }' |
	    sort | tr '\n' ' '
}
no_interface() {
	! ip link show dev $IF >/dev/null 2>&1
}
answers() { # ADDR: the A record of kubernetes.default over UDP
	[ "$(dig @"$1" +short +time=1 +tries=2 \
	    kubernetes.default.svc.cluster.local A)" = 10.96.0.1 ]
}

# 1. -t: wildcard-only listeners, a bad interface name.
sed "s/listen: .*/listen: [ \"0.0.0.0:53\" ]/" "$T/fg.yaml" >"$T/wild.yaml"
rc=0
"$MINIDNSD" -t -c "$T/wild.yaml" >"$T/wild.out" 2>&1 || rc=$?
check "-t refuses setup-iptables with only 0.0.0.0 (rc $rc)" [ "$rc" != 0 ]
check_log "... naming the file, line and key" "$T/wild.out" \
    grep -q "wild.yaml:[0-9]*: setup-iptables: needs a listen address" \
    "$T/wild.out"
sed "s/setup-interface: .*/setup-interface: a-name-far-too-long/" \
    "$T/fg.yaml" >"$T/ifname.yaml"
rc=0
"$MINIDNSD" -t -c "$T/ifname.yaml" >"$T/ifname.out" 2>&1 || rc=$?
check_log "-t refuses an interface name of 19 characters (rc $rc)" \
    "$T/ifname.out" grep -q "ifname.yaml:[0-9]*: setup-interface: .* is not an interface name" \
    "$T/ifname.out"

# 2. Foreground: interface and rules are there before the first answer.
"$MINIDNSD" -f -c "$T/fg.yaml" 2>"$T/fg.err" &
P=$!
PIDS="$PIDS $P"
wait_up "$LL" cluster.local || true
check "$IF holds $LL and $CIP ($(addrs))" \
    [ "$(addrs)" = "10.96.0.10/32 169.254.20.10/32 " ]
check "$IF is a dummy interface (or a bridge without ports where the kernel has no dummy driver), up" sh -c \
    "ip -d link show dev $IF | grep -Eq '^ *(dummy|bridge) ' &&
	ip link show dev $IF | grep -q ',UP'"
n=$(ours)
# 2 addresses x UDP and TCP for DNS, and the health port: 5 x 5 rules.
check "25 rules of ours while serving ($n)" [ "$n" = 25 ]
for a in $LL $CIP; do
	for p in udp tcp; do
		check "raw PREROUTING NOTRACK for $a $p/53" \
		    has -t raw -C PREROUTING -p $p -d $a --dport 53 -j NOTRACK
		check "raw OUTPUT NOTRACK for answers from $a $p/53" \
		    has -t raw -C OUTPUT -p $p -s $a --sport 53 -j NOTRACK
		check "filter INPUT ACCEPT for $a $p/53" \
		    has -t filter -C INPUT -p $p -d $a --dport 53 -j ACCEPT
	done
done
check "the health endpoint's port too" \
    has -t raw -C PREROUTING -p tcp -d $LL --dport 8080 -j NOTRACK
check_log "the log says what was set up" "$T/fg.log" \
    grep -q "setup-iptables: 25 rules" "$T/fg.log"

# Pods ask both addresses; their packets are the ones the rules match.
md_it_pod_getent "$LL" default hosts kubernetes.default
check_log "a pod resolves kubernetes.default on $LL (getent, rc $grc)" \
    "$T/getent.out" grep -q "^10.96.0.1 " "$T/getent.out"
md_it_pod_getent "$CIP" default ahosts web.shop
check_log "a pod resolves web.shop on $CIP (getent, rc $grc)" \
    "$T/getent.out" grep -q "^10.96.12.7 " "$T/getent.out"
a=$(dig @$CIP +tcp +short +time=2 +tries=1 web.shop.svc.cluster.local A)
check "dig over TCP on $CIP ($a)" [ "$a" = 10.96.12.7 ]
pk=$(iptables -w 5 -t raw -L OUTPUT -n -v -x |
    awk -v a="$CIP" '$9 == a && /udp dpt:53 / { print $1 }')
check "the NOTRACK rule for $CIP counted the pods' UDP queries ($pk)" \
    [ "${pk:-0}" -ge 1 ]

# 3. Someone removes a rule (a firewall reload), or the interface: SIGHUP
#    puts them back (the keeper also checks every 10 s by itself), and the
#    sockets bound before answer again.
iptables -w 5 -t raw -D PREROUTING -p udp -d $CIP --dport 53 \
    -m comment --comment minidnsd -j NOTRACK
check "the rule is gone" [ "$(ours)" = 24 ]
kill -HUP "$P"
check "SIGHUP puts the missing rule back" poll 10 \
    has -t raw -C PREROUTING -p udp -d $CIP --dport 53 -j NOTRACK
# (the warning follows the check of every rule, a moment later)
check_log "... and the log says so" "$T/fg.log" poll 10 \
    grep -q "setup-iptables: 1 rule was missing; added again" "$T/fg.log"
check "still 25 rules, no duplicates ($(ours))" [ "$(ours)" = 25 ]
ip link del dev $IF
check "with $IF deleted, $LL does not answer" sh -c "$(declare -f answers); ! answers $LL"
kill -HUP "$P"
check "SIGHUP makes $IF again, with both addresses" poll 10 \
    sh -c "[ \"\$(ip -o -4 addr show dev $IF 2>/dev/null | wc -l)\" = 2 ]"
check "... and the sockets bound before answer on $LL and $CIP again" \
    poll 5 sh -c "$(declare -f answers); answers $LL && answers $CIP"

# 4. A rolling update with maxSurge: a second cache starts beside the
#    first (SO_REUSEPORT), the first stops.  What they share stays for the
#    second one, which answers all along; its own stop takes it down.
write_conf surge
"$MINIDNSD" -f -c "$T/surge.yaml" 2>"$T/surge.err" &
Q=$!
PIDS="$PIDS $Q"
check "the second cache starts beside the first" poll 10 \
    grep -q "minidnsd\[main\] info: ready" "$T/surge.log"
check "still 25 rules with two caches ($(ours))" [ "$(ours)" = 25 ]
kill -TERM "$P"
if wait_exit "$P" 15; then
	pass "SIGTERM stops the first cache"
else
	fail "SIGTERM stops the first cache" "$T/fg.log"
fi
check_log "it leaves the set-up to the other cache" "$T/fg.log" \
    grep -q "another server answers on .*: the interface and rules stay" \
    "$T/fg.log"
check "the 25 rules stay ($(ours))" [ "$(ours)" = 25 ]
check "the second cache answers on $LL and $CIP" \
    sh -c "$(declare -f answers); answers $LL && answers $CIP"
kill -TERM "$Q"
if wait_exit "$Q" 15; then
	pass "SIGTERM stops the second cache"
else
	fail "SIGTERM stops the second cache" "$T/surge.log"
fi
check "no rule of ours left after the last stop ($(ours))" [ "$(ours)" = 0 ]
check "$IF is gone" no_interface
check_log "the log says so" "$T/surge.log" \
    grep -q "rules, setup-interface: interface removed" "$T/surge.log"

# 5. Daemon mode, running as nobody: the keeper stays root, and takes all
#    down even when the server is killed.
write_conf bg
printf 'user: nobody\npid-file: %s/bg.pid\n' "$T" >>"$T/bg.yaml"
rc=0
timeout 20 "$MINIDNSD" -c "$T/bg.yaml" >"$T/bg.out" 2>&1 || rc=$?
check_log "the daemon starts (rc $rc)" "$T/bg.out" [ "$rc" = 0 ]
P=$(cat "$T/bg.pid" 2>/dev/null || echo 0)
PIDS="$PIDS $P"
K=$(ps -o pid= --ppid "$P" 2>/dev/null | head -n 1 | tr -d ' ')
PIDS="$PIDS ${K:-}"
check "the server runs as nobody ($(ps -o user= -p "$P"))" \
    [ "$(ps -o user= -p "$P" | tr -d ' ')" = nobody ]
check "the keeper runs as root ($(ps -o user=,comm= -p "${K:-0}"))" \
    [ "$(ps -o user= -p "${K:-0}" | tr -d ' ')" = root ]
check "25 rules while the daemon serves ($(ours))" [ "$(ours)" = 25 ]
check "the daemon answers on $CIP" answers $CIP
kill -KILL "$P"
check "killed, its rules are removed all the same" poll 10 \
    sh -c '[ "$(iptables-save | grep -c -- "--comment minidnsd")" = 0 ]'
check "... and $IF" poll 10 sh -c "! ip link show dev $IF >/dev/null 2>&1"
check "... and the keeper ends" poll 10 sh -c "! kill -0 ${K:-0} 2>/dev/null"

# 6. Without NET_ADMIN: the start fails with the command's reason, and
#    nothing is left behind.
write_conf nocap
sed -i '/setup-interface/d' "$T/nocap.yaml"
ip link add $IF type dummy 2>/dev/null || ip link add $IF type bridge
ip addr add $LL/32 dev $IF
ip addr add $CIP/32 dev $IF
ip link set $IF up
rc=0
timeout 20 setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
    "$MINIDNSD" -f -c "$T/nocap.yaml" >"$T/nocap.out" 2>&1 || rc=$?
check "without NET_ADMIN the start fails (rc $rc)" [ "$rc" = 3 ]
check_log "... with iptables' reason" "$T/nocap.log" \
    grep -q "setup-iptables: iptables -t raw .*: .*[Pp]ermission denied" \
    "$T/nocap.log"
check "... and no rule left ($(ours))" [ "$(ours)" = 0 ]
check "... and nothing answers" sh -c "$(declare -f answers); ! answers $LL"

summary
