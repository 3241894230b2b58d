// sweep's engine: the keyed order and its shards, target blocks, pacing,
// and whole sweeps on a fake clock against a scripted network.
#include <gtest/gtest.h>

#include <set>

#include "ersatz/base/siphash.hpp"
#include "ersatz/scan/pacer.hpp"
#include "ersatz/scan/permutation.hpp"
#include "ersatz/scan/sweep.hpp"
#include "ersatz/scan/targets.hpp"
#include "fake_network.hpp"

namespace ersatz::scan {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;
namespace icmpv4 = wire::icmpv4;

// ---------------------------------------------------------------- SipHash

TEST(SipHash, MatchesThePapersVectors) {
  // Key 00 01 .. 0f; the reference implementation's vectors for the empty
  // message and for the 8 bytes 00 01 .. 07.
  const SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  EXPECT_EQ(siphash24(key, {}), 0x726fdb47dd0e0e31ULL);
  const std::array<std::uint64_t, 1> eight{0x0706050403020100ULL};
  EXPECT_EQ(siphash24(key, eight), 0x93f5f5799a932462ULL);
}

// ---------------------------------------------------------------- order

TEST(Permutation, IsABijectionForManySizes) {
  for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 5ULL, 254ULL, 256ULL, 1000ULL, 65534ULL, 65537ULL}) {
    Permutation p(n, SipKey{n, 99});
    std::vector<bool> seen(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t v = p.at(i);
      ASSERT_LT(v, n);
      ASSERT_FALSE(seen[v]) << "n=" << n << " value " << v << " twice";
      seen[v] = true;
    }
  }
}

TEST(Permutation, DependsOnTheKeyAndLooksShuffled) {
  Permutation a(65534, SipKey{1, 2});
  Permutation b(65534, SipKey{3, 4});
  std::uint64_t same = 0;
  std::uint64_t in_place = 0;
  for (std::uint64_t i = 0; i < 65534; ++i) {
    same += a.at(i) == b.at(i);
    in_place += a.at(i) == i;
  }
  // Two random permutations agree at about one position, and fix about one.
  EXPECT_LT(same, 20u);
  EXPECT_LT(in_place, 20u);
  // Neighbours in the order are not neighbours in the block.
  std::uint64_t adjacent = 0;
  for (std::uint64_t i = 1; i < 65534; ++i)
    adjacent += (a.at(i) > a.at(i - 1) ? a.at(i) - a.at(i - 1) : a.at(i - 1) - a.at(i)) == 1;
  EXPECT_LT(adjacent, 50u);
}

TEST(ShardWalk, ShardsOfOneKeyAreDisjointAndCoverEverything) {
  for (std::uint32_t shards : {1U, 2U, 3U, 4U, 7U}) {
    Permutation p(1000, SipKey{42, 7});
    std::set<std::uint64_t> all;
    std::uint64_t total = 0;
    for (std::uint32_t i = 0; i < shards; ++i) {
      ShardWalk w(p, i, shards);
      const std::uint64_t expected = w.total();
      std::uint64_t mine = 0;
      while (!w.done()) {
        EXPECT_TRUE(all.insert(w.next()).second) << "shard " << i << " of " << shards;
        ++mine;
      }
      EXPECT_EQ(mine, expected);
      EXPECT_EQ(w.taken(), expected);
      total += mine;
    }
    EXPECT_EQ(all.size(), 1000u);
    EXPECT_EQ(total, 1000u);
  }
}

TEST(ShardWalk, MoreShardsThanTargets) {
  Permutation p(3, SipKey{1, 1});
  ShardWalk w(p, 5, 8);
  EXPECT_TRUE(w.done());
  EXPECT_EQ(w.total(), 0u);
}

// ---------------------------------------------------------------- targets

