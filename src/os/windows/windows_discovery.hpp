// Windows discovery, split by source (include/ersatz/os/source.hpp). Not a
// public header: list_interfaces() and list_routes() pick the source.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ersatz/os/discovery.hpp"

namespace ersatz::os::windows {

/// Npcap names an adapter's capture device after its GUID (AdapterName in
/// IP Helper, GUID in WMI): `\Device\NPF_{...}`.
inline std::string capture_device(std::string_view guid) {
  return std::string("\\Device\\NPF_") + std::string(guid);
}

/// GetAdaptersAddresses: index, friendly name, GUID, MAC, MTU, state,
/// IPv4 addresses and description, in index order.
Result<std::vector<Interface>> iphlpapi_interfaces();
/// GetIpForwardTable2(AF_INET); the metric is the route's plus its
/// interface's (GetIpInterfaceEntry), the sum Windows itself compares.
Result<std::vector<Route>> iphlpapi_routes();

/// Win32_NetworkAdapter gives each adapter's index, GUID, MAC and names;
/// the addresses, MTU and state it does not carry come from IP Helper.
Result<std::vector<Interface>> wmi_interfaces();
/// Win32_IP4RouteTable. `interfaces` completes rows the provider reports
/// without a mask (see wmi.cpp).
Result<std::vector<Route>> wmi_routes(const std::vector<Interface>& interfaces);

}  // namespace ersatz::os::windows
