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
// Transmit, three modes (DeviceOptions::tx_mode); in each, frames are
// numbered from 0 in the order transmit() takes them (tx_count()):
//   * send: one send() per frame, from one buffer. Best for a lone frame
//     that waits for its answer (ping): no ring bookkeeping, and on a veth
//     the peer's whole receive path runs inside that one call.
//   * ring (PACKET_TX_RING): frames are written in place into ring slots
//     and handed over by one send() with no data per batch (the "kick").
//   * sendmmsg: frames are written in place into a buffer of tx_frames
//     slots and handed over by one sendmmsg() per batch.
//   A batch ends when tx_batch frames are queued, at flush(), or before
//   receive() waits.
//
// Bursts: use the TX ring (TxMode::ring, the default) with tx_batch at
// least the burst (and tx_frames, the ring, at least that too), and end
// each burst with flush(): one system call per burst, and the cheapest
// send path measured. 60-byte frames over a veth, Linux 6.18
// (bench/README.md, "Bursts"): with the far end down, so that only the
// sending path is measured (as on a NIC, whose receiver is another
// machine), the ring took 320-590 ns of CPU per frame in bursts of 16 and
// 256 against 470-760 for sendmmsg() and 500-790 for send() over five
// runs, and sent 1.3 times the frames per second of sendmmsg() (median;
// 0.96-2.0); with the far end up, the veth runs the far end's
// receive inside the sender's call and copies each ring frame (a page
// fragment) as it crosses the namespace, and the three modes were within
// the noise of each other. A lone frame goes faster with send() (ping).
// PACKET_QDISC_BYPASS made no difference beyond the noise, hides the frames
// from packet sockets watching this host, and turns a frame the driver
// drops into an ENOBUFS; not recommended. sendmmsg() gives each frame its
// own stamp key, but pays per message what one kick does once (copying a
// msghdr in, looking up the device in packet_snd()) and copies every frame
// in, where the ring hands the kernel its pages.
//
// Kernel transmit timestamps (DeviceOptions::tx_timestamps): SO_TIMESTAMPING
// with SOF_TIMESTAMPING_TX_SOFTWARE | SOFTWARE | OPT_ID | OPT_TSONLY
// (Documentation/networking/timestamping.rst). The driver stamps each
// frame in its xmit routine (skb_tx_timestamp(); on a veth in
// veth_xmit(), before the frame crosses to the peer), and the kernel
// queues the stamp on the socket's error queue, which tx_timestamps()
// drains with recvmmsg(MSG_ERRQUEUE) and receive() drains into a stash
// when it would otherwise wake for nothing (a pending stamp makes the
// socket poll POLLERR, whatever events were asked for: datagram_poll).
// Every send call carries SCM_TS_OPT_ID (Linux 6.13) with the number of
// its first frame, so that a stamp names its frame even after a failed
// send; the frames of one ring kick share that key and are told apart by
// order (txstamp::Numbering). Before 6.13 the kernel's own key counter is
// used, which a frame re-sent after a failed kick would put one ahead.
// PACKET_TIMESTAMP, the stamp the kernel can write into a TX ring slot
// when it frees it, stays zero on a veth (Linux 6.18: tp_sec and tp_nsec
// are 0 and no TP_STATUS_TS_* bit is set), so it is not used. A frame the
// kernel drops before the driver (a qdisc, a link without carrier) gets no
// stamp.
//
// The kernel's blocks are still checked before they are read: a frame's
// header, offsets and lengths must stay inside its block. That walk is a
// pure function over a span (tpacket::BlockWalker), tested on hostile
// blocks without a kernel.
#pragma once

