#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Regenerate the TLS test certificates of test_net_tls (run once, by hand;
# the outputs are committed).  ca.pem signs dns.test and other.test;
# rogue-ca.pem signs nothing the server presents (the "untrusted CA"
# case).  dns.test.spki is the base64 SHA-256 of dns.test's
# SubjectPublicKeyInfo (RFC 7858 §4.2 pin); its raw bytes are in
# test_net_tls.c.  Everything is valid for 100 years.  The CA keys are not
# kept: adding a certificate means running this again.
set -eu
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ca() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$tmp/$1.key" -out "$1.pem" -days $days \
	    -subj "/CN=$2" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign
}

leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$tmp/$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n%s\n%s\n' \
	    "$1" 'keyUsage=critical,digitalSignature' \
	    'extendedKeyUsage=serverAuth' > "$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey "$tmp/ca.key" \
	    -CAcreateserial -CAserial "$tmp/ca.srl" -days $days \
	    -extfile "$tmp/$1.ext" -out "$1.pem"
}

ca ca "minidns test CA"
ca rogue-ca "minidns rogue CA"
leaf dns.test
leaf other.test
openssl x509 -in dns.test.pem -noout -pubkey |
    openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl base64 > dns.test.spki
