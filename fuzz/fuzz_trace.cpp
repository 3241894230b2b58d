// Stateful fuzzing of traceroute's engine: a sequence of frames, each at a
// time of the input's choosing, fed through the runtime into a Host running
// a trace::Traceroute, on a fake clock. The frames reach the engine's
// matching (quotes of UDP and ICMP probes, echo replies, late and forged
// answers) and its timers (HERE/NEAR waits, check_expired's moves).
//
// Input: records of [flags u8][delay µs, u16 big-endian][length, u16][frame],
// until the input ends; the first flags byte chooses the method (bit 0:
// ICMP echo) and -F (bit 1).
//
// Checked: nothing crashes or reads out of bounds (ASan, UBSan), the run
// ends in bounded time, and the probes come out as traceroute prints them:
// in table order, whole hops, nothing after a final hop, a time with every
// answer.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "ersatz/link/device.hpp"
#include "ersatz/runtime/runtime.hpp"
#include "ersatz/trace/traceroute.hpp"
#include "fuzz_check.hpp"
#include "scripted_link.hpp"

using namespace ersatz;
using ersatz::fuzz::ScriptedLink;

namespace {

/// Checks the order traceroute prints in as the probes come.
struct Order final : trace::TraceListener {
  unsigned queries = 0;
  unsigned next_ttl = 0;
  unsigned next_index = 0;
  bool ended = false;  // a hop with a final probe was completed
  bool final_hop = false;
  std::size_t count = 0;
  void on_probe(const trace::ProbeResult& p) override {
    FUZZ_CHECK(!ended);
    FUZZ_CHECK(p.ttl == next_ttl && p.index == next_index);
    FUZZ_CHECK(!p.final || p.from || !p.annotation.empty());
    FUZZ_CHECK(!p.from || p.rtt.has_value());
    final_hop = final_hop || p.final;
    ++count;
    if (++next_index == queries) {
      next_index = 0;
      ++next_ttl;
      ended = final_hop;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 1 << 16) return 0;
  runtime::FakeClock clock;
  ScriptedLink link(clock);
  const MonoTime start = clock.now();

  std::size_t at = 0;
  MonoTime when = start;
  const bool icmp = (data[0] & 1U) != 0;
  const bool df = (data[0] & 2U) != 0;
  while (size - at >= 5) {
    const auto delay = static_cast<unsigned>(data[at + 1] << 8 | data[at + 2]);
    const std::size_t len = static_cast<std::size_t>(data[at + 3] << 8 | data[at + 4]);
    at += 5;
    if (len > size - at) break;
    when += std::chrono::microseconds(delay);
    std::vector<std::byte> frame(len);
    for (std::size_t i = 0; i < len; ++i) frame[i] = static_cast<std::byte>(data[at + i]);
    link.add(when, ConstBytes(frame.data(), frame.size()));
    at += len;
  }

  stack::HostConfig hc;
  hc.mac = link.capabilities().mac;
  hc.address = wire::Ipv4Address(198, 18, 0, 1);
  hc.prefix_len = 24;
  stack::NeighborConfig nc;
  nc.queue_len = 32;
  stack::Host host(hc, nc);

  // Six hops of three probes, at most eight in flight, waits of 40 ms at
  // most: short runs that still reach every rule.
  trace::TraceConfig c;
  c.source = hc.address;
  c.target = wire::Ipv4Address(198, 18, 13, 2);
  c.next_hop = wire::Ipv4Address(198, 18, 0, 254);
  c.method = icmp ? trace::Method::icmp : trace::Method::udp;
  c.max_hops = 6;
  c.sim_probes = 8;
  c.wait_max = std::chrono::milliseconds(40);
  c.src_port = 40000;
  c.ident = 0x7272;
  c.dont_fragment = df;
  Order order;
  order.queries = c.probes_per_hop;
  order.next_ttl = c.first_hop;
  trace::Traceroute engine(c, order);

  runtime::signals::reset();
  runtime::RuntimeOptions ro;
  ro.report_sent = true;
  runtime::Runtime rt(link, host, clock, ro);
  auto r = rt.run(engine);
  FUZZ_CHECK(r.has_value());
  FUZZ_CHECK(engine.finished(rt));
  // Whole hops, no more than the table holds.
  FUZZ_CHECK(order.count % c.probes_per_hop == 0);
  FUZZ_CHECK(order.count <= std::size_t{c.max_hops} * c.probes_per_hop);
  FUZZ_CHECK(order.count == std::size_t{c.max_hops} * c.probes_per_hop || order.final_hop);
  FUZZ_CHECK(engine.max_in_flight() <= c.sim_probes);
  // Bounded: the input's last frame, ARP's 3 s, then every slot's wait.
  FUZZ_CHECK(clock.now() - start <=
             (when - start) + std::chrono::seconds(4) + c.wait_max * (c.max_hops * 3));
  return 0;
}
