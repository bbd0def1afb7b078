# ramp_module(NAME SOURCES <files…> DEPS <targets…>)
# One static library per module. Dependencies are PRIVATE unless listed under PUBLIC_DEPS. All of
# src/ is on the include path; scripts/check_includes.py (the check_includes target) fails the
# build when a module includes a header of a module it does not declare (docs/architecture.md).
function(ramp_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(${name} STATIC ${M_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ramp_seams ${M_PUBLIC_DEPS} PRIVATE ${M_DEPS})
endfunction()

# ramp_test(NAME SOURCES <files…> DEPS <targets…> [LABEL unit|integration|go])
# One GoogleTest binary; each TEST is discovered as its own ctest test when ctest runs. `go`: an
# integration test that needs a Go-built component (the Kubernetes test cluster, cosign, Argo's
# plugin); `make test` runs those last, once the background Go builds are done (one label only:
# a list does not survive gtest_discover_tests).
function(ramp_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
                       # One variable only: a ';' inside ENVIRONMENT does not survive
                       # gtest_discover_tests. Tests find the build dir via tests/harness.
                       ENVIRONMENT "RAMP_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
