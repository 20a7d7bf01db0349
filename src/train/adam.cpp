#include "train/adam.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "models/dnnl_util.hpp"

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

namespace {
// Elements per block: the block's g, m, v and sqrt(v) stay in L1/L2 between
// the three passes.
constexpr std::size_t kBlock = 4096;
}  // namespace

void Adam::step(float* values, const float* grads, float grad_scale) {
  ++steps_;
  const auto b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  // 1 - beta in double, then rounded, as PyTorch passes it (1.0f - 0.999f
  // would be off by 1.3e-5 relative).
  const auto one_minus_b1 = static_cast<float>(1.0 - beta1_);
  const auto one_minus_b2 = static_cast<float>(1.0 - beta2_);
  const auto wd = static_cast<float>(weight_decay_);
  const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_));
  const double correction2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_));
  const auto step_size = static_cast<float>(lr_ / correction1);
  const auto correction2_sqrt = static_cast<float>(std::sqrt(correction2));
  const auto eps = static_cast<float>(eps_);
  const std::size_t n = m_.size();
  root_.resize(std::min(n, kBlock));
  float* __restrict m = m_.data();
  float* __restrict v = v_.data();
  float* __restrict root = root_.data();
  // std::sqrt in the loop would not vectorise (errno), so sqrt(v) of each
  // block comes from oneDNN's vectorised eltwise (IEEE sqrt, same values).
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t count = std::min(kBlock, n - start);
    float* __restrict x = values + start;
    const float* __restrict dx = grads + start;
    float* __restrict mb = m + start;
    float* __restrict vb = v + start;
    for (std::size_t i = 0; i < count; ++i) {
      const float g = dx[i] * grad_scale + wd * x[i];
      mb[i] = mb[i] * b1 + one_minus_b1 * g;
      vb[i] = vb[i] * b2 + one_minus_b2 * (g * g);
    }
    models::dnnl_util::sqrt_into(vb, root, count);
    for (std::size_t i = 0; i < count; ++i) {
      const float denom = root[i] / correction2_sqrt + eps;
      x[i] -= step_size * (mb[i] / denom);  // addcdiv: value * (m / denom)
    }
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
