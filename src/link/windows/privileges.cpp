// Least privilege on Windows (privileges.hpp). Windows has no capability
// that gates raw frames: Npcap decides who may capture (everyone, or
// administrators only when installed with that option), so "has
// CAP_NET_RAW" is always true here. What a process can drop are the
// privileges in its token, which it does once its device is open.
#include "ersatz/link/privileges.hpp"

#include <windows.h>

#include "ersatz/os/win32_error.hpp"

namespace ersatz::link {

bool has_cap_net_raw() noexcept { return true; }

Result<void> drop_privileges() noexcept {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) {
    return os::fail_win32(GetLastError());
  }
  // Disables every privilege (SeDebugPrivilege, SeBackupPrivilege, ...)
  // for the rest of the process's life; nothing ersatz does needs one.
  const BOOL ok = AdjustTokenPrivileges(token, TRUE, nullptr, 0, nullptr, nullptr);
  const DWORD err = GetLastError();
  CloseHandle(token);
  if (!ok) return os::fail_win32(err);
  return {};
}

}  // namespace ersatz::link
