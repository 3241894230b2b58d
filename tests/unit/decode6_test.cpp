// decode over IPv6, TCP and UDP: a conversation's relative numbers kept in a
// TcpSequences across frames, SACK against the conversation's base, ports
// alone after an extension header, -v's checksum tag, and the JSON keys.
// Frames made with scapy; the expected lines are tcpdump -nn's for them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ersatz/decode/dissect.hpp"
#include "support.hpp"

namespace ersatz::decode {
namespace {

const char* const frames[] = {
    "02000000000202000000000186dd600000000014064020010db800000000000000000000000120010db8000000"
    "0000000000000000029c401389000003e8000000005002fd20a39b0000",
    "02000000000102000000000286dd600000000014064020010db800000000000000000000000220010db8000000"
    "00000000000000000113899c4000001b58000003e95012fde8876a0000",
    "02000000000202000000000186dd600000000019064020010db800000000000000000000000120010db8000000"
    "0000000000000000029c401389000003e900001b59501801fb3f7a000068656c6c6f",
    "02000000000102000000000286dd600000000020064020010db800000000000000000000000220010db8000000"
    "00000000000000000113899c4000001b59000003ee801001fb444100000101050a0000044c000004b0",
    "02000000000202000000000186dd600000000013004020010db800000000000000000000000120010db8000000"
    "0000000000000000021100010400000000a028cb20000b74b7616263",
};

std::vector<std::string> lines(const TextOptions& base) {
  std::vector<std::string> out;
  TextOptions opts = base;
  opts.time = TimeStyle::none;
  for (const char* hex : frames) {
    const test::Bytes b = test::from_hex(hex);
    const Frame f{1, Timestamp{}, static_cast<std::uint32_t>(b.size()), test::cb(b)};
    fmt::memory_buffer buf;
    format_text(buf, f, dissect(f.data, f.wire_len), opts);
    out.push_back(fmt::to_string(buf));
  }
  return out;
}

TEST(Decode6, RelativeTcpNumbersAcrossAConversation) {
  TcpSequences seqs;
  TextOptions opts;
  opts.tcp_sequences = &seqs;
  const auto got = lines(opts);
  const std::vector<std::string> want = {
      "IP6 2001:db8::1.40000 > 2001:db8::2.5001: Flags [S], seq 1000, win 64800, length 0",
      "IP6 2001:db8::2.5001 > 2001:db8::1.40000: Flags [S.], seq 7000, ack 1001, win 65000, "
      "length 0",
      "IP6 2001:db8::1.40000 > 2001:db8::2.5001: Flags [P.], seq 1:6, ack 1, win 507, length 5",
      "IP6 2001:db8::2.5001 > 2001:db8::1.40000: Flags [.], ack 6, win 507, options "
      "[nop,nop,sack 1 {100:200}], length 0",
      "IP6 2001:db8::1 > 2001:db8::2: HBH 41000 > 52000: UDP, length 3",
  };
  EXPECT_EQ(got, want);
}

TEST(Decode6, AbsoluteNumbersWithoutATable) {
  const auto got = lines(TextOptions{});
  EXPECT_EQ(got[2],
            "IP6 2001:db8::1.40000 > 2001:db8::2.5001: Flags [P.], seq 1001:1006, ack 7001, win "
            "507, length 5");
}

TEST(Decode6, VerboseChecksumTags) {
  TextOptions opts;
  opts.verbose = 1;
  const auto got = lines(opts);
  EXPECT_EQ(got[4],
            "IP6 (hlim 64, next-header Options (0) payload length: 19) 2001:db8::1 > 2001:db8::2: "
            "HBH (padn) 41000 > 52000: [udp sum ok] UDP, length 3");
  EXPECT_NE(got[0].find("Flags [S], cksum 0xa39b (correct), seq 1000"), std::string::npos);
}

TEST(Decode6, JsonKeys) {
  const test::Bytes b = test::from_hex(frames[3]);
  const Frame f{4, Timestamp{}, static_cast<std::uint32_t>(b.size()), test::cb(b)};
  fmt::memory_buffer buf;
  format_json(buf, f, dissect(f.data, f.wire_len));
  const std::string j = fmt::to_string(buf);
  for (const char* key : {"\"ipv6.src\":\"2001:db8::2\"", "\"ipv6.nxt\":6", "\"tcp.srcport\":5001",
                          "\"tcp.seq_raw\":7001", "\"tcp.ack_raw\":1006", "\"tcp.flags\":16",
                          "\"tcp.checksum.status\":\"good\"", "\"tcp.option_kind\":[1,1,5]",
                          "\"tcp.options.sack_le\":1100", "\"tcp.options.sack_re\":1200"}) {
    EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
  }
  EXPECT_EQ(j.find("malformed"), std::string::npos);
}

}  // namespace
}  // namespace ersatz::decode
