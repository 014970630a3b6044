#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidig +trace +dnssec (issue 14, "Teaching"): the walk from the root of
# the signed test hierarchy (hierarchy/hierarchy.sh, HIERARCHY_SIGN=cases;
# its trust anchor DIR/root.key given with +trust-anchor=FILE), validated
# by minidnsd's own validator, as a student reads it:
#   - a secure name: the DS and DNSKEY links of ., com. and example.com.
#     in that order (each DNSKEY set with its key tags), the verdict
#     "secure"; a secure NXDOMAIN under NSEC and under NSEC3;
#   - an insecure name: the verdict names the unsigned delegation;
#   - bogus names: the verdict names the broken link and the EDE (6: a
#     signature that does not verify, 7: an expired one);
#   - +explain says it in sentences, +json has "validate" steps and the
#     result's "security", +html=FILE still makes its page;
#   - without +dnssec, no DNSSEC lines; a bad anchor file: FILE:LINE;
#   - delv (BIND's validator, through a non-validating Unbound on the
#     same hierarchy) comes to the same verdict for each name.
#
# Ground rules of lib.sh: a private network namespace, 127.x only, every
# process stopped by saved PID, every wait bounded.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start trace_dnssec "$@"
PATH=$PATH:/usr/sbin

MINIDIG=${MINIDIG:-$PWD/minidig}
md_it_built "$MINIDIG"
md_it_need nsd ldns-keygen ldns-signzone ldns-key2ds python3

H=$here/hierarchy
UB=127.53.9.42 # Unbound, iterating only: delv's resolver

mkdir -p "$T/h"
md_it_cleanup_hook() { bash "$H/hierarchy.sh" stop "$T/h" >/dev/null 2>&1 || true; }
if ! HIERARCHY_SIGN=cases MD_IT_NETNS=1 bash "$H/hierarchy.sh" start "$T/h" \
    >"$T/h.out" 2>&1; then
	fail "the signed hierarchy did not start" "$T/h.out"
	summary
fi
KEY=$T/h/root.key

# sectrace MODE NAME [OPTIONS...]: the validated walk of NAME A into
# $T/MODE-NAME (MODE: dig, explain, json).
sectrace() {
	local mode=$1 name=$2 extra=""
	shift 2
	case $mode in
	explain) extra=+explain ;;
	json) extra=+json ;;
	esac
	"$MINIDIG" +trace +dnssec +trust-anchor="$KEY" $extra @127.53.0.1 \
	    "$name" A "$@" >"$T/$mode-$name" 2>&1
}
NAMES="www.example.com www.insec.example.com www.badsig.example.com
	www.expired.example.com nosuch.example.com nosuch.example.net"
for n in $NAMES; do
	for m in dig explain json; do
		sectrace $m "$n" || true
	done
done

# The verdict line of the dig layout.
verdict() { sed -n 's/^;; DNSSEC verdict: //p' "$T/dig-$1"; }

# ---- a secure name: the chain from the root down ----------------------------
f=$T/dig-www.example.com
# the links of ., com. and example.com., in the order they are checked
grep -E '^;; DNSSEC (\. DNSKEY|com\. DS|com\. DNSKEY|example\.com\. DS|example\.com\. DNSKEY):' \
    "$f" | cut -d: -f1 >"$T/chain"
printf '%s\n' ";; DNSSEC . DNSKEY" ";; DNSSEC com. DS" ";; DNSSEC com. DNSKEY" \
    ";; DNSSEC example.com. DS" ";; DNSSEC example.com. DNSKEY" >"$T/chain.want"
check_log "secure: DS and DNSKEY of ., com., example.com. in order" "$T/chain" \
    cmp -s "$T/chain" "$T/chain.want"
check_log "secure: every link of the chain is secure" "$f" \
    bash -c "! grep -E '^;; DNSSEC [^v].*: (insecure|bogus)' '$f'"
# the root's KSK: the key tag of the anchor, named by the DNSKEY link
ktag=$(grep -o "id = [0-9]*" "$KEY" | head -n 1 | grep -o "[0-9]*$")
check_log "secure: the trust anchor's key ($ktag) signs the root's keys" "$f" \
    grep -qE "^;; DNSSEC \. DNSKEY: secure: 2 keys; key $ktag \(the trust anchor\) signs the set" "$f"
