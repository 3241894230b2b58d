#!/usr/bin/python3
"""Codec oracle: check `ersatz dump -r FILE --json` against tshark, field by field.

Usage:
  compare_tshark.py --ersatz build/dev/ersatz --pcap FILE [--generate]
                    [--labels FILE] [--max-diffs N] [--min-frames N]

tshark is run once with `-T fields` over the pcap, ersatz once with
`dump -r FILE --json` (JSON Lines, one object per frame, keys named after
Wireshark display-filter fields; see the CONTRACT list below).  tshark's output
is turned into the ersatz key set (mapping notes next to each key in
tshark_expected()), then the two are compared frame by frame.

Exit status: 0 when every compared field agrees and at least --min-frames
frames were compared; 1 on any mismatch or too few frames; 2 when a tool could
not be run.  The last line is "oracle: N passed, M failed" (frames).

--generate first (re)writes --pcap with gen_frames.py (default seed/count,
or --count/--seed), so one command runs the whole test.

Exceptions (places where tshark's output is not taken at face value) are all
in tshark_expected() / compare_frame() and tagged "EXCEPTION:"; each one is
counted, and the counts are printed so that nothing is skipped silently.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------- contract
# Keys of the ersatz JSON contract and the layer each belongs to.  The layer
# order drives how damaged frames are compared (see compare_frame()).
L_FRAME, L_ETH, L_VLAN, L_NET, L_ICMP, L_QUOTED, L_BEYOND = range(7)
CONTRACT = {
    "frame.number": L_FRAME, "frame.time_epoch": L_FRAME, "frame.len": L_FRAME,
    "eth.src": L_ETH, "eth.dst": L_ETH,
    "eth.type": L_VLAN, "vlan.id": L_VLAN, "vlan.priority": L_VLAN,
    "arp.opcode": L_NET, "arp.src.hw_mac": L_NET, "arp.src.proto_ipv4": L_NET,
    "arp.dst.hw_mac": L_NET, "arp.dst.proto_ipv4": L_NET,
    "ip.version": L_NET, "ip.hdr_len": L_NET, "ip.len": L_NET, "ip.id": L_NET,
    "ip.flags.df": L_NET, "ip.flags.mf": L_NET, "ip.frag_offset": L_NET, "ip.ttl": L_NET,
    "ip.proto": L_NET, "ip.checksum.status": L_NET, "ip.src": L_NET, "ip.dst": L_NET,
    "ip.opt.type": L_NET,
    "icmp.type": L_ICMP, "icmp.code": L_ICMP, "icmp.checksum.status": L_ICMP,
    "icmp.ident": L_ICMP, "icmp.seq": L_ICMP, "icmp.mtu": L_ICMP, "icmp.redir_gw": L_ICMP,
    "icmp.quoted.ip.src": L_QUOTED, "icmp.quoted.ip.dst": L_QUOTED,
    "icmp.quoted.ip.proto": L_QUOTED, "icmp.quoted.ip.id": L_QUOTED,
    "icmp.quoted.icmp.type": L_QUOTED, "icmp.quoted.icmp.ident": L_QUOTED,
    "icmp.quoted.icmp.seq": L_QUOTED,
    "malformed": None,
}
QUOTED_ICMP_KEYS = ("icmp.quoted.icmp.type", "icmp.quoted.icmp.ident", "icmp.quoted.icmp.seq")
INT_KEYS = {"frame.number", "frame.len", "eth.type", "arp.opcode", "ip.version", "ip.hdr_len",
            "ip.len", "ip.id", "ip.frag_offset", "ip.ttl", "ip.proto", "icmp.type", "icmp.code",
            "icmp.ident", "icmp.seq", "icmp.mtu", "icmp.quoted.ip.proto", "icmp.quoted.ip.id",
            "icmp.quoted.icmp.type", "icmp.quoted.icmp.ident", "icmp.quoted.icmp.seq"}
BOOL_KEYS = {"ip.flags.df", "ip.flags.mf"}
INT_OR_LIST_KEYS = {"vlan.id", "vlan.priority"}
STR_KEYS = {"eth.src", "eth.dst", "arp.src.hw_mac", "arp.dst.hw_mac", "arp.src.proto_ipv4",
            "arp.dst.proto_ipv4", "ip.src", "ip.dst", "icmp.redir_gw", "icmp.quoted.ip.src",
            "icmp.quoted.ip.dst", "ip.checksum.status", "icmp.checksum.status", "malformed"}

ICMP_ERROR_TYPES = {3, 4, 5, 11, 12}
# ICMP types whose 2nd header word is identifier + sequence number
# (echo, timestamp, information, address mask: RFC 792 / RFC 950).
ICMP_IDENT_TYPES = {0, 8, 13, 14, 15, 16, 17, 18}
# IPv4 option types Wireshark 4.0 dissects (determined empirically by feeding
# it every type 0..255).  It shows any other type only as a text item
# ("Unknown (0x99) ..."), never as ip.opt.type.
TSHARK_KNOWN_OPTS = {0, 1, 7, 11, 12, 25, 68, 82, 130, 131, 133, 134, 136, 137, 148, 149}

# Ethertypes of the protocols that can follow an 802.1ad S-tag in our frames
# (see the S-tag exception in tshark_expected()).
PROTO_ETHERTYPE = {"ip": 0x0800, "arp": 0x0806, "ipv6": 0x86DD, "lldp": 0x88CC,
                   "vlan": 0x8100, "ieee8021ad": 0x88A8}

TSHARK_FIELDS = [
    "frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.protocols",
    "eth.src", "eth.dst", "eth.type", "vlan.etype", "vlan.id", "vlan.priority",
    "ieee8021ad.id", "ieee8021ad.priority",
    "arp.hw.type", "arp.hw.size", "arp.proto.type", "arp.proto.size",
    "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4",
    "ip.version", "ip.hdr_len", "ip.len", "ip.id", "ip.flags.df", "ip.flags.mf", "ip.frag_offset",
    "ip.ttl", "ip.proto", "ip.checksum.status", "ip.src", "ip.dst", "ip.cur_rt", "ip.opt.type", "ip.opt.len",
    "icmp.type", "icmp.code", "icmp.checksum.status", "icmp.ident", "icmp.seq", "icmp.mtu",
    "icmp.redir_gw",
    "_ws.malformed", "_ws.short", "_ws.expert.message",
]

TSHARK_PREFS = [
    "ip.check_checksum:TRUE",   # verify IPv4 header checksums (off by default)
    "ip.defragment:FALSE",      # decode each fragment on its own, like ersatz
    "ip.tso_support:FALSE",     # ip.len 0 is a bogus length, not "TSO, use frame length"
    "tcp.analyze_sequence_numbers:FALSE",   # speed; tcp is not compared
]

# tshark expert messages (IPv4 layer) that mean the IP header itself is unusable.
IP_HEADER_ERRORS = ("Bogus IP header length", "Bogus IP length", "Bogus IPv4 version")
IP_EXCEEDS = "IPv4 total length exceeds packet length"
# tshark warnings about an IP option whose length byte is < 2 or past the end.
OPTLEN_WARNINGS = ("says option goes past end of options", "with too-short option length")


class ToolError(Exception):
    pass


# ----------------------------------------------------------------- tshark
def run_tshark(pcap, tshark="tshark"):
    cmd = [tshark, "-n", "-r", pcap]
    for p in TSHARK_PREFS:
        cmd += ["-o", p]
    cmd += ["-T", "fields", "-E", "header=n", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=,", "-E", "quote=n"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    env = dict(os.environ)
    # Isolate from any personal Wireshark profile so the prefs above are the
    # whole story.
    cfg = tempfile.mkdtemp(prefix="oracle-wsconf-")
    env["WIRESHARK_CONFIG_DIR"] = cfg
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    except FileNotFoundError:
        raise ToolError("tshark not found (apt-get install tshark)")
    finally:
        os.rmdir(cfg)
    if p.returncode != 0:
        raise ToolError("tshark failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    rows = []
    for line in p.stdout.decode("utf-8", errors="replace").split("\n"):
        if not line:
            continue
        cols = line.split("\t")
        if len(cols) != len(TSHARK_FIELDS):
            raise ToolError("unexpected tshark line (%d columns): %r" % (len(cols), line[:200]))
        row = {}
        for name, val in zip(TSHARK_FIELDS, cols):
            if name in ("frame.protocols", "_ws.expert.message", "_ws.malformed", "_ws.short"):
                row[name] = val            # free text: keep whole (may contain commas)
            else:
                row[name] = val.split(",") if val != "" else []
        rows.append(row)
    return rows


def tint(s):
    s = s.strip()
    return int(s, 16) if s.lower().startswith("0x") else int(s, 10)


def tbool(s):
    s = s.strip().lower()
    if s in ("1", "true"):
        return True
    if s in ("0", "false"):
        return False
    raise ValueError("not a boolean: %r" % s)


def tstatus(s):
    # Wireshark checksum status: 0 bad, 1 good, 2 unverified, 3 not present
    return {"0": "bad", "1": "good"}.get(s.strip(), None)


def layer_of_proto(protos, idx):
    """Which ersatz layer does protocol protos[idx] of frame.protocols belong to?"""
    if "icmp" in protos[:idx]:
        return L_QUOTED
    name = protos[idx]
    while name == "ethertype" and idx > 0:    # "ethertype" is a pseudo-protocol
        idx -= 1
        name = protos[idx]
    return {"eth": L_ETH, "vlan": L_VLAN, "ieee8021ad": L_VLAN, "arp": L_NET, "ip": L_NET,
            "icmp": L_ICMP}.get(name, L_BEYOND)


# Protocol names in "[Malformed Packet: X]" / "[Packet size limited during
# capture: X truncated]".  "Ethertype" is the Ethernet padding/trailer, cut
# by the snapshot length after the last header: no ersatz layer is damaged.
TEXT_LAYER = {"Ethernet": L_ETH, "VLAN": L_VLAN, "IEEE 802.1AD": L_VLAN, "ARP/RARP": L_NET,
              "IPv4": L_NET, "ICMP": L_ICMP, "Ethertype": L_BEYOND}


def damaged_layer(text, protos):
    """Layer where tshark hit the end of the data or a malformation."""
    m = re.search(r"(?:Malformed Packet: |during capture: )(.+?)(?: truncated)?\]", text)
    if not m:
        # an expert item of the malformed group without an exception:
        # blame the last protocol dissected
        return layer_of_proto(protos, len(protos) - 1) if protos else L_ETH
    layer = TEXT_LAYER.get(m.group(1), L_BEYOND)
    if layer in (L_NET, L_ICMP) and "icmp" in protos:
        # "IPv4"/"ICMP" past the outer ICMP header is the quoted datagram
        name = "ip" if layer == L_NET else "icmp"
        last = len(protos) - 1 - protos[::-1].index(name) if name in protos else -1
        if protos.index("icmp") < last:
            layer = L_QUOTED
    return layer


def split_outer_options(types, lens, outer_hdr_len):
    """Split tshark's flat ip.opt.type list into the outer header's options.

    With an ICMP error, ip.opt.type lists the outer header's options and then
    the quoted header's.  Walk the outer options area (hdr_len - 20 bytes):
    NOP is 1 byte, EOL ends the list, every other known option consumes the
    next ip.opt.len.  Returns the outer list, or None if the walk does not
    land exactly on the end of the options area (e.g. unknown options in the
    outer header, which tshark does not list).
    """
    budget = outer_hdr_len - 20
    out, li = [], 0
    for t in types:
        if budget <= 0:
            break
        out.append(t)
        if t == 0:
            return out
        if t == 1:
            budget -= 1
            continue
        if li >= len(lens):
            return None
        budget -= lens[li]
        li += 1
    return out if budget == 0 else None


def tshark_expected(row, stats):
    """Translate one tshark row into (expected ersatz dict, info dict).

    info carries what compare_frame() needs: the damaged layer (if any) and
    per-field relaxations, each with the reason.
    """
    exp = {}
    info = {"damage": None, "loose": {}, "skip": {}, "malformed": "forbid", "why": []}
    g = row.get
    protos = row["frame.protocols"].split(":") if row["frame.protocols"] else []

    def first(name, conv=lambda s: s):
        v = g(name)
        return conv(v[0]) if v else None

    def put(key, val):
        if val is not None:
            exp[key] = val

    put("frame.number", first("frame.number", tint))
    put("frame.time_epoch", first("frame.time_epoch", Decimal))
    put("frame.len", first("frame.len", tint))
    cap_len = first("frame.cap_len", tint)
    put("eth.src", first("eth.src", str.lower))
    put("eth.dst", first("eth.dst", str.lower))

    # --- VLAN tags: tshark splits them over two protocols.  802.1Q tags are
    # vlan.*; an 802.1ad S-tag (0x88a8) is ieee8021ad.*.  frame.protocols
    # gives their order (outermost first), so rebuild one list from both.
    tags = [p for p in protos if p in ("vlan", "ieee8021ad")]
    q_ids, q_pri = list(g("vlan.id")), list(g("vlan.priority"))
    ad_ids, ad_pri = list(g("ieee8021ad.id")), list(g("ieee8021ad.priority"))
    ids, pris = [], []
    for t in tags:
        src_id, src_pri = (q_ids, q_pri) if t == "vlan" else (ad_ids, ad_pri)
        if src_id:
            ids.append(tint(src_id.pop(0)))
        if src_pri:
            pris.append(tint(src_pri.pop(0)))
    if ids:
        exp["vlan.id"] = ids[0] if len(ids) == 1 else ids
    if pris:
        exp["vlan.priority"] = pris[0] if len(pris) == 1 else pris

    # --- eth.type: ersatz reports the final ethertype (after all tags);
    # tshark's eth.type is the outer one and each 802.1Q tag's inner type is
    # vlan.etype (so: the last vlan.etype).
    if not tags:
        put("eth.type", first("eth.type", tint))
    elif tags[-1] == "vlan":
        if len(g("vlan.etype")) == tags.count("vlan"):
            exp["eth.type"] = tint(g("vlan.etype")[-1])
    else:
        # EXCEPTION (S-tag innermost): tshark's ieee8021ad dissector has no
        # field for the ethertype following the S-tag.  Infer it from the
        # protocol tshark dissected next; skip eth.type if that is unknown.
        i = len(protos) - 1 - protos[::-1].index("ieee8021ad")
        nxt = [p for p in protos[i + 1:] if p != "ethertype"]
        if nxt and nxt[0] in PROTO_ETHERTYPE:
            exp["eth.type"] = PROTO_ETHERTYPE[nxt[0]]
            stats["eth.type inferred after 802.1ad S-tag"] += 1
        else:
            info["skip"]["eth.type"] = "ethertype after S-tag unknown to tshark"

    # --- ARP.  The contract: arp.*.hw_mac only for hrd=1 && hln=6, and
    # arp.*.proto_ipv4 only for pro=0x0800 && pln=4.
    put("arp.opcode", first("arp.opcode", tint))
    put("arp.src.hw_mac", first("arp.src.hw_mac", str.lower))
    put("arp.src.proto_ipv4", first("arp.src.proto_ipv4"))
    put("arp.dst.hw_mac", first("arp.dst.hw_mac", str.lower))
    put("arp.dst.proto_ipv4", first("arp.dst.proto_ipv4"))
    hrd, pro = first("arp.hw.type", tint), first("arp.proto.type", tint)
    if hrd is not None and hrd != 1:
        # EXCEPTION (ARP hrd 6): tshark also treats hardware type 6 (IEEE 802)
        # with hln 6 as a MAC address; the contract says hrd 1 only.  Accept
        # either the MAC or nothing.
        for k in ("arp.src.hw_mac", "arp.dst.hw_mac"):
            if k in exp:
                info["loose"][k] = "tshark decodes hrd %d as MAC" % hrd
    if exp.get("arp.opcode") == 7 and "arp.dst.proto_ipv4" not in exp:
        # EXCEPTION (ARP opcode 7): tshark reads opcode 7 as DRARP-Error
        # (RFC 1931) and shows the target protocol address as an error
        # status, not as arp.dst.proto_ipv4.  Accept either.
        info["loose"]["arp.dst.proto_ipv4"] = "tshark: DRARP error status"
    if pro is not None and pro != 0x0800:
        # EXCEPTION (ARP pro 0xcc): tshark also treats protocol type 0x00cc
        # (AX.25 layer-3 IP) with pln 4 as IPv4; the contract says 0x0800 only.
        for k in ("arp.src.proto_ipv4", "arp.dst.proto_ipv4"):
            if k in exp:
                info["loose"][k] = "tshark decodes pro 0x%04x as IPv4" % pro

    # --- IPv4: the first occurrence of each ip.* field is the outer header;
    # in an ICMP error the second occurrence is the quoted header.
    if "ip" not in protos:
        # tshark's IPv6 dissector reuses the ip.version field: ignore ip.*
        # unless the IPv4 dissector ran.
        for k in list(row):
            if k.startswith("ip."):
                row[k] = []
    for key, conv in (("ip.version", tint), ("ip.hdr_len", tint), ("ip.len", tint), ("ip.id", tint),
                      ("ip.flags.df", tbool), ("ip.flags.mf", tbool), ("ip.frag_offset", tint),
                      ("ip.ttl", tint), ("ip.proto", tint), ("ip.src", str)):
        put(key, first(key, conv))
    cs = first("ip.checksum.status")
    if cs is not None:
        if tstatus(cs) is None:
            # EXCEPTION: tshark could not verify (header not fully captured).
            info["skip"]["ip.checksum.status"] = "tshark: unverified"
        else:
            exp["ip.checksum.status"] = tstatus(cs)

    icmp_types = [tint(x) for x in g("icmp.type")]
    outer_type = icmp_types[0] if icmp_types else None
    is_error = outer_type in ICMP_ERROR_TYPES
    ip_hdr_lens = [tint(x) for x in g("ip.hdr_len")]

    opt_types = [tint(x) for x in g("ip.opt.type")]
    if opt_types:
        if len(ip_hdr_lens) > 1:
            # ICMP error quoting a header: keep only the outer header's options
            outer = split_outer_options(opt_types, [tint(x) for x in g("ip.opt.len")], ip_hdr_lens[0])
            if outer is None:
                # EXCEPTION: cannot tell outer from quoted options.
                info["skip"]["ip.opt.type"] = "cannot split outer/quoted options"
            elif outer:
                exp["ip.opt.type"] = outer
        else:
            exp["ip.opt.type"] = opt_types

    # --- ip.dst.  With an active loose/strict source route option tshark
    # shows the header's destination field as ip.cur_rt ("Current Route")
    # and puts the route's final destination in ip.dst.  ersatz reports the
    # header field, so use ip.cur_rt for such a header.  One ip.dst per
    # header either way; ip.cur_rt only for headers with an active route.
    dsts, currt = list(g("ip.dst")), list(g("ip.cur_rt"))
    hdr_dst = [None, None]          # outer, quoted
    srr = (131, 137)
    if len(ip_hdr_lens) <= 1 or not currt:
        if dsts:
            hdr_dst[0] = currt[0] if currt else dsts[0]
        if len(dsts) > 1:
            hdr_dst[1] = dsts[1]
    elif len(currt) >= 2:
        hdr_dst = [currt[0], currt[1]]
    else:
        outer = split_outer_options(opt_types, [tint(x) for x in g("ip.opt.len")], ip_hdr_lens[0])
        quoted_opts = opt_types[len(outer):] if outer is not None else []
        o_srr = outer is not None and any(t in srr for t in outer)
        q_srr = any(t in srr for t in quoted_opts)
        if outer is None:
            pass    # falls through to the ambiguous case below
        elif o_srr and not q_srr:
            hdr_dst = [currt[0], dsts[1] if len(dsts) > 1 else None]
        elif q_srr and not o_srr:
            hdr_dst = [dsts[0] if dsts else None, currt[0]]
        if outer is None or o_srr == q_srr:
            # EXCEPTION: both headers carry a source route, one exhausted (or
            # the options cannot be split): cannot tell whose ip.cur_rt it is.
            info["skip"]["ip.dst"] = info["skip"]["icmp.quoted.ip.dst"] = "ambiguous ip.cur_rt"
    if hdr_dst[0] is not None and "ip.dst" not in info["skip"]:
        exp["ip.dst"] = hdr_dst[0]
    msgs = row["_ws.expert.message"]
    if any(w in msgs for w in OPTLEN_WARNINGS):
        # EXCEPTION (bad option length): tshark stops listing options at an
        # option whose length byte is < 2 or runs past the options area, and
        # only warns.  Require tshark's list to be a prefix of ersatz's, and
        # accept either verdict for `malformed`.
        info["loose"]["ip.opt.type"] = "prefix"
        info["malformed"] = "any"
        info["why"].append("bad IP option length")

    # --- ICMP (outer)
    partial_quote = False
    if outer_type is not None:
        exp["icmp.type"] = outer_type
        put("icmp.code", first("icmp.code", tint))
        cs = first("icmp.checksum.status")
        if cs is not None:
            if tstatus(cs) is None:
                # EXCEPTION: tshark does not verify the ICMP checksum of a first
                # fragment (MF set) or of a message not fully captured.
                info["skip"]["icmp.checksum.status"] = "tshark: unverified"
            else:
                exp["icmp.checksum.status"] = tstatus(cs)
        put("icmp.mtu", first("icmp.mtu", tint))
        put("icmp.redir_gw", first("icmp.redir_gw"))
        idents = [tint(x) for x in g("icmp.ident")]
        seqs = [tint(x) for x in g("icmp.seq")]
        if outer_type in ICMP_IDENT_TYPES:
            if idents:
                exp["icmp.ident"] = idents.pop(0)
            if seqs:
                exp["icmp.seq"] = seqs.pop(0)
        if is_error:
            # the quoted datagram: second occurrence of the ip.* fields, the
            # second icmp.type, and any icmp.ident/seq (outer errors have none)
            for key, src, conv in (("icmp.quoted.ip.src", "ip.src", str),
                                   ("icmp.quoted.ip.proto", "ip.proto", tint), ("icmp.quoted.ip.id", "ip.id", tint)):
                v = g(src)
                if len(v) > 1:
                    exp[key] = conv(v[1])
            if hdr_dst[1] is not None and "icmp.quoted.ip.dst" not in info["skip"]:
                exp["icmp.quoted.ip.dst"] = hdr_dst[1]
            if len(icmp_types) > 1:
                exp["icmp.quoted.icmp.type"] = icmp_types[1]
                if idents:
                    exp["icmp.quoted.icmp.ident"] = idents[0]
                if seqs:
                    exp["icmp.quoted.icmp.seq"] = seqs[0]
            # EXCEPTION (partial quote): tshark shows whatever quoted fields
            # fit in a quote shorter than the quoted IP header (or shorter
            # than header + 8 bytes of quoted ICMP).  A decoder may sanely
            # refuse to decode a partial header, so such quoted fields are
            # only compared where both sides have them.
            l2 = 14 + 4 * len(tags)
            if cap_len is not None and "ip.len" in exp and "ip.hdr_len" in exp:
                end = min(l2 + exp["ip.len"], cap_len)
                avail = end - (l2 + exp["ip.hdr_len"] + 8)
                qhl = ip_hdr_lens[1] if len(ip_hdr_lens) > 1 else None
                qproto = exp.get("icmp.quoted.ip.proto")
                qfrag = [tint(x) for x in g("ip.frag_offset")]
                if qhl is None or avail < 20 or avail < qhl:
                    for k in CONTRACT:
                        if k.startswith("icmp.quoted."):
                            info["loose"][k] = "partial quoted IP header"
                    partial_quote = True
                elif avail < qhl + 8:
                    # header complete, but less than the 64 bits of data
                    # RFC 792 asks for: the quoted IP fields must be there,
                    # the quoted ICMP ones are compared where both have them
                    if qproto == 1 and (len(qfrag) < 2 or qfrag[1] == 0):
                        for k in QUOTED_ICMP_KEYS:
                            info["loose"][k] = "partial quoted ICMP header"
                    partial_quote = True

    # --- damage: where did tshark stop or complain?
    mal, short = row["_ws.malformed"], row["_ws.short"]
    damage = None
    for text in (mal, short):
        if text:
            d = damaged_layer(text, protos)
            damage = d if damage is None else min(damage, d)
            info["why"].append("tshark: " + text.split(",")[0])
    for m in IP_HEADER_ERRORS:
        if m in msgs:
            d = L_QUOTED if "icmp" in protos else L_NET
            damage = d if damage is None else min(damage, d)
            info["why"].append("tshark: " + m)
    exceeds = IP_EXCEEDS in msgs
    if exceeds:
        # the IP header is fine, the payload is cut short (frame really ends
        # before ip.len): ip.* strict, ICMP only where both have it
        damage = L_ICMP if damage is None else min(damage, L_ICMP)
        info["why"].append("tshark: " + IP_EXCEEDS)
        # EXCEPTION: tshark verifies the ICMP checksum over the bytes that are
        # there, but the checksum covers ip.len - hdr_len bytes that are not.
        info["skip"]["icmp.checksum.status"] = "ICMP message cut short (ip.len > frame)"
    # EXCEPTION (silent snap in the ICMP header): with a snapshot cut inside
    # the first 8 bytes of the ICMP message tshark still shows type/code for
    # types whose header it does not read further, without any flag; a
    # decoder may sanely give up on the whole header.
    if damage is None and outer_type is not None and cap_len is not None and "ip.hdr_len" in exp:
        if cap_len < 14 + 4 * len(tags) + exp["ip.hdr_len"] + 8:
            damage = L_ICMP
            info["why"].append("snapshot cut inside the ICMP header")
    info["damage"] = damage

    # --- what `malformed` should be
    if partial_quote and (damage is None or damage >= L_ICMP):
        # EXCEPTION (short quote): an ICMP error quoting less than the IP
        # header + 64 bits that RFC 792 asks for is arguably malformed, but
        # tshark only complains for some types (e.g. Redirect with an empty
        # quote, not Destination Unreachable).  Accept either verdict.
        info["malformed"] = "any"
        info["why"].append("ICMP error quotes less than IP header + 8 bytes")
    if info["malformed"] != "any":
        if damage is not None and damage <= L_ICMP:
            info["malformed"] = "require"
        elif damage is not None:
            # damage only in the quoted datagram or in a layer ersatz does
            # not decode (udp, tcp, ipv6, lldp...): either verdict is fine
            info["malformed"] = "any"
        elif cap_len is not None and "frame.len" in exp and cap_len < exp["frame.len"]:
            # EXCEPTION (silent snap): frame cut by the snapshot length but
            # tshark saw nothing wrong (the cut is inside payload it shows as
            # plain data).  Whether that is "malformed" is a matter of taste.
            info["malformed"] = "any"
            info["why"].append("snapshot-truncated payload")
        elif outer_type is None and exp.get("ip.proto") == 1 and exp.get("ip.frag_offset") == 0 \
                and "ip.len" in exp and exp.get("ip.len") == exp.get("ip.hdr_len"):
            # EXCEPTION (empty ICMP): tshark does not call its ICMP dissector
            # for an empty IP payload, so it cannot complain that the 8-byte
            # ICMP header is missing.
            info["malformed"] = "any"
            info["why"].append("IP proto 1 with empty payload")
        elif "Bogus TCP header length" in row["_ws.expert.message"] or \
                "Bad length value" in row["_ws.expert.message"]:
            # EXCEPTION (bogus TCP offset): ersatz decodes TCP and calls a
            # data offset below 20 or past the segment malformed; tshark
            # raises only an expert error for it, not _ws.malformed.  The
            # TCP layer is compared by compare_tshark6.py.
            info["malformed"] = "any"
            info["why"].append("bogus TCP header or UDP length (tshark: expert error only)")
    return exp, info


# ----------------------------------------------------------------- ersatz
def run_ersatz(binary, pcap):
    cmd = [binary, "dump", "-r", pcap, "--json"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    except OSError as e:
        raise ToolError("cannot run ersatz binary %s: %s" % (binary, e))
    except subprocess.TimeoutExpired:
        raise ToolError("ersatz timed out: %s" % " ".join(cmd))
    if p.returncode != 0:
        raise ToolError("%s exited %d: %s" % (" ".join(cmd), p.returncode,
                                             p.stderr.decode(errors="replace")[-2000:]))
    frames = []
    for n, line in enumerate(p.stdout.decode("utf-8", errors="replace").split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_float=Decimal)
        except ValueError as e:
            raise ToolError("ersatz output line %d is not JSON (%s): %r" % (n, e, line[:200]))
        if not isinstance(obj, dict):
            raise ToolError("ersatz output line %d is not a JSON object: %r" % (n, line[:200]))
        frames.append(obj)
    return frames


def type_ok(key, v):
    """Does ersatz's value have the JSON type the contract asks for?"""
    def is_int(x):
        return isinstance(x, int) and not isinstance(x, bool)
    if key == "frame.time_epoch":
        return isinstance(v, (Decimal, int)) and not isinstance(v, bool)
    if key in INT_KEYS:
        return is_int(v)
    if key in BOOL_KEYS:
        return isinstance(v, bool)
    if key in INT_OR_LIST_KEYS:
        return is_int(v) or (isinstance(v, list) and len(v) > 1 and all(is_int(x) for x in v))
    if key == "ip.opt.type":
        return isinstance(v, list) and all(is_int(x) for x in v)
    if key in STR_KEYS:
        return isinstance(v, str)
    return True


