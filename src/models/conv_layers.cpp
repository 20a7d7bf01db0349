#include "models/conv_layers.hpp"

#include <cmath>

#include "core/error.hpp"
#include "kernels/nn_conv.hpp"
#include "models/dnnl_util.hpp"

namespace fluxrecon::models {
namespace du = dnnl_util;
using conv_fwd = dnnl::convolution_forward;
using pool_fwd = dnnl::pooling_forward;

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

}  // namespace fluxrecon::models
