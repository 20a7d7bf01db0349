#include "models/gru_layer.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "models/dnnl_util.hpp"

namespace fluxrecon::models {
namespace du = dnnl_util;
using dnnl::memory;

namespace {
constexpr auto kDirection = dnnl::rnn_direction::unidirectional_left2right;
// PyTorch's gate (r = 0, z = 1, n = 2) of oneDNN's gate g (u = z, r, o = n).
constexpr int kTorchGate[3] = {1, 0, 2};

memory::desc any_weights(int in, int hidden) {
  return memory::desc({1, 1, in, 3, hidden}, memory::data_type::f32, du::tag::any);
}
// A (3H, in) row-major matrix in oneDNN's gate order is its ldgoi layout.
memory::desc user_weights(int in, int hidden) {
  return du::desc({1, 1, in, 3, hidden}, du::tag::ldgoi);
}
memory::desc bias_desc(int hidden) { return du::desc({1, 1, 4, hidden}, du::tag::ldgo); }
memory::desc state_desc(int n, int hidden) { return du::desc({1, 1, n, hidden}, du::tag::ldnc); }
memory::desc sequence_desc(int steps, int n, int c) {
  return du::desc({steps, n, c}, du::tag::ntc);
}

// (3H, cols) blocks of gates: to[g] = from[kTorchGate[g]] (PyTorch -> oneDNN),
// or to[kTorchGate[g]] += from[g] (oneDNN -> PyTorch, accumulating).
void to_onednn_gates(const float* from, float* to, std::size_t block) {
  for (int g = 0; g < 3; ++g) std::copy_n(from + kTorchGate[g] * block, block, to + g * block);
}
void add_torch_gates(const float* from, float* to, std::size_t block) {
  for (int g = 0; g < 3; ++g) {
    float* dst = to + kTorchGate[g] * block;
    const float* src = from + g * block;
    for (std::size_t i = 0; i < block; ++i) dst[i] += src[i];
  }
}
}  // namespace

// Weights laid out for one primitive: a view of the gate-permuted copy where
// the primitive takes ldgoi itself, else its own buffer refreshed by reorder.
struct GruLaidOut {
  memory layer, iter;
  bool direct_layer = false, direct_iter = false;
  std::uint64_t version = 0;

  GruLaidOut() = default;
  GruLaidOut(const memory::desc& l, const memory::desc& it, std::vector<float>& user_ih,
             std::vector<float>& user_hh, int in, int hidden) {
    direct_layer = l == user_weights(in, hidden);
    direct_iter = it == user_weights(hidden, hidden);
    layer = direct_layer ? du::view(l, user_ih.data()) : du::owned(l);
    iter = direct_iter ? du::view(it, user_hh.data()) : du::owned(it);
  }
  void refresh(const std::vector<float>& user_ih, const std::vector<float>& user_hh, int in,
               int hidden, std::uint64_t now) {
    if (version == now) return;
    if (!direct_layer) du::reorder(du::view(user_weights(in, hidden), user_ih.data()), layer);
    if (!direct_iter) du::reorder(du::view(user_weights(hidden, hidden), user_hh.data()), iter);
    version = now;
  }
};

struct GruLayer::Forward {
  dnnl::lbr_gru_forward::primitive_desc pd;
  dnnl::lbr_gru_forward primitive;
  GruLaidOut weights;
};

struct GruLayer::Backward {
  dnnl::lbr_gru_backward::primitive_desc pd;
  dnnl::lbr_gru_backward primitive;
  GruLaidOut weights;
  memory diff_layer, diff_iter, diff_bias;  // oneDNN accumulates into these
  bool used = false;
};

GruLayer::GruLayer(ParameterSet& params, const std::string& prefix, const std::string& suffix,
                   int in, int hidden)
    : params_(&params), in_(in), hidden_(hidden) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(hidden));
  const auto h3 = std::size_t(3) * hidden;
  w_ih_ = params.add(prefix + "weight_ih" + suffix, {h3, std::size_t(in)}, bound);
  w_hh_ = params.add(prefix + "weight_hh" + suffix, {h3, std::size_t(hidden)}, bound);
  b_ih_ = params.add(prefix + "bias_ih" + suffix, {h3}, bound);
  b_hh_ = params.add(prefix + "bias_hh" + suffix, {h3}, bound);
  user_ih_.resize(h3 * in);
  user_hh_.resize(h3 * hidden);
  bias_.resize(std::size_t(4) * hidden);
}

GruLayer::~GruLayer() = default;
GruLayer::GruLayer(GruLayer&&) noexcept = default;

const float* GruLayer::zeros(std::size_t count) {
  if (zeros_.size() < count) zeros_.assign(count, 0.0f);
  return zeros_.data();
}

