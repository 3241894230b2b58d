// IPv4: the Header, Packet and Quote views over the same bytes, the option
// reader and validate_options, the checksum helpers, Repr::parse, and a
// round trip where the Repr parsed: emit into buffer_len() bytes, read back.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/ipv4.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

namespace {

/// Reads every option; checks the reader's framing promises.
void check_options(ConstBytes options) {
  ipv4::OptionReader reader(options);
  const std::byte* at = options.data();
  std::size_t count = 0;
  bool saw_eol = false;
  while (auto o = reader.next()) {
    FUZZ_CHECK(!saw_eol);  // EOL ends the list
    FUZZ_CHECK(++count <= options.size());
    FUZZ_CHECK(!o->bytes.empty() && o->bytes.data() == at);
    FUZZ_CHECK(ersatz_fuzz::within(options, o->bytes));
    FUZZ_CHECK(static_cast<std::uint8_t>(o->type) == load_u8(o->bytes, 0));
    if (o->type == ipv4::OptionType::eol || o->type == ipv4::OptionType::nop) {
      FUZZ_CHECK(o->length() == 1 && o->pointer() == 0);
    } else {
      FUZZ_CHECK(o->length() >= 2 && o->length() == load_u8(o->bytes, 1));
    }
    saw_eol = o->type == ipv4::OptionType::eol;
    at += o->bytes.size();
  }
  const auto consumed = static_cast<std::size_t>(at - options.data());
  FUZZ_CHECK(consumed <= options.size());
  // Without an error the reader stops only at the end or after EOL.
  if (!reader.error()) FUZZ_CHECK(saw_eol || consumed == options.size());
  FUZZ_CHECK(!reader.next().has_value());

  const auto valid = ipv4::validate_options(options);
  if (reader.error()) FUZZ_CHECK(!valid.has_value());
  if (!valid) {
    FUZZ_CHECK(valid.error() == Error::bad_option || valid.error() == Error::truncated);
  }
}

template <class V>
void check_header_fields(ConstBytes in, const V& h) {
  FUZZ_CHECK(h.header_len() >= ipv4::min_header_len && h.header_len() <= ipv4::max_header_len);
  FUZZ_CHECK(h.header_len() <= in.size() && h.header().size() == h.header_len());
  FUZZ_CHECK(h.options().size() == h.header_len() - ipv4::min_header_len);
  FUZZ_CHECK(ersatz_fuzz::within(in, h.options()));
  FUZZ_CHECK(h.frag_offset() <= 0x1fffU * 8U && h.frag_offset() % 8 == 0);
  FUZZ_CHECK(h.dscp() < 64 && h.ecn() < 4);

  // compute_checksum() must give the value that makes the header verify.
  std::array<std::byte, ipv4::max_header_len> copy{};
  std::copy(h.header().begin(), h.header().end(), copy.begin());
  const MutBytes hdr = MutBytes(copy).first(h.header_len());
  store_be16(hdr, ipv4::field::checksum.begin, h.compute_checksum());
  FUZZ_CHECK(checksum::verify(hdr));
  // So must fill_checksum() on a mutable view.
  auto m = ipv4::Header<MutBytes>::checked(hdr);
  FUZZ_CHECK(m.has_value());
  m->set_checksum(static_cast<std::uint16_t>(~h.checksum()));
  m->fill_checksum();
  FUZZ_CHECK(m->verify_checksum());

  fmt::memory_buffer text;
  ipv4::format(text, h);
  FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));
}

void round_trip(ConstBytes in, const ipv4::Packet<>& p, const ipv4::Repr& r) {
  FUZZ_CHECK(r.header_len() == p.header_len());
  FUZZ_CHECK(r.payload_len == p.payload().size());
  FUZZ_CHECK(r.buffer_len() == p.total_len());
  std::vector<std::byte> out(r.buffer_len(), std::byte{0xa5});
  r.emit(out);
  const ConstBytes payload = p.payload();
  std::copy(payload.begin(), payload.end(),
            out.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
  // Every byte but the checksum comes back as it was read.
  const ConstBytes orig = in.first(p.total_len());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == ipv4::field::checksum.begin || i == ipv4::field::checksum.begin + 1) continue;
    FUZZ_CHECK(out[i] == orig[i]);
  }
  auto again = ipv4::Packet<>::checked(out);
  FUZZ_CHECK(again.has_value() && again->verify_checksum());
  auto r2 = ipv4::Repr::parse(*again, ipv4::Verify::yes);
  FUZZ_CHECK(r2.has_value() && *r2 == r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes in = ersatz_fuzz::input(data, size);
  const std::size_t ihl_len = size ? (load_u8(in, 0) & 0x0fU) * 4U : 0;
  const bool header_ok = size >= ipv4::min_header_len && ihl_len >= ipv4::min_header_len &&
                         ihl_len <= size;

  auto h = ipv4::Header<>::checked(in);
  FUZZ_CHECK(h.has_value() == header_ok);
  if (h) {
    check_header_fields(in, *h);
    check_options(h->options());
  }

  if (auto q = ipv4::Quote::checked(in)) {
    FUZZ_CHECK(header_ok);
    check_header_fields(in, *q);
    FUZZ_CHECK(q->payload().size() >= ipv4::min_quoted_data);
    FUZZ_CHECK(q->payload().data() == in.data() + q->header_len());
    FUZZ_CHECK(ersatz_fuzz::within(in, q->payload()));
  }

  auto p = ipv4::Packet<>::checked(in);
  if (!p) return 0;
  FUZZ_CHECK(header_ok);
  FUZZ_CHECK(p->total_len() >= p->header_len() && p->total_len() <= size);
  FUZZ_CHECK(p->datagram().size() == p->total_len());
  FUZZ_CHECK(p->payload().size() == p->total_len() - p->header_len());
  FUZZ_CHECK(ersatz_fuzz::within(in, p->payload()));
  FUZZ_CHECK(ersatz_fuzz::adjacent(p->header(), p->payload()));

  auto loose = ipv4::Repr::parse(*p, ipv4::Verify::no);
  auto strict = ipv4::Repr::parse(*p, ipv4::Verify::yes);
  const bool options_ok = ipv4::validate_options(p->options()).has_value();
  FUZZ_CHECK(loose.has_value() == (p->version() == 4 && options_ok));
  FUZZ_CHECK(strict.has_value() == (loose.has_value() && p->verify_checksum()));
  if (strict) FUZZ_CHECK(*strict == *loose);
  if (loose) round_trip(in, *p, *loose);
  return 0;
}
