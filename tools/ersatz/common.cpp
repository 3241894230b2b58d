// What the subcommands share: messages, name resolution, the route to a
// target (with -I), and opening the link the way every stack tool does.
#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ersatz/link/bpf.hpp>
#if defined(__linux__)
#include <ersatz/link/parallel_tx.hpp>
#endif
#include <ersatz/link/pcap_library.hpp>
#include <ersatz/link/privileges.hpp>
#include <fstream>
#include <memory>
#include <string>

#include "command.hpp"

namespace ersatz::tools {

void error_line(std::string_view message) { fmt::print(stderr, "ersatz: {}\n", message); }

int report_open_failure(std::string_view iface, const std::error_code& error,
                        const std::string& detail) {
  if (link::is_permission_error(error)) {
    error_line(link::needs_cap_net_raw);
    return exit_usage;
  }
  if (error == link::PcapLibraryError::not_installed) {
    error_line(link::pcap_not_installed);
    return exit_usage;
  }
  error_line(fmt::format("{}: {}", iface, detail.empty() ? error.message() : detail));
  return exit_failure;
}

tl::expected<wire::Ipv4Address, std::string> resolve_ipv4(const std::string& host) {
  if (auto a = wire::Ipv4Address::parse(host)) return *a;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_RAW;
  addrinfo* res = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0)
    return tl::unexpected<std::string>(::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET || ai->ai_addrlen < sizeof(sockaddr_in)) continue;
    sockaddr_in sin{};
    std::memcpy(&sin, ai->ai_addr, sizeof sin);
    return wire::Ipv4Address(ntohl(sin.sin_addr.s_addr));
  }
  return tl::unexpected<std::string>(::gai_strerror(EAI_NONAME));
}

Result<os::RouteDecision> choose_route(const std::string& interface, wire::Ipv4Address dst) {
  auto d = os::route_to(dst);
  if (interface.empty() || !d) return d;
  auto ifaces = os::list_interfaces();
  if (!ifaces) return tl::unexpected(ifaces.error());
  const auto by_addr = wire::Ipv4Address::parse(interface);
  for (const auto& i : *ifaces) {
    const bool named = i.name == interface;
    const bool owns = by_addr && std::any_of(i.ipv4.begin(), i.ipv4.end(),
                                             [&](const auto& a) { return a.address == *by_addr; });
    if (!named && !owns) continue;
    os::RouteDecision r = *d;
    r.interface = i;
    if (owns)
      r.source = *by_addr;
    else if (!i.ipv4.empty() && r.route.out_index != i.index)
      r.source = i.ipv4.front().address;
    if (r.route.out_index != i.index) r.next_hop = dst;  // forced out another link: on-link
    return r;
  }
  return fail(std::errc::no_such_device);
}

int prefix_of(const os::Interface& i, wire::Ipv4Address source) {
  for (const auto& a : i.ipv4) {
    if (a.address == source) return a.prefix_len;
  }
  return 32;
}

stack::HostConfig host_config(const os::RouteDecision& r, std::uint16_t first_ident) {
  stack::HostConfig c;
  c.mac = r.interface.mac;
  c.address = r.source;
  c.prefix_len = prefix_of(r.interface, r.source);
  c.mtu = r.interface.mtu ? r.interface.mtu : 1500;
  c.first_ident = first_ident;
  return c;
}

void report_caps_if_asked() {
#if defined(__linux__)
  // For tests/lab/privileges_lab.sh: the effective set as the kernel
  // reports it once the device is open, seen from inside the process.
  if (std::getenv("ERSATZ_REPORT_CAPS") != nullptr) {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("CapEff:", 0) == 0) fmt::print(stderr, "{}\n", line);
    }
  }
#endif
}

void defer_link_teardown() {
#if defined(__linux__)
  std::fflush(stdout);
  std::fflush(stderr);
  int alive[2];
  if (::pipe2(alive, O_CLOEXEC) != 0) return;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(alive[0]);
    ::close(alive[1]);
    return;
  }
  if (pid == 0) {
    // Only async-signal-safe calls here: the parent may have threads.
    ::close(alive[1]);
    // Whoever reads our output must see its end when the parent exits.
    for (int fd = 0; fd <= 2; ++fd) ::close(fd);
    char c;
    while (::read(alive[0], &c, 1) < 0 && errno == EINTR) {
    }
    // The parent is gone: our copies of its descriptors are the last ones,
    // and closing them here does the teardown.
    ::_exit(0);
  }
  // The write end stays open, unused, until this process exits.
  ::close(alive[0]);
#endif
}

tl::expected<OpenedLink, int> open_link(const os::RouteDecision& route, const LinkFlags& flags,
                                        link::DeviceOptions options, std::size_t extra_lanes) {
  auto backend = link::parse_backend(flags.backend);
  if (!backend) {
    error_line(fmt::format("unknown backend '{}': use afpacket, pcap or auto", flags.backend));
    return tl::unexpected(exit_usage);
  }
  options.backend = *backend;
  // The kernel keeps everything but ARP and ICMP for us out of the ring.
  if (!options.filter) options.filter = link::arp_or_icmp_filter(route.interface.mac);
  const std::string& name = route.interface.capture_device.empty() ? route.interface.name
                                                                   : route.interface.capture_device;
  std::string detail;
  auto dev = link::open_device(name, options, &detail);
  if (!dev) {
    // iputils and fping alike give up with one line when the socket fails.
    report_open_failure(route.interface.name, dev.error(), detail);
    return tl::unexpected(exit_usage);
  }
  OpenedLink out;
  out.device = std::move(*dev);
#if defined(__linux__)
  std::vector<std::unique_ptr<link::Device>> lanes;
  link::DeviceOptions lane_options = options;
  lane_options.receive = false;
  lane_options.filter.reset();
  for (std::size_t i = 0; i < extra_lanes && flags.pcap_out.empty(); ++i) {
    auto lane = link::open_device(name, lane_options, &detail);
    if (!lane) break;  // fewer lanes, not a failure: the main device sends too
    lanes.push_back(std::move(*lane));
  }
#else
  (void)extra_lanes;
#endif
  // Least privilege: nothing after this point needs capabilities.
  // Capabilities belong to threads: the lanes' threads start only now,
  // so that they inherit the empty sets.
  if (auto r = link::drop_privileges(); !r)
    error_line(fmt::format("cannot drop privileges: {}", r.error().message()));
  report_caps_if_asked();
#if defined(__linux__)
  if (!lanes.empty()) out.lanes = std::make_unique<link::ParallelTx>(*out.device, std::move(lanes));
#endif
  if (!flags.pcap_out.empty()) {
    auto w = link::PcapWriter::create(flags.pcap_out);
    if (!w) {
      error_line(fmt::format("{}: {}", flags.pcap_out, w.error().message()));
      return tl::unexpected(exit_usage);
    }
    out.tracer = std::make_unique<link::Tracer>(*out.device, std::move(*w));
  }
  return out;
}

}  // namespace ersatz::tools
