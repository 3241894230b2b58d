#include "ersatz/stack/host.hpp"

#include <algorithm>

namespace ersatz::stack {

namespace eth = wire::ethernet;
namespace arp = wire::arp;
namespace ipv4 = wire::ipv4;
namespace icmpv4 = wire::icmpv4;
using wire::EtherType;
using wire::Ipv4Address;
using wire::MacAddress;

namespace {

DropReason ip_reason(const std::error_code& ec) noexcept {
  switch (static_cast<wire::Error>(ec.value())) {
    case wire::Error::bad_version: return DropReason::ip_bad_version;
    case wire::Error::bad_header_len: return DropReason::ip_bad_header_len;
    case wire::Error::bad_total_len: return DropReason::ip_bad_total_len;
    case wire::Error::bad_checksum: return DropReason::ip_bad_checksum;
    case wire::Error::bad_option: return DropReason::ip_bad_option;
    default: return DropReason::ip_truncated;
  }
}

}  // namespace

Host::Host(HostConfig config, NeighborConfig neighbors, ReassemblyConfig reassembly,
           PathMtuConfig path_mtu, IcmpRateLimitConfig icmp_errors)
    : config_(config),
      neighbors_(neighbors),
      reassembler_(reassembly),
      path_mtu_(path_mtu),
      icmp_errors_(icmp_errors),
      ident_(config.first_ident) {}

bool Host::is_broadcast(Ipv4Address dst) const noexcept {
  if (dst.is_broadcast()) return true;
  // RFC 919/922: the subnet's directed broadcast (all host bits set), on
  // links with room for one (not /31, RFC 3021, nor /32).
  if (config_.prefix_len <= 0 || config_.prefix_len >= 31) return false;
  const std::uint32_t host_mask = 0xffffffffU >> config_.prefix_len;
  return (dst.value() & ~host_mask) == (config_.address.value() & ~host_mask) &&
         (dst.value() & host_mask) == host_mask;
}

// ---------------------------------------------------------------- outbox

MutBytes Outbox::add(std::size_t len) {
  if (bytes_.size() < used_ + len) bytes_.resize(std::max(used_ + len, 2 * bytes_.size()));
  spans_.push_back(Span{used_, len});
  MutBytes room(bytes_.data() + used_, len);
  used_ += len;
  return room;
}

void Outbox::push(ConstBytes frame) {
  const MutBytes room = add(frame.size());
  std::copy(frame.begin(), frame.end(), room.begin());
}

// ---------------------------------------------------------------- output

void Host::emit_frame(Outbox& out, MacAddress dst, EtherType type, ConstBytes l3) const {
  eth::Repr repr;
  repr.dst = dst;
  repr.src = config_.mac;
  repr.ethertype = type;
  const MutBytes frame = out.add(repr.buffer_len(l3.size()));
  repr.emit(frame, l3.size());
  std::copy(l3.begin(), l3.end(), frame.begin() + static_cast<std::ptrdiff_t>(repr.header_len()));
}

void Host::emit_arp(Outbox& out, arp::Operation op, MacAddress eth_dst, MacAddress target_hw,
                    Ipv4Address target_ip) const {
  const arp::Repr repr{op, config_.mac, config_.address, target_hw, target_ip};
  std::array<std::byte, arp::Repr::buffer_len()> buf{};
  repr.emit(buf);
  emit_frame(out, eth_dst, EtherType::arp, buf);
}

void Host::apply(NeighborActions& actions, Outbox& out) {
  for (const auto& r : actions.requests) {
    // RFC 826 requests go to broadcast; a PROBE asks the cached MAC directly
    // (RFC 1122 §2.3.2.1), as Linux does.
    emit_arp(out, arp::Operation::request, r.unicast_to.value_or(MacAddress::broadcast()),
             MacAddress(), r.target);
  }
  for (const auto& r : actions.resolved) {
    for (const auto& d : r.queued)
      emit_frame(out, r.mac, EtherType::ipv4, ConstBytes(d.data(), d.size()));
  }
  for (const auto& f : actions.failed) {
    for (std::size_t i = 0; i < f.queued.size(); ++i) drops_.bump(DropReason::neighbor_failed);
    if (listener_ != nullptr) listener_->on_neighbor_failed(f.ip, f.queued);
  }
  for (const auto& c : actions.changes) {
    if (listener_ != nullptr) listener_->on_neighbor_changed(c);
  }
  for (std::uint64_t i = 0; i < actions.queue_overflows; ++i)
    drops_.bump(DropReason::neighbor_queue_full);
  actions.clear();
}

void Host::route(Datagram datagram, Ipv4Address next_hop, MonoTime now, Outbox& out) {
  if (next_hop.is_broadcast()) {
    emit_frame(out, MacAddress::broadcast(), EtherType::ipv4,
               ConstBytes(datagram.data(), datagram.size()));
    return;
  }
  if (auto mac = neighbors_.lookup(next_hop, now, actions_, &datagram)) {
    emit_frame(out, *mac, EtherType::ipv4, ConstBytes(datagram.data(), datagram.size()));
  }
  apply(actions_, out);
}

std::optional<MacAddress> Host::known_mac(Ipv4Address next_hop, MonoTime now) {
  if (next_hop.is_broadcast()) return MacAddress::broadcast();
  const NeighborCache::Entry* e = neighbors_.find(next_hop);
  // Only the states where lookup() answers at once without asking anyone;
  // everything else takes the slow path through lookup().
  if (e == nullptr || e->state != NeighborState::reachable) return std::nullopt;
  return neighbors_.lookup(next_hop, now, actions_);
}

Result<void> Host::send(ipv4::Repr repr, ConstBytes payload, Ipv4Address next_hop, MonoTime now,
                        Outbox& out, PathMtuUse mtu_use) {
  repr.ident = ident_++;
  repr.more_fragments = false;
  repr.frag_offset = 0;
  repr.payload_len = payload.size();
  const std::size_t hlen = repr.header_len();
  if (hlen + payload.size() > 65535) return fail(std::errc::message_size);
  const std::size_t mtu = mtu_use == PathMtuUse::link ? config_.mtu : path_mtu(repr.dst, now);
  if (hlen + payload.size() <= mtu) {
    if (auto mac = known_mac(next_hop, now)) {
      // The common case: the datagram is written straight into its frame.
      eth::Repr eth_repr;
      eth_repr.dst = *mac;
      eth_repr.src = config_.mac;
      eth_repr.ethertype = EtherType::ipv4;
      const std::size_t l2 = eth_repr.header_len();
      const MutBytes frame = out.add(eth_repr.buffer_len(repr.buffer_len()));
      eth_repr.emit(frame, repr.buffer_len());
      repr.emit(frame.subspan(l2, repr.buffer_len()));
      std::copy(payload.begin(), payload.end(),
                frame.begin() + static_cast<std::ptrdiff_t>(l2 + hlen));
      return {};
    }
    Datagram d(repr.buffer_len());
    repr.emit(MutBytes(d.data(), d.size()));
    std::copy(payload.begin(), payload.end(), d.begin() + static_cast<std::ptrdiff_t>(hlen));
    route(std::move(d), next_hop, now, out);
    return {};
  }
  // RFC 1191: with DF set the datagram may not be split; the caller reports
  // "message too long" with our MTU.
  if (repr.dont_fragment) return fail(std::errc::message_size);

  // RFC 791 §3.2 fragmentation: every fragment but the last carries a
  // multiple of 8 bytes; only options with the copied flag (0x80) follow
  // the first fragment.
  std::array<std::byte, ipv4::max_options_len> copied{};
  std::size_t copied_len = 0;
  ipv4::OptionReader reader(repr.options);
  while (auto o = reader.next()) {
    if ((static_cast<unsigned>(o->type) & 0x80U) != 0) {
      std::copy(o->bytes.begin(), o->bytes.end(),
                copied.begin() + static_cast<std::ptrdiff_t>(copied_len));
      copied_len += o->bytes.size();
    }
  }
  std::size_t offset = 0;
  while (offset < payload.size()) {
    ipv4::Repr frag = repr;
    if (offset != 0) frag.options = ConstBytes(copied.data(), copied_len);
    const std::size_t room = (mtu - frag.header_len()) & ~std::size_t{7};
    if (room == 0) return fail(std::errc::message_size);
    const std::size_t len = std::min(room, payload.size() - offset);
    frag.frag_offset = static_cast<std::uint16_t>(offset);
    frag.more_fragments = offset + len < payload.size();
    frag.payload_len = len;
    Datagram d(frag.buffer_len());
    frag.emit(MutBytes(d.data(), d.size()));
    std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(offset), len,
                d.begin() + static_cast<std::ptrdiff_t>(frag.header_len()));
    route(std::move(d), next_hop, now, out);
    offset += len;
  }
  return {};
}

