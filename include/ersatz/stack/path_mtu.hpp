// Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), kept per
// destination with the semantics of Linux's route cache: an entry expires
// after ten minutes (net.ipv4.route.mtu_expires), and no path is believed
// smaller than 552 bytes (net.ipv4.route.min_pmtu), so that a forged
// message cannot shrink datagrams to nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "ersatz/base/time.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::stack {

struct PathMtuConfig {
  std::chrono::nanoseconds expires = std::chrono::minutes(10);
  std::size_t floor = 552;
  std::size_t capacity = 1024;  ///< destinations remembered; the oldest goes first
};

class PathMtuCache {
 public:
  explicit PathMtuCache(PathMtuConfig config = {}) : config_(config) {}

  /// A router said datagrams to `dst` must fit `mtu` (the next-hop MTU of
  /// the message). Only lowers what is known; raised to the floor.
  void learn(wire::Ipv4Address dst, std::size_t mtu, MonoTime now);
  /// The path MTU to `dst`, if one was learned and has not expired.
  std::optional<std::size_t> lookup(wire::Ipv4Address dst, MonoTime now) const noexcept;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    wire::Ipv4Address dst;
    std::size_t mtu;
    MonoTime expires;
  };
  PathMtuConfig config_;
  std::vector<Entry> entries_;  // few: one per destination that needed it
};

}  // namespace ersatz::stack
