// IPv4 reassembly (RFC 791 §3.2, with RFC 815's view of holes).
//
// Datagrams are keyed by (source, destination, protocol, identification).
// Each has a timer (30 s from its first fragment), the whole buffer has a
// memory budget, and a datagram whose fragments overlap is dropped
// altogether — the policy RFC 5722 made mandatory for IPv6, because
// overlaps are how reassembly is attacked (teardrop and its heirs). An
// exact duplicate of a fragment already held is ignored, since networks
// duplicate packets.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "ersatz/base/time.hpp"
#include "ersatz/stack/drop_reason.hpp"
#include "ersatz/wire/ipv4.hpp"

namespace ersatz::stack {

struct ReassemblyConfig {
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  std::size_t budget = 1U << 20;  ///< bytes held across all datagrams
  std::size_t max_datagrams = 64;
};

class Reassembler {
 public:
  explicit Reassembler(ReassemblyConfig config = {}) : config_(config) {}

  struct Outcome {
    /// The whole datagram, its header that of the first fragment with the
    /// fragment fields cleared and the checksum recomputed.
    std::optional<std::vector<std::byte>> datagram;
    /// Set when this fragment (or its datagram) was dropped.
    std::optional<DropReason> dropped;
  };

  /// Adds one fragment (a checked datagram with MF set or a non-zero offset).
  Outcome add(const wire::ipv4::Packet<>& fragment, MonoTime now);

  /// Expires datagrams past their timer; returns how many were dropped.
  std::size_t poll(MonoTime now);
  std::optional<MonoTime> next_deadline() const noexcept;

  std::size_t in_progress() const noexcept { return datagrams_.size(); }
  std::size_t bytes_held() const noexcept { return held_; }
  /// The most ever held at once, to show the bounds hold under floods.
  std::size_t peak_in_progress() const noexcept { return peak_datagrams_; }
  std::size_t peak_bytes_held() const noexcept { return peak_held_; }
  const ReassemblyConfig& config() const noexcept { return config_; }

 private:
  struct Piece {
    std::size_t begin;
    std::size_t end;
  };
  struct Pending {
    wire::Ipv4Address src;
    wire::Ipv4Address dst;
    wire::ipv4::Protocol protocol;
    std::uint16_t ident;
    MonoTime expires;
    std::vector<std::byte> header;     ///< the first fragment's, once seen
    std::vector<std::byte> payload;    ///< grows to the furthest byte seen
    std::vector<Piece> pieces;         ///< sorted, disjoint
    std::optional<std::size_t> total;  ///< known once the last fragment came
    std::size_t cost() const noexcept { return header.size() + payload.size(); }
  };
  Pending* find(const wire::ipv4::Packet<>& f) noexcept;
  void erase(Pending* p) noexcept;
  bool complete(const Pending& p) const noexcept;
  std::vector<std::byte> assemble(Pending& p) const;

  ReassemblyConfig config_;
  std::vector<Pending> datagrams_;
  std::size_t held_ = 0;
  std::size_t peak_datagrams_ = 0;
  std::size_t peak_held_ = 0;
};

}  // namespace ersatz::stack
