// Ethernet II with its stack of VLAN tags: the view, Repr::parse, the text
// formatter, and a round trip: what parsed is emitted into a buffer of
// buffer_len() and must read back the same, byte for byte.
#include <fmt/format.h>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/vlan.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes frame = ersatz_fuzz::input(data, size);
  auto p = ethernet::Packet<>::checked(frame);
  FUZZ_CHECK(p.has_value() == (size >= ethernet::header_len));
  if (!p) return 0;
  FUZZ_CHECK(ersatz_fuzz::within(frame, p->payload()));
  FUZZ_CHECK(p->payload().size() == size - ethernet::header_len);

  // Walk the tags by hand with the vlan view, as a second opinion.
  std::size_t tags = 0;
  EtherType type = p->ethertype();
  ConstBytes rest = p->payload();
  bool walk_ok = true;
  while (is_vlan_tpid(type)) {
    auto tag = vlan::Packet<>::checked(rest);
    if (!tag || tags == ethernet::max_tags) {
      walk_ok = false;
      break;
    }
    FUZZ_CHECK(tag->vid() <= 0x0fff && tag->pcp() <= 7);
    ++tags;
    type = tag->next_type();
    rest = tag->payload();
  }

  auto r = ethernet::Repr::parse(*p);
  FUZZ_CHECK(r.has_value() == walk_ok);
  if (!r) {
    FUZZ_CHECK(r.error() == Error::truncated || r.error() == Error::too_many_tags);
    return 0;
  }
  FUZZ_CHECK(r->tag_count == tags && r->tag_count <= ethernet::max_tags);
  FUZZ_CHECK(r->ethertype == type && !is_vlan_tpid(r->ethertype));
  FUZZ_CHECK(r->header_len() <= size);

  fmt::memory_buffer text;
  ethernet::format(text, *r, size);
  FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));

  // Round trip: emit the header, copy the payload after it, and compare.
  const std::size_t payload_len = size - r->header_len();
  const std::size_t len = r->buffer_len(payload_len);
  FUZZ_CHECK(len >= ethernet::min_frame_len && len >= size);
  std::vector<std::byte> out(len, std::byte{0xa5});
  r->emit(out, payload_len);
  const ConstBytes payload = frame.subspan(r->header_len());
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(r->header_len()));
  FUZZ_CHECK(ersatz_fuzz::same_bytes(ConstBytes(out).first(size), frame));
  for (std::size_t i = size; i < len; ++i) FUZZ_CHECK(out[i] == std::byte{0});

  auto again = ethernet::Packet<>::checked(out);
  FUZZ_CHECK(again.has_value());
  auto r2 = ethernet::Repr::parse(*again);
  FUZZ_CHECK(r2.has_value() && *r2 == *r);
  return 0;
}
