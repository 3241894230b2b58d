// ICMP for IPv6 (RFC 4443), Neighbor Discovery (RFC 4861: router and
// neighbor solicitation and advertisement, redirect, and their options),
// and Multicast Listener Discovery (MLDv1, RFC 2710; MLDv2, RFC 3810).
//
// The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3), so the
// checksum functions take its sum (ipv6::pseudo_header_sum).
#pragma once

#include <fmt/format.h>
#include <cstdint>
#include <optional>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/checksum.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/ipv4.hpp"
#include "ersatz/wire/ipv6.hpp"

namespace ersatz::wire::icmpv6 {

/// Open enum of message types.
enum class Type : std::uint8_t {
  dst_unreachable = 1,
  packet_too_big = 2,
  time_exceeded = 3,
  param_problem = 4,
  echo_request = 128,
  echo_reply = 129,
  mld_query = 130,   ///< RFC 2710 §3.6; MLDv2 when 28 bytes or more (RFC 3810 §8.1)
  mld_report = 131,  ///< MLDv1
  mld_done = 132,    ///< MLDv1
  router_solicit = 133,
  router_advert = 134,
  neighbor_solicit = 135,
  neighbor_advert = 136,
  redirect = 137,
  mld2_report = 143,  ///< RFC 3810 §5.2
};

/// Codes of Destination Unreachable (RFC 4443 §3.1).
enum class Unreachable : std::uint8_t {
  no_route = 0,
  admin_prohibited = 1,
  beyond_scope = 2,
  address = 3,
  port = 4,
  src_policy = 5,
  reject_route = 6,
  src_routing_header = 7,  ///< RFC 6550
};

enum class ParamProblem : std::uint8_t {
  header = 0,
  next_header = 1,
  option = 2,
  header_chain = 3,  ///< RFC 7112
};

namespace field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t code = 1;
inline constexpr Field checksum{2, 4};
inline constexpr Field rest{4, 8};
inline constexpr Field ident{4, 6};
inline constexpr Field seq{6, 8};
inline constexpr Field mtu{4, 8};      // packet too big
inline constexpr Field pointer{4, 8};  // parameter problem
// Router advertisement (RFC 4861 §4.2)
inline constexpr std::size_t ra_hop_limit = 4;
inline constexpr std::size_t ra_flags = 5;
inline constexpr Field ra_lifetime{6, 8};
inline constexpr Field ra_reachable{8, 12};
inline constexpr Field ra_retrans{12, 16};
// Neighbor solicitation and advertisement, redirect (§4.3-4.5)
inline constexpr std::size_t na_flags = 4;
inline constexpr Field target{8, 24};
inline constexpr Field rd_destination{24, 40};
// MLD (RFC 2710 §3, RFC 3810 §5.1)
inline constexpr Field mld_max_delay{4, 6};
inline constexpr Field mld_address{8, 24};
inline constexpr std::size_t mld2_s_qrv = 24;
inline constexpr std::size_t mld2_qqic = 25;
inline constexpr Field mld2_num_sources{26, 28};
// MLDv2 report (RFC 3810 §5.2)
inline constexpr Field mld2_num_records{6, 8};
}  // namespace field

inline constexpr std::size_t header_len = field::rest.end;
inline constexpr std::size_t rs_len = 8;
inline constexpr std::size_t ra_len = field::ra_retrans.end;
inline constexpr std::size_t ns_len = field::target.end;
inline constexpr std::size_t na_len = field::target.end;
inline constexpr std::size_t redirect_len = field::rd_destination.end;
inline constexpr std::size_t mld_len = field::mld_address.end;
inline constexpr std::size_t mld2_query_len = field::mld2_num_sources.end;

inline constexpr std::uint8_t ra_flag_managed = 0x80;
inline constexpr std::uint8_t ra_flag_other = 0x40;
inline constexpr std::uint8_t ra_flag_home_agent = 0x20;  // RFC 6275
inline constexpr std::uint8_t ra_prf_mask = 0x18;         // RFC 4191
inline constexpr std::uint8_t ra_flag_proxy = 0x04;       // RFC 4389
inline constexpr std::uint8_t na_flag_router = 0x80;
inline constexpr std::uint8_t na_flag_solicited = 0x40;
inline constexpr std::uint8_t na_flag_override = 0x20;

/// True for the error types RFC 4443 §3 defines, which quote the packet
/// that caused them. (Types below 128 are all errors by §2.1, but what an
/// unassigned one carries is unknown; Wireshark and tcpdump do not read a
/// quote there either.)
constexpr bool is_error(Type t) noexcept {
  return t == Type::dst_unreachable || t == Type::packet_too_big || t == Type::time_exceeded ||
         t == Type::param_problem;
}
constexpr bool is_mld(Type t) noexcept {
  return t == Type::mld_query || t == Type::mld_report || t == Type::mld_done ||
         t == Type::mld2_report;
}

