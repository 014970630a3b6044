#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The test DNS hierarchy: real NSD authoritative servers, one per zone
# where it matters, on 127.53.x.y port 53, plus a silent "blackhole"
# server for the timeout cases.  Used by ../recursion.sh.
#
#   hierarchy.sh start DIR   write per-instance nsd.conf, logs and saved
#                            PIDs under DIR (a temporary directory owned by
#                            the caller), start everything, wait (bounded)
#                            until every server answers; exit 1 on failure
#                            (after stopping what it started).
#   hierarchy.sh stop DIR    stop every process started into DIR, by the
#                            PID saved at start.
#
# With HIERARCHY_SIGN=1 in the environment, the chain root -> com, net,
# org -> example.com, example.net, example.org -> sub.example.com is
# signed at start with fresh keys (ldns-keygen, ldns-signzone; ECDSA
# P-256): each child's DS goes into its parent before the parent is
# signed.  example.com and sub.example.com get NSEC, example.net NSEC3,
# example.org NSEC3 with opt-out; every other zone stays unsigned (an
# insecure delegation).  DIR/root.key is then the trust anchor (the root's
# KSK as a DNSKEY), and DIR/zones holds what NSD serves.
#
# HIERARCHY_SIGN=cases signs the same chain and adds the validation cases
# (../validate.sh; doc/architecture.md, "The signed test hierarchy"), all
# made and signed at start: in example.com. (NSEC) a wildcard *.wild,
# CNAMEs into other zones (c2sec, c2insec, c2bogus, c2nx) and delegations
# to child zones served by 127.53.3.1, one per case:
#   insec      unsigned, no DS in the parent (an insecure delegation)
#   badsig     the RRSIG of www's A has a flipped byte
#   expired    signed with inception and expiration in 2020
#   future     signed with inception and expiration in 2036
#   nokey      the DNSKEY RRset (and its RRSIG) removed from the zone
#   otherkey   the parent's DS is for a key the zone does not have
#   badds      the parent's DS digest has a changed digit
#   norrsig    the RRSIG of www's A removed
#   unsupalg   the parent's DS says algorithm 253 (none a validator knows)
#   unsupdigest the parent's DS has digest type 200 (unknown)
#   iter       NSEC3 with 200 iterations (above 150: RFC 9276 insecure)
# example.net. (NSEC3) gets *.wild and insec.example.net. (no DS);
# example.org. (NSEC3 opt-out) gets *.wild and insec.example.org. (no
# DS, no NSEC3 of its own: in an opt-out span).  Each child has www A/AAAA/TXT; insec.example.com.
# also c2sec CNAME mail.example.com. (insecure to secure).
#
# Run it only inside a private network namespace (unshare -n, then
# `ip link set lo up`), with MD_IT_NETNS=1 in the environment to say so:
# the servers bind 127.53.x.y:53, which must not touch the host's network.
#
# Address plan (see root.hints for the hints a resolver gets):
#   127.53.0.1  a.root-servers.test.   .
#   127.53.0.2  b.root-servers.test.   .
#   127.53.1.1  ns.nic.com.            com.
#   127.53.1.2  ns.nic.net.            net.
#   127.53.1.3  ns.nic.org.            org.
#   127.53.1.4  ns.nic.arpa.           arpa., in-addr.arpa.
#   127.53.2.1  ns1.example.com.       example.com., timeout.com., refused.com.,
#                                      glue.com., disagree.com.
#   127.53.2.2  ns1.example.net.       example.net. (REFUSED for refused.com.),
#                                      disagree.com. (from disagree.com.2.zone)
#   127.53.2.3  ns.example.net.        example.org. (glueless delegation)
#   127.53.2.4  ns.sub.example.com.    sub.example.com.
#   127.53.3.1  ns.CASE.example.com.   the child zones of HIERARCHY_SIGN=cases
#   127.53.5.1  rev.nic.arpa.          2.0.192.in-addr.arpa.
#   127.53.6.1  blackhole.py: never answers (UDP and TCP)
#   127.53.6.2  nothing listens (closed port: ICMP unreachable / RST)
#   127.53.9.x  left free for the resolvers under test
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# Only its functions (running, md_it_nsd): this script is run, not sourced,
# and keeps its PIDs in files for the stop that another process runs.
. "$here/../lib.sh"

