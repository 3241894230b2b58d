// Transmit timestamps: the error-queue control parser and the key
// numbering, on control bytes captured from Linux 6.18 and on hostile ones;
// no kernel, no privileges. Buffers are vectors of the exact size, so ASan
// sees any read past them.
#include <gtest/gtest.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "ersatz/link/open_device.hpp"
#include "ersatz/link/rx_control.hpp"
#include "ersatz/link/tx_timestamp.hpp"
#include "support.hpp"

namespace ersatz::link::txstamp {
namespace {

using test::Bytes;
using test::from_hex;

// recvmsg(MSG_ERRQUEUE) on an AF_PACKET socket with SO_TIMESTAMPING =
// TX_SOFTWARE | SOFTWARE | OPT_ID | OPT_TSONLY, the third frame sent over a
// veth (key 2), captured in a netns on Linux 6.18: SCM_TIMESTAMPING (37,
// ts[0] = 1796189918.028575249) then PACKET_TX_TIMESTAMP (ee_errno 42
// ENOMSG, origin 4 TIMESTAMPING, info 0 SND, data 2).
const char* const kernel_old =
    "40000000 00000000 01000000 25000000 deae0f6b 00000000 1106b401 00000000"
    "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
    "20000000 00000000 07010000 10000000 2a000000 04000000 00000000 02000000";
// The same with SO_TIMESTAMPING_NEW: SCM_TIMESTAMPING_NEW (65), key 0,
// ts[0] = 1796189918.051252737.
const char* const kernel_new =
    "40000000 00000000 01000000 41000000 deae0f6b 00000000 010e0e03 00000000"
    "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
    "20000000 00000000 07010000 10000000 2a000000 04000000 00000000 00000000";

/// Control bytes laid out as put_cmsg() lays them out.
class Control {
 public:
  Control& add(int level, int type, const void* data, std::size_t len) {
    const std::size_t at = buf_.size();
    buf_.resize(at + CMSG_SPACE(len), std::byte{0});
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    std::memcpy(buf_.data() + at, &h, sizeof h);
    std::memcpy(buf_.data() + at + CMSG_LEN(0), data, len);
    return *this;
  }
  Control& stamp(std::int64_t sec, long nsec, int type = 37) {
    std::int64_t words[6] = {sec, nsec, 0, 0, 0, 0};
    return add(SOL_SOCKET, type, words, sizeof words);
  }
  Control& ext(std::uint32_t key, std::uint32_t info = SCM_TSTAMP_SND, std::uint32_t err = ENOMSG,
               std::uint8_t origin = SO_EE_ORIGIN_TIMESTAMPING) {
    sock_extended_err e{};
    e.ee_errno = err;
    e.ee_origin = origin;
    e.ee_info = info;
    e.ee_data = key;
    return add(SOL_PACKET, PACKET_TX_TIMESTAMP, &e, sizeof e);
  }
  /// Overwrites the cmsg_len of the header at `at`.
  Control& set_len(std::size_t at, std::size_t len) {
    std::memcpy(buf_.data() + at + offsetof(cmsghdr, cmsg_len), &len, sizeof len);
    return *this;
  }
  Bytes bytes() const { return buf_; }

 private:
  Bytes buf_;
};

ConstBytes span(const Bytes& b) { return {b.data(), b.size()}; }

TEST(TxStampParse, ReadsTheKernelsOldForm) {
  const Bytes c = from_hex(kernel_old);
  ASSERT_EQ(c.size(), 96U);
  auto s = parse_control(span(c));
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s);
  EXPECT_EQ((*s)->key, 2U);
  EXPECT_EQ((*s)->point, point_sent);
  EXPECT_EQ((*s)->ts, (Timestamp{1796189918, 28575249}));
}

TEST(TxStampParse, ReadsTheKernelsNewForm) {
  const Bytes c = from_hex(kernel_new);
  auto s = parse_control(span(c));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 0U);
  EXPECT_EQ((*s)->ts, (Timestamp{1796189918, 51252737}));
}

TEST(TxStampParse, OrderOfTheTwoMessagesDoesNotMatter) {
  const Bytes c = Control().ext(7, SCM_TSTAMP_SCHED).stamp(1700000000, 123).bytes();
  auto s = parse_control(span(c));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 7U);
  EXPECT_EQ((*s)->point, point_sched);
  EXPECT_EQ((*s)->ts, (Timestamp{1700000000, 123}));
}

