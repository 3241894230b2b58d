// The TPACKET_V3 block walker: pure code over a span, no kernel needed.
//
// Layout (Documentation/networking/packet_mmap.rst, "TPACKET_V3"; the
// structs of <linux/if_packet.h>): a block starts with struct
// tpacket_block_desc, whose hdr.bh1 gives the block's status, its number of
// frames, the offset of the first one and the bytes used (blk_len). Each
// frame is a struct tpacket3_hdr, padded to TPACKET_ALIGNMENT, a struct
// sockaddr_ll, a gap, and at tp_mac the frame itself; tp_next_offset leads
// to the next header (0 after the last).
//
// The fields are read with memcpy at their offsetof() positions, never
// through a struct pointer into the block, so a hostile value can only
// mislead the checks below, not the reads themselves.
#include <linux/if_packet.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "ersatz/link/af_packet.hpp"

namespace ersatz::link::tpacket {
namespace {

template <class T>
T load_host(ConstBytes b, std::size_t at) noexcept {
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

constexpr std::size_t bh1 = offsetof(tpacket_block_desc, hdr);
constexpr std::size_t off_block_status = bh1 + offsetof(tpacket_hdr_v1, block_status);
constexpr std::size_t off_num_pkts = bh1 + offsetof(tpacket_hdr_v1, num_pkts);
constexpr std::size_t off_first = bh1 + offsetof(tpacket_hdr_v1, offset_to_first_pkt);
constexpr std::size_t off_blk_len = bh1 + offsetof(tpacket_hdr_v1, blk_len);
constexpr std::size_t block_header_len = sizeof(tpacket_block_desc);

constexpr std::size_t hdr_len = sizeof(tpacket3_hdr);
constexpr std::size_t hv1 = offsetof(tpacket3_hdr, hv1);
// sockaddr_ll follows the header, aligned (TPACKET3_HDRLEN).
constexpr std::size_t sll_at = TPACKET_ALIGN(sizeof(tpacket3_hdr));
constexpr std::size_t sll_end = sll_at + sizeof(sockaddr_ll);
static_assert(sll_end == TPACKET3_HDRLEN);
constexpr std::size_t vlan_len = 4;

// TPACKET_V2 slots: a tpacket2_hdr, then (aligned) the sockaddr_ll.
constexpr std::size_t hdr2_len = sizeof(tpacket2_hdr);
constexpr std::size_t sll2_at = TPACKET_ALIGN(sizeof(tpacket2_hdr));
constexpr std::size_t sll2_end = sll2_at + sizeof(sockaddr_ll);
static_assert(sll2_end == TPACKET2_HDRLEN);

/// The VLAN fields both header versions carry, as libpcap reads them.
void set_vlan(RingFrame& f, std::uint32_t tci, std::uint16_t tpid) noexcept {
  // libpcap's VLAN_VALID: older kernels set a TCI without the status bit.
  if ((f.status & status_vlan_valid) != 0 || tci != 0) {
    f.vlan_tci = static_cast<std::uint16_t>(tci);
    if ((f.status & status_vlan_tpid_valid) != 0 && tpid != 0) f.vlan_tpid = tpid;
  }
}

/// The words both header versions carry, read out of the ring.
struct HeaderWords {
  std::uint32_t sec = 0;
  std::uint32_t nsec = 0;
  std::uint32_t snaplen = 0;
  std::uint32_t len = 0;
  std::uint32_t status = 0;
  std::uint16_t mac = 0;
  std::uint32_t tci = 0;
  std::uint16_t tpid = 0;
};

/// Where a header version's parts lie, from the start of its header.
struct HeaderLayout {
  std::size_t header;    ///< the tpacketN_hdr itself
  std::size_t sll_from;  ///< the sockaddr_ll after it
  std::size_t sll_to;    ///< its end (TPACKETn_HDRLEN)
};
constexpr HeaderLayout v3_layout{hdr_len, sll_at, sll_end};
constexpr HeaderLayout v2_layout{hdr2_len, sll2_at, sll2_end};

/// The frame whose header starts at `at` in `area`: it may not overlap its
/// header, must end inside `area` (the sum formed in 64 bits: a 16-bit
/// tp_mac plus a 32-bit tp_snaplen cannot wrap), and may not claim more
/// bytes captured than sent.
Result<RingFrame> checked_frame(ConstBytes area, std::size_t at, const HeaderLayout& layout,
                                const HeaderWords& h) noexcept {
  if (h.mac < layout.header) return fail(RawError::bad_block);
  if (std::uint64_t{at} + h.mac + h.snaplen > area.size()) return fail(RawError::bad_block);
  if (h.snaplen > h.len) return fail(RawError::bad_block);
  RingFrame f;
  f.header_offset = at;
  f.header_len = layout.sll_to;
  f.mac_offset = at + h.mac;
  f.snaplen = h.snaplen;
  f.len = h.len;
  f.ts = Timestamp{h.sec, std::min<std::uint32_t>(h.nsec, 999'999'999U)};
  f.status = h.status;
  set_vlan(f, h.tci, h.tpid);
  if (h.mac >= layout.sll_to) {
    f.pkttype =
        load_host<std::uint8_t>(area, at + layout.sll_from + offsetof(sockaddr_ll, sll_pkttype));
  }
  return f;
}

}  // namespace

static_assert(RingFrame{}.header_len == TPACKET3_HDRLEN);

std::size_t min_mac_offset() noexcept { return TPACKET3_HDRLEN; }

Result<BlockWalker> BlockWalker::open(ConstBytes block) noexcept {
  if (block.size() < block_header_len) return fail(RawError::bad_block);
  const auto status = load_host<std::uint32_t>(block, off_block_status);
  const auto num_pkts = load_host<std::uint32_t>(block, off_num_pkts);
  const auto first = load_host<std::uint32_t>(block, off_first);
  const auto blk_len = load_host<std::uint32_t>(block, off_blk_len);
  // blk_len counts the bytes in use, header included ("blk_len <=
  // tp_block_size", <linux/if_packet.h>); frames are checked against it.
  if (blk_len < block_header_len || blk_len > block.size()) return fail(RawError::bad_block);
  const ConstBytes used = block.first(blk_len);
  if (num_pkts > 0) {
    // The first frame starts after the block header (and any private area).
    if (first < block_header_len || first > used.size()) return fail(RawError::bad_block);
    // Every frame takes at least a header: a count that cannot fit is
    // rejected now rather than after walking into garbage.
    if (num_pkts > (used.size() - first) / hdr_len) return fail(RawError::bad_block);
  }
  return BlockWalker(used, status, num_pkts, first);
}

Result<std::optional<RingFrame>> BlockWalker::next() noexcept {
  if (index_ >= num_pkts_) return std::optional<RingFrame>{};
  const std::size_t at = offset_;
  if (at > block_.size() || block_.size() - at < hdr_len) return fail(RawError::bad_block);
  const auto h = block_.subspan(at, hdr_len);
  const auto next_offset = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_next_offset));
  HeaderWords w;
  w.sec = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_sec));
  w.nsec = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_nsec));
  w.snaplen = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_snaplen));
  w.len = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_len));
  w.status = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_status));
  w.mac = load_host<std::uint16_t>(h, offsetof(tpacket3_hdr, tp_mac));
  w.tci = load_host<std::uint32_t>(h, hv1 + offsetof(tpacket_hdr_variant1, tp_vlan_tci));
  w.tpid = load_host<std::uint16_t>(h, hv1 + offsetof(tpacket_hdr_variant1, tp_vlan_tpid));
  auto f = checked_frame(block_, at, v3_layout, w);
  if (!f) return tl::unexpected(f.error());

  ++index_;
  if (index_ < num_pkts_) {
    // The next header must start past this frame's data: no overlap, and
    // every step moves forward, so the walk ends after num_pkts steps.
    if (next_offset < std::uint64_t{w.mac} + w.snaplen) return fail(RawError::bad_block);
    offset_ = at + next_offset;
  }
  return *f;
}

