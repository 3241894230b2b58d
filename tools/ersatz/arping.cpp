// ersatz arping: a drop-in for iputils arping (20221126). Flags, lines and
// exit codes follow iputils; the reply times are the true ones, from the
// kernel's departure and arrival stamps (iputils prints each 0.5 ms too
// long), and -i takes fractions of a second.
#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ersatz/link/open_device.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <ersatz/stack/host.hpp>
#include <ersatz/wire/arp.hpp>
#include <ersatz/wire/ethernet.hpp>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "command.hpp"

namespace ersatz::tools {
namespace {

using wire::Ipv4Address;
using wire::MacAddress;
namespace arp = wire::arp;
namespace eth = wire::ethernet;

struct ArpingOptions {
  std::string target;
  bool advert = false;          // -A
  bool broadcast_only = false;  // -b
  bool dad = false;             // -D
  bool quiet = false;           // -q
  bool quit_on_reply = false;   // -f (and -D)
  bool unsolicited = false;     // -U (and -A)
  bool version = false;         // -V
  std::string count;            // -c, checked as iputils does
  std::string timeout;          // -w
  std::string interval;         // -i
  std::string interface;        // -I
  std::string source;           // -s
  LinkFlags link;
};

/// The settings once checked: iputils' run_state.
struct ArpingSettings {
  long count = -1;  // -1: until stopped
  std::chrono::nanoseconds timeout{};
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  Ipv4Address target;
  Ipv4Address source;
  os::Interface interface;
};

/// "02:E5:00:00:00:FE": iputils prints MACs in upper case.
std::string upper_mac(const MacAddress& m) {
  const auto& o = m.octets();
  return fmt::format("{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}", o[0], o[1], o[2], o[3], o[4],
                     o[5]);
}

/// strtol_or_err's checks and messages: a number in [lo, hi], exit 1
/// otherwise. `fractions` lets -i and -w take them.
std::optional<double> number_or_err(const std::string& text, double lo, double hi, bool fractions) {
  errno = 0;
  char* end = nullptr;
  const double v = fractions ? std::strtod(text.c_str(), &end)
                             : static_cast<double>(std::strtol(text.c_str(), &end, 10));
  if (text.empty() || end == text.c_str() || *end != '\0' || errno == ERANGE) {
    fmt::print(stderr, "arping: invalid argument: '{}'\n", text);
    return std::nullopt;
  }
  if (v < lo || v > hi) {
    fmt::print(stderr, "arping: invalid argument: '{}': out of range: {} <= value <= {}\n", text,
               lo, hi);
    return std::nullopt;
  }
  return v;
}

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

/// arping on the runtime: iputils' event loop (a send timer, a timeout,
/// replies) as deadlines, and its counters.
class ArpingApp final : public runtime::Application {
 public:
  ArpingApp(const ArpingOptions& o, const ArpingSettings& s) : o_(o), s_(s) {}

  void start(runtime::Runtime& rt) override {
    start_ = rt.now();
    next_tick_ = start_ + s_.interval;
    if (s_.timeout.count() > 0) deadline_ = start_ + s_.timeout;
    send(rt);
  }

  std::optional<MonoTime> poll(runtime::Runtime& rt) override {
    const MonoTime now = rt.now();
    // The send timer first: iputils' timerfd for the interval is made
    // before the one for -w, so a tick due with the timeout still sends.
    // -i 0 disarms iputils' timer: one probe only.
    while (!done_ && s_.interval.count() > 0 && now >= next_tick_) {
      next_tick_ += s_.interval;
      ++expirations_;
      if (s_.count > 0 && s_.count < expirations_) {
        done_ = true;
        break;
      }
      send(rt);
    }
    if (!done_ && deadline_ && now >= *deadline_) done_ = true;
    std::optional<MonoTime> t;
    if (s_.interval.count() > 0) t = next_tick_;
    if (deadline_) t = t ? std::min(*t, *deadline_) : *deadline_;
    return t;
  }

  bool finished(const runtime::Runtime& /*rt*/) const override { return done_; }

  void on_sent(runtime::Runtime& /*rt*/, ConstBytes head, Timestamp ts, bool from_kernel) override {
    // Our probe left: the kernel's departure stamp, when the device has
    // one, replaces the time taken before send() (a veth's answer can be
    // stamped before send() returns, so never the time after it).
    if (from_kernel && head.size() >= 14 &&
        load_be16(head, 12) == static_cast<std::uint16_t>(wire::EtherType::arp))
      last_sent_ = ts;
  }

