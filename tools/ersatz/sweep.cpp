// ersatz sweep: a drop-in for fping 5.1 on ersatz's own stack, at zmap's
// scale. Flags, output lines and exit codes follow fping (times aside);
// the engine is scan::Sweep on the runtime. By design, and unlike fping:
// without -i it paces itself by what the path answers instead of waiting
// 10 ms between probes; it ends as soon as every target is answered or
// given up; a reply counts only from the target's own address; -g has no
// 100000-address limit and costs a few bits per address.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ersatz/decode/dissect.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <ersatz/scan/sweep.hpp>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(_WIN32)
#include <io.h>
#define ERSATZ_ISATTY _isatty
#define ERSATZ_FILENO _fileno
#else
#include <unistd.h>
#define ERSATZ_ISATTY isatty
#define ERSATZ_FILENO fileno
#endif

#include "command.hpp"

namespace ersatz::tools {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;
namespace icmpv4 = wire::icmpv4;

/// fping's largest -b: 65536 less 40 bytes of IP header and 8 of ICMP.
constexpr long max_data_size = 65536 - 40 - 8;

struct SweepOptions {
  std::vector<std::string> targets;
  bool alive = false;          // -a
  bool unreachable = false;    // -u
  bool quiet = false;          // -q
  std::string count;           // -c
  std::string vcount;          // -C
  std::string retries;         // -r
  std::string timeout;         // -t (ms)
  std::string interval;        // -i (ms)
  std::string period;          // -p (ms)
  std::string backoff;         // -B
  std::string size;            // -b
  std::string ttl;             // -H
  std::string tos;             // -O
  bool generate = false;       // -g
  std::string file;            // -f
  bool elapsed = false;        // -e
  bool stats = false;          // -s
  bool timestamps = false;     // -D
  bool dont_fragment = false;  // -M
  bool loop = false;           // -l (not supported; refused with fping's words)
  std::string interface;       // -I
  std::string rate;            // --rate
  std::string shard;           // --shard I/N
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool busy_poll = false;
  std::string senders = "auto";  // --senders N|auto
  LinkFlags link;
};

/// What the flags mean, checked as fping checks them.
struct Settings {
  scan::SweepConfig config;
  bool verbose = true;  // fping's verbose_flag: "is alive", "is unreachable"
  bool per_recv = false;
  bool report_all = false;  // -C
  bool alive_flag = false;
  bool unreachable_flag = false;
};

/// A command-line error: the message; fping exits 1 for every one.
using Problem = std::string;

template <class T>
std::optional<T> parse_number(const std::string& text) {
  T v{};
  std::istringstream in(text);
  in >> v;
  if (in.fail() || !in.eof()) return std::nullopt;
  return v;
}

std::chrono::nanoseconds from_ms(double ms) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ms * 1e6));
}

