# Fuzz targets of the fabric simulator's parsers, included from
# tests/torture/CMakeLists.txt (the fuzz targets of the wire codecs and the trace
# reader are in tests/fuzz/CMakeLists.txt and tests/trace/).
#   name_server_fuzz: a switch's login server, name server and replication
#   topology_fuzz:    the topology YAML parser
# Each has a replay test, always built, that drives it with its seed corpus
# (tests/fuzz/corpus/<target>/) and deterministic mutations of it, so every CI
# configuration (including SPLITPATH_SANITIZE) runs it on malformed input.
set(_fabric_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
foreach(_target name_server_fuzz topology_fuzz)
  splitpath_add_test(${_target}_replay_test
    SOURCES ${_fabric_fuzz_dir}/${_target}.cc ${_fabric_fuzz_dir}/${_target}_replay_test.cc
    LIBS splitpath_fabric)
  target_include_directories(${_target}_replay_test PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${_target}_replay_test PRIVATE
    SPLITPATH_FUZZ_CORPUS_DIR="${_fabric_fuzz_dir}/corpus")
endforeach()

# With SPLITPATH_FUZZ (clang): the libFuzzer binaries. The sources under test
# are compiled into each (instrumented, so libFuzzer sees their coverage and
# ASan their memory). Run one on a copy of its corpus:
#   cp -r tests/fuzz/corpus/<target> /tmp/c && ./<target> -max_total_time=45 /tmp/c
# name_server_fuzz needs all of splitpath_fabric built with clang, topology_fuzz
# only the topology sources. tools/ci-fuzz.sh runs both in CI.
if(SPLITPATH_FUZZ)
  set(_sim ${PROJECT_SOURCE_DIR}/fabric_sim)
  add_executable(topology_fuzz ${_fabric_fuzz_dir}/topology_fuzz.cc
    ${_sim}/topology/topology_yaml.cc ${_sim}/topology/topology_validate.cc
    ${_sim}/topology/yaml_fields.cc ${_sim}/topology/field_lines.cc ${_sim}/topology/units.cc
    ${_sim}/topology/wwn.cc ${_sim}/kernel/rng.cc)
  target_link_libraries(topology_fuzz PRIVATE splitpath_headers yaml-cpp absl::status
                        absl::statusor absl::strings fmt::fmt)
  add_executable(name_server_fuzz ${_fabric_fuzz_dir}/name_server_fuzz.cc
    ${_sim}/switch/fabric_services.cc ${_sim}/switch/name_server_db.cc ${_sim}/switch/switch.cc
    ${_sim}/switch/zoning.cc)
  target_link_libraries(name_server_fuzz PRIVATE splitpath_fabric)
  foreach(_target name_server_fuzz topology_fuzz)
    target_include_directories(${_target} PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_options(${_target} PRIVATE -fsanitize=fuzzer,address,undefined
                                              -fno-sanitize-recover=undefined)
    target_link_options(${_target} PRIVATE -fsanitize=fuzzer,address,undefined)
  endforeach()
endif()
