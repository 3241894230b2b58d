// When sweep's probes may leave.
//
// Three ways, by the flags:
//   * interval (-i MS, as fping): at least that long between two probes;
//   * rate (--rate PPS): a token bucket at a fixed rate;
//   * adaptive (neither): as fast as the path answers. The rate starts
//     modest and doubles each epoch while the replies keep up, then
//     halves on a sign of congestion (an epoch's median round trip well
//     above the lowest epoch median seen, frames the kernel dropped before
//     we read them, sends the kernel refused) and from there grows by a
//     tenth per epoch: AIMD, as
//     TCP does with its window (RFC 5681 §3.1), but on a rate, because a
//     sweep of mostly silent addresses has no acknowledgements to clock it.
//
// Pure: the time is an argument; the sweep tells it what happened.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "ersatz/base/time.hpp"

namespace ersatz::scan {

struct PacerConfig {
  enum class Mode : std::uint8_t { interval, rate, adaptive };
  Mode mode = Mode::adaptive;
  std::chrono::nanoseconds interval{10'000'000};  ///< Mode::interval
  double rate = 0;                                ///< Mode::rate, probes per second
  // Mode::adaptive
  double initial_rate = 50'000;
  double min_rate = 1'000;
  double max_rate = 4'000'000;
  std::chrono::nanoseconds epoch{5'000'000};  ///< at least; two round trips when those are longer
};

class Pacer {
 public:
  explicit Pacer(PacerConfig config = {});

  /// How many probes may leave at `now`, at most `want`; call sent() for
  /// the ones that did.
  std::uint64_t allowance(MonoTime now, std::uint64_t want) noexcept;
  void sent(MonoTime now, std::uint64_t n) noexcept;
  /// When the next probe may leave, if one is waiting.
  MonoTime next_send(MonoTime now) const noexcept;

  // ---- feedback (adaptive)
  /// A reply came back after `rtt`.
  void on_reply(MonoTime now, std::chrono::nanoseconds rtt) noexcept;
  /// The kernel dropped received frames, or refused to send.
  void on_congestion(MonoTime now) noexcept;
  /// Whether the sender had more to send than it was allowed (only then
  /// does a calm epoch mean the rate may grow).
  void set_backlogged(bool backlogged) noexcept { backlogged_ |= backlogged; }
  /// The end of the current epoch, when the rate is next decided.
  MonoTime epoch_end() const noexcept { return epoch_end_; }

  double rate() const noexcept { return rate_; }
  std::chrono::nanoseconds min_rtt() const noexcept { return min_rtt_; }
  /// Times the rate was cut.
  std::uint64_t cuts() const noexcept { return cuts_; }

 private:
  void refill(MonoTime now) noexcept;
  void decide(MonoTime now) noexcept;
  double burst() const noexcept;

  PacerConfig config_;
  double rate_ = 0;
  double tokens_ = 0;
  MonoTime last_refill_{};
  bool started_ = false;

  // adaptive
  MonoTime epoch_end_{};
  std::chrono::nanoseconds min_rtt_{0};
  std::int64_t usual_rtt_ = 0;            // the lowest epoch median (ns)
  std::vector<std::int64_t> epoch_rtts_;  // this epoch's samples (ns), bounded
  bool congested_ = false;
  bool backlogged_ = false;
  bool slow_start_ = true;
  std::uint64_t cuts_ = 0;
};

}  // namespace ersatz::scan
