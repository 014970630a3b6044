#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidig +trace on the test hierarchy (hierarchy/: real NSD servers on
# 127.53.x.y, see hierarchy.sh): the hops it prints must follow the
# delegation path, including the glueless delegation, CNAMEs that leave the
# zone, TC -> TCP, lame and silent servers; +json must parse and say the
# same; +explain must explain and sum up; @server priming and -x work.
# The trace tells the truth: the transport (+tcp), the engine's own
# timeouts and retries, every step's outcome, sub-lookups indented and
# closed, QNAME-minimisation notes only where the engine minimised;
# +noqmin, +seed=N (the same walk every time) and +allservers.
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
	sed -n 's/^ *;; Received [0-9]* bytes from [^(]*(\([^)]*\)).*/\1/p' "$1" |
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

# 5. Lame and silent servers, then the next server.  The server choice is
#    random among equals: +seed=N fixes it, so look (among a bounded
#    number of seeds) for one that picks the bad server first; the same
#    seed must then give the same walk every time (times masked).
masked() { sed -E 's/[0-9]+ ms/N ms/g' "$1"; }
lame_seed=""
timeout_seed=""
good_first=no
for seed in $(seq 1 20); do
	if [ -z "$lame_seed" ] || [ $good_first = no ]; then
		mtrace +seed=$seed www.refused.com A >"$T/5" 2>&1 || true
		if has "$T/5" ";; Outcome: REFUSED"; then
			[ -n "$lame_seed" ] || { lame_seed=$seed; cp "$T/5" "$T/5.ok"; }
		else
			good_first=yes
		fi
	fi
	if [ -z "$timeout_seed" ]; then
		mtrace +seed=$seed www.timeout.com A +json >"$T/6.json" 2>&1 || true
		if grep -q '"event": "timeout"' "$T/6.json"; then
			timeout_seed=$seed
		fi
	fi
	[ -n "$lame_seed" ] && [ -n "$timeout_seed" ] && [ $good_first = yes ] && break
done
check_out "lame: REFUSED shown, the next server answers (seed ${lame_seed:-none})" \
    "$T/5.ok" sh -c "[ -n '$lame_seed' ] &&
	grep -qE '^www.refused.com.[[:space:]].*A[[:space:]]+192.0.2' '$T/5.ok'"
check "seed: different seeds give different walks (refused.com's good server first too)" \
    test $good_first = yes
# The same seed, five times: the same trace, line for line.
seed_same=yes
if [ -n "$lame_seed" ]; then
	masked "$T/5.ok" >"$T/5.m0"
	for i in 1 2 3 4 5; do
		mtrace +seed=$lame_seed www.refused.com A >"$T/5.$i" 2>&1 || true
		masked "$T/5.$i" >"$T/5.m$i"
		cmp -s "$T/5.m0" "$T/5.m$i" || { seed_same=no; diff "$T/5.m0" "$T/5.m$i" | head -20; }
	done
else
	seed_same=no
fi
check "seed: +seed=$lame_seed five times gives the same trace (times masked)" \
    test $seed_same = yes

# The silent server asked first: one timeout, then the engine's own
# choice, the other server, at once (minidnsd's 400 ms first timeout):
# the blackhole is not asked a second time while another server is left.
mtrace +seed="${timeout_seed:-1}" www.timeout.com A >"$T/6" 2>&1 || true
check_out "timeout: the silent server's timeout is a step's outcome (seed ${timeout_seed:-none})" \
    "$T/6" sh -c "[ -n '$timeout_seed' ] &&
	grep -q '^;; Outcome: timeout at 127.53.6.1#53(ns1.timeout.com) for www.timeout.com. A: no reply in 400 ms' '$T/6'"
check_out "timeout: the engine's next choice is shown, and it answers" "$T/6" \
    sh -c "grep -q '^;; Next: 127.53.2.1#53(ns2.timeout.com)' '$T/6' &&
	grep -qE '^www.timeout.com.[[:space:]].*A[[:space:]]+192.0.2.10' '$T/6'"
cat >"$T/timeout.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
zone = [s for s in d["steps"] if s.get("zone") == "timeout.com."]
sends = [s["server"] for s in zone if s["event"] == "send"]
assert sends == ["127.53.6.1", "127.53.2.1"], sends
assert [s["event"] for s in zone].count("timeout") == 1, zone
assert d["summary"]["timeouts"] == 1, d["summary"]
# minidnsd needs its first timeout (400 ms) and a reply: a generous bound
assert d["summary"]["total_ms"] < 3000, d["summary"]
assert d["result"]["rcode"] == "NOERROR", d["result"]
PY
check_out "timeout: the blackhole asked once, one timeout, well under 3 s" \
    "$T/6.json" python3 "$T/timeout.py" "$T/6.json"

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

