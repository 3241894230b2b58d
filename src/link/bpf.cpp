// Classic BPF programs: the hand-built stack filter, and libpcap's compiler
// (through the run-time loaded library, pcap_library.hpp).
#include "ersatz/link/bpf.hpp"

#include <cerrno>

#include "ersatz/link/open_device.hpp"
#include "ersatz/link/pcap_library.hpp"

namespace ersatz::link {
namespace {

// Offsets in an untagged Ethernet frame carrying IPv4 (RFC 791 §3.1: the
// protocol is byte 9 of the IP header).
constexpr std::uint32_t at_ethertype = 12;
constexpr std::uint32_t at_ip_protocol = 14 + 9;
constexpr std::uint32_t type_arp = 0x0806;
constexpr std::uint32_t type_ipv4 = 0x0800;
constexpr std::uint32_t proto_icmp = 1;

/// Jump offsets are relative to the next instruction and 8 bits wide; the
/// programs here are short, so they always fit.
std::uint8_t rel(std::size_t from, std::size_t to) noexcept {
  return static_cast<std::uint8_t>(to - from - 1);
}

}  // namespace

BpfProgram arp_or_icmp_filter(std::optional<wire::MacAddress> my_mac, std::uint32_t snaplen) {
  using namespace bpf;
  BpfProgram p;
  // With a MAC: 0..6 check the destination address, then 7.. the type.
  const std::size_t type_at = my_mac ? 7 : 0;
  const std::size_t accept = type_at + 5;
  const std::size_t drop = accept + 1;
  if (my_mac) {
    const auto& m = my_mac->octets();
    const std::uint32_t low = (std::uint32_t{m[2]} << 24) | (std::uint32_t{m[3]} << 16) |
                              (std::uint32_t{m[4]} << 8) | m[5];
    const std::uint32_t high = (std::uint32_t{m[0]} << 8) | m[1];
    // Loads are big-endian (network order) in classic BPF.
    p.push_back(stmt(ld | w | abs, 2));                           // 0: A = dst[2..6]
    p.push_back(jump(jmp | jeq | k, low, rel(1, 2), rel(1, 4)));  // 1: ours? else broadcast?
    p.push_back(stmt(ld | h | abs, 0));                           // 2: A = dst[0..2]
    p.push_back(jump(jmp | jeq | k, high, rel(3, type_at), rel(3, drop)));
    p.push_back(jump(jmp | jeq | k, 0xffffffffU, rel(4, 5), rel(4, drop)));  // 4: A is dst[2..6]
    p.push_back(stmt(ld | h | abs, 0));                                      // 5
    p.push_back(jump(jmp | jeq | k, 0xffffU, rel(6, type_at), rel(6, drop)));
  }
  const std::size_t t = type_at;
  p.push_back(stmt(ld | h | abs, at_ethertype));  // t
  p.push_back(jump(jmp | jeq | k, type_arp, rel(t + 1, accept), rel(t + 1, t + 2)));
  p.push_back(jump(jmp | jeq | k, type_ipv4, rel(t + 2, t + 3), rel(t + 2, drop)));
  p.push_back(stmt(ld | b | abs, at_ip_protocol));  // t+3
  p.push_back(jump(jmp | jeq | k, proto_icmp, rel(t + 4, accept), rel(t + 4, drop)));
  p.push_back(stmt(ret | k, snaplen));  // accept: keep up to snaplen bytes
  p.push_back(stmt(ret | k, 0));        // drop
  return p;
}

BpfProgram arp_or_ipv4_filter(std::optional<wire::MacAddress> my_mac, std::uint32_t snaplen) {
  // The same program, with IPv4 accepted whatever it carries: the jump
  // taken on type_ipv4 goes to `accept` instead of the protocol test.
  BpfProgram p = arp_or_icmp_filter(my_mac, snaplen);
  const std::size_t accept = p.size() - 2;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].code == (bpf::jmp | bpf::jeq | bpf::k) && p[i].k == type_ipv4)
      p[i].jt = rel(i, accept);
  }
  return p;
}

Result<BpfProgram> compile_filter(const std::string& expression, std::uint32_t snaplen,
                                  std::string* detail) {
  auto filter = PcapFilter::compile(expression, dlt_en10mb, snaplen, detail);
  if (!filter) return tl::unexpected(filter.error());
  return filter->program();
}

Result<void> check_program(const BpfProgram& program) noexcept {
  if (program.empty()) return fail_errno(EINVAL);
  if (program.size() > bpf_max_insns) return fail(RawError::filter_too_long);
  return {};
}

}  // namespace ersatz::link
