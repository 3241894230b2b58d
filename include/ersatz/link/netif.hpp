// What the OS says about a network interface, for the raw devices: its
// index, MTU, MAC and link type. A platform seam like os/discovery.hpp, but
// a single ioctl-sized question, so the link layer does not depend on the
// discovery module. Linux: src/link/linux/netif.cpp.
#pragma once

#include <cstddef>
#include <string>

#include "ersatz/base/result.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::link {

struct NetifInfo {
  int index = 0;
  std::size_t mtu = 1500;
  wire::MacAddress mac;
  bool ethernet = false;  ///< Ethernet framing (ARPHRD_ETHER, or loopback's zeroed headers)
  bool up = false;        ///< administratively up (IFF_UP)
  /// Up and operationally up (IFF_RUNNING): the kernel has processed the
  /// last carrier change, and (Linux linkwatch) its qdisc is the real one.
  bool running = false;
};

/// ENODEV when there is no such interface.
Result<NetifInfo> netif_info(const std::string& name);

/// Whether the interface's driver takes a software timestamp of every frame
/// it transmits (it calls skb_tx_timestamp() in its xmit routine and says
/// so through ethtool: SOF_TIMESTAMPING_TX_SOFTWARE of
/// ETHTOOL_GET_TS_INFO). False when the question cannot be asked.
bool netif_stamps_tx(const std::string& name);

/// Sets IFF_UP (needs CAP_NET_ADMIN).
Result<void> netif_set_up(const std::string& name);

}  // namespace ersatz::link
