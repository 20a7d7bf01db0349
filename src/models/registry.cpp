#include "models/registry.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "io/sample_store.hpp"
#include "kernels/flatten.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "models/nn_config.hpp"
#include "models/nn_inference.hpp"
#include "models/random_forest_config.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"

namespace fluxrecon::models {
namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<ModelInfo>& registered_models() {
  static const std::vector<ModelInfo> models{
      {ModelKind::mlp, "mlp", "mlp.h5", true, false, "epochs"},
      {ModelKind::lstm, "lstm", "lstm.h5", true, true, "epochs"},
      {ModelKind::attention_lstm, "attention_lstm", "attention_lstm.h5", true, true, "epochs"},
      {ModelKind::gru, "gru", "gru.h5", true, true, "epochs"},
      {ModelKind::xgboost, "xgboost", "xgboost.json", false, false, "num_boost_round"},
      {ModelKind::random_forest, "random_forest", "random_forest.json", false, false, ""},
  };
  return models;
}

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : registered_models()) n.push_back(m.name);
    return n;
  }();
  return names;
}

std::string model_names_text() {
  std::string out;
  for (const auto& n : model_names()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool is_model_name(const std::string& name) {
  const auto& n = model_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

const ModelInfo& model_info(const std::string& name) {
  for (const auto& m : registered_models())
    if (m.name == name) return m;
  FR_FAIL("unknown model '", name, "'; expected one of: ", model_names_text());
}

std::string model_file_name(const std::string& name) { return model_info(name).file_name; }
std::string model_config_name(const std::string& name) {
  return model_info(name).name + "_config.yaml";
}

NetworkKind network_kind(const std::string& name) {
  const ModelInfo& m = model_info(name);
  FR_REQUIRE(m.neural, "model '", name, "' is not a neural network");
  return parse_kind(name);
}

const config::Schema& model_schema(const std::string& name) {
  if (model_info(name).kind == ModelKind::random_forest) return random_forest_schema();
  if (!model_info(name).neural) return xgboost_schema();
  return network_schema(network_kind(name));
}

LoadedModel::LoadedModel(LoadedModel&&) noexcept = default;
LoadedModel& LoadedModel::operator=(LoadedModel&&) noexcept = default;
LoadedModel::~LoadedModel() = default;

LoadedModel LoadedModel::load(const std::string& name, const std::string& path) {
  LoadedModel m;
  m.info_ = &model_info(name);
  m.path_ = path;
  if (!m.info_->neural) {
    m.xgboost_ = std::make_unique<XgboostModel>(XgboostModel::load(path));
    m.metadata_ = m.xgboost_->metadata();
    const std::string held = m.metadata_.value("model", std::string("xgboost"));
    FR_REQUIRE(held == name, "model file '", path, "' holds a ", held, " model, expected ", name);
    m.window_ = m.xgboost_->window();
  } else {
    ModelFile file = read_model_file(path);
    FR_REQUIRE(kind_name(file.spec.kind) == name, "model file '", path, "' holds a ",
               kind_name(file.spec.kind), " model, expected ", name);
    m.window_ = file.spec.window;
    m.metadata_ = std::move(file.metadata);
    m.neural_ = std::make_unique<models::NnInference>(file.spec, file.weights);
  }
  try {
    m.features_ = m.metadata_.at("features").get<std::vector<std::string>>();
    m.norm_ = model_normalisation(m.metadata_);
  } catch (const json::exception& e) {
    FR_FAIL("model file '", path,
            "': no usable 'features' or 'normalisation' in its metadata: ", e.what());
  }
  m.dynamic_ = data::dynamic_feature_count(m.features_, "model file '" + path + "'");
  FR_REQUIRE(!m.neural_ || m.neural_->spec().n_features == m.n_features(), "model file '", path,
             "': its network reads ", m.neural_ ? m.neural_->spec().n_features : 0,
             " features but its metadata lists ", m.n_features());
  return m;
}

void LoadedModel::predict(const float* windows, std::int64_t n, float* out) const {
  if (n <= 0) return;
  if (neural_) {
    neural_->predict(windows, static_cast<std::size_t>(n), out);
    return;
  }
  std::vector<float> flat(static_cast<size_t>(n) * kernels::flat_width(window_, dynamic_));
  Kokkos::parallel_for("flatten_windows",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
                       kernels::FlattenWindows{windows, window_, flat.data(), dynamic_});
  Kokkos::fence();
  const auto y = xgboost_->predict(flat.data(), n);
  std::copy(y.begin(), y.end(), out);
}

void LoadedModel::check_dataset(const data::DatasetDescription& d) const {
  const std::vector<std::string> expected = data::feature_names(d);
  FR_REQUIRE(features_ == expected, "model file '", path_, "' was trained with the features ",
             json(features_).dump(), " but the dataset ", d.origin, " provides ",
             json(expected).dump(), "; retrain the model on this dataset");
  FR_REQUIRE(window_ == d.window, "model file '", path_, "' was trained on windows of ", window_,
             " months but the dataset ", d.origin, " has sampling.window ", d.window,
             "; retrain the model or set sampling.window: ", window_);
  const json trained = metadata_.value("train_store", json::object())
                           .value("selection", json::object())
                           .value("variables", json());
  if (trained.is_null()) {
    log::info("warning: model file '", path_,
              "' records no variable mapping of its training data; cannot check it against ",
              d.origin);
    return;
  }
  const json now = data::variables_json(d);
  for (size_t i = 0; i < std::max(trained.size(), now.size()); ++i) {
    const json a = i < trained.size() ? trained[i] : json(), b = i < now.size() ? now[i] : json();
    FR_REQUIRE(a == b, "model file '", path_, "' was trained with the variable mapping ",
               a.is_null() ? "(none)" : a.dump(), " but the dataset ", d.origin, " maps ",
               b.is_null() ? "(none)" : b.dump(),
               " ([role, file variable, scale, offset, constant]); use the dataset the model was "
               "trained on, or retrain it");
  }
}

std::vector<std::string> models_in(const std::string& models_dir,
                                   const std::vector<std::string>& wanted) {
  FR_REQUIRE(fs::is_directory(models_dir), "models directory '", models_dir, "' does not exist");
  const bool all = std::find(wanted.begin(), wanted.end(), "all") != wanted.end();
  for (const auto& w : wanted)
    FR_REQUIRE(w == "all" || is_model_name(w), "unknown model '", w,
               "'; expected all or one of: ", model_names_text());
  std::vector<std::string> names;
  std::string files;
  for (const auto& m : registered_models()) {
    files += (files.empty() ? "" : ", ") + m.file_name;
    if (!all && std::find(wanted.begin(), wanted.end(), m.name) == wanted.end()) continue;
    const std::string path = (fs::path(models_dir) / m.file_name).string();
    if (fs::is_regular_file(path)) {
      names.push_back(m.name);
    } else {
      FR_REQUIRE(all, "model file '", path, "' is missing (model ", m.name,
                 "); train it with fluxrecon train or choose another --model");
    }
  }
  FR_REQUIRE(!names.empty(), "no model file in '", models_dir, "' (looked for ", files, ")");
  return names;
}

}  // namespace fluxrecon::models
