#include "ersatz/decode/dissect.hpp"

#include <algorithm>
#include <cstring>

namespace ersatz::decode {

namespace eth = wire::ethernet;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;
namespace ipv6 = wire::ipv6;
namespace icmpv6 = wire::icmpv6;
namespace tcp = wire::tcp;
namespace udp = wire::udp;
namespace arp = wire::arp;
using wire::Error;
using wire::EtherType;

namespace {

std::string_view reason(std::string_view layer, std::error_code ec) noexcept {
  // Static strings, so a Dissection can hold a view of them.
  const auto e = static_cast<Error>(ec.value());
  if (layer == "eth") return "eth: truncated";
  if (layer == "vlan") return e == Error::too_many_tags ? "vlan: too many tags" : "vlan: truncated";
  if (layer == "arp") return "arp: truncated";
  if (layer == "icmp") return "icmp: truncated";
  if (layer == "quote") {
    switch (e) {
      case Error::bad_header_len: return "icmp: quoted ip: bad header length";
      case Error::bad_total_len: return "icmp: quoted ip: bad total length";
      default: return "icmp: quoted ip: truncated";
    }
  }
  switch (e) {
    case Error::bad_header_len: return "ip: bad header length";
    case Error::bad_total_len: return "ip: bad total length";
    case Error::bad_version: return "ip: bad version";
    case Error::bad_option: return "ip: bad option";
    default: return "ip: truncated";
  }
}

/// Keeps the first problem found: later ones are often its consequences.
void note(std::string_view& malformed, std::string_view what) noexcept {
  if (malformed.empty()) malformed = what;
}

void dissect_icmp(Ipv4Layer& ip, std::string_view& malformed) noexcept {
  auto p = icmpv4::Packet<>::checked(ip.payload);
  if (!p) {
    note(malformed, reason("icmp", p.error()));
    return;
  }
  // Built in place: a local copied into the optional cost a 72-byte copy
  // per frame.
  IcmpLayer& icmp = ip.icmp.emplace(*p);
  const bool whole = !ip.header.more_fragments() && ip.payload.size() == ip.payload_len;
  if (whole) icmp.checksum_ok = p->verify_checksum();
  if (icmpv4::is_error(p->type())) {
    auto q = p->quote();
    if (!q) {
      note(malformed, reason("quote", q.error()));
      // Short of the 8 data bytes, the quoted header may still be whole.
      if (auto h = ipv4::Header<>::checked(p->original_datagram()); h && h->version() == 4)
        icmp.quoted_ip = *h;
    } else if (q->version() != 4) {
      note(malformed, "icmp: quoted ip: bad version");
    } else {
      if (auto h = ipv4::Header<>::checked(q->header())) icmp.quoted_ip = *h;
      // RFC 792: the quote holds the first 64 bits of the original data, so
      // an ICMP header is there unless the original was a later fragment.
      if (q->protocol() == ipv4::Protocol::icmp && q->frag_offset() == 0) {
        if (auto h = icmpv4::Header<>::checked(q->payload())) icmp.quoted_icmp = *h;
      }
    }
  }
}

/// The destination the upper-layer checksum covers (RFC 8200 §8.1): the
/// last address of a routing header with segments left, where one stands,
/// as Wireshark takes it (the first segment of a type 4 SRH,
/// whose list is reversed).
ConstBytes final_destination(const Ipv6Layer& ip, ConstBytes l3) noexcept {
  for (std::size_t i = 0; i < ip.ext_count; ++i) {
    const ipv6::ExtHeader& e = ip.ext[i];
    // With no segments left the packet is at its final destination, the
    // header's own (Wireshark's reading; tcpdump takes the last address
    // even then).
    if (e.type != ipv6::NextHeader::routing || e.segments_left() == 0) continue;
    const std::size_t len = load_u8(e.bytes, 1);
    if (len % 2 == 1) break;
    const std::size_t n = len / 2;
    if ((e.routing_type() == 0 || e.routing_type() == 2) && n > 0) {
      return e.bytes.subspan(8 + 16 * (n - 1), 16);
    }
    if (e.routing_type() == 4 && n > 0) return e.bytes.subspan(8, 16);
    break;
  }
  return sub(l3, ipv6::field::dst);
}

/// TCP over either IP version: `pseudo` is the pseudo-header sum, used when
/// the whole segment is there and `whole` (not a fragment).
void dissect_tcp(std::optional<TcpLayer>& slot, ConstBytes captured, std::size_t length, bool whole,
                 std::uint16_t pseudo, std::string_view& malformed) noexcept {
  TcpLayer& t = slot.emplace(captured, length);
  t.pseudo = pseudo;
  auto h = tcp::Header<>::checked(captured);
  if (!h) {
    note(malformed,
         h.error() == Error::bad_header_len ? "tcp: bad header length" : "tcp: truncated");
    return;
  }
  if (h->header_len() > length) {
    note(malformed, "tcp: bad header length");
    return;
  }
  t.header = *h;
  if (!tcp::validate_options(h->options())) note(malformed, "tcp: bad option");
  if (whole && captured.size() >= length) {
    auto p = tcp::Packet<>::unchecked(captured.first(length));
    t.checksum_ok = p.verify_checksum(pseudo);
    t.checksum_should_be = p.compute_checksum(pseudo);
  }
}

/// UDP over either IP version; `pseudo` is the pseudo-header sum for the
/// length the datagram claims. A zero checksum means none over IPv4 (RFC
/// 768) and is an error over IPv6 (RFC 8200 §8.1).
void dissect_udp(std::optional<UdpLayer>& slot, ConstBytes captured, std::size_t length, bool whole,
                 bool v6, ConstBytes src, ConstBytes dst, std::string_view& malformed) noexcept {
  UdpLayer& u = slot.emplace(captured, length);
  auto h = udp::Header<>::checked(captured);
  if (!h) {
    note(malformed, "udp: truncated");
    return;
  }
  u.header = *h;
  const std::size_t ulen = h->length();
  // The first fragment of a datagram holds only part of what its length
  // claims.
  if (ulen < udp::header_len || (whole && ulen > length)) {
    note(malformed, "udp: bad length");
    return;
  }
  if (!whole || captured.size() < ulen) return;
  if (h->checksum() == 0 && !v6) return;
  const ConstBytes d = captured.first(ulen);
  const std::uint16_t pseudo = wire::checksum::pseudo_header_sum(src, dst, std::uint8_t{17},
                                                                 static_cast<std::uint32_t>(ulen));
  const std::uint16_t sum = wire::checksum::combine(pseudo, wire::checksum::ones_sum(d));
  u.checksum_ok = h->checksum() != 0 && sum == 0xffff;
  const std::uint16_t without =
      wire::checksum::combine(sum, static_cast<std::uint16_t>(~h->checksum()));
  const auto c = static_cast<std::uint16_t>(~without);
  u.checksum_should_be = c == 0 ? 0xffff : c;
}

void dissect_icmpv6(Ipv6Layer& ip, ConstBytes l3, std::string_view& malformed) noexcept {
  auto p = icmpv6::Packet<>::checked(ip.upper_bytes);
  if (!p) {
    note(malformed, "icmp6: truncated");
    return;
  }
  Icmpv6Layer& icmp = ip.icmp6.emplace(*p);
  if (!ip.fragment() && ip.upper_bytes.size() == ip.upper_len) {
    const auto pseudo =
        wire::checksum::pseudo_header_sum(sub(l3, ipv6::field::src), final_destination(ip, l3), 58,
                                          static_cast<std::uint32_t>(ip.upper_len));
    icmp.checksum_ok = p->verify_checksum(pseudo);
    icmp.checksum_should_be = p->compute_checksum(pseudo);
  }
  if (!icmpv6::validate_nd_options(p->nd_options())) note(malformed, "icmp6: bad option");
  if (icmpv6::is_error(p->type())) {
    auto q = ipv6::Header<>::checked(p->quoted());
    if (!q) {
      note(malformed, "icmp6: quoted ip6: truncated");
    } else {
      icmp.quoted_ip = *q;
    }
  }
}

void dissect_ipv6(Dissection& d) noexcept {
  auto h = ipv6::Header<>::checked(d.l3);
  if (!h) {
    d.malformed = "ip6: truncated";
    return;
  }
  if (h->version() != 6) {
    d.malformed = "ip6: bad version";
    return;
  }
  Ipv6Layer& ip = d.ip6.emplace(*h);
  ip.payload_len = h->payload_len();
  const std::size_t captured = std::min(d.l3.size(), ipv6::header_len + ip.payload_len);
  ip.payload = d.l3.subspan(ipv6::header_len, captured - ipv6::header_len);
  if (ipv6::header_len + ip.payload_len > d.l3_wire_len) note(d.malformed, "ip6: truncated");
  ipv6::ExtReader ext(h->next_header(), ip.payload);
  while (auto e = ext.next()) ip.ext[ip.ext_count++] = *e;
  ip.upper = ext.upper_layer();
  // On an error, where the header that could not be read starts; its
  // length on the wire is what the payload length leaves for it.
  ip.upper_bytes = ext.rest();
  ip.upper_len = ip.payload_len - (ip.payload.size() - ext.rest().size());
  if (ext.error()) {
    note(d.malformed,
         *ext.error() == Error::unsupported ? "ip6: too many extension headers" : "ip6: truncated");
    return;
  }
  // RFC 8200 §4.4: a routing header of a type the node does not know, with
  // segments left, is discarded; tcpdump and Wireshark read no further.
  for (std::size_t i = 0; i < ip.ext_count; ++i) {
    const ipv6::ExtHeader& e = ip.ext[i];
    const unsigned type = e.type == ipv6::NextHeader::routing ? e.routing_type() : 0;
    if (type != 0 && type != 2 && type != 4 && e.segments_left() != 0) {
      note(d.malformed, "ip6: unrecognized routing type");
      return;
    }
  }
  const ipv6::ExtHeader* frag = ip.fragment();
  // A later fragment carries no upper-layer header.
  if (frag && frag->frag_offset() != 0) return;
  const bool whole = frag == nullptr;
  switch (ip.upper) {
    case ipv6::NextHeader::icmpv6: dissect_icmpv6(ip, d.l3, d.malformed); break;
    case ipv6::NextHeader::tcp:
      dissect_tcp(ip.tcp, ip.upper_bytes, ip.upper_len, whole,
                  wire::checksum::pseudo_header_sum(sub(d.l3, ipv6::field::src),
                                                    final_destination(ip, d.l3), 6,
                                                    static_cast<std::uint32_t>(ip.upper_len)),
                  d.malformed);
      break;
    case ipv6::NextHeader::udp:
      dissect_udp(ip.udp, ip.upper_bytes, ip.upper_len, whole, true, sub(d.l3, ipv6::field::src),
                  final_destination(ip, d.l3), d.malformed);
      break;
    default: break;
  }
  if (ip.payload.size() < ip.payload_len) note(d.malformed, "ip6: truncated");
}

void dissect_ipv4(Dissection& d) noexcept {
  namespace f = ipv4::field;
  // Filled in place, field by field, for the reason given in dissect().
  if (!d.l3.empty()) {
    Ipv4Fixed& fixed = d.ip_fixed.emplace();
    fixed.version = static_cast<std::uint8_t>(load_u8(d.l3, f::ver_ihl) >> 4);
    if (d.l3.size() >= ipv4::min_header_len) {
      fixed.complete = true;
      fixed.header_len = (load_u8(d.l3, f::ver_ihl) & 0x0fU) * 4U;
      fixed.total_len = load_be16(d.l3, f::total_len.begin);
      fixed.protocol = ipv4::Protocol{load_u8(d.l3, f::protocol)};
      fixed.flags_frag = load_be16(d.l3, f::flags_frag.begin);
      fixed.src = wire::Ipv4Address::from_bytes(sub(d.l3, f::src));
      fixed.dst = wire::Ipv4Address::from_bytes(sub(d.l3, f::dst));
    }
  }
  auto h = ipv4::Header<>::checked(d.l3);
  if (!h) {
    d.malformed = reason("ip", h.error());
    return;
  }
  if (h->version() != 4) {
    d.malformed = reason("ip", make_error_code(Error::bad_version));
    return;
  }
  // Built in place, as the ICMP layer is.
  Ipv4Layer& ip = d.ip.emplace(*h, h->verify_checksum());
  if (h->total_len() < h->header_len()) {
    d.malformed = reason("ip", make_error_code(Error::bad_total_len));
    return;
  }
  ip.payload_len = h->total_len() - h->header_len();
  // Bounded by the total length, so Ethernet padding is not payload.
  const std::size_t captured = std::min<std::size_t>(d.l3.size(), h->total_len());
  ip.payload = d.l3.subspan(h->header_len(), captured - h->header_len());
  // Damaged options or a short datagram do not stop the walk: what follows
  // the header is still worth showing, as tcpdump and Wireshark do.
  if (auto r = ipv4::validate_options(h->options()); !r) note(d.malformed, reason("ip", r.error()));
  if (h->total_len() > d.l3_wire_len) note(d.malformed, "ip: truncated");
  if (h->frag_offset() == 0 && h->protocol() == ipv4::Protocol::icmp) dissect_icmp(ip, d.malformed);
  if (h->frag_offset() == 0 && h->protocol() == ipv4::Protocol::tcp) {
    dissect_tcp(ip.tcp, ip.payload, ip.payload_len, !h->more_fragments(),
                ipv4::pseudo_header_sum(h->src(), h->dst(), ipv4::Protocol::tcp,
                                        static_cast<std::uint16_t>(ip.payload_len)),
                d.malformed);
  }
  if (h->frag_offset() == 0 && h->protocol() == ipv4::Protocol::udp) {
    dissect_udp(ip.udp, ip.payload, ip.payload_len, !h->more_fragments(), false,
                sub(d.l3, ipv4::field::src), sub(d.l3, ipv4::field::dst), d.malformed);
  }
  if (ip.payload.size() < ip.payload_len) note(d.malformed, "ip: truncated");
}

}  // namespace

Dissection dissect(ConstBytes frame, std::uint32_t wire_len) noexcept {
  Dissection d;
  auto p = eth::Packet<>::checked(frame);
  if (!p) {
    d.malformed = reason("eth", p.error());
    return d;
  }
  d.eth_header = *p;
  // Parsed in place; a Repr returned and copied in stalls on store
  // forwarding (see ethernet::Repr::parse).
  eth::Repr& repr = d.eth.emplace();
  if (auto r = eth::Repr::parse_into(*p, repr); !r) {
    d.eth.reset();
    d.malformed = reason("vlan", r.error());
    return d;
  }
  const std::size_t hlen = repr.header_len();
  d.l3 = frame.subspan(hlen);
  d.l3_wire_len = wire_len > hlen ? wire_len - hlen : 0;
  switch (repr.ethertype) {
    case EtherType::arp: {
      auto a = arp::Packet<>::checked(d.l3);
      if (a) {
        d.arp = *a;
      } else {
        d.malformed = reason("arp", a.error());
      }
      break;
    }
    case EtherType::ipv4: dissect_ipv4(d); break;
    case EtherType::ipv6: dissect_ipv6(d); break;
    default: break;
  }
  return d;
}

std::size_t TcpSequences::KeyHash::operator()(const Key& k) const noexcept {
  // Eight bytes at a time, each word multiplied in: a byte-wise hash was 5 %
  // of `dump -r` on mixed traffic.
  std::uint64_t w[4];
  std::memcpy(w, k.src.data(), 16);
  std::memcpy(w + 2, k.dst.data(), 16);
  std::uint64_t h = (std::uint64_t{k.ports} << 8) | k.version;
  for (const std::uint64_t x : w) h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

wire::tcp::Relative TcpSequences::relate(ConstBytes src, ConstBytes dst, std::uint16_t sport,
                                         std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                                         std::uint8_t flags) {
  // tcpdump relates only segments with ACK set; the others print absolute
  // numbers and their SACK blocks absolute too.
  if ((flags & tcp::flag::ack) == 0) return {};
  const std::size_t n = std::min<std::size_t>(src.size(), 16);
  bool rev = sport > dport;
  if (sport == dport)
    rev = std::lexicographical_compare(dst.begin(), dst.begin() + n, src.begin(), src.begin() + n);
  Key k;
  k.version = static_cast<std::uint8_t>(n);
  const ConstBytes a = rev ? dst : src;
  const ConstBytes b = rev ? src : dst;
  for (std::size_t i = 0; i < n; ++i) {
    k.src[i] = static_cast<std::uint8_t>(a[i]);
    k.dst[i] = static_cast<std::uint8_t>(b[i]);
  }
  k.ports = rev ? (std::uint32_t{dport} << 16 | sport) : (std::uint32_t{sport} << 16 | dport);
  auto it = table_.find(k);
  wire::tcp::Relative r;
  if (it == table_.end() || (flags & tcp::flag::syn) != 0) {
    // A new conversation: printed as it stands, remembered for the next.
    Bases b2 = rev ? Bases{ack - 1, seq} : Bases{seq, ack - 1};
    it = table_.insert_or_assign(k, b2).first;
  } else if (rev) {
    r.seq = it->second.ack;
    r.ack = it->second.seq;
  } else {
    r.seq = it->second.seq;
    r.ack = it->second.ack;
  }
  r.sack = rev ? it->second.seq : it->second.ack;
  return r;
}

}  // namespace ersatz::decode
