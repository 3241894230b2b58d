// ersatz ping: a drop-in for iputils ping, on ersatz's own Ethernet, ARP,
// IPv4 and ICMP. Flags, output lines and exit codes follow iputils
// (20221126); only the times differ.
#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ersatz/link/bpf.hpp>
#include <ersatz/link/open_device.hpp>
#include <ersatz/link/privileges.hpp>
#include <ersatz/link/tracer.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <ersatz/stack/echo.hpp>
#include <ersatz/stack/host.hpp>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "command.hpp"

namespace ersatz::tools {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;
namespace icmpv4 = wire::icmpv4;
namespace ipv4 = wire::ipv4;

struct PingOptions {
  std::string host;
  std::optional<long> count;
  double interval = 1.0;
  long size = 56;
  int ttl = 64;
  std::optional<double> timeout;   // -W: how long to wait for the last reply
  std::optional<double> deadline;  // -w: stop after this many seconds
  bool quiet = false;
  bool flood = false;
  std::string interface;  // -I: name or address
  bool numeric = false;
  bool print_timestamps = false;    // -D
  bool report_outstanding = false;  // -O
  std::string pattern;              // -p, hex
  std::string pmtu;                 // -M do|dont|want
  int tos = 0;                      // -Q
  bool verbose = false;
  bool json = false;
  LinkFlags link;
  bool busy_poll = false;
};

// ---------------------------------------------------------------- stats

/// The counters of iputils' finish(): times in microseconds.
struct PingStats {
  long transmitted = 0;
  long received = 0;
  long duplicates = 0;
  long corrupted = 0;
  long errors = 0;
  long long tmin = 0;
  long long tmax = 0;
  long long tsum = 0;
  long long tsum2 = 0;
  long long timed = 0;
  long pipe = 0;  // most probes outstanding at once