TEST(TxStampParse, UnalignedBufferIsReadByteWise) {
  const Bytes c = from_hex(kernel_old);
  Bytes shifted(c.size() + 1);
  std::memcpy(shifted.data() + 1, c.data(), c.size());
  auto s = parse_control(ConstBytes(shifted.data() + 1, c.size()));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 2U);
}

TEST(TxStampParse, OtherMessagesAroundAreSkipped) {
  const int mark = 0x1234;
  const Bytes c = Control()
                      .add(SOL_SOCKET, SO_MARK, &mark, sizeof mark)
                      .stamp(1700000000, 5)
                      .add(0 /* SOL_IP */, 8, &mark, sizeof mark)
                      .ext(9)
                      .bytes();
  auto s = parse_control(span(c));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 9U);
}

TEST(TxStampParse, TheFirstOfEachKindCounts) {
  const Bytes c = Control().stamp(1700000000, 1).ext(1).stamp(1800000000, 2).ext(2).bytes();
  auto s = parse_control(span(c));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 1U);
  EXPECT_EQ((*s)->ts, (Timestamp{1700000000, 1}));
}

TEST(TxStampParse, NothingIsNotAStamp) {
  auto s = parse_control({});
  ASSERT_TRUE(s);
  EXPECT_FALSE(*s);
}

TEST(TxStampParse, AStampNeedsBothMessages) {
  const Bytes only_ts = Control().stamp(1700000000, 5).bytes();
  const Bytes only_err = Control().ext(3).bytes();
  for (const Bytes& c : {only_ts, only_err}) {
    auto s = parse_control(span(c));
    ASSERT_TRUE(s);
    EXPECT_FALSE(*s);
  }
}

TEST(TxStampParse, OnlyTimestampingReportsAreStamps) {
  // A zerocopy completion and an ICMP error share the queue and the struct.
  const Bytes zerocopy = Control().stamp(1700000000, 5).ext(3, 0, 0, 5).bytes();
  const Bytes icmp = Control().stamp(1700000000, 5).ext(3, 0, EHOSTUNREACH, 2).bytes();
  const Bytes wrong_errno =
      Control().stamp(1700000000, 5).ext(3, 0, 0, SO_EE_ORIGIN_TIMESTAMPING).bytes();
  for (const Bytes& c : {zerocopy, icmp, wrong_errno}) {
    auto s = parse_control(span(c));
    ASSERT_TRUE(s);
    EXPECT_FALSE(*s);
  }
}

TEST(TxStampParse, AbsentOrImpossibleTimesAreNotStamps) {
  // ts[0] zero: the kernel had only a hardware stamp (ts[2]) for it.
  const Bytes zero = Control().stamp(0, 0).ext(1).bytes();
  const Bytes nsec_big = Control().stamp(1700000000, 1'000'000'000).ext(1).bytes();
  const Bytes nsec_neg = Control().stamp(1700000000, -1).ext(1).bytes();
  const Bytes sec_neg = Control().stamp(-5, 0).ext(1).bytes();
  for (const Bytes& c : {zero, nsec_big, nsec_neg, sec_neg}) {
    auto s = parse_control(span(c));
    ASSERT_TRUE(s);
    EXPECT_FALSE(*s);
  }
  auto edge = parse_control(span(Control().stamp(0, 999'999'999).ext(1).bytes()));
  ASSERT_TRUE(edge && *edge);
  EXPECT_EQ((*edge)->ts, (Timestamp{0, 999'999'999}));
}

TEST(TxStampParseHostile, LengthShorterThanTheHeader) {
  for (std::size_t len : {0UL, 1UL, sizeof(cmsghdr) - 1}) {
    const Bytes c = Control().stamp(1700000000, 5).ext(1).set_len(0, len).bytes();
    auto s = parse_control(span(c));
    ASSERT_FALSE(s) << len;
    EXPECT_EQ(s.error(), RawError::bad_control);
  }
}

TEST(TxStampParseHostile, LengthPastTheBuffer) {
  const Bytes good = Control().stamp(1700000000, 5).ext(1).bytes();
  // The second header claims one byte more than is left, then everything.
  for (std::size_t len : {good.size() - 64 + 1, std::size_t{1} << 40, SIZE_MAX}) {
    Control c = Control().stamp(1700000000, 5).ext(1);
    auto s = parse_control(span(c.set_len(64, len).bytes()));
    ASSERT_FALSE(s) << len;
    EXPECT_EQ(s.error(), RawError::bad_control);
  }
}

TEST(TxStampParseHostile, TimestampingDataCutShort) {
  // A SCM_TIMESTAMPING of 47 bytes: one short of three timespecs.
  Bytes words(47);
  const Bytes c = Control().add(SOL_SOCKET, 37, words.data(), words.size()).ext(1).bytes();
  auto s = parse_control(span(c));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), RawError::bad_control);
  const Bytes n = Control().add(SOL_SOCKET, 65, words.data(), words.size()).ext(1).bytes();
  EXPECT_FALSE(parse_control(span(n)));
}

