// Parallel-HDF5 backend of GridFile for netCDF-4 files: netCDF variables are
// HDF5 datasets of the same name, dimensions are HDF5 dimension scales.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "io/grid_file.hpp"

namespace fluxrecon::io {

// Collective. Opens the netCDF-4 file `path` read-only on `comm` (MPI-IO driver).
std::unique_ptr<GridFile> open_hdf5_file(const std::string& path, MPI_Comm comm);

}  // namespace fluxrecon::io