  void add_rtt(long long us) {
    if (timed == 0 || us < tmin) tmin = us;
    if (us > tmax) tmax = us;
    tsum += us;
    tsum2 += us * us;
    ++timed;
  }
};

/// iputils prints a round-trip time with fewer decimals as it grows.
std::string format_rtt(long long us) {
  if (us >= 100000 - 50) return fmt::format("{}", (us + 500) / 1000);
  if (us >= 10000 - 5) return fmt::format("{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100);
  if (us >= 1000) return fmt::format("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10);
  return fmt::format("{}.{:03}", us / 1000, us % 1000);
}

/// iputils' words for an ICMP error (ping.c pr_icmph).
std::string describe_error(icmpv4::Type type, std::uint8_t code, std::uint32_t rest) {
  using icmpv4::Type;
  switch (type) {
    case Type::dst_unreachable:
      switch (code) {
        case 0: return "Destination Net Unreachable";
        case 1: return "Destination Host Unreachable";
        case 2: return "Destination Protocol Unreachable";
        case 3: return "Destination Port Unreachable";
        case 4: return fmt::format("Frag needed and DF set (mtu = {})", rest & 0xffffU);
        case 5: return "Source Route Failed";
        case 6: return "Destination Net Unknown";
        case 7: return "Destination Host Unknown";
        case 8: return "Source Host Isolated";
        case 9: return "Destination Net Prohibited";
        case 10: return "Destination Host Prohibited";
        case 11: return "Destination Net Unreachable for Type of Service";
        case 12: return "Destination Host Unreachable for Type of Service";
        case 13: return "Packet filtered";
        case 14: return "Precedence Violation";
        case 15: return "Precedence Cutoff";
        default: return fmt::format("Dest Unreachable, Bad Code: {}", code);
      }
    case Type::source_quench: return "Source Quench";
    case Type::redirect: {
      const char* what = code == 0   ? "Redirect Network"
                         : code == 1 ? "Redirect Host"
                         : code == 2 ? "Redirect Type of Service and Network"
                         : code == 3 ? "Redirect Type of Service and Host"
                                     : nullptr;
      const std::string head = what ? what : fmt::format("Redirect, Bad Code: {}", code);
      return fmt::format("{}(New nexthop: {})", head, Ipv4Address(rest));
    }
    case Type::time_exceeded:
      if (code == 0) return "Time to live exceeded";
      if (code == 1) return "Frag reassembly time exceeded";
      return fmt::format("Time exceeded, Bad Code: {}", code);
    case Type::param_problem: return fmt::format("Parameter problem: pointer = {}", rest >> 24);
    default: return fmt::format("Bad ICMP type: {}", static_cast<unsigned>(type));
  }
}

// ---------------------------------------------------------------- output

/// What -f shows: a dot for each probe sent, taken back ("\b \b") when it
/// is answered, turned into an E ("\bE") when an error comes back. iputils
/// writes every change at once, two writes per round trip; this keeps the
/// changes not yet written and cancels a dot against the answer that takes
/// it back, so a probe answered before ping next waits costs no write. What
/// the terminal shows is the same; the loop writes before it waits, and at
/// least every flush_every.
class FloodDisplay {
 public:
  static constexpr auto flush_every = std::chrono::milliseconds(50);

  void sent() { pending_ += '.'; }
  void answered() {
    if (ends_with_dot()) {
      pending_.pop_back();
    } else {
      pending_ += "\b \b";
    }
  }
  void failed() {
    if (ends_with_dot()) {
      pending_.back() = 'E';
    } else {
      pending_ += "\bE";
    }
  }
  void flush(MonoTime now) {
    last_flush_ = now;
    if (pending_.empty()) return;
    std::fwrite(pending_.data(), 1, pending_.size(), stdout);
    std::fflush(stdout);
    pending_.clear();
  }
  bool due(MonoTime now) const { return now - last_flush_ >= flush_every; }

 private:
  bool ends_with_dot() const { return !pending_.empty() && pending_.back() == '.'; }
  std::string pending_;
  MonoTime last_flush_{};
};

/// Writes what iputils writes, or JSON Lines with --json.
class PingPrinter {
 public:
  PingPrinter(const PingOptions& o, Ipv4Address target) : o_(o), target_(target) {}

  void header(std::size_t ip_options_len) {
    if (o_.json) return;
    if (!o_.pattern.empty()) fmt::print("PATTERN: 0x{}\n", o_.pattern);
    fmt::print("PING {} ({}) {}({}) bytes of data.\n", o_.host, target_, o_.size,
               o_.size + 8 + 20 + static_cast<long>(ip_options_len));
    std::fflush(stdout);
  }

  void sent() {
    // -q silences -f's dots too, as in iputils.
    if (o_.flood && !o_.json && !o_.quiet) flood_.sent();
  }

  /// Writes what -f has not shown yet: before a wait, or when `force`d.
  void flush_flood(MonoTime now, bool force) {
    if (o_.flood && (force || flood_.due(now))) flood_.flush(now);
  }

  void reply(const stack::EchoReply& r) {
    if (o_.json) {
      fmt::print("{{\"seq\":{},\"from\":\"{}\",\"bytes\":{},\"ttl\":{}", r.seq, r.from, r.icmp_len,
                 r.ttl);
      if (r.rtt) fmt::print(",\"rtt_ms\":{:.3f}", r.rtt->count() / 1e6);
      fmt::print(",\"duplicate\":{}", r.duplicate);
      if (r.bad_checksum) fmt::print(",\"bad_checksum\":true");
      fmt::print("}}\n");
      return;
    }
    if (o_.quiet) return;
    if (o_.flood) {
      if (!r.duplicate) flood_.answered();
      return;
    }
    prefix(r.ts);
    fmt::print("{} bytes from {}: icmp_seq={} ttl={}", r.icmp_len, r.from, r.seq, r.ttl);
    if (r.rtt) fmt::print(" time={} ms", format_rtt(std::max<long long>(0, r.rtt->count() / 1000)));
    if (r.duplicate) fmt::print(" (DUP!)");
    if (r.bad_checksum) fmt::print(" (BAD CHECKSUM!)");
    if (r.wrong_byte) {
      fmt::print("\nwrong data byte #{} should be 0x{:x} but was 0x{:x}", r.wrong_byte->index,
                 r.wrong_byte->expected, r.wrong_byte->got);
    }
    fmt::print("\n");
    std::fflush(stdout);
  }

  void error(std::uint16_t seq, Ipv4Address from, const std::string& what, Timestamp ts) {
    if (o_.json) {
      fmt::print("{{\"seq\":{},\"from\":\"{}\",\"error\":\"{}\"}}\n", seq, from, what);
      return;
    }
    if (o_.quiet) return;
    if (o_.flood) {
      flood_.failed();
      return;
    }
    prefix(ts);
    fmt::print("From {} icmp_seq={} {}\n", from, seq, what);
    std::fflush(stdout);
  }

  void local_error(const std::string& what) {
    if (o_.json) {
      fmt::print("{{\"error\":\"local error: {}\"}}\n", what);
      return;
    }
    fmt::print(stderr, "ping: local error: {}\n", what);
  }

  void no_answer(std::uint16_t seq) {
    if (o_.json || o_.quiet || o_.flood) return;
    prefix(wall_now());
    fmt::print("no answer yet for icmp_seq={}\n", seq);
  }

  void lost(std::uint16_t seq) {
    if (o_.json) fmt::print("{{\"seq\":{},\"lost\":true}}\n", seq);
  }

  void summary(const PingStats& s, std::chrono::nanoseconds elapsed, bool show_rtt) {
    const long time_ms = static_cast<long>((elapsed.count() + 500000) / 1000000);
    const double loss =
        s.transmitted ? (s.transmitted - s.received) * 100.0 / static_cast<double>(s.transmitted)
                      : 0;
    const long long n = s.timed;
    const long long mean = n ? s.tsum / n : 0;
    const long long mdev = n ? static_cast<long long>(std::sqrt(
                                   static_cast<double>(std::max(0LL, s.tsum2 / n - mean * mean))))
                             : 0;
    if (o_.json) {
      fmt::print(
          "{{\"summary\":true,\"transmitted\":{},\"received\":{},\"duplicates\":{},\"corrupted\":{}"
          ",\"errors\":{},"
          "\"loss_pct\":{:g},\"time_ms\":{}",
          s.transmitted, s.received, s.duplicates, s.corrupted, s.errors, loss, time_ms);
      if (n) {
        fmt::print(
            ",\"rtt_min_ms\":{:.3f},\"rtt_avg_ms\":{:.3f},\"rtt_max_ms\":{:.3f},\"rtt_mdev_ms\":{:."
            "3f}",
            s.tmin / 1e3, mean / 1e3, s.tmax / 1e3, mdev / 1e3);
      }
      fmt::print("}}\n");
      return;
    }
    flush_flood(MonoClock::now(), true);
    // The leading newline ends the last reply line, or flood's dots.
    fmt::print("\n--- {} ping statistics ---\n", o_.host);
    fmt::print("{} packets transmitted, {} received", s.transmitted, s.received);
    if (s.duplicates) fmt::print(", +{} duplicates", s.duplicates);
    if (s.corrupted) fmt::print(", +{} corrupted", s.corrupted);
    if (s.errors) fmt::print(", +{} errors", s.errors);
    if (s.transmitted) fmt::print(", {:g}% packet loss, time {}ms", loss, time_ms);
    fmt::print("\n");
    bool rtt = false;
    if (s.received && show_rtt && n) {
      fmt::print("rtt min/avg/max/mdev = {}.{:03}/{}.{:03}/{}.{:03}/{}.{:03} ms", s.tmin / 1000,
                 s.tmin % 1000, mean / 1000, mean % 1000, s.tmax / 1000, s.tmax % 1000, mdev / 1000,
                 mdev % 1000);
      rtt = true;
    }
    if (s.pipe > 1) fmt::print("{}pipe {}", rtt ? ", " : "", s.pipe);
    if (s.received && o_.flood && s.transmitted > 1) {
      const long long ipg = elapsed.count() / 1000 / (s.transmitted - 1);
      fmt::print(", ipg/ewma {}.{:03}/{}.{:03} ms", ipg / 1000, ipg % 1000, mean / 1000,
                 mean % 1000);
    }
    fmt::print("\n");
    std::fflush(stdout);
  }

  /// SIGQUIT: iputils' interim status line, on stderr.
  void status(const PingStats& s) {
    flush_flood(MonoClock::now(), true);
    const long loss = s.transmitted ? (s.transmitted - s.received) * 100 / s.transmitted : 0;
    fmt::print(stderr, "\r{}/{} packets, {}% loss", s.received, s.transmitted, loss);
    if (s.timed) {
      const long long mean = s.tsum / s.timed;
      fmt::print(stderr, ", min/avg/ewma/max = {}.{:03}/{}.{:03}/{}.{:03}/{}.{:03} ms",
                 s.tmin / 1000, s.tmin % 1000, mean / 1000, mean % 1000, mean / 1000, mean % 1000,
                 s.tmax / 1000, s.tmax % 1000);
    }
    fmt::print(stderr, "\n");
  }

 private:
  void prefix(Timestamp ts) {
    if (o_.print_timestamps) fmt::print("[{}.{:06}] ", ts.sec, ts.nsec / 1000);
  }
  const PingOptions& o_;
  Ipv4Address target_;
  FloodDisplay flood_;
};

// ---------------------------------------------------------------- setup

std::optional<std::vector<std::uint8_t>> parse_pattern(const std::string& hex) {
  // iputils: up to 16 bytes of hex.
  if (hex.empty() || hex.size() > 32) return std::nullopt;
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const std::string byte = hex.substr(i, 2);
    char* end = nullptr;
    const unsigned long v = std::strtoul(byte.c_str(), &end, 16);
    if (end == byte.c_str() || *end != '\0') return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

// ---------------------------------------------------------------- the loop

/// ping as an application of the runtime: when to send, what the replies
/// mean, and iputils' counters. The runtime owns the device, the Host, the
/// clock and the waiting.
class PingApp final : public runtime::Application {
 public:
  PingApp(const PingOptions& o, Ipv4Address target, const os::RouteDecision& route,
          std::vector<std::uint8_t> pattern, std::mt19937& rng)
      : o_(o),
        target_(target),
        route_(route),
        printer_(o, target),
        session_(echo_config(std::move(pattern), rng)) {
    interval_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o.interval));
    if (o.flood && interval_ == std::chrono::nanoseconds::zero()) interval_ = 10ms;
    linger_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o.timeout.value_or(10.0)));
  }

