#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <filesystem>

#include "ersatz/link/fault_injector.hpp"
#include "ersatz/link/memory_device.hpp"
#if defined(__linux__)
#include "ersatz/link/parallel_tx.hpp"
#endif
#include "ersatz/link/pcap_device.hpp"
#include "ersatz/link/tracer.hpp"
#include "support.hpp"

namespace ersatz::link {
namespace {

using test::Bytes;
using test::cb;

Bytes frame_of(std::uint8_t tag, std::size_t n = 60) { return Bytes(n, std::byte{tag}); }

std::optional<Bytes> take(Device& d) {
  auto r = d.receive(MonoClock::now());
  EXPECT_TRUE(r);
  if (!r || !*r) return std::nullopt;
  return Bytes((*r)->data.begin(), (*r)->data.end());
}

TEST(MemoryPair, DeliversBothWaysInOrder) {
  auto [a, b] = make_memory_pair();
  ASSERT_TRUE(transmit_copy(*a, cb(frame_of(1))));
  ASSERT_TRUE(transmit_copy(*a, cb(frame_of(2))));
  ASSERT_TRUE(transmit_copy(*b, cb(frame_of(3))));
  EXPECT_EQ(b->pending(), 2u);
  EXPECT_EQ(take(*b), frame_of(1));
  EXPECT_EQ(take(*b), frame_of(2));
  EXPECT_FALSE(take(*b));
  EXPECT_EQ(take(*a), frame_of(3));
  EXPECT_EQ(a->sent(), 2u);
}

TEST(MemoryPair, TransmitFillsInPlaceAndStampsWithTheClock) {
  auto [a, b] = make_memory_pair();
  a->set_clock([] { return Timestamp{42, 7}; });
  ASSERT_TRUE(a->transmit(3, [](MutBytes buf) {
    ASSERT_EQ(buf.size(), 3u);
    buf[0] = std::byte{9};
    buf[2] = std::byte{8};
  }));
  auto r = b->receive(MonoClock::now());
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->ts, (Timestamp{42, 7}));
  EXPECT_EQ((*r)->data[2], std::byte{8});
}

TEST(PcapFileDevice, ReplaysAndRecords) {
  const auto out =
      std::filesystem::temp_directory_path() / fmt::format("ersatz-dev-{}.pcap", ::getpid());
  {
    auto dev = PcapFileDevice::open(test::data_path("sample.pcap"), out.string());
    ASSERT_TRUE(dev);
    int n = 0;
    while (auto f = take(*dev)) ++n;
    EXPECT_EQ(n, 33);
    ASSERT_TRUE(transmit_copy(*dev, cb(frame_of(5))));
    EXPECT_EQ(dev->sent().size(), 1u);
  }
  auto back = PcapReader::open(out.string());
  ASSERT_TRUE(back);
  auto rec = back->next();
  ASSERT_TRUE(rec && *rec);
  EXPECT_EQ((*rec)->data.size(), 60u);
  std::filesystem::remove(out);
}

TEST(Tracer, RecordsBothDirections) {
  const auto out =
      std::filesystem::temp_directory_path() / fmt::format("ersatz-trace-{}.pcap", ::getpid());
  auto [a, b] = make_memory_pair();
  {
    auto w = PcapWriter::create(out.string());
    ASSERT_TRUE(w);
    Tracer t(*a, std::move(*w));
    ASSERT_TRUE(transmit_copy(t, cb(frame_of(1, 64))));
    a->inject(cb(frame_of(2, 70)), Timestamp{100, 0});
    EXPECT_EQ(take(t), frame_of(2, 70));
  }
  auto r = PcapReader::open(out.string());
  ASSERT_TRUE(r);
  auto first = r->next();
  auto second = r->next();
  ASSERT_TRUE(first && *first && second && *second);
  EXPECT_EQ((*first)->data.size(), 64u);
  EXPECT_EQ((*second)->data.size(), 70u);
  EXPECT_EQ((*second)->ts.sec, 100);
  std::filesystem::remove(out);
}

TEST(FaultInjector, DropsAtTheConfiguredRate) {
  auto [a, b] = make_memory_pair();
  FaultInjector f(*b, FaultConfig{.drop_rx = 0.2, .seed = 7});
  const int n = 5000;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(transmit_copy(*a, cb(frame_of(1))));
  int got = 0;
  while (take(f)) ++got;
  EXPECT_EQ(static_cast<std::uint64_t>(n - got), f.stats().dropped_rx);
  EXPECT_NEAR(f.stats().dropped_rx / double(n), 0.2, 0.03);
}

TEST(FaultInjector, DuplicatesAndFlipsBits) {
  auto [a, b] = make_memory_pair();
  FaultInjector f(*b, FaultConfig{.duplicate_rx = 1.0, .bitflip_rx = 1.0, .seed = 3});
  ASSERT_TRUE(transmit_copy(*a, cb(frame_of(0))));
  auto one = take(f);
  auto two = take(f);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(*one, *two);
  EXPECT_NE(*one, frame_of(0));  // exactly one bit differs
  int bits = 0;
  for (auto x : *one) bits += std::popcount(static_cast<unsigned>(x));
  EXPECT_EQ(bits, 1);
  EXPECT_EQ(f.stats().duplicated_rx, 1u);
}

TEST(FaultInjector, DelaysByTheFakeClock) {
  auto [a, b] = make_memory_pair();
  MonoTime now{};
  FaultInjector f(*b, FaultConfig{.delay_rx = std::chrono::milliseconds(50)}, [&] { return now; });
  ASSERT_TRUE(transmit_copy(*a, cb(frame_of(4))));
  EXPECT_FALSE(take(f));
  now += std::chrono::milliseconds(49);
  EXPECT_FALSE(take(f));
  now += std::chrono::milliseconds(1);
  EXPECT_EQ(take(f), frame_of(4));
}

TEST(FaultInjector, DropsTransmits) {
  auto [a, b] = make_memory_pair();
  FaultInjector f(*a, FaultConfig{.drop_tx = 1.0});
  ASSERT_TRUE(transmit_copy(f, cb(frame_of(1))));
  EXPECT_EQ(b->pending(), 0u);
  EXPECT_EQ(f.stats().dropped_tx, 1u);
}

}  // namespace
}  // namespace ersatz::link

