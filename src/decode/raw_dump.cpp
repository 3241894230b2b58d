// What tcpdump prints around a frame's line rather than in it: the
// timestamp its -t flags choose, and the raw dumps of -x, -X and -A
// (tcpdump 4.99: util-print.c ts_print, print-ascii.c hex_print,
// hex_and_ascii_print and ascii_print), line for line.
#include <algorithm>
#include <ctime>

#include "ersatz/decode/dissect.hpp"
#include "ersatz/wire/text.hpp"

namespace ersatz::decode {

using wire::text::append;
using wire::text::dec;

namespace {

/// tcpdump keeps seconds in 32 bits and refuses those with the top bit set.
constexpr bool convertible(std::int64_t sec) noexcept {
  return (static_cast<std::uint64_t>(sec) & 0x80000000U) == 0;
}

/// HH:MM:SS or YYYY-MM-DD HH:MM:SS of `sec`, local or UTC.
void append_clock(fmt::memory_buffer& out, std::int64_t sec, bool with_date, bool local) {
  if (!convertible(sec)) {
    append(out, "[Error converting time]");
    return;
  }
  const auto t = static_cast<std::time_t>(sec);
  std::tm tm{};
  if (local) {
    localtime_r(&t, &tm);
  } else {
    gmtime_r(&t, &tm);
  }
  if (with_date) {
    append(out, dec(static_cast<std::uint32_t>(tm.tm_year + 1900), 4), '-',
           dec(static_cast<std::uint32_t>(tm.tm_mon + 1), 2), '-',
           dec(static_cast<std::uint32_t>(tm.tm_mday), 2), ' ');
  }
  append(out, dec(static_cast<std::uint32_t>(tm.tm_hour), 2), ':',
         dec(static_cast<std::uint32_t>(tm.tm_min), 2), ':',
         dec(static_cast<std::uint32_t>(tm.tm_sec), 2));
}

/// tcpdump prints microseconds (libpcap hands it micro precision unless
/// asked for nano): the low six digits of ours.
void append_micros(fmt::memory_buffer& out, std::uint32_t nsec) {
  append(out, '.', dec(nsec / 1000 % 1'000'000, 6));
}

/// The time between two stamps, signed, in microseconds: what tcpdump's
/// timeval subtraction leaves.
void append_delta(fmt::memory_buffer& out, Timestamp ts, Timestamp ref) {
  // libpcap hands tcpdump a capture file's 32-bit seconds as a signed
  // number: a stamp past 2038 counts as before 1970 here.
  auto micros = [](Timestamp t) {
    const auto sec = static_cast<std::int32_t>(static_cast<std::uint32_t>(t.sec));
    return std::int64_t{sec} * 1'000'000 + t.nsec / 1000;
  };
  const std::int64_t us = micros(ts);
  const std::int64_t ref_us = micros(ref);
  const bool negative = us < ref_us;
  const std::int64_t d = negative ? ref_us - us : us - ref_us;
  append(out, negative ? '-' : ' ');
  append_clock(out, d / 1'000'000, false, false);
  if (convertible(d / 1'000'000))
    append(out, '.', dec(static_cast<std::uint32_t>(d % 1'000'000), 6));
}

constexpr std::size_t bytes_per_line = 16;

/// tcpdump's ND_ASCII_ISGRAPH: printable and not a space.
constexpr bool graphic(std::uint8_t c) noexcept { return c > 0x20 && c <= 0x7e; }

// A plain array: a string_view's operator[] is checked on every call in
// builds with _GLIBCXX_ASSERTIONS, and every index here is below 16.
constexpr char hex_digits[] = "0123456789abcdef";

/// The longest line of any dump: "\n\t0x", an offset of up to 8 digits,
/// ": ", 40 columns of hex, two spaces and 16 characters of text.
constexpr std::size_t max_line = 4 + 8 + 2 + 40 + 2 + bytes_per_line;

/// The dumps write through a plain pointer into room made once for the
/// whole dump, then trim it: appending a part at a time costs a capacity
/// check per part, eight parts a line, and was most of what a -x or -X
/// line cost.
class DumpWriter {
 public:
  DumpWriter(fmt::memory_buffer& out, std::size_t most) : out_(out), start_(out.size()) {
    out_.resize(start_ + most);
    p_ = out_.data() + start_;
  }
  DumpWriter(const DumpWriter&) = delete;
  DumpWriter& operator=(const DumpWriter&) = delete;
  ~DumpWriter() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }

