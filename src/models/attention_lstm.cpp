// The seed's temporal attention LSTM (spec 3.3, LSTMModelAttentionTemporal):
// input attention per step from [h; c] and x_t, an LSTM cell, temporal
// attention over the hidden states, dropout, Linear(H, 1).
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "models/dnnl_util.hpp"
#include "models/linear.hpp"
#include "models/lstm_layer.hpp"
#include "models/network.hpp"

namespace fluxrecon::models {
namespace {

// Softmax over `width` values in place (max subtracted for range).
void softmax(float* v, int width) {
  float top = v[0];
  for (int i = 1; i < width; ++i) top = std::max(top, v[i]);
  float sum = 0.0f;
  for (int i = 0; i < width; ++i) sum += (v[i] = std::exp(v[i] - top));
  for (int i = 0; i < width; ++i) v[i] /= sum;
}

class AttentionLstm final : public Network, public AttentionLstmWeights {
 public:
  explicit AttentionLstm(const NetworkSpec& spec)
      : Network(spec),
        // Registration order = the seed's module order (attention, cell,
        // temporal attention, fc1), so a seed gives PyTorch-like draws.
        W_(params_, "attention.W", 2 * spec.hidden_dim, spec.hidden_dim),
        U_(params_, "attention.U", spec.n_features, spec.hidden_dim),
        V_(params_, "attention.V", spec.hidden_dim, spec.n_features),
        cell_(params_, "lstm_cell.", "", spec.n_features, spec.hidden_dim),
        temporal_(params_, "temporal_attention", spec.hidden_dim, 1),
        fc1_(params_, "fc1", spec.hidden_dim, 1) {}

  // The seed saves an unused nn.LSTM member (D28).
  std::vector<std::string> ignored_keys() const override { return {"lstm_layer."}; }

  void forward(const float* x, int n, bool training, float* y) override {
    run(x, n, training, y, nullptr, nullptr);
  }

  void forward_with_weights(const float* x, int n, float* y, float* alpha, float* beta) override {
    run(x, n, false, y, alpha, beta);
  }

  void backward(const float* dy) override;

 private:
  void run(const float* x, int n, bool training, float* y, float* alpha_out, float* beta_out);

