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
#include "numbers.hpp"

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
  bool record_route = false;    // -R
  std::string timestamp;        // -T tsonly|tsandaddr
  std::optional<long> preload;  // -l
  bool adaptive = false;        // -A
  bool broadcast = false;       // -b
  std::optional<long> ident;    // -e
  bool audible = false;         // -a
  bool strict_source = false;   // -B
  bool dont_route = false;      // -r
  bool latency = false;         // -U
  bool json = false;
  LinkFlags link;
  bool busy_poll = false;
};

/// The numeric flags as typed: read after parsing, as iputils reads them,
/// so that a bad value gets iputils' line and exit code.
struct PingArgs {
  std::optional<std::string> count, interval, size, ttl, timeout, deadline, tos, preload, ident;
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
  // Frames the kernel threw away because the receive ring was full: replies
  // lost on this host, not on the network (a flood of other frames, or a
  // starved CPU).
  unsigned long long kernel_drops = 0;

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

// ---------------------------------------------------------------- IP options

/// The IP options ping sends with -R and -T, as iputils asks the kernel
/// for them, with the first slot filled as the kernel fills it on output
/// (ip_options_build): our address for record route (RFC 791 §3.1), our
/// time, and for tsandaddr our address, for the timestamp (RFC 791 §3.1,
/// milliseconds since midnight UT).
class PingOptionsBuilder {
 public:
  enum class Kind { none, record_route, ts_only, ts_and_addr };
  static constexpr std::size_t space = 40;  // MAX_IPOPTLEN: what the header shows

  explicit PingOptionsBuilder(Kind kind) : kind_(kind) {}
  bool any() const noexcept { return kind_ != Kind::none; }

  /// The option bytes for a probe sent at `wall` from `source`.
  ConstBytes build(Ipv4Address source, Timestamp wall) {
    bytes_.fill(std::byte{0});
    auto put32 = [&](std::size_t at, std::uint32_t v) { store_be32(bytes_, at, v); };
    switch (kind_) {
      case Kind::none: return {};
      case Kind::record_route:
        // A NOP, then RR: length 39, nine slots, the first one ours.
        bytes_[0] = std::byte{1};
        bytes_[1] = std::byte{7};
        bytes_[2] = std::byte{39};
        bytes_[3] = std::byte{8};
        put32(4, source.value());
        return ConstBytes(bytes_);
      case Kind::ts_only:
      case Kind::ts_and_addr: {
        const bool addr = kind_ == Kind::ts_and_addr;
        const auto ms = static_cast<std::uint32_t>((wall.sec % 86400) * 1000 + wall.nsec / 1000000);
        bytes_[0] = std::byte{0x44};
        bytes_[1] = std::byte{static_cast<std::uint8_t>(addr ? 36 : 40)};
        bytes_[2] = std::byte{static_cast<std::uint8_t>(addr ? 13 : 9)};
        bytes_[3] = std::byte{static_cast<std::uint8_t>(addr ? 1 : 0)};
        if (addr) {
          put32(4, source.value());
          put32(8, ms);
        } else {
          put32(4, ms);
        }
        return ConstBytes(bytes_);
      }
    }
    return {};
  }

