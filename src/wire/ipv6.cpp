#include "ersatz/wire/ipv6.hpp"

#include <cassert>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::ipv6 {

void Repr::emit(MutBytes buf) const noexcept {
  assert(buf.size() == buffer_len());
  const std::uint32_t first =
      (std::uint32_t{6} << 28) | (std::uint32_t{traffic_class} << 20) | (flow_label & 0xfffffU);
  store_be32(buf, field::ver_tc_flow.begin, first);
  store_be16(buf, field::payload_len.begin, static_cast<std::uint16_t>(payload_len));
  store_u8(buf, field::next_header, static_cast<std::uint8_t>(next_header));
  store_u8(buf, field::hop_limit, hop_limit);
  src.write(buf.subspan(field::src.begin, Ipv6Address::size));
  dst.write(buf.subspan(field::dst.begin, Ipv6Address::size));
}

void format(fmt::memory_buffer& out, const HeaderFields<ConstBytes>& h) {
  text::append(out, h.src(), " > ", h.dst(), ": ");
}

}  // namespace ersatz::wire::ipv6
