// Appending text to a caller-owned fmt::memory_buffer without fmt's runtime
// format strings.
//
// `ersatz dump` prints hundreds of thousands of lines a second, and
// fmt::format_to with a runtime format string parses the string and
// dispatches every argument through a type-erased table each time (about
// half the cost of a line, measured in bench/README.md). text::append makes
// room once for the largest text its parts can produce, writes them through
// a plain pointer and trims the buffer to what was written:
//
//   text::append(out, "echo request, id ", ident, ", seq ", seq);
//
// Parts: string literals, string views, single chars, integers in decimal
// (as fmt's "{}"), addresses in their usual forms, and the padded
// or hexadecimal forms made by text::dec and text::hex.
#pragma once

#include <fmt/format.h>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ersatz/wire/address.hpp"

namespace ersatz::wire::text {

/// A decimal number left-padded with zeros to `width` digits: fmt's "{:0N}".
struct Dec {
  std::uint32_t value;
  unsigned width;
};
/// Lowercase hexadecimal, zero-padded to `width` digits: fmt's "{:0Nx}"
/// ("{:x}" with width 0).
struct Hex {
  std::uint32_t value;
  unsigned width;
};

constexpr Dec dec(std::uint32_t value, unsigned width) noexcept { return {value, width}; }
constexpr Hex hex(std::uint32_t value, unsigned width = 0) noexcept { return {value, width}; }

namespace detail {

// Integers the parts may be: not bool (a flag is never printed as a
// number) and not char (a char part is a character, as in fmt).
template <class T>
concept Number = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char>;

// Each part has a bound() (the most characters it can write) and a put()
// (writes it, returns one past the end).
inline std::size_t bound(std::string_view s) noexcept { return s.size(); }
inline char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// A char array is a string literal: all N - 1 characters before its
// terminator are written, with a copy of constant size the compiler inlines
// (a string_view's runtime size costs a call to memcpy per part).
template <std::size_t N>
constexpr std::size_t bound(const char (&)[N]) noexcept {
  return N - 1;
}
template <std::size_t N>
inline char* put(char* p, const char (&s)[N]) noexcept {
  std::memcpy(p, s, N - 1);
  return p + (N - 1);
}

constexpr std::size_t bound(char) noexcept { return 1; }
inline char* put(char* p, char c) noexcept {
  *p = c;
  return p + 1;
}

/// Decimal digits in `v` (at least one).
constexpr unsigned decimal_digits(std::uint64_t v) noexcept {
  unsigned n = 1;
  for (;;) {
    if (v < 10) return n;
    if (v < 100) return n + 1;
    if (v < 1000) return n + 2;
    if (v < 10000) return n + 3;
    v /= 10000;
    n += 4;
  }
}

/// Writes `v` in exactly `n` decimal digits (n ≥ its digit count), zero
/// padded, straight into the output: going through a temporary and copying
/// it out cost a call to memcpy per number.
inline char* put_decimal(char* p, std::uint64_t v, unsigned n) noexcept {
  static constexpr char pairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char* const end = p + n;
  char* q = end;
  while (v >= 100) {
    q -= 2;
    std::memcpy(q, pairs + (v % 100) * 2, 2);
    v /= 100;
  }
  if (v >= 10) {
    q -= 2;
    std::memcpy(q, pairs + v * 2, 2);
  } else {
    *--q = static_cast<char>('0' + v);
  }
  while (q != p) *--q = '0';
  return end;
}

template <Number T>
constexpr std::size_t bound(T) noexcept {
  return 20;  // digits of 2^64 - 1, or "-" and those of 2^63
}
template <Number T>
inline char* put(char* p, T v) noexcept {
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) {
      *p++ = '-';
      // Negated in the unsigned type, so the most negative value works too.
      const auto u = static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v);
      return put_decimal(p, u, decimal_digits(u));
    }
  }
  const auto u = static_cast<std::uint64_t>(v);
  return put_decimal(p, u, decimal_digits(u));
}

// Widths above 10 digits are not used; a larger one is clamped there so the
// bound holds whatever the caller asks for.
constexpr std::size_t bound(Dec) noexcept { return 10; }
inline char* put(char* p, Dec d) noexcept {
  const unsigned digits = decimal_digits(d.value);
  const unsigned width = d.width < 10 ? d.width : 10;
  return put_decimal(p, d.value, digits > width ? digits : width);
}

constexpr std::size_t bound(Hex) noexcept { return 8; }
inline char* put(char* p, Hex h) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  unsigned n = 1;
  while (n < 8 && (h.value >> (4 * n)) != 0) ++n;
  if (h.width > n) n = h.width < 8 ? h.width : 8;
  char* const end = p + n;
  std::uint32_t v = h.value;
  for (char* q = end; q != p; v >>= 4) *--q = digits[v & 0xfU];
  return end;
}

constexpr std::size_t bound(const Ipv4Address&) noexcept { return 15; }
inline char* put(char* p, const Ipv4Address& a) noexcept { return a.format(p); }

constexpr std::size_t bound(const MacAddress&) noexcept { return 17; }
inline char* put(char* p, const MacAddress& m) noexcept { return m.format(p); }

constexpr std::size_t bound(const Ipv6Address&) noexcept { return Ipv6Address::max_text_len; }
inline char* put(char* p, const Ipv6Address& a) noexcept { return a.format(p); }

}  // namespace detail

/// Appends the parts, in order, to `out`.
template <class... Parts>
void append(fmt::memory_buffer& out, const Parts&... parts) {
  const std::size_t at = out.size();
  // One reservation for the worst case, then plain stores: the buffer's
  // inline capacity covers a line, so this rarely allocates.
  out.resize(at + (std::size_t{0} + ... + detail::bound(parts)));
  char* const begin = out.data();
  char* p = begin + at;
  ((p = detail::put(p, parts)), ...);
  out.resize(static_cast<std::size_t>(p - begin));
}

}  // namespace ersatz::wire::text
