#include "ersatz/scan/sweep.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace ersatz::scan {

namespace icmpv4 = wire::icmpv4;
namespace ipv4 = wire::ipv4;

namespace {

std::uint64_t load_le64(ConstBytes b, std::size_t at) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i)
    v |= std::uint64_t{static_cast<std::uint8_t>(b[at + i])} << (8 * i);
  return v;
}
void store_le64(MutBytes b, std::size_t at, std::uint64_t v) noexcept {
  for (std::size_t i = 0; i < 8; ++i) b[at + i] = static_cast<std::byte>(v >> (8 * i));
}

/// In-flight and queued work is bounded by this many probes per turn, so
/// that replies are read between bursts.
constexpr std::uint64_t max_burst = 256;

}  // namespace

Sweep::Sweep(const TargetSet& targets, SweepConfig config, NextHop next_hop,
             SweepListener& listener)
    : targets_(targets),
      config_(config),
      next_hop_(std::move(next_hop)),
      listener_(listener),
      order_(targets.size(), config.order_key),
      walk_(order_, config.shard_index, config.shard_count),
      pacer_(config.pacing),
      answered_(targets.size()),
      started_bits_(targets.size()),
      shard_size_(walk_.total()),
      message_(icmpv4::header_len + config.data_len) {
  config_.retries = alive_mode() ? config_.retries : 0;
  waits_.resize(alive_mode() ? config_.retries + 1 : 1);
  if (!alive_mode()) {
    stats_.resize(targets.size());
    responses_.assign(targets.size() * config_.count, response_unused);
  }
  if (config_.data_len < cookie_len) seqmap_.resize(65536);
}

std::chrono::nanoseconds Sweep::timeout_for(std::uint32_t ping) const noexcept {
  if (!alive_mode()) return config_.timeout;
  // fping multiplies the host's timeout by the backoff factor at each retry.
  return std::chrono::nanoseconds(static_cast<std::int64_t>(
      static_cast<double>(config_.timeout.count()) * std::pow(config_.backoff, ping)));
}

