// Reads the 10 predictors and the target of one model year for a set of
// ocean points of this rank, checking the time axis (12 consecutive months
// of that year) and the variables' dimensions.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/uninitialized.hpp"
#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "io/grid_file.hpp"

namespace fluxrecon::data {

class YearReader {
 public:
  // `chunk_bytes`: the size of the buffer the rows are read through (tests
  // make it small to read in many chunks).
  static constexpr std::int64_t kDefaultChunkBytes = std::int64_t(32) << 20;
  YearReader(const DatasetDescription& dataset, const Grid& grid, MPI_Comm comm,
             std::int64_t chunk_bytes = kDefaultChunkBytes);

  // Collective. Writes months [first_month, last_month] (1..12) of `year`
  // for `points` (local indices) into a series laid out
  // [point][slot][role] (roles: 10 predictors then the target) with `slots`
  // slots per point, month first_month going to slot `first_slot`.
  // Missing values stay NaN; whether that is an error is the caller's call.
  // Reads only those months, and only the box of rows and columns that
  // holds `points` (bytes_read() counts what was read).
  void read_into(const std::string& experiment, int year, const std::vector<std::int64_t>& points,
                 int first_month, int last_month, float* series, std::int64_t slots,
                 std::int64_t first_slot);

  const DatasetDescription& dataset() const { return dataset_; }
  std::uint64_t bytes_read() const { return bytes_read_ + (file_ ? file_->bytes_read() : 0); }
  double seconds() const { return seconds_; }
  // Of which: time in the file reads (the rest is checks and transposition).
  double io_seconds() const { return io_seconds_; }
  std::vector<std::string> files_read() const { return files_; }

 private:
  io::GridFile& open(const std::string& path);
  const DatasetDescription& dataset_;
  const Grid& grid_;
  MPI_Comm comm_;
  std::unique_ptr<io::GridFile> file_;
  std::uint64_t bytes_read_ = 0;
  double seconds_ = 0, io_seconds_ = 0;
  std::vector<std::string> files_;
  std::int64_t chunk_bytes_;
  UninitializedVector<float> fields_;  // every variable: the months of one chunk of rows
};

// Collective: checks that every file the given (experiment, year) pairs need
// exists, naming all missing ones in one error.
void require_files(const DatasetDescription& dataset,
                   const std::vector<std::pair<std::string, int>>& experiment_years, MPI_Comm comm);

}  // namespace fluxrecon::data
