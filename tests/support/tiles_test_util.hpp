// Shared pieces of the tiles MPI tests: a dataset folder with its meta.yaml,
// and a folder's files (for comparing the outputs of two runs).
#pragma once

#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "support/mpi_test_util.hpp"

namespace test_util {

// Rank 0 writes `text` as DIR/meta.yaml; every rank returns after it.
inline void write_tiles_meta(const std::string& dir, const std::string& text) {
  if (world_rank() == 0) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/meta.yaml") << text;
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Path relative to `dir` -> contents, of every regular file below `dir`
// (or in it only) except the hidden ones (.NAME.seal).
inline std::map<std::string, std::string> folder_contents(const std::string& dir,
                                                          bool recursive = true) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> out;
  const auto add = [&](const fs::directory_entry& e) {
    if (!e.is_regular_file() || e.path().filename().string()[0] == '.') return;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    out[fs::relative(e.path(), dir).string()] = s.str();
  };
  if (recursive)
    for (const auto& e : fs::recursive_directory_iterator(dir)) add(e);
  else
    for (const auto& e : fs::directory_iterator(dir)) add(e);
  return out;
}

}  // namespace test_util
