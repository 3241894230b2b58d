// The runtime driven with a fake clock and a scripted network: no device,
// no privileges, no real time.
#include <gtest/gtest.h>

#include "ersatz/runtime/runtime.hpp"
#include "ersatz/stack/echo.hpp"
#include "fake_network.hpp"

namespace ersatz::runtime {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;

const Ipv4Address kUs(198, 18, 0, 1);
const Ipv4Address kRouter(198, 18, 0, 254);
const Ipv4Address kFar(198, 19, 0, 7);

stack::HostConfig host_config() {
  stack::HostConfig c;
  c.mac = wire::MacAddress({0x02, 0, 0, 0, 0, 0x01});
  c.address = kUs;
  c.prefix_len = 24;
  return c;
}

/// A small ping on the runtime: `count` probes `interval` apart, then it
/// waits `linger` for the last answer.
class MiniPing final : public Application {
 public:
  MiniPing(int count, std::chrono::nanoseconds interval)
      : count_(count), interval_(interval), session_(config()) {}

  void start(Runtime& rt) override { next_ = rt.now(); }
  std::optional<MonoTime> poll(Runtime& rt) override {
    if (sent_ < count_ && rt.now() >= next_) {
      ++sent_;
      const auto seq = static_cast<std::uint16_t>(sent_);
      wire::ipv4::Repr r;
      r.src = kUs;
      r.dst = kFar;
      r.protocol = wire::ipv4::Protocol::icmp;
      EXPECT_TRUE(rt.send(r, session_.request(seq, rt.wall()), kRouter));
      send_times_.push_back(rt.now());
      next_ += interval_;
      last_ = rt.now();
    }
    if (sent_ < count_) return next_;
    return last_ + 1s;
  }
  bool finished(const Runtime& rt) const override {
    return sent_ == count_ &&
           (replies_.size() == static_cast<std::size_t>(count_) || rt.now() >= last_ + 1s);
  }
  void on_icmp(Runtime& /*rt*/, const stack::IcmpDelivery& d) override {
    session_.on_icmp(d);
    for (auto& ev : session_.take_events()) {
      if (auto* r = std::get_if<stack::EchoReply>(&ev)) replies_.push_back(*r);
    }
  }
  void on_sent(Runtime& /*rt*/, ConstBytes head, Timestamp ts, bool from_kernel) override {
    sent_heads_.push_back(head.size());
    (from_kernel ? kernel_stamps_ : user_stamps_).push_back(ts);
    // The probe's round trip counts from its latest (the kernel's) stamp.
    if (head.size() >= 14 + 20 + 8 && load_be16(head, 12) == 0x0800) {
      const auto seq = load_be16(head, 14 + 20 + 6);
      session_.restamp(seq, ts);
    }
  }

  std::vector<stack::EchoReply> replies_;
  std::vector<MonoTime> send_times_;
  std::vector<Timestamp> user_stamps_;
  std::vector<Timestamp> kernel_stamps_;
  std::vector<std::size_t> sent_heads_;

