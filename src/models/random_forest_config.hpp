// The random-forest model configuration (inputs/models/random_forest.yaml):
// XGBoost's random-forest mode ("Random Forests in XGBoost"): one boosting
// round of num_parallel_tree trees with learning rate 1, each tree grown on a
// row subsample with columns subsampled per split. Trained by the XGBoost
// trainer (train/xgboost_trainer.hpp); only the keys and their fixed
// companions differ.
#pragma once

#include "core/config.hpp"
#include "models/xgboost_config.hpp"

namespace fluxrecon::models {

const config::Schema& random_forest_schema();

// The XGBoost parameters of a forest: booster gbtree, eta 1 and one round
// fixed, the configured keys after them.
XgboostSettings random_forest_settings(const config::Config& config);

}  // namespace fluxrecon::models
