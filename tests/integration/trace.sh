#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidig +trace on the test hierarchy (hierarchy/: real NSD servers on
# 127.53.x.y, see hierarchy.sh): the hops it prints must follow the
# delegation path, including the glueless delegation, CNAMEs that leave the
# zone, TC -> TCP, lame and silent servers; +json must parse and say the
# same; +explain must explain and sum up; @server priming and -x work.
#
# Runs inside its own network namespace (unshare -n, the harness in
# lib.sh), so nothing leaves the machine; the root hints are the test
# hierarchy's (+roothints), never the real ones.  Output: PASS/FAIL lines,
# then "N passed, N failed".
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start trace "$@"

H=$here/hierarchy
MINIDIG=${MINIDIG:-$PWD/minidig}
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_built "$MINIDIG" "$MINIDNSD"
command -v nsd >/dev/null || PATH=$PATH:/usr/sbin
md_it_need nsd

mkdir "$T/h"
# The hierarchy's NSD servers, stopped at exit besides $PIDS.
md_it_cleanup_hook() {
	bash "$H/hierarchy.sh" stop "$T/h" >/dev/null 2>&1 || true
}
# check_out NAME OUTPUT-FILE COMMAND...: PASS when the command succeeds;
# on failure the start of the output file is shown.
check_out() {
	local name=$1 file=$2
	shift 2
	if "$@"; then
		pass "$name"
	else
		fail "$name"
		if [ -f "$file" ]; then
			sed 's/^/  | /' "$file" | head -n 60
		fi
	fi
}

if ! bash "$H/hierarchy.sh" start "$T/h" >"$T/h.log" 2>&1; then
	cat "$T/h.log"
	fail "hierarchy did not start"
	summary
fi

mtrace() {
	"$MINIDIG" +trace +roothints="$H/root.hints" +time=1 "$@"
}
# The servers of the "Received ... from ADDR#53(NAME)" lines, in order,
# either root server written as ROOT.
hops() {
	sed -n 's/^;; Received [0-9]* bytes from [^(]*(\([^)]*\)).*/\1/p' "$1" |
	    sed 's/^[ab]\.root-servers\.test$/ROOT/' | paste -sd ' ' -
}
has() { grep -qF -- "$2" "$1"; }
same() { [ "$(hops "$1")" = "$2" ]; }

# 1. The plain walk with in-bailiwick glue: priming, root, com., the zone.
mtrace example.com A >"$T/1" 2>&1 || true
check_out "walk: root -> com. -> example.com." "$T/1" \
    same "$T/1" "ROOT ROOT ns.nic.com ns1.example.com"
check_out "walk: the answer is printed" "$T/1" \
    grep -qE "^example.com.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+192.0.2.1" "$T/1"
check_out "walk: each referral's NS set is printed" "$T/1" \
    grep -qE "^com.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns.nic.com." "$T/1"

# 2. CNAMEs that leave the zone, twice, and a glueless delegation at the
#    end (ns.example.net. is looked up through the example.net. servers
#    already learned).
mtrace www.example.com A >"$T/2" 2>&1 || true
check_out "cname: chain com -> net -> org with the glueless hop" "$T/2" \
    same "$T/2" "ROOT ROOT ns.nic.com ns1.example.com ROOT ns.nic.net ns1.example.net ROOT ns.nic.org ns1.example.net ns.example.net"
check_out "cname: restarts are shown" "$T/2" \
    has "$T/2" ";; CNAME: following the chain to www.example.net."
check_out "glueless: the NS address look-up is shown" "$T/2" \
    has "$T/2" ";; ns.example.net. came without glue"

# 3. A glueless delegation on its own: the sub-query walks from the root.
mtrace example.org A >"$T/3" 2>&1 || true
check_out "glueless: org. -> look up ns.example.net. -> example.org." "$T/3" \
    same "$T/3" "ROOT ROOT ns.nic.org ROOT ns.nic.net ns1.example.net ns.example.net"

# 4. TC -> TCP.
mtrace big.example.com TXT >"$T/4" 2>&1 || true
check_out "tc: truncated over UDP, asked again over TCP" "$T/4" \
    has "$T/4" ";; Truncated, retrying in TCP mode."
