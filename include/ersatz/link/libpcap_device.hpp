// libpcap as a device: the portable backend (the same code is the Npcap
// path on Windows), so nothing here may use a Linux-only call.
//
// The handle is made with pcap_create, in immediate mode (each frame is
// delivered as it arrives, not when a kernel buffer fills or a read timeout
// expires) and non-blocking, then pcap_activate. receive() waits on
// pcap_get_selectable_fd() until its deadline and reads with pcap_next_ex;
// transmit() fills a buffer and calls pcap_inject.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ersatz/link/bpf.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/link/open_device.hpp"

// From <pcap/pcap.h>; kept out of this header.
struct pcap;

namespace ersatz::link {

class LibpcapDevice final : public Device {
 public:
  /// `detail` receives libpcap's message on failure. A missing privilege is
  /// EPERM, a missing interface ENODEV; other failures RawError::pcap_failure.
  static Result<std::unique_ptr<LibpcapDevice>> open(const std::string& ifname,
                                                     const DeviceOptions& options,
                                                     std::string* detail = nullptr);
  ~LibpcapDevice() override;

  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }
  int poll_fd() const noexcept override { return fd_; }
  /// ps_drop + ps_ifdrop of pcap_stats.
  std::uint64_t drops() const noexcept override;

  /// Installs a program (pcap_setfilter; libpcap attaches it in the kernel
  /// where the platform allows).
  Result<void> set_filter(const BpfProgram& program);
  /// Compiles a tcpdump expression for this handle and installs it.
  Result<void> set_filter(const std::string& expression);
  /// libpcap's last error text.
  std::string last_error() const;

 private:
  LibpcapDevice() = default;
  Result<void> wait(MonoTime deadline);

  struct pcap* p_ = nullptr;
  int fd_ = -1;
  bool nanosecond_ = false;
  Capabilities caps_;
  std::vector<std::byte> tx_buf_;
};

}  // namespace ersatz::link
