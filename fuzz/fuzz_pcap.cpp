// The pcap reader over a hostile file image: every record it hands out must
// respect the limits it promises, lie inside the image, and decode (dissect,
// text and JSON) without fault; errors must come with a describable offset.
#include <fmt/format.h>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ersatz/decode/dissect.hpp"
#include "ersatz/link/pcap_file.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes image = ersatz_fuzz::input(data, size);
  auto reader = link::PcapReader::from_memory(image, "fuzz.pcap");
  if (!reader) {
    FUZZ_CHECK(reader.error().category() == link::pcap_category());
    return 0;
  }
  FUZZ_CHECK(size >= 24);
  std::uint64_t number = 0;
  std::uint64_t last_offset = 0;
  for (;;) {
    auto rec = reader->next();
    if (!rec) {
      FUZZ_CHECK(reader->offset() <= size);
      const std::string why = link::describe(*reader, rec.error());
      FUZZ_CHECK(!why.empty());
      break;
    }
    if (!*rec) {
      FUZZ_CHECK(reader->offset() == size);  // a clean end is the end of the image
      break;
    }
    const link::PcapRecord& r = **rec;
    ++number;
    FUZZ_CHECK(number <= size / 16);
    FUZZ_CHECK(reader->offset() >= 24 && reader->offset() > last_offset);
    last_offset = reader->offset();
    FUZZ_CHECK(reader->offset() + 16 + r.data.size() <= size);
    FUZZ_CHECK(r.data.data() == image.data() + reader->offset() + 16);
    FUZZ_CHECK(r.data.size() <= r.wire_len);
    FUZZ_CHECK(r.data.size() <= link::max_snaplen);
    if (reader->snaplen() != 0) FUZZ_CHECK(r.data.size() <= reader->snaplen());
    FUZZ_CHECK(r.ts.nsec <= 999'999'999U && r.ts.sec >= 0);
    if (!reader->nanosecond()) FUZZ_CHECK(r.ts.nsec % 1000 == 0);

    const decode::Frame frame{number, r.ts, r.wire_len, r.data};
    const decode::Dissection d = decode::dissect(r.data, r.wire_len);
    fmt::memory_buffer out;
    decode::format_text(out, frame, d, decode::TextOptions{number % 2 == 0});
    out.push_back('\n');
    decode::format_json(out, frame, d);
  }
  return 0;
}
