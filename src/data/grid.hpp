// The model grid as seen by one rank: ranks own contiguous blocks of rows,
// balanced by ocean-point count, and read only their own rows. Ocean points
// are keyed by their grid index (y*nx + x), never by float coordinates, and
// ORCA halo / north-fold duplicates are counted once.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "io/grid_file.hpp"

namespace fluxrecon::data {

// Balanced contiguous row blocks: returns ranks+1 row starts. Rows from
// `unsplittable_from` to the end stay on one rank (the ORCA north fold).
std::vector<int> balance_rows(const std::vector<std::int64_t>& ocean_per_row, int ranks,
                              int unsplittable_from);

// Marks duplicated points of a block of rows (true = duplicate): cyclic halo
// columns whose coordinates repeat the other end of the row, and points of the
// top three grid rows whose coordinates repeat an earlier point there.
std::vector<std::uint8_t> find_duplicate_points(const std::vector<double>& lat,
                                                const std::vector<double>& lon, int nx,
                                                int row_begin, int row_end, int ny);

struct Grid {
  int nx = 0, ny = 0;
  std::vector<int> row_starts;  // ranks+1 entries
  int row_begin = 0, row_end = 0;
  std::vector<double> lat, lon;     // this rank's rows, (row - row_begin) * nx + x
  std::vector<std::uint8_t> ocean;  // 1 = ocean and not a duplicate
  std::int64_t ocean_total = 0;     // over all ranks
  std::int64_t duplicates_dropped = 0;

  std::int64_t local_points() const { return static_cast<std::int64_t>(lat.size()); }
  std::int64_t global_index(std::int64_t local) const {
    return static_cast<std::int64_t>(row_begin) * nx + local;
  }
};

// Collective: reads coordinates and mask of `file` for this rank's rows.
// `weight_regions`: balance the rows by the ocean points inside these regions
// only (empty: all ocean points).
Grid load_grid(io::GridFile& file, const DatasetDescription& dataset, MPI_Comm comm,
               const std::vector<Region>& weight_regions = {});

// Collective: latitude and longitude of rows [r0, r1) of `file`, row-major
// [row][x] (1-D coordinates spread over the grid); r0 == r1 reads nothing.
void read_coordinate_rows(io::GridFile& file, const DatasetDescription& dataset, int r0, int r1,
                          MPI_Comm comm, std::vector<double>& lat, std::vector<double>& lon);

// Collective: local indices (ascending) of the ocean points in `region` drawn
// with `fraction` and `seed`. Exactly round(fraction * N) of the N eligible
// points over all ranks are drawn, by a hash of (seed, grid index), so the
// same points are drawn whatever the number of ranks and in every year.
std::vector<std::int64_t> select_locations(const Grid& grid, const Region& region, double fraction,
                                           unsigned long long seed, MPI_Comm comm);

// The hash used for the draw (exposed for tests).
std::uint64_t location_key(unsigned long long seed, std::int64_t grid_index);

// Cell areas (m^2) of a grid from its centres, as NEMO's e1t * e2t: the
// great-circle distances between the midpoints towards the neighbours in x
// and in y (extrapolated at the edges). For caches, whose inputs' e1t/e2t are
// not at hand. lat/lon: [ny][nx] degrees.
std::vector<double> cell_areas_from_centres(const std::vector<float>& lat,
                                            const std::vector<float>& lon, int ny, int nx);

}  // namespace fluxrecon::data
