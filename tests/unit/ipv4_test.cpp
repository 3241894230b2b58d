#include "ersatz/wire/ipv4.hpp"

#include "ersatz/wire/ethernet.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

ConstBytes ip_part(const Bytes& frame) { return cb(frame).subspan(ethernet::header_len); }

/// A valid 20-byte header for `payload_len` bytes, checksum filled in.
Bytes make_header(std::size_t payload_len, std::uint8_t ver_ihl = 0x45) {
  Bytes b = test::from_hex("45000000 12344000 4001 0000 c6120001 c6120002");
  b[0] = static_cast<std::byte>(ver_ihl);
  store_be16(mb(b), 2, static_cast<std::uint16_t>(20 + payload_len));
  b.resize(20 + payload_len, std::byte{0x5a});
  store_be16(mb(b), 10, checksum::compute(cb(b).first(20)));
  return b;
}

TEST(Ipv4, DeconstructsGoldenEcho) {
  const auto g = test::golden("icmp_echo_reply_forwarded_ttl63");
  auto p = ipv4::Packet<>::checked(ip_part(g.frame));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version(), 4);
  EXPECT_EQ(p->header_len(), 20u);
  EXPECT_EQ(p->total_len(), 84);
  EXPECT_EQ(p->ttl(), 63);
  EXPECT_EQ(p->protocol(), ipv4::Protocol::icmp);
  EXPECT_EQ(p->src(), Ipv4Address(198, 18, 1, 2));
  EXPECT_EQ(p->dst(), Ipv4Address(198, 18, 0, 1));
  EXPECT_TRUE(p->verify_checksum());
  EXPECT_EQ(p->compute_checksum(), p->checksum());
  EXPECT_EQ(p->payload().size(), 64u);
}

TEST(Ipv4, EmitReproducesGoldenHeaders) {
  for (const char* name :
       {"icmp_echo_request", "icmp_time_exceeded", "ip_first_fragment_echo_request",
        "ip_last_fragment_echo_request", "ip_option_rr_echo_request", "ip_option_rr_echo_reply",
        "icmp_unreach_frag_needed_mtu1280"}) {
    const auto g = test::golden(name);
    auto p = ipv4::Packet<>::checked(ip_part(g.frame));
    ASSERT_TRUE(p) << name;
    auto r = ipv4::Repr::parse(*p);
    ASSERT_TRUE(r) << name;
    Bytes out = test::poisoned(r->buffer_len());
    ASSERT_EQ(out.size(), p->total_len()) << name;
    r->emit(mb(out));
    const ConstBytes want = p->header();
    EXPECT_TRUE(std::equal(want.begin(), want.end(), out.begin())) << name;
    // The payload region is the caller's: emit must not have touched it.
    for (std::size_t i = r->header_len(); i < out.size(); ++i)
      ASSERT_EQ(out[i], std::byte{0xa5}) << name;
  }
}

TEST(Ipv4, FragmentFields) {
  const auto first = test::golden("ip_first_fragment_echo_request");
  auto p = ipv4::Packet<>::checked(ip_part(first.frame));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->more_fragments());
  EXPECT_EQ(p->frag_offset(), 0u);
  EXPECT_TRUE(p->is_fragment());
  const auto last = test::golden("ip_last_fragment_echo_request");
  p = ipv4::Packet<>::checked(ip_part(last.frame));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->more_fragments());
  EXPECT_EQ(p->frag_offset(), 2960u);
  EXPECT_TRUE(p->is_fragment());
}

TEST(Ipv4, RecordRouteOption) {
  const auto g = test::golden("ip_option_rr_echo_request");
  auto p = ipv4::Packet<>::checked(ip_part(g.frame));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header_len(), 60u);
  ipv4::OptionReader reader(p->options());
  auto o = reader.next();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, ipv4::OptionType::nop);
  o = reader.next();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, ipv4::OptionType::rr);
  EXPECT_EQ(o->length(), 39u);
  EXPECT_EQ(o->pointer(), 8);
  EXPECT_TRUE(ipv4::validate_options(p->options()));
}

