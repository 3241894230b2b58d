// AF_PACKET (Linux packet(7)) with memory-mapped rings
// (Documentation/networking/packet_mmap.rst).
//
// Receive, two ring layouts (DeviceOptions::rx_ring):
//   * blocks (TPACKET_V3, for captures): the kernel fills a block with
//     frames and hands it over when it is full or when the block timeout
//     expires; frames are read in place, without a system call per frame.
//     Each frame carries the kernel's arrival time (tp_sec/tp_nsec), so the
//     block timeout only delays delivery: an RTT computed from RxFrame::ts
//     is not inflated by it. But a lone frame waits for the timeout, which
//     caps a request/response loop (ping -f) at one round trip per tick.
//   * frames (TPACKET_V2, for request/response): fixed-size slots, each
//     handed over the moment its frame is written. On a veth the answer to
//     a frame is often in the ring before send() returns, so a round trip
//     costs one system call.
//
// Transmit: a PACKET_TX_RING of fixed-size frames filled in place, sent by
// one send() per batch; or one send() per frame.
//
// The kernel's blocks are still checked before they are read: a frame's
// header, offsets and lengths must stay inside its block. That walk is a
// pure function over a span (tpacket::BlockWalker), tested on hostile
// blocks without a kernel.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"
#include "ersatz/link/bpf.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/link/open_device.hpp"
#include "ersatz/link/unique_fd.hpp"

namespace ersatz::link {

namespace tpacket {

/// Bits of tp_status / block_status (<linux/if_packet.h>).
inline constexpr std::uint32_t status_user = 1U << 0;
inline constexpr std::uint32_t status_copy = 1U << 1;  ///< frame cut to fit the ring
inline constexpr std::uint32_t status_losing = 1U << 2;
inline constexpr std::uint32_t status_vlan_valid = 1U << 4;
inline constexpr std::uint32_t status_vlan_tpid_valid = 1U << 6;

/// One frame of a block, after its header was checked.
struct RingFrame {
  std::size_t header_offset = 0;  ///< where its tpacket3_hdr starts in the block
  std::size_t mac_offset = 0;     ///< where the frame starts in the block
  std::uint32_t snaplen = 0;      ///< bytes present at mac_offset
  std::uint32_t len = 0;          ///< length on the wire
  Timestamp ts;
  std::uint32_t status = 0;
  /// The 802.1Q tag the kernel took off the frame (hardware offload or the
  /// veth/bridge path), to be put back: TCI and TPID.
  std::optional<std::uint16_t> vlan_tci;
  std::uint16_t vlan_tpid = 0x8100;
  /// sll_pkttype of the sockaddr_ll after the header (PACKET_HOST,
  /// PACKET_OUTGOING, ...), when the header leaves room for one.
  std::optional<std::uint8_t> pkttype;
  /// Bytes of header and sockaddr_ll at header_offset, which the frame may
  /// never overwrite (TPACKET3_HDRLEN, or TPACKET2_HDRLEN for V2 slots).
  std::size_t header_len = 68;
};

/// Reads the TPACKET_V2 frame in one ring slot (a tpacket2_hdr at its
/// start). The same checks as BlockWalker::next: the header fits, the frame
/// at tp_mac neither overlaps it nor ends past the slot, and tp_snaplen does
/// not exceed tp_len; RawError::bad_block otherwise.
Result<RingFrame> read_v2_frame(ConstBytes slot) noexcept;

/// Walks the frames of one TPACKET_V3 block. Every offset and length the
/// kernel wrote is checked before it is used: the block header must fit,
/// blk_len must not exceed the block, and for each of num_pkts frames the
/// tpacket3_hdr, and the tp_snaplen bytes at tp_mac after it, must lie
/// inside blk_len; tp_snaplen may not exceed tp_len; tp_next_offset must
/// step past the frame (so a walk always ends). A violation is
/// RawError::bad_block; frames before it were good and stay delivered.
class BlockWalker {
 public:
  static Result<BlockWalker> open(ConstBytes block) noexcept;

  /// The next frame; nullopt after the last of num_pkts.
  Result<std::optional<RingFrame>> next() noexcept;

  std::uint32_t num_pkts() const noexcept { return num_pkts_; }
  std::uint32_t block_status() const noexcept { return status_; }

