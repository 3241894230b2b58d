// The never-failing decoder over arbitrary frame bytes: dissect(), then
// format_text() without and with the link header, and format_json(), whose
// output must be one valid JSON object with unique keys. Every view the
// Dissection holds must lie inside the frame.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "ersatz/decode/dissect.hpp"
#include "fuzz_check.hpp"

using namespace ersatz;
using namespace ersatz::wire;

namespace {

/// A strict RFC 8259 checker for the one-line objects format_json writes
/// (an oracle: no coverage tracing, see FUZZ_ORACLE).
class Json {
 public:
  explicit Json(std::string_view s) : s_(s) {}

  /// True when the whole text is one object whose top-level keys are unique.
  FUZZ_ORACLE bool top_level_object() {
    if (!object(0, true)) return false;
    return i_ == s_.size();
  }

 private:
  FUZZ_ORACLE bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
  FUZZ_ORACLE bool eat(char c) {
    if (!at(c)) return false;
    ++i_;
    return true;
  }
  FUZZ_ORACLE bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  FUZZ_ORACLE bool number() {
    eat('-');
    if (eat('0')) {
      if (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') return false;  // no leading zeros
    } else if (!digits()) {
      return false;
    }
    if (eat('.') && !digits()) return false;
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digits()) return false;
    }
    return true;
  }
  FUZZ_ORACLE bool string(std::string* out) {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (out) out->push_back(c);
      if (c != '\\') continue;
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      if (out) out->push_back(e);
      if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) continue;
      if (e != 'u' || s_.size() - i_ < 4) return false;
      for (int k = 0; k < 4; ++k) {
        const char h = s_[i_++];
        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
          return false;
      }
    }
    return false;
  }
  FUZZ_ORACLE bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  FUZZ_ORACLE bool value(int depth) {
    if (depth > 8 || i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{': return object(depth + 1, false);
      case '[': return array(depth + 1);
      case '"': return string(nullptr);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }
  FUZZ_ORACLE bool array(int depth) {
    if (!eat('[')) return false;
    if (eat(']')) return true;
    do {
      if (!value(depth)) return false;
    } while (eat(','));
    return eat(']');
  }
  FUZZ_ORACLE bool object(int depth, bool unique_keys) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    std::set<std::string> keys;
    do {
      std::string key;
      if (!string(&key) || !eat(':') || !value(depth)) return false;
      if (unique_keys && !keys.insert(key).second) return false;
    } while (eat(','));
    return eat('}');
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

void check_dissection(ConstBytes frame, const decode::Dissection& d) {
  using ersatz_fuzz::within;
  FUZZ_CHECK(d.eth_header.has_value() == (frame.size() >= ethernet::header_len));
  FUZZ_CHECK(ersatz_fuzz::printable_line(d.malformed));
  if (!d.eth_header) FUZZ_CHECK(!d.malformed.empty());
  if (!d.eth) {
    FUZZ_CHECK(d.l3.empty() && !d.arp && !d.ip_fixed && !d.ip);
    return;
  }
  FUZZ_CHECK(d.eth_header.has_value());
  FUZZ_CHECK(d.eth->tag_count <= ethernet::max_tags);
  FUZZ_CHECK(d.l3.data() == frame.data() + d.eth->header_len());
  FUZZ_CHECK(d.l3.size() == frame.size() - d.eth->header_len());
  if (d.arp) {
    FUZZ_CHECK(d.eth->ethertype == EtherType::arp);
    FUZZ_CHECK(within(d.l3, d.arp->sha()) && within(d.l3, d.arp->tpa()));
  }
  if (d.ip_fixed) {
    FUZZ_CHECK(d.eth->ethertype == EtherType::ipv4 && !d.l3.empty());
    FUZZ_CHECK(d.ip_fixed->complete == (d.l3.size() >= ipv4::min_header_len));
  }
  if (d.ip6) {
    const decode::Ipv6Layer& ip6 = *d.ip6;
    FUZZ_CHECK(d.eth->ethertype == EtherType::ipv6 && ip6.header.version() == 6);
    FUZZ_CHECK(within(d.l3, ip6.payload) && ip6.payload.size() <= ip6.payload_len);
    FUZZ_CHECK(ip6.ext_count <= ipv6::max_ext_headers);
    for (std::size_t i = 0; i < ip6.ext_count; ++i)
      FUZZ_CHECK(within(ip6.payload, ip6.ext[i].bytes));
    FUZZ_CHECK(within(ip6.payload, ip6.upper_bytes));
    FUZZ_CHECK(ip6.upper_bytes.size() <= ip6.upper_len);
    if (ip6.icmp6) {
      FUZZ_CHECK(ip6.upper == ipv6::NextHeader::icmpv6);
      FUZZ_CHECK(within(ip6.upper_bytes, ip6.icmp6->packet.bytes()));
      if (ip6.icmp6->quoted_ip) FUZZ_CHECK(within(ip6.upper_bytes, ip6.icmp6->quoted_ip->header()));
    }
    if (ip6.tcp) {
      FUZZ_CHECK(ip6.upper == ipv6::NextHeader::tcp && within(ip6.upper_bytes, ip6.tcp->segment));
      if (ip6.tcp->header) FUZZ_CHECK(ip6.tcp->header->header_len() <= ip6.tcp->length);
    }
  }
  if (!d.ip) return;
  const decode::Ipv4Layer& ip = *d.ip;
  if (ip.tcp) {
    FUZZ_CHECK(ip.header.protocol() == ipv4::Protocol::tcp && within(ip.payload, ip.tcp->segment));
    if (ip.tcp->header) FUZZ_CHECK(ip.tcp->header->header_len() <= ip.tcp->length);
  }
  FUZZ_CHECK(d.ip_fixed && d.ip_fixed->complete && d.ip_fixed->version == 4);
  FUZZ_CHECK(ip.header.header_len() == d.ip_fixed->header_len);
  FUZZ_CHECK(within(d.l3, ip.header.header()));
  FUZZ_CHECK(within(d.l3, ip.payload));
  FUZZ_CHECK(ip.payload.size() <= ip.payload_len);
  if (!ip.icmp) return;
  FUZZ_CHECK(ip.header.protocol() == ipv4::Protocol::icmp && ip.header.frag_offset() == 0);
  FUZZ_CHECK(ip.icmp->packet.bytes().data() == ip.payload.data());
  FUZZ_CHECK(within(ip.payload, ip.icmp->packet.bytes()));
  const ConstBytes icmp_data = ip.icmp->packet.data();
  if (ip.icmp->quoted_ip) {
    const auto& q = *ip.icmp->quoted_ip;
    FUZZ_CHECK(q.header().data() == icmp_data.data());
    FUZZ_CHECK(within(icmp_data, q.header()));
    FUZZ_CHECK(q.header_len() >= ipv4::min_header_len && q.header_len() <= ipv4::max_header_len);
  }
  if (ip.icmp->quoted_icmp) {
    FUZZ_CHECK(ip.icmp->quoted_ip.has_value());
    FUZZ_CHECK(ip.icmp->quoted_ip->protocol() == ipv4::Protocol::icmp);
  }
}

/// One buffer for every formatter call, cleared before each: a new one per
/// call costs an allocation (which ASan fills) for every long line.
fmt::memory_buffer& scratch() {
  static fmt::memory_buffer buffer;
  buffer.clear();
  return buffer;
}

/// -x's text: hex digits, spaces, offsets and line breaks only.
FUZZ_ORACLE bool hex_dump_text(std::string_view s) {
  for (const char c : s) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ' ' || c == '\n' || c == '\t' ||
          c == 'x' || c == ':'))
      return false;
  }
  return true;
}

