// Synthetic LES-like source files for the tiles demo and tests (spec 9.4):
// cloud fields of a chosen spectrum on x/y (metres) or lat/lon, several time
// steps, deterministic from a seed, written as netCDF with CF attributes into
// <dataset>/source_data/LES/source_files/.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "tiles/meta.hpp"

namespace fluxrecon::tiles {

// Variables the generator knows: rlut (W m-2), lwp (kg m-2), cldmask (1).
const std::vector<std::string>& synthetic_les_variables();

// Cloud amount in [0, 1] of step `step` on the generator's grid ([y][x]).
std::vector<float> synthetic_cloud_amount(const SyntheticLesSpec& spec, int step);

// Collective: writes the files (round-robin over ranks, atomically); files
// that exist are kept. Returns the file paths.
std::vector<std::string> write_synthetic_les(const SyntheticLesSpec& spec, const std::string& dir,
                                             MPI_Comm comm);

}  // namespace fluxrecon::tiles
