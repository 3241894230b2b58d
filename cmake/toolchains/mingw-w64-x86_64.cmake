# Cross-compiling ersatz for 64-bit Windows with Debian's mingw-w64
# (g++-mingw-w64-x86-64). The result is one static ersatz.exe: libstdc++,
# libgcc and winpthreads are linked in, so nothing but system DLLs (and
# Npcap's wpcap.dll, loaded at run time) is needed on the target.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(ERSATZ_MINGW_TRIPLE x86_64-w64-mingw32)
# The win32 thread model: ersatz starts no threads, and this variant needs
# no winpthread DLL beside the program.
find_program(CMAKE_CXX_COMPILER NAMES ${ERSATZ_MINGW_TRIPLE}-g++-win32 ${ERSATZ_MINGW_TRIPLE}-g++
             REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${ERSATZ_MINGW_TRIPLE}-windres)

# Libraries and packages come from the mingw sysroot only; programs (the
# compiler, pkg-config) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${ERSATZ_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# Release at -O2 rather than -O3: at -O3 mingw's GCC 12 reports a false
# -Wstringop-overflow inside std::vector::push_back, which the windows
# preset's -Werror would turn into a failed build.
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Flags for Release builds")
