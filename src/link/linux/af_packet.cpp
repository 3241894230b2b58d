// AF_PACKET device: a TPACKET_V3 (blocks) or TPACKET_V2 (per-frame)
// receive ring; PACKET_TX_RING, send() or sendmmsg(); kernel transmit
// timestamps.
// References: packet(7); Documentation/networking/packet_mmap.rst (the
// ring protocol, TPACKET_V3, the TX ring); Documentation/networking/
// filter.rst (SO_ATTACH_FILTER); Documentation/networking/timestamping.rst
// (SO_TIMESTAMPING, the error queue, OPT_ID and SCM_TS_OPT_ID).
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "ersatz/link/af_packet.hpp"
#include "ersatz/link/netif.hpp"
#include "ersatz/link/rx_control.hpp"

namespace ersatz::link {
namespace {

// Ring status words are shared with the kernel, which writes them from
// another CPU: they are the one place read and written through a typed
// pointer, as atomics, with the acquire/release order the kernel's
// smp_wmb()/smp_rmb() pair with (packet_mmap.rst, "What TPACKET versions
// are available": the status word hands a slot over). Everything else in
// the ring is read with memcpy.
std::uint32_t load_status(const std::byte* p) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  return std::atomic_ref<std::uint32_t>(
             *reinterpret_cast<std::uint32_t*>(const_cast<std::byte*>(p)))
      .load(std::memory_order_acquire);
}
void store_status(std::byte* p, std::uint32_t v) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(p))
      .store(v, std::memory_order_release);
}

constexpr std::size_t block_status_at =
    offsetof(tpacket_block_desc, hdr) + offsetof(tpacket_hdr_v1, block_status);
// Where a TX frame's data starts when PACKET_TX_HAS_OFF is not set: right
// after the aligned header (tpacket_snd: tp_hdrlen - sizeof(sockaddr_ll)).
constexpr std::size_t tx_data_at_v3 = TPACKET_ALIGN(sizeof(tpacket3_hdr));
constexpr std::size_t tx_data_at_v2 = TPACKET_ALIGN(sizeof(tpacket2_hdr));
constexpr std::size_t vlan_len = 4;
// Control bytes per received frame without a ring (next_from_socket).
constexpr std::size_t rx_ctrl_len = 256;
// tp_status is the first word of a V2 header, the sixth of a V3 one.
constexpr std::size_t v2_status_at = offsetof(tpacket2_hdr, tp_status);

template <class T>
Result<void> set_option(int fd, int level, int name, const T& value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return fail_errno(errno);
  return {};
}

std::size_t round_up(std::size_t v, std::size_t to) { return (v + to - 1) / to * to; }
std::size_t pow2_at_least(std::size_t v) {
  std::size_t p = 1;
  while (p < v) p <<= 1U;
  return p;
}

// SCM_TS_OPT_ID, Linux 6.13 (include/uapi/asm-generic/socket.h): the
// OPT_ID key of the packets of one send call. Debian 12's headers predate it.
#ifdef SCM_TS_OPT_ID
constexpr int scm_ts_opt_id = SCM_TS_OPT_ID;
#else
constexpr int scm_ts_opt_id = 81;
#endif

// Software stamps at the driver (TX_SOFTWARE), reported (SOFTWARE), keyed
// (OPT_ID), without a copy of the frame (OPT_TSONLY): timestamping.rst,
// "Timestamp Options".
constexpr int tx_stamp_flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
                               SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;

constexpr std::size_t key_space = CMSG_SPACE(sizeof(std::uint32_t));
// Error-queue messages read per recvmmsg(), and the room for each one's
// control messages: SCM_TIMESTAMPING (CMSG_SPACE(48)) and the extended
// error (CMSG_SPACE(16)) take 96 bytes.
constexpr std::size_t errq_batch = 32;
constexpr std::size_t errq_space = 128;
// Stamps receive() keeps for tx_timestamps().
constexpr std::size_t stash_capacity = 4096;
// Each TSONLY report is charged about 835 bytes of the socket's receive
// buffer (Linux 6.18), and sock_queue_err_skb() drops a report past
// sk_rcvbuf: the default 208 KiB holds 255, one short of a 256-frame burst.
// 1 MiB (2 MiB once the kernel doubles it) holds about 2500.
constexpr int errq_rcvbuf = 1 << 20;
// sendmmsg() takes at most UIO_MAXIOV messages per call.
constexpr std::size_t mmsg_max = 1024;

/// A SCM_TS_OPT_ID control message carrying `key`, in `buf` (key_space bytes).
void put_key(std::byte* buf, std::uint32_t key) noexcept {
  cmsghdr h{};
  h.cmsg_len = CMSG_LEN(sizeof key);
  h.cmsg_level = SOL_SOCKET;
  h.cmsg_type = scm_ts_opt_id;
  std::memset(buf, 0, key_space);
  std::memcpy(buf, &h, sizeof h);
  std::memcpy(buf + CMSG_LEN(0), &key, sizeof key);
}

