#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A paced stream of queries that counts the unanswered ones (standard
library only), for tests that change a running server: ops.sh (a restart)
and workers.sh (reloads under load).

  stream.py ADDR NAME [--udp N] [--tcp N] [--ports K]

UDP: N queries for NAME/A, about 1 ms apart, each waiting up to 2 s for
its answer with no retry, sent from K sockets in turn (K source ports, so
the kernel spreads them over a server's worker sockets).  TCP: N queries,
each on a new connection, 20 ms apart, in a second thread.  Prints
"udp SENT ANSWERED", "tcp SENT ANSWERED" and "rcodes R=COUNT..." (the
rcodes of all answers).
"""
import argparse
import collections
import random
import socket
import struct
import threading
import time


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("name")
    ap.add_argument("--udp", type=int, default=3000)
    ap.add_argument("--tcp", type=int, default=150)
    ap.add_argument("--ports", type=int, default=1)
    a = ap.parse_args()
    qname = wire_name(a.name)
    res = {}
    rcodes = collections.Counter()
    lock = threading.Lock()

    def query(qid):
        return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + \
            struct.pack("!HH", 1, 1)

    def answered(data):
        with lock:
            rcodes[data[3] & 0xF] += 1

    def udp(n):
        ok = 0
        socks = []
        for _ in range(max(1, a.ports)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            socks.append(s)
        for i in range(n):
            s = socks[i % len(socks)]
            qid = random.randrange(65536)
            s.sendto(query(qid), (a.addr, 53))
            try:
                while True:
                    data, _ = s.recvfrom(4096)
                    if data[:2] == struct.pack("!H", qid):
                        ok += 1
                        answered(data)
                        break
            except socket.timeout:
                pass
            time.sleep(0.001)
        res["udp"] = (n, ok)

    def tcp(n):
        ok = 0
        for _ in range(n):
            qid = random.randrange(65536)
            q = query(qid)
            try:
                c = socket.create_connection((a.addr, 53), timeout=2)
                c.sendall(struct.pack("!H", len(q)) + q)
                hdr = c.recv(2)
                if len(hdr) == 2:
                    ln = struct.unpack("!H", hdr)[0]
                    data = b""
                    while len(data) < ln:
                        chunk = c.recv(ln - len(data))
                        if not chunk:
                            break
                        data += chunk
                    if data[:2] == struct.pack("!H", qid):
                        ok += 1
                        answered(data)
                c.close()
            except OSError:
                pass
            time.sleep(0.02)
        res["tcp"] = (n, ok)

    t1 = threading.Thread(target=udp, args=(a.udp,))
    t2 = threading.Thread(target=tcp, args=(a.tcp,))
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    print("udp %d %d" % res["udp"])
    print("tcp %d %d" % res["tcp"])
    print("rcodes " + " ".join("%d=%d" % kv for kv in sorted(rcodes.items())))


if __name__ == "__main__":
    main()
