#include "ersatz/wire/tcp.hpp"

#include <cassert>

#include <algorithm>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::tcp {

void Repr::emit(MutBytes buf, std::uint16_t pseudo) const noexcept {
  assert(buf.size() == buffer_len());
  const std::size_t hlen = header_len();
  store_be16(buf, field::src_port.begin, src_port);
  store_be16(buf, field::dst_port.begin, dst_port);
  store_be32(buf, field::seq.begin, seq);
  store_be32(buf, field::ack.begin, ack);
  store_be16(buf, field::offset_flags.begin,
             static_cast<std::uint16_t>(((hlen / 4) << 12) | (flags & 0x0fffU)));
  store_be16(buf, field::window.begin, window);
  store_be16(buf, field::urgent.begin, urgent);
  std::copy(options.begin(), options.end(), buf.begin() + min_header_len);
  // RFC 9293 §3.1: the header is padded with zeros (EOL) to 32 bits.
  std::fill(buf.begin() + static_cast<std::ptrdiff_t>(min_header_len + options.size()),
            buf.begin() + static_cast<std::ptrdiff_t>(hlen), std::byte{0});
  std::copy(payload.begin(), payload.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
  auto p = Packet<MutBytes>::unchecked(buf);
  p.fill_checksum(pseudo);
}

namespace {

using Out = fmt::memory_buffer;
using text::append;
using text::hex;

std::string_view option_name(unsigned kind) {
  switch (kind) {
    case 0: return "eol";
    case 1: return "nop";
    case 2: return "mss";
    case 3: return "wscale";
    case 4: return "sackOK";
    case 5: return "sack";
    case 6: return "echo";
    case 7: return "echoreply";
    case 8: return "TS";
    case 11: return "cc";
    case 12: return "ccnew";
    case 13: return "";  // tcpdump's table names CCECHO with an empty string
    case 19: return "md5";
    case 20: return "scps";
    case 28: return "uto";
    case 29: return "tcp-ao";
    case 30: return "mptcp";
    case 34: return "tfo";
    case 254: return "exp";
    default: return {};
  }
}

void fast_open(Out& out, ConstBytes d) {
  if (d.empty()) {
    append(out, " cookiereq");
  } else if (d.size() % 2 != 0 || d.size() < 4 || d.size() > 16) {
    append(out, " (invalid)");
  } else {
    append(out, " cookie ");
    for (std::byte b : d) append(out, hex(static_cast<std::uint8_t>(b), 2));
  }
}

/// The options as tcpdump's tcp_print walks them: `declared` bytes by the
/// data offset, of which `opts` were captured. Returns false when the line
/// ended early ("[bad opt]" or a truncation marker), so that no length
/// follows.
bool format_options(Out& out, ConstBytes opts, std::size_t declared, const TextOptions& o,
                    bool& gave_up) {
  append(out, ", options [");
  std::size_t left = declared;
  std::size_t at = 0;
  char sep = '\0';
  auto bad = [&] {
    append(out, "[bad opt]");
    if (sep != '\0') out.push_back(']');
    return false;
  };
  // A byte tcpdump reads with GET_ that was not captured.
  auto cut = [&] {
    gave_up = true;
    append(out, " [|tcp]");
    return false;
  };
  // Data its LENCHECK finds missing: the marker, and '>' inside a list.
  auto cut_data = [&] {
    append(out, " [|tcp]");
    if (sep != '\0') out.push_back('>');
    return false;
  };
  while (left > 0) {
    if (sep != '\0') out.push_back(sep);
    if (at >= opts.size()) return cut();
    const unsigned kind = load_u8(opts, at++);
    std::size_t len = 1;
    if (kind > 1) {
      if (at >= opts.size()) return cut();
      len = load_u8(opts, at++);
      if (len < 2 || len > left) return bad();
      --left;
    }
    --left;
    const std::string_view name = option_name(kind);
    if (name.data() == nullptr) {
      append(out, "unknown-", kind);
    } else {
      append(out, name);
    }
    const ConstBytes d = opts.subspan(at);
    std::size_t datalen = 0;
    // tcpdump's LENCHECK: past the option's room is a bad option, past
    // the capture a truncation.
    enum class Check { ok, bad_option, truncated };
    auto check = [&](std::size_t n) {
      if (n > left) return Check::bad_option;
      if (n > d.size()) return Check::truncated;
      return Check::ok;
    };
#define ERSATZ_LENCHECK(n)                    \
  switch (check(n)) {                         \
    case Check::bad_option: return bad();     \
    case Check::truncated: return cut_data(); \
    case Check::ok: break;                    \
  }
    switch (kind) {
      case 2:
        datalen = 2;
        ERSATZ_LENCHECK(datalen)
        append(out, ' ', load_be16(d, 0));
        break;
      case 3:
        datalen = 1;
        ERSATZ_LENCHECK(datalen)
        append(out, ' ', load_u8(d, 0));
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 != 0) {
          append(out, " invalid sack");
        } else {
          append(out, ' ', datalen / 8, ' ');
          for (std::size_t i = 0; i < datalen; i += 8) {
            ERSATZ_LENCHECK(i + 8)
            // tcpdump takes both edges against one base: a quirk, kept.
            append(out, '{', load_be32(d, i) - o.relative.sack, ':',
                   load_be32(d, i + 4) - o.relative.sack, '}');
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
        datalen = 4;
        ERSATZ_LENCHECK(datalen)
        append(out, ' ', load_be32(d, 0));
        break;
      case 8:
        datalen = 8;
        ERSATZ_LENCHECK(datalen)
        append(out, " val ", load_be32(d, 0), " ecr ", load_be32(d, 4));
        break;
      case 19:
        datalen = 16;
        ERSATZ_LENCHECK(datalen)
        // tcpdump built with libcrypto cannot check a signature without
        // the secret, and says so.
        append(out, " can't check - ");
        for (std::size_t i = 0; i < datalen; ++i) append(out, hex(load_u8(d, i), 2));
        break;
      case 20:
        datalen = 2;
        ERSATZ_LENCHECK(datalen)
        append(out, " cap ", hex(load_u8(d, 0), 2), " id ", load_u8(d, 1));
        break;
      case 0:
      case 1:
      case 4: break;
      case 28: {
        datalen = 2;
        ERSATZ_LENCHECK(datalen)
        unsigned v = load_be16(d, 0);
        append(out, " 0x", hex(v));
        v = (v & 1U) ? (v >> 1) * 60 : v >> 1;
        append(out, ' ', v);
        break;
      }
      case 34:
        datalen = len - 2;
        ERSATZ_LENCHECK(datalen)
        // tcpdump prints a space of its own before the cookie's text.
        out.push_back(' ');
        fast_open(out, d.first(datalen));
        break;
      default:
        // MPTCP, TCP-AO and the experimental kinds are shown as raw bytes
        // here; tcpdump decodes them further.
        datalen = len - 2;
        if (datalen != 0) append(out, " 0x");
        for (std::size_t i = 0; i < datalen; ++i) {
          ERSATZ_LENCHECK(i + 1)
          append(out, hex(load_u8(d, i), 2));
        }
        break;
    }
#undef ERSATZ_LENCHECK
    at += datalen;
    left -= datalen;
    const std::size_t counted = datalen + 1 + (kind > 1 ? 1 : 0);
    if (counted != len) append(out, "[len ", len, ']');
    sep = ',';
    if (kind == 0) break;
  }
  out.push_back(']');
  return true;
}

/// tcpdump -v's text of a reset's data (RFC 9293 §3.5.3 allows a
/// diagnostic there): at most 30 bytes, "!" when not all captured, "+"
/// when cut, each byte as tcpdump's fn_print_char writes it.
void format_rst_data(Out& out, ConstBytes data, std::size_t length) {
  append(out, data.size() >= length ? std::string_view(" [RST") : std::string_view(" [!RST"));
  if (length > 30) {
    length = 30;
    out.push_back('+');
  }
  out.push_back(' ');
  for (std::size_t i = 0; i < length && i < data.size(); ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (c > 0x7f) {
      c &= 0x7f;
      append(out, "M-");
    }
    if (c < 0x20 || c > 0x7e) {
      c ^= 0x40;
      out.push_back('^');
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back(']');
}

}  // namespace

void format_flags(fmt::memory_buffer& out, std::uint8_t flags) {
  if (flags == 0) {
    append(out, "none");
    return;
  }
  static constexpr char letters[] = "FSRP.UEW";
  for (unsigned i = 0; i < 8; ++i) {
    if (flags & (1U << i)) out.push_back(letters[i]);
  }
}

bool format(fmt::memory_buffer& out, ConstBytes segment, std::size_t length, const TextOptions& o) {
  if (segment.size() < min_header_len) {
    append(out, " [|tcp]");
    return false;
  }
  const std::size_t hlen = (load_u8(segment, field::offset_flags.begin) >> 4) * 4U;
  if (hlen < min_header_len) {
    append(out, " tcp ", static_cast<std::uint32_t>(length - hlen), " [bad hdr length ", hlen,
           " - too short, < 20]");
    return false;
  }
  const std::uint8_t flags = load_u8(segment, field::flags);
  append(out, "Flags [");
  format_flags(out, flags);
  out.push_back(']');
  if (hlen > length) {
    append(out, " [bad hdr length ", hlen, " - too long, > ", length, ']');
    return false;
  }
  if (o.pseudo && segment.size() >= length) {
    auto p = Packet<>::unchecked(segment.first(length));
    append(out, ", cksum 0x", hex(p.checksum(), 4));
    if (p.verify_checksum(*o.pseudo)) {
      append(out, " (correct)");
    } else {
      append(out, " (incorrect -> 0x", hex(p.compute_checksum(*o.pseudo), 4), ')');
    }
  }
  const std::size_t data_len = length - hlen;
  const std::uint32_t seq = load_be32(segment, field::seq.begin) - o.relative.seq;
  const std::uint32_t ack = load_be32(segment, field::ack.begin) - o.relative.ack;
  if (o.verbose > 1 || data_len > 0 || (flags & (flag::syn | flag::fin | flag::rst))) {
    append(out, ", seq ", seq);
    if (data_len > 0) append(out, ':', static_cast<std::uint32_t>(seq + data_len));
  }
  if (flags & flag::ack) append(out, ", ack ", ack);
  append(out, ", win ", load_be16(segment, field::window.begin));
  if (flags & flag::urg) append(out, ", urg ", load_be16(segment, field::urgent.begin));
  if (hlen > min_header_len) {
    const ConstBytes opts = segment.subspan(min_header_len);
    bool gave_up = false;
    if (!format_options(out, opts.first(std::min(opts.size(), hlen - min_header_len)),
                        hlen - min_header_len, o, gave_up)) {
      return gave_up;
    }
  }
  append(out, ", length ", data_len);
  // tcpdump checks that the header was captured only when data follows.
  if (data_len > 0 && segment.size() < hlen) {
    append(out, " [remaining caplen(", segment.size(), ") < header length(", hlen, ")] [|tcp]");
    return true;
  }
  if (data_len > 0 && (flags & flag::rst) && o.verbose > 0) {
    format_rst_data(out, segment.subspan(hlen), data_len);
  }
  return false;
}

}  // namespace ersatz::wire::tcp
