#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of the query harness (tests/fuzz/corpus/).

Each file is one DNS query message as a client sends it over UDP: the
usual questions against the sample zones, EDNS variants, and a few broken
messages that take the error paths.  The output is deterministic, so
rerunning the script changes nothing.  usage: make_corpus.py [DIR]
"""
import os
import struct
import sys


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype=1, qclass=1, flags=0x0100, edns=None, qid=0x1234):
    """edns: None, or (udp size, version, do bit, option bytes)."""
    ar = 1 if edns is not None else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, ar)
    msg += name(qname) + struct.pack("!HH", qtype, qclass)
    if edns is not None:
        size, version, do, opts = edns
        ttl = (version << 16) | (0x8000 if do else 0)
        msg += b"\0" + struct.pack("!HHIH", 41, size, ttl, len(opts)) + opts
    return msg


E0 = (1232, 0, False, b"")
CL = "cluster.local"
SEEDS = {
    "a-web": query("web.shop.svc." + CL, 1, edns=E0),
    "aaaa-web-noedns": query("web.shop.svc." + CL, 28),
    "srv-pg": query("_pg._tcp.db.shop.svc." + CL, 33, edns=E0),
    "txt-version-do": query("dns-version." + CL, 16,
                            edns=(4096, 0, True, b"")),
    "soa-apex": query(CL, 6, edns=E0),
    "ptr-auto": query("5.1.244.10.in-addr.arpa", 12, edns=E0),
    "cname-chain": query("search.shop.svc." + CL, 1, edns=E0),
    "wildcard": query("anything.lab." + CL, 1, edns=E0),
    "nxdomain": query("nope." + CL, 1, edns=E0),
    "refused": query("example.com", 1, edns=E0),
    "mx-yaml": query("example.test", 15, edns=E0),
    "any-mixed-case": query("WeB.ShOp.SvC.Cluster.Local", 255),
    "badvers": query("web.shop.svc." + CL, 1, edns=(1232, 1, False, b"")),
    "edns-cookie": query("web.shop.svc." + CL, 1,
                         edns=(512, 0, False,
                               struct.pack("!HH", 10, 8) + b"\1" * 8)),
    "axfr": query(CL, 252),
    "class-ch": query("version.bind", 16, qclass=3),
    "opcode-notify": query(CL, 6, flags=0x2000),
    "compressed-qname": struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
    "truncated-header": query("web.shop.svc." + CL)[:9],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for fname, data in sorted(SEEDS.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
