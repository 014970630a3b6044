#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Latency of every query in a paced stream (standard library only), for
tools/bench-stall.sh: how long the slowest query waits while the server
does something heavy beside answering (a reload, a Kubernetes relist).

  bench_latency.py ADDR NAME SECONDS [--rate QPS] [--ports K]

Sends NAME/A to ADDR:53 at QPS queries a second (default 2000) for
SECONDS, from K sockets in turn (default 16: several source ports, so the
kernel spreads them over every worker's socket), and records each
query's time to its answer (matched by socket and ID).  A query with no
answer 1 s after the stream ends is lost.  Prints one line:

  sent N answered N lost N median_ms X p99_ms X p999_ms X max_ms X over5 N

(over5: answers that took more than 5 ms.)
"""
import argparse
import random
import select
import socket
import struct
import time


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def pct(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    i = min(len(sorted_ms) - 1, int(p * len(sorted_ms)))
    return sorted_ms[i]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("name")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--ports", type=int, default=16)
    a = ap.parse_args()
    qname = wire_name(a.name)
    socks = []
    for _ in range(a.ports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.connect((a.addr, 53))
        socks.append(s)
    by_fd = {s.fileno(): s for s in socks}
    sent_at = {}  # (fd, id) -> send time
    lat = []
    n_sent = 0
    gap = 1.0 / a.rate
    start = time.monotonic()
    end = start + a.seconds
    next_send = start
    def receive(timeout_s):
        # select() waits with microseconds: the prober sleeps between
        # sends rather than spinning (a busy prober takes a CPU from the
        # server it measures)
        ready, _, _ = select.select(socks, [], [], timeout_s)
        for s in ready:
            fd = s.fileno()
            while True:
                try:
                    m = s.recv(4096)
                except BlockingIOError:
                    break
                now = time.monotonic()
                if len(m) < 2:
                    continue
                key = (fd, struct.unpack("!H", m[:2])[0])
                t0 = sent_at.pop(key, None)
                if t0 is not None:
                    lat.append((now - t0) * 1000.0)

    while True:
        now = time.monotonic()
        if now >= end:
            break
        while next_send <= now and next_send < end:
            s = socks[n_sent % len(socks)]
            qid = random.getrandbits(16)
            key = (s.fileno(), qid)
            if key not in sent_at:
                msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
                msg += qname + struct.pack("!HH", 1, 1)
                try:
                    s.send(msg)
                    sent_at[key] = time.monotonic()
                    n_sent += 1
                except OSError:
                    pass
            next_send += gap
        wait = max(0.0, min(next_send, end) - time.monotonic())
        receive(wait)
    drain_end = time.monotonic() + 1.0
    while sent_at and time.monotonic() < drain_end:
        receive(0.05)
    lat.sort()
    print("sent %d answered %d lost %d median_ms %.3f p99_ms %.3f "
          "p999_ms %.3f max_ms %.3f over5 %d" % (
              n_sent, len(lat), len(sent_at), pct(lat, 0.5), pct(lat, 0.99),
              pct(lat, 0.999), lat[-1] if lat else 0.0,
              sum(1 for x in lat if x > 5.0)))


if __name__ == "__main__":
    main()
