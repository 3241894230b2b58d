#include "ersatz/link/fault_injector.hpp"

namespace ersatz::link {

FaultInjector::FaultInjector(Device& inner, FaultConfig config, std::function<MonoTime()> now)
    : inner_(inner), config_(config), now_(std::move(now)), rng_(config.seed) {}

/// Moves one frame from the inner device into the held queue, applying the
/// receive-side faults; false when the inner device had none.
Result<bool> FaultInjector::pull(MonoTime deadline) {
  auto r = inner_.receive(deadline);
  if (!r) return tl::unexpected(r.error());
  if (!*r) return false;
  const RxFrame& f = **r;
  if (chance(config_.drop_rx)) {
    ++stats_.dropped_rx;
    return true;
  }
  Held h{{f.data.begin(), f.data.end()}, f.wire_len, f.ts, now_() + config_.delay_rx};
  if (!h.bytes.empty() && chance(config_.bitflip_rx)) {
    const auto bit = std::uniform_int_distribution<std::size_t>(0, h.bytes.size() * 8 - 1)(rng_);
    h.bytes[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    ++stats_.flipped_rx;
  }
  if (chance(config_.duplicate_rx)) {
    held_.push_back(h);
    ++stats_.duplicated_rx;
  }
  held_.push_back(std::move(h));
  return true;
}

Result<std::optional<RxFrame>> FaultInjector::receive(MonoTime deadline) {
  // Keep pulling while nothing is ready: a dropped frame must not end the
  // wait early.
  while (held_.empty() || held_.front().release > now_()) {
    auto got = pull(deadline);
    if (!got) return tl::unexpected(got.error());
    if (!*got) break;
  }
  if (held_.empty() || held_.front().release > now_()) return std::optional<RxFrame>{};
  current_ = std::move(held_.front());
  held_.pop_front();
  return RxFrame{{current_.bytes.data(), current_.bytes.size()}, current_.wire_len, current_.ts};
}

Result<void> FaultInjector::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  if (chance(config_.drop_tx)) {
    ++stats_.dropped_tx;
    return {};
  }
  return inner_.transmit(len, fill);
}

}  // namespace ersatz::link
