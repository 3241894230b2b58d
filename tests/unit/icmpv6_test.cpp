#include "ersatz/wire/icmpv6.hpp"

#include <gtest/gtest.h>

#include "ersatz/wire/ethernet.hpp"
#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;
using test::mb;

// Frames made with scapy; the comments are tcpdump -nn's lines for them.
struct Golden6 {
  const char* name;
  const char* hex;
  const char* tcpdump;  // after "IP6 SRC > DST: "
};
const Golden6 goldens[] = {
    {"echo",
     "ffffffffffff02fc0000000186dd6000000000103a4020010db800000000000000000000000120010db800000000"
     "00000000000000028000806f123400076162636465666768",
     "ICMP6, echo request, id 4660, seq 7, length 16"},
    {"ns",
     "3333ff00000202fc0000000186dd6000000000203afffe800000000000000000000000000001ff020000000000000"
     "0000001ff00000287007a9700000000fe8000000000000000000000000000020101020000000001",
     "ICMP6, neighbor solicitation, who has fe80::2, length 32"},
    {"ra",
     "33330000000102fc0000000186dd6000000000383afffe800000000000000000000000000001ff020000000000000"
     "0"
     "000000000000018600b81c408807080000000000000000030440c0ffffffffffffffff0000000020010db80000000"
     "0000000000000000005010000000005dc",
     "ICMP6, router advertisement, length 56"},
    {"unreach",
     "ffffffffffff02fc0000000186dd6000000000403a4020010db800000000000000000000000120010db8000000000"
     "000000000000002010431dd00000000600000000010114020010db800000000000000000000000220010db8000000"
     "0"
     "000000000000000011388829a00102c557878787878787878",
     "ICMP6, destination unreachable, unreachable port, 2001:db8::1 udp port 33434, length 64"},
};

struct Msg {
  Bytes frame;
  ipv6::Packet<> ip;
  ConstBytes icmp;
  std::uint16_t pseudo;
};

Msg message(const char* hex) {
  Bytes f = test::from_hex(hex);
  auto ip = *ipv6::Packet<>::checked(cb(f).subspan(ethernet::header_len));
  const ConstBytes icmp = ip.payload();
  const auto pseudo =
      ipv6::pseudo_header_sum(ip.src(), ip.dst(), static_cast<std::uint32_t>(icmp.size()), 58);
  return {std::move(f), ip, icmp, pseudo};
}

std::string text(ConstBytes m, std::size_t len) {
  fmt::memory_buffer out;
  icmpv6::format(out, m, len);
  return fmt::to_string(out);
}

TEST(Icmpv6, GoldenChecksumsTextAndRoundTrip) {
  for (const auto& g : goldens) {
    Msg m = message(g.hex);
    auto p = icmpv6::Packet<>::checked(m.icmp);
    ASSERT_TRUE(p) << g.name;
    EXPECT_TRUE(p->verify_checksum(m.pseudo)) << g.name;
    EXPECT_EQ(p->compute_checksum(m.pseudo), p->checksum()) << g.name;
    EXPECT_FALSE(p->verify_checksum(static_cast<std::uint16_t>(m.pseudo + 1))) << g.name;
    EXPECT_EQ(text(m.icmp, m.icmp.size()), g.tcpdump) << g.name;
    auto r = icmpv6::Repr::parse(*p, m.pseudo);
    ASSERT_TRUE(r) << g.name;
    Bytes out = test::poisoned(r->buffer_len());
    r->emit(mb(out), m.pseudo);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), m.icmp.begin(), m.icmp.end())) << g.name;
  }
}

TEST(Icmpv6, NeighborSolicitationAndOptions) {
  Msg m = message(goldens[1].hex);
  auto p = icmpv6::Packet<>::checked(m.icmp);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type(), icmpv6::Type::neighbor_solicit);
  EXPECT_EQ(fmt::format("{}", p->target()), "fe80::2");
  icmpv6::NdOptionReader r(p->nd_options());
  auto o = r.next();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, icmpv6::NdOptionType::source_ll);
  EXPECT_EQ(MacAddress::from_bytes(o->link_address()), *MacAddress::parse("02:00:00:00:00:01"));
  EXPECT_FALSE(r.next());
  EXPECT_FALSE(r.error());
}