  /// The exit code, once the run is over.
  int finish() {
    // Sequence numbers wrap at 65536: only the last lap can still be told.
    const long first = std::max(1L, stats_.transmitted - 65535);
    for (long n = first; n <= stats_.transmitted && o_.json; ++n) {
      const auto seq = static_cast<std::uint16_t>(n);
      if (!session_.answered(seq) && !errored_.count(seq)) printer_.lost(seq);
    }
    printer_.summary(stats_, last_send_ - first_send_,
                     o_.size >= static_cast<long>(stack::echo_timeval_len));
    if (stats_.received == 0) return exit_failure;
    if (o_.deadline && o_.count && stats_.received < *o_.count) return exit_failure;
    return exit_ok;
  }

  void start(runtime::Runtime& rt) override {
    printer_.header(0);
    start_ = rt.now();
    next_send_ = start_;
    if (o_.deadline)
      end_ = start_ + std::chrono::duration_cast<MonoClock::duration>(
                          std::chrono::duration<double>(*o_.deadline));
  }

  std::optional<MonoTime> poll(runtime::Runtime& rt) override {
    const MonoTime now = rt.now();
    if (may_send() && now >= next_send_ && !finished(rt)) send(rt);
    printer_.flush_flood(now, false);
    std::optional<MonoTime> t;
    auto earliest = [&](MonoTime c) { t = t ? std::min(*t, c) : c; };
    if (may_send()) earliest(next_send_);
    if (end_) earliest(*end_);
    if (!may_send()) earliest(last_send_mono_ + linger_);
    return t;
  }

