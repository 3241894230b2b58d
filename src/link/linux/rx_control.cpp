// SO_TIMESTAMPNS puts a struct timespec (SCM_TIMESTAMPNS_OLD) or, for a
// socket that asked with SO_TIMESTAMPNS_NEW, a struct __kernel_timespec of
// two 64-bit words; PACKET_AUXDATA puts a struct tpacket_auxdata
// (<linux/if_packet.h>, packet_recvmsg in net/packet/af_packet.c).
#include "ersatz/link/rx_control.hpp"

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <ctime>

#include "ersatz/link/cmsg.hpp"
#include "ersatz/link/open_device.hpp"

namespace ersatz::link::rxmeta {
namespace {

constexpr int scm_timestampns_old = 35;  // SO_TIMESTAMPNS_OLD
constexpr int scm_timestampns_new = 64;  // SO_TIMESTAMPNS_NEW

}  // namespace

Result<Meta> parse_control(ConstBytes control) noexcept {
  Meta meta;
  bool short_struct = false;
  bool seen_ts = false;
  bool seen_aux = false;
  auto walked = cmsg::walk(control, [&](const cmsg::Message& m) {
    if (m.level == SOL_SOCKET && (m.type == scm_timestampns_old || m.type == scm_timestampns_new)) {
      const bool is_new = m.type == scm_timestampns_new;
      if (m.data.size() < (is_new ? 2 * sizeof(std::int64_t) : sizeof(timespec))) {
        short_struct = true;
        return;
      }
      if (seen_ts) return;
      seen_ts = true;
      const std::int64_t sec = is_new ? cmsg::load<std::int64_t>(m.data, 0)
                                      : cmsg::load<time_t>(m.data, offsetof(timespec, tv_sec));
      const std::int64_t nsec = is_new ? cmsg::load<std::int64_t>(m.data, sizeof(std::int64_t))
                                       : cmsg::load<long>(m.data, offsetof(timespec, tv_nsec));
      if (sec >= 0 && nsec >= 0 && nsec < 1'000'000'000)
        meta.ts = Timestamp{sec, static_cast<std::uint32_t>(nsec)};
    } else if (m.level == SOL_PACKET && m.type == PACKET_AUXDATA) {
      if (m.data.size() < sizeof(tpacket_auxdata)) {
        short_struct = true;
        return;
      }
      if (seen_aux) return;
      seen_aux = true;
      const auto status = cmsg::load<std::uint32_t>(m.data, offsetof(tpacket_auxdata, tp_status));
      if ((status & TP_STATUS_VLAN_VALID) != 0) {
        meta.vlan_tci = cmsg::load<std::uint16_t>(m.data, offsetof(tpacket_auxdata, tp_vlan_tci));
        if ((status & TP_STATUS_VLAN_TPID_VALID) != 0)
          meta.vlan_tpid =
              cmsg::load<std::uint16_t>(m.data, offsetof(tpacket_auxdata, tp_vlan_tpid));
      }
    }
  });
  if (!walked) return tl::unexpected(walked.error());
  if (short_struct) return fail(RawError::bad_control);
  return meta;
}

}  // namespace ersatz::link::rxmeta
