#include "ersatz/stack/address_claim.hpp"

#include <array>
#include <utility>

namespace ersatz::stack {

namespace arp = wire::arp;

std::string_view to_string(DefendPolicy p) noexcept {
  switch (p) {
    case DefendPolicy::once: return "once";
    case DefendPolicy::always: return "always";
    case DefendPolicy::never: return "never";
  }
  return "unknown";
}

std::optional<DefendPolicy> parse_defend_policy(std::string_view s) noexcept {
  for (auto p : {DefendPolicy::once, DefendPolicy::always, DefendPolicy::never}) {
    if (to_string(p) == s) return p;
  }
  return std::nullopt;
}

std::string_view to_string(ClaimState s) noexcept {
  switch (s) {
    case ClaimState::idle: return "idle";
    case ClaimState::probing: return "probing";
    case ClaimState::announcing: return "announcing";
    case ClaimState::bound: return "bound";
    case ClaimState::lost: return "lost";
  }
  return "unknown";
}

std::string_view to_string(ClaimEvent::Kind k) noexcept {
  using K = ClaimEvent::Kind;
  switch (k) {
    case K::probe: return "probe";
    case K::announce: return "announce";
    case K::bound: return "bound";
    case K::conflict_probing: return "conflict";
    case K::defended: return "defended";
    case K::ignored: return "ignored";
    case K::yielded: return "yielded";
  }
  return "unknown";
}

AddressClaim::AddressClaim(ClaimConfig config) : config_(config), rng_(config.seed) {}

std::chrono::nanoseconds AddressClaim::uniform(std::chrono::nanoseconds lo,
                                               std::chrono::nanoseconds hi) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<std::int64_t> d(lo.count(), hi.count());
  return std::chrono::nanoseconds(d(rng_));
}

void AddressClaim::emit(const arp::Repr& repr, Outbox& out) const {
  // Probes and announcements are broadcast (RFC 5227 §2.1.1, §2.3).
  wire::ethernet::Repr eth;
  eth.dst = wire::MacAddress::broadcast();
  eth.src = config_.mac;
  eth.ethertype = wire::EtherType::arp;
  const MutBytes frame = out.add(eth.buffer_len(arp::Repr::buffer_len()));
  eth.emit(frame, arp::Repr::buffer_len());
  repr.emit(frame.subspan(eth.header_len(), arp::Repr::buffer_len()));
}

void AddressClaim::start(MonoTime now) {
  state_ = ClaimState::probing;
  probes_ = 0;
  announcements_ = 0;
  // §2.1.1: "wait for a random time interval selected uniformly in the
  // range zero to PROBE_WAIT seconds".
  next_ = now + uniform(std::chrono::nanoseconds::zero(), config_.timing.probe_wait);
}

void AddressClaim::poll(MonoTime now, Outbox& out) {
  const ClaimTiming& t = config_.timing;
  while (next_ && *next_ <= now) {
    if (state_ == ClaimState::probing && probes_ < t.probe_num) {
      emit(probe(config_.mac, config_.address), out);
      ++probes_;
      event(ClaimEvent::Kind::probe, now);
      // §2.1.1: probes PROBE_MIN..PROBE_MAX apart; after the last one,
      // ANNOUNCE_WAIT for an answer.
      next_ = now + (probes_ < t.probe_num ? uniform(t.probe_min, t.probe_max) : t.announce_wait);
    } else if (state_ == ClaimState::probing) {
      // §2.3: nobody objected; the address is ours from the first
      // announcement.
      state_ = ClaimState::announcing;
      event(ClaimEvent::Kind::bound, now);
    } else if (state_ == ClaimState::announcing) {
      emit(announcement(config_.mac, config_.address), out);
      ++announcements_;
      event(ClaimEvent::Kind::announce, now);
      if (announcements_ < t.announce_num) {
        next_ = now + t.announce_interval;
      } else {
        state_ = ClaimState::bound;
        next_.reset();
      }
    } else {
      next_.reset();
    }
  }
}

std::optional<MonoTime> AddressClaim::next_deadline() const noexcept { return next_; }

bool AddressClaim::on_arp(const arp::Repr& a, MonoTime now, Outbox& out) {
  // Our own frames, looped back or seen twice, are never a conflict.
  if (a.source_hw == config_.mac) return false;
  if (state_ == ClaimState::probing) {
    // §2.1.1: any ARP whose sender is the address means it is in use; a
    // probe from someone else for it means another host wants it too.
    const bool in_use = a.source_ip == config_.address;
    const bool rival_probe = a.operation == arp::Operation::request &&
                             a.source_ip.is_unspecified() && a.target_ip == config_.address;
    if (!in_use && !rival_probe) return false;
    state_ = ClaimState::lost;
    next_.reset();
    event(ClaimEvent::Kind::conflict_probing, now, a.source_hw);
    return true;
  }
  if (!in_use() || a.source_ip != config_.address) return false;
  // §2.4: another host says the address is its own.
  const auto defend_interval = config_.timing.defend_interval;
  auto yield = [&] {
    state_ = ClaimState::lost;
    next_.reset();
    event(ClaimEvent::Kind::yielded, now, a.source_hw);
  };
  auto defend = [&] {
    emit(announcement(config_.mac, config_.address), out);
    event(ClaimEvent::Kind::defended, now, a.source_hw);
  };
  switch (config_.defend) {
    case DefendPolicy::never: yield(); break;
    case DefendPolicy::once:
      // §2.4(b): a conflict within DEFEND_INTERVAL of the one defended
      // means the other host insists: cease at once.
      if (last_conflict_ && now - *last_conflict_ < defend_interval) {
        yield();
      } else {
        last_conflict_ = now;
        defend();
      }
      break;
    case DefendPolicy::always:
      // §2.4(c): defend, but not more than once per DEFEND_INTERVAL, so
      // that two defenders cannot flood the link.
      if (last_defence_ && now - *last_defence_ < defend_interval) {
        event(ClaimEvent::Kind::ignored, now, a.source_hw);
      } else {
        last_defence_ = now;
        defend();
      }
      break;
  }
  return true;
}

}  // namespace ersatz::stack
