#!/usr/bin/python3
"""Oracle frames for IPv6, ICMPv6 (errors, NDP, MLD), TCP and UDP over both IP
versions: thousands of scapy-made frames, seeded, with damaged ones mixed in.

Usage: gen_frames6.py OUT.pcap [--count N] [--seed S]

What is in it (each frame picks one at random):
  - ICMPv6 echo, every error type quoting IPv6 with UDP/TCP/ICMPv6 (and
    extension headers), packet too big, time exceeded, parameter problem;
  - NDP: RS, RA (flags, prefix, MTU, RDNSS options), NS, NA (flags), redirect
    with the redirected-header option;
  - MLDv1 query/report/done, MLDv2 query (sources) and report (records);
  - IPv6 with every extension header: hop-by-hop (router alert, PadN),
    destination options (twice), routing type 0, fragments (first, later);
  - TCP over IPv4 and IPv6: conversations (SYN, SYN-ACK, data, SACK, FIN, RST)
    so relative numbers matter, every common option, odd and bad options;
  - UDP over IPv4 and IPv6;
  - damage: snap-length cuts, bad checksums, bad data offsets, ND options
    of length 0, payload lengths past the frame, wrong versions.
Ports are drawn from ranges tcpdump decodes no application protocol on.
"""
import argparse
import random

from scapy.all import (  # noqa: E402
    ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6MLDMultAddrRec, ICMPv6MLDone,
    ICMPv6MLQuery, ICMPv6MLQuery2, ICMPv6MLReport, ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS,
    ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6ND_Redirect, ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo, ICMPv6NDOptRDNSS, ICMPv6NDOptRedirectedHdr, ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded, IP, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN, Ether, Raw, RouterAlert, TCP,
    UDP, raw, wrpcap)
from scapy.utils import PcapWriter  # noqa: E402


def ports(r):
    return r.randint(41000, 48999), r.randint(51000, 59999)


def addr6(r, scope="global"):
    if scope == "ll":
        return "fe80::%x:%x" % (r.randint(1, 0xffff), r.randint(0, 0xffff))
    kind = r.random()
    if kind < 0.1:
        return "2001:db8::%x" % r.randint(0, 0xff)
    if kind < 0.2:
        return "2001:db8:0:%x::%x:0:%x" % (r.randint(0, 3), r.randint(1, 9), r.randint(0, 9))
    return "2001:db8:%x:%x::%x" % (r.randint(0, 0xffff), r.randint(0, 0xffff), r.randint(1, 0xffff))


def addr4(r):
    return "198.18.%d.%d" % (r.randint(0, 255), r.randint(1, 254))


def mac(r):
    return "02:%02x:%02x:%02x:%02x:%02x" % tuple(r.randint(0, 255) for _ in range(5))


def payload(r, n=None):
    n = r.randint(0, 64) if n is None else n
    return bytes(r.randint(0, 255) for _ in range(n))


def ext_chain(r):
    """0 to 3 extension headers, in an order RFC 8200 §4.1 allows."""
    chain = []
    if r.random() < 0.4:
        opts = [RouterAlert()] if r.random() < 0.5 else [PadN(optdata=b"\0" * r.choice([0, 2, 4]))]
        chain.append(IPv6ExtHdrHopByHop(options=opts))
    if r.random() < 0.3:
        chain.append(IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * r.choice([0, 4]))]))
    if r.random() < 0.3:
        n = r.randint(1, 3)
        chain.append(IPv6ExtHdrRouting(addresses=[addr6(r) for _ in range(n)],
                                       segleft=r.randint(0, n)))
    if r.random() < 0.2:
        chain.append(IPv6ExtHdrDestOpt())
    return chain


def stack(layers):
    p = layers[0]
    for l in layers[1:]:
        p = p / l
    return p


def quoted(r, src, dst):
    inner = [IPv6(src=dst, dst=src, hlim=r.randint(1, 64))]
    if r.random() < 0.3:
        inner += ext_chain(r)
    kind = r.random()
    sp, dp = ports(r)
    if kind < 0.5:
        inner.append(UDP(sport=sp, dport=dp) / payload(r, r.randint(0, 20)))
    elif kind < 0.8:
        inner.append(TCP(sport=sp, dport=dp, seq=r.getrandbits(32), flags="S"))
    else:
        inner.append(ICMPv6EchoRequest(id=r.randint(0, 65535), seq=r.randint(0, 65535)))
    return stack(inner)


