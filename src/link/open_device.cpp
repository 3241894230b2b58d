// Choosing a raw backend by name and platform.
#include "ersatz/link/open_device.hpp"

#include "ersatz/link/libpcap_device.hpp"
#if defined(__linux__)
#include "ersatz/link/af_packet.hpp"
#include "ersatz/link/tap_device.hpp"
#endif

namespace ersatz::link {
namespace {

class RawCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "raw-device"; }
  std::string message(int ev) const override {
    switch (static_cast<RawError>(ev)) {
      case RawError::not_ethernet: return "not an Ethernet interface";
      case RawError::unknown_backend: return "unknown backend (use afpacket, pcap or tap)";
      case RawError::backend_unavailable: return "backend not available on this platform";
      case RawError::pcap_failure: return "libpcap error";
      case RawError::bad_block: return "malformed TPACKET_V3 block from the kernel";
      case RawError::frame_too_long: return "frame longer than the device allows";
      case RawError::frame_too_short: return "frame shorter than an Ethernet header";
      case RawError::filter_too_long: return "BPF program longer than 4096 instructions";
      case RawError::bad_control: return "malformed control message from the kernel";
    }
    return "unknown raw device error";
  }
};

template <class D>
Result<std::unique_ptr<Device>> upcast(Result<std::unique_ptr<D>> r) {
  if (!r) return tl::unexpected(r.error());
  return std::unique_ptr<Device>(std::move(*r));
}

}  // namespace

const std::error_category& raw_category() noexcept {
  static const RawCategory category;
  return category;
}

bool is_permission_error(const std::error_code& ec) noexcept {
  return ec == std::errc::operation_not_permitted || ec == std::errc::permission_denied;
}

Result<Backend> parse_backend(std::string_view name) noexcept {
  if (name == "auto") return Backend::automatic;
  if (name == "afpacket") return Backend::afpacket;
  if (name == "pcap") return Backend::pcap;
  if (name == "tap") return Backend::tap;
  return fail(RawError::unknown_backend);
}

std::string_view to_string(Backend b) noexcept {
  switch (b) {
    case Backend::automatic: return "auto";
    case Backend::afpacket: return "afpacket";
    case Backend::pcap: return "pcap";
    case Backend::tap: return "tap";
  }
  return "auto";
}

Result<std::unique_ptr<Device>> open_device(const std::string& name, DeviceOptions options,
                                            std::string* detail) {
  Backend backend = options.backend;
  if (backend == Backend::automatic) {
#if defined(__linux__)
    backend = Backend::afpacket;
#else
    backend = Backend::pcap;
#endif
  }
  switch (backend) {
    // libpcap, or Npcap on Windows, loaded at run time either way.
    case Backend::pcap: return upcast(LibpcapDevice::open(name, options, detail));
#if defined(__linux__)
    case Backend::afpacket: return upcast(AfPacketDevice::open(name, options));
    case Backend::tap: return upcast(TapDevice::open(name, options));
#endif
    default: return fail(RawError::backend_unavailable);
  }
}

}  // namespace ersatz::link
