#include "data/stats.hpp"

#include <algorithm>
#include <numeric>

#include "core/mpi_util.hpp"

namespace fluxrecon::data {

std::vector<RunningStats> merge_in_key_order(const KeyedStats& local, int columns, MPI_Comm comm) {
  const size_t stride = 1 + 3 * static_cast<size_t>(columns);
  std::vector<double> packed;
  packed.reserve(local.size() * stride);
  for (const auto& [key, stats] : local) {
    packed.push_back(static_cast<double>(key));  // keys stay far below 2^53
    for (const auto& s : stats) {
      packed.push_back(s.count);
      packed.push_back(s.mean);
      packed.push_back(s.m2);
    }
  }
  const auto all = mpi::allgatherv(packed, comm);
  const size_t n = all.size() / stride;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return all[a * stride] < all[b * stride]; });
  std::vector<RunningStats> merged(static_cast<size_t>(columns));
  for (size_t p : order)
    for (int c = 0; c < columns; ++c) {
      const double* s = &all[p * stride + 1 + 3 * static_cast<size_t>(c)];
      merged[c].merge(RunningStats{s[0], s[1], s[2]});
    }
  return merged;
}

}  // namespace fluxrecon::data
