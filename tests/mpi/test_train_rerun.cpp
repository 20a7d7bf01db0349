// A rerun of training keeps a complete model only while the sample stores it
// was trained on are unchanged: stores prepared again with other settings
// make `train` (neural and XGBoost) train again.
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>

#include "core/config.hpp"
#include "models/nn_config.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "train/nn_trainer.hpp"

using namespace fluxrecon;
using test_util::shared_temp_dir;

TEST(TrainRerun, ModelsOfStoresPreparedAgainWithOtherSettingsAreTrainedAgain) {
  const auto dir = shared_temp_dir("train_rerun");
  test_util::synth_testbed(dir + "/data", 36, 18, 1958, 1961);
  const std::string samples = dir + "/samples";
  test_util::prepare_testbed_samples(dir + "/data", samples, 4, 0.5);

  const auto mlp_params =
      config::Config::from_text("{hidden_dims: [8], batch_size: 64, epochs: 1}",
                                models::network_schema(models::NetworkKind::mlp), "mlp.yaml");
  const auto xgb_params = config::Config::from_text(
      "{num_boost_round: 3, booster: gbtree, max_depth: 3}", models::xgboost_schema(), "xgb.yaml");
  train::NeuralTrainOptions nn;
  nn.samples_dir = samples;
  nn.out_dir = dir + "/models";
  const models::XgboostTrainOptions xgb{samples, dir + "/models", false};
  const auto train_both = [&] {
    const bool mlp_reused =
        train::train_network(models::NetworkKind::mlp, mlp_params, nn, MPI_COMM_WORLD).reused;
    const bool xgb_reused = models::train_xgboost(xgb_params, xgb, MPI_COMM_WORLD).reused;
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
}
