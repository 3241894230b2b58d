#include "ersatz/link/pcap_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <filesystem>

#include "support.hpp"

namespace ersatz::link {
namespace {

using test::Bytes;
using test::cb;

/// A pcap image built by hand, in either byte order.
class Image {
 public:
  Image(bool big_endian, bool nano, std::uint32_t snaplen = 65535, std::uint32_t linktype = 1)
      : be_(big_endian) {
    u32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
    u16(2);
    u16(4);
    u32(0);
    u32(0);
    u32(snaplen);
    u32(linktype);
  }
  Image& record(std::uint32_t sec, std::uint32_t frac, std::uint32_t caplen, std::uint32_t len,
                std::size_t data) {
    u32(sec);
    u32(frac);
    u32(caplen);
    u32(len);
    for (std::size_t i = 0; i < data; ++i) bytes.push_back(static_cast<std::byte>(i));
    return *this;
  }
  Bytes bytes;

 private:
  void u16(std::uint16_t v) {
    for (int i = 0; i < 2; ++i)
      bytes.push_back(static_cast<std::byte>(v >> (be_ ? 8 * (1 - i) : 8 * i)));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      bytes.push_back(static_cast<std::byte>(v >> (be_ ? 8 * (3 - i) : 8 * i)));
  }
  bool be_;
};

TEST(PcapReader, ReadsBothByteOrdersAndPrecisions) {
  for (bool be : {false, true}) {
    for (bool nano : {false, true}) {
      Image img(be, nano);
      img.record(1000, nano ? 123456789 : 123456, 60, 60, 60).record(1001, 5, 14, 100, 14);
      auto r = PcapReader::from_memory(cb(img.bytes));
      ASSERT_TRUE(r) << be << nano;
      EXPECT_EQ(r->nanosecond(), nano);
      EXPECT_EQ(r->linktype(), linktype_ethernet);
      auto a = r->next();
      ASSERT_TRUE(a && *a);
      EXPECT_EQ((*a)->ts.sec, 1000);
      EXPECT_EQ((*a)->ts.nsec, nano ? 123456789u : 123456000u);
      EXPECT_EQ((*a)->data.size(), 60u);
      EXPECT_EQ(r->offset(), 24u);
      auto b = r->next();
      ASSERT_TRUE(b && *b);
      EXPECT_EQ((*b)->wire_len, 100u);
      EXPECT_EQ((*b)->data.size(), 14u);
      EXPECT_EQ(r->offset(), 24u + 16 + 60);
      auto end = r->next();
      ASSERT_TRUE(end);
      EXPECT_FALSE(*end);
    }
  }
}

TEST(PcapReader, ReadsRealCapture) {
  auto r = PcapReader::open(test::data_path("sample.pcap"));
  ASSERT_TRUE(r);
  int n = 0;
  while (true) {
    auto rec = r->next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    ++n;
  }
  EXPECT_EQ(n, 33);
}

struct Hostile {
  const char* what;
  Image image;
  PcapError error;
  std::uint64_t offset;
};

TEST(PcapReader, HostileFilesGiveErrorsWithOffsets) {
  std::vector<Hostile> cases;
  cases.push_back({"caplen > snaplen",
                   Image(false, false, 100).record(0, 0, 60, 60, 60).record(0, 0, 101, 101, 101),
                   PcapError::caplen_over_snaplen, 100});
  cases.push_back({"caplen > len", Image(false, false).record(0, 0, 61, 60, 61),
                   PcapError::caplen_over_len, 24});
  cases.push_back({"huge caplen", Image(true, false, 0).record(0, 0, 0xffffffffU, 0xffffffffU, 0),
                   PcapError::caplen_too_large, 24});
  cases.push_back({"truncated data", Image(false, true).record(0, 0, 60, 60, 59),
                   PcapError::truncated_record, 24});
  Image cut_header(false, false);
  cut_header.record(0, 0, 10, 10, 10);
  cut_header.bytes.resize(cut_header.bytes.size() + 7, std::byte{0});
  cases.push_back({"truncated record header", cut_header, PcapError::truncated_record, 50});
  for (auto& c : cases) {
    auto r = PcapReader::from_memory(cb(c.image.bytes), "hostile.pcap");
    ASSERT_TRUE(r) << c.what;
    std::error_code ec;
    for (int i = 0; i < 10 && !ec; ++i) {
      auto rec = r->next();
      if (!rec) ec = rec.error();
    }
    EXPECT_EQ(ec, make_error_code(c.error)) << c.what;
    EXPECT_EQ(r->offset(), c.offset) << c.what;
    EXPECT_NE(describe(*r, ec).find("hostile.pcap: "), std::string::npos);
    EXPECT_NE(describe(*r, ec).find(fmt::format("at byte offset {}", c.offset)), std::string::npos);
  }
}

TEST(PcapReader, RejectsWhatIsNotPcap) {
  EXPECT_EQ(PcapReader::from_memory(cb(Bytes(10))).error(),
            make_error_code(PcapError::truncated_file_header));
  EXPECT_EQ(PcapReader::from_memory(cb(Bytes(24))).error(), make_error_code(PcapError::bad_magic));
  Bytes ng = test::from_hex("0a0d0d0a 1c000000 4d3c2b1a");
  ng.resize(28);
  EXPECT_EQ(PcapReader::from_memory(cb(ng)).error(), make_error_code(PcapError::pcapng));
  Image v3(false, false);
  v3.bytes[4] = std::byte{3};
  EXPECT_EQ(PcapReader::from_memory(cb(v3.bytes)).error(), make_error_code(PcapError::bad_version));
  EXPECT_EQ(PcapReader::open("/nonexistent/file.pcap").error(),
            std::errc::no_such_file_or_directory);
}

TEST(PcapReader, ReportsOtherLinkTypes) {
  Image sll(false, false, 65535, 113);
  auto r = PcapReader::from_memory(cb(sll.bytes));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->linktype(), 113u);
  EXPECT_EQ(linktype_name(113), "LINUX_SLL");
}

TEST(PcapWriter, RoundTripsThroughAFile) {
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("ersatz-pcap-{}.pcap", ::getpid());
  for (bool nano : {false, true}) {
    {
      auto w = PcapWriter::create(path.string(), nano);
      ASSERT_TRUE(w);
      for (std::uint32_t i = 0; i < 3000; ++i) {
        Bytes frame(60 + i % 1400, static_cast<std::byte>(i));
        ASSERT_TRUE(
            w->write(Timestamp{1'700'000'000 + i, 999'999'999}, cb(frame), i % 2 ? 2000 : 0));
      }
      EXPECT_EQ(w->write(Timestamp{}, cb(Bytes(max_snaplen + 1))).error(),
                make_error_code(PcapError::frame_too_large));
    }
    auto r = PcapReader::open(path.string());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->nanosecond(), nano);
    for (std::uint32_t i = 0; i < 3000; ++i) {
      auto rec = r->next();
      ASSERT_TRUE(rec && *rec) << i;
      EXPECT_EQ((*rec)->data.size(), 60 + i % 1400);
      EXPECT_EQ((*rec)->wire_len, i % 2 ? 2000u : 60 + i % 1400);
      EXPECT_EQ((*rec)->ts.sec, 1'700'000'000 + i);
      EXPECT_EQ((*rec)->ts.nsec, nano ? 999'999'999u : 999'999'000u);
      ASSERT_EQ((*rec)->data[0], static_cast<std::byte>(i));
    }
    auto end = r->next();
    ASSERT_TRUE(end);
    EXPECT_FALSE(*end);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ersatz::link
