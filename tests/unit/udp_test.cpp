#include "ersatz/wire/udp.hpp"

#include <gtest/gtest.h>

#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/icmpv4.hpp"
#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

const Ipv4Address client(198, 18, 0, 1);
const Ipv4Address peer(198, 18, 1, 2);

ConstBytes ip_payload(const Bytes& frame) {
  return ipv4::Packet<>::checked(cb(frame).subspan(ethernet::header_len))->payload();
}

std::string text(ConstBytes d, std::size_t length) {
  fmt::memory_buffer out;
  udp::format(out, client, peer, d, length);
  return fmt::to_string(out);
}

TEST(Udp, PseudoHeaderSumIsTheSumOfItsBytes) {
  // RFC 768's pseudo-header laid out in full sums to the same value.
  const Bytes laid_out = test::from_hex("c6120001 c6120102 0011 0020");
  EXPECT_EQ(udp::pseudo_sum(client, peer, 0x20), checksum::ones_sum(cb(laid_out)));
  // RFC 8200 §8.1's layout: 32-bit length, three zero bytes, next header.
  const Bytes v6 = test::from_hex(
      "20010db8000000000000000000000001 20010db8000000000000000000000002 00010004 00000011");
  EXPECT_EQ(checksum::pseudo_header_sum(cb(v6).first(16), cb(v6).subspan(16, 16), 17, 0x10004),
            checksum::ones_sum(cb(v6)));
}

// The probes were sent by the kernel through a tap device, which has no
// checksum offload, so they carry the full checksum (a capture on a veth
// shows only the pseudo-header part: CHECKSUM_PARTIAL).
TEST(Udp, KernelDatagramsGoldenRoundTrip) {
  for (const char* name : {"udp_probe_ttl1", "udp_probe_odd_len"}) {
    const auto g = test::golden(name);
    const ConstBytes d = ip_payload(g.frame);
    auto p = udp::Packet<>::checked(d);
    ASSERT_TRUE(p) << name;
    EXPECT_TRUE(p->has_checksum()) << name;
    EXPECT_TRUE(p->verify_checksum(client, peer)) << name;
    EXPECT_FALSE(p->verify_checksum(client, Ipv4Address(198, 18, 1, 3))) << name;
    EXPECT_EQ(p->compute_checksum(client, peer), p->checksum()) << name;
    auto r = udp::Repr::parse(*p, client, peer);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->src_port, 40000);
    Bytes out = test::poisoned(r->buffer_len());
    r->emit(mb(out), client, peer);
    EXPECT_TRUE(std::equal(d.begin(), d.end(), out.begin(), out.end())) << name;
  }
}

TEST(Udp, Fields) {
  const auto g = test::golden("udp_probe_ttl1");
  auto p = udp::Packet<>::checked(ip_payload(g.frame));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->src_port(), 40000);
  EXPECT_EQ(p->dst_port(), udp::traceroute_port);
  EXPECT_EQ(p->length(), 32);
  EXPECT_EQ(p->payload().size(), 24u);
  EXPECT_EQ(p->payload()[0], std::byte{0x40});
}

TEST(Udp, FormatMatchesTcpdump) {
  for (const char* name : {"udp_probe_ttl1", "udp_probe_odd_len"}) {
    const auto g = test::golden(name);
    const ConstBytes d = ip_payload(g.frame);
    const std::string line = text(d, d.size());
    EXPECT_TRUE(g.tcpdump_e.ends_with(": " + line)) << g.tcpdump_e << " vs " << line;
  }
}

TEST(Udp, FormatShortAndBadLengths) {
  const Bytes d = test::from_hex("9c40 829a 0020 8d59");
  EXPECT_EQ(text(cb(d).first(3), 3), "198.18.0.1 > 198.18.1.2:  [|udp]");
  EXPECT_EQ(text(cb(d).first(4), 4), "198.18.0.1.40000 > 198.18.1.2.33434: truncated-udp 4");
  EXPECT_EQ(text(cb(d).first(4), 40), "198.18.0.1.40000 > 198.18.1.2.33434:  [|udp]");
  const Bytes bad = test::from_hex("9c40 829a 0007 0000");
  EXPECT_EQ(text(cb(bad), 8), "198.18.0.1.40000 > 198.18.1.2.33434: truncated-udplength 7");
}

