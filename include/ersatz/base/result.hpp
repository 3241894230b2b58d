// The one error model of ersatz.
//
// Result<T> is tl::expected<T, std::error_code>. Wire errors are a typed enum
// (ersatz::wire::Error) registered as an error-code enum, so a parser's
// failure compares equal to its enumerator, while OS failures carry the
// errno-based std::error_code they came with. One alias, no exceptions, and a
// single line to change when the toolchain gains std::expected.
#pragma once

#include <system_error>
#include <tl/expected.hpp>

namespace ersatz {

template <class T>
using Result = tl::expected<T, std::error_code>;

using tl::unexpected;

/// Shorthand for returning an error: `return fail(wire::Error::truncated);`
template <class E>
inline tl::unexpected<std::error_code> fail(E e) noexcept {
  return tl::unexpected<std::error_code>(make_error_code(e));
}

inline tl::unexpected<std::error_code> fail_errno(int e) noexcept {
  return tl::unexpected<std::error_code>(std::error_code(e, std::system_category()));
}

}  // namespace ersatz
