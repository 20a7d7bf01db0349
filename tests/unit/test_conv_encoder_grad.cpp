// The embedding encoder's backward pass (models/conv_encoder_train.cpp)
// against central finite differences of its training forward pass on a tiny
// network, and the triplet loss's gradient against finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/nn_conv.hpp"
#include "models/conv_encoder.hpp"

namespace {

using fluxrecon::models::ConvEncoder;
using fluxrecon::models::EncoderSpec;
using fluxrecon::models::EncoderTape;

// sum(y * r) of a training forward pass (batch statistics, no dropout).
double weighted_output(ConvEncoder& enc, const std::vector<float>& x, int n, int h, int w,
                       const std::vector<float>& r) {
  std::mt19937_64 rng(1);
  EncoderTape tape;
  std::vector<float> y(r.size());
  enc.forward_training(x.data(), n, h, w, false, rng, tape, y.data());
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) s += double(y[i]) * r[i];
  return s;
}

void check_gradients(const EncoderSpec& spec) {
  const int n = 3, h = 22, w = 18;
  ConvEncoder enc(spec);
  enc.initialise(4);
  std::mt19937 gen(8);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // Non-trivial BatchNorm affine parameters.
  auto& params = enc.parameters();
  for (std::size_t id = 0; id < params.count(); ++id)
    if (params.name(id).find("bn") != std::string::npos ||
        params.name(id).find("downsample.1") != std::string::npos ||
        params.name(id) == "backbone.1.weight" || params.name(id) == "backbone.1.bias")
      for (std::size_t i = 0; i < params.size(id); ++i) params.value(id)[i] += 0.3f * normal(gen);
  std::vector<float> x(std::size_t(n) * 3 * h * w), r(std::size_t(n) * spec.embedding_dims);
  for (float& v : x) v = normal(gen);
  for (float& v : r) v = normal(gen);

  params.zero_grads();
  std::mt19937_64 rng(1);
  EncoderTape tape;
  std::vector<float> y(r.size());
  enc.forward_training(x.data(), n, h, w, false, rng, tape, y.data());
  enc.backward(tape, r.data());
  const std::vector<float> grads(params.grads().begin(),
                                 params.grads().begin() + std::ptrdiff_t(params.values().size()));

  int checked = 0, bad = 0;
  double grad_scale = 0;
  for (std::size_t id = 0; id < params.count(); ++id) {
    float* v = params.value(id);
    const std::size_t offset = std::size_t(v - params.values().data());
    std::uniform_int_distribution<std::size_t> pick(0, params.size(id) - 1);
    for (int k = 0; k < 3; ++k) {
      const std::size_t i = pick(gen);
      const float keep = v[i], eps = 1e-3f;
      v[i] = keep + eps;
      params.touch();
      const double up = weighted_output(enc, x, n, h, w, r);
      v[i] = keep - eps;
      params.touch();
      const double down = weighted_output(enc, x, n, h, w, r);
      v[i] = keep;
      params.touch();
      const double fd = (up - down) / (2.0 * eps), g = grads[offset + i];
      grad_scale = std::max(grad_scale, std::abs(fd));
      ++checked;
      if (std::abs(fd - g) > 2e-2 + 5e-2 * std::abs(fd)) {
        ++bad;
        ADD_FAILURE() << params.name(id) << "[" << i << "]: backward " << g << ", finite "
                      << "difference " << fd;
      }
    }
  }
  EXPECT_GT(grad_scale, 0.1) << "gradients too small to tell anything apart";
  EXPECT_EQ(bad, 0) << "of " << checked;
}

TEST(ConvEncoderGradient, OrigFastaiHeadMatchesFiniteDifferences) {
  EncoderSpec spec;
  spec.base_width = 2;
  spec.blocks = {1, 1};
  spec.head_hidden = 6;
  spec.embedding_dims = 3;
  check_gradients(spec);
}

TEST(ConvEncoderGradient, LinearHeadMatchesFiniteDifferences) {
  EncoderSpec spec;
  spec.base_width = 3;
  spec.blocks = {2, 1};
  spec.head = "linear";
  spec.embedding_dims = 4;
  check_gradients(spec);
}

TEST(TripletLoss, GradientMatchesFiniteDifferencesAndHingeIsFlat) {
  const int n = 4, dims = 5;
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> e(3 * n * dims);
  for (float& v : e) v = normal(gen);
  float *a = e.data(), *p = a + n * dims, *d = p + n * dims;
  std::vector<float> g(3 * n * dims), scratch(3 * n * dims);
  const double margin = 1.0;
  const double loss = fluxrecon::kernels::conv::triplet_loss(
      a, p, d, n, dims, margin, g.data(), g.data() + n * dims, g.data() + 2 * n * dims);
  EXPECT_GT(loss, 0.0);
  for (std::size_t i = 0; i < e.size(); ++i) {
    const float keep = e[i];
    const float eps = 1e-3f;
    e[i] = keep + eps;
    const double up = fluxrecon::kernels::conv::triplet_loss(
        a, p, d, n, dims, margin, scratch.data(), scratch.data() + n * dims,
        scratch.data() + 2 * n * dims);
    e[i] = keep - eps;
    const double down = fluxrecon::kernels::conv::triplet_loss(
        a, p, d, n, dims, margin, scratch.data(), scratch.data() + n * dims,
        scratch.data() + 2 * n * dims);
    e[i] = keep;
    EXPECT_NEAR(g[i], (up - down) / (2 * eps), 2e-3) << i;
  }
  // Distant tiles far away: every hinge is closed, the loss and gradient 0.
  for (int i = 0; i < n * dims; ++i) d[i] = a[i] + 100.0f;
  EXPECT_EQ(fluxrecon::kernels::conv::triplet_loss(a, p, d, n, dims, margin, g.data(),
                                                   g.data() + n * dims, g.data() + 2 * n * dims),
            0.0);
  for (float v : g) EXPECT_EQ(v, 0.0f);
}

}  // namespace
