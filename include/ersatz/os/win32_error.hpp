// Windows failures as std::error_code, so that they travel in the same
// Result<T> as errno on Linux (include/ersatz/base/result.hpp).
//
// libstdc++'s std::system_category() on mingw takes errno values and
// formats them with strerror, so a Win32 code put there would print the
// wrong text; these categories keep the code's own identity, print the
// system's message for it (FormatMessage), and map the common ones to
// std::errc conditions so portable callers can compare (`ec ==
// std::errc::permission_denied`). Implemented in src/os/windows/.
#pragma once

#include <cstdint>
#include <system_error>

#include "ersatz/base/result.hpp"

namespace ersatz::os {

/// Win32 error codes (GetLastError, the IP Helper return values) and
/// Winsock's (WSAGetLastError: the same numbering space).
const std::error_category& win32_category() noexcept;
/// COM and WMI HRESULTs (a failed CoCreateInstance, WBEM_E_*).
const std::error_category& hresult_category() noexcept;

inline std::error_code win32_error(std::uint32_t code) noexcept {
  return {static_cast<int>(code), win32_category()};
}
inline std::error_code hresult_error(std::int32_t hr) noexcept {
  return {static_cast<int>(hr), hresult_category()};
}
inline tl::unexpected<std::error_code> fail_win32(std::uint32_t code) noexcept {
  return tl::unexpected<std::error_code>(win32_error(code));
}
inline tl::unexpected<std::error_code> fail_hresult(std::int32_t hr) noexcept {
  return tl::unexpected<std::error_code>(hresult_error(hr));
}

}  // namespace ersatz::os
