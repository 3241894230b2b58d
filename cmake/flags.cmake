# Project-wide compile flags, applied through an interface target so that
# third-party code found by find_package is not affected.
add_library(ersatz_flags INTERFACE)
target_compile_options(ersatz_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                              -Wnon-virtual-dtor -Wcast-align)
if(ERSATZ_WERROR)
  target_compile_options(ersatz_flags INTERFACE -Werror)
endif()

# Sanitizers apply to everything we build (tests included), so that a
# sanitizer report in any ctest run fails it.
# libstdc++'s assertions turn an out-of-range span or vector index into an
# abort instead of silent UB; on for every checked build.
if(ERSATZ_WERROR OR ERSATZ_SANITIZE OR ERSATZ_FUZZ)
  add_compile_definitions(_GLIBCXX_ASSERTIONS)
endif()

if(ERSATZ_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(ERSATZ_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
