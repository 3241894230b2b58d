// The AF_PACKET ring readers: the kernel writes the ring, but a reader that
// trusted its offsets would be one kernel bug (or one stray write into the
// shared mapping) away from reading outside it. The first byte picks the
// reader: even, the rest is a TPACKET_V3 block for BlockWalker; odd, a
// TPACKET_V2 slot for read_v2_frame. Every frame either reader hands out,
// with its VLAN tag put back, must lie inside the input, and a walk must
// end.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/link/af_packet.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::link;

namespace {

void check_frame(MutBytes area, tpacket::RingFrame f) {
  FUZZ_CHECK(f.snaplen <= f.len);
  FUZZ_CHECK(f.mac_offset >= f.header_offset);
  FUZZ_CHECK(f.mac_offset <= area.size() && area.size() - f.mac_offset >= f.snaplen);
  const std::uint32_t before = f.snaplen;
  if (tpacket::reinsert_vlan(area, f)) {
    // The tag went in front of the frame, never over its header.
    FUZZ_CHECK(f.snaplen == before + 4);
    FUZZ_CHECK(f.mac_offset >= f.header_offset + f.header_len);
    FUZZ_CHECK(area.size() - f.mac_offset >= f.snaplen);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A mutable copy of exactly the input's size: reinsert_vlan writes, and
  // ASan sees a step past the end.
  std::vector<std::byte> ring(size - 1);
  for (std::size_t i = 1; i < size; ++i) ring[i - 1] = static_cast<std::byte>(data[i]);
  const MutBytes area(ring.data(), ring.size());

  if ((data[0] & 1U) != 0) {
    auto f = tpacket::read_v2_frame(area);
    if (f) check_frame(area, *f);
    return 0;
  }
  auto w = tpacket::BlockWalker::open(area);
  if (!w) return 0;
  std::uint32_t frames = 0;
  for (;;) {
    auto f = w->next();
    if (!f || !*f) break;
    ++frames;
    FUZZ_CHECK(frames <= w->num_pkts());
    check_frame(area, **f);
  }
  return 0;
}
