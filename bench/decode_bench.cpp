// decode_bench: frames per second of ersatz's codec against libtins, on the
// frames of one capture held in memory.
//
//   decode_bench [benchmark flags] FILE.pcap
//   ERSATZ_BENCH_PCAP=FILE.pcap decode_bench [benchmark flags]
//
// Each benchmark iteration is one pass over every frame of the capture, so
// all benchmarks see the same bytes in the same order; items_per_second is
// frames per second. Every benchmark folds the same fields (ICMP ident + seq,
// ARP sender IP) into a digest, exported as the counter `digest` together
// with `ok` (frames fully read per pass): equal digests across benchmarks
// show they did the same work.
//
// A figure, not a test: nothing here asserts a time. bench/run.sh runs it.
#include <benchmark/benchmark.h>

#include <fmt/format.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ersatz/decode/dissect.hpp>
#include <ersatz/link/pcap_file.hpp>
#include <ersatz/wire/arp.hpp>
#include <ersatz/wire/ethernet.hpp>
#include <ersatz/wire/icmpv4.hpp>
#include <ersatz/wire/ipv4.hpp>
#include <fstream>
#include <string>
#include <vector>

#if ERSATZ_BENCH_HAVE_LIBTINS
#include <tins/arp.h>
#include <tins/endianness.h>
#include <tins/ethernetII.h>
#include <tins/exceptions.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/tcp.h>
#include <tins/udp.h>
#include <tins/utils/checksum_utils.h>
#endif

namespace {

using ersatz::ConstBytes;
namespace wire = ersatz::wire;
namespace decode = ersatz::decode;

struct FrameRef {
  std::size_t offset;
  std::uint32_t caplen;
  std::uint32_t wire_len;
  ersatz::Timestamp ts;
};

/// The capture: the frames back to back in one arena, and the file image
/// for the reader benchmarks.
struct Capture {
  std::string path;
  std::vector<std::byte> file_image;
  std::vector<std::byte> arena;
  std::vector<FrameRef> frames;

  ConstBytes bytes(const FrameRef& f) const noexcept { return {arena.data() + f.offset, f.caplen}; }
};

Capture g_capture;

bool load(const std::string& path) {
  auto reader = ersatz::link::PcapReader::open(path);
  if (!reader) {
    std::fprintf(stderr, "decode_bench: %s: %s\n", path.c_str(), reader.error().message().c_str());
    return false;
  }
  g_capture.path = path;
  for (;;) {
    auto rec = reader->next();
    if (!rec) {
      std::fprintf(stderr, "decode_bench: %s\n",
                   ersatz::link::describe(*reader, rec.error()).c_str());
      return false;
    }
    if (!*rec) break;
    const auto& r = **rec;
    g_capture.frames.push_back(
        {g_capture.arena.size(), static_cast<std::uint32_t>(r.data.size()), r.wire_len, r.ts});
    g_capture.arena.insert(g_capture.arena.end(), r.data.begin(), r.data.end());
  }
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  g_capture.file_image.resize(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(g_capture.file_image.data()),
          static_cast<std::streamsize>(g_capture.file_image.size()));
  if (!in) {
    std::fprintf(stderr, "decode_bench: %s: cannot read the file image\n", path.c_str());
    return false;
  }
  if (g_capture.frames.empty()) {
    std::fprintf(stderr, "decode_bench: %s holds no frames\n", path.c_str());
    return false;
  }
  return true;
}

/// Frames per second, and the per-pass counters of the last pass.
void finish(benchmark::State& state, std::uint64_t ok, std::uint64_t digest) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(g_capture.frames.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(g_capture.arena.size()));
  state.counters["ok"] = static_cast<double>(ok);
  state.counters["digest"] = static_cast<double>(digest);
}

// ---------------------------------------------------------------- ersatz