timespec until(MonoTime deadline) noexcept {
  const auto left = std::max(deadline - MonoClock::now(), MonoClock::duration::zero());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

Result<std::unique_ptr<AfPacketDevice>> AfPacketDevice::open(const std::string& ifname,
                                                             const DeviceOptions& options) {
  std::unique_ptr<AfPacketDevice> dev(new AfPacketDevice());
  if (auto r = dev->setup(ifname, options); !r) return tl::unexpected(r.error());
  return dev;
}

AfPacketDevice::~AfPacketDevice() {
  // Frames already queued are handed to the kernel; not waiting for them.
  if (tx_queued_ > 0) (void)send_queued(false);
}

Result<void> AfPacketDevice::setup(const std::string& ifname, const DeviceOptions& options) {
  // Protocol 0: the socket receives nothing until bind() names a protocol,
  // so no frame of another interface, and none the filter would refuse,
  // can be queued while it is being set up.
  fd_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!fd_) return fail_errno(errno);  // EPERM without CAP_NET_RAW
  auto info = netif_info(ifname);
  if (!info) return tl::unexpected(info.error());
  if (!info->ethernet) return fail(RawError::not_ethernet);
  ifindex_ = info->index;
  caps_.name = ifname;
  caps_.mtu = info->mtu;
  caps_.mac = info->mac;
  caps_.kernel_timestamps = true;
  caps_.can_transmit = true;
  snaplen_ = std::max<std::uint32_t>(options.snaplen, 64);
  // The kernel accepts a frame of MTU + link header, and 4 more when it
  // carries an 802.1Q tag (packet_extra_vlan_len_allowed).
  max_tx_len_ = info->mtu + ETH_HLEN + vlan_len;
  tx_batch_ = std::max<std::size_t>(options.tx_batch, 1);

  const int fd = fd_.get();
  rx_ring_ = options.rx_ring;
  receives_ = options.receive;
  if (!receives_) rx_ring_ = RxRing::none;
  version_ = rx_ring_ == RxRing::blocks ? TPACKET_V3 : TPACKET_V2;
  tx_data_at_ = version_ == TPACKET_V2 ? tx_data_at_v2 : tx_data_at_v3;
  tx_status_at_ = version_ == TPACKET_V2 ? v2_status_at : offsetof(tpacket3_hdr, tp_status);
  if (auto r = set_option(fd, SOL_PACKET, PACKET_VERSION, version_); !r) return r;
  // Room to put a stripped VLAN tag back in front of the frame (libpcap
  // reserves the same).
  if (auto r = set_option(fd, SOL_PACKET, PACKET_RESERVE, unsigned{vlan_len}); !r) return r;
  if (receives_ && rx_ring_ == RxRing::none) {
    // Without a ring the arrival time comes as a control message, and so
    // does a VLAN tag the kernel took off (the ring's header has both).
    if (auto r = set_option(fd, SOL_SOCKET, SO_TIMESTAMPNS, int{1}); !r) return r;
    if (auto r = set_option(fd, SOL_PACKET, PACKET_AUXDATA, int{1}); !r) return r;
    // Room for a burst's answers between two reads; SO_RCVBUFFORCE needs
    // CAP_NET_ADMIN, so SO_RCVBUF (capped by rmem_max) is the fallback.
    constexpr int rcvbuf = 4 << 20;
    if (!set_option(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf))
      (void)set_option(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
    setup_socket_batch();
  }
  if (receives_ && options.ignore_outgoing) {
    // Linux 4.20+; before that, outgoing frames are recognised by their
    // sll_pkttype and skipped in receive().
    if (auto r = set_option(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, int{1}); !r) {
      if (r.error() != std::errc::no_protocol_option) return r;
      drop_outgoing_ = true;
    }
  }
  if (receives_ && options.filter) {
    if (auto r = set_filter(*options.filter); !r) return r;
  }
  if (options.qdisc_bypass) {
    if (auto r = set_option(fd, SOL_PACKET, PACKET_QDISC_BYPASS, int{1}); !r) return r;
  }
  // A blocking send (flush, a full ring) waits at most this long.
  if (auto r = set_option(fd, SOL_SOCKET, SO_SNDTIMEO, timeval{1, 0}); !r) return r;
  if (auto r = setup_rings(options); !r) return r;
  if (options.tx_timestamps) {
    if (auto r = setup_tx_timestamps(ifname); !r) return r;
  }

  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  // Protocol 0 for a send-only device: bound to the interface for sending,
  // never registered to receive (packet_do_bind registers no hook).
  addr.sll_protocol = receives_ ? htons(ETH_P_ALL) : 0;
  addr.sll_ifindex = ifindex_;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return fail_errno(errno);
  if (options.promiscuous) {
    packet_mreq mr{};
    mr.mr_ifindex = ifindex_;
    mr.mr_type = PACKET_MR_PROMISC;
    if (auto r = set_option(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mr); !r) return r;
  }
  return {};
}

Result<void> AfPacketDevice::setup_rings(const DeviceOptions& options) {
  const int fd = fd_.get();
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

  // A malformed TX frame is skipped rather than left in the ring, where it
  // would stop every frame behind it (tpacket_snd, po->tp_loss). Like the
  // version and the reserve, it can only be set before a ring exists.
  if (options.tx_mode == TxMode::ring) {
    if (auto r = set_option(fd, SOL_PACKET, PACKET_LOSS, int{1}); !r) return r;
  }

  // Receive ring, rx_block_size * rx_blocks bytes either way.
  rx_block_size_ = round_up(std::max(options.rx_block_size, page), page);
  rx_block_nr_ = std::max<std::size_t>(options.rx_blocks, 2);
  if (rx_ring_ == RxRing::none) {
    rx_block_size_ = 0;
    rx_block_nr_ = 0;
  } else if (version_ == TPACKET_V2) {
    // Fixed slots, each big enough for the header, the sockaddr_ll, the
    // reserve and the longest frame kept (tpacket_rcv cuts longer ones to
    // the slot); blocks only group slots, which may not straddle them.
    const std::size_t keep = std::min<std::size_t>(snaplen_, max_tx_len_);
    const std::size_t overhead = TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + vlan_len;
    rx_frame_size_ = pow2_at_least(overhead + keep);
    const std::size_t block = std::max(rx_frame_size_, page);
    const std::size_t blocks = std::max<std::size_t>(rx_block_size_ * rx_block_nr_ / block, 2);
    tpacket_req rx{};
    rx.tp_block_size = static_cast<unsigned>(block);
    rx.tp_block_nr = static_cast<unsigned>(blocks);
    rx.tp_frame_size = static_cast<unsigned>(rx_frame_size_);
    rx.tp_frame_nr = static_cast<unsigned>(blocks * (block / rx_frame_size_));
    if (auto r = set_option(fd, SOL_PACKET, PACKET_RX_RING, rx); !r) return r;
    rx_frame_nr_ = rx.tp_frame_nr;
    rx_block_size_ = block;
    rx_block_nr_ = blocks;
  } else {
    // For TPACKET_V3 the frame size only has to divide the block evenly
    // (packet_set_ring checks frames_per_block * block_nr == frame_nr);
    // frames are packed into blocks at their own length.
    tpacket_req3 rx{};
    constexpr std::size_t rx_frame_size = 2048;
    rx.tp_block_size = static_cast<unsigned>(rx_block_size_);
    rx.tp_block_nr = static_cast<unsigned>(rx_block_nr_);
    rx.tp_frame_size = rx_frame_size;
    rx.tp_frame_nr = static_cast<unsigned>(rx_block_size_ / rx_frame_size * rx_block_nr_);
    rx.tp_retire_blk_tov =
        static_cast<unsigned>(std::max<std::int64_t>(options.block_timeout.count(), 1));
    if (auto r = set_option(fd, SOL_PACKET, PACKET_RX_RING, rx); !r) return r;
  }
  const std::size_t rx_size = rx_ring_size();

  // Transmit ring: fixed frames, each a header and up to max_tx_len_ bytes.
  // TPACKET_V3 TX rings need Linux 4.11; when the kernel refuses one, frames
  // go out with send() instead.
  std::size_t tx_size = 0;
  if (options.tx_mode == TxMode::ring) {
    const std::size_t frame = pow2_at_least(tx_data_at_ + max_tx_len_);
    // The TX ring's tpacket_req3 is read as a tpacket_req under V2; its
    // extra fields stay zero.
    const std::size_t block = std::max(frame, page);
    // Bound the ring at 4 MiB whatever the MTU (loopback's is 64 KiB).
    const std::size_t frames = std::clamp<std::size_t>(
        std::min(options.tx_frames, (std::size_t{4} << 20) / frame), block / frame, 1U << 16);
    const std::size_t per_block = block / frame;
    const std::size_t blocks = (frames + per_block - 1) / per_block;
    tpacket_req3 tx{};
    tx.tp_block_size = static_cast<unsigned>(block);
    tx.tp_block_nr = static_cast<unsigned>(blocks);
    tx.tp_frame_size = static_cast<unsigned>(frame);
    tx.tp_frame_nr = static_cast<unsigned>(blocks * per_block);
    if (set_option(fd, SOL_PACKET, PACKET_TX_RING, tx)) {
      tx_frame_size_ = frame;
      tx_frame_nr_ = blocks * per_block;
      tx_size = blocks * block;
      tx_mode_ = TxMode::ring;
    }
  }
  if (options.tx_mode == TxMode::sendmmsg) {
    // tx_frames slots of the longest frame, each its own message; the
    // iovecs and keys are filled in as frames are taken.
    tx_mode_ = TxMode::sendmmsg;
    batch_nr_ = std::clamp<std::size_t>(options.tx_frames, 1, 1U << 16);
    tx_buf_.resize(batch_nr_ * max_tx_len_);
    batch_msgs_.resize(batch_nr_);
    batch_iov_.resize(batch_nr_);
    batch_ctrl_.resize(batch_nr_ * key_space);
    for (std::size_t i = 0; i < batch_nr_; ++i) {
      batch_iov_[i].iov_base = tx_buf_.data() + i * max_tx_len_;
      batch_msgs_[i].msg_hdr.msg_iov = &batch_iov_[i];
      batch_msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  } else if (tx_mode_ != TxMode::ring) {
    tx_buf_.resize(max_tx_len_);
  }

  // One mapping holds both rings, receive first (packet_mmap.rst).
  if (rx_size + tx_size == 0) return {};
  void* addr = ::mmap(nullptr, rx_size + tx_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return fail_errno(errno);
  map_ = Mapping(addr, rx_size + tx_size);
  return {};
}

std::size_t AfPacketDevice::rx_ring_size() const noexcept { return rx_block_size_ * rx_block_nr_; }
std::byte* AfPacketDevice::rx_block(std::size_t i) const noexcept {
  return map_.data() + i * rx_block_size_;
}
std::byte* AfPacketDevice::rx_slot(std::size_t i) const noexcept {
  // The slot size is a power of two and the block max(slot, page), so
  // every block is full of slots and they lie end to end.
  return map_.data() + i * rx_frame_size_;
}
std::byte* AfPacketDevice::tx_frame(std::size_t i) const noexcept {
  return map_.data() + rx_ring_size() + i * tx_frame_size_;
}

void AfPacketDevice::release_block() noexcept {
  walker_.reset();
  store_status(rx_block(rx_current_) + block_status_at, TP_STATUS_KERNEL);
  rx_current_ = (rx_current_ + 1) % rx_block_nr_;
}

void AfPacketDevice::release_slot() noexcept {
  rx_slot_held_ = false;
  store_status(rx_slot(rx_current_) + v2_status_at, TP_STATUS_KERNEL);
  if (++rx_current_ == rx_frame_nr_) rx_current_ = 0;
}

Result<void> AfPacketDevice::setup_tx_timestamps(const std::string& ifname) {
  // Only a driver that stamps in its xmit routine produces SND stamps;
  // elsewhere the capability stays off rather than promise stamps that
  // never come.
  if (!netif_stamps_tx(ifname)) return {};
  const int fd = fd_.get();
  if (!set_option(fd, SOL_SOCKET, SO_TIMESTAMPING, tx_stamp_flags)) return {};
  // Room on the error queue for a burst's stamps: SO_RCVBUFFORCE (needs
  // CAP_NET_ADMIN) past net.core.rmem_max, else SO_RCVBUF up to it. The
  // receive ring does not use this buffer.
  if (!set_option(fd, SOL_SOCKET, SO_RCVBUFFORCE, errq_rcvbuf)) {
    (void)set_option(fd, SOL_SOCKET, SO_RCVBUF, errq_rcvbuf);
  }
  errq_msgs_.resize(errq_batch);
  errq_ctrl_.resize(errq_batch * errq_space);
  stash_.resize(stash_capacity);
  tx_stamps_ = true;
  caps_.tx_timestamps = true;
  if (tx_mode_ == TxMode::sendmmsg) {
    for (std::size_t i = 0; i < batch_nr_; ++i) {
      batch_msgs_[i].msg_hdr.msg_control = batch_ctrl_.data() + i * key_space;
      batch_msgs_[i].msg_hdr.msg_controllen = key_space;
    }
  }
  return {};
}

Result<std::optional<RxFrame>> AfPacketDevice::receive(MonoTime deadline) {
  // A caller that batches sends and then waits for an answer must not wait
  // on frames still queued.
  if (tx_queued_ > 0) {
    if (auto r = send_queued(false); !r) return tl::unexpected(r.error());
  }
  if (!receives_) return std::optional<RxFrame>{};
  // The frame handed out last is the caller's until this call.
  if (rx_slot_held_) release_slot();
  for (;;) {
    auto next = rx_ring_ == RxRing::none ? next_from_socket()
                : frame_ring()           ? next_from_slots()
                                         : next_from_blocks();
    if (!next || *next) return next;
    if (deadline == no_wait || MonoClock::now() >= deadline) return std::optional<RxFrame>{};
    if (auto r = wait_readable(deadline); !r) {
      if (r.error() == std::errc::interrupted) return std::optional<RxFrame>{};
      return tl::unexpected(r.error());
    }
  }
}

Result<std::optional<RxFrame>> AfPacketDevice::next_from_blocks() {
  for (;;) {
    if (walker_) {
      auto next = walker_->next();
      if (!next) {
        ++bad_blocks_;
        release_block();
        return tl::unexpected(next.error());
      }
      if (!*next) {
        release_block();
        continue;
      }
      tpacket::RingFrame f = **next;
      if (drop_outgoing_ && f.pkttype == PACKET_OUTGOING) continue;
      tpacket::reinsert_vlan(MutBytes(rx_block(rx_current_), rx_block_size_), f);
      const std::uint32_t caplen = std::min(f.snaplen, snaplen_);
      return RxFrame{ConstBytes(rx_block(rx_current_) + f.mac_offset, caplen),
                     std::max(f.len, caplen), f.ts};
    }
    std::byte* block = rx_block(rx_current_);
    if ((load_status(block + block_status_at) & TP_STATUS_USER) == 0) {
      return std::optional<RxFrame>{};
    }
    auto w = tpacket::BlockWalker::open(ConstBytes(block, rx_block_size_));
    if (!w) {
      ++bad_blocks_;
      release_block();
      return tl::unexpected(w.error());
    }
    walker_.emplace(*w);
  }
}

Result<std::optional<RxFrame>> AfPacketDevice::next_from_slots() {
  for (;;) {
    std::byte* slot = rx_slot(rx_current_);
    if ((load_status(slot + v2_status_at) & TP_STATUS_USER) == 0) {
      return std::optional<RxFrame>{};
    }
    auto f = tpacket::read_v2_frame(ConstBytes(slot, rx_frame_size_));
    if (!f) {
      ++bad_blocks_;
      release_slot();
      return tl::unexpected(f.error());
    }
    if (drop_outgoing_ && f->pkttype == PACKET_OUTGOING) {
      release_slot();
      continue;
    }
    tpacket::reinsert_vlan(MutBytes(slot, rx_frame_size_), *f);
    rx_slot_held_ = true;
    const std::uint32_t caplen = std::min(f->snaplen, snaplen_);
    return RxFrame{ConstBytes(slot + f->mac_offset, caplen), std::max(f->len, caplen), f->ts};
  }
}

void AfPacketDevice::setup_socket_batch() {
  // Slots for the longest frame kept, with a tag's room in front; as many
  // as fit in 256 KiB, at most 64 (loopback's 64 KiB MTU gets a few).
  const std::size_t keep = std::min<std::size_t>(snaplen_, max_tx_len_);
  rx_slot_len_ = vlan_len + keep;
  const std::size_t n = std::clamp<std::size_t>((std::size_t{256} << 10) / rx_slot_len_, 1, 64);
  // A timespec, a tpacket_auxdata and, with SO_TIMESTAMPING on for
  // transmit stamps, an scm_timestamping too, each with its header.
  constexpr std::size_t ctrl_len = rx_ctrl_len;
  rx_buf_.resize(n * rx_slot_len_);
  rx_ctrl_.resize(n * ctrl_len);
  rx_msgs_.resize(n);
  rx_iov_.resize(n);
  rx_slots_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    rx_slots_[i].data_at = i * rx_slot_len_;
    rx_iov_[i].iov_base = rx_buf_.data() + rx_slots_[i].data_at + vlan_len;
    rx_iov_[i].iov_len = keep;
    auto& h = rx_msgs_[i].msg_hdr;
    h.msg_iov = &rx_iov_[i];
    h.msg_iovlen = 1;
    h.msg_control = rx_ctrl_.data() + i * ctrl_len;
  }
}

Result<std::optional<RxFrame>> AfPacketDevice::next_from_socket() {
  constexpr std::size_t ctrl_len = rx_ctrl_len;
  for (;;) {
    if (rx_next_ == rx_got_) {
      // The kernel rewrites the lengths: set them again before each read.
      for (std::size_t i = 0; i < rx_msgs_.size(); ++i) {
        auto& h = rx_msgs_[i].msg_hdr;
        h.msg_name = &rx_slots_[i].from;
        h.msg_namelen = sizeof(sockaddr_ll);
        h.msg_controllen = ctrl_len;
        h.msg_flags = 0;
      }
      // MSG_TRUNC: msg_len is the frame's whole length, even when cut.
      const int n = ::recvmmsg(fd_.get(), rx_msgs_.data(), static_cast<unsigned>(rx_msgs_.size()),
                               MSG_DONTWAIT | MSG_TRUNC, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          return std::optional<RxFrame>{};
        return fail_errno(errno);
      }
      rx_got_ = static_cast<std::size_t>(n);
      rx_next_ = 0;
      if (rx_got_ == 0) return std::optional<RxFrame>{};
    }
    const std::size_t i = rx_next_++;
    const auto& h = rx_msgs_[i].msg_hdr;
    const RxSlot& slot = rx_slots_[i];
    if (drop_outgoing_ && slot.from.sll_pkttype == PACKET_OUTGOING) continue;
    const ConstBytes control(static_cast<const std::byte*>(h.msg_control),
                             std::min<std::size_t>(h.msg_controllen, ctrl_len));
    // Metadata the kernel cut short (MSG_CTRUNC) or that does not parse
    // costs the frame its kernel time and tag, not the frame itself.
    auto meta = rxmeta::parse_control(control);
    if (!meta || (h.msg_flags & MSG_CTRUNC) != 0) {
      ++bad_blocks_;
      if (!meta) meta = rxmeta::Meta{};
    }
    const std::uint32_t wire_len = rx_msgs_[i].msg_len;
    std::size_t caplen = std::min<std::size_t>(wire_len, rx_slot_len_ - vlan_len);
    std::byte* frame = rx_buf_.data() + slot.data_at + vlan_len;
    std::uint32_t len = wire_len;
    if (meta->vlan_tci && caplen >= 12) {
      // The tag back between the addresses and the type, as on the wire.
      std::memmove(frame - vlan_len, frame, 12);
      frame -= vlan_len;
      const MutBytes tag(frame + 12, vlan_len);
      store_be16(tag, 0, meta->vlan_tpid);
      store_be16(tag, 2, *meta->vlan_tci);
      caplen += vlan_len;
      len += vlan_len;
    }
    return RxFrame{ConstBytes(frame, caplen),
                   std::max<std::uint32_t>(len, static_cast<std::uint32_t>(caplen)),
                   meta->ts.value_or(wall_now())};
  }
}

Result<void> AfPacketDevice::wait_readable(MonoTime deadline) {
  // The socket polls readable once the slot (V2) or block (V3) after the
  // last one handed back is the user's (packet_poll); the status was
  // checked just before, so no wake-up is lost.
  pollfd pfd{fd_.get(), POLLIN, 0};
  const timespec left = until(deadline);
  const int n = ::ppoll(&pfd, 1, &left, nullptr);
  if (n < 0) return fail_errno(errno);  // EINTR included: the caller decides
  if (n > 0 && (pfd.revents & POLLERR) != 0) {
    // A pending socket error (ENETDOWN when the interface goes away).
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
      return fail_errno(err);
    // Or transmit stamps on the error queue: POLLERR stays up until they
    // are read, so read them now, or the next wait would not wait.
    if (tx_stamps_) {
      return drain_stamps([this](std::uint64_t frame, Timestamp ts) { stash(frame, ts); });
    }
  }
  return {};
}

void AfPacketDevice::stash(std::uint64_t frame, Timestamp ts) noexcept {
  if (stash_len_ == stash_.size()) {
    // Full: the oldest goes (a caller that never asks wants the newest).
    stash_head_ = (stash_head_ + 1) % stash_.size();
    --stash_len_;
    ++stamps_lost_;
  }
  stash_[(stash_head_ + stash_len_) % stash_.size()] = Stashed{frame, ts};
  ++stash_len_;
}

Result<void> AfPacketDevice::tx_timestamps(
    FunctionRef<void(std::uint64_t frame, Timestamp ts)> on_stamp) {
  if (!tx_stamps_) return {};
  while (stash_len_ > 0) {
    const Stashed e = stash_[stash_head_];
    stash_head_ = (stash_head_ + 1) % stash_.size();
    --stash_len_;
    on_stamp(e.frame, e.ts);
  }
  return drain_stamps(on_stamp);
}

Result<void> AfPacketDevice::drain_stamps(FunctionRef<void(std::uint64_t, Timestamp)> sink) {
  // Non-blocking reads of the error queue, errq_batch messages at a time,
  // until it is empty. With OPT_TSONLY a message has no data, only control
  // messages (timestamping.rst, "SOF_TIMESTAMPING_OPT_TSONLY").
  for (;;) {
    for (std::size_t i = 0; i < errq_batch; ++i) {
      msghdr& h = errq_msgs_[i].msg_hdr;
      h = msghdr{};
      h.msg_control = errq_ctrl_.data() + i * errq_space;
      h.msg_controllen = errq_space;
    }
    const int n = ::recvmmsg(fd_.get(), errq_msgs_.data(), static_cast<unsigned>(errq_batch),
                             MSG_ERRQUEUE | MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return {};
      return fail_errno(errno);
    }
    for (int i = 0; i < n; ++i) {
      const msghdr& h = errq_msgs_[static_cast<std::size_t>(i)].msg_hdr;
      // The kernel says how much of the buffer it wrote; never more than
      // the buffer, whatever msg_controllen claims.
      const std::size_t used = std::min<std::size_t>(h.msg_controllen, errq_space);
      const ConstBytes control(errq_ctrl_.data() + static_cast<std::size_t>(i) * errq_space, used);
      auto stamp = (h.msg_flags & MSG_CTRUNC) != 0
                       ? Result<std::optional<txstamp::Stamp>>(std::nullopt)
                       : txstamp::parse_control(control);
      if (!stamp || !*stamp || (*stamp)->point != txstamp::point_sent) {
        ++stamps_lost_;
        continue;
      }
      const auto frame = numbering_.frame((*stamp)->key, tx_count_);
      if (!frame) {
        ++stamps_lost_;
        continue;
      }
      sink(*frame, (*stamp)->ts);
    }
    if (static_cast<std::size_t>(n) < errq_batch) return {};
  }
}

void AfPacketDevice::settle_tx_queue() noexcept {
  // The kernel takes SEND_REQUEST frames in ring order (tpacket_snd walks
  // from its own head, which moves with ours), marking each one
  // TP_STATUS_SENDING and later AVAILABLE: the frames it took are the
  // oldest of those queued, and leave the count.
  while (tx_queued_ > 0) {
    const std::size_t oldest = (tx_head_ + tx_frame_nr_ - tx_queued_) % tx_frame_nr_;
    if (load_status(tx_frame(oldest) + tx_status_at_) == TP_STATUS_SEND_REQUEST) break;
    --tx_queued_;
  }
}

Result<void> AfPacketDevice::kick(bool wait) {
  // One send with no data asks the kernel to send every frame marked
  // TP_STATUS_SEND_REQUEST (packet_mmap.rst, "Transmission process");
  // without MSG_DONTWAIT it also waits until they have left.
  settle_tx_queue();
  msghdr m{};
  alignas(cmsghdr) std::byte key[key_space];
  if (tx_stamps_ && stamp_ids_ && tx_queued_ > 0) {
    // The key of every frame of this kick: the number of its first one.
    put_key(key, static_cast<std::uint32_t>(tx_count_ - tx_queued_));
    m.msg_control = key;
    m.msg_controllen = key_space;
  }
  for (;;) {
    const ssize_t n = ::sendmsg(fd_.get(), &m, wait ? 0 : MSG_DONTWAIT);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EINVAL && m.msg_controllen != 0 && !ids_confirmed_) {
      // Before Linux 6.13 SCM_TS_OPT_ID is unknown (__sock_cmsg_send:
      // EINVAL, before any frame is taken): use the kernel's counter, which
      // started at 0 with SO_TIMESTAMPING and has counted nothing yet.
      stamp_ids_ = false;
      m.msg_control = nullptr;
      m.msg_controllen = 0;
      continue;
    }
    // The socket's send buffer is full: the frames stay queued in the ring
    // and go with the next kick.
    if (errno == EAGAIN || errno == ENOBUFS) return {};
    return fail_errno(errno);
  }
  if (m.msg_controllen != 0) ids_confirmed_ = true;
  tx_queued_ = 0;
  return {};
}

Result<void> AfPacketDevice::send_queued(bool wait) {
  if (tx_queued_ == 0) return {};
  if (tx_mode_ == TxMode::sendmmsg) return send_batch();
  if (auto r = kick(false); !r || !wait) return r;
  // Frames left behind by a full send buffer: wait for room this time.
  settle_tx_queue();
  if (tx_queued_ == 0) return {};
  if (auto r = kick(true); !r) return r;
  // Still there: the driver refused a frame (NET_XMIT_DROP, e.g. a veth
  // whose peer is down when the qdisc is bypassed), and tpacket_snd put it
  // back to SEND_REQUEST. It stays queued for the next kick; say so.
  settle_tx_queue();
  if (tx_queued_ > 0) return fail_errno(ENOBUFS);
  return {};
}

Result<void> AfPacketDevice::flush() { return send_queued(true); }

Result<void> AfPacketDevice::send_one(ConstBytes frame) {
  msghdr m{};
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): iovec is not const
  iovec iov{const_cast<std::byte*>(frame.data()), frame.size()};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) std::byte key[key_space];
  if (tx_stamps_ && stamp_ids_) {
    put_key(key, static_cast<std::uint32_t>(tx_count_));
    m.msg_control = key;
    m.msg_controllen = key_space;
  }
  for (;;) {
    if (::sendmsg(fd_.get(), &m, 0) >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EINVAL && m.msg_controllen != 0 && !ids_confirmed_) {
      // A kernel before 6.13 (see kick()). Should the frame fail again
      // without the key, the EINVAL was the frame's, and keys stay on.
      m.msg_control = nullptr;
      m.msg_controllen = 0;
      if (::sendmsg(fd_.get(), &m, 0) < 0) return fail_errno(errno);
      stamp_ids_ = false;
      break;
    }
    return fail_errno(errno);
  }
  if (m.msg_controllen != 0) ids_confirmed_ = true;
  ++tx_count_;
  return {};
}

