// A dataset description: one YAML per dataset (inputs/*.yaml) saying where
// the yearly files are, which file variables play the 10 predictors and the
// target, which extra features the models see, which years train/validate/
// test, the domain and the sampling design.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "data/regions.hpp"

namespace fluxrecon::data {

// The seed's 10 dynamic predictors, in feature order; features 10-13 are
// sin/cos of latitude and longitude. A dataset may add predictors (see
// data/features.hpp); the position features always come last.
constexpr int kDynamicFeatures = 10;
constexpr int kFeatures = 14;
constexpr int kPositionFeatures = 4;
const std::array<std::string, kDynamicFeatures>& predictor_names();
// The seed's 14 features (a dataset without extra features has exactly these).
const std::array<std::string, kFeatures>& feature_names();
const std::array<std::string, kPositionFeatures>& position_feature_names();

// Where one role (a predictor or the target) comes from.
struct VariableSource {
  std::string role;                  // "SST", ..., "target"
  std::string file_name;             // variable in the file; empty = use `constant`
  double scale = 1.0, offset = 0.0;  // value = file_value * scale + offset
  double constant = 0.0;
};

// Inclusive month interval [start, end], months counted as year*12 + (month-1).
struct MonthInterval {
  int start = 0, end = 0;
  int first_year() const { return start / 12; }
  int last_year() const { return end / 12; }
  int months() const { return end - start + 1; }
};
inline int month_index(int year, int month) { return year * 12 + (month - 1); }

// A monthly series broadcast to every cell (e.g. atmospheric xCO2), read
// from a CSV file with columns year, month and the named column.
struct GlobalSeries {
  std::string name;                            // feature name
  std::string file;                            // resolved path
  std::string column;                          // column in the CSV
  std::vector<std::pair<int, double>> values;  // (month index, value), ascending
  // The value of `month` (a month index); an error naming the file if absent.
  double at(int month) const;
};

// The pCO2 route (data/pco2_route.hpp): the target is surface-ocean pCO2
// and reconstruct turns its predictions into fluxes with the bulk formula.
struct Pco2Route {
  bool enabled = false;
  // The simulated flux the caches score against (mol m-2 s-1 after scale and
  // offset, sign `flux_sign`); without a file variable, the bulk flux of the
  // simulated pCO2.
  VariableSource flux{"flux", "", 1.0, 0.0, 0.0};
  VariableSource wind_speed{"wind_speed", "wind_speed", 1.0, 0.0, 0.0};  // m s-1
  VariableSource pco2_air{"pco2_air", "", 1.0, 0.0, 0.0};                // uatm
  GlobalSeries pco2_air_series;  // from a CSV when its values are not empty
  bool air_is_xco2 = false;      // pco2_air is the dry-air xCO2 (ppm), moistened at 1 atm
  std::string flux_sign = "positive out of the ocean";
  double transfer_coefficient = 0.251;  // k_w = a U^2 (Sc/660)^-1/2 cm h-1
  bool into_ocean() const { return flux_sign == "positive into the ocean"; }
};

// Reads a CSV of monthly values: a header naming the columns, among them
// `year` and `month` (1-12), or `time` as YYYY-MM; '#' starts a comment.
// Returns (month index, value) ascending; errors name the file and line.
std::vector<std::pair<int, double>> read_monthly_csv(const std::string& path,
                                                     const std::string& column);

struct Experiment {
  std::string name;
  std::string pattern;  // path with {year}, or one file holding every year
};

struct DatasetDescription {
  std::string name, source, origin;  // origin: the YAML path
  std::string directory;             // resolved, absolute or relative to the CWD
  std::string directory_source;      // where `directory` came from, for error messages
  std::vector<Experiment> experiments;
  std::string training_experiment;
  std::string latitude, longitude, mask, cell_width, cell_height, time;
  bool drop_duplicate_points = true;
  // The 10 seed predictors, then the extra file predictors, then the target.
  std::vector<VariableSource> variables;
  std::vector<GlobalSeries> series;  // global predictors from CSV files
  bool year_feature = false;         // fractional year as a trend term
  bool month_features = false;       // sin/cos of the month
  std::string target_units, target_sign;
  std::vector<MonthInterval> train, validation;
  std::vector<int> test_years;
  Region train_region;
  std::vector<Region> test_regions;
  std::vector<std::string> test_experiments;
  // Sampling design: "temporal" (the seed's: fixed locations in the training
  // and validation periods, every location of the test years) or "spatial"
  // (cell-months observed under a mask that may change every year; test
  // sets hold the locations not observed in their year).
  std::string design = "temporal";
  std::string sampling_mask = "fixed";  // fixed | random_per_year | file (spatial design)
  std::string mask_pattern;             // mask file(s): path with {year} or one file, as a pattern
  std::string mask_variable;
  double train_fraction = 0.01, test_fraction = 1.0;
  unsigned long long seed = 42;
  int window = 4;
  std::string missing_values = "error";  // error | skip
  Pco2Route pco2;

  int target_role() const { return static_cast<int>(variables.size()) - 1; }
  const Experiment& experiment(const std::string& name) const;
  // The file holding `year` of `experiment` (pattern with {year} filled).
  std::string file_for(const std::string& experiment, int year) const;
};

// The schema of a dataset YAML (every key, default, bounds, description).
const config::Schema& dataset_schema();

// Validates and resolves a dataset YAML. Relative directories are taken
// relative to the YAML file's folder unless `data_dir_override` is given.
DatasetDescription load_dataset(const config::Config& config,
                                const std::string& data_dir_override = "");
// Resolves a region name: built-in or a user box from the description.
Region resolve_region(const config::Config& config, const std::string& name);

}  // namespace fluxrecon::data
