#include "models/linear.hpp"

#include <cmath>

#include "models/dnnl_util.hpp"

namespace fluxrecon::models {
namespace du = dnnl_util;
using ip_fwd = dnnl::inner_product_forward;
using ip_bwd_data = dnnl::inner_product_backward_data;
using ip_bwd_weights = dnnl::inner_product_backward_weights;

struct Linear::Primitives {
  dnnl::memory src, weights, bias, dst, diff_dst, diff_src, diff_weights, diff_bias;
  ip_fwd forward;
  ip_bwd_data backward_data;
  ip_bwd_weights backward_weights;
};

Linear::Linear(ParameterSet& params, const std::string& name, int in, int out)
    : params_(&params), in_(in), out_(out) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in));
  weight_ = params.add(name + ".weight", {std::size_t(out), std::size_t(in)}, bound);
  bias_ = params.add(name + ".bias", {std::size_t(out)}, bound);
  weight_grad_.resize(std::size_t(in) * out);
  bias_grad_.resize(std::size_t(out));
}

Linear::~Linear() = default;
Linear::Linear(Linear&&) noexcept = default;

Linear::Primitives& Linear::primitives(int n) {
  auto& slot = by_batch_[n];
  if (slot) return *slot;
  du::guarded("Linear primitives", [&] {
    auto p = std::make_unique<Primitives>();
    const auto src = du::desc({n, in_}, du::tag::nc);
    const auto weights = du::desc({out_, in_}, du::tag::oi);
    const auto bias = du::desc({out_}, du::tag::x);
    const auto dst = du::desc({n, out_}, du::tag::nc);
    ip_fwd::primitive_desc fwd_pd(
        ip_fwd::desc(dnnl::prop_kind::forward_training, src, weights, bias, dst), du::engine());
    ip_bwd_data::primitive_desc data_pd(ip_bwd_data::desc(src, weights, dst), du::engine(), fwd_pd);
    ip_bwd_weights::primitive_desc weights_pd(ip_bwd_weights::desc(src, weights, bias, dst),
                                              du::engine(), fwd_pd);
    p->forward = ip_fwd(fwd_pd);
    p->backward_data = ip_bwd_data(data_pd);
    p->backward_weights = ip_bwd_weights(weights_pd);
    p->src = du::view(src, nullptr);
    p->weights = du::view(weights, nullptr);
    p->bias = du::view(bias, nullptr);
    p->dst = du::view(dst, nullptr);
    p->diff_dst = du::view(dst, nullptr);
    p->diff_src = du::view(src, nullptr);
    p->diff_weights = du::view(weights, weight_grad_.data());
    p->diff_bias = du::view(bias, bias_grad_.data());
    slot = std::move(p);
  });
  return *slot;
}

void Linear::forward(const float* x, int n, float* y) {
  if (n == 0) return;
  auto& p = primitives(n);
  p.src.set_data_handle(const_cast<float*>(x));
  p.weights.set_data_handle(params_->value(weight_));
  p.bias.set_data_handle(params_->value(bias_));
  p.dst.set_data_handle(y);
  p.forward.execute(du::stream(), {{DNNL_ARG_SRC, p.src},
                                   {DNNL_ARG_WEIGHTS, p.weights},
                                   {DNNL_ARG_BIAS, p.bias},
                                   {DNNL_ARG_DST, p.dst}});
  du::stream().wait();
}

void Linear::backward(const float* x, const float* dy, int n, float* dx) {
  if (n == 0) return;
  auto& p = primitives(n);
  p.src.set_data_handle(const_cast<float*>(x));
  p.diff_dst.set_data_handle(const_cast<float*>(dy));
  p.backward_weights.execute(du::stream(), {{DNNL_ARG_SRC, p.src},
                                            {DNNL_ARG_DIFF_DST, p.diff_dst},
                                            {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights},
                                            {DNNL_ARG_DIFF_BIAS, p.diff_bias}});
  if (dx) {
    p.weights.set_data_handle(params_->value(weight_));
    p.diff_src.set_data_handle(dx);
    p.backward_data.execute(du::stream(), {{DNNL_ARG_DIFF_DST, p.diff_dst},
                                           {DNNL_ARG_WEIGHTS, p.weights},
                                           {DNNL_ARG_DIFF_SRC, p.diff_src}});
  }
  du::stream().wait();
  float* gw = params_->grad(weight_);
  for (std::size_t i = 0; i < weight_grad_.size(); ++i) gw[i] += weight_grad_[i];
  float* gb = params_->grad(bias_);
  for (std::size_t i = 0; i < bias_grad_.size(); ++i) gb[i] += bias_grad_[i];
}

void Linear::backward_bias(const float* dy, int n) {
  float* gb = params_->grad(bias_);
  for (int s = 0; s < n; ++s)
    for (int o = 0; o < out_; ++o) gb[o] += dy[std::size_t(s) * out_ + o];
}

}  // namespace fluxrecon::models
