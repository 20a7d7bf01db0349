// Sample stores prepared from a small synthetic ocean, once per test binary
// run and window length, shared by the training tests.
#pragma once

#include <map>
#include <string>

#include "core/config.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "data/synth.hpp"
#include "support/mpi_test_util.hpp"

namespace test_util {

// Collective: a synthetic ocean of nx x ny points with one experiment
// (experiment_1), a file per year in `out_dir`.
inline fluxrecon::data::SynthOptions synth_testbed(const std::string& out_dir, int nx, int ny,
                                                   int first_year, int last_year,
                                                   bool orca_halo = false) {
  fluxrecon::data::SynthOptions o;
  o.out_dir = out_dir;
  o.nx = nx;
  o.ny = ny;
  o.orca_halo = orca_halo;
  o.first_year = first_year;
  o.last_year = last_year;
  o.experiments = {{"experiment_1", 1.0}};
  fluxrecon::data::generate_testbed(o, MPI_COMM_WORLD);
  return o;
}

// Collective: train.h5 and validation.h5 (train 1958-1960, validation 1961)
// in `out_dir` from a synth_testbed in `data_dir` (1958-1961).
inline fluxrecon::data::PrepareSummary prepare_testbed_samples(const std::string& data_dir,
                                                               const std::string& out_dir,
                                                               int window = 4,
                                                               double fraction = 0.5) {
  const std::string yaml =
      "dataset: {name: tiny, directory: " + data_dir +
      "}\nexperiments: {experiment_1: {pattern: 'testbed_experiment_1_{year}.nc'}}\n"
      "training_experiment: experiment_1\n"
      "time: {train: [1958, 1960], validation: [1961, 1961], test: [1961, 1961]}\n"
      "sampling: {fraction: " +
      std::to_string(fraction) + ", window: " + std::to_string(window) + "}\n";
  fluxrecon::data::PrepareOptions opt;
  opt.out_dir = out_dir;
  opt.test = false;
  return fluxrecon::data::prepare(
      fluxrecon::config::Config::from_text(yaml, fluxrecon::data::dataset_schema(), "tiny.yaml"),
      opt, MPI_COMM_WORLD);
}

// Folder with train.h5 and validation.h5 (train 1958-1960, validation 1961).
inline const std::string& testbed_samples(int window = 4) {
  static std::map<int, std::string> dirs;
  auto& dir = dirs[window];
  if (!dir.empty()) return dir;
  const auto d = shared_temp_dir("samples_w" + std::to_string(window));
  synth_testbed(d + "/data", 36, 18, 1958, 1961);
  prepare_testbed_samples(d + "/data", d + "/samples", window);
  dir = d + "/samples";
  return dir;
}

}  // namespace test_util
