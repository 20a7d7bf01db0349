// Reading per-year reconstruction caches (`fluxrecon reconstruct`): CDF-5
// files with dims time(12), y, x; nav_lat, nav_lon (y, x), time_counter
// (time), co2flux_simulated and co2flux_reconstructed (time, y, x) with a
// fill value outside the region and on land; global attributes model,
// experiment, region, year, model_file, model_file_checksum, software.
//
// Every check names the file and what was expected, and fails on all ranks.
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/metrics.hpp"

namespace fluxrecon::analysis {

struct CacheInfo {
  std::string path;
  std::string model, region, experiment;
  int year = 0;
  int ny = 0, nx = 0;
  // Where the cache lies in the grid of its inputs: a regional cache holds
  // the box of its region's points (attributes y_offset, x_offset,
  // input_grid_ny, input_grid_nx; a cache without them is the whole grid).
  int y_offset = 0, x_offset = 0, input_ny = 0, input_nx = 0;
  std::string input_grid_checksum;  // of the whole input grid's coordinates, if recorded
  std::string units;                // of the flux variables, as stored
  double to_mol_m2_s = 1.0;         // factor that converts them to mol m-2 s-1
  std::string calendar;             // of time_counter
  std::array<double, kMonths> month_seconds{};
  std::string model_file, model_file_checksum, software, dataset_config;
  std::string grid_checksum;  // of nav_lat and nav_lon (filled by index_caches)
  // Sampling design of the dataset (global attribute sampling_design:
  // "spatial", "temporal", or "" when absent) and whether the cache holds the
  // mask `sampled` (byte, time x y x: 1 where the cell-month's target was a
  // training or validation sample).
  std::string sampling_design;
  bool has_sampled = false;
  // The input variable of the simulated flux (attribute simulated_variable;
  // "" when absent or computed by the pCO2 route's formula).
  std::string simulated_variable;
};

// Collective: opens the cache and checks its layout, attributes, units and
// time axis (the 12 months of `year`, in order).
CacheInfo read_cache_info(const std::string& path, MPI_Comm comm);

// This rank's rows [row_begin, row_begin + rows) of a cache.
struct CacheBlock {
  CacheInfo info;
  int row_begin = 0, rows = 0;
  std::vector<float> lat, lon;                  // [rows][nx]
  std::vector<float> simulated, reconstructed;  // [12][rows][nx], mol m-2 s-1, NaN = fill
  // [rows][nx] m^2: the cache's cell_area (e1t*e2t); empty if it has none.
  std::vector<double> area;
  // [12][rows][nx]: the cache's `sampled` mask (NaN = fill); empty if it has none.
  std::vector<float> sampled;
};

// Collective (ranks may pass rows = 0).
CacheBlock read_cache_block(const std::string& path, int row_begin, int rows, MPI_Comm comm);

// Scores only the never-sampled cells: sets the simulated and reconstructed
// values to NaN wherever `sampled` is not 0 (a fill value counts as sampled).
// Returns the number of cell-months with a simulated value that were
// removed; 0 and nothing changed for a block without the mask.
std::int64_t apply_sampling_mask(CacheBlock& block);

// The caches of one (model, region, experiment), by year.
struct CacheSet {
  std::string model, region, experiment;
  std::map<int, CacheInfo> years;
};

// Collective: every cache (*.nc) in `dir`, grouped and sorted by model,
// region, experiment and year. Errors name the files: a directory without
// caches, two caches of the same model, region, experiment and year, caches
// of one region on different grids (dimensions, offsets or coordinates),
// caches cut from input grids of different sizes.
std::vector<CacheSet> index_caches(const std::string& dir, MPI_Comm comm);

// The years of first..last that `set` lacks (empty if complete).
std::vector<int> missing_years(const CacheSet& set, int first, int last);
// Throws an Error listing the missing years, naming the set and `dir`.
void require_years(const CacheSet& set, int first, int last, const std::string& dir);

// The metrics input for a block, with the cell areas (m^2) of its rows.
FluxBlock flux_block(const CacheBlock& block, std::vector<double> area);

// The factor converting a flux in `units` to mol m-2 s-1 (mol, mmol, umol,
// kg C or g C per m^2 per s, day or year; "mol m-2 s-1", "mol/m2/s",
// "mmol m-2 d-1" ...). Throws an Error naming `what` for anything else.
double flux_units_to_mol_m2_s(const std::string& units, const std::string& what);

}  // namespace fluxrecon::analysis
