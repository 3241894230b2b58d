// TCP's header and options (RFC 9293 §3.1; options of RFC 7323, RFC 2018,
// RFC 7413): the segment as it stands on the wire. There is no state
// machine here; the checksum covers a pseudo-header (RFC 9293 §3.1 for
// IPv4, RFC 8200 §8.1 for IPv6) whose sum the caller passes in
// (ipv4::pseudo_header_sum, ipv6::pseudo_header_sum).
#pragma once

#include <fmt/format.h>
#include <cstdint>
#include <optional>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/checksum.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/ipv4.hpp"
#include "ersatz/wire/ipv6.hpp"

namespace ersatz::wire::tcp {

namespace field {
inline constexpr Field src_port{0, 2};
inline constexpr Field dst_port{2, 4};
inline constexpr Field seq{4, 8};
inline constexpr Field ack{8, 12};
inline constexpr Field offset_flags{12, 14};  // data offset(4) reserved(3) flags(9)
inline constexpr std::size_t flags = 13;      // the eight flags RFC 9293 names
inline constexpr Field window{14, 16};
inline constexpr Field checksum{16, 18};
inline constexpr Field urgent{18, 20};
}  // namespace field

inline constexpr std::size_t min_header_len = field::urgent.end;
inline constexpr std::size_t max_header_len = 60;

/// The flag bits of byte 13 (RFC 9293 §3.1; CWR and ECE from RFC 3168).
namespace flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace flag

/// Open enum of option kinds (IANA "TCP Option Kind Numbers").
enum class OptionKind : std::uint8_t {
  eol = 0,
  nop = 1,
  mss = 2,
  wscale = 3,
  sack_permitted = 4,
  sack = 5,
  timestamp = 8,
  md5 = 19,
  uto = 28,
  tcp_ao = 29,
  mptcp = 30,
  fast_open = 34,
};

/// One option: its kind and all of its bytes (kind and length octets
/// included; one byte for EOL and NOP).
struct Option {
  OptionKind kind;
  ConstBytes bytes;
  ConstBytes data() const noexcept { return bytes.subspan(bytes.size() > 1 ? 2 : 1); }
};

/// Reads options; each call advances by at least one byte, and a length of
/// 0 or 1, or one past the options, ends the reading with an error.
class OptionReader {
 public:
  explicit constexpr OptionReader(ConstBytes options) noexcept : rest_(options) {}

  std::optional<Option> next() noexcept {
    if (rest_.empty() || error_) return std::nullopt;
    const auto kind = OptionKind{load_u8(rest_, 0)};
    if (kind == OptionKind::eol || kind == OptionKind::nop) {
      Option o{kind, rest_.first(1)};
      // RFC 9293 §3.1: EOL ends the list; what follows is padding.
      rest_ = kind == OptionKind::eol ? ConstBytes{} : rest_.subspan(1);
      return o;
    }
    if (rest_.size() < 2) return stop(Error::truncated);
    const std::size_t len = load_u8(rest_, 1);
    if (len < 2) return stop(Error::bad_option);
    if (len > rest_.size()) return stop(Error::truncated);
    Option o{kind, rest_.first(len)};
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

inline Result<void> validate_options(ConstBytes options) noexcept {
  OptionReader r(options);
  while (r.next()) {
  }
  if (r.error()) return fail(*r.error());
  return {};
}

// ---------------------------------------------------------------- views

template <ByteSpan S>
class HeaderFields {
 public:
  std::uint16_t src_port() const noexcept { return load_be16(buf_, field::src_port.begin); }
  std::uint16_t dst_port() const noexcept { return load_be16(buf_, field::dst_port.begin); }
  std::uint32_t seq() const noexcept { return load_be32(buf_, field::seq.begin); }
  std::uint32_t ack() const noexcept { return load_be32(buf_, field::ack.begin); }
  /// The data offset in bytes.
  std::size_t header_len() const noexcept {
    return (load_u8(buf_, field::offset_flags.begin) >> 4) * 4U;
  }
  std::uint8_t flags() const noexcept { return load_u8(buf_, field::flags); }
  /// The nine flag bits with NS (RFC 3540, historic) and the reserved bits
  /// above them, as Wireshark's tcp.flags shows them.
  std::uint16_t flags12() const noexcept {
    return load_be16(buf_, field::offset_flags.begin) & 0x0fffU;
  }
  bool has(std::uint8_t f) const noexcept { return (flags() & f) != 0; }
  std::uint16_t window() const noexcept { return load_be16(buf_, field::window.begin); }
  std::uint16_t checksum() const noexcept { return load_be16(buf_, field::checksum.begin); }
  std::uint16_t urgent() const noexcept { return load_be16(buf_, field::urgent.begin); }

  void set_checksum(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::checksum.begin, v);
  }

 protected:
  constexpr explicit HeaderFields(S bytes) noexcept : buf_(bytes) {}
  /// 20 bytes, a data offset of 5 or more, and all of the header present.
  Result<void> check_header() const noexcept {
    if (buf_.size() < min_header_len) return fail(Error::truncated);
    if (header_len() < min_header_len) return fail(Error::bad_header_len);
    if (header_len() > buf_.size()) return fail(Error::truncated);
    return {};
  }
  S buf_;
};

/// The header with its options (a segment cut short by the snap length, or
/// the first bytes quoted by an ICMP error once the options are there).
template <ByteSpan S = ConstBytes>
class Header : public HeaderFields<S> {
 public:
  static Result<Header> checked(S bytes) noexcept {
    Header h(bytes);
    if (auto r = h.check_len(); !r) return tl::unexpected(r.error());
    return h;
  }
  Result<void> check_len() const noexcept { return this->check_header(); }
  S options() const noexcept {
    return this->buf_.subspan(min_header_len, this->header_len() - min_header_len);
  }

