#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# DNSSEC validation (issue 14): minidnsd with `dnssec: validate` and the
# test root's key as its trust anchor, walking the test hierarchy signed
# at start with its validation cases (hierarchy/hierarchy.sh,
# HIERARCHY_SIGN=cases: secure NSEC, NSEC3 and opt-out zones, insecure
# delegations, bogus children, wildcards, an unsupported DS algorithm and
# digest, NSEC3 with 200 iterations, CNAMEs and a DNAME across zones),
# against a validating Unbound given the same key and root hints.
#
# For each row of the table below, asked with DO (dig +dnssec): Unbound
# gives the expected rcode and AD flag (the zones are built right), and
# minidnsd gives Unbound's rcode, AD flag and answer section (TTLs aside),
# plus the expected Extended DNS Error code where the row names one.  The
# table is asked twice, the second time answered from the caches.  Then:
# bogus names with CD (the data, no AD); without DO, AD only when the
# query sets it; kdig +dnssec sees what dig sees; and, with the child
# zones' server stopped, bogus names are SERVFAIL again from the cache,
# with the same EDE, and CD questions still get their data.
#
# Ground rules of lib.sh: a private network namespace, 127.x only, every
# process stopped by saved PID, every wait bounded.  Exit 77 when not root
# or a tool is missing; MINIDNSD from the environment, else ./minidnsd.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start validate "$@"
PATH=$PATH:/usr/sbin

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_need nsd unbound dig kdig ldns-keygen ldns-signzone ldns-key2ds python3
md_it_built "$MINIDNSD"

H=$here/hierarchy
REC=127.53.9.40 # minidnsd
UB=127.53.9.41  # Unbound

# ---- the signed hierarchy with its cases ----------------------------------
mkdir -p "$T/h"
md_it_cleanup_hook() { bash "$H/hierarchy.sh" stop "$T/h" >/dev/null 2>&1 || true; }
if ! HIERARCHY_SIGN=cases MD_IT_NETNS=1 bash "$H/hierarchy.sh" start "$T/h" \
    >"$T/h.out" 2>&1; then
	fail "the signed hierarchy did not start" "$T/h.out"
	summary
fi

# ---- Unbound, validating, and minidnsd -------------------------------------
md_it_unbound_hierarchy "$T/ub.conf" ub $UB "$H/root.hints" "$T/h/root.key" \
    "ede: yes" "val-log-level: 2"
unbound -d -c "$T/ub.conf" >"$T/ub.out" 2>&1 &
PIDS="$PIDS $!"

cat >"$T/rec.yaml" <<EOF
listen: [ "$REC:53" ]
threads: 1
zones: []
root-hints: $H/root.hints
allow-private-upstreams: yes
dnssec: validate
trust-anchor-file: $T/h/root.key
metrics: "off"
health: "off"
ready: "off"
EOF
"$MINIDNSD" -f -c "$T/rec.yaml" >"$T/rec.log" 2>&1 &
md_pid=$!
PIDS="$PIDS $md_pid"

if ! wait_up $UB com. >/dev/null; then
	fail "Unbound did not start" "$T/ub.out"
	summary
fi
# minidnsd's checks only when it runs (it refuses a configuration it
# does not know): Unbound's side still shows the cases are what they say.
# up_or_gone: minidnsd answers, or has exited (a refused configuration)
up_or_gone() {
	! running $md_pid || dig @$REC +time=1 +tries=1 com. >/dev/null 2>&1
}
md_up=1
if ! poll 10 up_or_gone || ! running $md_pid; then
	fail "minidnsd did not start with dnssec: validate" "$T/rec.log"
	md_up=0
fi

# ask SERVER DIG-OPTIONS... NAME TYPE: dig's reply in $T/dig.SERVER; its
# status in $st (TIMEOUT when none), its AD flag in $ad (0 or 1), the
# first Extended DNS Error code in $ede (- when none), the answer
# section's records ("owner type rdata": TTL and class dropped, the owner
# lower-cased) sorted in $T/ans.SERVER.
ask() {
	local srv=$1
	shift
	dig @"$srv" +time=3 +tries=1 "$@" >"$T/dig.$srv" 2>&1 || true
	st=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' "$T/dig.$srv" | head -1)
	st=${st:-TIMEOUT}
	ad=0
	if grep -q '^;; flags:[^;]* ad[ ;]' "$T/dig.$srv"; then ad=1; fi
	ede=$(sed -n 's/^; EDE: \([0-9]*\).*/\1/p' "$T/dig.$srv" | head -1)
	ede=${ede:--}
	awk '/^;; ANSWER SECTION:/ { on = 1; next }
	    /^$/ { on = 0 }
	    on && !/^;/ { $1 = tolower($1); $2 = ""; $3 = ""; print }' \
	    "$T/dig.$srv" | sort >"$T/ans.$srv"
}
# types SERVER: the answer's record types, counted ("A,RRSIG")
types() {
	awk '{ print $2 }' "$T/ans.$1" | sort | tr '\n' ',' | sed 's/,$//'
}