tl::expected<Settings, Problem> settle(const SweepOptions& o) {
  Settings s;
  auto& c = s.config;
  auto positive_ms = [](const std::string& flag,
                        const std::string& v) -> tl::expected<std::chrono::nanoseconds, Problem> {
    auto ms = parse_number<double>(v);
    if (!ms || *ms < 0) return tl::unexpected(fmt::format("{}: invalid value '{}'", flag, v));
    return from_ms(*ms);
  };
  if (o.alive && o.unreachable) return tl::unexpected(Problem("specify only one of a, u"));
  if (o.loop && (!o.count.empty() || !o.vcount.empty()))
    return tl::unexpected(Problem("specify only one of c, l"));
  if (o.loop) return tl::unexpected(Problem("-l (loop mode) is not supported; use -c"));
  const std::string& count_text = o.vcount.empty() ? o.count : o.vcount;
  if (!count_text.empty()) {
    auto n = parse_number<long>(count_text);
    if (!n || *n <= 0 || *n > 1'000'000)
      return tl::unexpected(
          fmt::format("{}: invalid count '{}'", o.vcount.empty() ? "-c" : "-C", count_text));
    c.count = static_cast<std::uint32_t>(*n);
    s.report_all = !o.vcount.empty();
  }
  if (!o.retries.empty()) {
    auto n = parse_number<long>(o.retries);
    if (!n || *n < 0 || *n > 1000)
      return tl::unexpected(fmt::format("-r: invalid retry count '{}'", o.retries));
    c.retries = static_cast<std::uint32_t>(*n);
  }
  if (!o.period.empty()) {
    auto p = positive_ms("-p", o.period);
    if (!p) return tl::unexpected(p.error());
    c.period = *p;
  }
  if (!o.timeout.empty()) {
    auto t = positive_ms("-t", o.timeout);
    if (!t) return tl::unexpected(t.error());
    c.timeout = *t;
  } else if (c.count > 0) {
    // fping's auto-tuned timeout in count mode (its #32): the period, at
    // most 2 s.
    c.timeout = std::min<std::chrono::nanoseconds>(c.period, 2s);
  }
  if (!o.interval.empty()) {
    auto i = positive_ms("-i", o.interval);
    if (!i) return tl::unexpected(i.error());
    // -i 0 asks for no gap at all: as fast as the path takes, adaptively.
    if (i->count() > 0) {
      c.pacing.mode = scan::PacerConfig::Mode::interval;
      c.pacing.interval = *i;
    }
  }
  if (!o.rate.empty()) {
    auto r = parse_number<double>(o.rate);
    if (!r || *r <= 0) return tl::unexpected(fmt::format("--rate: invalid rate '{}'", o.rate));
    c.pacing.mode = scan::PacerConfig::Mode::rate;
    c.pacing.rate = *r;
  }
  if (!o.backoff.empty()) {
    auto b = parse_number<double>(o.backoff);
    if (!b || *b == 0) return tl::unexpected(fmt::format("-B: invalid value '{}'", o.backoff));
    if (*b < 1.0 || *b > 5.0)
      return tl::unexpected(
          fmt::format("backoff factor {:.1f} not valid, must be between 1.0 and 5.0", *b));
    c.backoff = *b;
  }
  if (!o.size.empty()) {
    auto b = parse_number<long>(o.size);
    if (!b || *b < 0) return tl::unexpected(fmt::format("-b: invalid size '{}'", o.size));
    if (*b > max_data_size)
      return tl::unexpected(
          fmt::format("data size {} not valid, must be lower than {}", *b, max_data_size));
    c.data_len = static_cast<std::size_t>(*b);
  }
  if (!o.ttl.empty()) {
    auto t = parse_number<long>(o.ttl);
    if (!t || *t <= 0) return tl::unexpected(fmt::format("-H: invalid ttl '{}'", o.ttl));
    if (*t > 255) return tl::unexpected(fmt::format("ttl {} out of range", *t));
    c.ttl = static_cast<std::uint8_t>(*t);
  }
  if (!o.tos.empty()) {
    auto t = parse_number<long>(o.tos);
    if (!t || *t < 0 || *t > 255) return tl::unexpected(fmt::format("-O: invalid tos '{}'", o.tos));
    c.tos = static_cast<std::uint8_t>(*t);
  }
  c.dont_fragment = o.dont_fragment;
  if (!o.shard.empty()) {
    const auto slash = o.shard.find('/');
    // -1 for anything that is not a number, which the range check refuses.
    const long index = parse_number<long>(o.shard.substr(0, slash)).value_or(-1);
    const long count = slash == std::string::npos
                           ? -1
                           : parse_number<long>(o.shard.substr(slash + 1)).value_or(-1);
    if (count < 1 || index < 0 || index >= count || count > 1'000'000)
      return tl::unexpected(fmt::format("--shard: '{}' is not I/N with 0 <= I < N", o.shard));
    if (!o.seed)
      return tl::unexpected(Problem("--shard needs --seed: every shard must walk the same order"));
    c.shard_index = static_cast<std::uint32_t>(index);
    c.shard_count = static_cast<std::uint32_t>(count);
  }
  // fping's flag logic: -a, -u and -q silence the per-target lines; count
  // mode prints per reply instead, unless silenced.
  s.alive_flag = o.alive;
  s.unreachable_flag = o.unreachable;
  s.verbose = !o.quiet && !o.alive && !o.unreachable;
  if (c.count > 0) {
    s.per_recv = s.verbose;
    s.alive_flag = s.unreachable_flag = s.verbose = false;
  }
  return s;
}

// ---------------------------------------------------------------- targets

struct Targets {
  scan::TargetSet set;
  std::size_t unknown = 0;  // fping's num_noaddress
};

/// Adds one name, as fping's add_name: unknown names are reported and
/// counted, not fatal.
void add_name(Targets& t, const std::string& name, bool quiet) {
  auto a = resolve_ipv4(name);
  if (!a) {
    if (!quiet) fmt::print(stderr, "{}: {}\n", name, a.error());
    ++t.unknown;
    return;
  }
  t.set.add(name, *a);
}

