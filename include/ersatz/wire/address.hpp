// Link and network addresses: EUI-48 MAC, IPv4 and IPv6.
#pragma once

#include <fmt/format.h>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ersatz/base/bytes.hpp"

namespace ersatz::wire {

class MacAddress {
 public:
  static constexpr std::size_t size = 6;

  constexpr MacAddress() noexcept = default;
  constexpr explicit MacAddress(std::array<std::uint8_t, 6> octets) noexcept : octets_(octets) {}

  /// Reads 6 bytes; the caller has bounds-checked `b`.
  static constexpr MacAddress from_bytes(ConstBytes b) noexcept {
    MacAddress m;
    for (std::size_t i = 0; i < size; ++i) m.octets_[i] = static_cast<std::uint8_t>(b[i]);
    return m;
  }
  /// "aa:bb:cc:dd:ee:ff" or "aa-bb-...", case-insensitive.
  static std::optional<MacAddress> parse(std::string_view text) noexcept;

  static constexpr MacAddress broadcast() noexcept {
    return MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }

  constexpr void write(MutBytes b) const noexcept {
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::byte>(octets_[i]);
  }
  constexpr const std::array<std::uint8_t, 6>& octets() const noexcept { return octets_; }
  constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
  /// The I/G bit (IEEE 802 §8.2): group addresses include broadcast.
  constexpr bool is_multicast() const noexcept { return (octets_[0] & 1U) != 0; }
  constexpr bool is_zero() const noexcept { return *this == MacAddress(); }

  /// Writes the 17-character colon form; returns one past the last char.
  /// Inline: it runs once or twice for every line `ersatz dump -e` prints.
  char* format(char* out) const noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
      if (i != 0) *out++ = ':';
      *out++ = hex[octets_[i] >> 4];
      *out++ = hex[octets_[i] & 0xf];
    }
    return out;
  }

  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<std::uint8_t, 6> octets_{};
};

class Ipv4Address {
 public:
  static constexpr std::size_t size = 4;

  constexpr Ipv4Address() noexcept = default;
  constexpr explicit Ipv4Address(std::uint32_t host_order) noexcept : value_(host_order) {}
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

  static constexpr Ipv4Address from_bytes(ConstBytes b) noexcept {
    return Ipv4Address(load_be32(b, 0));
  }
  /// Dotted quad only ("198.18.0.1"); no shorthand forms, no leading zeros.
  static std::optional<Ipv4Address> parse(std::string_view text) noexcept;

  constexpr void write(MutBytes b) const noexcept { store_be32(b, 0, value_); }
  constexpr std::uint32_t value() const noexcept { return value_; }
  constexpr std::uint8_t octet(int i) const noexcept {
    return static_cast<std::uint8_t>(value_ >> (24 - 8 * i));
  }

  constexpr bool is_unspecified() const noexcept { return value_ == 0; }
  constexpr bool is_broadcast() const noexcept { return value_ == 0xffffffffU; }
  constexpr bool is_multicast() const noexcept { return (value_ >> 28) == 0xe; }
  constexpr bool is_loopback() const noexcept { return (value_ >> 24) == 127; }
  /// Class E (240/4), reserved by RFC 1112 §4.
  constexpr bool is_reserved() const noexcept { return (value_ >> 28) == 0xf && !is_broadcast(); }
  /// A source address a host must never accept (RFC 1122 §3.2.1.3): 0/8,
  /// 127/8, multicast, class E and limited broadcast.
  constexpr bool is_martian_source() const noexcept {
    return (value_ >> 24) == 0 || is_loopback() || is_multicast() || (value_ >> 28) == 0xf;
  }
  constexpr bool in_prefix(Ipv4Address net, int prefix_len) const noexcept {
    if (prefix_len <= 0) return true;
    const std::uint32_t mask = prefix_len >= 32 ? 0xffffffffU : ~(0xffffffffU >> prefix_len);
    return (value_ & mask) == (net.value_ & mask);
  }

  /// Writes the dotted quad (7..15 chars); returns one past the last char.
  /// Inline: it runs twice for every line `ersatz dump` prints.
  char* format(char* out) const noexcept {
    for (int i = 0; i < 4; ++i) {
      if (i != 0) *out++ = '.';
      unsigned v = octet(i);
      if (v >= 100) {
        *out++ = static_cast<char>('0' + v / 100);
        v %= 100;
        *out++ = static_cast<char>('0' + v / 10);
      } else if (v >= 10) {
        *out++ = static_cast<char>('0' + v / 10);
      }
      *out++ = static_cast<char>('0' + v % 10);
    }
    return out;
  }

  friend constexpr auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;

 private:
  std::uint32_t value_ = 0;
};

/// An IPv6 address (RFC 4291), kept as its 16 bytes in network order.
class Ipv6Address {
 public:
  static constexpr std::size_t size = 16;
  /// The longest text form: eight groups of four and seven colons.
  static constexpr std::size_t max_text_len = 39;

  constexpr Ipv6Address() noexcept = default;
  constexpr explicit Ipv6Address(std::array<std::uint8_t, 16> bytes) noexcept : bytes_(bytes) {}

  /// Reads 16 bytes; the caller has bounds-checked `b`.
  static constexpr Ipv6Address from_bytes(ConstBytes b) noexcept {
    Ipv6Address a;
    for (std::size_t i = 0; i < size; ++i) a.bytes_[i] = static_cast<std::uint8_t>(b[i]);
    return a;
  }
  /// Any RFC 4291 §2.2 text form, "::" and a trailing dotted quad included.
  static std::optional<Ipv6Address> parse(std::string_view text) noexcept;

  constexpr void write(MutBytes b) const noexcept {
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::byte>(bytes_[i]);
  }
  constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
  constexpr std::uint16_t word(std::size_t i) const noexcept {
    return static_cast<std::uint16_t>((bytes_[2 * i] << 8) | bytes_[2 * i + 1]);
  }
  constexpr bool is_unspecified() const noexcept { return *this == Ipv6Address(); }
  constexpr bool is_multicast() const noexcept { return bytes_[0] == 0xff; }
  constexpr bool is_link_local() const noexcept {
    return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
  }

  /// Writes the text form the BIND inet_ntop that tcpdump and glibc share
  /// gives: the longest run of two or more zero groups as "::" (the first
  /// of equal runs), lowercase hex without leading zeros, and the last 32
  /// bits as a dotted quad for IPv4-compatible (::/96) and IPv4-mapped
  /// (::ffff:0:0/96) addresses. Returns one past the last char.
  char* format(char* out) const noexcept;

  friend constexpr auto operator<=>(const Ipv6Address&, const Ipv6Address&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace ersatz::wire

template <>
struct fmt::formatter<ersatz::wire::MacAddress> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const ersatz::wire::MacAddress& m, Ctx& ctx) const {
    char buf[18];
    char* end = m.format(buf);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, end - buf), ctx);
  }
};

template <>
struct fmt::formatter<ersatz::wire::Ipv4Address> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const ersatz::wire::Ipv4Address& a, Ctx& ctx) const {
    char buf[16];
    char* end = a.format(buf);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, end - buf), ctx);
  }
};

template <>
struct fmt::formatter<ersatz::wire::Ipv6Address> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const ersatz::wire::Ipv6Address& a, Ctx& ctx) const {
    char buf[ersatz::wire::Ipv6Address::max_text_len + 1];
    char* end = a.format(buf);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, end - buf), ctx);
  }
};
