// `fluxrecon run`: the whole pipeline of a pipeline YAML (inputs/demo.yaml):
// synth, prepare, tune, train, reconstruct, explain, analyze, ending with the
// report.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "pipeline/run.hpp"
#include "pipeline/run_config.hpp"

namespace fluxrecon::app {

void add_run_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string config, out;
    bool force = false, describe = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run the whole pipeline of a pipeline YAML (inputs/demo.yaml): synth (optional), prepare, "
      "train every model, reconstruct, analyze; ends with the path of the HTML report");
  // Required unless --describe-config: checked when the command runs.
  cmd->add_option("--config", args->config, "REQUIRED: pipeline YAML (inputs/demo.yaml)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "output root (replaces the file's 'output' key)");
  cmd->add_flag("--force", args->force, "redo every stage, also outputs that are complete");
  cmd->add_flag("--describe-config", args->describe,
                "print every pipeline key with its default and exit");
  run = [args] {
    if (args->describe) {
      if (mpi::rank() == 0) std::printf("%s", config::document(pipeline::run_schema()).c_str());
      return;
    }
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      FR_REQUIRE(!args->config.empty(), "run: --config is required (the pipeline YAML)");
    });
    pipeline::RunConfig rc;
    all_ranks_agree(MPI_COMM_WORLD,
                    [&] { rc = pipeline::load_run_config(args->config, args->out); });
    std::string models, tuned;
    for (const auto& m : rc.models) {
      models += (models.empty() ? "" : ", ") + m.name;
      if (!m.tune_space.empty()) tuned += (tuned.empty() ? ", tune " : ", ") + m.name;
    }
    log::info("run: ", args->config, " -> ", rc.layout.root, " on ", mpi::size(),
              " rank(s): ", rc.synthesize ? "synth, " : "", "prepare ", rc.dataset_path, tuned,
              ", train ", models, ", reconstruct years ", rc.first_year, "-", rc.last_year,
              rc.explain ? ", explain" : "", ", analyze",
              args->force ? " (--force: every stage redone)" : "");
    pipeline::RunOptions opt;
    opt.force = args->force;
    opt.command = {"fluxrecon", "run", "--config", args->config};
    if (!args->out.empty()) opt.command.insert(opt.command.end(), {"--out", args->out});
    if (args->force) opt.command.push_back("--force");
    const auto s = pipeline::run_pipeline(rc, opt, MPI_COMM_WORLD);
    int done = 0;
    for (const auto& st : s.stages) done += st.reused ? 0 : 1;
    log::summary("run: ", done, " of ", s.stages.size(),
                 " stage(s) ran (the others were complete) in ", log::seconds(s.seconds), " on ",
                 mpi::size(), " rank(s): ", pipeline::stage_times(s), "; outputs under ",
                 rc.layout.root, ", summary ", s.summary_path);
    if (!s.report_path.empty()) log::summary("run: report: ", s.report_path);
  };
}

}  // namespace fluxrecon::app