check_log "secure: the root's keys listed with their tags" "$f" \
    grep -qE "^ *;; keys of \.:.* $ktag \(KSK, SEP, alg 13\)" "$f"
check_log "secure: the DS of com. signed by a key of the root" "$f" \
    grep -qE '^;; DNSSEC com\. DS: secure: 1 DS records, signed by the parent.s key \(key [0-9]+ alg 13\)' "$f"
check_log "secure: the answer's signature checked" "$f" \
    grep -qE '^;; DNSSEC web\.example\.org\. A: secure: signed by key [0-9]+ of example\.org\.' "$f"
check "secure: verdict secure" [ "$(verdict www.example.com)" = secure ]
check "NXDOMAIN under NSEC: verdict secure" \
    [ "$(verdict nosuch.example.com)" = secure ]
check "NXDOMAIN under NSEC3: verdict secure" \
    [ "$(verdict nosuch.example.net)" = secure ]

# ---- insecure and bogus ----------------------------------------------------
v=$(verdict www.insec.example.com)
check "insecure: the verdict names the unsigned delegation ($v)" \
    [ "$v" = "insecure: insec.example.com. is an unsigned delegation (no DS in example.com., proven by NSEC)" ]
v=$(verdict www.badsig.example.com)
check "bogus signature: the verdict names the RRset, its key and EDE 6 ($v)" \
    grep -qE '^bogus \(EDE 6\): www\.badsig\.example\.com\. A \(signed by badsig\.example\.com\.\): RRSIG by key [0-9]+/13 of badsig\.example\.com\. does not verify$' \
    <<<"$v"
v=$(verdict www.expired.example.com)
check "expired: the verdict names the DNSKEY link and EDE 7 ($v)" \
    grep -qE '^bogus \(EDE 7\): the DNSKEY set of expired\.example\.com\.: RRSIG by key [0-9]+ expired$' \
    <<<"$v"

# ---- +explain --------------------------------------------------------------
e=$T/explain-www.example.com
check_log "+explain: the root's keys in a sentence" "$e" \
    grep -qF "; DNSSEC: The root zone's keys are trusted: key $ktag matches the trust anchor and signs the root's DNSKEY set (2 keys)." "$e"
check_log "+explain: com. is a signed delegation" "$e" \
    grep -qE "^; DNSSEC: com\. is a signed delegation: the root signs a DS record for com\. \(with its key [0-9]+\); a key of com\. must match it\.$" "$e"
check_log "+explain: secure verdict" "$e" \
    grep -qF "; DNSSEC verdict: secure: every link from the trust anchor down to the answer verified." "$e"
check_log "+explain: the structure kept (summary)" "$e" grep -q '^; Summary: ' "$e"
e=$T/explain-www.insec.example.com
check_log "+explain: the unsigned delegation in words" "$e" \
    grep -qF "; DNSSEC verdict: insecure: insec.example.com. is delegated without a DS record, proven by the NSEC record of example.com.: nothing below is signed." "$e"
e=$T/explain-www.badsig.example.com
check_log "+explain: the signature that does not verify" "$e" \
    grep -qE "^; DNSSEC verdict: bogus \(EDE 6\): the signature over www\.badsig\.example\.com\. A does not verify with key [0-9]+ of badsig\.example\.com\.$" "$e"
e=$T/explain-nosuch.example.net
check_log "+explain: the NSEC3 denial" "$e" \
    grep -qE "^; DNSSEC: The denial for nosuch\.example\.net\. A is proven by signed NSEC3 records of example\.net\." "$e"

# ---- +json ------------------------------------------------------------------
cat >"$T/check_json.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
v = [s for s in d["steps"] if s["event"] == "validate"]
assert v, "no validate steps"
for s in v:
    for k in ("step", "zone", "name", "type", "security", "key_tag",
              "algorithm", "ede", "why"):
        assert k in s, (k, s)
