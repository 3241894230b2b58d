// Selecting the discovery source: portable bookkeeping; each platform's
// list_* functions read current_source().
#include "ersatz/os/source.hpp"

#include <atomic>

namespace ersatz::os {
namespace {

std::atomic<Source> g_source{Source::automatic};

constexpr Source platform_default() noexcept {
#if defined(_WIN32)
  return Source::iphlpapi;
#else
  return Source::netlink;
#endif
}

}  // namespace

Result<Source> parse_source(std::string_view name) noexcept {
  if (name == "auto") return Source::automatic;
  if (name == "netlink") return Source::netlink;
  if (name == "iphlpapi") return Source::iphlpapi;
  if (name == "wmi") return Source::wmi;
  return fail(std::errc::invalid_argument);
}

std::string_view to_string(Source s) noexcept {
  switch (s) {
    case Source::automatic: return "auto";
    case Source::netlink: return "netlink";
    case Source::iphlpapi: return "iphlpapi";
    case Source::wmi: return "wmi";
  }
  return "auto";
}

bool source_available(Source s) noexcept {
#if defined(_WIN32)
  return s == Source::automatic || s == Source::iphlpapi || s == Source::wmi;
#else
  return s == Source::automatic || s == Source::netlink;
#endif
}

Result<void> set_source(Source s) noexcept {
  if (!source_available(s)) return fail(std::errc::not_supported);
  g_source.store(s == Source::automatic ? platform_default() : s);
  return {};
}

Source current_source() noexcept {
  const Source s = g_source.load();
  return s == Source::automatic ? platform_default() : s;
}

}  // namespace ersatz::os
