// Small helpers shared by the MPI and integration tests.
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace test_util {

inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

inline int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// A fresh, empty directory under the temp folder, the same on every rank
// (named after rank 0's pid), created by rank 0 before anyone uses it.
inline std::string shared_temp_dir(const std::string& name) {
  int pid = static_cast<int>(::getpid());
  MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
  const auto dir = (std::filesystem::temp_directory_path() /
                    ("fluxrecon_test_" + name + "_" + std::to_string(pid)))
                       .string();
  if (world_rank() == 0) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return dir;
}

}  // namespace test_util