  void put(char c) noexcept { *p_++ = c; }
  void put_byte(std::uint8_t v) noexcept {
    *p_++ = hex_digits[v >> 4];
    *p_++ = hex_digits[v & 0xfU];
  }
  /// "\n\t0x" and the offset in at least four digits (tcpdump's "%04x"),
  /// then ": ".
  void put_offset(std::uint32_t off) noexcept {
    put('\n');
    put('\t');
    put('0');
    put('x');
    unsigned digits = 4;
    while (digits < 8 && (off >> (4 * digits)) != 0) ++digits;
    for (unsigned i = digits; i-- > 0;) put(hex_digits[(off >> (4 * i)) & 0xfU]);
    put(':');
    put(' ');
  }
  /// The bytes of one line as " hhhh" groups (a last odd byte alone);
  /// returns the columns written.
  std::size_t put_groups(ConstBytes line) noexcept {
    const char* begin = p_;
    for (std::size_t i = 0; i < line.size(); i += 2) {
      put(' ');
      put_byte(static_cast<std::uint8_t>(line[i]));
      if (i + 1 < line.size()) put_byte(static_cast<std::uint8_t>(line[i + 1]));
    }
    return static_cast<std::size_t>(p_ - begin);
  }

 private:
  fmt::memory_buffer& out_;
  std::size_t start_;
  char* p_ = nullptr;
};

std::size_t line_count(ConstBytes b) noexcept {
  return (b.size() + bytes_per_line - 1) / bytes_per_line;
}

void hex_dump(fmt::memory_buffer& out, ConstBytes b) {
  DumpWriter w(out, line_count(b) * max_line);
  for (std::size_t off = 0; off < b.size(); off += bytes_per_line) {
    w.put_offset(static_cast<std::uint32_t>(off));
    w.put_groups(b.subspan(off, std::min(bytes_per_line, b.size() - off)));
  }
}

void hex_ascii_dump(fmt::memory_buffer& out, ConstBytes b) {
  // Each line: the offset, 16 bytes as " hhhh" groups padded to 40
  // columns, two spaces, and the bytes as text ('.' for the rest).
  DumpWriter w(out, line_count(b) * max_line);
  for (std::size_t off = 0; off < b.size(); off += bytes_per_line) {
    w.put_offset(static_cast<std::uint32_t>(off));
    const ConstBytes line = b.subspan(off, std::min(bytes_per_line, b.size() - off));
    for (std::size_t columns = w.put_groups(line); columns < 40; ++columns) w.put(' ');
    w.put(' ');
    w.put(' ');
    for (const std::byte x : line) {
      const auto c = static_cast<std::uint8_t>(x);
      w.put(graphic(c) ? static_cast<char>(c) : '.');
    }
  }
}

void ascii_dump(fmt::memory_buffer& out, ConstBytes b) {
  DumpWriter w(out, 1 + b.size());
  w.put('\n');
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto c = static_cast<std::uint8_t>(b[i]);
    if (c == '\r') {
      // A CR before a newline, or at the very end, is dropped; elsewhere
      // it shows as '.' (print-ascii.c).
      const std::size_t left = b.size() - i - 1;
      if (left > 1 && static_cast<char>(b[i + 1]) != '\n') w.put('.');
    } else if (graphic(c) || c == '\t' || c == ' ' || c == '\n') {
      w.put(static_cast<char>(c));
    } else {
      w.put('.');
    }
  }
}

}  // namespace

void format_timestamp(fmt::memory_buffer& out, Timestamp ts, const TextOptions& opts) {
  switch (opts.time) {
    case TimeStyle::time_of_day:
      if (!convertible(ts.sec)) {
        append(out, "[Error converting time]");
        break;
      }
      format_time_of_day(out, ts);
      break;
    case TimeStyle::none: return;
    case TimeStyle::unix_seconds:
      if (!convertible(ts.sec)) {
        append(out, "[Error converting time]");
        break;
      }
      append(out, static_cast<std::uint64_t>(ts.sec) & 0xffffffffU);
      append_micros(out, ts.nsec);
      break;
    case TimeStyle::since_previous:
    case TimeStyle::since_first: append_delta(out, ts, opts.reference); break;
    case TimeStyle::date_and_time:
      append_clock(out, ts.sec, true, true);
      if (convertible(ts.sec)) append_micros(out, ts.nsec);
      break;
  }
  out.push_back(' ');
}

std::size_t link_header_len(const Dissection& d, ConstBytes frame) noexcept {
  if (d.eth) return std::min(d.eth->header_len(), frame.size());
  return std::min<std::size_t>(wire::ethernet::header_len, frame.size());
}

void format_raw(fmt::memory_buffer& out, ConstBytes frame, std::size_t link_len, RawDump kind,
                bool with_link) {
  if (kind == RawDump::none) return;
  // Without the link header, and nothing after it, tcpdump prints nothing.
  if (!with_link && frame.size() <= link_len) return;
  const ConstBytes b = with_link ? frame : frame.subspan(link_len);
  switch (kind) {
    case RawDump::hex: hex_dump(out, b); break;
    case RawDump::hex_ascii: hex_ascii_dump(out, b); break;
    case RawDump::ascii: ascii_dump(out, b); break;
    case RawDump::none: break;
  }
}

}  // namespace ersatz::decode
