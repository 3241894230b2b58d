// A complete small ping on ersatz's runtime: the OS route table picks the
// interface, ersatz's own ARP, IPv4 and ICMP do the rest.
//
//   mini_ping DESTINATION [COUNT]      (needs CAP_NET_RAW, dropped once open)
//
// The runtime owns the loop (device, host, clock, timers, signals); this
// file is only an Application: what to send when, and what to print.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include <ersatz/link/open_device.hpp>
#include <ersatz/link/privileges.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <ersatz/stack/echo.hpp>

using namespace ersatz;
using namespace std::chrono_literals;

class MiniPing final : public runtime::Application {
 public:
  MiniPing(stack::EchoConfig echo, wire::Ipv4Address next_hop, int count)
      : echo_(echo), next_hop_(next_hop), count_(count) {}

  std::optional<MonoTime> poll(runtime::Runtime& rt) override {
    print_events();
    if (sent_ < count_ && rt.now() >= next_send_) {
      send(rt);
      next_send_ = rt.now() + 1s;
    }
    if (sent_ == count_ && !last_deadline_) last_deadline_ = rt.now() + 2s;
    return sent_ < count_ ? next_send_ : *last_deadline_;
  }

  void on_icmp(runtime::Runtime&, const stack::IcmpDelivery& d) override {
    echo_.on_icmp(d);
    print_events();
  }
  void on_neighbor_failed(runtime::Runtime&, wire::Ipv4Address hop,
                          std::span<const stack::Datagram> datagrams) override {
    echo_.on_neighbor_failed(hop, datagrams);
    print_events();
  }

  bool finished(const runtime::Runtime& rt) const override {
    return received_ == count_ || (last_deadline_ && rt.now() >= *last_deadline_);
  }
  int received() const { return received_; }

 private:
  void send(runtime::Runtime& rt) {
    const auto seq = static_cast<std::uint16_t>(++sent_);
    const ConstBytes message = echo_.request(seq, rt.wall());
    wire::ipv4::Repr ip;
    ip.src = echo_.config().source;
    ip.dst = echo_.config().target;
    ip.protocol = wire::ipv4::Protocol::icmp;
    ip.payload_len = message.size();
    if (auto sent = rt.send(ip, message, next_hop_); !sent) {
      std::fprintf(stderr, "mini_ping: send: %s\n", sent.error().message().c_str());
    }
  }

  void print_events() {
    for (const auto& event : echo_.take_events()) {
      if (const auto* reply = std::get_if<stack::EchoReply>(&event)) {
        if (reply->duplicate) continue;
        ++received_;
        const double ms =
            reply->rtt ? std::chrono::duration<double, std::milli>(*reply->rtt).count() : 0.0;
        std::printf("%s", fmt::format("{} bytes from {}: icmp_seq={} ttl={} time={:.3f} ms\n",
                                      reply->icmp_len, reply->from, reply->seq, reply->ttl, ms)
                              .c_str());
      } else if (const auto* error = std::get_if<stack::EchoError>(&event)) {
        std::printf("%s", fmt::format("From {} icmp_seq={}: ICMP type {} code {}\n", error->from,
                                      error->seq, static_cast<int>(error->type), error->code)
                              .c_str());
      } else if (const auto* failed = std::get_if<stack::EchoNeighborFailed>(&event)) {
        std::printf("%s", fmt::format("From {} icmp_seq={}: Destination Host Unreachable\n",
                                      failed->next_hop, failed->seq)
                              .c_str());
      }
    }
  }

  stack::EchoSession echo_;
  wire::Ipv4Address next_hop_;
  int count_;
  int sent_ = 0;
  int received_ = 0;
  MonoTime next_send_{};
  std::optional<MonoTime> last_deadline_;
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mini_ping DESTINATION [COUNT]\n");
    return 2;
  }
  const auto dst = wire::Ipv4Address::parse(argv[1]);
  if (!dst) {
    std::fprintf(stderr, "mini_ping: %s: not an IPv4 address\n", argv[1]);
    return 2;
  }
  const int count = argc > 2 ? std::atoi(argv[2]) : 3;

  auto route = os::route_to(*dst);
  if (!route) {
    std::fprintf(stderr, "mini_ping: %s: %s\n", argv[1], route.error().message().c_str());
    return 2;
  }
  auto device = link::open_device(route->interface.capture_device, {});
  if (!device) {
    std::fprintf(stderr, "mini_ping: %s: %s\n", route->interface.name.c_str(),
                 device.error().message().c_str());
    return 2;
  }
  (void)link::drop_privileges();  // the socket is open: nothing else needs them

  stack::HostConfig config;
  config.mac = route->interface.mac;
  config.address = route->source;
  config.mtu = route->interface.mtu ? route->interface.mtu : 1500;
  stack::Host host(config);

  stack::EchoConfig echo;
  echo.source = route->source;
  echo.target = *dst;
  echo.ident = 0x4d50;
  echo.cookie = 0x6d696e695f70696eULL;
  MiniPing app(echo, route->next_hop, count);

  runtime::SystemClock clock;
  runtime::signals::install();
  runtime::Runtime rt(**device, host, clock);
  std::printf(
      "%s",
      fmt::format("PING {} from {} {}\n", *dst, route->source, route->interface.name).c_str());
  if (auto ran = rt.run(app); !ran) {
    std::fprintf(stderr, "mini_ping: %s\n", ran.error().message().c_str());
    return 2;
  }
  std::printf("%d packets transmitted, %d received\n", count, app.received());
  return app.received() > 0 ? 0 : 1;
}
