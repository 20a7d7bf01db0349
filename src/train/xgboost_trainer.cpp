#include "train/xgboost_trainer.hpp"

#include <xgboost/c_api.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/timer.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "kernels/flatten.hpp"
#include "models/random_forest_config.hpp"
#include "models/registry.hpp"
#include "models/xgb_collective.hpp"
#include "models/xgboost_capi.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"

namespace fluxrecon::train {
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace models::xgb_capi;
using models::flatten_windows;
using models::xgb_check;
using models::XgbCollective;
using models::xgboost_settings;
using models::XgboostModel;

namespace {

// "[3]\ttrain-rmse:0.5\tvalidation-rmse:0.6" -> the value of `name`.
double eval_value(const std::string& text, const std::string& name) {
  const auto at = text.find(name + "-rmse:");
  FR_REQUIRE(at != std::string::npos, "XGBoost evaluation '", text, "' has no ", name, "-rmse");
  return std::stod(text.substr(at + name.size() + 6));
}

// A complete model of an earlier run on the same stores is kept; one that
// looks complete but does not load is trained again.
bool reuse_complete_model(const XgboostTrainOptions& opt, const std::string& tag,
                          XgboostTrainResult& r, MPI_Comm comm) {
  if (opt.force || !output_complete(r.model_path, comm)) return false;
  std::string metadata;
  int readable = 1;
  if (mpi::rank(comm) == 0) {
    try {
      metadata = XgboostModel::load(r.model_path).metadata().dump();
    } catch (const std::exception& e) {
      readable = 0;
      log::info(tag, r.model_path, " is unreadable (", e.what(), "): training again");
    }
  }
  MPI_Bcast(&readable, 1, MPI_INT, 0, comm);
  if (!readable || !io::stores_unchanged_since(metadata, opt.samples_dir, comm)) return false;
  r.reused = true;
  log::info(tag, r.model_path, " is complete from an earlier run (--force redoes it)");
  return true;
}

// Collective: the stores must come from one prepare run; returns the number
// of dynamic features of a window step.
int check_stores(const io::SampleShard& train, const io::SampleShard& valid,
                 const XgboostTrainOptions& opt, MPI_Comm comm) {
  int dynamic = 0;
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(valid.window == train.window, opt.samples_dir, ": validation.h5 has windows of ",
               valid.window, " months but train.h5 of ", train.window);
    FR_REQUIRE(valid.feature_names == train.feature_names, opt.samples_dir,
               ": validation.h5 has the features ", json(valid.feature_names).dump(),
               " but train.h5 ", json(train.feature_names).dump(), "; prepare both together");
    dynamic = data::dynamic_feature_count(train.feature_names, opt.samples_dir + "/train.h5");
    FR_REQUIRE(valid.norm.feature_mean == train.norm.feature_mean &&
                   valid.norm.target_std == train.norm.target_std,
               opt.samples_dir,
               ": validation.h5 was normalised with other statistics than train.h5 "
               "(prepared from another dataset or run); prepare both together");
    FR_REQUIRE(train.total > 0 && valid.total > 0, opt.samples_dir, ": empty sample store");
    ensure_directory(opt.out_dir);
  });
  return dynamic;
}

