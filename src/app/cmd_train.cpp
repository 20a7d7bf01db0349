// `fluxrecon train`: trains one model on the sample stores of fluxrecon prepare.
#include <cstdio>
#include <memory>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "models/network.hpp"
#include "models/nn_config.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "train/nn_trainer.hpp"

namespace fluxrecon::app {
namespace {

template <class Args>
void run_neural(const Args& args) {
  const auto kind = models::parse_kind(args.model);
  const auto& schema = models::network_schema(kind);
  if (args.describe) {
    if (mpi::rank() == 0) std::printf("%s", config::document(schema).c_str());
    return;
  }
  FR_REQUIRE(!args.samples.empty() && !args.out.empty(), "train: --samples and --out are required");
  config::Config params = config::Config::from_text("{}", schema, "defaults");
  all_ranks_agree(MPI_COMM_WORLD, [&] {
    if (!args.params.empty()) params = config::Config::load(args.params, schema);
  });
  train::NeuralTrainOptions opt;
  opt.samples_dir = args.samples;
  opt.out_dir = args.out;
  opt.force = args.force;
  opt.resume = args.resume;
  const auto r = train::train_network(kind, params, opt, MPI_COMM_WORLD);
  if (r.reused) return;
  double rate = 0;
  for (const auto& e : r.history) rate += e.samples_per_second / double(r.history.size());
  log::summary("train ", args.model, ": wrote ", r.model_path, " (", r.history.size(),
               " epochs, best ", r.best_epoch, ") in ", log::seconds(r.seconds), " (",
               static_cast<long long>(rate), " samples/s per epoch) on ", mpi::size(),
               " rank(s); validation MSE ", r.best_validation_mse, " (z-scored), R^2 ",
               r.validation_r2);
}

}  // namespace

void add_train_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string model, samples, params, out;
    bool force = false, resume = false, describe = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "train", "Train a model on the sample stores of fluxrecon prepare (data-parallel over MPI)");
  cmd->add_option("--model", args->model, "model kind")
      ->required()
      ->check(CLI::IsMember({"mlp", "lstm", "attention_lstm", "xgboost"}));
  cmd->add_option("--samples", args->samples, "folder with train.h5 and validation.h5");
  cmd->add_option("--params", args->params,
                  "model configuration YAML (default inputs/models/<model>.yaml values)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "output folder for the model file and logs");
  cmd->add_flag("--force", args->force,
                "retrain from scratch even if the model file is complete (no --resume)");
  cmd->add_flag("--resume", args->resume,
                "neural models: continue from <model>_checkpoint.h5 in --out if present");
  cmd->add_flag("--describe-config", args->describe,
                "print every model key with its default and exit");
  run = [args] {
    if (args->model != "xgboost") return run_neural(*args);
    if (args->describe) {
      if (mpi::rank() == 0) std::printf("%s", config::document(models::xgboost_schema()).c_str());
      return;
    }
    FR_REQUIRE(!args->samples.empty() && !args->out.empty(),
               "train: --samples and --out are required");
    config::Config params = config::Config::from_text("{}", models::xgboost_schema(), "defaults");
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      if (!args->params.empty())
        params = config::Config::load(args->params, models::xgboost_schema());
    });
    models::XgboostTrainOptions opt{args->samples, args->out, args->force};
    const auto r = models::train_xgboost(params, opt, MPI_COMM_WORLD);
    if (r.reused) return;
    log::summary("train xgboost: wrote ", r.model_path, " (", r.rounds, " rounds, best ",
                 r.best_round, ") in ", log::seconds(r.seconds), " (",
                 static_cast<long long>(r.train_samples * r.rounds / std::max(r.seconds, 1e-9)),
                 " sample-rounds/s) on ", mpi::size(), " rank(s); validation MSE ",
                 r.validation_mse, " (z-scored), ", r.validation_mse_physical,
                 " (physical units squared)");
  };
}

}  // namespace fluxrecon::app
