// IPv6 (RFC 8200) and its extension headers: hop-by-hop options (§4.3),
// routing (§4.4), fragment (§4.5) and destination options (§4.6).
//
// Views:
//  - Header: the fixed 40-byte header alone;
//  - Packet: a whole datagram, its payload bounded by the payload length,
//    so link-layer padding after it is ignored;
// and ExtReader, which walks the chain of extension headers after the fixed
// header with a bounded loop (at most max_ext_headers), so a chain of
// thousands of empty headers costs no more than a few. A Repr describes
// the fixed header. pseudo_header_sum() is the §8.1 pseudo-header that
// ICMPv6, TCP and UDP checksums cover.
#pragma once

#include <fmt/format.h>
#include <cstdint>
#include <optional>
#include <span>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/checksum.hpp"
#include "ersatz/wire/error.hpp"

namespace ersatz::wire::ipv6 {

/// Open enum of the next-header field (IANA "Assigned Internet Protocol
/// Numbers"; the same space as IPv4's protocol field).
enum class NextHeader : std::uint8_t {
  hop_by_hop = 0,
  icmp = 1,
  igmp = 2,
  tcp = 6,
  udp = 17,
  ipv6 = 41,
  routing = 43,
  fragment = 44,
  esp = 50,
  ah = 51,
  icmpv6 = 58,
  no_next = 59,
  dst_options = 60,
  mobility = 135,
};

namespace field {
inline constexpr Field ver_tc_flow{0, 4};
inline constexpr Field payload_len{4, 6};
inline constexpr std::size_t next_header = 6;
inline constexpr std::size_t hop_limit = 7;
inline constexpr Field src{8, 24};
inline constexpr Field dst{24, 40};
}  // namespace field

inline constexpr std::size_t header_len = field::dst.end;
/// RFC 8200 §5: every link carries 1280 bytes.
inline constexpr std::size_t min_mtu = 1280;
/// Extension headers walked before giving up. RFC 8200 §4.1 allows each
/// kind once (destination options twice), so a longer chain is an attack
/// or garbage; RFC 7112 asks for the whole chain in the first fragment.
inline constexpr std::size_t max_ext_headers = 8;

/// True for the extension headers ExtReader walks: they share the
/// next-header and length octets (RFC 8200 §4, RFC 6564).
constexpr bool is_extension(NextHeader n) noexcept {
  return n == NextHeader::hop_by_hop || n == NextHeader::routing || n == NextHeader::fragment ||
         n == NextHeader::dst_options;
}

// ---------------------------------------------------------------- views

template <ByteSpan S>
class HeaderFields {
 public:
  std::uint8_t version() const noexcept { return load_u8(buf_, 0) >> 4; }
  std::uint8_t traffic_class() const noexcept {
    return static_cast<std::uint8_t>(load_be32(buf_, field::ver_tc_flow.begin) >> 20);
  }
  std::uint32_t flow_label() const noexcept {
    return load_be32(buf_, field::ver_tc_flow.begin) & 0xfffffU;
  }
  std::uint16_t payload_len() const noexcept { return load_be16(buf_, field::payload_len.begin); }
  NextHeader next_header() const noexcept { return NextHeader{load_u8(buf_, field::next_header)}; }
  std::uint8_t hop_limit() const noexcept { return load_u8(buf_, field::hop_limit); }
  Ipv6Address src() const noexcept { return Ipv6Address::from_bytes(sub(buf_, field::src)); }
  Ipv6Address dst() const noexcept { return Ipv6Address::from_bytes(sub(buf_, field::dst)); }
  S header() const noexcept { return buf_.first(header_len); }

  void set_hop_limit(std::uint8_t v) noexcept requires MutableSpan<S> {
    store_u8(buf_, field::hop_limit, v);
  }

