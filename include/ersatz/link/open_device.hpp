// Raw link-layer devices: opening a network interface by name.
//
// Three backends share one set of options:
//   * AF_PACKET (Linux, the default there): TPACKET_V3 mmap rings, see
//     af_packet.hpp;
//   * libpcap (anywhere; Npcap on Windows): see libpcap_device.hpp;
//   * TAP (Linux): ersatz owns a virtual NIC, see tap_device.hpp.
//
// Opening needs CAP_NET_RAW (CAP_NET_ADMIN to create a TAP); once the device
// is open the caller drops every capability (link::drop_privileges). A
// missing capability is reported as EPERM in the system category, whatever
// the backend, so that tools can print link::needs_cap_net_raw.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "ersatz/base/result.hpp"
#include "ersatz/link/bpf.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/wire/address.hpp"

namespace ersatz::link {

/// Errors of the raw backends that are not an errno.
enum class RawError : std::uint8_t {
  not_ethernet = 1,     ///< the interface does not carry Ethernet frames
  unknown_backend,      ///< a backend name other than afpacket, pcap, tap
  backend_unavailable,  ///< the backend is not built for this platform
  pcap_failure,         ///< libpcap reported an error (the text is in the detail)
  bad_block,            ///< the kernel handed over a malformed TPACKET_V3 block
  frame_too_long,       ///< a frame to send is longer than the device allows
  frame_too_short,      ///< a frame to send is shorter than an Ethernet header
  filter_too_long,      ///< a BPF program beyond BPF_MAXINSNS instructions
  bad_control,          ///< the kernel handed over a malformed control message (cmsg)
};

const std::error_category& raw_category() noexcept;
inline std::error_code make_error_code(RawError e) noexcept {
  return {static_cast<int>(e), raw_category()};
}

/// True for the errors that mean "not allowed": EPERM and EACCES. Tools
/// answer them with link::needs_cap_net_raw and exit code 2.
bool is_permission_error(const std::error_code& ec) noexcept;

enum class Backend : std::uint8_t {
  automatic,  ///< AF_PACKET on Linux, libpcap elsewhere
  afpacket,
  pcap,
  tap,
};

/// "afpacket", "pcap", "tap" (and "auto"); RawError::unknown_backend else.
Result<Backend> parse_backend(std::string_view name) noexcept;
std::string_view to_string(Backend b) noexcept;

/// How AF_PACKET sends (af_packet.hpp).
enum class TxMode : std::uint8_t {
  ring,      ///< PACKET_TX_RING, falling back to send() when the kernel refuses it
  send,      ///< one send() per frame
  sendmmsg,  ///< frames queued in a buffer, one sendmmsg() per batch
};

/// How AF_PACKET receives (af_packet.hpp).
enum class RxRing : std::uint8_t {
  blocks,  ///< TPACKET_V3: frames batched into blocks; best for captures
  frames,  ///< TPACKET_V2: each frame handed over at once; best for floods
  /// No ring: frames are read with recvmmsg, a batch per system call. A
  /// ring costs an RCU grace period to set up and two more to tear down
  /// (about 10 ms each, in packet_set_ring and packet_release): too much
  /// for a short run that receives a few frames.
  none,
};

struct DeviceOptions {
  Backend backend = Backend::automatic;

  // ---- every backend
  /// Receive frames addressed to other hosts too (PACKET_MR_PROMISC; removed
  /// by the kernel when the socket closes).
  bool promiscuous = false;
  /// Do not receive the frames this host sends (PACKET_IGNORE_OUTGOING, or
  /// pcap_setdirection(PCAP_D_IN)). A stack wants this; a capture does not.
  bool ignore_outgoing = true;
  /// Whether this device receives at all. A send-only device (a transmit
  /// lane of link::ParallelTx) binds without a protocol, so the kernel
  /// never hands it a frame; receive() then returns nothing at once.
  bool receive = true;
  /// Longest frame kept on receive; longer ones are cut (wire_len tells).
  std::uint32_t snaplen = 262144;
  /// A classic BPF program attached before the first frame is delivered, so
  /// that the kernel drops what the stack would ignore (see bpf.hpp).
  std::optional<BpfProgram> filter;

  // ---- AF_PACKET
  /// Receive ring (AF_PACKET; its total is libpcap's buffer size too):
  /// blocks of `rx_block_size` bytes (a multiple of the page
  /// size). A block goes to userspace when it is full or after
  /// `block_timeout`; frames keep their kernel arrival time either way, so
  /// the timeout delays delivery but never inflates a measured RTT.
  std::size_t rx_block_size = std::size_t{1} << 20;
  std::size_t rx_blocks = 8;
  std::chrono::milliseconds block_timeout{1};
  /// Blocks suit a capture; frames suit a loop that waits for each answer
  /// (the ring then holds rx_block_size * rx_blocks bytes of fixed slots).
  RxRing rx_ring = RxRing::blocks;
  /// How frames leave (af_packet.hpp). For bursts: ring, with tx_batch and
  /// tx_frames at least the burst, and flush() at its end; for a lone
  /// frame that waits for its answer: send.
  TxMode tx_mode = TxMode::ring;
  /// Slots of the TX ring, or of the sendmmsg() buffer (each holds the
  /// longest frame).
  std::size_t tx_frames = 256;
  /// Frames queued (TX ring, sendmmsg buffer) before the kernel is asked to
  /// send them. 1 sends every frame at once; more batches system calls
  /// (call flush() at the end of a burst). Queued frames are also sent
  /// before receive() waits.
  std::size_t tx_batch = 1;
  /// PACKET_QDISC_BYPASS: frames go straight to the driver, skipping the
  /// qdisc layer (and packet sockets watching this host's output).
  bool qdisc_bypass = false;
  /// Ask the kernel for the departure time of every frame sent
  /// (SO_TIMESTAMPING, TX software stamps; Device::tx_timestamps). Where
  /// the kernel or backend cannot, Capabilities::tx_timestamps stays false.
  /// Costs a report per frame, made by the kernel and read back in
  /// batches: 0.4-1.5 µs of CPU per frame on the lab's veth.
  bool tx_timestamps = false;

  // ---- TAP
  /// The MAC address ersatz uses on the TAP link; by default the
  /// interface's own with the lowest bit of the last octet flipped, since
  /// the kernel's end keeps the interface's MAC.
  std::optional<wire::MacAddress> mac;
  /// Set the TAP interface administratively up once it exists.
  bool bring_up = true;
};

/// Opens interface `name` with the backend `options.backend` chooses. When
/// `detail` is given it receives a human-readable reason on failure (for
/// libpcap, its error text).
Result<std::unique_ptr<Device>> open_device(const std::string& name, DeviceOptions options,
                                            std::string* detail = nullptr);

}  // namespace ersatz::link

template <>
struct std::is_error_code_enum<ersatz::link::RawError> : std::true_type {};
