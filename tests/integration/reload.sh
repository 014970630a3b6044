#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Reloading the configuration, section by section: each key either takes
# effect on SIGHUP or is named as needing a restart (in the log and in
# minidns-control status), never silently ignored.  And a resolution in
# flight across a reload that changes its forward zone finishes with the
# snapshot it started with (run under ASan in CI: a use-after-free of the
# old settings would show).
#
# Peers: two NSD servers serving fwd.test with different data, and two
# slow upstreams (badupstream.py slow) for the in-flight case; minidnsd
# with 2 workers in front.  Binaries: MINIDNSD, MINIDNS_CONTROL.  Runs in
# a private network and PID namespace on 127.62.0.0/16; every process is
# stopped by saved PID, every wait is bounded.
set -eu

. "$(dirname "$0")/lib.sh"
md_it_pidns=yes
md_it_start reload "$@"

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
CTL=${MINIDNS_CONTROL:-$PWD/minidns-control}
ADDR=127.62.0.1
NSD_A=127.62.0.2
NSD_B=127.62.0.3
SLOW_A=127.62.0.4
SLOW_B=127.62.0.5
PATH=$PATH:/usr/sbin

md_it_need dig nsd python3
md_it_built "$MINIDNSD" "$CTL"

# zone_file FILE ORIGIN TTL NAME=ADDR...: SOA, NS and A records.
zone_file() {
	local file=$1 origin=$2 ttl=$3 r
	shift 3
	{
		printf '$ORIGIN %s\n$TTL %s\n' "$origin" "$ttl"
		printf '@ IN SOA ns.%s host.%s 1 3600 600 86400 60\n' \
		    "$origin" "$origin"
		printf '@ IN NS ns.%s\n' "$origin"
		for r in "$@"; do
			printf '%s IN A %s\n' "${r%%=*}" "${r#*=}"
		done
	} >"$file"
}

# fwd.test as NSD A and NSD B serve it: same names, other addresses.
for s in A B; do
	mkdir -p "$T/nsd$s"
	n=1
	[ $s = B ] && n=2
	zone_file "$T/nsd$s/fwd.test.zone" fwd.test. 3600 ns=192.0.2.53 \
	    www=198.51.100.$n one=198.51.100.$n two=198.51.100.$n \
	    three=198.51.100.$n four=198.51.100.$n
done
md_it_nsd "$T/nsdA" $NSD_A fwd.test=fwd.test.zone
md_it_nsd "$T/nsdB" $NSD_B fwd.test=fwd.test.zone
python3 "$here/badupstream.py" dropfirst $SLOW_A 53 \
    --answer 192.0.2.77 --lifetime 120 >"$T/slowA.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$here/badupstream.py" slow $SLOW_B 53 --delay 0.1 \
    --answer 192.0.2.88 --lifetime 120 >"$T/slowB.log" 2>&1 &
PIDS="$PIDS $!"
# Both bound before minidnsd asks them: on a loaded machine python starts
# slowly, and a refused first query would hold the server down.
for a in $SLOW_A $SLOW_B; do
	poll 20 sh -c "ss -Hlun 'src $a:53' | grep -q ." ||
	    fail "the slow upstream on $a did not start" "$T/slowA.log"
done

zone_file "$T/local.zone" local.test. 300 ns=192.0.2.1

