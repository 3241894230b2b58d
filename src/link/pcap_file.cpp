#include "ersatz/link/pcap_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#if defined(_WIN32)
#include <io.h>
#endif

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace ersatz::link {
namespace {

// Captures are binary: the Windows C runtime would otherwise translate
// line endings. It has no close-on-exec flag; O_NOINHERIT is its
// counterpart (the descriptor does not pass to child processes).
#if defined(_WIN32)
constexpr int open_flags = O_BINARY | O_NOINHERIT;
#else
constexpr int open_flags = O_CLOEXEC;
#endif

constexpr std::uint32_t magic_us = 0xa1b2c3d4;
constexpr std::uint32_t magic_ns = 0xa1b23c4d;
constexpr std::uint32_t magic_pcapng = 0x0a0d0d0a;
constexpr std::size_t file_header_len = 24;
constexpr std::size_t record_header_len = 16;

class PcapCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pcap"; }
  std::string message(int ev) const override {
    switch (static_cast<PcapError>(ev)) {
      case PcapError::bad_magic: return "not a pcap file (bad magic number)";
      case PcapError::pcapng:
        return "pcapng files are not supported; convert with 'editcap -F pcap'";
      case PcapError::bad_version: return "unsupported pcap version";
      case PcapError::truncated_file_header: return "file header is truncated";
      case PcapError::truncated_record: return "record is truncated";
      case PcapError::caplen_over_snaplen: return "captured length exceeds the snap length";
      case PcapError::caplen_over_len: return "captured length exceeds the original length";
      case PcapError::caplen_too_large: return "captured length exceeds 262144";
      case PcapError::frame_too_large: return "frame exceeds 262144 bytes";
    }
    return "unknown pcap error";
  }
};

std::uint32_t swap32(std::uint32_t v) noexcept {
  return (v >> 24) | ((v >> 8) & 0xff00U) | ((v << 8) & 0xff0000U) | (v << 24);
}

}  // namespace

const std::error_category& pcap_category() noexcept {
  static const PcapCategory category;
  return category;
}

std::string_view linktype_name(std::uint32_t linktype) noexcept {
  switch (linktype) {
    case 0: return "NULL";
    case 1: return "EN10MB";
    case 101: return "RAW";
    case 105: return "IEEE802_11";
    case 113: return "LINUX_SLL";
    case 127: return "IEEE802_11_RADIO";
    case 276: return "LINUX_SLL2";
    default: return "";
  }
}

// ---------------------------------------------------------------- source

/// Hands out contiguous runs of the input, from memory or through a bounded
/// read buffer; a run stays valid until the next call.
struct PcapReader::Source {
  virtual ~Source() = default;
  /// Up to `n` bytes (fewer only at the end of the input).
  virtual Result<ConstBytes> take(std::size_t n) = 0;
};

namespace {

class MemorySource final : public PcapReader::Source {
 public:
  explicit MemorySource(ConstBytes image) : rest_(image) {}
  Result<ConstBytes> take(std::size_t n) override {
    const std::size_t k = std::min(n, rest_.size());
    ConstBytes out = rest_.first(k);
    rest_ = rest_.subspan(k);
    return out;
  }

 private:
  ConstBytes rest_;
};

class FdSource final : public PcapReader::Source {
 public:
  // Not zeroed: every byte is read() into before it is handed out, and
  // zeroing 1 MiB would fault in all 256 of its pages, which took about as
  // long as the rest of a short `dump -r`.
  FdSource(int fd, bool owned)
      : fd_(fd), owned_(owned), buf_(std::make_unique_for_overwrite<std::byte[]>(capacity)) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  Result<ConstBytes> take(std::size_t n) override {
    if (end_ - pos_ < n) {
      if (auto r = fill(n); !r) return tl::unexpected(r.error());
    }
    const std::size_t k = std::min(n, end_ - pos_);
    ConstBytes out(buf_.get() + pos_, k);
    pos_ += k;
    return out;
  }

