// A Host that owns its address (HostConfig::own_address), as `ersatz serve`
// runs it: echo of any size and with options, protocol unreachable under
// Linux's error budget, broadcast echo ignored, and bounded state.
#include <gtest/gtest.h>

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
const Ipv4Address kUs(198, 18, 0, 50);
const Ipv4Address kPeer(198, 18, 0, 2);

Bytes frame(MacAddress dst, MacAddress src, wire::EtherType type, ConstBytes l3) {
  eth::Repr r;
  r.dst = dst;
  r.src = src;
  r.ethertype = type;
  Bytes f(r.buffer_len(l3.size()));
  r.emit(test::mb(f), l3.size());
  std::copy(l3.begin(), l3.end(), f.begin() + 14);
  return f;
}

Bytes datagram(Ipv4Address src, Ipv4Address dst, ipv4::Protocol proto, const Bytes& payload,
               const Bytes& options = {}, std::uint16_t ident = 7, std::size_t frag_offset = 0,
               bool more = false) {
  ipv4::Repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = proto;
  r.ttl = 64;
  r.ident = ident;
  r.options = cb(options);
  r.frag_offset = static_cast<std::uint16_t>(frag_offset);
  r.more_fragments = more;
  r.payload_len = payload.size();
  Bytes d(r.buffer_len());
  r.emit(test::mb(d));
  std::copy(payload.begin(), payload.end(),
            d.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
  return d;
}

Bytes echo_request(std::size_t data_len, std::uint16_t seq = 1) {
  Bytes data(data_len);
  for (std::size_t i = 0; i < data_len; ++i) data[i] = static_cast<std::byte>(i * 7);
  const auto r = icmpv4::Repr::echo_request(0x4242, seq, cb(data));
  Bytes b(r.buffer_len());
  r.emit(test::mb(b));
  return b;
}

class OwnedTest : public ::testing::Test {
 protected:
  OwnedTest() : host_(config()) { learn_peer(kPeer, kPeerMac); }
  static HostConfig config() {
    HostConfig c;
    c.mac = kOurMac;
    c.address = kUs;
    c.prefix_len = 24;
    c.own_address = true;
    return c;
  }
  /// The peer asks for our MAC, as a kernel does before its first ping.
  void learn_peer(Ipv4Address ip, MacAddress mac) {
    Bytes a(arp::Repr::buffer_len());
    arp::Repr{arp::Operation::request, mac, ip, {}, kUs}.emit(test::mb(a));
    host_.receive(cb(frame(MacAddress::broadcast(), mac, wire::EtherType::arp, cb(a))), {}, now_,
                  out_);
    out_.clear();
  }
  void receive_ip(const Bytes& d, MacAddress dst = kOurMac) {
    host_.receive(cb(frame(dst, kPeerMac, wire::EtherType::ipv4, cb(d))), ts_, now_, out_);
  }
  std::vector<Bytes> take() {
    std::vector<Bytes> v;
    for (std::size_t i = 0; i < out_.size(); ++i) v.emplace_back(out_[i].begin(), out_[i].end());
    out_.clear();
    return v;
  }
  static ipv4::Packet<> ip_of(const Bytes& f) {
    return *ipv4::Packet<>::checked(cb(f).subspan(14));
  }

  Host host_;
  MonoTime now_{std::chrono::seconds(1000)};
  Timestamp ts_{1'699'920'000 + 3600, 250'000'000};  // 01:00:00.250 UT
  Outbox out_;
};

TEST_F(OwnedTest, LargestFragmentedEchoIsAnsweredInFragments) {
  // 65507 data bytes: the largest echo (65535 - 20 - 8), in 1480-byte
  // fragments, last first to show that order does not matter.
  const Bytes msg = echo_request(65507);
  std::vector<Bytes> frags;
  for (std::size_t off = 0; off < msg.size(); off += 1480) {
    const std::size_t len = std::min<std::size_t>(1480, msg.size() - off);
    Bytes part(msg.begin() + static_cast<std::ptrdiff_t>(off),
               msg.begin() + static_cast<std::ptrdiff_t>(off + len));
    frags.push_back(
        datagram(kPeer, kUs, ipv4::Protocol::icmp, part, {}, 9, off, off + len < msg.size()));
  }
  for (auto it = frags.rbegin(); it != frags.rend(); ++it) receive_ip(*it);
  const auto sent = take();
  ASSERT_EQ(sent.size(), frags.size());
  Reassembler r;
  std::optional<std::vector<std::byte>> whole;
  for (const auto& f : sent) {
    EXPECT_LE(f.size(), 14u + 1500u);
    auto p = ip_of(f);
    EXPECT_EQ(p.src(), kUs);
    EXPECT_EQ(p.dst(), kPeer);
    auto o = r.add(p, now_);
    if (o.datagram) whole = std::move(o.datagram);
  }
  ASSERT_TRUE(whole);
  auto ip = *ipv4::Packet<>::checked(ConstBytes(whole->data(), whole->size()));
  auto reply = icmpv4::Repr::parse(*icmpv4::Packet<>::checked(ip.payload()));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, icmpv4::Type::echo_reply);
  EXPECT_EQ(reply->seq(), 1);
  EXPECT_TRUE(std::equal(reply->data.begin(), reply->data.end(), msg.begin() + 8, msg.end()));
  EXPECT_EQ(host_.answers().echo_replies, 1u);
}

TEST_F(OwnedTest, RecordRouteComesBackWithUsTwice) {
  // ping -R: the sender recorded itself in the first of nine slots.
  Bytes rr(39);
  rr[0] = std::byte{7};
  rr[1] = std::byte{39};
  rr[2] = std::byte{8};
  store_be32(test::mb(rr), 3, kPeer.value());
  rr.push_back(std::byte{0});  // EOL, to 40
  receive_ip(datagram(kPeer, kUs, ipv4::Protocol::icmp, echo_request(56), rr));
  const auto sent = take();
  ASSERT_EQ(sent.size(), 1u);
  auto p = ip_of(sent[0]);
  ipv4::OptionReader reader(p.options());
  auto o = reader.next();
  ASSERT_TRUE(o);
  ASSERT_EQ(o->type, ipv4::OptionType::rr);
  ASSERT_EQ(o->bytes.size(), 39u);
  EXPECT_EQ(o->pointer(), 16);  // three slots used
  EXPECT_EQ(load_be32(o->bytes, 3), kPeer.value());
  EXPECT_EQ(load_be32(o->bytes, 7), kUs.value());
  EXPECT_EQ(load_be32(o->bytes, 11), kUs.value());
  EXPECT_EQ(load_be32(o->bytes, 15), 0u);
}

TEST_F(OwnedTest, FullRecordRouteIsReturnedUnchanged) {
  Bytes rr{std::byte{7}, std::byte{7}, std::byte{8}, std::byte{1},
           std::byte{2}, std::byte{3}, std::byte{4}, std::byte{0}};
  receive_ip(datagram(kPeer, kUs, ipv4::Protocol::icmp, echo_request(8), rr));
  const auto sent = take();
  ASSERT_EQ(sent.size(), 1u);
  auto p = ip_of(sent[0]);
  EXPECT_TRUE(std::equal(rr.begin(), rr.begin() + 7, p.options().begin()));
}

TEST_F(OwnedTest, TimestampOptionsRecordTheTimeOfDay) {
  // ping -T tsonly: four 4-byte slots; tsandaddr: 8-byte slots.
  Bytes ts_only(20);
  ts_only[0] = std::byte{68};
  ts_only[1] = std::byte{20};
  ts_only[2] = std::byte{5};
  ts_only[3] = std::byte{0};
  receive_ip(datagram(kPeer, kUs, ipv4::Protocol::icmp, echo_request(8), ts_only));
  auto sent = take();
  ASSERT_EQ(sent.size(), 1u);
  auto p = ip_of(sent[0]);
  const std::uint32_t ms = 3600 * 1000 + 250;
  EXPECT_EQ(load_u8(p.options(), 2), 13);
  EXPECT_EQ(load_be32(p.options(), 4), ms);
  EXPECT_EQ(load_be32(p.options(), 8), ms);

  Bytes ts_addr(36);
  ts_addr[0] = std::byte{68};
  ts_addr[1] = std::byte{12};  // room for one pair only: the second overflows
  ts_addr[2] = std::byte{5};
  ts_addr[3] = std::byte{1};
  receive_ip(datagram(kPeer, kUs, ipv4::Protocol::icmp, echo_request(8), ts_addr));
  sent = take();
  ASSERT_EQ(sent.size(), 1u);
  p = ip_of(sent[0]);
  EXPECT_EQ(load_u8(p.options(), 2), 13);
  EXPECT_EQ(load_be32(p.options(), 4), kUs.value());
  EXPECT_EQ(load_be32(p.options(), 8), ms);
  EXPECT_EQ(load_u8(p.options(), 3), 0x11);  // one overflow, flag 1
}

TEST_F(OwnedTest, OtherProtocolsGetProtocolUnreachableUnderLinuxBudget) {
  Bytes udp(8 + 600, std::byte{0x55});
  const Bytes d = datagram(kPeer, kUs, ipv4::Protocol{17}, udp);
  receive_ip(d);
  auto sent = take();
  ASSERT_EQ(sent.size(), 1u);
  auto p = ip_of(sent[0]);
  EXPECT_EQ(p.src(), kUs);
  EXPECT_EQ(p.dst(), kPeer);
  EXPECT_LE(p.total_len(), 576u);  // RFC 1812 §4.3.2.3
  auto icmp = icmpv4::Repr::parse(*icmpv4::Packet<>::checked(p.payload()));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, icmpv4::Type::dst_unreachable);
  EXPECT_EQ(icmp->code, 2);
  EXPECT_EQ(icmp->data.size(), 576u - 28u);
  EXPECT_TRUE(std::equal(icmp->data.begin(), icmp->data.end(), d.begin()));

  // Burst of 6 per destination (XRLIM_BURST_FACTOR), then one a second.
  for (int i = 0; i < 20; ++i) receive_ip(d);
  EXPECT_EQ(take().size(), 5u);
  EXPECT_EQ(host_.drops()[DropReason::icmp_rate_limited], 15u);
  now_ += 999ms;
  receive_ip(d);
  EXPECT_TRUE(take().empty());
  now_ += 1ms;
  receive_ip(d);
  receive_ip(d);
  EXPECT_EQ(take().size(), 1u);
  EXPECT_EQ(host_.answers().protocol_unreachables, 7u);
}

