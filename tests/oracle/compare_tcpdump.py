#!/usr/bin/python3
"""Oracle: `ersatz dump -r` must print what `tcpdump -nn -r` prints.

Runs both on the same pcap (with and without -e) and compares frame by
frame. Out of scope, and skipped by class: frames whose payload tcpdump
decodes further than ersatz does (TCP, UDP, IPv6, LLDP). ersatz's own
checksum markers ("[bad ip cksum ...]", which tcpdump prints only with -v)
are stripped before comparing.

With --all (the IPv6/TCP/UDP capture of gen_frames6.py) nothing is out of
scope: every frame is compared, continuation lines included, with each set
of flags given by --flags (comma-separated tcpdump flags per set, e.g.
--flags=,-e,-tttt,-X). With -v, frames with IPv4 options or ICMP (over
IPv4) are skipped: ersatz's -v does not print those yet.

Usage: compare_tcpdump.py --ersatz BIN --pcap FILE [--min-frames N]
                          [--all] [--flags SETS]
"""
import argparse
import os
import re
import subprocess
import sys

MARKER = re.compile(r" \[bad (ip|icmp|icmp6|tcp|udp) cksum [0-9a-f]+ \(->[0-9a-f]+\)\]")
# Lines whose transport layer tcpdump decodes and ersatz (by design, for
# now) does not.
OUT_OF_SCOPE = re.compile(r"IP6|ICMP6|\[\|ip6\]|: Flags \[|UDP, length|LLDP|ethertype IPv6|"
                          r"\d+\.\d+\.\d+\.\d+\.\d+ > \d+\.\d+\.\d+\.\d+\.\d+:|ip-proto-(6|17) |"
                          r"\[\|(tcp|udp)\]")


def frames(cmd, keep_continuations=False):
    env = dict(os.environ, TZ="UTC")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, errors="replace")
    if out.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed: {out.stderr.strip()}")
    lines = []
    for line in out.stdout.splitlines():
        # tcpdump adds indented hex dumps after what it cannot decode;
        # ersatz prints one line per frame.
        if not line.startswith((" ", "\t")) or not lines:
            lines.append(line)
        elif keep_continuations:
            lines[-1] += "\n" + line
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ersatz", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--min-frames", type=int, default=1000)
    ap.add_argument("--all", action="store_true", help="compare every frame")
    ap.add_argument("--flags", default=",-e", help="flag sets, comma-separated")
    args = ap.parse_args()
    failures = 0
    for flags in ([f] if f else [] for f in args.flags.split(",")):
        ours = frames([args.ersatz, "dump", *flags, "-r", args.pcap], args.all)
        theirs = frames(["tcpdump", "-nn", *flags, "-r", args.pcap], args.all)
        if len(ours) != len(theirs):
            print(f"frame count differs with flags {flags}: ersatz {len(ours)}, tcpdump {len(theirs)}")
            failures += 1
            continue
        compared = skipped = 0
        for n, (a, b) in enumerate(zip(ours, theirs), 1):
            if not args.all and OUT_OF_SCOPE.search(b):
                skipped += 1
                continue
            if "-v" in flags and ("proto ICMP (1)" in b or ", options (" in b):
                # -v: IPv4 options and ICMP's verbose quote are not printed
                # yet; everything else is.
                skipped += 1
                continue
            compared += 1
            # libpcap reads the seconds as signed 32 bits and tcpdump cannot
            # print a time before 1970; the file format says unsigned
            # (draft-ietf-opsawg-pcap §5), which ersatz follows.
            if b.startswith("[Error converting time] "):
                b = b[len("[Error converting time] "):]
                a = a.split(" ", 1)[1] if " " in a else a
            if MARKER.sub("", a) != b:
                failures += 1
                if failures <= 20:
                    print(f"frame {n} {' '.join(flags)}:\n  tcpdump: {b}\n  ersatz:  {a}")
        print(f"flags {flags or '(none)'}: {compared} frames compared, {skipped} out of scope")
        if compared < args.min_frames:
            print(f"too few frames compared ({compared} < {args.min_frames})")
            failures += 1
    print(f"compare_tcpdump: {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
