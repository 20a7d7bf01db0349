// PnetCDF backend of GridFile: classic (CDF-1), 64-bit offset (CDF-2) and
// CDF-5 files, read with collective MPI-IO.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "io/grid_file.hpp"

namespace fluxrecon::io {

// Collective. Opens `path` (already detected as `format`) read-only on `comm`.
std::unique_ptr<GridFile> open_pnetcdf_file(const std::string& path, Format format, MPI_Comm comm);

}  // namespace fluxrecon::io
