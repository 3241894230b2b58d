// Transmit timestamps from a socket's error queue: pure code over the
// control bytes, no system call (Documentation/networking/timestamping.rst,
// "Reading timestamps"; the structs of <linux/errqueue.h>).
//
// The control bytes are a sequence of cmsghdrs as put_cmsg() writes them
// (net/core/scm.c): a header whose cmsg_len counts header and data, the
// data at CMSG_LEN(0), the next header CMSG_ALIGN(cmsg_len) further on.
// Everything is read with memcpy at offsetof() positions, never through a
// struct pointer into the buffer, so a hostile length can only fail a
// check, not steer a read.
#include "ersatz/link/tx_timestamp.hpp"

#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "ersatz/link/open_device.hpp"

namespace ersatz::link::txstamp {
namespace {

template <class T>
T load_host(ConstBytes b, std::size_t at) noexcept {
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

// cmsg framing of this ABI (<bits/socket.h>): headers and data aligned to
// sizeof(size_t).
constexpr std::size_t cmsg_align(std::size_t n) noexcept {
  return (n + sizeof(std::size_t) - 1) & ~(sizeof(std::size_t) - 1);
}
constexpr std::size_t cmsg_header = sizeof(cmsghdr);
constexpr std::size_t cmsg_data_at = cmsg_align(sizeof(cmsghdr));
static_assert(cmsg_data_at == CMSG_LEN(0));

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
  std::size_t at = 0;
  // A header that does not fit ends the walk, as CMSG_NXTHDR does: put_cmsg
  // leaves unused room after the last message when it was cut short.
  while (control.size() - at >= cmsg_header) {
    const std::size_t len =
        load_host<decltype(cmsghdr{}.cmsg_len)>(control, at + offsetof(cmsghdr, cmsg_len));
    const auto level = load_host<int>(control, at + offsetof(cmsghdr, cmsg_level));
    const auto type = load_host<int>(control, at + offsetof(cmsghdr, cmsg_type));
    if (len < cmsg_data_at || len > control.size() - at) return fail(RawError::bad_control);
    const ConstBytes data = control.subspan(at + cmsg_data_at, len - cmsg_data_at);

    if (level == SOL_SOCKET && (type == scm_timestamping_old || type == scm_timestamping_new)) {
      const bool is_new = type == scm_timestamping_new;
      if (data.size() < (is_new ? new_ts_len : old_ts_len)) return fail(RawError::bad_control);
      if (!seen.stamp) {
        seen.stamp = true;
        if (is_new) {
          seen.sec = load_host<std::int64_t>(data, 0);
          seen.nsec = load_host<std::int64_t>(data, sizeof(std::int64_t));
        } else {
          seen.sec = load_host<time_t>(data, offsetof(timespec, tv_sec));
          seen.nsec = load_host<long>(data, offsetof(timespec, tv_nsec));
        }
      }
    } else if (level == SOL_PACKET && type == PACKET_TX_TIMESTAMP) {
      if (data.size() < sizeof(sock_extended_err)) return fail(RawError::bad_control);
      if (!seen.err) {
        seen.err = true;
        seen.ee_errno = load_host<std::uint32_t>(data, offsetof(sock_extended_err, ee_errno));
        seen.origin = load_host<std::uint8_t>(data, offsetof(sock_extended_err, ee_origin));
        seen.info = load_host<std::uint32_t>(data, offsetof(sock_extended_err, ee_info));
        seen.data = load_host<std::uint32_t>(data, offsetof(sock_extended_err, ee_data));
      }
    }

    // The next header, if the aligned length leaves room for one.
    const std::size_t step = cmsg_align(len);
    if (step > control.size() - at) break;
    at += step;
  }

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
