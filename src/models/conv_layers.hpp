// Layers of the convolutional embedding encoder (conv_encoder.hpp) as PyTorch
// defines them, on oneDNN: Conv2d without bias, BatchNorm (2d and 1d) with
// running statistics, MaxPool2d. Activations are NCHW float32; weights keep
// PyTorch's names and shapes (conv: (out, in, k, k), OIHW). Primitives are
// built once per input shape and reused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "models/parameters.hpp"

namespace fluxrecon::models {

struct Dims4 {
  int n = 0, c = 0, h = 1, w = 1;
  std::size_t plane() const { return std::size_t(h) * std::size_t(w); }
  std::size_t count() const { return std::size_t(n) * std::size_t(c) * plane(); }
};

// Output length of a window of `kernel` at `stride` with `pad` on each side
// (PyTorch's floor rule, ceil_mode off).
int pooled_length(int length, int kernel, int stride, int pad);

class Conv2d {
 public:
  // Registers `<name>.weight` (out, in, k, k) with PyTorch's default bound
  // (kaiming_uniform with a = sqrt(5): 1 / sqrt(in k k)).
  Conv2d(ParameterSet& params, const std::string& name, int in, int out, int kernel, int stride,
         int pad);
  ~Conv2d();
  Conv2d(Conv2d&&) noexcept;

  Dims4 output(const Dims4& in) const;
  // x (in) -> y (output(in)).
  void forward(const float* x, const Dims4& in, float* y);
  // Adds dL/dW for (x, dy) to the gradients; writes dL/dx into dx unless null.
  void backward(const float* x, const Dims4& in, const float* dy, float* dx);

 private:
  struct Primitives;
  struct Backward;
  Primitives& primitives(const Dims4& in);
  Backward& backward_primitives(const Dims4& in);
  ParameterSet* params_;
  std::size_t weight_;
  int in_, out_, kernel_, stride_, pad_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Primitives>> by_shape_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Backward>> backward_by_shape_;
  std::vector<float> weight_grad_;  // oneDNN overwrites its output
};

// Batch statistics of one training forward pass (biased variance, as used).
struct BatchStats {
  std::vector<float> mean, var;
};

// BatchNorm2d / BatchNorm1d (eps 1e-5, momentum 0.1): `<name>.weight` and
// `.bias` are parameters; `.running_mean`, `.running_var` and
// `.num_batches_tracked` are buffers (a second ParameterSet, never trained).
class BatchNorm {
 public:
  BatchNorm(ParameterSet& params, ParameterSet& buffers, const std::string& name, int channels);
  ~BatchNorm();
  BatchNorm(BatchNorm&&) noexcept;
  // Sets weight 1, bias 0, running mean 0, running variance 1 (PyTorch's init).
  void reset(ParameterSet& params, ParameterSet& buffers) const;
  // Inference: the running statistics; in place when y == x.
  void forward_inference(const ParameterSet& params, const ParameterSet& buffers, const float* x,
                         const Dims4& in, bool relu, float* y) const;
  // Training: batch statistics (kept in `stats` for backward); the running
  // statistics move by momentum 0.1 (the variance unbiased, as PyTorch).
  void forward_training(ParameterSet& params, ParameterSet& buffers, const float* x,
                        const Dims4& in, float* y, BatchStats& stats);
  // Adds dL/dweight, dL/dbias; writes dL/dx (x and stats of the forward).
  void backward(ParameterSet& params, const float* x, const Dims4& in, const BatchStats& stats,
                const float* dy, float* dx);
  int channels() const { return channels_; }
  static constexpr float kEps = 1e-5f;
  static constexpr float kMomentum = 0.1f;

 private:
  struct Primitives;
  Primitives& primitives(const Dims4& in);
  std::size_t weight_, bias_, mean_, var_, batches_;
  int channels_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Primitives>> by_shape_;
  std::vector<float> scale_grad_, shift_grad_;
};

// MaxPool2d(kernel, stride, pad), as the ResNet stem's 3x3/2 pad 1.
class MaxPool2d {
 public:
  MaxPool2d(int kernel, int stride, int pad);
  ~MaxPool2d();
  MaxPool2d(MaxPool2d&&) noexcept;
  Dims4 output(const Dims4& in) const;
  void forward(const float* x, const Dims4& in, float* y);
  // Training: the positions of the maxima go to `workspace` for backward.
  void forward_training(const float* x, const Dims4& in, float* y,
                        std::vector<std::uint8_t>& workspace);
  void backward(const Dims4& in, const float* dy, const std::vector<std::uint8_t>& workspace,
                float* dx);

 private:
  struct Primitives;
  struct Training;
  Primitives& primitives(const Dims4& in);
  Training& training(const Dims4& in);
  int kernel_, stride_, pad_;
  std::map<std::tuple<int, int, int, int>, std::unique_ptr<Training>> training_by_shape_;
  std::map<std::tuple<int, int, int, int>, std::unique_ptr<Primitives>> by_shape_;
};

}  // namespace fluxrecon::models
