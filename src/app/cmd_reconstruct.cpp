// `fluxrecon reconstruct`: per-year reconstruction caches from model files.
#include <cstdio>
#include <memory>
#include <tuple>

#include "app/commands.hpp"
#include "app/year_range.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "data/dataset.hpp"
#include "models/registry.hpp"
#include "recon/reconstruct.hpp"

namespace fluxrecon::app {

void add_reconstruct_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string config, models_dir, years, out, data_dir;
    std::vector<std::string> models{"all"}, experiments, regions{"global"};
    bool start_april = false, force = false;
    int year_groups = 0;
    std::int64_t batch = recon::ReconstructOptions{}.batch;
    std::int64_t chunk_points = recon::ReconstructOptions{}.chunk_points;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "reconstruct",
      "Reconstruct CO2 flux fields with trained models: one CDF-5 cache per model, region, "
      "experiment and year (<model>_<region>_<experiment>_<year>.nc)");
  cmd->add_option("--config", args->config, "dataset description YAML")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--models", args->models_dir,
                  "folder of the model files (mlp.h5, lstm.h5, attention_lstm.h5, gru.h5, "
                  "xgboost.json, random_forest.json)")
      ->required();
  cmd->add_option("--model", args->models, "all (every model file present) or model names")
      ->check(CLI::IsMember([] {
        auto names = models::model_names();
        names.insert(names.begin(), "all");
        return names;
      }()));
  cmd->add_option("--experiment", args->experiments, "experiment(s) of the dataset")->required();
  cmd->add_option("--region", args->regions,
                  "region(s): global, North_Atlantic, Southern_Ocean, Equatorial_Pacific, Arctic "
                  "or a box of the dataset's domain.boxes");
  cmd->add_option("--years", args->years, "years A:B (inclusive) or one year A")->required();
  cmd->add_option("--out", args->out, "output directory")->required();
  cmd->add_option("--data-dir", args->data_dir,
                  "folder of the input files (overrides dataset.directory)");
  cmd->add_flag("--start-april", args->start_april,
                "without the previous year: start at the first full window (April for 4-month "
                "windows); earlier months get the fill value");
  cmd->add_flag("--force", args->force, "redo caches that are already complete");
  cmd->add_option("--year-groups", args->year_groups,
                  "rank groups that take different years (0 = one per year, at most one per rank)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--batch", args->batch, "windows per prediction call per rank")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
  cmd->add_option("--chunk-points", args->chunk_points,
                  "ocean points read, windowed and predicted at a time per rank (memory)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
  run = [args] {
    recon::ReconstructOptions opt;
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      std::tie(opt.first_year, opt.last_year) =
          parse_year_range(args->years, "reconstruct: --years");
    });
    config::Config cfg = config::Config::from_text("{}", config::Schema(), "");
    all_ranks_agree(MPI_COMM_WORLD,
                    [&] { cfg = config::Config::load(args->config, data::dataset_schema()); });
    opt.models_dir = args->models_dir;
    opt.models = args->models;
    opt.experiments = args->experiments;
    opt.regions = args->regions;
    opt.out_dir = args->out;
    opt.data_dir = args->data_dir;
    opt.start_april = args->start_april;
    opt.force = args->force;
    opt.year_groups = args->year_groups;
    opt.batch = args->batch;
    opt.chunk_points = args->chunk_points;
    const auto s = recon::reconstruct(cfg, opt, MPI_COMM_WORLD);
    log::summary(recon::reconstruct_summary_line(s, args->out));
  };
}

}  // namespace fluxrecon::app
