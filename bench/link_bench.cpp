// link_bench: frames per second through the raw devices, one side of a
// veth pair per process (bench/link_bench.sh builds the lab and runs both).
//
//   link_bench tx PATH IFACE DST_MAC COUNT [SIZE]
//   link_bench rx PATH IFACE COUNT
//   link_bench burst MODE IFACE DST_MAC COUNT BURST [bypass] [tstamp]
//   link_bench rtt IFACE DST_MAC SRC_IP DST_IP COUNT INTERVAL_MS
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
//
// burst: COUNT 60-byte frames through AfPacketDevice with tx_mode MODE
// (ring, sendmmsg or send), as bursts of BURST frames, each ended by one
// flush() and nothing else (tx_batch unlimited, the ring or buffer holds a
// burst); with "bypass", PACKET_QDISC_BYPASS; with "tstamp", kernel TX
// stamps, collected by tx_timestamps() after every flush. Prints "burst
// MODE bypass B size S frames N seconds T fps F cpu_ns C stamps K".
//
// rtt: COUNT ICMP echo requests (56 bytes of data, as iputils) to DST_IP,
// one every INTERVAL_MS, through AfPacketDevice as ersatz ping opens it
// (TPACKET_V2 slots, send()) with TX stamps; each reply is awaited. Per
// probe two round-trip times, both ending at the kernel's RX stamp of the
// reply: from the wall clock read just before transmit() ("user", what
// ping measures today) and from the kernel's TX stamp ("kernel"). Prints
// "rtt probes N replies R user_median_us U kernel_median_us K".
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ersatz/decode/dissect.hpp"
#include "ersatz/link/af_packet.hpp"
#include "ersatz/link/libpcap_device.hpp"
#include "ersatz/link/open_device.hpp"
#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/icmpv4.hpp"
#include "ersatz/wire/ipv4.hpp"

using namespace ersatz;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t bench_type = 0x88b5;