def micros(d):
    return int((Decimal(d) * 1000000).to_integral_value())


def fmt(v):
    if v is None:
        return "<absent>"
    if isinstance(v, Decimal):
        return str(v)
    return json.dumps(v, default=str)


# ----------------------------------------------------------------- compare
def compare_frame(num, ers, exp, info, stats):
    """Return a list of (field, ersatz value, tshark value, note)."""
    out = []
    damage = info["damage"]
    for key in sorted(k for k in CONTRACT if k != "malformed"):
        layer = CONTRACT[key]
        ev, tv = ers.get(key), exp.get(key)
        if key in info["skip"]:
            stats["skipped %s: %s" % (key, info["skip"][key])] += 1
            continue
        if key in ers and not type_ok(key, ev):
            out.append((key, ev, tv, "wrong JSON type"))
            continue
        e_has = key in ers
        if key == "ip.opt.type" and ev:
            # EXCEPTION (unknown options): tshark never lists option types it
            # does not know (it shows them as text only), so drop those from
            # ersatz's list first; a list of only unknown types then counts as
            # absent, like tshark's.
            known = [t for t in ev if t in TSHARK_KNOWN_OPTS]
            if len(known) != len(ev):
                stats["ip.opt.type: unknown option types dropped before compare"] += 1
            ev = known
            e_has = bool(known)
        t_has = key in exp
        # Damaged frame: fields of layers before the damage must agree fully;
        # from the damaged layer on, compare only what both sides decoded.
        loose = (damage is not None and layer >= damage) or key in info["loose"]
        if e_has != t_has:
            if key in info["loose"]:
                stats["one-sided %s accepted: %s" % (key, info["loose"][key])] += 1
                continue
            if loose:
                stats["one-sided field at/after the damaged layer (not compared)"] += 1
                continue
            out.append((key, ers.get(key), tv, "present only in " + ("ersatz" if e_has else "tshark")))
            continue
        if not e_has:
            continue
        if key == "frame.time_epoch":
            if micros(ev) != micros(tv):
                out.append((key, ev, tv, "timestamps differ (us)"))
        elif key == "ip.opt.type" and info["loose"].get("ip.opt.type") == "prefix":
            if ev[:len(tv)] != tv:
                out.append((key, ers.get(key), tv, "tshark's list is not a prefix of ersatz's known options"))
        elif ev != tv:
            out.append((key, ers.get(key), tv, "known option types differ" if key == "ip.opt.type" else ""))
    # malformed
    has_m = "malformed" in ers
    if has_m and not isinstance(ers["malformed"], str):
        out.append(("malformed", ers["malformed"], None, "wrong JSON type (want a string)"))
    elif info["malformed"] == "require" and not has_m:
        out.append(("malformed", None, "; ".join(info["why"]) or "damaged", "tshark reports damage, ersatz does not"))
    elif info["malformed"] == "forbid" and has_m:
        out.append(("malformed", ers["malformed"], None, "tshark decodes the frame cleanly"))
    elif info["malformed"] == "any":
        stats["malformed not compared (%s)" % ("; ".join(info["why"]) or "damage beyond ersatz's layers")] += 1
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ersatz", required=True, help="path to the ersatz binary")
    ap.add_argument("--pcap", required=True, help="pcap file to decode")
    ap.add_argument("--generate", action="store_true", help="(re)write --pcap with gen_frames.py first")
    ap.add_argument("--count", type=int, help="with --generate: number of frames")
    ap.add_argument("--seed", type=int, help="with --generate: random seed")
    ap.add_argument("--labels", help="frame kind labels from gen_frames.py --labels, shown in diffs")
    ap.add_argument("--max-diffs", type=int, default=40, help="mismatches to print in full (default 40)")
    ap.add_argument("--min-frames", type=int, default=1000,
                    help="fail if fewer frames were compared (default 1000)")
    ap.add_argument("--tshark", default="tshark")
    a = ap.parse_args(argv)

    try:
        if a.generate:
            cmd = [sys.executable, os.path.join(HERE, "gen_frames.py"), a.pcap]
            if a.count is not None:
                cmd += ["--count", str(a.count)]
            if a.seed is not None:
                cmd += ["--seed", str(a.seed)]
            if a.labels:
                cmd += ["--labels", a.labels]
            subprocess.run(cmd, check=True)
        rows = run_tshark(a.pcap, a.tshark)
        ers_frames = run_ersatz(a.ersatz, a.pcap)
    except (ToolError, subprocess.CalledProcessError) as e:
        print("oracle: error: %s" % e, file=sys.stderr)
        return 2

    labels = {}
    if a.labels and os.path.exists(a.labels):
        with open(a.labels) as fh:
            for line in fh:
                n, _, k = line.rstrip("\n").partition("\t")
                labels[int(n)] = k

    stats = collections.Counter()
    by_num = {}
    problems = []        # (frame, field, ersatz, tshark, note)
    for i, obj in enumerate(ers_frames, 1):
        n = obj.get("frame.number", i)
        if not isinstance(n, int) or isinstance(n, bool):
            problems.append((i, "frame.number", n, i, "ersatz line %d has no integer frame.number" % i))
            n = i
        if n in by_num:
            problems.append((n, "frame.number", n, None, "duplicate frame.number in ersatz output"))
        by_num[n] = obj

    compared = failed_frames = fields_compared = 0
    field_fail = collections.Counter()
    failed_set = set()
    compared_set = set()
    unknown_keys = collections.Counter()
    for row in rows:
        exp, info = tshark_expected(row, stats)
        num = exp["frame.number"]
        ers = by_num.pop(num, None)
        if ers is None:
            problems.append((num, "*", None, "frame", "ersatz printed nothing for this frame"))
            failed_set.add(num)
            continue
        for k in ers:
            if k not in CONTRACT:
                unknown_keys[k] += 1
        compared += 1
        compared_set.add(num)
        diffs = compare_frame(num, ers, exp, info, stats)
        fields_compared += len(set(exp) | (set(ers) & set(CONTRACT)))
        for key, ev, tv, note in diffs:
            problems.append((num, key, ev, tv, note))
            field_fail[key] += 1
        if diffs:
            failed_set.add(num)
    for n in sorted(by_num, key=lambda x: (str(type(x)), x)):
        problems.append((n, "*", "frame", None, "ersatz printed a frame tshark does not have"))
        failed_set.add(n)
    failed_frames = len(failed_set)

    # ---------------------------------------------------------------- report
    problems.sort(key=lambda p: (p[0] if isinstance(p[0], int) else 1 << 62))
    if problems:
        print("First mismatches (frame [kind] field: ersatz=... tshark=...):")
        for num, key, ev, tv, note in problems[:a.max_diffs]:
            kind = (" [%s]" % labels[num]) if num in labels else ""
            print("  frame %s%s  %s: ersatz=%s tshark=%s%s" % (num, kind, key, fmt(ev), fmt(tv),
                                                              ("   (" + note + ")") if note else ""))
        if len(problems) > a.max_diffs:
            print("  ... %d more" % (len(problems) - a.max_diffs))
        print("Mismatches per field:")
        for key, c in field_fail.most_common():
            ex = next(p[0] for p in problems if p[1] == key)
            print("  %-28s %5d  (first in frame %s)" % (key, c, ex))
    if stats:
        print("Exceptions applied (counts):")
        for k, c in sorted(stats.items()):
            print("  %5d  %s" % (c, k))
    if unknown_keys:
        print("Note: ersatz keys outside the contract (not compared): %s"
              % ", ".join("%s(%d)" % kv for kv in sorted(unknown_keys.items())))
    ok = not problems and compared >= a.min_frames
    try:
        ver = subprocess.run([a.tshark, "-v"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=30).stdout.decode(errors="replace").split("\n")[0]
    except (OSError, subprocess.TimeoutExpired):
        ver = "?"
    print("oracle: reference %s (exceptions were worked out against TShark 4.0.17)" % ver.strip())
    print("oracle: compared %d frames (%d tshark, %d ersatz lines), %d fields, %d mismatches in %d frames"
          % (compared, len(rows), len(ers_frames), fields_compared, len(problems), failed_frames))
    if compared < a.min_frames:
        print("oracle: FAIL: only %d frames compared, need at least %d" % (compared, a.min_frames))
    if compared >= a.min_frames:
        print("oracle: %d passed, %d failed" % (compared - len(failed_set & compared_set), failed_frames))
    else:
        print("oracle: 0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
