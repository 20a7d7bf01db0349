// `fluxrecon explain`: SHAP, TimeSHAP and attention scores of the trained
// models on a sample store's instances (src/explain/explain.hpp).
#include <memory>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "explain/explain.hpp"
#include "models/registry.hpp"

namespace fluxrecon::app {

void add_explain_command(CLI::App& app, std::function<void()>& run) {
  auto o = std::make_shared<explain::ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain",
      "Explain trained models on a sample store's instances: KernelSHAP (mlp), TreeSHAP "
      "(xgboost, random_forest), TimeSHAP (lstm, attention_lstm, gru) and attention scores; "
      "instances split over ranks");
  cmd->add_option("--models", o->models_dir, "folder of the model files (fluxrecon train)")
      ->required();
  cmd->add_option("--samples", o->samples_dir,
                  "prepare's folder: the instances' store and train.h5 (the background)")
      ->required();
  cmd->add_option("--out", o->out_dir,
                  "output folder: explain_<model>_<method>.csv, explain_<model>.nc, figures/")
      ->required();
  cmd->add_option("--model", o->models, "all (every model file present) or model names")
      ->check(CLI::IsMember([] {
        auto names = models::model_names();
        names.insert(names.begin(), "all");
        return names;
      }()));
  cmd->add_option("--set", o->set,
                  "store of the instances in --samples: validation (default) or "
                  "test_<experiment>_<region>_<year>");
  cmd->add_option("--months", o->months, "months (1-12) of the instances (default: all)")
      ->check(CLI::Range(1, 12));
  cmd->add_option("--instances", o->instances,
                  "instances per model, drawn at random (0 = every sample)")
      ->default_val(100)
      ->check(CLI::Range(0LL, 1000000000LL));
  cmd->add_option("--background", o->background,
                  "training samples of the instance's month in its region (KernelSHAP background; "
                  "TimeSHAP's baseline is their median event)")
      ->default_val(2000)
      ->check(CLI::Range(1LL, 100000000LL));
  cmd->add_option("--kmeans", o->kmeans,
                  "KernelSHAP: summarise the background to this many weighted k-means rows "
                  "(0 = off)")
      ->default_val(0)
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--coalitions", o->coalitions, "KernelSHAP coalitions (0 = 2 M + 2048)")
      ->default_val(0)
      ->check(CLI::Range(0LL, 100000000LL));
  cmd->add_option("--timeshap-samples", o->timeshap_samples,
                  "TimeSHAP coalitions per level (0 = 2 M + 2048; exact when 2^M - 2 fit)")
      ->default_val(0)
      ->check(CLI::Range(0LL, 100000000LL));
  cmd->add_option("--tolerance", o->tolerance,
                  "TimeSHAP pruning tolerance, z-scored target (0 = no pruning, as the seed)")
      ->default_val(0.0)
      ->check(CLI::Range(0.0, 1e30));
  cmd->add_option("--top-events", o->top_events, "TimeSHAP cell level: top events (0 = all)")
      ->default_val(0)
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--top-features", o->top_features, "TimeSHAP cell level: top features (0 = all)")
      ->default_val(0)
      ->check(CLI::Range(0, 1000000));
  cmd->add_flag("--interactions", o->interactions, "xgboost: SHAP interaction values too");
  cmd->add_option("--seed", o->seed, "seed of the instances, backgrounds and coalitions")
      ->default_val(42);
  cmd->add_flag("--force", o->force, "redo complete outputs");
  run = [o] {
    const auto s = explain::explain(*o, MPI_COMM_WORLD);
    std::string names;
    for (const auto& n : s.models) names += (names.empty() ? "" : ",") + n;
    log::summary("explain: ", s.models.size(), " model(s) explained (",
                 names.empty() ? "none" : names,
                 s.reused ? concat("; ", s.reused, " complete from an earlier run") : "", "), ",
                 s.instances, " instance(s), ", s.files.size(), " file(s) in ", o->out_dir, " in ",
                 log::seconds(s.seconds), " (",
                 explain::rate_text(static_cast<double>(s.instances), s.explain_seconds),
                 " instances/s, ", s.instances ? s.evaluations / s.instances : 0,
                 " model evaluations per instance) on ", mpi::size(), " rank(s)");
  };
}

}  // namespace fluxrecon::app
