// ICMP echo as a ping uses it: building requests, and matching what comes
// back — replies, duplicates, and errors — to the probe that caused it.
//
// A reply counts only when its identifier, sequence number, source address
// and the run's random cookie all match, so replies meant for another ping
// on the same host (iputils#489, fping#206) or forged ones are ignored.
// Errors are matched through the quoted datagram, read with its own IHL
// (CVE-2022-23093). Round-trip times come from our own record of when each
// probe left, never from the timestamp in the payload, which the network
// can rewrite (CVE-2025-47268).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "ersatz/base/time.hpp"
#include "ersatz/stack/host.hpp"

namespace ersatz::stack {

struct EchoConfig {
  wire::Ipv4Address source;
  wire::Ipv4Address target;
  std::uint16_t ident = 0;   ///< random, not the PID
  std::uint64_t cookie = 0;  ///< random, once per run
  std::size_t data_len = 56;
  std::vector<std::uint8_t> pattern;  ///< -p; empty: byte i is i
  /// -b: the hosts of a broadcast answer from their own addresses.
  bool any_source = false;
};

/// Where the payload's parts sit: a struct timeval as iputils writes it
/// (so other tools can read it), then the cookie, then the pattern.
inline constexpr std::size_t echo_timeval_len = 16;
inline constexpr std::size_t echo_cookie_end = echo_timeval_len + 8;

struct EchoReply {
  std::uint16_t seq = 0;
  wire::Ipv4Address from;
  std::uint8_t ttl = 0;
  std::size_t icmp_len = 0;  ///< ICMP header and data, as iputils counts "bytes"
  std::optional<std::chrono::nanoseconds>
      rtt;  ///< unset when the data is too short to carry a time
  bool duplicate = false;
  bool bad_checksum = false;
  struct WrongByte {
    std::size_t index;  ///< in the ICMP data
    std::uint8_t expected;
    std::uint8_t got;
  };
  std::optional<WrongByte> wrong_byte;
  Timestamp ts;
  std::vector<std::byte> ip_options;
};

struct EchoError {
  std::uint16_t seq = 0;
  wire::Ipv4Address from;
  wire::icmpv4::Type type{};
  std::uint8_t code = 0;
  std::uint32_t rest = 0;  ///< the second word: MTU, gateway, pointer
  Timestamp ts;
};

/// ARP for the next hop failed; the probe never left.
struct EchoNeighborFailed {
  std::uint16_t seq = 0;
  wire::Ipv4Address next_hop;
};

using EchoEvent = std::variant<EchoReply, EchoError, EchoNeighborFailed>;

class EchoSession final : public IcmpListener {
 public:
  explicit EchoSession(EchoConfig config);

  /// The ICMP message for probe `seq`, leaving at `sent` (remembered for the
  /// round-trip time). Valid until the next call.
  ConstBytes request(std::uint16_t seq, Timestamp sent);
  /// Moves probe `seq`'s departure to `sent`, the moment its frame was
  /// handed to the device, so that its round trip does not count the time
  /// spent building it (iputils stamps right before sendmsg). The payload's
  /// timeval keeps the time it was built with.
  void restamp(std::uint16_t seq, Timestamp sent) noexcept { sent_at_[seq] = sent; }

  void on_icmp(const IcmpDelivery& d) override;
  void on_neighbor_failed(wire::Ipv4Address next_hop, std::span<const Datagram> datagrams) override;

  /// Events since the last call, oldest first.
  std::vector<EchoEvent> take_events();
  bool answered(std::uint16_t seq) const noexcept { return received_[seq]; }
  const EchoConfig& config() const noexcept { return config_; }

 private:
  std::uint8_t expected_byte(std::size_t i) const noexcept;
  std::optional<std::uint16_t> own_probe(const wire::ipv4::Quote& quote) const noexcept;
  void on_reply(const IcmpDelivery& d);
  void on_error(const IcmpDelivery& d);

  EchoConfig config_;
  std::vector<std::byte> message_;
  std::vector<Timestamp> sent_at_;  // indexed by seq
  std::bitset<65536> sent_;
  std::bitset<65536> received_;
  std::vector<EchoEvent> events_;
};

}  // namespace ersatz::stack
