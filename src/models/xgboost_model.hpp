// An XGBoost model through its C API: the model file (XGBoost's own JSON
// model with the project's metadata as a model attribute, so Python's
// xgboost loads it too), prediction and SHAP contributions. Training is in
// train/xgboost_trainer.hpp.
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
