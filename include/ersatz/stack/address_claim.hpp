// IPv4 Address Conflict Detection (RFC 5227): claiming an address on a
// link, then keeping it.
//
// A host that wants an address first probes for it (§2.1.1: PROBE_NUM
// requests from sender 0.0.0.0, PROBE_MIN..PROBE_MAX apart, after a random
// wait of up to PROBE_WAIT), waits ANNOUNCE_WAIT for an objection, then
// announces it (§2.3: ANNOUNCE_NUM requests with its own address as sender
// and target, ANNOUNCE_INTERVAL apart). From the first announcement on it
// uses the address, and watches for others claiming it (§2.4), which it
// answers as its DefendPolicy says.
//
// Sans-I/O, as the rest of stack/: the time is passed in, frames go out
// through an Outbox, random waits come from a seeded generator so that
// tests can replay them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "ersatz/base/time.hpp"
#include "ersatz/stack/host.hpp"
#include "ersatz/wire/arp.hpp"

namespace ersatz::stack {

/// What to do when another host claims our address while we use it
/// (RFC 5227 §2.4).
enum class DefendPolicy : std::uint8_t {
  once,    ///< §2.4(b): defend once; a second conflict within DEFEND_INTERVAL yields
  always,  ///< §2.4(c): defend every time, at most once per DEFEND_INTERVAL
  never,   ///< §2.4(a): yield at once
};
std::string_view to_string(DefendPolicy p) noexcept;
std::optional<DefendPolicy> parse_defend_policy(std::string_view s) noexcept;

/// RFC 5227 §1.1's constants.
struct ClaimTiming {
  std::chrono::nanoseconds probe_wait = std::chrono::seconds(1);
  int probe_num = 3;
  std::chrono::nanoseconds probe_min = std::chrono::seconds(1);
  std::chrono::nanoseconds probe_max = std::chrono::seconds(2);
  std::chrono::nanoseconds announce_wait = std::chrono::seconds(2);
  int announce_num = 2;
  std::chrono::nanoseconds announce_interval = std::chrono::seconds(2);
  std::chrono::nanoseconds defend_interval = std::chrono::seconds(10);
};

struct ClaimConfig {
  wire::MacAddress mac;
  wire::Ipv4Address address;
  DefendPolicy defend = DefendPolicy::once;
  ClaimTiming timing;
  std::uint64_t seed = 0;  ///< for the random waits (random in a tool, fixed in tests)
};

enum class ClaimState : std::uint8_t {
  idle,        ///< not started
  probing,     ///< §2.1.1: the address is not ours yet
  announcing,  ///< §2.3: ours, announcements still to send
  bound,       ///< ours, watched for conflicts
  lost,        ///< another host has it
};
std::string_view to_string(ClaimState s) noexcept;

struct ClaimEvent {
  enum class Kind : std::uint8_t {
    probe,             ///< a probe left
    announce,          ///< an announcement left (not a defence)
    bound,             ///< probing is over without objection: the address is ours
    conflict_probing,  ///< someone has or wants it while we probe: lost
    defended,          ///< a conflict answered with an announcement
    ignored,           ///< a conflict within DEFEND_INTERVAL of our last defence (always)
    yielded,           ///< a conflict we gave in to: lost
  };
  Kind kind;
  MonoTime at;
  wire::MacAddress other;  ///< the other host, for the conflicts
};
std::string_view to_string(ClaimEvent::Kind k) noexcept;

class AddressClaim {
 public:
  explicit AddressClaim(ClaimConfig config);

  /// Starts probing: the first probe leaves after a random wait of up to
  /// PROBE_WAIT.
  void start(MonoTime now);
  /// Sends what is due.
  void poll(MonoTime now, Outbox& out);
  std::optional<MonoTime> next_deadline() const noexcept;

  /// An ARP packet seen on the link. Returns true when it was a conflict
  /// (the caller then keeps it from the Host: it is about our address,
  /// from someone else).
  bool on_arp(const wire::arp::Repr& arp, MonoTime now, Outbox& out);

  ClaimState state() const noexcept { return state_; }
  /// Whether the address may be used: from the first announcement on.
  bool in_use() const noexcept {
    return state_ == ClaimState::announcing || state_ == ClaimState::bound;
  }
  const ClaimConfig& config() const noexcept { return config_; }

  /// Events since the last call, oldest first.
  std::vector<ClaimEvent> take_events() { return std::exchange(events_, {}); }

  /// RFC 5227 §2.1.1: sender 0.0.0.0, target hardware zeros (RFC 826
  /// leaves it unused in a request), our address as the target.
  static wire::arp::Repr probe(wire::MacAddress mac, wire::Ipv4Address address) noexcept {
    return {wire::arp::Operation::request, mac, wire::Ipv4Address(), wire::MacAddress(), address};
  }
  /// RFC 5227 §2.3: our address as sender and target.
  static wire::arp::Repr announcement(wire::MacAddress mac, wire::Ipv4Address address) noexcept {
    return {wire::arp::Operation::request, mac, address, wire::MacAddress(), address};
  }

 private:
  void emit(const wire::arp::Repr& arp, Outbox& out) const;
  std::chrono::nanoseconds uniform(std::chrono::nanoseconds lo, std::chrono::nanoseconds hi);
  void event(ClaimEvent::Kind k, MonoTime at, wire::MacAddress other = {}) {
    events_.push_back(ClaimEvent{k, at, other});
  }

  ClaimConfig config_;
  std::mt19937_64 rng_;
  ClaimState state_ = ClaimState::idle;
  std::optional<MonoTime> next_;
  int probes_ = 0;
  int announcements_ = 0;
  std::optional<MonoTime> last_conflict_;  // once: the conflict we defended
  std::optional<MonoTime> last_defence_;   // always: the rate limit
  std::vector<ClaimEvent> events_;
};

}  // namespace ersatz::stack
