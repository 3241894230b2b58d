#include "ersatz/wire/udp.hpp"

#include <cassert>

#include <algorithm>
#include <span>
#include <type_traits>

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

namespace {

/// tcpdump -v's checksum tag for UDP over IPv6: it sums the shorter of the
/// two lengths, when that much was captured.
void format_checksum(fmt::memory_buffer& out, const Ipv6Address& src, const Ipv6Address& dst,
                     ConstBytes datagram, std::size_t claimed, std::size_t carried) {
  using text::append;
  const std::size_t covered = std::min(claimed, carried) + header_len;
  if (datagram.size() < covered) return;
  const auto& s = src.bytes();
  const auto& d = dst.bytes();
  const std::uint16_t pseudo =
      checksum::pseudo_header_sum(std::as_bytes(std::span(s)), std::as_bytes(std::span(d)), 17,
                                  static_cast<std::uint32_t>(covered));
  const std::uint16_t sum = checksum::combine(pseudo, checksum::ones_sum(datagram.first(covered)));
  const std::uint16_t stored = load_be16(datagram, field::checksum.begin);
  if (sum == 0xffff) {
    append(out, "[udp sum ok] ");
  } else {
    append(out, "[bad udp cksum 0x", text::hex(stored, 4), " -> 0x",
           text::hex(checksum::should_be(stored, sum), 4), "!] ");
  }
}

/// tcpdump's udpipaddr_print and udp_print for either IP version. `named`
/// is false when the IP header's own protocol field is not UDP (IPv6
/// extension headers came between): tcpdump then prints the ports alone,
/// and nothing before its marker when even they are missing.
template <class Addr>
void format_datagram(fmt::memory_buffer& out, const Addr& src, const Addr& dst, ConstBytes datagram,
                     std::size_t length, bool named, bool fragmented,
                     const Addr* checksum_dst = nullptr) {
  using text::append;
  // tcpdump reads the ports first and gives up without them.
  if (datagram.size() < field::dst_port.end) {
    if (named) {
      append(out, src, " > ", dst, ":  [|udp]");
    } else {
      append(out, " [|udp]");
    }
    return;
  }
  const unsigned sport = load_be16(datagram, field::src_port.begin);
  const unsigned dport = load_be16(datagram, field::dst_port.begin);
  if (named) {
    append(out, src, '.', sport, " > ", dst, '.', dport, ": ");
  } else {
    append(out, sport, " > ", dport, ": ");
  }
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
  // tcpdump compares the two lengths without the header, and does not
  // blame a fragment for holding less than its header claims.
  const std::size_t claimed = ulen - header_len;
  const std::size_t carried = length - header_len;
  if constexpr (std::is_same_v<Addr, Ipv6Address>) {
    if (checksum_dst != nullptr)
      format_checksum(out, src, *checksum_dst, datagram, claimed, carried);
  }
  if (claimed > carried && !fragmented) {
    append(out, "UDP, bad length ", claimed, " > ", carried);
    return;
  }
  append(out, "UDP, length ", claimed);
}

}  // namespace

void format(fmt::memory_buffer& out, Ipv4Address src, Ipv4Address dst, ConstBytes datagram,
            std::size_t length, bool fragmented) {
  format_datagram(out, src, dst, datagram, length, true, fragmented);
}

void format(fmt::memory_buffer& out, const Ipv6Address& src, const Ipv6Address& dst,
            ConstBytes datagram, std::size_t length, bool named, bool fragmented,
            const Ipv6Address* checksum_dst) {
  format_datagram(out, src, dst, datagram, length, named, fragmented, checksum_dst);
}

}  // namespace ersatz::wire::udp