tl::expected<Targets, Problem> gather(const SweepOptions& o) {
  Targets t;
  const bool from_file = !o.file.empty();
  if ((!o.targets.empty() && from_file) || (from_file && o.generate) ||
      (o.generate && o.targets.empty()))
    return tl::unexpected(Problem(
        "give targets, or -f FILE, or -g with a block: one of them (see 'ersatz sweep --help')"));
  if (o.generate) {
    tl::expected<scan::BlockParse, scan::BlockError> block;
    if (o.targets.size() == 1) {
      block = scan::parse_cidr(o.targets[0]);
    } else if (o.targets.size() == 2) {
      block = scan::parse_range(o.targets[0], o.targets[1]);
    } else {
      return tl::unexpected(Problem("-g takes one CIDR block or a start and an end address"));
    }
    if (!block) {
      switch (block.error()) {
        case scan::BlockError::no_prefix:
          return tl::unexpected(
              fmt::format("-g: '{}' is not a CIDR block (ADDRESS/LEN)", o.targets[0]));
        case scan::BlockError::bad_address:
          return tl::unexpected(
              fmt::format("-g: can't parse address in '{}'", fmt::join(o.targets, " ")));
        case scan::BlockError::bad_prefix: {
          const auto& text = o.targets[0];
          return tl::unexpected(fmt::format("netmask must be between 1 and 32 (is: {})",
                                            text.substr(text.find('/') + 1)));
        }
        case scan::BlockError::reversed:
          return tl::unexpected(fmt::format("-g: {} comes after {}", o.targets[0], o.targets[1]));
      }
    }
    t.set = scan::TargetSet::block(block->first, block->last);
    return t;
  }
  if (!o.targets.empty()) {
    for (const auto& name : o.targets) add_name(t, name, o.quiet);
    return t;
  }
  // A file, or standard input when nothing else names the targets (as
  // fping): the first word of each line, '#' lines skipped.
  std::ifstream file;
  std::istream* in = &std::cin;
  if (from_file && o.file != "-") {
    file.open(o.file);
    if (!file) return tl::unexpected(fmt::format("fopen : {}: cannot open", o.file));
    in = &file;
  }
  std::string line;
  while (std::getline(*in, line)) {
    std::istringstream words(line);
    std::string word;
    if (!(words >> word) || word[0] == '#') continue;
    add_name(t, word, o.quiet);
  }
  return t;
}

// ---------------------------------------------------------------- output

/// fping's sprint_tm: milliseconds with three significant digits or so.
std::string ms_text(std::int64_t ns) {
  const double t = static_cast<double>(ns) / 1e6;
  if (t < 0.0) return fmt::format("{:.2g}", t);
  if (t < 1.0) return fmt::format("{:.3f}", t);
  if (t < 10.0) return fmt::format("{:.2f}", t);
  if (t < 100.0) return fmt::format("{:.1f}", t);
  if (t < 1000000.0) return fmt::format("{:.0f}", t);
  return fmt::format("{:.3e}", t);
}

/// fping's words for an ICMP error.
std::string error_words(icmpv4::Type type, std::uint8_t code) {
  static constexpr std::array<const char*, 16> unreach{
      "ICMP Network Unreachable",
      "ICMP Host Unreachable",
      "ICMP Protocol Unreachable",
      "ICMP Port Unreachable",
      "ICMP Unreachable (Fragmentation Needed)",
      "ICMP Unreachable (Source Route Failed)",
      "ICMP Unreachable (Destination Network Unknown)",
      "ICMP Unreachable (Destination Host Unknown)",
      "ICMP Unreachable (Source Host Isolated)",
      "ICMP Unreachable (Communication with Network Prohibited)",
      "ICMP Unreachable (Communication with Host Prohibited)",
      "ICMP Unreachable (Network Unreachable For Type Of Service)",
      "ICMP Unreachable (Host Unreachable For Type Of Service)",
      "ICMP Unreachable (Communication Administratively Prohibited)",
      "ICMP Unreachable (Host Precedence Violation)",
      "ICMP Unreachable (Precedence cutoff in effect)"};
  switch (type) {
    case icmpv4::Type::dst_unreachable:
      return code < unreach.size() ? unreach[code] : "ICMP Unreachable (Invalid Code)";
    case icmpv4::Type::source_quench: return "ICMP Source Quench";
    case icmpv4::Type::redirect: return "ICMP Redirect";
    case icmpv4::Type::time_exceeded: return "ICMP Time Exceeded";
    case icmpv4::Type::param_problem: return "ICMP Parameter Problem";
    default: return fmt::format("ICMP {}", static_cast<unsigned>(type));
  }
}

