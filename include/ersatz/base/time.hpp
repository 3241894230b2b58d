// Wall-clock timestamps of frames, as capture files and kernels give them.
#pragma once

#include <cstdint>

namespace ersatz {

/// Seconds and nanoseconds since the Unix epoch.
struct Timestamp {
  std::int64_t sec = 0;
  std::uint32_t nsec = 0;  ///< 0..999'999'999
  friend constexpr bool operator==(const Timestamp&, const Timestamp&) = default;
  friend constexpr auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

}  // namespace ersatz