/// Full validation of one frame through the views and Reprs: lengths of
/// every layer, and with Verify::yes the IP header checksum and the ICMP
/// checksum. True when the frame is a good ARP or ICMP-over-IPv4 frame;
/// `acc` gets its fields.
template <wire::ipv4::Verify verify>
inline bool ersatz_validate(ConstBytes frame, std::uint64_t& acc) noexcept {
  auto eth = wire::ethernet::Packet<>::checked(frame);
  if (!eth) return false;
  auto er = wire::ethernet::Repr::parse(*eth);
  if (!er) return false;
  const ConstBytes l3 = frame.subspan(er->header_len());
  switch (er->ethertype) {
    case wire::EtherType::arp: {
      auto ap = wire::arp::Packet<>::checked(l3);
      if (!ap) return false;
      auto ar = wire::arp::Repr::parse(*ap);
      if (!ar) return false;
      acc += ar->source_ip.value();
      return true;
    }
    case wire::EtherType::ipv4: {
      auto ip = wire::ipv4::Packet<>::checked(l3);
      if (!ip) return false;
      auto ir = wire::ipv4::Repr::parse(*ip, verify);
      if (!ir) return false;
      if (ir->protocol != wire::ipv4::Protocol::icmp || ir->more_fragments || ir->frag_offset != 0)
        return false;
      auto icmp = wire::icmpv4::Packet<>::checked(ip->payload());
      if (!icmp) return false;
      auto cr = wire::icmpv4::Repr::parse(*icmp, verify);
      if (!cr) return false;
      acc += std::uint64_t{cr->ident()} + cr->seq();
      return true;
    }
    default: return false;
  }
}

template <wire::ipv4::Verify verify>
void BM_ersatz(benchmark::State& state) {
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    for (const auto& f : g_capture.frames)
      ok += ersatz_validate<verify>(g_capture.bytes(f), acc) ? 1 : 0;
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(ok);
  }
  finish(state, ok, acc);
}
/// The headline: every length and both checksums.
void BM_ersatz_validate(benchmark::State& state) { BM_ersatz<wire::ipv4::Verify::yes>(state); }
/// The same without the checksums, the like-for-like of BM_libtins_parse.
void BM_ersatz_validate_nocsum(benchmark::State& state) {
  BM_ersatz<wire::ipv4::Verify::no>(state);
}
BENCHMARK(BM_ersatz_validate)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ersatz_validate_nocsum)->Unit(benchmark::kMillisecond);