def icmp6_frame(r, eth):
    src, dst = addr6(r), addr6(r)
    ll = addr6(r, "ll")
    kind = r.randrange(16)
    if kind == 0:
        m = (ICMPv6EchoRequest if r.random() < 0.5 else ICMPv6EchoReply)(
            id=r.randint(0, 65535), seq=r.randint(0, 65535), data=payload(r))
        return eth / IPv6(src=src, dst=dst) / m
    if kind == 1:
        return eth / IPv6(src=src, dst=dst) / ICMPv6DestUnreach(code=r.randint(0, 4)) / quoted(r, src, dst)
    if kind == 2:
        return eth / IPv6(src=src, dst=dst) / ICMPv6PacketTooBig(mtu=r.choice([1280, 1400, 1500, 9000])) / quoted(r, src, dst)
    if kind == 3:
        return eth / IPv6(src=src, dst=dst) / ICMPv6TimeExceeded(code=r.randint(0, 1)) / quoted(r, src, dst)
    if kind == 4:
        return eth / IPv6(src=src, dst=dst) / ICMPv6ParamProblem(code=r.randint(0, 3), ptr=r.randint(0, 80)) / quoted(r, src, dst)
    if kind == 5:
        m = ICMPv6ND_RS()
        if r.random() < 0.7:
            m = m / ICMPv6NDOptSrcLLAddr(lladdr=mac(r))
        return eth / IPv6(src=ll, dst="ff02::2", hlim=255) / m
    if kind == 6:
        m = ICMPv6ND_RA(chlim=r.choice([0, 64, 255]), M=r.randint(0, 1), O=r.randint(0, 1),
                        prf=r.choice([0, 1, 3]), routerlifetime=r.choice([0, 1800, 9000]),
                        reachabletime=r.choice([0, 30000]), retranstimer=r.choice([0, 1000]))
        if r.random() < 0.8:
            m = m / ICMPv6NDOptSrcLLAddr(lladdr=mac(r))
        if r.random() < 0.7:
            m = m / ICMPv6NDOptPrefixInfo(prefix="2001:db8:%x::" % r.randint(0, 0xffff), prefixlen=64)
        if r.random() < 0.5:
            m = m / ICMPv6NDOptMTU(mtu=r.choice([1280, 1500]))
        if r.random() < 0.3:
            m = m / ICMPv6NDOptRDNSS(dns=[addr6(r)])
        return eth / IPv6(src=ll, dst="ff02::1", hlim=255) / m
    if kind == 7:
        m = ICMPv6ND_NS(tgt=addr6(r, r.choice(["ll", "global"])))
        s = ll if r.random() < 0.7 else "::"  # DAD comes from ::
        if s != "::" and r.random() < 0.8:
            m = m / ICMPv6NDOptSrcLLAddr(lladdr=mac(r))
        return eth / IPv6(src=s, dst="ff02::1:ff%02x:%x" % (r.randint(0, 255), r.randint(0, 0xffff)), hlim=255) / m
    if kind == 8:
        m = ICMPv6ND_NA(tgt=addr6(r, "ll"), R=r.randint(0, 1), S=r.randint(0, 1), O=r.randint(0, 1))
        if r.random() < 0.7:
            m = m / ICMPv6NDOptDstLLAddr(lladdr=mac(r))
        return eth / IPv6(src=ll, dst=r.choice(["ff02::1", addr6(r, "ll")]), hlim=255) / m
    if kind == 9:
        m = ICMPv6ND_Redirect(tgt=addr6(r, "ll"), dst=addr6(r))
        if r.random() < 0.5:
            m = m / ICMPv6NDOptDstLLAddr(lladdr=mac(r))
        if r.random() < 0.6:
            m = m / ICMPv6NDOptRedirectedHdr(pkt=raw(IPv6(src=src, dst=dst) / UDP(sport=ports(r)[0])))
        return eth / IPv6(src=ll, dst=addr6(r, "ll"), hlim=255) / m
    if kind == 10:
        return eth / IPv6(src=ll, dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / \
            ICMPv6MLQuery(mladdr=r.choice(["::", "ff02::fb"]), mrd=r.choice([1000, 10000]))
    if kind == 11:
        return eth / IPv6(src=ll, dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / \
            ICMPv6MLQuery2(mladdr=r.choice(["::", "ff02::fb"]), sources=[addr6(r) for _ in range(r.randint(0, 2))])
    if kind == 12:
        g = "ff02::1:ff%02x:%x" % (r.randint(0, 255), r.randint(0, 0xffff))
        m = (ICMPv6MLReport if r.random() < 0.5 else ICMPv6MLDone)(mladdr=g)
        return eth / IPv6(src=ll, dst=g, hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / m
    if kind == 13:
        recs = [ICMPv6MLDMultAddrRec(rtype=r.randint(1, 6), dst="ff02::1:ff%02x:%x" % (r.randint(0, 255), r.randint(0, 0xffff)),
                                     sources=[addr6(r) for _ in range(r.randint(0, 2))]) for _ in range(r.randint(0, 3))]
        return eth / IPv6(src=r.choice([ll, "::"]), dst="ff02::16", hlim=1) / \
            IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport2(records=recs)
    if kind == 14:
        # Echo behind extension headers.
        return eth / stack([IPv6(src=src, dst=dst)] + ext_chain(r) +
                           [ICMPv6EchoRequest(id=r.randint(0, 65535), seq=r.randint(0, 9), data=payload(r))])
    # Fragments: the first (with the ICMPv6 header) or a later one.
    ident = r.getrandbits(32)
    if r.random() < 0.5:
        return eth / IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=ident, m=1, offset=0, nh=58) / \
            ICMPv6EchoRequest(id=r.randint(0, 65535), seq=1, data=payload(r, r.randint(8, 64)))
    return eth / IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=ident, m=r.randint(0, 1), offset=r.randint(1, 200), nh=r.choice([58, 6, 17])) / \
        Raw(payload(r, r.randint(8, 64)))


TCP_OPTIONS = [
    [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None), ("WScale", 7)],
    [("MSS", 1440), ("NOP", None), ("WScale", 2), ("SAckOK", b"")],
    [("NOP", None), ("NOP", None), ("Timestamp", (99, 77))],
    [("MSS", 536)],
    [("NOP", None), ("EOL", None)],
    [(28, b"\x00\x10")],  # user timeout
    [(34, b"")],          # TFO cookie request
    [(253, b"\xab\xcd")],  # experimental
    [],
]


