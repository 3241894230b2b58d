#include "ersatz/stack/path_mtu.hpp"

#include <algorithm>

namespace ersatz::stack {

void PathMtuCache::learn(wire::Ipv4Address dst, std::size_t mtu, MonoTime now) {
  mtu = std::max(mtu, config_.floor);
  // Expired entries go first; they say nothing any more.
  std::erase_if(entries_, [&](const Entry& e) { return e.expires <= now; });
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.dst == dst; });
  if (it != entries_.end()) {
    // RFC 1191 §6.3: a host never raises its estimate on a message; it
    // learns a larger path only when the entry expires.
    it->mtu = std::min(it->mtu, mtu);
    it->expires = now + config_.expires;
    return;
  }
  if (entries_.size() >= config_.capacity) {
    entries_.erase(
        std::min_element(entries_.begin(), entries_.end(),
                         [](const Entry& a, const Entry& b) { return a.expires < b.expires; }));
  }
  entries_.push_back(Entry{dst, mtu, now + config_.expires});
}

std::optional<std::size_t> PathMtuCache::lookup(wire::Ipv4Address dst,
                                                MonoTime now) const noexcept {
  for (const Entry& e : entries_) {
    if (e.dst == dst && e.expires > now) return e.mtu;
  }
  return std::nullopt;
}

}  // namespace ersatz::stack
