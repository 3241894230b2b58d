// hostile_inject: the lab's attacker (issue 12, items 1 and 2). From one
// interface of a lab namespace it puts malformed and spoofed frames on the
// link towards a victim, at a fixed rate, while the victim runs an ersatz
// tool against a kernel peer. Every forged frame carries the attacker's own
// source MAC, so a test can count the genuine frames apart (nft matches
// `ether saddr`).
//
//   hostile_inject --iface IF --victim-mac MAC --victim-ip IP --gateway-ip IP
//                  [--attacker-mac MAC] [--mix hostile|arp-senders|frag-starts]
//                  [--count N] [--rate PPS] [--seed S] [--dead IP]...
//
// hostile (the default) cycles through seven kinds, each with variants
// chosen by a seeded generator:
//   quote-options  ICMP errors whose quoted header has options: any IHL
//                  from 6 to 15, zero-length options, options running past
//                  the header, NOP runs, a quote cut inside its options
//                  (CVE-2022-23093); the quote never names a real probe;
//   bad-ip         IPv4 with IHL < 5, IHL past the total length, a total
//                  length past the frame or under 20, a wrong checksum,
//                  version 5, zero-length or overlong options; inside, an
//                  exact echo reply to a real probe, so that a lax parser
//                  would count it;
//   bad-arp        ARP with wrong hardware or protocol types or lengths,
//                  and opcodes 0, 3, 255 and 65535;
//   garp-gateway   gratuitous ARP requests and replies that claim the
//                  gateway's address for the attacker's MAC;
//   spoof-reply    echo replies to a real probe from its target with the
//                  payload (cookie) changed, or with the probe's exact payload
//                  from another source (--dead addresses first);
//   wrong-quote    ICMP errors quoting a real probe with one field wrong:
//                  quoted source, destination, protocol, identifier or
//                  ports, or a quote cut short of the transport header;
//   fragments      overlapping pairs, teardrop pairs (the second inside
//                  the first), pairs whose end lies past 65535 bytes, and
//                  tiny 8-byte fragments that never complete; the pieces
//                  would make an echo reply to a real probe.
// "A real probe" is one the injector saw the victim send (it listens on the
// interface: echo requests and UDP), or, before it has seen one, a made-up
// echo request to the gateway.
//
// arp-senders sends ARP requests for the victim's address from COUNT
// distinct senders (addresses 198.18.64.0 upwards, distinct MACs);
// frag-starts sends COUNT first fragments (offset 0, MF) of echo requests
// to the victim from distinct sources. Both fill tables unless they are
// bounded (item 2).
//
// At the end it prints "sent N", "probes_seen N", "seconds S" and "kind NAME
// N" lines.
// Only for the lab: tests/lab/hostile_lab.sh runs it inside namespaces it
// created, with 198.18.0.0/15 addresses only.
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ersatz/base/bytes.hpp"
#include "ersatz/link/device.hpp"
#include "ersatz/link/open_device.hpp"
#include "ersatz/wire/address.hpp"
#include "ersatz/wire/checksum.hpp"

namespace {

using namespace ersatz;
using wire::Ipv4Address;
using wire::MacAddress;
using Frame = std::vector<std::byte>;

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_arp = 0x0806;
constexpr std::uint8_t proto_icmp = 1;
constexpr std::uint8_t proto_tcp = 6;
constexpr std::uint8_t proto_udp = 17;

struct Options {
  std::string iface;
  MacAddress victim_mac;
  Ipv4Address victim_ip;
  Ipv4Address gateway_ip;
  MacAddress attacker_mac{{0x02, 0xe5, 0x66, 0x66, 0x66, 0x66}};
  std::string mix = "hostile";
  std::uint64_t count = 10000;
  double rate = 20000;
  std::uint64_t seed = 1;
  std::vector<Ipv4Address> dead;
};

/// Appends a byte sequence piece by piece.
class Writer {
 public:
  explicit Writer(Frame& f) : f_(f) {}
  Writer& u8(std::uint8_t v) {
    f_.push_back(static_cast<std::byte>(v));
    return *this;
  }
  Writer& be16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xff); }
  Writer& be32(std::uint32_t v) {
    return be16(static_cast<std::uint16_t>(v >> 16)).be16(v & 0xffff);
  }
  Writer& mac(const MacAddress& m) {
    for (auto o : m.octets()) u8(o);
    return *this;
  }
  Writer& ip(Ipv4Address a) { return be32(a.value()); }
  Writer& bytes(ConstBytes b) {
    f_.insert(f_.end(), b.begin(), b.end());
    return *this;
  }

 private:
  Frame& f_;
};

