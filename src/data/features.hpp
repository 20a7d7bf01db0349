// The features a dataset gives its models, in order: the file predictors
// (the seed's 10, then the dataset's extra variables), the global
// predictors (CSV series, then the time features), then the 4 position
// features. Everything before the position features varies from step to
// step of a window ("dynamic"); the MLP and XGBoost see the position
// features once (kernels/flatten.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace fluxrecon::data {

// Feature names in order (the seed's 14 for a dataset without extras).
std::vector<std::string> feature_names(const DatasetDescription& dataset);
int file_predictor_count(const DatasetDescription& dataset);  // the 10 + extra variables
int global_feature_count(const DatasetDescription& dataset);  // series + time features

// Raw values of the global features for every month of `months`:
// [slot][global_feature_count]. Fails naming the CSV when a month is absent.
std::vector<double> global_values(const DatasetDescription& dataset, const MonthInterval& months);

// Checks that every global series has a value for every month of `months`
// (an error naming the CSV file and the first missing month).
void require_series_months(const DatasetDescription& dataset, const MonthInterval& months);

// The variable mapping as recorded in sample stores and model files: one
// [role, file variable, scale, offset, constant] per file predictor and the
// target, in order.
nlohmann::json variables_json(const DatasetDescription& dataset);

// Checks that `names` ends with the 4 position features and returns how
// many come before them (the dynamic features); `what` names the source.
int dynamic_feature_count(const std::vector<std::string>& names, const std::string& what);

}  // namespace fluxrecon::data