TEST(Targets, CidrLeavesOutNetworkAndBroadcastAsFpingDoes) {
  auto b = parse_cidr("198.19.5.0/29");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, Ipv4Address(198, 19, 5, 1));
  EXPECT_EQ(b->last, Ipv4Address(198, 19, 5, 6));
  // Host bits are ignored: the block is the network's.
  b = parse_cidr("198.19.5.77/24");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, Ipv4Address(198, 19, 5, 1));
  EXPECT_EQ(b->last, Ipv4Address(198, 19, 5, 254));
  // RFC 3021: a /31 is two hosts, a /32 one.
  b = parse_cidr("198.19.5.6/31");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, Ipv4Address(198, 19, 5, 6));
  EXPECT_EQ(b->last, Ipv4Address(198, 19, 5, 7));
  b = parse_cidr("198.19.5.6/32");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, b->last);
}

TEST(Targets, BadBlocksSayWhy) {
  EXPECT_EQ(parse_cidr("198.19.5.0").error(), BlockError::no_prefix);
  EXPECT_EQ(parse_cidr("198.19.5/24").error(), BlockError::bad_address);
  EXPECT_EQ(parse_cidr("198.19.5.0/33").error(), BlockError::bad_prefix);
  EXPECT_EQ(parse_cidr("198.19.5.0/0").error(), BlockError::bad_prefix);
  EXPECT_EQ(parse_cidr("198.19.5.0/x").error(), BlockError::bad_prefix);
  EXPECT_EQ(parse_range("198.19.5.9", "198.19.5.1").error(), BlockError::reversed);
  EXPECT_EQ(parse_range("198.19.5.1", "nope").error(), BlockError::bad_address);
}

TEST(Targets, ABlockIsNeverListed) {
  auto t = TargetSet::block(Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 255, 255, 254));
  EXPECT_EQ(t.size(), 16777214u);
  EXPECT_EQ(t.address(0), Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(t.find(Ipv4Address(10, 1, 0, 0)), std::optional<std::uint64_t>(65535));
  EXPECT_FALSE(t.find(Ipv4Address(11, 0, 0, 0)));
  std::array<char, 16> scratch{};
  EXPECT_EQ(t.name(65535, scratch), "10.1.0.0");
  auto small = TargetSet::block(Ipv4Address(10, 0, 0, 98), Ipv4Address(10, 0, 0, 101));
  EXPECT_EQ(small.max_name_len(), 10u);  // 10.0.0.100
}

TEST(Targets, AListKeepsNamesAndDuplicates) {
  TargetSet t;
  t.add("router", Ipv4Address(198, 18, 0, 254));
  t.add("198.19.0.1", Ipv4Address(198, 19, 0, 1));
  t.add("again", Ipv4Address(198, 18, 0, 254));
  std::array<char, 16> scratch{};
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.name(0, scratch), "router");
  EXPECT_EQ(t.name(2, scratch), "again");
  EXPECT_EQ(t.find(Ipv4Address(198, 18, 0, 254)), std::optional<std::uint64_t>(0));
  EXPECT_EQ(t.max_name_len(), 10u);
}

// ---------------------------------------------------------------- pacing

MonoTime at(std::chrono::nanoseconds d) { return MonoTime(d); }

TEST(Pacer, AFixedRateIsKept) {
  PacerConfig c;
  c.mode = PacerConfig::Mode::rate;
  c.rate = 1000;
  Pacer p(c);
  std::uint64_t sent = 0;
  for (auto t = 0ms; t < 1000ms; t += 1ms) {
    const auto n = p.allowance(at(t), 100);
    p.sent(at(t), n);
    sent += n;
  }
  EXPECT_GE(sent, 999u);
  EXPECT_LE(sent, 1003u);
}

TEST(Pacer, AnIntervalNeverBursts) {
  PacerConfig c;
  c.mode = PacerConfig::Mode::interval;
  c.interval = 10ms;
  Pacer p(c);
  EXPECT_EQ(p.allowance(at(0ms), 50), 1u);
  p.sent(at(0ms), 1);
  EXPECT_EQ(p.allowance(at(5ms), 50), 0u);
  EXPECT_EQ(p.next_send(at(5ms)), at(10ms));
  EXPECT_EQ(p.allowance(at(10ms), 50), 1u);
  p.sent(at(10ms), 1);
  // A long pause does not save up a burst.
  EXPECT_EQ(p.allowance(at(500ms), 50), 1u);
}

