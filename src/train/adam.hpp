// torch.optim.Adam: L2 weight decay added to the gradient (coupled, not
// AdamW), bias-corrected moments, the same operation order as PyTorch 1.13's
// single-tensor implementation.
#pragma once

#include <cstddef>
#include <vector>

namespace fluxrecon::train {

class Adam {
 public:
  Adam(std::size_t size, double learning_rate, double weight_decay, double beta1 = 0.9,
       double beta2 = 0.999, double eps = 1e-8);

  // One step on `values` with gradients `grads` * `grad_scale` (both `size`
  // long; the scale lets the trainer pass summed gradients and 1 / count).
  void step(float* values, const float* grads, float grad_scale = 1.0f);

  long long steps() const { return steps_; }
  double learning_rate() const { return lr_; }
  // A schedule (ReduceLROnPlateau) changes the rate between steps.
  void set_learning_rate(double learning_rate) { lr_ = learning_rate; }
  std::vector<float>& first_moment() { return m_; }
  std::vector<float>& second_moment() { return v_; }
  void restore(long long steps, std::vector<float> m, std::vector<float> v);

 private:
  double lr_, weight_decay_, beta1_, beta2_, eps_;
  long long steps_ = 0;
  std::vector<float> m_, v_;
  std::vector<float> root_;  // sqrt(v) of one block
};

}  // namespace fluxrecon::train
