#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""An authoritative server for qmin.com. that breaks on QNAME minimisation
(tests only): it answers the full names right and fails the shortened
ones, as broken servers and middleboxes do (RFC 9156 §2.3).

Names (UDP, AA):
  qmin.com.                  SOA, NS ns.qmin.com.; NODATA for other types
  ns.qmin.com. A             the server's own address (the first argument)
  www.ent.MODE.qmin.com. A   192.0.2.7N, N the mode's number below
  MODE.qmin.com. and ent.MODE.qmin.com. (empty non-terminals, which a
  minimising resolver asks about first) get, by MODE:
     servfail  SERVFAIL     refused  REFUSED     notimp  NOTIMP
     formerr   FORMERR      nxdomain NXDOMAIN (AA, with the SOA: RFC 8020
     lame      an empty non-authoritative NOERROR (no SOA, no referral)
     drop      no reply at all
  anything else: NXDOMAIN with the SOA.

usage: qminbad.py ADDR PORT [--lifetime SECONDS]   (standard library only)
"""
import socket
import struct
import sys
import time

MODES = ["servfail", "refused", "notimp", "formerr", "nxdomain", "lame",
         "drop"]
RCODES = {"servfail": 2, "refused": 5, "notimp": 4, "formerr": 1}
ZONE = ("qmin", "com")


def name_wire(labels):
    out = b""
    for label in labels:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(labels, rtype, rdata, ttl=300):
    return name_wire(labels) + struct.pack("!HHIH", rtype, 1, ttl,
                                           len(rdata)) + rdata


def soa():
    rdata = name_wire(("ns",) + ZONE) + name_wire(("hostmaster",) + ZONE) \
        + struct.pack("!IIIII", 1, 3600, 900, 604800, 1313)
    return rr(ZONE, 6, rdata, 3600)


def parse(msg):
    """(id, flags, labels, qtype, question bytes) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1:
        return None
    pos, labels = 12, []
    while pos < len(msg) and msg[pos] != 0:
        n = msg[pos]
        if n > 63:
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace")
                      .lower())
        pos += 1 + n
    if pos + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos + 1:pos + 3])[0]
    return qid, flags, tuple(labels), qtype, msg[12:pos + 5]


def answer(msg, own):
    p = parse(msg)
    if p is None:
        return None
    qid, qflags, labels, qtype, question = p
    rd = qflags & 0x0100
    aa, rcode, an, ns = 0x0400, 0, [], []
    if labels[-2:] != ZONE:
        return struct.pack("!HHHHHH", qid, 0x8000 | rd | 5, 1, 0, 0, 0) \
            + question
    rel = labels[:-2]
    if rel == ():
        if qtype == 6:
            an.append(soa())
        elif qtype == 2:
            an.append(rr(ZONE, 2, name_wire(("ns",) + ZONE), 3600))
        else:
            ns.append(soa())
    elif rel == ("ns",) and qtype == 1:
        an.append(rr(labels, 1, socket.inet_aton(own), 3600))
    elif len(rel) == 3 and rel[:2] == ("www", "ent") and rel[2] in MODES:
        if qtype == 1:
            last = 70 + MODES.index(rel[2])
            an.append(rr(labels, 1, bytes([192, 0, 2, last])))
        else:
            ns.append(soa())
    elif (len(rel) == 1 and rel[0] in MODES) or \
            (len(rel) == 2 and rel[0] == "ent" and rel[1] in MODES):
        mode = rel[-1]
        if mode == "drop":
            return None
        if mode in RCODES:
            aa, rcode = 0, RCODES[mode]
        elif mode == "nxdomain":
            rcode = 3
            ns.append(soa())
        elif mode == "lame":
            aa = 0
    else:
        rcode = 3
        ns.append(soa())
    flags = 0x8000 | aa | rd | rcode
    return struct.pack("!HHHHHH", qid, flags, 1, len(an), len(ns), 0) \
        + question + b"".join(an) + b"".join(ns)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    lifetime = 120.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        sock.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        out = answer(msg, addr)
        if out is not None:
            sock.sendto(out, peer)


if __name__ == "__main__":
    main()
