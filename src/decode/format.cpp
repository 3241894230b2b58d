#include <ctime>

#include "ersatz/decode/dissect.hpp"

namespace ersatz::decode {

namespace eth = wire::ethernet;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;
namespace arp = wire::arp;
using wire::EtherType;

namespace {

auto it(fmt::memory_buffer& out) { return std::back_inserter(out); }

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
    fmt::format_to_n(clock_cache.text, sizeof clock_cache.text, "{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
    clock_cache.sec = ts.sec;
  }
  out.append(std::string_view(clock_cache.text, 8));
  char frac[7];
  std::uint32_t us = ts.nsec / 1000;
  frac[0] = '.';
  for (int i = 6; i >= 1; --i) {
    frac[i] = static_cast<char>('0' + us % 10);
    us /= 10;
  }
  out.append(std::string_view(frac, 7));
}

namespace {

void format_ipv4(fmt::memory_buffer& out, const Dissection& d) {
  if (!d.ip) {
    out.append(std::string_view("[|ip]"));
    return;
  }
  const Ipv4Layer& ip = *d.ip;
  ipv4::format(out, ip.header);
  const auto proto = static_cast<unsigned>(ip.header.protocol());
  if (ip.header.frag_offset() != 0) {
    // tcpdump: a later fragment has no transport header to show.
    fmt::format_to(it(out), "ip-proto-{}", proto);
  } else if (ip.header.protocol() == ipv4::Protocol::icmp) {
    if (ip.icmp) {
      icmpv4::format(out, ip.icmp->packet.bytes(), ip.payload_len);
    } else {
      out.append(std::string_view("ICMP [|icmp]"));
    }
  } else {
    fmt::format_to(it(out), "ip-proto-{} {}", proto, ip.payload_len);
  }
  if (!ip.checksum_ok) {
    fmt::format_to(it(out), " [bad ip cksum {:x} (->{:x})]", ip.header.checksum(), ip.header.compute_checksum());
  }
  if (ip.icmp && ip.icmp->checksum_ok == false) {
    const auto& p = ip.icmp->packet;
    fmt::format_to(it(out), " [bad icmp cksum {:x} (->{:x})]", p.checksum(),
                   wire::checksum::update(static_cast<std::uint16_t>(~wire::checksum::ones_sum(p.bytes())),
                                          p.checksum(), 0));
  }
}

}  // namespace

void format_text(fmt::memory_buffer& out, const Frame& frame, const Dissection& d, const TextOptions& opts) {
  format_time_of_day(out, frame.ts);
  out.push_back(' ');
  if (!d.eth) {
    out.append(std::string_view("[|ether]"));
    return;
  }
  const EtherType type = d.eth->ethertype;
  const bool known = type == EtherType::arp || type == EtherType::ipv4;
  if (opts.link_header || !known) eth::format(out, *d.eth, frame.wire_len);
  if (type == EtherType::arp) {
    if (!opts.link_header) out.append(std::string_view("ARP, "));
    if (!d.arp) {
      out.append(std::string_view("[|ARP]"));
      return;
    }
    arp::format(out, *d.arp);
    fmt::format_to(it(out), ", length {}", d.l3_wire_len);
  } else if (type == EtherType::ipv4) {
    if (!opts.link_header) out.append(std::string_view("IP "));
    format_ipv4(out, d);
  } else {
    // Only the link header can be shown; drop the separator's space.
    if (out.size() > 0 && out[out.size() - 1] == ' ') out.resize(out.size() - 1);
  }
}

// ---------------------------------------------------------------- JSON

namespace {

/// Writes one flat JSON object. Keys are our own constants and need no
/// escaping; string values are escaped.
class JsonObject {
 public:
  explicit JsonObject(fmt::memory_buffer& out) : out_(out) { out_.push_back('{'); }
  ~JsonObject() { out_.push_back('}'); }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  void num(std::string_view k, std::uint64_t v) {
    key(k);
    fmt::format_to(it(out_), "{}", v);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out_.append(v ? std::string_view("true") : std::string_view("false"));
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    out_.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        fmt::format_to(it(out_), "\\u{:04x}", static_cast<unsigned>(c));
      } else {
        out_.push_back(c);
      }
    }
    out_.push_back('"');
  }
  template <class Addr>
  void addr(std::string_view k, const Addr& a) {
    key(k);
    out_.push_back('"');
    char buf[18];
    out_.append(std::string_view(buf, static_cast<std::size_t>(a.format(buf) - buf)));
    out_.push_back('"');
  }
  /// Raw JSON text for the value (numbers with a fraction, arrays).
  fmt::memory_buffer& raw(std::string_view k) {
    key(k);
    return out_;
  }

 private:
  void key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(k);
    out_.append(std::string_view("\":"));
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
    for (std::size_t i = 0; i < e.tag_count; ++i) fmt::format_to(it(ids), "{}{}", i ? "," : "[", e.tags[i].vid);
    ids.push_back(']');
    auto& prios = j.raw("vlan.priority");
    for (std::size_t i = 0; i < e.tag_count; ++i) fmt::format_to(it(prios), "{}{}", i ? "," : "[", e.tags[i].pcp);
    prios.push_back(']');
  }
}

void json_arp(JsonObject& j, const arp::Packet<>& a) {
  j.num("arp.opcode", static_cast<std::uint16_t>(a.operation()));
  // Wireshark names the address fields only for the forms it knows.
  const bool mac = a.hardware_len() == wire::MacAddress::size;
  const bool ip = a.protocol_type() == EtherType::ipv4 && a.protocol_len() == wire::Ipv4Address::size;
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
  if (p.type() == icmpv4::Type::dst_unreachable && p.code() == static_cast<std::uint8_t>(icmpv4::Unreachable::frag_needed)) {
    j.num("icmp.mtu", p.mtu());
  }
  if (p.type() == icmpv4::Type::redirect) j.addr("icmp.redir_gw", p.gateway());
  if (icmp.quote) {
    const auto& q = *icmp.quote;
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
      fmt::format_to(it(list), "{}{}", first ? "" : ",", static_cast<unsigned>(o->type));
      first = false;
    }
    list.push_back(']');
  }
  if (ip.icmp) json_icmp(j, *ip.icmp);
}

}  // namespace

void format_json(fmt::memory_buffer& out, const Frame& frame, const Dissection& d) {
  JsonObject j(out);
  j.num("frame.number", frame.number);
  fmt::format_to(it(j.raw("frame.time_epoch")), "{}.{:09}", frame.ts.sec, frame.ts.nsec);
  j.num("frame.len", frame.wire_len);
  if (d.eth) json_eth(j, *d.eth);
  if (d.arp) json_arp(j, *d.arp);
  if (d.ip) json_ipv4(j, *d.ip);
  if (!d.malformed.empty()) j.str("malformed", d.malformed);
}

}  // namespace ersatz::decode
