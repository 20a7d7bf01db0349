#include "core/error.hpp"

#include <cstring>
#include <exception>
#include <vector>

namespace fluxrecon {
namespace {
// Live rank-local Errors of this thread (an exception in flight is one).
thread_local int t_rank_local_errors = 0;
}  // namespace

Error::Error(std::string message, std::string where, bool collective)
    : std::runtime_error(std::move(message)), where_(std::move(where)), collective_(collective) {
  if (!collective_) ++t_rank_local_errors;
}
Error::Error(const Error& other)
    : std::runtime_error(other), where_(other.where_), collective_(other.collective_) {
  if (!collective_) ++t_rank_local_errors;
}
Error& Error::operator=(const Error& other) {
  if (this == &other) return *this;
  if (!collective_) --t_rank_local_errors;
  std::runtime_error::operator=(other);
  where_ = other.where_;
  collective_ = other.collective_;
  if (!collective_) ++t_rank_local_errors;
  return *this;
}
Error::~Error() {
  if (!collective_) --t_rank_local_errors;
}

bool unwinding_from_rank_local_error() {
  return std::uncaught_exceptions() > 0 && t_rank_local_errors > 0;
}

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
  bool agreed_before = false;
  try {
    body();
  } catch (const Error& e) {
    // Even an Error that is collective takes part: it may have been agreed
    // on a sub-communicator only (one rank group), while the other ranks of
    // `comm` wait here.
    message = e.what();
    where = e.where();
    failed_rank = rank;
    agreed_before = e.collective();
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
  std::string text = (agreed_before ? "c" : "l") + message + '\n' + where;
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, lowest, comm);
  text.resize(static_cast<size_t>(length));
  MPI_Bcast(text.data(), length, MPI_CHAR, lowest, comm);
  const auto split = text.rfind('\n');
  int size = 1;
  MPI_Comm_size(comm, &size);
  std::string shown = text.substr(1, split - 1);
  // An agreed Error already says where it was detected.
  if (size > 1 && text[0] != 'c') shown = concat(shown, " (detected on rank ", lowest, ")");
  throw Error(shown, text.substr(split + 1), /*collective=*/true);
}

}  // namespace fluxrecon