const SweepError* Sweep::last_error(std::uint64_t t) const {
  auto it = errors_.find(t);
  return it == errors_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------- sending

std::uint64_t Sweep::mac(std::int64_t sent_ns, std::uint64_t target, std::uint32_t ping,
                         std::uint16_t seq) const noexcept {
  const std::array<std::uint64_t, 3> words{static_cast<std::uint64_t>(sent_ns),
                                           target | (std::uint64_t{ping} << 32),
                                           (std::uint64_t{targets_.address(target).value()} << 32) |
                                               (std::uint64_t{config_.ident} << 16) | seq};
  return siphash24(config_.cookie_key, words);
}

void Sweep::write_probe(std::uint64_t target, std::uint32_t ping, std::int64_t sent_ns) {
  const MutBytes m(message_.data(), message_.size());
  const std::uint16_t seq = seq_++;
  store_u8(m, icmpv4::field::type, static_cast<std::uint8_t>(icmpv4::Type::echo_request));
  store_u8(m, icmpv4::field::code, 0);
  store_be16(m, icmpv4::field::rest.begin, config_.ident);
  store_be16(m, icmpv4::field::rest.begin + 2, seq);
  const MutBytes data = m.subspan(icmpv4::header_len);
  if (data.size() >= cookie_len) {
    store_le64(data, 0, static_cast<std::uint64_t>(sent_ns));
    store_le64(data, 8, target | (std::uint64_t{ping} << 32));
    store_le64(data, 16, mac(sent_ns, target, ping, seq));
  } else {
    seqmap_[seq] = SeqSlot{static_cast<std::uint32_t>(target), ping, sent_ns};
  }
  icmpv4::Packet<MutBytes>::unchecked(m).fill_checksum();
}

bool Sweep::send_probe(runtime::Runtime& rt, std::uint64_t target, std::uint32_t ping) {
  const wire::Ipv4Address dst = targets_.address(target);
  const wire::Ipv4Address hop = next_hop_(dst);
  const auto& neighbors = rt.host().neighbors();
  const stack::NeighborCache::Entry* entry = neighbors.find(hop);
  if (entry == nullptr && neighbors.size() >= config_.neighbor_budget) return false;
  // While ARP for a next hop is under way, its queue holds a few datagrams
  // only (as the kernel's unres_qlen does); new targets behind the same
  // gateway wait for the answer instead of overflowing it. Retries still
  // go, as the kernel would queue fping's.
  // A next hop that failed once is not waited for again: a sweep behind a
  // dead gateway would otherwise let one target through per ARP cycle.
  if (ping == 0 && entry != nullptr && entry->state == stack::NeighborState::incomplete &&
      !failed_hops_.contains(hop.value()))
    return false;

  const Timestamp wall = rt.wall();
  write_probe(target, ping, wall.ns());
  ipv4::Repr r;
  r.src = config_.source;
  r.dst = dst;
  r.protocol = ipv4::Protocol::icmp;
  r.ttl = config_.ttl;
  r.tos = config_.tos;
  // -M: DF always (an oversize probe then fails here). Otherwise as the
  // kernel sends fping's: DF on what fits the path MTU known so far, and
  // fragments once a router has said the path is smaller.
  r.dont_fragment = config_.dont_fragment || message_.size() + wire::ipv4::min_header_len <=
                                                 rt.host().path_mtu(dst, rt.now());
  // A datagram the Host cannot send (larger than the MTU with DF) still
  // counts as sent, as fping counts a failed sendto, and times out.
  (void)rt.send(r, ConstBytes(message_.data(), message_.size()), hop);
  ++totals_.sent;

  const std::int64_t now = ns(rt.now());
  if (!started_bits_.test(target)) {
    started_bits_.set(target);
    ++started_;
  }
  if (alive_mode()) {
    waits_[ping].push_back(
        Pending{static_cast<std::uint32_t>(target), ping, now + timeout_for(ping).count()});
  } else {
    waits_[0].push_back(
        Pending{static_cast<std::uint32_t>(target), ping, now + config_.timeout.count()});
    responses_[target * config_.count + ping] = response_waiting;
    ++outstanding_;
    if (ping + 1 < config_.count)
      next_pings_.push_back(
          Pending{static_cast<std::uint32_t>(target), ping + 1, now + config_.period.count()});
  }
  return true;
}

void Sweep::send_due(runtime::Runtime& rt) {
  const MonoTime now = rt.now();
  // Alive mode: a retry for a target that answered meanwhile is dropped.
  while (!ready_.empty() && alive_mode() && answered_.test(ready_.front().target))
    ready_.pop_front();
  const bool fresh = held_.has_value() || !walk_.done();
  const std::uint64_t want =
      std::min<std::uint64_t>(ready_.size() + (fresh ? max_burst : 0), max_burst);
  if (want == 0) return;
  std::uint64_t allowed = pacer_.allowance(now, want);
  std::uint64_t sent = 0;
  while (sent < allowed) {
    if (!ready_.empty()) {
      const Pending p = ready_.front();
      if (alive_mode() && answered_.test(p.target)) {
        ready_.pop_front();
        continue;
      }
      if (!send_probe(rt, p.target, p.ping)) break;
      ready_.pop_front();
    } else if (held_ || !walk_.done()) {
      const std::uint64_t t = held_ ? *held_ : walk_.next();
      held_.reset();
      if (!send_probe(rt, t, 0)) {
        held_ = t;
        break;
      }
    } else {
      break;
    }
    ++sent;
  }
  pacer_.sent(now, sent);
}

// ---------------------------------------------------------------- timers

void Sweep::finish_target(std::uint64_t t) {
  ++done_;
  (void)t;
}

void Sweep::expire(MonoTime now) {
  const std::int64_t t_now = ns(now);
  for (std::uint32_t k = 0; k < waits_.size(); ++k) {
    auto& q = waits_[k];
    while (!q.empty() && q.front().due <= t_now) {
      const Pending p = q.front();
      q.pop_front();
      if (alive_mode()) {
        if (answered_.test(p.target)) continue;
        ++totals_.timeouts;
        if (p.ping < config_.retries) {
          ready_.push_back(Pending{p.target, p.ping + 1, t_now});
        } else {
          finish_target(p.target);
          listener_.on_given_up(p.target);
        }
      } else {
        std::int64_t& slot = responses_[std::uint64_t{p.target} * config_.count + p.ping];
        if (slot != response_waiting) continue;
        slot = response_timeout;
        ++totals_.timeouts;
        --outstanding_;
        TargetStats& s = stats_[p.target];
        ++s.sent;
        if (s.sent == config_.count) finish_target(p.target);
        listener_.on_timeout(p.target, p.ping);
      }
    }
  }
  while (!next_pings_.empty() && next_pings_.front().due <= t_now) {
    ready_.push_back(next_pings_.front());
    next_pings_.pop_front();
  }
}

void Sweep::watch_congestion(runtime::Runtime& rt) {
  // Looked at once an epoch: the device's drop counter may cost a system
  // call.
  const std::uint64_t drops = rt.device().drops();
  const std::uint64_t send_errors = rt.stats().send_errors;
  if (drops > seen_drops_ || send_errors > seen_send_errors_) pacer_.on_congestion(rt.now());
  seen_drops_ = drops;
  seen_send_errors_ = send_errors;
}

std::optional<MonoTime> Sweep::poll(runtime::Runtime& rt) {
  const MonoTime now = rt.now();
  if (config_.pacing.mode == PacerConfig::Mode::adaptive && now >= pacer_.epoch_end())
    watch_congestion(rt);
  expire(now);
  send_due(rt);
  listener_.on_turn(now);

  std::optional<MonoTime> next;
  auto earliest = [&](MonoTime t) { next = next ? std::min(*next, t) : t; };
  auto at = [](std::int64_t t) { return MonoTime(std::chrono::nanoseconds(t)); };
  for (const auto& q : waits_) {
    if (!q.empty()) earliest(at(q.front().due));
  }
  if (!next_pings_.empty()) earliest(at(next_pings_.front().due));
  if (!ready_.empty() || (!walk_.done() && !held_)) earliest(pacer_.next_send(now));
  // A target held for a neighbour goes when the neighbour table changes:
  // an answer (a frame wakes the loop) or one of its timers (ARP's retry
  // or failure, an entry's expiry), which the Host's deadline is. Polling
  // instead (every 1 ms, as before) woke the loop 3000 times for each 3 s
  // of ARP for a dead gateway.
  if (held_) {
    if (auto d = rt.host().next_deadline()) earliest(*d);
  }
  return next;
}

bool Sweep::finished(const runtime::Runtime& /*rt*/) const {
  if (held_ || !walk_.done() || !ready_.empty()) return false;
  if (alive_mode()) return done_ == started_;
  return next_pings_.empty() && outstanding_ == 0;
}

// ---------------------------------------------------------------- receiving

std::optional<Sweep::Probe> Sweep::identify(std::uint16_t ident, std::uint16_t seq,
                                            ConstBytes data) const {
  if (ident != config_.ident) return std::nullopt;
  if (config_.data_len < cookie_len) {
    const SeqSlot& s = seqmap_[seq];
    if (s.sent_ns < 0) return std::nullopt;
    return Probe{s.target, s.ping, s.sent_ns};
  }
  if (data.size() < cookie_len) return std::nullopt;
  const auto sent_ns = static_cast<std::int64_t>(load_le64(data, 0));
  const std::uint64_t who = load_le64(data, 8);
  const std::uint64_t target = who & 0xffffffffU;
  const auto ping = static_cast<std::uint32_t>(who >> 32);
  if (target >= targets_.size() ||
      ping >= std::max<std::uint32_t>(config_.count, config_.retries + 1))
    return std::nullopt;
  if (load_le64(data, 16) != mac(sent_ns, target, ping, seq)) return std::nullopt;
  return Probe{target, ping, sent_ns};
}

void Sweep::on_icmp(runtime::Runtime& rt, const stack::IcmpDelivery& d) {
  switch (d.message.type()) {
    case icmpv4::Type::echo_reply: reply(rt, d); break;
    case icmpv4::Type::dst_unreachable:
    case icmpv4::Type::source_quench:
    case icmpv4::Type::redirect:
    case icmpv4::Type::time_exceeded:
    case icmpv4::Type::param_problem: error(d); break;
    default: break;
  }
}

void Sweep::reply(runtime::Runtime& rt, const stack::IcmpDelivery& d) {
  const auto& m = d.message;
  if (m.ident() != config_.ident) return;  // another program's
  auto probe = d.checksum_ok ? identify(m.ident(), m.seq(), m.data()) : std::nullopt;
  // From the target itself: a copy of our probe sent back by anyone else
  // says nothing about whether the target is up.
  if (!probe || d.src != targets_.address(probe->target) || !started_bits_.test(probe->target)) {
    ++totals_.rejected;
    return;
  }
  ++totals_.replies;
  const std::uint64_t t = probe->target;
  SweepReply r{
      t,     probe->ping, m.bytes().size(), std::chrono::nanoseconds(d.ts.ns() - probe->sent_ns),
      d.src, d.ts};
  pacer_.on_reply(rt.now(), r.rtt);
  const std::int64_t rtt = r.rtt.count();
  auto count_rtt = [&] {
    if (totals_.rtt_count == 0 || rtt < totals_.rtt_min) totals_.rtt_min = rtt;
    if (rtt > totals_.rtt_max) totals_.rtt_max = rtt;
    totals_.rtt_sum += rtt;
    ++totals_.rtt_count;
  };
  if (alive_mode()) {
    if (answered_.test(t)) {
      listener_.on_duplicate(r);
      return;
    }
    // fping's rule: a reply later than the probe's timeout is discarded.
    if (r.rtt > timeout_for(r.ping)) return;
    answered_.set(t);
    ++totals_.alive;
    count_rtt();
    finish_target(t);
    listener_.on_reply(r);
    return;
  }
  TargetStats& s = stats_[t];
  ++s.recv_total;
  std::int64_t& slot = responses_[t * config_.count + r.ping];
  if (slot >= 0) {
    listener_.on_duplicate(r);
    return;
  }
  if (slot != response_waiting || r.rtt > config_.timeout) return;
  slot = rtt;
  --outstanding_;
  ++s.sent;
  ++s.recv;
  if (s.max == 0 || rtt > s.max) s.max = rtt;
  if (s.min == 0 || rtt < s.min) s.min = rtt;
  s.total += rtt;
  count_rtt();
  if (!answered_.test(t)) {
    answered_.set(t);
    ++totals_.alive;
  }
  if (s.sent == config_.count) finish_target(t);
  listener_.on_reply(r);
}

void Sweep::report_error(const SweepError& e) {
  ++totals_.other_icmp;
  errors_[e.target] = e;
  listener_.on_error(e);
}

void Sweep::error(const stack::IcmpDelivery& d) {
  // The quote is read with its own IHL and must hold our echo request:
  // from our address, the first fragment, our identifier.
  auto q = d.message.quote();
  if (!q || q->src() != config_.source || q->protocol() != ipv4::Protocol::icmp ||
      q->frag_offset() != 0)
    return;
  auto h = icmpv4::Header<>::checked(q->payload());
  if (!h || h->type() != icmpv4::Type::echo_request) return;
  const ConstBytes quoted_data = q->payload().subspan(icmpv4::header_len);
  std::optional<std::uint64_t> target;
  if (auto p = identify(h->ident(), h->seq(), quoted_data)) {
    target = p->target;
  } else if (h->ident() == config_.ident && quoted_data.size() < cookie_len) {
    // RFC 792 asks a router to quote only 8 bytes of data: then the
    // quoted destination names the target.
    target = targets_.find(q->dst());
  }
  if (!target || targets_.address(*target) != q->dst() || !started_bits_.test(*target)) return;
  report_error(SweepError{*target, d.src, d.message.type(), d.message.code(), false});
}

void Sweep::on_neighbor_failed(runtime::Runtime& /*rt*/, wire::Ipv4Address next_hop,
                               std::span<const stack::Datagram> datagrams) {
  failed_hops_.insert(next_hop.value());
  for (const stack::Datagram& dgram : datagrams) {
    auto ip = ipv4::Packet<>::checked(ConstBytes(dgram.data(), dgram.size()));
    if (!ip || ip->protocol() != ipv4::Protocol::icmp || ip->frag_offset() != 0) continue;
    auto h = icmpv4::Header<>::checked(ip->payload());
    if (!h || h->type() != icmpv4::Type::echo_request) continue;
    auto p = identify(h->ident(), h->seq(), ip->payload().subspan(icmpv4::header_len));
    if (!p) continue;
    // The kernel reports a failed ARP with a host unreachable from the
    // sender's own address; fping prints it so, and so does sweep.
    report_error(SweepError{p->target, config_.source, icmpv4::Type::dst_unreachable, 1, true});
  }
}

}  // namespace ersatz::scan
