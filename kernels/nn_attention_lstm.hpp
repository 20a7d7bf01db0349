// Attention LSTM forward pass (the seed's LSTMModelAttentionTemporal, spec
// 3.3) over blocks of kBlockPoints points. For every step t:
//   a_t = tanh(W [h_{t-1}; c_{t-1}] + b_W + U x_t + b_U),  e_t = V a_t + b_V,
//   alpha_t = softmax over the features of e_t,  (h_t, c_t) = LSTMCell(alpha_t x_t, h_{t-1},
//   c_{t-1}), s_t = w_s . h_t + b_s;
// then beta = softmax over the steps of s and y = fc1 . sum_t beta_t h_t + b,
// computed as b + sum_t beta_t (fc1 . h_t). Optionally writes alpha
// [n][steps][features] and beta [n][steps]. One team per block; the block's
// state lives in team scratch (level 1).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "kernels/nn_dense.hpp"
#include "kernels/nn_lstm.hpp"

namespace fluxrecon::kernels::nn {

// Packed parameters. `hidden` is padded with inert units to a multiple of
// kRowBlock (R) and score_rows = features padded to a multiple of R.
// - input attention: weights [hidden/R][features + 2*hidden][R] at attention_weight_at,
//   k running over [U columns, W's h columns, W's c columns]; bias b_W + b_U [hidden];
// - scores V: [score_rows/R][hidden][R] and bias [score_rows] (padded rows unused);
// - LSTM cell: as one LstmLayout layer with in_dim = features;
// - temporal attention w_s [hidden] and b_s; head fc1 [hidden] and its bias.
struct AttentionLstmLayout {
  int steps = 0, features = 0, hidden = 0, score_rows = 0;
  std::int64_t attention_weight_at = 0, attention_bias_at = 0;
  std::int64_t score_weight_at = 0, score_bias_at = 0;
  std::int64_t cell_weight_at = 0, cell_bias_at = 0;
  std::int64_t temporal_weight_at = 0, temporal_bias_at = 0;
  std::int64_t head_weight_at = 0, head_bias_at = 0;

  KOKKOS_INLINE_FUNCTION std::size_t scratch_bytes() const {
    const std::size_t floats = static_cast<std::size_t>(steps * features + 4 * hidden + score_rows +
                                                        features + 2 * steps + 1) *
                               kBlockPoints;
    return ScratchArena::bytes_for(floats, 10);
  }
};

template <class ExecSpace>
struct AttentionLstmForward {
  using MemSpace = typename ExecSpace::memory_space;
  using Member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;

  Kokkos::View<const float*, MemSpace> windows;  // [n][steps][features]
  Kokkos::View<float*, MemSpace> out;            // [n]
  Kokkos::View<float*, MemSpace> alpha;          // [n][steps][features] or empty
  Kokkos::View<float*, MemSpace> beta;           // [n][steps] or empty
  Kokkos::View<const float*, MemSpace> params;   // packed as AttentionLstmLayout says
  AttentionLstmLayout layout;
  std::int64_t n = 0;

  std::int64_t blocks() const { return (n + kBlockPoints - 1) / kBlockPoints; }

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const std::int64_t first = static_cast<std::int64_t>(team.league_rank()) * kBlockPoints;
    const int steps = layout.steps, features = layout.features, hidden = layout.hidden;
    constexpr int P = kBlockPoints;
    ScratchArena arena(team.team_scratch(1).get_shmem(layout.scratch_bytes()));
    float* x = arena.take(steps * features * P);
    float* h[2] = {arena.take(hidden * P), arena.take(hidden * P)};
    float* c = arena.take(hidden * P);
    float* a = arena.take(hidden * P);
    float* e = arena.take(layout.score_rows * P);
    float* x_tilde = arena.take(features * P);
    float* s = arena.take(steps * P);
    float* q = arena.take(steps * P);
    float* y = arena.take(P);
    gather_windows(windows.data(), n, first, steps, features, x);
    for (int i = 0; i < hidden * P; ++i) c[i] = 0.0f;

