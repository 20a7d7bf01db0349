// One LSTM layer (PyTorch's nn.LSTM layer / nn.LSTMCell: gates i, f, g, o,
// weight_ih (4H, in), weight_hh (4H, H), bias_ih, bias_hh) over `steps` time
// steps, forward and backward through oneDNN's LSTM primitives. The weights
// stay in PyTorch's layout in the ParameterSet; each primitive that wants another
// layout gets its own copy, refreshed when the parameters change.
#pragma once

#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "models/parameters.hpp"

namespace fluxrecon::models {

class LstmLayer {
 public:
  // Registers <prefix>weight_ih<suffix>, weight_hh, bias_ih, bias_hh with
  // PyTorch's bound 1/sqrt(H) (prefix "lstm.", suffix "_l0" for nn.LSTM;
  // prefix "lstm_cell.", suffix "" for nn.LSTMCell).
  LstmLayer(ParameterSet& params, const std::string& prefix, const std::string& suffix, int in,
            int hidden);
  ~LstmLayer();
  LstmLayer(LstmLayer&&) noexcept;

  int in() const { return in_; }
  int hidden() const { return hidden_; }

  // What backward needs from one training forward call.
  struct Tape {
    int steps = 0, n = 0;
    const float *x = nullptr, *h0 = nullptr, *c0 = nullptr, *y = nullptr;
    std::vector<float> h_last, c_last;  // dst_iter, dst_iter_c: inputs of the backward primitive
    dnnl::memory workspace;
  };

  // x (n, steps, in) -> y (n, steps, H). h0, c0 (n, H) may be null (zeros);
  // hT, cT (n, H) receive the last states when not null. With `tape` the call
  // is a training forward whose record backward() takes; without, inference.
  void forward(int steps, int n, const float* x, const float* h0, const float* c0, float* y,
               float* hT, float* cT, Tape* tape);

  // Backward of the calls of one training step: begin, one backward per
  // recorded forward (any order oneDNN's accumulation allows: it sums), end.
  void begin_backward();
  // dy (n, steps, H), dhT, dcT (n, H): gradients arriving at the outputs, null
  // for zero. dx, dh0, dc0 receive the input gradients when not null.
  void backward(const Tape& tape, const float* dy, const float* dhT, const float* dcT, float* dx,
                float* dh0, float* dc0);
  // Adds the accumulated weight and bias gradients to the ParameterSet.
  void end_backward();

 private:
  struct Forward;
  struct Backward;
  Forward& forward_primitive(int steps, int n, bool training);
  Backward& backward_primitive(int steps, int n);
  const float* zeros(std::size_t count);
  float* scratch(std::size_t slot, std::size_t count);
  void refresh_bias();

  ParameterSet* params_;
  std::size_t w_ih_, w_hh_, b_ih_, b_hh_;
  int in_, hidden_;
  std::vector<float> bias_;  // b_ih + b_hh: oneDNN takes one bias
  std::uint64_t bias_version_ = 0;
  std::map<std::tuple<int, int, bool>, std::unique_ptr<Forward>> forwards_;
  std::map<std::pair<int, int>, std::unique_ptr<Backward>> backwards_;
  std::vector<float> zeros_;
  std::vector<std::vector<float>> scratch_;
};

}  // namespace fluxrecon::models
