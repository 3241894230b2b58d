// Decodes a capture file and prints one tcpdump -nn style line per frame,
// or one JSON object with Wireshark's field names (--json).
//
//   decode_pcap FILE.pcap [--json]
#include <cstdio>
#include <string>
#include <string_view>

#include <ersatz/decode/dissect.hpp>
#include <ersatz/link/pcap_file.hpp>

int main(int argc, char** argv) {
  using namespace ersatz;
  if (argc < 2) {
    std::fprintf(stderr, "usage: decode_pcap FILE.pcap [--json]\n");
    return 2;
  }
  const bool json = argc > 2 && std::string_view(argv[2]) == "--json";
  auto reader = link::PcapReader::open(argv[1]);
  if (!reader) {
    std::fprintf(stderr, "decode_pcap: %s: %s\n", argv[1], reader.error().message().c_str());
    return 1;
  }
  decode::TextOptions options;
  options.time = decode::TimeStyle::unix_seconds;  // the same output in every time zone
  fmt::memory_buffer line;
  std::uint64_t number = 0;
  for (;;) {
    auto record = reader->next();
    if (!record) {
      std::fprintf(stderr, "decode_pcap: %s\n", link::describe(*reader, record.error()).c_str());
      return 1;
    }
    if (!*record) break;  // end of file
    // dissect() never fails: what cannot be read is named in `malformed`.
    const decode::Frame frame{++number, (*record)->ts, (*record)->wire_len, (*record)->data};
    const decode::Dissection d = decode::dissect(frame.data, frame.wire_len);
    line.clear();
    if (json) {
      decode::format_json(line, frame, d);
    } else {
      decode::format_text(line, frame, d, options);
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  return 0;
}
