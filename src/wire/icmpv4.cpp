#include "ersatz/wire/icmpv4.hpp"

#include <cassert>

#include <algorithm>
#include <string_view>

namespace ersatz::wire::icmpv4 {

Result<Repr> Repr::parse(const Packet<ConstBytes>& p, ipv4::Verify verify) noexcept {
  if (verify == ipv4::Verify::yes && !p.verify_checksum()) return fail(Error::bad_checksum);
  return Repr{p.type(), p.code(), p.rest(), p.data()};
}

void Repr::emit(MutBytes buf) const noexcept {
  assert(buf.size() == buffer_len());
  store_u8(buf, field::type, static_cast<std::uint8_t>(type));
  store_u8(buf, field::code, code);
  store_be32(buf, field::rest.begin, rest);
  std::copy(data.begin(), data.end(), buf.begin() + header_len);
  auto p = Packet<MutBytes>::unchecked(buf);
  p.fill_checksum();
}

namespace {

using Out = fmt::memory_buffer;

auto it(Out& out) { return std::back_inserter(out); }

/// What tcpdump reads of a quoted datagram without validating it: the
/// fields of its fixed header, and the port after its own IHL.
struct QuotedFields {
  ConstBytes data;
  Ipv4Address dst() const noexcept { return Ipv4Address::from_bytes(data.subspan(16, 4)); }
  unsigned protocol() const noexcept { return load_u8(data, 9); }
  std::size_t header_len() const noexcept { return (load_u8(data, 0) & 0x0fU) * 4U; }
  std::uint16_t dst_port() const noexcept { return load_be16(data, header_len() + 2); }
};

/// RFC 1256 router advertisement: entries of 8 bytes after the header.
constexpr std::size_t ra_entry_len = 8;
constexpr std::size_t quoted_dst_end = header_len + ipv4::min_header_len;

/// How much of the message the text line reads. tcpdump prints each field
/// only if it was captured and gives up on the whole message otherwise, so
/// a message too short for its Packet view may still have a line (an
/// unknown type needs only its type byte).
std::size_t text_needs(ConstBytes m) noexcept {
  if (m.size() < 2) return 2;
  const std::uint8_t code = load_u8(m, field::code);
  switch (Type{load_u8(m, field::type)}) {
    case Type::echo_request:
    case Type::echo_reply:
    case Type::timestamp: return header_len;
    case Type::timestamp_reply: return timestamp_len;
    case Type::mask_reply: return mask_len;
    case Type::param_problem: return code == 0 ? field::pointer + 1 : 2;
    case Type::redirect:
    case Type::time_exceeded: return quoted_dst_end;
    case Type::dst_unreachable:
      if (code != static_cast<std::uint8_t>(Unreachable::port) || m.size() < quoted_dst_end)
        return quoted_dst_end;
      return std::max(quoted_dst_end,
                      header_len + QuotedFields{m.subspan(header_len)}.header_len() + 4);
    case Type::router_advert:
      if (m.size() < header_len) return header_len;
      return header_len + (load_u8(m, 5) == 2 ? load_u8(m, 4) * ra_entry_len : 0);
    default: return 2;
  }
}

/// Reads the fields of a message that text_needs() found captured.
struct TextFields {
  ConstBytes m;
  Type type() const noexcept { return Type{load_u8(m, field::type)}; }
  std::uint8_t code() const noexcept { return load_u8(m, field::code); }
  std::uint16_t ident() const noexcept { return load_be16(m, field::ident.begin); }
  std::uint16_t seq() const noexcept { return load_be16(m, field::seq.begin); }
  std::uint16_t mtu() const noexcept { return load_be16(m, field::mtu.begin); }
  std::uint8_t pointer() const noexcept { return load_u8(m, field::pointer); }
  Ipv4Address gateway() const noexcept { return Ipv4Address::from_bytes(sub(m, field::gateway)); }
  std::uint32_t word(Field f) const noexcept { return load_be32(m, f.begin); }
  QuotedFields quote() const noexcept { return {m.subspan(header_len)}; }
};

void format_unreachable(Out& out, std::uint8_t code, const TextFields& h, QuotedFields q) {
  const Ipv4Address dst = q.dst();
  switch (static_cast<Unreachable>(code)) {
    case Unreachable::net: fmt::format_to(it(out), "net {} unreachable", dst); return;
    case Unreachable::host: fmt::format_to(it(out), "host {} unreachable", dst); return;
    case Unreachable::protocol:
      fmt::format_to(it(out), "{} protocol {} unreachable", dst, q.protocol());
      return;
    case Unreachable::port:
      // TCP and UDP both put the destination port at offset 2.
      switch (static_cast<ipv4::Protocol>(q.protocol())) {
        case ipv4::Protocol::tcp:
          fmt::format_to(it(out), "{} tcp port {} unreachable", dst, q.dst_port());
          return;
        case ipv4::Protocol::udp:
          fmt::format_to(it(out), "{} udp port {} unreachable", dst, q.dst_port());
          return;
        default:
          fmt::format_to(it(out), "{} protocol {} port {} unreachable", dst, q.protocol(),
                         q.dst_port());
          return;
      }
    case Unreachable::frag_needed:
      if (h.mtu() != 0) {
        fmt::format_to(it(out), "{} unreachable - need to frag (mtu {})", dst, h.mtu());
      } else {
        fmt::format_to(it(out), "{} unreachable - need to frag", dst);
      }
      return;
    case Unreachable::src_route_failed:
      fmt::format_to(it(out), "{} unreachable - source route failed", dst);
      return;
    case Unreachable::net_unknown:
      fmt::format_to(it(out), "net {} unreachable - unknown", dst);
      return;
    case Unreachable::host_unknown:
      fmt::format_to(it(out), "host {} unreachable - unknown", dst);
      return;
    case Unreachable::host_isolated:
      fmt::format_to(it(out), "{} unreachable - source host isolated", dst);
      return;
    case Unreachable::net_prohibited:
      fmt::format_to(it(out), "net {} unreachable - admin prohibited", dst);
      return;
    case Unreachable::host_prohibited:
      fmt::format_to(it(out), "host {} unreachable - admin prohibited", dst);
      return;
    case Unreachable::net_tos:
      fmt::format_to(it(out), "net {} unreachable - tos prohibited", dst);
      return;
    case Unreachable::host_tos:
      fmt::format_to(it(out), "host {} unreachable - tos prohibited", dst);
      return;
    case Unreachable::comm_prohibited:
      fmt::format_to(it(out), "host {} unreachable - admin prohibited filter", dst);
      return;
    case Unreachable::host_precedence:
      fmt::format_to(it(out), "host {} unreachable - host precedence violation", dst);
      return;
    case Unreachable::precedence_cutoff:
      fmt::format_to(it(out), "host {} unreachable - precedence cutoff", dst);
      return;
  }
  fmt::format_to(it(out), "{} unreachable - #{}", dst, code);
}

void format_redirect(Out& out, std::uint8_t code, const TextFields& h, QuotedFields q) {
  switch (static_cast<Redirect>(code)) {
    case Redirect::net:
      fmt::format_to(it(out), "redirect {} to net {}", q.dst(), h.gateway());
      return;
    case Redirect::host:
      fmt::format_to(it(out), "redirect {} to host {}", q.dst(), h.gateway());
      return;
    case Redirect::tos_net:
      fmt::format_to(it(out), "redirect-tos {} to net {}", q.dst(), h.gateway());
      return;
    case Redirect::tos_host:
      fmt::format_to(it(out), "redirect-tos {} to host {}", q.dst(), h.gateway());
      return;
  }
  fmt::format_to(it(out), "redirect-#{} {} to {}", code, q.dst(), h.gateway());
}

/// RFC 792 timestamps are milliseconds since midnight UT; like tcpdump, the
/// hours are not wrapped at 24.
void format_ms(Out& out, std::uint32_t ms) {
  const std::uint32_t sec = ms / 1000;
  fmt::format_to(it(out), "{:02}:{:02}:{:02}.{:03}", sec / 3600, sec / 60 % 60, sec % 60,
                 ms % 1000);
}

void format_router_advert(Out& out, const TextFields& p) {
  const unsigned lifetime = p.mtu();  // bytes 6-7, where frag-needed keeps the MTU
  const std::size_t count = load_u8(p.m, 4);
  const std::size_t words = load_u8(p.m, 5);
  out.append(std::string_view("router advertisement lifetime "));
  if (lifetime < 60) {
    fmt::format_to(it(out), "{}", lifetime);
  } else if (lifetime < 3600) {
    fmt::format_to(it(out), "{}:{:02}", lifetime / 60, lifetime % 60);
  } else {
    fmt::format_to(it(out), "{}:{:02}:{:02}", lifetime / 3600, lifetime % 3600 / 60, lifetime % 60);
  }
  fmt::format_to(it(out), " {}:", count);
  if (words != 2) {
    fmt::format_to(it(out), " [size {}]", words);
    return;
  }
  const ConstBytes d = p.m.subspan(header_len);
  for (std::size_t i = 0; i < count; ++i) {
    fmt::format_to(it(out), " {{{} {}}}", Ipv4Address::from_bytes(d.subspan(i * ra_entry_len, 4)),
                   load_be32(d, i * ra_entry_len + 4));
  }
}

void format_body(Out& out, const TextFields& p) {
  switch (p.type()) {
    case Type::echo_request:
    case Type::echo_reply:
      fmt::format_to(it(out), "echo {}, id {}, seq {}",
                     p.type() == Type::echo_request ? "request" : "reply", p.ident(), p.seq());
      return;
    // Only these two read the quote; text_needs() made sure it is there.
    // (A message of another type may be shorter than its header.)
    case Type::dst_unreachable: format_unreachable(out, p.code(), p, p.quote()); return;
    case Type::redirect: format_redirect(out, p.code(), p, p.quote()); return;
    case Type::source_quench: out.append(std::string_view("source quench")); return;
    case Type::time_exceeded:
      if (p.code() == static_cast<std::uint8_t>(TimeExceeded::ttl)) {
        out.append(std::string_view("time exceeded in-transit"));
      } else if (p.code() == static_cast<std::uint8_t>(TimeExceeded::reassembly)) {
        out.append(std::string_view("ip reassembly time exceeded"));
      } else {
        fmt::format_to(it(out), "time exceeded-#{}", p.code());
      }
      return;
    case Type::param_problem:
      if (p.code() != 0) {
        fmt::format_to(it(out), "parameter problem - code {}", p.code());
      } else {
        fmt::format_to(it(out), "parameter problem - octet {}", p.pointer());
      }
      return;
    case Type::timestamp:
      fmt::format_to(it(out), "time stamp query id {} seq {}", p.ident(), p.seq());
      return;
    case Type::timestamp_reply:
      fmt::format_to(it(out), "time stamp reply id {} seq {}: org ", p.ident(), p.seq());
      format_ms(out, p.word(field::originate));
      out.append(std::string_view(", recv "));
      format_ms(out, p.word(field::receive));
      out.append(std::string_view(", xmit "));
      format_ms(out, p.word(field::transmit));
      return;
    case Type::info_request: out.append(std::string_view("information request")); return;
    case Type::info_reply: out.append(std::string_view("information reply")); return;
    case Type::mask_request: out.append(std::string_view("address mask request")); return;
    case Type::mask_reply:
      fmt::format_to(it(out), "address mask is 0x{:08x}", p.word(field::mask));
      return;
    case Type::router_solicit: out.append(std::string_view("router solicitation")); return;
    case Type::router_advert: format_router_advert(out, p); return;
  }
  fmt::format_to(it(out), "type-#{}", static_cast<unsigned>(p.type()));
}

}  // namespace

void format(fmt::memory_buffer& out, ConstBytes message, std::size_t length) {
  // One check up front covers every field the line reads.
  if (message.size() < text_needs(message)) {
    out.append(std::string_view(" [|icmp]"));
    return;
  }
  out.append(std::string_view("ICMP "));
  format_body(out, TextFields{message});
  fmt::format_to(it(out), ", length {}", length);
}

}  // namespace ersatz::wire::icmpv4
