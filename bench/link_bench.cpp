// link_bench: frames per second through the raw devices, one side of a
// veth pair per process (bench/link_bench.sh builds the lab and runs both).
//
//   link_bench tx PATH IFACE DST_MAC COUNT [SIZE]
//   link_bench rx PATH IFACE COUNT
//
// PATH: ring   AF_PACKET, TPACKET_V3 RX ring / PACKET_TX_RING, 64 frames
//              per send() (ersatz::link::AfPacketDevice)
//       pcap   libpcap: pcap_next_ex / pcap_inject (ersatz::link::LibpcapDevice)
//       plain  an AF_PACKET socket with one send() or recv() per frame,
//              written here without ersatz: the baseline
//
// Frames carry the IEEE 802 local experimental ethertype 0x88b5, so the
// peer's kernel drops them after the packet taps, and a 32-bit sequence
// number. tx prints "tx PATH frames N seconds S fps F"; rx counts 0x88b5
// frames until COUNT arrived or none came for 500 ms, and prints "rx PATH
// frames N seconds S fps F drops D cpu_ns C", timed from the first frame to
// the last; C is the receiver's own CPU time (user + system) per frame.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ersatz/link/af_packet.hpp"
#include "ersatz/link/libpcap_device.hpp"
#include "ersatz/link/open_device.hpp"

using namespace ersatz;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t bench_type = 0x88b5;

int usage() {
  std::fputs(
      "usage: link_bench tx ring|pcap|plain IFACE DST_MAC COUNT [SIZE]\n"
      "       link_bench rx ring|pcap|plain IFACE COUNT\n",
      stderr);
  return 2;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

/// User plus system CPU time this process has used, in seconds.
double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void fill_frame(MutBytes f, const wire::MacAddress& dst, const wire::MacAddress& src,
                std::uint32_t seq) {
  dst.write(f.subspan(0, 6));
  src.write(f.subspan(6, 6));
  store_be16(f, 12, bench_type);
  store_be32(f, 14, seq);
  std::memset(f.data() + 18, 0, f.size() - 18);
}

bool is_bench(ConstBytes f) { return f.size() >= 18 && load_be16(f, 12) == bench_type; }

/// The baseline: a bound AF_PACKET socket, no ring, no ersatz.
int plain_socket(const std::string& iface, std::uint16_t proto) {
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));
  if (fd < 0) return -1;
  sockaddr_ll a{};
  a.sll_family = AF_PACKET;
  a.sll_protocol = htons(proto);
  a.sll_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int run_tx(const std::string& path, const std::string& iface, wire::MacAddress dst,
           std::uint32_t count, std::size_t size) {
  if (path == "plain") {
    const int fd = plain_socket(iface, 0);
    if (fd < 0) {
      fmt::print(stderr, "link_bench: {}: {}\n", iface, std::strerror(errno));
      return 1;
    }
    std::vector<std::byte> f(size);
    const auto t0 = Clock::now();
    for (std::uint32_t i = 0; i < count; ++i) {
      fill_frame({f.data(), f.size()}, dst, {}, i);
      while (::send(fd, f.data(), f.size(), 0) < 0) {
        if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
          fmt::print(stderr, "link_bench: send: {}\n", std::strerror(errno));
          return 1;
        }
      }
    }
    const double s = seconds(Clock::now() - t0);
    fmt::print("tx plain frames {} seconds {:.3f} fps {:.0f}\n", count, s, count / s);
    ::close(fd);
    return 0;
  }
  link::DeviceOptions o;
  o.backend = path == "ring" ? link::Backend::afpacket : link::Backend::pcap;
  o.tx_batch = 64;
  o.tx_frames = 1024;
  std::string detail;
  auto dev = link::open_device(iface, o, &detail);
  if (!dev) {
    fmt::print(stderr, "link_bench: {}: {} {}\n", iface, dev.error().message(), detail);
    return 1;
  }
  const auto src = (*dev)->capabilities().mac;
  const auto t0 = Clock::now();
  for (std::uint32_t i = 0; i < count; ++i) {
    auto r = (*dev)->transmit(size, [&](MutBytes f) { fill_frame(f, dst, src, i); });
    if (!r) {
      fmt::print(stderr, "link_bench: transmit: {}\n", r.error().message());
      return 1;
    }
  }
  if (auto* af = dynamic_cast<link::AfPacketDevice*>(dev->get())) {
    if (auto r = af->flush(); !r) {
      fmt::print(stderr, "link_bench: flush: {}\n", r.error().message());
      return 1;
    }
  }
  const double s = seconds(Clock::now() - t0);
  fmt::print("tx {} frames {} seconds {:.3f} fps {:.0f}\n", path, count, s, count / s);
  return 0;
}

