// The stack driven through frames and a fake clock, no device, no privileges.
#include <gtest/gtest.h>

#include "ersatz/stack/echo.hpp"
#include "ersatz/stack/host.hpp"
#include "support.hpp"

namespace ersatz::stack {
namespace {

using namespace std::chrono_literals;
using test::Bytes;
using test::cb;
using wire::Ipv4Address;
using wire::MacAddress;
namespace arp = wire::arp;
namespace eth = wire::ethernet;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;

const MacAddress kOurMac({0x02, 0, 0, 0, 0, 0x01});
const MacAddress kPeerMac({0x02, 0, 0, 0, 0, 0x02});
const MacAddress kRouterMac({0x02, 0, 0, 0, 0, 0xfe});
const Ipv4Address kUs(198, 18, 0, 1);
const Ipv4Address kPeer(198, 18, 0, 2);
const Ipv4Address kRouter(198, 18, 0, 254);
const Ipv4Address kFar(198, 18, 1, 2);

Bytes frame(MacAddress dst, MacAddress src, wire::EtherType type, const Bytes& l3) {
  eth::Repr r;
  r.dst = dst;
  r.src = src;
  r.ethertype = type;
  Bytes f(r.buffer_len(l3.size()));
  r.emit(test::mb(f), l3.size());
  std::copy(l3.begin(), l3.end(), f.begin() + 14);
  return f;
}

Bytes arp_frame(arp::Operation op, MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa,
                MacAddress eth_dst) {
  Bytes a(arp::Repr::buffer_len());
  arp::Repr{op, sha, spa, tha, tpa}.emit(test::mb(a));
  return frame(eth_dst, sha, wire::EtherType::arp, a);
}

/// An IPv4 datagram around an ICMP message.
Bytes ip_datagram(Ipv4Address src, Ipv4Address dst, const Bytes& icmp, std::uint8_t ttl = 64,
                  const Bytes& options = {}) {
  ipv4::Repr r;
  r.src = src;
  r.dst = dst;
  r.ttl = ttl;
  r.options = cb(options);
  r.payload_len = icmp.size();
  Bytes d(r.buffer_len());
  r.emit(test::mb(d));
  std::copy(icmp.begin(), icmp.end(), d.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
  return d;
}

Bytes icmp_bytes(const icmpv4::Repr& r) {
  Bytes b(r.buffer_len());
  r.emit(test::mb(b));
  return b;
}

struct Recorder : IcmpListener {
  std::vector<IcmpDelivery> got;
  std::vector<std::pair<Ipv4Address, std::size_t>> failed;
  std::vector<NeighborActions::MacChanged> changed;
  void on_icmp(const IcmpDelivery& d) override { got.push_back(d); }
  void on_neighbor_failed(Ipv4Address ip, std::span<const Datagram> d) override {
    failed.emplace_back(ip, d.size());
  }
  void on_neighbor_changed(const NeighborActions::MacChanged& c) override { changed.push_back(c); }
};

class StackTest : public ::testing::Test {
 protected:
  HostConfig config() {
    HostConfig c;
    c.mac = kOurMac;
    c.address = kUs;
    c.prefix_len = 24;
    c.mtu = 1500;
    c.first_ident = 100;
    return c;
  }
  MonoTime t0{std::chrono::seconds(1000)};
  Outbox out;

  static ipv4::Repr echo_repr(Ipv4Address dst) {
    ipv4::Repr r;
    r.src = kUs;
    r.dst = dst;
    r.protocol = ipv4::Protocol::icmp;
    return r;
  }
  static eth::Repr eth_of(ConstBytes f) { return *eth::Repr::parse(*eth::Packet<>::checked(f)); }
  static ipv4::Packet<> ip_of(ConstBytes f) { return *ipv4::Packet<>::checked(f.subspan(14)); }
};

// ---------------------------------------------------------------- ARP

TEST_F(StackTest, FirstDatagramWaitsForArpThenLeaves) {
  Host host(config());
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0, out));
  ASSERT_EQ(out.size(), 1u);
  const auto& req = out[0];
  EXPECT_TRUE(eth_of(req).dst.is_broadcast());
  auto a = arp::Repr::parse(*arp::Packet<>::checked(cb(req).subspan(14)));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->operation, arp::Operation::request);
  EXPECT_EQ(a->target_ip, kPeer);
  EXPECT_EQ(a->source_ip, kUs);
  EXPECT_EQ(req.size(), 60u);  // padded to the Ethernet minimum
  out.clear();

  host.receive(cb(arp_frame(arp::Operation::reply, kPeerMac, kPeer, kOurMac, kUs, kOurMac)), {},
               t0 + 1ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(eth_of(out[0]).dst, kPeerMac);
  EXPECT_EQ(ip_of(out[0]).dst(), kPeer);
  EXPECT_EQ(ip_of(out[0]).ident(), 100);
  out.clear();

  // Resolved: the next datagram goes straight out, with its own id.
  ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0 + 2ms, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ip_of(out[0]).ident(), 101);
}

