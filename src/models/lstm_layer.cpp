#include "models/lstm_layer.hpp"

#include <algorithm>
#include <cmath>

#include "models/dnnl_util.hpp"

namespace fluxrecon::models {
namespace du = dnnl_util;
using dnnl::memory;

namespace {
constexpr auto kDirection = dnnl::rnn_direction::unidirectional_left2right;
memory::desc any_weights(int in, int hidden) {
  return memory::desc({1, 1, in, 4, hidden}, memory::data_type::f32, du::tag::any);
}
memory::desc state_desc(int n, int hidden) { return du::desc({1, 1, n, hidden}, du::tag::ldnc); }
memory::desc sequence_desc(int steps, int n, int c) {
  return du::desc({steps, n, c}, du::tag::ntc);
}
// PyTorch's (4H, in) weight is oneDNN's ldgoi layout with l = d = 1.
memory::desc user_weights(int in, int hidden) {
  return du::desc({1, 1, in, 4, hidden}, du::tag::ldgoi);
}
}  // namespace

// Weights laid out for one primitive, refreshed from the parameters on change.
// Where the primitive takes PyTorch's layout itself (the backward primitive's
// ldgoi) it reads the parameters directly: no copy per step.
struct LaidOutWeights {
  memory layer, iter;
  dnnl::reorder from_user_layer, from_user_iter;
  bool direct_layer = false, direct_iter = false;
  std::uint64_t version = 0;
};

struct LstmLayer::Forward {
  dnnl::lstm_forward::primitive_desc pd;
  dnnl::lstm_forward primitive;
  LaidOutWeights weights;
};

struct LstmLayer::Backward {
  dnnl::lstm_backward::primitive_desc pd;
  dnnl::lstm_backward primitive;
  LaidOutWeights weights;
  memory diff_layer, diff_iter, diff_bias;  // oneDNN accumulates into these
  dnnl::reorder to_user_layer, to_user_iter;
  bool used = false;
};

LstmLayer::LstmLayer(ParameterSet& params, const std::string& prefix, const std::string& suffix,
                     int in, int hidden)
    : params_(&params), in_(in), hidden_(hidden) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(hidden));
  const auto h4 = std::size_t(4) * hidden;
  w_ih_ = params.add(prefix + "weight_ih" + suffix, {h4, std::size_t(in)}, bound);
  w_hh_ = params.add(prefix + "weight_hh" + suffix, {h4, std::size_t(hidden)}, bound);
  b_ih_ = params.add(prefix + "bias_ih" + suffix, {h4}, bound);
  b_hh_ = params.add(prefix + "bias_hh" + suffix, {h4}, bound);
  bias_.resize(h4);
}

LstmLayer::~LstmLayer() = default;
LstmLayer::LstmLayer(LstmLayer&&) noexcept = default;

const float* LstmLayer::zeros(std::size_t count) {
  if (zeros_.size() < count) zeros_.assign(count, 0.0f);
  return zeros_.data();
}

float* LstmLayer::scratch(std::size_t slot, std::size_t count) {
  if (scratch_.size() <= slot) scratch_.resize(slot + 1);
  if (scratch_[slot].size() < count) scratch_[slot].resize(count);
  return scratch_[slot].data();
}

void LstmLayer::refresh_bias() {
  if (bias_version_ == params_->version()) return;
  const float* a = params_->value(b_ih_);
  const float* b = params_->value(b_hh_);
  for (std::size_t i = 0; i < bias_.size(); ++i) bias_[i] = a[i] + b[i];
  bias_version_ = params_->version();
}

namespace {
LaidOutWeights lay_out(const memory::desc& layer, const memory::desc& iter, int in, int hidden) {
  LaidOutWeights w;
  w.direct_layer = layer == user_weights(in, hidden);
  w.direct_iter = iter == user_weights(hidden, hidden);
  w.layer = w.direct_layer ? du::view(layer, nullptr) : du::owned(layer);
  w.iter = w.direct_iter ? du::view(iter, nullptr) : du::owned(iter);
  if (!w.direct_layer)
    w.from_user_layer = dnnl::reorder(du::view(user_weights(in, hidden), nullptr), w.layer);
  if (!w.direct_iter)
    w.from_user_iter = dnnl::reorder(du::view(user_weights(hidden, hidden), nullptr), w.iter);
  return w;
}

void refresh(LaidOutWeights& w, ParameterSet& params, std::size_t w_ih, std::size_t w_hh, int in,
             int hidden) {
  if (w.direct_layer) w.layer.set_data_handle(params.value(w_ih));
  if (w.direct_iter) w.iter.set_data_handle(params.value(w_hh));
  if (w.version == params.version()) return;
  if (!w.direct_layer) {
    auto user = du::view(user_weights(in, hidden), params.value(w_ih));
    w.from_user_layer.execute(du::stream(), user, w.layer);
  }
  if (!w.direct_iter) {
    auto user = du::view(user_weights(hidden, hidden), params.value(w_hh));
    w.from_user_iter.execute(du::stream(), user, w.iter);
  }
  w.version = params.version();
}

// A reorder that adds into its destination (dst += reordered src).
dnnl::reorder accumulating_reorder(const memory& from, const memory& to) {
  dnnl::post_ops sum;
  sum.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(sum);
  return dnnl::reorder(dnnl::reorder::primitive_desc(from, to, attr));
}
}  // namespace