  bool finished(const runtime::Runtime& rt) const override {
    const MonoTime now = rt.now();
    if (end_ && now >= *end_) return true;
    if (!o_.count || may_send()) return false;
    if (stats_.received + stats_.errors >= *o_.count) return true;
    return now >= last_send_mono_ + linger_;
  }

  void idle(runtime::Runtime& rt) override { printer_.flush_flood(rt.now(), true); }
  void on_status_request(runtime::Runtime& /*rt*/) override { printer_.status(stats_); }

  void on_icmp(runtime::Runtime& /*rt*/, const stack::IcmpDelivery& d) override {
    session_.on_icmp(d);
    handle_events();
  }
  void on_neighbor_failed(runtime::Runtime& /*rt*/, Ipv4Address next_hop,
                          std::span<const stack::Datagram> datagrams) override {
    session_.on_neighbor_failed(next_hop, datagrams);
    handle_events();
  }

  /// A probe left: its round trip counts from here, the kernel's stamp
  /// when the device gives one (iputils stamps just before sendmsg).
  void on_sent(runtime::Runtime& /*rt*/, ConstBytes head, Timestamp ts,
               bool /*from_kernel*/) override {
    if (auto seq = probe_seq(head)) session_.restamp(*seq, ts);
  }
  void on_send_error(runtime::Runtime& /*rt*/, const std::error_code& e) override {
    printer_.local_error(e.message());
  }

