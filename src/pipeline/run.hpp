// `fluxrecon run`: the whole pipeline of a pipeline YAML in one job: synth
// (optional), prepare, tune (optional), train every model, reconstruct,
// explain (optional), analyze. Each stage is
// the library function behind its own subcommand, with its normal logs and
// summary line; each skips outputs that are already complete, so a rerun
// goes straight through finished stages, and `force` redoes every one. A
// failing stage stops the pipeline with an error naming the stage.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "pipeline/run_config.hpp"

namespace fluxrecon::pipeline {

struct RunOptions {
  bool force = false;                // redo every stage's outputs
  std::vector<std::string> command;  // the command line, for the report's provenance
};

struct StageRecord {
  std::string name;     // synth, prepare, tune <model>, train <model>, reconstruct, analyze
  std::string written;  // what it wrote, e.g. "18 set(s)"
  bool reused = false;  // nothing to do: complete from an earlier run
  double seconds = 0;   // slowest rank
};

struct RunSummary {
  std::vector<StageRecord> stages;
  double seconds = 0;
  std::string report_path;   // analysis/index.html, absolute
  std::string summary_path;  // run_summary.json
};

// Collective over `comm`; every rank gets the same summary.
RunSummary run_pipeline(const RunConfig& config, const RunOptions& options, MPI_Comm comm);

// "synth 3.2 s, prepare 4.0 s, ..." for the summary line.
std::string stage_times(const RunSummary& summary);

}  // namespace fluxrecon::pipeline
