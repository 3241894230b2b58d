// Crafts an ICMP echo request layer by layer (Ethernet, IPv4, ICMP), sends
// it over a Device and reads it back on the far end of the wire, checking
// every layer as a receiver would.
//
// The Device here is an in-memory pair, so the example runs anywhere and
// needs no privileges. A real interface differs in one line:
//   auto device = ersatz::link::open_device("eth0", {});  // CAP_NET_RAW
#include <array>
#include <cstdio>

#include <ersatz/link/memory_device.hpp>
#include <ersatz/wire/ethernet.hpp>
#include <ersatz/wire/icmpv4.hpp>
#include <ersatz/wire/ipv4.hpp>

using namespace ersatz;
using namespace ersatz::wire;

int main() {
  const auto src_mac = *MacAddress::parse("02:00:00:00:00:01");
  const auto dst_mac = *MacAddress::parse("02:00:00:00:00:02");
  const auto src_ip = *Ipv4Address::parse("198.18.0.1");
  const auto dst_ip = *Ipv4Address::parse("198.18.0.2");

  // The layers, outermost last: each Repr says how long it is, so the
  // frame's length is known before a byte is written.
  std::array<std::byte, 32> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i);
  const auto icmp = icmpv4::Repr::echo_request(/*ident=*/0x1234, /*seq=*/1, data);
  ipv4::Repr ip;
  ip.src = src_ip;
  ip.dst = dst_ip;
  ip.protocol = ipv4::Protocol::icmp;
  ip.ident = 1;
  ip.payload_len = icmp.buffer_len();
  ethernet::Repr eth;
  eth.src = src_mac;
  eth.dst = dst_mac;
  eth.ethertype = EtherType::ipv4;

  auto pair = link::make_memory_pair();
  const std::size_t len = eth.buffer_len(ip.buffer_len());
  // transmit() hands us the device's own buffer: the frame is written in
  // place, with no copy.
  auto sent = pair.a->transmit(len, [&](MutBytes frame) {
    eth.emit(frame, ip.buffer_len());
    MutBytes l3 = frame.subspan(eth.header_len());
    ip.emit(l3);
    icmp.emit(l3.subspan(ip.header_len(), icmp.buffer_len()));
  });
  if (!sent) {
    std::fprintf(stderr, "craft_echo: send: %s\n", sent.error().message().c_str());
    return 1;
  }

  // The far end: every view checks its length once, every Repr its fields
  // and checksums; nothing here can read out of bounds.
  auto rx = pair.b->receive(link::no_wait);
  if (!rx || !*rx) {
    std::fprintf(stderr, "craft_echo: nothing arrived\n");
    return 1;
  }
  auto eth_in = ethernet::Packet<ConstBytes>::checked((*rx)->data);
  if (!eth_in) return 1;
  auto ip_in = ipv4::Packet<ConstBytes>::checked(eth_in->payload());
  if (!ip_in) return 1;
  auto ip_repr = ipv4::Repr::parse(*ip_in);
  if (!ip_repr) return 1;
  auto icmp_in = icmpv4::Packet<ConstBytes>::checked(ip_in->payload());
  if (!icmp_in) return 1;
  auto icmp_repr = icmpv4::Repr::parse(*icmp_in);
  if (!icmp_repr) {
    std::fprintf(stderr, "craft_echo: %s\n", icmp_repr.error().message().c_str());
    return 1;
  }
  fmt::memory_buffer line;
  icmpv4::format(line, ip_in->payload(), ip_in->payload().size());
  std::array<char, 16> src{};
  std::array<char, 16> dst{};
  *ip_repr->src.format(src.data()) = '\0';
  *ip_repr->dst.format(dst.data()) = '\0';
  std::printf("%zu bytes on the wire: %s > %s: %.*s\n", (*rx)->data.size(), src.data(), dst.data(),
              static_cast<int>(line.size()), line.data());
  return icmp_repr->ident() == 0x1234 && icmp_repr->seq() == 1 ? 0 : 1;
}
