#include "ersatz/wire/icmpv4.hpp"

#include <cassert>

#include <algorithm>
#include <string_view>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::icmpv4 {

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
using text::append;
using text::dec;
using text::hex;

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
    case Unreachable::net: append(out, "net ", dst, " unreachable"); return;
    case Unreachable::host: append(out, "host ", dst, " unreachable"); return;
    case Unreachable::protocol:
      append(out, dst, " protocol ", q.protocol(), " unreachable");
      return;
    case Unreachable::port:
      // TCP and UDP both put the destination port at offset 2.
      switch (static_cast<ipv4::Protocol>(q.protocol())) {
        case ipv4::Protocol::tcp:
          append(out, dst, " tcp port ", q.dst_port(), " unreachable");
          return;
        case ipv4::Protocol::udp:
          append(out, dst, " udp port ", q.dst_port(), " unreachable");
          return;
        default:
          append(out, dst, " protocol ", q.protocol(), " port ", q.dst_port(), " unreachable");
          return;
      }
    case Unreachable::frag_needed:
      if (h.mtu() != 0) {
        append(out, dst, " unreachable - need to frag (mtu ", h.mtu(), ')');
      } else {
        append(out, dst, " unreachable - need to frag");
      }
      return;
    case Unreachable::src_route_failed:
      append(out, dst, " unreachable - source route failed");
      return;
    case Unreachable::net_unknown: append(out, "net ", dst, " unreachable - unknown"); return;
    case Unreachable::host_unknown: append(out, "host ", dst, " unreachable - unknown"); return;
    case Unreachable::host_isolated:
      append(out, dst, " unreachable - source host isolated");
      return;
    case Unreachable::net_prohibited:
      append(out, "net ", dst, " unreachable - admin prohibited");
      return;
    case Unreachable::host_prohibited:
      append(out, "host ", dst, " unreachable - admin prohibited");
      return;
    case Unreachable::net_tos: append(out, "net ", dst, " unreachable - tos prohibited"); return;
    case Unreachable::host_tos: append(out, "host ", dst, " unreachable - tos prohibited"); return;
    case Unreachable::comm_prohibited:
      append(out, "host ", dst, " unreachable - admin prohibited filter");
      return;
    case Unreachable::host_precedence:
      append(out, "host ", dst, " unreachable - host precedence violation");
      return;
    case Unreachable::precedence_cutoff:
      append(out, "host ", dst, " unreachable - precedence cutoff");
      return;
  }
  append(out, dst, " unreachable - #", code);
}

void format_redirect(Out& out, std::uint8_t code, const TextFields& h, QuotedFields q) {
  switch (static_cast<Redirect>(code)) {
    case Redirect::net: append(out, "redirect ", q.dst(), " to net ", h.gateway()); return;
    case Redirect::host: append(out, "redirect ", q.dst(), " to host ", h.gateway()); return;
    case Redirect::tos_net: append(out, "redirect-tos ", q.dst(), " to net ", h.gateway()); return;
    case Redirect::tos_host:
      append(out, "redirect-tos ", q.dst(), " to host ", h.gateway());
      return;
  }
  append(out, "redirect-#", code, ' ', q.dst(), " to ", h.gateway());
}

/// RFC 792 timestamps are milliseconds since midnight UT; like tcpdump, the
/// hours are not wrapped at 24.
void format_ms(Out& out, std::uint32_t ms) {
  const std::uint32_t sec = ms / 1000;
  append(out, dec(sec / 3600, 2), ':', dec(sec / 60 % 60, 2), ':', dec(sec % 60, 2), '.',
         dec(ms % 1000, 3));
}

void format_router_advert(Out& out, const TextFields& p) {
  const unsigned lifetime = p.mtu();  // bytes 6-7, where frag-needed keeps the MTU
  const std::size_t count = load_u8(p.m, 4);
  const std::size_t words = load_u8(p.m, 5);
  append(out, "router advertisement lifetime ");
  if (lifetime < 60) {
    append(out, lifetime);
  } else if (lifetime < 3600) {
    append(out, lifetime / 60, ':', dec(lifetime % 60, 2));
  } else {
    append(out, lifetime / 3600, ':', dec(lifetime % 3600 / 60, 2), ':', dec(lifetime % 60, 2));
  }
  append(out, ' ', count, ':');
  if (words != 2) {
    append(out, " [size ", words, ']');
    return;
  }
  const ConstBytes d = p.m.subspan(header_len);
  for (std::size_t i = 0; i < count; ++i) {
    append(out, " {", Ipv4Address::from_bytes(d.subspan(i * ra_entry_len, 4)), ' ',
           load_be32(d, i * ra_entry_len + 4), '}');
  }
}

void format_body(Out& out, const TextFields& p) {
  switch (p.type()) {
    case Type::echo_request: append(out, "echo request, id ", p.ident(), ", seq ", p.seq()); return;
    case Type::echo_reply: append(out, "echo reply, id ", p.ident(), ", seq ", p.seq()); return;
    // Only these two read the quote; text_needs() made sure it is there.
    // (A message of another type may be shorter than its header.)
    case Type::dst_unreachable: format_unreachable(out, p.code(), p, p.quote()); return;
    case Type::redirect: format_redirect(out, p.code(), p, p.quote()); return;
    case Type::source_quench: append(out, "source quench"); return;
    case Type::time_exceeded:
      if (p.code() == static_cast<std::uint8_t>(TimeExceeded::ttl)) {
        append(out, "time exceeded in-transit");
      } else if (p.code() == static_cast<std::uint8_t>(TimeExceeded::reassembly)) {
        append(out, "ip reassembly time exceeded");
      } else {
        append(out, "time exceeded-#", p.code());
      }
      return;
    case Type::param_problem:
      if (p.code() != 0) {
        append(out, "parameter problem - code ", p.code());
      } else {
        append(out, "parameter problem - octet ", p.pointer());
      }
      return;
    case Type::timestamp: append(out, "time stamp query id ", p.ident(), " seq ", p.seq()); return;
    case Type::timestamp_reply:
      append(out, "time stamp reply id ", p.ident(), " seq ", p.seq(), ": org ");
      format_ms(out, p.word(field::originate));
      append(out, ", recv ");
      format_ms(out, p.word(field::receive));
      append(out, ", xmit ");
      format_ms(out, p.word(field::transmit));
      return;
    case Type::info_request: append(out, "information request"); return;
    case Type::info_reply: append(out, "information reply"); return;
    case Type::mask_request: append(out, "address mask request"); return;
    case Type::mask_reply: append(out, "address mask is 0x", hex(p.word(field::mask), 8)); return;
    case Type::router_solicit: append(out, "router solicitation"); return;
    case Type::router_advert: format_router_advert(out, p); return;
  }
  append(out, "type-#", static_cast<unsigned>(p.type()));
}

}  // namespace

void format(fmt::memory_buffer& out, ConstBytes message, std::size_t length) {
  // One check up front covers every field the line reads.
  if (message.size() < text_needs(message)) {
    append(out, " [|icmp]");
    return;
  }
  append(out, "ICMP ");
  format_body(out, TextFields{message});
  append(out, ", length ", length);
}

}  // namespace ersatz::wire::icmpv4
