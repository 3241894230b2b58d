// ersatz traceroute: a drop-in for Debian's traceroute 2.1 (Dmitry
// Butskoy's), on ersatz's own Ethernet, ARP, IPv4, UDP and ICMP. The
// header line, the hop lines, the annotations and the exit codes follow
// traceroute's; only the times differ. The engine is trace::Traceroute.
#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <fmt/format.h>
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ersatz/runtime/runtime.hpp>
#include <ersatz/stack/host.hpp>
#include <ersatz/trace/traceroute.hpp>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "command.hpp"
#include "numbers.hpp"

namespace ersatz::tools {
namespace {

using wire::Ipv4Address;

struct TracerouteOptions {
  std::string host;
  std::optional<long> packet_len;  // PACKETLEN: the whole IP datagram
  std::optional<std::string> packet_len_text;
  bool numeric = false;         // -n
  unsigned queries = 3;         // -q
  unsigned max_hops = 30;       // -m
  unsigned first_hop = 1;       // -f
  std::string wait = "5,3,10";  // -w MAX,HERE,NEAR
  unsigned sim_queries = 16;    // -N
  double send_wait = 0;         // -z: seconds, or milliseconds from 10 up
  bool icmp = false;            // -I
  bool dont_fragment = false;   // -F
  int tos = 0;                  // -t
  bool json = false;
  LinkFlags link;
  /// The numeric flags as typed, read by read_numbers() as traceroute
  /// reads them (strtol base 0, strtod: nothing may follow the number).
  std::optional<std::string> queries_text, max_hops_text, first_hop_text, sim_queries_text,
      send_wait_text, tos_text;
};

// traceroute's limits and defaults (its -h text).
constexpr unsigned max_hops_limit = 255;
constexpr unsigned max_queries = 10;
constexpr long max_packet_len = 65000;
constexpr std::size_t headers_len = 20 + 8;  // IPv4, then UDP or ICMP
constexpr std::size_t default_data_len = 40 - 8;

/// traceroute's -w MAX[,HERE[,NEAR]]: the factors left out are zero.
struct WaitSpec {
  double max = 5;
  double here = 0;
  double nearby = 0;  // not `near`: a macro in <windows.h>
};
std::optional<WaitSpec> parse_wait(const std::string& text) {
  WaitSpec w;
  double* fields[] = {&w.max, &w.here, &w.nearby};
  const char* p = text.c_str();
  for (std::size_t i = 0; i < 3; ++i) {
    char* end = nullptr;
    *fields[i] = std::strtod(p, &end);
    if (end == p) return std::nullopt;
    if (*end == '\0') return w;
    if (*end != ',' || i == 2) return std::nullopt;
    p = end + 1;
  }
  return w;
}

/// Where `arg` is on the command line, counted as traceroute counts its
/// argv (1: the first word after "traceroute").
int arg_position(const std::string& arg) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  std::size_t sub = 0;
  while (sub < args.size() && args[sub] != "traceroute") ++sub;
  for (std::size_t i = sub + 1; i < args.size(); ++i) {
    if (args[i] == arg) return static_cast<int>(i - sub);
  }
  return 1;
}

/// Where the host argument sits, for traceroute's "Cannot handle" line.
int host_argc(const std::string& host) { return arg_position(host); }

/// A hop's address as traceroute prints it: "name (address)", the address
/// twice when it has no name, or the address alone with -n.
std::string hop_name(Ipv4Address a, bool numeric) {
  const std::string text = fmt::format("{}", a);
  if (numeric) return text;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(a.value());
  char name[NI_MAXHOST] = {};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&sin), sizeof sin, name, sizeof name, nullptr,
                    0, 0) != 0 ||
      name[0] == '\0') {
    return fmt::format("{} ({})", text, text);
  }
  return fmt::format("{} ({})", name, text);
}

/// Writes traceroute's lines as the engine hands the probes over, or one
/// JSON object per hop.
class TraceroutePrinter final : public trace::TraceListener {
 public:
  TraceroutePrinter(const TracerouteOptions& o, Ipv4Address target, std::size_t packet_len)
      : o_(o), target_(target), packet_len_(packet_len) {}

