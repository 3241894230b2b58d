#include "ersatz/decode/dissect.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include <cstdlib>
#include <ctime>
#include <fstream>

#include "ersatz/link/pcap_file.hpp"
#include "support.hpp"

namespace ersatz::decode {
namespace {

using test::Bytes;
using test::cb;

class DecodeTest : public ::testing::Test {
 protected:
  // tcpdump prints local time; the golden files were made with TZ=UTC.
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> decode_sample(bool link_header) {
  auto r = link::PcapReader::open(test::data_path("sample.pcap"));
  std::vector<std::string> out;
  for (std::uint64_t n = 1;; ++n) {
    auto rec = r->next();
    if (!rec || !*rec) break;
    const Frame f{n, (*rec)->ts, (*rec)->wire_len, (*rec)->data};
    fmt::memory_buffer buf;
    format_text(buf, f, dissect(f.data, f.wire_len), TextOptions{link_header});
    out.push_back(fmt::to_string(buf));
  }
  return out;
}

TEST_F(DecodeTest, MatchesTcpdumpOnRealCapture) {
  const auto want = lines_of(test::data_path("sample.tcpdump.txt"));
  const auto got = decode_sample(false);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "frame " << i + 1;
}

TEST_F(DecodeTest, MatchesTcpdumpDashEOnRealCapture) {
  const auto want = lines_of(test::data_path("sample.tcpdump-e.txt"));
  const auto got = decode_sample(true);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "frame " << i + 1;
}

std::string json(const Bytes& frame, std::uint32_t wire_len = 0) {
  const Frame f{7, Timestamp{1700000000, 5},
                wire_len ? wire_len : static_cast<std::uint32_t>(frame.size()), cb(frame)};
  fmt::memory_buffer out;
  format_json(out, f, dissect(f.data, f.wire_len));
  return fmt::to_string(out);
}

std::string line(const Bytes& frame) {
  const Frame f{1, Timestamp{0, 0}, static_cast<std::uint32_t>(frame.size()), cb(frame)};
  fmt::memory_buffer out;
  format_text(out, f, dissect(f.data, f.wire_len), TextOptions{});
  return fmt::to_string(out);
}

TEST_F(DecodeTest, JsonForEchoUsesWiresharkFieldNames) {
  const auto j = json(test::golden("icmp_echo_request").frame);
  for (const char* kv :
       {"\"frame.number\":7", "\"frame.time_epoch\":1700000000.000000005", "\"frame.len\":98",
        "\"eth.type\":2048", "\"ip.hdr_len\":20", "\"ip.flags.df\":true", "\"ip.ttl\":64",
        "\"ip.checksum.status\":\"good\"", "\"ip.src\":\"198.18.0.1\"", "\"icmp.type\":8",
        "\"icmp.ident\":5694", "\"icmp.seq\":1", "\"icmp.checksum.status\":\"good\""}) {
    EXPECT_NE(j.find(kv), std::string::npos) << kv << " in " << j;
  }
  EXPECT_EQ(j.find("malformed"), std::string::npos);
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.back(), '}');
}

TEST_F(DecodeTest, JsonForErrorsCarriesTheQuote) {
  const auto j = json(test::golden("icmp_time_exceeded").frame);
  for (const char* kv : {"\"icmp.type\":11", "\"icmp.quoted.ip.dst\":\"198.18.1.2\"",
                         "\"icmp.quoted.ip.proto\":1", "\"icmp.quoted.icmp.type\":8",
                         "\"icmp.quoted.icmp.ident\":5696", "\"icmp.quoted.icmp.seq\":1"}) {
    EXPECT_NE(j.find(kv), std::string::npos) << kv << " in " << j;
  }
  EXPECT_NE(json(test::golden("icmp_unreach_frag_needed_mtu1280").frame).find("\"icmp.mtu\":1280"),
            std::string::npos);
  EXPECT_NE(json(test::golden("ip_option_rr_echo_request").frame).find("\"ip.opt.type\":[1,7]"),
            std::string::npos);
  EXPECT_NE(
      json(test::golden("vlan42_arp_request").frame).find("\"vlan.id\":42,\"vlan.priority\":0"),
      std::string::npos);
}

TEST_F(DecodeTest, LaterFragmentHasNoIcmpFields) {
  const auto j = json(test::golden("ip_last_fragment_echo_request").frame);
  EXPECT_NE(j.find("\"ip.frag_offset\":370"), std::string::npos) << j;
  EXPECT_EQ(j.find("icmp."), std::string::npos) << j;
  // The first fragment's ICMP checksum covers data not in this frame.
  const auto first = json(test::golden("ip_first_fragment_echo_request").frame);
  EXPECT_NE(first.find("\"icmp.seq\":1"), std::string::npos);
  EXPECT_EQ(first.find("icmp.checksum.status"), std::string::npos);
}

TEST_F(DecodeTest, DamagedFramesAreMarkedNotFatal) {
  Bytes f = test::golden("icmp_echo_request").frame;
  f[14 + 10] ^= std::byte{0xff};  // IP checksum
  EXPECT_NE(json(f).find("\"ip.checksum.status\":\"bad\""), std::string::npos);
  EXPECT_NE(line(f).find("[bad ip cksum "), std::string::npos) << line(f);

  Bytes g = test::golden("icmp_echo_request").frame;
  g[14 + 20 + 2] ^= std::byte{0xff};  // ICMP checksum
  EXPECT_NE(json(g).find("\"icmp.checksum.status\":\"bad\""), std::string::npos);
  EXPECT_NE(line(g).find("[bad icmp cksum "), std::string::npos);

  // Cut in the ICMP header: IP fields survive, ICMP is marked.
  Bytes cut = test::golden("icmp_echo_request").frame;
  cut.resize(14 + 20 + 5);
  EXPECT_NE(json(cut, 98).find("\"malformed\":\"icmp: truncated\""), std::string::npos)
      << json(cut, 98);
  EXPECT_NE(json(cut, 98).find("\"ip.src\":\"198.18.0.1\""), std::string::npos);
  EXPECT_NE(line(cut).find("198.18.0.254:  [|icmp]"), std::string::npos) << line(cut);

  // Every prefix of every golden frame decodes without failing.
  for (const char* name : {"arp_request", "icmp_time_exceeded", "vlan42_icmp_echo_request",
                           "ip_option_rr_echo_reply", "icmp_unreach_frag_needed_mtu1280"}) {
    const Bytes full = test::golden(name).frame;
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      const auto j = json(part, static_cast<std::uint32_t>(full.size()));
      ASSERT_EQ(j.back(), '}');
      if (n < full.size() && n >= 14) {
        EXPECT_NE(j.find("\"malformed\""), std::string::npos)
            << name << " cut at " << n << ": " << j;
      }
      ASSERT_FALSE(line(part).empty());
    }
  }
}

TEST_F(DecodeTest, UnknownEthertypeShowsLinkHeader) {
  Bytes f = test::from_hex("ffffffffffff 020000000001 88b5 00000000");
  f.resize(60);
  // ... followed, as tcpdump's default print does, by a hex and ASCII dump
  // of what it cannot decode (checked against tcpdump 4.99.3).
  EXPECT_EQ(line(f),
            "00:00:00.000000 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5), "
            "length 60: "
            "\n\t0x0000:  0000 0000 0000 0000 0000 0000 0000 0000  ................"
            "\n\t0x0010:  0000 0000 0000 0000 0000 0000 0000 0000  ................"
            "\n\t0x0020:  0000 0000 0000 0000 0000 0000 0000       ..............");
  TextOptions raw;
  raw.raw_dump = true;  // -x, -X, -A: the caller dumps the frame instead
  fmt::memory_buffer out;
  format_text(out, Frame{1, Timestamp{0, 0}, 60, cb(f)}, dissect(cb(f), 60), raw);
  EXPECT_EQ(fmt::to_string(out),
            "00:00:00.000000 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5), "
            "length 60: ");
  EXPECT_EQ(line(Bytes(5)), "00:00:00.000000  [|ether]");
}

}  // namespace
}  // namespace ersatz::decode

