// Mean and variance in one pass (Welford), merged with Chan's formula. The
// cross-rank merge gathers per-(year, row) partials and merges them in key
// order, so the result is bitwise the same for any number of ranks.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <map>
#include <vector>

namespace fluxrecon::data {

struct RunningStats {
  double count = 0, mean = 0, m2 = 0;
  void add(double x) {
    count += 1;
    const double delta = x - mean;
    mean += delta / count;
    m2 += delta * (x - mean);
  }
  void merge(const RunningStats& o) {
    if (o.count == 0) return;
    if (count == 0) {
      *this = o;
      return;
    }
    const double n = count + o.count, delta = o.mean - mean;
    mean += delta * (o.count / n);
    m2 += o.m2 + delta * delta * (count * o.count / n);
    count = n;
  }
  // Sample variance (ddof = 1, as pandas).
  double variance() const { return count > 1 ? m2 / (count - 1) : 0.0; }
};

// Partials of `columns` statistics keyed by an ordering key.
using KeyedStats = std::map<std::int64_t, std::vector<RunningStats>>;

// Collective: merges every rank's partials in ascending key order.
std::vector<RunningStats> merge_in_key_order(const KeyedStats& local, int columns, MPI_Comm comm);

}  // namespace fluxrecon::data