/// Full validation of a frame of mixed traffic (bench/make_mixed_pcap.py):
/// IPv4 with its header checksum, or IPv6 with its extension headers
/// walked; then TCP, UDP or ICMPv6 with their lengths, options and the
/// checksum over the pseudo-header. `acc` gets the ports and TCP sequence
/// number, or the ICMPv6 type.
inline bool ersatz_validate_mixed(ConstBytes frame, std::uint64_t& acc) noexcept {
  namespace w = wire;
  auto eth = w::ethernet::Packet<>::checked(frame);
  if (!eth) return false;
  auto er = w::ethernet::Repr::parse(*eth);
  if (!er) return false;
  const ConstBytes l3 = frame.subspan(er->header_len());
  ConstBytes upper;
  std::uint8_t proto = 0;
  std::uint16_t tcp_pseudo = 0;
  std::uint16_t udp_pseudo = 0;
  std::uint16_t icmp_pseudo = 0;
  if (er->ethertype == w::EtherType::ipv4) {
    auto ip = w::ipv4::Packet<>::checked(l3);
    if (!ip) return false;
    auto ir = w::ipv4::Repr::parse(*ip, w::ipv4::Verify::yes);
    if (!ir || ir->more_fragments || ir->frag_offset != 0) return false;
    upper = ip->payload();
    proto = static_cast<std::uint8_t>(ir->protocol);
    const auto len = static_cast<std::uint16_t>(upper.size());
    tcp_pseudo = w::ipv4::pseudo_header_sum(ir->src, ir->dst, w::ipv4::Protocol::tcp, len);
    udp_pseudo = w::ipv4::pseudo_header_sum(ir->src, ir->dst, w::ipv4::Protocol::udp, len);
  } else if (er->ethertype == w::EtherType::ipv6) {
    auto ip = w::ipv6::Packet<>::checked(l3);
    if (!ip) return false;
    auto ir = w::ipv6::Repr::parse(*ip);
    if (!ir) return false;
    w::ipv6::ExtReader ext(ir->next_header, ip->payload());
    while (auto e = ext.next()) {
      if (e->type == w::ipv6::NextHeader::fragment) return false;
    }
    if (ext.error()) return false;
    upper = ext.rest();
    proto = static_cast<std::uint8_t>(ext.upper_layer());
    const auto len = static_cast<std::uint32_t>(upper.size());
    tcp_pseudo = w::ipv6::pseudo_header_sum(ir->src, ir->dst, len, 6);
    udp_pseudo = w::ipv6::pseudo_header_sum(ir->src, ir->dst, len, 17);
    icmp_pseudo = w::ipv6::pseudo_header_sum(ir->src, ir->dst, len, 58);
  } else {
    return false;
  }
  switch (proto) {
    case 6: {
      auto t = w::tcp::Packet<>::checked(upper);
      if (!t) return false;
      auto tr = w::tcp::Repr::parse(*t, tcp_pseudo, w::ipv4::Verify::yes);
      if (!tr) return false;
      acc += std::uint64_t{tr->src_port} + tr->dst_port + tr->seq;
      return true;
    }
    case 17: {
      auto u = w::udp::Packet<>::checked(upper);
      if (!u || u->length() != upper.size()) return false;
      // The IPv4 and IPv6 pseudo-headers both sum through one helper.
      if (u->checksum() == 0 ||
          w::checksum::combine(udp_pseudo, w::checksum::ones_sum(u->datagram())) != 0xffff)
        return false;
      acc += std::uint64_t{u->src_port()} + u->dst_port();
      return true;
    }
    case 58: {
      if (er->ethertype != w::EtherType::ipv6) return false;
      auto c = w::icmpv6::Packet<>::checked(upper);
      if (!c) return false;
      auto cr = w::icmpv6::Repr::parse(*c, icmp_pseudo, w::ipv4::Verify::yes);
      if (!cr) return false;
      acc += static_cast<std::uint8_t>(cr->type);
      return true;
    }
    default: return false;
  }
}

/// The headline for mixed traffic: every length, every checksum.
void BM_ersatz_validate_mixed(benchmark::State& state) {
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    for (const auto& f : g_capture.frames)
      ok += ersatz_validate_mixed(g_capture.bytes(f), acc) ? 1 : 0;
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(ok);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_ersatz_validate_mixed)->Unit(benchmark::kMillisecond);

/// The fields the digest folds, from a dissection.
inline bool digest_dissection(const decode::Dissection& d, std::uint64_t& acc) noexcept {
  if (d.ip && d.ip->icmp) {
    const auto& p = d.ip->icmp->packet;
    acc += std::uint64_t{p.ident()} + p.seq();
  } else if (d.arp) {
    acc += wire::Ipv4Address::from_bytes(d.arp->spa()).value();
  }
  return d.malformed.empty();
}

void BM_ersatz_dissect(benchmark::State& state) {
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    for (const auto& f : g_capture.frames) {
      const auto d = decode::dissect(g_capture.bytes(f), f.wire_len);
      ok += digest_dissection(d, acc) ? 1 : 0;
    }
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(ok);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_ersatz_dissect)->Unit(benchmark::kMillisecond);