TEST(Ipv4, PayloadIsBoundedByTotalLengthNotFrame) {
  Bytes b = make_header(8);
  b.resize(46, std::byte{0});  // Ethernet padding after a short datagram
  auto p = ipv4::Packet<>::checked(cb(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload().size(), 8u);
  EXPECT_EQ(p->datagram().size(), 28u);
}

TEST(Ipv4, Rfc1812HeaderChecks) {
  // (1) fewer than 20 bytes
  EXPECT_EQ(ipv4::Packet<>::checked(cb(Bytes(19))).error(), Error::truncated);
  // (4) IHL below 5, for every such value
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    const Bytes b = make_header(8, static_cast<std::uint8_t>(0x40 | ihl));
    EXPECT_EQ(ipv4::Packet<>::checked(cb(b)).error(), Error::bad_header_len) << int(ihl);
  }
  // IHL 15 with only 20 bytes of header present
  EXPECT_EQ(ipv4::Packet<>::checked(cb(make_header(0, 0x4f))).error(), Error::truncated);
  // (5) total length below the header length
  Bytes b = make_header(8);
  store_be16(mb(b), 2, 19);
  EXPECT_EQ(ipv4::Packet<>::checked(cb(b)).error(), Error::bad_total_len);
  // total length beyond the data
  b = make_header(8);
  store_be16(mb(b), 2, 29);
  EXPECT_EQ(ipv4::Packet<>::checked(cb(b)).error(), Error::truncated);
  // (3) version
  b = make_header(8, 0x65);
  auto p = ipv4::Packet<>::checked(cb(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(ipv4::Repr::parse(*p).error(), Error::bad_version);
  // (2) checksum, unless the caller says not to verify
  b = make_header(8);
  b[8] = std::byte{1};
  p = ipv4::Packet<>::checked(cb(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(ipv4::Repr::parse(*p).error(), Error::bad_checksum);
  EXPECT_TRUE(ipv4::Repr::parse(*p, ipv4::Verify::no));
}

TEST(Ipv4, HeaderViewAcceptsCutDatagram) {
  Bytes b = make_header(100);
  b.resize(40);
  EXPECT_EQ(ipv4::Packet<>::checked(cb(b)).error(), Error::truncated);
  auto h = ipv4::Header<>::checked(cb(b));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->total_len(), 120);
}

TEST(Ipv4, OptionErrors) {
  auto check = [](const char* hex) { return ipv4::validate_options(cb(test::from_hex(hex))); };
  EXPECT_TRUE(check(""));
  EXPECT_TRUE(check("01010100"));                                  // NOPs then EOL
  EXPECT_TRUE(check("00ff ff ff"));                                // nothing after EOL is read
  EXPECT_EQ(check("8800").error(), Error::bad_option);             // length 0
  EXPECT_EQ(check("8801").error(), Error::bad_option);             // length 1: must not loop
  EXPECT_EQ(check("88").error(), Error::truncated);                // no length octet
  EXPECT_EQ(check("880501").error(), Error::truncated);            // runs past the area
  EXPECT_EQ(check("070703 00000000").error(), Error::bad_option);  // RR pointer < 4
  EXPECT_TRUE(check("070704 00000000"));
  EXPECT_EQ(check("44080400 00000000").error(), Error::bad_option);  // TS pointer < 5
  EXPECT_EQ(check("940300").error(), Error::bad_option);             // RA length 3
  EXPECT_TRUE(check("94040000"));
  EXPECT_TRUE(check("9e03ff 00"));  // unknown options are ignored (RFC 1122 §3.2.1.8)
}

TEST(Ipv4, OptionReaderAlwaysAdvances) {
  std::mt19937 rng(2010);
  for (int i = 0; i < 20000; ++i) {
    Bytes b(1 + rng() % 40);
    for (auto& x : b) x = static_cast<std::byte>(rng() % 4 == 0 ? rng() % 3 : rng());
    ipv4::OptionReader r(cb(b));
    std::size_t n = 0;
    while (r.next()) ASSERT_LE(++n, b.size());
  }
}

TEST(Ipv4, QuoteHasItsOwnIhl) {
  // A quoted header with 40 bytes of options, then 8 bytes of ICMP.
  Bytes q = make_header(8, 0x4f);
  q.resize(20);
  q.insert(q.end(), 40, std::byte{1});
  store_be16(mb(q), 2, 68);
  const Bytes icmp = test::from_hex("0800f7ff 1234 0001");
  q.insert(q.end(), icmp.begin(), icmp.end());
  auto quote = ipv4::Quote::checked(cb(q));
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->header_len(), 60u);
  EXPECT_EQ(load_be16(quote->payload(), 4), 0x1234);
  // Cut the quoted ICMP header short: CVE-2022-23093's case.
  q.resize(66);
  EXPECT_EQ(ipv4::Quote::checked(cb(q)).error(), Error::truncated);
  // The header itself cut off.
  q.resize(40);
  EXPECT_EQ(ipv4::Quote::checked(cb(q)).error(), Error::truncated);
  // Quoted IHL below 5.
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes bad = make_header(40, static_cast<std::uint8_t>(0x40 | ihl));
    EXPECT_EQ(ipv4::Quote::checked(cb(bad)).error(), Error::bad_header_len);
  }
}

TEST(Ipv4, QuotePayloadNeverExceedsData) {
  Bytes q = make_header(8);
  store_be16(mb(q), 2, 1500);  // the original was long; only 8 bytes were quoted
  auto quote = ipv4::Quote::checked(cb(q));
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->payload().size(), 8u);
}