  /// traceroute writes its header without a newline: each hop line starts
  /// with one, and the last line's comes at the end.
  void header() {
    if (o_.json) return;
    fmt::print("traceroute to {} ({}), {} hops max, {} byte packets", o_.host, target_, o_.max_hops,
               packet_len_);
    std::fflush(stdout);
  }
  void end() {
    if (!o_.json) fmt::print("\n");
    std::fflush(stdout);
  }

  void on_probe(const trace::ProbeResult& p) override {
    if (o_.json) return json(p);
    if (p.index == 0) {
      fmt::print("\n{:2} ", p.ttl);
      last_from_.reset();
    }
    if (!p.from) {
      fmt::print(" *");
    } else {
      // The address is printed when it is the hop's first, or differs from
      // the last one that answered in this hop.
      if (!last_from_ || *last_from_ != *p.from) fmt::print(" {}", hop_name(*p.from, o_.numeric));
      last_from_ = p.from;
    }
    if (p.rtt) fmt::print("  {:.3f} ms", static_cast<double>(p.rtt->count()) / 1e6);
    if (!p.annotation.empty()) fmt::print(" {}", p.annotation);
    std::fflush(stdout);
  }

  void on_send_error(const std::error_code& e) override {
    // traceroute: perror("send probe") after a newline, exit 1.
    fmt::print(stderr, "\nsend probe: {}\n", e.message());
  }

 private:
  void json(const trace::ProbeResult& p) {
    if (p.index == 0) hop_.clear();
    hop_.push_back(p);
    if (p.index + 1 < o_.queries) return;
    fmt::print("{{\"hop\":{},\"probes\":[", p.ttl);
    for (std::size_t i = 0; i < hop_.size(); ++i) {
      const auto& q = hop_[i];
      fmt::print("{}{{", i ? "," : "");
      if (q.from) {
        fmt::print("\"from\":\"{}\"", *q.from);
      } else {
        fmt::print("\"timeout\":true");
      }
      if (q.rtt) fmt::print(",\"rtt_ms\":{:.3f}", static_cast<double>(q.rtt->count()) / 1e6);
      if (!q.annotation.empty()) fmt::print(",\"annotation\":\"{}\"", q.annotation);
      if (q.from) fmt::print(",\"ttl\":{}", q.reply_ttl);
      fmt::print("}}");
    }
    const bool final = std::any_of(hop_.begin(), hop_.end(), [](const auto& q) { return q.final; });
    fmt::print("],\"final\":{}}}\n", final);
    std::fflush(stdout);
  }

  const TracerouteOptions& o_;
  Ipv4Address target_;
  std::size_t packet_len_;
  std::optional<Ipv4Address> last_from_;
  std::vector<trace::ProbeResult> hop_;
};

/// The numeric flags, as traceroute's CLIF_parse_int()/CLIF_parse_float()
/// read them while it parses its command line (before the host is looked
/// up): a bad one is "Cannot handle `-X' option with arg `V' (argc N)",
/// exit 2.
bool read_numbers(TracerouteOptions& o) {
  auto bad = [](char flag, const std::string& text) {
    fmt::print(stderr, "Cannot handle `-{}' option with arg `{}' (argc {})\n", flag, text,
               arg_position(text));
    return false;
  };
  const std::pair<char, std::optional<std::string>*> ints[] = {{'q', &o.queries_text},
                                                               {'m', &o.max_hops_text},
                                                               {'f', &o.first_hop_text},
                                                               {'N', &o.sim_queries_text},
                                                               {'t', &o.tos_text}};
  for (const auto& [flag, text] : ints) {
    if (!*text) continue;
    const auto v = parse_whole(**text, 0);
    if (!v || *v < INT_MIN || *v > INT_MAX) return bad(flag, **text);
    const int n = static_cast<int>(*v);
    switch (flag) {
      // traceroute keeps these unsigned: a negative count wraps, and the
      // range checks then refuse it.
      case 'q': o.queries = static_cast<unsigned>(n); break;
      case 'm': o.max_hops = static_cast<unsigned>(n); break;
      case 'f': o.first_hop = static_cast<unsigned>(n); break;
      case 'N': o.sim_queries = static_cast<unsigned>(n); break;
      default: o.tos = n; break;
    }
  }
  if (!parse_wait(o.wait)) return bad('w', o.wait);
  if (o.send_wait_text) {
    const LenientReal r = parse_real_lenient(*o.send_wait_text);
    if (r.out_of_range || r.garbage) return bad('z', *o.send_wait_text);
    o.send_wait = r.value;
  }
  return true;
}