TEST(Udp, CheckLenUsesTheLengthField) {
  Bytes d = test::from_hex("9c40 829a 000c 0000 01020304 ffff");  // 2 bytes of padding
  auto p = udp::Packet<>::checked(cb(d));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload().size(), 4u);
  EXPECT_EQ(p->datagram().size(), 12u);
  store_be16(mb(d), udp::field::length.begin, 7);
  EXPECT_EQ(udp::Packet<>::checked(cb(d)).error(), Error::bad_length);
  store_be16(mb(d), udp::field::length.begin, 15);
  EXPECT_EQ(udp::Packet<>::checked(cb(d)).error(), Error::truncated);
  EXPECT_EQ(udp::Packet<>::checked(cb(d).first(7)).error(), Error::truncated);
  EXPECT_TRUE(udp::Header<>::checked(cb(d).first(8)));
  EXPECT_FALSE(udp::Header<>::checked(cb(d).first(7)));
}

TEST(Udp, ZeroChecksumMeansNoneAndComputedZeroIsSentAsOnes) {
  Bytes d = test::from_hex("9c40 829a 000c 0000 01020304");
  auto p = udp::Packet<>::checked(cb(d));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_checksum());
  EXPECT_TRUE(p->verify_checksum(client, peer));
  EXPECT_TRUE(udp::Repr::parse(*p, client, peer, ipv4::Verify::yes));

  // Choose payload bytes that make the data sum to the complement of the
  // rest, so the computed checksum is zero: it must go out as 0xffff.
  Bytes z = test::from_hex("0001 0002 000a 0000 0000");
  const std::uint16_t rest = checksum::combine(udp::pseudo_sum(client, peer, z.size()),
                                               checksum::ones_sum(cb(z).first(8)));
  store_be16(mb(z), 8, static_cast<std::uint16_t>(~rest));
  udp::Repr r{1, 2, cb(z).subspan(8)};
  Bytes out(r.buffer_len());
  r.emit(mb(out), client, peer);
  auto q = udp::Packet<>::checked(cb(out));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->checksum(), 0xffff);
  EXPECT_TRUE(q->verify_checksum(client, peer));
}

TEST(Udp, BadChecksumIsRefusedUnlessNotVerifying) {
  const auto g = test::golden("udp_probe_ttl1");
  const ConstBytes orig = ip_payload(g.frame);
  Bytes d(orig.begin(), orig.end());
  d.back() ^= std::byte{1};
  auto p = udp::Packet<>::checked(cb(d));
  ASSERT_TRUE(p);
  EXPECT_EQ(udp::Repr::parse(*p, client, peer).error(), Error::bad_checksum);
  EXPECT_TRUE(udp::Repr::parse(*p, client, peer, ipv4::Verify::no));
}

// Captured on a veth: the quoted checksums are partial, which the Header
// view does not care about.
TEST(Udp, QuotedHeaderInsideTheKernelsErrors) {
  for (const char* name : {"icmp_time_exceeded_udp_quote", "icmp_unreach_port_udp"}) {
    const auto g = test::golden(name);
    auto icmp = icmpv4::Packet<>::checked(ip_payload(g.frame));
    ASSERT_TRUE(icmp) << name;
    auto q = icmp->quote();
    ASSERT_TRUE(q) << name;
    EXPECT_EQ(q->protocol(), ipv4::Protocol::udp);
    auto h = udp::Header<>::checked(q->payload());
    ASSERT_TRUE(h) << name;
    EXPECT_EQ(h->src_port(), 40000);
    EXPECT_GE(h->dst_port(), udp::traceroute_port);
  }
}

}  // namespace
}  // namespace ersatz::wire
