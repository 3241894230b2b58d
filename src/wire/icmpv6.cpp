#include "ersatz/wire/icmpv6.hpp"

#include <cassert>

#include <algorithm>
#include <string_view>
#include <utility>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::icmpv6 {

void Repr::emit(MutBytes buf, std::uint16_t pseudo) const noexcept {
  assert(buf.size() == buffer_len());
  store_u8(buf, field::type, static_cast<std::uint8_t>(type));
  store_u8(buf, field::code, code);
  store_be32(buf, field::rest.begin, rest);
  std::copy(data.begin(), data.end(), buf.begin() + header_len);
  auto p = Packet<MutBytes>::unchecked(buf);
  p.fill_checksum(pseudo);
}

namespace {

using Out = fmt::memory_buffer;
using text::append;
using text::hex;

/// tcpdump reads each field only when it prints it, and a field that was
/// not captured ends the line with " [|icmp6]". Text keeps that order: a
/// check before every read, and the marker once one fails.
class Text {
 public:
  Text(Out& out, ConstBytes m) : out_(out), m_(m) {}
  bool has(std::size_t end) const noexcept { return end <= m_.size(); }
  /// Appends the marker and returns false when [0, end) was not captured.
  bool need(std::size_t end) {
    if (has(end)) return true;
    append(out_, " [|icmp6]");
    gave_up_ = true;
    return false;
  }
  /// As need(), for tcpdump's ND_TCHECK checks, which end the line with
  /// the marker but without a longjmp.
  bool check(std::size_t end) {
    if (has(end)) return true;
    append(out_, " [|icmp6]");
    return false;
  }
  /// A field read failed (tcpdump's GET_ macros, which longjmp).
  bool gave_up() const noexcept { return gave_up_; }
  std::uint8_t u8(std::size_t at) const noexcept { return load_u8(m_, at); }
  std::uint16_t u16(std::size_t at) const noexcept { return load_be16(m_, at); }
  std::uint32_t u32(std::size_t at) const noexcept { return load_be32(m_, at); }
  Ipv6Address addr(std::size_t at) const noexcept {
    return Ipv6Address::from_bytes(m_.subspan(at, Ipv6Address::size));
  }
  Out& out() noexcept { return out_; }
  ConstBytes bytes() const noexcept { return m_; }

 private:
  Out& out_;
  ConstBytes m_;
  bool gave_up_ = false;
};

/// tcpdump's print_unknown_data: hex of what was captured, eight 16-bit
/// groups a line, each line after "\n\t".
void unknown_data_at(Out& out, ConstBytes d, std::size_t length, std::string_view indent) {
  const std::size_t n = std::min(length, d.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) append(out, indent, "0x", hex(static_cast<std::uint32_t>(i), 4), ": ");
    if (i % 2 == 0) out.push_back(' ');
    append(out, hex(load_u8(d, i), 2));
  }
}
void unknown_data(Out& out, ConstBytes d, std::size_t length) {
  unknown_data_at(out, d, length, "\n\t");
}

/// bittok2str's way: the names of the bits set, in table order, joined by
/// ", "; "none" without any.
template <std::size_t N>
void flag_names(Out& out, std::uint32_t v,
                const std::pair<std::uint32_t, std::string_view> (&t)[N]) {
  bool any = false;
  for (const auto& [bit, name] : t) {
    if ((v & bit) == 0) continue;
    if (any) append(out, ", ");
    append(out, name);
    any = true;
  }
  if (!any) append(out, "none");
}

void lifetime(Out& out, std::uint32_t v) {
  if (v == 0xffffffffU) {
    append(out, "infinity");
  } else {
    append(out, v, 's');
  }
}