// Boosting rounds with evaluation on both sets after each, the caller's stop
// decision and early stopping; the booster is cut back to its best round.
void boost_rounds(Booster& booster, DMatrix& dtrain, DMatrix& dvalid,
                  const models::XgboostSettings& settings, const XgboostTrainOptions& opt,
                  const std::string& tag, XgbCollective& collective, std::ostream& eval_csv,
                  XgboostTrainResult& r, MPI_Comm comm) {
  DMatrixHandle sets[2] = {dtrain.handle, dvalid.handle};
  const char* names[2] = {"train", "validation"};
  double best = std::numeric_limits<double>::infinity();
  for (int round = 0; round < settings.num_boost_round; ++round) {
    collective.run(concat("XGBoosterUpdateOneIter (round ", round + 1, ")"),
                   [&] { return XGBoosterUpdateOneIter(booster.handle, round, dtrain.handle); });
    const char* text = nullptr;
    const double eval_start = wall_seconds();
    collective.run(concat("XGBoosterEvalOneIter (round ", round + 1, ")"), [&] {
      return XGBoosterEvalOneIter(booster.handle, round, sets, names, 2, &text);
    });
    r.eval_seconds += wall_seconds() - eval_start;
    const double train_rmse = eval_value(text, "train"),
                 valid_rmse = eval_value(text, "validation");
    eval_csv << round + 1 << "," << train_rmse << "," << valid_rmse << "\n";
    if (round % 10 == 0 || round + 1 == settings.num_boost_round)
      log::info(tag, "round ", round + 1, "/", settings.num_boost_round, " train RMSE ", train_rmse,
                ", validation RMSE ", valid_rmse);
    r.rounds = round + 1;
    if (opt.on_round) {
      // Rank 0 decides and tells the others, so they all leave the loop together.
      int stop = 0;
      all_ranks_agree(comm, [&] { stop = opt.on_round(round + 1, valid_rmse * valid_rmse); });
      MPI_Bcast(&stop, 1, MPI_INT, 0, comm);
      if (stop) {
        log::info(tag, "stopped after round ", round + 1, " by the caller (pruned)");
        r.stopped = true;
        if (valid_rmse < best) r.best_round = round + 1;
        break;
      }
    }
    // Strict improvement, as the seed's early stopping.
    if (valid_rmse < best) {
      best = valid_rmse;
      r.best_round = round + 1;
    } else if (settings.early_stopping_rounds > 0 &&
               round + 1 - r.best_round >= settings.early_stopping_rounds) {
      log::info(tag, "early stop after round ", round + 1, ", best round ", r.best_round);
      break;
    }
  }
  if (settings.early_stopping_rounds > 0 && r.best_round < r.rounds) {
    Booster sliced;
    xgb_check(XGBoosterSlice(booster.handle, 0, r.best_round, 1, &sliced.handle), "XGBoosterSlice");
    std::swap(booster.handle, sliced.handle);
  }
}

// What the model file carries besides the trees: the loader checks the
// model kind, features, window and normalisation against a dataset.
json model_metadata(const XgboostTrainOptions& opt, const models::XgboostSettings& settings,
                    const io::SampleShard& train, const io::SampleShard& valid, int dynamic,
                    const XgboostTrainResult& r, MPI_Comm comm) {
  json meta;
  meta["model"] = opt.model;  // the loader checks it: a forest is no boosted model
  meta["features"] = train.feature_names;
  meta["window"] = train.window;
  meta["input"] = concat("flat: window*", dynamic,
                         " dynamic features (oldest step first), then sin/cos lat/lon");
  meta["normalisation"] = {{"feature_mean", train.norm.feature_mean},
                           {"feature_std", train.norm.feature_std},
                           {"target_mean", train.norm.target_mean},
                           {"target_std", train.norm.target_std}};
  meta["parameters"] = settings.params;
  meta["rounds"] = r.rounds;
  meta["best_round"] = r.best_round;
  meta["samples"] = {{"train", train.total}, {"validation", valid.total}, {"dir", opt.samples_dir}};
  meta["train_store"] = json::parse(train.metadata);
  meta["validation_store"] = json::parse(valid.metadata);
  meta["ranks"] = mpi::size(comm);
  meta["software"] = std::string("fluxrecon ") + FLUXRECON_VERSION;
  return meta;
}

