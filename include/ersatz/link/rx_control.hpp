// What the kernel says about a frame received without a ring (recvmmsg on
// the packet socket): its arrival time (SO_TIMESTAMPNS) and the 802.1Q tag
// it took off the frame (PACKET_AUXDATA, struct tpacket_auxdata). Pure
// code over the control bytes; tested on hostile input without a kernel.
#pragma once

#include <cstdint>
#include <optional>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"

namespace ersatz::link::rxmeta {

struct Meta {
  std::optional<Timestamp> ts;            ///< SCM_TIMESTAMPNS, if it came and is sane
  std::optional<std::uint16_t> vlan_tci;  ///< a tag to put back (TP_STATUS_VLAN_VALID)
  std::uint16_t vlan_tpid = 0x8100;
};

/// Reads the control messages of one received frame. A message that lies
/// about its length, or a timestamp or auxdata message shorter than its
/// struct, is RawError::bad_control; unknown messages are skipped; a
/// timestamp with nanoseconds ≥ 10⁹ or a negative time is left out.
Result<Meta> parse_control(ConstBytes control) noexcept;

}  // namespace ersatz::link::rxmeta