// ---------------------------------------------------------------- input

void Host::receive(ConstBytes frame, Timestamp ts, MonoTime now, Outbox& out) {
  auto p = eth::Packet<>::checked(frame);
  if (!p) {
    drops_.bump(DropReason::eth_truncated);
    return;
  }
  auto repr = eth::Repr::parse(*p);
  if (!repr) {
    drops_.bump(DropReason::eth_truncated);
    return;
  }
  const bool broadcast = repr->dst.is_broadcast();
  if (!broadcast && repr->dst != config_.mac) {
    drops_.bump(DropReason::eth_not_for_us);
    return;
  }
  const ConstBytes l3 = frame.subspan(repr->header_len());
  switch (repr->ethertype) {
    case EtherType::arp: receive_arp(l3, now, out); break;
    case EtherType::ipv4: receive_ipv4(l3, broadcast, ts, now, out); break;
    default: drops_.bump(DropReason::eth_unknown_type); break;
  }
}

void Host::receive_arp(ConstBytes l3, MonoTime now, Outbox& out) {
  auto p = arp::Packet<>::checked(l3);
  if (!p) {
    drops_.bump(DropReason::arp_truncated);
    return;
  }
  auto a = arp::Repr::parse(*p);
  if (!a) {
    drops_.bump(DropReason::arp_unsupported);
    return;
  }
  const bool for_us = a->target_ip == config_.address;
  // Other opcodes (RARP, InARP, nonsense) say nothing about IPv4 neighbours.
  if (a->operation != arp::Operation::request && a->operation != arp::Operation::reply) {
    drops_.bump(DropReason::arp_unsupported);
    return;
  }
  neighbors_.on_arp({a->source_ip, a->source_hw, for_us, a->operation == arp::Operation::reply},
                    now, actions_);
  apply(actions_, out);
  // RFC 826: "?Is the opcode ares_op$REQUEST? Yes: swap ... send". Only for
  // an address ersatz owns; otherwise the kernel answers.
  if (config_.own_address && for_us && a->operation == arp::Operation::request &&
      !a->source_ip.is_unspecified()) {
    emit_arp(out, arp::Operation::reply, a->source_hw, a->source_hw, a->source_ip);
    ++answers_.arp_replies;
  } else if (config_.own_address && for_us && a->operation == arp::Operation::request) {
    // An RFC 5227 probe for our address: defend it with a broadcast reply.
    emit_arp(out, arp::Operation::reply, MacAddress::broadcast(), a->source_hw, a->source_ip);
    ++answers_.arp_replies;
  }
}