/// traceroute's ex_error(): one line on stderr, exit 2.
int refuse(const std::string& message) {
  fmt::print(stderr, "{}\n", message);
  return exit_usage;
}

int run_traceroute(TracerouteOptions& o) {
  if (!read_numbers(o)) return exit_usage;
  // traceroute resolves the host while it parses its command line, before
  // it checks the other values.
  const auto target = resolve_ipv4(o.host);
  if (!target) {
    fmt::print(stderr, "{}: {}\n", o.host, target.error());
    fmt::print(stderr, "Cannot handle \"host\" cmdline arg `{}' on position 1 (argc {})\n", o.host,
               host_argc(o.host));
    return exit_usage;
  }
  // The packet length is the one value traceroute reads after the host.
  if (o.packet_len_text) {
    const auto v = parse_whole(*o.packet_len_text, 0);
    if (!v || *v < LONG_MIN || *v > LONG_MAX) {
      return refuse(
          fmt::format("Cannot handle \"packetlen\" cmdline arg `{}' on position 2 (argc {})",
                      *o.packet_len_text, arg_position(*o.packet_len_text)));
    }
    o.packet_len = static_cast<long>(*v);
  }
  const auto wait = parse_wait(o.wait);  // read_numbers() checked it parses
  if (o.first_hop == 0 || o.first_hop > o.max_hops) return refuse("first hop out of range");
  if (o.max_hops > max_hops_limit) return refuse("max hops cannot be more than 255");
  if (o.queries == 0 || o.queries > max_queries) return refuse("no more than 10 probes per hop");
  if (wait->max < 0 || wait->here < 0 || wait->nearby < 0) {
    return refuse(fmt::format("bad wait specifications `{:g},{:g},{:g}' used", wait->max,
                              wait->here, wait->nearby));
  }
  if (o.packet_len && *o.packet_len > max_packet_len) {
    return refuse(fmt::format("too big packetlen {} specified", *o.packet_len));
  }
  if (o.send_wait < 0) return refuse(fmt::format("bad sendtime `{:g}' specified", o.send_wait));
  if (o.send_wait >= 10) o.send_wait /= 1000;  // milliseconds

  std::size_t data_len = default_data_len;
  if (o.packet_len) {
    data_len = *o.packet_len >= static_cast<long>(headers_len)
                   ? static_cast<std::size_t>(*o.packet_len) - headers_len
                   : 0;
  }

  auto route = choose_route("", *target);
  if (!route) {
    fmt::print(stderr, "connect: {}\n", route.error().message());
    return exit_failure;
  }
  link::DeviceOptions dev_options;
  dev_options.rx_ring = link::RxRing::none;
  dev_options.tx_mode = link::TxMode::send;
  // Round trips count from the kernel's departure stamp, as answers count
  // from its arrival stamp; a probe costs one more system call to read it.
  dev_options.tx_timestamps = true;
  auto opened = open_link(*route, o.link, dev_options);
  if (!opened) return opened.error();
  link::Device& device = opened->use();
  runtime::signals::install();

  std::mt19937 rng(std::random_device{}());
  trace::TraceConfig c;
  c.source = route->source;
  c.target = *target;
  c.next_hop = route->next_hop;
  c.method = o.icmp ? trace::Method::icmp : trace::Method::udp;
  c.first_hop = o.first_hop;
  c.max_hops = o.max_hops;
  c.probes_per_hop = o.queries;
  c.sim_probes = std::max(1U, o.sim_queries);
  c.data_len = data_len;
  c.wait_max = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(wait->max));
  c.here_factor = wait->here;
  c.near_factor = wait->nearby;
  c.send_interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(o.send_wait));
  // An ephemeral port of Linux's range, and a random identifier: two
  // traceroutes on one host must not take each other's answers.
  c.src_port = static_cast<std::uint16_t>(32768 + rng() % (60999 - 32768 + 1));
  c.ident = static_cast<std::uint16_t>(rng());
  c.dont_fragment = o.dont_fragment;
  c.tos = static_cast<std::uint8_t>(o.tos);

  // Every probe in flight may wait for the gateway's ARP: Linux queues
  // them (by bytes, 212992 of them), so this queue holds them all.
  stack::NeighborConfig neighbors;
  neighbors.queue_len = std::max<std::size_t>(neighbors.queue_len, c.sim_probes);
  stack::Host host(host_config(*route, static_cast<std::uint16_t>(rng())), neighbors);
  runtime::SystemClock clock;
  runtime::RuntimeOptions rt_options;
  rt_options.report_sent = true;  // round trips count from the departure
  runtime::Runtime rt(device, host, clock, rt_options);

  TraceroutePrinter printer(o, *target, headers_len + data_len);
  trace::Traceroute engine(c, printer);
  printer.header();
  auto ran = rt.run(engine);
  if (!ran) {
    error_line(fmt::format("{}: {}", device.capabilities().name, ran.error().message()));
    return exit_failure;
  }
  if (engine.send_failed()) return exit_failure;
  printer.end();
  // No defer_link_teardown(): without a ring, closing the socket costs
  // less than the fork that would take it elsewhere (bench/README.md).
  return exit_ok;
}

}  // namespace

