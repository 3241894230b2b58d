// link_probe: the lab's driver for the raw devices. It opens one interface
// with one backend, drops its privileges, reports the effective capability
// set, and then sends crafted ICMP echo requests or prints what arrives.
//
//   link_probe [common] info
//   link_probe [common] send COUNT DST_MAC SRC_IP DST_IP
//   link_probe [common] burst ROUNDS SIZE DST_MAC SRC_IP DST_IP
//   link_probe [common] idle COUNT SECONDS DST_MAC
//   link_probe [common] recv SECONDS [MAX_FRAMES]
//
// common: --backend afpacket|pcap|tap  --iface NAME  [--filter]  [--batch N]
//         [--outgoing]  [--linger SECONDS]  [--tx-mode ring|send|sendmmsg]
//         [--tstamp]  [--bypass]  [--rx-ring blocks|frames|none]  [--send-only]
//
// burst sends ROUNDS bursts of SIZE echo requests (seq 1, 2, ... across
// them), each burst ended by one flush(), and after each collects the
// kernel's transmit stamps (tx_timestamps(), asked again for up to 1 s
// until the burst's stamps are in). It prints, per stamp in the order
// reported, "stamp FRAME SEC NSEC BEFORE_SEC BEFORE_NSEC", BEFORE being
// the wall clock just before the system call that sent the frame (before
// transmit() for send, before flush() for the batching modes, whose batch
// is then the whole burst); then "tx_count N", "stamps_lost N" and
// "tx mode M".
//
// idle sends COUNT frames of the local experimental ethertype 0x88b5 (the
// peer drops them), then calls receive() until SECONDS have passed, and
// prints "idle_cpu_ms C received R" (C: this process's CPU time during
// that wait), then "stamps S" from one tx_timestamps() call. With TX
// stamps pending the socket polls POLLERR; a receive() that did not drain
// them would spin for the whole wait instead of sleeping.
//
// --linger keeps the device open after a send, counting the echo replies
// that come back ("replies N"). A TAP needs it: once its last fd closes the
// carrier drops, and replies the kernel has not yet sent are discarded.
//
// Output (stdout): "opened NAME mtu M mac X", "CapEff: HEX", "libpcap
// mapped" or "libpcap not mapped" (from /proc/self/maps), then one
// tcpdump-style line per received frame and "received N" / "sent N". The
// probe prints "ready" on stderr once it listens, for scripts to wait on.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ersatz/decode/dissect.hpp"
#include "ersatz/link/af_packet.hpp"
#include "ersatz/link/bpf.hpp"
#include "ersatz/link/libpcap_device.hpp"
#include "ersatz/link/open_device.hpp"
#include "ersatz/link/privileges.hpp"
#include "ersatz/link/tap_device.hpp"
#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/icmpv4.hpp"
#include "ersatz/wire/ipv4.hpp"

using namespace ersatz;

namespace {

int usage() {
  std::fputs(
      "usage: link_probe --backend B --iface IF [--filter] [--batch N] [--outgoing]\n"
      "                  [--linger SECONDS] [--tx-mode ring|send|sendmmsg] [--tstamp] [--bypass]\n"
      "                  info | send COUNT DST_MAC SRC_IP DST_IP | recv SECONDS [MAX]\n"
      "                  | burst ROUNDS SIZE DST_MAC SRC_IP DST_IP\n"
      "                  | idle COUNT SECONDS DST_MAC\n",
      stderr);
  return 2;
}

/// Whether libpcap is mapped into this process: it is loaded at run time,
/// by the pcap backend only, so the lab can tell which path really ran.
bool libpcap_mapped() {
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("/libpcap.so") != std::string::npos) return true;
  }
  return false;
}

std::string cap_eff() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) return line;
  }
  return "CapEff: ?";
}

/// This process's CPU time (user + system), in milliseconds.
double cpu_ms() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

volatile std::sig_atomic_t stop = 0;
extern "C" void on_stop(int /*signo*/) { stop = 1; }