void Host::receive_ipv4(ConstBytes l3, bool link_broadcast, Timestamp ts, MonoTime now,
                        Outbox& out) {
  auto p = ipv4::Packet<>::checked(l3);
  if (!p) {
    drops_.bump(ip_reason(p.error()));
    return;
  }
  // RFC 1122 §3.2.1.1-2: version and checksum, silently.
  if (auto r = ipv4::Repr::parse(*p); !r) {
    drops_.bump(ip_reason(r.error()));
    return;
  }
  // RFC 1122 §3.2.1.3: never accept a martian source.
  if (p->src().is_martian_source()) {
    drops_.bump(DropReason::ip_martian_source);
    return;
  }
  const Ipv4Address dst = p->dst();
  const bool ip_broadcast = is_broadcast(dst);
  if (dst != config_.address && !ip_broadcast) {
    drops_.bump(DropReason::ip_not_for_us);
    return;
  }
  // RFC 1122 §3.3.6: a link-layer broadcast carrying a unicast IP datagram
  // is discarded.
  if (link_broadcast && !ip_broadcast) {
    drops_.bump(DropReason::ip_link_broadcast);
    return;
  }
  if (p->is_fragment()) {
    auto outcome = reassembler_.add(*p, now);
    if (outcome.dropped) drops_.bump(*outcome.dropped);
    if (!outcome.datagram) return;
    const auto& whole = *outcome.datagram;
    auto q = ipv4::Packet<>::checked(ConstBytes(whole.data(), whole.size()));
    if (q) deliver(*q, ts, out, now);
    return;
  }
  deliver(*p, ts, out, now);
}