Result<RingFrame> read_v2_frame(ConstBytes slot) noexcept {
  if (slot.size() < hdr2_len) return fail(RawError::bad_block);
  HeaderWords w;
  w.status = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_status));
  w.len = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_len));
  w.snaplen = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_snaplen));
  w.mac = load_host<std::uint16_t>(slot, offsetof(tpacket2_hdr, tp_mac));
  w.sec = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_sec));
  w.nsec = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_nsec));
  w.tci = load_host<std::uint16_t>(slot, offsetof(tpacket2_hdr, tp_vlan_tci));
  w.tpid = load_host<std::uint16_t>(slot, offsetof(tpacket2_hdr, tp_vlan_tpid));
  return checked_frame(slot, 0, v2_layout, w);
}

bool reinsert_vlan(MutBytes block, RingFrame& f) noexcept {
  if (!f.vlan_tci || f.snaplen < 12) return false;
  if (f.mac_offset < f.header_offset + f.header_len + vlan_len) return false;
  if (f.mac_offset > block.size() || block.size() - f.mac_offset < f.snaplen) return false;
  if (f.len > UINT32_MAX - vlan_len) return false;
  std::byte* frame = block.data() + f.mac_offset;
  std::memmove(frame - vlan_len, frame, 12);
  const MutBytes tag(frame - vlan_len + 12, vlan_len);
  store_be16(tag, 0, f.vlan_tpid);
  store_be16(tag, 2, *f.vlan_tci);
  f.mac_offset -= vlan_len;
  f.snaplen += vlan_len;
  f.len += vlan_len;
  f.vlan_tci.reset();
  return true;
}

}  // namespace ersatz::link::tpacket
