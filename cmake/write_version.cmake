# Writes OUTPUT (version.cpp) from cmake/version.cpp.in, run at every build
# (cmake -P) so that the revision follows commits without a reconfigure.
# The file is rewritten only when its text changes, so an unchanged tree
# recompiles nothing.
execute_process(
  COMMAND git describe --always --dirty --abbrev=12
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE ERSATZ_GIT_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE git_result)
if(NOT git_result EQUAL 0 OR ERSATZ_GIT_REVISION STREQUAL "")
  set(ERSATZ_GIT_REVISION unknown)
endif()
set(ERSATZ_VERSION ${VERSION})
configure_file(${SOURCE_DIR}/cmake/version.cpp.in ${OUTPUT}.tmp @ONLY)
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
