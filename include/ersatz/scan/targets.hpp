// What sweep probes: the addresses named on the command line or in a file
// (each with the name fping prints for it), or a block of addresses (-g)
// that is never listed in memory.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ersatz/base/result.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::scan {

class TargetSet {
 public:
  TargetSet() = default;
  /// Every address from `first` to `last`, both included.
  static TargetSet block(wire::Ipv4Address first, wire::Ipv4Address last) noexcept;

  /// Appends one named target (not to a block). The same address may come
  /// twice, as in fping: each is probed and reported on its own.
  void add(std::string_view name, wire::Ipv4Address address);

  std::uint64_t size() const noexcept { return block_ ? count_ : addresses_.size(); }
  bool empty() const noexcept { return size() == 0; }
  bool is_block() const noexcept { return block_; }
  wire::Ipv4Address address(std::uint64_t i) const noexcept {
    return block_ ? wire::Ipv4Address(static_cast<std::uint32_t>(first_ + i)) : addresses_[i];
  }
  /// The name to print for target `i`: as given, or the dotted quad of a
  /// block's address (written into `scratch`).
  std::string_view name(std::uint64_t i, std::array<char, 16>& scratch) const noexcept;
  /// The first target with this address, if any.
  std::optional<std::uint64_t> find(wire::Ipv4Address a) const;
  /// The longest name: fping pads its count-mode columns to it.
  std::size_t max_name_len() const noexcept;

 private:
  bool block_ = false;
  std::uint64_t first_ = 0;
  std::uint64_t count_ = 0;
  std::vector<wire::Ipv4Address> addresses_;
  std::string names_;                // every name, end to end
  std::vector<std::uint32_t> ends_;  // where each name ends in names_
  std::size_t max_name_len_ = 0;
  mutable std::unordered_map<std::uint32_t, std::uint64_t> index_;  // built on first find()
};

/// fping -g's two forms. Errors name what was wrong; the caller words them.
enum class BlockError : std::uint8_t {
  no_prefix = 1,  ///< no '/' in a CIDR block
  bad_address,    ///< not a dotted quad
  bad_prefix,     ///< a prefix length outside 1..32
  reversed,       ///< the end comes before the start
};
struct BlockParse {
  wire::Ipv4Address first;
  wire::Ipv4Address last;
};
/// "198.19.0.0/16" as fping -g expands it: the network and broadcast
/// addresses are left out, except for /31 and /32, which have neither.
tl::expected<BlockParse, BlockError> parse_cidr(std::string_view text);
/// fping -g START END: both included.
tl::expected<BlockParse, BlockError> parse_range(std::string_view start, std::string_view end);

}  // namespace ersatz::scan