float* GruLayer::scratch(std::size_t slot, std::size_t count) {
  if (scratch_.size() <= slot) scratch_.resize(slot + 1);
  if (scratch_[slot].size() < count) scratch_[slot].resize(count);
  return scratch_[slot].data();
}

void GruLayer::refresh_user() {
  if (user_version_ == params_->version()) return;
  const std::size_t h = std::size_t(hidden_);
  to_onednn_gates(params_->value(w_ih_), user_ih_.data(), h * in_);
  to_onednn_gates(params_->value(w_hh_), user_hh_.data(), h * h);
  const float* bi = params_->value(b_ih_);
  const float* bh = params_->value(b_hh_);
  // u = b_iz + b_hz, r = b_ir + b_hr, o = b_in, u' = b_hn (scaled by r in oneDNN too).
  for (std::size_t k = 0; k < h; ++k) {
    bias_[k] = bi[h + k] + bh[h + k];
    bias_[h + k] = bi[k] + bh[k];
    bias_[2 * h + k] = bi[2 * h + k];
    bias_[3 * h + k] = bh[2 * h + k];
  }
  user_version_ = params_->version();
}

GruLayer::Forward& GruLayer::forward_primitive(int steps, int n, bool training) {
  auto& slot = forwards_[{steps, n, training}];
  if (slot) return *slot;
  du::guarded("GRU forward primitive", [&] {
    const auto prop =
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::lbr_gru_forward::desc d(prop, kDirection, sequence_desc(steps, n, in_),
                                  state_desc(n, hidden_), any_weights(in_, hidden_),
                                  any_weights(hidden_, hidden_), bias_desc(hidden_),
                                  sequence_desc(steps, n, hidden_), state_desc(n, hidden_));
    auto f = std::make_unique<Forward>();
    f->pd = dnnl::lbr_gru_forward::primitive_desc(d, du::engine());
    f->primitive = dnnl::lbr_gru_forward(f->pd);
    f->weights = GruLaidOut(f->pd.weights_layer_desc(), f->pd.weights_iter_desc(), user_ih_,
                            user_hh_, in_, hidden_);
    slot = std::move(f);
  });
  return *slot;
}

GruLayer::Backward& GruLayer::backward_primitive(int steps, int n) {
  auto& slot = backwards_[{steps, n}];
  if (slot) return *slot;
  auto& fwd = forward_primitive(steps, n, true);
  du::guarded("GRU backward primitive", [&] {
    const auto seq_in = sequence_desc(steps, n, in_);
    const auto seq_out = sequence_desc(steps, n, hidden_);
    const auto state = state_desc(n, hidden_);
    const auto bias = bias_desc(hidden_);
    dnnl::lbr_gru_backward::desc d(dnnl::prop_kind::backward, kDirection, seq_in, state,
                                   any_weights(in_, hidden_), any_weights(hidden_, hidden_), bias,
                                   seq_out, state, seq_in, state, any_weights(in_, hidden_),
                                   any_weights(hidden_, hidden_), bias, seq_out, state);
    auto b = std::make_unique<Backward>();
    b->pd = dnnl::lbr_gru_backward::primitive_desc(d, du::engine(), fwd.pd);
    b->primitive = dnnl::lbr_gru_backward(b->pd);
    b->weights = GruLaidOut(b->pd.weights_layer_desc(), b->pd.weights_iter_desc(), user_ih_,
                            user_hh_, in_, hidden_);
    b->diff_layer = du::owned(b->pd.diff_weights_layer_desc());
    b->diff_iter = du::owned(b->pd.diff_weights_iter_desc());
    b->diff_bias = du::owned(b->pd.diff_bias_desc());
    slot = std::move(b);
  });
  return *slot;
}

void GruLayer::forward(int steps, int n, const float* x, const float* h0, float* y, float* hT,
                       Tape* tape) {
  if (n == 0) return;
  const bool training = tape != nullptr;
  auto& f = forward_primitive(steps, n, training);
  refresh_user();
  f.weights.refresh(user_ih_, user_hh_, in_, hidden_, user_version_);
  const std::size_t state_count = std::size_t(n) * hidden_;
  const auto state = state_desc(n, hidden_);
  float* h_last = hT ? hT : scratch(0, state_count);
  if (training) {
    tape->steps = steps;
    tape->n = n;
    tape->x = x;
    tape->h0 = h0;
    tape->y = y;
    tape->h_last.resize(state_count);
    tape->workspace = du::owned(f.pd.workspace_desc());
    h_last = tape->h_last.data();
  }
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, du::view(sequence_desc(steps, n, in_), x)},
      {DNNL_ARG_SRC_ITER, du::view(state, h0 ? h0 : zeros(state_count))},
      {DNNL_ARG_WEIGHTS_LAYER, f.weights.layer},
      {DNNL_ARG_WEIGHTS_ITER, f.weights.iter},
      {DNNL_ARG_BIAS, du::view(bias_desc(hidden_), bias_.data())},
      {DNNL_ARG_DST_LAYER, du::view(sequence_desc(steps, n, hidden_), y)},
      {DNNL_ARG_DST_ITER, du::view(state, h_last)}};
  if (training) args[DNNL_ARG_WORKSPACE] = tape->workspace;
  f.primitive.execute(du::stream(), args);
  du::stream().wait();
  if (training && hT) std::copy(tape->h_last.begin(), tape->h_last.end(), hT);
}

