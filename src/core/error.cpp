#include "core/error.hpp"

#include <cstring>
#include <vector>

namespace fluxrecon {

void fail_at(const char* file, int line, const std::string& message) {
  const char* base = std::strrchr(file, '/');
  throw Error(message, concat(base ? base + 1 : file, ":", line));
}

void all_ranks_agree(MPI_Comm comm, const std::function<void()>& body) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string message;
  std::string where;
  int failed_rank = -1;
  try {
    body();
  } catch (const Error& e) {
    if (e.collective()) throw;  // already agreed on a sub-communicator of ours
    message = e.what();
    where = e.where();
    failed_rank = rank;
  } catch (const std::exception& e) {
    message = concat("unexpected error: ", e.what());
    where = "unknown";
    failed_rank = rank;
  }
  // Lowest failing rank wins; -1 means nobody failed.
  int local = failed_rank < 0 ? INT32_MAX : failed_rank;
  int lowest = INT32_MAX;
  MPI_Allreduce(&local, &lowest, 1, MPI_INT, MPI_MIN, comm);
  if (lowest == INT32_MAX) return;
  std::string text = message + '\n' + where;
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, lowest, comm);
  text.resize(static_cast<size_t>(length));
  MPI_Bcast(text.data(), length, MPI_CHAR, lowest, comm);
  const auto split = text.rfind('\n');
  int size = 1;
  MPI_Comm_size(comm, &size);
  std::string shown = text.substr(0, split);
  if (size > 1) shown = concat(shown, " (detected on rank ", lowest, ")");
  throw Error(shown, text.substr(split + 1), /*collective=*/true);
}

}  // namespace fluxrecon
