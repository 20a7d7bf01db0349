// MLP forward pass (seed spec 3.1) over blocks of kBlockPoints points:
// input = the flat window (every step's dynamic features, then the static
// features of the oldest step, as kernels/flatten.hpp), hidden layers
// Linear + ReLU, then Linear(H_last -> 1). One team per block; the block's
// activations live in team scratch (level 1).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "kernels/nn_dense.hpp"

namespace fluxrecon::kernels::nn {

constexpr int kMaxMlpLayers = 8;

// Where the packed parameters of each layer are. Hidden layer l has
// rows[l] outputs (padded with zero rows to a multiple of kRowBlock), inputs
// K_l = (l == 0 ? in_dim : rows[l-1]), weights [rows/kRowBlock][K_l][kRowBlock]
// at weight_at[l] and bias [rows] at bias_at[l]. The output layer has its
// weights [rows[n_hidden-1]] at weight_at[n_hidden] and its bias at
// bias_at[n_hidden].
struct MlpLayout {
  int steps = 0, features = 0, dynamic = 0;
  int in_dim = 0;  // steps * dynamic + (features - dynamic)
  int n_hidden = 0;
  int rows[kMaxMlpLayers] = {};
  std::int64_t weight_at[kMaxMlpLayers + 1] = {}, bias_at[kMaxMlpLayers + 1] = {};

  KOKKOS_INLINE_FUNCTION int max_rows() const {
    int m = 0;
    for (int l = 0; l < n_hidden; ++l) m = rows[l] > m ? rows[l] : m;
    return m;
  }
  KOKKOS_INLINE_FUNCTION std::size_t scratch_bytes() const {
    return ScratchArena::bytes_for(
        static_cast<std::size_t>(in_dim + 2 * max_rows() + 1) * kBlockPoints, 4);
  }
};

template <class ExecSpace>
struct MlpForward {
  using MemSpace = typename ExecSpace::memory_space;
  using Member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;

  Kokkos::View<const float*, MemSpace> windows;  // [n][steps][features]
  Kokkos::View<float*, MemSpace> out;            // [n]
  Kokkos::View<const float*, MemSpace> params;   // packed as MlpLayout says
  MlpLayout layout;
  std::int64_t n = 0;

  std::int64_t blocks() const { return (n + kBlockPoints - 1) / kBlockPoints; }

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const std::int64_t first = static_cast<std::int64_t>(team.league_rank()) * kBlockPoints;
    ScratchArena arena(team.team_scratch(1).get_shmem(layout.scratch_bytes()));
    const int rows_max = layout.max_rows();
    float* input = arena.take(layout.in_dim * kBlockPoints);
    float* buffers[2] = {arena.take(rows_max * kBlockPoints), arena.take(rows_max * kBlockPoints)};
    float* y = arena.take(kBlockPoints);

    gather_flat(first, input);
    const float* w = params.data();
    const float* current = input;
    int k_len = layout.in_dim;
    for (int l = 0; l < layout.n_hidden; ++l) {
      float* next = buffers[l % 2];
      const DenseInput in{current, k_len};
      for (int rb = 0; rb < layout.rows[l] / kRowBlock; ++rb) {
        float acc[kRowBlock][kBlockPoints];
        dense_rows<kRowBlock>(w + layout.weight_at[l] + std::int64_t(rb) * k_len * kRowBlock,
                              w + layout.bias_at[l] + rb * kRowBlock, &in, 1, acc);
        float* o = next + rb * kRowBlock * kBlockPoints;
        for (int r = 0; r < kRowBlock; ++r)
          for (int p = 0; p < kBlockPoints; ++p)
            o[r * kBlockPoints + p] = acc[r][p] > 0.0f ? acc[r][p] : 0.0f;
      }
      current = next;
      k_len = layout.rows[l];
    }
    const int last = layout.n_hidden;
    dense_one_row(w + layout.weight_at[last], w[layout.bias_at[last]], current, k_len, y);
    for (int p = 0; p < kBlockPoints && first + p < n; ++p) out(first + p) = y[p];
  }

  // input[k][p] = flat window k of point first + p (zero beyond n).
  KOKKOS_INLINE_FUNCTION void gather_flat(std::int64_t first, float* input) const {
    const int steps = layout.steps, features = layout.features, dynamic = layout.dynamic;
    for (int p = 0; p < kBlockPoints; ++p) {
      const std::int64_t s = first + p;
      if (s >= n) {
        for (int k = 0; k < layout.in_dim; ++k) input[k * kBlockPoints + p] = 0.0f;
        continue;
      }
      const float* x = windows.data() + s * steps * features;
      for (int t = 0; t < steps; ++t)
        for (int f = 0; f < dynamic; ++f)
          input[(t * dynamic + f) * kBlockPoints + p] = x[t * features + f];
      for (int f = dynamic; f < features; ++f)
        input[(steps * dynamic + f - dynamic) * kBlockPoints + p] = x[f];
    }
  }
};

}  // namespace fluxrecon::kernels::nn