/// dissect + format_text (the `ersatz dump` line) into a reused buffer.
void BM_ersatz_format_text(benchmark::State& state) {
  fmt::memory_buffer buf;
  const decode::TextOptions opts{};
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  std::uint64_t chars = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    std::uint64_t n = 0;
    for (const auto& f : g_capture.frames) {
      const decode::Frame frame{++n, f.ts, f.wire_len, g_capture.bytes(f)};
      const auto d = decode::dissect(frame.data, frame.wire_len);
      ok += digest_dissection(d, acc) ? 1 : 0;
      buf.clear();
      decode::format_text(buf, frame, d, opts);
      chars += buf.size();
      benchmark::DoNotOptimize(buf.data());
    }
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(chars);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_ersatz_format_text)->Unit(benchmark::kMillisecond);

/// dissect + format_json (the `ersatz dump --json` object).
void BM_ersatz_format_json(benchmark::State& state) {
  fmt::memory_buffer buf;
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  std::uint64_t chars = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    std::uint64_t n = 0;
    for (const auto& f : g_capture.frames) {
      const decode::Frame frame{++n, f.ts, f.wire_len, g_capture.bytes(f)};
      const auto d = decode::dissect(frame.data, frame.wire_len);
      ok += digest_dissection(d, acc) ? 1 : 0;
      buf.clear();
      decode::format_json(buf, frame, d);
      chars += buf.size();
      benchmark::DoNotOptimize(buf.data());
    }
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(chars);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_ersatz_format_json)->Unit(benchmark::kMillisecond);

/// The pcap reader alone, over the file image in memory.
void BM_ersatz_pcap_read(benchmark::State& state) {
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    auto reader = ersatz::link::PcapReader::from_memory(g_capture.file_image);
    if (!reader) {
      state.SkipWithError("pcap image does not open");
      return;
    }
    for (;;) {
      auto rec = reader->next();
      if (!rec || !*rec) break;
      ++ok;
      acc += (*rec)->wire_len;
    }
    benchmark::DoNotOptimize(acc);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_ersatz_pcap_read)->Unit(benchmark::kMillisecond);

/// What `ersatz dump -r` does minus the write(2) calls: read the records
/// from the file image, dissect, format a line into a 64 KiB output buffer.
void BM_ersatz_dump_text_in_memory(benchmark::State& state) {
  fmt::memory_buffer out;
  const decode::TextOptions opts{};
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  std::uint64_t chars = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    auto reader = ersatz::link::PcapReader::from_memory(g_capture.file_image);
    if (!reader) {
      state.SkipWithError("pcap image does not open");
      return;
    }
    std::uint64_t n = 0;
    for (;;) {
      auto rec = reader->next();
      if (!rec || !*rec) break;
      const decode::Frame frame{++n, (*rec)->ts, (*rec)->wire_len, (*rec)->data};
      const auto d = decode::dissect(frame.data, frame.wire_len);
      ok += digest_dissection(d, acc) ? 1 : 0;
      decode::format_text(out, frame, d, opts);
      out.push_back('\n');
      if (out.size() >= (1U << 16)) {
        chars += out.size();
        benchmark::DoNotOptimize(out.data());
        out.clear();
      }
    }
    chars += out.size();
    out.clear();
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(chars);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_ersatz_dump_text_in_memory)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- libtins

#if ERSATZ_BENCH_HAVE_LIBTINS

/// The same fields through libtins: it parses the whole frame into a PDU
/// chain (heap-allocated, payload copied), and checks lengths but no
/// checksum. With `verify`, the IP header and ICMP checksums are checked
/// afterwards over the frame's bytes with Tins::Utils::sum_range, which is
/// what a libtins user has to do, since libtins offers no verification.
template <bool verify>
inline bool tins_parse(ConstBytes frame, std::uint64_t& acc) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(frame.data());
  const auto size = static_cast<std::uint32_t>(frame.size());
  try {
    Tins::EthernetII eth(data, size);
    if (const auto* icmp = eth.find_pdu<Tins::ICMP>()) {
      if constexpr (verify) {
        const auto* ip = eth.find_pdu<Tins::IP>();
        if (ip == nullptr) return false;
        const std::uint8_t* l3 = data + eth.header_size();
        const std::size_t avail = size - eth.header_size();
        const std::size_t ihl = ip->header_size();
        const std::size_t tot = ip->tot_len();
        if (ihl > avail || tot < ihl || tot > avail) return false;
        if (Tins::Utils::sum_range(l3, l3 + ihl) != 0xffff) return false;
        if (Tins::Utils::sum_range(l3 + ihl, l3 + tot) != 0xffff) return false;
      }
      acc += std::uint64_t{icmp->id()} + icmp->sequence();
      return true;
    }
    if (const auto* arp = eth.find_pdu<Tins::ARP>()) {
      // The conversion gives the address in network byte order.
      acc += Tins::Endian::be_to_host(static_cast<std::uint32_t>(arp->sender_ip_addr()));
      return true;
    }
    return false;
  } catch (const Tins::exception_base&) {
    return false;
  }
}

