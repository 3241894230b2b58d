// traceroute's engine on a scripted path: the in-memory network answers
// each probe as the router at its TTL would, on a fake clock.
#include "ersatz/trace/traceroute.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ersatz/wire/udp.hpp"
#include "fake_network.hpp"

namespace ersatz::trace {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;
namespace icmpv4 = wire::icmpv4;
namespace ipv4 = wire::ipv4;
namespace udp = wire::udp;

const Ipv4Address kUs(198, 18, 0, 1);
const Ipv4Address kGateway(198, 18, 0, 254);
const Ipv4Address kTarget(198, 18, 13, 2);

struct Router {
  Ipv4Address address;
  bool silent = false;
};

/// A chain of routers in front of kTarget. A probe with TTL t meets router
/// t (from 1) and dies there, or reaches the target past the last one.
struct Path {
  std::vector<Router> routers{{Ipv4Address(198, 18, 0, 254)},
                              {Ipv4Address(198, 18, 11, 254), true},
                              {Ipv4Address(198, 18, 12, 254)}};
  std::chrono::nanoseconds per_hop = 100us;
  /// The last router's error for what it cannot forward (an unreachable
  /// route): then the target is never reached.
  std::optional<std::pair<std::uint8_t, std::uint16_t>> last_router_unreachable;  // code, mtu
  /// Datagrams larger than this die at the last router, as frag needed
  /// when DF is set.
  std::size_t last_link_mtu = 1500;
  /// Which probes (by TTL, and how many of that TTL came before) get no
  /// answer at all.
  std::function<bool(unsigned ttl, unsigned nth)> lost = [](unsigned, unsigned) { return false; };
  std::map<unsigned, unsigned> seen;  // probes per TTL so far
};

struct Recorder final : TraceListener {
  std::vector<ProbeResult> probes;
  void on_probe(const ProbeResult& p) override { probes.push_back(p); }
};

struct Lab {
  runtime::FakeClock clock;
  Path path;
  test::FakeNetwork net;
  stack::Host host;
  runtime::Runtime rt;
  Recorder rec;
  MonoTime t0;

  explicit Lab(Path p = {})
      : path(std::move(p)),
        net(clock, net_config()),
        host(host_config(), neighbor_config()),
        rt(net, host, clock, runtime_options()) {
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
  /// Room for every probe in flight while the gateway is resolved, as the
  /// tool asks (Linux queues by bytes, 212992 of them).
  static stack::NeighborConfig neighbor_config() {
    stack::NeighborConfig c;
    c.queue_len = 64;
    return c;
  }
  /// Round trips count from the departure, after ARP, as in the tool.
  static runtime::RuntimeOptions runtime_options() {
    runtime::RuntimeOptions o;
    o.report_sent = true;
    return o;
  }
  static TraceConfig config(Method m = Method::udp) {
    TraceConfig c;
    c.source = kUs;
    c.target = kTarget;
    c.next_hop = kGateway;
    c.method = m;
    c.src_port = 40000;
    c.ident = 0x7272;
    return c;
  }
  test::FakeNetwork::Config net_config() {
    test::FakeNetwork::Config c;
    c.ip_hook = [this](const ipv4::Packet<>& ip, test::FakeNetwork& n) { return hop(ip, n); };
    return c;
  }

  /// What the path does with one of our probes.
  bool hop(const ipv4::Packet<>& ip, test::FakeNetwork& n) {
    if (ip.dst() != kTarget) return false;
    const unsigned ttl = ip.ttl();
    const unsigned nth = path.seen[ttl]++;
    if (path.lost(ttl, nth)) return true;
    const auto routers = static_cast<unsigned>(path.routers.size());
    const ConstBytes quote = ip.datagram().first(std::min<std::size_t>(ip.datagram().size(), 548));
    // A reply from `hops` away: as late, and with its TTL spent on the way back.
    auto reply = [&](unsigned hops, Ipv4Address from, const icmpv4::Repr& r) {
      n.inject(n.ip_frame(from, ip.src(), r, static_cast<std::uint8_t>(64 - (hops - 1))),
               clock.now() + path.per_hop * hops);
    };
    const Ipv4Address last = path.routers.back().address;
    // The last router refuses before TTL matters (a route lookup).
    if (ttl >= routers && path.last_router_unreachable) {
      const auto [code, mtu] = *path.last_router_unreachable;
      reply(routers, last,
            icmpv4::Repr::dst_unreachable(static_cast<icmpv4::Unreachable>(code), quote, mtu));
      return true;
    }
    if (ttl > routers && ip.datagram().size() > path.last_link_mtu && ip.dont_fragment()) {
      reply(routers, last,
            icmpv4::Repr::dst_unreachable(icmpv4::Unreachable::frag_needed, quote,
                                          static_cast<std::uint16_t>(path.last_link_mtu)));
      return true;
    }
    if (ttl <= routers) {
      const Router& r = path.routers[ttl - 1];
      if (!r.silent) {
        reply(ttl, r.address, icmpv4::Repr::time_exceeded(icmpv4::TimeExceeded::ttl, quote));
      }
      return true;
    }
    if (ip.protocol() == ipv4::Protocol::udp) {
      reply(routers + 1, kTarget, icmpv4::Repr::dst_unreachable(icmpv4::Unreachable::port, quote));
    } else if (auto m = icmpv4::Packet<>::checked(ip.payload())) {
      reply(routers + 1, kTarget, icmpv4::Repr::echo_reply(m->ident(), m->seq(), m->data()));
    }
    return true;
  }

  std::unique_ptr<Traceroute> run(TraceConfig c = config()) {
    auto t = std::make_unique<Traceroute>(c, rec);
    EXPECT_TRUE(rt.run(*t));
    return t;
  }
  /// One line per hop: "1 198.18.0.254 198.18.0.254 198.18.0.254", "2 * * *",
  /// with annotations after the address.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& p : rec.probes) {
      if (p.index == 0) out.push_back(std::to_string(p.ttl));
      out.back() += ' ';
      out.back() += p.from ? fmt::format("{}", *p.from) : "*";
      if (!p.annotation.empty()) out.back() += p.annotation;
    }
    return out;
  }
};

