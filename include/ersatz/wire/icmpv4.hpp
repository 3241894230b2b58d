// ICMP for IPv4 (RFC 792), with the additions of RFC 1191 (next-hop MTU),
// RFC 1812 §5.2.7 (unreachable codes 13-15) and RFC 4884 (length of the
// original datagram).
#pragma once

#include <fmt/format.h>
#include <cstdint>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/checksum.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/ipv4.hpp"

namespace ersatz::wire::icmpv4 {

/// Open enum of message types.
enum class Type : std::uint8_t {
  echo_reply = 0,
  dst_unreachable = 3,
  source_quench = 4,  ///< deprecated by RFC 6633; parsed, never acted on
  redirect = 5,
  echo_request = 8,
  router_advert = 9,
  router_solicit = 10,
  time_exceeded = 11,
  param_problem = 12,
  timestamp = 13,
  timestamp_reply = 14,
  info_request = 15,
  info_reply = 16,
  mask_request = 17,
  mask_reply = 18,
};

/// Codes of Destination Unreachable (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
enum class Unreachable : std::uint8_t {
  net = 0,
  host = 1,
  protocol = 2,
  port = 3,
  frag_needed = 4,  ///< carries the next-hop MTU (RFC 1191 §4)
  src_route_failed = 5,
  net_unknown = 6,
  host_unknown = 7,
  host_isolated = 8,
  net_prohibited = 9,
  host_prohibited = 10,
  net_tos = 11,
  host_tos = 12,
  comm_prohibited = 13,
  host_precedence = 14,
  precedence_cutoff = 15,
};

enum class TimeExceeded : std::uint8_t { ttl = 0, reassembly = 1 };
enum class Redirect : std::uint8_t { net = 0, host = 1, tos_net = 2, tos_host = 3 };

namespace field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t code = 1;
inline constexpr Field checksum{2, 4};
inline constexpr Field rest{4, 8};  // the second word, whose meaning depends on the type
inline constexpr Field ident{4, 6};
inline constexpr Field seq{6, 8};
inline constexpr std::size_t pointer = 4;  // parameter problem
inline constexpr std::size_t length = 5;   // RFC 4884, in 32-bit words
inline constexpr Field mtu{6, 8};          // RFC 1191
inline constexpr Field gateway{4, 8};      // redirect
inline constexpr Field originate{8, 12};   // timestamp
inline constexpr Field receive{12, 16};
inline constexpr Field transmit{16, 20};
inline constexpr Field mask{8, 12};  // address mask (RFC 950)
}  // namespace field

inline constexpr std::size_t header_len = field::rest.end;
inline constexpr std::size_t timestamp_len = field::transmit.end;
inline constexpr std::size_t mask_len = field::mask.end;

/// True for the types that quote the datagram that caused them.
constexpr bool is_error(Type t) noexcept {
  return t == Type::dst_unreachable || t == Type::source_quench || t == Type::redirect ||
         t == Type::time_exceeded || t == Type::param_problem;
}
/// RFC 4884 §4.1: types whose byte 5 is the length of the original datagram.
constexpr bool has_rfc4884_length(Type t) noexcept {
  return t == Type::dst_unreachable || t == Type::time_exceeded || t == Type::param_problem;
}

