// Finding a Windows network adapter by any of its names, for the libpcap
// device and link::netif_info: the link layer's view of os::find_interface,
// which owns the adapter table (GetAdaptersAddresses) and Npcap's naming.
#pragma once

#include <string>

#include "ersatz/base/result.hpp"
#include "ersatz/link/netif.hpp"

namespace ersatz::link::windows {

struct Adapter {
  NetifInfo info;
  std::string capture_device;  ///< `\Device\NPF_{GUID}`
};

/// `name` may be Npcap's device name, the bare GUID or the friendly name
/// ("Ethernet"). std::errc::no_such_device when no adapter has it.
Result<Adapter> find_adapter(const std::string& name);

}  // namespace ersatz::link::windows
