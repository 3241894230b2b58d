// ersatz serve ADDRESS/PREFIX -I IFACE: ersatz owns an address the kernel
// does not have, and answers for it from userspace as a small host would:
// ARP, echo (fragmented, with options), protocol unreachable for the rest.
// It claims the address first (RFC 5227 probes and announcements) and
// defends it while serving (--defend).
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <ersatz/link/bpf.hpp>
#include <ersatz/link/open_device.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <ersatz/stack/address_claim.hpp>
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
using Kind = stack::ClaimEvent::Kind;

struct ServeOptions {
  std::string address;  // ADDRESS/PREFIX
  std::string interface;
  std::string mac;
  std::string defend = "once";
  bool json = false;
  bool busy_poll = false;
  LinkFlags link;
};

/// What serve prints: one line per event, or JSON Lines with --json.
class ServePrinter {
 public:
  ServePrinter(const ServeOptions& o, Ipv4Address address, int prefix, std::string iface,
               MacAddress mac)
      : o_(o), address_(address), prefix_(prefix), iface_(std::move(iface)), mac_(mac) {}

  void event(const stack::ClaimEvent& e) {
    if (o_.json) {
      fmt::print("{{\"event\":\"{}\",\"address\":\"{}\"", json_name(e.kind), address_);
      if (is_conflict(e.kind)) fmt::print(",\"mac\":\"{}\"", e.other);
      if (e.kind == Kind::bound)
        fmt::print(",\"prefix\":{},\"interface\":\"{}\",\"mac\":\"{}\"", prefix_, iface_, mac_);
      fmt::print("}}\n");
      std::fflush(stdout);
      return;
    }
    switch (e.kind) {
      case Kind::bound:
        fmt::print("serving {}/{} on {} as {}\n", address_, prefix_, iface_, mac_);
        break;
      case Kind::conflict_probing:
        fmt::print(stderr, "ersatz: {} is in use by {}\n", address_, e.other);
        break;
      case Kind::defended:
        fmt::print("conflict: {} claimed by {}, defended\n", address_, e.other);
        break;
      case Kind::ignored:
        fmt::print("conflict: {} claimed by {}, ignored (defended less than 10 s ago)\n", address_,
                   e.other);
        break;
      case Kind::yielded:
        fmt::print(stderr, "ersatz: {} taken by {}, giving it up\n", address_, e.other);
        break;
      case Kind::probe:
      case Kind::announce: break;
    }
    std::fflush(stdout);
  }

  void counters(const stack::Host& host, const runtime::RuntimeStats& rt) {
    const auto& a = host.answers();
    const auto& d = host.drops();
    if (o_.json) {
      fmt::print(
          "{{\"event\":\"stopped\",\"address\":\"{}\",\"frames_in\":{},\"frames_out\":{},"
          "\"answered\":{{\"arp\":{},\"echo\":{},\"protocol_unreachable\":{}}},\"dropped\":{{",
          address_, rt.frames_in, rt.frames_out, a.arp_replies, a.echo_replies,
          a.protocol_unreachables);
      bool first = true;
      for (std::size_t i = 0; i < static_cast<std::size_t>(stack::DropReason::count_); ++i) {
        const auto r = static_cast<stack::DropReason>(i);
        if (d[r] == 0) continue;
        fmt::print("{}\"{}\":{}", first ? "" : ",", to_string(r), d[r]);
        first = false;
      }
      const auto& n = host.neighbors();
      const auto& r = host.reassembler();
      fmt::print(
          "}},\"peak\":{{\"neighbors\":{},\"neighbors_max\":{},\"reassemblies\":{},"
          "\"reassemblies_max\":{},\"reassembly_bytes\":{},\"reassembly_bytes_max\":{}}}}}\n",
          n.peak_size(), n.config().capacity, r.peak_in_progress(), r.config().max_datagrams,
          r.peak_bytes_held(), r.config().budget);
      std::fflush(stdout);
      return;
    }
    fmt::print("\n--- {} serve statistics ---\n", address_);
    fmt::print("{} frames received, {} sent\n", rt.frames_in, rt.frames_out);
    fmt::print("answered: {} arp, {} echo, {} protocol unreachable\n", a.arp_replies,
               a.echo_replies, a.protocol_unreachables);
    fmt::print("dropped: {}", d.total());
    bool first = true;
    for (std::size_t i = 0; i < static_cast<std::size_t>(stack::DropReason::count_); ++i) {
      const auto r = static_cast<stack::DropReason>(i);
      if (d[r] == 0) continue;
      fmt::print("{}{} {}", first ? " (" : ", ", to_string(r), d[r]);
      first = false;
    }
    fmt::print("{}\n", first ? "" : ")");
    // The tables' high-water marks against their bounds: what a flood of
    // senders or fragments could reach.
    const auto& n = host.neighbors();
    const auto& r = host.reassembler();
    fmt::print("held at most: {}/{} neighbours, {}/{} reassemblies, {}/{} reassembly bytes\n",
               n.peak_size(), n.config().capacity, r.peak_in_progress(), r.config().max_datagrams,
               r.peak_bytes_held(), r.config().budget);
    std::fflush(stdout);
  }

