// The TPACKET_V3 block walker and the TPACKET_V2 slot reader on synthetic
// rings, good and hostile: no kernel, no privileges. Blocks are laid out as tpacket_rcv() lays them
// out (Documentation/networking/packet_mmap.rst), in buffers pre-filled
// with 0xa5 so that a walk into unwritten bytes meets garbage, and in
// vectors of the exact block size so that ASan sees any read past it.
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cstring>
#include <random>

#include "ersatz/link/af_packet.hpp"
#include "support.hpp"

namespace ersatz::link::tpacket {
namespace {

using test::Bytes;

constexpr std::size_t bh1 = offsetof(tpacket_block_desc, hdr);
constexpr std::size_t reserve = 4;  // PACKET_RESERVE, as AfPacketDevice sets it

class Block {
 public:
  explicit Block(std::size_t size = 4096) : buf_(size, std::byte{0xa5}) {
    put<std::uint32_t>(offsetof(tpacket_block_desc, version), TPACKET_V3);
    put<std::uint32_t>(offsetof(tpacket_block_desc, offset_to_priv), 0);
    set_status(TP_STATUS_USER);
    set_num_pkts(0);
    // The first frame follows the descriptor, aligned (BLK_PLUS_PRIV(0)).
    first_ = TPACKET_ALIGN(sizeof(tpacket_block_desc));
    set_first(static_cast<std::uint32_t>(first_));
    next_ = first_;
    set_blk_len(static_cast<std::uint32_t>(first_));
  }

  /// Appends a frame where the kernel would put it; returns its header offset.
  std::size_t add(const Bytes& frame, std::uint32_t sec = 1700000000, std::uint32_t nsec = 5,
                  std::uint32_t status = TP_STATUS_USER, std::uint16_t tci = 0,
                  std::uint16_t tpid = 0, std::uint8_t pkttype = PACKET_HOST) {
    const std::size_t at = next_;
    // tpacket_rcv: netoff = TPACKET_ALIGN(tp_hdrlen + max(maclen, 16)) +
    // reserve; macoff = netoff - maclen.
    const std::size_t netoff = TPACKET_ALIGN(TPACKET3_HDRLEN + 16) + reserve;
    const std::size_t mac = netoff - 14;
    const std::size_t total = TPACKET_ALIGN(mac + frame.size());
    zero(at, sizeof(tpacket3_hdr));
    hdr(at, offsetof(tpacket3_hdr, tp_next_offset), std::uint32_t{0});
    hdr(at, offsetof(tpacket3_hdr, tp_sec), sec);
    hdr(at, offsetof(tpacket3_hdr, tp_nsec), nsec);
    hdr(at, offsetof(tpacket3_hdr, tp_snaplen), static_cast<std::uint32_t>(frame.size()));
    hdr(at, offsetof(tpacket3_hdr, tp_len), static_cast<std::uint32_t>(frame.size()));
    hdr(at, offsetof(tpacket3_hdr, tp_status), status);
    hdr(at, offsetof(tpacket3_hdr, tp_mac), static_cast<std::uint16_t>(mac));
    hdr(at, offsetof(tpacket3_hdr, tp_net), static_cast<std::uint16_t>(netoff));
    hdr(at, offsetof(tpacket3_hdr, hv1) + offsetof(tpacket_hdr_variant1, tp_vlan_tci),
        std::uint32_t{tci});
    hdr(at, offsetof(tpacket3_hdr, hv1) + offsetof(tpacket_hdr_variant1, tp_vlan_tpid), tpid);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_pkttype = pkttype;
    std::memcpy(buf_.data() + at + TPACKET_ALIGN(sizeof(tpacket3_hdr)), &sll, sizeof sll);
    std::memcpy(buf_.data() + at + mac, frame.data(), frame.size());
    if (last_ != npos)
      hdr(last_, offsetof(tpacket3_hdr, tp_next_offset), static_cast<std::uint32_t>(at - last_));
    last_ = at;
    next_ = at + total;
    ++count_;
    set_num_pkts(count_);
    set_blk_len(static_cast<std::uint32_t>(next_));
    return at;
  }

