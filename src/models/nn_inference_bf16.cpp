#include "models/nn_inference_bf16.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "models/dnnl_util.hpp"
#include "models/nn_inference.hpp"

namespace fluxrecon::models {

namespace du = dnnl_util;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

namespace {

// A bf16 copy of float32 weights in the layout a primitive chose.
dnnl::memory converted(const std::vector<float>& values, const dnnl::memory::desc& user,
                       const dnnl::memory::desc& target) {
  dnnl::memory from(user, du::engine(), const_cast<float*>(values.data()));
  dnnl::memory to(target, du::engine());
  du::reorder(from, to);
  return to;
}

dnnl::memory float_memory(const std::vector<float>& values, const dnnl::memory::dims& shape,
                          tag format) {
  dnnl::memory m(dnnl::memory::desc(shape, dt::f32, format), du::engine());
  std::memcpy(m.get_data_handle(), values.data(), values.size() * sizeof(float));
  return m;
}

float bf16_to_float(std::uint16_t v) {
  const std::uint32_t bits = std::uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

struct NnInferenceBf16::Impl {
  models::NetworkSpec spec;
  int batch = 0, in_width = 0;  // samples per call; values per sample given to the first layer
  std::vector<float> input;     // (batch, in_width) float32: flat windows or (batch, T, F)
  dnnl::memory input_f32, input_bf16;
  dnnl::reorder to_bf16;
  // Every layer is one primitive with its arguments except the source,
  // which is the previous layer's destination.
  struct Layer {
    dnnl::primitive primitive;
    int src_arg = DNNL_ARG_SRC, weights_arg = DNNL_ARG_WEIGHTS;
    dnnl::memory weights, weights_iter, bias, dst;
  };
  std::vector<Layer> layers;
  std::vector<float> head_weights;  // lstm, gru: fc1 on the top layer's last h
  float head_bias = 0.0f;

  void build_mlp(const models::StateDict& w);
  void build_lstm(const models::StateDict& w);
  void build_gru(const models::StateDict& w);
  void fill_input(const float* windows, std::size_t m);
};

void NnInferenceBf16::Impl::build_mlp(const models::StateDict& w) {
  const int steps = spec.window, features = spec.n_features, dynamic = spec.n_dynamic;
  in_width = steps * dynamic + features - dynamic;
  const dnnl::memory::dim b = batch;
  input_f32 = dnnl::memory({{b, in_width}, dt::f32, tag::ab}, du::engine(), nullptr);
  input_bf16 = dnnl::memory({{b, in_width}, dt::bf16, tag::ab}, du::engine());
  dnnl::memory::desc src = input_bf16.get_desc();
  dnnl::memory::dim k = in_width;
  const std::size_t n_layers = spec.hidden_dims.size() + 1;
  for (std::size_t l = 0; l < n_layers; ++l) {
    const bool last = l + 1 == n_layers;
    const std::string name = last ? "output_layer" : "layers." + std::to_string(l);
    const dnnl::memory::dim n = last ? 1 : spec.hidden_dims[l];
    dnnl::primitive_attr attr;
    if (!last) {
      dnnl::post_ops relu;
      relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(relu);
    }
    const dnnl::memory::desc dst({b, n}, last ? dt::f32 : dt::bf16, tag::ab);
    const dnnl::matmul::desc d(src, dnnl::memory::desc({k, n}, dt::bf16, tag::any),
                               dnnl::memory::desc({1, n}, dt::f32, tag::ab), dst);
    const dnnl::matmul::primitive_desc pd(d, attr, du::engine());
    Layer layer;
    layer.primitive = dnnl::matmul(pd);
    // PyTorch's (out, in) row-major weight is the (k, n) matrix in layout ba.
    layer.weights = converted(w.at(name + ".weight").values,
                              dnnl::memory::desc({k, n}, dt::f32, tag::ba), pd.weights_desc());
    layer.bias = float_memory(w.at(name + ".bias").values, {1, n}, tag::ab);
    layer.dst = dnnl::memory(pd.dst_desc(), du::engine());
    layers.push_back(std::move(layer));
    src = dst;
    k = n;
  }
}

void NnInferenceBf16::Impl::build_lstm(const models::StateDict& w) {
  const dnnl::memory::dim t = spec.window, b = batch, h = spec.hidden_dim;
  in_width = spec.window * spec.n_features;
  // The caller's (batch, T, F) windows are oneDNN's ntc layout of (T, N, C).
  input_f32 = dnnl::memory({{t, b, spec.n_features}, dt::f32, tag::ntc}, du::engine(), nullptr);
  input_bf16 = dnnl::memory({{t, b, spec.n_features}, dt::bf16, tag::tnc}, du::engine());
  dnnl::memory::desc src = input_bf16.get_desc();
  dnnl::memory::dim in = spec.n_features;
  for (int l = 0; l < spec.num_layers; ++l) {
    const std::string sfx = "_l" + std::to_string(l);
    const dnnl::memory::desc dst({t, b, h}, dt::bf16, tag::tnc);
    // Empty state descriptors: h0 = c0 = 0 and the final states are not kept.
    const dnnl::lstm_forward::desc d(dnnl::prop_kind::forward_inference,
                                     dnnl::rnn_direction::unidirectional_left2right, src,
                                     dnnl::memory::desc(), dnnl::memory::desc(),
                                     dnnl::memory::desc({1, 1, in, 4, h}, dt::bf16, tag::any),
                                     dnnl::memory::desc({1, 1, h, 4, h}, dt::bf16, tag::any),
                                     dnnl::memory::desc({1, 1, 4, h}, dt::f32, tag::ldgo), dst,
                                     dnnl::memory::desc(), dnnl::memory::desc());
    const dnnl::lstm_forward::primitive_desc pd(d, du::engine());
    Layer layer;
    layer.primitive = dnnl::lstm_forward(pd);
    layer.src_arg = DNNL_ARG_SRC_LAYER;
    layer.weights_arg = DNNL_ARG_WEIGHTS_LAYER;
    // PyTorch's (4H, in) weights are oneDNN's ldgoi layout; gate order i, f, g, o in both.
    layer.weights = converted(w.at("lstm.weight_ih" + sfx).values,
                              dnnl::memory::desc({1, 1, in, 4, h}, dt::f32, tag::ldgoi),
                              pd.weights_layer_desc());
    layer.weights_iter =
        converted(w.at("lstm.weight_hh" + sfx).values,
                  dnnl::memory::desc({1, 1, h, 4, h}, dt::f32, tag::ldgoi), pd.weights_iter_desc());
    std::vector<float> bias = w.at("lstm.bias_ih" + sfx).values;
    const auto& bias_hh = w.at("lstm.bias_hh" + sfx).values;
    for (std::size_t i = 0; i < bias.size(); ++i) bias[i] += bias_hh[i];
    layer.bias = float_memory(bias, {1, 1, 4, h}, tag::ldgo);
    layer.dst = dnnl::memory(pd.dst_layer_desc(), du::engine());
    layers.push_back(std::move(layer));
    src = dst;
    in = h;
  }
  head_weights = w.at("fc1.weight").values;
  head_bias = w.at("fc1.bias").values[0];
}

void NnInferenceBf16::Impl::build_gru(const models::StateDict& w) {
  const dnnl::memory::dim t = spec.window, b = batch, h = spec.hidden_dim;
  in_width = spec.window * spec.n_features;
  input_f32 = dnnl::memory({{t, b, spec.n_features}, dt::f32, tag::ntc}, du::engine(), nullptr);
  input_bf16 = dnnl::memory({{t, b, spec.n_features}, dt::bf16, tag::tnc}, du::engine());
  dnnl::memory::desc src = input_bf16.get_desc();
  dnnl::memory::dim in = spec.n_features;
  // PyTorch's gates r, z, n as oneDNN's u (= z), r, o (= n).
  const auto permuted = [](const std::vector<float>& v) {
    const std::size_t block = v.size() / 3;
    std::vector<float> out(v.size());
    for (int g = 0; g < 3; ++g)
      std::copy_n(v.begin() + std::ptrdiff_t((g == 2 ? 2 : 1 - g) * block), block,
                  out.begin() + std::ptrdiff_t(g * block));
    return out;
  };
  for (int l = 0; l < spec.num_layers; ++l) {
    const std::string sfx = "_l" + std::to_string(l);
    const dnnl::memory::desc dst({t, b, h}, dt::bf16, tag::tnc);
    const dnnl::lbr_gru_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::rnn_direction::unidirectional_left2right, src,
        dnnl::memory::desc(), dnnl::memory::desc({1, 1, in, 3, h}, dt::bf16, tag::any),
        dnnl::memory::desc({1, 1, h, 3, h}, dt::bf16, tag::any),
        dnnl::memory::desc({1, 1, 4, h}, dt::f32, tag::ldgo), dst, dnnl::memory::desc());
    const dnnl::lbr_gru_forward::primitive_desc pd(d, du::engine());
    Layer layer;
    layer.primitive = dnnl::lbr_gru_forward(pd);
    layer.src_arg = DNNL_ARG_SRC_LAYER;
    layer.weights_arg = DNNL_ARG_WEIGHTS_LAYER;
    layer.weights = converted(permuted(w.at("gru.weight_ih" + sfx).values),
                              dnnl::memory::desc({1, 1, in, 3, h}, dt::f32, tag::ldgoi),
                              pd.weights_layer_desc());
    layer.weights_iter =
        converted(permuted(w.at("gru.weight_hh" + sfx).values),
                  dnnl::memory::desc({1, 1, h, 3, h}, dt::f32, tag::ldgoi), pd.weights_iter_desc());
    // Biases u = b_iz + b_hz, r = b_ir + b_hr, o = b_in, u' = b_hn.
    const auto& bi = w.at("gru.bias_ih" + sfx).values;
    const auto& bh = w.at("gru.bias_hh" + sfx).values;
    const std::size_t hs = std::size_t(h);
    std::vector<float> bias(4 * hs);
    for (std::size_t k = 0; k < hs; ++k) {
      bias[k] = bi[hs + k] + bh[hs + k];
      bias[hs + k] = bi[k] + bh[k];
      bias[2 * hs + k] = bi[2 * hs + k];
      bias[3 * hs + k] = bh[2 * hs + k];
    }
    layer.bias = float_memory(bias, {1, 1, 4, h}, tag::ldgo);
    layer.dst = dnnl::memory(pd.dst_layer_desc(), du::engine());
    layers.push_back(std::move(layer));
    src = dst;
    in = h;
  }
  head_weights = w.at("fc1.weight").values;
  head_bias = w.at("fc1.bias").values[0];
}

// input = the first m windows, as the first layer reads them; zeros after.
void NnInferenceBf16::Impl::fill_input(const float* windows, std::size_t m) {
  const std::size_t width = std::size_t(in_width),
                    per_sample = std::size_t(spec.window) * spec.n_features;
  std::fill(input.begin() + std::ptrdiff_t(m * width), input.end(), 0.0f);
  if (spec.kind != NetworkKind::mlp) {
    std::copy(windows, windows + m * per_sample, input.begin());
    return;
  }
  const int steps = spec.window, features = spec.n_features, dynamic = spec.n_dynamic;
  for (std::size_t s = 0; s < m; ++s) {
    const float* x = windows + s * per_sample;
    float* v = input.data() + s * width;
    for (int t = 0; t < steps; ++t)
      for (int f = 0; f < dynamic; ++f) v[t * dynamic + f] = x[t * features + f];
    for (int f = dynamic; f < features; ++f) v[steps * dynamic + f - dynamic] = x[f];
  }
}

NnInferenceBf16::NnInferenceBf16(const models::NetworkSpec& spec, const models::StateDict& weights,
                                 int batch)
    : impl_(std::make_unique<Impl>()) {
  NnInference::validate(spec, weights);
  FR_REQUIRE(spec.kind != NetworkKind::attention_lstm,
             "the bf16 inference path supports mlp, lstm and gru, not attention_lstm");
  FR_REQUIRE(batch >= 1, "NnInferenceBf16: batch = ", batch, ", expected >= 1");
  impl_->spec = spec;
  impl_->batch = batch;
  du::guarded("bf16 inference setup", [&] {
    if (spec.kind == NetworkKind::mlp)
      impl_->build_mlp(weights);
    else if (spec.kind == NetworkKind::gru)
      impl_->build_gru(weights);
    else
      impl_->build_lstm(weights);
    impl_->input.assign(std::size_t(batch) * std::size_t(impl_->in_width), 0.0f);
    impl_->input_f32.set_data_handle(impl_->input.data());
    impl_->to_bf16 = dnnl::reorder(impl_->input_f32, impl_->input_bf16);
  });
}

NnInferenceBf16::~NnInferenceBf16() = default;

bool NnInferenceBf16::native_bf16() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

const models::NetworkSpec& NnInferenceBf16::spec() const { return impl_->spec; }

void NnInferenceBf16::predict(const float* windows, std::size_t n, float* out) {
  Impl& im = *impl_;
  const std::size_t batch = std::size_t(im.batch),
                    per_sample = std::size_t(im.spec.window) * im.spec.n_features;
  du::guarded("bf16 inference", [&] {
    for (std::size_t first = 0; first < n; first += batch) {
      const std::size_t m = std::min(batch, n - first);
      im.fill_input(windows + first * per_sample, m);
      im.to_bf16.execute(du::stream(), im.input_f32, im.input_bf16);
      dnnl::memory src = im.input_bf16;
      for (auto& layer : im.layers) {
        std::unordered_map<int, dnnl::memory> args{{layer.src_arg, src},
                                                   {layer.weights_arg, layer.weights},
                                                   {DNNL_ARG_BIAS, layer.bias},
                                                   {DNNL_ARG_DST, layer.dst}};
        if (im.spec.kind != NetworkKind::mlp) {
          args.erase(DNNL_ARG_DST);
          args.emplace(DNNL_ARG_DST_LAYER, layer.dst);
          args.emplace(DNNL_ARG_WEIGHTS_ITER, layer.weights_iter);
        }
        layer.primitive.execute(du::stream(), args);
        src = layer.dst;
      }
      du::stream().wait();
      if (im.spec.kind == NetworkKind::mlp) {
        const float* y = static_cast<const float*>(src.get_data_handle());
        std::copy(y, y + m, out + first);
        continue;
      }
      // fc1 on the top layer's h at the last step, (T, N, H) in bf16.
      const std::size_t h = std::size_t(im.spec.hidden_dim);
      const auto* last = static_cast<const std::uint16_t*>(src.get_data_handle()) +
                         std::size_t(im.spec.window - 1) * batch * h;
      for (std::size_t s = 0; s < m; ++s) {
        float y = im.head_bias;
        for (std::size_t k = 0; k < h; ++k)
          y += im.head_weights[k] * bf16_to_float(last[s * h + k]);
        out[first + s] = y;
      }
    }
  });
}

}  // namespace fluxrecon::models
