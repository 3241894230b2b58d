#include "ersatz/scan/targets.hpp"

#include <algorithm>
#include <charconv>

namespace ersatz::scan {

TargetSet TargetSet::block(wire::Ipv4Address first, wire::Ipv4Address last) noexcept {
  TargetSet t;
  t.block_ = true;
  t.first_ = first.value();
  t.count_ = last.value() >= first.value() ? std::uint64_t{last.value()} - first.value() + 1 : 0;
  return t;
}

void TargetSet::add(std::string_view name, wire::Ipv4Address address) {
  addresses_.push_back(address);
  names_.append(name);
  ends_.push_back(static_cast<std::uint32_t>(names_.size()));
  max_name_len_ = std::max(max_name_len_, name.size());
  if (!index_.empty()) index_.emplace(address.value(), addresses_.size() - 1);
}

std::string_view TargetSet::name(std::uint64_t i, std::array<char, 16>& scratch) const noexcept {
  if (block_) {
    const char* end = address(i).format(scratch.data());
    return std::string_view(scratch.data(), static_cast<std::size_t>(end - scratch.data()));
  }
  const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(names_).substr(begin, ends_[i] - begin);
}

std::optional<std::uint64_t> TargetSet::find(wire::Ipv4Address a) const {
  if (block_) {
    if (a.value() < first_ || a.value() - first_ >= count_) return std::nullopt;
    return a.value() - first_;
  }
  if (index_.empty() && !addresses_.empty()) {
    index_.reserve(addresses_.size());
    for (std::uint64_t i = 0; i < addresses_.size(); ++i)
      index_.emplace(addresses_[i].value(), i);  // keeps the first of duplicates
  }
  auto it = index_.find(a.value());
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::size_t TargetSet::max_name_len() const noexcept {
  if (!block_) return max_name_len_;
  // A dotted quad's length changes as its octets cross 10 and 100, so the
  // longest is not always at an end of the block; a block's addresses are
  // walked once, and only when a column needs the width.
  std::size_t longest = 0;
  std::array<char, 16> scratch{};
  for (std::uint64_t i = 0; i < count_ && longest < 15; ++i)
    longest = std::max(longest, name(i, scratch).size());
  return longest;
}

tl::expected<BlockParse, BlockError> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return tl::unexpected(BlockError::no_prefix);
  const auto address = wire::Ipv4Address::parse(text.substr(0, slash));
  if (!address) return tl::unexpected(BlockError::bad_address);
  // fping reads the length with atoi: digits only here, anything else is
  // out of range.
  const std::string_view len_text = text.substr(slash + 1);
  int len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || end != len_text.data() + len_text.size() || len < 1 || len > 32)
    return tl::unexpected(BlockError::bad_prefix);
  const std::uint32_t mask = len == 32 ? 0xffffffffU : ~(0xffffffffU >> len);
  std::uint32_t first = address->value() & mask;
  std::uint32_t last = first | ~mask;
  // RFC 3021 /31s and /32s have no network or broadcast address.
  if (len < 31) {
    ++first;
    --last;
  }
  return BlockParse{wire::Ipv4Address(first), wire::Ipv4Address(last)};
}

tl::expected<BlockParse, BlockError> parse_range(std::string_view start, std::string_view end) {
  const auto a = wire::Ipv4Address::parse(start);
  const auto b = wire::Ipv4Address::parse(end);
  if (!a || !b) return tl::unexpected(BlockError::bad_address);
  if (b->value() < a->value()) return tl::unexpected(BlockError::reversed);
  return BlockParse{*a, *b};
}

}  // namespace ersatz::scan
