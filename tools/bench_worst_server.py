#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A hostile DNS hierarchy in one process, for tools/bench-worst.sh: it is
the root, every TLD and every zone below, and each zone is delegated to
300 name servers that cannot be reached (the costliest referrals a
resolver can be sent; RFC 1034 iteration, no answer ever comes).

By the question's name (labels counted from the right):
  one label ("tld.")      a referral to tld. served by this server
  two or more labels      a referral for the last two labels ("zone.tld.")
                          to 300 name servers, by MODE:
    blackhole   ns0..ns299.zone.tld. with glue in 127.62.x.y (nothing
                listens there: every query is refused at once)
    glueless    ns0..ns299.zone-ns.tld. (out of the zone, no glue): the
                resolver must look up their addresses, which leads to
                zone-ns.tld.'s own 300 unreachable servers

usage: bench_worst_server.py ADDR MODE [--lifetime SECONDS]
(standard library only)
"""
import socket
import struct
import sys
import time

NS = 300


def wire(labels):
    return b"".join(bytes([len(x)]) + x.encode() for x in labels) + b"\0"


def rr(labels, rtype, rdata, ttl=3600):
    return wire(labels) + struct.pack("!HHIH", rtype, 1, ttl,
                                      len(rdata)) + rdata


def parse(msg):
    if len(msg) < 17:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    pos, labels = 12, []
    while pos < len(msg) and msg[pos] != 0:
        n = msg[pos]
        if n > 63:
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace")
                      .lower())
        pos += 1 + n
    return qid, flags, labels, msg[12:pos + 5]


def referral(zone, own, mode):
    auth, add = [], []
    if len(zone) == 1:
        auth.append(rr(zone, 2, wire(["ns"] + zone)))
        add.append(rr(["ns"] + zone, 1, socket.inet_aton(own)))
        return auth, add
    for i in range(NS):
        if mode == "glueless":
            nsname = ["ns%d" % i, zone[0] + "-ns", zone[1]]
        else:
            nsname = ["ns%d" % i] + zone
            add.append(rr(nsname, 1, bytes([127, 62, 1 + i // 250,
                                            1 + i % 250])))
        auth.append(rr(zone, 2, wire(nsname)))
    return auth, add


def main():
    addr, mode = sys.argv[1], sys.argv[2]
    lifetime = 600.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, 53))
    tcp.listen(64)
    tcp.settimeout(0.05)
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        udp.settimeout(0.05)
        try:
            msg, peer = udp.recvfrom(4096)
            out = answer(msg, addr, mode, 1232)
            if out:
                udp.sendto(out, peer)
        except socket.timeout:
            pass
        try:
            conn, _ = tcp.accept()
        except socket.timeout:
            continue
        conn.settimeout(1)
        try:
            hdr = conn.recv(2)
            if len(hdr) == 2:
                n = struct.unpack("!H", hdr)[0]
                msg = b""
                while len(msg) < n:
                    chunk = conn.recv(n - len(msg))
                    if not chunk:
                        break
                    msg += chunk
                out = answer(msg, addr, mode, 65535)
                if out:
                    conn.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            pass
        conn.close()


def answer(msg, own, mode, limit):
    p = parse(msg)
    if p is None:
        return None
    qid, qflags, labels, question = p
    if not labels:
        return struct.pack("!HHHHHH", qid, 0x8000 | 5, 1, 0, 0, 0) + question
    zone = labels[-1:] if len(labels) == 1 else labels[-2:]
    auth, add = referral(zone, own, mode)
    out = struct.pack("!HHHHHH", qid, 0x8000 | (qflags & 0x0100), 1, 0,
                      len(auth), len(add)) + question + b"".join(auth) \
        + b"".join(add)
    if len(out) > limit:
        # truncated: the resolver asks again over TCP
        return struct.pack("!HHHHHH", qid, 0x8200 | (qflags & 0x0100), 1,
                           0, 0, 0) + question
    return out


if __name__ == "__main__":
    main()
