// The cell areas a reconstruction cache carries (variable cell_area), so
// that area-weighted sums of its fluxes need nothing but the cache: the
// dataset's grid metrics (e1t * e2t) when it names them and the input file
// has them, else areas computed from the cell centres. Duplicated ORCA halo
// columns and north-fold points get area 0, so that a sum over the grid
// counts every ocean cell once.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "io/grid_file.hpp"

namespace fluxrecon::recon {

struct CellAreas {
  std::vector<double> area;   // [rows][nx] of this rank's rows, m^2
  bool from_metrics = false;  // e1t * e2t (true) or from the cell centres
  std::string source;         // one sentence for the cache's attributes
};

// Collective over `comm` (the communicator `grid` was loaded on). Errors
// name the file and variable: metrics of the wrong shape, or an ocean
// point whose area is missing or not positive.
CellAreas cell_areas(io::GridFile& file, const data::DatasetDescription& dataset,
                     const data::Grid& grid, MPI_Comm comm);

}  // namespace fluxrecon::recon