TEST(Pacer, AdaptiveGrowsWhileRepliesKeepUpAndHalvesOnCongestion) {
  PacerConfig c;
  c.initial_rate = 10000;
  Pacer p(c);
  auto t = 0ms;
  auto epoch = [&](std::chrono::nanoseconds rtt) {
    for (int i = 0; i < 10; ++i) {
      p.sent(at(t), p.allowance(at(t), 1000));  // always more to send
      p.on_reply(at(t), rtt);
    }
    t += 6ms;
    p.allowance(at(t), 1000);  // the epoch is decided
  };
  epoch(50us);
  EXPECT_DOUBLE_EQ(p.rate(), 20000);  // slow start: doubles
  epoch(50us);
  EXPECT_DOUBLE_EQ(p.rate(), 40000);
  // A burst's own sending time is not congestion: 2 ms of slack.
  epoch(1500us);
  EXPECT_DOUBLE_EQ(p.rate(), 80000);
  // Round trips far above the usual ones: a queue is building.
  epoch(5ms);
  EXPECT_DOUBLE_EQ(p.rate(), 40000);
  EXPECT_EQ(p.cuts(), 1u);
  // Afterwards it grows by a tenth only.
  epoch(50us);
  EXPECT_NEAR(p.rate(), 44000, 1e-6);
  // Drops in the kernel are congestion too.
  p.on_congestion(at(t));
  epoch(50us);
  EXPECT_NEAR(p.rate(), 22000, 1e-6);
}

TEST(Pacer, AdaptiveDoesNotGrowWhenIdle) {
  Pacer p(PacerConfig{});
  const double r0 = p.rate();
  p.sent(at(0ms), p.allowance(at(0ms), 1));
  for (auto t = 6ms; t < 100ms; t += 6ms) p.allowance(at(t), 0);
  EXPECT_DOUBLE_EQ(p.rate(), r0);
}

// ---------------------------------------------------------------- sweeps

const Ipv4Address kUs(198, 18, 0, 1);
const Ipv4Address kRouter(198, 18, 0, 254);

/// Records what a sweep reports.
struct Recorder final : SweepListener {
  std::vector<SweepReply> replies;
  std::vector<SweepReply> duplicates;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> timeouts;
  std::vector<SweepError> errors;
  std::vector<std::uint64_t> given_up;
  void on_reply(const SweepReply& r) override { replies.push_back(r); }
  void on_duplicate(const SweepReply& r) override { duplicates.push_back(r); }
  void on_timeout(std::uint64_t t, std::uint32_t k) override { timeouts.emplace_back(t, k); }
  void on_error(const SweepError& e) override { errors.push_back(e); }
  void on_given_up(std::uint64_t t) override { given_up.push_back(t); }
};

/// A sweep on a fake clock: the host at 198.18.0.1/24, the router .254
/// in front of everything else.
struct Lab {
  runtime::FakeClock clock;
  test::FakeNetwork net;
  stack::Host host;
  runtime::Runtime rt;
  Recorder rec;
  MonoTime t0;

  explicit Lab(test::FakeNetwork::Config net_config = {})
      : net(clock, std::move(net_config)), host(host_config()), rt(net, host, clock) {
    runtime::signals::reset();
    t0 = clock.now();
  }
  static stack::HostConfig host_config() {
    stack::HostConfig c;
    c.mac = wire::MacAddress({0x02, 0, 0, 0, 0, 0x01});
    c.address = kUs;
    c.prefix_len = 24;
    return c;
  }
  static SweepConfig config() {
    SweepConfig c;
    c.source = kUs;
    c.ident = 0x5157;
    c.cookie_key = SipKey{11, 22};
    c.order_key = SipKey{33, 44};
    return c;
  }
  static Ipv4Address next_hop(Ipv4Address a) { return a.in_prefix(kUs, 24) ? a : kRouter; }
  std::unique_ptr<Sweep> run(const TargetSet& targets, SweepConfig c = config()) {
    auto s = std::make_unique<Sweep>(targets, c, &Lab::next_hop, rec);
    EXPECT_TRUE(rt.run(*s));
    return s;
  }
};

TargetSet block(const char* cidr) {
  auto b = parse_cidr(cidr);
  return TargetSet::block(b->first, b->last);
}