 private:
  Kind kind_;
  std::array<std::byte, space> bytes_{};
};

/// What the receiving host's IP layer writes into record route and
/// timestamp options (RFC 791 §3.1; Linux's ip_options_compile on input):
/// its address in the next free slot, its time, or one more unrecorded hop
/// when the option is full. iputils reads the options after the kernel did
/// this; ersatz is that host here.
std::vector<std::byte> options_as_received(ConstBytes in, Ipv4Address us, Timestamp now) {
  std::vector<std::byte> o(in.begin(), in.end());
  const auto ms = static_cast<std::uint32_t>((now.sec % 86400) * 1000 + now.nsec / 1000000);
  std::size_t i = 0;
  while (i < o.size()) {
    const auto type = static_cast<std::uint8_t>(o[i]);
    if (type == 0) break;
    if (type == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= o.size()) break;
    const std::size_t len = static_cast<std::uint8_t>(o[i + 1]);
    if (len < 4 || len > o.size() - i) break;
    const MutBytes opt(o.data() + i, len);
    const std::size_t ptr = static_cast<std::uint8_t>(opt[2]);
    if (type == 7 && ptr <= len && ptr + 3 <= len) {
      store_be32(opt, ptr - 1, us.value());
      opt[2] = std::byte{static_cast<std::uint8_t>(ptr + 4)};
    } else if (type == 0x44) {
      const auto flags = static_cast<std::uint8_t>(opt[3]);
      const bool addr = (flags & 0x0f) == 1;
      const std::size_t entry = addr ? 8 : 4;
      if (ptr <= len && ptr + entry - 1 <= len) {
        if (addr) store_be32(opt, ptr - 1, us.value());
        store_be32(opt, ptr - 1 + entry - 4, ms);
        opt[2] = std::byte{static_cast<std::uint8_t>(ptr + entry)};
      } else if (ptr > len && (flags >> 4) < 15) {
        opt[3] = std::byte{static_cast<std::uint8_t>(flags + 0x10)};
      }
    }
    i += len;
  }
  return o;
}

/// iputils' pr_options(): the options of a reply, after its line. Record
/// route remembers the last route, to print "(same route)".
class PingOptionsPrinter {
 public:
  std::string text(ConstBytes o, bool flood) {
    std::string out;
    std::size_t i = 0;
    while (i < o.size()) {
      const auto type = static_cast<std::uint8_t>(o[i]);
      if (type == 0) break;  // end of options
      if (type == 1) {
        out += "\nNOP";
        ++i;
        continue;
      }
      if (i + 1 >= o.size()) break;
      const std::size_t len = static_cast<std::uint8_t>(o[i + 1]);
      if (len < 2 || len > o.size() - i) break;
      const ConstBytes opt = o.subspan(i, len);
      switch (type) {
        case 7: record_route(out, opt, flood); break;
        case 0x44: timestamp(out, opt); break;
        case 0x83:
        case 0x89: source_route(out, opt, type == 0x89); break;
        default: out += fmt::format("\nunknown option {:x}", type); break;
      }
      i += len;
    }
    return out;
  }

 private:
  static std::uint32_t word(ConstBytes opt, std::size_t at) {
    return at + 4 <= opt.size() ? load_be32(opt, at) : 0;
  }
  static void address(std::string& out, std::uint32_t a) {
    out += fmt::format("\t{}", Ipv4Address(a));
  }
  void record_route(std::string& out, ConstBytes opt, bool flood) {
    if (opt.size() < 3) return;
    const int len = static_cast<int>(opt.size());
    int recorded = std::min(static_cast<int>(static_cast<std::uint8_t>(opt[2])), len) - 4;
    if (recorded <= 0) return;
    const std::vector<std::byte> route(opt.begin() + 2, opt.begin() + 2 + recorded);
    if (!flood && route == last_route_) {
      out += "\t(same route)";
      return;
    }
    last_route_ = route;
    out += "\nRR: ";
    for (std::size_t at = 3;; at += 4) {
      address(out, word(opt, at));
      recorded -= 4;
      out += '\n';
      if (recorded <= 0) break;
    }
  }
  static void source_route(std::string& out, ConstBytes opt, bool strict) {
    out += fmt::format("\n{}SRR: ", strict ? 'S' : 'L');
    int left = static_cast<int>(opt.size());
    if (left <= 4) return;
    // iputils reads the first address from the pointer byte on: kept.
    for (std::size_t at = 2;; at += 4) {
      address(out, word(opt, at));
      left -= 4;
      out += '\n';
      if (left <= 4) break;
    }
  }
  static void timestamp(std::string& out, ConstBytes opt) {
    if (opt.size() < 4) return;
    const int len = static_cast<int>(opt.size());
    int left = std::min(static_cast<int>(static_cast<std::uint8_t>(opt[2])), len) - 5;
    if (left <= 0) return;
    const auto flags = static_cast<std::uint8_t>(opt[3]);
    out += "\nTS: ";
    long std_time = 0;
    long nonstd_time = 0;
    for (std::size_t at = 4;;) {
      if ((flags & 0x0f) != 0) {
        address(out, word(opt, at));
        at += 4;
        left -= 4;
        if (left <= 0) break;
      }
      const long t = word(opt, at);
      at += 4;
      // The high bit marks a time that is not milliseconds since midnight UT.
      if (t & 0x80000000L) {
        const long v = t & 0x7fffffffL;
        out += nonstd_time == 0 ? fmt::format("\t{} absolute not-standard", v)
                                : fmt::format("\t{} not-standard", v - nonstd_time);
        nonstd_time = v;
      } else {
        out += std_time == 0 ? fmt::format("\t{} absolute", t) : fmt::format("\t{}", t - std_time);
        std_time = t;
      }
      left -= 4;
      out += '\n';
      if (left <= 0) break;
    }
    if (flags >> 4) out += fmt::format("Unrecorded hops: {}\n", flags >> 4);
  }

