# Raw link-layer devices: AF_PACKET and TAP (Linux), libpcap (Linux and
# other Unixes), Npcap loaded at run time (Windows), the device factory
# and BPF helpers. Included from src/link/CMakeLists.txt.
target_sources(ersatz_link PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/bpf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/open_device.cpp)

if(WIN32)
  # No libpcap to link: wpcap.dll is loaded when a device is opened, so
  # ersatz.exe runs (dump -r, interfaces, route) where Npcap is missing.
  # The Win32 error categories live in ersatz_os.
  target_sources(ersatz_link PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/windows/wpcap.cpp
    ${CMAKE_CURRENT_LIST_DIR}/windows/adapter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/windows/npcap_device.cpp
    ${CMAKE_CURRENT_LIST_DIR}/windows/privileges.cpp)
  target_link_libraries(ersatz_link PRIVATE ersatz_os iphlpapi advapi32)
  return()
endif()

target_sources(ersatz_link PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/libpcap_device.cpp
  ${CMAKE_CURRENT_LIST_DIR}/privileges.cpp)
target_link_libraries(ersatz_link PRIVATE cap)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_sources(ersatz_link PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/linux/unique_fd.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/netif.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/tpacket_ring.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/tx_timestamp.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/af_packet.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/tap_device.cpp)
endif()

# libpcap: pkg-config where it exists (Linux, macOS), else the library
# itself (Npcap's SDK on Windows ships no .pc file). Either way the target
# ersatz_pcap carries it, for the tests that use libpcap's compiler too.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PCAP QUIET IMPORTED_TARGET GLOBAL libpcap)
endif()
add_library(ersatz_pcap INTERFACE)
if(TARGET PkgConfig::PCAP)
  target_link_libraries(ersatz_pcap INTERFACE PkgConfig::PCAP)
else()
  find_path(PCAP_INCLUDE_DIR pcap/pcap.h REQUIRED)
  find_library(PCAP_LIBRARY NAMES pcap wpcap REQUIRED)
  target_include_directories(ersatz_pcap INTERFACE ${PCAP_INCLUDE_DIR})
  target_link_libraries(ersatz_pcap INTERFACE ${PCAP_LIBRARY})
endif()
target_link_libraries(ersatz_link PRIVATE ersatz_pcap)
