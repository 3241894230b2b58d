// Transmit timestamps: the control bytes of an error-queue message come from
// the kernel, but a reader that trusted their lengths would be one kernel
// bug away from reading past its buffer. The first byte picks what runs:
// even, the rest is a control buffer for txstamp::parse_control; odd, the
// rest drives txstamp::Numbering (8 bytes of frames sent, then 4-byte
// keys). A stamp handed out is a valid time; a frame number is one already
// sent and is the key, unwrapped, plus the run of equal keys before it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "ersatz/link/rx_control.hpp"
#include "ersatz/link/tx_timestamp.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::link;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A copy of exactly the input's size: ASan sees a step past the end.
  std::vector<std::byte> rest(size - 1);
  if (size > 1) std::memcpy(rest.data(), data + 1, size - 1);

  if ((data[0] & 1U) == 0) {
    auto s = txstamp::parse_control({rest.data(), rest.size()});
    if (s && *s) {
      FUZZ_CHECK((*s)->ts.nsec < 1'000'000'000U);
      FUZZ_CHECK((*s)->ts.sec >= 0);
      FUZZ_CHECK((*s)->ts.sec != 0 || (*s)->ts.nsec != 0);
    }
    // The same bytes as a received frame's control messages (the
    // ring-less receive path reads them with the same walker).
    auto m = rxmeta::parse_control({rest.data(), rest.size()});
    if (m && m->ts) {
      FUZZ_CHECK(m->ts->nsec < 1'000'000'000U);
      FUZZ_CHECK(m->ts->sec >= 0);
    }
    return 0;
  }

  if (rest.size() < 8) return 0;
  std::uint64_t sent = 0;
  std::memcpy(&sent, rest.data(), sizeof sent);
  txstamp::Numbering n;
  std::optional<std::uint32_t> last;
  std::uint64_t run = 0;
  for (std::size_t at = 8; at + 4 <= rest.size(); at += 4) {
    std::uint32_t key = 0;
    std::memcpy(&key, rest.data() + at, sizeof key);
    // Frames sent may grow between stamps, as they do in a device.
    if ((key & 0x80000000U) != 0 && sent < UINT64_MAX) ++sent;
    const auto f = n.frame(key, sent);
    if (!f) continue;
    FUZZ_CHECK(*f < sent);
    FUZZ_CHECK(static_cast<std::uint32_t>(*f - (last == key ? run + 1 : 0)) == key);
    run = last == key ? run + 1 : 0;
    last = key;
  }
  return 0;
}