TEST(Traceroute, UdpThroughASilentHopToTheTarget) {
  Lab lab;
  auto t = lab.run();
  EXPECT_EQ(lab.lines(),
            (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254", "2 * * *",
                                      "3 198.18.12.254 198.18.12.254 198.18.12.254",
                                      "4 198.18.13.2 198.18.13.2 198.18.13.2"}));
  EXPECT_TRUE(lab.rec.probes.back().final);
  // Sixteen at once, as traceroute's -N default: hops 1 to 5, and one of
  // 6; more go out as the first hops are printed, until the target answers.
  EXPECT_EQ(t->max_in_flight(), 16u);
  EXPECT_GT(t->sent(), 16u);
  EXPECT_EQ(lab.net.sent().size(), t->sent() + 1);  // and an ARP request
  // The silent hop is waited for NEAR (10) times the round trip of the
  // next hop that answered, plus traceroute's 1 ms: (0.3 + 1) × 10 ms, not
  // five seconds.
  EXPECT_GE(lab.clock.now() - lab.t0, 13ms);
  EXPECT_LT(lab.clock.now() - lab.t0, 14ms);
  for (const auto& p : lab.rec.probes) {
    if (p.from) {
      EXPECT_EQ(*p.rtt, lab.path.per_hop * std::min(p.ttl, 4U)) << p.ttl;
    }
  }
}

// A send that returns after the answer was stamped (libpcap on a veth):
// each round trip still counts from just before its probe's send.
TEST(Traceroute, ASlowSendDoesNotShortenTheRoundTrips) {
  Lab lab;
  lab.net.config().send_cost = lab.path.per_hop * 5;
  lab.run();
  ASSERT_EQ(lab.lines().size(), 4u);
  for (const auto& p : lab.rec.probes) {
    if (p.from) {
      EXPECT_EQ(*p.rtt, lab.path.per_hop * std::min(p.ttl, 4U)) << p.ttl;
    }
  }
}

TEST(Traceroute, ProbesAreUdpToIncreasingPortsWithTracerouteData) {
  Lab lab;
  TraceConfig c = Lab::config();
  c.data_len = 1400 - 28;
  auto t = lab.run(c);
  std::set<std::uint16_t> ports;
  for (const auto& f : lab.net.sent()) {
    auto ip = ipv4::Packet<>::checked(ConstBytes(f).subspan(14));
    if (!ip || ip->protocol() != ipv4::Protocol::udp) continue;
    EXPECT_EQ(ip->total_len(), 1400);
    EXPECT_FALSE(ip->dont_fragment());
    auto u = udp::Packet<>::checked(ip->payload());
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->verify_checksum(kUs, kTarget));
    EXPECT_EQ(u->src_port(), 40000);
    EXPECT_EQ(u->payload()[0], std::byte{'@'});
    EXPECT_EQ(u->payload()[1], std::byte{'A'});
    EXPECT_EQ(u->payload()[64], std::byte{'@'});
    ports.insert(u->dst_port());
  }
  // One port per probe, from 33434 up, none twice.
  EXPECT_EQ(ports.size(), t->sent());
  EXPECT_EQ(*ports.begin(), udp::traceroute_port);
  EXPECT_EQ(*ports.rbegin(), udp::traceroute_port + t->sent() - 1);
}

