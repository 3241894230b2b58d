// The Device interface: where frames enter and leave ersatz.
//
// Backends: AF_PACKET with TPACKET_V3 rings (Linux), libpcap (anywhere;
// Npcap on Windows), TAP, a pcap file replayed as the receive stream, and an
// in-memory pair for tests. Wrappers (Tracer, FaultInjector) take a Device
// and are one.
//
// The hot path copies nothing: receive() hands out a view into the
// backend's buffer (a ring slot, a read buffer), valid until the next call
// on the same device; transmit() hands the caller a buffer to fill in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/function_ref.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::link {

/// What a device can do, and its link parameters.
struct Capabilities {
  std::string name;        ///< interface or file name
  std::size_t mtu = 1500;  ///< largest IP datagram; frames add 14 (+4 per tag)
  wire::MacAddress mac;
  bool kernel_timestamps = false;  ///< RxFrame::ts comes from the kernel
  bool can_transmit = true;
  /// tx_timestamps() reports when the kernel handed each frame to the
  /// driver (SO_TIMESTAMPING's TX software stamp), not just when send()
  /// was called.
  bool tx_timestamps = false;
};

/// A received frame, valid until the next receive() on the same device.
struct RxFrame {
  ConstBytes data;
  std::uint32_t wire_len = 0;  ///< length on the wire (≥ data.size())
  Timestamp ts;                ///< when it arrived: the kernel's stamp where available
};

/// A deadline that has always passed: receive() takes what is waiting
/// and returns at once, without reading the clock.
inline constexpr MonoTime no_wait{};

class Device {
 public:
  virtual ~Device() = default;
  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  /// The next frame, waiting until `deadline` at most; nullopt when none
  /// came in time. A device with no more frames to give (a replayed file
  /// at its end) returns nullopt at once.
  virtual Result<std::optional<RxFrame>> receive(MonoTime deadline) = 0;

  /// Sends one frame of `len` bytes, which `fill` writes in place into the
  /// transmit buffer it is given (exactly `len` bytes). A device may queue
  /// it (a TX ring filled in batches) until flush() or the next receive().
  /// Frames are numbered from 0 in the order given: see tx_count().
  virtual Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) = 0;

  /// Hands every queued frame to the kernel: the end of a burst. One
  /// system call for the whole burst where the backend batches.
  virtual Result<void> flush() { return {}; }

  /// How many frames transmit() has accepted; the next frame's number.
  virtual std::uint64_t tx_count() const noexcept { return 0; }

  /// Reports the kernel's departure time of frames sent since the last
  /// call, as far as the kernel has them, oldest first, each by its number
  /// (see tx_count). Devices without Capabilities::tx_timestamps report
  /// none. Never waits.
  virtual Result<void> tx_timestamps(
      FunctionRef<void(std::uint64_t frame, Timestamp ts)> /*on_stamp*/) {
    return {};
  }

  virtual const Capabilities& capabilities() const noexcept = 0;

  /// A descriptor that polls readable when receive() has a frame, for event
  /// loops; -1 when the device has none (then call receive() with a short
  /// deadline).
  virtual int poll_fd() const noexcept { return -1; }

  /// Frames the kernel or backend dropped before we saw them, if known.
  virtual std::uint64_t drops() const noexcept { return 0; }

 protected:
  Device(Device&&) noexcept = default;
  Device& operator=(Device&&) noexcept = default;
};

/// Sends a frame that already exists as bytes (copies it once).
Result<void> transmit_copy(Device& dev, ConstBytes frame);

}  // namespace ersatz::link
