// ConvEncoder's training passes (forward with batch statistics and dropout,
// backward through every layer: oneDNN's convolution, batch normalisation,
// max-pooling and inner product backward primitives; ReLU, residual adds,
// dropout and the head's global pooling as loops in kernels/nn_conv.hpp).
#include <algorithm>

#include "core/error.hpp"
#include "kernels/nn_conv.hpp"
#include "models/conv_encoder.hpp"

namespace fluxrecon::models {
namespace kc = kernels::conv;

namespace {
void draw_mask(std::vector<float>& mask, std::size_t count, float p, bool active,
               std::mt19937_64& rng) {
  mask.assign(count, 1.0f);
  if (!active || p <= 0.0f) return;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& m : mask) m = u(rng) < p ? 0.0f : 1.0f / (1.0f - p);
}
}  // namespace

void ConvEncoder::forward_training(const float* x, int n, int height, int width, bool dropout,
                                   std::mt19937_64& rng, EncoderTape& t, float* y) {
  FR_REQUIRE(n > 1, "embedding model training needs batches of 2 or more (BatchNorm)");
  t.input = {n, spec_.input_channels, height, width};
  t.x = x;
  t.stem = stem_->output(t.input);
  t.stem_conv.resize(t.stem.count());
  t.stem_act.resize(t.stem.count());
  stem_->forward(x, t.input, t.stem_conv.data());
  stem_bn_->forward_training(params_, buffers_, t.stem_conv.data(), t.stem, t.stem_act.data(),
                             t.stem_stats);
  kc::relu_in_place(t.stem_act.data(), t.stem_act.size());
  t.pooled = pool_.output(t.stem);
  t.pool_out.resize(t.pooled.count());
  pool_.forward_training(t.stem_act.data(), t.stem, t.pool_out.data(), t.pool_workspace);
  t.blocks.resize(blocks_.size());
  const float* cur = t.pool_out.data();
  Dims4 shape = t.pooled;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    auto& b = blocks_[i];
    auto& bt = t.blocks[i];
    bt.in = shape;
    bt.x = cur;
    bt.out = b.conv1.output(shape);
    const std::size_t count = bt.out.count();
    for (auto* v : {&bt.z1, &bt.a1, &bt.z2, &bt.b2, &bt.act}) v->resize(count);
    b.conv1.forward(cur, shape, bt.z1.data());
    b.bn1.forward_training(params_, buffers_, bt.z1.data(), bt.out, bt.a1.data(), bt.s1);
    kc::relu_in_place(bt.a1.data(), count);
    b.conv2.forward(bt.a1.data(), bt.out, bt.z2.data());
    b.bn2.forward_training(params_, buffers_, bt.z2.data(), bt.out, bt.b2.data(), bt.s2);
    std::copy(bt.b2.begin(), bt.b2.end(), bt.act.begin());
    if (b.down) {
      bt.zd.resize(count);
      bt.bd.resize(count);
      b.down->forward(cur, shape, bt.zd.data());
      b.down_bn->forward_training(params_, buffers_, bt.zd.data(), bt.out, bt.bd.data(), bt.sd);
      kc::add_in_place(bt.act.data(), bt.bd.data(), count, true);
    } else {
      kc::add_in_place(bt.act.data(), cur, count, true);
    }
    cur = bt.act.data();
    shape = bt.out;
  }
  const int features = spec_.backbone_features();
  if (spec_.head == "orig_fastai") {
    const std::size_t f2 = std::size_t(n) * 2 * features, hid = std::size_t(n) * spec_.head_hidden;
    t.features.resize(f2);
    t.argmax.resize(std::size_t(n) * features);
    kc::concat_pool_argmax(cur, n, features, shape.plane(), t.features.data(), t.argmax.data());
    t.h1.resize(f2);
    head_bn1_->forward_training(params_, buffers_, t.features.data(), {n, 2 * features, 1, 1},
                                t.h1.data(), t.hs1);
    draw_mask(t.mask1, f2, 0.25f, dropout, rng);
    t.d1 = t.h1;
    kc::multiply_in_place(t.d1.data(), t.mask1.data(), f2);
    t.r.resize(hid);
    head_fc1_->forward(t.d1.data(), n, t.r.data());
    kc::relu_in_place(t.r.data(), hid);
    t.h2.resize(hid);
    head_bn2_->forward_training(params_, buffers_, t.r.data(), {n, spec_.head_hidden, 1, 1},
                                t.h2.data(), t.hs2);
    draw_mask(t.mask2, hid, 0.5f, dropout, rng);
    t.d2 = t.h2;
    kc::multiply_in_place(t.d2.data(), t.mask2.data(), hid);
    head_fc2_->forward(t.d2.data(), n, y);
  } else {
    t.features.resize(std::size_t(n) * features);
    kc::average_pool(cur, n, features, shape.plane(), t.features.data());
    head_fc1_->forward(t.features.data(), n, y);
  }
}