TEST(Icmpv6, RouterAdvertisementFieldsAndPrefix) {
  Msg m = message(goldens[2].hex);
  auto p = icmpv6::Packet<>::checked(m.icmp);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ra_hop_limit(), 64);
  EXPECT_EQ(p->ra_flags() & icmpv6::ra_flag_managed, icmpv6::ra_flag_managed);
  EXPECT_EQ(p->ra_lifetime(), 1800);
  icmpv6::NdOptionReader r(p->nd_options());
  auto pi = r.next();
  ASSERT_TRUE(pi);
  EXPECT_EQ(pi->type, icmpv6::NdOptionType::prefix_info);
  EXPECT_EQ(pi->bytes.size(), icmpv6::prefix_info_len);
  EXPECT_EQ(load_u8(pi->bytes, icmpv6::nd_field::prefix_len), 64);
  auto mtu = r.next();
  ASSERT_TRUE(mtu);
  EXPECT_EQ(load_be32(mtu->bytes, icmpv6::nd_field::mtu.begin), 1500U);
}

TEST(Icmpv6, ZeroLengthOptionIsRejected) {
  Msg m = message(goldens[1].hex);
  Bytes copy(m.icmp.begin(), m.icmp.end());
  copy[icmpv6::ns_len + 1] = std::byte{0};
  auto p = icmpv6::Packet<MutBytes>::checked(mb(copy));
  ASSERT_TRUE(p);
  p->fill_checksum(m.pseudo);
  auto c = icmpv6::Packet<>::checked(cb(copy));
  EXPECT_EQ(icmpv6::Repr::parse(*c, m.pseudo).error(), Error::bad_option);
}

TEST(Icmpv6, ShortNdMessagesFailTheirLengthCheck) {
  Msg m = message(goldens[1].hex);
  EXPECT_EQ(icmpv6::Packet<>::checked(m.icmp.first(23)).error(), Error::truncated);
  // tcpdump reads the target only when it prints it.
  EXPECT_EQ(text(m.icmp.first(23), 32), "ICMP6, neighbor solicitation [|icmp6]");
}

TEST(Icmpv6, Mld2ReportRecords) {
  // ff02::16, one record (CHANGE_TO_EXCLUDE ff02::1:ff00:1), no sources.
  Bytes msg = test::from_hex(
      "8f00710700000001"
      "04000000ff0200000000000000000001ff000001");
  auto p = icmpv6::Packet<>::checked(cb(msg));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mld2_num_records(), 1);
  auto r = p->mld2_records();
  auto rec = r.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->type(), icmpv6::RecordType::to_exclude);
  EXPECT_EQ(fmt::format("{}", rec->address()), "ff02::1:ff00:1");
  EXPECT_FALSE(r.next());
  EXPECT_FALSE(r.error());
  EXPECT_EQ(text(cb(msg), msg.size()),
            "ICMP6, multicast listener report v2, 1 group record(s), length 28");
  // A count larger than the records there ends the reading with an error.
  store_be16(mb(msg), 6, 3);
  auto p3 = icmpv6::Packet<>::checked(cb(msg));
  auto r3 = p3->mld2_records();
  EXPECT_TRUE(r3.next());
  EXPECT_FALSE(r3.next());
  EXPECT_EQ(r3.error(), Error::truncated);
}

TEST(Icmpv6, MldV1TextHasTcpdumpsMissingSeparator) {
  Bytes q = test::from_hex(
      "8200000027100000"
      "00000000000000000000000000000000");
  EXPECT_EQ(text(cb(q), q.size()),
            "ICMP6, multicast listener querymax resp delay: 10000 addr: ::, length 24");
  Bytes admin = test::from_hex(
      "01010000"
      "00000000");
  admin.resize(8 + 40);
  store_u8(mb(admin), 8, 0x60);
  EXPECT_EQ(text(cb(admin), admin.size()),
            "ICMP6, destination unreachable,  unreachable prohibited ::, length 48");
}

}  // namespace
}  // namespace ersatz::wire