  std::vector<std::byte> last_route_;
};

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
  PingPrinter(const PingOptions& o, Ipv4Address target, Ipv4Address us)
      : o_(o), target_(target), us_(us) {}

  void header(std::size_t ip_options_len, Ipv4Address source) {
    if (o_.json) return;
    if (!o_.pattern.empty()) fmt::print("PATTERN: 0x{}\n", o_.pattern);
    fmt::print("PING {} ({}) ", o_.host, target_);
    // -B names the source, as iputils does for a source it was given.
    if (o_.strict_source) fmt::print("from {} : ", source);
    fmt::print("{}({}) bytes of data.\n", o_.size,
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
    if (o_.audible) fmt::print("\a");
    if (!r.ip_options.empty()) {
      const auto o = options_as_received(r.ip_options, us_, r.ts);
      fmt::print("{}", options_.text(ConstBytes(o.data(), o.size()), false));
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
          "\"loss_pct\":{:g},\"time_ms\":{},\"kernel_drops\":{}",
          s.transmitted, s.received, s.duplicates, s.corrupted, s.errors, loss, time_ms,
          s.kernel_drops);
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
    if (s.received && (o_.flood || o_.adaptive) && s.transmitted > 1) {
      const long long ipg = elapsed.count() / 1000 / (s.transmitted - 1);
      fmt::print(", ipg/ewma {}.{:03}/{}.{:03} ms", ipg / 1000, ipg % 1000, mean / 1000,
                 mean % 1000);
    }
    fmt::print("\n");
    // Not in iputils, whose kernel socket sees only ICMP; said only when it
    // happened, in tcpdump's words, so that local loss is not taken for the
    // network's.
    if (s.kernel_drops)
      fmt::print("{} frames dropped by kernel (receive ring full)\n", s.kernel_drops);
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
  Ipv4Address us_;
  FloodDisplay flood_;
  PingOptionsPrinter options_;
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
          Ipv4Address next_hop, PingOptionsBuilder::Kind ip_options,
          std::vector<std::uint8_t> pattern, std::mt19937& rng)
      : o_(o),
        target_(target),
        route_(route),
        next_hop_(next_hop),
        ip_options_(ip_options),
        printer_(o, target, route.source),
        session_(echo_config(std::move(pattern), rng)) {
    interval_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o.interval));
    if (o.flood && interval_ == std::chrono::nanoseconds::zero()) interval_ = 10ms;
    linger_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o.timeout.value_or(10.0)));
  }

  /// The exit code, once the run is over; `kernel_drops` is the device's
  /// count of frames lost in a full receive ring.
  int finish(std::uint64_t kernel_drops) {
    stats_.kernel_drops = kernel_drops;
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
    printer_.header(ip_options_.any() ? PingOptionsBuilder::space : 0, route_.source);
    start_ = rt.now();
    next_send_ = start_;
    if (o_.deadline)
      end_ = start_ + std::chrono::duration_cast<MonoClock::duration>(
                          std::chrono::duration<double>(*o_.deadline));
  }

  std::optional<MonoTime> poll(runtime::Runtime& rt) override {
    const MonoTime now = rt.now();
    // A loop for -l: the preload leaves in one turn, before any reply.
    while (may_send() && now >= next_send_ && !finished(rt)) send(rt);
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
    c.ident = o.ident ? static_cast<std::uint16_t>(*o.ident) : static_cast<std::uint16_t>(rng());
    c.cookie = (std::uint64_t{rng()} << 32) | rng();
    c.data_len = static_cast<std::size_t>(o.size);
    c.any_source = o.broadcast;
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
    r.options = ip_options_.build(route_.source, wall);
    // -M do: DF always, so an oversize probe is a local error; dont: never.
    // want (the kernel's default for ping) sets DF on what fits the path
    // MTU known so far and fragments the rest.
    if (o_.pmtu == "do") {
      r.dont_fragment = true;
    } else if (o_.pmtu == "dont") {
      r.dont_fragment = false;
    } else {
      r.dont_fragment = r.header_len() + 8 + static_cast<std::size_t>(o_.size) <=
                        rt.host().path_mtu(target_, now);
    }
    ++stats_.transmitted;
    if (stats_.transmitted == 1) first_send_ = std::chrono::nanoseconds(wall.ns());
    last_send_ = std::chrono::nanoseconds(wall.ns());
    last_send_mono_ = now;
    auto sent = rt.send(r, msg, next_hop_);
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
    // -l: the first PRELOAD probes leave at once, the rest one interval
    // apart after them.
    const long preload = o_.preload.value_or(1);
    if (stats_.transmitted < preload) {
      next_send_ = now;
    } else if (o_.flood || o_.adaptive) {
      next_send_ = now + interval_;
    } else {
      next_send_ = start_ + interval_ * (stats_.transmitted - preload + 1);
    }
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
          // -A: as soon as the last probe is answered, too (root has no
          // 200 ms floor in iputils).
          if ((o_.flood || o_.adaptive) && r->seq == static_cast<std::uint16_t>(stats_.transmitted))
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
  Ipv4Address next_hop_;
  PingOptionsBuilder ip_options_;
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

/// What -R and -T ask for; iputils refuses a bad -T, or both, while it
/// parses its command line (before it resolves the host).
tl::expected<PingOptionsBuilder::Kind, int> ip_options_of(const PingOptions& o) {
  using Kind = PingOptionsBuilder::Kind;
  Kind kind = Kind::none;
  if (!o.timestamp.empty()) {
    if (o.timestamp == "tsonly") {
      kind = Kind::ts_only;
    } else if (o.timestamp == "tsandaddr") {
      kind = Kind::ts_and_addr;
    } else {
      fmt::print(stderr, "ping: invalid timestamp type: {}\n", o.timestamp);
      return tl::unexpected(int{exit_usage});
    }
  }
  if (o.record_route) {
    if (kind != Kind::none) {
      fmt::print(stderr, "ping: only one of -T or -R may be used\n");
      return tl::unexpected(int{exit_usage});
    }
    kind = Kind::record_route;
  }
  return kind;
}

/// Prints "ping: MESSAGE".
void ping_error(const std::string& message) { fmt::print(stderr, "ping: {}\n", message); }

/// An integer flag read as iputils' strtol_or_err() reads it.
template <typename T>
bool read_integer(const std::optional<std::string>& text, long long lo, long long hi, T& out) {
  if (!text) return true;
  const auto v = parse_integer(*text, lo, hi);
  if (!v) {
    ping_error(v.error());
    return false;
  }
  out = static_cast<typename std::remove_reference_t<decltype(out)>>(*v);
  return true;
}

/// A real flag read as iputils' ping_strtod() reads it: garbage after the
/// number is only warned about. Returns false (exit 2) when out of range.
bool read_real(const std::optional<std::string>& text, const char* what, double& out) {
  if (!text) return true;
  const LenientReal r = parse_real_lenient(*text);
  if (r.out_of_range) {
    ping_error(fmt::format("{}: {}: Numerical result out of range", what, *text));
    return false;
  }
  if (r.garbage) {
    ping_error(fmt::format("option argument contains garbage: {}", *r.garbage));
    ping_error("this will become fatal error in the future");
  }
  out = r.value;
  return true;
}

/// iputils' parsetos(): decimal, or hex after 0x; exit 2 when bad.
bool read_tos(const std::optional<std::string>& text, int& out) {
  if (!text) return true;
  const bool hex =
      text->size() > 1 && (*text)[0] == '0' && ((*text)[1] == 'x' || (*text)[1] == 'X');
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text->c_str(), &end, hex ? 16 : 10);
  if (end == text->c_str() || *end != '\0' || errno == ERANGE) {
    ping_error(fmt::format("bad TOS value: {}", *text));
    return false;
  }
  if (v > 255) {
    ping_error(fmt::format("the decimal value of TOS bits must be in range 0-255: {}", v));
    return false;
  }
  out = static_cast<int>(v & 0xff);  // a negative value passes iputils' check too
  return true;
}

