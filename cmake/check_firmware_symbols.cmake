# Fails if a firmware archive or object needs the heap, exceptions or RTTI:
# it lists the undefined symbols with nm and refuses
#   - operator new / new[] / delete / delete[] (any overload; placement new
#     is inline and never appears as a symbol),
#   - malloc, calloc, realloc, free, aligned_alloc, posix_memalign, memalign,
#     valloc, strdup,
#   - __cxa_allocate_exception, __cxa_throw, __cxa_rethrow, __cxa_begin_catch,
#     __gxx_personality_v0 and the library's std::__throw_* helpers,
#   - typeinfo (_ZTI*, _ZTS*, the __cxxabiv1 type_info vtables), __dynamic_cast,
#     __cxa_bad_cast, __cxa_bad_typeid.
#
#   cmake -DNM=/path/to/nm -DINPUTS="libx.a;liby.a" -P check_firmware_symbols.cmake
#
# Every offending symbol is reported with the file needing it.
cmake_policy(VERSION 3.25)
if(NOT NM OR NOT INPUTS)
  message(FATAL_ERROR "check_firmware_symbols: NM and INPUTS are required")
endif()
set(_bad_regex
    "^(_Zn[wa][jmy].*|_Zd[la]Pv.*|malloc|calloc|realloc|free|aligned_alloc|posix_memalign|memalign|valloc|strdup|__cxa_allocate_exception|__cxa_throw|__cxa_rethrow|__cxa_begin_catch|__gxx_personality_v0|_ZSt[0-9]+__throw_.*|_ZTI.*|_ZTS.*|_ZTVN10__cxxabiv1.*|__dynamic_cast|__cxa_bad_cast|__cxa_bad_typeid)$")
set(_errors "")
foreach(_input IN LISTS INPUTS)
  execute_process(COMMAND "${NM}" --undefined-only --format=posix "${_input}"
                  OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "check_firmware_symbols: ${NM} failed on ${_input}: ${_err}")
  endif()
  string(REPLACE "\n" ";" _lines "${_out}")
  set(_member "")
  foreach(_line IN LISTS _lines)
    # "archive[member.o]:" heads each member's list; symbols are "name U".
    if(_line MATCHES "^(.*\\[.*\\]):$")
      set(_member "${CMAKE_MATCH_1}")
      continue()
    endif()
    if(NOT _line MATCHES "^([^ ]+) U")
      continue()
    endif()
    set(_sym "${CMAKE_MATCH_1}")
    # A versioned reference (name@GLIBC_...) is the same function.
    string(REGEX REPLACE "@.*$" "" _sym "${_sym}")
    if(_sym MATCHES "${_bad_regex}")
      if(NOT _member)
        set(_member "${_input}")
      endif()
      string(APPEND _errors "${_member}: needs ${_sym}\n")
    endif()
  endforeach()
endforeach()
if(_errors)
  message(NOTICE "${_errors}")
  message(FATAL_ERROR "firmware symbol check failed (heap, exceptions or RTTI in the firmware)")
endif()