TEST_F(StackTest, ArpRetriesOncePerSecondThenFails) {
  Host host(config());
  Recorder rec;
  host.set_listener(&rec);
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0, out));
  EXPECT_EQ(out.size(), 1u);
  // Timers before the second are due do nothing.
  host.poll(t0 + 999ms, out);
  EXPECT_EQ(out.size(), 1u);
  ASSERT_TRUE(host.next_deadline());
  EXPECT_EQ(*host.next_deadline(), t0 + 1s);
  host.poll(t0 + 1s, out);
  host.poll(t0 + 2s, out);
  EXPECT_EQ(out.size(), 3u);  // three requests, 1 s apart
  EXPECT_TRUE(rec.failed.empty());
  host.poll(t0 + 3s, out);
  EXPECT_EQ(out.size(), 3u);
  ASSERT_EQ(rec.failed.size(), 1u);
  EXPECT_EQ(rec.failed[0].first, kPeer);
  EXPECT_EQ(rec.failed[0].second, 1u);
  EXPECT_EQ(host.drops()[DropReason::neighbor_failed], 1u);
  EXPECT_EQ(host.neighbors().find(kPeer)->state, NeighborState::failed);

  // Asked again and again (a ping every 200 ms to a dead host): requests
  // stay at most one per second (RFC 1122 §2.3.2.1).
  out.clear();
  for (auto t = t0 + 3s; t < t0 + 13s; t += 200ms) {
    ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t, out));
    host.poll(t, out);
  }
  EXPECT_GE(out.size(), 9u);
  EXPECT_LE(out.size(), 10u);
  EXPECT_GE(rec.failed.size(), 3u);
}

TEST_F(StackTest, QueueKeepsTheNewestDatagrams) {
  NeighborConfig n;
  n.queue_len = 2;
  Host host(config(), n);
  for (std::uint16_t seq = 1; seq <= 4; ++seq) {
    const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, seq, {}));
    ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0, out));
  }
  EXPECT_EQ(host.drops()[DropReason::neighbor_queue_full], 2u);
  out.clear();
  host.receive(cb(arp_frame(arp::Operation::reply, kPeerMac, kPeer, kOurMac, kUs, kOurMac)), {}, t0,
               out);
  ASSERT_EQ(out.size(), 2u);
  auto seq_of = [](ConstBytes f) {
    return icmpv4::Packet<>::checked(ipv4::Packet<>::checked(cb(f).subspan(14))->payload())->seq();
  };
  EXPECT_EQ(seq_of(out[0]), 3);
  EXPECT_EQ(seq_of(out[1]), 4);
}

TEST_F(StackTest, UnsolicitedArpDoesNotCreateEntries) {
  Host host(config());
  // A gratuitous ARP from a stranger, and a request for someone else.
  host.receive(cb(arp_frame(arp::Operation::reply, kPeerMac, kPeer, MacAddress::broadcast(), kPeer,
                            MacAddress::broadcast())),
               {}, t0, out);
  host.receive(
      cb(arp_frame(arp::Operation::request, kPeerMac, kPeer, {}, kRouter, MacAddress::broadcast())),
      {}, t0, out);
  EXPECT_EQ(host.neighbors().size(), 0u);
  // A request for us does (RFC 826: we are the target).
  host.receive(
      cb(arp_frame(arp::Operation::request, kPeerMac, kPeer, {}, kUs, MacAddress::broadcast())), {},
      t0, out);
  ASSERT_NE(host.neighbors().find(kPeer), nullptr);
  EXPECT_EQ(host.neighbors().find(kPeer)->mac, kPeerMac);
  // Ersatz shares the kernel's address here, so it does not answer.
  EXPECT_TRUE(out.empty());
}

TEST_F(StackTest, KnownNeighbourMacChangeIsReportedOnceAndNotBelieved) {
  Host host(config());
  Recorder rec;
  host.set_listener(&rec);
  host.receive(
      cb(arp_frame(arp::Operation::request, kPeerMac, kPeer, {}, kUs, MacAddress::broadcast())), {},
      t0, out);
  const MacAddress other({0x02, 0, 0, 0, 0, 0x66});
  for (int i = 0; i < 3; ++i) {
    host.receive(cb(arp_frame(arp::Operation::reply, other, kPeer, kOurMac, kUs, kOurMac)), {},
                 t0 + 2s, out);
  }
  ASSERT_EQ(rec.changed.size(), 1u);
  EXPECT_EQ(rec.changed[0].from, kPeerMac);
  EXPECT_EQ(rec.changed[0].to, other);
  EXPECT_FALSE(rec.changed[0].accepted);
  // Kept, but to be checked again at its next use.
  EXPECT_EQ(host.neighbors().find(kPeer)->mac, kPeerMac);
  EXPECT_EQ(host.neighbors().find(kPeer)->state, NeighborState::stale);
  out.clear();
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0 + 3s, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(eth_of(out[0]).dst, kPeerMac);  // the datagram still goes to the known MAC
  EXPECT_EQ(eth_of(out[1]).dst, kPeerMac);  // and so does the unicast check
  // A reply to that check from a new MAC is believed (the neighbour moved).
  host.receive(cb(arp_frame(arp::Operation::reply, other, kPeer, kOurMac, kUs, kOurMac)), {},
               t0 + 3s + 1ms, out);
  EXPECT_EQ(host.neighbors().find(kPeer)->mac, other);
  EXPECT_EQ(host.neighbors().find(kPeer)->state, NeighborState::reachable);
}

