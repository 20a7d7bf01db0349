// The per-year reconstruction caches: where a region's cache lies in the
// input grid (its crop), how one is written (collectively, under a temporary
// name) and whether an existing one is current. reconstruct.cpp fills the
// fields; the analysis reads them (analysis/cache_reader.hpp).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "data/regions.hpp"
#include "recon/cell_area.hpp"

namespace fluxrecon::recon {

// Days since <year>-01-01 of the 15th of each month (proleptic Gregorian).
std::vector<double> mid_month_days(int year);

// The rows and columns of the input grid that a region's caches hold: the
// bounding box of the region's ocean points, so that a regional cache is not
// a global field of fill (the North Atlantic is a tenth of ORCA025). A region
// without boxes keeps the whole model grid, halo and fold rows included.
struct Crop {
  std::int64_t row0 = 0, rows = 0, col0 = 0, cols = 0;  // in the input grid
  std::int64_t my_row0 = 0, my_rows = 0;  // this rank's rows of the crop (input grid rows)

  std::int64_t plane() const { return my_rows * cols; }
  // Index in this rank's [my_rows][cols] plane of a rank-local grid index.
  std::int64_t index(std::int64_t local, const data::Grid& g) const {
    const std::int64_t row = g.row_begin + local / g.nx, col = local % g.nx;
    return (row - my_row0) * cols + (col - col0);
  }
};

// Collective: the crop of `region` whose ocean points on this rank are `points`.
Crop crop_of(const data::Region& region, const std::vector<std::int64_t>& points,
             const data::Grid& g, const std::string& grid_file, MPI_Comm comm);

// Collective: a checksum of the whole input grid's coordinates that does not
// depend on how the rows are split.
std::string input_grid_checksum(const data::Grid& g, MPI_Comm comm);

// What made a cache: a model file (or, for the pCO2 route's reference, the
// bulk formula) and its checksum.
struct CacheSource {
  std::string model;     // the model name the cache carries
  std::string path;      // the model file
  std::string checksum;  // of the model file (core/checksum: "fnv1a64:<hex>")
  std::string route;     // pCO2 route: its settings (recon/pco2_fields.hpp), else empty
};

// One cache's fields on this rank's rows of the crop: [12][my_rows][cols].
// pCO2 route: the fluxes come from the bulk formula and the pCO2 fields
// are written too (empty vectors = not written).
struct CacheFields {
  const std::vector<float>& simulated;
  const std::vector<float>& reconstructed;
  const std::vector<signed char>& sampled;  // spatial design only, else empty
  const std::vector<float>& pco2_simulated;
  const std::vector<float>& pco2_reconstructed;
};

struct CacheContext {
  const data::DatasetDescription& d;
  const data::Grid& grid;
  const std::string& grid_checksum;
  const Crop& crop;
  const CacheSource& source;
  const CellAreas& areas;
  std::string experiment, region, region_boxes, units;
  int year = 0, first_month = 1;  // first month with a reconstruction
  std::int64_t samples = 0, skipped = 0;
};

// Collective: writes the cache at `path` (temporary name, renamed when complete).
void write_cache(const std::string& path, const CacheContext& context, const CacheFields& fields,
                 MPI_Comm comm);

// Collective: a complete cache at `path` made from this source and starting
// in this month, for this crop and input grid. A cache of another model file
// (the model was trained again) or of another --start-april choice is stale.
bool cache_current(const std::string& path, const CacheSource& source, int first_month,
                   const Crop& crop, const std::string& grid_checksum, MPI_Comm comm);

}  // namespace fluxrecon::recon
