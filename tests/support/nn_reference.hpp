// Float64 reference implementations of the neural models (the seed's, spec
// 3.1-3.3, and the GRU of issue 20), written from the equations (PyTorch's
// for nn.LSTM and nn.GRU), independent of the oneDNN and Kokkos code.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "models/network_spec.hpp"

namespace nn_reference {

using Weights = std::map<std::string, std::vector<double>>;

inline Weights from_state_dict(const fluxrecon::models::StateDict& dict) {
  Weights w;
  for (const auto& [k, t] : dict) w[k].assign(t.values.begin(), t.values.end());
  return w;
}

// y = W x + b, W (out, in) row-major.
inline std::vector<double> linear(const Weights& w, const std::string& name,
                                  const std::vector<double>& x) {
  const auto& W = w.at(name + ".weight");
  const auto& b = w.at(name + ".bias");
  const std::size_t out = b.size(), in = x.size();
  std::vector<double> y(out);
  for (std::size_t o = 0; o < out; ++o) {
    double s = b[o];
    for (std::size_t i = 0; i < in; ++i) s += W[o * in + i] * x[i];
    y[o] = s;
  }
  return y;
}

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// PyTorch's LSTM cell, gates i, f, g, o.
inline void lstm_cell(const Weights& w, const std::string& prefix, const std::string& suffix,
                      const std::vector<double>& x, std::vector<double>& h,
                      std::vector<double>& c) {
  const auto& Wih = w.at(prefix + "weight_ih" + suffix);
  const auto& Whh = w.at(prefix + "weight_hh" + suffix);
  const auto& bih = w.at(prefix + "bias_ih" + suffix);
  const auto& bhh = w.at(prefix + "bias_hh" + suffix);
  const std::size_t H = h.size(), D = x.size();
  std::vector<double> z(4 * H);
  for (std::size_t r = 0; r < 4 * H; ++r) {
    double s = bih[r] + bhh[r];
    for (std::size_t d = 0; d < D; ++d) s += Wih[r * D + d] * x[d];
    for (std::size_t k = 0; k < H; ++k) s += Whh[r * H + k] * h[k];
    z[r] = s;
  }
  for (std::size_t k = 0; k < H; ++k) {
    const double i = sigmoid(z[k]), f = sigmoid(z[H + k]), g = std::tanh(z[2 * H + k]),
                 o = sigmoid(z[3 * H + k]);
    c[k] = f * c[k] + i * g;
    h[k] = o * std::tanh(c[k]);
  }
}

// PyTorch's GRU cell, gates r, z, n: the recurrent part of n, bias b_hn
// included, is scaled by r (nn.GRU's equations).
inline void gru_cell(const Weights& w, const std::string& prefix, const std::string& suffix,
                     const std::vector<double>& x, std::vector<double>& h) {
  const auto& Wih = w.at(prefix + "weight_ih" + suffix);
  const auto& Whh = w.at(prefix + "weight_hh" + suffix);
  const auto& bih = w.at(prefix + "bias_ih" + suffix);
  const auto& bhh = w.at(prefix + "bias_hh" + suffix);
  const std::size_t H = h.size(), D = x.size();
  std::vector<double> gi(3 * H), gh(3 * H);  // W_i* x + b_i*, W_h* h + b_h*
  for (std::size_t r = 0; r < 3 * H; ++r) {
    double a = bih[r], b = bhh[r];
    for (std::size_t d = 0; d < D; ++d) a += Wih[r * D + d] * x[d];
    for (std::size_t k = 0; k < H; ++k) b += Whh[r * H + k] * h[k];
    gi[r] = a;
    gh[r] = b;
  }
  for (std::size_t k = 0; k < H; ++k) {
    const double r = sigmoid(gi[k] + gh[k]), z = sigmoid(gi[H + k] + gh[H + k]);
    const double n = std::tanh(gi[2 * H + k] + r * gh[2 * H + k]);
    h[k] = (1.0 - z) * n + z * h[k];
  }
}

// x: one window (T*F values, oldest step first).
inline double mlp(const Weights& w, const fluxrecon::models::NetworkSpec& s,
                  const std::vector<double>& x) {
  const int T = s.window, F = s.n_features, D = s.n_dynamic;
  std::vector<double> v;
  for (int t = 0; t < T; ++t)
    for (int f = 0; f < D; ++f) v.push_back(x[t * F + f]);
  for (int f = D; f < F; ++f) v.push_back(x[f]);
  for (std::size_t k = 0; k < s.hidden_dims.size(); ++k) {
    v = linear(w, "layers." + std::to_string(k), v);
    for (auto& a : v) a = std::max(a, 0.0);
  }
  return linear(w, "output_layer", v)[0];
}

inline double lstm(const Weights& w, const fluxrecon::models::NetworkSpec& s,
                   const std::vector<double>& x) {
  const int T = s.window, F = s.n_features, H = s.hidden_dim;
  std::vector<std::vector<double>> seq(T);
  for (int t = 0; t < T; ++t) seq[t].assign(x.begin() + t * F, x.begin() + (t + 1) * F);
  for (int l = 0; l < s.num_layers; ++l) {
    std::vector<double> h(H, 0.0), c(H, 0.0);
    for (int t = 0; t < T; ++t) {
      lstm_cell(w, "lstm.", "_l" + std::to_string(l), seq[t], h, c);
      seq[t] = h;
    }
  }
  return linear(w, "fc1", seq[T - 1])[0];
}

inline double gru(const Weights& w, const fluxrecon::models::NetworkSpec& s,
                  const std::vector<double>& x) {
  const int T = s.window, F = s.n_features, H = s.hidden_dim;
  std::vector<std::vector<double>> seq(T);
  for (int t = 0; t < T; ++t) seq[t].assign(x.begin() + t * F, x.begin() + (t + 1) * F);
  for (int l = 0; l < s.num_layers; ++l) {
    std::vector<double> h(H, 0.0);
    for (int t = 0; t < T; ++t) {
      gru_cell(w, "gru.", "_l" + std::to_string(l), seq[t], h);
      seq[t] = h;
    }
  }
  return linear(w, "fc1", seq[T - 1])[0];
}

inline void softmax(std::vector<double>& v) {
  double top = v[0];
  for (double a : v) top = std::max(top, a);
  double sum = 0.0;
  for (auto& a : v) sum += (a = std::exp(a - top));
  for (auto& a : v) a /= sum;
}

// alpha (T*F) and beta (T) receive the attention weights when not null.
inline double attention_lstm(const Weights& w, const fluxrecon::models::NetworkSpec& s,
                             const std::vector<double>& x, std::vector<double>* alpha = nullptr,
                             std::vector<double>* beta = nullptr) {
  const int T = s.window, F = s.n_features, H = s.hidden_dim;
  std::vector<double> h(H, 0.0), c(H, 0.0);
  std::vector<std::vector<double>> hs;
  for (int t = 0; t < T; ++t) {
    std::vector<double> hc(h);
    hc.insert(hc.end(), c.begin(), c.end());
    std::vector<double> xt(x.begin() + t * F, x.begin() + (t + 1) * F);
    auto a = linear(w, "attention.W", hc);
    const auto u = linear(w, "attention.U", xt);
    for (int k = 0; k < H; ++k) a[k] = std::tanh(a[k] + u[k]);
    auto e = linear(w, "attention.V", a);
    softmax(e);
    if (alpha) alpha->insert(alpha->end(), e.begin(), e.end());
    for (int f = 0; f < F; ++f) xt[f] *= e[f];
    lstm_cell(w, "lstm_cell.", "", xt, h, c);
    hs.push_back(h);
  }
  std::vector<double> score(T);
  for (int t = 0; t < T; ++t) score[t] = linear(w, "temporal_attention", hs[t])[0];
  softmax(score);
  if (beta) *beta = score;
  std::vector<double> context(H, 0.0);
  for (int t = 0; t < T; ++t)
    for (int k = 0; k < H; ++k) context[k] += score[t] * hs[t][k];
  return linear(w, "fc1", context)[0];
}

inline double predict(const Weights& w, const fluxrecon::models::NetworkSpec& s,
                      const std::vector<double>& x) {
  using K = fluxrecon::models::NetworkKind;
  switch (s.kind) {
    case K::mlp:
      return mlp(w, s, x);
    case K::lstm:
      return lstm(w, s, x);
    case K::attention_lstm:
      return attention_lstm(w, s, x);
    case K::gru:
      return gru(w, s, x);
  }
  return 0.0;
}

}  // namespace nn_reference
