// The random forest (XGBoost's random-forest mode) trained over MPI: one
// round of num_parallel_tree trees, the same model on every rank and close
// to a one-process forest, a model file that says it is a forest, SHAP rows
// summing to predictions, and its keys checked by name.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config.hpp"
#include "core/error.hpp"
#include "io/sample_store.hpp"
#include "models/random_forest_config.hpp"
#include "models/registry.hpp"
#include "models/xgboost_model.hpp"
#include "support/error_text.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "train/xgboost_trainer.hpp"

namespace fs = std::filesystem;
using test_util::error_of_call;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

const std::string& samples() { return test_util::testbed_samples(); }

config::Config params(const std::string& extra = "") {
  // A small forest; `extra` replaces or adds keys.
  YAML::Node node = YAML::Load("{num_parallel_tree: 8, max_depth: 6}");
  const YAML::Node more = YAML::Load(extra.empty() ? "{}" : extra);
  for (const auto& kv : more) node[kv.first.as<std::string>()] = kv.second;
  return config::Config::from_yaml(node, models::random_forest_schema(), "rf_params.yaml");
}

train::XgboostTrainOptions forest(const std::string& out) {
  train::XgboostTrainOptions o(samples(), out);
  o.model = "random_forest";
  return o;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(RandomForest, OneRoundOfNumParallelTreeTreesThatSaysItIsAForest) {
  const auto out = shared_temp_dir("rf_trees");
  const auto r = train::train_xgboost(params(), forest(out), MPI_COMM_WORLD);
  EXPECT_EQ(r.rounds, 1);
  EXPECT_LT(r.validation_mse, 0.7);  // better than the mean (1 on the z-scored target)
  const std::string path = out + "/random_forest.json";
  ASSERT_TRUE(fs::exists(path));
  EXPECT_TRUE(fs::exists(out + "/random_forest_eval.csv"));
  EXPECT_TRUE(fs::exists(out + "/random_forest_config.yaml"));
  const auto model = nlohmann::json::parse(read_file(path));
  const auto& trees = model.at("learner").at("gradient_booster").at("model").at("trees");
  EXPECT_EQ(trees.size(), 8u);
  const auto meta = models::XgboostModel::load(path).metadata();
  EXPECT_EQ(meta.at("model"), "random_forest");
  EXPECT_EQ(meta.at("rounds"), 1);
  bool eta_one = false, eight = false;
  for (const auto& p : meta.at("parameters")) {
    eta_one = eta_one || (p[0] == "eta" && p[1] == "1");
    eight = eight || (p[0] == "num_parallel_tree" && p[1] == "8");
  }
  EXPECT_TRUE(eta_one && eight) << meta.at("parameters").dump();

  // Loaded through the registry as a forest, refused as a boosted model.
  const auto loaded = models::LoadedModel::load("random_forest", path);
  ASSERT_NE(loaded.xgboost(), nullptr);
  const auto message = error_of_call([&] { models::LoadedModel::load("xgboost", path); });
  EXPECT_NE(message.find("holds a random_forest model, expected xgboost"), std::string::npos)
      << message;

  // TreeSHAP as for xgboost: each row sums to the prediction.
  const auto valid = io::read_samples(samples() + "/validation.h5");
  const std::int64_t n = std::min<std::int64_t>(100, valid.size());
  const auto flat = models::flatten_windows(valid, 4, 10);
  const auto pred = loaded.xgboost()->predict(flat.data(), n);
  const auto shap = loaded.xgboost()->contributions(flat.data(), n);
  ASSERT_EQ(shap.size(), static_cast<size_t>(n * 45));
  for (std::int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int j = 0; j < 45; ++j) sum += shap[i * 45 + j];
    ASSERT_NEAR(sum, pred[i], 1e-4 * (1 + std::abs(pred[i]))) << "row " << i;
  }
}

TEST(RandomForest, DistributedForestIsIdenticalOnRanksAndCloseToOneProcess) {
  const auto out = shared_temp_dir("rf_ranks");
  const auto r = train::train_xgboost(params(), forest(out + "/all"), MPI_COMM_WORLD);
  const std::string bytes = read_file(out + "/all/random_forest.json");
  unsigned long long h = std::hash<std::string>{}(bytes), lo = 0, hi = 0;
  MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(lo, hi);
  if (world_rank() == 0) {
    const auto one = train::train_xgboost(params(), forest(out + "/one"), MPI_COMM_SELF);
    EXPECT_NEAR(one.validation_mse, r.validation_mse, 0.15 * r.validation_mse);
    const auto a = models::XgboostModel::load(out + "/all/random_forest.json");
    const auto b = models::XgboostModel::load(out + "/one/random_forest.json");
    const auto valid = io::read_samples(samples() + "/validation.h5");
    const auto flat = models::flatten_windows(valid, 4, 10);
    const auto pa = a.predict(flat.data(), valid.size()), pb = b.predict(flat.data(), valid.size());
    double diff = 0, var = 0;
    for (size_t i = 0; i < pa.size(); ++i) {
      diff += (pa[i] - pb[i]) * (pa[i] - pb[i]);
      var += pb[i] * pb[i];
    }
    // Each rank draws the rows of its own shard and the hist sketches are
    // merged, so the forests differ in their draws, not in what they learn.
    EXPECT_LT(diff / var, 0.1) << "distributed and single-process forests differ";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(RandomForest, KeysAreCheckedByName) {
  // Boosting keys do not exist: the mode fixes them.
  for (const char* key : {"eta: 0.3\n", "num_boost_round: 10\n", "colsample_by_node: 0.5\n"}) {
    const auto message = error_of_call([&] { params(key); });
    EXPECT_NE(message.find("unknown key"), std::string::npos) << key << ": " << message;
  }
  // Without subsampling every tree is the same.
  for (const char* bad :
       {"subsample: 1.0\n", "colsample_bynode: 1\n", "subsample: 0\n", "subsample: lots\n"}) {
    const auto message = error_of_call([&] { params(bad); });
    EXPECT_NE(message.find("not a number in (0, 1)"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("rf_params.yaml"), std::string::npos) << message;
  }
  const auto s = models::random_forest_settings(params("subsample: 0.5\n"));
  EXPECT_EQ(s.num_boost_round, 1);
  EXPECT_EQ(s.params.at(0), (std::pair<std::string, std::string>{"booster", "gbtree"}));
  EXPECT_EQ(s.params.at(1), (std::pair<std::string, std::string>{"eta", "1"}));
  // The shipped configuration and search space are valid.
  const std::string src = FLUXRECON_SOURCE_DIR;
  EXPECT_NO_THROW(config::Config::load(src + "/inputs/models/random_forest.yaml",
                                       models::random_forest_schema()));
}
