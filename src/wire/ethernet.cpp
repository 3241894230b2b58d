#include "ersatz/wire/ethernet.hpp"

#include <cassert>

#include <algorithm>

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

Result<Repr> Repr::parse(const Packet<ConstBytes>& packet) noexcept {
  Repr r;
  r.dst = packet.dst();
  r.src = packet.src();
  EtherType type = packet.ethertype();
  ConstBytes rest = packet.payload();
  while (is_vlan_tpid(type)) {
    if (r.tag_count == max_tags) return fail(Error::too_many_tags);
    auto tag = vlan::Packet<ConstBytes>::checked(rest);
    if (!tag) return tl::unexpected(tag.error());
    r.tags[r.tag_count++] = vlan::Tag{type, tag->pcp(), tag->dei(), tag->vid()};
    type = tag->next_type();
    rest = tag->payload();
  }
  r.ethertype = type;
  return r;
}

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
  fmt::format_to(std::back_inserter(out), "{} > {}, ethertype {} (0x{:04x}), length {}: ", r.src,
                 r.dst, name(outer), static_cast<std::uint16_t>(outer), wire_len);
  for (std::size_t i = 0; i < r.tag_count; ++i) {
    const EtherType inner = i + 1 < r.tag_count ? r.tags[i + 1].tpid : r.ethertype;
    vlan::format(out, r.tags[i]);
    fmt::format_to(std::back_inserter(out), "ethertype {} (0x{:04x}), ", name(inner),
                   static_cast<std::uint16_t>(inner));
  }
}

}  // namespace ersatz::wire::ethernet
