// traceroute's engine: probes with growing TTLs, sent many at a time as
// Debian's traceroute 2.1 sends them, and the routers' ICMP errors matched
// back to their probe through the quoted datagram.
//
// A Traceroute is an application of the runtime (runtime.hpp), as a Sweep
// is: it never touches a device or a clock. The probes form one table of
// max_hops × probes_per_hop slots, walked in order:
//
//   * up to sim_probes (-N) slots from the first one not yet printed are
//     in flight at once; a slot is sent when it comes into that window
//     (and, with -z, no sooner than send_interval after the last send);
//   * a slot is printed (handed to the listener) once it and every slot
//     before it are done: answered, or timed out;
//   * a slot that answers for the destination, or with an unreachable, is
//     final: nothing after its hop is sent or printed.
//
// The wait for a slot is traceroute's -w MAX,HERE,NEAR: HERE times the
// round trip of an answered probe of the same hop, else NEAR times that
// of an answered probe further on, else MAX (RFC-free: the heuristic is
// traceroute's own). A silent hop behind answering ones thus costs a few
// round trips rather than five seconds.
//
// Matching (RFC 792: an error quotes the IP header and at least 8 bytes of
// the datagram; read by the quote's own IHL): UDP probes by their
// destination port (33434 and up, one per probe) and our source port; ICMP
// echo probes by identifier and sequence number, in a reply or in a quote.
// Only a probe in flight takes an answer; a late one is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ersatz/runtime/runtime.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/icmpv4.hpp"

namespace ersatz::trace {

enum class Method : std::uint8_t {
  udp,   ///< UDP to port 33434 and up, one port per probe (traceroute's default)
  icmp,  ///< ICMP echo (-I)
};

struct TraceConfig {
  wire::Ipv4Address source;
  wire::Ipv4Address target;
  wire::Ipv4Address next_hop;  ///< the gateway, or the target when on-link
  Method method = Method::udp;
  unsigned first_hop = 1;       ///< -f
  unsigned max_hops = 30;       ///< -m
  unsigned probes_per_hop = 3;  ///< -q
  unsigned sim_probes = 16;     ///< -N
  /// Bytes after the UDP or ICMP header (traceroute's PACKETLEN less 28).
  std::size_t data_len = 32;
  std::chrono::nanoseconds wait_max{5'000'000'000};  ///< -w MAX
  double here_factor = 3;                            ///< -w ,HERE
  double near_factor = 10;                           ///< -w ,,NEAR
  std::chrono::nanoseconds send_interval{0};         ///< -z
  /// UDP: the first destination port; ICMP: the first sequence number.
  std::uint16_t first_port = 33434;
  std::uint16_t first_seq = 1;
  std::uint16_t src_port = 0;  ///< UDP
  std::uint16_t ident = 0;     ///< ICMP
  bool dont_fragment = false;  ///< -F: DF set, sized against the link only (IP_PMTUDISC_PROBE)
  std::uint8_t tos = 0;
};

/// One slot of the table, as printed.
struct ProbeResult {
  unsigned ttl = 0;
  unsigned index = 0;  ///< within its hop, from 0
  /// Who answered; none for a probe that timed out.
  std::optional<wire::Ipv4Address> from;
  std::optional<std::chrono::nanoseconds> rtt;
  /// traceroute's mark: "!H", "!N", "!X", "!P", "!S", "!V", "!C",
  /// "!F-<mtu>", "!<code>", "!<type-code>"; empty for none.
  std::string annotation;
  bool final = false;  ///< the destination, or an unreachable: the trace ends with this hop
  std::uint8_t reply_ttl = 0;
};

class TraceListener {
 public:
  virtual ~TraceListener() = default;
  /// Slots in table order, each once it can be printed.
  virtual void on_probe(const ProbeResult& p) = 0;
  /// A probe could not be sent (the device or the Host refused it).
  virtual void on_send_error(const std::error_code& /*e*/) {}
};

/// traceroute's annotation for an ICMP error that ends the trace ("" for
/// the destination's own port unreachable); nullopt for a time exceeded
/// in transit, which does not.
std::optional<std::string> annotation(wire::icmpv4::Type type, std::uint8_t code,
                                      std::uint16_t mtu);

class Traceroute final : public runtime::Application {
 public:
  Traceroute(TraceConfig config, TraceListener& listener);

  // ---- runtime::Application
  std::optional<MonoTime> poll(runtime::Runtime& rt) override;
  bool finished(const runtime::Runtime& rt) const override;
  void on_icmp(runtime::Runtime& rt, const stack::IcmpDelivery& d) override;
  void on_sent(runtime::Runtime& rt, ConstBytes head, Timestamp ts, bool from_kernel) override;

  /// Slots sent so far, and the most in flight at once.
  std::size_t sent() const noexcept { return sent_order_.size(); }
  std::size_t max_in_flight() const noexcept { return max_in_flight_; }
  /// A probe the Host refused for another reason than its size ends the run.
  bool send_failed() const noexcept { return send_failed_; }
  const TraceConfig& config() const noexcept { return config_; }

 private:
  struct Slot {
    bool sent = false;
    bool done = false;
    bool final = false;
    bool replaced = false;  // its answer moved to an earlier slot: it takes no other
    MonoTime sent_mono{};
    std::int64_t sent_ns = 0;  // wall clock
    std::int64_t recv_ns = 0;  // wall clock; 0 when not answered
    std::optional<wire::Ipv4Address> from;
    std::string annotation;
    std::uint8_t reply_ttl = 0;
  };

  unsigned ttl_of(std::size_t n) const noexcept {
    return static_cast<unsigned>(n / config_.probes_per_hop) + 1;
  }
  std::size_t hop_begin(std::size_t n) const noexcept { return n - n % config_.probes_per_hop; }
  std::size_t hop_end(std::size_t n) const noexcept {
    return hop_begin(n) + config_.probes_per_hop;
  }
  /// The wait for slot n: traceroute's get_timeout().
  std::chrono::nanoseconds timeout(std::size_t n) const noexcept;
  /// A slot timed out: traceroute's check_expired() may move a later final
  /// answer into its place.
  void expire(std::size_t n);
  void send(runtime::Runtime& rt, std::size_t n);
  void emit(std::size_t n);
  /// Our slot for a probe's UDP ports or ICMP ident/sequence.
  std::optional<std::size_t> slot_for_port(std::uint16_t src, std::uint16_t dst) const noexcept;
  std::optional<std::size_t> slot_for_seq(std::uint16_t ident, std::uint16_t seq) const noexcept;
  /// The slot an ICMP message answers, if it is one of ours.
  std::optional<std::size_t> match(const stack::IcmpDelivery& d) const;
  void answer(std::size_t n, const stack::IcmpDelivery& d);

  TraceConfig config_;
  TraceListener& listener_;
  std::vector<Slot> slots_;
  std::vector<std::size_t> sent_order_;  // slot of the k-th probe sent: port/seq k
  std::size_t start_ = 0;                // first slot not yet printed
  std::size_t end_ = 0;                  // one past the last slot that may be sent
  std::optional<MonoTime> last_send_;
  std::size_t max_in_flight_ = 0;
  bool send_failed_ = false;
  std::vector<std::byte> message_;  // the probe being built
};

}  // namespace ersatz::trace
