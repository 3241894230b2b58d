// Typed errors of the wire layer.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace ersatz::wire {

enum class Error : std::uint8_t {
  truncated = 1,     ///< fewer bytes than the header or a length field says
  bad_version,       ///< IPv4 version field is not 4
  bad_header_len,    ///< IHL below 5, or beyond the total length
  bad_total_len,     ///< IPv4 total length below the header length
  bad_checksum,      ///< Internet checksum does not verify
  bad_option,        ///< IPv4 option with a length of 0 or 1, or past the header
  bad_length,        ///< a length field that is inconsistent with the data
  unsupported,       ///< valid, but not a form this Repr describes
  too_many_tags,     ///< more stacked VLAN tags than a frame may carry here
  buffer_too_small,  ///< an emit buffer that is not buffer_len() bytes
};

/// Short, stable name of an error ("truncated", "bad-checksum", ...), used
/// in `malformed` reasons and one-line messages.
std::string_view to_string(Error e) noexcept;

const std::error_category& wire_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

}  // namespace ersatz::wire

template <>
struct std::is_error_code_enum<ersatz::wire::Error> : std::true_type {};