class TcpConversation:
    """Both sides of one connection, so tcpdump's relative numbers apply."""

    def __init__(self, r, v6):
        self.r = r
        self.v6 = v6
        self.a, self.b = (addr6(r), addr6(r)) if v6 else (addr4(r), addr4(r))
        self.pa, self.pb = ports(r)
        if r.random() < 0.2:
            self.pa, self.pb = self.pb, self.pa
        self.sa, self.sb = r.getrandbits(32), r.getrandbits(32)
        self.step = 0

    def ip(self, fwd):
        s, d = (self.a, self.b) if fwd else (self.b, self.a)
        if self.v6 and self.r.random() < 0.15:
            # Extension headers before TCP: ports printed alone, and a
            # routing header's final destination in the checksum.
            return stack([IPv6(src=s, dst=d)] + ext_chain(self.r))
        return IPv6(src=s, dst=d) if self.v6 else IP(src=s, dst=d, id=self.r.randint(0, 65535))

    def next(self, eth):
        r = self.r
        st = self.step
        self.step += 1
        if st == 0:
            return eth / self.ip(True) / TCP(sport=self.pa, dport=self.pb, seq=self.sa, flags="S",
                                             window=64240, options=r.choice(TCP_OPTIONS))
        if st == 1:
            return eth / self.ip(False) / TCP(sport=self.pb, dport=self.pa, seq=self.sb,
                                              ack=self.sa + 1, flags="SA", window=65160,
                                              options=r.choice(TCP_OPTIONS))
        fwd = r.random() < 0.5
        s, d = (self.pa, self.pb) if fwd else (self.pb, self.pa)
        seq = (self.sa if fwd else self.sb) + r.randint(1, 5000)
        ack = (self.sb if fwd else self.sa) + r.randint(1, 5000)
        kind = r.random()
        if kind < 0.15:
            le = ack + r.randint(100, 1000)
            opts = [("NOP", None), ("NOP", None), ("SAck", (le, le + r.randint(1, 1400)))]
            return eth / self.ip(fwd) / TCP(sport=s, dport=d, seq=seq, ack=ack, flags="A", options=opts)
        if kind < 0.25:
            return eth / self.ip(fwd) / TCP(sport=s, dport=d, seq=seq, ack=ack, flags=r.choice(["FA", "R", "RA"]))
        if kind < 0.3:
            return eth / self.ip(fwd) / TCP(sport=s, dport=d, seq=seq, ack=ack, flags="UA", urgptr=r.randint(1, 9)) / payload(r, 4)
        flags = r.choice(["A", "PA", "PA", "A", "EA", "CA"])
        return eth / self.ip(fwd) / TCP(sport=s, dport=d, seq=seq, ack=ack, flags=flags,
                                        window=r.randint(0, 65535), options=r.choice(TCP_OPTIONS[2:])) / payload(r)


