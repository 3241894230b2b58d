// Classic pcap files (the libpcap savefile format, draft-ietf-opsawg-pcap):
// both byte orders, microsecond and nanosecond magics.
//
// Files are hostile input. Every record header is checked before its data
// is read: a capture length above the file's snap length or the original
// length, above the largest snap length libpcap ever writes, or a record cut
// short, is an error carrying the byte offset of the record. Memory use is
// bounded by one read buffer whatever the file says.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/time.hpp"

namespace ersatz::link {

enum class PcapError : std::uint8_t {
  bad_magic = 1,          ///< not a pcap file
  pcapng,                 ///< a pcapng file, which this reader does not read
  bad_version,            ///< major version other than 2
  truncated_file_header,  ///< fewer than 24 bytes
  truncated_record,       ///< a record header or data cut short
  caplen_over_snaplen,
  caplen_over_len,
  caplen_too_large,  ///< beyond max_snaplen
  frame_too_large,   ///< a frame to write longer than max_snaplen
};

const std::error_category& pcap_category() noexcept;
inline std::error_code make_error_code(PcapError e) noexcept {
  return {static_cast<int>(e), pcap_category()};
}

/// LINKTYPE_ETHERNET (DLT_EN10MB).
inline constexpr std::uint32_t linktype_ethernet = 1;
/// libpcap's MAXIMUM_SNAPLEN: no valid record is longer.
inline constexpr std::uint32_t max_snaplen = 262144;

/// libpcap's name of a link type ("EN10MB", "LINUX_SLL"), or "".
std::string_view linktype_name(std::uint32_t linktype) noexcept;

struct PcapRecord {
  Timestamp ts;
  std::uint32_t wire_len = 0;  ///< the frame's length on the wire
  ConstBytes data;             ///< the captured bytes; valid until the next read
};

class PcapReader {
 public:
  /// Opens a file, or standard input for "-".
  static Result<PcapReader> open(const std::string& path);
  /// Reads a file image held in memory (tests, fuzzing).
  static Result<PcapReader> from_memory(ConstBytes image, std::string name = "<memory>");

  PcapReader(PcapReader&&) noexcept;
  PcapReader& operator=(PcapReader&&) noexcept;
  ~PcapReader();

  /// The next record; nullopt at a clean end of file.
  Result<std::optional<PcapRecord>> next();

  std::uint32_t linktype() const noexcept { return linktype_; }
  std::uint32_t snaplen() const noexcept { return snaplen_; }
  bool nanosecond() const noexcept { return nanosecond_; }
  /// Byte offset of the last record returned, or of the error.
  std::uint64_t offset() const noexcept { return offset_; }
  const std::string& name() const noexcept { return name_; }

  /// Where the bytes come from (a file descriptor or memory); internal.
  struct Source;

 private:
  PcapReader(std::unique_ptr<Source> src, std::string name);
  Result<void> read_file_header();

  std::unique_ptr<Source> src_;
  std::string name_;
  std::uint32_t linktype_ = 0;
  std::uint32_t snaplen_ = 0;
  bool swapped_ = false;
  bool nanosecond_ = false;
  std::uint64_t offset_ = 0;       // the current record's
  std::uint64_t next_offset_ = 0;  // where the next record starts
};

class PcapWriter {
 public:
  /// Creates (truncates) a file, or writes to standard output for "-".
  static Result<PcapWriter> create(const std::string& path, bool nanosecond = false,
                                   std::uint32_t linktype = linktype_ethernet);
  PcapWriter(PcapWriter&&) noexcept;
  PcapWriter& operator=(PcapWriter&&) noexcept;
  ~PcapWriter();

  /// Appends one record; `wire_len` defaults to the captured length.
  Result<void> write(Timestamp ts, ConstBytes frame, std::optional<std::uint32_t> wire_len = {});
  Result<void> flush();

 private:
  PcapWriter(int fd, bool owned, bool nanosecond);
  int fd_ = -1;
  bool owned_ = false;
  bool nanosecond_ = false;
  std::vector<std::byte> buf_;
};

/// "FILE: caplen 9000 exceeds snaplen 1500 at byte offset 40"-style text for
/// an error of `reader`.
std::string describe(const PcapReader& reader, const std::error_code& ec);

}  // namespace ersatz::link

template <>
struct std::is_error_code_enum<ersatz::link::PcapError> : std::true_type {};
