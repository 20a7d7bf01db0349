// The neural models with forward and backward passes: the seed's MLP, LSTM
// and temporal attention LSTM (spec 3.1-3.3), and a GRU (issue 20). Inputs are
// normalised windows (n, window, features), row-major, oldest step first;
// the output is one normalised prediction per sample.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/network_spec.hpp"
#include "models/parameters.hpp"

namespace fluxrecon::models {

std::string kind_name(NetworkKind kind);
NetworkKind parse_kind(const std::string& name);  // mlp, lstm, attention_lstm, gru

class Network {
 public:
  explicit Network(NetworkSpec spec) : spec_(std::move(spec)) {}
  virtual ~Network() = default;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const NetworkSpec& spec() const { return spec_; }
  ParameterSet& parameters() { return params_; }
  const ParameterSet& parameters() const { return params_; }

  // x (n, window, features) -> y (n). With `training`, dropout is applied
  // and what backward() needs is kept; x must stay valid until then.
  virtual void forward(const float* x, int n, bool training, float* y) = 0;
  // dy (n): dLoss/dy of the last training forward. Adds to the gradients.
  virtual void backward(const float* dy) = 0;

  // Dropout masks are drawn from this generator (seeded by the trainer).
  void seed_dropout(std::uint64_t seed) { dropout_rng_.seed(seed); }

  // Keys a PyTorch checkpoint of this model may hold that we do not use.
  virtual std::vector<std::string> ignored_keys() const { return {}; }

 protected:
  // Fills `mask` (count) with 0 or 1/(1-p) (inverted dropout); empty when p = 0.
  void draw_dropout(std::vector<float>& mask, std::size_t count);

  NetworkSpec spec_;
  ParameterSet params_;
  std::mt19937_64 dropout_rng_{0};
};

// Builds the network of `spec` with freshly registered (uninitialised)
// parameters; call parameters().initialise(seed) or load().
std::unique_ptr<Network> make_network(const NetworkSpec& spec);

// The attention LSTM also returns its attention weights (explain needs them).
class AttentionLstmWeights {
 public:
  virtual ~AttentionLstmWeights() = default;
  // alpha (n, window, features): input attention per step; beta (n, window):
  // temporal attention. Inference mode.
  virtual void forward_with_weights(const float* x, int n, float* y, float* alpha, float* beta) = 0;
};

}  // namespace fluxrecon::models
