// A wrapper that damages traffic on purpose, for tests: drops, duplicates,
// flips bits and delays frames in either direction, with a seeded random
// source so that a failing run can be replayed.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "ersatz/link/device.hpp"

namespace ersatz::link {

struct FaultConfig {
  double drop_rx = 0;                    ///< probability of losing a received frame
  double drop_tx = 0;                    ///< probability of not sending a frame
  double duplicate_rx = 0;               ///< probability of receiving a frame twice
  double bitflip_rx = 0;                 ///< probability of one flipped bit in a received frame
  std::chrono::nanoseconds delay_rx{0};  ///< received frames are held this long
  std::uint64_t seed = 1;
};

struct FaultStats {
  std::uint64_t dropped_rx = 0;
  std::uint64_t dropped_tx = 0;
  std::uint64_t duplicated_rx = 0;
  std::uint64_t flipped_rx = 0;
};

class FaultInjector final : public Device {
 public:
  /// `now` tells the time for delays (the monotonic clock by default).
  FaultInjector(Device& inner, FaultConfig config, std::function<MonoTime()> now = MonoClock::now);

  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return inner_.capabilities(); }
  int poll_fd() const noexcept override { return inner_.poll_fd(); }
  Result<void> flush() override { return inner_.flush(); }

  const FaultStats& stats() const noexcept { return stats_; }

 private:
  struct Held {
    std::vector<std::byte> bytes;
    std::uint32_t wire_len;
    Timestamp ts;
    MonoTime release;
  };
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  Result<bool> pull(MonoTime deadline);

  Device& inner_;
  FaultConfig config_;
  std::function<MonoTime()> now_;
  std::mt19937_64 rng_;
  std::deque<Held> held_;
  Held current_;
  FaultStats stats_;
};

}  // namespace ersatz::link