# compare ROUND NAME TYPE RCODE AD EDE WHAT [DIG OPTIONS]: with DO,
# Unbound gives RCODE and AD; minidnsd gives Unbound's rcode, AD and
# answer, and the EDE code EDE unless that is "-".
compare() {
	local round=$1 name=$2 type=$3 want_st=$4 want_ad=$5 want_ede=$6
	local what=$7 ub_st ub_ad ub_ede
	shift 7
	ask $UB +dnssec "$@" "$name" "$type"
	ub_st=$st ub_ad=$ad ub_ede=$ede
	cp "$T/ans.$UB" "$T/want"
	if [ "$ub_st" = "$want_st" ] && [ "$ub_ad" = "$want_ad" ]; then
		pass "$round: Unbound: $name $type: $ub_st AD=$ub_ad EDE=$ub_ede ($what)"
	else
		fail "$round: Unbound: $name $type: $ub_st AD=$ub_ad EDE=$ub_ede, expected $want_st AD=$want_ad ($what)" \
		    "$(grep -E '^;; flags|^; EDE' "$T/dig.$UB" | tr '\n' ' ')"
	fi
	[ $md_up = 1 ] || return 0
	ask $REC +dnssec "$@" "$name" "$type"
	if [ "$st" = "$ub_st" ] && [ "$ad" = "$ub_ad" ] &&
	    cmp -s "$T/want" "$T/ans.$REC" &&
	    { [ "$want_ede" = - ] || [ "$ede" = "$want_ede" ]; }; then
		pass "$round: minidnsd as Unbound: $name $type: $st AD=$ad EDE=$ede [$(types $REC)]"
	else
		fail "$round: minidnsd: $name $type: $st AD=$ad EDE=$ede, Unbound $ub_st AD=$ub_ad, expected EDE $want_ede ($what)" \
		    "$(diff "$T/want" "$T/ans.$REC" | head -6 | tr '\n' '|')"
	fi
}

