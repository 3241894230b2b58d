#!/usr/bin/python3
"""Oracle: dump's options and filters against tcpdump's, on the same files.

1. Output options: -x -xx -X -XX -A -AA and -t -tt -ttt -tttt -ttttt (and
   -e with -X) change what tcpdump prints around its lines. On frames whose
   lines ersatz and tcpdump print alike (the kernel capture in
   tests/data/sample.pcap, and frames made here with scapy: ARP, ICMP with
   payloads of every length from 0 to 70 and text with CR and LF in it,
   802.1Q, a frame cut by the snap length), the whole output must be the
   same, byte for byte.
2. Filters: a table of tcpdump expressions, compiled by libpcap for both,
   must select the same frames from the oracle capture (every protocol,
   damaged frames too) and from the file made here. Selection is compared
   on what `-w` writes, record by record, so it does not depend on how
   either tool prints a frame.
3. A bad expression: exit 1 and one line on stderr, as tcpdump.

4. With --pcap6 (gen_frames6.py's IPv6/TCP/UDP capture) and --only6:
   FILTERS + FILTERS6 selecting the same frames from it.

Usage: compare_dump_options.py --ersatz BIN --pcap ORACLE_PCAP --sample SAMPLE_PCAP
       compare_dump_options.py --ersatz BIN --pcap6 ORACLE6_PCAP --only6
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

OUTPUT_FLAGS = [["-x"], ["-xx"], ["-X"], ["-XX"], ["-A"], ["-AA"], ["-t"], ["-tt"], ["-ttt"],
                ["-tttt"], ["-ttttt"], ["-e", "-X"], ["-tt", "-x"]]

FILTERS = ["icmp", "arp", "ip", "not ip", "vlan", "host 198.18.0.254", "net 10.0.0.0/8",
           "icmp[icmptype] == icmp-echo", "icmp[icmptype] == icmp-echoreply", "ip[8] < 5",
           "len > 100", "less 64", "ether broadcast", "ether multicast", "ip proto 6",
           "udp", "tcp", "ip6", "ip and not icmp", "arp or (icmp and src net 192.168.0.0/16)",
           "ip[6:2] & 0x1fff != 0", "icmp and ip[0] & 0xf > 5", "vlan and icmp",
           "ether src 02:e5:00:00:00:01", "greater 1000"]

# Expressions about IPv6, ICMPv6, TCP and UDP, for the gen_frames6.py capture.
FILTERS6 = ["ip6", "icmp6", "ip6 and tcp", "ip and tcp", "ip6 and udp", "ip and udp",
            "tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0",
            "tcp[tcpflags] == tcp-ack", "icmp6 and ip6[40] == 135", "icmp6 and ip6[40] == 143",
            "ip6 multicast", "ip6 dst net ff02::/16", "src net 2001:db8::/32",
            "ip6 src host ::", "udp portrange 41000-44000", "tcp dst portrange 51000-55000",
            "ip6 and len > 200", "ip6 protochain 6", "ip6 protochain 44", "ip6 proto 0",
            "ip6[6] == 43", "tcp and ip6[6] != 6", "port 53", "ip6 and not icmp6 and not tcp",
            "ether multicast and ip6"]

ENV = dict(os.environ, TZ="UTC")


def make_pcap(path):
    """Frames both tools print alike, with awkward lengths and bytes."""
    from scapy.all import ARP, Dot1Q, Ether, ICMP, IP, Raw, wrpcap  # noqa: E402
    frames = []
    t = 1_700_000_000.0
    mac_a, mac_b = "02:e5:00:00:00:01", "02:e5:00:00:00:fe"
    frames.append(Ether(src=mac_a, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(op=1, hwsrc=mac_a, psrc="198.18.0.1", pdst="198.18.0.254"))
    frames.append(Ether(src=mac_b, dst=mac_a) /
                  ARP(op=2, hwsrc=mac_b, psrc="198.18.0.254", hwdst=mac_a, pdst="198.18.0.1"))
    for n in range(0, 71):
        payload = bytes((i * 7 + n) % 256 for i in range(n))
        frames.append(Ether(src=mac_a, dst=mac_b) / IP(src="198.18.0.1", dst="198.18.0.254") /
                      ICMP(type=8, id=0x1234, seq=n) / Raw(payload))
    text = b"GET / HTTP/1.0\r\nHost: x\r\n\r\nline\rmid\r\r\ntail\r"
    frames.append(Ether(src=mac_b, dst=mac_a) / IP(src="198.18.0.254", dst="198.18.0.1") /
                  ICMP(type=0, id=7, seq=1) / Raw(text))
    frames.append(Ether(src=mac_a, dst=mac_b) / Dot1Q(vlan=100) /
                  IP(src="198.18.0.1", dst="198.18.0.254") / ICMP(type=8, id=9, seq=2) /
                  Raw(b"vlan payload \t tab"))
    frames.append(Ether(src=mac_a, dst=mac_b) / IP(src="10.1.2.3", dst="10.9.8.7", ttl=1) /
                  ICMP(type=8, id=3, seq=3) / Raw(bytes(range(200))))
    for i, f in enumerate(frames):
        f.time = t + i * 0.001234 + (i % 3) * 2.5
    wrpcap(path, frames)
    # A frame cut by a snap length: rewrite the last record with a caplen
    # shorter than its length on the wire.
    with open(path, "r+b") as fh:
        data = bytearray(fh.read())
    off = 24
    last = None
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        last = off
        off += 16 + caplen
    caplen = struct.unpack_from("<I", data, last + 8)[0]
    struct.pack_into("<II", data, last + 8, 60, caplen)
    del data[last + 16 + 60:]
    struct.pack_into("<I", data, 16, 65535)
    with open(path, "wb") as fh:
        fh.write(data)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, env=ENV)


def records(path):
    """The records of a classic pcap file (either byte order): (sec, usec, len, data)."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    out = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack_from(order + "IIII", data, off)
        out.append((sec, frac, length, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def check6(args):
    """The filters on the IPv6 capture. (Its lines, with -e, -tttt and -X,
    are compare_tcpdump.py --all's: byte for byte they differ by ersatz's
    checksum markers.)"""
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        for expr in FILTERS + FILTERS6:
            a = os.path.join(tmp, "a.pcap")
            b = os.path.join(tmp, "b.pcap")
            want = run(["tcpdump", "-r", args.pcap6, "-w", a, expr])
            got = run([args.ersatz, "dump", "-r", args.pcap6, "-w", b] + expr.split())
            name = f"{os.path.basename(args.pcap6)} '{expr}'"
            if want.returncode != 0 or got.returncode != 0:
                fails += 1
                print(f"FAIL {name}: exit tcpdump {want.returncode}, ersatz {got.returncode}")
                continue
            ra, rb = records(a), records(b)
            if ra != rb:
                fails += 1
                print(f"FAIL {name}: tcpdump selects {len(ra)} frames, ersatz {len(rb)}")
            else:
                print(f"ok   {name}: {len(ra)} frames")
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ersatz", required=True)
    ap.add_argument("--pcap")
    ap.add_argument("--sample")
    ap.add_argument("--pcap6")
    ap.add_argument("--only6", action="store_true")
    args = ap.parse_args()
    if args.only6:
        fails = check6(args)
        print(f"compare_dump_options: {fails} failed")
        return 1 if fails else 0
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        made = os.path.join(tmp, "made.pcap")
        make_pcap(made)
        # 1. Output options, byte for byte.
        for pcap in (args.sample, made):
            for flags in OUTPUT_FLAGS:
                want = run(["tcpdump", "-nn", "-r", pcap] + flags)
                got = run([args.ersatz, "dump", "-nn", "-r", pcap] + flags)
                name = f"{os.path.basename(pcap)} {' '.join(flags)}"
                if want.stdout != got.stdout or want.returncode != got.returncode:
                    fails += 1
                    print(f"FAIL {name}: output differs from tcpdump")
                    a = want.stdout.decode(errors="replace").splitlines()
                    b = got.stdout.decode(errors="replace").splitlines()
                    for i, (x, y) in enumerate(zip(a, b)):
                        if x != y:
                            print(f"  line {i + 1}\n  tcpdump: {x!r}\n  ersatz:  {y!r}")
                            break
                    else:
                        print(f"  tcpdump {len(a)} lines, ersatz {len(b)}")
                else:
                    print(f"ok   {name} ({len(want.stdout.splitlines())} lines)")
        # 2. Filters: the same frames selected.
        for pcap in (args.pcap, made):
            for expr in FILTERS:
                a = os.path.join(tmp, "a.pcap")
                b = os.path.join(tmp, "b.pcap")
                want = run(["tcpdump", "-r", pcap, "-w", a, expr])
                got = run([args.ersatz, "dump", "-r", pcap, "-w", b] + expr.split())
                name = f"{os.path.basename(pcap)} '{expr}'"
                if want.returncode != 0 or got.returncode != 0:
                    fails += 1
                    print(f"FAIL {name}: exit tcpdump {want.returncode}, ersatz {got.returncode}: "
                          f"{got.stderr.decode(errors='replace').strip()}")
                    continue
                ra, rb = records(a), records(b)
                if ra != rb:
                    fails += 1
                    print(f"FAIL {name}: tcpdump selects {len(ra)} frames, ersatz {len(rb)}")
                else:
                    print(f"ok   {name}: {len(ra)} frames")
        # 3. A bad expression.
        for expr in (["icmp", "and", "hots", "1"], ["ether", "host", "1:2"], ["("]):
            got = run([args.ersatz, "dump", "-r", made] + expr)
            err = got.stderr.decode(errors="replace").strip().splitlines()
            msgs = [l for l in err if not l.startswith("reading from file")]
            if got.returncode == 1 and len(msgs) == 1 and got.stdout == b"":
                print(f"ok   bad expression {' '.join(expr)!r}: exit 1, '{msgs[0]}'")
            else:
                fails += 1
                print(f"FAIL bad expression {' '.join(expr)!r}: exit {got.returncode}, {err}")
    print(f"compare_dump_options: {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
