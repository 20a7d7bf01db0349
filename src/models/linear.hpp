// Linear(in, out) as PyTorch defines it (y = x W^T + b, W of shape (out, in)),
// forward and backward through oneDNN's inner product primitives. Primitives
// are built once per batch size and reused.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "models/parameters.hpp"

namespace fluxrecon::models {

class Linear {
 public:
  // Registers `<name>.weight` (out, in) and `<name>.bias` (out) with PyTorch's
  // default bound 1/sqrt(in).
  Linear(ParameterSet& params, const std::string& name, int in, int out);
  ~Linear();
  Linear(Linear&&) noexcept;

  int in() const { return in_; }
  int out() const { return out_; }
  const float* bias(const ParameterSet& params) const { return params.value(bias_); }

  // x (n, in) -> y (n, out).
  void forward(const float* x, int n, float* y);
  // Adds dL/dW and dL/db for this (x, dy) to the gradients; writes dL/dx
  // into dx when it is not null (overwriting).
  void backward(const float* x, const float* dy, int n, float* dx);
  // backward() for an input known to be zero: only the bias gradient is not.
  void backward_bias(const float* dy, int n);

 private:
  struct Primitives;
  Primitives& primitives(int n);
  ParameterSet* params_;
  std::size_t weight_, bias_;
  int in_, out_;
  std::map<int, std::unique_ptr<Primitives>> by_batch_;
  std::vector<float> weight_grad_, bias_grad_;  // scratch: oneDNN overwrites its outputs
};

}  // namespace fluxrecon::models
