#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A hostile authoritative server for spoof.com. (tests only).

For every query it sends three UDP replies, in this order:
  1. the right question with a WRONG ID, answering 6.6.6.6;
  2. the right ID with a WRONG question name, answering 6.6.6.6;
  3. the real answer (192.0.2.66, AA), carrying out-of-bailiwick records:
     fresh.example.net. A 6.6.6.6 in the additional section and
     example.net. NS ns.evil.test. in the authority section.
A resolver must accept only the third, and believe only its answer.

With --slow SECONDS it is an honest but slow server instead: it sends only
the real answer, that long after the query (for the in-flight sharing test
of slow.com.).

usage: spoof.py ADDR PORT [--lifetime SECONDS] [--slow SECONDS]
(standard library only)
"""
import socket
import struct
import sys
import time


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=300):
    return name_wire(owner) + struct.pack("!HHIH", rtype, 1, ttl,
                                          len(rdata)) + rdata


def parse_question(msg):
    pos = 12
    while pos < len(msg) and msg[pos] != 0:
        pos += 1 + msg[pos]
    end = pos + 1 + 4
    return msg[12:end], msg[12:pos + 1]


def reply(qid, question, answers, authority=b"", additional=b"",
          counts=(0, 0, 0)):
    flags = 0x8400  # QR AA
    hdr = struct.pack("!HHHHHH", qid, flags, 1, counts[0], counts[1],
                      counts[2])
    return hdr + question + answers + authority + additional


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    lifetime = 120.0
    slow = None
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    if "--slow" in sys.argv:
        slow = float(sys.argv[sys.argv.index("--slow") + 1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    end = time.monotonic() + lifetime
    evil = bytes([6, 6, 6, 6])
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            break
        if len(msg) < 12:
            continue
        qid = struct.unpack("!H", msg[:2])[0]
        question, qname = parse_question(msg)
        owner_ptr = b"\xc0\x0c"  # the question name
        if slow is not None:
            # Queries are answered in turn: enough for one resolver
            # that asks once per name.
            time.sleep(slow)
            ans = owner_ptr + struct.pack("!HHIH", 1, 1, 300, 4) + \
                bytes([192, 0, 2, 77])
            s.sendto(reply(qid, question, ans, counts=(1, 0, 0)), peer)
            continue
        ans_evil = owner_ptr + struct.pack("!HHIH", 1, 1, 300, 4) + evil
        # 1: wrong ID
        s.sendto(reply(qid ^ 0x5A5A, question, ans_evil, counts=(1, 0, 0)),
                 peer)
        # 2: wrong question
        wrong = name_wire("www.spoof.con") + question[len(qname):]
        s.sendto(reply(qid, wrong, ans_evil, counts=(1, 0, 0)), peer)
        # 3: the real answer, with poison beside it
        ans = owner_ptr + struct.pack("!HHIH", 1, 1, 300, 4) + \
            bytes([192, 0, 2, 66])
        auth = rr("example.net", 2, name_wire("ns.evil.test"))
        add = rr("fresh.example.net", 1, evil)
        s.sendto(reply(qid, question, ans, auth, add, counts=(1, 1, 1)),
                 peer)
    s.close()


if __name__ == "__main__":
    main()
