// ARP (RFC 826), with the generic header for any hardware and protocol
// sizes, and a Repr for the one combination hosts use: Ethernet and IPv4.
#pragma once

#include <fmt/format.h>
#include <cstdint>

#include "ersatz/base/result.hpp"
#include "ersatz/base/view.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/error.hpp"
#include "ersatz/wire/ethernet.hpp"

namespace ersatz::wire::arp {

/// Open enum of ar$op (RFC 826, RFC 903 for RARP, RFC 2390 for InARP).
enum class Operation : std::uint16_t {
  request = 1,
  reply = 2,
  rarp_request = 3,
  rarp_reply = 4,
  inarp_request = 8,
  inarp_reply = 9,
  nak = 10,
};

/// ar$hrd values of interest (IANA "Hardware Types").
enum class Hardware : std::uint16_t { ethernet = 1, ieee802 = 6 };

namespace field {
inline constexpr Field hardware_type{0, 2};
inline constexpr Field protocol_type{2, 4};
inline constexpr std::size_t hardware_len = 4;
inline constexpr std::size_t protocol_len = 5;
inline constexpr Field operation{6, 8};
// The address fields move with ar$hln and ar$pln.
constexpr Field sha(std::size_t hln, std::size_t) noexcept { return {8, 8 + hln}; }
constexpr Field spa(std::size_t hln, std::size_t pln) noexcept { return {8 + hln, 8 + hln + pln}; }
constexpr Field tha(std::size_t hln, std::size_t pln) noexcept {
  return {8 + hln + pln, 8 + 2 * hln + pln};
}
constexpr Field tpa(std::size_t hln, std::size_t pln) noexcept {
  return {8 + 2 * hln + pln, 8 + 2 * hln + 2 * pln};
}
}  // namespace field

inline constexpr std::size_t fixed_header_len = field::operation.end;
/// Length of an Ethernet/IPv4 ARP packet.
inline constexpr std::size_t ethernet_ipv4_len = field::tpa(6, 4).end;

template <ByteSpan S = ConstBytes>
class Packet {
 public:
  static constexpr Packet unchecked(S bytes) noexcept { return Packet(bytes); }
  static Result<Packet> checked(S bytes) noexcept {
    Packet p(bytes);
    if (auto r = p.check_len(); !r) return tl::unexpected(r.error());
    return p;
  }
  /// Checks the fixed part, then the four addresses that ar$hln and ar$pln
  /// announce (tcpdump CVE-2017-13013 printed them without this check).
  Result<void> check_len() const noexcept {
    if (buf_.size() < fixed_header_len) return fail(Error::truncated);
    if (buf_.size() < packet_len()) return fail(Error::truncated);
    return {};
  }

  Hardware hardware_type() const noexcept {
    return Hardware{load_be16(buf_, field::hardware_type.begin)};
  }
  EtherType protocol_type() const noexcept {
    return EtherType{load_be16(buf_, field::protocol_type.begin)};
  }
  std::uint8_t hardware_len() const noexcept { return load_u8(buf_, field::hardware_len); }
  std::uint8_t protocol_len() const noexcept { return load_u8(buf_, field::protocol_len); }
  Operation operation() const noexcept {
    return Operation{load_be16(buf_, field::operation.begin)};
  }
  S sha() const noexcept { return sub(buf_, field::sha(hardware_len(), protocol_len())); }
  S spa() const noexcept { return sub(buf_, field::spa(hardware_len(), protocol_len())); }
  S tha() const noexcept { return sub(buf_, field::tha(hardware_len(), protocol_len())); }
  S tpa() const noexcept { return sub(buf_, field::tpa(hardware_len(), protocol_len())); }
  /// Bytes the header announces; anything after it is link padding.
  std::size_t packet_len() const noexcept { return field::tpa(hardware_len(), protocol_len()).end; }
  /// True for the Ethernet/IPv4 form that Repr describes.
  bool is_ethernet_ipv4() const noexcept {
    return hardware_type() == Hardware::ethernet && protocol_type() == EtherType::ipv4 &&
           hardware_len() == MacAddress::size && protocol_len() == Ipv4Address::size;
  }

  void set_header(Hardware hrd, EtherType pro, std::uint8_t hln,
                  std::uint8_t pln) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::hardware_type.begin, static_cast<std::uint16_t>(hrd));
    store_be16(buf_, field::protocol_type.begin, static_cast<std::uint16_t>(pro));
    store_u8(buf_, field::hardware_len, hln);
    store_u8(buf_, field::protocol_len, pln);
  }
  void set_operation(Operation op) noexcept requires MutableSpan<S> {
    store_be16(buf_, field::operation.begin, static_cast<std::uint16_t>(op));
  }

 private:
  constexpr explicit Packet(S bytes) noexcept : buf_(bytes) {}
  S buf_;
};

/// An Ethernet/IPv4 ARP packet.
struct Repr {
  Operation operation = Operation::request;
  MacAddress source_hw;
  Ipv4Address source_ip;
  MacAddress target_hw;
  Ipv4Address target_ip;

  /// `unsupported` unless hrd is Ethernet, pro IPv4, hln 6 and pln 4
  /// (RFC 826: "?Do I have the hardware type in ar$hrd?").
  static Result<Repr> parse(const Packet<ConstBytes>& packet) noexcept;
  static constexpr std::size_t buffer_len() noexcept { return ethernet_ipv4_len; }
  void emit(MutBytes buf) const noexcept;

  friend bool operator==(const Repr&, const Repr&) = default;
};

// Inline for the reason given at ethernet::Repr::parse.
inline Result<Repr> Repr::parse(const Packet<ConstBytes>& p) noexcept {
  if (!p.is_ethernet_ipv4()) return fail(Error::unsupported);
  return Repr{p.operation(), MacAddress::from_bytes(p.sha()), Ipv4Address::from_bytes(p.spa()),
              MacAddress::from_bytes(p.tha()), Ipv4Address::from_bytes(p.tpa())};
}

/// tcpdump's words for an operation ("Request", "Reverse Reply"), or "".
std::string_view name(Operation op) noexcept;

/// tcpdump -nn: "Request who-has 198.18.0.2 tell 198.18.0.1, length 28",
/// "Reply 198.18.0.2 is-at aa:.., length 28", or the hardware/protocol
/// summary of a form it cannot spell out. `length` is what followed the
/// link header on the wire. Without the leading "ARP, ".
/// `verbose` (tcpdump -v) always names the hardware and protocol, and then
/// spells the operation out even for forms -nn alone only summarises,
/// writing "<wrong proto type>" or "<wrong len>" for an address it cannot
/// read as IPv4 (print-arp.c).
/// Returns false when tcpdump would follow the line with a hex dump of the
/// message: an operation it has no words for.
bool format(fmt::memory_buffer& out, const Packet<ConstBytes>& p, std::size_t length,
            bool verbose = false);

}  // namespace ersatz::wire::arp
