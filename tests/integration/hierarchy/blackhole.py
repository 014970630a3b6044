#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A DNS server that never answers: the "timeout" peer of the test hierarchy.

Usage: blackhole.py ADDRESS [PORT] [--lifetime SECONDS]

Binds UDP and TCP on ADDRESS:PORT (default 53), reads and discards every
datagram, accepts TCP connections and holds them open without replying,
so a resolver sees a server that times out on both transports (not a
closed port, which fails fast with ICMP port unreachable / RST).  Exits by
itself after --lifetime seconds (default 300) so a forgotten instance
cannot linger; the test harness stops it earlier by PID (SIGTERM).
Python standard library only.
"""

import argparse
import selectors
import socket
import sys
import time

MAX_TCP = 32  # connections held open; the oldest is closed beyond this


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("address")
    ap.add_argument("port", nargs="?", type=int, default=53)
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((args.address, args.port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.address, args.port))
    tcp.listen(16)
    for s in (udp, tcp):
        s.setblocking(False)

    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "listen")
    conns = []
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        for key, _ in sel.select(timeout=min(left, 1.0)):
            try:
                if key.data == "udp":
                    udp.recvfrom(65535)  # swallow the query
                elif key.data == "listen":
                    c, _ = tcp.accept()
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, "conn")
                    conns.append(c)
                    if len(conns) > MAX_TCP:
                        old = conns.pop(0)
                        sel.unregister(old)
                        old.close()
                else:
                    if not key.fileobj.recv(65535):  # peer closed
                        sel.unregister(key.fileobj)
                        conns.remove(key.fileobj)
                        key.fileobj.close()
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
