// Classic BPF programs (McCanne & Jacobson, USENIX 1993), the filters a
// kernel runs on each frame before it reaches a packet socket: Linux's
// SO_ATTACH_FILTER (Documentation/networking/filter.rst), TUNATTACHFILTER,
// and libpcap's pcap_setfilter (which hands them to the kernel where it
// can). The instruction layout {u16 code; u8 jt; u8 jf; u32 k} is the same
// in Linux's struct sock_filter and libpcap's struct bpf_insn, so one
// program serves every backend.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ersatz/base/result.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::link {

struct BpfInsn {
  std::uint16_t code = 0;
  std::uint8_t jt = 0;
  std::uint8_t jf = 0;
  std::uint32_t k = 0;
  friend bool operator==(const BpfInsn&, const BpfInsn&) = default;
};

using BpfProgram = std::vector<BpfInsn>;

/// `program` in a platform's own instruction struct (Linux's sock_filter,
/// libpcap's bpf_insn, wpcap's), all of which share BpfInsn's layout: the
/// form the kernel or the capture library takes it in.
template <class Insn>
std::vector<Insn> to_native(const BpfProgram& program) {
  static_assert(sizeof(Insn) == sizeof(BpfInsn));
  std::vector<Insn> out;
  out.reserve(program.size());
  for (const BpfInsn& i : program) out.push_back(Insn{i.code, i.jt, i.jf, i.k});
  return out;
}

/// The kernel's limit on program length (BPF_MAXINSNS).
inline constexpr std::size_t bpf_max_insns = 4096;

namespace bpf {
// Opcode fields, as in <linux/bpf_common.h> and <pcap/bpf.h>.
inline constexpr std::uint16_t ld = 0x00, jmp = 0x05, ret = 0x06;
inline constexpr std::uint16_t w = 0x00, h = 0x08, b = 0x10;  // load width
inline constexpr std::uint16_t abs = 0x20;                    // absolute offset
inline constexpr std::uint16_t jeq = 0x10;
inline constexpr std::uint16_t k = 0x00;  // operand: the constant

constexpr BpfInsn stmt(std::uint16_t code, std::uint32_t kk) noexcept { return {code, 0, 0, kk}; }
constexpr BpfInsn jump(std::uint16_t code, std::uint32_t kk, std::uint8_t jt,
                       std::uint8_t jf) noexcept {
  return {code, jt, jf, kk};
}
}  // namespace bpf

/// The filter a host stack wants, built by hand: ARP, or IPv4 carrying
/// ICMP (tcpdump's `arp or icmp`). With `my_mac`, only frames sent to that
/// address or to the broadcast address pass (`(ether dst MAC or ether
/// broadcast) and (arp or icmp)`): ARP requests are broadcast, everything
/// else for us is unicast. Accepted frames are kept whole up to `snaplen`.
///
/// On Linux the kernel has already moved an 802.1Q tag into the packet's
/// metadata when the filter runs, so the type at offset 12 is the inner
/// one (Documentation/networking/filter.rst, SKF_AD_VLAN_TAG).
BpfProgram arp_or_icmp_filter(std::optional<wire::MacAddress> my_mac = {},
                              std::uint32_t snaplen = 262144);

/// As arp_or_icmp_filter, with every IPv4 datagram (`serve` owns an
/// address, and answers other protocols with protocol unreachable).
BpfProgram arp_or_ipv4_filter(std::optional<wire::MacAddress> my_mac = {},
                              std::uint32_t snaplen = 262144);

/// DLT_EN10MB: the link type of every device ersatz opens.
inline constexpr int dlt_en10mb = 1;

/// Compiles a tcpdump filter expression ("icmp and host 198.18.0.1") for an
/// Ethernet link with libpcap's compiler, without opening a device
/// (PcapFilter in pcap_library.hpp, which loads libpcap at run time: without
/// it PcapLibraryError::not_installed). `detail` receives libpcap's message
/// when the expression does not compile (RawError::pcap_failure).
Result<BpfProgram> compile_filter(const std::string& expression, std::uint32_t snaplen = 262144,
                                  std::string* detail = nullptr);

/// Structural checks the kernel would otherwise make at attach time:
/// 1..bpf_max_insns instructions (RawError::filter_too_long, or EINVAL when
/// empty).
Result<void> check_program(const BpfProgram& program) noexcept;

}  // namespace ersatz::link
