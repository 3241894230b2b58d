// Loading Npcap's wpcap.dll at run time (wpcap.hpp).
#include "wpcap.hpp"

#include <windows.h>

#include <string>

#include "ersatz/link/npcap.hpp"

namespace ersatz::link::wpcap {
namespace {

/// Npcap installs into System32\Npcap (and only into System32 itself in
/// WinPcap-compatible mode). Loading by full path from there, with that
/// folder searched for the DLL's own dependency (Packet.dll), is what
/// Npcap's documentation asks of applications; the System32 fallback is
/// restricted to System32, so no DLL in the current folder is ever taken.
HMODULE load_wpcap() {
  wchar_t system[MAX_PATH];
  const UINT n = GetSystemDirectoryW(system, MAX_PATH);
  if (n > 0 && n < MAX_PATH) {
    const std::wstring npcap = std::wstring(system, n) + L"\\Npcap\\wpcap.dll";
    if (HMODULE h = LoadLibraryExW(npcap.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH)) {
      return h;
    }
  }
  return LoadLibraryExW(L"wpcap.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
}

/// GetProcAddress returns a generic function pointer; each entry point is
/// converted to its declared type once, here.
template <class F>
bool resolve(HMODULE h, const char* name, F& out) {
  out = reinterpret_cast<F>(reinterpret_cast<void*>(GetProcAddress(h, name)));
  return out != nullptr;
}

bool running_on_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

struct Loaded {
  Api api{};
  std::error_code error;
};

Loaded load() {
  Loaded l;
  HMODULE h = load_wpcap();
  if (h == nullptr) {
    l.error = make_error_code(NpcapError::not_installed);
    return l;
  }
  Api& a = l.api;
  const bool required =
      resolve(h, "pcap_open_live", a.open_live) && resolve(h, "pcap_close", a.close) &&
      resolve(h, "pcap_next_ex", a.next_ex) && resolve(h, "pcap_sendpacket", a.sendpacket) &&
      resolve(h, "pcap_geterr", a.geterr) && resolve(h, "pcap_datalink", a.datalink) &&
      resolve(h, "pcap_setnonblock", a.setnonblock) &&
      resolve(h, "pcap_findalldevs", a.findalldevs) &&
      resolve(h, "pcap_freealldevs", a.freealldevs);
  if (!required) {
    l.error = make_error_code(NpcapError::missing_entry_point);
    return l;
  }
  resolve(h, "pcap_create", a.create);
  resolve(h, "pcap_set_snaplen", a.set_snaplen);
  resolve(h, "pcap_set_promisc", a.set_promisc);
  resolve(h, "pcap_set_timeout", a.set_timeout);
  resolve(h, "pcap_set_immediate_mode", a.set_immediate_mode);
  resolve(h, "pcap_set_buffer_size", a.set_buffer_size);
  resolve(h, "pcap_set_tstamp_precision", a.set_tstamp_precision);
  resolve(h, "pcap_activate", a.activate);
  resolve(h, "pcap_statustostr", a.statustostr);
  resolve(h, "pcap_setfilter", a.setfilter);
  resolve(h, "pcap_setdirection", a.setdirection);
  resolve(h, "pcap_getevent", a.getevent);
  resolve(h, "pcap_stats", a.stats);
  a.event_usable = a.getevent != nullptr && !running_on_wine();
  // The module stays loaded for the life of the process: the pointers
  // above point into it.
  return l;
}

}  // namespace

Result<const Api*> api() {
  // A function-local static: loaded once, on first use, thread-safely.
  static const Loaded loaded = load();
  if (loaded.error) return tl::unexpected(loaded.error);
  return &loaded.api;
}

}  // namespace ersatz::link::wpcap
