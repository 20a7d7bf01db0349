// Kernels of the PCA of sliding-window embeddings (spec 8.4): per-scene
// moments (mean and centred co-moment matrix of the window vectors), their
// pairwise merge (Chan, Golub and LeVeque 1979), the sign convention of the
// components and the projection of windows onto them.
// Pure computation: no I/O, no MPI; the functors' pointers must be in the
// execution space's memory. Every output entry is a sequential sum in a fixed
// order, so results do not depend on the backend's thread count.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

// mean[a] = average over samples of values[a][s]; one item per dimension a.
struct PcaSceneMean {
  const float* values;  // [dims][samples]
  std::int64_t samples;
  double* mean;  // [dims]

  KOKKOS_INLINE_FUNCTION void operator()(const int a) const {
    const float* row = values + a * samples;
    double sum = 0;
    for (std::int64_t s = 0; s < samples; ++s) sum += row[s];
    mean[a] = sum / static_cast<double>(samples);
  }
};

// comoment[a][b] = sum over samples of (v[a] - mean[a]) (v[b] - mean[b]);
// item = a * dims + b; the item with a <= b fills both halves (exactly symmetric).
struct PcaSceneComoment {
  const float* values;  // [dims][samples]
  const double* mean;   // [dims]
  std::int64_t samples;
  int dims;
  double* comoment;  // [dims][dims]

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t item) const {
    const int a = static_cast<int>(item / dims), b = static_cast<int>(item % dims);
    if (b < a) return;
    const float* va = values + a * samples;
    const float* vb = values + b * samples;
    const double ma = mean[a], mb = mean[b];
    double sum = 0;
    for (std::int64_t s = 0; s < samples; ++s) sum += (va[s] - ma) * (vb[s] - mb);
    comoment[a * dims + b] = sum;
    comoment[b * dims + a] = sum;
  }
};

// out[k][s] = sum_a components[k][a] (values[a][s] - mean[a]); item = k * samples + s.
struct PcaProject {
  const float* values;       // [dims][samples]
  const double* mean;        // [dims]
  const double* components;  // [count][dims]
  std::int64_t samples;
  int dims;
  float* out;  // [count][samples]

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t item) const {
    const std::int64_t k = item / samples, s = item % samples;
    const double* c = components + k * dims;
    double sum = 0;
    for (int a = 0; a < dims; ++a) sum += c[a] * (values[a * samples + s] - mean[a]);
    out[item] = static_cast<float>(sum);
  }
};

// Merges the moments of set B (count_b, mean_b, comoment_b) into those of
// set A, in place: the moments of the union (Chan et al.'s pairwise update).
// Host function; a count of 0 is the empty set.
inline void merge_pca_moments(std::int64_t& count, double* mean, double* comoment,
                              std::int64_t count_b, const double* mean_b, const double* comoment_b,
                              int dims) {
  if (count_b == 0) return;
  if (count == 0) {
    for (int a = 0; a < dims; ++a) mean[a] = mean_b[a];
    for (std::int64_t i = 0; i < std::int64_t(dims) * dims; ++i) comoment[i] = comoment_b[i];
    count = count_b;
    return;
  }
  const double n_a = static_cast<double>(count), n_b = static_cast<double>(count_b);
  const double n = n_a + n_b, weight = n_a * n_b / n;
  for (int a = 0; a < dims; ++a) {
    const double da = mean_b[a] - mean[a];
    for (int b = 0; b < dims; ++b) {
      const double db = mean_b[b] - mean[b];
      comoment[a * dims + b] += comoment_b[a * dims + b] + da * db * weight;
    }
  }
  for (int a = 0; a < dims; ++a) mean[a] += (mean_b[a] - mean[a]) * (n_b / n);
  count += count_b;
}

// Makes each component's largest-magnitude coefficient (the first, on ties)
// positive, as scikit-learn's svd_flip does for the components: eigenvectors
// are defined up to sign, and outputs must not depend on the solver's choice.
inline void fix_pca_signs(double* components, int count, int dims) {
  for (int k = 0; k < count; ++k) {
    double* c = components + std::int64_t(k) * dims;
    int arg = 0;
    for (int a = 1; a < dims; ++a)
      if ((c[a] < 0 ? -c[a] : c[a]) > (c[arg] < 0 ? -c[arg] : c[arg])) arg = a;
    if (c[arg] < 0)
      for (int a = 0; a < dims; ++a) c[a] = -c[a];
  }
}

}  // namespace fluxrecon::kernels