TEST(Traceroute, IcmpEchoEndsAtTheEchoReply) {
  Lab lab;
  auto t = lab.run(Lab::config(Method::icmp));
  EXPECT_EQ(lab.lines(),
            (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254", "2 * * *",
                                      "3 198.18.12.254 198.18.12.254 198.18.12.254",
                                      "4 198.18.13.2 198.18.13.2 198.18.13.2"}));
  EXPECT_EQ(lab.rec.probes.back().reply_ttl, 61);
}

TEST(Traceroute, ForgedEchoRepliesAreNoAnswer) {
  Lab lab;
  const TraceConfig c = Lab::config(Method::icmp);
  // For each probe of hop 1, before any real answer: our exact reply from a
  // stranger, and a reply from the target whose data is not ours.
  std::vector<std::byte> ours(c.data_len), changed(c.data_len);
  for (std::size_t i = 0; i < ours.size(); ++i) {
    ours[i] = static_cast<std::byte>(0x40 + (i & 0x3f));
    changed[i] = ours[i] ^ std::byte{0x5a};
  }
  for (std::uint16_t k = 0; k < 3; ++k) {
    const auto seq = static_cast<std::uint16_t>(c.first_seq + k);
    lab.net.inject(lab.net.ip_frame(Ipv4Address(198, 18, 99, 9), kUs,
                                    icmpv4::Repr::echo_reply(c.ident, seq, ours)),
                   lab.clock.now() + 10us);
    lab.net.inject(lab.net.ip_frame(kTarget, kUs, icmpv4::Repr::echo_reply(c.ident, seq, changed)),
                   lab.clock.now() + 20us);
  }
  lab.run(c);
  EXPECT_EQ(lab.lines(),
            (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254", "2 * * *",
                                      "3 198.18.12.254 198.18.12.254 198.18.12.254",
                                      "4 198.18.13.2 198.18.13.2 198.18.13.2"}));
}

TEST(Traceroute, OneProbePerHopAndFirstAndMaxHop) {
  Lab lab;
  TraceConfig c = Lab::config();
  c.probes_per_hop = 1;
  c.first_hop = 3;
  lab.run(c);
  EXPECT_EQ(lab.lines(), (std::vector<std::string>{"3 198.18.12.254", "4 198.18.13.2"}));

  Lab capped;
  c = Lab::config();
  c.max_hops = 2;
  capped.run(c);
  EXPECT_EQ(capped.lines(),
            (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254", "2 * * *"}));
  // Nothing answers after the silent hop: the wait is MAX, five seconds.
  EXPECT_GE(capped.clock.now() - capped.t0, 5s);
  EXPECT_LT(capped.clock.now() - capped.t0, 5s + 10ms);
}

TEST(Traceroute, UnreachablesAnnotateAndEndTheTrace) {
  const std::vector<std::pair<std::uint8_t, std::string>> cases{
      {1, "!H"}, {13, "!X"}, {0, "!N"}, {2, "!P"}, {10, "!X"}, {14, "!V"}, {16, "!<16>"}};
  for (const auto& [code, mark] : cases) {
    Path p;
    p.last_router_unreachable = {{code, 0}};
    Lab lab(p);
    lab.run();
    const std::string a = "198.18.12.254" + mark;
    EXPECT_EQ(lab.lines(), (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254",
                                                     "2 * * *", "3 " + a + " " + a + " " + a}))
        << int{code};
  }
}

TEST(Traceroute, DontFragmentThroughASmallerLinkIsFWithTheMtu) {
  Path p;
  p.last_link_mtu = 1280;
  Lab lab(p);
  TraceConfig c = Lab::config();
  c.data_len = 1400 - 28;
  c.dont_fragment = true;
  lab.run(c);
  const std::string f = "198.18.12.254!F-1280";
  EXPECT_EQ(lab.lines().back(), "4 " + f + " " + f + " " + f);
  // Without -F the datagram would be fragmented on the way: DF was set.
  auto ip = ipv4::Packet<>::checked(ConstBytes(lab.net.sent().back()).subspan(14));
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->dont_fragment());
}