/// Reads the numeric flags and checks the others iputils checks while it
/// parses its command line, before it looks the host up; the exit code
/// when one is bad (1 for strtol_or_err(), 2 for the rest).
std::optional<int> check_args(const PingArgs& a, PingOptions& o) {
  if (!read_integer(a.count, 1, 9223372036854775807LL, o.count)) return exit_failure;
  if (!read_real(a.interval, "bad timing interval", o.interval)) return exit_usage;
  if (a.interval && o.interval > 2147483.0) {
    ping_error(fmt::format("bad timing interval: {}", *a.interval));
    return exit_usage;
  }
  if (!read_integer(a.preload, 1, 65536, o.preload)) return exit_failure;
  if (!o.pmtu.empty() && o.pmtu != "do" && o.pmtu != "dont" && o.pmtu != "want") {
    ping_error(fmt::format("invalid -M argument: {}", o.pmtu));
    return exit_usage;
  }
  if (!o.pattern.empty() && !parse_pattern(o.pattern)) {
    ping_error(fmt::format("patterns must be specified as hex digits: {}", o.pattern));
    return exit_usage;
  }
  if (!read_tos(a.tos, o.tos)) return exit_usage;
  if (!read_integer(a.size, 0, 2147483647, o.size)) return exit_failure;
  if (!read_integer(a.ttl, 0, 255, o.ttl)) return exit_failure;
  if (!read_integer(a.deadline, 0, 2147483647, o.deadline)) return exit_failure;
  if (a.timeout) {
    if (!read_real(a.timeout, "bad linger time", *(o.timeout = 0.0))) return exit_usage;
    if (*o.timeout < 0 || *o.timeout > 2147483.0) {
      ping_error(fmt::format("bad linger time: {}", *a.timeout));
      return exit_usage;
    }
  }
  if (!read_integer(a.ident, 0, 65535, o.ident)) return exit_failure;
  if (const auto ip = ip_options_of(o); !ip) return ip.error();
  if (o.host.empty()) {
    ping_error("usage error: Destination address required");
    return exit_failure;
  }
  return std::nullopt;
}

