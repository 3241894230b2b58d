#!/usr/bin/python3
"""Deterministic generator of varied Ethernet frames for the codec oracle test.

Usage:  gen_frames.py OUT.pcap [--count N] [--seed S] [--labels FILE]

Writes a classic microsecond pcap (DLT_EN10MB) with scapy's wrpcap.  Every run
with the same --count/--seed yields a byte-identical file.  The frames exercise
the layers `ersatz dump` decodes (Ethernet II, 802.1Q / 802.1ad tags, ARP,
IPv4 incl. options and fragments, ICMP incl. quoted datagrams of ICMP errors)
and many ways of getting them wrong (bad checksums, truncation, bogus headers).

--labels FILE writes one line per frame, "<frame number>\t<kind>", naming the
generator branch that produced it; compare_tshark.py --labels shows the kind
next to each mismatch, which makes diffs much easier to read.

Frames are built partly with scapy layers (Ethernet, VLAN tags, ARP, UDP, TCP,
IPv6, the writer) and partly by hand with struct, where scapy would refuse or
"fix" a deliberately broken field (bogus IHL, odd ARP sizes, raw IP options,
ICMP checksums that must be wrong).  This is offline work only: nothing is
ever sent anywhere.
"""

import argparse
import os
import random
import socket
import struct
import sys
from decimal import Decimal

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
import logging  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, IPv6, ICMPv6EchoRequest, Dot1AD, Dot1Q,  # noqa: E402
                       Ether, IP, Raw, TCP, UDP, conf, wrpcap)
from scapy.utils import checksum  # noqa: E402

conf.verb = 0

ETH_MIN = 60          # minimum Ethernet frame without FCS
ETH_MAX = 1514        # keep every frame at most this long

# ICMP types whose body quotes the offending datagram (RFC 792).
ICMP_ERROR_TYPES = (3, 4, 5, 11, 12)

# IP option types Wireshark 4.0 knows.  Unknown ones are generated from
# outside this set (see UNKNOWN_OPT_TYPES).
KNOWN_OPT_TYPES = {0, 1, 7, 11, 12, 25, 68, 82, 130, 131, 133, 134, 136, 137,
                   148, 149}
UNKNOWN_OPT_TYPES = [2, 3, 5, 6, 8, 9, 10, 13, 14, 15, 20, 30, 94, 142, 144,
                     145, 150, 151, 152, 158, 200, 222, 255]

# ICMP types that neither RFC 792/950 nor Wireshark give an identifier to and
# that Wireshark does not dissect deeply (so random bodies don't trip it).
# 42/43 (RFC 8335 extended echo) are left out on purpose: they carry an
# identifier in a layout outside the ersatz contract.
UNKNOWN_ICMP_TYPES = [1, 2, 6, 7, 19, 20, 21, 29, 31, 33, 35, 36, 39, 40, 44,
                      100, 150, 200, 253, 254, 255]

# UDP/TCP ports that no Wireshark dissector claims, so payloads stay "data".
SAFE_PORTS = [40001, 40123, 41234, 42424, 43210, 45555, 47001, 49999, 50123,
              51515, 52525, 54321, 55555, 56565, 58585, 60123, 61616, 63333]

# Unassigned IP protocol numbers (IANA 146-252) plus the experimental ones:
# Wireshark has no dissector for them, so the payload stays plain data.
OTHER_IP_PROTOS = [146, 150, 160, 175, 200, 222, 250, 252, 253, 254]


