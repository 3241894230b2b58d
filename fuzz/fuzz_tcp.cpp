// TCP: the Header and Packet views, the option reader, the checksum over
// an IPv4 pseudo-header taken from the first 8 input bytes, the text
// formatter over any bytes, and a Repr parse/emit round trip.
#include <fmt/format.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/tcp.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes all = ersatz_fuzz::input(data, size);
  if (size < 8) return 0;
  const ConstBytes in = all.subspan(8);
  const auto pseudo = ipv4::pseudo_header_sum(
      Ipv4Address::from_bytes(all.first(4)), Ipv4Address::from_bytes(all.subspan(4, 4)),
      ipv4::Protocol::tcp, static_cast<std::uint16_t>(in.size()));
  {
    tcp::TextOptions o;
    o.relative = {load_u8(all, 0) * 7919U, load_u8(all, 1) * 104729U, load_u8(all, 2)};
    o.verbose = load_u8(all, 3) & 3;
    if (o.verbose) o.pseudo = pseudo;
    for (std::size_t len : {in.size(), in.size() / 2, in.size() + 100}) {
      fmt::memory_buffer text;
      tcp::format(text, in, len, o);
      FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));
    }
  }

  auto p = tcp::Packet<>::checked(in);
  auto h = tcp::Header<>::checked(in);
  FUZZ_CHECK(p.has_value() == h.has_value());
  if (!p) return 0;
  FUZZ_CHECK(p->header_len() >= tcp::min_header_len && p->header_len() <= tcp::max_header_len);
  FUZZ_CHECK(ersatz_fuzz::adjacent(p->options(), p->payload()));
  FUZZ_CHECK(p->options().size() + p->payload().size() + tcp::min_header_len == in.size());

  tcp::OptionReader reader(p->options());
  const std::byte* at = p->options().data();
  bool saw_eol = false;
  while (auto o = reader.next()) {
    FUZZ_CHECK(!saw_eol);
    FUZZ_CHECK(o->bytes.data() == at && !o->bytes.empty());
    FUZZ_CHECK(ersatz_fuzz::within(p->options(), o->bytes));
    saw_eol = o->kind == tcp::OptionKind::eol;
    at += o->bytes.size();
  }

  std::vector<std::byte> copy(in.begin(), in.end());
  auto m = tcp::Packet<MutBytes>::checked(copy);
  FUZZ_CHECK(m.has_value());
  m->set_checksum(p->compute_checksum(pseudo));
  FUZZ_CHECK(m->verify_checksum(pseudo));

  auto loose = tcp::Repr::parse(*p, pseudo, ipv4::Verify::no);
  FUZZ_CHECK(loose.has_value() == !reader.error().has_value());
  if (!loose) return 0;
  auto strict = tcp::Repr::parse(*p, pseudo, ipv4::Verify::yes);
  FUZZ_CHECK(strict.has_value() == p->verify_checksum(pseudo));
  // Round trip: the header (its options padded as they were) and payload
  // come back byte for byte, but for the checksum.
  FUZZ_CHECK(loose->buffer_len() == in.size());
  std::vector<std::byte> out(loose->buffer_len(), std::byte{0xa5});
  loose->emit(out, pseudo);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == tcp::field::checksum.begin || i == tcp::field::checksum.begin + 1) continue;
    if (i == tcp::field::offset_flags.begin) {
      FUZZ_CHECK((out[i] & std::byte{0xf0}) == (in[i] & std::byte{0xf0}));
      continue;
    }
    FUZZ_CHECK(out[i] == in[i]);
  }
  auto again = tcp::Packet<>::checked(out);
  FUZZ_CHECK(again && again->verify_checksum(pseudo));
  auto r2 = tcp::Repr::parse(*again, pseudo);
  FUZZ_CHECK(r2 && *r2 == *loose);
  return 0;
}
