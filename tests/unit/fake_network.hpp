// A Device whose far side is a scripted network, for the runtime and sweep
// tests: a router that answers ARP for itself and ICMP echo for whichever
// addresses the test says are alive, after a round-trip delay on a fake
// clock; it can lose, duplicate, or answer with ICMP errors, and the test
// can inject any frame at any time. No privileges, no real time.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "ersatz/link/device.hpp"
#include "ersatz/runtime/runtime.hpp"
#include "ersatz/wire/arp.hpp"
#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/icmpv4.hpp"
#include "ersatz/wire/ipv4.hpp"

namespace ersatz::test {

class FakeNetwork final : public link::Device {
 public:
  struct Error {
    wire::icmpv4::Type type;
    std::uint8_t code;
    std::size_t quote_data = 1024;  ///< bytes of the datagram's data quoted (RFC 792: 8)
  };
  struct Config {
    wire::MacAddress our_mac{{0x02, 0, 0, 0, 0, 0x01}};
    wire::MacAddress router_mac{{0x02, 0, 0, 0, 0, 0xfe}};
    wire::Ipv4Address router_ip{198, 18, 0, 254};
    /// On-link addresses that answer ARP (besides the router).
    std::function<bool(wire::Ipv4Address)> on_link = [](wire::Ipv4Address) { return false; };
    std::function<bool(wire::Ipv4Address)> alive = [](wire::Ipv4Address) { return true; };
    std::function<std::optional<Error>(wire::Ipv4Address)> error_for = [](wire::Ipv4Address) {
      return std::optional<Error>{};
    };
    std::chrono::nanoseconds rtt{std::chrono::microseconds(100)};
    double loss = 0;         ///< of echo requests
    bool duplicate = false;  ///< every reply twice
    bool tx_stamps = false;  ///< report kernel-like TX stamps (1 µs after the send)
    /// How long transmit() takes its caller after the frame has left, as
    /// a send through libpcap can take longer than a veth round trip.
    std::chrono::nanoseconds send_cost{0};
    std::uint64_t seed = 1;
    /// Sees every IPv4 datagram first (traceroute's tests script a path
    /// with it); true when it handled the datagram.
    std::function<bool(const wire::ipv4::Packet<>&, FakeNetwork&)> ip_hook;
  };

  FakeNetwork(runtime::FakeClock& clock, Config config)
      : clock_(clock), config_(std::move(config)) {
    caps_.name = "fake0";
    caps_.mac = config_.our_mac;
    caps_.kernel_timestamps = true;
    caps_.tx_timestamps = config_.tx_stamps;
    rng_.seed(config_.seed);
  }

  Result<std::optional<link::RxFrame>> receive(MonoTime deadline) override {
    if (queue_.empty()) return std::optional<link::RxFrame>{};
    auto it = queue_.begin();
    if (it->first > clock_.now()) {
      // A blocking wait sees the frame when it is due; a poll does not.
      if (it->first > deadline) return std::optional<link::RxFrame>{};
      clock_.idle_until(it->first);
    }
    // Stamped as a kernel stamps it: when it arrived, however late it is read.
    const MonoTime arrived = it->first;
    current_ = std::move(it->second);
    queue_.erase(it);
    return link::RxFrame{ConstBytes(current_.data(), current_.size()),
                         static_cast<std::uint32_t>(current_.size()), clock_.wall_at(arrived)};
  }

  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override {
    std::vector<std::byte> f(len);
    fill(MutBytes(f.data(), f.size()));
    ++tx_count_;
    sent_times_.push_back(clock_.now());
    if (config_.tx_stamps)
      stamps_.push_back(
          {tx_count_ - 1, clock_.wall_at(clock_.now() + std::chrono::microseconds(1))});
    respond(f);
    sent_.push_back(std::move(f));
    clock_.advance(config_.send_cost);
    return {};
  }
  Result<void> flush() override {
    ++flushes_;
    return {};
  }
  std::uint64_t tx_count() const noexcept override { return tx_count_; }
  Result<void> tx_timestamps(FunctionRef<void(std::uint64_t, Timestamp)> on_stamp) override {
    for (const auto& s : stamps_) on_stamp(s.first, s.second);
    stamps_.clear();
    return {};
  }
  const link::Capabilities& capabilities() const noexcept override { return caps_; }

  /// Queues a frame for us at `due` (default: now).
  void inject(std::vector<std::byte> frame, std::optional<MonoTime> due = {}) {
    queue_.emplace(due.value_or(clock_.now()), std::move(frame));
  }

  const std::vector<std::vector<std::byte>>& sent() const noexcept { return sent_; }
  const std::vector<MonoTime>& sent_times() const noexcept { return sent_times_; }
  std::uint64_t flushes() const noexcept { return flushes_; }
  std::uint64_t echo_requests() const noexcept { return echo_requests_; }
  Config& config() noexcept { return config_; }