int usage() {
  std::fputs(
      "usage: link_bench tx ring|pcap|plain IFACE DST_MAC COUNT [SIZE]\n"
      "       link_bench rx ring|pcap|plain IFACE COUNT\n"
      "       link_bench burst ring|sendmmsg|send IFACE DST_MAC COUNT BURST [bypass] [tstamp]\n"
      "       link_bench rtt IFACE DST_MAC SRC_IP DST_IP COUNT INTERVAL_MS\n",
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

int run_burst(const std::string& mode, const std::string& iface, wire::MacAddress dst,
              std::uint64_t count, std::size_t burst, bool bypass, bool tstamp) {
  link::DeviceOptions o;
  o.backend = link::Backend::afpacket;
  o.tx_mode = mode == "ring"       ? link::TxMode::ring
              : mode == "sendmmsg" ? link::TxMode::sendmmsg
                                   : link::TxMode::send;
  o.tx_batch = SIZE_MAX;  // only flush() sends
  o.tx_frames = std::max<std::size_t>(256, burst);
  o.qdisc_bypass = bypass;
  o.tx_timestamps = tstamp;
  o.rx_blocks = 2;
  o.rx_block_size = 1 << 16;
  auto dev = link::AfPacketDevice::open(iface, o);
  if (!dev) {
    fmt::print(stderr, "link_bench: {}: {}\n", iface, dev.error().message());
    return 1;
  }
  link::AfPacketDevice& d = **dev;
  if (d.tx_mode() != o.tx_mode || (tstamp && !d.capabilities().tx_timestamps)) {
    fmt::print(stderr, "link_bench: {}: mode or stamps not available\n", iface);
    return 1;
  }
  const auto src = d.capabilities().mac;
  // The driver may refuse frames (a veth whose far end is down answers
  // NET_XMIT_DROP when the qdisc is bypassed: ENOBUFS): that is a finding,
  // printed as such, not a figure.
  const auto refused = [&](const char* what, std::error_code ec) {
    fmt::print("burst {} bypass {} size {} refused {}: {}\n", mode, bypass ? 1 : 0, burst, what,
               ec.message());
    return ec == std::errc::no_buffer_space ? 3 : 1;
  };
  std::uint64_t stamps = 0;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  std::uint32_t seq = 0;
  for (std::uint64_t sent = 0; sent < count;) {
    const std::uint64_t n = std::min<std::uint64_t>(burst, count - sent);
    for (std::uint64_t i = 0; i < n; ++i, ++seq) {
      auto r = d.transmit(60, [&](MutBytes f) { fill_frame(f, dst, src, seq); });
      if (!r) return refused("transmit", r.error());
    }
    if (auto r = d.flush(); !r) return refused("flush", r.error());
    if (tstamp) {
      auto r = d.tx_timestamps([&](std::uint64_t, Timestamp) { ++stamps; });
      if (!r) {
        fmt::print(stderr, "link_bench: tx_timestamps: {}\n", r.error().message());
        return 1;
      }
    }
    sent += n;
  }
  const double s = seconds(Clock::now() - t0);
  const double cpu = cpu_seconds() - cpu0;
  fmt::print(
      "burst {} bypass {} size {} frames {} seconds {:.3f} fps {:.0f} cpu_ns {:.0f} stamps {}\n",
      mode, bypass ? 1 : 0, burst, count, s, static_cast<double>(count) / s,
      cpu * 1e9 / static_cast<double>(count), stamps);
  return 0;
}

/// An Ethernet + IPv4 + ICMP echo request with iputils' 56 data bytes.
std::vector<std::byte> echo_request(wire::MacAddress src_mac, wire::MacAddress dst_mac,
                                    wire::Ipv4Address src, wire::Ipv4Address dst,
                                    std::uint16_t ident, std::uint16_t seq) {
  std::vector<std::byte> payload(56);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i);
  const auto icmp = wire::icmpv4::Repr::echo_request(ident, seq, {payload.data(), payload.size()});
  wire::ipv4::Repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = wire::ipv4::Protocol::icmp;
  ip.ident = seq;
  ip.payload_len = icmp.buffer_len();
  wire::ethernet::Repr eth;
  eth.src = src_mac;
  eth.dst = dst_mac;
  eth.ethertype = wire::EtherType::ipv4;
  std::vector<std::byte> f(eth.buffer_len(ip.buffer_len()));
  const MutBytes all(f.data(), f.size());
  eth.emit(all, ip.buffer_len());
  const MutBytes l3 = all.subspan(eth.header_len(), ip.buffer_len());
  ip.emit(l3);
  icmp.emit(l3.subspan(ip.header_len()));
  return f;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

int run_rtt(const std::string& iface, wire::MacAddress dst_mac, wire::Ipv4Address src,
            wire::Ipv4Address dst, unsigned count, unsigned interval_ms) {
  link::DeviceOptions o;
  o.backend = link::Backend::afpacket;
  o.rx_ring = link::RxRing::frames;
  o.tx_mode = link::TxMode::send;
  o.tx_timestamps = true;
  auto dev = link::AfPacketDevice::open(iface, o);
  if (!dev) {
    fmt::print(stderr, "link_bench: {}: {}\n", iface, dev.error().message());
    return 1;
  }
  link::AfPacketDevice& d = **dev;
  if (!d.capabilities().tx_timestamps) {
    fmt::print(stderr, "link_bench: {}: no TX stamps\n", iface);
    return 1;
  }
  const auto ident = static_cast<std::uint16_t>(::getpid());
  std::vector<double> user_us;
  std::vector<double> kernel_us;
  std::vector<Timestamp> tx_stamp;  // by frame number
  for (unsigned i = 0; i < count; ++i) {
    const auto seq = static_cast<std::uint16_t>(i + 1);
    const auto f = echo_request(d.capabilities().mac, dst_mac, src, dst, ident, seq);
    const std::uint64_t frame = d.tx_count();
    const Timestamp before = wall_now();
    if (auto r = link::transmit_copy(d, {f.data(), f.size()}); !r) {
      fmt::print(stderr, "link_bench: send: {}\n", r.error().message());
      return 1;
    }
    const auto deadline = MonoClock::now() + std::chrono::seconds(1);
    for (;;) {
      auto r = d.receive(deadline);
      if (!r) {
        fmt::print(stderr, "link_bench: receive: {}\n", r.error().message());
        return 1;
      }
      if (!*r) break;
      const auto dis = decode::dissect((*r)->data, (*r)->wire_len);
      if (!dis.ip || dis.ip->header.dst() != src || !dis.ip->icmp) continue;
      const auto& icmp = dis.ip->icmp->packet;
      if (icmp.type() != wire::icmpv4::Type::echo_reply) continue;
      const auto rest = icmp.rest();
      if ((rest >> 16) != ident || (rest & 0xffffU) != seq) continue;
      const Timestamp rx = (*r)->ts;
      // The reply is in: the stamp of the request came before it.
      std::optional<Timestamp> sent;
      (void)d.tx_timestamps([&](std::uint64_t n, Timestamp ts) {
        if (n == frame) sent = ts;
      });
      user_us.push_back(static_cast<double>(rx.ns() - before.ns()) / 1e3);
      if (sent) kernel_us.push_back(static_cast<double>(rx.ns() - sent->ns()) / 1e3);
      break;
    }
    ::usleep(interval_ms * 1000);
  }
  fmt::print("rtt probes {} replies {} stamped {} user_median_us {:.1f} kernel_median_us {:.1f}\n",
             count, user_us.size(), kernel_us.size(), median(user_us), median(kernel_us));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return usage();
  const std::string mode = argv[1];
  if (mode == "burst" && argc >= 7) {
    const std::string m = argv[2];
    const auto dst = wire::MacAddress::parse(argv[4]);
    if (!dst || (m != "ring" && m != "sendmmsg" && m != "send")) return usage();
    bool bypass = false;
    bool tstamp = false;
    for (int i = 7; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "bypass") {
        bypass = true;
      } else if (a == "tstamp") {
        tstamp = true;
      } else {
        return usage();
      }
    }
    const std::size_t burst = std::strtoul(argv[6], nullptr, 10);
    if (burst == 0) return usage();
    return run_burst(m, argv[3], *dst, std::strtoull(argv[5], nullptr, 10), burst, bypass, tstamp);
  }
  if (mode == "rtt" && argc == 8) {
    const auto mac = wire::MacAddress::parse(argv[3]);
    const auto src = wire::Ipv4Address::parse(argv[4]);
    const auto dst = wire::Ipv4Address::parse(argv[5]);
    if (!mac || !src || !dst) return usage();
    return run_rtt(argv[2], *mac, *src, *dst,
                   static_cast<unsigned>(std::strtoul(argv[6], nullptr, 10)),
                   static_cast<unsigned>(std::strtoul(argv[7], nullptr, 10)));
  }
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
