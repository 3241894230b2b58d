// Several transmit lanes behind one Device: a multi-queue NIC, in
// software. For a sweep, most of the cost of a probe is the kernel's: the
// send system call, and on a veth everything the peer does with the frame
// (routing it, answering it, handing the answer to our socket), which the
// kernel runs on the CPU that sent. One sender keeps one CPU busy; lanes
// on their own threads and sockets keep the others busy too.
//
// The main device receives and sends its share; every lane is a device
// that only sends, driven by a thread of its own. transmit() deals frames
// to the lanes in turn, into per-lane staging buffers; flush() hands each
// lane its batch and returns at once (the lane sends while the caller
// builds the next burst), having first waited for the batch before it:
// two staging buffers per lane, so at most one burst per lane is in
// flight. No frame is copied across threads but through those buffers,
// and no lock is taken per frame.
//
// Receiving, kernel timestamps and statistics are the main device's.
// Frames on different lanes may leave in any order relative to each other.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "ersatz/link/device.hpp"

namespace ersatz::link {

class ParallelTx final : public Device {
 public:
  /// `main` is borrowed; the lanes are owned. With no lanes it is a thin
  /// wrapper around `main`.
  ParallelTx(Device& main, std::vector<std::unique_ptr<Device>> lanes);
  /// Waits for the lanes' last batches, stops their threads, and closes
  /// the lane devices on those threads, so that their teardowns (an RCU
  /// grace period each for an AF_PACKET socket) overlap.
  ~ParallelTx() override;

  Result<std::optional<RxFrame>> receive(MonoTime deadline) override {
    return main_.receive(deadline);
  }
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  Result<void> flush() override;
  std::uint64_t tx_count() const noexcept override { return tx_count_; }
  const Capabilities& capabilities() const noexcept override { return caps_; }
  int poll_fd() const noexcept override { return main_.poll_fd(); }
  std::uint64_t drops() const noexcept override { return main_.drops(); }

  std::size_t lanes() const noexcept { return lanes_.size(); }
  /// Frames each lane sent (the main device is not counted), for tests.
  std::vector<std::uint64_t> lane_frames() const;

 private:
  struct Batch {
    std::vector<std::byte> bytes;
    std::vector<std::uint32_t> ends;  // where each frame ends in bytes
    void clear() {
      bytes.clear();
      ends.clear();
    }
  };
  struct Lane {
    std::unique_ptr<Device> device;
    Batch batches[2];
    std::atomic<std::uint64_t> published{0};  // batches handed over so far, and the stop bit
    std::atomic<std::uint64_t> finished{0};   // batches the lane has sent
    std::atomic<int> error{0};                // the first errno-style failure, 0 if none
    std::atomic<std::uint64_t> frames{0};
    std::thread thread;
  };
  static void run_lane(Lane& lane);

  Device& main_;
  Capabilities caps_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::uint64_t flushes_ = 0;  // batches published per lane
  std::size_t next_ = 0;       // which of main and the lanes takes the next frame
  std::uint64_t tx_count_ = 0;
};

}  // namespace ersatz::link
