// The model registry: names, files and schemas of every model kind, the
// files found in a models folder, and a loaded model's batched prediction.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "data/dataset.hpp"
#include "models/model_file.hpp"
#include "models/nn_inference.hpp"
#include "models/registry.hpp"
#include "support/error_text.hpp"
#include "support/mpi_test_util.hpp"
#include "support/random_networks.hpp"

namespace {

namespace fs = std::filesystem;
namespace models = fluxrecon::models;
using test_util::error_of_call;

// A model file of `spec` with random weights and the seed's 14 features.
models::ModelFile model_file(const models::NetworkSpec& spec, unsigned seed) {
  models::ModelFile f;
  f.spec = spec;
  f.weights = test_util::random_weights(spec, seed);
  std::vector<std::string> names(fluxrecon::data::feature_names().begin(),
                                 fluxrecon::data::feature_names().end());
  fluxrecon::io::Normalisation norm;
  norm.feature_mean.assign(names.size(), 0.0);
  norm.feature_std.assign(names.size(), 1.0);
  norm.target_mean = 2.0;
  norm.target_std = 3.0;
  f.metadata = {{"features", names}, {"normalisation", models::normalisation_json(norm)}};
  return f;
}

TEST(ModelRegistry, NamesFilesAndSchemasOfEveryKind) {
  EXPECT_EQ(models::model_names(), (std::vector<std::string>{"mlp", "lstm", "attention_lstm", "gru",
                                                             "xgboost", "random_forest"}));
  EXPECT_EQ(models::model_file_name("mlp"), "mlp.h5");
  EXPECT_EQ(models::model_file_name("gru"), "gru.h5");
  EXPECT_TRUE(models::model_info("gru").sequence);
  EXPECT_TRUE(models::model_info("gru").neural);
  EXPECT_EQ(models::network_kind("gru"), models::NetworkKind::gru);
  EXPECT_EQ(models::model_file_name("attention_lstm"), "attention_lstm.h5");
  EXPECT_EQ(models::model_file_name("xgboost"), "xgboost.json");
  EXPECT_TRUE(models::model_info("lstm").sequence);
  EXPECT_FALSE(models::model_info("xgboost").neural);
  EXPECT_EQ(models::model_file_name("random_forest"), "random_forest.json");
  EXPECT_FALSE(models::model_info("random_forest").neural);
  EXPECT_TRUE(models::model_info("random_forest").steps_key.empty());  // one round, fixed
  const auto forest_keys = models::model_schema("random_forest").keys();
  EXPECT_NE(std::find(forest_keys.begin(), forest_keys.end(), "num_parallel_tree"),
            forest_keys.end());
  for (const auto& m : models::registered_models()) {
    if (m.steps_key.empty()) continue;
    const auto keys = models::model_schema(m.name).keys();
    EXPECT_NE(std::find(keys.begin(), keys.end(), m.steps_key), keys.end()) << m.name;
  }
  const auto message = error_of_call([] { models::model_info("tcn"); });
  EXPECT_NE(message.find("unknown model 'tcn'"), std::string::npos) << message;
  EXPECT_NE(message.find("attention_lstm, gru, xgboost"), std::string::npos) << message;
  EXPECT_THROW(models::network_kind("xgboost"), fluxrecon::Error);
}

TEST(ModelRegistry, FindsTheModelFilesOfAFolder) {
  const auto dir = test_util::shared_temp_dir("registry_models");
  std::ofstream(dir + "/lstm.h5") << "x";
  std::ofstream(dir + "/xgboost.json") << "{}";
  EXPECT_EQ(models::models_in(dir, {"all"}), (std::vector<std::string>{"lstm", "xgboost"}));
  EXPECT_EQ(models::models_in(dir, {"xgboost"}), (std::vector<std::string>{"xgboost"}));
  const auto missing = error_of_call([&] { models::models_in(dir, {"mlp"}); });
  EXPECT_NE(missing.find("mlp.h5' is missing"), std::string::npos) << missing;
  EXPECT_NE(error_of_call([&] { models::models_in(dir, {"tabnet"}); }).find("unknown model"),
            std::string::npos);
  const auto empty = test_util::shared_temp_dir("registry_empty");
  EXPECT_NE(error_of_call([&] { models::models_in(empty, {"all"}); }).find("no model file"),
            std::string::npos);
}

TEST(ModelRegistry, LoadedNeuralModelPredictsAsItsKernels) {
  const auto dir = test_util::shared_temp_dir("registry_load");
  models::NetworkSpec spec;
  spec.kind = models::NetworkKind::lstm;
  spec.hidden_dim = 16;
  spec.num_layers = 2;
  {  // The GRU round trip through its file: kind, hyperparameters and weights.
    models::NetworkSpec g = spec;
    g.kind = models::NetworkKind::gru;
    const auto gf = model_file(g, 4);
    models::write_model_file(dir + "/gru.h5", gf);
    const auto back = models::read_model_file(dir + "/gru.h5");
    EXPECT_EQ(back.spec.kind, models::NetworkKind::gru);
    EXPECT_EQ(back.spec.num_layers, 2);
    EXPECT_EQ(back.spec.hidden_dim, 16);
    EXPECT_EQ(back.weights.at("gru.weight_hh_l1").shape, (std::vector<std::size_t>{48, 16}));
    const auto m = models::LoadedModel::load("gru", dir + "/gru.h5");
    std::vector<float> x(3 * 4 * 14, 0.5f), a(3), b(3);
    m.predict(x.data(), 3, a.data());
    fluxrecon::models::NnInference(g, gf.weights).predict(x.data(), 3, b.data());
    EXPECT_EQ(a, b);
  }
  const auto file = model_file(spec, 3);
  {  // A checkpoint whose history outgrows HDF5's 64 KiB attributes (1000 epochs).
    auto cp = file;
    cp.checkpoint = {{"epoch", 1000}, {"history", nlohmann::json::array()}};
    for (int e = 1; e <= 1000; ++e)
      cp.checkpoint["history"].push_back({e, 0.1 / e, 0.2 / e, 12.5, 5000.0, 9.0, 3.0, 4e4, 1e-3});
    cp.extra["adam_m"] = std::vector<float>(5, 0.5f);
    ASSERT_GT(cp.checkpoint.dump().size(), 65536u);
    models::write_model_file(dir + "/lstm_checkpoint.h5", cp);
    const auto back = models::read_model_file(dir + "/lstm_checkpoint.h5");
    EXPECT_EQ(back.checkpoint, cp.checkpoint);
    EXPECT_EQ(back.extra.at("adam_m"), cp.extra.at("adam_m"));
  }
  models::write_model_file(dir + "/lstm.h5", file);
  const auto m = models::LoadedModel::load("lstm", dir + "/lstm.h5");
  EXPECT_EQ(m.window(), 4);
  EXPECT_EQ(m.n_features(), 14);
  EXPECT_EQ(m.n_dynamic(), 10);
  EXPECT_DOUBLE_EQ(m.normalisation().target_std, 3.0);
  ASSERT_NE(m.neural(), nullptr);
  EXPECT_EQ(m.xgboost(), nullptr);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> x(7 * 4 * 14);
  for (float& v : x) v = normal(rng);
  std::vector<float> a(7), b(7);
  m.predict(x.data(), 7, a.data());
  fluxrecon::models::NnInference(spec, file.weights).predict(x.data(), 7, b.data());
  EXPECT_EQ(a, b);
  // A file of another kind is refused by name.
  const auto message = error_of_call([&] { models::LoadedModel::load("mlp", dir + "/lstm.h5"); });
  EXPECT_NE(message.find("holds a lstm model, expected mlp"), std::string::npos) << message;
}

}  // namespace