# conf KEY=VALUE...: the configuration, with these lines changed.
conf() {
	local fwd=$NSD_A slow=$SLOW_A maxttl=100 edns=1232 rec=yes
	local listen="\"$ADDR:53\"" extra="" threads=2 kv
	for kv in "$@"; do
		case $kv in
		fwd=*) fwd=${kv#fwd=} ;;
		slow=*) slow=${kv#slow=} ;;
		maxttl=*) maxttl=${kv#maxttl=} ;;
		edns=*) edns=${kv#edns=} ;;
		rec=*) rec=${kv#rec=} ;;
		listen=*) listen=${kv#listen=} ;;
		threads=*) threads=${kv#threads=} ;;
		extra=*) extra=${kv#extra=} ;;
		esac
	done
	cat >"$T/minidnsd.yaml.new" <<EOF
listen: [ $listen ]
threads: $threads
recursion: $rec
zones:
  - file: $T/local.zone
forward:
  - zone: fwd.test
    servers: [ $fwd ]
  - zone: slow.test
    servers: [ $slow ]
cache-max-ttl: $maxttl
edns-buffer-size: $edns
resolution-timeout: 10000
zone-check-interval: 0
# No loop probes: each reload that moves slow.test would send one to the
# slow upstream, and its quick answer to the retransmission teaches the
# server's RTT, so the in-flight case below would retransmit after 50 ms
# instead of 400 and end before its reload (loop.sh tests the probes).
loop-detect: no
control-socket: $T/ctl
metrics: "off"
health: "off"
ready: "off"
$extra
EOF
	mv "$T/minidnsd.yaml.new" "$T/minidnsd.yaml"
}

conf
"$MINIDNSD" -f -c "$T/minidnsd.yaml" >"$T/minidnsd.log" 2>&1 &
P=$!
PIDS="$PIDS $P"
if ! poll 10 dig @$ADDR +time=1 +tries=1 ns.local.test A ||
    ! poll 10 dig @$NSD_A +time=1 +tries=1 www.fwd.test A ||
    ! poll 10 dig @$NSD_B +time=1 +tries=1 www.fwd.test A; then
	fail "minidnsd and NSD come up" "$T/minidnsd.log"
	summary
fi

# reload: SIGHUP, then wait until the log counts one more "reload done".
reloads=0
reload() {
	local want=$((reloads + 1))
	kill -HUP "$P"
	poll 10 sh -c "[ \$(grep -c 'reload done' '$T/minidnsd.log') -ge $want ]" ||
	    return 1
	reloads=$want
}
ttl_of() {
	dig @$ADDR +noall +answer +time=2 +tries=1 "$1" A | awk '{print $2; exit}'
}

# --- forward zones: the new upstream answers, the old one no more ------
a=$(dig @$ADDR +short +time=2 +tries=1 www.fwd.test A)
check "forward: NSD A answers first (198.51.100.1: $a)" [ "$a" = 198.51.100.1 ]
conf fwd=$NSD_B
reload
a=$(dig @$ADDR +short +time=2 +tries=1 one.fwd.test A)
check "forward: after reload NSD B answers (198.51.100.2: $a)" \
    [ "$a" = 198.51.100.2 ]

# --- cache TTL caps: cache and responder agree, before and after -------
t1=$(ttl_of two.fwd.test)
t2=$(ttl_of two.fwd.test)
check "cache-max-ttl 100: first answer ($t1) and cached one ($t2) <= 100" \
    [ "${t1:-999}" -le 100 ] && [ "${t2:-999}" -le 100 ]
conf fwd=$NSD_B maxttl=20
reload
t1=$(ttl_of three.fwd.test)
t2=$(ttl_of three.fwd.test)
t3=$(ttl_of two.fwd.test)
check "cache-max-ttl 20 after reload: new name ($t1, cached $t2) <= 20" \
    [ "${t1:-999}" -le 20 ] && [ "${t2:-999}" -le 20 ]
check "cache-max-ttl 20: a name cached before the reload ($t3) <= 20" \
    [ "${t3:-999}" -le 20 ]

# --- edns-buffer-size: the advertised size follows ----------------------
conf fwd=$NSD_B maxttl=20 edns=1400
reload
sz=$(dig @$ADDR +bufsize=4096 +time=2 +tries=1 ns.local.test A |
    sed -n 's/.*; udp: \([0-9]*\).*/\1/p')
check "edns-buffer-size 1400 after reload (advertised: $sz)" [ "$sz" = 1400 ]