void Host::deliver(const ipv4::Packet<>& ip, Timestamp ts, Outbox& out, MonoTime now) {
  if (ip.protocol() != ipv4::Protocol::icmp) {
    // RFC 1122 §3.2.2.1: a host SHOULD say protocol unreachable, but
    // never about a broadcast (§3.2.2).
    if (config_.own_address && ip.dst() == config_.address) {
      protocol_unreachable(ip, now, out);
    } else {
      drops_.bump(DropReason::ip_unknown_protocol);
    }
    return;
  }
  auto icmp = icmpv4::Packet<>::checked(ip.payload());
  if (!icmp) {
    drops_.bump(DropReason::icmp_truncated);
    return;
  }
  const bool checksum_ok = icmp->verify_checksum();
  if (checksum_ok && icmp->type() == icmpv4::Type::dst_unreachable &&
      icmp->code() == static_cast<std::uint8_t>(icmpv4::Unreachable::frag_needed))
    learn_path_mtu(*icmp, now);
  if (config_.own_address && icmp->type() == icmpv4::Type::echo_request) {
    // RFC 1122 §3.2.2: a bad checksum is discarded silently.
    if (checksum_ok) {
      answer_echo(ip, *icmp, ts, now, out);
    } else {
      drops_.bump(DropReason::icmp_bad_checksum);
    }
    return;
  }
  if (listener_ == nullptr) {
    drops_.bump(DropReason::icmp_unhandled);
    return;
  }
  listener_->on_icmp(
      IcmpDelivery{ts, ip.src(), ip.dst(), ip.ttl(), ip.tos(), ip.options(), *icmp, checksum_ok});
}

void Host::learn_path_mtu(const icmpv4::Packet<>& icmp, MonoTime now) {
  // RFC 1191 §4: the next-hop MTU is the low 16 bits of the second word.
  // Only about a datagram we sent, read by its own quoted header.
  auto q = icmp.quote();
  if (!q || q->src() != config_.address) return;
  const std::size_t mtu = icmp.rest() & 0xffffU;
  // RFC 1191 §5: an old router says 0; a value of 68 or more is believed.
  if (mtu < 68) return;
  path_mtu_.learn(q->dst(), mtu, now);
}

void Host::answer_echo(const ipv4::Packet<>& ip, const icmpv4::Packet<>& icmp, Timestamp ts,
                       MonoTime now, Outbox& out) {
  // A request to a broadcast address is not answered, as Linux does by
  // default (icmp_echo_ignore_broadcasts; RFC 1122 §3.2.2.6 allows it).
  if (is_broadcast(ip.dst())) {
    drops_.bump(DropReason::icmp_echo_broadcast);
    return;
  }
  // RFC 1122 §3.2.2.6: the reply carries the request's data unchanged, and
  // its source is the address the request was sent to.
  echo_buf_.assign(icmp.bytes().begin(), icmp.bytes().end());
  MutBytes m(echo_buf_.data(), echo_buf_.size());
  store_u8(m, icmpv4::field::type, static_cast<std::uint8_t>(icmpv4::Type::echo_reply));
  auto reply = icmpv4::Packet<MutBytes>::unchecked(m);
  reply.fill_checksum();
  ipv4::Repr r;
  r.src = config_.address;
  r.dst = ip.src();
  r.protocol = ipv4::Protocol::icmp;
  r.ttl = 64;
  r.tos = ip.tos();
  std::array<std::byte, ipv4::max_options_len> options{};
  r.options = ConstBytes(options.data(), echo_options(ip.options(), ts, options));
  // Reply to where it came from, on-link or not: the request's source MAC
  // is already in the neighbour cache if it asked for ours.
  if (send(r, ConstBytes(echo_buf_.data(), echo_buf_.size()), ip.src(), now, out))
    ++answers_.echo_replies;
}

std::size_t Host::echo_options(ConstBytes request, Timestamp ts,
                               std::span<std::byte, ipv4::max_options_len> out) const {
  // RFC 1122 §3.2.2.6: Record Route and Timestamp options of a request
  // are updated to include this host and returned in the reply, so that
  // the route recorded is the whole round trip. As Linux does, this host
  // is recorded twice: as the request arrives and as the reply leaves.
  // Other options are not returned (a source route would have to be
  // reversed, which ersatz, a host on one link, never needs).
  std::size_t len = 0;
  ipv4::OptionReader reader(request);
  while (auto o = reader.next()) {
    if (o->type != ipv4::OptionType::rr && o->type != ipv4::OptionType::ts) continue;
    if (len + o->bytes.size() > out.size()) break;
    std::copy(o->bytes.begin(), o->bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(len));
    const MutBytes opt = MutBytes(out.data() + len, o->bytes.size());
    len += o->bytes.size();
    for (int pass = 0; pass < 2; ++pass) record_option(opt, ts);
  }
  return len;
}

