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
using wire::text::hex;

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

void hex_dump(fmt::memory_buffer& out, ConstBytes b) {
  for (std::size_t off = 0; off < b.size(); off += bytes_per_line) {
    append(out, "\n\t0x", hex(static_cast<std::uint32_t>(off), 4), ": ");
    const std::size_t end = std::min(b.size(), off + bytes_per_line);
    for (std::size_t i = off; i < end; i += 2) {
      append(out, ' ', hex(static_cast<std::uint8_t>(b[i]), 2));
      if (i + 1 < end) append(out, hex(static_cast<std::uint8_t>(b[i + 1]), 2));
    }
  }
}

void hex_ascii_dump(fmt::memory_buffer& out, ConstBytes b) {
  // Each line: the offset, 16 bytes as " hhhh" groups padded to 40
  // columns, two spaces, and the bytes as text ('.' for the rest).
  for (std::size_t off = 0; off < b.size(); off += bytes_per_line) {
    append(out, "\n\t0x", hex(static_cast<std::uint32_t>(off), 4), ": ");
    const std::size_t end = std::min(b.size(), off + bytes_per_line);
    std::size_t columns = 0;
    for (std::size_t i = off; i < end; i += 2) {
      append(out, ' ', hex(static_cast<std::uint8_t>(b[i]), 2));
      columns += 3;
      if (i + 1 < end) {
        append(out, hex(static_cast<std::uint8_t>(b[i + 1]), 2));
        columns += 2;
      }
    }
    for (; columns < 40; ++columns) out.push_back(' ');
    append(out, "  ");
    for (std::size_t i = off; i < end; ++i) {
      const auto c = static_cast<std::uint8_t>(b[i]);
      out.push_back(graphic(c) ? static_cast<char>(c) : '.');
    }
  }
}

void ascii_dump(fmt::memory_buffer& out, ConstBytes b) {
  out.push_back('\n');
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto c = static_cast<std::uint8_t>(b[i]);
    if (c == '\r') {
      // A CR before a newline, or at the very end, is dropped; elsewhere
      // it shows as '.' (print-ascii.c).
      const std::size_t left = b.size() - i - 1;
      if (left > 1 && static_cast<char>(b[i + 1]) != '\n') out.push_back('.');
    } else if (graphic(c) || c == '\t' || c == ' ' || c == '\n') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('.');
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
