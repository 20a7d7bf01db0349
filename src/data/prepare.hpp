// `fluxrecon prepare`: training, validation and per-year test sets from a
// dataset description, written as HDF5 sample stores.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace fluxrecon::data {

struct PrepareOptions {
  std::string out_dir;
  std::string data_dir;  // overrides dataset.directory when set
  bool force = false;    // redo outputs that are complete
  bool train = true, validation = true, test = true;
  std::int64_t chunk_samples = 1 << 17;  // samples per collective write per rank
};

struct PreparedSet {
  std::string path;
  std::int64_t samples = 0, skipped_windows = 0;
  bool reused = false;       // complete from an earlier run
  double store_seconds = 0;  // this rank's time in HDF5 writes
};

struct PrepareSummary {
  std::vector<PreparedSet> sets;
  std::int64_t samples = 0;
  std::uint64_t bytes_read = 0;          // over all ranks
  double seconds = 0, read_seconds = 0;  // total; reading incl. transposition into series
  double io_seconds = 0;                 // of the reading: the file reads alone
  double store_seconds = 0;              // of the writing: HDF5 writes and close alone
  std::string summary_path;
};

// Collective over `comm`.
// The one-line summary of a prepare run (the subcommand's and the pipeline
// stage's).
std::string prepare_summary_line(const PrepareSummary& summary, const std::string& out_dir);

PrepareSummary prepare(const config::Config& dataset_config, const PrepareOptions& options,
                       MPI_Comm comm);

}  // namespace fluxrecon::data
