// UDP: the Packet and Header views, the pseudo-header checksum (computed,
// filled, verified), the text formatter over any bytes, and a Repr
// parse/emit round trip. The first 8 bytes of the input are the source and
// destination addresses of the pseudo-header; the rest is the datagram.
#include <fmt/format.h>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/udp.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes all = ersatz_fuzz::input(data, size);
  if (all.size() < 2 * Ipv4Address::size) return 0;
  const Ipv4Address src = Ipv4Address::from_bytes(all.first(4));
  const Ipv4Address dst = Ipv4Address::from_bytes(all.subspan(4, 4));
  const ConstBytes in = all.subspan(8);
  const std::size_t n = in.size();

  // The formatter takes whatever was captured, however short, and any
  // claimed wire length.
  for (std::size_t wire_len : {n, n + 3}) {
    fmt::memory_buffer text;
    udp::format(text, src, dst, in, wire_len);
    FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));
  }

  auto h = udp::Header<>::checked(in);
  FUZZ_CHECK(h.has_value() == (n >= udp::header_len));

  auto p = udp::Packet<>::checked(in);
  FUZZ_CHECK(p.has_value() ==
             (n >= udp::header_len && h->length() >= udp::header_len && h->length() <= n));
  if (!p) return 0;
  FUZZ_CHECK(p->datagram().size() == p->length());
  FUZZ_CHECK(p->payload().size() == p->length() - udp::header_len);
  FUZZ_CHECK(ersatz_fuzz::within(in, p->payload()));
  FUZZ_CHECK(ersatz_fuzz::within(in, p->datagram()));

  // compute_checksum() gives the value that makes the datagram verify, and
  // never zero (which would mean "no checksum").
  std::vector<std::byte> copy(in.begin(), in.end());
  auto m = udp::Packet<MutBytes>::checked(copy);
  FUZZ_CHECK(m.has_value());
  const std::uint16_t c = p->compute_checksum(src, dst);
  FUZZ_CHECK(c != 0);
  m->set_checksum(c);
  FUZZ_CHECK(m->verify_checksum(src, dst));
  m->set_checksum(static_cast<std::uint16_t>(~p->checksum()));
  m->fill_checksum(src, dst);
  FUZZ_CHECK(m->checksum() == c && m->verify_checksum(src, dst));

  auto loose = udp::Repr::parse(*p, src, dst, ipv4::Verify::no);
  auto strict = udp::Repr::parse(*p, src, dst, ipv4::Verify::yes);
  FUZZ_CHECK(loose.has_value());
  FUZZ_CHECK(strict.has_value() == p->verify_checksum(src, dst));
  if (strict) FUZZ_CHECK(*strict == *loose);
  FUZZ_CHECK(loose->src_port == p->src_port() && loose->dst_port == p->dst_port());

  // Round trip: the header but the checksum, and the payload, come back;
  // the padding past the length does not.
  FUZZ_CHECK(loose->buffer_len() == p->length());
  std::vector<std::byte> out(loose->buffer_len(), std::byte{0xa5});
  loose->emit(out, src, dst);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == udp::field::checksum.begin || i == udp::field::checksum.begin + 1) continue;
    FUZZ_CHECK(out[i] == in[i]);
  }
  auto again = udp::Packet<>::checked(out);
  FUZZ_CHECK(again.has_value() && again->has_checksum() && again->verify_checksum(src, dst));
  auto r2 = udp::Repr::parse(*again, src, dst, ipv4::Verify::yes);
  FUZZ_CHECK(r2.has_value() && *r2 == *loose);
  return 0;
}
