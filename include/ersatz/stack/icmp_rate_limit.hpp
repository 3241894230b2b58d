// The ICMP error budget, as Linux keeps it (net/ipv4/icmp.c): a global
// token bucket (net.ipv4.icmp_msgs_per_sec = 1000, icmp_msgs_burst = 50)
// and one per destination (net.ipv4.icmp_ratelimit = 1000 ms, with
// inet_peer_xrlim_allow's XRLIM_BURST_FACTOR of 6, a new destination
// starting with a full bucket). RFC 1812 §4.3.2.8 asks routers to limit
// errors; RFC 1122 §3.2.2 lets hosts do the same.
//
// The per-destination table is bounded: past its capacity the entry used
// longest ago goes, so a flood from many sources costs no more memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "ersatz/base/time.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::stack {

struct IcmpRateLimitConfig {
  std::chrono::nanoseconds per_destination = std::chrono::milliseconds(1000);
  int burst_factor = 6;  ///< XRLIM_BURST_FACTOR
  std::uint32_t global_per_sec = 1000;
  std::uint32_t global_burst = 50;
  std::size_t capacity = 256;  ///< destinations remembered
};

class IcmpRateLimiter {
 public:
  explicit IcmpRateLimiter(IcmpRateLimitConfig config = {}) : config_(config) {}

  /// Whether an error to `dst` may leave now; if so, its cost is taken.
  bool allow(wire::Ipv4Address dst, MonoTime now);

  std::size_t size() const noexcept { return peers_.size(); }

 private:
  struct Peer {
    wire::Ipv4Address dst;
    std::chrono::nanoseconds tokens{};
    MonoTime last{};
  };
  bool global_allow(MonoTime now);
  Peer& peer(wire::Ipv4Address dst, MonoTime now);

  IcmpRateLimitConfig config_;
  std::vector<Peer> peers_;
  bool global_started_ = false;
  double global_credit_ = 0;
  MonoTime global_stamp_{};
};

}  // namespace ersatz::stack