def udp_frame(r, eth):
    sp, dp = ports(r)
    if r.random() < 0.5:
        ip = IP(src=addr4(r), dst=addr4(r), id=r.randint(0, 65535))
    else:
        ip = stack([IPv6(src=addr6(r), dst=addr6(r))] + (ext_chain(r) if r.random() < 0.3 else []))
    return eth / ip / UDP(sport=sp, dport=dp) / payload(r)


def damage(r, f):
    """Returns the frame's bytes, damaged one way or another."""
    b = bytearray(raw(f))
    kind = r.randrange(8)
    if kind == 0 and len(b) > 14:
        return bytes(b[:r.randint(14, len(b) - 1)]), None          # snap-length cut
    if kind == 1 and len(b) > 60:
        b[-r.randint(1, 8)] ^= 0xff                                    # bad upper checksum
        return bytes(b), None
    if kind == 2 and len(b) > 19:
        b[18] = (b[18] + r.randint(1, 200)) & 0xff                    # payload length off
        return bytes(b), None
    if kind == 3 and len(b) > 14:
        b[14] = (b[14] & 0x0f) | (r.choice([4, 5, 7]) << 4)           # wrong version
        return bytes(b), None
    if kind == 4 and len(b) > 60:
        b[r.randint(54, len(b) - 1)] = 0                              # a zero somewhere (ND option lengths...)
        return bytes(b), None
    if kind == 5 and len(b) > 66:
        b[54 + 12] = r.choice([0x00, 0x30, 0x40, 0xf0]) | (b[66] & 0x0f)  # TCP data offset over IPv6
        return bytes(b), None
    if kind == 6 and len(b) > 20:
        b[20] = r.choice([0, 43, 44, 60])                             # next header changed
        return bytes(b), None
    return bytes(b), len(b) + r.randint(1, 100)                       # captured short of wire


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    r = random.Random(args.seed)
    w = PcapWriter(args.out, linktype=1, sync=False)
    w._write_header(None)
    t = 1_700_000_000
    convs = []
    for n in range(args.count):
        eth = Ether(src=mac(r), dst=mac(r))
        kind = r.random()
        if kind < 0.45:
            f = icmp6_frame(r, eth)
            eth.type = 0x86DD
        elif kind < 0.80:
            if not convs or r.random() < 0.1:
                convs.append(TcpConversation(r, r.random() < 0.5))
            f = r.choice(convs[-4:]).next(eth)
        else:
            f = udp_frame(r, eth)
        data, wire = raw(f), None
        if r.random() < 0.08:
            data, wire = damage(r, f)
        t += r.randint(1, 3000) / 1e4
        sec, usec = int(t), int((t - int(t)) * 1e6)
        w._write_packet(data, sec=sec, usec=usec, caplen=len(data), wirelen=wire or len(data))
    w.close()


if __name__ == "__main__":
    main()