  Linear W_, U_, V_;
  LstmLayer cell_;
  Linear temporal_, fc1_;
  // Per step t (training record): [h_{t-1}; c_{t-1}], tanh(W hc + U x),
  // alpha, weighted input, the cell's tape, h_t, c_t.
  struct Step {
    std::vector<float> hc, u, alpha, xw, h, c;
    LstmLayer::Tape tape;
  };
  std::vector<Step> steps_;
  std::vector<float> hs_, beta_, context_, mask_;
  const float* x_ = nullptr;
  int n_ = 0;
};

void AttentionLstm::run(const float* x, int n, bool training, float* y, float* alpha_out,
                        float* beta_out) {
  const int T = spec_.window, F = spec_.n_features, H = spec_.hidden_dim;
  const std::size_t nH = std::size_t(n) * H;
  x_ = x;
  n_ = n;
  steps_.resize(T);
  hs_.resize(nH * T);
  std::vector<float> xt(std::size_t(n) * F), wu(nH);
  for (int t = 0; t < T; ++t) {
    Step& s = steps_[t];
    s.hc.clear();  // [h; c] = 0 at t = 0: W sees only its bias
    if (t > 0) {
      s.hc.resize(2 * nH);
      const Step& prev = steps_[t - 1];
      for (int i = 0; i < n; ++i) {
        std::copy_n(prev.h.data() + std::size_t(i) * H, H, s.hc.data() + std::size_t(i) * 2 * H);
        std::copy_n(prev.c.data() + std::size_t(i) * H, H,
                    s.hc.data() + std::size_t(i) * 2 * H + H);
      }
    }
    for (int i = 0; i < n; ++i)
      std::copy_n(x + (std::size_t(i) * T + t) * F, F, xt.data() + std::size_t(i) * F);
    // Scores e = V tanh(W [h; c] + U x): W's product with the zero state at
    // t = 0 is just its bias.
    s.u.resize(nH);
    if (t == 0) {
      const float* b = W_.bias(params_);
      for (int i = 0; i < n; ++i) std::copy_n(b, H, s.u.data() + std::size_t(i) * H);
    } else {
      W_.forward(s.hc.data(), n, s.u.data());
    }
    U_.forward(xt.data(), n, wu.data());
    for (std::size_t i = 0; i < nH; ++i) s.u[i] += wu[i];
    dnnl_util::tanh_in_place(s.u.data(), nH);
    s.alpha.resize(std::size_t(n) * F);
    V_.forward(s.u.data(), n, s.alpha.data());
    s.xw.resize(std::size_t(n) * F);
    for (int i = 0; i < n; ++i) {
      float* a = s.alpha.data() + std::size_t(i) * F;
      softmax(a, F);
      for (int f = 0; f < F; ++f) s.xw[std::size_t(i) * F + f] = a[f] * xt[std::size_t(i) * F + f];
      if (alpha_out) std::copy_n(a, F, alpha_out + (std::size_t(i) * T + t) * F);
    }
    s.h.resize(nH);
    s.c.resize(nH);
    const float* h0 = t > 0 ? steps_[t - 1].h.data() : nullptr;
    const float* c0 = t > 0 ? steps_[t - 1].c.data() : nullptr;
    cell_.forward(1, n, s.xw.data(), h0, c0, s.h.data(), nullptr, s.c.data(),
                  training ? &s.tape : nullptr);
    for (int i = 0; i < n; ++i)
      std::copy_n(s.h.data() + std::size_t(i) * H, H, hs_.data() + (std::size_t(i) * T + t) * H);
  }
  // Temporal attention: one score per state, softmax over the steps.
  beta_.resize(std::size_t(n) * T);
  temporal_.forward(hs_.data(), n * T, beta_.data());
  context_.assign(nH, 0.0f);
  for (int i = 0; i < n; ++i) {
    float* b = beta_.data() + std::size_t(i) * T;
    softmax(b, T);
    if (beta_out) std::copy_n(b, T, beta_out + std::size_t(i) * T);
    float* ctx = context_.data() + std::size_t(i) * H;
    for (int t = 0; t < T; ++t) {
      const float* h = hs_.data() + (std::size_t(i) * T + t) * H;
      for (int k = 0; k < H; ++k) ctx[k] += b[t] * h[k];
    }
  }
  if (training) {
    draw_dropout(mask_, nH);
    for (std::size_t i = 0; i < mask_.size(); ++i) context_[i] *= mask_[i];
  } else {
    mask_.clear();
  }
  fc1_.forward(context_.data(), n, y);
}

void AttentionLstm::backward(const float* dy) {
  const int n = n_, T = spec_.window, F = spec_.n_features, H = spec_.hidden_dim;
  const std::size_t nH = std::size_t(n) * H;
  std::vector<float> dctx(nH);
  fc1_.backward(context_.data(), dy, n, dctx.data());
  for (std::size_t i = 0; i < mask_.size(); ++i) dctx[i] *= mask_[i];
  // context = sum_t beta_t h_t; beta = softmax(s).
  std::vector<float> dhs(nH * T), ds(std::size_t(n) * T);
  for (int i = 0; i < n; ++i) {
    const float* b = beta_.data() + std::size_t(i) * T;
    const float* g = dctx.data() + std::size_t(i) * H;
    float dbeta[64];
    float weighted = 0.0f;
    for (int t = 0; t < T; ++t) {
      const float* h = hs_.data() + (std::size_t(i) * T + t) * H;
      float* dh = dhs.data() + (std::size_t(i) * T + t) * H;
      float dot = 0.0f;
      for (int k = 0; k < H; ++k) {
        dh[k] = b[t] * g[k];
        dot += g[k] * h[k];
      }
      dbeta[t] = dot;
      weighted += b[t] * dot;
    }
    for (int t = 0; t < T; ++t) ds[std::size_t(i) * T + t] = b[t] * (dbeta[t] - weighted);
  }
  std::vector<float> dhs_scores(nH * T);
  temporal_.backward(hs_.data(), ds.data(), n * T, dhs_scores.data());
  for (std::size_t i = 0; i < dhs.size(); ++i) dhs[i] += dhs_scores[i];

  cell_.begin_backward();
  std::vector<float> dh(nH), dc(nH, 0.0f), dh_prev(nH), dc_prev(nH), dxw(std::size_t(n) * F),
      de(std::size_t(n) * F), du(nH), dhc(2 * nH), xt(std::size_t(n) * F);
  for (int t = T - 1; t >= 0; --t) {
    const Step& s = steps_[t];
    for (int i = 0; i < n; ++i) {
      float* d = dh.data() + std::size_t(i) * H;
      const float* from_top = dhs.data() + (std::size_t(i) * T + t) * H;
      for (int k = 0; k < H; ++k)
        d[k] = from_top[k] + (t < T - 1 ? dh_prev[std::size_t(i) * H + k] : 0.0f);
    }
    if (t == T - 1) std::fill(dc.begin(), dc.end(), 0.0f);
    cell_.backward(s.tape, dh.data(), nullptr, dc.data(), dxw.data(), dh_prev.data(),
                   dc_prev.data());
    // Through x~ = alpha * x and alpha = softmax(e).
    for (int i = 0; i < n; ++i) {
      const float* a = s.alpha.data() + std::size_t(i) * F;
      const float* xi = x_ + (std::size_t(i) * T + t) * F;
      std::copy_n(xi, F, xt.data() + std::size_t(i) * F);
      float weighted = 0.0f;
      for (int f = 0; f < F; ++f) weighted += a[f] * dxw[std::size_t(i) * F + f] * xi[f];
      for (int f = 0; f < F; ++f)
        de[std::size_t(i) * F + f] = a[f] * (dxw[std::size_t(i) * F + f] * xi[f] - weighted);
    }
    V_.backward(s.u.data(), de.data(), n, du.data());
    for (std::size_t i = 0; i < nH; ++i) du[i] *= 1.0f - s.u[i] * s.u[i];
    U_.backward(xt.data(), du.data(), n, nullptr);
    if (t > 0)
      W_.backward(s.hc.data(), du.data(), n, dhc.data());
    else
      W_.backward_bias(du.data(), n);
    if (t > 0) {
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < H; ++k) {
          dh_prev[std::size_t(i) * H + k] += dhc[std::size_t(i) * 2 * H + k];
          dc_prev[std::size_t(i) * H + k] += dhc[std::size_t(i) * 2 * H + H + k];
        }
      dc.swap(dc_prev);
    }
  }
  cell_.end_backward();
}

}  // namespace

std::unique_ptr<Network> make_attention_lstm(const NetworkSpec& spec) {
  FR_REQUIRE(spec.window <= 64, "attention_lstm: window ", spec.window, " is above 64");
  return std::make_unique<AttentionLstm>(spec);
}

}  // namespace fluxrecon::models
