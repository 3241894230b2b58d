// IPv4 (RFC 791), validated as RFC 1812 §5.2.2 and RFC 1122 §3.2.1 ask.
//
// Three views share one set of header accessors:
//  - Header: the header alone (IHL sane, all of it present);
//  - Packet: a whole datagram, whose payload is bounded by the total length,
//    so link-layer padding after it is ignored;
//  - Quote: the datagram quoted inside an ICMP error (RFC 792): its header
//    and at least 8 bytes of its data, the rest usually cut off.
// Each has exactly one check_len; the quoted header's IHL is its own and is
// never taken from the outer header (CVE-2022-23093, zmap aa749ee).
#pragma once

#include <fmt/format.h>
#include <array>
#include <cstdint>
#include <optional>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/checksum.hpp"
#include "ersatz/wire/error.hpp"

namespace ersatz::wire::ipv4 {

/// Open enum of the protocol field (IANA "Assigned Internet Protocol Numbers").
enum class Protocol : std::uint8_t {
  icmp = 1,
  igmp = 2,
  tcp = 6,
  udp = 17,
  gre = 47,
  esp = 50,
  ah = 51,
  ospf = 89,
  sctp = 132,
};

namespace field {
inline constexpr std::size_t ver_ihl = 0;
inline constexpr std::size_t tos = 1;  // DSCP (RFC 2474) and ECN (RFC 3168)
inline constexpr Field total_len{2, 4};
inline constexpr Field ident{4, 6};
inline constexpr Field flags_frag{6, 8};
inline constexpr std::size_t ttl = 8;
inline constexpr std::size_t protocol = 9;
inline constexpr Field checksum{10, 12};
inline constexpr Field src{12, 16};
inline constexpr Field dst{16, 20};
}  // namespace field

inline constexpr std::size_t min_header_len = field::dst.end;
inline constexpr std::size_t max_header_len = 60;
inline constexpr std::size_t max_options_len = max_header_len - min_header_len;
/// RFC 792: an ICMP error quotes the header and 64 bits of the datagram.
inline constexpr std::size_t min_quoted_data = 8;

inline constexpr std::uint16_t flag_reserved = 0x8000;
inline constexpr std::uint16_t flag_df = 0x4000;
inline constexpr std::uint16_t flag_mf = 0x2000;
inline constexpr std::uint16_t frag_offset_mask = 0x1fff;

/// Whether parse() verifies the header checksum (off for offloaded frames).
enum class Verify : bool { no = false, yes = true };

// ---------------------------------------------------------------- options

/// Open enum of option types (RFC 791 §3.1, RFC 2113 for Router Alert).
enum class OptionType : std::uint8_t {
  eol = 0,
  nop = 1,
  rr = 7,   ///< record route
  ts = 68,  ///< internet timestamp
  security = 130,
  lsrr = 131,  ///< loose source and record route
  stream_id = 136,
  ssrr = 137,  ///< strict source and record route
  ra = 148,    ///< router alert
};

/// One option as found in the header: its type and all of its bytes
/// (type and length octets included; one byte for EOL and NOP).
struct Option {
  OptionType type;
  ConstBytes bytes;

  /// The length octet, or 1 for the single-byte options.
  std::size_t length() const noexcept { return bytes.size(); }
  /// The pointer octet of RR, LSRR, SSRR and TS; 0 when the option has none.
  std::uint8_t pointer() const noexcept { return bytes.size() >= 3 ? load_u8(bytes, 2) : 0; }
};

/// Reads options one at a time. Every call advances by at least one byte,
/// and a length octet of 0 or 1, or one that runs past the options area, is
/// an error that ends the reading (iputils CVE-2010-2529 looped forever on
/// such an option).
class OptionReader {
 public:
  explicit constexpr OptionReader(ConstBytes options) noexcept : rest_(options) {}

  /// The next option, or nullopt at the end or after an error. EOL is
  /// returned once, then reading ends (RFC 791: "the end of the option list").
  std::optional<Option> next() noexcept {
    if (rest_.empty() || error_) return std::nullopt;
    const auto type = OptionType{load_u8(rest_, 0)};
    if (type == OptionType::eol || type == OptionType::nop) {
      Option o{type, rest_.first(1)};
      rest_ = type == OptionType::eol ? ConstBytes{} : rest_.subspan(1);
      return o;
    }
    if (rest_.size() < 2) return stop(Error::truncated);
    const std::size_t len = load_u8(rest_, 1);
    if (len < 2) return stop(Error::bad_option);
    if (len > rest_.size()) return stop(Error::truncated);
    Option o{type, rest_.first(len)};
    rest_ = rest_.subspan(len);
    return o;
  }
  std::optional<Error> error() const noexcept { return error_; }

