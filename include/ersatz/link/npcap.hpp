// Npcap, the capture driver ersatz uses on Windows: the errors of loading
// it, shared by every platform's tools so that they can test for them
// without #ifdefs (on Linux they never occur).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace ersatz::link {

/// The one line a tool prints when Npcap is missing (and exits 2).
inline constexpr std::string_view npcap_not_installed =
    "Npcap is not installed; get it from https://npcap.com";

enum class NpcapError : std::uint8_t {
  not_installed = 1,    ///< no wpcap.dll in System32\Npcap or System32
  missing_entry_point,  ///< a wpcap.dll without a function ersatz needs
  failure,              ///< wpcap reported an error (its text goes to `detail`)
};

namespace detail {
class NpcapCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "npcap"; }
  std::string message(int ev) const override {
    switch (static_cast<NpcapError>(ev)) {
      case NpcapError::not_installed: return std::string(npcap_not_installed);
      case NpcapError::missing_entry_point:
        return "wpcap.dll lacks a function ersatz needs; install a current Npcap";
      case NpcapError::failure: return "Npcap error";
    }
    return "Npcap error";
  }
};
}  // namespace detail

inline const std::error_category& npcap_category() noexcept {
  static const detail::NpcapCategory category;
  return category;
}
inline std::error_code make_error_code(NpcapError e) noexcept {
  return {static_cast<int>(e), npcap_category()};
}

}  // namespace ersatz::link

template <>
struct std::is_error_code_enum<ersatz::link::NpcapError> : std::true_type {};
