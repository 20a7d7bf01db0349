#include "data/windows.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/features.hpp"

namespace fluxrecon::data {

Series read_series(YearReader& reader, const std::string& experiment, const MonthInterval& months,
                   const std::vector<std::int64_t>& points, Progress* progress) {
  Series s;
  read_series_into(reader, experiment, months, points, progress, s);
  return s;
}

void read_series_into(YearReader& reader, const std::string& experiment,
                      const MonthInterval& months, const std::vector<std::int64_t>& points,
                      Progress* progress, Series& s) {
  s.months = months;
  s.slots = months.months();
  s.roles = static_cast<int>(reader.dataset().variables.size());
  s.globals = global_values(reader.dataset(), months);
  const std::int64_t n = static_cast<std::int64_t>(points.size());
  s.values.resize(static_cast<size_t>(n * s.slots * s.roles));  // keeps the capacity
  for (int year = months.first_year(); year <= months.last_year(); ++year) {
    const int m0 = std::max(0, months.start - month_index(year, 1));
    const int m1 = std::min(11, months.end - month_index(year, 1));
    reader.read_into(experiment, year, points, m0 + 1, m1 + 1, s.values.data(), s.slots,
                     month_index(year, m0 + 1) - months.start);
    if (progress) progress->advance();
  }
}

Series subset_series(const Series& all, const std::vector<std::int64_t>& all_points,
                     const std::vector<std::int64_t>& points) {
  Series sub{all.months, all.slots, all.roles, {}, all.globals};
  const std::int64_t width = all.slots * all.roles;
  sub.values.resize(points.size() * width);
  size_t at = 0;
  for (size_t k = 0; k < points.size(); ++k) {
    while (all_points[at] != points[k]) ++at;
    std::copy_n(&all.values[at * width], width, &sub.values[k * width]);
  }
  return sub;
}

std::array<double, 4> position_features(double lat, double lon) {
  const double la = lat * M_PI / 180.0, lo = lon * M_PI / 180.0;
  return {std::sin(la), std::cos(la), std::sin(lo), std::cos(lo)};
}

std::vector<double> point_statics(const Grid& grid, const std::vector<std::int64_t>& points) {
  std::vector<double> statics(points.size() * 4);
  for (size_t k = 0; k < points.size(); ++k) {
    const auto st = position_features(grid.lat[points[k]], grid.lon[points[k]]);
    std::copy(st.begin(), st.end(), &statics[k * 4]);
  }
  return statics;
}

kernels::Normalisation kernel_normalisation(const io::Normalisation& norm) {
  kernels::Normalisation kn{};
  const int n = static_cast<int>(norm.feature_mean.size());
  FR_REQUIRE(n <= kernels::kMaxFeatures && norm.feature_std.size() == norm.feature_mean.size(),
             "normalisation of ", n, " features: at most ", kernels::kMaxFeatures,
             " are supported");
  kn.features = n;
  for (int f = 0; f < n; ++f) {
    kn.mean[f] = norm.feature_mean[f];
    kn.inv_std[f] = 1.0 / norm.feature_std[f];
  }
  kn.mean[n] = norm.target_mean;
  kn.inv_std[n] = 1.0 / norm.target_std;
  return kn;
}

namespace {
WindowIndex enumerate(const std::vector<const Series*>& series,
                      const std::vector<std::int64_t>& points, const Grid& grid,
                      const DatasetDescription& d, const std::string& experiment) {
  WindowIndex out;
  // Every window complete is the common case: one allocation of the final
  // size instead of the doublings (and their copies into fresh pages).
  std::size_t most = 0;
  for (const auto* s : series)
    most += static_cast<std::size_t>(std::max<std::int64_t>(0, s->slots - (d.window - 1)));
  most *= points.size();
  out.point.reserve(most);
  out.slot.reserve(most);
  out.series.reserve(most);
  for (size_t k = 0; k < points.size(); ++k) {
    for (size_t si = 0; si < series.size(); ++si) {
      const auto& s = *series[si];
      std::int64_t bad_until = -1;  // last slot holding a missing value so far
      for (std::int64_t slot = 0; slot < s.slots; ++slot) {
        const float* v = &s.values[(k * s.slots + slot) * s.roles];
        for (int r = 0; r < s.roles; ++r) {
          if (!std::isfinite(v[r])) {
            bad_until = slot;
            if (out.first_problem.empty()) {
              const int month = s.months.start + static_cast<int>(slot);
              const std::int64_t g = grid.global_index(points[k]);
              out.first_problem =
                  concat(d.file_for(experiment, month / 12), ": variable '",
                         d.variables[r].file_name, "' (", d.variables[r].role,
                         ") is missing (NaN or fill) at ocean point y=", g / grid.nx,
                         " x=", g % grid.nx, " (lat ", grid.lat[points[k]], ", lon ",
                         grid.lon[points[k]], "), ", month / 12, "-", month % 12 + 1,
                         "; fix the mask or the data, or set sampling.missing_values: skip");
            }
          }
        }
        if (slot < d.window - 1) continue;
        if (slot - (d.window - 1) <= bad_until) {
          ++out.skipped;
          continue;
        }
        out.point.push_back(static_cast<std::int64_t>(k));
        out.slot.push_back(static_cast<std::int32_t>(slot));
        out.series.push_back(static_cast<std::int32_t>(si));
      }
    }
  }
  return out;
}
}  // namespace

WindowIndex enumerate_windows(const std::vector<Series>& series,
                              const std::vector<std::int64_t>& points, const Grid& grid,
                              const DatasetDescription& d, const std::string& experiment) {
  std::vector<const Series*> list;
  for (const auto& s : series) list.push_back(&s);
  return enumerate(list, points, grid, d, experiment);
}

WindowIndex enumerate_windows(const Series& series, const std::vector<std::int64_t>& points,
                              const Grid& grid, const DatasetDescription& d,
                              const std::string& experiment) {
  return enumerate({&series}, points, grid, d, experiment);
}

void assemble_windows(const Series& series, const std::vector<double>& statics,
                      const WindowIndex& index, std::int64_t first, std::int64_t count, int window,
                      const kernels::Normalisation& norm, float* features, float* target) {
  kernels::AssembleWindows assemble{series.values.data(),
                                    series.globals.data(),
                                    statics.data(),
                                    index.point.data() + first,
                                    index.slot.data() + first,
                                    series.slots,
                                    series.roles,
                                    series.global_count(),
                                    window,
                                    norm,
                                    features,
                                    target};
  FR_REQUIRE(norm.features == series.roles - 1 + series.global_count() + kPositionFeatures,
             "windows of ", series.roles - 1, " file predictors, ", series.global_count(),
             " global and ", kPositionFeatures, " position features do not match the ",
             norm.features, " features of the normalisation");
  Kokkos::parallel_for("assemble_windows",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, count), assemble);
}

}  // namespace fluxrecon::data
