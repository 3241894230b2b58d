// Control messages (cmsg) as the kernel writes them into msg_control:
// walked over a span, bounds-checked, never through a struct pointer into
// the buffer (a hostile length can only fail a check, not steer a read).
// Used by the transmit-stamp reader (tx_timestamp.hpp) and by the
// ring-less receive path (rx_control.hpp). Linux only.
#pragma once

#include <cstddef>
#include <cstring>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/function_ref.hpp"
#include "ersatz/base/result.hpp"

namespace ersatz::link::cmsg {

/// One message: its level, its type, and its data (cmsg_len less the
/// header).
struct Message {
  int level = 0;
  int type = 0;
  ConstBytes data;
};

/// Calls `visit` for each message of `control` (msg_control cut to the
/// msg_controllen the kernel left), as CMSG_FIRSTHDR/CMSG_NXTHDR step:
/// every header must lie inside the bytes and its cmsg_len cover at least
/// the header, RawError::bad_control otherwise; a header that does not fit
/// in what is left ends the walk (put_cmsg leaves room unused after a
/// message it cut short).
Result<void> walk(ConstBytes control, FunctionRef<void(const Message&)> visit) noexcept;

/// A value of the host's layout at `at` (the caller checked the length).
template <class T>
T load(ConstBytes b, std::size_t at) noexcept {
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

}  // namespace ersatz::link::cmsg
