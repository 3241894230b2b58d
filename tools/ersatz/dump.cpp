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
#include <ersatz/link/pcap_library.hpp>
#include <ersatz/link/privileges.hpp>
#include <ersatz/os/discovery.hpp>
#include <ersatz/runtime/runtime.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "numbers.hpp"

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
  std::uint64_t count = 0;                  // 0: no limit
  int numeric = 0;                          // -n/-nn: accepted; ersatz never resolves names
  int verbose = 0;                          // -v, -vv, -vvv
  int time_flags = 0;                       // -t (1) ... -ttttt (5)
  int hex = 0;                              // -x, -xx
  int hex_ascii = 0;                        // -X, -XX
  int ascii = 0;                            // -A, -AA
  std::optional<std::uint32_t> snaplen;     // -s (live capture only, as tcpdump)
  std::optional<std::string> count_text;    // -c as typed
  std::optional<std::string> snaplen_text;  // -s as typed
  std::vector<std::string>
      expression;  // the filter, as tcpdump takes it: every word after the flags
};

decode::TimeStyle time_style(int flags) {
  switch (flags) {
    case 0: return decode::TimeStyle::time_of_day;
    case 1: return decode::TimeStyle::none;
    case 2: return decode::TimeStyle::unix_seconds;
    case 3: return decode::TimeStyle::since_previous;
    case 4: return decode::TimeStyle::date_and_time;
    default: return decode::TimeStyle::since_first;
  }
}

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
      : opt_(opt), writer_(std::move(writer)) {
    text_.link_header = opt.link_header;
    text_.verbose = opt.verbose;
    text_.time = time_style(opt.time_flags);
    text_.tcp_sequences = &tcp_sequences_;
    // One of -X, -x, -A, in tcpdump's order of precedence; doubled, with
    // the link header.
    if (opt.hex_ascii > 0) {
      raw_ = decode::RawDump::hex_ascii;
      raw_link_ = opt.hex_ascii > 1;
    } else if (opt.hex > 0) {
      raw_ = decode::RawDump::hex;
      raw_link_ = opt.hex > 1;
    } else if (opt.ascii > 0) {
      raw_ = decode::RawDump::ascii;
      raw_link_ = opt.ascii > 1;
    }
    text_.raw_dump = raw_ != decode::RawDump::none;
  }

  Result<void> frame(const decode::Frame& frame) {
    if (writer_) return writer_->write(frame.ts, frame.data, frame.wire_len);
    if (opt_.quiet) return {};
    const auto d = decode::dissect(frame.data, frame.wire_len);
    if (opt_.json) {
      decode::format_json(out_.buf(), frame, d);
    } else {
      text_.reference = reference_.before(frame.ts);
      const bool gave_up = decode::format_text(out_.buf(), frame, d, text_);
      decode::format_raw(out_.buf(), frame.data,
                         gave_up ? 0 : decode::link_header_len(d, frame.data), raw_, raw_link_);
      reference_.after(frame.ts, text_.time);
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
  decode::RawDump raw_ = decode::RawDump::none;
  bool raw_link_ = false;
  decode::TimeReference reference_;
  decode::TcpSequences tcp_sequences_;
};

/// The filter expression, compiled by libpcap's own compiler; nullopt when
/// there is none. On failure the message is printed (as tcpdump does, one
/// line) and the error is the exit code.
tl::expected<std::optional<link::PcapFilter>, int> compile_filter(const DumpOptions& opt,
                                                                  std::uint32_t snaplen) {
  if (opt.expression.empty()) return std::optional<link::PcapFilter>{};
  std::string text;
  for (const auto& word : opt.expression) {
    if (!text.empty()) text += ' ';
    text += word;
  }
  std::string detail;
  auto f = link::PcapFilter::compile(text, link::dlt_en10mb, snaplen, &detail);
  if (!f) {
    if (f.error() == link::PcapLibraryError::not_installed) {
      error_line(f.error().message());
      return tl::unexpected(exit_usage);
    }
    error_line(detail.empty() ? f.error().message() : detail);
    return tl::unexpected(exit_failure);
  }
  return std::optional<link::PcapFilter>(std::move(*f));
}

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
  auto filter = compile_filter(opt, reader->snaplen());
  if (!filter) return filter.error();
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
    // pcap_offline_filter: the program sees what was captured and the
    // length on the wire.
    if (*filter && !(*filter)->matches((*rec)->data, (*rec)->wire_len)) continue;
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
  if (opt.snaplen) dev_opt.snaplen = *opt.snaplen == 0 ? 262144 : *opt.snaplen;
  // The expression runs in the kernel, attached to the socket as ping's
  // filter is: frames it refuses never reach the ring.
  auto filter = compile_filter(opt, dev_opt.snaplen);
  if (!filter) return filter.error();
  if (*filter) dev_opt.filter = (*filter)->program();
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
  report_caps_if_asked();
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

/// -c and -s read as tcpdump reads them: a bad one is one line and exit 1.
bool read_numbers(DumpOptions& opt) {
  if (opt.count_text) {
    const auto v = parse_whole(*opt.count_text);
    if (!v || *v <= 0) {
      error_line(fmt::format("invalid packet count {}", *opt.count_text));
      return false;
    }
    opt.count = static_cast<std::uint64_t>(*v);
  }
  if (opt.snaplen_text) {
    const auto v = parse_whole(*opt.snaplen_text);
    if (!v || *v < 0 || *v > 262144) {
      error_line(fmt::format("invalid snaplen {} (must be >= 0 and <= 262144)", *opt.snaplen_text));
      return false;
    }
    opt.snaplen = static_cast<std::uint32_t>(*v);
  }
  return true;
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
  app->add_option("-c", opt->count_text, "Stop after N frames")->option_text("N");
  app->add_flag("-q,--quiet", opt->quiet, "Print only the closing count");
  app->add_flag("--json", opt->json,
                "JSON Lines, one object per frame, with Wireshark field names");
  app->add_flag("-n", opt->numeric, "Accepted for tcpdump habits; addresses are always numeric");
  app->add_flag("-v", opt->verbose, "Verbose: the IP header's fields, and more with -vv, -vvv");
  app->add_flag("-t", opt->time_flags,
                "No timestamp; -tt: seconds since 1970; -ttt: since the previous frame; "
                "-tttt: with the date; -ttttt: since the first frame");
  app->add_flag("-x", opt->hex, "Print each frame in hex, without (-xx: with) the link header");
  app->add_flag("-X", opt->hex_ascii,
                "Print each frame in hex and ASCII, without (-XX: with) the link header");
  app->add_flag("-A", opt->ascii, "Print each frame in ASCII, without the link header");
  app->add_option("-s,--snapshot-length", opt->snaplen_text,
                  "Keep SNAPLEN bytes of each frame in a live capture (0: 262144)")
      ->option_text("SNAPLEN");
  app->add_option("expression", opt->expression,
                  "A tcpdump filter expression (pcap-filter(7)), compiled by libpcap");
  return Command{app, [opt] { return read_numbers(*opt) ? run_dump(*opt) : exit_failure; }};
}

}  // namespace ersatz::tools