 private:
  static stack::EchoConfig echo_config(std::vector<std::uint8_t> pattern, std::mt19937& rng,
                                       const PingOptions& o, Ipv4Address source,
                                       Ipv4Address target) {
    stack::EchoConfig c;
    c.source = source;
    c.target = target;
    // Random, not the PID: two pings on one host must not share it.
    c.ident = static_cast<std::uint16_t>(rng());
    c.cookie = (std::uint64_t{rng()} << 32) | rng();
    c.data_len = static_cast<std::size_t>(o.size);
    c.pattern = std::move(pattern);
    return c;
  }
  stack::EchoConfig echo_config(std::vector<std::uint8_t> pattern, std::mt19937& rng) const {
    return echo_config(std::move(pattern), rng, o_, route_.source, target_);
  }

  /// The sequence number of our echo request at the start of a sent frame.
  std::optional<std::uint16_t> probe_seq(ConstBytes head) const {
    auto eth = wire::ethernet::Packet<>::checked(head);
    if (!eth) return std::nullopt;
    auto e = wire::ethernet::Repr::parse(*eth);
    if (!e || e->ethertype != wire::EtherType::ipv4) return std::nullopt;
    auto ip = ipv4::Header<>::checked(head.subspan(e->header_len()));
    if (!ip || ip->protocol() != ipv4::Protocol::icmp || ip->frag_offset() != 0)
      return std::nullopt;
    auto icmp = icmpv4::Header<>::checked(head.subspan(e->header_len() + ip->header_len()));
    if (!icmp || icmp->type() != icmpv4::Type::echo_request ||
        icmp->ident() != session_.config().ident)
      return std::nullopt;
    return icmp->seq();
  }

  bool may_send() const { return !o_.count || stats_.transmitted < *o_.count; }

  void send(runtime::Runtime& rt) {
    const MonoTime now = rt.now();
    const auto seq = static_cast<std::uint16_t>(stats_.transmitted + 1);
    if (o_.report_outstanding && stats_.transmitted > 0 &&
        !session_.answered(static_cast<std::uint16_t>(seq - 1))) {
      printer_.no_answer(static_cast<std::uint16_t>(seq - 1));
    }
    errored_.erase(seq);  // a new lap of the sequence space
    const Timestamp wall = rt.wall();
    const ConstBytes msg = session_.request(seq, wall);
    ipv4::Repr r;
    r.src = route_.source;
    r.dst = target_;
    r.protocol = ipv4::Protocol::icmp;
    r.ttl = static_cast<std::uint8_t>(o_.ttl);
    r.tos = static_cast<std::uint8_t>(o_.tos);
    // -M do: DF always, so an oversize probe is a local error; dont: never.
    // want (the kernel's default for ping) sets DF on what fits the path
    // MTU known so far and fragments the rest.
    if (o_.pmtu == "do") {
      r.dont_fragment = true;
    } else if (o_.pmtu == "dont") {
      r.dont_fragment = false;
    } else {
      r.dont_fragment = static_cast<std::size_t>(o_.size) + 28 <= rt.host().path_mtu(target_, now);
    }
    ++stats_.transmitted;
    if (stats_.transmitted == 1) first_send_ = std::chrono::nanoseconds(wall.ns());
    last_send_ = std::chrono::nanoseconds(wall.ns());
    last_send_mono_ = now;
    auto sent = rt.send(r, msg, route_.next_hop);
    if (!sent && sent.error() == std::errc::message_size) {
      printer_.local_error(
          fmt::format("message too long, mtu={}", rt.host().path_mtu(target_, now)));
      ++stats_.errors;
      errored_.insert(seq);
    }
    // Out now, so that the probe's departure is stamped before anything
    // else happens in this turn.
    rt.flush();
    printer_.sent();
    outstanding_ = stats_.transmitted - stats_.received - stats_.errors;
    stats_.pipe = std::max(stats_.pipe, outstanding_);
    next_send_ = o_.flood ? now + interval_ : start_ + interval_ * stats_.transmitted;
  }

