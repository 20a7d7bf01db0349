// XGBoost training through its C API, distributed over MPI (a Rabit
// collective per run): every rank trains on its own shard of the stores and
// ends with the same model, written as models/xgboost_model.hpp reads it.
// Boosted trees (xgboost) and random forests (random_forest) alike.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "core/config.hpp"

namespace fluxrecon::train {

struct XgboostTrainOptions {
  // A constructor rather than aggregate initialisation, so that the callers
  // that need no callback name three members only.
  XgboostTrainOptions() = default;
  XgboostTrainOptions(std::string samples, std::string out, bool force_redo = false,
                      std::function<bool(int, double)> callback = nullptr)
      : samples_dir(std::move(samples)),
        out_dir(std::move(out)),
        force(force_redo),
        on_round(std::move(callback)) {}
  std::string samples_dir;  // holds train.h5 and validation.h5 (fluxrecon prepare)
  std::string out_dir;      // gets <model>.json and <model>_eval.csv
  bool force = false;
  // "xgboost" or "random_forest" (XGBoost's random-forest mode, its own keys):
  // the configuration's schema and the names of the files written.
  std::string model = "xgboost";
  // Called on every rank after every round (1-based) with the validation MSE
  // (z-scored); rank 0's answer counts: true ends boosting there (pruning by
  // `fluxrecon tune`) and the model of the rounds so far is written, the
  // result's `stopped` set. May be empty (one MPI agreement per round if not).
  std::function<bool(int round, double validation_mse)> on_round = nullptr;
};

struct XgboostTrainResult {
  std::string model_path, eval_path;
  int rounds = 0, best_round = 0;
  std::int64_t train_samples = 0, validation_samples = 0;
  double validation_mse = 0;           // z-scored target
  double validation_mse_physical = 0;  // in the target's units squared
  double validation_r2 = 0;            // 1 - MSE / variance of the validation target
  double seconds = 0;                  // the whole call
  double train_seconds = 0;            // boosting rounds incl. evaluation
  double eval_seconds = 0;             // of which evaluating both sets after each round
  double predict_seconds = 0;          // predicting the validation set
  bool reused = false;
  bool stopped = false;  // on_round asked to stop
};

// Collective over `comm`: every rank trains on its own shard of the stores.
XgboostTrainResult train_xgboost(const config::Config& params, const XgboostTrainOptions& options,
                                 MPI_Comm comm);

}  // namespace fluxrecon::train