/// The progress line on a terminal's stderr: written over itself, and
/// wiped before anything else goes to stderr, so the terminal never shows
/// it mixed with other lines. stdout is left alone.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}

  void update(MonoTime now, const scan::Sweep& s) {
    if (!enabled_) return;
    if (start_ == MonoTime{}) start_ = now;
    // Short runs show nothing; long ones five updates a second.
    if (now - start_ < 500ms || now - last_ < 200ms) return;
    last_ = now;
    const auto& t = s.totals();
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double pct =
        s.shard_size() ? 100.0 * static_cast<double>(s.done()) / static_cast<double>(s.shard_size())
                       : 100.0;
    const double per_s = s.done() > 0 ? static_cast<double>(s.done()) / secs : 0;
    const std::string eta =
        per_s > 0 ? fmt::format("{:.1f}s", static_cast<double>(s.shard_size() - s.done()) / per_s)
                  : std::string("?");
    fmt::print(stderr, "\r\033[Ksweep: sent {}, replies {}, {:.0f} probes/s, {:.1f}% done, ETA {}",
               t.sent, t.replies, static_cast<double>(t.sent) / secs, pct, eta);
    std::fflush(stderr);
    shown_ = true;
  }
  /// Wipes the line before other output to stderr.
  void clear() {
    if (!shown_) return;
    fmt::print(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  MonoTime start_{};
  MonoTime last_{};
};

/// Prints what fping prints, or JSON Lines with --json.
class Printer final : public scan::SweepListener {
 public:
  Printer(const SweepOptions& o, const Settings& s, const scan::TargetSet& targets,
          Progress& progress)
      : o_(o), s_(s), targets_(targets), progress_(progress) {
    if (s_.per_recv || s_.config.count > 0) width_ = targets.max_name_len();
  }
  void attach(const scan::Sweep& sweep) { sweep_ = &sweep; }

  void on_reply(const scan::SweepReply& r) override {
    if (o_.json) {
      if (s_.config.count == 0) json_target(r.target, &r);
      return;
    }
    if (s_.config.count == 0) {
      if (!s_.verbose && !s_.alive_flag) return;
      std::string line(name(r.target));
      if (s_.verbose) line += " is alive";
      if (o_.elapsed) line += fmt::format(" ({} ms)", ms_text(r.rtt.count()));
      fmt::print("{}\n", line);
      return;
    }
    if (!s_.per_recv) return;
    const auto& st = sweep_->stats(r.target);
    std::string line = stamp(r.ts);
    line += fmt::format("{:<{}} : [{}], {} bytes, {} ms ({} avg, ", name(r.target), width_, r.ping,
                        r.icmp_len, ms_text(r.rtt.count()), ms_text(st.total / st.recv));
    fmt::print("{}{}\n", line, loss_text(st));
  }

  void on_timeout(std::uint64_t target, std::uint32_t ping) override {
    if (o_.json || !s_.per_recv) return;
    const auto& st = sweep_->stats(target);
    std::string line = stamp(wall_now());
    line += fmt::format("{:<{}} : [{}], timed out ", name(target), width_, ping);
    line += st.recv > 0 ? fmt::format("({} avg, ", ms_text(st.total / st.recv)) : "(NaN avg, ";
    fmt::print("{}{}\n", line, loss_text(st));
  }

  void on_duplicate(const scan::SweepReply& r) override {
    // fping reports duplicates only where it does not print every reply.
    if (o_.json || o_.quiet || s_.per_recv) return;
    progress_.clear();
    fmt::print(stderr, "{} : duplicate for [{}], {} bytes, {} ms\n", name(r.target),
               s_.config.count == 0 ? 0U : r.ping, r.icmp_len, ms_text(r.rtt.count()));
  }

  void on_error(const scan::SweepError& e) override {
    if (o_.json || o_.quiet) return;
    progress_.clear();
    fmt::print(stderr, "{} from {} for ICMP Echo sent to {}\n", error_words(e.type, e.code), e.from,
               name(e.target));
  }

  void on_given_up(std::uint64_t target) override {
    // Printed at the end, in target order, as fping does; JSON says it now.
    if (o_.json) json_target(target, nullptr);
  }

  void on_turn(MonoTime now) override {
    if (sweep_ != nullptr) progress_.update(now, *sweep_);
  }

  /// The end of the run: fping's finish().
  void finish(const Targets& t, std::chrono::nanoseconds elapsed) {
    progress_.clear();
    const scan::Sweep& sw = *sweep_;
    const std::uint64_t n = t.set.size();
    std::uint64_t targets = 0;
    std::uint64_t unreachable = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!counted(i)) continue;
      ++targets;
      if (sw.alive(i)) continue;
      ++unreachable;
      if (o_.json) {
        if (s_.config.count > 0) continue;
        if (!sw.started(i)) json_target(i, nullptr);  // interrupted before its turn
        continue;
      }
      if (s_.verbose || s_.unreachable_flag)
        fmt::print("{}{}\n", name(i), s_.verbose ? " is unreachable" : "");
    }
    std::fflush(stdout);
    if (s_.config.count > 0) per_target_stats(n);
    if (o_.stats) global_stats(t, targets, unreachable, elapsed);
  }

 private:
  /// Whether target i is this run's to report: every target, or a shard's.
  bool counted(std::uint64_t i) const { return s_.config.shard_count == 1 || sweep_->started(i); }

  std::string_view name(std::uint64_t i) { return targets_.name(i, scratch_); }

  std::string stamp(Timestamp ts) const {
    return o_.timestamps ? fmt::format("[{:.5f}] ", static_cast<double>(ts.ns()) / 1e9)
                         : std::string();
  }

  static std::string loss_text(const scan::TargetStats& st) {
    if (st.recv <= st.sent) return fmt::format("{}% loss)", (st.sent - st.recv) * 100 / st.sent);
    return fmt::format("{}% return)", st.recv_total * 100 / st.sent);
  }

  void per_target_stats(std::uint64_t n) {
    if (o_.json) {
      for (std::uint64_t i = 0; i < n; ++i) {
        if (counted(i)) json_target(i, nullptr);
      }
      return;
    }
    if (s_.per_recv) fmt::print(stderr, "\n");
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!counted(i)) continue;
      const auto& st = sweep_->stats(i);
      std::string line = fmt::format("{:<{}} :", name(i), width_);
      if (s_.report_all) {
        for (std::uint32_t k = 0; k < st.sent; ++k) {
          const std::int64_t resp = sweep_->response(i, k);
          line += resp >= 0 ? " " + ms_text(resp) : std::string(" -");
        }
      } else {
        if (st.recv <= st.sent) {
          line += fmt::format(" xmt/rcv/%loss = {}/{}/{}%", st.sent, st.recv,
                              st.sent > 0 ? (st.sent - st.recv) * 100 / st.sent : 0);
        } else {
          line += fmt::format(" xmt/rcv/%return = {}/{}/{}%", st.sent, st.recv,
                              st.recv * 100 / st.sent);
        }
        if (st.recv > 0)
          line += fmt::format(", min/avg/max = {}/{}/{}", ms_text(st.min),
                              ms_text(st.total / st.recv), ms_text(st.max));
      }
      fmt::print(stderr, "{}\n", line);
    }
  }

  void global_stats(const Targets& t, std::uint64_t targets, std::uint64_t unreachable,
                    std::chrono::nanoseconds elapsed) {
    const auto& tot = sweep_->totals();
    if (o_.json) {
      fmt::print(
          "{{\"summary\":true,\"targets\":{},\"alive\":{},\"unreachable\":{},\"unknown\":{},"
          "\"timeouts\":{},\"sent\":{},\"replies\":{},\"other_icmp\":{},\"rejected\":{},"
          "\"elapsed_s\":{:.3f}}}\n",
          targets, targets - unreachable, unreachable, t.unknown, tot.timeouts, tot.sent,
          tot.replies, tot.other_icmp, tot.rejected, elapsed.count() / 1e9);
      return;
    }
    const std::int64_t count = tot.rtt_count ? static_cast<std::int64_t>(tot.rtt_count) : 1;
    fmt::print(stderr, "\n");
    fmt::print(stderr, " {:7} targets\n", targets);
    fmt::print(stderr, " {:7} alive\n", targets - unreachable);
    fmt::print(stderr, " {:7} unreachable\n", unreachable);
    fmt::print(stderr, " {:7} unknown addresses\n", t.unknown);
    fmt::print(stderr, "\n");
    fmt::print(stderr, " {:7} timeouts (waiting for response)\n", tot.timeouts);
    fmt::print(stderr, " {:7} ICMP Echos sent\n", tot.sent);
    fmt::print(stderr, " {:7} ICMP Echo Replies received\n", tot.replies);
    fmt::print(stderr, " {:7} other ICMP received\n", tot.other_icmp);
    fmt::print(stderr, "\n");
    fmt::print(stderr, " {} ms (min round trip time)\n", ms_text(tot.rtt_count ? tot.rtt_min : 0));
    fmt::print(stderr, " {} ms (avg round trip time)\n", ms_text(tot.rtt_sum / count));
    fmt::print(stderr, " {} ms (max round trip time)\n", ms_text(tot.rtt_count ? tot.rtt_max : 0));
    fmt::print(stderr, " {:12.3f} sec (elapsed real time)\n", elapsed.count() / 1e9);
    fmt::print(stderr, "\n");
  }

  /// One JSON object for a target: its final state.
  void json_target(std::uint64_t i, const scan::SweepReply* r) {
    fmt::memory_buffer out;
    fmt::format_to(std::back_inserter(out), "{{\"target\":");
    decode::append_json_string(out, name(i));
    const bool alive = sweep_->alive(i);
    const scan::SweepError* e = sweep_->last_error(i);
    fmt::format_to(std::back_inserter(out), ",\"address\":\"{}\",\"state\":\"{}\"",
                   targets_.address(i),
                   alive          ? "alive"
                   : e != nullptr ? "error"
                                  : "unreachable");
    if (r != nullptr) {
      fmt::format_to(std::back_inserter(out), ",\"rtt_ms\":{:.3f},\"from\":\"{}\"",
                     r->rtt.count() / 1e6, r->from);
    }
    if (s_.config.count > 0) {
      const auto& st = sweep_->stats(i);
      fmt::format_to(std::back_inserter(out), ",\"xmt\":{},\"rcv\":{}", st.sent, st.recv);
      if (st.recv > 0) {
        fmt::format_to(std::back_inserter(out),
                       ",\"rtt_min_ms\":{:.3f},\"rtt_avg_ms\":{:.3f},\"rtt_max_ms\":{:.3f}",
                       st.min / 1e6, st.total / st.recv / 1e6, st.max / 1e6);
      }
      if (s_.report_all) {
        fmt::format_to(std::back_inserter(out), ",\"rtts_ms\":[");
        for (std::uint32_t k = 0; k < st.sent; ++k) {
          const std::int64_t resp = sweep_->response(i, k);
          if (k > 0) out.push_back(',');
          if (resp >= 0)
            fmt::format_to(std::back_inserter(out), "{:.3f}", resp / 1e6);
          else
            fmt::format_to(std::back_inserter(out), "null");
        }
        out.push_back(']');
      }
    }
    if (e != nullptr) {
      fmt::format_to(std::back_inserter(out),
                     ",\"icmp\":{{\"type\":{},\"code\":{},\"from\":\"{}\",\"text\":",
                     static_cast<unsigned>(e->type), e->code, e->from);
      decode::append_json_string(out, error_words(e->type, e->code));
      out.push_back('}');
    }
    out.push_back('}');
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }

  const SweepOptions& o_;
  const Settings& s_;
  const scan::TargetSet& targets_;
  Progress& progress_;
  const scan::Sweep* sweep_ = nullptr;
  std::array<char, 16> scratch_{};
  std::size_t width_ = 0;
};