  // ---- frame builders, for tests that inject
  std::vector<std::byte> ethernet(wire::MacAddress src, wire::EtherType type, ConstBytes l3) const {
    wire::ethernet::Repr e;
    e.dst = config_.our_mac;
    e.src = src;
    e.ethertype = type;
    std::vector<std::byte> f(e.buffer_len(l3.size()));
    e.emit(MutBytes(f.data(), f.size()), l3.size());
    std::copy(l3.begin(), l3.end(), f.begin() + static_cast<std::ptrdiff_t>(e.header_len()));
    return f;
  }
  std::vector<std::byte> ip_frame(wire::Ipv4Address src, wire::Ipv4Address dst,
                                  const wire::icmpv4::Repr& icmp, std::uint8_t ttl = 63) const {
    std::vector<std::byte> msg(icmp.buffer_len());
    icmp.emit(MutBytes(msg.data(), msg.size()));
    wire::ipv4::Repr r;
    r.src = src;
    r.dst = dst;
    r.protocol = wire::ipv4::Protocol::icmp;
    r.ttl = ttl;
    r.payload_len = msg.size();
    std::vector<std::byte> d(r.buffer_len());
    r.emit(MutBytes(d.data(), d.size()));
    std::copy(msg.begin(), msg.end(), d.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
    return ethernet(config_.router_mac, wire::EtherType::ipv4, ConstBytes(d.data(), d.size()));
  }

 private:
  void respond(const std::vector<std::byte>& f) {
    const ConstBytes frame(f.data(), f.size());
    auto eth = wire::ethernet::Packet<>::checked(frame);
    if (!eth) return;
    auto e = wire::ethernet::Repr::parse(*eth);
    if (!e) return;
    const ConstBytes l3 = frame.subspan(e->header_len());
    const MonoTime due = clock_.now() + config_.rtt;
    if (e->ethertype == wire::EtherType::arp) {
      auto a = wire::arp::Packet<>::checked(l3);
      if (!a) return;
      auto r = wire::arp::Repr::parse(*a);
      if (!r || r->operation != wire::arp::Operation::request) return;
      wire::MacAddress mac;
      if (r->target_ip == config_.router_ip) {
        mac = config_.router_mac;
      } else if (config_.on_link(r->target_ip)) {
        mac = wire::MacAddress({0x02, 0x0a, r->target_ip.octet(0), r->target_ip.octet(1),
                                r->target_ip.octet(2), r->target_ip.octet(3)});
      } else {
        return;
      }
      const wire::arp::Repr reply{wire::arp::Operation::reply, mac, r->target_ip, r->source_hw,
                                  r->source_ip};
      std::array<std::byte, wire::arp::Repr::buffer_len()> buf{};
      reply.emit(buf);
      queue_.emplace(due, ethernet(mac, wire::EtherType::arp, buf));
      return;
    }
    if (e->ethertype != wire::EtherType::ipv4) return;
    auto ip = wire::ipv4::Packet<>::checked(l3);
    if (ip && config_.ip_hook && config_.ip_hook(*ip, *this)) return;
    if (!ip || ip->protocol() != wire::ipv4::Protocol::icmp) return;
    auto icmp = wire::icmpv4::Packet<>::checked(ip->payload());
    if (!icmp || icmp->type() != wire::icmpv4::Type::echo_request) return;
    ++echo_requests_;
    const wire::Ipv4Address dst = ip->dst();
    if (auto err = config_.error_for(dst)) {
      const std::size_t quote_len =
          std::min(ip->datagram().size(), ip->header_len() + err->quote_data);
      const ConstBytes quote = ip->datagram().first(quote_len);
      wire::icmpv4::Repr r{err->type, err->code, 0, quote};
      queue_.emplace(due, ip_frame(config_.router_ip, ip->src(), r));
      return;
    }
    if (!config_.alive(dst)) return;
    if (config_.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < config_.loss)
      return;
    const auto reply = wire::icmpv4::Repr::echo_reply(icmp->ident(), icmp->seq(), icmp->data());
    auto frame_out = ip_frame(dst, ip->src(), reply);
    if (config_.duplicate) queue_.emplace(due, frame_out);
    queue_.emplace(due, std::move(frame_out));
  }

  runtime::FakeClock& clock_;
  Config config_;
  link::Capabilities caps_;
  std::multimap<MonoTime, std::vector<std::byte>> queue_;
  std::vector<std::byte> current_;
  std::vector<std::vector<std::byte>> sent_;
  std::vector<MonoTime> sent_times_;
  std::vector<std::pair<std::uint64_t, Timestamp>> stamps_;
  std::uint64_t tx_count_ = 0;
  std::uint64_t flushes_ = 0;
  std::uint64_t echo_requests_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace ersatz::test
