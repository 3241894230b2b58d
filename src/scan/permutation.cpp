#include "ersatz/scan/permutation.hpp"

#include <array>

namespace ersatz::scan {

namespace {

constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

Permutation::Permutation(std::uint64_t n, SipKey key) noexcept : n_(n) {
  for (std::size_t r = 0; r < round_keys_.size(); ++r) {
    const std::array<std::uint64_t, 1> in{r};
    round_keys_[r] = siphash24(key, in);
  }
  // The smallest even bit width 2h with 2^(2h) >= n (h >= 1, so that both
  // halves carry something).
  while (half_bits_ < 32 && (std::uint64_t{1} << (2 * half_bits_)) < n) ++half_bits_;
  half_mask_ = (std::uint64_t{1} << half_bits_) - 1;
}

std::uint64_t Permutation::feistel(std::uint64_t x) const noexcept {
  std::uint64_t left = x >> half_bits_;
  std::uint64_t right = x & half_mask_;
  for (const std::uint64_t k : round_keys_) {
    const std::uint64_t f = mix(right ^ k) & half_mask_;
    const std::uint64_t next_right = left ^ f;
    left = right;
    right = next_right;
  }
  return (left << half_bits_) | right;
}

std::uint64_t Permutation::at(std::uint64_t i) const noexcept {
  // Cycle walking: the Feistel network permutes the whole domain, so
  // iterating it from a value inside [0, n) comes back inside [0, n)
  // before it could repeat.
  std::uint64_t x = feistel(i);
  while (x >= n_) x = feistel(x);
  return x;
}

std::uint64_t ShardWalk::total() const noexcept {
  const std::uint64_t n = order_.size();
  return first_ >= n ? 0 : (n - first_ + step_ - 1) / step_;
}

std::uint64_t ShardWalk::taken() const noexcept {
  return next_ >= first_ ? (next_ - first_) / step_ : 0;
}

}  // namespace ersatz::scan
