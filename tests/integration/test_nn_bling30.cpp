// Neural training on the real model output (../shared/data/bling30, train
// 1961-1972, validation 1973-1977): the MLP, trained briefly, must clearly beat
// a per-location monthly climatology of the training years. (The full per-model
// comparison with PyTorch is tools/bench-train.sh, results in bench/RESULTS.md.)
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <map>
#include <regex>

#include "core/config.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "io/sample_store.hpp"
#include "models/nn_config.hpp"
#include "support/mpi_test_util.hpp"
#include "train/nn_trainer.hpp"

namespace fs = std::filesystem;
using namespace fluxrecon;

TEST(NeuralBling30, MlpBeatsMonthlyClimatology) {
  const std::string data = std::string(FLUXRECON_SHARED_DATA) + "/bling30";
  if (!fs::exists(data + "/bling_2p8deg_1961.nc"))
    GTEST_SKIP() << "shared data not found: " << data
                 << " (the integration data lives beside the checkout)";
  YAML::Node yaml = YAML::LoadFile(std::string(FLUXRECON_SOURCE_DIR) + "/inputs/bling30.yaml");
  yaml["dataset"]["directory"] = data;
  yaml["time"]["train"] = YAML::Load("[1961, 1972]");
  yaml["time"]["validation"] = YAML::Load("[1973, 1977]");
  yaml["sampling"]["fraction"] = 0.05;
  const auto dir = test_util::shared_temp_dir("nn_bling30");
  data::PrepareOptions opt;
  opt.out_dir = dir + "/samples";
  opt.test = false;
  data::prepare(config::Config::from_yaml(yaml, data::dataset_schema(), "bling30 (test)"), opt,
                MPI_COMM_WORLD);

  // Climatology baseline: mean target per (location, calendar month) over
  // the training years, evaluated on the validation years (all on each rank).
  const auto train = io::read_samples(opt.out_dir + "/train.h5");
  const auto valid = io::read_samples(opt.out_dir + "/validation.h5");
  std::map<std::pair<std::int64_t, int>, std::pair<double, int>> clim;
  for (std::int64_t i = 0; i < train.size(); ++i) {
    auto& c = clim[{train.location[i], train.month[i]}];
    c.first += train.target[i];
    c.second += 1;
  }
  double sse = 0, sum = 0, sum2 = 0;
  for (std::int64_t i = 0; i < valid.size(); ++i) {
    const auto it = clim.find({valid.location[i], valid.month[i]});
    ASSERT_NE(it, clim.end());
    const double e = it->second.first / it->second.second - valid.target[i];
    sse += e * e;
    sum += valid.target[i];
    sum2 += double(valid.target[i]) * valid.target[i];
  }
  const double n = double(valid.size());
  const double climatology_r2 = 1.0 - (sse / n) / (sum2 / n - (sum / n) * (sum / n));

  const auto params =
      config::Config::from_text("{epochs: 6, batch_size: 64}",
                                models::network_schema(models::NetworkKind::mlp), "test params");
  train::NeuralTrainOptions topt;
  topt.samples_dir = opt.out_dir;
  topt.out_dir = dir + "/model";
  const auto r = train::train_network(models::NetworkKind::mlp, params, topt, MPI_COMM_WORLD);
  RecordProperty("climatology_r2", std::to_string(climatology_r2));
  RecordProperty("mlp_r2", std::to_string(r.validation_r2));
  // Clearly better: at least 15 % less unexplained variance (MSE) than the
  // climatology, which is a strong baseline on this drifting model run.
  EXPECT_LT(1.0 - r.validation_r2, 0.85 * (1.0 - climatology_r2))
      << "MLP R^2 " << r.validation_r2 << " vs climatology " << climatology_r2;
}
