#include "ersatz/wire/ethernet.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

TEST(Ethernet, DeconstructsGoldenFrame) {
  const auto g = test::golden("icmp_echo_request");
  auto p = ethernet::Packet<>::checked(cb(g.frame));
  ASSERT_TRUE(p);
  EXPECT_EQ(fmt::format("{}", p->src()), "02:e5:00:00:00:01");
  EXPECT_EQ(fmt::format("{}", p->dst()), "02:e5:00:00:00:fe");
  EXPECT_EQ(p->ethertype(), EtherType::ipv4);
  EXPECT_EQ(p->payload().size(), g.frame.size() - ethernet::header_len);
}

TEST(Ethernet, EmitReproducesGoldenHeaders) {
  for (const char* name : {"icmp_echo_request", "arp_request", "vlan42_icmp_echo_request"}) {
    const auto g = test::golden(name);
    auto repr = ethernet::Repr::parse(*ethernet::Packet<>::checked(cb(g.frame)));
    ASSERT_TRUE(repr) << name;
    const std::size_t payload_len = g.frame.size() - repr->header_len();
    Bytes out = test::poisoned(repr->buffer_len(payload_len));
    ASSERT_EQ(out.size(), std::max<std::size_t>(60, g.frame.size())) << name;
    repr->emit(mb(out), payload_len);
    std::copy(g.frame.begin() + static_cast<std::ptrdiff_t>(repr->header_len()), g.frame.end(),
              out.begin() + static_cast<std::ptrdiff_t>(repr->header_len()));
    // veth does not pad short frames; emit does, with zeros.
    EXPECT_TRUE(std::equal(g.frame.begin(), g.frame.end(), out.begin())) << name;
    for (std::size_t i = g.frame.size(); i < out.size(); ++i)
      EXPECT_EQ(out[i], std::byte{0}) << name;
  }
}

TEST(Ethernet, ParsesRealVlanTag) {
  const auto g = test::golden("vlan42_icmp_echo_request");
  auto repr = ethernet::Repr::parse(*ethernet::Packet<>::checked(cb(g.frame)));
  ASSERT_TRUE(repr);
  ASSERT_EQ(repr->tag_count, 1);
  EXPECT_EQ(repr->tags[0].vid, 42);
  EXPECT_EQ(repr->tags[0].pcp, 0);
  EXPECT_EQ(repr->tags[0].tpid, EtherType::vlan);
  EXPECT_EQ(repr->ethertype, EtherType::ipv4);
  EXPECT_EQ(repr->header_len(), 18u);
}

TEST(Ethernet, StackedTagsRoundTrip) {
  ethernet::Repr r;
  r.src = *MacAddress::parse("02:00:00:00:00:01");
  r.dst = MacAddress::broadcast();
  r.tags[0] = {EtherType::qinq, 5, true, 100};
  r.tags[1] = {EtherType::vlan, 3, false, 4095};
  r.tag_count = 2;
  r.ethertype = EtherType{0x88b5};  // an unknown type must survive
  Bytes out = test::poisoned(r.buffer_len(10));
  r.emit(mb(out), 10);
  EXPECT_EQ(out.size(), 60u);
  const Bytes expect_hdr = test::from_hex("ffffffffffff 020000000001 88a8 b064 8100 6fff 88b5");
  EXPECT_TRUE(std::equal(expect_hdr.begin(), expect_hdr.end(), out.begin()));
  auto back = ethernet::Repr::parse(*ethernet::Packet<>::checked(cb(out)));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
}

TEST(Ethernet, Errors) {
  const Bytes short_frame(13);
  EXPECT_EQ(ethernet::Packet<>::checked(cb(short_frame)).error(), Error::truncated);
  // A tag announced but cut short.
  const Bytes cut = test::from_hex("ffffffffffff 020000000001 8100 00");
  auto r = ethernet::Repr::parse(*ethernet::Packet<>::checked(cb(cut)));
  EXPECT_EQ(r.error(), Error::truncated);
  // Five stacked tags exceed max_tags.
  Bytes five = test::from_hex("ffffffffffff 020000000001 8100");
  for (int i = 0; i < 5; ++i) {
    const Bytes tag = test::from_hex(i < 4 ? "0001 8100" : "0001 0800");
    five.insert(five.end(), tag.begin(), tag.end());
  }
  r = ethernet::Repr::parse(*ethernet::Packet<>::checked(cb(five)));
  EXPECT_EQ(r.error(), Error::too_many_tags);
}

TEST(Ethernet, FormatsLikeTcpdumpE) {
  const auto g = test::golden("vlan42_icmp_echo_request");
  auto repr = ethernet::Repr::parse(*ethernet::Packet<>::checked(cb(g.frame)));
  fmt::memory_buffer out;
  ethernet::format(out, *repr, g.frame.size());
  EXPECT_EQ(
      fmt::to_string(out),
      "02:e5:00:2a:00:01 > 02:e5:00:2a:00:fe, ethertype 802.1Q (0x8100), length 102: vlan 42, p 0, "
      "ethertype IPv4 (0x0800), ");
  EXPECT_EQ(name(EtherType{0x1234}), "Unknown");
}

}  // namespace
}  // namespace ersatz::wire