 private:
  BlockWalker(ConstBytes block, std::uint32_t status, std::uint32_t num_pkts,
              std::size_t first) noexcept
      : block_(block), status_(status), num_pkts_(num_pkts), offset_(first) {}
  ConstBytes block_;  // cut to blk_len
  std::uint32_t status_;
  std::uint32_t num_pkts_;
  std::uint32_t index_ = 0;
  std::size_t offset_;
};

/// Puts the tag of `f` back between the MAC addresses and the type, as it
/// was on the wire (libpcap does the same): the addresses move 4 bytes
/// towards the header, into room reserved with PACKET_RESERVE, and `f`
/// grows by 4. Does nothing and returns false when `f` has no tag, when
/// fewer than 12 bytes were captured, or when the room before the frame is
/// not free (it would overwrite the tpacket3_hdr or its sockaddr_ll).
bool reinsert_vlan(MutBytes block, RingFrame& f) noexcept;

/// Bytes of tpacket3_hdr plus sockaddr_ll that precede tp_mac at the least
/// (TPACKET3_HDRLEN).
std::size_t min_mac_offset() noexcept;

}  // namespace tpacket

class AfPacketDevice final : public Device {
 public:
  /// Opens interface `ifname` (Ethernet or loopback). Needs CAP_NET_RAW
  /// (EPERM otherwise).
  static Result<std::unique_ptr<AfPacketDevice>> open(const std::string& ifname,
                                                      const DeviceOptions& options);
  ~AfPacketDevice() override;

  /// Frames come from the ring; queued TX frames are sent first.
  /// Returns nullopt early when a signal interrupts the wait.
  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }
  int poll_fd() const noexcept override { return fd_.get(); }
  /// Frames the kernel dropped because the ring was full (PACKET_STATISTICS).
  std::uint64_t drops() const noexcept override;

  /// Replaces the kernel filter (SO_ATTACH_FILTER).
  Result<void> set_filter(const BpfProgram& program);
  /// Sends the frames queued in the TX ring (see DeviceOptions::tx_batch).
  Result<void> flush() override;

  /// Whether frames go through PACKET_TX_RING (else send()).
  bool tx_ring() const noexcept { return tx_frame_nr_ != 0; }
  /// Blocks (or V2 slots) skipped because they failed validation.
  std::uint64_t bad_blocks() const noexcept { return bad_blocks_; }
  /// Whether receive uses per-frame TPACKET_V2 slots (else V3 blocks).
  bool frame_ring() const noexcept { return rx_frame_nr_ != 0; }

 private:
  AfPacketDevice() = default;
  Result<void> setup(const std::string& ifname, const DeviceOptions& options);
  Result<void> setup_rings(const DeviceOptions& options);
  std::byte* rx_block(std::size_t i) const noexcept;
  std::byte* rx_slot(std::size_t i) const noexcept;
  std::byte* tx_frame(std::size_t i) const noexcept;
  std::size_t rx_ring_size() const noexcept;
  void release_block() noexcept;
  void release_slot() noexcept;
  /// The next frame waiting in the ring, if any (no system call).
  Result<std::optional<RxFrame>> next_from_blocks();
  Result<std::optional<RxFrame>> next_from_slots();
  Result<void> wait_readable(MonoTime deadline);
  Result<void> wait_tx_slot();
  Result<void> kick(bool wait);

  UniqueFd fd_;
  Mapping map_;
  Capabilities caps_;
  int ifindex_ = 0;
  std::size_t max_tx_len_ = 0;
  std::uint32_t snaplen_ = 262144;
  bool drop_outgoing_ = false;  // PACKET_IGNORE_OUTGOING unavailable: skip them here

  int version_ = 0;  // TPACKET_V2 or TPACKET_V3

  // RX ring: V3 blocks, or (rx_frame_nr_ != 0) V2 slots
  std::size_t rx_block_size_ = 0;
  std::size_t rx_block_nr_ = 0;
  std::size_t rx_current_ = 0;
  std::optional<tpacket::BlockWalker> walker_;
  std::uint64_t bad_blocks_ = 0;
  std::size_t rx_frame_size_ = 0;
  std::size_t rx_frame_nr_ = 0;
  bool rx_slot_held_ = false;  // the slot at rx_current_ was handed out

  // TX ring (tx_frame_nr_ == 0: send() per frame)
  std::size_t tx_data_at_ = 0;    // where a TX frame's data starts in its slot
  std::size_t tx_status_at_ = 0;  // where its tp_status is
  std::size_t tx_frame_size_ = 0;
  std::size_t tx_frame_nr_ = 0;
  std::size_t tx_head_ = 0;
  std::size_t tx_queued_ = 0;
  std::size_t tx_batch_ = 1;
  std::vector<std::byte> tx_buf_;  // for send() per frame

  mutable std::uint64_t drops_ = 0;
};

}  // namespace ersatz::link