# --- recursion off: forwarded names are refused -------------------------
conf fwd=$NSD_B maxttl=20 edns=1400 rec=no
reload
st=$(dig @$ADDR +time=2 +tries=1 www.fwd.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "recursion: no after reload: REFUSED ($st)" [ "$st" = REFUSED ]
conf fwd=$NSD_B maxttl=20 edns=1400
reload

# --- zones: a record added to a zone file is served ---------------------
printf 'new IN A 192.0.2.44\n' >>"$T/local.zone"
reload
a=$(dig @$ADDR +short +time=2 +tries=1 new.local.test A)
check "zones: the record added is served after reload ($a)" [ "$a" = 192.0.2.44 ]

# --- restart-only keys: named in the log and by status, old value kept --
conf fwd=$NSD_B maxttl=20 edns=1400 listen="\"127.62.0.9:53\"" \
    threads=3
reload
check "listen changed: the log says it needs a restart" \
    grep -q "listen: changed; takes effect on restart" "$T/minidnsd.log"
check "threads changed: the log says it needs a restart" \
    grep -q "threads: changed; takes effect on restart" "$T/minidnsd.log"
"$CTL" -s "$T/ctl" status >"$T/status" 2>&1 || true
check "minidns-control status lists them: needs a restart: listen, threads" \
    grep -q "needs a restart: listen, threads" "$T/status"
a=$(dig @$ADDR +short +time=2 +tries=1 ns.local.test A)
check "the old listener still answers ($a)" [ "$a" = 192.0.2.1 ]
conf fwd=$NSD_B maxttl=20 edns=1400
reload
"$CTL" -s "$T/ctl" status >"$T/status" 2>&1 || true
check "listen back as started: status lists nothing to restart" \
    sh -c "! grep -q 'needs a restart' '$T/status'"

# --- a bad reload keeps everything as it was -----------------------------
printf 'cache-max-ttl: zero\n' >>"$T/minidnsd.yaml"
kill -HUP "$P"
check "a bad reload is reported with file and line" poll 10 grep -q \
    "reload failed, old data still served: $T/minidnsd.yaml:[0-9]*: cache-max-ttl" \
    "$T/minidnsd.log"
a=$(dig @$ADDR +short +time=2 +tries=1 four.fwd.test A)
check "... and the running settings stay (NSD B: $a)" [ "$a" = 198.51.100.2 ]

# --- a resolution in flight across a reload that changes its forward ---
# SLOW_A ignores a name's first query and answers its retransmission (400
# ms later) with 192.0.2.77; SLOW_B answers 192.0.2.88.  The reload moves
# slow.test from A to B while the first query is out: the retry must go
# where the resolution's own snapshot says (A), not to the new upstream.
# The trace log shows whether the reload landed in flight; a few tries
# make sure one does, however slow the machine.
conf fwd=$NSD_B slow=$SLOW_A extra="log-trace: [ slow.test ]"
reload
landed=no
for i in 1 2 3 4 5; do
	conf fwd=$NSD_B slow=$SLOW_A extra="log-trace: [ slow.test ]"
	reload
	dig @$ADDR +time=8 +tries=1 +short "in$i.slow.test" A \
	    >"$T/inflight" 2>&1 &
	D=$!
	sleep 0.1
	mark=$(wc -l <"$T/minidnsd.log")
	conf fwd=$NSD_B slow=$SLOW_B extra="log-trace: [ slow.test ]"
	reload
	wait_exit "$D" 15 || true
	# In flight: the request's first send came before the reload and
	# its end after it.
	if ! head -n "$mark" "$T/minidnsd.log" |
	    grep -q "send in$i\.slow\.test" ||
	    ! tail -n +"$mark" "$T/minidnsd.log" |
	    grep -q "reload done"; then
		continue
	fi
	if head -n "$mark" "$T/minidnsd.log" | grep -q "done in$i\.slow\.test"; then
		continue
	fi
	landed=yes
	break
done
a=$(cat "$T/inflight")
check "a reload landed while a resolution was in flight" [ "$landed" = yes ]
check "in flight across the reload: retried where it started (192.0.2.77: $a)" \
    [ "$a" = 192.0.2.77 ]
a=$(dig @$ADDR +short +time=3 +tries=1 after.slow.test A)
check "a new question goes to the new upstream ($a)" [ "$a" = 192.0.2.88 ]
check "minidnsd still runs" running "$P"

summary
