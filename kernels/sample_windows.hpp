// Assembles z-scored sample windows from per-location monthly series.
// Pure computation: no I/O, no MPI. Runs in a Kokkos host execution space
// (the series live in host memory next to the reader).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

constexpr int kRoles = 11;  // 10 predictors + target, as read
constexpr int kWindowFeatures = 14;

struct Normalisation {
  double mean[kWindowFeatures + 1];  // 14 features, then the target
  double inv_std[kWindowFeatures + 1];
};

// One sample per (point, target slot). series: [point][slot][kRoles] raw
// values; statics: [point][4] = sin/cos of lat/lon; sample_point/sample_slot:
// which window each output sample is. Output features: [sample][window][14],
// target: [sample].
struct AssembleWindows {
  const float* series;
  const double* statics;
  const std::int64_t* sample_point;
  const std::int32_t* sample_slot;
  std::int64_t slots;
  int window;
  Normalisation norm;
  float* features;
  float* target;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t s) const {
    const std::int64_t p = sample_point[s];
    const std::int32_t last = sample_slot[s];
    float* out = features + s * window * kWindowFeatures;
    for (int t = 0; t < window; ++t) {
      const float* month = series + (p * slots + (last - window + 1 + t)) * kRoles;
      for (int f = 0; f < 10; ++f)
        out[t * kWindowFeatures + f] =
            static_cast<float>((static_cast<double>(month[f]) - norm.mean[f]) * norm.inv_std[f]);
      for (int f = 10; f < kWindowFeatures; ++f)
        out[t * kWindowFeatures + f] =
            static_cast<float>((statics[p * 4 + (f - 10)] - norm.mean[f]) * norm.inv_std[f]);
    }
    const double y = series[(p * slots + last) * kRoles + 10];
    target[s] =
        static_cast<float>((y - norm.mean[kWindowFeatures]) * norm.inv_std[kWindowFeatures]);
  }
};

}  // namespace fluxrecon::kernels
