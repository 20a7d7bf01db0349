#include "data/sampling.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "data/year_reader.hpp"

namespace fluxrecon::data {

unsigned long long year_seed(unsigned long long seed, int year) {
  // location_key scrambles the seed, so a plain odd-constant offset per year
  // gives independent draws.
  return seed ^ (static_cast<unsigned long long>(year) * 0x9e3779b97f4a7c15ULL);
}

std::vector<int> period_years(const std::vector<MonthInterval>& periods) {
  std::vector<int> years;
  for (const auto& iv : periods)
    for (int y = iv.first_year(); y <= iv.last_year(); ++y) years.push_back(y);
  std::sort(years.begin(), years.end());
  years.erase(std::unique(years.begin(), years.end()), years.end());
  return years;
}

ObservationMask::ObservationMask(const DatasetDescription& d, const Grid& grid, MPI_Comm comm)
    : dataset_(d), grid_(grid), comm_(comm) {
  for (std::int64_t i = 0; i < grid.local_points(); ++i)
    if (grid.ocean[i] && d.train_region.contains(grid.lat[i], grid.lon[i]))
      region_points_.push_back(i);
  // The temporal design's locations are prepare's training draw; only the
  // spatial design asks this class which cells are observed.
  if (d.design == "spatial" && d.sampling_mask == "fixed")
    fixed_points_ = select_locations(grid, d.train_region, d.train_fraction, d.seed, comm);
  if (d.design == "spatial" && d.sampling_mask == "file") {
    mask_dataset_ = d;
    mask_dataset_.experiments = {{"mask", d.mask_pattern}};
    mask_dataset_.variables = {{"observed", d.mask_variable, 1.0, 0.0, 0.0}};
    mask_dataset_.series.clear();
    mask_dataset_.year_feature = mask_dataset_.month_features = false;
    reader_ = std::make_unique<YearReader>(mask_dataset_, grid, comm);
  }
}

ObservationMask::~ObservationMask() = default;

bool ObservationMask::used_year(int year) const {
  for (const auto* period : {&dataset_.train, &dataset_.validation})
    for (const auto& iv : *period)
      if (year >= iv.first_year() && year <= iv.last_year()) return true;
  return false;
}

std::vector<std::uint16_t> ObservationMask::months(int year) {
  std::vector<std::uint16_t> bits(static_cast<size_t>(grid_.local_points()), 0);
  // Every rank takes part in the collective draws and reads, used year or not.
  const bool used = used_year(year);
  auto whole_years = [&](const std::vector<std::int64_t>& points) {
    if (used)
      for (const auto p : points) bits[p] = kAllMonths;
  };
  FR_REQUIRE(dataset_.design == "spatial", "ObservationMask::months: ", dataset_.origin,
             " has the temporal design, whose observed locations are the training draw");
  if (dataset_.sampling_mask == "fixed") {
    whole_years(fixed_points_);
  } else if (dataset_.sampling_mask == "random_per_year") {
    whole_years(select_locations(grid_, dataset_.train_region, dataset_.train_fraction,
                                 year_seed(dataset_.seed, year), comm_));
  } else if (used) {  // file
    std::vector<float> values(region_points_.size() * 12);
    reader_->read_into("mask", year, region_points_, 1, 12, values.data(), 12, 0);
    for (size_t k = 0; k < region_points_.size(); ++k)
      for (int m = 0; m < 12; ++m)
        if (std::isfinite(values[k * 12 + m]) && values[k * 12 + m] > 0.5f)
          bits[region_points_[k]] |= static_cast<std::uint16_t>(1u << m);
  }
  return bits;
}

}  // namespace fluxrecon::data
