// `fluxrecon reconstruct`: per-year reconstruction caches. For each chosen
// model, experiment, region and year: read the year (and the last months of
// the previous one for January's windows) straight from the input files,
// build the windows, z-score them with the model file's statistics, predict,
// denormalise, and write one CDF-5 cache per (model, region, experiment,
// year) collectively with PnetCDF, under a temporary name.
//
// Decomposition: the ranks form groups (MPI_Comm_split) that take different
// (experiment, year) tasks; inside a group, ranks own row blocks of the grid
// balanced by ocean points. Every value depends only on its own window, so
// the caches are the same for any number of ranks and groups.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace fluxrecon::recon {

struct ReconstructOptions {
  std::string models_dir;                  // holds <model>.h5 / xgboost.json (fluxrecon train)
  std::vector<std::string> models{"all"};  // names, or "all" = every model file present
  std::vector<std::string> experiments;    // dataset experiment names
  std::vector<std::string> regions{"global"};
  int first_year = 0, last_year = 0;  // inclusive
  std::string out_dir;
  std::string data_dir;      // overrides dataset.directory when set
  bool start_april = false;  // no previous year: the first window-1 months get the fill value
  bool force = false;        // redo complete caches
  int year_groups = 0;       // rank groups taking different years; 0 = min(tasks, ranks)
  std::int64_t batch = std::int64_t(1) << 16;  // windows per prediction call per rank
  // Points read, windowed and predicted at a time per rank (their series:
  // (window + 11) months x 15 values each, 118 MB for 2^17 points).
  std::int64_t chunk_points = std::int64_t(1) << 17;
};

struct ReconstructSummary {
  int caches_written = 0, caches_reused = 0;  // over all groups
  std::int64_t samples = 0;                   // windows predicted, over all ranks
  std::int64_t points = 0;                    // ocean points x regions x years x models written
  int groups = 1;
  double seconds = 0;          // the whole call
  double predict_seconds = 0;  // max over ranks: model predictions alone
  double read_seconds = 0, write_seconds = 0;
  double bytes_read = 0;            // input bytes read by the year readers, over all ranks
  std::vector<std::string> models;  // the models reconstructed
};

// Collective over `comm`. Throws a collective fluxrecon::Error for bad input
// (unknown model, region or experiment, a model trained with other features
// or window length, a year outside the data, a missing previous year).
// The one-line summary of a reconstruct run (the subcommand's and the
// pipeline stage's).
std::string reconstruct_summary_line(const ReconstructSummary& summary, const std::string& out_dir);

ReconstructSummary reconstruct(const config::Config& dataset, const ReconstructOptions& options,
                               MPI_Comm comm);

}  // namespace fluxrecon::recon
