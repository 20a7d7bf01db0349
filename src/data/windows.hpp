// Monthly series of ocean points and the sample windows built from them:
// the steps `fluxrecon prepare` (sample stores) and `fluxrecon reconstruct`
// (inference) share, so that both see exactly the same windows.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/uninitialized.hpp"
#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "data/year_reader.hpp"
#include "io/sample_store.hpp"
#include "kernels/sample_windows.hpp"

namespace fluxrecon {
class Progress;
}

namespace fluxrecon::data {

// Monthly series of a set of points over one contiguous month interval:
// values[(point * slots + slot) * roles + role] (the dataset's file
// predictors, then the target), and the global features of every month,
// globals[slot * (globals.size() / slots) + g].
struct Series {
  MonthInterval months;
  std::int64_t slots = 0;
  int roles = 0;
  UninitializedVector<float> values;
  std::vector<double> globals;
  int global_count() const { return slots > 0 ? static_cast<int>(globals.size() / slots) : 0; }
};

// Collective: the series of `points` (local grid indices) over `months`,
// read year by year; `progress` (may be null) advances once per year.
Series read_series(YearReader& reader, const std::string& experiment, const MonthInterval& months,
                   const std::vector<std::int64_t>& points, Progress* progress);
// The same into `out`, whose storage is reused when it is large enough (a
// reconstruction reads one such series per chunk of points and year: fresh
// pages for each would be zeroed by the kernel every time).
void read_series_into(YearReader& reader, const std::string& experiment,
                      const MonthInterval& months, const std::vector<std::int64_t>& points,
                      Progress* progress, Series& out);

// The rows of `points` out of a series read for `all_points` (both ascending,
// `points` a subset of `all_points`).
Series subset_series(const Series& all, const std::vector<std::int64_t>& all_points,
                     const std::vector<std::int64_t>& points);

// The 4 position features of a point: sin/cos of latitude, sin/cos of longitude.
std::array<double, 4> position_features(double lat, double lon);
// position_features of every point, [point][4].
std::vector<double> point_statics(const Grid& grid, const std::vector<std::int64_t>& points);

// The window kernel's z-scoring constants from the statistics.
kernels::Normalisation kernel_normalisation(const io::Normalisation& norm);

// The complete windows of a set of series, in (point, series, slot) order:
// one per target slot >= window - 1 whose window holds no missing value.
struct WindowIndex {
  std::vector<std::int64_t> point;  // index into the points
  std::vector<std::int32_t> slot;   // target slot
  std::vector<std::int32_t> series;
  std::int64_t skipped = 0;   // windows dropped for a missing value
  std::string first_problem;  // the first missing value, described ("" if none)
  std::int64_t size() const { return static_cast<std::int64_t>(point.size()); }
};
// Rank-local; `first_problem` names the file, variable, point and month.
WindowIndex enumerate_windows(const std::vector<Series>& series,
                              const std::vector<std::int64_t>& points, const Grid& grid,
                              const DatasetDescription& dataset, const std::string& experiment);
// The same for one series (no copy).
WindowIndex enumerate_windows(const Series& series, const std::vector<std::int64_t>& points,
                              const Grid& grid, const DatasetDescription& dataset,
                              const std::string& experiment);

// Drops the windows whose `keep(index)` is false, keeping the order.
template <class Keep>
void filter_windows(WindowIndex& w, Keep keep) {
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < w.size(); ++i) {
    if (!keep(i)) continue;
    w.point[kept] = w.point[i];
    w.slot[kept] = w.slot[i];
    w.series[kept] = w.series[i];
    ++kept;
  }
  w.point.resize(kept);
  w.slot.resize(kept);
  w.series.resize(kept);
}

// Assembles windows [first, first + count) of `index` (all of one series)
// into features [count][window][norm.features] and target [count], z-scored.
void assemble_windows(const Series& series, const std::vector<double>& statics,
                      const WindowIndex& index, std::int64_t first, std::int64_t count, int window,
                      const kernels::Normalisation& norm, float* features, float* target);

}  // namespace fluxrecon::data
