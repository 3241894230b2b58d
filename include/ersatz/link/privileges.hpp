// Least privilege: ersatz needs CAP_NET_RAW to open a raw device (and
// CAP_NET_ADMIN for a few features), and nothing once it is open.
#pragma once

#include <string_view>

#include "ersatz/base/result.hpp"

namespace ersatz::link {

/// The one line a tool prints when it cannot open a raw device.
inline constexpr std::string_view needs_cap_net_raw =
    "needs CAP_NET_RAW: run as root or setcap cap_net_raw+ep ersatz";

/// Whether CAP_NET_RAW is in the effective set.
bool has_cap_net_raw() noexcept;

/// Clears every capability (effective, permitted, inheritable) and sets
/// no_new_privs, so that nothing can bring them back. Call it once the
/// devices are open.
Result<void> drop_privileges() noexcept;

}  // namespace ersatz::link
