#!/usr/bin/python3
"""Deterministic capture of mixed traffic for the decode benchmark.

Usage:  make_mixed_pcap.py OUT.pcap [--frames N] [--seed S]

What a busy dual-stack host records: TCP over IPv4 and IPv6 (bulk transfers
of 1448-byte segments, their ACKs with SACK blocks sometimes, handshakes with
the usual options), UDP over both versions, and ICMPv6 (neighbor solicitation
and advertisement, echo, MLDv2 reports behind a hop-by-hop header). Shares:
TCP/IPv4 40 %, TCP/IPv6 25 %, UDP/IPv4 15 %, UDP/IPv6 10 %, ICMPv6 10 %.
Ports are ones tcpdump prints no application protocol for, so its text is
only IP, TCP and UDP, like ersatz's. Every checksum is correct.

Scapy builds a pool of 4096 distinct frames; the records cycle through the
pool with strictly increasing timestamps, so N frames take a second or two.
Same --frames/--seed, byte-identical file. Offline only.
"""

import argparse
import os
import random
import struct

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
import logging  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (  # noqa: E402
    ICMPv6EchoRequest, ICMPv6MLDMultAddrRec, ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IP, IPv6, IPv6ExtHdrHopByHop, Ether, RouterAlert,
    TCP, UDP, conf, raw)

conf.verb = 0
EPOCH = 1795867200  # 2026-11-28 12:00:00 UTC
POOL = 4096


def frame(r):
    mac_a, mac_b = "02:00:5e:10:00:0a", "02:00:5e:10:00:01"
    eth = Ether(src=mac_a, dst=mac_b) if r.random() < 0.5 else Ether(src=mac_b, dst=mac_a)
    v4 = (IP(src="198.18.0.10", dst="198.18.%d.%d" % (r.randint(1, 9), r.randint(1, 254)),
             id=r.randint(0, 65535), flags="DF"))
    v6 = IPv6(src="2001:db8::10", dst="2001:db8:%x::%x" % (r.randint(1, 9), r.randint(1, 0xffff)),
              hlim=64)
    sp, dp = r.randint(41000, 48999), r.randint(51000, 59999)
    kind = r.random()
    if kind < 0.65:
        ip = v4 if kind < 0.40 else v6
        sub = r.random()
        if sub < 0.02:
            t = TCP(sport=sp, dport=dp, seq=r.getrandbits(32), flags="S", window=64240,
                    options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (r.getrandbits(32), 0)),
                             ("NOP", None), ("WScale", 7)])
            return eth / ip / t
        seq, ack = r.getrandbits(32), r.getrandbits(32)
        ts = [("NOP", None), ("NOP", None), ("Timestamp", (r.getrandbits(32), r.getrandbits(32)))]
        if sub < 0.55:
            return eth / ip / TCP(sport=sp, dport=dp, seq=seq, ack=ack, flags="A", window=501,
                                  options=ts) / bytes(r.getrandbits(8) for _ in range(1448 if ip is v4 else 1428))
        if sub < 0.62:
            le = ack + r.randint(1000, 100000)
            return eth / ip / TCP(sport=dp, dport=sp, seq=seq, ack=ack, flags="A", window=501,
                                  options=ts + [("NOP", None), ("NOP", None), ("SAck", (le, le + 1448))])
        if sub < 0.70:
            return eth / ip / TCP(sport=sp, dport=dp, seq=seq, ack=ack, flags="PA", window=501,
                                  options=ts) / bytes(r.getrandbits(8) for _ in range(r.randint(1, 600)))
        return eth / ip / TCP(sport=dp, dport=sp, seq=seq, ack=ack, flags="A", window=501, options=ts)
    if kind < 0.90:
        ip = v4 if kind < 0.80 else v6
        return eth / ip / UDP(sport=sp, dport=dp) / bytes(r.getrandbits(8) for _ in range(r.randint(20, 1200)))
    sub = r.random()
    ll = "fe80::%x" % r.randint(1, 0xffff)
    if sub < 0.4:
        return eth / IPv6(src=ll, dst="ff02::1:ff00:%x" % r.randint(1, 0xffff), hlim=255) / \
            ICMPv6ND_NS(tgt="fe80::%x" % r.randint(1, 0xffff)) / ICMPv6NDOptSrcLLAddr(lladdr=mac_a)
    if sub < 0.7:
        return eth / IPv6(src=ll, dst=ll, hlim=255) / ICMPv6ND_NA(tgt=ll, S=1, O=1) / \
            ICMPv6NDOptDstLLAddr(lladdr=mac_b)
    if sub < 0.9:
        return eth / v6 / ICMPv6EchoRequest(id=r.randint(0, 65535), seq=r.randint(0, 65535),
                                            data=bytes(56))
    return eth / IPv6(src=ll, dst="ff02::16", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / \
        ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst="ff02::1:ff00:%x" % r.randint(1, 0xffff))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=300000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    r = random.Random(args.seed)
    pool = [raw(frame(r)) for _ in range(POOL)]
    usec = 0
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n in range(args.frames):
            data = pool[n % POOL]
            usec += r.randint(5, 40)
            out.write(struct.pack("<IIII", EPOCH + usec // 1_000_000, usec % 1_000_000, len(data), len(data)))
            out.write(data)


if __name__ == "__main__":
    main()
