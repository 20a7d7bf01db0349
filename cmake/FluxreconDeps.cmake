# Find recipes verified on Debian 12 (see shared/docs/DEPS.md).
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PNETCDF REQUIRED IMPORTED_TARGET pnetcdf)
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "fluxrecon needs a parallel HDF5 (Debian: libhdf5-openmpi-dev); found a serial one at ${HDF5_INCLUDE_DIRS}")
endif()
if(NOT TARGET hdf5::hdf5)
  add_library(hdf5::hdf5 INTERFACE IMPORTED)
  set_target_properties(hdf5::hdf5 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HDF5_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${HDF5_LIBRARIES}")
endif()
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
# Debian's XGBoost config references /usr/bin/xgboost (package xgboost).
find_package(xgboost REQUIRED)
# oneDNN 2.6 (Debian libdnnl-dev): the neural models' training primitives.
find_package(dnnl REQUIRED)
# PLplot 5.15: its CMake package is broken on Debian, pkg-config works (pngcairo driver for PNGs).
pkg_check_modules(PLPLOTCXX REQUIRED IMPORTED_TARGET plplot-c++)

# Kokkos: Debian's Trilinos build (Serial) by default; a user-built Kokkos
# (OpenMP, CUDA) is picked up through the standard Kokkos_ROOT.
find_package(Kokkos REQUIRED)
if(Kokkos_INCLUDE_DIRS)
  get_filename_component(_fr_kokkos_inc "${Kokkos_INCLUDE_DIRS}" REALPATH)
  # Trilinos' exported target points at /usr/lib/include, which does not exist.
  if(EXISTS "${_fr_kokkos_inc}/Kokkos_Core.hpp")
    set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_fr_kokkos_inc}")
  endif()
endif()
if(COMMAND kokkos_check)
  message(STATUS "Kokkos ${Kokkos_VERSION} devices: ${Kokkos_DEVICES}")
endif()
# PROJ (Debian libproj-dev) for the tile datasets' LAEA and geostationary projections.
pkg_check_modules(PROJ REQUIRED IMPORTED_TARGET proj)
