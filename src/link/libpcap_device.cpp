// libpcap device (libpcap_device.hpp), on every platform: libpcap's calls
// through the entry points loaded at run time. What differs by platform is
// only how a name becomes a capture device and how to wait for a frame.
#include "ersatz/link/libpcap_device.hpp"

#if defined(_WIN32)
#include <windows.h>

#include "windows/adapter.hpp"
#else
#include <poll.h>

#include "ersatz/link/netif.hpp"
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>

#include "pcap_api.hpp"

namespace ersatz::link {
namespace {

constexpr std::size_t eth_header = 14;
constexpr std::size_t vlan_len = 4;

/// Without immediate mode, frames wait in the driver until its read
/// timeout; 1 ms bounds that delay (and RTTs use the frames' own stamps).
constexpr int read_timeout_ms = 1;

/// pcap_activate's failures as the error codes every backend uses.
std::error_code activate_error(int rc) {
  switch (rc) {
    case pcap::error_perm_denied:
    case pcap::error_promisc_perm_denied:
      return std::make_error_code(std::errc::operation_not_permitted);
    case pcap::error_no_such_device: return std::make_error_code(std::errc::no_such_device);
    case pcap::error_iface_not_up: return std::make_error_code(std::errc::network_down);
    default: return make_error_code(RawError::pcap_failure);
  }
}

/// What libpcap opens for a name, and what the OS says about the link.
struct Target {
  std::string device;
  std::optional<NetifInfo> info;
};

#if defined(_WIN32)
/// Npcap opens `\Device\NPF_{GUID}`; the adapter's other names lead there,
/// and a name no adapter has is ENODEV before Npcap is asked.
Result<Target> resolve(const std::string& name) {
  auto adapter = windows::find_adapter(name);
  if (!adapter) return tl::unexpected(adapter.error());
  return Target{adapter->capture_device, adapter->info};
}
#else
/// libpcap opens a link by its name. The MTU and MAC are a nicety here:
/// pcap_activate is the judge of whether the device exists.
Result<Target> resolve(const std::string& name) {
  Target t{name, std::nullopt};
  if (auto info = netif_info(name)) t.info = *info;
  return t;
}
#endif

/// tv_sec as seconds. Where `long` is 32 bits (Windows) it is read as
/// unsigned, so that it lasts until 2106, as Npcap's own readers do.
std::int64_t seconds_of(long s) noexcept {
  if constexpr (sizeof(long) == 4) {
    return static_cast<std::uint32_t>(s);
  } else {
    return s;
  }
}

}  // namespace

Result<std::unique_ptr<LibpcapDevice>> LibpcapDevice::open(const std::string& name,
                                                           const DeviceOptions& options,
                                                           std::string* detail) {
  auto library = PcapLibrary::get();
  if (!library) {
    if (detail != nullptr) *detail = library.error().message();
    return tl::unexpected(library.error());
  }
  return open(**library, name, options, detail);
}

Result<std::unique_ptr<LibpcapDevice>> LibpcapDevice::open(const PcapLibrary& library,
                                                           const std::string& name,
                                                           const DeviceOptions& options,
                                                           std::string* detail) {
  auto failed = [&](std::error_code ec, std::string text) -> tl::unexpected<std::error_code> {
    if (detail != nullptr) *detail = std::move(text);
    return tl::unexpected(ec);
  };
  const pcap::Api& a = library.api();
  auto target = resolve(name);
  if (!target) return failed(target.error(), target.error().message());

  std::unique_ptr<LibpcapDevice> dev(new LibpcapDevice(a));
  char errbuf[pcap::errbuf_size] = {};
  const int snaplen = static_cast<int>(std::min<std::uint32_t>(options.snaplen, 262144));
  if (a.can_create_immediate()) {
    dev->p_ = a.create(target->device.c_str(), errbuf);
    if (dev->p_ == nullptr) return failed(make_error_code(RawError::pcap_failure), errbuf);
    pcap::Handle* p = dev->p_;
    if (a.set_snaplen != nullptr) a.set_snaplen(p, snaplen);
    if (a.set_promisc != nullptr) a.set_promisc(p, options.promiscuous ? 1 : 0);
    // Immediate mode: each frame as it arrives. Without it libpcap waits for
    // a buffer to fill or a read timeout (on Linux, a TPACKET_V3 block),
    // which would hold back a lone reply.
    a.set_immediate_mode(p, 1);
    // The same room for frames waiting to be read as the AF_PACKET ring has.
    if (a.set_buffer_size != nullptr) {
      a.set_buffer_size(p, static_cast<int>(std::min<std::size_t>(
                               options.rx_block_size * options.rx_blocks, 1U << 30)));
    }
    if (a.set_tstamp_precision != nullptr) {
      dev->nanosecond_ = a.set_tstamp_precision(p, pcap::precision_nano) == 0;
    }
    if (const int rc = a.activate(p); rc < 0) {
      const char* why =
          rc != pcap::error && a.statustostr != nullptr ? a.statustostr(rc) : a.geterr(p);
      return failed(activate_error(rc), why != nullptr ? why : "pcap_activate failed");
    }
  } else {
    // WinPcap's way, which Wine 8's wpcap.dll also offers (it has no
    // immediate mode): a short read timeout stands in for it.
    dev->p_ = a.open_live(target->device.c_str(), snaplen, options.promiscuous ? 1 : 0,
                          read_timeout_ms, errbuf);
    if (dev->p_ == nullptr) return failed(make_error_code(RawError::pcap_failure), errbuf);
  }
  if (const int dlt = a.datalink(dev->p_); dlt != dlt_en10mb) {
    const char* dlt_name =
        a.datalink_val_to_name != nullptr ? a.datalink_val_to_name(dlt) : nullptr;
    return failed(
        make_error_code(RawError::not_ethernet),
        "link type " + (dlt_name != nullptr ? std::string(dlt_name) : std::to_string(dlt)));
  }
  if (options.ignore_outgoing && a.setdirection != nullptr) {
    // Best effort: not every platform can tell the directions apart; the
    // stack then sees its own frames and ignores them by source address.
    (void)a.setdirection(dev->p_, pcap::direction_in);
  }
  if (a.setnonblock(dev->p_, 1, errbuf) != 0) {
    return failed(make_error_code(RawError::pcap_failure), errbuf);
  }
  if (a.get_selectable_fd != nullptr) dev->fd_ = a.get_selectable_fd(dev->p_);  // -1: none
  if (a.getevent != nullptr) dev->event_ = a.getevent(dev->p_);
  if (options.filter) {
    if (auto r = dev->set_filter(*options.filter); !r) return failed(r.error(), dev->last_error());
  }
  dev->caps_.name = target->device;
  if (target->info) {
    dev->caps_.mtu = target->info->mtu;
    dev->caps_.mac = target->info->mac;
  }
  // Stamped by the kernel or the driver (under Wine, by the host's kernel).
  dev->caps_.kernel_timestamps = true;
  dev->caps_.can_transmit = true;
  dev->tx_buf_.resize(dev->caps_.mtu + eth_header + vlan_len);
  return dev;
}

LibpcapDevice::~LibpcapDevice() {
  if (p_ != nullptr) api_->close(p_);
}

std::string LibpcapDevice::last_error() const {
  const char* e = api_->geterr(p_);
  return e != nullptr ? e : "";
}

Result<void> LibpcapDevice::wait(MonoTime deadline) {
  const auto left = deadline - MonoClock::now();
  if (left <= MonoClock::duration::zero()) return {};
  // Round up, so a wait never ends just short of the deadline and spins.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  const auto timeout = std::min<std::int64_t>(ms, 1'000'000);
#if defined(_WIN32)
  if (event_ != nullptr) {
    if (WaitForSingleObject(static_cast<HANDLE>(event_), static_cast<DWORD>(timeout)) ==
        WAIT_FAILED) {
      return fail(RawError::pcap_failure);
    }
    return {};
  }
  // No event to wait on (Wine): look again in a millisecond. Sleep(1) is
  // the read timeout's own granularity.
  Sleep(1);
  return {};
#else
  if (fd_ < 0) return {};
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout)) < 0) return fail_errno(errno);
  return {};
