// The seed's flat view of a window for the MLP and XGBoost (spec 2.4): the 10
// dynamic features of every step, oldest first, then the 4 position features
// of the oldest step: v[t*10 + f] = X[t][f], v[40 + k] = X[0][10 + k].
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

constexpr int kDynamic = 10, kStatic = 4;
KOKKOS_INLINE_FUNCTION constexpr int flat_width(int window) { return window * kDynamic + kStatic; }

struct FlattenWindows {
  const float* windows;  // [sample][window][14]
  int window;
  float* flat;  // [sample][window*10 + 4]

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t s) const {
    const float* in = windows + s * window * (kDynamic + kStatic);
    float* out = flat + s * flat_width(window);
    for (int t = 0; t < window; ++t)
      for (int f = 0; f < kDynamic; ++f) out[t * kDynamic + f] = in[t * (kDynamic + kStatic) + f];
    for (int k = 0; k < kStatic; ++k) out[window * kDynamic + k] = in[kDynamic + k];
  }
};

}  // namespace fluxrecon::kernels