// Collective: validation MSE (z-scored and physical) and R^2 of the
// predictions of every rank's shard.
void score_validation(const io::SampleShard& train, const io::SampleShard& valid,
                      const std::vector<float>& valid_pred, XgboostTrainResult& r, MPI_Comm comm) {
  double sums[3] = {0, 0, 0};  // squared error, target, squared target
  for (std::int64_t i = 0; i < valid.block.size(); ++i) {
    const double t = valid.block.target[i], e = static_cast<double>(valid_pred[i]) - t;
    sums[0] += e * e;
    sums[1] += t;
    sums[2] += t * t;
  }
  MPI_Allreduce(MPI_IN_PLACE, sums, 3, MPI_DOUBLE, MPI_SUM, comm);
  const double n_valid = static_cast<double>(valid.total);
  r.validation_mse = sums[0] / n_valid;
  r.validation_mse_physical = r.validation_mse * train.norm.target_std * train.norm.target_std;
  const double valid_var = sums[2] / n_valid - (sums[1] / n_valid) * (sums[1] / n_valid);
  r.validation_r2 = valid_var > 0 ? 1.0 - r.validation_mse / valid_var : 0.0;
}

// Rank 0: the evaluation CSV, the config, the summary, then the model.
void write_outputs(const config::Config& cfg, const XgboostTrainOptions& opt,
                   const XgboostTrainResult& r, const std::string& eval_csv,
                   const std::string& model, int ranks) {
  write_text_atomically(r.eval_path, eval_csv);
  write_text_atomically((fs::path(opt.out_dir) / models::model_config_name(opt.model)).string(),
                        cfg.to_yaml());
  json summary = {{"model", r.model_path},
                  {"rounds", r.rounds},
                  {"best_round", r.best_round},
                  {"ranks", ranks},
                  {"train_samples", r.train_samples},
                  {"validation_samples", r.validation_samples},
                  {"validation_mse", r.validation_mse},
                  {"validation_mse_physical", r.validation_mse_physical},
                  {"validation_r2", r.validation_r2},
                  {"seconds",
                   {{"boosting", r.train_seconds},
                    {"evaluation_in_boosting", r.eval_seconds},
                    {"predict_validation", r.predict_seconds}}}};
  write_text_atomically((fs::path(opt.out_dir) / (opt.model + "_summary.json")).string(),
                        summary.dump(2) + "\n");
  write_text_atomically(r.model_path, model);
}

}  // namespace