# 9b. The real transport: under +tcp every step says TCP, in the text,
#     in +explain and in +json.
mtrace +tcp example.com A >"$T/tcp" 2>&1 || true
check_out "tcp: every Received line says TCP" "$T/tcp" \
    sh -c "[ \$(grep -c '^;; Received' '$T/tcp') -ge 4 ] &&
	! grep '^;; Received' '$T/tcp' | grep -qv '(TCP)$'"
mtrace +tcp +explain example.com A >"$T/tcp.x" 2>&1 || true
check_out "tcp: +explain says TCP, never UDP" "$T/tcp.x" \
    sh -c "grep -q 'query: .* over TCP' '$T/tcp.x' && ! grep -q 'over UDP' '$T/tcp.x'"
mtrace +tcp +json example.com A >"$T/tcp.j" 2>&1 || true
check_out "tcp: +json says tcp for every query and reply" "$T/tcp.j" \
    python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
t = [s['transport'] for s in d['steps'] if s['event'] in ('send', 'reply')]
sys.exit(0 if len(t) >= 8 and set(t) == {'tcp'} else 1)" "$T/tcp.j"

# 9c. Every step ends with its outcome, negative answers and failures too.
mtrace nx.example.com A >"$T/nx" 2>&1 || true
check_out "outcome: NXDOMAIN printed" "$T/nx" \
    has "$T/nx" ";; Outcome: NXDOMAIN: nx.example.com. does not exist"
check_out "outcome: every Received line is followed by an Outcome line" "$T/nx" \
    sh -c "[ \$(grep -c '^;; Received' '$T/nx') = \$(grep -c '^;; Outcome:' '$T/nx') ] &&
	grep -q '^;; Outcome: referral to example.com.' '$T/nx'"
mtrace mail.example.com AAAA >"$T/nodata" 2>&1 || true
check_out "outcome: NODATA printed" "$T/nodata" \
    has "$T/nodata" ";; Outcome: NODATA: mail.example.com. has no AAAA records"
# qmin.com.'s server (qminbad.py) answers SERVFAIL to the shortened name
# servfail.qmin.com.: the outcome is shown, then the engine's fallback to
# the full name, explained.
python3 "$H/qminbad.py" 127.53.7.3 53 --lifetime 120 >"$T/qminbad.log" 2>&1 &
PIDS="$PIDS $!"
poll 5 dig @127.53.7.3 +time=1 +tries=1 +norec www.ent.servfail.qmin.com A >/dev/null 2>&1 || true
mtrace www.ent.servfail.qmin.com A >"$T/sf" 2>&1 || true
check_out "outcome: SERVFAIL printed, then the QNAME-minimisation fallback" "$T/sf" \
    sh -c "grep -q '^;; Outcome: SERVFAIL' '$T/sf' &&
	grep -q '^;; QNAME minimisation: SERVFAIL: asking the full name' '$T/sf' &&
	grep -qE '^www.ent.servfail.qmin.com.[[:space:]].*A[[:space:]]+192.0.2.70' '$T/sf'"
mtrace +explain www.ent.servfail.qmin.com A >"$T/sf.x" 2>&1 || true
check_out "qmin: +explain explains the fallback to the full name" "$T/sf.x" \
    has "$T/sf.x" "; QNAME minimisation gives up here (SERVFAIL: asking the full name)"

# 9d. A sub-lookup (the glueless ns.example.net.) is indented and closed
#     with a line back to the main question, before the final answer.
cat >"$T/nest.py" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
opened = next(i for i, l in enumerate(lines)
              if l.startswith(";; ns.example.net. came without glue"))
closed = next(i for i, l in enumerate(lines)
              if l.startswith(";; End of the sub-lookup of ns.example.net. A (NOERROR); "
                              "back to the main question, example.org. A"))
inner = [l for l in lines[opened + 1:closed] if l.strip()]
assert inner and all(l.startswith("    ") for l in inner), inner
assert any(l.startswith("    ;; Received") for l in inner), inner
assert any(l.startswith("ns.example.net.", 4) for l in inner), inner
answer = next(i for i, l in enumerate(lines)
              if l.split()[:1] == ["example.org."] and l.split()[3:4] == ["A"])
assert answer > closed, (answer, closed)
PY
check_out "sub-lookup: indented, closed, then the main question goes on" "$T/3" \
    python3 "$T/nest.py" "$T/3"

