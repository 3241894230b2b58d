// libpcap device, on the POSIX systems that ship libpcap: libpcap calls,
// poll(), and the netif seam for MTU and MAC. Windows has its own device
// over a run-time-loaded wpcap.dll (src/link/windows/npcap_device.cpp).
#include "ersatz/link/libpcap_device.hpp"

#include <pcap/pcap.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "ersatz/link/netif.hpp"

namespace ersatz::link {
namespace {

constexpr std::size_t eth_header = 14;
constexpr std::size_t vlan_len = 4;

/// pcap_activate's failures as the error codes every backend uses.
std::error_code activate_error(int rc) {
  switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED: return {EPERM, std::system_category()};
    case PCAP_ERROR_NO_SUCH_DEVICE: return {ENODEV, std::system_category()};
    case PCAP_ERROR_IFACE_NOT_UP: return {ENETDOWN, std::system_category()};
    default: return make_error_code(RawError::pcap_failure);
  }
}

}  // namespace

Result<std::unique_ptr<LibpcapDevice>> LibpcapDevice::open(const std::string& ifname,
                                                           const DeviceOptions& options,
                                                           std::string* detail) {
  auto failed = [&](std::error_code ec, std::string text) -> tl::unexpected<std::error_code> {
    if (detail != nullptr) *detail = std::move(text);
    return tl::unexpected(ec);
  };
  std::unique_ptr<LibpcapDevice> dev(new LibpcapDevice());
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  dev->p_ = pcap_create(ifname.c_str(), errbuf);
  if (dev->p_ == nullptr) return failed(make_error_code(RawError::pcap_failure), errbuf);
  pcap_t* p = dev->p_;
  pcap_set_snaplen(p, static_cast<int>(std::min<std::uint32_t>(options.snaplen, 262144)));
  pcap_set_promisc(p, options.promiscuous ? 1 : 0);
  // Immediate mode: each frame as it arrives. Without it libpcap waits for
  // a buffer to fill or a read timeout (on Linux, a TPACKET_V3 block), which
  // would hold back a lone reply.
  pcap_set_immediate_mode(p, 1);
  // The same room for frames waiting to be read as the AF_PACKET ring has.
  pcap_set_buffer_size(p, static_cast<int>(std::min<std::size_t>(
                              options.rx_block_size * options.rx_blocks, 1U << 30)));
  dev->nanosecond_ = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
  const int rc = pcap_activate(p);
  if (rc < 0) {
    const char* why = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
    return failed(activate_error(rc), why);
  }
  if (pcap_datalink(p) != DLT_EN10MB) {
    return failed(make_error_code(RawError::not_ethernet),
                  std::string("link type ") + pcap_datalink_val_to_name(pcap_datalink(p)));
  }
  if (options.ignore_outgoing) {
    // Best effort: not every platform can tell the directions apart; the
    // stack then sees its own frames and ignores them by source address.
    (void)pcap_setdirection(p, PCAP_D_IN);
  }
  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    return failed(make_error_code(RawError::pcap_failure), errbuf);
  }
  dev->fd_ = pcap_get_selectable_fd(p);  // -1 where libpcap has none
  if (options.filter) {
    if (auto r = dev->set_filter(*options.filter); !r) return failed(r.error(), dev->last_error());
  }
  dev->caps_.name = ifname;
  if (auto info = netif_info(ifname)) {
    dev->caps_.mtu = info->mtu;
    dev->caps_.mac = info->mac;
  }
  dev->caps_.kernel_timestamps = true;  // libpcap stamps from the kernel or driver
  dev->caps_.can_transmit = true;
  dev->tx_buf_.resize(dev->caps_.mtu + eth_header + vlan_len);
  return dev;
}

LibpcapDevice::~LibpcapDevice() {
  if (p_ != nullptr) pcap_close(p_);
}

std::string LibpcapDevice::last_error() const { return pcap_geterr(p_); }

Result<void> LibpcapDevice::wait(MonoTime deadline) {
  const auto left = deadline - MonoClock::now();
  if (left <= MonoClock::duration::zero()) return {};
  // Round up, so a wait never ends just short of the deadline and spins.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  const int timeout = static_cast<int>(std::min<std::int64_t>(ms, 1'000'000));
  if (fd_ < 0) return {};
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout) < 0) {
    if (errno == EINTR) return fail_errno(EINTR);
    return fail_errno(errno);
  }
  return {};
}

Result<std::optional<RxFrame>> LibpcapDevice::receive(MonoTime deadline) {
  for (;;) {
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(p_, &h, &data);
    if (rc == 1) {
      const auto frac = static_cast<std::uint32_t>(h->ts.tv_usec);
      const Timestamp ts{h->ts.tv_sec, nanosecond_ ? frac : frac * 1000U};
      return RxFrame{as_bytes(data, h->caplen), std::max(h->len, h->caplen), ts};
    }
    if (rc == PCAP_ERROR_BREAK) return std::optional<RxFrame>{};
    if (rc < 0) return fail(RawError::pcap_failure);
    // rc == 0: nothing buffered (non-blocking mode).
    if (MonoClock::now() >= deadline) return std::optional<RxFrame>{};
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
  errno = 0;
  if (pcap_inject(p_, buf.data(), len) < 0) {
    // libpcap keeps the system's reason in errno where there is one.
    if (errno != 0) return fail_errno(errno);
    return fail(RawError::pcap_failure);
  }
  return {};
}

std::uint64_t LibpcapDevice::drops() const noexcept {
  pcap_stat st{};
  if (pcap_stats(p_, &st) != 0) return 0;
  return std::uint64_t{st.ps_drop} + st.ps_ifdrop;
}

Result<void> LibpcapDevice::set_filter(const BpfProgram& program) {
  if (auto r = check_program(program); !r) return r;
  auto insns = to_native<bpf_insn>(program);
  bpf_program prog{static_cast<u_int>(insns.size()), insns.data()};
  if (pcap_setfilter(p_, &prog) != 0) return fail(RawError::pcap_failure);
  return {};
}

Result<void> LibpcapDevice::set_filter(const std::string& expression) {
  bpf_program prog{};
  if (pcap_compile(p_, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return fail(RawError::pcap_failure);
  const int rc = pcap_setfilter(p_, &prog);
  pcap_freecode(&prog);
  if (rc != 0) return fail(RawError::pcap_failure);
  return {};
}

}  // namespace ersatz::link
