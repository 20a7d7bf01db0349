// XGBoost trained over MPI: identical models on every rank, close to a
// single-process model, SHAP rows summing to predictions, bad inputs.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "data/synth.hpp"
#include "io/sample_store.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "train/xgboost_trainer.hpp"

namespace fs = std::filesystem;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

// Sample stores from a small synthetic ocean, made once per test binary run.
const std::string& samples() { return test_util::testbed_samples(); }

config::Config params(const std::string& extra = "") {
  // Small, quick models; `extra` replaces or adds keys.
  YAML::Node node = YAML::Load(
      "{num_boost_round: 15, booster: gbtree, max_depth: 5, eta: 0.3, subsample: 1.0, "
      "colsample_bytree: 1.0}");
  const YAML::Node more = YAML::Load(extra.empty() ? "{}" : extra);
  for (const auto& kv : more) node[kv.first.as<std::string>()] = kv.second;
  return config::Config::from_yaml(node, models::xgboost_schema(), "test_params.yaml");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST(Xgboost, DistributedModelIsIdenticalOnRanksAndCloseToOneProcess) {
  const auto out = shared_temp_dir("train");
  const auto r = train::train_xgboost(params(), {samples(), out + "/all", false}, MPI_COMM_WORLD);
  EXPECT_EQ(r.rounds, 15);
  EXPECT_GT(r.train_samples, 1000);
  // Better than predicting the mean (MSE 1 on the z-scored target).
  EXPECT_LT(r.validation_mse, 0.5);
  ASSERT_TRUE(fs::exists(out + "/all/xgboost.json"));
  ASSERT_TRUE(fs::exists(out + "/all/xgboost_eval.csv"));

  // Every rank holds the same bytes (the trainer also checks a digest).
  const std::string bytes = read_file(out + "/all/xgboost.json");
  unsigned long long h = std::hash<std::string>{}(bytes), lo = 0, hi = 0;
  MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(lo, hi);

  // One process on the same data: the same model up to distributed hist sketching.
  if (world_rank() == 0) {
    const auto one =
        train::train_xgboost(params(), {samples(), out + "/one", false}, MPI_COMM_SELF);
    EXPECT_NEAR(one.validation_mse, r.validation_mse, 0.15 * r.validation_mse);
    const auto a = models::XgboostModel::load(out + "/all/xgboost.json");
    const auto b = models::XgboostModel::load(out + "/one/xgboost.json");
    const auto valid = io::read_samples(samples() + "/validation.h5");
    const auto flat = models::flatten_windows(valid, 4, 10);
    const auto pa = a.predict(flat.data(), valid.size()), pb = b.predict(flat.data(), valid.size());
    double diff = 0, var = 0;
    for (size_t i = 0; i < pa.size(); ++i) {
      diff += (pa[i] - pb[i]) * (pa[i] - pb[i]);
      var += pb[i] * pb[i];
    }
    // Distributed hist merges per-rank quantile sketches, so the split
    // candidates (not the algorithm) differ slightly from one process.
    EXPECT_LT(diff / var, 0.05) << "distributed and single-process predictions differ";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(Xgboost, ModelFileRoundTripAndShapSumsToPrediction) {
  const auto out = shared_temp_dir("shap");
  train::train_xgboost(params(), {samples(), out, false}, MPI_COMM_WORLD);
  const auto model = models::XgboostModel::load(out + "/xgboost.json");
  EXPECT_EQ(model.width(), 44);
  EXPECT_EQ(model.metadata().at("features").size(), 14u);
  EXPECT_EQ(model.metadata().at("normalisation").at("feature_mean").size(), 14u);
  const auto valid = io::read_samples(samples() + "/validation.h5");
  const std::int64_t n = std::min<std::int64_t>(200, valid.size());
  const auto flat = models::flatten_windows(valid, 4, 10);
  const auto pred = model.predict(flat.data(), n);
  const auto shap = model.contributions(flat.data(), n);
  ASSERT_EQ(shap.size(), static_cast<size_t>(n * 45));
  for (std::int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int j = 0; j < 45; ++j) sum += shap[i * 45 + j];
    ASSERT_NEAR(sum, pred[i], 1e-4 * (1 + std::abs(pred[i]))) << "row " << i;
  }
  // Predictions of a reloaded model are bit-identical.
  const auto again = models::XgboostModel::load(out + "/xgboost.json");
  EXPECT_EQ(again.predict(flat.data(), n), pred);
}

TEST(Xgboost, FlattenIsTheSeeds44Vector) {
  io::SampleBlock b;
  b.features.resize(4 * 14);
  for (int t = 0; t < 4; ++t)
    for (int f = 0; f < 14; ++f) b.features[t * 14 + f] = static_cast<float>(100 * t + f);
  b.target = {0};
  const auto v = models::flatten_windows(b, 4, 10);
  ASSERT_EQ(v.size(), 44u);
  for (int t = 0; t < 4; ++t)
    for (int f = 0; f < 10; ++f) EXPECT_EQ(v[t * 10 + f], 100 * t + f);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(v[40 + k], 10 + k);  // statics of the oldest step
}

TEST(Xgboost, BadParametersAndStores) {
  try {
    params("colsample_by_tree: 0.5\n");
    ADD_FAILURE() << "a misspelt XGBoost parameter was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("colsample_by_tree"), std::string::npos) << e.what();
  }
  EXPECT_THROW(params("max_depth: -1\n"), Error);
  EXPECT_THROW(params("subsample: 1.5\n"), Error);
  const auto out = shared_temp_dir("bad");
  try {
    train::train_xgboost(params(), {out + "/nowhere", out + "/m", false}, MPI_COMM_WORLD);
    ADD_FAILURE() << "a missing store was accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("nowhere/train.h5"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out + "/m/xgboost.json"));
}

TEST(Xgboost, RankWithAnEmptyShardStillTakesPart) {
  // A store of one sample: with 2 ranks, rank 0's shard is empty.
  const auto out = shared_temp_dir("empty");
  const auto full = io::read_samples(samples() + "/train.h5");
  const auto norm = io::read_normalisation(samples() + "/train.h5");
  for (const char* name : {"train.h5", "validation.h5"}) {
    io::SampleBlock one;
    if (world_rank() == 0) {
      one.features.assign(full.features.begin(), full.features.begin() + 56);
      one.target = {full.target[0]};
      one.lat = {full.lat[0]};
      one.lon = {full.lon[0]};
      one.year = {full.year[0]};
      one.month = {full.month[0]};
      one.location = {full.location[0]};
    }
    std::vector<std::string> names(data::feature_names().begin(), data::feature_names().end());
    io::SampleStoreWriter w(out + "/" + name, 1, 4, names, norm, "{}", MPI_COMM_WORLD);
    w.write(0, one);
    w.close();
  }
  const auto r = train::train_xgboost(params("num_boost_round: 2\n"), {out, out + "/m", false},
                                      MPI_COMM_WORLD);
  EXPECT_EQ(r.rounds, 2);
  EXPECT_TRUE(fs::exists(out + "/m/xgboost.json"));
}
