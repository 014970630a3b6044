#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# DNSSEC pass-through (issue 14, first part; no validation yet): zones
# signed here at test time with ldns-keygen and ldns-signzone (one with
# NSEC, one with NSEC3), served by NSD, and minidnsd forwarding to it.
# What a validating stub behind minidnsd needs, checked with kdig:
#  - with DO, answers carry the RRSIGs of every RRset (a CNAME chain's
#    too), NXDOMAIN and NODATA carry the SOA's RRSIG and the NSEC or
#    NSEC3 records that prove them, with their RRSIGs: the same records
#    NSD gives (TTLs aside), from the upstream's reply and from the cache;
#  - without DO, none of them (the SOA alone in a denial);
#  - the cache keeps them (minidns_cache_entries{type="dnssec"});
#  - the same files as local zones of minidnsd: NSD's records again;
#  - recursion through the test hierarchy signed at start (a DS chain from
#    the root, NSEC, NSEC3, opt-out, an insecure delegation): the records
#    a validating Unbound gives, and Unbound's AD shows the chain holds.
#
# Ground rules of lib.sh: a private network namespace, 127.x only, every
# process stopped by saved PID, every wait bounded.  Exit 77 when not root
# or a tool is missing; MINIDNSD from the environment, else ./minidnsd.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start dnssec "$@"
PATH=$PATH:/usr/sbin

MINIDNSD=${MINIDNSD:-$PWD/minidnsd}
md_it_need nsd kdig ldns-keygen ldns-signzone python3
md_it_built "$MINIDNSD"

DNS=127.63.0.1 # minidnsd
NSD=127.63.0.2 # the signed zones

# ---- two signed zones ------------------------------------------------------
# sign ZONE [NSEC3 options]: ZSK and KSK (ECDSA P-256), signed into
# $T/ZONE.zone.signed
sign() {
	local zone=$1 ksk zsk
	shift
	cat >"$T/$zone.zone" <<EOF
\$ORIGIN $zone.
\$TTL 300
@	IN SOA ns hostmaster 1 7200 1800 86400 300
@	IN NS ns
ns	IN A $NSD
www	IN A 192.0.2.80
www	IN AAAA 2001:db8::80
alias	IN CNAME www
mail	IN A 192.0.2.25
text	IN TXT "signed here at test time"
*.wild	IN TXT "a wildcard"
unsig	IN NS ns.unsig
ns.unsig IN A 192.0.2.53
sub	IN NS ns.sub
ns.sub	IN A 192.0.2.54
EOF
	(cd "$T" && sub=$(ldns-keygen -a ECDSAP256SHA256 -k "sub.$zone") &&
	    ldns-key2ds -n "$sub.key" >>"$zone.zone" &&
	    zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone") &&
	    ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone") &&
	    ldns-signzone "$@" "$zone.zone" "$zsk" "$ksk") \
	    >"$T/sign.$zone.log" 2>&1 ||
	    { cat "$T/sign.$zone.log"; echo "ERROR: cannot sign $zone"; exit 99; }
}
sign sec.test
sign sec3.test -n -t 0 -s ab12
md_it_nsd "$T/nsd" $NSD "sec.test=$T/sec.test.zone.signed" \
    "sec3.test=$T/sec3.test.zone.signed"

cat >"$T/minidnsd.yaml" <<EOF
listen: [ "$DNS:53" ]
threads: 2
zones: []
forward:
  - zone: sec.test
    servers: [ "$NSD" ]
  - zone: sec3.test
    servers: [ "$NSD" ]
metrics: "$DNS:9153"
health: "off"
ready: "off"
EOF
"$MINIDNSD" -f -c "$T/minidnsd.yaml" >"$T/minidnsd.log" 2>&1 &
PIDS="$PIDS $!"
if ! wait_up $NSD sec.test >/dev/null || ! wait_up $DNS sec.test >/dev/null; then
	fail "NSD or minidnsd did not come up" "$T/minidnsd.log"
	summary
fi

# rrs SERVER OPTS... NAME TYPE: the records kdig shows, without TTLs,
# sorted (one per line), in $T/rrs.SERVER: the answer section's, or the
# authority section's when the answer is empty (a denial: an
# authoritative server's positive answers also carry its NS set there,
# which resolvers leave out); the header line's status in $status.
rrs() {
	local server=$1
	shift
	kdig @"$server" +time=3 +retry=1 "$@" >"$T/kdig.out" 2>&1 || true
	status=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' "$T/kdig.out" | head -1)
	awk '/^;; ANSWER SECTION:/ { on = 1; next }
	    /^;;/ || /^$/ { on = 0 }
	    on && NF >= 4 { $2 = ""; print }' "$T/kdig.out" | sort \
	    >"$T/rrs.$server"
	[ -s "$T/rrs.$server" ] ||
	    awk '/^;; AUTHORITY SECTION:/ { on = 1; next }
		/^;;/ || /^$/ { on = 0 }
		on && NF >= 4 { $2 = ""; print }' "$T/kdig.out" | sort \
		>"$T/rrs.$server"
}
types() { awk '{ print $3 }' "$T/rrs.$1" | sort | uniq -c | tr -s ' ' |
	tr '\n' ',' | sed 's/,$//'; }