  template <class T>
  void put(std::size_t at, T v) {
    std::memcpy(buf_.data() + at, &v, sizeof v);
  }
  template <class T>
  void hdr(std::size_t frame_at, std::size_t field, T v) {
    put(frame_at + field, v);
  }
  void zero(std::size_t at, std::size_t n) { std::memset(buf_.data() + at, 0, n); }

  void set_status(std::uint32_t v) { put(bh1 + offsetof(tpacket_hdr_v1, block_status), v); }
  void set_num_pkts(std::uint32_t v) { put(bh1 + offsetof(tpacket_hdr_v1, num_pkts), v); }
  void set_first(std::uint32_t v) { put(bh1 + offsetof(tpacket_hdr_v1, offset_to_first_pkt), v); }
  void set_blk_len(std::uint32_t v) { put(bh1 + offsetof(tpacket_hdr_v1, blk_len), v); }

  ConstBytes bytes() const { return {buf_.data(), buf_.size()}; }
  MutBytes mut() { return {buf_.data(), buf_.size()}; }
  std::size_t used() const { return next_; }
  std::size_t first() const { return first_; }

 private:
  static constexpr std::size_t npos = ~std::size_t{0};
  Bytes buf_;
  std::size_t first_;
  std::size_t next_;
  std::size_t last_ = npos;
  std::uint32_t count_ = 0;
};

Bytes frame_of(std::uint8_t tag, std::size_t n = 60) {
  Bytes f(n, std::byte{tag});
  return f;
}

/// Walks the whole block; the error, if any, ends the walk.
struct Walk {
  std::vector<RingFrame> frames;
  std::optional<std::error_code> error;
};
Walk walk(ConstBytes block) {
  Walk w;
  auto bw = BlockWalker::open(block);
  if (!bw) {
    w.error = bw.error();
    return w;
  }
  for (int guard = 0; guard < 100000; ++guard) {
    auto f = bw->next();
    if (!f) {
      w.error = f.error();
      return w;
    }
    if (!*f) return w;
    w.frames.push_back(**f);
  }
  ADD_FAILURE() << "walk did not end";
  return w;
}

Bytes data_of(ConstBytes block, const RingFrame& f) {
  const auto d = block.subspan(f.mac_offset, f.snaplen);
  return {d.begin(), d.end()};
}

const std::error_code bad_block = make_error_code(RawError::bad_block);

// ------------------------------------------------------------ good blocks

TEST(BlockWalker, WalksFramesInOrderWithKernelTimestamps) {
  Block b;
  b.add(frame_of(1, 60), 1700000000, 123456789);
  b.add(frame_of(2, 98), 1700000001, 7);
  b.add(frame_of(3, 1514), 1700000002, 999999999, TP_STATUS_USER, 0, 0, PACKET_OUTGOING);
  const Walk w = walk(b.bytes());
  ASSERT_FALSE(w.error) << w.error->message();
  ASSERT_EQ(w.frames.size(), 3u);
  EXPECT_EQ(data_of(b.bytes(), w.frames[0]), frame_of(1, 60));
  EXPECT_EQ(data_of(b.bytes(), w.frames[1]), frame_of(2, 98));
  EXPECT_EQ(data_of(b.bytes(), w.frames[2]), frame_of(3, 1514));
  EXPECT_EQ(w.frames[0].ts, (Timestamp{1700000000, 123456789}));
  EXPECT_EQ(w.frames[1].ts, (Timestamp{1700000001, 7}));
  EXPECT_EQ(w.frames[2].len, 1514u);
  EXPECT_EQ(w.frames[0].pkttype, std::optional<std::uint8_t>(PACKET_HOST));
  EXPECT_EQ(w.frames[2].pkttype, std::optional<std::uint8_t>(PACKET_OUTGOING));
  EXPECT_FALSE(w.frames[0].vlan_tci);
}

TEST(BlockWalker, ReportsTheBlockHeader) {
  Block b;
  b.add(frame_of(1));
  b.set_status(TP_STATUS_USER | TP_STATUS_LOSING);
  auto bw = BlockWalker::open(b.bytes());
  ASSERT_TRUE(bw);
  EXPECT_EQ(bw->num_pkts(), 1u);
  EXPECT_EQ(bw->block_status(), TP_STATUS_USER | TP_STATUS_LOSING);
}

TEST(BlockWalker, EmptyBlockHasNoFrames) {
  Block b;
  const Walk w = walk(b.bytes());
  EXPECT_FALSE(w.error);
  EXPECT_TRUE(w.frames.empty());
}

TEST(BlockWalker, LastFrameMayEndExactlyAtTheBlockEnd) {
  Block b(4096);
  // One frame that fills the block to its last byte.
  const std::size_t mac = TPACKET_ALIGN(TPACKET3_HDRLEN + 16) + reserve - 14;
  const std::size_t n = 4096 - b.first() - mac;
  b.add(frame_of(9, n));
  b.set_blk_len(4096);
  const Walk w = walk(b.bytes());
  ASSERT_FALSE(w.error);
  ASSERT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(w.frames[0].mac_offset + w.frames[0].snaplen, 4096u);
}

TEST(BlockWalker, ClampsNanosecondsAndKeepsCutFrames) {
  Block b;
  const auto at = b.add(frame_of(1, 100), 5, 0xffffffffU, TP_STATUS_USER | TP_STATUS_COPY);
  b.hdr(at, offsetof(tpacket3_hdr, tp_len), std::uint32_t{9000});  // cut by the ring
  const Walk w = walk(b.bytes());
  ASSERT_FALSE(w.error);
  ASSERT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(w.frames[0].ts.nsec, 999999999u);
  EXPECT_EQ(w.frames[0].snaplen, 100u);
  EXPECT_EQ(w.frames[0].len, 9000u);
  EXPECT_NE(w.frames[0].status & status_copy, 0u);
}

// --------------------------------------------------------- hostile headers

TEST(BlockWalkerHostile, BlockShorterThanItsDescriptor) {
  Bytes tiny(sizeof(tpacket_block_desc) - 1, std::byte{0});
  EXPECT_EQ(walk({tiny.data(), tiny.size()}).error, bad_block);
  EXPECT_EQ(walk({}).error, bad_block);
}

TEST(BlockWalkerHostile, BlkLenBeyondTheBlock) {
  Block b;
  b.add(frame_of(1));
  b.set_blk_len(4097);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
  b.set_blk_len(0xffffffffU);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, BlkLenBelowTheDescriptor) {
  Block b;
  b.set_blk_len(8);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, FramesAreCheckedAgainstBlkLenNotTheBlock) {
  Block b;
  b.add(frame_of(1, 200));
  // blk_len says the block ends inside the frame: the frame must not be read.
  b.set_blk_len(static_cast<std::uint32_t>(b.used() - 100));
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, FirstOffsetInsideTheDescriptor) {
  Block b;
  b.add(frame_of(1));
  b.set_first(4);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, FirstOffsetPastTheBlock) {
  Block b;
  b.add(frame_of(1));
  b.set_first(0x7fffffffU);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
  b.set_first(static_cast<std::uint32_t>(b.used()));  // at blk_len: no room for a header
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, NumPktsThatCannotFitIsRefusedUpFront) {
  Block b;
  b.add(frame_of(1));
  b.set_num_pkts(0xffffffffU);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
  b.set_blk_len(4096);
  b.set_num_pkts(4096 / sizeof(tpacket3_hdr) + 1);
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, NumPktsAboveTheFramesPresent) {
  Block b;
  b.add(frame_of(1));
  b.add(frame_of(2));
  b.set_num_pkts(3);  // the last frame's tp_next_offset is 0
  b.set_blk_len(4096);
  const Walk w = walk(b.bytes());
  // The first frame is good; the second has no way on to a third.
  ASSERT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(w.error, bad_block);
}

TEST(BlockWalkerHostile, NextOffsetZeroWouldLoopForever) {
  Block b;
  const auto first = b.add(frame_of(1));
  b.add(frame_of(2));
  b.hdr(first, offsetof(tpacket3_hdr, tp_next_offset), std::uint32_t{0});
  const Walk w = walk(b.bytes());
  EXPECT_TRUE(w.frames.empty());
  EXPECT_EQ(w.error, bad_block);
}

TEST(BlockWalkerHostile, NextOffsetIntoItsOwnFrame) {
  Block b;
  const auto first = b.add(frame_of(1, 100));
  b.add(frame_of(2));
  // Points at the frame's own data: the next "header" would be frame bytes.
  b.hdr(first, offsetof(tpacket3_hdr, tp_next_offset), std::uint32_t{sizeof(tpacket3_hdr)});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, NextOffsetPastTheBlock) {
  Block b;
  const auto first = b.add(frame_of(1));
  b.add(frame_of(2));
  b.hdr(first, offsetof(tpacket3_hdr, tp_next_offset), std::uint32_t{0xfffffff0U});
  const Walk w = walk(b.bytes());
  EXPECT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(w.error, bad_block);
}

TEST(BlockWalkerHostile, NextOffsetLeavingNoRoomForAHeader) {
  Block b;
  const auto first = b.add(frame_of(1));
  b.add(frame_of(2));
  b.hdr(first, offsetof(tpacket3_hdr, tp_next_offset),
        static_cast<std::uint32_t>(b.used() - first - 8));
  const Walk w = walk(b.bytes());
  EXPECT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(w.error, bad_block);
}

TEST(BlockWalkerHostile, MacOffsetInsideTheHeader) {
  Block b;
  const auto at = b.add(frame_of(1));
  b.hdr(at, offsetof(tpacket3_hdr, tp_mac), std::uint16_t{8});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
  b.hdr(at, offsetof(tpacket3_hdr, tp_mac), std::uint16_t{0});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, MacOffsetPastTheBlock) {
  Block b;
  const auto at = b.add(frame_of(1));
  b.hdr(at, offsetof(tpacket3_hdr, tp_mac), std::uint16_t{0xffff});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, SnaplenPastTheBlock) {
  Block b;
  const auto at = b.add(frame_of(1));
  b.hdr(at, offsetof(tpacket3_hdr, tp_len), std::uint32_t{0xffffffffU});
  b.hdr(at, offsetof(tpacket3_hdr, tp_snaplen), std::uint32_t{4096});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
  // mac + snaplen would wrap a 32-bit sum back inside the block.
  b.hdr(at, offsetof(tpacket3_hdr, tp_snaplen), std::uint32_t{0xffffffffU});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, SnaplenAboveTheWireLength) {
  Block b;
  const auto at = b.add(frame_of(1, 60));
  b.hdr(at, offsetof(tpacket3_hdr, tp_len), std::uint32_t{59});
  EXPECT_EQ(walk(b.bytes()).error, bad_block);
}

TEST(BlockWalkerHostile, NoSockaddrRoomMeansNoPacketType) {
  Block b;
  const auto at = b.add(frame_of(1, 10));
  // Data right after the bare header: legal for the walker, but there is
  // no sockaddr_ll to read a packet type from.
  b.hdr(at, offsetof(tpacket3_hdr, tp_mac), std::uint16_t{sizeof(tpacket3_hdr)});
  const Walk w = walk(b.bytes());
  ASSERT_FALSE(w.error);
  ASSERT_EQ(w.frames.size(), 1u);
  EXPECT_FALSE(w.frames[0].pkttype);
}

// Random damage to a good block: whatever the walker returns stays inside
// blk_len, and every walk ends. The frame bytes are read back, so ASan
// would see a frame that escaped the block.
TEST(BlockWalkerHostile, RandomDamageNeverEscapesTheBlock) {
  std::mt19937 rng(20240229);
  int refused = 0;
  int walked = 0;
  for (int round = 0; round < 20000; ++round) {
    Block b(2048 + 1024 * (round % 3));
    const int frames = 1 + round % 5;
    for (int i = 0; i < frames; ++i) {
      if (b.used() + 400 > b.bytes().size()) break;
      b.add(frame_of(static_cast<std::uint8_t>(i), 60 + 40 * static_cast<std::size_t>(i)));
    }
    const int hits = 1 + static_cast<int>(rng() % 4);
    for (int h = 0; h < hits; ++h) {
      const std::size_t limit = std::min(b.used() + 64, b.bytes().size() - 4);
      const std::size_t at = rng() % limit;
      switch (rng() % 3) {
        case 0: b.put<std::uint8_t>(at, static_cast<std::uint8_t>(rng())); break;
        case 1: b.put<std::uint16_t>(at, static_cast<std::uint16_t>(rng())); break;
        default: b.put<std::uint32_t>(at, static_cast<std::uint32_t>(rng())); break;
      }
    }
    const Walk w = walk(b.bytes());
    (w.error ? refused : walked) += 1;
    std::uint32_t blk_len = 0;
    std::memcpy(&blk_len, b.bytes().data() + bh1 + offsetof(tpacket_hdr_v1, blk_len), 4);
    unsigned sum = 0;
    for (const auto& f : w.frames) {
      ASSERT_LE(f.mac_offset + f.snaplen, blk_len);
      ASSERT_GE(f.mac_offset, f.header_offset + sizeof(tpacket3_hdr));
      ASSERT_LE(f.snaplen, f.len);
      for (auto byte : data_of(b.bytes(), f)) sum += static_cast<unsigned>(byte);
      // And the VLAN fix-up never writes outside the block or the frame's room.
      RingFrame g = f;
      g.vlan_tci = 0x2a;
      if (reinsert_vlan(b.mut(), g)) {
        ASSERT_GE(g.mac_offset, g.header_offset + min_mac_offset());
        ASSERT_LE(g.mac_offset + g.snaplen, b.bytes().size());
      }
    }
    (void)sum;
  }
  // The damage is neither always fatal nor always harmless.
  EXPECT_GT(refused, 1000);
  EXPECT_GT(walked, 1000);
}

// ------------------------------------------------------------- VLAN tags

TEST(ReinsertVlan, PutsTheTagBackBetweenAddressesAndType) {
  Block b;
  const Bytes frame = test::from_hex(
      "02e500000001 02e5000000fe 0800"
      "4500001c000000004001f9e6c6120001c61200fe 0800f7ff00000000");
  b.add(frame, 1, 2, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 0x202a);
  Walk w = walk(b.bytes());
  ASSERT_EQ(w.frames.size(), 1u);
  RingFrame f = w.frames[0];
  ASSERT_EQ(f.vlan_tci, std::optional<std::uint16_t>(0x202a));
  EXPECT_EQ(f.vlan_tpid, 0x8100);
  ASSERT_TRUE(reinsert_vlan(b.mut(), f));
  EXPECT_EQ(f.snaplen, frame.size() + 4);
  EXPECT_EQ(f.len, frame.size() + 4);
  const Bytes expect = test::from_hex(
      "02e500000001 02e5000000fe 8100 202a 0800"
      "4500001c000000004001f9e6c6120001c61200fe 0800f7ff00000000");
  EXPECT_EQ(data_of(b.bytes(), f), expect);
  EXPECT_FALSE(reinsert_vlan(b.mut(), f)) << "the tag is put back once";
}

TEST(ReinsertVlan, UsesTheTpidWhenTheKernelGivesOne) {
  Block b;
  b.add(frame_of(7, 60), 1, 2, TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, 5,
        0x88a8);
  Walk w = walk(b.bytes());
  ASSERT_EQ(w.frames.size(), 1u);
  RingFrame f = w.frames[0];
  ASSERT_TRUE(reinsert_vlan(b.mut(), f));
  const Bytes got = data_of(b.bytes(), f);
  EXPECT_EQ(got[12], std::byte{0x88});
  EXPECT_EQ(got[13], std::byte{0xa8});
  EXPECT_EQ(got[15], std::byte{5});
}

TEST(ReinsertVlan, OlderKernelsSetOnlyTheTci) {
  Block b;
  b.add(frame_of(7, 60), 1, 2, TP_STATUS_USER, 42);
  Walk w = walk(b.bytes());
  ASSERT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(w.frames[0].vlan_tci, std::optional<std::uint16_t>(42));
}

TEST(ReinsertVlan, RefusesWithoutRoomBeforeTheFrame) {
  Block b;
  const auto at = b.add(frame_of(7, 60), 1, 2, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 42);
  // Frame data right after the sockaddr_ll: moving it back would overwrite it.
  b.hdr(at, offsetof(tpacket3_hdr, tp_mac), static_cast<std::uint16_t>(TPACKET3_HDRLEN));
  Walk w = walk(b.bytes());
  ASSERT_EQ(w.frames.size(), 1u);
  RingFrame f = w.frames[0];
  const Bytes before(b.bytes().begin(), b.bytes().end());
  EXPECT_FALSE(reinsert_vlan(b.mut(), f));
  EXPECT_EQ(Bytes(b.bytes().begin(), b.bytes().end()), before);
}

TEST(ReinsertVlan, RefusesFramesTooShortForAddresses) {
  Block b;
  b.add(frame_of(7, 11), 1, 2, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 42);
  Walk w = walk(b.bytes());
  ASSERT_EQ(w.frames.size(), 1u);
  RingFrame f = w.frames[0];
  EXPECT_FALSE(reinsert_vlan(b.mut(), f));
}

TEST(ReinsertVlan, UntaggedFramesAreLeftAlone) {
  Block b;
  b.add(frame_of(7, 60));
  Walk w = walk(b.bytes());
  RingFrame f = w.frames.at(0);
  EXPECT_FALSE(reinsert_vlan(b.mut(), f));
}

// ------------------------------------------------------- TPACKET_V2 slots

/// One TPACKET_V2 ring slot as tpacket_rcv() fills it, in a vector of the
/// exact slot size, pre-filled with 0xa5.
class Slot {
 public:
  explicit Slot(const Bytes& frame, std::size_t size = 2048, std::uint32_t status = TP_STATUS_USER,
                std::uint16_t tci = 0, std::uint16_t tpid = 0)
      : buf_(size, std::byte{0xa5}) {
    const std::size_t netoff = TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + reserve;
    mac_ = netoff - 14;
    std::memset(buf_.data(), 0, sizeof(tpacket2_hdr));
    put(offsetof(tpacket2_hdr, tp_status), status);
    put(offsetof(tpacket2_hdr, tp_len), static_cast<std::uint32_t>(frame.size()));
    put(offsetof(tpacket2_hdr, tp_snaplen), static_cast<std::uint32_t>(frame.size()));
    put(offsetof(tpacket2_hdr, tp_mac), static_cast<std::uint16_t>(mac_));
    put(offsetof(tpacket2_hdr, tp_net), static_cast<std::uint16_t>(netoff));
    put(offsetof(tpacket2_hdr, tp_sec), std::uint32_t{1700000000});
    put(offsetof(tpacket2_hdr, tp_nsec), std::uint32_t{77});
    put(offsetof(tpacket2_hdr, tp_vlan_tci), tci);
    put(offsetof(tpacket2_hdr, tp_vlan_tpid), tpid);
    sockaddr_ll sll{};
    sll.sll_pkttype = PACKET_OUTGOING;
    std::memcpy(buf_.data() + TPACKET_ALIGN(sizeof(tpacket2_hdr)), &sll, sizeof sll);
    std::memcpy(buf_.data() + mac_, frame.data(), frame.size());
  }
  template <class T>
  void put(std::size_t at, T v) {
    std::memcpy(buf_.data() + at, &v, sizeof v);
  }
  ConstBytes bytes() const { return {buf_.data(), buf_.size()}; }
  MutBytes mut() { return {buf_.data(), buf_.size()}; }
  std::size_t mac() const { return mac_; }