chain = [(s["step"], s["name"]) for s in v if s["step"] in ("DS", "DNSKEY")]
assert d["result"]["security"] == want, d["result"]
if sys.argv[1].endswith("www.example.com"):
    assert chain[:5] == [("DNSKEY", "."), ("DS", "com."), ("DNSKEY", "com."),
                         ("DS", "example.com."), ("DNSKEY", "example.com.")], chain
if want == "bogus":
    assert d["result"]["ede"] in (6, 7), d["result"]
    assert any(s["security"] == "bogus" and s["ede"] == d["result"]["ede"]
               for s in v), v
EOF
for nw in www.example.com:secure www.insec.example.com:insecure \
    www.badsig.example.com:bogus www.expired.example.com:bogus \
    nosuch.example.net:secure; do
	n=${nw%%:*}
	check_log "+json: $n parses, validate steps, security ${nw#*:}" \
	    "$T/json-$n" python3 "$T/check_json.py" "$T/json-$n" "${nw#*:}"
done

# ---- +html, without +dnssec, a bad anchor file -------------------------------
"$MINIDIG" +trace +dnssec +trust-anchor="$KEY" +html="$T/page.html" \
    @127.53.0.1 www.badsig.example.com >"$T/html.out" 2>&1 || true
check_log "+html: the page is written with the validate steps" "$T/html.out" \
    grep -q '"validate"' "$T/page.html"
"$MINIDIG" +trace @127.53.0.1 www.example.com >"$T/plain" 2>&1 || true
check_log "without +dnssec: a walk, no DNSSEC lines" "$T/plain" \
    bash -c "grep -q '^web.example.org.*192.0.2.80' '$T/plain' && ! grep -q DNSSEC '$T/plain'"
printf '. IN DS 1 2 3\n' >"$T/bad.key"
rc=0
"$MINIDIG" +trace +dnssec +trust-anchor="$T/bad.key" @127.53.0.1 \
    www.example.com >"$T/bad.out" 2>&1 || rc=$?
check_log "a bad anchor file: exit 10 and FILE:LINE" "$T/bad.out" \
    bash -c "[ $rc = 10 ] && grep -q '$T/bad.key:1' '$T/bad.out'"

# ---- the same verdicts as delv ------------------------------------------------
if ! command -v delv >/dev/null || ! command -v unbound >/dev/null; then
	echo "SKIP: delv or unbound missing: no comparison with delv"
	nskip=$((nskip + 1))
	summary
fi
md_it_unbound_hierarchy "$T/ub.conf" ub $UB "$H/root.hints" ""
unbound -d -c "$T/ub.conf" >"$T/ub.out" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 dig @$UB +time=1 +tries=1 +cd www.example.com >/dev/null; then
	fail "Unbound did not start" "$T/ub.out"
	summary
fi
# delv's anchor: the root's KSK as a trust-anchors clause
awk '{ for (t = 1; t <= NF; t++) if ($t == "DNSKEY") break
	if (t > NF) next
	k = ""; for (i = t + 4; i <= NF && $i !~ /^;/; i++) k = k $i
	printf "trust-anchors {\n\t\"%s\" static-key %s %s %s \"%s\";\n};\n",
	    $1, $(t+1), $(t+2), $(t+3), k }' "$KEY" >"$T/delv.key"
for n in $NAMES; do
	timeout 20 delv @$UB -a "$T/delv.key" +root=. "$n" A \
	    >"$T/delv-$n" 2>&1 || true
	if grep -q '^; fully validated' "$T/delv-$n" ||
	    grep -q '^; negative response, fully validated' "$T/delv-$n"; then
		d=secure
	elif grep -q '^; unsigned answer' "$T/delv-$n" ||
	    grep -q '^; negative response, unsigned answer' "$T/delv-$n"; then
		d=insecure
	elif grep -q 'resolution failed' "$T/delv-$n"; then
		d=bogus
	else
		d="?"
	fi
	m=$(verdict "$n")
	check_log "delv agrees on $n: $d (minidig: ${m%%:*})" "$T/delv-$n" \
	    [ "$d" = "$(echo "${m%%:*}" | sed 's/ (EDE.*//')" ]
done

summary
