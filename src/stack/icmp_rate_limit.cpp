#include "ersatz/stack/icmp_rate_limit.hpp"

#include <algorithm>

namespace ersatz::stack {

bool IcmpRateLimiter::global_allow(MonoTime now) {
  // icmp_global_allow: credit grows at msgs_per_sec up to the burst; the
  // bucket starts full.
  if (!global_started_) {
    global_started_ = true;
    global_credit_ = config_.global_burst;
    global_stamp_ = now;
  }
  const auto delta =
      std::min<std::chrono::nanoseconds>(now - global_stamp_, std::chrono::seconds(1));
  if (delta.count() > 0) {
    global_credit_ = std::min<double>(
        config_.global_burst,
        global_credit_ + std::chrono::duration<double>(delta).count() * config_.global_per_sec);
    global_stamp_ = now;
  }
  if (global_credit_ < 1) return false;
  global_credit_ -= 1;
  return true;
}

IcmpRateLimiter::Peer& IcmpRateLimiter::peer(wire::Ipv4Address dst, MonoTime now) {
  for (auto& p : peers_) {
    if (p.dst == dst) return p;
  }
  // A new destination starts with a full bucket (inet_getpeer sets
  // rate_last a minute back).
  Peer fresh{dst, config_.per_destination * config_.burst_factor, now};
  if (peers_.size() < config_.capacity) {
    peers_.push_back(fresh);
    return peers_.back();
  }
  auto oldest = std::min_element(peers_.begin(), peers_.end(),
                                 [](const Peer& a, const Peer& b) { return a.last < b.last; });
  *oldest = fresh;
  return *oldest;
}

bool IcmpRateLimiter::allow(wire::Ipv4Address dst, MonoTime now) {
  // inet_peer_xrlim_allow: tokens are time, capped at burst_factor
  // intervals; an error costs one interval.
  Peer& p = peer(dst, now);
  p.tokens += now - p.last;
  p.last = now;
  p.tokens = std::min(p.tokens, config_.per_destination * config_.burst_factor);
  if (p.tokens < config_.per_destination) return false;
  if (!global_allow(now)) return false;
  p.tokens -= config_.per_destination;
  return true;
}

}  // namespace ersatz::stack
