// UDP (RFC 768), with the checksum over the IPv4 pseudo-header and RFC 1122
// §4.1.3.4's rules for a zero checksum.
#pragma once

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstdint>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/checksum.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/ipv4.hpp"

namespace ersatz::wire::udp {

namespace field {
inline constexpr Field src_port{0, 2};
inline constexpr Field dst_port{2, 4};
inline constexpr Field length{4, 6};  // header and data, in bytes
inline constexpr Field checksum{6, 8};
}  // namespace field

inline constexpr std::size_t header_len = field::checksum.end;
/// The first port traceroute probes (and its default base, `-p`).
inline constexpr std::uint16_t traceroute_port = 33434;

/// Folded sum of the IPv4 pseudo-header for a datagram of `length` bytes.
inline std::uint16_t pseudo_sum(Ipv4Address src, Ipv4Address dst, std::size_t length) noexcept {
  std::array<std::byte, Ipv4Address::size> s{};
  std::array<std::byte, Ipv4Address::size> d{};
  src.write(s);
  dst.write(d);
  return checksum::pseudo_header_sum(s, d, static_cast<std::uint8_t>(ipv4::Protocol::udp),
                                     static_cast<std::uint32_t>(length));
}

/// Accessors for the 8-byte header; derived views guarantee it exists.
template <ByteSpan S>
class HeaderFields {
 public:
  std::uint16_t src_port() const noexcept { return load_be16(buf_, field::src_port.begin); }
  std::uint16_t dst_port() const noexcept { return load_be16(buf_, field::dst_port.begin); }
  std::uint16_t length() const noexcept { return load_be16(buf_, field::length.begin); }
  std::uint16_t checksum() const noexcept { return load_be16(buf_, field::checksum.begin); }

  void set_src_port(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::src_port.begin, v);
  }
  void set_dst_port(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::dst_port.begin, v);
  }
  void set_length(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::length.begin, v);
  }
  void set_checksum(std::uint16_t v) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::checksum.begin, v);
  }

 protected:
  constexpr explicit HeaderFields(S bytes) noexcept : buf_(bytes) {}
  Result<void> check_header() const noexcept {
    if (buf_.size() < header_len) return fail(Error::truncated);
    return {};
  }
  S buf_;
};

/// The 8-byte header alone, as quoted inside an ICMP error, whose length
/// field describes a datagram that is not there.
template <ByteSpan S = ConstBytes>
class Header : public HeaderFields<S> {
 public:
  static Result<Header> checked(S bytes) noexcept {
    Header h(bytes);
    if (auto r = h.check_len(); !r) return tl::unexpected(r.error());
    return h;
  }
  Result<void> check_len() const noexcept { return this->check_header(); }

 private:
  constexpr explicit Header(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

/// A whole datagram: the IPv4 payload. The length field bounds it; bytes
/// past it are not part of the datagram.
template <ByteSpan S = ConstBytes>
class Packet : public HeaderFields<S> {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  /// The header, a length that covers it, and the bytes the length claims.
  Result<void> check_len() const noexcept {
    if (auto r = this->check_header(); !r) return r;
    if (this->length() < header_len) return fail(Error::bad_length);
    if (this->length() > this->buf_.size()) return fail(Error::truncated);
    return {};
  }

  S payload() const noexcept { return this->buf_.subspan(header_len, this->length() - header_len); }
  S datagram() const noexcept { return this->buf_.first(this->length()); }

  /// RFC 768: a checksum of zero means the sender computed none.
  bool has_checksum() const noexcept { return this->checksum() != 0; }
  /// True when no checksum was sent or it verifies over the pseudo-header
  /// and the datagram.
  bool verify_checksum(Ipv4Address src, Ipv4Address dst) const noexcept {
    if (!has_checksum()) return true;
    const ConstBytes d = datagram();
    return checksum::combine(pseudo_sum(src, dst, d.size()), checksum::ones_sum(d)) == 0xffff;
  }
  /// The checksum the datagram should carry; a computed zero is sent as
  /// all ones (RFC 768), since zero means "none".
  std::uint16_t compute_checksum(Ipv4Address src, Ipv4Address dst) const noexcept {
    const ConstBytes d = datagram();
    std::uint16_t sum = checksum::combine(pseudo_sum(src, dst, d.size()), checksum::ones_sum(d));
    // Take the stored checksum back out (RFC 1624 eqn. 3 with m' = 0).
    sum = checksum::combine(sum, static_cast<std::uint16_t>(~this->checksum()));
    const auto c = static_cast<std::uint16_t>(~sum);
    return c == 0 ? 0xffff : c;
  }
  void fill_checksum(Ipv4Address src, Ipv4Address dst) noexcept requires MutableSpan<S> {
    this->set_checksum(0);
    this->set_checksum(compute_checksum(src, dst));
  }

 private:
  constexpr explicit Packet(S bytes) noexcept : HeaderFields<S>(bytes) {}
};

/// A datagram as a value: ports and payload (borrowed). The length and the
/// checksum are derived on emit.
struct Repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  ConstBytes payload;

  /// Checks the checksum when asked and one was sent (RFC 1122 §4.1.3.4).
  static Result<Repr> parse(const Packet<ConstBytes>& p, Ipv4Address src, Ipv4Address dst,
                            ipv4::Verify verify = ipv4::Verify::yes) noexcept;
  std::size_t buffer_len() const noexcept { return header_len + payload.size(); }
  /// Writes header, payload and checksum into exactly buffer_len() bytes,
  /// which must be at most 65535.
  void emit(MutBytes buf, Ipv4Address src, Ipv4Address dst) const noexcept;

  friend bool operator==(const Repr& a, const Repr& b) noexcept {
    return a.src_port == b.src_port && a.dst_port == b.dst_port &&
           std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
  }
};

// Inline for the reason given at ethernet::Repr::parse.
inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p, Ipv4Address src, Ipv4Address dst,
                                ipv4::Verify verify) noexcept {
  if (verify == ipv4::Verify::yes && !p.verify_checksum(src, dst)) {
    return fail(Error::bad_checksum);
  }
  return Repr{p.src_port(), p.dst_port(), p.payload()};
}

/// tcpdump -nn: "198.18.0.1.40000 > 198.18.1.2.33434: UDP, length 24".
/// `datagram` is what was captured of the UDP datagram and `length` its
/// length on the wire (the IPv4 payload length). A datagram cut short of
/// its ports prints tcpdump's marker, "198.18.0.1 > 198.18.1.2:  [|udp]".
/// A length field past the IP payload is tcpdump's "UDP, bad length A > B",
/// except in a fragment (`fragmented`), which holds only part of it.
void format(fmt::memory_buffer& out, Ipv4Address src, Ipv4Address dst, ConstBytes datagram,
            std::size_t length, bool fragmented = false);
/// The same over IPv6; `named` is false when extension headers stand
/// between the IPv6 header and UDP, and tcpdump then prints the ports
/// without the addresses.
///
/// `checksum_dst`, when given (tcpdump -v, not a fragment), is the
/// destination the checksum is taken against (tcpdump's: a routing
/// header's last address); the line then says "[udp sum ok] " or
/// "[bad udp cksum 0xSTORED -> 0xRIGHT!] " before "UDP".
void format(fmt::memory_buffer& out, const Ipv6Address& src, const Ipv6Address& dst,
            ConstBytes datagram, std::size_t length, bool named = true, bool fragmented = false,
            const Ipv6Address* checksum_dst = nullptr);

}  // namespace ersatz::wire::udp
