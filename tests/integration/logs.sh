#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The daemon's log formats, log file, query log and log rotation: minidnsd
# on 127.60.0.1 (local zones only) with log-format json, then logfmt, a
# log-file and query-log on.  Every line of the file must parse (JSON
# objects with ts/level/group/msg, or the query fields; logfmt key=value
# pairs); the query lines name the client, name, type, rcode, source and
# transport.  Then the file is moved away as logrotate does, SIGUSR1 makes
# the daemon reopen the path: new lines go to a new file, the moved file
# keeps the old ones.
#
# The harness is tests/integration/lib.sh.  Output: PASS/FAIL lines and
# "N passed, N failed"; exit 77 (skip) when not root or a tool is missing.
# Every process is stopped by PID, every wait is bounded, files live in one
# mktemp -d directory.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_start logs "$@"
PATH=$PATH:/usr/sbin
md_it_need dig python3
top=$srcdir
ZONES=$top/zones
MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_built "$MINIDNSD"

ADDR=127.60.0.1
CLIENT=127.60.0.9

# The log checker: validates every line of a file in one format and
# prints the query lines as client|name|type|rcode|source|transport|us.
# Exit 1 (with the bad lines on stderr) when a line does not parse.
cat >"$T/check.py" <<'EOF'
import json, re, sys

fmt, path = sys.argv[1], sys.argv[2]
QUERY = ("client", "name", "type", "rcode", "source", "transport",
         "duration_us")
PAIR = re.compile(r'([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s="]+)(?: |$)')
TS = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
bad = 0

def logfmt(line):
    rec, pos = {}, 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        if not m:
            raise ValueError("not key=value at %d" % pos)
        k, v = m.group(1), m.group(2)
        # Quoted values use JSON's escapes.
        rec[k] = json.loads(v) if v.startswith('"') else v
        pos = m.end()
    return rec