# same NAME TYPE WHAT: minidnsd with DO gives NSD's records (a first time
# from NSD, a second from the cache)
# compare LABEL REF REFNAME SERVER NAME TYPE WHAT [DIG OPTIONS]: for a DO
# client, SERVER gives REF's status and records (TTLs aside), and they
# hold DNSSEC records; the reference's header flags are in the message.
compare() {
	local label=$1 ref=$2 refname=$3 srv=$4 name=$5 type=$6 what=$7
	shift 7
	rrs "$ref" +dnssec "$@" "$name" "$type"
	cp "$T/rrs.$ref" "$T/want"
	want_status=$status
	refflags=$(sed -n 's/^;; Flags: \([^;]*\);.*/\1/p' "$T/kdig.out" | head -1)
	rrs "$srv" +dnssec "$@" "$name" "$type"
	if [ "$status" = "$want_status" ] && cmp -s "$T/want" "$T/rrs.$srv" &&
	    grep -q -E ' (RRSIG|NSEC|NSEC3) ' "$T/want"; then
		pass "$label: $what: $refname's records ($status: $(types "$srv"); $refname's flags: $refflags)"
	else
		fail "$label: $what" \
		    "$status/$want_status: $(diff "$T/want" "$T/rrs.$srv" | head -6 | tr '\n' '|')"
	fi
}

# same NAME TYPE WHAT: minidnsd forwarding to NSD, a first time from NSD,
# a second from the cache
same() {
	local pass
	for pass in "from the upstream" "from the cache"; do
		compare "DO, $pass" $NSD NSD $DNS "$@"
	done
}

same www.sec.test A "an A RRset and its RRSIG"
same alias.sec.test A "a CNAME chain, each RRset with its RRSIG"
same nosuch.sec.test A "NXDOMAIN with the SOA's RRSIG and the NSECs"
same mail.sec.test AAAA "NODATA with the name's NSEC"
same nosuch.sec3.test A "NXDOMAIN proven by NSEC3 records"
same mail.sec3.test TXT "NODATA proven by an NSEC3 record"

# Referrals through the forwarder are not asked for (a forwarder
# recurses): the delegations are checked against the local zone below.

# ---- the same zone as a local zone of minidnsd --------------------------------
# minidnsd serving sec.test.zone.signed itself, authoritatively, against
# NSD serving the same file: the same records for a DO client.
LOCAL=127.63.0.3
cat >"$T/local.yaml" <<EOF
listen: [ "$LOCAL:53" ]
threads: 1
recursion: no
zones:
  - file: $T/sec.test.zone.signed
  - file: $T/sec3.test.zone.signed
metrics: "off"
health: "off"
ready: "off"
EOF
"$MINIDNSD" -f -c "$T/local.yaml" >"$T/local.log" 2>&1 &
PIDS="$PIDS $!"
if wait_up $LOCAL sec.test >/dev/null; then
	# local_same NAME TYPE WHAT: minidnsd's local answer is NSD's
	local_same() { compare "local zone, DO" $NSD NSD $LOCAL "$@" +norec; }
	local_same www.sec.test A "an A RRset and its RRSIG"
	local_same alias.sec.test A "a CNAME chain in the zone"
	local_same nosuch.sec.test A "NXDOMAIN: the covering NSEC and the wildcard's"
	local_same mail.sec.test AAAA "NODATA: the name's NSEC"
	local_same x.wild.sec.test TXT "a wildcard answer and the NSEC for the name"
	local_same x.wild.sec.test A "a wildcard NODATA"
	local_same www.sub.sec.test A "a secure delegation: NS, DS and its RRSIG"
	local_same www.unsig.sec.test A "an insecure delegation: NS and the NSEC"
	# NSEC3 (RFC 5155 §7.2): the hashes made here must be the signer's
	local_same www.sec3.test A "NSEC3 zone: an A RRset and its RRSIG"
	local_same nosuch.sec3.test A "NSEC3 NXDOMAIN: the closest encloser proof and the wildcard's"
	local_same a.b.nosuch.sec3.test A "NSEC3 NXDOMAIN two labels down"
	local_same mail.sec3.test AAAA "NSEC3 NODATA: the name's NSEC3"
	local_same x.wild.sec3.test A "NSEC3 wildcard NODATA"
	local_same www.unsig.sec3.test A "NSEC3 insecure delegation: the NSEC3 of the cut"
	local_same www.sub.sec3.test A "NSEC3 secure delegation: NS, DS and its RRSIG"
	rrs $LOCAL +nodnssec +norec nosuch.sec.test A
	n=$(grep -c -E ' (RRSIG|NSEC|NSEC3|DS) ' "$T/rrs.$LOCAL" || true)
	check "local zone, no DO: NXDOMAIN with the SOA alone ($(types $LOCAL))" \
	    sh -c "[ $n = 0 ] && [ -s '$T/rrs.$LOCAL' ]"
	rrs $LOCAL +nodnssec +norec www.sub.sec.test A
	n=$(grep -c -E ' (RRSIG|NSEC|DS) ' "$T/rrs.$LOCAL" || true)
	check "local zone, no DO: a referral without DS ($(types $LOCAL))" \
	    sh -c "[ $n = 0 ] && [ -s '$T/rrs.$LOCAL' ]"
