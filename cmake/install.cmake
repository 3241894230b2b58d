# What `cmake --install` puts where, split into three components that CPack
# turns into three packages (cmake/package.cmake):
#   ersatz: the binary, its man pages and shell completions;
#   lib:    the shared libersatz.so.MAJOR;
#   dev:    public headers, the static layers, the libersatz.so link, CMake
#           package files (find_package(ersatz)) and ersatz.pc.
# Linux only: the Windows build ships as a zip of ersatz.exe (package.cmake).
include(CMakePackageConfigHelpers)

install(TARGETS ersatz_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ersatz)
if(WIN32)
  return()
endif()

# Shell completions, written by the binary itself from its own flags
# (`ersatz completion SHELL`), so that they cannot drift from the CLI.
set(completion_dir ${PROJECT_BINARY_DIR}/completions)
add_custom_command(
  OUTPUT ${completion_dir}/ersatz ${completion_dir}/_ersatz ${completion_dir}/ersatz.fish
  COMMAND ${CMAKE_COMMAND} -E make_directory ${completion_dir}
  COMMAND $<TARGET_FILE:ersatz_cli> completion bash > ${completion_dir}/ersatz
  COMMAND $<TARGET_FILE:ersatz_cli> completion zsh > ${completion_dir}/_ersatz
  COMMAND $<TARGET_FILE:ersatz_cli> completion fish > ${completion_dir}/ersatz.fish
  DEPENDS ersatz_cli
  COMMENT "ersatz: shell completions")
add_custom_target(ersatz_completions ALL DEPENDS ${completion_dir}/ersatz)
install(FILES ${completion_dir}/ersatz DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  COMPONENT ersatz)
install(FILES ${completion_dir}/_ersatz DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
  COMPONENT ersatz)
install(FILES ${completion_dir}/ersatz.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
  COMPONENT ersatz)

# Man pages: man/*.scd, turned into roff by scdoc (Debian: scdoc) and
# compressed as Debian's policy asks (gzip -n: the same bytes every build).
find_program(ERSATZ_SCDOC scdoc)
find_program(ERSATZ_GZIP gzip)
if(ERSATZ_SCDOC AND ERSATZ_GZIP)
  file(GLOB man_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.1.scd)
  set(man_pages)
  foreach(source IN LISTS man_sources)
    get_filename_component(page ${source} NAME_WLE)  # ersatz-ping.1
    set(out ${PROJECT_BINARY_DIR}/man/${page}.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${ERSATZ_SCDOC} < ${source} > ${PROJECT_BINARY_DIR}/man/${page}
      COMMAND ${ERSATZ_GZIP} -9nf ${PROJECT_BINARY_DIR}/man/${page}
      DEPENDS ${source}
      COMMENT "ersatz: man page ${page}")
    list(APPEND man_pages ${out})
  endforeach()
  add_custom_target(ersatz_man ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ersatz)
else()
  message(STATUS "ersatz: scdoc or gzip not found; man pages are not built")
endif()

# One static library per layer, exported as ersatz::base, ersatz::wire, ...
# ersatz_flags only carries our warning options (compile-time, never
# propagated to users); it is exported because the layers name it.
foreach(layer IN LISTS ERSATZ_LAYERS)
  string(REPLACE "ersatz_" "" short ${layer})
  set_target_properties(${layer} PROPERTIES EXPORT_NAME ${short} POSITION_INDEPENDENT_CODE ON)
endforeach()
set_target_properties(ersatz PROPERTIES EXPORT_NAME ersatz)
set_target_properties(ersatz_flags PROPERTIES EXPORT_NAME internal_flags)

# The shared library: every layer in one libersatz.so.MAJOR, for pkg-config
# and for programs that would rather not link the layers statically.
# Built from the layers' own object files (compiled position-independent).
set(layer_objects)
foreach(layer IN LISTS ERSATZ_LAYERS)
  list(APPEND layer_objects $<TARGET_OBJECTS:${layer}>)
endforeach()
add_library(ersatz_shared SHARED ${layer_objects})
add_dependencies(ersatz_shared ${ERSATZ_LAYERS})
find_package(Threads REQUIRED)
target_link_libraries(ersatz_shared PUBLIC ${ERSATZ_FMT} tl::expected PRIVATE Threads::Threads
                                           ${CMAKE_DL_LIBS})
target_include_directories(ersatz_shared PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(ersatz_shared PROPERTIES
  OUTPUT_NAME ersatz
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  EXPORT_NAME shared)
# Nothing of a static dependency is re-exported; unused libraries are not
# recorded as needed. Appended to the project's link options (a sanitizer
# build's -fsanitize among them), never replacing them.
target_link_options(ersatz_shared PRIVATE LINKER:--exclude-libs,ALL LINKER:--as-needed)
if(NOT ERSATZ_SANITIZE AND NOT ERSATZ_FUZZ)
  # Every symbol resolved at link time (sanitizer runtimes resolve theirs
  # at load time).
  target_link_options(ersatz_shared PRIVATE LINKER:--no-undefined)
endif()

# The shared object itself goes to the `lib` component (Debian: libersatz0),
# its libersatz.so link for the linker to `dev`.
install(TARGETS ${ERSATZ_LAYERS} ersatz ersatz_flags ersatz_shared
  EXPORT ersatzTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The public headers, and only those: src/ holds the private ones.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ersatz DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev FILES_MATCHING PATTERN "*.hpp")

set(ERSATZ_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ersatz)
install(EXPORT ersatzTargets NAMESPACE ersatz:: DESTINATION ${ERSATZ_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ersatzConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ersatzConfig.cmake INSTALL_DESTINATION ${ERSATZ_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ersatzConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ersatzConfig.cmake ${PROJECT_BINARY_DIR}/ersatzConfigVersion.cmake
  DESTINATION ${ERSATZ_CMAKE_DIR} COMPONENT dev)

# pkg-config: the shared library; `--static` lists what the layers need.
file(RELATIVE_PATH ERSATZ_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(${PROJECT_SOURCE_DIR}/cmake/ersatz.pc.in ${PROJECT_BINARY_DIR}/ersatz.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ersatz.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)

# The API reference: `cmake --build BUILD --target docs` runs Doxygen over
# the public headers into BUILD/docs/html.
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  set(DOXYGEN_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
  set(DOXYGEN_PROJECT_BRIEF "A userspace network stack: Ethernet, ARP, IPv4, ICMP, and the tools on top")
  set(DOXYGEN_EXTRACT_ALL YES)
  set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include)
  set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include)
  set(DOXYGEN_FULL_PATH_NAMES YES)
  set(DOXYGEN_GENERATE_LATEX NO)
  set(DOXYGEN_HAVE_DOT NO)
  set(DOXYGEN_QUIET YES)
  set(DOXYGEN_WARN_IF_UNDOCUMENTED NO)
  set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/design.md)
  doxygen_add_docs(docs ${PROJECT_SOURCE_DIR}/include/ersatz ${PROJECT_SOURCE_DIR}/docs/design.md
                   COMMENT "ersatz: API reference (Doxygen)")
endif()
