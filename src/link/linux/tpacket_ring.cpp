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
  const auto sec = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_sec));
  const auto nsec = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_nsec));
  const auto snaplen = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_snaplen));
  const auto len = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_len));
  const auto status = load_host<std::uint32_t>(h, offsetof(tpacket3_hdr, tp_status));
  const auto mac = load_host<std::uint16_t>(h, offsetof(tpacket3_hdr, tp_mac));
  const auto tci = load_host<std::uint32_t>(h, hv1 + offsetof(tpacket_hdr_variant1, tp_vlan_tci));
  const auto tpid = load_host<std::uint16_t>(h, hv1 + offsetof(tpacket_hdr_variant1, tp_vlan_tpid));

  // The frame may not overlap its own header, and must end inside the
  // block. Sums are formed in 64 bits: a 16-bit tp_mac plus a 32-bit
  // tp_snaplen cannot wrap.
  if (mac < hdr_len) return fail(RawError::bad_block);
  const std::uint64_t frame_end = std::uint64_t{at} + mac + snaplen;
  if (frame_end > block_.size()) return fail(RawError::bad_block);
  if (snaplen > len) return fail(RawError::bad_block);

  RingFrame f;
  f.header_offset = at;
  f.mac_offset = at + mac;
  f.snaplen = snaplen;
  f.len = len;
  f.ts = Timestamp{sec, std::min<std::uint32_t>(nsec, 999'999'999U)};
  f.status = status;
  set_vlan(f, tci, tpid);
  if (mac >= sll_end) {
    f.pkttype = load_host<std::uint8_t>(block_, at + sll_at + offsetof(sockaddr_ll, sll_pkttype));
  }

  ++index_;
  if (index_ < num_pkts_) {
    // The next header must start past this frame's data: no overlap, and
    // every step moves forward, so the walk ends after num_pkts steps.
    if (next_offset < std::uint64_t{mac} + snaplen) return fail(RawError::bad_block);
    offset_ = at + next_offset;
  }
  return f;
}

Result<RingFrame> read_v2_frame(ConstBytes slot) noexcept {
  if (slot.size() < hdr2_len) return fail(RawError::bad_block);
  const auto status = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_status));
  const auto len = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_len));
  const auto snaplen = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_snaplen));
  const auto mac = load_host<std::uint16_t>(slot, offsetof(tpacket2_hdr, tp_mac));
  const auto sec = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_sec));
  const auto nsec = load_host<std::uint32_t>(slot, offsetof(tpacket2_hdr, tp_nsec));
  const auto tci = load_host<std::uint16_t>(slot, offsetof(tpacket2_hdr, tp_vlan_tci));
  const auto tpid = load_host<std::uint16_t>(slot, offsetof(tpacket2_hdr, tp_vlan_tpid));
  // As for V3: no overlap with the header, the end inside the slot (in 64
  // bits, so the sum cannot wrap), and no more captured than sent.
  if (mac < hdr2_len) return fail(RawError::bad_block);
  if (std::uint64_t{mac} + snaplen > slot.size()) return fail(RawError::bad_block);
  if (snaplen > len) return fail(RawError::bad_block);

  RingFrame f;
  f.header_offset = 0;
  f.header_len = sll2_end;
  f.mac_offset = mac;
  f.snaplen = snaplen;
  f.len = len;
  f.ts = Timestamp{sec, std::min<std::uint32_t>(nsec, 999'999'999U)};
  f.status = status;
  set_vlan(f, tci, tpid);
  if (mac >= sll2_end) {
    f.pkttype = load_host<std::uint8_t>(slot, sll2_at + offsetof(sockaddr_ll, sll_pkttype));
  }
  return f;
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
