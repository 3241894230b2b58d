#include "ersatz/wire/ipv6.hpp"

#include <gtest/gtest.h>

#include "ersatz/wire/ethernet.hpp"
#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

// Made with scapy; tcpdump -nn prints
// "IP6 2001:db8::1 > 2001:db8::2: frag (0|24) ICMP6, echo request, id 1, seq 1, length 24".
const char* const frag_frame =
    "ffffffffffff02fc0000000186dd6000000000202c4020010db800000000000000000000000120010db800000000"
    "00000000000000023a0000010000abcd8000192b0001000161616161616161616161616161616161";
// "IP6 fe80::1 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group record(s), length 28"
const char* const hbh_frame =
    "33330000001602fc0000000186dd6000000000240001fe800000000000000000000000000001ff02000000000000"
    "00000000000000163a000502000001008f0071070000000104000000ff0200000000000000000001ff000001";

ConstBytes l3(const Bytes& frame) { return cb(frame).subspan(ethernet::header_len); }

std::string text(const Ipv6Address& a) { return fmt::format("{}", a); }

TEST(Ipv6Address, TextFormsAsInetNtop) {
  auto t = [](const char* s) { return text(*Ipv6Address::parse(s)); };
  EXPECT_EQ(t("2001:db8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(t("::"), "::");
  EXPECT_EQ(t("::1"), "::1");
  EXPECT_EQ(t("1::"), "1::");
  EXPECT_EQ(t("fe80::1:ff00:2"), "fe80::1:ff00:2");
  // A single zero group is not shortened; the first of equal runs is.
  EXPECT_EQ(t("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
  EXPECT_EQ(t("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
  EXPECT_EQ(t("1:0:0:2:0:0:0:4"), "1:0:0:2::4");
  // IPv4-mapped and -compatible forms end in a dotted quad.
  EXPECT_EQ(t("::ffff:198.18.0.1"), "::ffff:198.18.0.1");
  EXPECT_EQ(t("::198.18.0.1"), "::198.18.0.1");
  EXPECT_EQ(t("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  for (const char* bad : {"", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "1:2",
                          "g::", "1:2:3:4:5:6:7:", "::1.2.3"}) {
    EXPECT_FALSE(Ipv6Address::parse(bad)) << bad;
  }
}

TEST(Ipv6, GoldenFragmentParsesAndRoundTrips) {
  const Bytes f = test::from_hex(frag_frame);
  auto p = ipv6::Packet<>::checked(l3(f));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version(), 6);
  EXPECT_EQ(p->payload_len(), 32);
  EXPECT_EQ(p->next_header(), ipv6::NextHeader::fragment);
  EXPECT_EQ(p->hop_limit(), 64);
  EXPECT_EQ(text(p->src()), "2001:db8::1");
  auto r = ipv6::Repr::parse(*p);
  ASSERT_TRUE(r);
  Bytes out = test::poisoned(r->buffer_len());
  r->emit(mb(out));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + ipv6::header_len, l3(f).begin()));

  ipv6::ExtReader ext(p->next_header(), p->payload());
  auto h = ext.next();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, ipv6::NextHeader::fragment);
  EXPECT_EQ(h->frag_ident(), 0xabcdU);
  EXPECT_EQ(h->frag_offset(), 0U);
  EXPECT_TRUE(h->more_fragments());
  EXPECT_FALSE(ext.next());
  EXPECT_FALSE(ext.error());
  EXPECT_EQ(ext.upper_layer(), ipv6::NextHeader::icmpv6);
  EXPECT_EQ(ext.rest().size(), 24U);
}

TEST(Ipv6, GoldenHopByHopRouterAlert) {
  const Bytes f = test::from_hex(hbh_frame);
  auto p = ipv6::Packet<>::checked(l3(f));
  ASSERT_TRUE(p);
  ipv6::ExtReader ext(p->next_header(), p->payload());
  auto h = ext.next();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, ipv6::NextHeader::hop_by_hop);
  ipv6::OptionReader opts(h->options());
  auto o = opts.next();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, ipv6::OptionType::router_alert);
  EXPECT_EQ(o->data().size(), 2U);
  auto pad = opts.next();
  ASSERT_TRUE(pad);
  EXPECT_EQ(pad->type, ipv6::OptionType::padn);
  EXPECT_FALSE(opts.next());
  EXPECT_FALSE(opts.error());
  EXPECT_EQ(ext.upper_layer(), ipv6::NextHeader::icmpv6);
}

TEST(Ipv6, ShortAndTruncatedDatagrams) {
  const Bytes f = test::from_hex(frag_frame);
  EXPECT_EQ(ipv6::Packet<>::checked(l3(f).first(39)).error(), Error::truncated);
  EXPECT_TRUE(ipv6::Header<>::checked(l3(f).first(40)));
  // The payload length says 32 bytes; 31 were captured.
  EXPECT_EQ(ipv6::Packet<>::checked(l3(f).first(71)).error(), Error::truncated);
  // Padding after the payload is not payload.
  Bytes padded(l3(f).begin(), l3(f).end());
  padded.resize(padded.size() + 6);
  auto p = ipv6::Packet<>::checked(cb(padded));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload().size(), 32U);
  Bytes v4 = padded;
  v4[0] = std::byte{0x45};
  EXPECT_EQ(ipv6::Repr::parse(*ipv6::Packet<>::checked(cb(v4))).error(), Error::bad_version);
}

TEST(Ipv6, ExtensionWalkIsBounded) {
  // Forty empty destination-options headers in a row: the walk stops at
  // max_ext_headers.
  Bytes chain;
  for (int i = 0; i < 40; ++i) {
    Bytes h = test::from_hex("3c00010400000000");
    chain.insert(chain.end(), h.begin(), h.end());
  }
  ipv6::ExtReader r(ipv6::NextHeader::dst_options, cb(chain));
  std::size_t n = 0;
  while (r.next()) ++n;
  EXPECT_EQ(n, ipv6::max_ext_headers);
  EXPECT_EQ(r.error(), Error::unsupported);

  // A header whose length runs past the data.
  Bytes over = test::from_hex("3a05000000000000");
  ipv6::ExtReader t(ipv6::NextHeader::hop_by_hop, cb(over));
  EXPECT_FALSE(t.next());
  EXPECT_EQ(t.error(), Error::truncated);
}

TEST(Ipv6, RoutingHeaderFields) {
  Bytes rh = test::from_hex(
      "3a02000100000000"
      "20010db8000000000000000000000003");
  ipv6::ExtReader r(ipv6::NextHeader::routing, cb(rh));
  auto h = r.next();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->routing_type(), 0);
  EXPECT_EQ(h->segments_left(), 1);
  EXPECT_EQ(h->bytes.size(), 24U);
  EXPECT_EQ(r.upper_layer(), ipv6::NextHeader::icmpv6);
}

TEST(Ipv6, PseudoHeaderSumMatchesChecksumOverItsBytes) {
  const Ipv6Address a = *Ipv6Address::parse("2001:db8::1");
  const Ipv6Address b = *Ipv6Address::parse("fe80::ffff:1234");
  Bytes ph(40);
  a.write(mb(ph).subspan(0, 16));
  b.write(mb(ph).subspan(16, 16));
  store_be32(mb(ph), 32, 70000);
  store_u8(mb(ph), 39, 58);
  EXPECT_EQ(ipv6::pseudo_header_sum(a, b, 70000, 58), checksum::ones_sum(cb(ph)));
}

}  // namespace
}  // namespace ersatz::wire
