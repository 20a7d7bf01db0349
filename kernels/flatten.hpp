// The seed's flat view of a window for the MLP and XGBoost (spec 2.4): the
// dynamic features of every step, oldest first, then the position features
// of the oldest step: v[t*D + f] = X[t][f], v[window*D + k] = X[0][D + k]
// (D = 10 and 4 position features for the seed's 14).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

constexpr int kDynamic = 10, kStatic = 4;
KOKKOS_INLINE_FUNCTION constexpr int flat_width(int window, int dynamic = kDynamic,
                                                int statics = kStatic) {
  return window * dynamic + statics;
}

struct FlattenWindows {
  const float* windows;  // [sample][window][dynamic + statics]
  int window;
  float* flat;  // [sample][window*dynamic + statics]
  int dynamic = kDynamic, statics = kStatic;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t s) const {
    const int features = dynamic + statics;
    const float* in = windows + s * window * features;
    float* out = flat + s * flat_width(window, dynamic, statics);
    for (int t = 0; t < window; ++t)
      for (int f = 0; f < dynamic; ++f) out[t * dynamic + f] = in[t * features + f];
    for (int k = 0; k < statics; ++k) out[window * dynamic + k] = in[dynamic + k];
  }
};

}  // namespace fluxrecon::kernels