Result<void> AfPacketDevice::send_batch() {
  // One sendmmsg() for the queued frames (packet_snd per message: the same
  // path as send(), one system call). It stops at the first message the
  // kernel refuses and returns the count sent before it; that frame is
  // dropped (its number is spent, no stamp will come) and the rest go on.
  std::error_code first_error;
  std::size_t done = 0;
  while (done < tx_queued_) {
    const auto vlen = static_cast<unsigned>(std::min(tx_queued_ - done, mmsg_max));
    const int n = ::sendmmsg(fd_.get(), batch_msgs_.data() + done, vlen, 0);
    if (n > 0) {
      if (tx_stamps_ && stamp_ids_) ids_confirmed_ = true;
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && tx_stamps_ && stamp_ids_ && !ids_confirmed_) {
      // A kernel before 6.13 (see kick()): every slot's message goes
      // without keys from here, numbered by the kernel's counter.
      stamp_ids_ = false;
      for (std::size_t i = 0; i < batch_nr_; ++i) {
        batch_msgs_[i].msg_hdr.msg_control = nullptr;
        batch_msgs_[i].msg_hdr.msg_controllen = 0;
      }
      continue;
    }
    if (!first_error) first_error = std::error_code(n < 0 ? errno : EIO, std::system_category());
    ++done;
  }
  tx_queued_ = 0;
  if (first_error) return tl::unexpected(first_error);
  return {};
}

