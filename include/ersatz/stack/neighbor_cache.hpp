// The IPv4 neighbour cache: ARP resolution (RFC 826) with the rules of RFC
// 1122 §2.3.2 — entries expire, requests are rate-limited to one per second
// per destination, and the first datagrams wait for resolution instead of
// being dropped.
//
// States, as Linux names them: INCOMPLETE (asking), REACHABLE (confirmed
// recently), STALE (usable, unconfirmed), PROBE (re-asking, unicast, while
// still in use) and FAILED (nobody answered; kept a while so that we do not
// ask again at once).
//
// Nothing here sends: handlers return their actions in NeighborActions, and
// the time is always passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "ersatz/base/time.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::stack {

enum class NeighborState : std::uint8_t { incomplete, reachable, stale, probe, failed };
std::string_view to_string(NeighborState s) noexcept;

struct NeighborConfig {
  int max_probes = 3;  ///< requests before giving up (iputils arping, Linux ucast/mcast_solicit)
  std::chrono::nanoseconds retrans =
      std::chrono::seconds(1);  ///< between requests; also the per-destination rate limit
  std::chrono::nanoseconds reachable =
      std::chrono::seconds(30);  ///< REACHABLE → STALE (Linux base_reachable_time)
  std::chrono::nanoseconds stale_lifetime =
      std::chrono::seconds(60);  ///< unused STALE entries are removed (gc_stale_time)
  std::chrono::nanoseconds failed_hold =
      std::chrono::seconds(3);  ///< how long FAILED is remembered
  std::size_t capacity = 512;   ///< entries; the oldest settled entry is evicted beyond it
  std::size_t queue_len = 8;    ///< datagrams waiting per entry
};

using Datagram = std::vector<std::byte>;

/// What the cache asks of its owner.
struct NeighborActions {
  struct Request {
    wire::Ipv4Address target;
    std::optional<wire::MacAddress> unicast_to;  ///< PROBE asks the known MAC directly
  };
  struct Resolved {
    wire::Ipv4Address ip;
    wire::MacAddress mac;
    std::vector<Datagram> queued;  ///< now sendable, in order
  };
  struct Failed {
    wire::Ipv4Address ip;
    std::vector<Datagram> queued;  ///< never sent
  };
  /// A different MAC was heard for a known neighbour: `to` replaced
  /// `from` if `accepted`, else `from` was kept (see NeighborCache::on_arp).
  struct MacChanged {
    wire::Ipv4Address ip;
    wire::MacAddress from;
    wire::MacAddress to;
    bool accepted = true;
  };
  std::vector<Request> requests;
  std::vector<Resolved> resolved;
  std::vector<Failed> failed;
  std::vector<MacChanged> changes;  ///< reported once per entry
  std::uint64_t queue_overflows = 0;

  bool empty() const noexcept {
    return requests.empty() && resolved.empty() && failed.empty() && changes.empty() &&
           queue_overflows == 0;
  }
  void clear() {
    requests.clear();
    resolved.clear();
    failed.clear();
    changes.clear();
    queue_overflows = 0;
  }
};

class NeighborCache {
 public:
  explicit NeighborCache(NeighborConfig config = {}) : config_(config) {}

  /// The MAC for sending to `ip` now. Without one, `datagram` (if given)
  /// waits in the entry's queue and a request is scheduled; the answer is
  /// nullopt.
  std::optional<wire::MacAddress> lookup(wire::Ipv4Address ip, MonoTime now, NeighborActions& out,
                                         Datagram* datagram = nullptr);

  /// What an ARP packet says about its sender.
  struct Heard {
    wire::Ipv4Address sender_ip;
    wire::MacAddress sender_mac;
    bool to_us = false;     ///< its target protocol address is ours
    bool is_reply = false;  ///< ar$op is REPLY
  };
  /// An ARP packet arrived. RFC 826's merge, with two limits against
  /// spoofing:
  /// - a new entry is created, and an unresolved one (INCOMPLETE, FAILED)
  ///   resolved, only by ARP whose target is us, so unsolicited ARP cannot
  ///   fill the table nor win the race with the real answer;
  /// - a known neighbour's MAC is replaced only while we are asking for it
  ///   (PROBE) and by a reply addressed to us. ARP has no
  ///   "override" flag, so an unsolicited claim of another MAC is treated
  ///   as RFC 4861 §7.2.5 treats an advertisement without one: the entry is
  ///   kept, reported once, and (if confirmed over `retrans` ago) marked
  ///   STALE so that its next use re-checks it with a unicast request.
  ///   Without this, one gratuitous ARP naming the gateway at a stranger's
  ///   MAC would send every probe to the stranger.
  void on_arp(const Heard& arp, MonoTime now, NeighborActions& out);

  /// Timers: retries, failures, ageing.
  void poll(MonoTime now, NeighborActions& out);
  /// When poll() next has work, if ever.
  std::optional<MonoTime> next_deadline() const noexcept;

  struct Entry {
    wire::Ipv4Address ip;
    wire::MacAddress mac;
    NeighborState state = NeighborState::incomplete;
    MonoTime confirmed{};  ///< last proof of reachability
    MonoTime last_used{};
    MonoTime last_request{};  ///< for the one-per-second limit
    MonoTime deadline{};      ///< next timer for this entry
    int probes = 0;
    bool warned = false;
    bool looked_up = false;  ///< we sent, or meant to send, through it
    std::vector<Datagram> queue;
  };
  const Entry* find(wire::Ipv4Address ip) const noexcept;
  std::size_t size() const noexcept { return entries_.size(); }
  /// The most entries ever held at once (never above the capacity).
  std::size_t peak_size() const noexcept { return peak_size_; }
  const NeighborConfig& config() const noexcept { return config_; }

 private:
  Entry* find_mut(wire::Ipv4Address ip) noexcept;
  /// A new entry, evicting if full; nullptr when `passive` (made by ARP to
  /// us, not by our own lookup) and only looked-up entries could go.
  Entry* insert(wire::Ipv4Address ip, MonoTime now, bool passive);
  void request(Entry& e, MonoTime now, NeighborActions& out, bool unicast);
  void enqueue(Entry& e, Datagram* datagram, NeighborActions& out);

  NeighborConfig config_;
  std::size_t peak_size_ = 0;
  std::vector<Entry> entries_;  // small and scanned linearly: capacity is hundreds
};

}  // namespace ersatz::stack