TEST(TxStampParseHostile, ExtendedErrorCutShort) {
  Bytes e(sizeof(sock_extended_err) - 1);
  const Bytes c = Control()
                      .stamp(1700000000, 5)
                      .add(SOL_PACKET, PACKET_TX_TIMESTAMP, e.data(), e.size())
                      .bytes();
  auto s = parse_control(span(c));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), RawError::bad_control);
}

TEST(TxStampParseHostile, ATrailingPartialHeaderEndsTheWalk) {
  // put_cmsg leaves what it could not fill; fewer bytes than a header are
  // not a message.
  Bytes c = from_hex(kernel_old);
  c.resize(c.size() + sizeof(cmsghdr) - 1, std::byte{0xff});
  auto s = parse_control(span(c));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 2U);
}

TEST(TxStampParseHostile, LastMessageWithoutItsAlignmentPadding) {
  // A last message of odd length (CMSG_LEN(1)) with the buffer ending right
  // after it, without the CMSG_SPACE padding: it is read, and the walk
  // neither reads nor steps past the end.
  const std::uint8_t one = 1;
  Bytes c = Control().stamp(1700000000, 5).ext(6).add(SOL_PACKET, 99, &one, 1).bytes();
  // erase, not resize: GCC 12 at -O1 cannot tell that resize only shrinks
  // here and warns about its growing path (-Wstringop-overflow).
  const auto padding = static_cast<std::ptrdiff_t>(CMSG_SPACE(1) - CMSG_LEN(1));
  c.erase(c.end() - padding, c.end());
  auto s = parse_control(span(c));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->key, 6U);
}

TEST(TxStampParseHostile, RandomBytesNeverEscapeTheBuffer) {
  // Random lengths and types over a real message; under ASan a read past
  // the exact-size buffer fails the test. Every outcome is fine as long as
  // it returns, and a stamp it gives is a valid time.
  std::mt19937 rng(20261202);
  const Bytes base = from_hex(kernel_old);
  int stamps = 0;
  int errors = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes c = base;
    c.resize(rng() % (base.size() + 24));
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < flips && !c.empty(); ++i) {
      c[rng() % c.size()] = static_cast<std::byte>(rng());
    }
    auto s = parse_control(span(c));
    if (!s) {
      ++errors;
      continue;
    }
    if (*s) {
      ++stamps;
      EXPECT_LT((*s)->ts.nsec, 1'000'000'000U);
      EXPECT_GE((*s)->ts.sec, 0);
    }
  }
  // Both outcomes happened: the test exercised the checks and the reads.
  EXPECT_GT(stamps, 0);
  EXPECT_GT(errors, 0);
}

TEST(TxStampNumbering, OneKeyPerFrame) {
  Numbering n;
  for (std::uint32_t k = 0; k < 5; ++k) EXPECT_EQ(n.frame(k, 5), k);
}

TEST(TxStampNumbering, FramesOfOneKickShareTheirKey) {
  Numbering n;
  // Kick of frames 10..13 (key 10), then a kick of 14..15 (key 14).
  EXPECT_EQ(n.frame(10, 16), 10U);
  EXPECT_EQ(n.frame(10, 16), 11U);
  EXPECT_EQ(n.frame(10, 16), 12U);
  EXPECT_EQ(n.frame(10, 16), 13U);
  EXPECT_EQ(n.frame(14, 16), 14U);
  EXPECT_EQ(n.frame(14, 16), 15U);
  // A further stamp for key 14 would be frame 16, not yet sent: refused,
  // and the run is not extended by it.
  EXPECT_EQ(n.frame(14, 16), std::nullopt);
  EXPECT_EQ(n.frame(14, 17), 16U);
}