check_out "tc: the whole RRset arrives (40 TXT)" "$T/4" \
    test "$(grep -cE '^big.example.com.[[:space:]].*TXT' "$T/4")" = 40

# 5. Lame and silent servers, then the next server: the server choice is
#    random among equals, so ask (a bounded number of times) until the bad
#    server was chosen first.
lame_seen=no
timeout_seen=no
for i in 1 2 3 4 5 6 7 8 9 10; do
	if [ $lame_seen = no ]; then
		mtrace www.refused.com A >"$T/5" 2>&1 || true
		if has "$T/5" "answered refused" &&
		    grep -qE "^www.refused.com.[[:space:]].*A[[:space:]]+192.0.2" "$T/5"; then
			lame_seen=yes
			cp "$T/5" "$T/5.ok"
		fi
	fi
	if [ $timeout_seen = no ]; then
		mtrace www.timeout.com A >"$T/6" 2>&1 || true
		if has "$T/6" ";; no reply from 127.53.6.1#53" &&
		    grep -qE "^www.timeout.com.[[:space:]].*A[[:space:]]+192.0.2" "$T/6"; then
			timeout_seen=yes
		fi
	fi
	[ $lame_seen = yes ] && [ $timeout_seen = yes ] && break
done
check_out "lame: REFUSED shown, the next server answers" "$T/5" \
    test $lame_seen = yes
check_out "timeout: the silent server shown, the next server answers" "$T/6" \
    test $timeout_seen = yes

# 6. Every server dead: dig's message and exit code 9.
rc=0
mtrace www.dead.com A >"$T/7" 2>&1 || rc=$?
check_out "dead: 'no servers could be reached', exit 9 (got $rc)" "$T/7" \
    sh -c "[ $rc = 9 ] && grep -q 'no servers could be reached' '$T/7'"

# 7. -x: the reverse tree.  ns.nic.arpa. serves arpa. and in-addr.arpa.,
#    so QNAME minimisation asks it label by label (NODATA for the empty
#    non-terminals) until the referral to 2.0.192.in-addr.arpa., whose
#    server has no glue: its address is looked up (nic.arpa. NODATA, then
#    rev.nic.arpa. A) at the same server.
mtrace -x 192.0.2.80 >"$T/8" 2>&1 || true
check_out "-x: arpa. -> in-addr.arpa. label by label -> 2.0.192.in-addr.arpa." \
    "$T/8" same "$T/8" "ROOT ROOT ns.nic.arpa ns.nic.arpa ns.nic.arpa ns.nic.arpa ns.nic.arpa ns.nic.arpa rev.nic.arpa"
check_out "-x: the PTR" "$T/8" \
    grep -qE "^80.2.0.192.in-addr.arpa.[[:space:]].*PTR[[:space:]]+web.example.org." "$T/8"

# 8. +json: parses, and its steps follow the same path.
mtrace www.example.com A +json >"$T/9" 2>&1 || true
cat >"$T/check.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
replies = [s for s in d["steps"] if s["event"] == "reply"]
classes = [s["class"] for s in replies]
assert d["result"]["rcode"] == "NOERROR", d["result"]
assert classes.count("cname") == 2, classes
assert classes[-1] == "answer", classes
assert any(s["event"] == "subquery" for s in d["steps"])
assert d["summary"]["queries"] >= len(replies)
last = replies[-1]
assert any("192.0.2.80" in r for r in last["answer"]), last
PY
check_out "json: parses, two CNAME steps, a sub-query, the answer" "$T/9" \
    python3 "$T/check.py" "$T/9"

# 9. +explain: words after each step and a summary.
mtrace www.example.com A +explain >"$T/10" 2>&1 || true
check_out "explain: says why each server was chosen" "$T/10" \
    has "$T/10" "; Ask ns.nic.com. (127.53.1.1), a server of com.:"
check_out "explain: explains glue and aliases" "$T/10" \
    sh -c "grep -q 'no glue' '$T/10' && grep -q 'alias' '$T/10'"
check_out "explain: ends with a summary" "$T/10" \
    grep -q "^; Summary: [0-9]* queries to [0-9]* servers" "$T/10"