 protected:
  constexpr explicit HeaderFields(S bytes) noexcept : buf_(bytes) {}
  Result<void> check_header() const noexcept {
    if (buf_.size() < header_len) return fail(Error::truncated);
    return {};
  }
  S buf_;
};

/// The fixed header alone, for frames cut short by the snap length.
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

/// A whole datagram. A payload length of 0 (a jumbogram, RFC 2675) is
/// taken at its word: no payload.
template <ByteSpan S = ConstBytes>
class Packet : public HeaderFields<S> {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  Result<void> check_len() const noexcept {
    if (auto r = this->check_header(); !r) return r;
    if (header_len + this->payload_len() > this->buf_.size()) return fail(Error::truncated);
    return {};
  }
  /// Everything after the fixed header (extension headers included).
  S payload() const noexcept { return this->buf_.subspan(header_len, this->payload_len()); }
  S datagram() const noexcept { return this->buf_.first(header_len + this->payload_len()); }

 private:
  constexpr explicit Packet(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

// ---------------------------------------------------------------- extension headers

namespace ext_field {
inline constexpr std::size_t next_header = 0;
inline constexpr std::size_t length = 1;  // in 8-octet units, not counting the first 8
// Routing (§4.4)
inline constexpr std::size_t routing_type = 2;
inline constexpr std::size_t segments_left = 3;
// Fragment (§4.5)
inline constexpr Field frag_offset{2, 4};  // offset << 3 | res(2) | M
inline constexpr Field frag_ident{4, 8};
}  // namespace ext_field

inline constexpr std::size_t min_ext_len = 8;
inline constexpr std::size_t fragment_len = 8;
inline constexpr std::uint16_t frag_offset_mask = 0xfff8;
inline constexpr std::uint16_t frag_more = 0x0001;

/// One extension header: its kind and all of its bytes.
struct ExtHeader {
  NextHeader type;
  ConstBytes bytes;

  NextHeader next() const noexcept { return NextHeader{load_u8(bytes, ext_field::next_header)}; }
  /// Options of hop-by-hop and destination options headers (§4.2).
  ConstBytes options() const noexcept { return bytes.subspan(2); }
  std::uint8_t routing_type() const noexcept { return load_u8(bytes, ext_field::routing_type); }
  std::uint8_t segments_left() const noexcept { return load_u8(bytes, ext_field::segments_left); }
  /// Fragment offset in bytes.
  std::size_t frag_offset() const noexcept {
    return load_be16(bytes, ext_field::frag_offset.begin) & frag_offset_mask;
  }
  bool more_fragments() const noexcept {
    return (load_be16(bytes, ext_field::frag_offset.begin) & frag_more) != 0;
  }
  std::uint32_t frag_ident() const noexcept {
    return load_be32(bytes, ext_field::frag_ident.begin);
  }
};

/// Walks the extension headers after the fixed header. Each call returns
/// one header, whole, and advances past it; the walk ends at the first
/// header that is not an extension (upper_layer() then says which, and
/// rest() holds it), at an error, or after max_ext_headers.
class ExtReader {
 public:
  constexpr ExtReader(NextHeader first, ConstBytes payload) noexcept
      : next_(first), rest_(payload) {}

  std::optional<ExtHeader> next() noexcept {
    if (error_ || !is_extension(next_)) return std::nullopt;
    if (count_ == max_ext_headers) return stop(Error::unsupported);
    if (rest_.size() < min_ext_len) return stop(Error::truncated);
    // The fragment header's second octet is reserved, not a length (§4.5).
    const std::size_t len =
        next_ == NextHeader::fragment ? fragment_len : (load_u8(rest_, 1) + 1U) * 8U;
    if (len > rest_.size()) return stop(Error::truncated);
    ExtHeader h{next_, rest_.first(len)};
    next_ = h.next();
    rest_ = rest_.subspan(len);
    ++count_;
    return h;
  }
  /// What follows the extension headers read so far.
  NextHeader upper_layer() const noexcept { return next_; }
  ConstBytes rest() const noexcept { return rest_; }
  std::optional<Error> error() const noexcept { return error_; }

 private:
  std::optional<ExtHeader> stop(Error e) noexcept {
    error_ = e;
    return std::nullopt;
  }
  NextHeader next_;
  ConstBytes rest_;
  std::size_t count_ = 0;
  std::optional<Error> error_;
};

/// Option types of hop-by-hop and destination options (§4.2, RFC 2711,
/// RFC 2675); open.
enum class OptionType : std::uint8_t {
  pad1 = 0,
  padn = 1,
  jumbo = 0xc2,
  router_alert = 0x05,
};

struct Option {
  OptionType type;
  ConstBytes bytes;  ///< type and length octets included; one byte for Pad1
  ConstBytes data() const noexcept { return bytes.subspan(bytes.size() > 1 ? 2 : 1); }
};

/// Reads the TLV options of a hop-by-hop or destination options header;
/// every call advances by at least one byte.
class OptionReader {
 public:
  explicit constexpr OptionReader(ConstBytes options) noexcept : rest_(options) {}

  std::optional<Option> next() noexcept {
    if (rest_.empty() || error_) return std::nullopt;
    const auto type = OptionType{load_u8(rest_, 0)};
    if (type == OptionType::pad1) {
      Option o{type, rest_.first(1)};
      rest_ = rest_.subspan(1);
      return o;
    }
    if (rest_.size() < 2 || load_u8(rest_, 1) + 2U > rest_.size()) {
      error_ = Error::truncated;
      rest_ = {};
      return std::nullopt;
    }
    const std::size_t len = load_u8(rest_, 1) + 2U;
    Option o{type, rest_.first(len)};
    rest_ = rest_.subspan(len);
    return o;
  }
  std::optional<Error> error() const noexcept { return error_; }

 private:
  ConstBytes rest_;
  std::optional<Error> error_;
};

// ---------------------------------------------------------------- checksums

/// The folded sum of the §8.1 pseudo-header (source, destination,
/// upper-layer length as 32 bits, the next header): checksum::
/// pseudo_header_sum with the addresses' bytes. Add it to the upper
/// layer's own sum with checksum::combine.
inline std::uint16_t pseudo_header_sum(const Ipv6Address& src, const Ipv6Address& dst,
                                       std::uint32_t upper_len, std::uint8_t next) noexcept {
  const auto& s = src.bytes();
  const auto& d = dst.bytes();
  return checksum::pseudo_header_sum(std::as_bytes(std::span(s)), std::as_bytes(std::span(d)), next,
                                     upper_len);
}

// ---------------------------------------------------------------- repr

/// The fixed header as a value; the extension headers and payload are the
/// caller's (they follow the header in payload_len bytes).
struct Repr {
  Ipv6Address src;
  Ipv6Address dst;
  NextHeader next_header = NextHeader::icmpv6;
  std::uint8_t hop_limit = 64;
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;  ///< 20 bits
  std::size_t payload_len = 0;

  /// Version 6 only.
  static Result<Repr> parse(const Packet<ConstBytes>& packet) noexcept;
  std::size_t buffer_len() const noexcept { return header_len + payload_len; }
  /// Writes the 40-byte header into the first bytes of `buf` (buffer_len()
  /// bytes); the payload is the caller's. Requires payload_len ≤ 65535.
  void emit(MutBytes buf) const noexcept;

  friend bool operator==(const Repr&, const Repr&) noexcept = default;
};

inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p) noexcept {
  if (p.version() != 6) return fail(Error::bad_version);
  Repr r;
  r.src = p.src();
  r.dst = p.dst();
  r.next_header = p.next_header();
  r.hop_limit = p.hop_limit();
  r.traffic_class = p.traffic_class();
  r.flow_label = p.flow_label();
  r.payload_len = p.payload_len();
  return r;
}

/// tcpdump -nn: "SRC > DST: ".
void format(fmt::memory_buffer& out, const HeaderFields<ConstBytes>& h);

}  // namespace ersatz::wire::ipv6
