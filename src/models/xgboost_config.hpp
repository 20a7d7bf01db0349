// The XGBoost model configuration (inputs/models/xgboost.yaml): every
// XGBoost parameter fluxrecon passes on is declared here with its default,
// bounds and meaning, so that a typo (colsample_by_tree) is an error instead
// of XGBoost's warning.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"

namespace fluxrecon::models {

const config::Schema& xgboost_schema();

struct XgboostSettings {
  int num_boost_round = 400;
  int early_stopping_rounds = 0;   // 0 = off
  int collective_timeout_s = 300;  // XgbCollectiveOptions::comm_timeout_s
  // (name, value) pairs for XGBoosterSetParam, in declaration order.
  std::vector<std::pair<std::string, std::string>> params;
};

XgboostSettings xgboost_settings(const config::Config& config);

}  // namespace fluxrecon::models