with open(path, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        try:
            if not line.endswith("\n"):
                raise ValueError("no newline")
            line = line[:-1]
            rec = json.loads(line) if fmt == "json" else logfmt(line)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
            for k in ("ts", "level", "group"):
                if not isinstance(rec.get(k), str):
                    raise ValueError("no " + k)
            if not TS.match(rec["ts"]):
                raise ValueError("bad ts")
            if rec["level"] not in ("error", "warning", "info", "debug"):
                raise ValueError("bad level")
            if rec["group"] == "query":
                for k in QUERY:
                    if k not in rec:
                        raise ValueError("no " + k)
                us = rec["duration_us"]
                if fmt == "json" and not isinstance(us, int):
                    raise ValueError("duration_us not a number")
                int(us)
                print("|".join(str(rec[k]) for k in QUERY))
            elif not isinstance(rec.get("msg"), str):
                raise ValueError("no msg")
        except ValueError as e:
            bad += 1
            print("%s:%d: %s: %r" % (path, n, e, line), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# start FMT: minidnsd with log-format FMT and the log in $T/FMT/md.log;
# waits (5 s) until it answers.  Sets $pid.
start() {
	local fmt=$1 end
	mkdir -p "$T/$fmt"
	cat >"$T/$fmt/minidnsd.yaml" <<EOF
listen: $ADDR
recursion: no
log-format: $fmt
log-file: $T/$fmt/md.log
query-log: yes
zones: [ $ZONES/cluster.local.zone ]
EOF
	"$MINIDNSD" -f -c "$T/$fmt/minidnsd.yaml" >"$T/$fmt/stderr" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	end=$((SECONDS + 5))
	while [ $SECONDS -le $end ] && running "$pid"; do
		if dig @"$ADDR" +time=1 +tries=1 cluster.local SOA \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "$fmt: minidnsd starts" "$T/$fmt/stderr"
	summary
}

# stop: SIGTERM, 5 s, then SIGKILL.
stop() {
	local i
	kill "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		running "$pid" || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
}

# q ARGS...: one query from $CLIENT, output discarded.
q() {
	dig @"$ADDR" -b "$CLIENT" +time=1 +tries=1 "$@" >/dev/null 2>&1 || true
}

# queries FMT FILE: the checked query lines of FILE in $T/FMT/queries.
queries() {
	python3 "$T/check.py" "$1" "$2" >"$T/$1/queries" 2>"$T/$1/check.err"
}

# wait_query FMT FILE PATTERN: until a query line matches (3 s).
wait_query() {
	local i
	for i in $(seq 30); do
		if [ -f "$2" ] && queries "$1" "$2" &&
		    grep -Eq "$3" "$T/$1/queries"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# has FMT PATTERN: a query line matches (extended regexp).
has() { grep -Eq "$2" "$T/$1/queries"; }

C="$CLIENT:[0-9]+"
S="cluster.local."

for fmt in json logfmt; do
	log=$T/$fmt/md.log
	start "$fmt"

	q "kubernetes.default.svc.$S" A
	q "nothere.$S" AAAA
	q "kube-dns.kube-system.svc.$S" A +tcp
	q www.example.com A
	if wait_query "$fmt" "$log" '\|www\.example\.com\.\|'; then
		pass "$fmt: query lines written"
	else
		fail "$fmt: query lines written" "$log"
	fi
	if queries "$fmt" "$log"; then
		pass "$fmt: every line parses"
	else
		fail "$fmt: every line parses" "$T/$fmt/check.err"
	fi
	if has "$fmt" "^$C\|kubernetes\.default\.svc\.$S\|A\|NOERROR\|local\|udp\|[0-9]+$"; then
		pass "$fmt: NOERROR answer logged (client, name, type, source)"
	else
		fail "$fmt: NOERROR answer logged" "$T/$fmt/queries"
	fi
	if has "$fmt" "^$C\|nothere\.$S\|AAAA\|NXDOMAIN\|local\|udp\|"; then
		pass "$fmt: NXDOMAIN logged"
	else
		fail "$fmt: NXDOMAIN logged" "$T/$fmt/queries"
	fi
	if has "$fmt" "^$C\|kube-dns\.kube-system\.svc\.$S\|A\|NOERROR\|local\|tcp\|"; then
		pass "$fmt: TCP query logged"
	else
		fail "$fmt: TCP query logged" "$T/$fmt/queries"
	fi
	if has "$fmt" "^$C\|www\.example\.com\.\|A\|REFUSED\|[a-z]+\|udp\|"; then
		pass "$fmt: REFUSED (out of zone, no recursion) logged"
	else
		fail "$fmt: REFUSED logged" "$T/$fmt/queries"
	fi
	if [ "$(cut -d'|' -f5 "$T/$fmt/queries" |
	    grep -Evc '^(local|cache|recursion|forward|error)$')" = 0 ]; then
		pass "$fmt: every source is a known one"
	else
		fail "$fmt: every source is a known one" "$T/$fmt/queries"
	fi
	if [ "$fmt" = json ]; then
		if grep -q '"group":"server"' "$log"; then
			pass "json: daemon messages in the log file"
		else
			fail "json: daemon messages in the log file" "$log"
		fi
	else
		if grep -Eq '^ts=[^ ]+ level=info group=query client=' "$log"; then
			pass "logfmt: key=value layout"
		else
			fail "logfmt: key=value layout" "$log"
		fi
	fi

	# Rotation: move the file, SIGUSR1, the daemon reopens the path.
	mv "$log" "$log.1"
	kill -USR1 "$pid"
	for i in $(seq 50); do
		[ -f "$log" ] && break
		sleep 0.1
	done
	if [ -f "$log" ]; then
		pass "$fmt: SIGUSR1 reopens the log path"
	else
		fail "$fmt: SIGUSR1 reopens the log path" "$T/$fmt/stderr"
	fi
	q "dns-version.$S" TXT
	if wait_query "$fmt" "$log" "\|dns-version\.$S\|TXT\|NOERROR\|"; then
		pass "$fmt: queries after rotation go to the new file"
	else
		fail "$fmt: queries after rotation go to the new file" "$log"
	fi
	if queries "$fmt" "$log" && ! has "$fmt" "kubernetes\.default"; then
		pass "$fmt: the new file has only new lines, all parse"
	else
		fail "$fmt: the new file has only new lines, all parse" "$log"
	fi
	if queries "$fmt" "$log.1" && has "$fmt" "kubernetes\.default" &&
	    ! has "$fmt" "dns-version"; then
		pass "$fmt: the moved file keeps the old lines"
	else
		fail "$fmt: the moved file keeps the old lines" "$log.1"
	fi
	if running "$pid"; then
		pass "$fmt: daemon still running"
	else
		fail "$fmt: daemon still running" "$T/$fmt/stderr"
	fi
	stop
done

summary
