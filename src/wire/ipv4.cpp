#include "ersatz/wire/ipv4.hpp"

#include <cassert>

#include <algorithm>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::ipv4 {

Result<void> validate_options(ConstBytes options) noexcept {
  OptionReader reader(options);
  while (auto o = reader.next()) {
    switch (o->type) {
      case OptionType::rr:
      case OptionType::lsrr:
      case OptionType::ssrr:
        // RFC 791 §3.1: length 3 + 4n, pointer ≥ 4.
        if (o->length() < 3 || o->pointer() < 4) return fail(Error::bad_option);
        break;
      case OptionType::ts:
        // RFC 791 §3.1: pointer ≥ 5; length 4 + data.
        if (o->length() < 4 || o->pointer() < 5) return fail(Error::bad_option);
        break;
      case OptionType::ra:
        // RFC 2113 §2.1: always 4 bytes.
        if (o->length() != 4) return fail(Error::bad_option);
        break;
      default:
        // RFC 1122 §3.2.1.8: unknown options are ignored.
        break;
    }
  }
  if (auto e = reader.error()) return fail(*e);
  return {};
}

void Repr::emit(MutBytes buf) const noexcept {
  assert(buf.size() == buffer_len() && options.size() <= max_options_len && frag_offset % 8 == 0);
  const std::size_t hlen = header_len();
  store_u8(buf, field::ver_ihl, static_cast<std::uint8_t>(0x40U | (hlen / 4)));
  store_u8(buf, field::tos, tos);
  store_be16(buf, field::total_len.begin, static_cast<std::uint16_t>(hlen + payload_len));
  store_be16(buf, field::ident.begin, ident);
  const auto flags = static_cast<std::uint16_t>(
      (reserved_flag ? flag_reserved : 0U) | (dont_fragment ? flag_df : 0U) |
      (more_fragments ? flag_mf : 0U) | ((frag_offset / 8U) & frag_offset_mask));
  store_be16(buf, field::flags_frag.begin, flags);
  store_u8(buf, field::ttl, ttl);
  store_u8(buf, field::protocol, static_cast<std::uint8_t>(protocol));
  store_be16(buf, field::checksum.begin, 0);
  src.write(sub(buf, field::src));
  dst.write(sub(buf, field::dst));
  auto opts = buf.subspan(min_header_len, hlen - min_header_len);
  std::copy(options.begin(), options.end(), opts.begin());
  // RFC 791: the header is padded with zeros (EOL) to a 32-bit boundary.
  std::fill(opts.begin() + static_cast<std::ptrdiff_t>(options.size()), opts.end(), std::byte{0});
  store_be16(buf, field::checksum.begin, checksum::compute(buf.first(hlen)));
}

void format(fmt::memory_buffer& out, const HeaderFields<ConstBytes>& h) {
  text::append(out, h.src(), " > ", h.dst(), ": ");
}

}  // namespace ersatz::wire::ipv4