 private:
  Bytes buf_;
  std::size_t mac_ = 0;
};

TEST(V2Slot, ReadsTheFrameWithItsTimestampAndPacketType) {
  const Bytes frame = frame_of(3, 98);
  Slot s(frame);
  auto f = read_v2_frame(s.bytes());
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->mac_offset, s.mac());
  EXPECT_EQ(f->snaplen, 98u);
  EXPECT_EQ(f->len, 98u);
  EXPECT_EQ(f->ts.sec, 1700000000);
  EXPECT_EQ(f->ts.nsec, 77);
  EXPECT_EQ(f->pkttype, std::optional<std::uint8_t>(PACKET_OUTGOING));
  EXPECT_EQ(f->header_len, std::size_t{TPACKET2_HDRLEN});
  EXPECT_FALSE(f->vlan_tci);
  EXPECT_EQ(Bytes(s.bytes().begin() + static_cast<std::ptrdiff_t>(f->mac_offset),
                  s.bytes().begin() + static_cast<std::ptrdiff_t>(f->mac_offset + f->snaplen)),
            frame);
}

TEST(V2Slot, FrameMayEndExactlyAtTheSlotEnd) {
  const Slot s(frame_of(3, 60));
  const Slot exact(frame_of(3, 60), s.mac() + 60);
  EXPECT_TRUE(read_v2_frame(exact.bytes()));
}

TEST(V2SlotHostile, SlotShorterThanItsHeader) {
  const Bytes tiny(sizeof(tpacket2_hdr) - 1, std::byte{0});
  EXPECT_EQ(read_v2_frame({tiny.data(), tiny.size()}).error(), RawError::bad_block);
}

TEST(V2SlotHostile, MacOffsetInsideTheHeader) {
  Slot s(frame_of(3, 60));
  s.put(offsetof(tpacket2_hdr, tp_mac), static_cast<std::uint16_t>(sizeof(tpacket2_hdr) - 1));
  EXPECT_EQ(read_v2_frame(s.bytes()).error(), RawError::bad_block);
}

TEST(V2SlotHostile, FramePastTheSlot) {
  Slot s(frame_of(3, 60));
  s.put(offsetof(tpacket2_hdr, tp_snaplen), std::uint32_t{2048});
  s.put(offsetof(tpacket2_hdr, tp_len), std::uint32_t{2048});
  EXPECT_EQ(read_v2_frame(s.bytes()).error(), RawError::bad_block);
  // A huge snaplen plus tp_mac must not wrap around into "fits".
  s.put(offsetof(tpacket2_hdr, tp_snaplen), std::uint32_t{0xffffffff});
  s.put(offsetof(tpacket2_hdr, tp_len), std::uint32_t{0xffffffff});
  EXPECT_EQ(read_v2_frame(s.bytes()).error(), RawError::bad_block);
}

TEST(V2SlotHostile, SnaplenAboveTheWireLength) {
  Slot s(frame_of(3, 60));
  s.put(offsetof(tpacket2_hdr, tp_len), std::uint32_t{59});
  EXPECT_EQ(read_v2_frame(s.bytes()).error(), RawError::bad_block);
}

TEST(V2SlotHostile, RandomDamageNeverEscapesTheSlot) {
  std::mt19937 rng(7);
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    Slot s(frame_of(static_cast<std::uint8_t>(i), 60 + static_cast<std::size_t>(i % 200)));
    const auto bytes = s.mut();
    for (int k = 0; k < 4; ++k) bytes[rng() % sizeof(tpacket2_hdr)] = std::byte(rng());
    auto f = read_v2_frame(s.bytes());
    if (!f) {
      ++refused;
      continue;
    }
    ASSERT_LE(f->mac_offset + f->snaplen, s.bytes().size());
    ASSERT_LE(f->snaplen, f->len);
  }
  EXPECT_GT(refused, 100);
}

