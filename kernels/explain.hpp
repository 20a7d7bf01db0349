// Kernels of the explanations (src/explain/):
// - CoalitionRows: the model inputs of KernelSHAP's and TimeSHAP's coalitions:
//   for coalition c and background row b, every cell (a value of the
//   [window][features] input) comes from the explained instance when its
//   player is in the coalition and from the background row otherwise (the
//   interventional value function);
// - AttentionProduct: the attention LSTM's combined score gamma = alpha * beta.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

struct CoalitionRows {
  const float* instance;       // [cells]
  const float* background;     // [background_rows][cells]
  const unsigned char* masks;  // [coalitions][players], 1 = player present
  const int* owner;            // [cells]: the player owning each cell
  float* rows;                 // [coalitions][background_rows][cells]
  int cells = 0, players = 0;
  std::int64_t background_rows = 1;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t r) const {
    const std::int64_t c = r / background_rows, b = r % background_rows;
    const unsigned char* mask = masks + c * players;
    const float* bg = background + b * cells;
    float* out = rows + r * cells;
    for (int k = 0; k < cells; ++k) out[k] = mask[owner[k]] ? instance[k] : bg[k];
  }
};

struct AttentionProduct {
  const float* alpha;  // [n][steps][features], sums to 1 over the features
  const float* beta;   // [n][steps], sums to 1 over the steps
  float* gamma;        // [n][steps][features], sums to 1 over the window
  int steps = 0, features = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (int t = 0; t < steps; ++t)
      for (int f = 0; f < features; ++f) {
        const std::int64_t at = (i * steps + t) * features + f;
        gamma[at] = alpha[at] * beta[i * steps + t];
      }
  }
};

}  // namespace fluxrecon::kernels
