// The climatology baseline of `fluxrecon analyze --samples DIR`: the
// per-location monthly climatology of the training target (DIR/train.h5, a
// sample store of fluxrecon prepare), in physical units, and its prediction
// for every cell of a cache: the climatology of the nearest training
// location (great-circle distance) that has data for the month. In a
// temporal design that is the cell itself where it was a training location;
// in a spatial design, whose test cells were never sampled, the nearest
// sampled one.
//
// Only the store's target, lat, lon, year, month and location datasets and
// its target_mean / target_std attributes are read (not the features, whose
// layout may change), with serial HDF5 per rank. Ranks
// read contiguous shards; the sums per (location, month) are exact integer
// sums of fixed-point values (2^-32 of a z-scored target), so the climatology
// is bit-identical for any rank count.
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/cache_reader.hpp"
#include "analysis/metrics.hpp"
#include "analysis/nearest_location.hpp"

namespace fluxrecon::analysis {

struct Climatology {
  std::string path;             // the training store
  std::string target_variable;  // its target's input variable ("" if not recorded)
  std::int64_t samples = 0;
  int first_year = 0, last_year = 0;  // of the training samples
  // One entry per training location, by increasing location id.
  std::vector<std::int64_t> location;  // y*nx + x in the model grid
  std::vector<double> lat, lon;        // degrees, as stored
  // Mean training target per calendar month, in the store's physical units
  // (target_mean + target_std x mean z); NaN where the location has no sample
  // of that month.
  std::vector<std::array<double, kMonths>> value;
};

// The training store of a prepare output folder ("<dir>/train.h5").
std::string training_store_path(const std::string& samples_dir);

// Collective. Throws a collective fluxrecon::Error naming the file when it is
// missing, not HDF5, lacks a dataset or attribute, or holds a month outside
// 1-12, lengths that differ or a non-finite target.
Climatology read_climatology(const std::string& train_path, MPI_Comm comm);

// Rank-local: the baseline's prediction for the cells of cache blocks.
class ClimatologyBaseline {
 public:
  explicit ClimatologyBaseline(Climatology climatology);
  const Climatology& climatology() const { return c_; }

  // For each month and each cell of rows [row_begin, row_begin + rows) of a
  // grid whose cell centres (degrees, [ny][nx]) are lat / lon: the index
  // into climatology() of the nearest location with data for the month, or
  // -1 when no location has that month. [12][rows][nx].
  std::vector<int> nearest(const std::vector<float>& lat, const std::vector<float>& lon,
                           int row_begin, int rows, int nx) const;

  // The baseline of a block in mol m-2 s-1, [12][rows][nx]: NaN where the
  // block's simulated or reconstructed value is NaN (so the baseline is
  // scored on the cells the models are scored on) or no location has the
  // month. `nearest` as returned by nearest() for the block's rows.
  std::vector<float> field(const CacheBlock& block, const std::vector<int>& nearest) const;

  // Months without any training sample (listed in the report).
  std::vector<int> months_without_data() const;

 private:
  Climatology c_;
  std::vector<NearestLocation> trees_;         // one per distinct set of locations
  std::vector<std::vector<int>> tree_points_;  // per tree: its points' climatology indices
  std::array<int, kMonths> tree_of_month_{};   // -1 = no location has the month
};

}  // namespace fluxrecon::analysis