/// Accessors for the 8-byte header; derived views guarantee it exists.
template <ByteSpan S>
class HeaderFields {
 public:
  Type type() const noexcept { return Type{load_u8(buf_, field::type)}; }
  std::uint8_t code() const noexcept { return load_u8(buf_, field::code); }
  std::uint16_t checksum() const noexcept { return load_be16(buf_, field::checksum.begin); }
  std::uint32_t rest() const noexcept { return load_be32(buf_, field::rest.begin); }
  std::uint16_t ident() const noexcept { return load_be16(buf_, field::ident.begin); }
  std::uint16_t seq() const noexcept { return load_be16(buf_, field::seq.begin); }
  std::uint8_t pointer() const noexcept { return load_u8(buf_, field::pointer); }
  /// RFC 4884 length of the original datagram, in bytes (0: not given).
  std::size_t rfc4884_length() const noexcept { return load_u8(buf_, field::length) * 4U; }
  std::uint16_t mtu() const noexcept { return load_be16(buf_, field::mtu.begin); }
  Ipv4Address gateway() const noexcept {
    return Ipv4Address::from_bytes(sub(buf_, field::gateway));
  }

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

/// The first 8 bytes of a message, as quoted inside an ICMP error.
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

/// A whole message: the IPv4 payload, which the caller bounds by the total
/// length.
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
      case Type::timestamp:
      case Type::timestamp_reply: return timestamp_len;
      case Type::mask_request:
      case Type::mask_reply: return mask_len;
      default: return header_len;
    }
  }

  /// Everything after the 8-byte header.
  S data() const noexcept { return this->buf_.subspan(header_len); }
  S bytes() const noexcept { return this->buf_; }
  bool verify_checksum() const noexcept { return checksum::verify(this->buf_); }
  /// The checksum the message should carry (RFC 1624 eqn. 3 takes the
  /// stored value back out of the sum).
  std::uint16_t compute_checksum() const noexcept {
    return checksum::should_be(this->checksum(), checksum::ones_sum(this->buf_));
  }
  /// Timestamps (RFC 792 p.16), milliseconds since midnight UT. Only for
  /// the timestamp types, whose length check_len guaranteed.
  std::uint32_t originate() const noexcept { return load_be32(this->buf_, field::originate.begin); }
  std::uint32_t receive() const noexcept { return load_be32(this->buf_, field::receive.begin); }
  std::uint32_t transmit() const noexcept { return load_be32(this->buf_, field::transmit.begin); }
  std::uint32_t mask() const noexcept { return load_be32(this->buf_, field::mask.begin); }

  /// The original-datagram part of an error's data: RFC 4884 §5.5 says to
  /// use the length field when it is non-zero and fits, else all the data.
  ConstBytes original_datagram() const noexcept {
    const std::size_t len = has_rfc4884_length(this->type()) ? this->rfc4884_length() : 0;
    const ConstBytes d = data();
    return (len != 0 && len <= d.size()) ? d.first(len) : d;
  }
  /// The quoted datagram of an error, checked by its own view with its own IHL.
  Result<ipv4::Quote> quote() const noexcept { return ipv4::Quote::checked(original_datagram()); }

  /// Recomputes the checksum over the whole message.
  void fill_checksum() noexcept requires MutableSpan<S> {
    this->set_checksum(0);
    this->set_checksum(checksum::compute(this->buf_));
  }

 private:
  constexpr explicit Packet(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

/// A message as a value: the type and code, the second header word as it
/// stands, and the data (borrowed). Named constructors build the common
/// messages; unknown types round-trip unchanged.
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
  /// `quote` is the offending datagram's header and leading data.
  static Repr dst_unreachable(Unreachable code, ConstBytes quote, std::uint16_t mtu = 0) noexcept {
    return {Type::dst_unreachable, static_cast<std::uint8_t>(code), mtu, quote};
  }
  static Repr time_exceeded(TimeExceeded code, ConstBytes quote) noexcept {
    return {Type::time_exceeded, static_cast<std::uint8_t>(code), 0, quote};
  }
  static Repr param_problem(std::uint8_t pointer, ConstBytes quote) noexcept {
    return {Type::param_problem, 0, std::uint32_t{pointer} << 24, quote};
  }

  std::uint16_t ident() const noexcept { return static_cast<std::uint16_t>(rest >> 16); }
  std::uint16_t seq() const noexcept { return static_cast<std::uint16_t>(rest); }
  std::uint16_t mtu() const noexcept { return static_cast<std::uint16_t>(rest); }
  std::uint8_t pointer() const noexcept { return static_cast<std::uint8_t>(rest >> 24); }
  Ipv4Address gateway() const noexcept { return Ipv4Address(rest); }

  /// Checks the checksum over the whole message when asked (RFC 1122
  /// §3.2.2: a message with a bad checksum is discarded).
  static Result<Repr> parse(const Packet<ConstBytes>& p,
                            ipv4::Verify verify = ipv4::Verify::yes) noexcept;
  std::size_t buffer_len() const noexcept { return header_len + data.size(); }
  /// Writes header, data and checksum into exactly buffer_len() bytes.
  void emit(MutBytes buf) const noexcept;

  friend bool operator==(const Repr& a, const Repr& b) noexcept {
    return a.type == b.type && a.code == b.code && a.rest == b.rest &&
           std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
  }
};

// Inline for the reason given at ethernet::Repr::parse.
inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p, ipv4::Verify verify) noexcept {
  if (verify == ipv4::Verify::yes && !p.verify_checksum()) return fail(Error::bad_checksum);
  return Repr{p.type(), p.code(), p.rest(), p.data()};
}

/// tcpdump -nn: "ICMP echo request, id 1, seq 2, length 64",
/// "ICMP 198.18.1.2 udp port 33434 unreachable, length 36", ... `message` is
/// what was captured of the ICMP message and `length` its length on the
/// wire. A message cut short of what the line needs prints only tcpdump's
/// marker, " [|icmp]".
void format(fmt::memory_buffer& out, ConstBytes message, std::size_t length);

}  // namespace ersatz::wire::icmpv4
