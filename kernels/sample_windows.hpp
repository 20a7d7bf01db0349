// Assembles z-scored sample windows from per-location monthly series.
// Pure computation: no I/O, no MPI. Runs in a Kokkos host execution space
// (the series live in host memory next to the reader).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

// Features per step at most (the seed's 14 plus a dataset's extras); fixed so
// that the constants travel with the functor by value.
constexpr int kMaxFeatures = 64;
constexpr int kPositionFeatures = 4;

struct Normalisation {
  int features = 14;              // the target's constants follow the features
  double mean[kMaxFeatures + 1];  // features, then the target
  double inv_std[kMaxFeatures + 1];
};

// One sample per (point, target slot). Feature order per step: the `roles-1`
// file predictors of the series, the `globals` global features of the
// step's month, the 4 position features. series: [point][slot][roles] raw
// values, the target last; globals: [slot][globals] raw values; statics:
// [point][4] = sin/cos of lat/lon; sample_point/sample_slot: which window
// each output sample is. Output features: [sample][window][features],
// target: [sample].
struct AssembleWindows {
  const float* series;
  const double* globals;
  const double* statics;
  const std::int64_t* sample_point;
  const std::int32_t* sample_slot;
  std::int64_t slots;
  int roles, global_count, window;
  Normalisation norm;
  float* features;
  float* target;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t s) const {
    const std::int64_t p = sample_point[s];
    const std::int32_t last = sample_slot[s];
    const int width = norm.features, predictors = roles - 1;
    float* out = features + s * window * width;
    for (int t = 0; t < window; ++t) {
      const std::int64_t slot = last - window + 1 + t;
      const float* month = series + (p * slots + slot) * roles;
      float* step = out + t * width;
      int f = 0;
      for (int r = 0; r < predictors; ++r, ++f)
        step[f] =
            static_cast<float>((static_cast<double>(month[r]) - norm.mean[f]) * norm.inv_std[f]);
      for (int g = 0; g < global_count; ++g, ++f)
        step[f] =
            static_cast<float>((globals[slot * global_count + g] - norm.mean[f]) * norm.inv_std[f]);
      for (int k = 0; k < kPositionFeatures; ++k, ++f)
        step[f] = static_cast<float>((statics[p * kPositionFeatures + k] - norm.mean[f]) *
                                     norm.inv_std[f]);
    }
    const double y = series[(p * slots + last) * roles + predictors];
    target[s] = static_cast<float>((y - norm.mean[width]) * norm.inv_std[width]);
  }
};

}  // namespace fluxrecon::kernels
