// `fluxrecon synth`: the embedded default data, NEMO-style yearly files of a
// synthetic ocean, from the `synth` block of a dataset YAML.
#include <memory>

#include "app/commands.hpp"
#include "app/synth_options.hpp"
#include "core/atomic_file.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "data/dataset.hpp"
#include "data/synth.hpp"

namespace fluxrecon::app {

data::SynthOptions synth_options(const config::Config& cfg, const std::string& out, bool force) {
  FR_REQUIRE(cfg.get<std::string>("dataset.source") == "synthetic", cfg.origin(),
             ": key 'dataset.source' must be 'synthetic' for fluxrecon synth, found '",
             cfg.get<std::string>("dataset.source"), "'");
  data::SynthOptions o;
  o.out_dir = out;
  o.force = force;
  o.prefix = cfg.get<std::string>("synth.prefix");
  o.nx = cfg.get<int>("synth.nx");
  o.ny = cfg.get<int>("synth.ny");
  o.first_year = cfg.get<int>("synth.first_year");
  o.last_year = cfg.get<int>("synth.last_year");
  o.seed = cfg.get<unsigned long long>("synth.seed");
  o.spinup_years = cfg.get<int>("synth.spinup_years");
  o.orca_halo = cfg.get<bool>("synth.orca_halo");
  o.format = cfg.get<std::string>("synth.format");
  o.experiments.clear();
  for (const auto& name : cfg.keys("experiments")) {
    o.experiments.push_back({name, cfg.get<double>("experiments." + name + ".wind_factor")});
    // prepare must find what synth writes.
    const std::string expected = o.prefix + "_" + name + "_{year}.nc";
    const auto pattern = cfg.get<std::string>("experiments." + name + ".pattern");
    FR_REQUIRE(pattern == expected, cfg.origin(), ": key 'experiments.", name, ".pattern' is '",
               pattern, "' but synth writes '", expected, "'");
  }
  FR_REQUIRE(o.last_year >= o.first_year, cfg.origin(), ": key 'synth.last_year' (", o.last_year,
             ") is before 'synth.first_year' (", o.first_year, ")");
  data::validate(o);
  return o;
}

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
      o = synth_options(cfg, args->out, args->force);
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