#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/uio.h>

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
#include "ersatz/link/tx_timestamp.hpp"
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
  /// Takes the frame (tx_count() grows by one) or fails without taking it.
  /// When the frame completes a batch (tx_batch), the batch is sent at
  /// once; an error then is that send's, for a frame already taken:
  /// compare tx_count() before and after to know.
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }
  /// With tx_timestamps on, the descriptor also polls POLLERR while stamps
  /// wait on the error queue; tx_timestamps() or receive() collects them.
  int poll_fd() const noexcept override { return fd_.get(); }
  /// Frames the kernel dropped because the ring was full (PACKET_STATISTICS).
  std::uint64_t drops() const noexcept override;

  /// Replaces the kernel filter (SO_ATTACH_FILTER).
  Result<void> set_filter(const BpfProgram& program);
  /// Hands every queued frame to the kernel: one kick of the TX ring, or
  /// one sendmmsg() (per 1024 frames, UIO_MAXIOV), without waiting for the
  /// frames to leave unless the socket's send buffer is full. Nothing to do
  /// with send(). A frame sendmmsg() refuses keeps its number and gets no
  /// stamp; the first such error is returned after the others were sent.
  /// A frame the driver refuses from the TX ring stays queued (the kernel
  /// puts it back) and flush() fails with ENOBUFS.
  Result<void> flush() override;
  std::uint64_t tx_count() const noexcept override { return tx_count_; }
  /// Reports the stamps receive() stashed, then those on the error queue
  /// (one recvmmsg() per 32), oldest first; never waits.
  Result<void> tx_timestamps(
      FunctionRef<void(std::uint64_t frame, Timestamp ts)> on_stamp) override;

  /// The transmit mode in use (ring falls back to send when the kernel
  /// refuses a TX ring).
  TxMode tx_mode() const noexcept { return tx_mode_; }
  /// Whether frames go through PACKET_TX_RING.
  bool tx_ring() const noexcept { return tx_mode_ == TxMode::ring; }
  /// Stamps that were malformed, could not be tied to a frame, or
  /// overflowed the stash (receive() keeps the newest 4096).
  std::uint64_t tx_stamps_lost() const noexcept { return stamps_lost_; }
  /// Blocks (or V2 slots) skipped because they failed validation.
  std::uint64_t bad_blocks() const noexcept { return bad_blocks_; }
  /// Whether receive uses per-frame TPACKET_V2 slots.
  bool frame_ring() const noexcept { return rx_frame_nr_ != 0; }
  /// Whether receive reads the socket with recvmmsg, without a ring.
  bool ringless() const noexcept { return rx_ring_ == RxRing::none; }

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
  Result<std::optional<RxFrame>> next_from_socket();
  void setup_socket_batch();
  Result<void> wait_readable(MonoTime deadline);
  Result<void> wait_tx_slot();
  Result<void> kick(bool wait);
  void settle_tx_queue() noexcept;
  Result<void> send_queued(bool wait);
  Result<void> send_one(ConstBytes frame);
  Result<void> send_batch();
  Result<void> setup_tx_timestamps(const std::string& ifname);
  Result<void> drain_stamps(FunctionRef<void(std::uint64_t, Timestamp)> sink);
  void stash(std::uint64_t frame, Timestamp ts) noexcept;

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
  RxRing rx_ring_ = RxRing::blocks;
  bool receives_ = true;

  // Without a ring: one recvmmsg() fills up to rx_msgs_.size() slots
  struct RxSlot {
    std::size_t data_at;  // where its frame buffer starts in rx_buf_
    sockaddr_ll from;
  };
  std::vector<mmsghdr> rx_msgs_;
  std::vector<iovec> rx_iov_;
  std::vector<RxSlot> rx_slots_;
  std::vector<std::byte> rx_buf_;
  std::vector<std::byte> rx_ctrl_;
  std::size_t rx_slot_len_ = 0;  // bytes per slot, room for a tag in front
  std::size_t rx_got_ = 0;       // slots the last recvmmsg() filled
  std::size_t rx_next_ = 0;      // the next of those to hand out

  TxMode tx_mode_ = TxMode::send;
  std::uint64_t tx_count_ = 0;  // frames taken by transmit(): the next one's number
  std::size_t tx_queued_ = 0;   // frames taken and not yet handed to the kernel
  std::size_t tx_batch_ = 1;
  std::vector<std::byte> tx_buf_;  // send(): one frame; sendmmsg(): tx_frames slots

  // TX ring
  std::size_t tx_data_at_ = 0;    // where a TX frame's data starts in its slot
  std::size_t tx_status_at_ = 0;  // where its tp_status is
  std::size_t tx_frame_size_ = 0;
  std::size_t tx_frame_nr_ = 0;
  std::size_t tx_head_ = 0;

  // sendmmsg: slot i of tx_buf_ is message i
  std::size_t batch_nr_ = 0;
  std::vector<mmsghdr> batch_msgs_;
  std::vector<iovec> batch_iov_;
  std::vector<std::byte> batch_ctrl_;  // one SCM_TS_OPT_ID message per slot

  // Transmit timestamps
  bool tx_stamps_ = false;
  bool stamp_ids_ = true;       // SCM_TS_OPT_ID on every send call (Linux 6.13+)
  bool ids_confirmed_ = false;  // a send with it succeeded: the kernel knows it
  txstamp::Numbering numbering_;
  std::vector<mmsghdr> errq_msgs_;
  std::vector<std::byte> errq_ctrl_;
  struct Stashed {
    std::uint64_t frame;
    Timestamp ts;
  };
  std::vector<Stashed> stash_;  // a ring of stash_.size() entries
  std::size_t stash_head_ = 0;
  std::size_t stash_len_ = 0;
  std::uint64_t stamps_lost_ = 0;

  mutable std::uint64_t drops_ = 0;
};

}  // namespace ersatz::link