TEST(Sweep, FindsEveryAliveTargetOnceAndEndsAtTheLastReply) {
  Lab lab;
  const auto targets = block("198.19.0.0/24");
  auto s = lab.run(targets);
  EXPECT_EQ(lab.rec.replies.size(), 254u);
  EXPECT_EQ(s->totals().alive, 254u);
  EXPECT_EQ(s->totals().sent, 254u);  // no retry was needed
  EXPECT_EQ(lab.net.echo_requests(), 254u);
  std::set<std::uint64_t> seen;
  for (const auto& r : lab.rec.replies) {
    EXPECT_TRUE(seen.insert(r.target).second);
    EXPECT_EQ(r.from, targets.address(r.target));
    EXPECT_EQ(r.icmp_len, 64u);
  }
  // No fixed cooldown: done within a few round trips of the last probe,
  // far below the 500 ms a timeout would take.
  EXPECT_LT(lab.clock.now() - lab.t0, 50ms);
  EXPECT_TRUE(lab.rec.given_up.empty());
}

TEST(Sweep, RetriesTheSilentWithBackoffThenGivesUp) {
  test::FakeNetwork::Config net;
  net.alive = [](Ipv4Address a) { return a.octet(3) % 2 == 0; };
  Lab lab(net);
  const auto targets = block("198.19.0.0/28");  // .1 .. .14: 7 odd ones are silent
  auto s = lab.run(targets);
  EXPECT_EQ(s->totals().alive, 7u);
  ASSERT_EQ(lab.rec.given_up.size(), 7u);
  for (auto t : lab.rec.given_up) EXPECT_EQ(targets.address(t).octet(3) % 2, 1);
  // fping's default: 1 + 3 retries each; 4 timeouts each.
  EXPECT_EQ(s->totals().sent, 7u + 7u * 4u);
  EXPECT_EQ(s->totals().timeouts, 7u * 4u);
  // 500 + 750 + 1125 + 1687.5 ms after the first probe, and no longer.
  const auto took = lab.clock.now() - lab.t0;
  EXPECT_GE(took, 4062ms);
  EXPECT_LT(took, 4100ms);
}

TEST(Sweep, RetriesFindEveryoneThroughLoss) {
  test::FakeNetwork::Config net;
  net.loss = 0.3;
  net.seed = 5;
  Lab lab(net);
  const auto targets = block("198.19.0.0/24");
  SweepConfig c = Lab::config();
  c.retries = 6;
  auto s = lab.run(targets, c);
  EXPECT_EQ(s->totals().alive, 254u);
  EXPECT_GT(s->totals().sent, 254u);
  EXPECT_TRUE(lab.rec.given_up.empty());
}

TEST(Sweep, ForgedRepliesNeverMarkATargetAlive) {
  test::FakeNetwork::Config net;
  const auto targets = block("198.19.0.0/29");  // .1 .. .6
  net.alive = [&](Ipv4Address a) { return a == targets.address(0); };
  Lab lab(net);
  SweepConfig c = Lab::config();
  c.retries = 0;
  Sweep s(targets, c, &Lab::next_hop, lab.rec);
  // Replies with our identifier from the silent targets themselves: one
  // with a MAC of another key (a stale run, or a guess), one with a
  // good-looking payload but a broken checksum, one too short to carry a
  // cookie at all.
  auto reply = [&](Ipv4Address from, std::vector<std::byte> data, bool bad_sum) {
    auto frame = lab.net.ip_frame(from, kUs, icmpv4::Repr::echo_reply(c.ident, 0, data));
    if (bad_sum) frame[14 + 20 + 2] ^= std::byte{0xff};
    lab.net.inject(std::move(frame), lab.clock.now() + 50us);
  };
  std::vector<std::byte> forged(56);
  forged[8] = std::byte{1};  // target index 1
  for (int i = 0; i < 8; ++i) forged[16 + i] = std::byte{0x5a};
  reply(targets.address(1), forged, false);
  forged[8] = std::byte{2};
  reply(targets.address(2), forged, true);
  reply(targets.address(3), std::vector<std::byte>(8), false);
  ASSERT_TRUE(lab.rt.run(s));
  EXPECT_EQ(s.totals().alive, 1u);
  EXPECT_TRUE(s.alive(0));
  for (std::uint64_t t = 1; t < targets.size(); ++t) EXPECT_FALSE(s.alive(t));
  EXPECT_EQ(s.totals().rejected, 3u);
  EXPECT_EQ(lab.rec.replies.size(), 1u);
}

