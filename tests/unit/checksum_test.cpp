#include "ersatz/wire/checksum.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support.hpp"

namespace ersatz::wire {
namespace {

using test::Bytes;
using test::cb;

/// The RFC 1071 definition, one 16-bit word at a time, as the reference.
std::uint16_t reference_sum(ConstBytes d) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += load_be16(d, i);
  if (d.size() % 2) sum += static_cast<std::uint32_t>(d.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
  const Bytes d = test::from_hex("0001f203f4f5f6f7");
  EXPECT_EQ(checksum::ones_sum(cb(d)), 0xddf2);
  EXPECT_EQ(checksum::compute(cb(d)), static_cast<std::uint16_t>(~0xddf2));
}

TEST(Checksum, MatchesReferenceForEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  Bytes buf(600);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; len + offset <= buf.size(); len += (len < 70 ? 1 : 37)) {
      ConstBytes d(buf.data() + offset, len);
      ASSERT_EQ(checksum::ones_sum(d), reference_sum(d)) << "offset " << offset << " len " << len;
    }
  }
}

TEST(Checksum, AllOnesCarriesFold) {
  const Bytes d(1000, std::byte{0xff});
  EXPECT_EQ(checksum::ones_sum(cb(d)), 0xffff);
}

TEST(Checksum, VerifyAcceptsComputedAndRejectsFlippedBit) {
  Bytes d = test::from_hex("4500005400004000400100000a0000010a000002");
  const std::uint16_t c = checksum::compute(cb(d));
  store_be16(test::mb(d), 10, c);
  EXPECT_TRUE(checksum::verify(cb(d)));
  d[3] ^= std::byte{0x10};
  EXPECT_FALSE(checksum::verify(cb(d)));
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  // RFC 1624: decrementing the TTL, the classic case, over many headers.
  std::mt19937 rng(1624);
  for (int i = 0; i < 2000; ++i) {
    Bytes h(20);
    for (auto& b : h) b = static_cast<std::byte>(rng());
    store_be16(test::mb(h), 10, 0);
    store_be16(test::mb(h), 10, checksum::compute(cb(h)));
    const std::uint16_t old_word = load_be16(cb(h), 8);
    const auto new_word = static_cast<std::uint16_t>(old_word - 0x0100);
    const std::uint16_t updated = checksum::update(load_be16(cb(h), 10), old_word, new_word);
    store_be16(test::mb(h), 8, new_word);
    store_be16(test::mb(h), 10, updated);
    ASSERT_TRUE(checksum::verify(cb(h))) << "iteration " << i;
    store_be16(test::mb(h), 10, 0);
    const std::uint16_t fresh = checksum::compute(cb(h));
    // Both are valid encodings; they differ only in the +0/-0 case.
    ASSERT_TRUE(updated == fresh || (updated == 0xffff && fresh == 0) ||
                (updated == 0 && fresh == 0xffff));
  }
}

TEST(Checksum, IncrementalUpdateToAllZeroDataNeedsRecompute) {
  // The one case eqn. 3 gets wrong (fuzz/regressions/fuzz_checksum/
  // crash-update-to-all-zero-data): the only non-zero covered word becomes
  // zero. The sum is then +0 and only 0xffff verifies; eqn. 3 gives 0x0000.
  Bytes h(4);
  store_be16(test::mb(h), 2, 0x5a5a);
  const std::uint16_t before = checksum::compute(cb(h));
  EXPECT_EQ(before, 0xa5a5);
  const std::uint16_t updated = checksum::update(before, 0x5a5a, 0x0000);
  EXPECT_EQ(updated, 0x0000);
  store_be16(test::mb(h), 2, 0);
  EXPECT_EQ(checksum::compute(cb(h)), 0xffff);
  store_be16(test::mb(h), 0, updated);
  EXPECT_FALSE(checksum::verify(cb(h)));
  store_be16(test::mb(h), 0, 0xffff);
  EXPECT_TRUE(checksum::verify(cb(h)));
}

TEST(Checksum, Rfc1624Example) {
  // RFC 1624 §4's example: HC = 0xdd2f, m = 0x5555 → m' = 0x3285 gives 0x0000.
  static_assert(checksum::update(0xdd2f, 0x5555, 0x3285) == 0x0000);
}

}  // namespace
}  // namespace ersatz::wire
