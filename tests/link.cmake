# Raw link-layer devices. Unit tests need no privileges: the TPACKET_V3
# walker on hostile synthetic blocks, the transmit-timestamp control parser
# on hostile control bytes, the hand-built BPF filter against libpcap's
# compiler, and the run-time libpcap loader. They link libpcap
# (ersatz_pcap) to run programs in its interpreter; the library does not.
# The lab scripts (root only; they skip otherwise) send
# and receive across veth pairs and a TAP inside throwaway namespaces.
add_executable(link_raw_tests unit/link_bpf_test.cpp unit/pcap_library_test.cpp)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_sources(link_raw_tests PRIVATE unit/af_packet_ring_test.cpp unit/privileges_test.cpp
                                        unit/tx_timestamp_test.cpp)
endif()
target_link_libraries(link_raw_tests PRIVATE ersatz::ersatz ersatz_pcap GTest::gtest_main
                                             ersatz_flags)
target_compile_definitions(link_raw_tests PRIVATE ERSATZ_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data")
gtest_discover_tests(link_raw_tests DISCOVERY_TIMEOUT 60)

# The lab's driver: opens a device by backend, sends crafted echo requests
# or prints what it receives, and reports its capabilities after opening.
add_executable(link_probe lab/link_probe.cpp)
target_link_libraries(link_probe PRIVATE ersatz::ersatz ersatz_flags)

foreach(lab backends dump)
  add_test(NAME lab_link_${lab}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lab/link_${lab}.sh $<TARGET_FILE:link_probe>
                   $<TARGET_FILE:ersatz_cli>)
  set_tests_properties(lab_link_${lab} PROPERTIES SKIP_RETURN_CODE 77 LABELS lab RUN_SERIAL TRUE
                                                  TIMEOUT 240)
endforeach()

# libpcap and libnl are loaded at run time, where they are used: the ersatz
# binary must not record either as needed (readelf lists DT_NEEDED), nor
# pull them in through another library. The labs check the run-time half.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  add_test(NAME cli_optional_libraries_not_linked
           COMMAND sh -c "ldd \"$0\" >/dev/null && ! ldd \"$0\" | grep -E 'libpcap|libnl'"
                   $<TARGET_FILE:ersatz_cli>)
endif()
