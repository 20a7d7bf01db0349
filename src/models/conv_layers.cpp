#include "models/conv_layers.hpp"

#include <cmath>

#include "core/error.hpp"
#include "kernels/nn_conv.hpp"
#include "models/dnnl_util.hpp"

namespace fluxrecon::models {
namespace du = dnnl_util;
using conv_fwd = dnnl::convolution_forward;
using pool_fwd = dnnl::pooling_forward;
using pool_bwd = dnnl::pooling_backward;
using conv_bwd_data = dnnl::convolution_backward_data;
using conv_bwd_weights = dnnl::convolution_backward_weights;
using bn_fwd = dnnl::batch_normalization_forward;
using bn_bwd = dnnl::batch_normalization_backward;

int pooled_length(int length, int kernel, int stride, int pad) {
  return (length + 2 * pad - kernel) / stride + 1;
}

// ---- Conv2d -------------------------------------------------------------------------------------

struct Conv2d::Primitives {
  dnnl::memory src, weights, dst;
  conv_fwd forward;
};

Conv2d::Conv2d(ParameterSet& params, const std::string& name, int in, int out, int kernel,
               int stride, int pad)
    : params_(&params), in_(in), out_(out), kernel_(kernel), stride_(stride), pad_(pad) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in * kernel * kernel));
  weight_ = params.add(
      name + ".weight",
      {std::size_t(out), std::size_t(in), std::size_t(kernel), std::size_t(kernel)}, bound);
  weight_grad_.resize(std::size_t(out) * in * kernel * kernel);
}

Conv2d::~Conv2d() = default;
Conv2d::Conv2d(Conv2d&&) noexcept = default;

Dims4 Conv2d::output(const Dims4& in) const {
  return {in.n, out_, pooled_length(in.h, kernel_, stride_, pad_),
          pooled_length(in.w, kernel_, stride_, pad_)};
}

Conv2d::Primitives& Conv2d::primitives(const Dims4& in) {
  FR_REQUIRE(in.c == in_, "Conv2d: input has ", in.c, " channels, expected ", in_);
  auto& slot = by_shape_[{in.n, in.h, in.w}];
  if (slot) return *slot;
  const Dims4 out = output(in);
  FR_REQUIRE(out.h > 0 && out.w > 0, "Conv2d: input ", in.h, " x ", in.w,
             " is smaller than the kernel");
  du::guarded("Conv2d primitives", [&] {
    auto p = std::make_unique<Primitives>();
    const auto src = du::desc({in.n, in.c, in.h, in.w}, du::tag::nchw);
    const auto weights = du::desc({out_, in_, kernel_, kernel_}, du::tag::oihw);
    const auto dst = du::desc({out.n, out.c, out.h, out.w}, du::tag::nchw);
    conv_fwd::primitive_desc pd(
        conv_fwd::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                       weights, dst, {stride_, stride_}, {pad_, pad_}, {pad_, pad_}),
        du::engine());
    p->forward = conv_fwd(pd);
    p->src = du::view(src, nullptr);
    p->weights = du::view(weights, nullptr);
    p->dst = du::view(dst, nullptr);
    slot = std::move(p);
  });
  return *slot;
}

void Conv2d::forward(const float* x, const Dims4& in, float* y) {
  if (in.n == 0) return;
  auto& p = primitives(in);
  p.src.set_data_handle(const_cast<float*>(x));
  p.weights.set_data_handle(params_->value(weight_));
  p.dst.set_data_handle(y);
  p.forward.execute(du::stream(),
                    {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}});
  du::stream().wait();
}

struct Conv2d::Backward {
  dnnl::memory src, weights, diff_dst, diff_src, diff_weights;
  conv_bwd_data data;
  conv_bwd_weights weights_grad;
};