TEST_F(OwnedTest, GlobalBudgetCapsErrorsToManyDestinations) {
  // 100 sources at once: icmp_msgs_burst (50) get an answer.
  std::size_t answered = 0;
  for (int i = 0; i < 100; ++i) {
    const Ipv4Address src(198, 18, 0, static_cast<std::uint8_t>(100 + i));
    learn_peer(src, kPeerMac);
    receive_ip(datagram(src, kUs, ipv4::Protocol{17}, Bytes(8)));
    answered += take().size();
  }
  EXPECT_EQ(answered, 50u);
}

TEST_F(OwnedTest, BroadcastEchoIsIgnored) {
  const Bytes req = echo_request(56);
  receive_ip(datagram(kPeer, Ipv4Address(255, 255, 255, 255), ipv4::Protocol::icmp, req),
             MacAddress::broadcast());
  receive_ip(datagram(kPeer, Ipv4Address(198, 18, 0, 255), ipv4::Protocol::icmp, req),
             MacAddress::broadcast());
  // Nor does a broadcast UDP datagram get an error.
  receive_ip(datagram(kPeer, Ipv4Address(198, 18, 0, 255), ipv4::Protocol{17}, Bytes(8)),
             MacAddress::broadcast());
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(host_.drops()[DropReason::icmp_echo_broadcast], 2u);
  EXPECT_EQ(host_.drops()[DropReason::ip_unknown_protocol], 1u);
  // The unicast one is answered.
  receive_ip(datagram(kPeer, kUs, ipv4::Protocol::icmp, req));
  EXPECT_EQ(take().size(), 1u);
}