TEST(TxStampNumbering, KeysFromTheFutureOrBeforeAnythingWasSent) {
  Numbering n;
  EXPECT_EQ(n.frame(0, 0), std::nullopt);
  EXPECT_EQ(n.frame(5, 5), std::nullopt);
  EXPECT_EQ(n.frame(0xffffffffU, 3), std::nullopt);
  EXPECT_EQ(n.frame(4, 5), 4U);
}

TEST(TxStampNumbering, KeysAreUnwrappedFrom32Bits) {
  Numbering n;
  const std::uint64_t sent = (std::uint64_t{1} << 32) + 5;  // frames 0 .. 2^32 + 4
  EXPECT_EQ(n.frame(2, sent), (std::uint64_t{1} << 32) + 2);
  EXPECT_EQ(n.frame(0xfffffffeU, sent), (std::uint64_t{1} << 32) - 2);
  EXPECT_EQ(n.frame(5, sent), 5U);  // 2^32 + 5 is not sent yet; 5 is
  EXPECT_EQ(n.frame(4, sent), (std::uint64_t{1} << 32) + 4);
}

TEST(TxStampNumbering, ARepeatedKeyAfterAnotherStartsAFreshRun) {
  Numbering n;
  EXPECT_EQ(n.frame(3, 10), 3U);
  EXPECT_EQ(n.frame(3, 10), 4U);
  EXPECT_EQ(n.frame(7, 10), 7U);
  EXPECT_EQ(n.frame(3, 10), 3U);  // a stale report: its own key, run 0
}

}  // namespace
}  // namespace ersatz::link::txstamp

// ---------------------------------------------------------------- receive

namespace ersatz::link::rxmeta {
namespace {

using txstamp::Control;
using txstamp::span;

Control received(std::int64_t sec, long nsec, std::optional<std::uint16_t> tci = {},
                 std::uint16_t tpid = 0) {
  Control c;
  timespec ts{};
  ts.tv_sec = sec;
  ts.tv_nsec = nsec;
  c.add(SOL_SOCKET, SO_TIMESTAMPNS, &ts, sizeof ts);
  tpacket_auxdata aux{};
  aux.tp_len = 98;
  aux.tp_snaplen = 98;
  if (tci) {
    aux.tp_status = TP_STATUS_VLAN_VALID | (tpid != 0 ? TP_STATUS_VLAN_TPID_VALID : 0);
    aux.tp_vlan_tci = *tci;
    aux.tp_vlan_tpid = tpid;
  }
  c.add(SOL_PACKET, PACKET_AUXDATA, &aux, sizeof aux);
  return c;
}

TEST(RxControl, ReadsTheTimeAndTheTag) {
  auto m = parse_control(span(received(1796189918, 28575249, 0x2064, 0x88a8).bytes()));
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->ts);
  EXPECT_EQ(*m->ts, (Timestamp{1796189918, 28575249}));
  EXPECT_EQ(m->vlan_tci, std::optional<std::uint16_t>(0x2064));
  EXPECT_EQ(m->vlan_tpid, 0x88a8);
}

TEST(RxControl, NoTagUnlessTheKernelSaysValid) {
  auto m = parse_control(span(received(5, 6).bytes()));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->vlan_tci);
  // A tag without its TPID flag is 802.1Q's.
  m = parse_control(span(received(5, 6, 7).bytes()));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->vlan_tci, std::optional<std::uint16_t>(7));
  EXPECT_EQ(m->vlan_tpid, 0x8100);
}

TEST(RxControl, InsaneTimesAreLeftOut) {
  auto m = parse_control(span(received(5, 1'000'000'000).bytes()));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ts);
  m = parse_control(span(received(-1, 0).bytes()));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ts);
  EXPECT_TRUE(parse_control({}));  // nothing at all is not an error
}

TEST(RxControl, LengthsThatLieAreErrors) {
  // A header whose length runs past the buffer.
  auto bytes = received(5, 6).set_len(0, 4096).bytes();
  EXPECT_EQ(parse_control(span(bytes)).error(), RawError::bad_control);
  // Shorter than a header.
  bytes = received(5, 6).set_len(0, 3).bytes();
  EXPECT_EQ(parse_control(span(bytes)).error(), RawError::bad_control);
  // An auxdata message too short for its struct.
  Control c;
  std::uint32_t status = TP_STATUS_VLAN_VALID;
  c.add(SOL_PACKET, PACKET_AUXDATA, &status, sizeof status);
  EXPECT_EQ(parse_control(span(c.bytes())).error(), RawError::bad_control);
}

}  // namespace
}  // namespace ersatz::link::rxmeta
