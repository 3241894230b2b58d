# What `cmake --install` puts where, split into two components that CPack
# turns into two packages (cmake/package.cmake):
#   ersatz: the binary, its man pages and shell completions;
#   dev:    public headers, the static layers, the shared libersatz, CMake
#           package files (find_package(ersatz)) and ersatz.pc.
# Linux only: the Windows build ships as a zip of ersatz.exe (package.cmake).
include(CMakePackageConfigHelpers)

install(TARGETS ersatz_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ersatz)
if(WIN32)
  return()
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
  EXPORT_NAME shared
  # Nothing of a static dependency is re-exported; unused libraries are
  # not recorded as needed.
  LINK_OPTIONS "LINKER:--exclude-libs,ALL;LINKER:--as-needed;LINKER:--no-undefined")

install(TARGETS ${ERSATZ_LAYERS} ersatz ersatz_flags ersatz_shared
  EXPORT ersatzTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
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