 private:
  // One buffer serves any record: max_snaplen plus headers fits four times.
  static constexpr std::size_t capacity = 1U << 20;

  Result<void> fill(std::size_t n) {
    if (pos_ != 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    while (end_ < n && !eof_) {
      const ssize_t got = ::read(fd_, buf_.get() + end_, capacity - end_);
      if (got < 0) {
        if (errno == EINTR) continue;
        return fail_errno(errno);
      }
      if (got == 0) eof_ = true;
      end_ += static_cast<std::size_t>(got);
    }
    return {};
  }

  int fd_;
  bool owned_;
  std::unique_ptr<std::byte[]> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
};

}  // namespace

// ---------------------------------------------------------------- reader

PcapReader::PcapReader(std::unique_ptr<Source> src, std::string name)
    : src_(std::move(src)), name_(std::move(name)) {}
PcapReader::PcapReader(PcapReader&&) noexcept = default;
PcapReader& PcapReader::operator=(PcapReader&&) noexcept = default;
PcapReader::~PcapReader() = default;

Result<PcapReader> PcapReader::open(const std::string& path) {
  int fd = 0;
  const bool is_stdin = path == "-";
  if (!is_stdin) {
    fd = ::open(path.c_str(), O_RDONLY | open_flags);
    if (fd < 0) return fail_errno(errno);
  }
  PcapReader r(std::make_unique<FdSource>(fd, !is_stdin), is_stdin ? "<stdin>" : path);
  if (auto h = r.read_file_header(); !h) return tl::unexpected(h.error());
  return r;
}

Result<PcapReader> PcapReader::from_memory(ConstBytes image, std::string name) {
  PcapReader r(std::make_unique<MemorySource>(image), std::move(name));
  if (auto h = r.read_file_header(); !h) return tl::unexpected(h.error());
  return r;
}

Result<void> PcapReader::read_file_header() {
  offset_ = 0;
  auto h = src_->take(file_header_len);
  if (!h) return tl::unexpected(h.error());
  if (h->size() >= 4 && load_be32(*h, 0) == magic_pcapng) return fail(PcapError::pcapng);
  if (h->size() < file_header_len) return fail(PcapError::truncated_file_header);
  const std::uint32_t magic = load_le32(*h, 0);
  if (magic == magic_us || magic == magic_ns) {
    swapped_ = false;
  } else if (swap32(magic) == magic_us || swap32(magic) == magic_ns) {
    swapped_ = true;
  } else {
    return fail(PcapError::bad_magic);
  }
  nanosecond_ = (swapped_ ? swap32(magic) : magic) == magic_ns;
  auto u32 = [&](std::size_t at) { return swapped_ ? load_be32(*h, at) : load_le32(*h, at); };
  const std::uint32_t major = swapped_ ? load_be16(*h, 4) : load_le16(*h, 4);
  if (major != 2) return fail(PcapError::bad_version);
  snaplen_ = u32(16);
  // The upper bits of the link-type word carry FCS information
  // (LT_FCS_DATALEN); the type itself is the low 16 bits.
  linktype_ = u32(20) & 0xffffU;
  next_offset_ = file_header_len;
  return {};
}

Result<std::optional<PcapRecord>> PcapReader::next() {
  offset_ = next_offset_;
  auto h = src_->take(record_header_len);
  if (!h) return tl::unexpected(h.error());
  if (h->empty()) return std::optional<PcapRecord>{};
  if (h->size() < record_header_len) return fail(PcapError::truncated_record);
  auto u32 = [&](std::size_t at) { return swapped_ ? load_be32(*h, at) : load_le32(*h, at); };
  const std::uint32_t sec = u32(0);
  const std::uint32_t frac = u32(4);
  const std::uint32_t caplen = u32(8);
  const std::uint32_t len = u32(12);
  // A snap length of 0 appears in files of some writers; it means "none".
  const std::uint32_t limit = snaplen_ == 0 ? max_snaplen : snaplen_;
  if (caplen > max_snaplen) return fail(PcapError::caplen_too_large);
  if (caplen > limit) return fail(PcapError::caplen_over_snaplen);
  if (caplen > len) return fail(PcapError::caplen_over_len);
  auto data = src_->take(caplen);
  if (!data) return tl::unexpected(data.error());
  if (data->size() < caplen) return fail(PcapError::truncated_record);
  PcapRecord rec;
  rec.ts.sec = sec;
  rec.ts.nsec = nanosecond_ ? std::min<std::uint32_t>(frac, 999'999'999U)
                            : std::min<std::uint32_t>(frac, 999'999U) * 1000U;
  rec.wire_len = len;
  rec.data = *data;
  next_offset_ += record_header_len + caplen;
  return rec;
}

std::string describe(const PcapReader& reader, const std::error_code& ec) {
  return fmt::format("{}: {} at byte offset {}", reader.name(), ec.message(), reader.offset());
}

// ---------------------------------------------------------------- writer

PcapWriter::PcapWriter(int fd, bool owned, bool nanosecond)
    : fd_(fd), owned_(owned), nanosecond_(nanosecond) {
  buf_.reserve(1U << 16);
}
PcapWriter::PcapWriter(PcapWriter&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      owned_(o.owned_),
      nanosecond_(o.nanosecond_),
      buf_(std::move(o.buf_)) {}
PcapWriter& PcapWriter::operator=(PcapWriter&& o) noexcept {
  if (this != &o) {
    (void)flush();
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    owned_ = o.owned_;
    nanosecond_ = o.nanosecond_;
    buf_ = std::move(o.buf_);
  }
  return *this;
}
PcapWriter::~PcapWriter() {
  if (fd_ < 0) return;
  (void)flush();
  if (owned_) ::close(fd_);
}

namespace {
void put_le32(std::vector<std::byte>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::byte>(v >> (8 * i)));
}
void put_le16(std::vector<std::byte>& b, std::uint16_t v) {
  b.push_back(static_cast<std::byte>(v));
  b.push_back(static_cast<std::byte>(v >> 8));
}
}  // namespace

Result<PcapWriter> PcapWriter::create(const std::string& path, bool nanosecond,
                                      std::uint32_t linktype) {
  int fd = 1;
  const bool is_stdout = path == "-";
  if (!is_stdout) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | open_flags, 0644);
    if (fd < 0) return fail_errno(errno);
  }
  PcapWriter w(fd, !is_stdout, nanosecond);
  // Written in little-endian order, which every reader handles.
  put_le32(w.buf_, nanosecond ? magic_ns : magic_us);
  put_le16(w.buf_, 2);
  put_le16(w.buf_, 4);
  put_le32(w.buf_, 0);  // thiszone
  put_le32(w.buf_, 0);  // sigfigs
  put_le32(w.buf_, max_snaplen);
  put_le32(w.buf_, linktype);
  if (auto r = w.flush(); !r) return tl::unexpected(r.error());
  return w;
}

Result<void> PcapWriter::write(Timestamp ts, ConstBytes frame,
                               std::optional<std::uint32_t> wire_len) {
  if (frame.size() > max_snaplen) return fail(PcapError::frame_too_large);
  const auto caplen = static_cast<std::uint32_t>(frame.size());
  put_le32(buf_, static_cast<std::uint32_t>(ts.sec));
  put_le32(buf_, nanosecond_ ? ts.nsec : ts.nsec / 1000U);
  put_le32(buf_, caplen);
  put_le32(buf_, std::max(caplen, wire_len.value_or(caplen)));
  buf_.insert(buf_.end(), frame.begin(), frame.end());
  if (buf_.size() >= (1U << 16)) return flush();
  return {};
}

Result<void> PcapWriter::flush() {
  std::size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  buf_.clear();
  return {};
}

}  // namespace ersatz::link
