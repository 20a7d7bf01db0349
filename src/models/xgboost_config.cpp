#include "models/xgboost_config.hpp"

#include <sstream>

namespace fluxrecon::models {
using config::Schema;

namespace {
// Keys that are fluxrecon's, not XGBoost parameters.
const char* kOwnKeys[] = {"num_boost_round", "early_stopping_rounds", "collective_timeout_sec"};

Schema build() {
  const double inf = Schema::inf;
  Schema s(
      "XGBoost model configuration. Defaults are the research prototype's (scikit-learn names "
      "in brackets). Note: booster dart with rate_drop 0 drops no tree and behaves like gbtree; "
      "set rate_drop > 0 to get DART.");
  s.integer("num_boost_round", 400, 1, 100000, "boosting rounds [n_estimators]")
      .integer("early_stopping_rounds", 0, 0, 100000,
               "stop when the validation RMSE has not improved for this many rounds (0 = off); "
               "the best round is kept")
      .integer("collective_timeout_sec", 300, 1, 86400,
               "distributed training: a rank that hears nothing from a peer rank for this long "
               "stops with an error naming the peer (it died, stalled or lost its network), and "
               "the job ends instead of hanging. Must exceed the longest time a rank computes "
               "between two exchanges (one tree level, or reading a slow shard); raise it for "
               "very unequal shards or nodes")
      .text("booster", "dart", {"gbtree", "dart", "gblinear"}, "booster")
      .real("eta", 0.04292980473318146, 0.0, 1.0, "learning rate [learning_rate]")
      .integer("max_depth", 14, 0, 64, "maximum tree depth")
      .real("subsample", 0.5459662212041141, 1e-6, 1.0, "row subsampling per tree")
      .text("sampling_method", "uniform", {"uniform", "gradient_based"}, "row sampling method")
      .real("colsample_bytree", 0.5336910753872645, 1e-6, 1.0, "column subsampling per tree")
      .real("colsample_bylevel", 1.0, 1e-6, 1.0, "column subsampling per level")
      .real("colsample_bynode", 1.0, 1e-6, 1.0, "column subsampling per split")
      .real("gamma", 0.016137253371362736, 0.0, inf, "minimum loss reduction to split")
      .real("lambda", 0.00023498796241233066, 0.0, inf, "L2 regularisation [reg_lambda]")
      .real("alpha", 0.010524060361037127, 0.0, inf, "L1 regularisation [reg_alpha]")
      .real("min_child_weight", 4.0, 0.0, inf, "minimum hessian sum in a child")
      .real("max_delta_step", 0.0, 0.0, inf, "maximum leaf change (0 = none)")
      .text("tree_method", "hist", {"hist", "approx", "exact"},
            "tree construction (hist: the distributed-capable histogram method)")
      .integer("max_bin", 256, 2, 65536, "histogram bins (hist)")
      .text("grow_policy", "depthwise", {"depthwise", "lossguide"}, "tree growth order")
      .integer("max_leaves", 0, 0, 1 << 30, "maximum leaves (0 = no limit)")
      .integer("num_parallel_tree", 1, 1, 1000, "trees per round (random-forest style)")
      .text("sample_type", "uniform", {"uniform", "weighted"}, "dart: how dropped trees are drawn")
      .text("normalize_type", "tree", {"tree", "forest"}, "dart: weight normalisation")
      .real("rate_drop", 0.0, 0.0, 1.0, "dart: fraction of trees dropped per round (0: none)")
      .integer("one_drop", 0, 0, 1, "dart: drop at least one tree when 1")
      .real("skip_drop", 0.0, 0.0, 1.0, "dart: probability of skipping the dropout")
      .text("objective", "reg:squarederror",
            {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"}, "loss")
      .real("base_score", 0.0, -inf, inf, "initial prediction (z-scored target: 0)")
      .integer("seed", 42, 0, 2147483647, "random seed [random_state]")
      .integer("nthread", 0, 0, 4096, "threads per rank (0 = OpenMP default)");
  return s;
}

std::string scalar_text(const YAML::Node& n) {
  std::ostringstream out;
  out << n.Scalar();
  return out.str();
}
}  // namespace

const config::Schema& xgboost_schema() {
  static const Schema schema = build();
  return schema;
}

XgboostSettings xgboost_settings(const config::Config& cfg) {
  XgboostSettings s;
  s.num_boost_round = cfg.get<int>("num_boost_round");
  s.early_stopping_rounds = cfg.get<int>("early_stopping_rounds");
  s.collective_timeout_s = cfg.get<int>("collective_timeout_sec");
  for (const auto& key : xgboost_schema().keys()) {
    bool own = false;
    for (const char* k : kOwnKeys) own = own || key == k;
    if (own) continue;
    if (key == "nthread" && cfg.get<int>("nthread") == 0) continue;
    s.params.emplace_back(key, scalar_text(cfg.node()[key]));
  }
  s.params.emplace_back("eval_metric", "rmse");
  return s;
}

}  // namespace fluxrecon::models
