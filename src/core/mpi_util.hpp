// Small typed wrappers over the MPI calls the drivers use, so that drivers
// read as what they do rather than as MPI boilerplate.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::mpi {

int rank(MPI_Comm comm = MPI_COMM_WORLD);
int size(MPI_Comm comm = MPI_COMM_WORLD);

template <class T>
MPI_Datatype datatype();
template <>
inline MPI_Datatype datatype<double>() {
  return MPI_DOUBLE;
}
template <>
inline MPI_Datatype datatype<float>() {
  return MPI_FLOAT;
}
template <>
inline MPI_Datatype datatype<int>() {
  return MPI_INT;
}
template <>
inline MPI_Datatype datatype<std::int64_t>() {
  return MPI_INT64_T;
}
template <>
inline MPI_Datatype datatype<std::uint64_t>() {
  return MPI_UINT64_T;
}
template <>
inline MPI_Datatype datatype<char>() {
  return MPI_CHAR;
}

template <class T>
T allreduce(T value, MPI_Op op, MPI_Comm comm = MPI_COMM_WORLD) {
  T out{};
  MPI_Allreduce(&value, &out, 1, datatype<T>(), op, comm);
  return out;
}
template <class T>
T sum(T value, MPI_Comm comm = MPI_COMM_WORLD) {
  return allreduce(value, MPI_SUM, comm);
}
template <class T>
T max(T value, MPI_Comm comm = MPI_COMM_WORLD) {
  return allreduce(value, MPI_MAX, comm);
}
template <class T>
T min(T value, MPI_Comm comm = MPI_COMM_WORLD) {
  return allreduce(value, MPI_MIN, comm);
}

// Sum of `value` over the ranks below this one (0 on rank 0).
std::int64_t exclusive_prefix_sum(std::int64_t value, MPI_Comm comm = MPI_COMM_WORLD);

// Concatenation of every rank's vector, in rank order, on every rank.
template <class T>
std::vector<T> allgatherv(const std::vector<T>& local, MPI_Comm comm = MPI_COMM_WORLD) {
  const int n = size(comm);
  int count = static_cast<int>(local.size());
  std::vector<int> counts(static_cast<size_t>(n)), displs(static_cast<size_t>(n), 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  for (int r = 1; r < n; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<T> all(static_cast<size_t>(displs[n - 1] + counts[n - 1]));
  MPI_Allgatherv(local.data(), count, datatype<T>(), all.data(), counts.data(), displs.data(),
                 datatype<T>(), comm);
  return all;
}

std::string broadcast(const std::string& text, int root, MPI_Comm comm = MPI_COMM_WORLD);

// Hostname of this process (for the XGBoost tracker, logs).
std::string hostname();

}  // namespace fluxrecon::mpi
