#include "ersatz/stack/drop_reason.hpp"

namespace ersatz::stack {

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::eth_truncated: return "eth-truncated";
    case DropReason::eth_not_for_us: return "eth-not-for-us";
    case DropReason::eth_unknown_type: return "eth-unknown-type";
    case DropReason::arp_truncated: return "arp-truncated";
    case DropReason::arp_unsupported: return "arp-unsupported";
    case DropReason::ip_truncated: return "ip-truncated";
    case DropReason::ip_bad_version: return "ip-bad-version";
    case DropReason::ip_bad_header_len: return "ip-bad-header-len";
    case DropReason::ip_bad_total_len: return "ip-bad-total-len";
    case DropReason::ip_bad_checksum: return "ip-bad-checksum";
    case DropReason::ip_bad_option: return "ip-bad-option";
    case DropReason::ip_martian_source: return "ip-martian-source";
    case DropReason::ip_not_for_us: return "ip-not-for-us";
    case DropReason::ip_link_broadcast: return "ip-link-broadcast";
    case DropReason::ip_unknown_protocol: return "ip-unknown-protocol";
    case DropReason::frag_overlap: return "frag-overlap";
    case DropReason::frag_too_big: return "frag-too-big";
    case DropReason::frag_timeout: return "frag-timeout";
    case DropReason::frag_budget: return "frag-budget";
    case DropReason::icmp_truncated: return "icmp-truncated";
    case DropReason::icmp_bad_checksum: return "icmp-bad-checksum";
    case DropReason::icmp_unhandled: return "icmp-unhandled";
    case DropReason::neighbor_queue_full: return "neighbor-queue-full";
    case DropReason::neighbor_failed: return "neighbor-failed";
    case DropReason::icmp_echo_broadcast: return "icmp-echo-broadcast";
    case DropReason::icmp_rate_limited: return "icmp-rate-limited";
    case DropReason::count_: break;
  }
  return "unknown";
}

}  // namespace ersatz::stack
