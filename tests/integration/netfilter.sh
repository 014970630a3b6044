#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# --setup-iptables, as a node-local cache runs it: two addresses of its own
# (the link-local one and, standing in for the kube-dns ClusterIP, a
# second), each with the NOTRACK and ACCEPT rules of node-local-dns while
# it serves, and none once it has stopped.
# Checked, with the real iptables (nf_tables) of the test's own network
# namespace: the rules for both addresses, UDP and TCP, and the health
# endpoint; pods' queries (glibc getent through a pod resolv.conf) and dig
# answered on both addresses and counted by the NOTRACK rules; a rule
# removed by someone else put back on SIGHUP; none left after SIGTERM
# (foreground) or after the daemon is killed (daemon mode, running as
# nobody while the rules' keeper stays root); a start without NET_ADMIN
# fails with iptables' reason and leaves nothing; -t refuses wildcard-only
# listeners.
#
# Binaries: MINIDNSD, else ./minidnsd.  The harness is
# tests/integration/lib.sh.  Runs in a private network and PID namespace
# on 127.62.0.0/16; processes are stopped by saved PID, every wait is
# bounded.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start netfilter "$@"

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
LL=127.62.0.10	# node-local's 169.254.20.10
CIP=127.62.0.11	# the kube-dns ClusterIP it also answers

md_it_need dig getent iptables iptables-save setpriv
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

# 1. -t: wildcard-only listeners would exempt every DNS packet.
sed "s/listen: .*/listen: [ \"0.0.0.0:53\" ]/" "$T/fg.yaml" >"$T/wild.yaml"
rc=0
"$MINIDNSD" -t -c "$T/wild.yaml" >"$T/wild.out" 2>&1 || rc=$?
check "-t refuses setup-iptables with only 0.0.0.0 (rc $rc)" [ "$rc" != 0 ]
check_log "... naming the file, line and key" "$T/wild.out" \
    grep -q "wild.yaml:[0-9]*: setup-iptables: needs a listen address" \
    "$T/wild.out"

# 2. Foreground: the rules are there before the first answer.
"$MINIDNSD" -f -c "$T/fg.yaml" 2>"$T/fg.err" &
P=$!
PIDS="$PIDS $P"
wait_up "$LL" cluster.local
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
check_log "the log says how many rules" "$T/fg.log" \
    grep -q "setup-iptables: 25 rules" "$T/fg.log"

# Pods ask both addresses; their packets are the ones the rules match.
md_it_pod_getent "$LL" default hosts kubernetes.default
check_log "a pod resolves kubernetes.default on $LL (getent)" "$T/getent.out" \
    grep -q "^10.96.0.1 " "$T/getent.out"
md_it_pod_getent "$CIP" default ahosts web.shop
check_log "a pod resolves web.shop on $CIP (getent, rc $grc)" "$T/getent.out" \
    grep -q "^10.96.12.7 " "$T/getent.out"
a=$(dig @$CIP +tcp +short +time=2 +tries=1 web.shop.svc.cluster.local A)
check "dig over TCP on $CIP ($a)" [ "$a" = 10.96.12.7 ]
pk=$(iptables -w 5 -t raw -L PREROUTING -n -v -x |
    awk -v a="$CIP" '$9 == a && /udp dpt:53 / { print $1 }')
check "the NOTRACK rule for $CIP counted the pods' UDP queries ($pk)" \
    [ "${pk:-0}" -ge 1 ]

# 3. Someone removes a rule (a firewall reload): SIGHUP puts it back (the
#    keeper also checks every 10 s by itself).
iptables -w 5 -t raw -D PREROUTING -p udp -d $CIP --dport 53 \
    -m comment --comment minidnsd -j NOTRACK
check "the rule is gone" [ "$(ours)" = 24 ]
kill -HUP "$P"
check "SIGHUP puts the missing rule back" poll 10 \
    has -t raw -C PREROUTING -p udp -d $CIP --dport 53 -j NOTRACK
check_log "... and the log says so" "$T/fg.log" \
    grep -q "a rule was missing, added it again" "$T/fg.log"
check "still 25 rules, no duplicates ($(ours))" [ "$(ours)" = 25 ]

# 4. SIGTERM: after the drain, the rules go before the process ends.
kill -TERM "$P"
if wait_exit "$P" 15; then
	pass "SIGTERM stops minidnsd"
else
	fail "SIGTERM stops minidnsd" "$T/fg.log"
fi
check "no rule of ours left after the stop ($(ours))" [ "$(ours)" = 0 ]
check_log "the log says the rules were removed" "$T/fg.log" \
    grep -q "setup-iptables: rules removed" "$T/fg.log"

# 5. Daemon mode, running as nobody: the keeper stays root, and removes the
#    rules even when the server is killed.
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
check "the rules' keeper runs as root ($(ps -o user=,comm= -p "${K:-0}"))" \
    [ "$(ps -o user= -p "${K:-0}" | tr -d ' ')" = root ]
check "25 rules while the daemon serves ($(ours))" [ "$(ours)" = 25 ]
a=$(dig @$LL +short +time=2 +tries=1 kubernetes.default.svc.cluster.local A)
check "the daemon answers ($a)" [ "$a" = 10.96.0.1 ]
kill -KILL "$P"
check "killed, its rules are removed all the same" poll 10 \
    sh -c '[ "$(iptables-save | grep -c -- "--comment minidnsd")" = 0 ]'
check "... and the keeper ends" poll 10 sh -c "! kill -0 ${K:-0} 2>/dev/null"

# 6. Without NET_ADMIN iptables fails: the start fails with its reason and
#    nothing is left behind.
write_conf nocap
rc=0
timeout 20 setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
    "$MINIDNSD" -f -c "$T/nocap.yaml" >"$T/nocap.out" 2>&1 || rc=$?
check "without NET_ADMIN the start fails (rc $rc)" [ "$rc" = 3 ]
check_log "... with iptables' reason" "$T/nocap.log" \
    grep -q "setup-iptables: iptables -t raw .*: .*[Pp]ermission denied" \
    "$T/nocap.log"
check "... and no rule left ($(ours))" [ "$(ours)" = 0 ]
check "... and nothing answers" sh -c \
    "! dig @$LL +short +time=1 +tries=1 cluster.local SOA >/dev/null"

summary