LstmLayer::Forward& LstmLayer::forward_primitive(int steps, int n, bool training) {
  auto& slot = forwards_[{steps, n, training}];
  if (slot) return *slot;
  du::guarded("LSTM forward primitive", [&] {
    const auto prop =
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::lstm_forward::desc d(
        prop, kDirection, sequence_desc(steps, n, in_), state_desc(n, hidden_),
        state_desc(n, hidden_), any_weights(in_, hidden_), any_weights(hidden_, hidden_),
        du::desc({1, 1, 4, hidden_}, du::tag::ldgo), sequence_desc(steps, n, hidden_),
        state_desc(n, hidden_), state_desc(n, hidden_));
    auto f = std::make_unique<Forward>();
    f->pd = dnnl::lstm_forward::primitive_desc(d, du::engine());
    f->primitive = dnnl::lstm_forward(f->pd);
    f->weights = lay_out(f->pd.weights_layer_desc(), f->pd.weights_iter_desc(), in_, hidden_);
    slot = std::move(f);
  });
  return *slot;
}

LstmLayer::Backward& LstmLayer::backward_primitive(int steps, int n) {
  auto& slot = backwards_[{steps, n}];
  if (slot) return *slot;
  auto& fwd = forward_primitive(steps, n, true);
  du::guarded("LSTM backward primitive", [&] {
    const auto seq_in = sequence_desc(steps, n, in_);
    const auto seq_out = sequence_desc(steps, n, hidden_);
    const auto state = state_desc(n, hidden_);
    const auto bias = du::desc({1, 1, 4, hidden_}, du::tag::ldgo);
    dnnl::lstm_backward::desc d(
        dnnl::prop_kind::backward, kDirection, seq_in, state, state, any_weights(in_, hidden_),
        any_weights(hidden_, hidden_), bias, seq_out, state, state, seq_in, state, state,
        any_weights(in_, hidden_), any_weights(hidden_, hidden_), bias, seq_out, state, state);
    auto b = std::make_unique<Backward>();
    b->pd = dnnl::lstm_backward::primitive_desc(d, du::engine(), fwd.pd);
    b->primitive = dnnl::lstm_backward(b->pd);
    b->weights = lay_out(b->pd.weights_layer_desc(), b->pd.weights_iter_desc(), in_, hidden_);
    b->diff_layer = du::owned(b->pd.diff_weights_layer_desc());
    b->diff_iter = du::owned(b->pd.diff_weights_iter_desc());
    b->diff_bias = du::owned(b->pd.diff_bias_desc());
    b->to_user_layer =
        accumulating_reorder(b->diff_layer, du::view(user_weights(in_, hidden_), nullptr));
    b->to_user_iter =
        accumulating_reorder(b->diff_iter, du::view(user_weights(hidden_, hidden_), nullptr));
    slot = std::move(b);
  });
  return *slot;
}

void LstmLayer::forward(int steps, int n, const float* x, const float* h0, const float* c0,
                        float* y, float* hT, float* cT, Tape* tape) {
  if (n == 0) return;
  const bool training = tape != nullptr;
  auto& f = forward_primitive(steps, n, training);
  refresh_bias();
  refresh(f.weights, *params_, w_ih_, w_hh_, in_, hidden_);
  const std::size_t state_count = std::size_t(n) * hidden_;
  const float* zero = zeros(state_count);
  const auto state = state_desc(n, hidden_);
  float* h_last = hT ? hT : scratch(0, state_count);
  float* c_last = cT ? cT : scratch(1, state_count);
  if (training) {
    tape->steps = steps;
    tape->n = n;
    tape->x = x;
    tape->h0 = h0;
    tape->c0 = c0;
    tape->y = y;
    tape->h_last.resize(state_count);
    tape->c_last.resize(state_count);
    tape->workspace = du::owned(f.pd.workspace_desc());
    h_last = tape->h_last.data();
    c_last = tape->c_last.data();
  }
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, du::view(sequence_desc(steps, n, in_), x)},
      {DNNL_ARG_SRC_ITER, du::view(state, h0 ? h0 : zero)},
      {DNNL_ARG_SRC_ITER_C, du::view(state, c0 ? c0 : zero)},
      {DNNL_ARG_WEIGHTS_LAYER, f.weights.layer},
      {DNNL_ARG_WEIGHTS_ITER, f.weights.iter},
      {DNNL_ARG_BIAS, du::view(du::desc({1, 1, 4, hidden_}, du::tag::ldgo), bias_.data())},
      {DNNL_ARG_DST_LAYER, du::view(sequence_desc(steps, n, hidden_), y)},
      {DNNL_ARG_DST_ITER, du::view(state, h_last)},
      {DNNL_ARG_DST_ITER_C, du::view(state, c_last)}};
  if (training) args[DNNL_ARG_WORKSPACE] = tape->workspace;
  f.primitive.execute(du::stream(), args);
  du::stream().wait();
  if (training) {
    if (hT) std::copy(tape->h_last.begin(), tape->h_last.end(), hT);
    if (cT) std::copy(tape->c_last.begin(), tape->c_last.end(), cT);
  }
}

