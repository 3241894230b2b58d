#include "ersatz/link/privileges.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>

namespace ersatz::link {

bool has_cap_net_raw() noexcept {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t value = CAP_CLEAR;
  const bool ok = cap_get_flag(caps, CAP_NET_RAW, CAP_EFFECTIVE, &value) == 0;
  cap_free(caps);
  return ok && value == CAP_SET;
}

Result<void> drop_privileges() noexcept {
  // cap_init() is the empty set; applying it clears all three sets at once.
  cap_t none = cap_init();
  if (none == nullptr) return fail_errno(errno);
  const int rc = cap_set_proc(none);
  const int err = errno;
  cap_free(none);
  if (rc != 0) return fail_errno(err);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail_errno(errno);
  return {};
}

}  // namespace ersatz::link
