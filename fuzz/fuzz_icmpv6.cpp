// ICMPv6, NDP and MLD: the Packet and Header views, the ND option and
// MLDv2 record readers, the pseudo-header checksum, the text formatter
// over any bytes, and a Repr parse/emit round trip. The first 32 bytes of
// the input are the pseudo-header's addresses.
#include <fmt/format.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/icmpv6.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes all = ersatz_fuzz::input(data, size);
  if (size < 32) return 0;
  const auto src = Ipv6Address::from_bytes(all.first(16));
  const auto dst = Ipv6Address::from_bytes(all.subspan(16, 16));
  const ConstBytes in = all.subspan(32);
  const auto pseudo = ipv6::pseudo_header_sum(src, dst, static_cast<std::uint32_t>(in.size()), 58);

  // The formatter takes whatever was captured, with any wire length.
  for (std::size_t len : {in.size(), in.size() + 7, std::size_t{24}, std::size_t{0}}) {
    fmt::memory_buffer text;
    icmpv6::format(text, in, len);
    FUZZ_CHECK(ersatz_fuzz::printable_lines({text.data(), text.size()}));
  }

  auto h = icmpv6::Header<>::checked(in);
  FUZZ_CHECK(h.has_value() == (in.size() >= icmpv6::header_len));
  auto p = icmpv6::Packet<>::checked(in);
  if (!p) return 0;
  FUZZ_CHECK(in.size() >= icmpv6::Packet<>::min_len(p->type()));
  FUZZ_CHECK(ersatz_fuzz::within(in, p->nd_options()));

  icmpv6::NdOptionReader opts(p->nd_options());
  std::size_t n = 0;
  while (auto o = opts.next()) {
    FUZZ_CHECK(++n <= in.size() / 8);
    FUZZ_CHECK(o->bytes.size() >= 8 && o->bytes.size() % 8 == 0);
    FUZZ_CHECK(ersatz_fuzz::within(p->nd_options(), o->bytes));
  }
  if (p->type() == icmpv6::Type::mld2_report) {
    auto records = p->mld2_records();
    std::size_t k = 0;
    while (auto r = records.next()) {
      FUZZ_CHECK(++k <= p->mld2_num_records());
      FUZZ_CHECK(r->bytes.size() >= icmpv6::record_min_len + r->num_sources() * 16);
      FUZZ_CHECK(ersatz_fuzz::within(in, r->bytes));
      if (r->num_sources() > 0) (void)r->source(r->num_sources() - 1);
      (void)r->address();
    }
  }

  // compute_checksum() makes the message verify.
  std::vector<std::byte> copy(in.begin(), in.end());
  auto m = icmpv6::Packet<MutBytes>::checked(copy);
  FUZZ_CHECK(m.has_value());
  m->set_checksum(p->compute_checksum(pseudo));
  FUZZ_CHECK(m->verify_checksum(pseudo));
  m->fill_checksum(pseudo);
  FUZZ_CHECK(m->verify_checksum(pseudo));

  auto loose = icmpv6::Repr::parse(*p, pseudo, ipv4::Verify::no);
  auto strict = icmpv6::Repr::parse(*p, pseudo, ipv4::Verify::yes);
  FUZZ_CHECK(loose.has_value() == icmpv6::validate_nd_options(p->nd_options()).has_value());
  if (strict) FUZZ_CHECK(loose && *strict == *loose && p->verify_checksum(pseudo));
  if (!loose) return 0;
  FUZZ_CHECK(loose->buffer_len() == in.size());
  std::vector<std::byte> out(loose->buffer_len(), std::byte{0xa5});
  loose->emit(out, pseudo);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == icmpv6::field::checksum.begin || i == icmpv6::field::checksum.begin + 1) continue;
    FUZZ_CHECK(out[i] == in[i]);
  }
  auto again = icmpv6::Packet<>::checked(out);
  FUZZ_CHECK(again && again->verify_checksum(pseudo));
  return 0;
}
