// libpcap as a device, on every platform: libpcap on Linux and other
// Unixes, Npcap on Windows, both called through the entry points loaded at
// run time (pcap_library.hpp), so nothing here is linked against them.
//
// The handle is made with pcap_create, in immediate mode (each frame is
// delivered as it arrives, not when a kernel buffer fills or a read timeout
// expires) and non-blocking, then pcap_activate. Where the library has no
// immediate mode (Wine's wpcap.dll, WinPcap) it is opened with
// pcap_open_live and a 1 ms read timeout instead. receive() reads with
// pcap_next_ex and, when nothing is buffered, waits on the selectable fd
// (POSIX) or the read event (Npcap), or polls every millisecond where there
// is neither (Wine). transmit() fills a buffer and calls pcap_inject
// (POSIX) or pcap_sendpacket (Windows).
//
// On Windows devices are named as Npcap names them, `\Device\NPF_{GUID}`
// (os::Interface::capture_device); an adapter's friendly name or bare GUID
// is accepted too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ersatz/link/bpf.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/link/open_device.hpp"
#include "ersatz/link/pcap_library.hpp"

namespace ersatz::link {

namespace pcap {
struct Handle;  // pcap_t
}

class LibpcapDevice final : public Device {
 public:
  /// Opens `name` with the process's libpcap (PcapLibrary::get()); without
  /// one, PcapLibraryError::not_installed. `detail` receives libpcap's
  /// message on failure. A missing privilege is EPERM, a missing interface
  /// ENODEV; other failures RawError::pcap_failure.
  static Result<std::unique_ptr<LibpcapDevice>> open(const std::string& name,
                                                     const DeviceOptions& options,
                                                     std::string* detail = nullptr);
  /// The same through `library`, which must outlive the device.
  static Result<std::unique_ptr<LibpcapDevice>> open(const PcapLibrary& library,
                                                     const std::string& name,
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
  /// where the platform allows). Where the library has no pcap_setfilter it
  /// is dropped, which costs only speed: the stack checks every frame.
  Result<void> set_filter(const BpfProgram& program);
  /// Compiles a tcpdump expression for this handle and installs it.
  Result<void> set_filter(const std::string& expression);
  /// libpcap's last error text.
  std::string last_error() const;

 private:
  explicit LibpcapDevice(const pcap::Api& api) noexcept : api_(&api) {}
  Result<void> wait(MonoTime deadline);

  const pcap::Api* api_;
  pcap::Handle* p_ = nullptr;
  int fd_ = -1;            ///< POSIX: pcap_get_selectable_fd
  void* event_ = nullptr;  ///< Windows: Npcap's read event (a HANDLE), where usable
  bool nanosecond_ = false;
  Capabilities caps_;
  std::vector<std::byte> tx_buf_;
};

}  // namespace ersatz::link
