#include "ersatz/wire/udp.hpp"

#include <cassert>

#include <algorithm>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::udp {

void Repr::emit(MutBytes buf, Ipv4Address src, Ipv4Address dst) const noexcept {
  assert(buf.size() == buffer_len() && buf.size() <= 0xffff);
  auto p = Packet<MutBytes>::unchecked(buf);
  p.set_src_port(src_port);
  p.set_dst_port(dst_port);
  p.set_length(static_cast<std::uint16_t>(buf.size()));
  std::copy(payload.begin(), payload.end(), buf.begin() + header_len);
  p.fill_checksum(src, dst);
}

void format(fmt::memory_buffer& out, Ipv4Address src, Ipv4Address dst, ConstBytes datagram,
            std::size_t length) {
  using text::append;
  // tcpdump reads the ports first and gives up without them.
  if (datagram.size() < field::dst_port.end) {
    append(out, src, " > ", dst, ":  [|udp]");
    return;
  }
  append(out, src, '.', load_be16(datagram, field::src_port.begin), " > ", dst, '.',
         load_be16(datagram, field::dst_port.begin), ": ");
  if (length < header_len) {
    append(out, "truncated-udp ", length);
    return;
  }
  if (datagram.size() < field::length.end) {
    append(out, " [|udp]");
    return;
  }
  const std::size_t ulen = load_be16(datagram, field::length.begin);
  if (ulen < header_len) {
    append(out, "truncated-udplength ", ulen);
    return;
  }
  append(out, "UDP, length ", ulen - header_len);
}

}  // namespace ersatz::wire::udp
