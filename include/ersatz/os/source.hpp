// Where discovery reads the OS's tables from.
//
// Linux has one source, rtnetlink. Windows has two that must agree: the IP
// Helper API (GetIpForwardTable2, GetAdaptersAddresses) and WMI
// (Win32_IP4RouteTable, Win32_NetworkAdapter), which is how ersatz's first
// sketch found its adapter. The choice is process-wide, made once by the
// CLI (`ersatz route --source`) before the first list_* call.
#pragma once

#include <cstdint>
#include <string_view>

#include "ersatz/base/result.hpp"

namespace ersatz::os {

enum class Source : std::uint8_t {
  automatic,  ///< the platform's own: netlink on Linux, iphlpapi on Windows
  netlink,
  iphlpapi,
  wmi,
};

/// "auto", "netlink", "iphlpapi", "wmi"; std::errc::invalid_argument else.
Result<Source> parse_source(std::string_view name) noexcept;
std::string_view to_string(Source s) noexcept;

/// Whether this build can read from `s` (automatic always).
bool source_available(Source s) noexcept;

/// Selects the source of list_interfaces() and list_routes();
/// std::errc::not_supported when this platform does not have it.
Result<void> set_source(Source s) noexcept;
/// The selected source, with `automatic` resolved to the platform's own.
Source current_source() noexcept;

}  // namespace ersatz::os
