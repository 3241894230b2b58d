// Win32, Winsock and HRESULT codes as std::error_code (win32_error.hpp).
#include "ersatz/os/win32_error.hpp"

// Windows headers in blocks of their own, so that include sorting keeps
// their order: <winsock2.h> before <windows.h> (else the old winsock.h
// comes along), and <windows.h> before the API headers that use its types.
#include <winsock2.h>

#include <windows.h>

#include <cstdio>
#include <string>

#include "base/wide.hpp"

namespace ersatz::os {
namespace {

/// The system's text for a code, without the trailing period and CRLF
/// FormatMessage puts after it (messages end up inside ersatz's own lines).
std::string system_message(DWORD code, HMODULE module = nullptr) {
  wchar_t* text = nullptr;
  const DWORD flags =
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_IGNORE_INSERTS |
      (module != nullptr ? FORMAT_MESSAGE_FROM_HMODULE : FORMAT_MESSAGE_FROM_SYSTEM);
  // With ALLOCATE_BUFFER the buffer argument is really a wchar_t**.
  const DWORD n =
      FormatMessageW(flags, module, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string out;
  if (n != 0 && text != nullptr) out = narrow(std::wstring_view(text, n));
  if (text != nullptr) LocalFree(text);
  while (!out.empty() &&
         (out.back() == '\n' || out.back() == '\r' || out.back() == ' ' || out.back() == '.')) {
    out.pop_back();
  }
  return out;
}

std::error_condition win32_condition(int ev) noexcept {
  switch (ev) {
    case ERROR_ACCESS_DENIED:
    case WSAEACCES: return std::errc::permission_denied;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return std::errc::not_enough_memory;
    case ERROR_INVALID_PARAMETER:
    case WSAEINVAL: return std::errc::invalid_argument;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED: return std::errc::not_supported;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_MOD_NOT_FOUND: return std::errc::no_such_file_or_directory;
    case ERROR_NOT_FOUND:
    case ERROR_DEV_NOT_EXIST: return std::errc::no_such_device;
    case ERROR_BUFFER_OVERFLOW:
    case ERROR_INSUFFICIENT_BUFFER: return std::errc::value_too_large;
    case ERROR_NETWORK_UNREACHABLE:
    case WSAENETUNREACH: return std::errc::network_unreachable;
    case ERROR_HOST_UNREACHABLE:
    case WSAEHOSTUNREACH: return std::errc::host_unreachable;
    case WSAEINTR: return std::errc::interrupted;
    case WSAETIMEDOUT:
    case ERROR_TIMEOUT: return std::errc::timed_out;
    case WSAEAFNOSUPPORT: return std::errc::address_family_not_supported;
    default: return {ev, win32_category()};
  }
}

class Win32Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "win32"; }
  std::string message(int ev) const override {
    std::string m = system_message(static_cast<DWORD>(ev));
    return m.empty() ? "Win32 error " + std::to_string(ev) : m;
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return win32_condition(ev);
  }
};

/// WMI's own codes: FormatMessage only knows them from wmiutils.dll's
/// message table, which is not always there (Wine has none), so the ones
/// ersatz can meet are named here.
const char* wbem_message(std::uint32_t hr) noexcept {
  switch (hr) {
    case 0x80041001: return "WMI: generic failure";
    case 0x80041002: return "WMI: not found";
    case 0x80041003: return "WMI: access denied";
    case 0x80041006: return "WMI: out of memory";
    case 0x80041008: return "WMI: invalid parameter";
    case 0x80041010: return "WMI: invalid class";
    case 0x80041013: return "WMI: provider load failure";
    case 0x80041017: return "WMI: invalid query";
    case 0x8004100E: return "WMI: invalid namespace";
    default: return nullptr;
  }
}

class HresultCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "hresult"; }
  std::string message(int ev) const override {
    const auto hr = static_cast<std::uint32_t>(ev);
    if (const char* w = wbem_message(hr)) return w;
    std::string m = system_message(hr);
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08lx", static_cast<unsigned long>(hr));
    return m.empty() ? std::string("HRESULT ") + hex : m + " (" + hex + ")";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    const auto hr = static_cast<std::uint32_t>(ev);
    // HRESULT_FROM_WIN32: facility 7 wraps a Win32 code.
    if ((hr & 0xFFFF0000U) == 0x80070000U) return win32_condition(static_cast<int>(hr & 0xFFFFU));
    switch (hr) {
      case 0x80041003: return std::errc::permission_denied;
      case 0x8007000E:
      case 0x80041006: return std::errc::not_enough_memory;
      case 0x80070057:
      case 0x80041008: return std::errc::invalid_argument;
      case 0x80004001: return std::errc::function_not_supported;
      default: return {ev, *this};
    }
  }
};

}  // namespace

const std::error_category& win32_category() noexcept {
  static const Win32Category category;
  return category;
}

const std::error_category& hresult_category() noexcept {
  static const HresultCategory category;
  return category;
}

}  // namespace ersatz::os
