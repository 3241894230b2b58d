// The run-time libpcap loader: the errors when the library is missing or is
// not libpcap, and the filter compiler it offers, held to libpcap's own
// interpreter (this test links libpcap; the library and the tool do not).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <string>

#include "ersatz/base/shared_library.hpp"
#include "ersatz/link/libpcap_device.hpp"
#include "ersatz/link/pcap_library.hpp"
#include "support.hpp"

namespace ersatz::link {
namespace {

using test::Bytes;

TEST(PcapLibrary, MissingLibraryIsNotInstalled) {
  std::string detail;
  auto lib = PcapLibrary::load("/nonexistent/ersatz/libpcap.so.0.8", &detail);
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error(), PcapLibraryError::not_installed);
  // The one line a tool prints, naming the package to install.
  EXPECT_EQ(lib.error().message(), "libpcap is not installed (apt install libpcap0.8)");
  EXPECT_EQ(lib.error().message(), pcap_not_installed);
  // The loader's own reason stays available for a closer look.
  EXPECT_NE(detail.find("/nonexistent/ersatz/libpcap.so.0.8"), std::string::npos) << detail;
  EXPECT_EQ(lib.error(), PcapLibraryError::not_installed);
}

TEST(PcapLibrary, AFileThatIsNoLibraryIsNotInstalled) {
  auto lib = PcapLibrary::load(ERSATZ_TEST_DATA "/sample.pcap");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error(), PcapLibraryError::not_installed);
}

TEST(PcapLibrary, ALibraryWithoutPcapFunctionsIsRefused) {
  // libc is loaded in every process and exports no pcap_* function.
  std::string detail;
  auto lib = PcapLibrary::load("libc.so.6", &detail);
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error(), PcapLibraryError::missing_entry_point);
  EXPECT_NE(lib.error().message().find("libpcap"), std::string::npos);
  EXPECT_NE(detail.find("libc.so.6"), std::string::npos) << detail;
}

TEST(PcapLibrary, ErrorCategory) {
  EXPECT_STREQ(pcap_library_category().name(), "pcap-library");
  for (auto e : {PcapLibraryError::not_installed, PcapLibraryError::missing_entry_point,
                 PcapLibraryError::not_available}) {
    EXPECT_FALSE(make_error_code(e).message().empty());
  }
}

// libpcap0.8 is installed wherever these tests are built (this target
// links it), so the process's library loads, and it is the same one.
TEST(PcapLibrary, TheProcessLibraryLoadsOnce) {
  auto a = PcapLibrary::get();
  ASSERT_TRUE(a) << a.error().message();
  auto b = PcapLibrary::get();
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ((*a)->version(), pcap_lib_version());
}

TEST(PcapLibrary, LoadsByName) {
  auto lib = PcapLibrary::load("libpcap.so.0.8");
  ASSERT_TRUE(lib) << lib.error().message();
  EXPECT_EQ((*lib)->version().rfind("libpcap version ", 0), 0u) << (*lib)->version();
}

TEST(SharedLibrary, SymbolsAndMissingOnes) {
  auto libc = SharedLibrary::open("libc.so.6");
  ASSERT_TRUE(libc);
  int (*abs_fn)(int) = nullptr;
  ASSERT_TRUE(libc->bind("abs", abs_fn));
  EXPECT_EQ(abs_fn(-5), 5);
  EXPECT_FALSE(libc->bind("ersatz_no_such_symbol", abs_fn));
  EXPECT_EQ(abs_fn, nullptr);
  SharedLibrary moved = std::move(*libc);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(*libc);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(libc->symbol("abs"), nullptr);
}

Bytes frame(std::uint16_t type, std::uint8_t ip_proto, std::size_t len = 60) {
  Bytes f(len, std::byte{0});
  f[0] = std::byte{0xff};
  if (len >= 14) store_be16(MutBytes(f.data(), f.size()), 12, type);
  if (len >= 15) f[14] = std::byte{0x45};
  if (len >= 24) f[23] = std::byte{ip_proto};
  return f;
}

bool libpcap_passes(const BpfProgram& prog, const Bytes& f, std::uint32_t wire_len) {
  std::vector<bpf_insn> insns;
  for (const auto& i : prog) insns.push_back(bpf_insn{i.code, i.jt, i.jf, i.k});
  return bpf_filter(insns.data(), reinterpret_cast<const u_char*>(f.data()), wire_len,
                    static_cast<u_int>(f.size())) != 0;
}

TEST(PcapFilter, CompilesAndMatchesAsLibpcapDoes) {
  auto filter = PcapFilter::compile("icmp or arp");
  ASSERT_TRUE(filter) << filter.error().message();
  EXPECT_FALSE(filter->program().empty());
  const struct {
    const char* what;
    Bytes f;
    bool passes;
  } cases[] = {
      {"icmp", frame(0x0800, 1), true},
      {"arp", frame(0x0806, 0), true},
      {"udp", frame(0x0800, 17), false},
      {"ipv6", frame(0x86dd, 58), false},
      {"cut before the protocol", frame(0x0800, 1, 20), false},
      {"empty", Bytes{}, false},
  };
  for (const auto& c : cases) {
    const auto wire_len = static_cast<std::uint32_t>(c.f.size());
    EXPECT_EQ(filter->matches({c.f.data(), c.f.size()}, wire_len), c.passes) << c.what;
    EXPECT_EQ(libpcap_passes(filter->program(), c.f, wire_len), c.passes) << c.what;
  }
}

TEST(PcapFilter, CompilesForAnotherLibraryAndLinkType) {
  auto lib = PcapLibrary::load("libpcap.so.0.8");
  ASSERT_TRUE(lib);
  // DLT_RAW (12): IPv4 from the first byte, no Ethernet header.
  auto filter = PcapFilter::compile(**lib, "icmp", 12);
  ASSERT_TRUE(filter) << filter.error().message();
  Bytes ip(28, std::byte{0});
  ip[0] = std::byte{0x45};
  ip[9] = std::byte{1};
  EXPECT_TRUE(filter->matches({ip.data(), ip.size()}, 28));
  ip[9] = std::byte{17};
  EXPECT_FALSE(filter->matches({ip.data(), ip.size()}, 28));
}

TEST(LibpcapDevice, OpensThroughAGivenLibrary) {
  auto lib = PcapLibrary::load("libpcap.so.0.8");
  ASSERT_TRUE(lib);
  std::string detail;
  // Without privileges EPERM; with them ENODEV: either way libpcap was
  // asked through the table, and answered.
  auto dev = LibpcapDevice::open(**lib, "ez-none-0", DeviceOptions{}, &detail);
  ASSERT_FALSE(dev);
  EXPECT_TRUE(is_permission_error(dev.error()) || dev.error() == std::errc::no_such_device ||
              dev.error() == RawError::pcap_failure)
      << dev.error().message() << " " << detail;
  EXPECT_FALSE(detail.empty());
}

}  // namespace
}  // namespace ersatz::link
