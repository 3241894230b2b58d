#include "ersatz/wire/arp.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

ConstBytes arp_part(const Bytes& frame, std::size_t eth_len = ethernet::header_len) {
  return cb(frame).subspan(eth_len);
}

TEST(Arp, ParsesGoldenRequestAndReply) {
  const auto req = test::golden("arp_request");
  auto p = arp::Packet<>::checked(arp_part(req.frame));
  ASSERT_TRUE(p);
  auto r = arp::Repr::parse(*p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->operation, arp::Operation::request);
  EXPECT_EQ(r->source_ip, Ipv4Address(198, 18, 0, 1));
  EXPECT_EQ(r->target_ip, Ipv4Address(198, 18, 0, 254));
  EXPECT_TRUE(r->target_hw.is_zero());

  const auto rep = test::golden("arp_reply");
  r = arp::Repr::parse(*arp::Packet<>::checked(arp_part(rep.frame)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->operation, arp::Operation::reply);
  EXPECT_EQ(fmt::format("{}", r->source_hw), "02:e5:00:00:00:fe");
}

TEST(Arp, EmitReproducesGoldenBytes) {
  for (const char* name : {"arp_request", "arp_reply", "arp_request_unicast_probe"}) {
    const auto g = test::golden(name);
    auto r = arp::Repr::parse(*arp::Packet<>::checked(arp_part(g.frame)));
    ASSERT_TRUE(r) << name;
    Bytes out = test::poisoned(arp::Repr::buffer_len());
    r->emit(mb(out));
    const ConstBytes want = arp_part(g.frame).first(28);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), out.begin(), out.end())) << name;
  }
}

TEST(Arp, GenericHeaderWithOtherSizes) {
  // hrd 6 (IEEE 802), pro 0x86dd, hln 8, pln 16: the views follow ar$hln/ar$pln.
  Bytes b = test::from_hex("0006 86dd 08 10 0001");
  b.resize(8 + 2 * (8 + 16), std::byte{0x11});
  auto p = arp::Packet<>::checked(cb(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sha().size(), 8u);
  EXPECT_EQ(p->spa().size(), 16u);
  EXPECT_EQ(p->tpa().data() + 16, b.data() + b.size());
  EXPECT_FALSE(p->is_ethernet_ipv4());
  EXPECT_EQ(arp::Repr::parse(*p).error(), Error::unsupported);
  fmt::memory_buffer out;
  arp::format(out, *p, b.size());
  EXPECT_EQ(fmt::to_string(out), "TokenRing (len 8), IPv6 (len 16), length 56");
}

TEST(Arp, TruncatedAddressesAreAnError) {
  // CVE-2017-13013: addresses beyond the data must never be read.
  Bytes b = test::from_hex("0001 0800 06 04 0001 020000000001 c6120001 000000000000 c612");
  EXPECT_EQ(arp::Packet<>::checked(cb(b)).error(), Error::truncated);
  Bytes huge = test::from_hex("0001 0800 ff ff 0001");
  huge.resize(100);
  EXPECT_EQ(arp::Packet<>::checked(cb(huge)).error(), Error::truncated);
  EXPECT_EQ(arp::Packet<>::checked(cb(Bytes(7))).error(), Error::truncated);
}

TEST(Arp, UnknownOpcodeRoundTrips) {
  arp::Repr r{arp::Operation{0x1234}, MacAddress::broadcast(), Ipv4Address(1, 2, 3, 4),
              MacAddress(), Ipv4Address(5, 6, 7, 8)};
  Bytes out = test::poisoned(arp::Repr::buffer_len());
  r.emit(mb(out));
  auto back = arp::Repr::parse(*arp::Packet<>::checked(cb(out)));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  fmt::memory_buffer text;
  // tcpdump dumps hex here and prints no length: format() says so.
  EXPECT_FALSE(arp::format(text, *arp::Packet<>::checked(cb(out)), out.size()));
  EXPECT_EQ(fmt::to_string(text), "Unknown (4660) ");
}

TEST(Arp, VerboseNamesHardwareAndProtocolAndSpellsOddFormsOut) {
  // tcpdump -v (print-arp.c): the summary always, then the operation, with
  // placeholders for addresses that are not IPv4.
  auto verbose = [](const Bytes& b) {
    fmt::memory_buffer out;
    EXPECT_TRUE(arp::format(out, *arp::Packet<>::checked(cb(b)), b.size(), true));
    return fmt::to_string(out);
  };
  const auto g = test::golden("arp_request");
  Bytes request(arp_part(g.frame).begin(), arp_part(g.frame).end());
  EXPECT_EQ(verbose(request),
            "Ethernet (len 6), IPv4 (len 4), Request who-has 198.18.0.254 tell 198.18.0.1, "
            "length 28");
  // Hardware 2, hardware length 0, IPv4: -nn stops at the summary, -v goes on.
  Bytes odd = test::from_hex("0002 0800 00 04 0001 c6120001 c61200fe");
  EXPECT_EQ(verbose(odd),
            "Unknown Hardware (2) (len 0), IPv4 (len 4), Request who-has 198.18.0.254 tell "
            "198.18.0.1, length 16");
  // Protocol 0x1234: its addresses are not IPv4.
  Bytes other = test::from_hex("0001 1234 06 04 0002 020000000001 01020304 020000000002 05060708");
  EXPECT_EQ(verbose(other),
            "Ethernet (len 6), Unknown Protocol (0x1234) (len 4), Reply <wrong proto type> is-at "
            "02:00:00:00:00:01, length 28");
  // IPv4 with a 2-byte address: the wrong length.
  Bytes short_ip = test::from_hex("0001 0800 06 02 0001 020000000001 0102 000000000000 0506");
  EXPECT_EQ(
      verbose(short_ip),
      "Ethernet (len 6), IPv4 (len 2), Request who-has <wrong len> tell <wrong len>, length 24");
}

TEST(Arp, FormatsLikeTcpdump) {
  auto text = [](const char* name) {
    const auto g = test::golden(name);
    fmt::memory_buffer out;
    arp::format(out, *arp::Packet<>::checked(arp_part(g.frame)), 28);
    return fmt::to_string(out);
  };
  EXPECT_EQ(text("arp_request"), "Request who-has 198.18.0.254 tell 198.18.0.1, length 28");
  EXPECT_EQ(text("arp_reply"), "Reply 198.18.0.254 is-at 02:e5:00:00:00:fe, length 28");
  // The kernel's unicast probe names the target's MAC; tcpdump shows it.
  EXPECT_EQ(text("arp_request_unicast_probe").rfind("Request who-has 198.18.0.1", 0), 0u);
}

}  // namespace
}  // namespace ersatz::wire
