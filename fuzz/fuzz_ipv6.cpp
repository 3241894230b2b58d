// IPv6: the Header and Packet views, the bounded extension-header walk and
// the option reader, the pseudo-header sum, and a Repr round trip of the
// fixed header.
#include <fmt/format.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/wire/ipv6.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

namespace {

void check_options(ConstBytes options) {
  ipv6::OptionReader reader(options);
  const std::byte* at = options.data();
  std::size_t count = 0;
  while (auto o = reader.next()) {
    FUZZ_CHECK(++count <= options.size());
    FUZZ_CHECK(!o->bytes.empty() && o->bytes.data() == at);
    FUZZ_CHECK(ersatz_fuzz::within(options, o->bytes));
    FUZZ_CHECK(ersatz_fuzz::within(o->bytes, o->data()));
    at += o->bytes.size();
  }
  if (!reader.error()) FUZZ_CHECK(at == options.data() + options.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConstBytes in = ersatz_fuzz::input(data, size);

  auto h = ipv6::Header<>::checked(in);
  FUZZ_CHECK(h.has_value() == (size >= ipv6::header_len));
  if (!h) return 0;
  {
    fmt::memory_buffer text;
    ipv6::format(text, *h);
    FUZZ_CHECK(ersatz_fuzz::printable_line({text.data(), text.size()}));
    // The text form reads back as the same address.
    const std::string_view s(text.data(), text.size());
    const auto src = Ipv6Address::parse(s.substr(0, s.find(' ')));
    FUZZ_CHECK(src && *src == h->src());
  }
  FUZZ_CHECK(h->flow_label() <= 0xfffffU);

  auto p = ipv6::Packet<>::checked(in);
  FUZZ_CHECK(p.has_value() == (ipv6::header_len + h->payload_len() <= size));
  // Walk the chain over whatever follows the header, payload length or not.
  const ConstBytes after = p ? p->payload() : in.subspan(ipv6::header_len);
  FUZZ_CHECK(ersatz_fuzz::within(in, after));
  ipv6::ExtReader ext(h->next_header(), after);
  std::size_t n = 0;
  const std::byte* at = after.data();
  while (auto e = ext.next()) {
    FUZZ_CHECK(++n <= ipv6::max_ext_headers);
    FUZZ_CHECK(e->bytes.data() == at && e->bytes.size() >= ipv6::min_ext_len);
    FUZZ_CHECK(e->bytes.size() % 8 == 0);
    FUZZ_CHECK(ersatz_fuzz::within(after, e->bytes));
    if (e->type == ipv6::NextHeader::hop_by_hop || e->type == ipv6::NextHeader::dst_options) {
      check_options(e->options());
    }
    if (e->type == ipv6::NextHeader::fragment) {
      FUZZ_CHECK(e->frag_offset() % 8 == 0);
      (void)e->frag_ident();
    }
    at += e->bytes.size();
  }
  FUZZ_CHECK(ext.rest().data() == at || ext.rest().empty());
  FUZZ_CHECK(ersatz_fuzz::within(after, ext.rest()));
  if (!ext.error()) FUZZ_CHECK(!ipv6::is_extension(ext.upper_layer()));

  // The pseudo-header sum is the checksum arithmetic over its 40 bytes.
  {
    std::vector<std::byte> ph(40);
    h->src().write({ph.data(), 16});
    h->dst().write({ph.data() + 16, 16});
    store_be32({ph.data(), ph.size()}, 32, static_cast<std::uint32_t>(size));
    store_u8({ph.data(), ph.size()}, 39, 58);
    FUZZ_CHECK(checksum::ones_sum({ph.data(), ph.size()}) ==
               ipv6::pseudo_header_sum(h->src(), h->dst(), static_cast<std::uint32_t>(size), 58));
  }

  if (!p) return 0;
  auto r = ipv6::Repr::parse(*p);
  FUZZ_CHECK(r.has_value() == (p->version() == 6));
  if (!r) return 0;
  std::vector<std::byte> out(r->buffer_len(), std::byte{0xa5});
  r->emit(out);
  FUZZ_CHECK(ersatz_fuzz::same_bytes({out.data(), ipv6::header_len}, in.first(ipv6::header_len)));
  auto again = ipv6::Packet<>::checked(out);
  FUZZ_CHECK(again && ipv6::Repr::parse(*again) == r);
  return 0;
}
