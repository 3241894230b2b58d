// ersatz dump: decode frames from a capture file, as tcpdump -nn -r does,
// or live from an interface, as tcpdump -nn -i does; as tcpdump's lines or
// as JSON Lines with Wireshark's field names; or save them with -w.
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <ersatz/decode/dissect.hpp>
#include <ersatz/link/open_device.hpp>
#include <ersatz/link/pcap_file.hpp>
#include <ersatz/link/privileges.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"

namespace ersatz::tools {
namespace {

struct DumpOptions {
  std::string read_file;
  /// -i: an interface name; "" when -i was given alone (the default
  /// route's interface).
  std::optional<std::string> interface;
  std::string write_file;
  std::string backend = "auto";
  bool no_promiscuous = false;
  bool link_header = false;
  bool quiet = false;
  bool json = false;
  std::uint64_t count = 0;  // 0: no limit
  int numeric = 0;          // -n/-nn: accepted; ersatz never resolves names
};

/// Buffered stdout: one write per 64 KiB rather than per line.
class Output {
 public:
  ~Output() { flush(); }
  fmt::memory_buffer& buf() { return buf_; }
  void end_line() {
    buf_.push_back('\n');
    if (buf_.size() >= (1U << 16)) flush();
  }
  void flush() {
    std::size_t done = 0;
    while (done < buf_.size()) {
      const ssize_t n = ::write(1, buf_.data() + done, buf_.size() - done);
      if (n <= 0) break;  // a closed pipe: nothing more to say
      done += static_cast<std::size_t>(n);
    }
    buf_.clear();
  }

 private:
  fmt::memory_buffer buf_;
};

/// Where frames go: printed (text or JSON), counted only (-q), or saved (-w).
class Sink {
 public:
  Sink(const DumpOptions& opt, std::optional<link::PcapWriter> writer)
      : opt_(opt), writer_(std::move(writer)), text_{opt.link_header} {}

  Result<void> frame(const decode::Frame& frame) {
    if (writer_) return writer_->write(frame.ts, frame.data, frame.wire_len);
    if (opt_.quiet) return {};
    const auto d = decode::dissect(frame.data, frame.wire_len);
    if (opt_.json) {
      decode::format_json(out_.buf(), frame, d);
    } else {
      decode::format_text(out_.buf(), frame, d, text_);
    }
    out_.end_line();
    return {};
  }
  Result<void> flush() {
    out_.flush();
    if (writer_) return writer_->flush();
    return {};
  }

