// ersatz route: how a datagram to DEST leaves this host, as `ip route get`
// tells it, followed along the whole chain: the matched route, the out
// interface by index and by name, the capture device, the source address
// and MAC. With no DEST, the default route.
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ersatz/decode/dissect.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/os/source.hpp>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"

namespace ersatz::tools {
namespace {

struct RouteOptions {
  std::optional<std::string> destination;  // none: the default route
  bool json = false;
  std::string source = "auto";  // where the tables come from (os/source.hpp)
};

/// DEST as an address: a dotted quad, else a host name resolved to IPv4.
/// Text made of digits and dots alone is never a host name (RFC 1123 §2.1:
/// the top-level label is alphabetic), so "300.1.2.3" or "10.1" is refused
/// here rather than sent to the resolver, and inet_aton's shorthand forms
/// stay out.
/// The error is the message for the user.
tl::expected<wire::Ipv4Address, std::string> resolve(const std::string& text) {
  if (auto a = wire::Ipv4Address::parse(text)) return *a;
  if (text.empty() || text.find_first_not_of("0123456789.") == std::string::npos) {
    return tl::unexpected<std::string>("not an IPv4 address");
  }
  return resolve_ipv4(text);
}

std::string prefix_text(const os::Route& r) {
  return fmt::format("{}/{}", r.destination, r.prefix_len);
}

/// The first line, in `ip route get`'s words.
std::string ip_route_get_line(const os::RouteDecision& d, bool is_default) {
  std::string s = is_default ? "default" : fmt::format("{}", d.destination);
  if (d.route.type != os::RouteType::unicast) {
    s = fmt::format("{} {}", os::to_string(d.route.type), s);
  }
  if (d.route.gateway) s += fmt::format(" via {}", *d.route.gateway);
  s += fmt::format(" dev {} src {}", d.interface.name, d.source);
  return s;
}

/// `ip route get`'s line, then the chain one step a line, in the order a
/// datagram takes it: route, next hop, interface, capture device, source.
void print_text(const os::RouteDecision& d, bool is_default, bool own_address) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  auto line = [&](std::string_view label, const std::string& text) {
    fmt::format_to(it, "  {:<12}{}\n", label, text);
  };
  fmt::format_to(it, "{}\n", ip_route_get_line(d, is_default));
  const os::Route& r = d.route;
  std::string route;
  if (r.type != os::RouteType::unicast) route = fmt::format("{} ", os::to_string(r.type));
  route += prefix_text(r);
  if (r.prefix_len == 0) route += " (default)";
  route += r.gateway ? fmt::format(" via {}", *r.gateway) : std::string(" on-link");
  route += fmt::format(" metric {}", r.metric);
  if (r.preferred_source) route += fmt::format(" src {}", *r.preferred_source);
  line("route", route);
  if (!r.gateway && !is_default) line("next hop", fmt::format("{} (on-link)", d.next_hop));
  const os::Interface& i = d.interface;
  line("interface", fmt::format("{}: {} ({}) state {} mtu {}", i.index, i.name, i.kind,
                                os::to_string(i.oper_state), i.mtu));
  if (!i.description.empty()) line("description", i.description);
  line("capture", i.capture_device);
  line("source", fmt::format("{} mac {}", d.source, i.mac));
  if (own_address) {
    // The kernel looks in the local table before main (the default rules,
    // fib_lookup()): a datagram to this host never leaves through here.
    line("note", fmt::format("{} is this host's own address: the kernel delivers it locally",
                             d.destination));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_json(const os::RouteDecision& d, bool is_default, bool own_address) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  const os::Route& r = d.route;
  fmt::format_to(it, "{{\"destination\":\"{}\",\"default\":{},\"route\":{{", d.destination,
                 is_default);
  fmt::format_to(it, "\"prefix\":\"{}\",\"destination\":\"{}\",\"prefix_len\":{},\"type\":\"{}\",",
                 prefix_text(r), r.destination, r.prefix_len, os::to_string(r.type));
  if (r.gateway) {
    fmt::format_to(it, "\"gateway\":\"{}\",\"on_link\":false,", *r.gateway);
  } else {
    fmt::format_to(it, "\"gateway\":null,\"on_link\":true,");
  }
  fmt::format_to(it, "\"metric\":{},\"preferred_source\":", r.metric);
  if (r.preferred_source) {
    fmt::format_to(it, "\"{}\"", *r.preferred_source);
  } else {
    fmt::format_to(it, "null");
  }
  const os::Interface& i = d.interface;
  fmt::format_to(it, "}},\"next_hop\":\"{}\",\"interface\":{{\"index\":{},\"name\":", d.next_hop,
                 i.index);
  decode::append_json_string(out, i.name);
  fmt::format_to(it, ",\"kind\":");
  decode::append_json_string(out, i.kind);
  fmt::format_to(it, ",\"mac\":\"{}\",\"mtu\":{},\"oper_state\":\"{}\",\"description\":", i.mac,
                 i.mtu, os::to_string(i.oper_state));
  decode::append_json_string(out, i.description);
  fmt::format_to(it, ",\"capture_device\":");
  decode::append_json_string(out, i.capture_device);
  fmt::format_to(it, "}},\"source\":\"{}\",\"own_address\":{}}}\n", d.source, own_address);
  std::fwrite(out.data(), 1, out.size(), stdout);
}

/// One line on why there is no way out, naming the route that refused.
std::string explain(const std::error_code& e, wire::Ipv4Address dst, bool is_default) {
  using os::RouteError;
  const std::string what = is_default ? "default" : fmt::format("{}", dst);
  if (e == RouteError::no_route) {
    return is_default ? "no default route in the main table"
                      : fmt::format("{}: no route in the main table ({})", what, e.message());
  }
  if (e == RouteError::unreachable || e == RouteError::prohibited || e == RouteError::blackhole) {
    // Name the route that matched: it is what the operator has to change.
    std::string matched = "0.0.0.0/0";
    if (!is_default) {
      auto routes = os::list_routes();
      const os::Route* r = routes ? os::select_route(*routes, dst) : nullptr;
      matched = r != nullptr ? prefix_text(*r) : "?";
    }
    const std::string_view kind = e == RouteError::unreachable  ? "unreachable"
                                  : e == RouteError::prohibited ? "prohibit"
                                                                : "blackhole";
    // The kernel answers a lookup that hits a blackhole with EINVAL (what
    // `ip route get` prints); say what it means instead.
    const std::string why =
        e == RouteError::blackhole ? "datagrams are discarded silently" : e.message();
    return fmt::format("{}: {} route {} matched ({})", what, kind, matched, why);
  }
  if (e.category() == os::route_category()) return fmt::format("{}: {}", what, e.message());
  return fmt::format("reading routes and interfaces: {}", e.message());
}

int run_route(const RouteOptions& opt) {
  if (auto s = os::parse_source(opt.source); !s || !os::set_source(*s)) {
    error_line(
        fmt::format("route: --source {} is not available on this platform (try 'ersatz "
                    "route --help')",
                    opt.source));
    return exit_usage;
  }
  // 0.0.0.0 asks route_to() for the default route (src/os/discovery.cpp).
  wire::Ipv4Address dst;
  if (opt.destination) {
    auto a = resolve(*opt.destination);
    if (!a) {
      // Like ping's "Name or service not known": a usage error (exit 2).
      error_line(
          fmt::format("route: '{}': {} (try 'ersatz route --help')", *opt.destination, a.error()));
      return exit_usage;
    }
    dst = *a;
  }
  const bool is_default = dst.is_unspecified();
  auto d = os::route_to(dst);
  if (!d) {
    error_line(explain(d.error(), dst, is_default));
    return exit_failure;
  }
  // 127/8 is all loopback (RFC 1122 §3.2.1.3), assigned or not.
  bool own_address = dst.is_loopback();
  if (auto ifaces = os::list_interfaces(); ifaces && !is_default && !own_address) {
    own_address = std::any_of(ifaces->begin(), ifaces->end(), [&](const os::Interface& i) {
      return std::any_of(i.ipv4.begin(), i.ipv4.end(),
                         [&](const os::InterfaceAddress& a) { return a.address == dst; });
    });
  }
  if (opt.json) {
    print_json(*d, is_default, own_address);
  } else {
    print_text(*d, is_default, own_address);
  }
  return exit_ok;
}

}  // namespace

Command register_route(CLI::App& parent) {
  auto opt = std::make_shared<RouteOptions>();
  CLI::App* app = parent.add_subcommand(
      "route", "Show how a datagram to DEST leaves: route, interface, capture device, source");
  app->add_option("destination", opt->destination,
                  "An IPv4 address or a host name (default: the default route)")
      ->option_text("DEST");
  app->add_flag("--json", opt->json, "One JSON object");
  app->add_option("--source", opt->source,
                  "Where the tables come from: auto, netlink (Linux), iphlpapi or wmi (Windows)")
      ->check(CLI::IsMember({"auto", "netlink", "iphlpapi", "wmi"}))
      ->option_text("NAME");
  return Command{app, [opt] { return run_route(*opt); }};
}

}  // namespace ersatz::tools
