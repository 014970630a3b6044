#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz harnesses.

tests/fuzz/corpus/query/ (fuzz_query): each file is one DNS query message as a
client sends it over UDP: the usual questions against the sample zones,
EDNS variants, and a few broken messages that take the error paths.

tests/fuzz/corpus/reply/ (fuzz_reply): each file is one reply as an
upstream server sends it, mostly to example.com. A (the harness's
question): referrals with glue, answers, CNAME chains, NXDOMAIN and NODATA
with SOA, truncation, compression pointers, OPT records, lame and
poisoning attempts.

tests/fuzz/corpus/nsec/ (fuzz_nsec): each file is one signed response
whose NSEC or NSEC3 records the harness checks as proofs of its question:
the examples of RFC 4035 Appendix B and RFC 5155 Appendix B (zone
"example"), and one NSEC3 chain with too many iterations.

The output is deterministic, so rerunning the script changes nothing.
tests/fuzz/corpus/dnssec/ (fuzz_dnssec): an RRset, its RRSIGs and a DNSKEY
set in the harness's framing (see fuzz_dnssec.c): the RFC 5702, 6605 and
8080 examples, and broken variants of them.

usage: make_corpus.py [QUERYDIR [REPLYDIR [NSECDIR [DNSSECDIR]]]]
"""
import base64
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


# ---- replies (fuzz_reply) ------------------------------------------------

A, NS, CNAME, SOA, MX, TXT, AAAA, SRV, OPT = 1, 2, 5, 6, 15, 16, 28, 33, 41
DNAME = 39
QR, AA, TC, RD, RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080


class Msg:
    """A reply with name compression the way servers do it: every name
    suffix written once, later copies as pointers."""

    def __init__(self, flags, qname="example.com", qtype=A, qid=0,
                 compress=True):
        self.flags = flags
        self.compress = compress
        self.buf = b""
        self.offsets = {}
        self.counts = [0, 0, 0, 0]
        self.buf = struct.pack("!HHHHHH", qid, flags, 0, 0, 0, 0)
        if qname is not None:
            self.buf += self.name(qname) + struct.pack("!HH", qtype, 1)
            self.counts[0] = 1

    def name(self, n, at=None):
        """Wire form of n, compressed against what is written before
        offset 'at' (default: the end of the message)."""
        at = len(self.buf) if at is None else at
        labels = [x for x in n.rstrip(".").split(".") if x]
        out = b""
        for i in range(len(labels)):
            key = ".".join(labels[i:]).lower()
            if self.compress and key in self.offsets:
                return out + struct.pack("!H", 0xC000 | self.offsets[key])
            if at + len(out) < 0x3FFF:
                self.offsets[key] = at + len(out)
            out += bytes([len(labels[i])]) + labels[i].encode()
        return out + b"\0"

    def rr(self, sec, owner, rtype, rdata, ttl=3600, rclass=1):
        """rdata: bytes, or a function of the offset where it starts
        (for rdata holding compressed names)."""
        self.buf += self.name(owner)
        start = len(self.buf) + 10
        if callable(rdata):
            rdata = rdata(start)
        self.buf += struct.pack("!HHIH", rtype, rclass, ttl, len(rdata))
        self.buf += rdata
        self.counts[sec] += 1
        return self

    def opt(self, size=1232, ext_rcode=0, do=False, opts=b""):
        ttl = (ext_rcode << 24) | (0x8000 if do else 0)
        self.buf += b"\0" + struct.pack("!HHIH", OPT, size, ttl, len(opts))
        self.buf += opts
        self.counts[3] += 1
        return self

    def wire(self):
        return self.buf[:4] + struct.pack("!HHHH", *self.counts) + \
            self.buf[12:]


def r_name(msg, n):
    return lambda at: msg.name(n, at)


def r_soa(msg, mname, rname, serial=2026010101):
    def f(at):
        a = msg.name(mname, at)
        b = msg.name(rname, at + len(a))
        return a + b + struct.pack("!IIIII", serial, 7200, 3600, 1209600,
                                   300)
    return f


def r_mx(msg, pref, n):
    return lambda at: struct.pack("!H", pref) + msg.name(n, at + 2)


def r_srv(msg, prio, weight, port, n):
    return lambda at: struct.pack("!HHH", prio, weight, port) + \
        msg.name(n, at + 6)


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(*words):
    return struct.pack("!8H", *words)


AN, NSEC, AR = 1, 2, 3


def referral_root(compress=True):
    m = Msg(QR, compress=compress)
    for ns in ("a.gtld-servers.net", "b.gtld-servers.net"):
        m.rr(NSEC, "com", NS, r_name(m, ns), 172800)
    m.rr(AR, "a.gtld-servers.net", A, ip4("192.0.2.2"), 172800)
    m.rr(AR, "a.gtld-servers.net", AAAA, ip6(0x2001, 0xdb8, 0, 0, 0, 0, 0,
                                             2), 172800)
    m.rr(AR, "b.gtld-servers.net", A, ip4("192.0.2.3"), 172800)
    return m.opt().wire()


def referral_root_minimised():
    m = Msg(QR, qname="com")
    m.rr(NSEC, "com", NS, r_name(m, "a.gtld-servers.net"), 172800)
    m.rr(AR, "a.gtld-servers.net", A, ip4("192.0.2.2"), 172800)
    return m.opt().wire()


def referral_com(compress=True):
    m = Msg(QR, compress=compress)
    for ns in ("ns1.example.com", "ns2.example.com"):
        m.rr(NSEC, "example.com", NS, r_name(m, ns), 172800)
    m.rr(AR, "ns1.example.com", A, ip4("192.0.2.53"), 172800)
    m.rr(AR, "ns2.example.com", A, ip4("198.51.100.53"), 172800)
    m.rr(AR, "ns2.example.com", AAAA, ip6(0x2001, 0xdb8, 0x53, 0, 0, 0, 0,
                                          0x53), 172800)
    return m.opt().wire()


def referral_glueless():
    m = Msg(QR)
    m.rr(NSEC, "example.com", NS, r_name(m, "ns.example.net"), 172800)
    m.rr(NSEC, "example.com", NS, r_name(m, "ns.example.org"), 172800)
    return m.wire()


def answer_a(compress=True):
    m = Msg(QR | AA | RD, compress=compress)
    m.rr(AN, "example.com", A, ip4("192.0.2.10"), 300)
    m.rr(AN, "example.com", A, ip4("192.0.2.11"), 300)
    m.rr(AN, "example.com", A, ip4("192.0.2.10"), 300)  # duplicate
    m.rr(NSEC, "example.com", NS, r_name(m, "ns1.example.com"))
    m.rr(AR, "ns1.example.com", A, ip4("192.0.2.53"))
    return m.opt(1232, do=True).wire()


def cname_chain():
    m = Msg(QR | AA)
    m.rr(AN, "example.com", CNAME, r_name(m, "www.example.com"), 60)
    m.rr(AN, "www.example.com", CNAME, r_name(m, "web.example.com"), 60)
    m.rr(AN, "web.example.com", A, ip4("192.0.2.80"), 60)
    return m.opt().wire()


def cname_out():
    m = Msg(QR | AA)
    m.rr(AN, "example.com", CNAME, r_name(m, "cdn.example.net"), 60)
    m.rr(AN, "cdn.example.net", A, ip4("203.0.113.7"), 60)  # not ours
    return m.wire()


def cname_loop():
    m = Msg(QR | AA)
    m.rr(AN, "example.com", CNAME, r_name(m, "a.example.com"))
    m.rr(AN, "a.example.com", CNAME, r_name(m, "example.com"))
    return m.wire()


def dname_chain():
    """RFC 6672: a DNAME at example.com for www.example.com, then a CNAME
    in the renamed tree: the classifier's chain holds the DNAME, the
    CNAME it makes from it, and the CNAME (the fuzzer once found a
    harness check that allowed CNAME links only)."""
    m = Msg(QR | AA, qname="www.example.com", qtype=AAAA)
    m.rr(AN, "example.com", DNAME, r_name(m, "example.net"), 60)
    m.rr(AN, "www.example.com", CNAME, r_name(m, "www.example.net"), 60)
    m.rr(AN, "www.example.net", CNAME, r_name(m, "web.example.com"), 60)
    m.rr(AN, "web.example.com", AAAA,
         ip6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x80), 60)
    return m.opt().wire()


def nxdomain():
    m = Msg(QR | AA | 3)
    m.rr(NSEC, "example.com", SOA,
         r_soa(m, "ns1.example.com", "hostmaster.example.com"), 900)
    return m.opt().wire()


def nxdomain_cname():
    m = Msg(QR | AA | 3)
    m.rr(AN, "example.com", CNAME, r_name(m, "gone.example.com"))
    m.rr(NSEC, "example.com", SOA,
         r_soa(m, "ns1.example.com", "hostmaster.example.com"), 900)
    return m.wire()


def nodata():
    m = Msg(QR | AA)
    m.rr(NSEC, "example.com", SOA,
         r_soa(m, "ns1.example.com", "hostmaster.example.com"), 900)
    return m.opt().wire()


def nodata_nosoa():
    return Msg(QR | AA).wire()


def truncated():
    m = Msg(QR | AA | TC)
    m.rr(AN, "example.com", A, ip4("192.0.2.10"))
    return m.wire()


def compressed_mx_srv():
    """Compressed names inside MX, SRV and SOA rdata, including pointers
    into other rdata."""
    m = Msg(QR | AA, qname="example.com", qtype=MX)
    m.rr(AN, "example.com", MX, r_mx(m, 10, "mail.example.com"))
    m.rr(AN, "example.com", MX, r_mx(m, 20, "mail2.mail.example.com"))
    m.rr(AN, "_sip._tcp.example.com", SRV,
         r_srv(m, 0, 5, 5060, "sip.mail.example.com"))
    m.rr(NSEC, "example.com", SOA,
         r_soa(m, "ns1.mail.example.com", "hostmaster.mail.example.com"))
    m.rr(AR, "mail.example.com", A, ip4("192.0.2.25"))
    return m.wire()


def uncompressed():
    m = Msg(QR | AA, compress=False)
    m.rr(AN, "example.com", A, ip4("192.0.2.10"))
    m.rr(NSEC, "example.com", NS, r_name(m, "ns1.example.com"))
    return m.wire()


def opt_badvers():
    m = Msg(QR)
    cookie = struct.pack("!HH", 10, 24) + bytes(range(24))
    ede = struct.pack("!HHH", 15, 6, 18) + b"test"
    return m.opt(1232, ext_rcode=1, opts=cookie + ede).wire()


def formerr():
    return Msg(QR | 1, qname=None).wire()


def servfail():
    return Msg(QR | RA | 2).opt().wire()


def lame_upward():
    m = Msg(QR)
    m.rr(NSEC, "", NS, r_name(m, "a.root-servers.net"), 518400)
    m.rr(AR, "a.root-servers.net", A, ip4("192.0.2.1"), 518400)
    return m.wire()


def poison():
    """Out-of-bailiwick and wrong-section records the scrubber drops."""
    m = Msg(QR | AA)
    m.rr(AN, "example.com", A, ip4("192.0.2.10"))
    m.rr(AN, "victim.test", A, ip4("203.0.113.66"), 86400)
    m.rr(NSEC, "test", NS, r_name(m, "ns.evil.test"), 86400)
    m.rr(NSEC, "example.com", TXT, b"\x05hello")
    m.rr(AR, "ns.evil.test", A, ip4("203.0.113.66"))
    m.rr(AR, "example.com", TXT, b"\x03bad", rclass=3)
    return m.wire()


REPLIES = {
    "referral-root": referral_root(),
    "referral-root-minimised": referral_root_minimised(),
    "referral-com-glue": referral_com(),
    "referral-glueless": referral_glueless(),
    "answer-a": answer_a(),
    "cname-chain": cname_chain(),
    "cname-out-of-zone": cname_out(),
    "cname-loop": cname_loop(),
    "dname-chain": dname_chain(),
    # Found by the fuzzer: a DNAME in the chain, a TKEY question of class 0.
    "found-dname-chain-tkey": base64.b64decode(
        "AACEAAABAAMAAAABB2V4YW1wbGUDY29tAPkAAAHADAAAAAAAAAAAAAAAACcAAQAAADwA"
        "BgN3d3fABMApAAUAAQAAADwABgN3ZV7ADMA7AAEA/wAAADwABMDoAwAAAD0AAAEsAAAA"
        "AA=="),
    "nxdomain-soa": nxdomain(),
    "nxdomain-after-cname": nxdomain_cname(),
    "nodata-soa": nodata(),
    "nodata-aa-no-soa": nodata_nosoa(),
    "truncated": truncated(),
    "compressed-mx-srv-soa": compressed_mx_srv(),
    "uncompressed": uncompressed(),
    "opt-badvers-options": opt_badvers(),
    "formerr-no-question": formerr(),
    "servfail": servfail(),
    "lame-upward-referral": lame_upward(),
    "poison-out-of-bailiwick": poison(),
    # The ID's first byte picks how the harness runs the engine: bit 0
    # copies the engine's question into the reply (which moves what
    # follows, hence no compression here), bit 1 turns QNAME minimisation
    # off.
    "copyq-referral-root": b"\x01" + referral_root(False)[1:],
    "copyq-referral-com-nomin": b"\x03" + referral_com(False)[1:],
    "copyq-answer-a-nomin": b"\x03" + answer_a(False)[1:],
    "copyq-nxdomain": b"\x01" + nxdomain()[1:],
}


# ---- NSEC / NSEC3 proofs (fuzz_nsec) --------------------------------------

NSEC, NSEC3, RRSIG, DS, HINFO = 47, 50, 46, 43, 13
TYPES = {"A": A, "NS": NS, "CNAME": CNAME, "SOA": SOA, "HINFO": HINFO,
         "MX": MX, "AAAA": AAAA, "DS": DS, "RRSIG": RRSIG, "NSEC": NSEC,
         "DNSKEY": 48, "NSEC3PARAM": 51}
B32 = "0123456789abcdefghijklmnopqrstuv"


def bitmap(types):
    wins = {}
    for t in types.split():
        t = TYPES[t]
        w = wins.setdefault(t >> 8, bytearray(32))
        w[(t & 0xff) // 8] |= 0x80 >> (t & 7)
    out = b""
    for w in sorted(wins):
        data = bytes(wins[w]).rstrip(b"\0")
        out += bytes([w, len(data)]) + data
    return out


def unb32(h):
    v = 0
    for c in h:
        v = v << 5 | B32.index(c)
    return v.to_bytes(20, "big")


def nsec_rd(nxt, types):
    return name(nxt) + bitmap(types)


def nsec3_rd(nxt, types, iters=12, flags=1):
    return struct.pack("!BBHB", 1, flags, iters, 4) + b"\xaa\xbb\xcc\xdd" + \
        bytes([20]) + unb32(nxt) + bitmap(types)


def rrsig(covered, labels):
    """An RRSIG with a dummy signature: the harness reads the labels."""
    return struct.pack("!HBBIIIH", covered, 13, labels, 3600, 1893456000,
                       1577836800, 12345) + name("example") + b"\0" * 64


SOA_RD = name("ns1.example") + name("bugs.x.w.example") + \
    struct.pack("!IIIII", 1081539377, 3600, 300, 3600000, 3600)
N3 = {
    "0p9m": ("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
             "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
             "MX DNSKEY NS SOA NSEC3PARAM RRSIG"),
    "2t7b": ("2t7b4g4vsa5smi47k61mv5bv1a22bojr",
             "2vptu5timamqttgl4luu9kg21e0aor3s", "A RRSIG"),
    "35mt": ("35mthgpgcu1qg68fab165klnsnk3dpvl",
             "b4um86eghhds6nea196smvmlo4ors995", "NS DS RRSIG"),
    "b4um": ("b4um86eghhds6nea196smvmlo4ors995",
             "gjeqe526plbf1g8mklp59enfd789njgi", "MX RRSIG"),
    "ji6n": ("ji6neoaepv8b5o6k4ev33abha8ht9fgc",
             "k8udemvp1j2f7eg6jebps17vp3n8i58h", ""),
    "k8ud": ("k8udemvp1j2f7eg6jebps17vp3n8i58h",
             "q04jkcevqvmu85r014c7dkba38o0ji5r", "MX RRSIG"),
    "q04j": ("q04jkcevqvmu85r014c7dkba38o0ji5r",
             "r53bq7cc2uvmubfu5ocmm6pers9tk9en", "A RRSIG"),
    "r53b": ("r53bq7cc2uvmubfu5ocmm6pers9tk9en",
             "t644ebqk9bibcna874givr6joj62mlhv", "MX RRSIG"),
}


def proof(qname, qtype, rcode, nsecs=(), n3s=(), answer=None, iters=12,
          soa=True):
    m = Msg(QR | AA | rcode, qname=qname, qtype=qtype, compress=False)
    if answer is not None:
        m.rr(1, qname, MX, struct.pack("!H", 1) + name("ai.example"))
        m.rr(1, qname, RRSIG, rrsig(MX, answer))
    if soa:
        m.rr(2, "example", SOA, SOA_RD)
    for owner, nxt, types in nsecs:
        m.rr(2, owner, NSEC, nsec_rd(nxt, types))
    for key in n3s:
        h, nxt, types = N3[key]
        m.rr(2, h + ".example", NSEC3, nsec3_rd(nxt, types, iters))
    return m.opt(do=True).wire()


NSECS = {
    "nsec-b2-nxdomain": proof("ml.example", MX, 3, nsecs=[
        ("b.example", "ns1.example", "NS RRSIG NSEC"),
        ("example", "a.example", "NS SOA MX RRSIG NSEC DNSKEY")]),
    "nsec-b3-nodata": proof("ns1.example", MX, 0, nsecs=[
        ("ns1.example", "ns2.example", "A RRSIG NSEC")]),
    "nsec-b5-insecure-referral": proof("b.example", DS, 0, soa=False,
                                       nsecs=[("b.example", "ns1.example",
                                               "NS RRSIG NSEC")]),
    "nsec-b6-wildcard": proof("a.z.w.example", MX, 0, answer=2, soa=False,
                              nsecs=[("x.y.w.example", "xx.example",
                                      "MX RRSIG NSEC")]),
    "nsec-b7-wildcard-nodata": proof("a.z.w.example", AAAA, 0, nsecs=[
        ("x.y.w.example", "xx.example", "MX RRSIG NSEC"),
        ("*.w.example", "x.w.example", "MX RRSIG NSEC")]),
    "nsec3-b1-nxdomain": proof("a.c.x.w.example", MX, 3,
                               n3s=["0p9m", "b4um", "35mt"]),
    "nsec3-b2-nodata": proof("ns1.example", MX, 0, n3s=["2t7b"]),
    "nsec3-b2-1-empty-non-terminal": proof("y.w.example", A, 0,
                                           n3s=["ji6n"]),
    "nsec3-b3-opt-out": proof("c.example", DS, 0, soa=False,
                              n3s=["0p9m", "35mt"]),
    "nsec3-b4-wildcard": proof("a.z.w.example", MX, 0, answer=2, soa=False,
                               n3s=["q04j"]),
    "nsec3-b5-wildcard-nodata": proof("a.z.w.example", AAAA, 0,
                                      n3s=["k8ud", "q04j", "r53b"]),
    "nsec3-iterations-500": proof("a.c.x.w.example", MX, 3, iters=500,
                                  n3s=["0p9m", "b4um", "35mt"]),
}


# ---- DNSSEC signature checks (fuzz_dnssec) ---------------------------------
# [u32 now][u16 type][u8 strip][u8 owner length][owner]
# [u16 length][RRset blob][u16 length][RRSIG blob][DNSKEY blob]
# with blobs of [u16 len][rdata]; the examples of RFC 5702, RFC 6605 and
# RFC 8080 (its Ed25519 RRSIG as corrected by Errata 4935).


def blob(*rdatas):
    return b"".join(struct.pack("!H", len(r)) + r for r in rdatas)


def sig_rd(covered, alg, labels, ttl, exp, inc, tag, signer, sig):
    return struct.pack("!HBBIIIH", covered, alg, labels, ttl, exp, inc,
                       tag) + name(signer) + base64.b64decode(sig)


def dnskey(flags, alg, key):
    return struct.pack("!HBB", flags, 3, alg) + base64.b64decode(key)


def dnssec_input(now, rtype, strip, owner, rrs, sigs, keys):
    o = name(owner)
    rr = blob(*rrs)
    sg = blob(*sigs)
    return (struct.pack("!IHBB", now, rtype, strip, len(o)) + o +
            struct.pack("!H", len(rr)) + rr + struct.pack("!H", len(sg)) +
            sg + blob(*keys))


P256_KEY = ("GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+"
            "e+MAnLr+Wi9xMWyQLc8NAA==")
P256_SIG = ("qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLB"
            "LlUzGGus7ZwmwWep666VCw==")
RSA_KEY = ("AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36Bponcwtk"
           "Z4cAgtvd4Qs8PkxUdp6p/DlUmObdk=")
RSA_SIG = ("kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85m"
           "wlMgNEacFYK/lPtPiVYP4bwg==")
ED_KEY = "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4="
ED_SIG = ("oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M"
          "3e23mRZ9VrbpMngwcrqNAg==")


def p256(now=1282000000, sig=P256_SIG, keys=None, labels=3):
    return dnssec_input(
        now, 1, 1, "www.example.net.", [bytes([192, 0, 2, 1])],
        [sig_rd(1, 13, labels, 3600, 1284026679, 1281607479, 55648,
               "example.net.", sig)],
        keys if keys is not None else [dnskey(257, 13, P256_KEY)])


def flipped(b64):
    raw = bytearray(base64.b64decode(b64))
    raw[5] ^= 0x40
    return base64.b64encode(bytes(raw)).decode()


DNSSEC = {
    "rfc6605-p256": p256(),
    "rfc6605-p256-badsig": p256(sig=flipped(P256_SIG)),
    "rfc6605-p256-expired": p256(now=1290000000),
    "rfc6605-p256-labels": p256(labels=4),
    "rfc6605-p256-nokey": p256(keys=[dnskey(257, 15, ED_KEY)]),
    "rfc6605-p256-many-keys": p256(keys=[dnskey(257, 13, P256_KEY)] * 12),
    "rfc5702-rsasha256": dnssec_input(
        1500000000, 1, 1, "www.example.net.", [bytes([192, 0, 2, 91])],
        [sig_rd(1, 8, 3, 3600, 1893456000, 946684800, 9033, "example.net.",
               RSA_SIG)],
        [dnskey(256, 8, RSA_KEY)]),
    "rfc8080-ed25519-mx": dnssec_input(
        1439000000, 15, 0, "example.com.",
        [struct.pack("!H", 10) + name("mail.example.com.")],
        [sig_rd(15, 15, 2, 3600, 1440021600, 1438207200, 3613,
               "example.com.", ED_SIG)],
        [dnskey(257, 15, ED_KEY)]),
    "no-rrsig": dnssec_input(1282000000, 1, 1, "www.example.net.",
                             [bytes([192, 0, 2, 1])], [],
                             [dnskey(257, 13, P256_KEY)]),
}


def write(out, seeds):
    os.makedirs(out, exist_ok=True)
    for fname, data in sorted(seeds.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "corpus", "query")
    rout = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        here, "corpus", "reply")
    nout = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        here, "corpus", "nsec")
    dout = sys.argv[4] if len(sys.argv) > 4 else os.path.join(
        here, "corpus", "dnssec")
    write(out, SEEDS)
    write(rout, REPLIES)
    write(nout, NSECS)
    write(dout, DNSSEC)


if __name__ == "__main__":
    main()
