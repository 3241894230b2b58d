// Npcap as a device (Windows). Npcap's wpcap.dll is loaded at run time
// (LoadLibrary, then GetProcAddress for each libpcap entry point), so
// building needs no SDK and ersatz.exe starts without Npcap: only opening
// a device needs it, and its absence is NpcapError::not_installed.
//
// Devices are named as Npcap names them, `\Device\NPF_{GUID}` (the
// capture_device of os::Interface); an adapter's friendly name or bare
// GUID is accepted too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ersatz/link/bpf.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/link/npcap.hpp"
#include "ersatz/link/open_device.hpp"

namespace ersatz::link {

namespace wpcap {
struct Api;
struct Handle;
}  // namespace wpcap

class NpcapDevice final : public Device {
 public:
  /// `detail` receives wpcap's message on failure.
  static Result<std::unique_ptr<NpcapDevice>> open(const std::string& name,
                                                   const DeviceOptions& options,
                                                   std::string* detail = nullptr);
  ~NpcapDevice() override;

  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }
  std::uint64_t drops() const noexcept override;

  Result<void> set_filter(const BpfProgram& program);
  std::string last_error() const;

 private:
  NpcapDevice() = default;
  Result<void> wait(MonoTime deadline);

  const wpcap::Api* api_ = nullptr;
  wpcap::Handle* p_ = nullptr;
  void* event_ = nullptr;  ///< Npcap's read event (a HANDLE), where usable
  bool nanosecond_ = false;
  Capabilities caps_;
  std::vector<std::byte> tx_buf_;
};

}  // namespace ersatz::link
