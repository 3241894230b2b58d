// Ethernet II framing (IEEE 802.3 §3.2 with the DIX type field).
//
// The FCS is not part of the frames handled here: capture and raw sockets
// strip it, and transmit paths append it in hardware.
#pragma once

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/vlan.hpp"

namespace ersatz::wire {

/// Open enum: any 16-bit value round-trips.
enum class EtherType : std::uint16_t {
  ipv4 = 0x0800,
  arp = 0x0806,
  rarp = 0x8035,
  vlan = 0x8100,  ///< IEEE 802.1Q C-tag
  ipv6 = 0x86dd,
  qinq = 0x88a8,  ///< IEEE 802.1ad S-tag
  lldp = 0x88cc,
  qinq_old = 0x9100,  ///< pre-standard stacked tag, still seen in the wild
};

/// tcpdump's name for an ethertype ("IPv4", "ARP", "802.1Q"), or "Unknown".
std::string_view name(EtherType t) noexcept;

/// True for the TPIDs that announce a VLAN tag.
constexpr bool is_vlan_tpid(EtherType t) noexcept {
  return t == EtherType::vlan || t == EtherType::qinq || t == EtherType::qinq_old;
}

namespace ethernet {

namespace field {
inline constexpr Field dst{0, 6};
inline constexpr Field src{6, 12};
inline constexpr Field ethertype{12, 14};
}  // namespace field

inline constexpr std::size_t header_len = field::ethertype.end;
/// Shortest frame on the wire, FCS excluded (IEEE 802.3 §4.4.2: 64 with FCS).
inline constexpr std::size_t min_frame_len = 60;
/// Tags a Repr can describe; more is rejected as `too_many_tags`.
inline constexpr std::size_t max_tags = 4;

/// Zero-copy view of an Ethernet II header and what follows it.
template <ByteSpan S = ConstBytes>
class Packet {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  /// The only bounds check: after it, no accessor can read out of bounds.
  Result<void> check_len() const noexcept {
    if (buf_.size() < header_len) return fail(Error::truncated);
    return {};
  }

  MacAddress dst() const noexcept { return MacAddress::from_bytes(sub(buf_, field::dst)); }
  MacAddress src() const noexcept { return MacAddress::from_bytes(sub(buf_, field::src)); }
  /// The type field at offset 12: a TPID when the frame is tagged.
  EtherType ethertype() const noexcept {
    return EtherType{load_be16(buf_, field::ethertype.begin)};
  }
  S payload() const noexcept { return buf_.subspan(header_len); }
  S bytes() const noexcept { return buf_; }

  void set_dst(MacAddress m) noexcept requires MutableSpan<S> { m.write(sub(buf_, field::dst)); }
  void set_src(MacAddress m) noexcept requires MutableSpan<S> { m.write(sub(buf_, field::src)); }
  void set_ethertype(EtherType t) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::ethertype.begin, static_cast<std::uint16_t>(t));
  }

 private:
  constexpr explicit Packet(S bytes) noexcept : buf_(bytes) {}
  S buf_;
};

/// An Ethernet header with its stack of VLAN tags, outermost first.
struct Repr {
  MacAddress dst;
  MacAddress src;
  std::array<vlan::Tag, max_tags> tags{};
  std::uint8_t tag_count = 0;
  /// The type of the payload, after the last tag.
  EtherType ethertype = EtherType::ipv4;

  /// Walks the tag stack; each tag is checked by its own view.
  static Result<Repr> parse(const Packet<ConstBytes>& packet) noexcept;
  /// parse() into a Repr the caller keeps (on error it is partly written),
  /// for the decoder, which fills a Repr held in its result in place.
  static Result<void> parse_into(const Packet<ConstBytes>& packet, Repr& r) noexcept;

  std::size_t header_len() const noexcept {
    return ethernet::header_len + vlan::header_len * tag_count;
  }
  /// Header, payload and the zero padding up to the 60-byte minimum.
  std::size_t buffer_len(std::size_t payload_len) const noexcept {
    return std::max(min_frame_len, header_len() + payload_len);
  }
  /// Writes the header into `frame` (exactly buffer_len(payload_len) bytes)
  /// and zeroes the padding after the payload, which the caller writes at
  /// frame.subspan(header_len()).
  void emit(MutBytes frame, std::size_t payload_len) const noexcept;

  std::span<const vlan::Tag> tag_stack() const noexcept { return {tags.data(), tag_count}; }
  friend bool operator==(const Repr& a, const Repr& b) noexcept {
    return a.dst == b.dst && a.src == b.src && a.ethertype == b.ethertype &&
           std::equal(a.tag_stack().begin(), a.tag_stack().end(), b.tag_stack().begin(),
                      b.tag_stack().end());
  }
};

// Defined here rather than in ethernet.cpp: out of line, the Repr is built
// on the callee's stack with narrow stores and copied into the returned
// Result with wide loads that span them, a store-forwarding stall that cost
// more than the parse itself (bench/README.md). Visible to the caller, it is
// built in place.
inline Result<void> Repr::parse_into(const Packet<ConstBytes>& packet, Repr& r) noexcept {
  r.dst = packet.dst();
  r.src = packet.src();
  r.tag_count = 0;
  EtherType type = packet.ethertype();
  ConstBytes rest = packet.payload();
  while (is_vlan_tpid(type)) {
    if (r.tag_count == max_tags) return fail(Error::too_many_tags);
    auto tag = vlan::Packet<ConstBytes>::checked(rest);
    if (!tag) return tl::unexpected(tag.error());
    r.tags[r.tag_count++] = vlan::Tag{type, tag->pcp(), tag->dei(), tag->vid()};
    type = tag->next_type();
    rest = tag->payload();
  }
  r.ethertype = type;
  return {};
}

inline Result<Repr> Repr::parse(const Packet<ConstBytes>& packet) noexcept {
  Repr r;
  if (auto ok = parse_into(packet, r); !ok) return tl::unexpected(ok.error());
  return r;
}

/// tcpdump -e: "SRC > DST, ethertype IPv4 (0x0800), length LEN: " and, per
/// tag, "vlan 42, p 0, ethertype IPv4 (0x0800), ". Formatters append to a
/// buffer the caller owns; its inline capacity covers any one line.
void format(fmt::memory_buffer& out, const Repr& r, std::size_t wire_len);

}  // namespace ethernet
}  // namespace ersatz::wire
