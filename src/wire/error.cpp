#include "ersatz/wire/error.hpp"

#include <string>

namespace ersatz::wire {

std::string_view to_string(Error e) noexcept {
  switch (e) {
    case Error::truncated: return "truncated";
    case Error::bad_version: return "bad-version";
    case Error::bad_header_len: return "bad-header-len";
    case Error::bad_total_len: return "bad-total-len";
    case Error::bad_checksum: return "bad-checksum";
    case Error::bad_option: return "bad-option";
    case Error::bad_length: return "bad-length";
    case Error::unsupported: return "unsupported";
    case Error::too_many_tags: return "too-many-tags";
    case Error::buffer_too_small: return "buffer-too-small";
  }
  return "unknown";
}

namespace {
class WireCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wire"; }
  std::string message(int ev) const override {
    return std::string(to_string(static_cast<Error>(ev)));
  }
};
}  // namespace

const std::error_category& wire_category() noexcept {
  static const WireCategory category;
  return category;
}

}  // namespace ersatz::wire