// ---------------------------------------------------------------- ND options

/// Open enum of Neighbor Discovery option types (RFC 4861 §4.6, RFC 8106).
enum class NdOptionType : std::uint8_t {
  source_ll = 1,
  target_ll = 2,
  prefix_info = 3,
  redirected = 4,
  mtu = 5,
  route_info = 24,  ///< RFC 4191
  rdnss = 25,
  dnssl = 31,
};

namespace nd_field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t length = 1;  // in 8-octet units, 0 invalid
inline constexpr std::size_t prefix_len = 2;
inline constexpr std::size_t prefix_flags = 3;
inline constexpr Field valid_lifetime{4, 8};
inline constexpr Field preferred_lifetime{8, 12};
inline constexpr Field prefix{16, 32};
inline constexpr Field mtu{4, 8};
inline constexpr Field rdnss_lifetime{4, 8};
inline constexpr std::size_t rdnss_addresses = 8;
inline constexpr std::size_t redirected_packet = 8;
}  // namespace nd_field

inline constexpr std::size_t prefix_info_len = 32;
inline constexpr std::size_t mtu_option_len = 8;
inline constexpr std::uint8_t prefix_flag_onlink = 0x80;
inline constexpr std::uint8_t prefix_flag_auto = 0x40;
inline constexpr std::uint8_t prefix_flag_router = 0x20;

/// One option: its type and all of its bytes (length × 8).
struct NdOption {
  NdOptionType type;
  ConstBytes bytes;

  /// The link-layer address of source/target options, as the rest of the option.
  ConstBytes link_address() const noexcept { return bytes.subspan(2); }
};

/// Reads ND options (RFC 4861 §4.6). A length of 0 is invalid ("nodes MUST
/// silently discard an ND packet that contains an option with length
/// zero"); it and an option running past the message end the reading.
class NdOptionReader {
 public:
  explicit constexpr NdOptionReader(ConstBytes options) noexcept : rest_(options) {}

  std::optional<NdOption> next() noexcept {
    if (rest_.empty() || error_) return std::nullopt;
    if (rest_.size() < 2) return stop(Error::truncated);
    const std::size_t len = load_u8(rest_, nd_field::length) * 8U;
    if (len == 0) return stop(Error::bad_option);
    if (len > rest_.size()) return stop(Error::truncated);
    NdOption o{NdOptionType{load_u8(rest_, nd_field::type)}, rest_.first(len)};
    rest_ = rest_.subspan(len);
    return o;
  }
  std::optional<Error> error() const noexcept { return error_; }

 private:
  std::optional<NdOption> stop(Error e) noexcept {
    error_ = e;
    rest_ = {};
    return std::nullopt;
  }
  ConstBytes rest_;
  std::optional<Error> error_;
};

/// Checks the framing of every option.
inline Result<void> validate_nd_options(ConstBytes options) noexcept {
  NdOptionReader r(options);
  while (r.next()) {
  }
  if (r.error()) return fail(*r.error());
  return {};
}

// ---------------------------------------------------------------- MLDv2 records

/// Record types of an MLDv2 report (RFC 3810 §5.2.12).
enum class RecordType : std::uint8_t {
  is_include = 1,
  is_exclude = 2,
  to_include = 3,
  to_exclude = 4,
  allow_new = 5,
  block_old = 6,
};

namespace record_field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t aux_len = 1;  // in 32-bit words
inline constexpr Field num_sources{2, 4};
inline constexpr Field address{4, 20};
inline constexpr std::size_t sources = 20;
}  // namespace record_field

inline constexpr std::size_t record_min_len = record_field::sources;

struct Mld2Record {
  ConstBytes bytes;
  RecordType type() const noexcept { return RecordType{load_u8(bytes, record_field::type)}; }
  std::size_t num_sources() const noexcept {
    return load_be16(bytes, record_field::num_sources.begin);
  }
  Ipv6Address address() const noexcept {
    return Ipv6Address::from_bytes(sub(bytes, record_field::address));
  }
  Ipv6Address source(std::size_t i) const noexcept {
    return Ipv6Address::from_bytes(bytes.subspan(record_field::sources + i * 16, 16));
  }
};

/// Reads the records of an MLDv2 report; each advances by at least 20
/// bytes, so the count field cannot make it loop longer than the data.
class Mld2RecordReader {
 public:
  constexpr Mld2RecordReader(ConstBytes records, std::size_t count) noexcept
      : rest_(records), left_(count) {}

  std::optional<Mld2Record> next() noexcept {
    if (left_ == 0 || error_) return std::nullopt;
    if (rest_.size() < record_min_len) return stop();
    const std::size_t len = record_min_len +
                            load_be16(rest_, record_field::num_sources.begin) * 16U +
                            load_u8(rest_, record_field::aux_len) * 4U;
    if (len > rest_.size()) return stop();
    Mld2Record r{rest_.first(len)};
    rest_ = rest_.subspan(len);
    --left_;
    return r;
  }
  std::optional<Error> error() const noexcept { return error_; }

