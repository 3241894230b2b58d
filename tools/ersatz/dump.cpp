// ersatz dump: decode frames from a capture file, as tcpdump -nn -r does,
// or as JSON Lines with Wireshark's field names.
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <ersatz/decode/dissect.hpp>
#include <ersatz/link/pcap_file.hpp>
#include <memory>
#include <string>

#include "command.hpp"

namespace ersatz::tools {
namespace {

struct DumpOptions {
  std::string read_file;
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

int run_dump(const DumpOptions& opt) {
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
  if (!opt.json) {
    fmt::print(stderr, "reading from file {}, link-type EN10MB (Ethernet), snapshot length {}\n",
               opt.read_file, reader->snaplen());
  }
  Output out;
  const decode::TextOptions text{opt.link_header};
  std::uint64_t n = 0;
  while (opt.count == 0 || n < opt.count) {
    auto rec = reader->next();
    if (!rec) {
      out.flush();
      error_line(link::describe(*reader, rec.error()));
      return exit_failure;
    }
    if (!*rec) break;
    ++n;
    const decode::Frame frame{n, (*rec)->ts, (*rec)->wire_len, (*rec)->data};
    if (opt.quiet) continue;
    const auto d = decode::dissect(frame.data, frame.wire_len);
    if (opt.json) {
      decode::format_json(out.buf(), frame, d);
    } else {
      decode::format_text(out.buf(), frame, d, text);
    }
    out.end_line();
  }
  out.flush();
  fmt::print(stderr, "{} packet{}\n", n, n == 1 ? "" : "s");
  return exit_ok;
}

}  // namespace

Command register_dump(CLI::App& parent) {
  auto opt = std::make_shared<DumpOptions>();
  CLI::App* app =
      parent.add_subcommand("dump", "Decode frames from a pcap file, like tcpdump -nn -r");
  app->add_option("-r,--read", opt->read_file, "Read frames from FILE ('-' for standard input)")
      ->required()
      ->option_text("FILE");
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
