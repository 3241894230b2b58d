// The platform-independent half of discovery: route selection and the
// chain from a destination to an interface and a source address.
#include "ersatz/os/discovery.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ersatz::os {

std::string_view to_string(OperState s) noexcept {
  switch (s) {
    case OperState::unknown: return "UNKNOWN";
    case OperState::not_present: return "NOTPRESENT";
    case OperState::down: return "DOWN";
    case OperState::lower_layer_down: return "LOWERLAYERDOWN";
    case OperState::testing: return "TESTING";
    case OperState::dormant: return "DORMANT";
    case OperState::up: return "UP";
  }
  return "UNKNOWN";
}

std::string_view to_string(RouteType t) noexcept {
  switch (t) {
    case RouteType::unicast: return "unicast";
    case RouteType::local: return "local";
    case RouteType::broadcast: return "broadcast";
    case RouteType::unreachable: return "unreachable";
    case RouteType::prohibit: return "prohibit";
    case RouteType::blackhole: return "blackhole";
    case RouteType::other: return "other";
  }
  return "other";
}

namespace {
class RouteCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "route"; }
  std::string message(int ev) const override {
    switch (static_cast<RouteError>(ev)) {
      case RouteError::no_route: return "Network is unreachable";
      case RouteError::unreachable: return "No route to host";
      case RouteError::prohibited: return "Permission denied";
      case RouteError::blackhole: return "Invalid argument";
      case RouteError::no_interface: return "the route's interface does not exist";
      case RouteError::no_source: return "the interface has no IPv4 address";
    }
    return "route error";
  }
};
}  // namespace

const std::error_category& route_category() noexcept {
  static const RouteCategory category;
  return category;
}

const Route* select_route(const std::vector<Route>& routes, wire::Ipv4Address dst) noexcept {
  const Route* best = nullptr;
  for (const Route& r : routes) {
    if (!dst.in_prefix(r.destination, r.prefix_len)) continue;
    // Longest prefix first; among equals, the lowest metric (RFC 1812
    // §5.2.4.3's "best match", as Linux's FIB applies it per table).
    if (best == nullptr || r.prefix_len > best->prefix_len ||
        (r.prefix_len == best->prefix_len && r.metric < best->metric)) {
      best = &r;
    }
  }
  return best;
}

// The pure halves of route_to() and default_interface(): they work on
// tables handed to them, so the unit tests can feed them made-up ones.
// Not in the public header; tests/unit/discovery_test.cpp declares them.
namespace detail {
const Route* select_default_route(const std::vector<Route>& routes) noexcept;
std::optional<wire::Ipv4Address> pick_source(const Route& r, const Interface& out,
                                             const std::vector<Interface>& all);
Result<RouteDecision> decide(const std::vector<Route>& routes,
                             const std::vector<Interface>& interfaces, wire::Ipv4Address dst);
const Interface* find_named(const std::vector<Interface>& interfaces, std::string_view name);
}  // namespace detail

