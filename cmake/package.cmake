# Packages, made by CPack from the install components (cmake/install.cmake):
#   Debian: `ersatz` (binary, man pages, completions; its postinst gives the
#   binary cap_net_raw+ep, as iputils-ping's does), `libersatz0` (the shared
#   library, with its shlibs file and ldconfig trigger) and `ersatz-dev`
#   (headers, static libraries, CMake and pkg-config files);
#   Windows: a zip of ersatz.exe and a README.
# Build them with `cpack` in a build directory (tests/package/deb_package.sh).
set(CPACK_PACKAGE_NAME ersatz)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the ersatz authors")
set(CPACK_PACKAGE_CONTACT "ersatz maintainers <maintainers@ersatz.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "userspace network stack and tools: ping, arping, fping, traceroute, tcpdump")
set(CPACK_STRIP_FILES ON)

if(WIN32)
  set(CPACK_GENERATOR ZIP)
  set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)
  set(CPACK_PACKAGE_FILE_NAME ersatz-${PROJECT_VERSION}-windows-x86_64)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/README.windows.txt DESTINATION . RENAME README.txt
          COMPONENT ersatz)
  include(CPack)
  return()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ersatz lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_ERSATZ_PACKAGE_NAME ersatz)
set(CPACK_DEBIAN_ERSATZ_PACKAGE_SECTION net)
# setcap for the postinst; libnl-route-3 and libpcap are opened at run time
# (dlopen), so dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_ERSATZ_PACKAGE_DEPENDS "libcap2-bin, libnl-route-3-200")
set(CPACK_DEBIAN_ERSATZ_PACKAGE_RECOMMENDS "libpcap0.8")
set(CPACK_DEBIAN_ERSATZ_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/postinst)
set(CPACK_COMPONENT_ERSATZ_DESCRIPTION
    "userspace network stack and its tools\n ersatz speaks Ethernet, ARP, IPv4 and ICMP itself, over a raw link-layer\n socket, and ships drop-in replacements for ping, arping, fping,\n traceroute and tcpdump built on it.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libersatz${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
# ldconfig through dpkg's trigger, as Debian's policy asks (§8.1.1).
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/triggers)
set(CPACK_COMPONENT_LIB_DESCRIPTION
    "userspace network stack: shared library\n The shared libersatz: codecs, devices, the host stack and its runtime.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME ersatz-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libersatz${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION}), libfmt-dev, libexpected-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "userspace network stack: headers and libraries\n Packet crafting and decoding (Ethernet, 802.1Q, ARP, IPv4, ICMP), devices,\n a sans-I/O host stack and its runtime, for find_package(ersatz) and\n pkg-config.")

# Every package carries its copyright file and changelog, as Debian's
# policy asks (§12.5, §12.7).
set(changelog_gz ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(OUTPUT ${changelog_gz}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/changelog > ${changelog_gz}
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog)
add_custom_target(ersatz_changelog ALL DEPENDS ${changelog_gz})
foreach(component ersatz lib dev)
  set(doc_name ersatz)
  if(component STREQUAL "dev")
    set(doc_name ersatz-dev)
  elseif(component STREQUAL "lib")
    set(doc_name libersatz${PROJECT_VERSION_MAJOR})
  endif()
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright ${changelog_gz}
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${doc_name} COMPONENT ${component})
endforeach()

include(CPack)