TEST_F(StackTest, GratuitousArpDoesNotAnswerOurRequest) {
  Host host(config());
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  ASSERT_TRUE(host.send(echo_repr(kFar), cb(payload), kRouter, t0, out));  // asks for the gateway
  out.clear();
  const MacAddress stranger({0x02, 0x66, 0, 0, 0, 0x66});
  // A gratuitous claim of the gateway's address races the real answer.
  host.receive(cb(arp_frame(arp::Operation::reply, stranger, kRouter, MacAddress::broadcast(),
                            kRouter, MacAddress::broadcast())),
               {}, t0 + 1us, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(host.neighbors().find(kRouter)->state, NeighborState::incomplete);
  host.receive(cb(arp_frame(arp::Operation::reply, kRouterMac, kRouter, kOurMac, kUs, kOurMac)), {},
               t0 + 2us, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(eth_of(out[0]).dst, kRouterMac);
}

TEST_F(StackTest, GratuitousArpSpoofingTheGatewayDoesNotRedirect) {
  Host host(config());
  host.receive(cb(arp_frame(arp::Operation::reply, kRouterMac, kRouter, kOurMac, kUs, kOurMac)), {},
               t0, out);
  // The gateway is known first (an entry is created only by ARP to us).
  ASSERT_NE(host.neighbors().find(kRouter), nullptr);
  const MacAddress stranger({0x02, 0x66, 0, 0, 0, 0x66});
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  int checks = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto now = t0 + std::chrono::milliseconds(i);
    // Gratuitous requests and replies (sender = target = the gateway).
    const auto op = i % 2 == 0 ? arp::Operation::request : arp::Operation::reply;
    host.receive(cb(arp_frame(op, stranger, kRouter, MacAddress::broadcast(), kRouter,
                              MacAddress::broadcast())),
                 {}, now, out);
    out.clear();
    ASSERT_TRUE(host.send(echo_repr(kFar), cb(payload), kRouter, now, out));
    bool checked = false;
    for (std::size_t k = 0; k < out.size(); ++k) {
      EXPECT_EQ(eth_of(out[k]).dst, kRouterMac) << i;
      checked = checked || eth_of(out[k]).ethertype == wire::EtherType::arp;
    }
    out.clear();
    // The real gateway answers our unicast checks (at most one a second).
    if (checked) {
      ++checks;
      host.receive(cb(arp_frame(arp::Operation::reply, kRouterMac, kRouter, kOurMac, kUs, kOurMac)),
                   {}, now, out);
    }
  }
  EXPECT_EQ(host.neighbors().find(kRouter)->mac, kRouterMac);
  EXPECT_GE(checks, 1);
  EXPECT_LE(checks, 2);  // 2 s of spoofing: one check a second at most
}

TEST_F(StackTest, TableIsBoundedUnderFloods) {
  NeighborConfig n;
  n.capacity = 16;
  Host host(config(), n);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const Ipv4Address src(0xc6120000U + 10 + i);
    host.receive(
        cb(arp_frame(arp::Operation::request, kPeerMac, src, {}, kUs, MacAddress::broadcast())), {},
        t0, out);
  }
  EXPECT_EQ(host.neighbors().size(), 16u);
}

TEST_F(StackTest, ArpFloodDoesNotEvictTheGateway) {
  NeighborConfig n;
  n.capacity = 16;
  Host host(config(), n);
  host.receive(cb(arp_frame(arp::Operation::reply, kRouterMac, kRouter, kOurMac, kUs, kOurMac)), {},
               t0, out);
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  ASSERT_TRUE(host.send(echo_repr(kFar), cb(payload), kRouter, t0, out));  // in use
  out.clear();
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const Ipv4Address src(0xc6124000U + i);
    host.receive(
        cb(arp_frame(arp::Operation::request, kPeerMac, src, {}, kUs, MacAddress::broadcast())), {},
        t0 + 1s, out);
  }
  EXPECT_EQ(host.neighbors().size(), 16u);
  ASSERT_NE(host.neighbors().find(kRouter), nullptr);
  out.clear();
  ASSERT_TRUE(host.send(echo_repr(kFar), cb(payload), kRouter, t0 + 1s, out));
  ASSERT_EQ(out.size(), 1u);  // straight out, no new ARP
  EXPECT_EQ(eth_of(out[0]).dst, kRouterMac);
}

