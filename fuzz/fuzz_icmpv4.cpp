// ICMP for IPv4: the Packet and Header views, the RFC 4884 original-datagram
// bound and quote() (the quoted header checked with its own IHL), the text
// formatter over any bytes, and a Repr parse/emit round trip.
#include <fmt/format.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/icmpv4.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes in = ersatz_fuzz::input(data, size);

  // The formatter takes whatever was captured, however short.
  {
    fmt::memory_buffer text;
    icmpv4::format(text, in, size);
    FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));
  }

  auto h = icmpv4::Header<>::checked(in);
  FUZZ_CHECK(h.has_value() == (size >= icmpv4::header_len));

  auto p = icmpv4::Packet<>::checked(in);
  if (!p) return 0;
  FUZZ_CHECK(size >= icmpv4::header_len && size >= icmpv4::Packet<>::min_len(p->type()));
  FUZZ_CHECK(p->data().size() == size - icmpv4::header_len);
  FUZZ_CHECK(ersatz_fuzz::within(in, p->data()));

  // RFC 4884: the original datagram is a prefix of the data.
  const ConstBytes orig = p->original_datagram();
  FUZZ_CHECK(orig.data() == p->data().data() && orig.size() <= p->data().size());
  if (auto q = p->quote()) {
    FUZZ_CHECK(q->header_len() >= ipv4::min_header_len && q->header_len() <= ipv4::max_header_len);
    FUZZ_CHECK(q->header().size() == q->header_len());
    FUZZ_CHECK(ersatz_fuzz::within(orig, q->header()));
    FUZZ_CHECK(ersatz_fuzz::within(orig, q->options()));
    FUZZ_CHECK(q->payload().size() >= ipv4::min_quoted_data);
    FUZZ_CHECK(ersatz_fuzz::within(orig, q->payload()));
    FUZZ_CHECK(ersatz_fuzz::adjacent(q->header(), q->payload()));
    (void)ipv4::validate_options(q->options());
    if (auto qh = icmpv4::Header<>::checked(q->payload())) {
      (void)qh->type();
      (void)qh->rest();
    }
  }

  // compute_checksum() gives the value that makes the message verify.
  std::vector<std::byte> copy(in.begin(), in.end());
  auto m = icmpv4::Packet<MutBytes>::checked(copy);
  FUZZ_CHECK(m.has_value());
  m->set_checksum(p->compute_checksum());
  FUZZ_CHECK(m->verify_checksum());
  m->set_checksum(static_cast<std::uint16_t>(~p->checksum()));
  m->fill_checksum();
  FUZZ_CHECK(m->verify_checksum());

  auto loose = icmpv4::Repr::parse(*p, ipv4::Verify::no);
  auto strict = icmpv4::Repr::parse(*p, ipv4::Verify::yes);
  FUZZ_CHECK(loose.has_value());
  FUZZ_CHECK(strict.has_value() == p->verify_checksum());
  if (strict) FUZZ_CHECK(*strict == *loose);
  FUZZ_CHECK(loose->type == p->type() && loose->code == p->code() && loose->rest == p->rest());

  // Round trip: every byte but the checksum comes back as it was read.
  FUZZ_CHECK(loose->buffer_len() == size);
  std::vector<std::byte> out(loose->buffer_len(), std::byte{0xa5});
  loose->emit(out);
  for (std::size_t i = 0; i < size; ++i) {
    if (i == icmpv4::field::checksum.begin || i == icmpv4::field::checksum.begin + 1) continue;
    FUZZ_CHECK(out[i] == in[i]);
  }
  auto again = icmpv4::Packet<>::checked(out);
  FUZZ_CHECK(again.has_value() && again->verify_checksum());
  auto r2 = icmpv4::Repr::parse(*again, ipv4::Verify::yes);
  FUZZ_CHECK(r2.has_value() && *r2 == *loose);
  return 0;
}
