#include "ersatz/decode/dissect.hpp"

namespace ersatz::decode {

namespace eth = wire::ethernet;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;
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
    default: break;
  }
  return d;
}

}  // namespace ersatz::decode
