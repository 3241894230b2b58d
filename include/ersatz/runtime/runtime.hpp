// The runtime: the one event loop that drives a Device and a Host for an
// application (smoltcp's Interface::poll and poll_delay, as one type).
//
// The stack is sans-I/O: Host takes the time as an argument and returns
// frames to send in an Outbox. Something has to read the device, tell the
// time, keep the deadlines, move the Outbox to the device and stop on a
// signal; that is this type, and every tool (ping, sweep, arping, serve,
// traceroute) is an Application plugged into it. A tool keeps only its
// flags, its own protocol state and its printing.
//
// One turn of the loop:
//   1. take every frame already waiting (no system call on a ring), up to
//      a batch; each goes to Application::on_frame, then to the Host, whose
//      ICMP and neighbour events come back to the application;
//   2. Host::poll (ARP retries, reassembly expiry) and Application::poll,
//      which sends what is due and names its next deadline;
//   3. the Outbox leaves as one burst: transmit() per frame, then one
//      Device::flush();
//   4. when nothing is waiting, Application::idle, then wait in the device
//      until a frame comes or the earliest deadline (the application's,
//      the Host's) passes, or spin on the ring in busy-poll mode.
//
// Time comes from a Clock. The system clock waits inside the device; a
// FakeClock jumps to each deadline, so that tests run a whole tool with an
// in-memory device, at once and deterministically.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/stack/host.hpp"

namespace ersatz::runtime {

// ---------------------------------------------------------------- clocks

/// Where the runtime reads the time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() noexcept = 0;
  /// The wall clock, for frame timestamps.
  virtual Timestamp wall() noexcept = 0;
  /// The device had nothing until `deadline`. The system clock has waited
  /// there already (inside Device::receive); a fake clock moves to it.
  virtual void idle_until(MonoTime /*deadline*/) noexcept {}
  /// Whether Device::receive really waits for this clock's deadlines.
  virtual bool waits_in_device() const noexcept { return true; }
};

class SystemClock final : public Clock {
 public:
  MonoTime now() noexcept override { return MonoClock::now(); }
  Timestamp wall() noexcept override { return wall_now(); }
};

/// A clock that moves only when told to, or to the deadline the runtime
/// idles until. Its wall clock is a fixed epoch plus the same offset.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp epoch = Timestamp{1'700'000'000, 0}) : epoch_(epoch) {}
  MonoTime now() noexcept override { return now_; }
  Timestamp wall() noexcept override { return wall_at(now_); }
  void idle_until(MonoTime deadline) noexcept override {
    if (deadline > now_) now_ = deadline;
  }
  bool waits_in_device() const noexcept override { return false; }

  void advance(std::chrono::nanoseconds d) noexcept { now_ += d; }
  /// The wall time that corresponds to monotonic time `t`.
  Timestamp wall_at(MonoTime t) const noexcept {
    return Timestamp::from_ns(
        epoch_.ns() +
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  }

 private:
  Timestamp epoch_;
  MonoTime now_{};
};

// ---------------------------------------------------------------- signals

/// The stop and status requests a signal handler may make: lock-free
/// atomics, safe to set from a handler. SIGINT, SIGTERM and SIGALRM ask the
/// runtime to stop; SIGQUIT asks the application for a status line (iputils
/// ping and fping both print one).
namespace signals {
/// Installs the handlers, without SA_RESTART so that a wait in the device
/// wakes up at once.
void install() noexcept;
void request_stop() noexcept;
bool stop_requested() noexcept;
/// True once per SIGQUIT.
bool take_status_request() noexcept;
/// Forgets earlier requests (tests run several loops in one process).
void reset() noexcept;
}  // namespace signals

// ---------------------------------------------------------------- the loop

class Runtime;

/// A tool, as the runtime drives it. Every callback gets the runtime, to
/// read the time and to send.
class Application {
 public:
  virtual ~Application() = default;

  /// Once, before the first turn.
  virtual void start(Runtime& /*rt*/) {}
  /// Every received frame, before the Host sees it; false keeps it from
  /// the Host (arping reads ARP replies itself).
  virtual bool on_frame(Runtime& /*rt*/, const link::RxFrame& /*frame*/) { return true; }
  /// ICMP addressed to us, from the Host.
  virtual void on_icmp(Runtime& /*rt*/, const stack::IcmpDelivery& /*d*/) {}
  /// Datagrams that never left because ARP for `next_hop` failed.
  virtual void on_neighbor_failed(Runtime& /*rt*/, wire::Ipv4Address /*next_hop*/,
                                  std::span<const stack::Datagram> /*datagrams*/) {}
  virtual void on_neighbor_changed(Runtime& /*rt*/,
                                   const stack::NeighborActions::MacChanged& /*change*/) {}
  /// With RuntimeOptions::report_sent: a frame left. `head` is its first
  /// bytes (at most sent_head_len); `ts` is the time just before the send
  /// (reported once the burst has gone), and then, once more, the kernel's
  /// departure stamp where the device has them (`from_kernel`).
  virtual void on_sent(Runtime& /*rt*/, ConstBytes /*head*/, Timestamp /*ts*/,
                       bool /*from_kernel*/) {}
  /// The device refused a frame.
  virtual void on_send_error(Runtime& /*rt*/, const std::error_code& /*error*/) {}
  /// Time-driven work, every turn: send what is due. Returns when to be
  /// called again at the latest (nullopt: only when frames come).
  virtual std::optional<MonoTime> poll(Runtime& rt) = 0;
  /// The runtime is about to wait: write buffered output now.
  virtual void idle(Runtime& /*rt*/) {}
  /// SIGQUIT.
  virtual void on_status_request(Runtime& /*rt*/) {}
  /// The run ends once this is true (asked after every turn).
  virtual bool finished(const Runtime& rt) const = 0;
};

