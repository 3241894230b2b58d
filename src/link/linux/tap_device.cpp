// TAP device over /dev/net/tun (Documentation/networking/tuntap.rst).
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "ersatz/link/netif.hpp"
#include "ersatz/link/tap_device.hpp"

namespace ersatz::link {
namespace {

// The largest frame the tun driver can hand over: an IPv4/IPv6 packet of
// 64 KiB with its link header and a tag or two. Reads into a smaller buffer
// would cut frames silently (tun_put_user copies what fits).
constexpr std::size_t max_frame = 65535 + ETH_HLEN + 8;

/// Attaching turns the TAP's carrier on, but the kernel acts on that later,
/// from its linkwatch work (rate-limited to one event per second per
/// device): until then the TAP's qdisc is still noop_qdisc, and every frame
/// the kernel sends into it, such as the answers to our first frames, is
/// dropped unseen. So wait, bounded, until the link reports IFF_RUNNING
/// (set in the same linkwatch pass, just before dev_activate() puts the
/// qdisc back), and a moment more when it had to be waited for.
Result<void> wait_until_running(const std::string& name) {
  using namespace std::chrono_literals;
  const auto give_up = MonoClock::now() + 3s;
  bool waited = false;
  for (;;) {
    auto info = netif_info(name);
    if (!info) return tl::unexpected(info.error());
    if (!info->up) return {};  // nothing will ever make it run
    if (info->running) break;
    if (MonoClock::now() >= give_up) return {};  // no carrier logic: use it as it is
    waited = true;
    ::usleep(10'000);
  }
  if (waited) ::usleep(20'000);
  return {};
}

}  // namespace

Result<std::unique_ptr<TapDevice>> TapDevice::open(const std::string& ifname,
                                                   const DeviceOptions& options) {
  if (ifname.empty()) return fail_errno(ENODEV);
  if (ifname.size() >= IFNAMSIZ) return fail_errno(ENAMETOOLONG);
  std::unique_ptr<TapDevice> dev(new TapDevice());
  // Non-blocking: receive() waits with ppoll, so that its deadline holds.
  dev->fd_.reset(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!dev->fd_) return fail_errno(errno);
  ifreq ifr{};
  // IFF_NO_PI: frames without the 4-byte tun_pi prefix.
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  // Creates the interface, or attaches to a persistent one we may use;
  // EPERM without CAP_NET_ADMIN (tun_set_iff).
  if (::ioctl(dev->fd_.get(), TUNSETIFF, &ifr) != 0) return fail_errno(errno);
  const std::string name(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
  if (options.filter) {
    if (auto r = dev->set_filter(*options.filter); !r) return tl::unexpected(r.error());
  }
  if (options.bring_up) {
    if (auto r = netif_set_up(name); !r) return tl::unexpected(r.error());
  }
  if (auto r = wait_until_running(name); !r) return tl::unexpected(r.error());
  auto info = netif_info(name);
  if (!info) return tl::unexpected(info.error());
  dev->interface_mac_ = info->mac;
  dev->caps_.name = name;
  dev->caps_.mtu = info->mtu;
  if (options.mac) {
    dev->caps_.mac = *options.mac;
  } else {
    // ersatz is the far end of the link: it must not answer to the address
    // the kernel's end already uses, or both ends would claim one MAC.
    auto octets = info->mac.octets();
    octets[5] ^= 1U;
    dev->caps_.mac = wire::MacAddress(octets);
  }
  dev->caps_.kernel_timestamps = false;
  dev->caps_.can_transmit = true;
  dev->rx_buf_.resize(max_frame);
  dev->tx_buf_.resize(max_frame);
  return dev;
}

Result<std::optional<RxFrame>> TapDevice::receive(MonoTime deadline) {
  for (;;) {
    const ssize_t n = ::read(fd_.get(), rx_buf_.data(), rx_buf_.size());
    if (n >= 0) {
      const auto len = static_cast<std::uint32_t>(n);
      return RxFrame{ConstBytes(rx_buf_.data(), len), len, wall_now()};
    }
    if (errno == EINTR) return std::optional<RxFrame>{};
    if (errno != EAGAIN) return fail_errno(errno);
    const auto left = deadline - MonoClock::now();
    if (left <= MonoClock::duration::zero()) return std::optional<RxFrame>{};
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000),
                      static_cast<long>(ns % 1'000'000'000)};
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int r = ::ppoll(&pfd, 1, &ts, nullptr);
    if (r < 0) {
      if (errno == EINTR) return std::optional<RxFrame>{};
      return fail_errno(errno);
    }
    if (r == 0) return std::optional<RxFrame>{};
  }
}

Result<void> TapDevice::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  if (len < ETH_HLEN) return fail(RawError::frame_too_short);
  // tun_get_user takes any length up to 64 KiB; the kernel's own MTU checks
  // apply further up, as for a frame from a wire.
  if (len > tx_buf_.size()) return fail(RawError::frame_too_long);
  const MutBytes buf(tx_buf_.data(), len);
  fill(buf);
  for (;;) {
    // One write is one frame. EAGAIN cannot happen: tun_get_user never
    // blocks on the transmit side.
    const ssize_t n = ::write(fd_.get(), buf.data(), len);
    if (n >= 0) return {};
    if (errno != EINTR) return fail_errno(errno);
  }
}

Result<void> TapDevice::set_filter(const BpfProgram& program) {
  if (auto r = check_program(program); !r) return r;
  auto insns = to_native<sock_filter>(program);
  sock_fprog prog{static_cast<unsigned short>(insns.size()), insns.data()};
  if (::ioctl(fd_.get(), TUNATTACHFILTER, &prog) != 0) return fail_errno(errno);
  return {};
}

}  // namespace ersatz::link