 private:
  static bool is_conflict(Kind k) {
    return k == Kind::conflict_probing || k == Kind::defended || k == Kind::ignored ||
           k == Kind::yielded;
  }
  static std::string_view json_name(Kind k) { return k == Kind::bound ? "serving" : to_string(k); }

  const ServeOptions& o_;
  Ipv4Address address_;
  int prefix_;
  std::string iface_;
  MacAddress mac_;
};

/// serve on the runtime: the claim decides when the Host may answer; the
/// Host answers.
class ServeApp final : public runtime::Application {
 public:
  ServeApp(stack::ClaimConfig claim, ServePrinter& printer) : claim_(claim), printer_(printer) {}

  void start(runtime::Runtime& rt) override {
    claim_.start(rt.now());
    step(rt);
  }

  std::optional<MonoTime> poll(runtime::Runtime& rt) override {
    claim_.poll(rt.now(), out_);
    step(rt);
    return claim_.next_deadline();
  }

  bool on_frame(runtime::Runtime& rt, const link::RxFrame& frame) override {
    auto ep = eth::Packet<>::checked(frame.data);
    bool conflict = false;
    if (ep) {
      auto e = eth::Repr::parse(*ep);
      if (e && e->ethertype == wire::EtherType::arp) {
        auto ap = arp::Packet<>::checked(frame.data.subspan(e->header_len()));
        if (ap) {
          if (auto a = arp::Repr::parse(*ap)) conflict = claim_.on_arp(*a, rt.now(), out_);
        }
      }
    }
    if (conflict || !out_.empty()) step(rt);
    // Until the address is ours, and for ARP that claims it, the Host
    // must not answer.
    return claim_.in_use() && !conflict;
  }

  bool finished(const runtime::Runtime& /*rt*/) const override {
    return claim_.state() == stack::ClaimState::lost;
  }

  bool lost() const { return claim_.state() == stack::ClaimState::lost; }
  /// Whether the address was ever ours (probing succeeded).
  bool served() const { return served_; }

 private:
  /// Sends what the claim queued, and reports its events.
  void step(runtime::Runtime& rt) {
    for (std::size_t i = 0; i < out_.size(); ++i) rt.send_frame(out_[i]);
    out_.clear();
    for (const auto& e : claim_.take_events()) {
      if (e.kind == Kind::bound) served_ = true;
      printer_.event(e);
    }
  }

  stack::AddressClaim claim_;
  ServePrinter& printer_;
  stack::Outbox out_;
  bool served_ = false;
};

