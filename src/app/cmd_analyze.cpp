// `fluxrecon analyze`: metrics, figures and the HTML report from caches.
#include <memory>
#include <tuple>

#include "analysis/analyze.hpp"
#include "app/commands.hpp"
#include "app/year_range.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace fluxrecon::app {

void add_analyze_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    analysis::AnalyzeOptions opt;
    std::string years;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->opt;
  auto* cmd = app.add_subcommand(
      "analyze",
      "Area-weighted skill of reconstructions against the simulation (and, with --samples, of "
      "a climatology baseline): metrics CSVs, maps, difference maps, annual means, yearly "
      "integrated flux, seasonal cycles, scatter plots and an HTML report; caches with a "
      "sampling mask are scored on their never-sampled cells");
  cmd->add_option("--caches", o.caches_dir, "folder of the caches of fluxrecon reconstruct")
      ->required();
  cmd->add_option("--out", o.out_dir, "output folder (index.html, *.csv, figures/)")->required();
  cmd->add_option("--models", o.models_dir,
                  "folder of the model files: adds the neural models' loss curves");
  cmd->add_option("--explain", o.explain_dir,
                  "output folder of fluxrecon explain: its figures join the report");
  cmd->add_option("--tune", o.tune_dir,
                  "a study folder of fluxrecon tune, or a folder of them (<output>/tune of "
                  "fluxrecon run): each study's trials table, optimisation history and parameter "
                  "importance join the report");
  cmd->add_option("--samples", o.samples_dir,
                  "output folder of fluxrecon prepare: its train.h5 gives a climatology baseline "
                  "(per-location monthly mean of the training target, nearest training location) "
                  "scored as the pseudo-model 'climatology' and compared with every model "
                  "(skill_vs_climatology.csv)");
  cmd->add_option("--model", o.models, "models to analyse (default: every model found)");
  cmd->add_option("--region", o.regions, "regions to analyse (default: every region found)");
  cmd->add_option("--experiment", o.experiments,
                  "experiments to analyse (default: every experiment found)");
  cmd->add_option("--years", args->years,
                  "years A:B (inclusive) or one year A; a missing year is an error (default: the "
                  "years found, which must be contiguous)");
  cmd->add_option("--months", o.map_months, "months (1-12) of the maps")
      ->default_str("1 7")
      ->check(CLI::Range(1, 12));
  cmd->add_option("--provenance", o.provenance,
                  "further inputs to list in the report, as KIND=PATH (e.g. 'dataset "
                  "config=inputs/bling30.yaml')");
  cmd->add_flag("--force", o.force, "redo an analysis that is complete for these caches");
  cmd->add_flag("--self-contained", o.self_contained_report,
                "put the figures inside index.html (one file to send; by default it links "
                "the PNG files in figures/ beside it)");
  run = [args] {
    auto& opt = args->opt;
    if (!args->years.empty())
      all_ranks_agree(MPI_COMM_WORLD, [&] {
        std::tie(opt.first_year, opt.last_year) = parse_year_range(args->years, "analyze: --years");
      });
    const auto s = analysis::analyze(opt, MPI_COMM_WORLD);
    log::summary(analysis::analyze_summary_line(s));
  };
}

}  // namespace fluxrecon::app
