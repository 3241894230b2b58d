#include "ersatz/stack/echo.hpp"

#include <algorithm>

namespace ersatz::stack {

namespace icmpv4 = wire::icmpv4;
namespace ipv4 = wire::ipv4;

EchoSession::EchoSession(EchoConfig config)
    : config_(std::move(config)), message_(icmpv4::header_len + config_.data_len), sent_at_(65536) {
  // The data is laid out once; request() only rewrites the header, the
  // time and the cookie.
  MutBytes data(message_.data() + icmpv4::header_len, config_.data_len);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(expected_byte(i));
}

std::uint8_t EchoSession::expected_byte(std::size_t i) const noexcept {
  // iputils fills the data with its index, or with the -p pattern from the
  // start of the data; the time and cookie then overwrite the front.
  if (config_.pattern.empty()) return static_cast<std::uint8_t>(i);
  return config_.pattern[i % config_.pattern.size()];
}

ConstBytes EchoSession::request(std::uint16_t seq, Timestamp sent) {
  MutBytes m(message_.data(), message_.size());
  MutBytes data = m.subspan(icmpv4::header_len);
  // The time as iputils' struct timeval (little-endian on the hosts it
  // runs on), then our cookie, each only if there is room for all of it.
  if (data.size() >= echo_timeval_len) {
    const auto sec = static_cast<std::uint64_t>(sent.sec);
    const std::uint64_t usec = sent.nsec / 1000;
    for (int i = 0; i < 8; ++i) {
      data[static_cast<std::size_t>(i)] = static_cast<std::byte>(sec >> (8 * i));
      data[static_cast<std::size_t>(8 + i)] = static_cast<std::byte>(usec >> (8 * i));
    }
  }
  if (data.size() >= echo_cookie_end) {
    for (int i = 0; i < 8; ++i) {
      data[echo_timeval_len + static_cast<std::size_t>(i)] =
          static_cast<std::byte>(config_.cookie >> (8 * i));
    }
  }
  const auto repr = icmpv4::Repr::echo_request(config_.ident, seq, data);
  store_u8(m, icmpv4::field::type, static_cast<std::uint8_t>(repr.type));
  store_u8(m, icmpv4::field::code, 0);
  store_be32(m, icmpv4::field::rest.begin, repr.rest);
  icmpv4::Packet<MutBytes>::unchecked(m).fill_checksum();
  sent_at_[seq] = sent;
  sent_[seq] = true;
  received_[seq] = false;  // the sequence space wraps at 65536
  return ConstBytes(message_.data(), message_.size());
}

void EchoSession::on_icmp(const IcmpDelivery& d) {
  switch (d.message.type()) {
    case icmpv4::Type::echo_reply: on_reply(d); break;
    case icmpv4::Type::dst_unreachable:
    case icmpv4::Type::time_exceeded:
    case icmpv4::Type::param_problem:
    case icmpv4::Type::redirect: on_error(d); break;
    default: break;  // RFC 6633: source quench is ignored; other types are not ours
  }
}

void EchoSession::on_reply(const IcmpDelivery& d) {
  const auto& m = d.message;
  if (m.ident() != config_.ident || !sent_[m.seq()]) return;
  // From the target itself, unless we pinged a broadcast address.
  if (d.src != config_.target && !config_.target.is_broadcast() && !config_.any_source) return;
  const ConstBytes data = m.data();
  if (data.size() >= echo_cookie_end) {
    for (std::size_t i = 0; i < 8; ++i) {
      if (static_cast<std::uint8_t>(data[echo_timeval_len + i]) !=
          static_cast<std::uint8_t>(config_.cookie >> (8 * i))) {
        return;
      }
    }
  }
  EchoReply r;
  r.seq = m.seq();
  r.from = d.src;
  r.ttl = d.ttl;
  r.icmp_len = m.bytes().size();
  r.duplicate = received_[r.seq];
  r.bad_checksum = !d.checksum_ok;
  r.ts = d.ts;
  r.ip_options.assign(d.ip_options.begin(), d.ip_options.end());
  if (config_.data_len >= echo_timeval_len)
    r.rtt = std::chrono::nanoseconds(d.ts.ns() - sent_at_[r.seq].ns());
  for (std::size_t i = echo_cookie_end; i < data.size() && i < config_.data_len; ++i) {
    if (static_cast<std::uint8_t>(data[i]) != expected_byte(i)) {
      r.wrong_byte = EchoReply::WrongByte{i, expected_byte(i), static_cast<std::uint8_t>(data[i])};
      break;
    }
  }
  received_[r.seq] = true;
  events_.emplace_back(std::move(r));
}

std::optional<std::uint16_t> EchoSession::own_probe(const ipv4::Quote& q) const noexcept {
  if (q.src() != config_.source || q.dst() != config_.target ||
      q.protocol() != ipv4::Protocol::icmp || q.frag_offset() != 0) {
    return std::nullopt;
  }
  auto h = icmpv4::Header<>::checked(q.payload());
  if (!h || h->type() != icmpv4::Type::echo_request || h->ident() != config_.ident ||
      !sent_[h->seq()]) {
    return std::nullopt;
  }
  return h->seq();
}

void EchoSession::on_error(const IcmpDelivery& d) {
  auto q = d.message.quote();
  if (!q) return;
  const auto seq = own_probe(*q);
  if (!seq) return;
  events_.emplace_back(
      EchoError{*seq, d.src, d.message.type(), d.message.code(), d.message.rest(), d.ts});
}

void EchoSession::on_neighbor_failed(wire::Ipv4Address next_hop,
                                     std::span<const Datagram> datagrams) {
  for (const Datagram& dgram : datagrams) {
    auto ip = ipv4::Packet<>::checked(ConstBytes(dgram.data(), dgram.size()));
    if (!ip || ip->protocol() != ipv4::Protocol::icmp || ip->frag_offset() != 0) continue;
    auto h = icmpv4::Header<>::checked(ip->payload());
    if (!h || h->type() != icmpv4::Type::echo_request || h->ident() != config_.ident) continue;
    events_.emplace_back(EchoNeighborFailed{h->seq(), next_hop});
  }
}

std::vector<EchoEvent> EchoSession::take_events() {
  std::vector<EchoEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace ersatz::stack
