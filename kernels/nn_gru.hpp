// Stacked GRU forward pass (issue 20) over blocks of kBlockPoints points:
// PyTorch's nn.GRU (gates r, z, n; h0 = 0), then Linear(H -> 1) on the top
// layer's h at the last step. One team per block; the block's sequences live
// in team scratch (level 1).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "kernels/nn_dense.hpp"
#include "kernels/nn_lstm.hpp"

namespace fluxrecon::kernels::nn {

constexpr int kMaxGruLayers = kMaxLstmLayers;
// A row block holds 4 rows of kGruUnitsPerRowBlock units (U below): r, z and
// the new gate's input and recurrent parts apart, since r scales only the
// latter. Four rows per unit, as the LSTM's four gates: the same blocking.
constexpr int kGruUnitsPerRowBlock = kRowBlock / 4;

// Packed parameters. `hidden` is the hidden size padded with inert units
// (zero weights and biases: their h stays 0) to a multiple of kRowBlock (R
// below). Layer l reads in_dim[l] inputs (features for layer 0, hidden
// above) and its weights are [hidden/U row blocks][in_dim[l] + hidden][R]: k
// runs over [W_ih columns, W_hh columns], and row r of a block is part r/U
// (r, z, n input, n recurrent) of unit U*block + r%U. The n input part has
// zeros in the W_hh columns and the n recurrent part zeros in the W_ih
// columns. Its bias [hidden/U][R] in the same row order is b_ir + b_hr,
// b_iz + b_hz, b_in, b_hn. The head is fc1's weights [hidden] at
// head_weight_at and its bias at head_bias_at.
struct GruLayout {
  int steps = 0, features = 0, hidden = 0, n_layers = 0;
  int in_dim[kMaxGruLayers] = {};
  std::int64_t weight_at[kMaxGruLayers] = {}, bias_at[kMaxGruLayers] = {};
  std::int64_t head_weight_at = 0, head_bias_at = 0;

  KOKKOS_INLINE_FUNCTION std::size_t scratch_bytes() const {
    const std::size_t floats =
        static_cast<std::size_t>(steps * features + 2 * steps * hidden + 1) * kBlockPoints;
    return ScratchArena::bytes_for(floats, 4);
  }
};

// h' = (1 - z) n + z h, n = tanh(n_x + r n_h), for the units of row block
// rb, whose pre-activations (biases included) are acc. `prev` is the
// previous h, null for h = 0 at the first step.
KOKKOS_FORCEINLINE_FUNCTION void gru_update(const float (&acc)[kRowBlock][kBlockPoints], int rb,
                                            const float* prev, float* h) {
  constexpr int U = kGruUnitsPerRowBlock;
  for (int q = 0; q < U; ++q) {
    const int u = rb * U + q;
    float* hu = h + u * kBlockPoints;
    const float* pu = prev ? prev + u * kBlockPoints : nullptr;
    for (int p = 0; p < kBlockPoints; ++p) {
      const float r = sigmoid(acc[q][p]);
      const float z = sigmoid(acc[U + q][p]);
      const float n = tanh_approx(madd(r, acc[3 * U + q][p], acc[2 * U + q][p]));
      const float before = pu ? pu[p] : 0.0f;
      hu[p] = madd(z, before - n, n);
    }
  }
}

template <class ExecSpace>
struct GruForward {
  using MemSpace = typename ExecSpace::memory_space;
  using Member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;

  Kokkos::View<const float*, MemSpace> windows;  // [n][steps][features]
  Kokkos::View<float*, MemSpace> out;            // [n]
  Kokkos::View<const float*, MemSpace> params;   // packed as GruLayout says
  GruLayout layout;
  std::int64_t n = 0;

  std::int64_t blocks() const { return (n + kBlockPoints - 1) / kBlockPoints; }

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const std::int64_t first = static_cast<std::int64_t>(team.league_rank()) * kBlockPoints;
    const int steps = layout.steps, hidden = layout.hidden;
    ScratchArena arena(team.team_scratch(1).get_shmem(layout.scratch_bytes()));
    float* x = arena.take(steps * layout.features * kBlockPoints);
    float* sequences[2] = {arena.take(steps * hidden * kBlockPoints),
                           arena.take(steps * hidden * kBlockPoints)};
    float* y = arena.take(kBlockPoints);
    gather_windows(windows.data(), n, first, steps, layout.features, x);

    const float* w = params.data();
    const float* in_seq = x;
    for (int l = 0; l < layout.n_layers; ++l) {
      const int in_dim = layout.in_dim[l], k_total = in_dim + hidden;
      float* out_seq = sequences[l % 2];
      for (int t = 0; t < steps; ++t) {
        const float* prev = t > 0 ? out_seq + (t - 1) * hidden * kBlockPoints : nullptr;
        // h_{-1} = 0: the first step skips the recurrent product (n_h = b_hn).
        const DenseInput inputs[2] = {{in_seq + t * in_dim * kBlockPoints, in_dim},
                                      {prev ? prev : out_seq, hidden}};
        float* h = out_seq + t * hidden * kBlockPoints;
        for (int rb = 0; rb < hidden / kGruUnitsPerRowBlock; ++rb) {
          float acc[kRowBlock][kBlockPoints];
          dense_rows<kRowBlock>(w + layout.weight_at[l] + std::int64_t(rb) * k_total * kRowBlock,
                                w + layout.bias_at[l] + rb * kRowBlock, inputs, prev ? 2 : 1, acc);
          gru_update(acc, rb, prev, h);
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
