// Why the stack dropped a frame. Every drop carries one reason and bumps its
// counter, as Linux's skb_drop_reason does, so `ersatz` can say where
// traffic went.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ersatz::stack {

enum class DropReason : std::uint8_t {
  eth_truncated,
  eth_not_for_us,    ///< destination MAC neither ours nor broadcast
  eth_unknown_type,  ///< an ethertype the stack does not speak
  arp_truncated,
  arp_unsupported,  ///< hrd, pro, hln or pln other than Ethernet/IPv4 (RFC 826), or an op other
                    ///< than request/reply
  ip_truncated,
  ip_bad_version,     ///< RFC 1122 §3.2.1.1
  ip_bad_header_len,  ///< RFC 1812 §5.2.2
  ip_bad_total_len,
  ip_bad_checksum,  ///< RFC 1122 §3.2.1.2
  ip_bad_option,
  ip_martian_source,  ///< RFC 1122 §3.2.1.3
  ip_not_for_us,
  ip_link_broadcast,  ///< unicast IP in a link-layer broadcast (RFC 1122 §3.3.6)
  ip_unknown_protocol,
  frag_overlap,  ///< overlapping fragments: the whole datagram goes
  frag_too_big,  ///< reassembly past 65535 bytes
  frag_timeout,  ///< RFC 791: the reassembly timer ran out
  frag_budget,   ///< the reassembly memory budget is spent
  icmp_truncated,
  icmp_bad_checksum,    ///< RFC 1122 §3.2.2
  icmp_unhandled,       ///< valid, but nobody asked for it
  neighbor_queue_full,  ///< too many datagrams waiting for one neighbour
  neighbor_failed,      ///< the neighbour never answered ARP
  icmp_echo_broadcast,  ///< echo to a broadcast address (Linux icmp_echo_ignore_broadcasts)
  icmp_rate_limited,    ///< an ICMP error we owed, over the error budget (icmp_ratelimit)
  count_
};

std::string_view to_string(DropReason r) noexcept;

/// A counter per reason.
class DropCounters {
 public:
  void bump(DropReason r) noexcept { ++counts_[static_cast<std::size_t>(r)]; }
  std::uint64_t operator[](DropReason r) const noexcept {
    return counts_[static_cast<std::size_t>(r)];
  }
  std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (auto c : counts_) t += c;
    return t;
  }

 private:
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::count_)> counts_{};
};

}  // namespace ersatz::stack
