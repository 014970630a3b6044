#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Misbehaving upstream servers for the forwarding tests (loopback only).

usage: badupstream.py MODE ADDR PORT [CERT KEY] [--lifetime SECONDS]

MODE:
  garbage   UDP and TCP: every query gets random bytes back (UDP), or a
            length prefix followed by random bytes (TCP).
  tlsclose  DNS over TLS: completes the handshake, reads a query, then
            closes the connection without an answer.

Standard library only; exits by itself after --lifetime seconds.
"""
import os
import select
import socket
import ssl
import sys
import time


def garbage(addr, port, end):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    while time.monotonic() < end:
        r, _, _ = select.select([u, t], [], [], 0.2)
        if u in r:
            _, peer = u.recvfrom(4096)
            u.sendto(os.urandom(40), peer)
        if t in r:
            c, _ = t.accept()
            c.settimeout(1)
            try:
                c.recv(4096)
                c.sendall(b"\x00\x28" + os.urandom(40))
            except OSError:
                pass
            c.close()


def tlsclose(addr, port, cert, key, end):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    t.settimeout(0.2)
    while time.monotonic() < end:
        try:
            c, _ = t.accept()
        except socket.timeout:
            continue
        c.settimeout(2)
        try:
            s = ctx.wrap_socket(c, server_side=True)
            s.recv(4096)
            s.close()
        except (OSError, ssl.SSLError):
            c.close()


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lifetime = 120.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    end = time.monotonic() + lifetime
    if mode == "garbage":
        garbage(addr, port, end)
    elif mode == "tlsclose":
        tlsclose(addr, port, sys.argv[4], sys.argv[5], end)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
