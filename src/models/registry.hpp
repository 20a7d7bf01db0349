// The model registry: the one place that knows the model kinds (mlp, lstm,
// attention_lstm, gru, xgboost, random_forest), their config schemas, the file `fluxrecon train`
// writes for each, and how to load one for a uniform batched
// prediction. Subcommands (train, tune, run, reconstruct, explain) take any
// registered model through it instead of keeping their own lists and
// XGBoost special cases.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "io/sample_store.hpp"
#include "models/network_spec.hpp"

namespace fluxrecon::data {
struct DatasetDescription;
}
namespace fluxrecon::models {
class NnInference;
}

namespace fluxrecon::models {

class XgboostModel;

enum class ModelKind { mlp, lstm, attention_lstm, gru, xgboost, random_forest };

struct ModelInfo {
  ModelKind kind;
  std::string name;       // as on the command line and in file names
  std::string file_name;  // what `fluxrecon train` writes into its --out
  bool neural = false;    // trained by the data-parallel oneDNN trainer
  bool sequence = false;  // reads the window as a sequence (TimeSHAP applies)
  std::string steps_key;  // the config key counting epochs (rounds for XGBoost; "": fixed)
};

// Every registered model, in their fixed order.
const std::vector<ModelInfo>& registered_models();
const std::vector<std::string>& model_names();
// "mlp, lstm, attention_lstm, gru, xgboost, random_forest", for messages.
std::string model_names_text();
bool is_model_name(const std::string& name);
// Throws an Error naming `name` and the registered models when unknown.
const ModelInfo& model_info(const std::string& name);
// What `fluxrecon train` writes for model `name` into its --out: the model
// file, and the resolved parameters it was trained with.
std::string model_file_name(const std::string& name);
std::string model_config_name(const std::string& name);
const config::Schema& model_schema(const std::string& name);
// The network kind of a neural model (an Error for the tree models).
NetworkKind network_kind(const std::string& name);

// ---------------------------------------------------------------- loaded models

// A model file loaded on one rank, with a uniform batched prediction.
class LoadedModel {
 public:
  // Rank-local. Throws an Error naming `path` for a file that does not hold a
  // `name` model or lacks its metadata.
  static LoadedModel load(const std::string& name, const std::string& path);
  LoadedModel(LoadedModel&&) noexcept;
  LoadedModel& operator=(LoadedModel&&) noexcept;
  ~LoadedModel();

  const ModelInfo& info() const { return *info_; }
  const std::string& name() const { return info_->name; }
  const std::string& path() const { return path_; }
  int window() const { return window_; }
  int n_features() const { return static_cast<int>(features_.size()); }
  int n_dynamic() const { return dynamic_; }  // features before the 4 position features
  const std::vector<std::string>& features() const { return features_; }
  const io::Normalisation& normalisation() const { return norm_; }
  const nlohmann::json& metadata() const { return metadata_; }

  // out[i] = the prediction (z-scored target) of windows[i] = [window][n_features]
  // (z-scored, oldest step first). Host pointers.
  void predict(const float* windows, std::int64_t n, float* out) const;

  // The neural kernels (attention weights, flops) or XGBoost (SHAP values; the
  // boosted trees and the random forest); null for the other kind.
  const models::NnInference* neural() const { return neural_.get(); }
  const XgboostModel* xgboost() const { return xgboost_.get(); }

  // Checks the features, variable mapping and window against a dataset: a
  // model trained on SST in kelvin must not run on degrees Celsius.
  void check_dataset(const data::DatasetDescription& dataset) const;

 private:
  LoadedModel() = default;
  const ModelInfo* info_ = nullptr;
  std::string path_;
  int window_ = 0, dynamic_ = 0;
  std::vector<std::string> features_;
  io::Normalisation norm_;
  nlohmann::json metadata_;
  std::unique_ptr<models::NnInference> neural_;
  std::unique_ptr<XgboostModel> xgboost_;
};

// The model files present in `models_dir` among `wanted` ("all" = every
// registered model whose file exists; a named model whose file is missing is
// an error naming the file). Rank-local.
std::vector<std::string> models_in(const std::string& models_dir,
                                   const std::vector<std::string>& wanted);

}  // namespace fluxrecon::models