// ---------------------------------------------------------------- routes

/// The next hop for each target: on-link when it is inside one of the
/// interface's prefixes, else the gateway the OS route table names for it
/// on this interface, else the default gateway (one interface per sweep).
class NextHops {
 public:
  NextHops(const os::RouteDecision& first, std::vector<os::Route> routes)
      : iface_(first.interface), routes_(std::move(routes)) {
    for (const auto& r : routes_) {
      if (r.prefix_len == 0 && r.gateway && r.out_index == iface_.index) fallback_ = *r.gateway;
    }
    if (!fallback_ && first.next_hop != first.destination) fallback_ = first.next_hop;
  }
  Ipv4Address operator()(Ipv4Address dst) const {
    for (const auto& a : iface_.ipv4) {
      if (dst.in_prefix(a.address, a.prefix_len)) return dst;
    }
    if (const os::Route* r = os::select_route(routes_, dst);
        r != nullptr && r->out_index == iface_.index)
      return r->gateway.value_or(dst);
    return fallback_.value_or(dst);
  }

 private:
  os::Interface iface_;
  std::vector<os::Route> routes_;
  std::optional<Ipv4Address> fallback_;
};

/// How many threads send. On a veth most of a probe's cost is the
/// kernel's, run on the sending CPU (the peer's answer included), so a
/// large sweep sends from every CPU (link::ParallelTx). fping's -i (a gap
/// between any two probes) and count mode stay on one; so do small sweeps,
/// which would not win back a socket per thread.
std::size_t senders(const SweepOptions& o, const Settings& s, const scan::TargetSet& t) {
  if (o.senders != "auto") return std::max<std::size_t>(1, std::stoul(o.senders));
  if (s.config.count > 0 || s.config.pacing.mode == scan::PacerConfig::Mode::interval ||
      t.size() < 4096)
    return 1;
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
}