void ConvEncoder::backward(EncoderTape& t, const float* dy) {
  const int n = t.input.n;
  const int features = spec_.backbone_features();
  const Dims4 last = t.blocks.empty() ? t.pooled : t.blocks.back().out;
  std::vector<float> g(last.count());
  if (spec_.head == "orig_fastai") {
    const std::size_t f2 = std::size_t(n) * 2 * features, hid = std::size_t(n) * spec_.head_hidden;
    std::vector<float> d_hidden(hid), d_r(hid), d_feat(f2), d_f(f2);
    head_fc2_->backward(t.d2.data(), dy, n, d_hidden.data());
    kc::multiply_in_place(d_hidden.data(), t.mask2.data(), hid);
    head_bn2_->backward(params_, t.r.data(), {n, spec_.head_hidden, 1, 1}, t.hs2, d_hidden.data(),
                        d_r.data());
    kc::relu_backward(d_r.data(), t.r.data(), hid);
    head_fc1_->backward(t.d1.data(), d_r.data(), n, d_feat.data());
    kc::multiply_in_place(d_feat.data(), t.mask1.data(), f2);
    head_bn1_->backward(params_, t.features.data(), {n, 2 * features, 1, 1}, t.hs1, d_feat.data(),
                        d_f.data());
    kc::concat_pool_backward(d_f.data(), t.argmax.data(), n, features, last.plane(), g.data());
  } else {
    std::vector<float> d_f(std::size_t(n) * features);
    head_fc1_->backward(t.features.data(), dy, n, d_f.data());
    kc::average_pool_backward(d_f.data(), n, features, last.plane(), g.data());
  }
  std::vector<float> d_a, d_z, dx, d_down;
  for (std::size_t i = blocks_.size(); i-- > 0;) {
    auto& b = blocks_[i];
    auto& bt = t.blocks[i];
    const std::size_t count = bt.out.count();
    kc::relu_backward(g.data(), bt.act.data(), count);  // g: d(b2 + identity)
    d_z.resize(count);
    d_a.resize(count);
    b.bn2.backward(params_, bt.z2.data(), bt.out, bt.s2, g.data(), d_z.data());
    b.conv2.backward(bt.a1.data(), bt.out, d_z.data(), d_a.data());
    kc::relu_backward(d_a.data(), bt.a1.data(), count);
    b.bn1.backward(params_, bt.z1.data(), bt.out, bt.s1, d_a.data(), d_z.data());
    dx.resize(bt.in.count());
    b.conv1.backward(bt.x, bt.in, d_z.data(), dx.data());
    if (b.down) {
      b.down_bn->backward(params_, bt.zd.data(), bt.out, bt.sd, g.data(), d_z.data());
      d_down.resize(bt.in.count());
      b.down->backward(bt.x, bt.in, d_z.data(), d_down.data());
      kc::add_in_place(dx.data(), d_down.data(), dx.size(), false);
    } else {
      kc::add_in_place(dx.data(), g.data(), dx.size(), false);
    }
    g.swap(dx);
  }
  std::vector<float> d_stem(t.stem.count()), d_conv(t.stem.count());
  pool_.backward(t.stem, g.data(), t.pool_workspace, d_stem.data());
  kc::relu_backward(d_stem.data(), t.stem_act.data(), d_stem.size());
  stem_bn_->backward(params_, t.stem_conv.data(), t.stem, t.stem_stats, d_stem.data(),
                     d_conv.data());
  stem_->backward(t.x, t.input, d_conv.data(), nullptr);
}

}  // namespace fluxrecon::models
