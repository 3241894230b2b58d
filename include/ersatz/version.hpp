// The library's version and the source revision it was built from.
#pragma once

#include <string_view>

namespace ersatz {

/// The release, "MAJOR.MINOR.PATCH" (CMake's project version).
std::string_view version() noexcept;

/// `git describe --always --dirty` of the tree that was built, or
/// "unknown" when it was built outside a git checkout (a release tarball).
std::string_view git_revision() noexcept;

}  // namespace ersatz
