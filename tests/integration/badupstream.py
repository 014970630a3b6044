#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Misbehaving upstream servers for the forwarding tests (loopback only).

usage: badupstream.py MODE ADDR PORT [CERT KEY] [--lifetime SECONDS]

MODE:
  garbage   UDP and TCP: every query gets random bytes back (UDP), or a
            length prefix followed by random bytes (TCP).
  tlsclose  DNS over TLS: completes the handshake, reads a query, then
            closes the connection without an answer.
  slow      UDP: answers every A query after --delay SECONDS (default 1)
            with one A record, --answer ADDR (default 192.0.2.77), TTL 60.
  dropfirst UDP: ignores the first query for each name, answers the
            next ones at once (as slow does, no delay): a resolution
            stays in flight until its first retransmission.

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


def answer_a(query, addr):
    """The reply to a one-question query: its ID and question, RD copied,
    QR and RA set, one A record (owner: a pointer to the question)."""
    end = 12
    while query[end] != 0:
        end += 1 + query[end]
    question = query[12:end + 5]
    flags = 0x8180 | (int.from_bytes(query[2:4], "big") & 0x0100)
    header = query[0:2] + flags.to_bytes(2, "big") + bytes([0, 1, 0, 1, 0, 0, 0, 0])
    rr = bytes([0xC0, 12, 0, 1, 0, 1]) + (60).to_bytes(4, "big") + bytes([0, 4])
    return header + question + rr + socket.inet_aton(addr)


def slow(addr, port, delay, answer, end, dropfirst=False):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    pending = []  # (due, reply, peer)
    seen = set()
    while time.monotonic() < end:
        now = time.monotonic()
        wait = min([p[0] for p in pending], default=now + 0.2) - now
        r, _, _ = select.select([u], [], [], max(0.0, min(wait, 0.2)))
        if u in r:
            q, peer = u.recvfrom(4096)
            name = q[12:].split(b"\0", 1)[0].lower()
            if dropfirst and name not in seen:
                seen.add(name)
            elif len(q) > 12:
                pending.append((time.monotonic() + delay, answer_a(q, answer), peer))
        now = time.monotonic()
        for p in [p for p in pending if p[0] <= now]:
            u.sendto(p[1], p[2])
            pending.remove(p)


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lifetime = 120.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    end = time.monotonic() + lifetime
    if mode == "garbage":
        garbage(addr, port, end)
    elif mode in ("slow", "dropfirst"):
        delay = 1.0 if mode == "slow" else 0.0
        if "--delay" in sys.argv:
            delay = float(sys.argv[sys.argv.index("--delay") + 1])
        answer = "192.0.2.77"
        if "--answer" in sys.argv:
            answer = sys.argv[sys.argv.index("--answer") + 1]
        slow(addr, port, delay, answer, end, mode == "dropfirst")
    elif mode == "tlsclose":
        tlsclose(addr, port, sys.argv[4], sys.argv[5], end)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