TEST_F(OwnedTest, StateStaysBoundedUnderFloods) {
  // Echo and UDP from 5000 sources nobody has resolved, and first
  // fragments that never complete.
  for (int i = 0; i < 5000; ++i) {
    const Ipv4Address src(198, 18, static_cast<std::uint8_t>(10 + i / 250),
                          static_cast<std::uint8_t>(1 + i % 250));
    receive_ip(datagram(src, kUs, ipv4::Protocol::icmp, echo_request(56)));
    receive_ip(datagram(src, kUs, ipv4::Protocol{17}, Bytes(8)));
    receive_ip(datagram(src, kUs, ipv4::Protocol::icmp, echo_request(3000), {},
                        static_cast<std::uint16_t>(i), 0, true));
    out_.clear();
    now_ += 1ms;
  }
  EXPECT_LE(host_.neighbors().size(), NeighborConfig{}.capacity);
  EXPECT_LE(host_.icmp_errors().size(), IcmpRateLimitConfig{}.capacity);
  EXPECT_LE(host_.reassembler().in_progress(), ReassemblyConfig{}.max_datagrams);
  EXPECT_LE(host_.reassembler().bytes_held(), ReassemblyConfig{}.budget);
  EXPECT_GT(host_.drops()[DropReason::frag_budget], 0u);
}

}  // namespace
}  // namespace ersatz::stack
