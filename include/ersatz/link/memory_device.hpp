// Two devices wired back to back, for unprivileged tests of the stack:
// what one transmits, the other receives. Nothing waits: receive() returns
// what is queued, so tests drive time themselves.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "ersatz/link/device.hpp"

namespace ersatz::link {

class MemoryDevice final : public Device {
 public:
  struct Frame {
    std::vector<std::byte> bytes;
    Timestamp ts;
  };
  /// The two ends' queues; shared by a pair.
  struct Wire {
    std::deque<Frame> to[2];
  };

  MemoryDevice(std::shared_ptr<Wire> wire, int side, Capabilities caps);

  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }

  /// Queues a frame for this end to receive, as if the peer had sent it.
  void inject(ConstBytes frame, Timestamp ts = {});
  /// Frames waiting for this end.
  std::size_t pending() const noexcept;
  /// The timestamp given to frames this end sends (default: wall clock).
  void set_clock(std::function<Timestamp()> clock) { clock_ = std::move(clock); }
  std::uint64_t sent() const noexcept { return sent_; }
  std::uint64_t tx_count() const noexcept override { return sent_; }

 private:
  std::shared_ptr<Wire> wire_;
  int side_;
  Capabilities caps_;
  Frame current_;
  std::function<Timestamp()> clock_ = wall_now;
  std::uint64_t sent_ = 0;
};

struct MemoryPair {
  std::unique_ptr<MemoryDevice> a;
  std::unique_ptr<MemoryDevice> b;
};

MemoryPair make_memory_pair(Capabilities a = {}, Capabilities b = {});

}  // namespace ersatz::link