#endif
}

Result<std::optional<RxFrame>> LibpcapDevice::receive(MonoTime deadline) {
  for (;;) {
    pcap::PacketHeader* h = nullptr;
    const unsigned char* data = nullptr;
    const int rc = api_->next_ex(p_, &h, &data);
    if (rc == 1) {
      const auto frac = static_cast<std::uint32_t>(h->ts.tv_usec);
      const Timestamp ts{seconds_of(h->ts.tv_sec), nanosecond_ ? frac : frac * 1000U};
      return RxFrame{as_bytes(data, h->caplen), std::max(h->len, h->caplen), ts};
    }
    if (rc == pcap::error_break) return std::optional<RxFrame>{};
    if (rc < 0) return fail(RawError::pcap_failure);
    // rc == 0: nothing buffered (non-blocking mode).
    if (deadline == no_wait || MonoClock::now() >= deadline) return std::optional<RxFrame>{};
    if (auto w = wait(deadline); !w) {
      if (w.error() == std::errc::interrupted) return std::optional<RxFrame>{};
      return tl::unexpected(w.error());
    }
  }
}

Result<void> LibpcapDevice::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  if (len < eth_header) return fail(RawError::frame_too_short);
  if (len > tx_buf_.size()) return fail(RawError::frame_too_long);
  const MutBytes buf(tx_buf_.data(), len);
  fill(buf);
  if (api_->inject != nullptr) {
    errno = 0;
    if (api_->inject(p_, buf.data(), len) < 0) {
      // libpcap keeps the system's reason in errno where there is one.
      if (errno != 0) return fail_errno(errno);
      return fail(RawError::pcap_failure);
    }
    return {};
  }
  if (api_->sendpacket(p_, reinterpret_cast<const unsigned char*>(buf.data()),
                       static_cast<int>(len)) != 0) {
    return fail(RawError::pcap_failure);
  }
  return {};
}

std::uint64_t LibpcapDevice::drops() const noexcept {
  if (api_->stats == nullptr) return 0;
  pcap::Stats st{};
  if (api_->stats(p_, &st) != 0) return 0;
  return std::uint64_t{st.ps_drop} + st.ps_ifdrop;
}

Result<void> LibpcapDevice::set_filter(const BpfProgram& program) {
  if (auto r = check_program(program); !r) return r;
  if (api_->setfilter == nullptr) return {};
  // libpcap copies the program and never writes to it; its struct just has
  // no const inside.
  pcap::Program prog{static_cast<unsigned int>(program.size()),
                     const_cast<BpfInsn*>(program.data())};
  if (api_->setfilter(p_, &prog) != 0) return fail(RawError::pcap_failure);
  return {};
}

Result<void> LibpcapDevice::set_filter(const std::string& expression) {
  if (api_->compile == nullptr || api_->freecode == nullptr || api_->setfilter == nullptr) {
    return fail(PcapLibraryError::not_available);
  }
  pcap::Program prog{};
  if (api_->compile(p_, &prog, expression.c_str(), 1, pcap::netmask_unknown) != 0) {
    return fail(RawError::pcap_failure);
  }
  const int rc = api_->setfilter(p_, &prog);
  api_->freecode(&prog);
  if (rc != 0) return fail(RawError::pcap_failure);
  return {};
}

}  // namespace ersatz::link
