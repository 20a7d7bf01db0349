// Random weights of the neural models in PyTorch's initialisation range
// (U(-1/sqrt(fan_in), 1/sqrt(fan_in))), for the kernel and explanation tests.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "models/network_spec.hpp"

namespace test_util {

using fluxrecon::models::NetworkKind;
using fluxrecon::models::NetworkSpec;
using fluxrecon::models::StateDict;
using fluxrecon::models::Tensor;

// U(-bound, bound) weights of the given shape, as PyTorch initialises them.
inline void put(StateDict& dict, const std::string& key, std::vector<std::size_t> shape,
                double bound, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(static_cast<float>(-bound), static_cast<float>(bound));
  Tensor t;
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  t.shape = std::move(shape);
  t.values.resize(count);
  for (float& v : t.values) v = dist(rng);
  dict[key] = std::move(t);
}

inline StateDict random_weights(const NetworkSpec& spec, unsigned seed) {
  std::mt19937 rng(seed);
  StateDict d;
  const std::size_t f = spec.n_features, h = spec.hidden_dim;
  const double bh = 1.0 / std::sqrt(static_cast<double>(h));
  if (spec.kind == NetworkKind::mlp) {
    std::size_t in = spec.window * spec.n_dynamic + spec.n_features - spec.n_dynamic;
    for (std::size_t l = 0; l < spec.hidden_dims.size(); ++l) {
      const std::size_t out = spec.hidden_dims[l];
      const double b = 1.0 / std::sqrt(static_cast<double>(in));
      put(d, "layers." + std::to_string(l) + ".weight", {out, in}, b, rng);
      put(d, "layers." + std::to_string(l) + ".bias", {out}, b, rng);
      in = out;
    }
    put(d, "output_layer.weight", {1, in}, 1.0 / std::sqrt(double(in)), rng);
    put(d, "output_layer.bias", {1}, 1.0 / std::sqrt(double(in)), rng);
  } else if (spec.kind == NetworkKind::lstm || spec.kind == NetworkKind::gru) {
    // nn.LSTM: 4 gates, "lstm."; nn.GRU: 3 gates, "gru.".
    const bool gru = spec.kind == NetworkKind::gru;
    const std::string p = gru ? "gru." : "lstm.";
    const std::size_t g = gru ? 3 : 4;
    for (int l = 0; l < spec.num_layers; ++l) {
      const std::string s = "_l" + std::to_string(l);
      put(d, p + "weight_ih" + s, {g * h, l == 0 ? f : h}, bh, rng);
      put(d, p + "weight_hh" + s, {g * h, h}, bh, rng);
      put(d, p + "bias_ih" + s, {g * h}, bh, rng);
      put(d, p + "bias_hh" + s, {g * h}, bh, rng);
    }
    put(d, "fc1.weight", {1, h}, bh, rng);
    put(d, "fc1.bias", {1}, bh, rng);
  } else {
    const double b2h = 1.0 / std::sqrt(2.0 * h), bf = 1.0 / std::sqrt(double(f));
    put(d, "attention.W.weight", {h, 2 * h}, b2h, rng);
    put(d, "attention.W.bias", {h}, b2h, rng);
    put(d, "attention.U.weight", {h, f}, bf, rng);
    put(d, "attention.U.bias", {h}, bf, rng);
    put(d, "attention.V.weight", {f, h}, bh, rng);
    put(d, "attention.V.bias", {f}, bh, rng);
    put(d, "lstm_cell.weight_ih", {4 * h, f}, bh, rng);
    put(d, "lstm_cell.weight_hh", {4 * h, h}, bh, rng);
    put(d, "lstm_cell.bias_ih", {4 * h}, bh, rng);
    put(d, "lstm_cell.bias_hh", {4 * h}, bh, rng);
    put(d, "temporal_attention.weight", {1, h}, bh, rng);
    put(d, "temporal_attention.bias", {1}, bh, rng);
    put(d, "fc1.weight", {1, h}, bh, rng);
    put(d, "fc1.bias", {1}, bh, rng);
    // The seed saves an unused nn.LSTM next to the cell; it must be ignored.
    put(d, "lstm_layer.weight_ih_l0", {4 * h, h}, bh, rng);
  }
  return d;
}

}  // namespace test_util