/// An IPv4 header as the forger wants it, right or wrong.
struct IpSpec {
  std::uint8_t version = 4;
  std::uint8_t ihl = 5;                ///< as written, whatever the options' length
  std::optional<std::uint16_t> total;  ///< default: header + payload
  std::uint16_t ident = 0;
  std::uint16_t frag = 0;  ///< flags and offset, as on the wire
  std::uint8_t ttl = 64;
  std::uint8_t protocol = proto_icmp;
  Ipv4Address src;
  Ipv4Address dst;
  Frame options;  ///< written as given (the IHL is not derived from it)
  bool bad_checksum = false;
};

void put_ipv4(Frame& f, const IpSpec& s, ConstBytes payload) {
  const std::size_t at = f.size();
  const std::size_t header = 20 + s.options.size();
  Writer w(f);
  w.u8(static_cast<std::uint8_t>(s.version << 4 | (s.ihl & 0xf)))
      .u8(0)
      .be16(s.total.value_or(static_cast<std::uint16_t>(header + payload.size())))
      .be16(s.ident)
      .be16(s.frag)
      .u8(s.ttl)
      .u8(s.protocol)
      .be16(0)
      .ip(s.src)
      .ip(s.dst)
      .bytes(s.options);
  std::uint16_t sum = wire::checksum::compute(ConstBytes(f).subspan(at, header));
  if (s.bad_checksum) sum = static_cast<std::uint16_t>(sum ^ 0x5a5a);
  store_be16(MutBytes(f), at + 10, sum);
  w.bytes(payload);
}

/// An ICMP message with a correct checksum.
Frame icmp(std::uint8_t type, std::uint8_t code, std::uint32_t rest, ConstBytes data) {
  Frame m;
  Writer(m).u8(type).u8(code).be16(0).be32(rest).bytes(data);
  store_be16(MutBytes(m), 2, wire::checksum::compute(m));
  return m;
}

/// A probe the victim sent: its IPv4 datagram.
struct Probe {
  Frame ip;
  std::size_t ihl_bytes() const { return (std::to_integer<std::size_t>(ip[0]) & 0xf) * 4; }
  std::uint8_t protocol() const { return std::to_integer<std::uint8_t>(ip[9]); }
  Ipv4Address src() const { return Ipv4Address(load_be32(ip, 12)); }
  Ipv4Address dst() const { return Ipv4Address(load_be32(ip, 16)); }
  ConstBytes transport() const { return ConstBytes(ip).subspan(ihl_bytes()); }
  bool is_echo() const {
    return protocol() == proto_icmp && transport().size() >= 8 &&
           std::to_integer<int>(transport()[0]) == 8;
  }
};

