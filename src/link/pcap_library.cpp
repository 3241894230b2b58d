// Loading libpcap at run time (pcap_library.hpp), and its filter compiler.
#include "ersatz/link/pcap_library.hpp"

#if defined(_WIN32)
#include <windows.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <utility>
#include <vector>

#include "ersatz/link/open_device.hpp"
#include "pcap_api.hpp"

#if defined(_WIN32)
#include "base/wide.hpp"
#endif

// Where libpcap's own header is installed (any Linux with libpcap-dev), the
// hand-written ABI in pcap_api.hpp is held to it. Nothing is linked.
#if __has_include(<pcap/pcap.h>) && !defined(_WIN32)
#include <pcap/pcap.h>

namespace ersatz::link::pcap {
static_assert(sizeof(PacketHeader) == sizeof(pcap_pkthdr));
static_assert(offsetof(PacketHeader, caplen) == offsetof(pcap_pkthdr, caplen));
static_assert(offsetof(PacketHeader, len) == offsetof(pcap_pkthdr, len));
static_assert(sizeof(TimeVal::tv_sec) == sizeof(std::declval<pcap_pkthdr>().ts.tv_sec));
static_assert(sizeof(TimeVal::tv_usec) == sizeof(std::declval<pcap_pkthdr>().ts.tv_usec));
static_assert(sizeof(Program) == sizeof(bpf_program));
static_assert(offsetof(Program, bf_insns) == offsetof(bpf_program, bf_insns));
static_assert(sizeof(BpfInsn) == sizeof(bpf_insn));
static_assert(offsetof(BpfInsn, k) == offsetof(bpf_insn, k));
static_assert(sizeof(Stats) >= sizeof(pcap_stat));
static_assert(offsetof(Stats, ps_ifdrop) == offsetof(pcap_stat, ps_ifdrop));
static_assert(offsetof(Interface, flags) == offsetof(pcap_if_t, flags));
static_assert(errbuf_size == PCAP_ERRBUF_SIZE && link::dlt_en10mb == DLT_EN10MB);
static_assert(precision_nano == PCAP_TSTAMP_PRECISION_NANO && direction_in == PCAP_D_IN);
static_assert(netmask_unknown == PCAP_NETMASK_UNKNOWN);
static_assert(error == PCAP_ERROR && error_break == PCAP_ERROR_BREAK);
static_assert(error_no_such_device == PCAP_ERROR_NO_SUCH_DEVICE);
static_assert(error_perm_denied == PCAP_ERROR_PERM_DENIED);
static_assert(error_iface_not_up == PCAP_ERROR_IFACE_NOT_UP);
static_assert(error_promisc_perm_denied == PCAP_ERROR_PROMISC_PERM_DENIED);
}  // namespace ersatz::link::pcap
#endif

namespace ersatz::link {
namespace {

class PcapLibraryCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pcap-library"; }
  std::string message(int ev) const override {
    switch (static_cast<PcapLibraryError>(ev)) {
      case PcapLibraryError::not_installed: return std::string(pcap_not_installed);
#if defined(_WIN32)
      case PcapLibraryError::missing_entry_point:
        return "wpcap.dll lacks a function ersatz needs; install a current Npcap";
#else
      case PcapLibraryError::missing_entry_point:
        return "libpcap lacks a function ersatz needs; install libpcap 1.0 or later";
#endif
      case PcapLibraryError::not_available: return "not available in this libpcap";
    }
    return "libpcap library error";
  }
};

#if defined(_WIN32)
/// Whether this is Wine, whose wpcap.dll exports some functions as stubs
/// that abort the process when called; GetProcAddress cannot tell a stub
/// from a function, so those are never bound there.
bool running_on_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}
#endif

/// Binds every entry point of pcap::Api that `lib` has; false when one of
/// the required ones is missing.
bool bind_api(const SharedLibrary& lib, pcap::Api& a) {
  const bool required =
      lib.bind("pcap_open_live", a.open_live) && lib.bind("pcap_close", a.close) &&
      lib.bind("pcap_next_ex", a.next_ex) && lib.bind("pcap_sendpacket", a.sendpacket) &&
      lib.bind("pcap_geterr", a.geterr) && lib.bind("pcap_datalink", a.datalink) &&
      lib.bind("pcap_setnonblock", a.setnonblock) && lib.bind("pcap_findalldevs", a.findalldevs) &&
      lib.bind("pcap_freealldevs", a.freealldevs);
  if (!required) return false;
  lib.bind("pcap_create", a.create);
  lib.bind("pcap_set_snaplen", a.set_snaplen);
  lib.bind("pcap_set_promisc", a.set_promisc);
  lib.bind("pcap_set_immediate_mode", a.set_immediate_mode);
  lib.bind("pcap_set_buffer_size", a.set_buffer_size);
  lib.bind("pcap_set_tstamp_precision", a.set_tstamp_precision);
  lib.bind("pcap_activate", a.activate);
  lib.bind("pcap_statustostr", a.statustostr);
  lib.bind("pcap_datalink_val_to_name", a.datalink_val_to_name);
  lib.bind("pcap_lib_version", a.lib_version);
  lib.bind("pcap_setfilter", a.setfilter);
  lib.bind("pcap_setdirection", a.setdirection);
  lib.bind("pcap_stats", a.stats);
  lib.bind("pcap_compile", a.compile);
  lib.bind("pcap_freecode", a.freecode);
#if defined(_WIN32)
  // Wine 8's pcap_getevent, pcap_open_dead and pcap_offline_filter abort
  // when called (docs/design.md): without them ersatz polls, and compiles
  // filters only on an open device.
  if (!running_on_wine()) {
    lib.bind("pcap_getevent", a.getevent);
    lib.bind("pcap_open_dead", a.open_dead);
    lib.bind("pcap_offline_filter", a.offline_filter);
  }
#else
  lib.bind("pcap_get_selectable_fd", a.get_selectable_fd);
  lib.bind("pcap_inject", a.inject);
  lib.bind("pcap_open_dead", a.open_dead);
  lib.bind("pcap_offline_filter", a.offline_filter);
#endif
  return true;
}

