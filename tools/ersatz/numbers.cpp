// Option values read as iputils reads them (see numbers.hpp).
#include "numbers.hpp"

#include <fmt/format.h>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ersatz::tools {

std::optional<long long> parse_whole(const std::string& text, int base) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, base);
  if (errno == ERANGE || end == text.c_str() || *end != '\0') return std::nullopt;
  return v;
}

tl::expected<long long, std::string> parse_integer(const std::string& text, long long lo,
                                                   long long hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno == ERANGE)
    return tl::unexpected(fmt::format("invalid argument: '{}': {}", text, std::strerror(ERANGE)));
  if (end == text.c_str() || *end != '\0')
    return tl::unexpected(fmt::format("invalid argument: '{}'", text));
  if (v < lo || v > hi)
    return tl::unexpected(
        fmt::format("invalid argument: '{}': out of range: {} <= value <= {}", text, lo, hi));
  return v;
}

LenientReal parse_real_lenient(const std::string& text) {
  LenientReal r;
  errno = 0;
  char* end = nullptr;
  r.value = std::strtod(text.c_str(), &end);
  if (errno == ERANGE || std::isnan(r.value) || std::isinf(r.value)) {
    r.out_of_range = true;
    return r;
  }
  if (*end != '\0' || end == text.c_str()) r.garbage = std::string(end);
  return r;
}

}  // namespace ersatz::tools