class Forger {
 public:
  explicit Forger(const Options& o) : o_(o), rng_(o.seed) {
    // Until a real probe is seen: an echo request to the gateway.
    Frame data(56);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i);
    Probe p;
    IpSpec s;
    s.src = o.victim_ip;
    s.dst = o.gateway_ip;
    s.ident = 1;
    put_ipv4(p.ip, s, icmp(8, 0, 0x42420001, data));
    probes_.push_back(std::move(p));
  }

  /// A frame the victim sent: kept as a template when it is a probe.
  void saw(ConstBytes frame) {
    if (frame.size() < 14 + 28 || load_be16(frame, 12) != ethertype_ipv4) return;
    if (MacAddress::from_bytes(frame.subspan(6, 6)) != o_.victim_mac) return;
    const ConstBytes ip = frame.subspan(14);
    const std::size_t ihl = (std::to_integer<std::size_t>(ip[0]) & 0xf) * 4;
    const std::uint8_t proto = std::to_integer<std::uint8_t>(ip[9]);
    const std::size_t total = std::min<std::size_t>(load_be16(ip, 2), ip.size());
    if (ihl < 20 || total < ihl + 8 || (load_be16(ip, 6) & 0x3fff) != 0) return;
    if (!(proto == proto_udp || (proto == proto_icmp && std::to_integer<int>(ip[ihl]) == 8)))
      return;
    Probe p;
    p.ip.assign(ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(total));
    if (seen_ == 0) probes_.clear();
    ++seen_;
    if (probes_.size() < 64) {
      probes_.push_back(std::move(p));
    } else {
      probes_[seen_ % 64] = std::move(p);
    }
  }
  std::uint64_t probes_seen() const { return seen_; }

  /// The next frames of kind `kind` (some kinds make two).
  std::vector<Frame> make(std::string_view kind, std::uint64_t i) {
    if (kind == "quote-options") return {quote_options()};
    if (kind == "bad-ip") return {bad_ip()};
    if (kind == "bad-arp") return {bad_arp()};
    if (kind == "garp-gateway") return {garp_gateway()};
    if (kind == "spoof-reply") return {spoof_reply()};
    if (kind == "wrong-quote") return {wrong_quote()};
    if (kind == "fragments") return fragments();
    if (kind == "arp-senders") return {arp_sender(i)};
    if (kind == "frag-starts") return {frag_start(i)};
    return {};
  }

 private:
  std::uint32_t pick(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng_);
  }
  const Probe& probe() { return probes_[pick(static_cast<std::uint32_t>(probes_.size()))]; }
  /// A lab address that is nobody's: 198.18.96.0/20.
  Ipv4Address stranger() { return Ipv4Address(0xc6126000U + pick(4096)); }

  Frame eth(MacAddress dst, std::uint16_t type) const {
    Frame f;
    Writer(f).mac(dst).mac(o_.attacker_mac).be16(type);
    return f;
  }
  static Frame pad(Frame f) {
    if (f.size() < 60) f.resize(60);
    return f;
  }

  /// The echo reply a probe's target would send (used inside bad frames).
  static Frame reply_to(const Probe& p) {
    const ConstBytes t = p.transport();
    return icmp(0, 0, load_be32(t, 4), t.subspan(8));
  }

  Frame quote_options() {
    const Probe& p = probe();
    Frame options;
    const std::uint8_t ihl = static_cast<std::uint8_t>(6 + pick(10));
    const std::size_t len = (ihl - 5) * 4U;
    switch (pick(5)) {
      case 0:  // a zero-length option first
        options = {std::byte{0x44}, std::byte{0}};
        break;
      case 1:  // a length running past the header
        options = {std::byte{0x07}, std::byte{0xff}, std::byte{4}};
        break;
      case 2:  // NOPs throughout
        options.assign(len, std::byte{1});
        break;
      case 3:  // record route with pointers 0 and past the end
        options = {std::byte{0x07}, static_cast<std::byte>(len),
                   static_cast<std::byte>(pick(2) ? 0 : 0xfc)};
        break;
      default:  // noise
        options.resize(len);
        for (auto& b : options) b = static_cast<std::byte>(pick(256));
    }
    options.resize(len);
    IpSpec q;
    q.ihl = ihl;
    q.protocol = p.protocol();
    q.src = o_.victim_ip;
    // Never a real probe's quote: the destination is nobody's.
    q.dst = stranger();
    q.options = std::move(options);
    Frame quote;
    put_ipv4(quote, q, p.transport().first(8));
    if (pick(3) == 0) quote.resize(20 + pick(static_cast<std::uint32_t>(len)));  // cut inside
    const std::uint8_t type = pick(3) == 0 ? 11 : (pick(2) ? 3 : 12);
    return outer_error(type, static_cast<std::uint8_t>(pick(16)), quote);
  }

  Frame outer_error(std::uint8_t type, std::uint8_t code, ConstBytes quote) {
    IpSpec s;
    s.src = pick(2) ? o_.gateway_ip : stranger();
    s.dst = o_.victim_ip;
    Frame f = eth(o_.victim_mac, ethertype_ipv4);
    put_ipv4(f, s, icmp(type, code, 0, quote));
    return pad(std::move(f));
  }

  Frame bad_ip() {
    const Probe& p = probe();
    IpSpec s;
    s.src = p.dst();
    s.dst = o_.victim_ip;
    const Frame body = reply_to(p);
    switch (pick(9)) {
      case 0: s.ihl = static_cast<std::uint8_t>(pick(5)); break;  // IHL < 5
      case 1:
        s.ihl = 15;
        s.total = 40;
        break;                                                                // IHL past the total
      case 2: s.total = static_cast<std::uint16_t>(1400 + pick(100)); break;  // past the frame
      case 3: s.total = static_cast<std::uint16_t>(pick(20)); break;          // under 20
      case 4: s.bad_checksum = true; break;
      case 5: s.version = static_cast<std::uint8_t>(5 + pick(11)); break;
      case 6:  // a zero-length option
        s.ihl = 6;
        s.options = {std::byte{0x44}, std::byte{0}, std::byte{0}, std::byte{0}};
        break;
      case 7:  // an option longer than the header
        s.ihl = 6;
        s.options = {std::byte{0x07}, std::byte{40}, std::byte{4}, std::byte{0}};
        break;
      default:  // a one-byte "length" for a multi-byte option
        s.ihl = 6;
        s.options = {std::byte{0x83}, std::byte{1}, std::byte{0x83}, std::byte{1}};
    }
    Frame f = eth(o_.victim_mac, ethertype_ipv4);
    put_ipv4(f, s, body);
    return pad(std::move(f));
  }

  Frame arp(MacAddress eth_dst, std::uint16_t htype, std::uint16_t ptype, std::uint8_t hln,
            std::uint8_t pln, std::uint16_t op, const MacAddress& sha, Ipv4Address spa,
            const MacAddress& tha, Ipv4Address tpa) {
    Frame f = eth(eth_dst, ethertype_arp);
    Writer(f).be16(htype).be16(ptype).u8(hln).u8(pln).be16(op).mac(sha).ip(spa).mac(tha).ip(tpa);
    return pad(std::move(f));
  }

  Frame bad_arp() {
    std::uint16_t htype = 1, ptype = 0x0800, op = 2;
    std::uint8_t hln = 6, pln = 4;
    switch (pick(6)) {
      case 0: htype = static_cast<std::uint16_t>(2 + pick(30)); break;
      case 1: ptype = pick(2) ? 0x86dd : 0x0806; break;
      case 2: hln = static_cast<std::uint8_t>(pick(2) ? 0 : 8 + pick(248)); break;
      case 3: pln = static_cast<std::uint8_t>(pick(2) ? 0 : 16); break;
      case 4: op = std::array<std::uint16_t, 4>{0, 3, 255, 65535}[pick(4)]; break;
      default:
        hln = 255;
        pln = 255;
        break;
    }
    const MacAddress dst = pick(2) ? o_.victim_mac : MacAddress::broadcast();
    return arp(dst, htype, ptype, hln, pln, op, o_.attacker_mac, stranger(), o_.victim_mac,
               o_.victim_ip);
  }

  Frame garp_gateway() {
    const std::uint16_t op = pick(2) ? 1 : 2;
    return arp(MacAddress::broadcast(), 1, 0x0800, 6, 4, op, o_.attacker_mac, o_.gateway_ip,
               op == 1 ? MacAddress() : MacAddress::broadcast(), o_.gateway_ip);
  }

  Frame spoof_reply() {
    const Probe& p = probe();
    IpSpec s;
    s.dst = o_.victim_ip;
    Frame body;
    if (p.is_echo() && pick(2) == 0) {
      // From the target, with the payload's cookie changed.
      s.src = p.dst();
      body = reply_to(p);
      for (std::size_t k = 8; k < body.size(); ++k) body[k] ^= std::byte{0x5a};
      store_be16(MutBytes(body), 2, 0);
      store_be16(MutBytes(body), 2, wire::checksum::compute(body));
    } else {
      // The probe's exact reply, from somebody else.
      // Never the probe's own target: that would be a perfect reply.
      s.src = stranger();
      if (!o_.dead.empty() && pick(2)) {
        const Ipv4Address d = o_.dead[pick(static_cast<std::uint32_t>(o_.dead.size()))];
        if (d != p.dst()) s.src = d;
      }
      if (p.is_echo()) {
        body = reply_to(p);
      } else {
        body = icmp(0, 0, pick(1U << 31), p.transport().subspan(8));
      }
    }
    Frame f = eth(o_.victim_mac, ethertype_ipv4);
    put_ipv4(f, s, body);
    return pad(std::move(f));
  }

  Frame wrong_quote() {
    const Probe& p = probe();
    Frame quote(p.ip.begin(), p.ip.begin() + static_cast<std::ptrdiff_t>(
                                                 std::min(p.ip.size(), p.ihl_bytes() + 8)));
    const MutBytes q(quote);
    const std::size_t t = p.ihl_bytes();
    switch (pick(6)) {
      case 0: store_be32(q, 12, stranger().value()); break;  // quoted source
      case 1: store_be32(q, 16, stranger().value()); break;  // quoted destination
      case 2: store_u8(q, 9, proto_tcp); break;              // quoted protocol
      case 3:                                                // identifier, or UDP source port
        store_be16(q, t + (p.protocol() == proto_icmp ? 4 : 0),
                   static_cast<std::uint16_t>(
                       load_be16(q, t + (p.protocol() == proto_icmp ? 4 : 0)) ^ 0x4000));
        break;
      case 4:  // ICMP type, or UDP destination port
        if (p.protocol() == proto_icmp) {
          store_u8(q, t, 0);
        } else {
          store_be16(q, t + 2, static_cast<std::uint16_t>(load_be16(q, t + 2) ^ 0x4000));
        }
        break;
      default: quote.resize(t + pick(8)); break;  // cut short of the ports or identifier
    }
    const bool exceeded = pick(2) == 0;
    return outer_error(exceeded ? 11 : 3, exceeded ? 0 : static_cast<std::uint8_t>(pick(16)),
                       quote);
  }

  Frame fragment(const IpSpec& base, std::uint16_t offset8, bool more, ConstBytes data) {
    IpSpec s = base;
    s.frag = static_cast<std::uint16_t>((more ? 0x2000 : 0) | (offset8 & 0x1fff));
    Frame f = eth(o_.victim_mac, ethertype_ipv4);
    put_ipv4(f, s, data);
    return pad(std::move(f));
  }

  std::vector<Frame> fragments() {
    const Probe& p = probe();
    IpSpec s;
    s.src = p.dst();
    s.dst = o_.victim_ip;
    s.ident = static_cast<std::uint16_t>(pick(65536));
    Frame body = reply_to(p);
    if (body.size() < 48) body.resize(48);
    const ConstBytes b(body);
    switch (pick(4)) {
      case 0:  // overlap: 0..24 and 8..48
        return {fragment(s, 0, true, b.first(24)), fragment(s, 1, false, b.subspan(8, 40))};
      case 1:  // teardrop: 0..48 MF, then 16..20 inside it, last
        return {fragment(s, 0, true, b.first(48)), fragment(s, 2, false, b.subspan(16, 4))};
      case 2:  // past 65535: the last fragment ends at 65512 + 100
        return {fragment(s, 0, true, b.first(40)),
                fragment(s, 8189, false, Frame(100, std::byte{0x41}))};
      default:  // tiny: 8 bytes somewhere, never completed
        return {fragment(s, static_cast<std::uint16_t>(pick(512)), true, b.first(8))};
    }
  }

  Frame arp_sender(std::uint64_t i) {
    const auto n = static_cast<std::uint32_t>(i);
    const MacAddress sha({0x02, 0xe5, 0x77, static_cast<std::uint8_t>(n >> 16),
                          static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
    return arp(MacAddress::broadcast(), 1, 0x0800, 6, 4, 1, sha, Ipv4Address(0xc6124000U + n),
               MacAddress(), o_.victim_ip);
  }

  Frame frag_start(std::uint64_t i) {
    const auto n = static_cast<std::uint32_t>(i);
    IpSpec s;
    s.src = Ipv4Address(0xc6124000U + n);
    s.dst = o_.victim_ip;
    s.ident = static_cast<std::uint16_t>(n);
    Frame data(64, std::byte{0x61});
    return fragment(s, 0, true, icmp(8, 0, n, data));
  }

  const Options& o_;
  std::mt19937_64 rng_;
  std::vector<Probe> probes_;
  std::uint64_t seen_ = 0;
};

int usage() {
  fmt::print(stderr,
             "usage: hostile_inject --iface IF --victim-mac MAC --victim-ip IP --gateway-ip IP\n"
             "       [--attacker-mac MAC] [--mix hostile|arp-senders|frag-starts] [--count N]\n"
             "       [--rate PPS] [--seed S] [--dead IP]...\n");
  return 2;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  bool have_mac = false, have_ip = false, have_gw = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    const std::string v = argv[i + 1];
    if (a == "--iface") {
      o.iface = v;
    } else if (a == "--victim-mac" || a == "--attacker-mac") {
      auto m = MacAddress::parse(v);
      if (!m) return std::nullopt;
      (a == "--victim-mac" ? o.victim_mac : o.attacker_mac) = *m;
      have_mac = have_mac || a == "--victim-mac";
    } else if (a == "--victim-ip" || a == "--gateway-ip" || a == "--dead") {
      auto ip = Ipv4Address::parse(v);
      if (!ip) return std::nullopt;
      if (a == "--victim-ip") o.victim_ip = *ip, have_ip = true;
      if (a == "--gateway-ip") o.gateway_ip = *ip, have_gw = true;
      if (a == "--dead") o.dead.push_back(*ip);
    } else if (a == "--mix") {
      o.mix = v;
    } else if (a == "--count") {
      o.count = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--rate") {
      o.rate = std::strtod(v.c_str(), nullptr);
    } else if (a == "--seed") {
      o.seed = std::strtoull(v.c_str(), nullptr, 10);
    } else {
      return std::nullopt;
    }
  }
  if (o.iface.empty() || !have_mac || !have_ip || !have_gw) return std::nullopt;
  if (o.mix != "hostile" && o.mix != "arp-senders" && o.mix != "frag-starts") return std::nullopt;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const auto opt = parse(argc, argv);
  if (!opt) return usage();
  link::DeviceOptions dev_opt;
  dev_opt.ignore_outgoing = true;
  dev_opt.receive = opt->mix == "hostile";  // it learns probes only for that mix
  std::string detail;
  auto dev = link::open_device(opt->iface, dev_opt, &detail);
  if (!dev) {
    fmt::print(stderr, "hostile_inject: {}: {} {}\n", opt->iface, dev.error().message(), detail);
    return 1;
  }
  link::Device& d = **dev;
  Forger forger(*opt);
  static constexpr std::array<std::string_view, 7> hostile_kinds{
      "quote-options", "bad-ip",      "bad-arp",  "garp-gateway",
      "spoof-reply",   "wrong-quote", "fragments"};
  std::vector<std::uint64_t> per_kind(hostile_kinds.size());

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = 0;
  for (std::uint64_t i = 0; sent < opt->count; ++i) {
    // Learn from what the victim sent since the last frame.
    for (int k = 0; k < 64 && dev_opt.receive; ++k) {
      auto f = d.receive(link::no_wait);
      if (!f || !*f) break;
      forger.saw((*f)->data);
    }
    const std::size_t kind_index = i % hostile_kinds.size();
    const std::string_view kind = opt->mix == "hostile" ? hostile_kinds[kind_index] : opt->mix;
    for (const Frame& f : forger.make(kind, i)) {
      if (auto r = link::transmit_copy(d, f); !r) {
        // A full socket buffer: wait a little and go on.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      ++sent;
      if (opt->mix == "hostile") ++per_kind[kind_index];
    }
    if ((i & 31) == 31) {
      if (auto r = d.flush(); !r) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (opt->rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(sent) / opt->rate));
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
  }
  (void)d.flush();
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("sent {}\nprobes_seen {}\nseconds {:.3f}\n", sent, forger.probes_seen(), took);
  if (opt->mix == "hostile") {
    for (std::size_t k = 0; k < hostile_kinds.size(); ++k)
      fmt::print("kind {} {}\n", hostile_kinds[k], per_kind[k]);
  }
  return 0;
}