TEST_F(StackTest, StaleEntryIsProbedByUnicast) {
  Host host(config());
  host.receive(
      cb(arp_frame(arp::Operation::request, kPeerMac, kPeer, {}, kUs, MacAddress::broadcast())), {},
      t0, out);
  host.poll(t0 + 31s, out);  // REACHABLE → STALE
  EXPECT_EQ(host.neighbors().find(kPeer)->state, NeighborState::stale);
  const Bytes payload = icmp_bytes(icmpv4::Repr::echo_request(1, 1, {}));
  ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0 + 32s, out));
  ASSERT_EQ(out.size(), 2u);
  // The datagram still leaves, and the probe goes to the cached MAC.
  EXPECT_EQ(eth_of(out[0]).ethertype, wire::EtherType::ipv4);
  EXPECT_EQ(eth_of(out[1]).ethertype, wire::EtherType::arp);
  EXPECT_EQ(eth_of(out[1]).dst, kPeerMac);
}

TEST_F(StackTest, OwnAddressAnswersArpAndEcho) {
  HostConfig c = config();
  c.own_address = true;
  Host host(c);
  host.receive(
      cb(arp_frame(arp::Operation::request, kPeerMac, kPeer, {}, kUs, MacAddress::broadcast())), {},
      t0, out);
  ASSERT_EQ(out.size(), 1u);
  auto a = arp::Repr::parse(*arp::Packet<>::checked(cb(out[0]).subspan(14)));
  EXPECT_EQ(a->operation, arp::Operation::reply);
  EXPECT_EQ(a->source_hw, kOurMac);
  EXPECT_EQ(a->target_ip, kPeer);
  out.clear();

  const Bytes data = test::from_hex("0102030405");
  const Bytes req = ip_datagram(kPeer, kUs, icmp_bytes(icmpv4::Repr::echo_request(7, 9, cb(data))));
  host.receive(cb(frame(kOurMac, kPeerMac, wire::EtherType::ipv4, req)), {}, t0, out);
  ASSERT_EQ(out.size(), 1u);
  auto ip = ip_of(out[0]);
  EXPECT_EQ(ip.src(), kUs);
  EXPECT_EQ(ip.dst(), kPeer);
  auto reply = icmpv4::Repr::parse(*icmpv4::Packet<>::checked(ip.payload()));
  ASSERT_TRUE(reply);  // checksum verified
  EXPECT_EQ(reply->type, icmpv4::Type::echo_reply);
  EXPECT_EQ(reply->ident(), 7);
  EXPECT_EQ(reply->seq(), 9);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), reply->data.begin(), reply->data.end()));
}

// ---------------------------------------------------------------- IPv4 in

TEST_F(StackTest, InputValidationDropsWithReasons) {
  Host host(config());
  Recorder rec;
  host.set_listener(&rec);
  const Bytes icmp = icmp_bytes(icmpv4::Repr::echo_reply(1, 1, {}));
  auto deliver = [&](const Bytes& f) { host.receive(cb(f), {}, t0, out); };

  Bytes bad_sum = ip_datagram(kPeer, kUs, icmp);
  bad_sum[10] ^= std::byte{1};
  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4, bad_sum));
  EXPECT_EQ(host.drops()[DropReason::ip_bad_checksum], 1u);

  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4,
                ip_datagram(Ipv4Address(127, 0, 0, 1), kUs, icmp)));
  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4,
                ip_datagram(Ipv4Address(224, 0, 0, 1), kUs, icmp)));
  EXPECT_EQ(host.drops()[DropReason::ip_martian_source], 2u);

  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4, ip_datagram(kPeer, kRouter, icmp)));
  EXPECT_EQ(host.drops()[DropReason::ip_not_for_us], 1u);

  deliver(frame(MacAddress::broadcast(), kPeerMac, wire::EtherType::ipv4,
                ip_datagram(kPeer, kUs, icmp)));
  EXPECT_EQ(host.drops()[DropReason::ip_link_broadcast], 1u);

  deliver(frame(kPeerMac, kRouterMac, wire::EtherType::ipv4, ip_datagram(kPeer, kUs, icmp)));
  EXPECT_EQ(host.drops()[DropReason::eth_not_for_us], 1u);

  Bytes v6 = ip_datagram(kPeer, kUs, icmp);
  v6[0] = std::byte{0x65};
  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4, v6));
  EXPECT_EQ(host.drops()[DropReason::ip_bad_version], 1u);

  Bytes cut = ip_datagram(kPeer, kUs, icmp);
  store_be16(test::mb(cut), 2, 200);
  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4, cut));
  EXPECT_EQ(host.drops()[DropReason::ip_truncated], 1u);

  EXPECT_TRUE(rec.got.empty());
  // And a good one arrives, its Ethernet padding ignored.
  deliver(frame(kOurMac, kPeerMac, wire::EtherType::ipv4, ip_datagram(kPeer, kUs, icmp, 63)));
  ASSERT_EQ(rec.got.size(), 1u);
  EXPECT_EQ(rec.got[0].ttl, 63);
  EXPECT_EQ(rec.got[0].message.bytes().size(), 8u);
  EXPECT_TRUE(rec.got[0].checksum_ok);
}