/// tcpdump's icmp6_opt_print at -v: one continuation line per option.
/// Returns false when it gave up (the caller prints the marker).
bool nd_options_verbose(Out& out, ConstBytes m, std::size_t at, std::size_t length) {
  static constexpr std::pair<std::uint32_t, std::string_view> pi_flags[] = {
      {0x80, "onlink"}, {0x40, "auto"}, {0x20, "router"}};
  const std::size_t start = at;
  long resid = static_cast<long>(length) - static_cast<long>(at);
  while (at < m.size()) {
    if (at + 2 > m.size()) return false;
    if (resid <= 0) return true;
    const unsigned type = load_u8(m, at);
    const std::size_t len8 = load_u8(m, at + 1);
    if (len8 == 0 || at + len8 * 8 > m.size()) return false;
    std::string_view name = "unknown";
    switch (type) {
      case 1: name = "source link-address"; break;
      case 2: name = "destination link-address"; break;
      case 3: name = "prefix info"; break;
      case 4: name = "redirected header"; break;
      case 5: name = "mtu"; break;
      case 7: name = "advertisement interval"; break;
      case 8: name = "homeagent information"; break;
      case 24: name = "route info"; break;
      case 25: name = "rdnss"; break;
      case 31: name = "dnssl"; break;
      default: break;
    }
    append(out, "\n\t  ", name, " option (", type, "), length ", len8 * 8, " (", len8, "): ");
    const ConstBytes o = m.subspan(at, len8 * 8);
    switch (type) {
      case 1:
      case 2:
        for (std::size_t i = 2; i < o.size(); ++i) {
          if (i > 2) out.push_back(':');
          append(out, hex(load_u8(o, i), 2));
        }
        break;
      case 3:
        if (o.size() < 32) return false;
        append(out, Ipv6Address::from_bytes(o.subspan(16, 16)), '/', load_u8(o, 2),
               len8 != 4 ? std::string_view("badlen") : std::string_view(""), ", Flags [");
        flag_names(out, load_u8(o, 3), pi_flags);
        append(out, "], valid time ");
        lifetime(out, load_be32(o, 4));
        append(out, ", pref. time ");
        lifetime(out, load_be32(o, 8));
        break;
      case 4:
        // tcpdump dumps from the first option, not this one: a quirk, kept.
        unknown_data_at(out, m.subspan(start), len8 * 8, "\n\t    ");
        break;
      case 5:
        append(out, ' ', load_be32(o, 4),
               len8 != 1 ? std::string_view("bad option length") : std::string_view(""));
        break;
      case 25: {
        append(out, " lifetime ", load_be32(o, 4), "s,");
        for (std::size_t i = 0; i < (len8 - 1) / 2; ++i)
          append(out, " addr: ", Ipv6Address::from_bytes(o.subspan(8 + 16 * i, 16)));
        break;
      }
      default: unknown_data_at(out, o.subspan(2), o.size() - 2, "\n\t  "); return true;
    }
    at += len8 * 8;
    resid -= static_cast<long>(len8 * 8);
  }
  return true;
}

constexpr std::size_t oip = header_len;  // where an error's quoted packet starts
constexpr std::size_t oip_src = oip + ipv6::field::src.begin;
constexpr std::size_t oip_dst = oip + ipv6::field::dst.begin;

