# Fails if a firmware source includes anything but include/splitpath/,
# fp_firmware/ or an allowed C++ standard header.
#
#   cmake -DROOT=fp_firmware [-DSTAMP=file] -P check_firmware_includes.cmake
#   cmake -DFILES="a.cc;b.h" -P check_firmware_includes.cmake
#
# With ROOT it checks every .cc and .h under it except the tests (*_test.cc,
# *_test_fixture.h), the deliberately bad samples of checks/ and the
# footprint/ tool, which run on the target but are not firmware.
#
# Quoted includes must name "splitpath/..." (the public headers) or
# "fp_firmware/..." (the firmware itself). Angle includes must be one of the
# C++ standard headers below: those that neither allocate nor reach the OS by
# themselves (no containers, streams, threads, files, locale), so a firmware
# file cannot pull in the heap through a header. C headers (<stdlib.h>, ...)
# are refused: the firmware uses <cstdint>, <cstring>, ...
# Every offending line is reported as FILE:LINE, then the script fails.
cmake_policy(VERSION 3.25)
set(_allowed_std
    algorithm array atomic bit cassert cinttypes climits compare concepts cstddef cstdint
    cstring initializer_list iterator limits new numeric optional ratio span type_traits
    utility version)

if(ROOT)
  file(GLOB_RECURSE FILES "${ROOT}/*.cc" "${ROOT}/*.h")
  list(FILTER FILES EXCLUDE REGEX "(_test\\.cc|_test_fixture\\.h)$")
  list(FILTER FILES EXCLUDE REGEX "^${ROOT}/(checks|footprint)/")
endif()
if(NOT FILES)
  message(FATAL_ERROR "check_firmware_includes: no files to check (ROOT or FILES)")
endif()
set(_errors "")
foreach(_file IN LISTS FILES)
  file(STRINGS "${_file}" _lines)
  set(_n 0)
  foreach(_line IN LISTS _lines)
    math(EXPR _n "${_n} + 1")
    if(NOT _line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
      continue()
    endif()
    set(_kind "${CMAKE_MATCH_1}")
    set(_header "${CMAKE_MATCH_2}")
    if(_kind STREQUAL "\"")
      if(NOT _header MATCHES "^(splitpath|fp_firmware)/" OR _header MATCHES "\\.\\.")
        string(APPEND _errors "${_file}:${_n}: #include \"${_header}\" is outside include/splitpath/ and fp_firmware/\n")
      endif()
    elseif(NOT _header IN_LIST _allowed_std)
      string(APPEND _errors "${_file}:${_n}: #include <${_header}> is not an allowed C++ standard header\n")
    endif()
  endforeach()
endforeach()
if(_errors)
  # Plain NOTICE output is not re-wrapped, so each error stays one FILE:LINE line.
  message(NOTICE "${_errors}")
  message(FATAL_ERROR "firmware include check failed")
endif()
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
