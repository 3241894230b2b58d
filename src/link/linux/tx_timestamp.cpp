// Transmit timestamps from a socket's error queue: pure code over the
// control bytes, no system call (Documentation/networking/timestamping.rst,
// "Reading timestamps"; the structs of <linux/errqueue.h>).
//
// The control bytes are walked by cmsg::walk; every field is read with
// memcpy at offsetof() positions.
#include "ersatz/link/tx_timestamp.hpp"

#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "ersatz/link/cmsg.hpp"
#include "ersatz/link/open_device.hpp"

namespace ersatz::link::txstamp {
namespace {

// SCM_TIMESTAMPING (SO_TIMESTAMPING_OLD) carries struct scm_timestamping:
// three struct timespec of this ABI. SCM_TIMESTAMPING_NEW carries struct
// scm_timestamping64: three struct __kernel_timespec, two 64-bit words each
// on every ABI (<linux/errqueue.h>). The kernel sends the NEW form only to
// a socket that asked with SO_TIMESTAMPING_NEW.
constexpr int scm_timestamping_old = 37;  // SO_TIMESTAMPING_OLD
constexpr int scm_timestamping_new = 65;  // SO_TIMESTAMPING_NEW
constexpr std::size_t old_ts_len = 3 * sizeof(timespec);
constexpr std::size_t new_ts_len = 3 * 2 * sizeof(std::int64_t);

struct Seen {
  bool stamp = false;
  std::int64_t sec = 0;
  std::int64_t nsec = 0;
  bool err = false;
  std::uint32_t ee_errno = 0;
  std::uint8_t origin = 0;
  std::uint32_t info = 0;
  std::uint32_t data = 0;
};

}  // namespace

Result<std::optional<Stamp>> parse_control(ConstBytes control) noexcept {
  Seen seen;
  bool short_struct = false;
  auto walked = cmsg::walk(control, [&](const cmsg::Message& m) {
    const ConstBytes data = m.data;
    if (m.level == SOL_SOCKET &&
        (m.type == scm_timestamping_old || m.type == scm_timestamping_new)) {
      const bool is_new = m.type == scm_timestamping_new;
      if (data.size() < (is_new ? new_ts_len : old_ts_len)) {
        short_struct = true;
      } else if (!seen.stamp) {
        seen.stamp = true;
        if (is_new) {
          seen.sec = cmsg::load<std::int64_t>(data, 0);
          seen.nsec = cmsg::load<std::int64_t>(data, sizeof(std::int64_t));
        } else {
          seen.sec = cmsg::load<time_t>(data, offsetof(timespec, tv_sec));
          seen.nsec = cmsg::load<long>(data, offsetof(timespec, tv_nsec));
        }
      }
    } else if (m.level == SOL_PACKET && m.type == PACKET_TX_TIMESTAMP) {
      if (data.size() < sizeof(sock_extended_err)) {
        short_struct = true;
      } else if (!seen.err) {
        seen.err = true;
        seen.ee_errno = cmsg::load<std::uint32_t>(data, offsetof(sock_extended_err, ee_errno));
        seen.origin = cmsg::load<std::uint8_t>(data, offsetof(sock_extended_err, ee_origin));
        seen.info = cmsg::load<std::uint32_t>(data, offsetof(sock_extended_err, ee_info));
        seen.data = cmsg::load<std::uint32_t>(data, offsetof(sock_extended_err, ee_data));
      }
    }
  });
  if (!walked) return tl::unexpected(walked.error());
  if (short_struct) return fail(RawError::bad_control);

  if (!seen.stamp || !seen.err) return std::optional<Stamp>{};
  // A timestamp report has ee_errno ENOMSG and its own origin
  // (skb_complete_tx_timestamp / __skb_tstamp_tx in net/core/skbuff.c);
  // anything else on the queue (a zerocopy completion, an ICMP error) is
  // not one.
  if (seen.ee_errno != ENOMSG || seen.origin != SO_EE_ORIGIN_TIMESTAMPING)
    return std::optional<Stamp>{};
  // ts[0] stays zero when the kernel had no software stamp for this report.
  if (seen.sec < 0 || seen.nsec < 0 || seen.nsec >= 1'000'000'000) return std::optional<Stamp>{};
  if (seen.sec == 0 && seen.nsec == 0) return std::optional<Stamp>{};
  return Stamp{seen.data, seen.info, Timestamp{seen.sec, static_cast<std::uint32_t>(seen.nsec)}};
}

std::optional<std::uint64_t> Numbering::frame(std::uint32_t key, std::uint64_t sent) noexcept {
  if (sent == 0) return std::nullopt;
  // The newest numbered frame is sent - 1; the key is the low 32 bits of a
  // frame at or before it.
  const std::uint64_t newest = sent - 1;
  const std::uint32_t back = static_cast<std::uint32_t>(newest) - key;  // mod 2^32
  if (back > newest) return std::nullopt;
  const std::uint64_t run = last_key_ == key ? run_ + 1 : 0;
  const std::uint64_t base = newest - back;
  if (run > newest - base) return std::nullopt;
  last_key_ = key;
  run_ = run;
  return base + run;
}

}  // namespace ersatz::link::txstamp