template <bool verify>
void BM_libtins(benchmark::State& state) {
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    for (const auto& f : g_capture.frames)
      ok += tins_parse<verify>(g_capture.bytes(f), acc) ? 1 : 0;
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(ok);
  }
  finish(state, ok, acc);
}
void BM_libtins_parse(benchmark::State& state) { BM_libtins<false>(state); }
void BM_libtins_parse_checksum(benchmark::State& state) { BM_libtins<true>(state); }
BENCHMARK(BM_libtins_parse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_libtins_parse_checksum)->Unit(benchmark::kMillisecond);

/// Mixed traffic through libtins: the same fields (ports and TCP sequence
/// number, or the ICMPv6 type); lengths checked, no checksum (libtins
/// verifies none), so this is the cheaper task.
inline bool tins_parse_mixed(ConstBytes frame, std::uint64_t& acc) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(frame.data());
  const auto size = static_cast<std::uint32_t>(frame.size());
  try {
    Tins::EthernetII eth(data, size);
    if (const auto* tcp = eth.find_pdu<Tins::TCP>()) {
      acc += std::uint64_t{tcp->sport()} + tcp->dport() + tcp->seq();
      return true;
    }
    if (const auto* udp = eth.find_pdu<Tins::UDP>()) {
      acc += std::uint64_t{udp->sport()} + udp->dport();
      return true;
    }
    if (const auto* icmp = eth.find_pdu<Tins::ICMPv6>()) {
      acc += static_cast<std::uint8_t>(icmp->type());
      return true;
    }
    return false;
  } catch (const Tins::exception_base&) {
    return false;
  }
}

void BM_libtins_parse_mixed(benchmark::State& state) {
  std::uint64_t ok = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    ok = 0;
    acc = 0;
    for (const auto& f : g_capture.frames) ok += tins_parse_mixed(g_capture.bytes(f), acc) ? 1 : 0;
    benchmark::DoNotOptimize(acc);
    benchmark::DoNotOptimize(ok);
  }
  finish(state, ok, acc);
}
BENCHMARK(BM_libtins_parse_mixed)->Unit(benchmark::kMillisecond);

#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string path;
  if (argc >= 2) {
    path = argv[1];
  } else if (const char* env = std::getenv("ERSATZ_BENCH_PCAP"); env != nullptr && *env != '\0') {
    path = env;
  }
  if (path.empty() || argc > 2) {
    std::fprintf(stderr,
                 "usage: decode_bench [--benchmark_...] FILE.pcap\n"
                 "       ERSATZ_BENCH_PCAP=FILE.pcap decode_bench [--benchmark_...]\n"
                 "bench/make_flood_pcap.py writes a suitable capture.\n");
    return 2;
  }
  if (!load(path)) return 1;
  benchmark::AddCustomContext("pcap", path);
  benchmark::AddCustomContext("frames", std::to_string(g_capture.frames.size()));
  benchmark::AddCustomContext("frame_bytes", std::to_string(g_capture.arena.size()));
#if ERSATZ_BENCH_HAVE_LIBTINS
  benchmark::AddCustomContext("libtins", "yes");
#else
  benchmark::AddCustomContext("libtins", "no (not found at configure time)");
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