namespace detail {

const Route* select_default_route(const std::vector<Route>& routes) noexcept {
  // Only 0.0.0.0/0 itself: select_route(routes, 0.0.0.0) would also take a
  // 0.0.0.0/8 route, which is not "the default".
  const Route* best = nullptr;
  for (const Route& r : routes) {
    if (r.prefix_len != 0) continue;
    if (best == nullptr || r.metric < best->metric) best = &r;
  }
  return best;
}

namespace {

/// Routes that match but send nothing: the kernel answers the lookup with
/// an error (fib_props[] in net/ipv4/fib_semantics.c: EHOSTUNREACH,
/// EACCES, EINVAL).
std::optional<RouteError> refusal(const Route& r) noexcept {
  switch (r.type) {
    case RouteType::unreachable: return RouteError::unreachable;
    case RouteType::prohibit: return RouteError::prohibited;
    case RouteType::blackhole: return RouteError::blackhole;
    default: return std::nullopt;
  }
}

/// Addresses fit to be a source for a route. 127/8 has host scope (iproute2
/// gives it that by default; RFC 1122 §3.2.1.3 keeps it off the wire), and
/// inet_select_addr() skips addresses of a narrower scope than the route's:
/// host scope is narrower than that of any route in the main table. (Other
/// scopes are not in Interface; an address set to `scope link` by hand
/// would be taken here and not by the kernel.)
bool usable_source(wire::Ipv4Address a) noexcept { return !a.is_loopback(); }

}  // namespace

std::optional<wire::Ipv4Address> pick_source(const Route& r, const Interface& out,
                                             const std::vector<Interface>& all) {
  // The route's own preferred source (RTA_PREFSRC, `src` in ip route)
  // wins; the kernel sets one on every connected route.
  if (r.preferred_source) return r.preferred_source;
  // Otherwise Linux asks inet_select_addr(dev, gateway, scope) once per
  // next hop (fib_info_update_nhc_saddr()): on the out device, the first
  // primary address whose subnet holds the *gateway*, else the first
  // primary address. An on-link route has no gateway and so gets the first
  // primary address, whatever the destination.
  //
  // inet_select_addr() skips secondary addresses. It needs no test here:
  // the kernel keeps primaries first and a secondary (same mask, subnet
  // already covered: __inet_insert_ifa() in net/ipv4/devinet.c) after its
  // primary, and dumps them in that order, so a first match is a primary.
  std::optional<wire::Ipv4Address> first;
  for (const InterfaceAddress& a : out.ipv4) {
    if (!usable_source(a.address)) continue;
    if (r.gateway && r.gateway->in_prefix(a.address, a.prefix_len)) return a.address;
    if (!first) first = a.address;
  }
  if (first) return first;
  // A device without addresses borrows one: the first address of the first
  // device that has one, in device order (lo first).
  for (const Interface& ifc : all) {
    for (const InterfaceAddress& a : ifc.ipv4) {
      if (usable_source(a.address)) return a.address;
    }
  }
  return std::nullopt;
}

Result<RouteDecision> decide(const std::vector<Route>& routes,
                             const std::vector<Interface>& interfaces, wire::Ipv4Address dst) {
  // 0.0.0.0 is never a destination (RFC 1122 §3.2.1.3: "this host"; Linux
  // turns it into a loopback lookup), so it names the default route.
  const Route* r = dst.is_unspecified() ? select_default_route(routes) : select_route(routes, dst);
  if (r == nullptr) return fail(RouteError::no_route);
  if (auto e = refusal(*r)) return fail(*e);
  auto it = std::find_if(interfaces.begin(), interfaces.end(),
                         [&](const Interface& i) { return i.index == r->out_index; });
  if (it == interfaces.end()) return fail(RouteError::no_interface);
  const wire::Ipv4Address next_hop = r->gateway.value_or(dst);
  auto source = pick_source(*r, *it, interfaces);
  if (!source) return fail(RouteError::no_source);
  return RouteDecision{dst, *r, *it, next_hop, *source};
}

namespace {

/// ASCII only: GUIDs are.
bool same_ignoring_case(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

const Interface* find_named(const std::vector<Interface>& interfaces, std::string_view name) {
  for (const Interface& i : interfaces) {
    const std::string_view device = i.capture_device;
    if (i.name == name || device == name) return &i;
    // Npcap's `\Device\NPF_{GUID}`: the GUID is compared without regard to
    // case, as Windows compares GUIDs, and names the device alone too.
    const auto brace = device.find('{');
    if (brace == std::string_view::npos) continue;
    const std::string_view guid = device.substr(brace);
    if (same_ignoring_case(guid, name)) return &i;
    if (name.size() == device.size() && name.substr(0, brace) == device.substr(0, brace) &&
        same_ignoring_case(name.substr(brace), guid)) {
      return &i;
    }
  }
  return nullptr;
}

}  // namespace detail

Result<RouteDecision> route_to(wire::Ipv4Address dst) {
  auto routes = list_routes();
  if (!routes) return tl::unexpected(routes.error());
  auto ifaces = list_interfaces();
  if (!ifaces) return tl::unexpected(ifaces.error());
  return detail::decide(*routes, *ifaces, dst);
}

Result<Interface> default_interface() {
  auto routes = list_routes();
  if (!routes) return tl::unexpected(routes.error());
  const Route* r = detail::select_default_route(*routes);
  if (r == nullptr) return fail(RouteError::no_route);
  if (auto e = detail::refusal(*r)) return fail(*e);
  // The interface alone: unlike route_to(), it does not need an address.
  auto ifaces = list_interfaces();
  if (!ifaces) return tl::unexpected(ifaces.error());
  auto it = std::find_if(ifaces->begin(), ifaces->end(),
                         [&](const Interface& i) { return i.index == r->out_index; });
  if (it == ifaces->end()) return fail(RouteError::no_interface);
  return *it;
}

Result<Interface> find_interface(std::string_view name) {
  auto ifaces = list_interfaces();
  if (!ifaces) return tl::unexpected(ifaces.error());
  const Interface* i = detail::find_named(*ifaces, name);
  if (i == nullptr) return fail(std::errc::no_such_device);
  return *i;
}

}  // namespace ersatz::os
