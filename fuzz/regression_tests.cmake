# Replays the fuzz corpora and every crash ever found, without libFuzzer, in
# the ordinary builds (gcc dev, asan). Include it from tests/CMakeLists.txt:
#
#   include(${PROJECT_SOURCE_DIR}/fuzz/regression_tests.cmake)
#
# Each fuzz/<name>.cpp is linked with standalone_main.cpp into
# replay_<name>, and the test fuzz_replay_<name> runs it over
# fuzz/corpus/<name> and fuzz/regressions/<name>. The replay fails when a
# directory holds no files, so a test cannot pass having run nothing.
set(ERSATZ_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(ERSATZ_FUZZ_REPLAYS
  fuzz_checksum
  fuzz_ethernet
  fuzz_arp
  fuzz_ipv4
  fuzz_icmpv4
  fuzz_decode
  fuzz_pcap
  fuzz_tpacket
  fuzz_txstamp
  fuzz_stack
  fuzz_ipv6
  fuzz_icmpv6
  fuzz_tcp
  fuzz_udp
  fuzz_trace)

# A target added to fuzz/ but not here would go unreplayed.
file(GLOB _ersatz_fuzz_sources RELATIVE ${ERSATZ_FUZZ_DIR} ${ERSATZ_FUZZ_DIR}/fuzz_*.cpp)
foreach(src IN LISTS _ersatz_fuzz_sources)
  string(REGEX REPLACE "\\.cpp$" "" _name ${src})
  if(NOT _name IN_LIST ERSATZ_FUZZ_REPLAYS)
    message(FATAL_ERROR "fuzz/${src} has no replay test: add ${_name} to ERSATZ_FUZZ_REPLAYS "
                        "in fuzz/regression_tests.cmake (and to fuzz/CMakeLists.txt)")
  endif()
endforeach()

add_library(ersatz_fuzz_standalone_main OBJECT ${ERSATZ_FUZZ_DIR}/standalone_main.cpp)
target_link_libraries(ersatz_fuzz_standalone_main PRIVATE ersatz_flags)

foreach(name IN LISTS ERSATZ_FUZZ_REPLAYS)
  add_executable(replay_${name} ${ERSATZ_FUZZ_DIR}/${name}.cpp)
  target_link_libraries(replay_${name} PRIVATE ersatz_fuzz_standalone_main ersatz::ersatz
                                               ersatz_flags)
  add_test(NAME fuzz_replay_${name}
           COMMAND replay_${name} ${ERSATZ_FUZZ_DIR}/corpus/${name}
                   ${ERSATZ_FUZZ_DIR}/regressions/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endforeach()
