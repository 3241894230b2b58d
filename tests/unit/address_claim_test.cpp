// RFC 5227 address conflict detection on a fake clock: the probe and
// announcement timers, and the three ways to meet a conflict.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ersatz/stack/address_claim.hpp"
#include "support.hpp"

namespace ersatz::stack {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;
using wire::MacAddress;
namespace arp = wire::arp;
using Kind = ClaimEvent::Kind;

const MacAddress kOurMac({0x02, 0, 0, 0, 0, 0x01});
const MacAddress kOtherMac({0x02, 0, 0, 0, 0, 0x99});
const Ipv4Address kAddr(198, 18, 0, 50);

struct Sent {
  MonoTime at;
  MacAddress eth_dst;
  arp::Repr arp;
};

/// Drives a claim on a fake clock, one deadline at a time, and keeps what
/// it sent.
class ClaimTest : public ::testing::Test {
 protected:
  ClaimConfig config(DefendPolicy p = DefendPolicy::once, std::uint64_t seed = 1) {
    ClaimConfig c;
    c.mac = kOurMac;
    c.address = kAddr;
    c.defend = p;
    c.seed = seed;
    return c;
  }
  void collect(MonoTime at) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const ConstBytes f = out[i];
      auto e = wire::ethernet::Repr::parse(*wire::ethernet::Packet<>::checked(f));
      auto a = arp::Repr::parse(*arp::Packet<>::checked(f.subspan(14)));
      ASSERT_TRUE(e && a);
      EXPECT_EQ(e->src, kOurMac);
      sent.push_back({at, e->dst, *a});
    }
    out.clear();
  }
  /// Runs the claim's timers until it has none or `until` passes.
  void run(AddressClaim& c, MonoTime until) {
    while (auto d = c.next_deadline()) {
      if (*d > until) break;
      now = *d;
      c.poll(now, out);
      collect(now);
    }
    now = until;
  }
  void conflict(AddressClaim& c, const arp::Repr& a) {
    c.on_arp(a, now, out);
    collect(now);
  }
  static std::vector<Kind> kinds(AddressClaim& c) {
    std::vector<Kind> k;
    for (const auto& e : c.take_events()) k.push_back(e.kind);
    return k;
  }

  MonoTime t0{std::chrono::seconds(100)};
  MonoTime now = t0;
  Outbox out;
  std::vector<Sent> sent;
};

TEST_F(ClaimTest, ProbesThenAnnouncesOnRfc5227Timers) {
  // Several seeds, so that the random waits are seen over their range.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    sent.clear();
    now = t0;
    AddressClaim c(config(DefendPolicy::once, seed));
    c.start(now);
    EXPECT_EQ(c.state(), ClaimState::probing);
    EXPECT_FALSE(c.in_use());
    run(c, t0 + 60s);
    ASSERT_EQ(sent.size(), 5u) << "seed " << seed;  // PROBE_NUM + ANNOUNCE_NUM
    // PROBE_WAIT: the first probe within 0..1 s.
    EXPECT_GE(sent[0].at, t0);
    EXPECT_LE(sent[0].at, t0 + 1s);
    for (int i = 0; i < 3; ++i) {
      const auto& p = sent[static_cast<std::size_t>(i)];
      EXPECT_EQ(p.eth_dst, MacAddress::broadcast());
      EXPECT_EQ(p.arp, AddressClaim::probe(kOurMac, kAddr));
      EXPECT_TRUE(p.arp.source_ip.is_unspecified());
      EXPECT_EQ(p.arp.target_hw, MacAddress());
      // PROBE_MIN..PROBE_MAX between probes.
      if (i > 0) {
        const auto gap = p.at - sent[static_cast<std::size_t>(i - 1)].at;
        EXPECT_GE(gap, 1s);
        EXPECT_LE(gap, 2s);
      }
    }
    // ANNOUNCE_WAIT after the last probe, then ANNOUNCE_INTERVAL.
    EXPECT_EQ(sent[3].at - sent[2].at, 2s);
    EXPECT_EQ(sent[4].at - sent[3].at, 2s);
    for (int i = 3; i < 5; ++i) {
      EXPECT_EQ(sent[static_cast<std::size_t>(i)].arp, AddressClaim::announcement(kOurMac, kAddr));
      EXPECT_EQ(sent[static_cast<std::size_t>(i)].eth_dst, MacAddress::broadcast());
    }
    EXPECT_EQ(c.state(), ClaimState::bound);
    EXPECT_FALSE(c.next_deadline());
  }
}

TEST_F(ClaimTest, TheAddressIsUsableFromTheFirstAnnouncement) {
  AddressClaim c(config());
  c.start(now);
  run(c, t0 + 60s);
  const auto ev = kinds(c);
  const std::vector<Kind> want{Kind::probe, Kind::probe,    Kind::probe,
                               Kind::bound, Kind::announce, Kind::announce};
  EXPECT_EQ(ev, want);
}

