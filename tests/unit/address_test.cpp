#include "ersatz/wire/address.hpp"

#include <gtest/gtest.h>

namespace ersatz::wire {
namespace {

TEST(Ipv4Address, ParsesAndFormatsDottedQuad) {
  auto a = Ipv4Address::parse("198.18.0.254");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value(), 0xc61200feU);
  EXPECT_EQ(fmt::format("{}", *a), "198.18.0.254");
  EXPECT_EQ(fmt::format("{}", Ipv4Address(0)), "0.0.0.0");
  EXPECT_EQ(fmt::format("{}", Ipv4Address(0xffffffffU)), "255.255.255.255");
  EXPECT_EQ(fmt::format("{}", Ipv4Address(10, 0, 100, 9)), "10.0.100.9");
}

TEST(Ipv4Address, RejectsMalformedText) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "01.2.3.4", "1..2.3",
                          "a.b.c.d", "1.2.3.-4", "1234.1.1.1"}) {
    EXPECT_FALSE(Ipv4Address::parse(bad)) << bad;
  }
}

TEST(Ipv4Address, Classifies) {
  EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).is_martian_source());
  EXPECT_TRUE(Ipv4Address(0, 1, 2, 3).is_martian_source());
  EXPECT_TRUE(Ipv4Address(224, 0, 0, 1).is_martian_source());
  EXPECT_TRUE(Ipv4Address(240, 0, 0, 1).is_martian_source());
  EXPECT_FALSE(Ipv4Address(198, 18, 0, 1).is_martian_source());
  EXPECT_TRUE(Ipv4Address(198, 19, 4, 4).in_prefix(Ipv4Address(198, 18, 0, 0), 15));
  EXPECT_FALSE(Ipv4Address(198, 20, 0, 0).in_prefix(Ipv4Address(198, 18, 0, 0), 15));
  EXPECT_TRUE(Ipv4Address(1, 2, 3, 4).in_prefix(Ipv4Address(0), 0));
}

TEST(MacAddress, ParsesAndFormats) {
  auto m = MacAddress::parse("02:E5:00:00:00:fe");
  ASSERT_TRUE(m);
  EXPECT_EQ(fmt::format("{}", *m), "02:e5:00:00:00:fe");
  EXPECT_TRUE(MacAddress::parse("02-e5-00-00-00-fe"));
  EXPECT_FALSE(MacAddress::parse("02:e5:00:00:00"));
  EXPECT_FALSE(MacAddress::parse("02:e5:00-00:00:fe"));
  EXPECT_FALSE(MacAddress::parse("0g:e5:00:00:00:fe"));
  EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());
  EXPECT_FALSE(m->is_multicast());
}

}  // namespace
}  // namespace ersatz::wire
