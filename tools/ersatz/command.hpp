// How subcommands plug into the ersatz binary: each file defines one
// subcommand and registers it with the CLI11 app.
#pragma once

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <ersatz/link/open_device.hpp>
#include <ersatz/link/tracer.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/stack/host.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace ersatz::tools {

/// Exit codes shared by the subcommands, following the tools they replace.
enum ExitCode : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

/// A registered subcommand: `run` is called after parsing when the
/// subcommand was given, and returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
  /// The exit code for a command line that does not parse: 2 for the tools
  /// that follow iputils and tcpdump, 1 for sweep (fping calls usage(1)).
  int usage_exit = exit_usage;
};

Command register_dump(CLI::App& parent);
Command register_interfaces(CLI::App& parent);
Command register_route(CLI::App& parent);
Command register_ping(CLI::App& parent);
Command register_sweep(CLI::App& parent);
Command register_traceroute(CLI::App& parent);
Command register_completion(CLI::App& parent);
Command register_arping(CLI::App& parent);
Command register_serve(CLI::App& parent);

/// Prints "ersatz: MESSAGE" on stderr.
void error_line(std::string_view message);

/// Prints why device `iface` did not open: the missing capability, missing
/// Npcap, or "IFACE: reason" (`detail` when the backend gave one). Returns
/// exit_usage for the first two (the tools ersatz replaces exit 2 there),
/// exit_failure otherwise.
int report_open_failure(std::string_view iface, const std::error_code& error,
                        const std::string& detail);

/// A host name or dotted quad as an IPv4 address; the error is
/// gai_strerror's text ("Name or service not known").
tl::expected<wire::Ipv4Address, std::string> resolve_ipv4(const std::string& host);

/// Where datagrams to `dst` go: the OS route table, or `interface` (-I: a
/// name or one of its addresses), which then takes the datagram on-link.
Result<os::RouteDecision> choose_route(const std::string& interface, wire::Ipv4Address dst);

/// The prefix length of `source` on `i`, 32 if it has none there.
int prefix_of(const os::Interface& i, wire::Ipv4Address source);

/// A Host that sends as the route's interface and source address.
stack::HostConfig host_config(const os::RouteDecision& r, std::uint16_t first_ident);

/// The link flags every stack tool has.
struct LinkFlags {
  std::string backend = "auto";
  std::string pcap_out;  ///< --pcap-out: every frame sent and received
};

/// An open device, wrapped in a Tracer with --pcap-out, or with transmit
/// lanes (link::ParallelTx) of send-only devices on the same interface.
struct OpenedLink {
  std::unique_ptr<link::Device> device;
  std::unique_ptr<link::Tracer> tracer;
  std::unique_ptr<link::Device> lanes;
  link::Device& use() {
    if (lanes) return *lanes;
    return tracer ? static_cast<link::Device&>(*tracer) : *device;
  }
};

/// Lets the process exit without waiting for the kernel to tear its raw
/// socket down. Closing an AF_PACKET socket with a ring waits for two or
/// three RCU grace periods (synchronize_net in packet_set_ring and
/// packet_release: about 25 ms here), which a short run would otherwise
/// spend after its last line. A child keeps a copy of the descriptors, with
/// its standard streams closed, until this process has exited, and the
/// teardown happens in it. Call it once all output is written. Linux only;
/// elsewhere a no-op.
void defer_link_teardown();
/// With ERSATZ_REPORT_CAPS set, prints this process's CapEff line from
/// /proc/self/status to stderr (Linux): called once privileges are dropped.
void report_caps_if_asked();

/// Opens the route's interface with the arp-or-icmp filter (unless
/// `options` has a filter of its own), then drops
/// every privilege. On failure the message is printed and the error is the
/// exit code.
/// With `extra_lanes` > 0 (Linux, and no --pcap-out), that many more
/// sockets are opened, send-only, as transmit lanes.
tl::expected<OpenedLink, int> open_link(const os::RouteDecision& route, const LinkFlags& flags,
                                        link::DeviceOptions options, std::size_t extra_lanes = 0);

}  // namespace ersatz::tools
