// Least privilege on Linux (privileges.hpp), straight through the kernel's
// capget/capset rather than libcap: two system calls are all ersatz needs,
// and a library loaded at every start would cost every run its loading and
// its constructor (libcap probes the kernel's capability count with
// prctl() before main). ersatz starts no threads, so setting the calling
// thread's sets is setting the process's.
#include "ersatz/link/privileges.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ersatz::link {
namespace {

/// The calling thread's sets as the 64-bit capability ABI has them: two
/// 32-bit words of each set, capability N in word N / 32.
struct CapSets {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
};

}  // namespace

bool has_cap_net_raw() noexcept {
  CapSets caps;
  if (::syscall(SYS_capget, &caps.header, caps.data) != 0) return false;
  return (caps.data[CAP_NET_RAW / 32].effective & (1U << (CAP_NET_RAW % 32))) != 0;
}

Result<void> drop_privileges() noexcept {
  // All sets empty: effective, permitted and inheritable cleared at once
  // (and with them the ambient set, which the kernel keeps inside both).
  CapSets none;
  if (::syscall(SYS_capset, &none.header, none.data) != 0) return fail_errno(errno);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail_errno(errno);
  return {};
}

}  // namespace ersatz::link
