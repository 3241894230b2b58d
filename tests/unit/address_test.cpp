#include "ersatz/wire/address.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ersatz/wire/text.hpp"

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

// text::append replaced fmt format strings in every printer whose output
// must stay byte-identical to tcpdump's, so it is held to fmt's output.
TEST(AddressText, AppendMatchesFmt) {
  auto text = [](auto... parts) {
    fmt::memory_buffer out;
    out.append(std::string_view("x"));  // appends after what is there
    text::append(out, parts...);
    return fmt::to_string(out);
  };
  std::vector<std::uint64_t> values = {
      0,     1,     9,      10,          99,
      100,   999,   1000,   9999,        10000,
      65535, 99999, 100000, 4294967295U, std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t p = 1; p != 0 && p < (std::uint64_t{1} << 63); p *= 7) values.push_back(p);
  for (const std::uint64_t v : values) {
    EXPECT_EQ(text(v), fmt::format("x{}", v));
    EXPECT_EQ(text(static_cast<std::int64_t>(v)), fmt::format("x{}", static_cast<std::int64_t>(v)));
    const auto v32 = static_cast<std::uint32_t>(v);
    for (unsigned w : {0U, 1U, 2U, 3U, 6U, 9U}) {
      EXPECT_EQ(text(text::dec(v32, w)), fmt::format("x{:0{}}", v32, w)) << v32 << " " << w;
    }
    for (unsigned w : {0U, 2U, 4U, 8U}) {
      EXPECT_EQ(text(text::hex(v32, w)), fmt::format("x{:0{}x}", v32, w)) << v32 << " " << w;
    }
    EXPECT_EQ(text(Ipv4Address(v32)), fmt::format("x{}", Ipv4Address(v32)));
  }
  EXPECT_EQ(text(std::numeric_limits<std::int64_t>::min()),
            fmt::format("x{}", std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(text(std::uint8_t{200}, ' ', std::uint16_t{65535}), "x200 65535");
  EXPECT_EQ(text("lit", std::string_view("view"), ':', MacAddress::broadcast()),
            "xlitview:ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(text(), "x");
  // Past the inline capacity of a memory_buffer, the buffer grows.
  fmt::memory_buffer big;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    text::append(big, "line ", static_cast<unsigned>(i), '\n');
    expected += fmt::format("line {}\n", i);
  }
  EXPECT_EQ(fmt::to_string(big), expected);
}

}  // namespace
}  // namespace ersatz::wire
