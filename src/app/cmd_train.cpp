// `fluxrecon train`: trains one registered model on the sample stores of
// fluxrecon prepare.
#include <cstdio>
#include <memory>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "models/registry.hpp"
#include "train/train_model.hpp"

namespace fluxrecon::app {

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
      ->check(CLI::IsMember(models::model_names()));
  // Required unless --describe-config: checked when the command runs.
  cmd->add_option("--samples", args->samples,
                  "REQUIRED: folder with train.h5 and validation.h5 (fluxrecon prepare)");
  cmd->add_option("--params", args->params,
                  "model configuration YAML (default inputs/models/<model>.yaml values)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "REQUIRED: output folder for the model file and logs");
  cmd->add_flag("--force", args->force,
                "retrain from scratch even if the model file is complete (no --resume)");
  cmd->add_flag("--resume", args->resume,
                "neural models: continue from <model>_checkpoint.h5 in --out if present");
  cmd->add_flag("--describe-config", args->describe,
                "print every model key with its default and exit");
  run = [args] {
    const auto& schema = models::model_schema(args->model);
    if (args->describe) {
      if (mpi::rank() == 0) std::printf("%s", config::document(schema).c_str());
      return;
    }
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      FR_REQUIRE(!args->samples.empty(),
                 "train: --samples is required (the folder of fluxrecon prepare's stores)");
      FR_REQUIRE(!args->out.empty(), "train: --out is required (the output folder)");
    });
    config::Config params = config::Config::from_text("{}", schema, "defaults");
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      if (!args->params.empty()) params = config::Config::load(args->params, schema);
    });
    train::TrainRequest request;
    request.samples_dir = args->samples;
    request.out_dir = args->out;
    request.force = args->force;
    request.resume = args->resume;
    const auto r = train::train_model(args->model, params, request, MPI_COMM_WORLD);
    if (r.reused) return;
    log::summary(train::train_summary_line(args->model, r, mpi::size()));
  };
}

}  // namespace fluxrecon::app