# NAME TYPE RCODE AD EDE WHAT: the expected outcome with DO (EDE: the code
# minidnsd must add, - for none asked).
TABLE='
example.com		A	NOERROR		1 - NSEC zone: positive
example.com		TXT	NOERROR		1 - NSEC zone: TXT
mail.example.com	AAAA	NOERROR		1 - NSEC zone: NODATA
nosuch.example.com	A	NXDOMAIN	1 - NSEC zone: NXDOMAIN
example.com		DNSKEY	NOERROR		1 - NSEC zone: DNSKEY set
example.com		DS	NOERROR		1 - DS from com.
www.example.com		A	NOERROR		1 - CNAME secure to secure to secure (com, net, org)
www.deep.sub.example.com A	NOERROR		1 - a signed child of a signed child
deep.sub.example.com	A	NOERROR		1 - NSEC empty non-terminal: NODATA
example.net		A	NOERROR		1 - NSEC3 zone: positive
example.net		AAAA	NOERROR		1 - NSEC3 zone: NODATA
nosuch.example.net	A	NXDOMAIN	1 - NSEC3 zone: NXDOMAIN
a.b.nosuch.example.net	TXT	NXDOMAIN	1 - NSEC3 zone: NXDOMAIN two labels down
example.net		DS	NOERROR		1 - DS from net.
web.example.org		A	NOERROR		1 - NSEC3 opt-out zone: positive
web.example.org		TXT	NOERROR		1 - NSEC3 opt-out zone: NODATA (matching NSEC3)
nosuch.example.org	A	NXDOMAIN	0 - NSEC3 opt-out zone: NXDOMAIN, next closer in an opt-out span: insecure
example.org		DNSKEY	NOERROR		1 - NSEC3 opt-out zone: DNSKEY set
www.insec.example.com	A	NOERROR		0 - insecure delegation from an NSEC parent
www.insec.example.com	AAAA	NOERROR		0 - insecure delegation: AAAA
nosuch.insec.example.com A	NXDOMAIN	0 - insecure delegation: NXDOMAIN
insec.example.com	DS	NOERROR		1 - no DS, proven by the NSEC parent
www.insec.example.net	A	NOERROR		0 - insecure delegation from an NSEC3 parent
insec.example.net	DS	NOERROR		1 - no DS, proven by the NSEC3 parent
www.insec.example.org	A	NOERROR		0 - insecure delegation in an opt-out span
insec.example.org	DS	NOERROR		0 - no DS, opt-out span: insecure
glue.com		A	NOERROR		0 - unsigned zone of the signed com.
www.badsig.example.com	A	SERVFAIL	0 6 bogus: bad signature on the A
www.badsig.example.com	AAAA	NOERROR		1 - the AAAA beside it is fine
www.expired.example.com	A	SERVFAIL	0 7 bogus: signatures expired
nosuch.expired.example.com A	SERVFAIL	0 7 bogus: NXDOMAIN in an expired zone
www.future.example.com	A	SERVFAIL	0 8 bogus: signatures not yet valid
www.nokey.example.com	A	SERVFAIL	0 9 bogus: the zone serves no DNSKEY
nokey.example.com	DNSKEY	SERVFAIL	0 9 bogus: the DNSKEY question itself
www.otherkey.example.com A	SERVFAIL	0 9 bogus: DS for a key the zone lacks
www.badds.example.com	A	SERVFAIL	0 9 bogus: DS digest does not match
badds.example.com	DS	NOERROR		1 - the wrong DS is signed data of example.com.
badds.example.com	DNSKEY	SERVFAIL	0 9 bogus: DNSKEY set no DS matches
www.norrsig.example.com	A	SERVFAIL	0 10 bogus: the A without its RRSIG
www.norrsig.example.com	TXT	NOERROR		1 - the TXT beside it is signed
www.unsupalg.example.com A	NOERROR		0 - DS algorithm 253 only: insecure
nosuch.unsupalg.example.com A	NXDOMAIN	0 - DS algorithm 253 only: NXDOMAIN insecure
unsupalg.example.com	DS	NOERROR		1 - the DS itself is signed data of example.com.
www.unsupdigest.example.com A	NOERROR		0 - DS digest type 200 only: insecure
www.iter.example.com	A	NOERROR		1 - NSEC3 200 iterations: a positive answer needs no NSEC3
nosuch.iter.example.com	A	NXDOMAIN	0 27 NSEC3 200 iterations: NXDOMAIN insecure
www.iter.example.com	MX	NOERROR		0 27 NSEC3 200 iterations: NODATA insecure
x.wild.example.com	TXT	NOERROR		1 - NSEC wildcard answer
a.b.wild.example.com	TXT	NOERROR		1 - NSEC wildcard two labels down
x.wild.example.com	A	NOERROR		1 - NSEC wildcard NODATA
x.wild.example.net	TXT	NOERROR		1 - NSEC3 wildcard answer
x.wild.example.net	AAAA	NOERROR		1 - NSEC3 wildcard NODATA
x.wild.example.org	TXT	NOERROR		0 - opt-out wildcard answer: next closer in an opt-out span
x.wild.example.org	A	NOERROR		0 - opt-out wildcard NODATA: insecure
c2sec.example.com	A	NOERROR		1 - CNAME secure to secure (NSEC3 opt-out data)
c2insec.example.com	A	NOERROR		0 - CNAME secure to insecure
c2sec.insec.example.com	A	NOERROR		0 - CNAME insecure to secure
c2bogus.example.com	A	SERVFAIL	0 6 CNAME secure to bogus
c2nx.example.com	A	NXDOMAIN	1 - CNAME secure to an NSEC3 NXDOMAIN
www.deep.dn.example.com	A	NOERROR		1 - DNAME in a signed zone into a signed child
nosuch.dn.example.com	A	NXDOMAIN	1 - DNAME to an NXDOMAIN in the child
com			DS	NOERROR		1 - DS from the root
.			DNSKEY	NOERROR		1 - the root key set
'

for round in "cold" "from the cache"; do
	while read -r name type rcode ad ede what; do
		[ -n "$name" ] || continue
		compare "$round" "$name" "$type" "$rcode" "$ad" "$ede" "$what"
	done <<<"$TABLE"
done

# ---- CD: the bogus data itself, without AD (RFC 4035 §3.2.2) --------------
BOGUS='badsig expired future nokey otherkey badds norrsig'
# cd_data ROUND: each bogus www A with CD: NOERROR, the A, no AD, as
# Unbound gives it
cd_data() {
	local c addr
	for c in $BOGUS; do
		compare "$1, CD" "www.$c.example.com" A NOERROR 0 - \
		    "bogus data with CD" +cd
		addr=$(awk '$2 == "A" { print $3 }' "$T/ans.$UB")
		check "$1, CD: Unbound's answer for www.$c.example.com is the zone's A ($addr)" \
		    [ -n "$addr" ]
	done
}
cd_data "CD"

