// Kernel transmit timestamps (SO_TIMESTAMPING, Linux): reading what a
// socket's error queue hands back, and turning the kernel's keys into frame
// numbers. Pure code over spans, no system call: tested on hostile bytes
// without a kernel (tests/unit/tx_timestamp_test.cpp, fuzz/fuzz_txstamp.cpp).
//
// Documentation/networking/timestamping.rst: a socket with
// SOF_TIMESTAMPING_TX_SOFTWARE gets, for every packet that reaches a
// driver calling skb_tx_timestamp(), one message on its error queue
// (recvmsg with MSG_ERRQUEUE). With OPT_TSONLY it carries no data, only
// two control messages:
//   * SOL_SOCKET / SCM_TIMESTAMPING: struct scm_timestamping, three
//     timespecs; ts[0] is the software stamp (CLOCK_REALTIME);
//   * the protocol's extended error, for a packet socket SOL_PACKET /
//     PACKET_TX_TIMESTAMP: struct sock_extended_err with ee_errno ENOMSG,
//     ee_origin SO_EE_ORIGIN_TIMESTAMPING, ee_info the stamp's point
//     (SCM_TSTAMP_SND, _SCHED, ...) and, with OPT_ID, ee_data its key.
#pragma once

#include <cstdint>
#include <optional>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"

namespace ersatz::link::txstamp {

/// Where in the transmit path a stamp was taken (ee_info; SCM_TSTAMP_* of
/// <linux/errqueue.h>).
inline constexpr std::uint32_t point_sent = 0;   ///< SND: the driver (skb_tx_timestamp)
inline constexpr std::uint32_t point_sched = 1;  ///< SCHED: entering the qdisc layer
inline constexpr std::uint32_t point_ack = 2;    ///< ACK: TCP only

/// One transmit timestamp, as the kernel reported it.
struct Stamp {
  std::uint32_t key = 0;    ///< ee_data: the OPT_ID key
  std::uint32_t point = 0;  ///< ee_info: point_sent, point_sched, ...
  Timestamp ts;             ///< the software stamp, ts[0]
};

/// Reads one error-queue message from its control bytes (msg_control, cut
/// to the msg_controllen the kernel left). Every cmsghdr must lie inside
/// the bytes and its cmsg_len cover at least its header; a timestamping or
/// extended-error message must hold its whole struct:
/// RawError::bad_control otherwise. A well-formed message that is not a
/// software transmit stamp gives nullopt: no SCM_TIMESTAMPING or no
/// extended error, an extended error of another origin or errno, ts[0]
/// zero or negative, or nanoseconds ≥ 10⁹. The first message of each kind
/// counts; later ones are ignored.
Result<std::optional<Stamp>> parse_control(ConstBytes control) noexcept;

/// Turns keys into frame numbers. The device numbers frames from 0 in the
/// order transmit() took them and gives the kernel, with every send call,
/// the number of the first frame in it as the key (SCM_TS_OPT_ID): one key
/// per frame with send() and sendmmsg(), one per ring kick with
/// PACKET_TX_RING, where the frames of a kick then share it and are
/// stamped in ring order. So a stamp's frame is its key, unwrapped from 32
/// bits, plus the number of stamps with the same key just before it.
class Numbering {
 public:
  /// The frame that a stamp with `key` belongs to, when `sent` frames have
  /// been numbered so far; nullopt when that would be a frame not yet
  /// numbered (a stale or hostile key), and then the run is not extended.
  std::optional<std::uint64_t> frame(std::uint32_t key, std::uint64_t sent) noexcept;

 private:
  std::optional<std::uint32_t> last_key_;
  std::uint64_t run_ = 0;  // stamps with last_key_ seen in a row
};

}  // namespace ersatz::link::txstamp