/// tcpdump's get_upperlayer: walks the quoted packet's extension headers
/// to its TCP or UDP header and returns the offset of its destination port
/// and the protocol, or nothing. Bounded: each step moves 8 bytes or more.
struct Upper {
  std::size_t port_at;
  unsigned protocol;
};
std::optional<Upper> upper_layer(const Text& t) {
  if (!t.has(oip + ipv6::field::next_header + 1)) return std::nullopt;
  unsigned nh = t.u8(oip + ipv6::field::next_header);
  std::size_t at = oip + ipv6::header_len;
  while (at < t.bytes().size()) {
    switch (static_cast<ipv6::NextHeader>(nh)) {
      case ipv6::NextHeader::tcp:
      case ipv6::NextHeader::udp:
        if (!t.has(at + 4)) return std::nullopt;
        return Upper{at + 2, nh};
      case ipv6::NextHeader::hop_by_hop:
      case ipv6::NextHeader::dst_options:
      case ipv6::NextHeader::routing:
        if (!t.has(at + 2)) return std::nullopt;
        nh = t.u8(at);
        at += (t.u8(at + 1) + 1U) * 8U;
        break;
      case ipv6::NextHeader::fragment:
        if (!t.has(at + 4)) return std::nullopt;
        if ((t.u16(at + 2) & ipv6::frag_offset_mask) != 0) return std::nullopt;
        nh = t.u8(at);
        at += ipv6::fragment_len;
        break;
      case ipv6::NextHeader::ah:
        if (!t.has(at + 2)) return std::nullopt;
        nh = t.u8(at);
        at += (t.u8(at + 1) + 2U) * 4U;
        break;
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

/// Returns false when the line ended with the truncation marker.
bool format_unreachable(Text& t, std::uint8_t code) {
  Out& out = t.out();
  switch (static_cast<Unreachable>(code)) {
    case Unreachable::no_route: append(out, ", unreachable route"); break;
    // tcpdump's table has a stray leading space here: ",  unreachable".
    case Unreachable::admin_prohibited: append(out, ",  unreachable prohibited"); break;
    case Unreachable::beyond_scope: append(out, ", beyond scope"); break;
    case Unreachable::address: append(out, ", unreachable address"); break;
    case Unreachable::port: append(out, ", unreachable port"); break;
    default: append(out, ", unknown unreach code (", code, ')'); break;
  }
  switch (static_cast<Unreachable>(code)) {
    case Unreachable::no_route:
    case Unreachable::admin_prohibited:
    case Unreachable::address:
      if (!t.need(oip_dst + 16)) return false;
      append(out, ' ', t.addr(oip_dst));
      return true;
    case Unreachable::beyond_scope:
      if (!t.need(oip_dst + 16)) return false;
      append(out, ' ', t.addr(oip_dst), ", source address ", t.addr(oip_src));
      return true;
    case Unreachable::port: {
      auto u = upper_layer(t);
      if (!u || !t.has(oip_dst + 16)) {
        append(out, " [|icmp6]");
        return false;
      }
      const unsigned port = t.u16(u->port_at);
      if (u->protocol == 6) {
        append(out, ", ", t.addr(oip_dst), " tcp port ", port);
      } else {
        append(out, ", ", t.addr(oip_dst), " udp port ", port);
      }
      return true;
    }
    default: return true;
  }
}

void format_mld(Text& t) {
  // tcpdump prints nothing when the 24 bytes were not all captured, and
  // its text follows the type's name with no separator.
  if (!t.has(mld_len)) return;
  append(t.out(), "max resp delay: ", t.u16(field::mld_max_delay.begin),
         " addr: ", t.addr(field::mld_address.begin));
}

bool format_mld2_query(Text& t, std::size_t length, int verbose) {
  Out& out = t.out();
  if (verbose > 0) {
    if (!t.need(field::mld_max_delay.end)) return false;
    // RFC 3810 §5.1.3: a code of 32768 or more is a floating-point value.
    const unsigned mrc = t.u16(field::mld_max_delay.begin);
    const unsigned mrt =
        mrc < 32768 ? mrc : ((mrc & 0x0fffU) | 0x1000U) << (((mrc & 0x7000U) >> 12) + 3);
    append(out, " [max resp delay=", mrt, ']');
  }
  if (!t.need(field::mld_address.end)) return false;
  append(out, " [gaddr ", t.addr(field::mld_address.begin));
  if (verbose > 0) {
    if (!t.need(field::mld2_qqic + 1)) return false;
    const unsigned sq = t.u8(field::mld2_s_qrv);
    if (sq & 0x08U) append(out, " sflag");
    if (sq & 0x07U) append(out, " robustness=", sq & 0x07U);
    const unsigned qqic = t.u8(field::mld2_qqic);
    const unsigned qqi =
        qqic < 128 ? qqic : ((qqic & 0x0fU) | 0x10U) << (((qqic & 0x70U) >> 4) + 3);
    append(out, " qqi=", qqi);
  }
  if (!t.need(field::mld2_num_sources.end)) return false;
  const std::size_t n = t.u16(field::mld2_num_sources.begin);
  if (n > 0) {
    if (length < mld2_query_len + n * 16) {
      append(out, " [invalid number of sources]");
    } else if (verbose > 1) {
      append(out, " {");
      for (std::size_t i = 0; i < n; ++i) {
        if (!t.need(mld2_query_len + 16 * (i + 1))) return false;
        append(out, ' ', t.addr(mld2_query_len + 16 * i));
      }
      append(out, " }");
    } else {
      append(out, ", ", n, " source(s)");
    }
  }
  append(out, ']');
  return true;
}

/// tcpdump's mldv2_report_print at -v: each record, checked against the
/// message's length before it is read.
bool format_mld2_records(Text& t, std::size_t length, int verbose) {
  static constexpr std::string_view names[] = {"is_in", "is_ex", "to_in",
                                               "to_ex", "allow", "block"};
  Out& out = t.out();
  const std::size_t n = t.u16(field::mld2_num_records.begin);
  std::size_t at = header_len;
  for (std::size_t i = 0; i < n; ++i) {
    if (length < at + record_min_len) {
      append(out, " [invalid number of groups]");
      return true;
    }
    if (!t.need(at + record_min_len)) return false;
    append(out, " [gaddr ", t.addr(at + 4));
    const unsigned type = t.u8(at);
    if (type >= 1 && type <= 6) {
      append(out, ' ', names[type - 1]);
    } else {
      append(out, "  [v2-report-#", type, ']');
    }
    const std::size_t sources = t.u16(at + 2);
    if (length < at + record_min_len + sources * 16) {
      append(out, " [invalid number of sources ", sources, ']');
      return true;
    }
    if (verbose == 1) {
      append(out, ", ", sources, " source(s)");
    } else {
      append(out, " {");
      for (std::size_t k = 0; k < sources; ++k) {
        if (!t.need(at + record_min_len + 16 * (k + 1))) return false;
        append(out, ' ', t.addr(at + record_min_len + 16 * k));
      }
      append(out, " }");
    }
    at += record_min_len + sources * 16;
    out.push_back(']');
  }
  return true;
}

}  // namespace

namespace {
void format_into(Text& t, ConstBytes message, std::size_t length, const TextOptions& o);
}  // namespace

bool format(fmt::memory_buffer& out, ConstBytes message, std::size_t length) {
  return format(out, message, length, TextOptions{});
}

bool format(fmt::memory_buffer& out, ConstBytes message, std::size_t length, const TextOptions& o) {
  Text t(out, message);
  format_into(t, message, length, o);
  return t.gave_up();
}

namespace {

void format_into(Text& t, ConstBytes message, std::size_t length, const TextOptions& o) {
  Out& out = t.out();
  if (length == 0) {
    append(out, "ICMP6, length 0 (invalid)");
    return;
  }
  if (o.verbose > 0 && o.checksum_ok) {
    if (*o.checksum_ok) {
      append(out, "[icmp6 sum ok] ");
    } else {
      append(out, "[bad icmp6 cksum 0x", hex(load_be16(message, field::checksum.begin), 4),
             " -> 0x", hex(o.checksum_should_be, 4), "!] ");
    }
  }
  if (!t.need(1)) return;
  const auto type = Type{t.u8(field::type)};
  append(out, "ICMP6, ");
  switch (type) {
    case Type::dst_unreachable: append(out, "destination unreachable"); break;
    case Type::packet_too_big: append(out, "packet too big"); break;
    case Type::time_exceeded: append(out, "time exceeded in-transit"); break;
    case Type::param_problem: append(out, "parameter problem"); break;
    case Type::echo_request: append(out, "echo request"); break;
    case Type::echo_reply: append(out, "echo reply"); break;
    case Type::mld_query: append(out, "multicast listener query"); break;
    case Type::mld_report: append(out, "multicast listener report"); break;
    case Type::mld_done: append(out, "multicast listener done"); break;
    case Type::router_solicit: append(out, "router solicitation"); break;
    case Type::router_advert: append(out, "router advertisement"); break;
    case Type::neighbor_solicit: append(out, "neighbor solicitation"); break;
    case Type::neighbor_advert: append(out, "neighbor advertisement"); break;
    case Type::redirect: append(out, "redirect"); break;
    case Type::mld2_report: append(out, "multicast listener report v2"); break;
    default:
      append(out, "unknown icmp6 type (", static_cast<unsigned>(type), ')');
      // tcpdump knows a few more types by name and prints them otherwise;
      // ersatz names only those above.
      if (!t.need(2)) return;
      append(out, ", length ", length);
      unknown_data(out, message, length);
      return;
  }
  // -v moves the length of the NDP messages up, before their details.
  const bool nd = type == Type::router_solicit || type == Type::router_advert ||
                  type == Type::neighbor_solicit || type == Type::neighbor_advert ||
                  type == Type::redirect;
  if (o.verbose > 0 && nd) append(out, ", length ", length);
  if (!t.need(2)) return;
  const std::uint8_t code = t.u8(field::code);
  // ND options on continuation lines, from `at` on.
  auto options = [&](std::size_t at) {
    if (o.verbose == 0) return true;
    if (nd_options_verbose(out, message, at, length)) return true;
    append(out, " [|icmp6]");
    return false;
  };
  switch (type) {
    case Type::dst_unreachable:
      if (code > static_cast<std::uint8_t>(Unreachable::port)) {
        append(out, ", unknown unreach code (", code, ')');
        unknown_data(out, message, length);
        return;
      }
      if (!format_unreachable(t, code)) return;
      break;
    case Type::packet_too_big:
      if (!t.need(field::mtu.end)) return;
      append(out, ", mtu ", t.u32(field::mtu.begin));
      break;
    case Type::time_exceeded:
      if (code == 0) {
        if (!t.need(oip_dst + 16)) return;
        append(out, " for ", t.addr(oip_dst));
      } else if (code == 1) {
        append(out, " (reassembly)");
      } else {
        append(out, ", unknown code (", code, ')');
      }
      break;
    case Type::param_problem: {
      if (!t.check(oip_dst + 16)) return;
      const std::uint32_t ptr = t.u32(field::pointer.begin);
      switch (static_cast<ParamProblem>(code)) {
        case ParamProblem::header: append(out, ", erroneous - octet ", ptr); break;
        case ParamProblem::next_header: append(out, ", next header - octet ", ptr); break;
        case ParamProblem::option: append(out, ", option - octet ", ptr); break;
        case ParamProblem::header_chain:
          append(out, ", incomplete header chain - octet ", ptr);
          break;
        default: append(out, ", code-#", code); break;
      }
      break;
    }
    case Type::echo_request:
    case Type::echo_reply:
      if (!t.need(field::seq.end)) return;
      append(out, ", id ", t.u16(field::ident.begin), ", seq ", t.u16(field::seq.begin));
      break;
    case Type::mld_query:
      if (length == mld_len) {
        format_mld(t);
      } else if (length >= mld2_query_len) {
        append(out, " v2");
        if (!format_mld2_query(t, length, o.verbose)) return;
      } else {
        append(out, " unknown-version (len ", length, ") ");
      }
      break;
    case Type::mld_report:
    case Type::mld_done: format_mld(t); break;
    case Type::router_solicit:
      if (!options(rs_len)) return;
      break;
    case Type::router_advert:
      if (o.verbose > 0) {
        static constexpr std::pair<std::uint32_t, std::string_view> ra_flags[] = {
            {0x80, "managed"}, {0x40, "other stateful"}, {0x20, "home agent"}, {0x02, "ipv6 only"}};
        static constexpr std::string_view prefs[] = {"medium", "high", "rsv", "low"};
        if (!t.need(ra_len)) return;
        const unsigned flags = t.u8(field::ra_flags);
        append(out, "\n\thop limit ", t.u8(field::ra_hop_limit), ", Flags [");
        flag_names(out, flags, ra_flags);
        append(out, "], pref ", prefs[(flags & ra_prf_mask) >> 3], ", router lifetime ",
               t.u16(field::ra_lifetime.begin), "s, reachable time ",
               t.u32(field::ra_reachable.begin), "ms, retrans timer ",
               t.u32(field::ra_retrans.begin), "ms");
        if (!options(ra_len)) return;
      }
      break;
    case Type::neighbor_solicit:
      if (!t.need(field::target.end)) return;
      append(out, ", who has ", t.addr(field::target.begin));
      if (!options(ns_len)) return;
      break;
    case Type::neighbor_advert:
      if (!t.need(field::target.end)) return;
      append(out, ", tgt is ", t.addr(field::target.begin));
      if (o.verbose > 0) {
        static constexpr std::pair<std::uint32_t, std::string_view> na_flags[] = {
            {0x80000000U, "router"}, {0x40000000U, "solicited"}, {0x20000000U, "override"}};
        append(out, ", Flags [");
        flag_names(out, t.u32(field::rest.begin), na_flags);
        out.push_back(']');
        if (!options(na_len)) return;
      }
      break;
    case Type::redirect:
      if (!t.need(field::target.end)) return;
      // The destination is printed first, though it comes second.
      if (!t.need(field::rd_destination.end)) return;
      append(out, ", ", t.addr(field::rd_destination.begin), " to ", t.addr(field::target.begin));
      if (!options(redirect_len)) return;
      break;
    case Type::mld2_report:
      if (!t.need(field::mld2_num_records.end)) return;
      append(out, ", ", t.u16(field::mld2_num_records.begin), " group record(s)");
      if (o.verbose > 0 && !format_mld2_records(t, length, o.verbose)) return;
      break;
    default: break;
  }
  if (o.verbose == 0) append(out, ", length ", length);
}

}  // namespace

}  // namespace ersatz::wire::icmpv6