# ---- AD without DO: only when the query sets it (RFC 6840 §5.7, 5.8) ------
# is RCODE AD: the last reply's status and AD flag
is() { [ "$st" = "$1" ] && [ "$ad" = "$2" ]; }
# noad SERVER LABEL: the secure name without DO: AD with +adflag only; an
# insecure one never
noad() {
	ask "$1" +nodnssec +noadflag example.com A
	check "$2: no DO, no AD in the query: no AD (example.com A, $st)" \
	    is NOERROR 0
	ask "$1" +nodnssec +adflag example.com A
	check "$2: no DO, AD in the query: AD on a secure answer ($st AD=$ad)" \
	    is NOERROR 1
	ask "$1" +nodnssec +adflag www.insec.example.com A
	check "$2: no DO, AD in the query: no AD on an insecure answer ($st AD=$ad)" \
	    is NOERROR 0
	ask "$1" +nodnssec +adflag www.example.com A
	check "$2: no DO: no RRSIG in the answer ($(types "$1"))" \
	    sh -c "[ -s '$T/ans.$1' ] && ! grep -q RRSIG '$T/ans.$1'"
}
noad $UB Unbound
[ $md_up = 0 ] || noad $REC minidnsd

# ---- kdig sees what dig sees ---------------------------------------------------
# kask SERVER NAME TYPE: kdig +dnssec's status, AD flag, answer (as ask)
kask() {
	kdig @"$1" +time=3 +retry=0 +dnssec "$2" "$3" >"$T/kdig.$1" 2>&1 || true
	kst=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' "$T/kdig.$1" | head -1)
	kad=0
	if grep -q '^;; Flags:[^;]* ad[ ;]' "$T/kdig.$1"; then kad=1; fi
	awk '/^;; ANSWER SECTION:/ { on = 1; next }
	    /^;;/ || /^$/ { on = 0 }
	    on && NF >= 4 { $1 = tolower($1); $2 = ""; print }' \
	    "$T/kdig.$1" | sort >"$T/kans.$1"
}
if [ $md_up = 1 ]; then
	for q in "www.example.com A" "nosuch.example.net A" \
	    "www.insec.example.com A" "www.badsig.example.com A"; do
		# shellcheck disable=SC2086
		ask $REC +dnssec $q
		# shellcheck disable=SC2086
		kask $UB $q
		cp "$T/kans.$UB" "$T/want"
		# shellcheck disable=SC2086
		kask $REC $q
		check "kdig +dnssec $q: minidnsd's $kst AD=$kad as dig's ($st AD=$ad), records as Unbound's" \
		    sh -c "[ '$kst' = '$st' ] && [ '$kad' = '$ad' ] && cmp -s '$T/want' '$T/kans.$REC'"
	done
fi

# ---- validating what a forwarder says -------------------------------------
# minidnsd forwarding every name to an Unbound that does not validate
# (module-config "iterator": it passes DO answers on as the zones signed
# them, bogus ones too): the same verdicts, the keys fetched through the
# forwarder.
FWD=127.53.9.42  # minidnsd, forwarding
UBI=127.53.9.43  # Unbound, iterator only
md_it_unbound_hierarchy "$T/ubi.conf" ubi $UBI "$H/root.hints" ""
unbound -d -c "$T/ubi.conf" >"$T/ubi.out" 2>&1 &
PIDS="$PIDS $!"
cat >"$T/fwd.yaml" <<EOF
listen: [ "$FWD:53" ]
threads: 2
zones: []
forward:
  - zone: .
    servers: [ "$UBI" ]
