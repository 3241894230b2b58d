// Host discovery: the OS's interfaces and IPv4 routes, read-only.
//
// ersatz follows the OS route table to the out interface, then to the
// capture device name. On Linux this is rtnetlink; on Windows IP Helper or
// WMI (os/source.hpp selects). The platform seam is these free functions: each
// platform provides them in src/os/<platform>/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ersatz/base/result.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::os {

enum class OperState : std::uint8_t {
  unknown,
  not_present,
  down,
  lower_layer_down,
  testing,
  dormant,
  up
};
std::string_view to_string(OperState s) noexcept;

struct InterfaceAddress {
  wire::Ipv4Address address;
  int prefix_len = 32;
  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

struct Interface {
  int index = 0;
  std::string name;
  std::string kind;  ///< "loopback", "ether", "veth", "bridge", "tun", ...
  wire::MacAddress mac;
  std::size_t mtu = 0;
  OperState oper_state = OperState::unknown;
  unsigned flags = 0;  ///< IFF_* as the OS reports them
  bool admin_up = false;
  bool loopback = false;
  std::vector<InterfaceAddress> ipv4;
  std::string description;     ///< driver or alias, where the OS has one
  std::string capture_device;  ///< what ersatz or libpcap opens for it
};

enum class RouteType : std::uint8_t {
  unicast,
  local,
  broadcast,
  unreachable,
  prohibit,
  blackhole,
  other
};
std::string_view to_string(RouteType t) noexcept;

struct Route {
  wire::Ipv4Address destination;
  int prefix_len = 0;
  std::optional<wire::Ipv4Address> gateway;  ///< nullopt: on-link
  int out_index = 0;                         ///< 0 for routes without a device (unreachable, ...)
  std::uint32_t metric = 0;
  std::optional<wire::Ipv4Address> preferred_source;
  RouteType type = RouteType::unicast;
};

/// Where a datagram to one destination goes.
struct RouteDecision {
  wire::Ipv4Address destination;
  Route route;
  Interface interface;
  wire::Ipv4Address next_hop;  ///< the gateway, or the destination when on-link
  wire::Ipv4Address source;    ///< the preferred source, else the interface's address for it
};

/// Errors of route selection.
enum class RouteError : std::uint8_t {
  no_route = 1,  ///< nothing matches (ENETUNREACH)
  unreachable,   ///< an `unreachable` route matched
  prohibited,    ///< a `prohibit` route matched
  blackhole,     ///< a `blackhole` route matched
  no_interface,  ///< the route's interface is gone
  no_source,     ///< the interface has no IPv4 address
};
const std::error_category& route_category() noexcept;
inline std::error_code make_error_code(RouteError e) noexcept {
  return {static_cast<int>(e), route_category()};
}

Result<std::vector<Interface>> list_interfaces();
/// The main routing table's IPv4 routes.
Result<std::vector<Route>> list_routes();

/// Longest-prefix match, then lowest metric (pure; for tests and the
/// functions below).
const Route* select_route(const std::vector<Route>& routes, wire::Ipv4Address dst) noexcept;

/// The whole chain for a destination: route, interface, next hop, source.
Result<RouteDecision> route_to(wire::Ipv4Address dst);

/// The interface the default route (0.0.0.0/0) uses.
Result<Interface> default_interface();

/// The interface `name` names: its own name or its capture device (on
/// Windows `\Device\NPF_{GUID}`, or the bare `{GUID}`; the GUID in any
/// case, as Windows compares GUIDs). std::errc::no_such_device when none
/// has it.
Result<Interface> find_interface(std::string_view name);

}  // namespace ersatz::os

template <>
struct std::is_error_code_enum<ersatz::os::RouteError> : std::true_type {};