TEST(Sweep, AReplyFromAnotherAddressIsRejected) {
  test::FakeNetwork::Config net;
  net.alive = [](Ipv4Address) { return false; };
  Lab lab(net);
  const auto targets = block("198.19.0.0/30");
  SweepConfig c = Lab::config();
  c.retries = 0;
  Sweep s(targets, c, &Lab::next_hop, lab.rec);
  // Run once so that probes exist, capturing what went out.
  ASSERT_TRUE(lab.rt.run(s));
  EXPECT_EQ(s.totals().alive, 0u);
  // Echo the probe to .1 back, but from .2: the MAC is right, the source
  // is not the target.
  Recorder rec2;
  Sweep s2(targets, c, &Lab::next_hop, rec2);
  lab.net.config().alive = [](Ipv4Address) { return false; };
  for (const auto& f : lab.net.sent()) {
    auto ip = wire::ipv4::Packet<>::checked(ConstBytes(f.data(), f.size()).subspan(14));
    if (!ip || ip->protocol() != wire::ipv4::Protocol::icmp) continue;
    auto icmp = icmpv4::Packet<>::checked(ip->payload());
    if (!icmp || icmp->type() != icmpv4::Type::echo_request) continue;
    const Ipv4Address liar =
        ip->dst() == targets.address(0) ? targets.address(1) : targets.address(0);
    lab.net.inject(
        lab.net.ip_frame(liar, kUs,
                         icmpv4::Repr::echo_reply(icmp->ident(), icmp->seq(), icmp->data())),
        lab.clock.now() + 10us);
  }
  ASSERT_TRUE(lab.rt.run(s2));
  // s2 sent its own probes (different times and seqs), so the replayed
  // replies carry MACs of s's probes; s2 rejects them all.
  EXPECT_EQ(s2.totals().alive, 0u);
  EXPECT_GE(s2.totals().rejected, 2u);
}

TEST(Sweep, MapsIcmpErrorsToTheirTargetThroughTheQuote) {
  for (std::size_t quoted : {std::size_t{8}, std::size_t{1024}}) {
    test::FakeNetwork::Config net;
    net.error_for = [&](Ipv4Address a) -> std::optional<test::FakeNetwork::Error> {
      if (a.octet(3) == 3)
        return test::FakeNetwork::Error{icmpv4::Type::dst_unreachable, 1, quoted};
      if (a.octet(3) == 5)
        return test::FakeNetwork::Error{icmpv4::Type::dst_unreachable, 13, quoted};
      return std::nullopt;
    };
    Lab lab(net);
    const auto targets = block("198.19.0.0/29");  // .1 .. .6
    SweepConfig c = Lab::config();
    c.retries = 1;
    auto s = lab.run(targets, c);
    EXPECT_EQ(s->totals().alive, 4u) << "quote " << quoted;
    // One error per probe: first try and one retry, for each of the two.
    ASSERT_EQ(lab.rec.errors.size(), 4u) << "quote " << quoted;
    for (const auto& e : lab.rec.errors) {
      const auto last = targets.address(e.target).octet(3);
      EXPECT_TRUE(last == 3 || last == 5);
      EXPECT_EQ(e.code, last == 3 ? 1 : 13);
      EXPECT_EQ(e.from, kRouter);
      EXPECT_FALSE(e.local);
    }
    EXPECT_EQ(lab.rec.given_up.size(), 2u);
    EXPECT_EQ(s->totals().other_icmp, 4u);
    ASSERT_NE(s->last_error(*targets.find(Ipv4Address(198, 19, 0, 5))), nullptr);
  }
}

