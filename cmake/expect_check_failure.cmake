# Runs a check script on inputs that must fail it, and passes only if the
# script fails with output matching EXPECT: proves a check can fail.
#
#   cmake -DCHECK=script.cmake -DEXPECT=regex [-DNM=nm] -DINPUTS="a;b" -P expect_check_failure.cmake
cmake_policy(VERSION 3.25)
execute_process(
  COMMAND "${CMAKE_COMMAND}" "-DNM=${NM}" "-DINPUTS=${INPUTS}" "-DFILES=${INPUTS}" -P "${CHECK}"
  OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
if(_rc EQUAL 0)
  message(FATAL_ERROR "${CHECK} accepted ${INPUTS}, which it must refuse")
endif()
if(NOT "${_out}${_err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "${CHECK} failed without the expected '${EXPECT}':\n${_out}${_err}")
endif()
message(STATUS "refused as expected:\n${_err}")
