// XGBoost through its C API: distributed training over MPI (a Rabit
// collective per run), the model file (XGBoost's own JSON model with the
// project's metadata as a model attribute, so Python's xgboost loads it
// too), prediction and SHAP contributions.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "io/sample_store.hpp"

namespace fluxrecon::models {

// The seed's 44-vector (window*10 + 4 values) of every sample of `block`.
std::vector<float> flatten_windows(const io::SampleBlock& block, int window, int dynamic);

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
  std::string out_dir;      // gets xgboost.json and xgboost_eval.csv
  bool force = false;
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

// A trained model, loaded on one rank.
class XgboostModel {
 public:
  static XgboostModel load(const std::string& path);
  XgboostModel(XgboostModel&& other) noexcept;
  XgboostModel& operator=(XgboostModel&&) = delete;
  XgboostModel(const XgboostModel&) = delete;
  ~XgboostModel();

  int width() const { return width_; }  // flat input values per sample
  int window() const { return window_; }
  int dynamic() const { return dynamic_; }  // dynamic features per step
  const nlohmann::json& metadata() const { return metadata_; }
  // Predictions (z-scored target) for `n` flat rows.
  std::vector<float> predict(const float* flat, std::int64_t n) const;
  // SHAP values: (n, width + 1), the last column the bias; rows sum to predict().
  std::vector<float> contributions(const float* flat, std::int64_t n) const;
  // SHAP interaction values: (n, width + 1, width + 1); each row of a sample's
  // matrix sums to its contribution, the last row and column hold the bias.
  std::vector<float> interactions(const float* flat, std::int64_t n) const;

 private:
  XgboostModel() = default;
  void* booster_ = nullptr;
  int width_ = 0, window_ = 0, dynamic_ = 0;
  nlohmann::json metadata_;
};

}  // namespace fluxrecon::models
