// `fluxrecon synth`: the embedded default data, NEMO-style yearly files of a
// synthetic ocean, from the `synth` block of a dataset YAML.
#include <memory>

#include "app/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "data/dataset.hpp"
#include "data/synth.hpp"
#include "data/synth_options.hpp"

namespace fluxrecon::app {

void add_synth_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string config, out;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "synth",
      "Generate the synthetic testbed: NEMO-style yearly netCDF files of a physically "
      "grounded ocean (the embedded default data)");
  cmd->add_option("--config", args->config, "dataset YAML with a synth block (inputs/testbed.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "output directory")->required();
  cmd->add_flag("--force", args->force, "rewrite files that are already complete");
  run = [args] {
    data::SynthOptions o;
    std::string resolved;
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      const auto cfg = config::Config::load(args->config, data::dataset_schema());
      o = data::synth_options(cfg, args->out, args->force);
      resolved = cfg.to_yaml();
    });
    const auto s = data::generate_testbed(o, MPI_COMM_WORLD);
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      if (mpi::rank() == 0) write_text_atomically(o.out_dir + "/synth_config.yaml", resolved);
    });
    for (const auto& f : s.global_flux)
      if (f.written)
        log::debug("synth: ", f.experiment, " ", f.year, ": global flux ", f.pgc_per_year,
                   " PgC/yr");
    log::summary(data::synth_summary_line(s, o.out_dir));
  };
}

}  // namespace fluxrecon::app
