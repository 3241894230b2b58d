#include "ersatz/wire/icmpv4.hpp"

#include "ersatz/wire/ethernet.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

/// The ICMP message inside a golden Ethernet/IPv4 frame.
ConstBytes icmp_part(const Bytes& frame) {
  auto ip = ipv4::Packet<>::checked(cb(frame).subspan(ethernet::header_len));
  return ip->payload();
}

std::string text(ConstBytes msg) {
  fmt::memory_buffer out;
  icmpv4::format(out, msg, msg.size());
  return fmt::to_string(out);
}

/// An error message of `type`/`code` quoting `quote`, checksummed.
Bytes make_error(icmpv4::Type type, std::uint8_t code, std::uint32_t rest, const Bytes& quote) {
  icmpv4::Repr r{type, code, rest, cb(quote)};
  Bytes out(r.buffer_len());
  r.emit(mb(out));
  return out;
}

/// A quoted IPv4 header (IHL 5) carrying an echo request header.
Bytes quoted_echo(std::uint16_t ident, std::uint16_t seq) {
  Bytes q = test::from_hex("45000054 abcd4000 0101 0000 c6120001 c6120102 0800 0000");
  q.resize(28);
  store_be16(mb(q), 24, ident);
  store_be16(mb(q), 26, seq);
  return q;
}

TEST(Icmpv4, EchoGoldenRoundTrip) {
  for (const char* name : {"icmp_echo_request", "icmp_echo_reply", "icmp_time_exceeded",
                           "icmp_unreach_host_route", "icmp_unreach_frag_needed_mtu1280"}) {
    const auto g = test::golden(name);
    const ConstBytes msg = icmp_part(g.frame);
    auto p = icmpv4::Packet<>::checked(msg);
    ASSERT_TRUE(p) << name;
    EXPECT_TRUE(p->verify_checksum()) << name;
    auto r = icmpv4::Repr::parse(*p);
    ASSERT_TRUE(r) << name;
    Bytes out = test::poisoned(r->buffer_len());
    r->emit(mb(out));
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), out.begin(), out.end())) << name;
  }
}

TEST(Icmpv4, EchoFields) {
  const auto g = test::golden("icmp_echo_request");
  auto r = icmpv4::Repr::parse(*icmpv4::Packet<>::checked(icmp_part(g.frame)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, icmpv4::Type::echo_request);
  EXPECT_EQ(r->ident(), 5694);
  EXPECT_EQ(r->seq(), 1);
  EXPECT_EQ(r->data.size(), 56u);
}

TEST(Icmpv4, TimeExceededQuoteMapsToProbe) {
  const auto g = test::golden("icmp_time_exceeded");
  auto p = icmpv4::Packet<>::checked(icmp_part(g.frame));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type(), icmpv4::Type::time_exceeded);
  auto q = p->quote();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->dst(), Ipv4Address(198, 18, 1, 2));
  EXPECT_EQ(q->ttl(), 1);
  auto inner = icmpv4::Header<>::checked(q->payload());
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->type(), icmpv4::Type::echo_request);
  EXPECT_EQ(inner->ident(), 5696);
  EXPECT_EQ(inner->seq(), 1);
}

TEST(Icmpv4, FragNeededCarriesMtu) {
  const auto g = test::golden("icmp_unreach_frag_needed_mtu1280");
  auto p = icmpv4::Packet<>::checked(icmp_part(g.frame));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->code(), 4);
  EXPECT_EQ(p->mtu(), 1280);
  EXPECT_EQ(text(icmp_part(g.frame)),
            "ICMP 198.18.1.2 unreachable - need to frag (mtu 1280), length 556");
}

TEST(Icmpv4, Rfc4884LengthBoundsTheQuote) {
  Bytes quote = quoted_echo(7, 9);
  quote.resize(128, std::byte{0});  // padded to 128 as RFC 4884 §4.1 asks
  const Bytes ext = test::from_hex("20000000 00080101 0000002a");
  quote.insert(quote.end(), ext.begin(), ext.end());
  Bytes msg = make_error(icmpv4::Type::time_exceeded, 0, 32U << 16, quote);
  auto p = icmpv4::Packet<>::checked(cb(msg));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rfc4884_length(), 128u);
  EXPECT_EQ(p->original_datagram().size(), 128u);
  // A length past the data is ignored (RFC 4884 §5.5), not trusted.
  msg = make_error(icmpv4::Type::time_exceeded, 0, 200U << 16, quote);
  p = icmpv4::Packet<>::checked(cb(msg));
  EXPECT_EQ(p->original_datagram().size(), quote.size());
}

TEST(Icmpv4, HostileQuotes) {
  // The quote cut inside its own header (IHL 15), quoted IHL below 5, and a
  // quote with fewer than 8 bytes of data: never read, always an error.
  Bytes ihl15 = quoted_echo(1, 1);
  ihl15[0] = std::byte{0x4f};
  Bytes msg = make_error(icmpv4::Type::dst_unreachable, 3, 0, ihl15);
  EXPECT_EQ(icmpv4::Packet<>::checked(cb(msg))->quote().error(), Error::truncated);
  EXPECT_EQ(text(cb(msg)), " [|icmp]");

  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes low = quoted_echo(1, 1);
    low[0] = static_cast<std::byte>(0x40 | ihl);
    msg = make_error(icmpv4::Type::time_exceeded, 0, 0, low);
    EXPECT_EQ(icmpv4::Packet<>::checked(cb(msg))->quote().error(), Error::bad_header_len);
  }
  Bytes short_data = quoted_echo(1, 1);
  short_data.resize(27);
  msg = make_error(icmpv4::Type::param_problem, 0, 0, short_data);
  EXPECT_EQ(icmpv4::Packet<>::checked(cb(msg))->quote().error(), Error::truncated);
}