 private:
  std::optional<Mld2Record> stop() noexcept {
    error_ = Error::truncated;
    return std::nullopt;
  }
  ConstBytes rest_;
  std::size_t left_;
  std::optional<Error> error_;
};

// ---------------------------------------------------------------- views

template <ByteSpan S>
class HeaderFields {
 public:
  Type type() const noexcept { return Type{load_u8(buf_, field::type)}; }
  std::uint8_t code() const noexcept { return load_u8(buf_, field::code); }
  std::uint16_t checksum() const noexcept { return load_be16(buf_, field::checksum.begin); }
  std::uint32_t rest() const noexcept { return load_be32(buf_, field::rest.begin); }
  std::uint16_t ident() const noexcept { return load_be16(buf_, field::ident.begin); }
  std::uint16_t seq() const noexcept { return load_be16(buf_, field::seq.begin); }
  std::uint32_t mtu() const noexcept { return load_be32(buf_, field::mtu.begin); }
  std::uint32_t pointer() const noexcept { return load_be32(buf_, field::pointer.begin); }

  void set_checksum(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::checksum.begin, v);
  }

 protected:
  constexpr explicit HeaderFields(S bytes) noexcept : buf_(bytes) {}
  Result<void> check_header() const noexcept {
    if (buf_.size() < header_len) return fail(Error::truncated);
    return {};
  }
  S buf_;
};

/// The first 8 bytes of a message, as quoted inside an ICMPv6 error.
template <ByteSpan S = ConstBytes>
class Header : public HeaderFields<S> {
 public:
  static Result<Header> checked(S bytes) noexcept {
    Header h(bytes);
    if (auto r = h.check_len(); !r) return tl::unexpected(r.error());
    return h;
  }
  Result<void> check_len() const noexcept { return this->check_header(); }