 private:
  static stack::EchoConfig config() {
    stack::EchoConfig c;
    c.source = kUs;
    c.target = kFar;
    c.ident = 0x4242;
    c.cookie = 0x0123456789abcdefULL;
    return c;
  }
  int count_;
  std::chrono::nanoseconds interval_;
  stack::EchoSession session_;
  int sent_ = 0;
  MonoTime next_{};
  MonoTime last_{};
};

TEST(Runtime, DrivesAnApplicationOnAFakeClock) {
  FakeClock clock;
  test::FakeNetwork net(clock, {});
  stack::Host host(host_config());
  Runtime rt(net, host, clock);
  MiniPing app(3, 1s);
  const MonoTime t0 = clock.now();
  ASSERT_TRUE(rt.run(app));
  ASSERT_EQ(app.replies_.size(), 3u);
  // The first probe waited for ARP for the router (one round trip more),
  // the others found the router's MAC cached.
  for (const auto& r : app.replies_) {
    ASSERT_TRUE(r.rtt);
    EXPECT_EQ(*r.rtt, std::chrono::nanoseconds(r.seq == 1 ? 200us : 100us)) << "seq " << r.seq;
  }
  // Sent at 0, 1 s and 2 s of fake time; done once the third reply came.
  ASSERT_EQ(app.send_times_.size(), 3u);
  EXPECT_EQ(app.send_times_[1] - t0, 1s);
  EXPECT_EQ(app.send_times_[2] - t0, 2s);
  EXPECT_EQ(clock.now() - t0, 2s + 100us);
  EXPECT_EQ(net.echo_requests(), 3u);
  EXPECT_EQ(rt.stats().frames_out, 4u);  // an ARP request and three probes
}

TEST(Runtime, ReportsSentFramesWithKernelStampsWhenTheDeviceHasThem) {
  FakeClock clock;
  test::FakeNetwork::Config cfg;
  cfg.tx_stamps = true;
  test::FakeNetwork net(clock, cfg);
  stack::Host host(host_config());
  RuntimeOptions options;
  options.report_sent = true;
  Runtime rt(net, host, clock, options);
  MiniPing app(2, 1s);
  ASSERT_TRUE(rt.run(app));
  // ARP request and two probes, each reported with the time before the send, then
  // again with the device's stamp.
  EXPECT_EQ(app.user_stamps_.size(), 3u);
  EXPECT_EQ(app.kernel_stamps_.size(), 3u);
  EXPECT_EQ(rt.stats().kernel_tx_stamps, 3u);
  // The device stamps 1 µs after the send: the round trip shrinks by that.
  ASSERT_EQ(app.replies_.size(), 2u);
  EXPECT_EQ(*app.replies_[1].rtt, std::chrono::nanoseconds(99us));
  for (std::size_t len : app.sent_heads_) EXPECT_LE(len, Runtime::sent_head_len);
}

// libpcap's send through a veth returns after the kernel has stamped the
// reply: a user stamp taken after the send made every round trip negative
// (0.000 ms with --backend pcap). The stamp is taken before the send.
TEST(Runtime, ASendSlowerThanTheRoundTripStillTimesItFromBeforeTheSend) {
  FakeClock clock;
  test::FakeNetwork::Config cfg;
  cfg.send_cost = 300us;  // three round trips
  test::FakeNetwork net(clock, cfg);
  stack::Host host(host_config());
  RuntimeOptions options;
  options.report_sent = true;
  Runtime rt(net, host, clock, options);
  MiniPing app(3, 1s);
  ASSERT_TRUE(rt.run(app));
  EXPECT_EQ(app.user_stamps_.size(), 4u);  // the ARP request and three probes
  EXPECT_TRUE(app.kernel_stamps_.empty());
  ASSERT_EQ(app.replies_.size(), 3u);
  for (const auto& r : app.replies_) {
    if (r.seq == 1) continue;  // it waited for ARP
    ASSERT_TRUE(r.rtt) << "seq " << r.seq;
    EXPECT_EQ(*r.rtt, std::chrono::nanoseconds(100us)) << "seq " << r.seq;
  }
}

/// Sends a burst of frames in one poll, then stops.
class Burst final : public Application {
 public:
  explicit Burst(int n) : n_(n) {}
  std::optional<MonoTime> poll(Runtime& rt) override {
    if (done_) return std::nullopt;
    std::array<std::byte, 60> frame{};
    for (int i = 0; i < n_; ++i) rt.send_frame(frame);
    EXPECT_EQ(rt.queued(), static_cast<std::size_t>(n_));
    done_ = true;
    return std::nullopt;
  }
  bool finished(const Runtime& /*rt*/) const override { return done_; }

 private:
  int n_;
  bool done_ = false;
};

TEST(Runtime, ABurstLeavesWithOneFlush) {
  FakeClock clock;
  test::FakeNetwork net(clock, {});
  stack::Host host(host_config());
  Runtime rt(net, host, clock);
  Burst app(64);
  ASSERT_TRUE(rt.run(app));
  EXPECT_EQ(net.sent().size(), 64u);
  EXPECT_EQ(rt.stats().bursts, 1u);
  EXPECT_EQ(net.flushes(), 1u);
}

/// Never finishes on its own.
class Forever final : public Application {
 public:
  std::optional<MonoTime> poll(Runtime& rt) override {
    ++polls_;
    if (polls_ == 5) signals::request_stop();
    return rt.now() + 10ms;
  }
  bool finished(const Runtime& /*rt*/) const override { return false; }
  int polls_ = 0;
};

TEST(Runtime, StopsWhenASignalAsks) {
  signals::reset();
  FakeClock clock;
  test::FakeNetwork net(clock, {});
  stack::Host host(host_config());
  Runtime rt(net, host, clock);
  Forever app;
  const MonoTime t0 = clock.now();
  ASSERT_TRUE(rt.run(app));
  EXPECT_EQ(app.polls_, 5);
  // Each wait went to the application's deadline, and no further.
  EXPECT_EQ(clock.now() - t0, 40ms);
  signals::reset();
}

TEST(Runtime, WaitsNoLongerThanMaxWait) {
  signals::reset();
  FakeClock clock;
  test::FakeNetwork net(clock, {});
  stack::Host host(host_config());
  RuntimeOptions options;
  options.max_wait = 250ms;
  Runtime rt(net, host, clock, options);
  struct Idle final : Application {
    std::optional<MonoTime> poll(Runtime& rt) override {
      times.push_back(rt.now());
      return std::nullopt;
    }
    bool finished(const Runtime& /*rt*/) const override { return times.size() >= 3; }
    std::vector<MonoTime> times;
  } app;
  ASSERT_TRUE(rt.run(app));
  ASSERT_EQ(app.times.size(), 3u);
  EXPECT_EQ(app.times[2] - app.times[1], 250ms);
}

}  // namespace
}  // namespace ersatz::runtime
