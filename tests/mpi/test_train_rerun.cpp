// A rerun of training keeps a complete model only while the sample stores it
// was trained on are unchanged: stores prepared again with other settings
// make `train` (neural and XGBoost) train again.
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <string>

#include "core/config.hpp"
#include "models/nn_config.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "train/nn_trainer.hpp"
#include "train/xgboost_trainer.hpp"

using namespace fluxrecon;
using test_util::shared_temp_dir;

namespace {

// A fresh folder with a small synthetic ocean in data/ and its stores
// (sampling fraction 0.5) in samples/; returns the folder.
std::string data_and_stores(const std::string& name) {
  const auto dir = shared_temp_dir(name);
  test_util::synth_testbed(dir + "/data", 36, 18, 1958, 1961);
  test_util::prepare_testbed_samples(dir + "/data", dir + "/samples", 4, 0.5);
  return dir;
}

config::Config small_mlp(int epochs) {
  return config::Config::from_text(
      "{hidden_dims: [8], batch_size: 64, epochs: " + std::to_string(epochs) + "}",
      models::network_schema(models::NetworkKind::mlp), "mlp.yaml");
}

}  // namespace

TEST(TrainRerun, ModelsOfStoresPreparedAgainWithOtherSettingsAreTrainedAgain) {
  const auto dir = data_and_stores("train_rerun");
  const std::string samples = dir + "/samples";
  const auto mlp_params = small_mlp(1);
  const auto xgb_params = config::Config::from_text(
      "{num_boost_round: 3, booster: gbtree, max_depth: 3}", models::xgboost_schema(), "xgb.yaml");
  train::NeuralTrainOptions nn;
  nn.samples_dir = samples;
  nn.out_dir = dir + "/models";
  const train::XgboostTrainOptions xgb{samples, dir + "/models", false};
  const auto train_both = [&] {
    const bool mlp_reused =
        train::train_network(models::NetworkKind::mlp, mlp_params, nn, MPI_COMM_WORLD).reused;
    const bool xgb_reused = train::train_xgboost(xgb_params, xgb, MPI_COMM_WORLD).reused;
    return std::make_pair(mlp_reused, xgb_reused);
  };

  EXPECT_EQ(train_both(), std::make_pair(false, false));
  EXPECT_EQ(train_both(), std::make_pair(true, true));  // the same stores: kept

  // The same settings again: prepare reuses the stores, the models are kept.
  test_util::prepare_testbed_samples(dir + "/data", samples, 4, 0.5);
  EXPECT_EQ(train_both(), std::make_pair(true, true));

  // Another sampling fraction: new stores, both models trained again, once.
  const auto redone = test_util::prepare_testbed_samples(dir + "/data", samples, 4, 0.25);
  for (const auto& set : redone.sets) EXPECT_FALSE(set.reused) << set.path;
  EXPECT_EQ(train_both(), std::make_pair(false, false));
  EXPECT_EQ(train_both(), std::make_pair(true, true));

  // A model file cut short (a full disk, a killed copy) is trained again,
  // not refused, and the rerun after it keeps the new one.
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0)
    for (const char* name : {"mlp.h5", "xgboost.json"})
      std::filesystem::resize_file(dir + "/models/" + name, 100);
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_EQ(train_both(), std::make_pair(false, false));
  EXPECT_EQ(train_both(), std::make_pair(true, true));
}

// An interrupted run's checkpoint is resumed only for the samples it was
// written for: after the stores were prepared again the run starts afresh,
// exactly as a run that never had a checkpoint.
TEST(TrainRerun, CheckpointOfOtherSamplesIsNotResumed) {
  const auto dir = data_and_stores("train_rerun_checkpoint");
  const std::string samples = dir + "/samples";
  const auto params = small_mlp(2);
  train::NeuralTrainOptions interrupted;
  interrupted.samples_dir = samples;
  interrupted.out_dir = dir + "/models";
  interrupted.stop_after_epochs = 1;
  EXPECT_FALSE(
      train::train_network(models::NetworkKind::mlp, params, interrupted, MPI_COMM_WORLD).finished);

  test_util::prepare_testbed_samples(dir + "/data", samples, 4, 0.25);
  train::NeuralTrainOptions fresh;
  fresh.samples_dir = samples;
  fresh.out_dir = dir + "/fresh";
  const auto expected =
      train::train_network(models::NetworkKind::mlp, params, fresh, MPI_COMM_WORLD);
  train::NeuralTrainOptions resumed = fresh;
  resumed.out_dir = dir + "/models";
  resumed.resume = true;
  const auto got = train::train_network(models::NetworkKind::mlp, params, resumed, MPI_COMM_WORLD);
  ASSERT_EQ(got.history.size(), expected.history.size());
  for (std::size_t e = 0; e < got.history.size(); ++e) {
    EXPECT_EQ(got.history[e].train_mse, expected.history[e].train_mse) << "epoch " << e + 1;
    EXPECT_EQ(got.history[e].validation_mse, expected.history[e].validation_mse) << e + 1;
  }
}

// A complete model is kept only for the parameters it was trained with (its
// <model>_config.yaml): other parameters train it again; more epochs with
// --resume continue it from its checkpoint, exactly as one longer run.
TEST(TrainRerun, OtherParametersRetrainAndMoreEpochsWithResumeContinue) {
  const auto dir = data_and_stores("train_rerun_params");
  train::NeuralTrainOptions opt;
  opt.samples_dir = dir + "/samples";
  opt.out_dir = dir + "/models";
  const auto train_mlp = [&](const config::Config& params, bool resume) {
    train::NeuralTrainOptions o = opt;
    o.resume = resume;
    return train::train_network(models::NetworkKind::mlp, params, o, MPI_COMM_WORLD);
  };
  EXPECT_FALSE(train_mlp(small_mlp(1), false).reused);
  EXPECT_TRUE(train_mlp(small_mlp(1), true).reused);  // the same parameters: kept

  const auto other = config::Config::from_text(
      "{hidden_dims: [8], batch_size: 64, epochs: 1, learning_rate: 0.01}",
      models::network_schema(models::NetworkKind::mlp), "mlp.yaml");
  const auto retrained = train_mlp(other, true);
  EXPECT_FALSE(retrained.reused);
  EXPECT_EQ(retrained.history.size(), 1u);
  EXPECT_TRUE(train_mlp(other, false).reused);

  // Two epochs without --resume: trained again from scratch.
  EXPECT_EQ(train_mlp(small_mlp(2), false).history.size(), 2u);

  // Three epochs with --resume continue the two-epoch run: the same history
  // as three epochs in one go.
  const auto continued = train_mlp(small_mlp(3), true);
  EXPECT_FALSE(continued.reused);
  EXPECT_EQ(continued.resumed_after_epoch, 2) << "the two-epoch run was not continued";
  train::NeuralTrainOptions straight = opt;
  straight.out_dir = dir + "/straight";
  const auto expected =
      train::train_network(models::NetworkKind::mlp, small_mlp(3), straight, MPI_COMM_WORLD);
  ASSERT_EQ(continued.history.size(), expected.history.size());
  for (std::size_t e = 0; e < expected.history.size(); ++e) {
    EXPECT_EQ(continued.history[e].train_mse, expected.history[e].train_mse) << "epoch " << e + 1;
    EXPECT_EQ(continued.history[e].validation_mse, expected.history[e].validation_mse) << e + 1;
  }
}
