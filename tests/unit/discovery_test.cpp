// Route selection and source choice over hand-made tables: no netlink, no
// privileges. The kernel-facing half is checked by tests/lab/discovery_lab.sh.
#include <gtest/gtest.h>

#include <ersatz/os/discovery.hpp>
#include <optional>
#include <string_view>
#include <vector>

// The pure halves of route_to() and default_interface(), defined in
// src/os/discovery.cpp and kept out of the public header.
namespace ersatz::os::detail {
const Route* select_default_route(const std::vector<Route>& routes) noexcept;
std::optional<wire::Ipv4Address> pick_source(const Route& r, const Interface& out,
                                             const std::vector<Interface>& all);
Result<RouteDecision> decide(const std::vector<Route>& routes,
                             const std::vector<Interface>& interfaces, wire::Ipv4Address dst);
const Interface* find_named(const std::vector<Interface>& interfaces, std::string_view name);
}  // namespace ersatz::os::detail

namespace ersatz::os {
namespace {

using wire::Ipv4Address;

Ipv4Address ip(const char* s) { return *Ipv4Address::parse(s); }

Route via(const char* dst, int len, const char* gw, int oif, std::uint32_t metric = 0) {
  Route r;
  r.destination = ip(dst);
  r.prefix_len = len;
  r.gateway = ip(gw);
  r.out_index = oif;
  r.metric = metric;
  return r;
}

Route onlink(const char* dst, int len, int oif, std::uint32_t metric = 0) {
  Route r;
  r.destination = ip(dst);
  r.prefix_len = len;
  r.out_index = oif;
  r.metric = metric;
  return r;
}

Route of_type(RouteType t, const char* dst, int len) {
  Route r;
  r.destination = ip(dst);
  r.prefix_len = len;
  r.type = t;
  return r;
}

Interface iface(int index, const char* name, std::vector<InterfaceAddress> addrs) {
  Interface i;
  i.index = index;
  i.name = name;
  i.capture_device = name;
  i.ipv4 = std::move(addrs);
  return i;
}

InterfaceAddress addr(const char* a, int len) { return {ip(a), len}; }

// The lab's table, in the order the kernel dumps it.
std::vector<Route> lab_table() {
  return {
      via("198.18.0.0", 15, "198.18.1.254", 2, 100),   // A: the wide one
      via("198.18.4.0", 24, "198.18.2.254", 3, 50),    // B
      via("198.18.4.0", 24, "198.18.3.254", 4, 10),    // C: same /24, lower metric
      via("198.18.4.77", 32, "198.18.2.254", 3, 200),  // host route, high metric
  };
}

// --- select_route ----------------------------------------------------------

TEST(SelectRoute, LongestPrefixWinsOverMetric) {
  const auto t = lab_table();
  // The /32 has the highest metric of the table and still wins over the
  // /24 and the /15 that also hold its address: length first, always.
  EXPECT_EQ(select_route(t, ip("198.18.4.77")), &t[3]);
  EXPECT_EQ(select_route(t, ip("198.18.4.78")), &t[2]);
}

TEST(SelectRoute, LowestMetricAmongEqualPrefixes) {
  auto t = lab_table();
  EXPECT_EQ(select_route(t, ip("198.18.4.1")), &t[2]);
  // Independent of the order of the table.
  std::swap(t[1], t[2]);
  EXPECT_EQ(select_route(t, ip("198.18.4.1"))->gateway, ip("198.18.3.254"));
}

TEST(SelectRoute, WideRouteCatchesTheRest) {
  const auto t = lab_table();
  EXPECT_EQ(select_route(t, ip("198.18.200.1")), &t[0]);
  EXPECT_EQ(select_route(t, ip("198.19.255.255")), &t[0]);  // last address of the /15
}

TEST(SelectRoute, NoMatch) {
  const auto t = lab_table();
  EXPECT_EQ(select_route(t, ip("198.20.0.1")), nullptr);
  EXPECT_EQ(select_route(t, ip("192.0.2.1")), nullptr);
  EXPECT_EQ(select_route({}, ip("198.18.4.1")), nullptr);
}

TEST(SelectRoute, MetricTieKeepsTheFirstListed) {
  // Linux keeps equal (prefix, tos, priority) aliases in insertion order
  // (`ip route append`) and uses the first that works; so do we.
  const std::vector<Route> t{onlink("198.18.7.0", 24, 5, 20),
                             via("198.18.7.0", 24, "198.18.2.254", 3, 20)};
  EXPECT_EQ(select_route(t, ip("198.18.7.9")), &t[0]);
}

TEST(SelectRoute, DefaultRouteMatchesEverything) {
  const std::vector<Route> t{via("0.0.0.0", 0, "198.18.30.254", 2, 5),
                             via("0.0.0.0", 0, "198.18.31.254", 3, 100),
                             onlink("198.18.30.0", 24, 2)};
  EXPECT_EQ(select_route(t, ip("203.0.113.9")), &t[0]);
  EXPECT_EQ(select_route(t, ip("198.18.30.9")), &t[2]);
  EXPECT_EQ(select_route(t, ip("255.255.255.255")), &t[0]);
}

TEST(SelectRoute, HostRouteMatchesOnlyItsAddress) {
  const std::vector<Route> t{via("198.18.9.9", 32, "198.18.1.254", 2)};
  EXPECT_EQ(select_route(t, ip("198.18.9.9")), &t[0]);
  EXPECT_EQ(select_route(t, ip("198.18.9.8")), nullptr);
  EXPECT_EQ(select_route(t, ip("198.18.9.10")), nullptr);
}

TEST(SelectRoute, PrefixBoundaries) {
  // /1 and /31 masks: the shifts at both ends of in_prefix().
  const std::vector<Route> t{onlink("128.0.0.0", 1, 2), onlink("198.18.9.0", 31, 3)};
  EXPECT_EQ(select_route(t, ip("255.0.0.1")), &t[0]);
  EXPECT_EQ(select_route(t, ip("127.255.255.255")), nullptr);
  EXPECT_EQ(select_route(t, ip("198.18.9.1")), &t[1]);
  EXPECT_EQ(select_route(t, ip("198.18.9.2")), &t[0]);  // only the /1 covers it
}

TEST(SelectRoute, RefusingRoutesTakePartInTheMatch) {
  // An unreachable /24 is more specific than the /15: it wins, and the
  // lookup fails, as the kernel's does.
  auto t = lab_table();
  t.push_back(of_type(RouteType::unreachable, "198.18.200.0", 24));
  EXPECT_EQ(select_route(t, ip("198.18.200.1"))->type, RouteType::unreachable);
}

// --- the default route -------------------------------------------------------

TEST(DefaultRoute, LowestMetricZeroPrefix) {
  const std::vector<Route> t{via("0.0.0.0", 0, "198.18.31.254", 3, 100),
                             via("0.0.0.0", 0, "198.18.30.254", 2, 5),
                             onlink("0.0.0.0", 8, 4)};  // covers 0.0.0.0 but is no default
  EXPECT_EQ(detail::select_default_route(t), &t[1]);
}

TEST(DefaultRoute, NoneWithoutZeroPrefix) {
  EXPECT_EQ(detail::select_default_route(lab_table()), nullptr);
  EXPECT_EQ(detail::select_default_route({onlink("0.0.0.0", 8, 4)}), nullptr);
}

// --- source address ----------------------------------------------------------

TEST(PickSource, PreferredSourceWins) {
  Route r = via("198.18.6.0", 24, "198.18.1.254", 2);
  r.preferred_source = ip("198.18.10.1");
  const auto out = iface(2, "va0", {addr("198.18.1.1", 24)});
  EXPECT_EQ(detail::pick_source(r, out, {out}), ip("198.18.10.1"));
}

TEST(PickSource, AddressOnTheGatewaysSubnet) {
  const auto out = iface(2, "va0", {addr("198.18.1.1", 24), addr("198.18.11.1", 24)});
  EXPECT_EQ(detail::pick_source(via("198.18.60.0", 24, "198.18.11.254", 2), out, {out}),
            ip("198.18.11.1"));
  EXPECT_EQ(detail::pick_source(via("198.18.60.0", 24, "198.18.1.254", 2), out, {out}),
            ip("198.18.1.1"));
}

TEST(PickSource, GatewayOffEverySubnetTakesTheFirstPrimary) {
  // `ip route add ... via G onlink`: G is on no subnet of the device.
  const auto out = iface(2, "va0", {addr("198.18.1.1", 24), addr("198.18.11.1", 24)});
  EXPECT_EQ(detail::pick_source(via("198.18.60.0", 24, "198.18.99.1", 2), out, {out}),
            ip("198.18.1.1"));
}

TEST(PickSource, OnLinkRouteTakesTheFirstPrimaryWhateverTheDestination) {
  // No gateway: inet_select_addr(dev, 0, scope) returns the first primary
  // address, even if another one's subnet holds the destination.
  const auto d0 = iface(5, "d0", {addr("198.18.0.1", 24), addr("198.18.10.1", 24)});
  const std::vector<Route> t{onlink("198.18.10.128", 25, 5)};
  auto d = detail::decide(t, {d0}, ip("198.18.10.200"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->source, ip("198.18.0.1"));
  EXPECT_EQ(d->next_hop, ip("198.18.10.200"));
}

TEST(PickSource, SeveralAddressesOnOneSubnet) {
  // 198.18.0.2/24 is a secondary of 198.18.0.1/24 (the kernel lists it
  // after its primary): the primary answers for the subnet.
  const auto d0 = iface(5, "d0", {addr("198.18.0.1", 24), addr("198.18.0.2", 24)});
  EXPECT_EQ(detail::pick_source(via("198.18.60.0", 24, "198.18.0.254", 5), d0, {d0}),
            ip("198.18.0.1"));
}

TEST(PickSource, DeviceWithoutAddressBorrowsTheFirstGlobalOne) {
  const auto lo = iface(1, "lo", {addr("127.0.0.1", 8)});
  const auto va0 = iface(2, "va0", {addr("198.18.1.1", 24)});
  const auto d2 = iface(3, "d2", {});
  const std::vector<Interface> all{lo, va0, d2};
  // lo's 127.0.0.1 is host-scoped: never a source for the wire.
  EXPECT_EQ(detail::pick_source(onlink("198.18.70.0", 24, 3), d2, all), ip("198.18.1.1"));
}

TEST(PickSource, NothingAnywhere) {
  const auto lo = iface(1, "lo", {addr("127.0.0.1", 8)});
  const auto d2 = iface(3, "d2", {});
  EXPECT_EQ(detail::pick_source(onlink("198.18.70.0", 24, 3), d2, {lo, d2}), std::nullopt);
}

// --- decide: the whole chain -----------------------------------------------

std::vector<Interface> lab_interfaces() {
  return {iface(1, "lo", {addr("127.0.0.1", 8)}), iface(2, "va0", {addr("198.18.1.1", 24)}),
          iface(3, "vb0", {addr("198.18.2.1", 24)}), iface(4, "vc0", {addr("198.18.3.1", 24)})};
}

TEST(Decide, GatewayRoute) {
  auto d = detail::decide(lab_table(), lab_interfaces(), ip("198.18.4.7"));
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->destination, ip("198.18.4.7"));
  EXPECT_EQ(d->route.prefix_len, 24);
  EXPECT_EQ(d->route.metric, 10U);
  EXPECT_EQ(d->interface.name, "vc0");
  EXPECT_EQ(d->interface.capture_device, "vc0");
  EXPECT_EQ(d->next_hop, ip("198.18.3.254"));
  EXPECT_EQ(d->source, ip("198.18.3.1"));
}

TEST(Decide, NoRoute) {
  auto d = detail::decide(lab_table(), lab_interfaces(), ip("192.0.2.1"));
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error(), RouteError::no_route);
  EXPECT_EQ(d.error().message(), "Network is unreachable");
}

TEST(Decide, RefusingRoutes) {
  auto t = lab_table();
  t.push_back(of_type(RouteType::unreachable, "198.18.200.0", 24));
  t.push_back(of_type(RouteType::prohibit, "198.18.201.0", 24));
  t.push_back(of_type(RouteType::blackhole, "198.18.202.0", 24));
  const auto ifs = lab_interfaces();
  EXPECT_EQ(detail::decide(t, ifs, ip("198.18.200.1")).error(), RouteError::unreachable);
  EXPECT_EQ(detail::decide(t, ifs, ip("198.18.201.1")).error(), RouteError::prohibited);
  EXPECT_EQ(detail::decide(t, ifs, ip("198.18.202.1")).error(), RouteError::blackhole);
  EXPECT_EQ(detail::decide(t, ifs, ip("198.18.203.1"))->interface.name, "va0");
}

TEST(Decide, InterfaceGone) {
  const std::vector<Route> t{via("198.18.4.0", 24, "198.18.2.254", 42)};
  EXPECT_EQ(detail::decide(t, lab_interfaces(), ip("198.18.4.1")).error(),
            RouteError::no_interface);
}

TEST(Decide, NoSource) {
  const std::vector<Route> t{onlink("198.18.70.0", 24, 3)};
  const std::vector<Interface> ifs{iface(1, "lo", {addr("127.0.0.1", 8)}), iface(3, "d2", {})};
  EXPECT_EQ(detail::decide(t, ifs, ip("198.18.70.1")).error(), RouteError::no_source);
}

TEST(Decide, UnspecifiedNamesTheDefaultRoute) {
  std::vector<Route> t{onlink("0.0.0.0", 8, 2), via("0.0.0.0", 0, "198.18.3.254", 4, 5)};
  auto d = detail::decide(t, lab_interfaces(), Ipv4Address());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->route.prefix_len, 0);
  EXPECT_EQ(d->interface.name, "vc0");
  EXPECT_EQ(d->source, ip("198.18.3.1"));

