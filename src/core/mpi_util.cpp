#include "core/mpi_util.hpp"

#include <unistd.h>

namespace fluxrecon::mpi {

int rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

std::int64_t exclusive_prefix_sum(std::int64_t value, MPI_Comm comm) {
  std::int64_t out = 0;
  MPI_Exscan(&value, &out, 1, MPI_INT64_T, MPI_SUM, comm);
  return rank(comm) == 0 ? 0 : out;
}

std::string broadcast(const std::string& text, int root, MPI_Comm comm) {
  long long length = static_cast<long long>(text.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, root, comm);
  std::string out = text;
  out.resize(static_cast<size_t>(length));
  MPI_Bcast(out.data(), static_cast<int>(length), MPI_CHAR, root, comm);
  return out;
}

std::string hostname() {
  char name[256] = {0};
  gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace fluxrecon::mpi
