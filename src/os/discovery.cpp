// The platform-independent half of discovery: route selection and the
// chain from a destination to an interface and a source address.
#include "ersatz/os/discovery.hpp"

#include <algorithm>
#include <string>

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

namespace {

/// The source the kernel would pick: the route's preferred source, else the
/// interface's address on the next hop's subnet, else its first address.
std::optional<wire::Ipv4Address> pick_source(const Route& r, const Interface& ifc,
                                             wire::Ipv4Address next_hop) {
  if (r.preferred_source) return r.preferred_source;
  for (const auto& a : ifc.ipv4) {
    if (next_hop.in_prefix(a.address, a.prefix_len)) return a.address;
  }
  if (!ifc.ipv4.empty()) return ifc.ipv4.front().address;
  return std::nullopt;
}

}  // namespace

Result<RouteDecision> route_to(wire::Ipv4Address dst) {
  auto routes = list_routes();
  if (!routes) return tl::unexpected(routes.error());
  const Route* r = select_route(*routes, dst);
  if (r == nullptr) return fail(RouteError::no_route);
  switch (r->type) {
    case RouteType::unreachable: return fail(RouteError::unreachable);
    case RouteType::prohibit: return fail(RouteError::prohibited);
    case RouteType::blackhole: return fail(RouteError::blackhole);
    default: break;
  }
  auto ifaces = list_interfaces();
  if (!ifaces) return tl::unexpected(ifaces.error());
  auto it = std::find_if(ifaces->begin(), ifaces->end(),
                         [&](const Interface& i) { return i.index == r->out_index; });
  if (it == ifaces->end()) return fail(RouteError::no_interface);
  const wire::Ipv4Address next_hop = r->gateway.value_or(dst);
  auto source = pick_source(*r, *it, next_hop);
  if (!source) return fail(RouteError::no_source);
  return RouteDecision{dst, *r, *it, next_hop, *source};
}

Result<Interface> default_interface() {
  auto d = route_to(wire::Ipv4Address(0));
  if (!d) return tl::unexpected(d.error());
  return d->interface;
}

}  // namespace ersatz::os
