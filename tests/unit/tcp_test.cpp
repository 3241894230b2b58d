#include "ersatz/wire/tcp.hpp"

#include <gtest/gtest.h>

#include "ersatz/wire/ethernet.hpp"
#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

// Made with scapy. tcpdump -nn: "IP6 2001:db8::1.40000 > 2001:db8::2.5001: Flags [S], seq 1000,
// win 65535, options [mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
const char* const syn6 =
    "ffffffffffff02fc0000000186dd600000000028064020010db800000000000000000000000120010db800000000"
    "00000000000000029c401389000003e800000000a002ffff38ed0000020405a00402080a00000001000000000103"
    "0307";
// "IP 198.18.0.1.40000 > 198.18.0.2.5001: Flags [P.], seq 1000:1005, ack 2000, win 512, length 5"
const char* const psh4 =
    "02fc0000000502fc0000000108004500002d000100004006eea2c6120001c61200029c401389000003e8000007d0"
    "50180200224c000068656c6c6f";

std::string text(ConstBytes seg, const tcp::TextOptions& o = {}) {
  fmt::memory_buffer out;
  tcp::format(out, seg, seg.size(), o);
  return fmt::to_string(out);
}

TEST(Tcp, GoldenSynOverIpv6) {
  const Bytes f = test::from_hex(syn6);
  auto ip = ipv6::Packet<>::checked(cb(f).subspan(ethernet::header_len));
  ASSERT_TRUE(ip);
  const ConstBytes seg = ip->payload();
  const auto pseudo = ipv6::pseudo_header_sum(ip->src(), ip->dst(), 40, 6);
  auto p = tcp::Packet<>::checked(seg);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->src_port(), 40000);
  EXPECT_EQ(p->dst_port(), 5001);
  EXPECT_EQ(p->seq(), 1000U);
  EXPECT_EQ(p->header_len(), 40U);
  EXPECT_TRUE(p->has(tcp::flag::syn));
  EXPECT_FALSE(p->has(tcp::flag::ack));
  EXPECT_TRUE(p->verify_checksum(pseudo));
  EXPECT_EQ(p->compute_checksum(pseudo), 0x38ed);
  EXPECT_EQ(
      text(seg),
      "Flags [S], seq 1000, win 65535, options [mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7], "
      "length 0");
  tcp::OptionReader r(p->options());
  std::vector<tcp::OptionKind> kinds;
  while (auto o = r.next()) kinds.push_back(o->kind);
  EXPECT_FALSE(r.error());
  EXPECT_EQ(kinds, (std::vector<tcp::OptionKind>{
                       tcp::OptionKind::mss, tcp::OptionKind::sack_permitted,
                       tcp::OptionKind::timestamp, tcp::OptionKind::nop, tcp::OptionKind::wscale}));
  auto repr = tcp::Repr::parse(*p, pseudo);
  ASSERT_TRUE(repr);
  Bytes out = test::poisoned(repr->buffer_len());
  repr->emit(mb(out), pseudo);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), seg.begin(), seg.end()));
  // -v adds the checksum.
  tcp::TextOptions v;
  v.verbose = 1;
  v.pseudo = pseudo;
  EXPECT_NE(text(seg, v).find("Flags [S], cksum 0x38ed (correct), seq 1000"), std::string::npos);
}

TEST(Tcp, GoldenDataOverIpv4WithRelativeNumbers) {
  const Bytes f = test::from_hex(psh4);
  auto ip = ipv4::Packet<>::checked(cb(f).subspan(ethernet::header_len));
  ASSERT_TRUE(ip);
  const ConstBytes seg = ip->payload();
  const auto pseudo = ipv4::pseudo_header_sum(ip->src(), ip->dst(), ipv4::Protocol::tcp,
                                              static_cast<std::uint16_t>(seg.size()));
  auto p = tcp::Packet<>::checked(seg);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->verify_checksum(pseudo));
  EXPECT_EQ(p->payload().size(), 5U);
  EXPECT_EQ(text(seg), "Flags [P.], seq 1000:1005, ack 2000, win 512, length 5");
  tcp::TextOptions rel;
  rel.relative = {999, 1999, 0};
  EXPECT_EQ(text(seg, rel), "Flags [P.], seq 1:6, ack 1, win 512, length 5");
  auto repr = tcp::Repr::parse(*p, static_cast<std::uint16_t>(pseudo + 1));
  EXPECT_EQ(repr.error(), Error::bad_checksum);
}

TEST(Tcp, BadHeadersAndOptions) {
  Bytes seg = test::from_hex("9c401389000003e8000007d050180200224c0000");
  store_u8(mb(seg), 12, 0x40);  // data offset 16 bytes
  EXPECT_EQ(tcp::Packet<>::checked(cb(seg)).error(), Error::bad_header_len);
  EXPECT_EQ(text(cb(seg)), " tcp 4 [bad hdr length 16 - too short, < 20]");
  store_u8(mb(seg), 12, 0x60);  // 24 bytes, only 20 there
  EXPECT_EQ(tcp::Packet<>::checked(cb(seg)).error(), Error::truncated);
  // An option whose length runs past the header.
  Bytes opt = test::from_hex(
      "9c401389000003e8000007d060100200224c0000"
      "020a0000");
  EXPECT_EQ(text(cb(opt)), "Flags [.], ack 2000, win 512, options [[bad opt]");
  EXPECT_EQ(tcp::validate_options(cb(opt).subspan(20)).error(), Error::truncated);
  // SACK blocks against the conversation's base.
  Bytes sack = test::from_hex(
      "9c401389000003e8000007d080100200224c0000"
      "0101050a000007d1000007da");
  tcp::TextOptions rel;
  rel.relative = {999, 1999, 1999};
  EXPECT_EQ(text(cb(sack), rel),
            "Flags [.], ack 1, win 512, options [nop,nop,sack 1 {2:11}], length 0");
}

TEST(Tcp, FlagLetters) {
  auto f = [](std::uint8_t v) {
    fmt::memory_buffer out;
    tcp::format_flags(out, v);
    return fmt::to_string(out);
  };
  EXPECT_EQ(f(0), "none");
  EXPECT_EQ(f(tcp::flag::syn | tcp::flag::ack), "S.");
  EXPECT_EQ(f(0xff), "FSRP.UEW");
}

}  // namespace
}  // namespace ersatz::wire