  void handle_events() {
    for (auto& ev : session_.take_events()) {
      if (auto* r = std::get_if<stack::EchoReply>(&ev)) {
        if (r->duplicate) {
          ++stats_.duplicates;
        } else {
          ++stats_.received;
          if (r->rtt) stats_.add_rtt(std::max<long long>(0, r->rtt->count() / 1000));
          // Flood: the next probe leaves as soon as this one is answered.
          if (o_.flood && r->seq == static_cast<std::uint16_t>(stats_.transmitted))
            next_send_ = MonoTime{};  // due at once
        }
        if (r->bad_checksum) ++stats_.corrupted;
        printer_.reply(*r);
      } else if (auto* e = std::get_if<stack::EchoError>(&ev)) {
        ++stats_.errors;
        errored_.insert(e->seq);
        printer_.error(e->seq, e->from, describe_error(e->type, e->code, e->rest), e->ts);
      } else if (auto* n = std::get_if<stack::EchoNeighborFailed>(&ev)) {
        // As the kernel does: our own address reports the failure.
        ++stats_.errors;
        errored_.insert(n->seq);
        printer_.error(n->seq, route_.source, "Destination Host Unreachable", wall_now());
      }
    }
  }

  const PingOptions& o_;
  Ipv4Address target_;
  os::RouteDecision route_;
  PingPrinter printer_;
  stack::EchoSession session_;
  PingStats stats_;
  std::set<std::uint16_t> errored_;
  std::chrono::nanoseconds interval_{};
  std::chrono::nanoseconds linger_{};
  MonoTime start_{};
  MonoTime next_send_{};
  MonoTime last_send_mono_{};
  std::optional<MonoTime> end_;
  std::chrono::nanoseconds first_send_{};
  std::chrono::nanoseconds last_send_{};
  long outstanding_ = 0;
};

int run_ping(PingOptions& o) {
  const auto target = resolve_ipv4(o.host);
  if (!target) {
    fmt::print(stderr, "ping: {}: {}\n", o.host, target.error());
    return exit_usage;
  }
  std::vector<std::uint8_t> pattern;
  if (!o.pattern.empty()) {
    auto p = parse_pattern(o.pattern);
    if (!p) {
      fmt::print(stderr, "ping: patterns must be specified as hex digits: {}\n", o.pattern);
      return exit_usage;
    }
    pattern = *p;
  }
  if (o.size < 0 || o.size > 65507) {
    fmt::print(stderr, "ping: invalid argument: '{}': out of range: 0 <= value <= 65507\n", o.size);
    return exit_usage;
  }
  if (o.flood && o.interval == 1.0) o.interval = 0;
  auto route = choose_route(o.interface, *target);
  if (!route) {
    fmt::print(stderr, "ping: connect: {}\n", route.error().message());
    return exit_usage;
  }
  link::DeviceOptions dev_options;
  // A flood waits for each answer: a per-frame ring hands a reply over the
  // moment it lands, without a system call (a TPACKET_V3 block would hold
  // it until its timer). A ring costs an RCU grace period to set up,
  // though, which a ping a second does not win back: it reads the socket.
  const bool fast = o.flood || o.interval < 0.05;
  dev_options.rx_ring = fast ? link::RxRing::frames : link::RxRing::none;
  dev_options.tx_mode = link::TxMode::send;
  // Round trips count from the kernel's departure stamp, as replies count
  // from its arrival stamp. Reading a stamp back costs a system call per
  // probe, which would halve a flood; a flood keeps iputils' way (the time
  // just after send()), and shows its round trips only in the summary.
  dev_options.tx_timestamps = !o.flood;
  auto opened = open_link(*route, o.link, dev_options);
  if (!opened) return exit_usage;  // iputils exits 2 whatever kept the socket from opening
  link::Device* device = &opened->use();
  runtime::signals::install();
  std::mt19937 rng(std::random_device{}());
  stack::Host host(host_config(*route, static_cast<std::uint16_t>(rng())));
  runtime::SystemClock clock;
  runtime::RuntimeOptions rt_options;
  rt_options.report_sent = true;
  rt_options.busy_poll = o.busy_poll;
  runtime::Runtime rt(*device, host, clock, rt_options);
  PingApp app(o, *target, *route, std::move(pattern), rng);
  if (auto r = rt.run(app); !r) {
    error_line(fmt::format("{}: {}", device->capabilities().name, r.error().message()));
    return exit_usage;
  }
  const int status = app.finish();
  defer_link_teardown();
  return status;
}

}  // namespace

