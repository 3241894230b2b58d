// A host on one Ethernet link: ARP, IPv4 in and out (with fragmentation and
// reassembly), and delivery of ICMP to whoever listens.
//
// Host never touches a device. Handlers put the frames to send into an
// Outbox and report what arrived to a listener; the caller passes the time
// in and moves the Outbox to a device. That keeps every rule here testable
// with an in-memory pair and a fake clock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"
#include "ersatz/stack/drop_reason.hpp"
#include "ersatz/stack/neighbor_cache.hpp"
#include "ersatz/stack/path_mtu.hpp"
#include "ersatz/stack/reassembly.hpp"
#include "ersatz/wire/arp.hpp"
#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/icmpv4.hpp"
#include "ersatz/wire/ipv4.hpp"

namespace ersatz::stack {

struct HostConfig {
  wire::MacAddress mac;
  wire::Ipv4Address address;
  int prefix_len = 24;
  std::size_t mtu = 1500;
  /// Answer ARP for `address` and echo requests to it. Off when ersatz
  /// shares an address with the kernel, which answers those itself.
  bool own_address = false;
  std::uint16_t first_ident = 1;  ///< IP identification to start from (random, from the caller)
};

/// Frames to send, in order, packed end to end in one buffer that is kept
/// from burst to burst: once warm, queueing a frame allocates nothing.
class Outbox {
 public:
  /// Room for one more frame of `len` bytes, for the caller to fill. Valid
  /// until the next add().
  MutBytes add(std::size_t len);
  /// Appends a copy of `frame`.
  void push(ConstBytes frame);

  std::size_t size() const noexcept { return spans_.size(); }
  bool empty() const noexcept { return spans_.empty(); }
  ConstBytes operator[](std::size_t i) const noexcept {
    return ConstBytes(bytes_.data() + spans_[i].offset, spans_[i].len);
  }
  /// Forgets every frame, keeping the memory.
  void clear() noexcept {
    spans_.clear();
    used_ = 0;
  }

 private:
  struct Span {
    std::size_t offset;
    std::size_t len;
  };
  std::vector<std::byte> bytes_;
  std::size_t used_ = 0;
  std::vector<Span> spans_;
};

/// An ICMP message for us, with what the IPv4 header said.
struct IcmpDelivery {
  Timestamp ts;  ///< when the frame arrived
  wire::Ipv4Address src;
  wire::Ipv4Address dst;
  std::uint8_t ttl = 0;
  std::uint8_t tos = 0;
  ConstBytes ip_options;
  /// Checked for length; the checksum is reported, not enforced, so that a
  /// ping can say "BAD CHECKSUM" as iputils does.
  wire::icmpv4::Packet<> message;
  bool checksum_ok = true;
};

class IcmpListener {
 public:
  virtual ~IcmpListener() = default;
  virtual void on_icmp(const IcmpDelivery& d) = 0;
  /// Datagrams never sent because ARP for `next_hop` failed.
  virtual void on_neighbor_failed(wire::Ipv4Address /*next_hop*/,
                                  std::span<const Datagram> /*datagrams*/) {}
  /// A known neighbour's MAC changed (reported once per neighbour).
  virtual void on_neighbor_changed(const NeighborActions::MacChanged& /*change*/) {}
};

/// What send() sizes a datagram against (Linux's IP_MTU_DISCOVER modes).
enum class PathMtuUse : std::uint8_t {
  learned,  ///< the path MTU learned so far (IP_PMTUDISC_WANT, _DO)
  link,     ///< the link's MTU alone (IP_PMTUDISC_PROBE): traceroute -F probes the path itself
};

class Host {
 public:
  explicit Host(HostConfig config, NeighborConfig neighbors = {}, ReassemblyConfig reassembly = {},
                PathMtuConfig path_mtu = {});

  void set_listener(IcmpListener* listener) noexcept { listener_ = listener; }

  /// Processes one received frame.
  void receive(ConstBytes frame, Timestamp ts, MonoTime now, Outbox& out);

  /// Sends one datagram to `next_hop` (the destination when on-link, else
  /// the gateway). Larger than the path MTU to its destination, it is
  /// fragmented unless DF is set, which fails with std::errc::message_size
  /// (the caller knows path_mtu()).
  /// `repr.ident` is assigned here, one per datagram.
  Result<void> send(wire::ipv4::Repr repr, ConstBytes payload, wire::Ipv4Address next_hop,
                    MonoTime now, Outbox& out, PathMtuUse mtu_use = PathMtuUse::learned);

  /// Timers: ARP retries and failures, reassembly expiry.
  void poll(MonoTime now, Outbox& out);
  std::optional<MonoTime> next_deadline() const noexcept;

  const HostConfig& config() const noexcept { return config_; }
  std::size_t mtu() const noexcept { return config_.mtu; }
  /// The largest datagram that reaches `dst` whole: the link's MTU, or
  /// less where a router said so (RFC 1191; see PathMtuCache).
  std::size_t path_mtu(wire::Ipv4Address dst, MonoTime now) const noexcept {
    return std::min(config_.mtu, path_mtu_.lookup(dst, now).value_or(config_.mtu));
  }
  const PathMtuCache& path_mtus() const noexcept { return path_mtu_; }
  const DropCounters& drops() const noexcept { return drops_; }
  const NeighborCache& neighbors() const noexcept { return neighbors_; }

 private:
  void receive_arp(ConstBytes l3, MonoTime now, Outbox& out);
  void receive_ipv4(ConstBytes l3, bool link_broadcast, Timestamp ts, MonoTime now, Outbox& out);
  void deliver(const wire::ipv4::Packet<>& ip, Timestamp ts, Outbox& out, MonoTime now);
  void learn_path_mtu(const wire::icmpv4::Packet<>& icmp, MonoTime now);
  void answer_echo(const wire::ipv4::Packet<>& ip, const wire::icmpv4::Packet<>& icmp, MonoTime now,
                   Outbox& out);
  void route(Datagram datagram, wire::Ipv4Address next_hop, MonoTime now, Outbox& out);
  /// The link-layer destination for `next_hop` when it is known now.
  std::optional<wire::MacAddress> known_mac(wire::Ipv4Address next_hop, MonoTime now);
  void apply(NeighborActions& actions, Outbox& out);
  void emit_frame(Outbox& out, wire::MacAddress dst, wire::EtherType type, ConstBytes l3) const;
  void emit_arp(Outbox& out, wire::arp::Operation op, wire::MacAddress eth_dst,
                wire::MacAddress target_hw, wire::Ipv4Address target_ip) const;

  HostConfig config_;
  NeighborCache neighbors_;
  Reassembler reassembler_;
  PathMtuCache path_mtu_;
  NeighborActions actions_;  // reused between calls
  IcmpListener* listener_ = nullptr;
  DropCounters drops_;
  std::uint16_t ident_;
};

}  // namespace ersatz::stack
