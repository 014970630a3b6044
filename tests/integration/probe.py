#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Raw-socket probes for tests/integration/run.sh (standard library only).

Each sub-command talks to one minidnsd on a loopback address, with a
bounded wait on every socket operation, and exits 0 when the behaviour is
the expected one, 1 when it is not (the reason goes to stderr):

  pipeline ADDR PORT     3 length-prefixed queries in one TCP write, 3
                         answers with the matching IDs
  stream ADDR PORT [CAFILE NAME]
                         (over TLS with CAFILE and the server's NAME)
                         questions cut at every kind of byte boundary (a
                         byte at a time, a message split with the next
                         one's start), 3,000 pipelined in one write (more
                         than one read of the server's), and a client
                         that stops reading its answers for a while
                         (the server stops reading too, then resumes):
                         every question answered, once, with its ID
  idle ADDR PORT SECS    an idle TCP connection is closed by the server
                         (EOF) within SECS seconds
  maxconn ADDR PORT      with tcp-max-connections: 2, a third connection
                         is answered while 2 idle ones are open (the
                         oldest is closed), a new one gets no answer while
                         2 busy ones are, and is answered once one closes
  case ADDR PORT         the question and owner name of the answer keep
                         the query's mixed case, byte for byte
  qr ADDR PORT           a message with QR=1 gets no reply (no loops)
  window ADDR PORT SUFFIX N
                         N UDP questions for distinct names qI.SUFFIX,
                         kept 16 in flight over 8 sockets (batches for
                         the server to read, steady enough for
                         udp-batch-wait to pause its socket), and a TCP
                         question on one connection every 100: every
                         one answered, once, NOERROR with an answer
  malformed ADDR PORT    a barrage of broken messages over UDP and TCP;
                         only checks the sockets behave, run.sh then
                         checks the daemon is alive and answering
"""
import collections
import random
import select
import ssl
import socket
import struct
import sys
import time

TIMEOUT = 3.0


def fail(msg):
    sys.stderr.write("probe: %s\n" % msg)
    sys.exit(1)


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name, qtype=1, flags=0x0100, edns=True):
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    msg += wire_name(name) + struct.pack("!HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return msg


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_connect(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((addr, port))
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes"
                           % (len(buf), n))
        buf += chunk
    return buf


def recv_msg(s):
    (n,) = struct.unpack("!H", recv_exact(s, 2))
    return recv_exact(s, n)


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


def cmd_pipeline(addr, port):
    names = ["web.shop.svc.cluster.local", "db.shop.svc.cluster.local",
             "kubernetes.default.svc.cluster.local"]
    ids = [0x1111, 0x2222, 0x3333]
    s = tcp_connect(addr, port)
    s.sendall(b"".join(frame(query(i, n)) for i, n in zip(ids, names)))
    got = []
    for _ in ids:
        m = recv_msg(s)
        qid, flags, _, ancount = struct.unpack("!HHHH", m[:8])
        if not flags & 0x8000 or flags & 0xf != 0 or ancount == 0:
            fail("answer %#x: flags %#x, %d answers" % (qid, flags, ancount))
        got.append(qid)
    s.close()
    if sorted(got) != ids:
        fail("IDs %s, expected %s" % (got, ids))


def expect_answers(s, ids, what):
    """Read len(ids) answers on s: each one of ids, each once, NOERROR
    with an answer."""
    want = set(ids)
    for _ in ids:
        try:
            m = recv_msg(s)
        except (OSError, EOFError) as e:
            fail("%s: %d answers missing (%s)" % (what, len(want), e))
        qid, flags, _, ancount = struct.unpack("!HHHH", m[:8])
        if qid not in want:
            fail("%s: answer %#x unexpected or repeated" % (what, qid))
        if not flags & 0x8000 or flags & 0xf != 0 or ancount == 0:
            fail("%s: answer %#x: flags %#x, %d answers"
                 % (what, qid, flags, ancount))
        want.discard(qid)


# a socket that cannot go on now (TLS: also a record half sent or read)
WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def cmd_stream(addr, port, cafile=None, server_name=None):
    name = "web.shop.svc.cluster.local"
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(TIMEOUT)
    s.connect((addr, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
        s = ctx.wrap_socket(s, server_hostname=server_name)
    # A byte at a time, each its own segment (the server reads between).
    for b in frame(query(1, name)):
        s.sendall(bytes([b]))
        time.sleep(0.002)
    expect_answers(s, [1], "a byte at a time")
    # Whole messages with the next one's first bytes, then the rest.
    data = b"".join(frame(query(i, name)) for i in (2, 3, 4))
    for cut in (1, len(data) // 2 + 1, len(data) - 3):
        s.sendall(data[:cut])
        time.sleep(0.05)
        s.sendall(data[cut:])
        expect_answers(s, [2, 3, 4], "split at byte %d" % cut)
    # 3,000 in one write: about 170 kB, more than one read of the
    # server's; the answers are read as they come.
    ids = list(range(100, 3100))
    s.sendall(b"".join(frame(query(i, name)) for i in ids))
    expect_answers(s, ids, "3,000 pipelined")
    # A client that does not read: 100,000 questions, about 8 MB of
    # answers against a small receive buffer: the server queues what it
    # may for one client, stops reading, and resumes as the answers are
    # read, after a pause.
    ids = [i % 50000 for i in range(100000)]  # each ID twice
    data = b"".join(frame(query(i, name)) for i in ids)
    s.setblocking(False)
    sent, stuck = 0, 0
    # (Pauses stay well under a second: run.sh's tcp-idle-timeout is 1 s,
    # and a client that reads nothing for that long is closed.)
    while sent < len(data) and stuck < 6:  # 0.3 s with nothing taken
        try:
            sent += s.send(data[sent:sent + 65536])
            stuck = 0
        except WOULD_BLOCK:
            stuck += 1
            time.sleep(0.05)
    time.sleep(0.3)
    want, buf = collections.Counter(ids), b""
    deadline = time.time() + 60
    while want and time.time() < deadline:
        wr = [s] if sent < len(data) else []
        if cafile and s.pending():
            r, w = [s], []  # decrypted already: select() cannot tell
        else:
            r, w, _ = select.select([s], wr, [], 1.0)
        if w:
            try:
                sent += s.send(data[sent:sent + 65536])
            except WOULD_BLOCK:
                pass
        if not r:
            continue
        try:
            chunk = s.recv(65536)
        except WOULD_BLOCK:
            continue
        if not chunk:
            fail("not reading: closed, %d answers missing" % sum(want.values()))
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            n = struct.unpack("!H", buf[:2])[0]
            qid = struct.unpack("!H", buf[2:4])[0]
            buf = buf[2 + n:]
            if want[qid] == 0:
                fail("not reading: answer %#x unexpected or repeated" % qid)
            want[qid] -= 1
            if want[qid] == 0:
                del want[qid]
    if want:
        fail("not reading: %d answers missing after 60 s"
             % sum(want.values()))
    s.setblocking(True)
    s.settimeout(TIMEOUT)
    # The connection still works.
    s.sendall(frame(query(7, name)))
    expect_answers(s, [7], "after the pause")
    s.close()


def cmd_idle(addr, port, secs):
    s = tcp_connect(addr, port)
    s.settimeout(secs)
    try:
        data = s.recv(1)
    except socket.timeout:
        fail("connection still open after %s s" % secs)
    if data:
        fail("unexpected data %r" % data)


def ask(s, qid):
    s.sendall(frame(query(qid, "web.shop.svc.cluster.local")))
    m = recv_msg(s)
    if struct.unpack("!H", m[:2])[0] != qid:
        fail("answer with the wrong ID")


def no_answer(s, what):
    """s gets no answer within 1.5 s (silence, or closed)."""
    s.settimeout(1.5)
    try:
        m = s.recv(2)
    except socket.timeout:
        return
    except OSError:
        return
    if m:
        fail("%s answered (%r)" % (what, m))


def gone(s, what):
    s.settimeout(3.0)
    try:
        if s.recv(1) == b"":
            return
    except OSError:
        return
    fail("%s still open" % what)


def cmd_maxconn(addr, port):
    a = tcp_connect(addr, port)
    ask(a, 1)
    time.sleep(0.05)
    b = tcp_connect(addr, port)
    ask(b, 2)
    # Both idle at the cap: a new client is served, and the connection
    # idle the longest (a) is closed to make room (NSD, Unbound).
    c = tcp_connect(addr, port)
    ask(c, 3)
    gone(a, "the oldest idle connection")
    a.close()
    # Both busy (a message begun on each): none to close, so a new
    # client gets no answer...
    b.sendall(b"\x00")
    c.sendall(b"\x00")
    time.sleep(0.2)
    d = tcp_connect(addr, port)
    d.sendall(frame(query(4, "web.shop.svc.cluster.local")))
    no_answer(d, "a connection while 2 busy ones were open")
    d.close()
    # ... until one of them ends.
    b.close()
    time.sleep(0.2)
    e = tcp_connect(addr, port)
    e.settimeout(5.0)
    e.sendall(frame(query(5, "web.shop.svc.cluster.local")))
    try:
        m = recv_msg(e)
    except (socket.timeout, EOFError) as err:
        fail("new connection not answered after one closed: %s" % err)
    if struct.unpack("!H", m[:2])[0] != 5:
        fail("answer has the wrong ID")
    c.close()
    e.close()


def cmd_case(addr, port):
    name = "WeB.sHoP.SvC.ClUsTeR.lOcAl"
    q = query(0x4242, name, edns=False)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(q, (addr, port))
    m, _ = s.recvfrom(65535)
    wn = wire_name(name)
    if m[12:12 + len(wn)] != wn:
        fail("question not echoed as sent: %r" % m[12:12 + len(wn)])
    # The answer's owner is the query name: written as-is or as a
    # compression pointer to the question (offset 12).
    after_q = 12 + len(wn) + 4
    owner = m[after_q:after_q + 2]
    if owner != b"\xc0\x0c" and m[after_q:after_q + len(wn)] != wn:
        fail("answer owner does not keep the query's case")


def cmd_qr(addr, port):
    q = bytearray(query(0x5151, "web.shop.svc.cluster.local"))
    q[2] |= 0x80
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(bytes(q), (addr, port))
    try:
        m, _ = s.recvfrom(65535)
        fail("got a %d-byte reply to a QR=1 message" % len(m))
    except socket.timeout:
        pass


def broken_messages():
    rnd = random.Random(20261127)
    good = query(0x7777, "web.shop.svc.cluster.local")
    msgs = [b"", b"\0", b"\0" * 11, good[:12], good[:13], good[:20],
            good[:-1], good[:-11]]
    # Random bytes, and random bytes behind a plausible header.
    for n in (1, 5, 12, 13, 40, 300, 512, 1500, 4000):
        msgs.append(bytes(rnd.getrandbits(8) for _ in range(n)))
        msgs.append(good[:12] + bytes(rnd.getrandbits(8) for _ in range(n)))
    hdr = struct.pack("!HHHHHH", 0x6666, 0x0100, 1, 0, 0, 0)
    tail = struct.pack("!HH", 1, 1)
    msgs += [
        hdr + b"\xc0\x0c" + tail,                   # pointer to itself
        hdr + b"\xc0\x0e\xc0\x0c" + tail,           # two-pointer loop
        hdr + b"\x03abc\xc0\x0c" + tail,            # loop after a label
        hdr + b"\xc0\xff" + tail,                   # pointer forward
        hdr + b"\x40" + b"a" * 64 + b"\0" + tail,   # label > 63
        hdr + b"\x80abc\0" + tail,                  # reserved label bits
        hdr + (b"\x3f" + b"a" * 63) * 5 + b"\0" + tail,  # name > 255
        hdr + b"\x05ab",                            # label past the end
        struct.pack("!HHHHHH", 1, 0x0100, 0, 0, 0, 0),   # no question
        struct.pack("!HHHHHH", 1, 0x0100, 2, 0, 0, 0) + good[12:],
        struct.pack("!HHHHHH", 1, 0x0100, 1, 0xffff, 0xffff, 0xffff)
        + good[12:],
        struct.pack("!HHHHHH", 1, 0x7900, 1, 0, 0, 0) + good[12:-11],
        good[:-11] + b"\0" + struct.pack("!HHIH", 41, 1232, 0, 4000),
        good + good[-11:],                          # two OPT records
        good[:-11] + b"\0" + struct.pack("!HHIH", 41, 0, 0, 0),
        good[:-11] + b"\x01a\0" + struct.pack("!HHIH", 41, 1232, 0, 0),
        good[:-11] + b"\0" + struct.pack("!HHIH", 41, 1232, 0, 8)
        + b"\0\x0a\0\x04abcd",                      # option past rdlen
    ]
    return msgs


def cmd_malformed(addr, port):
    msgs = broken_messages()
    u = socket.socket(family(addr), socket.SOCK_DGRAM)
    u.settimeout(0.2)
    for m in msgs:
        u.sendto(m, (addr, port))
    # Drain what came back; nothing is required.
    try:
        while True:
            u.recvfrom(65535)
    except socket.timeout:
        pass
    # TCP: a zero-length frame, a 1-byte frame then close, a length
    # promising more than is sent, then every broken message framed.
    for raw in (b"\0\0", b"\0\1", b"\0\1x", b"\x10\0abc", b"\xff\xff"):
        s = tcp_connect(addr, port)
        s.sendall(raw)
        s.close()
    s = tcp_connect(addr, port)
    try:
        s.sendall(b"".join(frame(m) for m in msgs if m))
        s.sendall(frame(query(0x7878, "web.shop.svc.cluster.local")))
        s.settimeout(2.0)
        while s.recv(65535):
            pass
    except (socket.timeout, ConnectionError):
        pass
    s.close()


def answer_ok(m):
    flags, _, ancount = struct.unpack("!HHH", m[2:8])
    return flags & 0x8000 and flags & 0xf == 0 and ancount > 0


def cmd_window(addr, port, suffix, n):
    socks = []
    for _ in range(8):
        u = socket.socket(family(addr), socket.SOCK_DGRAM)
        u.setblocking(False)
        u.connect((addr, port))
        socks.append(u)
    t = tcp_connect(addr, port)
    pending = set()  # qids sent, not yet answered
    sent = answered = tcp_answered = 0
    while sent < n or pending:
        while sent < n and len(pending) < 16:
            qid = sent + 1
            socks[qid % len(socks)].send(
                query(qid, "q%d.%s" % (qid, suffix)))
            pending.add(qid)
            sent += 1
            if sent % 100 == 0:
                t.sendall(frame(query(0xf000 + sent // 100,
                                      "tcp%d.%s" % (sent, suffix))))
                if not answer_ok(recv_msg(t)):
                    fail("TCP question %d not answered" % (sent // 100))
                tcp_answered += 1
        ready, _, _ = select.select(socks, [], [], TIMEOUT)
        if not ready:
            fail("%d of %d UDP questions unanswered after %.0f s"
                 % (len(pending), sent, TIMEOUT))
        for u in ready:
            while True:
                try:
                    m = u.recv(4096)
                except BlockingIOError:
                    break
                qid = struct.unpack("!H", m[:2])[0]
                if qid not in pending:
                    fail("answer %d unexpected or repeated" % qid)
                if not answer_ok(m):
                    fail("answer %d: rcode %d, %d answers"
                         % (qid, m[3] & 0xf, struct.unpack("!H", m[6:8])[0]))
                pending.discard(qid)
                answered += 1
    print("udp %d %d tcp %d" % (sent, answered, tcp_answered))


def main():
    if len(sys.argv) < 4:
        fail("usage: probe.py COMMAND ADDR PORT [ARG]")
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        if cmd == "pipeline":
            cmd_pipeline(addr, port)
        elif cmd == "stream":
            cmd_stream(addr, port, *sys.argv[4:6])
        elif cmd == "idle":
            cmd_idle(addr, port, float(sys.argv[4]))
        elif cmd == "maxconn":
            cmd_maxconn(addr, port)
        elif cmd == "case":
            cmd_case(addr, port)
        elif cmd == "qr":
            cmd_qr(addr, port)
        elif cmd == "window":
            cmd_window(addr, port, sys.argv[4], int(sys.argv[5]))
        elif cmd == "malformed":
            cmd_malformed(addr, port)
        else:
            fail("unknown command %s" % cmd)
    except (OSError, EOFError) as e:
        fail("%s: %s" % (cmd, e))


if __name__ == "__main__":
    main()
