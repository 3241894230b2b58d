// A keyed pseudo-random order over [0, n), without a list in memory.
//
// zmap walks the address space in the order of a cyclic group; ersatz uses
// a balanced Feistel network instead (Luby and Rackoff: four or more rounds
// of a keyed function give a pseudo-random permutation), over the smallest
// domain of 2^(2h) values that holds n, and walks the cycle (Black and
// Rogaway, "Ciphers with arbitrary finite domains", 2002) until the value
// falls inside [0, n). The domain is less than 4n, so a step takes fewer
// than four Feistel evaluations on average, and any n up to 2^32 costs the
// same few words of memory.
//
// The round function is a 64-bit mixer (the finaliser of splitmix64) keyed
// by a round key that SipHash derives from the run's key: the order only
// has to look random and differ per key, and the mixer costs a few cycles
// where SipHash would cost tens per round.
//
// Sharding: position j of the order belongs to shard j mod N. Shards made
// with the same key and N are disjoint and together cover [0, n).
#pragma once

#include <array>
#include <cstdint>

#include "ersatz/base/siphash.hpp"

namespace ersatz::scan {

class Permutation {
 public:
  static constexpr int rounds = 6;

  Permutation(std::uint64_t n, SipKey key) noexcept;

  std::uint64_t size() const noexcept { return n_; }
  /// The value at position `i` (i < size()).
  std::uint64_t at(std::uint64_t i) const noexcept;

 private:
  std::uint64_t feistel(std::uint64_t x) const noexcept;

  std::uint64_t n_;
  std::array<std::uint64_t, rounds> round_keys_{};
  int half_bits_ = 1;  // each half of the domain's 2 * half_bits_ bits
  std::uint64_t half_mask_ = 1;
};

/// One shard's share of an order: positions index, index + count, ...
class ShardWalk {
 public:
  ShardWalk(const Permutation& order, std::uint32_t index, std::uint32_t count) noexcept
      : order_(order), first_(index), next_(index), step_(count == 0 ? 1 : count) {}
  bool done() const noexcept { return next_ >= order_.size(); }
  /// The next value of this shard; call only while !done().
  std::uint64_t next() noexcept {
    const std::uint64_t v = order_.at(next_);
    next_ += step_;
    return v;
  }
  /// How many values this shard has in all.
  std::uint64_t total() const noexcept;
  std::uint64_t taken() const noexcept;

 private:
  const Permutation& order_;
  std::uint64_t first_;
  std::uint64_t next_;
  std::uint64_t step_;
};

}  // namespace ersatz::scan
