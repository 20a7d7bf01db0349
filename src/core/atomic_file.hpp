// Atomic outputs: a file is written under a temporary name in the same
// directory and renamed to its final name only when complete, so that an
// interrupted run never leaves a file that looks finished and a rerun can
// skip what exists. At the end, the file's size and checksum are recorded in
// a seal next to it (`.NAME.seal`); an output is complete only when the seal
// matches, so a file damaged after its rename (a full disk that dropped data,
// a copy cut short) is redone by the next run.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

namespace fluxrecon {

class AtomicOutput {
 public:
  // Collective over `comm`. Rank 0 checks that the directory of `final_path`
  // exists (creating it) and is writable, and removes the temporary files of
  // this output left by dead runs on this host; all ranks agree on the temp name.
  AtomicOutput(std::string final_path, MPI_Comm comm);
  // Removes the temporary file if commit() was not reached.
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  // Collective: barrier; rank 0 flushes the temp file to disk (fsync), checks
  // that it is not empty (and `expected_bytes` long when not 0), seals it and
  // renames it to the final name; barrier. Any failure (a full disk) throws on
  // every rank and leaves no complete output.
  void commit(std::uint64_t expected_bytes = 0);

 private:
  std::string final_path_;
  std::string temp_path_;
  MPI_Comm comm_;
  bool committed_ = false;
};

// True if `path` exists as a complete output: final name present and its
// seal matching its size and checksum.
bool output_complete(const std::string& path);
// Collective: rank 0 looks and tells everyone, so that ranks whose view of a
// shared file system lags never take different branches.
bool output_complete(const std::string& path, MPI_Comm comm);

// Creates `dir` and its parents (rank-local); throws an Error naming the
// directory if it cannot be created or is not writable.
void ensure_directory(const std::string& dir);

// Writes `text` to `path` atomically and seals it (rank-local: call on one rank).
void write_text_atomically(const std::string& path, const std::string& text);

// The final name of a temporary name of AtomicOutput (".x.nc.part-host-1" ->
// "x.nc", in the same directory); `path` itself when it is not one. For messages.
std::string final_name_of(const std::string& path);

// Rank-local: reserves `bytes` of disk for the existing file `path` without
// changing its size, so that a full disk fails before anything is written.
// Throws "no space left on device" naming the final name of `path`, the bytes
// needed and those free. Does nothing where the file system cannot reserve.
void reserve_space(const std::string& path, std::uint64_t bytes);
// Collective: rank 0 reserves, every rank throws when it fails.
void reserve_space(const std::string& path, std::uint64_t bytes, MPI_Comm comm);

// Bytes free to this user on the file system holding `path` (0 if unknown).
std::uint64_t free_disk_bytes(const std::string& path);

// strerror(err) in lower case ("no space left on device"), for messages that
// name a path first.
std::string system_error_text(int err);

}  // namespace fluxrecon
