// Time: wall-clock timestamps of frames, and the monotonic clock that
// schedules work. Code that decides things by time takes the time as an
// argument, so tests can drive it with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace ersatz {

/// Seconds and nanoseconds since the Unix epoch.
struct Timestamp {
  std::int64_t sec = 0;
  std::uint32_t nsec = 0;  ///< 0..999'999'999
  friend constexpr bool operator==(const Timestamp&, const Timestamp&) = default;
  friend constexpr auto operator<=>(const Timestamp&, const Timestamp&) = default;

  constexpr std::int64_t ns() const noexcept { return sec * 1'000'000'000 + nsec; }
  static constexpr Timestamp from_ns(std::int64_t ns) noexcept {
    return {ns / 1'000'000'000, static_cast<std::uint32_t>(ns % 1'000'000'000)};
  }
};

using MonoClock = std::chrono::steady_clock;
/// A point on the monotonic clock.
using MonoTime = MonoClock::time_point;

/// The wall clock now, as a frame timestamp.
inline Timestamp wall_now() noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return Timestamp::from_ns(ns);
}

}  // namespace ersatz