SipKey random_key(std::random_device& rd) {
  auto word = [&] { return (std::uint64_t{rd()} << 32) | rd(); };
  return SipKey{word(), word()};
}

int run_sweep(const SweepOptions& o) {
  auto settings = settle(o);
  if (!settings) {
    fmt::print(stderr, "sweep: {}\n", settings.error());
    return exit_failure;
  }
  auto targets = gather(o);
  if (!targets) {
    fmt::print(stderr, "sweep: {}\n", targets.error());
    return exit_failure;
  }
  if (targets->set.empty()) return targets->unknown > 0 ? exit_usage : exit_failure;

  auto route = choose_route(o.interface, targets->set.address(0));
  if (!route) {
    fmt::print(stderr, "sweep: {}: {}\n", targets->set.address(0), route.error().message());
    return exit_failure;
  }
  auto routes = os::list_routes();
  NextHops next_hops(*route, routes ? std::move(*routes) : std::vector<os::Route>{});

  std::random_device rd;
  scan::SweepConfig& c = settings->config;
  c.source = route->source;
  c.cookie_key = random_key(rd);
  c.order_key = o.seed ? SipKey{*o.seed, 0x65727361747a2d73ULL} : random_key(rd);
  c.ident = static_cast<std::uint16_t>(rd());

  link::DeviceOptions dev_options;
  // No rings: each would cost an RCU grace period (about 10 ms) to set up
  // and more to tear down, where a sweep of a /16 takes a few hundred ms.
  // Replies are read with recvmmsg, bursts leave with one sendmmsg.
  dev_options.rx_ring = link::RxRing::none;
  dev_options.tx_mode = link::TxMode::sendmmsg;
  // A burst is at most 256 probes (scan::Sweep), dealt over the lanes.
  dev_options.tx_batch = 256;
  dev_options.tx_frames = 256;
  // Replies, errors (quote and our cookie) and ARP: no need for more of a
  // frame than the probe itself, and smaller slots make a deeper ring.
  dev_options.snaplen =
      static_cast<std::uint32_t>(std::max<std::size_t>(256, 14 + 60 + 8 + 60 + 8 + c.data_len));
  auto opened = open_link(*route, o.link, dev_options, senders(o, *settings, targets->set) - 1);
  if (!opened) return exit_usage;

  runtime::signals::install();
  stack::Host host(host_config(*route, static_cast<std::uint16_t>(rd())));
  runtime::SystemClock clock;
  runtime::RuntimeOptions rt_options;
  rt_options.busy_poll = o.busy_poll;
  runtime::Runtime rt(opened->use(), host, clock, rt_options);

  Progress progress(ERSATZ_ISATTY(ERSATZ_FILENO(stderr)) != 0);
  Printer printer(o, *settings, targets->set, progress);
  scan::Sweep sweep(targets->set, c, std::cref(next_hops), printer);
  printer.attach(sweep);
  const MonoTime start = clock.now();
  if (auto r = rt.run(sweep); !r) {
    progress.clear();
    error_line(fmt::format("{}: {}", opened->use().capabilities().name, r.error().message()));
    return exit_usage;
  }
  printer.finish(*targets, clock.now() - start);
  std::fflush(stdout);
  if (std::getenv("ERSATZ_SWEEP_DEBUG") != nullptr) {
    const auto& st = rt.stats();
    fmt::print(stderr,
               "debug: rate {:.0f}/s, cuts {}, min rtt {} ns, turns {}, bursts {}, in {}, out {}, "
               "drops {}\n",
               sweep.pacer().rate(), sweep.pacer().cuts(), sweep.pacer().min_rtt().count(),
               st.turns, st.bursts, st.frames_in, st.frames_out, opened->use().drops());
  }
  int status = exit_ok;
  for (std::uint64_t i = 0; i < targets->set.size() && status == exit_ok; ++i) {
    if ((c.shard_count == 1 || sweep.started(i)) && !sweep.alive(i)) status = exit_failure;
  }
  if (targets->unknown > 0) status = exit_usage;
  defer_link_teardown();
  return status;
}

}  // namespace