# 9e. QNAME minimisation as the engine does it.  Its note is on the
#     minimised queries only: not on a full name, not after a CNAME
#     restart; +noqmin asks the full names, the classic walk.
cat >"$T/qmin.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
full = {"www.example.com.", "www.example.net.", "web.example.org."}
sends = [s for s in d["steps"] if s["event"] == "send" and s["depth"] == 0
         and s["qname"] != "."]
want_qmin = sys.argv[2] == "qmin"
for s in sends:
    minimised = s["qname"].lower() not in full
    assert s.get("qmin", False) == minimised, s
if want_qmin:
    assert any(s.get("qmin") for s in sends), sends
else:
    assert all(s["qname"].lower() in full for s in sends), sends
PY
mtrace www.example.com A +json >"$T/q1" 2>&1 || true
check_out "qmin: minimised queries flagged by the engine, full names not" "$T/q1" \
    python3 "$T/qmin.py" "$T/q1" qmin
mtrace www.example.com A +json +noqmin >"$T/q2" 2>&1 || true
check_out "noqmin: every query asks the full name" "$T/q2" \
    python3 "$T/qmin.py" "$T/q2" noqmin
mtrace www.example.com A +explain >"$T/q3" 2>&1 || true
check_out "qmin: +explain notes minimisation only on shortened names" "$T/q3" \
    sh -c "grep -q 'query: com. A over UDP (QNAME minimisation' '$T/q3' &&
	grep -qx ';   query: www.example.net. A over UDP' '$T/q3' &&
	! grep -E 'query: (www.example.com|www.example.net|web.example.org)\\. A .*minimisation' '$T/q3'"

# 9f. +allservers: every server of each zone asked the same question;
#     disagree.com.'s two servers give www different addresses; the one
#     the walk did not take is marked.
mtrace +allservers www.disagree.com A >"$T/all" 2>&1 || true
check_out "allservers: both servers of disagree.com. shown, the difference marked" "$T/all" \
    sh -c "grep -q '^;; All servers of disagree.com. asked www.disagree.com. A' '$T/all' &&
	grep -q '^;;   127.53.2.1#53(ns1.disagree.com): NOERROR aa: www.disagree.com. A 192.0.2.92' '$T/all' &&
	grep -q '^;;   127.53.2.2#53(ns2.disagree.com): NOERROR aa: www.disagree.com. A 192.0.2.91' '$T/all' &&
	grep '^;;   127.53.2.[12]#53(ns[12].disagree.com)' '$T/all' | grep -q '(the reply above)' &&
	grep '^;;   127.53.2.[12]#53(ns[12].disagree.com)' '$T/all' | grep -q '<- DIFFERS' &&
	grep -q '^;; The servers of disagree.com. DISAGREE.' '$T/all'"
check_out "allservers: the root servers agree" "$T/all" \
    sh -c "grep -q '^;; All servers agree.' '$T/all' && [ \$(grep -c 'DIFFERS' '$T/all') = 1 ]"
mtrace +allservers +json www.disagree.com A >"$T/all.j" 2>&1 || true
check_out "allservers: +json marks the server that differs" "$T/all.j" \
    python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
a = dict((s['server'], s['differs']) for s in d['steps']
         if s['event'] == 'allservers' and s['zone'] == 'disagree.com.')
sys.exit(0 if sorted(a) == ['127.53.2.1', '127.53.2.2'] and
         sorted(a.values()) == [False, True] else 1)" "$T/all.j"
# A silent server is no disagreement about the data: marked apart, and
# +json stays one valid document.
mtrace +allservers www.timeout.com A >"$T/all.t" 2>&1 || true
check_out "allservers: the silent server marked NO REPLY, no disagreement" "$T/all.t" \
    sh -c "grep -q '^;;   127.53.6.1#53(ns1.timeout.com): no reply   <- NO REPLY' '$T/all.t' &&
	grep -q '^;; The servers that answered agree; 1 did not answer.' '$T/all.t' &&
	! grep -q 'DISAGREE' '$T/all.t'"
mtrace +allservers +json www.timeout.com A >"$T/all.tj" 2>&1 || true
check_out "allservers: +json with a silent server parses" "$T/all.tj" \
    python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
a = [s for s in d['steps'] if s['event'] == 'allservers' and s['server'] == '127.53.6.1']
sys.exit(0 if a and a[0]['reply'] == 'no reply' and not a[0]['differs'] else 1)" "$T/all.tj"

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
