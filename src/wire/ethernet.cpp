#include "ersatz/wire/ethernet.hpp"

#include <cassert>

#include <algorithm>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire {

std::string_view name(EtherType t) noexcept {
  switch (t) {
    case EtherType::ipv4: return "IPv4";
    case EtherType::arp: return "ARP";
    case EtherType::rarp: return "Reverse ARP";
    case EtherType::vlan: return "802.1Q";
    case EtherType::ipv6: return "IPv6";
    case EtherType::qinq: return "802.1Q-QinQ";
    case EtherType::lldp: return "LLDP";
    case EtherType::qinq_old: return "802.1Q-9100";
  }
  return "Unknown";
}

namespace ethernet {

void Repr::emit(MutBytes frame, std::size_t payload_len) const noexcept {
  assert(frame.size() == buffer_len(payload_len));
  auto eth = Packet<MutBytes>::unchecked(frame);
  eth.set_dst(dst);
  eth.set_src(src);
  eth.set_ethertype(tag_count ? tags[0].tpid : ethertype);
  MutBytes rest = eth.payload();
  for (std::size_t i = 0; i < tag_count; ++i) {
    auto tag = vlan::Packet<MutBytes>::unchecked(rest);
    tag.set_tci(tags[i].pcp, tags[i].dei, tags[i].vid);
    tag.set_next_type(i + 1 < tag_count ? tags[i + 1].tpid : ethertype);
    rest = tag.payload();
  }
  // IEEE 802.3 §4.2.3.3: short frames are padded; the padding must not leak
  // whatever the buffer held before.
  const std::size_t used = header_len() + payload_len;
  if (used < frame.size())
    std::fill(frame.begin() + static_cast<std::ptrdiff_t>(used), frame.end(), std::byte{0});
}

}  // namespace ethernet
}  // namespace ersatz::wire

namespace ersatz::wire::ethernet {

void format(fmt::memory_buffer& out, const Repr& r, std::size_t wire_len) {
  const EtherType outer = r.tag_count ? r.tags[0].tpid : r.ethertype;
  text::append(out, r.src, " > ", r.dst, ", ethertype ", name(outer), " (0x",
               text::hex(static_cast<std::uint16_t>(outer), 4), "), length ", wire_len, ": ");
  for (std::size_t i = 0; i < r.tag_count; ++i) {
    const EtherType inner = i + 1 < r.tag_count ? r.tags[i + 1].tpid : r.ethertype;
    vlan::format(out, r.tags[i]);
    text::append(out, "ethertype ", name(inner), " (0x",
                 text::hex(static_cast<std::uint16_t>(inner), 4), "), ");
  }
}

}  // namespace ersatz::wire::ethernet