int run_rx(const std::string& path, const std::string& iface, std::uint32_t count) {
  std::uint32_t got = 0;
  Clock::time_point first{};
  Clock::time_point last{};
  const auto idle = std::chrono::milliseconds(500);
  std::uint64_t drops = 0;
  double cpu0 = 0;  // CPU time used before the first receive
  auto note = [&] {
    last = Clock::now();
    if (got++ == 0) first = last;
  };
  if (path == "plain") {
    const int fd = plain_socket(iface, bench_type);
    if (fd < 0) {
      fmt::print(stderr, "link_bench: {}: {}\n", iface, std::strerror(errno));
      return 1;
    }
    // An 8 MiB socket buffer, as large as the ring, so the baseline is not
    // cut short by net.core.rmem_max (SO_RCVBUFFORCE needs CAP_NET_ADMIN).
    const int rcvbuf = 8 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    const timeval tv{0, 500000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::fputs("ready\n", stderr);
    cpu0 = cpu_seconds();
    std::vector<std::byte> buf(2048);
    while (got < count) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (got > 0) break;  // idle after traffic
        continue;
      }
      if (is_bench({buf.data(), static_cast<std::size_t>(n)})) note();
    }
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (::getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops = st.tp_drops;
    ::close(fd);
  } else {
    link::DeviceOptions o;
    o.backend = path == "ring" ? link::Backend::afpacket : link::Backend::pcap;
    o.rx_blocks = 8;  // 8 MiB, the size of the plain path's socket buffer
    std::string detail;
    auto dev = link::open_device(iface, o, &detail);
    if (!dev) {
      fmt::print(stderr, "link_bench: {}: {} {}\n", iface, dev.error().message(), detail);
      return 1;
    }
    std::fputs("ready\n", stderr);
    cpu0 = cpu_seconds();
    while (got < count) {
      auto r = (*dev)->receive(MonoClock::now() + idle);
      if (!r) {
        fmt::print(stderr, "link_bench: receive: {}\n", r.error().message());
        return 1;
      }
      if (!*r) {
        if (got > 0) break;
        continue;
      }
      if (is_bench((*r)->data)) note();
    }
    drops = (*dev)->drops();
  }
  const double s = got > 1 ? seconds(last - first) : 0;
  const double cpu = cpu_seconds() - cpu0;
  fmt::print("rx {} frames {} seconds {:.3f} fps {:.0f} drops {} cpu_ns {:.0f}\n", path, got, s,
             s > 0 ? (got - 1) / s : 0.0, drops, got > 0 ? cpu * 1e9 / got : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return usage();
  const std::string mode = argv[1];
  const std::string path = argv[2];
  const std::string iface = argv[3];
  if (path != "ring" && path != "pcap" && path != "plain") return usage();
  if (mode == "tx" && (argc == 6 || argc == 7)) {
    const auto dst = wire::MacAddress::parse(argv[4]);
    if (!dst) return usage();
    const auto count = static_cast<std::uint32_t>(std::strtoul(argv[5], nullptr, 10));
    const std::size_t size = argc == 7 ? std::strtoul(argv[6], nullptr, 10) : 60;
    if (size < 18 || size > 1514) return usage();
    return run_tx(path, iface, *dst, count, size);
  }
  if (mode == "rx" && argc == 5) {
    return run_rx(path, iface, static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10)));
  }
  return usage();
}
