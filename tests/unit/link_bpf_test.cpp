// The hand-built stack filter against libpcap's compiler: both programs run
// in libpcap's BPF interpreter over the same frames and must agree. Plus
// the unprivileged corners of the raw-device API.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include "ersatz/link/af_packet.hpp"
#include "ersatz/link/bpf.hpp"
#include "ersatz/link/open_device.hpp"
#include "support.hpp"

namespace ersatz::link {
namespace {

using test::Bytes;
using wire::MacAddress;

const MacAddress me({0x02, 0xe5, 0x00, 0x00, 0x00, 0x01});
const MacAddress other({0x02, 0xe5, 0x00, 0x00, 0x00, 0x02});

Bytes frame(MacAddress dst, std::uint16_t type, std::uint8_t ip_proto = 0, std::size_t len = 60) {
  Bytes f(len, std::byte{0});
  if (len >= 6) dst.write(MutBytes(f.data(), 6));
  if (len >= 12) other.write(MutBytes(f.data() + 6, 6));
  if (len >= 14) store_be16(MutBytes(f.data(), f.size()), 12, type);
  if (len >= 15) f[14] = std::byte{0x45};
  if (len >= 24) f[23] = std::byte{ip_proto};
  return f;
}

bool passes(const BpfProgram& prog, const Bytes& f) {
  std::vector<bpf_insn> insns;
  for (const auto& i : prog) insns.push_back(bpf_insn{i.code, i.jt, i.jf, i.k});
  const auto* data = reinterpret_cast<const u_char*>(f.data());
  const auto n = static_cast<u_int>(f.size());
  return bpf_filter(insns.data(), data, n, n) != 0;
}

std::vector<std::pair<std::string, Bytes>> corpus() {
  const MacAddress bcast = MacAddress::broadcast();
  const MacAddress near1({0x02, 0xe5, 0xff, 0xff, 0xff, 0xff});  // my first 2, bcast's last 4
  const MacAddress near2({0xff, 0xff, 0x00, 0x00, 0x00, 0x01});  // bcast's first 2, my last 4
  const MacAddress mcast({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});
  return {
      {"arp request, broadcast", frame(bcast, 0x0806)},
      {"arp reply to me", frame(me, 0x0806)},
      {"arp reply to another", frame(other, 0x0806)},
      {"icmp to me", frame(me, 0x0800, 1)},
      {"icmp to another", frame(other, 0x0800, 1)},
      {"icmp to broadcast", frame(bcast, 0x0800, 1)},
      {"icmp to multicast", frame(mcast, 0x0800, 1)},
      {"udp to me", frame(me, 0x0800, 17)},
      {"tcp to me", frame(me, 0x0800, 6)},
      {"ipv6 to me", frame(me, 0x86dd, 58)},
      {"rarp to me", frame(me, 0x8035)},
      {"802.1Q tag left in the frame", frame(me, 0x8100, 1)},
      {"near miss: first half mine", frame(near1, 0x0800, 1)},
      {"near miss: last half mine", frame(near2, 0x0800, 1)},
      {"cut before the type", frame(me, 0x0800, 1, 13)},
      {"cut before the protocol", frame(me, 0x0800, 1, 23)},
      {"cut right after the protocol", frame(me, 0x0800, 1, 24)},
      {"arp, header only", frame(me, 0x0806, 0, 14)},
      {"empty", Bytes{}},
  };
}

void agree(const BpfProgram& ours, const std::string& expression) {
  auto theirs = compile_filter(expression);
  ASSERT_TRUE(theirs) << expression;
  for (const auto& [name, f] : corpus()) {
    EXPECT_EQ(passes(ours, f), passes(*theirs, f)) << name << " under '" << expression << "'";
  }
}

TEST(StackFilter, MatchesLibpcapArpOrIcmp) { agree(arp_or_icmp_filter(), "arp or icmp"); }

TEST(StackFilter, MatchesLibpcapToMyMacOrBroadcast) {
  agree(arp_or_icmp_filter(me),
        "(ether dst 02:e5:00:00:00:01 or ether broadcast) and (arp or icmp)");
}

TEST(StackFilter, AcceptsWhatTheStackNeedsAndNothingElse) {
  const auto p = arp_or_icmp_filter(me);
  EXPECT_TRUE(passes(p, frame(MacAddress::broadcast(), 0x0806)));
  EXPECT_TRUE(passes(p, frame(me, 0x0800, 1)));
  EXPECT_FALSE(passes(p, frame(other, 0x0800, 1)));
  EXPECT_FALSE(passes(p, frame(me, 0x0800, 17)));
}

TEST(StackFilter, KeepsFramesUpToTheSnapLength) {
  const auto p = arp_or_icmp_filter({}, 96);
  EXPECT_EQ(p.back(), bpf::stmt(bpf::ret | bpf::k, 0));
  EXPECT_EQ(p[p.size() - 2], bpf::stmt(bpf::ret | bpf::k, 96));
  EXPECT_LE(p.size(), 16u);
  EXPECT_LE(arp_or_icmp_filter(me).size(), 16u);
}

TEST(CompileFilter, ReportsLibpcapsMessage) {
  std::string detail;
  auto r = compile_filter("icmp and and", 262144, &detail);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), RawError::pcap_failure);
  EXPECT_NE(detail.find("syntax error"), std::string::npos) << detail;
}