 private:
  std::optional<Option> stop(Error e) noexcept {
    error_ = e;
    rest_ = {};
    return std::nullopt;
  }
  ConstBytes rest_;
  std::optional<Error> error_;
};

/// Checks every option's framing, and the pointers of the route and
/// timestamp options (RFC 791: the smallest legal pointer is 4, and 5 for
/// the timestamp).
Result<void> validate_options(ConstBytes options) noexcept;

// ---------------------------------------------------------------- views

/// Accessors for the fields of an IPv4 header. Derived views guarantee the
/// bytes they read exist; this class has no public constructor.
template <ByteSpan S>
class HeaderFields {
 public:
  std::uint8_t version() const noexcept { return load_u8(buf_, field::ver_ihl) >> 4; }
  /// The header length in bytes (IHL × 4).
  std::size_t header_len() const noexcept { return (load_u8(buf_, field::ver_ihl) & 0x0fU) * 4U; }
  std::uint8_t tos() const noexcept { return load_u8(buf_, field::tos); }
  std::uint8_t dscp() const noexcept { return tos() >> 2; }
  std::uint8_t ecn() const noexcept { return tos() & 3U; }
  std::uint16_t total_len() const noexcept { return load_be16(buf_, field::total_len.begin); }
  std::uint16_t ident() const noexcept { return load_be16(buf_, field::ident.begin); }
  std::uint16_t flags_frag() const noexcept { return load_be16(buf_, field::flags_frag.begin); }
  bool reserved_flag() const noexcept { return (flags_frag() & flag_reserved) != 0; }
  bool dont_fragment() const noexcept { return (flags_frag() & flag_df) != 0; }
  bool more_fragments() const noexcept { return (flags_frag() & flag_mf) != 0; }
  /// Fragment offset in bytes.
  std::size_t frag_offset() const noexcept { return (flags_frag() & frag_offset_mask) * 8U; }
  bool is_fragment() const noexcept { return (flags_frag() & (flag_mf | frag_offset_mask)) != 0; }
  std::uint8_t ttl() const noexcept { return load_u8(buf_, field::ttl); }
  Protocol protocol() const noexcept { return Protocol{load_u8(buf_, field::protocol)}; }
  std::uint16_t checksum() const noexcept { return load_be16(buf_, field::checksum.begin); }
  Ipv4Address src() const noexcept { return Ipv4Address::from_bytes(sub(buf_, field::src)); }
  Ipv4Address dst() const noexcept { return Ipv4Address::from_bytes(sub(buf_, field::dst)); }
  S options() const noexcept { return buf_.subspan(min_header_len, header_len() - min_header_len); }
  S header() const noexcept { return buf_.first(header_len()); }
  bool verify_checksum() const noexcept { return checksum::verify(header()); }
  /// The checksum the header should carry.
  std::uint16_t compute_checksum() const noexcept {
    // RFC 1624 eqn. 3 takes the stored value back out of the sum.
    return checksum::should_be(checksum(), checksum::ones_sum(header()));
  }

  void set_ttl(std::uint8_t v) noexcept requires MutableSpan<S> { store_u8(buf_, field::ttl, v); }
  void set_checksum(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::checksum.begin, v);
  }
  /// Recomputes the checksum after header fields changed.
  void fill_checksum() noexcept requires MutableSpan<S> {
    set_checksum(0);
    set_checksum(checksum::compute(header()));
  }

 protected:
  constexpr explicit HeaderFields(S bytes) noexcept : buf_(bytes) {}
  /// RFC 1812 §5.2.2 (1), (4): 20 bytes at least, IHL ≥ 5, and the whole
  /// header present.
  Result<void> check_header() const noexcept {
    if (buf_.size() < min_header_len) return fail(Error::truncated);
    if (header_len() < min_header_len) return fail(Error::bad_header_len);
    if (header_len() > buf_.size()) return fail(Error::truncated);
    return {};
  }
  S buf_;
};

/// The header alone, for frames cut short by the capture's snap length.
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

/// A whole datagram.
template <ByteSpan S = ConstBytes>
class Packet : public HeaderFields<S> {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  /// The header as Header checks it, then RFC 1812 §5.2.2 (5): total
  /// length ≥ header length, and the datagram all present.
  Result<void> check_len() const noexcept {
    if (auto r = this->check_header(); !r) return r;
    if (this->total_len() < this->header_len()) return fail(Error::bad_total_len);
    if (this->total_len() > this->buf_.size()) return fail(Error::truncated);
    return {};
  }
  /// The data, bounded by the total length rather than the frame.
  S payload() const noexcept {
    return this->buf_.subspan(this->header_len(), this->total_len() - this->header_len());
  }
  /// The datagram without link-layer padding.
  S datagram() const noexcept { return this->buf_.first(this->total_len()); }

