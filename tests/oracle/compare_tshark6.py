#!/usr/bin/python3
"""Codec oracle for IPv6, ICMPv6, TCP and UDP: `ersatz dump -r FILE --json`
against tshark, field by field (the sibling of compare_tshark.py, for the
capture gen_frames6.py writes).

Usage: compare_tshark6.py --ersatz BIN --pcap FILE [--min-frames N] [--max-diffs N]

tshark runs once with -T fields over CONTRACT's keys; ersatz once with --json.
For every frame, each key either side has is compared:
  - a key ersatz writes must equal tshark's first occurrence of it (or all
    of its occurrences, when ersatz writes a list);
  - a key tshark has and ersatz lacks is a mismatch, unless the frame is
    damaged (either side says so: ersatz's `malformed`, tshark's
    _ws.malformed or _ws.short) or an EXCEPTION below names it.
The packet an ICMPv6 error quotes is a second ipv6 layer to tshark; its
ipv6.* occurrences are compared with ersatz's icmpv6.quoted.ipv6.*, and the
transport headers tshark dissects inside the quote (which ersatz does not)
are left out. Exceptions are counted and printed.

Exit status 0 when nothing differs and at least --min-frames frames were
compared; 1 otherwise; 2 when a tool could not run.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

# key -> kind: i(nt), b(ool), s(tring), st(atus)
CONTRACT = {
    "ipv6.version": "i", "ipv6.tclass": "i", "ipv6.flow": "i", "ipv6.plen": "i", "ipv6.nxt": "i",
    "ipv6.hlim": "i", "ipv6.src": "s", "ipv6.dst": "s",
    "ipv6.hopopts.nxt": "i", "ipv6.dstopts.nxt": "i", "ipv6.routing.nxt": "i",
    "ipv6.routing.type": "i", "ipv6.routing.segleft": "i",
    "ipv6.fraghdr.nxt": "i", "ipv6.fraghdr.offset": "i", "ipv6.fraghdr.more": "b",
    "ipv6.fraghdr.ident": "i",
    "icmpv6.type": "i", "icmpv6.code": "i", "icmpv6.checksum.status": "st",
    "icmpv6.echo.identifier": "i", "icmpv6.echo.sequence_number": "i", "icmpv6.mtu": "i",
    "icmpv6.pointer": "i", "icmpv6.nd.ns.target_address": "s",
    "icmpv6.nd.na.target_address": "s", "icmpv6.nd.na.flag.r": "b", "icmpv6.nd.na.flag.s": "b",
    "icmpv6.nd.na.flag.o": "b", "icmpv6.nd.ra.cur_hop_limit": "i", "icmpv6.nd.ra.flag.m": "b",
    "icmpv6.nd.ra.flag.o": "b", "icmpv6.nd.ra.router_lifetime": "i",
    "icmpv6.nd.ra.reachable_time": "i", "icmpv6.nd.ra.retrans_timer": "i",
    "icmpv6.nd.rd.target_address": "s", "icmpv6.rd.na.destination_address": "s",
    "icmpv6.opt.type": "i", "icmpv6.opt.linkaddr": "s", "icmpv6.opt.prefix": "s",
    "icmpv6.opt.prefix.length": "i", "icmpv6.opt.mtu": "i",
    "icmpv6.mld.maximum_response_delay": "i", "icmpv6.mld.maximum_response_code": "i",
    "icmpv6.mld.multicast_address": "s", "icmpv6.mld.nb_sources": "i",
    "icmpv6.mldr.nb_mcast_records": "i", "icmpv6.mldr.mar.record_type": "i",
    "icmpv6.mldr.mar.nb_sources": "i", "icmpv6.mldr.mar.multicast_address": "s",
    "tcp.srcport": "i", "tcp.dstport": "i", "tcp.seq_raw": "i", "tcp.ack_raw": "i",
    "tcp.hdr_len": "i", "tcp.flags": "i", "tcp.window_size_value": "i", "tcp.urgent_pointer": "i",
    "tcp.checksum.status": "st", "tcp.option_kind": "i", "tcp.options.mss_val": "i",
    "tcp.options.wscale.shift": "i", "tcp.options.timestamp.tsval": "i",
    "tcp.options.timestamp.tsecr": "i", "tcp.options.sack_le": "i", "tcp.options.sack_re": "i",
    "udp.srcport": "i", "udp.dstport": "i", "udp.length": "i", "udp.checksum.status": "st",
}
QUOTED = {"icmpv6.quoted.ipv6.src": ("ipv6.src", "s"), "icmpv6.quoted.ipv6.dst": ("ipv6.dst", "s"),
          "icmpv6.quoted.ipv6.nxt": ("ipv6.nxt", "i"), "icmpv6.quoted.ipv6.plen": ("ipv6.plen", "i"),
          "icmpv6.quoted.ipv6.hlim": ("ipv6.hlim", "i")}
EXTRA = ["frame.number", "eth.type", "ip.proto", "_ws.malformed", "_ws.short", "_ws.expert.message"]
FIELDS = EXTRA + list(CONTRACT)
PREFS = ["ipv6.defragment:FALSE", "ip.defragment:FALSE", "tcp.check_checksum:TRUE",
         "udp.check_checksum:TRUE", "tcp.relative_sequence_numbers:FALSE",
         "tcp.analyze_sequence_numbers:FALSE", "tcp.desegment_tcp_streams:FALSE",
         "ip.tso_support:FALSE"]
FREE_TEXT = {"_ws.malformed", "_ws.short", "_ws.expert.message"}


def run_tshark(pcap):
    cmd = ["tshark", "-n", "-r", pcap]
    for p in PREFS:
        cmd += ["-o", p]
    cmd += ["-T", "fields", "-E", "header=n", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=,", "-E", "quote=n"]
    for f in FIELDS:
        cmd += ["-e", f]
    cfg = tempfile.mkdtemp(prefix="oracle6-wsconf-")
    try:
        p = subprocess.run(cmd, capture_output=True, env=dict(os.environ, WIRESHARK_CONFIG_DIR=cfg),
                           timeout=300)
    except FileNotFoundError:
        sys.exit(2)
    finally:
        os.rmdir(cfg)
    if p.returncode != 0:
        print(p.stderr.decode(errors="replace")[-2000:])
        sys.exit(2)
    rows = []
    for line in p.stdout.decode(errors="replace").split("\n"):
        if not line:
            continue
        cols = line.split("\t")
        rows.append({k: (v if k in FREE_TEXT else (v.split(",") if v else []))
                     for k, v in zip(FIELDS, cols)})
    return rows


def conv(kind, v):
    v = v.strip()
    if kind == "i":
        return int(v, 16) if v.lower().startswith("0x") else int(v)
    if kind == "b":
        return v.lower() in ("1", "true")
    if kind == "st":
        return {"0": "bad", "1": "good"}.get(v)
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ersatz", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--min-frames", type=int, default=1000)
    ap.add_argument("--max-diffs", type=int, default=25)
    args = ap.parse_args()
    rows = run_tshark(args.pcap)
    out = subprocess.run([args.ersatz, "dump", "--json", "-r", args.pcap], capture_output=True,
                         text=True)
    ours = [json.loads(l) for l in out.stdout.splitlines() if l]
    if len(ours) != len(rows):
        print(f"frame counts differ: ersatz {len(ours)}, tshark {len(rows)}")
        return 1
    stats = collections.Counter()
    per_key = collections.Counter()
    diffs = []
    compared = fields = 0
    for n, (e, t) in enumerate(zip(ours, rows), 1):
        damaged = bool(e.get("malformed") or t["_ws.malformed"] or t["_ws.short"])
        if t["eth.type"] and conv("i", t["eth.type"][-1]) != 0x86DD and not t["ip.proto"]:
            continue
        compared += 1
        # Damage as each side sees it, reported (not failed on): tshark's
        # _ws.malformed covers things ersatz reads on (a bad option) and
        # misses things ersatz flags (a short quote).
        if e.get("malformed") and not (t["_ws.malformed"] or t["_ws.short"]):
            stats["damage: ersatz only (" + e["malformed"] + ")"] += 1
        elif (t["_ws.malformed"] or t["_ws.short"]) and not e.get("malformed"):
            stats["damage: tshark only"] += 1
        elif e.get("malformed"):
            stats["damage: both"] += 1
        icmp_type = conv("i", t["icmpv6.type"][0]) if t["icmpv6.type"] else None
        icmp_error = icmp_type is not None and icmp_type < 128
        # A redirect's option carries a packet too, which tshark dissects.
        carries_packet = icmp_error or icmp_type == 137
        expect = {}
        for key, kind in CONTRACT.items():
            vals = t[key]
            if not vals:
                continue
            if carries_packet and key.split(".")[0] in ("tcp", "udp"):
                stats["quoted transport left out (tshark dissects the quote)"] += 1
                continue
            if key.startswith("ipv6.") and key in ("ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.plen",
                                                   "ipv6.hlim", "ipv6.version", "ipv6.tclass",
                                                   "ipv6.flow"):
                vals = vals[:1]
            if icmp_error and key.startswith("icmpv6."):
                # The quoted ICMPv6 message (an echo request) is tshark's
                # second occurrence.
                vals = vals[:1]
            if icmp_error and key.startswith("ipv6.") and not key.startswith(("ipv6.src", "ipv6.dst")):
                # Extension headers inside the quote.
                pass
            try:
                cv = [conv(kind, v) for v in vals]
            except ValueError:
                stats[f"unparsable tshark value for {key}"] += 1
                continue
            if kind == "st":
                if cv[0] is None:
                    stats[f"{key}: tshark unverified"] += 1
                    continue
                cv = cv[:1]
            expect[key] = cv
        if icmp_error:
            for key, (tkey, kind) in QUOTED.items():
                if len(t[tkey]) > 1:
                    expect[key] = [conv(kind, t[tkey][1])]
        for key, want in expect.items():
            fields += 1
            if key not in e:
                if damaged:
                    stats["one-sided key in a damaged frame"] += 1
                    continue
                if icmp_error and key.startswith(("ipv6.hopopts", "ipv6.dstopts", "ipv6.routing",
                                                  "ipv6.fraghdr", "icmpv6.echo", "icmpv6.opt")):
                    # EXCEPTION: extension headers and ICMPv6 inside the
                    # quote are tshark's; ersatz describes only the quote's
                    # fixed header.
                    stats["quoted extension/ICMPv6 keys left out"] += 1
                    continue
                diffs.append((n, key, None, want))
                per_key[key] += 1
                continue
            got = e[key]
            got = got if isinstance(got, list) else [got]
            if icmp_error and len(want) > len(got) and want[:len(got)] == got:
                stats["quoted occurrences beyond ersatz's (the quote's own)"] += 1
                continue
            if got != want and damaged and (got[:len(want)] == want or want[:len(got)] == got):
                # EXCEPTION: in a damaged frame one side read more of a
                # repeated field than the other (tshark shows a record cut
                # short; ersatz reads past a header tshark stopped at).
                stats["damaged frame: one list a prefix of the other"] += 1
                continue
            if got != want:
                diffs.append((n, key, got, want))
                per_key[key] += 1
        for key in e:
            if (key in CONTRACT or key in QUOTED) and key not in expect:
                if damaged:
                    stats["one-sided key in a damaged frame"] += 1
                    continue
                st = key.endswith("checksum.status")
                if st:
                    stats[f"{key} one-sided (tshark unverified)"] += 1
                    continue
                diffs.append((n, key, e[key], None))
                per_key[key] += 1
    for n, key, got, want in diffs[:args.max_diffs]:
        print(f"  frame {n} {key}: ersatz={got} tshark={want}")
    if per_key:
        print("Mismatches per key:")
        for k, c in per_key.most_common():
            print(f"  {k:40} {c}")
    print("Exceptions and skips (counts):")
    for k, c in sorted(stats.items()):
        print(f"  {c:6}  {k}")
    bad_frames = len({d[0] for d in diffs})
    print(f"oracle6: compared {compared} frames, {fields} fields, {len(diffs)} mismatches in "
          f"{bad_frames} frames")
    if compared < args.min_frames:
        print(f"too few frames ({compared} < {args.min_frames})")
        return 1
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