 private:
  constexpr explicit Header(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

/// A whole segment: the IP payload (bounded by the IP length by the caller).
template <ByteSpan S = ConstBytes>
class Packet : public HeaderFields<S> {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  Result<void> check_len() const noexcept { return this->check_header(); }

  S options() const noexcept {
    return this->buf_.subspan(min_header_len, this->header_len() - min_header_len);
  }
  S payload() const noexcept { return this->buf_.subspan(this->header_len()); }
  S bytes() const noexcept { return this->buf_; }

  /// `pseudo` is the pseudo-header's sum for this segment's length.
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

 private:
  constexpr explicit Packet(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

// ---------------------------------------------------------------- repr

struct Repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t flags = 0;  ///< the low 12 bits of bytes 12-13 (flags12())
  std::uint16_t window = 0;
  std::uint16_t urgent = 0;
  ConstBytes options;  ///< raw; emit pads them with EOL to 4n (≤ 40 bytes)
  ConstBytes payload;

  /// Well-framed options, and the checksum when asked.
  static Result<Repr> parse(const Packet<ConstBytes>& p, std::uint16_t pseudo,
                            ipv4::Verify verify = ipv4::Verify::yes) noexcept;
  std::size_t header_len() const noexcept {
    return min_header_len + ((options.size() + 3) & ~std::size_t{3});
  }
  std::size_t buffer_len() const noexcept { return header_len() + payload.size(); }
  /// Writes the segment, checksum included, into exactly buffer_len() bytes.
  void emit(MutBytes buf, std::uint16_t pseudo) const noexcept;

  friend bool operator==(const Repr& a, const Repr& b) noexcept {
    return a.src_port == b.src_port && a.dst_port == b.dst_port && a.seq == b.seq &&
           a.ack == b.ack && a.flags == b.flags && a.window == b.window && a.urgent == b.urgent &&
           std::equal(a.options.begin(), a.options.end(), b.options.begin(), b.options.end()) &&
           std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
  }
};

inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p, std::uint16_t pseudo,
                                ipv4::Verify verify) noexcept {
  if (verify == ipv4::Verify::yes && !p.verify_checksum(pseudo)) return fail(Error::bad_checksum);
  if (auto r = validate_options(p.options()); !r) return tl::unexpected(r.error());
  return Repr{p.src_port(), p.dst_port(), p.seq(),     p.ack(),    p.flags12(),
              p.window(),   p.urgent(),   p.options(), p.payload()};
}

// ---------------------------------------------------------------- text

/// What tcpdump subtracts to print relative numbers (its per-conversation
/// table, kept by the caller): sequence and acknowledgement bases, and
/// the base SACK blocks are taken against (tcpdump takes them relative to
/// the conversation's "ack" side, a quirk kept).
struct Relative {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t sack = 0;
};

struct TextOptions {
  Relative relative;
  int verbose = 0;
  /// The pseudo-header sum, when the whole segment was captured and is not
  /// a fragment: -v prints the checksum then.
  std::optional<std::uint16_t> pseudo;
};

/// tcpdump -nn's text after "SRC.PORT > DST.PORT: ": "Flags [S.], seq 1,
/// ack 2, win 512, options [mss 1460,nop,wscale 7], length 0". `segment`
/// is what was captured from the TCP header on (at least 20 bytes) and
/// `length` the segment's length according to IP.
/// Returns true when the line ended at a byte that was not captured, where
/// tcpdump gives up with a longjmp (its -x dump then starts at the link
/// header).
bool format(fmt::memory_buffer& out, ConstBytes segment, std::size_t length,
            const TextOptions& opts);

/// tcpdump's "Flags [...]" letters for byte 13: "S", "S.", "P.", "none", ...
void format_flags(fmt::memory_buffer& out, std::uint8_t flags);

}  // namespace ersatz::wire::tcp