TEST(Traceroute, HereFactorShortensTheWaitForAProbeOfAnAnsweringHop) {
  Path p;
  p.routers = {{Ipv4Address(198, 18, 0, 254)}};
  p.per_hop = 1ms;
  // The second probe of hop 1 is lost; the target answers everything.
  p.lost = [](unsigned ttl, unsigned nth) { return ttl == 1 && nth == 1; };
  Lab lab(p);
  lab.run();
  EXPECT_EQ(lab.lines(), (std::vector<std::string>{"1 198.18.0.254 * 198.18.0.254",
                                                   "2 198.18.13.2 198.18.13.2 198.18.13.2"}));
  // HERE = 3: (1 ms + 1 ms) × 3 after it was sent.
  EXPECT_GE(lab.clock.now() - lab.t0, 6ms);
  EXPECT_LT(lab.clock.now() - lab.t0, 7ms);
}

TEST(Traceroute, AFinalAnswerForALaterProbeMovesUpToTheHopThatTimedOut) {
  // The last router's errors are rate-limited: the probes that reach it
  // with TTL 3 get nothing, the TTL-4 ones get !H. traceroute's
  // check_expired puts the !H where it belongs, at hop 3.
  Path p;
  p.last_router_unreachable = {{1, 0}};
  p.lost = [](unsigned ttl, unsigned) { return ttl == 3; };
  Lab lab(p);
  lab.run();
  const std::string h = "198.18.12.254!H";
  EXPECT_EQ(lab.lines(), (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254",
                                                   "2 * * *", "3 " + h + " " + h + " " + h}));
}

TEST(Traceroute, ForgedAndLateAnswersAreIgnored) {
  Lab lab;
  // Port unreachables that quote a datagram of ours but to another
  // address, from another source port, and one for the first probe that
  // comes after its real answer (at 200 µs: ARP, then a 100 µs hop).
  auto unreachable_quoting = [&](Ipv4Address dst, std::uint16_t src_port) {
    std::vector<std::byte> d(28);
    ipv4::Repr r;
    r.src = kUs;
    r.dst = dst;
    r.protocol = ipv4::Protocol::udp;
    r.payload_len = 8;
    r.emit(MutBytes(d.data(), d.size()));
    udp::Repr{src_port, udp::traceroute_port, {}}.emit(MutBytes(d.data() + 20, 8), kUs, dst);
    return lab.net.ip_frame(
        kTarget, kUs,
        icmpv4::Repr::dst_unreachable(icmpv4::Unreachable::port, ConstBytes(d.data(), d.size())));
  };
  lab.net.inject(unreachable_quoting(Ipv4Address(198, 18, 13, 3), 40000), lab.clock.now() + 10us);
  lab.net.inject(unreachable_quoting(kTarget, 40001), lab.clock.now() + 20us);
  lab.net.inject(unreachable_quoting(kTarget, 40000), lab.clock.now() + 400us);
  lab.run();
  // None of them ended the trace at hop 1.
  EXPECT_EQ(lab.lines(),
            (std::vector<std::string>{"1 198.18.0.254 198.18.0.254 198.18.0.254", "2 * * *",
                                      "3 198.18.12.254 198.18.12.254 198.18.12.254",
                                      "4 198.18.13.2 198.18.13.2 198.18.13.2"}));
}

TEST(Traceroute, SendWaitSpacesTheProbes) {
  Lab lab;
  TraceConfig c = Lab::config();
  c.send_interval = 10ms;  // -z 10
  c.max_hops = 4;
  lab.run(c);
  // The ARP request, then the probes; ARP holds the first one 100 µs, so
  // the spacing is checked from the second one on.
  const auto& at = lab.net.sent_times();
  ASSERT_GE(at.size(), 13u);
  for (std::size_t i = 3; i < at.size(); ++i) EXPECT_GE(at[i] - at[i - 1], 10ms) << i;
  EXPECT_EQ(lab.lines().back(), "4 198.18.13.2 198.18.13.2 198.18.13.2");
}

TEST(Traceroute, AnnotationsAreTraceroutes) {
  EXPECT_EQ(annotation(icmpv4::Type::time_exceeded, 0, 0), std::nullopt);
  EXPECT_EQ(annotation(icmpv4::Type::time_exceeded, 1, 0), "!<11-1>");
  EXPECT_EQ(annotation(icmpv4::Type::dst_unreachable, 3, 0), "");
  EXPECT_EQ(annotation(icmpv4::Type::dst_unreachable, 4, 1280), "!F-1280");
  EXPECT_EQ(annotation(icmpv4::Type::dst_unreachable, 5, 0), "!S");
  EXPECT_EQ(annotation(icmpv4::Type::dst_unreachable, 15, 0), "!C");
  EXPECT_EQ(annotation(icmpv4::Type::param_problem, 0, 0), "!<12-0>");
}

}  // namespace
}  // namespace ersatz::trace
