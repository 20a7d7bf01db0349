// One GRU layer (PyTorch's nn.GRU layer: gates r, z, n, weight_ih (3H, in),
// weight_hh (3H, H), bias_ih, bias_hh) over `steps` time steps, forward and
// backward through oneDNN's linear-before-reset GRU primitives, which compute
// PyTorch's n = tanh(W_in x + b_in + r (W_hn h + b_hn)). oneDNN orders the
// gates u (= z), r, o (= n) and takes the biases as u, r, o, u' (= b_hn), so
// the layer keeps gate-permuted copies of the weights, refreshed when the
// parameters change, and permutes the gradients back.
#pragma once

#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "models/parameters.hpp"

namespace fluxrecon::models {

class GruLayer {
 public:
  // Registers <prefix>weight_ih<suffix>, weight_hh, bias_ih, bias_hh with
  // PyTorch's bound 1/sqrt(H) (prefix "gru.", suffix "_l0" for nn.GRU).
  GruLayer(ParameterSet& params, const std::string& prefix, const std::string& suffix, int in,
           int hidden);
  ~GruLayer();
  GruLayer(GruLayer&&) noexcept;

  int in() const { return in_; }
  int hidden() const { return hidden_; }

  // What backward needs from one training forward call.
  struct Tape {
    int steps = 0, n = 0;
    const float *x = nullptr, *h0 = nullptr, *y = nullptr;
    std::vector<float> h_last;  // dst_iter: an input of the backward primitive
    dnnl::memory workspace;
  };

  // x (n, steps, in) -> y (n, steps, H). h0 (n, H) may be null (zeros); hT
  // (n, H) receives the last state when not null. With `tape` the call is a
  // training forward whose record backward() takes; without, inference.
  void forward(int steps, int n, const float* x, const float* h0, float* y, float* hT, Tape* tape);

  // Backward of the calls of one training step, as LstmLayer's: begin, one
  // backward per recorded forward, end.
  void begin_backward();
  // dy (n, steps, H), dhT (n, H): gradients arriving at the outputs, null for
  // zero. dx, dh0 receive the input gradients when not null.
  void backward(const Tape& tape, const float* dy, const float* dhT, float* dx, float* dh0);
  // Adds the accumulated weight and bias gradients to the ParameterSet.
  void end_backward();

 private:
  struct Forward;
  struct Backward;
  Forward& forward_primitive(int steps, int n, bool training);
  Backward& backward_primitive(int steps, int n);
  const float* zeros(std::size_t count);
  float* scratch(std::size_t slot, std::size_t count);
  void refresh_user();

  ParameterSet* params_;
  std::size_t w_ih_, w_hh_, b_ih_, b_hh_;
  int in_, hidden_;
  // The weights in oneDNN's gate order and ldgoi layout, and its 4 biases.
  std::vector<float> user_ih_, user_hh_, bias_;
  std::uint64_t user_version_ = 0;
  std::map<std::tuple<int, int, bool>, std::unique_ptr<Forward>> forwards_;
  std::map<std::pair<int, int>, std::unique_ptr<Backward>> backwards_;
  std::vector<float> zeros_;
  std::vector<std::vector<float>> scratch_;
};

}  // namespace fluxrecon::models