TEST(V2Slot, VlanTagGoesBackInFrontOfTheType) {
  Slot s(frame_of(7, 60), 2048, TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
         0x202a, 0x88a8);
  auto f = read_v2_frame(s.bytes());
  ASSERT_TRUE(f);
  ASSERT_EQ(f->vlan_tci, std::optional<std::uint16_t>(0x202a));
  ASSERT_TRUE(reinsert_vlan(s.mut(), *f));
  EXPECT_EQ(f->snaplen, 64u);
  const auto got = s.bytes().subspan(f->mac_offset, f->snaplen);
  EXPECT_EQ(got[12], std::byte{0x88});
  EXPECT_EQ(got[13], std::byte{0xa8});
  EXPECT_EQ(got[14], std::byte{0x20});
  EXPECT_EQ(got[15], std::byte{0x2a});
}

TEST(V2Slot, NoVlanRoomWhenTheFrameFollowsTheSockaddr) {
  Slot s(frame_of(7, 60), 2048, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 42);
  // Data right after the sockaddr_ll: moving it back would overwrite it.
  s.put(offsetof(tpacket2_hdr, tp_mac), static_cast<std::uint16_t>(TPACKET2_HDRLEN));
  auto f = read_v2_frame(s.bytes());
  ASSERT_TRUE(f);
  EXPECT_FALSE(reinsert_vlan(s.mut(), *f));
}

}  // namespace
}  // namespace ersatz::link::tpacket
