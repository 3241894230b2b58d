// The decoder behind `ersatz dump` and the fuzz targets: it reads as much of
// a frame as it can, layer by layer, and never fails. A layer that cannot be
// read sets `malformed` and ends the walk; everything before it is kept.
//
// Unlike the wire layer this module formats text, so it may grow the
// caller's output buffer; it still does no I/O and keeps no state.
#pragma once

#include <fmt/format.h>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/time.hpp"
#include "ersatz/wire/arp.hpp"
#include "ersatz/wire/ethernet.hpp"
#include "ersatz/wire/icmpv4.hpp"
#include "ersatz/wire/icmpv6.hpp"
#include "ersatz/wire/ipv4.hpp"
#include "ersatz/wire/ipv6.hpp"
#include "ersatz/wire/tcp.hpp"
#include "ersatz/wire/udp.hpp"

namespace ersatz::decode {

/// One captured frame.
struct Frame {
  std::uint64_t number = 0;  ///< 1-based position in the capture
  Timestamp ts;
  std::uint32_t wire_len = 0;  ///< length on the wire (≥ data.size())
  ConstBytes data;
};

struct IcmpLayer {
  // A constructor rather than aggregate initialisation, so that dissect()
  // can emplace the layer into its optional instead of copying it there.
  explicit IcmpLayer(wire::icmpv4::Packet<> p) noexcept : packet(p) {}

  wire::icmpv4::Packet<> packet;
  /// Set when the whole message was captured and is not a fragment.
  std::optional<bool> checksum_ok;
  /// The quoted datagram's header, when all of it was quoted (even if the
  /// 8 bytes RFC 792 asks for after it were not).
  std::optional<wire::ipv4::Header<>> quoted_ip;
  std::optional<wire::icmpv4::Header<>> quoted_icmp;
};

/// A TCP segment over either IP version.
struct TcpLayer {
  TcpLayer(ConstBytes captured, std::size_t len) noexcept : segment(captured), length(len) {}

  /// What was captured from the TCP header on (bounded by the IP length).
  ConstBytes segment;
  /// The segment's length according to IP.
  std::size_t length = 0;
  /// The header and its options, when they were all captured and the data
  /// offset is sane.
  std::optional<wire::tcp::Header<>> header;
  /// Set when the whole segment was captured and is not a fragment.
  std::optional<bool> checksum_ok;
  std::uint16_t checksum_should_be = 0;
  /// The pseudo-header's sum, for -v's checksum text.
  std::uint16_t pseudo = 0;
};

/// A UDP datagram over either IP version.
struct UdpLayer {
  UdpLayer(ConstBytes captured, std::size_t len) noexcept : datagram(captured), length(len) {}

  /// What was captured from the UDP header on (bounded by the IP length),
  /// and the IP layer's length for it.
  ConstBytes datagram;
  std::size_t length = 0;
  std::optional<wire::udp::Header<>> header;
  /// Set when a checksum was sent (or must be: IPv6, RFC 8200 §8.1) and
  /// the whole datagram was captured and is not a fragment.
  std::optional<bool> checksum_ok;
  std::uint16_t checksum_should_be = 0;
};

struct Icmpv6Layer {
  explicit Icmpv6Layer(wire::icmpv6::Packet<> p) noexcept : packet(p) {}

  wire::icmpv6::Packet<> packet;
  std::optional<bool> checksum_ok;
  std::uint16_t checksum_should_be = 0;
  /// The fixed header of the packet an error quotes, when all of it was quoted.
  std::optional<wire::ipv6::Header<>> quoted_ip;
};

struct Ipv6Layer {
  explicit Ipv6Layer(wire::ipv6::Header<> h) noexcept : header(h) {}

