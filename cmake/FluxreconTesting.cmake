include(GoogleTest)
find_package(GTest REQUIRED)

# fluxrecon_add_test(NAME SOURCES files... [MPI] [TIMEOUT s])
# One GoogleTest suite. Without MPI it runs as one process. With MPI every test
# is registered at 1 rank ("np1:") and at 2 ranks ("np2:"): the sources are
# compiled once into an object library and linked into one executable per rank
# count, whose CROSSCOMPILING_EMULATOR is the MPI launcher. Every test has a
# TIMEOUT so that a hang fails instead of blocking CI.
function(fluxrecon_add_test name)
  cmake_parse_arguments(ARG "MPI" "TIMEOUT" "SOURCES" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_library(${name}_objs OBJECT ${ARG_SOURCES} "${PROJECT_SOURCE_DIR}/tests/test_main.cpp")
  target_link_libraries(${name}_objs PUBLIC fluxrecon_lib GTest::gtest PRIVATE fluxrecon_warnings)
  target_include_directories(${name}_objs PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  target_compile_definitions(${name}_objs PRIVATE
    FLUXRECON_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data"
    FLUXRECON_BINARY="$<TARGET_FILE:fluxrecon>"
    FLUXRECON_MPIEXEC="${MPIEXEC_EXECUTABLE}")
  set(_env "OMP_NUM_THREADS=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")
  if(ARG_MPI)
    set(_nps 1 2)
  else()
    set(_nps 0)
  endif()
  foreach(np ${_nps})
    if(np EQUAL 0)
      set(_exe ${name})
    else()
      set(_exe ${name}_np${np})
    endif()
    add_executable(${_exe} $<TARGET_OBJECTS:${name}_objs>)
    target_link_libraries(${_exe} PRIVATE ${name}_objs fluxrecon_warnings)
    add_dependencies(${_exe} fluxrecon)
    if(np EQUAL 0)
      gtest_discover_tests(${_exe} DISCOVERY_TIMEOUT 120
        PROPERTIES TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${_env}")
    else()
      set_target_properties(${_exe} PROPERTIES CROSSCOMPILING_EMULATOR
        "${MPIEXEC_EXECUTABLE};-n;${np};--allow-run-as-root;--oversubscribe")
      gtest_discover_tests(${_exe} TEST_PREFIX "np${np}:" DISCOVERY_TIMEOUT 120
        PROPERTIES PROCESSORS ${np} TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${_env}")
    endif()
  endforeach()
endfunction()
