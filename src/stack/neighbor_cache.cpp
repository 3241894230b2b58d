#include "ersatz/stack/neighbor_cache.hpp"

#include <algorithm>
#include <utility>

namespace ersatz::stack {

std::string_view to_string(NeighborState s) noexcept {
  switch (s) {
    case NeighborState::incomplete: return "INCOMPLETE";
    case NeighborState::reachable: return "REACHABLE";
    case NeighborState::stale: return "STALE";
    case NeighborState::probe: return "PROBE";
    case NeighborState::failed: return "FAILED";
  }
  return "?";
}

const NeighborCache::Entry* NeighborCache::find(wire::Ipv4Address ip) const noexcept {
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.ip == ip; });
  return it == entries_.end() ? nullptr : &*it;
}

NeighborCache::Entry* NeighborCache::find_mut(wire::Ipv4Address ip) noexcept {
  return const_cast<Entry*>(std::as_const(*this).find(ip));
}

NeighborCache::Entry* NeighborCache::insert(wire::Ipv4Address ip, MonoTime now, bool passive) {
  if (entries_.size() >= config_.capacity) {
    // Evict the least recently used entry that nobody waits on; if every
    // entry is resolving, the oldest of those. An entry made only because
    // someone ARPed us (passive) may evict only another such entry: a
    // flood of strangers must not push out the gateway we send through.
    auto order = [](const Entry& a, const Entry& b) {
      if (a.looked_up != b.looked_up) return !a.looked_up;
      const bool a_busy = !a.queue.empty();
      const bool b_busy = !b.queue.empty();
      if (a_busy != b_busy) return !a_busy;
      return a.last_used < b.last_used;
    };
    auto victim = std::min_element(entries_.begin(), entries_.end(), order);
    if (passive && victim->looked_up) return nullptr;
    *victim = std::move(entries_.back());
    entries_.pop_back();
  }
  Entry e;
  e.ip = ip;
  e.last_used = now;
  e.looked_up = !passive;
  entries_.push_back(std::move(e));
  peak_size_ = std::max(peak_size_, entries_.size());
  return &entries_.back();
}

void NeighborCache::request(Entry& e, MonoTime now, NeighborActions& out, bool unicast) {
  out.requests.push_back({e.ip, unicast ? std::optional(e.mac) : std::nullopt});
  e.last_request = now;
  e.deadline = now + config_.retrans;
  ++e.probes;
}

void NeighborCache::enqueue(Entry& e, Datagram* datagram, NeighborActions& out) {
  if (datagram == nullptr) return;
  if (e.queue.size() >= config_.queue_len) {
    // Keep the newest: an old datagram is likelier to be stale already.
    e.queue.erase(e.queue.begin());
    ++out.queue_overflows;
  }
  e.queue.push_back(std::move(*datagram));
}

std::optional<wire::MacAddress> NeighborCache::lookup(wire::Ipv4Address ip, MonoTime now,
                                                      NeighborActions& out, Datagram* datagram) {
  Entry* e = find_mut(ip);
  if (e == nullptr) {
    e = insert(ip, now, false);
    e->state = NeighborState::incomplete;
    enqueue(*e, datagram, out);
    request(*e, now, out, false);
    return std::nullopt;
  }
  e->last_used = now;
  e->looked_up = true;
  switch (e->state) {
    case NeighborState::reachable: return e->mac;
    case NeighborState::stale:
      // Usable, but confirm it (RFC 1122 §2.3.2.1 "unicast poll").
      e->state = NeighborState::probe;
      e->probes = 0;
      request(*e, now, out, true);
      return e->mac;
    case NeighborState::probe: return e->mac;
    case NeighborState::incomplete: enqueue(*e, datagram, out); return std::nullopt;
    case NeighborState::failed:
      enqueue(*e, datagram, out);
      // RFC 1122 §2.3.2.1: no more than one request per second per
      // destination, even when asked again and again.
      if (now - e->last_request >= config_.retrans) {
        e->state = NeighborState::incomplete;
        e->probes = 0;
        request(*e, now, out, false);
      } else if (!e->queue.empty()) {
        // Nobody will ask for this one; report it as failed at once.
        out.failed.push_back({ip, std::move(e->queue)});
        e->queue.clear();
      }
      return std::nullopt;
  }
  return std::nullopt;
}

void NeighborCache::on_arp(const Heard& arp, MonoTime now, NeighborActions& out) {
  // A sender of 0.0.0.0 is an RFC 5227 probe and says nothing about
  // where an address lives; broadcast or multicast MACs are never
  // neighbours.
  if (arp.sender_ip.is_unspecified() || arp.sender_mac.is_multicast()) return;
  Entry* e = find_mut(arp.sender_ip);
  if (e == nullptr) {
    if (!arp.to_us) return;
    e = insert(arp.sender_ip, now, true);
    if (e == nullptr) return;
  } else if (e->state == NeighborState::incomplete || e->state == NeighborState::failed) {
    // While we ask, only ARP addressed to us answers: a gratuitous claim
    // racing the real answer must not win it.
    if (!arp.to_us) return;
  } else if (e->mac != arp.sender_mac) {
    const bool asked = e->state == NeighborState::probe && arp.to_us && arp.is_reply;
    if (!e->warned) {
      out.changes.push_back({arp.sender_ip, e->mac, arp.sender_mac, asked});
      e->warned = true;
    }
    if (!asked) {
      if (e->state == NeighborState::reachable && now - e->confirmed >= config_.retrans) {
        e->state = NeighborState::stale;
        e->deadline = now + config_.stale_lifetime;
      }
      return;
    }
  }
  e->mac = arp.sender_mac;
  e->state = NeighborState::reachable;
  e->confirmed = now;
  e->deadline = now + config_.reachable;
  e->probes = 0;
  if (!e->queue.empty()) {
    out.resolved.push_back({arp.sender_ip, arp.sender_mac, std::move(e->queue)});
    e->queue.clear();
  }
}

void NeighborCache::poll(MonoTime now, NeighborActions& out) {
  for (std::size_t i = 0; i < entries_.size();) {
    Entry& e = entries_[i];
    bool remove = false;
    if (e.deadline <= now) {
      switch (e.state) {
        case NeighborState::incomplete:
        case NeighborState::probe:
          if (e.probes < config_.max_probes) {
            request(e, now, out, e.state == NeighborState::probe);
          } else {
            e.state = NeighborState::failed;
            e.deadline = now + config_.failed_hold;
            if (!e.queue.empty()) {
              out.failed.push_back({e.ip, std::move(e.queue)});
              e.queue.clear();
            }
          }
          break;
        case NeighborState::reachable:
          e.state = NeighborState::stale;
          e.deadline = e.last_used + config_.stale_lifetime;
          if (e.deadline <= now) e.deadline = now + config_.stale_lifetime;
          break;
        case NeighborState::stale: remove = now - e.last_used >= config_.stale_lifetime; break;
        case NeighborState::failed: remove = true; break;
      }
      if (!remove && e.deadline <= now) e.deadline = now + config_.stale_lifetime;
    }
    if (remove) {
      entries_[i] = std::move(entries_.back());
      entries_.pop_back();
    } else {
      ++i;
    }
  }
}

std::optional<MonoTime> NeighborCache::next_deadline() const noexcept {
  std::optional<MonoTime> next;
  for (const Entry& e : entries_) {
    if (!next || e.deadline < *next) next = e.deadline;
  }
  return next;
}

}  // namespace ersatz::stack