TEST(Ipv4, ReprRoundTripWithOptionsAndFlags) {
  const Bytes opts = test::from_hex("94040000 01");  // RA, then a NOP: padded to 8
  ipv4::Repr r;
  r.src = Ipv4Address(198, 18, 0, 1);
  r.dst = Ipv4Address(198, 19, 255, 255);
  r.protocol = ipv4::Protocol{253};
  r.ttl = 1;
  r.tos = 0xb8;
  r.ident = 0xbeef;
  r.more_fragments = true;
  r.reserved_flag = true;
  r.frag_offset = 1480;
  r.options = cb(opts);
  r.payload_len = 16;
  Bytes out = test::poisoned(r.buffer_len());
  r.emit(mb(out));
  EXPECT_EQ(r.header_len(), 28u);
  auto p = ipv4::Packet<>::checked(cb(out));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->verify_checksum());
  auto back = ipv4::Repr::parse(*p);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->options.size(), 8u);  // padding is now part of the header
  back->options = r.options;
  EXPECT_EQ(*back, r);
}

TEST(Ipv4, SettersKeepChecksumValid) {
  Bytes b = make_header(8);
  auto p = ipv4::Packet<MutBytes>::checked(mb(b));
  ASSERT_TRUE(p);
  const std::uint16_t before = p->checksum();
  p->set_ttl(p->ttl() - 1);
  p->set_checksum(checksum::update(before, 0x4001, 0x3f01));
  EXPECT_TRUE(p->verify_checksum());
  p->set_ttl(9);
  p->fill_checksum();
  EXPECT_TRUE(p->verify_checksum());
}

TEST(Ipv4, Formats) {
  const auto g = test::golden("icmp_echo_request");
  fmt::memory_buffer out;
  ipv4::format(out, *ipv4::Packet<>::checked(ip_part(g.frame)));
  EXPECT_EQ(fmt::to_string(out), "198.18.0.1 > 198.18.0.254: ");
}

}  // namespace
}  // namespace ersatz::wire
