#include "ersatz/link/parallel_tx.hpp"

#include <algorithm>
#include <cerrno>

namespace ersatz::link {

ParallelTx::ParallelTx(Device& main, std::vector<std::unique_ptr<Device>> lanes) : main_(main) {
  caps_ = main_.capabilities();
  // A stamp would have to say which lane's frame it is; none are given.
  caps_.tx_timestamps = false;
  for (auto& d : lanes) {
    auto lane = std::make_unique<Lane>();
    lane->device = std::move(d);
    lanes_.push_back(std::move(lane));
  }
  for (auto& lane : lanes_) {
    Lane& l = *lane;
    l.thread = std::thread([&l] { run_lane(l); });
  }
}

namespace {
// The top bit of Lane::published asks the lane to stop once it has sent
// what was published: one word to wait on for both.
constexpr std::uint64_t stop_bit = std::uint64_t{1} << 63;
}  // namespace

ParallelTx::~ParallelTx() {
  for (auto& lane : lanes_) {
    lane->published.fetch_or(stop_bit, std::memory_order_release);
    lane->published.notify_one();
  }
  for (auto& lane : lanes_) lane->thread.join();
}

void ParallelTx::run_lane(Lane& lane) {
  std::uint64_t done = 0;
  for (;;) {
    // Sleep until a batch is published or the lane is stopped.
    std::uint64_t seen = lane.published.load(std::memory_order_acquire);
    while ((seen & ~stop_bit) == done && (seen & stop_bit) == 0) {
      lane.published.wait(seen, std::memory_order_acquire);
      seen = lane.published.load(std::memory_order_acquire);
    }
    if ((seen & ~stop_bit) == done) break;  // stopped, nothing left to send
    Batch& b = lane.batches[done % 2];
    std::size_t begin = 0;
    for (const std::uint32_t end : b.ends) {
      const ConstBytes frame(b.bytes.data() + begin, end - begin);
      begin = end;
      auto r = transmit_copy(*lane.device, frame);
      if (!r) {
        int expected = 0;
        lane.error.compare_exchange_strong(expected, r.error().value());
        continue;
      }
      lane.frames.fetch_add(1, std::memory_order_relaxed);
    }
    if (auto r = lane.device->flush(); !r) {
      int expected = 0;
      lane.error.compare_exchange_strong(expected, r.error().value());
    }
    ++done;
    lane.finished.store(done, std::memory_order_release);
    lane.finished.notify_one();
  }
  // Closing here lets every lane's socket teardown run at once.
  lane.device.reset();
}

Result<void> ParallelTx::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  const std::size_t who = next_;
  next_ = (next_ + 1) % (lanes_.size() + 1);
  ++tx_count_;
  if (who == 0) return main_.transmit(len, fill);
  Batch& b = lanes_[who - 1]->batches[flushes_ % 2];
  const std::size_t at = b.bytes.size();
  b.bytes.resize(at + len);
  fill(MutBytes(b.bytes.data() + at, len));
  b.ends.push_back(static_cast<std::uint32_t>(b.bytes.size()));
  return {};
}

Result<void> ParallelTx::flush() {
  Result<void> result = main_.flush();
  if (lanes_.empty()) return result;
  for (auto& lane : lanes_) {
    // The batch published before this one used the other buffer; it must
    // be sent before that buffer is filled again after this flush.
    const std::uint64_t before = flushes_;
    std::uint64_t f = lane->finished.load(std::memory_order_acquire);
    while (before > 0 && f < before) {
      lane->finished.wait(f, std::memory_order_acquire);
      f = lane->finished.load(std::memory_order_acquire);
    }
    lane->batches[(flushes_ + 1) % 2].clear();
    lane->published.store(flushes_ + 1, std::memory_order_release);
    lane->published.notify_one();
    if (const int e = lane->error.exchange(0); e != 0 && result) result = fail_errno(e);
  }
  ++flushes_;
  return result;
}

std::vector<std::uint64_t> ParallelTx::lane_frames() const {
  std::vector<std::uint64_t> out;
  for (const auto& lane : lanes_) out.push_back(lane->frames.load(std::memory_order_relaxed));
  return out;
}

}  // namespace ersatz::link