Conv2d::Backward& Conv2d::backward_primitives(const Dims4& in) {
  auto& slot = backward_by_shape_[{in.n, in.h, in.w}];
  if (slot) return *slot;
  const Dims4 out = output(in);
  du::guarded("Conv2d backward primitives", [&] {
    auto p = std::make_unique<Backward>();
    const auto src = du::desc({in.n, in.c, in.h, in.w}, du::tag::nchw);
    const auto weights = du::desc({out_, in_, kernel_, kernel_}, du::tag::oihw);
    const auto dst = du::desc({out.n, out.c, out.h, out.w}, du::tag::nchw);
    const dnnl::memory::dims strides{stride_, stride_}, pad{pad_, pad_};
    conv_fwd::primitive_desc hint(
        conv_fwd::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                       weights, dst, strides, pad, pad),
        du::engine());
    conv_bwd_data::primitive_desc data_pd(conv_bwd_data::desc(dnnl::algorithm::convolution_direct,
                                                              src, weights, dst, strides, pad, pad),
                                          du::engine(), hint);
    conv_bwd_weights::primitive_desc weights_pd(
        conv_bwd_weights::desc(dnnl::algorithm::convolution_direct, src, weights, dst, strides, pad,
                               pad),
        du::engine(), hint);
    p->data = conv_bwd_data(data_pd);
    p->weights_grad = conv_bwd_weights(weights_pd);
    p->src = du::view(src, nullptr);
    p->weights = du::view(weights, nullptr);
    p->diff_dst = du::view(dst, nullptr);
    p->diff_src = du::view(src, nullptr);
    p->diff_weights = du::view(weights, weight_grad_.data());
    slot = std::move(p);
  });
  return *slot;
}

void Conv2d::backward(const float* x, const Dims4& in, const float* dy, float* dx) {
  if (in.n == 0) return;
  auto& p = backward_primitives(in);
  p.src.set_data_handle(const_cast<float*>(x));
  p.diff_dst.set_data_handle(const_cast<float*>(dy));
  p.weights_grad.execute(du::stream(), {{DNNL_ARG_SRC, p.src},
                                        {DNNL_ARG_DIFF_DST, p.diff_dst},
                                        {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights}});
  if (dx) {
    p.weights.set_data_handle(params_->value(weight_));
    p.diff_src.set_data_handle(dx);
    p.data.execute(du::stream(), {{DNNL_ARG_DIFF_DST, p.diff_dst},
                                  {DNNL_ARG_WEIGHTS, p.weights},
                                  {DNNL_ARG_DIFF_SRC, p.diff_src}});
  }
  du::stream().wait();
  float* g = params_->grad(weight_);
  for (std::size_t i = 0; i < weight_grad_.size(); ++i) g[i] += weight_grad_[i];
}

// ---- BatchNorm ----------------------------------------------------------------------------------

BatchNorm::BatchNorm(ParameterSet& params, ParameterSet& buffers, const std::string& name,
                     int channels)
    : channels_(channels) {
  const std::size_t c = static_cast<std::size_t>(channels);
  weight_ = params.add(name + ".weight", {c}, 0.0f);
  bias_ = params.add(name + ".bias", {c}, 0.0f);
  mean_ = buffers.add(name + ".running_mean", {c}, 0.0f);
  var_ = buffers.add(name + ".running_var", {c}, 0.0f);
  batches_ = buffers.add(name + ".num_batches_tracked", {}, 0.0f);
  scale_grad_.resize(c);
  shift_grad_.resize(c);
}

struct BatchNorm::Primitives {
  dnnl::memory src, dst, scale, shift, mean, var, diff_dst, diff_src, diff_scale, diff_shift;
  bn_fwd forward;
  bn_bwd backward;
};

BatchNorm::~BatchNorm() = default;
BatchNorm::BatchNorm(BatchNorm&&) noexcept = default;

BatchNorm::Primitives& BatchNorm::primitives(const Dims4& in) {
  auto& slot = by_shape_[{in.n, in.h, in.w}];
  if (slot) return *slot;
  du::guarded("BatchNorm primitives", [&] {
    auto p = std::make_unique<Primitives>();
    const auto data = du::desc({in.n, in.c, in.h, in.w}, du::tag::nchw);
    const auto channel = du::desc({in.c}, du::tag::x);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    bn_fwd::primitive_desc fwd_pd(
        bn_fwd::desc(dnnl::prop_kind::forward_training, data, kEps, flags), du::engine());
    bn_bwd::primitive_desc bwd_pd(bn_bwd::desc(dnnl::prop_kind::backward, data, data, kEps, flags),
                                  du::engine(), fwd_pd);
    p->forward = bn_fwd(fwd_pd);
    p->backward = bn_bwd(bwd_pd);
    for (auto* m : {&p->src, &p->dst, &p->diff_dst, &p->diff_src}) *m = du::view(data, nullptr);
    for (auto* m : {&p->scale, &p->shift, &p->mean, &p->var}) *m = du::view(channel, nullptr);
    p->diff_scale = du::view(channel, scale_grad_.data());
    p->diff_shift = du::view(channel, shift_grad_.data());
    slot = std::move(p);
  });
  return *slot;
}

