#include "ersatz/wire/icmpv4.hpp"

#include <algorithm>
#include <string_view>

namespace ersatz::wire::icmpv4 {

Result<Repr> Repr::parse(const Packet<ConstBytes>& p, ipv4::Verify verify) noexcept {
  if (verify == ipv4::Verify::yes && !p.verify_checksum()) return fail(Error::bad_checksum);
  return Repr{p.type(), p.code(), p.rest(), p.data()};
}

void Repr::emit(MutBytes buf) const noexcept {
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

/// Destination unreachable, worded as tcpdump's print-icmp.c does.
void format_unreachable(Out& out, std::uint8_t code, const HeaderFields<ConstBytes>& h,
                        const ipv4::Quote& q) {
  const Ipv4Address dst = q.dst();
  switch (static_cast<Unreachable>(code)) {
    case Unreachable::net: fmt::format_to(it(out), "net {} unreachable", dst); return;
    case Unreachable::host: fmt::format_to(it(out), "host {} unreachable", dst); return;
    case Unreachable::protocol:
      fmt::format_to(it(out), "{} protocol {} unreachable", dst, static_cast<unsigned>(q.protocol()));
      return;
    case Unreachable::port: {
      // Both TCP and UDP put the destination port at offset 2; the quote
      // view guarantees 8 bytes of the original data.
      const std::uint16_t port = load_be16(q.payload(), 2);
      switch (q.protocol()) {
        case ipv4::Protocol::tcp: fmt::format_to(it(out), "{} tcp port {} unreachable", dst, port); return;
        case ipv4::Protocol::udp: fmt::format_to(it(out), "{} udp port {} unreachable", dst, port); return;
        default:
          fmt::format_to(it(out), "{} protocol {} port {} unreachable", dst,
                         static_cast<unsigned>(q.protocol()), port);
          return;
      }
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
    case Unreachable::net_unknown: fmt::format_to(it(out), "net {} unreachable - unknown", dst); return;
    case Unreachable::host_unknown: fmt::format_to(it(out), "host {} unreachable - unknown", dst); return;
    case Unreachable::host_isolated:
      fmt::format_to(it(out), "{} unreachable - source host isolated", dst);
      return;
    case Unreachable::net_prohibited:
      fmt::format_to(it(out), "net {} unreachable - admin prohibited", dst);
      return;
    case Unreachable::host_prohibited:
      fmt::format_to(it(out), "host {} unreachable - admin prohibited", dst);
      return;
    case Unreachable::net_tos: fmt::format_to(it(out), "net {} unreachable - tos prohibited", dst); return;
    case Unreachable::host_tos: fmt::format_to(it(out), "host {} unreachable - tos prohibited", dst); return;
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

void format_redirect(Out& out, std::uint8_t code, const HeaderFields<ConstBytes>& h, const ipv4::Quote& q) {
  switch (static_cast<Redirect>(code)) {
    case Redirect::net: fmt::format_to(it(out), "redirect {} to net {}", q.dst(), h.gateway()); return;
    case Redirect::host: fmt::format_to(it(out), "redirect {} to host {}", q.dst(), h.gateway()); return;
    case Redirect::tos_net:
      fmt::format_to(it(out), "redirect-tos {} to net {}", q.dst(), h.gateway());
      return;
    case Redirect::tos_host:
      fmt::format_to(it(out), "redirect-tos {} to host {}", q.dst(), h.gateway());
      return;
  }
  fmt::format_to(it(out), "redirect-#{} {} to {}", code, q.dst(), h.gateway());
}

/// RFC 792 timestamps are milliseconds since midnight UT.
void format_ms(Out& out, std::uint32_t ms) {
  const std::uint32_t sec = ms / 1000;
  fmt::format_to(it(out), "{:02}:{:02}:{:02}.{:03}", sec / 3600, sec / 60 % 60, sec % 60, ms % 1000);
}

/// The error messages need the quoted datagram; false when it is damaged.
bool format_error(Out& out, const Packet<ConstBytes>& p) {
  auto q = p.quote();
  if (!q) return false;
  switch (p.type()) {
    case Type::dst_unreachable: format_unreachable(out, p.code(), p, *q); break;
    case Type::redirect: format_redirect(out, p.code(), p, *q); break;
    case Type::source_quench: out.append(std::string_view("source quench")); break;
    case Type::time_exceeded:
      if (p.code() == 0) {
        out.append(std::string_view("time exceeded in-transit"));
      } else if (p.code() == 1) {
        out.append(std::string_view("ip reassembly time exceeded"));
      } else {
        fmt::format_to(it(out), "time exceeded-#{}", p.code());
      }
      break;
    case Type::param_problem:
      if (p.code() != 0) {
        fmt::format_to(it(out), "parameter problem - code {}", p.code());
      } else {
        fmt::format_to(it(out), "parameter problem - octet {}", p.pointer());
      }
      break;
    default: break;
  }
  return true;
}

}  // namespace

void format(fmt::memory_buffer& out, ConstBytes message, std::size_t length) {
  auto p = Packet<ConstBytes>::checked(message);
  out.append(std::string_view("ICMP "));
  if (!p) {
    out.append(std::string_view("[|icmp]"));
    return;
  }
  switch (p->type()) {
    case Type::echo_request:
    case Type::echo_reply:
      fmt::format_to(it(out), "echo {}, id {}, seq {}", p->type() == Type::echo_request ? "request" : "reply",
                     p->ident(), p->seq());
      break;
    case Type::timestamp:
      fmt::format_to(it(out), "time stamp query id {} seq {}", p->ident(), p->seq());
      break;
    case Type::timestamp_reply:
      fmt::format_to(it(out), "time stamp reply id {} seq {}: org ", p->ident(), p->seq());
      format_ms(out, p->originate());
      out.append(std::string_view(", recv "));
      format_ms(out, p->receive());
      out.append(std::string_view(", xmit "));
      format_ms(out, p->transmit());
      break;
    case Type::info_request: out.append(std::string_view("information request")); break;
    case Type::info_reply: out.append(std::string_view("information reply")); break;
    case Type::mask_request: out.append(std::string_view("address mask request")); break;
    case Type::mask_reply: fmt::format_to(it(out), "address mask is 0x{:08x}", p->mask()); break;
    case Type::router_solicit: out.append(std::string_view("router solicitation")); break;
    case Type::router_advert: out.append(std::string_view("router advertisement")); break;
    default:
      if (is_error(p->type())) {
        if (!format_error(out, *p)) {
          out.append(std::string_view("[|icmp]"));
          return;
        }
      } else {
        fmt::format_to(it(out), "type-#{}", static_cast<unsigned>(p->type()));
      }
      break;
  }
  fmt::format_to(it(out), ", length {}", length);
}

}  // namespace ersatz::wire::icmpv4