TEST(Sweep, AnErrorQuotingAnotherProbeIsIgnored) {
  test::FakeNetwork::Config net;
  net.alive = [](Ipv4Address) { return false; };
  Lab lab(net);
  const auto targets = block("198.19.0.0/30");
  SweepConfig c = Lab::config();
  c.retries = 0;
  Sweep s(targets, c, &Lab::next_hop, lab.rec);
  // An unreachable that quotes an echo request with another identifier.
  wire::ipv4::Repr q;
  q.src = kUs;
  q.dst = targets.address(0);
  q.protocol = wire::ipv4::Protocol::icmp;
  std::vector<std::byte> echo(8 + 24);
  icmpv4::Repr::echo_request(c.ident ^ 1, 0, ConstBytes(echo).subspan(8))
      .emit(MutBytes(echo.data(), echo.size()));
  q.payload_len = echo.size();
  std::vector<std::byte> quote(q.buffer_len());
  q.emit(MutBytes(quote.data(), quote.size()));
  std::copy(echo.begin(), echo.end(), quote.begin() + 20);
  lab.net.inject(lab.net.ip_frame(kRouter, kUs,
                                  icmpv4::Repr::dst_unreachable(icmpv4::Unreachable::host, quote)),
                 lab.clock.now() + 10us);
  ASSERT_TRUE(lab.rt.run(s));
  EXPECT_TRUE(lab.rec.errors.empty());
  EXPECT_EQ(s.totals().other_icmp, 0u);
}

TEST(Sweep, AFailedArpIsReportedFromOurOwnAddress) {
  test::FakeNetwork::Config net;
  net.on_link = [](Ipv4Address a) { return a == Ipv4Address(198, 18, 0, 9); };
  Lab lab(net);
  TargetSet targets;
  targets.add("198.18.0.9", Ipv4Address(198, 18, 0, 9));
  targets.add("198.18.0.77", Ipv4Address(198, 18, 0, 77));  // nobody
  auto s = lab.run(targets);
  EXPECT_TRUE(s->alive(0));
  EXPECT_FALSE(s->alive(1));
  ASSERT_FALSE(lab.rec.errors.empty());
  for (const auto& e : lab.rec.errors) {
    EXPECT_EQ(e.target, 1u);
    EXPECT_TRUE(e.local);
    EXPECT_EQ(e.from, kUs);
    EXPECT_EQ(e.type, icmpv4::Type::dst_unreachable);
    EXPECT_EQ(e.code, 1);
  }
  EXPECT_EQ(lab.rec.given_up, std::vector<std::uint64_t>{1});
}