void BatchNorm::forward_training(ParameterSet& params, ParameterSet& buffers, const float* x,
                                 const Dims4& in, float* y, BatchStats& stats) {
  FR_REQUIRE(in.c == channels_, "BatchNorm: input has ", in.c, " channels, expected ", channels_);
  const std::size_t count = std::size_t(in.n) * in.plane();
  FR_REQUIRE(count > 1, "BatchNorm in training needs more than one value per channel (batch of ",
             in.n, ")");
  auto& p = primitives(in);
  stats.mean.resize(std::size_t(channels_));
  stats.var.resize(std::size_t(channels_));
  p.src.set_data_handle(const_cast<float*>(x));
  p.dst.set_data_handle(y);
  p.scale.set_data_handle(params.value(weight_));
  p.shift.set_data_handle(params.value(bias_));
  p.mean.set_data_handle(stats.mean.data());
  p.var.set_data_handle(stats.var.data());
  p.forward.execute(du::stream(), {{DNNL_ARG_SRC, p.src},
                                   {DNNL_ARG_DST, p.dst},
                                   {DNNL_ARG_SCALE, p.scale},
                                   {DNNL_ARG_SHIFT, p.shift},
                                   {DNNL_ARG_MEAN, p.mean},
                                   {DNNL_ARG_VARIANCE, p.var}});
  du::stream().wait();
  float* rm = buffers.value(mean_);
  float* rv = buffers.value(var_);
  const float unbias = float(double(count) / double(count - 1));
  for (int c = 0; c < channels_; ++c) {
    rm[c] = (1.0f - kMomentum) * rm[c] + kMomentum * stats.mean[c];
    rv[c] = (1.0f - kMomentum) * rv[c] + kMomentum * stats.var[c] * unbias;
  }
  buffers.value(batches_)[0] += 1.0f;
}

void BatchNorm::backward(ParameterSet& params, const float* x, const Dims4& in,
                         const BatchStats& stats, const float* dy, float* dx) {
  auto& p = primitives(in);
  p.src.set_data_handle(const_cast<float*>(x));
  p.diff_dst.set_data_handle(const_cast<float*>(dy));
  p.diff_src.set_data_handle(dx);
  p.scale.set_data_handle(params.value(weight_));
  p.shift.set_data_handle(params.value(bias_));
  p.mean.set_data_handle(const_cast<float*>(stats.mean.data()));
  p.var.set_data_handle(const_cast<float*>(stats.var.data()));
  p.backward.execute(du::stream(), {{DNNL_ARG_SRC, p.src},
                                    {DNNL_ARG_MEAN, p.mean},
                                    {DNNL_ARG_VARIANCE, p.var},
                                    {DNNL_ARG_DIFF_DST, p.diff_dst},
                                    {DNNL_ARG_SCALE, p.scale},
                                    {DNNL_ARG_SHIFT, p.shift},
                                    {DNNL_ARG_DIFF_SRC, p.diff_src},
                                    {DNNL_ARG_DIFF_SCALE, p.diff_scale},
                                    {DNNL_ARG_DIFF_SHIFT, p.diff_shift}});
  du::stream().wait();
  float* gw = params.grad(weight_);
  float* gb = params.grad(bias_);
  for (int c = 0; c < channels_; ++c) {
    gw[c] += scale_grad_[c];
    gb[c] += shift_grad_[c];
  }
}

void BatchNorm::reset(ParameterSet& params, ParameterSet& buffers) const {
  for (int i = 0; i < channels_; ++i) {
    params.value(weight_)[i] = 1.0f;
    params.value(bias_)[i] = 0.0f;
    buffers.value(mean_)[i] = 0.0f;
    buffers.value(var_)[i] = 1.0f;
  }
  buffers.value(batches_)[0] = 0.0f;
}

void BatchNorm::forward_inference(const ParameterSet& params, const ParameterSet& buffers,
                                  const float* x, const Dims4& in, bool relu, float* y) const {
  FR_REQUIRE(in.c == channels_, "BatchNorm: input has ", in.c, " channels, expected ", channels_);
  kernels::conv::batch_norm_inference(x, in.n, in.c, in.plane(), params.value(weight_),
                                      params.value(bias_), buffers.value(mean_),
                                      buffers.value(var_), kEps, relu, y);
}

// ---- MaxPool2d ----------------------------------------------------------------------------------

struct MaxPool2d::Primitives {
  dnnl::memory src, dst;
  pool_fwd forward;
};

MaxPool2d::MaxPool2d(int kernel, int stride, int pad)
    : kernel_(kernel), stride_(stride), pad_(pad) {}
MaxPool2d::~MaxPool2d() = default;
MaxPool2d::MaxPool2d(MaxPool2d&&) noexcept = default;