#if defined(__linux__)
namespace ersatz::link {
namespace {

/// A frame that says which one it is: its number in its first four bytes.
Bytes numbered(std::uint32_t n) {
  Bytes f(64, std::byte{0});
  store_be32(test::mb(f), 0, n);
  return f;
}

TEST(ParallelTx, EveryFrameLeavesOnceThroughTheLanes) {
  auto [main_a, main_b] = make_memory_pair();
  std::vector<std::unique_ptr<Device>> lanes;
  std::vector<std::unique_ptr<MemoryDevice>> peers;
  for (int i = 0; i < 3; ++i) {
    auto [a, b] = make_memory_pair();
    lanes.push_back(std::move(a));
    peers.push_back(std::move(b));
  }
  constexpr std::uint32_t total = 1000;
  std::vector<std::uint64_t> per_lane;
  {
    ParallelTx tx(*main_a, std::move(lanes));
    EXPECT_EQ(tx.lanes(), 3u);
    for (std::uint32_t n = 0; n < total; ++n) {
      ASSERT_TRUE(transmit_copy(tx, cb(numbered(n))));
      // Bursts of 37, the last one short.
      if (n % 37 == 36) {
        ASSERT_TRUE(tx.flush());
      }
    }
    ASSERT_TRUE(tx.flush());
    EXPECT_EQ(tx.tx_count(), total);
    // Received frames are the main device's.
    main_a->inject(cb(numbered(7777)));
    auto r = tx.receive(MonoClock::now());
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(load_be32((*r)->data, 0), 7777u);
  }  // the lanes' last batches leave before the threads stop
  std::vector<int> seen(total, 0);
  auto drain = [&](Device& d) {
    std::uint64_t n = 0;
    for (;;) {
      auto r = d.receive(MonoClock::now());
      if (!r || !*r) break;
      ++seen[load_be32((*r)->data, 0)];
      ++n;
    }
    return n;
  };
  const std::uint64_t on_main = drain(*main_b);
  EXPECT_EQ(on_main, total / 4);
  for (auto& p : peers) EXPECT_EQ(drain(*p), total / 4);
  for (std::uint32_t n = 0; n < total; ++n) EXPECT_EQ(seen[n], 1) << "frame " << n;
}

TEST(ParallelTx, WithoutLanesItIsTheMainDevice) {
  auto [a, b] = make_memory_pair();
  ParallelTx tx(*a, {});
  ASSERT_TRUE(transmit_copy(tx, cb(numbered(1))));
  ASSERT_TRUE(tx.flush());
  EXPECT_EQ(b->pending(), 1u);
  EXPECT_FALSE(tx.capabilities().tx_timestamps);
}

}  // namespace
}  // namespace ersatz::link
#endif