int run_serve(const ServeOptions& o) {
  const auto slash = o.address.find('/');
  const auto address = Ipv4Address::parse(o.address.substr(0, slash));
  int prefix = 24;
  if (slash != std::string::npos) {
    try {
      std::size_t used = 0;
      prefix = std::stoi(o.address.substr(slash + 1), &used);
      if (used != o.address.size() - slash - 1) prefix = -1;
    } catch (const std::exception&) {
      prefix = -1;
    }
  }
  if (!address || prefix < 0 || prefix > 32 || slash == std::string::npos) {
    error_line(fmt::format("serve: '{}' is not ADDRESS/PREFIX", o.address));
    return exit_usage;
  }
  const auto policy = stack::parse_defend_policy(o.defend);
  if (!policy) {
    error_line(fmt::format("serve: --defend takes once, always or never, not '{}'", o.defend));
    return exit_usage;
  }
  // Every value is checked before the interface is looked up, so that the
  // error names what the user typed wrong.
  std::optional<MacAddress> chosen_mac;
  if (!o.mac.empty()) {
    chosen_mac = MacAddress::parse(o.mac);
    if (!chosen_mac || chosen_mac->is_multicast() || chosen_mac->is_zero()) {
      error_line(fmt::format("serve: '{}' is not a unicast MAC address", o.mac));
      return exit_usage;
    }
  }
  auto iface = os::find_interface(o.interface);
  if (!iface) {
    error_line(fmt::format("{}: no such interface", o.interface));
    return exit_usage;
  }
  const MacAddress mac = chosen_mac.value_or(iface->mac);
  // The kernel's own addresses are the kernel's to answer; its ARP would
  // never show us a conflict with itself.
  if (auto all = os::list_interfaces()) {
    for (const auto& i : *all) {
      for (const auto& a : i.ipv4) {
        if (a.address == *address) {
          error_line(fmt::format("{} is in use by this host's kernel, on {}", *address, i.name));
          return exit_failure;
        }
      }
    }
  }

  os::RouteDecision route;
  route.destination = *address;
  route.interface = *iface;
  route.interface.mac = mac;
  route.next_hop = *address;
  route.source = *address;
  link::DeviceOptions dev_options;
  // A flood's requests come one per reply: each handed over at once.
  dev_options.rx_ring = link::RxRing::frames;
  dev_options.tx_mode = link::TxMode::send;
  dev_options.filter = link::arp_or_ipv4_filter(mac);
  // Another MAC than the interface's: the device must take its frames too.
  dev_options.promiscuous = mac != iface->mac;
  auto opened = open_link(route, o.link, dev_options);
  if (!opened) return exit_usage;
  runtime::signals::install();
  std::random_device rd;
  stack::HostConfig hc;
  hc.mac = mac;
  hc.address = *address;
  hc.prefix_len = prefix;
  hc.mtu = iface->mtu ? iface->mtu : 1500;
  hc.own_address = true;
  hc.first_ident = static_cast<std::uint16_t>(rd());
  stack::Host host(hc);
  runtime::SystemClock clock;
  runtime::RuntimeOptions rt_options;
  rt_options.busy_poll = o.busy_poll;
  runtime::Runtime rt(opened->use(), host, clock, rt_options);

  stack::ClaimConfig claim;
  claim.mac = mac;
  claim.address = *address;
  claim.defend = *policy;
  claim.seed = (std::uint64_t{rd()} << 32) | rd();
  ServePrinter printer(o, *address, prefix, iface->name, mac);
  ServeApp app(claim, printer);
  if (auto r = rt.run(app); !r) {
    error_line(fmt::format("{}: {}", iface->name, r.error().message()));
    return exit_failure;
  }
  // A conflict while probing is the one line it printed; otherwise what
  // was answered and dropped.
  if (app.served() || !app.lost()) printer.counters(host, rt.stats());
  defer_link_teardown();
  return app.lost() ? exit_failure : exit_ok;
}

}  // namespace

Command register_serve(CLI::App& parent) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* app = parent.add_subcommand(
      "serve", "Own an IPv4 address the kernel does not have: answer ARP and ping for it");
  app->add_option("address", o->address, "ADDRESS/PREFIX to serve")->required();
  app->add_option("-I", o->interface, "Interface to serve on")->required()->option_text("IFACE");
  app->add_option("--mac", o->mac, "Answer with this MAC (the device then receives its frames)")
      ->option_text("MAC");
  app->add_option("--defend", o->defend,
                  "On a conflict while serving: once (RFC 5227 §2.4(b), default), always, never")
      ->option_text("once|always|never");
  app->add_flag("--json", o->json, "JSON Lines: one object per event, then the counters");
  app->add_flag("--busy-poll", o->busy_poll,
                "Spin on the receive ring instead of sleeping: lowest latency, one core busy");
  app->add_option("--backend", o->link.backend, "Raw device backend: afpacket, pcap or auto")
      ->option_text("NAME");
  app->add_option("--pcap-out", o->link.pcap_out, "Write every frame sent and received to FILE")
      ->option_text("FILE");
  return Command{app, [o] { return run_serve(*o); }};
}

}  // namespace ersatz::tools