TEST(Icmpv4, LengthErrors) {
  EXPECT_EQ(icmpv4::Packet<>::checked(cb(Bytes(7))).error(), Error::truncated);
  Bytes ts = test::from_hex("0d00 0000 0001 0002 00000000 00000000 000000");  // 19 bytes
  EXPECT_EQ(icmpv4::Packet<>::checked(cb(ts)).error(), Error::truncated);
  Bytes mask = test::from_hex("1100 0000 0001 0002 000000");
  EXPECT_EQ(icmpv4::Packet<>::checked(cb(mask)).error(), Error::truncated);
  // The quoted form needs only the 8-byte header.
  EXPECT_TRUE(icmpv4::Header<>::checked(cb(ts).first(8)));
}

TEST(Icmpv4, BadChecksum) {
  Bytes msg = make_error(icmpv4::Type::time_exceeded, 0, 0, quoted_echo(1, 2));
  msg[3] ^= std::byte{1};
  auto p = icmpv4::Packet<>::checked(cb(msg));
  ASSERT_TRUE(p);
  EXPECT_EQ(icmpv4::Repr::parse(*p).error(), Error::bad_checksum);
  EXPECT_TRUE(icmpv4::Repr::parse(*p, ipv4::Verify::no));
}

TEST(Icmpv4, UnknownTypeRoundTrips) {
  const Bytes data = test::from_hex("deadbeef");
  icmpv4::Repr r{icmpv4::Type{42}, 7, 0x01020304, cb(data)};
  Bytes out = test::poisoned(r.buffer_len());
  r.emit(mb(out));
  auto back = icmpv4::Repr::parse(*icmpv4::Packet<>::checked(cb(out)));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(text(cb(out)), "ICMP type-#42, length 12");
}

TEST(Icmpv4, NamedConstructors) {
  const Bytes q = quoted_echo(3, 4);
  auto r = icmpv4::Repr::dst_unreachable(icmpv4::Unreachable::frag_needed, cb(q), 1280);
  EXPECT_EQ(r.mtu(), 1280);
  EXPECT_EQ(icmpv4::Repr::param_problem(20, cb(q)).pointer(), 20);
  auto e = icmpv4::Repr::echo_request(0x1234, 0xffff, {});
  EXPECT_EQ(e.ident(), 0x1234);
  EXPECT_EQ(e.seq(), 0xffff);
  Bytes out(e.buffer_len());
  e.emit(mb(out));
  EXPECT_EQ(out.size(), 8u);
  EXPECT_TRUE(checksum::verify(cb(out)));
}

TEST(Icmpv4, FormatsEveryUnreachableCodeLikeTcpdump) {
  const char* expected[] = {
      "net 198.18.1.2 unreachable",
      "host 198.18.1.2 unreachable",
      "198.18.1.2 protocol 1 unreachable",
      "198.18.1.2 protocol 1 port 0 unreachable",
      "198.18.1.2 unreachable - need to frag (mtu 1500)",
      "198.18.1.2 unreachable - source route failed",
      "net 198.18.1.2 unreachable - unknown",
      "host 198.18.1.2 unreachable - unknown",
      "198.18.1.2 unreachable - source host isolated",
      "net 198.18.1.2 unreachable - admin prohibited",
      "host 198.18.1.2 unreachable - admin prohibited",
      "net 198.18.1.2 unreachable - tos prohibited",
      "host 198.18.1.2 unreachable - tos prohibited",
      "host 198.18.1.2 unreachable - admin prohibited filter",
      "host 198.18.1.2 unreachable - host precedence violation",
      "host 198.18.1.2 unreachable - precedence cutoff",
      "198.18.1.2 unreachable - #16",
  };
  const Bytes q = quoted_echo(1, 1);
  for (std::uint8_t code = 0; code <= 16; ++code) {
    const Bytes msg = make_error(icmpv4::Type::dst_unreachable, code, code == 4 ? 1500 : 0, q);
    EXPECT_EQ(text(cb(msg)), fmt::format("ICMP {}, length 36", expected[code])) << int(code);
  }
}

TEST(Icmpv4, FormatsOtherTypes) {
  const Bytes q = quoted_echo(1, 1);
  Bytes udp = q;
  udp[9] = std::byte{17};
  store_be16(mb(udp), 22, 33434);
  EXPECT_EQ(text(cb(make_error(icmpv4::Type::dst_unreachable, 3, 0, udp))),
            "ICMP 198.18.1.2 udp port 33434 unreachable, length 36");
  EXPECT_EQ(text(cb(make_error(icmpv4::Type::time_exceeded, 1, 0, q))),
            "ICMP ip reassembly time exceeded, length 36");
  EXPECT_EQ(text(cb(make_error(icmpv4::Type::param_problem, 0, 20U << 24, q))),
            "ICMP parameter problem - octet 20, length 36");
  EXPECT_EQ(text(cb(make_error(icmpv4::Type::redirect, 1, 0xc61200fe, q))),
            "ICMP redirect 198.18.1.2 to host 198.18.0.254, length 36");
  EXPECT_EQ(text(cb(make_error(icmpv4::Type::source_quench, 0, 0, q))),
            "ICMP source quench, length 36");
  const Bytes ts = test::from_hex("0e00 0000 0001 0002 00000001 05265bff 05265c01");
  // Past midnight tcpdump keeps counting hours rather than wrapping.
  EXPECT_EQ(text(cb(ts)),
            "ICMP time stamp reply id 1 seq 2: org 00:00:00.001, recv 23:59:59.999, xmit "
            "24:00:00.001, length 20");
}

}  // namespace
}  // namespace ersatz::wire