/// The raw dumps after a line (-x, -X, -A, with and without the link
/// header): each stays within what was captured, and -x writes only hex
/// digits, spaces, offsets and line breaks. They depend on the captured
/// bytes only, so they run once per input, not once per wire length.
void check_raw_dumps(ConstBytes frame, const decode::Dissection& d) {
  const std::size_t link_len = decode::link_header_len(d, frame);
  FUZZ_CHECK(link_len <= frame.size());
  for (const auto kind :
       {decode::RawDump::hex, decode::RawDump::hex_ascii, decode::RawDump::ascii}) {
    for (const bool with_link : {false, true}) {
      fmt::memory_buffer& raw = scratch();
      decode::format_raw(raw, frame, link_len, kind, with_link);
      const std::size_t shown = with_link ? frame.size() : frame.size() - link_len;
      if (!with_link && frame.size() <= link_len) FUZZ_CHECK(raw.size() == 0);
      if (kind == decode::RawDump::ascii && raw.size() > 0) FUZZ_CHECK(raw.size() <= 1 + shown);
      if (kind == decode::RawDump::hex)
        FUZZ_CHECK(hex_dump_text(std::string_view(raw.data(), raw.size())));
    }
  }
}

/// The time styles (-t, -tt, -ttt, -tttt, -ttttt) of a line's prefix, the
/// only part of a line they change, over a stamp and a reference taken from
/// the frame's first 16 bytes: negative seconds, seconds past 2^31 (which
/// tcpdump refuses) and references after the stamp included.
void check_time_styles(ConstBytes frame) {
  Timestamp ts{1'700'000'000, 123'456'789};
  Timestamp ref{frame.empty() ? 1'699'999'999 : 1'700'000'001, 5};
  if (frame.size() >= 16) {
    ts = {static_cast<std::int32_t>(load_be32(frame, 0)), load_be32(frame, 4) % 1'000'000'000};
    ref = {load_be32(frame, 8), load_be32(frame, 12) % 1'000'000'000};
  }
  for (const auto style : {decode::TimeStyle::none, decode::TimeStyle::time_of_day,
                           decode::TimeStyle::unix_seconds, decode::TimeStyle::since_previous,
                           decode::TimeStyle::date_and_time, decode::TimeStyle::since_first}) {
    decode::TextOptions o;
    o.time = style;
    o.reference = ref;
    fmt::memory_buffer& prefix = scratch();
    decode::format_timestamp(prefix, ts, o);
    const std::string_view text(prefix.data(), prefix.size());
    FUZZ_CHECK(ersatz_fuzz::printable_line(text));
    // Every style but none ends in the space before the line's body.
    FUZZ_CHECK(style == decode::TimeStyle::none ? text.empty() : text.ends_with(' '));
  }
}

void run(ConstBytes frame, std::uint32_t wire_len, bool once_per_input) {
  const decode::Dissection d = decode::dissect(frame, wire_len);
  check_dissection(frame, d);
  if (once_per_input) check_raw_dumps(frame, d);

  decode::Frame f;
  f.number = 1;
  f.ts = Timestamp{1'700'000'000, 123'456'789};
  f.wire_len = wire_len;
  f.data = frame;

  for (const bool link : {false, true}) {
    fmt::memory_buffer& text = scratch();
    decode::format_text(text, f, d, decode::TextOptions{link});
    const std::string_view line(text.data(), text.size());
    FUZZ_CHECK(line.size() >= 16);  // "HH:MM:SS.uuuuuu "
    FUZZ_CHECK(ersatz_fuzz::printable_lines(line));
  }

  // -v and -vv, with relative TCP numbers from a conversation table.
  for (const int verbose : {1, 2}) {
    decode::TcpSequences seqs;
    decode::TextOptions o;
    o.verbose = verbose;
    o.tcp_sequences = &seqs;
    for (int pass = 0; pass < 2; ++pass) {  // the second sees a known conversation
      fmt::memory_buffer& text = scratch();
      decode::format_text(text, f, d, o);
      FUZZ_CHECK(ersatz_fuzz::printable_lines(std::string_view(text.data(), text.size())));
    }
  }

  if (once_per_input) check_time_styles(frame);

  fmt::memory_buffer& json = scratch();
  decode::format_json(json, f, d);
  const std::string_view obj(json.data(), json.size());
  FUZZ_CHECK(!obj.empty() && obj.front() == '{' && obj.back() == '}');
  FUZZ_CHECK(ersatz_fuzz::printable_line(obj));
  FUZZ_CHECK(Json(obj).top_level_object());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0xffff) return 0;  // frames; keeps the wire lengths below in range
  const ConstBytes frame = ersatz_fuzz::input(data, size);
  const auto len = static_cast<std::uint32_t>(size);
  // As captured in full, then as cut short by a snap length: the last two
  // bytes (payload or padding, easy for the fuzzer to steer) say how many
  // more were on the wire.
  run(frame, len, true);
  const std::uint32_t missing = size >= 2 ? load_be16(frame, size - 2) : 0;
  run(frame, len + 1 + missing, false);
  return 0;
}