 private:
  constexpr explicit Header(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

/// A whole message: the upper-layer payload of an IPv6 datagram.
template <ByteSpan S = ConstBytes>
class Packet : public HeaderFields<S> {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  /// The header, and the fixed body of the types that have one.
  Result<void> check_len() const noexcept {
    if (auto r = this->check_header(); !r) return r;
    if (this->buf_.size() < min_len(this->type())) return fail(Error::truncated);
    return {};
  }
  static constexpr std::size_t min_len(Type t) noexcept {
    switch (t) {
      case Type::router_advert: return ra_len;
      case Type::neighbor_solicit:
      case Type::neighbor_advert: return ns_len;
      case Type::redirect: return redirect_len;
      case Type::mld_query:
      case Type::mld_report:
      case Type::mld_done: return mld_len;
      default: return header_len;
    }
  }

  S data() const noexcept { return this->buf_.subspan(header_len); }
  S bytes() const noexcept { return this->buf_; }

  /// `pseudo` is ipv6::pseudo_header_sum() for this message.
  bool verify_checksum(std::uint16_t pseudo) const noexcept {
    return checksum::combine(pseudo, checksum::ones_sum(this->buf_)) == 0xffff;
  }
  std::uint16_t compute_checksum(std::uint16_t pseudo) const noexcept {
    return checksum::should_be(this->checksum(),
                               checksum::combine(pseudo, checksum::ones_sum(this->buf_)));
  }
  void fill_checksum(std::uint16_t pseudo) noexcept requires MutableSpan<S> {
    this->set_checksum(0);
    this->set_checksum(
        static_cast<std::uint16_t>(~checksum::combine(pseudo, checksum::ones_sum(this->buf_))));
  }

  // Neighbor Discovery, for the types check_len sized.
  std::uint8_t ra_hop_limit() const noexcept { return load_u8(this->buf_, field::ra_hop_limit); }
  std::uint8_t ra_flags() const noexcept { return load_u8(this->buf_, field::ra_flags); }
  std::uint16_t ra_lifetime() const noexcept {
    return load_be16(this->buf_, field::ra_lifetime.begin);
  }
  std::uint32_t ra_reachable() const noexcept {
    return load_be32(this->buf_, field::ra_reachable.begin);
  }
  std::uint32_t ra_retrans() const noexcept {
    return load_be32(this->buf_, field::ra_retrans.begin);
  }
  std::uint8_t na_flags() const noexcept { return load_u8(this->buf_, field::na_flags); }
  Ipv6Address target() const noexcept {
    return Ipv6Address::from_bytes(sub(this->buf_, field::target));
  }
  Ipv6Address rd_destination() const noexcept {
    return Ipv6Address::from_bytes(sub(this->buf_, field::rd_destination));
  }
  /// The options of an ND message (empty for other types).
  S nd_options() const noexcept {
    switch (this->type()) {
      case Type::router_solicit: return this->buf_.subspan(rs_len);
      case Type::router_advert: return this->buf_.subspan(ra_len);
      case Type::neighbor_solicit:
      case Type::neighbor_advert: return this->buf_.subspan(ns_len);
      case Type::redirect: return this->buf_.subspan(redirect_len);
      default: return this->buf_.subspan(this->buf_.size());
    }
  }

  // MLD.
  std::uint16_t mld_max_delay() const noexcept {
    return load_be16(this->buf_, field::mld_max_delay.begin);
  }
  Ipv6Address mld_address() const noexcept {
    return Ipv6Address::from_bytes(sub(this->buf_, field::mld_address));
  }
  /// A query of 28 bytes or more is MLDv2 (RFC 3810 §8.1).
  bool is_mld2_query() const noexcept {
    return this->type() == Type::mld_query && this->buf_.size() >= mld2_query_len;
  }
  std::uint16_t mld2_num_records() const noexcept {
    return load_be16(this->buf_, field::mld2_num_records.begin);
  }
  Mld2RecordReader mld2_records() const noexcept {
    return {this->buf_.subspan(header_len), mld2_num_records()};
  }

  /// The packet quoted by an error: as much of it as fits (RFC 4443 §2.4 (c)).
  ConstBytes quoted() const noexcept { return data(); }

 private:
  constexpr explicit Packet(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

// ---------------------------------------------------------------- repr

/// A message as a value, as icmpv4::Repr: type, code, the second header
/// word as it stands, and the body (borrowed).
struct Repr {
  Type type = Type::echo_request;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;
  ConstBytes data;

  static Repr echo_request(std::uint16_t ident, std::uint16_t seq, ConstBytes data) noexcept {
    return {Type::echo_request, 0, (std::uint32_t{ident} << 16) | seq, data};
  }
  static Repr echo_reply(std::uint16_t ident, std::uint16_t seq, ConstBytes data) noexcept {
    return {Type::echo_reply, 0, (std::uint32_t{ident} << 16) | seq, data};
  }
  static Repr dst_unreachable(Unreachable code, ConstBytes quote) noexcept {
    return {Type::dst_unreachable, static_cast<std::uint8_t>(code), 0, quote};
  }
  static Repr packet_too_big(std::uint32_t mtu, ConstBytes quote) noexcept {
    return {Type::packet_too_big, 0, mtu, quote};
  }

  std::uint16_t ident() const noexcept { return static_cast<std::uint16_t>(rest >> 16); }
  std::uint16_t seq() const noexcept { return static_cast<std::uint16_t>(rest); }

  /// `pseudo` is the pseudo-header sum; the checksum is checked when asked.
  /// ND messages must have well-framed options (RFC 4861 §6.1.1 ff.).
  static Result<Repr> parse(const Packet<ConstBytes>& p, std::uint16_t pseudo,
                            ipv4::Verify verify = ipv4::Verify::yes) noexcept;
  std::size_t buffer_len() const noexcept { return header_len + data.size(); }
  /// Writes header, data and checksum into exactly buffer_len() bytes.
  void emit(MutBytes buf, std::uint16_t pseudo) const noexcept;

  friend bool operator==(const Repr& a, const Repr& b) noexcept {
    return a.type == b.type && a.code == b.code && a.rest == b.rest &&
           std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
  }
};

inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p, std::uint16_t pseudo,
                                ipv4::Verify verify) noexcept {
  if (verify == ipv4::Verify::yes && !p.verify_checksum(pseudo)) return fail(Error::bad_checksum);
  if (auto r = validate_nd_options(p.nd_options()); !r) return tl::unexpected(r.error());
  return Repr{p.type(), p.code(), p.rest(), p.data()};
}

/// tcpdump -nn's text after "IP6 SRC > DST: ": "ICMP6, echo request, id 1,
/// seq 2, length 64", ... `message` is what was captured, `length` its
/// length on the wire. A message cut short of what the line needs prints
/// tcpdump's " [|icmp6]".
/// Returns true when the line ended at a field that was not captured,
/// where tcpdump gives up with a longjmp (its -x dump then starts at the
/// link header).
bool format(fmt::memory_buffer& out, ConstBytes message, std::size_t length);

/// What tcpdump -v adds: the checksum verdict (when the whole message was
/// captured and is not a fragment), and for NDP and MLD their flags,
/// options and records, the options on continuation lines ("\n\t  ...").
struct TextOptions {
  int verbose = 0;
  std::optional<bool> checksum_ok;
  std::uint16_t checksum_should_be = 0;
};
bool format(fmt::memory_buffer& out, ConstBytes message, std::size_t length,
            const TextOptions& opts);

}  // namespace ersatz::wire::icmpv6