/// The subnet's broadcast address, or 255.255.255.255.
bool is_broadcast(Ipv4Address target, const os::RouteDecision& route) {
  if (target.is_broadcast()) return true;
  const int plen = prefix_of(route.interface, route.source);
  if (plen >= 31) return false;
  const std::uint32_t host_bits = 0xffffffffU >> plen;
  return target.in_prefix(route.source, plen) && (target.value() & host_bits) == host_bits;
}

int run_ping(const PingArgs& args, PingOptions& o) {
  if (const auto bad = check_args(args, o)) return *bad;
  const auto ip_options = ip_options_of(o);
  const auto target = resolve_ipv4(o.host);
  if (!target) {
    fmt::print(stderr, "ping: {}: {}\n", o.host, target.error());
    return exit_usage;
  }
  std::vector<std::uint8_t> pattern;
  if (!o.pattern.empty()) pattern = *parse_pattern(o.pattern);
  // iputils takes any size on its command line, and refuses one that does
  // not fit a datagram once it knows the options' room.
  if (o.size > 65507) {
    ping_error(fmt::format("packet size {} is too large. Maximum is 65507", o.size));
    return exit_usage;
  }
  if (o.interval < 0) {
    ping_error(fmt::format("bad timing interval: {}", *args.interval));
    return exit_usage;
  }
  if (o.flood && o.interval == 1.0) o.interval = 0;
  auto route = choose_route(o.interface, *target);
  if (!route) {
    fmt::print(stderr, "ping: connect: {}\n", route.error().message());
    return exit_usage;
  }
  // A broadcast goes to the link's broadcast address (RFC 919), and only
  // when asked: iputils' kernel refuses it without SO_BROADCAST.
  Ipv4Address next_hop = o.dont_route ? *target : route->next_hop;  // -r: on-link, always
  if (is_broadcast(*target, *route)) {
    if (!o.broadcast) {
      fmt::print(stderr,
                 "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall "
                 "rules\n");
      return exit_usage;
    }
    fmt::print(stderr, "WARNING: pinging broadcast address\n");
    next_hop = Ipv4Address(0xffffffffU);
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
  PingApp app(o, *target, *route, next_hop, *ip_options, std::move(pattern), rng);
  if (auto r = rt.run(app); !r) {
    error_line(fmt::format("{}: {}", device->capabilities().name, r.error().message()));
    return exit_usage;
  }
  const int status = app.finish(device->drops());
  defer_link_teardown();
  return status;
}

}  // namespace