TEST(Sweep, CountModeKeepsFpingsPerTargetCounters) {
  test::FakeNetwork::Config net;
  net.alive = [](Ipv4Address a) { return a.octet(3) != 2; };
  Lab lab(net);
  const auto targets = block("198.19.0.0/30");  // .1 alive, .2 silent
  SweepConfig c = Lab::config();
  c.count = 3;
  c.period = 100ms;
  c.timeout = 100ms;
  auto s = lab.run(targets, c);
  const auto& alive = s->stats(0);
  EXPECT_EQ(alive.sent, 3u);
  EXPECT_EQ(alive.recv, 3u);
  EXPECT_EQ(alive.min, 100'000);
  EXPECT_EQ(alive.max, 100'000);
  const auto& silent = s->stats(1);
  EXPECT_EQ(silent.sent, 3u);
  EXPECT_EQ(silent.recv, 0u);
  EXPECT_EQ(lab.rec.timeouts.size(), 3u);
  for (std::uint32_t k = 0; k < 3; ++k) {
    EXPECT_EQ(s->response(0, k), 100'000);
    EXPECT_EQ(s->response(1, k), Sweep::response_timeout);
  }
  EXPECT_EQ(lab.rec.replies.size(), 3u);
  // Pings 0, 100 and 200 ms; the last timeout 100 ms after that.
  EXPECT_GE(lab.clock.now() - lab.t0, 300ms);
  EXPECT_LT(lab.clock.now() - lab.t0, 310ms);
}

TEST(Sweep, DuplicatesAreReportedNotCounted) {
  test::FakeNetwork::Config net;
  net.duplicate = true;
  Lab lab(net);
  const auto targets = block("198.19.0.0/29");
  auto s = lab.run(targets);
  EXPECT_EQ(s->totals().alive, 6u);
  EXPECT_EQ(lab.rec.replies.size(), 6u);
  // The run ends at the last first reply; duplicates that came with it
  // are reported.
  EXPECT_GE(lab.rec.duplicates.size(), 1u);
}

TEST(Sweep, ShortDataFallsBackToASequenceMap) {
  Lab lab;
  const auto targets = block("198.19.0.0/28");
  SweepConfig c = Lab::config();
  c.data_len = 0;
  auto s = lab.run(targets, c);
  EXPECT_EQ(s->totals().alive, 14u);
  for (const auto& r : lab.rec.replies) EXPECT_EQ(r.icmp_len, 8u);
}

TEST(Sweep, AFixedRateSpacesTheProbes) {
  Lab lab;
  const auto targets = block("198.19.0.0/25");  // 126
  SweepConfig c = Lab::config();
  c.pacing.mode = PacerConfig::Mode::rate;
  c.pacing.rate = 1000;
  auto s = lab.run(targets, c);
  EXPECT_EQ(s->totals().alive, 126u);
  const auto& times = lab.net.sent_times();
  ASSERT_GE(times.size(), 126u);
  // 126 probes at 1000/s: about 125 ms from the first to the last (bursts
  // of at most 2 ms' worth).
  const auto span = times.back() - times.front();
  EXPECT_GE(span, 120ms);
  EXPECT_LE(span, 130ms);
}

TEST(Sweep, ShardsOfOneSeedSplitTheTargets) {
  const auto targets = block("198.19.3.0/24");
  std::set<std::uint64_t> all;
  for (std::uint32_t i = 0; i < 4; ++i) {
    Lab lab;
    SweepConfig c = Lab::config();
    c.shard_index = i;
    c.shard_count = 4;
    auto s = lab.run(targets, c);
    EXPECT_EQ(s->shard_size(), i < 2 ? 64u : 63u);  // 254 = 64 + 64 + 63 + 63
    for (const auto& r : lab.rec.replies) EXPECT_TRUE(all.insert(r.target).second);
    for (std::uint64_t t = 0; t < targets.size(); ++t) EXPECT_EQ(s->started(t), s->alive(t));
  }
  EXPECT_EQ(all.size(), 254u);
}

TEST(Sweep, AnOnLinkSweepStaysWithinTheNeighbourBudget) {
  test::FakeNetwork::Config net;
  net.on_link = [](Ipv4Address a) { return a.octet(3) % 3 == 0; };
  Lab lab(net);
  // 198.18.0.0/24 is our own link: every target needs ARP.
  const auto targets = block("198.18.0.0/24");
  SweepConfig c = Lab::config();
  c.neighbor_budget = 32;
  c.retries = 0;
  auto s = lab.run(targets, c);
  EXPECT_EQ(s->totals().alive, 85u);  // .3, .6, ..., .252, and the router
  EXPECT_LE(lab.host.neighbors().size(), 32u + 1u);
  EXPECT_EQ(lab.host.drops()[stack::DropReason::neighbor_queue_full], 0u);
}

}  // namespace
}  // namespace ersatz::scan

namespace ersatz::scan {
namespace {

TEST(Sweep, ADeadGatewayDoesNotHoldTheSweepOneArpCycleAtATime) {
  test::FakeNetwork::Config net;
  net.router_ip = wire::Ipv4Address(198, 18, 0, 250);  // the gateway below never answers ARP
  Lab lab(net);
  const auto targets = block("198.19.0.0/28");  // 14 targets behind it
  SweepConfig c = Lab::config();
  c.retries = 0;
  auto s = lab.run(targets, c);
  EXPECT_EQ(s->totals().alive, 0u);
  EXPECT_EQ(s->totals().sent, 14u);
  // One ARP resolution fails (3 s), then every other target goes at once.
  EXPECT_LT(lab.clock.now() - lab.t0, 5s);
  // The held targets wait for the neighbour table's timers, not a 1 ms
  // poll (3000 turns of the loop for the 3 s of ARP).
  EXPECT_LT(lab.rt.stats().turns, 100u);
}

}  // namespace
}  // namespace ersatz::scan