# name address zone... : one NSD instance per line; ZONE=FILE serves ZONE
# from another file than ZONE.zone (a second server with other data).
INSTANCES='
root-a		127.53.0.1	.
root-b		127.53.0.2	.
com		127.53.1.1	com
net		127.53.1.2	net
org		127.53.1.3	org
arpa		127.53.1.4	arpa in-addr.arpa
example-com	127.53.2.1	example.com timeout.com refused.com glue.com disagree.com
example-net	127.53.2.2	example.net disagree.com=disagree.com.2.zone
example-org	127.53.2.3	example.org
sub		127.53.2.4	sub.example.com
reverse		127.53.5.1	2.0.192.in-addr.arpa
'
BLACKHOLE=127.53.6.1
# The blackhole exits by itself after this long, even if nobody stops it.
BLACKHOLE_LIFETIME=${BLACKHOLE_LIFETIME:-600}

usage() {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}

# hexaddr A.B.C.D: the address as /proc/net/udp prints it (little-endian
# hex on x86 and arm64), to see that the blackhole's socket is bound.
hexaddr() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	printf '%02X%02X%02X%02X' "$4" "$3" "$2" "$1"
}

# The file name of a zone: "." is root.zone; signed zones from DIR/zones.
zonefile() {
	local f=$1.zone
	[ "$1" = . ] && f=root.zone
	if [ -e "$DIR/zones/$f.signed" ]; then
		echo "$DIR/zones/$f.signed"
	elif [ -e "$DIR/zones/$f" ]; then
		echo "$DIR/zones/$f"
	else
		echo "$here/$f"
	fi
}

# sign_chain: HIERARCHY_SIGN's zones, leaves first (see the header).
# sign ZONE FILE PARENT [ldns-signzone options]: keys, the DS of the KSK
# appended to PARENT's copy (through the function named by $ds_edit, when
# set: the cases' broken DS records), FILE.signed.
sign() {
	local zone=$1 file=$2 parent=$3 ksk zsk
	shift 3
	(cd "$DIR/zones" &&
	    zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone") &&
	    ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone") &&
	    ldns-signzone -o "$zone" "$@" "$file" "$zsk" "$ksk" &&
	    if [ -n "$parent" ]; then
		ldns-key2ds -n -2 "$ksk.key" | "${ds_edit:-cat}" >>"$parent"
	    else
		cp "$ksk.key" "$DIR/root.key"
	    fi) >>"$DIR/sign.log" 2>&1 ||
	    { echo "hierarchy.sh: cannot sign $zone" >&2; cat "$DIR/sign.log" >&2; exit 1; }
}
# ---- HIERARCHY_SIGN=cases (see the header) ----------------------------------
CASES_ADDR=127.53.3.1
CASES_COM='insec badsig expired future nokey otherkey badds norrsig unsupalg
    unsupdigest iter'

# case_zone ZONE N: DIR/zones/ZONE.zone, a child served by CASES_ADDR: www
# with A 192.0.2.N, AAAA 2001:db8::N and a TXT that names the zone.
case_zone() {
	cat >"$DIR/zones/$1.zone" <<EOF
\$ORIGIN $1.
\$TTL 3600
@	SOA	ns hostmaster 1 3600 900 604800 600
@	NS	ns
ns	A	$CASES_ADDR
www	A	192.0.2.$2
www	AAAA	2001:db8::$2
www	TXT	"$1"
EOF
}
# delegate PARENT LABEL [.signed]: the NS and glue of LABEL.PARENT (served
# by CASES_ADDR) appended to DIR/zones/PARENT.zone (or its signed copy).
delegate() {
	printf '%s.%s.\t3600\tIN\tNS\tns.%s.%s.\n' "$2" "$1" "$2" "$1" \
	    >>"$DIR/zones/$1.zone${3:-}"
	printf 'ns.%s.%s.\t3600\tIN\tA\t%s\n' "$2" "$1" "$CASES_ADDR" \
	    >>"$DIR/zones/$1.zone${3:-}"
}
# The DS edits (ds_edit, run in DIR/zones by sign): stdin the child's DS
# as ldns-key2ds prints it (owner TTL IN DS tag algorithm type digest).
ds_badds() {	# the digest's last hex digit changed
	awk '{ c = substr($8, length($8)); sub(/.$/, c == "0" ? "1" : "0", $8); print }'
}
ds_alg253() { awk '{ $6 = 253; print }'; }
ds_digest200() { awk '{ $7 = 200; print }'; }
ds_otherkey() {	# the DS of a key made here and never used
	local k
	cat >/dev/null
	k=$(ldns-keygen -a ECDSAP256SHA256 -k otherkey.example.com.) &&
	    ldns-key2ds -n -2 "$k.key"
}
# rr_edit FILE AWK: FILE rewritten by the awk program (fields: owner TTL
# IN type rdata...); it must change something.
rr_edit() {
	if ! awk "$2" "$1" >"$1.new" || cmp -s "$1" "$1.new"; then
		echo "hierarchy.sh: cannot edit $1" >&2
		exit 1
	fi
	mv "$1.new" "$1"
}

