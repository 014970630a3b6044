#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The multi-worker server (threads:, --threads):
#
#  1. one minidnsd with one worker and one with four (more than this
#     machine's cores, so the kernel really spreads clients) serve the same
#     local zones and forward to the same NSD; every question is asked 12
#     times of each (dig picks a new source port each time, so the
#     queries land on different workers, and the repeats are answered from
#     each worker's view of the shared cache) over UDP and TCP: all the
#     answers agree, flags, rcode and records (TTLs aside)
#  2. the four workers run (/proc/PID/task/*/comm) and more than one of them
#     answered (minidns_worker_requests_total in /metrics); the four
#     workers spread datagrams by the kernel's hash (udp-steering: hash)
#  2b. udp-steering: cpu, the default, on two workers: 40 digs pinned to
#     CPU 0 (taskset) are all answered by one worker, 40 pinned to CPU 1
#     by the other (per-worker counters before and after)
#  2c. udp-steering: cpu with one worker more than the machine's CPUs:
#     40 digs pinned to CPU 0 are answered by workers 0 and NCPU (the
#     datagrams' IDs spread them), by both, and by no other
#  3. reloads under load: a stream of 3000 UDP queries from 16 source
#     ports and 150 TCP connections while the zone file is rewritten and
#     SIGHUP sent ten times: every query answered, and afterwards every
#     worker serves the last version
#  4. udp-batch-wait: 1000 on two workers that forward: 3000 UDP
#     questions for distinct names (each a cache miss sent on to NSD),
#     16 in flight, and a TCP question every 100 on one connection: every
#     one answered while the workers pause their UDP sockets (a timerfd
#     each) and answer upstream replies and TCP meanwhile
#
# Ground rules as in run.sh, the harness of lib.sh: its own network
# namespace, 127.x addresses only, processes stopped by PID, every wait
# bounded, no timing asserts.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start workers "$@"

MINIDNSD=${MINIDNSD:-$(pwd)/minidnsd}
md_it_need dig nsd python3
md_it_built "$MINIDNSD"

ONE=127.61.0.1	# minidnsd, --threads 1
FOUR=127.61.0.4 # minidnsd, --threads 4
RELOAD=127.61.0.5 # minidnsd, --threads 2, reloaded under load
STEER=127.61.0.6 # minidnsd, --threads 2, udp-steering: cpu (the default)
WAIT=127.61.0.7	 # minidnsd, --threads 2, udp-batch-wait: 1000
SPREAD=127.61.0.8 # minidnsd, one worker more than the machine's CPUs
NSD=127.61.0.9	# NSD, authoritative for fwd.test
top=$srcdir

# ---- NSD: the upstream the forwarding servers share ----------------------
mkdir -p "$T/nsd"
cat >"$T/nsd/fwd.test.zone" <<'ZONE'
$ORIGIN fwd.test.
$TTL 300
@	IN SOA	ns hostmaster 1 3600 900 604800 60
@	IN NS	ns
ns	IN A	127.61.0.9
www	IN A	192.0.2.80
www	IN AAAA	2001:db8::80
alias	IN CNAME www
chain	IN CNAME alias
@	IN MX	10 mail
mail	IN A	192.0.2.25
txt	IN TXT	"workers" "agree"
*.wild	IN A	192.0.2.99
ZONE
md_it_nsd "$T/nsd" "$NSD" --opt 'verbosity: 1' \
    --opt 'rrl-ratelimit: 0' --opt 'rrl-whitelist-ratelimit: 0' \
    fwd.test="$T/nsd/fwd.test.zone"
wait_up $NSD www.fwd.test || {
	fail "nsd did not start" "$T/nsd/out"
	summary
}

# ---- 1 and 4 workers -------------------------------------------------------
common="-f --zone $top/zones/cluster.local.zone
	--zone $top/zones/10.in-addr.arpa.zone --forward .=$NSD
	--allow-private-upstreams --health off --ready off"
