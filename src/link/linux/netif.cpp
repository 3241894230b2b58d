// Interface facts through the classic SIOCGIF* ioctls (netdevice(7)): they
// need no privilege and answer for the calling process's network namespace.
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "ersatz/link/netif.hpp"
#include "ersatz/link/unique_fd.hpp"

namespace ersatz::link {
namespace {

Result<ifreq> request_for(const std::string& name) {
  ifreq ifr{};
  if (name.empty()) return fail_errno(ENODEV);
  if (name.size() >= IFNAMSIZ) return fail_errno(ENAMETOOLONG);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  return ifr;
}

Result<UniqueFd> control_socket() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno(errno);
  return fd;
}

}  // namespace

Result<NetifInfo> netif_info(const std::string& name) {
  auto base = request_for(name);
  if (!base) return tl::unexpected(base.error());
  auto sock = control_socket();
  if (!sock) return tl::unexpected(sock.error());
  const int fd = sock->get();
  NetifInfo info;
  ifreq ifr = *base;
  if (::ioctl(fd, SIOCGIFINDEX, &ifr) != 0) return fail_errno(errno);
  info.index = ifr.ifr_ifindex;
  ifr = *base;
  if (::ioctl(fd, SIOCGIFMTU, &ifr) != 0) return fail_errno(errno);
  info.mtu = static_cast<std::size_t>(ifr.ifr_mtu);
  ifr = *base;
  if (::ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return fail_errno(errno);
  // Loopback frames carry an Ethernet header with zero addresses.
  info.ethernet =
      ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER || ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK;
  if (info.ethernet) {
    info.mac =
        wire::MacAddress::from_bytes(as_bytes(ifr.ifr_hwaddr.sa_data, wire::MacAddress::size));
  }
  ifr = *base;
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return fail_errno(errno);
  info.up = (ifr.ifr_flags & IFF_UP) != 0;
  info.running = (ifr.ifr_flags & IFF_RUNNING) != 0;
  return info;
}

bool netif_stamps_tx(const std::string& name) {
  // Documentation/networking/timestamping.rst, "Hardware Timestamping
  // Implementation: Device Drivers": a driver that stamps in software calls
  // skb_tx_timestamp() and reports SOF_TIMESTAMPING_TX_SOFTWARE (veth,
  // loopback and most NICs do; drivers without get_ts_info report only
  // the receive flags).
  auto base = request_for(name);
  if (!base) return false;
  auto sock = control_socket();
  if (!sock) return false;
  ethtool_ts_info info{};
  info.cmd = ETHTOOL_GET_TS_INFO;
  ifreq ifr = *base;
  ifr.ifr_data = reinterpret_cast<char*>(&info);  // NOLINT: the ioctl's interface
  if (::ioctl(sock->get(), SIOCETHTOOL, &ifr) != 0) return false;
  return (info.so_timestamping & SOF_TIMESTAMPING_TX_SOFTWARE) != 0;
}

Result<void> netif_set_up(const std::string& name) {
  auto base = request_for(name);
  if (!base) return tl::unexpected(base.error());
  auto sock = control_socket();
  if (!sock) return tl::unexpected(sock.error());
  ifreq ifr = *base;
  if (::ioctl(sock->get(), SIOCGIFFLAGS, &ifr) != 0) return fail_errno(errno);
  if ((ifr.ifr_flags & IFF_UP) != 0) return {};
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(sock->get(), SIOCSIFFLAGS, &ifr) != 0) return fail_errno(errno);
  return {};
}

}  // namespace ersatz::link
