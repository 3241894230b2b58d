// ARP: the generic view (any ar$hln and ar$pln), the text formatter, and
// for the Ethernet/IPv4 form a Repr round trip that must reproduce the
// packet byte for byte.
#include <fmt/format.h>
#include <array>
#include <cstddef>
#include <cstdint>

#include "ersatz/wire/arp.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes in = ersatz_fuzz::input(data, size);
  auto p = arp::Packet<>::checked(in);
  if (!p) {
    FUZZ_CHECK(p.error() == Error::truncated);
    return 0;
  }
  // After check_len every address field lies inside the input, in order.
  const std::size_t hln = p->hardware_len();
  const std::size_t pln = p->protocol_len();
  FUZZ_CHECK(p->packet_len() == arp::fixed_header_len + 2 * hln + 2 * pln);
  FUZZ_CHECK(p->packet_len() <= size);
  FUZZ_CHECK(p->sha().size() == hln && p->tha().size() == hln);
  FUZZ_CHECK(p->spa().size() == pln && p->tpa().size() == pln);
  FUZZ_CHECK(ersatz_fuzz::within(in, p->sha()) && ersatz_fuzz::within(in, p->tpa()));
  FUZZ_CHECK(p->sha().data() == in.data() + arp::fixed_header_len);
  FUZZ_CHECK(ersatz_fuzz::adjacent(p->sha(), p->spa()));
  FUZZ_CHECK(ersatz_fuzz::adjacent(p->spa(), p->tha()));
  FUZZ_CHECK(ersatz_fuzz::adjacent(p->tha(), p->tpa()));

  fmt::memory_buffer text;
  arp::format(text, *p, size);
  FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));

  auto r = arp::Repr::parse(*p);
  FUZZ_CHECK(r.has_value() == p->is_ethernet_ipv4());
  if (!r) {
    FUZZ_CHECK(r.error() == Error::unsupported);
    return 0;
  }
  std::array<std::byte, arp::Repr::buffer_len()> out{};
  r->emit(out);
  FUZZ_CHECK(ersatz_fuzz::same_bytes(out, in.first(arp::Repr::buffer_len())));
  auto again = arp::Packet<>::checked(out);
  FUZZ_CHECK(again.has_value());
  auto r2 = arp::Repr::parse(*again);
  FUZZ_CHECK(r2.has_value() && *r2 == *r);
  return 0;
}
