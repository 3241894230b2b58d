#!/usr/bin/python3
"""Deterministic ping-flood capture for the decode benchmark.

Usage:  make_flood_pcap.py OUT.pcap [--frames N] [--seed S]

Writes a classic microsecond pcap (DLT_EN10MB) of what `tcpdump -w` sees on a
host of a quiet LAN while `ping -f` runs against a neighbour:

  * ICMP echo request / echo reply pairs, 98-byte frames (IPv4 total length
    84: a 56-byte payload as iputils ping sends it, a struct timeval of the
    send time followed by the bytes 0x10..0x37), with an incrementing
    sequence number per pinger.  Three pingers run at once (two processes on
    one host, one on another), so there are a few ICMP identifiers and
    interleaved flows.  Requests carry DF, like Linux ping; each host's IP
    id increments.
  * An ARP request / reply pair every few thousand frames (the neighbour
    cache being revalidated), broadcast request, unicast reply, the reply
    padded to the 60-byte Ethernet minimum.
  * Strictly increasing timestamps: a request every ~100 us per pinger
    (ping -f paces on replies), replies ~40-90 us later.

Every checksum is correct.  Addresses are in 198.18.0.0/15 (RFC 2544's
benchmarking range) and MACs are locally administered.

Scapy builds one template frame of each kind; the sequence numbers, IP ids,
payload timestamps and checksums are then patched with struct and the pcap
records are written directly, so 300 000 frames take a few seconds rather
than scapy's minutes.  Same --frames/--seed, byte-identical file.  Offline
only: nothing is ever sent.
"""

import argparse
import os
import random
import struct
import sys

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
import logging  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, Ether, Raw, conf  # noqa: E402

conf.verb = 0

# 2026-11-28 12:00:00 UTC
EPOCH = 1795867200

# Hosts on the LAN.  (mac, ip)
HOST_A = ("02:00:5e:10:00:0a", "198.18.0.10")   # runs two pingers
HOST_C = ("02:00:5e:10:00:0c", "198.19.4.23")   # runs one pinger
TARGET = ("02:00:5e:10:00:01", "198.18.0.1")    # answers
BROADCAST = "ff:ff:ff:ff:ff:ff"

# (pinger host, ICMP identifier) -- ping uses its pid
PINGERS = [(HOST_A, 0x3a41), (HOST_A, 0x3a5c), (HOST_C, 0x0f12)]

ARP_EVERY = 4000  # frames between ARP revalidations

PAYLOAD_TAIL = bytes(range(0x10, 0x38))  # iputils fills after the timeval


def ones_sum(data):
    """Folded one's-complement sum of big-endian 16-bit words."""
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def cksum(data):
    return (~ones_sum(data)) & 0xFFFF


def echo_template(src, dst, ident, request):
    """Ether+IP+ICMP echo frame built by scapy; the fields we patch later."""
    payload = bytes(16) + PAYLOAD_TAIL
    ip = IP(src=src[1], dst=dst[1], ttl=64, id=0,
            flags="DF" if request else 0)
    icmp = ICMP(type=8 if request else 0, code=0, id=ident, seq=0)
    frame = bytes(Ether(src=src[0], dst=dst[0]) / ip / icmp / Raw(payload))
    assert len(frame) == 98, len(frame)
    return bytearray(frame)


def arp_frames():
    """Request (42 bytes, as captured on the sender) and padded reply."""
    req = bytes(Ether(src=HOST_A[0], dst=BROADCAST) /
                ARP(op=1, hwsrc=HOST_A[0], psrc=HOST_A[1],
                    hwdst="00:00:00:00:00:00", pdst=TARGET[1]))
    rep = bytes(Ether(src=TARGET[0], dst=HOST_A[0]) /
                ARP(op=2, hwsrc=TARGET[0], psrc=TARGET[1],
                    hwdst=HOST_A[0], pdst=HOST_A[1]))
    rep = rep + bytes(max(0, 60 - len(rep)))
    return req, rep