void GruLayer::begin_backward() {
  for (auto& [key, b] : backwards_) b->used = false;
}

void GruLayer::backward(const Tape& tape, const float* dy, const float* dhT, float* dx,
                        float* dh0) {
  const int steps = tape.steps, n = tape.n;
  if (n == 0) return;
  auto& b = backward_primitive(steps, n);
  if (!b.used) {
    for (auto* m : {&b.diff_layer, &b.diff_iter, &b.diff_bias}) {
      auto* p = static_cast<float*>(m->get_data_handle());
      std::fill(p, p + m->get_desc().get_size() / sizeof(float), 0.0f);
    }
    b.used = true;
  }
  refresh_user();
  b.weights.refresh(user_ih_, user_hh_, in_, hidden_, user_version_);
  const std::size_t state_count = std::size_t(n) * hidden_;
  const std::size_t seq_out_count = state_count * steps;
  const float* zero = zeros(seq_out_count);
  const auto state = state_desc(n, hidden_);
  const auto seq_in = sequence_desc(steps, n, in_);
  const auto seq_out = sequence_desc(steps, n, hidden_);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, du::view(seq_in, tape.x)},
      {DNNL_ARG_SRC_ITER, du::view(state, tape.h0 ? tape.h0 : zero)},
      {DNNL_ARG_WEIGHTS_LAYER, b.weights.layer},
      {DNNL_ARG_WEIGHTS_ITER, b.weights.iter},
      {DNNL_ARG_BIAS, du::view(bias_desc(hidden_), bias_.data())},
      {DNNL_ARG_DST_LAYER, du::view(seq_out, tape.y)},
      {DNNL_ARG_DST_ITER, du::view(state, tape.h_last.data())},
      {DNNL_ARG_WORKSPACE, tape.workspace},
      {DNNL_ARG_DIFF_DST_LAYER, du::view(seq_out, dy ? dy : zero)},
      {DNNL_ARG_DIFF_DST_ITER, du::view(state, dhT ? dhT : zero)},
      {DNNL_ARG_DIFF_SRC_LAYER,
       du::view(seq_in, dx ? dx : scratch(1, std::size_t(n) * in_ * steps))},
      {DNNL_ARG_DIFF_SRC_ITER, du::view(state, dh0 ? dh0 : scratch(2, state_count))},
      {DNNL_ARG_DIFF_WEIGHTS_LAYER, b.diff_layer},
      {DNNL_ARG_DIFF_WEIGHTS_ITER, b.diff_iter},
      {DNNL_ARG_DIFF_BIAS, b.diff_bias}};
  b.primitive.execute(du::stream(), args);
  du::stream().wait();
}

void GruLayer::end_backward() {
  const std::size_t h = std::size_t(hidden_);
  float* g_bi = params_->grad(b_ih_);
  float* g_bh = params_->grad(b_hh_);
  for (auto& [key, b] : backwards_) {
    if (!b->used) continue;
    // To ldgoi in oneDNN's gate order, then added to PyTorch's gates.
    float* layer = scratch(3, user_ih_.size());
    float* iter = scratch(4, user_hh_.size());
    du::reorder(b->diff_layer, du::view(user_weights(in_, hidden_), layer));
    du::reorder(b->diff_iter, du::view(user_weights(hidden_, hidden_), iter));
    add_torch_gates(layer, params_->grad(w_ih_), h * in_);
    add_torch_gates(iter, params_->grad(w_hh_), h * h);
    // Biases summed in the forward get the full gradient each; b_in and b_hn
    // are oneDNN's o and u' alone.
    const auto* db = static_cast<const float*>(b->diff_bias.get_data_handle());
    for (std::size_t k = 0; k < h; ++k) {
      g_bi[h + k] += db[k];
      g_bh[h + k] += db[k];
      g_bi[k] += db[h + k];
      g_bh[k] += db[h + k];
      g_bi[2 * h + k] += db[2 * h + k];
      g_bh[2 * h + k] += db[3 * h + k];
    }
    b->used = false;
  }
}

}  // namespace fluxrecon::models