Command register_traceroute(CLI::App& parent) {
  auto o = std::make_shared<TracerouteOptions>();
  CLI::App* app =
      parent.add_subcommand("traceroute", "Trace the route to a host, like traceroute 2.1");
  app->add_option("host", o->host, "Destination: an IPv4 address or a host name")->required();
  app->add_option("packetlen", o->packet_len_text,
                  "The whole packet's length (default 60: an IP header and 40 bytes)");
  app->add_flag("-n", o->numeric, "Do not resolve addresses to names");
  app->add_option("-q", o->queries_text, "Probes per hop (default 3)")->option_text("NQUERIES");
  app->add_option("-m", o->max_hops_text, "The largest TTL (default 30)")->option_text("MAX_TTL");
  app->add_option("-f", o->first_hop_text, "The first TTL (default 1)")->option_text("FIRST_TTL");
  app->add_option("-w", o->wait,
                  "Wait at most MAX seconds, HERE times a round trip of the same hop, NEAR "
                  "times one of a later hop (default 5,3,10)")
      ->option_text("MAX,HERE,NEAR");
  app->add_option("-N", o->sim_queries_text, "Probes in flight at once (default 16)")
      ->option_text("SQUERIES");
  app->add_option("-z", o->send_wait_text,
                  "Least time between probes: seconds, or milliseconds from 10 up")
      ->option_text("SENDWAIT");
  app->add_flag("-I", o->icmp, "ICMP echo probes instead of UDP");
  app->add_flag("-F", o->dont_fragment, "Set DF: a hop with a smaller MTU answers !F-<mtu>");
  app->add_option("-t", o->tos_text, "Type of service byte")->option_text("TOS");
  app->add_flag("--json", o->json, "JSON Lines: one object per hop");
  app->add_option("--backend", o->link.backend, "Raw device backend: afpacket, pcap or auto")
      ->option_text("NAME");
  app->add_option("--pcap-out", o->link.pcap_out, "Write every frame sent and received to FILE")
      ->option_text("FILE");
  return Command{app, [o] { return run_traceroute(*o); }};
}

}  // namespace ersatz::tools