# shellcheck disable=SC2086
"$MINIDNSD" $common --listen $ONE --threads 1 --metrics off \
    >"$T/one.log" 2>&1 &
P1=$!
PIDS="$PIDS $P1"
# The kernel's hash spreads dig's source ports over the four workers
# (with udp-steering: cpu, the default, a client's datagrams would all go
# to the worker of the CPU they came in on: see 2b).
echo "udp-steering: hash" >"$T/hash.yaml"
# shellcheck disable=SC2086
"$MINIDNSD" $common -c "$T/hash.yaml" --listen $FOUR --threads 4 \
    --metrics $FOUR:9153 >"$T/four.log" 2>&1 &
P4=$!
PIDS="$PIDS $P4"
wait_up $ONE kubernetes.default.svc.cluster.local || fail "1 worker: no start" "$T/one.log"
wait_up $FOUR kubernetes.default.svc.cluster.local || fail "4 workers: no start" "$T/four.log"

# One answer, normalised: header flags and status, then every record of
# the answer and authority sections without its TTL; the lines sorted, as
# rrset-roundrobin turns the order of an RRset from one answer to the next.
norm() {
	dig @"$1" +time=2 +tries=1 +noall +comments +answer +authority \
	    $3 "$2" 2>&1 |
	    awk '/^;; ->>HEADER<<-/ { sub(/, id: [0-9]+/, ""); print; next }
		/^;; flags:/ { print; next }
		/^;/ || /^$/ { next }
		{ $2 = ""; print }' | LC_ALL=C sort
}

questions="kubernetes.default.svc.cluster.local/A
web.shop.svc.cluster.local/AAAA
_http._tcp.web.shop.svc.cluster.local/SRV
db.shop.svc.cluster.local/A
nothere.cluster.local/A
web.shop.svc.cluster.local/TXT
1.0.96.10.in-addr.arpa/PTR
www.fwd.test/A
www.fwd.test/AAAA
chain.fwd.test/A
fwd.test/MX
txt.fwd.test/TXT
a.wild.fwd.test/A
missing.fwd.test/A
www.fwd.test/SRV"

same=0
differ=0
for qt in $questions; do
	q=${qt%/*}
	t=${qt#*/}
	ref=$(norm $ONE "$q" "$t")
	bad=""
	for i in $(seq 12); do
		for srv in $ONE $FOUR; do
			got=$(norm $srv "$q" "$t")
			[ "$got" = "$ref" ] || bad="$bad $srv#$i"
		done
	done
	for srv in $ONE $FOUR; do
		got=$(norm $srv "$q" "$t +tcp")
		[ "$got" = "$ref" ] || bad="$bad $srv/tcp"
	done
	if [ -z "$bad" ] && [ -n "$ref" ]; then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		echo "$q $t: differs at$bad"
		echo "$ref" | sed 's/^/  1 worker | /'
	fi
done
check "1 and 4 workers: $same of 15 questions answered alike, 12 times each over UDP and over TCP" \
    [ "$same" = 15 ]
check "the NXDOMAIN and NODATA cases really are negative" sh -c \
    "dig @$FOUR +short +time=2 +tries=1 missing.fwd.test | grep -q . && exit 1;
	dig @$FOUR +time=2 +tries=1 missing.fwd.test | grep -q NXDOMAIN"