/// The library's file names, most preferred first.
std::vector<std::string> default_names() {
#if defined(_WIN32)
  std::vector<std::string> names;
  wchar_t system[MAX_PATH];
  const UINT n = GetSystemDirectoryW(system, MAX_PATH);
  if (n > 0 && n < MAX_PATH)
    names.push_back(narrow(std::wstring_view(system, n)) + "\\Npcap\\wpcap.dll");
  names.emplace_back("wpcap.dll");  // a bare name: from System32 only
  return names;
#else
  // By SONAME, never the unversioned libpcap.so (a -dev package's link):
  // the ABI above is that of these versions.
  return {"libpcap.so.0.8", "libpcap.so.1"};
#endif
}

}  // namespace

const std::error_category& pcap_library_category() noexcept {
  static const PcapLibraryCategory category;
  return category;
}

PcapLibrary::PcapLibrary(SharedLibrary lib, std::unique_ptr<pcap::Api> api) noexcept
    : lib_(std::move(lib)), api_(std::move(api)) {}

PcapLibrary::~PcapLibrary() = default;

Result<std::unique_ptr<PcapLibrary>> PcapLibrary::load(const std::string& name,
                                                       std::string* detail) {
  auto lib = SharedLibrary::open(name, detail);
  if (!lib) return fail(PcapLibraryError::not_installed);
  auto api = std::make_unique<pcap::Api>();
  if (!bind_api(*lib, *api)) {
    if (detail != nullptr) *detail = name + " lacks a required pcap_* function";
    return fail(PcapLibraryError::missing_entry_point);
  }
  return std::unique_ptr<PcapLibrary>(new PcapLibrary(std::move(*lib), std::move(api)));
}

Result<const PcapLibrary*> PcapLibrary::get() {
  // Loaded once, on first use, thread-safely; never unloaded, since the
  // devices and filters made from it may live as long as the process.
  static const Result<std::unique_ptr<PcapLibrary>>* const loaded = [] {
    Result<std::unique_ptr<PcapLibrary>> r = fail(PcapLibraryError::not_installed);
    for (const std::string& name : default_names()) {
      r = load(name);
      // A library that is there but unusable is the answer; do not fall
      // back on another one past it.
      if (r || r.error() != PcapLibraryError::not_installed) break;
    }
    return new Result<std::unique_ptr<PcapLibrary>>(std::move(r));
  }();
  if (!*loaded) return tl::unexpected(loaded->error());
  return loaded->value().get();
}

std::string PcapLibrary::version() const {
  const char* v = api_->lib_version != nullptr ? api_->lib_version() : nullptr;
  return v != nullptr ? v : "unknown libpcap";
}

Result<PcapFilter> PcapFilter::compile(const PcapLibrary& library, const std::string& expression,
                                       int linktype, std::uint32_t snaplen, std::string* detail) {
  const pcap::Api& a = library.api();
  if (!a.can_compile_offline()) {
    if (detail != nullptr) *detail = "this libpcap cannot compile filters without a device";
    return fail(PcapLibraryError::not_available);
  }
  // A "dead" handle compiles for a link type without opening anything.
  pcap::Handle* p = a.open_dead(linktype, static_cast<int>(snaplen));
  if (p == nullptr) return fail_errno(ENOMEM);
  pcap::Program prog{};
  if (a.compile(p, &prog, expression.c_str(), 1, pcap::netmask_unknown) != 0) {
    if (detail != nullptr) *detail = a.geterr(p);
    a.close(p);
    return fail(RawError::pcap_failure);
  }
  BpfProgram program(prog.bf_insns, prog.bf_insns + prog.bf_len);
  a.freecode(&prog);
  a.close(p);
  return PcapFilter(&a, std::move(program));
}

Result<PcapFilter> PcapFilter::compile(const std::string& expression, int linktype,
                                       std::uint32_t snaplen, std::string* detail) {
  auto library = PcapLibrary::get();
  if (!library) return tl::unexpected(library.error());
  return compile(**library, expression, linktype, snaplen, detail);
}

bool PcapFilter::matches(ConstBytes frame, std::uint32_t wire_len) const noexcept {
  // libpcap only reads the program; its struct just has no const inside.
  const pcap::Program prog{static_cast<unsigned int>(program_.size()),
                           const_cast<BpfInsn*>(program_.data())};
  pcap::PacketHeader h{};
  h.caplen = static_cast<std::uint32_t>(frame.size());
  h.len = std::max(wire_len, h.caplen);
  return api_->offline_filter(&prog, &h, reinterpret_cast<const unsigned char*>(frame.data())) != 0;
}

}  // namespace ersatz::link
