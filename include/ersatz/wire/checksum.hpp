// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// The sum is taken 64 bits at a time in the host's byte order and folded at
// the end: RFC 1071 §2(B) shows the one's-complement sum is independent of
// byte order up to a final swap, and §2(C) that wide words can be summed with
// the carries folded back later.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "ersatz/base/bytes.hpp"

namespace ersatz::wire::checksum {

/// One's-complement sum of `data` as big-endian 16-bit words, folded to 16
/// bits but not complemented. A trailing odd byte is padded with zero.
inline std::uint16_t ones_sum(ConstBytes data) noexcept {
  const std::byte* p = data.data();
  std::size_t n = data.size();
  std::uint64_t acc = 0;
  // Two independent accumulators per 16-byte step keep the adds off one
  // dependency chain; each add is < 2^33, so 2^30 steps cannot overflow.
  while (n >= 16) {
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    acc += (a & 0xffffffffU) + (a >> 32) + (b & 0xffffffffU) + (b >> 32);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    std::uint64_t a;
    std::memcpy(&a, p, 8);
    acc += (a & 0xffffffffU) + (a >> 32);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    std::uint32_t a;
    std::memcpy(&a, p, 4);
    acc += a;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    std::uint16_t a;
    std::memcpy(&a, p, 2);
    acc += a;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // The odd byte is the high half of a big-endian word; copying it into
    // the first byte of a zeroed native word puts it in the right place on
    // either endianness once the final swap is applied.
    std::uint16_t a = 0;
    std::memcpy(&a, p, 1);
    acc += a;
  }
  acc = (acc & 0xffffffffU) + (acc >> 32);
  acc = (acc & 0xffffffffU) + (acc >> 32);
  acc = (acc & 0xffffU) + (acc >> 16);
  acc = (acc & 0xffffU) + (acc >> 16);
  auto folded = static_cast<std::uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>((folded >> 8) | (folded << 8));
  }
  return folded;
}

/// The value to store in a checksum field whose bytes are zero in `data`.
inline std::uint16_t compute(ConstBytes data) noexcept {
  return static_cast<std::uint16_t>(~ones_sum(data));
}

/// True when `data`, checksum field included, sums to all ones.
inline bool verify(ConstBytes data) noexcept { return ones_sum(data) == 0xffff; }

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), when one 16-bit word of the
/// covered data changes from `old_word` to `new_word`. Unlike eqn. 2 it never
/// yields 0x0000 from a non-zero sum (the -0 problem of §3). One case it
/// cannot get right: when the change leaves every covered word zero, the
/// sum is +0 and the checksum must be 0xffff, but eqn. 3 computes -0 and
/// gives 0x0000, which does not verify (found by fuzz_checksum). An IPv4
/// header never sums to +0 (its version nibble); elsewhere, recompute.
constexpr std::uint16_t update(std::uint16_t hc, std::uint16_t old_word,
                               std::uint16_t new_word) noexcept {
  std::uint32_t sum = static_cast<std::uint16_t>(~hc);
  sum += static_cast<std::uint16_t>(~old_word);
  sum += new_word;
  sum = (sum & 0xffffU) + (sum >> 16);
  sum = (sum & 0xffffU) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

/// The value a checksum field should hold, given what it holds (`stored`)
/// and the one's-complement sum over the covered data with it in place
/// (`sum`). Unlike update(stored, stored, 0) this never yields 0x0000 for
/// data that sums to zero, so the result always verifies (the same
/// arithmetic as tcpdump's in_cksum_shouldbe).
constexpr std::uint16_t should_be(std::uint16_t stored, std::uint16_t sum) noexcept {
  std::uint32_t s = stored + static_cast<std::uint16_t>(~sum);
  s = (s & 0xffffU) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

/// One's-complement addition of two folded sums, as if their data had been
/// summed together (RFC 1071 §2(B): the sum is associative). The first part
/// must have covered an even number of bytes.
constexpr std::uint16_t combine(std::uint16_t a, std::uint16_t b) noexcept {
  std::uint32_t s = std::uint32_t{a} + b;
  s = (s & 0xffffU) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

/// Folded sum of the pseudo-header that UDP and TCP checksums cover: the
/// source and destination addresses, the protocol and the upper-layer
/// length. The addresses are bytes so that one helper serves IPv4 (RFC 768,
/// RFC 793 §3.1: 4-byte addresses, 16-bit length) and IPv6 (RFC 8200 §8.1:
/// 16-byte addresses, 32-bit length); both layouts sum to the same value
/// because the zero bytes add nothing.
inline std::uint16_t pseudo_header_sum(ConstBytes src, ConstBytes dst, std::uint8_t protocol,
                                       std::uint32_t length) noexcept {
  std::uint16_t s = combine(ones_sum(src), ones_sum(dst));
  s = combine(s, protocol);
  s = combine(s, static_cast<std::uint16_t>(length >> 16));
  return combine(s, static_cast<std::uint16_t>(length));
}

}  // namespace ersatz::wire::checksum