allow-private-upstreams: yes
dnssec: validate
trust-anchor-file: $T/h/root.key
aggressive-nsec: yes
metrics: "$FWD:9153"
health: "off"
ready: "off"
EOF
"$MINIDNSD" -f -c "$T/fwd.yaml" >"$T/fwd.log" 2>&1 &
fwd_pid=$!
PIDS="$PIDS $fwd_pid"
if wait_up $UBI com. >/dev/null && wait_up $FWD com. >/dev/null; then
	n=0 bad=""
	while read -r name type w_rcode w_ad w_ede what; do
		[ -n "$name" ] || continue
		ask $FWD +dnssec "$name" "$type"
		n=$((n + 1))
		if [ "$st" != "$w_rcode" ] || [ "$ad" != "$w_ad" ] ||
		    { [ "$w_ede" != - ] && [ "$ede" != "$w_ede" ]; }; then
			bad="$bad $name/$type:$st,AD=$ad,EDE=$ede"
		fi
	done <<<"$TABLE"
	check "forwarding to a non-validating Unbound: $n names, the table's rcode, AD and EDE${bad:+ (differ:$bad)}" \
	    [ -z "$bad" -a "$n" -gt 40 ]

	# aggressive-nsec (RFC 8198): names that the NSEC records of a
	# validated NXDOMAIN cover (nosuch < nosuch2, nosuch3 < ns1 in
	# example.com) are denied from them, with AD, and nothing is asked
	# of the forwarder; a name outside them (NSEC3 is not used this
	# way) still is.
	fwd_sent() {
		python3 - "$FWD" <<'PYX' 2>/dev/null
import sys, urllib.request
t = urllib.request.urlopen("http://%s:9153/metrics" % sys.argv[1],
                           timeout=5).read().decode()
print(sum(int(float(l.split()[-1])) for l in t.splitlines()
          if l.startswith("minidns_forward_requests_total{")))
PYX
	}
	ask $FWD +dnssec nosuch.example.com AAAA
	before=$(fwd_sent)
	agg_ok=1
	for nm in nosuch2.example.com nosuch3.example.com; do
		ask $FWD +dnssec $nm AAAA
		grep -q 'IN[[:space:]]*NSEC[[:space:]]' "$T/dig.$FWD" || agg_ok=0
		[ "$st" = NXDOMAIN ] && [ "$ad" = 1 ] || agg_ok=0
	done
	after=$(fwd_sent)
	check "aggressive-nsec: two more names denied from the NSEC records with AD and the proof, no query forwarded (${before:-?} -> ${after:-?})" \
	    [ "$agg_ok" = 1 -a -n "$before" -a "$before" = "$after" ]
	ask $FWD +dnssec nosuch9.example.net A
	check "aggressive-nsec: a name the records do not cover is asked ($(fwd_sent) forwarded)" \
	    [ "$(fwd_sent)" -gt "${after:-0}" ]

	# domain-insecure on reload: the bogus zone is taken as it is (the
	# data, no AD), and the cache's verdicts made under the old
	# settings are dropped (the log says so)
	ask $FWD +dnssec www.badsig.example.com A
	was="$st/$ede"
	sed -i 's/^aggressive-nsec: yes$/aggressive-nsec: yes\ndomain-insecure: [ badsig.example.com ]/' \
	    "$T/fwd.yaml"
	kill -HUP $fwd_pid
	# taken: the log says so, and (bounded) the answer follows; a
	# resolution begun before the reload may still end by the old rules
	badsig_taken() {
		ask $FWD +dnssec www.badsig.example.com A
		[ "$st" = NOERROR ]
	}
	if poll 10 grep -q "DNSSEC settings changed" "$T/fwd.log"; then
		poll 5 badsig_taken || true
		check "reload with domain-insecure: www.badsig.example.com from $was to $st AD=$ad with its data" \
		    sh -c "[ '$was' = SERVFAIL/6 ] && [ '$st' = NOERROR ] && [ '$ad' = 0 ] && grep -q '192.0.2' '$T/ans.$FWD'"
		ask $FWD +dnssec www.example.com A
		check "reload with domain-insecure: other names still validated ($st AD=$ad)" \
		    sh -c "[ '$st' = NOERROR ] && [ '$ad' = 1 ]"
	else
		fail "the reload with domain-insecure was not taken" "$T/fwd.log"
	fi
else
	fail "the forwarding minidnsd or the iterating Unbound did not start" \
	    "$T/fwd.log"
fi

# ---- bogus answers from the cache -------------------------------------------
# The child zones' server stopped: what is asked again about them now
# comes from the cache: SERVFAIL with the same EDE, and the data with CD.
pid=$(cat "$T/h/pids/cases.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait_exit "$pid" 5; then
	while read -r name type rcode ad ede what; do
		case $name in www.*.example.com) ;; *) continue ;; esac
		[ "$rcode" = SERVFAIL ] || continue
		# the name's zone no longer answers: a timeout, not the cache,
		# would give another EDE (or none) and take dig's whole try
		compare "cached bogus" "$name" "$type" SERVFAIL 0 "$ede" "$what"
		[ $md_up = 0 ] ||
		    echo "  minidnsd answered it in $(sed -n 's/^;; Query time: //p' "$T/dig.$REC")"
	done <<<"$TABLE"
	cd_data "cached, CD"
else
	fail "cannot stop the child zones' server (pid ${pid:-none})"
fi

summary
