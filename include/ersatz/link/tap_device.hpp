// A TAP interface (Documentation/networking/tuntap.rst): ersatz owns a
// virtual NIC. The kernel sees an Ethernet interface; what ersatz writes to
// /dev/net/tun arrives on it as received frames, and what the kernel sends
// out of it ersatz reads. IFF_NO_PI: no 4-byte packet-information header,
// the frames are the whole message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ersatz/link/bpf.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/link/open_device.hpp"
#include "ersatz/link/unique_fd.hpp"

namespace ersatz::link {

class TapDevice final : public Device {
 public:
  /// Creates TAP interface `ifname`, or attaches to a persistent one of that
  /// name (creating needs CAP_NET_ADMIN: EPERM otherwise). A TAP created
  /// here disappears when the device is destroyed. MTU and MAC come from
  /// the interface (see DeviceOptions::mac for ersatz's own end).
  static Result<std::unique_ptr<TapDevice>> open(const std::string& ifname,
                                                 const DeviceOptions& options);

  /// Reads one frame per call; the stamp is the time of the read (the tun
  /// driver keeps no arrival time).
  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }
  int poll_fd() const noexcept override { return fd_.get(); }

  /// TUNATTACHFILTER: the kernel drops what the program rejects before
  /// queueing it for ersatz.
  Result<void> set_filter(const BpfProgram& program);
  /// The MAC of the kernel's end of the link.
  const wire::MacAddress& interface_mac() const noexcept { return interface_mac_; }

 private:
  TapDevice() = default;

  UniqueFd fd_;
  Capabilities caps_;
  wire::MacAddress interface_mac_;
  std::vector<std::byte> rx_buf_;
  std::vector<std::byte> tx_buf_;
};

}  // namespace ersatz::link