// ---------------------------------------------------------------- fragments

TEST_F(StackTest, FragmentsLargeDatagramsAndHonoursDf) {
  Host host(config());
  host.receive(
      cb(arp_frame(arp::Operation::request, kPeerMac, kPeer, {}, kUs, MacAddress::broadcast())), {},
      t0, out);
  const Bytes payload(3008, std::byte{0x5a});
  ASSERT_TRUE(host.send(echo_repr(kPeer), cb(payload), kPeer, t0, out));
  ASSERT_EQ(out.size(), 3u);
  std::size_t total = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    auto ip = ip_of(out[i]);
    EXPECT_EQ(ip.frag_offset(), total);
    EXPECT_EQ(ip.more_fragments(), i < 2);
    EXPECT_LE(ip.total_len(), 1500);
    EXPECT_TRUE(ip.verify_checksum());
    EXPECT_EQ(ip.ident(), 100);
    total += ip.payload().size();
  }
  EXPECT_EQ(total, 3008u);
  EXPECT_EQ(ip_of(out[0]).total_len(), 1500);

  ipv4::Repr df = echo_repr(kPeer);
  df.dont_fragment = true;
  EXPECT_EQ(host.send(df, cb(payload), kPeer, t0, out).error(), std::errc::message_size);
}

TEST_F(StackTest, FragmentationNeededTeachesThePathMtu) {
  Host host(config());
  host.receive(
      cb(arp_frame(arp::Operation::request, kRouterMac, kRouter, {}, kUs, MacAddress::broadcast())),
      {}, t0, out);
  out.clear();
  // What we sent to kFar, as a router quotes it (header and 8 bytes).
  const Bytes probe = ip_datagram(kUs, kFar, icmp_bytes(icmpv4::Repr::echo_request(7, 1, {})));
  const Bytes quote(probe.begin(), probe.begin() + 28);
  auto frag_needed = [&](Ipv4Address about_src, std::uint16_t mtu) {
    Bytes q = quote;
    store_be32(test::mb(q), 12, about_src.value());
    return frame(kOurMac, kRouterMac, wire::EtherType::ipv4,
                 ip_datagram(kRouter, kUs,
                             icmp_bytes(icmpv4::Repr::dst_unreachable(
                                 icmpv4::Unreachable::frag_needed, cb(q), mtu))));
  };
  // About a datagram someone else sent: ignored.
  host.receive(cb(frag_needed(kPeer, 1000)), {}, t0, out);
  EXPECT_EQ(host.path_mtu(kFar, t0), 1500u);
  host.receive(cb(frag_needed(kUs, 1280)), {}, t0, out);
  EXPECT_EQ(host.path_mtu(kFar, t0 + 1s), 1280u);
  EXPECT_EQ(host.path_mtu(kPeer, t0 + 1s), 1500u);  // only that destination

  const Bytes payload(1400, std::byte{0x5a});
  ipv4::Repr df = echo_repr(kFar);
  df.dont_fragment = true;
  EXPECT_EQ(host.send(df, cb(payload), kRouter, t0 + 1s, out).error(), std::errc::message_size);
  ASSERT_TRUE(host.send(echo_repr(kFar), cb(payload), kRouter, t0 + 1s, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(ip_of(out[0]).total_len(), 1276);  // 20 + 1256, a multiple of 8
  // Ten minutes later the link's MTU holds again.
  EXPECT_EQ(host.path_mtu(kFar, t0 + 601s), 1500u);
}

class ReassemblyTest : public StackTest {
 protected:
  /// The fragments of one datagram, as Host::send cuts them.
  std::vector<Bytes> fragments(std::size_t len, std::size_t mtu = 1500, std::uint8_t fill = 0) {
    HostConfig c = config();
    c.mtu = mtu;
    c.address = kPeer;
    Host sender(c);
    Outbox o;
    sender.receive(
        cb(arp_frame(arp::Operation::request, kOurMac, kUs, {}, kPeer, MacAddress::broadcast())),
        {}, t0, o);
    Bytes icmp = icmp_bytes(icmpv4::Repr::echo_reply(1, 1, {}));
    icmp.resize(len, std::byte{fill});
    icmp[2] = icmp[3] = std::byte{0};
    store_be16(test::mb(icmp), 2, wire::checksum::compute(cb(icmp)));
    ipv4::Repr r;
    r.src = kPeer;
    r.dst = kUs;
    EXPECT_TRUE(sender.send(r, cb(icmp), kUs, t0, o));
    std::vector<Bytes> frames;
    for (std::size_t i = 0; i < o.size(); ++i) frames.emplace_back(o[i].begin(), o[i].end());
    return frames;
  }
};

TEST_F(ReassemblyTest, InAnyOrderWithDuplicates) {
  Host host(config());
  Recorder rec;
  host.set_listener(&rec);
  auto f = fragments(3008);
  ASSERT_EQ(f.size(), 3u);
  for (int i : {2, 0, 2, 1}) host.receive(cb(f[static_cast<std::size_t>(i)]), {}, t0, out);
  ASSERT_EQ(rec.got.size(), 1u);
  EXPECT_EQ(rec.got[0].message.bytes().size(), 3008u);
  EXPECT_TRUE(rec.got[0].checksum_ok);
  EXPECT_EQ(host.drops().total(), 0u);
}

TEST_F(ReassemblyTest, OverlapDropsTheDatagram) {
  Host host(config());
  Recorder rec;
  host.set_listener(&rec);
  auto f = fragments(3008);
  // Shift the second fragment back by 8 bytes: it now overlaps the first.
  Bytes evil = f[1];
  MutBytes ip = test::mb(evil).subspan(14);
  store_be16(ip, 6, static_cast<std::uint16_t>(load_be16(ip, 6) - 1));
  store_be16(ip, 10, 0);
  store_be16(ip, 10, wire::checksum::compute(ip.first(20)));
  host.receive(cb(f[0]), {}, t0, out);
  host.receive(cb(evil), {}, t0, out);
  EXPECT_EQ(host.drops()[DropReason::frag_overlap], 1u);
  host.receive(cb(f[1]), {}, t0, out);
  host.receive(cb(f[2]), {}, t0, out);
  EXPECT_TRUE(rec.got.empty());  // the first fragment went with the datagram
}

TEST_F(ReassemblyTest, TimesOutAfterThirtySeconds) {
  Host host(config());
  Recorder rec;
  host.set_listener(&rec);
  auto f = fragments(3008);
  host.receive(cb(f[0]), {}, t0, out);
  host.poll(t0 + 29s, out);
  EXPECT_EQ(host.drops()[DropReason::frag_timeout], 0u);
  host.poll(t0 + 30s, out);
  EXPECT_EQ(host.drops()[DropReason::frag_timeout], 1u);
  host.receive(cb(f[1]), {}, t0 + 30s, out);
  host.receive(cb(f[2]), {}, t0 + 30s, out);
  EXPECT_TRUE(rec.got.empty());
}

TEST_F(ReassemblyTest, MemoryBudgetIsEnforced) {
  ReassemblyConfig rc;
  rc.budget = 4000;
  Host host(config(), {}, rc);
  Recorder rec;
  host.set_listener(&rec);
  auto big = fragments(8000);
  for (const auto& f : big) host.receive(cb(f), {}, t0, out);
  EXPECT_GE(host.drops()[DropReason::frag_budget], 1u);
  EXPECT_TRUE(rec.got.empty());
  // A datagram within budget still gets through afterwards.
  for (const auto& f : fragments(3000)) host.receive(cb(f), {}, t0, out);
  EXPECT_EQ(rec.got.size(), 1u);
}

TEST_F(ReassemblyTest, RejectsDatagramsPast65535) {
  Reassembler r;
  Bytes d = ip_datagram(kPeer, kUs, Bytes(16, std::byte{1}));
  MutBytes b = test::mb(d);
  store_be16(b, 6, static_cast<std::uint16_t>(65528 / 8));  // offset 65528 + 16 bytes
  store_be16(b, 10, 0);
  store_be16(b, 10, wire::checksum::compute(b.first(20)));
  auto outcome = r.add(*ipv4::Packet<>::checked(cb(d)), t0);
  EXPECT_EQ(outcome.dropped, DropReason::frag_too_big);
}

// ---------------------------------------------------------------- echo

class EchoTest : public StackTest {
 protected:
  EchoConfig echo_config() {
    EchoConfig c;
    c.source = kUs;
    c.target = kFar;
    c.ident = 0x4242;
    c.cookie = 0x0123456789abcdefULL;
    return c;
  }
  /// The reply a well-behaved target sends to `request`.
  static Bytes reply_to(ConstBytes request) {
    Bytes m(request.begin(), request.end());
    m[0] = std::byte{0};
    m[2] = m[3] = std::byte{0};
    store_be16(test::mb(m), 2, wire::checksum::compute(cb(m)));
    return m;
  }
  IcmpDelivery delivery(Ipv4Address from, const Bytes& msg, Timestamp ts, std::uint8_t ttl = 63) {
    return IcmpDelivery{ts,
                        from,
                        kUs,
                        ttl,
                        0,
                        {},
                        *icmpv4::Packet<>::checked(cb(msg)),
                        wire::checksum::verify(cb(msg))};
  }
};

TEST_F(EchoTest, RestampMovesTheDepartureButNotThePayload) {
  EchoSession s(echo_config());
  const Bytes req = [&] {
    const ConstBytes m = s.request(1, Timestamp{100, 0});
    return Bytes(m.begin(), m.end());
  }();
  s.restamp(1, Timestamp{100, 40'000});
  s.on_icmp(delivery(kFar, reply_to(cb(req)), Timestamp{100, 250'000}));
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<EchoReply>(ev[0]).rtt, std::chrono::nanoseconds(210'000));
  // The timeval in the payload (little-endian, after the 8-byte header)
  // still says 100.000000 s.
  EXPECT_EQ(load_le32(cb(req), 8), 100u);
  EXPECT_EQ(load_le32(cb(req), 16), 0u);
}

TEST_F(EchoTest, MatchesRepliesAndMeasuresFromOurClock) {
  EchoSession s(echo_config());
  const ConstBytes req = s.request(1, Timestamp{100, 0});
  EXPECT_EQ(req.size(), 64u);
  const Bytes rep = reply_to(req);
  s.on_icmp(delivery(kFar, rep, Timestamp{100, 250'000}));
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& r = std::get<EchoReply>(ev[0]);
  EXPECT_EQ(r.seq, 1);
  EXPECT_EQ(r.ttl, 63);
  EXPECT_EQ(r.icmp_len, 64u);
  EXPECT_EQ(r.rtt, std::chrono::nanoseconds(250'000));
  EXPECT_FALSE(r.duplicate);
  EXPECT_FALSE(r.wrong_byte);
  EXPECT_TRUE(s.answered(1));
  // The same reply again is a duplicate.
  s.on_icmp(delivery(kFar, rep, Timestamp{100, 300'000}));
  ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::get<EchoReply>(ev[0]).duplicate);
}

TEST_F(EchoTest, IgnoresForeignAndSpoofedReplies) {
  EchoSession s(echo_config());
  const Bytes rep = reply_to(s.request(1, Timestamp{100, 0}));
  s.on_icmp(delivery(kPeer, rep, {}));  // wrong source
  Bytes other_ping = rep;               // another ping's identifier
  store_be16(test::mb(other_ping), 4, 0x4243);
  s.on_icmp(delivery(kFar, other_ping, {}));
  Bytes spoofed = rep;  // right id and seq, wrong cookie
  spoofed[8 + 16] ^= std::byte{1};
  s.on_icmp(delivery(kFar, spoofed, {}));
  Bytes unsent = rep;  // a sequence number never sent
  store_be16(test::mb(unsent), 6, 2);
  s.on_icmp(delivery(kFar, unsent, {}));
  EXPECT_TRUE(s.take_events().empty());
  EXPECT_FALSE(s.answered(1));
}

TEST_F(EchoTest, ABroadcastPingTakesRepliesFromItsHosts) {
  // ping -b: the hosts of the subnet answer from their own addresses, and
  // a second host's answer to the same probe is a duplicate.
  EchoConfig c = echo_config();
  c.any_source = true;
  EchoSession s(c);
  const Bytes rep = reply_to(s.request(1, Timestamp{100, 0}));
  s.on_icmp(delivery(kPeer, rep, Timestamp{100, 100'000}));
  s.on_icmp(delivery(kFar, rep, Timestamp{100, 200'000}));
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<EchoReply>(ev[0]).from, kPeer);
  EXPECT_FALSE(std::get<EchoReply>(ev[0]).duplicate);
  EXPECT_EQ(std::get<EchoReply>(ev[1]).from, kFar);
  EXPECT_TRUE(std::get<EchoReply>(ev[1]).duplicate);
}

TEST_F(EchoTest, ReportsWrongDataAndBadChecksum) {
  EchoSession s(echo_config());
  Bytes rep = reply_to(s.request(1, Timestamp{100, 0}));
  rep[8 + 30] = std::byte{0xee};
  s.on_icmp(delivery(kFar, rep, {}));  // checksum now wrong too
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& r = std::get<EchoReply>(ev[0]);
  EXPECT_TRUE(r.bad_checksum);
  ASSERT_TRUE(r.wrong_byte);
  EXPECT_EQ(r.wrong_byte->index, 30u);
  EXPECT_EQ(r.wrong_byte->expected, 30);
  EXPECT_EQ(r.wrong_byte->got, 0xee);
}

/// An ICMP error from `router` quoting our probe, whose quoted header may
/// carry options (so its IHL differs from the outer one).
Bytes error_quoting(ConstBytes probe, const Bytes& quoted_options = {}) {
  const Bytes quoted = ip_datagram(kUs, kFar, Bytes(probe.begin(), probe.end()), 1, quoted_options);
  const std::size_t qhl = 20 + quoted_options.size();
  const Bytes quote(quoted.begin(), quoted.begin() + static_cast<std::ptrdiff_t>(qhl + 8));
  return icmp_bytes(icmpv4::Repr::time_exceeded(icmpv4::TimeExceeded::ttl, cb(quote)));
}

TEST_F(EchoTest, MapsErrorsThroughTheQuoteWithItsOwnIhl) {
  EchoSession s(echo_config());
  const ConstBytes req = s.request(5, Timestamp{100, 0});
  const Bytes probe(req.begin(), req.end());
  s.on_icmp(delivery(kRouter, error_quoting(cb(probe)), {}));
  s.on_icmp(delivery(kRouter, error_quoting(cb(probe), Bytes(40, std::byte{1})),
                     {}));  // NOP×40 in the quote
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 2u);
  for (const auto& e : ev) {
    const auto& err = std::get<EchoError>(e);
    EXPECT_EQ(err.seq, 5);
    EXPECT_EQ(err.from, kRouter);
    EXPECT_EQ(err.type, icmpv4::Type::time_exceeded);
  }
}

TEST_F(EchoTest, HostileQuotesAreDroppedSafely) {
  EchoSession s(echo_config());
  const ConstBytes req = s.request(5, Timestamp{100, 0});
  const Bytes probe(req.begin(), req.end());
  Bytes low_ihl = error_quoting(cb(probe));
  low_ihl[8] = std::byte{0x44};  // quoted IHL 4
  Bytes cut = error_quoting(cb(probe), Bytes(40, std::byte{1}));
  cut.resize(8 + 60 + 4);  // quoted IHL 15, its ICMP header cut in half
  store_be16(test::mb(cut), 2, 0);
  for (const Bytes* m : {&low_ihl, &cut}) {
    s.on_icmp(delivery(kRouter, *m, {}));
  }
  EXPECT_TRUE(s.take_events().empty());
}

TEST_F(EchoTest, NeighbourFailureNamesTheProbe) {
  Host host(config());
  EchoConfig c = echo_config();
  c.target = kPeer;
  EchoSession s(c);
  host.set_listener(&s);
  ipv4::Repr r = echo_repr(kPeer);
  ASSERT_TRUE(host.send(r, s.request(1, Timestamp{}), kPeer, t0, out));
  for (auto t = t0; t <= t0 + 3s; t += 1s) host.poll(t, out);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<EchoNeighborFailed>(ev[0]).seq, 1);
}

}  // namespace
}  // namespace ersatz::stack

// ---------------------------------------------------------------- path MTU

namespace ersatz::stack {
namespace {

using namespace std::chrono_literals;

TEST(PathMtu, LearnsLowersExpiresAndKeepsTheFloor) {
  PathMtuCache c;
  const MonoTime t0{};
  const wire::Ipv4Address far(198, 18, 1, 2);
  EXPECT_FALSE(c.lookup(far, t0));
  c.learn(far, 1280, t0);
  EXPECT_EQ(c.lookup(far, t0 + 1s), std::optional<std::size_t>(1280));
  // A larger value never raises it (RFC 1191 §6.3); a smaller one lowers it.
  c.learn(far, 1400, t0 + 2s);
  EXPECT_EQ(c.lookup(far, t0 + 2s), std::optional<std::size_t>(1280));
  c.learn(far, 1000, t0 + 3s);
  EXPECT_EQ(c.lookup(far, t0 + 3s), std::optional<std::size_t>(1000));
  // Linux's min_pmtu: nothing below 552.
  c.learn(far, 300, t0 + 4s);
  EXPECT_EQ(c.lookup(far, t0 + 4s), std::optional<std::size_t>(552));
  // Ten minutes after the last word about it, it is forgotten.
  EXPECT_TRUE(c.lookup(far, t0 + 4s + 599s));
  EXPECT_FALSE(c.lookup(far, t0 + 4s + 600s));
}

TEST(PathMtu, IsBounded) {
  PathMtuCache c(PathMtuConfig{.capacity = 4});
  for (std::uint8_t i = 1; i <= 10; ++i)
    c.learn(wire::Ipv4Address(198, 18, 1, i), 1280, MonoTime(std::chrono::seconds(i)));
  EXPECT_EQ(c.size(), 4u);
  // The oldest went first.
  EXPECT_FALSE(c.lookup(wire::Ipv4Address(198, 18, 1, 1), MonoTime(10s)));
  EXPECT_TRUE(c.lookup(wire::Ipv4Address(198, 18, 1, 10), MonoTime(10s)));
}

}  // namespace
}  // namespace ersatz::stack
