// Concepts shared by the zero-copy views of the wire layer.
#pragma once

#include <concepts>

#include "ersatz/base/bytes.hpp"

namespace ersatz {

/// A view is instantiated over read-only or writable bytes.
template <class S>
concept ByteSpan = std::same_as<S, ConstBytes> || std::same_as<S, MutBytes>;

/// Setters exist only on views over writable bytes.
template <class S>
concept MutableSpan = std::same_as<S, MutBytes>;

}  // namespace ersatz