    const float* w = params.data();
    const bool want_alpha = alpha.extent(0) > 0, want_beta = beta.extent(0) > 0;
    for (int t = 0; t < steps; ++t) {
      const float* h_prev = h[(t + 1) % 2];
      float* h_cur = h[t % 2];
      const float* xt = x + t * features * P;
      // h_{-1} = c_{-1} = 0: the first step skips W's products.
      const DenseInput attention_in[3] = {{xt, features}, {h_prev, hidden}, {c, hidden}};
      const int k_attention = features + 2 * hidden;
      for (int rb = 0; rb < hidden / kRowBlock; ++rb) {
        float acc[kRowBlock][P];
        dense_rows<kRowBlock>(
            w + layout.attention_weight_at + std::int64_t(rb) * k_attention * kRowBlock,
            w + layout.attention_bias_at + rb * kRowBlock, attention_in, t == 0 ? 1 : 3, acc);
        for (int r = 0; r < kRowBlock; ++r)
          for (int p = 0; p < P; ++p) a[(rb * kRowBlock + r) * P + p] = tanh_approx(acc[r][p]);
      }
      const DenseInput score_in{a, hidden};
      for (int rb = 0; rb < layout.score_rows / kRowBlock; ++rb) {
        float acc[kRowBlock][P];
        dense_rows<kRowBlock>(w + layout.score_weight_at + std::int64_t(rb) * hidden * kRowBlock,
                              w + layout.score_bias_at + rb * kRowBlock, &score_in, 1, acc);
        for (int r = 0; r < kRowBlock; ++r)
          for (int p = 0; p < P; ++p) e[(rb * kRowBlock + r) * P + p] = acc[r][p];
      }
      softmax_features(e, xt, first, t, x_tilde, want_alpha);

      const DenseInput cell_in[2] = {{x_tilde, features}, {h_prev, hidden}};
      const int k_cell = features + hidden;
      for (int rb = 0; rb < hidden / kUnitsPerRowBlock; ++rb) {
        float acc[kRowBlock][P];
        dense_rows<kRowBlock>(w + layout.cell_weight_at + std::int64_t(rb) * k_cell * kRowBlock,
                              w + layout.cell_bias_at + rb * kRowBlock, cell_in, t == 0 ? 1 : 2,
                              acc);
        cell_update(acc, rb, c, h_cur);
      }
      dense_one_row(w + layout.temporal_weight_at, w[layout.temporal_bias_at], h_cur, hidden,
                    s + t * P);
      dense_one_row(w + layout.head_weight_at, 0.0f, h_cur, hidden, q + t * P);
    }

    // beta = softmax over steps of s; y = b + sum_t beta_t q_t.
    for (int p = 0; p < P; ++p) {
      float top = s[p];
      for (int t = 1; t < steps; ++t) top = s[t * P + p] > top ? s[t * P + p] : top;
      float sum = 0.0f;
      for (int t = 0; t < steps; ++t) {
        s[t * P + p] = exp_approx(s[t * P + p] - top);
        sum += s[t * P + p];
      }
      const float inv = 1.0f / sum;
      float value = 0.0f;
      for (int t = 0; t < steps; ++t) {
        s[t * P + p] *= inv;
        value = madd(s[t * P + p], q[t * P + p], value);
      }
      y[p] = value + w[layout.head_bias_at];
    }
    for (int p = 0; p < P && first + p < n; ++p) {
      out(first + p) = y[p];
      if (want_beta)
        for (int t = 0; t < steps; ++t) beta((first + p) * steps + t) = s[t * P + p];
    }
  }

  // alpha = softmax of e over the features, x_tilde = alpha * x_t; alpha
  // is written out for the block's valid points when wanted.
  KOKKOS_INLINE_FUNCTION void softmax_features(float* e, const float* xt, std::int64_t first, int t,
                                               float* x_tilde, bool want_alpha) const {
    constexpr int P = kBlockPoints;
    const int features = layout.features;
    float top[P], inv[P];
    for (int p = 0; p < P; ++p) top[p] = e[p];
    for (int f = 1; f < features; ++f)
      for (int p = 0; p < P; ++p) top[p] = e[f * P + p] > top[p] ? e[f * P + p] : top[p];
    for (int p = 0; p < P; ++p) inv[p] = 0.0f;
    for (int f = 0; f < features; ++f)
      for (int p = 0; p < P; ++p) {
        e[f * P + p] = exp_approx(e[f * P + p] - top[p]);
        inv[p] += e[f * P + p];
      }
    for (int p = 0; p < P; ++p) inv[p] = 1.0f / inv[p];
    for (int f = 0; f < features; ++f)
      for (int p = 0; p < P; ++p) {
        e[f * P + p] *= inv[p];
        x_tilde[f * P + p] = e[f * P + p] * xt[f * P + p];
      }
    if (!want_alpha) return;
    for (int p = 0; p < P && first + p < n; ++p)
      for (int f = 0; f < features; ++f)
        alpha(((first + p) * layout.steps + t) * features + f) = e[f * P + p];
  }
};

}  // namespace fluxrecon::kernels::nn