  bool on_frame(runtime::Runtime& /*rt*/, const link::RxFrame& frame) override {
    receive(frame);
    return false;  // nothing here is for the Host
  }

  /// iputils' finish(): the summary and the exit code.
  int finish() const {
    if (!o_.quiet) {
      fmt::print("Sent {} probes ({} broadcast(s))\n", sent_, brd_sent_);
      fmt::print("Received {} response(s)", received_);
      if (brd_recv_ || req_recv_) {
        fmt::print(" (");
        if (req_recv_) fmt::print("{} request(s)", req_recv_);
        if (brd_recv_) fmt::print("{}{} broadcast(s)", req_recv_ ? ", " : "", brd_recv_);
        fmt::print(")");
      }
      fmt::print("\n");
      std::fflush(stdout);
    }
    if (o_.dad) return received_ != 0 ? exit_failure : exit_ok;
    if (o_.unsolicited) return exit_ok;
    if (s_.timeout.count() > 0 && s_.count > 0 && !o_.quit_on_reply)
      return s_.count <= received_ ? exit_ok : exit_failure;
    return received_ != 0 ? exit_ok : exit_failure;
  }

 private:
  void send(runtime::Runtime& rt) {
    // As iputils builds it: -A is a reply, the rest requests; the target
    // hardware address is where the frame goes (broadcast until a reply
    // names a MAC), or ours for -A. -D's probes thus carry
    // ff:ff:ff:ff:ff:ff where RFC 5227 names zeros.
    const MacAddress me = s_.interface.mac;
    const arp::Repr a{o_.advert ? arp::Operation::reply : arp::Operation::request, me, s_.source,
                      o_.advert ? me : he_, s_.target};
    eth::Repr e;
    e.dst = he_;
    e.src = me;
    e.ethertype = wire::EtherType::arp;
    // Padded to Ethernet's 60 bytes, as a NIC would (iputils leaves that
    // to the driver).
    std::array<std::byte, eth::min_frame_len> frame{};
    e.emit(frame, arp::Repr::buffer_len());
    a.emit(MutBytes(frame).subspan(14, arp::Repr::buffer_len()));
    last_sent_ = rt.wall();  // as iputils, just before the send
    rt.send_frame(frame);
    rt.flush();
    ++sent_;
    if (!unicasting_) ++brd_sent_;
    if (o_.unsolicited && sent_ == s_.count) done_ = true;
  }

  /// iputils' recv_pack().
  void receive(const link::RxFrame& frame) {
    auto ep = eth::Packet<>::checked(frame.data);
    if (!ep) return;
    auto e = eth::Repr::parse(*ep);
    if (!e || e->ethertype != wire::EtherType::arp) return;
    const MacAddress me = s_.interface.mac;
    // sll_pkttype: PACKET_HOST, or BROADCAST/MULTICAST; others are not ours.
    const bool unicast = e->dst == me;
    if (!unicast && !e->dst.is_multicast()) return;
    auto ap = arp::Packet<>::checked(frame.data.subspan(e->header_len()));
    if (!ap) return;
    auto a = arp::Repr::parse(*ap);
    if (!a || (a->operation != arp::Operation::request && a->operation != arp::Operation::reply))
      return;
    if (!o_.dad) {
      if (a->source_ip != s_.target || a->target_ip != s_.source || a->target_hw != me) return;
    } else {
      // A DAD answer names the address as its sender, from another MAC; if
      // we probed from an address, it must be for that one.
      if (a->source_ip != s_.target || a->source_hw == me) return;
      if (!s_.source.is_unspecified() && s_.source != a->target_ip) return;
    }
    if (!o_.quiet) print_reply(*a, unicast, frame.ts);
    ++received_;
    if (s_.timeout.count() > 0 && received_ == s_.count) {
      done_ = true;
      return;
    }
    if (!unicast) ++brd_recv_;
    if (a->operation == arp::Operation::request) ++req_recv_;
    if (o_.quit_on_reply) {
      done_ = true;
      return;
    }
    if (!o_.broadcast_only) {
      he_ = a->source_hw;
      unicasting_ = true;
    }
  }

