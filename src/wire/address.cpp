#include "ersatz/wire/address.hpp"

namespace ersatz::wire {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<MacAddress> MacAddress::parse(std::string_view text) noexcept {
  if (text.size() != 17) return std::nullopt;
  std::array<std::uint8_t, 6> o{};
  const char sep = text[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i) {
    const int hi = hex_value(text[i * 3]);
    const int lo = hex_value(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != sep) return std::nullopt;
    o[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return MacAddress(o);
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) noexcept {
  std::uint32_t value = 0;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part != 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
    unsigned octet = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
      octet = octet * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || octet > 255 || (digits > 1 && text[start] == '0')) return std::nullopt;
    value = (value << 8) | octet;
  }
  if (pos != text.size()) return std::nullopt;
  return Ipv4Address(value);
}

char* Ipv6Address::format(char* out) const noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  // The longest run of zero groups; a single zero group is not shortened.
  int best = -1;
  int best_len = 0;
  for (int i = 0; i < 8;) {
    if (word(static_cast<std::size_t>(i)) != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && word(static_cast<std::size_t>(j)) == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) *out++ = ':';
      continue;
    }
    if (i != 0) *out++ = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && word(5) == 0xffff))) {
      return Ipv4Address(bytes_[12], bytes_[13], bytes_[14], bytes_[15]).format(out);
    }
    const unsigned w = word(static_cast<std::size_t>(i));
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nib = (w >> shift) & 0xfU;
      if (nib == 0 && !started && shift != 0) continue;
      started = true;
      *out++ = hex[nib];
    }
  }
  if (best >= 0 && best + best_len == 8) *out++ = ':';
  return out;
}

std::optional<Ipv6Address> Ipv6Address::parse(std::string_view text) noexcept {
  std::array<std::uint16_t, 8> words{};
  int count = 0;
  int gap = -1;  // where "::" stands, in groups
  std::size_t pos = 0;
  if (text.substr(0, 2) == "::") {
    gap = 0;
    pos = 2;
  } else if (!text.empty() && text[0] == ':') {
    return std::nullopt;
  }
  while (pos < text.size()) {
    if (count == 8) return std::nullopt;
    // A dotted quad may end the address, in the last two groups.
    const std::size_t end = text.find(':', pos);
    const std::string_view part = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (part.find('.') != std::string_view::npos) {
      if (end != std::string_view::npos || count > 6) return std::nullopt;
      auto v4 = Ipv4Address::parse(part);
      if (!v4) return std::nullopt;
      words[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(v4->value() >> 16);
      words[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(v4->value());
      pos = text.size();
      break;
    }
    if (part.empty() || part.size() > 4) return std::nullopt;
    unsigned v = 0;
    for (char c : part) {
      const int h = hex_value(c);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(h);
    }
    words[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(v);
    if (end == std::string_view::npos) {
      pos = text.size();
    } else if (text.substr(end, 2) == "::") {
      if (gap >= 0) return std::nullopt;
      gap = count;
      pos = end + 2;
    } else {
      pos = end + 1;
      if (pos == text.size()) return std::nullopt;  // a single trailing colon
    }
  }
  if (gap < 0 && count != 8) return std::nullopt;
  if (gap >= 0 && count > 7) return std::nullopt;
  std::array<std::uint8_t, 16> bytes{};
  const int shift = gap < 0 ? 0 : 8 - count;
  for (int i = 0; i < count; ++i) {
    const int at = (gap >= 0 && i >= gap) ? i + shift : i;
    bytes[static_cast<std::size_t>(2 * at)] =
        static_cast<std::uint8_t>(words[static_cast<std::size_t>(i)] >> 8);
    bytes[static_cast<std::size_t>(2 * at + 1)] =
        static_cast<std::uint8_t>(words[static_cast<std::size_t>(i)]);
  }
  return Ipv6Address(bytes);
}

}  // namespace ersatz::wire
