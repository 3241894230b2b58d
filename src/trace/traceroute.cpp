#include "ersatz/trace/traceroute.hpp"

#include <fmt/format.h>
#include <algorithm>

#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/ipv4.hpp"
#include "ersatz/wire/udp.hpp"

namespace ersatz::trace {

namespace icmpv4 = wire::icmpv4;
namespace ipv4 = wire::ipv4;
namespace udp = wire::udp;
using wire::Ipv4Address;

namespace {

/// traceroute's guess of the hops back from a reply's TTL: the sender
/// started from 64, 128 or 255 (the idea is tracepath's).
int hops_back(std::uint8_t ttl) noexcept {
  const int start = ttl <= 64 ? 65 : ttl <= 128 ? 129 : 256;
  return start - ttl;
}

/// traceroute's answers are timed to the millisecond's precision: it adds
/// 1 ms to a round trip before scaling it into a wait.
constexpr std::chrono::nanoseconds wait_precision{1'000'000};

}  // namespace

std::optional<std::string> annotation(icmpv4::Type type, std::uint8_t code, std::uint16_t mtu) {
  using icmpv4::Unreachable;
  if (type == icmpv4::Type::time_exceeded && code == 0) return std::nullopt;
  if (type != icmpv4::Type::dst_unreachable) {
    return fmt::format("!<{}-{}>", static_cast<unsigned>(type), code);
  }
  // RFC 1812 §5.2.7.1's codes, grouped as traceroute groups them.
  switch (static_cast<Unreachable>(code)) {
    case Unreachable::net:
    case Unreachable::net_unknown:
    case Unreachable::host_isolated:
    case Unreachable::net_tos: return "!N";
    case Unreachable::host:
    case Unreachable::host_unknown:
    case Unreachable::host_tos: return "!H";
    case Unreachable::net_prohibited:
    case Unreachable::host_prohibited:
    case Unreachable::comm_prohibited: return "!X";
    case Unreachable::port: return "";  // the destination itself
    case Unreachable::protocol: return "!P";
    case Unreachable::frag_needed: return fmt::format("!F-{}", mtu);
    case Unreachable::src_route_failed: return "!S";
    case Unreachable::host_precedence: return "!V";
    case Unreachable::precedence_cutoff: return "!C";
  }
  return fmt::format("!<{}>", code);
}

Traceroute::Traceroute(TraceConfig config, TraceListener& listener)
    : config_(config), listener_(listener) {
  config_.probes_per_hop = std::max(1U, config_.probes_per_hop);
  config_.sim_probes = std::max(1U, config_.sim_probes);
  config_.first_hop = std::clamp(config_.first_hop, 1U, std::max(1U, config_.max_hops));
  slots_.resize(std::size_t{config_.max_hops} * config_.probes_per_hop);
  start_ = std::size_t{config_.first_hop - 1} * config_.probes_per_hop;
  end_ = slots_.size();
  // 8 bytes of UDP or ICMP header, then traceroute's data: '@', 'A', ...
  message_.resize(udp::header_len + config_.data_len);
  for (std::size_t i = 0; i < config_.data_len; ++i) {
    message_[udp::header_len + i] = static_cast<std::byte>(0x40 + (i & 0x3f));
  }
}

std::chrono::nanoseconds Traceroute::timeout(std::size_t n) const noexcept {
  auto scaled = [&](const Slot& s, double factor) -> std::optional<std::chrono::nanoseconds> {
    if (!s.done || s.recv_ns == 0 || s.recv_ns <= s.sent_ns) return std::nullopt;
    const auto rtt = std::chrono::nanoseconds(s.recv_ns - s.sent_ns) + wait_precision;
    const auto v = std::chrono::nanoseconds(
        static_cast<std::int64_t>(static_cast<double>(rtt.count()) * factor));
    return std::min(v, config_.wait_max);
  };
  if (config_.here_factor > 0) {
    for (std::size_t p = hop_begin(n); p < hop_end(n); ++p) {
      if (auto v = scaled(slots_[p], config_.here_factor)) return *v;
    }
  }
  if (config_.near_factor > 0) {
    for (std::size_t p = n + 1; p < slots_.size() && slots_[p].sent; ++p) {
      if (auto v = scaled(slots_[p], config_.near_factor)) return *v;
    }
  }
  return config_.wait_max;
}

void Traceroute::expire(std::size_t n) {
  slots_[n].done = true;
  // Probes go out many at a time, and a last hop that rate-limits its
  // errors may answer only the later ones: "* * * ... !H". When the slot
  // that timed out is likely where that final answer belongs, the answer
  // moves here (traceroute's check_expired, whose rules these are).
  bool earlier_final = false;
  for (std::size_t p = hop_begin(n); p < n; ++p) {
    if (!slots_[p].done || !slots_[p].final) return;
    earlier_final = true;
  }
  std::optional<std::size_t> fp;
  for (std::size_t p = n + 1; p < slots_.size() && slots_[p].sent; ++p) {
    if (!slots_[p].done) continue;
    if (!slots_[p].final) return;  // a later hop said "time exceeded": this one is lost
    fp = p;
    break;
  }
  // Only an unreachable is moved: echo replies and port unreachables come
  // back in order.
  if (!fp || slots_[*fp].annotation.empty()) return;
  const Slot& f = slots_[*fp];
  bool replace = earlier_final || (n % config_.probes_per_hop) + (*fp - n) < config_.probes_per_hop;
  // An unreachable from a router that already said "time exceeded" at or
  // before this hop.
  for (std::size_t p = n; !replace && p-- > 0;) {
    replace = slots_[p].from && slots_[p].from == f.from;
  }
  if (!replace && f.reply_ttl != 0) {
    // Where the answer's TTL puts its sender, measured from the nearest
    // earlier hop that is fewer hops away on the way back.
    int back = hops_back(f.reply_ttl);
    for (std::size_t p = n; p-- > 0;) {
      const Slot& s = slots_[p];
      if (s.done && !s.final && s.reply_ttl != 0 && hops_back(s.reply_ttl) < back) {
        back = back - hops_back(s.reply_ttl) + static_cast<int>(ttl_of(p));
        break;
      }
    }
    replace = back <= static_cast<int>(ttl_of(n));
  }
  if (!replace) return;
  slots_[n] = f;
  // The emptied slot was sent long ago and takes no answer: it times out
  // at once.
  slots_[*fp] = Slot{};
  slots_[*fp].sent = true;
  slots_[*fp].replaced = true;
}

void Traceroute::send(runtime::Runtime& rt, std::size_t n) {
  Slot& s = slots_[n];
  const auto k = static_cast<std::uint16_t>(sent_order_.size());
  const ConstBytes data = ConstBytes(message_).subspan(udp::header_len);
  ipv4::Repr r;
  r.src = config_.source;
  r.dst = config_.target;
  r.ttl = static_cast<std::uint8_t>(std::min(ttl_of(n), 255U));
  r.tos = config_.tos;
  r.dont_fragment = config_.dont_fragment;
  if (config_.method == Method::udp) {
    r.protocol = ipv4::Protocol::udp;
    const udp::Repr u{config_.src_port, static_cast<std::uint16_t>(config_.first_port + k), data};
    u.emit(message_, config_.source, config_.target);
  } else {
    r.protocol = ipv4::Protocol::icmp;
    icmpv4::Repr::echo_request(config_.ident, static_cast<std::uint16_t>(config_.first_seq + k),
                               data)
        .emit(message_);
  }
  s.sent = true;
  s.sent_mono = rt.now();
  s.sent_ns = rt.wall().ns();
  sent_order_.push_back(n);
  last_send_ = rt.now();
  const auto mtu_use = config_.dont_fragment ? stack::PathMtuUse::link : stack::PathMtuUse::learned;
  if (auto sent = rt.send(r, message_, config_.next_hop, mtu_use); !sent) {
    if (sent.error() == std::errc::message_size) {
      // Larger than our own link with DF: the kernel's local EMSGSIZE,
      // which traceroute prints as !F with the MTU.
      s.done = true;
      s.final = true;
      s.recv_ns = s.sent_ns;
      s.annotation = fmt::format("!F-{}", rt.host().mtu());
    } else {
      listener_.on_send_error(sent.error());
      send_failed_ = true;
    }
    return;
  }
  // Out now. traceroute takes the time just before it sends; so does the
  // runtime, per frame, and on_sent() takes its stamp (a probe that waited
  // for ARP leaves later).
  rt.flush();
}

std::optional<MonoTime> Traceroute::poll(runtime::Runtime& rt) {
  const MonoTime now = rt.now();
  std::optional<MonoTime> next;
  std::size_t in_flight = 0;
  for (std::size_t n = start_; n < end_; ++n) {
    Slot& s = slots_[n];
    if (n == start_ && s.sent && !s.done) {
      const MonoTime expires = s.sent_mono + timeout(n);
      if (expires > now) {
        next = expires;
      } else {
        expire(n);
      }
    }
    if (!s.sent) {
      if (config_.send_interval.count() > 0 && last_send_ &&
          *last_send_ + config_.send_interval > now) {
        next = *last_send_ + config_.send_interval;
        break;
      }
      send(rt, n);  // may be done at once: a local "message too long"
      if (send_failed_) break;
    }
    if (s.done) {
      if (n == start_) {
        emit(n);
        ++start_;
      }
      if (s.final) end_ = std::min(end_, hop_end(n));
      continue;
    }
    if (!next) next = s.sent_mono + timeout(n);
    max_in_flight_ = std::max(max_in_flight_, ++in_flight);
    if (in_flight >= config_.sim_probes) break;
  }
  return next;
}

bool Traceroute::finished(const runtime::Runtime& /*rt*/) const {
  return start_ >= end_ || send_failed_;
}

std::optional<std::size_t> Traceroute::slot_for_port(std::uint16_t src,
                                                     std::uint16_t dst) const noexcept {
  if (config_.method != Method::udp || src != config_.src_port) return std::nullopt;
  const auto k = static_cast<std::uint16_t>(dst - config_.first_port);
  if (k >= sent_order_.size()) return std::nullopt;
  return sent_order_[k];
}

std::optional<std::size_t> Traceroute::slot_for_seq(std::uint16_t ident,
                                                    std::uint16_t seq) const noexcept {
  if (config_.method != Method::icmp || ident != config_.ident) return std::nullopt;
  const auto k = static_cast<std::uint16_t>(seq - config_.first_seq);
  if (k >= sent_order_.size()) return std::nullopt;
  return sent_order_[k];
}

std::optional<std::size_t> Traceroute::match(const stack::IcmpDelivery& d) const {
  const icmpv4::Packet<>& m = d.message;
  if (m.type() == icmpv4::Type::echo_reply) {
    // Only the destination answers an echo, and it returns our data
    // unchanged (RFC 792): anything else is somebody's forgery or another
    // program's reply.
    const ConstBytes ours = ConstBytes(message_).subspan(icmpv4::header_len);
    if (d.src != config_.target || !d.checksum_ok ||
        !std::equal(m.data().begin(), m.data().end(), ours.begin(), ours.end()))
      return std::nullopt;
    return slot_for_seq(m.ident(), m.seq());
  }
  // Source quench and redirect say nothing about the path (traceroute
  // drops them too).
  if (!icmpv4::is_error(m.type()) || m.type() == icmpv4::Type::source_quench ||
      m.type() == icmpv4::Type::redirect) {
    return std::nullopt;
  }
  auto q = m.quote();
  if (!q || q->src() != config_.source || q->dst() != config_.target || q->frag_offset() != 0) {
    return std::nullopt;
  }
  if (q->protocol() == ipv4::Protocol::udp) {
    auto h = udp::Header<>::checked(q->payload());
    if (!h) return std::nullopt;
    return slot_for_port(h->src_port(), h->dst_port());
  }
  if (q->protocol() == ipv4::Protocol::icmp) {
    auto h = icmpv4::Header<>::checked(q->payload());
    if (!h || h->type() != icmpv4::Type::echo_request) return std::nullopt;
    return slot_for_seq(h->ident(), h->seq());
  }
  return std::nullopt;
}

void Traceroute::answer(std::size_t n, const stack::IcmpDelivery& d) {
  Slot& s = slots_[n];
  s.done = true;
  s.from = d.src;
  s.recv_ns = d.ts.ns();
  s.reply_ttl = d.ttl;
  const icmpv4::Packet<>& m = d.message;
  if (m.type() == icmpv4::Type::echo_reply) {
    s.final = true;
    return;
  }
  if (auto a = annotation(m.type(), m.code(), m.mtu())) {
    s.final = true;
    s.annotation = std::move(*a);
  }
}

void Traceroute::on_icmp(runtime::Runtime& /*rt*/, const stack::IcmpDelivery& d) {
  auto n = match(d);
  if (!n) return;
  const Slot& s = slots_[*n];
  // Only a probe in flight takes an answer: a late one, a duplicate or
  // one for a slot whose answer moved is dropped.
  if (!s.sent || s.done || s.replaced) return;
  answer(*n, d);
}

void Traceroute::on_sent(runtime::Runtime& /*rt*/, ConstBytes head, Timestamp ts,
                         bool /*from_kernel*/) {
  auto eth = wire::ethernet::Packet<>::checked(head);
  if (!eth) return;
  auto e = wire::ethernet::Repr::parse(*eth);
  if (!e || e->ethertype != wire::EtherType::ipv4) return;
  auto ip = ipv4::Header<>::checked(head.subspan(e->header_len()));
  if (!ip || ip->src() != config_.source || ip->dst() != config_.target || ip->frag_offset() != 0)
    return;
  const ConstBytes l4 = head.subspan(e->header_len() + ip->header_len());
  std::optional<std::size_t> n;
  if (ip->protocol() == ipv4::Protocol::udp) {
    if (auto h = udp::Header<>::checked(l4)) n = slot_for_port(h->src_port(), h->dst_port());
  } else if (ip->protocol() == ipv4::Protocol::icmp) {
    auto h = icmpv4::Header<>::checked(l4);
    if (h && h->type() == icmpv4::Type::echo_request) n = slot_for_seq(h->ident(), h->seq());
  }
  // The round trip counts from when the probe left: the kernel's stamp
  // where the device gives one, else the runtime's (see send()).
  if (!n || slots_[*n].done) return;
  slots_[*n].sent_ns = ts.ns();
}

void Traceroute::emit(std::size_t n) {
  const Slot& s = slots_[n];
  ProbeResult p;
  p.ttl = ttl_of(n);
  p.index = static_cast<unsigned>(n % config_.probes_per_hop);
  p.from = s.from;
  if (s.recv_ns != 0)
    p.rtt = std::chrono::nanoseconds(std::max<std::int64_t>(0, s.recv_ns - s.sent_ns));
  p.annotation = s.annotation;
  p.final = s.final;
  p.reply_ttl = s.reply_ttl;
  listener_.on_probe(p);
}

}  // namespace ersatz::trace
