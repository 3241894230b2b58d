// IEEE 802.1Q VLAN tags, also stacked as 802.1ad (Q-in-Q).
//
// On the wire a tag is the TPID (which sits where the ethertype would be)
// followed by the 2-byte TCI and the next type field. This view covers the
// TCI and the next type, so that tags chain: each one's `next_type` is the
// TPID of the following tag or the payload's ethertype.
#pragma once

#include <fmt/format.h>
#include <cstdint>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/text.hpp"

namespace ersatz::wire {

enum class EtherType : std::uint16_t;

namespace vlan {

namespace field {
inline constexpr Field tci{0, 2};
inline constexpr Field next_type{2, 4};
}  // namespace field

inline constexpr std::size_t header_len = field::next_type.end;

template <ByteSpan S = ConstBytes>
class Packet {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  Result<void> check_len() const noexcept {
    if (buf_.size() < header_len) return fail(Error::truncated);
    return {};
  }

  /// Priority code point (IEEE 802.1Q §6.9.3), 0..7.
  std::uint8_t pcp() const noexcept { return static_cast<std::uint8_t>(tci() >> 13); }
  /// Drop eligible indicator (formerly CFI).
  bool dei() const noexcept { return (tci() & 0x1000) != 0; }
  /// VLAN identifier, 0..4095.
  std::uint16_t vid() const noexcept { return tci() & 0x0fff; }
  std::uint16_t tci() const noexcept { return load_be16(buf_, field::tci.begin); }
  EtherType next_type() const noexcept {
    return EtherType{load_be16(buf_, field::next_type.begin)};
  }
  S payload() const noexcept { return buf_.subspan(header_len); }

  void set_tci(std::uint8_t pcp, bool dei, std::uint16_t vid) noexcept requires MutableSpan<S> {
    store_be16(
        buf_, field::tci.begin,
        static_cast<std::uint16_t>(((pcp & 7U) << 13) | (dei ? 0x1000U : 0U) | (vid & 0x0fffU)));
  }
  void set_next_type(EtherType t) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::next_type.begin, static_cast<std::uint16_t>(t));
  }

 private:
  constexpr explicit Packet(S bytes) noexcept : buf_(bytes) {}
  S buf_;
};

/// One tag: the TPID that announced it and its TCI fields.
struct Tag {
  EtherType tpid{0x8100};
  std::uint8_t pcp = 0;
  bool dei = false;
  std::uint16_t vid = 0;
  friend bool operator==(const Tag&, const Tag&) = default;
};

/// tcpdump -e: "vlan 42, p 3, " plus "DEI, " when the bit is set.
inline void format(fmt::memory_buffer& out, const Tag& t) {
  text::append(out, "vlan ", t.vid, ", p ", t.pcp, t.dei ? std::string_view(", DEI, ") : ", ");
}

}  // namespace vlan
}  // namespace ersatz::wire
