// Atomic outputs: a file is written under a temporary name in the same
// directory and renamed to its final name only when complete, so that an
// interrupted run never leaves a file that looks finished and a rerun can
// skip what exists.
#pragma once

#include <mpi.h>

#include <string>

namespace fluxrecon {

class AtomicOutput {
 public:
  // Collective over `comm`. Rank 0 checks that the directory of `final_path`
  // exists (creating it) and is writable; all ranks agree on the temp name.
  AtomicOutput(std::string final_path, MPI_Comm comm);
  // Removes the temporary file if commit() was not reached.
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  // Collective: barrier, rank 0 renames temp -> final, barrier.
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  MPI_Comm comm_;
  bool committed_ = false;
};

// True if `path` exists as a complete output (final name present).
bool output_complete(const std::string& path);
// Collective: rank 0 looks and tells everyone, so that ranks whose view of a
// shared file system lags never take different branches.
bool output_complete(const std::string& path, MPI_Comm comm);

// Creates `dir` and its parents (rank-local); throws an Error naming the
// directory if it cannot be created or is not writable.
void ensure_directory(const std::string& dir);

// Writes `text` to `path` atomically (rank-local: call on one rank).
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace fluxrecon
