# Raw link-layer devices: AF_PACKET and TAP (Linux), libpcap on every
# platform (Npcap on Windows), the device factory and BPF helpers. Included
# from src/link/CMakeLists.txt.
#
# libpcap is not linked, anywhere: pcap_library.cpp loads it when the pcap
# backend or the filter compiler is first used, so ersatz starts without it
# (and without the libraries Debian's libpcap brings: libdbus, libsystemd,
# libgcrypt, ...).
target_sources(ersatz_link PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/bpf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/open_device.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pcap_library.cpp
  ${CMAKE_CURRENT_LIST_DIR}/libpcap_device.cpp)

if(WIN32)
  # Adapters are looked up through ersatz_os (IP Helper), which also holds
  # the Win32 error categories.
  target_sources(ersatz_link PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/windows/adapter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/windows/privileges.cpp)
  target_link_libraries(ersatz_link PRIVATE ersatz_os advapi32)
  return()
endif()

if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_sources(ersatz_link PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/linux/privileges.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/unique_fd.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/netif.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/tpacket_ring.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/tx_timestamp.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/cmsg.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/rx_control.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/af_packet.cpp
    ${CMAKE_CURRENT_LIST_DIR}/linux/tap_device.cpp
    # Threads and std::atomic::wait: mingw's win32 thread model has neither.
    ${CMAKE_CURRENT_LIST_DIR}/parallel_tx.cpp)
  find_package(Threads REQUIRED)
  target_link_libraries(ersatz_link PUBLIC Threads::Threads)
endif()

# ersatz_pcap links libpcap itself, for the tests that hold ersatz's programs
# up to libpcap's own interpreter (tests/link.cmake); nothing in the library
# or the tool uses it. pkg-config where it exists, else the library itself.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PCAP QUIET IMPORTED_TARGET GLOBAL libpcap)
endif()
add_library(ersatz_pcap INTERFACE)
if(TARGET PkgConfig::PCAP)
  target_link_libraries(ersatz_pcap INTERFACE PkgConfig::PCAP)
else()
  find_path(PCAP_INCLUDE_DIR pcap/pcap.h REQUIRED)
  find_library(PCAP_LIBRARY NAMES pcap REQUIRED)
  target_include_directories(ersatz_pcap INTERFACE ${PCAP_INCLUDE_DIR})
  target_link_libraries(ersatz_pcap INTERFACE ${PCAP_LIBRARY})
endif()
