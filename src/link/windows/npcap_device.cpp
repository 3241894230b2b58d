// Npcap device (npcap_device.hpp): libpcap's calls through the wpcap.dll
// loaded at run time.
#include "ersatz/link/npcap_device.hpp"

#include <windows.h>

#include <algorithm>
#include <chrono>

#include "adapter.hpp"
#include "wpcap.hpp"

namespace ersatz::link {

namespace {

constexpr std::size_t eth_header = 14;
constexpr std::size_t vlan_len = 4;

/// Without immediate mode, frames wait in the driver until its read
/// timeout; 1 ms bounds that delay (and RTTs use the frames' own stamps).
constexpr int read_timeout_ms = 1;

/// libpcap's activation failures (PCAP_ERROR_*), as every backend reports them.
std::error_code activate_error(int rc) {
  switch (rc) {
    case -8:   // PCAP_ERROR_PERM_DENIED
    case -11:  // PCAP_ERROR_PROMISC_PERM_DENIED
      return std::make_error_code(std::errc::operation_not_permitted);
    case -5:  // PCAP_ERROR_NO_SUCH_DEVICE
      return std::make_error_code(std::errc::no_such_device);
    case -9:  // PCAP_ERROR_IFACE_NOT_UP
      return std::make_error_code(std::errc::network_down);
    default: return make_error_code(NpcapError::failure);
  }
}

}  // namespace

Result<std::unique_ptr<NpcapDevice>> NpcapDevice::open(const std::string& name,
                                                       const DeviceOptions& options,
                                                       std::string* detail) {
  auto failed = [&](std::error_code ec, std::string text) -> tl::unexpected<std::error_code> {
    if (detail != nullptr) *detail = std::move(text);
    return tl::unexpected(ec);
  };
  auto api = wpcap::api();
  if (!api) return failed(api.error(), api.error().message());
  const wpcap::Api& a = **api;

  // The adapter: MTU and MAC, and its Npcap name when given another one.
  auto adapter = windows::find_adapter(name);
  if (!adapter) return failed(adapter.error(), adapter.error().message());
  const std::string& device = adapter->capture_device;
  const NetifInfo& info = adapter->info;

  std::unique_ptr<NpcapDevice> dev(new NpcapDevice());
  dev->api_ = &a;
  char errbuf[wpcap::errbuf_size] = {};
  const int snaplen = static_cast<int>(std::min<std::uint32_t>(options.snaplen, 262144));
  if (a.can_create_immediate()) {
    dev->p_ = a.create(device.c_str(), errbuf);
    if (dev->p_ == nullptr) return failed(make_error_code(NpcapError::failure), errbuf);
    if (a.set_snaplen != nullptr) a.set_snaplen(dev->p_, snaplen);
    if (a.set_promisc != nullptr) a.set_promisc(dev->p_, options.promiscuous ? 1 : 0);
    // Each frame as it arrives, not when the driver's buffer fills.
    a.set_immediate_mode(dev->p_, 1);
    if (a.set_buffer_size != nullptr) {
      a.set_buffer_size(dev->p_, static_cast<int>(std::min<std::size_t>(
                                     options.rx_block_size * options.rx_blocks, 1U << 30)));
    }
    if (a.set_tstamp_precision != nullptr) {
      dev->nanosecond_ = a.set_tstamp_precision(dev->p_, wpcap::precision_nano) == 0;
    }
    const int rc = a.activate(dev->p_);
    if (rc < 0) {
      const char* why = a.geterr(dev->p_);
      if (rc != -1 && a.statustostr != nullptr) why = a.statustostr(rc);
      return failed(activate_error(rc), why != nullptr ? why : "pcap_activate failed");
    }
  } else {
    // WinPcap's way, which Wine 8's wpcap.dll also offers (it has no
    // immediate mode): a short read timeout stands in for it.
    dev->p_ =
        a.open_live(device.c_str(), snaplen, options.promiscuous ? 1 : 0, read_timeout_ms, errbuf);
    if (dev->p_ == nullptr) return failed(make_error_code(NpcapError::failure), errbuf);
  }
  if (const int dlt = a.datalink(dev->p_); dlt != wpcap::dlt_en10mb) {
    return failed(make_error_code(RawError::not_ethernet), "link type " + std::to_string(dlt));
  }
  if (options.ignore_outgoing && a.setdirection != nullptr) {
    // Best effort, as on Linux's libpcap backend: without it the stack
    // sees its own frames and ignores them by source address.
    (void)a.setdirection(dev->p_, wpcap::direction_in);
  }
  if (a.setnonblock(dev->p_, 1, errbuf) != 0) {
    return failed(make_error_code(NpcapError::failure), errbuf);
  }
  if (a.event_usable) dev->event_ = a.getevent(dev->p_);
  if (options.filter) {
    if (auto r = dev->set_filter(*options.filter); !r) return failed(r.error(), dev->last_error());
  }
  dev->caps_.name = device;
  dev->caps_.mtu = info.mtu;
  dev->caps_.mac = info.mac;
  dev->caps_.kernel_timestamps = true;  // stamped by the driver (or, under Wine, the kernel)
  dev->caps_.can_transmit = true;
  dev->tx_buf_.resize(dev->caps_.mtu + eth_header + vlan_len);
  return dev;
}

NpcapDevice::~NpcapDevice() {
  if (p_ != nullptr) api_->close(p_);
}

std::string NpcapDevice::last_error() const {
  const char* e = api_->geterr(p_);
  return e != nullptr ? e : "";
}

Result<void> NpcapDevice::wait(MonoTime deadline) {
  const auto left = deadline - MonoClock::now();
  if (left <= MonoClock::duration::zero()) return {};
  if (event_ != nullptr) {
    // Round up, so a wait never ends just short of the deadline and spins.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    const auto timeout = static_cast<DWORD>(std::min<std::int64_t>(ms, 1'000'000));
    if (WaitForSingleObject(static_cast<HANDLE>(event_), timeout) == WAIT_FAILED) {
      return fail(NpcapError::failure);
    }
    return {};
  }
  // No event to wait on (Wine): look again in a millisecond. Sleep(1) is
  // the read timeout's own granularity.
  Sleep(1);
  return {};
}

Result<std::optional<RxFrame>> NpcapDevice::receive(MonoTime deadline) {
  for (;;) {
    wpcap::PacketHeader* h = nullptr;
    const unsigned char* data = nullptr;
    const int rc = api_->next_ex(p_, &h, &data);
    if (rc == 1) {
      const auto frac = static_cast<std::uint32_t>(h->tv_usec);
      // tv_sec is 32 bits on Windows; read it as unsigned so that it lasts
      // until 2106, as Npcap's own readers do.
      const Timestamp ts{static_cast<std::int64_t>(static_cast<std::uint32_t>(h->tv_sec)),
                         nanosecond_ ? frac : frac * 1000U};
      return RxFrame{as_bytes(data, h->caplen), std::max(h->len, h->caplen), ts};
    }
    if (rc == wpcap::error_break) return std::optional<RxFrame>{};
    if (rc < 0) return fail(NpcapError::failure);
    // rc == 0: nothing buffered (non-blocking mode).
    if (MonoClock::now() >= deadline) return std::optional<RxFrame>{};
    if (auto w = wait(deadline); !w) return tl::unexpected(w.error());
  }
}

Result<void> NpcapDevice::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  if (len < eth_header) return fail(RawError::frame_too_short);
  if (len > tx_buf_.size()) return fail(RawError::frame_too_long);
  const MutBytes buf(tx_buf_.data(), len);
  fill(buf);
  // pcap_sendpacket, not pcap_inject: Wine 8 has only the former.
  if (api_->sendpacket(p_, reinterpret_cast<const unsigned char*>(buf.data()),
                       static_cast<int>(len)) != 0) {
    return fail(NpcapError::failure);
  }
  return {};
}

std::uint64_t NpcapDevice::drops() const noexcept {
  if (api_->stats == nullptr) return 0;
  wpcap::Stats st{};
  if (api_->stats(p_, &st) != 0) return 0;
  return std::uint64_t{st.ps_drop} + st.ps_ifdrop;
}

Result<void> NpcapDevice::set_filter(const BpfProgram& program) {
  if (auto r = check_program(program); !r) return r;
  // Without pcap_setfilter the filter is lost, which costs only speed:
  // the stack checks every frame it is given anyway.
  if (api_->setfilter == nullptr) return {};
  auto insns = to_native<wpcap::Instruction>(program);
  wpcap::Program prog{static_cast<unsigned int>(insns.size()), insns.data()};
  if (api_->setfilter(p_, &prog) != 0) return fail(NpcapError::failure);
  return {};
}

}  // namespace ersatz::link
