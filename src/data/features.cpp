#include "data/features.hpp"

#include <cmath>

#include "core/error.hpp"

namespace fluxrecon::data {

int file_predictor_count(const DatasetDescription& d) { return d.target_role(); }

int global_feature_count(const DatasetDescription& d) {
  return static_cast<int>(d.series.size()) + (d.year_feature ? 1 : 0) + (d.month_features ? 2 : 0);
}

std::vector<std::string> feature_names(const DatasetDescription& d) {
  std::vector<std::string> names;
  for (int r = 0; r < file_predictor_count(d); ++r) names.push_back(d.variables[r].role);
  for (const auto& s : d.series) names.push_back(s.name);
  if (d.year_feature) names.push_back("year");
  if (d.month_features) {
    names.push_back("month_sin");
    names.push_back("month_cos");
  }
  names.insert(names.end(), position_feature_names().begin(), position_feature_names().end());
  return names;
}

std::vector<double> global_values(const DatasetDescription& d, const MonthInterval& months) {
  const int width = global_feature_count(d);
  std::vector<double> out(static_cast<size_t>(months.months()) * width);
  for (int slot = 0; slot < months.months(); ++slot) {
    const int month = months.start + slot;
    double* v = out.data() + static_cast<size_t>(slot) * width;  // width may be 0
    for (const auto& s : d.series) *v++ = s.at(month);
    // Mid-month: the trend term of a monthly mean, the phase of its month.
    const double phase = (month % 12 + 0.5) / 12.0;
    if (d.year_feature) *v++ = month / 12 + phase;
    if (d.month_features) {
      *v++ = std::sin(2 * M_PI * phase);
      *v++ = std::cos(2 * M_PI * phase);
    }
  }
  return out;
}

void require_series_months(const DatasetDescription& d, const MonthInterval& months) {
  for (const auto& s : d.series)
    for (int m = months.start; m <= months.end; ++m) s.at(m);  // fails on the first gap
}

nlohmann::json variables_json(const DatasetDescription& d) {
  nlohmann::json variables = nlohmann::json::array();
  for (const auto& v : d.variables)
    variables.push_back({v.role, v.file_name, v.scale, v.offset, v.constant});
  return variables;
}

int dynamic_feature_count(const std::vector<std::string>& names, const std::string& what) {
  const auto& position = position_feature_names();
  const int n = static_cast<int>(names.size());
  bool ok = n > kPositionFeatures;
  for (int k = 0; ok && k < kPositionFeatures; ++k)
    ok = names[n - kPositionFeatures + k] == position[k];
  FR_REQUIRE(ok, what,
             ": the features must end with sin_lat, cos_lat, sin_lon, cos_lon after at "
             "least one dynamic feature; found ",
             n, " feature(s)");
  return n - kPositionFeatures;
}

}  // namespace fluxrecon::data