# 10. @server: the root NS set comes from that server (a recursive
#     minidnsd of the lab), then the walk goes on from the roots.
"$MINIDNSD" -f --listen 127.53.9.2 --root-hints "$H/root.hints" \
    --allow-private-upstreams >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do
	dig @127.53.9.2 +time=1 +tries=1 . NS >/dev/null 2>&1 && break
	sleep 0.1
done
"$MINIDIG" +trace @127.53.9.2 +time=1 example.com A >"$T/11" 2>&1 || true
check_out "@server: priming from 127.53.9.2, then the walk" "$T/11" \
    same "$T/11" "127.53.9.2 ROOT ns.nic.com ns1.example.com"

# 11. One engine driver: against a dead server (silent.com.'s one NS is
#     the blackhole), minidig +trace asks the same server the same number
#     of times and gives up after about as long as the daemon does for the
#     same name, as its --trace log shows.
"$MINIDNSD" -f --listen 127.53.9.4 --root-hints "$H/root.hints" \
    --allow-private-upstreams --trace silent.com >"$T/d12.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do
	dig @127.53.9.4 +time=1 +tries=1 example.com A >/dev/null 2>&1 && break
	sleep 0.1
done
dig @127.53.9.4 +time=15 +tries=1 www.silent.com A >"$T/12d" 2>&1 || true
mtrace www.silent.com A +json >"$T/12" 2>&1 || true
# "server kind" per send/timeout in zone silent.com., then the time from
# the first query into the zone to the end.
grep ' trace: \[0\] ' "$T/d12.log" | sed 's/.* trace: \[0\] //' |
    awk '$3 == "www.silent.com." && $6 == "silent.com." &&
	($2 == "send" || $2 == "timeout") {
		sub(/:$/, "", $8); print $2, $8
	}' >"$T/12d.seq"
grep ' trace: \[0\] ' "$T/d12.log" | sed 's/.* trace: \[0\] //' |
    awk '$3 == "www.silent.com." {
		t = $1; sub(/^\+/, "", t); sub(/ms$/, "", t)
		if (first == "" && $6 == "silent.com." && $2 == "send") first = t
		last = t
	} END { print last - first }' >"$T/12d.ms"
python3 - "$T/12" "$T/12m.seq" "$T/12m.ms" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
steps = [s for s in d["steps"] if s.get("qname") == "www.silent.com." and
         s.get("depth") == 0]
seq = [(s["event"], s["server"] + ":53") for s in steps
       if s.get("zone") == "silent.com." and s["event"] in ("send", "timeout")]
with open(sys.argv[2], "w") as f:
    for k, srv in seq:
        f.write("%s %s\n" % (k, srv))
first = next(s["time_ms"] for s in steps
             if s.get("zone") == "silent.com." and s["event"] == "send")
with open(sys.argv[3], "w") as f:
    f.write("%d\n" % (steps[-1]["time_ms"] - first))
PY
# The same server, the same steps; how many retries fit in the budget
# (resolve-timeout, wall-clock) may differ by one when the machine is
# loaded, so the shorter sequence must be the longer one's start and at
# most one send (and its timeout) shorter.
same_walk() {
	python3 - "$T/12d.seq" "$T/12m.seq" <<'PY'
import sys
d = open(sys.argv[1]).read().split("\n")
m = open(sys.argv[2]).read().split("\n")
d = [l for l in d if l]
m = [l for l in m if l]
short, long_ = sorted((d, m), key=len)
sys.exit(0 if short and long_[:len(short)] == short and
         len(long_) - len(short) <= 2 else 1)
PY
}
check_out "dead server: minidig +trace asks what the daemon asks ($(wc -l <"$T/12d.seq") and $(wc -l <"$T/12m.seq") sends and timeouts)" \
    "$T/12m.seq" same_walk
dms=$(cat "$T/12d.ms")
mms=$(cat "$T/12m.ms")
# The same timers: within a fifth (and 150 ms) of each other.
check "dead server: the same time spent (daemon $dms ms, minidig $mms ms)" \
    python3 -c "import sys; a, b = int(sys.argv[1]), int(sys.argv[2]);
sys.exit(0 if a > 0 and abs(a - b) <= max(150, a / 5) else 1)" "$dms" "$mms"

summary
