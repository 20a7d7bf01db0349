// Stacked LSTM forward pass (seed spec 3.2) over blocks of kBlockPoints
// points: PyTorch's nn.LSTM (gates i, f, g, o; h0 = c0 = 0), then
// Linear(H -> 1) on the top layer's h at the last step. One team per block;
// the block's sequences live in team scratch (level 1).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "kernels/nn_dense.hpp"

namespace fluxrecon::kernels::nn {

constexpr int kMaxLstmLayers = 8;
// A row block holds the 4 gates of kUnitsPerRowBlock units (U below).
constexpr int kUnitsPerRowBlock = kRowBlock / 4;

// Packed parameters. `hidden` is the hidden size padded with inert units
// (zero weights and biases: their h and c stay 0) to a multiple of
// kRowBlock (R below). Layer l reads in_dim[l] inputs (features for layer 0,
// hidden above) and its weights are [hidden/U row blocks][in_dim[l] + hidden][R]:
// k runs over [W_ih columns, W_hh columns], and row r of a block is gate
// r/U (i, f, g, o) of unit U*block + r%U. Its bias [hidden/U][R] is
// b_ih + b_hh in the same row order. The head is fc1's weights [hidden] at
// head_weight_at and its bias at head_bias_at.
struct LstmLayout {
  int steps = 0, features = 0, hidden = 0, n_layers = 0;
  int in_dim[kMaxLstmLayers] = {};
  std::int64_t weight_at[kMaxLstmLayers] = {}, bias_at[kMaxLstmLayers] = {};
  std::int64_t head_weight_at = 0, head_bias_at = 0;

  KOKKOS_INLINE_FUNCTION std::size_t scratch_bytes() const {
    const std::size_t floats =
        static_cast<std::size_t>(steps * features + 2 * steps * hidden + hidden + 1) * kBlockPoints;
    return ScratchArena::bytes_for(floats, 5);
  }
};

// c' = f c + i g, h' = o tanh(c') for the units of row block rb, whose gate
// pre-activations (bias included) are acc (row r = gate r/2 of unit r%2).
KOKKOS_FORCEINLINE_FUNCTION void cell_update(const float (&acc)[kRowBlock][kBlockPoints], int rb,
                                             float* c, float* h) {
  for (int q = 0; q < kUnitsPerRowBlock; ++q) {
    const int u = rb * kUnitsPerRowBlock + q;
    float* cu = c + u * kBlockPoints;
    float* hu = h + u * kBlockPoints;
    for (int p = 0; p < kBlockPoints; ++p) {
      const float i = sigmoid(acc[q][p]);
      const float f = sigmoid(acc[kUnitsPerRowBlock + q][p]);
      const float g = tanh_approx(acc[2 * kUnitsPerRowBlock + q][p]);
      const float o = sigmoid(acc[3 * kUnitsPerRowBlock + q][p]);
      const float cell = madd(f, cu[p], i * g);
      cu[p] = cell;
      hu[p] = o * tanh_approx(cell);
    }
  }
}

template <class ExecSpace>
struct LstmForward {
  using MemSpace = typename ExecSpace::memory_space;
  using Member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;

  Kokkos::View<const float*, MemSpace> windows;  // [n][steps][features]
  Kokkos::View<float*, MemSpace> out;            // [n]
  Kokkos::View<const float*, MemSpace> params;   // packed as LstmLayout says
  LstmLayout layout;
  std::int64_t n = 0;

  std::int64_t blocks() const { return (n + kBlockPoints - 1) / kBlockPoints; }

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const std::int64_t first = static_cast<std::int64_t>(team.league_rank()) * kBlockPoints;
    const int steps = layout.steps, hidden = layout.hidden;
    ScratchArena arena(team.team_scratch(1).get_shmem(layout.scratch_bytes()));
    float* x = arena.take(steps * layout.features * kBlockPoints);
    float* sequences[2] = {arena.take(steps * hidden * kBlockPoints),
                           arena.take(steps * hidden * kBlockPoints)};
    float* c = arena.take(hidden * kBlockPoints);
    float* y = arena.take(kBlockPoints);
    gather_windows(windows.data(), n, first, steps, layout.features, x);

    const float* w = params.data();
    const float* in_seq = x;
    for (int l = 0; l < layout.n_layers; ++l) {
      const int in_dim = layout.in_dim[l], k_total = in_dim + hidden;
      float* out_seq = sequences[l % 2];
      for (int i = 0; i < hidden * kBlockPoints; ++i) c[i] = 0.0f;
      for (int t = 0; t < steps; ++t) {
        // h_{-1} = 0: the first step skips the recurrent product.
        const DenseInput inputs[2] = {
            {in_seq + t * in_dim * kBlockPoints, in_dim},
            {out_seq + (t > 0 ? t - 1 : 0) * hidden * kBlockPoints, hidden}};
        float* h = out_seq + t * hidden * kBlockPoints;
        for (int rb = 0; rb < hidden / kUnitsPerRowBlock; ++rb) {
          float acc[kRowBlock][kBlockPoints];
          dense_rows<kRowBlock>(w + layout.weight_at[l] + std::int64_t(rb) * k_total * kRowBlock,
                                w + layout.bias_at[l] + rb * kRowBlock, inputs, t == 0 ? 1 : 2,
                                acc);
          cell_update(acc, rb, c, h);
        }
      }
      in_seq = out_seq;
    }
    dense_one_row(w + layout.head_weight_at, w[layout.head_bias_at],
                  in_seq + (steps - 1) * hidden * kBlockPoints, hidden, y);
    for (int p = 0; p < kBlockPoints && first + p < n; ++p) out(first + p) = y[p];
  }
};

}  // namespace fluxrecon::kernels::nn
