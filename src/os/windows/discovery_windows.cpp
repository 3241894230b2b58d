// Windows discovery: the platform half of os/discovery.hpp, reading from
// the source the caller selected (IP Helper unless told otherwise).
#include "ersatz/os/discovery.hpp"
#include "ersatz/os/source.hpp"
#include "windows_discovery.hpp"

namespace ersatz::os {

Result<std::vector<Interface>> list_interfaces() {
  if (current_source() == Source::wmi) return windows::wmi_interfaces();
  return windows::iphlpapi_interfaces();
}

Result<std::vector<Route>> list_routes() {
  if (current_source() == Source::wmi) {
    auto ifaces = windows::wmi_interfaces();
    if (!ifaces) return tl::unexpected(ifaces.error());
    return windows::wmi_routes(*ifaces);
  }
  return windows::iphlpapi_routes();
}

}  // namespace ersatz::os
