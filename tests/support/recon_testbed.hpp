// The inputs of the reconstruct tests: a small synthetic ocean (1958-1960),
// the sets of a dataset prepared from it and a small gbtree XGBoost model
// trained on them, made once per test binary run by each test file.
#pragma once

#include <functional>
#include <string>

#include "core/config.hpp"
#include "data/prepare.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "recon/reconstruct.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "train/xgboost_trainer.hpp"

namespace test_util {

struct ReconTestbed {
  std::string root, data, samples, models;
};

// Collective: data in <tmp>/<name>/data, the sets of `dataset(data_dir)` in
// .../samples and xgboost.json (`rounds` rounds of depth 4) in .../models.
inline ReconTestbed make_recon_testbed(
    const std::string& name, int nx, int ny,
    const std::function<fluxrecon::config::Config(const std::string&)>& dataset, int rounds) {
  using namespace fluxrecon;
  ReconTestbed b;
  b.root = shared_temp_dir(name);
  b.data = b.root + "/data";
  b.samples = b.root + "/samples";
  b.models = b.root + "/models";
  synth_testbed(b.data, nx, ny, 1958, 1960);
  data::PrepareOptions p;
  p.out_dir = b.samples;
  data::prepare(dataset(b.data), p, MPI_COMM_WORLD);
  const YAML::Node params = YAML::Load("{num_boost_round: " + std::to_string(rounds) +
                                       ", booster: gbtree, max_depth: 4, eta: 0.3, subsample: "
                                       "1.0, colsample_bytree: 1.0}");
  train::train_xgboost(
      config::Config::from_yaml(params, models::xgboost_schema(), "xgb_params.yaml"),
      {b.samples, b.models, false}, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  return b;
}

// Every model of `models` over the global region of experiment_1 in
// 1959-1960, in several ragged prediction calls and chunks per rank.
inline fluxrecon::recon::ReconstructOptions global_reconstruct_options(const std::string& models,
                                                                       const std::string& out) {
  fluxrecon::recon::ReconstructOptions o;
  o.models_dir = models;
  o.models = {"all"};
  o.experiments = {"experiment_1"};
  o.regions = {"global"};
  o.first_year = 1959;
  o.last_year = 1960;
  o.out_dir = out;
  o.batch = 97;
  o.chunk_points = 37;
  return o;
}

}  // namespace test_util
