// Stateful fuzzing of what `ersatz serve` runs: an RFC 5227 AddressClaim
// deciding when a Host that owns its address may answer, fed a sequence of
// frames at fuzzed times, as ServeApp feeds them. Reaches what the parsers'
// targets cannot: echo options recorded into (RR/TS pointers and
// overflows), fragmented echo and its fragmented reply, protocol
// unreachable under the error budget, and conflicts while probing, while
// announcing and while bound.
//
// Input: records of [flags u8][delay, u16 big-endian, in 256 µs][length,
// u16][frame], until the input ends. The first flags byte chooses the
// defend policy (bits 0-1) and whether the frames start while probing
// (bit 2) or once the address is bound.
//
// Checked: nothing crashes or reads out of bounds (ASan, UBSan); every
// frame sent is well formed, from our MAC, and an IPv4 one from our
// address with a good checksum; nothing is answered before the address is
// ours or after it is lost; state stays within its bounds.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ersatz/stack/address_claim.hpp"
#include "ersatz/stack/host.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;

namespace {

const wire::MacAddress kMac({0x02, 0, 0, 0, 0, 0x01});
const wire::Ipv4Address kAddr(198, 18, 0, 50);

/// Checks every frame `out` holds, then empties it.
void check_sent(stack::Outbox& out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const ConstBytes f = out[i];
    auto ep = wire::ethernet::Packet<>::checked(f);
    FUZZ_CHECK(ep.has_value());
    auto e = wire::ethernet::Repr::parse(*ep);
    FUZZ_CHECK(e.has_value());
    FUZZ_CHECK(e->src == kMac);
    FUZZ_CHECK(f.size() <= 14 + 1500);
    const ConstBytes l3 = f.subspan(e->header_len());
    if (e->ethertype == wire::EtherType::arp) {
      auto ap = wire::arp::Packet<>::checked(l3);
      FUZZ_CHECK(ap.has_value());
      auto a = wire::arp::Repr::parse(*ap);
      FUZZ_CHECK(a.has_value());
      FUZZ_CHECK(a->source_hw == kMac);
      FUZZ_CHECK(a->source_ip == kAddr || a->source_ip.is_unspecified());
    } else {
      FUZZ_CHECK(e->ethertype == wire::EtherType::ipv4);
      auto ip = wire::ipv4::Packet<>::checked(l3);
      FUZZ_CHECK(ip.has_value());
      FUZZ_CHECK(wire::ipv4::Repr::parse(*ip).has_value());  // checksum, options
      FUZZ_CHECK(ip->src() == kAddr);
    }
  }
  out.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 1 << 17) return 0;
  const std::uint8_t first = data[0];
  stack::ClaimConfig cc;
  cc.mac = kMac;
  cc.address = kAddr;
  cc.defend = static_cast<stack::DefendPolicy>(std::min(first & 3U, 2U));
  cc.seed = 1;
  stack::AddressClaim claim(cc);
  stack::HostConfig hc;
  hc.mac = kMac;
  hc.address = kAddr;
  hc.prefix_len = 24;
  hc.own_address = true;
  stack::NeighborConfig nc;
  nc.capacity = 16;  // small, so that eviction is reached
  stack::ReassemblyConfig rc;
  rc.budget = 1U << 18;
  rc.max_datagrams = 8;
  stack::IcmpRateLimitConfig ic;
  ic.capacity = 8;
  stack::Host host(hc, nc, rc, {}, ic);
  stack::Outbox out;

  MonoTime now{std::chrono::seconds(100)};
  claim.start(now);
  if ((first & 4U) == 0) {
    // Frames come once the address is bound: run the claim's timers.
    while (auto d = claim.next_deadline()) {
      now = *d;
      claim.poll(now, out);
    }
    FUZZ_CHECK(claim.state() == stack::ClaimState::bound);
  }
  check_sent(out);

  std::size_t at = 0;
  while (size - at >= 5) {
    const auto delay = static_cast<unsigned>(data[at + 1] << 8 | data[at + 2]);
    const std::size_t len = static_cast<std::size_t>(data[at + 3] << 8 | data[at + 4]);
    at += 5;
    if (len > size - at) break;
    now += std::chrono::microseconds(256) * delay;
    // A copy of exactly the frame: ASan sees a read past its end.
    std::vector<std::byte> frame(len);
    for (std::size_t i = 0; i < len; ++i) frame[i] = static_cast<std::byte>(data[at + i]);
    at += len;
    const ConstBytes f(frame.data(), frame.size());

    // Once lost, serve stops: nothing more is sent.
    if (claim.state() == stack::ClaimState::lost) break;
    claim.poll(now, out);
    host.poll(now, out);
    // As ServeApp: ARP goes to the claim first; the Host sees frames only
    // while the address is ours, and never a claim on it.
    bool conflict = false;
    if (auto ep = wire::ethernet::Packet<>::checked(f)) {
      auto e = wire::ethernet::Repr::parse(*ep);
      if (e && e->ethertype == wire::EtherType::arp) {
        if (auto ap = wire::arp::Packet<>::checked(f.subspan(e->header_len()))) {
          if (auto a = wire::arp::Repr::parse(*ap)) conflict = claim.on_arp(*a, now, out);
        }
      }
    }
    if (claim.in_use() && !conflict) host.receive(f, Timestamp{1'700'000'000, 0}, now, out);
    check_sent(out);
  }

  FUZZ_CHECK(host.neighbors().size() <= nc.capacity);
  FUZZ_CHECK(host.icmp_errors().size() <= ic.capacity);
  FUZZ_CHECK(host.reassembler().in_progress() <= rc.max_datagrams);
  FUZZ_CHECK(host.reassembler().bytes_held() <= rc.budget);
  const auto& a = host.answers();
  FUZZ_CHECK(a.arp_replies + a.echo_replies + a.protocol_unreachables <= size);
  return 0;
}