  EXPECT_EQ(detail::decide(lab_table(), lab_interfaces(), Ipv4Address()).error(),
            RouteError::no_route);
  t.push_back(of_type(RouteType::prohibit, "0.0.0.0", 0));  // metric 0 beats 5
  EXPECT_EQ(detail::decide(t, lab_interfaces(), Ipv4Address()).error(), RouteError::prohibited);
}

TEST(RouteCategory, MessagesMatchIpRouteGet) {
  EXPECT_STREQ(route_category().name(), "route");
  EXPECT_EQ(make_error_code(RouteError::unreachable).message(), "No route to host");
  EXPECT_EQ(make_error_code(RouteError::prohibited).message(), "Permission denied");
}

TEST(Strings, OperStateAndRouteType) {
  EXPECT_EQ(to_string(OperState::lower_layer_down), "LOWERLAYERDOWN");
  EXPECT_EQ(to_string(OperState::up), "UP");
  EXPECT_EQ(to_string(RouteType::prohibit), "prohibit");
}

// find_interface(): a Linux link by its name; a Windows adapter by its
// friendly name, Npcap's device name or the bare GUID, the GUID in any case.
TEST(FindInterface, ByNameCaptureDeviceOrGuid) {
  Interface eth = iface(2, "eth0", {});
  Interface win = iface(7, "Ethernet", {});
  win.capture_device = "\\Device\\NPF_{0A1B2C3D-0000-4000-8000-00000000ABCD}";
  const std::vector<Interface> all{iface(1, "lo", {}), eth, win};
  auto index_of = [&](std::string_view name) {
    const Interface* i = detail::find_named(all, name);
    return i != nullptr ? i->index : -1;
  };
  EXPECT_EQ(index_of("eth0"), 2);
  EXPECT_EQ(index_of("Ethernet"), 7);
  EXPECT_EQ(index_of("\\Device\\NPF_{0A1B2C3D-0000-4000-8000-00000000ABCD}"), 7);
  EXPECT_EQ(index_of("\\Device\\NPF_{0a1b2c3d-0000-4000-8000-00000000abcd}"), 7);
  EXPECT_EQ(index_of("{0a1b2c3d-0000-4000-8000-00000000ABCD}"), 7);
  // Only GUIDs are folded (Linux's names are case-sensitive), and part of
  // a GUID is not the GUID.
  EXPECT_EQ(index_of("ETH0"), -1);
  EXPECT_EQ(index_of("\\device\\npf_{0A1B2C3D-0000-4000-8000-00000000ABCD}"), -1);
  EXPECT_EQ(index_of("0A1B2C3D-0000-4000-8000-00000000ABCD"), -1);
  EXPECT_EQ(index_of("{0A1B2C3D-0000-4000-8000-00000000ABC}"), -1);
  EXPECT_EQ(index_of(""), -1);
}

TEST(FindInterface, MissingIsNoSuchDevice) {
  auto r = find_interface("ez-none-0");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::no_such_device);
}

}  // namespace
}  // namespace ersatz::os