else
	fail "minidnsd did not load the signed zone" "$T/local.log"
fi

# ---- recursion through a signed hierarchy ------------------------------------
# The test hierarchy (hierarchy/hierarchy.sh) signed at start
# (HIERARCHY_SIGN=1: a DS chain from the root down, NSEC, NSEC3 and an
# NSEC3 opt-out zone, unsigned zones as insecure delegations), walked by
# minidnsd from the root hints and by a validating Unbound given the
# root's key: minidnsd gives a DO client the records Unbound gives (TTLs
# and the AD flag aside: minidnsd does not validate yet); Unbound's AD
# shows that the chain the test builds is a valid one.
H=$here/hierarchy
mkdir -p "$T/h"
md_it_cleanup_hook() { bash "$H/hierarchy.sh" stop "$T/h" >/dev/null 2>&1 || true; }
if HIERARCHY_SIGN=1 MD_IT_NETNS=1 bash "$H/hierarchy.sh" start "$T/h" \
    >"$T/h.out" 2>&1; then
	REC=127.53.9.20
	UB=127.53.9.21
	cat >"$T/rec.yaml" <<EOF
listen: [ "$REC:53" ]
threads: 1
zones: []
root-hints: $H/root.hints
allow-private-upstreams: yes
metrics: "off"
health: "off"
ready: "off"
EOF
	"$MINIDNSD" -f -c "$T/rec.yaml" >"$T/rec.log" 2>&1 &
	PIDS="$PIDS $!"
	md_it_unbound_hierarchy "$T/ub.conf" ub $UB "$H/root.hints" \
	    "$T/h/root.key" 'local-zone: "2.0.192.in-addr.arpa." nodefault'
	unbound -d -c "$T/ub.conf" >"$T/ub.out" 2>&1 &
	PIDS="$PIDS $!"
	if wait_up $REC com. >/dev/null && wait_up $UB com. >/dev/null; then
		# rec_same NAME TYPE WHAT: minidnsd's walk gives Unbound's records
		rec_same() { compare "recursion, DO" $UB Unbound $REC "$@"; }
		rec_same www.example.com A "a CNAME chain through three signed zones"
		rec_same mail.example.com AAAA "NODATA in an NSEC zone"
		rec_same nosuch.example.com A "NXDOMAIN in an NSEC zone"
		rec_same nosuch.example.net A "NXDOMAIN in an NSEC3 zone"
		rec_same www.deep.sub.example.com A "a name two cuts below com (a secure delegation's child)"
		rec_same deep.sub.example.com A "an empty non-terminal (NODATA) in the child"
		rec_same web.example.org AAAA "an NSEC3 opt-out zone's data"

		rec_same example.com DS "a DS from the parent"
		rec_same example.com DNSKEY "a zone's DNSKEY set"
		# an insecure delegation (com. has no DS for glue.com.): the
		# same unsigned data, and the referral's proof is com.'s to give
		rrs $UB +dnssec glue.com NS
		cp "$T/rrs.$UB" "$T/want"
		rrs $REC +dnssec glue.com NS
		check "recursion, DO: an insecure delegation's data, as Unbound's, no RRSIG" \
		    sh -c "cmp -s '$T/want' '$T/rrs.$REC' && ! grep -q RRSIG '$T/want' && [ -s '$T/want' ]"
		# Unbound validated: the chain the test builds holds
		rrs $UB +dnssec www.example.com A
		check "Unbound validates the signed hierarchy (AD on www.example.com)" \
		    grep -q '^;; Flags: .* ad' "$T/kdig.out"
	else
		fail "minidnsd or Unbound did not start on the signed hierarchy" \
		    "$T/ub.out"
	fi
else
	fail "the signed hierarchy did not start" "$T/h.out"
fi

# Without DO: the data, no DNSSEC record; a denial has its SOA alone.
for q in "alias.sec.test A" "nosuch.sec.test A" "nosuch.sec3.test TXT"; do
	rrs $DNS +nodnssec $q
	n=$(grep -c -E ' (RRSIG|NSEC|NSEC3) ' "$T/rrs.$DNS" || true)
	check "no DO: $q has no DNSSEC records ($status: $(types $DNS))" \
	    sh -c "[ $n = 0 ] && [ -s '$T/rrs.$DNS' ]"
done

# The cache holds them beside the data.
python3 - "$DNS" >"$T/metrics" <<'EOF' || true
import sys, urllib.request
print(urllib.request.urlopen("http://%s:9153/metrics" % sys.argv[1],
                             timeout=5).read().decode())
EOF
n=$(awk '/^minidns_cache_entries\{type="dnssec"\}/ { print $2 }' "$T/metrics")
check "the cache keeps RRSIGs and proofs beside their data (${n:-none})" \
    [ "${n:-0}" -ge 6 ]

summary