def ip_aton(s):
    return socket.inet_aton(s)


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    # ------------------------------------------------------------ primitives
    def mac(self):
        r = self.r
        k = r.random()
        if k < 0.05:
            return "ff:ff:ff:ff:ff:ff"
        if k < 0.10:
            return "01:00:5e:%02x:%02x:%02x" % (r.randrange(128), r.randrange(256), r.randrange(256))
        if k < 0.13:
            return "33:33:%02x:%02x:%02x:%02x" % tuple(r.randrange(256) for _ in range(4))
        if k < 0.15:
            return "00:00:00:00:00:00"
        b = [r.randrange(256) for _ in range(6)]
        b[0] &= 0xFE  # unicast
        return ":".join("%02x" % x for x in b)

    def ip(self):
        r = self.r
        k = r.random()
        if k < 0.03:
            return "0.0.0.0"
        if k < 0.06:
            return "255.255.255.255"
        if k < 0.10:
            return "224.0.0.%d" % r.randrange(256)
        if k < 0.40:
            return "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(256))
        if k < 0.60:
            return "192.168.%d.%d" % (r.randrange(256), r.randrange(256))
        return "%d.%d.%d.%d" % (r.randrange(1, 224), r.randrange(256), r.randrange(256), r.randrange(256))

    def rbytes(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def u16(self):
        r = self.r
        k = r.random()
        if k < 0.05:
            return 0
        if k < 0.10:
            return 0xFFFF
        return r.randrange(65536)

    # ------------------------------------------------------------ layer 2
    def l2(self, ethertype):
        """Ethernet header, sometimes with VLAN tags.  Returns (bytes, tagdesc)."""
        r = self.r
        dst, src = self.mac(), self.mac()
        k = r.random()

        def tag():
            return dict(prio=r.randrange(8), id=r.randrange(2), vlan=r.choice([0, 1, 4095, r.randrange(4096), r.randrange(4096)]))
        if k < 0.70:
            p = Ether(dst=dst, src=src, type=ethertype)
            desc = "eth"
        elif k < 0.84:
            p = Ether(dst=dst, src=src, type=0x8100) / Dot1Q(type=ethertype, **tag())
            desc = "q"
        elif k < 0.94:
            p = Ether(dst=dst, src=src, type=0x88A8) / Dot1AD(type=0x8100, **tag()) / Dot1Q(type=ethertype, **tag())
            desc = "ad+q"
        elif k < 0.98:
            p = Ether(dst=dst, src=src, type=0x8100) / Dot1Q(type=0x8100, **tag()) / Dot1Q(type=ethertype, **tag())
            desc = "q+q"
        else:
            # S-tag only (no C-tag): legal for 802.1ad provider bridges.
            p = Ether(dst=dst, src=src, type=0x88A8) / Dot1AD(type=ethertype, **tag())
            desc = "ad"
        return bytes(p), desc

    # ------------------------------------------------------------ IPv4
    def ip_options(self, allow_unknown=True, max_len=40):
        """Return a well-formed options area (multiple of 4 bytes, <= max_len)."""
        r = self.r
        out = b""
        seen = set()
        for _ in range(r.randrange(1, 5)):
            room = max_len - len(out)
            if room <= 0:
                break
            k = r.random()
            if k < 0.25:
                o = b"\x01"                                    # NOP
            elif k < 0.40:
                n = r.randrange(1, 10)                         # RR
                o = bytes([7, 3 + 4 * n, 4 + 4 * r.randrange(n + 1)]) + self.rbytes(4 * n)
            elif k < 0.50:
                flag = r.choice([0, 1, 3])                     # TS
                sz = 4 if flag == 0 else 8
                n = r.randrange(1, 5)
                o = bytes([68, 4 + sz * n, 5 + sz * r.randrange(n + 1), (r.randrange(16) << 4) | flag]) + self.rbytes(sz * n)
            elif k < 0.60:
                n = r.randrange(1, 9)                          # LSRR / SSRR
                o = bytes([r.choice([131, 137]), 3 + 4 * n, 4 + 4 * r.randrange(n + 1)]) + self.rbytes(4 * n)
            elif k < 0.72:
                o = bytes([148, 4]) + struct.pack("!H", r.choice([0, 0, 1, 65535]))   # Router Alert
            elif k < 0.76:
                o = bytes([136, 4]) + struct.pack("!H", self.u16())                  # Stream ID
            elif k < 0.80:
                o = bytes([r.choice([11, 12]), 4]) + struct.pack("!H", self.u16())   # MTU probe/reply
            elif k < 0.85 or not allow_unknown:
                o = b"\x01\x01"
            else:
                L = r.randrange(2, 11)                         # unknown type
                o = bytes([r.choice(UNKNOWN_OPT_TYPES), L]) + self.rbytes(L - 2)
            if len(o) > room:
                continue
            # RFC 791: apart from NOP, an option appears at most once, and a
            # datagram carries at most one source route (LSRR or SSRR)
            if o[0] != 1 and (o[0] in seen or (o[0] in (131, 137) and seen & {131, 137})):
                continue
            seen.add(o[0])
            out += o
        # pad to a multiple of 4: EOL + zeros, NOPs, or EOL followed by junk
        # (bytes after EOL are padding, RFC 791: a decoder must stop at EOL)
        pad = (-len(out)) % 4
        if pad:
            k = r.random()
            if k < 0.5:
                out += b"\x00" * pad
            elif k < 0.8:
                out += b"\x01" * pad
            else:
                out += b"\x00" + bytes([r.choice([1, 7, 0x99])]) * (pad - 1)
        elif r.random() < 0.2 and len(out) + 4 <= max_len:
            out += r.choice([b"\x00\x00\x00\x00", b"\x00\x01\x01\x01", b"\x01\x00\x07\x07"])
        return out

    def ipv4(self, src, dst, proto, payload, opts=b"", ttl=None, tos=None, ident=None,
             df=None, mf=0, frag=0, ihl=None, tlen=None, bad_cksum=False, ver=4, rb=0):
        r = self.r
        if ttl is None:
            ttl = r.choice([1, 2, 32, 63, 64, 64, 128, 255, r.randrange(256)])
        if tos is None:
            tos = r.choice([0, 0, 0, 0x10, 0xB8, r.randrange(256)])
        if ident is None:
            ident = self.u16()
        if df is None:
            df = 1 if r.random() < 0.5 else 0
        if ihl is None:
            ihl = (20 + len(opts)) // 4
        if tlen is None:
            tlen = 20 + len(opts) + len(payload)
        flags = (rb << 2) | (df << 1) | mf
        h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | (ihl & 15), tos, tlen & 0xFFFF, ident,
                        (flags << 13) | frag, ttl, proto, 0, ip_aton(src), ip_aton(dst)) + opts
        c = checksum(h)
        if bad_cksum:
            c ^= r.randrange(1, 65536)
        return h[:10] + struct.pack("!H", c) + h[12:] + payload

    def maybe_opts(self, p=0.2, allow_unknown=True, max_len=40):
        return self.ip_options(allow_unknown, max_len) if self.r.random() < p else b""

    # ------------------------------------------------------------ ICMP
    @staticmethod
    def icmp(t, c, rest, body=b"", bad=None):
        """ICMP message; bad = value xored into a correct checksum."""
        h = struct.pack("!BBH", t, c, 0) + rest + body
        s = checksum(h)
        if bad:
            s ^= bad
        return h[:2] + struct.pack("!H", s) + h[4:]

    def bad_icmp(self):
        return self.r.randrange(1, 65536) if self.r.random() < 0.05 else None

    def payload_len(self, room):
        r = self.r
        k = r.random()
        if k < 0.10:
            n = 0
        elif k < 0.40:
            n = r.randrange(1, 19)          # frame < 60 bytes: Ethernet padding
        elif k < 0.60:
            n = r.choice([32, 48, 56, 64])
        else:
            n = r.randrange(0, room + 1)
        return max(0, min(n, room))

    def quoted_datagram(self):
        """Build the original datagram an ICMP error quotes.

        Returns (quote_bytes, descr).  Usually the IP header (sometimes with
        options, so quoted IHL != outer IHL) + 8 bytes of transport header;
        sometimes more, sometimes too little, sometimes a non-first fragment.
        """
        r = self.r
        src, dst = self.ip(), self.ip()
        qopts = self.maybe_opts(0.25, max_len=r.choice([8, 16, 40]))
        k = r.random()
        if k < 0.55:
            proto = 1
            t = r.choice([8, 8, 0])
            body = self.rbytes(r.choice([0, 8, 32, 56]))
            l4 = self.icmp(t, 0, struct.pack("!HH", self.u16(), self.u16()), body)
        elif k < 0.85:
            proto = 17
            body = self.rbytes(r.choice([0, 4, 12, 40]))
            l4 = bytes(IP(src=src, dst=dst) / UDP(sport=r.choice(SAFE_PORTS), dport=r.choice(SAFE_PORTS)) / body)[20:]
        elif k < 0.95:
            proto = 6
            l4 = bytes(IP(src=src, dst=dst) / TCP(sport=r.choice(SAFE_PORTS), dport=r.choice(SAFE_PORTS),
                                                  seq=r.getrandbits(32), flags="S"))[20:]
        else:
            proto = r.choice(OTHER_IP_PROTOS)
            l4 = self.rbytes(r.choice([8, 16, 30]))
        frag = 0
        mf = 0
        if r.random() < 0.05:
            frag, mf = r.randrange(1, 200), r.randrange(2)
        dgram = self.ipv4(src, dst, proto, l4, opts=qopts, frag=frag, mf=mf,
                          bad_cksum=r.random() < 0.02)
        hl = 20 + len(qopts)
        k = r.random()
        if k < 0.60:
            q = dgram[:hl + 8]                               # RFC 792: header + 64 bits
        elif k < 0.90:
            q = dgram[:hl + 8 + r.randrange(0, 200)]         # RFC 1812: as much as fits
        elif k < 0.95:
            q = dgram[:r.randrange(hl, hl + 8)]              # header + < 8 bytes
        else:
            q = dgram[:r.randrange(0, hl)]                   # not even the header
        return q, "q%d%s" % (proto, "f" if frag else "")

    # ------------------------------------------------------------ builders
    # Each returns (l3 payload bytes, ethertype, kind).  Layer 2, padding and
    # truncation are added by frame().
    def k_arp_std(self):
        r = self.r
        op = r.choice([1, 2])
        smac, sip, tip = self.mac(), self.ip(), self.ip()
        if r.random() < 0.15:
            tip = sip                                       # gratuitous
        tmac = "00:00:00:00:00:00" if op == 1 else self.mac()
        return bytes(ARP(op=op, hwsrc=smac, psrc=sip, hwdst=tmac, pdst=tip)), 0x0806, "arp"

    def k_arp_opcode(self):
        r = self.r
        op = r.choice([0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 24, 25, 0x00FF, 0x0100, 0xFFFF, r.randrange(65536)])
        return bytes(ARP(op=op, hwsrc=self.mac(), psrc=self.ip(), hwdst=self.mac(), pdst=self.ip())), 0x0806, "arp-op"

    def k_arp_odd(self):
        r = self.r
        # hrd 19 (ATM) is avoided: Wireshark switches to the ATMARP layout.
        hrd = r.choice([1, 1, 6, 2, 3, 32, 0, 0x0100, 0xFFFF])
        pro = r.choice([0x0800, 0x0800, 0x86DD, 0x00CC, 0x0806, 0x1234])
        hln = r.choice([6, 6, 0, 7, 8, 16, 20, r.randrange(0, 21)])
        pln = r.choice([4, 4, 16, 0, 6, 1, r.randrange(0, 17)])
        if r.random() < 0.3:
            hrd, hln = 1, 6
        elif r.random() < 0.3:
            pro, pln = 0x0800, 4
        op = r.choice([1, 2, 8, 9, r.randrange(65536)])
        b = struct.pack("!HHBBH", hrd, pro, hln, pln, op)
        b += self.rbytes(hln) + self.rbytes(pln) + self.rbytes(hln) + self.rbytes(pln)
        return b, 0x0806, "arp-odd"

    def k_arp_short(self):
        # ARP whose body ends early (hln/pln claim more than is there)
        b, _, _ = self.k_arp_std()
        return b[:self.r.randrange(0, len(b))], 0x0806, "arp-short"

    def _ip_frame(self, proto, l4, kind, **kw):
        r = self.r
        opts = kw.pop("opts", None)
        if opts is None:
            opts = self.maybe_opts()
        bad = r.random() < 0.04
        return self.ipv4(kw.pop("src", None) or self.ip(), kw.pop("dst", None) or self.ip(), proto, l4,
                         opts=opts, bad_cksum=bad, **kw), 0x0800, kind + ("-opt" if opts else "") + ("-badip" if bad else "")

    def k_echo(self):
        r = self.r
        t = r.choice([8, 0])
        code = 0 if r.random() < 0.95 else r.randrange(1, 256)
        n = self.payload_len(1400)
        body = self.rbytes(n) if r.random() < 0.5 else bytes((i & 0xFF) for i in range(n))
        bad = self.bad_icmp()
        m = self.icmp(t, code, struct.pack("!HH", self.u16(), self.u16()), body, bad)
        return self._ip_frame(1, m, "echo" + ("-badicmp" if bad else ""))

    def k_timestamp(self):
        r = self.r
        t = r.choice([13, 14])
        bad = self.bad_icmp()
        m = self.icmp(t, 0, struct.pack("!HH", self.u16(), self.u16()),
                      struct.pack("!III", r.getrandbits(32), r.getrandbits(32), r.getrandbits(32)), bad)
        return self._ip_frame(1, m, "timestamp" + ("-badicmp" if bad else ""))

    def k_info(self):
        r = self.r
        t = r.choice([15, 16, 17, 18])
        body = ip_aton(r.choice(["255.255.255.0", "255.255.0.0", "0.0.0.0"])) if t in (17, 18) else b""
        bad = self.bad_icmp()
        m = self.icmp(t, 0, struct.pack("!HH", self.u16(), self.u16()), body, bad)
        return self._ip_frame(1, m, "info%d" % t)

    def k_error(self, t=None):
        r = self.r
        if t is None:
            t = r.choice([3, 3, 3, 3, 11, 11, 12, 5, 4])
        q, qd = self.quoted_datagram()
        if t == 3:
            code = r.randrange(16) if r.random() < 0.97 else r.randrange(16, 256)
            if r.random() < 0.2:
                code = 4                                 # fragmentation needed

            if code == 4:
                rest = struct.pack("!HH", 0, r.choice([0, 68, 576, 1280, 1400, 1492, 1500, self.u16()]))
            else:
                # "unused" word, sometimes not zero -- but byte 5 stays 0: RFC
                # 4884 made it the length of the original datagram
                rest = b"\0\0\0\0" if r.random() < 0.8 else bytes([r.randrange(256), 0, r.randrange(256), r.randrange(256)])
        elif t == 11:
            code = r.choice([0, 1, 0, 1, 2])
            rest = b"\0\0\0\0"
        elif t == 12:
            code = r.choice([0, 1, 2])
            rest = bytes([r.randrange(len(q) + 1) & 0xFF, 0, 0, 0])
        elif t == 5:
            code = r.randrange(4)
            rest = ip_aton(self.ip())
        else:  # 4 source quench
            code = 0
            rest = b"\0\0\0\0"
        bad = self.bad_icmp()
        m = self.icmp(t, code, rest, q, bad)
        return self._ip_frame(1, m, "err%d.%d-%s" % (t, code, qd) + ("-badicmp" if bad else ""),
                              opts=self.maybe_opts(0.2, allow_unknown=False))

    def k_rfc4884(self):
        """ICMP error with the RFC 4884 length field and an extension structure."""
        r = self.r
        t = r.choice([3, 11, 12])
        q, qd = self.quoted_datagram()
        words = r.choice([32, 32, 34, 36])
        orig = (q + b"\0" * (words * 4))[:words * 4]
        objs = b""
        for _ in range(r.randrange(1, 3)):
            labels = b"".join(struct.pack("!I", (r.randrange(1 << 20) << 12) | (r.randrange(8) << 9) | r.randrange(256))
                              for _ in range(r.randrange(1, 3)))
            labels = labels[:-4] + struct.pack("!I", struct.unpack("!I", labels[-4:])[0] | 0x100)  # S bit
            objs += struct.pack("!HBB", 4 + len(labels), 1, 1) + labels
        ext = struct.pack("!BBH", 0x20, 0, 0) + objs
        ext = ext[:2] + struct.pack("!H", checksum(ext)) + ext[4:]
        if t == 3:
            code = r.choice([0, 1, 3, 4])
            rest = struct.pack("!BBH", 0, words, 1280 if code == 4 else 0)
        elif t == 11:
            code = 0
            rest = struct.pack("!BBH", 0, words, 0)
        else:
            code = 0
            rest = struct.pack("!BBH", r.randrange(20), words, 0)
        bad = self.bad_icmp()
        m = self.icmp(t, code, rest, orig + ext, bad)
        return self._ip_frame(1, m, "rfc4884-%d.%d-%s" % (t, code, qd), opts=b"")

    def k_icmp_unknown(self):
        r = self.r
        t = r.choice(UNKNOWN_ICMP_TYPES)
        bad = self.bad_icmp()
        m = self.icmp(t, r.randrange(256), self.rbytes(4), self.rbytes(r.randrange(0, 33)), bad)
        return self._ip_frame(1, m, "icmp-unk%d" % t)

    def k_router(self):
        # router advertisement/solicitation, well-formed so Wireshark's deep
        # dissection doesn't complain
        r = self.r
        if r.random() < 0.5:
            n = r.randrange(0, 3)
            m = self.icmp(9, 0, struct.pack("!BBH", n, 2, 1800),
                          b"".join(ip_aton(self.ip()) + struct.pack("!i", 0) for _ in range(n)))
            return self._ip_frame(1, m, "routeradv")
        return self._ip_frame(1, self.icmp(10, 0, b"\0\0\0\0"), "routersol")

    def k_icmp_tiny(self):
        # ICMP message shorter than its 8-byte header (IP total length says so)
        m = self.icmp(8, 0, struct.pack("!HH", self.u16(), self.u16()))
        return self._ip_frame(1, m[:self.r.randrange(0, 8)], "icmp-tiny")

    def k_fragment(self):
        r = self.r
        k = r.random()
        ident = self.u16()
        proto = 1 if r.random() < 0.8 else r.choice([17, 6, 200])
        if k < 0.4:
            # first fragment of an ICMP (or other) datagram: offset 0, MF set
            if proto == 1:
                n = self.payload_len(1000)
                inner = self.icmp(r.choice([8, 0]), 0, struct.pack("!HH", self.u16(), self.u16()), self.rbytes(n + 16))
                data = inner[:8 + (n // 8) * 8]
            else:
                data = self.rbytes(8 * r.randrange(1, 60))
            return self._ip_frame(proto, data, "frag-first", ident=ident, mf=1, frag=0, df=0)
        elif k < 0.8:
            data = self.rbytes(8 * r.randrange(0, 120))
            return self._ip_frame(proto, data, "frag-mid", ident=ident, mf=1, frag=r.randrange(1, 8192), df=0)
        data = self.rbytes(r.randrange(0, 700))
        return self._ip_frame(proto, data, "frag-last", ident=ident, mf=0, frag=r.randrange(1, 8192), df=0)

    def k_other_ip(self):
        r = self.r
        k = r.random()
        src, dst = self.ip(), self.ip()
        if k < 0.4:
            l4 = bytes(IP(src=src, dst=dst) / UDP(sport=r.choice(SAFE_PORTS), dport=r.choice(SAFE_PORTS))
                       / self.rbytes(self.payload_len(1000)))[20:]
            return self._ip_frame(17, l4, "udp", src=src, dst=dst)
        if k < 0.7:
            l4 = bytes(IP(src=src, dst=dst) / TCP(sport=r.choice(SAFE_PORTS), dport=r.choice(SAFE_PORTS),
                                                  seq=r.getrandbits(32), ack=r.getrandbits(32),
                                                  flags=r.choice(["S", "SA", "A", "PA", "FA", "R"]))
                       / self.rbytes(self.payload_len(1000)))[20:]
            return self._ip_frame(6, l4, "tcp", src=src, dst=dst)
        return self._ip_frame(r.choice(OTHER_IP_PROTOS), self.rbytes(self.payload_len(600)), "ipproto")

    def k_bogus_ip(self):
        r = self.r
        m = self.icmp(8, 0, struct.pack("!HH", self.u16(), self.u16()), self.rbytes(r.randrange(0, 40)))
        k = r.random()
        if k < 0.3:
            return self.ipv4(self.ip(), self.ip(), 1, m, ihl=r.randrange(0, 5)), 0x0800, "bogus-ihl"
        if k < 0.55:
            # version 6 is avoided: Wireshark hands such a packet to its IPv6 dissector.
            return self.ipv4(self.ip(), self.ip(), 1, m, ver=r.choice([0, 1, 2, 3, 5, 7, 15])), 0x0800, "bogus-ver"
        if k < 0.8:
            return self.ipv4(self.ip(), self.ip(), 1, m, tlen=r.randrange(0, 20)), 0x0800, "bogus-totlen"
        # header length (IHL) larger than the total length
        opts = self.ip_options(allow_unknown=False)
        b = self.ipv4(self.ip(), self.ip(), 1, m, opts=opts, tlen=r.randrange(20, 20 + len(opts)))
        return b, 0x0800, "bogus-ihl>len"

    def k_bad_optlen(self):
        # an option whose length byte is < 2 or runs past the options area
        r = self.r
        good = b"\x01" * r.randrange(0, 3)
        badopt = bytes([r.choice([7, 68, 131, 148, 0x99]), r.choice([0, 1, 30, 39, 255])])
        opts = good + badopt
        opts += b"\x00" * ((-len(opts)) % 4)
        m = self.icmp(8, 0, struct.pack("!HH", self.u16(), self.u16()), self.rbytes(r.randrange(0, 40)))
        return self.ipv4(self.ip(), self.ip(), 1, m, opts=opts), 0x0800, "bad-optlen"

    def k_non_ip(self):
        r = self.r
        k = r.random()
        if k < 0.35:
            p = IPv6(src="fe80::%x" % r.randrange(65536), dst="ff02::1", hlim=r.choice([1, 64, 255])) / \
                ICMPv6EchoRequest(id=self.u16(), seq=self.u16(), data=self.rbytes(r.randrange(0, 64)))
            return bytes(p), 0x86DD, "ipv6"
        if k < 0.5:
            p = IPv6(src="2001:db8::%x" % r.randrange(65536), dst="2001:db8::1") / \
                UDP(sport=r.choice(SAFE_PORTS), dport=r.choice(SAFE_PORTS)) / self.rbytes(r.randrange(0, 64))
            return bytes(p), 0x86DD, "ipv6-udp"
        if k < 0.75:
            # LLDPDU: chassis id (MAC), port id (ifname), TTL, end
            tlv = lambda t, v: struct.pack("!H", (t << 9) | len(v)) + v  # noqa: E731
            body = (tlv(1, b"\x04" + self.rbytes(6)) + tlv(2, b"\x05" + b"eth%d" % r.randrange(48))
                    + tlv(3, struct.pack("!H", r.choice([0, 120, 65535]))) + tlv(0, b""))
            return body, 0x88CC, "lldp"
        return self.rbytes(r.randrange(10, 200)), r.choice([0x88B5, 0x88B6]), "ethertype-exp"

    KINDS = [  # (weight, builder)
        (6, "k_arp_std"), (3, "k_arp_opcode"), (3, "k_arp_odd"), (1, "k_arp_short"),
        (16, "k_echo"), (3, "k_timestamp"), (1.5, "k_info"),
        (24, "k_error"), (3, "k_rfc4884"), (2, "k_icmp_unknown"), (1, "k_router"), (1, "k_icmp_tiny"),
        (8, "k_fragment"), (7, "k_other_ip"), (2, "k_bogus_ip"), (1, "k_bad_optlen"), (4, "k_non_ip"),
    ]

    def frame(self):
        r = self.r
        total = sum(w for w, _ in self.KINDS)
        x = r.random() * total
        for w, name in self.KINDS:
            x -= w
            if x < 0:
                break
        l3, ethertype, kind = getattr(self, name)()
        hdr, tags = self.l2(ethertype)
        room = ETH_MAX - len(hdr)
        if len(l3) > room:
            l3 = l3[:room]          # never happens with the sizes above; stay safe
        f = hdr + l3
        if tags != "eth":
            kind += "@" + tags
        wirelen = None
        # trailing bytes beyond the L3 packet: zero padding up to 60 bytes
        # (sometimes non-zero junk), or a trailer after a longer frame
        if len(f) < ETH_MIN and r.random() < 0.9:
            f += (b"\0" if r.random() < 0.8 else bytes([r.randrange(1, 256)])) * (ETH_MIN - len(f))
        elif len(f) < ETH_MAX - 24 and r.random() < 0.03:
            f += self.rbytes(r.randrange(1, 24))
            kind += "+trailer"
        # truncation: either a short snapshot (caplen < wire length) or a
        # frame that really is shorter than its headers claim
        k = r.random()
        if k < 0.04:
            wirelen = len(f)
            f = f[:r.randrange(1, len(f))]
            kind += "+snap"
        elif k < 0.07:
            f = f[:r.randrange(1, len(f))]
            kind += "+cut"
        return f, wirelen, kind


def timestamps(r, n):
    t = Decimal("1700000000.000000")
    for i in range(n):
        k = r.random()
        if i < 3:
            yield [Decimal("0.000000"), Decimal("1.999999"), Decimal("4294967295.999999")][i]
            continue
        t += Decimal(r.randrange(0, 2_000_000)) / Decimal(1_000_000)
        yield t if k > 0.001 else t.to_integral_value()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="pcap file to write")
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--labels", help="also write '<frame>\\t<kind>' lines here")
    a = ap.parse_args(argv)
    g = Gen(a.seed)
    pkts, kinds = [], []
    for ts in timestamps(random.Random(a.seed + 1), a.count):
        f, wirelen, kind = g.frame()
        p = Raw(f)
        p.time = ts
        if wirelen is not None:
            p.wirelen = wirelen
        pkts.append(p)
        kinds.append(kind)
    wrpcap(a.out, pkts, linktype=1)
    if a.labels:
        with open(a.labels, "w") as fh:
            for i, k in enumerate(kinds, 1):
                fh.write("%d\t%s\n" % (i, k))
    print("wrote %d frames to %s" % (len(pkts), a.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