/// An Ethernet + IPv4 + ICMP echo request, built with the wire Reprs.
std::vector<std::byte> echo_request(wire::MacAddress src_mac, wire::MacAddress dst_mac,
                                    wire::Ipv4Address src, wire::Ipv4Address dst,
                                    std::uint16_t seq) {
  std::vector<std::byte> payload(32);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i);
  const auto icmp = wire::icmpv4::Repr::echo_request(0x4567, seq, {payload.data(), payload.size()});
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

/// Receives for up to `seconds`, until `want` echo replies to `us` arrived.
unsigned long count_replies(link::Device& d, wire::Ipv4Address us, unsigned long want,
                            double seconds) {
  const auto end = MonoClock::now() + std::chrono::duration_cast<MonoClock::duration>(
                                          std::chrono::duration<double>(seconds));
  unsigned long n = 0;
  while (n < want && MonoClock::now() < end) {
    auto r = d.receive(end);
    if (!r || !*r) continue;
    const auto dis = decode::dissect((*r)->data, (*r)->wire_len);
    if (dis.ip && dis.ip->header.dst() == us && dis.ip->icmp &&
        dis.ip->icmp->packet.type() == wire::icmpv4::Type::echo_reply) {
      ++n;
    }
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  link::DeviceOptions opt;
  std::string iface;
  bool filter = false;
  bool batch_given = false;
  double linger = 0;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--backend") {
      auto b = link::parse_backend(value());
      if (!b) return usage();
      opt.backend = *b;
    } else if (a == "--iface") {
      iface = value();
    } else if (a == "--filter") {
      filter = true;
    } else if (a == "--batch") {
      opt.tx_batch = std::strtoul(value().c_str(), nullptr, 10);
      batch_given = true;
    } else if (a == "--linger") {
      linger = std::strtod(value().c_str(), nullptr);
    } else if (a == "--outgoing") {
      opt.ignore_outgoing = false;
    } else if (a == "--tx-mode") {
      const std::string m = value();
      if (m == "ring") {
        opt.tx_mode = link::TxMode::ring;
      } else if (m == "send") {
        opt.tx_mode = link::TxMode::send;
      } else if (m == "sendmmsg") {
        opt.tx_mode = link::TxMode::sendmmsg;
      } else {
        return usage();
      }
    } else if (a == "--rx-ring") {
      const std::string m = value();
      if (m == "blocks") {
        opt.rx_ring = link::RxRing::blocks;
      } else if (m == "frames") {
        opt.rx_ring = link::RxRing::frames;
      } else if (m == "none") {
        opt.rx_ring = link::RxRing::none;
      } else {
        return usage();
      }
    } else if (a == "--send-only") {
      opt.receive = false;
    } else if (a == "--tstamp") {
      opt.tx_timestamps = true;
    } else if (a == "--bypass") {
      opt.qdisc_bypass = true;
    } else {
      rest.push_back(a);
    }
  }
  if (iface.empty() || rest.empty()) return usage();

  // A burst fits the ring or buffer whole and is sent by the probe's
  // flush() alone: no frame leaves before it.
  if (!rest.empty() && rest[0] == "burst" && rest.size() == 6 && !batch_given) {
    opt.tx_batch = SIZE_MAX;
    opt.tx_frames =
        std::max<std::size_t>(opt.tx_frames, std::strtoul(rest[2].c_str(), nullptr, 10));
  }
  std::string detail;
  auto dev = link::open_device(iface, opt, &detail);
  if (!dev) {
    if (link::is_permission_error(dev.error())) {
      fmt::print(stderr, "ersatz: {}\n", link::needs_cap_net_raw);
      return 2;
    }
    fmt::print(stderr, "link_probe: {}: {} {}\n", iface, dev.error().message(), detail);
    return 1;
  }
  if (auto r = link::drop_privileges(); !r) {
    fmt::print(stderr, "link_probe: cannot drop privileges: {}\n", r.error().message());
    return 1;
  }
  link::Device& d = **dev;
  const auto& caps = d.capabilities();
  if (filter) {
    // Installed after the privilege drop on purpose: attaching a filter to
    // an open socket needs no capability.
    const auto prog = link::arp_or_icmp_filter(caps.mac);
    Result<void> r;
    if (auto* af = dynamic_cast<link::AfPacketDevice*>(&d)) r = af->set_filter(prog);
    if (auto* pc = dynamic_cast<link::LibpcapDevice*>(&d)) r = pc->set_filter(prog);
    if (auto* tap = dynamic_cast<link::TapDevice*>(&d)) r = tap->set_filter(prog);
    if (!r) {
      fmt::print(stderr, "link_probe: filter: {}\n", r.error().message());
      return 1;
    }
  }
  fmt::print("opened {} mtu {} mac {}\n{}\ntx_timestamps {}\n", caps.name, caps.mtu, caps.mac,
             cap_eff(), caps.tx_timestamps ? "yes" : "no");
  fmt::print("libpcap {}\n", libpcap_mapped() ? "mapped" : "not mapped");
  std::fflush(stdout);

  const std::string& cmd = rest[0];
  if (cmd == "info") return 0;
  if (cmd == "send" && rest.size() == 5) {
    const unsigned long count = std::strtoul(rest[1].c_str(), nullptr, 10);
    const auto dst_mac = wire::MacAddress::parse(rest[2]);
    const auto src = wire::Ipv4Address::parse(rest[3]);
    const auto dst = wire::Ipv4Address::parse(rest[4]);
    if (!dst_mac || !src || !dst) return usage();
    unsigned long sent = 0;
    for (unsigned long i = 1; i <= count; ++i) {
      const auto f = echo_request(caps.mac, *dst_mac, *src, *dst, static_cast<std::uint16_t>(i));
      if (auto r = link::transmit_copy(d, {f.data(), f.size()}); !r) {
        fmt::print(stderr, "link_probe: send: {}\n", r.error().message());
        return 1;
      }
      ++sent;
    }
    if (auto* af = dynamic_cast<link::AfPacketDevice*>(&d)) {
      if (auto r = af->flush(); !r) {
        fmt::print(stderr, "link_probe: flush: {}\n", r.error().message());
        return 1;
      }
      fmt::print("tx ring {}\n", af->tx_ring() ? "yes" : "no");
    }
    fmt::print("sent {}\n", sent);
    if (linger > 0) fmt::print("replies {}\n", count_replies(d, *src, count, linger));
    return 0;
  }
  if (cmd == "burst" && rest.size() == 6) {
    const unsigned long rounds = std::strtoul(rest[1].c_str(), nullptr, 10);
    const unsigned long size = std::strtoul(rest[2].c_str(), nullptr, 10);
    const auto dst_mac = wire::MacAddress::parse(rest[3]);
    const auto src = wire::Ipv4Address::parse(rest[4]);
    const auto dst = wire::Ipv4Address::parse(rest[5]);
    if (!dst_mac || !src || !dst || size == 0 || rounds * size > 65535) return usage();
    auto* af = dynamic_cast<link::AfPacketDevice*>(&d);
    const bool per_frame = af == nullptr || af->tx_mode() == link::TxMode::send;
    std::vector<Timestamp> before;  // by frame number
    unsigned long stamps = 0;
    for (unsigned long r = 0; r < rounds; ++r) {
      const std::uint64_t first = d.tx_count();
      for (unsigned long i = 0; i < size; ++i) {
        const auto seq = static_cast<std::uint16_t>(r * size + i + 1);
        const auto f = echo_request(caps.mac, *dst_mac, *src, *dst, seq);
        before.resize(std::max<std::size_t>(before.size(), d.tx_count() + 1));
        before[d.tx_count()] = wall_now();
        if (auto t = link::transmit_copy(d, {f.data(), f.size()}); !t) {
          fmt::print(stderr, "link_probe: send: {}\n", t.error().message());
          return 1;
        }
      }
      if (!per_frame) {
        const Timestamp at = wall_now();
        for (std::uint64_t n = first; n < d.tx_count(); ++n) before[n] = at;
      }
      if (auto t = d.flush(); !t) {
        fmt::print(stderr, "link_probe: flush: {}\n", t.error().message());
        return 1;
      }
      // The stamps of this burst, as far as they come within a second.
      const auto give_up = MonoClock::now() + std::chrono::seconds(1);
      std::uint64_t last = first;
      do {
        auto t = d.tx_timestamps([&](std::uint64_t frame, Timestamp ts) {
          const Timestamp b = frame < before.size() ? before[frame] : Timestamp{};
          fmt::print("stamp {} {} {:09} {} {:09}\n", frame, ts.sec, ts.nsec, b.sec, b.nsec);
          ++stamps;
          last = std::max(last, frame + 1);
        });
        if (!t) {
          fmt::print(stderr, "link_probe: tx_timestamps: {}\n", t.error().message());
          return 1;
        }
        if (!caps.tx_timestamps || last >= d.tx_count()) break;
        ::usleep(1000);
      } while (MonoClock::now() < give_up);
    }
    fmt::print("tx_count {}\nstamps {}\n", d.tx_count(), stamps);
    if (af != nullptr) {
      fmt::print("stamps_lost {}\n", af->tx_stamps_lost());
      const char* mode = af->tx_mode() == link::TxMode::ring   ? "ring"
                         : af->tx_mode() == link::TxMode::send ? "send"
                                                               : "sendmmsg";
      fmt::print("tx mode {}\n", mode);
    }
    return 0;
  }
  if (cmd == "idle" && rest.size() == 4) {
    const unsigned long count = std::strtoul(rest[1].c_str(), nullptr, 10);
    const double seconds = std::strtod(rest[2].c_str(), nullptr);
    const auto dst_mac = wire::MacAddress::parse(rest[3]);
    if (!dst_mac) return usage();
    for (unsigned long i = 0; i < count; ++i) {
      auto t = d.transmit(60, [&](MutBytes f) {
        dst_mac->write(f.subspan(0, 6));
        caps.mac.write(f.subspan(6, 6));
        store_be16(f, 12, 0x88b5);
        std::memset(f.data() + 14, 0, f.size() - 14);
      });
      if (!t) {
        fmt::print(stderr, "link_probe: send: {}\n", t.error().message());
        return 1;
      }
    }
    if (auto t = d.flush(); !t) {
      fmt::print(stderr, "link_probe: flush: {}\n", t.error().message());
      return 1;
    }
    const auto end = MonoClock::now() + std::chrono::duration_cast<MonoClock::duration>(
                                            std::chrono::duration<double>(seconds));
    const double cpu0 = cpu_ms();
    unsigned long received = 0;
    while (MonoClock::now() < end) {
      auto r = d.receive(end);
      if (!r) {
        fmt::print(stderr, "link_probe: receive: {}\n", r.error().message());
        return 1;
      }
      if (*r) ++received;
    }
    fmt::print("idle_cpu_ms {:.0f} received {}\n", cpu_ms() - cpu0, received);
    unsigned long stamps = 0;
    if (auto t = d.tx_timestamps([&](std::uint64_t, Timestamp) { ++stamps; }); !t) {
      fmt::print(stderr, "link_probe: tx_timestamps: {}\n", t.error().message());
      return 1;
    }
    fmt::print("stamps {}\n", stamps);
    return 0;
  }
  if (cmd == "recv" && (rest.size() == 2 || rest.size() == 3)) {
    const double seconds = std::strtod(rest[1].c_str(), nullptr);
    const unsigned long max = rest.size() == 3 ? std::strtoul(rest[2].c_str(), nullptr, 10) : 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    const auto end = MonoClock::now() + std::chrono::duration_cast<MonoClock::duration>(
                                            std::chrono::duration<double>(seconds));
    std::fputs("ready\n", stderr);
    unsigned long n = 0;
    fmt::memory_buffer line;
    while (stop == 0 && MonoClock::now() < end && (max == 0 || n < max)) {
      auto r = d.receive(end);
      if (!r) {
        fmt::print(stderr, "link_probe: receive: {}\n", r.error().message());
        return 1;
      }
      if (!*r) continue;
      ++n;
      const decode::Frame frame{n, (*r)->ts, (*r)->wire_len, (*r)->data};
      line.clear();
      decode::format_text(line, frame, decode::dissect(frame.data, frame.wire_len),
                          decode::TextOptions{true});
      fmt::print("{}\n", std::string_view(line.data(), line.size()));
      std::fflush(stdout);
    }
    fmt::print("received {}\n", n);
    return 0;
  }
  return usage();
}