Command register_sweep(CLI::App& parent) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* app = parent.add_subcommand(
      "sweep", "Send ICMP echo requests to many targets, like fping, at zmap's scale");
  app->add_option("targets", o->targets,
                  "Addresses or names; with -g a CIDR block or a start and an end address; "
                  "none: read them from standard input");
  app->add_flag("-a,--alive", o->alive, "Show targets that are alive");
  app->add_flag("-u,--unreach", o->unreachable, "Show targets that are unreachable");
  app->add_flag("-q,--quiet", o->quiet, "Quiet: no per-target or per-ping lines");
  app->add_option("-c,--count", o->count, "Count mode: send N pings to each target")
      ->option_text("N");
  app->add_option("-C,--vcount", o->vcount, "Same as -c, and report every round trip")
      ->option_text("N");
  app->add_option("-r,--retry", o->retries, "Retries per target (default 3)")->option_text("N");
  app->add_option("-t,--timeout", o->timeout,
                  "First timeout per target, in ms (default 500; -c: the -p period up to 2000)")
      ->option_text("MS");
  app->add_option("-i,--interval", o->interval,
                  "At least MS between any two probes (default: paced by what the path answers)")
      ->option_text("MS");
  app->add_option("-p,--period", o->period, "Between pings to one target, in ms (default 1000)")
      ->option_text("MS");
  app->add_option("-B,--backoff", o->backoff, "Timeout factor per retry (default 1.5)")
      ->option_text("F");
  app->add_option("-b,--size", o->size, "Data bytes per ping (default 56)")->option_text("BYTES");
  app->add_option("-H,--ttl", o->ttl, "IP time to live")->option_text("N");
  app->add_option("-O,--tos", o->tos, "Type of service byte")->option_text("N");
  app->add_flag("-M,--dontfrag", o->dont_fragment, "Set the Don't Fragment flag");
  app->add_flag("-g,--generate", o->generate,
                "Targets are a CIDR block (network and broadcast left out) or START END");
  app->add_option("-f,--file", o->file, "Read targets from FILE ('-': standard input)")
      ->option_text("FILE");
  app->add_flag("-e,--elapsed", o->elapsed, "Show the round-trip time of each alive target");
  app->add_flag("-s,--stats", o->stats, "Print the final statistics");
  app->add_flag("-D,--timestamp", o->timestamps, "Print a timestamp before each ping line");
  app->add_flag("-l,--loop", o->loop, "fping's loop mode (not supported: use -c)");
  app->add_option("-I,--iface", o->interface, "Interface name or source address")
      ->option_text("IFACE");
  app->add_option("--rate", o->rate, "A fixed rate, in probes per second")->option_text("PPS");
  app->add_option("--shard", o->shard,
                  "Probe only shard I of N (0 <= I < N); the shards of one --seed are disjoint "
                  "and cover every target")
      ->option_text("I/N");
  app->add_option("--seed", o->seed, "The key of the target order (the same for every shard)")
      ->option_text("S");
  app->add_flag("--json", o->json, "JSON Lines: one object per target");
  app->add_flag("--busy-poll", o->busy_poll, "Spin on the receive ring instead of sleeping");
  app->add_option("--senders", o->senders,
                  "Threads that send, each with a socket (auto: one per CPU, up to 4, for "
                  "4096 targets or more)")
      ->check([](const std::string& v) {
        if (v == "auto") return std::string();
        auto n = parse_number<long>(v);
        return n && *n >= 1 && *n <= 64 ? std::string() : std::string("1..64 or auto");
      })
      ->option_text("N|auto");
  app->add_option("--backend", o->link.backend, "Raw device backend: afpacket, pcap or auto")
      ->option_text("NAME");
  app->add_option("--pcap-out", o->link.pcap_out, "Write every frame sent and received to FILE")
      ->option_text("FILE");
  return Command{app, [o] { return run_sweep(*o); }, exit_failure};
}

}  // namespace ersatz::tools