void LstmLayer::begin_backward() {
  for (auto& [key, b] : backwards_) b->used = false;
}

void LstmLayer::backward(const Tape& tape, const float* dy, const float* dhT, const float* dcT,
                         float* dx, float* dh0, float* dc0) {
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
  refresh_bias();
  refresh(b.weights, *params_, w_ih_, w_hh_, in_, hidden_);
  const std::size_t state_count = std::size_t(n) * hidden_;
  const std::size_t seq_out_count = state_count * steps;
  const float* zero = zeros(std::max(seq_out_count, std::size_t(n) * in_ * steps));
  const auto state = state_desc(n, hidden_);
  const auto seq_in = sequence_desc(steps, n, in_);
  const auto seq_out = sequence_desc(steps, n, hidden_);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, du::view(seq_in, tape.x)},
      {DNNL_ARG_SRC_ITER, du::view(state, tape.h0 ? tape.h0 : zero)},
      {DNNL_ARG_SRC_ITER_C, du::view(state, tape.c0 ? tape.c0 : zero)},
      {DNNL_ARG_WEIGHTS_LAYER, b.weights.layer},
      {DNNL_ARG_WEIGHTS_ITER, b.weights.iter},
      {DNNL_ARG_BIAS, du::view(du::desc({1, 1, 4, hidden_}, du::tag::ldgo), bias_.data())},
      {DNNL_ARG_DST_LAYER, du::view(seq_out, tape.y)},
      {DNNL_ARG_DST_ITER, du::view(state, tape.h_last.data())},
      {DNNL_ARG_DST_ITER_C, du::view(state, tape.c_last.data())},
      {DNNL_ARG_WORKSPACE, tape.workspace},
      {DNNL_ARG_DIFF_DST_LAYER, du::view(seq_out, dy ? dy : zero)},
      {DNNL_ARG_DIFF_DST_ITER, du::view(state, dhT ? dhT : zero)},
      {DNNL_ARG_DIFF_DST_ITER_C, du::view(state, dcT ? dcT : zero)},
      {DNNL_ARG_DIFF_SRC_LAYER,
       du::view(seq_in, dx ? dx : scratch(2, std::size_t(n) * in_ * steps))},
      {DNNL_ARG_DIFF_SRC_ITER, du::view(state, dh0 ? dh0 : scratch(3, state_count))},
      {DNNL_ARG_DIFF_SRC_ITER_C, du::view(state, dc0 ? dc0 : scratch(4, state_count))},
      {DNNL_ARG_DIFF_WEIGHTS_LAYER, b.diff_layer},
      {DNNL_ARG_DIFF_WEIGHTS_ITER, b.diff_iter},
      {DNNL_ARG_DIFF_BIAS, b.diff_bias}};
  b.primitive.execute(du::stream(), args);
  du::stream().wait();
}

void LstmLayer::end_backward() {
  float* g_ih = params_->grad(w_ih_);
  float* g_hh = params_->grad(w_hh_);
  float* g_bi = params_->grad(b_ih_);
  float* g_bh = params_->grad(b_hh_);
  for (auto& [key, b] : backwards_) {
    if (!b->used) continue;
    // Straight into the parameters' gradients, added (PyTorch's layout).
    auto user_layer = du::view(user_weights(in_, hidden_), g_ih);
    auto user_iter = du::view(user_weights(hidden_, hidden_), g_hh);
    b->to_user_layer.execute(du::stream(), b->diff_layer, user_layer);
    b->to_user_iter.execute(du::stream(), b->diff_iter, user_iter);
    du::stream().wait();
    // One bias in oneDNN, two in PyTorch: each receives the full gradient.
    const auto* db = static_cast<const float*>(b->diff_bias.get_data_handle());
    for (std::size_t i = 0; i < bias_.size(); ++i) {
      g_bi[i] += db[i];
      g_bh[i] += db[i];
    }
    b->used = false;
  }
}

}  // namespace fluxrecon::models