  wire::ipv6::Header<> header;
  /// The captured part of what follows the fixed header, bounded by the
  /// payload length, and that length.
  ConstBytes payload;
  std::size_t payload_len = 0;
  /// The extension headers read, in order (at most ipv6::max_ext_headers).
  std::array<wire::ipv6::ExtHeader, wire::ipv6::max_ext_headers> ext{};
  std::size_t ext_count = 0;
  /// What follows them: its protocol, captured bytes and length on the wire.
  wire::ipv6::NextHeader upper{0};
  ConstBytes upper_bytes;
  std::size_t upper_len = 0;
  /// The fragment header, when there is one.
  const wire::ipv6::ExtHeader* fragment() const noexcept {
    for (std::size_t i = 0; i < ext_count; ++i)
      if (ext[i].type == wire::ipv6::NextHeader::fragment) return &ext[i];
    return nullptr;
  }
  std::optional<Icmpv6Layer> icmp6;
  std::optional<TcpLayer> tcp;
  std::optional<UdpLayer> udp;
};

struct Ipv4Layer {
  /// Emplaced, as IcmpLayer is.
  Ipv4Layer(wire::ipv4::Header<> h, bool header_checksum_ok) noexcept
      : header(h), checksum_ok(header_checksum_ok) {}

  wire::ipv4::Header<> header;
  bool checksum_ok = false;
  /// The captured part of the payload, bounded by the total length.
  ConstBytes payload;
  /// The payload's length according to the header.
  std::size_t payload_len = 0;
  std::optional<IcmpLayer> icmp;
  std::optional<TcpLayer> tcp;
  std::optional<UdpLayer> udp;
};

/// The fixed 20 bytes of an IPv4 header, read before its IHL is trusted,
/// so that a damaged header can still be described. Only the version is
/// known when fewer than 20 bytes were captured.
struct Ipv4Fixed {
  std::uint8_t version = 0;
  bool complete = false;  ///< all 20 bytes captured; the fields below are set
  std::size_t header_len = 0;
  std::uint16_t total_len = 0;
  wire::ipv4::Protocol protocol{0};
  std::uint16_t flags_frag = 0;
  wire::Ipv4Address src;
  wire::Ipv4Address dst;
};

/// What could be read of one Ethernet frame.
struct Dissection {
  /// The 14-byte header, when captured.
  std::optional<wire::ethernet::Packet<>> eth_header;
  /// The header with its VLAN tags, when they were all captured.
  std::optional<wire::ethernet::Repr> eth;
  /// The bytes after the Ethernet header and tags, and their wire length.
  ConstBytes l3;
  std::size_t l3_wire_len = 0;
  std::optional<wire::arp::Packet<>> arp;
  std::optional<Ipv4Fixed> ip_fixed;
  std::optional<Ipv4Layer> ip;
  std::optional<Ipv6Layer> ip6;
  /// Empty when every layer present was read; else "LAYER: reason".
  std::string_view malformed;
};

Dissection dissect(ConstBytes frame, std::uint32_t wire_len) noexcept;

/// How a line starts: tcpdump's -t flags.
enum class TimeStyle : std::uint8_t {
  time_of_day,     ///< (default) HH:MM:SS.uuuuuu, local time
  none,            ///< -t
  unix_seconds,    ///< -tt: SECONDS.uuuuuu
  since_previous,  ///< -ttt: " HH:MM:SS.uuuuuu" since the previous frame
  date_and_time,   ///< -tttt: YYYY-MM-DD HH:MM:SS.uuuuuu, local time
  since_first,     ///< -ttttt: as -ttt, since the first frame
};

/// tcpdump's table of TCP conversations, by which it prints sequence and
/// acknowledgement numbers relative to the first ones seen (tcpdump 4.99
/// print-tcp.c): state across frames, so the caller keeps it, as it keeps
/// TimeReference. A conversation is keyed by its addresses and ports in one
/// canonical order; a SYN restarts it.
class TcpSequences {
 public:
  /// The bases to subtract for a segment with these fields, recording a new
  /// conversation as tcpdump does. `src` and `dst` are the raw addresses
  /// (4 or 16 bytes).
  wire::tcp::Relative relate(ConstBytes src, ConstBytes dst, std::uint16_t sport,
                             std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                             std::uint8_t flags);

