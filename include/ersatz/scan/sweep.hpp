// sweep: ICMP echo to many targets, as fping does it, at zmap's scale.
//
// A Sweep is an application of the runtime. It walks its targets in a
// keyed pseudo-random order (permutation.hpp), paced (pacer.hpp), and
// keeps per target only two bits (answered, errored) in alive mode, so a
// /8 costs 4 MiB and a /16 16 KiB. What it must remember about a probe in
// flight is written into the probe itself and checked when it comes back:
//
//   data bytes 0..7    when it left (wall clock, ns since the epoch)
//              8..11   the target's index
//              12..15  the ping: the attempt (alive mode) or the ping
//                      number (count mode)
//              16..23  SipHash-2-4 under a per-run random key of all of
//                      the above, the target's address, and the ICMP
//                      identifier and sequence number
//              24..    zeros, as fping sends
//
// A reply counts only if that MAC checks out, it comes from the target's
// own address, its ICMP checksum is right, and it came back within the
// ping's timeout (fping's rule): a forged, stale (another run's key) or
// reflected reply cannot mark a target alive, and the round-trip time it
// carries cannot be rewritten (CVE-2025-47268 in iputils trusted it).
// With fewer than 24 data bytes (-b), probes are remembered in a ring of
// 65536 slots by sequence number instead, as fping's seqmap does.
//
// Two modes, as fping:
//   * alive (the default): one probe, then retries (-r) with a timeout
//     that grows by the backoff factor (-B) each time; a target is done
//     when it answers or its last retry times out;
//   * count (-c/-C): N pings per target, -p apart, each with its own
//     timeout; per-target counters and, for -C, every round-trip time.
//
// ICMP errors are mapped to their target through the quoted datagram
// (read by its own IHL: CVE-2022-23093), and ARP failures for on-link
// targets through the datagrams that never left. As in fping, an error is
// reported but does not end a target: its retries still go out.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ersatz/base/siphash.hpp"
#include "ersatz/runtime/runtime.hpp"
#include "ersatz/scan/pacer.hpp"
#include "ersatz/scan/permutation.hpp"
#include "ersatz/scan/targets.hpp"
#include "ersatz/wire/icmpv4.hpp"

namespace ersatz::scan {

/// One bit per target.
class BitSet {
 public:
  explicit BitSet(std::uint64_t n = 0) : words_((n + 63) / 64) {}
  bool test(std::uint64_t i) const noexcept { return (words_[i / 64] >> (i % 64)) & 1U; }
  void set(std::uint64_t i) noexcept { words_[i / 64] |= std::uint64_t{1} << (i % 64); }

 private:
  std::vector<std::uint64_t> words_;
};

struct SweepConfig {
  wire::Ipv4Address source;
  /// Pings per target (-c/-C); 0 is fping's default is-it-alive mode.
  std::uint32_t count = 0;
  std::uint32_t retries = 3;                       ///< -r (alive mode)
  std::chrono::nanoseconds timeout{500'000'000};   ///< -t: the first wait for a reply
  double backoff = 1.5;                            ///< -B: each retry waits this much longer
  std::chrono::nanoseconds period{1'000'000'000};  ///< -p: between two pings to a target
  PacerConfig pacing;
  std::size_t data_len = 56;  ///< -b
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  bool dont_fragment = false;  ///< -M: DF on every probe (else DF on what fits the path MTU)
  SipKey order_key;            ///< the permutation's key: the same for every shard of a sweep
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;
  SipKey cookie_key;  ///< random per run
  std::uint16_t ident = 0;
  /// Targets whose next hop has no neighbour entry wait while the cache
  /// holds this many entries, so that an on-link sweep cannot evict
  /// resolutions in progress.
  std::size_t neighbor_budget = 384;
};

/// A reply, in fping's terms.
struct SweepReply {
  std::uint64_t target = 0;
  std::uint32_t ping = 0;    ///< attempt or ping number
  std::size_t icmp_len = 0;  ///< ICMP header and data: fping's "bytes"
  std::chrono::nanoseconds rtt{0};
  wire::Ipv4Address from;
  Timestamp ts;
};

/// An ICMP error about one of our probes, or an ARP failure that kept it
/// from leaving (then `from` is our own address, as the kernel reports it).
struct SweepError {
  std::uint64_t target = 0;
  wire::Ipv4Address from;
  wire::icmpv4::Type type{};
  std::uint8_t code = 0;
  bool local = false;  ///< ARP for the next hop failed
};

class SweepListener {
 public:
  virtual ~SweepListener() = default;
  /// A reply that counts: the first per target in alive mode, each ping's
  /// in count mode.
  virtual void on_reply(const SweepReply& /*r*/) {}
  virtual void on_duplicate(const SweepReply& /*r*/) {}
  /// Count mode: ping `ping` to `target` timed out.
  virtual void on_timeout(std::uint64_t /*target*/, std::uint32_t /*ping*/) {}
  virtual void on_error(const SweepError& /*e*/) {}
  /// Alive mode: the target's last retry timed out without a reply.
  virtual void on_given_up(std::uint64_t /*target*/) {}
  /// Every turn of the loop (for a progress line).
  virtual void on_turn(MonoTime /*now*/) {}
};

/// fping's per-host counters (count mode). Times in ns.
struct TargetStats {
  std::uint32_t sent = 0;  ///< pings resolved: answered or timed out (fping counts so)
  std::uint32_t recv = 0;
  std::uint32_t recv_total = 0;  ///< with duplicates and late replies
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::int64_t total = 0;
};

/// fping -s's counters.
struct SweepTotals {
  std::uint64_t sent = 0;
  std::uint64_t replies = 0;  ///< every reply of ours, duplicates and late ones included
  std::uint64_t other_icmp = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t alive = 0;
  std::uint64_t rejected = 0;  ///< replies that failed validation
  std::int64_t rtt_min = 0;
  std::int64_t rtt_max = 0;
  std::int64_t rtt_sum = 0;
  std::uint64_t rtt_count = 0;
};

class Sweep final : public runtime::Application {
 public:
  /// Where a datagram to an address goes first: the address itself when
  /// on-link, else a gateway.
  using NextHop = std::function<wire::Ipv4Address(wire::Ipv4Address)>;

