// Shared by the fuzz targets: a property check that aborts (libFuzzer saves
// the input; the replay fails), and small predicates over views and text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <string_view>

#include "ersatz/base/bytes.hpp"

/// Checks a property of the code under test; on violation prints it and aborts.
#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::ersatz_fuzz::violated(#cond, __FILE__, __LINE__))

/// For the checks' own loops over output text: libFuzzer's comparison
/// tracing would spend most of a run there (fuzz_decode's printable-text
/// checks took 60 % of its time) and steer mutations toward the checker
/// rather than the code under test. Clang only; the replays built by GCC
/// have no coverage to leave out.
#if defined(__clang__)
#define FUZZ_ORACLE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_ORACLE
#endif

namespace ersatz_fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "==ersatz-fuzz== property violated: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}

inline ersatz::ConstBytes input(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const std::byte*>(data), size};
}

/// True when `inner` lies inside `outer` (an empty view anywhere counts).
inline bool within(ersatz::ConstBytes outer, ersatz::ConstBytes inner) noexcept {
  if (inner.empty()) return true;
  const std::less_equal<const std::byte*> le;
  return le(outer.data(), inner.data()) &&
         le(inner.data() + inner.size(), outer.data() + outer.size());
}

/// True when `b` starts exactly where `a` ends.
inline bool adjacent(ersatz::ConstBytes a, ersatz::ConstBytes b) noexcept {
  return a.data() + a.size() == b.data();
}

inline bool same_bytes(ersatz::ConstBytes a, ersatz::ConstBytes b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

/// One line of printable ASCII: no control bytes (a terminal escape from a
/// hostile frame), no newline, nothing above 0x7e.
FUZZ_ORACLE inline bool printable_line(std::string_view s) noexcept {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

/// Printable lines as tcpdump prints them: one line, or continuation lines
/// each begun with "\n\t" (its hex dumps of data it does not decode, -v's
/// options) or "\n " (-v's line after the IPv4 header block).
FUZZ_ORACLE inline bool printable_lines(std::string_view s) noexcept {
  // Pointers, not s[i]: _GLIBCXX_ASSERTIONS checks every operator[].
  const char* end = s.data() + s.size();
  for (const char* p = s.data(); p != end; ++p) {
    if (*p == '\n') {
      if (end - p < 2 || (p[1] != '\t' && p[1] != ' ')) return false;
      ++p;
      continue;
    }
    const auto u = static_cast<unsigned char>(*p);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

}  // namespace ersatz_fuzz
