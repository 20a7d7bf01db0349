// Reads the 10 predictors and the target of one model year for a set of
// ocean points of this rank, checking the time axis (12 consecutive months
// of that year) and the variables' dimensions.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "io/grid_file.hpp"

namespace fluxrecon::data {

class YearReader {
 public:
  YearReader(const DatasetDescription& dataset, const Grid& grid, MPI_Comm comm);

  // Collective. Values [point][month 0..11][role 0..10] (roles: 10
  // predictors then the target) of `points` (local indices) for `year`.
  // Missing values stay NaN; whether that is an error is the caller's call.
  std::vector<float> read(const std::string& experiment, int year,
                          const std::vector<std::int64_t>& points);

  std::uint64_t bytes_read() const { return bytes_read_ + (file_ ? file_->bytes_read() : 0); }
  double seconds() const { return seconds_; }
  std::vector<std::string> files_read() const { return files_; }

 private:
  io::GridFile& open(const std::string& path);
  const DatasetDescription& dataset_;
  const Grid& grid_;
  MPI_Comm comm_;
  std::unique_ptr<io::GridFile> file_;
  std::uint64_t bytes_read_ = 0;
  double seconds_ = 0;
  std::vector<std::string> files_;
  std::vector<float> field_;  // one variable, 12 months of this rank's rows
};

// Collective: checks that every file the given (experiment, year) pairs need
// exists, naming all missing ones in one error.
void require_files(const DatasetDescription& dataset,
                   const std::vector<std::pair<std::string, int>>& experiment_years,
                   MPI_Comm comm);

}  // namespace fluxrecon::data
