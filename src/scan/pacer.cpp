#include "ersatz/scan/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace ersatz::scan {

namespace {
constexpr std::size_t max_epoch_samples = 4096;
}

Pacer::Pacer(PacerConfig config) : config_(config) {
  switch (config_.mode) {
    case PacerConfig::Mode::interval:
      rate_ = config_.interval.count() > 0 ? 1e9 / static_cast<double>(config_.interval.count())
                                           : config_.max_rate;
      break;
    case PacerConfig::Mode::rate: rate_ = std::max(config_.rate, 1e-3); break;
    case PacerConfig::Mode::adaptive: rate_ = config_.initial_rate; break;
  }
  epoch_rtts_.reserve(256);
}

double Pacer::burst() const noexcept {
  // fping's -i is a gap between any two probes: no bursts. Otherwise a
  // burst is what the rate allows in 2 ms (so that a turn of the loop
  // sends a batch), and at least one probe.
  if (config_.mode == PacerConfig::Mode::interval) return 1;
  return std::clamp(rate_ * 0.002, 1.0, 512.0);
}

void Pacer::refill(MonoTime now) noexcept {
  if (!started_) {
    started_ = true;
    last_refill_ = now;
    tokens_ = burst();
    epoch_end_ = now + config_.epoch;
    return;
  }
  if (now <= last_refill_) return;
  const double dt = std::chrono::duration<double>(now - last_refill_).count();
  tokens_ = std::min(tokens_ + dt * rate_, std::max(burst(), 1.0));
  last_refill_ = now;
}

std::uint64_t Pacer::allowance(MonoTime now, std::uint64_t want) noexcept {
  if (config_.mode == PacerConfig::Mode::adaptive && started_ && now >= epoch_end_) decide(now);
  refill(now);
  const auto have = static_cast<std::uint64_t>(std::max(tokens_, 0.0));
  if (want > have) backlogged_ = true;
  return std::min(want, have);
}

void Pacer::sent(MonoTime /*now*/, std::uint64_t n) noexcept { tokens_ -= static_cast<double>(n); }

MonoTime Pacer::next_send(MonoTime now) const noexcept {
  if (tokens_ >= 1) return now;
  // Rounded up, and at least a nanosecond: a wait rounded down to nothing
  // would have the loop ask again at once, and again.
  const double wait_ns = std::ceil((1 - tokens_) / rate_ * 1e9);
  return now +
         std::chrono::nanoseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(wait_ns)));
}

void Pacer::on_reply(MonoTime /*now*/, std::chrono::nanoseconds rtt) noexcept {
  if (rtt.count() <= 0) return;
  if (min_rtt_.count() == 0 || rtt < min_rtt_) min_rtt_ = rtt;
  if (epoch_rtts_.size() < max_epoch_samples) epoch_rtts_.push_back(rtt.count());
}

void Pacer::on_congestion(MonoTime /*now*/) noexcept { congested_ = true; }

void Pacer::decide(MonoTime now) noexcept {
  // Queues building up on the path show as round trips well above the
  // usual ones. "Usual" is the lowest median of any epoch so far (a single
  // fastest reply says little: on a veth the answer to the first probe of
  // a burst comes back within the send call). An epoch whose median is
  // more than twice that, plus 2 ms (a burst's own sending time, and
  // scheduling noise), is congested.
  bool slow = false;
  if (epoch_rtts_.size() >= 8) {
    auto mid = epoch_rtts_.begin() + static_cast<std::ptrdiff_t>(epoch_rtts_.size() / 2);
    std::nth_element(epoch_rtts_.begin(), mid, epoch_rtts_.end());
    const std::int64_t median = *mid;
    if (usual_rtt_ == 0 || median < usual_rtt_) usual_rtt_ = median;
    slow = median > 2 * usual_rtt_ + 2'000'000;
  }
  if (congested_ || slow) {
    rate_ = std::max(rate_ * 0.5, config_.min_rate);
    slow_start_ = false;
    ++cuts_;
  } else if (backlogged_) {
    rate_ = std::min(slow_start_ ? rate_ * 2 : rate_ * 1.1, config_.max_rate);
  }
  congested_ = false;
  backlogged_ = false;
  epoch_rtts_.clear();
  // An epoch spans at least two round trips, so that it sees the replies
  // to its own probes.
  const auto span =
      std::max<std::chrono::nanoseconds>(config_.epoch, std::chrono::nanoseconds(2 * usual_rtt_));
  epoch_end_ = now + std::chrono::duration_cast<MonoClock::duration>(span);
}

}  // namespace ersatz::scan