Result<void> AfPacketDevice::wait_tx_slot() {
  // A slot is the user's unless it is queued or being sent: the kernel
  // may leave TP_STATUS_WRONG_FORMAT or a TP_STATUS_TS_* bit beside
  // AVAILABLE (packet_mmap.rst, "Transmission process"; tpacket_destruct_skb).
  const auto is_free = [](std::uint32_t status) {
    return (status & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) == 0;
  };
  std::byte* frame = tx_frame(tx_head_);
  const auto hdr_status = tx_status_at_;
  if (is_free(load_status(frame + hdr_status))) return {};
  // The ring is full: send what is queued and wait for it, then for the
  // slot to come back (the kernel frees it when the frame's skb is done).
  if (auto r = kick(true); !r) return r;
  for (int i = 0; i < 100; ++i) {
    if (is_free(load_status(frame + hdr_status))) return {};
    pollfd pfd{fd_.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, 10) < 0 && errno != EINTR) return fail_errno(errno);
  }
  return fail_errno(ENOBUFS);
}

Result<void> AfPacketDevice::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  if (len < ETH_HLEN) return fail(RawError::frame_too_short);
  if (len > max_tx_len_) return fail(RawError::frame_too_long);
  if (tx_mode_ == TxMode::send) {
    const MutBytes buf(tx_buf_.data(), len);
    fill(buf);
    if (tx_stamps_) return send_one(buf);
    for (;;) {
      if (::send(fd_.get(), buf.data(), len, 0) >= 0) {
        ++tx_count_;
        return {};
      }
      if (errno != EINTR) return fail_errno(errno);
    }
  }
  if (tx_mode_ == TxMode::sendmmsg) {
    if (tx_queued_ == batch_nr_) {
      if (auto r = send_batch(); !r) return r;
    }
    const std::size_t i = tx_queued_;
    fill(MutBytes(tx_buf_.data() + i * max_tx_len_, len));
    batch_iov_[i].iov_len = len;
    if (tx_stamps_ && stamp_ids_) {
      put_key(batch_ctrl_.data() + i * key_space, static_cast<std::uint32_t>(tx_count_));
    }
    ++tx_count_;
    if (++tx_queued_ >= tx_batch_) return send_batch();
    return {};
  }
  if (auto r = wait_tx_slot(); !r) return r;
  std::byte* frame = tx_frame(tx_head_);
  fill(MutBytes(frame + tx_data_at_, len));
  const auto len32 = static_cast<std::uint32_t>(len);
  if (version_ == TPACKET_V2) {
    std::memcpy(frame + offsetof(tpacket2_hdr, tp_len), &len32, sizeof len32);
    std::memcpy(frame + offsetof(tpacket2_hdr, tp_snaplen), &len32, sizeof len32);
  } else {
    const std::uint32_t zero = 0;
    std::memcpy(frame + offsetof(tpacket3_hdr, tp_len), &len32, sizeof len32);
    std::memcpy(frame + offsetof(tpacket3_hdr, tp_snaplen), &len32, sizeof len32);
    // TPACKET_V3 TX frames must have tp_next_offset 0 (tpacket_parse_header).
    std::memcpy(frame + offsetof(tpacket3_hdr, tp_next_offset), &zero, sizeof zero);
  }
  // Frames the kernel took since the last look leave the count first, so
  // that it never exceeds the ring.
  settle_tx_queue();
  store_status(frame + tx_status_at_, TP_STATUS_SEND_REQUEST);
  tx_head_ = (tx_head_ + 1) % tx_frame_nr_;
  ++tx_count_;
  if (++tx_queued_ >= tx_batch_) return kick(false);
  return {};
}

std::uint64_t AfPacketDevice::drops() const noexcept {
  // PACKET_STATISTICS resets the kernel's counters on every read (the V3
  // struct extends the V2 one; the kernel fills what the version has).
  tpacket_stats_v3 st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops_ += st.tp_drops;
  return drops_;
}

Result<void> AfPacketDevice::set_filter(const BpfProgram& program) {
  if (auto r = check_program(program); !r) return r;
  auto insns = to_native<sock_filter>(program);
  sock_fprog prog{static_cast<unsigned short>(insns.size()), insns.data()};
  return set_option(fd_.get(), SOL_SOCKET, SO_ATTACH_FILTER, prog);
}

}  // namespace ersatz::link
