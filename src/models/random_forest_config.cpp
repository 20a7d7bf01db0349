#include "models/random_forest_config.hpp"

#include <sstream>

#include "core/error.hpp"

namespace fluxrecon::models {
using config::Schema;

namespace {

// A fraction strictly between 0 and 1: with 1 every tree would see the same
// rows (columns) and the forest would be one tree repeated.
config::Normaliser open_fraction(const char* what) {
  return [what](const YAML::Node& value, const std::string& key_path) {
    double v = 0;
    if (!value.IsScalar() || !YAML::convert<double>::decode(value, v) || !(v > 0.0 && v < 1.0))
      FR_FAIL("key '", key_path, "': ", value.IsScalar() ? value.Scalar() : std::string("(block)"),
              " is not a number in (0, 1); a random forest needs ", what,
              " below 1, or its trees are all alike");
    return YAML::Clone(value);  // as written: the resolved file reads like the input
  };
}

Schema build() {
  const double inf = Schema::inf;
  Schema s(
      "Random forest: XGBoost's random-forest mode on the flat input (as xgboost): one boosting "
      "round of num_parallel_tree trees, learning rate 1 (both fixed), rows subsampled per tree "
      "and columns per split. Defaults follow XGBoost's XGBRFRegressor.");
  s.integer("num_parallel_tree", 100, 1, 100000, "trees in the forest")
      .integer("collective_timeout_sec", 300, 1, 86400,
               "distributed training: a rank that hears nothing from a peer rank for this long "
               "stops with an error naming the peer (as xgboost)")
      .integer("max_depth", 12, 0, 64, "maximum tree depth")
      .custom("subsample", YAML::Load("0.8"), "number in (0, 1)", open_fraction("subsample"),
              "rows drawn (without replacement) for each tree")
      .custom("colsample_bynode", YAML::Load("0.8"), "number in (0, 1)",
              open_fraction("colsample_bynode"), "columns drawn for each split")
      .real("min_child_weight", 1.0, 0.0, inf, "minimum hessian sum (samples) in a leaf")
      .real("gamma", 0.0, 0.0, inf, "minimum loss reduction to split")
      .real("lambda", 1e-5, 0.0, inf, "L2 regularisation of the leaf values [reg_lambda]")
      .real("alpha", 0.0, 0.0, inf, "L1 regularisation of the leaf values [reg_alpha]")
      .text("tree_method", "hist", {"hist", "approx", "exact"},
            "tree construction (hist: the distributed-capable histogram method)")
      .integer("max_bin", 256, 2, 65536, "histogram bins (hist)")
      .text("objective", "reg:squarederror",
            {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"}, "loss")
      .real("base_score", 0.0, -inf, inf, "initial prediction (z-scored target: 0)")
      .integer("seed", 42, 0, 2147483647, "random seed [random_state]")
      .integer("nthread", 0, 0, 4096, "threads per rank (0 = OpenMP default)");
  return s;
}

}  // namespace

const config::Schema& random_forest_schema() {
  static const Schema schema = build();
  return schema;
}

XgboostSettings random_forest_settings(const config::Config& cfg) {
  XgboostSettings s;
  s.num_boost_round = 1;
  s.early_stopping_rounds = 0;
  s.collective_timeout_s = cfg.get<int>("collective_timeout_sec");
  // Fixed by the mode: the trees of one round are averaged, not boosted.
  s.params = {{"booster", "gbtree"}, {"eta", "1"}};
  for (const auto& key : random_forest_schema().keys()) {
    if (key == "collective_timeout_sec") continue;
    if (key == "nthread" && cfg.get<int>("nthread") == 0) continue;
    std::ostringstream value;
    value << cfg.node()[key].Scalar();
    s.params.emplace_back(key, value.str());
  }
  s.params.emplace_back("eval_metric", "rmse");
  return s;
}

}  // namespace fluxrecon::models