TEST(CheckProgram, LengthLimits) {
  EXPECT_EQ(check_program({}).error(), std::errc::invalid_argument);
  EXPECT_EQ(check_program(BpfProgram(bpf_max_insns + 1, bpf::stmt(bpf::ret | bpf::k, 0))).error(),
            RawError::filter_too_long);
  EXPECT_TRUE(check_program(BpfProgram(bpf_max_insns, bpf::stmt(bpf::ret | bpf::k, 0))));
}

TEST(OpenDevice, BackendNames) {
  EXPECT_EQ(parse_backend("afpacket"), Backend::afpacket);
  EXPECT_EQ(parse_backend("pcap"), Backend::pcap);
  EXPECT_EQ(parse_backend("tap"), Backend::tap);
  EXPECT_EQ(parse_backend("auto"), Backend::automatic);
  EXPECT_EQ(parse_backend("netmap").error(), RawError::unknown_backend);
  for (auto b : {Backend::automatic, Backend::afpacket, Backend::pcap, Backend::tap}) {
    EXPECT_EQ(parse_backend(to_string(b)), b);
  }
}

TEST(OpenDevice, PermissionErrorsAreRecognised) {
  EXPECT_TRUE(is_permission_error({EPERM, std::system_category()}));
  EXPECT_TRUE(is_permission_error({EACCES, std::system_category()}));
  EXPECT_FALSE(is_permission_error({ENODEV, std::system_category()}));
  EXPECT_FALSE(is_permission_error(make_error_code(RawError::pcap_failure)));
  EXPECT_STREQ(raw_category().name(), "raw-device");
  EXPECT_FALSE(make_error_code(RawError::bad_block).message().empty());
}

// Without privileges this is EPERM; with them, ENODEV. Either way a clean
// error, never a half-open device.
TEST(OpenDevice, MissingInterfaceFailsCleanly) {
  for (auto b : {Backend::afpacket, Backend::pcap}) {
    DeviceOptions o;
    o.backend = b;
    std::string detail;
    auto d = open_device("ez-none-0", o, &detail);
    ASSERT_FALSE(d) << to_string(b);
    const auto& e = d.error();
    EXPECT_TRUE(is_permission_error(e) || e == std::errc::no_such_device ||
                e == RawError::pcap_failure)
        << to_string(b) << ": " << e.message() << " " << detail;
  }
}

TEST(OpenDevice, OverlongNamesAreRefused) {
  DeviceOptions o;
  o.backend = Backend::tap;
  auto d = open_device(std::string(40, 'x'), o);
  ASSERT_FALSE(d);
}

// serve's filter: every IPv4 datagram, not only ICMP (issue 9).
TEST(ServeFilter, MatchesLibpcapArpOrIp) {
  agree(arp_or_ipv4_filter(), "arp or ip");
  agree(arp_or_ipv4_filter(me), "(ether dst 02:e5:00:00:00:01 or ether broadcast) and (arp or ip)");
  const auto p = arp_or_ipv4_filter(me);
  EXPECT_TRUE(passes(p, frame(me, 0x0800, 17)));
  EXPECT_FALSE(passes(p, frame(other, 0x0800, 17)));
}

}  // namespace
}  // namespace ersatz::link