Command register_ping(CLI::App& parent) {
  auto o = std::make_shared<PingOptions>();
  CLI::App* app = parent.add_subcommand("ping", "Send ICMP echo requests, like iputils ping");
  app->add_option("host", o->host, "Destination: an IPv4 address or a host name")->required();
  app->add_option("-c", o->count, "Stop after sending COUNT probes")
      ->check(CLI::PositiveNumber)
      ->option_text("COUNT");
  app->add_option("-i", o->interval, "Seconds between probes")
      ->check(CLI::NonNegativeNumber)
      ->option_text("INTERVAL");
  app->add_option("-s", o->size, "Data bytes per probe (default 56)")->option_text("SIZE");
  app->add_option("-t", o->ttl, "IP time to live")->check(CLI::Range(1, 255))->option_text("TTL");
  app->add_option("-W", o->timeout, "Seconds to wait for a reply")
      ->check(CLI::NonNegativeNumber)
      ->option_text("TIMEOUT");
  app->add_option("-w", o->deadline, "Stop after DEADLINE seconds")
      ->check(CLI::NonNegativeNumber)
      ->option_text("DEADLINE");
  app->add_flag("-q", o->quiet, "Quiet: only the summary");
  app->add_flag("-f", o->flood, "Flood: as fast as replies come, or 100 per second");
  app->add_option("-I", o->interface, "Interface name or source address")->option_text("IFACE");
  app->add_flag("-n", o->numeric, "Numeric output only (ersatz never resolves replies)");
  app->add_flag("-D", o->print_timestamps, "Print timestamps before each line");
  app->add_flag("-O", o->report_outstanding,
                "Report outstanding replies before sending the next probe");
  app->add_option("-p", o->pattern, "Fill the data with up to 16 bytes of hex")
      ->option_text("PATTERN");
  app->add_option("-M", o->pmtu, "Path MTU discovery: do (DF, no fragments), dont, want")
      ->check(CLI::IsMember({"do", "dont", "want"}))
      ->option_text("do|dont|want");
  app->add_option("-Q", o->tos, "Type of service byte")
      ->check(CLI::Range(0, 255))
      ->option_text("TOS");
  app->add_flag("-v", o->verbose, "Verbose");
  app->add_flag("--json", o->json, "JSON Lines: one object per probe, then a summary");
  app->add_option("--backend", o->link.backend, "Raw device backend: afpacket, pcap or auto")
      ->option_text("NAME");
  app->add_flag("--busy-poll", o->busy_poll,
                "Spin on the receive ring instead of sleeping: lowest latency, one core busy");
  app->add_option("--pcap-out", o->link.pcap_out, "Write every frame sent and received to FILE")
      ->option_text("FILE");
  return Command{app, [o] { return run_ping(*o); }};
}

}  // namespace ersatz::tools