TEST_F(ClaimTest, RandomWaitsDifferBetweenSeeds) {
  std::set<MonoTime::rep> firsts;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    AddressClaim c(config(DefendPolicy::once, seed));
    c.start(t0);
    firsts.insert(c.next_deadline()->time_since_epoch().count());
  }
  EXPECT_GT(firsts.size(), 4u);
}

TEST_F(ClaimTest, AReplyWhileProbingLosesTheAddress) {
  AddressClaim c(config());
  c.start(now);
  run(c, t0 + 1500ms);  // at least one probe out
  ASSERT_FALSE(sent.empty());
  const std::size_t before = sent.size();
  conflict(c, {arp::Operation::reply, kOtherMac, kAddr, kOurMac, Ipv4Address()});
  EXPECT_EQ(c.state(), ClaimState::lost);
  EXPECT_FALSE(c.next_deadline());
  auto ev = c.take_events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, Kind::conflict_probing);
  EXPECT_EQ(ev.back().other, kOtherMac);
  run(c, t0 + 60s);
  EXPECT_EQ(sent.size(), before);  // nothing more: no announcement
}

TEST_F(ClaimTest, ARivalProbeWhileProbingIsAConflictButOthersAreNot) {
  AddressClaim c(config());
  c.start(now);
  // Unrelated ARP, and our own probe seen again, change nothing.
  conflict(c, {arp::Operation::request, kOtherMac, Ipv4Address(198, 18, 0, 9), MacAddress(),
               Ipv4Address(198, 18, 0, 1)});
  conflict(c, AddressClaim::probe(kOurMac, kAddr));
  EXPECT_EQ(c.state(), ClaimState::probing);
  conflict(c, AddressClaim::probe(kOtherMac, kAddr));
  EXPECT_EQ(c.state(), ClaimState::lost);
}

TEST_F(ClaimTest, DefendOnceThenYieldWithinDefendInterval) {
  AddressClaim c(config(DefendPolicy::once));
  c.start(now);
  run(c, t0 + 60s);
  c.take_events();
  sent.clear();
  const arp::Repr claim = AddressClaim::announcement(kOtherMac, kAddr);
  conflict(c, claim);
  ASSERT_EQ(sent.size(), 1u);  // one defending announcement, broadcast
  EXPECT_EQ(sent[0].arp, AddressClaim::announcement(kOurMac, kAddr));
  EXPECT_EQ(sent[0].eth_dst, MacAddress::broadcast());
  EXPECT_EQ(c.state(), ClaimState::bound);
  // DEFEND_INTERVAL later, a conflict is a first one again.
  now += 10s;
  conflict(c, claim);
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_TRUE(c.in_use());
  // Within it, the address goes.
  now += 9999ms;
  conflict(c, claim);
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(c.state(), ClaimState::lost);
  EXPECT_EQ(kinds(c), (std::vector<Kind>{Kind::defended, Kind::defended, Kind::yielded}));
}

TEST_F(ClaimTest, DefendAlwaysAtMostOncePerDefendInterval) {
  AddressClaim c(config(DefendPolicy::always));
  c.start(now);
  run(c, t0 + 60s);
  c.take_events();
  sent.clear();
  const arp::Repr claim{arp::Operation::reply, kOtherMac, kAddr, kOurMac, kAddr};
  for (int i = 0; i < 25; ++i) {
    conflict(c, claim);
    now += 1s;
  }
  // Conflicts at 0..24 s: defences at 0, 10 and 20 s.
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_TRUE(c.in_use());
  auto ev = kinds(c);
  EXPECT_EQ(std::count(ev.begin(), ev.end(), Kind::defended), 3);
  EXPECT_EQ(std::count(ev.begin(), ev.end(), Kind::ignored), 22);
}

TEST_F(ClaimTest, DefendNeverYieldsAtOnce) {
  AddressClaim c(config(DefendPolicy::never));
  c.start(now);
  run(c, t0 + 60s);
  sent.clear();
  conflict(c, AddressClaim::announcement(kOtherMac, kAddr));
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(c.state(), ClaimState::lost);
}

TEST_F(ClaimTest, ConflictDuringAnnouncingIsDefendedToo) {
  AddressClaim c(config(DefendPolicy::once));
  c.start(now);
  // Up to the first announcement only.
  while (c.state() == ClaimState::probing) {
    now = *c.next_deadline();
    c.poll(now, out);
    collect(now);
  }
  EXPECT_EQ(c.state(), ClaimState::announcing);
  conflict(c, AddressClaim::announcement(kOtherMac, kAddr));
  EXPECT_TRUE(c.in_use());
  EXPECT_EQ(kinds(c).back(), Kind::defended);
}

TEST(DefendPolicy, ParsesItsNames) {
  EXPECT_EQ(parse_defend_policy("once"), DefendPolicy::once);
  EXPECT_EQ(parse_defend_policy("always"), DefendPolicy::always);
  EXPECT_EQ(parse_defend_policy("never"), DefendPolicy::never);
  EXPECT_FALSE(parse_defend_policy("sometimes"));
}

}  // namespace
}  // namespace ersatz::stack