// ---------------------------------------------------------------- -t and -x

namespace ersatz::decode {
namespace {

std::string stamp(Timestamp ts, TimeStyle style, Timestamp ref = {}) {
  fmt::memory_buffer out;
  TextOptions o;
  o.time = style;
  o.reference = ref;
  format_timestamp(out, ts, o);
  return std::string(out.data(), out.size());
}

TEST(Timestamps, EveryTcpdumpStyle) {
  const Timestamp ts{1795879365, 967956123};
  EXPECT_EQ(stamp(ts, TimeStyle::none), "");
  EXPECT_EQ(stamp(ts, TimeStyle::unix_seconds), "1795879365.967956 ");
  // Deltas are signed and printed as a time of day, in UTC.
  EXPECT_EQ(stamp(ts, TimeStyle::since_previous, Timestamp{1795879365, 967933000}),
            " 00:00:00.000023 ");
  EXPECT_EQ(stamp(Timestamp{1795879363, 0}, TimeStyle::since_first, Timestamp{1795879365, 0}),
            "-00:00:02.000000 ");
  // Seconds with the top bit of 32 set: tcpdump cannot convert them.
  EXPECT_EQ(stamp(Timestamp{0x80000001, 0}, TimeStyle::unix_seconds), "[Error converting time] ");
}

TEST(Timestamps, AZeroReferenceWaitsForTheNextFrame) {
  TimeReference r;
  EXPECT_EQ(r.before(Timestamp{}), Timestamp{});
  r.after(Timestamp{}, TimeStyle::since_first);
  // The frame at the epoch did not set it: the next one does.
  EXPECT_EQ(r.before(Timestamp{5, 0}), (Timestamp{5, 0}));
  r.after(Timestamp{5, 0}, TimeStyle::since_first);
  EXPECT_EQ(r.before(Timestamp{9, 0}), (Timestamp{5, 0}));
  r.after(Timestamp{9, 0}, TimeStyle::since_previous);
  EXPECT_EQ(r.before(Timestamp{10, 0}), (Timestamp{9, 0}));
}

std::string raw(const std::vector<std::uint8_t>& bytes, RawDump kind, bool with_link,
                std::size_t link = 14) {
  std::vector<std::byte> b(bytes.size());
  std::memcpy(b.data(), bytes.data(), bytes.size());
  fmt::memory_buffer out;
  format_raw(out, ConstBytes(b.data(), b.size()), link, kind, with_link);
  return std::string(out.data(), out.size());
}

TEST(RawDumps, HexHexAsciiAndAsciiAsTcpdump) {
  std::vector<std::uint8_t> f(14, 0xee);
  for (const char c : {'A', 'B', ' ', 'c', '\r', '\n', '\x01', 'z', 'q'})
    f.push_back(static_cast<std::uint8_t>(c));
  EXPECT_EQ(raw(f, RawDump::hex, false), "\n\t0x0000:  4142 2063 0d0a 017a 71");
  EXPECT_EQ(raw(f, RawDump::hex_ascii, false),
            "\n\t0x0000:  4142 2063 0d0a 017a 71                   AB.c...zq");
  // A CR before LF is dropped; LF and space are kept; the rest is '.'.
  EXPECT_EQ(raw(f, RawDump::ascii, false), "\nAB c\n.zq");
  // With the link header: 23 bytes, two lines.
  EXPECT_EQ(raw(f, RawDump::hex, true),
            "\n\t0x0000:  eeee eeee eeee eeee eeee eeee eeee 4142"
            "\n\t0x0010:  2063 0d0a 017a 71");
  // Nothing after the link header: nothing at all.
  EXPECT_EQ(raw(std::vector<std::uint8_t>(14, 1), RawDump::hex, false), "");
}

}  // namespace
}  // namespace ersatz::decode
