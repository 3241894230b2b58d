#include <algorithm>
#include <ctime>

#include "ersatz/decode/dissect.hpp"
#include "ersatz/wire/text.hpp"

namespace ersatz::decode {

namespace eth = wire::ethernet;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;
namespace ipv6 = wire::ipv6;
namespace icmpv6 = wire::icmpv6;
namespace tcp = wire::tcp;
namespace udp = wire::udp;
namespace arp = wire::arp;
using wire::EtherType;

namespace {

using wire::text::append;
using wire::text::dec;
using wire::text::hex;

/// localtime_r per frame would dominate a dump; captures stay within one
/// second for many frames, so the formatted clock is cached per second.
struct ClockCache {
  std::int64_t sec = -1;
  char text[9] = {};
};
thread_local ClockCache clock_cache;

}  // namespace

void format_time_of_day(fmt::memory_buffer& out, Timestamp ts) {
  if (ts.sec != clock_cache.sec) {
    const std::time_t t = static_cast<std::time_t>(ts.sec);
    std::tm tm{};
    localtime_r(&t, &tm);
    fmt::format_to_n(clock_cache.text, sizeof clock_cache.text, "{:02}:{:02}:{:02}", tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    clock_cache.sec = ts.sec;
  }
  // The low six digits, should a damaged file carry more.
  append(out, std::string_view(clock_cache.text, 8), '.', dec(ts.nsec / 1000 % 1'000'000, 6));
}

namespace {

/// The link header as tcpdump -e prints it. tcpdump shows a tag once its
/// TCI and next type are both there, and names a type once what it
/// announces could be read; short of that, " [|vlan]" ends the line.
bool format_link(fmt::memory_buffer& out, const Frame& frame, const eth::Packet<>& h, bool show) {
  if (show) append(out, h.src(), " > ", h.dst(), ", ");
  bool first = true;
  auto announce = [&](EtherType t) {
    if (!show) return;
    const auto hex_type = hex(static_cast<std::uint16_t>(t), 4);
    if (first) {
      // The first announcement carries the frame length.
      append(out, "ethertype ", wire::name(t), " (0x", hex_type, "), length ", frame.wire_len,
             ": ");
    } else {
      append(out, "ethertype ", wire::name(t), " (0x", hex_type, "), ");
    }
    first = false;
  };
  EtherType type = h.ethertype();
  ConstBytes rest = h.payload();
  for (std::size_t tags = 0; wire::is_vlan_tpid(type); ++tags) {
    auto tag = wire::vlan::Packet<>::checked(rest);
    if (!tag || tags == eth::max_tags) {
      append(out, " [|vlan]");
      return false;
    }
    announce(type);
    if (show) wire::vlan::format(out, wire::vlan::Tag{type, tag->pcp(), tag->dei(), tag->vid()});
    type = tag->next_type();
    rest = tag->payload();
  }
  announce(type);
  return true;
}

/// tcpdump's default print (ND_DEFAULTPRINT): what it has no printer for
/// follows the line as a hex and ASCII dump, unless -x, -X or -A dump the
/// whole frame anyway.
void default_print(fmt::memory_buffer& out, ConstBytes rest, const TextOptions& opts) {
  if (opts.raw_dump) return;
  format_raw(out, rest, 0, RawDump::hex_ascii, true);
}

void format_arp(fmt::memory_buffer& out, const Dissection& d, bool link_shown,
                const TextOptions& opts) {
  if (!d.arp) {
    append(out, " [|arp]");
    return;
  }
  if (!link_shown) append(out, "ARP, ");
  if (!arp::format(out, *d.arp, d.l3_wire_len, opts.verbose > 0)) default_print(out, d.l3, opts);
}

/// tcpdump's tcp_print from its address line on. `named` is false when the
/// IP header's own protocol field is not TCP (extension headers came
/// between), and tcpdump then prints the ports alone.
template <class Addr>
bool format_tcp(fmt::memory_buffer& out, const TcpLayer& t, const Addr& src, const Addr& dst,
                bool named, ConstBytes raw_src, ConstBytes raw_dst, const TextOptions& opts,
                std::optional<std::uint16_t> pseudo = std::nullopt) {
  const ConstBytes seg = t.segment;
  if (seg.size() < 4) {
    append(out, src, " > ", dst, ":", " [|tcp]");
    return false;
  }
  const unsigned sport = load_be16(seg, tcp::field::src_port.begin);
  const unsigned dport = load_be16(seg, tcp::field::dst_port.begin);
  if (named) {
    append(out, src, '.', sport, " > ", dst, '.', dport, ": ");
  } else {
    append(out, sport, " > ", dport, ": ");
  }
  if (seg.size() < tcp::min_header_len) {
    append(out, " [|tcp]");
    return false;
  }
  tcp::TextOptions o;
  o.verbose = opts.verbose;
  const std::size_t hlen = (load_u8(seg, tcp::field::offset_flags.begin) >> 4) * 4U;
  if (opts.tcp_sequences && hlen >= tcp::min_header_len) {
    o.relative = opts.tcp_sequences->relate(
        raw_src, raw_dst, static_cast<std::uint16_t>(sport), static_cast<std::uint16_t>(dport),
        load_be32(seg, tcp::field::seq.begin), load_be32(seg, tcp::field::ack.begin),
        load_u8(seg, tcp::field::flags));
  }
  // -v: the checksum, over the pseudo-header tcpdump takes.
  if (opts.verbose > 0) o.pseudo = pseudo;
  const bool gave_up = tcp::format(out, seg, t.length, o);
  // tcpdump reports checksums only with -v; ersatz always marks damage.
  if (opts.verbose == 0 && t.checksum_ok == false) {
    append(out, " [bad tcp cksum ", hex(load_be16(seg, tcp::field::checksum.begin)), " (->",
           hex(t.checksum_should_be), ")]");
  }
  return gave_up;
}

/// ersatz marks a bad UDP checksum, which tcpdump reports only with -v.
void format_udp_marker(fmt::memory_buffer& out, const UdpLayer& u, const TextOptions& opts) {
  if (opts.verbose == 0 && u.checksum_ok == false) {
    append(out, " [bad udp cksum ", hex(load_be16(u.datagram, udp::field::checksum.begin)), " (->",
           hex(u.checksum_should_be), ")]");
  }
}

/// The protocol names tcpdump's -v prints (its ipproto_values), for IPv4's
/// protocol and IPv6's next header.
std::string_view next_header_name(unsigned nh) {
  switch (nh) {
    case 0: return "Options";
    case 1: return "ICMP";
    case 2: return "IGMP";
    case 4: return "IPIP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 33: return "DCCP";
    case 41: return "IPv6";
    case 43: return "Routing";
    case 44: return "Fragment";
    case 50: return "ESP";
    case 51: return "AH";
    case 58: return "ICMPv6";
    case 59: return "NONE";
    case 47: return "GRE";
    case 89: return "OSPF";
    case 103: return "PIM";
    case 112: return "VRRP";
    case 132: return "SCTP";
    case 135: return "Mobility";
    default: return "unknown";
  }
}

/// tcpdump -v's IPv4 header block: "(tos 0x0, ttl 64, id 1, offset 0,
/// flags [DF], proto TCP (6), length 84)" and a line break before the
/// addresses. (IPv4 options are not printed in it yet.)
void format_ipv4_verbose(fmt::memory_buffer& out, const Dissection& d, const Ipv4Fixed& f) {
  const ConstBytes h = d.l3;
  const unsigned tos = load_u8(h, ipv4::field::tos);
  append(out, "(tos 0x", hex(tos));
  switch (tos & 3U) {
    case 1: append(out, ",ECT(1)"); break;
    case 2: append(out, ",ECT(0)"); break;
    case 3: append(out, ",CE"); break;
    default: break;
  }
  const unsigned ttl = load_u8(h, ipv4::field::ttl);
  if (ttl >= 1) append(out, ", ttl ", ttl);
  append(out, ", id ", load_be16(h, ipv4::field::ident.begin), ", offset ",
         (f.flags_frag & ipv4::frag_offset_mask) * 8U, ", flags [");
  const unsigned flags = f.flags_frag & (ipv4::flag_mf | ipv4::flag_df | ipv4::flag_reserved);
  bool any = false;
  for (const auto& [bit, name] : {std::pair<unsigned, std::string_view>{ipv4::flag_mf, "+"},
                                  {ipv4::flag_df, "DF"},
                                  {ipv4::flag_reserved, "rsvd"}}) {
    if ((flags & bit) == 0) continue;
    if (any) append(out, ", ");
    append(out, name);
    any = true;
  }
  if (!any) append(out, "none");
  const auto proto = static_cast<unsigned>(f.protocol);
  append(out, "], proto ", next_header_name(proto), " (", proto, "), length ", f.total_len);
  if (d.ip && !d.ip->checksum_ok) {
    append(out, ", bad cksum ", hex(d.ip->header.checksum()), " (->",
           hex(d.ip->header.compute_checksum()), ")!");
  }
  append(out, ")\n    ");
}

/// IPv4 in tcpdump 4.99's order of checks: version, header length, missing
/// bytes, total length, then the addresses and the payload.
void format_ipv4(fmt::memory_buffer& out, const Dissection& d, bool link_shown,
                 const TextOptions& opts, bool& gave_up) {
  if (!d.ip_fixed) {
    // Not one byte: tcpdump's read of the version gives up (a longjmp).
    append(out, " [|ip]");
    gave_up = true;
    return;
  }
  const Ipv4Fixed& f = *d.ip_fixed;
  if (f.version != 4) {
    if (f.version == 6) {
      append(out, "IP6, wrong link-layer encapsulation (invalid)");
    } else {
      append(out, "IP", f.version, " (invalid)");
    }
    return;
  }
  if (!link_shown) append(out, "IP ");
  if (!f.complete) {
    append(out, " [|ip]");
    return;
  }
  if (f.header_len < ipv4::min_header_len) {
    append(out, "bad-hlen ", f.header_len);
    return;
  }
  if (d.l3_wire_len < f.total_len)
    append(out, "truncated-ip - ", f.total_len - d.l3_wire_len, " bytes missing! ");
  if (f.total_len < f.header_len) {
    append(out, "bad-len ", f.total_len);
    return;
  }
  if (opts.verbose > 0) format_ipv4_verbose(out, d, f);
  // For the first fragment of TCP and UDP, tcpdump's transport printer
  // names the addresses (with ports); it never runs on a header cut short.
  const bool first_fragment = (f.flags_frag & ipv4::frag_offset_mask) == 0;
  const bool transport_names =
      first_fragment && (f.protocol == ipv4::Protocol::tcp || f.protocol == ipv4::Protocol::udp);
  // TCP's printer names the addresses itself, with the ports.
  const bool tcp_names = d.ip && (d.ip->tcp.has_value() || d.ip->udp.has_value());
  if ((d.ip || !transport_names) && !tcp_names) append(out, f.src, " > ", f.dst, ": ");
  if (!first_fragment) {
    // A later fragment has no transport header to show; tcpdump says so
    // even when the IP header itself was cut short.
    append(out, "ip-proto-", static_cast<unsigned>(f.protocol));
  } else if (!d.ip) {
    append(out, " [remaining caplen(", d.l3.size(), ") < header length(", f.header_len, ")] [|ip]");
    return;
  }
  if (!d.ip) return;
  const Ipv4Layer& ip = *d.ip;
  const auto proto = static_cast<unsigned>(ip.header.protocol());
  if (!first_fragment) {
    // Named above.
  } else if (ip.header.protocol() == ipv4::Protocol::icmp) {
    icmpv4::format(out, ip.payload, ip.payload_len);
  } else if (ip.udp) {
    udp::format(out, f.src, f.dst, ip.udp->datagram, ip.udp->length, ip.header.more_fragments());
    format_udp_marker(out, *ip.udp, opts);
  } else if (ip.tcp) {
    const ConstBytes hdr = d.l3;
    std::optional<std::uint16_t> pseudo;
    if (opts.verbose > 0 && !ip.header.more_fragments()) pseudo = ip.tcp->pseudo;
    gave_up = format_tcp(out, *ip.tcp, f.src, f.dst, true, sub(hdr, ipv4::field::src),
                         sub(hdr, ipv4::field::dst), opts, pseudo);
  } else {
    append(out, " ip-proto-", proto, ' ', ip.payload_len);
  }
  // tcpdump reports checksums only with -v; ersatz always marks damage.
  if (!ip.checksum_ok && opts.verbose == 0) {
    append(out, " [bad ip cksum ", hex(ip.header.checksum()), " (->",
           hex(ip.header.compute_checksum()), ")]");
  }
  if (ip.icmp && ip.icmp->checksum_ok == false) {
    const auto& p = ip.icmp->packet;
    append(out, " [bad icmp cksum ", hex(p.checksum()), " (->", hex(p.compute_checksum()), ")]");
  }
}

/// tcpdump's ip6_opt_process: it fails on any option whose framing is
/// wrong (and names a few), and with -v names every option it read.
bool hop_options_ok(fmt::memory_buffer& out, ConstBytes b, int verbose) {
  const std::size_t len = b.size();
  std::size_t optlen = 0;
  for (std::size_t i = 0; i < len; i += optlen) {
    const unsigned type = load_u8(b, i);
    if (type == 0) {
      optlen = 1;
      if (verbose) append(out, "(pad1)");
      continue;
    }
    if (i + 1 >= len) return false;
    optlen = load_u8(b, i + 1) + 2U;
    if (i + optlen > len) return false;
    const unsigned olen = load_u8(b, i + 1);
    switch (type) {
      case 1:
        if (verbose) append(out, "(padn)");
        break;
      case 0x05:
        if (len - i < 4) return append(out, "(rtalert: trunc)"), false;
        if (olen != 2) return append(out, "(rtalert: invalid len ", olen, ')'), false;
        if (verbose) append(out, "(rtalert: 0x", hex(load_be16(b, i + 2), 4), ") ");
        break;
      case 0xc2:
        if (len - i < 6) return append(out, "(jumbo: trunc)"), false;
        if (olen != 4) return append(out, "(jumbo: invalid len ", olen, ')'), false;
        break;
      case 0xc9:
        if (len - i < 18) return append(out, "(homeaddr: trunc)"), false;
        if (olen < 16) return append(out, "(homeaddr: invalid len ", olen, ')'), false;
        break;
      default:
        if (verbose) append(out, "(opt_type 0x", hex(type, 2), ": len=", olen, ')');
        break;
    }
  }
  if (verbose) out.push_back(' ');
  return true;
}

/// One extension header as tcpdump's ip6_print loop prints it. Returns
/// false when the line ends there.
bool format_extension(fmt::memory_buffer& out, const Ipv6Layer& ip, const ipv6::ExtHeader& e,
                      std::size_t offset, int verbose) {
  switch (e.type) {
    case ipv6::NextHeader::hop_by_hop:
      append(out, "HBH ");
      if (!hop_options_ok(out, e.options(), verbose)) {
        append(out, " [|hbhopt]");
        return false;
      }
      if (ip.payload_len == 0) {
        // Only a jumbogram may have no payload length (RFC 2675); ersatz
        // does not take jumbo options, as Ethernet cannot carry them.
        append(out, "[No valid Jumbo Payload Hop-by-Hop option found] (invalid)");
        return false;
      }
      return true;
    case ipv6::NextHeader::dst_options:
      append(out, "DSTOPT ");
      if (verbose && !hop_options_ok(out, e.options(), verbose)) {
        append(out, " [|dstopt]");
        return false;
      }
      return true;
    case ipv6::NextHeader::routing: {
      const unsigned len = load_u8(e.bytes, 1);
      const unsigned type = e.routing_type();
      append(out, "RT6 (len=", len, ", type=", type);
      if (type == 0) append(out, " [Deprecated]");
      append(out, ", segleft=", e.segments_left());
      if (type == 0 || type == 2) {
        const std::uint32_t reserved = load_be32(e.bytes, 4);
        if (reserved != 0 || verbose) append(out, ", rsv=0x", hex(reserved));
        if (len % 2 == 1) {
          append(out, " (invalid length ", len, ") (invalid)");
          return false;
        }
        for (std::size_t i = 0; i < len / 2; ++i) {
          append(out, ", [", i, ']',
                 wire::Ipv6Address::from_bytes(e.bytes.subspan(8 + 16 * i, 16)));
        }
        append(out, ") ");
        return true;
      }
      append(out, " (unknown type) (invalid)");
      return false;
    }
    case ipv6::NextHeader::fragment: {
      // tcpdump's length is what follows the fragment header by the
      // payload length.
      const std::size_t after = ipv6::header_len + ip.payload_len;
      const std::size_t used = offset + ipv6::fragment_len;
      append(out, "frag (");
      if (verbose) append(out, "0x", hex(e.frag_ident(), 8), ':');
      append(out, e.frag_offset(), '|', static_cast<std::uint32_t>(after - used), ')');
      if (e.frag_offset() != 0) return false;
      out.push_back(' ');
      return true;
    }
    default: return true;
  }
}

/// tcpdump's ip6_finddst: the last address of the first routing header
/// (type 0 or 2; the first segment of a type 4 SRH), whatever is left of
/// it, else the header's destination.
ConstBytes tcpdump_final_destination(const Ipv6Layer& ip, ConstBytes l3) {
  for (std::size_t i = 0; i < ip.ext_count; ++i) {
    const ipv6::ExtHeader& e = ip.ext[i];
    if (e.type != ipv6::NextHeader::routing) continue;
    const std::size_t n = load_u8(e.bytes, 1) / 2;
    if (load_u8(e.bytes, 1) % 2 == 0) {
      if ((e.routing_type() == 0 || e.routing_type() == 2) && n > 0)
        return e.bytes.subspan(8 + 16 * (n - 1), 16);
      if (e.routing_type() == 4 && n > 0) return e.bytes.subspan(8, 16);
    }
    break;
  }
  return sub(l3, ipv6::field::dst);
}

/// A routing header not all captured: tcpdump reads its fields one by one
/// and stops at the first that is missing.
void format_partial_routing(fmt::memory_buffer& out, ConstBytes b) {
  append(out, "RT6");
  if (b.size() < 2) {
    append(out, " [|rt6]");
    return;
  }
  const unsigned len = load_u8(b, 1);
  append(out, " (len=", len);
  if (b.size() < 3) {
    append(out, " [|rt6]");
    return;
  }
  const unsigned type = load_u8(b, 2);
  append(out, ", type=", type);
  if (type == 0) append(out, " [Deprecated]");
  if (b.size() < 4) {
    append(out, " [|rt6]");
    return;
  }
  append(out, ", segleft=", load_u8(b, 3));
  if (type != 0 && type != 2 && type != 4) {
    append(out, " (unknown type) (invalid)");
    return;
  }
  append(out, " [|rt6]");
}

void format_ipv6(fmt::memory_buffer& out, const Dissection& d, bool link_shown,
                 const TextOptions& opts, bool& gave_up) {
  if (!d.ip6) {
    if (d.l3.size() < ipv6::header_len) {
      append(out, " [|ip6]");
      return;
    }
    if (!link_shown) append(out, "IP6 ");
    append(out, "version error: ", load_u8(d.l3, 0) >> 4, " != 6");
    return;
  }
  const Ipv6Layer& ip = *d.ip6;
  const auto& h = ip.header;
  if (!link_shown) append(out, "IP6 ");
  if (ip.payload_len != 0 && d.l3_wire_len < ipv6::header_len + ip.payload_len) {
    append(out, "truncated-ip6 - ",
           static_cast<std::uint32_t>(ipv6::header_len + ip.payload_len - d.l3_wire_len),
           " bytes missing!");
  }
  const unsigned nh0 = static_cast<unsigned>(h.next_header());
  if (opts.verbose > 0) {
    out.push_back('(');
    if (h.traffic_class() != 0) append(out, "class 0x", hex(h.traffic_class(), 2), ", ");
    if (h.flow_label() != 0) append(out, "flowlabel 0x", hex(h.flow_label(), 5), ", ");
    append(out, "hlim ", h.hop_limit(), ", next-header ", next_header_name(nh0), " (", nh0,
           ") payload length: ", ip.payload_len, ") ");
  }
  const bool transport_first =
      nh0 == 6 || nh0 == 17 || nh0 == 33 || nh0 == 132;  // TCP, UDP, DCCP, SCTP
  if (!transport_first) append(out, h.src(), " > ", h.dst(), ": ");
  std::size_t offset = ipv6::header_len;
  for (std::size_t i = 0; i < ip.ext_count; ++i) {
    if (!format_extension(out, ip, ip.ext[i], offset, opts.verbose)) return;
    offset += ip.ext[i].bytes.size();
  }
  if (ip.ext_count < ipv6::max_ext_headers && ipv6::is_extension(ip.upper)) {
    // The walk stopped at a header that was not all there.
    switch (ip.upper) {
      case ipv6::NextHeader::hop_by_hop: append(out, " [|hbhopt]"); return;
      case ipv6::NextHeader::dst_options: append(out, " [|dstopt]"); return;
      case ipv6::NextHeader::fragment: append(out, " [|frag6]"); return;
      default: format_partial_routing(out, ip.upper_bytes); return;
    }
  }
  if (ipv6::is_extension(ip.upper)) return;
  const std::size_t len = ip.upper_len;
  // tcpdump -v checks upper-layer checksums against its own final
  // destination (a routing header's last address even with no segments
  // left), and not in a fragment.
  const bool fragmented = ip.fragment() != nullptr;
  const ConstBytes td_dst = tcpdump_final_destination(ip, d.l3);
  const ConstBytes raw_src = sub(d.l3, ipv6::field::src);
  auto pseudo_for = [&](std::uint8_t proto) {
    return wire::checksum::pseudo_header_sum(raw_src, td_dst, proto,
                                             static_cast<std::uint32_t>(len));
  };
  switch (ip.upper) {
    case ipv6::NextHeader::icmpv6: {
      icmpv6::TextOptions io;
      io.verbose = opts.verbose;
      if (opts.verbose > 0 && !fragmented && ip.upper_bytes.size() >= len && len >= 4) {
        const std::uint16_t sum = wire::checksum::combine(
            pseudo_for(58), wire::checksum::ones_sum(ip.upper_bytes.first(len)));
        io.checksum_ok = sum == 0xffff;
        io.checksum_should_be = wire::checksum::should_be(
            load_be16(ip.upper_bytes, icmpv6::field::checksum.begin), sum);
      }
      gave_up = icmpv6::format(out, ip.upper_bytes, len, io);
      break;
    }
    case ipv6::NextHeader::tcp:
      if (ip.tcp) {
        std::optional<std::uint16_t> pseudo;
        if (opts.verbose > 0 && !fragmented) pseudo = pseudo_for(6);
        gave_up = format_tcp(out, *ip.tcp, h.src(), h.dst(), transport_first, raw_src,
                             sub(d.l3, ipv6::field::dst), opts, pseudo);
      }
      break;
    case ipv6::NextHeader::udp:
      if (ip.udp) {
        const auto dst6 = wire::Ipv6Address::from_bytes(td_dst);
        udp::format(out, h.src(), h.dst(), ip.udp->datagram, len, transport_first, fragmented,
                    opts.verbose > 0 && !fragmented ? &dst6 : nullptr);
        format_udp_marker(out, *ip.udp, opts);
      }
      break;
    case ipv6::NextHeader::no_next: append(out, "no next header"); break;
    case ipv6::NextHeader::icmp: append(out, "[ICMP requires IPv4] (invalid)"); break;
    case ipv6::NextHeader::igmp: append(out, "[IGMP requires IPv4] (invalid)"); break;
    default: append(out, " ip-proto-", static_cast<unsigned>(ip.upper), ' ', len); break;
  }
  if (opts.verbose == 0 && ip.icmp6 && ip.icmp6->checksum_ok == false) {
    const auto& p = ip.icmp6->packet;
    append(out, " [bad icmp6 cksum ", hex(p.checksum()), " (->", hex(ip.icmp6->checksum_should_be),
           ")]");
  }
}

}  // namespace

bool format_text(fmt::memory_buffer& out, const Frame& frame, const Dissection& d,
                 const TextOptions& opts) {
  format_timestamp(out, frame.ts, opts);
  bool gave_up = false;
  if (!d.eth_header) {
    append(out, " [|ether]");
    return false;
  }
  const EtherType type = d.eth ? d.eth->ethertype : EtherType{0};
  const bool known =
      d.eth && (type == EtherType::arp || type == EtherType::ipv4 || type == EtherType::ipv6);
  // Like tcpdump, a frame whose payload cannot be shown gets its link header.
  if (d.eth && !known && !opts.link_header) {
    // tcpdump shows what it cannot decode by its link header, naming the
    // innermost type and leaving the tags out.
    append(out, d.eth->src, " > ", d.eth->dst, ", ethertype ", wire::name(type), " (0x",
           hex(static_cast<std::uint16_t>(type), 4), "), length ", frame.wire_len, ": ");
    default_print(out, d.l3, opts);
    return false;
  }
  const bool show_link = opts.link_header;
  if (!format_link(out, frame, *d.eth_header, show_link)) return false;
  if (type == EtherType::arp) {
    format_arp(out, d, show_link, opts);
  } else if (type == EtherType::ipv4) {
    format_ipv4(out, d, show_link, opts, gave_up);
  } else if (type == EtherType::ipv6) {
    format_ipv6(out, d, show_link, opts, gave_up);
  }
  return gave_up;
}

// ---------------------------------------------------------------- JSON

void append_json_string(fmt::memory_buffer& out, std::string_view s) {
  // Usually nothing to escape (our own words, interface names): then the
  // value goes in with one append.
  const bool plain = std::none_of(s.begin(), s.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
  if (plain) {
    append(out, '"', s, '"');
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      append(out, "\\u", hex(static_cast<unsigned>(c), 4));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

namespace {

/// Writes one flat JSON object. Keys are our own constants (string
/// literals, so each key, its quotes and its separator go in as one
/// constant-size copy with the value) and need no escaping; string values
/// are escaped.
class JsonObject {
 public:
  explicit JsonObject(fmt::memory_buffer& out) : out_(out) {}
  ~JsonObject() { append(out_, first_ ? std::string_view("{}") : std::string_view("}")); }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  template <std::size_t N>
  void num(const char (&k)[N], std::uint64_t v) {
    append(out_, lead(), '"', k, "\":", v);
  }
  template <std::size_t N>
  void boolean(const char (&k)[N], bool v) {
    append(out_, lead(), '"', k, "\":", v ? std::string_view("true") : std::string_view("false"));
  }
  template <std::size_t N>
  void str(const char (&k)[N], std::string_view v) {
    append(out_, lead(), '"', k, "\":");
    append_json_string(out_, v);
  }
  template <std::size_t N, class Addr>
  void addr(const char (&k)[N], const Addr& a) {
    append(out_, lead(), '"', k, "\":\"", a, '"');
  }
  /// Raw JSON text for the value (numbers with a fraction, arrays).
  template <std::size_t N>
  fmt::memory_buffer& raw(const char (&k)[N]) {
    append(out_, lead(), '"', k, "\":");
    return out_;
  }

 private:
  /// What goes before a key: the object's opening brace, or a comma.
  char lead() noexcept {
    const char c = first_ ? '{' : ',';
    first_ = false;
    return c;
  }
  fmt::memory_buffer& out_;
  bool first_ = true;
};

void json_eth(JsonObject& j, const eth::Repr& e) {
  j.addr("eth.src", e.src);
  j.addr("eth.dst", e.dst);
  j.num("eth.type", static_cast<std::uint16_t>(e.ethertype));
  if (e.tag_count == 1) {
    j.num("vlan.id", e.tags[0].vid);
    j.num("vlan.priority", e.tags[0].pcp);
  } else if (e.tag_count > 1) {
    auto& ids = j.raw("vlan.id");
    for (std::size_t i = 0; i < e.tag_count; ++i) append(ids, i ? ',' : '[', e.tags[i].vid);
    ids.push_back(']');
    auto& prios = j.raw("vlan.priority");
    for (std::size_t i = 0; i < e.tag_count; ++i) append(prios, i ? ',' : '[', e.tags[i].pcp);
    prios.push_back(']');
  }
}

void json_arp(JsonObject& j, const arp::Packet<>& a) {
  j.num("arp.opcode", static_cast<std::uint16_t>(a.operation()));
  // Wireshark names the address fields only for the forms it knows.
  const bool mac =
      a.hardware_type() == arp::Hardware::ethernet && a.hardware_len() == wire::MacAddress::size;
  const bool ip =
      a.protocol_type() == EtherType::ipv4 && a.protocol_len() == wire::Ipv4Address::size;
  if (mac) j.addr("arp.src.hw_mac", wire::MacAddress::from_bytes(a.sha()));
  if (ip) j.addr("arp.src.proto_ipv4", wire::Ipv4Address::from_bytes(a.spa()));
  if (mac) j.addr("arp.dst.hw_mac", wire::MacAddress::from_bytes(a.tha()));
  if (ip) j.addr("arp.dst.proto_ipv4", wire::Ipv4Address::from_bytes(a.tpa()));
}

bool has_ident(icmpv4::Type t) {
  switch (t) {
    case icmpv4::Type::echo_request:
    case icmpv4::Type::echo_reply:
    case icmpv4::Type::timestamp:
    case icmpv4::Type::timestamp_reply:
    case icmpv4::Type::info_request:
    case icmpv4::Type::info_reply:
    case icmpv4::Type::mask_request:
    case icmpv4::Type::mask_reply: return true;
    default: return false;
  }
}

void json_icmp(JsonObject& j, const IcmpLayer& icmp) {
  const auto& p = icmp.packet;
  j.num("icmp.type", static_cast<std::uint8_t>(p.type()));
  j.num("icmp.code", p.code());
  if (icmp.checksum_ok) j.str("icmp.checksum.status", *icmp.checksum_ok ? "good" : "bad");
  if (has_ident(p.type())) {
    j.num("icmp.ident", p.ident());
    j.num("icmp.seq", p.seq());
  }
  if (p.type() == icmpv4::Type::dst_unreachable &&
      p.code() == static_cast<std::uint8_t>(icmpv4::Unreachable::frag_needed)) {
    j.num("icmp.mtu", p.mtu());
  }
  if (p.type() == icmpv4::Type::redirect) j.addr("icmp.redir_gw", p.gateway());
  if (icmp.quoted_ip) {
    const auto& q = *icmp.quoted_ip;
    j.addr("icmp.quoted.ip.src", q.src());
    j.addr("icmp.quoted.ip.dst", q.dst());
    j.num("icmp.quoted.ip.proto", static_cast<std::uint8_t>(q.protocol()));
    j.num("icmp.quoted.ip.id", q.ident());
  }
  if (icmp.quoted_icmp) {
    const auto& h = *icmp.quoted_icmp;
    j.num("icmp.quoted.icmp.type", static_cast<std::uint8_t>(h.type()));
    if (has_ident(h.type())) {
      j.num("icmp.quoted.icmp.ident", h.ident());
      j.num("icmp.quoted.icmp.seq", h.seq());
    }
  }
}

void json_tcp(JsonObject& j, const TcpLayer& t);
void json_udp(JsonObject& j, const UdpLayer& u);

void json_ipv4(JsonObject& j, const Ipv4Layer& ip) {
  const auto& h = ip.header;
  j.num("ip.version", h.version());
  j.num("ip.hdr_len", h.header_len());
  j.num("ip.len", h.total_len());
  j.num("ip.id", h.ident());
  j.boolean("ip.flags.df", h.dont_fragment());
  j.boolean("ip.flags.mf", h.more_fragments());
  j.num("ip.frag_offset", h.frag_offset() / 8);
  j.num("ip.ttl", h.ttl());
  j.num("ip.proto", static_cast<std::uint8_t>(h.protocol()));
  j.str("ip.checksum.status", ip.checksum_ok ? "good" : "bad");
  j.addr("ip.src", h.src());
  j.addr("ip.dst", h.dst());
  if (!h.options().empty()) {
    ipv4::OptionReader reader(h.options());
    auto& list = j.raw("ip.opt.type");
    list.push_back('[');
    bool first = true;
    while (auto o = reader.next()) {
      if (!first) list.push_back(',');
      append(list, static_cast<unsigned>(o->type));
      first = false;
    }
    list.push_back(']');
  }
  if (ip.icmp) json_icmp(j, *ip.icmp);
  if (ip.tcp) json_tcp(j, *ip.tcp);
  if (ip.udp) json_udp(j, *ip.udp);
}

/// Values of one key that may occur more than once in a frame (an
/// extension header twice, several ND options): a scalar for one, an
/// array for more, as vlan.id is written.
template <class T, std::size_t N>
class Repeated {
 public:
  void add(const T& v) noexcept {
    if (n_ < N) values_[n_++] = v;
  }
  template <std::size_t K>
  void write(JsonObject& j, const char (&key)[K], bool quoted = false) const {
    if (n_ == 0) return;
    auto& out = j.raw(key);
    if (n_ > 1) out.push_back('[');
    for (std::size_t i = 0; i < n_; ++i) {
      if (i) out.push_back(',');
      if (quoted) {
        append(out, '"', values_[i], '"');
      } else {
        append(out, values_[i]);
      }
    }
    if (n_ > 1) out.push_back(']');
  }

 private:
  std::array<T, N> values_{};
  std::size_t n_ = 0;
};

void json_tcp(JsonObject& j, const TcpLayer& t) {
  const ConstBytes seg = t.segment;
  if (seg.size() < 4) return;
  j.num("tcp.srcport", load_be16(seg, tcp::field::src_port.begin));
  j.num("tcp.dstport", load_be16(seg, tcp::field::dst_port.begin));
  if (seg.size() < tcp::min_header_len) return;
  auto h = tcp::Header<>::checked(seg);
  j.num("tcp.seq_raw", load_be32(seg, tcp::field::seq.begin));
  j.num("tcp.ack_raw", load_be32(seg, tcp::field::ack.begin));
  j.num("tcp.hdr_len", (load_u8(seg, tcp::field::offset_flags.begin) >> 4) * 4U);
  j.num("tcp.flags", load_be16(seg, tcp::field::offset_flags.begin) & 0x0fffU);
  j.num("tcp.window_size_value", load_be16(seg, tcp::field::window.begin));
  j.num("tcp.urgent_pointer", load_be16(seg, tcp::field::urgent.begin));
  if (t.checksum_ok) j.str("tcp.checksum.status", *t.checksum_ok ? "good" : "bad");
  if (!h || !t.header) return;
  Repeated<unsigned, 40> kinds;
  Repeated<std::uint32_t, 4> sack_le;
  Repeated<std::uint32_t, 4> sack_re;
  std::optional<unsigned> mss, wscale;
  std::optional<std::uint32_t> tsval, tsecr;
  tcp::OptionReader r(h->options());
  std::size_t read = 0;
  while (auto o = r.next()) {
    read += o->bytes.size();
    kinds.add(static_cast<unsigned>(o->kind));
    // Wireshark shows every padding byte after EOL as another EOL, when
    // they are all zero (it only complains of padding that is not).
    if (o->kind == tcp::OptionKind::eol) {
      const ConstBytes pad = h->options().subspan(read);
      if (std::all_of(pad.begin(), pad.end(), [](std::byte b) { return b == std::byte{0}; })) {
        for (std::size_t i = 0; i < pad.size(); ++i) kinds.add(0);
      }
    }
    const ConstBytes d = o->data();
    switch (o->kind) {
      case tcp::OptionKind::mss:
        if (d.size() == 2) mss = load_be16(d, 0);
        break;
      case tcp::OptionKind::wscale:
        if (d.size() == 1) wscale = load_u8(d, 0);
        break;
      case tcp::OptionKind::timestamp:
        if (d.size() == 8) {
          tsval = load_be32(d, 0);
          tsecr = load_be32(d, 4);
        }
        break;
      case tcp::OptionKind::sack:
        for (std::size_t i = 0; i + 8 <= d.size(); i += 8) {
          sack_le.add(load_be32(d, i));
          sack_re.add(load_be32(d, i + 4));
        }
        break;
      default: break;
    }
  }
  kinds.write(j, "tcp.option_kind");
  if (mss) j.num("tcp.options.mss_val", *mss);
  if (wscale) j.num("tcp.options.wscale.shift", *wscale);
  if (tsval) j.num("tcp.options.timestamp.tsval", *tsval);
  if (tsecr) j.num("tcp.options.timestamp.tsecr", *tsecr);
  sack_le.write(j, "tcp.options.sack_le");
  sack_re.write(j, "tcp.options.sack_re");
}

void json_udp(JsonObject& j, const UdpLayer& u) {
  if (u.datagram.size() < 4) return;
  j.num("udp.srcport", load_be16(u.datagram, udp::field::src_port.begin));
  j.num("udp.dstport", load_be16(u.datagram, udp::field::dst_port.begin));
  if (u.datagram.size() < udp::field::length.end) return;
  j.num("udp.length", load_be16(u.datagram, udp::field::length.begin));
  if (u.checksum_ok) j.str("udp.checksum.status", *u.checksum_ok ? "good" : "bad");
}

void json_nd_options(JsonObject& j, ConstBytes options) {
  Repeated<unsigned, 16> types;
  Repeated<wire::MacAddress, 8> lladdr;
  std::optional<wire::Ipv6Address> prefix;
  std::optional<unsigned> prefix_len;
  std::optional<std::uint32_t> mtu;
  icmpv6::NdOptionReader r(options);
  while (auto o = r.next()) {
    types.add(static_cast<unsigned>(o->type));
    switch (o->type) {
      case icmpv6::NdOptionType::source_ll:
      case icmpv6::NdOptionType::target_ll:
        // Wireshark shows an Ethernet address when the option holds one.
        if (o->bytes.size() == 8) lladdr.add(wire::MacAddress::from_bytes(o->link_address()));
        break;
      case icmpv6::NdOptionType::prefix_info:
        if (o->bytes.size() >= icmpv6::prefix_info_len && !prefix) {
          prefix_len = load_u8(o->bytes, icmpv6::nd_field::prefix_len);
          prefix = wire::Ipv6Address::from_bytes(sub(o->bytes, icmpv6::nd_field::prefix));
        }
        break;
      case icmpv6::NdOptionType::mtu:
        if (!mtu) mtu = load_be32(o->bytes, icmpv6::nd_field::mtu.begin);
        break;
      default: break;
    }
  }
  types.write(j, "icmpv6.opt.type");
  lladdr.write(j, "icmpv6.opt.linkaddr", true);
  if (prefix_len) j.num("icmpv6.opt.prefix.length", *prefix_len);
  if (prefix) j.addr("icmpv6.opt.prefix", *prefix);
  if (mtu) j.num("icmpv6.opt.mtu", *mtu);
}

void json_icmpv6(JsonObject& j, const Icmpv6Layer& icmp) {
  const auto& p = icmp.packet;
  using T = icmpv6::Type;
  j.num("icmpv6.type", static_cast<std::uint8_t>(p.type()));
  j.num("icmpv6.code", p.code());
  if (icmp.checksum_ok) j.str("icmpv6.checksum.status", *icmp.checksum_ok ? "good" : "bad");
  switch (p.type()) {
    case T::echo_request:
    case T::echo_reply:
      j.num("icmpv6.echo.identifier", p.ident());
      j.num("icmpv6.echo.sequence_number", p.seq());
      break;
    case T::packet_too_big: j.num("icmpv6.mtu", p.mtu()); break;
    case T::param_problem: j.num("icmpv6.pointer", p.pointer()); break;
    case T::router_advert:
      j.num("icmpv6.nd.ra.cur_hop_limit", p.ra_hop_limit());
      j.boolean("icmpv6.nd.ra.flag.m", (p.ra_flags() & icmpv6::ra_flag_managed) != 0);
      j.boolean("icmpv6.nd.ra.flag.o", (p.ra_flags() & icmpv6::ra_flag_other) != 0);
      j.num("icmpv6.nd.ra.router_lifetime", p.ra_lifetime());
      j.num("icmpv6.nd.ra.reachable_time", p.ra_reachable());
      j.num("icmpv6.nd.ra.retrans_timer", p.ra_retrans());
      break;
    case T::neighbor_solicit: j.addr("icmpv6.nd.ns.target_address", p.target()); break;
    case T::neighbor_advert:
      j.boolean("icmpv6.nd.na.flag.r", (p.na_flags() & icmpv6::na_flag_router) != 0);
      j.boolean("icmpv6.nd.na.flag.s", (p.na_flags() & icmpv6::na_flag_solicited) != 0);
      j.boolean("icmpv6.nd.na.flag.o", (p.na_flags() & icmpv6::na_flag_override) != 0);
      j.addr("icmpv6.nd.na.target_address", p.target());
      break;
    case T::redirect:
      j.addr("icmpv6.nd.rd.target_address", p.target());
      // Wireshark's name for the redirect's destination, quirk kept.
      j.addr("icmpv6.rd.na.destination_address", p.rd_destination());
      break;
    case T::mld_query:
      if (p.is_mld2_query()) {
        j.num("icmpv6.mld.maximum_response_code", p.mld_max_delay());
        j.addr("icmpv6.mld.multicast_address", p.mld_address());
        j.num("icmpv6.mld.nb_sources", load_be16(p.bytes(), icmpv6::field::mld2_num_sources.begin));
      } else {
        j.num("icmpv6.mld.maximum_response_delay", p.mld_max_delay());
        j.addr("icmpv6.mld.multicast_address", p.mld_address());
      }
      break;
    case T::mld_report:
    case T::mld_done:
      j.num("icmpv6.mld.maximum_response_delay", p.mld_max_delay());
      j.addr("icmpv6.mld.multicast_address", p.mld_address());
      break;
    case T::mld2_report: {
      j.num("icmpv6.mldr.nb_mcast_records", p.mld2_num_records());
      Repeated<unsigned, 16> types;
      Repeated<wire::Ipv6Address, 16> addrs;
      Repeated<std::size_t, 16> sources;
      auto records = p.mld2_records();
      while (auto r = records.next()) {
        types.add(static_cast<unsigned>(r->type()));
        addrs.add(r->address());
        sources.add(r->num_sources());
      }
      types.write(j, "icmpv6.mldr.mar.record_type");
      sources.write(j, "icmpv6.mldr.mar.nb_sources");
      addrs.write(j, "icmpv6.mldr.mar.multicast_address", true);
      break;
    }
    default: break;
  }
  json_nd_options(j, p.nd_options());
  if (icmp.quoted_ip) {
    // Wireshark dissects the quoted packet as a second ipv6 layer; its
    // keys here are named as ICMP's quote is (icmp.quoted.ip.*).
    const auto& q = *icmp.quoted_ip;
    j.addr("icmpv6.quoted.ipv6.src", q.src());
    j.addr("icmpv6.quoted.ipv6.dst", q.dst());
    j.num("icmpv6.quoted.ipv6.nxt", static_cast<std::uint8_t>(q.next_header()));
    j.num("icmpv6.quoted.ipv6.plen", q.payload_len());
    j.num("icmpv6.quoted.ipv6.hlim", q.hop_limit());
  }
}

void json_ipv6(JsonObject& j, const Ipv6Layer& ip) {
  const auto& h = ip.header;
  j.num("ipv6.version", h.version());
  j.num("ipv6.tclass", h.traffic_class());
  j.num("ipv6.flow", h.flow_label());
  j.num("ipv6.plen", h.payload_len());
  j.num("ipv6.nxt", static_cast<std::uint8_t>(h.next_header()));
  j.num("ipv6.hlim", h.hop_limit());
  j.addr("ipv6.src", h.src());
  j.addr("ipv6.dst", h.dst());
  Repeated<unsigned, ipv6::max_ext_headers> hop_nxt, dst_nxt, rt_nxt, rt_type, rt_left, fr_nxt,
      fr_off, fr_id;
  Repeated<std::string_view, ipv6::max_ext_headers> fr_more;
  for (std::size_t i = 0; i < ip.ext_count; ++i) {
    const auto& e = ip.ext[i];
    const auto next = static_cast<unsigned>(e.next());
    switch (e.type) {
      case ipv6::NextHeader::hop_by_hop: hop_nxt.add(next); break;
      case ipv6::NextHeader::dst_options: dst_nxt.add(next); break;
      case ipv6::NextHeader::routing:
        rt_nxt.add(next);
        rt_type.add(e.routing_type());
        rt_left.add(e.segments_left());
        break;
      case ipv6::NextHeader::fragment:
        fr_nxt.add(next);
        fr_off.add(static_cast<unsigned>(e.frag_offset() / 8));
        fr_more.add(e.more_fragments() ? "true" : "false");
        fr_id.add(e.frag_ident());
        break;
      default: break;
    }
  }
  hop_nxt.write(j, "ipv6.hopopts.nxt");
  dst_nxt.write(j, "ipv6.dstopts.nxt");
  rt_nxt.write(j, "ipv6.routing.nxt");
  rt_type.write(j, "ipv6.routing.type");
  rt_left.write(j, "ipv6.routing.segleft");
  // Wireshark's fragment keys are ipv6.fraghdr.*, not ipv6.frag.*.
  fr_nxt.write(j, "ipv6.fraghdr.nxt");
  fr_off.write(j, "ipv6.fraghdr.offset");
  fr_more.write(j, "ipv6.fraghdr.more");
  fr_id.write(j, "ipv6.fraghdr.ident");
  if (ip.icmp6) json_icmpv6(j, *ip.icmp6);
  if (ip.tcp) json_tcp(j, *ip.tcp);
  if (ip.udp) json_udp(j, *ip.udp);
}

}  // namespace

void format_json(fmt::memory_buffer& out, const Frame& frame, const Dissection& d) {
  JsonObject j(out);
  j.num("frame.number", frame.number);
  append(j.raw("frame.time_epoch"), frame.ts.sec, '.', dec(frame.ts.nsec, 9));
  j.num("frame.len", frame.wire_len);
  if (d.eth) {
    json_eth(j, *d.eth);
  } else if (d.eth_header) {
    // A tag was cut off; the addresses before it are still known.
    j.addr("eth.src", d.eth_header->src());
    j.addr("eth.dst", d.eth_header->dst());
  }
  if (d.arp) json_arp(j, *d.arp);
  if (d.ip) json_ipv4(j, *d.ip);
  if (d.ip6) json_ipv6(j, *d.ip6);
  if (!d.malformed.empty()) j.str("malformed", d.malformed);
}

}  // namespace ersatz::decode