# Offsets inside the 98-byte echo frame.
IP_OFF = 14
IP_ID = IP_OFF + 4
IP_CSUM = IP_OFF + 10
ICMP_OFF = IP_OFF + 20
ICMP_CSUM = ICMP_OFF + 2
ICMP_SEQ = ICMP_OFF + 6
TV_OFF = ICMP_OFF + 8


def patch_echo(tmpl, ip_id, seq, tv_sec, tv_usec):
    f = bytearray(tmpl)
    struct.pack_into("!H", f, IP_ID, ip_id)
    struct.pack_into("!H", f, IP_CSUM, 0)
    struct.pack_into("!H", f, IP_CSUM, cksum(bytes(f[IP_OFF:ICMP_OFF])))
    struct.pack_into("!H", f, ICMP_SEQ, seq)
    # struct timeval, host order of an x86-64 sender
    struct.pack_into("<qq", f, TV_OFF, tv_sec, tv_usec)
    struct.pack_into("!H", f, ICMP_CSUM, 0)
    struct.pack_into("!H", f, ICMP_CSUM, cksum(bytes(f[ICMP_OFF:])))
    return bytes(f)


def generate(path, nframes, seed):
    rng = random.Random(seed)
    req_t = [echo_template(h, TARGET, i, True) for h, i in PINGERS]
    rep_t = [echo_template(TARGET, h, i, False) for h, i in PINGERS]
    arp_req, arp_rep = arp_frames()

    # Per-pinger state: next seq, next send time (us since EPOCH).
    seqs = [1] * len(PINGERS)
    next_send = [rng.randint(0, 300) for _ in PINGERS]
    ip_id = {HOST_A[1]: 0x4c21, HOST_C[1]: 0x9d07, TARGET[1]: 0x1e30}
    pending = []  # (time_us, kind, data) events not yet written, kept sorted

    out = bytearray()
    out += struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    written = 0
    last_t = -1
    since_arp = 0

    def emit(t, data):
        nonlocal written, last_t
        if t <= last_t:  # strictly increasing timestamps
            t = last_t + 1
        last_t = t
        out.extend(struct.pack("<IIII", EPOCH + t // 1000000, t % 1000000,
                               len(data), len(data)))
        out.extend(data)
        written += 1

    while written < nframes:
        # The next request of whichever pinger is due first.
        k = min(range(len(PINGERS)), key=lambda i: next_send[i])
        t = next_send[k]
        # Flush replies that arrive before this request.
        while pending and pending[0][0] <= t and written < nframes:
            emit(*pending.pop(0))
        if written >= nframes:
            break
        if since_arp >= ARP_EVERY and written + 2 <= nframes:
            emit(t, arp_req)
            emit(t + rng.randint(30, 60), arp_rep)
            t = last_t + rng.randint(5, 20)
            since_arp = 0
        host = PINGERS[k][0][1]
        seq = seqs[k] & 0xFFFF
        sec, usec = EPOCH + t // 1000000, t % 1000000
        emit(t, patch_echo(req_t[k], ip_id[host], seq, sec, usec))
        ip_id[host] = (ip_id[host] + 1) & 0xFFFF
        # The reply echoes the payload, timeval included.
        rt = last_t + rng.randint(40, 90)
        pending.append((rt, patch_echo(rep_t[k], ip_id[TARGET[1]], seq, sec, usec)))
        ip_id[TARGET[1]] = (ip_id[TARGET[1]] + 1) & 0xFFFF
        pending.sort(key=lambda e: e[0])
        seqs[k] += 1
        since_arp += 1
        # ping -f sends the next one when the reply is in (or 10 ms pass).
        next_send[k] = rt + rng.randint(5, 40)
    while pending and written < nframes:
        emit(*pending.pop(0))

    with open(path, "wb") as fh:
        fh.write(out)
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=300000)
    ap.add_argument("--seed", type=int, default=20261128)
    args = ap.parse_args()
    if args.frames < 1:
        ap.error("--frames must be positive")
    n = generate(args.out, args.frames, args.seed)
    print(f"{args.out}: {n} frames", file=sys.stderr)


if __name__ == "__main__":
    main()