  void print_reply(const arp::Repr& a, bool unicast, Timestamp ts) {
    fmt::memory_buffer line;
    auto out = std::back_inserter(line);
    fmt::format_to(out, "{} {} from {} [{}] ", unicast ? "Unicast" : "Broadcast",
                   a.operation == arp::Operation::reply ? "reply" : "request", a.source_ip,
                   upper_mac(a.source_hw));
    bool s_printed = false;
    if (a.target_ip != s_.source) {
      fmt::format_to(out, "for {} ", a.target_ip);
      s_printed = true;
    }
    if (a.target_hw != s_.interface.mac) {
      if (!s_printed) fmt::format_to(out, "for ");
      fmt::format_to(out, "[{}]", upper_mac(a.target_hw));
    }
    // The true time, to the microsecond.
    const long long us = std::max<long long>(0, (ts.ns() - last_sent_.ns() + 500) / 1000);
    fmt::format_to(out, " {}.{:03}ms\n", us / 1000, us % 1000);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

  const ArpingOptions& o_;
  const ArpingSettings& s_;
  MacAddress he_ = MacAddress::broadcast();
  bool unicasting_ = false;
  bool done_ = false;
  MonoTime start_{};
  MonoTime next_tick_{};
  std::optional<MonoTime> deadline_;
  long expirations_ = 1;  // iputils counts the first send as one
  Timestamp last_sent_{};
  long sent_ = 0;
  long brd_sent_ = 0;
  long received_ = 0;
  long brd_recv_ = 0;
  long req_recv_ = 0;
};

constexpr unsigned iff_up = 0x1, iff_loopback = 0x8, iff_noarp = 0x80;

/// Whether `a` is an address of this host, on any interface (what bind()
/// accepts).
bool is_local(const std::vector<os::Interface>& ifaces, Ipv4Address a) {
  for (const auto& i : ifaces) {
    for (const auto& x : i.ipv4) {
      if (x.address == a) return true;
    }
  }
  return false;
}

int run_arping(ArpingOptions& o) {
  if (o.version) {
    fmt::print("arping from ersatz 0.1.0 (iputils 20221126 compatible)\n");
    return exit_ok;
  }
  if (o.dad) o.quit_on_reply = true;
  if (o.advert) o.unsolicited = true;
  ArpingSettings s;
  if (!o.count.empty()) {
    auto v = number_or_err(o.count, 1, INT_MAX, false);
    if (!v) return exit_failure;
    s.count = static_cast<long>(*v);
  }
  if (!o.timeout.empty()) {
    auto v = number_or_err(o.timeout, 0, INT_MAX, true);
    if (!v) return exit_failure;
    s.timeout = seconds(*v);
  }
  if (!o.interval.empty()) {
    auto v = number_or_err(o.interval, 0, INT_MAX, true);
    if (!v) return exit_failure;
    s.interval = seconds(*v);
  }
  const auto target = resolve_ipv4(o.target);
  if (!target) {
    fmt::print(stderr, "arping: {}: {}\n", o.target, target.error());
    return exit_usage;
  }
  s.target = *target;
  auto ifaces = os::list_interfaces();
  if (!ifaces) {
    fmt::print(stderr, "arping: getifaddrs: {}\n", ifaces.error().message());
    return exit_usage;
  }
  // The device: -I, or where the kernel would route the target (the
  // loopback for one of our own addresses, as iputils finds).
  std::optional<os::RouteDecision> route;
  std::string name = o.interface;
  if (name.empty()) {
    if (is_local(*ifaces, s.target)) {
      name = "lo";
      for (const auto& i : *ifaces) {
        if (i.loopback) name = i.name;
      }
    } else {
      auto r = choose_route("", s.target);
      if (!r) {
        fmt::print(stderr, "arping: {}\n", r.error().message());
        return exit_usage;
      }
      route = *r;
      name = r->interface.name;
    }
  }
  auto it = std::find_if(ifaces->begin(), ifaces->end(),
                         [&](const os::Interface& i) { return i.name == name; });
  if (it == ifaces->end()) {
    fmt::print(stderr, "arping: Device {} not available.\n", name);
    return exit_usage;
  }
  const bool up = it->admin_up || (it->flags & iff_up) != 0;
  if (!up) {
    if (!o.quiet) fmt::print("Interface \"{}\" is down\n", name);
    return exit_usage;
  }
  if (it->loopback || (it->flags & (iff_loopback | iff_noarp)) != 0) {
    if (!o.quiet) fmt::print("Interface \"{}\" is not ARPable\n", name);
    return o.dad ? exit_ok : exit_usage;
  }
  s.interface = *it;
  // The source: -s, the target itself for -U/-A, the route's for the
  // rest; none for -D. iputils bind()s it, so it must be ours.
  if (!o.source.empty()) {
    auto a = Ipv4Address::parse(o.source);
    if (!a) {
      fmt::print(stderr, "arping: invalid source {}\n", o.source);
      return exit_usage;
    }
    s.source = *a;
  } else if (!o.dad && o.unsolicited) {
    s.source = s.target;
  }
  if (!o.source.empty() || (!o.dad && o.unsolicited)) {
    if (!s.source.is_unspecified() && !is_local(*ifaces, s.source)) {
      fmt::print(stderr, "arping: bind: Cannot assign requested address\n");
      return exit_usage;
    }
  } else if (!o.dad) {
    if (!route) {
      auto r = choose_route(name, s.target);
      if (r) route = *r;
    }
    if (route) s.source = route->source;
    if (s.source.is_unspecified() && !s.interface.ipv4.empty())
      s.source = s.interface.ipv4.front().address;
  }
  if (!o.dad && o.source.empty() && s.source.is_unspecified()) {
    fmt::print(stderr, "arping: no source address in not-DAD mode\n");
    return exit_usage;
  }

  os::RouteDecision link_route;
  link_route.destination = s.target;
  link_route.interface = s.interface;
  link_route.next_hop = s.target;
  link_route.source = s.source;
  link::DeviceOptions dev_options;
  // A few frames a second: no ring (its setup and teardown cost more than
  // the run), one send() each, stamped by the kernel on departure.
  dev_options.rx_ring = link::RxRing::none;
  dev_options.tx_mode = link::TxMode::send;
  dev_options.tx_timestamps = true;
  auto opened = open_link(link_route, o.link, dev_options);
  if (!opened) return exit_usage;
  // Only now, as iputils (which opens its socket first): without the
  // capability the one line on stderr is all there is.
  if (!o.quiet) fmt::print("ARPING {} from {} {}\n", s.target, s.source, name);
  std::fflush(stdout);
  runtime::signals::install();
  std::mt19937 rng(std::random_device{}());
  stack::Host host(host_config(link_route, static_cast<std::uint16_t>(rng())));
  runtime::SystemClock clock;
  runtime::RuntimeOptions rt_options;
  rt_options.report_sent = true;
  runtime::Runtime rt(opened->use(), host, clock, rt_options);
  ArpingApp app(o, s);
  if (auto r = rt.run(app); !r) {
    fmt::print(stderr, "arping: recvfrom: {}\n", r.error().message());
    return exit_usage;
  }
  const int status = app.finish();
  defer_link_teardown();
  return status;
}

}  // namespace

Command register_arping(CLI::App& parent) {
  auto o = std::make_shared<ArpingOptions>();
  CLI::App* app =
      parent.add_subcommand("arping", "Send ARP requests to a neighbour, like iputils arping");
  app->add_option("destination", o->target, "An IPv4 address or a host name");
  app->add_flag("-f", o->quit_on_reply, "Quit on the first reply");
  app->add_flag("-q", o->quiet, "Be quiet");
  app->add_flag("-b", o->broadcast_only, "Keep on broadcasting, do not unicast");
  app->add_flag("-D", o->dad, "Duplicate address detection mode (RFC 5227 probes)");
  app->add_flag("-U", o->unsolicited, "Unsolicited ARP mode, update your neighbours");
  app->add_flag("-A", o->advert, "ARP answer mode, update your neighbours");
  app->add_flag("-V", o->version, "Print the version and exit");
  app->add_option("-c", o->count, "How many packets to send")->option_text("COUNT");
  app->add_option("-w", o->timeout, "How long to wait for a reply, in seconds")
      ->option_text("TIMEOUT");
  app->add_option("-i", o->interval, "Seconds between packets, fractions allowed (default 1)")
      ->option_text("INTERVAL");
  app->add_option("-I", o->interface, "Which Ethernet device to use")->option_text("DEVICE");
  app->add_option("-s", o->source, "Source IP address")->option_text("SOURCE");
  app->add_option("--backend", o->link.backend, "Raw device backend: afpacket, pcap or auto")
      ->option_text("NAME");
  app->add_option("--pcap-out", o->link.pcap_out, "Write every frame sent and received to FILE")
      ->option_text("FILE");
  return Command{app, [o] {
                   if (o->target.empty() && !o->version) {
                     error_line("arping: a destination is required (try 'ersatz arping --help')");
                     return static_cast<int>(exit_usage);
                   }
                   return run_arping(*o);
                 }};
}

}  // namespace ersatz::tools
