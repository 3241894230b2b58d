// Adapters by name through GetAdaptersAddresses (adapter.hpp), and
// link::netif_info on Windows.
#include "adapter.hpp"

// Windows headers in blocks of their own, so that include sorting keeps
// their order: <winsock2.h> before <windows.h> (else the old winsock.h
// comes along), and <windows.h> before the API headers that use its types.
#include <winsock2.h>

#include <windows.h>

#include <iphlpapi.h>

#include <string_view>
#include <vector>

#include "ersatz/os/win32_error.hpp"

namespace ersatz::link::windows {
namespace {

constexpr std::string_view npf_prefix = "\\Device\\NPF_";

std::string narrow(const wchar_t* w) {
  if (w == nullptr || *w == L'\0') return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return {};
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, -1, out.data(), n, nullptr, nullptr);
  out.pop_back();  // the terminating NUL that -1 counted
  return out;
}

/// GUIDs compare without regard to case ({0a1b...} and {0A1B...} are one).
bool same_guid(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Result<Adapter> find_adapter(const std::string& name) {
  std::string_view guid = name;
  if (guid.substr(0, npf_prefix.size()) == npf_prefix) guid.remove_prefix(npf_prefix.size());
  constexpr ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
                          GAA_FLAG_SKIP_DNS_SERVER | GAA_FLAG_SKIP_UNICAST;
  ULONG size = 16 * 1024;
  std::vector<std::byte> buf;
  ULONG rc = ERROR_BUFFER_OVERFLOW;
  for (int attempt = 0; attempt < 4 && rc == ERROR_BUFFER_OVERFLOW; ++attempt) {
    buf.assign(size + sizeof(IP_ADAPTER_ADDRESSES), std::byte{0});
    ULONG len = size;
    rc = GetAdaptersAddresses(AF_UNSPEC, flags, nullptr,
                              reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()), &len);
    size = len;
  }
  if (rc == ERROR_NO_DATA) return fail(std::errc::no_such_device);
  if (rc != ERROR_SUCCESS) return os::fail_win32(rc);
  for (auto* a = reinterpret_cast<const IP_ADAPTER_ADDRESSES*>(buf.data()); a != nullptr;
       a = a->Next) {
    const std::string adapter_guid = a->AdapterName != nullptr ? a->AdapterName : "";
    if (!same_guid(adapter_guid, guid) && narrow(a->FriendlyName) != name) continue;
    Adapter out;
    out.capture_device = std::string(npf_prefix) + adapter_guid;
    out.info.index = static_cast<int>(a->IfIndex);
    out.info.mtu = a->Mtu;
    if (a->PhysicalAddressLength == wire::MacAddress::size) {
      out.info.mac =
          wire::MacAddress::from_bytes(as_bytes(a->PhysicalAddress, wire::MacAddress::size));
    }
    out.info.ethernet = a->IfType == IF_TYPE_ETHERNET_CSMACD || a->IfType == IF_TYPE_IEEE80211;
    out.info.up = a->OperStatus == IfOperStatusUp;
    return out;
  }
  return fail(std::errc::no_such_device);
}

}  // namespace ersatz::link::windows

namespace ersatz::link {

Result<NetifInfo> netif_info(const std::string& name) {
  auto a = windows::find_adapter(name);
  if (!a) return tl::unexpected(a.error());
  return a->info;
}

Result<void> netif_set_up(const std::string& /*name*/) {
  // Windows enables adapters through SetupAPI or WMI, not a socket ioctl;
  // ersatz never needs to (TAP, its only caller, is Linux-only).
  return fail(std::errc::not_supported);
}

}  // namespace ersatz::link
