# Host discovery: route selection over hand-made tables (unprivileged), the
# CLI's arguments and exit codes, and a netns lab that compares ersatz with
# iproute2 on the same kernel state (root only; skips otherwise).
add_executable(discovery_tests unit/discovery_test.cpp)
target_link_libraries(discovery_tests PRIVATE ersatz::ersatz GTest::gtest_main ersatz_flags)
gtest_discover_tests(discovery_tests DISCOVERY_TIMEOUT 60)

# Read-only on the host: lists its interfaces and routes.
add_test(NAME cli_discovery COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lab/discovery_cli.sh
                                    $<TARGET_FILE:ersatz_cli>)
set_tests_properties(cli_discovery PROPERTIES TIMEOUT 60)

add_test(NAME lab_discovery COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lab/discovery_lab.sh
                                    $<TARGET_FILE:ersatz_cli>)
set_tests_properties(lab_discovery PROPERTIES SKIP_RETURN_CODE 77 LABELS lab RUN_SERIAL TRUE
                                              TIMEOUT 120)