 private:
  const DumpOptions& opt_;
  std::optional<link::PcapWriter> writer_;
  Output out_;
  decode::TextOptions text_;
};

std::string plural(std::uint64_t n) { return n == 1 ? "" : "s"; }

Result<std::optional<link::PcapWriter>> open_writer(const DumpOptions& opt) {
  if (opt.write_file.empty()) return std::optional<link::PcapWriter>{};
  auto w = link::PcapWriter::create(opt.write_file);
  if (!w) return tl::unexpected(w.error());
  return std::optional<link::PcapWriter>(std::move(*w));
}

int run_file(const DumpOptions& opt) {
  auto reader = link::PcapReader::open(opt.read_file);
  if (!reader) {
    error_line(fmt::format("{}: {}", opt.read_file, reader.error().message()));
    return exit_failure;
  }
  if (reader->linktype() != link::linktype_ethernet) {
    const auto name = link::linktype_name(reader->linktype());
    error_line(fmt::format(
        "{}: link type {}{}{}{} is not supported; ersatz reads Ethernet (EN10MB) captures",
        opt.read_file, reader->linktype(), name.empty() ? "" : " (", name,
        name.empty() ? "" : ")"));
    return exit_failure;
  }
  auto writer = open_writer(opt);
  if (!writer) {
    error_line(fmt::format("{}: {}", opt.write_file, writer.error().message()));
    return exit_failure;
  }
  if (!opt.json) {
    fmt::print(stderr, "reading from file {}, link-type EN10MB (Ethernet), snapshot length {}\n",
               opt.read_file, reader->snaplen());
  }
  Sink sink(opt, std::move(*writer));
  std::uint64_t n = 0;
  while (opt.count == 0 || n < opt.count) {
    auto rec = reader->next();
    if (!rec) {
      (void)sink.flush();
      error_line(link::describe(*reader, rec.error()));
      return exit_failure;
    }
    if (!*rec) break;
    ++n;
    if (auto r = sink.frame({n, (*rec)->ts, (*rec)->wire_len, (*rec)->data}); !r) {
      error_line(fmt::format("{}: {}", opt.write_file, r.error().message()));
      return exit_failure;
    }
  }
  if (auto r = sink.flush(); !r) {
    error_line(fmt::format("{}: {}", opt.write_file, r.error().message()));
    return exit_failure;
  }
  fmt::print(stderr, "{} packet{}\n", n, plural(n));
  return exit_ok;
}

// ------------------------------------------------------------------ live

int run_live(const DumpOptions& opt) {
  std::string name = *opt.interface;
  if (name.empty()) {
    auto d = os::default_interface();
    if (!d) {
      error_line(fmt::format("no interface to capture on ({}); name one with -i IFACE",
                             d.error().message()));
      return exit_failure;
    }
    name = d->capture_device.empty() ? d->name : d->capture_device;
  }
  link::DeviceOptions dev_opt;
  dev_opt.backend = link::parse_backend(opt.backend).value_or(link::Backend::automatic);
  // A capture sees what the host sends as well as what it receives, and,
  // like tcpdump without -p, what is addressed to others.
  dev_opt.ignore_outgoing = false;
  dev_opt.promiscuous = !opt.no_promiscuous;
  std::string detail;
  auto dev = link::open_device(name, dev_opt, &detail);
  if (!dev) return report_open_failure(name, dev.error(), detail);
  // Least privilege: the device is open; nothing below needs a capability,
  // and the -w file is created with the privileges that remain.
  if (auto r = link::drop_privileges(); !r) {
    error_line(fmt::format("cannot drop privileges: {}", r.error().message()));
    return exit_failure;
  }
  auto writer = open_writer(opt);
  if (!writer) {
    error_line(fmt::format("{}: {}", opt.write_file, writer.error().message()));
    return exit_failure;
  }
  runtime::signals::install();
  if (!opt.json) {
    fmt::print(stderr, "listening on {}, link-type EN10MB (Ethernet), snapshot length {} bytes\n",
               name, dev_opt.snaplen);
  }
  Sink sink(opt, std::move(*writer));
  link::Device& d = **dev;
  std::uint64_t n = 0;
  int status = exit_ok;
  while (!runtime::signals::stop_requested() && (opt.count == 0 || n < opt.count)) {
    // Take what is ready without waiting; when nothing is, hand the output
    // over (a reader of a live capture wants each line as it happens), then
    // wait a bounded time so a stop request is seen promptly.
    auto r = d.receive(MonoClock::now());
    if (r && !*r) {
      if (auto f = sink.flush(); !f) {
        error_line(fmt::format("{}: {}", opt.write_file, f.error().message()));
        status = exit_failure;
        break;
      }
      r = d.receive(MonoClock::now() + std::chrono::milliseconds(250));
    }
    if (!r) {
      error_line(fmt::format("{}: {}", name, r.error().message()));
      status = exit_failure;
      break;
    }
    if (!*r) continue;
    ++n;
    if (auto w = sink.frame({n, (*r)->ts, (*r)->wire_len, (*r)->data}); !w) {
      error_line(fmt::format("{}: {}", opt.write_file, w.error().message()));
      status = exit_failure;
      break;
    }
  }
  if (auto f = sink.flush(); !f && status == exit_ok) {
    error_line(fmt::format("{}: {}", opt.write_file, f.error().message()));
    status = exit_failure;
  }
  // tcpdump's closing lines.
  const std::uint64_t dropped = d.drops();
  fmt::print(stderr, "{} packet{} captured\n", n, plural(n));
  fmt::print(stderr, "{} packet{} dropped by kernel\n", dropped, plural(dropped));
  return status;
}

int run_dump(const DumpOptions& opt) {
  if (opt.interface) return run_live(opt);
  if (opt.read_file.empty()) {
    error_line("dump: -r FILE or -i [IFACE] is required (try 'ersatz dump --help')");
    return exit_usage;
  }
  return run_file(opt);
}

}  // namespace

Command register_dump(CLI::App& parent) {
  auto opt = std::make_shared<DumpOptions>();
  CLI::App* app = parent.add_subcommand(
      "dump", "Decode frames from a pcap file or a live interface, like tcpdump -nn");
  auto* read =
      app->add_option("-r,--read", opt->read_file, "Read frames from FILE ('-' for standard input)")
          ->option_text("FILE");
  app->add_option("-i,--interface", opt->interface,
                  "Capture live on IFACE; -i alone: the default route's interface")
      ->expected(0, 1)
      ->option_text("[IFACE]")
      ->excludes(read);
  app->add_option("-w,--write", opt->write_file,
                  "Save the frames to a pcap FILE ('-' for standard output) instead of printing")
      ->option_text("FILE");
  app->add_option("--backend", opt->backend, "Live capture through afpacket (default), pcap or tap")
      ->check(CLI::IsMember({"auto", "afpacket", "pcap", "tap"}))
      ->option_text("NAME");
  app->add_flag("-p,--no-promiscuous-mode", opt->no_promiscuous,
                "Live capture without promiscuous mode");
  app->add_flag("-e", opt->link_header, "Print the link-level header: MAC addresses and VLAN tags");
  app->add_option("-c", opt->count, "Stop after N frames")
      ->option_text("N")
      ->check(CLI::PositiveNumber);
  app->add_flag("-q,--quiet", opt->quiet, "Print only the closing count");
  app->add_flag("--json", opt->json,
                "JSON Lines, one object per frame, with Wireshark field names");
  app->add_flag("-n", opt->numeric, "Accepted for tcpdump habits; addresses are always numeric");
  return Command{app, [opt] { return run_dump(*opt); }};
}

}  // namespace ersatz::tools
