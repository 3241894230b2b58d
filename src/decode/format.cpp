#include <algorithm>
#include <ctime>

#include "ersatz/decode/dissect.hpp"
#include "ersatz/wire/text.hpp"

namespace ersatz::decode {

namespace eth = wire::ethernet;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;
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

void format_arp(fmt::memory_buffer& out, const Dissection& d, bool link_shown) {
  if (!d.arp) {
    append(out, " [|arp]");
    return;
  }
  if (!link_shown) append(out, "ARP, ");
  arp::format(out, *d.arp, d.l3_wire_len);
}

/// IPv4 in tcpdump 4.99's order of checks: version, header length, missing
/// bytes, total length, then the addresses and the payload.
void format_ipv4(fmt::memory_buffer& out, const Dissection& d, bool link_shown) {
  if (!d.ip_fixed) {
    append(out, " [|ip]");
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
  // For the first fragment of TCP and UDP, tcpdump's transport printer
  // names the addresses (with ports); it never runs on a header cut short.
  const bool first_fragment = (f.flags_frag & ipv4::frag_offset_mask) == 0;
  const bool transport_names =
      first_fragment && (f.protocol == ipv4::Protocol::tcp || f.protocol == ipv4::Protocol::udp);
  if (d.ip || !transport_names) append(out, f.src, " > ", f.dst, ": ");
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
  } else {
    append(out, " ip-proto-", proto, ' ', ip.payload_len);
  }
  // tcpdump reports checksums only with -v; ersatz always marks damage.
  if (!ip.checksum_ok) {
    append(out, " [bad ip cksum ", hex(ip.header.checksum()), " (->",
           hex(ip.header.compute_checksum()), ")]");
  }
  if (ip.icmp && ip.icmp->checksum_ok == false) {
    const auto& p = ip.icmp->packet;
    append(out, " [bad icmp cksum ", hex(p.checksum()), " (->", hex(p.compute_checksum()), ")]");
  }
}

}  // namespace

void format_text(fmt::memory_buffer& out, const Frame& frame, const Dissection& d,
                 const TextOptions& opts) {
  format_timestamp(out, frame.ts, opts);
  if (!d.eth_header) {
    append(out, " [|ether]");
    return;
  }
  const EtherType type = d.eth ? d.eth->ethertype : EtherType{0};
  const bool known = d.eth && (type == EtherType::arp || type == EtherType::ipv4);
  // Like tcpdump, a frame whose payload cannot be shown gets its link header.
  if (d.eth && !known && !opts.link_header) {
    // tcpdump shows what it cannot decode by its link header, naming the
    // innermost type and leaving the tags out.
    append(out, d.eth->src, " > ", d.eth->dst, ", ethertype ", wire::name(type), " (0x",
           hex(static_cast<std::uint16_t>(type), 4), "), length ", frame.wire_len, ": ");
    return;
  }
  const bool show_link = opts.link_header;
  if (!format_link(out, frame, *d.eth_header, show_link)) return;
  if (type == EtherType::arp) {
    format_arp(out, d, show_link);
  } else if (type == EtherType::ipv4) {
    format_ipv4(out, d, show_link);
  }
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
  if (!d.malformed.empty()) j.str("malformed", d.malformed);
}

}  // namespace ersatz::decode