  static constexpr std::size_t cookie_len = 24;
  /// What a count-mode response slot holds besides a time (ns).
  static constexpr std::int64_t response_waiting = -1;
  static constexpr std::int64_t response_unused = -2;
  static constexpr std::int64_t response_timeout = -4;

  Sweep(const TargetSet& targets, SweepConfig config, NextHop next_hop, SweepListener& listener);

  // ---- runtime::Application
  std::optional<MonoTime> poll(runtime::Runtime& rt) override;
  bool finished(const runtime::Runtime& rt) const override;
  void on_icmp(runtime::Runtime& rt, const stack::IcmpDelivery& d) override;
  void on_neighbor_failed(runtime::Runtime& rt, wire::Ipv4Address next_hop,
                          std::span<const stack::Datagram> datagrams) override;

  // ---- results
  const TargetSet& targets() const noexcept { return targets_; }
  bool alive(std::uint64_t t) const noexcept { return answered_.test(t); }
  /// Count mode only.
  const TargetStats& stats(std::uint64_t t) const noexcept { return stats_[t]; }
  /// Count mode only: ping k's round trip in ns, or a response_* value.
  std::int64_t response(std::uint64_t t, std::uint32_t k) const noexcept {
    return responses_[t * config_.count + k];
  }
  /// The last ICMP error seen for a target, if any.
  const SweepError* last_error(std::uint64_t t) const;
  const SweepTotals& totals() const noexcept { return totals_; }
  /// Targets of this shard, and how many of them are done.
  std::uint64_t shard_size() const noexcept { return shard_size_; }
  std::uint64_t done() const noexcept { return done_; }
  const Pacer& pacer() const noexcept { return pacer_; }
  /// Whether a probe went to target t: once the sweep is finished, whether
  /// t belongs to this shard.
  bool started(std::uint64_t t) const noexcept { return started_bits_.test(t); }

 private:
  struct Pending {
    std::uint32_t target;
    std::uint32_t ping;
    std::int64_t due;  // ns on the monotonic clock
  };
  struct Probe {
    std::uint64_t target;
    std::uint32_t ping;
    std::int64_t sent_ns;  // wall clock
  };
  struct SeqSlot {
    std::uint32_t target = 0;
    std::uint32_t ping = 0;
    std::int64_t sent_ns = -1;
  };

  static std::int64_t ns(MonoTime t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  bool alive_mode() const noexcept { return config_.count == 0; }
  std::chrono::nanoseconds timeout_for(std::uint32_t ping) const noexcept;
  void expire(MonoTime now);
  void send_due(runtime::Runtime& rt);
  /// Sends one probe; false when it must wait for room in the neighbour cache.
  bool send_probe(runtime::Runtime& rt, std::uint64_t target, std::uint32_t ping);
  void write_probe(std::uint64_t target, std::uint32_t ping, std::int64_t sent_ns);
  std::uint64_t mac(std::int64_t sent_ns, std::uint64_t target, std::uint32_t ping,
                    std::uint16_t seq) const noexcept;
  /// Who a probe we sent was for, from its ICMP echo request (ours, or
  /// quoted in an error; `data` may be cut short) or its echoed reply.
  std::optional<Probe> identify(std::uint16_t ident, std::uint16_t seq, ConstBytes data) const;
  void reply(runtime::Runtime& rt, const stack::IcmpDelivery& d);
  void error(const stack::IcmpDelivery& d);
  void report_error(const SweepError& e);
  void finish_target(std::uint64_t t);
  void watch_congestion(runtime::Runtime& rt);

  const TargetSet& targets_;
  SweepConfig config_;
  NextHop next_hop_;
  SweepListener& listener_;
  Permutation order_;
  ShardWalk walk_;
  std::optional<std::uint64_t> held_;  // a fresh target waiting for neighbour room
  Pacer pacer_;

  BitSet answered_;
  BitSet started_bits_;
  std::uint64_t shard_size_ = 0;
  std::uint64_t started_ = 0;  // targets with at least one probe sent
  std::uint64_t done_ = 0;     // targets answered or given up (alive) / every ping resolved (count)
  std::vector<std::deque<Pending>> waits_;  // alive: one per attempt; count: one
  std::deque<Pending> next_pings_;          // count mode
  std::deque<Pending> ready_;               // due to be sent, oldest first
  std::uint64_t outstanding_ = 0;           // count mode: pings not yet resolved
  std::vector<TargetStats> stats_;          // count mode
  std::vector<std::int64_t> responses_;     // count mode
  std::vector<SeqSlot> seqmap_;             // only when data_len < cookie_len
  std::unordered_map<std::uint64_t, SweepError> errors_;
  std::unordered_set<std::uint32_t> failed_hops_;  // next hops whose ARP failed
  SweepTotals totals_;
  std::vector<std::byte> message_;
  std::uint16_t seq_ = 0;
  std::uint64_t seen_drops_ = 0;
  std::uint64_t seen_send_errors_ = 0;
};

}  // namespace ersatz::scan
