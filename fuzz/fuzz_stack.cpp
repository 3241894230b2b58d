// Stateful fuzzing of the stack: a sequence of frames, each at a time of
// the input's choosing, fed through the runtime into a Host (that owns its
// address or not) running a sweep, on a fake clock. What the parsers'
// targets cannot reach is found here: ARP for an address in flight,
// fragments that reassemble, errors quoting probes, replies at the edge of
// a timeout, all interleaved with the sweep's own sends and timers.
//
// Input: records of [flags u8][delay µs, u16 big-endian][length, u16][frame],
// until the input ends; the first flags byte's low bit makes the Host own
// its address (as `serve` does).
//
// Checked: nothing crashes or reads out of bounds (ASan, UBSan), the run
// ends, and the counters stay consistent and bounded.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "ersatz/link/device.hpp"
#include "ersatz/runtime/runtime.hpp"
#include "ersatz/scan/sweep.hpp"
#include "fuzz_check.hpp"
#include "scripted_link.hpp"

using namespace ersatz;
using ersatz::fuzz::ScriptedLink;

namespace {}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 1 << 16) return 0;
  runtime::FakeClock clock;
  ScriptedLink link(clock);
  const MonoTime start = clock.now();

  // The frames, at the times the input gives (every delay counts from the
  // one before).
  std::size_t at = 0;
  MonoTime when = start;
  const bool owns = (data[0] & 1U) != 0;
  while (size - at >= 5) {
    const auto delay = static_cast<unsigned>(data[at + 1] << 8 | data[at + 2]);
    const std::size_t len = static_cast<std::size_t>(data[at + 3] << 8 | data[at + 4]);
    at += 5;
    if (len > size - at) break;
    when += std::chrono::microseconds(delay);
    // A copy of exactly the frame: ASan sees a read past its end.
    std::vector<std::byte> frame(len);
    for (std::size_t i = 0; i < len; ++i) frame[i] = static_cast<std::byte>(data[at + i]);
    link.add(when, ConstBytes(frame.data(), frame.size()));
    at += len;
  }

  stack::HostConfig hc;
  hc.mac = link.capabilities().mac;
  hc.address = wire::Ipv4Address(198, 18, 0, 1);
  hc.prefix_len = 24;
  hc.own_address = owns;
  stack::NeighborConfig nc;
  nc.capacity = 16;  // small, so that eviction is reached
  stack::ReassemblyConfig rc;
  stack::Host host(hc, nc, rc);

  // A sweep of a /28 behind the router and two on-link addresses.
  scan::TargetSet targets =
      scan::TargetSet::block(wire::Ipv4Address(198, 19, 0, 1), wire::Ipv4Address(198, 19, 0, 14));
  scan::SweepConfig c;
  c.source = hc.address;
  c.retries = 1;
  c.timeout = std::chrono::milliseconds(20);
  c.ident = 0x5157;
  c.cookie_key = SipKey{1, 2};
  c.order_key = SipKey{3, 4};
  c.neighbor_budget = 8;
  struct Quiet final : scan::SweepListener {
  } quiet;
  scan::Sweep sweep(
      targets, c,
      [](wire::Ipv4Address a) {
        return a.in_prefix(wire::Ipv4Address(198, 18, 0, 0), 24)
                   ? a
                   : wire::Ipv4Address(198, 18, 0, 254);
      },
      quiet);

  runtime::signals::reset();
  runtime::Runtime rt(link, host, clock);
  auto r = rt.run(sweep);
  FUZZ_CHECK(r.has_value());

  const auto& t = sweep.totals();
  FUZZ_CHECK(t.alive <= targets.size());
  FUZZ_CHECK(t.replies >= t.alive);
  FUZZ_CHECK(sweep.done() <= sweep.shard_size());
  FUZZ_CHECK(sweep.shard_size() == targets.size());
  FUZZ_CHECK(host.neighbors().size() <= nc.capacity);
  // It ran to its end: every target got a first probe, and at most one
  // retry.
  FUZZ_CHECK(sweep.finished(rt));
  FUZZ_CHECK(t.sent >= targets.size());
  FUZZ_CHECK(t.sent <= 2 * targets.size());
  // The run ends when the sweep does: within the input's last frame and
  // the longest wait for ARP (3 s) and the retries after it.
  FUZZ_CHECK(clock.now() - start <= (when - start) + std::chrono::seconds(10));
  return 0;
}
