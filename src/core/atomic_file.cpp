#include "core/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon {
namespace fs = std::filesystem;

void ensure_directory(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  FR_REQUIRE(!ec && fs::is_directory(dir), "cannot create output directory '", dir,
             "': ", ec ? ec.message() : "a file of that name exists");
  FR_REQUIRE(::access(dir.c_str(), W_OK) == 0, "output directory '", dir,
             "' is not writable: ", std::strerror(errno));
}

AtomicOutput::AtomicOutput(std::string final_path, MPI_Comm comm)
    : final_path_(std::move(final_path)), comm_(comm) {
  const fs::path target(final_path_);
  std::string temp;
  all_ranks_agree(comm_, [&] {
    if (mpi::rank(comm_) == 0) {
      ensure_directory(target.parent_path().string());
      temp = (target.parent_path() /
              ("." + target.filename().string() + ".part-" + std::to_string(::getpid())))
                 .string();
    }
  });
  temp_path_ = mpi::broadcast(temp, 0, comm_);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && mpi::rank(comm_) == 0) std::remove(temp_path_.c_str());
}

void AtomicOutput::commit() {
  MPI_Barrier(comm_);
  all_ranks_agree(comm_, [&] {
    if (mpi::rank(comm_) == 0) {
      std::error_code ec;
      fs::rename(temp_path_, final_path_, ec);
      FR_REQUIRE(!ec, "cannot rename '", temp_path_, "' to '", final_path_, "': ", ec.message());
    }
  });
  committed_ = true;
}

bool output_complete(const std::string& path) { return fs::exists(path); }

bool output_complete(const std::string& path, MPI_Comm comm) {
  int complete = mpi::rank(comm) == 0 && output_complete(path) ? 1 : 0;
  MPI_Bcast(&complete, 1, MPI_INT, 0, comm);
  return complete == 1;
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const fs::path target(path);
  ensure_directory(target.parent_path().string());
  const std::string temp = (target.parent_path() / ("." + target.filename().string() + ".part-" +
                                                    std::to_string(::getpid())))
                               .string();
  {
    std::ofstream out(temp, std::ios::binary);
    FR_REQUIRE(out.good(), "cannot write '", temp, "': ", std::strerror(errno));
    out << text;
    out.close();
    FR_REQUIRE(out.good(), "writing '", temp, "' failed: ", std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  FR_REQUIRE(!ec, "cannot rename '", temp, "' to '", path, "': ", ec.message());
}

}  // namespace fluxrecon
