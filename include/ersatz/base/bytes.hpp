// Byte spans and big-endian loads and stores.
//
// Every wire accessor reads through these helpers rather than casting to
// packed structs: no alignment or aliasing traps, and the compiler turns the
// shifts into a single load and bswap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ersatz {

using ConstBytes = std::span<const std::byte>;
using MutBytes = std::span<std::byte>;

/// A half-open byte range [begin, end) inside a header, used by the `field`
/// namespaces of the wire layer.
struct Field {
  std::size_t begin;
  std::size_t end;
  constexpr std::size_t size() const noexcept { return end - begin; }
};

constexpr std::uint8_t load_u8(ConstBytes b, std::size_t at) noexcept {
  return static_cast<std::uint8_t>(b[at]);
}
constexpr std::uint16_t load_be16(ConstBytes b, std::size_t at) noexcept {
  return static_cast<std::uint16_t>((static_cast<unsigned>(b[at]) << 8) |
                                    static_cast<unsigned>(b[at + 1]));
}
constexpr std::uint32_t load_be32(ConstBytes b, std::size_t at) noexcept {
  return (static_cast<std::uint32_t>(b[at]) << 24) | (static_cast<std::uint32_t>(b[at + 1]) << 16) |
         (static_cast<std::uint32_t>(b[at + 2]) << 8) | static_cast<std::uint32_t>(b[at + 3]);
}
constexpr void store_u8(MutBytes b, std::size_t at, std::uint8_t v) noexcept {
  b[at] = static_cast<std::byte>(v);
}
constexpr void store_be16(MutBytes b, std::size_t at, std::uint16_t v) noexcept {
  b[at] = static_cast<std::byte>(v >> 8);
  b[at + 1] = static_cast<std::byte>(v);
}
constexpr void store_be32(MutBytes b, std::size_t at, std::uint32_t v) noexcept {
  b[at] = static_cast<std::byte>(v >> 24);
  b[at + 1] = static_cast<std::byte>(v >> 16);
  b[at + 2] = static_cast<std::byte>(v >> 8);
  b[at + 3] = static_cast<std::byte>(v);
}

/// Little-endian loads, for file formats written in the host order of
/// another machine (pcap).
constexpr std::uint16_t load_le16(ConstBytes b, std::size_t at) noexcept {
  return static_cast<std::uint16_t>(static_cast<unsigned>(b[at]) |
                                    (static_cast<unsigned>(b[at + 1]) << 8));
}
constexpr std::uint32_t load_le32(ConstBytes b, std::size_t at) noexcept {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24);
}

/// View a range of a span; the caller has already bounds-checked it.
template <class B>
constexpr auto sub(B b, Field f) noexcept {
  return b.subspan(f.begin, f.size());
}

inline ConstBytes as_bytes(const void* p, std::size_t n) noexcept {
  return {static_cast<const std::byte*>(p), n};
}

}  // namespace ersatz
