// ersatz interfaces: the host's links, one row each, with the one the
// default route uses marked `*` (as the original adapter listing did).
#if defined(__linux__)
#include <linux/if.h>
#endif

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <ersatz/decode/dissect.hpp>
#include <ersatz/os/discovery.hpp>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "command.hpp"

namespace ersatz::tools {
namespace {

struct InterfacesOptions {
  bool json = false;
};

#if defined(__linux__)
/// IFF_* names in iproute2's order (print_link_flags() in ip/ipaddress.c),
/// so `flags` reads like `ip -j link` and compares with it directly.
constexpr std::array<std::pair<unsigned, std::string_view>, 18> kFlagNames{{
    {IFF_LOOPBACK, "LOOPBACK"},
    {IFF_BROADCAST, "BROADCAST"},
    {IFF_POINTOPOINT, "POINTOPOINT"},
    {IFF_MULTICAST, "MULTICAST"},
    {IFF_NOARP, "NOARP"},
    {IFF_ALLMULTI, "ALLMULTI"},
    {IFF_PROMISC, "PROMISC"},
    {IFF_MASTER, "MASTER"},
    {IFF_SLAVE, "SLAVE"},
    {IFF_DEBUG, "DEBUG"},
    {IFF_DYNAMIC, "DYNAMIC"},
    {IFF_AUTOMEDIA, "AUTOMEDIA"},
    {IFF_PORTSEL, "PORTSEL"},
    {IFF_NOTRAILERS, "NOTRAILERS"},
    {IFF_UP, "UP"},
    {IFF_LOWER_UP, "LOWER_UP"},
    {IFF_DORMANT, "DORMANT"},
    {IFF_ECHO, "ECHO"},
}};

std::vector<std::string> flag_names(unsigned flags) {
  std::vector<std::string> out;
  // Administratively up without a running lower layer: iproute2 says
  // NO-CARRIER first, and never shows IFF_RUNNING itself.
  if ((flags & IFF_UP) != 0 && (flags & IFF_RUNNING) == 0) out.emplace_back("NO-CARRIER");
  flags &= ~static_cast<unsigned>(IFF_RUNNING);
  for (const auto& [bit, name] : kFlagNames) {
    if ((flags & bit) != 0) {
      out.emplace_back(name);
      flags &= ~bit;
    }
  }
  if (flags != 0) out.push_back(fmt::format("{:x}", flags));
  return out;
}
#else
/// Windows reports no IFF_* flags (os::Interface::flags is 0 there).
std::vector<std::string> flag_names(unsigned /*flags*/) { return {}; }
#endif

std::string addresses(const os::Interface& i) {
  if (i.ipv4.empty()) return "-";
  std::string s;
  for (const auto& a : i.ipv4) {
    if (!s.empty()) s += ',';
    s += fmt::format("{}/{}", a.address, a.prefix_len);
  }
  return s;
}

void print_json(const std::vector<os::Interface>& ifaces, int default_index) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  out.push_back('[');
  bool first = true;
  for (const auto& i : ifaces) {
    if (!first) out.push_back(',');
    first = false;
    fmt::format_to(it, "{{\"index\":{},\"name\":", i.index);
    decode::append_json_string(out, i.name);
    fmt::format_to(it, ",\"default\":{},\"kind\":", i.index == default_index);
    decode::append_json_string(out, i.kind);
    fmt::format_to(it, ",\"mac\":\"{}\",\"mtu\":{},\"oper_state\":\"{}\",\"admin_up\":{}", i.mac,
                   i.mtu, os::to_string(i.oper_state), i.admin_up);
    fmt::format_to(it, ",\"loopback\":{},\"flags\":[", i.loopback);
    bool first_flag = true;
    for (const auto& f : flag_names(i.flags)) {
      if (!first_flag) out.push_back(',');
      first_flag = false;
      decode::append_json_string(out, f);
    }
    fmt::format_to(it, "],\"ipv4\":[");
    bool first_addr = true;
    for (const auto& a : i.ipv4) {
      if (!first_addr) out.push_back(',');
      first_addr = false;
      fmt::format_to(it, "{{\"address\":\"{}\",\"prefix_len\":{}}}", a.address, a.prefix_len);
    }
    fmt::format_to(it, "],\"description\":");
    decode::append_json_string(out, i.description);
    fmt::format_to(it, ",\"capture_device\":");
    decode::append_json_string(out, i.capture_device);
    out.push_back('}');
  }
  fmt::format_to(it, "]\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_table(const std::vector<os::Interface>& ifaces, int default_index) {
  using Row = std::array<std::string, 10>;
  std::vector<Row> rows;
  rows.push_back(
      {"", "INDEX", "NAME", "KIND", "STATE", "MTU", "MAC", "ADDRESSES", "CAPTURE", "DESCRIPTION"});
  for (const auto& i : ifaces) {
    rows.push_back({i.index == default_index ? "*" : "", std::to_string(i.index), i.name, i.kind,
                    std::string(os::to_string(i.oper_state)), std::to_string(i.mtu),
                    fmt::format("{}", i.mac), addresses(i), i.capture_device,
                    i.description.empty() ? "-" : i.description});
  }
  std::array<std::size_t, 10> width{};
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  fmt::memory_buffer out;
  for (const auto& r : rows) {
    for (std::size_t c = 0; c + 1 < r.size(); ++c) {
      fmt::format_to(std::back_inserter(out), "{:<{}}  ", r[c], width[c]);
    }
    // The last column is free text: no padding, so no trailing blanks.
    fmt::format_to(std::back_inserter(out), "{}\n", r.back());
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

int run_interfaces(const InterfacesOptions& opt) {
  auto ifaces = os::list_interfaces();
  if (!ifaces) {
    error_line(fmt::format("reading interfaces: {}", ifaces.error().message()));
    return exit_failure;
  }
  // No default route is an ordinary state (an isolated host, a lab
  // namespace): then nothing is marked. Failing to read the table is
  // worth a word, but the listing still stands.
  int default_index = 0;
  if (auto d = os::default_interface()) {
    default_index = d->index;
  } else if (d.error().category() != os::route_category()) {
    error_line(fmt::format("reading routes: {}", d.error().message()));
  }
  if (opt.json) {
    print_json(*ifaces, default_index);
  } else {
    print_table(*ifaces, default_index);
  }
  return exit_ok;
}

}  // namespace

Command register_interfaces(CLI::App& parent) {
  auto opt = std::make_shared<InterfacesOptions>();
  CLI::App* app = parent.add_subcommand(
      "interfaces", "List network interfaces; '*' marks the one the default route uses");
  app->add_flag("--json", opt->json, "A JSON array, one object per interface");
  return Command{app, [opt] { return run_interfaces(*opt); }};
}

}  // namespace ersatz::tools
