#include "data/synth_options.hpp"

#include "core/error.hpp"

namespace fluxrecon::data {

SynthOptions synth_options(const config::Config& cfg, const std::string& out, bool force) {
  FR_REQUIRE(cfg.get<std::string>("dataset.source") == "synthetic", cfg.origin(),
             ": key 'dataset.source' must be 'synthetic' for fluxrecon synth, found '",
             cfg.get<std::string>("dataset.source"), "'");
  SynthOptions o;
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
  validate(o);
  return o;
}

}  // namespace fluxrecon::data