 private:
  struct Key {
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, 16> dst{};
    std::uint32_t ports = 0;
    std::uint8_t version = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Bases {
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
  };
  std::unordered_map<Key, Bases, KeyHash> table_;
};

struct TextOptions {
  bool link_header = false;  ///< tcpdump -e
  int verbose = 0;           ///< tcpdump -v, -vv, -vvv
  TimeStyle time = TimeStyle::time_of_day;
  /// For since_previous and since_first: the frame to count from. The
  /// caller keeps it (it is state across frames; the decoder has none):
  /// see TimeReference.
  Timestamp reference{};
  /// Relative TCP numbers (tcpdump's default); absolute ones, as -S prints
  /// them, when null.
  TcpSequences* tcp_sequences = nullptr;
  /// -x, -X or -A: the caller dumps every frame itself, so tcpdump's own
  /// dump of what it cannot decode is left out.
  bool raw_dump = false;
};

/// The reference of -ttt and -ttttt across frames, as tcpdump keeps it: a
/// zero time counts as none yet, so the next frame becomes the reference
/// (a capture whose first frame is at the epoch counts from its second).
class TimeReference {
 public:
  /// The reference for a frame at `ts`, before it is printed.
  Timestamp before(Timestamp ts) noexcept {
    if (ref_ == Timestamp{}) ref_ = ts;
    return ref_;
  }
  /// After it is printed: -ttt counts the next frame from this one.
  void after(Timestamp ts, TimeStyle style) noexcept {
    if (style == TimeStyle::since_previous) ref_ = ts;
  }

 private:
  Timestamp ref_{};
};

/// Writes a frame's timestamp as TextOptions::time says, with the space
/// that follows it (nothing at all for TimeStyle::none).
void format_timestamp(fmt::memory_buffer& out, Timestamp ts, const TextOptions& opts);

/// tcpdump's raw dumps after a line: -x (hex), -X (hex and ASCII), -A
/// (ASCII); doubled (-xx, -XX, -AA) they include the link-layer header.
enum class RawDump : std::uint8_t { none, hex, hex_ascii, ascii };

/// Appends the dump of `frame` (what was captured), from `link_len` on
/// unless `with_link`: tcpdump's hex_print, hex_and_ascii_print and
/// ascii_print, line for line. `link_len` is the Ethernet header with its
/// tags (link_header_len()).
void format_raw(fmt::memory_buffer& out, ConstBytes frame, std::size_t link_len, RawDump kind,
                bool with_link);
/// The link-layer header's length as tcpdump counts it for its dumps.
std::size_t link_header_len(const Dissection& d, ConstBytes frame) noexcept;

/// One tcpdump -nn style line (no trailing newline), timestamp first.
/// Returns true when the line ended at a field that was not captured where
/// tcpdump gives up with a longjmp (for ICMPv6 and TCP): tcpdump's -x/-X/-A
/// dump of such a frame starts at the link header, so pass 0 as
/// format_raw's `link_len`.
bool format_text(fmt::memory_buffer& out, const Frame& frame, const Dissection& d,
                 const TextOptions& opts);

/// One JSON object (no trailing newline) with Wireshark field names.
void format_json(fmt::memory_buffer& out, const Frame& frame, const Dissection& d);

/// Appends `s` as a JSON string (RFC 8259 §7): quoted, with quotes,
/// backslashes and control characters escaped. The one escaper of ersatz:
/// dump's values and the tools' (interface names may hold any byte but NUL).
void append_json_string(fmt::memory_buffer& out, std::string_view s);

/// The local time of day as tcpdump prints it: "HH:MM:SS.uuuuuu".
void format_time_of_day(fmt::memory_buffer& out, Timestamp ts);

}  // namespace ersatz::decode