void Host::record_option(MutBytes opt, Timestamp ts) const {
  if (opt.size() < 4) return;
  const std::size_t optlen = opt.size();
  const std::size_t ptr = load_u8(opt, 2);  // 1-based, RFC 791
  auto put_addr = [&](std::size_t at) { store_be32(opt, at, config_.address.value()); };
  if (static_cast<ipv4::OptionType>(load_u8(opt, 0)) == ipv4::OptionType::rr) {
    // RFC 791: full when the pointer is past the end.
    if (ptr < 4 || ptr + 3 > optlen) return;
    put_addr(ptr - 1);
    store_u8(opt, 2, static_cast<std::uint8_t>(ptr + 4));
    return;
  }
  // Internet Timestamp: milliseconds since midnight UT; oflw (high nibble
  // of the fourth octet) counts the hosts that found no room.
  const std::uint8_t oflw_flg = load_u8(opt, 3);
  const unsigned flag = oflw_flg & 0x0fU;
  const std::uint32_t ms = static_cast<std::uint32_t>((ts.sec % 86400) * 1000 +
                                                      static_cast<std::int64_t>(ts.nsec / 1000000));
  const std::size_t need = flag == 0 ? 4 : 8;
  if (ptr < 5) return;
  if (ptr + need - 1 > optlen) {
    if (flag != 3 && (oflw_flg >> 4) < 15)
      store_u8(opt, 3, static_cast<std::uint8_t>(oflw_flg + 0x10));
    return;
  }
  switch (flag) {
    case 0: store_be32(opt, ptr - 1, ms); break;
    case 1:
      put_addr(ptr - 1);
      store_be32(opt, ptr + 3, ms);
      break;
    case 3:
      // Prespecified: only where the next address named is ours.
      if (load_be32(opt, ptr - 1) != config_.address.value()) return;
      store_be32(opt, ptr + 3, ms);
      break;
    default: return;
  }
  store_u8(opt, 2, static_cast<std::uint8_t>(ptr + need));
}

void Host::protocol_unreachable(const ipv4::Packet<>& ip, MonoTime now, Outbox& out) {
  // RFC 1122 §3.2.2: never about a datagram from a broadcast, multicast or
  // unspecified source (martians are gone already).
  if (ip.src().is_unspecified() || is_broadcast(ip.src())) {
    drops_.bump(DropReason::ip_unknown_protocol);
    return;
  }
  if (!icmp_errors_.allow(ip.src(), now)) {
    drops_.bump(DropReason::icmp_rate_limited);
    return;
  }
  // RFC 1812 §4.3.2.3, as Linux does for hosts too: quote as much of the
  // datagram as fits in 576 bytes.
  constexpr std::size_t max_error = 576;
  const ConstBytes whole = ip.datagram();
  const std::size_t quote_len = std::min(whole.size(), max_error - ipv4::min_header_len - 8);
  const auto msg =
      icmpv4::Repr::dst_unreachable(icmpv4::Unreachable::protocol, whole.first(quote_len));
  echo_buf_.resize(msg.buffer_len());
  msg.emit(MutBytes(echo_buf_.data(), echo_buf_.size()));
  ipv4::Repr r;
  r.src = config_.address;
  r.dst = ip.src();
  r.protocol = ipv4::Protocol::icmp;
  r.ttl = 64;
  // RFC 1812 §4.3.2.5: TOS of the offending datagram, precedence 6 (as
  // Linux sets for errors: IPTOS_PREC_INTERNETCONTROL).
  r.tos = static_cast<std::uint8_t>((ip.tos() & 0x1eU) | 0xc0U);
  if (send(r, ConstBytes(echo_buf_.data(), echo_buf_.size()), ip.src(), now, out))
    ++answers_.protocol_unreachables;
}

// ---------------------------------------------------------------- timers

void Host::poll(MonoTime now, Outbox& out) {
  neighbors_.poll(now, actions_);
  apply(actions_, out);
  for (std::size_t n = reassembler_.poll(now); n > 0; --n) drops_.bump(DropReason::frag_timeout);
}

std::optional<MonoTime> Host::next_deadline() const noexcept {
  auto a = neighbors_.next_deadline();
  auto b = reassembler_.next_deadline();
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

}  // namespace ersatz::stack