Dims4 MaxPool2d::output(const Dims4& in) const {
  return {in.n, in.c, pooled_length(in.h, kernel_, stride_, pad_),
          pooled_length(in.w, kernel_, stride_, pad_)};
}

MaxPool2d::Primitives& MaxPool2d::primitives(const Dims4& in) {
  auto& slot = by_shape_[{in.n, in.c, in.h, in.w}];
  if (slot) return *slot;
  const Dims4 out = output(in);
  FR_REQUIRE(out.h > 0 && out.w > 0, "MaxPool2d: input ", in.h, " x ", in.w,
             " is smaller than the window");
  du::guarded("MaxPool2d primitives", [&] {
    auto p = std::make_unique<Primitives>();
    const auto src = du::desc({in.n, in.c, in.h, in.w}, du::tag::nchw);
    const auto dst = du::desc({out.n, out.c, out.h, out.w}, du::tag::nchw);
    pool_fwd::primitive_desc pd(
        pool_fwd::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, src, dst,
                       {stride_, stride_}, {kernel_, kernel_}, {pad_, pad_}, {pad_, pad_}),
        du::engine());
    p->forward = pool_fwd(pd);
    p->src = du::view(src, nullptr);
    p->dst = du::view(dst, nullptr);
    slot = std::move(p);
  });
  return *slot;
}

void MaxPool2d::forward(const float* x, const Dims4& in, float* y) {
  if (in.n == 0) return;
  auto& p = primitives(in);
  p.src.set_data_handle(const_cast<float*>(x));
  p.dst.set_data_handle(y);
  p.forward.execute(du::stream(), {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_DST, p.dst}});
  du::stream().wait();
}

struct MaxPool2d::Training {
  dnnl::memory src, dst, diff_dst, diff_src, workspace;
  pool_fwd forward;
  pool_bwd backward;
  std::size_t workspace_bytes = 0;
};

MaxPool2d::Training& MaxPool2d::training(const Dims4& in) {
  auto& slot = training_by_shape_[{in.n, in.c, in.h, in.w}];
  if (slot) return *slot;
  const Dims4 out = output(in);
  du::guarded("MaxPool2d training primitives", [&] {
    auto p = std::make_unique<Training>();
    const auto src = du::desc({in.n, in.c, in.h, in.w}, du::tag::nchw);
    const auto dst = du::desc({out.n, out.c, out.h, out.w}, du::tag::nchw);
    const dnnl::memory::dims strides{stride_, stride_}, kernel{kernel_, kernel_}, pad{pad_, pad_};
    pool_fwd::primitive_desc fwd_pd(
        pool_fwd::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, src, dst,
                       strides, kernel, pad, pad),
        du::engine());
    pool_bwd::primitive_desc bwd_pd(
        pool_bwd::desc(dnnl::algorithm::pooling_max, src, dst, strides, kernel, pad, pad),
        du::engine(), fwd_pd);
    p->forward = pool_fwd(fwd_pd);
    p->backward = pool_bwd(bwd_pd);
    p->src = du::view(src, nullptr);
    p->dst = du::view(dst, nullptr);
    p->diff_dst = du::view(dst, nullptr);
    p->diff_src = du::view(src, nullptr);
    p->workspace = dnnl::memory(fwd_pd.workspace_desc(), du::engine(), nullptr);
    p->workspace_bytes = fwd_pd.workspace_desc().get_size();
    slot = std::move(p);
  });
  return *slot;
}

void MaxPool2d::forward_training(const float* x, const Dims4& in, float* y,
                                 std::vector<std::uint8_t>& workspace) {
  auto& p = training(in);
  workspace.resize(p.workspace_bytes);
  p.src.set_data_handle(const_cast<float*>(x));
  p.dst.set_data_handle(y);
  p.workspace.set_data_handle(workspace.data());
  p.forward.execute(
      du::stream(),
      {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_DST, p.dst}, {DNNL_ARG_WORKSPACE, p.workspace}});
  du::stream().wait();
}

void MaxPool2d::backward(const Dims4& in, const float* dy,
                         const std::vector<std::uint8_t>& workspace, float* dx) {
  auto& p = training(in);
  p.diff_dst.set_data_handle(const_cast<float*>(dy));
  p.diff_src.set_data_handle(dx);
  p.workspace.set_data_handle(const_cast<std::uint8_t*>(workspace.data()));
  p.backward.execute(du::stream(), {{DNNL_ARG_DIFF_DST, p.diff_dst},
                                    {DNNL_ARG_WORKSPACE, p.workspace},
                                    {DNNL_ARG_DIFF_SRC, p.diff_src}});
  du::stream().wait();
}

}  // namespace fluxrecon::models