struct RuntimeOptions {
  /// Spin on the device instead of sleeping in it: lower latency for the
  /// flood paths, one core at 100 %. Opt-in.
  bool busy_poll = false;
  /// Call Application::on_sent for every frame (and read the kernel's TX
  /// stamps where the device has them).
  bool report_sent = false;
  /// Frames handled per turn before the application may send again.
  std::size_t rx_batch = 256;
  /// The longest single wait, so that signals and clocks are looked at.
  std::chrono::nanoseconds max_wait = std::chrono::seconds(1);
};

/// What the loop did, for statistics and tests.
struct RuntimeStats {
  std::uint64_t turns = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t bursts = 0;  ///< flushes that sent at least one frame
  std::uint64_t send_errors = 0;
  std::uint64_t kernel_tx_stamps = 0;
};

class Runtime final : private stack::IcmpListener {
 public:
  /// How many bytes of each sent frame on_sent() shows: Ethernet with two
  /// tags, an IPv4 header with options, and an ICMP header.
  static constexpr std::size_t sent_head_len = 22 + 60 + 8;

  Runtime(link::Device& device, stack::Host& host, Clock& clock, RuntimeOptions options = {});
  ~Runtime() override;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Runs `app` until it is finished, stop() is called or a signal asks to
  /// stop. Fails only when the device fails.
  Result<void> run(Application& app);

  // ---- for applications
  /// The time of this turn.
  MonoTime now() const noexcept { return now_; }
  /// The wall clock now.
  Timestamp wall() noexcept { return clock_.wall(); }
  Clock& clock() noexcept { return clock_; }
  stack::Host& host() noexcept { return host_; }
  const stack::Host& host() const noexcept { return host_; }
  link::Device& device() noexcept { return device_; }
  /// Sends a datagram through the Host (ARP, fragmentation): see
  /// Host::send. It leaves with this turn's burst.
  Result<void> send(const wire::ipv4::Repr& repr, ConstBytes payload, wire::Ipv4Address next_hop,
                    stack::PathMtuUse mtu_use = stack::PathMtuUse::learned);
  /// Queues a whole frame as it is (arping's ARP).
  void send_frame(ConstBytes frame) { outbox_.push(frame); }
  /// Frames queued for this turn's burst so far.
  std::size_t queued() const noexcept { return outbox_.size(); }
  /// Sends what is queued now rather than at the end of the turn.
  void flush();
  /// Ends the run after this turn.
  void stop() noexcept { stop_ = true; }
  const RuntimeStats& stats() const noexcept { return stats_; }

 private:
  void on_icmp(const stack::IcmpDelivery& d) override;
  void on_neighbor_failed(wire::Ipv4Address next_hop,
                          std::span<const stack::Datagram> datagrams) override;
  void on_neighbor_changed(const stack::NeighborActions::MacChanged& change) override;

  /// Handles one frame from the device.
  void handle(const link::RxFrame& frame);
  /// Takes what is waiting, without waiting; how many frames it took.
  Result<std::size_t> drain();
  /// Waits for one frame or `deadline`, and handles the frame.
  Result<void> wait(MonoTime deadline);
  MonoTime next_wakeup(std::optional<MonoTime> app_deadline) const;
  void read_tx_stamps();

  struct SentHead {
    std::uint64_t frame;
    Timestamp user;  // the clock just before the send
    std::uint8_t len;
    std::array<std::byte, sent_head_len> bytes;
  };

  link::Device& device_;
  stack::Host& host_;
  Clock& clock_;
  RuntimeOptions options_;
  Application* app_ = nullptr;
  stack::Outbox outbox_;
  MonoTime now_{};
  bool stop_ = false;
  bool kernel_stamps_ = false;
  std::deque<SentHead> awaiting_stamp_;        // frames whose kernel stamp has not come yet
  std::vector<SentHead> pending_user_stamps_;  // this burst's frames, for on_sent
  RuntimeStats stats_;
};

}  // namespace ersatz::runtime