XgboostTrainResult train_xgboost(const config::Config& cfg, const XgboostTrainOptions& opt,
                                 MPI_Comm comm) {
  const double start = wall_seconds();
  XgboostTrainResult r;
  FR_REQUIRE(opt.model == "xgboost" || opt.model == "random_forest",
             "internal: the XGBoost trainer got model '", opt.model, "'");
  const std::string tag = "train " + opt.model + ": ";
  r.model_path = (fs::path(opt.out_dir) / models::model_file_name(opt.model)).string();
  r.eval_path = (fs::path(opt.out_dir) / (opt.model + "_eval.csv")).string();
  if (reuse_complete_model(opt, tag, r, comm)) return r;
  const auto settings =
      opt.model == "random_forest" ? models::random_forest_settings(cfg) : xgboost_settings(cfg);
  const auto train = io::read_sample_shard(opt.samples_dir + "/train.h5", comm);
  const auto valid = io::read_sample_shard(opt.samples_dir + "/validation.h5", comm);
  const int dynamic = check_stores(train, valid, opt, comm);
  r.train_samples = train.total;
  r.validation_samples = valid.total;
  const int width = kernels::flat_width(train.window, dynamic);
  auto train_flat = flatten_windows(train.block, train.window, dynamic);
  // Test hook: the non-finite values that the store readers refuse, put
  // straight into rank 0's XGBoost input, to test the collective's watchdog.
  const char* fault = std::getenv("FLUXRECON_INJECT_FAULT");
  if (fault != nullptr && std::string(fault) == "xgboost_nan_rank0" && mpi::rank(comm) == 0)
    for (std::size_t row = 0; row < 20 && (row + 1) * width <= train_flat.size(); ++row)
      train_flat[row * width + 3] = std::numeric_limits<float>::quiet_NaN();
  const auto valid_flat = flatten_windows(valid.block, valid.window, dynamic);
  log::info(tag, train.total, " training and ", valid.total, " validation samples of ", width,
            " values on ", mpi::size(comm), " rank(s), ", settings.num_boost_round, " rounds");

  std::string model;
  std::vector<float> valid_pred;
  std::ostringstream eval_csv;
  eval_csv << "round,train_rmse,validation_rmse\n";
  {
    // XGBoost info lines stay out of the log (warnings and errors still show).
    xgb_check(XGBSetGlobalConfig("{\"verbosity\": 1}"), "XGBSetGlobalConfig");
    // The configured thread count, else the node's cores shared among its ranks.
    int threads = threads_per_rank(comm);
    for (const auto& [name, value] : settings.params)
      if (name == "nthread") threads = std::stoi(value);
    XgbCollective collective(comm, {120.0, settings.collective_timeout_s});
    DMatrix dtrain, dvalid;
    Booster booster;
    // Outside all_ranks_agree: these exchange data over the collective, and
    // a failure there may mean a stalled rank, which an MPI agreement would wait for.
    make_dmatrix(dtrain, train_flat.data(), train.block.size(), width, threads, &collective);
    make_dmatrix(dvalid, valid_flat.data(), valid.block.size(), width, threads, &collective);
    all_ranks_agree(comm, [&] {
      for (auto* m : {&dtrain, &dvalid}) {
        const auto& target = m == &dtrain ? train.block.target : valid.block.target;
        xgb_check(XGDMatrixSetFloatInfo(m->handle, "label", target.data(), target.size()),
                  "XGDMatrixSetFloatInfo");
      }
      DMatrixHandle both[2] = {dtrain.handle, dvalid.handle};
      xgb_check(XGBoosterCreate(both, 2, &booster.handle), "XGBoosterCreate");
      for (const auto& [name, value] : settings.params)
        xgb_check(XGBoosterSetParam(booster.handle, name.c_str(), value.c_str()),
                  concat("XGBoosterSetParam ", name, "=", value).c_str());
      xgb_check(XGBoosterSetParam(booster.handle, "nthread", std::to_string(threads).c_str()),
                "XGBoosterSetParam nthread");
    });
    const double train_start = wall_seconds();
    boost_rounds(booster, dtrain, dvalid, settings, opt, tag, collective, eval_csv, r, comm);
    const std::string meta_text =
        model_metadata(opt, settings, train, valid, dynamic, r, comm).dump();
    xgb_check(XGBoosterSetAttr(booster.handle, kMetadataAttribute, meta_text.c_str()),
              "XGBoosterSetAttr");
    bst_ulong length = 0;
    const char* bytes = nullptr;
    xgb_check(XGBoosterSaveModelToBuffer(booster.handle, "{\"format\": \"json\"}", &length, &bytes),
              "XGBoosterSaveModelToBuffer");
    model.assign(bytes, length);
    r.train_seconds = mpi::max(wall_seconds() - train_start, comm);
    r.eval_seconds = mpi::max(r.eval_seconds, comm);
    const double predict_start = wall_seconds();
    valid_pred = predict_values(booster.handle, valid_flat.data(), valid.block.size(), width);
    r.predict_seconds = mpi::max(wall_seconds() - predict_start, comm);
    collective.finalize();
  }
  // Every rank must hold the same model; a difference is a bug, not noise.
  const auto digest = static_cast<std::uint64_t>(std::hash<std::string>{}(model));
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(mpi::min(digest, comm) == mpi::max(digest, comm),
               "internal: the ranks ended with different XGBoost models");
  });
  score_validation(train, valid, valid_pred, r, comm);
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) == 0) write_outputs(cfg, opt, r, eval_csv.str(), model, mpi::size(comm));
  });
  MPI_Barrier(comm);
  r.seconds = mpi::max(wall_seconds() - start, comm);
  return r;
}

}  // namespace fluxrecon::train