sign_cases() {
	local c n=10 d=$DIR/zones ds_edit opts
	# the parents' additions, before they are signed
	cat >>"$d/example.com.zone" <<'EOF'
; HIERARCHY_SIGN=cases
*.wild		TXT	"nsec wildcard"
c2sec		CNAME	web.example.org.
c2insec		CNAME	www.insec.example.com.
c2bogus		CNAME	www.badsig.example.com.
c2nx		CNAME	nosuch.example.net.
EOF
	printf '; HIERARCHY_SIGN=cases\n*.wild\tTXT\t"nsec3 wildcard"\n' \
	    >>"$d/example.net.zone"
	printf '; HIERARCHY_SIGN=cases\n*.wild\tTXT\t"opt-out wildcard"\n' \
	    >>"$d/example.org.zone"
	delegate example.net insec
	# insec.example.org. is added once example.org. is signed (by
	# sign_chain): ldns-signzone -p still gives an insecure delegation
	# its own NSEC3, where an opt-out zone need not; added after, it lies
	# in an opt-out span, its NS and glue unsigned as they would be.
	case_zone insec.example.net 50
	case_zone insec.example.org 60
	for c in $CASES_COM; do
		n=$((n + 1))
		delegate example.com "$c"
		case_zone "$c.example.com" "$n"
		[ "$c" != insec ] || continue
		ds_edit="" opts=""
		case $c in
		expired) opts="-i 20200101000000 -e 20200201000000" ;;
		future) opts="-i 20360101000000 -e 20360201000000" ;;
		otherkey) ds_edit=ds_otherkey ;;
		badds) ds_edit=ds_badds ;;
		unsupalg) ds_edit=ds_alg253 ;;
		unsupdigest) ds_edit=ds_digest200 ;;
		iter) opts="-n -t 200 -s beef" ;;
		esac
		# shellcheck disable=SC2086
		sign "$c.example.com." "$c.example.com.zone" example.com.zone \
		    $opts
	done
	printf 'c2sec\tCNAME\tmail.example.com.\n' >>"$d/insec.example.com.zone"
	# after signing: break what each case breaks
	rr_edit "$d/badsig.example.com.zone.signed" '
	    $1 == "www.badsig.example.com." && $4 == "RRSIG" && $5 == "A" {
		c = substr($NF, 20, 1)
		$NF = substr($NF, 1, 19) (c == "A" ? "B" : "A") substr($NF, 21)
	    } { print }'
	rr_edit "$d/nokey.example.com.zone.signed" '
	    $4 == "DNSKEY" || ($4 == "RRSIG" && $5 == "DNSKEY") { next }
	    { print }'
	rr_edit "$d/norrsig.example.com.zone.signed" '
	    $1 == "www.norrsig.example.com." && $4 == "RRSIG" && $5 == "A" {
		next
	    } { print }'
	CASES_ZONES="insec.example.net insec.example.org"
	for c in $CASES_COM; do
		CASES_ZONES="$CASES_ZONES $c.example.com"
	done
}
sign_chain() {
	local f
	mkdir -p "$DIR/zones"
	for f in root com net org example.com example.net example.org \
	    sub.example.com; do
		cp "$here/$f.zone" "$DIR/zones/$f.zone"
	done
	[ "$HIERARCHY_SIGN" != cases ] || sign_cases
	sign sub.example.com. sub.example.com.zone example.com.zone
	sign example.com. example.com.zone com.zone
	sign example.net. example.net.zone net.zone -n -t 0 -s ab12
	sign example.org. example.org.zone org.zone -n -p -t 1 -s cd34
	[ "$HIERARCHY_SIGN" != cases ] || delegate example.org insec .signed
	sign com. com.zone root.zone
	sign net. net.zone root.zone
	sign org. org.zone root.zone
	sign . root.zone ""
}

