// The sampling design: which cell-months count as observed, i.e. may give
// training or validation samples. The temporal design (the seed's) observes
// the same drawn locations in every month of its periods; the spatial design
// observes cells under a mask that may change every year (a fraction of the
// locations drawn anew each year, a fixed drawn set, or a netCDF mask such as
// a ship-track pattern), and its test sets hold the locations not observed
// in their year. The same draw serves prepare (samples) and reconstruct (the
// `sampled` field of the caches), whatever the number of ranks.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.hpp"
#include "data/grid.hpp"

namespace fluxrecon::data {

class YearReader;

class ObservationMask {
 public:
  // Collective (all ranks of the grid's communicator).
  ObservationMask(const DatasetDescription& dataset, const Grid& grid, MPI_Comm comm);
  ~ObservationMask();

  // Collective, spatial design only. Per local grid point of this rank, bit m (0-11) set when
  // month m+1 of `year` is observed; 0 on land, outside the training region
  // and in years that are neither training nor validation years.
  std::vector<std::uint16_t> months(int year);
  // A year whose observations are used (a training or validation year).
  bool used_year(int year) const;
  // The (experiment, year) files the mask reads for `years` (mask: file), for
  // require_files on the mask's own description.
  const DatasetDescription& mask_files() const { return mask_dataset_; }

  static constexpr std::uint16_t kAllMonths = 0xFFF;

 private:
  const DatasetDescription& dataset_;
  const Grid& grid_;
  MPI_Comm comm_;
  DatasetDescription mask_dataset_;  // mask: file: one variable, the mask
  std::unique_ptr<YearReader> reader_;
  std::vector<std::int64_t> region_points_;  // ocean points of the training region
  std::vector<std::int64_t> fixed_points_;   // temporal design, mask: fixed
};

// Seed of the location draw of `year` (mask: random_per_year).
unsigned long long year_seed(unsigned long long seed, int year);

// The years of a list of periods, ascending (whole years touched).
std::vector<int> period_years(const std::vector<MonthInterval>& periods);

}  // namespace fluxrecon::data
