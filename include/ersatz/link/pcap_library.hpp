// libpcap, loaded at run time on every platform: libpcap.so.0.8 (Debian's
// SONAME) on Linux, Npcap's wpcap.dll on Windows. ersatz links neither, so
// it starts without them, and faster (Debian's libpcap brings libdbus,
// libsystemd, libgcrypt and three compressors with it); only the pcap
// backend (libpcap_device.hpp) and the filter compiler below load it, once
// per process, and without it they fail with PcapLibraryError::not_installed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "ersatz/base/bytes.hpp"
#include "ersatz/base/result.hpp"
#include "ersatz/base/shared_library.hpp"
#include "ersatz/link/bpf.hpp"

namespace ersatz::link {

namespace pcap {
struct Api;  // the entry points (src/link/pcap_api.hpp)
}

/// The one line a tool prints when libpcap is missing (and exits 2).
#if defined(_WIN32)
inline constexpr std::string_view pcap_not_installed =
    "Npcap is not installed; get it from https://npcap.com";
#else
inline constexpr std::string_view pcap_not_installed =
    "libpcap is not installed (apt install libpcap0.8)";
#endif

enum class PcapLibraryError : std::uint8_t {
  not_installed = 1,    ///< the library could not be loaded (pcap_not_installed)
  missing_entry_point,  ///< it lacks a function every backend needs
  not_available,        ///< it lacks what this particular call needs
};

const std::error_category& pcap_library_category() noexcept;
inline std::error_code make_error_code(PcapLibraryError e) noexcept {
  return {static_cast<int>(e), pcap_library_category()};
}

class PcapLibrary {
 public:
  /// The process's libpcap, loaded on first use and kept until the process
  /// ends (devices and filters point into it). Linux: libpcap.so.0.8, then
  /// libpcap.so.1 (other distributions' SONAME). Windows: wpcap.dll from
  /// Npcap's folder (System32\Npcap) first, as Npcap asks of applications,
  /// then System32 (Npcap in WinPcap-compatible mode, or Wine's own). A
  /// failure is remembered: the library is looked for once.
  static Result<const PcapLibrary*> get();

  /// The library at `name` (a file name or a path; SharedLibrary::open),
  /// for tests and for hosts that keep libpcap elsewhere. Devices and
  /// filters made with it must not outlive it. `detail` receives the
  /// loader's reason on failure.
  static Result<std::unique_ptr<PcapLibrary>> load(const std::string& name,
                                                   std::string* detail = nullptr);

  PcapLibrary(const PcapLibrary&) = delete;
  PcapLibrary& operator=(const PcapLibrary&) = delete;
  ~PcapLibrary();

  const pcap::Api& api() const noexcept { return *api_; }
  /// pcap_lib_version(), e.g. "libpcap version 1.10.3 (with TPACKET_V3)".
  std::string version() const;

 private:
  PcapLibrary(SharedLibrary lib, std::unique_ptr<pcap::Api> api) noexcept;
  SharedLibrary lib_;
  std::unique_ptr<pcap::Api> api_;
};

/// A tcpdump filter expression compiled by libpcap's own compiler, without
/// opening a device (pcap_open_dead), and run by libpcap's own interpreter
/// (pcap_offline_filter): what `dump EXPRESSION` does to frames it reads.
/// Where the library cannot compile offline (Wine's wpcap.dll has
/// pcap_open_dead only as a stub that aborts) compile() fails with
/// PcapLibraryError::not_available.
class PcapFilter {
 public:
  /// `detail` receives libpcap's message when the expression does not
  /// compile (RawError::pcap_failure).
  static Result<PcapFilter> compile(const PcapLibrary& library, const std::string& expression,
                                    int linktype = dlt_en10mb, std::uint32_t snaplen = 262144,
                                    std::string* detail = nullptr);
  /// The same with the process's library (PcapLibrary::get()).
  static Result<PcapFilter> compile(const std::string& expression, int linktype = dlt_en10mb,
                                    std::uint32_t snaplen = 262144, std::string* detail = nullptr);

  /// Whether `frame` (`wire_len` bytes long on the wire) passes.
  bool matches(ConstBytes frame, std::uint32_t wire_len) const noexcept;
  /// The instructions, for a kernel or a device to run instead.
  const BpfProgram& program() const noexcept { return program_; }

 private:
  PcapFilter(const pcap::Api* api, BpfProgram program) noexcept
      : api_(api), program_(std::move(program)) {}
  const pcap::Api* api_;
  BpfProgram program_;
};

}  // namespace ersatz::link

template <>
struct std::is_error_code_enum<ersatz::link::PcapLibraryError> : std::true_type {};