Command register_ping(CLI::App& parent) {
  auto o = std::make_shared<PingOptions>();
  auto a = std::make_shared<PingArgs>();
  CLI::App* app = parent.add_subcommand("ping", "Send ICMP echo requests, like iputils ping");
  // Numbers are read as strings and checked by check_args(), as iputils
  // checks them; a missing host is its "usage error" too.
  app->add_option("host", o->host, "Destination: an IPv4 address or a host name");
  app->add_option("-c", a->count, "Stop after sending COUNT probes")->option_text("COUNT");
  app->add_option("-i", a->interval, "Seconds between probes")->option_text("INTERVAL");
  app->add_option("-s", a->size, "Data bytes per probe (default 56)")->option_text("SIZE");
  app->add_option("-t", a->ttl, "IP time to live")->option_text("TTL");
  app->add_option("-W", a->timeout, "Seconds to wait for a reply")->option_text("TIMEOUT");
  app->add_option("-w", a->deadline, "Stop after DEADLINE seconds")->option_text("DEADLINE");
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
      ->option_text("do|dont|want");
  app->add_option("-Q", a->tos, "Type of service byte")->option_text("TOS");
  app->add_flag("-v", o->verbose, "Verbose");
  app->add_flag("-R", o->record_route, "Record route: print the route the replies took");
  app->add_option("-T", o->timestamp, "IP timestamp option: tsonly or tsandaddr")
      ->option_text("TSTYPE");
  app->add_option("-l", a->preload, "Send PRELOAD probes at once, then one per interval")
      ->option_text("PRELOAD");
  app->add_flag("-A", o->adaptive, "Adaptive: the next probe as soon as a reply comes");
  app->add_flag("-b", o->broadcast, "Allow pinging a broadcast address");
  app->add_option("-e", a->ident, "ICMP identifier")->option_text("IDENTIFIER");
  app->add_flag("-a", o->audible, "Audible: a bell with each reply");
  app->add_flag("-B", o->strict_source, "Keep the source address (and name it in the header)");
  app->add_flag("-r", o->dont_route, "Bypass routing: the target is on-link");
  app->add_flag("-U", o->latency,
                "Full user-to-user latency (ersatz always times from the departure)");
  app->add_flag("--json", o->json, "JSON Lines: one object per probe, then a summary");
  app->add_option("--backend", o->link.backend, "Raw device backend: afpacket, pcap or auto")
      ->option_text("NAME");
  app->add_flag("--busy-poll", o->busy_poll,
                "Spin on the receive ring instead of sleeping: lowest latency, one core busy");
  app->add_option("--pcap-out", o->link.pcap_out, "Write every frame sent and received to FILE")
      ->option_text("FILE");
  return Command{app, [o, a] { return run_ping(*a, *o); }};
}

}  // namespace ersatz::tools
