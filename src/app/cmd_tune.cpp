// `fluxrecon tune`: hyper-parameter search over MPI rank groups (src/tune/study.hpp).
#include <cstdio>
#include <memory>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "tune/search_space.hpp"
#include "tune/study.hpp"

namespace fluxrecon::app {

void add_tune_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string space;
    tune::StudyOptions opt;
    bool describe = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->opt;
  auto* cmd = app.add_subcommand(
      "tune",
      "Hyper-parameter search (TPE or random, median pruning) for the model of a search-space "
      "file; trials in parallel over rank groups, a study journal that resumes");
  // Required unless --describe-config: checked when the command runs.
  cmd->add_option("--space", args->space, "REQUIRED: search-space YAML (inputs/tune/<model>.yaml)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--samples", o.samples_dir, "REQUIRED: folder with train.h5 and validation.h5");
  cmd->add_option(
      "--out", o.out_dir,
      "REQUIRED: study folder: journal.jsonl, trials/<n>/, best_params.yaml, trials.csv, "
      "optimisation_history.png, param_importance.png; a rerun continues the study");
  cmd->add_option("--trials", o.n_trials,
                  "finished trials to reach (default: the space's study.n_trials)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--group-size", o.group_size,
                  "ranks per trial (data-parallel); the ranks form size/G groups")
      ->default_val(1)
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--seed", o.seed, "sampler seed (default: the space's study.seed)")
      ->check(CLI::Range(0LL, 2147483647LL));
  cmd->add_option("--epochs", o.max_epochs,
                  "at most this many epochs per neural trial (boosting rounds for xgboost; a "
                  "random forest has one)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--describe-config", args->describe,
                "print every key of a search-space file and exit");
  run = [args] {
    if (args->describe) {
      if (mpi::rank() == 0)
        std::printf("%s", config::document(tune::SearchSpace::schema()).c_str());
      return;
    }
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      FR_REQUIRE(!args->space.empty(), "tune: --space is required (inputs/tune/<model>.yaml)");
      FR_REQUIRE(!args->opt.samples_dir.empty(),
                 "tune: --samples is required (the folder of fluxrecon prepare's stores)");
      FR_REQUIRE(!args->opt.out_dir.empty(), "tune: --out is required (the study folder)");
    });
    tune::SearchSpace space;
    all_ranks_agree(MPI_COMM_WORLD, [&] { space = tune::SearchSpace::load(args->space); });
    const auto r = tune::run_study(space, args->opt, MPI_COMM_WORLD);
    const int ran = r.run_here;
    log::summary("tune ", space.study().model, ": ", r.finished, " trial(s) finished (", r.complete,
                 " complete, ", r.pruned, " pruned, ", r.failed, " failed), ", ran,
                 " run by this job in ", log::seconds(r.seconds), " (",
                 ran > 0 ? concat(log::seconds(r.seconds / ran), " per trial, ") : std::string(),
                 r.n_groups, " group(s) of ", args->opt.group_size, " rank(s)); ",
                 r.best_number >= 0 ? concat("best trial ", r.best_number, ", validation MSE ",
                                             r.best_value, " (z-scored): ", r.best_params_path)
                                    : std::string("no complete trial"));
  };
}

}  // namespace fluxrecon::app