 private:
  constexpr explicit Packet(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

/// The original datagram quoted by an ICMP error: its own header (its own
/// IHL) and at least 8 bytes of data.
class Quote : public HeaderFields<ConstBytes> {
 public:
  static Result<Quote> checked(ConstBytes bytes) noexcept {
    Quote q(bytes);
    if (auto r = q.check_len(); !r) return tl::unexpected(r.error());
    return q;
  }
  Result<void> check_len() const noexcept {
    if (auto r = check_header(); !r) return r;
    if (total_len() < header_len()) return fail(Error::bad_total_len);
    if (buf_.size() < header_len() + min_quoted_data) return fail(Error::truncated);
    return {};
  }
  /// What was quoted of the data: at least 8 bytes, at most what the
  /// original total length says.
  ConstBytes payload() const noexcept {
    const std::size_t avail = buf_.size() - header_len();
    const std::size_t orig = total_len() - header_len();
    return buf_.subspan(header_len(), std::max(min_quoted_data, std::min(avail, orig)));
  }

 private:
  constexpr explicit Quote(ConstBytes bytes) noexcept : HeaderFields<ConstBytes>(bytes) {}
};

// ---------------------------------------------------------------- repr

struct Repr {
  Ipv4Address src;
  Ipv4Address dst;
  Protocol protocol = Protocol::icmp;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t ident = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  bool reserved_flag = false;     ///< RFC 3514's joke, kept so it round-trips
  std::uint16_t frag_offset = 0;  ///< in bytes, a multiple of 8
  ConstBytes options;             ///< raw option bytes; emit pads them with EOL to 4n
  std::size_t payload_len = 0;

  /// Version 4 (RFC 1812 §5.2.2 (3)), a verified checksum when asked (§5.2.2
  /// (2)), and well-framed options.
  static Result<Repr> parse(const Packet<ConstBytes>& packet, Verify verify = Verify::yes) noexcept;

  std::size_t header_len() const noexcept {
    return min_header_len + ((options.size() + 3) & ~std::size_t{3});
  }
  std::size_t buffer_len() const noexcept { return header_len() + payload_len; }
  /// Writes the header, checksum included, into the first header_len()
  /// bytes of `buf` (buffer_len() bytes); the payload is the caller's.
  /// Requires options.size() ≤ 40 and frag_offset a multiple of 8.
  void emit(MutBytes buf) const noexcept;

  friend bool operator==(const Repr& a, const Repr& b) noexcept {
    return a.src == b.src && a.dst == b.dst && a.protocol == b.protocol && a.ttl == b.ttl &&
           a.tos == b.tos && a.ident == b.ident && a.dont_fragment == b.dont_fragment &&
           a.more_fragments == b.more_fragments && a.reserved_flag == b.reserved_flag &&
           a.frag_offset == b.frag_offset && a.payload_len == b.payload_len &&
           std::equal(a.options.begin(), a.options.end(), b.options.begin(), b.options.end());
  }
};

// Inline for the reason given at ethernet::Repr::parse: returned out of
// line, the Repr stalled on store forwarding in the caller.
inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p, Verify verify) noexcept {
  if (p.version() != 4) return fail(Error::bad_version);
  if (verify == Verify::yes && !p.verify_checksum()) return fail(Error::bad_checksum);
  // Most headers carry no options; skip the call that would find none.
  if (p.header_len() != min_header_len) {
    if (auto r = validate_options(p.options()); !r) return tl::unexpected(r.error());
  }
  Repr r;
  r.src = p.src();
  r.dst = p.dst();
  r.protocol = p.protocol();
  r.ttl = p.ttl();
  r.tos = p.tos();
  r.ident = p.ident();
  r.dont_fragment = p.dont_fragment();
  r.more_fragments = p.more_fragments();
  r.reserved_flag = p.reserved_flag();
  r.frag_offset = static_cast<std::uint16_t>(p.frag_offset());
  r.options = p.options();
  r.payload_len = p.payload().size();
  return r;
}

/// The folded sum of the pseudo-header TCP and UDP checksums cover over
/// IPv4 (RFC 9293 §3.1, RFC 768): checksum::pseudo_header_sum with typed
/// addresses.
inline std::uint16_t pseudo_header_sum(Ipv4Address src, Ipv4Address dst, Protocol protocol,
                                       std::uint16_t upper_len) noexcept {
  std::array<std::byte, Ipv4Address::size> s{};
  std::array<std::byte, Ipv4Address::size> d{};
  src.write(s);
  dst.write(d);
  return checksum::pseudo_header_sum(s, d, static_cast<std::uint8_t>(protocol), upper_len);
}

/// tcpdump -nn: "SRC > DST: ".
void format(fmt::memory_buffer& out, const HeaderFields<ConstBytes>& h);

}  // namespace ersatz::wire::ipv4