# term_one PIDFILE PATTERN: SIGTERM the saved PID, only if its command
# line still contains PATTERN (a recycled PID is never hit); print the
# PID when a signal was sent.
term_one() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	rm -f "$1"
	[ -n "$pid" ] && running "$pid" || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" ||
	    return 0
	kill -TERM "$pid" 2>/dev/null && echo "$pid"
}

# Stop everything started into DIR: SIGTERM all, wait up to 3 s in all,
# then SIGKILL what is left.
do_stop() {
	local f pids="" left pid _
	for f in "$DIR"/pids/*.pid; do
		[ -e "$f" ] || continue
		case $f in
		*/blackhole.pid) pids="$pids $(term_one "$f" blackhole.py)" ;;
		*) pids="$pids $(term_one "$f" "$DIR/")" ;;
		esac
	done
	for _ in $(seq 30); do
		left=""
		for pid in $pids; do
			if running "$pid"; then left="$left $pid"; fi
		done
		pids=$left
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	for pid in $pids; do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

do_start() {
	local name addr zones zone end ok z
	if [ "${MD_IT_NETNS:-}" != 1 ]; then
		echo "hierarchy.sh: run inside 'unshare -n' with MD_IT_NETNS=1" >&2
		exit 2
	fi
	mkdir -p "$DIR/pids"
	trap 'do_stop' EXIT	# undone below once everything is up
	case ${HIERARCHY_SIGN:-0} in
	1) sign_chain ;;
	cases)
		sign_chain
		INSTANCES="$INSTANCES
cases	$CASES_ADDR	$CASES_ZONES
"
		;;
	esac

	# The blackhole (timeout cases): bound before the NSDs start.
	python3 "$here/blackhole.py" "$BLACKHOLE" 53 \
	    --lifetime "$BLACKHOLE_LIFETIME" >"$DIR/blackhole.log" 2>&1 &
	echo $! >"$DIR/pids/blackhole.pid"

	# Every NSD in the foreground (-d) in the background, so its PID is
	# the one to stop; they start in parallel.  Everything NSD writes
	# (pid, log, xfrd state, zone list, xfr temp files) stays in
	# DIR/NAME.
	echo "$INSTANCES" | while read -r name addr zones; do
		[ -n "$name" ] || continue
		set --
		for z in $zones; do
			case $z in
			*=*) set -- "$@" "${z%%=*}=$here/${z#*=}" ;;
			*) set -- "$@" "$z=$(zonefile "$z")" ;;
			esac
		done
		md_it_nsd "$DIR/$name" "$addr" --opt 'tcp-count: 16' \
		    --opt 'verbosity: 1' --opt "identity: \"$name\"" "$@"
		echo "$md_it_nsd_pid" >"$DIR/pids/$name.pid"
	done

	# Bounded wait (5 s for all): each NSD answers SOA for its first
	# zone with NOERROR and the blackhole's UDP port is bound.
	end=$((SECONDS + 5))
	ok=0
	while [ $SECONDS -le $end ]; do
		ok=1
		while read -r name addr zones; do
			[ -n "$name" ] || continue
			zone=${zones%% *}
			[ "$zone" = . ] || zone=$zone.
			if ! dig @"$addr" +norec +time=1 +tries=1 \
			    "$zone" SOA 2>/dev/null |
			    grep -q 'status: NOERROR'; then
				ok=0
				break
			fi
		done <<<"$INSTANCES"
		if [ $ok = 1 ] && grep -q " $(hexaddr "$BLACKHOLE"):0035 " \
		    /proc/net/udp; then
			break
		fi
		ok=0
		sleep 0.1
	done
	if [ $ok != 1 ]; then
		echo "hierarchy.sh: not up after 5 s (instance $name)" >&2
		tail -n 5 "$DIR"/*/nsd.log "$DIR"/*/out \
		    "$DIR/blackhole.log" >&2 2>/dev/null || true
		exit 1
	fi
	trap - EXIT
}

[ $# = 2 ] || usage
DIR=$2
[ -d "$DIR" ] || { echo "hierarchy.sh: $DIR: no such directory" >&2; exit 2; }
DIR=$(cd "$DIR" && pwd)
case $1 in
start) do_start ;;
stop) do_stop ;;
*) usage ;;
esac
