#include "train/adam.hpp"

#include <cmath>

#include "core/error.hpp"

namespace fluxrecon::train {

Adam::Adam(std::size_t size, double learning_rate, double weight_decay, double beta1, double beta2,
           double eps)
    : lr_(learning_rate),
      weight_decay_(weight_decay),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      m_(size, 0.0f),
      v_(size, 0.0f) {}

void Adam::step(float* values, const float* grads) {
  ++steps_;
  const auto b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  const auto wd = static_cast<float>(weight_decay_);
  const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_));
  const double correction2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_));
  const auto step_size = static_cast<float>(lr_ / correction1);
  const auto correction2_sqrt = static_cast<float>(std::sqrt(correction2));
  const auto eps = static_cast<float>(eps_);
  const std::size_t n = m_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const float g = grads[i] + wd * values[i];
    m_[i] = m_[i] * b1 + (1.0f - b1) * g;
    v_[i] = v_[i] * b2 + (1.0f - b2) * g * g;
    const float denom = std::sqrt(v_[i]) / correction2_sqrt + eps;
    values[i] -= step_size * m_[i] / denom;
  }
}

void Adam::restore(long long steps, std::vector<float> m, std::vector<float> v) {
  FR_REQUIRE(m.size() == m_.size() && v.size() == v_.size(), "checkpoint: optimiser state has ",
             m.size(), " values, the model ", m_.size());
  steps_ = steps;
  m_ = std::move(m);
  v_ = std::move(v);
}

}  // namespace fluxrecon::train
