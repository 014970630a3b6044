#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hostile clients for hostile.sh (loopback only, standard library only).

usage: hostile.py MODE ...

  slowhttp ADDR PORT N SECS
        Keep up to N connections to an HTTP endpoint, each sending a
        request line and then one header byte every 2 s; a connection
        the server closes is opened again (as an attacker would).  Stops
        after SECS and closes everything.  Prints "opened N closed N".
  blackhole ADDR PORT SECS
        A UDP "server" that reads every datagram and never answers.
  flood ADDR PORT ZONE N
        N UDP questions (A) for distinct names under ZONE, sent without
        waiting for answers.  Prints "sent N".
  slowdns ADDR PORT N SECS [SRC]
        N DNS-over-TCP connections (from source address SRC), each
        sending a 2-byte length of 40 and then one byte a second.
        Prints "accepted N refused N closed N maxlife S": accepted ones
        the server kept after 1 s, refused ones it closed within 1 s,
        closed ones it closed later, and the longest lifetime seen among
        those (SECS if one was never closed).
  idledns ADDR PORT N SECS [SRC]
        N DNS-over-TCP connections that send nothing; kept SECS.
        Prints "open N" (still open at the end).
  garbage ADDR PORT KIND
        One DNS-over-TCP connection sending garbage, KIND: "response" (a
        length then a header with QR set), "short" (a length of 5),
        "junk" (a whole 40-byte message of junk with QR clear).  Prints
        "closed S answered N" (seconds until the server closed it, 9 if
        it did not within 8 s; bytes it sent back).
"""
import select
import socket
import struct
import sys
import time


def slowhttp(addr, port, n, secs):
    end = time.monotonic() + secs
    conns = {}
    opened = closed = 0
    next_byte = time.monotonic()
    while time.monotonic() < end:
        while len(conns) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((addr, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                break
            conns[s.fileno()] = s
            opened += 1
            try:
                s.send(b"GET /metrics HTTP/1.1\r\n")
            except OSError:
                pass
        r, _, _ = select.select(list(conns.values()), [], [], 0.2)
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                del conns[s.fileno()]
                s.close()
                closed += 1
        if time.monotonic() >= next_byte:
            next_byte = time.monotonic() + 2
            for s in list(conns.values()):
                try:
                    s.send(b"X")
                except OSError:
                    pass
        # an attacker reconnects, but not in a tight loop
        time.sleep(0.05)
    for s in conns.values():
        s.close()
    print("opened %d closed %d" % (opened, closed))


def blackhole(addr, port, secs):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    end = time.monotonic() + secs
    while time.monotonic() < end:
        r, _, _ = select.select([u], [], [], 0.5)
        if r:
            u.recvfrom(4096)


def question(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)


def flood(addr, port, zone, n):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        u.sendto(question("q%d.%s" % (i, zone), i & 0xFFFF), (addr, port))
        if i % 100 == 99:
            time.sleep(0.01)
    print("sent %d" % n)


def connect(addr, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(2)
    s.connect((addr, port))
    s.setblocking(False)
    return s


def gone(s):
    """Whether the server closed s (EOF or reset); never blocks."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(4096) == b""
    except OSError:
        return True


def slowdns(addr, port, n, secs, src):
    start = time.monotonic()
    conns = []
    for _ in range(n):
        try:
            s = connect(addr, port, src)
            s.send(struct.pack(">H", 40))
            conns.append([s, time.monotonic(), None])
        except OSError:
            conns.append([None, time.monotonic(), 0.0])
    time.sleep(1)
    refused = 0
    for c in conns:
        if c[0] is not None and gone(c[0]):
            c[2] = time.monotonic() - c[1]
        if c[2] is not None:
            refused += 1
    accepted = n - refused
    closed = 0
    maxlife = 0.0
    while time.monotonic() < start + secs:
        for c in conns:
            if c[2] is not None:
                continue
            try:
                c[0].send(b"\x00")
            except OSError:
                pass
            if gone(c[0]):
                c[2] = time.monotonic() - c[1]
                closed += 1
                maxlife = max(maxlife, c[2])
        if all(c[2] is not None for c in conns):
            break
        time.sleep(1)
    if any(c[2] is None for c in conns):
        maxlife = secs
    for c in conns:
        if c[0] is not None:
            c[0].close()
    print("accepted %d refused %d closed %d maxlife %.1f" %
          (accepted, refused, closed, maxlife))


def idledns(addr, port, n, secs, src):
    conns = []
    for _ in range(n):
        try:
            conns.append(connect(addr, port, src))
        except OSError:
            pass
        time.sleep(0.02)
    time.sleep(secs)
    still = sum(1 for s in conns if not gone(s))
    for s in conns:
        s.close()
    print("open %d" % still)


def garbage(addr, port, kind):
    s = connect(addr, port, None)
    if kind == "response":
        s.send(struct.pack(">HHH", 40, 0x1234, 0x8180))
    elif kind == "short":
        s.send(struct.pack(">H", 5) + b"ABCDE")
    else:
        # ID, flags 0, QDCOUNT 1, then a name whose label runs off the end
        s.send(struct.pack(">HHHHHHH", 40, 0x1234, 0, 1, 0, 0, 0) +
               b"\x3f" + b"J" * 27)
    start = time.monotonic()
    got = 0
    while time.monotonic() < start + 8:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            print("closed %.1f answered %d" % (time.monotonic() - start,
                                               got))
            return
        got += len(data)
    print("closed 9 answered %d" % got)


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "slowhttp":
        slowhttp(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif mode == "blackhole":
        blackhole(a[0], int(a[1]), float(a[2]))
    elif mode == "flood":
        flood(a[0], int(a[1]), a[2], int(a[3]))
    elif mode == "slowdns":
        slowdns(a[0], int(a[1]), int(a[2]), float(a[3]),
                a[4] if len(a) > 4 else None)
    elif mode == "idledns":
        idledns(a[0], int(a[1]), int(a[2]), float(a[3]),
                a[4] if len(a) > 4 else None)
    elif mode == "garbage":
        garbage(a[0], int(a[1]), a[2])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