# Every worker is a thread named md-worker-N; the main thread is the
# control plane (reloads, endpoints) and answers no query.
threads=$(cat /proc/$P4/task/*/comm | grep -c '^md-worker-' || true)
check "4 workers: 4 md-worker threads beside the control thread ($threads)" \
    [ "$threads" = 4 ]
scrape() {
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
	    "http://$FOUR:9153/metrics"
}
scrape >"$T/metrics" 2>&1 || true
busy=$(awk '/^minidns_worker_requests_total/ && $2 > 0' "$T/metrics" | wc -l)
listed=$(grep -c '^minidns_worker_requests_total' "$T/metrics" || true)
check "4 workers: each listed in /metrics ($listed), $busy of them answered" \
    sh -c "[ $listed = 4 ] && [ $busy -ge 2 ]"

# ---- 2b. udp-steering: cpu --------------------------------------------------
# shellcheck disable=SC2086
"$MINIDNSD" $common --listen $STEER --threads 2 --metrics $STEER:9153 \
    >"$T/steer.log" 2>&1 &
PIDS="$PIDS $!"
wait_up $STEER kubernetes.default.svc.cluster.local ||
    fail "udp-steering: no start" "$T/steer.log"
# per_worker ADDR N: the queries answered by each of workers 0..N-1
per_worker() {
	python3 -c 'import sys, urllib.request
m = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
n = {}
for l in m.splitlines():
    if l.startswith("minidns_worker_requests_total{"):
        n[l.split("\"")[1]] = int(float(l.split()[-1]))
print(" ".join(str(n.get(str(i), 0)) for i in range(int(sys.argv[2]))))' \
	    "http://$1:9153/metrics" "$2"
}
# pinned ADDR N CPU: 40 digs from that CPU; prints each worker's increase
pinned() {
	local before after i
	read -r -a before < <(per_worker "$1" "$2")
	for i in $(seq 40); do
		taskset -c "$3" dig @"$1" +time=2 +tries=1 +short \
		    web.shop.svc.cluster.local >/dev/null 2>&1 || true
	done
	read -r -a after < <(per_worker "$1" "$2")
	for i in $(seq 0 $(($2 - 1))); do
		printf '%s ' $((after[i] - before[i]))
	done
	echo
}
ncpu=$(nproc)
read -r c0w0 c0w1 < <(pinned $STEER 2 0)
check "udp-steering: cpu: 40 digs on CPU 0 answered by one worker ($c0w0 + $c0w1)" \
    sh -c "{ [ $c0w0 = 40 ] && [ $c0w1 = 0 ]; } || { [ $c0w0 = 0 ] && [ $c0w1 = 40 ]; }"
if [ "$ncpu" -ge 2 ]; then
	read -r c1w0 c1w1 < <(pinned $STEER 2 1)
	check "udp-steering: cpu: 40 digs on CPU 1 answered by the other ($c1w0 + $c1w1)" \
	    sh -c "[ $((c0w0 + c1w0)) = 40 ] && [ $((c0w1 + c1w1)) = 40 ]"
else
	skip "udp-steering: cpu: 40 digs on CPU 1 answered by the other" \
	    "one CPU"
fi

# ---- 2c. udp-steering: cpu, more workers than CPUs -------------------------
# One worker more than the machine's CPUs: CPU 0's datagrams are spread
# over worker 0 and worker NCPU by their IDs; no other worker gets any.
nconf=$(getconf _NPROCESSORS_CONF)
if [ $((nconf + 1)) -le 64 ]; then
	# shellcheck disable=SC2086
	"$MINIDNSD" $common --listen $SPREAD --threads $((nconf + 1)) \
	    --metrics $SPREAD:9153 >"$T/spread.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_up $SPREAD kubernetes.default.svc.cluster.local ||
	    fail "udp-steering, $((nconf + 1)) workers: no start" "$T/spread.log"
	read -r -a got < <(pinned $SPREAD $((nconf + 1)) 0)
	others=0
	for i in $(seq 1 $((nconf - 1))); do
		others=$((others + got[i]))
	done
	check "udp-steering: cpu, $((nconf + 1)) workers on $nconf CPUs: 40 digs on CPU 0 answered by workers 0 and $nconf, both (${got[*]})" \
	    sh -c "[ ${got[0]} -gt 0 ] && [ ${got[$nconf]} -gt 0 ] && [ $((got[0] + got[nconf])) = 40 ] && [ $others = 0 ]"
else
	skip "udp-steering: cpu, more workers than CPUs" "$nconf CPUs"
fi

# ---- reloads under load ----------------------------------------------------
cat >"$T/reload.zone" <<'ZONE'
$ORIGIN reload.test.
$TTL 60
@	IN SOA	ns hostmaster 1 3600 900 604800 60
@	IN NS	ns
ns	IN A	192.0.2.1
www	IN A	192.0.2.1
ZONE
"$MINIDNSD" -f --listen $RELOAD --threads 2 --no-recursion \
    --zone "$T/reload.zone" --metrics off --health off --ready off \
    >"$T/reload.log" 2>&1 &
PR=$!
PIDS="$PIDS $PR"
wait_up $RELOAD www.reload.test || fail "reload: no start" "$T/reload.log"
python3 "$here/stream.py" $RELOAD www.reload.test --ports 16 \
    >"$T/stream.out" 2>&1 &
S=$!
PIDS="$PIDS $S"
for v in $(seq 2 11); do
	sleep 0.3
	sed -i "s/^www	IN A	.*/www	IN A	192.0.2.$v/; s/@	IN SOA	ns hostmaster [0-9]*/@	IN SOA	ns hostmaster $v/" \
	    "$T/reload.zone"
	kill -HUP $PR
done
wait_exit $S 120 || true
read -r _ udp_sent udp_ok < <(grep '^udp' "$T/stream.out" || echo "udp 0 0")
read -r _ tcp_sent tcp_ok < <(grep '^tcp' "$T/stream.out" || echo "tcp 0 0")
reloads=$(grep -c "zone reload.test.: .*serial" "$T/reload.log" || true)
check "reload: the zone was loaded $reloads times (11 expected)" \
    [ "$reloads" = 11 ]
check "reload under load: UDP, $udp_ok of $udp_sent answered" \
    sh -c "[ '$udp_sent' -gt 0 ] && [ '$udp_ok' = '$udp_sent' ]"
check "reload under load: TCP, $tcp_ok of $tcp_sent answered" \
    sh -c "[ '$tcp_sent' -gt 0 ] && [ '$tcp_ok' = '$tcp_sent' ]"
check "reload under load: every answer NOERROR ($(grep '^rcodes' "$T/stream.out"))" \
    grep -qx "rcodes 0=$((udp_ok + tcp_ok))" "$T/stream.out"
old=0
for i in $(seq 20); do
	a=$(dig @$RELOAD +short +time=2 +tries=1 www.reload.test A)
	[ "$a" = 192.0.2.11 ] || old=$((old + 1))
done
check "after the reloads, 20 of 20 queries see the last version ($old did not)" \
    [ "$old" = 0 ]
# ---- 4. udp-batch-wait -----------------------------------------------------
echo "udp-batch-wait: 1000" >"$T/wait.yaml"
# shellcheck disable=SC2086
"$MINIDNSD" $common -c "$T/wait.yaml" --listen $WAIT --threads 2 \
    --metrics off >"$T/wait.log" 2>&1 &
PW=$!
PIDS="$PIDS $PW"
wait_up $WAIT www.fwd.test || fail "udp-batch-wait: no start" "$T/wait.log"
python3 "$here/probe.py" window $WAIT 53 wild.fwd.test 3000 \
    >"$T/window.out" 2>&1 || true
check "udp-batch-wait: 3000 questions, each sent on upstream, and 30 over TCP, all answered ($(tail -1 "$T/window.out"))" \
    grep -qx 'udp 3000 3000 tcp 30' "$T/window.out"
timerfds=$(find /proc/$PW/fd -lname 'anon_inode:\[timerfd\]' 2>/dev/null | wc -l)
check "udp-batch-wait: the workers paused their UDP sockets ($timerfds timerfds)" \
    [ "$timerfds" -ge 1 ]

check "the servers are still up" sh -c "kill -0 $P1 && kill -0 $P4 && kill -0 $PR && kill -0 $PW"

summary
